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
        #[no_mangle]
        pub extern "C" fn $name(test: *mut bindings::kunit) {
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
