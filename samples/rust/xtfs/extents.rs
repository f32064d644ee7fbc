// SPDX-License-Identifier: GPL-2.0

//! The in-memory extent tree of an xtfs inode and its generation counter.
//!
//! The extents of a file, sorted by file block and never overlapping, in three states: written,
//! unwritten (allocated, reads as zeroes) and delayed allocation (reserved in the free-space
//! counts, no blocks yet; never on disk). Every change bumps the generation counter, the
//! validity cookie of every mapping handed out: a mapping whose cookie is not the current
//! generation may no longer describe the file, and the write path and writeback map again.
//!
//! The extents are the values of a red-black tree ([`kernel::rbtree`]) keyed by each extent's
//! last file block, changed in place: a lookup is the first extent whose last block is at or
//! after the block looked up, and a change costs `O(log n)` per extent it touches, whatever the
//! size of the file. A split gives the first part a new node and leaves the second in the old
//! one, and a merge folds the first extent into the second and frees the first's node, so that
//! no other extent's key ever changes.
//!
//! A change allocates every node it may need (at most two, for the splits at the ends of its
//! range) before it changes anything: an allocation failure leaves the tree as it was, and
//! nothing after it can fail.

use crate::format::{Extent, EXTENT_UNWRITTEN};
use crate::tree::Dirty;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNodeReservation};
use kernel::sync::Arc;

/// In-memory only: the extent is a delayed allocation (`disk_block` is 0).
pub(crate) const EXTENT_DELALLOC: u32 = 1 << 31;

impl Extent {
    pub(crate) fn is_delalloc(&self) -> bool {
        self.flags & EXTENT_DELALLOC != 0
    }

    pub(crate) fn is_unwritten(&self) -> bool {
        self.flags & EXTENT_UNWRITTEN != 0
    }

    /// The extent's last file block, its key in the tree (`len` is at least 1).
    fn last(&self) -> u64 {
        self.end() - 1
    }

    /// The part of the extent from file block `from` to `to` (within it).
    pub(crate) fn piece(&self, from: u64, to: u64) -> Extent {
        Extent {
            file_block: from,
            disk_block: if self.is_delalloc() {
                0
            } else {
                self.disk_block + (from - self.file_block)
            },
            len: (to - from) as u32,
            flags: self.flags,
        }
    }

    /// Whether `next` continues this extent on disk and in the file, in the same state.
    fn continued_by(&self, next: &Extent) -> bool {
        self.end() == next.file_block
            && self.flags == next.flags
            && (self.is_delalloc() || self.disk_block + self.len as u64 == next.disk_block)
            && self.len as u64 + next.len as u64 <= u32::MAX as u64
    }
}

/// What is at a file block.
pub(crate) enum Lookup {
    /// An extent holds it.
    Extent(Extent),
    /// A hole, up to file block `end` (the next extent), or to the end of the file's range.
    Hole { end: u64 },
}

/// What the extents of an inode publish for readers that do not take its extent lock.
pub(crate) struct Published {
    generation: AtomicU64,
    blocks: AtomicU64,
}

impl Published {
    pub(crate) fn new() -> Published {
        Published {
            generation: AtomicU64::new(0),
            blocks: AtomicU64::new(0),
        }
    }

    /// The generation ([`Extents::generation`]), read without the extent lock, as XFS's
    /// `xfs_iomap_valid` reads `if_seq` without the inode lock.
    ///
    /// A change still in progress under the lock may not be seen yet. That is enough for the
    /// callers, which ask with a folio locked:
    /// - buffered writes and zeroing hold `i_rwsem`, which keeps out truncation, punching and
    ///   `fallocate`. What can change meanwhile is writeback's: its allocation turns delayed
    ///   allocations into unwritten extents, which a write treats alike (a new folio is zeroed
    ///   either way), and its conversion at I/O completion bumps the generation before the
    ///   folio's writeback ends. A folio the write finds missing or not up to date was
    ///   therefore evicted after the bump that matters, and eviction and the page-cache
    ///   insertion after it take the folio and page-cache locks: the bump happens before
    ///   this read;
    /// - a write fault holds only `invalidate_lock` shared, but only dirties a folio that is
    ///   locked and up to date, which no mapping type changes.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The blocks the inode holds: data, delayed allocations and extent tree nodes, for `stat`.
    pub(crate) fn blocks(&self) -> u64 {
        self.blocks.load(Ordering::Relaxed)
    }
}

