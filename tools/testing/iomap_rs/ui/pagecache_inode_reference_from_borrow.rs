// SPDX-License-Identifier: GPL-2.0
// expect: E0277
//
// The same for the page cache's view of an inode (INode::as_inode gives
// one to writeback callbacks too): no reference can be taken from a
// borrowed pagecache::Inode.

use kernel::pagecache::Inode;
use kernel::types::ARef;

/// Keeps the inode of a writeback callback.
pub fn keep(inode: &Inode) -> ARef<Inode> {
    inode.into()
}
