// SPDX-License-Identifier: GPL-2.0

//! Extended attributes (`Documentation/filesystems/xtfs.rst`, "Extended attributes").
//!
//! An inode holds entries in its last [`format::INLINE_XATTR_BYTES`] bytes, and the entries that
//! do not fit there in one block of its own: each entry where it first fits, in the order they
//! were made ([`format::place_xattrs`]). A value is at most what a block's entry area holds
//! with its name, and the entries at most both places: `ENOSPC` beyond either, as on ext4.
//!
//! A change rewrites both places and stores the inode in one transaction: the block (allocated
//! on the first entry that needs it, rewritten in place, freed once nothing needs it), then the
//! inode. The inode's `xattr_lock` serialises readers against writers, which alone keeps a
//! reader from seeing the inode's entries of one version and the block's of another; writers
//! also hold `i_rwsem` (the system calls' ones) and the freeze protection of an internal
//! change. Lock order: `i_rwsem`, the freeze protection, `xattr_lock`, the journal handle, the
//! extent lock (`info`).

use crate::format::{self, XattrEntries, XattrEntry, XattrHeader};
use crate::{live, store_inode, store_locked, InodeInfo, Xtfs};
use kernel::fs::inode::INode;
use kernel::fs::reclaim::NoFsScope;
use kernel::fs::sb::SuperBlock;
use kernel::fs::xattr::{List, Name, Namespace, SetFlags, Value};
use kernel::prelude::*;

/// The extended attributes an inode holds in memory: the entries stored in it and the block of
/// the others, as last stored.
///
/// # Invariants
///
/// `bytes` bytes of `inline` are valid entries ([`format::XattrEntries`]).
#[derive(Clone)]
pub(crate) struct InInode {
    inline: [u8; format::INLINE_XATTR_BYTES],
    bytes: usize,
    block: u64,
}

impl Default for InInode {
    fn default() -> InInode {
        InInode {
            inline: [0; format::INLINE_XATTR_BYTES],
            bytes: 0,
            block: 0,
        }
    }
}

impl InInode {
    /// Those of an inode read from disk, whose fields [`format::RawInode::decode`] checked.
    pub(crate) fn from_raw(raw: &format::RawInode) -> Result<InInode> {
        let entries = raw.inline_xattrs();
        if XattrEntries::new(entries).any(|e| e.is_err()) {
            return Err(EUCLEAN);
        }
        let mut inline = [0; format::INLINE_XATTR_BYTES];
        inline[..entries.len()].copy_from_slice(entries);
        // INVARIANT: Checked above.
        Ok(InInode {
            inline,
            bytes: entries.len(),
            block: raw.xattr_block,
        })
    }

    /// Puts them in the inode record `raw`.
    pub(crate) fn put(&self, raw: &mut format::RawInode) {
        raw.xattrs = self.inline;
        raw.xattr_bytes = self.bytes as u16;
        raw.xattr_block = self.block;
    }

    /// The entries stored in the inode.
    fn entries(&self) -> &[u8] {
        &self.inline[..self.bytes]
    }
}

/// The block of the extended attributes of inode `ino` being deleted (`info`), taken from it,
/// if it is really the inode's: read and checked ([`format::decode_xattr_block`]). A block that
/// is not (a corrupt inode's pointer, which may name another's block) is logged and left
/// allocated, for fsck.
pub(crate) fn own_block(sb: &SuperBlock<Xtfs>, ino: u32, info: &mut InodeInfo) -> Option<u64> {
    let block = core::mem::take(&mut info.xattrs.block);
    if block == 0 {
        return None;
    }
    let bs = sb.data().sb.block_size();
    let checked = KVec::from_elem(0u8, bs as usize, GFP_KERNEL)
        .map_err(Error::from)
        .and_then(|mut buf| {
            sb.data().journal.read(sb, block * bs, &mut buf)?;
            format::decode_xattr_block(&buf, block, ino, info.generation).map(|_| ())
        });
    match checked {
        Ok(()) => Some(block),
        Err(_) => {
            sb_log!(
                pr_err,
                sb,
                "inode {}: extended attribute block {} not freed\n",
                ino,
                block
            );
            None
        }
    }
}

/// The namespace of entries of `namespace`.
fn index(namespace: Namespace) -> u8 {
    match namespace {
        Namespace::User => format::XATTR_USER,
        Namespace::Trusted => format::XATTR_TRUSTED,
        Namespace::Security => format::XATTR_SECURITY,
    }
}

/// The namespace of the entries of `index`, which [`XattrEntries`] checked.
fn namespace(index: u8) -> Result<Namespace> {
    match index {
        format::XATTR_USER => Ok(Namespace::User),
        format::XATTR_TRUSTED => Ok(Namespace::Trusted),
        format::XATTR_SECURITY => Ok(Namespace::Security),
        _ => Err(EUCLEAN),
    }
}

/// The inode's extended attributes, with `xattr_lock` held: the entries in the inode, and the
/// block of the others as read and checked (`None` if there is none).
struct Current {
    in_inode: InInode,
    block: Option<KVec<u8>>,
    generation: u32,
}

impl Current {
    fn read(inode: &INode<Xtfs>) -> Result<Current> {
        let (in_inode, generation) = {
            let info = inode.data().info.lock();
            (info.xattrs.clone(), info.generation)
        };
        let block = match in_inode.block {
            0 => None,
            block => {
                let sb = inode.super_block();
                let bs = sb.data().sb.block_size();
                let mut buf = KVec::from_elem(0u8, bs as usize, GFP_KERNEL)?;
                sb.data().journal.read(sb, block * bs, &mut buf)?;
                format::decode_xattr_block(&buf, block, inode.ino() as u32, generation)?;
                Some(buf)
            }
        };
        Ok(Current {
            in_inode,
            block,
            generation,
        })
    }

