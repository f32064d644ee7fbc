// SPDX-License-Identifier: GPL-2.0

//! xtfs regular files: reads, buffered writes, writeback, truncation.
//!
//! # Writes and the validity cookie
//!
//! Buffered writes go through `kernel::iomap::write::buffered_write` with [`FileMap`] as the
//! filesystem side. Mapping a hole for a write reserves the blocks in the free-space counts and
//! inserts a delayed allocation; writeback ([`XtfsMapper`]'s `map_blocks`) allocates the blocks
//! of a delayed allocation as unwritten extents, and the I/O completion (in the ioend queue's
//! workqueue) converts what it wrote to written. Each of these changes bumps the extent tree's
//! generation, sampled under the extent lock into the `validity_cookie` of each mapping:
//!
//! - the write path checks every folio, once locked, against the generation
//!   ([`FileMap::iomap_valid`]): a write holding a mapping of an unwritten extent that writeback
//!   converted meanwhile (and reclaim then evicted the clean folio) would otherwise zero the
//!   data on disk when it re-creates the folio (the corruption fixed upstream by d7b64041);
//! - writeback reuses its cached mapping only while the generation is unchanged, as XFS does
//!   with its sequence counters.
//!
//! A write that ends short gives back the reservation it made and did not use through
//! `kernel::iomap::delalloc::write_delalloc_release`, which keeps the reservation under dirty
//! folios a page fault may have put there.
//!
//! # Lock order
//!
//! `i_rwsem`, `invalidate_lock`, folio locks, a journal handle, the inode's extent lock, the
//! allocator's lock, the journal's lock, the block device's folio locks (metadata). No file
//! folio is locked with a handle open: a commit waits for every handle, and writeback holds
//! a folio lock while it opens one.

use crate::alloc::Alloc;
use crate::extents::{Extents, Lookup};
use crate::format::{Extent, EXTENT_UNWRITTEN};
use crate::journal::Handle;
use crate::reserve;
use crate::Xtfs;
use core::sync::atomic::Ordering;
use kernel::fs::{
    self, address_space,
    file::{Fallocate, FallocateMode, File},
    inode::{self, INode},
    sb::SuperBlock,
};
use kernel::iomap::{
    control::{self, rust_writes_enabled, Fix, PausePoint},
    delalloc::write_delalloc_release,
    iter::{IomapOps, IterFlags},
    map::{Iomap, IomapFlags, MappingType},
    range::FileRange,
    write::buffered_write,
    zero,
};
use kernel::pagecache::{FaultFolio, Inode, InodeLock, InvalidateLockWrite, VmFault};
use kernel::prelude::*;
use kernel::uio::{IovIter, Kiocb};

/// Attribute changes of files that do not change their size, or of directories and symbolic
/// links, whose size only the filesystem changes.
pub(crate) fn check_no_size_change(inode: &INode<Xtfs>, change: &inode::AttrChange) -> Result {
    match change.size {
        Some(size) if size != inode.as_inode().size() => Err(EPERM),
        _ => Ok(()),
    }
}

/// The extents a buffered write or write fault through a mapping of type `ty` is charged per
/// block ([`reserve`](crate::reserve)), `new` if it made the mapping (a delayed allocation over
/// a hole); 0 for no charge. A delayed allocation is charged once, when it is made: it keeps
/// its charge until it is allocated or removed, however often its blocks are written.
fn charge_per_block(flags: IterFlags, ty: MappingType, new: bool) -> u64 {
    if !flags.contains(IterFlags::WRITE) || flags.contains(IterFlags::DIRECT) {
        return 0;
    }
    match ty {
        MappingType::Delalloc if new => reserve::DELALLOC_CHARGE,
        MappingType::Unwritten if !flags.contains(IterFlags::ZERO) => reserve::UNWRITTEN_CHARGE,
        _ => 0,
    }
}

/// The mapping type of extent `e`.
fn mapping_type(e: &Extent) -> MappingType {
    if e.is_delalloc() {
        MappingType::Delalloc
    } else if e.is_unwritten() {
        MappingType::Unwritten
    } else {
        MappingType::Mapped
    }
}

/// How C iomap and `kernel::iomap` map xtfs files: [`FileMap`].
pub(crate) struct XtfsMapper;

impl address_space::Mapper for XtfsMapper {
    type FileSystem = Xtfs;
    type Ops<'a> = FileMap<'a>;

    fn ops(inode: &INode<Xtfs>) -> FileMap<'_> {
        FileMap { inode }
    }

    const DIRECT_IO: bool = true;
}

impl address_space::DirectWrite for XtfsMapper {
    /// Converts the unwritten extents the write filled, extends the file if it ended beyond
    /// EOF, and writes the inode (as an I/O completion of writeback does).
    fn direct_write_done(
        inode: &INode<Xtfs>,
        lock: &InodeLock<'_>,
        offset: i64,
        size: u64,
        unwritten: bool,
    ) -> Result {
        let bits = inode.super_block().block_bits();
        if unwritten {
            let start = offset as u64 >> bits;
            let end = (offset as u64 + size).div_ceil(1 << bits);
            inode.data().info.lock().extents.convert(start, end)?;
        }
        let end = offset.saturating_add(size as i64);
        if end > inode.as_inode().size() {
            lock.write_size(end)?;
        }
        crate::store_inode_completed(inode, offset, false)
    }
}

/// The iomap operations of one file.
pub(crate) struct FileMap<'a> {
    inode: &'a INode<Xtfs>,
}