/// Extents sorted by file block, not overlapping, in a red-black tree keyed by their last
/// block.
///
/// # Invariants
///
/// Every value is an extent of at least one block whose key is its last block; no two overlap;
/// `disk` is the number of extents on disk (not delayed allocations), `blocks` the sum of
/// the lengths of all and `delalloc` that of the delayed allocations.
pub(crate) struct ExtentSet {
    tree: RBTree<u64, Extent>,
    disk: usize,
    blocks: u64,
    delalloc: u64,
}

/// 1 for an extent on disk (not a delayed allocation), else 0.
fn disk(e: &Extent) -> usize {
    !e.is_delalloc() as usize
}

/// The blocks of `e` if it is a delayed allocation, else 0.
fn delalloc(e: &Extent) -> u64 {
    if e.is_delalloc() {
        e.len as u64
    } else {
        0
    }
}

impl ExtentSet {
    pub(crate) fn new() -> ExtentSet {
        ExtentSet {
            tree: RBTree::new(),
            disk: 0,
            blocks: 0,
            delalloc: 0,
        }
    }

    /// The set of `list`, which is sorted, does not overlap and has no empty extent (as
    /// [`Extent::check`] checks what is read from disk): `EUCLEAN` otherwise.
    pub(crate) fn from_sorted(list: &[Extent]) -> Result<ExtentSet> {
        let mut set = ExtentSet::new();
        let mut prev_end = 0;
        for (i, e) in list.iter().enumerate() {
            let end = e.file_block.checked_add(e.len as u64);
            if e.len == 0 || end.is_none() || (i > 0 && e.file_block < prev_end) {
                return Err(EUCLEAN);
            }
            prev_end = e.end();
            set.tree.try_create_and_insert(e.last(), *e, GFP_KERNEL)?;
            set.disk += disk(e);
            set.blocks += e.len as u64;
            set.delalloc += delalloc(e);
        }
        Ok(set)
    }

