// SPDX-License-Identifier: GPL-2.0

//! Suite `iomap_rs_write`: the library's write loop, [`buffered_write`], on files of the test
//! filesystem ([`TestFile`]), from kernel buffers and from user buffers that fault.
//!
//! The filesystem of these cases, [`Journal`], maps files as delayed allocation and records
//! every call the library makes to it, so each case checks what the loop did (which folios it
//! locked, what it reported to `end`), not only what ended up in the file, which every case
//! also reads back through the VFS.
//!
//! [`buffered_write`]: kernel::iomap::write::buffered_write

use super::Test;
use kernel::bindings;
use kernel::folio::LockedFolio;
use kernel::iomap::iter::{IomapOps, IterFlags};
use kernel::iomap::map::{Iomap, MappingType};
use kernel::iomap::range::FileRange;
use kernel::iomap::testing::{Folios, TestFile};
use kernel::iomap::zero::{truncate_page, zero_range};
use kernel::pagecache::Inode;
use kernel::prelude::*;
use kernel::uio::IovIter;

extern "C" {
    // Declared in `iomap_rs_kunit.h`, defined in `iomap_rs_kunit.c`.
    fn iomap_rs_kunit_user_buffer(
        test: *mut bindings::kunit,
        data: *const core::ffi::c_void,
        len: usize,
    ) -> usize;
}

const PAGE: usize = kernel::page::PAGE_SIZE;

/// What `begin` returns in a case of bad mappings.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Begin {
    /// Delalloc mappings of up to `extent` bytes from the position.
    Delalloc,
    /// A mapping that starts after the position.
    Misses,
    /// A mapping of no bytes.
    Empty,
    /// A mapping already marked stale.
    Stale,
    /// Holes, as for ranges nothing was ever written to.
    Hole,
    /// An error.
    Fails(Error),
}

/// A filesystem of delayed allocation whose extent generation changes at the `stale_at`-th
/// validity check, and which records the library's calls.
struct Journal {
    extent: u64,
    begin: Begin,
    generation: u64,
    stale_at: Option<u32>,
    checks: u32,
    /// Positions of `begin` calls.
    begins: KVec<i64>,
    /// `(pos, len, written)` of `end` calls.
    ends: KVec<(i64, u64, u64)>,
    /// Positions `get_folio` was asked for.
    folios: KVec<i64>,
}

impl Journal {
    fn new() -> Self {
        Self {
            extent: 1 << 20,
            begin: Begin::Delalloc,
            generation: 1,
            stale_at: None,
            checks: 0,
            begins: KVec::new(),
            ends: KVec::new(),
            folios: KVec::new(),
        }
    }
}

impl IomapOps for Journal {
    fn begin(
        &mut self,
        pos: i64,
        len: u64,
        _flags: IterFlags,
        iomap: &mut Iomap,
        _srcmap: &mut Iomap,
    ) -> Result {
        self.begins.push(pos, GFP_KERNEL)?;
        let len = len.min(self.extent);
        *iomap = match self.begin {
            Begin::Delalloc => Iomap::new(MappingType::Delalloc, pos, len, self.generation)?,
            Begin::Misses => Iomap::new(MappingType::Delalloc, pos + 1, len, self.generation)?,
            Begin::Empty => Iomap::new(MappingType::Delalloc, pos, 0, self.generation)?,
            Begin::Stale => {
                let mut map = Iomap::new(MappingType::Delalloc, pos, len, self.generation)?;
                map.mark_stale();
                map
            }
            Begin::Hole => Iomap::new(MappingType::Hole, pos, len, self.generation)?,
            Begin::Fails(e) => return Err(e),
        };
        Ok(())
    }

    fn end(
        &mut self,
        pos: i64,
        len: u64,
        written: u64,
        _flags: IterFlags,
        _iomap: &mut Iomap,
    ) -> Result {
        self.ends.push((pos, len, written), GFP_KERNEL)?;
        Ok(())
    }

    fn iomap_valid(&mut self, iomap: &Iomap) -> bool {
        self.checks += 1;
        if Some(self.checks) == self.stale_at {
            self.generation += 1;
        }
        iomap.validity_cookie() == self.generation
    }

    fn get_folio(
        &mut self,
        inode: &Inode,
        _iomap: &Iomap,
        pos: i64,
        len: usize,
        flags: IterFlags,
    ) -> Result<LockedFolio> {
        self.folios.push(pos, GFP_KERNEL)?;
        inode
            .mapping()
            .get_folio_for_write(pos, len, flags.contains(IterFlags::NOWAIT))
    }
}

