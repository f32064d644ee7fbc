// SPDX-License-Identifier: GPL-2.0

//! Superblocks and metadata I/O on their block device.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h),
//! [`include/linux/pagemap.h`](srctree/include/linux/pagemap.h).
//!
//! Metadata is read and written through the block device's page cache, as `sb_bread()` does with
//! buffer heads: [`Metadata::read`] copies bytes out of uptodate folios, [`Metadata::write`] copies
//! bytes in under the folio lock and dirties the folio, [`Metadata::sync`] writes everything dirty
//! back and waits. [`Metadata::hold`] keeps a range's pages in the cache, so that writes to it need
//! neither memory nor a read of the device. Copies, not references into the cache, so that nothing
//! a filesystem holds can alias memory that another writer of the device changes: a filesystem
//! decodes a snapshot, checks it, and never sees it change under it.
//!
//! # Soundness
//!
//! By type: [`NewSuperBlock`] has no data yet and gives none; a [`SuperBlock`] exists only with
//! its data set; device mappings are made only for the superblock's own device, inside it.
//! No reference to the whole `struct super_block` is ever made, as other CPUs change its fields.
//! The data cannot hold inodes (an [`inode::INodeRef`] borrows its superblock), so dropping it
//! evicts none: it is dropped once every inode is gone (or leaked).
//! At run time: every metadata access is checked against the device's size (`EIO`);
//! [`Metadata::write`] fails with `EROFS` on a read-only mount.

use super::{inode, FileSystem, Ino};
use crate::{
    bindings,
    error::{from_err_ptr, from_result, Result},
    folio::Folio,
    prelude::*,
    types::{ARef, Opaque},
};
use core::{marker::PhantomData, pin::Pin, ptr::NonNull};

/// A superblock's view of its block device, for metadata I/O.
///
/// # Invariants
///
/// The superblock is alive and has a block device (`s_bdev`) for as long as a `&Metadata` to it
/// exists.
#[repr(transparent)]
pub struct Metadata(Opaque<bindings::super_block>);

impl Metadata {
    fn as_ptr(&self) -> *mut bindings::super_block {
        self.0.get()
    }

    /// The superblock's block device.
    pub(crate) fn bdev(&self) -> *mut bindings::block_device {
        // Read through the raw pointer: other fields of the superblock change concurrently, so
        // no reference to the whole structure is made.
        // SAFETY: The superblock is alive (type invariant); `s_bdev` is set before any
        // `Metadata` exists and not changed until the superblock is shut down.
        unsafe { (*self.as_ptr()).s_bdev }
    }

    /// The filesystem's block size in bytes.
    pub fn block_size(&self) -> u32 {
        // SAFETY: The superblock is alive (type invariant); only
        // `NewSuperBlock::set_block_size` changes `s_blocksize`, before anything else uses it.
        unsafe { (*self.as_ptr()).s_blocksize as u32 }
    }

    /// Log2 of the block size.
    pub fn block_bits(&self) -> u32 {
        // SAFETY: As in `block_size`.
        unsafe { u32::from((*self.as_ptr()).s_blocksize_bits) }
    }

    /// The superblock's name for log messages (`s_id`): its block device's, such as `vdb` or
    /// `dm-3`, which C filesystems print first (`XFS (vdb): ...`), so that the messages of two
    /// mounts can be told apart.
    pub fn id(&self) -> &CStr {
        // SAFETY: The superblock is alive (type invariant). Generic code writes `s_id` in
        // `alloc_super()`'s callers `sget()`/`sget_fc()` (the type's name, before anyone else
        // sees the superblock) and in `setup_bdev_super()` (`snprintf()` of the device's name,
        // so NUL-terminated within the array), which `get_tree_bdev()` runs before
        // `fill_super`, so before any `Metadata` exists. Nothing else in `fs/`, `block/` or
        // `drivers/md/` writes it; only some filesystems do, and `kernel::fs` gives one no
        // means to. So it stays as it is for as long as `self` is borrowed.
        unsafe { CStr::from_char_ptr((*self.as_ptr()).s_id.as_ptr()) }
    }

    /// The size of the block device in bytes.
    pub fn device_bytes(&self) -> u64 {
        // SAFETY: `s_bdev` is valid (type invariant).
        unsafe { bindings::bdev_nr_bytes(self.bdev()) as u64 }
    }

