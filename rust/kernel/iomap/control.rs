// SPDX-License-Identifier: GPL-2.0

//! The library's counters, trace event and (with `CONFIG_IOMAP_RS_DEBUG`) fault injection.
//!
//! C implementation: [`fs/iomap_rs/iomap_rs_control.c`](srctree/fs/iomap_rs/iomap_rs_control.c)
//! and its debugfs files under `/sys/kernel/debug/iomap_rs/`. The C symbols are exported, so a
//! filesystem module whose write path is an instance of the library's generic code links
//! against them.

use crate::{bindings, pagecache::Inode};

/// Fault injection between taking a folio's lock and revalidating the mapping: sleeps for the
/// `validate_delay_ms` knob, to widen the window the revalidation closes. Nothing without
/// `CONFIG_IOMAP_RS_DEBUG`.
#[inline]
pub(crate) fn validate_delay() {
    #[cfg(CONFIG_IOMAP_RS_DEBUG)]
    {
        // SAFETY: A `u32` that only debugfs writes; a racy read sees the old or the new value,
        // as `READ_ONCE()` would. The knob is read without a call: it is off on the fast path.
        let delay = unsafe {
            core::ptr::read_volatile(core::ptr::addr_of!(bindings::iomap_rs_validate_delay_ms))
        };
        if delay != 0 {
            // SAFETY: FFI call without memory-safety requirements; it sleeps, as the folio lock
            // held here allows.
            unsafe { bindings::msleep(delay) };
        }
    }
}

/// Whether the `skip_validation` knob asks to skip revalidating the mapping (which reintroduces
/// the corruption the check prevents, so that tests can show it). Always `false` without
/// `CONFIG_IOMAP_RS_DEBUG`.
#[inline]
pub(crate) fn skip_validation() -> bool {
    #[cfg(CONFIG_IOMAP_RS_DEBUG)]
    {
        // SAFETY: A `bool` that only debugfs writes, with `true` or `false`.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::iomap_rs_skip_validation)) }
    }
    #[cfg(not(CONFIG_IOMAP_RS_DEBUG))]
    false
}

/// A cached mapping the write path found stale.
pub(crate) struct StaleMapping {
    /// The file offset of the mapping.
    pub(crate) offset: i64,
    /// Its length in bytes.
    pub(crate) length: u64,
    /// Its validity cookie.
    pub(crate) cookie: u64,
}

/// Counts a stale mapping of `inode` and emits the `iomap_rs_stale` trace event, with the cookie
/// of the mapping that replaced it (`None` if the write ended without remapping).
pub(crate) fn note_stale(inode: &Inode, stale: &StaleMapping, new_cookie: Option<u64>) {
    // SAFETY: The inode is alive (`Inode`'s invariant); the function only reads it.
    unsafe {
        bindings::iomap_rs_note_stale(
            inode.as_raw(),
            stale.offset,
            stale.length,
            stale.cookie,
            new_cookie.unwrap_or(stale.cookie),
            new_cookie.is_some(),
        )
    };
}

/// The library's operations whose calls are counted in debugfs, so that tests can tell that
/// the Rust path was the one taken.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Call {
    /// A buffered write (`buffered_writes`).
    BufferedWrite,
    /// A zeroing of a range (`zero_ranges`).
    ZeroRange,
    /// A zeroing of the end of a block at a truncation (`truncate_pages`).
    TruncatePage,
    /// An unsharing of a range (`unshares`).
    Unshare,
    /// A write fault (`page_mkwrites`).
    PageMkwrite,
}

/// Counts a call of `call`.
#[inline]
pub(crate) fn count(call: Call) {
    let counter = match call {
        Call::BufferedWrite => bindings::iomap_rs_counter_IOMAP_RS_BUFFERED_WRITE,
        Call::ZeroRange => bindings::iomap_rs_counter_IOMAP_RS_ZERO_RANGE,
        Call::TruncatePage => bindings::iomap_rs_counter_IOMAP_RS_TRUNCATE_PAGE,
        Call::Unshare => bindings::iomap_rs_counter_IOMAP_RS_UNSHARE,
        Call::PageMkwrite => bindings::iomap_rs_counter_IOMAP_RS_PAGE_MKWRITE,
    };
    // SAFETY: FFI call without safety requirements; the counter is one of the enum's.
    unsafe { bindings::iomap_rs_count(counter) };
}
