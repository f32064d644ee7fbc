// SPDX-License-Identifier: GPL-2.0

//! The on-disk format of xtfs, version 1, for the userspace tools.
//!
//! `Documentation/filesystems/xtfs.rst` is the specification; this file and
//! `samples/rust/xtfs/format.rs` (the kernel's reader) both follow it. Every
//! decoder here checks what it decodes and returns a message naming what is
//! wrong, so `fsck.xtfs` can report it.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

pub const MAGIC: u32 = 0x5346_5458;
pub const EXTENT_BLOCK_MAGIC: u32 = 0x4245_5458;
pub const VERSION: u32 = 1;
pub const MIN_BLOCK_BITS: u32 = 9;
pub const MAX_BLOCK_BITS: u32 = 12;
pub const INODE_SIZE: usize = 256;
pub const ROOT_INO: u32 = 1;
pub const INLINE_EXTENTS: usize = 7;
pub const EXTENT_SIZE: usize = 24;
pub const EXTENT_BLOCK_HEADER: usize = 32;
pub const DIRENT_SIZE: usize = 256;
pub const NAME_MAX: usize = 250;
pub const SB_CRC_OFFSET: usize = 508;
pub const EXTENT_UNWRITTEN: u32 = 1;

pub const S_IFMT: u16 = 0o170000;
pub const S_IFREG: u16 = 0o100000;
pub const S_IFDIR: u16 = 0o040000;
pub const S_IFLNK: u16 = 0o120000;
pub const DT_REG: u8 = 8;
pub const DT_DIR: u8 = 4;
pub const DT_LNK: u8 = 10;

/// CRC32C (Castagnoli), reflected, as the kernel's `crc32c()`: `crc32c(!0, data) ^ !0` is the
/// checksum of `data`.
pub fn crc32c_update(mut crc: u32, data: &[u8]) -> u32 {
    const fn table() -> [u32; 256] {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0x82f6_3b78
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    }
    static TABLE: [u32; 256] = table();
    for &b in data {
        crc = TABLE[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// The checksum of the concatenation of `parts`.
pub fn crc32c(parts: &[&[u8]]) -> u32 {
    parts.iter().fold(!0, |crc, p| crc32c_update(crc, p)) ^ !0
}

pub fn le16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}
pub fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}
pub fn le64(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}
pub fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
pub fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
pub fn put64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// The superblock.
#[derive(Clone, Debug, Default)]
pub struct Super {
    pub block_bits: u32,
    pub blocks: u64,
    pub inodes: u32,
    pub bitmap_start: u64,
    pub bitmap_blocks: u64,
    pub itable_start: u64,
    pub itable_blocks: u64,
    pub data_start: u64,
    pub uuid: [u8; 16],
}

impl Super {
    pub fn block_size(&self) -> u64 {
        1 << self.block_bits
    }

    /// The geometry mkfs gives a filesystem of `blocks` blocks with `inodes` inodes, or why
    /// there is none.
    pub fn layout(block_bits: u32, blocks: u64, inodes: u32) -> Result<Super, String> {
        if !(MIN_BLOCK_BITS..=MAX_BLOCK_BITS).contains(&block_bits) {
            return Err(format!(
                "block size {} not supported (512 to 4096)",
                1u64 << block_bits
            ));
        }
        if inodes == 0 {
            return Err("at least one inode is needed".into());
        }
        let bs = 1u64 << block_bits;
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
            uuid: [0; 16],
        };
        if sb.data_start >= blocks {
            return Err(format!(
                "{} blocks hold no data after {} blocks of metadata",
                blocks, sb.data_start
            ));
        }
        Ok(sb)
    }

    pub fn encode(&self) -> [u8; 512] {
        let mut b = [0u8; 512];
        put32(&mut b, 0, MAGIC);
        put32(&mut b, 4, VERSION);
        put32(&mut b, 8, self.block_bits);
        put64(&mut b, 16, self.blocks);
        put32(&mut b, 24, self.inodes);
        put32(&mut b, 28, INODE_SIZE as u32);
        put64(&mut b, 32, self.bitmap_start);
        put64(&mut b, 40, self.bitmap_blocks);
        put64(&mut b, 48, self.itable_start);
        put64(&mut b, 56, self.itable_blocks);
        put64(&mut b, 64, self.data_start);
        put32(&mut b, 72, ROOT_INO);
        b[96..112].copy_from_slice(&self.uuid);
        let crc = crc32c(&[&b[..SB_CRC_OFFSET]]);
        put32(&mut b, SB_CRC_OFFSET, crc);
        b
    }

    /// Decodes and checks a superblock read from a device of `dev_bytes` bytes.
    pub fn decode(b: &[u8], dev_bytes: u64) -> Result<Super, String> {
        if le32(b, 0) != MAGIC {
            return Err(format!("bad magic {:#x}", le32(b, 0)));
        }
        if le32(b, SB_CRC_OFFSET) != crc32c(&[&b[..SB_CRC_OFFSET]]) {
            return Err("superblock checksum mismatch".into());
        }
        if le32(b, 4) != VERSION {
            return Err(format!("unsupported version {}", le32(b, 4)));
        }
        if le32(b, 28) != INODE_SIZE as u32 || le32(b, 72) != ROOT_INO || le32(b, 12) != 0 {
            return Err("bad inode size, root inode or flags".into());
        }
        let block_bits = le32(b, 8);
        let blocks = le64(b, 16);
        let inodes = le32(b, 24);
        let mut sb = Super::layout(block_bits, blocks, inodes)?;
        let fields = [
            ("bitmap_start", le64(b, 32), sb.bitmap_start),
            ("bitmap_blocks", le64(b, 40), sb.bitmap_blocks),
            ("itable_start", le64(b, 48), sb.itable_start),
            ("itable_blocks", le64(b, 56), sb.itable_blocks),
            ("data_start", le64(b, 64), sb.data_start),
        ];
        for (name, got, want) in fields {
            if got != want {
                return Err(format!("{name} is {got}, the geometry says {want}"));
            }
        }
        if blocks
            .checked_mul(sb.block_size())
            .is_none_or(|bytes| bytes > dev_bytes)
        {
            return Err(format!(
                "{} blocks of {} bytes do not fit the device ({} bytes)",
                blocks,
                sb.block_size(),
                dev_bytes
            ));
        }
        sb.uuid.copy_from_slice(&b[96..112]);
        Ok(sb)
    }
}

