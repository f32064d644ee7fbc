// SPDX-License-Identifier: GPL-2.0

//! Free space and free inodes of an xtfs filesystem.
//!
//! The block bitmap and the map of inodes in use are kept in memory, loaded and checked at
//! mount; every change of the block bitmap is made in a transaction of the journal too (its
//! whole blocks, copied from memory), so that it reaches the disk with the operation that made
//! it. A change never crosses a page of the bitmap and is undone in memory if it cannot be put
//! in the transaction, so that it is all or nothing.
//!
//! Blocks freed in the running transaction are pending: free on disk once it is committed, but
//! not handed out for data before, as a crash until then brings back the metadata that uses
//! them, and data is written in place before the commit ([`Alloc::release_pending`] after each
//! commit). They are not counted as free meanwhile, so that a data reservation always finds its
//! blocks. Metadata may take them at once (as XFS reuses busy extents for metadata): it is
//! written through the journal, so until the commit the disk keeps what the blocks held, and
//! the device's cache holds every copy written home, the newest last.
//!
//! Delayed allocations are counted here as reservations: a write reserves the blocks it will
//! need, so that writeback, which allocates them, never runs out of space. Data reservations
//! are backed by free blocks. The extent tree blocks that writeback and I/O completions may need
//! are reserved too (`reserve`), backed by free or pending blocks. A few blocks are kept back
//! from data for metadata: that allocated without a reservation (directory blocks, extent tree
//! nodes of other changes), and those tree blocks.
//!
//! Lock order: a journal handle, an inode's extent lock, this allocator's lock, the journal's
//! lock.

use crate::format::{Extent, Super};
use crate::journal::Handle;
use kernel::page::PAGE_SIZE;
use kernel::prelude::*;

/// The allocator of one mounted filesystem.
pub(crate) struct Alloc {
    /// One bit per block, as on disk once the running transaction is committed.
    bitmap: KVVec<u8>,
    /// One bit per block freed in a transaction not committed yet: not handed out.
    pending: KVVec<u8>,
    /// The blocks `pending` has.
    pending_blocks: u64,
    /// One bit per inode, set if its slot is in use (inode `n` is bit `n - 1`).
    inodes: KVVec<u8>,
    free_blocks: u64,
    /// Blocks reserved for data (delayed allocations).
    reserved: u64,
    /// Blocks reserved for metadata (extent tree blocks of writeback and completions).
    meta_reserved: u64,
    free_inodes: u64,
    /// Where the next search for free blocks starts.
    cursor: u64,
}

fn test(map: &[u8], bit: u64) -> bool {
    map[(bit / 8) as usize] & (1 << (bit % 8)) != 0
}

fn set(map: &mut [u8], bit: u64, on: bool) {
    let byte = &mut map[(bit / 8) as usize];
    if on {
        *byte |= 1 << (bit % 8);
    } else {
        *byte &= !(1 << (bit % 8));
    }
}

impl Alloc {
    /// An allocator for `s`, whose block bitmap is `bitmap` (checked by the caller) and whose
    /// inodes in use are those `in_use` says (asked in increasing order).
    pub(crate) fn new(
        s: &Super,
        bitmap: KVVec<u8>,
        mut in_use: impl FnMut(u32) -> Result<bool>,
    ) -> Result<Alloc> {
        let mut inodes = KVVec::from_elem(0u8, (s.inodes as usize).div_ceil(8), GFP_KERNEL)?;
        let mut used_inodes = 0;
        for ino in 1..=s.inodes {
            if in_use(ino)? {
                set(&mut inodes, (ino - 1) as u64, true);
                used_inodes += 1;
            }
        }
        // The caller checked that no bit beyond the last block is set.
        let used: u64 = bitmap.iter().map(|b| b.count_ones() as u64).sum();
        let pending = KVVec::from_elem(0u8, bitmap.len(), GFP_KERNEL)?;
        Ok(Alloc {
            bitmap,
            pending,
            pending_blocks: 0,
            inodes,
            free_blocks: s.blocks - used,
            reserved: 0,
            meta_reserved: 0,
            free_inodes: (s.inodes - used_inodes) as u64,
            cursor: s.data_start,
        })
    }

