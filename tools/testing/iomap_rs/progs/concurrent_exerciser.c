// SPDX-License-Identifier: GPL-2.0
/*
 * concurrent_exerciser: several processes doing random operations on the
 * same few files at once, every read checked against what the operations
 * that could have come before it may have left there.
 *
 * usage: concurrent_exerciser [-c CGROUP] DIR MODEL_DIR PROCS OPS SEED [MAX_SIZE]
 *
 * DIR/d0 and DIR/d1 are made, and NFILES files in them, empty. PROCS worker
 * processes (2 to MAX_PROCS) then do OPS operations in all, in rounds of
 * ROUND_OPS each; any worker may pick any file:
 *
 *   write	pwrite() of random data, 1 byte to MAX_IO, below MAX_SIZE
 *   mwrite	stores through the worker's shared mapping of the file (made
 *		once, so that its page table entries outlive other workers'
 *		writeback, punches and truncations), below the size seen
 *   zero	FALLOC_FL_ZERO_RANGE, with or without KEEP_SIZE
 *   punch	FALLOC_FL_PUNCH_HOLE
 *   truncate	ftruncate(), mostly near the current size
 *   falloc	preallocation, with or without KEEP_SIZE
 *   read	pread(), checked (below)
 *   mread	loads through the mapping, checked the same way
 *   fsync	fsync() or fdatasync()
 *   evict	writeback of a range (sync_file_range(), waiting or not) and
 *		then its clean pages dropped, by POSIX_FADV_DONTNEED or by
 *		reclaim (MADV_PAGEOUT on a mapping): what writeback and
 *		reclaim do behind a write's back in the stale-mapping race
 *   rename	the file moved between d0 and d1 (by one worker per file)
 *   lookup	the file opened by name: it must be the same inode
 *
 * The model. Each operation is logged in shared memory before it starts,
 * with a start and an end stamp from a shared counter taken around the
 * system call. Writes put down a pattern that is a function of the
 * operation's seed and the byte's offset, so each byte read names what may
 * have written it. A byte read by an operation R may hold the value of any
 * operation O on it that started before R ended, unless O is certainly
 * overwritten: some operation D on that byte, complete and whole (not an
 * mmap write cut short by SIGBUS), started after O ended and ended before R
 * started. Bytes no operation of the round touched must hold what they held
 * when it began. This is exact when operations do not overlap in time and
 * allows exactly the interleavings where they do; it assumes only that each
 * operation changes each byte once, at one instant while it runs, which is
 * what the page cache gives (a read concurrent with a write may see part of
 * it, never a byte neither wrote). Zero range, punch and truncate write
 * zeroes (truncate from the new size on: bytes past the end of file read as
 * zeroes once it grows again).
 *
 * At the end of each round, with every worker stopped, the coordinator
 * checks each file whole the same way and its size against the orders the
 * size changes may have taken, that each name leads to its inode and the
 * other location is empty, then takes what it read as the state the next
 * round starts from. Every CHECK_DROPPED rounds it syncs and drops the
 * caches and the files must read back exactly. At the end the files are
 * moved back to DIR/d0 and their expected contents written to
 * MODEL_DIR/f0.., for the caller to compare after a remount.
 *
 * With -c, the processes move into cgroup v2 directory CGROUP once the
 * model's memory is allocated and touched (so charged where they started):
 * a memory limit there makes reclaim take the files' pages as they work.
 *
 * Exit 0 if everything matched, 3 on a mismatch (the round's operations on
 * the file are printed, with their stamps) or a process killed by a
 * signal, 1 on errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progs.h"

#define NFILES 4
#define MAX_PROCS 16
#define ROUND_OPS 32
#define MAX_IO (128 << 10)
#define CHECK_DROPPED 16

enum kind {
	K_WRITE, K_MWRITE, K_ZERO, K_PUNCH, K_TRUNCATE, K_FALLOC, K_READ,
	K_MREAD, K_FSYNC, K_EVICT, K_RENAME, K_LOOKUP, NKINDS
};

static const char *const kind_names[NKINDS] = {
	"write", "mwrite", "zero", "punch", "truncate", "falloc", "read",
	"mread", "fsync", "evict", "rename", "lookup",
};

/* One operation of a round, as logged by the worker that does it. */
struct entry {
	int file, kind;
	/* A content change that may not have reached every byte. */
	int partial;
	/* Bytes [off, off + len) changed: to seed's pattern, or zero if 0. */
	long long off, len;
	uint64_t seed;
	/* Size change: set to `size` (truncate), or grown to it if `grows`. */
	long long size;
	int grows;
	/* Stamps around the system call; 0 until taken. */
	_Atomic uint64_t start, end;
};

