// SPDX-License-Identifier: GPL-2.0
/*
 * faultwrite: write() from a user buffer whose second page is not mapped.
 *
 * usage: faultwrite FILE OFFSET
 *
 * The buffer is three pages; page 1 is unmapped after page 0 is filled with
 * 0xab. The write must be short: exactly the first page is written and the
 * rest of the file is left as it was (checked by the caller). Prints the
 * return value of write() ("wrote N") or the error ("error E").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	char *buf;
	ssize_t ret;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE OFFSET\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CREAT, 0644);
	buf = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || buf == MAP_FAILED) {
		perror("open/mmap");
		return 2;
	}
	memset(buf, 0xab, 3 * page);
	if (munmap(buf + page, page)) {
		perror("munmap");
		return 2;
	}
	if (lseek(fd, strtoll(argv[2], NULL, 0), SEEK_SET) < 0) {
		perror("lseek");
		return 2;
	}
	ret = write(fd, buf, 3 * page);
	if (ret < 0)
		printf("error %s\n", strerror(errno));
	else
		printf("wrote %zd\n", ret);
	return 0;
}
