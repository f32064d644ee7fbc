// SPDX-License-Identifier: GPL-2.0

#include <linux/blkdev.h>
#include <linux/buffer_head.h>
#include <linux/cred.h>
#include <linux/delayed_call.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iomap.h>
#if IS_ENABLED(CONFIG_IOMAP_RS)
#include <linux/iomap_rs.h>
#endif
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/sched/mm.h>
#include <linux/security.h>

/*
 * A file_system_type registered from Rust lives in allocated memory, not in
 * a module's static data, so lockdep must be told about its lock class keys
 * before the first superblock uses them, and told to forget them after the
 * last one is gone: unregister_filesystem() does not wait for that, so the
 * Rust side forgets them only when the owning module is being unloaded.
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

/*
 * The inode cache of a filesystem type, as C filesystems make theirs: slabs
 * counted as reclaimable (shrinkers free inodes) and charged to the memory
 * cgroup of the task that allocates (SLAB_ACCOUNT).
 */
struct kmem_cache *rust_helper_fs_inode_cache_create(const char *name,
						     unsigned int size,
						     unsigned int align)
{
	return kmem_cache_create(name, size, align,
				 SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT, NULL);
}

/*
 * An inode's memory from @cache, on the memory cgroup's list_lru of @sb's
 * inodes, so that reclaim in a cgroup finds the inodes it charged.
 */
void *rust_helper_alloc_inode_sb(struct super_block *sb,
				 struct kmem_cache *cache, gfp_t gfp)
{
	return alloc_inode_sb(sb, cache, gfp);
}

/*
 * Whether the module owning @type is being unloaded: its reference count
 * reached zero, so no superblock of the type exists and no mount holds the
 * type (each holds a reference to the owner). A built-in type's owner is
 * never unloaded.
 */
bool rust_helper_fs_type_owner_going(struct file_system_type *type)
{
#ifdef CONFIG_MODULES
	return type->owner && type->owner->state == MODULE_STATE_GOING;
#else
	return false;
#endif
}

/*
 * Called by put_super: whether superblock @sb still has inodes, which can
 * only be inodes whose reference was leaked (generic_shutdown_super has
 * evicted every unused one, and no file is open). The VFS reports them and
 * frees the superblock under them; they keep pointing to the operation
 * tables and code of the module that owns the filesystem type (their file
 * operations, their page cache's address-space operations), so that module
 * is pinned for good.
 */
bool rust_helper_fs_pin_owner_if_inodes_left(struct super_block *sb)
{
	bool left;

	spin_lock(&sb->s_inode_list_lock);
	left = !list_empty(&sb->s_inodes);
	spin_unlock(&sb->s_inode_list_lock);
#ifdef CONFIG_MODULES
	if (left && sb->s_type->owner)
		__module_get(sb->s_type->owner);
#endif
	return left;
}

unsigned int rust_helper_memalloc_nofs_save(void)
{
	return memalloc_nofs_save();
}

