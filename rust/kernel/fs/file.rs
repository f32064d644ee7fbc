// SPDX-License-Identifier: GPL-2.0

//! The `file_operations` of a Rust filesystem.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h).

use super::{dir, inode::INode, FileSystem};
use crate::{
    bindings,
    error::from_result,
    error::Result,
    pagecache::InodeLock,
    prelude::*,
    uio::{IovIter, Kiocb},
};
use core::marker::PhantomData;

/// Reads through the page cache (`generic_file_read_iter()`): the usual `read_iter` of a file
/// whose address-space operations read it in.
pub fn generic_read(kiocb: &mut Kiocb, to: &mut IovIter) -> Result<usize> {
    // SAFETY: Both are valid and exclusively ours for the call (their type invariants).
    let ret = unsafe { bindings::generic_file_read_iter(kiocb.as_raw(), to.as_raw()) };
    if ret < 0 {
        return Err(Error::from_errno(ret as i32));
    }
    Ok(ret as usize)
}

/// Checks a write about to be done at `kiocb`'s position (`generic_write_checks()`: limits,
/// `O_APPEND`, which moves the position to EOF, and the file size limit, which may shorten
/// `from`), then removes set-user-ID bits and updates the time stamps as a modification does
/// (`file_modified()`). Returns the bytes to write; zero means there is nothing to do.
///
/// `lock` proves that the file's `i_rwsem` is held exclusively, as both need: `EINVAL` if it
/// is another inode's. An immutable file (`S_IMMUTABLE`, [`super::inode::Flags::IMMUTABLE`])
/// opened for writing before it became so takes no write: `EPERM`, as on ext4 (the flag
/// changes under the same lock).
pub fn write_checks(kiocb: &mut Kiocb, from: &mut IovIter, lock: &InodeLock<'_>) -> Result<usize> {
    if !core::ptr::eq(kiocb.inode(), lock.inode()) {
        return Err(EINVAL);
    }
    if lock.inode().is_immutable() {
        return Err(EPERM);
    }
    // SAFETY: Both are valid and ours for the call (their type invariants); the inode lock is
    // held (checked above).
    let ret = unsafe { bindings::generic_write_checks(kiocb.as_raw(), from.as_raw()) };
    if ret <= 0 {
        return crate::error::to_result(ret as i32).map(|()| 0);
    }
    // SAFETY: As above; `ki_filp` is the open file of the write.
    crate::error::to_result(unsafe { bindings::file_modified((*kiocb.as_raw()).ki_filp) })?;
    Ok(ret as usize)
}

/// Completes a write of `written` bytes that ended at `kiocb`'s position: with `O_SYNC` or
/// `O_DSYNC`, or to a synchronous inode (`-o sync`, [`super::inode::Flags::SYNC`]), syncs what
/// it wrote (`generic_write_sync()`). Returns `written`, or the error of
/// the sync. Call it after releasing the inode lock.
pub fn write_sync(kiocb: &mut Kiocb, written: usize) -> Result<usize> {
    // SAFETY: The kiocb is valid and ours (type invariant).
    let ret = unsafe { bindings::generic_write_sync(kiocb.as_raw(), written as isize) };
    if ret < 0 {
        return Err(Error::from_errno(ret as i32));
    }
    Ok(ret as usize)
}

/// An open file of filesystem `T`.
///
/// # Invariants
///
/// The file is open, and its inode is an initialised inode of `T`, for as long as a
/// `&File<T>` exists.
#[repr(transparent)]
pub struct File<T: FileSystem>(crate::types::Opaque<bindings::file>, PhantomData<T>);

impl<T: FileSystem> File<T> {
    /// # Safety
    ///
    /// `ptr` is a file as described in the type invariants, for the returned lifetime.
    unsafe fn from_raw<'a>(ptr: *mut bindings::file) -> &'a Self {
        // SAFETY: Transparent over the file; the rest is the caller's contract.
        unsafe { &*ptr.cast() }
    }

