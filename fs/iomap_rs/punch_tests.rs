// SPDX-License-Identifier: GPL-2.0

//! Suite `iomap_rs_punch`: the delalloc release against real page cache.
//!
//! Each case builds page cache on an inode of `iomap_rs_testfs.c`, whose address space
//! operations are iomap's: folios of several sizes, clean or dirty, fully or partially uptodate,
//! with or without per-block state, with some blocks dirty, before and beyond EOF. It then runs
//! [`write_delalloc_release`](kernel::iomap::delalloc::write_delalloc_release) with a punch
//! callback that records what it is asked to punch, and compares that with a reference computed
//! block by block from the state the case built, without seeking: a byte of the range is kept iff
//! it is below EOF, in a dirty folio, in an uptodate block and, when the folio tracks dirtiness
//! per block, in a dirty block. Everything else in the range must be punched, exactly once or in
//! overlapping pieces, and the page cache must be left as it was.
//!
//! The randomized case prints its seed on failure; booting with
//! `iomap_rs_kunit.punch_seed=<seed>` replays it.

use crate::Test;
use core::fmt;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::folio::Folio;
use kernel::iomap::delalloc::write_delalloc_release;
use kernel::iomap::range::FileRange;
use kernel::page::PAGE_SIZE;
use kernel::pagecache::{Inode, OwnedInode};
use kernel::prelude::*;
use kernel::str::CString;

// `struct inode` only crosses as a pointer, so its layout does not matter to the calls.
#[allow(improper_ctypes)]
extern "C" {
    // Declared in `iomap_rs_kunit.h`, defined in `iomap_rs_kunit.c`.
    fn iomap_rs_kunit_punch_seed() -> u64;
    // Declared in `iomap_rs_testfs.h`, defined in `iomap_rs_testfs.c`.
    fn iomap_rs_testfs_inode_new(blkbits: u32, size: i64) -> *mut bindings::inode;
}

/// Randomized cases run by `iomap_rs_punch_model`.
const MODEL_CASES: u32 = 2000;
/// Pages of the file that the randomized cases populate.
const SPAN_PAGES: usize = 48;
/// Largest folio order the cases ask for: 64 KiB, 128 blocks of 512 bytes.
const MAX_ORDER: u32 = 4;
/// Blocks of the largest folio at the smallest block size, as 64-bit words of a bitmap.
const BITMAP_WORDS: usize = 2;

/// A new inode of `iomap_rs_testfs.c` with blocks of `2^block_bits` bytes and size `size`.
pub(crate) fn new_file(block_bits: u32, size: i64) -> Result<OwnedInode> {
    // SAFETY: FFI call; it returns a new inode, with a reference we own, or NULL.
    let ptr = NonNull::new(unsafe { iomap_rs_testfs_inode_new(block_bits, size) }).ok_or(ENOMEM)?;
    // SAFETY: The reference `iomap_rs_testfs_inode_new` returned is ours; `iput()` drops it.
    Ok(unsafe { OwnedInode::from_raw(ptr) })
}

/// A per-block bitmap of one folio.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Blocks([u64; BITMAP_WORDS]);

impl Blocks {
    fn all(count: u32) -> Self {
        let mut b = Self::default();
        for i in 0..count {
            b.set(i);
        }
        b
    }

    fn set(&mut self, i: u32) {
        self.0[(i / 64) as usize] |= 1 << (i % 64);
    }

    /// The blocks of `self` among the first `count`.
    fn within(self, count: u32) -> Self {
        let all = Self::all(count);
        Self([self.0[0] & all.0[0], self.0[1] & all.0[1]])
    }

    /// Blocks `first` to `last`, both included.
    fn span(first: u32, last: u32) -> Self {
        let mut b = Self::default();
        for i in first..=last {
            b.set(i);
        }
        b
    }

    fn of(list: &[u32]) -> Self {
        let mut b = Self::default();
        for &i in list {
            b.set(i);
        }
        b
    }

    fn get(&self, i: u32) -> bool {
        self.0[(i / 64) as usize] & (1 << (i % 64)) != 0
    }
}

impl fmt::Debug for Blocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}:{:016x}", self.0[1], self.0[0])
    }
}

/// The state a case gave one cached folio.
#[derive(Clone, Copy, Debug)]
struct CachedFolio {
    pos: i64,
    size: usize,
    /// Per-block state (`struct iomap_folio_state`) is attached.
    per_block: bool,
    /// The folio's dirty flag.
    dirty: bool,
    /// Uptodate blocks; all or none without per-block state.
    uptodate: Blocks,
    /// Dirty blocks; meaningful with per-block state only.
    dirty_blocks: Blocks,
}

