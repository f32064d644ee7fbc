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
//!
//! # Soundness
//!
//! Checked at run time, failing the operation with `EIO`: a mapping of allocated or unwritten
//! blocks reaches C iomap only if it names the inode's own device. One made without a device
//! ([`Iomap::new`], which the Rust library accepts) would have C's direct I/O submit to a null
//! device. Safe code cannot get a mapping of another device to a bridge: `device_iomap` makes
//! mappings of the superblock's own device only, and an [`Iomap`] is neither `Send` nor `Sync`,
//! so it cannot be kept from one superblock's callback for another's; the check covers
//! mappings made by `unsafe` code ([`Iomap::with_device`]) as well. Writeback takes only holes
//! and mappings of the inode's device.
//! The direct I/O entry points check that the kiocb, inode and lock belong together (`EINVAL`).

use super::{inode::INode, FileSystem};
use crate::{
    bindings,
    error::{from_result, Result},
    iomap::{
        iter::{IomapOps, IterFlags},
        map::{Iomap, MappingType},
        range::FileRange,
    },
    prelude::*,
    str::CStr,
    types::Opaque,
};
use core::{marker::PhantomData, pin::Pin};

/// How a filesystem maps the files of type `FileSystem` for iomap.
pub trait Mapper {
    /// The filesystem.
    type FileSystem: FileSystem;

    /// The iomap operations of one call, for one inode.
    type Ops<'a>: IomapOps;

    /// The operations that map `inode`.
    fn ops(inode: &INode<Self::FileSystem>) -> Self::Ops<'_>;

    /// Whether the files can be opened with `O_DIRECT`. Their `read_iter` and `write_iter`
    /// must then send direct operations ([`crate::uio::Kiocb::is_direct`]) through
    /// [`direct_read`] and [`direct_write`]: the page cache's own direct I/O hook does nothing.
    const DIRECT_IO: bool = false;
}

/// Direct writes of the files of a [`Mapper`] ([`direct_write`]).
pub trait DirectWrite: Mapper {
    /// A direct write of `[offset, offset + size)` to `inode` completed without error; some of
    /// the blocks it wrote were mapped unwritten if `unwritten` is set (they are now written:
    /// the filesystem converts them). Extends the file if the write ended beyond EOF, with
    /// `lock` ([`crate::pagecache::InodeLock::write_size`]). Returns an error to fail the
    /// write.
    fn direct_write_done(
        inode: &INode<Self::FileSystem>,
        lock: &crate::pagecache::InodeLock<'_>,
        offset: i64,
        size: u64,
        unwritten: bool,
    ) -> Result;
}

/// The C `iomap_dio_ops` of mapper `M`.
struct DirectBridge<M: DirectWrite + ?Sized>(PhantomData<M>);

impl<M: DirectWrite + ?Sized> DirectBridge<M> {
    const OPS: bindings::iomap_dio_ops = bindings::iomap_dio_ops {
        end_io: Some(Self::end_io),
        // SAFETY: All-zeroes (no callback) is valid for the other fields.
        ..unsafe { core::mem::zeroed() }
    };

    /// # Safety
    ///
    /// Only C calls this, as the `end_io` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn end_io(
        iocb: *mut bindings::kiocb,
        size: isize,
        error: crate::ffi::c_int,
        flags: crate::ffi::c_uint,
    ) -> crate::ffi::c_int {
        if error != 0 || size <= 0 {
            return error;
        }
        from_result(|| {
            // Only `direct_write` passes this table, for a write to the inode its file's mapping
            // belongs to (`f_mapping->host`, the inode it checked), an inode of `M::FileSystem`
            // whose `i_rwsem` it holds exclusively; it waits for the I/O
            // (`IOMAP_DIO_FORCE_WAIT`), so the completion runs in its context, before it
            // returns and releases the lock.
            // SAFETY: The inode and its lock are live meanwhile (above); `ki_pos` is the start.
            let (inode, lock, offset) = unsafe {
                let host = (*(*(*iocb).ki_filp).f_mapping).host;
                let inode = INode::<M::FileSystem>::from_raw(host);
                (
                    inode,
                    inode.as_inode().assume_locked_exclusive(),
                    (*iocb).ki_pos,
                )
            };
            let unwritten = flags & bindings::IOMAP_DIO_UNWRITTEN != 0;
            M::direct_write_done(inode, &lock, offset, size as u64, unwritten)?;
            Ok(0)
        })
    }
}