/// An extent record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    pub file_block: u64,
    pub disk_block: u64,
    pub len: u32,
    pub flags: u32,
}

impl Extent {
    pub fn decode(b: &[u8]) -> Extent {
        Extent {
            file_block: le64(b, 0),
            disk_block: le64(b, 8),
            len: le32(b, 16),
            flags: le32(b, 20),
        }
    }

    pub fn encode(&self, b: &mut [u8]) {
        put64(b, 0, self.file_block);
        put64(b, 8, self.disk_block);
        put32(b, 16, self.len);
        put32(b, 20, self.flags);
    }
}

/// An inode as stored, before its extent chain is read.
#[derive(Clone, Debug, Default)]
pub struct RawInode {
    pub mode: u16,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub times: [(i64, u32); 3],
    pub nextents: u32,
    pub extent_block: u64,
    pub parent: u32,
    pub inline: Vec<Extent>,
}

impl RawInode {
    pub fn encode(&self, ino: u32) -> [u8; INODE_SIZE] {
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
        for (i, e) in self.inline.iter().enumerate() {
            e.encode(&mut b[80 + EXTENT_SIZE * i..]);
        }
        let crc = crc32c(&[&ino.to_le_bytes(), &b[..252]]);
        put32(&mut b, 252, crc);
        b
    }