impl FileMap<'_> {
    /// The mapping of `blocks` blocks of extent type `ty` at file block `block`, on device
    /// block `disk` if it has one.
    fn iomap(
        &self,
        ty: MappingType,
        block: u64,
        blocks: u64,
        disk: Option<u64>,
        cookie: u64,
    ) -> Result<Iomap> {
        let sb = self.inode.super_block();
        let bits = sb.block_bits();
        let (offset, length) = ((block << bits) as i64, blocks << bits);
        match disk {
            Some(disk) => sb.device_iomap(ty, offset, length, cookie, disk << bits),
            None => Iomap::new(ty, offset, length, cookie),
        }
    }

    /// Charges the inode's tree reservation for a write through a mapping of type `ty` that
    /// covers `blocks` blocks, `new` if the write made it ([`reserve`](crate::reserve)).
    /// `ENOSPC` if the space is not there.
    fn charge(
        &self,
        info: &mut crate::InodeInfo,
        flags: IterFlags,
        ty: MappingType,
        new: bool,
        blocks: u64,
    ) -> Result {
        let per_block = charge_per_block(flags, ty, new);
        if per_block == 0 {
            return Ok(());
        }
        let m = self.inode.super_block().data();
        let inode = reserve::Inode {
            disk: info.extents.disk_len() as u64,
            // A new delayed allocation is not in the extents yet.
            blocks: info.extents.blocks() + if new { blocks } else { 0 },
            tree: info.tree.blocks(),
        };
        info.reserve
            .charge(per_block.saturating_mul(blocks), inode, &m.sb, |n| {
                m.alloc.lock().reserve_metadata(n)
            })
    }

    /// The mapping of file blocks `[block, end_block)` for direct I/O. Reads see holes,
    /// unwritten extents (C iomap reads both as zeroes) and blocks; a delayed allocation reads
    /// as a hole (its data, if any, is in the cache, which C iomap wrote back before the read).
    /// Writes need blocks: holes get unwritten extents, allocated now (as much of the range as
    /// there is space for), and delayed allocations are allocated (their data was written back
    /// before the write); the completion converts what the write filled.
    fn map_direct(
        &self,
        mut h: Option<&mut Handle<'_>>,
        info: &mut crate::InodeInfo,
        block: u64,
        end_block: u64,
    ) -> Result<Iomap> {
        let sb = self.inode.super_block();
        let m = sb.data();
        let mut allocated = false;
        loop {
            let generation = info.extents.generation();
            match info.extents.lookup(block) {
                Lookup::Extent(e) if e.is_delalloc() => match h.as_deref() {
                    Some(h) => {
                        allocate_delalloc(h, info, &e)?;
                        allocated = true;
                    }
                    None => {
                        let blocks = e.end().min(end_block) - block;
                        return self.iomap(MappingType::Hole, block, blocks, None, generation);
                    }
                },
                Lookup::Extent(e) => {
                    if let (Some(h), true) = (h.as_deref_mut(), allocated) {
                        // Recorded with the allocation, also if the write fails and no
                        // completion runs.
                        crate::store_locked(h, self.inode, info)?;
                    }
                    let generation = info.extents.generation();
                    let blocks = e.end().min(end_block) - block;
                    let disk = e.disk_block + (block - e.file_block);
                    return self.iomap(mapping_type(&e), block, blocks, Some(disk), generation);
                }
                Lookup::Hole { end } => match h.as_deref() {
                    Some(h) => {
                        let n = (end.min(end_block) - block).min(u32::MAX as u64);
                        let mut alloc = m.alloc.lock();
                        let n = alloc.reserve_up_to(&m.sb, n)?;
                        let got = allocate_unwritten(h, &mut alloc, &mut info.extents, block, n)?;
                        alloc.unreserve(n - got);
                        allocated = true;
                    }
                    None => {
                        let blocks = end.min(end_block).max(block + 1) - block;
                        return self.iomap(MappingType::Hole, block, blocks, None, generation);
                    }
                },
            }
        }
    }

    /// Removes the delayed allocations within the bytes `range`, giving back their
    /// reservation and their charge of the tree reservation.
    fn punch_delalloc(inode: &INode<Xtfs>, range: FileRange) -> Result {
        let sb = inode.super_block();
        let m = sb.data();
        let bits = sb.block_bits();
        let start = range.start() as u64 >> bits;
        let end = (range.end() as u64).div_ceil(1 << bits);
        let mut info = inode.data().info.lock();
        let mut alloc = m.alloc.lock();
        let mut removed = 0;
        info.extents.remove(
            start,
            end,
            |e| e.is_delalloc(),
            |e| {
                alloc.unreserve(e.len as u64);
                removed += e.len as u64;
            },
        )?;
        info.uncharge(
            &mut alloc,
            &m.sb,
            reserve::DELALLOC_CHARGE.saturating_mul(removed),
        );
        Ok(())
    }
}

