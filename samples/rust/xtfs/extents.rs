// SPDX-License-Identifier: GPL-2.0

//! The in-memory extent tree of an xtfs inode and its generation counter.
//!
//! The extents of a file, sorted by file block and never overlapping, in three states: written,
//! unwritten (allocated, reads as zeroes) and delayed allocation (reserved in the free-space
//! counts, no blocks yet; never on disk). Every change bumps the generation counter, the
//! validity cookie of every mapping handed out: a mapping whose cookie is not the current
//! generation may no longer describe the file, and the write path and writeback map again.
//!
//! The list is rebuilt on each change (linear in the number of extents), which keeps every
//! operation a single pass that cannot leave the list half changed: an allocation failure
//! leaves it as it was.

use crate::format::{Extent, EXTENT_UNWRITTEN};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;
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

/// The extents of one inode.
pub(crate) struct Extents {
    list: KVec<Extent>,
    generation: u64,
    /// The blocks the extents hold, delayed allocations included.
    blocks: u64,
    /// The blocks of the chain of extent blocks.
    chain_blocks: u64,
    /// `blocks + chain_blocks`, published for `stat`, which reads it without the extent lock
    /// (writeback and completions hold it while they store the inode).
    published: Arc<AtomicU64>,
}

/// The blocks `list` holds.
fn count_blocks(list: &[Extent]) -> u64 {
    list.iter().map(|e| e.len as u64).sum()
}

impl Extents {
    /// An empty tree, whose block count goes to `published`.
    pub(crate) fn new(published: Arc<AtomicU64>) -> Extents {
        Extents {
            list: KVec::new(),
            generation: 0,
            blocks: 0,
            chain_blocks: 0,
            published,
        }
    }

    fn publish(&self) {
        self.published
            .store(self.blocks + self.chain_blocks, Ordering::Relaxed);
    }

    /// Replaces the list with extents read from disk (sorted, checked), bumping the generation.
    pub(crate) fn set(&mut self, list: KVec<Extent>) {
        self.blocks = count_blocks(&list);
        self.list = list;
        self.generation += 1;
        self.publish();
    }

    /// Takes every extent out, leaving the tree empty, and bumps the generation. Needs no
    /// memory, so that eviction cannot fail halfway.
    pub(crate) fn take(&mut self) -> KVec<Extent> {
        self.generation += 1;
        self.blocks = 0;
        self.publish();
        core::mem::take(&mut self.list)
    }

    /// Records that the inode's chain of extent blocks is now `n` blocks long, for the block
    /// count `stat` reports.
    pub(crate) fn set_chain_blocks(&mut self, n: usize) {
        self.chain_blocks = n as u64;
        self.publish();
    }

