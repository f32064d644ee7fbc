// SPDX-License-Identifier: GPL-2.0
/*
 * samefile: whether two files have the same content, as cmp(1) says, in
 * 1 MiB reads: cmp reads in blocks of st_blksize (4 KiB here), and under
 * TCG a system call costs more than comparing what it read, so the tests'
 * comparisons of files of megabytes took most of their time in cmp.
 *
 * usage: samefile FILE REFERENCE
 *
 * Exit 0 if the contents are the same; 1 if they differ, printing where:
 * the first differing byte (both values) and how long the run of differing
 * bytes is, or which file is shorter; 2 on errors.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1024 * 1024)

static ssize_t read_full(int fd, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0)
			return -1;
		if (!n)
			break;
		done += n;
	}
	return done;
}

int main(int argc, char **argv)
{
	static char a[CHUNK], b[CHUNK];
	long long off = 0;
	int fa, fb;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE REFERENCE\n", argv[0]);
		return 2;
	}
	fa = open(argv[1], O_RDONLY);
	fb = open(argv[2], O_RDONLY);
	if (fa < 0 || fb < 0) {
		perror(fa < 0 ? argv[1] : argv[2]);
		return 2;
	}
	for (;;) {
		ssize_t na = read_full(fa, a, CHUNK), nb = read_full(fb, b, CHUNK);
		ssize_t n = na < nb ? na : nb, i, j;

		if (na < 0 || nb < 0) {
			perror("read");
			return 2;
		}
		if (memcmp(a, b, n)) {
			for (i = 0; a[i] == b[i]; i++)
				;
			for (j = i; j < n && a[j] != b[j]; j++)
				;
			printf(
				"%s %s differ: byte %lld is 0x%02x, not 0x%02x; %lld bytes differ from there%s\n",
				argv[1], argv[2], off + i, (unsigned char)a[i],
				(unsigned char)b[i], (long long)(j - i),
				j == n ? " on" : "");
			return 1;
		}
		if (na != nb) {
			printf("%s %s differ: %s ends at byte %lld\n", argv[1], argv[2],
			       na < nb ? argv[1] : argv[2], off + n);
			return 1;
		}
		if (!na)
			return 0;
		off += n;
	}
}
