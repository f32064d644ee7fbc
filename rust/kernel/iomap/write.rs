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
//! In C the check is a convention: the one call in `iomap_write_begin()` that every path must pass
//! through. Here it is a type: every operation that reads into, zeroes, copies into or changes the
//! state of a folio is a method of the handles below, and the only way to get the first one is
//! [`Mapped::lock_folio`], which locks the folio and revalidates the mapping in one step. A
//! [`LockedFolio`](crate::folio::LockedFolio) has no such methods, so writing through a folio whose
//! mapping was not revalidated does not compile (`tools/testing/iomap_rs/ui/` holds such programs,
//! each checked to fail with its error code).
//!
//! # The write protocol, as types
//!
//! A folio is written in four steps, each consuming the handle of the one before, so none can
//! be skipped or reordered:
//!
//! - [`ValidatedFolio`]: the folio of the iteration's inode holding the write position, locked,
//!   under a mapping the filesystem confirmed valid after the lock was taken;
//! - [`PreparedWrite`]: the blocks the write only partly covers were brought up to date (read
//!   or zeroed);
//! - [`CopiedWrite`]: the data was copied in;
//! - [`CopiedWrite::commit`]: the written range is marked uptodate and dirty, the file size
//!   extended (which takes the [`InodeLock`] that serialises size changes), the folio released.
//!
//! Marking a range uptodate before data is there would let `read(2)` return whatever the
//! freshly allocated folio held. All handles borrow the [`Mapped`] of the current pass, so
//! none outlives it: no folio stays locked across the filesystem's `end` and the next `begin`.
//! Dropping a handle releases its folio through [`IomapOps::put_folio`]; a [`CopiedWrite`]
//! dropped without a commit still keeps the data it put in an uptodate folio, dirty.
//!
//! # Lock order
//!
//! The caller holds `i_rwsem` exclusively (as for `iomap_file_buffered_write()`), which serialises
//! file size updates: [`buffered_write`] takes the [`InodeLock`] that proves it. Under it, the
//! filesystem's `begin`/`end` take its own locks, and each folio is locked on its own, after
//! [`Mapping::balance_dirty_pages`] and after faulting in the user buffer: copying from user memory
//! happens with page faults disabled while the folio is locked, and a short copy is retried with a
//! smaller chunk.
//!
//! [`Mapping::balance_dirty_pages`]: crate::pagecache::Mapping::balance_dirty_pages

use super::control::{self, Call, Fix, PausePoint, StaleMapping};
use super::folio_state::FileFolio;
use super::iter::{iterate, IomapOps, IterFlags, Mapped};
use super::map::{IomapFlags, MappingType};
use super::range::FileRange;
use crate::{
    bindings,
    error::{code::*, Error, Result},
    folio::{self, Folio},
    page::PAGE_SIZE,
    pagecache::{Inode, InodeLock},
    sched,
    uio::{Consumed, IovIter, Kiocb},
};

/// A locked folio under a mapping that the filesystem confirmed valid after the lock was taken:
/// the first state of a folio write (see the [module documentation](self)).
///
/// Created by [`Mapped::lock_folio`]. Dropping it hands the folio back to the filesystem
/// ([`IomapOps::put_folio`]) untouched.
///
/// # Invariants
///
/// - `folio` is `Some` until the folio is handed back; it is locked and in the page cache of
///   `mapped.inode` (`FileFolio`), and it holds the write position `pos`.
/// - `mapped.ops.iomap_valid()` returned true for `mapped.iomap` after `folio` was locked (or
///   validation was disabled with the `skip_validation` debug knob).
/// - `span` is the folio's byte range in the file, which cannot change while it is locked.
pub struct ValidatedFolio<'m, 'a, O: IomapOps> {
    mapped: &'m mut Mapped<'a, O>,
    folio: Option<FileFolio<'a>>,
    pos: i64,
    span: FileRange,
}

