// SPDX-License-Identifier: GPL-2.0

//! Inodes and their page cache.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h),
//! [`include/linux/pagemap.h`](srctree/include/linux/pagemap.h).
//!
//! A `struct inode` owns a `struct address_space`, its page cache: the folios holding the file's
//! cached data, indexed by file offset. This module gives the parts of both that a buffered write
//! path needs: the file size, the block size, looking up and creating locked folios, seeking
//! over cached data, dirty-page throttling, and the mapping's `invalidate_lock`, which excludes
//! page faults from instantiating folios while it is held.
//!
//! Lock order (as documented in `mm/filemap.c`): `i_rwsem`, then `invalidate_lock`, then the
//! folio lock. [`InodeLock`] is the proof that `i_rwsem` is held exclusively and
//! [`InvalidateLockWrite`] that `invalidate_lock` is; functions that need them take a reference
//! to one.
//!
//! # Soundness
//!
//! By type: the size changes only under [`InodeLock`]; cutting it
//! ([`InodeLock::set_size_truncate`]) also needs [`InvalidateLockWrite`]; a write fault's answer is
//! its own folio ([`FaultFolio`]). At run time: a guard of another inode or mapping is refused
//! (`EINVAL`); negative positions are refused or find nothing (they have no page index);
//! [`InodeLock::write_size`] only grows EOF and never past `s_maxbytes`, so cached data inside the
//! file is dropped only by truncation.

use crate::{
    bindings,
    error::code::*,
    error::Error,
    error::Result,
    folio::{Folio, LockedFolio},
    types::{ARef, Opaque},
};
use core::{marker::PhantomData, ptr::NonNull};

/// An inode.
///
/// # Invariants
///
/// The inode is alive (referenced, or kept by the VFS while it is written back or evicted) for
/// as long as a `&Inode` to it exists.
///
/// An `&Inode` is no licence to take a reference: writeback and eviction run callbacks for
/// inodes whose reference count is zero, which a new reference would not keep alive. So
/// `Inode` is not [`crate::types::AlwaysRefCounted`]; [`OwnedInode`] owns a reference that
/// its maker took.
#[repr(transparent)]
pub struct Inode(Opaque<bindings::inode>);

/// An owned reference to an inode (`iput()` on drop), made from a reference its maker owns:
/// the inodes the test filesystem creates.
///
/// # Invariants
///
/// We own one reference to the inode.
pub struct OwnedInode(NonNull<Inode>);

impl OwnedInode {
    /// Takes over a reference to an inode.
    ///
    /// # Safety
    ///
    /// The caller owns a reference to the inode `ptr` points to, and gives it up.
    pub unsafe fn from_raw(ptr: NonNull<bindings::inode>) -> Self {
        // INVARIANT: The caller's reference.
        Self(ptr.cast())
    }
}

impl core::ops::Deref for OwnedInode {
    type Target = Inode;

    fn deref(&self) -> &Inode {
        // SAFETY: We own a reference (type invariant): the inode is alive while we exist.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for OwnedInode {
    fn drop(&mut self) {
        // SAFETY: We own a reference (type invariant) and give it up, once.
        unsafe { bindings::iput(self.0.as_ptr().cast()) };
    }
}

impl Inode {
    /// Creates an `&Inode` from a pointer to a C inode.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an inode that stays alive for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a Inode {
        // SAFETY: `Inode` is a transparent wrapper of `struct inode`; the caller guarantees the
        // pointer is valid for `'a`, which is the type invariant.
        unsafe { &*ptr.cast() }
    }

