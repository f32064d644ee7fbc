// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites of iomap_rs. The cases are Rust functions (iomap_rs_tests.rs);
 * this file only declares the suites to KUnit and gives Rust a way to fail a
 * case with a message that lands in the KUnit result.
 */
#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/iomap.h>
#include <linux/iomap_rs.h>
#include <linux/moduleparam.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/random.h>
#include <linux/sizes.h>

#include "iomap_rs_kunit.h"

void iomap_rs_kunit_fail(struct kunit *test, const char *file, int line,
			 const char *msg)
{
	KUNIT_FAIL(test, "%s:%d: %s", file, line, msg);
}

void iomap_rs_kunit_info(struct kunit *test, const char *msg)
{
	kunit_info(test, "%s", msg);
}

static void iomap_rs_smoke_c_sees_rust(struct kunit *test)
{
	/* The Rust object is linked in, initialised, and built against our header. */
	KUNIT_EXPECT_EQ(test, iomap_rs_abi_version(), IOMAP_RS_ABI_VERSION);
	KUNIT_EXPECT_TRUE(test, iomap_rs_initialized());
}

static struct kunit_case iomap_rs_smoke_cases[] = {
	KUNIT_CASE(iomap_rs_smoke_c_sees_rust),
	KUNIT_CASE(iomap_rs_smoke_abi_version),
	KUNIT_CASE(iomap_rs_smoke_file_range),
	KUNIT_CASE(iomap_rs_smoke_first_chunk_walk),
	{}
};

static struct kunit_suite iomap_rs_smoke_suite = {
	.name = "iomap_rs_smoke",
	.test_cases = iomap_rs_smoke_cases,
};

/*
 * The iterator against a fake filesystem whose validity cookie changes
 * mid-write: stale mapping -> short write -> remap of the rest.
 */
static struct kunit_case iomap_rs_iter_cases[] = {
	KUNIT_CASE(iomap_rs_iter_arithmetic),
	KUNIT_CASE(iomap_rs_iter_srcmap_clamps),
	KUNIT_CASE(iomap_rs_iter_stale_remap),
	KUNIT_CASE(iomap_rs_iter_stale_before_progress),
	KUNIT_CASE(iomap_rs_iter_zero_length_and_eof),
	KUNIT_CASE(iomap_rs_iter_errors),
	{}
};

static struct kunit_suite iomap_rs_iter_suite = {
	.name = "iomap_rs_iter",
	.test_cases = iomap_rs_iter_cases,
};

/*
 * The delalloc release against real page cache. The inodes belong to a pseudo
 * filesystem mounted for the suite and use iomap's address space operations,
 * so per-block uptodate and dirty state, and SEEK_DATA/SEEK_HOLE over it,
 * behave as on XFS; nothing is ever read or written back, the cache is built
 * by the cases and thrown away with the inode.
 */
#define IOMAP_RS_KUNIT_MAGIC	0x696f7273	/* "iors" */

static ulong punch_seed;
module_param(punch_seed, ulong, 0444);
MODULE_PARM_DESC(punch_seed,
		 "seed of iomap_rs_punch's randomized cases (0: random)");

static struct vfsmount *iomap_rs_kunit_mnt;

static const struct address_space_operations iomap_rs_kunit_aops = {
	.dirty_folio		= iomap_dirty_folio,
	.invalidate_folio	= iomap_invalidate_folio,
	.release_folio		= iomap_release_folio,
	.is_partially_uptodate	= iomap_is_partially_uptodate,
};

static int iomap_rs_kunit_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, IOMAP_RS_KUNIT_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type iomap_rs_kunit_fs_type = {
	.name			= "iomap_rs_kunit",
	.init_fs_context	= iomap_rs_kunit_init_fs_context,
	.kill_sb		= kill_anon_super,
};

u64 iomap_rs_kunit_punch_seed(void)
{
	return punch_seed ? punch_seed : get_random_u64();
}

struct inode *iomap_rs_kunit_inode_new(unsigned int blkbits)
{
	struct inode *inode;

	if (blkbits < SECTOR_SHIFT || blkbits > PAGE_SHIFT)
		return NULL;
	inode = alloc_anon_inode(iomap_rs_kunit_mnt->mnt_sb);
	if (IS_ERR(inode))
		return NULL;
	inode->i_mode = S_IFREG | 0600;
	inode->i_blkbits = blkbits;
	inode->i_mapping->a_ops = &iomap_rs_kunit_aops;
	mapping_set_large_folios(inode->i_mapping);
	return inode;
}

void iomap_rs_kunit_inode_put(struct inode *inode)
{
	iput(inode);
}

static int iomap_rs_punch_suite_init(struct kunit_suite *suite)
{
	iomap_rs_kunit_mnt = kern_mount(&iomap_rs_kunit_fs_type);
	if (IS_ERR(iomap_rs_kunit_mnt))
		return PTR_ERR(iomap_rs_kunit_mnt);
	/* A limit the cases can exceed without overflowing loff_t. */
	iomap_rs_kunit_mnt->mnt_sb->s_maxbytes = SZ_1T;
	return 0;
}

static void iomap_rs_punch_suite_exit(struct kunit_suite *suite)
{
	kern_unmount(iomap_rs_kunit_mnt);
}

static struct kunit_case iomap_rs_punch_cases[] = {
	KUNIT_CASE(iomap_rs_punch_model),
	KUNIT_CASE(iomap_rs_punch_dirty_beyond_eof),
	KUNIT_CASE(iomap_rs_punch_folio_spanning_eof),
	KUNIT_CASE(iomap_rs_punch_bad_ranges),
	KUNIT_CASE(iomap_rs_punch_error_stops_unlocked),
	KUNIT_CASE(iomap_rs_punch_c_abi),
	{}
};

static struct kunit_suite iomap_rs_punch_suite = {
	.name = "iomap_rs_punch",
	.suite_init = iomap_rs_punch_suite_init,
	.suite_exit = iomap_rs_punch_suite_exit,
	.test_cases = iomap_rs_punch_cases,
};

kunit_test_suites(&iomap_rs_smoke_suite, &iomap_rs_iter_suite,
		  &iomap_rs_punch_suite);
