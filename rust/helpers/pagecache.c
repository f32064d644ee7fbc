// SPDX-License-Identifier: GPL-2.0

#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iomap.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>

loff_t rust_helper_i_size_read(const struct inode *inode)
{
	return i_size_read(inode);
}

void rust_helper_i_size_write(struct inode *inode, loff_t i_size)
{
	i_size_write(inode, i_size);
}

unsigned int rust_helper_i_blocks_per_folio(struct inode *inode,
					    struct folio *folio)
{
	return i_blocks_per_folio(inode, folio);
}

bool rust_helper_mapping_large_folio_support(struct address_space *mapping)
{
	return mapping_large_folio_support(mapping);
}

int rust_helper_mapping_writably_mapped(struct address_space *mapping)
{
	return mapping_writably_mapped(mapping);
}

/* Rust's `Mapping::has_dirty()` passes the dirty tag as 0. */
static_assert((__force unsigned int)PAGECACHE_TAG_DIRTY == 0);

bool rust_helper_mapping_tagged(struct address_space *mapping, xa_mark_t tag)
{
	return mapping_tagged(mapping, tag);
}

/*
 * kernel::pagecache encodes a folio order in the FGP flags without calling
 * fgf_set_order(): it relies on the order being log2 of the size rounded
 * down, at bit 26, and on a write of less than two pages asking for none,
 * which this checks at build time.
 */
fgf_t rust_helper_fgf_set_order(size_t size)
{
	BUILD_BUG_ON(fgf_set_order(PAGE_SIZE << 3) != (__force fgf_t)(3U << 26));
	BUILD_BUG_ON(fgf_set_order((PAGE_SIZE << 3) - 1) != (__force fgf_t)(2U << 26));
	BUILD_BUG_ON(fgf_set_order(2 * PAGE_SIZE - 1) != 0);
	BUILD_BUG_ON(fgf_set_order(PAGE_SIZE) != 0);
	BUILD_BUG_ON(fgf_set_order(1) != 0);
	return fgf_set_order(size);
}

void rust_helper_filemap_invalidate_lock(struct address_space *mapping)
{
	filemap_invalidate_lock(mapping);
}

void rust_helper_filemap_invalidate_unlock(struct address_space *mapping)
{
	filemap_invalidate_unlock(mapping);
}

void rust_helper_filemap_invalidate_lock_assert_held_write(struct address_space *mapping)
{
	lockdep_assert_held_write(&mapping->invalidate_lock);
}

void rust_helper_folio_zero_segments(struct folio *folio, size_t start1,
				     size_t xend1, size_t start2, size_t xend2)
{
	folio_zero_segments(folio, start1, xend1, start2, xend2);
}

void rust_helper_flush_dcache_folio(struct folio *folio)
{
	flush_dcache_folio(folio);
}

size_t rust_helper_iov_iter_count(const struct iov_iter *i)
{
	return iov_iter_count(i);
}

/* fatal_signal_pending(current), in one call rather than two. */
bool rust_helper_current_fatal_signal_pending(void)
{
	return fatal_signal_pending(current);
}

void rust_helper_cond_resched(void)
{
	cond_resched();
}

void rust_helper_inode_lock(struct inode *inode)
{
	inode_lock(inode);
}

void rust_helper_inode_unlock(struct inode *inode)
{
	inode_unlock(inode);
}

void rust_helper_inode_assert_locked_write(struct inode *inode)
{
	rwsem_assert_held_write(&inode->i_rwsem);
}

void rust_helper_filemap_invalidate_lock_shared(struct address_space *mapping)
{
	filemap_invalidate_lock_shared(mapping);
}

void rust_helper_filemap_invalidate_unlock_shared(struct address_space *mapping)
{
	filemap_invalidate_unlock_shared(mapping);
}

void rust_helper_filemap_invalidate_lock_assert_held(struct address_space *mapping)
{
	lockdep_assert_held(&mapping->invalidate_lock);
}

struct folio *rust_helper_iomap_rs_vmf_folio(struct vm_fault *vmf)
{
	return page_folio(vmf->page);
}

vm_fault_t rust_helper_vmf_fs_error(int err)
{
	return vmf_fs_error(err);
}

bool rust_helper_filemap_range_needs_writeback(struct address_space *mapping,
					       loff_t start_byte,
					       loff_t end_byte)
{
	return filemap_range_needs_writeback(mapping, start_byte, end_byte);
}

/*
 * Whether iomap owns the per-block state (folio->private) of @mapping's
 * folios: only then are they released and invalidated by iomap, which is
 * what lets the iomap_rs library attach that state.
 */
bool rust_helper_iomap_rs_mapping_is_iomap(struct address_space *mapping)
{
#ifdef CONFIG_FS_IOMAP
	const struct address_space_operations *aops = mapping->a_ops;

	return aops->release_folio == iomap_release_folio &&
	       aops->invalidate_folio == iomap_invalidate_folio;
#else
	return false;
#endif
}
