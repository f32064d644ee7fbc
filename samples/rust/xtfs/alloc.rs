// SPDX-License-Identifier: GPL-2.0

//! Free space and free inodes of an xtfs filesystem.
//!
//! The block bitmap and the map of inodes in use are kept in memory, loaded and checked at
//! mount; every change of the block bitmap is written through to its on-disk copy (in the block
//! device's page cache, written back with the rest of the metadata). The bitmap's pages are
//! held in the cache for the mount ([`kernel::fs::sb::Metadata::hold`]), so that a change
//! needs neither memory nor a read of the device: allocating and freeing fail only for
//! `ENOSPC` or corruption, and their callers can undo what they did before (an allocation
//! whose extent could not be recorded is freed again). A change never crosses a page of the
//! bitmap and is undone in memory if its write to the cache fails, so that it is all or
//! nothing. Delayed allocations are
//! counted here as reservations: a write reserves the blocks it will need, so that writeback,
//! which allocates them, never runs out of space. A few blocks are kept back from data for
//! metadata that is allocated without a reservation (directory blocks, extent blocks).
//!
//! Lock order: an inode's extent lock, then this allocator's lock, then the device's page
//! cache folios.

use crate::format::{Extent, Super};
use crate::Xtfs;
use kernel::fs::sb::{HeldMetadata, SuperBlock};
use kernel::page::PAGE_SIZE;
use kernel::prelude::*;

/// The allocator of one mounted filesystem.
pub(crate) struct Alloc {
    /// One bit per block, as on disk.
    bitmap: KVVec<u8>,
    /// The on-disk bitmap's pages, held in the device's cache.
    held: HeldMetadata,
    /// One bit per inode, set if its slot is in use (inode `n` is bit `n - 1`).
    inodes: KVVec<u8>,
    free_blocks: u64,
    reserved: u64,
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
    /// An allocator for `s`, whose block bitmap is `bitmap` (checked by the caller; its pages
    /// on disk are `held`) and whose inodes in use are those `in_use` says (asked in increasing
    /// order).
    pub(crate) fn new(
        s: &Super,
        bitmap: KVVec<u8>,
        held: HeldMetadata,
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
        Ok(Alloc {
            bitmap,
            held,
            inodes,
            free_blocks: s.blocks - used,
            reserved: 0,
            free_inodes: (s.inodes - used_inodes) as u64,
            cursor: s.data_start,
        })
    }

    /// Blocks kept back from data for metadata allocated without a reservation.
    fn metadata_reserve(s: &Super) -> u64 {
        (s.blocks / 64).clamp(8, 1024)
    }

    /// Free blocks (counting reservations as used), as `statfs` reports them.
    pub(crate) fn available(&self, s: &Super) -> u64 {
        self.free_blocks
            .saturating_sub(self.reserved + Self::metadata_reserve(s))
    }

    pub(crate) fn free_blocks(&self) -> u64 {
        self.free_blocks
    }

    pub(crate) fn reserved(&self) -> u64 {
        self.reserved
    }

    pub(crate) fn free_inodes(&self) -> u64 {
        self.free_inodes
    }