struct worker_log {
	/* Entries [0, n) have their fields set (their stamps may not be). */
	_Atomic int n;
	struct entry e[ROUND_OPS];
};

struct shared {
	_Atomic uint64_t clock;
	/* Stop: something failed; a mismatch was found. */
	_Atomic int failed, mismatched;
	_Atomic unsigned int bar_count, bar_gen;
	/* Where file i is: DIR/d<loc[i]>/f<i>; changed by worker i % procs. */
	_Atomic int loc[NFILES];
	_Atomic long long counts[NKINDS];
	_Atomic long long reads_overlapping;
	struct worker_log log[MAX_PROCS];
	/* Sizes at the start of the round. */
	long long size[NFILES];
};

static struct shared *sh;
/* Contents at the start of the round, zero past the size (shared). */
static unsigned char *base[NFILES];
static int fds[NFILES];
/* A worker's shared mappings of the files, max_size long. */
static unsigned char *maps[NFILES];
static ino_t inos[NFILES];
static long long max_size = 1 << 20;
static int procs;
static const char *dir;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 32);
}

/* The byte an operation with `seed` writes at offset p. */
static inline unsigned char pattern(uint64_t seed, long long p)
{
	return mix(seed ^ ((uint64_t)(p >> 3) * 0x9e3779b97f4a7c15ULL)) >> (8 * (p & 7));
}

static inline unsigned char value(const struct entry *e, long long p)
{
	return e->seed ? pattern(e->seed, p) : 0;
}

static uint64_t stamp(void)
{
	return atomic_fetch_add(&sh->clock, 1);
}

static int changes_content(int kind)
{
	return kind <= K_TRUNCATE;
}

static void path_of(char *buf, size_t len, int file, int loc)
{
	snprintf(buf, len, "%s/d%d/f%d", dir, loc, file);
}

static void print_round(int file)
{
	int p, j;

	printf("the round's operations on f%d (stamps start-end, 0 = not taken):\n", file);
	for (p = 0; p < procs; p++) {
		int n = atomic_load(&sh->log[p].n);

		for (j = 0; j < n; j++) {
			struct entry *e = &sh->log[p].e[j];

			if (e->file != file)
				continue;
			printf(
				"  worker %d: %-8s [%lld, %lld) seed %#llx size %lld%s%s %llu-%llu\n",
				p, kind_names[e->kind], e->off, e->off + e->len,
				(unsigned long long)e->seed, e->size, e->grows ? " grows" : "",
				e->partial ? " partial" : "",
				(unsigned long long)atomic_load(&e->start),
				(unsigned long long)atomic_load(&e->end));
		}
	}
}

static void mismatch(int file, const char *fmt, long long a, long long b)
{
	printf("MISMATCH on f%d: ", file);
	printf(fmt, a, b);
	printf("\n");
	print_round(file);
	fflush(stdout);
	atomic_store(&sh->mismatched, 1);
	atomic_store(&sh->failed, 1);
	exit(3);
}

/* A logged operation as one check sees it: stamps read once. */
struct seen {
	const struct entry *e;
	uint64_t start, end;
	long long from, to;
	/* Done, and certainly changed every byte of its range. */
	int whole;
};

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/*
 * Checks buf, bytes [off, off + n) of file f read by an operation whose
 * stamps are rs and re, against the round's log (see the model above).
 * Returns whether some operation that may have changed them was running.
 */
