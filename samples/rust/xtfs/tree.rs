// SPDX-License-Identifier: GPL-2.0

//! The extent tree of an xtfs inode on disk and its incremental update
//! (`Documentation/filesystems/xtfs.rst`, "Extent tree").
//!
//! [`DiskTree`] mirrors the tree as the last store left it: the root's index entries and every
//! interior node's, by block. It keeps no leaf contents: a leaf holds the on-disk extents of the
//! inode's extent set (delayed allocations left out) that start within its range, from its
//! entry's key up to the next key on its path, so a leaf is always written from the set. The set
//! records which file ranges changed since the last store ([`Dirty`]); a store rewrites only the
//! leaves whose ranges meet them, splits those that overflow, drops those left empty, and
//! changes the nodes above them to match. Its cost is that of the leaves changed and of their
//! paths, whatever the size of the file.
//!
//! A store is planned before anything is written ([`Plan`]): the plan changes copies of the
//! nodes it touches and numbers the blocks it needs with placeholders, and allocates all the
//! memory the store needs, the tree nodes that will move into the mirror included. Then the
//! blocks are allocated all at once (`ENOSPC` leaves everything as it was), the placeholders
//! replaced, the leaves and nodes written, and the plan replaces what it changed in the
//! mirror, none of which needs memory. The blocks the tree no longer needs are freed by the
//! caller after the inode, which holds the root, is written.

use crate::extents::ExtentSet;
use crate::format::{self, Extent, IndexEntry, NodeHeader, ROOT_INDEX};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNodeReservation};

/// Block numbers from here on are placeholders for blocks a plan has yet to allocate.
const PLACEHOLDER: u64 = u64::MAX - (1 << 40);

/// The most file ranges kept apart in [`Dirty`].
const DIRTY_RANGES: usize = 4;

/// The file ranges (half-open, in blocks) whose on-disk extents changed since the last store:
/// at most [`DIRTY_RANGES`], sorted and apart; one more merges the two closest. Needs no memory.
#[derive(Clone, Copy, Default)]
pub(crate) struct Dirty {
    ranges: [(u64, u64); DIRTY_RANGES],
    len: usize,
}

impl Dirty {
    /// Adds `[start, end)`.
    pub(crate) fn add(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let mut all = [(0u64, 0u64); DIRTY_RANGES + 1];
        let mut n = 0;
        let mut new = Some((start, end));
        for &r in &self.ranges[..self.len] {
            if let Some(x) = new.filter(|x| x.0 < r.0) {
                all[n] = x;
                n += 1;
                new = None;
            }
            all[n] = r;
            n += 1;
        }
        if let Some(x) = new {
            all[n] = x;
            n += 1;
        }
        // Merge what overlaps or touches, then the closest pairs while too many.
        let mut out = [(0u64, 0u64); DIRTY_RANGES + 1];
        let mut m = 0;
        for &r in &all[..n] {
            if m > 0 && r.0 <= out[m - 1].1 {
                out[m - 1].1 = out[m - 1].1.max(r.1);
            } else {
                out[m] = r;
                m += 1;
            }
        }
        while m > DIRTY_RANGES {
            let i = (0..m - 1)
                .min_by_key(|&i| out[i + 1].0 - out[i].1)
                .unwrap_or(0);
            out[i].1 = out[i + 1].1;
            for j in i + 1..m - 1 {
                out[j] = out[j + 1];
            }
            m -= 1;
        }
        self.ranges[..m].copy_from_slice(&out[..m]);
        self.len = m;
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges[..self.len]
    }
}

/// An interior node of the tree.
struct Node {
    level: u16,
    entries: KVec<IndexEntry>,
}

impl Node {
    fn copy(&self) -> Result<Node> {
        let mut entries = KVec::with_capacity(self.entries.len(), GFP_KERNEL)?;
        entries.extend_from_slice(&self.entries, GFP_KERNEL)?;
        Ok(Node {
            level: self.level,
            entries,
        })
    }
}