impl CachedFolio {
    fn end(&self) -> i64 {
        self.pos + self.size as i64
    }
}

/// How a case prepares a folio.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Uptodate and clean, without per-block state (read by readahead).
    CleanUptodate,
    /// Uptodate and clean, with per-block state.
    CleanUptodatePerBlock,
    /// Some blocks uptodate, clean (a partial read).
    CleanPartial,
    /// Nothing uptodate: a hole for `SEEK_DATA`.
    NotUptodate,
    /// Uptodate, dirtied through `folio_mark_dirty()` (a write fault): every block dirty.
    DirtyMarked,
    /// Uptodate and dirty without per-block state (a whole-folio overwrite).
    DirtyWhole,
    /// Uptodate, some blocks dirty (sub-folio writes).
    DirtySomeBlocks,
    /// Some blocks uptodate, some of those dirty (sub-folio writes into a new folio).
    DirtyPartial,
}

const KINDS: [Kind; 8] = [
    Kind::CleanUptodate,
    Kind::CleanUptodatePerBlock,
    Kind::CleanPartial,
    Kind::NotUptodate,
    Kind::DirtyMarked,
    Kind::DirtyWhole,
    Kind::DirtySomeBlocks,
    Kind::DirtyPartial,
];

/// xorshift64*: small, fast and reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `[0, n)`; `n` must not be zero.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `1/n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// What a case gives one folio; [`plan`] draws it at random for a [`Kind`].
#[derive(Clone, Copy)]
struct Plan {
    per_block: bool,
    uptodate: Blocks,
    /// Blocks to dirty with per-block state.
    dirty_blocks: Blocks,
    dirty: bool,
    /// Dirty the folio with `folio_mark_dirty()` (iomap's `dirty_folio`), which dirties every
    /// block, rather than as the write path does.
    mark_dirty: bool,
}

impl Plan {
    /// Uptodate and clean, without per-block state.
    const CLEAN: Plan = Plan {
        per_block: false,
        uptodate: Blocks([u64::MAX; BITMAP_WORDS]),
        dirty_blocks: Blocks([0; BITMAP_WORDS]),
        dirty: false,
        mark_dirty: false,
    };

    /// Uptodate and dirtied by a write fault: every block dirty.
    const MARKED: Plan = Plan {
        dirty: true,
        mark_dirty: true,
        ..Plan::CLEAN
    };

    /// Uptodate `blocks` of which `dirty_blocks` are dirty, with per-block state.
    fn dirty_blocks(uptodate: Blocks, dirty_blocks: Blocks) -> Plan {
        Plan {
            per_block: true,
            uptodate,
            dirty_blocks,
            dirty: true,
            mark_dirty: false,
        }
    }
}

/// Draws the state of a folio of `blocks` blocks for `kind`.
fn plan(kind: Kind, blocks: u32, rng: &mut Rng) -> Plan {
    let all = Blocks::all(blocks);
    let mut p = Plan {
        per_block: false,
        uptodate: all,
        dirty_blocks: Blocks::default(),
        dirty: false,
        mark_dirty: false,
    };
    // A one-block folio has no per-block state: its kinds are all or nothing.
    let kind = match kind {
        Kind::CleanUptodatePerBlock | Kind::CleanPartial if blocks == 1 => Kind::CleanUptodate,
        Kind::DirtySomeBlocks | Kind::DirtyPartial if blocks == 1 => Kind::DirtyWhole,
        k => k,
    };
    let random_blocks = |rng: &mut Rng, of: Blocks| {
        let mut b = Blocks::default();
        for i in (0..blocks).filter(|&i| of.get(i) && rng.one_in(2)) {
            b.set(i);
        }
        b
    };
    match kind {
        Kind::CleanUptodate => {}
        Kind::CleanUptodatePerBlock => p.per_block = true,
        Kind::CleanPartial => {
            p.per_block = true;
            p.uptodate = random_blocks(rng, all);
        }
        Kind::NotUptodate => p.uptodate = Blocks::default(),
        Kind::DirtyMarked => {
            p.dirty = true;
            p.mark_dirty = true;
        }
        Kind::DirtyWhole => p.dirty = true,
        Kind::DirtySomeBlocks => {
            p.per_block = true;
            p.dirty = true;
            p.dirty_blocks = random_blocks(rng, all);
        }
        Kind::DirtyPartial => {
            p.per_block = true;
            p.dirty = true;
            p.uptodate = random_blocks(rng, all);
            p.dirty_blocks = random_blocks(rng, p.uptodate);
        }
    }
    p
}

