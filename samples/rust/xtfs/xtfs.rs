// SPDX-License-Identifier: GPL-2.0

//! xtfs: a filesystem on block devices written in Rust (`Documentation/filesystems/xtfs.rst`).
//!
//! This is the first part of the filesystem: it mounts an image made by `mkfs.xtfs`, checking
//! every piece of metadata it reads (a bad image fails the mount or the lookup with `EUCLEAN`
//! and a message naming what is wrong), and serves lookups, directory listings, `stat`,
//! `statfs`, symbolic links, and file reads, `SEEK_HOLE`/`SEEK_DATA` and FIEMAP through C iomap
//! with its extents. It mounts read-write and writes attribute changes back to the inode table
//! (`setattr`, `write_inode`); creating, writing (through `kernel::iomap`), truncating,
//! renaming and removing come next and are refused until then, so nothing changes in memory
//! that could not be written back.
//!
//! Each inode keeps its extent records in memory under a mutex, with the generation counter that
//! will be the validity cookie of its write mappings.

use kernel::c_str;
use kernel::fs::{
    self, address_space, dir,
    inode::{self, INode},
    sb::{self, Either, SuperBlock},
};
use kernel::iomap::{
    iter::{IomapOps, IterFlags},
    map::{Iomap, MappingType},
};
use kernel::prelude::*;
use kernel::sync::{new_mutex, Mutex};
use kernel::types::ARef;
use kernel::uio::{IovIter, Kiocb};

mod format;
mod layout;
use format::{corrupt, Extent, RawInode, Super};

module! {
    type: XtfsModule,
    name: "xtfs",
    author: "iomap_rs developers",
    description: "xtfs: a read-write filesystem whose buffered writes go through kernel::iomap",
    license: "GPL",
}

struct XtfsModule {
    _registration: Pin<KBox<fs::Registration>>,
}

impl kernel::Module for XtfsModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _registration: KBox::pin_init(fs::Registration::new::<Xtfs>(module), GFP_KERNEL)?,
        })
    }
}

/// The filesystem type.
struct Xtfs;

/// One mounted xtfs filesystem.
struct Mount {
    sb: Super,
    free_blocks: u64,
    free_inodes: u64,
}

/// What an inode keeps in memory besides the VFS inode.
struct InodeInfo {
    /// The extent records, sorted by file block, not overlapping.
    extents: KVec<Extent>,
    /// Bumped on every change of `extents`.
    generation: u64,
    /// Directories: the parent directory.
    parent: u32,
    /// The first block of the chain holding the extents beyond the inline ones, 0 if none.
    extent_block: u64,
}

#[pin_data]
struct InodeData {
    #[pin]
    info: Mutex<InodeInfo>,
}

#[vtable]
impl fs::FileSystem for Xtfs {
    const NAME: &'static CStr = c_str!("xtfs");
    type Data = Mount;
    type INodeData = InodeData;

    fn inode_data() -> impl PinInit<InodeData, Error> {
        try_pin_init!(InodeData {
            info <- new_mutex!(InodeInfo {
                extents: KVec::new(),
                generation: 0,
                parent: 0,
                extent_block: 0,
            }),
        }? Error)
    }