    fn bdev_mapping(&self) -> *mut bindings::address_space {
        // SAFETY: `s_bdev` is valid (type invariant), and so is its mapping.
        unsafe { (*self.bdev()).bd_mapping }
    }

    fn check_range(&self, pos: u64, len: usize) -> Result {
        match pos.checked_add(len as u64) {
            Some(end) if end <= self.device_bytes() => Ok(()),
            _ => Err(EIO),
        }
    }

    /// A referenced, uptodate folio of the device's cache holding page `index`, read from the
    /// device if need be.
    fn read_folio(&self, index: u64) -> Result<ARef<Folio>> {
        // SAFETY: `bdev_mapping()` is the block device's, valid (type invariant); a null filler
        // reads through the mapping's `read_folio`. The result is a referenced, uptodate folio or
        // an error pointer.
        let folio = from_err_ptr(unsafe {
            bindings::read_cache_folio(self.bdev_mapping(), index as _, None, core::ptr::null_mut())
        })?;
        // SAFETY: Not null (an error pointer was returned as an error above); we own the reference
        // `read_cache_folio` took and hand it to the `ARef`.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(folio.cast())) })
    }

    /// Runs `f` on each piece of `[pos, pos + len)` that lies in one page of the device's page
    /// cache, with the folio locked, uptodate and still in the cache, and the piece mapped:
    /// `f(offset in the range, the piece, its length, the folio, its offset in the folio)`,
    /// which may fail.
    ///
    /// The folios of `held` are used where they are still the cache's; a page it covers whose
    /// folio left the cache (or was never the device's) is read again and held from then on.
    fn for_each_piece(
        &self,
        pos: u64,
        len: usize,
        mut held: Option<&mut HeldMetadata>,
        mut f: impl FnMut(usize, *mut u8, usize, *mut bindings::folio, usize) -> Result,
    ) -> Result {
        self.check_range(pos, len)?;
        let mapping = self.bdev_mapping();
        let page = bindings::PAGE_SIZE;
        let mut done = 0usize;
        // Whether the held folio of the current page turned out not to be the cache's.
        let mut held_stale = false;
        while done < len {
            let at = pos + done as u64;
            let index = at / page as u64;
            let slot = held.as_deref_mut().and_then(|h| h.slot(index));
            let (folio, read) = match slot {
                Some(ref held_folio) if !held_stale => ((*held_folio).clone(), false),
                _ => (self.read_folio(index)?, true),
            };
            // SAFETY: We hold a reference to `folio`.
            unsafe { bindings::folio_lock(folio.as_raw()) };
            // SAFETY: The folio is locked: its mapping and uptodate flag are stable.
            let current = unsafe {
                (*folio.as_raw()).__bindgen_anon_1.__bindgen_anon_1.mapping == mapping
                    && bindings::folio_test_uptodate(folio.as_raw())
            };
            let mut ret = Ok(());
            if current {
                // SAFETY: The folio holds the page `index` of the device; `folio_pos` is its
                // byte offset.
                let folio_pos = unsafe { bindings::folio_pos(folio.as_raw()) };
                let in_folio = (at - folio_pos as u64) as usize;
                let n = (len - done).min(page - in_folio % page);
                // SAFETY: `in_folio` is inside the folio, and the mapping covers the rest of
                // its page, which holds the `n` bytes.
                let addr = unsafe { bindings::kmap_local_folio(folio.as_raw(), in_folio) };
                let addr = addr.cast::<u8>();
                ret = f(done, addr, n, folio.as_raw(), in_folio);
                // SAFETY: `addr` came from `kmap_local_folio` above, unmapped in reverse order.
                unsafe { bindings::kunmap_local(addr.cast()) };
                done += n;
                if let Some(held_folio) = slot.filter(|_| read) {
                    *held_folio = folio.clone();
                }
                held_stale = false;
            } else {
                // A folio that left the cache or lost its contents is looked up again.
                held_stale = true;
            }
            // SAFETY: Locked above; the reference is dropped after.
            unsafe { bindings::folio_unlock(folio.as_raw()) };
            ret?;
        }
        Ok(())
    }