/// Adds the cached folio at `pos`, sized for up to `len` bytes, in the state `plan` gives it
/// once its size is known, and returns what it built.
fn add_folio(
    inode: &Inode,
    pos: i64,
    len: usize,
    plan: impl FnOnce(u32) -> Plan,
) -> Result<CachedFolio> {
    let folio = inode.mapping().get_folio_for_write(pos, len, false)?;
    if folio.test_uptodate() || folio.test_dirty() {
        // Cases add each folio once: anything else means the cache was not empty.
        return Err(EEXIST);
    }
    let block_bits = inode.block_bits();
    let block_size = 1usize << block_bits;
    let blocks = (folio.size() >> block_bits) as u32;
    let mut p = plan(blocks);
    p.uptodate = p.uptodate.within(blocks);
    p.dirty_blocks = p.dirty_blocks.within(blocks);
    let raw = folio.as_raw();
    if p.per_block {
        // SAFETY: The folio is locked and belongs to `inode`, which has iomap's aops.
        let ret = unsafe { bindings::iomap_folio_state_prepare(inode.as_raw(), raw, 0) };
        if ret != 0 {
            return Err(Error::from_errno(ret));
        }
    }
    if p.uptodate == Blocks::all(blocks) {
        // SAFETY: The folio is locked; the range is the whole folio.
        unsafe { bindings::iomap_folio_set_range_uptodate(raw, 0, folio.size()) };
    } else {
        for b in (0..blocks).filter(|&b| p.uptodate.get(b)) {
            // SAFETY: The folio is locked; block `b` is inside it.
            unsafe {
                bindings::iomap_folio_set_range_uptodate(raw, b as usize * block_size, block_size)
            };
        }
    }
    let mut built = CachedFolio {
        pos: folio.pos(),
        size: folio.size(),
        per_block: p.per_block,
        dirty: p.dirty,
        uptodate: p.uptodate,
        dirty_blocks: p.dirty_blocks,
    };
    if p.mark_dirty {
        // SAFETY: The folio is locked and uptodate; the mapping's `dirty_folio` is
        // `iomap_dirty_folio()`, which attaches per-block state to a folio of several blocks and
        // dirties every block.
        unsafe { bindings::folio_mark_dirty(raw) };
        built.per_block = blocks > 1;
        built.dirty_blocks = Blocks::all(blocks);
    } else if p.dirty {
        if p.per_block {
            for b in (0..blocks).filter(|&b| p.dirty_blocks.get(b)) {
                // SAFETY: The folio is locked and has per-block state; block `b` is inside it.
                unsafe {
                    bindings::iomap_folio_set_range_dirty(raw, b as usize * block_size, block_size)
                };
            }
        }
        // SAFETY: The folio is locked and in `inode`'s mapping; without per-block state it is
        // uptodate, as the function expects. As `__iomap_write_end()`: the folio is marked
        // dirty without touching per-block state.
        unsafe { bindings::filemap_dirty_folio(inode.mapping().as_raw(), raw) };
    }
    Ok(built)
}

/// A file's cached folios and size, and a range to release.
struct Layout {
    block_bits: u32,
    size: i64,
    folios: KVec<CachedFolio>,
    range: FileRange,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "block size {}, i_size {}, release [{}, {}), folios",
            1u32 << self.block_bits,
            self.size,
            self.range.start(),
            self.range.end()
        )?;
        for c in self.folios.iter() {
            write!(
                f,
                " [{}+{}{}{} up {:?} dirty {:?}]",
                c.pos,
                c.size,
                if c.dirty { " D" } else { "" },
                if c.per_block { " ifs" } else { "" },
                c.uptodate,
                c.dirty_blocks
            )?;
        }
        Ok(())
    }
}

