// SPDX-License-Identifier: GPL-2.0
// expect: pass
//
// The controls of the kernel::fs compile checks: the same things done the
// sound way compile. A filesystem reads its data through a SuperBlock, the
// superblock and data of an inode it was given, and makes device mappings
// for its own device in safe code. A regular file gets address-space
// operations, a write fault its own folio, truncation both locks. An unlink
// sets the link count of the inode it holds locked; a lookup returns a
// reference that borrows the superblock; a creation asks for its inode's
// LSM labels while its callback runs.

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

/// A regular file's kind, with the iomap address-space operations of a mapper.
pub fn regular_kind<M>() -> kernel::fs::inode::Kind<M::FileSystem>
where
    M: kernel::fs::address_space::Mapper,
{
    kernel::fs::inode::Kind::Reg(kernel::fs::address_space::Ops::iomap::<M>())
}

/// A write fault answered with its own folio.
pub fn page_mkwrite<'f>(
    fault: &'f kernel::pagecache::VmFault,
) -> Result<kernel::pagecache::FaultFolio<'f>> {
    fault.lock_folio()
}

/// Truncation with both locks.
pub fn truncate(inode: &kernel::pagecache::Inode) -> Result {
    let lock = inode.lock_exclusive();
    let invalidate = inode.mapping().invalidate_lock_write();
    lock.set_size_truncate(&invalidate, 0)
}

/// A reference to an inode that is not being freed.
pub fn keep<T: FileSystem>(inode: &INode<T>) -> Option<kernel::fs::inode::INodeRef<'_, T>> {
    inode.try_get()
}

/// An unlink's link count change, with the inode locked.
pub fn unlink<T: FileSystem>(inode: &kernel::fs::inode::Locked<'_, T>) {
    inode.set_nlink(inode.nlink().saturating_sub(1));
}

/// A lookup's result: an inode reference that borrows the directory's superblock.
pub fn lookup<'a, T: FileSystem>(
    dir: &'a INode<T>,
    ino: u64,
) -> Result<Option<kernel::fs::inode::INodeRef<'a, T>>> {
    match dir.super_block().get_or_create_inode(ino)? {
        kernel::fs::sb::Either::Left(inode) => Ok(Some(inode)),
        kernel::fs::sb::Either::Right(_new) => Ok(None),
    }
}

/// A creation's LSM labels, asked for while its callback runs.
pub fn labels<T: FileSystem>(
    inode: &kernel::fs::inode::Created<'_, T>,
    owner: kernel::fs::inode::NewOwner<'_>,
) -> Result<KVec<kernel::fs::xattr::SecurityXattr>> {
    inode.init_security(owner.security)
}
