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

use crate::format::{self, corrupt, XattrEntries, XattrEntry, XattrHeader};
use crate::journal::Handle;
use crate::{live, store_inode, store_locked, InodeInfo, Xtfs};
use kernel::fs::acl::{self, Acl};
use kernel::fs::inode::INode;
use kernel::fs::reclaim::NoFsScope;
use kernel::fs::sb::SuperBlock;
use kernel::fs::xattr::{List, Name, Namespace, SecurityXattr, SetFlags, Value};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::ARef;

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
    /// Those of inode `ino` read from disk, whose fields [`format::RawInode::decode`] checked:
    /// entries that make sense, ACLs that the kernel accepts ([`format::posix_acl_valid`]) and a
    /// default ACL only on a directory. Else the inode is corrupt and not read, as for any bad
    /// field of it; the entries of the block are read (and an ACL there checked) when used.
    pub(crate) fn from_raw(dev: &CStr, ino: u32, raw: &format::RawInode) -> Result<InInode> {
        let entries = raw.inline_xattrs();
        if format::first_bad_xattr(entries, raw.mode).is_some() {
            return Err(corrupt!(dev, "inode {}: bad extended attributes\n", ino));
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
            format::decode_xattr_block(sb.id(), &buf, block, ino, info.generation).map(|_| ())
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

/// The namespace of the entries of an ACL of type `typ`.
fn acl_index(typ: acl::Type) -> u8 {
    match typ {
        acl::Type::Access => format::XATTR_ACL_ACCESS,
        acl::Type::Default => format::XATTR_ACL_DEFAULT,
    }
}

/// Adds the name of entry `e`, which [`XattrEntries`] checked, to `list`.
fn add_name(list: &mut List<'_>, e: &XattrEntry<'_>) -> Result {
    let namespace = match e.namespace {
        format::XATTR_USER => Namespace::User,
        format::XATTR_TRUSTED => Namespace::Trusted,
        format::XATTR_SECURITY => Namespace::Security,
        format::XATTR_ACL_ACCESS => return list.add_acl(acl::Type::Access),
        format::XATTR_ACL_DEFAULT => return list.add_acl(acl::Type::Default),
        _ => return Err(EUCLEAN),
    };
    list.add(&Name::new(namespace, e.name)?)
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
                format::decode_xattr_block(sb.id(), &buf, block, inode.ino() as u32, generation)?;
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

/// An entry's namespace and name.
#[derive(Clone, Copy)]
struct Key<'a> {
    namespace: u8,
    name: &'a [u8],
}

impl<'a> Key<'a> {
    fn of(name: &Name<'a>) -> Key<'a> {
        Key {
            namespace: index(name.namespace()),
            name: name.suffix(),
        }
    }

    fn acl(typ: acl::Type) -> Key<'static> {
        Key {
            namespace: acl_index(typ),
            name: b"",
        }
    }

    /// Whether entry `e` is this one.
    fn is(self, e: &XattrEntry<'_>) -> bool {
        e.namespace == self.namespace && e.name == self.name
    }
}

/// Calls `f` with the value of `inode`'s entry `key`, if it has one, with `xattr_lock` held.
fn with_entry<R>(
    inode: &INode<Xtfs>,
    key: Key<'_>,
    f: impl FnOnce(Option<&[u8]>) -> Result<R>,
) -> Result<R> {
    let _guard = inode.data().xattr_lock.lock();
    let current = Current::read(inode)?;
    for e in current.entries() {
        let e = e?;
        if key.is(&e) {
            return f(Some(e.value));
        }
    }
    f(None)
}

/// `getxattr(2)`.
pub(crate) fn get(inode: &INode<Xtfs>, name: &Name<'_>, value: &mut Value<'_>) -> Result {
    with_entry(inode, Key::of(name), |v| value.set(v.ok_or(ENODATA)?))
}

/// The ACL of type `typ` of `inode` (`get_inode_acl`): a stored one the kernel does not accept
/// is corruption.
pub(crate) fn get_acl(inode: &INode<Xtfs>, typ: acl::Type) -> Result<Option<ARef<Acl>>> {
    with_entry(inode, Key::acl(typ), |v| {
        v.map(|v| {
            Acl::from_xattr(v).map_err(|e| match e {
                e if e == EINVAL => {
                    corrupt!(inode.super_block().id(), "inode {}: bad ACL\n", inode.ino())
                }
                e => e,
            })
        })
        .transpose()
    })
}

/// Stores the ACL of `change` as `inode`'s, or removes it (`set_acl`), with the mode it gives
/// the inode, in one transaction.
pub(crate) fn set_acl(inode: &INode<Xtfs>, change: &acl::Change<'_>) -> Result {
    let value = change.acl().map(Acl::to_xattr).transpose()?;
    set_entry(
        inode,
        Key::acl(change.typ()),
        value.as_deref(),
        SetFlags::default(),
        &|| change.apply_mode(),
    )
}

/// The blocks the ACLs `acls` of a new inode need besides the inode (0 or 1), as
/// [`create_entries`] places them; for the room a creation checks before it starts.
pub(crate) fn acl_blocks(acls: &acl::Inherited) -> u64 {
    let size = |a: Option<&Acl>| {
        a.map_or(0, |a| {
            format::XATTR_ENTRY_HEADER + format::acl_xattr_size(a.count())
        })
    };
    let (access, default) = (
        size(acls.get(acl::Type::Access)),
        size(acls.get(acl::Type::Default)),
    );
    // Each where it first fits, the inode first.
    let inline = format::INLINE_XATTR_BYTES;
    let in_inode = if access <= inline { access } else { 0 };
    u64::from(access > inline || in_inode + default > inline)
}

/// The entries of a new inode, made by [`create_entries`] in the transaction that creates it:
/// its LSM labels and the ACLs it inherits.
pub(crate) struct NewEntries {
    security: KVec<SecurityXattr>,
    access: Option<KVec<u8>>,
    default: Option<KVec<u8>>,
}

impl NewEntries {
    /// The representations of `acls`, without labels yet.
    pub(crate) fn new(acls: &acl::Inherited) -> Result<NewEntries> {
        Ok(NewEntries {
            security: KVec::new(),
            access: acls.access.as_deref().map(Acl::to_xattr).transpose()?,
            default: acls.default.as_deref().map(Acl::to_xattr).transpose()?,
        })
    }

    /// With the labels `security` ([`kernel::fs::inode::Created::init_security`]).
    pub(crate) fn with_security(self, security: KVec<SecurityXattr>) -> NewEntries {
        NewEntries { security, ..self }
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.security.is_empty() && self.access.is_none() && self.default.is_none()
    }
}

/// The extended attributes of new inode `ino` of generation `generation`: `new`, placed in the
/// inode (the labels first: the LSMs read them whenever the inode is read), and in a block
/// allocated and written in the transaction of `h` if they do not fit (a default ACL of many
/// entries, or labels that are long).
pub(crate) fn create_entries(
    h: &mut Handle<'_>,
    sb: &SuperBlock<Xtfs>,
    ino: u32,
    generation: u32,
    new: &NewEntries,
) -> Result<InInode> {
    let mut in_inode = InInode::default();
    if new.is_empty() {
        return Ok(in_inode);
    }
    let labels = new.security.iter().map(|x| XattrEntry {
        namespace: format::XATTR_SECURITY,
        name: x.name().suffix(),
        value: x.value(),
    });
    let acls = [
        (format::XATTR_ACL_ACCESS, new.access.as_deref()),
        (format::XATTR_ACL_DEFAULT, new.default.as_deref()),
    ];
    let acls = acls.iter().filter_map(|&(namespace, v)| {
        v.map(|value| XattrEntry {
            namespace,
            name: b"",
            value,
        })
    });
    let entries = Iterator::chain(labels, acls);
    let m = sb.data();
    let bs = m.sb.block_size() as usize;
    let mut block = KVec::from_elem(0u8, bs, GFP_KERNEL)?;
    let (bytes, block_bytes) = format::place_xattrs(
        entries,
        &mut in_inode.inline,
        &mut block[format::XATTR_HEADER..],
    )
    .ok_or(ENOSPC)?;
    // INVARIANT: `place_xattrs` packed the valid entries above into `bytes` bytes.
    in_inode.bytes = bytes;
    if block_bytes != 0 {
        // Beyond what the creation counted on: the block and a bitmap block.
        h.extend_by(2)?;
        let disk = {
            let mut alloc = m.alloc.lock();
            alloc.room_for(0, 1)?;
            alloc.allocate_metadata(h, &m.sb)?
        };
        let header = XattrHeader {
            ino,
            generation,
            bytes: block_bytes as u32,
            ..XattrHeader::default()
        };
        header.encode(&mut block, format::crc32c);
        if let Err(e) = h.write(disk * bs as u64, &block) {
            let _ = m.alloc.lock().free_metadata(h, &m.sb, disk, 1);
            return Err(e);
        }
        in_inode.block = disk;
    }
    Ok(in_inode)
}

/// `listxattr(2)`.
pub(crate) fn list(inode: &INode<Xtfs>, list: &mut List<'_>) -> Result {
    let _guard = inode.data().xattr_lock.lock();
    let current = Current::read(inode)?;
    for e in current.entries() {
        add_name(list, &e?)?;
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
    set_entry(inode, Key::of(name), value, flags, &|| ())
}

/// Sets entry `key` of `inode` to `value`, or removes it (`None`), as `flags` allow, and calls
/// `before_store` before the inode is stored with it, once nothing but that store can fail.
fn set_entry(
    inode: &INode<Xtfs>,
    key: Key<'_>,
    value: Option<&[u8]>,
    flags: SetFlags,
    before_store: &dyn Fn(),
) -> Result {
    let sb = inode.super_block();
    live(sb)?;
    let m = sb.data();
    let bs = m.sb.block_size() as usize;
    let room = bs - format::XATTR_HEADER;
    let new = value.map(|value| XattrEntry {
        namespace: key.namespace,
        name: key.name,
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
        if key.is(&e) {
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
            before_store();
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
