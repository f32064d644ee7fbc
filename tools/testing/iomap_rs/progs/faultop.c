// SPDX-License-Identifier: GPL-2.0
/*
 * faultop: one filesystem operation with the Nth fault injection point it
 * reaches made to fail, for systematic fault injection
 * (tests/xtfs_fault_inject.sh, tests/xfs_rs_fault_inject.sh).
 *
 *   faultop setup DIR OP       the files OP works on, written and synced
 *   faultop run DIR OP NTH     OP with /proc/thread-self/fail-nth set to NTH
 *                              around the operation's system calls only
 *                              (0: no fault injected);
 *                              prints "reached=0|1 result=R" where R is
 *                              ok:COUNT, err:ERRNO-NAME or sigbus
 *   faultop check DIR OP R     the files are what OP may have left, given
 *                              that it returned R: in the cache after the
 *                              operation, and again after a remount
 *   faultop sweep DEV MNT FSTYPE OP FIRST LAST -- FSCK...
 *                              the whole procedure for NTH from FIRST on,
 *                              until OP completes without reaching its
 *                              fault (or LAST is passed, an error): DEV
 *                              mounted on MNT; in a new directory MNT/t,
 *                              setup, sync and drop caches (so that the
 *                              operation reads metadata, and can fail to),
 *                              run in a child, check, then remove MNT/t
 *                              when the file system is XFS (whose statfs
 *                              is exact only for a removed file); sync and
 *                              note statfs's free blocks; unmount, FSCK must
 *                              exit 0; mount, statfs must show the same free
 *                              blocks (a reservation left behind would be
 *                              counted free again); check again. Prints one
 *                              line per NTH and, last, "OP: N fault sites".
 *                              Exit status 3: an I/O error left damage
 *                              only fsck can repair (see fsck() below).
 *
 * fail-nth counts every fault injection point the task reaches (failslab,
 * fail_page_alloc, fail_make_request: lib/fault-inject.c) and fails the Nth.
 * The caller enables the points for allocations that may sleep and for the
 * test's block device; it raises NTH from 1 until an operation completes
 * without reaching the fault.
 *
 * The model: "f" holds OLD ('a') over 64 KiB, "g" is 1 MiB with OLD over its
 * first 16 KiB and a hole after, "sub" holds "x" (4 KiB of 'c'), "empty" is
 * an empty directory. A write writes NEW ('b'). An operation that failed may
 * have done part of its work where the system call allows it (a write ends
 * short, a failed punch may have punched some blocks): every byte then holds
 * one of the values it may hold. A namespace operation that failed did
 * nothing; one that succeeded did all of it.
 *
 * Exit status: 0 if the check passed (or setup/run worked), 1 with a message
 * on the first mismatch or error.
 */
#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/statvfs.h>
#include <linux/falloc.h>
#include "progs.h"

#define OLD 'a'
#define NEW 'b'
#define KiB 1024L
#define F_SIZE (64 * KiB)
#define G_SIZE (1024 * KiB)
#define G_DATA (16 * KiB)
#define X_SIZE (4 * KiB)
#define LINK_TARGET "a symbolic link's target, long enough to need a block of its own " \
	"on a filesystem that stores short ones in the inode: " \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *dir;

static const char *path(const char *name)
{
	static char buf[4][4096];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void fill(int fd, int byte, off_t off, size_t len)
{
	char *buf = malloc(len);

	if (!buf)
		die("malloc");
	memset(buf, byte, len);
	if (pwrite(fd, buf, len, off) != (ssize_t)len)
		die("pwrite");
	free(buf);
}

static int open_or_die(const char *name, int flags)
{
	int fd = open(path(name), flags, 0644);

	if (fd < 0)
		die(path(name));
	return fd;
}

static void setup(void)
{
	int fd;

	fd = open_or_die("f", O_RDWR | O_CREAT | O_TRUNC);
	fill(fd, OLD, 0, F_SIZE);
	close(fd);
	fd = open_or_die("g", O_RDWR | O_CREAT | O_TRUNC);
	fill(fd, OLD, 0, G_DATA);
	if (ftruncate(fd, G_SIZE))
		die("ftruncate g");
	close(fd);
	if (mkdir(path("sub"), 0755) && errno != EEXIST)
		die("mkdir sub");
	fd = open_or_die("sub/x", O_RDWR | O_CREAT | O_TRUNC);
	fill(fd, 'c', 0, X_SIZE);
	close(fd);
	if (mkdir(path("empty"), 0755) && errno != EEXIST)
		die("mkdir empty");
	sync();
}

/* The operations. Each does its unarmed preparation, then arm(), then its system calls. */

static int fail_nth_fd = -1;
static unsigned int nth;
static sigjmp_buf sigbus_jmp;

static void arm(void)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", nth);

	if (!nth)
		return;
	if (write(fail_nth_fd, buf, len) != len)
		die("arming /proc/thread-self/fail-nth");
}

