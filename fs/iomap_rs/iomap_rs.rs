// SPDX-License-Identifier: GPL-2.0

//! iomap_rs: the C ABI of the Rust iomap buffered write library.
//!
//! The algorithms live in the kernel crate ([`kernel::iomap`]) so that Rust filesystems can call
//! them; this crate only exports the entry points declared in `include/linux/iomap_rs.h` and
//! keeps them thin.

use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings;
use kernel::iomap::{c_ops::CIomapOps, delalloc, fault, range::FileRange, write, zero};
use kernel::pagecache::{Inode, InvalidateLockWrite, VmFault};
use kernel::prelude::*;
use kernel::uio::{IovIter, Kiocb};

#[cfg(CONFIG_IOMAP_RS_DEBUG)]
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
    // SAFETY: The caller holds `i_rwsem` exclusively for the whole call.
    let lock = unsafe { inode.assume_locked_exclusive() };
    let caller = iomap_rs_file_buffered_write as *const () as usize;
    // SAFETY: The operations are the file's, for this inode.
    let mut ops = unsafe { CIomapOps::new(ops, inode, private, caller) };
    match write::buffered_write(&mut ops, iocb, from, &lock) {
        // At most the iterator's count, which fits in `ssize_t`.
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// C ABI: drop-in for `iomap_write_delalloc_release()`; see `include/linux/iomap_rs.h`.
///
/// As in C, the punch callback returns nothing, so there is no error to report: a range with
/// `start_byte > end_byte` (or negative) is left alone.
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

/// Wraps the C operation table `ops` of `inode` and the `invalidate_lock` the caller holds
/// exclusively, and runs `f` with them; `EINVAL` for a NULL table.
///
/// # Safety
///
/// `inode` is a live inode whose `invalidate_lock` the caller holds exclusively for the whole
/// call, and `ops` are its iomap operations (or NULL).
unsafe fn with_zeroing_locks<T>(
    inode: *mut bindings::inode,
    ops: *const bindings::iomap_ops,
    caller: usize,
    f: impl FnOnce(&mut CIomapOps<'_>, &InvalidateLockWrite<'_>, &Inode) -> Result<T>,
) -> Result<T> {
    // SAFETY: The caller passes a live inode.
    let inode = unsafe { Inode::from_raw(inode) };
    // SAFETY: The caller passes a valid operation table, or NULL.
    let ops = unsafe { ops.as_ref() }.ok_or(EINVAL)?;
    // SAFETY: The caller holds the lock exclusively for the whole call (lockdep checks it).
    let lock = unsafe { inode.mapping().invalidate_lock_held_write() };
    // SAFETY: The operations are the inode's.
    let mut ops = unsafe { CIomapOps::new(ops, inode, core::ptr::null_mut(), caller) };
    f(&mut ops, &lock, inode)
}

/// The C result of a zeroing: 0 or a negative errno, and `*did_zero` set if something was
/// zeroed and the caller asked, as C does (it never clears it).
///
/// # Safety
///
/// `did_zero` is NULL or valid for writes.
unsafe fn zeroing_result(zeroed: Result<bool>, did_zero: *mut bool) -> core::ffi::c_int {
    match zeroed {
        Ok(zeroed) => {
            if zeroed && !did_zero.is_null() {
                // SAFETY: Non-null, so valid for writes (the caller's contract).
                unsafe { *did_zero = true };
            }
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// C ABI: drop-in for `iomap_zero_range()`; see `include/linux/iomap_rs.h`.
///
/// # Safety
///
/// The contract of `iomap_zero_range()`: `inode` is live, the caller holds its `i_rwsem` and
/// its mapping's `invalidate_lock` exclusively, `ops` are its iomap operations, `did_zero` is
/// NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn iomap_rs_zero_range(
    inode: *mut bindings::inode,
    pos: i64,
    len: i64,
    did_zero: *mut bool,
    ops: *const bindings::iomap_ops,
) -> core::ffi::c_int {
    // As C's iterator: a range of no bytes (or fewer) is done.
    let Ok(len) = u64::try_from(len) else {
        return 0;
    };
    // SAFETY: The caller's contract.
    let zeroed = unsafe {
        with_zeroing_locks(
            inode,
            ops,
            iomap_rs_zero_range as *const () as usize,
            |ops, lock, inode| {
                zero::zero_range(ops, lock, inode, FileRange::from_pos_len(pos, len)?)
            },
        )
    };
    // SAFETY: The caller's contract.
    unsafe { zeroing_result(zeroed, did_zero) }
}

/// C ABI: drop-in for `iomap_truncate_page()`; see `include/linux/iomap_rs.h`.
///
/// # Safety
///
/// The contract of `iomap_truncate_page()`, as for [`iomap_rs_zero_range`].
#[no_mangle]
pub unsafe extern "C" fn iomap_rs_truncate_page(
    inode: *mut bindings::inode,
    pos: i64,
    did_zero: *mut bool,
    ops: *const bindings::iomap_ops,
) -> core::ffi::c_int {
    // SAFETY: The caller's contract.
    let zeroed = unsafe {
        with_zeroing_locks(
            inode,
            ops,
            iomap_rs_truncate_page as *const () as usize,
            |ops, lock, inode| zero::truncate_page(ops, lock, inode, pos),
        )
    };
    // SAFETY: The caller's contract.
    unsafe { zeroing_result(zeroed, did_zero) }
}

/// C ABI: drop-in for `iomap_file_unshare()`; see `include/linux/iomap_rs.h`.
///
/// # Safety
///
/// The contract of `iomap_file_unshare()`: `inode` is live, the caller holds its `i_rwsem` and
/// its mapping's `invalidate_lock` exclusively, `ops` are its iomap operations.
#[no_mangle]
pub unsafe extern "C" fn iomap_rs_file_unshare(
    inode: *mut bindings::inode,
    pos: i64,
    len: i64,
    ops: *const bindings::iomap_ops,
) -> core::ffi::c_int {
    let Ok(len) = u64::try_from(len) else {
        return 0;
    };
    // SAFETY: The caller's contract.
    let done = unsafe {
        with_zeroing_locks(
            inode,
            ops,
            iomap_rs_file_unshare as *const () as usize,
            |ops, lock, inode| zero::file_unshare(ops, lock, inode, pos, len),
        )
    };
    match done {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// C ABI: drop-in for `iomap_page_mkwrite()`; see `include/linux/iomap_rs.h`.
///
/// # Safety
///
/// The contract of `iomap_page_mkwrite()`: `vmf` is a write fault on a shared file mapping being
/// handled (`->page_mkwrite`), the caller holds the mapping's `invalidate_lock` (shared is
/// enough), `ops` are the file's iomap operations for faults.
#[no_mangle]
pub unsafe extern "C" fn iomap_rs_page_mkwrite(
    vmf: *mut bindings::vm_fault,
    ops: *const bindings::iomap_ops,
) -> bindings::vm_fault_t {
    // SAFETY: The caller passes a fault being handled.
    let fault = unsafe { VmFault::from_raw(vmf) };
    let inode = fault.inode();
    // SAFETY: The caller passes a valid operation table, or NULL.
    let Some(ops) = (unsafe { ops.as_ref() }) else {
        // SAFETY: Pure computation on its argument.
        return unsafe { bindings::vmf_fs_error(EINVAL.to_errno()) };
    };
    // SAFETY: The caller holds the lock for the whole call (lockdep checks it).
    let lock = unsafe { inode.mapping().invalidate_lock_held_read() };
    let caller = iomap_rs_page_mkwrite as *const () as usize;
    // SAFETY: The operations are the file's.
    let mut ops = unsafe { CIomapOps::new(ops, inode, core::ptr::null_mut(), caller) };
    match fault::page_mkwrite(&mut ops, &lock, fault) {
        Ok(folio) => {
            // SAFETY: `VM_FAULT_LOCKED` is returned for this fault: its handler unlocks the
            // folio.
            unsafe { folio.into_locked_for_handler() };
            bindings::vm_fault_reason_VM_FAULT_LOCKED
        }
        // SAFETY: Pure computation on its argument.
        Err(e) => unsafe { bindings::vmf_fs_error(e.to_errno()) },
    }
}