/// Populates `inode` with random folios over its first [`SPAN_PAGES`] pages and picks a random
/// block-aligned range, at times empty, at times partly or wholly beyond EOF or the cache.
fn random_layout(inode: &Inode, rng: &mut Rng) -> Result<Layout> {
    let block_bits = inode.block_bits();
    let page = PAGE_SIZE as i64;
    let mut folios = KVec::new();
    let mut index = 0usize;
    while index < SPAN_PAGES {
        if rng.one_in(4) {
            index += 1 + rng.below(4) as usize;
            continue;
        }
        let len = PAGE_SIZE << rng.below(u64::from(MAX_ORDER) + 1);
        let kind = KINDS[rng.below(KINDS.len() as u64) as usize];
        let folio = add_folio(inode, index as i64 * page, len, |blocks| {
            plan(kind, blocks, rng)
        })?;
        index = (folio.end() / page) as usize;
        folios.push(folio, GFP_KERNEL)?;
    }
    let block = 1i64 << block_bits;
    let blocks_in_view = (SPAN_PAGES as i64 + 4) * page / block;
    let start = rng.below(blocks_in_view as u64) as i64 * block;
    let end = if rng.one_in(16) {
        start
    } else {
        start + (1 + rng.below((blocks_in_view / 2) as u64) as i64) * block
    };
    Ok(Layout {
        block_bits,
        size: inode.size(),
        folios,
        range: FileRange::new(start, end)?,
    })
}

/// Why a check failed: what it found, or an error that kept it from looking.
enum Failure {
    Found(CString),
    Error(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Error(e)
    }
}

impl From<kernel::alloc::AllocError> for Failure {
    fn from(e: kernel::alloc::AllocError) -> Self {
        Self::Error(e.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Found(msg) => f.write_str(msg.to_str().unwrap_or("(not UTF-8)")),
            Self::Error(e) => write!(f, "the check itself failed with {e:?}"),
        }
    }
}

/// A [`Failure::Found`] with a formatted message.
fn found(args: fmt::Arguments<'_>) -> Failure {
    match CString::try_from_fmt(args) {
        Ok(msg) => Failure::Found(msg),
        Err(e) => Failure::Error(e),
    }
}

/// Appends `[start, end)` to sorted, disjoint ranges, merging it with the last one when they
/// touch or overlap. Returns false if `start` is below the last range's start.
fn push_merged(ranges: &mut KVec<(i64, i64)>, start: i64, end: i64) -> Result<bool> {
    if start >= end {
        return Ok(true);
    }
    if let Some(last) = ranges.last_mut() {
        if start < last.0 {
            return Ok(false);
        }
        if start <= last.1 {
            last.1 = last.1.max(end);
            return Ok(true);
        }
    }
    ranges.push((start, end), GFP_KERNEL)?;
    Ok(true)
}

/// The reference: the byte ranges of `layout.range` that must be punched, computed block by
/// block from the state the case built.
fn expected_punched(layout: &Layout) -> Result<KVec<(i64, i64)>> {
    let block = 1i64 << layout.block_bits;
    let eof = layout.size;
    let mut punched = KVec::new();
    let mut pos = layout.range.start();
    while pos < layout.range.end() {
        let block_end = pos + block;
        let kept = layout
            .folios
            .iter()
            .find(|c| c.pos <= pos && pos < c.end())
            .is_some_and(|c| {
                let b = ((pos - c.pos) >> layout.block_bits) as u32;
                c.dirty && c.uptodate.get(b) && (!c.per_block || c.dirty_blocks.get(b))
            });
        // A kept block is kept up to EOF; what lies beyond EOF is punched.
        let keep_end = if kept && pos < eof {
            block_end.min(eof)
        } else {
            pos
        };
        push_merged(&mut punched, keep_end, block_end)?;
        pos = block_end;
    }
    Ok(punched)
}

/// Runs the release over `range` of `inode` with a recording punch callback, which fails with
/// `fail_at.1` on call number `fail_at.0` (from 1) if given.
fn release(
    inode: &Inode,
    range: FileRange,
    fail_at: Option<(usize, Error)>,
) -> Result<(Result, KVec<FileRange>)> {
    let mut calls = KVec::new();
    let mut recorded = Ok(());
    let lock = inode.mapping().invalidate_lock_write();
    let result = write_delalloc_release(&lock, inode, range, |_: &Inode, r: FileRange| {
        if let Err(e) = calls.push(r, GFP_KERNEL) {
            recorded = Err(Error::from(e));
        }
        match fail_at {
            Some((n, e)) if n == calls.len() => Err(e),
            _ => Ok(()),
        }
    });
    recorded?;
    Ok((result, calls))
}

/// Checks the ranges a release punched against the reference.
fn check_punches(layout: &Layout, calls: &[FileRange]) -> Result<(), Failure> {
    let mut got = KVec::new();
    for r in calls {
        let (start, end) = (r.start(), r.end());
        if r.is_empty() || start < layout.range.start() || end > layout.range.end() {
            return Err(found(format_args!(
                "punch [{start}, {end}) is empty or outside the range"
            )));
        }
        if !push_merged(&mut got, start, end)? {
            return Err(found(format_args!("punch [{start}, {end}) goes backwards")));
        }
    }
    let expected = expected_punched(layout)?;
    if got[..] != expected[..] {
        return Err(found(format_args!(
            "punched {:?}, expected {:?}",
            &got[..],
            &expected[..]
        )));
    }
    Ok(())
}