    /// The underlying C inode.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::inode {
        self.0.get()
    }

    /// The inode number.
    #[inline]
    pub fn ino(&self) -> u64 {
        // SAFETY: The inode is alive (type invariant); `i_ino` does not change after creation.
        unsafe { (*self.as_raw()).i_ino as u64 }
    }

    /// The file size, read as `i_size_read()` does: consistent even while it is being updated.
    #[inline]
    pub fn size(&self) -> i64 {
        // On 64-bit, `i_size_read()` is an acquire load, which Rust does without a call; it
        // pairs with the release store of `i_size_write()` ([`InodeLock::write_size`]), so the
        // data a writer put in before it extended the size is seen with the size.
        #[cfg(CONFIG_64BIT)]
        {
            // `i_size_write()` is a single store on 64-bit, under whatever lock the writer holds
            // (`i_rwsem`, or a filesystem's own at I/O completion).
            // SAFETY: The inode is alive (type invariant); `i_size` is an aligned `loff_t` that C
            // only stores whole: an atomic load sees the old or the new size, and the pointer
            // does not outlive it.
            let size = unsafe {
                core::sync::atomic::AtomicI64::from_ptr(core::ptr::addr_of_mut!(
                    (*self.as_raw()).i_size
                ))
            };
            size.load(core::sync::atomic::Ordering::Acquire)
        }
        #[cfg(not(CONFIG_64BIT))]
        // SAFETY: The inode is alive (type invariant).
        unsafe {
            bindings::i_size_read(self.as_raw())
        }
    }

    /// log2 of the filesystem block size.
    #[inline]
    pub fn block_bits(&self) -> u32 {
        // SAFETY: The inode is alive (type invariant); `i_blkbits` is set when the inode is set
        // up and not changed while it is in use.
        u32::from(unsafe { (*self.as_raw()).i_blkbits })
    }

    /// The largest file size the filesystem supports (`i_sb->s_maxbytes`).
    #[inline]
    pub fn max_bytes(&self) -> i64 {
        // SAFETY: The inode is alive (type invariant) and so is its superblock, whose
        // `s_maxbytes` is set at mount time.
        unsafe { (*(*self.as_raw()).i_sb).s_maxbytes }
    }

    /// The filesystem block size in bytes.
    #[inline]
    pub fn block_size(&self) -> u64 {
        1u64 << self.block_bits()
    }

    /// Whether iomap manages the per-block state of the inode's cached folios: its
    /// address-space operations release and invalidate folios with iomap's
    /// `iomap_release_folio()` and `iomap_invalidate_folio()`. Only then may the iomap library
    /// attach that state (`folio->private`) to them: on a mapping of buffer heads (or of
    /// nothing, as a directory's), reclaim would take it for something else.
    #[inline]
    pub fn iomap_managed(&self) -> bool {
        // SAFETY: The inode is alive (type invariant), and so is its mapping
        // ([`Inode::mapping`]); its `a_ops` is set when the inode is initialised and not
        // changed while it is in use.
        unsafe { bindings::iomap_rs_mapping_is_iomap(self.mapping().as_raw()) }
    }

    /// Whether the inode is a device node, FIFO or socket. Its `i_mapping` may be another
    /// object's (opening a DAX character device points it at the device's, `dax_open()`), so
    /// its page cache is left alone: [`Inode::mapping`] is the inode's own, which holds
    /// nothing, and the operations that reach the page cache through the inode refuse it.
    #[inline]
    pub(crate) fn is_special(&self) -> bool {
        // SAFETY: The inode is alive (type invariant); the file type bits of `i_mode` are set
        // before it is in use and never change (`chmod` changes only the others).
        let mode = u32::from(unsafe { core::ptr::read_volatile(&(*self.as_raw()).i_mode) });
        // One bit per file type (`S_IFMT` is four bits from bit 12): a test of one bit where a
        // `matches!` compiles to a chain of comparisons, on every page cache access.
        const SHIFT: u32 = bindings::S_IFMT.trailing_zeros();
        const SPECIAL: u32 = 1 << (bindings::S_IFCHR >> SHIFT)
            | 1 << (bindings::S_IFBLK >> SHIFT)
            | 1 << (bindings::S_IFIFO >> SHIFT)
            | 1 << (bindings::S_IFSOCK >> SHIFT);
        // Every file type's bit fits the mask.
        const _: () = assert!(bindings::S_IFMT >> SHIFT < u32::BITS);
        SPECIAL & (1 << ((mode & bindings::S_IFMT) >> SHIFT)) != 0
    }

    /// Whether the inode is immutable (`IS_IMMUTABLE()`: `S_IMMUTABLE` in `i_flags`, which
    /// changes under `i_rwsem`).
    #[cfg(CONFIG_BLOCK)]
    #[inline]
    pub(crate) fn is_immutable(&self) -> bool {
        // SAFETY: The inode is alive (type invariant); `i_flags` is read without a lock, as
        // `IS_IMMUTABLE()` does: a caller that needs a stable answer holds `i_rwsem`.
        let flags = unsafe { core::ptr::read_volatile(&(*self.as_raw()).i_flags) };
        flags & bindings::S_IMMUTABLE != 0
    }

    /// Checks that `size` is a valid file size for the inode: `0 ..= s_maxbytes`. `EINVAL`
    /// otherwise.
    #[inline]
    pub fn check_size(&self, size: i64) -> Result {
        if size < 0 || size > self.max_bytes() {
            return Err(EINVAL);
        }
        Ok(())
    }

    /// The page cache of the inode's data (`inode->i_mapping`); for a special file, the inode's
    /// own (`inode->i_data`: a device node's `i_mapping` may be another object's, a DAX
    /// device's).
    #[inline]
    pub fn mapping(&self) -> &Mapping {
        if self.is_special() {
            // SAFETY: The inode is alive (type invariant), and `i_data` is part of it.
            return unsafe { Mapping::from_raw(core::ptr::addr_of_mut!((*self.as_raw()).i_data)) };
        }
        // SAFETY: The inode is alive (type invariant), and so is its `i_mapping`, which does not
        // change while the inode is in use, unless it is a special file (above).
        unsafe { Mapping::from_raw((*self.as_raw()).i_mapping) }
    }

    /// Takes `i_rwsem` exclusively (`inode_lock()`, sleeps) and returns the guard that proves it
    /// is held. Lock order: before `invalidate_lock` and any folio lock.
    #[inline]
    pub fn lock_exclusive(&self) -> InodeLock<'_> {
        // SAFETY: The inode is alive (type invariant).
        unsafe { bindings::inode_lock(self.as_raw()) };
        // INVARIANT: We just took the lock; the guard releases it.
        InodeLock {
            inode: self,
            owned: true,
            _not_send: PhantomData,
        }
    }

    /// The proof that the caller already holds `i_rwsem` exclusively, for C entry points whose
    /// contract says so (as `iomap_file_buffered_write()`'s does); asserted at run time.
    ///
    /// # Safety
    ///
    /// The caller must hold `i_rwsem` exclusively for the lifetime of the returned object.
    #[inline]
    pub unsafe fn assume_locked_exclusive(&self) -> InodeLock<'_> {
        // SAFETY: The inode is alive (type invariant).
        unsafe { bindings::inode_assert_locked_write(self.as_raw()) };
        // INVARIANT: The caller guarantees the lock is held for the guard's lifetime.
        InodeLock {
            inode: self,
            owned: false,
            _not_send: PhantomData,
        }
    }

    /// Tells the page cache that the size grew from `from` to `to`, so that a folio straddling
    /// the old EOF that is mapped into user space gets write-protected again.
    #[inline]
    pub fn pagecache_size_extended(&self, from: i64, to: i64) {
        if self.is_special() {
            return;
        }
        // SAFETY: The inode is alive (type invariant) and not a special file, so its
        // `i_mapping` is its own.
        unsafe { bindings::pagecache_isize_extended(self.as_raw(), from, to) };
    }
}

