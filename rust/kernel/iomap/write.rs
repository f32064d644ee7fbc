// SPDX-License-Identifier: GPL-2.0

//! The buffered write path: copy user data into the page cache, one folio at a time, under a
//! cached mapping that is revalidated for every folio.
//!
//! C implementation: [`fs/iomap/buffered-io.c`](srctree/fs/iomap/buffered-io.c),
//! `iomap_file_buffered_write()` and `iomap_write_iter()`.
//!
//! # The race this module closes
//!
//! A write maps a range once ([`IomapOps::begin`]) and then walks the folios under that cached
//! mapping. Meanwhile writeback can complete I/O to an unwritten extent of the same range and
//! convert it to written, and reclaim can then evict a folio that held partially written data
//! and is now clean. When the write reaches that offset it instantiates a new folio, still
//! believes the extent is unwritten, and zeroes the parts of the folio it does not overwrite:
//! the data already on disk is lost when the folio is written back.
//!
//! The cure (as in C since 6.2) is to ask the filesystem, after locking each folio and before
//! doing anything to it, whether the cached mapping still matches its extent tree (a validity
//! cookie, such as an extent-tree generation counter). If it does not, the mapping is marked
//! [`IomapFlags::STALE`], the folio is released untouched, this pass ends as a short write, and
//! the iterator maps the rest of the range again.
//!
//! In C the check is a convention: the one call in `iomap_write_begin()` that every path must
//! pass through. Here it is a type: every operation that reads into, zeroes, copies into or
//! changes the state of a folio is a method of [`ValidatedFolio`], and the only way to get one
//! is [`Mapped::validate`] on a [`LockedFolio`]. A [`LockedFolio`] has no such methods, so
//! writing through a folio whose mapping was not revalidated does not compile:
//!
//! ```text
//! let folio = m.get_folio(inode, pos, len)?;
//! folio.copy_from_iter(pos, len, from);   // error[E0599]: no method named `copy_from_iter`
//! ```
//!
//! (`tools/testing/iomap_rs/ui/` holds that program, and `make lint` checks that it fails to
//! compile with E0599.)
//!
//! # Lock order
//!
//! The caller holds `i_rwsem` exclusively (as for `iomap_file_buffered_write()`), which
//! serialises file size updates. Under it, the filesystem's `begin`/`end` take its own locks,
//! and each folio is locked on its own, after [`Mapping::balance_dirty_pages`] and after
//! faulting in the user buffer: copying from user memory happens with page faults disabled
//! while the folio is locked, and a short copy is retried with a smaller chunk.

use super::iter::{iterate, IomapOps, IterFlags, Mapped};
use super::map::{IomapFlags, MappingType};
use super::range::FileRange;
use crate::{
    bindings,
    error::{code::*, to_result, Result},
    folio::{Folio, LockedFolio},
    page::PAGE_SIZE,
    pagecache::Inode,
    uio::{IovIter, Kiocb},
};
use core::{mem::ManuallyDrop, ptr};

/// A locked folio under a mapping that the filesystem confirmed valid after the lock was taken:
/// the only handle through which the write path modifies a folio.
///
/// Created by [`Mapped::validate`]. Dropping it, or [`ValidatedFolio::finish`], hands the folio
/// back to the filesystem ([`IomapOps::put_folio`]), which unlocks it.
///
/// # Invariants
///
/// - `folio` is locked and referenced (it is a [`LockedFolio`]), and it holds the position the
///   write is at.
/// - `mapped.ops.iomap_valid()` returned true for `mapped.iomap` after `folio` was locked (or
///   validation was disabled with the `skip_validation` debug knob).
/// - `span` is the folio's byte range in the file, which cannot change while it is locked.
pub struct ValidatedFolio<'m, 'a, O: IomapOps> {
    mapped: &'m mut Mapped<'a, O>,
    inode: &'m Inode,
    folio: ManuallyDrop<LockedFolio>,
    span: FileRange,
}

impl<'a, O: IomapOps> Mapped<'a, O> {
    /// Gets the folio at `pos` locked, for a write of up to `len` bytes
    /// ([`IomapOps::get_folio`]). The folio cannot be modified until [`Mapped::validate`] says
    /// the mapping is still valid.
    pub fn get_folio(&mut self, inode: &Inode, pos: i64, len: usize) -> Result<LockedFolio> {
        let flags = self.flags();
        self.ops.get_folio(inode, self.iomap, pos, len, flags)
    }

