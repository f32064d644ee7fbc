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
//! [`alloc`]. Every change of metadata is made in a transaction of the [`journal`], which
//! `fsync`, `sync`, `syncfs`, a freeze and the unmount commit: after a crash, the mount replays
//! the last committed transaction, and the disk holds whole operations.

use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use kernel::c_str;
use kernel::fs::reclaim::NoFsMutex;
use kernel::fs::{
    self, address_space,
    inode::{self, INode, INodeRef},
    sb::{self, Either, SuperBlock},
};
use kernel::iomap::control::{self, fix_enabled, Fix, PausePoint};
use kernel::prelude::*;
use kernel::sync::{new_mutex, Arc, Mutex};

/// Logs a message about the filesystem on `sb` with its device's name first (`xtfs: vdb: ...`),
/// as C filesystems do (`XFS (vdb): ...`): the messages of two mounts can be told apart. The
/// level is that of `pr_err!`, `pr_warn!` or `pr_info!`, named first.
macro_rules! sb_log {
    ($pr:ident, $sb:expr, $fmt:literal $($arg:tt)*) => {
        $pr!(concat!("{}: ", $fmt), $sb.id() $($arg)*)
    };
}
mod alloc;
mod dir;
mod extents;
mod file;
mod format;
mod journal;
mod layout;
mod orphan;
mod reserve;
mod tree;
mod xattr;
use alloc::Alloc;
use extents::{ExtentSet, Extents, Published};
use format::{corrupt, Extent, RawInode, Super};
use journal::{Handle, Journal};
use orphan::Orphans;
use reserve::TreeReserve;
use tree::DiskTree;

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
    /// The metadata journal.
    #[pin]
    journal: Journal,
    /// The inodes without links that still hold their blocks.
    #[pin]
    orphans: orphan::OrphanLock,
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
    /// Device nodes: the device number as stored ([`format::INODE_RDEV`]).
    rdev: u32,
    /// The extent tree on disk (none when the extents fit in the inode), as it was last stored.
    tree: DiskTree,
    /// The inode's generation, which its extent tree nodes carry.
    generation: u32,
    /// The last store failed: the inode is dirty again, and eviction stores it once more
    /// (writeback retries no inode being evicted).
    store_failed: bool,
    /// The tree blocks reserved for writeback and I/O completions.
    reserve: TreeReserve,
    /// `FS_*_FL` flags, as stored ([`format::INODE_FLAGS`]).
    flags: u32,
    /// The extended attribute entries stored in the inode, and the block of the others (0:
    /// none): see [`xattr`].
    xattrs: xattr::InInode,
}

impl InodeInfo {
    /// What the tree reservation is measured against ([`reserve`]) as things are.
    fn reserve_inode(&self) -> reserve::Inode {
        reserve::Inode {
            disk: self.extents.disk_len() as u64,
            blocks: self.extents.blocks(),
            tree: self.tree.blocks(),
        }
    }

    /// Reserves what the tree reservation's charge needs once the inode is as `after` says,
    /// before a change without a charge of its own leaves it so ([`reserve`]): `ENOSPC`, and
    /// nothing reserved, if the blocks are not there. Nothing when nothing is charged.
    fn reserve_for(&mut self, alloc: &mut Alloc, s: &Super, after: reserve::Inode) -> Result {
        if !self.reserve.charged() {
            return Ok(());
        }
        self.reserve
            .charge(0, after, s, |more| alloc.reserve_metadata(more))
    }

    /// Gives back `extents` of the tree reservation's charge, and the blocks that it no longer
    /// needs.
    pub(crate) fn uncharge(&mut self, alloc: &mut Alloc, s: &Super, extents: u64) {
        self.reserve.uncharge(extents);
        let inode = self.reserve_inode();
        self.reserve.settle(alloc, inode, s);
    }
}

#[pin_data]
struct InodeData {
    /// Taken by eviction and I/O completion, as `Mount::alloc`.
    #[pin]
    info: NoFsMutex<InodeInfo>,
    /// The extents' generation and the blocks the inode holds (data, delayed allocations and
    /// extent tree nodes), which `iomap_valid` and `stat` read without the extent lock.
    published: Arc<Published>,
    /// Buffered writes and write faults that charged `info.reserve` and have not ended: their
    /// folios may not be dirty yet. Raised under the extent lock, lowered without it.
    charged_writers: AtomicU32,
    /// Serialises the readers of the extended attributes against their writers, which also
    /// hold `i_rwsem`; taken before a journal handle ([`xattr`]).
    #[pin]
    xattr_lock: Mutex<()>,
    /// The creation time, set once before the inode is initialised (so `stat` reads it
    /// without a lock): seconds, nanoseconds.
    btime: (AtomicI64, AtomicU32),
}

#[vtable]
impl fs::FileSystem for Xtfs {
    const NAME: &'static CStr = c_str!("xtfs");
    /// In the extended attribute entries ([`xattr`]).
    const POSIX_ACL: bool = true;
    type Data = Mount;
    type INodeData = InodeData;

    fn inode_data() -> impl PinInit<InodeData, Error> {
        let published = Arc::new(Published::new(), GFP_KERNEL);
        try_pin_init!(InodeData {
            info <- NoFsMutex::new(new_mutex!(InodeInfo {
                extents: Extents::new(published.clone()?),
                parent: 0,
                rdev: 0,
                tree: DiskTree::new(),
                generation: 0,
                store_failed: false,
                reserve: TreeReserve::default(),
                flags: 0,
                xattrs: xattr::InInode::default(),
            }, "xtfs_inode_info")),
            published: published?,
            charged_writers: AtomicU32::new(0),
            xattr_lock <- new_mutex!((), "xtfs_xattr_lock"),
            btime: (AtomicI64::new(0), AtomicU32::new(0)),
        }? Error)
    }