static int check_read(int f, long long off, long long n, const unsigned char *buf,
		      uint64_t rs, uint64_t re)
{
	static struct seen seen[MAX_PROCS * ROUND_OPS];
	static long long cuts[2 * MAX_PROCS * ROUND_OPS + 2];
	int ns = 0, nc = 0, p, j, k, overlapping = 0;

	for (p = 0; p < procs; p++) {
		int cnt = atomic_load(&sh->log[p].n);

		for (j = 0; j < cnt; j++) {
			const struct entry *e = &sh->log[p].e[j];
			struct seen *s = &seen[ns];

			if (e->file != f || !changes_content(e->kind))
				continue;
			s->e = e;
			s->start = atomic_load(&e->start);
			s->end = atomic_load(&e->end);
			if (s->start && s->start > re)
				continue;
			s->from = e->off > off ? e->off : off;
			s->to = e->off + e->len < off + n ? e->off + e->len : off + n;
			if (s->from >= s->to)
				continue;
			if (!s->end || s->end > rs)
				overlapping = 1;
			cuts[nc++] = s->from;
			cuts[nc++] = s->to;
			ns++;
		}
	}
	/*
	 * An mmap write is whole if not cut short and no truncate ran with it
	 * (its stores past a new end of file are not the file's). A truncate
	 * that could matter changed some byte here, so it is among the seen.
	 */
	for (j = 0; j < ns; j++) {
		struct seen *s = &seen[j];

		s->whole = s->end && !s->e->partial;
		for (k = 0; s->whole && s->e->kind == K_MWRITE && k < ns; k++)
			if (seen[k].e->kind == K_TRUNCATE &&
			    (!seen[k].start || seen[k].start < s->end) &&
			    (!seen[k].end || seen[k].end > s->start))
				s->whole = 0;
	}
	cuts[nc++] = off;
	cuts[nc++] = off + n;
	qsort(cuts, nc, sizeof(cuts[0]), cmp_ll);

	for (k = 0; k + 1 < nc; k++) {
		const struct seen *cand[MAX_PROCS * ROUND_OPS];
		long long a = cuts[k], b = cuts[k + 1], q;
		int nd = 0, ncand = 0, base_ok = 1;
		uint64_t last_done = 0;

		if (a == b)
			continue;
		/*
		 * The latest start among operations certainly done, and whole,
		 * before the read started: anything on these bytes that ended
		 * before that start was overwritten, and so was the old state.
		 */
		for (j = 0; j < ns; j++) {
			const struct seen *s = &seen[j];

			if (s->from > a || s->to < b)
				continue;
			nd++;
			if (s->whole && s->end < rs) {
				base_ok = 0;
				if (s->start > last_done)
					last_done = s->start;
			}
		}
		if (!nd) {
			for (q = a; q < b; q++)
				if (buf[q - off] != base[f][q])
					mismatch(f,
						 "byte %lld is %#llx; nothing wrote it this round",
						 q, buf[q - off]);
			continue;
		}
		for (j = 0; j < ns; j++) {
			const struct seen *s = &seen[j];

			if (s->from > a || s->to < b)
				continue;
			if (s->end && s->end < last_done)
				continue;
			cand[ncand++] = s;
		}
		for (q = a; q < b; q++) {
			unsigned char v = buf[q - off];
			int ok = base_ok && v == base[f][q];

			for (j = 0; !ok && j < ncand; j++)
				ok = value(cand[j]->e, q) == v;
			if (!ok) {
				printf("read stamps %llu-%llu; the byte may be: %s",
				       (unsigned long long)rs, (unsigned long long)re,
				       base_ok ? "the old" : "");
				for (j = 0; j < ncand; j++)
					printf(" %#x (seed %#llx)", value(cand[j]->e, q),
					       (unsigned long long)cand[j]->e->seed);
				printf("\n");
				mismatch(f,
					 "byte %lld is %#llx, which no operation may have left there",
					 q, v);
			}
		}
	}
	return overlapping;
}

/*
 * Whether grow x, to `size`, may have been the last size change of file f:
 * nothing certainly after it changed the size to more, or truncated.
 */
static int last_grow(int f, const struct entry *x, long long size)
{
	const struct entry *y;
	int p, j;

	for (p = 0; p < procs; p++)
		for (j = 0; j < sh->log[p].n; j++) {
			y = &sh->log[p].e[j];
			if (y->file != f || y->start < x->end)
				continue;
			if (y->kind == K_TRUNCATE || (y->grows && y->size > size))
				return 0;
		}
	return 1;
}

/*
 * The sizes the round's size changes may have left file f with, every
 * operation done: with no truncate, the largest end; otherwise some
 * truncate T was last, and then the size is T's or the end of an operation
 * that may have come after it, at least every end certainly after it.
 */