    /// Decodes inode `ino`: `Ok(None)` for a free inode, `Err` for a bad one.
    pub fn decode(b: &[u8], ino: u32) -> Result<Option<RawInode>, String> {
        let mode = le16(b, 0);
        if mode == 0 {
            return if b[..INODE_SIZE].iter().all(|&x| x == 0) {
                Ok(None)
            } else {
                Err("free inode (mode 0) is not all zero".into())
            };
        }
        if le32(b, 252) != crc32c(&[&ino.to_le_bytes(), &b[..252]]) {
            return Err("checksum mismatch".into());
        }
        if !matches!(mode & S_IFMT, S_IFREG | S_IFDIR | S_IFLNK) {
            return Err(format!("bad file type in mode {mode:o}"));
        }
        let mut times = [(0i64, 0u32); 3];
        for (i, t) in times.iter_mut().enumerate() {
            *t = (le64(b, 24 + 8 * i) as i64, le32(b, 48 + 4 * i));
            if t.1 >= 1_000_000_000 {
                return Err(format!("nanoseconds {} out of range", t.1));
            }
        }
        let nextents = le32(b, 60);
        let extent_block = le64(b, 64);
        if (nextents as usize <= INLINE_EXTENTS) != (extent_block == 0) {
            return Err(format!(
                "{nextents} extents but extent block {extent_block}"
            ));
        }
        if le16(b, 2) != 0 || le32(b, 76) != 0 || le32(b, 248) != 0 {
            return Err("reserved fields are not zero".into());
        }
        let parent = le32(b, 72);
        if (mode & S_IFMT == S_IFDIR) != (parent != 0) {
            return Err(format!("parent {parent} for mode {mode:o}"));
        }
        let inline = (0..(nextents as usize).min(INLINE_EXTENTS))
            .map(|i| Extent::decode(&b[80 + EXTENT_SIZE * i..]))
            .collect();
        Ok(Some(RawInode {
            mode,
            nlink: le32(b, 4),
            uid: le32(b, 8),
            gid: le32(b, 12),
            size: le64(b, 16),
            times,
            nextents,
            extent_block,
            parent,
            inline,
        }))
    }
}

/// Records an extent block holds.
pub fn extents_per_block(block_size: u64) -> usize {
    (block_size as usize - EXTENT_BLOCK_HEADER) / EXTENT_SIZE
}

/// The checksum of an extent block (its crc field counted as zero).
pub fn extent_block_crc(b: &[u8]) -> u32 {
    crc32c(&[&b[..20], &[0; 4], &b[24..]])
}

/// A directory entry.
#[derive(Clone, Debug)]
pub struct Dirent {
    pub ino: u32,
    pub file_type: u8,
    pub name: Vec<u8>,
}

impl Dirent {
    /// `Ok(None)` for an empty slot.
    pub fn decode(b: &[u8]) -> Result<Option<Dirent>, String> {
        let ino = le32(b, 0);
        if ino == 0 {
            return if b[..DIRENT_SIZE].iter().all(|&x| x == 0) {
                Ok(None)
            } else {
                Err("empty slot is not all zero".into())
            };
        }
        let len = b[4] as usize;
        if len == 0 || len > NAME_MAX {
            return Err(format!("name length {len}"));
        }
        let name = &b[6..6 + len];
        if name.iter().any(|&c| c == 0 || c == b'/') || name == b"." || name == b".." {
            return Err(format!("bad name {:?}", String::from_utf8_lossy(name)));
        }
        if b[6 + len..DIRENT_SIZE].iter().any(|&x| x != 0) {
            return Err("bytes after the name are not zero".into());
        }
        Ok(Some(Dirent {
            ino,
            file_type: b[5],
            name: name.to_vec(),
        }))
    }
}

/// A device or image file, read and written in whole blocks.
pub struct Device {
    pub file: File,
    pub bytes: u64,
}

impl Device {
    pub fn open(path: &str, write: bool) -> io::Result<Device> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(write)
            .open(path)?;
        // lseek(SEEK_END) gives the size of block devices and files alike.
        let bytes = io::Seek::seek(&mut &file, io::SeekFrom::End(0))?;
        Ok(Device { file, bytes })
    }

    pub fn read(&self, off: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.file.read_exact_at(&mut buf, off)?;
        Ok(buf)
    }

    pub fn write(&self, off: u64, buf: &[u8]) -> io::Result<()> {
        self.file.write_all_at(buf, off)
    }
}
