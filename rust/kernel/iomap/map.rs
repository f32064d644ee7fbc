// SPDX-License-Identifier: GPL-2.0

//! Mappings of file ranges to storage: `struct iomap`.
//!
//! C header: [`include/linux/iomap.h`](srctree/include/linux/iomap.h).
//!
//! A filesystem's `iomap_begin` fills a `struct iomap` describing how one range of a file is
//! backed: a hole, delayed allocation, allocated blocks (written or unwritten), or inline data.
//! The iterator holds on to it while it processes the range, without any lock keeping it true;
//! `validity_cookie` lets the filesystem tell later whether the extent it described has changed.

use super::range::FileRange;
use crate::{bindings, error::code::*, error::Result};
use core::ops::{BitOr, BitOrAssign};

/// How a mapped range is backed (`IOMAP_HOLE`, `IOMAP_DELALLOC`, ...).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MappingType {
    /// No blocks are allocated; reading gives zeroes.
    Hole,
    /// Space is reserved (delayed allocation) but no blocks are allocated yet.
    Delalloc,
    /// Blocks are allocated at the mapping's disk address and hold data.
    Mapped,
    /// Blocks are allocated but unwritten: reading gives zeroes until I/O converts them.
    Unwritten,
    /// The data lives inline in the inode.
    Inline,
}

impl MappingType {
    /// The C value of this mapping type.
    pub const fn as_raw(self) -> u16 {
        (match self {
            MappingType::Hole => bindings::IOMAP_HOLE,
            MappingType::Delalloc => bindings::IOMAP_DELALLOC,
            MappingType::Mapped => bindings::IOMAP_MAPPED,
            MappingType::Unwritten => bindings::IOMAP_UNWRITTEN,
            MappingType::Inline => bindings::IOMAP_INLINE,
        }) as u16
    }
}

impl TryFrom<u16> for MappingType {
    type Error = crate::error::Error;

    /// Converts a C mapping type; an unknown value (a filesystem bug) is `EIO`.
    #[inline]
    fn try_from(raw: u16) -> Result<Self> {
        Ok(match u32::from(raw) {
            bindings::IOMAP_HOLE => MappingType::Hole,
            bindings::IOMAP_DELALLOC => MappingType::Delalloc,
            bindings::IOMAP_MAPPED => MappingType::Mapped,
            bindings::IOMAP_UNWRITTEN => MappingType::Unwritten,
            bindings::IOMAP_INLINE => MappingType::Inline,
            _ => return Err(EIO),
        })
    }
}

/// A set of `IOMAP_F_*` flags.
///
/// # Examples
///
/// ```
/// use kernel::iomap::map::IomapFlags;
///
/// let mut f = IomapFlags::NEW | IomapFlags::SHARED;
/// assert!(f.contains(IomapFlags::NEW));
/// assert!(!f.contains(IomapFlags::STALE));
/// f |= IomapFlags::STALE;
/// assert!(f.contains(IomapFlags::STALE | IomapFlags::SHARED));
/// assert!(f.intersects(IomapFlags::NEW | IomapFlags::MERGED));
/// assert!(!f.intersects(IomapFlags::MERGED));
/// assert!(!f.intersects(IomapFlags::empty()));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct IomapFlags(u16);

impl IomapFlags {
    /// Blocks were allocated by this mapping call and hold no data yet (`IOMAP_F_NEW`).
    pub const NEW: Self = Self::from_c(bindings::IOMAP_F_NEW);
    /// The inode has metadata that `fdatasync` must write (`IOMAP_F_DIRTY`).
    pub const DIRTY: Self = Self::from_c(bindings::IOMAP_F_DIRTY);
    /// The blocks are shared: writes go out of place, reading from `srcmap` (`IOMAP_F_SHARED`).
    pub const SHARED: Self = Self::from_c(bindings::IOMAP_F_SHARED);
    /// The mapping was merged from several extents (`IOMAP_F_MERGED`).
    pub const MERGED: Self = Self::from_c(bindings::IOMAP_F_MERGED);
    /// The mapping describes extended-attribute blocks, not file data (`IOMAP_F_XATTR`).
    pub const XATTR: Self = Self::from_c(bindings::IOMAP_F_XATTR);
    /// The operation extended the file size (`IOMAP_F_SIZE_CHANGED`).
    pub const SIZE_CHANGED: Self = Self::from_c(bindings::IOMAP_F_SIZE_CHANGED);
    /// The mapping no longer reflects the extent tree; the rest of the range must be mapped
    /// again (`IOMAP_F_STALE`).
    pub const STALE: Self = Self::from_c(bindings::IOMAP_F_STALE);
    /// The filesystem uses buffer heads for the folio (`IOMAP_F_BUFFER_HEAD`, gfs2); iomap_rs
    /// does not implement them.
    pub const BUFFER_HEAD: Self = Self::from_c(bindings::IOMAP_F_BUFFER_HEAD);
    /// Flags from this one up belong to the filesystem (`IOMAP_F_PRIVATE`).
    pub const PRIVATE: Self = Self::from_c(bindings::IOMAP_F_PRIVATE);