    /// The extents in file order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Extent> {
        self.tree.values()
    }

    /// The number of extents on disk (not delayed allocations).
    pub(crate) fn disk_len(&self) -> usize {
        self.disk
    }

    /// Calls `f` on the extents on disk that start in `[lo, hi)`, in order.
    pub(crate) fn for_each_on_disk_in(&mut self, lo: u64, hi: u64, mut f: impl FnMut(&Extent)) {
        let Some(mut c) = self.tree.cursor_lower_bound(&lo) else {
            return;
        };
        loop {
            let e = *c.current().1;
            if e.file_block >= hi {
                return;
            }
            if e.file_block >= lo && !e.is_delalloc() {
                f(&e);
            }
            c = match c.move_next() {
                Some(c) => c,
                None => return,
            };
        }
    }

    /// The number of extents on disk that start in `[lo, hi)`.
    pub(crate) fn on_disk_in(&mut self, lo: u64, hi: u64) -> usize {
        let mut n = 0;
        self.for_each_on_disk_in(lo, hi, |_| n += 1);
        n
    }

    /// What is at file block `block`.
    fn lookup(&mut self, block: u64) -> Lookup {
        match self.tree.cursor_lower_bound(&block) {
            Some(c) => {
                let e = *c.current().1;
                if e.file_block <= block {
                    Lookup::Extent(e)
                } else {
                    Lookup::Hole { end: e.file_block }
                }
            }
            None => Lookup::Hole { end: u64::MAX },
        }
    }

    /// Whether one extent holds both file block `at - 1` and `at`.
    fn straddles(&mut self, at: u64) -> bool {
        at > 0 && matches!(self.lookup(at - 1), Lookup::Extent(e) if e.end() > at)
    }

    /// Splits the extent holding `at - 1` and `at` in two at `at`, the first part in `node`.
    fn split(&mut self, at: u64, node: RBTreeNodeReservation<u64, Extent>) {
        let Some(mut c) = self.tree.cursor_lower_bound(&(at - 1)) else {
            return;
        };
        let e = c.current_mut().1;
        let old = *e;
        if old.file_block >= at || old.end() <= at {
            return;
        }
        *e = old.piece(at, old.end());
        let head = old.piece(old.file_block, at);
        self.tree.insert(node.into_node(head.last(), head));
        self.disk += disk(&head);
    }

    /// Merges every extent from the one holding (or after) file block `start` up to the first
    /// one starting at or after `end` with the one before it where that one continues it.
    fn merge(&mut self, start: u64, end: u64) {
        let Some(mut c) = self.tree.cursor_lower_bound(&start) else {
            return;
        };
        loop {
            let b = *c.current().1;
            if let Some(a) = c.peek_prev().map(|(_, a)| *a) {
                if a.continued_by(&b) {
                    // The first node goes; the second keeps its key, its last block.
                    drop(c.remove_prev());
                    *c.current_mut().1 = Extent {
                        file_block: a.file_block,
                        disk_block: a.disk_block,
                        len: a.len + b.len,
                        flags: b.flags,
                    };
                    self.disk -= disk(&a);
                }
            }
            if b.file_block >= end {
                return;
            }
            c = match c.move_next() {
                Some(c) => c,
                None => return,
            };
        }
    }
}

/// The extents of one inode.
pub(crate) struct Extents {
    set: ExtentSet,
    /// The file ranges whose on-disk extents changed since the inode was last stored.
    dirty: Dirty,
    /// The nodes of the extent tree on disk.
    node_blocks: u64,
    /// The generation, and `set.blocks + node_blocks` for `stat`.
    published: Arc<Published>,
}

impl Extents {
    /// An empty tree, whose generation and block count go to `published`.
    pub(crate) fn new(published: Arc<Published>) -> Extents {
        Extents {
            set: ExtentSet::new(),
            dirty: Dirty::default(),
            node_blocks: 0,
            published,
        }
    }

    /// Publishes a change: bumps the generation and the block count.
    fn changed(&self) {
        // Release: pairs with the lockless reader's acquire (see `Published::generation`).
        self.published.generation.fetch_add(1, Ordering::Release);
        self.published
            .blocks
            .store(self.set.blocks + self.node_blocks, Ordering::Relaxed);
    }

    /// Replaces the extents with `set` (read from disk, checked, as they are stored), bumping
    /// the generation.
    pub(crate) fn set(&mut self, set: ExtentSet) {
        self.set = set;
        self.dirty.clear();
        self.changed();
    }

    /// The extent set, for a store to write from.
    pub(crate) fn set_mut(&mut self) -> &mut ExtentSet {
        &mut self.set
    }

    /// The file ranges whose on-disk extents changed since the inode was last stored.
    pub(crate) fn dirty(&self) -> &Dirty {
        &self.dirty
    }

    /// The inode was stored: the disk has the extents as they are.
    pub(crate) fn stored(&mut self) {
        self.dirty.clear();
    }

    /// Records that the on-disk extents around `[start, end)` are about to change: from the
    /// extent holding `start - 1` (which a change may merge with) to the one holding `end`.
    fn touch(&mut self, start: u64, end: u64) {
        let from = match start.checked_sub(1).map(|b| self.set.lookup(b)) {
            Some(Lookup::Extent(e)) => e.file_block,
            _ => start,
        };
        let to = match self.set.lookup(end) {
            Lookup::Extent(e) => e.end(),
            Lookup::Hole { .. } => end,
        };
        self.dirty.add(from, to);
    }

