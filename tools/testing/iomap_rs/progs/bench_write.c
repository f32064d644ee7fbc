// SPDX-License-Identifier: GPL-2.0
/*
 * bench_write: buffered write throughput into the page cache.
 *
 * usage: bench_write DIR WRITE_SIZE WRITERS new|overwrite MIB
 *
 * Each of WRITERS threads writes MIB / WRITERS MiB to its own file in DIR
 * with pwrite() calls of WRITE_SIZE bytes. "new" writes into freshly created
 * files (delayed allocation of new blocks); "overwrite" first writes the files
 * once, untimed, and then times writing them again over their cached pages.
 * Only the write() calls are timed, not writeback. Prints "MB/s N".
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct writer {
	char path[4096];
	size_t write_size;
	size_t bytes;
	int fd;
	pthread_barrier_t *start;
};

static void write_file(struct writer *w, char *buf)
{
	size_t off;

	for (off = 0; off < w->bytes; off += w->write_size)
		if (pwrite(w->fd, buf, w->write_size, off) != (ssize_t)w->write_size) {
			perror("pwrite");
			exit(1);
		}
}

static void *run(void *arg)
{
	struct writer *w = arg;
	char *buf = malloc(w->write_size);

	if (!buf)
		exit(1);
	memset(buf, 0x6b, w->write_size);
	pthread_barrier_wait(w->start);
	write_file(w, buf);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	struct writer w[64];
	pthread_t tid[64];
	pthread_barrier_t start;
	struct timespec t0, t1;
	size_t write_size, total;
	int writers, overwrite, i;
	double secs;

	if (argc != 6) {
		fprintf(stderr, "usage: %s DIR WRITE_SIZE WRITERS new|overwrite MIB\n",
			argv[0]);
		return 2;
	}
	write_size = strtoul(argv[2], NULL, 0);
	writers = atoi(argv[3]);
	overwrite = !strcmp(argv[4], "overwrite");
	total = strtoul(argv[5], NULL, 0) << 20;
	if (!write_size || writers < 1 || writers > 64 || total / writers < write_size)
		return 2;
	pthread_barrier_init(&start, NULL, writers + 1);
	for (i = 0; i < writers; i++) {
		snprintf(w[i].path, sizeof(w[i].path), "%s/bench.%d", argv[1], i);
		unlink(w[i].path);
		w[i].fd = open(w[i].path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (w[i].fd < 0) {
			perror(w[i].path);
			return 1;
		}
		w[i].write_size = write_size;
		w[i].bytes = total / writers / write_size * write_size;
		w[i].start = &start;
		if (overwrite) {
			char *buf = calloc(1, write_size);

			write_file(&w[i], buf);
			free(buf);
		}
	}
	for (i = 0; i < writers; i++)
		pthread_create(&tid[i], NULL, run, &w[i]);
	pthread_barrier_wait(&start);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < writers; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("MB/s %.1f\n", (double)w[0].bytes * writers / secs / 1e6);
	for (i = 0; i < writers; i++)
		close(w[i].fd);
	return 0;
}
