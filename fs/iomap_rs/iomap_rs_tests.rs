// SPDX-License-Identifier: GPL-2.0

//! Rust cases of iomap_rs's KUnit suites.
//!
//! The suites are declared in `iomap_rs_kunit.c`; each case here is an `extern "C"` function
//! taking the running `struct kunit` and reports failures through `iomap_rs_kunit_fail()`, so the
//! failure message, with what was expected and what was found, is part of the KUnit result.

use core::fmt;
use kernel::bindings;
use kernel::ffi::{c_char, c_int};
use kernel::iomap::range::FileRange;
use kernel::prelude::*;
use kernel::str::CString;

extern "C" {
    // Declared in `iomap_rs_kunit.h`, defined in `iomap_rs_kunit.c`.
    fn iomap_rs_kunit_fail(
        test: *mut bindings::kunit,
        file: *const c_char,
        line: c_int,
        msg: *const c_char,
    );
    fn iomap_rs_kunit_info(test: *mut bindings::kunit, msg: *const c_char);
}

/// The KUnit case being run.
///
/// # Invariants
///
/// `self.0` points to the `struct kunit` of a case that is running on this thread.
struct Test(*mut bindings::kunit);

impl Test {
    /// Wraps the `struct kunit` KUnit passed to a case.
    ///
    /// # Safety
    ///
    /// `test` must be the argument KUnit passed to the running case.
    unsafe fn new(test: *mut bindings::kunit) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self(test)
    }

    /// Fails the case with a message; the case goes on, like `KUNIT_EXPECT_*`.
    fn fail(&self, file: &CStr, line: u32, args: fmt::Arguments<'_>) {
        let msg = CString::try_from_fmt(args);
        let msg_ptr = match &msg {
            Ok(m) => m.as_char_ptr(),
            Err(_) => kernel::c_str!("(failure message lost: out of memory)").as_char_ptr(),
        };
        // SAFETY: `self.0` is the running case (type invariant); the strings are NUL-terminated
        // and outlive the call, which copies them into the test log.
        unsafe { iomap_rs_kunit_fail(self.0, file.as_char_ptr(), line as c_int, msg_ptr) };
    }
}

impl Test {
    /// Logs a line to the case's KUnit result.
    fn info(&self, args: fmt::Arguments<'_>) {
        if let Ok(msg) = CString::try_from_fmt(args) {
            // SAFETY: `self.0` is the running case (type invariant); the string is
            // NUL-terminated and outlives the call.
            unsafe { iomap_rs_kunit_info(self.0, msg.as_char_ptr()) };
        }
    }
}

/// Fails the case unless `$left == $right`, printing both expressions and values.
macro_rules! expect_eq {
    ($test:expr, $left:expr, $right:expr $(,)?) => {{
        let (left, right) = (&$left, &$right);
        if left != right {
            $test.fail(
                kernel::c_str!(file!()),
                line!(),
                format_args!(
                    "expected {} == {}, but {:?} != {:?}",
                    stringify!($left),
                    stringify!($right),
                    left,
                    right
                ),
            );
        }
    }};
}

/// Defines an `extern "C"` KUnit case whose body gets a [`Test`].
macro_rules! kunit_case {
    ($name:ident, |$test:ident| $body:block) => {
        #[doc = concat!("KUnit case `", stringify!($name), "`.")]
        ///
        /// # Safety
        ///
        /// Only KUnit calls it, as a case, with the running `struct kunit`.
        #[no_mangle]
        pub unsafe extern "C" fn $name(test: *mut bindings::kunit) {
            // SAFETY: KUnit calls this function as a case with the running `struct kunit`.
            let $test = unsafe { Test::new(test) };
            $body
        }
    };
}

kunit_case!(iomap_rs_smoke_abi_version, |t| {
    expect_eq!(
        t,
        kernel::iomap::ABI_VERSION,
        bindings::IOMAP_RS_ABI_VERSION
    );
});

