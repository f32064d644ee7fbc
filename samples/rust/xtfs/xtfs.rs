// SPDX-License-Identifier: GPL-2.0

//! xtfs: a filesystem on block devices written in Rust (`Documentation/filesystems/xtfs.rst`).
//!
//! It mounts an image made by `mkfs.xtfs`, checking every piece of metadata it reads (a bad
//! image fails the mount or the lookup with `EUCLEAN` and a message naming what is wrong), and
//! is read-write: names are created, linked, renamed and removed in directories
//! ([`dir`]), and regular files are written through `kernel::iomap`'s buffered write path with
//! delayed allocation, written back through C iomap with blocks allocated as unwritten extents
//! that are converted when the I/O completes ([`file`]).
//!
//! Each inode keeps its extents in memory ([`extents`]) under a mutex, with the generation
//! counter that is the validity cookie of every mapping; free space and inodes are tracked by
//! [`alloc`]. Metadata goes through the block device's page cache and reaches the disk at
//! writeback; `sync`, `syncfs`, a freeze, the unmount and `fsync` also write it back and then
//! flush the device's volatile cache.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::c_str;
use kernel::fs::reclaim::NoFsMutex;
use kernel::fs::{
    self, address_space,
    inode::{self, INode, INodeRef},
    sb::{self, Either, SuperBlock},
};
use kernel::iomap::control::{self, fix_enabled, Fix, PausePoint};
use kernel::prelude::*;
use kernel::sync::{new_mutex, Arc};

mod alloc;
mod dir;
mod extents;
mod file;
mod format;
mod layout;
use alloc::Alloc;
use extents::Extents;
use format::{corrupt, Extent, RawInode, Super};

module! {
    type: XtfsModule,
    name: "xtfs",
    author: "iomap_rs developers",
    description: "xtfs: a read-write filesystem whose buffered writes go through kernel::iomap",
    license: "GPL",
}

struct XtfsModule {
    _registration: Pin<KBox<fs::Registration>>,
}

impl kernel::Module for XtfsModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _registration: KBox::pin_init(fs::Registration::new::<Xtfs>(module), GFP_KERNEL)?,
        })
    }
}

/// The filesystem type.
struct Xtfs;

/// One mounted xtfs filesystem.
#[pin_data]
struct Mount {
    sb: Super,
    /// Taken by eviction and I/O completion: allocations under it must not enter
    /// filesystem reclaim.
    #[pin]
    alloc: NoFsMutex<Alloc>,
    /// Where writeback I/O completes (unwritten extent conversion).
    #[pin]
    ioends: address_space::IoendQueue<file::XtfsMapper>,
    /// Metadata could not be written: the filesystem is shut down ([`live`]).
    shut_down: AtomicBool,
    /// The device's cache write errors before the mount, not this mount's.
    write_errors: sb::WriteErrorMark,
}

/// What an inode keeps in memory besides the VFS inode.
struct InodeInfo {
    /// The extents, and the generation counter that every change bumps.
    extents: Extents,
    /// Directories: the parent directory.
    parent: u32,
    /// The blocks of the chain holding the extents beyond the inline ones, in order.
    chain: KVec<u64>,
    /// The last store failed: the inode is dirty again, and eviction stores it once more
    /// (writeback retries no inode being evicted).
    store_failed: bool,
}

#[pin_data]
struct InodeData {
    /// Taken by eviction and I/O completion, as `Mount::alloc`.
    #[pin]
    info: NoFsMutex<InodeInfo>,
    /// The blocks the inode holds (data, delayed allocations and extent blocks), as the
    /// extents publish them: `stat` reads it without the extent lock.
    blocks: Arc<AtomicU64>,
}

#[vtable]
impl fs::FileSystem for Xtfs {
    const NAME: &'static CStr = c_str!("xtfs");
    type Data = Mount;
    type INodeData = InodeData;