impl IomapOps for FileMap<'_> {
    fn begin(
        &mut self,
        pos: i64,
        len: u64,
        flags: IterFlags,
        iomap: &mut Iomap,
        _srcmap: &mut Iomap,
    ) -> Result {
        let sb = self.inode.super_block();
        let m = sb.data();
        let bits = sb.block_bits();
        let pos = u64::try_from(pos).map_err(|_| EINVAL)?;
        let block = pos >> bits;
        // Mappings end at the largest file size, whole blocks (see `fill_super`).
        let last_block = (i64::MAX as u64) >> bits;
        if block >= last_block {
            return Err(EFBIG);
        }
        // Map whole blocks, up to the end of the requested range rounded up.
        let end_block = pos
            .checked_add(len.max(1))
            .map_or(last_block, |end| end.div_ceil(1 << bits).min(last_block));
        let reserve = flags.contains(IterFlags::WRITE) && !flags.contains(IterFlags::ZERO);

        // Direct writes allocate: a handle first (see the lock order).
        let mut handle = if flags.contains(IterFlags::DIRECT) && flags.contains(IterFlags::WRITE) {
            Some(sb.data().journal.start(sb)?)
        } else {
            None
        };
        // A test can see this task find the lock held (by writeback or a completion, say)
        // before it waits.
        let mut info = control::lock_or_pause(
            &self.inode.data().info,
            PausePoint::FsExtentLockWait,
            self.inode.as_inode(),
            pos as i64,
        );
        if flags.contains(IterFlags::DIRECT) {
            let mapped = self.map_direct(handle.as_mut(), &mut info, block, end_block);
            drop(info);
            *iomap = match handle {
                Some(h) => h.finish(mapped)?,
                None => mapped?,
            };
            return Ok(());
        }
        let (ty, blocks, disk, new) = loop {
            break match info.extents.lookup(block) {
                Lookup::Extent(e) => {
                    let ty = mapping_type(&e);
                    let blocks = e.end().min(end_block) - block;
                    // (Pending blocks back the charge too: a commit would not help.)
                    self.charge(&mut info, flags, ty, false, blocks)?;
                    let disk = (!e.is_delalloc()).then(|| e.disk_block + (block - e.file_block));
                    (ty, blocks, disk, false)
                }
                Lookup::Hole { end } if reserve => {
                    // A delayed allocation for the part of the hole the write covers (as much
                    // of it as there is space for: a write that fills the filesystem ends
                    // short at its last free block): reserved now, so that writeback never
                    // runs out of space.
                    //
                    // The reservation is made without the extent lock, which writeback and
                    // I/O completion need and the allocator's lock should not be nested in.
                    // A write holds `i_rwsem`, so nothing else maps this hole meanwhile; a
                    // write fault holds only `invalidate_lock` shared and the folio lock,
                    // which preallocation does not take: it can fill the hole now. So the
                    // hole is looked up again under the lock before the delayed allocation
                    // goes in (the ext4 race between `page_mkwrite` and `fallocate`);
                    // inserting it over the new unwritten extent would leak its blocks and
                    // its preallocation.
                    let n = (end.min(end_block) - block).min(u32::MAX as u64);
                    drop(info);
                    let mut n = reserve_up_to(sb, n)?;
                    if flags.contains(IterFlags::FAULT) {
                        control::pause(PausePoint::FsMkwriteMap, self.inode.as_inode(), pos as i64);
                    }
                    info = self.inode.data().info.lock();
                    if control::fix_enabled(Fix::FsMkwriteRecheck) {
                        match info.extents.lookup(block) {
                            Lookup::Hole { end } => {
                                let fits = end.min(block + n) - block;
                                m.alloc.lock().unreserve(n - fits);
                                n = fits;
                            }
                            Lookup::Extent(_) => {
                                m.alloc.lock().unreserve(n);
                                continue;
                            }
                        }
                    } else {
                        // Without the recheck (a debug knob): whatever appeared meanwhile is
                        // replaced, its blocks leaked.
                        info.extents.remove(block, block + n, |_| true, |_| {})?;
                    }
                    // The space its writeback and completion may need for the extent tree, then
                    // the delayed allocation (nothing to undo in the tree if that fails).
                    let charged = self.charge(&mut info, flags, MappingType::Delalloc, true, n);
                    if let Err(e) =
                        charged.and_then(|()| info.extents.insert_delalloc(block, n as u32))
                    {
                        m.alloc.lock().unreserve(n);
                        return Err(e);
                    }
                    (MappingType::Delalloc, n, None, true)
                }
                Lookup::Hole { end } => (
                    MappingType::Hole,
                    end.min(end_block).max(block + 1) - block,
                    None,
                    false,
                ),
            };
        };
        // Sampled under the lock, after the change: the cookie matches the tree exactly.
        *iomap = self.iomap(ty, block, blocks, disk, info.extents.generation())?;
        if new {
            iomap.mark_new();
        }
        if charge_per_block(flags, ty, new) > 0 {
            // Until `end`: its folios may not be dirty before (see `store_inode`).
            self.inode
                .data()
                .charged_writers
                .fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// After a write that ended short in a delayed allocation it made, gives back what it did
    /// not use, except under dirty folios (see `write_delalloc_release`). A page fault's
    /// mapping is left alone: the fault holds `invalidate_lock` shared, and a failed fault
    /// leaves a reservation that truncation or eviction gives back.
    ///
    /// A write that charged the tree reservation (`begin`) ends here: its folios are dirty,
    /// and the charge of the blocks it did not write goes.
    fn end(
        &mut self,
        pos: i64,
        len: u64,
        written: u64,
        flags: IterFlags,
        iomap: &mut Iomap,
    ) -> Result {
        let new = iomap.flags().contains(IomapFlags::NEW);
        let ty = iomap.mapping_type();
        let per_block = ty.map_or(0, |ty| charge_per_block(flags, ty, new));
        // A new delayed allocation's charge for the blocks it did not write goes with them
        // (`punch_delalloc`, below).
        if per_block > 0 && matches!(ty, Ok(MappingType::Unwritten)) {
            let bits = self.inode.super_block().block_bits();
            let start = pos.max(0) as u64;
            let blocks_to = |bytes: u64| start.saturating_add(bytes).div_ceil(1 << bits);
            let used = if written == 0 {
                start >> bits
            } else {
                blocks_to(written)
            };
            // What `begin` charged: the mapping's blocks within the request (the iterator
            // passes the request itself when it refuses a mapping).
            let mapped = iomap
                .range()
                .map_or(0, |r| (r.end().saturating_sub(pos).max(0) as u64).min(len));
            let unused = if mapped == 0 {
                0
            } else {
                blocks_to(mapped).saturating_sub(used)
            };
            if unused > 0 {
                let m = self.inode.super_block().data();
                let mut info = self.inode.data().info.lock();
                info.uncharge(&mut m.alloc.lock(), &m.sb, per_block.saturating_mul(unused));
            }
        }
        if per_block > 0 {
            // Release: the dirtying before it is seen by whoever sees the count drop.
            self.inode
                .data()
                .charged_writers
                .fetch_sub(1, Ordering::Release);
        }
        if !matches!(iomap.mapping_type(), Ok(MappingType::Delalloc))
            || !iomap.flags().contains(IomapFlags::NEW)
            || flags.contains(IterFlags::FAULT)
        {
            return Ok(());
        }
        let bs = self.inode.super_block().block_size() as i64;
        let round_up = |x: i64| x.saturating_add(bs - 1) & !(bs - 1);
        let start = if written == 0 {
            pos & !(bs - 1)
        } else {
            round_up(pos.saturating_add(written as i64))
        };
        let end = round_up(pos.saturating_add(len as i64));
        if start >= end {
            return Ok(());
        }
        let inode = self.inode;
        let lock = inode.as_inode().mapping().invalidate_lock_write();
        write_delalloc_release(
            &lock,
            inode.as_inode(),
            FileRange::new(start, end)?,
            |_: &Inode, r: FileRange| Self::punch_delalloc(inode, r),
        )
    }

    /// Whether `iomap` still describes the file: its cookie is the current generation.
    fn iomap_valid(&mut self, iomap: &Iomap) -> bool {
        // Without the extent lock, as XFS reads `if_seq` (see `Published::generation`).
        self.inode.data().published.generation() == iomap.validity_cookie()
    }
}

impl address_space::Writeback for XtfsMapper {
    /// Keeps the cached mapping while it covers `offset` and the extent tree has not changed;
    /// otherwise maps the extent at `offset`, allocating a delayed allocation (all of it, as
    /// unwritten extents) first.
    fn map_blocks(inode: &INode<Xtfs>, iomap: &mut Iomap, offset: i64, _len: u32) -> Result {
        let sb = inode.super_block();
        // Data written now would go to blocks that no stored extent may ever record.
        crate::live(sb)?;
        let bits = sb.block_bits();
        let block = u64::try_from(offset).map_err(|_| EIO)? >> bits;
        // A handle for an allocation, opened before the extent lock (see the lock order), and
        // declared first: the lock's guard ends its no-reclaim scope first.
        let mut h = None;
        let mut info = inode.data().info.lock();
        let generation = info.extents.generation();
        if iomap.validity_cookie() == generation && iomap.range().is_ok_and(|r| r.contains(offset))
        {
            return Ok(());
        }
        let e = loop {
            match info.extents.lookup(block) {
                Lookup::Extent(e) if e.is_delalloc() => {
                    let Some(h) = h.as_ref() else {
                        drop(info);
                        h = Some(sb.data().journal.start(sb)?);
                        info = inode.data().info.lock();
                        continue;
                    };
                    allocate_delalloc(h, &mut info, &e)?;
                }
                Lookup::Extent(e) => break Some(e),
                Lookup::Hole { end } => {
                    // Dirty data over a hole (it cannot be written): report the hole.
                    let blocks = end.min((i64::MAX as u64) >> bits) - block;
                    *iomap = Iomap::new(
                        MappingType::Hole,
                        (block << bits) as i64,
                        blocks.max(1) << bits,
                        info.extents.generation(),
                    )?;
                    break None;
                }
            }
        };
        // The allocation recorded in the transaction that makes it: the blocks are the file's
        // (unwritten until the completion converts them) after a crash too.
        if let Some(mut h) = h.take() {
            let stored = crate::store_allocated(&mut h, inode, &mut info);
            // The lock's guard first: it ends the no-reclaim scope it began inside the handle's.
            drop(info);
            h.finish(stored)?;
            // Mapped again under the lock: the extents may have changed meanwhile. The
            // allocation is made, so this takes no handle.
            return Self::map_blocks(inode, iomap, offset, _len);
        }
        if let Some(e) = e {
            let map = FileMap { inode };
            *iomap = map.iomap(
                mapping_type(&e),
                e.file_block,
                e.len as u64,
                Some(e.disk_block),
                info.extents.generation(),
            )?;
        }
        Ok(())
    }

    /// Writeback lost the data from `range.start()` to the end of its folio: the delayed
    /// allocations under it are given back, or its reservation would outlive it. (Should the
    /// extent list not be rebuilt for want of memory, the reservation stays until the file is
    /// truncated or evicted.)
    fn discard_folio(inode: &INode<Xtfs>, range: FileRange) {
        if FileMap::punch_delalloc(inode, range).is_err() {
            sb_log!(
                pr_warn,
                inode.super_block(),
                "inode {}: a reservation outlives lost data\n",
                inode.ino()
            );
        }
    }

    fn ioend_queue(inode: &INode<Xtfs>) -> &address_space::IoendQueue<XtfsMapper> {
        &inode.super_block().data().ioends
    }

    /// Converts the unwritten extents the I/O wrote to written, and marks the inode dirty so
    /// that the extents are written back with it. The tree blocks the store may need were
    /// reserved when the data was dirtied, and the charge of the blocks the I/O wrote goes
    /// ([`reserve`](crate::reserve)), also when it failed.
    ///
    /// The inode is written to the inode table here, not only marked dirty: writeback and
    /// `sync` write a dirty inode right after submitting its data, before this completion
    /// changes the extents, and a re-dirtied inode would miss the `sync` (and an unmount) that
    /// waited for this very I/O. The blocks writeback allocated are recorded with it, also
    /// when the I/O failed.
    fn complete_ioend(inode: &INode<Xtfs>, ioend: &address_space::Ioend) -> Result {
        if ioend.mapping_type != MappingType::Unwritten {
            return Ok(());
        }
        if ioend.error.is_none() {
            control::pause(PausePoint::FsIoendConvert, inode.as_inode(), ioend.offset);
        }
        let bits = inode.super_block().block_bits();
        let start = ioend.offset as u64 >> bits;
        let end = (ioend.offset as u64)
            .saturating_add(ioend.size)
            .div_ceil(1 << bits)
            .max(start);
        {
            let mut info = inode.data().info.lock();
            if ioend.error.is_none() {
                info.extents.convert(start, end)?;
            }
            // Held until the store settles the reservation.
            info.reserve
                .uncharge(reserve::CONVERTED.saturating_mul(end - start));
            let io_end = ioend.offset.saturating_add(ioend.size as i64);
            if info.reserve.charged() && crate::quiet(inode, ioend.offset, io_end) {
                let delalloc = info.extents.delalloc_blocks();
                info.reserve.quiet(delalloc);
            }
        }
        crate::store_inode_completed(inode, ioend.offset, true)
    }
}

/// Changes the size of `inode` to `size` (`truncate(2)`, `ftruncate(2)`, `open(O_TRUNC)`),
/// holding `invalidate_lock` so that page faults cannot instantiate folios meanwhile.
///
/// Growing zeroes the cached data between the old and the new size (a folio straddling the
/// old EOF may hold stale bytes past it). Shrinking zeroes the rest of the block at the new
/// EOF through the library, drops the cache beyond, then frees the blocks and reservations of
/// whole blocks beyond.
fn set_size(inode: &INode<Xtfs>, lock: &InodeLock<'_>, size: i64) -> Result {
    let invalidate = inode.as_inode().mapping().invalidate_lock_write();
    set_size_locked(inode, lock, &invalidate, size)
}

/// [`set_size`], with `invalidate_lock` held.
fn set_size_locked(
    inode: &INode<Xtfs>,
    lock: &InodeLock<'_>,
    invalidate: &InvalidateLockWrite<'_>,
    size: i64,
) -> Result {
    let old = inode.as_inode().size();
    if size == old {
        return Ok(());
    }
    let sb = inode.super_block();
    let m = sb.data();
    let bits = sb.block_bits();
    let mut ops = FileMap { inode };
    if size > old {
        zero::zero_range(
            &mut ops,
            invalidate,
            inode.as_inode(),
            FileRange::new(old, size)?,
        )?;
        return lock.set_size_truncate(invalidate, size);
    }
    zero::truncate_page(&mut ops, invalidate, inode.as_inode(), size)?;
    lock.set_size_truncate(invalidate, size)?;
    let first = (size as u64).div_ceil(1 << bits);
    // The blocks freed and the inode that no longer has them in one transaction: after a
    // crash, no inode holds a block the bitmap calls free.
    let mut h = m.journal.start(sb)?;
    let mut info = inode.data().info.lock();
    let done = remove_and_store(&mut h, inode, &mut info, first, u64::MAX);
    drop(info);
    h.finish(done)
}

/// Removes the extents in file blocks `[first, last)` of `inode`, whose extent lock is held
/// (`info`), frees their blocks and reservations, and stores the inode, in the transaction of
/// `h`: after a crash, no inode holds a block the bitmap calls free.
fn remove_and_store(
    h: &mut Handle<'_>,
    inode: &INode<Xtfs>,
    info: &mut crate::InodeInfo,
    first: u64,
    last: u64,
) -> Result {
    let m = inode.super_block().data();
    let mut freed = Ok(());
    {
        let mut alloc = m.alloc.lock();
        info.extents.remove(
            first,
            last,
            |_| true,
            |e| freed = freed.and(alloc.release(h, &m.sb, e, false)),
        )?;
    }
    crate::store_locked(h, inode, info)?;
    freed
}

/// Allocates blocks for (the start of) delayed allocation `e` out of its reservation, as an
/// unwritten extent, and gives back their charge of the inode's tree reservation (the store
/// that records them settles it). If the extent cannot be recorded, the blocks are freed and
/// reserved again: nothing changed.
fn allocate_delalloc(h: &Handle<'_>, info: &mut crate::InodeInfo, e: &Extent) -> Result {
    let sb = h.sb();
    let s = &sb.data().sb;
    let mut alloc = sb.data().alloc.lock();
    let (disk, got) = alloc.allocate_reserved(h, s, e.len as u64)?;
    info.extents
        .allocate(e.file_block, got as u32, disk)
        .inspect_err(|_| {
            // The bitmap blocks are in the transaction already (the allocation put them
            // there): freeing needs no memory and cannot fail.
            let _ = alloc.unallocate_reserved(h, s, disk, got);
        })?;
    info.reserve.uncharge(reserve::ALLOCATED * got);
    Ok(())
}

/// Allocates up to `want` blocks of the caller's reservation for the file blocks from `block`
/// on, a hole in `extents`, and inserts them as an unwritten extent. Returns how many it
/// allocated; the caller still holds the reservation of the rest. On failure the whole
/// reservation of `want` blocks is given back and nothing stays allocated.
fn allocate_unwritten(
    h: &Handle<'_>,
    alloc: &mut Alloc,
    extents: &mut Extents,
    block: u64,
    want: u64,
) -> Result<u64> {
    let s = &h.sb().data().sb;
    let (disk, got) = alloc
        .allocate_reserved(h, s, want)
        .inspect_err(|_| alloc.unreserve(want))?;
    let e = Extent {
        file_block: block,
        disk_block: disk,
        len: got as u32,
        flags: EXTENT_UNWRITTEN,
    };
    if let Err(err) = extents.insert(e) {
        let _ = alloc.free(h, s, disk, got);
        alloc.unreserve(want - got);
        return Err(err);
    }
    Ok(got)
}

/// Extents a preallocation makes in one operation of the journal at most: its bitmap blocks
/// and the tree blocks that record them must fit in what is left of the running transaction.
const PREALLOCATE_EXTENTS: u64 = 32;

/// Allocates unwritten extents over the holes among file blocks `[start, end)`
/// (preallocation): they read as zeroes until written, and writes to them need no more space.
/// Delayed allocations stay as they are: their space is already reserved. `ENOSPC` if the
/// free space runs out, or the tree blocks that would record another extent; what was
/// allocated until then stays.
///
/// In free space cut into pieces, a range can take as many extents as blocks: it is done in
/// operations of [`PREALLOCATE_EXTENTS`] extents at most, as XFS allocates file space in a
/// transaction per extent, and each extent is charged to the tree reservation ([`reserve`])
/// before it is made, so that the store that records them finds its tree blocks. (One store
/// of thousands of extents once took the last blocks metadata had, failed, and shut the
/// filesystem down.)
fn preallocate(inode: &INode<Xtfs>, start: u64, end: u64) -> Result {
    let sb = inode.super_block();
    let m = sb.data();
    let mut block = start;
    while block < end {
        block = match preallocate_once(inode, block, end) {
            // Blocks freed in the running transaction are available once it is committed.
            Err(e) if e == ENOSPC && m.alloc.lock().pending() > 0 => {
                m.journal.commit(sb, None)?;
                preallocate_once(inode, block, end)?
            }
            done => done?,
        };
    }
    Ok(())
}

/// [`preallocate`] in one operation, with the space available now: returns the file block
/// it got to.
fn preallocate_once(inode: &INode<Xtfs>, start: u64, end: u64) -> Result<u64> {
    let sb = inode.super_block();
    let m = sb.data();
    let mut h = m.journal.start(sb)?;
    let mut info = inode.data().info.lock();
    let done = preallocate_locked(&h, &mut info, start, end);
    // What was allocated is recorded, also on failure (`ENOSPC` leaves what it got), with
    // the tree blocks its charges reserved.
    let stored = crate::store_allocated(&mut h, inode, &mut info);
    drop(info);
    h.finish(stored)?;
    done
}

/// [`preallocate_once`] in the transaction of `h`, with the extent lock held (`info`).
///
/// An operation ends after [`PREALLOCATE_EXTENTS`] extents, or sooner if its handle cannot claim
/// the credits for another's bitmap blocks and the tree blocks its store writes (an incremental
/// update: a few leaves and the path to them; the rebuild of a tree whole, when the blocks for that
/// are not there, writes more).
fn preallocate_locked(
    h: &Handle<'_>,
    info: &mut crate::InodeInfo,
    start: u64,
    end: u64,
) -> Result<u64> {
    let m = h.sb().data();
    let mut made = 0u64;
    // What is still to be written for the extents made until now and one more: the bitmap
    // blocks of the next (those of the others are in the transaction; a run is within a page
    // of the bitmap), a tree block for each and the paths, and the inode. Claimed as credits
    // of the handle, so that another operation cannot take the room meanwhile.
    let bitmap_blocks = (kernel::page::PAGE_SIZE >> h.sb().block_bits()) as u64;
    let room = |made: u64, info: &crate::InodeInfo| {
        let blocks = (made + 1) + bitmap_blocks + 2 * info.tree.depth() as u64 + 8;
        h.extend(blocks as usize).is_ok()
    };
    let mut block = start;
    while block < end {
        if made > 0 && (made == PREALLOCATE_EXTENTS || !room(made, info)) {
            return Ok(block);
        }
        let hole_end = match info.extents.lookup(block) {
            Lookup::Extent(e) => {
                block = e.end();
                continue;
            }
            Lookup::Hole { end: hole_end } => hole_end.min(end),
        };
        let mut alloc = m.alloc.lock();
        // Reserved first, so that preallocation cannot take the space that delayed
        // allocations and metadata count on: as much of the hole as is available (the
        // extents' tree blocks made since the last operation took some), `ENOSPC` if none.
        let mut left = alloc.reserve_up_to(&m.sb, hole_end - block)?;
        while left > 0 {
            if made > 0 && (made == PREALLOCATE_EXTENTS || !room(made, info)) {
                alloc.unreserve(left);
                return Ok(block);
            }
            // The extent is charged before it is made, its blocks counted in the file's; once
            // made, it counts among the extents, and the charge goes (the blocks reserved
            // for it stay until the store settles the reservation).
            let now = info.reserve_inode();
            let inode = reserve::Inode {
                blocks: now.blocks + left,
                ..now
            };
            info.reserve
                .charge(1, inode, &m.sb, |more| alloc.reserve_metadata(more))
                .inspect_err(|_| alloc.unreserve(left))?;
            let got = allocate_unwritten(h, &mut alloc, &mut info.extents, block, left);
            info.reserve.uncharge(1);
            let got = got?;
            made += 1;
            block += got;
            left -= got;
        }
    }
    Ok(end)
}

/// Makes the bytes `range` of `inode` a hole: its cached data written back and dropped, the
/// whole blocks in it freed, the partial blocks at its ends zeroed through the library (up to
/// EOF: nothing beyond it can be read). With both locks held, no write or page fault can
/// dirty the range again before its blocks go.
fn punch_hole(
    inode: &INode<Xtfs>,
    lock: &InodeLock<'_>,
    invalidate: &InvalidateLockWrite<'_>,
    range: FileRange,
) -> Result {
    let sb = inode.super_block();
    let m = sb.data();
    let bits = sb.block_bits();
    let bs = 1i64 << bits;
    lock.write_and_drop_range(invalidate, range.start(), range.end())?;
    let first = (range.start() as u64).div_ceil(bs as u64);
    let last = range.end() as u64 >> bits;
    if first < last {
        // Freed and recorded in one transaction, as in truncation.
        let mut h = m.journal.start(sb)?;
        let mut info = inode.data().info.lock();
        let done = remove_and_store(&mut h, inode, &mut info, first, last);
        drop(info);
        h.finish(done)?;
    }
    // The partial blocks: the one holding the start, and the one holding the end, if
    // different.
    let head_end = range.end().min((first << bits) as i64);
    let tail_start = range.start().max((last << bits) as i64).max(head_end);
    let size = inode.as_inode().size();
    for (start, end) in [(range.start(), head_end), (tail_start, range.end())] {
        let end = end.min(size);
        if start < end {
            zero::zero_range(
                &mut FileMap { inode },
                invalidate,
                inode.as_inode(),
                FileRange::new(start, end)?,
            )?;
        }
    }
    Ok(())
}

/// Inode operations of regular files.
pub(crate) struct FileOps;

#[vtable]
impl inode::Operations for FileOps {
    type FileSystem = Xtfs;

    fn setattr(inode: &INode<Xtfs>, lock: &InodeLock<'_>, change: &inode::AttrChange) -> Result {
        crate::live(inode.super_block())?;
        match change.size {
            Some(size) => set_size(inode, lock, size),
            None => Ok(()),
        }
    }

    fn getattr(inode: &INode<Xtfs>, stat: &mut inode::Stat) -> Result {
        crate::stat_blocks(inode, stat)
    }

    fn get_flags(inode: &INode<Xtfs>) -> Result<inode::Flags> {
        crate::get_flags(inode)
    }

    fn set_flags(inode: &inode::Locked<'_, Xtfs>, flags: inode::Flags) -> Result {
        crate::set_flags(inode, flags)
    }

    fn get_acl(
        inode: &INode<Xtfs>,
        typ: kernel::fs::acl::Type,
    ) -> Result<Option<kernel::types::ARef<kernel::fs::acl::Acl>>> {
        crate::xattr::get_acl(inode, typ)
    }

    fn set_acl(inode: &INode<Xtfs>, change: &kernel::fs::acl::Change<'_>) -> Result {
        crate::xattr::set_acl(inode, change)
    }

    fn fiemap(
        inode: &INode<Xtfs>,
        info: &mut address_space::FiemapInfo<'_>,
        start: u64,
        len: u64,
    ) -> Result {
        address_space::fiemap::<XtfsMapper>(inode, info, start, len)
    }
}

/// File operations of regular files.
pub(crate) struct RegFileOps;

#[vtable]
impl fs::file::Operations for RegFileOps {
    type FileSystem = Xtfs;

    fn ioctl(file: &fs::file::File<Xtfs>, request: fs::file::Ioctl) -> Result {
        match request {
            fs::file::Ioctl::Shutdown(how) => crate::shut_down_on_request(file, how),
            _ => Err(ENOTTY),
        }
    }

    /// Reads through the page cache, or directly from the device for `O_DIRECT` (holding
    /// `i_rwsem`, as direct writes do).
    fn read_iter(inode: &INode<Xtfs>, kiocb: &mut Kiocb, to: &mut IovIter) -> Result<usize> {
        if !kiocb.is_direct() {
            return fs::file::generic_read(kiocb, to);
        }
        let lock = inode.as_inode().lock_exclusive();
        address_space::direct_read::<XtfsMapper>(inode, kiocb, to, &lock)
    }

    /// Buffered writes through `kernel::iomap` with [`FileMap`], or through C iomap with the
    /// same operations when the library's `enabled` knob is off (to compare the two).
    ///
    /// A write that starts beyond EOF first zeroes the cached data between EOF and its start,
    /// as XFS does: the folio at EOF may hold bytes past it (written through a shared mapping,
    /// or read from a block whose tail was never zeroed) that the larger size would expose.
    fn write_iter(inode: &INode<Xtfs>, kiocb: &mut Kiocb, from: &mut IovIter) -> Result<usize> {
        let mut flushed = false;
        let written = loop {
            match write_once(inode, kiocb, from) {
                // Nothing written for want of space: the dirty data's reservations are worst
                // cases ([`reserve`](crate::reserve)), writeback turns them into what it really
                // needs. Once, without `i_rwsem`, as XFS does.
                Err(e) if e == ENOSPC && !flushed && !kiocb.is_direct() => {
                    flushed = inode.super_block().write_back_data();
                    if !flushed {
                        break Err(e);
                    }
                }
                done => break done,
            }
        };
        fs::file::write_sync(kiocb, written?)
    }

    /// Write faults through `kernel::iomap`: a delayed allocation is reserved under the
    /// folio if it is over a hole, as for a write.
    fn page_mkwrite<'f>(inode: &INode<Xtfs>, fault: &'f VmFault) -> Result<FaultFolio<'f>> {
        crate::live(inode.super_block())?;
        let lock = inode.as_inode().mapping().invalidate_lock_read();
        kernel::iomap::fault::page_mkwrite(&mut FileMap { inode }, &lock, fault)
    }

    /// Preallocation, hole punching and zeroing, holding `i_rwsem`. Punching and zeroing
    /// also hold `invalidate_lock`, as XFS does: neither a write nor a page fault can map or
    /// dirty the range while its blocks change. Preallocation only fills holes, which no
    /// cached data depends on: like ext4, it lets page faults run, and a fault's mapping
    /// rechecks the extent under the extent lock (see [`FileMap`]'s `begin`). A range ending
    /// beyond EOF extends the file unless the size is to be kept.
    fn fallocate(file: &File<Xtfs>, request: &Fallocate) -> Result {
        let inode = file.inode();
        let bits = inode.super_block().block_bits();
        let range = request.range;
        let lock = inode.as_inode().lock_exclusive();
        crate::live(inode.super_block())?;
        file.modified(&lock)?;
        let blocks = (
            range.start() as u64 >> bits,
            (range.end() as u64).div_ceil(1 << bits),
        );
        // Extends the file to the end of the range unless asked not to.
        let extend = |invalidate: Option<&InvalidateLockWrite<'_>>| {
            if request.keep_size || range.end() <= inode.as_inode().size() {
                return Ok(());
            }
            match invalidate {
                Some(invalidate) => set_size_locked(inode, &lock, invalidate, range.end()),
                None => set_size(inode, &lock, range.end()),
            }
        };
        let done = match request.mode {
            FallocateMode::Allocate => {
                preallocate(inode, blocks.0, blocks.1).and_then(|()| extend(None))
            }
            FallocateMode::PunchHole | FallocateMode::ZeroRange => {
                let invalidate = inode.as_inode().mapping().invalidate_lock_write();
                let done = punch_hole(inode, &lock, &invalidate, range);
                let done = match request.mode {
                    FallocateMode::ZeroRange => {
                        done.and_then(|()| preallocate(inode, blocks.0, blocks.1))
                    }
                    _ => done,
                };
                done.and_then(|()| extend(Some(&invalidate)))
            }
        };
        // Extents may have changed even on failure.
        inode.mark_dirty();
        done?;
        // A synchronous file (`O_SYNC`, `O_DSYNC`, `chattr +S`, `-o sync`): committed before
        // the return, as XFS does, after `i_rwsem` (as `fsync`, which takes none).
        drop(lock);
        if file.sync_writes() {
            crate::persist_inode(inode)?;
        }
        Ok(())
    }

    /// `fsync` and `fdatasync`: writes back the range's data and waits for it, then stores the
    /// inode and its extent records and commits the transaction ([`crate::persist_inode`])
    /// whatever the VFS thinks of the inode; the commit flushes the device's cache, the data
    /// with it.
    ///
    /// `generic_file_fsync()` writes the inode only if the VFS has it dirty (for `fdatasync`,
    /// dirty for data). But the completion that converted the range's unwritten extents stored
    /// the records in the running transaction only (a time stamp change dirties the inode for
    /// `fsync` alone), and the flusher may have stored a dirty inode and cleaned it meanwhile:
    /// `fdatasync` after overwriting preallocated blocks, or `fsync` after an mmap write, would
    /// leave the records uncommitted, and after a crash the data would read as zeroes or be
    /// gone.
    ///
    /// Writing the records is an internal change a freeze waits for: an `fsync` of a frozen
    /// filesystem has nothing to do, as the freeze made everything durable and the device must
    /// not change until the thaw ([`crate::fsync_change`]).
    fn fsync(file: &File<Xtfs>, start: i64, end: i64, _datasync: bool) -> Result {
        crate::live(file.inode().super_block())?;
        file.write_and_wait_range(start, end)?;
        let sb = file.inode().super_block();
        // Nothing changes on a read-only mount, and its device must stay as it is.
        if sb.read_only() {
            return Ok(());
        }
        let Some(_change) = crate::fsync_change(sb) else {
            return Ok(());
        };
        crate::persist_inode(file.inode())?;
        // Writeback that failed while the inode was persisted.
        file.check_and_advance_wb_err()
    }

    fn seek_data_hole(inode: &INode<Xtfs>, offset: i64, data: bool) -> Result<i64> {
        address_space::seek_hole_data::<XtfsMapper>(inode, offset, data)
    }
}

