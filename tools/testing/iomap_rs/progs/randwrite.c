// SPDX-License-Identifier: GPL-2.0
/*
 * randwrite: apply the same sequence of random pwrite()s to a file under test
 * and to a reference file elsewhere, so that the two can be compared after
 * the page cache is dropped and after a remount.
 *
 * usage: randwrite FILE REFERENCE SEED OPS MAX_LEN FILE_SIZE [ALIGN]
 *
 * Offsets and lengths are uniformly random in [0, FILE_SIZE) and [1, MAX_LEN],
 * rounded down to ALIGN (default 1: unaligned). Every write must complete in
 * full; a short write or an error fails with exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progs.h"

static uint64_t rng_state;

static uint64_t rng(void)
{
	return xorshift64star(&rng_state);
}

static void write_all(int fd, const char *buf, size_t len, off_t off,
		      const char *what)
{
	ssize_t ret = pwrite(fd, buf, len, off);

	if (ret != (ssize_t)len) {
		fprintf(stderr, "pwrite(%s, %zu bytes at %lld) returned %zd: %s\n",
			what, len, (long long)off, ret,
			ret < 0 ? strerror(errno) : "short write");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	unsigned long long seed, ops, max_len, file_size, align = 1, i;
	int fd, ref;
	char *buf;

	if (argc < 7 || argc > 8) {
		fprintf(stderr,
			"usage: %s FILE REFERENCE SEED OPS MAX_LEN FILE_SIZE [ALIGN]\n",
			argv[0]);
		return 2;
	}
	seed = strtoull(argv[3], NULL, 0);
	ops = strtoull(argv[4], NULL, 0);
	max_len = strtoull(argv[5], NULL, 0);
	file_size = strtoull(argv[6], NULL, 0);
	if (argc == 8)
		align = strtoull(argv[7], NULL, 0);
	if (!max_len || !file_size || !align || max_len > (1ULL << 30)) {
		fprintf(stderr, "bad MAX_LEN, FILE_SIZE or ALIGN\n");
		return 2;
	}
	rng_state = seed | 1;

	fd = open(argv[1], O_RDWR | O_CREAT, 0644);
	ref = open(argv[2], O_RDWR | O_CREAT, 0644);
	buf = malloc(max_len);
	if (fd < 0 || ref < 0 || !buf) {
		perror("open/malloc");
		return 2;
	}
	for (i = 0; i < ops; i++) {
		unsigned long long off = rng() % file_size / align * align;
		unsigned long long len = 1 + rng() % max_len;
		unsigned long long j;

		if (len >= align)
			len = len / align * align;
		for (j = 0; j < len; j++)
			buf[j] = (char)(rng() >> 56);
		write_all(fd, buf, len, off, argv[1]);
		write_all(ref, buf, len, off, argv[2]);
	}
	printf("randwrite: %llu writes (seed %llu, max %llu bytes, align %llu) into %s\n",
	       ops, seed, max_len, align, argv[1]);
	return 0;
}
