// SPDX-License-Identifier: GPL-2.0

//! The iomap iterator: map a range, process it, report, advance, and remap when stale.
//!
//! C implementation: [`fs/iomap/iter.c`](srctree/fs/iomap/iter.c), `iomap_iter()`.
//!
//! [`iterate`] asks the filesystem for a mapping of the rest of the range ([`IomapOps::begin`]),
//! lets the operation process as much of it as it can, tells the filesystem how much was done
//! ([`IomapOps::end`]) and advances by that much. It stops when the range is done, when the
//! operation makes no progress on a mapping that is not stale, or on an error. When the operation
//! found the mapping stale ([`Mapped::revalidate`] returned `false`), the iterator maps the rest
//! of the range again, even if nothing was processed.
//!
//! The contract is that of 6.12's `iomap_iter()` with two differences, both stricter: a mapping
//! that does not cover the current position, is empty or comes back already stale is `EIO`
//! (C warns and carries on), after [`IomapOps::end`] was called for it with nothing done, so the
//! filesystem releases what `begin` reserved; and so is an operation reporting more progress
//! than its mapping allowed; a zero-length range is done without calling the filesystem.

use super::map::{Iomap, MappingType};
use super::range::FileRange;
use crate::{
    bindings, error::code::*, error::Error, error::Result, folio::LockedFolio, pagecache::Inode,
};

/// `IOMAP_*` flags describing the operation to [`IomapOps::begin`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct IterFlags(u32);

impl IterFlags {
    /// Writing: blocks must be allocated (`IOMAP_WRITE`).
    pub const WRITE: Self = Self(bindings::IOMAP_WRITE);
    /// Zeroing: holes may be skipped (`IOMAP_ZERO`).
    pub const ZERO: Self = Self(bindings::IOMAP_ZERO);
    /// Reporting extents, as for FIEMAP (`IOMAP_REPORT`).
    pub const REPORT: Self = Self(bindings::IOMAP_REPORT);
    /// Mapping for a page fault (`IOMAP_FAULT`).
    pub const FAULT: Self = Self(bindings::IOMAP_FAULT);
    /// Direct I/O (`IOMAP_DIRECT`).
    pub const DIRECT: Self = Self(bindings::IOMAP_DIRECT);
    /// The caller cannot block: the filesystem returns `EAGAIN` instead (`IOMAP_NOWAIT`).
    pub const NOWAIT: Self = Self(bindings::IOMAP_NOWAIT);
    /// Only pure overwrites are allowed (`IOMAP_OVERWRITE_ONLY`).
    pub const OVERWRITE_ONLY: Self = Self(bindings::IOMAP_OVERWRITE_ONLY);
    /// Unsharing a range (`IOMAP_UNSHARE`).
    pub const UNSHARE: Self = Self(bindings::IOMAP_UNSHARE);

    /// The flags as C passes them (`unsigned int flags`).
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The set of the given C bits.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// Whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for IterFlags {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// The filesystem side of the iterator: C's `struct iomap_ops`, plus the validity check C keeps
/// in `iomap_folio_ops`.
///
/// # Examples
///
/// A filesystem whose extents change when writeback converts an unwritten extent: each mapping
/// carries the extent tree's generation as its validity cookie, and a write that finds it
/// changed once it has locked a folio ends its pass short and maps the range again, instead of
/// zeroing data writeback has just put on disk.
///
/// ```
/// use core::sync::atomic::{AtomicU64, Ordering};
/// use kernel::iomap::iter::{IomapOps, IterFlags};
/// use kernel::iomap::map::{Iomap, MappingType};
///
/// /// The extent tree's generation, raised by every change of the tree (here, by hand).
/// static GENERATION: AtomicU64 = AtomicU64::new(0);
///
/// struct Unwritten;
///
/// impl IomapOps for Unwritten {
///     fn begin(
///         &mut self,
///         pos: i64,
///         _len: u64,
///         _flags: IterFlags,
///         map: &mut Iomap,
///         _srcmap: &mut Iomap,
///     ) -> Result {
///         // Read under the lock that protects the tree, with the extent.
///         let generation = GENERATION.load(Ordering::Acquire);
///         *map = Iomap::new(MappingType::Unwritten, pos & !4095, 4096, generation)?;
///         Ok(())
///     }
///
///     fn iomap_valid(&mut self, iomap: &Iomap) -> bool {
///         iomap.validity_cookie() == GENERATION.load(Ordering::Acquire)
///     }
/// }
///
/// let mut ops = Unwritten;
/// let mut map = Iomap::empty();
/// ops.begin(5000, 100, IterFlags::WRITE, &mut map, &mut Iomap::empty())?;
/// assert!(ops.iomap_valid(&map));
/// // Writeback converted the extent: the cached mapping is stale.
/// GENERATION.fetch_add(1, Ordering::Release);
/// assert!(!ops.iomap_valid(&map));
/// # Ok::<(), Error>(())
/// ```
pub trait IomapOps {
    /// Maps the range starting at `pos`, at most `len` bytes: fills `iomap` with the extent
    /// holding `pos` and, for a write that must read existing data from elsewhere
    /// (copy-on-write, [`super::map::IomapFlags::SHARED`]), `srcmap` with where to read it from.
    /// Both arrive zeroed (a zeroed `srcmap` is a hole and means "none"). `EAGAIN` under
    /// [`IterFlags::NOWAIT`] when mapping would block.
    fn begin(
        &mut self,
        pos: i64,
        len: u64,
        flags: IterFlags,
        iomap: &mut Iomap,
        srcmap: &mut Iomap,
    ) -> Result;