kunit_case!(iomap_rs_smoke_file_range, |t| {
    expect_eq!(t, FileRange::new(0, 0).map(|r| r.is_empty()), Ok(true));
    expect_eq!(t, FileRange::new(5, 4), Err(EINVAL));
    expect_eq!(t, FileRange::new(-1, 4), Err(EINVAL));
    expect_eq!(t, FileRange::from_pos_len(i64::MAX, 1), Err(EFBIG));
    expect_eq!(t, FileRange::from_pos_len(0, u64::MAX), Err(EFBIG));
    expect_eq!(
        t,
        FileRange::from_pos_len(i64::MAX - 10, 10).map(|r| r.end()),
        Ok(i64::MAX)
    );

    let r = FileRange::new(100, 200).unwrap_or(FileRange::EMPTY);
    expect_eq!(t, r.len(), 100);
    expect_eq!(t, r.contains(100), true);
    expect_eq!(t, r.contains(200), false);
    expect_eq!(t, r.advance(100).map(|r| r.is_empty()), Ok(true));
    expect_eq!(t, r.advance(101), Err(EINVAL));
    expect_eq!(t, r.truncate(150).end(), 150);
    expect_eq!(t, r.truncate(50), FileRange::new(100, 100).unwrap_or(r));
    expect_eq!(t, r.align_out(64), FileRange::new(64, 256));
    expect_eq!(t, r.align_out(0), Err(EINVAL));
    expect_eq!(
        t,
        FileRange::new(0, i64::MAX).and_then(|r| r.align_out(4096)),
        Err(EFBIG)
    );
});

// Walking a write range folio by folio, as the write path does, visits every byte exactly once
// and never crosses a folio boundary, for block and folio sizes from 512 bytes to 2 MiB.
kunit_case!(iomap_rs_smoke_first_chunk_walk, |t| {
    let ranges = [
        (0i64, 1u64),
        (1000, 20_000),
        (4095, 2),
        (8192, 8192),
        (12_345, 3 << 20),
    ];
    for shift in 9..=21u32 {
        let unit = 1u64 << shift;
        for &(pos, len) in &ranges {
            let Ok(mut rest) = FileRange::from_pos_len(pos, len) else {
                t.fail(
                    kernel::c_str!(file!()),
                    line!(),
                    format_args!("bad range {pos}+{len}"),
                );
                return;
            };
            let mut covered = 0u64;
            let mut next = pos;
            while !rest.is_empty() {
                let chunk = match rest.first_chunk(unit) {
                    Ok(c) => c,
                    Err(e) => {
                        t.fail(
                            kernel::c_str!(file!()),
                            line!(),
                            format_args!("first_chunk: {e:?}"),
                        );
                        return;
                    }
                };
                expect_eq!(t, chunk.start(), next);
                let last = chunk.end() - 1;
                expect_eq!(t, chunk.start() >> shift, last >> shift);
                expect_eq!(t, chunk.is_empty(), false);
                covered += chunk.len();
                next = chunk.end();
                rest = rest.advance(chunk.len()).unwrap_or(FileRange::EMPTY);
            }
            expect_eq!(t, covered, len);
        }
    }
});

// ---------------------------------------------------------------------------------------------
// Suite iomap_rs_iter: the iterator against a fake filesystem.

use kernel::iomap::iter::{iterate, IomapOps, IterFlags, Mapped, Outcome};
use kernel::iomap::map::{Iomap, MappingType};

/// A fake filesystem for the iterator.
///
/// Files are made of `extent`-sized, aligned unwritten extents up to `eof`, and one hole from
/// `eof` on. The extent tree's generation is `cookie`: after the `stale_after_checks`-th validity
/// check it changes, as when writeback converts an extent behind a write's back. Every `begin`
/// and `end` call is recorded.
struct FakeFs {
    extent: u64,
    eof: i64,
    cookie: u64,
    stale_after_checks: Option<u32>,
    checks: u32,
    begin_error_at: Option<(i64, Error)>,
    srcmap_len: Option<u64>,
    bad_mapping: bool,
    begins: KVec<(i64, u64)>,
    /// `(pos, len, written, stale)`.
    ends: KVec<(i64, u64, u64, bool)>,
}

impl FakeFs {
    fn new(extent: u64) -> Self {
        Self {
            extent,
            eof: i64::MAX / 2,
            cookie: 1,
            stale_after_checks: None,
            checks: 0,
            begin_error_at: None,
            srcmap_len: None,
            bad_mapping: false,
            begins: KVec::new(),
            ends: KVec::new(),
        }
    }
}

