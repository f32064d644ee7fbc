// SPDX-License-Identifier: GPL-2.0
// expect: E0624
//
// An INode<T> promises that the inode lives in T's container with T's
// per-inode data next to it. Safe code cannot make one out of an arbitrary
// struct inode (another filesystem's, or a freed one): the conversion is
// private to kernel::fs, which uses it only where the VFS hands it an inode
// of the right superblock.

use kernel::bindings;
use kernel::fs::{inode::INode, FileSystem};

/// Treats any inode as one of filesystem `T`.
pub fn forge<T: FileSystem>(raw: *mut bindings::inode) -> &'static INode<T> {
    INode::<T>::from_raw(raw)
}
