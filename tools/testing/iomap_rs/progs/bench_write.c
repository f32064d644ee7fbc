// SPDX-License-Identifier: GPL-2.0
/*
 * bench_write: buffered write throughput into the page cache.
 *
 * usage: bench_write DIR WRITE_SIZE WRITERS new|overwrite MIB [KNOB ROUNDS]
 *
 * Each of WRITERS threads writes MIB / WRITERS MiB to its own file in DIR
 * with pwrite() calls of WRITE_SIZE bytes. "new" writes into freshly created
 * files (delayed allocation of new blocks); "overwrite" first writes the files
 * once, untimed, and then times writing them again over their cached pages.
 * Only the write() calls are timed, not writeback. Prints "MB/s N".
 *
 * With KNOB (/sys/kernel/debug/iomap_rs/enabled) and ROUNDS, the two write
 * paths are interleaved within the run: the files are written in 2 * ROUNDS
 * consecutive chunks, C iomap and iomap_rs taking turns (which one goes first
 * alternates between rounds), so that both see the same machine, cache and
 * file state. Prints "C_MB/s N RUST_MB/s N", each over its own chunks.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

struct writer {
	char path[4096];
	size_t write_size;
	size_t bytes;
	int fd;
	/* Chunks the file is written in; every chunk starts after both barriers. */
	int chunks;
	pthread_barrier_t *start, *done;
};

static void write_range(struct writer *w, char *buf, size_t from, size_t to)
{
	size_t off;

	for (off = from; off < to; off += w->write_size)
		if (pwrite(w->fd, buf, w->write_size, off) != (ssize_t)w->write_size)
			die("pwrite");
}

static void write_file(struct writer *w, char *buf)
{
	write_range(w, buf, 0, w->bytes);
}

static void *run(void *arg)
{
	struct writer *w = arg;
	char *buf = malloc(w->write_size);
	size_t chunk = w->bytes / w->chunks / w->write_size * w->write_size;
	int c;

	if (!buf)
		exit(1);
	memset(buf, 0x6b, w->write_size);
	for (c = 0; c < w->chunks; c++) {
		pthread_barrier_wait(w->start);
		write_range(w, buf, c * chunk,
			    c == w->chunks - 1 ? w->bytes : (c + 1) * chunk);
		pthread_barrier_wait(w->done);
	}
	free(buf);
	return NULL;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct writer w[64];
	pthread_t tid[64];
	pthread_barrier_t start, done;
	size_t write_size, total, bytes[2] = { 0, 0 };
	double secs[2] = { 0, 0 };
	int writers, overwrite, rounds = 0, chunks = 1, i, c;
	const char *knob = NULL;

	if (argc != 6 && argc != 8) {
		fprintf(stderr,
			"usage: %s DIR WRITE_SIZE WRITERS new|overwrite MIB [KNOB ROUNDS]\n",
			argv[0]);
		return 2;
	}
	write_size = strtoul(argv[2], NULL, 0);
	writers = atoi(argv[3]);
	overwrite = !strcmp(argv[4], "overwrite");
	total = strtoul(argv[5], NULL, 0) << 20;
	if (argc == 8) {
		knob = argv[6];
		rounds = atoi(argv[7]);
		chunks = 2 * rounds;
	}
	if (!write_size || writers < 1 || writers > 64 || chunks < 1 ||
	    total / writers / chunks < write_size)
		return 2;
	pthread_barrier_init(&start, NULL, writers + 1);
	pthread_barrier_init(&done, NULL, writers + 1);
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
		w[i].chunks = chunks;
		w[i].start = &start;
		w[i].done = &done;
		if (overwrite) {
			char *buf = calloc(1, write_size);

			write_file(&w[i], buf);
			free(buf);
		}
	}
	for (i = 0; i < writers; i++)
		pthread_create(&tid[i], NULL, run, &w[i]);
	for (c = 0; c < chunks; c++) {
		/* Round r = c / 2 runs C then Rust if r is even, else Rust then C. */
		int rust = knob ? (c & 1) ^ ((c / 2) & 1) : 0;
		size_t chunk = w[0].bytes / chunks / write_size * write_size;
		double t0;

		if (knob)
			set_knob(knob, rust ? "Y" : "N");
		pthread_barrier_wait(&start);
		t0 = now();
		pthread_barrier_wait(&done);
		secs[rust] += now() - t0;
		bytes[rust] += (c == chunks - 1 ?
				w[0].bytes - c * chunk : chunk) * writers;
	}
	for (i = 0; i < writers; i++) {
		pthread_join(tid[i], NULL);
		close(w[i].fd);
	}
	if (knob)
		printf("C_MB/s %.1f RUST_MB/s %.1f\n", bytes[0] / secs[0] / 1e6,
		       bytes[1] / secs[1] / 1e6);
	else
		printf("MB/s %.1f\n", bytes[0] / secs[0] / 1e6);
	return 0;
}