/* Disarms; whether the armed fault was injected (the count reached 0). */
static int disarm(void)
{
	char buf[16] = "";
	ssize_t n;
	int reached;

	if (!nth)
		return 0;
	n = pread(fail_nth_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		die("reading /proc/thread-self/fail-nth");
	reached = atoi(buf) == 0;
	if (!reached && pwrite(fail_nth_fd, "0", 1, 0) != 1)
		die("disarming /proc/thread-self/fail-nth");
	return reached;
}

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sigbus_jmp, 1);
}

/* A result: ok with a count, or the error of a failed call. */
struct result {
	int ok;
	long count;
	int err;
	int sigbus;
};

static struct result from_ret(long ret)
{
	struct result r = { .ok = ret >= 0, .count = ret, .err = ret < 0 ? errno : 0 };

	return r;
}

static char wbuf[64 * 1024] __aligned(4096);

static struct result op_pwrite(const char *name, off_t off, size_t len, int direct)
{
	int fd = open_or_die(name, O_RDWR | (direct ? O_DIRECT : 0));
	long ret;

	memset(wbuf, NEW, len);
	arm();
	ret = pwrite(fd, wbuf, len, off);
	return from_ret(ret);
}

static struct result op_fallocate(const char *name, int mode, off_t off, off_t len)
{
	int fd = open_or_die(name, O_RDWR);

	arm();
	return from_ret(fallocate(fd, mode, off, len));
}

static struct result op_truncate(off_t size)
{
	int fd = open_or_die("f", O_RDWR);

	arm();
	return from_ret(ftruncate(fd, size));
}

static struct result op_fsync(void)
{
	int fd = open_or_die("f", O_RDWR);

	fill(fd, NEW, 4 * KiB, 8 * KiB);
	fill(fd, NEW, 128 * KiB, 8 * KiB);
	arm();
	return from_ret(fsync(fd));
}

/* A store of NEW at `off` of `name` through a shared mapping: the write fault. */
static struct result op_mkwrite(const char *name, off_t off, char before)
{
	int fd = open_or_die(name, O_RDWR);
	struct result r = { .ok = 1 };
	char *p;
	char c;

	p = mmap(NULL, off + 4 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	c = READ_ONCE(p[off]);	/* read fault now: the store below is a write fault only */
	if (c != before) {
		fprintf(stderr, "%s: read 0x%x through the mapping before the write\n", name, c);
		exit(1);
	}
	signal(SIGBUS, on_sigbus);
	if (sigsetjmp(sigbus_jmp, 1)) {
		r.ok = 0;
		r.sigbus = 1;
		return r;
	}
	arm();
	WRITE_ONCE(p[off], NEW);
	return r;
}

static struct result op_namespace(const char *op)
{
	long ret;

