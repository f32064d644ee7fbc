// SPDX-License-Identifier: GPL-2.0

//! The on-disk format of xtfs, version 1 (`Documentation/filesystems/xtfs.rst`).
//!
//! Decoders take bytes read from the device and check everything the rest of the filesystem
//! relies on; on bad input they log what is wrong and fail with `EUCLEAN`. The userspace twin of
//! this file is `tools/testing/xtfs/src/lib.rs`.

use kernel::prelude::*;

pub(crate) const MAGIC: u32 = 0x5346_5458;
pub(crate) const EXTENT_BLOCK_MAGIC: u32 = 0x4245_5458;
pub(crate) const VERSION: u32 = 1;
pub(crate) const SB_BYTES: usize = 512;
pub(crate) const SB_CRC_OFFSET: usize = 508;
pub(crate) const INODE_SIZE: usize = 256;
pub(crate) const ROOT_INO: u32 = 1;
pub(crate) const INLINE_EXTENTS: usize = 7;
pub(crate) const EXTENT_SIZE: usize = 24;
pub(crate) const EXTENT_BLOCK_HEADER: usize = 32;
pub(crate) const DIRENT_SIZE: usize = 256;
pub(crate) const NAME_MAX: usize = 250;
pub(crate) const EXTENT_UNWRITTEN: u32 = 1;

pub(crate) const S_IFMT: u16 = 0o170000;
pub(crate) const S_IFREG: u16 = 0o100000;
pub(crate) const S_IFDIR: u16 = 0o040000;
pub(crate) const S_IFLNK: u16 = 0o120000;

/// Logs why on-disk metadata is rejected and returns the error for it.
macro_rules! corrupt {
    ($($arg:tt)*) => {{
        pr_err!($($arg)*);
        EUCLEAN
    }};
}
pub(crate) use corrupt;

pub(crate) fn le16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

pub(crate) fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

pub(crate) fn le64(b: &[u8], off: usize) -> u64 {
    (le32(b, off) as u64) | ((le32(b, off + 4) as u64) << 32)
}

fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

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
    pub(crate) data_start: u64,
}

impl Super {
    pub(crate) fn block_size(&self) -> u64 {
        1 << self.block_bits
    }

    /// Decodes the first 512 bytes of a device of `device_bytes` bytes, whose pages are
    /// `page_size` bytes.
    pub(crate) fn decode(b: &[u8; SB_BYTES], device_bytes: u64, page_size: u64) -> Result<Super> {
        if le32(b, 0) != MAGIC {
            return Err(corrupt!("no xtfs superblock (magic {:#x})\n", le32(b, 0)));
        }
        if le32(b, SB_CRC_OFFSET) != crc32c(&[&b[..SB_CRC_OFFSET]]) {
            return Err(corrupt!("superblock checksum mismatch\n"));
        }
        if le32(b, 4) != VERSION {
            return Err(corrupt!("unsupported version {}\n", le32(b, 4)));
        }
        if le32(b, 12) != 0 || le32(b, 28) != INODE_SIZE as u32 || le32(b, 72) != ROOT_INO {
            return Err(corrupt!(
                "bad flags, inode size or root inode in the superblock\n"
            ));
        }
        let block_bits = le32(b, 8);
        if !(9..=12).contains(&block_bits) || (1u64 << block_bits) > page_size {
            return Err(corrupt!("block size 2^{} not supported\n", block_bits));
        }
        let bs = 1u64 << block_bits;
        let blocks = le64(b, 16);
        let inodes = le32(b, 24);
        let bitmap_blocks = blocks.div_ceil(8 * bs);
        let itable_blocks = (inodes as u64 * INODE_SIZE as u64).div_ceil(bs);
        let sb = Super {
            block_bits,
            blocks,
            inodes,
            bitmap_start: 1,
            bitmap_blocks,
            itable_start: 1 + bitmap_blocks,
            itable_blocks,
            data_start: 1 + bitmap_blocks + itable_blocks,
        };
        let fields = [
            ("bitmap_start", le64(b, 32), sb.bitmap_start),
            ("bitmap_blocks", le64(b, 40), sb.bitmap_blocks),
            ("itable_start", le64(b, 48), sb.itable_start),
            ("itable_blocks", le64(b, 56), sb.itable_blocks),
            ("data_start", le64(b, 64), sb.data_start),
        ];
        for (name, got, want) in fields {
            if got != want {
                return Err(corrupt!(
                    "superblock {} is {}, expected {}\n",
                    name,
                    got,
                    want
                ));
            }
        }
        if inodes == 0 || sb.data_start >= blocks {
            return Err(corrupt!(
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
                "{} blocks of {} bytes do not fit the device ({} bytes)\n",
                blocks,
                bs,
                device_bytes
            ));
        }
        Ok(sb)
    }
}

/// An extent record: `len` blocks of the file from `file_block` at `disk_block`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Extent {
    pub(crate) file_block: u64,
    pub(crate) disk_block: u64,
    pub(crate) len: u32,
    pub(crate) flags: u32,
}

impl Extent {
    pub(crate) fn decode(b: &[u8]) -> Extent {
        Extent {
            file_block: le64(b, 0),
            disk_block: le64(b, 8),
            len: le32(b, 16),
            flags: le32(b, 20),
        }
    }

    pub(crate) fn end(&self) -> u64 {
        self.file_block + self.len as u64
    }