/// The extent tree of an inode as it is on disk: depth 0 (no tree: the extents are in the
/// inode), or the root's entries and the interior nodes, by block.
///
/// # Invariants
///
/// Above depth 0 the root has 1 to [`ROOT_INDEX`] entries; an interior node of level `l` has
/// entries for nodes of level `l - 1` (leaves at 0), at most the block's capacity, at least
/// one; `leaves` counts the leaf entries of level-1 nodes (or of the root at depth 1).
pub(crate) struct DiskTree {
    depth: u16,
    root: KVec<IndexEntry>,
    nodes: RBTree<u64, Node>,
    /// The number of `nodes`.
    interior: u64,
    leaves: u64,
}

impl DiskTree {
    /// No tree: the extents are in the inode.
    pub(crate) fn new() -> DiskTree {
        DiskTree {
            depth: 0,
            root: KVec::new(),
            nodes: RBTree::new(),
            interior: 0,
            leaves: 0,
        }
    }

    pub(crate) fn depth(&self) -> u16 {
        self.depth
    }

    /// The tree's blocks: its interior nodes and leaves.
    pub(crate) fn blocks(&self) -> u64 {
        if self.depth == 0 {
            0
        } else {
            self.interior + self.leaves
        }
    }

    /// Starts the mirror of a tree being read from disk, of `depth` with `root`.
    pub(crate) fn reading(depth: u16, root: &[IndexEntry]) -> Result<DiskTree> {
        let mut tree = DiskTree::new();
        tree.depth = depth;
        tree.root.extend_from_slice(root, GFP_KERNEL)?;
        Ok(tree)
    }

    /// Records interior node `block` of `level`, read from disk with `entries`.
    pub(crate) fn read_node(&mut self, block: u64, level: u16, entries: &[IndexEntry]) -> Result {
        let mut e = KVec::with_capacity(entries.len(), GFP_KERNEL)?;
        e.extend_from_slice(entries, GFP_KERNEL)?;
        self.nodes
            .try_create_and_insert(block, Node { level, entries: e }, GFP_KERNEL)?;
        self.interior += 1;
        Ok(())
    }

    /// Records a leaf read from disk.
    pub(crate) fn read_leaf(&mut self) {
        self.leaves += 1;
    }

    /// Calls `f` on every block of the tree (to free them all).
    pub(crate) fn for_each_block(&self, mut f: impl FnMut(u64)) {
        if self.depth == 0 {
            return;
        }
        for e in self.root.iter() {
            f(e.child);
        }
        // Every node and leaf is the child of one entry.
        for node in self.nodes.values() {
            for e in node.entries.iter() {
                f(e.child);
            }
        }
    }

    /// The entries of the node at `at` (the root for `None`) as the plan has them.
    fn entries<'a>(&'a self, plan: &'a Plan, at: Option<u64>) -> Option<&'a [IndexEntry]> {
        match at {
            None => Some(&plan.root),
            Some(b) => plan
                .nodes
                .get(&b)
                .or_else(|| self.nodes.get(&b))
                .map(|n| &n.entries[..]),
        }
    }
}

/// One step of a path from the root down: the node (`None`: the root) and the entry taken.
#[derive(Clone, Copy, Default)]
struct Step {
    at: Option<u64>,
    index: usize,
}

/// A store being planned: copies of the nodes it changes, the leaves to write and the blocks
/// to free.
pub(crate) struct Plan {
    depth: u16,
    root: KVec<IndexEntry>,
    /// Changed and new interior nodes, by block (or placeholder).
    nodes: RBTree<u64, Node>,
    /// Leaves to write: block (or placeholder) and the range of file blocks whose extents it
    /// holds.
    leaves: KVec<(u64, u64, u64)>,
    /// Blocks the tree no longer uses, freed once the inode is written.
    freed: KVec<u64>,
    /// Interior nodes dropped from the tree.
    dropped: KVec<u64>,
    /// Placeholders handed out.
    new_blocks: u64,
    /// Tree nodes for the new nodes to move into under their blocks ([`Plan::assign`]).
    spares: KVec<RBTreeNodeReservation<u64, Node>>,
    leaf_count: u64,
    leaf_cap: usize,
    index_cap: usize,
}

