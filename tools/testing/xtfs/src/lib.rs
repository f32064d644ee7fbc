// SPDX-License-Identifier: GPL-2.0

//! The on-disk format of xtfs, version 2, for the userspace tools.
//!
//! `Documentation/filesystems/xtfs.rst` is the specification; this file and
//! `samples/rust/xtfs/format.rs` (the kernel's reader) both follow it. Every
//! decoder here checks what it decodes and returns a message naming what is
//! wrong, so `fsck.xtfs` can report it.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

// Where every field lives: the kernel module's own definition, shared.
#[path = "../../../../samples/rust/xtfs/layout.rs"]
mod layout;
pub use layout::*;

pub const MIN_BLOCK_BITS: u32 = 9;
pub const MAX_BLOCK_BITS: u32 = 12;

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
    pub log_start: u64,
    pub log_blocks: u64,
    pub data_start: u64,
    pub uuid: [u8; 16],
    /// The first inode of the orphan list, 0 if it is empty (as the superblock has it: the
    /// log may hold a newer superblock).
    pub orphan_head: u32,
}

impl Super {
    pub fn block_size(&self) -> u64 {
        1 << self.block_bits
    }

    /// The geometry mkfs gives a filesystem of `blocks` blocks with `inodes` inodes and a log
    /// of `log_blocks` blocks, or why there is none.
    pub fn layout(
        block_bits: u32,
        blocks: u64,
        inodes: u32,
        log_blocks: u64,
    ) -> Result<Super, String> {
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
        if !(LOG_MIN_BLOCKS..=LOG_MAX_BLOCKS).contains(&log_blocks) {
            return Err(format!(
                "a log of {log_blocks} blocks (from {LOG_MIN_BLOCKS} to {LOG_MAX_BLOCKS})"
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
            uuid: [0; 16],
            orphan_head: 0,
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
        put64(&mut b, SB_LOG_START, self.log_start);
        put64(&mut b, SB_LOG_BLOCKS, self.log_blocks);
        b[96..112].copy_from_slice(&self.uuid);
        put32(&mut b, SB_ORPHAN_HEAD, self.orphan_head);
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
        if le32(b, 4) == 1 {
            return Err("format 1 (no journal) is not supported: make the filesystem again".into());
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
        let mut sb = Super::layout(block_bits, blocks, inodes, le64(b, SB_LOG_BLOCKS))?;
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
        sb.orphan_head = le32(b, SB_ORPHAN_HEAD);
        Ok(sb)
    }
}

impl Super {
    /// Whether block `block` may be in the log: the bitmap, the inode table, the data area.
    pub fn journaled(&self, block: u64) -> bool {
        block < self.log_start || (self.data_start..self.blocks).contains(&block)
    }
}

/// What the log of a filesystem holds.
pub enum Log {
    /// A committed transaction: its sequence number and the block images to replay, by home
    /// block.
    Committed(u64, Vec<(u64, Vec<u8>)>),
    /// No transaction (empty after a checkpoint, or torn while it was written): its sequence
    /// number.
    Empty(u64),
}

/// Reads the log of `sb` from `dev`: `Err` names what is wrong with a log no commit writes.
pub fn read_log(dev: &Device, sb: &Super) -> Result<Log, String> {
    let bs = sb.block_size();
    let io = |e: io::Error| format!("reading the log: {e}");
    let head = dev.read(sb.log_start * bs, bs as usize).map_err(io)?;
    let h = LogHeader::decode(&head);
    if h.magic != LOG_MAGIC {
        return Err(format!("no log header (magic {:#x})", h.magic));
    }
    let capacity = log_capacity(sb.log_blocks, bs);
    let count = h.count as usize;
    if count > capacity {
        return Err(format!("{count} blocks in a log of {capacity}"));
    }
    let index_blocks = log_index_blocks(count, bs);
    let index = dev
        .read((sb.log_start + 1) * bs, (index_blocks * bs) as usize)
        .map_err(io)?;
    let images = dev
        .read((sb.log_start + 1 + index_blocks) * bs, count * bs as usize)
        .map_err(io)?;
    let crc = LogHeader::checksum_start(&head, crc32c_update);
    let crc = !crc32c_update(crc32c_update(crc, &index), &images);
    if crc != h.crc {
        // Torn: the transaction before it is home.
        return Ok(Log::Empty(h.seq));
    }
    let mut out = Vec::with_capacity(count);
    let mut prev = None;
    for i in 0..count {
        let block = le64(&index, 8 * i);
        if !sb.journaled(block) || prev.is_some_and(|p| p >= block) {
            return Err(format!(
                "transaction {}: block {block} cannot be in the log",
                h.seq
            ));
        }
        prev = Some(block);
        let at = i * bs as usize;
        out.push((block, images[at..at + bs as usize].to_vec()));
    }
    if index[8 * count..].iter().any(|&b| b != 0) {
        return Err(format!("transaction {}: bad block list", h.seq));
    }
    Ok(if count == 0 {
        Log::Empty(h.seq)
    } else {
        Log::Committed(h.seq, out)
    })
}

/// Writes an empty log with sequence number `seq` for `sb` on `dev`.
pub fn write_empty_log(dev: &Device, sb: &Super, seq: u64) -> io::Result<()> {
    let mut head = vec![0u8; sb.block_size() as usize];
    LogHeader::encode_empty(&mut head, seq, crc32c_update);
    dev.write(sb.log_start * sb.block_size(), &head)
}

impl RawInode {
    /// Encodes inode `ino` with its checksum.
    pub fn encode_with_crc(&self, ino: u32) -> [u8; INODE_SIZE] {
        self.encode(ino, crc32c)
    }

    /// Whether inode slot `b` holds the checksum of inode `ino`.
    pub fn checksum_matches(b: &[u8], ino: u32) -> bool {
        le32(b, INODE_CRC_OFFSET) == RawInode::checksum(b, ino, crc32c)
    }

    /// Decodes inode `ino`: `Ok(None)` for a free inode, `Err` for a bad one.
    pub fn decode(b: &[u8], ino: u32) -> Result<Option<RawInode>, String> {
        if RawInode::fields(b).mode != 0 && !RawInode::checksum_matches(b, ino) {
            return Err("checksum mismatch".into());
        }
        RawInode::decode_fields(b)
    }

    /// [`RawInode::decode`] without the checksum: whether the fields make sense.
    pub fn decode_fields(b: &[u8]) -> Result<Option<RawInode>, String> {
        let raw = RawInode::fields(b);
        if raw.mode == 0 {
            return if b[..INODE_SIZE].iter().all(|&x| x == 0) {
                Ok(None)
            } else {
                Err("free inode (mode 0) is not all zero".into())
            };
        }
        if entry_type(raw.mode).is_none() {
            return Err(format!("bad file type in mode {:o}", raw.mode));
        }
        if let Some(t) = raw
            .times
            .iter()
            .chain([&raw.btime])
            .find(|t| t.1 >= 1_000_000_000)
        {
            return Err(format!("nanoseconds {} out of range", t.1));
        }
        if raw.depth > MAX_DEPTH {
            return Err(format!(
                "extent tree depth {} beyond {MAX_DEPTH}",
                raw.depth
            ));
        }
        if !raw.root_consistent() {
            return Err(format!(
                "{} extents, extent tree depth {} with {} entries in the root",
                raw.nextents, raw.depth, raw.root_count
            ));
        }
        if raw.rdev != 0 && !matches!(raw.mode & S_IFMT, S_IFCHR | S_IFBLK) {
            return Err(format!(
                "device number {:#x} for mode {:o}",
                raw.rdev, raw.mode
            ));
        }
        if is_special(raw.mode) && (raw.size != 0 || raw.nextents != 0) {
            return Err(format!(
                "special file (mode {:o}) with size {} and {} extents",
                raw.mode, raw.size, raw.nextents
            ));
        }
        if raw.nlink != 0 && le32(b, INODE_NEXT_ORPHAN) != 0 {
            return Err("an inode with links is on the orphan list".into());
        }
        if (raw.mode & S_IFMT == S_IFDIR) != (raw.parent != 0) {
            return Err(format!("parent {} for mode {:o}", raw.parent, raw.mode));
        }
        if raw.size > i64::MAX as u64 {
            return Err(format!("size {} beyond the largest file", raw.size));
        }
        if raw.flags & !INODE_FLAGS_KNOWN != 0 {
            return Err(format!("unknown flags {:#x}", raw.flags));
        }
        if raw.xattr_bytes as usize > INLINE_XATTR_BYTES {
            return Err(format!(
                "{} bytes of extended attributes in the inode (at most {INLINE_XATTR_BYTES})",
                raw.xattr_bytes
            ));
        }
        if let Some(off) = first_bad_xattr(raw.inline_xattrs(), raw.mode) {
            return Err(format!(
                "bad extended attribute entry at byte {off} of the inode's"
            ));
        }
        Ok(Some(raw))
    }
}

/// What is wrong with extended attribute block `b`, read from device block `block` as the block
/// of inode `ino` of generation `generation`; its entries' bytes if nothing is.
pub fn check_xattr_block(b: &[u8], ino: u32, generation: u32) -> Result<&[u8], String> {
    let h = XattrHeader::decode(b);
    if h.magic != XATTR_MAGIC {
        return Err(format!("bad magic {:#x}", h.magic));
    }
    if h.crc != XattrHeader::checksum(b, crc32c) {
        return Err("checksum mismatch".into());
    }
    if h.ino != ino || h.generation != generation {
        return Err(format!(
            "a block of inode {} generation {} (a stale block, or another's)",
            h.ino, h.generation
        ));
    }
    let Some(entries) = b.get(XATTR_HEADER..XATTR_HEADER + h.bytes as usize) else {
        return Err(format!("{} bytes of entries", h.bytes));
    };
    if h.bytes == 0 {
        return Err("no entries".into());
    }
    if let Some(Err(off)) = XattrEntries::new(entries).find(|e| e.is_err()) {
        return Err(format!("bad entry at byte {off} of the entries"));
    }
    if b[20..XATTR_HEADER].iter().any(|&x| x != 0) {
        return Err("reserved header bytes are not zero".into());
    }
    Ok(entries)
}

/// What is wrong with the header of extent tree node `b`, read from device block `block` as a
/// node of `level` of the tree of inode `ino` of generation `generation`; its record count if
/// nothing is.
pub fn check_node(
    b: &[u8],
    block: u64,
    ino: u32,
    generation: u32,
    level: u16,
) -> Result<usize, String> {
    let h = NodeHeader::decode(b);
    let cap = if level == 0 {
        leaf_capacity(b.len() as u64)
    } else {
        index_capacity(b.len() as u64)
    };
    if h.magic != NODE_MAGIC {
        return Err(format!("bad magic {:#x}", h.magic));
    }
    if h.crc != node_checksum(b, crc32c) {
        return Err("checksum mismatch".into());
    }
    if h.ino != ino || h.generation != generation {
        return Err(format!(
            "a node of inode {} generation {} (a stale node, or another's)",
            h.ino, h.generation
        ));
    }
    if h.block != block {
        return Err(format!("written for block {}", h.block));
    }
    if h.level != level {
        return Err(format!("level {}, expected {level}", h.level));
    }
    if h.reserved != 0 || h.count == 0 || h.count as usize > cap {
        return Err(format!(
            "{} records (at most {cap}), reserved field {}",
            h.count, h.reserved
        ));
    }
    Ok(h.count as usize)
}

/// A random inode generation (from the kernel's random pool), as the kernel gives new inodes.
pub fn new_generation() -> u32 {
    let mut b = [0u8; 4];
    if let Ok(f) = File::open("/dev/urandom") {
        let _ = f.read_exact_at(&mut b, 0);
    }
    u32::from_le_bytes(b)
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
    /// Blocks of `overlay_block_size` bytes that reads take from here, not the device: a log
    /// replayed in memory.
    pub overlay: std::collections::BTreeMap<u64, Vec<u8>>,
    pub overlay_block_size: u64,
}

impl Device {
    pub fn open(path: &str, write: bool) -> io::Result<Device> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(write)
            .open(path)?;
        // lseek(SEEK_END) gives the size of block devices and files alike.
        let bytes = io::Seek::seek(&mut &file, io::SeekFrom::End(0))?;
        Ok(Device::from_file(file, bytes))
    }

    fn from_file(file: File, bytes: u64) -> Device {
        Device {
            file,
            bytes,
            overlay: Default::default(),
            overlay_block_size: 0,
        }
    }

    /// Opens `path` for writing, refusing a block device that is in use (mounted: `EBUSY`),
    /// as e2fsck does before it repairs.
    pub fn open_exclusive(path: &str) -> io::Result<Device> {
        use std::os::unix::fs::OpenOptionsExt;
        // O_EXCL without O_CREAT: exclusive use of a block device, ignored for other files.
        const O_EXCL: i32 = 0o200;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(O_EXCL)
            .open(path)?;
        let bytes = io::Seek::seek(&mut &file, io::SeekFrom::End(0))?;
        Ok(Device::from_file(file, bytes))
    }

    pub fn read(&self, off: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.file.read_exact_at(&mut buf, off)?;
        let bs = self.overlay_block_size;
        if bs > 0 && len > 0 {
            let end = off + len as u64;
            for (&block, data) in self.overlay.range(off / bs..end.div_ceil(bs)) {
                let from = (block * bs).max(off);
                let to = (block * bs + bs).min(end);
                buf[(from - off) as usize..(to - off) as usize].copy_from_slice(
                    &data[(from - block * bs) as usize..(to - block * bs) as usize],
                );
            }
        }
        Ok(buf)
    }

    pub fn write(&self, off: u64, buf: &[u8]) -> io::Result<()> {
        self.file.write_all_at(buf, off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The representation of an ACL of `entries` (tag, permissions, ID).
    fn acl(entries: &[(u16, u16, u32)]) -> Vec<u8> {
        let mut v = ACL_VERSION.to_le_bytes().to_vec();
        for &(tag, perm, id) in entries {
            v.extend(tag.to_le_bytes());
            v.extend(perm.to_le_bytes());
            v.extend(id.to_le_bytes());
        }
        v
    }

    const UNDEF: u32 = u32::MAX;

    #[test]
    fn posix_acls_as_the_kernel_checks_them() {
        let minimal = [(0x01, 6, UNDEF), (0x04, 4, UNDEF), (0x20, 4, UNDEF)];
        assert!(posix_acl_valid(&acl(&minimal)));
        let named = [
            (0x01, 7, UNDEF),
            (0x02, 5, 1000),
            (0x02, 5, 1001),
            (0x04, 5, UNDEF),
            (0x08, 7, 50),
            (0x10, 7, UNDEF),
            (0x20, 0, UNDEF),
        ];
        assert!(posix_acl_valid(&acl(&named)));
        // A mask is allowed without named entries.
        let masked = [
            (0x01, 6, UNDEF),
            (0x04, 4, UNDEF),
            (0x10, 4, UNDEF),
            (0x20, 4, UNDEF),
        ];
        assert!(posix_acl_valid(&acl(&masked)));
        let bad: &[&[(u16, u16, u32)]] = &[
            &[],
            // No mask with a named user.
            &[
                (0x01, 7, UNDEF),
                (0x02, 5, 1000),
                (0x04, 5, UNDEF),
                (0x20, 0, UNDEF),
            ],
            // Out of order.
            &[(0x04, 4, UNDEF), (0x01, 6, UNDEF), (0x20, 4, UNDEF)],
            // No entry for the others.
            &[(0x01, 6, UNDEF), (0x04, 4, UNDEF)],
            // A permission beyond rwx.
            &[(0x01, 8, UNDEF), (0x04, 4, UNDEF), (0x20, 4, UNDEF)],
            // A named user without an ID.
            &[
                (0x01, 7, UNDEF),
                (0x02, 5, UNDEF),
                (0x04, 5, UNDEF),
                (0x10, 7, UNDEF),
                (0x20, 0, UNDEF),
            ],
            // An entry after the others'.
            &[
                (0x01, 6, UNDEF),
                (0x04, 4, UNDEF),
                (0x20, 4, UNDEF),
                (0x20, 4, UNDEF),
            ],
            // An unknown tag.
            &[
                (0x01, 6, UNDEF),
                (0x04, 4, UNDEF),
                (0x40, 4, UNDEF),
                (0x20, 4, UNDEF),
            ],
        ];
        for entries in bad {
            assert!(!posix_acl_valid(&acl(entries)), "{entries:?}");
        }
        let mut v = acl(&minimal);
        v[0] = 1;
        assert!(!posix_acl_valid(&v), "version 1");
        let mut v = acl(&minimal);
        v.push(0);
        assert!(!posix_acl_valid(&v), "a partial entry");
        assert!(!posix_acl_valid(&[2, 0]), "a partial header");
    }
}
