// SPDX-License-Identifier: GPL-2.0

//! Zeroing and unsharing file ranges in the page cache: C's `iomap_zero_range()`,
//! `iomap_truncate_page()` and `iomap_file_unshare()`.
//!
//! C implementation: [`fs/iomap/buffered-io.c`](srctree/fs/iomap/buffered-io.c).
//!
//! Both cache a mapping over many folios and modify them, exactly as a write does, so both run
//! on the write path's typestate ([`super::write`]): every folio is locked and the mapping
//! revalidated in one step ([`Mapped::lock_folio`]), a stale mapping ends the pass and the rest
//! is mapped again. Zeroing is what a write that starts beyond EOF does to the gap, and what
//! truncate and hole punching do to partial blocks: with a cached mapping that writeback turned
//! from unwritten to written behind its back, C before the validity check could zero a folio
//! over data that was on disk, or skip one that needed zeroing.
//!
//! # Lock order
//!
//! The caller holds `i_rwsem` and the mapping's `invalidate_lock` exclusively (as XFS does for
//! every zeroing and unsharing), which keeps page faults from instantiating folios in the range;
//! both functions take the [`InvalidateLockWrite`] that proves the second. Then each folio's
//! lock, then the filesystem's locks in `begin` and `end`. Zeroing may write back and wait for
//! dirty folios of the range, with no folio locked.

use super::control::{self, Call};
use super::iter::{iterate, IomapOps, IterFlags, Mapped};
use super::map::{IomapFlags, MappingType};
use super::range::FileRange;
use crate::{
    error::{code::*, Result},
    pagecache::{Inode, InvalidateLockWrite},
    sched,
};

/// Zeroes one mapping of a zeroing iteration, as `iomap_zero_iter()`: holes and unwritten
/// extents read as zeroes already, unless dirty data in the cache says otherwise, in which
/// case the range is written back (converting what it must) and mapped again.
fn zero_mapped<O: IomapOps>(
    m: &mut Mapped<'_, O>,
    range_dirty: &mut bool,
    did_zero: &mut bool,
) -> Result<u64> {
    let src_type = m.srcmap().mapping_type()?;
    if matches!(src_type, MappingType::Hole | MappingType::Unwritten) {
        if !*range_dirty {
            // Clean and zeroed already: nothing to do.
            return Ok(m.range().len());
        }
        // Dirty cached data may lie over the extent, but writeback and reclaim may have moved
        // it since the mapping was made: write it back, then map what is there now.
        *range_dirty = false;
        m.mark_stale();
        let rest = m.rest();
        m.inode()
            .mapping()
            .write_and_wait_range(rest.start(), rest.end())?;
        return Ok(0);
    }

    let written = fill_mapped(m, Fill::Zeroes)?;
    *did_zero = true;
    Ok(written)
}

/// What [`fill_mapped`] puts in each folio.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// Zeroes, for zeroing.
    Zeroes,
    /// The data already there, read in whole, for unsharing.
    Existing,
}

/// Walks the folios of the mapping, as the loops of `iomap_zero_iter()` and
/// `iomap_unshare_iter()` do: locks each and revalidates the mapping, prepares the range,
/// fills it and commits it in place. Returns the bytes done; a stale mapping ends the walk
/// early, for the iterator to map the rest again.
fn fill_mapped<O: IomapOps>(m: &mut Mapped<'_, O>, fill: Fill) -> Result<u64> {
    let mapping = m.inode().mapping();
    let mut pos = m.range().start();
    let mut length = m.range().len();
    let mut done = 0u64;
    while length > 0 {
        let bytes = usize::try_from(length).unwrap_or(usize::MAX);
        let Some(folio) = m.lock_folio(pos, bytes)? else {
            // Stale: the iterator maps the rest again from `pos`.
            break;
        };
        let prepared = folio.prepare_write(bytes)?;
        let filled = match fill {
            Fill::Zeroes => prepared.zero()?,
            Fill::Existing => prepared.keep()?,
        };
        let commit = filled.commit_in_place();
        if commit.written == 0 {
            // A filled range is never short: the folio's state is not what the preparation
            // left it in.
            return Err(EIO);
        }
        pos += commit.written as i64;
        length -= commit.written as u64;
        done += commit.written as u64;
        if fill == Fill::Existing {
            sched::cond_resched();
            mapping.balance_dirty_pages(false)?;
        }
    }
    Ok(done)
}