/// Checks that a release left the page cache as the case built it: every dirty folio still
/// cached with its size, dirty flag and dirty blocks, a clean folio as built or reclaimed, and
/// no folio left locked.
fn check_cache(inode: &Inode, layout: &Layout) -> Result<(), Failure> {
    let block_bits = inode.block_bits();
    for c in layout.folios.iter() {
        let Some(folio) = inode.mapping().get_folio(c.pos) else {
            if c.dirty {
                return Err(found(format_args!("dirty folio at {} was removed", c.pos)));
            }
            continue;
        };
        let Ok(folio) = Folio::try_lock(folio) else {
            return Err(found(format_args!("folio at {} was left locked", c.pos)));
        };
        let mut same = folio.pos() == c.pos && folio.size() == c.size;
        same &= folio.test_dirty() == c.dirty;
        if same && c.per_block && c.dirty {
            for b in 0..(c.size >> block_bits) as u32 {
                // SAFETY: The folio is locked and `b` is one of its blocks.
                let dirty = unsafe { bindings::iomap_folio_block_is_dirty(folio.as_raw(), b) };
                same &= dirty == c.dirty_blocks.get(b);
            }
        }
        if !same {
            return Err(found(format_args!(
                "folio at {} changed: now {}+{}, dirty {}",
                c.pos,
                folio.pos(),
                folio.size(),
                folio.test_dirty()
            )));
        }
    }
    Ok(())
}

/// Releases `layout.range` of `inode` and checks the punches and the cache.
fn release_and_check(inode: &Inode, layout: &Layout) -> Result<(), Failure> {
    let (result, calls) = release(inode, layout.range, None)?;
    if let Err(e) = result {
        return Err(found(format_args!("the release failed with {e:?}")));
    }
    check_punches(layout, &calls)?;
    check_cache(inode, layout)
}

/// Fails the running case with `failure`, in `context`, describing `layout` if there is one.
fn fail(t: &Test, context: fmt::Arguments<'_>, failure: &Failure, layout: Option<&Layout>) {
    let file = kernel::c_str!(file!());
    match layout {
        Some(l) => t.fail(file, line!(), format_args!("{context}: {failure}; {l}")),
        None => t.fail(file, line!(), format_args!("{context}: {failure}")),
    }
}

/// Draws a block size and a file size for a randomized case.
fn random_file(rng: &mut Rng) -> Result<OwnedInode> {
    let block_bits = 9 + rng.below(u64::from(bindings::PAGE_SHIFT) - 8) as u32;
    let span = SPAN_PAGES as u64 * PAGE_SIZE as u64;
    let size = match rng.below(4) {
        0 => 0,
        // Block-aligned.
        1 => (rng.below(span >> block_bits) << block_bits) as i64,
        _ => rng.below(span + 2 * PAGE_SIZE as u64) as i64,
    };
    new_file(block_bits, size)
}

/// Runs one randomized case: a random file, cache and range, released and checked.
fn model_case(rng: &mut Rng) -> Result<(), (Failure, Option<Layout>)> {
    let file = random_file(rng).map_err(|e| (e.into(), None))?;
    let layout = random_layout(&file, rng).map_err(|e| (e.into(), None))?;
    release_and_check(&file, &layout).map_err(|f| (f, Some(layout)))
}

kunit_case!(iomap_rs_punch_model, |t| {
    // SAFETY: FFI call without safety requirements.
    let seed = unsafe { iomap_rs_kunit_punch_seed() };
    let mut rng = Rng::new(seed);
    t.info(format_args!("{MODEL_CASES} cases, seed {seed:#x}"));
    for case in 0..MODEL_CASES {
        if let Err((failure, layout)) = model_case(&mut rng) {
            let context = format_args!(
                "seed {seed:#x} case {case} (replay: boot with iomap_rs_kunit.punch_seed={seed:#x})"
            );
            // One detailed failure says more than a flood of them.
            return fail(&t, context, &failure, layout.as_ref());
        }
    }
});

