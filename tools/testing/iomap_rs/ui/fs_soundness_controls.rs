// SPDX-License-Identifier: GPL-2.0
// expect: pass
//
// The controls of the kernel::fs compile checks: the same things done the
// sound way compile. A filesystem reads its data through a SuperBlock, the
// superblock and data of an inode it was given, and makes device mappings
// for its own device in safe code.

use kernel::fs::{
    inode::{Evicting, INode},
    sb::SuperBlock,
    FileSystem,
};
use kernel::iomap::map::{Iomap, MappingType};
use kernel::prelude::*;

/// The data of a superblock whose fill_super has returned.
pub fn data<T: FileSystem>(sb: &SuperBlock<T>) -> &T::Data {
    sb.data()
}

/// A mapping of the first block of a file to the block at byte 1 MiB of its device.
pub fn first_block<T: FileSystem>(inode: &INode<T>) -> Result<Iomap> {
    let sb = inode.super_block();
    sb.device_iomap(MappingType::Mapped, 0, sb.block_size().into(), 0, 1 << 20)
}

/// The data of an inode being evicted, which evict_inode may use.
pub fn evicting_data<'a, T: FileSystem>(inode: &'a Evicting<'_, T>) -> &'a T::INodeData {
    inode.data()
}
