// SPDX-License-Identifier: GPL-2.0

//! The metadata journal of xtfs: a redo log of whole-block images (`Documentation/filesystems/
//! xtfs.rst`, "Journal").
//!
//! Every change of metadata (the bitmap, the inode table, extent tree nodes, directory and symbolic
//! link blocks) is made in a transaction and reaches the disk only through the log, so that
//! after a crash the disk holds the metadata as one of the committed transactions left it,
//! never half of an operation.
//!
//! - **Handles.** An operation opens a [`Handle`] and makes all its changes through it: the
//!   changed blocks are copied into the running transaction, an overlay of block images that
//!   every metadata read of the filesystem consults ([`Journal::read`]), and nothing of it
//!   reaches the block device's cache before the commit. A handle is a no-filesystem-reclaim
//!   scope, as an XFS transaction is: reclaim cannot evict an inode of this filesystem while
//!   it is open, which would open a second handle and wait for a commit that waits for the
//!   first.
//! - **Credits**, as jbd2 counts them: an operation may add [`HANDLE_CREDITS`] blocks to the
//!   running transaction (more if it starts with [`Journal::start_for`]), and its first handle
//!   waits until they fit beside those that the operations open have not used yet. One that
//!   may need more claims them before it changes anything ([`Handle::extend`]), or fails with
//!   `ENOSPC` with nothing changed, and then starts again asking for them. An operation that
//!   writes more than it claimed takes what others claimed and have not used: those may then
//!   find the log full and shut the filesystem down, so the operations that can write many
//!   blocks (extent tree stores, preallocation) claim them first.
//! - **Commit** ([`Journal::commit`]: `fsync`, `sync`, a full transaction) waits until no
//!   handle is open and new ones wait for it, so a transaction holds whole operations. Then:
//!   1. the checkpoint: the home blocks the previous commit put in the device's cache are
//!      written back and the device's volatile cache flushed. The previous transaction is then
//!      on disk where it belongs, and so is the file data written before this commit (data is
//!      ordered: unwritten extents are converted only when their I/O completes);
//!   2. the log: a header (magic, image count, sequence number, CRC32C of the whole
//!      transaction), the home block numbers, the images; written back and flushed;
//!   3. the images are copied into the device's cache at their home blocks, dirty, written
//!      back by the flusher or the next checkpoint.
//!
//!   The log holds one transaction: the last committed. After a crash its replay is always
//!   right (the home blocks hold it, or the one before it, which differs only in blocks the
//!   log has), and a log whose checksum does not match was torn while it was written, when
//!   the transaction before it was already home and flushed (step 1).
//! - **Replay** is a load: [`Journal::load`] reads a committed log into the running
//!   transaction, which the next commit writes again. A read-only mount replays in memory
//!   and writes nothing.
//! - **Freed blocks** stay unavailable until the transaction that frees them is committed
//!   (the allocator's pending blocks): until then a crash brings back the metadata that uses
//!   them. A freed metadata block is dropped from the running transaction ([`Handle::forget`]),
//!   so that neither the log nor the home copy writes it once it holds file data; the dirty
//!   copies older commits left in the device's cache are written back by the checkpoint before
//!   the block is released.
//!
//! Lock order: `i_rwsem`, `invalidate_lock`, file folio locks, a handle, the inode's extent
//! lock, the allocator's lock, the journal's lock, the block device's folio locks. A handle is
//! never opened while its task holds one, except by the same operation: a nested start joins
//! the handle already open (an inode dropped within an operation is evicted in it).

use crate::format::{self, Super};
use crate::Xtfs;
use core::cell::Cell;
use kernel::fs::reclaim::NoFsScope;
use kernel::fs::sb::{NewSuperBlock, SuperBlock};
use kernel::iomap::control::{self, PausePoint};
use kernel::pagecache::Inode;
use kernel::prelude::*;
use kernel::sync::{new_condvar, new_mutex, Arc, CondVar, Mutex, UniqueArc};

/// A task's identity (its `pid`, per thread).
type Pid = i32;

/// A block as the running or committing transaction has it.
pub(crate) struct Image {
    block: u64,
    data: KVec<u8>,
    /// Forgotten ([`Handle::forget`]): neither logged nor written home, nor read.
    live: bool,
}

/// The images of a transaction, sorted by block, no block twice.
type Images = KVec<Image>;

