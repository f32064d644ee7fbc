// SPDX-License-Identifier: GPL-2.0
/*
 * insn_profile: a QEMU TCG plugin for make profile. It counts the guest
 * instructions and memory accesses executed, per translation block, and at
 * every mark the guest makes writes what ran since the previous mark to
 * OUT.N (N = 1, 2, ...), one line per block that ran:
 *
 *	START_ADDRESS INSTRUCTIONS MEMORY_ACCESSES
 *
 * The guest marks with the instruction "xchg %bx,%bx" (66 87 db, a no-op
 * that compilers do not emit; progs/insn_mark.c). Counts are exact for what
 * ran to the end of a block; a block left early (a fault) counts whole. A
 * rep-prefixed string instruction counts once per iteration: TCG runs each
 * iteration as a block of its own (a 4 KiB rep movsb is 4096). Under
 * TCG the time a path takes follows these two counts, unlike the call counts
 * ftrace gives: they include inlined code and Rust functions, which have no
 * ftrace entry in 6.12.
 *
 * Usage: qemu ... -plugin PATH/insn_profile.so,out=OUT. The counters are not
 * atomic: run the guest on one vCPU (profile.sh does).
 *
 * Built on the host by profile.sh (gcc -shared -fPIC), with the declarations
 * of qemu-plugin-api.h.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-plugin-api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_API_VERSION;

/*
 * One translation of a block. A block translated again (after a flush, or
 * its page written) gets another: the dump sums them by address.
 */
struct block {
	uint64_t start;
	uint64_t insns;
	/* Incremented by the translated code, once per execution. */
	uint64_t execs;
	/* Incremented by the translated code, once per memory access. */
	uint64_t mem;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct block **blocks;
static size_t nr_blocks, max_blocks;
static const char *out;
static unsigned int marks;

static const unsigned char mark_insn[] = { 0x66, 0x87, 0xdb };

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* At a mark: what ran since the previous one, to OUT.N, then counting anew. */
static void mark(unsigned int vcpu_index, void *userdata)
{
	char path[4096];
	FILE *f;
	size_t i;

	(void)vcpu_index;
	(void)userdata;
	pthread_mutex_lock(&lock);
	snprintf(path, sizeof(path), "%s.%u", out, ++marks);
	f = fopen(path, "w");
	if (!f)
		die(path);
	for (i = 0; i < nr_blocks; i++) {
		struct block *b = blocks[i];

		if (b->execs)
			fprintf(f, "%016" PRIx64 " %" PRIu64 " %" PRIu64 "\n", b->start,
				b->insns * b->execs, b->mem);
		b->execs = 0;
		b->mem = 0;
	}
	if (fclose(f))
		die(path);
	pthread_mutex_unlock(&lock);
}

static void translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	struct block *b = calloc(1, sizeof(*b));

	(void)id;
	if (!b)
		die("calloc");
	b->start = qemu_plugin_tb_vaddr(tb);
	b->insns = n;
	pthread_mutex_lock(&lock);
	if (nr_blocks == max_blocks) {
		max_blocks = max_blocks ? 2 * max_blocks : 65536;
		blocks = realloc(blocks, max_blocks * sizeof(*blocks));
		if (!blocks)
			die("realloc");
	}
	blocks[nr_blocks++] = b;
	pthread_mutex_unlock(&lock);

	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->execs, 1);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_RW,
						     QEMU_PLUGIN_INLINE_ADD_U64, &b->mem, 1);
		if (qemu_plugin_insn_size(insn) == sizeof(mark_insn) &&
		    !memcmp(qemu_plugin_insn_data(insn), mark_insn, sizeof(mark_insn)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, mark, QEMU_PLUGIN_CB_NO_REGS,
							       NULL);
	}
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info,
					   int argc, char **argv)
{
	int i;

	(void)info;
	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			out = argv[i] + 4;
	if (!out) {
		fprintf(stderr, "insn_profile: no out=PATH argument\n");
		return 1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, translate);
	return 0;
}