    fn inode_data() -> impl PinInit<InodeData, Error> {
        let blocks = Arc::new(AtomicU64::new(0), GFP_KERNEL);
        try_pin_init!(InodeData {
            info <- NoFsMutex::new(new_mutex!(InodeInfo {
                extents: Extents::new(blocks.clone()?),
                parent: 0,
                chain: KVec::new(),
                store_failed: false,
            }, "xtfs_inode_info")),
            blocks: blocks?,
        }? Error)
    }

    fn fill_super(sb: &sb::NewSuperBlock<'_, Self>) -> Result<impl PinInit<Mount, Error>> {
        let mut head = [0u8; format::SB_BYTES];
        sb.read(0, &mut head)?;
        let s = Super::decode(&head, sb.device_bytes(), kernel::page::PAGE_SIZE as u64)?;
        sb.set_block_size(s.block_size() as u32).inspect_err(|_| {
            pr_err!("the device cannot use {}-byte blocks\n", s.block_size());
        })?;
        sb.set_magic(format::MAGIC as u64);
        sb.set_max_links(format::LINK_MAX);
        // Whole blocks up to the largest `loff_t`: a mapping never ends beyond it.
        sb.set_max_bytes(((i64::MAX as u64 >> s.block_bits) << s.block_bits) as i64);

        let bs = s.block_size() as usize;
        // The metadata blocks must be in use and nothing beyond the last block.
        let mut bitmap = KVVec::from_elem(0u8, s.bitmap_blocks as usize * bs, GFP_KERNEL)?;
        sb.read(s.bitmap_start * bs as u64, &mut bitmap)?;
        for block in 0..s.bitmap_blocks * bs as u64 * 8 {
            let set = bitmap[(block / 8) as usize] & (1 << (block % 8)) != 0;
            if (block < s.data_start && !set) || (block >= s.blocks && set) {
                return Err(corrupt!(
                    "bitmap: block {} is wrongly {}\n",
                    block,
                    if set { "in use" } else { "free" }
                ));
            }
        }

        // The inode table, one block at a time: a slot is in use if its mode is set.
        let mut itable_block = KVec::from_elem(0u8, bs, GFP_KERNEL)?;
        let mut cached = None;
        let held = sb.hold(s.bitmap_start * bs as u64, s.bitmap_blocks * bs as u64)?;
        let alloc = Alloc::new(&s, bitmap, held, |ino| {
            let pos = (ino as usize - 1) * format::INODE_SIZE;
            let block = (pos / bs) as u64;
            if cached != Some(block) {
                sb.read((s.itable_start + block) * bs as u64, &mut itable_block)?;
                cached = Some(block);
            }
            Ok(format::le16(&itable_block, pos % bs) != 0)
        })?;
        let write_errors = sb.mark_write_errors();
        Ok(try_pin_init!(Mount {
            sb: s,
            alloc <- NoFsMutex::new(new_mutex!(alloc, "xtfs_alloc")),
            ioends <- address_space::IoendQueue::new(c_str!("xtfs-ioend")),
            shut_down: AtomicBool::new(false),
            write_errors,
        }? Error))
    }

