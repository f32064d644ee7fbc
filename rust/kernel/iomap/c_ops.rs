// SPDX-License-Identifier: GPL-2.0

//! A C filesystem's `struct iomap_ops` and `struct iomap_folio_ops`, as an [`IomapOps`].
//!
//! C header: [`include/linux/iomap.h`](srctree/include/linux/iomap.h).
//!
//! This is what lets the Rust library serve as a drop-in for C iomap: the C ABI entry points
//! wrap the caller's operation table in a [`CIomapOps`] and run the Rust algorithms over it. The
//! per-folio callbacks come from the `folio_ops` of the current mapping, as in C.

use super::iter::{IomapOps, IterFlags};
use super::map::Iomap;
use crate::{
    bindings,
    error::{code::*, to_result, Result},
    folio::LockedFolio,
    pagecache::Inode,
};
use core::ffi::c_void;

/// The operations of a C filesystem.
///
/// # Invariants
///
/// `ops` points to a `struct iomap_ops` that outlives this object, and `inode` is the inode the
/// operations are for.
pub struct CIomapOps<'a> {
    ops: &'a bindings::iomap_ops,
    inode: &'a Inode,
    private: *mut c_void,
}

impl<'a> CIomapOps<'a> {
    /// Wraps the operation table `ops` for operations on `inode`; `private` is passed to the
    /// filesystem in `iomap_iter::private`, as C's entry points do.
    ///
    /// # Safety
    ///
    /// The callbacks in `ops`, and in the `folio_ops` of the mappings they return, must follow
    /// the contract documented in `include/linux/iomap.h` for `inode`.
    pub unsafe fn new(
        ops: &'a bindings::iomap_ops,
        inode: &'a Inode,
        private: *mut c_void,
    ) -> Self {
        Self {
            ops,
            inode,
            private,
        }
    }

    /// The mapping's folio operations, if the filesystem supplied any.
    fn folio_ops(iomap: &Iomap) -> Option<&bindings::iomap_folio_ops> {
        // SAFETY: A non-null `folio_ops` set by the filesystem points to a static table
        // (`new`'s contract).
        unsafe { iomap.folio_ops().as_ref() }
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
        let len = i64::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: The callback's contract (`new`): the inode is alive, both maps are valid for
        // writing and not otherwise accessed during the call.
        to_result(unsafe {
            begin(
                self.inode.as_raw(),
                pos,
                len,
                flags.bits(),
                iomap.as_raw(),
                srcmap.as_raw(),
            )
        })
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
        // SAFETY: As for `begin`.
        to_result(unsafe {
            end(
                self.inode.as_raw(),
                pos,
                len,
                written,
                flags.bits(),
                iomap.as_raw(),
            )
        })
    }

    #[inline]
    fn iomap_valid(&mut self, iomap: &Iomap) -> bool {
        match Self::folio_ops(iomap).and_then(|f| f.iomap_valid) {
            // SAFETY: As for `begin`; the callback only reads the mapping.
            Some(valid) => unsafe { valid(self.inode.as_raw(), iomap.as_ptr()) },
            None => true,
        }
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
        // The C callback takes the whole iterator; give it one describing this step.
        // SAFETY: `struct iomap_iter` is plain data; all zeroes is a valid value.
        let mut iter: bindings::iomap_iter = unsafe { core::mem::zeroed() };
        iter.inode = inode.as_raw();
        iter.pos = pos;
        iter.len = len as u64;
        iter.flags = flags.bits();
        // SAFETY: `Iomap` is a transparent wrapper of `struct iomap`, plain data.
        iter.iomap = unsafe { core::ptr::read(iomap.as_ptr()) };
        iter.private = self.private;
        let len = u32::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: As for `begin`; the callback returns a locked folio with a reference we own,
        // or an error pointer.
        let ptr = unsafe { get(&mut iter, pos, len) };
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