	if (!strcmp(op, "create")) {
		arm();
		ret = open(path("new"), O_RDWR | O_CREAT | O_EXCL, 0644);
	} else if (!strcmp(op, "mkdir")) {
		arm();
		ret = mkdir(path("newdir"), 0755);
	} else if (!strcmp(op, "link")) {
		arm();
		ret = link(path("f"), path("sub/f-link"));
	} else if (!strcmp(op, "symlink")) {
		arm();
		ret = symlink(LINK_TARGET, path("sym"));
	} else if (!strcmp(op, "rename")) {
		arm();
		ret = rename(path("f"), path("sub/f-moved"));
	} else if (!strcmp(op, "rename_replace")) {
		arm();
		ret = rename(path("f"), path("g"));
	} else if (!strcmp(op, "rename_dir")) {
		arm();
		ret = rename(path("empty"), path("sub/empty-moved"));
	} else if (!strcmp(op, "unlink")) {
		arm();
		ret = unlink(path("f"));
	} else if (!strcmp(op, "rmdir")) {
		arm();
		ret = rmdir(path("empty"));
	} else {
		fprintf(stderr, "faultop: unknown operation %s\n", op);
		exit(1);
	}
	return from_ret(ret);
}

static struct result run(const char *op)
{
	if (!strcmp(op, "write_inplace"))
		return op_pwrite("f", 4 * KiB + 100, 8 * KiB, 0);
	if (!strcmp(op, "write_eof"))
		return op_pwrite("f", F_SIZE, 8 * KiB, 0);
	if (!strcmp(op, "write_beyond"))
		return op_pwrite("f", 256 * KiB + 100, 8 * KiB, 0);
	if (!strcmp(op, "write_hole"))
		return op_pwrite("g", 64 * KiB, 32 * KiB, 0);
	if (!strcmp(op, "mkwrite"))
		return op_mkwrite("f", 4 * KiB, OLD);
	if (!strcmp(op, "mkwrite_hole"))
		return op_mkwrite("g", 64 * KiB, 0);
	if (!strcmp(op, "falloc_alloc"))
		return op_fallocate("g", 0, 32 * KiB, 64 * KiB);
	if (!strcmp(op, "falloc_punch"))
		return op_fallocate("f", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				    8 * KiB, 16 * KiB);
	if (!strcmp(op, "falloc_zero"))
		return op_fallocate("f", FALLOC_FL_ZERO_RANGE, 8 * KiB + 100, 16 * KiB);
	if (!strcmp(op, "truncate_down"))
		return op_truncate(10000);
	if (!strcmp(op, "truncate_up"))
		return op_truncate(G_SIZE);
	if (!strcmp(op, "fsync"))
		return op_fsync();
	if (!strcmp(op, "direct_inplace"))
		return op_pwrite("f", 4 * KiB, 8 * KiB, 1);
	if (!strcmp(op, "direct_hole"))
		return op_pwrite("g", 64 * KiB, 16 * KiB, 1);
	return op_namespace(op);
}

/* The checks. */

static const char *op_name;
static const char *stage;

static void mismatch(const char *fmt, ...) __printf(1, 2);
static void mismatch(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s, %s: ", op_name, stage);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static off_t size_of(const char *name)
{
	struct stat st;

	if (stat(path(name), &st))
		mismatch("stat %s: %s", name, strerror(errno));
	return st.st_size;
}

static int exists(const char *name)
{
	struct stat st;

	if (!lstat(path(name), &st))
		return 1;
	if (errno != ENOENT)
		mismatch("lstat %s: %s", name, strerror(errno));
	return 0;
}

static void expect_size(const char *name, off_t a, off_t b)
{
	off_t size = size_of(name);

	if (size != a && size != b)
		mismatch("%s has size %lld, expected %lld or %lld", name,
			 (long long)size, (long long)a, (long long)b);
}

/*
 * Bytes [off, off + len) of `name` each hold one of the bytes in `allowed`
 * (a string; "\0" stands for zero when written as "z").
 */
static void expect_bytes(const char *name, off_t off, off_t len, const char *allowed)
{
	int fd = open_or_die(name, O_RDONLY);
	static char buf[64 * 1024];
	off_t done = 0;

	while (done < len) {
		size_t chunk = len - done < (off_t)sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
		ssize_t n = pread(fd, buf, chunk, off + done);
		size_t i;

		if (n < 0)
			mismatch("reading %s at %lld: %s", name, (long long)(off + done),
				 strerror(errno));
		if (n == 0)
			mismatch("%s ends at %lld, before %lld", name, (long long)(off + done),
				 (long long)(off + len));
		for (i = 0; i < (size_t)n; i++) {
			char c = buf[i] ? buf[i] : 'z';

			if (!strchr(allowed, c))
				mismatch("%s: byte %lld is 0x%02x, expected one of \"%s\" (z: 0)",
					 name, (long long)(off + done + i), (unsigned char)buf[i],
					 allowed);
		}
		done += n;
	}
	close(fd);
}

static void expect_g_untouched(void)
{
	expect_size("g", G_SIZE, G_SIZE);
	expect_bytes("g", 0, G_DATA, "a");
	expect_bytes("g", G_DATA, G_SIZE - G_DATA, "z");
}

static void expect_x_untouched(void)
{
	expect_size("sub/x", X_SIZE, X_SIZE);
	expect_bytes("sub/x", 0, X_SIZE, "c");
}

static void expect_untouched(void)
{
	expect_size("f", F_SIZE, F_SIZE);
	expect_bytes("f", 0, F_SIZE, "a");
	expect_g_untouched();
	expect_x_untouched();
}

/* A buffered or direct write of `len` bytes of NEW at `off` of f or g. */
static void check_write(const char *name, off_t old_size, off_t off, off_t len,
			const char *before, struct result r)
{
	off_t written = r.ok ? r.count : 0;
	off_t size = written && off + written > old_size ? off + written : old_size;

	if (written < 0 || written > len)
		mismatch("the write returned %ld of %lld bytes", r.count, (long long)len);
	expect_size(name, size, size);
	expect_bytes(name, off, written, "b");
	/* Past what was written, as before (zero past the old size). */
	if (off + written < old_size)
		expect_bytes(name, off + written, (off + len < old_size ? off + len : old_size) -
			     (off + written), before);
}

/* File or directory `name` has `n` links. */
static void expect_links(const char *name, nlink_t n)
{
	struct stat st;

	if (lstat(path(name), &st))
		mismatch("lstat %s: %s", name, strerror(errno));
	if (st.st_nlink != n)
		mismatch("%s has %lu links, expected %lu", name, (unsigned long)st.st_nlink,
			 (unsigned long)n);
}

static void expect_exists(const char *name, int yes)
{
	if (exists(name) != yes)
		mismatch("\"%s\" %s", name, yes ? "does not exist" : "exists");
}

/*
 * A namespace operation did all of its work or none of it: the test
 * directory "." has the subdirectories "sub" and "empty" before.
 */
static void check_namespace(const char *op, struct result r)
{
	char target[512];
	ssize_t n;
	int ok = r.ok;

	if (!strcmp(op, "create")) {
		expect_exists("new", ok);
		if (ok)
			expect_size("new", 0, 0);
	} else if (!strcmp(op, "mkdir")) {
		expect_exists("newdir", ok);
		if (ok)
			expect_links("newdir", 2);
		expect_links(".", ok ? 5 : 4);
	} else if (!strcmp(op, "link")) {
		expect_exists("sub/f-link", ok);
		expect_links("f", ok ? 2 : 1);
		if (ok)
			expect_bytes("sub/f-link", 0, F_SIZE, "a");
	} else if (!strcmp(op, "symlink")) {
		expect_exists("sym", ok);
		if (ok) {
			n = readlink(path("sym"), target, sizeof(target) - 1);
			if (n < 0)
				mismatch("readlink sym: %s", strerror(errno));
			target[n] = '\0';
			if (strcmp(target, LINK_TARGET))
				mismatch("sym points to \"%s\"", target);
		}
	} else if (!strcmp(op, "rename") || !strcmp(op, "rename_replace")) {
		const char *to = !strcmp(op, "rename") ? "sub/f-moved" : "g";

		if (ok) {
			expect_exists("f", 0);
			expect_size(to, F_SIZE, F_SIZE);
			expect_bytes(to, 0, F_SIZE, "a");
			expect_links(to, 1);
			if (!strcmp(op, "rename"))
				expect_g_untouched();
			expect_x_untouched();
			return;
		}
		expect_exists("sub/f-moved", 0);
	} else if (!strcmp(op, "rename_dir")) {
		expect_exists("empty", !ok);
		expect_exists("sub/empty-moved", ok);
		expect_links("sub", ok ? 3 : 2);
		expect_links(".", ok ? 3 : 4);
	} else if (!strcmp(op, "unlink")) {
		expect_exists("f", !ok);
		if (ok) {
			expect_g_untouched();
			expect_x_untouched();
			return;
		}
	} else if (!strcmp(op, "rmdir")) {
		expect_exists("empty", !ok);
		expect_links(".", ok ? 3 : 4);
	} else {
		mismatch("unknown operation");
	}
	expect_untouched();
}

static void check(const char *op, struct result r)
{
	if (!strcmp(op, "write_inplace")) {
		check_write("f", F_SIZE, 4 * KiB + 100, 8 * KiB, "a", r);
		expect_bytes("f", 0, 4 * KiB + 100, "a");
		expect_bytes("f", 12 * KiB + 100, F_SIZE - 12 * KiB - 100, "a");
	} else if (!strcmp(op, "write_eof")) {
		check_write("f", F_SIZE, F_SIZE, 8 * KiB, "a", r);
		expect_bytes("f", 0, F_SIZE, "a");
	} else if (!strcmp(op, "write_beyond")) {
		check_write("f", F_SIZE, 256 * KiB + 100, 8 * KiB, "z", r);
		expect_bytes("f", 0, F_SIZE, "a");
		if (r.ok && r.count > 0)
			expect_bytes("f", F_SIZE, 192 * KiB + 100, "z");
	} else if (!strcmp(op, "write_hole") || !strcmp(op, "direct_hole")) {
		int direct = !strcmp(op, "direct_hole");
		off_t len = direct ? 16 * KiB : 32 * KiB;

		/*
		 * A direct write that failed (in its completion, say) may have written
		 * its blocks.
		 */
		check_write("g", G_SIZE, 64 * KiB, len, direct ? "bz" : "z", r);
		expect_bytes("g", 0, G_DATA, "a");
		expect_bytes("g", G_DATA, 48 * KiB, "z");
		expect_bytes("g", 64 * KiB + len, G_SIZE - 64 * KiB - len, "z");
	} else if (!strcmp(op, "direct_inplace")) {
		/* A direct write that failed may have written some of its blocks. */
		expect_size("f", F_SIZE, F_SIZE);
		expect_bytes("f", 0, 4 * KiB, "a");
		expect_bytes("f", 4 * KiB, 8 * KiB, r.ok ? "b" : "ab");
		expect_bytes("f", 12 * KiB, F_SIZE - 12 * KiB, "a");
	} else if (!strcmp(op, "mkwrite")) {
		expect_size("f", F_SIZE, F_SIZE);
		expect_bytes("f", 0, 4 * KiB, "a");
		expect_bytes("f", 4 * KiB, 1, r.ok ? "b" : "a");
		expect_bytes("f", 4 * KiB + 1, F_SIZE - 4 * KiB - 1, "a");
	} else if (!strcmp(op, "mkwrite_hole")) {
		expect_size("g", G_SIZE, G_SIZE);
		expect_bytes("g", 0, G_DATA, "a");
		expect_bytes("g", G_DATA, 48 * KiB, "z");
		expect_bytes("g", 64 * KiB, 1, r.ok ? "b" : "z");
		expect_bytes("g", 64 * KiB + 1, G_SIZE - 64 * KiB - 1, "z");
	} else if (!strcmp(op, "falloc_alloc")) {
		expect_size("g", G_SIZE, G_SIZE);
		expect_bytes("g", 0, G_DATA, "a");
		expect_bytes("g", G_DATA, G_SIZE - G_DATA, "z");
	} else if (!strcmp(op, "falloc_punch") || !strcmp(op, "falloc_zero")) {
		off_t off = !strcmp(op, "falloc_punch") ? 8 * KiB : 8 * KiB + 100;

		expect_size("f", F_SIZE, F_SIZE);
		expect_bytes("f", 0, off, "a");
		expect_bytes("f", off, 16 * KiB, r.ok ? "z" : "az");
		expect_bytes("f", off + 16 * KiB, F_SIZE - off - 16 * KiB, "a");
	} else if (!strcmp(op, "truncate_down")) {
		if (r.ok)
			expect_size("f", 10000, 10000);
		else
			expect_size("f", 10000, F_SIZE);
		expect_bytes("f", 0, 10000, "a");
		if (size_of("f") == F_SIZE)
			expect_bytes("f", 10000, F_SIZE - 10000, "az");
	} else if (!strcmp(op, "truncate_up")) {
		if (r.ok)
			expect_size("f", G_SIZE, G_SIZE);
		else
			expect_size("f", F_SIZE, G_SIZE);
		expect_bytes("f", 0, F_SIZE, "a");
		expect_bytes("f", F_SIZE, size_of("f") - F_SIZE, "z");
	} else if (!strcmp(op, "fsync")) {
		/*
		 * The writes before fsync were not armed: they are in the cache. What a
		 * failed fsync left on disk shows after the remount (unmounting wrote
		 * what it could): each block old or new, the size old or new.
		 */
		int failed = !r.ok && !!strstr(stage, "remounted");

		expect_size("f", 136 * KiB, failed ? F_SIZE : 136 * KiB);
		expect_bytes("f", 0, 4 * KiB, "a");
		expect_bytes("f", 4 * KiB, 8 * KiB, failed ? "ab" : "b");
		expect_bytes("f", 12 * KiB, F_SIZE - 12 * KiB, "a");
		if (size_of("f") > F_SIZE) {
			expect_bytes("f", F_SIZE, 64 * KiB, "z");
			expect_bytes("f", 128 * KiB, 8 * KiB, failed ? "bz" : "b");
		}
	} else {
		check_namespace(op, r);
		return;
	}
	expect_x_untouched();
}

static struct result parse_result(const char *s)
{
	struct result r = { 0 };
	int e;

	if (sscanf(s, "ok:%ld", &r.count) == 1) {
		r.ok = 1;
	} else if (!strcmp(s, "sigbus")) {
		r.sigbus = 1;
	} else if (sscanf(s, "err:%d", &e) == 1) {
		r.err = e;
	} else {
		fprintf(stderr, "faultop: bad result %s\n", s);
		exit(1);
	}
	return r;
}

static void format_result(char *buf, size_t size, int reached, struct result r)
{
	if (r.ok)
		snprintf(buf, size, "reached=%d result=ok:%ld", reached, r.count);
	else if (r.sigbus)
		snprintf(buf, size, "reached=%d result=sigbus", reached);
	else
		snprintf(buf, size, "reached=%d result=err:%d %s", reached, r.err,
			 strerrorname_np(r.err) ?: "?");
}

/* Runs `op` with fault `nth` in a child; its result, whether the fault was reached. */
static struct result run_child(const char *op, int *reached)
{
	struct { struct result r; int reached; } out;
	int pipefd[2], status;
	pid_t pid;

	if (pipe(pipefd))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(pipefd[0]);
		fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
		if (fail_nth_fd < 0)
			die("/proc/thread-self/fail-nth");
		out.r = run(op);
		out.reached = disarm();
		if (write(pipefd[1], &out, sizeof(out)) != sizeof(out))
			die("pipe write");
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &out, sizeof(out)) != sizeof(out)) {
		waitpid(pid, &status, 0);
		fprintf(stderr, "%s, fault %u: the operation did not return (status 0x%x)\n",
			op, nth, status);
		exit(1);
	}
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	*reached = out.reached;
	return out.r;
}