impl Plan {
    fn placeholder(&mut self) -> u64 {
        self.new_blocks += 1;
        PLACEHOLDER + self.new_blocks - 1
    }

    /// A new node of `level` with `entries`, under a placeholder, which it returns.
    fn new_node(&mut self, level: u16, entries: KVec<IndexEntry>) -> Result<u64> {
        self.spares.reserve(1, GFP_KERNEL)?;
        let spare = RBTreeNodeReservation::new(GFP_KERNEL)?;
        let b = self.placeholder();
        self.nodes
            .try_create_and_insert(b, Node { level, entries }, GFP_KERNEL)?;
        // Within the capacity reserved above.
        self.spares.push(spare, GFP_NOWAIT)?;
        Ok(b)
    }

    /// The node `block` as the plan changes it: copied from the mirror the first time.
    fn node_mut(&mut self, tree: &DiskTree, block: u64) -> Result<&mut Node> {
        if self.nodes.get(&block).is_none() {
            let copy = tree.nodes.get(&block).ok_or(EUCLEAN)?.copy()?;
            self.nodes.try_create_and_insert(block, copy, GFP_KERNEL)?;
        }
        self.nodes.get_mut(&block).ok_or(EUCLEAN)
    }

    /// The entries of the container at `at` (the root for `None`), to change.
    fn container(&mut self, tree: &DiskTree, at: Option<u64>) -> Result<&mut KVec<IndexEntry>> {
        match at {
            None => Ok(&mut self.root),
            Some(b) => Ok(&mut self.node_mut(tree, b)?.entries),
        }
    }

    /// The capacity of the container at `at`.
    fn cap(&self, at: Option<u64>) -> usize {
        match at {
            None => ROOT_INDEX,
            Some(_) => self.index_cap,
        }
    }
}

impl DiskTree {
    /// The path from the root to the leaf whose range holds file block `pos`, and that range.
    fn descend(
        &self,
        plan: &Plan,
        pos: u64,
    ) -> Result<([Step; format::MAX_DEPTH as usize], u64, u64)> {
        let mut path = [Step::default(); format::MAX_DEPTH as usize];
        let mut at = None;
        let mut hi = u64::MAX;
        for step in path.iter_mut().take(plan.depth as usize) {
            let entries = self.entries(plan, at).ok_or(EUCLEAN)?;
            if entries.is_empty() {
                return Err(EUCLEAN);
            }
            let index = entries.partition_point(|e| e.key <= pos).saturating_sub(1);
            if let Some(next) = entries.get(index + 1) {
                hi = hi.min(next.key);
            }
            *step = Step { at, index };
            at = Some(entries[index].child);
        }
        // The range starts at the key of the deepest entry that is not the first of its node
        // (the first's range reaches down to its parent's).
        let mut lo = 0;
        for step in path[..plan.depth as usize].iter().rev() {
            if step.index > 0 {
                lo = self.entries(plan, step.at).ok_or(EUCLEAN)?[step.index].key;
                break;
            }
        }
        Ok((path, lo, hi))
    }