    fn fill_super(sb: &sb::NewSuperBlock<'_, Self>) -> Result<impl PinInit<Mount, Error>> {
        let mut head = [0u8; format::SB_BYTES];
        sb.read(0, &mut head)?;
        let s = Super::decode(
            sb.id(),
            &head,
            sb.device_bytes(),
            kernel::page::PAGE_SIZE as u64,
        )?;
        sb.set_block_size(s.block_size() as u32).inspect_err(|_| {
            sb_log!(
                pr_err,
                sb,
                "the device cannot use {}-byte blocks\n",
                s.block_size()
            );
        })?;
        sb.set_magic(format::MAGIC as u64);
        sb.set_max_links(format::LINK_MAX);
        // Whole blocks up to the largest `loff_t`: a mapping never ends beyond it.
        sb.set_max_bytes(((i64::MAX as u64 >> s.block_bits) << s.block_bits) as i64);

        let bs = s.block_size() as usize;
        // The last committed transaction, replayed: every read below goes through it.
        let loaded = Journal::load(sb, &s)?;
        let orphans = Orphans::load(sb, &s, &loaded)?;
        // The metadata blocks must be in use and nothing beyond the last block.
        let mut bitmap = KVVec::from_elem(0u8, s.bitmap_blocks as usize * bs, GFP_KERNEL)?;
        sb.read(s.bitmap_start * bs as u64, &mut bitmap)?;
        loaded.patch(&s, s.bitmap_start * bs as u64, &mut bitmap);
        for block in 0..s.bitmap_blocks * bs as u64 * 8 {
            let set = bitmap[(block / 8) as usize] & (1 << (block % 8)) != 0;
            if (block < s.data_start && !set) || (block >= s.blocks && set) {
                return Err(corrupt!(
                    sb.id(),
                    "bitmap: block {} is wrongly {}\n",
                    block,
                    if set { "in use" } else { "free" }
                ));
            }
        }

        // The inode table, one block at a time: a slot is in use if its mode is set.
        let mut itable_block = KVec::from_elem(0u8, bs, GFP_KERNEL)?;
        let mut cached = None;
        let alloc = Alloc::new(&s, bitmap, |ino| {
            let pos = (ino as usize - 1) * format::INODE_SIZE;
            let block = (pos / bs) as u64;
            if cached != Some(block) {
                let at = (s.itable_start + block) * bs as u64;
                sb.read(at, &mut itable_block)?;
                loaded.patch(&s, at, &mut itable_block);
                cached = Some(block);
            }
            Ok(format::le16(&itable_block, pos % bs) != 0)
        })?;
        let write_errors = sb.mark_write_errors();
        Ok(try_pin_init!(Mount {
            sb: s,
            alloc <- NoFsMutex::new(new_mutex!(alloc, "xtfs_alloc")),
            journal <- Journal::new(&s, loaded),
            orphans <- NoFsMutex::new(new_mutex!(orphans, "xtfs_orphans")),
            ioends <- address_space::IoendQueue::new(c_str!("xtfs-ioend")),
            shut_down: AtomicBool::new(false),
            write_errors,
        }? Error))
    }

