// SPDX-License-Identifier: GPL-2.0

//! xtfs directories: lookup, listing, and the operations that create, link, rename and remove
//! names.
//!
//! A directory is an array of 256-byte entries in whole blocks (`Documentation/filesystems/
//! xtfs.rst`), read and written as metadata through the journal: an entry is added in the first
//! free slot, and the directory grows by one block when there is none. Directories never
//! shrink. The VFS holds the directory's `i_rwsem` exclusively for every change
//! ([`LockedDir`]), which serialises them; the extent lock is taken only to translate a
//! directory block to its device block, or to add one.
//!
//! Each operation makes its changes in one journal handle: the entries, and the inodes whose
//! link counts, sizes, parents and times it changes, stored before the handle ends. After a
//! crash the disk has all of an operation or none of it: a rename never leaves two names.
//!
//! Link counts: one per name for files and symbolic links; two plus one per subdirectory for
//! directories (the name in the parent, "." and each subdirectory's "..").

use crate::extents::{ExtentSet, Lookup};
use crate::format::{self, corrupt, Extent};
use crate::journal::Handle;
use crate::{create_inode, live, read_inode, store, NewInode, Xtfs};
use kernel::fs::{
    self, dir,
    file::File,
    inode::{self, INode, INodeRef, LockedDir, NewOwner},
};
use kernel::prelude::*;

/// The directory entry type of `inode`.
fn entry_type(inode: &INode<Xtfs>) -> u8 {
    // Every inode xtfs has is of one of its types (checked when it was read or made).
    format::entry_type(inode.mode()).unwrap_or(format::DT_REG)
}