    /// Reports that `written` bytes of the `len` bytes mapped at `pos` were processed. An error
    /// is returned to the caller only if nothing was processed.
    fn end(
        &mut self,
        _pos: i64,
        _len: u64,
        _written: u64,
        _flags: IterFlags,
        _iomap: &mut Iomap,
    ) -> Result {
        Ok(())
    }

    /// Whether `iomap` still describes the file. Called by the write path with the folio at the
    /// current position locked, before anything about the folio is touched
    /// (C: `folio_ops->iomap_valid`). A filesystem whose extent tree can change under a cached
    /// mapping (unwritten conversion at I/O completion, for one) must implement it, typically by
    /// comparing [`Iomap::validity_cookie`] with a generation counter of its extent tree.
    fn iomap_valid(&mut self, _iomap: &Iomap) -> bool {
        true
    }

    /// Finds or creates the folio holding `pos` and locks it, for a write of up to `len` bytes
    /// mapped by `iomap` (C: `folio_ops->get_folio`, by default `iomap_get_folio()`).
    fn get_folio(
        &mut self,
        inode: &Inode,
        _iomap: &Iomap,
        pos: i64,
        len: usize,
        flags: IterFlags,
    ) -> Result<LockedFolio> {
        inode
            .mapping()
            .get_folio_for_write(pos, len, flags.contains(IterFlags::NOWAIT))
    }

    /// Releases a folio from [`IomapOps::get_folio`] once `copied` bytes at `pos` were written
    /// into it (C: `folio_ops->put_folio`, by default unlock and put).
    fn put_folio(
        &mut self,
        _inode: &Inode,
        _iomap: &Iomap,
        _pos: i64,
        _copied: usize,
        folio: LockedFolio,
    ) {
        drop(folio);
    }
}

/// One mapping handed to the operation by [`iterate`].
///
/// It lives for one pass of the iterator: the operation receives it by reference and cannot
/// keep it, or anything borrowed from it (the folio handles of [`super::write`]), past its
/// return, which is when the iterator reports progress to [`IomapOps::end`]. So no folio stays
/// locked across `end` and the next `begin`.
pub struct Mapped<'a, O: IomapOps> {
    pub(super) ops: &'a mut O,
    pub(super) inode: &'a Inode,
    pub(super) iomap: &'a mut Iomap,
    pub(super) srcmap: &'a Iomap,
    range: FileRange,
    rest: FileRange,
    flags: IterFlags,
}