    fn fill_super(sb: &sb::NewSuperBlock<'_, Self>) -> Result<Mount> {
        let mut head = [0u8; format::SB_BYTES];
        sb.read(0, &mut head)?;
        let s = Super::decode(&head, sb.device_bytes(), kernel::page::PAGE_SIZE as u64)?;
        sb.set_block_size(s.block_size() as u32).inspect_err(|_| {
            pr_err!("the device cannot use {}-byte blocks\n", s.block_size());
        })?;
        sb.set_magic(format::MAGIC as u64);
        // Whole blocks up to the largest `loff_t`: a mapping never ends beyond it.
        sb.set_max_bytes(((i64::MAX as u64 >> s.block_bits) << s.block_bits) as i64);

        let bs = s.block_size() as usize;
        let mut buf = KVec::from_elem(0u8, bs, GFP_KERNEL)?;

        // Count the blocks in use; the metadata blocks must be among them and nothing beyond
        // the last block.
        let mut used = 0u64;
        for i in 0..s.bitmap_blocks {
            sb.read((s.bitmap_start + i) * bs as u64, &mut buf)?;
            for (j, &byte) in buf.iter().enumerate() {
                let first = (i * bs as u64 + j as u64) * 8;
                for bit in 0..8u64 {
                    let block = first + bit;
                    let set = byte & (1 << bit) != 0;
                    if (block < s.data_start && !set) || (block >= s.blocks && set) {
                        return Err(corrupt!(
                            "bitmap: block {} is wrongly {}\n",
                            block,
                            if set { "in use" } else { "free" }
                        ));
                    }
                    used += set as u64;
                }
            }
        }

        let mut inodes_used = 0u64;
        for i in 0..s.itable_blocks {
            sb.read((s.itable_start + i) * bs as u64, &mut buf)?;
            for slot in buf.chunks_exact(format::INODE_SIZE) {
                inodes_used += (format::le16(slot, 0) != 0) as u64;
            }
        }
        Ok(Mount {
            sb: s,
            free_blocks: s.blocks - used,
            free_inodes: (s.inodes as u64).saturating_sub(inodes_used),
        })
    }

    fn root(sb: &SuperBlock<Self>) -> Result<ARef<INode<Self>>> {
        let root = read_inode(sb, format::ROOT_INO)?;
        if root.mode() & format::S_IFMT != format::S_IFDIR {
            return Err(corrupt!("the root inode is not a directory\n"));
        }
        Ok(root)
    }

    /// Writes the inode's attributes to its slot of the inode table (in the block device's
    /// page cache; `sync_filesystem` writes it to the device). The extents do not change yet:
    /// they are written as they were read.
    fn write_inode(inode: &INode<Self>, _sync: bool) -> Result {
        let sb = inode.super_block();
        let s = &sb.data().sb;
        let ino = inode.ino() as u32;
        let a = inode.attrs();
        let t = |t: inode::Time| (t.sec, t.nsec);
        let raw = {
            let info = inode.data().info.lock();
            let mut inline = [Extent::default(); format::INLINE_EXTENTS];
            for (slot, e) in inline.iter_mut().zip(info.extents.iter()) {
                *slot = *e;
            }
            RawInode {
                mode: a.mode,
                nlink: a.nlink,
                uid: a.uid,
                gid: a.gid,
                size: a.size as u64,
                times: [t(a.atime), t(a.mtime), t(a.ctime)],
                nextents: info.extents.len() as u32,
                extent_block: info.extent_block,
                parent: info.parent,
                inline,
            }
        };
        let at = s.itable_start * s.block_size() + (ino as u64 - 1) * format::INODE_SIZE as u64;
        sb.write(at, &raw.encode(ino, format::crc32c))
    }

    fn statfs(sb: &SuperBlock<Self>) -> Result<sb::Stat> {
        let m = sb.data();
        Ok(sb::Stat {
            magic: format::MAGIC as u64,
            blocks: m.sb.blocks,
            bfree: m.free_blocks,
            bavail: m.free_blocks,
            files: m.sb.inodes as u64,
            ffree: m.free_inodes,
            namelen: format::NAME_MAX as u64,
        })
    }
}

