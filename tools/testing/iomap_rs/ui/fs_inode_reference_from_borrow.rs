// SPDX-License-Identifier: GPL-2.0
// expect: E0277
//
// Writeback and eviction call a filesystem's write_inode and writeback
// mapper with inodes whose reference count may be zero (the last iput is
// writing the inode before freeing it). A reference taken from such an
// &INode (ihold) would not keep it alive: INode is not AlwaysRefCounted, so
// no ARef can be made from a borrow. INodeRef comes from lookups, clones and
// INode::try_get (igrab, which refuses an inode being freed).

use kernel::fs::{inode::INode, FileSystem};
use kernel::types::ARef;

/// Keeps an inode that write_inode was given.
pub fn keep<T: FileSystem>(inode: &INode<T>) -> ARef<INode<T>> {
    inode.into()
}
