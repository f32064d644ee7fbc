// SPDX-License-Identifier: GPL-2.0
/*
 * writecase: the edge cases of buffered write(), each printed as one line so
 * that the results under C iomap and iomap_rs can be compared.
 *
 * usage: writecase CASE FILE
 *
 *   efbig	a write ending at the largest loff_t (s_maxbytes decides)
 *   fsize	a write at RLIMIT_FSIZE (SIGXFSZ ignored): EFBIG
 *   zero	a zero-length write
 *   nowait	an RWF_NOWAIT write into a hole
 *   kill	a large write killed by SIGKILL part way through: prints
 *		"killed" and the file size, which the caller checks against
 *		the content
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *what, ssize_t ret)
{
	if (ret < 0)
		printf("%s: error %s\n", what, strerror(errno));
	else
		printf("%s: wrote %zd\n", what, ret);
}

int main(int argc, char **argv)
{
	static char buf[65536];
	const char *c;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s efbig|fsize|zero|nowait|kill FILE\n",
			argv[0]);
		return 2;
	}
	c = argv[1];
	fd = open(argv[2], O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		perror(argv[2]);
		return 2;
	}
	memset(buf, 0x5a, sizeof(buf));

	if (!strcmp(c, "efbig")) {
		report(c, pwrite(fd, buf, 8191, 0x7fffffffffffe000LL));
	} else if (!strcmp(c, "fsize")) {
		struct rlimit rl = { 1 << 20, 1 << 20 };

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl))
			return 2;
		report(c, pwrite(fd, buf, 8192, 1 << 20));
	} else if (!strcmp(c, "zero")) {
		report(c, pwrite(fd, buf, 0, 4096));
	} else if (!strcmp(c, "nowait")) {
		struct iovec iov = { buf, 8192 };

		report(c, pwritev2(fd, &iov, 1, 1 << 20, RWF_NOWAIT));
	} else if (!strcmp(c, "kill")) {
		size_t len = 256 << 20;
		char *big = malloc(len);
		struct stat st;
		pid_t child;
		int status;

		if (!big)
			return 2;
		memset(big, 0x5a, len);
		child = fork();
		if (!child) {
			ssize_t n = pwrite(fd, big, len, 0);

			/* Only reached if the write finished before the kill. */
			_exit(n == (ssize_t)len ? 0 : 1);
		}
		usleep(300 * 1000);
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		if (fstat(fd, &st))
			return 2;
		printf("%s: %s, size %s than the write\n", c,
		       WIFSIGNALED(status) ? "killed" : "finished",
		       st.st_size < (off_t)len ? "less" : "not less");
		printf("size=%lld\n", (long long)st.st_size);
	} else {
		fprintf(stderr, "unknown case %s\n", c);
		return 2;
	}
	return 0;
}