/// Reads the extent records of inode `ino`: the inline ones, then the chain of extent blocks.
fn read_extents(
    sb: &SuperBlock<Xtfs>,
    s: &Super,
    ino: u32,
    raw: &RawInode,
) -> Result<KVec<Extent>> {
    let total = raw.nextents as usize;
    // Every extent holds at least one block of the device.
    if total as u64 > s.blocks {
        return Err(corrupt!("inode {}: {} extents\n", ino, total));
    }
    let mut extents = KVec::with_capacity(total, GFP_KERNEL)?;
    for e in raw.inline.iter().take(total) {
        extents.push(*e, GFP_KERNEL)?;
    }
    let mut next = raw.extent_block;
    if next != 0 {
        let bs = s.block_size() as usize;
        let mut buf = KVec::from_elem(0u8, bs, GFP_KERNEL)?;
        while next != 0 {
            if next < s.data_start || next >= s.blocks || extents.len() >= total {
                return Err(corrupt!(
                    "inode {}: bad extent chain at block {}\n",
                    ino,
                    next
                ));
            }
            sb.read(next * bs as u64, &mut buf)?;
            let (count, following) = format::decode_extent_block(&buf, next, ino)?;
            if extents.len() + count > total {
                return Err(corrupt!("inode {}: more extents than {}\n", ino, total));
            }
            for i in 0..count {
                let at = format::EXTENT_BLOCK_HEADER + format::EXTENT_SIZE * i;
                extents.push(Extent::decode(&buf[at..]), GFP_KERNEL)?;
            }
            next = following;
        }
    }
    if extents.len() != total {
        return Err(corrupt!(
            "inode {}: {} of {} extents found\n",
            ino,
            extents.len(),
            total
        ));
    }
    let mut prev_end = 0;
    for e in extents.iter() {
        e.check(s, ino, prev_end)?;
        prev_end = e.end();
    }
    Ok(extents)
}

/// Inode operations of directories.
struct DirOps;

#[vtable]
impl inode::Operations for DirOps {
    type FileSystem = Xtfs;

    fn setattr(inode: &INode<Xtfs>, change: &inode::AttrChange) -> Result {
        check_attr_change(inode, change)
    }

    fn lookup(dir: &INode<Xtfs>, name: &[u8]) -> Result<Option<ARef<INode<Xtfs>>>> {
        if name.len() > format::NAME_MAX {
            return Err(ENAMETOOLONG);
        }
        let mut found = None;
        for_each_entry(dir, 0, |_, d| {
            if d.name == name {
                found = Some(d.ino);
                return false;
            }
            true
        })?;
        found
            .map(|ino| read_inode(dir.super_block(), ino))
            .transpose()
    }
}

/// File operations of directories.
struct DirFileOps;

#[vtable]
impl fs::file::Operations for DirFileOps {
    type FileSystem = Xtfs;

    /// Positions: 0 is ".", 1 is "..", `2 + n` is slot `n` of the directory's blocks.
    fn read_dir(dir: &INode<Xtfs>, emitter: &mut dir::Emitter<'_>) -> Result {
        if emitter.pos() == 0 {
            if !emitter.emit(1, b".", dir.ino(), dir::EntryType::Dir) {
                return Ok(());
            }
        }
        if emitter.pos() == 1 {
            let parent = dir.data().info.lock().parent;
            if !emitter.emit(2, b"..", parent as u64, dir::EntryType::Dir) {
                return Ok(());
            }
        }
        let Ok(start) = u64::try_from(emitter.pos() - 2) else {
            return Ok(());
        };
        for_each_entry(dir, start, |slot, d| {
            let typ = match d.file_type {
                4 => dir::EntryType::Dir,
                8 => dir::EntryType::Reg,
                10 => dir::EntryType::Lnk,
                _ => dir::EntryType::Unknown,
            };
            emitter.emit(slot as i64 + 3, d.name, d.ino as u64, typ)
        })
    }
}

/// Inode operations of regular files.
struct FileOps;

#[vtable]
impl inode::Operations for FileOps {
    type FileSystem = Xtfs;

    fn setattr(inode: &INode<Xtfs>, change: &inode::AttrChange) -> Result {
        check_attr_change(inode, change)
    }

    fn fiemap(
        inode: &INode<Xtfs>,
        info: &mut address_space::FiemapInfo<'_>,
        start: u64,
        len: u64,
    ) -> Result {
        address_space::fiemap::<XtfsMapper>(inode, info, start, len)
    }
}

/// File operations of regular files: reads through the page cache, which C iomap fills
/// through [`XtfsMapper`].
struct RegFileOps;

#[vtable]
impl fs::file::Operations for RegFileOps {
    type FileSystem = Xtfs;