    fn root(sb: &SuperBlock<Self>) -> Result<INodeRef<'_, Self>> {
        let root = read_inode(sb, format::ROOT_INO)?;
        if root.mode() & format::S_IFMT != format::S_IFDIR {
            return Err(corrupt!("the root inode is not a directory\n"));
        }
        Ok(root)
    }

    /// Writes the inode to the device's page cache ([`store_inode`]); with `sync` (`sync(2)`,
    /// `sync_inode_metadata()`), also to the device ([`persist_inode`]).
    fn write_inode(inode: &INode<Self>, sync: bool) -> Result {
        if sync {
            persist_inode(inode)
        } else {
            store_inode(inode)
        }
    }

    /// Deletes an inode without links: frees its blocks, reservations, extent chain and slot.
    /// An inode that stays gives back reservations no dirty data needs any more (its cache is
    /// empty by now).
    ///
    /// Nothing here needs memory (the bitmap's pages are held), so that an eviction, which
    /// cannot fail, does not stop halfway: only an I/O error, or a page of the inode table
    /// that left the cache and cannot be read again, can stop it. The slot is cleared first:
    /// an inode whose slot could not be cleared keeps its blocks, which stay in use (an
    /// orphan fsck reports), so that none is handed out while the disk's inode may hold it.
    /// An inode whose last store failed is stored once more first.
    ///
    /// Deleting or storing changes the device, which must not happen while the filesystem is
    /// frozen: that is an internal change a freeze waits for, and which waits for the thaw.
    /// It is started before the extent lock is taken, as every freeze protection is.
    fn evict_inode(inode: &inode::Evicting<'_, Self>) {
        let sb = inode.super_block();
        let m = sb.data();
        let ino = inode.ino() as u32;
        // A shut down filesystem changes nothing: the inode and its blocks stay in use on
        // disk (an orphan fsck frees), and only the reservations go.
        let mut delete = inode.nlink() == 0;
        // Directory and symbolic link blocks are metadata, cached by the device.
        let metadata = inode.mode() & format::S_IFMT != format::S_IFREG;
        // Nobody else sets `store_failed` now: the inode has no users left.
        let writes = inode.nlink() == 0 || inode.data().info.lock().store_failed;
        let _change = writes.then(|| sb.start_intwrite());
        // Checked once the change started: a shutdown while it waited for a thaw counts.
        let live = live(sb).is_ok();
        delete &= live;
        let mut info = inode.data().info.lock();
        if !delete
            && live
            && info.store_failed
            && store_records(sb, ino, &inode.attrs(), &mut info, || {}).is_err()
        {
            pr_err!(
                "inode {}: could not be written: the disk has it as it was\n",
                ino
            );
        }
        let mut alloc = m.alloc.lock();
        let mut failed = false;
        if delete {
            if sb
                .write(inode_pos(&m.sb, ino), &[0u8; format::INODE_SIZE])
                .is_err()
            {
                failed = true;
                delete = false;
            } else {
                alloc.free_inode(ino);
            }
        }
        // The inode's last use: its extents and chain are taken, not rebuilt.
        let extents = info.extents.take();
        for e in extents.iter().filter(|e| delete || e.is_delalloc()) {
            failed |= alloc.release(sb, &m.sb, e, metadata).is_err();
        }
        if delete {
            for &block in info.chain.iter() {
                failed |= alloc.free_metadata(sb, &m.sb, block, 1).is_err();
            }
            info.chain = KVec::new();
            info.extents.set_chain_blocks(0);
        }
        if failed {
            pr_err!("inode {}: could not free all its space\n", ino);
        }
    }

    /// Metadata is in the block device's page cache, which the VFS writes back only after
    /// this: so it is written back here, then the device's volatile cache flushed, so that
    /// `sync`, `syncfs` and the unmount leave everything on stable storage.
    ///
    /// A frozen filesystem has nothing to sync (its freeze did) and must not write: `sync(2)`
    /// syncs it all the same.
    fn sync_fs(sb: &SuperBlock<Self>, wait: bool) -> Result {
        if !wait || sb.is_frozen() {
            return Ok(());
        }
        make_durable(sb)
    }

    /// Writes back and flushes what internal changes that ended after the freeze's sync left
    /// in the device's cache (an eviction that deleted an inode, an `fsync`): the device then
    /// holds the whole filesystem until the thaw.
    fn freeze_fs(sb: &SuperBlock<Self>) -> Result {
        make_durable(sb)
    }

    /// Makes durable what the evictions of the unmount wrote after its sync: the deletion of
    /// an inode whose last reference went only then (one an inotify watch held, say).
    fn put_super(sb: &SuperBlock<Self>) {
        if !sb.read_only() {
            // A failure is logged (a shutdown) and leaves what fsck checks.
            let _ = make_durable(sb);
        }
    }

    fn statfs(sb: &SuperBlock<Self>) -> Result<sb::Stat> {
        let m = sb.data();
        let alloc = m.alloc.lock();
        Ok(sb::Stat {
            magic: format::MAGIC as u64,
            blocks: m.sb.blocks,
            bfree: alloc.free_blocks().saturating_sub(alloc.reserved()),
            bavail: alloc.available(&m.sb),
            files: m.sb.inodes as u64,
            ffree: alloc.free_inodes(),
            namelen: format::NAME_MAX as u64,
        })
    }
}

