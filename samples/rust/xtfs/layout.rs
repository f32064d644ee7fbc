// SPDX-License-Identifier: GPL-2.0

//! Where every field of xtfs's on-disk structures lives (`Documentation/filesystems/xtfs.rst`).
//!
//! One definition for the kernel module (`format.rs` checks what it decodes with this) and its
//! userspace tools (`tools/testing/xtfs/src/lib.rs` includes this file), so the two cannot
//! disagree about the layout. Only `core`; checksums are computed by the caller's CRC32C.
//! Decoding here does not check anything: the callers do, each reporting in its own way.

// Shared with the tools, which export these items from their library (hence `pub`): in the
// module they are private to the crate, and not every item is used by both sides.
#![allow(dead_code, unreachable_pub)]

pub const MAGIC: u32 = 0x5346_5458;
/// The most links an inode may have (a directory: 2 plus its subdirectories), as ext4's.
pub const LINK_MAX: u32 = 65000;
pub const EXTENT_BLOCK_MAGIC: u32 = 0x4245_5458;
pub const VERSION: u32 = 2;
/// Offsets of the format-2 superblock fields after those of format 1.
pub const SB_LOG_START: usize = 80;
pub const SB_LOG_BLOCKS: usize = 88;
/// The first inode of the orphan list (0: empty), the only superblock field that changes.
pub const SB_ORPHAN_HEAD: usize = 112;
/// The smallest and largest log region, in blocks.
pub const LOG_MIN_BLOCKS: u64 = 16;
pub const LOG_MAX_BLOCKS: u64 = 1 << 16;
pub const LOG_MAGIC: u32 = 0x4c47_5458;
/// The bytes of the log header before its reserved (zero) part.
pub const LOG_HEADER: usize = 32;
pub const SB_BYTES: usize = 512;
pub const SB_CRC_OFFSET: usize = 508;
pub const INODE_SIZE: usize = 256;
pub const INODE_CRC_OFFSET: usize = 252;
/// In an inode without links that is on the orphan list: the next one (0: the last).
pub const INODE_NEXT_ORPHAN: usize = 248;
pub const ROOT_INO: u32 = 1;
pub const INLINE_EXTENTS: usize = 7;
pub const EXTENT_SIZE: usize = 24;
pub const EXTENT_BLOCK_HEADER: usize = 32;
pub const DIRENT_SIZE: usize = 256;
pub const NAME_MAX: usize = 250;
pub const EXTENT_UNWRITTEN: u32 = 1;

pub const S_IFMT: u16 = 0o170000;
pub const S_IFREG: u16 = 0o100000;
pub const S_IFDIR: u16 = 0o040000;
pub const S_IFLNK: u16 = 0o120000;
pub const DT_REG: u8 = 8;
pub const DT_DIR: u8 = 4;
pub const DT_LNK: u8 = 10;

pub fn le16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

pub fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

pub fn le64(b: &[u8], off: usize) -> u64 {
    (le32(b, off) as u64) | ((le32(b, off + 4) as u64) << 32)
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

/// An extent record: `len` blocks of the file from `file_block` at device block `disk_block`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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

    /// The file block after the extent (it may overflow only in records not checked yet).
    pub fn end(&self) -> u64 {
        self.file_block.wrapping_add(self.len as u64)
    }
}

/// An inode's fields as stored; the extents beyond the inline ones are in its extent chain.
#[derive(Clone, Debug, Default)]
pub struct RawInode {
    pub mode: u16,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// Access, modification and change times: seconds and nanoseconds.
    pub times: [(i64, u32); 3],
    pub nextents: u32,
    pub extent_block: u64,
    pub parent: u32,
    /// The first `min(nextents, INLINE_EXTENTS)` are the inode's first extents.
    pub inline: [Extent; INLINE_EXTENTS],
}

impl RawInode {
    /// The fields of the 256 bytes at `b`, unchecked.
    pub fn fields(b: &[u8]) -> RawInode {
        let mut inline = [Extent::default(); INLINE_EXTENTS];
        for (i, e) in inline.iter_mut().enumerate() {
            *e = Extent::decode(&b[80 + EXTENT_SIZE * i..]);
        }
        RawInode {
            mode: le16(b, 0),
            nlink: le32(b, 4),
            uid: le32(b, 8),
            gid: le32(b, 12),
            size: le64(b, 16),
            times: [0, 1, 2].map(|i| (le64(b, 24 + 8 * i) as i64, le32(b, 48 + 4 * i))),
            nextents: le32(b, 60),
            extent_block: le64(b, 64),
            parent: le32(b, 72),
            inline,
        }
    }

    /// The inline extents in use.
    pub fn inline_extents(&self) -> &[Extent] {
        &self.inline[..(self.nextents as usize).min(INLINE_EXTENTS)]
    }

    /// The checksum inode `ino` must carry: `crc32c` of its number and its first 252 bytes,
    /// with `crc32c(parts)` the checksum of the concatenation of `parts`.
    pub fn checksum(b: &[u8], ino: u32, crc32c: impl Fn(&[&[u8]]) -> u32) -> u32 {
        crc32c(&[&ino.to_le_bytes(), &b[..INODE_CRC_OFFSET]])
    }

    /// Encodes inode `ino` with its checksum; unused inline slots are zero.
    pub fn encode(&self, ino: u32, crc32c: impl Fn(&[&[u8]]) -> u32) -> [u8; INODE_SIZE] {
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
        for (i, e) in self.inline_extents().iter().enumerate() {
            e.encode(&mut b[80 + EXTENT_SIZE * i..]);
        }
        let crc = Self::checksum(&b, ino, crc32c);
        put32(&mut b, INODE_CRC_OFFSET, crc);
        b
    }
}

