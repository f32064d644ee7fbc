// SPDX-License-Identifier: GPL-2.0

//! Address-space operations of a Rust filesystem, and the bridge from its
//! [`IomapOps`] to the C `struct iomap_ops` that C iomap calls.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h),
//! [`include/linux/iomap.h`](srctree/include/linux/iomap.h).
//!
//! A filesystem maps its files for iomap by implementing [`Mapper`]: for an inode, it gives the
//! [`IomapOps`] that maps it. [`iomap_ops`] turns that into a C `iomap_ops` table, which is what
//! C iomap's reads (`iomap_read_folio`, `iomap_readahead`), `SEEK_HOLE`/`SEEK_DATA`
//! ([`seek_hole_data`]) and FIEMAP ([`fiemap`]) take; [`Ops::iomap`] is the
//! `address_space_operations` table of a file whose page cache iomap manages: reads through
//! the mapper, iomap's per-block folio state for dirtying, release, invalidation and partial
//! uptodate checks.
//!
//! The mappings a [`Mapper`] returns are [`Iomap`]s: one that says data is on a device can only
//! be made through [`super::sb::SuperBlock::device_iomap`] (the filesystem's own device, the
//! range checked against its size) or `unsafe` code, so C iomap never reads or writes through a
//! device that is not there.

use super::{inode::INode, FileSystem};
use crate::{
    bindings,
    error::{from_result, Result},
    iomap::{
        iter::{IomapOps, IterFlags},
        map::Iomap,
    },
    prelude::*,
};
use core::marker::PhantomData;

/// How a filesystem maps the files of type `FileSystem` for iomap.
pub trait Mapper {
    /// The filesystem.
    type FileSystem: FileSystem;

    /// The iomap operations of one call, for one inode.
    type Ops<'a>: IomapOps;

    /// The operations that map `inode`.
    fn ops(inode: &INode<Self::FileSystem>) -> Self::Ops<'_>;
}

/// The C callbacks of mapper `M`.
struct Bridge<M: Mapper + ?Sized>(PhantomData<M>);

impl<M: Mapper + ?Sized> Bridge<M> {
    const TABLE: bindings::iomap_ops = bindings::iomap_ops {
        iomap_begin: Some(Self::begin),
        iomap_end: Some(Self::end),
    };