/// Checks that `kiocb` is an I/O on `inode`'s file (`O_DIRECT` if `direct`) and `lock` is
/// `inode`'s `i_rwsem`: the C entry points below rely on both. `EINVAL` otherwise.
fn check_io_target<T: FileSystem>(
    inode: &INode<T>,
    kiocb: &crate::uio::Kiocb,
    lock: &crate::pagecache::InodeLock<'_>,
    direct: bool,
) -> Result {
    if (direct && !kiocb.is_direct())
        || !core::ptr::eq(kiocb.inode(), inode.as_inode())
        || !core::ptr::eq(lock.inode(), inode.as_inode())
    {
        return Err(EINVAL);
    }
    Ok(())
}

/// Reads `to` from `inode` at `kiocb`'s position through C iomap's direct I/O
/// (`iomap_dio_rw()`) with mapper `M`, bypassing the page cache (dirty cached data in the
/// range is written back first), and advances the position. Waits for the I/O, also for
/// asynchronous kiocbs.
///
/// `kiocb` must be an `O_DIRECT` read of `inode`'s file and `lock` its `i_rwsem`: `EINVAL`
/// otherwise. Ranges mapped as holes or unwritten read as zeroes; a delayed allocation must be
/// reported as a hole (its data is in the cache, written back before the read).
pub fn direct_read<M: Mapper>(
    inode: &INode<M::FileSystem>,
    kiocb: &mut crate::uio::Kiocb,
    to: &mut crate::uio::IovIter,
    lock: &crate::pagecache::InodeLock<'_>,
) -> Result<usize> {
    check_io_target(inode, kiocb, lock, true)?;
    // The kiocb reads `inode`, an inode of `M::FileSystem`, whose `i_rwsem` is held (checked
    // above); `M`'s table maps it. With `IOMAP_DIO_FORCE_WAIT` the call does not return before
    // the I/O is done, so nothing refers to the kiocb or iterator afterwards.
    // SAFETY: The kiocb and iterator are valid and ours for the call (type invariants).
    let ret = unsafe {
        bindings::file_accessed((*kiocb.as_raw()).ki_filp);
        bindings::iomap_dio_rw(
            kiocb.as_raw(),
            to.as_raw(),
            iomap_ops::<M>(),
            core::ptr::null(),
            bindings::IOMAP_DIO_FORCE_WAIT,
            core::ptr::null_mut(),
            0,
        )
    };
    if ret < 0 {
        return Err(Error::from_errno(ret as i32));
    }
    Ok(ret as usize)
}

