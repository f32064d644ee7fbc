// SPDX-License-Identifier: GPL-2.0

//! The orphan list: the inodes that have lost their last link but not yet their blocks.
//!
//! An inode whose last link goes (unlink, rmdir, a rename over it) is deleted by eviction, in
//! a transaction of its own, once its last user closes it: an open file lives on. A crash in
//! between would leave an inode in use that no directory names, and its blocks with it. So the
//! transaction that takes the last link also puts the inode on the orphan list, and the one
//! that deletes it takes it off; the mount after a crash deletes what the list still holds, as
//! ext4's orphan list does. An `O_TMPFILE` inode is on the list from the transaction that
//! makes it, and the `linkat()` that names it takes it off.
//!
//! On disk the list is singly linked: the superblock's `orphan_head` names the first inode and
//! each orphan's `next_orphan` field the one after it (0 ends the list). Insertion is at the
//! head. In memory, [`Orphans`] holds the list in reverse (the head last): removing an inode
//! rewrites the field of the one before it, or the head.
//!
//! Lock order: an inode's extent lock, then the list, then the journal's state (the list is
//! taken inside a handle, and an inode's record is written under it so that the list and the
//! records agree).

use kernel::fs::reclaim::NoFsMutex;
use kernel::fs::sb::NewSuperBlock;
use kernel::prelude::*;

use crate::format::{self, corrupt, Super};
use crate::journal::{Handle, Loaded};
use crate::Xtfs;

/// The orphan list of a mounted filesystem, as on disk but in reverse: the head is last.
///
/// # Invariants
///
/// `len <= slots.len()`; the list is `slots[..len]` (this kernel's `KVec` cannot shrink).
pub(crate) struct Orphans {
    slots: KVec<u32>,
    len: usize,
}

impl Orphans {
    /// Reads the list of the filesystem `s` on `sb` as the replayed transaction `loaded` has
    /// it. Every inode on it must be in use without links, and the list must end.
    pub(crate) fn load(
        sb: &NewSuperBlock<'_, Xtfs>,
        s: &Super,
        loaded: &Loaded,
    ) -> Result<Orphans> {
        let mut head = [0u8; format::SB_BYTES];
        sb.read(0, &mut head)?;
        loaded.patch(s, 0, &mut head);
        if format::le32(&head, format::SB_CRC_OFFSET)
            != format::crc32c(&[&head[..format::SB_CRC_OFFSET]])
        {
            return Err(corrupt!(sb.id(), "superblock checksum mismatch\n"));
        }
        let mut forward = KVec::new();
        let mut ino = format::le32(&head, format::SB_ORPHAN_HEAD);
        let mut record = [0u8; format::INODE_SIZE];
        while ino != 0 {
            if ino > s.inodes || ino == format::ROOT_INO || forward.len() >= s.inodes as usize {
                return Err(corrupt!(
                    sb.id(),
                    "orphan list: inode {} out of range, the root, or a loop\n",
                    ino
                ));
            }
            let pos = crate::inode_pos(s, ino);
            sb.read(pos, &mut record)?;
            loaded.patch(s, pos, &mut record);
            // Checked in full when the inode is read to be deleted.
            if format::le16(&record, 0) == 0 || format::le32(&record, 4) != 0 {
                return Err(corrupt!(
                    sb.id(),
                    "orphan list: inode {} is free or linked\n",
                    ino
                ));
            }
            forward.push(ino, GFP_KERNEL)?;
            ino = format::le32(&record, format::INODE_NEXT_ORPHAN);
        }
        let mut slots = KVec::with_capacity(forward.len() + 16, GFP_KERNEL)?;
        for &ino in forward.iter().rev() {
            slots.push(ino, GFP_KERNEL)?;
        }
        // INVARIANT: all of `slots` is the list.
        Ok(Orphans {
            len: slots.len(),
            slots,
        })
    }

    /// The inodes on the list, the head last.
    pub(crate) fn inodes(&self) -> &[u32] {
        &self.slots[..self.len]
    }

    /// Whether `ino` is on the list.
    pub(crate) fn contains(&self, ino: u32) -> bool {
        self.inodes().contains(&ino)
    }

    /// The `next_orphan` field inode `ino` must have: the inode after it on the list, or 0.
    pub(crate) fn next(&self, ino: u32) -> u32 {
        match self.inodes().iter().position(|&i| i == ino) {
            Some(at) if at > 0 => self.slots[at - 1],
            _ => 0,
        }
    }

    /// Puts inode `ino` at the head of the list in the transaction of `h`. The caller then
    /// stores the inode, whose links are gone, in the same transaction: its record is written
    /// with the field [`Orphans::next`] gives, under this lock, when it is written (a removal
    /// in between rewrites the field, and the store writes it again).
    pub(crate) fn add(&mut self, h: &Handle<'_>, ino: u32) -> Result {
        if self.contains(ino) {
            return Ok(());
        }
        if self.len == self.slots.len() {
            self.slots.push(ino, GFP_KERNEL)?;
        } else {
            self.slots[self.len] = ino;
        }
        // INVARIANT: a slot was pushed if none was left.
        self.len += 1;
        if let Err(e) = write_head(h, ino) {
            self.len -= 1;
            return Err(e);
        }
        Ok(())
    }

    /// Takes inode `ino` off the list in the transaction of `h`, rewriting the head or the
    /// record of the inode before it; nothing if it is not on the list.
    pub(crate) fn remove(&mut self, h: &Handle<'_>, ino: u32) -> Result {
        let Some(at) = self.inodes().iter().position(|&i| i == ino) else {
            return Ok(());
        };
        let next = if at > 0 { self.slots[at - 1] } else { 0 };
        if at + 1 == self.len {
            write_head(h, next)?;
        } else {
            let before = self.slots[at + 1];
            let sb = h.sb();
            let pos = crate::inode_pos(&sb.data().sb, before);
            let mut record = [0u8; format::INODE_SIZE];
            sb.data().journal.read(sb, pos, &mut record)?;
            format::set_next_orphan(&mut record, before, next, format::crc32c);
            h.write(pos, &record)?;
        }
        self.slots.copy_within(at + 1..self.len, at);
        // INVARIANT: `len` was at least `at + 1`.
        self.len -= 1;
        Ok(())
    }
}

/// Writes `ino` as the head of the orphan list into the superblock, in the transaction of `h`.
fn write_head(h: &Handle<'_>, ino: u32) -> Result {
    let sb = h.sb();
    let mut head = [0u8; format::SB_BYTES];
    sb.data().journal.read(sb, 0, &mut head)?;
    format::set_orphan_head(&mut head, ino, format::crc32c);
    h.write(0, &head)
}

/// The list's lock: see the module documentation for its place in the lock order.
pub(crate) type OrphanLock = NoFsMutex<Orphans>;
