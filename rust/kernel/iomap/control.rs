// SPDX-License-Identifier: GPL-2.0

//! The library's switch, counters, trace event and (with `CONFIG_IOMAP_RS_DEBUG`) fault
//! injection: a delay knob, pause points and switches that turn off one fix each.
//!
//! C implementation: [`fs/iomap_rs/iomap_rs_control.c`](srctree/fs/iomap_rs/iomap_rs_control.c)
//! and its debugfs files under `/sys/kernel/debug/iomap_rs/`. The C symbols are exported, so a
//! filesystem module whose write path is an instance of the library's generic code links
//! against them.

use crate::{
    bindings,
    fs::reclaim::{NoFsGuard, NoFsMutex},
    pagecache::Inode,
};

/// Whether buffered writes of filesystems that can write through either this library or C
/// `iomap_file_buffered_write()` go through this library: the `enabled` debugfs knob (XFS
/// routes its writes by it, and so can a Rust filesystem that offers both paths, such as
/// through [`crate::fs::address_space::c_buffered_write`], to compare the two in one boot).
#[inline]
pub fn rust_writes_enabled() -> bool {
    // SAFETY: FFI call without safety requirements.
    unsafe { bindings::iomap_rs_enabled() }
}

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

/// A place in the buffered I/O paths where a test can park a task until it releases it, to
/// force a race at one exact interleaving (`/sys/kernel/debug/iomap_rs/pause/`, C side
/// [`fs/iomap_rs/iomap_rs_pause.c`](srctree/fs/iomap_rs/iomap_rs_pause.c)). The library's own
/// points are reached by its code; the `Fs` ones are generic places in a filesystem built on the
/// library, which it marks with [`pause`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PausePoint {
    /// After a write locked a folio, before it revalidates the mapping (`write_validate`).
    WriteValidate,
    /// The same for zeroing (`zero_validate`).
    ZeroValidate,
    /// The same for a write fault (`mkwrite_validate`).
    MkwriteValidate,
    /// In the delalloc release, with `invalidate_lock` held, before it walks the cache and
    /// punches (`release_punch`).
    ReleasePunch,
    /// In a filesystem's mapping for a write fault, between looking up the extent and inserting
    /// a delayed allocation (`fs_mkwrite_map`).
    FsMkwriteMap,
    /// At a filesystem's write completion, before converting unwritten extents
    /// (`fs_ioend_convert`).
    FsIoendConvert,
    /// In a filesystem's `fsync`, with the inode's extent records written (to a journal's
    /// running transaction, say) and not yet made durable (`fs_fsync_flush`).
    FsFsyncFlush,
    /// While a filesystem writes an inode's extent records at a write completion, after some
    /// of their blocks and before the rest (`fs_store_extents`; the position is the completed
    /// write's).
    FsStoreExtents,
    /// In a filesystem's mapping (of a read, a write or a write fault), the inode's extent lock
    /// is held by another task and this one is about to wait for it (`fs_extent_lock_wait`;
    /// see [`lock_or_pause`]).
    FsExtentLockWait,
    /// In a filesystem's `fsync`, its journal commit found operations under way and is about
    /// to wait for them (`fs_commit_wait`; position 0).
    FsCommitWait,
}

impl PausePoint {
    #[cfg(CONFIG_IOMAP_RS_DEBUG)]
    fn raw(self) -> u32 {
        match self {
            Self::WriteValidate => bindings::iomap_rs_pause_point_IOMAP_RS_PAUSE_WRITE_VALIDATE,
            Self::ZeroValidate => bindings::iomap_rs_pause_point_IOMAP_RS_PAUSE_ZERO_VALIDATE,
            Self::MkwriteValidate => bindings::iomap_rs_pause_point_IOMAP_RS_PAUSE_MKWRITE_VALIDATE,
            Self::ReleasePunch => bindings::iomap_rs_pause_point_IOMAP_RS_PAUSE_RELEASE_PUNCH,
            Self::FsMkwriteMap => bindings::iomap_rs_pause_point_IOMAP_RS_PAUSE_FS_MKWRITE_MAP,
            Self::FsIoendConvert => bindings::iomap_rs_pause_point_IOMAP_RS_PAUSE_FS_IOEND_CONVERT,
            Self::FsFsyncFlush => bindings::iomap_rs_pause_point_IOMAP_RS_PAUSE_FS_FSYNC_FLUSH,
            Self::FsStoreExtents => bindings::iomap_rs_pause_point_IOMAP_RS_PAUSE_FS_STORE_EXTENTS,
            Self::FsExtentLockWait => {
                bindings::iomap_rs_pause_point_IOMAP_RS_PAUSE_FS_EXTENT_LOCK_WAIT
            }
            Self::FsCommitWait => bindings::iomap_rs_pause_point_IOMAP_RS_PAUSE_FS_COMMIT_WAIT,
        }
    }
}

