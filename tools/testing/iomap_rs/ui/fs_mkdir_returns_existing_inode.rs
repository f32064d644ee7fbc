// SPDX-License-Identifier: GPL-2.0
// expect: E0308
//
// mkdir must return a new inode, still locked (I_NEW) until the VFS gives it
// its dentry: an existing inode, such as the parent directory itself, would
// give a directory a second dentry. Only NewINode::init_created makes the
// Created it returns.

use kernel::fs::{
    inode::{Created, INode, INodeRef, LockedDir, NewOwner},
    FileSystem,
};
use kernel::prelude::*;

/// A mkdir that returns its parent directory.
pub fn mkdir<'a, T: FileSystem>(
    dir: &'a LockedDir<'_, T>,
    _name: &[u8],
    _owner: NewOwner<'_>,
) -> Result<Created<'a, T>> {
    let parent: &INode<T> = dir;
    let parent: INodeRef<'_, T> = parent.try_get().ok_or(EIO)?;
    Ok(parent)
}