    /// Asks the filesystem whether the mapping is still valid now that `folio` is locked.
    ///
    /// Returns the handle that allows modifying the folio if it is. If it is not, marks the
    /// mapping [`IomapFlags::STALE`], releases the folio untouched through
    /// [`IomapOps::put_folio`] and returns `None`: the caller ends this pass with the progress it
    /// made, and the iterator maps the rest of the range again.
    pub fn validate<'m>(
        &'m mut self,
        inode: &'m Inode,
        folio: LockedFolio,
    ) -> Option<ValidatedFolio<'m, 'a, O>> {
        // Fault injection: widen the window between taking the folio lock and the check. The
        // knobs are read without a call, as `READ_ONCE()` would: they are off on the fast path.
        // SAFETY: A `u32` that only debugfs writes; a racy read sees the old or the new value.
        let delay =
            unsafe { ptr::read_volatile(ptr::addr_of!(bindings::iomap_rs_validate_delay_ms)) };
        if delay != 0 {
            // SAFETY: FFI call without safety requirements; it sleeps, as the folio lock may.
            unsafe { bindings::msleep(delay) };
        }
        // SAFETY: A `bool` that only debugfs writes, with `true` or `false`.
        let skip = unsafe { ptr::read_volatile(ptr::addr_of!(bindings::iomap_rs_skip_validation)) };
        if !skip && !self.ops.iomap_valid(self.iomap) {
            self.iomap.mark_stale();
            let pos = folio.pos();
            self.ops.put_folio(inode, self.iomap, pos, 0, folio);
            return None;
        }
        // The folio holding the last byte a file can have ends at `2^63`: saturate. Its position
        // is not negative, so this cannot fail; if it did, the folio goes back untouched.
        let Ok(span) = FileRange::from_pos_len_saturating(folio.pos(), folio.size() as u64) else {
            let pos = folio.pos();
            self.ops.put_folio(inode, self.iomap, pos, 0, folio);
            return None;
        };
        // INVARIANT: The folio is locked, the mapping was found valid after it was locked, and
        // `span` was read under the lock.
        Some(ValidatedFolio {
            mapped: self,
            inode,
            folio: ManuallyDrop::new(folio),
            span,
        })
    }
}

impl<O: IomapOps> ValidatedFolio<'_, '_, O> {
    /// The folio, for reading its properties.
    pub fn folio(&self) -> &Folio {
        &self.folio
    }

    /// The folio-relative byte range `[off, off + len)` of the write `[pos, pos + len)`, which
    /// must lie within both the folio and the mapping.
    fn folio_span(&self, pos: i64, len: usize) -> Result<(usize, usize)> {
        let write = FileRange::from_pos_len(pos, len as u64).map_err(|_| EIO)?;
        if write.intersection(&self.span) != write
            || write.intersection(&self.mapped.range()) != write
        {
            return Err(EIO);
        }
        // Within the folio, so the offset fits in `usize`.
        Ok(((pos - self.span.start()) as usize, len))
    }

    /// The file offset just past the folio (saturated at the largest `loff_t`).
    pub fn end(&self) -> i64 {
        self.span.end()
    }