static int remove_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((type == FTW_DP ? rmdir(p) : unlink(p)) && errno != ENOENT)
		mismatch("removing %s: %s", p, strerror(errno));
	return 0;
}

static void remove_tree(const char *p)
{
	if (nftw(p, remove_one, 16, FTW_DEPTH | FTW_PHYS) && errno != ENOENT)
		mismatch("removing %s: %s", p, strerror(errno));
}

static unsigned long long free_blocks(const char *mnt)
{
	struct statvfs st;

	if (statvfs(mnt, &st))
		die("statvfs");
	return st.f_bfree;
}

static void drop_caches(void)
{
	set_knob(DROP_CACHES, "3");
}

/* Runs FSCK: its exit status; its report on stderr if `loud`, else nowhere. */
static int run_fsck(char **argv, int loud)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid) {
		if (loud)
			dup2(2, 1);
		else if (!freopen("/dev/null", "w", stdout))
			die("/dev/null");
		execvp(argv[0], argv);
		die(argv[0]);
	}
	waitpid(pid, &status, 0);
	return status;
}

/*
 * Whether a write of the device's page cache failed during the operation: the error is
 * reported to whoever opened the device before it (errseq), and only the cache's own writes
 * (metadata) record errors there; file data written to the device directly records them in
 * the file's mapping.
 */