impl IomapOps for FakeFs {
    fn begin(
        &mut self,
        pos: i64,
        len: u64,
        _flags: IterFlags,
        iomap: &mut Iomap,
        srcmap: &mut Iomap,
    ) -> Result {
        self.begins.push((pos, len), GFP_KERNEL)?;
        if let Some((at, e)) = self.begin_error_at {
            if at == pos {
                return Err(e);
            }
        }
        *iomap = if pos >= self.eof {
            Iomap::new(
                MappingType::Hole,
                self.eof,
                len + (pos - self.eof) as u64,
                self.cookie,
            )?
        } else {
            let start = pos & !(self.extent as i64 - 1);
            let end = (start + self.extent as i64).min(self.eof);
            let start = if self.bad_mapping { pos + 1 } else { start };
            Iomap::new(
                MappingType::Unwritten,
                start,
                (end - start) as u64,
                self.cookie,
            )?
        };
        if let Some(l) = self.srcmap_len {
            *srcmap = Iomap::new(MappingType::Unwritten, pos, l, self.cookie)?;
        }
        Ok(())
    }

    fn end(
        &mut self,
        pos: i64,
        len: u64,
        written: u64,
        _flags: IterFlags,
        iomap: &mut Iomap,
    ) -> Result {
        self.ends
            .push((pos, len, written, iomap.is_stale()), GFP_KERNEL)?;
        Ok(())
    }

    fn iomap_valid(&mut self, iomap: &Iomap) -> bool {
        self.checks += 1;
        if Some(self.checks) == self.stale_after_checks {
            self.cookie += 1;
        }
        iomap.validity_cookie() == self.cookie
    }
}

/// The write path's shape: process a mapping folio by folio (4 KiB), validating the mapping
/// before each folio and ending short when it went stale.
fn fake_write(m: &mut Mapped<'_, FakeFs>) -> Result<u64> {
    let mut rest = m.range();
    let mut done = 0;
    while !rest.is_empty() {
        let chunk = rest.first_chunk(4096)?;
        if !m.revalidate() {
            break;
        }
        done += chunk.len();
        rest = rest.advance(chunk.len())?;
    }
    Ok(done)
}

/// Writes `[start, end)` with [`fake_write`].
fn run(fs: &mut FakeFs, start: i64, end: i64) -> Outcome {
    fs_iterate(fs, start, end, fake_write)
}

kunit_case!(iomap_rs_iter_arithmetic, |t| {
    let mut fs = FakeFs::new(8192);
    let out = run(&mut fs, 1000, 21_000);
    expect_eq!(
        t,
        out,
        Outcome {
            done: 20_000,
            error: None
        }
    );
    expect_eq!(
        t,
        &fs.begins[..],
        &[(1000, 20_000), (8192, 12_808), (16_384, 4616)][..]
    );
    expect_eq!(
        t,
        &fs.ends[..],
        &[
            (1000, 7192, 7192, false),
            (8192, 8192, 8192, false),
            (16_384, 4616, 4616, false)
        ][..]
    );
});

kunit_case!(iomap_rs_iter_srcmap_clamps, |t| {
    // A copy-on-write source shorter than the destination extent limits each step.
    let mut fs = FakeFs::new(8192);
    fs.srcmap_len = Some(3000);
    let out = run(&mut fs, 0, 8192);
    expect_eq!(
        t,
        out,
        Outcome {
            done: 8192,
            error: None
        }
    );
    expect_eq!(
        t,
        &fs.begins[..],
        &[(0, 8192), (3000, 5192), (6000, 2192)][..]
    );
});

kunit_case!(iomap_rs_iter_stale_remap, |t| {
    // The extent changes after three folios were written: the write ends short at 12 KiB, the
    // stale mapping is reported with what was written, and the rest is mapped again.
    let mut fs = FakeFs::new(65_536);
    fs.stale_after_checks = Some(4);
    let out = run(&mut fs, 0, 65_536);
    expect_eq!(
        t,
        out,
        Outcome {
            done: 65_536,
            error: None
        }
    );
    expect_eq!(t, &fs.begins[..], &[(0, 65_536), (12_288, 53_248)][..]);
    expect_eq!(
        t,
        &fs.ends[..],
        &[(0, 65_536, 12_288, true), (12_288, 53_248, 53_248, false)][..]
    );
    expect_eq!(t, fs.checks, 3 + 1 + 13);
});