/// Proof that an inode's `i_rwsem` is held exclusively; releases it on drop if it was taken by
/// [`Inode::lock_exclusive`].
///
/// `i_rwsem` serialises changes of the file size: the operations that need that are methods of
/// this guard, so calling them without the lock does not compile.
///
/// # Invariants
///
/// `inode`'s `i_rwsem` is held for writing for the lifetime of this object; it is owned by this
/// object if `owned` is true.
pub struct InodeLock<'a> {
    inode: &'a Inode,
    owned: bool,
    /// A rwsem must be released by the task that took it.
    _not_send: PhantomData<*mut ()>,
}

impl InodeLock<'_> {
    /// The inode whose lock is held.
    #[inline]
    pub fn inode(&self) -> &Inode {
        self.inode
    }

    /// Extends the in-memory file size to `size` (`i_size_write()`, whose writers `i_rwsem`
    /// serialises), as a write or a fallocate that ends beyond EOF does.
    ///
    /// The size only grows here: `EINVAL` if `size` is below the current size, or not a file
    /// size (`0 ..= s_maxbytes`). Moving EOF down without dropping what is cached beyond it
    /// would let [`InodeLock::truncate_pagecache_beyond_eof`] drop file data; shrinking is
    /// [`InodeLock::set_size_truncate`]'s.
    #[inline]
    pub fn write_size(&self, size: i64) -> Result {
        self.inode.check_size(size)?;
        if size < self.inode.size() {
            return Err(EINVAL);
        }
        // On 64-bit, `i_size_write()` is a release store ([`Inode::size`] has the other side).
        #[cfg(CONFIG_64BIT)]
        {
            // C reads and writes `i_size` with single loads and stores on 64-bit
            // (`i_size_read()`, `i_size_write()`).
            // SAFETY: The inode is alive (type invariant); `i_size` is an aligned `loff_t`: a
            // racing reader sees the old or the new size. The pointer does not outlive the store.
            let i_size = unsafe {
                core::sync::atomic::AtomicI64::from_ptr(core::ptr::addr_of_mut!(
                    (*self.inode.as_raw()).i_size
                ))
            };
            i_size.store(size, core::sync::atomic::Ordering::Release);
        }
        #[cfg(not(CONFIG_64BIT))]
        // SAFETY: The inode is alive, and `i_rwsem` is held exclusively (type invariant), which
        // serialises size updates.
        unsafe {
            bindings::i_size_write(self.inode.as_raw(), size)
        };
        Ok(())
    }

    /// Sets the file size and drops the cached data beyond it (`truncate_setsize()`): the
    /// partial folio at the new EOF is zeroed beyond it, the folios after it removed (waiting
    /// for their writeback). The filesystem frees its blocks beyond the new size itself, and
    /// zeroes the rest of the block at the new EOF first (see
    /// [`crate::iomap::zero::truncate_page`]).
    ///
    /// `invalidate` proves that the mapping's `invalidate_lock` is held exclusively, so that no
    /// page fault maps a folio beyond the new EOF while the cache is cut: `EINVAL` if it is
    /// another mapping's lock, if `size` is not a file size (`0 ..= s_maxbytes`), or if the
    /// inode is a device node, FIFO or socket (whose `i_mapping` may be another object's).
    pub fn set_size_truncate(&self, invalidate: &InvalidateLockWrite<'_>, size: i64) -> Result {
        if !core::ptr::eq(invalidate.mapping(), self.inode.mapping()) || self.inode.is_special() {
            return Err(EINVAL);
        }
        self.inode.check_size(size)?;
        // SAFETY: The inode is alive, and `i_rwsem` is held exclusively (type invariant), as
        // `truncate_setsize` requires; the size is not negative (checked above), so the cache
        // is cut at a valid offset.
        unsafe { bindings::truncate_setsize(self.inode.as_raw(), size) };
        Ok(())
    }

    /// Removes the cached folios of `[start, end)` that lie beyond EOF, as
    /// `iomap_write_failed()` does for folios a failed write instantiated there: the range is
    /// cut to start at the current size, and a folio straddling EOF is only zeroed past it.
    ///
    /// Cached data beyond EOF is never written back or read, and with `i_rwsem` held the size
    /// cannot change under the call; EOF moves down only through
    /// [`InodeLock::set_size_truncate`], which drops what it leaves beyond EOF itself
    /// ([`InodeLock::write_size`] only grows it). So no data of the file is lost.
    pub fn truncate_pagecache_beyond_eof(&self, start: i64, end: i64) {
        let start = start.max(self.inode.size());
        // A special file's `i_mapping` may be another object's (a DAX device's).
        if start < end && !self.inode.is_special() {
            // SAFETY: The inode is alive and `start < end`, so the inclusive end is not before
            // the start.
            unsafe { bindings::truncate_pagecache_range(self.inode.as_raw(), start, end - 1) };
        }
    }
}