/// Copies into `buf`, which holds the bytes from device offset `pos` on, what `images` has of
/// them.
fn patch(images: &[Image], bits: u32, pos: u64, buf: &mut [u8]) {
    if buf.is_empty() {
        return;
    }
    let bs = 1u64 << bits;
    let first = pos >> bits;
    let last = (pos + buf.len() as u64 - 1) >> bits;
    let from = images.partition_point(|i| i.block < first);
    for image in images[from..].iter().take_while(|i| i.block <= last) {
        if !image.live {
            continue;
        }
        let start = (image.block << bits).max(pos);
        let end = ((image.block << bits) + bs).min(pos + buf.len() as u64);
        let src = (start - (image.block << bits)) as usize;
        let dst = (start - pos) as usize;
        let n = (end - start) as usize;
        buf[dst..dst + n].copy_from_slice(&image.data[src..src + n]);
    }
}

impl State {
    /// Copies into `buf`, which holds the bytes of the device's cache from device offset `pos`
    /// on, what the transactions not home yet have of them, oldest first.
    fn patch(&self, bits: u32, pos: u64, buf: &mut [u8]) {
        patch(&self.replayed, bits, pos, buf);
        if let Some(c) = &self.committing {
            patch(&c.replayed, bits, pos, buf);
            patch(&c.images, bits, pos, buf);
        }
        patch(&self.running, bits, pos, buf);
    }

    /// The operation of task `pid`, if it has a handle open.
    fn holder(&mut self, pid: Pid) -> Option<&mut Holder> {
        self.holders
            .iter_mut()
            .find(|h| h.pid == pid && h.handles > 0)
    }

    /// Whether task `pid` has a handle open.
    fn holds(&self, pid: Pid) -> bool {
        self.holders.iter().any(|h| h.pid == pid && h.handles > 0)
    }

    /// Counts a handle of task `pid`: the first of its operation brings `credits`.
    fn hold(&mut self, pid: Pid, credits: usize) -> Result {
        if let Some(h) = self.holder(pid) {
            h.handles += 1;
        } else {
            let first = Holder {
                pid,
                handles: 1,
                credits,
            };
            if let Some(h) = self.holders.iter_mut().find(|h| h.handles == 0) {
                *h = first;
            } else {
                self.holders.push(first, GFP_KERNEL)?;
            }
            self.outstanding += credits;
        }
        self.open += 1;
        Ok(())
    }
}

/// A task with handles open: one operation (a nested start joins the handle already open).
#[derive(Clone, Copy)]
struct Holder {
    pid: Pid,
    /// Its handles open (0: a free slot).
    handles: u32,
    /// Its credits not used yet ([`HANDLE_CREDITS`]), counted in `outstanding`.
    credits: usize,
}

struct State {
    /// The running transaction.
    running: Images,
    /// The tasks with a handle open.
    holders: KVec<Holder>,
    /// The handles open.
    open: usize,
    /// The credits of the operations open not used yet: blocks they may still add to
    /// `running`.
    outstanding: usize,
    /// A commit is under way: new handles wait for it.
    commit_running: bool,
    /// The transaction replayed at mount, until a commit has written it home.
    replayed: Images,
    /// The transaction being committed (with the replayed one, if it is not home yet), until
    /// its images are home; for good if the commit failed.
    committing: Option<Arc<Committing>>,
    /// Counts the commits whose images went home: a read that saw it change reads again.
    homed: u64,
    /// Block buffers for images when memory is short (eviction cannot fail), refilled with
    /// those of each committed transaction.
    spare: KVec<Option<KVec<u8>>>,
    /// The sequence number of the next commit.
    seq: u64,
}

/// A transaction being committed.
struct Committing {
    /// The transaction the mount replayed, written home by the checkpoint first.
    replayed: Images,
    images: Images,
}

/// Blocks an operation may add to the running transaction without outgrowing the log, its
/// credits, as jbd2 gives a handle: its first handle waits until they fit beside the credits
/// that the operations open have not used yet. An operation that needs more claims them before
/// it changes anything ([`Handle::extend`]); one that writes more blocks than it holds credits
/// for takes room that other operations may hold, and one that outgrows the log shuts the
/// filesystem down.
pub(crate) const HANDLE_CREDITS: usize = 8;