    /// Brings the blocks of the folio that the write `[pos, pos + len)` only partly covers up to
    /// date before it is copied in: zeroes those with no data on disk (holes, unwritten, new or
    /// beyond EOF) and reads the others from the source mapping, as `__iomap_write_begin()`.
    /// Per-block state is that of `struct iomap_folio_state`, shared with the C read and
    /// writeback paths.
    pub fn prepare_write(&mut self, pos: i64, len: usize) -> Result {
        let (from, _) = self.folio_span(pos, len)?;
        let to = from + len;
        let flags = self.mapped.flags();
        let unshare = flags.contains(IterFlags::UNSHARE);
        let srcmap = self.mapped.srcmap();
        if srcmap.mapping_type()? == MappingType::Inline
            || srcmap.flags().bits() & bindings::IOMAP_F_BUFFER_HEAD as u16 != 0
        {
            // Inline data and buffer heads (gfs2) are not implemented by iomap_rs.
            return Err(ENOTSUPP);
        }
        let fsize = self.span.len() as usize;
        // A write covering the whole folio dirties all of it: no per-block state is needed.
        if !unshare && from == 0 && to == fsize {
            return Ok(());
        }
        let folio = self.folio.as_raw();
        let inode = self.inode.as_raw();
        // SAFETY: The folio is locked (type invariant), the inode is alive.
        to_result(unsafe { bindings::iomap_folio_state_prepare(inode, folio, flags.bits()) })?;
        if self.folio.test_uptodate() {
            return Ok(());
        }

        let block_size = self.inode.block_size() as i64;
        let size = self.inode.size();
        let mut block_start = pos & !(block_size - 1);
        // Rounded up in `u64`, where it cannot overflow, then cut at the largest `loff_t`.
        let block_end = ((pos + len as i64) as u64)
            .next_multiple_of(block_size as u64)
            .min(i64::MAX as u64) as i64;
        while block_start < block_end {
            let (mut poff, mut plen) = (0usize, 0usize);
            // SAFETY: The folio is locked, the pointers are to live locals; the C function only
            // reads the folio's state and writes the outputs.
            unsafe {
                bindings::iomap_folio_adjust_read_range(
                    inode,
                    folio,
                    &mut block_start,
                    block_end - block_start,
                    &mut poff,
                    &mut plen,
                )
            };
            if plen == 0 {
                break;
            }
            let write_straddles =
                (from > poff && from < poff + plen) || (to > poff && to < poff + plen);
            if unshare || write_straddles {
                let needs_zeroing = srcmap.mapping_type()? != MappingType::Mapped
                    || srcmap.flags().contains(IomapFlags::NEW)
                    || block_start >= size;
                if needs_zeroing {
                    if unshare {
                        return Err(EIO);
                    }
                    // SAFETY: The folio is locked; `poff + plen <= fsize` and the write
                    // `[from, to)` lies within the folio (checked above), so both segments are
                    // within it.
                    unsafe { bindings::folio_zero_segments(folio, poff, from, to, poff + plen) };
                } else {
                    if flags.contains(IterFlags::NOWAIT) {
                        return Err(EAGAIN);
                    }
                    // SAFETY: The folio is locked and `[poff, poff + plen)` lies within it;
                    // `srcmap` maps `block_start` (it covers the write's range).
                    to_result(unsafe {
                        bindings::iomap_folio_read_sync(
                            block_start,
                            folio,
                            poff,
                            plen,
                            srcmap.as_ptr(),
                        )
                    })?;
                }
                // SAFETY: The folio is locked and the range lies within it.
                unsafe { bindings::iomap_folio_set_range_uptodate(folio, poff, plen) };
            }
            block_start += plen as i64;
        }
        Ok(())
    }

    /// Copies up to `bytes` bytes from `from` into the folio at file position `pos`, with page
    /// faults disabled, and returns how many were copied (fewer if the user buffer faulted).
    pub fn copy_from_iter(&mut self, pos: i64, bytes: usize, from: &mut IovIter) -> usize {
        let Ok((off, len)) = self.folio_span(pos, bytes) else {
            return 0;
        };
        let folio = self.folio.as_raw();
        if self.inode.mapping().writably_mapped() {
            flush_dcache(folio);
        }
        // SAFETY: The folio is locked and `[off, off + len)` lies within it; the iterator is
        // exclusively ours. The copy is atomic (no page faults), as required under a folio lock.
        unsafe { bindings::copy_folio_from_iter_atomic(folio, off, len, from.as_raw()) }
    }

    /// Completes the write of `copied` of `len` bytes at `pos`, as `__iomap_write_end()`: marks
    /// the written blocks uptodate and dirty and the folio dirty. Returns `false`, changing
    /// nothing, for a short copy into a folio that is not uptodate: the partly written block
    /// could be overwritten by a read, so the caller must redo the whole copy.
    pub fn commit_write(&mut self, pos: i64, len: usize, copied: usize) -> bool {
        let Ok((off, len)) = self.folio_span(pos, len) else {
            return false;
        };
        let folio = self.folio.as_raw();
        flush_dcache(folio);
        if copied < len && !self.folio.test_uptodate() {
            return false;
        }
        let copied = copied.min(len);
        // SAFETY: The folio is locked, the ranges lie within it; the mapping is the folio's.
        unsafe {
            bindings::iomap_folio_set_range_uptodate(folio, off, len);
            bindings::iomap_folio_set_range_dirty(folio, off, copied);
            bindings::filemap_dirty_folio(self.inode.mapping().as_raw(), folio);
        }
        true
    }