/// Starts the internal change of an `fsync` ([`SuperBlock::start_intwrite`]), or `None` if
/// the filesystem is frozen: its freeze made everything durable, and nothing may be written
/// until the thaw (an `fsync` that comes while the freeze is under way waits for the thaw).
pub(crate) fn fsync_change(sb: &SuperBlock<Xtfs>) -> Option<sb::IntWrite<'_, Xtfs>> {
    match sb.try_start_intwrite() {
        Some(change) => Some(change),
        None if sb.is_frozen() => None,
        None => Some(sb.start_intwrite()),
    }
}

/// `stat(2)`'s `st_blocks` of `inode`: its data blocks, delayed allocations included, and its
/// extent blocks, as XFS and ext4 count them, read without the extent lock (an `fsync` holds
/// it until the device's cache is flushed: `stat` must not wait for that).
pub(crate) fn stat_blocks(inode: &INode<Xtfs>, stat: &mut inode::Stat) -> Result {
    let blocks = inode.data().blocks.load(Ordering::Relaxed);
    stat.blocks = blocks << (inode.super_block().block_bits() - 9);
    Ok(())
}

/// Writes inode `inode` and its extent records to the device ([`store_inode`], then all dirty
/// metadata), for `fsync` and `sync`.
///
/// # fsync against mmap writes
///
/// `fsync` holds no lock that keeps out a write fault or the writeback of the page it dirtied
/// (xtfs's takes no `i_rwsem`, which would keep out only writes and truncation anyway), and the
/// completion of that writeback converts the extent it wrote and writes the records again
/// (`complete_ioend`). Were the
/// device's cache flushed while such a completion is between the blocks of the records (the
/// chain of extent blocks first, the inode last), the device would hold the new chain under
/// the old inode: a list of extents the file never had, with an extent twice and blocks it does
/// not own (the race of the btrfs fix 885f46d87f, in xtfs's terms). So the extent lock is held
/// from writing the records until the flush is done: the completion, and a write fault that
/// would add a delayed allocation, wait for it, and the device gets a state the extents really
/// had. Lock order: the extent lock, the block device's folio locks.
pub(crate) fn persist_inode(inode: &INode<Xtfs>) -> Result {
    let mut info = inode.data().info.lock();
    store_inode_locked(inode, &mut info, None)?;
    let serialized = fix_enabled(Fix::FsFsyncSerialize).then_some(info);
    control::pause(PausePoint::FsFsyncFlush, inode.as_inode(), 0);
    let ret = sync_metadata(inode.super_block());
    drop(serialized);
    ret
}

/// `EIO` once the filesystem is shut down: every change checks this first, so that nothing
/// more reaches the device's cache.
///
/// # Shutdown
///
/// Metadata is written to the device's cache and from there to the device, by [`sync`] and
/// `fsync` or by the flusher. When such a write fails, the disk no longer has what the
/// filesystem in memory is built on (an inode whose slot was not written, a bitmap that does
/// not free what it should), and changing it further could make things worse: so the
/// filesystem shuts down, as XFS does, when a sync reports the failure (one the flusher met
/// is found at the next sync: the device cache's error sequence is sampled at mount). Every
/// change (a new name, a write, a page fault for writing, an attribute, `fsync`, writeback,
/// an inode stored or deleted) then fails with `EIO`; reads go on. It stays so until it is
/// unmounted. Without a journal the disk then holds what the last successful sync left plus
/// any metadata that was already in the device's cache and is written back later (the
/// flusher and the unmount still write the device's cache): fsck must check it.
///
/// [`sync`]: SuperBlock::sync
pub(crate) fn live(sb: &SuperBlock<Xtfs>) -> Result {
    if sb.data().shut_down.load(Ordering::Acquire) {
        Err(EIO)
    } else {
        Ok(())
    }
}

