// SPDX-License-Identifier: GPL-2.0
/*
 * bench_extents: the cost of a write that changes one extent of a file of N
 * extents, for the extent-count scaling table of make bench.
 *
 * usage: bench_extents FILE N WRITES BLOCK_SIZE [SEED]
 *
 * Makes FILE a file of N extents: one block preallocated in every two
 * (fallocate, unwritten), then fsynced (untimed). Then, timed: a block-sized
 * pwrite() into a random one of the preallocated blocks that was not written
 * yet and an fdatasync(), whose writeback converts that extent (the tree
 * stores it) and commits; N times at most, and the file made again for more,
 * up to WRITES in all. Prints "ops/s N setup_s N" (the setup of the first
 * file).
 */
#include <time.h>

#include "progs.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, n, writes, done, i, *order;
	double start, setup = 0, timed = 0;
	size_t bs;
	char *buf;
	int fd;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_extents FILE N WRITES BLOCK_SIZE [SEED]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 0);
	writes = strtoull(argv[3], NULL, 0);
	bs = strtoul(argv[4], NULL, 0);
	if (argc > 5)
		seed = strtoull(argv[5], NULL, 0) | 1;
	if (!n || !writes || !bs)
		die("bad N, WRITES or BLOCK_SIZE");
	buf = malloc(bs);
	order = calloc(n, sizeof(*order));
	if (!buf || !order)
		die("malloc");
	memset(buf, 0x5a, bs);
	for (done = 0; done < writes;) {
		uint64_t round = writes - done < n ? writes - done : n;

		fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die("open");
		start = now();
		for (i = 0; i < n; i++)
			if (fallocate(fd, 0, (off_t)(2 * i) * bs, bs))
				die("fallocate");
		if (fsync(fd))
			die("fsync");
		if (!done)
			setup = now() - start;
		/* A random order of the blocks, the first ROUND of it written. */
		random_order(order, n, round, &seed);
		start = now();
		for (i = 0; i < round; i++) {
			if (pwrite(fd, buf, bs, (off_t)(2 * order[i]) * bs) != (ssize_t)bs)
				die("pwrite");
			if (fdatasync(fd))
				die("fdatasync");
		}
		timed += now() - start;
		done += round;
		close(fd);
	}
	printf("ops/s %.1f setup_s %.1f\n", writes / timed, setup);
	return 0;
}