static int size_possible(int f, long long size)
{
	const struct entry *t, *x;
	long long grown = sh->size[f];
	int p, j, q, i, any_truncate = 0;

	for (p = 0; p < procs; p++)
		for (j = 0; j < sh->log[p].n; j++) {
			t = &sh->log[p].e[j];
			if (t->file != f)
				continue;
			if (t->kind == K_TRUNCATE)
				any_truncate = 1;
			else if (t->grows && t->size > grown)
				grown = t->size;
		}
	if (!any_truncate)
		return size == grown;
	for (p = 0; p < procs; p++)
		for (j = 0; j < sh->log[p].n; j++) {
			long long lo, hi;
			int member, last = 1;

			t = &sh->log[p].e[j];
			if (t->file != f || t->kind != K_TRUNCATE)
				continue;
			lo = t->size;
			hi = t->size;
			member = size == t->size;
			for (q = 0; q < procs; q++)
				for (i = 0; i < sh->log[q].n; i++) {
					x = &sh->log[q].e[i];
					if (x->file != f)
						continue;
					if (x->kind == K_TRUNCATE && x->start > t->end)
						last = 0;
					if (!x->grows)
						continue;
					if (x->start > t->end && x->size > lo)
						lo = x->size;
					if (x->end > t->start && x->size > hi)
						hi = x->size;
					if (x->end > t->start && x->size == size &&
					    last_grow(f, x, size))
						member = 1;
				}
			if (last && member && lo <= size && size <= hi)
				return 1;
		}
	return 0;
}

static uint64_t rng_state;

static uint64_t next(void)
{
	return xorshift64star(&rng_state);
}

static long long below(long long n)
{
	return n > 0 ? (long long)(next() % (uint64_t)n) : 0;
}

static long long io_len(void)
{
	switch (below(4)) {
	case 0:
		return 1 + below(64);
	case 1:
		return 1 + below(8192);
	case 2:
		return 1 + below(32768);
	default:
		return 1 + below(MAX_IO);
	}
}

static long long fsize(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		die("fstat");
	return st.st_size;
}

static sigjmp_buf sigbus_jmp;
static sig_atomic_t in_mwrite;
/* The bytes copy_mapped() copied: static, so that siglongjmp() keeps it. */
static long long copied;

static void on_sigbus(int sig)
{
	if (!READ_ONCE(in_mwrite)) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	siglongjmp(sigbus_jmp, 1);
}

/*
 * Copies len bytes between the mapping and buf (to the mapping if `store`),
 * a byte at a time so that a SIGBUS (the page is past the end of file now)
 * leaves the count of bytes done; returns it.
 */
static long long copy_mapped(unsigned char *map, unsigned char *buf, long long len, int store)
{
	long long i;

	WRITE_ONCE(copied, 0);
	if (!sigsetjmp(sigbus_jmp, 1)) {
		WRITE_ONCE(in_mwrite, 1);
		for (i = 0; i < len; i++) {
			if (store)
				WRITE_ONCE(map[i], buf[i]);
			else
				buf[i] = READ_ONCE(map[i]);
			WRITE_ONCE(copied, i + 1);
		}
	}
	WRITE_ONCE(in_mwrite, 0);
	return READ_ONCE(copied);
}

static void evict(int fd, long long off, long long len)
{
	static const unsigned int waits[] = {
		SYNC_FILE_RANGE_WRITE,
		SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER,
	};
	long long size;

	if (sync_file_range(fd, off, len, waits[below(2)]))
		die("sync_file_range");
	size = fsize(fd);
	if (below(2) || off >= size) {
		errno = posix_fadvise(fd, off, len, POSIX_FADV_DONTNEED);
		if (errno)
			die("posix_fadvise");
		return;
	}
	/* Reclaim proper: the pages of a mapping, clean ones freed. */
	{
		long long page = sysconf(_SC_PAGESIZE), from = off / page * page;
		long long to = off + len < size ? off + len : size;
		/* Populated: MADV_PAGEOUT passes over unmapped pages. */
		void *map = mmap(NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);

		if (map == MAP_FAILED)
			die("mmap");
		/* EINVAL on kernels without MADV_PAGEOUT: then nothing. */
		if (madvise((char *)map + from, to - from, MADV_PAGEOUT) && errno != EINVAL)
			die("madvise");
		munmap(map, size);
	}
}

/* Whether a truncate of file f may have started before stamp `before`. */
static int truncated_before(int f, uint64_t before)
{
	int p, j;

	for (p = 0; p < procs; p++)
		for (j = 0; j < atomic_load(&sh->log[p].n); j++) {
			struct entry *t = &sh->log[p].e[j];
			uint64_t ts = atomic_load(&t->start);

			if (t->file == f && t->kind == K_TRUNCATE && (!ts || ts < before))
				return 1;
		}
	return 0;
}