impl InodeLock<'_> {
    /// Writes back the cached data of `[start, end)` and waits for it, then removes it from
    /// the cache (C XFS's `xfs_flush_unmap_range()`): what hole punching, zeroing and
    /// preallocating over written data do before changing the blocks under the range, so that
    /// no cached folio keeps data or a mapping of blocks that are about to go. Folios
    /// straddling the range are kept, zeroed over the part inside it (and not dirtied).
    ///
    /// `invalidate` proves that page faults cannot bring the range back meanwhile, and this
    /// guard that writes cannot: `EINVAL` if `invalidate` is another mapping's lock, or if the
    /// inode is a device node, FIFO or socket (whose `i_mapping` may be another object's).
    /// Dirty data is written before anything is dropped: on a writeback error nothing is
    /// dropped and the error is returned.
    pub fn write_and_drop_range(
        &self,
        invalidate: &InvalidateLockWrite<'_>,
        start: i64,
        end: i64,
    ) -> Result {
        if !core::ptr::eq(invalidate.mapping(), self.inode.mapping()) || self.inode.is_special() {
            return Err(EINVAL);
        }
        if start < 0 {
            return Err(EINVAL);
        }
        if start >= end {
            return Ok(());
        }
        self.inode.mapping().write_and_wait_range(start, end)?;
        // SAFETY: The inode is alive; `i_rwsem` (type invariant) and `invalidate_lock` (checked
        // above) are held exclusively, excluding writes and faults as C requires; the
        // inclusive end is not before the start.
        unsafe { bindings::truncate_pagecache_range(self.inode.as_raw(), start, end - 1) };
        Ok(())
    }
}

impl Drop for InodeLock<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: We own the lock (type invariant) and release it exactly once, here.
            unsafe { bindings::inode_unlock(self.inode.as_raw()) };
        }
    }
}

/// The direction of [`Mapping::seek_hole_data`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Seek {
    /// The start of the next cached data range (`SEEK_DATA`).
    Data,
    /// The start of the next hole in the cache (`SEEK_HOLE`).
    Hole,
}

/// A page cache: C's `struct address_space`.
///
/// # Invariants
///
/// The mapping is alive for as long as a `&Mapping` to it exists.
#[repr(transparent)]
pub struct Mapping(Opaque<bindings::address_space>);

