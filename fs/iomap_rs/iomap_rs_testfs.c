// SPDX-License-Identifier: GPL-2.0
/*
 * A filesystem without storage for the KUnit suites, the test module and the
 * benchmark of the delalloc release: its inodes have iomap's address space
 * operations, so their page cache carries iomap's per-block uptodate and
 * dirty state and SEEK_DATA/SEEK_HOLE behave over it as on XFS. The whole
 * file is a hole on "disk": what is not cached reads as zeroes (through C
 * iomap's read path), and nothing is ever written back; callers build the
 * cache themselves, or write through the library, and it goes away with the
 * inode. It is kernel-mounted on first use and never registered, so it cannot
 * be mounted from user space.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/iomap.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/sizes.h>

#include "iomap_rs_testfs.h"

#define IOMAP_RS_TESTFS_MAGIC	0x696f7273	/* "iors" */

static DEFINE_MUTEX(testfs_mount_lock);
static struct vfsmount *testfs_mnt;

/* Everything is a hole: iomap zeroes the blocks of a folio not yet uptodate. */
static int testfs_iomap_begin(struct inode *inode, loff_t pos, loff_t length,
			      unsigned int flags, struct iomap *iomap,
			      struct iomap *srcmap)
{
	iomap->type = IOMAP_HOLE;
	iomap->addr = IOMAP_NULL_ADDR;
	iomap->offset = pos;
	iomap->length = length;
	return 0;
}

static const struct iomap_ops testfs_hole_ops = {
	.iomap_begin		= testfs_iomap_begin,
};

static int testfs_read_folio(struct file *file, struct folio *folio)
{
	return iomap_read_folio(folio, &testfs_hole_ops);
}

static const struct address_space_operations testfs_aops = {
	.read_folio		= testfs_read_folio,
	.dirty_folio		= iomap_dirty_folio,
	.invalidate_folio	= iomap_invalidate_folio,
	.release_folio		= iomap_release_folio,
	.is_partially_uptodate	= iomap_is_partially_uptodate,
};

static int testfs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, IOMAP_RS_TESTFS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type testfs_type = {
	.name			= "iomap_rs_testfs",
	.init_fs_context	= testfs_init_fs_context,
	.kill_sb		= kill_anon_super,
};

static struct super_block *testfs_sb(void)
{
	struct vfsmount *mnt;

	mutex_lock(&testfs_mount_lock);
	if (!testfs_mnt) {
		mnt = kern_mount(&testfs_type);
		if (!IS_ERR(mnt)) {
			/* A limit callers can exceed without overflowing loff_t. */
			mnt->mnt_sb->s_maxbytes = SZ_1T;
			testfs_mnt = mnt;
		}
	}
	mutex_unlock(&testfs_mount_lock);
	return testfs_mnt ? testfs_mnt->mnt_sb : NULL;
}

static struct inode *testfs_inode_new(unsigned int blkbits, loff_t size,
				      bool large_folios)
{
	struct super_block *sb = testfs_sb();
	struct inode *inode;

	if (!sb || blkbits < SECTOR_SHIFT || blkbits > PAGE_SHIFT ||
	    size < 0 || size > sb->s_maxbytes)
		return NULL;
	inode = alloc_anon_inode(sb);
	if (IS_ERR(inode))
		return NULL;
	inode->i_mode = S_IFREG | 0600;
	inode->i_blkbits = blkbits;
	inode->i_mapping->a_ops = &testfs_aops;
	if (large_folios)
		mapping_set_large_folios(inode->i_mapping);
	/* Nobody else knows the inode yet: no size update to serialise with. */
	i_size_write(inode, size);
	return inode;
}

struct inode *iomap_rs_testfs_inode_new(unsigned int blkbits, loff_t size)
{
	return testfs_inode_new(blkbits, size, true);
}
EXPORT_SYMBOL_GPL(iomap_rs_testfs_inode_new);

struct inode *iomap_rs_testfs_inode_new_small_folios(unsigned int blkbits,
						     loff_t size)
{
	return testfs_inode_new(blkbits, size, false);
}
EXPORT_SYMBOL_GPL(iomap_rs_testfs_inode_new_small_folios);

static const struct file_operations testfs_fops = {
	.llseek		= generic_file_llseek,
	.read_iter	= generic_file_read_iter,
};

struct file *iomap_rs_testfs_open(struct inode *inode)
{
	struct file *file;

	if (!testfs_sb() || inode->i_sb != testfs_mnt->mnt_sb)
		return ERR_PTR(-EINVAL);
	/* The file's dentry takes over a reference of its own. */
	ihold(inode);
	file = alloc_file_pseudo(inode, testfs_mnt, "iomap_rs_test",
				 O_RDWR | O_LARGEFILE, &testfs_fops);
	if (IS_ERR(file))
		iput(inode);
	return file;
}
EXPORT_SYMBOL_GPL(iomap_rs_testfs_open);

void iomap_rs_testfs_init_kiocb(struct kiocb *iocb, struct file *file,
				loff_t pos, bool nowait)
{
	init_sync_kiocb(iocb, file);
	iocb->ki_pos = pos;
	if (nowait)
		iocb->ki_flags |= IOCB_NOWAIT;
}
EXPORT_SYMBOL_GPL(iomap_rs_testfs_init_kiocb);