/* One operation by worker w; its log entry is e. */
static void do_op(int w, uint64_t op_seed, struct entry *e, unsigned char *buf)
{
	int f = below(NFILES), r = below(100), fd;
	long long size, off, len;
	int kind, counted = 1;

	kind = r < 20 ? K_WRITE : r < 32 ? K_MWRITE : r < 38 ? K_ZERO : r < 45 ? K_PUNCH :
	       r < 51 ? K_TRUNCATE : r < 58 ? K_FALLOC : r < 70 ? K_READ : r < 74 ? K_MREAD :
	       r < 80 ? K_FSYNC : r < 88 ? K_EVICT : r < 94 ? K_RENAME : K_LOOKUP;
	/* File f is renamed by worker f % procs only: one of w's, if any. */
	if (kind == K_RENAME && w < NFILES)
		f = w + procs * below((NFILES - 1 - w) / procs + 1);
	else if (kind == K_RENAME)
		kind = K_LOOKUP;
	fd = fds[f];
	memset(e, 0, sizeof(*e));
	e->file = f;
	e->kind = kind;
	/* The size now: a guess for where to aim, not part of the model. */
	size = fsize(fd);

	switch (kind) {
	case K_WRITE: {
		long long i, done = 0;

		len = io_len();
		off = below(size + MAX_IO < max_size ? size + MAX_IO : max_size);
		if (off + len > max_size)
			len = max_size - off;
		e->off = off;
		e->len = len;
		e->seed = op_seed;
		e->size = off + len;
		e->grows = 1;
		for (i = 0; i < len; i++)
			buf[i] = pattern(op_seed, off + i);
		atomic_fetch_add(&sh->log[w].n, 1);
		atomic_store(&e->start, stamp());
		while (done < len) {
			ssize_t n = pwrite(fd, buf + done, len - done, off + done);

			if (n <= 0)
				die("pwrite");
			done += n;
		}
		atomic_store(&e->end, stamp());
		break;
	}
	case K_MWRITE:
	case K_MREAD: {
		long long i, done;
		uint64_t ms, me;

		/*
		 * The size is read after the start stamp: stores past the end of
		 * file (into the last page) are not the file's, so the size they
		 * are aimed below must not be older than the operation.
		 */
		ms = stamp();
		size = fsize(fd);
		if (size == 0) {
			counted = 0;
			break;
		}
		off = below(size);
		len = 1 + below(size - off < 16384 ? size - off : 16384);
		e->off = off;
		e->len = kind == K_MWRITE ? len : 0;
		e->seed = kind == K_MWRITE ? op_seed : 0;
		for (i = 0; kind == K_MWRITE && i < len; i++)
			buf[i] = pattern(op_seed, off + i);
		/* Partial until known whole: the stores may be cut short. */
		e->partial = 1;
		atomic_store(&e->start, ms);
		atomic_fetch_add(&sh->log[w].n, 1);
		done = copy_mapped(maps[f] + off, buf, len, kind == K_MWRITE);
		e->partial = done < len;
		me = stamp();
		atomic_store(&e->end, me);
		/* SIGBUS below the size seen: only a truncate may cause it. */
		if (done < len && !truncated_before(f, me))
			mismatch(f,
				 "SIGBUS at byte %lld, below the size %lld, and nothing truncated",
				 off + done, size);
		if (kind == K_MREAD && done > 0 && check_read(f, off, done, buf, ms, me))
			atomic_fetch_add(&sh->reads_overlapping, 1);
		break;
	}
	case K_ZERO:
	case K_PUNCH:
	case K_FALLOC: {
		int keep = kind == K_PUNCH || below(2);
		int mode = kind == K_ZERO ? FALLOC_FL_ZERO_RANGE :
			   kind == K_PUNCH ? FALLOC_FL_PUNCH_HOLE : 0;

		len = io_len();
		off = below(size + 8192 < max_size - len ? size + 8192 : max_size - len);
		e->off = off;
		e->len = kind == K_FALLOC ? 0 : len;
		e->size = off + len;
		e->grows = !keep;
		atomic_fetch_add(&sh->log[w].n, 1);
		atomic_store(&e->start, stamp());
		if (fallocate(fd, mode | (keep ? FALLOC_FL_KEEP_SIZE : 0), off, len))
			die(kind_names[kind]);
		atomic_store(&e->end, stamp());
		break;
	}
	case K_TRUNCATE:
		len = below(3) ? size + below(65536) - 32768 : below(max_size);
		len = len < 0 ? 0 : len > max_size ? max_size : len;
		e->off = len;
		e->len = max_size - len;
		e->size = len;
		atomic_fetch_add(&sh->log[w].n, 1);
		atomic_store(&e->start, stamp());
		if (ftruncate(fd, len))
			die("ftruncate");
		atomic_store(&e->end, stamp());
		break;
	case K_READ: {
		ssize_t n;
		uint64_t rs, re;

		len = io_len();
		off = below(size + 4096);
		e->off = off;
		e->len = len;
		atomic_fetch_add(&sh->log[w].n, 1);
		rs = stamp();
		atomic_store(&e->start, rs);
		n = pread(fd, buf, len, off);
		if (n < 0)
			die("pread");
		re = stamp();
		atomic_store(&e->end, re);
		/* Only a truncate shrinks a file: short of the size before it? */
		if (off + n < off + len && off + n < sh->size[f] && !truncated_before(f, re))
			mismatch(f,
				 "a read at %lld returned %lld bytes, short of the size, and nothing truncated",
				 off, n);
		if (n > 0 && check_read(f, off, n, buf, rs, re))
			atomic_fetch_add(&sh->reads_overlapping, 1);
		break;
	}
	case K_FSYNC:
	case K_EVICT:
		len = io_len() * 4;
		off = below(size + 4096);
		e->off = off;
		e->len = len;
		atomic_fetch_add(&sh->log[w].n, 1);
		atomic_store(&e->start, stamp());
		if (kind == K_EVICT)
			evict(fd, off, len);
		else if (below(2) ? fsync(fd) : fdatasync(fd))
			die("fsync");
		atomic_store(&e->end, stamp());
		break;
	case K_RENAME: {
		char from[4096], to[4096];
		int loc = atomic_load(&sh->loc[f]);

		path_of(from, sizeof(from), f, loc);
		path_of(to, sizeof(to), f, !loc);
		atomic_fetch_add(&sh->log[w].n, 1);
		atomic_store(&e->start, stamp());
		if (rename(from, to))
			die("rename");
		atomic_store(&sh->loc[f], !loc);
		atomic_store(&e->end, stamp());
		break;
	}
	case K_LOOKUP: {
		char path[4096];
		struct stat st;
		int tries, lfd = -1;
		uint64_t ls, le;

		atomic_fetch_add(&sh->log[w].n, 1);
		ls = stamp();
		atomic_store(&e->start, ls);
		for (tries = 0; lfd < 0 && tries < 4; tries++) {
			path_of(path, sizeof(path), f, tries & 1);
			lfd = open(path, O_RDONLY);
			if (lfd < 0 && errno != ENOENT)
				die(path);
		}
		le = stamp();
		atomic_store(&e->end, le);
		if (lfd < 0) {
			/* Both names missing: only if a rename ran meanwhile. */
			int p, j, renames = 0;

			for (p = 0; p < procs; p++)
				for (j = 0; j < atomic_load(&sh->log[p].n); j++) {
					struct entry *o = &sh->log[p].e[j];
					uint64_t oe = atomic_load(&o->end);

					if (o->file == f && o->kind == K_RENAME &&
					    atomic_load(&o->start) < le && (!oe || oe > ls))
						renames++;
				}
			/* Four misses in turn take three renames between. */
			if (renames < 3)
				mismatch(f, "neither d0/f%lld nor d1/f%lld exists", f, f);
			break;
		}
		if (fstat(lfd, &st))
			die("fstat");
		close(lfd);
		if (st.st_ino != inos[f])
			mismatch(f, "its name leads to inode %lld, not %lld", st.st_ino, inos[f]);
		break;
	}
	}
	if (counted)
		atomic_fetch_add(&sh->counts[e->kind], 1);
}