    /// Checks `self` as the record after one ending at file block `prev_end` (0 for the first).
    pub(crate) fn check(&self, sb: &Super, ino: u32, prev_end: u64) -> Result {
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

/// An inode as stored; its extents beyond the inline ones are read by the caller.
pub(crate) struct RawInode {
    pub(crate) mode: u16,
    pub(crate) nlink: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) size: u64,
    pub(crate) times: [(i64, u32); 3],
    pub(crate) nextents: u32,
    pub(crate) extent_block: u64,
    pub(crate) parent: u32,
    pub(crate) inline: [Extent; INLINE_EXTENTS],
}

impl RawInode {
    /// Decodes inode `ino`, which must be in use.
    pub(crate) fn decode(b: &[u8; INODE_SIZE], ino: u32, sb: &Super) -> Result<RawInode> {
        let mode = le16(b, 0);
        if mode == 0 {
            return Err(corrupt!("inode {} is free but linked\n", ino));
        }
        if le32(b, 252) != crc32c(&[&ino.to_le_bytes(), &b[..252]]) {
            return Err(corrupt!("inode {}: checksum mismatch\n", ino));
        }
        let typ = mode & S_IFMT;
        if !matches!(typ, S_IFREG | S_IFDIR | S_IFLNK) {
            return Err(corrupt!("inode {}: bad mode {:o}\n", ino, mode));
        }
        let mut times = [(0i64, 0u32); 3];
        for (i, t) in times.iter_mut().enumerate() {
            *t = (le64(b, 24 + 8 * i) as i64, le32(b, 48 + 4 * i));
            if t.1 >= 1_000_000_000 {
                return Err(corrupt!("inode {}: bad time stamp\n", ino));
            }
        }
        let nextents = le32(b, 60);
        let extent_block = le64(b, 64);
        let parent = le32(b, 72);
        let nlink = le32(b, 4);
        let size = le64(b, 16);
        if (nextents as usize <= INLINE_EXTENTS) != (extent_block == 0)
            || (typ == S_IFDIR) != (parent != 0)
            || parent > sb.inodes
            || nlink == 0
            || size > i64::MAX as u64
            || le16(b, 2) != 0
            || le32(b, 76) != 0
            || le32(b, 248) != 0
        {
            return Err(corrupt!(
                "inode {}: inconsistent fields (extents {}, extent block {}, parent {}, \
                 links {}, size {})\n",
                ino,
                nextents,
                extent_block,
                parent,
                nlink,
                size
            ));
        }
        let inline = core::array::from_fn(|i| Extent::decode(&b[80 + EXTENT_SIZE * i..]));
        Ok(RawInode {
            mode,
            nlink,
            uid: le32(b, 8),
            gid: le32(b, 12),
            size,
            times,
            nextents,
            extent_block,
            parent,
            inline,
        })
    }
}

impl RawInode {
    /// Encodes inode `ino`, with its checksum.
    pub(crate) fn encode(&self, ino: u32) -> [u8; INODE_SIZE] {
        let mut b = [0u8; INODE_SIZE];
        put16(&mut b, 0, self.mode);
        put32(&mut b, 4, self.nlink);
        put32(&mut b, 8, self.uid);
        put32(&mut b, 12, self.gid);
        put64(&mut b, 16, self.size);
        for (i, (sec, nsec)) in self.times.iter().enumerate() {
            put64(&mut b, 24 + 8 * i, *sec as u64);
            put32(&mut b, 48 + 4 * i, *nsec);
        }
        put32(&mut b, 60, self.nextents);
        put64(&mut b, 64, self.extent_block);
        put32(&mut b, 72, self.parent);
        for (i, e) in self.inline.iter().enumerate().take(self.nextents as usize) {
            let at = 80 + EXTENT_SIZE * i;
            put64(&mut b, at, e.file_block);
            put64(&mut b, at + 8, e.disk_block);
            put32(&mut b, at + 16, e.len);
            put32(&mut b, at + 20, e.flags);
        }
        let crc = crc32c(&[&ino.to_le_bytes(), &b[..252]]);
        put32(&mut b, 252, crc);
        b
    }
}

/// Records an extent block holds.
pub(crate) fn extents_per_block(block_size: u64) -> usize {
    (block_size as usize - EXTENT_BLOCK_HEADER) / EXTENT_SIZE
}

/// Checks the header of extent block `block` of inode `ino`; returns its record count and the
/// next block of the chain.
pub(crate) fn decode_extent_block(b: &[u8], block: u64, ino: u32) -> Result<(usize, u64)> {
    let count = le32(b, 4) as usize;
    let crc = crc32c(&[&b[..20], &[0; 4], &b[24..]]);
    if le32(b, 0) != EXTENT_BLOCK_MAGIC
        || le32(b, 20) != crc
        || le32(b, 16) != ino
        || count == 0
        || count > extents_per_block(b.len() as u64)
        || le64(b, 24) != 0
    {
        return Err(corrupt!("inode {}: bad extent block {}\n", ino, block));
    }
    Ok((count, le64(b, 8)))
}

/// A directory entry.
pub(crate) struct Dirent<'a> {
    pub(crate) ino: u32,
    pub(crate) file_type: u8,
    pub(crate) name: &'a [u8],
}

/// Decodes the directory entry at `b` (256 bytes) of directory `dir`: `None` for an empty slot.
pub(crate) fn decode_dirent<'a>(b: &'a [u8], dir: u32, inodes: u32) -> Result<Option<Dirent<'a>>> {
    let ino = le32(b, 0);
    if ino == 0 {
        return if b[..DIRENT_SIZE].iter().all(|&x| x == 0) {
            Ok(None)
        } else {
            Err(corrupt!("directory {}: empty slot is not zeroed\n", dir))
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
        return Err(corrupt!("directory {}: bad entry for inode {}\n", dir, ino));
    }
    Ok(Some(Dirent {
        ino,
        file_type: b[5],
        name: &b[6..6 + len],
    }))
}