static int lost_metadata_write;

/*
 * Runs FSCK, which must find the file system clean, except after an operation that
 * reported an I/O error while a metadata write failed: that write is lost (the cache's copy
 * is clean after the failure), which a file system without a journal cannot undo. fsck
 * must then find the damage it expects and the sweep ends with status 3 (the caller makes a
 * new file system and goes on from the next fault).
 */
static void fsck(char **argv, struct result r)
{
	int status = run_fsck(argv, 0);

	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return;
	run_fsck(argv, 1);
	if (!r.ok && r.err == EIO && lost_metadata_write) {
		printf("%s fault %u: the I/O error left the disk to be repaired\n", op_name, nth);
		exit(3);
	}
	mismatch("%s found the problems above (status 0x%x)", argv[0], status);
}

/*
 * XFS does not commit a transaction it could not finish: when a change fails part way
 * (an allocation its transaction's precommit or deferred work may not fail), it shuts the
 * file system down instead (SHUTDOWN_CORRUPT_INCORE), and every call returns EIO until a
 * mount replays the log. That is XFS's design, in C code iomap_rs does not touch; what
 * must hold is that the operation reported an error and that log recovery leaves the file
 * system consistent: here, that it mounts; the sweep then ends with status 3, the device
 * unmounted, for the caller to run xfs_repair -n and go on from the next fault on a new
 * file system.
 */