/// Whether a test armed `point` (for some inode): one load and a branch, without a call.
#[cfg(CONFIG_IOMAP_RS_DEBUG)]
#[inline]
fn armed(point: PausePoint) -> bool {
    // SAFETY: A word that the pause points' debugfs files change with atomic bit operations; a
    // racy read sees the bit set or not, as `READ_ONCE()` would.
    let armed =
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::iomap_rs_pause_armed)) };
    armed & (1 << point.raw()) != 0
}

/// Parks the current task at `point` if a test armed it for `inode` and a range holding `pos`,
/// until the test releases it (or the arming's timeout passes, which counts a miss). The caller
/// keeps every lock it holds while parked: that is what makes the interleaving exact.
///
/// Without `CONFIG_IOMAP_RS_DEBUG` this is an empty inline function; with it, a point that is
/// not armed costs one load and a branch, without a call.
#[inline]
pub fn pause(point: PausePoint, inode: &Inode, pos: i64) {
    #[cfg(CONFIG_IOMAP_RS_DEBUG)]
    {
        if armed(point) {
            // SAFETY: The inode is alive (`Inode`'s invariant); the function only reads its
            // number and superblock, and may sleep, which every caller of a pause point allows.
            unsafe { bindings::iomap_rs_pause(point.raw(), inode.as_raw(), pos) };
        }
    }
    #[cfg(not(CONFIG_IOMAP_RS_DEBUG))]
    let _ = (point, inode, pos);
}

/// Takes `lock` for a task working at `pos` of `inode`. If a test armed `point` there and
/// another task holds the lock, the task parks at `point` before it waits for the lock: the test
/// then knows that it waits (for an `fsync` that holds the lock, say), without inferring it from
/// a timeout. It still waits for the lock after the test releases it.
///
/// A mutex only, as a filesystem's extent lock is (a [`NoFsMutex`]: I/O completion takes it):
/// taking one may sleep anyway, so parking adds no requirement on the caller's context.
/// Without `CONFIG_IOMAP_RS_DEBUG`, or while `point` is not armed, this is `lock.lock()`.
#[inline]
pub fn lock_or_pause<'a, T>(
    lock: &'a NoFsMutex<T>,
    point: PausePoint,
    inode: &Inode,
    pos: i64,
) -> NoFsGuard<'a, T> {
    #[cfg(CONFIG_IOMAP_RS_DEBUG)]
    {
        if armed(point) {
            if let Some(guard) = lock.try_lock() {
                return guard;
            }
            pause(point, inode, pos);
        }
    }
    #[cfg(not(CONFIG_IOMAP_RS_DEBUG))]
    let _ = (point, inode, pos);
    lock.lock()
}

/// A fix that a debug knob can turn off, so that a test can show the failure it prevents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// The write path revalidates a cached mapping after locking each folio; off, it trusts
    /// the mapping, which brings the seed's corruption back (`skip_validation`).
    Revalidation,
    /// The delalloc release keeps the reservation and cached data under dirty folios; off, it
    /// truncates the page cache over the unused range and punches all of it, as before the fix
    /// (`release_punch_all`).
    ReleaseKeepsDirty,
    /// A filesystem's `page_mkwrite` rechecks the extent under its extent lock before inserting
    /// a delayed allocation (`fs_skip_mkwrite_recheck`).
    FsMkwriteRecheck,
    /// A filesystem's `fsync` persists a state its extent records really had, never a mix of
    /// that state and a change a write completion (of an mmap write, say) made meanwhile
    /// (`fs_skip_fsync_serialize`; xtfs stores the records in one journal handle, which its
    /// commit waits for).
    FsFsyncSerialize,
}

/// Whether `fix` is in effect: always, unless `CONFIG_IOMAP_RS_DEBUG` is set and its knob
/// turned it off.
#[inline]
pub fn fix_enabled(fix: Fix) -> bool {
    #[cfg(CONFIG_IOMAP_RS_DEBUG)]
    {
        // SAFETY: `bool`s that only debugfs writes, with `true` or `false`; a racy read sees the
        // old or the new value.
        let off = unsafe {
            match fix {
                Fix::Revalidation => core::ptr::read_volatile(core::ptr::addr_of!(
                    bindings::iomap_rs_skip_validation
                )),
                Fix::ReleaseKeepsDirty => core::ptr::read_volatile(core::ptr::addr_of!(
                    bindings::iomap_rs_release_punch_all
                )),
                Fix::FsMkwriteRecheck => core::ptr::read_volatile(core::ptr::addr_of!(
                    bindings::iomap_rs_fs_skip_mkwrite_recheck
                )),
                Fix::FsFsyncSerialize => core::ptr::read_volatile(core::ptr::addr_of!(
                    bindings::iomap_rs_fs_skip_fsync_serialize
                )),
            }
        };
        !off
    }
    #[cfg(not(CONFIG_IOMAP_RS_DEBUG))]
    {
        let _ = fix;
        true
    }
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
