// SPDX-License-Identifier: GPL-2.0

//! I/O control blocks and iterators over the caller's buffers.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h) (`struct kiocb`),
//! [`include/linux/uio.h`](srctree/include/linux/uio.h) (`struct iov_iter`).
//!
//! A `struct kiocb` describes one read or write call: the file, the position and flags such as
//! `IOCB_NOWAIT`. A `struct iov_iter` walks the caller's buffers (user memory, kernel vectors,
//! pipes...) and tracks how much of them is left.
//!
//! # Soundness
//!
//! A [`Kiocb`] and an [`IovIter`] are borrowed for the call that passed them; reverting an
//! iterator past what was consumed is `unsafe`. [`Kiocb::set_pos`] refuses negative positions.

use crate::{bindings, error::code::EINVAL, error::Result, pagecache::Inode, types::Opaque};

/// A kernel I/O control block, C's `struct kiocb`.
///
/// # Invariants
///
/// The kiocb and its file are valid for as long as a reference to a `Kiocb` exists, and a
/// `&mut Kiocb` gives exclusive access to the kiocb.
#[repr(transparent)]
pub struct Kiocb(Opaque<bindings::kiocb>);

impl Kiocb {
    /// Creates a `&mut Kiocb` from a pointer to a C kiocb.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a kiocb, with an open file, that is valid and accessed by nothing
    /// else for `'a`.
    #[inline]
    pub unsafe fn from_raw_mut<'a>(ptr: *mut bindings::kiocb) -> &'a mut Kiocb {
        // SAFETY: `Kiocb` is a transparent wrapper; the caller guarantees validity and
        // exclusive access for `'a`.
        unsafe { &mut *ptr.cast() }
    }

    #[inline]
    pub(crate) fn as_raw(&self) -> *mut bindings::kiocb {
        self.0.get()
    }

    /// The file position of the operation (`ki_pos`).
    #[inline]
    pub fn pos(&self) -> i64 {
        // SAFETY: The kiocb is valid (type invariant).
        unsafe { (*self.as_raw()).ki_pos }
    }

    /// Moves the file position, as a completed write does. `EINVAL` for a negative position,
    /// which no file has (the VFS would store it as the file's offset).
    #[inline]
    pub fn set_pos(&mut self, pos: i64) -> Result {
        if pos < 0 {
            return Err(EINVAL);
        }
        // SAFETY: The kiocb is valid and we have exclusive access (type invariant).
        unsafe { (*self.as_raw()).ki_pos = pos };
        Ok(())
    }

    /// Whether the caller must not block (`IOCB_NOWAIT`).
    #[inline]
    pub fn is_nowait(&self) -> bool {
        // SAFETY: The kiocb is valid (type invariant).
        unsafe { (*self.as_raw()).ki_flags & bindings::IOCB_NOWAIT != 0 }
    }

    /// Whether the operation bypasses the page cache (`IOCB_DIRECT`, from `O_DIRECT`).
    #[inline]
    pub fn is_direct(&self) -> bool {
        // SAFETY: The kiocb is valid (type invariant).
        unsafe { (*self.as_raw()).ki_flags as u32 & bindings::IOCB_DIRECT != 0 }
    }

    /// The `IOCB_DSYNC` and `IOCB_SYNC` bits (`include/linux/fs.h`: the values of `RWF_DSYNC`
    /// and `RWF_SYNC`, user-space ABI).
    #[cfg(CONFIG_IOMAP_RS)]
    const SYNC_FLAGS: i32 = 0x2 | 0x4;

    /// Runs `f` with the kiocb's `O_DSYNC`/`O_SYNC` flags cleared, for C helpers that would
    /// sync from inside while the caller holds locks its `fsync` takes; the caller syncs
    /// afterwards (see [`crate::fs::file::write_sync`]).
    #[cfg(CONFIG_IOMAP_RS)]
    pub(crate) fn without_sync<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        // SAFETY: The kiocb is valid and we have exclusive access (type invariant).
        let flags = unsafe { (*self.as_raw()).ki_flags };
        // SAFETY: As above.
        unsafe { (*self.as_raw()).ki_flags = flags & !Self::SYNC_FLAGS };
        let r = f(self);
        // SAFETY: As above. Only the two bits are restored: C does not change them.
        unsafe { (*self.as_raw()).ki_flags |= flags & Self::SYNC_FLAGS };
        r
    }

    /// The inode whose data the file accesses (`ki_filp->f_mapping->host`).
    #[inline]
    pub fn inode(&self) -> &Inode {
        // SAFETY: The kiocb's file is open (type invariant), so its mapping and host inode are
        // alive for at least as long as the kiocb.
        unsafe { Inode::from_raw((*(*(*self.as_raw()).ki_filp).f_mapping).host) }
    }
}