/// Calls `f(slot, entry)` for each entry of directory `dir` from slot `start` on, until `f`
/// returns false.
pub(crate) fn for_each_entry(
    dir: &INode<Xtfs>,
    start: u64,
    mut f: impl FnMut(u64, format::Dirent<'_>) -> bool,
) -> Result {
    let sb = dir.super_block();
    let s = &sb.data().sb;
    let bs = s.block_size();
    let per_block = bs / format::DIRENT_SIZE as u64;
    let ino = dir.ino() as u32;
    let blocks = dir.as_inode().size() as u64 / bs;
    let mut buf = KVec::from_elem(0u8, bs as usize, GFP_KERNEL)?;
    let mut slot = start;
    while slot / per_block < blocks {
        let index = slot / per_block;
        sb.data()
            .journal
            .read(sb, dir_block(dir, index)? * bs, &mut buf)?;
        for i in slot % per_block..per_block {
            let at = (i as usize) * format::DIRENT_SIZE;
            if let Some(d) = format::decode_dirent(sb.id(), &buf[at..], ino, s.inodes)? {
                if !f(index * per_block + i, d) {
                    return Ok(());
                }
            }
        }
        slot = (index + 1) * per_block;
    }
    Ok(())
}

/// The device block of block `index` of directory `dir`.
fn dir_block(dir: &INode<Xtfs>, index: u64) -> Result<u64> {
    match dir.data().info.lock().extents.lookup(index) {
        Lookup::Extent(e) => Ok(e.disk_block + (index - e.file_block)),
        Lookup::Hole { .. } => Err(corrupt!(
            dir.super_block().id(),
            "directory {}: hole at block {}\n",
            dir.ino(),
            index
        )),
    }
}

/// The byte offset on the device of slot `slot` of directory `dir`.
fn slot_pos(dir: &INode<Xtfs>, slot: u64) -> Result<u64> {
    let bs = dir.super_block().block_size() as u64;
    let per_block = bs / format::DIRENT_SIZE as u64;
    Ok(dir_block(dir, slot / per_block)? * bs + (slot % per_block) * format::DIRENT_SIZE as u64)
}

/// The slot and inode number of `name` in `dir`, if it is there.
fn find(dir: &INode<Xtfs>, name: &[u8]) -> Result<Option<(u64, u32)>> {
    if name.len() > format::NAME_MAX {
        return Err(ENAMETOOLONG);
    }
    let mut found = None;
    for_each_entry(dir, 0, |slot, d| {
        if d.name == name {
            found = Some((slot, d.ino));
            return false;
        }
        true
    })?;
    Ok(found)
}

/// Writes entry `name` for `ino` into slot `slot` of `dir`.
fn write_slot(
    h: &Handle<'_>,
    dir: &INode<Xtfs>,
    slot: u64,
    ino: u32,
    file_type: u8,
    name: &[u8],
) -> Result {
    let mut b = [0u8; format::DIRENT_SIZE];
    format::encode_dirent(&mut b, ino, file_type, name);
    h.write(slot_pos(dir, slot)?, &b)
}

/// Empties slot `slot` of `dir`.
fn clear_slot(h: &Handle<'_>, dir: &INode<Xtfs>, slot: u64) -> Result {
    h.write(slot_pos(dir, slot)?, &[0u8; format::DIRENT_SIZE])
}

/// Adds entry `name` for `inode` to `dir`, growing it by a block if it is full, and stores
/// `dir`. The caller checked that `name` is not there.
fn add_entry(
    h: &mut Handle<'_>,
    dir: &LockedDir<'_, Xtfs>,
    name: &[u8],
    inode: &INode<Xtfs>,
) -> Result {
    if name.is_empty() || name.len() > format::NAME_MAX {
        return Err(ENAMETOOLONG);
    }
    let mut free = None;
    // The first free slot: entries are listed in slot order, so the first gap.
    let mut next = 0;
    for_each_entry(dir, 0, |slot, _| {
        if slot != next {
            free = Some(next);
            return false;
        }
        next += 1;
        true
    })?;
    let sb = dir.super_block();
    let m = sb.data();
    let bs = m.sb.block_size();
    let slots = dir.as_inode().size() as u64 / bs * (bs / format::DIRENT_SIZE as u64);
    let slot = match free {
        Some(slot) => slot,
        None if next < slots => next,
        None => {
            // Full: one more block, zeroed (empty slots), then the entry in its first slot.
            let blocks = dir.as_inode().size() as u64 / bs;
            // Memory first: once allocated, the block is either linked or freed.
            let zero = KVec::from_elem(0u8, bs as usize, GFP_KERNEL)?;
            let disk = m.alloc.lock().allocate_metadata(h, &m.sb)?;
            let added = h.write(disk * bs, &zero).and_then(|()| {
                dir.data().info.lock().extents.insert(Extent {
                    file_block: blocks,
                    disk_block: disk,
                    len: 1,
                    flags: 0,
                })
            });
            if let Err(e) = added {
                // Best effort: the block was never linked.
                let _ = m.alloc.lock().free_metadata(h, &m.sb, disk, 1);
                return Err(e);
            }
            dir.lock().write_size(((blocks + 1) * bs) as i64)?;
            slots
        }
    };
    write_slot(h, dir, slot, inode.ino() as u32, entry_type(inode), name)?;
    dir.touch_mtime_ctime();
    store(h, dir)
}

/// Whether directory `dir` has no entries.
fn is_empty(dir: &INode<Xtfs>) -> Result<bool> {
    let mut empty = true;
    for_each_entry(dir, 0, |_, _| {
        empty = false;
        false
    })?;
    Ok(empty)
}

/// `inode`'s link count less `n`, checked before anything changes: an inode reached through
/// names has that many (`EUCLEAN` otherwise: the count on disk was wrong).
fn links_less(inode: &INode<Xtfs>, n: u32) -> Result<u32> {
    inode.nlink().checked_sub(n).ok_or_else(|| {
        corrupt!(
            inode.super_block().id(),
            "inode {}: link count {} is below the {} links removed\n",
            inode.ino(),
            inode.nlink(),
            n
        )
    })
}

/// Directory `dir`'s link count less one, for a subdirectory that goes: it keeps its own two
/// ("." and its name), `EUCLEAN` otherwise. A directory whose count reached zero with its name
/// still there would be deleted at eviction.
fn dir_links_less(dir: &INode<Xtfs>) -> Result<u32> {
    match links_less(dir, 1)? {
        links if links >= 2 => Ok(links),
        _ => Err(corrupt!(
            dir.super_block().id(),
            "directory {}: link count {} too low\n",
            dir.ino(),
            dir.nlink()
        )),
    }
}

/// `inode`'s link count plus `n`, at most `LINK_MAX` (`EMLINK`; the VFS checks it first).
fn links_more(inode: &INode<Xtfs>, n: u32) -> Result<u32> {
    inode
        .nlink()
        .checked_add(n)
        .filter(|&links| links <= format::LINK_MAX)
        .ok_or(EMLINK)
}

/// Sets `inode`'s link count, marks its change and stores it.
fn set_links(h: &mut Handle<'_>, inode: &inode::Locked<'_, Xtfs>, links: u32) -> Result {
    let sb = inode.super_block();
    if links == 0 {
        // Eviction deletes it, in a later transaction: until then it is an orphan.
        sb.data().orphans.lock().add(h, inode.ino() as u32)?;
    } else if inode.nlink() == 0 {
        // An `O_TMPFILE` inode getting its first name: no longer an orphan.
        sb.data().orphans.lock().remove(h, inode.ino() as u32)?;
    }
    inode.set_nlink(links);
    inode.touch_ctime();
    store(h, inode)
}

/// Links a just created `inode` into `dir` as `name`; on failure the inode is deleted again
/// (no links: freed when the caller drops it).
fn link_new<'a>(
    h: &mut Handle<'_>,
    dir: &LockedDir<'_, Xtfs>,
    name: &[u8],
    inode: inode::Created<'a, Xtfs>,
) -> Result<inode::Created<'a, Xtfs>> {
    match add_entry(h, dir, name, &inode) {
        Ok(()) => Ok(inode),
        Err(e) => {
            inode.set_nlink(0);
            Err(e)
        }
    }
}