    /// Plans a store of the on-disk extents of `set`, of which the ranges `dirty` changed. The
    /// tree must have depth above 0 and `set` more on-disk extents than the inode holds.
    pub(crate) fn plan(&self, set: &mut ExtentSet, dirty: &Dirty, bs: u64) -> Result<Plan> {
        let mut root = KVec::with_capacity(self.root.len(), GFP_KERNEL)?;
        root.extend_from_slice(&self.root, GFP_KERNEL)?;
        let mut plan = Plan {
            depth: self.depth,
            root,
            nodes: RBTree::new(),
            leaves: KVec::new(),
            freed: KVec::new(),
            dropped: KVec::new(),
            new_blocks: 0,
            spares: KVec::new(),
            leaf_count: self.leaves,
            leaf_cap: format::leaf_capacity(bs),
            index_cap: format::index_capacity(bs),
        };
        // Leaves in file order, each once: a range that starts within the last leaf planned
        // goes on after it.
        let mut done = 0;
        for &(start, end) in dirty.ranges() {
            let mut pos = start.max(done);
            while pos < end {
                let (path, lo, hi) = self.descend(&plan, pos)?;
                self.plan_leaf(&mut plan, set, &path, lo, hi)?;
                done = hi;
                if hi == u64::MAX {
                    return Ok(plan);
                }
                pos = hi;
            }
        }
        Ok(plan)
    }

    /// Plans the leaf at the end of `path`, holding the extents from `lo` to `hi`: rewritten,
    /// split into as many leaves as its extents need, or dropped if it has none left.
    fn plan_leaf(
        &self,
        plan: &mut Plan,
        set: &mut ExtentSet,
        path: &[Step; format::MAX_DEPTH as usize],
        lo: u64,
        hi: u64,
    ) -> Result {
        let depth = plan.depth as usize;
        let last = path[depth - 1];
        let leaf = self.entries(plan, last.at).ok_or(EUCLEAN)?[last.index].child;
        let count = set.on_disk_in(lo, hi);
        if count == 0 {
            plan.freed.push(leaf, GFP_KERNEL)?;
            plan.leaf_count -= 1;
            return self.remove_entry(plan, path, depth - 1);
        }
        let cap = plan.leaf_cap;
        let m = count.div_ceil(cap);
        // The extent that starts leaf `j` of the `m`: spread evenly, except in the last leaf of
        // the file, which a file written in order keeps appending to: there the leaves before
        // the last are filled, so that appending leaves them full.
        let start = |j: usize| {
            if hi == u64::MAX {
                j * cap
            } else {
                j * count / m
            }
        };
        // The starts of the leaves after the first.
        let mut keys = KVec::with_capacity(m, GFP_KERNEL)?;
        let mut first = None;
        let mut i = 0;
        set.for_each_on_disk_in(lo, hi, |e| {
            if first.is_none() {
                first = Some(e.file_block);
            }
            if keys.len() + 1 < m && i == start(keys.len() + 1) {
                // Within the capacity reserved above.
                let _ = keys.push(e.file_block, GFP_NOWAIT);
            }
            i += 1;
        });
        let first = first.ok_or(EUCLEAN)?;
        plan.leaves.reserve(m, GFP_KERNEL)?;
        let mut bounds = lo;
        let mut entries = KVec::with_capacity(m.saturating_sub(1), GFP_KERNEL)?;
        for j in 0..m {
            let end = keys.get(j).copied().unwrap_or(hi);
            let block = if j == 0 { leaf } else { plan.placeholder() };
            plan.leaves.push((block, bounds, end), GFP_KERNEL)?;
            if j > 0 {
                entries.push(
                    IndexEntry {
                        key: bounds,
                        child: block,
                    },
                    GFP_KERNEL,
                )?;
            }
            bounds = end;
        }
        plan.leaf_count += m as u64 - 1;
        // A first extent below the leaf's key (it is the first leaf of its node) lowers the
        // keys on its path, up to the first entry that is not the first of its node.
        for level in (0..depth).rev() {
            let step = path[level];
            if self.entries(plan, step.at).ok_or(EUCLEAN)?[step.index].key <= first {
                break;
            }
            plan.container(self, step.at)?[step.index].key = first;
            if step.index > 0 {
                break;
            }
        }
        if !entries.is_empty() {
            self.insert_entries(plan, path, depth - 1, entries)?;
        }
        Ok(())
    }

