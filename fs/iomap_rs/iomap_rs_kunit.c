// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites of iomap_rs. The cases are Rust functions (iomap_rs_tests.rs);
 * this file only declares the suites to KUnit and gives Rust a way to fail a
 * case with a message that lands in the KUnit result.
 */
#include <kunit/test.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iomap_rs.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "iomap_rs_kunit.h"
#include "iomap_rs_testfs.h"

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
 * The delalloc release against real page cache, on inodes of
 * iomap_rs_testfs.c.
 */
static ulong punch_seed;
module_param(punch_seed, ulong, 0444);
MODULE_PARM_DESC(punch_seed,
		 "seed of iomap_rs_punch's randomized cases (0: random)");

u64 iomap_rs_kunit_punch_seed(void)
{
	return punch_seed ? punch_seed : get_random_u64();
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
	.test_cases = iomap_rs_punch_cases,
};

/*
 * The library's write loop (kernel::iomap::write::buffered_write) on files of
 * iomap_rs_testfs.c, from kernel and user buffers.
 */
unsigned long iomap_rs_kunit_user_buffer(struct kunit *test, const void *data,
					 size_t len)
{
	size_t mapped = round_up(len, PAGE_SIZE);
	size_t offset = mapped - len;
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, mapped + PAGE_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (IS_ERR_VALUE(addr))
		return 0;
	/* The page after the data faults. */
	if (vm_munmap(addr + mapped, PAGE_SIZE))
		return 0;
	if (copy_to_user((void __user *)(addr + offset), data, len))
		return 0;
	return addr + offset;
}

/*
 * Through the C entry point, a filesystem whose iomap_begin returns inline
 * data: iomap_rs does not implement it and fails the write with -EOPNOTSUPP
 * (a userspace errno, as C's callers return for what they do not support),
 * after calling iomap_end, with nothing written, so that what begin reserved
 * is released. The file stays empty.
 */
static char inline_data[128];
static int inline_ends;
static s64 inline_written = -1;

static int inline_begin(struct inode *inode, loff_t pos, loff_t length,
			unsigned int flags, struct iomap *iomap,
			struct iomap *srcmap)
{
	iomap->type = IOMAP_INLINE;
	iomap->addr = IOMAP_NULL_ADDR;
	iomap->offset = 0;
	iomap->length = sizeof(inline_data);
	iomap->inline_data = inline_data;
	return 0;
}

static int inline_end(struct inode *inode, loff_t pos, loff_t length,
		      ssize_t written, unsigned int flags, struct iomap *iomap)
{
	inline_ends++;
	inline_written = written;
	return 0;
}

static const struct iomap_ops inline_ops = {
	.iomap_begin	= inline_begin,
	.iomap_end	= inline_end,
};

/*
 * Writes @len bytes of @buf at @pos of @file, a file of the test filesystem,
 * through iomap_rs_file_buffered_write() with @ops and @private, holding
 * i_rwsem as its callers do.
 */
static ssize_t c_abi_write(struct file *file, loff_t pos, char *buf,
			   size_t len, const struct iomap_ops *ops,
			   void *private)
{
	struct kvec kvec = { .iov_base = buf, .iov_len = len };
	struct iov_iter from;
	struct kiocb iocb;
	ssize_t ret;

	iomap_rs_testfs_init_kiocb(&iocb, file, pos, false);
	iov_iter_kvec(&from, ITER_SOURCE, &kvec, 1, len);
	inode_lock(file_inode(file));
	ret = iomap_rs_file_buffered_write(&iocb, &from, ops, private);
	inode_unlock(file_inode(file));
	return ret;
}

/* An open file on a new inode of the test filesystem, or NULL. */
static struct file *c_abi_file(struct inode *inode)
{
	struct file *file;

	if (!inode)
		return NULL;
	file = iomap_rs_testfs_open(inode);
	iput(inode);
	return IS_ERR(file) ? NULL : file;
}

static void iomap_rs_write_c_abi_inline(struct kunit *test)
{
	struct file *file = c_abi_file(iomap_rs_testfs_inode_new(PAGE_SHIFT, 0));
	char buf[100] = { 1 };
	ssize_t ret;

	KUNIT_ASSERT_NOT_NULL(test, file);
	inline_ends = 0;
	inline_written = -1;
	ret = c_abi_write(file, 10, buf, sizeof(buf), &inline_ops, NULL);

	KUNIT_EXPECT_EQ(test, ret, -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, inline_ends, 1);
	KUNIT_EXPECT_EQ(test, inline_written, 0);
	KUNIT_EXPECT_EQ(test, i_size_read(file_inode(file)), 0);
	fput(file);
}