    /// Reads `[pos, pos + len)` of the device into its page cache and holds the pages there
    /// (a reference on each) for as long as the returned [`HeldMetadata`] lives, so that
    /// [`Metadata::write_held`] within the range needs neither a read of the device nor
    /// memory. A filesystem holds the metadata whose update must not fail halfway, such as a
    /// free-space bitmap kept in memory: ext4 holds its group descriptors, XFS its superblock
    /// buffer, the same way. Fails with `EIO` beyond the device, `ENOMEM` or a read error.
    pub fn hold(&self, pos: u64, len: u64) -> Result<HeldMetadata> {
        let len = usize::try_from(len).map_err(|_| EINVAL)?;
        self.check_range(pos, len)?;
        let page = bindings::PAGE_SIZE as u64;
        let first = pos / page;
        let end = (pos + len as u64).div_ceil(page);
        let count = usize::try_from(end - first).map_err(|_| EINVAL)?;
        let mut folios = KVVec::with_capacity(count, GFP_KERNEL)?;
        for index in first..end {
            folios.push(self.read_folio(index)?, GFP_KERNEL)?;
        }
        Ok(HeldMetadata { first, folios })
    }

    /// [`Metadata::write`] through pages held by `held`: once they are held, the write fails
    /// only if a page left the device's cache meanwhile and cannot be read again (which only
    /// a direct write of the device's range or an invalidation of its cache can cause).
    /// Pages the range has beyond `held` are read as [`Metadata::write`] reads them.
    pub fn write_held(&self, held: &mut HeldMetadata, pos: u64, buf: &[u8]) -> Result {
        self.write_pieces(pos, buf, Some(held))
    }

    /// Reads `buf.len()` bytes at byte offset `pos` of the device. Fails with `EIO` if the range
    /// is beyond the device or cannot be read.
    pub fn read(&self, pos: u64, buf: &mut [u8]) -> Result {
        let len = buf.len();
        let dst = buf.as_mut_ptr();
        self.for_each_piece(pos, len, None, |off, src, n, _, _| {
            // SAFETY: `src` is mapped for `n` bytes under the folio lock; `dst + off` is in
            // `buf` for `n` bytes (`off + n <= len`); they do not overlap.
            unsafe { core::ptr::copy_nonoverlapping(src, dst.add(off), n) };
            Ok(())
        })
    }

    /// Writes `buf` at byte offset `pos` of the device, through its page cache: the data
    /// reaches the device at writeback or at [`Metadata::sync`].
    ///
    /// Only the device blocks written to are marked dirty: a page of the device's cache may
    /// also hold blocks of file data, which are written to the device directly, and writing
    /// back the cache's copy of those would overwrite them.
    ///
    /// `EROFS` on a read-only mount, whose device must not change.
    pub fn write(&self, pos: u64, buf: &[u8]) -> Result {
        self.write_pieces(pos, buf, None)
    }

    fn write_pieces(&self, pos: u64, buf: &[u8], held: Option<&mut HeldMetadata>) -> Result {
        if self.read_only() {
            return Err(EROFS);
        }
        let src = buf.as_ptr();
        self.for_each_piece(pos, buf.len(), held, |off, dst, n, folio, in_folio| {
            // SAFETY: As in `read`, the other way round; the folio is locked, so no other
            // writer through the page cache runs concurrently, and it is uptodate, so the
            // blocks marked dirty hold correct contents.
            crate::error::to_result(unsafe {
                core::ptr::copy_nonoverlapping(src.add(off), dst, n);
                bindings::bdev_folio_mark_range_dirty(folio, in_folio, n)
            })
        })
    }