    fn read_iter(kiocb: &mut Kiocb, to: &mut IovIter) -> Result<usize> {
        fs::file::generic_read(kiocb, to)
    }

    fn seek_data_hole(inode: &INode<Xtfs>, offset: i64, data: bool) -> Result<i64> {
        address_space::seek_hole_data::<XtfsMapper>(inode, offset, data)
    }
}

/// Inode operations of symbolic links.
struct SymlinkOps;

#[vtable]
impl inode::Operations for SymlinkOps {
    type FileSystem = Xtfs;

    fn setattr(inode: &INode<Xtfs>, change: &inode::AttrChange) -> Result {
        check_attr_change(inode, change)
    }

    fn get_link(inode: &INode<Xtfs>) -> Result<KVec<u8>> {
        let sb = inode.super_block();
        let disk = {
            let info = inode.data().info.lock();
            info.extents.first().map(|e| e.disk_block).ok_or(EUCLEAN)?
        };
        // The size was checked against the block size when the inode was read.
        let len = inode.as_inode().size() as usize;
        let mut target = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        sb.read(disk << sb.block_bits(), &mut target)?;
        Ok(target)
    }
}

/// File operations of symbolic links: none (they are not opened).
struct NoFileOps;

#[vtable]
impl fs::file::Operations for NoFileOps {
    type FileSystem = Xtfs;
}

/// How C iomap maps xtfs files: the extent tree, under its lock.
struct XtfsMapper;

impl address_space::Mapper for XtfsMapper {
    type FileSystem = Xtfs;
    type Ops<'a> = FileMap<'a>;

    fn ops(inode: &INode<Xtfs>) -> FileMap<'_> {
        FileMap { inode }
    }
}

/// The iomap operations of one file.
struct FileMap<'a> {
    inode: &'a INode<Xtfs>,
}

impl IomapOps for FileMap<'_> {
    fn begin(
        &mut self,
        pos: i64,
        len: u64,
        flags: IterFlags,
        iomap: &mut Iomap,
        _srcmap: &mut Iomap,
    ) -> Result {
        if flags.contains(IterFlags::WRITE) || flags.contains(IterFlags::ZERO) {
            return Err(EROFS);
        }
        let sb = self.inode.super_block();
        let bits = sb.block_bits();
        let pos = u64::try_from(pos).map_err(|_| EINVAL)?;
        let block = pos >> bits;
        // Map whole blocks, up to the end of the requested range rounded up.
        // Mappings end at the largest file size, whole blocks (see `fill_super`).
        let last_block = (i64::MAX as u64) >> bits;
        if block >= last_block {
            return Err(EFBIG);
        }
        let end_block = pos
            .checked_add(len.max(1))
            .map_or(last_block, |end| end.div_ceil(1 << bits).min(last_block));
        let info = self.inode.data().info.lock();
        let found = info.extents.iter().find(|e| e.end() > block);
        let (ty, blocks, disk) = match found {
            Some(e) if e.file_block <= block => {
                let ty = if e.flags & format::EXTENT_UNWRITTEN != 0 {
                    MappingType::Unwritten
                } else {
                    MappingType::Mapped
                };
                (
                    ty,
                    e.end() - block,
                    Some(e.disk_block + (block - e.file_block)),
                )
            }
            Some(e) => (MappingType::Hole, e.file_block - block, None),
            None => (MappingType::Hole, u64::MAX, None),
        };
        let blocks = blocks.min(end_block.saturating_sub(block).max(1));
        let (offset, length) = ((block << bits) as i64, blocks << bits);
        *iomap = match disk {
            Some(disk) => sb.device_iomap(ty, offset, length, info.generation, disk << bits)?,
            None => Iomap::new(ty, offset, length, info.generation)?,
        };
        Ok(())
    }
}

/// Attribute changes are accepted, but for the size: truncation comes with the write path.
fn check_attr_change(inode: &INode<Xtfs>, change: &inode::AttrChange) -> Result {
    match change.size {
        Some(size) if size != inode.as_inode().size() => Err(EOPNOTSUPP),
        _ => Ok(()),
    }
}

