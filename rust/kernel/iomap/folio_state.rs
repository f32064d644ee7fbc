// SPDX-License-Identifier: GPL-2.0

//! Locked folios of a file's page cache and their per-block state, `struct iomap_folio_state`.
//!
//! C implementation: [`fs/iomap/buffered-io.c`](srctree/fs/iomap/buffered-io.c) (`ifs_alloc()`,
//! `iomap_set_range_uptodate()`, `iomap_set_range_dirty()`, `iomap_read_folio_sync()`), reached
//! through the wrappers that `patches/0004` exports under `CONFIG_IOMAP_RS`.
//!
//! A folio with several blocks carries which of them are uptodate and dirty, shared with C's
//! read and writeback paths. These C functions find the block size through `folio->mapping`, so
//! they may only be called on a folio that is still in the page cache of the inode they are
//! given: [`FileFolio`] is that proof, checked once when it is made, under the folio lock, which
//! keeps truncation and reclaim from removing the folio from its mapping. Every range passed to
//! its methods is checked against the folio, so none touches memory outside it.
//!
//! Everything here is private to the kernel crate: marking a range uptodate or dirty is only
//! correct once the data is there, which the write path's typestate
//! ([`super::write::ValidatedFolio`]) guarantees and which nothing here can check.

use super::iter::IterFlags;
use super::map::{Iomap, MappingType};
use crate::{
    bindings,
    error::{code::*, to_result, Result},
    folio::LockedFolio,
    pagecache::Inode,
    uio::{Consumed, IovIter},
};

/// A locked folio in the page cache of `inode`.
///
/// # Invariants
///
/// `folio` is locked (it is a [`LockedFolio`]) and `folio->mapping` is `inode->i_mapping`.
pub(crate) struct FileFolio<'a> {
    inode: &'a Inode,
    folio: LockedFolio,
}

impl<'a> FileFolio<'a> {
    /// Binds `folio` to `inode`; gives it back if it is not in `inode`'s page cache (a folio of
    /// another file, one truncated since it was looked up, or one in no page cache at all).
    #[inline]
    pub(crate) fn new(inode: &'a Inode, folio: LockedFolio) -> Result<Self, LockedFolio> {
        if !folio.belongs_to(inode.mapping()) {
            return Err(folio);
        }
        // INVARIANT: Checked just above, under the folio lock.
        Ok(Self { inode, folio })
    }

