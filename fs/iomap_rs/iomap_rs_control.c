// SPDX-License-Identifier: GPL-2.0
/*
 * Control, observability and fault injection for iomap_rs, under
 * /sys/kernel/debug/iomap_rs/:
 *
 *   status		ABI version and whether the Rust library initialised.
 *   enabled		Filesystems that opted in (XFS) route buffered writes
 *			and delalloc release through iomap_rs (Y, the default)
 *			or C iomap (N). Takes effect at the next write.
 *   buffered_writes	Number of calls of iomap_rs_file_buffered_write().
 *   stale_detections	Number of cached mappings the write path found stale.
 *   validate_delay_ms	Sleep this long after locking each folio and before
 *			revalidating the mapping, to widen the race window
 *			(the role of XFS's write_delay_ms error tag).
 *   skip_validation	Debug only: do not ask the filesystem whether the
 *			mapping is still valid. Reintroduces the corruption,
 *			so that tests can prove they detect it.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/init.h>
#include <linux/iomap_rs.h>
#include <linux/seq_file.h>

#define CREATE_TRACE_POINTS
#include "iomap_rs_trace.h"

static bool enabled = true;
static bool skip_validation;
static u32 validate_delay_ms;
static atomic64_t buffered_writes = ATOMIC64_INIT(0);
static atomic64_t stale_detections = ATOMIC64_INIT(0);

bool iomap_rs_enabled(void)
{
	return READ_ONCE(enabled);
}
EXPORT_SYMBOL_GPL(iomap_rs_enabled);

void iomap_rs_count_write(void)
{
	atomic64_inc(&buffered_writes);
}

void iomap_rs_debug_validate_delay(void)
{
	u32 ms = READ_ONCE(validate_delay_ms);

	if (unlikely(ms))
		msleep(ms);
}

bool iomap_rs_debug_skip_validation(void)
{
	return unlikely(READ_ONCE(skip_validation));
}

void iomap_rs_note_stale(struct inode *inode, loff_t offset, u64 length,
			 u64 old_cookie, u64 new_cookie, bool remapped)
{
	atomic64_inc(&stale_detections);
	trace_iomap_rs_stale(inode, offset, length, old_cookie, new_cookie,
			     remapped);
}

static int status_show(struct seq_file *m, void *v)
{
	seq_printf(m, "abi_version: %u\n", iomap_rs_abi_version());
	seq_printf(m, "rust_initialized: %s\n",
		   iomap_rs_initialized() ? "yes" : "no");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(status);

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

static int __init iomap_rs_control_init(void)
{
	struct dentry *dir = debugfs_create_dir("iomap_rs", NULL);

	debugfs_create_file("status", 0444, dir, NULL, &status_fops);
	debugfs_create_bool("enabled", 0644, dir, &enabled);
	debugfs_create_file_unsafe("buffered_writes", 0644, dir,
				   &buffered_writes, &counter_fops);
	debugfs_create_file_unsafe("stale_detections", 0644, dir,
				   &stale_detections, &counter_fops);
	debugfs_create_u32("validate_delay_ms", 0644, dir, &validate_delay_ms);
	debugfs_create_bool("skip_validation", 0644, dir, &skip_validation);
	return 0;
}
late_initcall(iomap_rs_control_init);
