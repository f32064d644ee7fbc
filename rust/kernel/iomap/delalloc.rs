// SPDX-License-Identifier: GPL-2.0

//! Releasing the delayed-allocation space a short write reserved but did not use.
//!
//! C implementation: [`fs/iomap/buffered-io.c`](srctree/fs/iomap/buffered-io.c),
//! `iomap_write_delalloc_release()`.
//!
//! When a write ends short (an error, a faulting buffer, or now routinely a stale mapping), the
//! filesystem must remove the delalloc reservation it made in `begin` for the part that was not
//! written. It cannot simply punch the whole unused range and truncate the page cache over it:
//! a page fault may have dirtied folios inside that range through a shared mapping
//! (`page_mkwrite` adds delalloc under them), and removing their reservation or their cached data
//! loses the data (fstests generic/346).
//!
//! [`write_delalloc_release`] walks the page cache over the unused range with `SEEK_DATA` and
//! `SEEK_HOLE`, keeps the reservation under dirty folios and under the dirty blocks of folios
//! with several blocks, and punches everything else: holes in the cache, clean folios (their
//! data is on disk already or is zeroes from a read fault), clean blocks. It never touches the
//! page cache itself. The scan stops at EOF: cached data beyond EOF is never written back, so
//! delalloc there is always punched.
//!
//! With `CONFIG_IOMAP_RS_DEBUG`, the `release_punch_all` knob restores the behaviour before the
//! fix (drop the cached data of the range and punch all of it), so that the race tests can show
//! the data it destroys, and a test can park the release at the `release_punch` pause point.
//!
//! # Lock order
//!
//! `i_rwsem` (shared or exclusive), then the mapping's `invalidate_lock` held exclusively, which
//! keeps page faults from instantiating and dirtying folios during the walk, then each folio's
//! lock, then the punch callback, which takes the filesystem's extent lock. The routine takes an
//! [`InvalidateLockWrite`] for the inode's mapping, so calling it without the lock does not
//! compile. The punch callback is called with a folio locked (that keeps writeback from
//! allocating blocks at the edge of the range being punched): it must not lock folios itself,
//! and it must only remove delalloc extents within the range it is given.

#[cfg(CONFIG_IOMAP_RS_DEBUG)]
use super::control::Fix;
use super::control::{self, PausePoint};
use super::folio_state::FileFolio;
use super::range::FileRange;
use crate::{
    error::{code::*, Result},
    page::PAGE_SIZE,
    pagecache::{Inode, InvalidateLockWrite, Seek},
};

/// Removes the delalloc reservation of a byte range: the filesystem side of
/// [`write_delalloc_release`].
pub trait Punch {
    /// Removes the delalloc extents within `range` of `inode`, leaving every other extent alone.
    /// An error stops the release.
    fn punch(&mut self, inode: &Inode, range: FileRange) -> Result;
}

impl<F: FnMut(&Inode, FileRange) -> Result> Punch for F {
    fn punch(&mut self, inode: &Inode, range: FileRange) -> Result {
        self(inode, range)
    }
}

