/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the test programs: they run as root in the guest and
 * give up on the first error, which the calling test reports.
 */
#ifndef IOMAP_RS_PROGS_H
#define IOMAP_RS_PROGS_H

#define DROP_CACHES "/proc/sys/vm/drop_caches"

#include <errno.h>
#include <fcntl.h>
/*
 * The kernel's tools/include (build_progs passes it): __packed, __aligned(),
 * __printf() and READ_ONCE()/WRITE_ONCE(), as in the kernel and its selftests.
 */
#include <linux/compiler.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * xorshift64*: a fast PRNG whose whole state is *state (never 0), so that a
 * run is reproduced from the seed the test printed.
 */
static inline uint64_t xorshift64star(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

/*
 * Sets order[0..n) to a random permutation's first k entries (the rest a
 * permutation of what is left): a Fisher-Yates shuffle stopped after k steps,
 * drawn from *state.
 */
static inline void random_order(uint64_t *order, uint64_t n, uint64_t k, uint64_t *state)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = 0; i < k; i++) {
		uint64_t j = i + xorshift64star(state) % (n - i), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

/* perror(what) and exit 1: an error, not a verdict on the kernel. */
static inline void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Write `value` to a debugfs knob such as /sys/kernel/debug/iomap_rs/enabled. */
static inline void set_knob(const char *knob, const char *value)
{
	int fd = open(knob, O_WRONLY);

	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		die(knob);
	close(fd);
}

/*
 * iomap_rs's pause points (fs/iomap_rs/iomap_rs_pause.c): a task reaching an
 * armed point for the armed file parks until released.
 */
#define PAUSE_DIR "/sys/kernel/debug/iomap_rs/pause/"

/* Write `cmd` to pause point `point`; 0 or the errno it failed with. */
static inline int pause_cmd(const char *point, const char *cmd)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), PAUSE_DIR "%s", point);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		die(path);
	if (write(fd, cmd, strlen(cmd)) < 0)
		err = errno;
	close(fd);
	return err;
}

/* Arm `point` for the file of `fd` at offsets [start, end). */
static inline void pause_arm(const char *point, int fd, long long start,
			     long long end, unsigned int timeout_ms)
{
	struct stat st;
	char cmd[128];

	if (fstat(fd, &st))
		die("fstat");
	snprintf(cmd, sizeof(cmd), "arm %llu %llu %lld %lld %u",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		 start, end, timeout_ms);
	errno = pause_cmd(point, cmd);
	if (errno)
		die(point);
}

/* Wait until a task parks at `point`: 0, or ETIMEDOUT if none did. */
static inline int pause_wait(const char *point)
{
	return pause_cmd(point, "wait");
}

/* Whether a task is parked at `point` now. */
static inline int pause_parked(const char *point)
{
	char path[128], status[128];
	int fd, n, parked;

	snprintf(path, sizeof(path), PAUSE_DIR "%s", point);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	n = read(fd, status, sizeof(status) - 1);
	close(fd);
	if (n < 0)
		die(path);
	status[n] = '\0';
	if (sscanf(status, "armed=%*d parked=%d", &parked) != 1) {
		fprintf(stderr, "%s: unexpected status %s\n", path, status);
		exit(1);
	}
	return parked;
}

/*
 * Which of two armed points a task parks at first: 0 for `a`, 1 for `b`, -1
 * if neither within `timeout_ms` (the points' own timeout). It polls, which
 * decides nothing by time: either point tells for sure where the task went.
 */
static inline int pause_wait_either(const char *a, const char *b,
				    unsigned int timeout_ms)
{
	unsigned int waited_us;

	for (waited_us = 0; waited_us < timeout_ms * 1000; waited_us += 200) {
		if (pause_parked(a))
			return 0;
		if (pause_parked(b))
			return 1;
		usleep(200);
	}
	return -1;
}

static inline void pause_release(const char *point)
{
	errno = pause_cmd(point, "release");
	if (errno)
		die(point);
}

#endif /* IOMAP_RS_PROGS_H */
