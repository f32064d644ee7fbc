// SPDX-License-Identifier: GPL-2.0
// expect: E0521
//
// A superblock's data cannot hold an inode of the superblock. Its drop, at
// unmount or after a failed root, would evict the inode into write_inode and
// evict_inode, which would be given the data being dropped. An INodeRef
// borrows the superblock of the callback that took it, and T::Data, one type
// for every superblock, cannot name that borrow.

use kernel::fs::{
    inode::INodeRef,
    sb::{Either, SuperBlock},
    FileSystem,
};
use kernel::prelude::*;
use kernel::sync::Mutex;

/// Data that keeps the root directory.
pub struct Held<T: FileSystem> {
    /// The root, kept from `root` to the unmount.
    pub root: Mutex<Option<INodeRef<'static, T>>>,
}

/// A root callback that keeps the root in the data.
pub fn root<T: FileSystem<Data = Held<T>>>(sb: &SuperBlock<T>) -> Result {
    if let Either::Left(inode) = sb.get_or_create_inode(1)? {
        *sb.data().root.lock() = Some(inode);
    }
    Ok(())
}