/// Builds the file of a fixed case: `folios` are `(pos, len, plan)`, each of which must give a
/// folio of exactly `len` bytes.
fn fixed_file(
    block_bits: u32,
    size: i64,
    folios: &[(i64, usize, Plan)],
    range: (i64, i64),
) -> Result<(OwnedInode, Layout), Failure> {
    let file = new_file(block_bits, size)?;
    let mut built = KVec::new();
    for &(pos, len, p) in folios {
        let c = add_folio(&file, pos, len, |_| p)?;
        if c.pos != pos || c.size != len {
            return Err(found(format_args!(
                "asked for a folio at {pos} of {len} bytes, got {} bytes at {}",
                c.size, c.pos
            )));
        }
        built.push(c, GFP_KERNEL)?;
    }
    let layout = Layout {
        block_bits,
        size,
        folios: built,
        range: FileRange::new(range.0, range.1)?,
    };
    Ok((file, layout))
}

/// Releases the range of a fixed case and checks that exactly `expected` was punched, in that
/// order, that the reference agrees, and that the cache is unchanged.
fn check_fixed(file: &Inode, layout: &Layout, expected: &[(i64, i64)]) -> Result<(), Failure> {
    let (result, calls) = release(file, layout.range, None)?;
    if let Err(e) = result {
        return Err(found(format_args!("the release failed with {e:?}")));
    }
    let mut got = KVec::new();
    for r in calls.iter() {
        got.push((r.start(), r.end()), GFP_KERNEL)?;
    }
    if got[..] != *expected {
        return Err(found(format_args!(
            "punch calls {:?}, expected {:?}",
            &got[..],
            expected
        )));
    }
    check_punches(layout, &calls)?;
    check_cache(file, layout)
}

/// Runs a fixed case, failing the running test with `name` if it fails.
fn fixed_case(
    t: &Test,
    name: &str,
    block_bits: u32,
    size: i64,
    folios: &[(i64, usize, Plan)],
    range: (i64, i64),
    expected: &[(i64, i64)],
) {
    match fixed_file(block_bits, size, folios, range) {
        Err(f) => fail(t, format_args!("{name}: building the file"), &f, None),
        Ok((file, layout)) => {
            if let Err(f) = check_fixed(&file, &layout, expected) {
                fail(t, format_args!("{name}"), &f, Some(&layout));
            }
        }
    }
}

const PAGE: i64 = PAGE_SIZE as i64;

kunit_case!(iomap_rs_punch_dirty_beyond_eof, |t| {
    // The case of the comment in the seed (iomap_write_delalloc_release()): a write fault
    // dirtied a cached page beyond EOF, then a write beyond EOF into it failed. Its delalloc must
    // go, dirty page or not: writeback never writes back beyond EOF.
    fixed_case(
        &t,
        "dirty page beyond EOF",
        12,
        PAGE,
        &[
            (0, PAGE_SIZE, Plan::MARKED),
            (2 * PAGE, PAGE_SIZE, Plan::MARKED),
        ],
        (PAGE, 4 * PAGE),
        &[(PAGE, 4 * PAGE)],
    );
    // The same with EOF inside the dirty page: the part below EOF is kept.
    fixed_case(
        &t,
        "dirty page across EOF",
        12,
        2 * PAGE + 100,
        &[
            (0, PAGE_SIZE, Plan::MARKED),
            (2 * PAGE, PAGE_SIZE, Plan::MARKED),
        ],
        (PAGE, 4 * PAGE),
        &[(PAGE, 2 * PAGE), (2 * PAGE + 100, 4 * PAGE)],
    );
});

kunit_case!(iomap_rs_punch_folio_spanning_eof, |t| {
    // A 16 KiB folio of 1 KiB blocks across EOF (5000): block 3 is clean, blocks 2 and 4 are
    // dirty, and dirty block 9 lies beyond EOF. Block 4 is kept up to EOF only, block 9 goes.
    let folio = Plan::dirty_blocks(Blocks::span(0, 15), Blocks::of(&[0, 1, 2, 4, 5, 9]));
    fixed_case(
        &t,
        "folio spanning EOF",
        10,
        5000,
        &[(0, 4 * PAGE_SIZE, folio)],
        (2048, 4 * PAGE),
        &[(3072, 4096), (5000, 4 * PAGE)],
    );
    // Partially uptodate: blocks 6-7 are a hole for SEEK_DATA inside the dirty folio, so the
    // folio is visited twice; then a clean page, a hole, and EOF inside a dirty page.
    let folio = Plan::dirty_blocks(
        Blocks::of(&[0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15]),
        Blocks::of(&[4, 5, 8, 15]),
    );
    fixed_case(
        &t,
        "partially uptodate folio before EOF",
        10,
        6 * PAGE + 10,
        &[
            (0, 4 * PAGE_SIZE, folio),
            (4 * PAGE, PAGE_SIZE, Plan::CLEAN),
            (6 * PAGE, PAGE_SIZE, Plan::MARKED),
        ],
        (4096, 8 * PAGE),
        &[
            (6 * 1024, 8 * 1024),
            (9 * 1024, 10 * 1024),
            (10 * 1024, 11 * 1024),
            (11 * 1024, 12 * 1024),
            (12 * 1024, 13 * 1024),
            (13 * 1024, 14 * 1024),
            (14 * 1024, 15 * 1024),
            (16 * 1024, 6 * PAGE),
            (6 * PAGE + 10, 8 * PAGE),
        ],
    );
});