/// Writes `from` to `inode` at `kiocb`'s position through C iomap's direct I/O
/// (`iomap_dio_rw()`) with mapper `M`, bypassing the page cache, and advances the position.
/// The cached folios of the range are written back and dropped first, and dropped again after
/// the write, so the cache never holds older data than the device. Waits for the I/O, also
/// for asynchronous kiocbs; [`DirectWrite::direct_write_done`] runs before the return.
///
/// `M`'s mappings for `IterFlags::DIRECT | IterFlags::WRITE` must be allocated blocks
/// (written, or unwritten and converted when the write is done). `kiocb` must be an
/// `O_DIRECT` write to `inode`'s file and `lock` its `i_rwsem`, held exclusively: `EINVAL`
/// otherwise; the caller did [`super::file::write_checks`] and syncs afterwards for
/// `O_SYNC`/`O_DSYNC` ([`super::file::write_sync`], after releasing the lock). Returns
/// `ENOTBLK` if cached folios of the range could not be dropped (a mapped page being
/// written), or if the inode's writes are synchronous ([`INode::is_sync`]): the caller falls
/// back to a buffered write, as C filesystems do.
pub fn direct_write<M: DirectWrite>(
    inode: &INode<M::FileSystem>,
    kiocb: &mut crate::uio::Kiocb,
    from: &mut crate::uio::IovIter,
    lock: &crate::pagecache::InodeLock<'_>,
) -> Result<usize> {
    check_io_target(inode, kiocb, lock, true)?;
    // C would sync at completion, through an `fsync` that may take the `i_rwsem` held here
    // (`generic_fsync` does): a write with the kiocb's sync flags goes without them, the
    // caller syncs after releasing the lock; and one to a synchronous inode, which
    // `iomap_dio_rw()` would sync whatever the kiocb's flags, goes through the cache.
    if inode.is_sync() {
        return Err(ENOTBLK);
    }
    let ret = kiocb.without_sync(|kiocb| {
        // SAFETY: As in `direct_read`; `i_rwsem` is held exclusively, as `DirectBridge`'s
        // completion relies on.
        unsafe {
            bindings::iomap_dio_rw(
                kiocb.as_raw(),
                from.as_raw(),
                iomap_ops::<M>(),
                &DirectBridge::<M>::OPS,
                bindings::IOMAP_DIO_FORCE_WAIT,
                core::ptr::null_mut(),
                0,
            )
        }
    });
    if ret < 0 {
        return Err(Error::from_errno(ret as i32));
    }
    Ok(ret as usize)
}

/// Whether `iomap` says data of `inode` is on a device (allocated or unwritten blocks) without
/// naming the inode's own: none, or another superblock's.
fn wrong_device<T: FileSystem>(inode: &INode<T>, iomap: &Iomap) -> bool {
    matches!(
        iomap.mapping_type(),
        Ok(MappingType::Mapped | MappingType::Unwritten)
    ) && !iomap.is_on_device(inode.super_block().bdev())
}

/// The C callbacks of mapper `M`.
struct Bridge<M: Mapper + ?Sized>(PhantomData<M>);

impl<M: Mapper + ?Sized> Bridge<M> {
    const TABLE: bindings::iomap_ops = bindings::iomap_ops {
        iomap_begin: Some(Self::begin),
        iomap_end: Some(Self::end),
    };

