// SPDX-License-Identifier: GPL-2.0
/*
 * Control, observability and fault injection for iomap_rs, under
 * /sys/kernel/debug/iomap_rs/:
 *
 *   status		ABI version and whether the Rust library initialised.
 *   enabled		Filesystems that opted in (XFS) route buffered writes
 *			and delalloc release through iomap_rs (Y) or C iomap
 *			(N); CONFIG_IOMAP_RS_DEFAULT_ENABLED sets it at boot.
 *			Takes effect at the next write.
 *   buffered_writes	Number of buffered writes through the Rust library
 *			(its C entry point or its Rust API).
 *   zero_ranges, truncate_pages, unshares, page_mkwrites
 *			The same for zeroing, truncation, unsharing and write
 *			faults.
 *   stale_detections	Number of cached mappings the write path found stale.
 *
 * With CONFIG_IOMAP_RS_DEBUG only:
 *
 *   validate_delay_ms	Sleep this long after locking each folio and before
 *			revalidating the mapping, to widen the race window
 *			(the role of XFS's write_delay_ms error tag).
 *   skip_validation	Do not ask the filesystem whether the mapping is
 *			still valid. Reintroduces the corruption, so that
 *			tests can prove they detect it.
 *   bench_release	Reading it runs the delalloc release benchmark
 *			(release_bench.rs) and shows its figures.
 *   release_punch_all	The delalloc release truncates the page cache over
 *			the unused range and punches all of it, as before the
 *			fix that keeps dirty data (destroys mmap writes).
 *   fs_skip_mkwrite_recheck
 *			Turn off a filesystem's recheck of the extent under
 *			its lock before a write fault inserts a delayed
 *			allocation (xtfs honours it).
 *   fs_skip_fsync_serialize
 *			Let a filesystem's fsync persist its extent records
 *			while a write completion changes them, so that the
 *			device gets a mix of two states (xtfs honours it by
 *			splitting the completion's journal handle).
 *   pause/		Pause points (iomap_rs_pause.c).
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/iomap_rs.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "iomap_rs_testfs.h"

#define CREATE_TRACE_POINTS
#include "iomap_rs_trace.h"

static bool enabled = IS_ENABLED(CONFIG_IOMAP_RS_DEFAULT_ENABLED);
#ifdef CONFIG_IOMAP_RS_DEBUG
/* Read by the write path on every folio, without a call (iomap_rs.h). */
bool iomap_rs_skip_validation;
EXPORT_SYMBOL_GPL(iomap_rs_skip_validation);
u32 iomap_rs_validate_delay_ms;
EXPORT_SYMBOL_GPL(iomap_rs_validate_delay_ms);
bool iomap_rs_release_punch_all;
EXPORT_SYMBOL_GPL(iomap_rs_release_punch_all);
bool iomap_rs_fs_skip_mkwrite_recheck;
EXPORT_SYMBOL_GPL(iomap_rs_fs_skip_mkwrite_recheck);
bool iomap_rs_fs_skip_fsync_serialize;
EXPORT_SYMBOL_GPL(iomap_rs_fs_skip_fsync_serialize);
#endif
/* Per CPU: counting must not add a shared cache line to every write. */
static DEFINE_PER_CPU(u64 [IOMAP_RS_NR_COUNTERS], calls);

static const char *const counter_names[IOMAP_RS_NR_COUNTERS] = {
	[IOMAP_RS_BUFFERED_WRITE]	= "buffered_writes",
	[IOMAP_RS_ZERO_RANGE]		= "zero_ranges",
	[IOMAP_RS_TRUNCATE_PAGE]	= "truncate_pages",
	[IOMAP_RS_UNSHARE]		= "unshares",
	[IOMAP_RS_PAGE_MKWRITE]		= "page_mkwrites",
};

static atomic64_t stale_detections = ATOMIC64_INIT(0);

bool iomap_rs_enabled(void)
{
	return READ_ONCE(enabled);
}
EXPORT_SYMBOL_GPL(iomap_rs_enabled);