static void barrier_wait(int parties)
{
	unsigned int gen = atomic_load(&sh->bar_gen);

	if (atomic_fetch_add(&sh->bar_count, 1) == (unsigned int)parties - 1) {
		atomic_store(&sh->bar_count, 0);
		atomic_fetch_add(&sh->bar_gen, 1);
		return;
	}
	while (atomic_load(&sh->bar_gen) == gen) {
		if (atomic_load(&sh->failed))
			exit(2);
		usleep(100);
	}
}

static int worker_status;
static int workers_left;

/* A worker is gone: fine at the very end; otherwise stop them all. */
static void reaped(int status, int finished)
{
	workers_left--;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && finished)
		return;
	/* A mismatch or a signal says the kernel went wrong; else an error. */
	if (!WIFEXITED(status) || atomic_load(&sh->mismatched))
		worker_status = 3;
	else if (!worker_status)
		worker_status = 1;
	atomic_store(&sh->failed, 1);
}

/*
 * The coordinator's wait, which also notices a worker that died: a worker
 * exits 0 only after the last round, so before it any exit fails the run.
 */
static void barrier_wait_coordinator(int parties, int last)
{
	unsigned int gen = atomic_load(&sh->bar_gen);
	int status;

	if (atomic_fetch_add(&sh->bar_count, 1) == (unsigned int)parties - 1) {
		atomic_store(&sh->bar_count, 0);
		atomic_fetch_add(&sh->bar_gen, 1);
		return;
	}
	while (atomic_load(&sh->bar_gen) == gen) {
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid > 0)
			reaped(status, last);
		if (atomic_load(&sh->failed)) {
			while (workers_left && wait(&status) > 0)
				reaped(status, 0);
			printf("a worker failed (see above)\n");
			exit(worker_status);
		}
		usleep(100);
	}
}