/// Makes everything written so far durable: the metadata in the device's cache written back
/// ([`sync_metadata`]), then the device's volatile cache flushed.
fn make_durable(sb: &SuperBlock<Xtfs>) -> Result {
    sync_metadata(sb)?;
    sb.flush_cache()
}

/// Writes back the metadata in the device's cache and waits for it. A write error, there or
/// one the flusher met since the mount, shuts the filesystem down ([`live`]): `EIO`.
pub(crate) fn sync_metadata(sb: &SuperBlock<Xtfs>) -> Result {
    live(sb)?;
    let m = sb.data();
    let ret = sb
        .sync()
        .and_then(|()| sb.write_errors_since(&m.write_errors));
    if let Err(e) = ret {
        if !m.shut_down.swap(true, Ordering::AcqRel) {
            pr_err!(
                "metadata could not be written (error {}): shut down, changes fail with EIO \
                 until the filesystem is unmounted\n",
                e.to_errno()
            );
        }
        return Err(EIO);
    }
    Ok(())
}

/// Writes inode `inode` to its slot of the inode table and its extents beyond the inline ones
/// to its extent chain, grown or shrunk to fit (in the block device's page cache). Delayed
/// allocations are not on disk.
fn store_inode(inode: &INode<Xtfs>) -> Result {
    store_inode_locked(inode, &mut inode.data().info.lock(), None)
}

/// [`store_inode`] at the completion of a write at file offset `pos`, which converted
/// unwritten extents: the `fs_store_extents` pause point can stop it between the chain and the
/// inode.
fn store_inode_completed(inode: &INode<Xtfs>, pos: i64) -> Result {
    store_inode_locked(inode, &mut inode.data().info.lock(), Some(pos))
}

/// [`store_inode`], with the inode's extent lock held (`info`), for the completion of a write
/// at `completed` if it is one. The chain is written first, the inode last.
///
/// An inode that could not be stored is marked dirty again, so that writeback retries (the VFS
/// does not): until it is stored, the disk may not have the blocks its extents and chain hold.
fn store_inode_locked(inode: &INode<Xtfs>, info: &mut InodeInfo, completed: Option<i64>) -> Result {
    let pause = || {
        if let Some(pos) = completed {
            control::pause(PausePoint::FsStoreExtents, inode.as_inode(), pos);
        }
    };
    let ret = store_records(
        inode.super_block(),
        inode.ino() as u32,
        &inode.attrs(),
        info,
        pause,
    );
    // A shut down filesystem stores nothing any more: nobody need try again.
    info.store_failed = ret.is_err() && live(inode.super_block()).is_ok();
    if info.store_failed {
        inode.mark_dirty();
    }
    ret
}