/// The byte at file offset `pos` of the data of write number `seed`.
fn pattern(pos: usize, seed: u8) -> u8 {
    (pos.wrapping_mul(31) >> 3) as u8 ^ seed
}

/// `len` bytes of write `seed`'s data for file offset `pos`.
fn data(pos: usize, len: usize, seed: u8) -> Result<KVec<u8>> {
    let mut d = KVec::with_capacity(len, GFP_KERNEL)?;
    for i in 0..len {
        d.push(pattern(pos + i, seed), GFP_KERNEL)?;
    }
    Ok(d)
}

/// Reads the whole of `file` back and compares it with `model`; returns
/// the first differing offset, or the length if the file is longer or shorter.
fn compare(file: &TestFile, model: &[u8]) -> Result<Option<usize>> {
    let mut back = KVec::from_elem(0u8, model.len() + PAGE, GFP_KERNEL)?;
    let read = file.read(0, &mut back)?;
    if read != model.len() {
        return Ok(Some(read));
    }
    Ok(back[..read].iter().zip(model).position(|(a, b)| a != b))
}

/// An iterator over `len` bytes at user address `addr`.
struct UserIter(bindings::iov_iter);

impl UserIter {
    fn new(addr: usize, len: usize) -> Result<Self> {
        // SAFETY: `struct iov_iter` is plain data, for which all zeroes is a valid value.
        let mut iter: bindings::iov_iter = unsafe { core::mem::zeroed() };
        // SAFETY: `iter` is a live local; the address is checked by every user copy.
        let ret = unsafe {
            bindings::import_ubuf(bindings::ITER_SOURCE as i32, addr as *mut _, len, &mut iter)
        };
        kernel::error::to_result(ret)?;
        Ok(Self(iter))
    }

    fn iter(&mut self) -> &mut IovIter {
        // SAFETY: The iterator is initialised and borrowed exclusively for the returned
        // lifetime.
        unsafe { IovIter::from_raw_mut(&mut self.0) }
    }
}

/// `data` in a user buffer of the case, followed by an unmapped page.
fn user_buffer(t: &Test, data: &[u8]) -> Result<usize> {
    // SAFETY: `t.0` is the running case; `data` is valid for reads of its length.
    let addr = unsafe { iomap_rs_kunit_user_buffer(t.0, data.as_ptr().cast(), data.len()) };
    if addr == 0 {
        return Err(ENOMEM);
    }
    Ok(addr)
}

kunit_case!(iomap_rs_write_faulting_buffer, |t| {
    // 2 pages and 100 bytes of data at the end of a user mapping, and a write of 2000 bytes
    // more: the write copies the data, goes short at the fault, and reports the bytes copied.
    let run = || -> Result<(Result<usize>, Option<usize>)> {
        let len = 2 * PAGE + 100;
        let d = data(0, len, 1)?;
        let addr = user_buffer(&t, &d)?;
        let file = TestFile::new(12, Folios::Small)?;
        let mut fs = Journal::new();
        let mut iter = UserIter::new(addr, len + 2000)?;
        let written = file.write(&mut fs, 0, iter.iter(), false);
        Ok((written, compare(&file, &d)?))
    };
    expect_eq!(t, run(), Ok((Ok(2 * PAGE + 100), None)));
});

kunit_case!(iomap_rs_write_short_copy_retry, |t| {
    // As above with large folios and one block a page: the copy into the folio after the data
    // comes up short into a folio that is not uptodate, so the commit rejects it, gives the
    // bytes back, removes the folio instantiated beyond EOF, and the loop retries with what it
    // could copy. The folio at 2 pages is asked for twice; the data lands, nothing else.
    let run = || -> Result<(Result<usize>, usize, Option<usize>)> {
        let len = 2 * PAGE + 100;
        let d = data(0, len, 2)?;
        let addr = user_buffer(&t, &d)?;
        let file = TestFile::new(12, Folios::Large)?;
        let mut fs = Journal::new();
        let mut iter = UserIter::new(addr, 3 * PAGE)?;
        let written = file.write(&mut fs, 0, iter.iter(), false);
        let at_third_page = fs.folios.iter().filter(|&&p| p == 2 * PAGE as i64).count();
        // Grow the file past the folio: what the rejected copy left in it must not show.
        let mut model = KVec::from_elem(0u8, 5 * PAGE, GFP_KERNEL)?;
        model[..len].copy_from_slice(&d);
        model[5 * PAGE - 1] = 0x77;
        file.write_slice(&mut Journal::new(), 5 * PAGE as i64 - 1, &[0x77])?;
        Ok((written, at_third_page, compare(&file, &model)?))
    };
    expect_eq!(t, run(), Ok((Ok(2 * PAGE + 100), 2, None)));
});