    /// Extends the in-memory file size to `end` if that is beyond it, while the folio that
    /// holds the new data is still locked, and records it in the mapping
    /// ([`IomapFlags::SIZE_CHANGED`]). Returns the size before.
    ///
    /// # Safety
    ///
    /// The caller holds `i_rwsem` exclusively, serialising size updates.
    pub unsafe fn extend_size(&mut self, end: i64) -> i64 {
        let old = self.inode.size();
        if end > old {
            // SAFETY: The caller serialises size updates.
            unsafe { self.inode.write_size(end) };
            self.mapped.iomap.mark_size_changed();
        }
        old
    }

    /// Hands the folio back to the filesystem after `copied` bytes were written at `pos`.
    pub fn finish(mut self, pos: i64, copied: usize) {
        self.put(pos, copied);
        core::mem::forget(self);
    }

    fn put(&mut self, pos: i64, copied: usize) {
        // SAFETY: Called once, from `finish` (which then forgets `self`) or from `drop`.
        let folio = unsafe { ManuallyDrop::take(&mut self.folio) };
        self.mapped
            .ops
            .put_folio(self.inode, self.mapped.iomap, pos, copied, folio);
    }
}

impl<O: IomapOps> Drop for ValidatedFolio<'_, '_, O> {
    fn drop(&mut self) {
        let pos = self.folio.pos();
        self.put(pos, 0);
    }
}

/// `flush_dcache_folio()` on a locked folio, skipped at compile time on architectures where it
/// is empty (as C's inline is).
#[inline]
fn flush_dcache(folio: *mut bindings::folio) {
    if bindings::IOMAP_RS_ARCH_FLUSHES_DCACHE != 0 {
        // SAFETY: The callers pass a locked folio they hold a reference to.
        unsafe { bindings::flush_dcache_folio(folio) };
    }
}

/// Cleans up after a write into `[pos, pos + len)` failed: folios instantiated beyond EOF are
/// removed, as `iomap_write_failed()`.
fn write_failed(inode: &Inode, pos: i64, len: usize) {
    let size = inode.size();
    let end = pos + len as i64;
    if end > size {
        inode.truncate_pagecache_range(pos.max(size), end - 1);
    }
}

/// Whether the current task has a fatal signal pending.
#[inline]
fn fatal_signal_pending() -> bool {
    // SAFETY: `get_current()` returns the running task, which is alive while it runs.
    unsafe { bindings::fatal_signal_pending(bindings::get_current()) }
}

/// A stale mapping detected by the write path, reported once the rest of the range is mapped
/// again (or the write ends).
struct StaleMapping {
    offset: i64,
    length: u64,
    cookie: u64,
}

