// SPDX-License-Identifier: GPL-2.0

//! The on-disk format of xtfs, version 2 (`Documentation/filesystems/xtfs.rst`).
//!
//! Decoders take bytes read from the device and check everything the rest of the filesystem
//! relies on; on bad input they log what is wrong, after the device's name (`dev`,
//! `SuperBlock::id`), and fail with `EUCLEAN`. Where the fields are
//! is `layout.rs`, shared with the userspace tools (`tools/testing/xtfs/src/lib.rs`, whose
//! `fsck.xtfs` checks the same things and more).

use kernel::prelude::*;
use kernel::str::CStr;

pub(crate) use crate::layout::*;

/// Logs why on-disk metadata of the device named `$dev` (`SuperBlock::id`) is rejected, with the
/// name first as in every xtfs message (`xtfs: vdb: ...`, as C filesystems' `XFS (vdb): ...`),
/// and returns the error for it.
macro_rules! corrupt {
    ($dev:expr, $fmt:literal $($arg:tt)*) => {{
        pr_err!(concat!("{}: ", $fmt), $dev $($arg)*);
        EUCLEAN
    }};
}
pub(crate) use corrupt;

/// CRC32C of the concatenation of `parts`, as the format defines it.
pub(crate) fn crc32c(parts: &[&[u8]]) -> u32 {
    !parts
        .iter()
        .fold(!0u32, |crc, p| kernel::crc32c::crc32c(crc, p))
}

/// The superblock, checked against the device it was read from.
#[derive(Clone, Copy)]
pub(crate) struct Super {
    pub(crate) block_bits: u32,
    pub(crate) blocks: u64,
    pub(crate) inodes: u32,
    pub(crate) bitmap_start: u64,
    pub(crate) bitmap_blocks: u64,
    pub(crate) itable_start: u64,
    pub(crate) itable_blocks: u64,
    pub(crate) log_start: u64,
    pub(crate) log_blocks: u64,
    pub(crate) data_start: u64,
}

impl Super {
    pub(crate) fn block_size(&self) -> u64 {
        1 << self.block_bits
    }

    /// Whether block `block` is metadata that transactions change (and the log may hold): the
    /// superblock (its orphan list head), the bitmap, the inode table, or a block of the data
    /// area (extent, directory and symbolic link blocks). The log itself is not.
    pub(crate) fn journaled(&self, block: u64) -> bool {
        block < self.log_start || (self.data_start..self.blocks).contains(&block)
    }

    /// Decodes the first 512 bytes of a device of `device_bytes` bytes, whose pages are
    /// `page_size` bytes.
    pub(crate) fn decode(
        dev: &CStr,
        b: &[u8; SB_BYTES],
        device_bytes: u64,
        page_size: u64,
    ) -> Result<Super> {
        if le32(b, 0) != MAGIC {
            return Err(corrupt!(
                dev,
                "no xtfs superblock (magic {:#x})\n",
                le32(b, 0)
            ));
        }
        if le32(b, SB_CRC_OFFSET) != crc32c(&[&b[..SB_CRC_OFFSET]]) {
            return Err(corrupt!(dev, "superblock checksum mismatch\n"));
        }
        if le32(b, 4) == 1 {
            return Err(corrupt!(
                dev,
                "format 1 has no journal and is not supported: copy the files out with a kernel \
                 that mounts it, and make the filesystem again with mkfs.xtfs\n"
            ));
        }
        if le32(b, 4) != VERSION {
            return Err(corrupt!(dev, "unsupported version {}\n", le32(b, 4)));
        }
        if le32(b, 28) == 256 {
            return Err(corrupt!(
                dev,
                "256-byte inodes, from before extended attributes, are not supported: copy the \
                 files out with a kernel that mounts it, and make the filesystem again\n"
            ));
        }
        if le32(b, 12) != 0 || le32(b, 28) != INODE_SIZE as u32 || le32(b, 72) != ROOT_INO {
            return Err(corrupt!(
                dev,
                "bad flags, inode size or root inode in the superblock\n"
            ));
        }
        let block_bits = le32(b, 8);
        if !(9..=12).contains(&block_bits) || (1u64 << block_bits) > page_size {
            return Err(corrupt!(dev, "block size 2^{} not supported\n", block_bits));
        }
        let bs = 1u64 << block_bits;
        let blocks = le64(b, 16);
        let inodes = le32(b, 24);
        let bitmap_blocks = blocks.div_ceil(8 * bs);
        let itable_blocks = (inodes as u64 * INODE_SIZE as u64).div_ceil(bs);
        let log_blocks = le64(b, SB_LOG_BLOCKS);
        if !(LOG_MIN_BLOCKS..=LOG_MAX_BLOCKS).contains(&log_blocks) {
            return Err(corrupt!(
                dev,
                "log of {} blocks not supported\n",
                log_blocks
            ));
        }
        let sb = Super {
            block_bits,
            blocks,
            inodes,
            bitmap_start: 1,
            bitmap_blocks,
            itable_start: 1 + bitmap_blocks,
            itable_blocks,
            log_start: 1 + bitmap_blocks + itable_blocks,
            log_blocks,
            data_start: 1 + bitmap_blocks + itable_blocks + log_blocks,
        };
        let fields = [
            ("bitmap_start", le64(b, 32), sb.bitmap_start),
            ("bitmap_blocks", le64(b, 40), sb.bitmap_blocks),
            ("itable_start", le64(b, 48), sb.itable_start),
            ("itable_blocks", le64(b, 56), sb.itable_blocks),
            ("log_start", le64(b, SB_LOG_START), sb.log_start),
            ("data_start", le64(b, 64), sb.data_start),
        ];
        for (name, got, want) in fields {
            if got != want {
                return Err(corrupt!(
                    dev,
                    "superblock {} is {}, expected {}\n",
                    name,
                    got,
                    want
                ));
            }
        }
        if inodes == 0 || sb.data_start >= blocks {
            return Err(corrupt!(
                dev,
                "{} blocks and {} inodes leave no room\n",
                blocks,
                inodes
            ));
        }
        if blocks
            .checked_mul(bs)
            .map_or(true, |bytes| bytes > device_bytes)
        {
            return Err(corrupt!(
                dev,
                "{} blocks of {} bytes do not fit the device ({} bytes)\n",
                blocks,
                bs,
                device_bytes
            ));
        }
        Ok(sb)
    }
}