impl<'a, O: IomapOps> Mapped<'a, O> {
    /// The inode being iterated over: the only one whose folios the operation can modify under
    /// this mapping.
    pub fn inode(&self) -> &'a Inode {
        self.inode
    }

    /// The part of the iterated range this mapping covers: it starts at the current position and
    /// ends at the end of the mapping, of `srcmap` if there is one, or of the iterated range.
    pub fn range(&self) -> FileRange {
        self.range
    }

    /// The rest of the iterated range, from the start of [`Mapped::range`] to the end of the
    /// range given to [`iterate`] (C's `iter->pos` and `iter->len`).
    pub fn rest(&self) -> FileRange {
        self.rest
    }

    /// The mapping the filesystem returned.
    pub fn iomap(&self) -> &Iomap {
        self.iomap
    }

    /// The source mapping, if the filesystem filled one (copy-on-write): unlike
    /// [`Mapped::srcmap`], `None` rather than the mapping itself otherwise.
    pub fn separate_srcmap(&self) -> Option<&Iomap> {
        match self.srcmap.mapping_type() {
            Ok(MappingType::Hole) => None,
            _ => Some(self.srcmap),
        }
    }

    /// Marks the mapping stale, so that the iterator maps the rest of the range again once the
    /// operation returns (C: `iter->iomap.flags |= IOMAP_F_STALE`), as zeroing does after
    /// flushing dirty data whose writeback may have changed the extents.
    pub fn mark_stale(&mut self) {
        self.iomap.mark_stale();
    }

    /// Where existing data must be read from: `srcmap` if the filesystem filled one, the mapping
    /// itself otherwise (C's `iomap_iter_srcmap()`).
    pub fn srcmap(&self) -> &Iomap {
        if matches!(self.srcmap.mapping_type(), Ok(MappingType::Hole)) {
            self.iomap
        } else {
            self.srcmap
        }
    }

    /// The operation's flags.
    pub fn flags(&self) -> IterFlags {
        self.flags
    }

    /// Asks the filesystem whether the mapping is still valid; if not, marks it stale so that the
    /// iterator maps the rest of the range again, and returns `false`. The operation must then
    /// stop processing this mapping and return the progress it made so far.
    ///
    /// This is the check on its own, for operations that do not modify folios. The write path
    /// uses [`Mapped::lock_folio`], which performs it on a locked folio and is the only way to
    /// obtain the [`super::write::ValidatedFolio`] that modifying a folio requires.
    pub fn revalidate(&mut self) -> bool {
        if self.ops.iomap_valid(self.iomap) {
            return true;
        }
        self.iomap.mark_stale();
        false
    }
}

/// What an [`iterate`] call did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Outcome {
    /// Bytes processed from the start of the range.
    pub done: u64,
    /// The error that stopped the iteration, if one did.
    pub error: Option<Error>,
}

impl Outcome {
    /// The result as C's callers report it: the bytes done if there are any (a short count), the
    /// error otherwise, zero if there is neither.
    pub fn into_result(self) -> Result<u64> {
        match self.error {
            Some(e) if self.done == 0 => Err(e),
            _ => Ok(self.done),
        }
    }
}

/// The length of the current mapping from `pos`, as C's `iomap_length()`.
#[inline]
fn mapped_len(pos: i64, len: u64, iomap: &Iomap, srcmap: &Iomap) -> Result<u64> {
    let mut end = iomap.range()?.end();
    if !matches!(srcmap.mapping_type(), Ok(MappingType::Hole)) {
        end = end.min(srcmap.range()?.end());
    }
    let avail = u64::try_from(end - pos).map_err(|_| EIO)?;
    Ok(len.min(avail))
}

/// Checks what `begin` returned, as C's `iomap_iter_done()` does with warnings.
fn check_mapping(pos: i64, iomap: &Iomap) -> Result {
    let r = iomap.range()?;
    if r.is_empty() || !r.contains(pos) || iomap.is_stale() {
        return Err(EIO);
    }
    iomap.mapping_type()?;
    Ok(())
}

