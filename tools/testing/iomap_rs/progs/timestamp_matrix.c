// SPDX-License-Identifier: GPL-2.0
/*
 * timestamp_matrix: which time stamps each operation changes, on the inodes
 * it touches, printed as a table that the caller compares between two
 * filesystems (XFS, the reference, and the one under test).
 *
 * usage: timestamp_matrix DIR
 *
 * Every case runs in a directory of its own under DIR: it sets up the
 * files it needs, waits for the coarse clock (the one the VFS stamps with,
 * current_time()) to move on, takes the access, modification and change
 * times of the inodes it names, runs the operation, and takes them again.
 * One line per case:
 *
 *   NAME: INODE a? m? c?; INODE a? m? c?
 *
 * where ? is "+" (changed: later than before), "=" (unchanged) or "-"
 * (earlier than before: a time went backwards). An inode the operation
 * creates is shown as "new" if its three times are the same, with "a?" and
 * so on against its parent's new modification time otherwise. An operation
 * that fails prints "NAME: error ERRNO-NAME" instead.
 *
 * The operations are those POSIX and Linux define time stamps for: write,
 * read, truncate and ftruncate in both directions and to the same size,
 * open with O_TRUNC, fallocate's modes, a write through a shared mapping
 * (after msync), create, mkdir, mknod (FIFO), symlink, link, unlink, rmdir,
 * rename (within and across directories, over an existing file, of a
 * directory), chmod, chown, utimensat, setxattr (a new attribute, a new
 * value), removexattr, setting and removing a POSIX ACL and reading a
 * directory. What atime
 * does depends on the mount's options: the caller runs the table under each.
 *
 * Exit 0 once the table is printed (the caller judges it), 1 on errors of
 * the setup.
 */
#include <dirent.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/xattr.h>
#include <time.h>

#include "progs.h"

/* Longer than a tick of the coarse clock at any HZ (10 ms at HZ=100). */
#define TICK_NS	25000000L
#define MAX_TRACKED 4

struct times {
	struct timespec a, m, c;
};

struct tracked {
	const char *label;
	char path[4096];
	struct times before;
};

static char base[2048];
static struct tracked tracked[MAX_TRACKED];
static int ntracked;

static struct times times_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		die(path);
	return (struct times){ st.st_atim, st.st_mtim, st.st_ctim };
}

static int cmp_ts(struct timespec a, struct timespec b)
{
	if (a.tv_sec != b.tv_sec)
		return a.tv_sec < b.tv_sec ? -1 : 1;
	if (a.tv_nsec != b.tv_nsec)
		return a.tv_nsec < b.tv_nsec ? -1 : 1;
	return 0;
}

static char change(struct timespec before, struct timespec after)
{
	int c = cmp_ts(before, after);

	return c < 0 ? '+' : c == 0 ? '=' : '-';
}

/* The path of NAME in the current case's directory. */
static const char *at(const char *name)
{
	static char paths[4][4096];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", base, name);
	return p;
}

/*
 * Waits until the coarse clock is past where it was: every time stamp given
 * before is then older than any given after.
 */
static void tick(void)
{
	struct timespec ts = { 0, TICK_NS }, start, now;

	clock_gettime(CLOCK_REALTIME_COARSE, &start);
	nanosleep(&ts, NULL);
	ts.tv_nsec = 1000000;
	for (;;) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		if (cmp_ts(start, now) < 0)
			break;
		nanosleep(&ts, NULL);
	}
}

static void make_file(const char *name, int bytes)
{
	static char buf[8192];
	int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	memset(buf, 0x5a, sizeof(buf));
	if (fd < 0 || (bytes && write(fd, buf, bytes) != bytes) || fsync(fd))
		die(name);
	close(fd);
}

static void make_dir(const char *name)
{
	if (mkdir(at(name), 0755))
		die(name);
}

/* Names inode NAME, shown as LABEL: its times before the operation. */
static void track(const char *label, const char *name)
{
	struct tracked *t = &tracked[ntracked++];

	if (ntracked > MAX_TRACKED) {
		fprintf(stderr, "more than %d inodes tracked\n", MAX_TRACKED);
		exit(1);
	}
	t->label = label;
	snprintf(t->path, sizeof(t->path), "%s", at(name));
}

/* Waits for the clock, then takes the times of the inodes named. */
static void ready(void)
{
	int i;

	tick();
	for (i = 0; i < ntracked; i++)
		tracked[i].before = times_of(tracked[i].path);
}