static void worker(int w, uint64_t seed, long long ops, pid_t coordinator)
{
	unsigned char *buf = malloc(MAX_IO);
	long long done = 0;
	int f;

	/* Gone with the coordinator, whatever ended it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != coordinator)
		exit(1);
	if (!buf)
		die("malloc");
	for (f = 0; f < NFILES; f++) {
		maps[f] = mmap(NULL, max_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[f], 0);
		if (maps[f] == MAP_FAILED)
			die("mmap");
	}
	rng_state = mix(seed * 1000 + w + 1) | 1;
	while (done < ops) {
		int i, n = ops - done < ROUND_OPS ? ops - done : ROUND_OPS;

		/* An operation logs itself in the next free entry, or not at all. */
		for (i = 0; i < n; i++)
			do_op(w, mix(seed ^ ((uint64_t)w << 56) ^ (uint64_t)(done + i)) | 1,
			      &sh->log[w].e[atomic_load(&sh->log[w].n)], buf);
		done += n;
		/* Round done; the coordinator checks; then the next. */
		barrier_wait(procs + 1);
		barrier_wait(procs + 1);
	}
	exit(0);
}

/* With nothing else running, one read returns the whole file. */
static void read_whole(int f, unsigned char *buf, long long size)
{
	ssize_t n = pread(fds[f], buf, size, 0);

	if (n < 0)
		die("pread");
	if (n != size)
		mismatch(f, "a read of the whole file returned %lld bytes of %lld", n, size);
}

/* Everything stopped: each file's size, content and names; the new state. */
static void check_round(unsigned char *buf, long long round, int dropped)
{
	int f;

	for (f = 0; f < NFILES; f++) {
		char path[4096];
		struct stat st;
		long long size = fsize(fds[f]);
		int loc = atomic_load(&sh->loc[f]);

		if (size > max_size)
			mismatch(f, "size %lld is past the largest any operation asked for (%lld)",
				 size, max_size);
		if (!size_possible(f, size))
			mismatch(f,
				 "size %lld after round %lld: no order of the round's operations gives it",
				 size, round);
		read_whole(f, buf, size);
		if (dropped) {
			if (size != sh->size[f] || memcmp(buf, base[f], size))
				mismatch(f, "changed by dropping the caches (size %lld, was %lld)",
					 size, sh->size[f]);
		} else {
			uint64_t rs = stamp();

			check_read(f, 0, size, buf, rs, stamp());
		}
		memcpy(base[f], buf, size);
		memset(base[f] + size, 0, max_size - size);
		sh->size[f] = size;

		path_of(path, sizeof(path), f, loc);
		if (stat(path, &st))
			mismatch(f, "its name d%lld/f%lld is missing", loc, f);
		if (st.st_ino != inos[f])
			mismatch(f, "its name leads to inode %lld, not %lld", st.st_ino, inos[f]);
		path_of(path, sizeof(path), f, !loc);
		if (!stat(path, &st) || errno != ENOENT)
			mismatch(f, "d%lld/f%lld still exists after its rename", !loc, f);
	}
}

static void drop_caches(void)
{
	int fd;

	sync();
	/* Not root (the model tried out on the host): only the sync. */
	if (geteuid())
		return;
	fd = open(DROP_CACHES, O_WRONLY);
	if (fd < 0 || write(fd, "3", 1) != 1)
		die(DROP_CACHES);
	close(fd);
}

