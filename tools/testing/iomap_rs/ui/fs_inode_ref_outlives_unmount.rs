// SPDX-License-Identifier: GPL-2.0
// expect: E0521
//
// An inode reference cannot outlive its superblock. At unmount the VFS frees
// the superblock after reporting the inodes still referenced as busy and
// poisoning them: a reference kept in module-wide state would later be
// dropped (iput) through freed memory. An INodeRef borrows the superblock of
// the callback that took it, and no such borrow is 'static.

use kernel::fs::{inode::INode, inode::INodeRef, FileSystem};
use kernel::sync::Mutex;

/// A lookup callback's body that keeps the directory in module-wide state.
pub fn keep<T: FileSystem>(dir: &INode<T>, global: &'static Mutex<Option<INodeRef<'static, T>>>) {
    *global.lock() = dir.try_get();
}