/// Inode operations of directories.
pub(crate) struct DirOps;

#[vtable]
impl inode::Operations for DirOps {
    type FileSystem = Xtfs;

    fn setattr(
        inode: &INode<Xtfs>,
        _lock: &kernel::pagecache::InodeLock<'_>,
        change: &inode::AttrChange,
    ) -> Result {
        live(inode.super_block())?;
        crate::file::check_no_size_change(inode, change)
    }

    fn getattr(inode: &INode<Xtfs>, stat: &mut inode::Stat) -> Result {
        crate::stat_blocks(inode, stat)
    }

    fn get_flags(inode: &INode<Xtfs>) -> Result<inode::Flags> {
        crate::get_flags(inode)
    }

    fn set_flags(inode: &inode::Locked<'_, Xtfs>, flags: inode::Flags) -> Result {
        crate::set_flags(inode, flags)
    }

    fn get_acl(
        inode: &INode<Xtfs>,
        typ: kernel::fs::acl::Type,
    ) -> Result<Option<kernel::types::ARef<kernel::fs::acl::Acl>>> {
        crate::xattr::get_acl(inode, typ)
    }

    fn set_acl(inode: &INode<Xtfs>, change: &kernel::fs::acl::Change<'_>) -> Result {
        crate::xattr::set_acl(inode, change)
    }

