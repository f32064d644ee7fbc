// SPDX-License-Identifier: GPL-2.0
/*
 * race: the seeds' races forced at one exact interleaving, every iteration,
 * with iomap_rs's pause points (fs/iomap_rs/iomap_rs_pause.c) instead of
 * sleeps.
 *
 * usage: race stale-map FILE large|small ITERATIONS
 *        race punch-mmap FILE ITERATIONS
 *        race mkwrite-falloc FILE ITERATIONS
 *        race fsync-mmap FILE DEVICE IMAGE ITERATIONS
 *
 * stale-map (d7b64041, xfs/559): FILE is preallocated unwritten over
 *   [0, 512 KiB) and its last page written with A and left dirty; for
 *   "small" every other page is read first, so that the write below walks
 *   order-0 folios ("large" lets it create large folios). A thread writes B
 *   over [0, 512 KiB - 3 KiB) in one pwrite(): one cached mapping of the
 *   unwritten extent. It parks at write_validate, holding its first folio
 *   locked; meanwhile the last page is written back (its extent converted)
 *   and evicted. Then the write resumes. Trusting its mapping, it re-creates
 *   the last page as an unwritten block and zeroes the 3 KiB it does not
 *   write, destroying A on disk; revalidating, it finds the mapping stale,
 *   remaps and reads the block.
 *
 * punch-mmap (the delalloc release, generic/346): a 1 MiB sparse FILE is
 *   cached as order-0 zero folios and mapped shared. A thread writes 512 KiB
 *   from offset 0 from a buffer whose page at 256 KiB is unmapped: it
 *   reserves delalloc over [0, 512 KiB) and will end short at 256 KiB. It
 *   parks at write_validate on its first folio; meanwhile 1000 bytes at
 *   384 KiB + 100 are written through the mapping (the fault finds the
 *   write's delalloc and dirties the page). The write resumes and ends
 *   short; its release must keep the dirty page and its reservation. A
 *   release that drops the cache and punches everything loses the data.
 *   After fsync, FIEMAP must show no delalloc left (a leaked reservation).
 *
 * mkwrite-falloc (the ext4 thread): a 64 KiB sparse FILE whose first page is
 *   cached is mapped shared; a thread writes to that page through the
 *   mapping, and its fault parks at fs_mkwrite_map, after the filesystem
 *   looked the page up (a hole) and before it inserts the delayed
 *   allocation. Meanwhile fallocate() preallocates [0, 64 KiB). Then the
 *   fault resumes. Without a recheck, its delalloc replaces the unwritten
 *   extent (leaking its block); with it, the fault uses the extent. After
 *   fsync the page must be a written extent, the rest unwritten, no delalloc
 *   left, and the data on disk.
 *
 * fsync-mmap (the btrfs fix 885f46d87f, in xtfs's terms): FILE (on xtfs,
 *   on a linear device-mapper device over DEVICE, so that reading DEVICE
 *   with O_DIRECT does not write back xtfs's cached metadata first) gets 12
 *   one-block extents separated by holes, more than the 7 records its
 *   inode holds: the rest are in a chain block; its first two blocks are
 *   one unwritten extent. It is fsynced, then D is written into a new last
 *   block (the inode is dirty again). A thread fsyncs: it stores the extent
 *   records in the journal's running transaction and parks at
 *   fs_fsync_flush, before the commit. Meanwhile the first page is written
 *   through a shared mapping and its writeback started (sync_file_range):
 *   the completion converts block 0, which splits the unwritten extent and
 *   shifts the records in the chain by one, stores the records again, and
 *   parks at fs_store_extents with the chain written and the inode not. The fsync
 *   resumes and commits. Right after it returns, the filesystem is read
 *   from DEVICE with O_DIRECT into IMAGE.N (N counts the iterations of a
 *   batch) and checked with fsck.xtfs -n (which replays the log), once per
 *   batch: the new chain under the old inode is a list of extents the file
 *   never had (one twice, one lost, blocks nothing owns). With the fix the
 *   completion's records are one journal handle: the commit finds it open,
 *   parks at fs_commit_wait (where the test sees it wait, and lets the
 *   completion go) and commits the records whole. Without it (the knob
 *   splits the handle) the commit finds no handle open and returns.
 *   Either way D must be on the device where FIEMAP says the page is.
 *
 * Each mode prints one line per iteration that went wrong and a summary:
 *   "MODE: N iterations, pause reached R, corrupt C"
 * and exits 0 (the caller judges the counts), 1 on errors. An iteration whose
 * task never reached the pause point (after the point's timeout) ends the
 * run: R then tells how far it got.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progs.h"

extern char **environ;

#define PAGE	4096
#define KIB	1024LL
#define TIMEOUT_MS 10000

enum outcome { OK, CORRUPT, MISSED };

struct writer {
	pthread_t thread;
	int fd;
	const char *buf;
	size_t len;
	off_t off;
	ssize_t ret;
	int err;
};

static void *writer_run(void *arg)
{
	struct writer *w = arg;

	w->ret = pwrite(w->fd, w->buf, w->len, w->off);
	w->err = errno;
	return NULL;
}

static void writer_start(struct writer *w, int fd, const char *buf,
			 size_t len, off_t off)
{
	*w = (struct writer){ .fd = fd, .buf = buf, .len = len, .off = off };
	errno = pthread_create(&w->thread, NULL, writer_run, w);
	if (errno)
		die("pthread_create");
}

static void writer_join(struct writer *w)
{
	errno = pthread_join(w->thread, NULL);
	if (errno)
		die("pthread_join");
}

/* Whether the page at `off` of `fd` is in the page cache. */
static int cached(int fd, off_t off)
{
	unsigned char vec;
	void *map = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, off);
	int ret;

	if (map == MAP_FAILED)
		die("mmap for mincore");
	if (mincore(map, PAGE, &vec))
		die("mincore");
	ret = vec & 1;
	munmap(map, PAGE);
	return ret;
}

