// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs interface of iomap_rs: /sys/kernel/debug/iomap_rs/.
 *
 *   status	ABI version and whether the Rust library initialised.
 */
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/iomap_rs.h>
#include <linux/seq_file.h>

static int status_show(struct seq_file *m, void *v)
{
	seq_printf(m, "abi_version: %u\n", iomap_rs_abi_version());
	seq_printf(m, "rust_initialized: %s\n",
		   iomap_rs_initialized() ? "yes" : "no");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(status);

static int __init iomap_rs_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("iomap_rs", NULL);

	debugfs_create_file("status", 0444, dir, NULL, &status_fops);
	return 0;
}
late_initcall(iomap_rs_debugfs_init);
