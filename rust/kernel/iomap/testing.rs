// SPDX-License-Identifier: GPL-2.0

//! Files of the iomap_rs test pseudo filesystem, for tests of the library (KUnit suites and the
//! test module). Only with `CONFIG_IOMAP_RS_DEBUG`.
//!
//! C implementation: [`fs/iomap_rs/iomap_rs_testfs.c`](srctree/fs/iomap_rs/iomap_rs_testfs.c).
//!
//! Its inodes have iomap's address space operations and no storage: the whole file is a hole
//! on "disk", so what is not cached reads as zeroes, through C iomap's read path, and nothing is
//! ever written back. A test writes through [`TestFile::write`] with a filesystem of its own
//! ([`IomapOps`]) and reads back through the VFS ([`TestFile::read`]).

use super::iter::IomapOps;
use super::write::buffered_write;
use crate::{
    bindings,
    error::{code::*, from_err_ptr, to_result, Result},
    pagecache::{Inode, OwnedInode},
    uio::{IovIter, Kiocb},
};
use core::ptr::NonNull;

// The C structures only cross as pointers, so their layout does not matter to the calls.
#[allow(improper_ctypes)]
extern "C" {
    // `fs/iomap_rs/iomap_rs_testfs.h`.
    fn iomap_rs_testfs_inode_new(blkbits: u32, size: i64) -> *mut bindings::inode;
    fn iomap_rs_testfs_inode_new_small_folios(blkbits: u32, size: i64) -> *mut bindings::inode;
    fn iomap_rs_testfs_open(inode: *mut bindings::inode) -> *mut bindings::file;
    fn iomap_rs_testfs_init_kiocb(
        iocb: *mut bindings::kiocb,
        file: *mut bindings::file,
        pos: i64,
        nowait: bool,
    );
}

/// The folios a test file's page cache may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folios {
    /// Large folios, as XFS has them.
    Large,
    /// Order-0 folios only: one folio per page.
    Small,
}

/// An open, empty file of the test filesystem.
///
/// # Invariants
///
/// `file` is an open file of `inode`, on which this object owns a reference.
pub struct TestFile {
    inode: OwnedInode,
    file: NonNull<bindings::file>,
}

impl TestFile {
    /// Creates an empty file of `2^block_bits`-byte blocks (512 B to a page) and opens it.
    pub fn new(block_bits: u32, folios: Folios) -> Result<Self> {
        // SAFETY: FFI calls; they return a new inode with a reference we own, or NULL.
        let inode = unsafe {
            match folios {
                Folios::Large => iomap_rs_testfs_inode_new(block_bits, 0),
                Folios::Small => iomap_rs_testfs_inode_new_small_folios(block_bits, 0),
            }
        };
        let inode = NonNull::new(inode).ok_or(EINVAL)?;
        // SAFETY: The reference is ours; `OwnedInode` drops it with `iput()`.
        let inode: OwnedInode = unsafe { OwnedInode::from_raw(inode) };
        // SAFETY: The inode is alive and of the test filesystem; the function returns a file
        // with a reference we own, or an error pointer.
        let file = from_err_ptr(unsafe { iomap_rs_testfs_open(inode.as_raw()) })?;
        let file = NonNull::new(file).ok_or(ENOMEM)?;
        // INVARIANT: `file` was just opened on `inode`, and its reference is ours.
        Ok(Self { inode, file })
    }

    /// The file's inode.
    pub fn inode(&self) -> &Inode {
        &self.inode
    }

    /// Writes `from` at `pos` through the library's buffered write path ([`buffered_write`]),
    /// with `ops` mapping the file, `i_rwsem` held, and `IOCB_NOWAIT` if `nowait`.
    pub fn write<O: IomapOps>(
        &self,
        ops: &mut O,
        pos: i64,
        from: &mut IovIter,
        nowait: bool,
    ) -> Result<usize> {
        // SAFETY: `struct kiocb` is plain data, for which all zeroes is a valid value.
        let mut kiocb: bindings::kiocb = unsafe { core::mem::zeroed() };
        // SAFETY: `kiocb` is a live local; the file is open (type invariant).
        unsafe { iomap_rs_testfs_init_kiocb(&mut kiocb, self.file.as_ptr(), pos, nowait) };
        // SAFETY: `kiocb` is initialised and nothing else uses it during the write.
        let kiocb = unsafe { Kiocb::from_raw_mut(&mut kiocb) };
        let lock = self.inode.lock_exclusive();
        buffered_write(ops, kiocb, from, &lock)
    }

    /// Writes `data` at `pos`, as [`TestFile::write`] with an iterator over kernel memory.
    pub fn write_slice<O: IomapOps>(&self, ops: &mut O, pos: i64, data: &[u8]) -> Result<usize> {
        let kvec = bindings::kvec {
            iov_base: data.as_ptr() as *mut core::ffi::c_void,
            iov_len: data.len(),
        };
        // SAFETY: `struct iov_iter` is plain data, for which all zeroes is a valid value.
        let mut iter: bindings::iov_iter = unsafe { core::mem::zeroed() };
        // SAFETY: `iter` and `kvec` are live locals, and `data` outlives the write; the
        // iterator only reads from it (`ITER_SOURCE`).
        unsafe { bindings::iov_iter_kvec(&mut iter, bindings::ITER_SOURCE, &kvec, 1, data.len()) };
        // SAFETY: `iter` is initialised and nothing else uses it during the write.
        let iter = unsafe { IovIter::from_raw_mut(&mut iter) };
        self.write(ops, pos, iter, false)
    }

    /// Reads up to `buf.len()` bytes at `pos` through the VFS (`kernel_read()`); returns how
    /// many were read (fewer at EOF).
    pub fn read(&self, pos: i64, buf: &mut [u8]) -> Result<usize> {
        let mut pos = pos;
        // SAFETY: The file is open (type invariant) and `buf` is valid for writes of its length.
        let ret = unsafe {
            bindings::kernel_read(
                self.file.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut pos,
            )
        };
        if ret < 0 {
            // A negative errno.
            to_result(ret as i32)?;
        }
        // Not negative: at most `buf.len()`.
        Ok(ret as usize)
    }
}

impl Drop for TestFile {
    fn drop(&mut self) {
        // SAFETY: The reference to the file is ours (type invariant).
        unsafe { bindings::fput(self.file.as_ptr()) };
    }
}