    /// Reserves `n` blocks for delayed allocation: `ENOSPC` if they are not available.
    pub(crate) fn reserve(&mut self, s: &Super, n: u64) -> Result {
        if n > self.available(s) {
            return Err(ENOSPC);
        }
        self.reserved += n;
        Ok(())
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
            if test(&self.bitmap, b) {
                i += 1;
                continue;
            }
            let mut len = 1;
            while len < want
                && b + len < s.blocks
                && !test(&self.bitmap, b + len)
                && !Self::starts_page(s, b + len)
            {
                len += 1;
            }
            return Some((b, len));
        }
        None
    }

    /// Marks `[start, start + len)` in use or free, on disk and in memory, and counts them in
    /// or out of the free blocks: one page of the bitmap at a time, each all or nothing. Every
    /// block must be in the other state (`EUCLEAN` otherwise, and nothing changes): freeing a
    /// free block would count it twice.
    fn mark(&mut self, sb: &SuperBlock<Xtfs>, s: &Super, start: u64, len: u64, on: bool) -> Result {
        let end = start.checked_add(len).ok_or(EUCLEAN)?;
        if start < s.data_start || end > s.blocks {
            return Err(EUCLEAN);
        }
        if let Some(b) = (start..end).find(|&b| test(&self.bitmap, b) == on) {
            pr_err!(
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
            // The whole bitmap blocks the change is in: should the page have been read
            // again, they are then right on disk as well.
            let per_block = s.block_size() as usize;
            let first = (from / 8) as usize / per_block * per_block;
            let last = ((to - 1) / 8) as usize / per_block * per_block + per_block - 1;
            let pos = s.bitmap_start * s.block_size() + first as u64;
            if let Err(e) = sb.write_held(&mut self.held, pos, &self.bitmap[first..=last]) {
                for b in from..to {
                    set(&mut self.bitmap, b, !on);
                }
                return Err(e);
            }
            if on {
                self.free_blocks -= to - from;
            } else {
                self.free_blocks += to - from;
            }
            from = to;
        }
        Ok(())
    }

    /// Allocates up to `want` contiguous blocks out of a reservation: returns the first block
    /// and how many. The reservation of the blocks allocated is used up.
    pub(crate) fn allocate_reserved(
        &mut self,
        sb: &SuperBlock<Xtfs>,
        s: &Super,
        want: u64,
    ) -> Result<(u64, u64)> {
        let want = want.min(u32::MAX as u64).min(self.reserved).max(1);
        let (start, len) = self.find_run(s, want).ok_or(ENOSPC)?;
        self.mark(sb, s, start, len, true)?;
        self.reserved = self.reserved.saturating_sub(len);
        self.cursor = start + len;
        if self.cursor >= s.blocks {
            self.cursor = s.data_start;
        }
        Ok((start, len))
    }

    /// Allocates one block for metadata, from the space kept back for it if need be.
    pub(crate) fn allocate_metadata(&mut self, sb: &SuperBlock<Xtfs>, s: &Super) -> Result<u64> {
        if self.free_blocks <= self.reserved {
            return Err(ENOSPC);
        }
        let (start, _) = self.find_run(s, 1).ok_or(ENOSPC)?;
        self.mark(sb, s, start, 1, true)?;
        Ok(start)
    }

    /// Gives back blocks [`Alloc::allocate_reserved`] returned, which the caller could not
    /// record: they are free again, and reserved again.
    pub(crate) fn unallocate_reserved(
        &mut self,
        sb: &SuperBlock<Xtfs>,
        s: &Super,
        start: u64,
        len: u64,
    ) -> Result {
        // Reserved again whatever happens: should the blocks stay in use (see `free`), they
        // are counted twice, which is safe, where not counting them would not be.
        self.reserved += len;
        self.free(sb, s, start, len)
    }

    /// Frees `[start, start + len)`: `EUCLEAN` if a block of it is not in use or not a data
    /// block (a corrupt extent), and nothing is freed. Ranges over several pages of the bitmap
    /// are freed a page at a time: if a page cannot be written (see `mark`), the blocks of the
    /// pages before stay free and the rest stays in use (leaked, never handed out twice).
    pub(crate) fn free(
        &mut self,
        sb: &SuperBlock<Xtfs>,
        s: &Super,
        start: u64,
        len: u64,
    ) -> Result {
        if len == 0 {
            return Ok(());
        }
        self.mark(sb, s, start, len, false)
    }

    /// Frees metadata block `block` (an extent block, a directory or symbolic link block),
    /// writing its cached copy to the device first: file data written to the block once it is
    /// reused bypasses the cache, and a dirty copy written back later would overwrite it.
    pub(crate) fn free_metadata(
        &mut self,
        sb: &SuperBlock<Xtfs>,
        s: &Super,
        block: u64,
        len: u64,
    ) -> Result {
        sb.write_back(block * s.block_size(), len * s.block_size())?;
        self.free(sb, s, block, len)
    }

    /// Gives back what extent `e` holds: its reservation if it is a delayed allocation, else
    /// its blocks (`metadata` blocks through [`Alloc::free_metadata`]).
    pub(crate) fn release(
        &mut self,
        sb: &SuperBlock<Xtfs>,
        s: &Super,
        e: &Extent,
        metadata: bool,
    ) -> Result {
        let len = e.len as u64;
        if e.is_delalloc() {
            self.unreserve(len);
            Ok(())
        } else if metadata {
            self.free_metadata(sb, s, e.disk_block, len)
        } else {
            self.free(sb, s, e.disk_block, len)
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
