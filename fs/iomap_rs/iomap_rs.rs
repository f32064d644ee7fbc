// SPDX-License-Identifier: GPL-2.0

//! iomap_rs: the C ABI of the Rust iomap buffered write library.
//!
//! The algorithms live in the kernel crate ([`kernel::iomap`]) so that Rust filesystems can call
//! them; this crate only exports the entry points declared in `include/linux/iomap_rs.h` and
//! keeps them thin.

use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings;
use kernel::iomap::{c_ops::CIomapOps, delalloc, range::FileRange, write};
use kernel::pagecache::Inode;
use kernel::prelude::*;
use kernel::uio::{IovIter, Kiocb};

pub mod release_bench;

module! {
    type: IomapRs,
    name: "iomap_rs",
    author: "iomap_rs developers",
    description: "iomap buffered write path in Rust",
    license: "GPL",
}

/// Set once the library's initialisation ran; read by `iomap_rs_initialized()`.
static INITIALIZED: AtomicBool = AtomicBool::new(false);

struct IomapRs;

impl kernel::Module for IomapRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        INITIALIZED.store(true, Ordering::Release);
        pr_info!(
            "Rust buffered write library ready (C ABI version {})\n",
            kernel::iomap::ABI_VERSION
        );
        Ok(IomapRs)
    }
}

/// C ABI: the version of `include/linux/iomap_rs.h` this library implements.
#[no_mangle]
pub extern "C" fn iomap_rs_abi_version() -> u32 {
    kernel::iomap::ABI_VERSION
}

/// C ABI: whether the library's initialisation ran.
#[no_mangle]
pub extern "C" fn iomap_rs_initialized() -> bool {
    INITIALIZED.load(Ordering::Acquire)
}

/// C ABI: drop-in for `iomap_file_buffered_write()`; see `include/linux/iomap_rs.h`.
///
/// # Safety
///
/// The contract of `iomap_file_buffered_write()`: `iocb` is a write to an open regular file whose
/// `i_rwsem` the caller holds exclusively, past `generic_write_checks()`; `from` is the data;
/// `ops` are the file's iomap operations, valid for the call.
#[no_mangle]
pub unsafe extern "C" fn iomap_rs_file_buffered_write(
    iocb: *mut bindings::kiocb,
    from: *mut bindings::iov_iter,
    ops: *const bindings::iomap_ops,
    private: *mut core::ffi::c_void,
) -> isize {
    // SAFETY: FFI call without safety requirements.
    unsafe { bindings::iomap_rs_count_write() };
    // SAFETY: The caller passes a valid kiocb and iterator that nothing else uses during the
    // call.
    let (iocb, from) = unsafe { (Kiocb::from_raw_mut(iocb), IovIter::from_raw_mut(from)) };
    // SAFETY: The caller passes a valid operation table.
    let Some(ops) = (unsafe { ops.as_ref() }) else {
        return EINVAL.to_errno() as isize;
    };
    let inode = iocb.inode().as_raw();
    // SAFETY: The open file of `iocb` keeps its inode alive for the whole call.
    let inode = unsafe { Inode::from_raw(inode) };
    // SAFETY: The operations are the file's, for this inode.
    let mut ops = unsafe { CIomapOps::new(ops, inode, private) };
    // SAFETY: The caller holds `i_rwsem` and did the write checks.
    match unsafe { write::buffered_write(&mut ops, iocb, from) } {
        // At most the iterator's count, which fits in `ssize_t`.
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// C ABI: drop-in for `iomap_write_delalloc_release()`; see `include/linux/iomap_rs.h`.
///
/// As in C, the punch callback returns nothing, so there is no error to report: a range with
/// `start_byte > end_byte` or beyond `s_maxbytes` is left alone.
///
/// # Safety
///
/// The contract of `iomap_write_delalloc_release()`: `inode` is a live inode whose
/// `invalidate_lock` the caller holds exclusively (lockdep checks it); `punch` removes only the
/// delalloc extents in the range it is given and does not lock folios; `iomap` is passed to it.
#[no_mangle]
pub unsafe extern "C" fn iomap_rs_write_delalloc_release(
    inode: *mut bindings::inode,
    start_byte: i64,
    end_byte: i64,
    _flags: u32,
    iomap: *mut bindings::iomap,
    punch: bindings::iomap_punch_t,
) {
    // SAFETY: The caller passes a live inode.
    let inode = unsafe { Inode::from_raw(inode) };
    let Some(punch) = punch else {
        return;
    };
    let Ok(range) = FileRange::new(start_byte, end_byte) else {
        return;
    };
    // SAFETY: The caller holds the lock exclusively for the whole call.
    let lock = unsafe { inode.mapping().invalidate_lock_held_write() };
    let _ = delalloc::write_delalloc_release(&lock, inode, range, |inode: &Inode, r: FileRange| {
        // A range is at most `end_byte - start_byte` long, which fits in `loff_t`.
        let len = r.len() as i64;
        // SAFETY: The callback's contract (above); `iomap` is the caller's.
        unsafe { punch(inode.as_raw(), r.start(), len, iomap) };
        Ok(())
    });
}
