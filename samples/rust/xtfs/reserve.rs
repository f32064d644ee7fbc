// SPDX-License-Identifier: GPL-2.0

//! The extent tree blocks that an inode's writeback and I/O completions may need, reserved
//! when its data is dirtied (`Documentation/filesystems/xtfs.rst`, "Space for conversions").
//!
//! Writeback allocates the blocks of a delayed allocation, and the completion of a write to
//! an unwritten extent converts what the write filled; both store the inode's extents, and
//! the extent tree can grow. Neither may fail for want of space: the data would be lost (the
//! VFS has cleared the dirty flag, and the extent would read as zeroes). So the space is
//! reserved when the data is dirtied, where `ENOSPC` can still be returned to the writer, and
//! those stores take their tree blocks from it.
//!
//! # How much
//!
//! A delayed allocation is charged 3 extents per block when a write or fault makes it, and
//! each block dirtied over an unwritten extent 2: allocating a delayed allocation of `n`
//! blocks adds at most `n` extents (one per block, in fragmented free space), and converting
//! `m` blocks at a completion splits at most the two extents at its ends, 2 more, whatever `m`.
//! Writeback gives back 1 per block it allocates, a completion 2 per block it converts, a
//! write 2 per unwritten block it mapped and did not write, and a delayed allocation removed
//! unallocated (a short write's, lost data's) 3 per block; so the charge left always bounds
//! the extents that the allocations and conversions still to come may add, however writeback
//! splits the dirty data (`sync_file_range` on every other block, say). A delayed allocation
//! keeps its charge however often its blocks are written. An unwritten block dirtied twice
//! before its writeback is charged twice; that excess, and the charge of dirty data dropped
//! without writeback, go when the inode is quiet: no dirty folio, none under writeback, and
//! no charged write between its mapping and its end. The charge is then that of the delayed
//! allocations left (a failed write fault's, which no dirty folio covers).
//!
//! The blocks reserved are those a packed tree for the on-disk extents plus the charge needs beyond
//! the blocks the inode's tree has now; as every extent holds a block, no more extents than the
//! file's blocks are counted, so that a small file needs none. A store first tries the incremental
//! update of the tree (`tree`), which may need more blocks than that; when they are not there, it
//! builds the tree whole, packed, in its old blocks and as few new ones as it needs: no more than
//! the reservation holds (see `store_records`). Stores take blocks from the reservation first, then
//! from the free space; after each, the reservation is set to what is still needed. The old blocks
//! a packed tree does not need are freed, pending until the commit: metadata may take pending
//! blocks at once (`alloc`), so they back the reservation as well as free blocks do. Preallocation
//! charges 1 per extent it makes, before it makes it, and its store takes from the reservation too:
//! in free space cut into pieces one range can make thousands of extents, whose tree blocks it must
//! find (`file::preallocate`). Stores that were not charged (those of other system calls and of
//! direct writes' completions) do not take from the reservation. One that adds extents (a punched
//! hole, a direct write's completion) raises what the charge needs: as the first change of its
//! operation, it reserves that before it changes anything, and fails with `ENOSPC` if the blocks
//! are not there (`store_records`), so that the writeback and completions the charge is for never
//! find the reservation short. Should a store still leave it short (a punch, which frees blocks
//! first), the shortfall is reserved even when the blocks are not there, so that the next
//! reservation fails rather than a completion.
//!
//! A store also needs room in the running transaction, which it claims as credits of its
//! operation before it writes (`journal`): one that is the first change of its handle and
//! cannot claim them fails with `ENOSPC` before it changes anything, and a completion's then
//! commits the transaction and tries again (`store_inode_completed`).
//!
//! The charges are worst cases: a `write` that finds no space for its data or its charge writes
//! back the filesystem's dirty data, turning their charges into what writeback really needed,
//! and tries once more, as XFS does (`write_iter`).
//!
//! When the tree cannot grow, writes into unwritten extents fail with `ENOSPC` (a write
//! fault with `SIGBUS`), also those that would join extents: a charge cannot tell.
//!
//! Direct writes are not charged: their completion's error goes to the writer.

use crate::alloc::Alloc;
use crate::format::{Super, TreeShape};
use kernel::prelude::*;

/// Extents charged per block of a delayed allocation, when it is made.
pub(crate) const DELALLOC_CHARGE: u64 = 3;
/// Extents charged per block dirtied over an unwritten extent.
pub(crate) const UNWRITTEN_CHARGE: u64 = 2;
/// Extents given back per block writeback allocates.
pub(crate) const ALLOCATED: u64 = 1;
/// Extents given back per block a completion converts.
pub(crate) const CONVERTED: u64 = 2;

