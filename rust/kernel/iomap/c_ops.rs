// SPDX-License-Identifier: GPL-2.0

//! A C filesystem's `struct iomap_ops` and `struct iomap_folio_ops`, as an [`IomapOps`].
//!
//! C header: [`include/linux/iomap.h`](srctree/include/linux/iomap.h).
//!
//! This is what lets the Rust library serve as a drop-in for C iomap: the C ABI entry points
//! wrap the caller's operation table in a [`CIomapOps`] and run the Rust algorithms over it. The
//! per-folio callbacks come from the `folio_ops` of the current mapping, as in C.
//!
//! C filesystems may rely on more than the arguments of their callbacks: the `struct iomap *`
//! that `iomap_begin`, `iomap_end`, `folio_ops->iomap_valid` and the delalloc punch receive is
//! the `iomap` member of a `struct iomap_iter`, and `container_of()` on it reaches the
//! iterator's `private`, `pos`, `len` and `flags` (btrfs does; later kernels reach `private`
//! that way). So [`CIomapOps`] holds a real `struct iomap_iter` for the whole operation: the
//! callbacks get its members, and its fields are those C's `iomap_iter()` would have at each
//! call. The Rust iterator keeps its own copies of the two mappings, copied in after `begin` and
//! back (the flags the library sets: stale, size changed) before the other callbacks. The
//! `iomap_iter`, `iomap_iter_dstmap` and `iomap_iter_srcmap` trace events are emitted where C
//! emits them.

use super::iter::{IomapOps, IterFlags};
use super::map::Iomap;
use crate::{
    bindings,
    error::{code::*, to_result, Result},
    folio::LockedFolio,
    pagecache::Inode,
};
use core::ffi::c_void;

/// The operations of a C filesystem, with the C iterator their callbacks see.
///
/// # Invariants
///
/// `ops` points to a `struct iomap_ops` that outlives this object, whose callbacks (and those
/// of the `folio_ops` of the mappings they return) follow the contract of
/// `include/linux/iomap.h` for `inode`. `iter.inode` is `inode` and `iter.private` the
/// caller's.
pub struct CIomapOps<'a> {
    ops: &'a bindings::iomap_ops,
    inode: &'a Inode,
    iter: bindings::iomap_iter,
    caller: usize,
}

impl<'a> CIomapOps<'a> {
    /// Wraps the operation table `ops` for operations on `inode`; `private` is the iterator's
    /// `private` for every callback, as C's entry points set it, and `caller` the address the
    /// `iomap_iter` trace event reports (the C entry point's).
    ///
    /// # Safety
    ///
    /// The callbacks in `ops`, and in the `folio_ops` of the mappings they return, must follow
    /// the contract documented in `include/linux/iomap.h` for `inode`; the mappings they return
    /// satisfy [`Iomap::from_c`]'s contract.
    pub unsafe fn new(
        ops: &'a bindings::iomap_ops,
        inode: &'a Inode,
        private: *mut c_void,
        caller: usize,
    ) -> Self {
        // SAFETY: `struct iomap_iter` is plain data; all zeroes is a valid value (two holes).
        let mut iter: bindings::iomap_iter = unsafe { core::mem::zeroed() };
        iter.inode = inode.as_raw();
        iter.private = private;
        // INVARIANT: The caller vouches for the operations; the iterator is set up as stated.
        Self {
            ops,
            inode,
            iter,
            caller,
        }
    }

    /// The mapping's folio operations, if the filesystem supplied any.
    fn folio_ops(iomap: &Iomap) -> Option<&bindings::iomap_folio_ops> {
        // SAFETY: A non-null `folio_ops` set by the filesystem points to a static table
        // (`new`'s contract).
        unsafe { iomap.folio_ops().as_ref() }
    }

    /// Brings the C iterator's mapping up to date with the library's, which may have marked it
    /// stale or size-changed, before a callback sees it.
    fn sync_flags(&mut self, iomap: &Iomap) {
        self.iter.iomap.flags = iomap.flags().bits();
    }
}