/// One attempt of `write_iter`: the bytes written (0 if there was nothing to write).
fn write_once(inode: &INode<Xtfs>, kiocb: &mut Kiocb, from: &mut IovIter) -> Result<usize> {
    let lock = inode.as_inode().lock_exclusive();
    crate::live(inode.super_block())?;
    if fs::file::write_checks(kiocb, from, &lock)? == 0 {
        return Ok(0);
    }
    let old_size = inode.as_inode().size();
    if kiocb.pos() > old_size {
        let invalidate = inode.as_inode().mapping().invalidate_lock_write();
        let gap = FileRange::new(old_size, kiocb.pos())?;
        zero::zero_range(&mut FileMap { inode }, &invalidate, inode.as_inode(), gap)?;
    }
    let direct = if kiocb.is_direct() {
        // A range a page fault keeps mapped cannot be dropped from the cache: then the write
        // goes through the cache instead (`ENOTBLK`), as in C filesystems.
        match address_space::direct_write::<XtfsMapper>(inode, kiocb, from, &lock) {
            Err(e) if e == ENOTBLK => None,
            done => Some(done),
        }
    } else {
        None
    };
    let written = match direct {
        Some(done) => done,
        None if rust_writes_enabled() => buffered_write(&mut FileMap { inode }, kiocb, from, &lock),
        None => address_space::c_buffered_write::<XtfsMapper>(inode, kiocb, from, &lock),
    };
    if inode.as_inode().size() != old_size {
        inode.mark_dirty();
    }
    written
}

/// Reserves up to `n` blocks for delayed allocation ([`Alloc::reserve_up_to`]). Blocks freed in
/// a transaction not committed yet are not available: when they are what is missing, the
/// transaction is committed and the reservation tried again. No handle may be open.
fn reserve_up_to(sb: &SuperBlock<Xtfs>, n: u64) -> Result<u64> {
    let m = sb.data();
    let reserved = m.alloc.lock().reserve_up_to(&m.sb, n);
    if !matches!(reserved, Err(e) if e == ENOSPC) || m.alloc.lock().pending() == 0 {
        return reserved;
    }
    m.journal.commit(sb, None)?;
    m.alloc.lock().reserve_up_to(&m.sb, n)
}