impl Mapping {
    /// Creates an `&Mapping` from a pointer to a C address space.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an address space that stays alive for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::address_space) -> &'a Mapping {
        // SAFETY: `Mapping` is a transparent wrapper; the caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// The underlying C address space.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::address_space {
        self.0.get()
    }

    /// Whether the mapping may hold folios larger than a page.
    #[inline]
    pub fn large_folio_support(&self) -> bool {
        // SAFETY: The mapping is alive (type invariant).
        unsafe { bindings::mapping_large_folio_support(self.as_raw()) }
    }

    /// The largest folio the mapping may hold, in bytes.
    #[inline]
    pub fn max_folio_size(&self) -> usize {
        // `mapping_max_folio_size()`, without the helper call: a page, or the order that
        // `mapping_set_folio_order_range()` stored in the mapping's flags.
        #[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
        {
            let raw = self.as_raw();
            // SAFETY: The mapping is alive (type invariant); its `flags` word changes with
            // atomic bit operations and, while the inode is set up, a plain store: a
            // `READ_ONCE()`, as C reads it once.
            let flags = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*raw).flags)) };
            let order = (flags >> bindings::mapping_flags_AS_FOLIO_ORDER_MAX)
                & ((1 << bindings::mapping_flags_AS_FOLIO_ORDER_BITS) - 1);
            crate::page::PAGE_SIZE << order
        }
        #[cfg(not(CONFIG_TRANSPARENT_HUGEPAGE))]
        {
            crate::page::PAGE_SIZE
        }
    }

    /// Whether some of the mapping is mapped writable into user space.
    #[inline]
    pub fn writably_mapped(&self) -> bool {
        // SAFETY: The mapping is alive (type invariant).
        unsafe { bindings::mapping_writably_mapped(self.as_raw()) != 0 }
    }

    /// Whether a folio of the mapping is dirty (`mapping_tagged(PAGECACHE_TAG_DIRTY)`): a
    /// snapshot. The tag is set with a folio's dirty flag, and cleared when its writeback
    /// starts or it is cleaned.
    #[inline]
    pub fn has_dirty(&self) -> bool {
        // `PAGECACHE_TAG_DIRTY`, which is 0 (checked where the helper is defined).
        const DIRTY: bindings::xa_mark_t = 0;
        // SAFETY: The mapping is alive (type invariant).
        unsafe { bindings::mapping_tagged(self.as_raw(), DIRTY) }
    }

    /// Finds or creates the folio holding `pos`, locked and stable for writing, as
    /// `iomap_get_folio()`: a new folio is sized for up to `len` bytes (large folios), and with
    /// `nowait` the call returns `EAGAIN` rather than blocking.
    ///
    /// `EINVAL` for a negative `pos`: it has no page index.
    #[inline]
    pub fn get_folio_for_write(&self, pos: i64, len: usize, nowait: bool) -> Result<LockedFolio> {
        let index = page_index(pos).ok_or(EINVAL)?;
        let mut fgp = bindings::FGP_WRITEBEGIN | bindings::FGP_NOFS;
        if nowait {
            fgp |= bindings::FGP_NOWAIT;
        }
        fgp |= fgf_set_order(len);
        let raw = self.as_raw();
        // SAFETY: The mapping is alive (type invariant); `mapping_gfp_mask()` reads `gfp_mask`
        // once, which `mapping_set_gfp_mask()` may change at any time: a `READ_ONCE()`.
        let gfp = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*raw).gfp_mask)) };
        // SAFETY: The mapping is alive; with `FGP_LOCK` the function returns a locked folio with
        // a reference we own, or an error pointer.
        let ptr = unsafe { bindings::__filemap_get_folio(self.as_raw(), index, fgp, gfp) };
        folio_or_error(ptr)
    }

    /// Locks the cached folio holding `pos`, if there is one (`filemap_lock_folio()`); `None`
    /// for a negative `pos`.
    #[inline]
    pub fn lock_folio(&self, pos: i64) -> Option<LockedFolio> {
        let index = page_index(pos)?;
        let raw = self.as_raw();
        // SAFETY: The mapping is alive; with only `FGP_LOCK`, the function returns a locked and
        // referenced folio if one is cached at `index`, or an error pointer.
        let ptr = unsafe { bindings::__filemap_get_folio(raw, index, bindings::FGP_LOCK, 0) };
        folio_or_error(ptr).ok()
    }

    /// Returns the cached folio holding `pos`, if there is one, without locking it
    /// (`filemap_get_folio()`); `None` for a negative `pos`.
    #[inline]
    pub fn get_folio(&self, pos: i64) -> Option<ARef<Folio>> {
        let index = page_index(pos)?;
        // SAFETY: The mapping is alive; with no FGP flags, the function returns a referenced
        // folio if one is cached at `index`, or an error pointer.
        let ptr = unsafe { bindings::__filemap_get_folio(self.as_raw(), index, 0, 0) };
        let ptr = NonNull::new(crate::error::from_err_ptr(ptr).ok()?)?;
        // SAFETY: The reference the function took is ours.
        Some(unsafe { ARef::from_raw(ptr.cast()) })
    }

    /// Searches the cache over `[start, end)` for the next data or hole
    /// (`mapping_seek_hole_data()`); `EINVAL` for a negative `start`. Cached data means
    /// uptodate folios, or their uptodate blocks. A hole search returns `end` if there is none;
    /// a data search returns `ENXIO`.
    #[inline]
    pub fn seek_hole_data(&self, start: i64, end: i64, whence: Seek) -> Result<i64> {
        if start < 0 {
            return Err(EINVAL);
        }
        let whence = match whence {
            Seek::Data => bindings::SEEK_DATA,
            Seek::Hole => bindings::SEEK_HOLE,
        };
        let (raw, whence) = (self.as_raw(), whence as i32);
        // SAFETY: The mapping is alive (type invariant).
        let ret = unsafe { bindings::mapping_seek_hole_data(raw, start, end, whence) };
        if ret < 0 {
            // Errors are small negative errnos (`ENXIO`); anything else fails as `EINVAL`.
            return Err(Error::from_errno(ret as i32));
        }
        Ok(ret)
    }

    /// Whether any folio of `[start, end)` is dirty or under writeback
    /// (`filemap_range_needs_writeback()`); `false` for an empty range.
    #[inline]
    pub fn range_needs_writeback(&self, start: i64, end: i64) -> bool {
        let start = start.max(0);
        if start >= end {
            return false;
        }
        // SAFETY: The mapping is alive (type invariant); the inclusive end is not before the
        // start.
        unsafe { bindings::filemap_range_needs_writeback(self.as_raw(), start, end - 1) }
    }

    /// Writes the dirty folios of `[start, end)` back and waits for their writeback to end
    /// (`filemap_write_and_wait_range()`). Sleeps; must not be called with a folio of the
    /// mapping locked.
    #[inline]
    pub fn write_and_wait_range(&self, start: i64, end: i64) -> Result {
        let start = start.max(0);
        if start >= end {
            return Ok(());
        }
        // SAFETY: The mapping is alive (type invariant); the inclusive end is not before the
        // start.
        let ret = unsafe { bindings::filemap_write_and_wait_range(self.as_raw(), start, end - 1) };
        crate::error::to_result(ret)
    }

    /// Throttles the caller if the mapping's device has too many dirty pages
    /// (`balance_dirty_pages_ratelimited_flags()`); with `nowait`, returns `EAGAIN` instead of
    /// waiting.
    #[inline]
    pub fn balance_dirty_pages(&self, nowait: bool) -> Result {
        let flags = if nowait { bindings::BDP_ASYNC } else { 0 };
        // SAFETY: The mapping is alive (type invariant).
        let ret = unsafe { bindings::balance_dirty_pages_ratelimited_flags(self.as_raw(), flags) };
        crate::error::to_result(ret)
    }

    /// Takes `invalidate_lock` exclusively, excluding page faults from instantiating folios
    /// (sleeps). Lock order: after `i_rwsem`, before any folio lock.
    #[inline]
    pub fn invalidate_lock_write(&self) -> InvalidateLockWrite<'_> {
        // SAFETY: The mapping is alive (type invariant).
        unsafe { bindings::filemap_invalidate_lock(self.as_raw()) };
        // INVARIANT: We just took the lock; the guard releases it.
        InvalidateLockWrite {
            mapping: self,
            owned: true,
            _not_send: PhantomData,
        }
    }

    /// The proof that the caller already holds `invalidate_lock` exclusively, for C entry points
    /// whose contract says so; lockdep checks the claim.
    ///
    /// # Safety
    ///
    /// The caller must hold the lock exclusively for the lifetime of the returned object.
    #[inline]
    pub unsafe fn invalidate_lock_held_write(&self) -> InvalidateLockWrite<'_> {
        // SAFETY: The mapping is alive (type invariant).
        unsafe { bindings::filemap_invalidate_lock_assert_held_write(self.as_raw()) };
        // INVARIANT: The caller guarantees the lock is held for the guard's lifetime.
        InvalidateLockWrite {
            mapping: self,
            owned: false,
            _not_send: PhantomData,
        }
    }
}