void iomap_rs_count(unsigned int counter)
{
	if (counter < IOMAP_RS_NR_COUNTERS)
		this_cpu_inc(calls[counter]);
}
EXPORT_SYMBOL_GPL(iomap_rs_count);

void iomap_rs_note_stale(struct inode *inode, loff_t offset, u64 length,
			 u64 old_cookie, u64 new_cookie, bool remapped)
{
	atomic64_inc(&stale_detections);
	trace_iomap_rs_stale(inode, offset, length, old_cookie, new_cookie,
			     remapped);
}
EXPORT_SYMBOL_GPL(iomap_rs_note_stale);

static int status_show(struct seq_file *m, void *v)
{
	seq_printf(m, "abi_version: %u\n", iomap_rs_abi_version());
	seq_printf(m, "rust_initialized: %s\n",
		   iomap_rs_initialized() ? "yes" : "no");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(status);

#ifdef CONFIG_IOMAP_RS_DEBUG
static DEFINE_MUTEX(bench_lock);

static int bench_release_show(struct seq_file *m, void *v)
{
	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	ssize_t ret;

	if (!buf)
		return -ENOMEM;
	/* One run at a time: the C release's punch counter is global. */
	mutex_lock(&bench_lock);
	ret = iomap_rs_bench_release(buf, PAGE_SIZE);
	mutex_unlock(&bench_lock);
	if (ret >= 0)
		seq_puts(m, buf);
	kfree(buf);
	return ret < 0 ? ret : 0;
}
DEFINE_SHOW_ATTRIBUTE(bench_release);
#endif /* CONFIG_IOMAP_RS_DEBUG */

/* The counters read as decimal numbers; writing a value resets them. */
static int counter_get(void *data, u64 *val)
{
	*val = atomic64_read(data);
	return 0;
}

static int counter_set(void *data, u64 val)
{
	atomic64_set(data, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(counter_fops, counter_get, counter_set, "%llu\n");

/* @data is the counter's index, as a pointer. */
static int calls_get(void *data, u64 *val)
{
	unsigned int counter = (uintptr_t)data;
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(calls, cpu)[counter];
	*val = sum;
	return 0;
}

static int calls_set(void *data, u64 val)
{
	unsigned int counter = (uintptr_t)data;
	int cpu;

	for_each_possible_cpu(cpu)
		per_cpu(calls, cpu)[counter] = cpu ? 0 : val;
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(calls_fops, calls_get, calls_set, "%llu\n");

static int __init iomap_rs_control_init(void)
{
	struct dentry *dir = debugfs_create_dir("iomap_rs", NULL);
	unsigned int i;

	debugfs_create_file("status", 0444, dir, NULL, &status_fops);
	debugfs_create_bool("enabled", 0644, dir, &enabled);
	for (i = 0; i < IOMAP_RS_NR_COUNTERS; i++)
		debugfs_create_file_unsafe(counter_names[i], 0644, dir,
					   (void *)(uintptr_t)i, &calls_fops);
	debugfs_create_file_unsafe("stale_detections", 0644, dir,
				   &stale_detections, &counter_fops);
#ifdef CONFIG_IOMAP_RS_DEBUG
	debugfs_create_u32("validate_delay_ms", 0644, dir,
			   &iomap_rs_validate_delay_ms);
	debugfs_create_bool("skip_validation", 0644, dir,
			    &iomap_rs_skip_validation);
	debugfs_create_file("bench_release", 0400, dir, NULL,
			    &bench_release_fops);
	debugfs_create_bool("release_punch_all", 0644, dir,
			    &iomap_rs_release_punch_all);
	debugfs_create_bool("fs_skip_mkwrite_recheck", 0644, dir,
			    &iomap_rs_fs_skip_mkwrite_recheck);
	debugfs_create_bool("fs_skip_fsync_serialize", 0644, dir,
			    &iomap_rs_fs_skip_fsync_serialize);
	iomap_rs_pause_init(dir);
#endif
	return 0;
}
late_initcall(iomap_rs_control_init);
