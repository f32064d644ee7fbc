// SPDX-License-Identifier: GPL-2.0
/*
 * exerciser: a random sequence of file operations on a few files, each done
 * on the file under test and on a model of it (a file on tmpfs), with every
 * read compared against the model.
 *
 * usage: exerciser DIR MODEL_DIR SEED OPS [MAX_SIZE]
 *
 * DIR/f0..f2 are the files under test, MODEL_DIR/f0..f2 their models; both
 * are created if missing and are expected to be equal on entry (the caller
 * compares them between runs, around remounts). The operations, chosen by a
 * PRNG seeded with SEED:
 *
 *   write	pwrite() of 1 byte to 256 KiB, anywhere below MAX_SIZE
 *   read	pread() of a random range, compared with the model
 *   mwrite	a store through a shared mapping of the file
 *   dwrite	an O_DIRECT pwrite(), 512-byte aligned
 *   dread	an O_DIRECT pread(), compared with the model
 *   truncate	ftruncate() to a random size
 *   punch	FALLOC_FL_PUNCH_HOLE
 *   zero	FALLOC_FL_ZERO_RANGE, with or without KEEP_SIZE (modelled with
 *		zeroes written, tmpfs has no zero range)
 *   falloc	preallocation, with or without KEEP_SIZE
 *   fsync	fsync() or fdatasync()
 *
 * Every 500 operations, and at the end, each file is compared whole.
 * Exit 0 if everything matched, 3 on a mismatch (the last operations are
 * printed), 1 on errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progs.h"

#define NFILES 3
#define MAX_IO (256 << 10)
#define HISTORY 16

static uint64_t rng;
static long long max_size = 8 << 20;
static char history[HISTORY][128];
static long long nops;

static uint64_t next(void)
{
	return xorshift64star(&rng);
}

static long long below(long long n)
{
	return n > 0 ? (long long)(next() % (uint64_t)n) : 0;
}

/* An I/O length: mostly small, sometimes large. */
static long long io_len(void)
{
	switch (below(4)) {
	case 0:
		return 1 + below(64);
	case 1:
		return 1 + below(8192);
	case 2:
		return 1 + below(65536);
	default:
		return 1 + below(MAX_IO);
	}
}

static void note(const char *fmt, long long a, long long b, int file)
{
	char *h = history[nops % HISTORY];
	int n = snprintf(h, sizeof(history[0]), "op %lld f%d: ", nops, file);

	snprintf(h + n, sizeof(history[0]) - n, fmt, a, b);
}

static void mismatch(const char *what, int file, long long off)
{
	long long i;

	printf("MISMATCH: %s of f%d at byte %lld after op %lld; last operations:\n",
	       what, file, off, nops);
	for (i = nops - HISTORY + 1; i <= nops; i++)
		if (i >= 0)
			printf("  %s\n", history[i % HISTORY]);
	exit(3);
}

static long long fsize(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		die("fstat");
	return st.st_size;
}

static void full_pwrite(int fd, const char *buf, long long len, long long off, const char *what)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n <= 0)
			die(what);
		buf += n;
		len -= n;
		off += n;
	}
}

/* Reads [off, off + len) of both and compares. */
static void compare_range(int fd, int mfd, int file, long long off, long long len,
			  char *a, char *b, const char *what)
{
	ssize_t na = pread(fd, a, len, off), nb = pread(mfd, b, len, off);
	long long i;

	if (na < 0 || nb < 0)
		die("pread");
	if (na != nb)
		mismatch(what, file, off + (na < nb ? na : nb));
	for (i = 0; i < na; i++)
		if (a[i] != b[i])
			mismatch(what, file, off + i);
}

static void compare_whole(int fd, int mfd, int file, char *a, char *b)
{
	long long size = fsize(mfd), off;

	if (fsize(fd) != size) {
		printf("MISMATCH: f%d has %lld bytes, its model %lld\n", file, fsize(fd), size);
		mismatch("size", file, size);
	}
	for (off = 0; off < size; off += MAX_IO)
		compare_range(fd, mfd, file, off, MAX_IO, a, b, "whole-file compare");
}

static void fill(char *buf, long long len)
{
	long long i;
	uint64_t v = next();

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = next();
		buf[i] = (char)(v >> (8 * (i % 8)));
	}
}