    /// Writes the dirty cached blocks of `[pos, pos + len)` to the device and waits for them,
    /// until none of them is dirty or under writeback. A filesystem calls it before freeing
    /// metadata blocks that may be reused for file data, whose writes bypass the cache: a dirty
    /// cached copy written back later would overwrite the data.
    ///
    /// What it reports is that condition, not the I/O's outcome: a block whose write failed
    /// is clean too (it will not be written again), and the error stays recorded for the next
    /// [`Metadata::sync`] (it is not consumed here, as `filemap_write_and_wait_range()` would).
    /// The condition is a page's: with blocks smaller than a page, a neighbouring block
    /// dirtied meanwhile keeps the page dirty, and the write is tried again, three times in
    /// all; `EBUSY` then.
    pub fn write_back(&self, pos: u64, len: u64) -> Result {
        if len == 0 {
            return Ok(());
        }
        let end = pos.checked_add(len - 1).ok_or(EINVAL)?;
        let end = i64::try_from(end).map_err(|_| EINVAL)?;
        let mapping = self.bdev_mapping();
        for _ in 0..3 {
            // SAFETY: The mapping is the block device's, valid (type invariant); the range is
            // inclusive and not empty. Errors of the writes stay in the mapping.
            unsafe {
                bindings::filemap_fdatawrite_range(mapping, pos as i64, end);
                bindings::filemap_fdatawait_range_keep_errors(mapping, pos as i64, end);
            }
            // SAFETY: As above.
            if !unsafe { bindings::mapping_range_dirty_or_writeback(mapping, pos as i64, end) } {
                return Ok(());
            }
        }
        Err(EBUSY)
    }

    /// Whether the superblock is mounted read-only (or was made so by
    /// [`NewSuperBlock::set_read_only`]). It stays so: remounting read-write is refused.
    pub fn read_only(&self) -> bool {
        // SAFETY: The superblock is alive (type invariant); `s_flags` changes under
        // `s_umount`, which we may not hold, so it is read once, as C's `sb_rdonly()` does.
        unsafe {
            core::ptr::read_volatile(core::ptr::addr_of!((*self.as_ptr()).s_flags))
                & bindings::SB_RDONLY
                != 0
        }
    }

    /// Writes back all dirty metadata and waits for it.
    pub fn sync(&self) -> Result {
        // SAFETY: `s_bdev` is valid (type invariant).
        to_result(unsafe { bindings::sync_blockdev(self.bdev()) })
    }

    /// A mark after every write error of the device's page cache recorded so far (in its
    /// `wb_err`), for [`Metadata::write_errors_since`]: a filesystem takes it at mount, so
    /// that the errors of an earlier mount are not taken for its own. The errors recorded so
    /// far are marked seen (`errseq_check_and_advance()`), as they must be for a later error
    /// of the same kind to be recorded as a new one; whoever sampled them before still sees
    /// them.
    pub fn mark_write_errors(&self) -> WriteErrorMark {
        let mut since = 0;
        // SAFETY: The mapping is the block device's, valid (type invariant); `wb_err` is only
        // accessed through the `errseq` functions, which are atomic. `since` is ours.
        unsafe {
            bindings::errseq_check_and_advance(
                core::ptr::addr_of_mut!((*self.bdev_mapping()).wb_err),
                &mut since,
            )
        };
        WriteErrorMark(since)
    }

    /// Whether a write of the device's page cache failed since `mark` (`errseq_check()`): its
    /// error then, whoever else has seen or cleared it meanwhile. Errors of metadata written
    /// back by the flusher, whose caller nobody waits for, are found this way.
    pub fn write_errors_since(&self, mark: &WriteErrorMark) -> Result {
        // SAFETY: As in `mark_write_errors`; `errseq_check` only reads.
        to_result(unsafe {
            bindings::errseq_check(
                core::ptr::addr_of_mut!((*self.bdev_mapping()).wb_err),
                mark.0,
            )
        })
    }

    /// Flushes the device's volatile write cache (`blkdev_issue_flush()`), so that what it
    /// completed so far survives a power failure: the last step of an `fsync`.
    pub fn flush_cache(&self) -> Result {
        // SAFETY: `s_bdev` is valid (type invariant); the function sleeps, as callers of
        // filesystem operations may.
        to_result(unsafe { bindings::blkdev_issue_flush(self.bdev()) })
    }
}

use crate::error::to_result;

/// Pages of a block device's page cache, held there by [`Metadata::hold`].
///
/// It holds references only: it may outlive the superblock, and handed to another
/// superblock's [`Metadata::write_held`] it is of no use (its pages are not that device's, and
/// are read again), never of harm.
///
/// # Invariants
///
/// `folios[i]` is the folio that held page `first + i` of a device's cache when it was read.
pub struct HeldMetadata {
    first: u64,
    folios: KVVec<ARef<Folio>>,
}

impl HeldMetadata {
    /// The held folio of page `index`, if this holds that page.
    fn slot(&mut self, index: u64) -> Option<&mut ARef<Folio>> {
        let i = usize::try_from(index.checked_sub(self.first)?).ok()?;
        self.folios.get_mut(i)
    }
}

