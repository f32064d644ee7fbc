// SPDX-License-Identifier: GPL-2.0
/*
 * many_extents: a file of very many extents, made, written and checked, for
 * tests/xtfs_extent_scale.sh.
 *
 * usage: many_extents make FILE N BS
 *        many_extents write FILE N BS COUNT SEED
 *        many_extents check FILE N BS COUNT SEED LIMIT
 *
 * The file's extent i (0 <= i < N) is its block 2i, of BS bytes: between
 * each two, a hole, so that no two extents can ever be joined.
 *
 * make: creates FILE and preallocates block 2i for each i < N (fallocate, one
 * unwritten extent each), then fsyncs it. Prints "made N extents in S s".
 *
 * write: writes COUNT of the N blocks, those that SEED chooses (the same
 * ones each time), in that random order, each whole with its stamp (the
 * extent's number in each 8 bytes), and fdatasyncs after each: writeback
 * converts the block's unwritten extent to a written one in the middle of
 * the tree.
 *
 * check: the file as write with the same N, COUNT and SEED left it, cut to
 * its first LIMIT extents (LIMIT <= N; the size 2 LIMIT blocks): FIEMAP
 * reports exactly the extents 0 to LIMIT - 1, each one block at its place,
 * unwritten unless it was written and written if it was; every written
 * block holds its stamp, and every 97th unwritten block reads as zeroes.
 * Prints "N extents checked, W written".
 *
 * Exit status 0 when everything held; 1 (with the first difference on
 * stderr) otherwise.
 */
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <time.h>

#include "progs.h"

#define BATCH 4096

static uint64_t n, bs, count, seed;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* The blocks write writes, in its order: the first COUNT of a permutation. */
static uint64_t *chosen(void)
{
	uint64_t *order = calloc(n, sizeof(*order)), s = seed | 1;

	if (!order)
		die("calloc");
	random_order(order, n, count, &s);
	return order;
}

static void stamp(uint64_t *buf, uint64_t block)
{
	uint64_t k;

	for (k = 0; k < bs / 8; k++)
		buf[k] = block;
}

static int fail(const char *fmt, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "many_extents check: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

static int check(int fd, uint64_t limit)
{
	uint64_t *order = chosen(), *buf, *expect, i, next = 0, written = 0;
	struct fiemap *fm;
	uint8_t *is_written;
	size_t size = sizeof(*fm) + BATCH * sizeof(struct fiemap_extent);
	int last = 0;

	fm = calloc(1, size);
	is_written = calloc(n, 1);
	buf = malloc(bs);
	expect = malloc(bs);
	if (!fm || !is_written || !buf || !expect)
		die("calloc");
	for (i = 0; i < count; i++)
		is_written[order[i]] = 1;
	while (!last) {
		uint32_t k;

		memset(fm, 0, sizeof(*fm));
		fm->fm_start = 2 * next * bs;
		fm->fm_length = FIEMAP_MAX_OFFSET - fm->fm_start;
		fm->fm_extent_count = BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm))
			die("FS_IOC_FIEMAP");
		if (!fm->fm_mapped_extents)
			break;
		for (k = 0; k < fm->fm_mapped_extents; k++) {
			struct fiemap_extent *e = &fm->fm_extents[k];
			int unwritten = !!(e->fe_flags & FIEMAP_EXTENT_UNWRITTEN);

			if (e->fe_logical != 2 * next * bs || e->fe_length != bs)
				return fail("extent %llu: at byte %llu, or not one block long",
					    next, e->fe_logical);
			if (next >= limit)
				return fail("extent %llu of %llu expected: more", next, limit);
			if (unwritten == is_written[next])
				return fail("extent %llu: unwritten is %llu, the other way round",
					    next, unwritten);
			last = !!(e->fe_flags & FIEMAP_EXTENT_LAST);
			next++;
		}
	}
	if (next != limit)
		return fail("%llu extents of %llu expected", next, limit);
	for (i = 0; i < limit; i++) {
		if (!is_written[i] && i % 97)
			continue;
		if (pread(fd, buf, bs, 2 * i * bs) != (ssize_t)bs)
			die("pread");
		if (is_written[i]) {
			stamp(expect, i);
			written++;
		} else {
			memset(expect, 0, bs);
		}
		if (memcmp(buf, expect, bs))
			return fail("block %llu (extent %llu): not what was written", 2 * i, i);
	}
	printf("%llu extents checked, %llu written\n", (unsigned long long)next,
	       (unsigned long long)written);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t i, *order, *buf;
	double start;
	int fd;

	if (argc < 5 || (strcmp(argv[1], "make") && argc < 7) ||
	    (!strcmp(argv[1], "check") && argc < 8)) {
		fprintf(stderr,
			"usage: many_extents make|write|check FILE N BS [COUNT SEED [LIMIT]]\n");
		return 2;
	}
	n = strtoull(argv[3], NULL, 0);
	bs = strtoull(argv[4], NULL, 0);
	if (!n || !bs || bs % 8)
		die("bad N or BS");
	if (strcmp(argv[1], "make")) {
		count = strtoull(argv[5], NULL, 0);
		seed = strtoull(argv[6], NULL, 0);
		if (count > n)
			die("COUNT above N");
	}
	if (!strcmp(argv[1], "make")) {
		fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die("open");
		start = now();
		for (i = 0; i < n; i++)
			if (fallocate(fd, 0, (off_t)(2 * i * bs), bs))
				die("fallocate");
		if (fsync(fd))
			die("fsync");
		printf("made %llu extents in %.1f s\n", (unsigned long long)n, now() - start);
		return 0;
	}
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		die("open");
	if (!strcmp(argv[1], "write")) {
		order = chosen();
		buf = malloc(bs);
		if (!buf)
			die("malloc");
		for (i = 0; i < count; i++) {
			stamp(buf, order[i]);
			if (pwrite(fd, buf, bs, (off_t)(2 * order[i] * bs)) != (ssize_t)bs)
				die("pwrite");
			if (fdatasync(fd))
				die("fdatasync");
		}
		return 0;
	}
	if (!strcmp(argv[1], "check")) {
		uint64_t limit = strtoull(argv[7], NULL, 0);

		if (limit > n)
			die("LIMIT above N");
		return check(fd, limit);
	}
	fprintf(stderr, "many_extents: unknown command %s\n", argv[1]);
	return 2;
}