/* The line of case NAME whose operation returned RET (-1: errno). */
static void report(const char *name, int ret, const char *created)
{
	int i;

	if (ret < 0) {
		printf("%s: error %s\n", name, strerrorname_np(errno));
		return;
	}
	printf("%s:", name);
	for (i = 0; i < ntracked; i++) {
		struct times now = times_of(tracked[i].path);
		struct times *b = &tracked[i].before;

		printf("%s %s a%c m%c c%c", i ? ";" : "", tracked[i].label,
		       change(b->a, now.a), change(b->m, now.m), change(b->c, now.c));
	}
	if (created) {
		struct times t = times_of(at(created));

		if (!cmp_ts(t.a, t.m) && !cmp_ts(t.m, t.c))
			printf("; %s new", created);
		else
			printf("; %s a%c m%c c%c (against its own mtime)", created,
			       change(t.m, t.a), '=', change(t.m, t.c));
	}
	printf("\n");
	fflush(stdout);
}

static int case_dir;
static const char *root;

/* A fresh directory for the next case, as the current one. */
static void next_case(void)
{
	snprintf(base, sizeof(base), "%s/%d", root, case_dir++);
	if (mkdir(base, 0755))
		die(base);
	ntracked = 0;
}

static int write_at(const char *name, int flags, off_t off, size_t len)
{
	char buf[16] = "0123456789abcde";
	int fd = open(at(name), O_WRONLY | flags);
	ssize_t ret;

	if (fd < 0)
		return -1;
	ret = flags & O_APPEND ? write(fd, buf, len) : pwrite(fd, buf, len, off);
	close(fd);
	return ret < 0 ? -1 : 0;
}

static int read_file(const char *name)
{
	char buf[16];
	int fd = open(at(name), O_RDONLY);
	ssize_t ret;

	if (fd < 0)
		return -1;
	ret = read(fd, buf, sizeof(buf));
	close(fd);
	return ret < 0 ? -1 : 0;
}

static int list_dir(const char *name)
{
	DIR *d = opendir(at(name));

	if (!d)
		return -1;
	while (readdir(d))
		;
	closedir(d);
	return 0;
}

static int ftruncate_to(const char *name, off_t size)
{
	int fd = open(at(name), O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = ftruncate(fd, size);
	close(fd);
	return ret;
}

static int fallocate_mode(const char *name, int mode, off_t off, off_t len)
{
	int fd = open(at(name), O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = fallocate(fd, mode, off, len);
	close(fd);
	return ret;
}

static int mmap_write(const char *name)
{
	int fd = open(at(name), O_RDWR), ret;
	char *p;

	if (fd < 0)
		return -1;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -1;
	}
	p[100] = 'x';
	ret = msync(p, 4096, MS_SYNC);
	munmap(p, 4096);
	close(fd);
	return ret;
}

/* A file case: "f" has 8 KiB; the operation's result is reported. */
#define FILE_CASE(label, op) do {			\
		next_case();				\
		make_file("f", 8192);			\
		track("file", "f");			\
		ready();				\
		report(label, (op), NULL);		\
	} while (0)

/* A case in directory "d" holding file "f" (which has a second link "g"). */
#define DIR_CASE(label, op, created) do {		\
		next_case();				\
		make_dir("d");				\
		make_file("d/f", 100);			\
		if (link(at("d/f"), at("g")))		\
			die("link");			\
		track("dir", "d");			\
		track("file", "g");			\
		ready();				\
		report(label, (op), created);		\
	} while (0)

static int rename_across(int dir)
{
	make_dir("d2");
	if (dir)
		make_dir("d/sub");
	track("target dir", "d2");
	if (dir)
		track("moved dir", "d/sub");
	ready();
	if (rename(at(dir ? "d/sub" : "d/f"), at(dir ? "d2/sub" : "d2/f")))
		return -1;
	/* The moved directory has no other name: seen where it went. */
	if (dir)
		snprintf(tracked[ntracked - 1].path, sizeof(tracked[0].path), "%s", at("d2/sub"));
	return 0;
}

/*
 * An access ACL as setfacl -m u:65534:r gives a file of mode 0644, in the
 * representation of system.posix_acl_access (little-endian, as x86 is; no
 * padding: 4 bytes, then 8 for each entry).
 */
static const struct {
	uint32_t version;
	struct {
		uint16_t tag, perm;
		uint32_t id;
	} e[5];
} acl = {
	2, { { 0x01, 6, -1 }, { 0x02, 4, 65534 }, { 0x04, 4, -1 }, { 0x10, 4, -1 },
	     { 0x20, 4, -1 } }
};

_Static_assert(sizeof(acl) == 4 + 5 * 8, "the ACL's representation has no padding");

/* Sets up a case on file "f" that has the extended attribute NAME. */
static void xattr_case(const char *name, const void *value, size_t size)
{
	next_case();
	make_file("f", 100);
	if (setxattr(at("f"), name, value, size, 0))
		die("setxattr");
	track("file", "f");
	ready();
}