/// A superblock being set up by [`FileSystem::fill_super`].
///
/// # Invariants
///
/// The superblock is new, held exclusively by the mount that is creating it (`s_umount` held for
/// writing), and has no filesystem data yet.
pub struct NewSuperBlock<'a, T: FileSystem> {
    sb: &'a Metadata,
    _p: PhantomData<T>,
}

impl<T: FileSystem> NewSuperBlock<'_, T> {
    /// # Safety
    ///
    /// `ptr` is a new superblock of type `T` as described in the type invariants, valid for the
    /// returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::super_block) -> NewSuperBlock<'a, T> {
        NewSuperBlock {
            // SAFETY: `Metadata` is transparent over the superblock, which is alive and has a
            // block device (the caller's contract).
            sb: unsafe { &*ptr.cast::<Metadata>() },
            _p: PhantomData,
        }
    }

    /// Sets the block size (a power of two from 512 to the page size, and at least the
    /// device's logical block size). Fails with `EINVAL` otherwise.
    pub fn set_block_size(&self, size: u32) -> Result {
        // SAFETY: The superblock is held exclusively (type invariant): nobody reads
        // `s_blocksize` concurrently. `sb_set_blocksize` checks the size and returns 0 if it is
        // not usable.
        if unsafe { bindings::sb_set_blocksize(self.sb.0.get(), size as _) } == 0 {
            return Err(EINVAL);
        }
        Ok(())
    }

    /// Sets the magic number reported in `statfs(2)`'s `f_type`.
    pub fn set_magic(&self, magic: u64) {
        // SAFETY: The superblock is held exclusively (type invariant).
        unsafe { (*self.sb.0.get()).s_magic = magic as _ };
    }

    /// Makes the mount read-only, whatever the mount options asked for.
    pub fn set_read_only(&self) {
        // SAFETY: The superblock is held exclusively (type invariant).
        unsafe { (*self.sb.0.get()).s_flags |= bindings::SB_RDONLY };
    }

    /// Sets the most links an inode may have (`s_max_links`): the VFS refuses a `link`,
    /// `mkdir` or `rename` that would go beyond it with `EMLINK`, before the filesystem is
    /// called. Zero, the default, means no limit.
    pub fn set_max_links(&self, max: u32) {
        // SAFETY: The superblock is held exclusively (type invariant).
        unsafe { (*self.sb.0.get()).s_max_links = max };
    }

    /// Sets the largest file size the filesystem supports, at most `MAX_LFS_FILESIZE` (the
    /// page cache's limit: beyond it an offset has no page index) and at least 0.
    pub fn set_max_bytes(&self, max: i64) {
        let max = max.clamp(0, bindings::MAX_LFS_FILESIZE);
        // SAFETY: The superblock is held exclusively (type invariant).
        unsafe { (*self.sb.0.get()).s_maxbytes = max };
    }
}

impl<T: FileSystem> core::ops::Deref for NewSuperBlock<'_, T> {
    type Target = Metadata;

    fn deref(&self) -> &Metadata {
        self.sb
    }
}

/// A superblock of filesystem type `T` whose data is set.
///
/// # Invariants
///
/// The superblock belongs to `T`, is alive and has a block device, and `s_fs_info` points to its
/// `T::Data` (see `set_data`), for as long as a `&SuperBlock<T>` exists.
#[repr(transparent)]
pub struct SuperBlock<T: FileSystem>(Metadata, PhantomData<T>);