/// The journal of one mounted filesystem.
///
/// # Invariants
///
/// `running` never holds more than `capacity` images, and `capacity` images fit in the log
/// region `[start, start + blocks)` ([`format::log_capacity`]). `outstanding` is the sum of
/// the holders' credits; with `running`, it adds up to no more than `capacity` unless an
/// operation wrote more blocks than it held credits for ([`Handle::extend`]).
#[pin_data]
pub(crate) struct Journal {
    #[pin]
    state: Mutex<State>,
    #[pin]
    changed: CondVar,
    start: u64,
    bits: u32,
    capacity: usize,
}

/// A committed transaction read from the log, for [`Journal::new`].
pub(crate) struct Loaded {
    images: Images,
    seq: u64,
    /// Spare block buffers and room for images and handles, allocated at mount.
    spare: KVec<Option<KVec<u8>>>,
    running: Images,
    holders: KVec<Holder>,
}

/// Spare block buffers: enough for the bitmap and inode table blocks of an eviction.
const SPARE_BUFFERS: usize = 16;

impl Loaded {
    fn new(images: Images, seq: u64, s: &Super) -> Result<Loaded> {
        let mut spare = KVec::with_capacity(SPARE_BUFFERS, GFP_KERNEL)?;
        for _ in 0..SPARE_BUFFERS {
            let buf = KVec::from_elem(0u8, s.block_size() as usize, GFP_KERNEL)?;
            spare.push(Some(buf), GFP_KERNEL)?;
        }
        Ok(Loaded {
            images,
            seq,
            spare,
            running: KVec::with_capacity(4 * HANDLE_CREDITS, GFP_KERNEL)?,
            holders: KVec::with_capacity(16, GFP_KERNEL)?,
        })
    }

    /// Copies into `buf` what the transaction has of the bytes at device offset `pos` (reads
    /// before the journal is set up).
    pub(crate) fn patch(&self, s: &Super, pos: u64, buf: &mut [u8]) {
        patch(&self.images, s.block_bits, pos, buf)
    }
}

impl Journal {
    /// Reads the log of the filesystem `s` on `sb`: the committed transaction it holds, if
    /// any (a log torn while it was written holds none), to be replayed. `EUCLEAN` if the log
    /// holds what no commit writes.
    pub(crate) fn load(sb: &NewSuperBlock<'_, Xtfs>, s: &Super) -> Result<Loaded> {
        let bs = s.block_size() as usize;
        let mut head = KVec::from_elem(0u8, bs, GFP_KERNEL)?;
        sb.read(s.log_start * bs as u64, &mut head)?;
        let h = format::LogHeader::decode(&head);
        if h.magic != format::LOG_MAGIC {
            return Err(format::corrupt!(sb.id(), "journal: no log header\n"));
        }
        let capacity = format::log_capacity(s.log_blocks, bs as u64);
        if h.count as usize > capacity {
            return Err(format::corrupt!(
                sb.id(),
                "journal: {} blocks in a log of {}\n",
                h.count,
                capacity
            ));
        }
        let count = h.count as usize;
        let index_blocks = format::log_index_blocks(count, bs as u64);
        let mut index = KVec::from_elem(0u8, index_blocks as usize * bs, GFP_KERNEL)?;
        sb.read((s.log_start + 1) * bs as u64, &mut index)?;
        let mut crc = format::LogHeader::checksum_start(&head, kernel::crc32c::crc32c);
        crc = kernel::crc32c::crc32c(crc, &index);
        let mut images = KVec::with_capacity(count, GFP_KERNEL)?;
        let mut prev = None;
        for i in 0..count {
            let block = format::le64(&index, 8 * i);
            let mut data = KVec::from_elem(0u8, bs, GFP_KERNEL)?;
            let at = s.log_start + 1 + index_blocks + i as u64;
            sb.read(at * bs as u64, &mut data)?;
            crc = kernel::crc32c::crc32c(crc, &data);
            images.push(
                Image {
                    block,
                    data,
                    live: true,
                },
                GFP_KERNEL,
            )?;
            if prev.is_some_and(|p| p >= block) || !s.journaled(block) {
                prev = Some(u64::MAX);
            } else {
                prev = Some(block);
            }
        }
        if !crc != h.crc {
            if count > 0 {
                sb_log!(
                    pr_info,
                    sb,
                    "journal: transaction {} was torn while it was written: the one before it \
                     is on disk\n",
                    h.seq
                );
            }
            return Loaded::new(KVec::new(), h.seq.wrapping_add(1), s);
        }
        if prev == Some(u64::MAX) || index[8 * count..].iter().any(|&b| b != 0) {
            return Err(format::corrupt!(
                sb.id(),
                "journal: transaction {} has a bad block list\n",
                h.seq
            ));
        }
        if count > 0 {
            sb_log!(
                pr_info,
                sb,
                "journal: replaying transaction {} ({} blocks)\n",
                h.seq,
                count
            );
        }
        Loaded::new(images, h.seq.wrapping_add(1), s)
    }