/// Walks the cached data in `[start, end)` with the folio at `start` and after locked in turn,
/// keeping the reservation under dirty data and punching the clean parts before it.
fn scan_data_range<P: Punch>(
    inode: &Inode,
    punch_start: &mut i64,
    mut start: i64,
    end: i64,
    punch: &mut P,
) -> Result {
    let mapping = inode.mapping();
    let block_bits = inode.block_bits();
    while start < end {
        let Some(folio) = mapping
            .lock_folio(start)
            .and_then(|folio| FileFolio::new(inode, folio).ok())
        else {
            // Gone since the seek (reclaim, or a racing invalidation): a hole to punch.
            start = (start & !(PAGE_SIZE as i64 - 1)).saturating_add(PAGE_SIZE as i64);
            continue;
        };
        let folio_start = folio.folio().pos();
        // Saturating: the folio holding the last possible byte ends at `2^63`.
        let folio_end = folio_start.saturating_add(folio.folio().size() as i64);
        if folio.folio().test_dirty() {
            // Everything clean before this dirty folio goes.
            if start > *punch_start {
                punch.punch(inode, FileRange::new(*punch_start, start)?)?;
            }
            // And within it, the clean blocks of the part we scan.
            let last = end.min(folio_end) - 1;
            let first_block = ((start - folio_start) >> block_bits) as u32;
            let last_block = ((last - folio_start) >> block_bits) as u32;
            for block in first_block..=last_block {
                if !folio.block_is_dirty(block) {
                    let block_start = folio_start + (i64::from(block) << block_bits);
                    punch.punch(
                        inode,
                        FileRange::from_pos_len_saturating(block_start, 1u64 << block_bits)?,
                    )?;
                }
            }
            // The next punch starts after this data range, not after the folio.
            *punch_start = end.min(folio_end);
        }
        start = folio_end;
        // `folio` is unlocked here, also when a punch above failed.
    }
    Ok(())
}

/// Punches the delalloc reservation in `range` of `inode` except under dirty cached data, as
/// C's `iomap_write_delalloc_release()` (see the [module documentation](self)).
///
/// `lock` proves that the inode's `invalidate_lock` is held exclusively. Fails with `EINVAL` if
/// it is the lock of another mapping, and with the error of the punch callback or of the page
/// cache walk, which stops the release with no folio locked. An empty range does nothing. As in
/// C, the range may extend beyond the filesystem's maximum file size (the rounded-up end of a
/// reservation near it): all of it is punched.
///
/// A filesystem's `end` callback calls it as:
///
/// ```text
/// let lock = inode.mapping().invalidate_lock_write();
/// write_delalloc_release(&lock, inode, unused, |inode: &Inode, r: FileRange| {
///     my_fs_remove_delalloc(inode, r)
/// })?;
/// ```
pub fn write_delalloc_release<P: Punch>(
    lock: &InvalidateLockWrite<'_>,
    inode: &Inode,
    range: FileRange,
    mut punch: P,
) -> Result {
    // The walk reads iomap's per-block dirty state: only a page cache that iomap manages has it.
    if !core::ptr::eq(lock.mapping(), inode.mapping()) || !inode.iomap_managed() {
        return Err(EINVAL);
    }
    #[cfg(CONFIG_IOMAP_RS_DEBUG)]
    if !control::fix_enabled(Fix::ReleaseKeepsDirty) {
        // Before the fix: whatever a page fault dirtied in the range is lost.
        lock.discard_cached_range(inode, range.start(), range.end())?;
        return punch.punch(inode, range);
    }
    let (mut start, end) = (range.start(), range.end());
    let mapping = inode.mapping();
    let mut punch_start = start;
    // Cached data beyond EOF is never written back: punch its delalloc too.
    let scan_end = inode.size().min(end);
    control::pause(PausePoint::ReleasePunch, inode, range.start());

    while start < scan_end {
        let data = match mapping.seek_hole_data(start, scan_end, Seek::Data) {
            Ok(data) => data,
            Err(e) if e == ENXIO => break,
            Err(e) => return Err(e),
        };
        if data == scan_end {
            break;
        }
        if data < punch_start || data > scan_end {
            return Err(EIO);
        }
        let data_end = mapping.seek_hole_data(data, scan_end, Seek::Hole)?;
        if data_end == data {
            // The data went away since the first seek (direct I/O invalidation): look again.
            start = data;
            continue;
        }
        if data_end < data || data_end > scan_end {
            return Err(EIO);
        }
        scan_data_range(inode, &mut punch_start, data, data_end, &mut punch)?;
        start = data_end;
    }

    if punch_start < end {
        punch.punch(inode, FileRange::new(punch_start, end)?)?;
    }
    Ok(())
}