    /// The folio operations every mapping made through the bridge carries: C iomap's write
    /// path asks them whether a mapping is still valid once it holds a folio lock, as the
    /// library does with [`IomapOps::iomap_valid`].
    const FOLIO_OPS: bindings::iomap_folio_ops = bindings::iomap_folio_ops {
        get_folio: None,
        put_folio: None,
        iomap_valid: Some(Self::valid),
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
            // SAFETY: C iomap uses this table only for live inodes of `M::FileSystem`
            // (`Ops::iomap`, `seek_hole_data`, `fiemap`), with its iterator's zeroed, unshared
            // `iomap`/`srcmap`.
            let (inode, iomap, srcmap) = unsafe {
                (
                    INode::<M::FileSystem>::from_raw(inode),
                    Iomap::from_raw_mut(iomap),
                    Iomap::from_raw_mut(srcmap),
                )
            };
            let length = u64::try_from(length).map_err(|_| EINVAL)?;
            let flags = IterFlags::from_bits(flags);
            let mut ops = M::ops(inode);
            ops.begin(pos, length, flags, iomap, srcmap)?;
            // `Iomap::new` makes unwritten mappings without a device, which the library and
            // C's buffered paths never read; C's direct I/O writes them through their device
            // (`iomap_dio_bio_iter`), and a copy-on-write source is read from it. Only
            // mappings that name the inode's device cross to C (one made by `unsafe` code for
            // another device could name one closed since). C calls `end` only after a
            // successful `begin`: the mapper's `end` is called here, with nothing written, so
            // that it releases what `begin` took.
            if wrong_device(inode, iomap) || wrong_device(inode, srcmap) {
                let _ = ops.end(pos, length, 0, flags, iomap);
                return Err(EIO);
            }
            // SAFETY: The mapping is ours for the call (above); `FOLIO_OPS` is static, and its
            // callback is this mapper's, for this mapper's inodes.
            unsafe { (*iomap.as_raw()).folio_ops = &Self::FOLIO_OPS };
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
    /// Only C calls this, as the `iomap_valid` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn valid(inode: *mut bindings::inode, iomap: *const bindings::iomap) -> bool {
        // SAFETY: C iomap passes the inode and the mapping `begin` made for it (the only
        // mappings that carry `FOLIO_OPS`), which nothing changes during the call.
        let (inode, iomap) = unsafe {
            (
                INode::<M::FileSystem>::from_raw(inode),
                Iomap::from_raw(iomap),
            )
        };
        M::ops(inode).iomap_valid(iomap)
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

/// Writes `from` into the page cache of `inode` at `kiocb`'s position through C iomap
/// (`iomap_file_buffered_write()`) with mapper `M`'s operations, and advances the position:
/// the C path that [`crate::iomap::write::buffered_write`] reimplements, for filesystems that
/// offer both (see [`crate::iomap::write::rust_writes_enabled`]). C iomap revalidates each
/// folio's mapping with [`IomapOps::iomap_valid`] too, through the bridge's folio operations.
///
/// `kiocb` must be a write to `inode`'s file and `lock` its `i_rwsem`, held exclusively:
/// `EINVAL` otherwise. Returns the bytes written, or the error if nothing was.
pub fn c_buffered_write<M: Mapper>(
    inode: &INode<M::FileSystem>,
    kiocb: &mut crate::uio::Kiocb,
    from: &mut crate::uio::IovIter,
    lock: &crate::pagecache::InodeLock<'_>,
) -> Result<usize> {
    check_io_target(inode, kiocb, lock, false)?;
    // SAFETY: The kiocb and iterator are valid and ours for the call (their type invariants);
    // the kiocb writes `inode`, an inode of `M::FileSystem` (checked above), whose `i_rwsem` is
    // held (checked above), as C requires; `M`'s table maps it.
    let ret = unsafe {
        bindings::iomap_file_buffered_write(
            kiocb.as_raw(),
            from.as_raw(),
            iomap_ops::<M>(),
            core::ptr::null_mut(),
        )
    };
    if ret < 0 {
        return Err(Error::from_errno(ret as i32));
    }
    Ok(ret as usize)
}

/// `SEEK_DATA` (`data`) or `SEEK_HOLE` from `offset` in `inode`, through mapper `M`
/// (`iomap_seek_data()`, `iomap_seek_hole()`): the offset found, `ENXIO` at or beyond EOF,
/// and for a special file, whose `i_mapping` may be another object's (see
/// [`crate::pagecache::Inode::mapping`]).
pub fn seek_hole_data<M: Mapper>(
    inode: &INode<M::FileSystem>,
    offset: i64,
    data: bool,
) -> Result<i64> {
    if inode.as_inode().is_special() {
        return Err(ENXIO);
    }
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
/// (`iomap_fiemap()`); `EOPNOTSUPP` for a special file, whose `i_mapping` may be another
/// object's (see [`crate::pagecache::Inode::mapping`]).
pub fn fiemap<M: Mapper>(
    inode: &INode<M::FileSystem>,
    info: &mut FiemapInfo<'_>,
    start: u64,
    len: u64,
) -> Result {
    if inode.as_inode().is_special() {
        return Err(EOPNOTSUPP);
    }
    // SAFETY: `inode` is live and of `M::FileSystem`; `info.0` is valid (type invariant).
    crate::error::to_result(unsafe {
        bindings::iomap_fiemap(inode.as_raw(), info.0, start, len, iomap_ops::<M>())
    })
}

/// Writeback of the files a [`Mapper`] maps: C iomap's `iomap_writepages()` with a Rust
/// `map_blocks`, and completion of the I/O in process context.
///
/// Writeback calls [`Writeback::map_blocks`] at least once per dirty folio with the mapping it
/// used last (zeroed at first): the filesystem keeps it if it still covers the offset and is
/// still valid (its validity cookie, as in the write path, is how a filesystem tells), or
/// replaces it, allocating blocks for delayed allocations. Only three mappings are accepted:
/// allocated or unwritten blocks made by [`super::sb::SuperBlock::device_iomap`], or a hole
/// (the dirty data there is not written); anything else, or a mapping that does not cover the
/// offset, fails the folio's writeback with `EIO`.
///
/// Each I/O completes through the [`IoendQueue`] the filesystem names: in a workqueue,
/// [`Writeback::complete_ioend`] (converting unwritten extents, say), then the folios'
/// writeback ends. So whoever waits for writeback (`fsync`, truncation, unmount) also waits
/// for the completion.
pub trait Writeback: Mapper {
    /// Maps for writeback the `len` dirty bytes at `offset` of `inode`, keeping or replacing
    /// `iomap` (see the [trait documentation](Writeback)).
    fn map_blocks(
        inode: &INode<Self::FileSystem>,
        iomap: &mut Iomap,
        offset: i64,
        len: u32,
    ) -> Result;

    /// Called when writeback could not write the dirty bytes of a folio from `range.start()`
    /// on ([`Writeback::map_blocks`] failed, or adding them to an I/O did; `range` ends where
    /// the folio does, and may be empty): the folio ends its writeback clean, so their data
    /// is lost and the error is reported to `fsync`. The
    /// filesystem gives back what it held for that data, as XFS's `xfs_discard_folio` punches
    /// its delayed allocations: nothing will write them any more. The folio is locked, so the
    /// cache over `range` does not change meanwhile. Does nothing by default.
    fn discard_folio(inode: &INode<Self::FileSystem>, range: FileRange) {
        let _ = (inode, range);
    }

    /// The queue through which writeback I/O of `inode` completes.
    fn ioend_queue(inode: &INode<Self::FileSystem>) -> &IoendQueue<Self>;

    /// Called in process context when the writeback I/O `ioend` of `inode` finished, before the
    /// folios' writeback ends. An error marks the folios' mapping with it (`fsync` reports it).
    ///
    /// It runs in a [`super::reclaim::NoFsScope`], as XFS's `xfs_end_ioend` does: reclaim waits
    /// for writeback to end, so an allocation here must not wait for reclaim of this
    /// filesystem.
    fn complete_ioend(inode: &INode<Self::FileSystem>, ioend: &Ioend) -> Result;
}

/// A finished writeback I/O: `size` bytes at file offset `offset`, written to blocks that
/// [`Writeback::map_blocks`] mapped as `mapping_type`.
#[derive(Clone, Copy, Debug)]
pub struct Ioend {
    /// The file offset of the first byte written.
    pub offset: i64,
    /// The number of bytes written (within EOF).
    pub size: u64,
    /// How the blocks were mapped: [`MappingType::Unwritten`] blocks need converting.
    pub mapping_type: MappingType,
    /// The I/O's error, if it failed.
    pub error: Option<Error>,
}

/// The queue through which a [`Writeback`] filesystem's I/O completes, in process context
/// (`struct iomap_rs_ioend_queue`, `fs/iomap_rs/iomap_rs_ioend.c`): a workqueue of its own,
/// able to make progress under memory pressure, as writeback needs.
///
/// # Invariants
///
/// `raw` is initialised by `iomap_rs_ioend_queue_init` with `M`'s completion callback, and
/// destroyed when the queue is dropped, which waits for every I/O handed to the queue.
#[pin_data(PinnedDrop)]
pub struct IoendQueue<M: Writeback + ?Sized> {
    #[pin]
    raw: Opaque<bindings::iomap_rs_ioend_queue>,
    _p: PhantomData<M>,
}

// SAFETY: The queue is used from any thread by C, under its own lock.
unsafe impl<M: Writeback + ?Sized> Send for IoendQueue<M> {}
// SAFETY: As above.
unsafe impl<M: Writeback + ?Sized> Sync for IoendQueue<M> {}

impl<M: Writeback + ?Sized> IoendQueue<M> {
    /// A new queue whose workqueue is named `name`.
    pub fn new(name: &'static CStr) -> impl PinInit<Self, Error> {
        let init = move |slot: *mut Self| {
            // SAFETY: `slot` is valid for writes (the contract of `pin_init_from_closure`);
            // `raw` is initialised in place, where it stays (pinned).
            unsafe {
                let raw = Opaque::raw_get(core::ptr::addr_of!((*slot).raw));
                crate::error::to_result(bindings::iomap_rs_ioend_queue_init(
                    raw,
                    name.as_char_ptr(),
                    Some(Self::complete),
                ))
            }
        };
        // SAFETY: On success `raw` is initialised (the `PhantomData` needs nothing); on failure
        // nothing was allocated.
        unsafe { crate::init::pin_init_from_closure(init) }
    }

    /// # Safety
    ///
    /// Only the queue's work item calls this, for an ioend that `M`'s `prepare_ioend` handed
    /// to a queue of `M`.
    unsafe extern "C" fn complete(
        queue: *mut bindings::iomap_rs_ioend_queue,
        ioend: *mut bindings::iomap_ioend,
        error: crate::ffi::c_int,
    ) {
        // SAFETY: The ioend is finished and ours until `iomap_finish_ioends`; its inode is one
        // of `M::FileSystem`'s (only `M`'s writeback hands ioends to this queue), alive while
        // its folios are under writeback, which ends in `iomap_finish_ioends`.
        unsafe {
            let raw = &*ioend;
            let inode = INode::<M::FileSystem>::from_raw(raw.io_inode);
            let info = Ioend {
                offset: raw.io_offset,
                size: raw.io_size as u64,
                mapping_type: MappingType::try_from(raw.io_type).unwrap_or(MappingType::Hole),
                error: (error != 0).then(|| Error::from_errno(error)),
            };
            let completed = {
                let _nofs = super::reclaim::NoFsScope::enter();
                M::complete_ioend(inode, &info)
            };
            let error = match completed {
                Ok(()) => error,
                Err(e) if error == 0 => e.to_errno(),
                Err(_) => error,
            };
            bindings::iomap_finish_ioends(ioend, error);
            bindings::iomap_rs_ioend_done(queue);
        }
    }
}

#[pinned_drop]
impl<M: Writeback + ?Sized> PinnedDrop for IoendQueue<M> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Initialised (type invariant); this waits for the I/O still using the queue.
        unsafe { bindings::iomap_rs_ioend_queue_destroy(self.raw.get()) };
    }
}

/// The writeback callbacks of `M`.
struct WritebackBridge<M: Writeback + ?Sized>(PhantomData<M>);

impl<M: Writeback + ?Sized> WritebackBridge<M> {
    const OPS: bindings::iomap_writeback_ops = bindings::iomap_writeback_ops {
        map_blocks: Some(Self::map_blocks),
        prepare_ioend: Some(Self::prepare_ioend),
        discard_folio: Some(Self::discard_folio),
    };