/// Writes the records of inode `ino`, whose attributes are `a` and extents `info`; `between`
/// runs after the chain is written, before the inode is.
fn store_records(
    sb: &SuperBlock<Xtfs>,
    ino: u32,
    a: &inode::Attrs,
    info: &mut InodeInfo,
    between: impl FnOnce(),
) -> Result {
    live(sb)?;
    let m = sb.data();
    let s = &m.sb;
    let t = |t: inode::Time| (t.sec, t.nsec);
    let mut on_disk = KVec::new();
    for e in info.extents.on_disk() {
        on_disk.push(*e, GFP_KERNEL)?;
    }
    let per_block = format::extents_per_block(s.block_size());
    let rest = on_disk.get(format::INLINE_EXTENTS..).unwrap_or(&[]);
    let need = rest.len().div_ceil(per_block);
    // Memory first, then the chain grown (each block recorded as it is allocated), the chain
    // and the inode written, and only then the blocks the chain no longer needs freed: until
    // the inode is written, the disk's chain may still hold them.
    let mut buf = KVec::from_elem(0u8, s.block_size() as usize, GFP_KERNEL)?;
    let mut kept = if info.chain.len() > need {
        let mut kept = KVec::with_capacity(need, GFP_KERNEL)?;
        kept.extend_from_slice(&info.chain[..need], GFP_KERNEL)?;
        Some(kept)
    } else {
        None
    };
    info.chain
        .reserve(need.saturating_sub(info.chain.len()), GFP_KERNEL)?;
    {
        let mut alloc = m.alloc.lock();
        while info.chain.len() < need {
            let block = alloc.allocate_metadata(sb, s)?;
            info.chain.push(block, GFP_NOWAIT)?;
            let n = info.chain.len();
            info.extents.set_chain_blocks(n);
        }
    }
    for (i, records) in rest.chunks(per_block).enumerate() {
        let next = if i + 1 < need { info.chain[i + 1] } else { 0 };
        format::encode_extent_block(&mut buf, records, next, ino, format::crc32c);
        sb.write(info.chain[i] * s.block_size(), &buf)?;
    }
    between();
    let mut inline = [Extent::default(); format::INLINE_EXTENTS];
    for (slot, e) in inline.iter_mut().zip(on_disk.iter()) {
        *slot = *e;
    }
    let raw = RawInode {
        mode: a.mode,
        nlink: a.nlink,
        uid: a.uid,
        gid: a.gid,
        size: a.size as u64,
        times: [t(a.atime), t(a.mtime), t(a.ctime)],
        nextents: on_disk.len() as u32,
        extent_block: info
            .chain
            .first()
            .copied()
            .filter(|_| need > 0)
            .unwrap_or(0),
        parent: info.parent,
        inline,
    };
    sb.write(inode_pos(s, ino), &raw.encode(ino, format::crc32c))?;
    if let Some(kept) = kept.take() {
        // Clean in the cache first (a dirty copy written back later would overwrite the data
        // of whoever gets the block next), then free, which cannot fail (see `alloc`).
        for &block in &info.chain[need..] {
            sb.write_back(block * s.block_size(), s.block_size())?;
        }
        let mut alloc = m.alloc.lock();
        let mut freed = Ok(());
        for &block in &info.chain[need..] {
            freed = freed.and(alloc.free(sb, s, block, 1));
        }
        info.chain = kept;
        let n = info.chain.len();
        info.extents.set_chain_blocks(n);
        freed?;
    }
    Ok(())
}

/// Reads the extent records of inode `ino`: the inline ones, then the chain of extent blocks.
/// Returns them and the blocks of the chain.
fn read_extents(
    sb: &SuperBlock<Xtfs>,
    s: &Super,
    ino: u32,
    raw: &RawInode,
) -> Result<(KVec<Extent>, KVec<u64>)> {
    let total = raw.nextents as usize;
    // Every extent holds at least one block of the device.
    if total as u64 > s.blocks {
        return Err(corrupt!("inode {}: {} extents\n", ino, total));
    }
    // Grown as the chain is read, not from the count on disk: a count that no chain backs
    // (up to the device's size in blocks) must not make a huge allocation before it is found
    // out.
    let mut extents = KVec::with_capacity(total.min(format::INLINE_EXTENTS), GFP_KERNEL)?;
    for e in raw.inline.iter().take(total) {
        extents.push(*e, GFP_KERNEL)?;
    }
    let mut chain = KVec::new();
    let mut next = raw.extent_block;
    if next != 0 {
        let bs = s.block_size() as usize;
        let mut buf = KVec::from_elem(0u8, bs, GFP_KERNEL)?;
        while next != 0 {
            if next < s.data_start || next >= s.blocks || extents.len() >= total {
                return Err(corrupt!(
                    "inode {}: bad extent chain at block {}\n",
                    ino,
                    next
                ));
            }
            sb.read(next * bs as u64, &mut buf)?;
            let (count, following) = format::decode_extent_block(&buf, next, ino)?;
            chain.push(next, GFP_KERNEL)?;
            if extents.len() + count > total {
                return Err(corrupt!("inode {}: more extents than {}\n", ino, total));
            }
            for i in 0..count {
                let at = format::EXTENT_BLOCK_HEADER + format::EXTENT_SIZE * i;
                extents.push(Extent::decode(&buf[at..]), GFP_KERNEL)?;
            }
            next = following;
        }
    }
    if extents.len() != total {
        return Err(corrupt!(
            "inode {}: {} of {} extents found\n",
            ino,
            extents.len(),
            total
        ));
    }
    let mut prev_end = 0;
    for e in extents.iter() {
        e.check(s, ino, prev_end)?;
        prev_end = e.end();
    }
    Ok((extents, chain))
}