/*
 * Checks [off, off + len) of fd == want; prints the first run of wrong bytes
 * (where it starts and ends, and what it holds), saying `when` it was read,
 * and returns 1 if there is one.
 */
static int check(int fd, off_t off, size_t len, int want, int iteration,
		 const char *when)
{
	static char buf[1024 * KIB];
	size_t i, j;

	if (len > sizeof(buf) || pread(fd, buf, len, off) != (ssize_t)len)
		die("pread");
	for (i = 0; i < len && buf[i] == want; i++)
		;
	if (i == len)
		return 0;
	for (j = i; j < len && buf[j] != want; j++)
		;
	printf("iteration %d, %s: bytes [%lld, %lld) are 0x%02x..., expected 0x%02x\n",
	       iteration, when, (long long)off + i, (long long)off + j,
	       (unsigned char)buf[i], want);
	return 1;
}

/*
 * The extents of fd within [0, end): counts delalloc and written ones and
 * the bytes of unwritten ones.
 */
struct extents {
	int delalloc, written, unwritten;
	long long written_bytes;
	/* Where the first written and unwritten extents are on the device. */
	unsigned long long written_at, unwritten_at;
};

static struct extents fiemap_extents(int fd, long long end)
{
	enum { BATCH = 64 };
	struct extents x = { 0 };
	struct fiemap *fm;
	unsigned int i;

	fm = calloc(1, sizeof(*fm) + BATCH * sizeof(struct fiemap_extent));
	if (!fm)
		die("calloc");
	fm->fm_start = 0;
	fm->fm_length = end;
	fm->fm_extent_count = BATCH;
	if (ioctl(fd, FS_IOC_FIEMAP, fm))
		die("FS_IOC_FIEMAP");
	for (i = 0; i < fm->fm_mapped_extents; i++) {
		struct fiemap_extent *e = &fm->fm_extents[i];

		if (e->fe_flags & FIEMAP_EXTENT_DELALLOC) {
			x.delalloc++;
		} else if (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) {
			if (!x.unwritten++)
				x.unwritten_at = e->fe_physical;
		} else {
			if (!x.written++)
				x.written_at = e->fe_physical;
			x.written_bytes += e->fe_length;
		}
	}
	free(fm);
	return x;
}

/* Evicts the clean page at off, retrying while something holds it. */
static int evict(int fd, off_t off)
{
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (posix_fadvise(fd, off, PAGE, POSIX_FADV_DONTNEED))
			die("fadvise dontneed");
		if (!cached(fd, off))
			return 0;
		usleep(1000);
	}
	return -1;
}