/*
 * Through the C entry point, a filesystem that reaches its iterator with
 * container_of() on the mapping its callbacks get, as btrfs does: iomap_begin,
 * iomap_end, folio_ops->iomap_valid and the delalloc punch (called from
 * iomap_end through iomap_rs_write_delalloc_release(), as XFS does) must all
 * find a struct iomap_iter with the caller's private pointer, the inode and
 * the operation's position and flags. The mapping goes stale at the third
 * folio, so the write is remapped and the short pass punched.
 */
static int iter_marker;
static int iter_bad, iter_begins, iter_ends, iter_valids, iter_punches;

static void iter_check(struct inode *inode, const struct iomap *iomap)
{
	const struct iomap_iter *iter =
		container_of(iomap, struct iomap_iter, iomap);

	if (iter->private != &iter_marker || iter->inode != inode ||
	    !(iter->flags & IOMAP_WRITE) || iter->pos < iomap->offset)
		iter_bad++;
}

static bool iter_valid(struct inode *inode, const struct iomap *iomap)
{
	iter_check(inode, iomap);
	return ++iter_valids != 3;
}

static const struct iomap_folio_ops iter_folio_ops = {
	.iomap_valid	= iter_valid,
};

static int iter_begin(struct inode *inode, loff_t pos, loff_t length,
		      unsigned int flags, struct iomap *iomap,
		      struct iomap *srcmap)
{
	const struct iomap_iter *iter =
		container_of(iomap, struct iomap_iter, iomap);

	if (iter->pos != pos || iter->len != length ||
	    &iter->srcmap != srcmap)
		iter_bad++;
	iter_begins++;
	iomap->type = IOMAP_DELALLOC;
	iomap->addr = IOMAP_NULL_ADDR;
	iomap->offset = pos;
	iomap->length = min_t(loff_t, length, SZ_16K);
	iomap->folio_ops = &iter_folio_ops;
	iomap->validity_cookie = iter_begins;
	iter_check(inode, iomap);
	return 0;
}

static void iter_punch(struct inode *inode, loff_t offset, loff_t length,
		       struct iomap *iomap)
{
	iter_check(inode, iomap);
	iter_punches++;
}

static int iter_end(struct inode *inode, loff_t pos, loff_t length,
		    ssize_t written, unsigned int flags, struct iomap *iomap)
{
	iter_check(inode, iomap);
	iter_ends++;
	if (written < length) {
		filemap_invalidate_lock(inode->i_mapping);
		iomap_rs_write_delalloc_release(inode, pos + written,
						pos + length, flags, iomap,
						iter_punch);
		filemap_invalidate_unlock(inode->i_mapping);
	}
	return 0;
}

static const struct iomap_ops iter_ops = {
	.iomap_begin	= iter_begin,
	.iomap_end	= iter_end,
};

static void iomap_rs_write_c_abi_iter(struct kunit *test)
{
	struct file *file =
		c_abi_file(iomap_rs_testfs_inode_new_small_folios(PAGE_SHIFT, 0));
	static char buf[40000];
	ssize_t ret;

	KUNIT_ASSERT_NOT_NULL(test, file);
	iter_bad = 0;
	iter_begins = 0;
	iter_ends = 0;
	iter_valids = 0;
	iter_punches = 0;
	ret = c_abi_write(file, 0, buf, sizeof(buf), &iter_ops, &iter_marker);

	KUNIT_EXPECT_EQ(test, ret, sizeof(buf));
	KUNIT_EXPECT_EQ(test, iter_bad, 0);
	/*
	 * 16 KiB mappings of one-page folios: the first goes stale at its
	 * third folio, so the write maps [0, 16K), then [8K, 24K) and
	 * [24K, 40000).
	 */
	KUNIT_EXPECT_EQ(test, iter_begins, 3);
	KUNIT_EXPECT_EQ(test, iter_ends, 3);
	KUNIT_EXPECT_GT(test, iter_punches, 0);
	fput(file);
}

static struct kunit_case iomap_rs_write_cases[] = {
	KUNIT_CASE(iomap_rs_write_c_abi_inline),
	KUNIT_CASE(iomap_rs_write_c_abi_iter),
	KUNIT_CASE(iomap_rs_write_faulting_buffer),
	KUNIT_CASE(iomap_rs_write_short_copy_retry),
	KUNIT_CASE(iomap_rs_write_nowait_locked_folio),
	KUNIT_CASE(iomap_rs_write_stale_nth_folio),
	KUNIT_CASE(iomap_rs_write_block_sizes),
	KUNIT_CASE(iomap_rs_write_bad_mappings),
	KUNIT_CASE(iomap_rs_zero_range_cached),
	KUNIT_CASE(iomap_rs_zero_range_bad_input),
	{}
};

static struct kunit_suite iomap_rs_write_suite = {
	.name = "iomap_rs_write",
	.test_cases = iomap_rs_write_cases,
};

kunit_test_suites(&iomap_rs_smoke_suite, &iomap_rs_iter_suite,
		  &iomap_rs_punch_suite, &iomap_rs_write_suite);