/// Runs `op` over every mapping of `range` of `inode`, as C's
/// `while ((ret = iomap_iter(&iter, ops)) > 0) iter.processed = op(&iter);`.
///
/// `op` returns the bytes it processed from the start of [`Mapped::range`], or an error. `ops`
/// are the filesystem's operations for `inode`.
///
/// `inode`'s page cache must be managed by iomap ([`Inode::iomap_managed`]): `EINVAL` with
/// nothing done otherwise.
///
/// # Examples
///
/// ```
/// use kernel::iomap::iter::{iterate, IomapOps, IterFlags};
/// use kernel::iomap::map::{Iomap, MappingType};
/// use kernel::iomap::range::FileRange;
///
/// /// Maps every file as 4 KiB unwritten extents.
/// struct Extents4k;
///
/// impl IomapOps for Extents4k {
///     fn begin(&mut self, pos: i64, _len: u64, _f: IterFlags, map: &mut Iomap, _src: &mut Iomap)
///         -> Result
///     {
///         *map = Iomap::new(MappingType::Unwritten, pos & !4095, 4096, 0)?;
///         Ok(())
///     }
/// }
///
/// # fn doc(inode: &kernel::pagecache::Inode) -> Result {
/// let mut calls = 0;
/// let out = iterate(&mut Extents4k, inode, FileRange::new(1000, 10000)?, IterFlags::WRITE, |m| {
///     calls += 1;
///     Ok(m.range().len())
/// });
/// assert_eq!(out.into_result()?, 9000);
/// assert_eq!(calls, 3); // [1000, 4096), [4096, 8192), [8192, 10000)
/// # Ok(())
/// # }
/// ```
pub fn iterate<O, F>(
    ops: &mut O,
    inode: &Inode,
    range: FileRange,
    flags: IterFlags,
    mut op: F,
) -> Outcome
where
    O: IomapOps,
    F: FnMut(&mut Mapped<'_, O>) -> Result<u64>,
{
    // The passes attach iomap's per-block state to the inode's folios: only a page cache that
    // iomap releases and invalidates may hold it.
    if !inode.iomap_managed() {
        return Outcome {
            done: 0,
            error: Some(EINVAL),
        };
    }
    let mut pos = range.start();
    let mut len = range.len();
    let mut iomap = Iomap::empty();
    let mut srcmap = Iomap::empty();
    let mut processed: Result<u64> = Ok(0);
    let stop = |pos: i64, error: Option<Error>| Outcome {
        // `pos` only moves forward from `range.start()`.
        done: (pos - range.start()) as u64,
        error,
    };

    // Whether a mapping was made: `begin` gets empty mappings, which the first needs no
    // clearing for.
    let mut mapped_before = false;
    while len > 0 {
        if mapped_before {
            // Report and advance past the previous mapping.
            let length = match mapped_len(pos, len, &iomap, &srcmap) {
                Ok(l) => l,
                Err(e) => return stop(pos, Some(e)),
            };
            let written = *processed.as_ref().unwrap_or(&0);
            if let Err(e) = ops.end(pos, length, written, flags, &mut iomap) {
                if processed == Ok(0) {
                    return stop(pos, Some(e));
                }
            }
            match processed {
                Err(e) => return stop(pos, Some(e)),
                Ok(0) if !iomap.is_stale() => return stop(pos, None),
                Ok(n) if n > length => return stop(pos, Some(EIO)),
                Ok(n) => {
                    // `n <= length <= len`, and `pos + len` is a valid `loff_t`.
                    pos += n as i64;
                    len -= n;
                }
            }
            if len == 0 {
                break;
            }
            iomap = Iomap::empty();
            srcmap = Iomap::empty();
        }

        mapped_before = true;
        if let Err(e) = ops.begin(pos, len, flags, &mut iomap, &mut srcmap) {
            return stop(pos, Some(e));
        }
        let mapped =
            match check_mapping(pos, &iomap).and_then(|()| mapped_len(pos, len, &iomap, &srcmap)) {
                Ok(length) if length > 0 => FileRange::from_pos_len(pos, length).map_err(|_| EIO),
                Ok(_) => Err(EIO),
                Err(e) => Err(e),
            };
        let mapped = match mapped {
            Ok(m) => m,
            Err(e) => {
                // `begin` may have reserved space for the mapping (delalloc): give it the chance
                // to release it, with nothing done, as C's iterator does for any mapping it got.
                let _ = ops.end(pos, len, 0, flags, &mut iomap);
                return stop(pos, Some(e));
            }
        };
        let Ok(rest) = FileRange::from_pos_len(pos, len) else {
            return stop(pos, Some(EIO));
        };
        let mut m = Mapped {
            ops: &mut *ops,
            inode,
            iomap: &mut iomap,
            srcmap: &srcmap,
            range: mapped,
            rest,
            flags,
        };
        processed = op(&mut m);
    }
    stop(pos, None)
}