impl<'a, O: IomapOps> Mapped<'a, O> {
    /// Gets the folio holding `pos` locked, for a write of up to `len` bytes
    /// ([`IomapOps::get_folio`]), and asks the filesystem whether the mapping is still valid now
    /// that it is locked ([`IomapOps::iomap_valid`]).
    ///
    /// Returns the handle that allows modifying the folio if it is. If it is not, marks the
    /// mapping [`IomapFlags::STALE`], releases the folio untouched through
    /// [`IomapOps::put_folio`] and returns `None`: the caller ends this pass with the progress it
    /// made, and the iterator maps the rest of the range again. `EIO` if `pos` is not in this
    /// mapping's range, or if `get_folio` returned a folio that is not the inode's folio at
    /// `pos` (it is handed back); the error of `get_folio` if it failed.
    #[inline(always)]
    pub fn lock_folio<'m>(
        &'m mut self,
        pos: i64,
        len: usize,
    ) -> Result<Option<ValidatedFolio<'m, 'a, O>>> {
        if !self.range().contains(pos) {
            return Err(EIO);
        }
        let inode: &'a Inode = self.inode;
        let flags = self.flags();
        let folio = self.ops.get_folio(inode, self.iomap, pos, len, flags)?;
        let folio = match FileFolio::new(inode, folio) {
            Ok(folio) => folio,
            Err(folio) => {
                self.ops.put_folio(inode, self.iomap, pos, 0, folio);
                return Err(EIO);
            }
        };
        // The folio holding the last byte a file can have ends at `2^63`: saturate.
        let span =
            FileRange::from_pos_len_saturating(folio.folio().pos(), folio.folio().size() as u64);
        let span = match span {
            Ok(span) if span.contains(pos) => span,
            _ => {
                self.ops
                    .put_folio(inode, self.iomap, pos, 0, folio.into_inner());
                return Err(EIO);
            }
        };
        control::validate_delay();
        let point = if flags.contains(IterFlags::ZERO) {
            PausePoint::ZeroValidate
        } else {
            PausePoint::WriteValidate
        };
        control::pause(point, inode, pos);
        if control::fix_enabled(Fix::Revalidation) && !self.ops.iomap_valid(self.iomap) {
            self.iomap.mark_stale();
            self.ops
                .put_folio(inode, self.iomap, pos, 0, folio.into_inner());
            return Ok(None);
        }
        // INVARIANT: The folio is locked, the inode's and holds `pos`; the mapping was found
        // valid after it was locked, and `span` was read under the lock.
        Ok(Some(ValidatedFolio {
            mapped: self,
            folio: Some(folio),
            pos,
            span,
        }))
    }
}

impl<'a, O: IomapOps> Mapped<'a, O> {
    /// Dirties `folio`, locked by the caller for the whole iteration (a write fault), under this
    /// mapping, as `iomap_folio_mkwrite_iter()`: revalidates the mapping now that the folio is
    /// locked and the filesystem has mapped (and reserved) the range, and marks every block of
    /// the folio dirty. Returns the bytes processed: the mapping's, or nothing if it went stale,
    /// marking it so for the iterator to map the range again.
    ///
    /// `EIO` if the folio is not the inode's folio holding the mapping's start, or not uptodate
    /// (a fault maps only uptodate folios; C warns); `EOPNOTSUPP` for buffer heads.
    pub(crate) fn dirty_locked_folio(&mut self, folio: &mut FileFolio<'_>) -> Result<u64> {
        let start = folio.folio().pos();
        let in_folio = self.range().start() >= start
            && self.range().start() - start < folio.folio().size() as i64;
        if !core::ptr::eq(folio.inode(), self.inode) || !in_folio {
            return Err(EIO);
        }
        control::validate_delay();
        control::pause(PausePoint::MkwriteValidate, self.inode, start);
        if control::fix_enabled(Fix::Revalidation) && !self.ops.iomap_valid(self.iomap) {
            self.iomap.mark_stale();
            return Ok(0);
        }
        if self.iomap.flags().intersects(IomapFlags::BUFFER_HEAD) {
            return Err(Error::from_errno(-(bindings::EOPNOTSUPP as i32)));
        }
        if !folio.folio().test_uptodate() {
            return Err(EIO);
        }
        // `iomap_dirty_folio()`: per-block state, every block dirty, the folio dirty.
        folio.prepare_state(self.flags())?;
        folio.set_range_dirty(0, folio.folio().size());
        folio.mark_dirty();
        Ok(self.range().len())
    }
}

impl<'m, 'a, O: IomapOps> ValidatedFolio<'m, 'a, O> {
    /// The folio, for reading its properties.
    pub fn folio(&self) -> &Folio {
        self.file_folio().folio()
    }

    /// The write position the folio was locked for.
    pub fn pos(&self) -> i64 {
        self.pos
    }

    /// The file offset just past the folio (saturated at the largest `loff_t`).
    pub fn end(&self) -> i64 {
        self.span.end()
    }