    /// Blocks kept back from data for metadata allocated without a reservation.
    fn metadata_reserve(s: &Super) -> u64 {
        (s.blocks / 64).clamp(8, 1024)
    }

    /// Blocks available for data reservations: free blocks, less those reserved and those kept
    /// back for metadata, and less the metadata reservations pending blocks do not back.
    pub(crate) fn available(&self, s: &Super) -> u64 {
        let meta = self.meta_reserved.saturating_sub(self.pending_blocks);
        self.free_blocks
            .saturating_sub(self.reserved + meta + Self::metadata_reserve(s))
    }

    /// Blocks metadata can still take: free and pending blocks less every reservation.
    fn metadata_room(&self) -> u64 {
        (self.free_blocks + self.pending_blocks).saturating_sub(self.reserved + self.meta_reserved)
    }

    /// Whether block `block` is in use (or beyond the bitmap).
    pub(crate) fn in_use(&self, block: u64) -> bool {
        (block / 8) as usize >= self.bitmap.len() || test(&self.bitmap, block)
    }

    pub(crate) fn free_blocks(&self) -> u64 {
        self.free_blocks
    }

    /// Blocks reserved, for data and for metadata.
    pub(crate) fn reserved(&self) -> u64 {
        self.reserved + self.meta_reserved
    }

    pub(crate) fn free_inodes(&self) -> u64 {
        self.free_inodes
    }

    /// [`Alloc::available`] once the running transaction is committed, for `statfs`.
    pub(crate) fn available_after_commit(&self, s: &Super) -> u64 {
        (self.free_blocks + self.pending_blocks)
            .saturating_sub(self.reserved + self.meta_reserved + Self::metadata_reserve(s))
    }

    /// `ENOSPC` unless `inodes` inodes and `blocks` metadata blocks can be allocated now: an
    /// operation asks before it changes anything, as one that fails halfway shuts the
    /// filesystem down (see `journal`). A concurrent allocation can still take them.
    pub(crate) fn room_for(&self, inodes: u64, blocks: u64) -> Result {
        if self.free_inodes < inodes || self.metadata_room() < blocks {
            return Err(ENOSPC);
        }
        Ok(())
    }

    /// Blocks freed in a transaction not committed yet.
    pub(crate) fn pending(&self) -> u64 {
        self.pending_blocks
    }

    /// The transactions that freed the pending blocks are committed: they are free.
    pub(crate) fn release_pending(&mut self) {
        if self.pending_blocks > 0 {
            self.pending.fill(0);
            self.free_blocks += self.pending_blocks;
            self.pending_blocks = 0;
        }
    }

    /// Whether block `b` can be handed out.
    fn available_block(&self, b: u64) -> bool {
        !test(&self.bitmap, b) && !test(&self.pending, b)
    }

    /// Reserves up to `n` blocks for delayed allocation, as many as are available: returns how
    /// many (at least one), or `ENOSPC` if none are.
    pub(crate) fn reserve_up_to(&mut self, s: &Super, n: u64) -> Result<u64> {
        let n = n.min(self.available(s));
        if n == 0 {
            return Err(ENOSPC);
        }
        self.reserved += n;
        Ok(n)
    }

    /// Reserves `n` blocks for metadata that writeback and I/O completions will allocate
    /// (see `reserve`), from the space kept back for metadata and from pending blocks too:
    /// `ENOSPC` if there are fewer.
    pub(crate) fn reserve_metadata(&mut self, n: u64) -> Result {
        if self.metadata_room() < n {
            return Err(ENOSPC);
        }
        self.meta_reserved += n;
        Ok(())
    }

    /// Reserves `n` blocks for metadata whether or not they are there: for a reservation that
    /// must not fail (see `reserve`). The reservations then exceed the blocks, and every other
    /// reservation and metadata allocation fails until blocks are freed.
    pub(crate) fn reserve_metadata_force(&mut self, n: u64) {
        self.meta_reserved = self.meta_reserved.saturating_add(n);
    }