    fn lookup<'a>(dir: &'a INode<Xtfs>, name: &[u8]) -> Result<Option<INodeRef<'a, Xtfs>>> {
        find(dir, name)?
            .map(|(_, ino)| read_inode(dir.super_block(), ino))
            .transpose()
    }

    fn create<'a>(
        dir: &'a LockedDir<'_, Xtfs>,
        name: &[u8],
        owner: NewOwner<'_>,
    ) -> Result<inode::Created<'a, Xtfs>> {
        let sb = dir.super_block();
        live(sb)?;
        if name.len() > format::NAME_MAX {
            return Err(ENAMETOOLONG);
        }
        // An inode, a directory block and a node of its extent tree, and the block of its ACLs
        // if they do not fit in the inode.
        sb.data()
            .alloc
            .lock()
            .room_for(1, 2 + crate::xattr::acl_blocks(&owner.acls))?;
        let mut h = sb.data().journal.start(sb)?;
        let made = create_inode(&mut h, sb, dir, NewInode::new(inode::Type::Reg, owner))
            .and_then(|inode| link_new(&mut h, dir, name, inode));
        h.finish(made)
    }

    fn mkdir<'a>(
        dir: &'a LockedDir<'_, Xtfs>,
        name: &[u8],
        owner: NewOwner<'_>,
    ) -> Result<inode::Created<'a, Xtfs>> {
        let sb = dir.super_block();
        live(sb)?;
        if name.len() > format::NAME_MAX {
            return Err(ENAMETOOLONG);
        }
        let parent = dir.ino() as u32;
        // The new directory's "..".
        let dir_links = links_more(dir, 1)?;
        // With the block of its ACLs if they do not fit in the inode.
        sb.data()
            .alloc
            .lock()
            .room_for(1, 2 + crate::xattr::acl_blocks(&owner.acls))?;
        let mut h = sb.data().journal.start(sb)?;
        let made = (|| {
            let inode = create_inode(
                &mut h,
                sb,
                dir,
                NewInode {
                    parent,
                    ..NewInode::new(inode::Type::Dir, owner)
                },
            )?;
            let inode = link_new(&mut h, dir, name, inode)?;
            dir.set_nlink(dir_links);
            store(&mut h, dir)?;
            Ok(inode)
        })();
        h.finish(made)
    }

    fn symlink<'a>(
        dir: &'a LockedDir<'_, Xtfs>,
        name: &[u8],
        target: &[u8],
        owner: NewOwner<'_>,
    ) -> Result<inode::Created<'a, Xtfs>> {
        let sb = dir.super_block();
        live(sb)?;
        let m = sb.data();
        let bs = m.sb.block_size();
        if name.len() > format::NAME_MAX || target.len() as u64 >= bs {
            return Err(ENAMETOOLONG);
        }
        // Memory first: once allocated, the block is either the link's or freed.
        let mut block = KVec::from_elem(0u8, bs as usize, GFP_KERNEL)?;
        block[..target.len()].copy_from_slice(target);
        // The link's block too.
        m.alloc.lock().room_for(1, 3)?;
        let mut h = m.journal.start(sb)?;
        let disk = m.alloc.lock().allocate_metadata(&h, &m.sb)?;
        let made = h.write(disk * bs, &block).and_then(|()| {
            let extents = ExtentSet::from_sorted(&[Extent {
                file_block: 0,
                disk_block: disk,
                len: 1,
                flags: 0,
            }])?;
            let size = target.len() as u64;
            create_inode(
                &mut h,
                sb,
                dir,
                NewInode {
                    size,
                    extents,
                    ..NewInode::new(inode::Type::Lnk, owner)
                },
            )
        });
        let made = match made {
            Ok(inode) => link_new(&mut h, dir, name, inode),
            Err(e) => {
                let _ = m.alloc.lock().free_metadata(&h, &m.sb, disk, 1);
                Err(e)
            }
        };
        h.finish(made)
    }

    fn tmpfile<'a>(
        dir: &'a INode<Xtfs>,
        file: &mut inode::TmpFile<'a, Xtfs>,
        owner: NewOwner<'_>,
    ) -> Result {
        let sb = dir.super_block();
        live(sb)?;
        // An inode (and the block of its ACLs if they do not fit in it); no directory entry.
        sb.data()
            .alloc
            .lock()
            .room_for(1, crate::xattr::acl_blocks(&owner.acls))?;
        let mut h = sb.data().journal.start(sb)?;
        let made = (|| {
            let inode = create_inode(&mut h, sb, dir, NewInode::new(inode::Type::Reg, owner))?;
            // Without links from here on: on the orphan list in the transaction that made it,
            // so that after a crash the mount deletes it (unless `linkat()` named it).
            let inode = file.instantiate(inode)?;
            sb.data().orphans.lock().add(&h, inode.ino() as u32)?;
            store(&mut h, inode)
        })();
        h.finish(made)
    }

    fn mknod<'a>(
        dir: &'a LockedDir<'_, Xtfs>,
        name: &[u8],
        special: inode::Special,
        owner: NewOwner<'_>,
    ) -> Result<inode::Created<'a, Xtfs>> {
        let sb = dir.super_block();
        live(sb)?;
        if name.len() > format::NAME_MAX {
            return Err(ENAMETOOLONG);
        }
        // An inode and a directory block with a node of its extent tree, and the block of its
        // ACLs if they do not fit in the inode: no data.
        sb.data()
            .alloc
            .lock()
            .room_for(1, 2 + crate::xattr::acl_blocks(&owner.acls))?;
        let rdev = special.dev().map_or(0, |d| d.encode());
        let mut h = sb.data().journal.start(sb)?;
        let typ = special.typ();
        let made = create_inode(
            &mut h,
            sb,
            dir,
            NewInode {
                rdev,
                ..NewInode::new(typ, owner)
            },
        )
        .and_then(|inode| link_new(&mut h, dir, name, inode));
        h.finish(made)
    }

    fn link(inode: &inode::Locked<'_, Xtfs>, dir: &LockedDir<'_, Xtfs>, name: &[u8]) -> Result {
        let sb = dir.super_block();
        live(sb)?;
        let links = links_more(inode, 1)?;
        sb.data().alloc.lock().room_for(0, 2)?;
        let mut h = sb.data().journal.start(sb)?;
        let done =
            add_entry(&mut h, dir, name, inode).and_then(|()| set_links(&mut h, inode, links));
        h.finish(done)
    }

    fn unlink(dir: &LockedDir<'_, Xtfs>, name: &[u8], inode: &inode::Locked<'_, Xtfs>) -> Result {
        live(dir.super_block())?;
        let (slot, ino) = find(dir, name)?.ok_or(ENOENT)?;
        if ino as u64 != inode.ino() {
            return Err(ENOENT);
        }
        let links = links_less(inode, 1)?;
        let sb = dir.super_block();
        let mut h = sb.data().journal.start(sb)?;
        let done = clear_slot(&h, dir, slot).and_then(|()| {
            dir.touch_mtime_ctime();
            store(&mut h, dir)?;
            set_links(&mut h, inode, links)
        });
        h.finish(done)
    }

    fn rmdir(dir: &LockedDir<'_, Xtfs>, name: &[u8], inode: &inode::Locked<'_, Xtfs>) -> Result {
        live(dir.super_block())?;
        if !is_empty(inode)? {
            return Err(ENOTEMPTY);
        }
        let (slot, ino) = find(dir, name)?.ok_or(ENOENT)?;
        if ino as u64 != inode.ino() {
            return Err(ENOENT);
        }
        // The removed directory's "..".
        let dir_links = dir_links_less(dir)?;
        let sb = dir.super_block();
        let mut h = sb.data().journal.start(sb)?;
        let done = clear_slot(&h, dir, slot).and_then(|()| {
            set_links(&mut h, inode, 0)?;
            dir.set_nlink(dir_links);
            dir.touch_mtime_ctime();
            store(&mut h, dir)
        });
        h.finish(done)
    }

    fn rename(
        old_dir: &LockedDir<'_, Xtfs>,
        old_name: &[u8],
        inode: &INode<Xtfs>,
        new_dir: &LockedDir<'_, Xtfs>,
        new_name: &[u8],
        target: Option<&inode::Locked<'_, Xtfs>>,
        whiteout: Option<NewOwner<'_>>,
    ) -> Result {
        live(old_dir.super_block())?;
        if new_name.len() > format::NAME_MAX {
            return Err(ENAMETOOLONG);
        }
        let is_dir = inode.mode() & format::S_IFMT == format::S_IFDIR;
        let (old_slot, ino) = find(old_dir, old_name)?.ok_or(ENOENT)?;
        if ino as u64 != inode.ino() {
            return Err(ENOENT);
        }
        let target_is_dir = target.is_some_and(|t| t.mode() & format::S_IFMT == format::S_IFDIR);
        let cross = is_dir && old_dir.ino() != new_dir.ino();
        // The link counts, checked before anything changes: a replaced directory's ".."
        // leaves `new_dir`, a moved directory's goes from `old_dir` to `new_dir`.
        let target_links = match target {
            Some(t) if !target_is_dir => links_less(t, 1)?,
            _ => 0,
        };
        let new_dir_links = match (target_is_dir, cross) {
            (true, false) => dir_links_less(new_dir)?,
            (false, true) => links_more(new_dir, 1)?,
            _ => new_dir.nlink(),
        };
        let old_dir_links = if cross {
            dir_links_less(old_dir)?
        } else {
            old_dir.nlink()
        };
        let sb = old_dir.super_block();
        // A new entry may need a directory block and a node of its tree, a whiteout an inode.
        let new_blocks = if target.is_none() { 2 } else { 0 };
        let whiteouts = u64::from(whiteout.is_some());
        if new_blocks > 0 || whiteouts > 0 {
            sb.data().alloc.lock().room_for(whiteouts, new_blocks)?;
        }
        let mut h = sb.data().journal.start(sb)?;
        // The checks first: nothing is written until they pass.
        let replaced = (|| {
            let Some(target) = target else {
                return Ok(None);
            };
            if target_is_dir && !is_empty(target)? {
                return Err(ENOTEMPTY);
            }
            let (new_slot, tino) = find(new_dir, new_name)?.ok_or(ENOENT)?;
            if tino as u64 != target.ino() {
                return Err(ENOENT);
            }
            Ok(Some((target, new_slot)))
        })();
        let replaced = match replaced {
            Ok(replaced) => replaced,
            Err(e) => return h.finish(Err(e)),
        };
        // Two entries, up to five inodes (the directories, the moved one, the replaced one, a
        // whiteout), the orphan list's head, and a new directory block with its tree path and
        // bitmap: more than an operation's credits. (If they cannot be claimed, the rename
        // takes room other operations hold, as before.)
        let _ = h.extend(16);
        // The whiteout first, which can fail (no free inode, no memory) before anything is
        // written: a failure after the first write shuts the filesystem down.
        let made = match whiteout {
            Some(owner) => {
                let new = NewInode {
                    rdev: inode::DevNum::WHITEOUT.encode(),
                    ..NewInode::new(inode::Type::Chr, owner)
                };
                match create_inode(&mut h, sb, old_dir, new) {
                    Ok(made) => Some(made),
                    Err(e) => return h.finish(Err(e)),
                }
            }
            None => None,
        };
        let done = (|| {
            match replaced {
                Some((target, new_slot)) => {
                    write_slot(&h, new_dir, new_slot, ino, entry_type(inode), new_name)?;
                    set_links(&mut h, target, target_links)?;
                    new_dir.touch_mtime_ctime();
                }
                None => add_entry(&mut h, new_dir, new_name, inode)?,
            }
            // Entries never move: the old name is still in `old_slot`, which the whiteout
            // takes over (an inode with its one link there, unlocked and let go below).
            match &made {
                Some(made) => {
                    let ino = made.ino() as u32;
                    write_slot(&h, old_dir, old_slot, ino, format::DT_CHR, old_name)?
                }
                None => clear_slot(&h, old_dir, old_slot)?,
            }
            old_dir.touch_mtime_ctime();
            if cross {
                inode.data().info.lock().parent = new_dir.ino() as u32;
                old_dir.set_nlink(old_dir_links);
            }
            if cross || target_is_dir {
                new_dir.set_nlink(new_dir_links);
            }
            inode.touch_ctime();
            // One transaction: the new name, the old one gone, and every inode changed.
            store(&mut h, old_dir)?;
            if new_dir.ino() != old_dir.ino() {
                store(&mut h, new_dir)?;
            }
            store(&mut h, inode)
        })();
        if let (Err(_), Some(made)) = (&done, &made) {
            // No name: eviction deletes it (the failure shut the filesystem down, so that
            // nothing of the operation is committed).
            made.set_nlink(0);
        }
        drop(made);
        h.finish(done)
    }

    fn exchange(
        old_dir: &LockedDir<'_, Xtfs>,
        old_name: &[u8],
        inode: &INode<Xtfs>,
        new_dir: &LockedDir<'_, Xtfs>,
        new_name: &[u8],
        other: &INode<Xtfs>,
    ) -> Result {
        live(old_dir.super_block())?;
        let (old_slot, ino) = find(old_dir, old_name)?.ok_or(ENOENT)?;
        let (new_slot, other_ino) = find(new_dir, new_name)?.ok_or(ENOENT)?;
        if ino as u64 != inode.ino() || other_ino as u64 != other.ino() {
            return Err(ENOENT);
        }
        let is_dir = |i: &INode<Xtfs>| i.mode() & format::S_IFMT == format::S_IFDIR;
        let cross = old_dir.ino() != new_dir.ino();
        // A directory that changes parent takes its ".." along: checked before anything
        // changes, as the VFS checked the maximum.
        let (mut old_links, mut new_links) = (old_dir.nlink(), new_dir.nlink());
        if cross {
            match (is_dir(inode), is_dir(other)) {
                (true, false) => {
                    old_links = dir_links_less(old_dir)?;
                    new_links = links_more(new_dir, 1)?;
                }
                (false, true) => {
                    old_links = links_more(old_dir, 1)?;
                    new_links = dir_links_less(new_dir)?;
                }
                _ => (),
            }
        }
        let sb = old_dir.super_block();
        let mut h = sb.data().journal.start(sb)?;
        let done = (|| {
            write_slot(
                &h,
                old_dir,
                old_slot,
                other_ino,
                entry_type(other),
                old_name,
            )?;
            write_slot(&h, new_dir, new_slot, ino, entry_type(inode), new_name)?;
            if cross {
                if is_dir(inode) {
                    inode.data().info.lock().parent = new_dir.ino() as u32;
                }
                if is_dir(other) {
                    other.data().info.lock().parent = old_dir.ino() as u32;
                }
                old_dir.set_nlink(old_links);
                new_dir.set_nlink(new_links);
            }
            old_dir.touch_mtime_ctime();
            new_dir.touch_mtime_ctime();
            inode.touch_ctime();
            other.touch_ctime();
            // One transaction: both names and every inode changed.
            store(&mut h, old_dir)?;
            if cross {
                store(&mut h, new_dir)?;
            }
            store(&mut h, inode)?;
            store(&mut h, other)
        })();
        h.finish(done)
    }
}