int main(int argc, char **argv)
{
	long long ops, per, round = 0, rounds, i;
	unsigned char *buf;
	char path[4096];
	const char *cgroup = NULL;
	pid_t coordinator;
	uint64_t seed;
	int f, w, status;

	if (argc > 2 && !strcmp(argv[1], "-c")) {
		cgroup = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 6 || argc > 7) {
		fprintf(stderr, "usage: %s [-c CGROUP] DIR MODEL_DIR PROCS OPS SEED [MAX_SIZE]\n",
			argv[0]);
		return 1;
	}
	dir = argv[1];
	procs = atoi(argv[3]);
	ops = atoll(argv[4]);
	seed = strtoull(argv[5], NULL, 0);
	if (argc == 7)
		max_size = atoll(argv[6]);
	if (procs < 2 || procs > MAX_PROCS || ops < 1 || max_size < 2 * MAX_IO) {
		fprintf(stderr, "PROCS must be 2 to %d, OPS at least 1, MAX_SIZE at least %d\n",
			MAX_PROCS, 2 * MAX_IO);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGBUS, on_sigbus);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	atomic_store(&sh->clock, 1);
	buf = malloc(max_size);
	if (!buf)
		die("malloc");
	for (w = 0; w < 2; w++) {
		snprintf(path, sizeof(path), "%s/d%d", dir, w);
		if (mkdir(path, 0755) && errno != EEXIST)
			die(path);
	}
	for (f = 0; f < NFILES; f++) {
		struct stat st;

		base[f] = mmap(NULL, max_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			       -1, 0);
		if (base[f] == MAP_FAILED)
			die("mmap");
		path_of(path, sizeof(path), f, 1);
		if (unlink(path) && errno != ENOENT)
			die(path);
		path_of(path, sizeof(path), f, 0);
		fds[f] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fds[f] < 0 || fstat(fds[f], &st))
			die(path);
		inos[f] = st.st_ino;
	}

	/* The same number each, so that all take part in every round. */
	per = (ops + procs - 1) / procs;
	ops = per * procs;
	rounds = (per + ROUND_OPS - 1) / ROUND_OPS;
	/*
	 * The model's memory is touched (mmap gave zeroes) where it is charged
	 * now; then everything else, page cache included, in the cgroup.
	 */
	for (f = 0; f < NFILES; f++)
		memset(base[f], 0, max_size);
	memset(buf, 0, max_size);
	if (cgroup) {
		int fd;

		snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1 || close(fd))
			die(path);
	}
	coordinator = getpid();
	workers_left = procs;
	for (w = 0; w < procs; w++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
			worker(w, seed, per, coordinator);
	}
	for (round = 0; round < rounds; round++) {
		barrier_wait_coordinator(procs + 1, 0);
		check_round(buf, round, 0);
		if (round % CHECK_DROPPED == CHECK_DROPPED - 1) {
			drop_caches();
			check_round(buf, round, 1);
		}
		for (w = 0; w < procs; w++)
			atomic_store(&sh->log[w].n, 0);
		barrier_wait_coordinator(procs + 1, round == rounds - 1);
	}
	while (workers_left && wait(&status) > 0)
		reaped(status, 1);
	if (worker_status) {
		printf("a worker failed (see above)\n");
		return worker_status;
	}
	drop_caches();
	check_round(buf, round, 1);

	/* Everything back in d0, and the expected contents for the caller. */
	for (f = 0; f < NFILES; f++) {
		char to[4096];
		int mfd;

		if (atomic_load(&sh->loc[f])) {
			path_of(path, sizeof(path), f, 1);
			path_of(to, sizeof(to), f, 0);
			if (rename(path, to))
				die("rename");
		}
		snprintf(path, sizeof(path), "%s/f%d", argv[2], f);
		mfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (mfd < 0 || write(mfd, base[f], sh->size[f]) != sh->size[f] || close(mfd))
			die(path);
	}
	printf("%lld operations by %d processes on %d files in %lld rounds (seed %llu):", ops,
	       procs, NFILES, rounds, (unsigned long long)seed);
	for (i = 0; i < NKINDS; i++)
		printf(" %s %lld", kind_names[i], atomic_load(&sh->counts[i]));
	printf("; %lld reads overlapped a change; everything matched\n",
	       atomic_load(&sh->reads_overlapping));
	return 0;
}