int main(int argc, char **argv)
{
	int fd[NFILES], mfd[NFILES], dfd[NFILES], i;
	long long ops, counts[10] = { 0 };
	static const char *names[10] = { "write", "read", "mwrite", "dwrite", "dread",
					 "truncate", "punch", "zero", "falloc", "fsync" };
	char *a, *b, *d;
	char path[4096];

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: %s DIR MODEL_DIR SEED OPS [MAX_SIZE]\n", argv[0]);
		return 1;
	}
	rng = strtoull(argv[3], NULL, 0) * 2654435761ULL + 1;
	ops = atoll(argv[4]);
	if (argc == 6)
		max_size = atoll(argv[5]);
	a = malloc(MAX_IO);
	b = malloc(MAX_IO);
	if (!a || !b || posix_memalign((void **)&d, 4096, MAX_IO))
		die("malloc");
	for (i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", argv[1], i);
		fd[i] = open(path, O_RDWR | O_CREAT, 0644);
		dfd[i] = open(path, O_RDWR | O_DIRECT);
		snprintf(path, sizeof(path), "%s/f%d", argv[2], i);
		mfd[i] = open(path, O_RDWR | O_CREAT, 0644);
		if (fd[i] < 0 || dfd[i] < 0 || mfd[i] < 0)
			die(path);
	}

	for (nops = 0; nops < ops; nops++) {
		int f = below(NFILES), op = below(100);
		long long size = fsize(mfd[f]), off, len, end;

		/* Weights: writes and reads most, then the rest. */
		op = op < 25 ? 0 : op < 40 ? 1 : op < 52 ? 2 : op < 59 ? 3 : op < 65 ? 4 :
		     op < 72 ? 5 : op < 80 ? 6 : op < 87 ? 7 : op < 94 ? 8 : 9;
		counts[op]++;
		switch (op) {
		case 0:
			len = io_len();
			off = below(max_size - len);
			note("write %lld +%lld", off, len, f);
			fill(a, len);
			full_pwrite(fd[f], a, len, off, "pwrite");
			full_pwrite(mfd[f], a, len, off, "pwrite model");
			break;
		case 1:
			len = io_len();
			off = below(size + 4096);
			note("read %lld +%lld", off, len, f);
			compare_range(fd[f], mfd[f], f, off, len, a, b, "read");
			break;
		case 2: {
			char *map;

			if (size == 0)
				break;
			off = below(size);
			len = 1 + below(size - off < 16384 ? size - off : 16384);
			note("mwrite %lld +%lld", off, len, f);
			map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd[f], 0);
			if (map == MAP_FAILED)
				die("mmap");
			fill(a, len);
			memcpy(map + off, a, len);
			if (below(4) == 0 && msync(map, size, MS_SYNC))
				die("msync");
			munmap(map, size);
			full_pwrite(mfd[f], a, len, off, "pwrite model");
			break;
		}
		case 3:
			len = (1 + below(MAX_IO / 512)) * 512;
			off = below((max_size - len) / 512) * 512;
			note("dwrite %lld +%lld", off, len, f);
			fill(d, len);
			if (pwrite(dfd[f], d, len, off) != len)
				die("O_DIRECT pwrite");
			full_pwrite(mfd[f], d, len, off, "pwrite model");
			break;
		case 4: {
			ssize_t n;

			len = (1 + below(MAX_IO / 512)) * 512;
			off = below((size + 4096) / 512) * 512;
			note("dread %lld +%lld", off, len, f);
			n = pread(dfd[f], d, len, off);
			if (n < 0)
				die("O_DIRECT pread");
			if (pread(mfd[f], b, len, off) != n)
				mismatch("O_DIRECT read length", f, off);
			for (i = 0; i < n; i++)
				if (d[i] != b[i])
					mismatch("O_DIRECT read", f, off + i);
			break;
		}
		case 5:
			/* Mostly near the current size, to cut and extend. */
			len = below(3) ? size + below(65536) - 32768 : below(max_size);
			len = len < 0 ? 0 : len > max_size ? max_size : len;
			note("truncate %lld%.0lld", len, 0, f);
			if (ftruncate(fd[f], len) || ftruncate(mfd[f], len))
				die("ftruncate");
			break;
		case 6:
			len = io_len();
			off = below(size + 8192);
			note("punch %lld +%lld", off, len, f);
			if (fallocate(fd[f], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      off, len) ||
			    fallocate(mfd[f], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      off, len))
				die("punch");
			break;
		case 7: {
			int keep = below(2);

			len = io_len();
			off = below(max_size - len);
			note(keep ? "zero -k %lld +%lld" : "zero %lld +%lld", off, len, f);
			if (fallocate(fd[f],
				      FALLOC_FL_ZERO_RANGE | (keep ? FALLOC_FL_KEEP_SIZE : 0),
				      off, len))
				die("zero range");
			end = off + len;
			if (keep && end > size)
				end = size;
			if (end > off) {
				memset(b, 0, end - off);
				full_pwrite(mfd[f], b, end - off, off, "pwrite model");
			}
			break;
		}
		case 8: {
			int keep = below(2);

			len = io_len();
			off = below(max_size - len);
			note(keep ? "falloc -k %lld +%lld" : "falloc %lld +%lld", off, len, f);
			if (fallocate(fd[f], keep ? FALLOC_FL_KEEP_SIZE : 0, off, len))
				die("fallocate");
			if (!keep && off + len > size && ftruncate(mfd[f], off + len))
				die("ftruncate model");
			break;
		}
		default:
			note(below(2) ? "fsync%.0lld%.0lld" : "fdatasync%.0lld%.0lld", 0, 0, f);
			if (strstr(history[nops % HISTORY], "fdatasync") ?
			    fdatasync(fd[f]) : fsync(fd[f]))
				die("fsync");
			break;
		}
		if (nops % 500 == 499)
			for (i = 0; i < NFILES; i++)
				compare_whole(fd[i], mfd[i], i, a, b);
	}
	for (i = 0; i < NFILES; i++)
		compare_whole(fd[i], mfd[i], i, a, b);
	printf("%lld operations (seed %s):", ops, argv[3]);
	for (i = 0; i < 10; i++)
		printf(" %s %lld", names[i], counts[i]);
	printf("; all reads matched the model\n");
	return 0;
}