fn note_stale(inode: &Inode, stale: StaleMapping, new_cookie: Option<u64>) {
    // SAFETY: The inode is alive.
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

/// Copies as much of `from` as the mapping allows into the page cache, as `iomap_write_iter()`.
/// Returns the bytes written, or the error that stopped the write before any were.
///
/// # Safety
///
/// The caller holds `inode`'s `i_rwsem` exclusively.
unsafe fn write_mapped<O: IomapOps>(
    m: &mut Mapped<'_, O>,
    inode: &Inode,
    from: &mut IovIter,
) -> Result<u64> {
    let mapping = inode.mapping();
    let nowait = m.flags().contains(IterFlags::NOWAIT);
    // `PAGE_SIZE` without large folio support, so chunks never cross a page then (the
    // separate `mapping_large_folio_support()` clamp of C is implied).
    let mut chunk = mapping.max_folio_size();
    let mut pos = m.range().start();
    let mut length = m.range().len();
    let mut total: u64 = 0;
    let mut status = Ok(());
    let mut retry_bytes = None;

    while length > 0 && from.count() > 0 {
        // A power of two, at least a page.
        let offset = (pos as usize) & (chunk - 1);
        let mut bytes = retry_bytes
            .take()
            .unwrap_or(from.count())
            .min(chunk - offset);
        if let Err(e) = mapping.balance_dirty_pages(nowait) {
            status = Err(e);
            break;
        }
        bytes = bytes.min(usize::try_from(length).unwrap_or(usize::MAX));

        // Fault in the user pages first: copying from a page of the folio being written, not yet
        // uptodate, would deadlock if the fault happened under the folio lock.
        if from.fault_in_readable(bytes) == bytes {
            status = Err(EFAULT);
            break;
        }
        if fatal_signal_pending() {
            write_failed(inode, pos, bytes);
            status = Err(EINTR);
            break;
        }
        let folio = match m.get_folio(inode, pos, bytes) {
            Ok(folio) => folio,
            Err(e) => {
                write_failed(inode, pos, bytes);
                status = Err(e);
                break;
            }
        };
        let Some(mut folio) = m.validate(inode, folio) else {
            // Stale: a short write; the iterator remaps from `pos`.
            break;
        };

        bytes = bytes.min((folio.end() - pos) as usize);
        if let Err(e) = folio.prepare_write(pos, bytes) {
            drop(folio);
            write_failed(inode, pos, bytes);
            status = Err(e);
            break;
        }
        let copied = folio.copy_from_iter(pos, bytes, from);
        let written = if folio.commit_write(pos, bytes, copied) {
            copied
        } else {
            0
        };
        // Update the in-memory size after copying the data in and before unlocking the folio;
        // writing the size to disk is the filesystem's business, after I/O completion.
        // SAFETY: The caller holds `i_rwsem` exclusively.
        let old_size = unsafe { folio.extend_size(pos + written as i64) };
        folio.finish(pos, written);
        if old_size < pos {
            inode.pagecache_size_extended(old_size, pos);
        }
        // SAFETY: FFI call without safety requirements; we hold no spinlock.
        unsafe { bindings::cond_resched() };

        if written == 0 {
            // A short copy into a folio that was not uptodate was rejected entirely (memory
            // poisoning, a race with munmap, memory pressure): retry with what could be copied,
            // in smaller chunks.
            write_failed(inode, pos, bytes);
            // SAFETY: `copied` bytes were just consumed from `from`.
            unsafe { from.revert(copied) };
            if chunk > PAGE_SIZE {
                chunk /= 2;
            }
            if copied > 0 {
                retry_bytes = Some(copied);
            }
        } else {
            pos += written as i64;
            total += written as u64;
            length -= written as u64;
        }
    }
    if total > 0 {
        Ok(total)
    } else {
        status.map(|()| 0)
    }
}

/// Writes `from` into the page cache of `iocb`'s file at `iocb`'s position, mapping the range
/// through `ops`, and advances the position: C's `iomap_file_buffered_write()`.
///
/// Returns the bytes written, which are fewer than requested if the write stopped early (a
/// faulting buffer, a fatal signal, an error after some progress), or the error if nothing
/// was written. Every folio is revalidated against its cached mapping ([`Mapped::validate`]);
/// a stale mapping is remapped and the write carries on.
///
/// # Safety
///
/// The caller holds the inode's `i_rwsem` exclusively and has done the checks of
/// `generic_write_checks()` (the range is within `s_maxbytes` and the file's limits).
pub unsafe fn buffered_write<O: IomapOps>(
    ops: &mut O,
    iocb: &mut Kiocb,
    from: &mut IovIter,
) -> Result<usize> {
    let inode = iocb.inode();
    let start = iocb.pos();
    let range = FileRange::from_pos_len(start, from.count() as u64)?;
    let mut flags = IterFlags::WRITE;
    if iocb.is_nowait() {
        flags = flags | IterFlags::NOWAIT;
    }

    let mut stale: Option<StaleMapping> = None;
    let outcome = iterate(ops, range, flags, |m| {
        if let Some(s) = stale.take() {
            note_stale(inode, s, Some(m.iomap().validity_cookie()));
        }
        // SAFETY: The caller holds `i_rwsem` exclusively.
        let ret = unsafe { write_mapped(m, inode, from) };
        if m.iomap().is_stale() {
            stale = Some(StaleMapping {
                offset: m.iomap().range().map_or(0, |r| r.start()),
                length: m.iomap().length(),
                cookie: m.iomap().validity_cookie(),
            });
        }
        ret
    });
    if let Some(s) = stale {
        note_stale(inode, s, None);
    }

    let done = outcome.into_result()?;
    if done > 0 {
        iocb.set_pos(start + done as i64);
    }
    // At most `from.count()`, a `usize`.
    Ok(done as usize)
}
