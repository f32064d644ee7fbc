// SPDX-License-Identifier: GPL-2.0
// expect: E0599
//
// Removing folios from the page cache bypasses validation and can drop dirty
// data, so it must not be callable without the inode's i_rwsem held
// exclusively (which keeps the size from moving under the call): it is a
// method of the InodeLock guard, and only removes folios beyond EOF.

use kernel::pagecache::Inode;

/// Drops the first 4 KiB of a file's cache with no lock held.
pub fn truncate_unlocked(inode: &Inode) {
    inode.truncate_pagecache_beyond_eof(0, 4096);
}