static enum outcome stale_map_once(const char *path, int small, int i)
{
	const long long size = 512 * KIB, len = size - 3 * KIB;
	static char a[PAGE], b[512 * KIB];
	struct extents x;
	struct writer w;
	long long off;
	int fd, bad;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || fallocate(fd, 0, 0, size))
		die(path);
	/* The seed's case: one extent, so one mapping reaches the last page. */
	x = fiemap_extents(fd, size);
	if (x.unwritten != 1 || x.written || x.delalloc) {
		printf(
			"iteration %d: the preallocation is %d extents, not one: use a larger filesystem\n",
			i, x.unwritten + x.written + x.delalloc);
		close(fd);
		return MISSED;
	}
	memset(a, 'A', PAGE);
	if (pwrite(fd, a, PAGE, size - PAGE) != PAGE)
		die("pwrite A");
	if (small) {
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM))
			die("fadvise random");
		for (off = 0; off < size - PAGE; off += 2 * PAGE)
			if (pread(fd, b, PAGE, off) != PAGE)
				die("pread");
	}
	memset(b, 'B', len);

	pause_arm("write_validate", fd, 0, 1, TIMEOUT_MS);
	writer_start(&w, fd, b, len, 0);
	if (pause_wait("write_validate")) {
		printf("iteration %d: the write never reached write_validate\n", i);
		pause_release("write_validate");
		writer_join(&w);
		close(fd);
		return MISSED;
	}
	/* The write holds its first folio; the last page is another one. */
	if (sync_file_range(fd, size - PAGE, PAGE,
			    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
			    SYNC_FILE_RANGE_WAIT_AFTER))
		die("sync_file_range");
	if (evict(fd, size - PAGE)) {
		printf("iteration %d: the last page could not be evicted\n", i);
		pause_release("write_validate");
		writer_join(&w);
		close(fd);
		return MISSED;
	}
	pause_release("write_validate");
	writer_join(&w);
	if (w.ret != len) {
		errno = w.err;
		fprintf(stderr, "pwrite B returned %zd, expected %lld: %s\n",
			w.ret, len, strerror(w.err));
		exit(1);
	}
	/* What is on disk. */
	if (fsync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		die("fsync/fadvise");
	bad = check(fd, 0, len, 'B', i, "from disk") ||
	      check(fd, len, size - len, 'A', i, "from disk");
	close(fd);
	return bad ? CORRUPT : OK;
}

static enum outcome punch_mmap_once(const char *path, int i)
{
	const long long size = 1024 * KIB, len = 512 * KIB, hole = 256 * KIB;
	const long long mmap_at = 384 * KIB + 100, mmap_len = 1000;
	static char page[PAGE];
	struct extents x;
	struct writer w;
	char *buf, *map;
	long long off;
	int fd, bad;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, size))
		die(path);
	/* Zero folios of one page each over the sparse file. */
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM))
		die("fadvise");
	for (off = 0; off < size; off += PAGE)
		if (pread(fd, page, PAGE, off) != PAGE)
			die("pread");
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED || madvise(map, size, MADV_RANDOM))
		die("mmap");
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap buffer");
	memset(buf, 0x77, len);
	if (munmap(buf + hole, PAGE))
		die("munmap");

	pause_arm("write_validate", fd, 0, 1, TIMEOUT_MS);
	writer_start(&w, fd, buf, len, 0);
	if (pause_wait("write_validate")) {
		printf("iteration %d: the write never reached write_validate\n", i);
		pause_release("write_validate");
		writer_join(&w);
		munmap(map, size);
		munmap(buf, len);
		close(fd);
		return MISSED;
	}
	/* Into the delalloc the parked write reserved, beyond where it ends. */
	memset(map + mmap_at, 0x6d, mmap_len);
	pause_release("write_validate");
	writer_join(&w);
	if (w.ret != hole) {
		fprintf(stderr,
			"iteration %d: the write returned %zd (%s), expected a short write of %lld\n",
			i, w.ret, strerror(w.err), hole);
		exit(1);
	}
	bad = check(fd, mmap_at, mmap_len, 0x6d, i, "cached");
	/* Unmapped, or the page could not be evicted below. */
	munmap(map, size);
	if (fsync(fd))
		die("fsync");
	x = fiemap_extents(fd, size);
	if (x.delalloc) {
		printf(
			"iteration %d: %d delalloc extent(s) left after fsync: a leaked reservation\n",
			i, x.delalloc);
		bad = 1;
	}
	/* And on disk. */
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) ||
	    evict(fd, mmap_at & ~(PAGE - 1LL)))
		die("evicting the file's pages");
	bad |= check(fd, 0, hole, 0x77, i, "from disk") ||
	       check(fd, mmap_at, mmap_len, 0x6d, i, "from disk");
	munmap(buf, len);
	close(fd);
	return bad ? CORRUPT : OK;
}

