// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_punch: short writes racing mmap writes over the same delalloc range,
 * and what the delalloc release must keep or punch afterwards.
 *
 * usage: mmap_punch eof FILE
 *        mmap_punch race FILE THREADS OPS REF KNOB DELAY_MS
 *
 * (A short write next to a page an mmap write dirtied, forced at the exact
 * interleaving, is race.c's punch-mmap.)
 * eof: with 1 KiB blocks, a file of 9216 bytes is written and synced, then
 *   its last page is dirtied through a shared mapping, which marks every
 *   block of the folio dirty, those beyond EOF too. A write at EOF from an
 *   unmapped buffer fails: the delalloc it reserved over [9216, 12288) lies
 *   under dirty blocks beyond EOF and must still be punched. (The write
 *   starts at EOF, not beyond: a write beyond EOF first zeroes up to its
 *   start, and in 6.12 that flushes the dirty folio, which would hide the
 *   case.)
 * race: the generic/346 workload. THREADS threads own interleaved 3 KiB runs
 *   of a sparse file (neighbouring runs share pages) and each does OPS
 *   writes of a random byte value over one of its runs, through a shared
 *   mapping or with pwrite(), while a flusher thread writes back and evicts
 *   ranges; with the knob set, writes find their mappings stale and end
 *   short, releasing delalloc next to pages other threads dirtied. Every
 *   byte is checked, and the expected content is written to REF.
 *
 * Each mode then syncs the file and, before closing it (the first close may
 * trim post-EOF blocks), lists its extents with FIEMAP: a delalloc extent
 * left after a sync is a leaked reservation. Exit 0 if all is right, 3 if the
 * content or the extents are wrong, 2 if the scenario did not happen as
 * planned, 1 on errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progs.h"

#define PAGE	4096
#define KIB	1024LL

/*
 * Count the extents of fd (FIEMAP, no sync), print the delalloc ones, and add
 * up the bytes of those beyond `eof`.
 */
static int count_delalloc(int fd, long long eof, long long *beyond_eof)
{
	enum { BATCH = 128 };
	struct fiemap *fm;
	unsigned long long start = 0;
	int delalloc = 0, extents = 0, last = 0;

	fm = calloc(1, sizeof(*fm) + BATCH * sizeof(struct fiemap_extent));
	if (!fm)
		die("calloc");
	*beyond_eof = 0;
	while (!last) {
		unsigned int i;

		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_flags = 0;
		fm->fm_extent_count = BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm))
			die("FS_IOC_FIEMAP");
		if (!fm->fm_mapped_extents)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *e = &fm->fm_extents[i];
			long long lstart = e->fe_logical;
			long long end = lstart + e->fe_length;

			extents++;
			if (e->fe_flags & FIEMAP_EXTENT_DELALLOC) {
				printf("  delalloc extent [%lld, %lld)\n",
				       lstart, end);
				delalloc++;
				if (end > eof)
					*beyond_eof += end - (lstart > eof ? lstart : eof);
			}
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				last = 1;
			start = end;
		}
	}
	free(fm);
	printf("  %d extents, %d of them delalloc\n", extents, delalloc);
	return delalloc;
}

/* Sync fd and fail if any delalloc is left. */
static int no_delalloc_after_sync(int fd, long long eof)
{
	long long beyond;
	int n;

	if (fsync(fd))
		die("fsync");
	printf("extents after fsync:\n");
	n = count_delalloc(fd, eof, &beyond);
	if (n) {
		printf(
			"leak: %d delalloc extent(s) left after fsync, %lld bytes of them beyond EOF %lld\n",
			n, beyond, eof);
		return 3;
	}
	return 0;
}

/* An anonymous buffer of len bytes of `fill` whose page at `hole` is unmapped. */
static char *buffer_with_hole(size_t len, int fill, size_t hole)
{
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		die("mmap buffer");
	memset(buf, fill, len);
	if (munmap(buf + hole, PAGE))
		die("munmap");
	return buf;
}

static int eof(const char *path)
{
	const long long size = 9216, write_at = size;
	char data[9216], *buf, *map;
	long long beyond;
	ssize_t n;
	int fd, d;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	memset(data, 0x11, size);
	if (pwrite(fd, data, size, 0) != size || fsync(fd))
		die("pwrite/fsync");
	/* The last page is cached and uptodate; dirty it through a mapping. */
	map = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	memset(map + 2 * PAGE, 0x22, PAGE);
	if (munmap(map, 3 * PAGE))
		die("munmap");

	buf = buffer_with_hole(2 * PAGE, 0x33, 0);
	n = pwrite(fd, buf, 3 * KIB, write_at);
	if (n != -1 || errno != EFAULT) {
		printf("scenario: the write at EOF returned %zd (%s), expected EFAULT\n",
		       n, n < 0 ? strerror(errno) : "no error");
		return 2;
	}
	printf("write at EOF %lld, into a dirty cached page, failed with EFAULT\n",
	       write_at);
	printf("extents before writeback:\n");
	d = count_delalloc(fd, size, &beyond);
	if (beyond) {
		printf("leak: %lld bytes of delalloc beyond EOF %lld\n",
		       beyond, size);
		return 3;
	}
	d = no_delalloc_after_sync(fd, size);
	close(fd);
	return d;
}

struct race {
	int fd, threads, ops;
	long long runs;
	char *map;
	unsigned char *expected;
	int done;
	long long mmap_writes, pwrites, faulted_pwrites, short_pwrites;
	pthread_mutex_t lock;
};

#define RUN (3 * KIB)

struct worker {
	struct race *race;
	int id;
};