    /// The generation: the validity cookie of mappings made from the tree as it is now.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn list(&self) -> &[Extent] {
        &self.list
    }

    /// The extents that are on disk (not delayed allocations).
    pub(crate) fn on_disk(&self) -> impl Iterator<Item = &Extent> {
        self.list.iter().filter(|e| !e.is_delalloc())
    }

    /// What is at file block `block`.
    pub(crate) fn lookup(&self, block: u64) -> Lookup {
        let i = self.list.partition_point(|e| e.end() <= block);
        match self.list.get(i) {
            Some(e) if e.file_block <= block => Lookup::Extent(*e),
            Some(e) => Lookup::Hole { end: e.file_block },
            None => Lookup::Hole { end: u64::MAX },
        }
    }

    /// Rebuilds the list: extents outside `[start, end)` stay, the pieces inside are replaced by
    /// what `f` returns for each (`None` removes it; a replacement covers the same file
    /// blocks), and `new` is added (into a hole). Neighbours that continue each other are
    /// merged. Bumps the generation.
    fn rebuild(
        &mut self,
        start: u64,
        end: u64,
        mut f: impl FnMut(&Extent) -> Option<Extent>,
        new: Option<Extent>,
    ) -> Result {
        let mut out: KVec<Extent> = KVec::with_capacity(self.list.len() + 3, GFP_KERNEL)?;
        let push = |out: &mut KVec<Extent>, e: Extent| -> Result {
            if let Some(last) = out.last_mut() {
                if last.continued_by(&e) {
                    last.len += e.len;
                    return Ok(());
                }
            }
            out.push(e, GFP_KERNEL)?;
            Ok(())
        };
        let mut new = new;
        for e in self.list.iter() {
            if let Some(n) = new.filter(|n| n.file_block < e.file_block) {
                push(&mut out, n)?;
                new = None;
            }
            if e.end() <= start || e.file_block >= end {
                push(&mut out, *e)?;
                continue;
            }
            let (from, to) = (e.file_block.max(start), e.end().min(end));
            if e.file_block < from {
                push(&mut out, e.piece(e.file_block, from))?;
            }
            if let Some(r) = f(&e.piece(from, to)) {
                push(&mut out, r)?;
            }
            if to < e.end() {
                push(&mut out, e.piece(to, e.end()))?;
            }
        }
        if let Some(n) = new {
            push(&mut out, n)?;
        }
        self.blocks = count_blocks(&out);
        self.list = out;
        self.generation += 1;
        self.publish();
        Ok(())
    }

    /// Adds a delayed allocation of `len` blocks at `block`, which must be a hole.
    pub(crate) fn insert_delalloc(&mut self, block: u64, len: u32) -> Result {
        let e = Extent {
            file_block: block,
            disk_block: 0,
            len,
            flags: EXTENT_DELALLOC,
        };
        self.rebuild(0, 0, |e| Some(*e), Some(e))
    }

    /// Adds `e` (allocated), which must be in a hole.
    pub(crate) fn insert(&mut self, e: Extent) -> Result {
        self.rebuild(0, 0, |e| Some(*e), Some(e))
    }

    /// Removes the extents in `[start, end)` for which `which` holds, calling `removed` on each
    /// piece removed.
    pub(crate) fn remove(
        &mut self,
        start: u64,
        end: u64,
        which: impl Fn(&Extent) -> bool,
        mut removed: impl FnMut(&Extent),
    ) -> Result {
        // Collected first, so that a failed rebuild frees nothing. No more pieces than extents
        // can be removed, so the pushes below never allocate.
        let mut pieces: KVec<Extent> = KVec::with_capacity(self.list.len(), GFP_KERNEL)?;
        self.rebuild(
            start,
            end,
            |e| {
                if which(e) {
                    // Within the capacity reserved above: cannot fail.
                    let _ = pieces.push(*e, GFP_NOWAIT);
                    None
                } else {
                    Some(*e)
                }
            },
            None,
        )?;
        for p in pieces.iter() {
            removed(p);
        }
        Ok(())
    }

    /// Replaces the delayed allocation starting at `block` by `len` blocks at `disk`, unwritten
    /// (the rest of the delayed allocation stays). `block` must start a delayed allocation of at
    /// least `len` blocks.
    pub(crate) fn allocate(&mut self, block: u64, len: u32, disk: u64) -> Result {
        self.rebuild(
            block,
            block + len as u64,
            |e| {
                Some(Extent {
                    disk_block: disk + (e.file_block - block),
                    flags: EXTENT_UNWRITTEN,
                    ..*e
                })
            },
            None,
        )
    }

    /// Marks the unwritten extents in `[start, end)` written. Returns whether any were.
    pub(crate) fn convert(&mut self, start: u64, end: u64) -> Result<bool> {
        let any = self
            .list
            .iter()
            .any(|e| e.is_unwritten() && e.file_block < end && e.end() > start);
        if any {
            self.rebuild(
                start,
                end,
                |e| {
                    Some(Extent {
                        flags: e.flags & !EXTENT_UNWRITTEN,
                        ..*e
                    })
                },
                None,
            )?;
        }
        Ok(any)
    }
}