/// File operations of directories.
pub(crate) struct DirFileOps;

#[vtable]
impl fs::file::Operations for DirFileOps {
    type FileSystem = Xtfs;

    fn ioctl(file: &fs::file::File<Xtfs>, request: fs::file::Ioctl) -> Result {
        match request {
            fs::file::Ioctl::Shutdown(how) => crate::shut_down_on_request(file, how),
            _ => Err(ENOTTY),
        }
    }

    /// Positions: 0 is ".", 1 is "..", `3 + n` follows slot `n` of the directory's blocks.
    fn read_dir(dir: &INode<Xtfs>, emitter: &mut dir::Emitter<'_>) -> Result {
        if emitter.pos() == 0 && !emitter.emit(1, b".", dir.ino(), dir::EntryType::Dir)? {
            return Ok(());
        }
        if emitter.pos() == 1 {
            let parent = dir.data().info.lock().parent;
            if !emitter.emit(2, b"..", parent as u64, dir::EntryType::Dir)? {
                return Ok(());
            }
        }
        let Ok(start) = u64::try_from(emitter.pos() - 2) else {
            return Ok(());
        };
        let mut refused = Ok(());
        for_each_entry(dir, start, |slot, d| {
            let typ = match d.file_type {
                format::DT_DIR => dir::EntryType::Dir,
                format::DT_REG => dir::EntryType::Reg,
                format::DT_LNK => dir::EntryType::Lnk,
                format::DT_CHR => dir::EntryType::Chr,
                format::DT_BLK => dir::EntryType::Blk,
                format::DT_FIFO => dir::EntryType::Fifo,
                format::DT_SOCK => dir::EntryType::Sock,
                _ => dir::EntryType::Unknown,
            };
            emitter
                .emit(slot as i64 + 3, d.name, d.ino as u64, typ)
                .unwrap_or_else(|e| {
                    refused = Err(e);
                    false
                })
        })?;
        refused
    }

    /// `fsync` of a directory, which is what makes its changes durable (POSIX leaves a new
    /// name to it, not to `fsync` of the file): each change is in a transaction with the inodes
    /// it changed, so the commit ([`crate::persist_inode`]) makes them durable. On a frozen
    /// filesystem it has nothing to do, as a file's `fsync`.
    fn fsync(file: &File<Xtfs>, _start: i64, _end: i64, _datasync: bool) -> Result {
        let sb = file.inode().super_block();
        // Nothing changes on a read-only mount, and its device must stay as it is.
        if sb.read_only() {
            return Ok(());
        }
        live(sb)?;
        let Some(_change) = crate::fsync_change(sb) else {
            return Ok(());
        };
        crate::persist_inode(file.inode())
    }
}