struct toucher {
	pthread_t thread;
	char *map;
};

static void *toucher_run(void *arg)
{
	struct toucher *t = arg;

	memset(t->map + 100, 0x5e, 1000);
	return NULL;
}

static enum outcome mkwrite_falloc_once(const char *path, int i)
{
	const long long size = 64 * KIB;
	static char page[PAGE];
	struct toucher t;
	struct extents x;
	int fd, bad = 0;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, size))
		die(path);
	/* One order-0 folio, one block: no readahead. */
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM) ||
	    pread(fd, page, PAGE, 0) != PAGE)
		die("pread");
	t.map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t.map == MAP_FAILED)
		die("mmap");

	pause_arm("fs_mkwrite_map", fd, 0, 1, TIMEOUT_MS);
	errno = pthread_create(&t.thread, NULL, toucher_run, &t);
	if (errno)
		die("pthread_create");
	if (pause_wait("fs_mkwrite_map")) {
		printf("iteration %d: the fault never reached fs_mkwrite_map\n", i);
		pause_release("fs_mkwrite_map");
		pthread_join(t.thread, NULL);
		munmap(t.map, size);
		close(fd);
		return MISSED;
	}
	/* The fault holds the page's folio locked; preallocation needs none. */
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, size))
		die("fallocate");
	pause_release("fs_mkwrite_map");
	errno = pthread_join(t.thread, NULL);
	if (errno)
		die("pthread_join");
	munmap(t.map, size);
	if (fsync(fd))
		die("fsync");
	/*
	 * The page was written into the preallocated extent: its block is
	 * right before the rest of it, still unwritten.
	 */
	x = fiemap_extents(fd, size);
	if (x.delalloc || x.written != 1 || x.written_bytes != PAGE ||
	    x.unwritten != 1) {
		printf(
			"iteration %d: after fsync %d delalloc, %d written (%lld bytes), %d unwritten extents; expected 0, 1 (4096), 1\n",
			i, x.delalloc, x.written, x.written_bytes, x.unwritten);
		bad = 1;
	} else if (x.written_at + PAGE != x.unwritten_at) {
		printf(
			"iteration %d: the page went to device offset %llu, not into the preallocation at %llu\n",
			i, x.written_at, x.unwritten_at - PAGE);
		bad = 1;
	}
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) || evict(fd, 0))
		die("evicting the file's pages");
	bad |= check(fd, 100, 1000, 0x5e, i, "from disk");
	close(fd);
	return bad ? CORRUPT : OK;
}

/* Where the block at `off` of fd is on the device (FIEMAP); dies on a hole. */
static unsigned long long physical(int fd, off_t off)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent e;
	} f = { .fm = { .fm_start = off, .fm_length = PAGE, .fm_extent_count = 1 } };

	if (ioctl(fd, FS_IOC_FIEMAP, &f) || f.fm.fm_mapped_extents != 1)
		die("FS_IOC_FIEMAP of one block");
	return f.e.fe_physical + (off - f.e.fe_logical);
}

/*
 * Copies the first `bytes` of `dev` as the device has them (O_DIRECT) to
 * `image`. No memory is mapped or unmapped meanwhile (that takes the address
 * space's lock for writing, which a thread parked in a write fault holds).
 */
static void copy_device(const char *dev, const char *image, long long bytes)
{
	enum { CHUNK = 1024 * 1024 };
	static char buf[CHUNK] __aligned(PAGE);
	long long done;
	int in, out;

	in = open(dev, O_RDONLY | O_DIRECT);
	out = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0)
		die("opening the device and the image");
	for (done = 0; done < bytes; done += CHUNK) {
		size_t len = bytes - done < CHUNK ? bytes - done : CHUNK;

		if (pread(in, buf, len, done) != (ssize_t)len ||
		    pwrite(out, buf, len, done) != (ssize_t)len)
			die("copying the device");
	}
	close(in);
	close(out);
}

