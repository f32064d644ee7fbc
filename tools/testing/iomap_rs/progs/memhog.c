// SPDX-License-Identifier: GPL-2.0
/*
 * memhog: take memory away from the page cache, so that what the tests do
 * next runs under reclaim (kswapd and direct reclaim, which evict unused
 * inodes through the superblock shrinkers).
 *
 * usage: memhog MIB
 *
 * Maps MIB MiB of private anonymous memory, faults every page in, prints
 * "ready" and sleeps until killed. Without swap the memory cannot be
 * reclaimed; the caller leaves enough for the rest. Its OOM score is the
 * highest, so that the OOM killer, if it comes to that, takes it first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long mib;
	size_t len;
	char *p, *end;
	FILE *adj;

	mib = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
	if (!mib || *end) {
		fprintf(stderr, "usage: memhog MIB\n");
		return 2;
	}
	adj = fopen("/proc/self/oom_score_adj", "w");
	if (adj) {
		fputs("1000\n", adj);
		fclose(adj);
	}
	len = (size_t)mib << 20;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