impl<T: FileSystem> SuperBlock<T> {
    /// # Safety
    ///
    /// `ptr` is a superblock as described in the type invariants, for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::super_block) -> &'a Self {
        // SAFETY: `SuperBlock` is transparent over the superblock (through `Metadata`); the
        // rest is the caller's contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::super_block {
        self.0 .0.get()
    }

    /// The filesystem's data.
    pub fn data(&self) -> &T::Data {
        // SAFETY: `s_fs_info` points to the superblock's data (type invariant), dropped only
        // while no `&SuperBlock<T>` is handed out (see `drop_data`).
        unsafe { &*(*self.as_raw()).s_fs_info.cast::<T::Data>() }
    }

    /// Returns inode `ino`: the cached one, or a new one that the caller must initialise
    /// ([`inode::NewINode::init`]) before anybody else can use it. Either borrows the
    /// superblock.
    pub fn get_or_create_inode(
        &self,
        ino: Ino,
    ) -> Result<Either<inode::INodeRef<'_, T>, inode::NewINode<'_, T>>> {
        // SAFETY: The superblock is alive (type invariant); `iget_locked` returns a referenced
        // inode, locked and flagged `I_NEW` if it was just allocated, or null.
        let ptr = unsafe { bindings::iget_locked(self.as_raw(), ino as _) };
        let ptr = core::ptr::NonNull::new(ptr).ok_or(ENOMEM)?;
        // SAFETY: The inode is valid (we hold a reference); `i_state` is read under no lock,
        // which is how C tests `I_NEW` after `iget_locked` too: only this task clears it.
        let new = unsafe { (*ptr.as_ptr()).i_state & bindings::I_NEW != 0 };
        // SAFETY: The inode belongs to this superblock, alive while borrowed, so it was
        // allocated by `T`'s `alloc_inode`; we own the reference `iget_locked` returned.
        Ok(unsafe {
            if new {
                Either::Right(inode::NewINode::from_raw(ptr))
            } else {
                Either::Left(inode::INodeRef::from_raw(ptr))
            }
        })
    }

    /// A mapping of `length` bytes at file offset `offset` to the device blocks at byte address
    /// `addr` of this superblock's device, allocated ([`MappingType::Mapped`]) or unwritten.
    ///
    /// The device is the superblock's own, open while any of its inodes is; `EIO` if
    /// `[addr, addr + length)` is not inside it. That the blocks belong to the file is the
    /// filesystem's responsibility: wrong blocks give wrong data, never access to memory or
    /// devices outside the filesystem.
    ///
    /// [`MappingType::Mapped`]: crate::iomap::map::MappingType::Mapped
    #[cfg(CONFIG_IOMAP_RS)]
    pub fn device_iomap(
        &self,
        ty: crate::iomap::map::MappingType,
        offset: i64,
        length: u64,
        validity_cookie: u64,
        addr: u64,
    ) -> Result<crate::iomap::map::Iomap> {
        addr.checked_add(length)
            .filter(|&end| end <= self.device_bytes())
            .ok_or(EIO)?;
        // SAFETY: `s_bdev` is this superblock's device, open until the superblock is shut
        // down, after all its inodes and their I/O are gone; the range is inside the device.
        unsafe {
            crate::iomap::map::Iomap::with_device(
                ty,
                offset,
                length,
                validity_cookie,
                (*self.as_raw()).s_bdev,
                addr,
            )
        }
    }

    /// # Safety
    ///
    /// Only C calls this, as the `statfs` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    pub(crate) unsafe extern "C" fn statfs_callback(
        dentry: *mut bindings::dentry,
        buf: *mut bindings::kstatfs,
    ) -> crate::ffi::c_int {
        from_result(|| {
            // SAFETY: The VFS passes a dentry of a mounted superblock of this type (`s_op` is
            // `T`'s), whose data is set.
            let sb = unsafe { Self::from_raw((*dentry).d_sb) };
            let s = T::statfs(sb)?;
            // SAFETY: `buf` is valid for writes; the VFS zeroed it.
            let buf = unsafe { &mut *buf };
            buf.f_type = s.magic as _;
            buf.f_bsize = sb.block_size() as _;
            buf.f_frsize = sb.block_size() as _;
            buf.f_blocks = s.blocks;
            buf.f_bfree = s.bfree;
            buf.f_bavail = s.bavail;
            buf.f_files = s.files;
            buf.f_ffree = s.ffree;
            buf.f_namelen = s.namelen as _;
            Ok(0)
        })
    }
}