kunit_case!(iomap_rs_write_nowait_locked_folio, |t| {
    // A NOWAIT write that meets a locked folio returns EAGAIN without waiting for it; the same
    // write succeeds once the folio is unlocked.
    let run = || -> Result<(Result<usize>, Result<usize>, Option<usize>)> {
        let file = TestFile::new(12, Folios::Large)?;
        let first = data(0, PAGE, 3)?;
        file.write_slice(&mut Journal::new(), 0, &first)?;
        let second = data(0, PAGE, 4)?;
        let kvec = |d: &KVec<u8>| bindings::kvec {
            iov_base: d.as_ptr() as *mut core::ffi::c_void,
            iov_len: d.len(),
        };
        let nowait_write = |file: &TestFile| -> Result<usize> {
            let v = kvec(&second);
            // SAFETY: `struct iov_iter` is plain data, for which all zeroes is a valid value.
            let mut iter: bindings::iov_iter = unsafe { core::mem::zeroed() };
            // SAFETY: `iter` and `v` are live locals; `second` outlives the write.
            unsafe { bindings::iov_iter_kvec(&mut iter, bindings::ITER_SOURCE, &v, 1, PAGE) };
            // SAFETY: `iter` is initialised and used by nothing else.
            let iter = unsafe { IovIter::from_raw_mut(&mut iter) };
            file.write(&mut Journal::new(), 0, iter, true)
        };
        // Holding a folio lock while the write takes `i_rwsem` inverts the lock order; nothing
        // else uses this file, and NOWAIT does not wait for the folio.
        let locked = file.inode().mapping().lock_folio(0).ok_or(ENOENT)?;
        let blocked = nowait_write(&file);
        drop(locked);
        let unblocked = nowait_write(&file);
        Ok((blocked, unblocked, compare(&file, &second)?))
    };
    expect_eq!(t, run(), Ok((Err(EAGAIN), Ok(PAGE), None)));
});

kunit_case!(iomap_rs_write_stale_nth_folio, |t| {
    // Eight one-page folios; the mapping goes stale at the Nth: exactly N - 1 folios are
    // written under the first mapping, `end` hears that, the rest is mapped again from there,
    // and every byte is right.
    for n in 1..=8u32 {
        let run = || -> Result<(usize, KVec<i64>, u64, Option<usize>)> {
            let file = TestFile::new(12, Folios::Small)?;
            let d = data(0, 8 * PAGE, n as u8)?;
            let mut fs = Journal::new();
            fs.stale_at = Some(n);
            let written = file.write_slice(&mut fs, 0, &d)?;
            let first_end = fs.ends.first().map_or(u64::MAX, |e| e.2);
            Ok((written, fs.begins, first_end, compare(&file, &d)?))
        };
        match run() {
            Ok((written, begins, first_end, bad)) => {
                let before = (n as usize - 1) * PAGE;
                expect_eq!(t, (n, written), (n, 8 * PAGE));
                expect_eq!(t, (n, &begins[..]), (n, &[0, before as i64][..]));
                expect_eq!(t, (n, first_end), (n, before as u64));
                expect_eq!(t, (n, bad), (n, None));
            }
            Err(e) => expect_eq!(t, (n, Err::<(), _>(e)), (n, Ok(()))),
        }
    }
});

kunit_case!(iomap_rs_write_block_sizes, |t| {
    // Unaligned writes and overwrites with blocks of 512 B to 4 KiB, into large and small
    // folios: partial blocks are zeroed around new data and kept around old data.
    let writes: [(usize, usize); 5] = [
        (700, 5000),
        (3000, 100),
        (12_000, 9000),
        (0, 1),
        (5 * PAGE - 3, 7),
    ];
    for block_bits in 9..=12u32 {
        for folios in [Folios::Large, Folios::Small] {
            let run = || -> Result<Option<usize>> {
                let file = TestFile::new(block_bits, folios)?;
                let mut model = KVec::new();
                for (i, &(pos, len)) in writes.iter().enumerate() {
                    let d = data(pos, len, 0x40 + i as u8)?;
                    let written = file.write_slice(&mut Journal::new(), pos as i64, &d)?;
                    if written != len {
                        return Err(EIO);
                    }
                    if model.len() < pos + len {
                        model.extend_with(pos + len - model.len(), 0, GFP_KERNEL)?;
                    }
                    model[pos..pos + len].copy_from_slice(&d);
                }
                compare(&file, &model)
            };
            expect_eq!(
                t,
                (block_bits, folios, run()),
                (block_bits, folios, Ok(None))
            );
        }
    }
});