    /// The journal of `s`, whose running transaction is the one `loaded` replays.
    pub(crate) fn new(s: &Super, loaded: Loaded) -> impl PinInit<Self> {
        let capacity = format::log_capacity(s.log_blocks, s.block_size());
        let (start, bits) = (s.log_start, s.block_bits);
        // INVARIANT: `load` refused more images than `capacity`, the log's.
        pin_init!(Journal {
            state <- new_mutex!(State {
                running: loaded.running,
                holders: loaded.holders,
                open: 0,
                outstanding: 0,
                commit_running: false,
                replayed: loaded.images,
                committing: None,
                homed: 0,
                spare: loaded.spare,
                seq: loaded.seq,
            }, "xtfs_journal"),
            changed <- new_condvar!("xtfs_journal_changed"),
            start,
            bits,
            capacity,
        })
    }

    /// Whether `credits` more fit in the running transaction beside the credits that the
    /// operations open hold (see [`HANDLE_CREDITS`]).
    fn fits(&self, st: &State, credits: usize) -> bool {
        st.running.len() + st.outstanding + credits <= self.capacity
    }

    /// Opens a handle on the running transaction: waits for a commit under way, and for room
    /// in the transaction for the operation's credits ([`HANDLE_CREDITS`]), committing it
    /// first if need be. A task that holds a handle joins it, and its credits (see the module
    /// documentation).
    pub(crate) fn start<'a>(&'a self, sb: &'a SuperBlock<Xtfs>) -> Result<Handle<'a>> {
        self.start_handle(sb, HANDLE_CREDITS, false)
    }

