/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the test programs: they run as root in the guest and
 * give up on the first error, which the calling test reports.
 */
#ifndef IOMAP_RS_PROGS_H
#define IOMAP_RS_PROGS_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#endif /* IOMAP_RS_PROGS_H */