/// An iterator over the buffers of an I/O call, C's `struct iov_iter`.
///
/// # Invariants
///
/// The iterator is valid, and accessed only through this object, for as long as a `&mut IovIter`
/// exists.
#[repr(transparent)]
pub struct IovIter(Opaque<bindings::iov_iter>);

impl IovIter {
    /// Creates a `&mut IovIter` from a pointer to a C iterator.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an iterator that is valid and accessed by nothing else for `'a`.
    #[inline]
    pub unsafe fn from_raw_mut<'a>(ptr: *mut bindings::iov_iter) -> &'a mut IovIter {
        // SAFETY: `IovIter` is a transparent wrapper; the caller guarantees validity and
        // exclusive access for `'a`.
        unsafe { &mut *ptr.cast() }
    }

    /// The underlying C iterator.
    #[inline]
    pub fn as_raw(&mut self) -> *mut bindings::iov_iter {
        self.0.get()
    }

    /// The number of bytes left.
    #[inline]
    pub fn count(&self) -> usize {
        // `iov_iter_count()` is `return i->count;`: the field is read as it does, without a
        // call on the per-folio path. `count` is a member of the anonymous struct in the
        // union, which `include/linux/uio.h` lays over `__ubuf_iovec` for every iterator type.
        // SAFETY: The iterator is valid and not changed concurrently (type invariant); `count`
        // is valid for every iterator type (above).
        unsafe {
            (*self.0.get())
                .__bindgen_anon_1
                .__bindgen_anon_1
                .as_ref()
                .count
        }
    }

    /// Faults in the next `bytes` bytes of a user buffer so that an atomic copy from them can
    /// succeed, and returns how many of them could *not* be faulted in
    /// (`fault_in_iov_iter_readable()`); always 0 for kernel buffers.
    #[inline]
    pub fn fault_in_readable(&self, bytes: usize) -> usize {
        // SAFETY: The iterator is valid (type invariant); the function only reads it.
        unsafe { bindings::fault_in_iov_iter_readable(self.0.get(), bytes) }
    }

    /// Moves the iterator back by `bytes`.
    ///
    /// # Safety
    ///
    /// At least `bytes` bytes must have been consumed from the iterator: the C function walks
    /// back over the segment array without bounds checks.
    #[inline]
    pub unsafe fn revert(&mut self, bytes: usize) {
        // SAFETY: The iterator is valid and exclusively ours (type invariant); the caller
        // guarantees `bytes` were consumed.
        unsafe { bindings::iov_iter_revert(self.as_raw(), bytes) };
    }
}

/// Bytes a copy just took from an [`IovIter`], which can be given back to it.
///
/// # Invariants
///
/// `bytes` bytes were consumed from `iter` by the copy that made this object, and nothing else
/// has advanced or reverted `iter` since (this object borrows it exclusively).
pub struct Consumed<'i> {
    iter: &'i mut IovIter,
    bytes: usize,
}

impl<'i> Consumed<'i> {
    /// Records that a copy consumed `bytes` bytes from `iter`.
    ///
    /// # Safety
    ///
    /// `bytes` bytes were just consumed from `iter` (by `copy_folio_from_iter_atomic()`, say).
    #[inline]
    pub unsafe fn new(iter: &'i mut IovIter, bytes: usize) -> Self {
        // INVARIANT: The caller guarantees the bytes were consumed; we hold `iter` exclusively.
        Self { iter, bytes }
    }

    /// How many bytes the copy took.
    #[inline]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Gives the bytes back to the iterator (`iov_iter_revert()`), so that they are copied
    /// again.
    #[inline]
    pub fn revert(self) {
        // SAFETY: `bytes` bytes were consumed from `iter` and nothing moved it since (type
        // invariant): reverting them stays within what the iterator went over.
        unsafe { bindings::iov_iter_revert(self.iter.as_raw(), self.bytes) };
    }
}
