// SPDX-License-Identifier: GPL-2.0
/*
 * listdir DIR BUFSIZE [types]: list DIR with getdents64() into a buffer of
 * BUFSIZE bytes, so that a directory of many entries takes many calls and
 * each call resumes from the position the previous one left. Then, for every
 * position seen, lseek() there and check that the next entry read is the one
 * that followed it (what telldir()/seekdir() rely on). Prints one name per
 * line in the order read, with "types" preceded by the entry's d_type as
 * ls -l shows a type (- d l c b p s, ? for DT_UNKNOWN); exits 1 on any error
 * or mismatch.
 */
#include <dirent.h>
#include <stdint.h>
#include <sys/syscall.h>
#include "progs.h"

struct dirent64_hdr {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

#define MAX_ENTRIES 100000

static char *names[MAX_ENTRIES];
static int64_t offs[MAX_ENTRIES];
static char types[MAX_ENTRIES];

/* d_type as ls -l shows a type. */
static char type_char(unsigned char type)
{
	switch (type) {
	case DT_REG:
		return '-';
	case DT_DIR:
		return 'd';
	case DT_LNK:
		return 'l';
	case DT_CHR:
		return 'c';
	case DT_BLK:
		return 'b';
	case DT_FIFO:
		return 'p';
	case DT_SOCK:
		return 's';
	default:
		return '?';
	}
}

int main(int argc, char **argv)
{
	size_t bufsize;
	char *buf;
	int fd, n = 0, i;
	long got;

	if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "types")))
		die("usage: listdir DIR BUFSIZE [types]");
	bufsize = strtoul(argv[2], NULL, 0);
	buf = malloc(bufsize);
	fd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (!buf || fd < 0)
		die(argv[1]);
	while ((got = syscall(SYS_getdents64, fd, buf, bufsize)) > 0) {
		for (long at = 0; at < got;) {
			struct dirent64_hdr *d = (void *)(buf + at);

			if (n == MAX_ENTRIES)
				die("too many entries");
			types[n] = type_char(d->type);
			names[n] = strdup(d->name);
			offs[n++] = d->off;
			at += d->reclen;
		}
	}
	if (got < 0)
		die("getdents64");
	/* d_off of entry i is where entry i + 1 starts. */
	for (i = 0; i + 1 < n; i++) {
		struct dirent64_hdr *d = (void *)buf;

		if (lseek(fd, offs[i], SEEK_SET) != offs[i])
			die("lseek");
		got = syscall(SYS_getdents64, fd, buf, bufsize);
		if (got <= 0 || strcmp(d->name, names[i + 1])) {
			fprintf(stderr, "after %s (offset %lld): read %s, expected %s\n", names[i],
				(long long)offs[i], got > 0 ? d->name : "nothing", names[i + 1]);
			return 1;
		}
	}
	for (i = 0; i < n; i++)
		if (argc == 4)
			printf("%c %s\n", types[i], names[i]);
		else
			puts(names[i]);
	return 0;
}
