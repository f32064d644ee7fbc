// SPDX-License-Identifier: GPL-2.0
/*
 * bench_memcpy: the physical limit of a buffered write, copying alone.
 *
 * usage: bench_memcpy WRITE_SIZE THREADS MIB
 *
 * Each of THREADS threads copies MIB / THREADS MiB, WRITE_SIZE bytes at a
 * time, from one source buffer of WRITE_SIZE bytes into consecutive places
 * of its own destination of that size: what bench_write's pwrite() calls
 * copy, the same amounts in the same pieces, without the system call, the
 * page cache or the filesystem. The destination is touched first, so that
 * no page fault is timed, and asked for in huge pages (MADV_HUGEPAGE), as
 * the kernel's direct map, through which it writes the page cache, is: an
 * emulated CPU (TCG) pays for every 4 KiB page a copy goes through on a
 * miss of its software TLB. On x86-64 each piece is copied with the
 * instruction the kernel copies user data with (rep movsb, in
 * copy_user_generic()), not with the C library's memcpy(), whose vector
 * loops an emulated CPU (TCG) runs several times slower than the kernel's
 * string instruction. Prints "MB/s N".
 */

#include <pthread.h>
#include <sys/mman.h>
#include <time.h>

#include "progs.h"

struct copier {
	size_t write_size, bytes;
	char *dst;
	pthread_barrier_t *start;
};

static void copy(char *dst, const char *src, size_t n)
{
#ifdef __x86_64__
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
#else
	memcpy(dst, src, n);
	/* Keep the compiler from merging or dropping the copies. */
	__asm__ volatile("" : : "r"(dst) : "memory");
#endif
}

static void *run(void *arg)
{
	struct copier *c = arg;
	char *src = malloc(c->write_size);
	size_t off;

	if (!src)
		die("malloc");
	memset(src, 0x6b, c->write_size);
	pthread_barrier_wait(c->start);
	for (off = 0; off + c->write_size <= c->bytes; off += c->write_size)
		copy(c->dst + off, src, c->write_size);
	free(src);
	return NULL;
}

/* @bytes of anonymous memory, 2 MiB aligned and in huge pages if it can be. */
static char *huge_buffer(size_t bytes)
{
	size_t huge = 2 << 20;
	char *p = mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	p += (huge - (uintptr_t)p % huge) % huge;
	/* Without transparent huge pages the copy goes through 4 KiB pages. */
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct copier c[64];
	pthread_t tid[64];
	pthread_barrier_t start;
	size_t write_size, total, copied = 0;
	int threads, i;
	double t0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s WRITE_SIZE THREADS MIB\n", argv[0]);
		return 2;
	}
	write_size = strtoul(argv[1], NULL, 0);
	threads = atoi(argv[2]);
	total = strtoul(argv[3], NULL, 0) << 20;
	if (!write_size || threads < 1 || threads > 64 || total / threads < write_size)
		return 2;
	pthread_barrier_init(&start, NULL, threads + 1);
	for (i = 0; i < threads; i++) {
		c[i].write_size = write_size;
		c[i].bytes = total / threads / write_size * write_size;
		c[i].dst = huge_buffer(c[i].bytes);
		memset(c[i].dst, 0, c[i].bytes);
		c[i].start = &start;
		copied += c[i].bytes;
	}
	for (i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, run, &c[i]);
	pthread_barrier_wait(&start);
	t0 = now();
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	printf("MB/s %.1f\n", copied / (now() - t0) / 1e6);
	return 0;
}