/// Calls `f(slot, entry)` for each entry of directory `dir` from slot `start` on, until `f`
/// returns false.
fn for_each_entry(
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
        let disk = {
            let info = dir.data().info.lock();
            info.extents
                .iter()
                .find(|e| e.file_block <= index && index < e.end())
                .map(|e| e.disk_block + (index - e.file_block))
        };
        let disk = disk.ok_or_else(|| corrupt!("directory {}: hole at block {}\n", ino, index))?;
        sb.read(disk * bs, &mut buf)?;
        for i in slot % per_block..per_block {
            let at = (i as usize) * format::DIRENT_SIZE;
            if let Some(d) = format::decode_dirent(&buf[at..], ino, s.inodes)? {
                if !f(index * per_block + i, d) {
                    return Ok(());
                }
            }
        }
        slot = (index + 1) * per_block;
    }
    Ok(())
}

/// Returns inode `ino`, reading it from the inode table if it is not cached.
fn read_inode(sb: &SuperBlock<Xtfs>, ino: u32) -> Result<ARef<INode<Xtfs>>> {
    let s = &sb.data().sb;
    if ino == 0 || ino > s.inodes {
        return Err(corrupt!("inode number {} out of range\n", ino));
    }
    let new = match sb.get_or_create_inode(ino as u64)? {
        Either::Left(cached) => return Ok(cached),
        Either::Right(new) => new,
    };
    let mut b = [0u8; format::INODE_SIZE];
    sb.read(
        s.itable_start * s.block_size() + (ino as u64 - 1) * format::INODE_SIZE as u64,
        &mut b,
    )?;
    let raw = RawInode::decode(&b, ino, s)?;
    let extents = read_extents(sb, s, ino, &raw)?;
    let bs = s.block_size();
    let typ = match raw.mode & format::S_IFMT {
        format::S_IFDIR => {
            // Directory blocks are all allocated and written, from block 0 on.
            let mut next = 0;
            for e in extents.iter() {
                if e.file_block != next || e.flags != 0 {
                    return Err(corrupt!("directory {}: hole or unwritten extent\n", ino));
                }
                next = e.end();
            }
            if raw.size % bs != 0 || raw.size / bs != next {
                return Err(corrupt!(
                    "directory {}: size {} for {} blocks\n",
                    ino,
                    raw.size,
                    next
                ));
            }
            inode::Type::Dir
        }
        format::S_IFLNK => {
            if extents.len() != 1 || extents[0].len != 1 || raw.size == 0 || raw.size >= bs {
                return Err(corrupt!("symlink {}: bad size or extents\n", ino));
            }
            inode::Type::Lnk
        }
        _ => inode::Type::Reg,
    };
    {
        let mut info = new.data().info.lock();
        info.extents = extents;
        info.generation = 0;
        info.parent = raw.parent;
        info.extent_block = raw.extent_block;
    }
    let time = |(sec, nsec): (i64, u32)| inode::Time { sec, nsec };
    let (inode_ops, file_ops, aops) = match typ {
        inode::Type::Dir => (
            inode::Ops::new::<DirOps>(),
            fs::file::Ops::new::<DirFileOps>(),
            None,
        ),
        inode::Type::Lnk => (
            inode::Ops::new::<SymlinkOps>(),
            fs::file::Ops::new::<NoFileOps>(),
            None,
        ),
        inode::Type::Reg => (
            inode::Ops::new::<FileOps>(),
            fs::file::Ops::new::<RegFileOps>(),
            Some(address_space::Ops::iomap::<XtfsMapper>()),
        ),
    };
    Ok(new.init(inode::Params {
        typ,
        attrs: inode::Attrs {
            mode: raw.mode,
            nlink: raw.nlink,
            uid: raw.uid,
            gid: raw.gid,
            size: raw.size as i64,
            atime: time(raw.times[0]),
            mtime: time(raw.times[1]),
            ctime: time(raw.times[2]),
        },
        inode_ops,
        file_ops,
        aops,
        large_folios: typ == inode::Type::Reg,
    }))
}