/*
 * The device images of the iterations since the last check, checked with one
 * fsck.xtfs run (a process start costs 0.1-0.3 s in the TCG guest): image
 * IMAGE.N holds the device as iteration pending[N].iteration left it.
 */
#define FSCK_BATCH 20
static struct {
	int iteration;
	int bad;	/* found wrong already (the fsynced block) */
} pending[FSCK_BATCH];
static int npending;

static void image_path(char *buf, size_t size, const char *image, int slot)
{
	snprintf(buf, size, "%s.%d", image, slot);
}

/*
 * Checks the pending images with fsck.xtfs -n; prints the first lines of its
 * report for each inconsistent one. Returns the number of pending iterations
 * that went wrong (the image or the fsynced block).
 */
static int check_pending(const char *image)
{
	char *args[FSCK_BATCH + 3], paths[FSCK_BATCH][256], report[256];
	char line[512], problems[3][512];
	posix_spawn_file_actions_t actions;
	int status, slot, nproblems = 0, corrupt = 0;
	size_t prefix;
	FILE *f;
	pid_t pid;

	if (!npending)
		return 0;
	prefix = strlen(image);
	args[0] = "fsck.xtfs";
	args[1] = "-n";
	for (slot = 0; slot < npending; slot++) {
		image_path(paths[slot], sizeof(paths[slot]), image, slot);
		args[slot + 2] = paths[slot];
	}
	args[npending + 2] = NULL;
	snprintf(report, sizeof(report), "%s.fsck", image);
	if (posix_spawn_file_actions_init(&actions) ||
	    posix_spawn_file_actions_addopen(&actions, 1, report,
					     O_WRONLY | O_CREAT | O_TRUNC, 0644) ||
	    posix_spawn_file_actions_adddup2(&actions, 1, 2))
		die("posix_spawn_file_actions");
	errno = posix_spawnp(&pid, "fsck.xtfs", &actions, NULL, args, environ);
	if (errno)
		die("posix_spawnp fsck.xtfs");
	posix_spawn_file_actions_destroy(&actions);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		die("fsck.xtfs");
	if (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 4) {
		fprintf(stderr, "fsck.xtfs -n %s.* exited %d (report: %s)\n",
			image, WEXITSTATUS(status), report);
		exit(1);
	}
	/*
	 * Each image's report ends with a line "IMAGE.N: clean" or
	 * "IMAGE.N: ..." (its problems, or a bad superblock).
	 */
	f = fopen(report, "r");
	if (!f)
		die(report);
	while (fgets(line, sizeof(line), f)) {
		char *end;

		line[strcspn(line, "\n")] = '\0';
		slot = -1;
		if (!strncmp(line, image, prefix) && line[prefix] == '.') {
			slot = strtol(line + prefix + 1, &end, 10);
			if (strncmp(end, ": ", 2) || slot < 0 || slot >= npending)
				slot = -1;
		}
		if (slot < 0) {
			if (nproblems < 3)
				snprintf(problems[nproblems++], sizeof(problems[0]), "%s", line);
			continue;
		}
		if (strcmp(end, ": clean")) {
			int k;

			printf(
				"iteration %d: the device after fsync is inconsistent (fsck.xtfs):\n",
				pending[slot].iteration);
			for (k = 0; k < nproblems; k++)
				printf("iteration %d:   %s\n", pending[slot].iteration,
				       problems[k]);
			printf("iteration %d:   %s\n", pending[slot].iteration, end + 2);
			pending[slot].bad = 1;
		}
		nproblems = 0;
	}
	fclose(f);
	for (slot = 0; slot < npending; slot++)
		corrupt += pending[slot].bad;
	npending = 0;
	return corrupt;
}

struct syncer {
	pthread_t thread;
	int fd, ret, err, done;
};