    /// Reads the root, and deletes the orphans a crash left (unless the mount is read-only:
    /// they stay until a read-write mount).
    fn root(sb: &SuperBlock<Self>) -> Result<INodeRef<'_, Self>> {
        let root = read_inode(sb, format::ROOT_INO)?;
        if root.mode() & format::S_IFMT != format::S_IFDIR {
            return Err(corrupt!(sb.id(), "the root inode is not a directory\n"));
        }
        if !sb.read_only() {
            delete_orphans(sb)?;
        }
        Ok(root)
    }

    /// Stores the inode in the running transaction ([`store_inode`]); with `sync` (`sync(2)`,
    /// `sync_inode_metadata()`), also commits it ([`persist_inode`]).
    fn write_inode(inode: &INode<Self>, sync: bool) -> Result {
        if sync {
            persist_inode(inode)
        } else {
            store_inode(inode)
        }
    }

    /// Deletes an inode without links: frees its blocks, reservations, extent tree and slot,
    /// in one transaction. An inode that stays gives back reservations no dirty data needs any
    /// more (its cache is empty by now).
    ///
    /// The slot is cleared first: an inode whose slot could not be cleared (no memory for the
    /// transaction, a shut down filesystem) keeps its blocks, which stay in use (an orphan
    /// fsck reports), so that none is handed out while the disk's inode may hold it. An inode
    /// whose last store failed is stored once more first.
    ///
    /// Deleting or storing changes the device, which must not happen while the filesystem is
    /// frozen: that is an internal change a freeze waits for, and which waits for the thaw.
    /// It is started before the handle and the extent lock are taken, as every freeze
    /// protection is.
    fn evict_inode(inode: &inode::Evicting<'_, Self>) {
        let sb = inode.super_block();
        let m = sb.data();
        let ino = inode.ino() as u32;
        // Directory and symbolic link blocks are metadata, cached by the device.
        let metadata = inode.mode() & format::S_IFMT != format::S_IFREG;
        // Nobody else sets `store_failed` now: the inode has no users left.
        let writes = inode.nlink() == 0 || inode.data().info.lock().store_failed;
        let _change = writes.then(|| sb.start_intwrite());
        // Checked once the change started: a shutdown while it waited for a thaw counts. A shut
        // down filesystem changes nothing: the inode and its blocks stay in use on disk (an
        // orphan fsck frees), and only the reservations go.
        let mut h = if writes {
            m.journal.start(sb).ok()
        } else {
            None
        };
        let mut info = inode.data().info.lock();
        // No writeback or completion is to come: the tree reservation goes first, so that
        // the last store does not reserve for them ([`reserve`]).
        info.reserve.release_all(&mut m.alloc.lock());
        let mut failed = false;
        let mut delete = false;
        if let Some(h) = h.as_mut() {
            if inode.nlink() == 0 {
                // Off the orphan list and out of the inode table in one transaction.
                delete = m.orphans.lock().remove(h, ino).is_ok()
                    && h.write(inode_pos(&m.sb, ino), &[0u8; format::INODE_SIZE])
                        .is_ok();
                if !delete && h.wrote() {
                    // Off the list but still in the table: no commit may take that.
                    shut_down(sb, EIO);
                }
                failed = !delete;
            } else if let Err(e) = store_records(
                h,
                ino,
                &(inode.attrs(), btime(inode.data())),
                &mut info,
                false,
                |_| Ok(()),
            ) {
                sb_log!(pr_err, sb, "inode {}: could not be stored\n", ino);
                // Half stored (the tree without the inode): no commit may take it.
                if h.wrote() {
                    shut_down(sb, e);
                }
            }
        } else if writes {
            failed = inode.nlink() == 0;
        }
        // Freed only if it is the inode's: a corrupt pointer must not free another's block.
        let xattr_block = if delete {
            xattr::own_block(sb, ino, &mut info)
        } else {
            None
        };
        let mut alloc = m.alloc.lock();
        info.reserve.release_all(&mut alloc);
        if delete {
            alloc.free_inode(ino);
        }
        // The inode's last use: its extents and tree are taken, not rebuilt.
        let extents = info.extents.take();
        for e in extents.iter() {
            match h.as_ref() {
                Some(h) if delete => failed |= alloc.release(h, &m.sb, e, metadata).is_err(),
                _ if e.is_delalloc() => alloc.unreserve(e.len as u64),
                _ => (),
            }
        }
        if let Some(h) = h.as_ref().filter(|_| delete) {
            info.tree.for_each_block(|block| {
                failed |= alloc.free_metadata(h, &m.sb, block, 1).is_err();
            });
            info.tree = DiskTree::new();
            info.extents.set_node_blocks(0);
            if let Some(block) = xattr_block {
                failed |= alloc.free_metadata(h, &m.sb, block, 1).is_err();
            }
        }
        if failed {
            sb_log!(pr_err, sb, "inode {}: could not free all its space\n", ino);
        }
    }

    fn xattr_get(
        inode: &INode<Self>,
        name: &fs::xattr::Name<'_>,
        value: &mut fs::xattr::Value<'_>,
    ) -> Result {
        xattr::get(inode, name, value)
    }

    fn xattr_set(
        inode: &INode<Self>,
        name: &fs::xattr::Name<'_>,
        value: Option<&[u8]>,
        flags: fs::xattr::SetFlags,
    ) -> Result {
        xattr::set(inode, name, value, flags)
    }

    fn xattr_list(inode: &INode<Self>, list: &mut fs::xattr::List<'_>) -> Result {
        xattr::list(inode, list)
    }

    /// Commits the running transaction, which holds the inodes the VFS wrote before this, so
    /// that `sync`, `syncfs` and the unmount leave everything on stable storage.
    ///
    /// A frozen filesystem has nothing to sync (its freeze did) and must not write: `sync(2)`
    /// syncs it all the same.
    fn sync_fs(sb: &SuperBlock<Self>, wait: bool) -> Result {
        if !wait || sb.is_frozen() || sb.read_only() {
            return Ok(());
        }
        sync_metadata(sb)
    }

    /// Commits what internal changes that ended after the freeze's sync made (an eviction that
    /// deleted an inode, an `fsync`) and writes everything home: the device then holds the
    /// whole filesystem, with an empty log, until the thaw.
    fn freeze_fs(sb: &SuperBlock<Self>) -> Result {
        sb.data().journal.checkpoint(sb)
    }

    /// Commits what the evictions of the unmount changed after its sync (the deletion of an
    /// inode whose last reference went only then: one an inotify watch held, say) and writes
    /// everything home: a cleanly unmounted filesystem has an empty log.
    fn put_super(sb: &SuperBlock<Self>) {
        if !sb.read_only() && live(sb).is_ok() {
            // A failure is logged (a shutdown) and leaves what the log replays.
            let _ = sb.data().journal.checkpoint(sb);
        }
    }

    /// Blocks freed in the running transaction count as free: they are, once it is committed,
    /// which a reservation that needs them makes happen (see `alloc`).
    fn statfs(sb: &SuperBlock<Self>) -> Result<sb::Stat> {
        let m = sb.data();
        let alloc = m.alloc.lock();
        Ok(sb::Stat {
            magic: format::MAGIC as u64,
            blocks: m.sb.blocks,
            bfree: (alloc.free_blocks() + alloc.pending()).saturating_sub(alloc.reserved()),
            bavail: alloc.available_after_commit(&m.sb),
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
/// extent tree nodes, as XFS and ext4 count them, read without the extent lock (writeback and
/// completions hold it while they store the inode, which may wait for a commit: `stat` must
/// not wait for that).
pub(crate) fn stat_blocks(inode: &INode<Xtfs>, stat: &mut inode::Stat) -> Result {
    let blocks = inode.data().published.blocks();
    stat.blocks = blocks << (inode.super_block().block_bits() - 9);
    stat.btime = Some(btime(inode.data()));
    Ok(())
}

/// The creation time of an inode of data `data`.
fn btime(data: &InodeData) -> inode::Time {
    let (sec, nsec) = &data.btime;
    inode::Time {
        sec: sec.load(Ordering::Relaxed),
        nsec: nsec.load(Ordering::Relaxed),
    }
}

/// `FS_IOC_GETFLAGS`: the flags as stored.
pub(crate) fn get_flags(inode: &INode<Xtfs>) -> Result<inode::Flags> {
    // Checked when the inode was read ([`format::INODE_FLAGS_KNOWN`]) or set.
    inode::Flags::from_bits(inode.data().info.lock().flags).ok_or(EUCLEAN)
}

/// `FS_IOC_SETFLAGS`: stores `flags` and the change time, in a transaction of its own, as an
/// internal change (eCryptfs sets the flags of its lower files without their mount's write
/// access). The extents are stored first, on their own, as [`xattr::set`] does.
pub(crate) fn set_flags(inode: &inode::Locked<'_, Xtfs>, flags: inode::Flags) -> Result {
    let sb = inode.super_block();
    live(sb)?;
    let _change = sb.start_intwrite();
    store_inode(inode)?;
    let mut h = sb.data().journal.start(sb)?;
    let result = {
        let mut info = inode.data().info.lock();
        let old = info.flags;
        info.flags = flags.bits();
        inode.touch_ctime();
        store_locked(&mut h, inode, &mut info).inspect_err(|_| info.flags = old)
    };
    h.finish(result)
}

/// Stores inode `inode` and its extent records ([`store_inode`]) and commits the transaction,
/// for `fsync` and `sync`.
///
/// # fsync against mmap writes
///
/// `fsync` holds no lock that keeps out a write fault or the writeback of the page it dirtied
/// (xtfs's takes no `i_rwsem`, which would keep out only writes and truncation anyway), and the
/// completion of that writeback converts the extent it wrote and stores the records again
/// (`complete_ioend`): the nodes of the extent tree first, the inode last. Were the commit to
/// take the records while such a completion is between the two, the disk would hold the new
/// nodes under the old inode: extents the file never had, with an extent twice and blocks it
/// does not own (the race of the btrfs fix 885f46d87f, in xtfs's terms). The records
/// are stored under one journal handle, and a commit waits for every handle open (it parks at
/// `fs_commit_wait` first): the disk gets a state the extents really had. The debug knob
/// `fs_skip_fsync_serialize` splits the completion's handle between the nodes and the inode
/// ([`Handle::split`]) to show the race.
pub(crate) fn persist_inode(inode: &INode<Xtfs>) -> Result {
    store_inode(inode)?;
    control::pause(PausePoint::FsFsyncFlush, inode.as_inode(), 0);
    let sb = inode.super_block();
    sb.data().journal.commit(sb, Some(inode.as_inode()))
}

/// `EIO` once the filesystem is shut down: every change checks this first, so that nothing
/// more reaches the journal.
///
/// # Shutdown
///
/// When a commit cannot write the log or the checkpoint, or a transaction outgrows the log,
/// the disk may not have what the filesystem in memory is built on, and changing it further
/// could make things worse: so the filesystem shuts down, as XFS does. Every change (a new
/// name, a write, a page fault for writing, an attribute, `fsync`, writeback, an inode stored
/// or deleted) then fails with `EIO`; reads go on. It stays so until it is unmounted, which
/// commits nothing: the disk holds the last committed transaction, which the next mount
/// replays.
pub(crate) fn live(sb: &SuperBlock<Xtfs>) -> Result {
    if sb.data().shut_down.load(Ordering::Acquire) {
        Err(EIO)
    } else {
        Ok(())
    }
}

/// Shuts the filesystem down ([`live`]) for error `e`: returns `EIO`.
pub(crate) fn shut_down(sb: &SuperBlock<Xtfs>, e: Error) -> Error {
    if !sb.data().shut_down.swap(true, Ordering::AcqRel) {
        sb_log!(
            pr_err,
            sb,
            "metadata could not be written (error {}): shut down, changes fail with EIO until \
             the filesystem is unmounted\n",
            e.to_errno()
        );
    }
    EIO
}

/// Shuts the filesystem of `file` down on request (`FS_IOC_SHUTDOWN`), after writing back what
/// `how` says: data and metadata (as `syncfs(2)` does), the journal only, or nothing. From then
/// on every change and every writeback fails with `EIO` ([`live`]): what was not durable is
/// lost, as in a power cut, and the mount after it replays the log. A shutdown whose flush
/// fails still shuts down; one of a filesystem already shut down does nothing, as ext4's and
/// XFS's.
pub(crate) fn shut_down_on_request(file: &fs::file::File<Xtfs>, how: fs::file::Shutdown) -> Result {
    let sb = file.inode().super_block();
    if live(sb).is_err() {
        return Ok(());
    }
    let flushed = match how {
        fs::file::Shutdown::Sync => file.sync_filesystem(),
        fs::file::Shutdown::FlushLog => sync_metadata(sb),
        fs::file::Shutdown::NoFlush => Ok(()),
    };
    if !sb.data().shut_down.swap(true, Ordering::AcqRel) {
        sb_log!(
            pr_warn,
            sb,
            "shut down on request ({:?}): changes fail with EIO until the filesystem is \
             unmounted\n",
            how
        );
    }
    flushed
}

/// Commits the running transaction ([`Journal::commit`]).
pub(crate) fn sync_metadata(sb: &SuperBlock<Xtfs>) -> Result {
    sb.data().journal.commit(sb, None)
}

/// Writes back the device's cache (the home blocks of the last commit) and waits for it, then
/// flushes the device's volatile cache: the checkpoint of a commit. A write error there, or
/// one the flusher met since the mount, is returned.
pub(crate) fn write_back_and_flush(sb: &SuperBlock<Xtfs>) -> Result {
    sb.sync()?;
    sb.write_errors_since(&sb.data().write_errors)?;
    sb.flush_cache()
}

/// Stores inode `inode` and its extent tree, in a transaction of its own. Delayed allocations
/// are not on disk.
///
/// This is where writeback and `fsync` leave an inode once its data is written: if it is
/// quiet, what its reservation for writeback still holds goes back ([`reserve`]).
pub(crate) fn store_inode(inode: &INode<Xtfs>) -> Result {
    let sb = inode.super_block();
    with_credits(sb, |h| {
        let mut info = inode.data().info.lock();
        if info.reserve.charged() && quiet(inode, 0, 0) {
            let delalloc = info.extents.delalloc_blocks();
            info.reserve.quiet(delalloc);
        }
        store_inode_locked(h, inode, &mut info, None, false)
    })
}

/// Runs `op` in a handle of its own ([`Journal::start_for`]), for an operation whose first
/// change is a store: one that ends with `ENOSPC` because its handle could not claim the
/// credits it needs, before it changed anything, runs again in a handle that starts with
/// them, once they fit (the handles holding the room have ended, or their transaction is
/// committed), as a jbd2 handle restarts. Its credits only grow, up to the log's capacity.
fn with_credits<T>(
    sb: &SuperBlock<Xtfs>,
    mut op: impl FnMut(&mut Handle<'_>) -> Result<T>,
) -> Result<T> {
    let mut credits = 0;
    loop {
        let mut h = sb.data().journal.start_for(sb, credits)?;
        let done = op(&mut h);
        match h.wanted() {
            Some(n) if n > credits && matches!(done, Err(e) if e == ENOSPC) && !h.wrote() => {
                h.finish(Ok(()))?;
                credits = n;
            }
            _ => return h.finish(done),
        }
    }
}

/// Whether `inode` is quiet ([`reserve`]): no charged write between its mapping and its end,
/// no dirty folio, and none under writeback or locked outside the bytes `[start, end)`, whose
/// writeback is completing. To be called with the extent lock held, under which writes charge.
pub(crate) fn quiet(inode: &INode<Xtfs>, start: i64, end: i64) -> bool {
    let mapping = inode.as_inode().mapping();
    // Acquire: pairs with the release of a write's end, which follows its folios' dirtying.
    // Cheapest first; writeback completes in file order, so the folios after `end` are the
    // likelier to be busy (a walk of the cache stops at the first busy folio).
    inode.data().charged_writers.load(Ordering::Acquire) == 0
        && !mapping.has_dirty()
        && !mapping.range_needs_writeback(end, i64::MAX)
        && !mapping.range_needs_writeback(0, start)
}

/// [`store_inode`] in the transaction of `h`.
pub(crate) fn store(h: &mut Handle<'_>, inode: &INode<Xtfs>) -> Result {
    store_inode_locked(h, inode, &mut inode.data().info.lock(), None, false)
}

/// [`store`], with the inode's extent lock held (`info`).
pub(crate) fn store_locked(
    h: &mut Handle<'_>,
    inode: &INode<Xtfs>,
    info: &mut InodeInfo,
) -> Result {
    store_inode_locked(h, inode, info, None, false)
}

/// [`store_locked`] for writeback's allocation of delayed allocations and for preallocation,
/// which may take the tree blocks their charges reserved ([`reserve`]).
pub(crate) fn store_allocated(
    h: &mut Handle<'_>,
    inode: &INode<Xtfs>,
    info: &mut InodeInfo,
) -> Result {
    store_inode_locked(h, inode, info, None, true)
}

/// [`store_inode`] at the completion of a write at file offset `pos`, which converted
/// unwritten extents: the `fs_store_extents` pause point can stop it between the tree's nodes
/// and the inode. With `charged` (writeback), the tree blocks the writes reserved may be taken
/// ([`reserve`]).
///
/// A store whose handle cannot claim the credits it needs fails with `ENOSPC` before it
/// writes anything, and starts again with them ([`with_credits`]). One that fails with
/// `ENOSPC` for want of blocks, before it writes anything, is tried once more after a commit,
/// which makes the blocks freed in the running transaction available. (No handle is held while
/// the completion waits for room or for the commit, and no task waits for this completion with
/// a handle open: writeback and truncation wait for folios' writeback before they start one.)
fn store_inode_completed(inode: &INode<Xtfs>, pos: i64, charged: bool) -> Result {
    let sb = inode.super_block();
    let store = |h: &mut Handle<'_>| {
        let mut info = inode.data().info.lock();
        store_inode_locked(h, inode, &mut info, Some(pos), charged)
    };
    match with_credits(sb, store) {
        // Nothing written: the handle would have shut the filesystem down (`EIO`).
        Err(e) if e == ENOSPC => {
            sb.data().journal.commit(sb, None)?;
            with_credits(sb, store)
        }
        stored => stored,
    }
}

/// [`store_inode`] in the transaction of `h`, with the inode's extent lock held (`info`), for
/// the completion of a write at `completed` if it is one. The tree's nodes are written first,
/// the inode last.
///
/// An inode that could not be stored is marked dirty again, so that writeback retries (the VFS
/// does not): until it is stored, the disk may not have the blocks its extents and tree hold.
fn store_inode_locked(
    h: &mut Handle<'_>,
    inode: &INode<Xtfs>,
    info: &mut InodeInfo,
    completed: Option<i64>,
    charged: bool,
) -> Result {
    let between = |h: &mut Handle<'_>| {
        let Some(pos) = completed else {
            return Ok(());
        };
        let pause = || control::pause(PausePoint::FsStoreExtents, inode.as_inode(), pos);
        if fix_enabled(Fix::FsFsyncSerialize) {
            pause();
            Ok(())
        } else {
            h.split(pause)
        }
    };
    let ret = store_records(
        h,
        inode.ino() as u32,
        &(inode.attrs(), btime(inode.data())),
        info,
        charged,
        between,
    );
    // A shut down filesystem stores nothing any more: nobody need try again.
    info.store_failed = ret.is_err() && live(inode.super_block()).is_ok();
    if info.store_failed {
        inode.mark_dirty();
    }
    ret
}

/// Writes the records of inode `ino`, whose attributes and creation time are `a` and extents
/// `info`, in the transaction of `h`; `between` runs after the tree's nodes are written, before
/// the inode is.
/// An inode without links is stored only while it is on the orphan list (a failed creation's is
/// left as it is on disk): eviction deletes it.
///
/// Up to [`format::INLINE_EXTENTS`] extents go in the inode, and a tree the inode had is freed.
/// More go in the extent tree: built whole when the inode had none, else changed where its
/// extents changed since the last store ([`tree::DiskTree::plan`]). The blocks the tree needs
/// are allocated before anything is written (from the inode's reservation first: see
/// [`reserve`]), and those it no longer needs freed after the inode is. When the change needs
/// more blocks than there are, the tree is built whole, packed, in its old blocks and as few
/// new ones as it needs: no more than the reservation holds. Then the reservation is set to
/// what is still charged.
fn store_records<'a>(
    h: &mut Handle<'a>,
    ino: u32,
    (a, btime): &(inode::Attrs, inode::Time),
    info: &mut InodeInfo,
    charged: bool,
    between: impl FnOnce(&mut Handle<'a>) -> Result,
) -> Result {
    let sb = h.sb();
    live(sb)?;
    let m = sb.data();
    if a.nlink == 0 && !m.orphans.lock().contains(ino) {
        return Ok(());
    }
    let s = &m.sb;
    let bs = s.block_size();
    let t = |t: inode::Time| (t.sec, t.nsec);
    let mut raw = RawInode {
        mode: a.mode,
        nlink: a.nlink,
        uid: a.uid,
        gid: a.gid,
        size: a.size as u64,
        times: [t(a.atime), t(a.mtime), t(a.ctime)],
        generation: info.generation,
        parent: info.parent,
        rdev: info.rdev,
        flags: info.flags,
        btime: t(*btime),
        ..RawInode::default()
    };
    info.xattrs.put(&mut raw);
    let n = info.extents.disk_len();
    if n > u32::MAX as usize {
        return Err(EFBIG);
    }
    // Memory first: everything but the blocks, then the blocks, then the writes.
    let mut buf = KVec::from_elem(0u8, bs as usize, GFP_KERNEL)?;
    let plan = if n > format::INLINE_EXTENTS && info.tree.depth() > 0 {
        let dirty = *info.extents.dirty();
        match info.tree.plan(info.extents.set_mut(), &dirty, bs) {
            // Deeper than a tree may be: built again, packed, it is shallower.
            Err(e) if e == EFBIG => None,
            plan => Some(plan?),
        }
    } else {
        None
    };
    // What a store writes to the transaction at most: its tree blocks, the inode, and a
    // bitmap block for each block it allocates or frees, claimed as credits of its handle
    // before it writes, so that no other operation takes the room meanwhile. One that is the
    // first change of its handle and cannot claim them fails with `ENOSPC` before it changes
    // anything, rather than outgrow the log (and starts again asking for them:
    // [`with_credits`]). After other changes of its handle, nothing would be gained: its
    // operation would fail halfway all the same, so it goes on with the room there is.
    let first = !h.wrote();
    let fits = |tree: usize, allocated: u64, freed: usize| match h
        .extend(tree + 1 + allocated as usize + freed)
    {
        Err(e) if first => Err(e),
        _ => Ok(()),
    };
    // A store that was not charged (a system call's, a direct write's completion) can leave the
    // inode with more extents than the charge of its writeback and completions to come was
    // measured against ([`reserve`]): what the charge then needs is reserved before anything
    // changes, so that this store fails with `ENOSPC`, not those. Only as the first change of
    // its handle: after others, its operation would fail halfway and shut the filesystem down,
    // so an operation that changes things before it stores extents charges them first, as
    // preallocation does, or leaves a shortfall to `settle`.
    let ahead = |info: &mut InodeInfo, tree: u64| -> Result {
        if charged || !first {
            return Ok(());
        }
        let after = reserve::Inode {
            disk: n as u64,
            blocks: info.extents.blocks(),
            tree,
        };
        info.reserve_for(&mut m.alloc.lock(), s, after)
    };
    let plan = match plan {
        Some(plan) => {
            // A packed tree writes more.
            fits(plan.writes(), plan.new_blocks(), plan.freed())?;
            let tree = (info.tree.blocks() + plan.new_blocks()).saturating_sub(plan.freed() as u64);
            let blocks = ahead(info, tree)
                .and_then(|()| allocate_nodes(h, m, plan.new_blocks(), &mut info.reserve, charged));
            match blocks {
                Ok(blocks) => Some((plan, blocks)),
                // Packed, in the blocks it has, the tree needs fewer.
                Err(e) if e == ENOSPC => None,
                Err(e) => return Err(e),
            }
        }
        None => None,
    };
    let (new_tree, freed) = if let Some((mut plan, blocks)) = plan {
        plan.assign(&blocks)?;
        let generation = info.generation;
        plan.write(
            info.extents.set_mut(),
            ino,
            generation,
            &mut buf,
            |block, b| h.write(block * bs, b),
        )?;
        let (depth, root) = plan.root();
        raw.depth = depth;
        raw.nextents = n as u32;
        raw.root_count = root.len() as u32;
        raw.index[..root.len()].copy_from_slice(root);
        let freed = plan.take_freed();
        (Either::Right(plan), freed)
    } else {
        // In the inode, or a tree built whole in the blocks the inode's tree has and new ones;
        // the old blocks it does not need are freed.
        let mut on_disk = KVVec::with_capacity(n, GFP_KERNEL)?;
        for e in info.extents.on_disk() {
            on_disk.push(*e, GFP_KERNEL)?;
        }
        let shape = format::TreeShape::new(n as u64, bs).ok_or(EFBIG)?;
        let mut old = KVec::with_capacity(info.tree.blocks() as usize, GFP_KERNEL)?;
        info.tree.for_each_block(|b| {
            // Within the capacity reserved above.
            let _ = old.push(b, GFP_NOWAIT);
        });
        let total = shape.total() as usize;
        let reused = old.len().min(total);
        let mut blocks = KVec::with_capacity(total, GFP_KERNEL)?;
        blocks.extend_from_slice(&old[..reused], GFP_KERNEL)?;
        let mut freed = KVec::with_capacity(old.len() - reused, GFP_KERNEL)?;
        freed.extend_from_slice(&old[reused..], GFP_KERNEL)?;
        let built = tree::DiskTree::built(&shape, &on_disk)?;
        fits(total, (total - reused) as u64, freed.len())?;
        ahead(info, total as u64)?;
        let new = allocate_nodes(h, m, (total - reused) as u64, &mut info.reserve, charged)?;
        // Within the capacity reserved above.
        blocks.extend_from_slice(&new, GFP_NOWAIT)?;
        let built = built.assign(&blocks)?;
        let tree = format::TreeData {
            extents: &on_disk,
            blocks: &blocks,
            ino,
            generation: info.generation,
        };
        format::write_tree(&shape, &tree, &mut buf, format::crc32c, |block, b| {
            h.write(block * bs, b)
        })?;
        shape.set_root(&mut raw, &on_disk, &blocks);
        (Either::Left(built), freed)
    };
    between(h)?;
    let mut record = raw.encode(ino, format::crc32c);
    if a.nlink == 0 {
        // The list's link, under its lock: a removal rewrites it too. (Only an inode without
        // links is on the list: the `linkat()` that names an `O_TMPFILE` inode takes it off
        // before it stores the link count, in the same transaction.)
        let orphans = m.orphans.lock();
        let next = orphans.next(ino);
        if next != 0 {
            format::set_next_orphan(&mut record, ino, next, format::crc32c);
        }
        h.write(inode_pos(s, ino), &record)?;
    } else {
        h.write(inode_pos(s, ino), &record)?;
    }
    match new_tree {
        Either::Left(built) => info.tree = built,
        Either::Right(plan) => info.tree.apply(plan),
    }
    info.extents.stored();
    let blocks = info.tree.blocks();
    info.extents.set_node_blocks(blocks as usize);
    let mut alloc = m.alloc.lock();
    let mut result = Ok(());
    for &b in freed.iter() {
        result = result.and(alloc.free_metadata(h, s, b, 1));
    }
    let stored = info.reserve_inode();
    info.reserve.settle(&mut alloc, stored, s);
    result
}

/// Allocates `n` blocks for extent tree nodes, with `charged` from `reserve` first: all of
/// them, or none (`ENOSPC`, and the reservation is as it was). A store that was not charged
/// (one of a system call, or of a direct write's completion) leaves the reservation to the
/// writeback and completions it is for.
fn allocate_nodes(
    h: &Handle<'_>,
    m: &Mount,
    n: u64,
    reserve: &mut TreeReserve,
    charged: bool,
) -> Result<KVec<u64>> {
    let mut blocks = KVec::with_capacity(n as usize, GFP_KERNEL)?;
    if n == 0 {
        return Ok(blocks);
    }
    let mut alloc = m.alloc.lock();
    let taken = if charged {
        reserve.take(&mut alloc, n)
    } else {
        0
    };
    let mut result = alloc.room_for(0, n);
    while result.is_ok() && (blocks.len() as u64) < n {
        result = alloc.allocate_metadata(h, &m.sb).and_then(|b| {
            // Within the capacity reserved above.
            blocks.push(b, GFP_NOWAIT).map_err(|e| {
                let _ = alloc.free_metadata(h, &m.sb, b, 1);
                e.into()
            })
        });
    }
    if let Err(e) = result {
        for &b in blocks.iter() {
            let _ = alloc.free_metadata(h, &m.sb, b, 1);
        }
        reserve.put_back(&mut alloc, taken);
        return Err(e);
    }
    Ok(blocks)
}

/// Reads the extents of inode `ino` from the inode and the nodes of its extent tree, checking
/// every node ([`format::decode_node`]) and that each holds only extents within the range its
/// parent's entry gives it. Returns them and the tree's mirror.
fn read_extents(
    sb: &SuperBlock<Xtfs>,
    s: &Super,
    ino: u32,
    raw: &RawInode,
) -> Result<(KVVec<Extent>, DiskTree)> {
    let total = raw.nextents as usize;
    // Every extent holds at least one block of the device.
    if total as u64 > s.blocks {
        return Err(corrupt!(sb.id(), "inode {}: {} extents\n", ino, total));
    }
    // Grown as the tree is read, not from the count on disk: a count that no tree backs (up
    // to the device's size in blocks) must not make a huge allocation before it is found out.
    // Virtually contiguous: a file of a million extents needs 24 MB here.
    let mut extents = KVVec::with_capacity(total.min(format::INLINE_EXTENTS), GFP_KERNEL)?;
    let mut tree = DiskTree::reading(raw.depth, raw.root_index())?;
    if raw.depth == 0 {
        extents.extend_from_slice(raw.inline_extents(), GFP_KERNEL)?;
    } else {
        let mut reader = TreeReader {
            sb,
            s,
            ino,
            generation: raw.generation,
            total,
            extents: &mut extents,
            tree: &mut tree,
        };
        let root = raw.root_index();
        for (i, e) in root.iter().enumerate() {
            let end = root.get(i + 1).map_or(u64::MAX, |n| n.key);
            reader.subtree(raw.depth - 1, e, end)?;
        }
    }
    if extents.len() != total {
        return Err(corrupt!(
            sb.id(),
            "inode {}: {} of {} extents found\n",
            ino,
            extents.len(),
            total
        ));
    }
    let mut prev_end = 0;
    for e in extents.iter() {
        e.check(sb.id(), s, ino, prev_end)?;
        prev_end = e.end();
    }
    Ok((extents, tree))
}

/// Reads an inode's extent tree, depth first (see [`read_extents`]).
struct TreeReader<'a> {
    sb: &'a SuperBlock<Xtfs>,
    s: &'a Super,
    ino: u32,
    generation: u32,
    total: usize,
    extents: &'a mut KVVec<Extent>,
    tree: &'a mut DiskTree,
}

impl TreeReader<'_> {
    /// Reads the subtree of `entry`, whose node is on `level`, holding extents from its key up
    /// to `end`. Recursion is bounded by the depth, at most [`format::MAX_DEPTH`].
    fn subtree(&mut self, level: u16, entry: &format::IndexEntry, end: u64) -> Result {
        let (ino, s) = (self.ino, self.s);
        let block = entry.child;
        if block < s.data_start || block >= s.blocks || entry.key >= end {
            return Err(corrupt!(
                self.sb.id(),
                "inode {}: bad extent tree entry (key {}, block {})\n",
                ino,
                entry.key,
                block
            ));
        }
        // A node in a block the bitmap calls free could be handed out again as another.
        if !self.sb.data().alloc.lock().in_use(block) {
            return Err(corrupt!(
                self.sb.id(),
                "inode {}: extent tree node {} is free in the bitmap\n",
                ino,
                block
            ));
        }
        let bs = s.block_size() as usize;
        let mut buf = KVec::from_elem(0u8, bs, GFP_KERNEL)?;
        self.sb
            .data()
            .journal
            .read(self.sb, block * bs as u64, &mut buf)?;
        let count = format::decode_node(self.sb.id(), &buf, block, ino, self.generation, level)?;
        if level == 0 {
            self.tree.read_leaf();
            if self.extents.len() + count > self.total {
                return Err(corrupt!(
                    self.sb.id(),
                    "inode {}: more extents than {}\n",
                    ino,
                    self.total
                ));
            }
            for i in 0..count {
                let e = format::leaf_extent(&buf, i);
                if e.file_block < entry.key || e.file_block >= end {
                    return Err(corrupt!(
                        self.sb.id(),
                        "inode {}: extent at file block {} in the node of {}..{}\n",
                        ino,
                        e.file_block,
                        entry.key,
                        end
                    ));
                }
                self.extents.push(e, GFP_KERNEL)?;
            }
            return Ok(());
        }
        let mut entries = KVec::with_capacity(count, GFP_KERNEL)?;
        for i in 0..count {
            entries.push(format::node_entry(&buf, i), GFP_KERNEL)?;
        }
        self.tree.read_node(block, level, &entries)?;
        for i in 0..count {
            let e = format::node_entry(&buf, i);
            let next = if i + 1 < count {
                format::node_entry(&buf, i + 1).key
            } else {
                end
            };
            if e.key < entry.key || next > end {
                return Err(corrupt!(
                    self.sb.id(),
                    "inode {}: extent tree entry {} out of {}..{}\n",
                    ino,
                    e.key,
                    entry.key,
                    end
                ));
            }
            self.subtree(level - 1, &e, next)?;
        }
        Ok(())
    }
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
        let first = inode.data().info.lock().extents.iter().next().copied();
        let disk = first.map(|e| e.disk_block).ok_or(EUCLEAN)?;
        // The size was checked against the block size when the inode was read.
        let len = inode.as_inode().size() as usize;
        let mut target = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        sb.data()
            .journal
            .read(sb, disk << sb.block_bits(), &mut target)?;
        Ok(target)
    }
}