static unsigned int next_rand(unsigned long long *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static void *race_worker(void *arg)
{
	struct worker *w = arg;
	struct race *r = w->race;
	unsigned long long seed = 0x9e3779b97f4a7c15ULL * (w->id + 1);
	long long mine = (r->runs - w->id + r->threads - 1) / r->threads;
	long long mmaps = 0, pwrites = 0, faulted = 0, shorts = 0;
	char buf[RUN], *fault_buf;
	int i;

	fault_buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fault_buf == MAP_FAILED || munmap(fault_buf + PAGE, PAGE))
		die("fault buffer");
	for (i = 0; i < r->ops && mine > 0; i++) {
		long long run = w->id + (next_rand(&seed) % mine) * r->threads;
		unsigned char v = next_rand(&seed) % 255 + 1;
		long long off = run * RUN, done = 0;

		if (next_rand(&seed) & 1) {
			memset(r->map + off, v, RUN);
			mmaps++;
			r->expected[run] = v;
			continue;
		}
		pwrites++;
		if (next_rand(&seed) % 3 == 0) {
			/*
			 * From a buffer that runs into an unmapped page after
			 * 2 KiB: the write ends short for good and releases
			 * the delalloc it reserved over the rest of the run,
			 * whose last block a neighbouring run may share.
			 */
			char *from = fault_buf + PAGE - 2 * KIB;

			memset(from, v, 2 * KIB);
			if (pwrite(r->fd, from, RUN, off) != 2 * KIB)
				die("pwrite from a buffer with a hole");
			faulted++;
			done = 2 * KIB;
		}
		memset(buf, v, RUN);
		while (done < RUN) {
			ssize_t n = pwrite(r->fd, buf + done, RUN - done,
					   off + done);

			if (n <= 0)
				die("pwrite");
			if (n < RUN - done)
				shorts++;
			done += n;
		}
		r->expected[run] = v;
	}
	pthread_mutex_lock(&r->lock);
	r->mmap_writes += mmaps;
	r->pwrites += pwrites;
	r->faulted_pwrites += faulted;
	r->short_pwrites += shorts;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Write back and evict ranges while the workers run. */
static void *race_flusher(void *arg)
{
	struct race *r = arg;
	unsigned long long seed = 42;
	long long size = r->runs * RUN;

	while (!READ_ONCE(r->done)) {
		long long off = (next_rand(&seed) % (size / PAGE)) * PAGE;
		long long len = (1 + next_rand(&seed) % 64) * PAGE;

		sync_file_range(r->fd, off, len, SYNC_FILE_RANGE_WRITE |
				SYNC_FILE_RANGE_WAIT_AFTER);
		posix_fadvise(r->fd, off, len, POSIX_FADV_DONTNEED);
		usleep(2000);
	}
	return NULL;
}

static int race(const char *path, int threads, int ops, const char *ref,
		const char *knob, const char *delay)
{
	struct race r = { .threads = threads, .ops = ops };
	pthread_t *tids, flusher;
	struct worker *workers;
	long long run, size, bad = 0;
	char buf[RUN];
	int i, rc, reffd;

	r.runs = threads * 8 > 512 ? threads * 8 : 512;
	size = r.runs * RUN;
	pthread_mutex_init(&r.lock, NULL);
	r.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (r.fd < 0 || ftruncate(r.fd, size))
		die(path);
	r.map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
	r.expected = calloc(r.runs, 1);
	tids = calloc(threads, sizeof(*tids));
	workers = calloc(threads, sizeof(*workers));
	if (r.map == MAP_FAILED || !r.expected || !tids || !workers)
		die("mmap/calloc");

	set_knob(knob, delay);
	if (pthread_create(&flusher, NULL, race_flusher, &r))
		die("pthread_create");
	for (i = 0; i < threads; i++) {
		workers[i] = (struct worker){ .race = &r, .id = i };
		if (pthread_create(&tids[i], NULL, race_worker, &workers[i]))
			die("pthread_create");
	}
	for (i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	WRITE_ONCE(r.done, 1);
	pthread_join(flusher, NULL);
	set_knob(knob, "0");
	printf(
		"%d threads: %lld mmap writes, %lld pwrites (%lld from a faulting buffer, %lld other short ones)\n",
		threads, r.mmap_writes, r.pwrites, r.faulted_pwrites,
		r.short_pwrites);

	if (msync(r.map, size, MS_SYNC) || munmap(r.map, size))
		die("msync/munmap");
	reffd = open(ref, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (reffd < 0 || ftruncate(reffd, size))
		die(ref);
	for (run = 0; run < r.runs; run++) {
		long long off = run * RUN;
		int j;

		if (pread(r.fd, buf, RUN, off) != RUN)
			die("pread");
		for (j = 0; j < RUN; j++) {
			if ((unsigned char)buf[j] == r.expected[run])
				continue;
			if (bad++ < 5)
				printf("corrupt: byte %lld is 0x%02x, expected 0x%02x\n",
				       off + j, (unsigned char)buf[j],
				       r.expected[run]);
		}
		memset(buf, r.expected[run], RUN);
		if (pwrite(reffd, buf, RUN, off) != RUN)
			die("write ref");
	}
	close(reffd);
	if (bad) {
		printf("%lld corrupt bytes\n", bad);
		return 3;
	}
	printf("all %lld bytes as expected\n", size);
	rc = no_delalloc_after_sync(r.fd, size);
	close(r.fd);
	return rc;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "eof"))
		return eof(argv[2]);
	if (argc == 8 && !strcmp(argv[1], "race"))
		return race(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5],
			    argv[6], argv[7]);
	fprintf(stderr,
		"usage: %s eof FILE\n"
		"       %s race FILE THREADS OPS REF KNOB DELAY_MS\n",
		argv[0], argv[0]);
	return 1;
}