    /// Takes every extent out, leaving the tree empty, and bumps the generation. Needs no
    /// memory, so that eviction cannot fail halfway.
    pub(crate) fn take(&mut self) -> ExtentSet {
        let set = core::mem::replace(&mut self.set, ExtentSet::new());
        self.changed();
        set
    }

    /// Records that the inode's extent tree on disk now has `n` nodes, for the block count
    /// `stat` reports.
    pub(crate) fn set_node_blocks(&mut self, n: usize) {
        self.node_blocks = n as u64;
        self.published
            .blocks
            .store(self.set.blocks + self.node_blocks, Ordering::Relaxed);
    }

    /// The generation: the validity cookie of mappings made from the tree as it is now.
    pub(crate) fn generation(&self) -> u64 {
        self.published.generation.load(Ordering::Relaxed)
    }

    /// The number of extents on disk (not delayed allocations).
    pub(crate) fn disk_len(&self) -> usize {
        self.set.disk_len()
    }

    /// The blocks of all the extents, delayed allocations included.
    pub(crate) fn blocks(&self) -> u64 {
        self.set.blocks
    }

    /// The blocks of the delayed allocations.
    pub(crate) fn delalloc_blocks(&self) -> u64 {
        self.set.delalloc
    }

    /// The extents in file order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Extent> {
        self.set.iter()
    }

    /// The extents that are on disk (not delayed allocations).
    pub(crate) fn on_disk(&self) -> impl Iterator<Item = &Extent> {
        self.set.iter().filter(|e| !e.is_delalloc())
    }

    /// What is at file block `block`.
    pub(crate) fn lookup(&mut self, block: u64) -> Lookup {
        self.set.lookup(block)
    }

    /// Changes the extents in `[start, end)`: the parts of extents inside it are replaced by
    /// what `f` returns for each (`None` removes it; a replacement covers the same file
    /// blocks). Neighbours that continue each other are merged. Bumps the generation.
    fn change(
        &mut self,
        start: u64,
        end: u64,
        mut f: impl FnMut(&Extent) -> Option<Extent>,
    ) -> Result {
        if start >= end {
            return Ok(());
        }
        self.touch(start, end);
        // Memory first: the nodes of the splits at both ends.
        let mut nodes = [None, None];
        for (node, at) in nodes.iter_mut().zip([start, end]) {
            if self.set.straddles(at) {
                *node = Some(RBTreeNodeReservation::new(GFP_KERNEL)?);
            }
        }
        for (node, at) in nodes.into_iter().zip([start, end]) {
            if let Some(node) = node {
                self.set.split(at, node);
            }
        }
        // Every extent is now inside `[start, end)` or outside it.
        let set = &mut self.set;
        let mut pos = start;
        while pos < end {
            let Some(mut c) = set.tree.cursor_lower_bound(&pos) else {
                break;
            };
            let (&last, e) = c.current_mut();
            if e.file_block >= end {
                break;
            }
            pos = last + 1;
            let old = *e;
            match f(&old) {
                Some(r) if r.file_block == old.file_block && r.len == old.len => {
                    *e = r;
                    set.disk = set.disk + disk(&r) - disk(&old);
                    set.delalloc = set.delalloc + delalloc(&r) - delalloc(&old);
                }
                Some(_) => {
                    // The callers replace pieces by pieces of the same blocks.
                    debug_assert!(false, "a replacement covers other blocks");
                    pr_err!("an extent replacement changed the blocks it covers\n");
                }
                None => {
                    drop(c.remove_current());
                    set.disk -= disk(&old);
                    set.blocks -= old.len as u64;
                    set.delalloc -= delalloc(&old);
                }
            }
        }
        self.set.merge(start, end);
        self.changed();
        Ok(())
    }

    /// Adds `e`, which must be in a hole (`EUCLEAN` if not), merged with the extents it
    /// continues and that continue it. Bumps the generation.
    fn add(&mut self, e: Extent) -> Result {
        let fits = e.len > 0
            && e.file_block.checked_add(e.len as u64).is_some()
            && match self.set.lookup(e.file_block) {
                Lookup::Hole { end } => e.end() <= end,
                Lookup::Extent(_) => false,
            };
        if !fits {
            pr_err!(
                "extent at file block {} ({} blocks) added over another\n",
                e.file_block,
                e.len
            );
            return Err(EUCLEAN);
        }
        // The extent before `e` that it continues gives its node to the two together (its key,
        // its last block, changes); else a new node.
        let prev = match e.file_block.checked_sub(1).map(|b| self.set.lookup(b)) {
            Some(Lookup::Extent(p)) if p.continued_by(&e) => Some(p),
            _ => None,
        };
        let (node, merged) =
            match prev.and_then(|p| Some((self.set.tree.remove_node(&p.last())?, p))) {
                Some((node, p)) => {
                    self.set.disk -= disk(&p);
                    let merged = Extent {
                        len: p.len + e.len,
                        ..p
                    };
                    (node.into_reservation(), merged)
                }
                None => (RBTreeNodeReservation::new(GFP_KERNEL)?, e),
            };
        self.set.tree.insert(node.into_node(merged.last(), merged));
        self.set.disk += disk(&merged);
        self.set.blocks += e.len as u64;
        self.set.delalloc += delalloc(&e);
        self.set.merge(merged.file_block, merged.end());
        if !e.is_delalloc() {
            // The records that changed are all in the extent `e` ended up in (merged with the
            // extent before it, the one before that if they continue each other, and the one
            // after).
            if let Lookup::Extent(f) = self.set.lookup(e.file_block) {
                self.dirty.add(f.file_block, f.end());
            }
        }
        self.changed();
        Ok(())
    }

    /// Adds a delayed allocation of `len` blocks at `block`, which must be a hole.
    pub(crate) fn insert_delalloc(&mut self, block: u64, len: u32) -> Result {
        self.add(Extent {
            file_block: block,
            disk_block: 0,
            len,
            flags: EXTENT_DELALLOC,
        })
    }

    /// Adds `e` (allocated), which must be in a hole.
    pub(crate) fn insert(&mut self, e: Extent) -> Result {
        self.add(e)
    }

    /// Removes the extents in `[start, end)` for which `which` holds, calling `removed` on each
    /// piece removed (once the removal can no longer fail).
    pub(crate) fn remove(
        &mut self,
        start: u64,
        end: u64,
        which: impl Fn(&Extent) -> bool,
        mut removed: impl FnMut(&Extent),
    ) -> Result {
        self.change(start, end, |e| {
            if which(e) {
                removed(e);
                None
            } else {
                Some(*e)
            }
        })
    }

    /// Replaces the delayed allocation starting at `block` by `len` blocks at `disk`, unwritten
    /// (the rest of the delayed allocation stays). `block` must start a delayed allocation of at
    /// least `len` blocks.
    pub(crate) fn allocate(&mut self, block: u64, len: u32, disk: u64) -> Result {
        self.change(block, block + len as u64, |e| {
            Some(Extent {
                disk_block: disk + (e.file_block - block),
                flags: EXTENT_UNWRITTEN,
                ..*e
            })
        })
    }

    /// Marks the unwritten extents in `[start, end)` written. Returns whether any were.
    pub(crate) fn convert(&mut self, start: u64, end: u64) -> Result<bool> {
        let mut any = false;
        if let Some(mut c) = self.set.tree.cursor_lower_bound(&start) {
            loop {
                let e = c.current().1;
                if e.file_block >= end {
                    break;
                }
                if e.is_unwritten() {
                    any = true;
                    break;
                }
                c = match c.move_next() {
                    Some(c) => c,
                    None => break,
                };
            }
        }
        if any {
            self.change(start, end, |e| {
                Some(Extent {
                    flags: e.flags & !EXTENT_UNWRITTEN,
                    ..*e
                })
            })?;
        }
        Ok(any)
    }
}