impl Mapping {
    /// Takes `invalidate_lock` shared, as page faults do, excluding truncation and hole
    /// punching (sleeps). Lock order: after `i_rwsem` (or `mmap_lock` in a fault), before any
    /// folio lock.
    #[inline]
    pub fn invalidate_lock_read(&self) -> InvalidateLockRead<'_> {
        // SAFETY: The mapping is alive (type invariant).
        unsafe { bindings::filemap_invalidate_lock_shared(self.as_raw()) };
        // INVARIANT: We just took the lock; the guard releases it.
        InvalidateLockRead {
            mapping: self,
            owned: true,
            _not_send: PhantomData,
        }
    }

    /// The proof that the caller already holds `invalidate_lock`, shared or exclusive, for C
    /// entry points whose contract says so; lockdep checks the claim.
    ///
    /// # Safety
    ///
    /// The caller must hold the lock for the lifetime of the returned object.
    #[inline]
    pub unsafe fn invalidate_lock_held_read(&self) -> InvalidateLockRead<'_> {
        // SAFETY: The mapping is alive (type invariant).
        unsafe { bindings::filemap_invalidate_lock_assert_held(self.as_raw()) };
        // INVARIANT: The caller guarantees the lock is held for the guard's lifetime.
        InvalidateLockRead {
            mapping: self,
            owned: false,
            _not_send: PhantomData,
        }
    }
}