    fn file_folio(&self) -> &FileFolio<'a> {
        // By the type invariant the folio is there until it is handed back, which happens only
        // as the handle is consumed.
        self.folio.as_ref().expect("folio handed back twice")
    }

    fn file_folio_mut(&mut self) -> &mut FileFolio<'a> {
        self.folio.as_mut().expect("folio handed back twice")
    }

    /// Hands the folio back to the filesystem after `copied` bytes were written at the write
    /// position. Called once: the folio is gone afterwards.
    #[inline]
    fn put(&mut self, copied: usize) {
        if let Some(folio) = self.folio.take() {
            let inode = self.mapped.inode;
            self.mapped.ops.put_folio(
                inode,
                self.mapped.iomap,
                self.pos,
                copied,
                folio.into_inner(),
            );
        }
    }

    /// Brings the blocks of the folio that the write of `len` bytes at [`Self::pos`] only partly
    /// covers up to date before it is copied in, as `__iomap_write_begin()`: zeroes those with
    /// no data on disk (holes, unwritten, new or beyond EOF) and reads the others from the
    /// source mapping. Per-block state is that of `struct iomap_folio_state`, shared with the C
    /// read and writeback paths.
    ///
    /// `len` is cut at the end of the folio and of the mapping ([`PreparedWrite::len`]). On an
    /// error the folio is handed back untouched; `EOPNOTSUPP` for inline data and buffer heads,
    /// which iomap_rs does not implement.
    #[inline(always)]
    pub fn prepare_write(mut self, len: usize) -> Result<PreparedWrite<'m, 'a, O>> {
        let pos = self.pos;
        let limit = self.span.end().min(self.mapped.range().end());
        // `pos` lies in the folio and the mapping, so the difference is positive and fits a
        // folio's size.
        let len = len.min((limit - pos) as usize);
        let from = (pos - self.span.start()) as usize;
        let to = from + len;
        let flags = self.mapped.flags();
        let unshare = flags.contains(IterFlags::UNSHARE);
        let srcmap = self.mapped.srcmap();
        let src_type = srcmap.mapping_type()?;
        if src_type == MappingType::Inline || srcmap.flags().intersects(IomapFlags::BUFFER_HEAD) {
            return Err(Error::from_errno(-(bindings::EOPNOTSUPP as i32)));
        }
        let fsize = self.span.len() as usize;
        // A write covering the whole folio dirties all of it: no per-block state is needed.
        if unshare || from != 0 || to != fsize {
            // On an error, `self` hands the folio back as it is dropped.
            self.prepare_blocks(pos, from, len, src_type)?;
        }
        // INVARIANT: `[from, from + len)` is cut at the end of the folio and of the mapping, and
        // covers the whole folio, or `prepare_blocks` made the blocks it partly covers uptodate.
        Ok(PreparedWrite {
            folio: self,
            off: from,
            len,
        })
    }

    /// [`Self::prepare_write`] of a write that does not cover the whole folio, or unshares:
    /// the folio's per-block state, and the blocks the write partly covers read or zeroed. Out
    /// of line, so that the whole-folio case stays small enough to be inlined; it borrows the
    /// handle rather than moving it in and out.
    #[inline(never)]
    fn prepare_blocks(
        &mut self,
        pos: i64,
        from: usize,
        len: usize,
        src_type: MappingType,
    ) -> Result {
        let to = from + len;
        let flags = self.mapped.flags();
        let unshare = flags.contains(IterFlags::UNSHARE);
        self.file_folio_mut().prepare_state(flags)?;
        if self.folio().test_uptodate() {
            return Ok(());
        }

        let inode = self.mapped.inode;
        let block_size = inode.block_size() as i64;
        let size = inode.size();
        let needs_zeroing = src_type != MappingType::Mapped
            || self.mapped.srcmap().flags().contains(IomapFlags::NEW);
        let mut block_start = pos & !(block_size - 1);
        // Rounded up in `u64`, where it cannot overflow, then cut at the largest `loff_t`.
        let block_end = ((pos + len as i64) as u64)
            .next_multiple_of(block_size as u64)
            .min(i64::MAX as u64) as i64;
        while block_start < block_end {
            let remaining = block_end - block_start;
            let (poff, plen) = self
                .file_folio()
                .adjust_read_range(&mut block_start, remaining);
            if plen == 0 {
                break;
            }
            let write_straddles =
                (from > poff && from < poff + plen) || (to > poff && to < poff + plen);
            if unshare || write_straddles {
                if needs_zeroing || block_start >= size {
                    if unshare {
                        return Err(EIO);
                    }
                    self.file_folio_mut()
                        .zero_segments(poff, from, to, poff + plen)?;
                } else {
                    if flags.contains(IterFlags::NOWAIT) {
                        return Err(EAGAIN);
                    }
                    // `Mapped::srcmap()`, with the borrows split: the source mapping is read
                    // while the folio is written.
                    let src = self.mapped.srcmap;
                    let src = if matches!(src.mapping_type(), Ok(MappingType::Hole)) {
                        &*self.mapped.iomap
                    } else {
                        src
                    };
                    let folio = self.folio.as_mut().ok_or(EIO)?;
                    folio.read_sync(block_start, poff, plen, src)?;
                }
                self.file_folio_mut().set_range_uptodate(poff, plen);
            }
            block_start += plen as i64;
        }
        Ok(())
    }
}