    /// Opens a handle as [`Journal::start`] does, for an operation that needs `credits` blocks
    /// of the running transaction: waits until they fit, as jbd2's start does. Its
    /// [`Handle::extend`] is strict: it fails rather than take room other operations hold, so
    /// that the caller can start again with the credits it asked for ([`Handle::wanted`]).
    /// `ENOSPC` if the log cannot hold that many.
    pub(crate) fn start_for<'a>(
        &'a self,
        sb: &'a SuperBlock<Xtfs>,
        credits: usize,
    ) -> Result<Handle<'a>> {
        self.start_handle(sb, credits.max(HANDLE_CREDITS), true)
    }

    fn start_handle<'a>(
        &'a self,
        sb: &'a SuperBlock<Xtfs>,
        credits: usize,
        strict: bool,
    ) -> Result<Handle<'a>> {
        crate::live(sb)?;
        if credits > self.capacity {
            return Err(ENOSPC);
        }
        let scope = NoFsScope::enter();
        let pid = kernel::current!().pid();
        self.enter(sb, pid, credits)?;
        Ok(Handle {
            journal: self,
            sb,
            pid,
            open: true,
            strict,
            wanted: Cell::new(0),
            wrote: Cell::new(false),
            _scope: scope,
        })
    }

    /// Counts a handle of task `pid`, once the transaction has room for `credits` (at most
    /// `capacity`) more, unless the task holds a handle: then it joins its operation, and the
    /// operation's credits.
    fn enter(&self, sb: &SuperBlock<Xtfs>, pid: Pid, credits: usize) -> Result {
        let mut st = self.state.lock();
        if !st.holds(pid) {
            loop {
                if st.commit_running || (!self.fits(&st, credits) && st.open > 0) {
                    // A commit under way, or room only once the handles open have ended (or
                    // given credits back) and their transaction is committed.
                    self.changed.wait(&mut st);
                } else if !self.fits(&st, credits) {
                    // No handle open: after the commit the transaction is empty, and
                    // `credits` fit.
                    drop(st);
                    self.commit(sb, None)?;
                    st = self.state.lock();
                } else {
                    break;
                }
            }
        }
        // Room for the images of the handle, while memory is there (an eviction cannot wait
        // for it); a push that finds none allocates then.
        let additional = st.outstanding + credits;
        let _ = st.running.reserve(additional, GFP_KERNEL);
        st.hold(pid, credits)
    }

    /// Ends a handle of task `pid`.
    fn leave(&self, pid: Pid) {
        let mut st = self.state.lock();
        if let Some(h) = st.holder(pid) {
            h.handles -= 1;
            // The operation's last handle: its credits go back.
            let unused = if h.handles == 0 {
                core::mem::take(&mut h.credits)
            } else {
                0
            };
            st.outstanding -= unused;
            st.open -= 1;
            if unused > 0 {
                // Room for a handle waiting for credits.
                self.changed.notify_all();
            }
        }
        if st.open == 0 {
            self.changed.notify_all();
        }
    }

    /// Reads `buf.len()` bytes of metadata at device offset `pos`, as the running transaction
    /// has them.
    pub(crate) fn read(&self, sb: &SuperBlock<Xtfs>, pos: u64, buf: &mut [u8]) -> Result {
        loop {
            let homed = self.state.lock().homed;
            sb.read(pos, buf)?;
            let st = self.state.lock();
            // A commit copied images home meanwhile: the read may have missed them.
            if st.homed != homed {
                continue;
            }
            st.patch(self.bits, pos, buf);
            return Ok(());
        }
    }

    /// Commits the running transaction (see the module documentation) and makes it durable;
    /// with nothing to commit, makes the data written so far durable (a flush). `inode` is the
    /// file whose `fsync` asks, for the `fs_commit_wait` pause point. A failure shuts the
    /// filesystem down: `EIO`.
    pub(crate) fn commit(&self, sb: &SuperBlock<Xtfs>, inode: Option<&Inode>) -> Result {
        crate::live(sb)?;
        let _scope = NoFsScope::enter();
        let pid = kernel::current!().pid();
        // Memory first: a commit that has taken the transaction cannot give it back.
        let slot = UniqueArc::<Committing>::new_uninit(GFP_KERNEL)?;
        let bs = 1usize << self.bits;
        let mut head = KVec::from_elem(0u8, bs, GFP_KERNEL)?;
        let index_bytes = format::log_index_blocks(self.capacity, bs as u64) as usize * bs;
        let mut index = KVec::from_elem(0u8, index_bytes, GFP_KERNEL)?;
        let mut st = self.state.lock();
        if st.holds(pid) {
            // It would wait for its own handle.
            sb_log!(pr_err, sb, "journal: commit with a handle open\n");
            return Err(EINVAL);
        }
        while st.commit_running {
            self.changed.wait(&mut st);
        }
        // The commit waited for may have failed: then nothing of the caller's is durable.
        crate::live(sb)?;
        st.commit_running = true;
        if st.open > 0 {
            if let Some(inode) = inode {
                drop(st);
                control::pause(PausePoint::FsCommitWait, inode, 0);
                st = self.state.lock();
            }
            while st.open > 0 {
                self.changed.wait(&mut st);
            }
        }
        let committing: Arc<Committing> = slot
            .write(Committing {
                replayed: core::mem::take(&mut st.replayed),
                images: core::mem::take(&mut st.running),
            })
            .into();
        st.committing = Some(committing.clone());
        let seq = st.seq;
        drop(st);

        let ret = self.write(sb, &committing, seq, &mut head, &mut index);
        match ret {
            // The blocks the transaction freed can be handed out: it is on disk. Before new
            // handles may start, so that none frees a block that this releases.
            Ok(()) => sb.data().alloc.lock().release_pending(),
            // Before waiters wake: they must not take the failure for success. The images stay
            // where reads find them: memory has them, the disk may not.
            Err(e) => {
                crate::shut_down(sb, e);
            }
        }
        let mut st = self.state.lock();
        if ret.is_ok() {
            st.committing = None;
            if !committing.images.is_empty() {
                st.seq = seq.wrapping_add(1);
            }
        }
        st.homed = st.homed.wrapping_add(1);
        st.commit_running = false;
        self.changed.notify_all();
        drop(st);
        if ret.is_ok() {
            self.recycle(committing);
        }
        ret.map_err(|_| EIO)
    }

    /// Puts the block buffers of a committed transaction, once nobody reads it, where spare
    /// buffers are missing.
    fn recycle(&self, committing: Arc<Committing>) {
        let Some(mut c) = committing.into_unique_or_drop() else {
            return;
        };
        let c = c.as_mut().get_mut();
        let mut st = self.state.lock();
        let mut images = Iterator::chain(c.images.iter_mut(), c.replayed.iter_mut());
        for slot in st.spare.iter_mut().filter(|b| b.is_none()) {
            match images.next() {
                Some(image) => *slot = Some(core::mem::take(&mut image.data)),
                None => break,
            }
        }
    }

    /// The three steps of a commit of `c` as transaction `seq`.
    /// `head` is a block, `index` room for the block list of a full log.
    fn write(
        &self,
        sb: &SuperBlock<Xtfs>,
        c: &Committing,
        seq: u64,
        head: &mut [u8],
        index: &mut [u8],
    ) -> Result {
        let bs = 1u64 << self.bits;
        // 1. The checkpoint: the previous transaction home and flushed, with the data. The one
        // the mount replayed is only in memory: it goes home first, as the log is about to be
        // overwritten.
        for image in c.replayed.iter().filter(|i| i.live) {
            sb.write(image.block * bs, &image.data)?;
        }
        crate::write_back_and_flush(sb)?;
        let images = &c.images;
        if images.is_empty() {
            return Ok(());
        }
        // A shutdown meanwhile (on request, without a flush) stops the commit between its
        // steps, each of which leaves the disk as one committed transaction or the next.
        crate::live(sb)?;
        // 2. The log.
        let count = images.iter().filter(|i| i.live).count();
        if count == 0 {
            return Ok(());
        }
        let index_blocks = format::log_index_blocks(count, bs);
        // `capacity` images at most (type invariant): the list fits.
        let index = &mut index[..(index_blocks * bs) as usize];
        index.fill(0);
        for (i, image) in images.iter().filter(|i| i.live).enumerate() {
            format::put64(index, 8 * i, image.block);
        }
        format::LogHeader {
            magic: format::LOG_MAGIC,
            count: count as u32,
            seq,
            crc: 0,
        }
        .encode(head);
        let mut crc = format::LogHeader::checksum_start(head, kernel::crc32c::crc32c);
        crc = kernel::crc32c::crc32c(crc, index);
        for image in images.iter().filter(|i| i.live) {
            crc = kernel::crc32c::crc32c(crc, &image.data);
        }
        format::LogHeader::set_crc(head, !crc);
        let log = self.start * bs;
        sb.write(log, head)?;
        sb.write(log + bs, index)?;
        let first = log + (1 + index_blocks) * bs;
        for (i, image) in images.iter().filter(|i| i.live).enumerate() {
            sb.write(first + i as u64 * bs, &image.data)?;
        }
        // The checkpoint left nothing else dirty in the device's cache: the whole of it is
        // written back, the log. Its errors, and those the flusher met, fail the commit.
        sb.sync()?;
        sb.write_errors_since(&sb.data().write_errors)?;
        sb.flush_cache()?;
        crate::live(sb)?;
        // 3. Home, in the device's cache.
        for image in images.iter().filter(|i| i.live) {
            sb.write(image.block * bs, &image.data)?;
        }
        Ok(())
    }

    /// Commits, writes everything home and empties the log: the disk then needs no replay
    /// (the unmount; a freeze, so that a snapshot of the device is whole without it).
    pub(crate) fn checkpoint(&self, sb: &SuperBlock<Xtfs>) -> Result {
        self.commit(sb, None)?;
        let _scope = NoFsScope::enter();
        let mut st = self.state.lock();
        while st.commit_running {
            self.changed.wait(&mut st);
        }
        // A commit that failed meanwhile may have left its transaction only in the log.
        crate::live(sb)?;
        // Nothing was changed since the commit: an empty log says the same as it.
        let seq = st.seq;
        let ret = (|| {
            crate::write_back_and_flush(sb)?;
            let bs = 1u64 << self.bits;
            let mut head = KVec::from_elem(0u8, bs as usize, GFP_KERNEL)?;
            format::LogHeader::encode_empty(&mut head, seq, kernel::crc32c::crc32c);
            sb.write(self.start * bs, &head)?;
            sb.sync()?;
            sb.write_errors_since(&sb.data().write_errors)?;
            sb.flush_cache()
        })();
        drop(st);
        ret.map_err(|e| crate::shut_down(sb, e))
    }
}

