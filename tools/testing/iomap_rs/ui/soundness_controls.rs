// SPDX-License-Identifier: GPL-2.0
// expect: pass
//
// The controls of the other compile-fail programs here: what they try is
// possible the sound way, so they fail for the reason they claim. Truncating
// beyond EOF with the inode lock held, a device mapping under an unsafe
// contract, a folio handle used within its pass, a locked folio kept on the
// stack of the task that locked it.

use kernel::bindings;
use kernel::folio::LockedFolio;
use kernel::iomap::iter::{iterate, IomapOps, IterFlags};
use kernel::iomap::map::{Iomap, MappingType};
use kernel::iomap::range::FileRange;
use kernel::pagecache::{Inode, InodeLock};
use kernel::prelude::*;

/// Removes what a failed write left beyond EOF.
pub fn truncate_locked(lock: &InodeLock<'_>) {
    lock.truncate_pagecache_beyond_eof(0, 4096);
}

/// A mapping of the filesystem's own device.
///
/// # Safety
///
/// `bdev` is the filesystem's open device and `[addr, addr + 65536)` the file's first 64 KiB.
pub unsafe fn device_mapping(bdev: *mut bindings::block_device, addr: u64) -> Result<Iomap> {
    // SAFETY: The caller's contract is `with_device`'s.
    unsafe { Iomap::with_device(MappingType::Mapped, 0, 65536, 0, bdev, addr) }
}

/// Uses the first folio of each pass within the pass.
pub fn use_folio_in_pass<O: IomapOps>(ops: &mut O, inode: &Inode, range: FileRange) {
    let _ = iterate(ops, inode, range, IterFlags::WRITE, |m| {
        let folio = m.lock_folio(m.range().start(), 4096)?;
        Ok(folio.map_or(0, |f| (f.end() - f.pos()) as u64))
    });
}

/// Keeps a locked folio on this task's stack, then unlocks it.
pub fn keep_locally(folio: LockedFolio) {
    let kept = folio;
    drop(kept.unlock());
}
