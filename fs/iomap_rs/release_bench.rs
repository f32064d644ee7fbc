// SPDX-License-Identifier: GPL-2.0

//! Benchmark of the delalloc release, read from `/sys/kernel/debug/iomap_rs/bench_release` by
//! `make bench`.
//!
//! The release must cost in proportion to the cached data it walks, not to the length of the
//! range: it seeks over the holes of the page cache instead of visiting every page. This times
//! [`write_delalloc_release`] and C's `iomap_write_delalloc_release()` over a 1 GiB range of an
//! inode of `iomap_rs_testfs.c` (4 KiB blocks, size 1 GiB) with no cached pages, with one dirty
//! page and with 1,000 scattered dirty pages, with a punch callback that only counts its calls.
//! The release leaves the cache as it was, so every run sees the same state.

use core::fmt::{self, Write};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::bindings;
use kernel::iomap::{delalloc::write_delalloc_release, range::FileRange};
use kernel::page::PAGE_SIZE;
use kernel::pagecache::{Inode, OwnedInode};
use kernel::prelude::*;

// `struct inode` only crosses as a pointer, so its layout does not matter to the call.
#[allow(improper_ctypes)]
extern "C" {
    // Declared in `iomap_rs_testfs.h`, defined in `iomap_rs_testfs.c`.
    fn iomap_rs_testfs_inode_new(blkbits: u32, size: i64) -> *mut bindings::inode;
}

/// The released range: `[0, RANGE)`.
const RANGE: i64 = 1 << 30;
/// Timed runs per case and implementation; the median and the minimum are reported.
const RUNS: usize = 15;
/// The cases: a name and how many dirty pages are scattered over the range.
const CASES: [(&str, usize); 3] = [
    ("no cached pages", 0),
    ("one dirty page", 1),
    ("1000 scattered dirty pages", 1000),
];

/// Punch calls of C's release in the current run.
static C_PUNCHES: AtomicU64 = AtomicU64::new(0);

/// The punch callback given to C's release: counts.
///
/// # Safety
///
/// None beyond C's `iomap_punch_t` contract: it reads none of its arguments.
unsafe extern "C" fn count_c_punch(
    _inode: *mut bindings::inode,
    _offset: i64,
    _length: i64,
    _iomap: *mut bindings::iomap,
) {
    C_PUNCHES.fetch_add(1, Ordering::Relaxed);
}

/// A 1 GiB file of 4 KiB blocks with `pages` dirty pages spread evenly over it.
fn file_with_dirty_pages(pages: usize) -> Result<OwnedInode> {
    // SAFETY: FFI call; it returns a new inode, with a reference we own, or NULL.
    let ptr = NonNull::new(unsafe { iomap_rs_testfs_inode_new(bindings::PAGE_SHIFT, RANGE) })
        .ok_or(ENOMEM)?;
    // SAFETY: The reference `iomap_rs_testfs_inode_new` returned is ours; `iput()` drops it.
    let inode: OwnedInode = unsafe { OwnedInode::from_raw(ptr) };
    let page = PAGE_SIZE as i64;
    let stride = if pages == 0 {
        0
    } else {
        (RANGE / pages as i64) & !(page - 1)
    };
    for i in 0..pages as i64 {
        let folio =
            inode
                .mapping()
                .get_folio_for_write(i * stride + stride / 2, PAGE_SIZE, false)?;
        // SAFETY: The folio is locked and belongs to `inode`, whose `dirty_folio` is
        // `iomap_dirty_folio()`; it is uptodate before it is dirtied.
        unsafe {
            bindings::iomap_folio_set_range_uptodate(folio.as_raw(), 0, folio.size());
            bindings::folio_mark_dirty(folio.as_raw());
        }
    }
    Ok(inode)
}

/// Times `RUNS` runs of `release`, which returns its number of punch calls; returns the median
/// and the minimum in nanoseconds, and the punch calls of the last run.
fn time_runs(mut release: impl FnMut() -> Result<u64>) -> Result<(i64, i64, u64)> {
    let mut times = [0i64; RUNS];
    let mut punches = 0;
    for t in times.iter_mut() {
        // SAFETY: FFI calls without safety requirements.
        let start = unsafe { bindings::ktime_get() };
        punches = release()?;
        // SAFETY: As above.
        *t = unsafe { bindings::ktime_get() } - start;
    }
    times.sort_unstable();
    Ok((times[RUNS / 2], times[0], punches))
}