static void xfs_after_shutdown(const char *dev, const char *mnt, struct result r)
{
	struct stat st;

	if (r.ok || !stat(dir, &st) || errno != EIO)
		return;
	printf("%s fault %u: XFS shut down after the error; log recovery next\n", op_name, nth);
	if (umount2(mnt, 0))
		die("umount");
	/* What the log had not written is gone, the test's files too, maybe. */
	if (mount(dev, mnt, "xfs", 0, NULL))
		mismatch("mounting after the shutdown (log recovery) failed: %s", strerror(errno));
	if (umount2(mnt, 0))
		die("umount");
	exit(3);
}

/*
 * xtfs shuts itself down when a sync finds that a metadata write failed (an injected I/O
 * error): every change then fails with EIO until the unmount, and the disk keeps what
 * reached it, which may miss that write. What must hold is that the operation failed and
 * that the file system unmounts; the sweep then ends with status 3, for the caller to go on
 * from the next fault on a new file system. A change that must fail tells the shutdown.
 */
static void xtfs_after_shutdown(const char *mnt, struct result r)
{
	if (r.ok || !chmod(dir, 0755) || errno != EIO)
		return;
	printf("%s fault %u: xtfs shut down after a metadata write error\n", op_name, nth);
	if (umount2(mnt, 0))
		mismatch("unmounting after the shutdown failed: %s", strerror(errno));
	exit(3);
}