/// Proof that a mapping's `invalidate_lock` is held, at least shared; releases it on drop if it
/// was taken by [`Mapping::invalidate_lock_read`].
///
/// # Invariants
///
/// `mapping`'s `invalidate_lock` is held for the lifetime of this object, shared or exclusive;
/// it is owned, shared, by this object if `owned` is true.
pub struct InvalidateLockRead<'a> {
    mapping: &'a Mapping,
    owned: bool,
    /// A rwsem must be released by the task that took it.
    _not_send: PhantomData<*mut ()>,
}

impl InvalidateLockRead<'_> {
    /// The mapping whose lock is held.
    #[inline]
    pub fn mapping(&self) -> &Mapping {
        self.mapping
    }
}

impl Drop for InvalidateLockRead<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: We own the lock, shared (type invariant), and release it once, here.
            unsafe { bindings::filemap_invalidate_unlock_shared(self.mapping.as_raw()) };
        }
    }
}

/// A page fault on a file mapping, as a filesystem's `->page_mkwrite` receives it:
/// `struct vm_fault`.
///
/// # Invariants
///
/// The fault is being handled for as long as a `&VmFault` to it exists: its VMA, file and page
/// are referenced by the fault handler.
#[repr(transparent)]
pub struct VmFault(Opaque<bindings::vm_fault>);

impl VmFault {
    /// Creates a `&VmFault` from the argument of a `->page_mkwrite` call.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `struct vm_fault` of a file mapping being handled for `'a`, with
    /// `page` set (as for `->page_mkwrite`).
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::vm_fault) -> &'a VmFault {
        // SAFETY: `VmFault` is a transparent wrapper; the caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// The inode of the faulting file (`file_inode(vmf->vma->vm_file)`).
    #[inline]
    pub fn inode(&self) -> &Inode {
        // SAFETY: The fault is being handled (type invariant): its VMA (`vmf->vma`, set before
        // the fault is handled) holds a reference to its file, a file mapping's `vm_file`, which
        // keeps the inode, its `f_inode`, alive. `file_inode()` without the helper call.
        unsafe {
            let vma = (*self.0.get()).__bindgen_anon_1.vma;
            Inode::from_raw((*(*vma).vm_file).f_inode)
        }
    }

    /// The folio of the faulting page (`page_folio(vmf->page)`), with a reference of its own.
    /// It may have been truncated since the fault found it: lock it and check.
    #[inline]
    pub fn folio(&self) -> ARef<Folio> {
        // SAFETY: The fault handler holds a reference to the page (type invariant).
        let folio = unsafe { Folio::from_raw(bindings::iomap_rs_vmf_folio(self.0.get())) };
        folio.into()
    }

    /// Locks the folio of the faulting page (sleeps): what `page_mkwrite` returns once the
    /// folio is ready to be written through the mapping.
    ///
    /// `EFAULT` (the fault handler retries the fault) if the folio was truncated since the
    /// fault found it, or lies beyond EOF: the handler does not check again, and would map a
    /// folio whose writes reach no file.
    #[inline]
    pub fn lock_folio(&self) -> Result<FaultFolio<'_>> {
        let folio = Folio::lock(self.folio());
        let inode = self.inode();
        if !folio.belongs_to(inode.mapping()) || folio.pos() >= inode.size() {
            return Err(EFAULT);
        }
        // INVARIANT: The folio of this fault, locked just above.
        Ok(FaultFolio {
            folio,
            _fault: PhantomData,
        })
    }
}

/// The faulting folio of a write fault, locked: what a filesystem's `page_mkwrite` hands back
/// to the fault handler, which then owns the lock (`VM_FAULT_LOCKED`).
///
/// Made only from the folio of the fault it answers ([`VmFault::lock_folio`]), and borrowing
/// that fault, so a `page_mkwrite` cannot return another folio (the handler would unlock a
/// folio nobody locked, and leave the returned one locked forever).
///
/// # Invariants
///
/// `folio` is the folio of the fault `'f` borrows (`page_folio(vmf->page)`), locked by us.
pub struct FaultFolio<'f> {
    folio: LockedFolio,
    _fault: PhantomData<fn(&'f VmFault) -> &'f VmFault>,
}

