// SPDX-License-Identifier: GPL-2.0

#include <linux/blkdev.h>
#include <linux/delayed_call.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iomap.h>
#include <linux/lockdep.h>
#include <linux/pagemap.h>

/*
 * A file_system_type registered from Rust lives in allocated memory, not in
 * a module's static data, so lockdep must be told about its lock class keys
 * before the first superblock uses them, and told to forget them after the
 * last one is gone (unregister_filesystem() waits for that).
 */
static void fs_type_key(struct lock_class_key *key, bool reg)
{
	if (reg)
		lockdep_register_key(key);
	else
		lockdep_unregister_key(key);
}

static void fs_type_keys(struct file_system_type *type, bool reg)
{
	int i;

	fs_type_key(&type->s_lock_key, reg);
	fs_type_key(&type->s_umount_key, reg);
	fs_type_key(&type->s_vfs_rename_key, reg);
	for (i = 0; i < SB_FREEZE_LEVELS; i++)
		fs_type_key(&type->s_writers_key[i], reg);
	fs_type_key(&type->i_lock_key, reg);
	fs_type_key(&type->i_mutex_key, reg);
	fs_type_key(&type->invalidate_lock_key, reg);
	fs_type_key(&type->i_mutex_dir_key, reg);
}

void rust_helper_fs_type_register_keys(struct file_system_type *type)
{
	fs_type_keys(type, true);
}

void rust_helper_fs_type_unregister_keys(struct file_system_type *type)
{
	fs_type_keys(type, false);
}

loff_t rust_helper_bdev_nr_bytes(struct block_device *bdev)
{
	return bdev_nr_bytes(bdev);
}

void *rust_helper_kmap_local_folio(struct folio *folio, size_t offset)
{
	return kmap_local_folio(folio, offset);
}

bool rust_helper_dir_emit(struct dir_context *ctx, const char *name, int namelen,
			  u64 ino, unsigned int type)
{
	return dir_emit(ctx, name, namelen, ino, type);
}

void rust_helper_i_uid_write(struct inode *inode, uid_t uid)
{
	i_uid_write(inode, uid);
}

void rust_helper_i_gid_write(struct inode *inode, gid_t gid)
{
	i_gid_write(inode, gid);
}

uid_t rust_helper_i_uid_read(const struct inode *inode)
{
	return i_uid_read(inode);
}

gid_t rust_helper_i_gid_read(const struct inode *inode)
{
	return i_gid_read(inode);
}

struct timespec64 rust_helper_inode_set_atime_to_ts(struct inode *inode,
						    struct timespec64 ts)
{
	return inode_set_atime_to_ts(inode, ts);
}

struct timespec64 rust_helper_inode_set_mtime_to_ts(struct inode *inode,
						    struct timespec64 ts)
{
	return inode_set_mtime_to_ts(inode, ts);
}

struct timespec64 rust_helper_inode_set_ctime_to_ts(struct inode *inode,
						    struct timespec64 ts)
{
	return inode_set_ctime_to_ts(inode, ts);
}

struct timespec64 rust_helper_inode_get_atime(const struct inode *inode)
{
	return inode_get_atime(inode);
}

struct timespec64 rust_helper_inode_get_mtime(const struct inode *inode)
{
	return inode_get_mtime(inode);
}

struct timespec64 rust_helper_inode_get_ctime(const struct inode *inode)
{
	return inode_get_ctime(inode);
}

/*
 * Dirty an uptodate, locked folio of a block device's page cache, all of it.
 * Without buffer heads the block device's folios carry iomap's per-block
 * state, whose dirty bits writeback follows: folio_mark_dirty() would not set
 * them.
 */
void rust_helper_bdev_folio_mark_dirty(struct folio *folio)
{
#ifdef CONFIG_BUFFER_HEAD
	folio_mark_dirty(folio);
#else
	iomap_dirty_folio(folio->mapping, folio);
#endif
}

void rust_helper_mapping_set_large_folios(struct address_space *mapping)
{
	mapping_set_large_folios(mapping);
}

void rust_helper_set_delayed_call(struct delayed_call *call,
				  void (*fn)(void *), void *arg)
{
	set_delayed_call(call, fn, arg);
}

void rust_helper_mark_inode_dirty(struct inode *inode)
{
	mark_inode_dirty(inode);
}