void rust_helper_memalloc_nofs_restore(unsigned int flags)
{
	memalloc_nofs_restore(flags);
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
 * Dirty bytes [off, off + len) of an uptodate, locked folio of a block
 * device's page cache: the blocks they touch, not the whole folio, whose
 * other blocks may be file data that a filesystem writes to the device
 * directly (their cached copies are then stale). With buffer heads, the
 * block device's writeback (block_write_full_folio) writes the dirty buffers
 * of a folio, and when a dirty folio has none, it makes them all dirty: so a
 * folio without buffers, as readahead (mpage) leaves them, gets clean ones
 * first (uptodate, as the folio is; all dirty if the folio already was).
 * Without buffer heads the block device's folios carry iomap's per-block
 * state, whose dirty bits its writeback follows.
 */
int rust_helper_bdev_folio_mark_range_dirty(struct folio *folio, size_t off,
					    size_t len)
{
#ifdef CONFIG_BUFFER_HEAD
	struct buffer_head *head = folio_buffers(folio), *bh;
	size_t pos = 0;

	if (!head)
		head = create_empty_buffers(folio, i_blocksize(folio->mapping->host),
					    0);
	bh = head;
	do {
		/*
		 * A failed write of the buffer cleared its uptodate bit, not
		 * the folio's: its bytes are still the newest, as the folio
		 * says.
		 */
		if (pos < off + len && pos + bh->b_size > off) {
			set_buffer_uptodate(bh);
			mark_buffer_dirty(bh);
		}
		pos += bh->b_size;
		bh = bh->b_this_page;
	} while (bh != head);
	return 0;
#elif IS_ENABLED(CONFIG_IOMAP_RS)
	int ret = iomap_folio_state_prepare(folio->mapping->host, folio, 0);

	if (ret)
		return ret;
	iomap_folio_set_range_dirty(folio, off, len);
	filemap_dirty_folio(folio->mapping, folio);
	return 0;
#else
	/* No per-block state to set from here: only whole folios. */
	return -EOPNOTSUPP;
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

ssize_t rust_helper_generic_write_sync(struct kiocb *iocb, ssize_t count)
{
	return generic_write_sync(iocb, count);
}

/*
 * The owner and mode of a new inode in @dir, as inode_init_owner() sets them
 * for a mount without an ID mapping: the caller's fsuid, and its fsgid or
 * the group of a set-group-ID directory, whose new subdirectories inherit
 * the bit.
 */
void rust_helper_fs_new_owner(const struct inode *dir, umode_t *mode,
			      uid_t *uid, gid_t *gid)
{
	*uid = from_kuid(&init_user_ns, current_fsuid());
	if (dir->i_mode & S_ISGID) {
		*gid = i_gid_read(dir);
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	} else {
		*gid = from_kgid(&init_user_ns, current_fsgid());
	}
}

/*
 * The extended attributes the LSMs give a new inode, which @copy copies out
 * (kernel::fs's Created::init_security); without CONFIG_SECURITY the call
 * is inline and gives none.
 */
int rust_helper_fs_init_security(struct inode *inode, struct inode *dir,
				 const struct qstr *name,
				 int (*copy)(struct inode *inode,
					     const struct xattr *xattrs,
					     void *data),
				 void *data)
{
	return security_inode_init_security(inode, dir, name, copy, data);
}

/*
 * POSIX ACLs (kernel::fs::acl). Without CONFIG_FS_POSIX_ACL no superblock
 * gets SB_POSIXACL: no ACL is ever made, and these fail or do nothing.
 */
struct posix_acl *rust_helper_posix_acl_dup(struct posix_acl *acl)
{
	return posix_acl_dup(acl);
}

void rust_helper_posix_acl_release(struct posix_acl *acl)
{
	posix_acl_release(acl);
}

/*
 * The ACL whose xattr representation (ids in the initial user namespace, as
 * stored on disk) is @value, checked as set_posix_acl() checks a new one:
 * -EINVAL if it is not a valid ACL with at least one entry.
 */
struct posix_acl *rust_helper_fs_acl_from_xattr(const void *value, size_t size)
{
#ifdef CONFIG_FS_POSIX_ACL
	struct posix_acl *acl;
	int err;

	acl = posix_acl_from_xattr(&init_user_ns, value, size);
	if (IS_ERR(acl))
		return acl;
	if (!acl)
		return ERR_PTR(-EINVAL);
	err = posix_acl_valid(&init_user_ns, acl);
	if (err) {
		posix_acl_release(acl);
		return ERR_PTR(err);
	}
	return acl;
#else
	return ERR_PTR(-EOPNOTSUPP);
#endif
}

/* The xattr representation of @acl, or its size if @buffer is NULL. */
int rust_helper_fs_acl_to_xattr(const struct posix_acl *acl, void *buffer,
				size_t size)
{
#ifdef CONFIG_FS_POSIX_ACL
	return posix_acl_to_xattr(&init_user_ns, acl, buffer, size);
#else
	return -EOPNOTSUPP;
#endif
}

int rust_helper_fs_acl_update_mode(struct mnt_idmap *idmap,
				   struct inode *inode, umode_t *mode,
				   struct posix_acl **acl)
{
#ifdef CONFIG_FS_POSIX_ACL
	return posix_acl_update_mode(idmap, inode, mode, acl);
#else
	return -EOPNOTSUPP;
#endif
}

void rust_helper_fs_set_cached_acl(struct inode *inode, int type,
				   struct posix_acl *acl)
{
#ifdef CONFIG_FS_POSIX_ACL
	set_cached_acl(inode, type, acl);
#endif
}

int rust_helper_fs_acl_create(struct inode *dir, umode_t *mode,
			      struct posix_acl **default_acl,
			      struct posix_acl **acl)
{
	return posix_acl_create(dir, mode, default_acl, acl);
}

int rust_helper_fs_acl_chmod(struct mnt_idmap *idmap, struct dentry *dentry,
			     umode_t mode)
{
	return posix_acl_chmod(idmap, dentry, mode);
}

void rust_helper_sb_start_pagefault(struct super_block *sb)
{
	sb_start_pagefault(sb);
}

void rust_helper_sb_end_pagefault(struct super_block *sb)
{
	sb_end_pagefault(sb);
}

void rust_helper_sb_start_intwrite(struct super_block *sb)
{
	sb_start_intwrite(sb);
}

bool rust_helper_sb_start_intwrite_trylock(struct super_block *sb)
{
	return sb_start_intwrite_trylock(sb);
}

void rust_helper_sb_end_intwrite(struct super_block *sb)
{
	sb_end_intwrite(sb);
}

void rust_helper_file_accessed(struct file *file)
{
	file_accessed(file);
}

/* Whether writes to @inode are synchronous: -o sync, or S_SYNC (chattr +S). */
bool rust_helper_fs_inode_is_sync(const struct inode *inode)
{
	return IS_SYNC(inode);
}

/* Whether @inode is still being set up (I_NEW). */
bool rust_helper_fs_inode_is_new(struct inode *inode)
{
	bool ret;

	spin_lock(&inode->i_lock);
	ret = inode->i_state & I_NEW;
	spin_unlock(&inode->i_lock);
	return ret;
}

/*
 * Whether a folio of @mapping in the bytes [@start, @end] (inclusive) is dirty
 * or under writeback, by the page cache's tags: unlike
 * filemap_range_needs_writeback(), a folio that is only locked (by reclaim, or
 * a read of a neighbouring block) does not count.
 */
bool rust_helper_mapping_range_dirty_or_writeback(struct address_space *mapping,
						  loff_t start, loff_t end)
{
	unsigned long index = start >> PAGE_SHIFT;

	if (xa_find(&mapping->i_pages, &index, end >> PAGE_SHIFT,
		    PAGECACHE_TAG_DIRTY))
		return true;
	index = start >> PAGE_SHIFT;
	return xa_find(&mapping->i_pages, &index, end >> PAGE_SHIFT,
		       PAGECACHE_TAG_WRITEBACK);
}