impl Extent {
    /// Checks the record as the one after a record ending at file block `prev_end` (0 for the
    /// first).
    pub(crate) fn check(&self, dev: &CStr, sb: &Super, ino: u32, prev_end: u64) -> Result {
        let max_blocks = (i64::MAX as u64) >> sb.block_bits;
        let disk_ok = self.disk_block >= sb.data_start
            && self
                .disk_block
                .checked_add(self.len as u64)
                .is_some_and(|end| end <= sb.blocks);
        let file_ok = self
            .file_block
            .checked_add(self.len as u64)
            .is_some_and(|end| end <= max_blocks);
        if self.len == 0
            || self.flags & !EXTENT_UNWRITTEN != 0
            || !disk_ok
            || !file_ok
            || self.file_block < prev_end
        {
            return Err(corrupt!(
                dev,
                "inode {}: bad extent (file block {}, disk block {}, {} blocks, flags {:#x})\n",
                ino,
                self.file_block,
                self.disk_block,
                self.len,
                self.flags
            ));
        }
        Ok(())
    }
}

impl RawInode {
    /// Decodes inode `ino`, which must be in use, and checks it: an `orphan` (on the orphan
    /// list) has no links, any other inode has some.
    pub(crate) fn decode(
        dev: &CStr,
        b: &[u8; INODE_SIZE],
        ino: u32,
        sb: &Super,
        orphan: bool,
    ) -> Result<RawInode> {
        let raw = RawInode::fields(b);
        if raw.mode == 0 {
            return Err(corrupt!(dev, "inode {} is free but linked\n", ino));
        }
        if le32(b, INODE_CRC_OFFSET) != RawInode::checksum(b, ino, crc32c) {
            return Err(corrupt!(dev, "inode {}: checksum mismatch\n", ino));
        }
        let typ = raw.mode & S_IFMT;
        if entry_type(raw.mode).is_none() {
            return Err(corrupt!(dev, "inode {}: bad mode {:o}\n", ino, raw.mode));
        }
        if raw.times.iter().any(|t| t.1 >= 1_000_000_000) || raw.btime.1 >= 1_000_000_000 {
            return Err(corrupt!(dev, "inode {}: bad time stamp\n", ino));
        }
        let next = le32(b, INODE_NEXT_ORPHAN);
        let links_ok = if orphan {
            raw.nlink == 0 && next <= sb.inodes && next != ino
        } else {
            raw.nlink >= if typ == S_IFDIR { 2 } else { 1 } && next == 0
        };
        if !links_ok {
            return Err(corrupt!(
                dev,
                "inode {}: {} links{}\n",
                ino,
                raw.nlink,
                if orphan { " on the orphan list" } else { "" }
            ));
        }
        if !raw.root_consistent()
            || (typ == S_IFDIR) != (raw.parent != 0)
            || raw.parent > sb.inodes
            || raw.nlink > LINK_MAX
            || raw.size > i64::MAX as u64
            || (raw.rdev != 0 && !matches!(typ, S_IFCHR | S_IFBLK))
            || (is_special(raw.mode) && (raw.size != 0 || raw.nextents != 0))
        {
            return Err(corrupt!(
                dev,
                "inode {}: inconsistent fields (extents {}, tree depth {}, parent {}, \
                 links {}, size {})\n",
                ino,
                raw.nextents,
                raw.depth,
                raw.parent,
                raw.nlink,
                raw.size
            ));
        }
        if raw.flags & !INODE_FLAGS_KNOWN != 0 {
            return Err(corrupt!(
                dev,
                "inode {}: unknown flags {:#x}\n",
                ino,
                raw.flags
            ));
        }
        let xattrs_ok = raw.xattr_bytes as usize <= INLINE_XATTR_BYTES
            && XattrEntries::new(raw.inline_xattrs()).all(|e| e.is_ok())
            && (raw.xattr_block == 0 || (sb.data_start..sb.blocks).contains(&raw.xattr_block));
        if !xattrs_ok {
            return Err(corrupt!(dev, "inode {}: bad extended attributes\n", ino));
        }
        Ok(raw)
    }
}