/// An open handle on the running transaction (see the module documentation): changes of
/// metadata are made through it. Dropping it ends the operation's part in the transaction.
pub(crate) struct Handle<'a> {
    journal: &'a Journal,
    sb: &'a SuperBlock<Xtfs>,
    pid: Pid,
    /// Counted in the journal's open handles (see [`Handle::split`]).
    open: bool,
    /// Opened by [`Journal::start_for`]: [`Handle::extend`] takes no room that other
    /// operations hold.
    strict: bool,
    /// The credits a failed [`Handle::extend`] asked for (0: none failed).
    wanted: Cell<usize>,
    /// Something was written or forgotten through it.
    wrote: Cell<bool>,
    _scope: NoFsScope,
}

impl<'a> Handle<'a> {
    /// Ends the operation's part in the running transaction and opens the handle again, in the
    /// same transaction or, if a commit came between, the next: the changes before and after
    /// are no longer one. Only for a debug knob that turns a fix off (`fs_skip_fsync_serialize`:
    /// the extent records of a write completion in two parts); `between` runs in between. The
    /// caller holds the inode's extent lock while it opens the handle again, against the lock
    /// order: should a commit be waiting for a handle whose task waits for that lock, this
    /// deadlocks, which the knob accepts (the race test arranges that no such task exists).
    pub(crate) fn split(&mut self, between: impl FnOnce()) -> Result {
        self.journal.leave(self.pid);
        self.open = false;
        between();
        self.journal.enter(self.sb, self.pid, HANDLE_CREDITS)?;
        self.open = true;
        Ok(())
    }