    /// The file's inode.
    pub fn inode(&self) -> &INode<T> {
        // SAFETY: The file is open, its inode an initialised inode of `T` (type invariant).
        unsafe { INode::from_raw((*self.0.get()).f_inode) }
    }

    /// Writes back the data of `[start, end]` (inclusive, as `fsync` passes it) and waits for
    /// it, then reports a writeback error of the file's mapping that this open file has not
    /// seen yet (`file_write_and_wait_range()`): the first step of an `fsync`. Sleeps; a
    /// caller holding a lock of one of the range's folios deadlocks.
    pub fn write_and_wait_range(&self, start: i64, end: i64) -> Result {
        // SAFETY: The file is open (type invariant); the function may sleep, which a `&File`
        // (only lent to `file_operations` callbacks, in process context) allows.
        crate::error::to_result(unsafe {
            bindings::file_write_and_wait_range(self.0.get(), start, end)
        })
    }

    /// Whether changes through this file are to be synchronous: it was opened with `O_SYNC` or
    /// `O_DSYNC`, or its inode's writes are synchronous ([`INode::is_sync`]). As XFS does for
    /// `fallocate`, a filesystem commits such a change before it returns.
    pub fn sync_writes(&self) -> bool {
        let file = self.0.get();
        // SAFETY: The file is valid (type invariant); the field is read once. `f_flags` changes
        // only through `fcntl`'s `F_SETFL`, which does not touch `O_DSYNC`.
        let flags = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*file).f_flags)) };
        flags & bindings::O_DSYNC != 0 || self.inode().is_sync()
    }

    /// Reports a writeback error of the file's mapping that this open file has not seen yet,
    /// and marks it seen (`file_check_and_advance_wb_err()`): the last step of an `fsync`,
    /// which catches errors of writeback that ended meanwhile.
    pub fn check_and_advance_wb_err(&self) -> Result {
        // SAFETY: The file is open (type invariant).
        crate::error::to_result(unsafe { bindings::file_check_and_advance_wb_err(self.0.get()) })
    }

    /// Writes back the whole filesystem of the file and waits for it, as `syncfs(2)` on it
    /// does: dirty data and inodes, then [`FileSystem::sync_fs`] (`sync_filesystem()`, with
    /// `s_umount` held shared, which it waits for while a mount change or a freeze holds it).
    /// Sleeps; a caller holding a lock that the filesystem's writeback or `sync_fs` takes
    /// deadlocks.
    ///
    /// [`FileSystem::sync_fs`]: super::FileSystem::sync_fs
    pub fn sync_filesystem(&self) -> Result {
        // SAFETY: The file is open (type invariant), so its inode and superblock are alive, and
        // the superblock active: its `s_umount` is initialised. A `&File` is only lent to
        // `file_operations` callbacks, which the VFS never calls with `s_umount` held, so this
        // task does not hold it (`syncfs(2)` takes it the same way).
        unsafe {
            let sb = (*self.inode().as_raw()).i_sb;
            let umount = core::ptr::addr_of_mut!((*sb).s_umount);
            bindings::down_read(umount);
            let ret = bindings::sync_filesystem(sb);
            bindings::up_read(umount);
            crate::error::to_result(ret)
        }
    }
}

impl<T: FileSystem> File<T> {
    /// Removes set-user-ID bits and updates the time stamps as a modification of the file does
    /// (`file_modified()`), for operations that change a file other than through `write`
    /// (`fallocate`). `lock` proves that the file's `i_rwsem` is held exclusively: `EINVAL` if
    /// it is another inode's.
    pub fn modified(&self, lock: &InodeLock<'_>) -> Result {
        if !core::ptr::eq(self.inode().as_inode(), lock.inode()) {
            return Err(EINVAL);
        }
        // SAFETY: The file is open (type invariant) and its inode locked (checked above).
        crate::error::to_result(unsafe { bindings::file_modified(self.0.get()) })
    }
}