kunit_case!(iomap_rs_punch_bad_ranges, |t| {
    let dirty_page = [(0, PAGE_SIZE, Plan::MARKED)];
    let (file, _) = match fixed_file(12, 1 << 20, &dirty_page, (0, 0)) {
        Ok(built) => built,
        Err(f) => return fail(&t, format_args!("building the file"), &f, None),
    };
    let inode = &file;
    let calls_of = |range: Result<FileRange>| -> Result<(Result, usize)> {
        let (result, calls) = release(inode, range?, None)?;
        Ok((result, calls.len()))
    };

    // An empty range punches nothing.
    expect_eq!(t, calls_of(FileRange::new(PAGE, PAGE)), Ok((Ok(()), 0)));
    // `start > end` is not a range: the Rust API cannot be asked; the C entry is below.
    expect_eq!(t, FileRange::new(2 * PAGE, PAGE), Err(EINVAL));
    // Beyond s_maxbytes (1 TiB on the suite's filesystem): punched like any range, as C does
    // (a reservation's end rounded up to a block can pass it). Up to it too.
    let max = inode.max_bytes();
    expect_eq!(
        t,
        calls_of(FileRange::new(max - PAGE, max + PAGE)),
        Ok((Ok(()), 1))
    );
    expect_eq!(
        t,
        calls_of(FileRange::new(max - PAGE, max)),
        Ok((Ok(()), 1))
    );
    // The invalidate_lock of another mapping is no proof: EINVAL, nothing punched.
    let other = match new_file(12, 0) {
        Ok(o) => o,
        Err(e) => return fail(&t, format_args!("other inode"), &Failure::Error(e), None),
    };
    let lock = other.mapping().invalidate_lock_write();
    let mut calls = 0;
    let result = FileRange::new(0, PAGE).and_then(|range| {
        write_delalloc_release(&lock, inode, range, |_: &Inode, _: FileRange| {
            calls += 1;
            Ok(())
        })
    });
    expect_eq!(t, (result, calls), (Err(EINVAL), 0));
});

kunit_case!(iomap_rs_punch_error_stops_unlocked, |t| {
    // Ten punches: the eight clean blocks of a dirty 16 KiB folio of 1 KiB blocks, the hole
    // after it, and the rest after a dirty page. Failing each in turn must stop the release
    // right there, return the error, and leave no folio locked and the cache unchanged.
    let folio = Plan::dirty_blocks(
        Blocks::span(0, 15),
        Blocks::of(&[0, 2, 4, 6, 8, 10, 12, 14]),
    );
    let folios = [
        (0, 4 * PAGE_SIZE, folio),
        (5 * PAGE, PAGE_SIZE, Plan::MARKED),
    ];
    let range = (0, 16 * PAGE);
    let calls_without_error = 10;
    for fail_at in 1..=calls_without_error + 1 {
        let (file, layout) = match fixed_file(10, 1 << 20, &folios, range) {
            Ok(built) => built,
            Err(f) => return fail(&t, format_args!("building the file"), &f, None),
        };
        let checked = release(&file, layout.range, Some((fail_at, ENOSPC)))
            .map_err(Failure::from)
            .and_then(|(result, calls)| {
                let expected = if fail_at > calls_without_error {
                    (Ok(()), calls_without_error)
                } else {
                    (Err(ENOSPC), fail_at)
                };
                if (result, calls.len()) != expected {
                    return Err(found(format_args!(
                        "failing punch {fail_at}: got {result:?} after {} calls, expected {:?}",
                        calls.len(),
                        expected
                    )));
                }
                check_cache(&file, &layout)
            });
        if let Err(f) = checked {
            return fail(&t, format_args!("punch error"), &f, Some(&layout));
        }
    }
});

/// What the C entry's punch callback records: `iomap` is what the case passes as the iomap, so
/// the callback finds the rest from it.
#[repr(C)]
struct CPunchRecord {
    iomap: bindings::iomap,
    calls: KVec<FileRange>,
    bad_call: bool,
}