impl<O: IomapOps> Drop for ValidatedFolio<'_, '_, O> {
    #[inline]
    fn drop(&mut self) {
        self.put(0);
    }
}

/// A folio whose blocks the write only partly covers are up to date: the second state of a
/// folio write. Dropping it hands the folio back untouched.
///
/// # Invariants
///
/// `[off, off + len)` is the write, within the folio and the mapping, and the blocks it partly
/// covers are uptodate (or the whole write covers the folio).
pub struct PreparedWrite<'m, 'a, O: IomapOps> {
    folio: ValidatedFolio<'m, 'a, O>,
    off: usize,
    len: usize,
}

impl<'m, 'a, O: IomapOps> PreparedWrite<'m, 'a, O> {
    /// The folio, for reading its properties.
    pub fn folio(&self) -> &Folio {
        self.folio.folio()
    }

    /// The length of the write, as cut at the end of the folio and of the mapping.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the write is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies up to [`Self::len`] bytes from `from` into the folio at the write position, with
    /// page faults disabled (fewer if the user buffer faulted).
    #[inline(always)]
    pub fn copy_from_iter<'i>(mut self, from: &'i mut IovIter) -> CopiedWrite<'m, 'a, 'i, O> {
        let (off, len) = (self.off, self.len);
        // Where `flush_dcache_folio()` does nothing ([`folio::ARCH_FLUSHES_DCACHE`]), neither
        // does asking whether the mapping is writably mapped.
        let writably_mapped =
            folio::ARCH_FLUSHES_DCACHE && self.folio.mapped.inode.mapping().writably_mapped();
        let folio = self.folio.file_folio_mut();
        if writably_mapped {
            folio.flush_dcache();
        }
        let consumed = folio.copy_from_iter(off, len, from);
        CopiedWrite {
            prepared: self,
            copied: consumed.bytes(),
            consumed: Some(consumed),
            done: false,
        }
    }

    /// Zeroes the range of the write in the folio, as `iomap_zero_iter()` does in place of a
    /// copy: the whole range is then "copied".
    pub fn zero(mut self) -> Result<CopiedWrite<'m, 'a, 'static, O>> {
        let (off, len) = (self.off, self.len);
        let folio = self.folio.file_folio_mut();
        folio.zero_segments(off, off + len, 0, 0)?;
        folio.mark_accessed();
        Ok(CopiedWrite {
            prepared: self,
            copied: len,
            consumed: None,
            done: false,
        })
    }

    /// Keeps the data of the range as it is, for unsharing: preparing a write of an
    /// [`IterFlags::UNSHARE`] iteration read every block of the range, which committing then
    /// dirties, so that writeback writes it out of place. `EINVAL` for any other iteration,
    /// whose preparation leaves the blocks the write covers whole as they were.
    pub fn keep(self) -> Result<CopiedWrite<'m, 'a, 'static, O>> {
        if !self.folio.mapped.flags().contains(IterFlags::UNSHARE) {
            return Err(EINVAL);
        }
        let len = self.len;
        Ok(CopiedWrite {
            prepared: self,
            copied: len,
            consumed: None,
            done: false,
        })
    }
}

/// A folio the data was copied (or zeroed, or kept) into: the third state of a folio write,
/// completed by [`CopiedWrite::commit`] or [`CopiedWrite::commit_in_place`].
///
/// Dropping it without a commit keeps what the copy put into an uptodate folio (marked dirty,
/// so that the cached data is not lost while read(2) may already have seen it), and drops it
/// otherwise, as a rejected commit does; the file size is not changed.
///
/// # Invariants
///
/// `copied` bytes at the start of the write's range hold the data; `consumed`, if any, is
/// what a copy took from its iterator, `copied` bytes. `done` once the write was completed.
pub struct CopiedWrite<'m, 'a, 'i, O: IomapOps> {
    prepared: PreparedWrite<'m, 'a, O>,
    copied: usize,
    consumed: Option<Consumed<'i>>,
    done: bool,
}

