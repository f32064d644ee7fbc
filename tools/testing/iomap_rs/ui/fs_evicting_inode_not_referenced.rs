// SPDX-License-Identifier: GPL-2.0
// expect: E0599
//
// evict_inode gets the inode as an Evicting<T>: the VFS is freeing it and
// its reference count is zero, so taking a new reference (ihold) would
// resurrect a dying inode (a WARN, then a use after free once it is freed).
// Evicting<T> gives the inode's number, data and superblock, and no INode
// to take a reference from.

use kernel::fs::{
    inode::{Evicting, INodeRef},
    FileSystem,
};

/// Keeps the inode being evicted.
pub fn keep<T: FileSystem>(inode: &Evicting<'_, T>) -> Option<INodeRef<'_, T>> {
    inode.try_get()
}