/// The C punch callback (`iomap_punch_t`) of `iomap_rs_punch_c_abi`.
///
/// # Safety
///
/// `iomap` must be the `iomap` field of a [`CPunchRecord`] that nothing else uses during the
/// call.
unsafe extern "C" fn record_c_punch(
    _inode: *mut bindings::inode,
    offset: i64,
    length: i64,
    iomap: *mut bindings::iomap,
) {
    // SAFETY: `iomap` is the first field of a `#[repr(C)]` `CPunchRecord` that is ours for the
    // call (the function's safety contract).
    let record = unsafe { &mut *iomap.cast::<CPunchRecord>() };
    let range = u64::try_from(length)
        .ok()
        .and_then(|len| FileRange::from_pos_len(offset, len).ok());
    match range {
        Some(r) if record.calls.push(r, GFP_KERNEL).is_ok() => {}
        _ => record.bad_call = true,
    }
}

/// Releases `layout.range` of `inode` through the C entry, `iomap_rs_write_delalloc_release()`,
/// and checks the punches and the cache.
fn c_release_and_check(inode: &Inode, layout: &Layout) -> Result<(), Failure> {
    let record = c_release(inode, layout.range.start(), layout.range.end())?;
    check_punches(layout, &record.calls)?;
    check_cache(inode, layout)
}

/// Calls the C entry over `[start, end)` of `inode`, with its `invalidate_lock` held.
fn c_release(inode: &Inode, start: i64, end: i64) -> Result<KBox<CPunchRecord>, Failure> {
    let mut record = KBox::new(
        CPunchRecord {
            // SAFETY: `struct iomap` is plain data, for which all zeroes is a valid value.
            iomap: unsafe { core::mem::zeroed() },
            calls: KVec::new(),
            bad_call: false,
        },
        GFP_KERNEL,
    )?;
    let lock = inode.mapping().invalidate_lock_write();
    // SAFETY: `inode` is live and we hold its `invalidate_lock` exclusively; `record_c_punch`
    // only records, and gets the `iomap` field of `record`, which nothing else uses meanwhile.
    unsafe {
        bindings::iomap_rs_write_delalloc_release(
            inode.as_raw(),
            start,
            end,
            0,
            &mut record.iomap,
            Some(record_c_punch),
        )
    };
    drop(lock);
    if record.bad_call {
        return Err(found(format_args!("a punch call had a bad range")));
    }
    Ok(record)
}

kunit_case!(iomap_rs_punch_c_abi, |t| {
    // SAFETY: FFI call without safety requirements. (The C entry point releases as the Rust
    // API does, on random layouts.)
    let seed = unsafe { iomap_rs_kunit_punch_seed() } ^ 0xc0de;
    let mut rng = Rng::new(seed);
    for case in 0..200 {
        let checked = random_file(&mut rng)
            .map_err(|e| (Failure::from(e), None))
            .and_then(|file| {
                let layout =
                    random_layout(&file, &mut rng).map_err(|e| (Failure::from(e), None))?;
                c_release_and_check(&file, &layout).map_err(|f| (f, Some(layout)))
            });
        if let Err((f, layout)) = checked {
            let context = format_args!(
                "C entry, seed {seed:#x} case {case} (punch_seed {:#x})",
                seed ^ 0xc0de
            );
            return fail(&t, context, &f, layout.as_ref());
        }
    }
    // The C entry has no way to report bad ranges, as in C: it leaves them alone.
    let built = fixed_file(12, 1 << 20, &[(0, PAGE_SIZE, Plan::MARKED)], (0, 0));
    let checked = built.and_then(|(file, _)| {
        for (start, end) in [(2 * PAGE, PAGE), (PAGE, PAGE)] {
            let record = c_release(&file, start, end)?;
            if !record.calls.is_empty() {
                return Err(found(format_args!(
                    "[{start}, {end}) punched {} ranges",
                    record.calls.len()
                )));
            }
        }
        // Beyond s_maxbytes: all of it, as C punches it.
        let max = file.max_bytes();
        let record = c_release(&file, max - PAGE, max + PAGE)?;
        let want = FileRange::new(max - PAGE, max + PAGE)?;
        if record.calls[..] != [want] {
            return Err(found(format_args!(
                "[{}, {}) punched {} ranges, expected it whole",
                max - PAGE,
                max + PAGE,
                record.calls.len()
            )));
        }
        Ok(())
    });
    if let Err(f) = checked {
        fail(&t, format_args!("C entry, bad ranges"), &f, None);
    }
});