/// What a committed folio write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commit {
    /// Bytes copied from the user buffer.
    pub copied: usize,
    /// Bytes written into the file: `copied`, or zero if the copy was short into a folio that
    /// was not uptodate (the copied bytes were given back to the buffer, to be copied again).
    pub written: usize,
}

impl<O: IomapOps> CopiedWrite<'_, '_, '_, O> {
    /// Bytes the copy took from the user buffer.
    pub fn copied(&self) -> usize {
        self.copied
    }

    /// Completes the write as [`CopiedWrite::commit`] does, without changing the file size: for
    /// zeroing and unsharing, which work within EOF (C's `iomap_write_end()` without the size
    /// update of `iomap_write_iter()`).
    #[inline(always)]
    pub fn commit_in_place(self) -> Commit {
        self.finish(None, false)
    }

    /// Completes the write, as `__iomap_write_end()` and the rest of one step of
    /// `iomap_write_iter()`: marks the written blocks uptodate and dirty and the folio dirty,
    /// extends the in-memory file size while the folio is still locked (recording it in the
    /// mapping, [`IomapFlags::SIZE_CHANGED`]), and hands the folio back.
    ///
    /// A short copy into a folio that is not uptodate is rejected and changes nothing (the
    /// partly written block could be overwritten by a read): the copied bytes are given back to
    /// the buffer and [`Commit::written`] is zero. `EINVAL`, rejecting the same way, if `lock`
    /// is not the lock of the iteration's inode.
    #[inline(always)]
    pub fn commit(self, lock: &InodeLock<'_>) -> Result<Commit> {
        if !core::ptr::eq(lock.inode(), self.prepared.folio.mapped.inode) {
            self.finish(None, true);
            return Err(EINVAL);
        }
        Ok(self.finish(Some(lock), false))
    }

    /// Completes the write and disposes of the handle. Once the folio is handed back, dropping
    /// the handle would do nothing (the borrows and the record of the copy need no drop), so
    /// it is forgotten instead: the compiler then need not build it in memory for an out of
    /// line drop. Should the folio still be there, the handle is dropped, handing it back.
    #[inline(always)]
    fn finish(mut self, lock: Option<&InodeLock<'_>>, reject: bool) -> Commit {
        let commit = self.complete(lock, reject);
        if self.prepared.folio.folio.is_none() {
            core::mem::forget(self);
        }
        commit
    }

    #[inline(always)]
    fn complete(&mut self, lock: Option<&InodeLock<'_>>, reject: bool) -> Commit {
        if self.done {
            return Commit {
                copied: 0,
                written: 0,
            };
        }
        self.done = true;
        let copied = self.copied;
        let (off, len) = (self.prepared.off, self.prepared.len);
        let vf = &mut self.prepared.folio;
        let pos = vf.pos;
        let Some(folio) = vf.folio.as_mut() else {
            return Commit { copied, written: 0 };
        };
        folio.flush_dcache();
        let written = if reject || (copied < len && !folio.folio().test_uptodate()) {
            if let Some(consumed) = self.consumed.take() {
                consumed.revert();
            }
            0
        } else {
            folio.set_range_uptodate(off, len);
            folio.set_range_dirty(off, copied);
            folio.mark_dirty();
            copied
        };
        // Update the in-memory size after copying the data in and before unlocking the folio;
        // writing the size to disk is the filesystem's business, after I/O completion.
        let Some(lock) = lock else {
            vf.put(written);
            return Commit { copied, written };
        };
        let inode = vf.mapped.inode;
        let old_size = inode.size();
        let end = pos + written as i64;
        // `write_size` refuses only a size beyond `s_maxbytes`, which `write_checks` keeps
        // writes below: the bytes past it stay beyond EOF.
        if end > old_size && lock.write_size(end).is_ok() {
            vf.mapped.iomap.mark_size_changed();
        }
        vf.put(written);
        if old_size < pos {
            inode.pagecache_size_extended(old_size, pos);
        }
        Commit { copied, written }
    }
}

impl<O: IomapOps> Drop for CopiedWrite<'_, '_, '_, O> {
    #[inline]
    fn drop(&mut self) {
        // Once committed, dropping does nothing: tested here, without the call.
        if !self.done {
            self.complete(None, false);
        }
    }
}

