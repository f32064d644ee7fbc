// SPDX-License-Identifier: GPL-2.0
/*
 * useimage: mount a (possibly damaged) filesystem image and use all of it,
 * for tests/xtfs_used_images.sh.
 *
 *   useimage DEV MNT FSTYPE
 *
 * Mounts DEV on MNT; reads every regular file (each data segment that
 * SEEK_DATA and SEEK_HOLE find, and its last byte), reads every symbolic
 * link, lists every directory (nftw); then changes things: creates
 * a file and writes 64 KiB into it, fsyncs it, renames it into a new
 * directory, appends to and truncates the first file found, makes and
 * removes a directory, unlinks what it made; unmounts. Prints one line:
 *
 *   mount-failed ERRNO-NAME         the mount failed
 *   used OPS ok                     every operation succeeded
 *   used OPS errors N first ERRNO-NAME OP PATH
 *                                   N operations failed, the first one named
 *
 * Exit status 0 unless the program itself could not run (2), or the unmount
 * failed (1: a file system must always unmount).
 */
#include <ftw.h>
#include <sys/mount.h>
#include "progs.h"

static const char *mnt;
static long ops, errors;
static char first[512];
static char first_regular[4096];

/* Records the outcome of operation `op` on `path` (0 or -1 with errno set). */
static void done(int ret, const char *op, const char *path)
{
	ops++;
	if (!ret)
		return;
	if (!errors++)
		snprintf(first, sizeof(first), "%s %s %s", strerrorname_np(errno) ?: "?", op,
			 path);
}

/*
 * Reads what file `fd` of `size` bytes holds: each data segment, then its
 * last byte. Not every byte to the end: a size that damage made exabytes
 * large is valid (a sparse file), and reading its hole would never end.
 * Returns 0, or -1 with errno set.
 */
static int read_data(int fd, off_t size)
{
	static char buf[65536];
	off_t data = 0, next, hole;
	ssize_t n;

	for (;;) {
		next = lseek(fd, data, SEEK_DATA);
		if (next < 0)
			break;
		hole = lseek(fd, next, SEEK_HOLE);
		if (hole < 0)
			return -1;
		/* Each segment is after the last, or the walk would not end. */
		if (next < data || hole <= next) {
			errno = EINVAL;
			return -1;
		}
		for (data = next; data < hole; data += n) {
			n = pread(fd, buf, hole - data < (off_t)sizeof(buf) ?
				  (size_t)(hole - data) : sizeof(buf), data);
			if (n < 0)
				return -1;
			/* End of file before the hole that SEEK_HOLE found. */
			if (!n) {
				errno = EIO;
				return -1;
			}
		}
	}
	if (errno != ENXIO)
		return -1;
	return size > 0 && pread(fd, buf, 1, size - 1) < 0 ? -1 : 0;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	static char target[4096];
	int fd;

	(void)ftw;
	switch (type) {
	case FTW_F:
		if (!S_ISREG(st->st_mode))
			break;
		if (!first_regular[0])
			snprintf(first_regular, sizeof(first_regular), "%s", path);
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			done(-1, "open", path);
			break;
		}
		done(read_data(fd, st->st_size), "read", path);
		close(fd);
		break;
	case FTW_SL:
		done(readlink(path, target, sizeof(target)) < 0 ? -1 : 0, "readlink", path);
		break;
	case FTW_DNR:
		errno = EACCES;
		done(-1, "readdir", path);
		break;
	case FTW_NS:
		done(-1, "stat", path);
		break;
	}
	return 0;
}

static const char *in(const char *name)
{
	static char buf[4][4096];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", mnt, name);
	return buf[i];
}

static void change(void)
{
	static char data[65536];
	int fd;

	memset(data, 0x5a, sizeof(data));
	fd = open(in("useimage-new"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	done(fd < 0 ? -1 : 0, "create", "useimage-new");
	if (fd >= 0) {
		done(pwrite(fd, data, sizeof(data), 0) == sizeof(data) ? 0 : -1, "write",
		     "useimage-new");
		done(fsync(fd), "fsync", "useimage-new");
		close(fd);
	}
	done(mkdir(in("useimage-dir"), 0755), "mkdir", "useimage-dir");
	done(rename(in("useimage-new"), in("useimage-dir/moved")), "rename", "useimage-new");
	if (first_regular[0]) {
		fd = open(first_regular, O_WRONLY | O_APPEND);
		done(fd < 0 ? -1 : 0, "open for append", first_regular);
		if (fd >= 0) {
			done(write(fd, data, 4096) == 4096 ? 0 : -1, "append", first_regular);
			done(ftruncate(fd, 1000), "truncate", first_regular);
			close(fd);
		}
	}
	done(unlink(in("useimage-dir/moved")), "unlink", "useimage-dir/moved");
	done(rmdir(in("useimage-dir")), "rmdir", "useimage-dir");
	/* This filesystem only: a sync(2) would also commit the other lane's. */
	fd = open(mnt, O_RDONLY | O_DIRECTORY);
	done(fd < 0 ? -1 : syncfs(fd), "syncfs", mnt);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: useimage DEV MNT FSTYPE\n");
		return 2;
	}
	mnt = argv[2];
	if (mount(argv[1], mnt, argv[3], 0, NULL)) {
		printf("mount-failed %s\n", strerrorname_np(errno) ?: "?");
		return 0;
	}
	if (nftw(mnt, visit, 32, FTW_PHYS))
		done(-1, "walk", mnt);
	change();
	if (errors)
		printf("used %ld errors %ld first %s\n", ops, errors, first);
	else
		printf("used %ld ok\n", ops);
	if (umount2(mnt, 0)) {
		perror("umount");
		return 1;
	}
	return 0;
}
