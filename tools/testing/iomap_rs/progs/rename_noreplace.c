// SPDX-License-Identifier: GPL-2.0
/*
 * rename_noreplace OLD NEW: renameat2(OLD, NEW, RENAME_NOREPLACE); prints the
 * error and exits 1 if it fails (EEXIST when NEW exists).
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <linux/fs.h>
#include "progs.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: rename_noreplace OLD NEW\n");
		return 2;
	}
	if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2],
		    RENAME_NOREPLACE))
		die("renameat2");
	return 0;
}