int main(int argc, char **argv)
{
	struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 1;
	}
	root = argv[1];

	FILE_CASE("write", write_at("f", 0, 0, 10));
	FILE_CASE("write beyond the end", write_at("f", 0, 8192, 10));
	FILE_CASE("write with O_APPEND", write_at("f", O_APPEND, 0, 10));
	FILE_CASE("write of 0 bytes", write_at("f", 0, 0, 0));
	FILE_CASE("read", read_file("f"));
	FILE_CASE("truncate(2) up", truncate(at("f"), 65536));
	FILE_CASE("truncate(2) down", truncate(at("f"), 100));
	FILE_CASE("truncate(2) to the same size", truncate(at("f"), 8192));
	FILE_CASE("ftruncate(2) up", ftruncate_to("f", 65536));
	FILE_CASE("ftruncate(2) down", ftruncate_to("f", 100));
	FILE_CASE("ftruncate(2) to the same size", ftruncate_to("f", 8192));
	FILE_CASE("open with O_TRUNC", ({
		int fd = open(at("f"), O_WRONLY | O_TRUNC);

		fd < 0 ? -1 : close(fd);
	}));
	FILE_CASE("fallocate beyond the end", fallocate_mode("f", 0, 8192, 8192));
	FILE_CASE("fallocate KEEP_SIZE beyond the end",
		  fallocate_mode("f", FALLOC_FL_KEEP_SIZE, 8192, 8192));
	FILE_CASE("fallocate within the file", fallocate_mode("f", 0, 0, 4096));
	FILE_CASE("fallocate PUNCH_HOLE",
		  fallocate_mode("f", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
	FILE_CASE("fallocate ZERO_RANGE", fallocate_mode("f", FALLOC_FL_ZERO_RANGE, 0, 4096));
	FILE_CASE("fallocate ZERO_RANGE beyond the end",
		  fallocate_mode("f", FALLOC_FL_ZERO_RANGE, 8192, 4096));
	FILE_CASE("write through a shared mapping, msync", mmap_write("f"));
	FILE_CASE("chmod", chmod(at("f"), 0600));
	FILE_CASE("chown", chown(at("f"), 1, 1));
	FILE_CASE("utimensat to now", utimensat(AT_FDCWD, at("f"), now, 0));

	FILE_CASE("setxattr of a new attribute", setxattr(at("f"), "user.t", "1", 1, 0));

	/* Changing and removing an attribute the file has. */
	xattr_case("user.t", "1", 1);
	report("setxattr of a new value",
	       setxattr(at("f"), "user.t", "22", 2, XATTR_REPLACE), NULL);
	xattr_case("user.t", "1", 1);
	report("removexattr", removexattr(at("f"), "user.t"), NULL);

	/* POSIX ACLs: set (which changes the mode too) and removed. */
	FILE_CASE("setting an access ACL",
		  setxattr(at("f"), "system.posix_acl_access", &acl, sizeof(acl), 0));
	xattr_case("system.posix_acl_access", &acl, sizeof(acl));
	report("removing the access ACL", removexattr(at("f"), "system.posix_acl_access"), NULL);

	/* A second read: the first updated atime past mtime and ctime. */
	next_case();
	make_file("f", 100);
	tick();
	if (read_file("f"))
		die("read");
	track("file", "f");
	ready();
	report("read again", read_file("f"), NULL);

	DIR_CASE("create", ({
		int fd = open(at("d/new"), O_WRONLY | O_CREAT, 0644);

		fd < 0 ? -1 : close(fd);
	}), "d/new");
	DIR_CASE("mkdir", mkdir(at("d/new"), 0755), "d/new");
	DIR_CASE("mknod FIFO", mknod(at("d/new"), S_IFIFO | 0644, 0), "d/new");
	DIR_CASE("symlink", symlink("f", at("d/new")), "d/new");
	DIR_CASE("link", link(at("g"), at("d/new")), NULL);
	DIR_CASE("unlink", unlink(at("d/f")), NULL);
	DIR_CASE("rename within the directory", rename(at("d/f"), at("d/h")), NULL);
	DIR_CASE("rename over an existing file", ({
		/* The replaced inode, seen through a link of its own. */
		make_file("d/h", 10);
		if (link(at("d/h"), at("keep")))
			die("link");
		track("replaced", "keep");
		ready();
		rename(at("d/f"), at("d/h"));
	}), NULL);
	DIR_CASE("rename to another directory", rename_across(0), NULL);
	DIR_CASE("rename a directory to another", rename_across(1), NULL);
	DIR_CASE("rmdir", ({
		make_dir("d/sub");
		ready();
		rmdir(at("d/sub"));
	}), NULL);
	DIR_CASE("read the directory", list_dir("d"), NULL);

	ret = fflush(stdout);
	return ret ? 1 : 0;
}