    /// The filesystem.
    pub(crate) fn sb(&self) -> &'a SuperBlock<Xtfs> {
        self.sb
    }

    /// Makes sure that the operation of the handle holds credits for `blocks` more blocks
    /// ([`HANDLE_CREDITS`]): claims what it lacks from the room that no operation holds. An
    /// operation that may need many blocks claims them before it changes anything, so that no
    /// other operation can take them meanwhile, and so that it can fail with `ENOSPC` (and
    /// nothing changed) rather than shut the filesystem down.
    ///
    /// When the room is not there, a handle of [`Journal::start_for`] fails with `ENOSPC`,
    /// and its caller starts again with [`Handle::wanted`] credits, waiting for them. Any
    /// other goes on with the room that other operations hold but have not used, if that is
    /// enough (those may then find the log full), and fails with `ENOSPC` if not.
    pub(crate) fn extend(&self, blocks: usize) -> Result {
        let j = self.journal;
        let mut st = j.state.lock();
        let Some(has) = st.holder(self.pid).map(|h| h.credits) else {
            return Err(EINVAL);
        };
        let lacking = blocks.saturating_sub(has);
        if lacking == 0 {
            return Ok(());
        }
        if j.fits(&st, lacking) {
            st.outstanding += lacking;
            if let Some(h) = st.holder(self.pid) {
                h.credits = blocks;
            }
            return Ok(());
        }
        if !self.strict && st.running.len() + blocks <= j.capacity {
            return Ok(());
        }
        self.wanted.set(blocks);
        Err(ENOSPC)
    }

    /// As [`Handle::extend`], for `blocks` more than the handle holds now: blocks an operation
    /// finds it needs beyond those it counted on.
    pub(crate) fn extend_by(&self, blocks: usize) -> Result {
        let has = {
            let mut st = self.journal.state.lock();
            st.holder(self.pid).map(|h| h.credits).ok_or(EINVAL)?
        };
        // Only this task's operations change its handle's credits.
        self.extend(has + blocks)
    }

    /// The credits that a [`Handle::extend`] of the handle asked for and could not claim, if
    /// one failed: those to start again with ([`Journal::start_for`]).
    pub(crate) fn wanted(&self) -> Option<usize> {
        Some(self.wanted.get()).filter(|&n| n > 0)
    }

    /// Whether something was written or forgotten through the handle.
    pub(crate) fn wrote(&self) -> bool {
        self.wrote.get()
    }

    /// Ends the operation of the handle with `result`: an operation that failed after it
    /// changed the running transaction shuts the filesystem down, as a jbd2 abort does, since
    /// a commit would make its half durable (the changes cannot be taken back). `EIO` then.
    pub(crate) fn finish<T>(self, result: Result<T>) -> Result<T> {
        match result {
            Err(e) if self.wrote.get() => {
                sb_log!(
                    pr_err,
                    self.sb,
                    "an operation failed halfway (error {})\n",
                    e.to_errno()
                );
                Err(crate::shut_down(self.sb, e))
            }
            result => result,
        }
    }

    /// Writes `data` at device offset `pos` into the running transaction. A block it touches
    /// for the first time is copied in (read, unless `data` covers it), which can fail: write
    /// what can fail before what cannot. A transaction that would outgrow the log shuts the
    /// filesystem down (`EIO`): it is never committed in part.
    pub(crate) fn write(&self, pos: u64, data: &[u8]) -> Result {
        crate::live(self.sb)?;
        if data.is_empty() {
            return Ok(());
        }
        let j = self.journal;
        let bits = j.bits;
        let bs = 1u64 << bits;
        let first = pos >> bits;
        let last = (pos + data.len() as u64 - 1) >> bits;
        let mut st = j.state.lock();
        for block in first..=last {
            let at = st.running.partition_point(|i| i.block < block);
            let found = st
                .running
                .get(at)
                .filter(|i| i.block == block)
                .map(|i| i.live);
            if found == Some(true) {
                continue;
            }
            // A new block takes a credit of the operation, or room, if need be room that
            // other operations hold but have not used (see [`Handle::extend`]).
            let credit = found.is_none() && st.holder(self.pid).is_some_and(|h| h.credits > 0);
            if found.is_none() && st.running.len() >= j.capacity {
                drop(st);
                sb_log!(
                    pr_err,
                    self.sb,
                    "journal: a transaction needs more than the log's {} blocks\n",
                    j.capacity
                );
                return Err(crate::shut_down(self.sb, E2BIG));
            }
            let covered = pos <= block << bits && pos + data.len() as u64 >= (block + 1) << bits;
            // Room first: a spare buffer must not be lost to a failed push.
            if found.is_none() {
                st.running.reserve(1, GFP_KERNEL)?;
            }
            let mut image = match KVec::from_elem(0u8, bs as usize, GFP_KERNEL) {
                Ok(image) => image,
                Err(e) => {
                    let mut spare = st.spare.iter_mut().find_map(|b| b.take()).ok_or(e)?;
                    spare.fill(0);
                    spare
                }
            };
            if !covered {
                // No commit runs while a handle is open: the cache has what is home, but for
                // the transaction the mount replayed.
                self.sb.read(block << bits, &mut image)?;
                patch(&st.replayed, bits, block << bits, &mut image);
            }
            if found.is_some() {
                // A block forgotten and used again in the same transaction.
                st.running[at] = Image {
                    block,
                    data: image,
                    live: true,
                };
            } else {
                st.running.push(
                    Image {
                        block,
                        data: image,
                        live: true,
                    },
                    GFP_KERNEL,
                )?;
                st.running[at..].rotate_right(1);
                if credit {
                    if let Some(h) = st.holder(self.pid) {
                        h.credits -= 1;
                    }
                    st.outstanding -= 1;
                }
            }
        }
        patch_in(&mut st.running, bits, pos, data);
        self.wrote.set(true);
        Ok(())
    }

    /// Takes blocks `[block, block + len)`, which are being freed, out of the running
    /// transaction: they are neither logged nor written home.
    pub(crate) fn forget(&self, block: u64, len: u64) {
        self.wrote.set(true);
        let mut st = self.journal.state.lock();
        let from = st.running.partition_point(|i| i.block < block);
        for image in st.running[from..].iter_mut() {
            if image.block >= block + len {
                break;
            }
            image.live = false;
        }
    }
}

/// Writes `data`, the bytes from device offset `pos` on, into `images`, which hold each block
/// it touches.
fn patch_in(images: &mut [Image], bits: u32, pos: u64, data: &[u8]) {
    let bs = 1u64 << bits;
    let first = pos >> bits;
    let from = images.partition_point(|i| i.block < first);
    for image in images[from..].iter_mut() {
        let start = (image.block << bits).max(pos);
        let end = ((image.block << bits) + bs).min(pos + data.len() as u64);
        if start >= end {
            break;
        }
        let dst = (start - (image.block << bits)) as usize;
        let src = (start - pos) as usize;
        let n = (end - start) as usize;
        image.data[dst..dst + n].copy_from_slice(&data[src..src + n]);
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        if self.open {
            self.journal.leave(self.pid);
        }
    }
}