/// What an `fallocate(2)` call asks of a range of a file.
#[cfg(CONFIG_IOMAP_RS)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FallocateMode {
    /// Allocate the blocks of the range, so that writes to it cannot fail for lack of space;
    /// data already there stays and the new blocks read as zeroes (mode 0).
    Allocate,
    /// Deallocate the range: it reads as zeroes, and its blocks are freed
    /// (`FALLOC_FL_PUNCH_HOLE`, always with [`Fallocate::keep_size`]).
    PunchHole,
    /// Make the range read as zeroes, its blocks allocated (`FALLOC_FL_ZERO_RANGE`).
    ZeroRange,
}

/// One `fallocate(2)` call, as checked by the VFS (`vfs_fallocate()`): a non-empty range
/// within the filesystem's largest file size, of a regular file open for writing, with a mode
/// the filesystem supports.
#[cfg(CONFIG_IOMAP_RS)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fallocate {
    /// What to do.
    pub mode: FallocateMode,
    /// The bytes to do it to: not empty.
    pub range: crate::iomap::range::FileRange,
    /// Whether the file size stays as it is (`FALLOC_FL_KEEP_SIZE`); otherwise a range ending
    /// beyond EOF extends the file to its end.
    pub keep_size: bool,
}

#[cfg(CONFIG_IOMAP_RS)]
impl Fallocate {
    // The mode bits of `include/uapi/linux/falloc.h` (user-space ABI).
    const KEEP_SIZE: i32 = 0x01;
    const PUNCH_HOLE: i32 = 0x02;
    const ZERO_RANGE: i32 = 0x10;

    /// The request for `mode`, `offset` and `len` as the VFS passes them: `EOPNOTSUPP` for
    /// modes other than those of [`FallocateMode`].
    fn from_raw(mode: i32, offset: i64, len: i64) -> Result<Self> {
        let keep_size = mode & Self::KEEP_SIZE != 0;
        let mode = match mode & !Self::KEEP_SIZE {
            0 => FallocateMode::Allocate,
            Self::PUNCH_HOLE if keep_size => FallocateMode::PunchHole,
            Self::ZERO_RANGE => FallocateMode::ZeroRange,
            _ => return Err(EOPNOTSUPP),
        };
        let len = u64::try_from(len).map_err(|_| EINVAL)?;
        let range = crate::iomap::range::FileRange::from_pos_len(offset, len)?;
        if range.is_empty() {
            return Err(EINVAL);
        }
        Ok(Self {
            mode,
            range,
            keep_size,
        })
    }
}

/// Syncs `[start, end]` of `file` and its inode (`generic_file_fsync()`): writes back and waits
/// for the data, writes the inode if it is dirty (through [`FileSystem::write_inode`] with
/// `sync`, which must make the inode's metadata durable), and flushes the device's cache.
///
/// [`FileSystem::write_inode`]: super::FileSystem::write_inode
pub fn generic_fsync<T: FileSystem>(
    file: &File<T>,
    start: i64,
    end: i64,
    datasync: bool,
) -> Result {
    // SAFETY: The file is open (type invariant).
    crate::error::to_result(unsafe {
        bindings::generic_file_fsync(file.0.get(), start, end, datasync as i32)
    })
}

/// The `file_operations` of a Rust filesystem.
#[vtable]
pub trait Operations {
    /// The filesystem.
    type FileSystem: FileSystem;