    /// Gives back a reservation of `n` metadata blocks.
    pub(crate) fn unreserve_metadata(&mut self, n: u64) {
        self.meta_reserved = self.meta_reserved.saturating_sub(n);
    }

    /// Gives back a reservation of `n` blocks that will not be allocated.
    pub(crate) fn unreserve(&mut self, n: u64) {
        self.reserved = self.reserved.saturating_sub(n);
    }

    /// Whether bit `bit` of the bitmap starts a page of the device (the bitmap starts at a
    /// block, which need not start a page).
    fn starts_page(s: &Super, bit: u64) -> bool {
        bit % 8 == 0 && (s.bitmap_start * s.block_size() + bit / 8) % PAGE_SIZE as u64 == 0
    }

    /// Finds a run of up to `want` free blocks, the first from the cursor on (wrapping), within
    /// one page of the bitmap.
    fn find_run(&self, s: &Super, want: u64) -> Option<(u64, u64)> {
        let span = s.blocks - s.data_start;
        let mut i = 0;
        while i < span {
            let b = s.data_start + (self.cursor - s.data_start + i) % span;
            if !self.available_block(b) {
                i += 1;
                continue;
            }
            let mut len = 1;
            while len < want
                && b + len < s.blocks
                && self.available_block(b + len)
                && !Self::starts_page(s, b + len)
            {
                len += 1;
            }
            return Some((b, len));
        }
        None
    }

    /// Marks `[start, start + len)` in use or free, in the transaction of `h` and in memory, and
    /// counts them out of the free blocks or in the pending ones: one page of the bitmap at a
    /// time, each all or nothing. Every block must be in the other state (`EUCLEAN` otherwise,
    /// and nothing changes): freeing a free block would count it twice.
    fn mark(&mut self, h: &Handle<'_>, s: &Super, start: u64, len: u64, on: bool) -> Result {
        let end = start.checked_add(len).ok_or(EUCLEAN)?;
        if start < s.data_start || end > s.blocks {
            return Err(EUCLEAN);
        }
        if let Some(b) = (start..end).find(|&b| test(&self.bitmap, b) == on) {
            sb_log!(
                pr_err,
                h.sb(),
                "block {} is already {}\n",
                b,
                if on { "in use" } else { "free" }
            );
            return Err(EUCLEAN);
        }
        let mut from = start;
        while from < end {
            let mut to = from + 1;
            while to < end && !Self::starts_page(s, to) {
                to += 1;
            }
            for b in from..to {
                set(&mut self.bitmap, b, on);
            }
            // The whole bitmap blocks the change is in, as memory has them: the transaction
            // need not read them.
            let per_block = s.block_size() as usize;
            let first = (from / 8) as usize / per_block * per_block;
            let last = ((to - 1) / 8) as usize / per_block * per_block + per_block - 1;
            let pos = s.bitmap_start * s.block_size() + first as u64;
            if let Err(e) = h.write(pos, &self.bitmap[first..=last]) {
                for b in from..to {
                    set(&mut self.bitmap, b, !on);
                }
                return Err(e);
            }
            if on {
                // Metadata may take pending blocks (see `allocate_metadata`).
                for b in from..to {
                    if test(&self.pending, b) {
                        set(&mut self.pending, b, false);
                        self.pending_blocks -= 1;
                    } else {
                        self.free_blocks -= 1;
                    }
                }
            } else {
                for b in from..to {
                    set(&mut self.pending, b, true);
                }
                self.pending_blocks += to - from;
            }
            from = to;
        }
        Ok(())
    }

    /// Allocates up to `want` contiguous blocks out of a reservation: returns the first block
    /// and how many. The reservation of the blocks allocated is used up.
    pub(crate) fn allocate_reserved(
        &mut self,
        h: &Handle<'_>,
        s: &Super,
        want: u64,
    ) -> Result<(u64, u64)> {
        let want = want.min(u32::MAX as u64).min(self.reserved).max(1);
        let (start, len) = self.find_run(s, want).ok_or(ENOSPC)?;
        self.mark(h, s, start, len, true)?;
        self.reserved = self.reserved.saturating_sub(len);
        self.cursor = start + len;
        if self.cursor >= s.blocks {
            self.cursor = s.data_start;
        }
        Ok((start, len))
    }