impl<T: FileSystem> SuperBlock<T> {
    /// # Safety
    ///
    /// Only C calls this, as the `sync_fs` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    pub(crate) unsafe extern "C" fn sync_fs_callback(
        sb: *mut bindings::super_block,
        wait: crate::ffi::c_int,
    ) -> crate::ffi::c_int {
        // SAFETY: The VFS syncs a superblock only between a successful `fill_super` (which
        // sets the data) and `put_super` (which drops it), holding `s_umount`, so that it
        // stays alive for the call: `sync_filesystem()` from `syncfs(2)` on one of its files,
        // a freeze or the unmount (before `put_super`; a failed mount has no root and is not
        // synced), `iterate_supers()` for `sync(2)` (born, not dying, with a root), and the
        // block device's `fs_bdev_sync` (active, with a root).
        let sb = unsafe { Self::from_raw(sb) };
        from_result(|| T::sync_fs(sb, wait != 0).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only C calls this, as the `freeze_fs` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    pub(crate) unsafe extern "C" fn freeze_fs_callback(
        sb: *mut bindings::super_block,
    ) -> crate::ffi::c_int {
        // SAFETY: `freeze_super()` freezes a mounted superblock (data set) and holds
        // `s_umount` for the call.
        let sb = unsafe { Self::from_raw(sb) };
        from_result(|| T::freeze_fs(sb).map(|()| 0))
    }

    /// Starts an internal change of the filesystem (`sb_start_intwrite()`): one that no
    /// system call's freeze protection covers, such as deleting an inode at eviction, or
    /// writing an inode for `fsync`. A freeze waits for the changes started to end, and while
    /// the filesystem is frozen this waits for the thaw: so nothing reaches the device of a
    /// frozen filesystem. The change ends when the returned guard is dropped.
    ///
    /// It ranks below the freeze protection of writes and page faults, which may be held,
    /// and must not be started twice by one task (a freeze between the two would deadlock);
    /// lockdep checks both. It must not be started under `s_umount` (in
    /// [`FileSystem::sync_fs`], [`FileSystem::freeze_fs`], or `write_inode` as `sync(2)` and
    /// the flusher call it), nor `s_umount` waited for while it is held: a freeze holds
    /// `s_umount` while it waits for the internal changes, and a thaw needs it.
    ///
    /// A guard that is leaked is a deadlock, not memory unsafety: the next freeze waits for
    /// it forever, holding `s_umount` with writes already blocked, so that every writer of
    /// the filesystem, `syncfs`, the unmount and every `sync(2)` of the system hang.
    ///
    /// [`FileSystem::sync_fs`]: super::FileSystem::sync_fs
    /// [`FileSystem::freeze_fs`]: super::FileSystem::freeze_fs
    pub fn start_intwrite(&self) -> IntWrite<'_, T> {
        // SAFETY: The superblock is alive (type invariant) for as long as the guard borrows
        // it; the protection is released once, by the guard.
        unsafe { bindings::sb_start_intwrite(self.as_raw()) };
        // INVARIANT: Taken above.
        IntWrite(self, PhantomData)
    }

    /// [`SuperBlock::start_intwrite`] if it need not wait (`sb_start_intwrite_trylock()`):
    /// `None` while a freeze is past the point where it waits for internal changes, or done.
    pub fn try_start_intwrite(&self) -> Option<IntWrite<'_, T>> {
        // SAFETY: As in `start_intwrite`; on success the protection is released once, by the
        // guard.
        let started = unsafe { bindings::sb_start_intwrite_trylock(self.as_raw()) };
        // INVARIANT: Taken if `started`.
        started.then(|| IntWrite(self, PhantomData))
    }

    /// Writes back the dirty data of every inode of the filesystem and waits for it
    /// (`sync_inodes_sb()`), as a filesystem that ran out of space does to turn the worst-case
    /// reservations of its dirty data into what writeback really used (XFS's
    /// `xfs_flush_inodes()`). Returns whether it did: not while a mount change, an unmount or a
    /// freeze holds `s_umount`, which it only tries to take (a writer holds freeze protection,
    /// which a freeze waits for under `s_umount`).
    ///
    /// Sleeps; must not be called with a folio of the filesystem locked, nor with a lock that
    /// its writeback or I/O completion takes.
    pub fn write_back_data(&self) -> bool {
        let sb = self.as_raw();
        // SAFETY: The superblock is alive (type invariant), and `s_umount` is initialised
        // with it.
        let taken = unsafe { bindings::down_read_trylock(core::ptr::addr_of_mut!((*sb).s_umount)) };
        if taken == 0 {
            return false;
        }
        // SAFETY: `s_umount` is held for reading, as `sync_inodes_sb()` requires, which keeps
        // the superblock from being shut down meanwhile.
        unsafe { bindings::sync_inodes_sb(sb) };
        // SAFETY: Taken above.
        unsafe { bindings::up_read(core::ptr::addr_of_mut!((*sb).s_umount)) };
        true
    }

    /// Whether the filesystem is frozen: [`FileSystem::freeze_fs`] has completed, and
    /// nothing writes to it until it is thawed. A snapshot: it may change right after.
    ///
    /// [`FileSystem::freeze_fs`]: super::FileSystem::freeze_fs
    pub fn is_frozen(&self) -> bool {
        // SAFETY: The superblock is alive (type invariant); `frozen` changes under
        // `s_umount`, which we may not hold, so it is read once, as C does.
        let frozen = unsafe {
            core::ptr::read_volatile(core::ptr::addr_of!((*self.as_raw()).s_writers.frozen))
        };
        u32::from(frozen) == bindings::SB_FREEZE_COMPLETE
    }
}