static void remount(const char *dev, const char *mnt, const char *fstype, char **fsck_argv,
		    struct result r)
{
	if (umount2(mnt, 0))
		die("umount");
	if (fsck_argv)
		fsck(fsck_argv, r);
	if (mount(dev, mnt, fstype, 0, NULL))
		die("mount");
}

static int sweep(const char *dev, const char *mnt, const char *fstype, const char *op,
		 unsigned int first, unsigned int last, char **fsck_argv)
{
	static char tdir[4096], line[128], stage_buf[64];
	int xfs = !strcmp(fstype, "xfs");
	unsigned long long before, empty;
	struct result r = { .ok = 1 };
	int reached = 1, devfd;

	snprintf(tdir, sizeof(tdir), "%s/t", mnt);
	dir = tdir;
	stage = stage_buf;
	snprintf(stage_buf, sizeof(stage_buf), "before the first fault");
	remove_tree(tdir);
	sync();
	remount(dev, mnt, fstype, NULL, r);
	empty = free_blocks(mnt);
	for (nth = first; reached; nth++) {
		if (nth > last) {
			fprintf(stderr, "%s: still reaching faults at %u\n", op, last);
			return 1;
		}
		snprintf(stage_buf, sizeof(stage_buf), "fault %u, set up", nth);
		remove_tree(tdir);
		if (mkdir(tdir, 0755))
			die(tdir);
		setup();
		drop_caches();
		devfd = open(dev, O_RDONLY);
		if (devfd < 0)
			die(dev);
		r = run_child(op, &reached);
		lost_metadata_write = fsync(devfd) && errno == EIO;
		close(devfd);
		format_result(line, sizeof(line), reached, r);
		printf("%s fault %u: %s\n", op, nth, line);
		fflush(stdout);
		snprintf(stage_buf, sizeof(stage_buf), "fault %u, cached", nth);
		if (!reached && !r.ok)
			mismatch("the operation failed with no fault injected");
		if (xfs)
			xfs_after_shutdown(dev, mnt, r);
		else
			xtfs_after_shutdown(mnt, r);
		check(op, r);
		sync();
		before = free_blocks(mnt);
		remount(dev, mnt, fstype, fsck_argv, r);
		snprintf(stage_buf, sizeof(stage_buf), "fault %u, remounted", nth);
		/*
		 * xtfs counts free space exactly: what sync left reserved is free again
		 * after a mount. XFS frees post-EOF preallocations and unlinked inodes in
		 * the background: its free space is compared empty against empty.
		 */
		if (!xfs && free_blocks(mnt) != before)
			mismatch(
				"%llu free blocks after sync, %llu after a remount: the difference was left reserved (or freed twice)",
				before, free_blocks(mnt));
		check(op, r);
		if (xfs) {
			remove_tree(tdir);
			sync();
			remount(dev, mnt, fstype, NULL, r);
			if (free_blocks(mnt) != empty)
				mismatch(
					"%llu free blocks with the test's files removed, %llu before the first fault",
					free_blocks(mnt), empty);
		}
	}
	printf("%s: %u fault sites\n", op, nth - 2);
	return 0;
}

