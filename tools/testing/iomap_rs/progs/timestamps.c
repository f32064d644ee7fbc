// SPDX-License-Identifier: GPL-2.0
/*
 * timestamps: what a filesystem does with time stamps, checked from the
 * calls' side.
 *
 * usage: timestamps order DIR N
 *        timestamps atime PATH relatime|strictatime|noatime
 *
 * order: creates N files in DIR and changes each at once (a write, then a
 * chmod): no time stamp may go backwards. A filesystem that stamps new
 * inodes with the fine clock while the VFS stamps changes with the coarse
 * one (current_time()) goes backwards whenever the change comes within a
 * tick of the creation.
 *
 * atime: reads PATH (a regular file: one byte; a directory: its entries)
 * after setting its times with utimensat, and checks the access time
 * against the mount's atime mode, as touch_atime() and relatime_need_update()
 * define it:
 *   1. atime before mtime: relatime and strictatime update it, noatime not;
 *   2. atime after mtime and ctime (in the future, as utimensat sets ctime to
 *      now): only strictatime updates it.
 * An updated atime must be the time of the read (within a second: the VFS
 * stamps with the coarse clock).
 * Prints PATH's access time at the end ("atime SEC.NSEC"), for the caller
 * to check it after a remount.
 *
 * Exit 0 if everything is as expected, 1 if not (each case printed), 2 on
 * errors.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* a < b: -1, a == b: 0, a > b: 1 */
static int cmp_ts(struct timespec a, struct timespec b)
{
	if (a.tv_sec != b.tv_sec)
		return a.tv_sec < b.tv_sec ? -1 : 1;
	if (a.tv_nsec != b.tv_nsec)
		return a.tv_nsec < b.tv_nsec ? -1 : 1;
	return 0;
}

static int order(const char *dir, int n)
{
	int i, backwards = 0;

	for (i = 0; i < n; i++) {
		char path[4096];
		struct stat made, changed;
		int fd;

		snprintf(path, sizeof(path), "%s/t%d", dir, i);
		fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0644);
		if (fd < 0)
			die(path);
		if (fstat(fd, &made))
			die("fstat");
		if (write(fd, "x", 1) != 1)
			die("write");
		if (fchmod(fd, 0600))
			die("fchmod");
		if (fstat(fd, &changed))
			die("fstat");
		if (cmp_ts(changed.st_mtim, made.st_mtim) < 0 ||
		    cmp_ts(changed.st_ctim, made.st_ctim) < 0) {
			if (backwards++ < 5)
				printf(
					"%s: created at mtime %ld.%09ld ctime %ld.%09ld, then written at mtime %ld.%09ld ctime %ld.%09ld: backwards\n",
					path, made.st_mtim.tv_sec,
					made.st_mtim.tv_nsec,
					made.st_ctim.tv_sec,
					made.st_ctim.tv_nsec,
					changed.st_mtim.tv_sec,
					changed.st_mtim.tv_nsec,
					changed.st_ctim.tv_sec,
					changed.st_ctim.tv_nsec);
		}
		close(fd);
	}
	printf("%d of %d files had a time stamp go backwards\n", backwards, n);
	return backwards ? 1 : 0;
}

static void access_path(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		die(path);
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);

		if (!d)
			die(path);
		while (readdir(d))
			;
		closedir(d);
	} else {
		char c;
		int fd = open(path, O_RDONLY);

		if (fd < 0)
			die(path);
		if (read(fd, &c, 1) < 0)
			die("read");
		close(fd);
	}
}

static int atime_case(const char *path, const char *mode, int n,
		      long atime_ago, long mtime_ago, int relatime_updates)
{
	struct timespec now, times[2];
	struct stat st;
	int strict = !strcmp(mode, "strictatime");
	int noatime = !strcmp(mode, "noatime");
	int expect = noatime ? 0 : strict ? 1 : relatime_updates;
	int updated;

	clock_gettime(CLOCK_REALTIME, &now);
	times[0] = (struct timespec){ now.tv_sec - atime_ago, 0 };
	times[1] = (struct timespec){ now.tv_sec - mtime_ago, 0 };
	if (utimensat(AT_FDCWD, path, times, 0))
		die("utimensat");
	access_path(path);
	if (stat(path, &st))
		die(path);
	updated = cmp_ts(st.st_atim, times[0]) != 0;
	printf("case %d (atime %lds ago, mtime %lds ago, ctime now), %s: atime %s, expected %s\n",
	       n, atime_ago, mtime_ago, mode,
	       updated ? "updated" : "kept", expect ? "updated" : "kept");
	if (updated && (st.st_atim.tv_sec < now.tv_sec - 1 ||
			st.st_atim.tv_sec > now.tv_sec + 60)) {
		printf("case %d: the new atime %ld.%09ld is not the read's time %ld.%09ld\n",
		       n, st.st_atim.tv_sec, st.st_atim.tv_nsec, now.tv_sec,
		       now.tv_nsec);
		return 1;
	}
	return updated != expect;
}

static int atime_modes(const char *path, const char *mode)
{
	struct stat st;
	int bad = 0;

	if (strcmp(mode, "relatime") && strcmp(mode, "strictatime") &&
	    strcmp(mode, "noatime")) {
		fprintf(stderr, "unknown atime mode %s\n", mode);
		return 2;
	}
	bad |= atime_case(path, mode, 1, 200, 100, 1);
	bad |= atime_case(path, mode, 2, -3600, 7200, 0);
	if (stat(path, &st))
		die(path);
	printf("atime %ld.%09ld\n", st.st_atim.tv_sec, st.st_atim.tv_nsec);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "order"))
		return order(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "atime"))
		return atime_modes(argv[2], argv[3]);
	fprintf(stderr, "usage: timestamps order DIR N\n"
			"       timestamps atime PATH relatime|strictatime|noatime\n");
	return 2;
}