    const fn from_c(flag: u32) -> Self {
        // The C flags are all below `1 << 16`, as `struct iomap::flags` is a `u16`.
        Self(flag as u16)
    }

    /// The empty set.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// The flags as stored in `struct iomap`.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// The set of the given C bits.
    pub const fn from_bits(bits: u16) -> Self {
        Self(bits)
    }

    /// Whether every flag of `other` is set in `self` (true for an empty `other`).
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set in `self` (false for an empty `other`: a flag that a
    /// configuration defines as 0, as `IOMAP_F_BUFFER_HEAD` without `CONFIG_BUFFER_HEAD`, is
    /// never set).
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }
}

impl BitOr for IomapFlags {
    type Output = Self;

    #[inline]
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for IomapFlags {
    #[inline]
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

/// A mapping of a file range, `struct iomap`, held by value.
///
/// The filesystem fills it in `iomap_begin`; the write path reads it and may only add
/// [`IomapFlags::STALE`] to it.
///
/// # Examples
///
/// ```
/// use kernel::iomap::map::{Iomap, IomapFlags, MappingType};
///
/// let mut map = Iomap::new(MappingType::Unwritten, 8192, 65536, 7)?;
/// assert_eq!(map.range()?.end(), 8192 + 65536);
/// assert_eq!(map.mapping_type()?, MappingType::Unwritten);
/// assert_eq!(map.validity_cookie(), 7);
/// assert!(!map.is_stale());
/// assert!(!map.has_device());
/// map.mark_stale();
/// assert!(map.flags().contains(IomapFlags::STALE));
///
/// // Blocks with data need a device: without one, no mapping says they are there.
/// assert_eq!(Iomap::new(MappingType::Mapped, 0, 4096, 0).err(), Some(EINVAL));
/// assert_eq!(Iomap::new(MappingType::Inline, 0, 4096, 0).err(), Some(EINVAL));
/// # Ok::<(), Error>(())
/// ```
#[repr(transparent)]
pub struct Iomap(bindings::iomap);

impl Iomap {
    /// A mapping of `length` bytes at file offset `offset` with no device and no disk address:
    /// a hole, delayed allocation, or unwritten blocks (which read as zeroes, so the library
    /// never reads them).
    ///
    /// `EINVAL` for [`MappingType::Mapped`] and [`MappingType::Inline`]: their data lives on a
    /// device or in memory, and a mapping that claims it without saying where would make the
    /// write path read from nowhere. Use [`Iomap::with_device`].
    #[inline]
    pub fn new(ty: MappingType, offset: i64, length: u64, validity_cookie: u64) -> Result<Self> {
        if matches!(ty, MappingType::Mapped | MappingType::Inline) {
            return Err(EINVAL);
        }
        FileRange::from_pos_len(offset, length)?;
        let Self(mut raw) = Self::empty();
        // `IOMAP_NULL_ADDR`: the mapping has no disk address.
        raw.addr = u64::MAX;
        raw.offset = offset;
        raw.length = length;
        raw.type_ = ty.as_raw();
        raw.validity_cookie = validity_cookie;
        Ok(Self(raw))
    }

    /// A mapping of `length` bytes at file offset `offset` to blocks of `bdev` at byte address
    /// `addr`, allocated ([`MappingType::Mapped`] or [`MappingType::Unwritten`]).
    ///
    /// # Safety
    ///
    /// `bdev` must point to a block device that stays open for as long as the mapping is used
    /// (a filesystem's own device, held by its superblock), and `[addr, addr + length)` must be
    /// blocks of the file's filesystem on it that back `[offset, offset + length)` of the file
    /// the mapping is returned for.
    #[inline]
    pub unsafe fn with_device(
        ty: MappingType,
        offset: i64,
        length: u64,
        validity_cookie: u64,
        bdev: *mut bindings::block_device,
        addr: u64,
    ) -> Result<Self> {
        if !matches!(ty, MappingType::Mapped | MappingType::Unwritten) || bdev.is_null() {
            return Err(EINVAL);
        }
        FileRange::from_pos_len(offset, length)?;
        addr.checked_add(length).ok_or(EINVAL)?;
        let Self(mut raw) = Self::empty();
        raw.addr = addr;
        raw.offset = offset;
        raw.length = length;
        raw.type_ = ty.as_raw();
        raw.validity_cookie = validity_cookie;
        raw.bdev = bdev;
        Ok(Self(raw))
    }

    /// Whether the mapping names a block device (`iomap->bdev`).
    #[inline]
    pub fn has_device(&self) -> bool {
        !self.0.bdev.is_null()
    }

    /// Whether the mapping names block device `bdev`.
    #[inline]
    pub(crate) fn is_on_device(&self, bdev: *const bindings::block_device) -> bool {
        core::ptr::eq(self.0.bdev, bdev)
    }

    /// The zeroed mapping the iterator hands to `iomap_begin`: an empty hole.
    #[inline]
    pub fn empty() -> Self {
        // SAFETY: `struct iomap` holds integers and pointers only; all zeroes is a valid value
        // (no device, no callbacks).
        Self(unsafe { core::mem::zeroed() })
    }

    /// The number of bytes mapped; zero for a mapping not filled yet.
    #[inline]
    pub fn length(&self) -> u64 {
        self.0.length
    }

    /// Wraps a `struct iomap` a filesystem has filled.
    ///
    /// # Safety
    ///
    /// The mapping must satisfy the contract of `struct iomap` in `include/linux/iomap.h`: a
    /// non-null `bdev`, `inline_data` or `folio_ops` is valid for as long as the mapping is
    /// used, and a `Mapped` or `Unwritten` mapping's `addr` names blocks of the file it maps.
    #[inline]
    pub unsafe fn from_c(raw: bindings::iomap) -> Self {
        Self(raw)
    }

    /// Returns a shared reference to the `struct iomap` behind `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for reads for `'a`, and nothing may change it during `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::iomap) -> &'a Iomap {
        // SAFETY: `Iomap` is a transparent wrapper; the caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns a reference to the `struct iomap` behind `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for reads and writes for `'a`, and nothing else may access it during
    /// `'a`.
    #[inline]
    pub unsafe fn from_raw_mut<'a>(ptr: *mut bindings::iomap) -> &'a mut Iomap {
        // SAFETY: `Iomap` is a transparent wrapper; the caller guarantees validity and exclusive
        // access for `'a`.
        unsafe { &mut *ptr.cast() }
    }

    /// The C structure, for passing to the filesystem's callbacks.
    #[inline]
    pub fn as_raw(&mut self) -> *mut bindings::iomap {
        &mut self.0
    }

    /// The C structure, for passing to C functions that only read it.
    #[inline]
    pub fn as_ptr(&self) -> *const bindings::iomap {
        &self.0
    }

    /// The file range the mapping covers.
    ///
    /// Returns `EIO` if the filesystem filled an invalid range.
    #[inline]
    pub fn range(&self) -> Result<FileRange> {
        // A mapping may end at `2^63`, past the largest `loff_t`: cut it there.
        FileRange::from_pos_len_saturating(self.0.offset, self.0.length).map_err(|_| EIO)
    }

    /// How the range is backed. Returns `EIO` if the filesystem filled an unknown type.
    #[inline]
    pub fn mapping_type(&self) -> Result<MappingType> {
        MappingType::try_from(self.0.type_)
    }

    /// The mapping's flags.
    #[inline]
    pub fn flags(&self) -> IomapFlags {
        IomapFlags::from_bits(self.0.flags)
    }

    /// The filesystem's opaque cookie for checking later that the mapping is still valid.
    #[inline]
    pub fn validity_cookie(&self) -> u64 {
        self.0.validity_cookie
    }

    /// Whether the mapping was found stale.
    #[inline]
    pub fn is_stale(&self) -> bool {
        self.flags().contains(IomapFlags::STALE)
    }

    /// Records that the mapping no longer reflects the extent tree; the iterator maps the rest
    /// of the range again instead of using it.
    #[inline]
    pub fn mark_stale(&mut self) {
        self.0.flags |= IomapFlags::STALE.bits();
    }

    /// Records that the blocks were allocated (or reserved) by this mapping call and hold no data
    /// yet (`IOMAP_F_NEW`): the parts of a block a write does not cover are zeroed, not read,
    /// and the filesystem's `end` knows to release what a short write did not use.
    #[inline]
    pub fn mark_new(&mut self) {
        self.0.flags |= IomapFlags::NEW.bits();
    }

    /// Records that the operation extended the file size, for the filesystem's `iomap_end`.
    #[inline]
    pub fn mark_size_changed(&mut self) {
        self.0.flags |= IomapFlags::SIZE_CHANGED.bits();
    }

    /// The filesystem's per-folio callbacks, if any (`iomap->folio_ops`).
    #[inline]
    pub fn folio_ops(&self) -> *const bindings::iomap_folio_ops {
        self.0.folio_ops
    }
}