/// Sets the orphan list's next inode in `b`, the encoded inode `ino`, and its checksum.
pub fn set_next_orphan(b: &mut [u8], ino: u32, next: u32, crc32c: impl Fn(&[&[u8]]) -> u32) {
    put32(b, INODE_NEXT_ORPHAN, next);
    let crc = RawInode::checksum(b, ino, crc32c);
    put32(b, INODE_CRC_OFFSET, crc);
}

/// Sets the orphan list's first inode in superblock `b` and its checksum.
pub fn set_orphan_head(b: &mut [u8], head: u32, crc32c: impl Fn(&[&[u8]]) -> u32) {
    put32(b, SB_ORPHAN_HEAD, head);
    let crc = crc32c(&[&b[..SB_CRC_OFFSET]]);
    put32(b, SB_CRC_OFFSET, crc);
}

/// Records an extent block of `block_size` bytes holds.
pub fn extents_per_block(block_size: u64) -> usize {
    (block_size as usize - EXTENT_BLOCK_HEADER) / EXTENT_SIZE
}

/// The checksum of extent block `b`: `crc32c` of the block with its checksum field zeroed.
pub fn extent_block_checksum(b: &[u8], crc32c: impl Fn(&[&[u8]]) -> u32) -> u32 {
    crc32c(&[&b[..20], &[0; 4], &b[24..]])
}

/// Encodes into `b` (a whole block, zeroed by this) an extent block of inode `ino` holding
/// `records` (at most [`extents_per_block`]), followed in the chain by block `next` (0: last).
pub fn encode_extent_block(
    b: &mut [u8],
    records: &[Extent],
    next: u64,
    ino: u32,
    crc32c: impl Fn(&[&[u8]]) -> u32,
) {
    b.fill(0);
    put32(b, 0, EXTENT_BLOCK_MAGIC);
    put32(b, 4, records.len() as u32);
    put64(b, 8, next);
    put32(b, 16, ino);
    for (j, e) in records.iter().enumerate() {
        e.encode(&mut b[EXTENT_BLOCK_HEADER + EXTENT_SIZE * j..]);
    }
    let crc = extent_block_checksum(b, crc32c);
    put32(b, 20, crc);
}

/// Encodes directory entry `name` for inode `ino` of type `file_type` into the 256 bytes at
/// `b`; `name` is at most [`NAME_MAX`] bytes.
pub fn encode_dirent(b: &mut [u8], ino: u32, file_type: u8, name: &[u8]) {
    b[..DIRENT_SIZE].fill(0);
    put32(b, 0, ino);
    b[4] = name.len() as u8;
    b[5] = file_type;
    b[6..6 + name.len()].copy_from_slice(name);
}

/// The log region mkfs gives a filesystem of `blocks` blocks: 1/32 of it, within the limits.
pub fn default_log_blocks(blocks: u64) -> u64 {
    (blocks / 32).clamp(LOG_MIN_BLOCKS, 4096)
}

/// The blocks of a log's block list for `count` images.
pub fn log_index_blocks(count: usize, block_size: u64) -> u64 {
    (count as u64 * 8).div_ceil(block_size)
}

/// The most images a log region of `log_blocks` blocks holds: the header, the block list and
/// the images fit in it.
pub fn log_capacity(log_blocks: u64, block_size: u64) -> usize {
    let mut n = (log_blocks.saturating_sub(1) * block_size / (block_size + 8)) as usize;
    while n > 0 && 1 + log_index_blocks(n, block_size) + n as u64 > log_blocks {
        n -= 1;
    }
    n
}

/// The header of the log, its first block: a committed transaction of `count` block images
/// (the block list follows in the next blocks, then the images), numbered `seq`, checksummed
/// by `crc`. The rest of the block is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogHeader {
    pub magic: u32,
    pub count: u32,
    pub seq: u64,
    pub crc: u32,
}

impl LogHeader {
    pub fn decode(b: &[u8]) -> LogHeader {
        LogHeader {
            magic: le32(b, 0),
            count: le32(b, 4),
            seq: le64(b, 8),
            crc: le32(b, 16),
        }
    }

    /// Encodes the header into `b`, a whole block, zeroing the rest.
    pub fn encode(&self, b: &mut [u8]) {
        b.fill(0);
        put32(b, 0, self.magic);
        put32(b, 4, self.count);
        put64(b, 8, self.seq);
        put32(b, 16, self.crc);
    }

    /// The state of the checksum after header block `b`, its crc field counted as zero:
    /// `update(crc, bytes)` is CRC32C's update (`!0` the initial value). The block list and
    /// the images follow; the checksum is the final state inverted.
    pub fn checksum_start(b: &[u8], update: impl Fn(u32, &[u8]) -> u32) -> u32 {
        let crc = update(!0, &b[..16]);
        let crc = update(crc, &[0; 4]);
        update(crc, &b[20..])
    }

    pub fn set_crc(b: &mut [u8], crc: u32) {
        put32(b, 16, crc);
    }

    /// Encodes into `b`, a whole block, the header of an empty log (after a checkpoint, or
    /// made by mkfs): no images, its checksum that of the header alone; `update` as for
    /// [`LogHeader::checksum_start`].
    pub fn encode_empty(b: &mut [u8], seq: u64, update: impl Fn(u32, &[u8]) -> u32) {
        LogHeader {
            magic: LOG_MAGIC,
            count: 0,
            seq,
            crc: 0,
        }
        .encode(b);
        let crc = !Self::checksum_start(b, update);
        Self::set_crc(b, crc);
    }
}