impl<'f> FaultFolio<'f> {
    /// Wraps `folio`, locked, if it is the folio of `fault`; gives it back otherwise.
    #[cfg(CONFIG_IOMAP_RS)]
    pub(crate) fn new(fault: &'f VmFault, folio: LockedFolio) -> Result<Self, LockedFolio> {
        // SAFETY: The fault handler holds a reference to the page (`VmFault`'s invariant).
        if folio.as_raw() != unsafe { bindings::iomap_rs_vmf_folio(fault.0.get()) } {
            return Err(folio);
        }
        // INVARIANT: Checked above; `LockedFolio` owns the lock.
        Ok(Self {
            folio,
            _fault: PhantomData,
        })
    }

    /// The locked folio.
    pub fn folio(&self) -> &LockedFolio {
        &self.folio
    }

    /// Unlocks the folio: the fault is to be retried or failed after all.
    pub fn unlock(self) -> ARef<Folio> {
        self.folio.unlock()
    }

    /// Hands the lock to the fault handler, which unlocks the folio; the reference it took is
    /// its own, ours is dropped.
    ///
    /// # Safety
    ///
    /// The caller returns `VM_FAULT_LOCKED` for the fault `'f` borrows, from its
    /// `->page_mkwrite`: otherwise the lock is never released.
    pub unsafe fn into_locked_for_handler(self) {
        drop(self.folio.keep_locked());
    }
}

/// The page index of file offset `pos`; `None` for a negative offset, which has none (its
/// arithmetic shift would give an index near `ULONG_MAX`, where a folio could be created that
/// truncation never removes).
#[inline]
fn page_index(pos: i64) -> Option<usize> {
    (pos >= 0).then_some((pos >> bindings::PAGE_SHIFT) as usize)
}

/// The order of the folio to create for a write of `len` bytes, encoded in FGP flags as
/// `fgf_set_order()` does (C's inline, done here without a call; `rust/helpers/pagecache.c`
/// checks the encoding at build time): `log2(len)`, rounded down, past a page; nothing for a
/// page or less. Nothing for 0 either, where C's `ilog2(0)` would ask for the largest order.
#[inline]
fn fgf_set_order(len: usize) -> bindings::fgf_t {
    match len.checked_ilog2() {
        Some(shift) if shift > bindings::PAGE_SHIFT => (shift - bindings::PAGE_SHIFT) << 26,
        _ => 0,
    }
}

/// Converts the result of `__filemap_get_folio()` (a locked, referenced folio or an error
/// pointer).
#[inline]
pub(crate) fn folio_or_error(ptr: *mut bindings::folio) -> Result<LockedFolio> {
    // `IS_ERR()`: the last `MAX_ERRNO` addresses are errors (`from_err_ptr()` without the
    // helper call).
    if ptr as usize >= (bindings::MAX_ERRNO as usize).wrapping_neg() {
        return Err(Error::from_errno(ptr as isize as i32));
    }
    let ptr = NonNull::new(ptr).ok_or(ENOMEM)?;
    // SAFETY: `__filemap_get_folio(FGP_LOCK)` returned a folio locked for us with one reference
    // we own.
    Ok(unsafe { LockedFolio::from_raw(ptr) })
}

/// Proof that a mapping's `invalidate_lock` is held exclusively; releases it on drop if it was
/// taken by [`Mapping::invalidate_lock_write`].
///
/// # Invariants
///
/// `mapping`'s `invalidate_lock` is held for writing for the lifetime of this object; it is
/// owned by this object if `owned` is true.
pub struct InvalidateLockWrite<'a> {
    mapping: &'a Mapping,
    owned: bool,
    /// A rwsem must be released by the task that took it.
    _not_send: PhantomData<*mut ()>,
}

impl InvalidateLockWrite<'_> {
    /// The mapping whose lock is held.
    #[inline]
    pub fn mapping(&self) -> &Mapping {
        self.mapping
    }

    /// Drops the cached data of `[start, end)` of `inode`, dirty or not, without writing it
    /// back: what a delalloc release did before the fix that keeps dirty data (the
    /// `release_punch_all` debug knob brings it back, to show what it destroys). `EINVAL` if
    /// this is the lock of another mapping; an empty range does nothing.
    #[cfg(CONFIG_IOMAP_RS_DEBUG)]
    pub(crate) fn discard_cached_range(&self, inode: &Inode, start: i64, end: i64) -> Result {
        if !core::ptr::eq(self.mapping, inode.mapping()) || inode.is_special() {
            return Err(EINVAL);
        }
        if start < 0 || start >= end {
            return Ok(());
        }
        // SAFETY: The inode is alive (`Inode`'s invariant) and its `invalidate_lock` is held
        // exclusively (checked above), so page faults cannot map the range meanwhile; the
        // inclusive end is not before the start.
        unsafe { bindings::truncate_pagecache_range(inode.as_raw(), start, end - 1) };
        Ok(())
    }
}

impl Drop for InvalidateLockWrite<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: We own the lock (type invariant) and release it exactly once, here.
            unsafe { bindings::filemap_invalidate_unlock(self.mapping.as_raw()) };
        }
    }
}