/// Releases `[0, RANGE)` of `inode` with the Rust routine; returns the punch calls.
fn rust_release(inode: &Inode) -> Result<u64> {
    let mut punches = 0;
    let lock = inode.mapping().invalidate_lock_write();
    write_delalloc_release(
        &lock,
        inode,
        FileRange::new(0, RANGE)?,
        |_: &Inode, _: FileRange| {
            punches += 1;
            Ok(())
        },
    )?;
    Ok(punches)
}

/// Releases `[0, RANGE)` of `inode` with C's `iomap_write_delalloc_release()`; returns the punch
/// calls.
fn c_release(inode: &Inode) -> Result<u64> {
    // SAFETY: `struct iomap` is plain data, for which all zeroes is a valid value. C's release
    // only passes it to the punch callback.
    let mut iomap: bindings::iomap = unsafe { core::mem::zeroed() };
    C_PUNCHES.store(0, Ordering::Relaxed);
    let lock = inode.mapping().invalidate_lock_write();
    // SAFETY: `inode` is alive and its `invalidate_lock` is held exclusively, as the function
    // requires; the callback only counts.
    unsafe {
        bindings::iomap_write_delalloc_release(
            inode.as_raw(),
            0,
            RANGE,
            0,
            &mut iomap,
            Some(count_c_punch),
        )
    };
    drop(lock);
    Ok(C_PUNCHES.load(Ordering::Relaxed))
}

/// Nanoseconds shown as microseconds with one decimal (no floating point in the kernel).
struct Micros(i64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = Report(KVec::new());
        write!(text, "{}.{}", self.0 / 1000, self.0 % 1000 / 100)?;
        // Only digits and a dot were written.
        f.pad(core::str::from_utf8(&text.0).map_err(|_| fmt::Error)?)
    }
}

/// Text that grows as it is written to.
struct Report(KVec<u8>);

impl Write for Report {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| fmt::Error)
    }
}

/// Runs the benchmark and returns its report.
fn run() -> Result<Report> {
    let mut out = Report(KVec::new());
    let e = |_: fmt::Error| ENOMEM;
    writeln!(
        out,
        "delalloc release over a 1 GiB range, 4 KiB blocks; \
         microseconds, median (min) of {RUNS} runs"
    )
    .map_err(e)?;
    writeln!(
        out,
        "{:<28} {:>8} {:>20} {:>20}",
        "case", "punches", "iomap_rs", "C iomap"
    )
    .map_err(e)?;
    for (name, pages) in CASES {
        let inode = file_with_dirty_pages(pages)?;
        let (rust_median, rust_min, rust_punches) = time_runs(|| rust_release(&inode))?;
        let (c_median, c_min, c_punches) = time_runs(|| c_release(&inode))?;
        if rust_punches != c_punches {
            pr_warn!(
                "bench_release: {name}: {rust_punches} punch calls in Rust, {c_punches} in C\n"
            );
            return Err(EIO);
        }
        writeln!(
            out,
            "{:<28} {:>8} {:>11} ({:>6}) {:>11} ({:>6})",
            name,
            rust_punches,
            Micros(rust_median),
            Micros(rust_min),
            Micros(c_median),
            Micros(c_min)
        )
        .map_err(e)?;
    }
    Ok(out)
}

/// Runs the benchmark and writes its report, NUL-terminated and truncated to `size` bytes, to
/// `buf`; returns the report's length or a negative errno.
///
/// # Safety
///
/// `buf` must be valid for writing `size` bytes, and `size` must not be zero.
#[no_mangle]
pub unsafe extern "C" fn iomap_rs_bench_release(buf: *mut u8, size: usize) -> isize {
    let report = match run() {
        Ok(r) => r,
        Err(e) => return e.to_errno() as isize,
    };
    let len = report.0.len().min(size - 1);
    // SAFETY: `buf` is valid for `size > len` bytes (the caller's contract); the source is ours.
    unsafe {
        core::ptr::copy_nonoverlapping(report.0.as_ptr(), buf, len);
        *buf.add(len) = 0;
    }
    len as isize
}
