// SPDX-License-Identifier: GPL-2.0

//! Half-open byte ranges of a file.
//!
//! C iomap passes `loff_t pos` and `u64 length` (or `loff_t start, end`) around and does the
//! arithmetic in place; the mix of inclusive and exclusive ends is a classic source of off-by-one
//! bugs in the delalloc and zeroing paths. [`FileRange`] is the one representation used by this
//! library: `[start, end)` with both ends valid `loff_t` values, constructed only through checked
//! constructors.

use crate::error::{code::*, Result};

/// A half-open range `[start, end)` of byte offsets in a file.
///
/// # Invariants
///
/// `0 <= start <= end`. Both ends are valid `loff_t` values (non-negative `i64`).
///
/// # Examples
///
/// ```
/// use kernel::iomap::range::FileRange;
///
/// let r = FileRange::from_pos_len(4000, 200)?;
/// assert_eq!((r.start(), r.end(), r.len()), (4000, 4200, 200));
/// // The part of the range inside the 4 KiB block that holds its start.
/// assert_eq!(r.first_chunk(4096)?, FileRange::new(4000, 4096)?);
/// assert!(FileRange::new(10, 5).is_err());
/// assert!(FileRange::from_pos_len(-1, 5).is_err());
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FileRange {
    start: i64,
    end: i64,
}

impl FileRange {
    /// The empty range at offset zero.
    pub const EMPTY: FileRange = FileRange { start: 0, end: 0 };

    /// Creates `[start, end)`.
    ///
    /// Returns `EINVAL` if `start` is negative or `end` is below `start`.
    #[inline]
    pub fn new(start: i64, end: i64) -> Result<Self> {
        if start < 0 || end < start {
            return Err(EINVAL);
        }
        // INVARIANT: checked above.
        Ok(Self { start, end })
    }

    /// Creates the range of `len` bytes from `pos`, the form `write()` and `iomap_begin` use.
    ///
    /// Returns `EINVAL` if `pos` is negative and `EFBIG` if the range ends past the largest
    /// `loff_t`.
    #[inline]
    pub fn from_pos_len(pos: i64, len: u64) -> Result<Self> {
        if pos < 0 {
            return Err(EINVAL);
        }
        let len = i64::try_from(len).map_err(|_| EFBIG)?;
        let end = pos.checked_add(len).ok_or(EFBIG)?;
        // INVARIANT: `0 <= pos <= end` since `pos >= 0` and `len >= 0`.
        Ok(Self { start: pos, end })
    }

    /// Creates the range of `len` bytes from `pos`, cut at the largest `loff_t`.
    ///
    /// For ranges the kernel describes, which may end exactly at `2^63` (a folio or a filesystem
    /// block holding the last addressable byte); no file byte lies beyond the cut. Returns
    /// `EINVAL` if `pos` is negative.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::iomap::range::FileRange;
    ///
    /// let last_page = FileRange::from_pos_len_saturating(i64::MAX - 4095, 4096)?;
    /// assert_eq!(last_page.end(), i64::MAX);
    /// assert_eq!(last_page.len(), 4095);
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn from_pos_len_saturating(pos: i64, len: u64) -> Result<Self> {
        if pos < 0 {
            return Err(EINVAL);
        }
        let len = i64::try_from(len).unwrap_or(i64::MAX);
        // INVARIANT: `0 <= pos <= end` since `pos >= 0` and `len >= 0`.
        Ok(Self {
            start: pos,
            end: pos.saturating_add(len),
        })
    }

    /// The first byte of the range.
    pub const fn start(&self) -> i64 {
        self.start
    }

    /// The first byte after the range.
    pub const fn end(&self) -> i64 {
        self.end
    }

    /// The number of bytes in the range.
    pub const fn len(&self) -> u64 {
        // By the type invariant `end >= start >= 0`, so the difference is non-negative.
        (self.end - self.start) as u64
    }

    /// Whether the range holds no byte.
    pub const fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `pos` lies in the range.
    pub const fn contains(&self, pos: i64) -> bool {
        self.start <= pos && pos < self.end
    }

    /// The bytes both ranges hold. Disjoint ranges give an empty range at the later start.
    ///
    /// ```
    /// use kernel::iomap::range::FileRange;
    ///
    /// let a = FileRange::new(0, 100)?;
    /// assert_eq!(a.intersection(&FileRange::new(50, 200)?), FileRange::new(50, 100)?);
    /// assert!(a.intersection(&FileRange::new(100, 200)?).is_empty());
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn intersection(&self, other: &FileRange) -> FileRange {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end).max(start);
        // INVARIANT: `start >= 0` as the maximum of two non-negative values; `end >= start`.
        FileRange { start, end }
    }

    /// The range cut at `limit`: `[start, min(end, limit))`, empty if `limit <= start`.
    #[inline]
    pub fn truncate(&self, limit: i64) -> FileRange {
        let end = self.end.min(limit).max(self.start);
        // INVARIANT: `start <= end <= self.end`.
        FileRange {
            start: self.start,
            end,
        }
    }

    /// The range with its first `count` bytes removed.
    ///
    /// Returns `EINVAL` if `count` is larger than the range: progress past the end of a range is
    /// a bug in the caller and must not silently wrap.
    #[inline]
    pub fn advance(&self, count: u64) -> Result<FileRange> {
        if count > self.len() {
            return Err(EINVAL);
        }
        // `count <= len <= i64::MAX`, so neither the cast nor the addition overflow.
        let start = self.start + count as i64;
        // INVARIANT: `0 <= self.start <= start <= end`.
        Ok(FileRange {
            start,
            end: self.end,
        })
    }

    /// The leading part of the range that lies in the `align`-sized, `align`-aligned unit (a
    /// block or a folio) holding `start`.
    ///
    /// Returns `EINVAL` unless `align` is a power of two that fits in `loff_t`. An empty range
    /// gives an empty chunk.
    #[inline]
    pub fn first_chunk(&self, align: u64) -> Result<FileRange> {
        let align = checked_alignment(align)?;
        let unit_start = self.start & !(align - 1);
        // `unit_start <= start`, so this only overflows when the unit ends past `i64::MAX`, in
        // which case the whole rest of the range is in the unit.
        let unit_end = unit_start.checked_add(align).unwrap_or(i64::MAX);
        Ok(self.truncate(unit_end))
    }

    /// The smallest range of whole `align`-sized units that holds this range.
    ///
    /// Returns `EINVAL` unless `align` is a power of two that fits in `loff_t`, and `EFBIG` if
    /// rounding the end up passes the largest `loff_t`.
    ///
    /// ```
    /// use kernel::iomap::range::FileRange;
    ///
    /// let r = FileRange::new(1000, 5000)?;
    /// assert_eq!(r.align_out(1024)?, FileRange::new(0, 5120)?);
    /// assert_eq!(r.align_out(3).unwrap_err(), EINVAL);
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn align_out(&self, align: u64) -> Result<FileRange> {
        let align = checked_alignment(align)?;
        let start = self.start & !(align - 1);
        let end = self.end.checked_add(align - 1).ok_or(EFBIG)? & !(align - 1);
        // INVARIANT: rounding down keeps `start >= 0`; rounding `end` up keeps `end >= start`.
        Ok(FileRange { start, end })
    }
}

/// Returns `align` as an `i64` if it is a power of two that fits in `loff_t`.
#[inline]
fn checked_alignment(align: u64) -> Result<i64> {
    if !align.is_power_of_two() {
        return Err(EINVAL);
    }
    i64::try_from(align).map_err(|_| EINVAL)
}