    /// Every entry, the inode's first.
    fn entries(&self) -> impl Iterator<Item = Result<XattrEntry<'_>>> {
        let block = self.block.as_deref().map_or(&[][..], |b| {
            let bytes = XattrHeader::decode(b).bytes as usize;
            // Checked by `decode_xattr_block`.
            &b[format::XATTR_HEADER..format::XATTR_HEADER + bytes]
        });
        Iterator::chain(
            XattrEntries::new(self.in_inode.entries()),
            XattrEntries::new(block),
        )
        .map(|e| e.map_err(|_| EUCLEAN))
    }
}

/// Whether entry `e` is the attribute `name`.
fn is(e: &XattrEntry<'_>, name: &Name<'_>) -> bool {
    e.namespace == index(name.namespace()) && e.name == name.suffix()
}

/// `getxattr(2)`.
pub(crate) fn get(inode: &INode<Xtfs>, name: &Name<'_>, value: &mut Value<'_>) -> Result {
    let _guard = inode.data().xattr_lock.lock();
    let current = Current::read(inode)?;
    for e in current.entries() {
        let e = e?;
        if is(&e, name) {
            return value.set(e.value);
        }
    }
    Err(ENODATA)
}

/// `listxattr(2)`.
pub(crate) fn list(inode: &INode<Xtfs>, list: &mut List<'_>) -> Result {
    let _guard = inode.data().xattr_lock.lock();
    let current = Current::read(inode)?;
    for e in current.entries() {
        let e = e?;
        list.add(&Name::new(namespace(e.namespace)?, e.name)?)?;
    }
    Ok(())
}

/// `setxattr(2)` and `removexattr(2)` (`value` `None`).
pub(crate) fn set(
    inode: &INode<Xtfs>,
    name: &Name<'_>,
    value: Option<&[u8]>,
    flags: SetFlags,
) -> Result {
    let sb = inode.super_block();
    live(sb)?;
    let m = sb.data();
    let bs = m.sb.block_size() as usize;
    let room = bs - format::XATTR_HEADER;
    let new = value.map(|value| XattrEntry {
        namespace: index(name.namespace()),
        name: name.suffix(),
        value,
    });
    // One that no block could hold (a block holds more than the inode), as ext4 reports it.
    if new.is_some_and(|e| e.size() > room || !e.valid()) {
        return Err(ENOSPC);
    }
    // Not every caller holds the mount's write access (IMA's, at the last close). Allocations
    // under it must not enter filesystem reclaim, whose evictions start internal changes too
    // (and would wait for a thaw that waits for this one).
    let _change = sb.start_intwrite();
    let _nofs = NoFsScope::enter();
    let _guard = inode.data().xattr_lock.lock();
    // The extents stored first, on their own: what can fail there (the tree's blocks, the
    // journal's room) fails before this transaction changes anything, and the store in it
    // rewrites the inode's record only (unless a writeback came between).
    store_inode(inode)?;
    let current = Current::read(inode)?;
    // The entries as they will be: the old one replaced in place, a new one last.
    let mut entries = KVec::new();
    let mut exists = false;
    for e in current.entries() {
        let e = e?;
        if is(&e, name) {
            // (A second entry of the name, which only a corrupt disk has, goes.)
            if let Some(new) = new.filter(|_| !exists) {
                entries.push(new, GFP_KERNEL)?;
            }
            exists = true;
        } else {
            entries.push(e, GFP_KERNEL)?;
        }
    }
    flags.check(exists)?;
    if let (false, Some(new)) = (exists, new) {
        entries.push(new, GFP_KERNEL)?;
    }
    let mut inline = [0u8; format::INLINE_XATTR_BYTES];
    let mut block = KVec::from_elem(0u8, bs, GFP_KERNEL)?;
    let (bytes, block_bytes) = format::place_xattrs(
        entries.iter().copied(),
        &mut inline,
        &mut block[format::XATTR_HEADER..],
    )
    .ok_or(ENOSPC)?;
    drop(entries);
    let ino = inode.ino() as u32;
    let old_block = current.in_inode.block;
    let mut h = m.journal.start(sb)?;
    let result = (|| {
        // The block, the inode's, and the bitmap blocks of an allocation and a freeing: within
        // the credits every handle starts with.
        h.extend(4)?;
        let new_block = match (block_bytes, old_block) {
            (0, _) => 0,
            (_, 0) => {
                let mut alloc = m.alloc.lock();
                alloc.room_for(0, 1)?;
                alloc.allocate_metadata(&h, &m.sb)?
            }
            (_, old) => old,
        };
        if new_block != 0 {
            let header = XattrHeader {
                ino,
                generation: current.generation,
                bytes: block_bytes as u32,
                ..XattrHeader::default()
            };
            header.encode(&mut block, format::crc32c);
            h.write(new_block * bs as u64, &block)?;
        }
        {
            let mut info = inode.data().info.lock();
            let old = info.xattrs.clone();
            // INVARIANT: `place_xattrs` packed valid entries ([`XattrEntry::valid`], checked
            // when they were read or made) into `bytes` bytes.
            info.xattrs = InInode {
                inline,
                bytes,
                block: new_block,
            };
            inode.touch_ctime();
            if let Err(e) = store_locked(&mut h, inode, &mut info) {
                info.xattrs = old;
                return Err(e);
            }
        }
        if old_block != 0 && new_block == 0 {
            m.alloc.lock().free_metadata(&h, &m.sb, old_block, 1)?;
        }
        Ok(())
    })();
    h.finish(result)
}