/// The reservation of one inode, under its extent lock.
///
/// # Invariants
///
/// `held` blocks are counted in the allocator's reservations, and given back to it by
/// [`TreeReserve::release_all`] before the inode goes.
#[derive(Default)]
pub(crate) struct TreeReserve {
    /// Extents the allocations and conversions still to come may add to the on-disk extents.
    charge: u64,
    /// Blocks reserved for them.
    held: u64,
}

/// What an inode's reservation is measured against.
#[derive(Clone, Copy)]
pub(crate) struct Inode {
    /// The extents on disk.
    pub(crate) disk: u64,
    /// The blocks of all the extents, delayed allocations included.
    pub(crate) blocks: u64,
    /// The blocks of the extent tree.
    pub(crate) tree: u64,
}

impl Inode {
    /// The blocks a packed tree for the extents on disk plus `charge` more needs beyond those
    /// the tree has, in blocks of `bs` bytes. No more extents than blocks can be on disk,
    /// whatever the charge; `EFBIG` if no tree holds them.
    fn need(&self, charge: u64, bs: u64) -> Result<u64> {
        let extents = self
            .disk
            .saturating_add(charge)
            .min(self.blocks.max(self.disk));
        Ok(TreeShape::new(extents, bs)
            .ok_or(EFBIG)?
            .total()
            .saturating_sub(self.tree))
    }
}

impl TreeReserve {
    /// Charges `extents` more for `inode` (its blocks counting those the charge is for),
    /// reserving the blocks more that needs through `reserve` (the allocator's
    /// [`Alloc::reserve_metadata`], called only then: most charges need none): its error
    /// (`ENOSPC`), and nothing changes, if they are not there.
    pub(crate) fn charge(
        &mut self,
        extents: u64,
        inode: Inode,
        s: &Super,
        reserve: impl FnOnce(u64) -> Result,
    ) -> Result {
        let charge = self.charge.saturating_add(extents);
        let need = inode.need(charge, s.block_size())?;
        if need > self.held {
            reserve(need - self.held)?;
            self.held = need;
        }
        self.charge = charge;
        Ok(())
    }

    /// Gives back `extents` of the charge: allocations or conversions it covered are stored.
    /// [`TreeReserve::settle`] gives back the blocks.
    pub(crate) fn uncharge(&mut self, extents: u64) {
        self.charge = self.charge.saturating_sub(extents);
    }

    /// Whether anything is charged.
    pub(crate) fn charged(&self) -> bool {
        self.charge > 0
    }

    /// The inode is quiet (see the module's documentation), with `delalloc` blocks of delayed
    /// allocations: only their charge is left.
    pub(crate) fn quiet(&mut self, delalloc: u64) {
        self.charge = DELALLOC_CHARGE.saturating_mul(delalloc);
    }

    /// Takes up to `n` blocks out of the reservation for a store, giving them back to the
    /// allocator's free space: returns how many.
    pub(crate) fn take(&mut self, alloc: &mut Alloc, n: u64) -> u64 {
        let n = n.min(self.held);
        alloc.unreserve_metadata(n);
        self.held -= n;
        n
    }

    /// Puts back `n` blocks [`TreeReserve::take`] took, which the store did not use.
    pub(crate) fn put_back(&mut self, alloc: &mut Alloc, n: u64) {
        alloc.reserve_metadata_force(n);
        self.held += n;
    }

    /// Sets the reservation to what the charge needs after a store left `inode` so: the
    /// excess goes back to the allocator, and a shortfall is reserved, forced (see the
    /// module's documentation).
    pub(crate) fn settle(&mut self, alloc: &mut Alloc, inode: Inode, s: &Super) {
        // A charge no tree could hold is refused when it is made: this one fits.
        let need = inode.need(self.charge, s.block_size()).unwrap_or(self.held);
        if need < self.held {
            alloc.unreserve_metadata(self.held - need);
        } else if need > self.held && alloc.reserve_metadata(need - self.held).is_err() {
            alloc.reserve_metadata_force(need - self.held);
        }
        self.held = need;
    }

    /// Gives everything back: the inode goes.
    pub(crate) fn release_all(&mut self, alloc: &mut Alloc) {
        alloc.unreserve_metadata(self.held);
        self.held = 0;
        self.charge = 0;
    }
}
