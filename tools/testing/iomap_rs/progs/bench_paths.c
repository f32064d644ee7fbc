// SPDX-License-Identifier: GPL-2.0
/*
 * bench_paths: throughput of the zeroing and write fault paths, C iomap
 * against iomap_rs, interleaved within one run.
 *
 * usage: bench_paths DIR zero|mkwrite MIB KNOB ROUNDS
 *
 * zero: appends 100 bytes 1000 bytes past EOF, over and over, until the file
 * has MIB MiB: each write first zeroes the gap from the old EOF, inside the
 * cached, dirty last folio (iomap_zero_range() from xfs_file_write_checks()).
 *
 * mkwrite: a file of MIB MiB of holes, mapped shared; one byte is written
 * into each page through the mapping, so each page takes a write fault
 * (iomap_page_mkwrite(), which reserves delalloc and dirties the folio).
 *
 * The operations are done in 2 * ROUNDS consecutive chunks, C iomap and
 * iomap_rs taking turns through KNOB (/sys/kernel/debug/iomap_rs/enabled),
 * which one goes first alternating between rounds, so that both see the
 * same machine, cache and file state. Prints "C_ops/s N RUST_ops/s N".
 */
#include <sys/mman.h>
#include <time.h>

#include "progs.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

#define APPEND		100
#define GAP		1000

int main(int argc, char **argv)
{
	double secs[2] = { 0, 0 }, ops[2] = { 0, 0 };
	size_t total, nops, op, per_chunk, page = sysconf(_SC_PAGESIZE);
	char path[4096], buf[APPEND];
	int fd, mkwrite, chunks, c;
	char *map = NULL;

	if (argc != 6 || (strcmp(argv[2], "zero") && strcmp(argv[2], "mkwrite"))) {
		fprintf(stderr, "usage: %s DIR zero|mkwrite MIB KNOB ROUNDS\n", argv[0]);
		return 2;
	}
	mkwrite = !strcmp(argv[2], "mkwrite");
	total = strtoul(argv[3], NULL, 0) << 20;
	chunks = 2 * atoi(argv[5]);
	if (chunks < 2 || !total)
		return 2;
	snprintf(path, sizeof(path), "%s/bench_paths", argv[1]);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	memset(buf, 0x5a, sizeof(buf));
	if (mkwrite) {
		if (ftruncate(fd, total))
			die("ftruncate");
		map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			die("mmap");
		nops = total / page;
	} else {
		nops = total / (APPEND + GAP);
	}
	per_chunk = nops / chunks;
	op = 0;
	for (c = 0; c < chunks; c++) {
		/* Round r = c / 2 runs C then Rust if r is even, else Rust then C. */
		int rust = (c & 1) ^ ((c / 2) & 1);
		size_t start = op, end = c == chunks - 1 ? nops : op + per_chunk;
		double t0;

		set_knob(argv[4], rust ? "Y" : "N");
		t0 = now();
		for (; op < end; op++) {
			if (mkwrite)
				WRITE_ONCE(map[op * page], 1);
			else if (pwrite(fd, buf, APPEND, op * (APPEND + GAP) + GAP) != APPEND)
				die("pwrite");
		}
		secs[rust] += now() - t0;
		ops[rust] += end - start;
	}
	set_knob(argv[4], "Y");
	if (map)
		munmap(map, total);
	close(fd);
	printf("C_ops/s %.0f RUST_ops/s %.0f\n", ops[0] / secs[0], ops[1] / secs[1]);
	return 0;
}