/// Cleans up after a write of `len` bytes at `pos` failed: folios it instantiated beyond EOF
/// are removed, as `iomap_write_failed()`.
fn write_failed(lock: &InodeLock<'_>, pos: i64, len: usize) {
    lock.truncate_pagecache_beyond_eof(pos, pos.saturating_add(len as i64));
}

/// Copies as much of `from` as the mapping allows into the page cache, as `iomap_write_iter()`.
/// Returns the bytes written, or the error that stopped the write before any were.
fn write_mapped<O: IomapOps>(
    m: &mut Mapped<'_, O>,
    lock: &InodeLock<'_>,
    from: &mut IovIter,
) -> Result<u64> {
    let mapping = lock.inode().mapping();
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
        if sched::fatal_signal_pending() {
            write_failed(lock, pos, bytes);
            status = Err(EINTR);
            break;
        }
        let folio = match m.lock_folio(pos, bytes) {
            Ok(Some(folio)) => folio,
            // Stale: a short write; the iterator remaps from `pos`.
            Ok(None) => break,
            Err(e) => {
                write_failed(lock, pos, bytes);
                status = Err(e);
                break;
            }
        };
        let prepared = match folio.prepare_write(bytes) {
            Ok(prepared) => prepared,
            Err(e) => {
                // The folio went back with the error; C removes what the unclamped write
                // instantiated beyond EOF.
                write_failed(lock, pos, bytes);
                status = Err(e);
                break;
            }
        };
        bytes = prepared.len();
        let commit = match prepared.copy_from_iter(from).commit(lock) {
            Ok(commit) => commit,
            Err(e) => {
                status = Err(e);
                break;
            }
        };
        sched::cond_resched();

        if commit.written == 0 {
            // A short copy into a folio that was not uptodate was rejected entirely (memory
            // poisoning, a race with munmap, memory pressure): retry with what could be copied,
            // in smaller chunks. The commit gave the copied bytes back to `from`.
            write_failed(lock, pos, bytes);
            if chunk > PAGE_SIZE {
                chunk /= 2;
            }
            if commit.copied > 0 {
                retry_bytes = Some(commit.copied);
            }
        } else {
            pos += commit.written as i64;
            total += commit.written as u64;
            length -= commit.written as u64;
        }
    }
    if total > 0 {
        Ok(total)
    } else {
        status.map(|()| 0)
    }
}

pub use super::control::rust_writes_enabled;

/// Writes `from` into the page cache of `iocb`'s file at `iocb`'s position, mapping the range
/// through `ops`, and advances the position: C's `iomap_file_buffered_write()`.
///
/// `lock` proves that the file's `i_rwsem` is held exclusively, which serialises size updates;
/// `EINVAL` if it is the lock of another inode, `EFBIG` if the write would end beyond the
/// filesystem's maximum file size (the caller does the rest of `generic_write_checks()`).
///
/// Returns the bytes written, which are fewer than requested if the write stopped early (a
/// faulting buffer, a fatal signal, an error after some progress), or the error if nothing
/// was written. Every folio is revalidated against its cached mapping
/// ([`Mapped::lock_folio`]); a stale mapping is remapped and the write carries on.
pub fn buffered_write<O: IomapOps>(
    ops: &mut O,
    iocb: &mut Kiocb,
    from: &mut IovIter,
    lock: &InodeLock<'_>,
) -> Result<usize> {
    control::count(Call::BufferedWrite);
    let inode = lock.inode();
    if !core::ptr::eq(iocb.inode(), inode) {
        return Err(EINVAL);
    }
    let start = iocb.pos();
    let range = FileRange::from_pos_len(start, from.count() as u64)?;
    if range.end() > inode.max_bytes() {
        return Err(EFBIG);
    }
    let mut flags = IterFlags::WRITE;
    if iocb.is_nowait() {
        flags = flags | IterFlags::NOWAIT;
    }

    let mut stale: Option<StaleMapping> = None;
    let outcome = iterate(ops, inode, range, flags, |m| {
        if let Some(s) = stale.take() {
            control::note_stale(inode, &s, Some(m.iomap().validity_cookie()));
        }
        let ret = write_mapped(m, lock, from);
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
        control::note_stale(inode, &s, None);
    }

    let done = outcome.into_result()?;
    if done > 0 {
        iocb.set_pos(start + done as i64)?;
    }
    // At most `from.count()`, a `usize`.
    Ok(done as usize)
}
