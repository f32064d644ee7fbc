// SPDX-License-Identifier: GPL-2.0
/*
 * bench_fsync: the latency of fsync(2) after a small buffered write.
 *
 * usage: bench_fsync FILE append|overwrite COUNT SIZE
 *
 * COUNT times: pwrite() SIZE bytes and fsync() the file. "append" writes
 * after the end of the file (new blocks: an allocation, the new size and
 * the extent reach the disk with the data), "overwrite" rewrites the first
 * SIZE bytes of a file written and fsynced once beforehand (the data only;
 * the timestamps change too). The file is created and truncated first.
 * Prints "ops/s N median_us N p90_us N" over the COUNT write+fsync pairs.
 */
#include <time.h>

#include "progs.h"

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double *lat, start, total = 0;
	size_t size;
	char *buf;
	int append, count, fd, i;

	if (argc != 5 || (strcmp(argv[2], "append") && strcmp(argv[2], "overwrite"))) {
		fprintf(stderr, "usage: bench_fsync FILE append|overwrite COUNT SIZE\n");
		return 2;
	}
	append = !strcmp(argv[2], "append");
	count = atoi(argv[3]);
	size = strtoul(argv[4], NULL, 0);
	if (count <= 0 || !size)
		die("bad COUNT or SIZE");
	lat = calloc(count, sizeof(*lat));
	buf = malloc(size);
	if (!lat || !buf)
		die("malloc");
	memset(buf, 0x5a, size);
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open");
	if (!append && (pwrite(fd, buf, size, 0) != (ssize_t)size || fsync(fd)))
		die("first write");
	for (i = 0; i < count; i++) {
		off_t off = append ? (off_t)i * size : 0;

		buf[0] = i;
		start = now_us();
		if (pwrite(fd, buf, size, off) != (ssize_t)size)
			die("pwrite");
		if (fsync(fd))
			die("fsync");
		lat[i] = now_us() - start;
		total += lat[i];
	}
	close(fd);
	qsort(lat, count, sizeof(*lat), cmp_double);
	printf("ops/s %.1f median_us %.0f p90_us %.0f\n", count / (total / 1e6),
	       lat[count / 2], lat[count * 9 / 10]);
	return 0;
}