impl IomapOps for CIomapOps<'_> {
    #[inline]
    fn begin(
        &mut self,
        pos: i64,
        len: u64,
        flags: IterFlags,
        iomap: &mut Iomap,
        srcmap: &mut Iomap,
    ) -> Result {
        let begin = self.ops.iomap_begin.ok_or(EINVAL)?;
        let length = i64::try_from(len).map_err(|_| EINVAL)?;
        // The fields C's `iomap_iter()` has when it calls `iomap_begin`.
        self.iter.pos = pos;
        self.iter.len = len;
        self.iter.flags = flags.bits();
        self.iter.processed = 0;
        let hole = || {
            // SAFETY: `struct iomap` is plain data; all zeroes is a valid value (a hole).
            unsafe { core::mem::zeroed::<bindings::iomap>() }
        };
        self.iter.iomap = hole();
        self.iter.srcmap = hole();
        // SAFETY: The iterator is valid; the function only reads it.
        unsafe { bindings::iomap_rs_trace_iter(&mut self.iter, self.ops, self.caller) };
        // SAFETY: The callback's contract (`new`): the inode is alive, both maps are members of
        // a live `struct iomap_iter`, valid for writing and not otherwise accessed during the
        // call.
        to_result(unsafe {
            begin(
                self.inode.as_raw(),
                pos,
                length,
                flags.bits(),
                &mut self.iter.iomap,
                &mut self.iter.srcmap,
            )
        })?;
        // SAFETY: The iterator is valid; the function only reads it.
        unsafe { bindings::iomap_rs_trace_iter_maps(&mut self.iter) };
        // SAFETY: The filesystem filled the mappings under `new`'s contract.
        unsafe {
            *iomap = Iomap::from_c(self.iter.iomap);
            *srcmap = Iomap::from_c(self.iter.srcmap);
        }
        Ok(())
    }

    #[inline]
    fn end(
        &mut self,
        pos: i64,
        len: u64,
        written: u64,
        flags: IterFlags,
        iomap: &mut Iomap,
    ) -> Result {
        let Some(end) = self.ops.iomap_end else {
            return Ok(());
        };
        let len = i64::try_from(len).map_err(|_| EINVAL)?;
        let written = isize::try_from(written).map_err(|_| EINVAL)?;
        self.sync_flags(iomap);
        self.iter.processed = written as i64;
        // SAFETY: As for `begin`; the mapping is the iterator's member.
        to_result(unsafe {
            end(
                self.inode.as_raw(),
                pos,
                len,
                written,
                flags.bits(),
                &mut self.iter.iomap,
            )
        })
    }

    #[inline]
    fn iomap_valid(&mut self, iomap: &Iomap) -> bool {
        let Some(valid) = Self::folio_ops(iomap).and_then(|f| f.iomap_valid) else {
            return true;
        };
        self.sync_flags(iomap);
        // SAFETY: As for `begin`; the callback only reads the mapping, the iterator's member.
        unsafe { valid(self.inode.as_raw(), &self.iter.iomap) }
    }

    #[inline]
    fn get_folio(
        &mut self,
        inode: &Inode,
        iomap: &Iomap,
        pos: i64,
        len: usize,
        flags: IterFlags,
    ) -> Result<LockedFolio> {
        let Some(get) = Self::folio_ops(iomap).and_then(|f| f.get_folio) else {
            return inode.mapping().get_folio_for_write(
                pos,
                len,
                flags.contains(IterFlags::NOWAIT),
            );
        };
        self.sync_flags(iomap);
        let len = u32::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: As for `begin`; the callback gets the iterator of this operation, as in C, and
        // returns a locked folio with a reference we own, or an error pointer.
        let ptr = unsafe { get(&mut self.iter, pos, len) };
        crate::pagecache::folio_or_error(ptr)
    }

    #[inline]
    fn put_folio(
        &mut self,
        inode: &Inode,
        iomap: &Iomap,
        pos: i64,
        copied: usize,
        folio: LockedFolio,
    ) {
        let Some(put) = Self::folio_ops(iomap).and_then(|f| f.put_folio) else {
            drop(folio);
            return;
        };
        // The library passes at most the bytes written into one folio, and a folio is far
        // smaller than 4 GiB; should that ever change, the count saturates rather than wraps.
        let copied = u32::try_from(copied).unwrap_or(u32::MAX);
        // SAFETY: As for `begin`; the callback takes over the lock and the reference that
        // `into_raw` gives up.
        unsafe { put(inode.as_raw(), pos, copied, folio.into_raw()) }
    }
}
