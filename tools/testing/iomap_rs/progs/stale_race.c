// SPDX-License-Identifier: GPL-2.0
/*
 * stale_race: the xfs/559 scenario, sized so that the write really runs into
 * a stale mapping.
 *
 * usage: stale_race race FILE SIZE large|small DELAY_MS KNOB
 *        stale_race verify FILE SIZE
 *
 * FILE is preallocated (unwritten) over [0, SIZE) by the caller. race:
 *
 *  1. write pattern A over the last page, which is left dirty in the cache;
 *     for "small", also read every other page with readahead off, so that the
 *     write below walks order-0 folios instead of creating large ones;
 *  2. set the debugfs knob KNOB (validate_delay_ms) to DELAY_MS, so that the
 *     write sleeps after locking each folio and before revalidating;
 *  3. a child writes pattern B over [0, SIZE - 3072) in one pwrite(): one
 *     cached unwritten mapping for the whole file, ending 1 KiB into the last
 *     page;
 *  4. meanwhile the parent writes the last page back (unwritten -> written
 *     conversion: the extent tree changes) and evicts it from the cache.
 *
 * The write then reaches the last page with a fresh, not uptodate folio. If it
 * still trusts its cached mapping, it believes the block is unwritten and
 * zeroes [SIZE - 3072, SIZE), destroying A on disk; a correct write finds the
 * mapping stale, remaps, reads the block and keeps A.
 *
 * verify checks [0, SIZE - 3072) == B and [SIZE - 3072, SIZE) == A; both
 * modes exit 0 if the content is right, 3 if it is corrupt, 1 on errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progs.h"

#define PAGE 4096
#define PAT_A 0x41
#define PAT_B 0x42

static int verify(int fd, long long size)
{
	long long tail = size - 3072, off;
	char buf[PAGE];

	for (off = 0; off < size; off += PAGE) {
		ssize_t n = pread(fd, buf, PAGE, off);
		int i;

		if (n != PAGE)
			die("pread");
		for (i = 0; i < PAGE; i++) {
			char want = off + i < tail ? PAT_B : PAT_A;

			if (buf[i] != want) {
				printf("corrupt: byte %lld is 0x%02x, expected 0x%02x\n",
				       off + i, (unsigned char)buf[i],
				       (unsigned char)want);
				return 3;
			}
		}
	}
	printf("content ok: B over [0, %lld), A over [%lld, %lld)\n",
	       tail, tail, size);
	return 0;
}

int main(int argc, char **argv)
{
	long long size, len, off;
	char *buf, delay[32];
	int fd, status, small;
	pid_t child;

	if (argc == 4 && !strcmp(argv[1], "verify")) {
		fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			die(argv[2]);
		return verify(fd, strtoll(argv[3], NULL, 0));
	}
	if (argc != 7 || strcmp(argv[1], "race")) {
		fprintf(stderr,
			"usage: %s race FILE SIZE large|small DELAY_MS KNOB\n"
			"       %s verify FILE SIZE\n", argv[0], argv[0]);
		return 2;
	}
	size = strtoll(argv[3], NULL, 0);
	small = !strcmp(argv[4], "small");
	if (size < 4 * PAGE || size % PAGE)
		return 2;
	fd = open(argv[2], O_RDWR);
	buf = malloc(size);
	if (fd < 0 || !buf)
		die("open/malloc");

	memset(buf, PAT_A, PAGE);
	if (pwrite(fd, buf, PAGE, size - PAGE) != PAGE)
		die("pwrite A");
	if (small) {
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM))
			die("fadvise random");
		for (off = 0; off < size - PAGE; off += PAGE)
			if (pread(fd, buf, PAGE, off) != PAGE)
				die("pread");
	}

	snprintf(delay, sizeof(delay), "%s", argv[5]);
	set_knob(argv[6], delay);
	len = size - 3072;
	memset(buf, PAT_B, len);
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		ssize_t n = pwrite(fd, buf, len, 0);

		if (n != len) {
			fprintf(stderr, "pwrite B returned %zd, expected %lld\n",
				n, len);
			_exit(1);
		}
		_exit(0);
	}

	/* Let the child map the range and lock its first folio. */
	usleep(100 * 1000);
	if (sync_file_range(fd, size - PAGE, PAGE,
			    SYNC_FILE_RANGE_WAIT_BEFORE |
			    SYNC_FILE_RANGE_WRITE |
			    SYNC_FILE_RANGE_WAIT_AFTER))
		die("sync_file_range");
	if (posix_fadvise(fd, size - PAGE, PAGE, POSIX_FADV_DONTNEED))
		die("fadvise dontneed");

	if (waitpid(child, &status, 0) < 0)
		die("waitpid");
	set_knob(argv[6], "0");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	if (fsync(fd))
		die("fsync");
	return verify(fd, size);
}