    /// # Safety
    ///
    /// Only C calls this, as the `begin` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn begin(
        inode: *mut bindings::inode,
        pos: bindings::loff_t,
        length: bindings::loff_t,
        flags: u32,
        iomap: *mut bindings::iomap,
        srcmap: *mut bindings::iomap,
    ) -> crate::ffi::c_int {
        from_result(|| {
            // SAFETY: C iomap uses this table only for live inodes of `M::FileSystem` (`Ops::iomap`,
            // `seek_hole_data`, `fiemap`), with its iterator's zeroed, unshared `iomap`/`srcmap`.
            let (inode, iomap, srcmap) = unsafe {
                (
                    INode::<M::FileSystem>::from_raw(inode),
                    Iomap::from_raw_mut(iomap),
                    Iomap::from_raw_mut(srcmap),
                )
            };
            let length = u64::try_from(length).map_err(|_| EINVAL)?;
            M::ops(inode).begin(pos, length, IterFlags::from_bits(flags), iomap, srcmap)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only C calls this, as the `end` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn end(
        inode: *mut bindings::inode,
        pos: bindings::loff_t,
        length: bindings::loff_t,
        written: isize,
        flags: u32,
        iomap: *mut bindings::iomap,
    ) -> crate::ffi::c_int {
        from_result(|| {
            // SAFETY: As in `begin`.
            let (inode, iomap) = unsafe {
                (
                    INode::<M::FileSystem>::from_raw(inode),
                    Iomap::from_raw_mut(iomap),
                )
            };
            let length = u64::try_from(length).map_err(|_| EINVAL)?;
            let written = u64::try_from(written).unwrap_or(0);
            M::ops(inode).end(pos, length, written, IterFlags::from_bits(flags), iomap)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only C calls this, as the `read_folio` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn read_folio(
        _file: *mut bindings::file,
        folio: *mut bindings::folio,
    ) -> crate::ffi::c_int {
        // SAFETY: The page cache passes a locked folio of a file whose `a_ops` is this
        // mapper's table, so `TABLE` is the right `iomap_ops` for it.
        unsafe { bindings::iomap_read_folio(folio, &Self::TABLE) }
    }

    /// # Safety
    ///
    /// Only C calls this, as the `readahead` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn readahead(rac: *mut bindings::readahead_control) {
        // SAFETY: As in `read_folio`.
        unsafe { bindings::iomap_readahead(rac, &Self::TABLE) }
    }
}

/// The C `iomap_ops` of mapper `M`.
pub fn iomap_ops<M: Mapper + ?Sized>() -> &'static bindings::iomap_ops {
    &Bridge::<M>::TABLE
}

/// `SEEK_DATA` (`data`) or `SEEK_HOLE` from `offset` in `inode`, through mapper `M`
/// (`iomap_seek_data()`, `iomap_seek_hole()`): the offset found, `ENXIO` at or beyond EOF.
pub fn seek_hole_data<M: Mapper>(
    inode: &INode<M::FileSystem>,
    offset: i64,
    data: bool,
) -> Result<i64> {
    let ops = iomap_ops::<M>();
    // SAFETY: `inode` is live and initialised and of `M::FileSystem`, as the table requires.
    let ret = unsafe {
        if data {
            bindings::iomap_seek_data(inode.as_raw(), offset, ops)
        } else {
            bindings::iomap_seek_hole(inode.as_raw(), offset, ops)
        }
    };
    if ret < 0 {
        return Err(Error::from_errno(ret as i32));
    }
    Ok(ret)
}

/// The state of a FIEMAP call (`struct fiemap_extent_info`).
///
/// # Invariants
///
/// Points to the `fiemap_extent_info` of the `fiemap` call that created it, valid while it
/// exists.
pub struct FiemapInfo<'a>(*mut bindings::fiemap_extent_info, PhantomData<&'a mut ()>);

impl FiemapInfo<'_> {
    /// # Safety
    ///
    /// `ptr` is valid for the returned lifetime and not used elsewhere meanwhile.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::fiemap_extent_info) -> FiemapInfo<'a> {
        FiemapInfo(ptr, PhantomData)
    }
}

/// Reports the extents of `[start, start + len)` of `inode` through mapper `M`
/// (`iomap_fiemap()`).
pub fn fiemap<M: Mapper>(
    inode: &INode<M::FileSystem>,
    info: &mut FiemapInfo<'_>,
    start: u64,
    len: u64,
) -> Result {
    // SAFETY: `inode` is live and of `M::FileSystem`; `info.0` is valid (type invariant).
    crate::error::to_result(unsafe {
        bindings::iomap_fiemap(inode.as_raw(), info.0, start, len, iomap_ops::<M>())
    })
}

/// An `address_space_operations` table for filesystem `T`.
#[derive(Clone, Copy)]
pub struct Ops<T: FileSystem>(&'static bindings::address_space_operations, PhantomData<T>);

impl<T: FileSystem> Ops<T> {
    pub(crate) fn table(self) -> &'static bindings::address_space_operations {
        self.0
    }

    /// The table of a file whose page cache C iomap manages, mapped by `M`: reads and
    /// readahead through `M`, iomap's per-block folio state for the rest.
    pub const fn iomap<M: Mapper<FileSystem = T> + ?Sized>() -> Self {
        struct Table<M: Mapper + ?Sized>(PhantomData<M>);
        impl<M: Mapper + ?Sized> Table<M> {
            const TABLE: bindings::address_space_operations = bindings::address_space_operations {
                read_folio: Some(Bridge::<M>::read_folio),
                readahead: Some(Bridge::<M>::readahead),
                dirty_folio: Some(bindings::iomap_dirty_folio),
                release_folio: Some(bindings::iomap_release_folio),
                invalidate_folio: Some(bindings::iomap_invalidate_folio),
                migrate_folio: Some(bindings::filemap_migrate_folio),
                is_partially_uptodate: Some(bindings::iomap_is_partially_uptodate),
                error_remove_folio: Some(bindings::generic_error_remove_folio),
                // SAFETY: All-zeroes (no callback) is valid for the other fields.
                ..unsafe { core::mem::zeroed() }
            };
        }
        Self(&Table::<M>::TABLE, PhantomData)
    }
}