    /// # Safety
    ///
    /// Only C calls this, as the `writepages` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn writepages(
        mapping: *mut bindings::address_space,
        wbc: *mut bindings::writeback_control,
    ) -> crate::ffi::c_int {
        // SAFETY: All zeroes is the initial writeback context (no mapping, no ioend); the
        // mapping is a file's of `M` (its `a_ops` is `M`'s table) and `wbc` the caller's.
        unsafe {
            let mut wpc: bindings::iomap_writepage_ctx = core::mem::zeroed();
            bindings::iomap_writepages(mapping, wbc, &mut wpc, &Self::OPS)
        }
    }

    /// # Safety
    ///
    /// Only C calls this, as the `map_blocks` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn map_blocks(
        wpc: *mut bindings::iomap_writepage_ctx,
        inode: *mut bindings::inode,
        offset: bindings::loff_t,
        len: crate::ffi::c_uint,
    ) -> crate::ffi::c_int {
        from_result(|| {
            // SAFETY: Writeback passes its context, which holds the last mapping, and a live
            // inode of `M::FileSystem` (its `a_ops` is `M`'s table).
            let (inode, iomap) = unsafe {
                (
                    INode::<M::FileSystem>::from_raw(inode),
                    Iomap::from_raw_mut(&mut (*wpc).iomap),
                )
            };
            M::map_blocks(inode, iomap, offset, len)?;
            // What `iomap_writepage_map_blocks` relies on: the mapping covers `offset`, and
            // says where the data goes, or is a hole.
            let covers = iomap
                .range()
                .is_ok_and(|r| r.start() <= offset && offset < r.end());
            let usable = match iomap.mapping_type() {
                Ok(MappingType::Hole) => true,
                Ok(MappingType::Mapped | MappingType::Unwritten) => !wrong_device(inode, iomap),
                _ => false,
            };
            if !covers || !usable {
                return Err(EIO);
            }
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only C calls this, as the `discard_folio` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn discard_folio(folio: *mut bindings::folio, pos: bindings::loff_t) {
        // `iomap_writepage_map_blocks` passes the folio it is writing back, locked, in the
        // mapping of a file of `M::FileSystem` (its `a_ops` is `M`'s table), whose inode lives
        // while the folio is locked in its mapping; `pos` is inside the folio or at its end.
        // SAFETY: As said above: the folio's mapping and its host are valid.
        let (inode, end) = unsafe {
            let mapping = (*folio).__bindgen_anon_1.__bindgen_anon_1.mapping;
            (
                INode::<M::FileSystem>::from_raw((*mapping).host),
                bindings::folio_pos(folio).saturating_add(bindings::folio_size(folio) as i64),
            )
        };
        if let Ok(range) = FileRange::new(pos, end) {
            M::discard_folio(inode, range);
        }
    }

    /// # Safety
    ///
    /// Only C calls this, as the `prepare_ioend` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn prepare_ioend(
        ioend: *mut bindings::iomap_ioend,
        status: crate::ffi::c_int,
    ) -> crate::ffi::c_int {
        // SAFETY: Writeback passes an ioend about to be submitted, of an inode of
        // `M::FileSystem`, alive while its folios are under writeback. The queue waits for
        // the ioend before it goes away (type invariant of `IoendQueue`).
        unsafe {
            let inode = INode::<M::FileSystem>::from_raw((*ioend).io_inode);
            bindings::iomap_rs_ioend_defer(M::ioend_queue(inode).raw.get(), ioend);
        }
        status
    }
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
                // Lets `open(O_DIRECT)` succeed; the I/O is `direct_read`'s and `direct_write`'s.
                direct_IO: if M::DIRECT_IO {
                    Some(bindings::noop_direct_IO)
                } else {
                    None
                },
                // SAFETY: All-zeroes (no callback) is valid for the other fields.
                ..unsafe { core::mem::zeroed() }
            };
        }
        Self(&Table::<M>::TABLE, PhantomData)
    }

    /// The table of a file whose page cache C iomap manages and writes back, mapped by `M`
    /// ([`Writeback`]); otherwise as [`Ops::iomap`].
    pub const fn iomap_writeback<M: Writeback<FileSystem = T> + ?Sized>() -> Self {
        struct Table<M: Writeback + ?Sized>(PhantomData<M>);
        impl<M: Writeback + ?Sized> Table<M> {
            const TABLE: bindings::address_space_operations = bindings::address_space_operations {
                writepages: Some(WritebackBridge::<M>::writepages),
                ..*Ops::<M::FileSystem>::iomap::<M>().0
            };
        }
        Self(&Table::<M>::TABLE, PhantomData)
    }
}