static void *syncer_run(void *arg)
{
	struct syncer *s = arg;

	s->ret = fsync(s->fd);
	s->err = errno;
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct mmap_writer {
	pthread_t thread;
	int fd;
	char *map;
};

static void *mmap_writer_run(void *arg)
{
	struct mmap_writer *t = arg;

	memset(t->map, 0x33, PAGE);
	if (sync_file_range(t->fd, 0, PAGE, SYNC_FILE_RANGE_WRITE))
		die("sync_file_range");
	return NULL;
}

/* How many iterations found the fsync's commit waiting for the completion. */
static int fsync_waited;
/* Whether the directory of fsync-mmap's file has been fsynced. */
static int dir_synced;

/* fsync() of the directory holding `path`. */
static void sync_directory_of(const char *path)
{
	char dir[256];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	fd = open(slash ? (*dir ? dir : "/") : ".", O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fsync(fd))
		die("fsync of the file's directory");
	close(fd);
}

/*
 * One iteration; its device image goes to the next pending slot, checked
 * later (check_pending). Returns MISSED, or OK with the verdict pending.
 */
static enum outcome fsync_mmap_once(const char *path, const char *dev,
				    const char *image, int i)
{
	const int extents = 12;
	const off_t d_at = 2LL * (extents + 1) * PAGE;
	static char page[PAGE] __aligned(PAGE);
	char slot_image[256];
	struct mmap_writer t;
	struct syncer s;
	struct statvfs st;
	int fd, dfd, k, missed = 0;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || fstatvfs(fd, &st))
		die(path);
	/*
	 * Its name on the device too (fsync of the file does not persist it;
	 * without it the device holds a file no name reaches and the blocks
	 * the directory grew by, until the flusher writes the directory).
	 */
	if (!dir_synced) {
		sync_directory_of(path);
		dir_synced = 1;
	}
	/*
	 * Blocks 0 and 1: one unwritten extent, which the write through the
	 * mapping splits in two when its completion converts block 0. Blocks
	 * 2, 4, ..., 24: one written extent each. With D, 14 extents: 7 in
	 * the inode, 7 in the chain, which the split shifts by one.
	 */
	if (fallocate(fd, 0, 0, 2 * PAGE))
		die("fallocate");
	memset(page, 0x11, PAGE);
	for (k = 1; k <= extents; k++)
		if (pwrite(fd, page, PAGE, 2LL * k * PAGE) != PAGE)
			die("pwrite");
	if (fsync(fd))
		die("fsync");
	/*
	 * D: the data this iteration's fsync must persist, in a new last
	 * extent (the size changes: the inode is dirty for sure).
	 */
	memset(page, 0x22, PAGE);
	if (pwrite(fd, page, PAGE, d_at) != PAGE)
		die("pwrite");
	t.fd = fd;
	t.map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t.map == MAP_FAILED)
		die("mmap");

	pause_arm("fs_fsync_flush", fd, 0, 1, TIMEOUT_MS);
	s = (struct syncer){ .fd = fd };
	errno = pthread_create(&s.thread, NULL, syncer_run, &s);
	if (errno)
		die("pthread_create");
	if (pause_wait("fs_fsync_flush")) {
		printf("iteration %d: fsync never reached fs_fsync_flush\n", i);
		pause_release("fs_fsync_flush");
		pthread_join(s.thread, NULL);
		munmap(t.map, PAGE);
		close(fd);
		return MISSED;
	}
	/*
	 * The fsync stored the records in the running transaction: now the
	 * write fault's and its completion's turn. The completion converts
	 * block 0, splitting the unwritten extent, stores the records again
	 * and parks at fs_store_extents, the chain written and the inode not.
	 */
	pause_arm("fs_store_extents", fd, 0, PAGE, TIMEOUT_MS);
	errno = pthread_create(&t.thread, NULL, mmap_writer_run, &t);
	if (errno)
		die("pthread_create");
	if (pause_wait("fs_store_extents")) {
		printf("iteration %d: the completion never reached fs_store_extents\n", i);
		missed = 1;
	}
	/*
	 * The fsync commits. With the fix the completion's records are one
	 * journal handle, still open: the commit parks at fs_commit_wait before
	 * it waits for it, and the completion is let go. Without it the chain's
	 * handle has ended and the inode's has not begun: the commit finds none
	 * open and takes the chain without the inode. Either the fsync returns
	 * or the commit parks: polling decides nothing by time.
	 */
	pause_arm("fs_commit_wait", fd, 0, 1, TIMEOUT_MS);
	pause_release("fs_fsync_flush");
	for (k = 0; !missed && !__atomic_load_n(&s.done, __ATOMIC_ACQUIRE); k++) {
		if (pause_parked("fs_commit_wait")) {
			fsync_waited++;
			pause_release("fs_store_extents");
			break;
		}
		if (k > TIMEOUT_MS * 5) {
			printf(
				"iteration %d: the fsync neither returned nor parked at fs_commit_wait\n",
				i);
			missed = 1;
		}
		usleep(200);
	}
	pause_release("fs_commit_wait");
	pause_release("fs_store_extents");
	errno = pthread_join(s.thread, NULL);
	if (errno || s.ret) {
		fprintf(stderr, "iteration %d: fsync failed: %s\n", i, strerror(s.err));
		exit(1);
	}
	/*
	 * What the fsync left on the device. Without the fix the completion is
	 * still parked, so nothing after the commit reaches the device until it
	 * has been read.
	 */
	image_path(slot_image, sizeof(slot_image), image, npending);
	if (!missed)
		copy_device(dev, slot_image, (long long)st.f_blocks * st.f_frsize);
	errno = pthread_join(t.thread, NULL);
	if (errno)
		die("pthread_join");
	munmap(t.map, PAGE);
	if (missed) {
		close(fd);
		return MISSED;
	}

	/* D on the device, where the file's block is. */
	pending[npending].iteration = i;
	pending[npending].bad = 0;
	dfd = open(dev, O_RDONLY | O_DIRECT);
	if (dfd < 0 || pread(dfd, page, PAGE, physical(fd, d_at)) != PAGE)
		die("reading the fsynced block from the device");
	close(dfd);
	for (k = 0; k < PAGE && page[k] == 0x22; k++)
		;
	if (k < PAGE) {
		printf("iteration %d: the fsynced page is not on the device: byte %d is 0x%02x\n",
		       i, k, (unsigned char)page[k]);
		pending[npending].bad = 1;
	}
	npending++;
	close(fd);
	return OK;
}