/// Inode operations of symbolic links.
struct SymlinkOps;

#[vtable]
impl inode::Operations for SymlinkOps {
    type FileSystem = Xtfs;

    fn setattr(
        inode: &INode<Xtfs>,
        _lock: &kernel::pagecache::InodeLock<'_>,
        change: &inode::AttrChange,
    ) -> Result {
        live(inode.super_block())?;
        file::check_no_size_change(inode, change)
    }

    fn getattr(inode: &INode<Xtfs>, stat: &mut inode::Stat) -> Result {
        stat_blocks(inode, stat)
    }

    fn get_link(inode: &INode<Xtfs>) -> Result<KVec<u8>> {
        let sb = inode.super_block();
        let disk = {
            let info = inode.data().info.lock();
            info.extents
                .list()
                .first()
                .map(|e| e.disk_block)
                .ok_or(EUCLEAN)?
        };
        // The size was checked against the block size when the inode was read.
        let len = inode.as_inode().size() as usize;
        let mut target = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        sb.read(disk << sb.block_bits(), &mut target)?;
        Ok(target)
    }
}

/// File operations of symbolic links: none (they are not opened).
struct NoFileOps;

#[vtable]
impl fs::file::Operations for NoFileOps {
    type FileSystem = Xtfs;
}

/// Returns inode `ino`, reading it from the inode table if it is not cached.
fn read_inode(sb: &SuperBlock<Xtfs>, ino: u32) -> Result<INodeRef<'_, Xtfs>> {
    let s = &sb.data().sb;
    if ino == 0 || ino > s.inodes {
        return Err(corrupt!("inode number {} out of range\n", ino));
    }
    let new = match sb.get_or_create_inode(ino as u64)? {
        Either::Left(cached) => return Ok(cached),
        Either::Right(new) => new,
    };
    let mut b = [0u8; format::INODE_SIZE];
    sb.read(inode_pos(s, ino), &mut b)?;
    let raw = RawInode::decode(&b, ino, s)?;
    let (extents, chain) = read_extents(sb, s, ino, &raw)?;
    let bs = s.block_size();
    let typ = match raw.mode & format::S_IFMT {
        format::S_IFDIR => {
            // Directory blocks are all allocated and written, from block 0 on.
            let mut next = 0;
            for e in extents.iter() {
                if e.file_block != next || e.flags != 0 {
                    return Err(corrupt!("directory {}: hole or unwritten extent\n", ino));
                }
                next = e.end();
            }
            if raw.size % bs != 0 || raw.size / bs != next {
                return Err(corrupt!(
                    "directory {}: size {} for {} blocks\n",
                    ino,
                    raw.size,
                    next
                ));
            }
            inode::Type::Dir
        }
        format::S_IFLNK => {
            if extents.len() != 1
                || extents[0].len != 1
                || extents[0].flags != 0
                || raw.size == 0
                || raw.size >= bs
            {
                return Err(corrupt!("symlink {}: bad size or extents\n", ino));
            }
            inode::Type::Lnk
        }
        _ => inode::Type::Reg,
    };
    let time = |(sec, nsec): (i64, u32)| inode::Time { sec, nsec };
    let attrs = inode::Attrs {
        mode: raw.mode,
        nlink: raw.nlink,
        uid: raw.uid,
        gid: raw.gid,
        size: raw.size as i64,
        atime: time(raw.times[0]),
        mtime: time(raw.times[1]),
        ctime: time(raw.times[2]),
    };
    let params = init_inode(&new, typ, attrs, extents, chain, raw.parent);
    new.init(params)
}