    /// Lists directory `dir` from `emitter.pos()` on, until its end or until
    /// [`dir::Emitter::emit`] returns `false`.
    fn read_dir(_dir: &INode<Self::FileSystem>, _emitter: &mut dir::Emitter<'_>) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Reads at `kiocb.pos()` of `inode`'s file into `to` and moves the position (`read_iter`),
    /// typically with [`generic_read`]. Returns the number of bytes read.
    fn read_iter(
        _inode: &INode<Self::FileSystem>,
        _kiocb: &mut Kiocb,
        _to: &mut IovIter,
    ) -> Result<usize> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Writes `from` at `kiocb.pos()` of `inode`'s file and moves the position (`write_iter`).
    /// Returns the number of bytes written. Typically: take the inode lock, [`write_checks`],
    /// [`crate::iomap::write::buffered_write`], release the lock, [`write_sync`].
    fn write_iter(
        _inode: &INode<Self::FileSystem>,
        _kiocb: &mut Kiocb,
        _from: &mut IovIter,
    ) -> Result<usize> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Makes `[start, end]` (inclusive, as the VFS passes it) of the file and the metadata to
    /// read it back durable (`fsync`); with `datasync`, metadata only needed to read the data
    /// (`fdatasync`). Typically [`generic_fsync`].
    fn fsync(_file: &File<Self::FileSystem>, _start: i64, _end: i64, _datasync: bool) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Makes the folio of a write fault on a shared mapping of `inode`'s file writable
    /// (`page_mkwrite`) and returns it locked, typically through
    /// [`crate::iomap::fault::page_mkwrite`] with the mapping's `invalidate_lock` held shared.
    /// Implementing it lets the file be mapped (`mmap`): reads fault through the page cache
    /// (`filemap_fault`). The superblock's freeze protection and the file time update are
    /// done around the call.
    ///
    /// The folio handed back is the fault's own ([`crate::pagecache::FaultFolio`], made only by
    /// [`crate::pagecache::VmFault::lock_folio`]): no other can be returned.
    #[cfg(CONFIG_IOMAP_RS)]
    fn page_mkwrite<'f>(
        _inode: &INode<Self::FileSystem>,
        _fault: &'f crate::pagecache::VmFault,
    ) -> Result<crate::pagecache::FaultFolio<'f>> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Allocates, punches or zeroes a range of `file` (`fallocate`). Called without locks: the
    /// filesystem takes `i_rwsem`, and `invalidate_lock` to keep page faults out while it changes
    /// the blocks under cached data ([`crate::pagecache::InodeLock::write_and_drop_range`]). Modes
    /// other than those of [`FallocateMode`] fail with `EOPNOTSUPP` before the call.
    #[cfg(CONFIG_IOMAP_RS)]
    fn fallocate(_file: &File<Self::FileSystem>, _request: &Fallocate) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// `SEEK_DATA` (`data`) or `SEEK_HOLE` from `offset`: the offset found. The other kinds of
    /// seek are the VFS's (`generic_file_llseek()`).
    fn seek_data_hole(_inode: &INode<Self::FileSystem>, _offset: i64, _data: bool) -> Result<i64> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Carries out `request`, an `ioctl(2)` on `file` that the VFS does not handle itself,
    /// decoded and checked ([`Ioctl`]). Commands of no [`Ioctl`] fail with `ENOTTY` before the
    /// call, as do those the filesystem answers with `ENOTTY`.
    fn ioctl(_file: &File<Self::FileSystem>, _request: Ioctl) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }
}

/// How a filesystem is shut down ([`Ioctl::Shutdown`]): the flags of ext4's, XFS's, f2fs's and
/// exfat's shutdown ioctl.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shutdown {
    /// Write back everything first, data and metadata, as a sync does (`0`,
    /// `EXT4_GOING_FLAGS_DEFAULT`).
    Sync,
    /// Make the metadata journal durable first, not the data (`1`,
    /// `EXT4_GOING_FLAGS_LOGFLUSH`).
    FlushLog,
    /// Write nothing more: what is not durable now is lost, as in a power cut (`2`,
    /// `EXT4_GOING_FLAGS_NOLOGFLUSH`).
    NoFlush,
}

/// An `ioctl(2)` request for [`Operations::ioctl`], decoded from the command and its argument
/// with the checks the command needs done.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Ioctl {
    /// Shut the filesystem down (`FS_IOC_SHUTDOWN`: `_IOR('X', 125, __u32)`, the number of
    /// ext4's, XFS's `XFS_IOC_GOINGDOWN`, f2fs's and exfat's, which `xfs_io -c shutdown` and
    /// fstests use): after it, every operation fails with `EIO` and the filesystem can only
    /// be unmounted. The caller has `CAP_SYS_ADMIN` (checked before the call).
    Shutdown(Shutdown),
}