/// Zeroes `range` of `inode` in the page cache, mapping it through `ops`: C's
/// `iomap_zero_range()`. Returns whether anything was zeroed in the cache (ranges over holes
/// and unwritten extents with no dirty data over them are skipped: they read as zeroes).
///
/// `lock` proves that the inode's `invalidate_lock` is held exclusively (`EINVAL` if it is
/// another mapping's); the caller also holds `i_rwsem`. Zeroing does not change the file size.
/// An error ends the zeroing and is returned, even after progress, as in C.
pub fn zero_range<O: IomapOps>(
    ops: &mut O,
    lock: &InvalidateLockWrite<'_>,
    inode: &Inode,
    range: FileRange,
) -> Result<bool> {
    control::count(Call::ZeroRange);
    if !core::ptr::eq(lock.mapping(), inode.mapping()) {
        return Err(EINVAL);
    }
    // Checking the cache once for the whole range and flushing when a hole or unwritten
    // mapping meets dirty data trades a spurious flush now and then for not racing writeback
    // and reclaim after each mapping lookup (as C does since 6.12).
    let mut range_dirty = inode
        .mapping()
        .range_needs_writeback(range.start(), range.end());
    let mut did_zero = false;
    let outcome = iterate(ops, inode, range, IterFlags::ZERO, |m| {
        zero_mapped(m, &mut range_dirty, &mut did_zero)
    });
    match outcome.error {
        Some(e) => Err(e),
        None => Ok(did_zero),
    }
}

/// Zeroes the rest of the block that holds `pos`, from `pos` on, as truncating the file to
/// `pos` requires: C's `iomap_truncate_page()`. Nothing at a block boundary. Locking and
/// results as [`zero_range`].
pub fn truncate_page<O: IomapOps>(
    ops: &mut O,
    lock: &InvalidateLockWrite<'_>,
    inode: &Inode,
    pos: i64,
) -> Result<bool> {
    control::count(Call::TruncatePage);
    let block_size = inode.block_size() as i64;
    let off = pos & (block_size - 1);
    if off == 0 {
        return Ok(false);
    }
    zero_range(
        ops,
        lock,
        inode,
        FileRange::from_pos_len(pos, (block_size - off) as u64)?,
    )
}

/// Unshares one mapping, as `iomap_unshare_iter()`: a shared extent with a separate source
/// (copy-on-write) is read into the cache and dirtied folio by folio, so that writeback writes
/// it out of place; anything else is skipped.
fn unshare_mapped<O: IomapOps>(m: &mut Mapped<'_, O>) -> Result<u64> {
    let wants_unshare = m.iomap().flags().contains(IomapFlags::SHARED)
        && m.separate_srcmap()
            .is_some_and(|s| matches!(s.mapping_type(), Ok(MappingType::Mapped)));
    if !wants_unshare {
        return Ok(m.range().len());
    }
    fill_mapped(m, Fill::Existing)
}

/// Unshares `[pos, pos + len)` of `inode` (cut at EOF), mapping it through `ops`: C's
/// `iomap_file_unshare()`. Blocks the file shares with another (reflink) are read into the
/// cache and dirtied, so that writeback gives the file copies of its own.
///
/// `lock` proves that the inode's `invalidate_lock` is held exclusively (`EINVAL` if it is
/// another mapping's); the caller also holds `i_rwsem`. A range at or beyond EOF does nothing.
pub fn file_unshare<O: IomapOps>(
    ops: &mut O,
    lock: &InvalidateLockWrite<'_>,
    inode: &Inode,
    pos: i64,
    len: u64,
) -> Result {
    control::count(Call::Unshare);
    if !core::ptr::eq(lock.mapping(), inode.mapping()) {
        return Err(EINVAL);
    }
    let size = inode.size();
    if pos < 0 || pos >= size {
        return Ok(());
    }
    // `size - pos` is positive.
    let range = FileRange::from_pos_len(pos, len.min((size - pos) as u64))?;
    let outcome = iterate(
        ops,
        inode,
        range,
        IterFlags::WRITE | IterFlags::UNSHARE,
        |m| unshare_mapped(m),
    );
    match outcome.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