    /// The inode whose page cache holds the folio.
    #[inline]
    pub(crate) fn inode(&self) -> &'a Inode {
        self.inode
    }

    /// The locked folio.
    #[inline]
    pub(crate) fn folio(&self) -> &LockedFolio {
        &self.folio
    }

    /// Gives the locked folio back.
    #[inline]
    pub(crate) fn into_inner(self) -> LockedFolio {
        self.folio
    }

    /// Whether `[off, off + len)` lies within the folio (against the size the locked folio
    /// holds, which is its size: [`LockedFolio`]'s type invariant).
    #[inline]
    fn contains(&self, off: usize, len: usize) -> bool {
        off.checked_add(len)
            .is_some_and(|end| end <= self.folio.size())
    }

    /// Attaches per-block state if the folio has several blocks and none yet (`ifs_alloc()`).
    /// `EAGAIN` if that allocation failed under [`IterFlags::NOWAIT`].
    #[inline]
    pub(crate) fn prepare_state(&mut self, flags: IterFlags) -> Result {
        // `ifs_alloc()` returns at once for a folio of one block (`i_blocks_per_folio()`) or
        // one with state already: no call to make for those.
        if self.folio.size() >> self.inode.block_bits() <= 1 || self.folio.has_private() {
            return Ok(());
        }
        // SAFETY: The folio is locked and in `inode`'s page cache (type invariant).
        to_result(unsafe {
            bindings::iomap_folio_state_prepare(
                self.inode.as_raw(),
                self.folio.as_raw(),
                flags.bits(),
            )
        })
    }

    /// The part of `[*pos, *pos + length)` that is not uptodate yet, as `(offset in the folio,
    /// length)`, with `*pos` advanced past the uptodate blocks before it
    /// (`iomap_adjust_read_range()`). The range must start within the folio; a range that does
    /// not gives `(0, 0)`.
    #[inline]
    pub(crate) fn adjust_read_range(&self, pos: &mut i64, length: i64) -> (usize, usize) {
        let start = self.folio.pos();
        let in_folio = *pos >= start && *pos - start < self.folio.size() as i64;
        if !in_folio || length <= 0 {
            return (0, 0);
        }
        let (mut poff, mut plen) = (0usize, 0usize);
        // SAFETY: The folio is locked and in `inode`'s page cache (type invariant); `*pos` is
        // within the folio, and the C function cuts the range at the folio's end. The pointers
        // are to live locals.
        unsafe {
            bindings::iomap_folio_adjust_read_range(
                self.inode.as_raw(),
                self.folio.as_raw(),
                pos,
                length,
                &mut poff,
                &mut plen,
            )
        };
        (poff, plen)
    }

    /// Reads `[poff, poff + plen)` of the folio, which holds file position `block_start`, from
    /// the blocks `srcmap` maps, and waits for the read (`iomap_read_folio_sync()`). `EIO` if
    /// `srcmap` is not a mapping of allocated blocks on a block device or does not map
    /// `block_start`, `EINVAL` if the range is not within the folio.
    pub(crate) fn read_sync(
        &mut self,
        block_start: i64,
        poff: usize,
        plen: usize,
        srcmap: &Iomap,
    ) -> Result {
        if !self.contains(poff, plen) {
            return Err(EINVAL);
        }
        if srcmap.mapping_type()? != MappingType::Mapped
            || !srcmap.has_device()
            || !srcmap.range()?.contains(block_start)
        {
            return Err(EIO);
        }
        // SAFETY: The folio is locked and `[poff, poff + plen)` lies within it. `srcmap` maps
        // `block_start` to allocated blocks of a block device: a `Mapped` mapping with a device
        // can only be made with `Iomap::with_device()`, whose caller vouched for the device.
        to_result(unsafe {
            bindings::iomap_folio_read_sync(
                block_start,
                self.folio.as_raw(),
                poff,
                plen,
                srcmap.as_ptr(),
            )
        })
    }

    /// Zeroes the folio-relative ranges `[start1, end1)` and `[start2, end2)`.
    #[inline]
    pub(crate) fn zero_segments(
        &mut self,
        start1: usize,
        end1: usize,
        start2: usize,
        end2: usize,
    ) -> Result {
        self.folio.zero_segments(start1, end1, start2, end2)
    }

    /// Marks `[off, off + len)` uptodate, and the folio once all its blocks are. Does nothing
    /// for a range not within the folio.
    #[inline]
    pub(crate) fn set_range_uptodate(&mut self, off: usize, len: usize) {
        // Without per-block state (`folio->private`, read once, as C reads it)
        // `iomap_set_range_uptodate()` only marks the folio uptodate: nothing to do, and no
        // call to make, if it is already. State attached meanwhile without the folio lock
        // (`iomap_dirty_folio()`) has every block of an uptodate folio uptodate already.
        if !self.folio.has_private() && self.folio.test_uptodate() {
            return;
        }
        if self.contains(off, len) {
            // SAFETY: The folio is locked and in `inode`'s page cache (type invariant); the
            // range lies within it.
            unsafe { bindings::iomap_folio_set_range_uptodate(self.folio.as_raw(), off, len) };
        }
    }

    /// Marks the blocks of `[off, off + len)` dirty in the per-block state. Does nothing for a
    /// range not within the folio.
    #[inline]
    pub(crate) fn set_range_dirty(&mut self, off: usize, len: usize) {
        // `iomap_set_range_dirty()` does nothing without per-block state: no call to make.
        // State attached meanwhile without the folio lock (`iomap_dirty_folio()`) has every
        // block dirty already.
        if !self.folio.has_private() {
            return;
        }
        if self.contains(off, len) {
            // SAFETY: As for `set_range_uptodate`.
            unsafe { bindings::iomap_folio_set_range_dirty(self.folio.as_raw(), off, len) };
        }
    }

    /// Marks the folio dirty in its file's page cache (`filemap_dirty_folio()`).
    #[inline]
    pub(crate) fn mark_dirty(&mut self) {
        // SAFETY: The folio is locked and in `inode`'s page cache (type invariant).
        unsafe {
            bindings::filemap_dirty_folio(self.inode.mapping().as_raw(), self.folio.as_raw())
        };
    }

    /// Copies up to `len` bytes from `from` into the folio at `off`, with page faults disabled;
    /// returns what was copied.
    #[inline]
    pub(crate) fn copy_from_iter<'i>(
        &mut self,
        off: usize,
        len: usize,
        from: &'i mut IovIter,
    ) -> Consumed<'i> {
        self.folio.copy_from_iter_atomic(off, len, from)
    }

    /// Marks the folio as recently used (`folio_mark_accessed()`), for reclaim.
    #[inline]
    pub(crate) fn mark_accessed(&self) {
        self.folio.mark_accessed();
    }

    /// `flush_dcache_folio()`.
    #[inline]
    pub(crate) fn flush_dcache(&self) {
        self.folio.flush_dcache();
    }

    /// The bytes of the folio that lie within EOF, for a write fault
    /// (`folio_mkwrite_check_truncate()`): `EFAULT` if it was truncated or lies beyond EOF.
    #[inline]
    pub(crate) fn mkwrite_check_truncate(&self) -> Result<usize> {
        // C's inline, without the helper call: it fails a folio no longer in a page cache,
        // which this one is (type invariant), and compares the folio's span with the size.
        // The folio is aligned to its size, so the page arithmetic of C comes to this.
        // Compared by difference: the last folio a file can have ends at `2^63`, past `i64`.
        let size = self.inode.size();
        let start = self.folio.pos();
        let len = self.folio.size();
        if size <= start {
            // Wholly past EOF.
            Err(EFAULT)
        } else if size - start >= len as i64 {
            // Wholly inside EOF.
            Ok(len)
        } else {
            // Partly inside EOF: `0 < size - start < len`.
            Ok((size - start) as usize)
        }
    }

    /// Waits until the folio's contents may be changed: for devices that need data stable
    /// during writeback (`folio_wait_stable()`).
    #[inline]
    pub(crate) fn wait_stable(&self) {
        // SAFETY: The folio is locked and referenced (type invariant).
        unsafe { bindings::folio_wait_stable(self.folio.as_raw()) };
    }

    /// Whether block `block` of the folio is dirty; `false` for a block beyond the folio. A
    /// folio without per-block state is dirty or clean as a whole.
    #[inline]
    pub(crate) fn block_is_dirty(&self, block: u32) -> bool {
        let blocks = self.folio.size() >> self.inode.block_bits();
        if block as usize >= blocks {
            return false;
        }
        // SAFETY: The folio is locked and in `inode`'s page cache (type invariant), and `block`
        // is one of its blocks.
        unsafe { bindings::iomap_folio_block_is_dirty(self.folio.as_raw(), block) }
    }
}