impl Ioctl {
    /// `_IOR('X', 125, __u32)`, in the generic `_IOC` layout of every architecture Rust
    /// builds for in this kernel (not that of powerpc, mips, sparc or alpha).
    pub const SHUTDOWN: u32 = (2 << 30) | (4 << 16) | ((b'X' as u32) << 8) | 125;

    /// Decodes command `cmd` with the argument `arg` (a user address for these), reading what
    /// the command passes in user memory. `ENOTTY` for commands of no [`Ioctl`], `EPERM` if
    /// the caller lacks the capability the command needs, `EFAULT` for a bad address,
    /// `EINVAL` for a bad argument.
    fn decode(cmd: u32, arg: usize) -> Result<Ioctl> {
        match cmd {
            Self::SHUTDOWN => {
                // SAFETY: `capable()` only reads the current task's credentials.
                let allowed = unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as i32) };
                if !allowed {
                    return Err(EPERM);
                }
                let flags: u32 = crate::uaccess::UserSlice::new(arg, 4).reader().read()?;
                Ok(Ioctl::Shutdown(match flags {
                    0 => Shutdown::Sync,
                    1 => Shutdown::FlushLog,
                    2 => Shutdown::NoFlush,
                    _ => return Err(EINVAL),
                }))
            }
            _ => Err(ENOTTY),
        }
    }
}