    /// Removes the entry at `path[level]`; a node left empty goes from its parent too.
    fn remove_entry(
        &self,
        plan: &mut Plan,
        path: &[Step; format::MAX_DEPTH as usize],
        level: usize,
    ) -> Result {
        let step = path[level];
        let c = plan.container(self, step.at)?;
        let mut rest = KVec::with_capacity(c.len().saturating_sub(1), GFP_KERNEL)?;
        rest.extend_from_slice(&c[..step.index], GFP_KERNEL)?;
        rest.extend_from_slice(&c[step.index + 1..], GFP_KERNEL)?;
        *c = rest;
        if !c.is_empty() || level == 0 {
            return Ok(());
        }
        // The node goes: neither written nor kept (a new one's block is allocated all the same,
        // and freed with the others).
        let block = step.at.ok_or(EUCLEAN)?;
        drop(plan.nodes.remove(&block));
        plan.freed.push(block, GFP_KERNEL)?;
        if block < PLACEHOLDER {
            plan.dropped.push(block, GFP_KERNEL)?;
        }
        self.remove_entry(plan, path, level - 1)
    }

    /// Inserts `new` after the entry at `path[level]`; a node that overflows is split, and the
    /// root pushed down into new nodes.
    fn insert_entries(
        &self,
        plan: &mut Plan,
        path: &[Step; format::MAX_DEPTH as usize],
        level: usize,
        new: KVec<IndexEntry>,
    ) -> Result {
        let step = path[level];
        let cap = plan.cap(step.at);
        let index_cap = plan.index_cap;
        let c = plan.container(self, step.at)?;
        let mut all = KVec::with_capacity(c.len() + new.len(), GFP_KERNEL)?;
        all.extend_from_slice(&c[..=step.index], GFP_KERNEL)?;
        all.extend_from_slice(&new, GFP_KERNEL)?;
        all.extend_from_slice(&c[step.index + 1..], GFP_KERNEL)?;
        if all.len() <= cap {
            *c = all;
            return Ok(());
        }
        // The level of the nodes holding these entries: the root's children are at depth - 1.
        let node_level = (plan.depth as usize - level) as u16;
        let Some(block) = step.at else {
            // The root overflows: its entries go into new nodes one level down, which it
            // indexes; again while they are more than it holds.
            let mut entries = all;
            loop {
                let k = entries.len().div_ceil(index_cap);
                let mut top = KVec::with_capacity(k, GFP_KERNEL)?;
                for j in 0..k {
                    let part = &entries[j * entries.len() / k..(j + 1) * entries.len() / k];
                    let mut e = KVec::with_capacity(part.len(), GFP_KERNEL)?;
                    e.extend_from_slice(part, GFP_KERNEL)?;
                    let b = plan.new_node(plan.depth, e)?;
                    top.push(
                        IndexEntry {
                            key: part[0].key,
                            child: b,
                        },
                        GFP_KERNEL,
                    )?;
                }
                plan.depth += 1;
                if plan.depth > format::MAX_DEPTH {
                    return Err(EFBIG);
                }
                entries = top;
                if entries.len() <= ROOT_INDEX {
                    plan.root = entries;
                    return Ok(());
                }
            }
        };
        // A node overflows: split evenly, the first part staying in its block.
        let k = all.len().div_ceil(index_cap);
        let mut above = KVec::with_capacity(k - 1, GFP_KERNEL)?;
        let mut first = KVec::new();
        for j in 0..k {
            let part = &all[j * all.len() / k..(j + 1) * all.len() / k];
            let mut e = KVec::with_capacity(part.len(), GFP_KERNEL)?;
            e.extend_from_slice(part, GFP_KERNEL)?;
            if j == 0 {
                first = e;
                continue;
            }
            let b = plan.new_node(node_level, e)?;
            above.push(
                IndexEntry {
                    key: part[0].key,
                    child: b,
                },
                GFP_KERNEL,
            )?;
        }
        plan.node_mut(self, block)?.entries = first;
        self.insert_entries(plan, path, level - 1, above)
    }
}