/// A mark in the history of a device's page cache write errors
/// ([`Metadata::mark_write_errors`]).
#[derive(Clone, Copy, Debug)]
pub struct WriteErrorMark(bindings::errseq_t);

/// An internal change of a filesystem in progress ([`SuperBlock::start_intwrite`]), which a
/// freeze waits for.
///
/// # Invariants
///
/// The superblock's `SB_FREEZE_FS` protection is held by this task, released on drop (by the
/// same task: the guard is not `Send`, as lockdep wants a lock released by its owner).
pub struct IntWrite<'a, T: FileSystem>(&'a SuperBlock<T>, PhantomData<*mut ()>);

impl<T: FileSystem> Drop for IntWrite<'_, T> {
    fn drop(&mut self) {
        // SAFETY: Held (type invariant), released once.
        unsafe { bindings::sb_end_intwrite(self.0.as_raw()) };
    }
}

impl<T: FileSystem> core::ops::Deref for SuperBlock<T> {
    type Target = Metadata;

    fn deref(&self) -> &Metadata {
        &self.0
    }
}

/// Sets the data of superblock `sb` to `data`, which `s_fs_info` then owns: from now on a
/// `&SuperBlock<T>` may be made of it.
///
/// # Safety
///
/// `sb` is a new superblock of type `T`, held exclusively, whose `s_fs_info` is null.
pub(crate) unsafe fn set_data<T: FileSystem>(
    sb: *mut bindings::super_block,
    data: Pin<KBox<T::Data>>,
) {
    // SAFETY: The data is not moved out of the allocation until `drop_data` drops it in place.
    let data = KBox::into_raw(unsafe { Pin::into_inner_unchecked(data) });
    // SAFETY: The caller's contract.
    unsafe { (*sb).s_fs_info = data.cast() };
}

/// Drops and frees the data of superblock `sb`, if it has any, and clears `s_fs_info`.
///
/// The data holds no inode (an [`inode::INodeRef`] borrows its superblock, which the data
/// cannot), so its drop evicts none, and no inode callback can see it half dropped.
///
/// # Safety
///
/// `sb` is a superblock of type `T` whose `s_fs_info` is null or was set by [`set_data`], and
/// that has no inode left and no `&SuperBlock<T>` handed out: a failed mount, or `put_super`.
pub(crate) unsafe fn drop_data<T: FileSystem>(sb: *mut bindings::super_block) {
    // SAFETY: The caller's contract.
    let data = unsafe { (*sb).s_fs_info.cast::<T::Data>() };
    if data.is_null() {
        return;
    }
    // SAFETY: `set_data` made `s_fs_info` with `KBox::into_raw` of a pinned box; this is its
    // only release, and nothing uses the data meanwhile (the caller's contract).
    unsafe {
        (*sb).s_fs_info = core::ptr::null_mut();
        drop(Pin::new_unchecked(KBox::from_raw(data)));
    }
}

/// One of two values.
pub enum Either<L, R> {
    /// The first.
    Left(L),
    /// The second.
    Right(R),
}

/// Filesystem statistics, as `statfs(2)` reports them.
#[derive(Clone, Copy, Default)]
pub struct Stat {
    /// The filesystem's magic number (`f_type`).
    pub magic: u64,
    /// Size in blocks.
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Free blocks available to unprivileged users.
    pub bavail: u64,
    /// Inodes.
    pub files: u64,
    /// Free inodes.
    pub ffree: u64,
    /// Longest name.
    pub namelen: u64,
}