/// Checks extended attribute block `b`, read from device block `block` for inode `ino` of
/// generation `generation`, and returns its entries' bytes.
pub(crate) fn decode_xattr_block<'a>(
    dev: &CStr,
    b: &'a [u8],
    block: u64,
    ino: u32,
    generation: u32,
) -> Result<&'a [u8]> {
    let h = XattrHeader::decode(b);
    let entries = b.get(XATTR_HEADER..XATTR_HEADER + h.bytes as usize);
    let ok = h.magic == XATTR_MAGIC
        && h.crc == XattrHeader::checksum(b, crc32c)
        && h.ino == ino
        && h.generation == generation
        && h.bytes > 0
        && b[20..XATTR_HEADER].iter().all(|&x| x == 0)
        && entries.is_some_and(|e| XattrEntries::new(e).all(|e| e.is_ok()));
    match entries {
        Some(entries) if ok => Ok(entries),
        _ => Err(corrupt!(
            dev,
            "inode {}: bad extended attribute block {}\n",
            ino,
            block
        )),
    }
}

/// Checks the header of extent tree node `b`, read from device block `block`, as a node of
/// `level` of the tree of inode `ino` of generation `generation`; returns its record count.
/// A node of another inode, of an earlier inode in the same slot (another generation) or from
/// another block, or one that was torn, is refused.
pub(crate) fn decode_node(
    dev: &CStr,
    b: &[u8],
    block: u64,
    ino: u32,
    generation: u32,
    level: u16,
) -> Result<usize> {
    let h = NodeHeader::decode(b);
    let bs = b.len() as u64;
    let cap = if level == 0 {
        leaf_capacity(bs)
    } else {
        index_capacity(bs)
    };
    if h.magic != NODE_MAGIC
        || h.crc != node_checksum(b, crc32c)
        || h.ino != ino
        || h.generation != generation
        || h.block != block
        || h.level != level
        || h.reserved != 0
        || h.count == 0
        || h.count as usize > cap
    {
        return Err(corrupt!(
            dev,
            "inode {}: bad extent tree node at block {} (level {})\n",
            ino,
            block,
            level
        ));
    }
    Ok(h.count as usize)
}

/// A directory entry.
pub(crate) struct Dirent<'a> {
    pub(crate) ino: u32,
    pub(crate) file_type: u8,
    pub(crate) name: &'a [u8],
}

/// Decodes the directory entry at `b` (256 bytes) of directory `dir`: `None` for an empty slot.
pub(crate) fn decode_dirent<'a>(
    dev: &CStr,
    b: &'a [u8],
    dir: u32,
    inodes: u32,
) -> Result<Option<Dirent<'a>>> {
    let ino = le32(b, 0);
    if ino == 0 {
        return if b[..DIRENT_SIZE].iter().all(|&x| x == 0) {
            Ok(None)
        } else {
            Err(corrupt!(
                dev,
                "directory {}: empty slot is not zeroed\n",
                dir
            ))
        };
    }
    let len = b[4] as usize;
    let bad_name = len == 0
        || len > NAME_MAX
        || b[6..6 + len].iter().any(|&c| c == 0 || c == b'/')
        || &b[6..6 + len] == b"."
        || &b[6..6 + len] == b".."
        || b[6 + len..DIRENT_SIZE].iter().any(|&x| x != 0);
    if bad_name || ino > inodes || ino == ROOT_INO {
        return Err(corrupt!(
            dev,
            "directory {}: bad entry for inode {}\n",
            dir,
            ino
        ));
    }
    Ok(Some(Dirent {
        ino,
        file_type: b[5],
        name: &b[6..6 + len],
    }))
}