impl Plan {
    /// The tree blocks the plan writes.
    pub(crate) fn writes(&self) -> usize {
        self.leaves.len() + self.nodes.iter().count()
    }

    /// The tree blocks the plan frees.
    pub(crate) fn freed(&self) -> usize {
        self.freed.len()
    }

    /// The blocks the plan needs allocated.
    pub(crate) fn new_blocks(&self) -> u64 {
        self.new_blocks
    }

    /// Gives the placeholders their blocks, `blocks` (as many as [`Plan::new_blocks`]). Needs
    /// no memory; `EINVAL` if `blocks` is short.
    pub(crate) fn assign(&mut self, blocks: &[u64]) -> Result {
        let real = |b: u64| real(blocks, b);
        for e in self.root.iter_mut() {
            e.child = real(e.child)?;
        }
        for l in self.leaves.iter_mut() {
            l.0 = real(l.0)?;
        }
        for b in self.freed.iter_mut() {
            *b = real(*b)?;
        }
        rekey(&mut self.nodes, &mut self.spares, blocks)
    }

    /// Writes the leaves and interior nodes the plan changed through `write(block, bytes)`,
    /// the leaves from `set`; `buf` is a block.
    pub(crate) fn write(
        &self,
        set: &mut ExtentSet,
        ino: u32,
        generation: u32,
        buf: &mut [u8],
        mut write: impl FnMut(u64, &[u8]) -> Result,
    ) -> Result {
        let header = |count: usize, level: u16, block: u64| NodeHeader {
            magic: format::NODE_MAGIC,
            count: count as u16,
            level,
            ino,
            generation,
            block,
            crc: 0,
            reserved: 0,
        };
        for &(block, lo, hi) in self.leaves.iter() {
            buf.fill(0);
            let mut n = 0;
            set.for_each_on_disk_in(lo, hi, |e: &Extent| {
                // As many as planned, which fit.
                if n < self.leaf_cap {
                    e.encode(&mut buf[format::NODE_HEADER + format::EXTENT_SIZE * n..]);
                }
                n += 1;
            });
            if n == 0 || n > self.leaf_cap {
                return Err(EUCLEAN);
            }
            format::encode_node(buf, &header(n, 0, block), format::crc32c);
            write(block, buf)?;
        }
        for (&block, node) in self.nodes.iter() {
            buf.fill(0);
            for (i, e) in node.entries.iter().enumerate() {
                e.encode(&mut buf[format::NODE_HEADER + format::INDEX_SIZE * i..]);
            }
            format::encode_node(
                buf,
                &header(node.entries.len(), node.level, block),
                format::crc32c,
            );
            write(block, buf)?;
        }
        Ok(())
    }

    /// Takes the blocks the tree no longer uses out of the plan.
    pub(crate) fn take_freed(&mut self) -> KVec<u64> {
        core::mem::take(&mut self.freed)
    }

    /// The root's entries and the depth after the plan.
    pub(crate) fn root(&self) -> (u16, &[IndexEntry]) {
        (self.depth, &self.root)
    }
}

impl DiskTree {
    /// Makes the plan, written, the tree's state. Needs no memory.
    pub(crate) fn apply(&mut self, plan: Plan) {
        let Plan {
            depth,
            root,
            mut nodes,
            dropped,
            leaf_count,
            ..
        } = plan;
        self.depth = depth;
        self.root = root;
        self.leaves = leaf_count;
        for b in dropped.iter() {
            if self.nodes.remove_node(b).is_some() {
                self.interior -= 1;
            }
        }
        while let Some(b) = nodes.iter().map(|(&b, _)| b).next() {
            let Some(node) = nodes.remove_node(&b) else {
                break;
            };
            // An existing node is replaced in place; a new one moves in with its own node.
            if let Some(old) = self.nodes.get_mut(&b) {
                let (_, value) = node.to_key_value();
                *old = value;
            } else {
                self.nodes.insert(node);
                self.interior += 1;
            }
        }
    }
}