kunit_case!(iomap_rs_iter_stale_before_progress, |t| {
    // Stale at the very first folio: no progress, but the iterator remaps instead of stopping.
    let mut fs = FakeFs::new(16_384);
    fs.stale_after_checks = Some(1);
    let out = run(&mut fs, 0, 16_384);
    expect_eq!(
        t,
        out,
        Outcome {
            done: 16_384,
            error: None
        }
    );
    expect_eq!(t, &fs.begins[..], &[(0, 16_384), (0, 16_384)][..]);
    expect_eq!(
        t,
        &fs.ends[..],
        &[(0, 16_384, 0, true), (0, 16_384, 16_384, false)][..]
    );
});

kunit_case!(iomap_rs_iter_zero_length_and_eof, |t| {
    let mut fs = FakeFs::new(8192);
    expect_eq!(
        t,
        run(&mut fs, 4096, 4096),
        Outcome {
            done: 0,
            error: None
        }
    );
    expect_eq!(t, fs.begins.len(), 0);

    // EOF inside the second extent: the last step maps the hole past EOF.
    let mut fs = FakeFs::new(8192);
    fs.eof = 10_000;
    expect_eq!(
        t,
        run(&mut fs, 0, 20_000),
        Outcome {
            done: 20_000,
            error: None
        }
    );
    expect_eq!(
        t,
        &fs.begins[..],
        &[(0, 20_000), (8192, 11_808), (10_000, 10_000)][..]
    );
});

kunit_case!(iomap_rs_iter_errors, |t| {
    // begin fails before any progress: the error is the result, end is not called.
    let mut fs = FakeFs::new(8192);
    fs.begin_error_at = Some((0, ENOSPC));
    let out = run(&mut fs, 0, 20_000);
    expect_eq!(t, out.into_result(), Err(ENOSPC));
    expect_eq!(t, fs.ends.len(), 0);

    // begin fails after progress: a short count, as write() reports it.
    let mut fs = FakeFs::new(8192);
    fs.begin_error_at = Some((8192, ENOSPC));
    let out = run(&mut fs, 0, 20_000);
    expect_eq!(
        t,
        out,
        Outcome {
            done: 8192,
            error: Some(ENOSPC)
        }
    );
    expect_eq!(t, out.into_result(), Ok(8192));

    // The operation fails: end still hears about the mapping, with nothing written.
    let mut fs = FakeFs::new(8192);
    let out = fs_iterate(&mut fs, 0, 8192, |_m| Err(EFAULT));
    expect_eq!(t, out.into_result(), Err(EFAULT));
    expect_eq!(t, &fs.ends[..], &[(0, 8192, 0, false)][..]);

    // No progress on a valid mapping: a short write, not a loop.
    let mut fs = FakeFs::new(8192);
    let out = fs_iterate(&mut fs, 0, 8192, |_m| Ok(0));
    expect_eq!(
        t,
        out,
        Outcome {
            done: 0,
            error: None
        }
    );
    expect_eq!(t, fs.begins.len(), 1);

    // More progress than mapped, or a mapping that misses the position, is EIO.
    let mut fs = FakeFs::new(8192);
    let out = fs_iterate(&mut fs, 0, 8192, |m| Ok(m.range().len() + 1));
    expect_eq!(t, out.into_result(), Err(EIO));
    // A mapping that misses the position: EIO, and `end` is still called, with nothing
    // written, so that the filesystem can release what `begin` reserved.
    let mut fs = FakeFs::new(8192);
    fs.bad_mapping = true;
    expect_eq!(t, run(&mut fs, 100, 8192).into_result(), Err(EIO));
    expect_eq!(t, &fs.ends[..], &[(100, 8092, 0, false)][..]);
});

/// Iterates `[start, end)` of `fs` with `op`.
fn fs_iterate(
    fs: &mut FakeFs,
    start: i64,
    end: i64,
    op: impl FnMut(&mut Mapped<'_, FakeFs>) -> Result<u64>,
) -> Outcome {
    // The iterator binds each pass to an inode: a file of the test filesystem.
    let inode = punch_tests::new_file(12, 0);
    match (inode, FileRange::new(start, end)) {
        (Ok(inode), Ok(r)) => iterate(fs, &inode, r, IterFlags::WRITE, op),
        (Err(e), _) | (_, Err(e)) => Outcome {
            done: 0,
            error: Some(e),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Suite iomap_rs_punch: the delalloc release against real page cache.

pub mod punch_tests;

// ---------------------------------------------------------------------------------------------
// Suite iomap_rs_write: the library's write loop on files of the test filesystem.

pub mod write_tests;
