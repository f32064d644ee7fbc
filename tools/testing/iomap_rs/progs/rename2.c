// SPDX-License-Identifier: GPL-2.0
/*
 * rename2 noreplace|exchange|whiteout OLD NEW: renameat2(OLD, NEW) with
 * RENAME_NOREPLACE (EEXIST when NEW exists), RENAME_EXCHANGE (both names
 * swap their inodes) or RENAME_WHITEOUT (a whiteout, a character device node
 * 0:0, is left at OLD); prints the error and exits 1 if it fails.
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <linux/fs.h>
#include "progs.h"

int main(int argc, char **argv)
{
	unsigned int flags = 0;

	if (argc == 4 && !strcmp(argv[1], "noreplace"))
		flags = RENAME_NOREPLACE;
	else if (argc == 4 && !strcmp(argv[1], "exchange"))
		flags = RENAME_EXCHANGE;
	else if (argc == 4 && !strcmp(argv[1], "whiteout"))
		flags = RENAME_WHITEOUT;
	if (!flags) {
		fprintf(stderr, "usage: rename2 noreplace|exchange|whiteout OLD NEW\n");
		return 2;
	}
	if (syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags))
		die("renameat2");
	return 0;
}