int main(int argc, char **argv)
{
	int n, i, small = 0, reached = 0, corrupt = 0;
	const char *mode = argc > 1 ? argv[1] : "";
	enum outcome o;

	if (argc == 5 && !strcmp(mode, "stale-map")) {
		small = !strcmp(argv[3], "small");
		n = atoi(argv[4]);
	} else if (argc == 4 && (!strcmp(mode, "punch-mmap") ||
				 !strcmp(mode, "mkwrite-falloc"))) {
		n = atoi(argv[3]);
	} else if (argc == 6 && !strcmp(mode, "fsync-mmap")) {
		n = atoi(argv[5]);
	} else {
		fprintf(stderr,
			"usage: %s stale-map FILE large|small ITERATIONS\n"
			"       %s punch-mmap FILE ITERATIONS\n"
			"       %s mkwrite-falloc FILE ITERATIONS\n"
			"       %s fsync-mmap FILE DEVICE IMAGE ITERATIONS\n",
			argv[0], argv[0], argv[0], argv[0]);
		return 2;
	}
	for (i = 1; i <= n; i++) {
		if (!strcmp(mode, "stale-map"))
			o = stale_map_once(argv[2], small, i);
		else if (!strcmp(mode, "punch-mmap"))
			o = punch_mmap_once(argv[2], i);
		else if (!strcmp(mode, "fsync-mmap"))
			o = fsync_mmap_once(argv[2], argv[3], argv[4], i);
		else
			o = mkwrite_falloc_once(argv[2], i);
		if (o == MISSED)
			break;	/* the scenario is broken: no use going on */
		reached++;
		corrupt += o == CORRUPT;
		if (npending == FSCK_BATCH)
			corrupt += check_pending(argv[4]);
	}
	/* The last batch (fsync-mmap only: nothing is pending otherwise). */
	corrupt += check_pending(argv[4]);
	if (!strcmp(mode, "fsync-mmap"))
		printf("%s: the fsync's commit waited for the completion in %d of %d iterations\n",
		       mode, fsync_waited, reached);
	printf("%s%s%s: %d iterations, pause reached %d, corrupt %d\n", mode,
	       !strcmp(mode, "stale-map") ? " " : "",
	       !strcmp(mode, "stale-map") ? argv[3] : "", n, reached, corrupt);
	return 0;
}