int main(int argc, char **argv)
{
	struct result r;
	int reached;

	if (argc < 4) {
		fprintf(stderr,
			"usage: faultop setup DIR OP | run DIR OP NTH | check DIR OP RESULT [STAGE]\n");
		return 2;
	}
	dir = argv[2];
	op_name = argv[1][1] == 'w' ? argv[5] : argv[3];
	if (!strcmp(argv[1], "setup") && argc == 4) {
		setup();
		return 0;
	}
	if (!strcmp(argv[1], "run") && argc == 5) {
		nth = strtoul(argv[4], NULL, 0);
		fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
		if (fail_nth_fd < 0 && nth)
			die("/proc/thread-self/fail-nth");
		r = run(op_name);
		reached = disarm();
		if (r.ok)
			printf("reached=%d result=ok:%ld\n", reached, r.count);
		else if (r.sigbus)
			printf("reached=%d result=sigbus\n", reached);
		else
			printf("reached=%d result=err:%d %s\n", reached, r.err,
			       strerrorname_np(r.err) ?: "?");
		return 0;
	}
	if (!strcmp(argv[1], "sweep") && argc >= 10 && !strcmp(argv[8], "--"))
		return sweep(argv[2], argv[3], argv[4], argv[5], strtoul(argv[6], NULL, 0),
			     strtoul(argv[7], NULL, 0), argv + 9);
	if (!strcmp(argv[1], "check") && (argc == 5 || argc == 6)) {
		stage = argc == 6 ? argv[5] : "cached";
		check(op_name, parse_result(argv[4]));
		return 0;
	}
	fprintf(stderr, "faultop: bad arguments\n");
	return 2;
}
