// SPDX-License-Identifier: GPL-2.0
/*
 * holetest: threads writing one file's pages through a shared mapping and
 * with pwrite() at once, over a hole, a preallocated range and a range the
 * file was truncated up over: the workloads of fstests generic/340, 344 and
 * 346 (whose holetest program this is not), on one file.
 *
 * usage: holetest [-r] [-w] FILE THREADS PAGES
 *
 * FILE gets 3 * PAGES pages per thread. With P = PAGES * THREADS pages:
 * [0, P) is a hole; [P, 2P) is preallocated (fallocate); at 2P one page is
 * written and synced, the file truncated down into it and then up to 3P, so
 * [2P, 3P) is a written block with its tail zeroed and a hole beyond the old
 * EOF. Thread t owns the pages i with
 * i % THREADS == t in each range, in an order of its own, and writes
 * "thread t, page i" over each:
 *   - through the shared mapping (generic/340: page faults on holes and on
 *     unwritten blocks racing between threads, each mapping delalloc or
 *     converting under a neighbour's fault);
 *   - -r: after reading every page of the mapping first, so that the faults
 *     are write faults on cached, mapped pages (generic/344);
 *   - -w: every other page with pwrite() instead, so that buffered writes,
 *     their delalloc and their releases race with the faults (generic/346).
 * Every page is then checked, after fsync and dropping the cache again.
 * Exit 0 if all is right, 3 if a page is wrong, 1 on errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "progs.h"

#define PAGE 4096

static int nthreads, pages, prefault, use_pwrite;
static long long total;	/* pages in the file */
static int fd;
static char *map;
static pthread_barrier_t start;

/* What page `i` must hold: its number and its owner, over the page. */
static void fill(char *buf, long long i)
{
	int t = i % nthreads, n;

	n = snprintf(buf, PAGE, "thread %d, page %lld\n", t, i);
	memset(buf + n, 'a' + t % 26, PAGE - n);
}

static void *worker(void *arg)
{
	int t = (int)(long)arg, k;
	long long per = total / nthreads, j;
	char buf[PAGE];

	if (prefault)
		for (j = 0; j < total; j++)
			(void)READ_ONCE(map[j * PAGE]);
	pthread_barrier_wait(&start);
	/* Thread t's pages, a stride apart, visited from both ends inwards. */
	for (k = 0; k < per; k++) {
		long long n = k % 2 ? per - 1 - k / 2 : k / 2;
		long long i = n * nthreads + t;

		fill(buf, i);
		if (use_pwrite && k % 2) {
			if (pwrite(fd, buf, PAGE, i * PAGE) != PAGE)
				die("pwrite");
		} else {
			memcpy(map + i * PAGE, buf, PAGE);
		}
	}
	return NULL;
}

static int verify(const char *when)
{
	char want[PAGE], got[PAGE];
	long long i;

	for (i = 0; i < total; i++) {
		fill(want, i);
		if (pread(fd, got, PAGE, i * PAGE) != PAGE)
			die("pread");
		if (memcmp(want, got, PAGE)) {
			int b = 0;

			while (want[b] == got[b])
				b++;
			printf("%s: page %lld is wrong at byte %d: 0x%02x, expected 0x%02x\n",
			       when, i, b, (unsigned char)got[b],
			       (unsigned char)want[b]);
			return 3;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t *threads;
	long long third;
	char page[PAGE];
	int opt, t, rc;

	while ((opt = getopt(argc, argv, "rw")) != -1) {
		switch (opt) {
		case 'r':
			prefault = 1;
			break;
		case 'w':
			use_pwrite = 1;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 3)
		goto usage;
	nthreads = atoi(argv[optind + 1]);
	pages = atoi(argv[optind + 2]);
	if (nthreads < 1 || pages < 1)
		goto usage;
	third = (long long)pages * nthreads;
	total = 3 * third;

	fd = open(argv[optind], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(argv[optind]);
	if (fallocate(fd, 0, third * PAGE, third * PAGE))
		die("fallocate");
	/* A written page at 2P, then the size truncated up past it. */
	memset(page, 'z', PAGE);
	if (pwrite(fd, page, PAGE, 2 * third * PAGE) != PAGE || fsync(fd))
		die("pwrite/fsync");
	if (ftruncate(fd, 2 * third * PAGE + PAGE / 2) ||
	    ftruncate(fd, total * PAGE))
		die("ftruncate");
	map = mmap(NULL, total * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");

	threads = calloc(nthreads, sizeof(*threads));
	if (!threads || pthread_barrier_init(&start, NULL, nthreads))
		die("threads");
	for (t = 0; t < nthreads; t++) {
		errno = pthread_create(&threads[t], NULL, worker, (void *)(long)t);
		if (errno)
			die("pthread_create");
	}
	for (t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);

	rc = verify("cached");
	if (!rc) {
		if (msync(map, total * PAGE, MS_SYNC) || fsync(fd) ||
		    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
			die("msync/fsync/fadvise");
		rc = verify("after writeback and eviction");
	}
	if (!rc)
		printf(
			"%d threads%s%s: %lld pages right (hole, preallocated, truncated up), cached and from disk\n",
			nthreads, prefault ? ", prefaulted" : "",
			use_pwrite ? ", half with pwrite" : "", total);
	munmap(map, total * PAGE);
	close(fd);
	return rc;
usage:
	fprintf(stderr, "usage: %s [-r] [-w] FILE THREADS PAGES\n", argv[0]);
	return 1;
}