/// Inode operations of special files (device nodes, FIFOs, sockets): their data is not
/// xtfs's.
struct SpecialOps;

#[vtable]
impl inode::Operations for SpecialOps {
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

    fn get_flags(inode: &INode<Xtfs>) -> Result<inode::Flags> {
        get_flags(inode)
    }

    fn set_flags(inode: &inode::Locked<'_, Xtfs>, flags: inode::Flags) -> Result {
        set_flags(inode, flags)
    }

    fn get_acl(
        inode: &INode<Xtfs>,
        typ: kernel::fs::acl::Type,
    ) -> Result<Option<kernel::types::ARef<kernel::fs::acl::Acl>>> {
        xattr::get_acl(inode, typ)
    }

    fn set_acl(inode: &INode<Xtfs>, change: &kernel::fs::acl::Change<'_>) -> Result {
        xattr::set_acl(inode, change)
    }
}

/// File operations of symbolic links (which are not opened) and of special files (whose
/// open files have those of their kind): none.
struct NoFileOps;

#[vtable]
impl fs::file::Operations for NoFileOps {
    type FileSystem = Xtfs;
}

/// Returns inode `ino`, reading it from the inode table if it is not cached.
fn read_inode(sb: &SuperBlock<Xtfs>, ino: u32) -> Result<INodeRef<'_, Xtfs>> {
    let s = &sb.data().sb;
    if ino == 0 || ino > s.inodes {
        return Err(corrupt!(sb.id(), "inode number {} out of range\n", ino));
    }
    let new = match sb.get_or_create_inode(ino as u64)? {
        Either::Left(cached) => return Ok(cached),
        Either::Right(new) => new,
    };
    let mut b = [0u8; format::INODE_SIZE];
    sb.data().journal.read(sb, inode_pos(s, ino), &mut b)?;
    // (`Orphans::load` never lists the root.)
    let orphan = sb.data().orphans.lock().contains(ino);
    let raw = RawInode::decode(sb.id(), &b, ino, s, orphan)?;
    let (extents, disk_tree) = read_extents(sb, s, ino, &raw)?;
    let bs = s.block_size();
    let typ = match raw.mode & format::S_IFMT {
        format::S_IFDIR => {
            // Directory blocks are all allocated and written, from block 0 on.
            let mut next = 0;
            for e in extents.iter() {
                if e.file_block != next || e.flags != 0 {
                    return Err(corrupt!(
                        sb.id(),
                        "directory {}: hole or unwritten extent\n",
                        ino
                    ));
                }
                next = e.end();
            }
            if raw.size % bs != 0 || raw.size / bs != next {
                return Err(corrupt!(
                    sb.id(),
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
                return Err(corrupt!(sb.id(), "symlink {}: bad size or extents\n", ino));
            }
            inode::Type::Lnk
        }
        _ => inode::Type::from_mode(raw.mode).ok_or(EUCLEAN)?,
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
    let tree = Tree {
        extents: ExtentSet::from_sorted(&extents)?,
        disk: disk_tree,
        generation: raw.generation,
    };
    let rest = Rest {
        parent: raw.parent,
        rdev: raw.rdev,
        flags: raw.flags,
        btime: time(raw.btime),
        xattrs: xattr::InInode::from_raw(sb.id(), ino, &raw)?,
    };
    let params = init_inode(&new, typ, attrs, tree, rest);
    new.init(params)
}

/// Deletes the inodes on the orphan list, which a crash left: each is read and let go, and its
/// eviction deletes it (in the running transaction, as any deletion).
fn delete_orphans(sb: &SuperBlock<Xtfs>) -> Result {
    let mut todo = KVec::new();
    todo.extend_from_slice(sb.data().orphans.lock().inodes(), GFP_KERNEL)?;
    for &ino in todo.iter() {
        drop(read_inode(sb, ino)?);
    }
    let left = sb.data().orphans.lock().inodes().len();
    if left > 0 {
        sb_log!(pr_warn, sb, "{} orphan inodes could not be deleted\n", left);
    } else if !todo.is_empty() {
        sb_log!(pr_info, sb, "deleted {} orphan inodes\n", todo.len());
    }
    live(sb)
}

/// Byte offset of inode `ino`'s slot in the inode table.
pub(crate) fn inode_pos(s: &Super, ino: u32) -> u64 {
    s.itable_start * s.block_size() + (ino as u64 - 1) * format::INODE_SIZE as u64
}

/// An inode's extents, read or new: their set, the blocks of the nodes of its extent tree on
/// disk and the inode's generation, which the nodes carry.
struct Tree {
    extents: ExtentSet,
    disk: DiskTree,
    generation: u32,
}

/// What an inode keeps besides its attributes and extents.
struct Rest {
    /// A directory's parent.
    parent: u32,
    /// A device node's device number, as stored ([`format::INODE_RDEV`]).
    rdev: u32,
    flags: u32,
    btime: inode::Time,
    xattrs: xattr::InInode,
}

/// Fills the data of a new in-memory inode and returns what it is initialised with.
fn init_inode(
    new: &inode::NewINode<'_, Xtfs>,
    typ: inode::Type,
    attrs: inode::Attrs,
    tree: Tree,
    rest: Rest,
) -> inode::Params<Xtfs> {
    let (rdev, generation) = (rest.rdev, tree.generation);
    {
        let mut info = new.data().info.lock();
        info.extents.set(tree.extents);
        info.parent = rest.parent;
        info.rdev = rest.rdev;
        info.flags = rest.flags;
        info.xattrs = rest.xattrs;
        info.tree = tree.disk;
        info.generation = tree.generation;
        let n = info.tree.blocks() as usize;
        info.extents.set_node_blocks(n);
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
        special => (
            inode::Ops::new::<SpecialOps>(),
            fs::file::Ops::new::<NoFileOps>(),
            // Every other type is special.
            inode::Kind::Special(
                inode::Special::new(special, inode::DevNum::decode(rdev))
                    .unwrap_or(inode::Special::Sock),
            ),
        ),
    };
    let (sec, nsec) = &new.data().btime;
    sec.store(rest.btime.sec, Ordering::Relaxed);
    nsec.store(rest.btime.nsec, Ordering::Relaxed);
    inode::Params {
        kind,
        attrs,
        inode_ops,
        file_ops,
        large_folios: typ == inode::Type::Reg,
        // Checked when the inode was read ([`format::INODE_FLAGS_KNOWN`]); a new one has none.
        flags: inode::Flags::from_bits(rest.flags).unwrap_or_default(),
        generation,
    }
}

/// What a new inode is made with ([`create_inode`]).
pub(crate) struct NewInode<'a> {
    pub(crate) typ: inode::Type,
    pub(crate) owner: inode::NewOwner<'a>,
    /// Bytes, in `extents`.
    pub(crate) size: u64,
    pub(crate) extents: ExtentSet,
    /// A directory's parent.
    pub(crate) parent: u32,
    /// A device node's device number, as stored ([`format::INODE_RDEV`]).
    pub(crate) rdev: u32,
}

impl<'a> NewInode<'a> {
    /// An inode of type `typ` with `owner`'s attributes and nothing else.
    pub(crate) fn new(typ: inode::Type, owner: inode::NewOwner<'a>) -> NewInode<'a> {
        NewInode {
            typ,
            owner,
            size: 0,
            extents: ExtentSet::new(),
            parent: 0,
            rdev: 0,
        }
    }
}

/// The flags a new inode takes from its directory, as on XFS and ext4: synchronous writes,
/// no atime updates, no dump.
const INHERITED_FLAGS: inode::Flags = inode::Flags::SYNC
    .union(inode::Flags::NOATIME)
    .union(inode::Flags::NODUMP);

/// Creates the inode `new` describes in a free slot written to the inode table in the
/// transaction of `h`, with the directory entry the caller adds next (in `dir`, whose
/// [`INHERITED_FLAGS`] it takes). Returns it with its first link (two for a directory), still
/// locked until the VFS gives it its dentry.
fn create_inode<'a>(
    h: &mut Handle<'_>,
    sb: &'a SuperBlock<Xtfs>,
    dir: &INode<Xtfs>,
    new_inode: NewInode<'_>,
) -> Result<inode::Created<'a, Xtfs>> {
    let NewInode {
        typ,
        owner,
        size,
        extents,
        parent,
        rdev,
    } = new_inode;
    let flags = get_flags(dir)?.intersection(INHERITED_FLAGS).bits();
    let m = sb.data();
    let ino = m.alloc.lock().allocate_inode(&m.sb)?;
    let new = match sb.get_or_create_inode(ino as u64) {
        Ok(Either::Right(new)) => new,
        other => {
            m.alloc.lock().free_inode(ino);
            return Err(match other {
                Err(e) => e,
                // A free slot whose inode is still cached: the allocator is wrong.
                _ => corrupt!(sb.id(), "inode {} is free and in use\n", ino),
            });
        }
    };
    let entries = match xattr::NewEntries::new(&owner.acls) {
        Ok(entries) => entries,
        Err(e) => {
            // Released without `evict_inode`: the slot is freed here.
            drop(new);
            m.alloc.lock().free_inode(ino);
            return Err(e);
        }
    };
    let generation = inode::new_generation();
    let now = inode::Time::now();
    let mode = typ.mode_bits() | owner.mode;
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
    let tree = Tree {
        extents,
        disk: DiskTree::new(),
        generation,
    };
    let rest = Rest {
        parent,
        rdev,
        flags,
        btime: now,
        xattrs: xattr::InInode::default(),
    };
    let params = init_inode(&new, typ, attrs, tree, rest);
    let inode = match new.init_created(params) {
        Ok(inode) => inode,
        Err(e) => {
            // A bad inode is released without `evict_inode`: the slot is freed here.
            m.alloc.lock().free_inode(ino);
            return Err(e);
        }
    };
    // Its labels, which the LSMs choose for the inode as initialised, and the ACLs it
    // inherits: in the inode, or in a block written in this transaction (which eviction frees
    // should the creation fail after this).
    let stored = inode
        .init_security(owner.security)
        .and_then(|labels| {
            xattr::create_entries(h, sb, ino, generation, &entries.with_security(labels))
        })
        .and_then(|xattrs| {
            inode.data().info.lock().xattrs = xattrs;
            store(h, &inode)
        });
    if let Err(e) = stored {
        // Without links, eviction frees the slot. The extents stay the caller's, as on the
        // errors above (a symlink frees its block itself): eviction must not free them too.
        drop(inode.data().info.lock().extents.take());
        inode.set_nlink(0);
        return Err(e);
    }
    Ok(inode)
}