    /// Allocates one block for metadata, from the space kept back for it if need be: a block
    /// pending in the running transaction first (it is no use to data until the commit), else
    /// a free one.
    pub(crate) fn allocate_metadata(&mut self, h: &Handle<'_>, s: &Super) -> Result<u64> {
        if self.metadata_room() == 0 {
            return Err(ENOSPC);
        }
        let start = if self.pending_blocks > 0 {
            let byte = (s.data_start / 8) as usize;
            let i = self.pending[byte..]
                .iter()
                .position(|&b| b != 0)
                .ok_or(EUCLEAN)?;
            let first = self.pending[byte + i].trailing_zeros() as u64;
            ((byte + i) as u64) * 8 + first
        } else {
            self.find_run(s, 1).ok_or(ENOSPC)?.0
        };
        self.mark(h, s, start, 1, true)?;
        Ok(start)
    }

    /// Gives back blocks [`Alloc::allocate_reserved`] returned, which the caller could not
    /// record: they are free again, and reserved again.
    pub(crate) fn unallocate_reserved(
        &mut self,
        h: &Handle<'_>,
        s: &Super,
        start: u64,
        len: u64,
    ) -> Result {
        // Reserved again whatever happens: should the blocks stay in use (see `free`), they
        // are counted twice, which is safe, where not counting them would not be.
        self.reserved += len;
        self.free(h, s, start, len)
    }

    /// Frees `[start, start + len)`: `EUCLEAN` if a block of it is not in use or not a data
    /// block (a corrupt extent), and nothing is freed. Ranges over several pages of the bitmap
    /// are freed a page at a time: if a page cannot be written (see `mark`), the blocks of the
    /// pages before stay free and the rest stays in use (leaked, never handed out twice).
    pub(crate) fn free(&mut self, h: &Handle<'_>, s: &Super, start: u64, len: u64) -> Result {
        if len == 0 {
            return Ok(());
        }
        self.mark(h, s, start, len, false)
    }

    /// Frees metadata block `block` (an extent tree node, a directory or symbolic link block),
    /// taking it out of the running transaction first: file data written to the block once it
    /// is reused bypasses the device's cache, and a copy written home later would overwrite it
    /// (the copies older commits left there dirty are written back before the block is
    /// released: see `journal`).
    pub(crate) fn free_metadata(
        &mut self,
        h: &Handle<'_>,
        s: &Super,
        block: u64,
        len: u64,
    ) -> Result {
        self.free(h, s, block, len)?;
        h.forget(block, len);
        Ok(())
    }

    /// Gives back what extent `e` holds: its reservation if it is a delayed allocation, else
    /// its blocks (`metadata` blocks through [`Alloc::free_metadata`]).
    pub(crate) fn release(
        &mut self,
        h: &Handle<'_>,
        s: &Super,
        e: &Extent,
        metadata: bool,
    ) -> Result {
        let len = e.len as u64;
        if e.is_delalloc() {
            self.unreserve(len);
            Ok(())
        } else if metadata {
            self.free_metadata(h, s, e.disk_block, len)
        } else {
            self.free(h, s, e.disk_block, len)
        }
    }

    /// Takes a free inode number.
    pub(crate) fn allocate_inode(&mut self, s: &Super) -> Result<u32> {
        let ino = (1..=s.inodes)
            .find(|&i| !test(&self.inodes, (i - 1) as u64))
            .ok_or(ENOSPC)?;
        set(&mut self.inodes, (ino - 1) as u64, true);
        self.free_inodes -= 1;
        Ok(ino)
    }

    /// Gives back inode number `ino` (its slot on disk must be cleared by the caller).
    pub(crate) fn free_inode(&mut self, ino: u32) {
        if ino >= 1 && test(&self.inodes, (ino - 1) as u64) {
            set(&mut self.inodes, (ino - 1) as u64, false);
            self.free_inodes += 1;
        }
    }
}