/// Block `b`, or the block in `blocks` placeholder `b` stands for.
fn real(blocks: &[u64], b: u64) -> Result<u64> {
    if b < PLACEHOLDER {
        Ok(b)
    } else {
        blocks
            .get((b - PLACEHOLDER) as usize)
            .copied()
            .ok_or(EINVAL)
    }
}

/// Gives the nodes of `nodes` their blocks, `blocks`: the entries' children, and the nodes
/// under placeholders moved under their blocks, into the tree nodes `spares` holds (one for
/// each). Needs no memory.
fn rekey(
    nodes: &mut RBTree<u64, Node>,
    spares: &mut KVec<RBTreeNodeReservation<u64, Node>>,
    blocks: &[u64],
) -> Result {
    for (_, node) in nodes.iter_mut() {
        for e in node.entries.iter_mut() {
            e.child = real(blocks, e.child)?;
        }
    }
    let mut spares = core::mem::take(spares).into_iter();
    loop {
        // The placeholders are the largest keys.
        let Some(b) = nodes.cursor_back().map(|c| *c.current().0) else {
            return Ok(());
        };
        if b < PLACEHOLDER {
            return Ok(());
        }
        let (_, node) = nodes.remove_node(&b).ok_or(EINVAL)?.to_key_value();
        let spare = spares.next().ok_or(EINVAL)?;
        nodes.insert(spare.into_node(real(blocks, b)?, node));
    }
}

/// A tree being built whole, its nodes under placeholders until [`Built::assign`].
pub(crate) struct Built {
    tree: DiskTree,
    spares: KVec<RBTreeNodeReservation<u64, Node>>,
}

impl Built {
    /// Gives the nodes their blocks, `blocks` (as many as the shape has nodes, in its order),
    /// and returns the tree. Needs no memory.
    pub(crate) fn assign(mut self, blocks: &[u64]) -> Result<DiskTree> {
        for e in self.tree.root.iter_mut() {
            e.child = real(blocks, e.child)?;
        }
        rekey(&mut self.tree.nodes, &mut self.spares, blocks)?;
        Ok(self.tree)
    }
}

impl DiskTree {
    /// The mirror of the tree [`format::write_tree`] writes for `extents`, of shape `shape`,
    /// with placeholders for its blocks; every node allocated.
    pub(crate) fn built(shape: &format::TreeShape, extents: &[Extent]) -> Result<Built> {
        let mut built = Built {
            tree: DiskTree::new(),
            spares: KVec::new(),
        };
        let tree = &mut built.tree;
        tree.depth = shape.depth;
        if shape.depth == 0 {
            return Ok(built);
        }
        // Placeholders for the blocks, in the shape's order.
        let mut blocks = KVec::with_capacity(shape.total() as usize, GFP_KERNEL)?;
        for k in 0..shape.total() {
            blocks.push(PLACEHOLDER + k, GFP_KERNEL)?;
        }
        let top = shape.depth as usize - 1;
        for j in 0..shape.nodes[top] {
            tree.root
                .push(shape.entry(extents, &blocks, top, j), GFP_KERNEL)?;
        }
        tree.leaves = shape.nodes[0];
        for level in 1..shape.depth as usize {
            for j in 0..shape.nodes[level] {
                let (from, to) = (shape.first(level, j), shape.first(level, j + 1));
                let mut entries = KVec::with_capacity((to - from) as usize, GFP_KERNEL)?;
                for item in from..to {
                    entries.push(shape.entry(extents, &blocks, level - 1, item), GFP_KERNEL)?;
                }
                let block = blocks[(shape.offset(level) + j) as usize];
                let node = Node {
                    level: level as u16,
                    entries,
                };
                built
                    .spares
                    .push(RBTreeNodeReservation::new(GFP_KERNEL)?, GFP_KERNEL)?;
                let tree = &mut built.tree;
                tree.nodes.try_create_and_insert(block, node, GFP_KERNEL)?;
                tree.interior += 1;
            }
        }
        Ok(built)
    }
}