/// Byte offset of inode `ino`'s slot in the inode table.
fn inode_pos(s: &Super, ino: u32) -> u64 {
    s.itable_start * s.block_size() + (ino as u64 - 1) * format::INODE_SIZE as u64
}

/// Fills the data of a new in-memory inode and returns what it is initialised with.
fn init_inode(
    new: &inode::NewINode<'_, Xtfs>,
    typ: inode::Type,
    attrs: inode::Attrs,
    extents: KVec<Extent>,
    chain: KVec<u64>,
    parent: u32,
) -> inode::Params<Xtfs> {
    {
        let mut info = new.data().info.lock();
        info.extents.set(extents);
        info.parent = parent;
        info.chain = chain;
        let n = info.chain.len();
        info.extents.set_chain_blocks(n);
    }
    let (inode_ops, file_ops, kind) = match typ {
        inode::Type::Dir => (
            inode::Ops::new::<dir::DirOps>(),
            fs::file::Ops::new::<dir::DirFileOps>(),
            inode::Kind::Dir,
        ),
        inode::Type::Lnk => (
            inode::Ops::new::<SymlinkOps>(),
            fs::file::Ops::new::<NoFileOps>(),
            inode::Kind::Lnk,
        ),
        inode::Type::Reg => (
            inode::Ops::new::<file::FileOps>(),
            fs::file::Ops::new::<file::RegFileOps>(),
            inode::Kind::Reg(address_space::Ops::iomap_writeback::<file::XtfsMapper>()),
        ),
    };
    inode::Params {
        kind,
        attrs,
        inode_ops,
        file_ops,
        large_folios: typ == inode::Type::Reg,
    }
}

/// Creates inode `typ` with `owner`'s attributes, `size` bytes and `extents`, in a free slot
/// written to the inode table at once (so that the directory entry added next never names a
/// free slot on disk). Returns it with its first link (two for a directory), still locked
/// until the VFS gives it its dentry.
fn create_inode(
    sb: &SuperBlock<Xtfs>,
    typ: inode::Type,
    owner: inode::NewOwner,
    size: u64,
    extents: KVec<Extent>,
    parent: u32,
) -> Result<inode::Created<'_, Xtfs>> {
    let m = sb.data();
    let ino = m.alloc.lock().allocate_inode(&m.sb)?;
    let new = match sb.get_or_create_inode(ino as u64) {
        Ok(Either::Right(new)) => new,
        other => {
            m.alloc.lock().free_inode(ino);
            return Err(match other {
                Err(e) => e,
                // A free slot whose inode is still cached: the allocator is wrong.
                _ => corrupt!("inode {} is free and in use\n", ino),
            });
        }
    };
    let now = inode::Time::now();
    let mode = match typ {
        inode::Type::Reg => format::S_IFREG,
        inode::Type::Dir => format::S_IFDIR,
        inode::Type::Lnk => format::S_IFLNK,
    } | owner.mode;
    let attrs = inode::Attrs {
        mode,
        nlink: if typ == inode::Type::Dir { 2 } else { 1 },
        uid: owner.uid,
        gid: owner.gid,
        size: size as i64,
        atime: now,
        mtime: now,
        ctime: now,
    };
    let params = init_inode(&new, typ, attrs, extents, KVec::new(), parent);
    let inode = match new.init_created(params) {
        Ok(inode) => inode,
        Err(e) => {
            // A bad inode is released without `evict_inode`: the slot is freed here.
            m.alloc.lock().free_inode(ino);
            return Err(e);
        }
    };
    if let Err(e) = <Xtfs as fs::FileSystem>::write_inode(&inode, false) {
        // Without links, eviction frees the slot. The extents stay the caller's, as on the
        // errors above (a symlink frees its block itself): eviction must not free them too.
        inode.data().info.lock().extents.set(KVec::new());
        inode.set_nlink(0);
        return Err(e);
    }
    Ok(inode)
}