kunit_case!(iomap_rs_write_bad_mappings, |t| {
    // A mapping from `begin` that misses the position, is empty or comes back stale is EIO,
    // and `end` is called for it with nothing written, so the filesystem releases what `begin`
    // reserved; a failing `begin` is its error, with no `end`. Nothing is written.
    for (begin, error, ends) in [
        (Begin::Misses, EIO, 1),
        (Begin::Empty, EIO, 1),
        (Begin::Stale, EIO, 1),
        (Begin::Fails(ENOSPC), ENOSPC, 0),
    ] {
        let run = || -> Result<(Result<usize>, usize, u64, i64)> {
            let file = TestFile::new(12, Folios::Large)?;
            let mut fs = Journal::new();
            fs.begin = begin;
            let written = file.write_slice(&mut fs, 100, &[1u8; 300]);
            let unwritten = fs.ends.iter().map(|e| e.2).sum();
            Ok((written, fs.ends.len(), unwritten, file.inode().size()))
        };
        expect_eq!(t, (begin, run()), (begin, Ok((Err(error), ends, 0, 0))));
    }
});

kunit_case!(iomap_rs_zero_range_cached, |t| {
    // Zeroing through the library's Rust API: a cached, dirty range mapped as delalloc is
    // zeroed folio by folio (partial blocks of 512 B to 4 KiB at both ends), reported as zeroed,
    // and nothing else changes. The same range mapped as a hole reads as zeroes already: with
    // dirty data in the cache it is flushed and mapped again once, then skipped; no folio is
    // asked for.
    for block_bits in [9u32, 12] {
        let run = || -> Result<(bool, Option<usize>, bool, usize)> {
            let file = TestFile::new(block_bits, Folios::Large)?;
            let mut model = data(0, 5 * PAGE, 7)?;
            file.write_slice(&mut Journal::new(), 0, &model)?;
            let inode = file.inode();
            let (start, end) = (1000usize, 3 * PAGE + 77);
            let lock = inode.mapping().invalidate_lock_write();
            let range = FileRange::new(start as i64, end as i64)?;
            let mut fs = Journal::new();
            let zeroed = zero_range(&mut fs, &lock, inode, range)?;
            drop(lock);
            model[start..end].fill(0);
            let bad = compare(&file, &model)?;
            let lock = inode.mapping().invalidate_lock_write();
            let mut holes = Journal::new();
            holes.begin = Begin::Hole;
            let hole_zeroed = zero_range(&mut holes, &lock, inode, range)?;
            Ok((zeroed, bad, hole_zeroed, holes.folios.len()))
        };
        expect_eq!(
            t,
            (block_bits, run()),
            (block_bits, Ok((true, None, false, 0)))
        );
    }
});

kunit_case!(iomap_rs_zero_range_bad_input, |t| {
    // The invalidate_lock of another file is no proof: EINVAL, nothing mapped. A truncation at
    // a block boundary zeroes nothing and asks the filesystem nothing; one inside a block
    // zeroes the rest of that block only.
    // (zeroing under another file's lock, mappings it asked for, what truncating at the
    // boundary returned, mappings that asked for, first byte differing from the model)
    type Outcome = (Result<bool>, usize, bool, usize, Option<usize>);
    let run = || -> Result<Outcome> {
        let file = TestFile::new(10, Folios::Large)?;
        let other = TestFile::new(10, Folios::Large)?;
        let mut model = data(0, 2 * PAGE, 9)?;
        file.write_slice(&mut Journal::new(), 0, &model)?;
        let inode = file.inode();
        let mut fs = Journal::new();
        let wrong = {
            let lock = other.inode().mapping().invalidate_lock_write();
            zero_range(&mut fs, &lock, inode, FileRange::new(0, 100)?)
        };
        let lock = inode.mapping().invalidate_lock_write();
        let mut at_boundary = Journal::new();
        let boundary = truncate_page(&mut at_boundary, &lock, inode, 2048)?;
        let mut inside = Journal::new();
        truncate_page(&mut inside, &lock, inode, 2048 + 100)?;
        drop(lock);
        model[2048 + 100..3072].fill(0);
        Ok((
            wrong,
            fs.begins.len(),
            boundary,
            at_boundary.begins.len(),
            compare(&file, &model)?,
        ))
    };
    expect_eq!(t, run(), Ok((Err(EINVAL), 0, false, 0, None)));
});