/// A `file_operations` table for filesystem `T`.
#[derive(Clone, Copy)]
pub struct Ops<T: FileSystem>(&'static bindings::file_operations, PhantomData<T>);

impl<T: FileSystem> Ops<T> {
    pub(crate) fn table(self) -> &'static bindings::file_operations {
        self.0
    }

    /// The table of the operations `U` implements.
    ///
    /// A table with `read_dir` is a directory's: reads fail with `EISDIR` and seeking moves the
    /// listing position, as C's `generic_read_dir` and `generic_file_llseek` do.
    pub const fn new<U: Operations<FileSystem = T> + ?Sized>() -> Self {
        struct Table<U: Operations + ?Sized>(PhantomData<U>);
        impl<U: Operations + ?Sized> Table<U> {
            const TABLE: bindings::file_operations = bindings::file_operations {
                owner: core::ptr::null_mut(),
                iterate_shared: if U::HAS_READ_DIR {
                    Some(Self::read_dir_callback)
                } else {
                    None
                },
                read: if U::HAS_READ_DIR {
                    Some(bindings::generic_read_dir)
                } else {
                    None
                },
                read_iter: if U::HAS_READ_ITER {
                    Some(Self::read_iter_callback)
                } else {
                    None
                },
                splice_read: if U::HAS_READ_ITER {
                    Some(bindings::filemap_splice_read)
                } else {
                    None
                },
                // Files with data: the large file check of `open(2)`.
                open: if U::HAS_READ_ITER {
                    Some(bindings::generic_file_open)
                } else {
                    None
                },
                write_iter: if U::HAS_WRITE_ITER {
                    Some(Self::write_iter_callback)
                } else {
                    None
                },
                splice_write: if U::HAS_WRITE_ITER {
                    Some(bindings::iter_file_splice_write)
                } else {
                    None
                },
                fsync: if U::HAS_FSYNC {
                    Some(Self::fsync_callback)
                } else {
                    None
                },
                #[cfg(CONFIG_IOMAP_RS)]
                mmap: if U::HAS_PAGE_MKWRITE {
                    Some(Self::mmap_callback)
                } else {
                    None
                },
                #[cfg(CONFIG_IOMAP_RS)]
                fallocate: if U::HAS_FALLOCATE {
                    Some(Self::fallocate_callback)
                } else {
                    None
                },
                llseek: if U::HAS_SEEK_DATA_HOLE {
                    Some(Self::llseek_callback)
                } else {
                    Some(bindings::generic_file_llseek)
                },
                unlocked_ioctl: if U::HAS_IOCTL {
                    Some(Self::ioctl_callback)
                } else {
                    None
                },
                // The argument is a user address (or unused): converted, as it is for every
                // command of `Ioctl`.
                #[cfg(CONFIG_COMPAT)]
                compat_ioctl: if U::HAS_IOCTL {
                    Some(bindings::compat_ptr_ioctl)
                } else {
                    None
                },
                // SAFETY: All-zeroes (no callback) is valid for the other fields.
                ..unsafe { core::mem::zeroed() }
            };

            /// # Safety
            ///
            /// Only C calls this, as the `read_dir` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn read_dir_callback(
                file: *mut bindings::file,
                ctx: *mut bindings::dir_context,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: The VFS passes an open file of this filesystem (its `f_op` is
                    // this table), whose inode is live and initialised, and a context valid for
                    // the call.
                    let (dir, mut emitter) = unsafe {
                        (
                            INode::<U::FileSystem>::from_raw((*file).f_inode),
                            dir::Emitter::from_raw(ctx),
                        )
                    };
                    U::read_dir(dir, &mut emitter)?;
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// Only C calls this, as the `read_iter` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn read_iter_callback(
                kiocb: *mut bindings::kiocb,
                to: *mut bindings::iov_iter,
            ) -> isize {
                // SAFETY: The VFS passes a kiocb of an open file of this filesystem (its inode
                // live and initialised) and an iterator, both valid and ours for the call.
                let (inode, kiocb, to) = unsafe {
                    (
                        INode::<U::FileSystem>::from_raw((*(*kiocb).ki_filp).f_inode),
                        Kiocb::from_raw_mut(kiocb),
                        IovIter::from_raw_mut(to),
                    )
                };
                match U::read_iter(inode, kiocb, to) {
                    Ok(n) => n as isize,
                    Err(e) => e.to_errno() as isize,
                }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `write_iter` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn write_iter_callback(
                kiocb: *mut bindings::kiocb,
                from: *mut bindings::iov_iter,
            ) -> isize {
                // SAFETY: The VFS passes a kiocb of an open file of this filesystem (its inode
                // live and initialised) and an iterator, both valid and ours for the call.
                let (inode, kiocb, from) = unsafe {
                    (
                        INode::<U::FileSystem>::from_raw((*(*kiocb).ki_filp).f_inode),
                        Kiocb::from_raw_mut(kiocb),
                        IovIter::from_raw_mut(from),
                    )
                };
                match U::write_iter(inode, kiocb, from) {
                    Ok(n) => n as isize,
                    Err(e) => e.to_errno() as isize,
                }
            }

            #[cfg(CONFIG_IOMAP_RS)]
            const VM_OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
                fault: Some(bindings::filemap_fault),
                map_pages: Some(bindings::filemap_map_pages),
                page_mkwrite: Some(Self::page_mkwrite_callback),
                // SAFETY: All-zeroes (no callback) is valid for the other fields.
                ..unsafe { core::mem::zeroed() }
            };

            /// # Safety
            ///
            /// Only C calls this, as the `mmap` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            #[cfg(CONFIG_IOMAP_RS)]
            unsafe extern "C" fn mmap_callback(
                file: *mut bindings::file,
                vma: *mut bindings::vm_area_struct,
            ) -> crate::ffi::c_int {
                // SAFETY: The VFS passes an open file and the VMA being set up for it.
                unsafe {
                    bindings::file_accessed(file);
                    (*vma).vm_ops = &Self::VM_OPS;
                }
                0
            }

            /// # Safety
            ///
            /// Only C calls this, as the `page_mkwrite` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            #[cfg(CONFIG_IOMAP_RS)]
            unsafe extern "C" fn page_mkwrite_callback(
                vmf: *mut bindings::vm_fault,
            ) -> bindings::vm_fault_t {
                // SAFETY: The fault handler passes a write fault on a shared mapping of a file
                // of this filesystem (mapped by `mmap_callback`), with its page set; the file
                // keeps the inode alive.
                let (file, inode) = unsafe {
                    let file = (*(*vmf).__bindgen_anon_1.vma).vm_file;
                    (file, INode::<U::FileSystem>::from_raw((*file).f_inode))
                };
                // A mapping made writable before the file became immutable dirties nothing
                // more, as on ext4.
                if inode.as_inode().is_immutable() {
                    return bindings::vm_fault_reason_VM_FAULT_SIGBUS;
                }
                // SAFETY: As above: the fault, its file and its inode are valid for the call.
                unsafe {
                    let sb = (*inode.as_raw()).i_sb;
                    bindings::sb_start_pagefault(sb);
                    bindings::file_update_time(file);
                    let ret = match U::page_mkwrite(inode, crate::pagecache::VmFault::from_raw(vmf))
                    {
                        Ok(folio) => {
                            // The fault's own folio (`FaultFolio`'s invariant), locked: the
                            // fault handler unlocks it, as `VM_FAULT_LOCKED` tells it.
                            folio.into_locked_for_handler();
                            bindings::vm_fault_reason_VM_FAULT_LOCKED
                        }
                        Err(e) => bindings::vmf_fs_error(e.to_errno()),
                    };
                    bindings::sb_end_pagefault(sb);
                    ret
                }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `fsync` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn fsync_callback(
                file: *mut bindings::file,
                start: bindings::loff_t,
                end: bindings::loff_t,
                datasync: crate::ffi::c_int,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: The VFS passes an open file of this filesystem.
                    let file = unsafe { File::<U::FileSystem>::from_raw(file) };
                    U::fsync(file, start, end, datasync != 0)?;
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// Only C calls this, as the `fallocate` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            #[cfg(CONFIG_IOMAP_RS)]
            unsafe extern "C" fn fallocate_callback(
                file: *mut bindings::file,
                mode: crate::ffi::c_int,
                offset: bindings::loff_t,
                len: bindings::loff_t,
            ) -> crate::ffi::c_long {
                let result = (|| {
                    let request = Fallocate::from_raw(mode, offset, len)?;
                    // SAFETY: The VFS passes an open file of this filesystem.
                    let file = unsafe { File::<U::FileSystem>::from_raw(file) };
                    U::fallocate(file, &request)
                })();
                match result {
                    Ok(()) => 0,
                    Err(e) => e.to_errno() as crate::ffi::c_long,
                }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `unlocked_ioctl` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn ioctl_callback(
                file: *mut bindings::file,
                cmd: crate::ffi::c_uint,
                arg: crate::ffi::c_ulong,
            ) -> crate::ffi::c_long {
                let result = (|| {
                    let request = Ioctl::decode(cmd, arg)?;
                    // SAFETY: The VFS passes an open file of this filesystem.
                    let file = unsafe { File::<U::FileSystem>::from_raw(file) };
                    U::ioctl(file, request)
                })();
                match result {
                    Ok(()) => 0,
                    Err(e) => e.to_errno() as crate::ffi::c_long,
                }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `llseek` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn llseek_callback(
                file: *mut bindings::file,
                offset: bindings::loff_t,
                whence: crate::ffi::c_int,
            ) -> bindings::loff_t {
                let whence_u = whence as u32;
                if whence_u != bindings::SEEK_DATA && whence_u != bindings::SEEK_HOLE {
                    // SAFETY: `file` is the open file the VFS passed.
                    return unsafe { bindings::generic_file_llseek(file, offset, whence) };
                }
                // SAFETY: The file is open, so its inode is live and initialised, and it is
                // of this filesystem (its `f_op` is this table).
                let inode = unsafe { INode::<U::FileSystem>::from_raw((*file).f_inode) };
                match U::seek_data_hole(inode, offset, whence_u == bindings::SEEK_DATA) {
                    // SAFETY: As above; `vfs_setpos` checks the offset against the limit.
                    Ok(pos) => unsafe {
                        bindings::vfs_setpos(
                            file,
                            pos,
                            (*(*file).f_inode)
                                .i_sb
                                .as_ref()
                                .map_or(0, |sb| sb.s_maxbytes),
                        )
                    },
                    Err(e) => e.to_errno() as bindings::loff_t,
                }
            }
        }
        Self(&Table::<U>::TABLE, PhantomData)
    }
}
