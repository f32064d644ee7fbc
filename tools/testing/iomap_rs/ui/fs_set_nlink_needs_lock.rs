// SPDX-License-Identifier: GPL-2.0
// expect: E0599
//
// set_nlink() reads the link count and updates the superblock's count of
// inodes to remove: its callers serialise on the inode's i_rwsem, which the
// VFS holds for link, unlink, rmdir and rename. A bare INode, which any
// callback has, cannot set it; inode::Locked (an inode with its lock held)
// and a Created inode (which nobody else can reach) can.

use kernel::fs::{inode::INode, FileSystem};

/// Deletes a file from a read callback, without its lock.
pub fn unlink_unlocked<T: FileSystem>(inode: &INode<T>) {
    inode.set_nlink(0);
}
