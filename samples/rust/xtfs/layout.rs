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
/// The magic of an extent tree node (the bytes `XTBN`).
pub const NODE_MAGIC: u32 = 0x4e42_5458;
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
pub const INODE_SIZE: usize = 512;
pub const INODE_CRC_OFFSET: usize = 508;
/// In an inode without links that is on the orphan list: the next one (0: the last).
pub const INODE_NEXT_ORPHAN: usize = 248;
pub const ROOT_INO: u32 = 1;
/// In an inode: its flags, `FS_*_FL` values of [`INODE_FLAGS_KNOWN`].
pub const INODE_FLAGS: usize = 252;
/// In an inode: its creation (birth) time, seconds (8 bytes) and nanoseconds (4 bytes).
pub const INODE_BTIME: usize = 256;
pub const INODE_BTIME_NSEC: usize = 264;
/// In an inode: the bytes of extended attribute entries at [`INODE_XATTRS`] (2 bytes).
pub const INODE_XATTR_BYTES: usize = 268;
/// In an inode: the block of its extended attributes that do not fit in it (0: none).
pub const INODE_XATTR_BLOCK: usize = 272;
/// In an inode: the extended attribute entries stored in it, [`INLINE_XATTR_BYTES`] at most.
pub const INODE_XATTRS: usize = 280;
pub const INLINE_XATTR_BYTES: usize = INODE_CRC_OFFSET - INODE_XATTRS;
/// The inode flags xtfs stores (`FS_SYNC_FL`, `FS_IMMUTABLE_FL`, `FS_APPEND_FL`,
/// `FS_NODUMP_FL`, `FS_NOATIME_FL`); an inode with others is corrupt.
pub const INODE_FLAGS_KNOWN: u32 = 0x8 | 0x10 | 0x20 | 0x40 | 0x80;
/// The magic of an extended attribute block (the bytes `XTXA`).
pub const XATTR_MAGIC: u32 = 0x4158_5458;
/// The header of an extended attribute block; its entries follow.
pub const XATTR_HEADER: usize = 32;
/// The header of an extended attribute entry: namespace (1 byte), name length (1 byte), value
/// length (2 bytes); the name and the value follow, unpadded.
pub const XATTR_ENTRY_HEADER: usize = 4;
/// The longest name of an extended attribute with its namespace's prefix (`XATTR_NAME_MAX`).
pub const XATTR_NAME_MAX: usize = 255;
/// The namespaces of extended attribute entries, with the prefix each stands for.
pub const XATTR_USER: u8 = 1;
pub const XATTR_TRUSTED: u8 = 2;
pub const XATTR_SECURITY: u8 = 3;
/// The POSIX ACLs, with an empty name: the access ACL and a directory's default ACL, each in
/// the representation of `system.posix_acl_access` (`struct posix_acl_xattr_header`, then its
/// entries, little-endian; IDs in the initial user namespace).
pub const XATTR_ACL_ACCESS: u8 = 4;
pub const XATTR_ACL_DEFAULT: u8 = 5;
/// In the inode of a device node: its device number (`new_encode_dev()`); 0 in others.
pub const INODE_RDEV: usize = 68;
/// In an inode: the depth of its extent tree (0: its extents are in the inode).
pub const INODE_DEPTH: usize = 2;
/// In an inode: its generation, random for each inode created in the slot, which the nodes of
/// its extent tree carry.
pub const INODE_GENERATION: usize = 64;
/// In an inode: the entries of the root of its extent tree, which are at `INODE_ROOT`: extent
/// records at depth 0, index entries above.
pub const INODE_ROOT_COUNT: usize = 76;
pub const INODE_ROOT: usize = 80;
/// The extent records the inode holds at depth 0.
pub const INLINE_EXTENTS: usize = 7;
/// The index entries the inode holds above depth 0.
pub const ROOT_INDEX: usize = 10;
pub const EXTENT_SIZE: usize = 24;
pub const INDEX_SIZE: usize = 16;
/// The header of an extent tree node; its records follow.
pub const NODE_HEADER: usize = 32;
/// The deepest extent tree: deep enough for more extents than blocks a device of 512-byte
/// blocks has up to 2^46 bytes.
pub const MAX_DEPTH: u16 = 8;
pub const DIRENT_SIZE: usize = 256;
pub const NAME_MAX: usize = 250;
pub const EXTENT_UNWRITTEN: u32 = 1;

pub const S_IFMT: u16 = 0o170000;
pub const S_IFREG: u16 = 0o100000;
pub const S_IFDIR: u16 = 0o040000;
pub const S_IFLNK: u16 = 0o120000;
pub const S_IFCHR: u16 = 0o020000;
pub const S_IFBLK: u16 = 0o060000;
pub const S_IFIFO: u16 = 0o010000;
pub const S_IFSOCK: u16 = 0o140000;
pub const DT_REG: u8 = 8;
pub const DT_DIR: u8 = 4;
pub const DT_LNK: u8 = 10;
pub const DT_CHR: u8 = 2;
pub const DT_BLK: u8 = 6;
pub const DT_FIFO: u8 = 1;
pub const DT_SOCK: u8 = 12;

/// The directory entry type of an inode of mode `mode` (`DT_*`); `None` for a mode of no
/// type xtfs has.
pub fn entry_type(mode: u16) -> Option<u8> {
    Some(match mode & S_IFMT {
        S_IFREG => DT_REG,
        S_IFDIR => DT_DIR,
        S_IFLNK => DT_LNK,
        S_IFCHR => DT_CHR,
        S_IFBLK => DT_BLK,
        S_IFIFO => DT_FIFO,
        S_IFSOCK => DT_SOCK,
        _ => return None,
    })
}

/// Whether inodes of mode `mode` are special files: device nodes, FIFOs and sockets, which
/// have no data (no size, no extents).
pub fn is_special(mode: u16) -> bool {
    matches!(mode & S_IFMT, S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK)
}

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

/// An entry of an interior node of an extent tree (or of its root in the inode): the subtree in
/// node `child` holds the extents of the file from file block `key` on, up to the next entry's
/// key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexEntry {
    pub key: u64,
    pub child: u64,
}

impl IndexEntry {
    pub fn decode(b: &[u8]) -> IndexEntry {
        IndexEntry {
            key: le64(b, 0),
            child: le64(b, 8),
        }
    }

    pub fn encode(&self, b: &mut [u8]) {
        put64(b, 0, self.key);
        put64(b, 8, self.child);
    }
}

/// An inode's fields as stored; the root of its extent tree is in it.
#[derive(Clone, Debug)]
pub struct RawInode {
    pub mode: u16,
    /// The depth of the extent tree: 0 when the extents are in the inode.
    pub depth: u16,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// Access, modification and change times: seconds and nanoseconds.
    pub times: [(i64, u32); 3],
    /// The number of extents of the inode.
    pub nextents: u32,
    pub generation: u32,
    pub parent: u32,
    /// A device node's device number, encoded as `new_encode_dev()` does.
    pub rdev: u32,
    /// The entries in the root: `inline` at depth 0, `index` above.
    pub root_count: u32,
    /// At depth 0, the first `root_count` are the inode's extents.
    pub inline: [Extent; INLINE_EXTENTS],
    /// Above depth 0, the first `root_count` are the root's index entries.
    pub index: [IndexEntry; ROOT_INDEX],
    /// `FS_*_FL` flags ([`INODE_FLAGS_KNOWN`]).
    pub flags: u32,
    /// Creation time: seconds and nanoseconds.
    pub btime: (i64, u32),
    /// The extended attribute entries in the inode: the first `xattr_bytes` of `xattrs`.
    pub xattr_bytes: u16,
    pub xattrs: [u8; INLINE_XATTR_BYTES],
    /// The block of the other extended attributes, 0 if none.
    pub xattr_block: u64,
}

impl Default for RawInode {
    fn default() -> RawInode {
        RawInode {
            mode: 0,
            depth: 0,
            nlink: 0,
            uid: 0,
            gid: 0,
            size: 0,
            times: [(0, 0); 3],
            nextents: 0,
            generation: 0,
            parent: 0,
            rdev: 0,
            root_count: 0,
            inline: [Extent::default(); INLINE_EXTENTS],
            index: [IndexEntry::default(); ROOT_INDEX],
            flags: 0,
            btime: (0, 0),
            xattr_bytes: 0,
            xattrs: [0; INLINE_XATTR_BYTES],
            xattr_block: 0,
        }
    }
}

impl RawInode {
    /// The fields of the [`INODE_SIZE`] bytes at `b`, unchecked.
    pub fn fields(b: &[u8]) -> RawInode {
        let mut inline = [Extent::default(); INLINE_EXTENTS];
        for (i, e) in inline.iter_mut().enumerate() {
            *e = Extent::decode(&b[INODE_ROOT + EXTENT_SIZE * i..]);
        }
        let mut index = [IndexEntry::default(); ROOT_INDEX];
        for (i, e) in index.iter_mut().enumerate() {
            *e = IndexEntry::decode(&b[INODE_ROOT + INDEX_SIZE * i..]);
        }
        RawInode {
            mode: le16(b, 0),
            depth: le16(b, INODE_DEPTH),
            nlink: le32(b, 4),
            uid: le32(b, 8),
            gid: le32(b, 12),
            size: le64(b, 16),
            times: [0, 1, 2].map(|i| (le64(b, 24 + 8 * i) as i64, le32(b, 48 + 4 * i))),
            nextents: le32(b, 60),
            generation: le32(b, INODE_GENERATION),
            parent: le32(b, 72),
            rdev: le32(b, INODE_RDEV),
            root_count: le32(b, INODE_ROOT_COUNT),
            inline,
            index,
            flags: le32(b, INODE_FLAGS),
            btime: (le64(b, INODE_BTIME) as i64, le32(b, INODE_BTIME_NSEC)),
            xattr_bytes: le16(b, INODE_XATTR_BYTES),
            xattrs: b[INODE_XATTRS..INODE_CRC_OFFSET]
                .try_into()
                .unwrap_or([0; INLINE_XATTR_BYTES]),
            xattr_block: le64(b, INODE_XATTR_BLOCK),
        }
    }

    /// The extended attribute entries in the inode, as far as `xattr_bytes` says (all of the
    /// area if it says more: the entries' check then fails).
    pub fn inline_xattrs(&self) -> &[u8] {
        &self.xattrs[..(self.xattr_bytes as usize).min(INLINE_XATTR_BYTES)]
    }

    /// Whether the root agrees with the extent count and depth: at depth 0 it holds the
    /// extents, at most [`INLINE_EXTENTS`]; deeper (at most [`MAX_DEPTH`]), a tree holds more,
    /// and the root 1 to [`ROOT_INDEX`] entries.
    pub fn root_consistent(&self) -> bool {
        if self.depth == 0 {
            self.nextents as usize <= INLINE_EXTENTS && self.root_count == self.nextents
        } else {
            self.depth <= MAX_DEPTH
                && self.nextents as usize > INLINE_EXTENTS
                && (1..=ROOT_INDEX as u32).contains(&self.root_count)
        }
    }

    /// The extents in the inode (at depth 0).
    pub fn inline_extents(&self) -> &[Extent] {
        let n = if self.depth == 0 { self.root_count } else { 0 };
        &self.inline[..(n as usize).min(INLINE_EXTENTS)]
    }

    /// The index entries of the root (above depth 0).
    pub fn root_index(&self) -> &[IndexEntry] {
        let n = if self.depth > 0 { self.root_count } else { 0 };
        &self.index[..(n as usize).min(ROOT_INDEX)]
    }

    /// The checksum inode `ino` must carry: `crc32c` of its number and its first 508 bytes,
    /// with `crc32c(parts)` the checksum of the concatenation of `parts`.
    pub fn checksum(b: &[u8], ino: u32, crc32c: impl Fn(&[&[u8]]) -> u32) -> u32 {
        crc32c(&[&ino.to_le_bytes(), &b[..INODE_CRC_OFFSET]])
    }

    /// Encodes inode `ino` with its checksum; unused inline slots are zero.
    pub fn encode(&self, ino: u32, crc32c: impl Fn(&[&[u8]]) -> u32) -> [u8; INODE_SIZE] {
        let mut b = [0u8; INODE_SIZE];
        put16(&mut b, 0, self.mode);
        put16(&mut b, INODE_DEPTH, self.depth);
        put32(&mut b, 4, self.nlink);
        put32(&mut b, 8, self.uid);
        put32(&mut b, 12, self.gid);
        put64(&mut b, 16, self.size);
        for (i, (sec, nsec)) in self.times.iter().enumerate() {
            put64(&mut b, 24 + 8 * i, *sec as u64);
            put32(&mut b, 48 + 4 * i, *nsec);
        }
        put32(&mut b, 60, self.nextents);
        put32(&mut b, INODE_GENERATION, self.generation);
        put32(&mut b, INODE_RDEV, self.rdev);
        put32(&mut b, 72, self.parent);
        put32(&mut b, INODE_ROOT_COUNT, self.root_count);
        for (i, e) in self.inline_extents().iter().enumerate() {
            e.encode(&mut b[INODE_ROOT + EXTENT_SIZE * i..]);
        }
        for (i, e) in self.root_index().iter().enumerate() {
            e.encode(&mut b[INODE_ROOT + INDEX_SIZE * i..]);
        }
        put32(&mut b, INODE_FLAGS, self.flags);
        put64(&mut b, INODE_BTIME, self.btime.0 as u64);
        put32(&mut b, INODE_BTIME_NSEC, self.btime.1);
        put16(&mut b, INODE_XATTR_BYTES, self.xattr_bytes);
        put64(&mut b, INODE_XATTR_BLOCK, self.xattr_block);
        let n = self.inline_xattrs().len();
        b[INODE_XATTRS..INODE_XATTRS + n].copy_from_slice(self.inline_xattrs());
        let crc = Self::checksum(&b, ino, crc32c);
        put32(&mut b, INODE_CRC_OFFSET, crc);
        b
    }
}

/// One extended attribute as stored: its namespace ([`XATTR_USER`] and so on), its name without
/// the namespace's prefix, and its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XattrEntry<'a> {
    pub namespace: u8,
    pub name: &'a [u8],
    pub value: &'a [u8],
}

impl XattrEntry<'_> {
    /// The bytes the entry takes.
    pub fn size(&self) -> usize {
        XATTR_ENTRY_HEADER + self.name.len() + self.value.len()
    }

    /// Whether the entry could be stored: a known namespace, a name of 1 to 255 bytes with its
    /// prefix and no NUL (none for an ACL), a value of at most 65535 bytes. An ACL's value is
    /// checked where it is used ([`posix_acl_valid`]).
    pub fn valid(&self) -> bool {
        let acl = matches!(self.namespace, XATTR_ACL_ACCESS | XATTR_ACL_DEFAULT);
        xattr_prefix(self.namespace).is_some_and(|p| {
            self.name.is_empty() == acl
                && p.len() + self.name.len() <= XATTR_NAME_MAX
                && !self.name.contains(&0)
                && self.value.len() <= u16::MAX as usize
        })
    }

    /// Writes the entry at the start of `b`, which holds [`XattrEntry::size`] bytes at least.
    pub fn encode(&self, b: &mut [u8]) {
        let (n, v) = (self.name.len(), self.value.len());
        b[0] = self.namespace;
        b[1] = n as u8;
        put16(b, 2, v as u16);
        b[XATTR_ENTRY_HEADER..XATTR_ENTRY_HEADER + n].copy_from_slice(self.name);
        b[XATTR_ENTRY_HEADER + n..XATTR_ENTRY_HEADER + n + v].copy_from_slice(self.value);
    }
}

/// The prefix of the names of extended attribute namespace `namespace`.
pub fn xattr_prefix(namespace: u8) -> Option<&'static [u8]> {
    match namespace {
        XATTR_USER => Some(b"user."),
        XATTR_TRUSTED => Some(b"trusted."),
        XATTR_SECURITY => Some(b"security."),
        XATTR_ACL_ACCESS => Some(b"system.posix_acl_access"),
        XATTR_ACL_DEFAULT => Some(b"system.posix_acl_default"),
        _ => None,
    }
}

/// The offset of the first entry in `b` (an inode's entries) that is not valid
/// ([`XattrEntries`]), or is an ACL the kernel would not accept ([`posix_acl_valid`]), or a
/// default ACL of an inode of mode `mode` that is not a directory.
pub fn first_bad_xattr(b: &[u8], mode: u16) -> Option<usize> {
    let dir = mode & S_IFMT == S_IFDIR;
    let mut off = 0;
    for e in XattrEntries::new(b) {
        let e = match e {
            Ok(e) => e,
            Err(off) => return Some(off),
        };
        let acl_ok = match e.namespace {
            XATTR_ACL_ACCESS => posix_acl_valid(e.value),
            XATTR_ACL_DEFAULT => dir && posix_acl_valid(e.value),
            _ => true,
        };
        if !acl_ok {
            return Some(off);
        }
        off += e.size();
    }
    None
}

/// `POSIX_ACL_XATTR_VERSION`: the version in the header of an ACL's representation.
pub const ACL_VERSION: u32 = 2;

/// The bytes of the representation of an ACL of `count` entries (`posix_acl_xattr_size()`).
pub const fn acl_xattr_size(count: usize) -> usize {
    4 + 8 * count
}

/// Whether `value` is an ACL's representation ([`XATTR_ACL_ACCESS`]) that the kernel accepts
/// (`posix_acl_from_xattr()` and `posix_acl_valid()`): the version, then one entry for the
/// owner, any for named users, one for the owning group, any for named groups, a mask (which
/// named users or groups require), one for the others, in that order; permissions of `rwx`
/// only; named users and groups with a valid ID (not `(uid_t)-1`).
pub fn posix_acl_valid(value: &[u8]) -> bool {
    const USER_OBJ: u16 = 0x01;
    const USER: u16 = 0x02;
    const GROUP_OBJ: u16 = 0x04;
    const GROUP: u16 = 0x08;
    const MASK: u16 = 0x10;
    const OTHER: u16 = 0x20;
    if value.len() < 4 || value.len() % 8 != 4 || le32(value, 0) != ACL_VERSION {
        return false;
    }
    // The next tag allowed, as `posix_acl_valid()` walks them; 0 once the others' is seen.
    let mut state = USER_OBJ;
    let mut needs_mask = false;
    for e in value[4..].chunks_exact(8) {
        let (tag, perm, id) = (le16(e, 0), le16(e, 2), le32(e, 4));
        if perm & !7 != 0 {
            return false;
        }
        state = match (tag, state) {
            (USER_OBJ, USER_OBJ) => USER,
            (USER, USER) | (GROUP, GROUP) if id != u32::MAX => {
                needs_mask = true;
                state
            }
            (GROUP_OBJ, USER) => GROUP,
            (MASK, GROUP) => OTHER,
            (OTHER, OTHER) => 0,
            (OTHER, GROUP) if !needs_mask => 0,
            _ => return false,
        };
    }
    state == 0
}

/// The extended attribute entries packed in `b` (an inode's or a block's), in order. An entry
/// that is not valid ([`XattrEntry::valid`]) or does not fit in `b` gives `Err` with its
/// offset, and ends the walk.
pub struct XattrEntries<'a> {
    b: &'a [u8],
    off: usize,
}

impl<'a> XattrEntries<'a> {
    pub fn new(b: &'a [u8]) -> XattrEntries<'a> {
        XattrEntries { b, off: 0 }
    }
}

impl<'a> Iterator for XattrEntries<'a> {
    type Item = Result<XattrEntry<'a>, usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let (b, off) = (self.b, self.off);
        if off >= b.len() {
            return None;
        }
        let entry = (|| {
            let head = b.get(off..off + XATTR_ENTRY_HEADER)?;
            let (n, v) = (head[1] as usize, le16(head, 2) as usize);
            let start = off + XATTR_ENTRY_HEADER;
            let e = XattrEntry {
                namespace: head[0],
                name: b.get(start..start + n)?,
                value: b.get(start + n..start + n + v)?,
            };
            e.valid().then_some(e)
        })();
        match entry {
            Some(e) => {
                self.off += e.size();
                Some(Ok(e))
            }
            None => {
                self.off = b.len();
                Some(Err(off))
            }
        }
    }
}

/// Packs `entries` in order into an inode's area `inline` and a block's entry area `block`:
/// each where it first fits, the inode first. Returns the bytes used in each, or `None` if one
/// fits in neither.
pub fn place_xattrs<'a>(
    entries: impl Iterator<Item = XattrEntry<'a>>,
    inline: &mut [u8],
    block: &mut [u8],
) -> Option<(usize, usize)> {
    let (mut i, mut k) = (0, 0);
    for e in entries {
        let size = e.size();
        if i + size <= inline.len() {
            e.encode(&mut inline[i..]);
            i += size;
        } else if k + size <= block.len() {
            e.encode(&mut block[k..]);
            k += size;
        } else {
            return None;
        }
    }
    Some((i, k))
}

/// The header of an extended attribute block, as stored (not checked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XattrHeader {
    pub magic: u32,
    pub crc: u32,
    /// The inode whose attributes the block holds, and its generation.
    pub ino: u32,
    pub generation: u32,
    /// The bytes of entries after the header.
    pub bytes: u32,
}

impl XattrHeader {
    pub fn decode(b: &[u8]) -> XattrHeader {
        XattrHeader {
            magic: le32(b, 0),
            crc: le32(b, 4),
            ino: le32(b, 8),
            generation: le32(b, 12),
            bytes: le32(b, 16),
        }
    }

    /// The checksum block `b` must carry: `crc32c` of the block with its checksum zeroed.
    pub fn checksum(b: &[u8], crc32c: impl Fn(&[&[u8]]) -> u32) -> u32 {
        crc32c(&[&b[..4], &[0; 4], &b[8..]])
    }

    /// Writes the header of block `b`, whose entries are in place and the rest zero, with its
    /// checksum.
    pub fn encode(&self, b: &mut [u8], crc32c: impl Fn(&[&[u8]]) -> u32) {
        put32(b, 0, XATTR_MAGIC);
        put32(b, 4, 0);
        put32(b, 8, self.ino);
        put32(b, 12, self.generation);
        put32(b, 16, self.bytes);
        b[20..XATTR_HEADER].fill(0);
        let crc = Self::checksum(b, crc32c);
        put32(b, 4, crc);
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

/// The header of an extent tree node, as stored (not checked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeHeader {
    pub magic: u32,
    /// Records in the node: extents in a leaf, index entries above.
    pub count: u16,
    /// 0 for a leaf; a node's children are one level below it.
    pub level: u16,
    /// The inode whose tree the node is in, and its generation.
    pub ino: u32,
    pub generation: u32,
    /// The device block the node is at.
    pub block: u64,
    pub crc: u32,
    pub reserved: u32,
}

impl NodeHeader {
    pub fn decode(b: &[u8]) -> NodeHeader {
        NodeHeader {
            magic: le32(b, 0),
            count: le16(b, 4),
            level: le16(b, 6),
            ino: le32(b, 8),
            generation: le32(b, 12),
            block: le64(b, 16),
            crc: le32(b, 24),
            reserved: le32(b, 28),
        }
    }

    fn encode(&self, b: &mut [u8]) {
        put32(b, 0, self.magic);
        put16(b, 4, self.count);
        put16(b, 6, self.level);
        put32(b, 8, self.ino);
        put32(b, 12, self.generation);
        put64(b, 16, self.block);
        put32(b, 24, self.crc);
        put32(b, 28, self.reserved);
    }
}

/// The checksum node `b` must carry: `crc32c` of the block with its checksum field zeroed.
/// The header it covers binds the node to its inode, the inode's generation and its block.
pub fn node_checksum(b: &[u8], crc32c: impl Fn(&[&[u8]]) -> u32) -> u32 {
    crc32c(&[&b[..24], &[0; 4], &b[28..]])
}

/// Encodes header `h` into node `b`, whose records are in place, with its checksum.
pub fn encode_node(b: &mut [u8], h: &NodeHeader, crc32c: impl Fn(&[&[u8]]) -> u32) {
    NodeHeader { crc: 0, ..*h }.encode(b);
    let crc = node_checksum(b, crc32c);
    put32(b, 24, crc);
}

/// Extent records a leaf of `block_size` bytes holds.
pub fn leaf_capacity(block_size: u64) -> usize {
    (block_size as usize - NODE_HEADER) / EXTENT_SIZE
}

/// Index entries an interior node of `block_size` bytes holds.
pub fn index_capacity(block_size: u64) -> usize {
    (block_size as usize - NODE_HEADER) / INDEX_SIZE
}

/// Extent record `i` of leaf `b`.
pub fn leaf_extent(b: &[u8], i: usize) -> Extent {
    Extent::decode(&b[NODE_HEADER + EXTENT_SIZE * i..])
}

/// Index entry `i` of interior node `b`.
pub fn node_entry(b: &[u8], i: usize) -> IndexEntry {
    IndexEntry::decode(&b[NODE_HEADER + INDEX_SIZE * i..])
}

/// The shape of the extent tree that holds `n` extents, packed: as few leaves as hold them,
/// as few nodes on each level above as index the level below, up to a level of at most
/// [`ROOT_INDEX`] nodes, which the root in the inode indexes. The records of a level are spread
/// evenly over its nodes (their counts differ by one at most), so that no node is empty.
///
/// The tree's nodes, in the order [`write_tree`] takes their blocks: the leaves from left to
/// right, then the nodes of level 1, and so on up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeShape {
    /// The extents.
    pub extents: u64,
    /// 0 when the extents fit in the inode.
    pub depth: u16,
    /// The nodes on each level, from the leaves up.
    pub nodes: [u64; MAX_DEPTH as usize],
}

impl TreeShape {
    /// The shape for `n` extents in blocks of `block_size` bytes; `None` if it would be deeper
    /// than [`MAX_DEPTH`], or `n` does not fit an inode's 32-bit extent count.
    pub fn new(n: u64, block_size: u64) -> Option<TreeShape> {
        if n > u32::MAX as u64 {
            return None;
        }
        let mut shape = TreeShape {
            extents: n,
            depth: 0,
            nodes: [0; MAX_DEPTH as usize],
        };
        if n <= INLINE_EXTENTS as u64 {
            return Some(shape);
        }
        // (At least 20 and 30 for the smallest block; `max` spares the division a check.)
        let leaf = leaf_capacity(block_size).max(1) as u64;
        let index = index_capacity(block_size).max(1) as u64;
        let mut count = n.div_ceil(leaf);
        for level in shape.nodes.iter_mut() {
            *level = count;
            shape.depth += 1;
            if count <= ROOT_INDEX as u64 {
                return Some(shape);
            }
            count = count.div_ceil(index);
        }
        None
    }

    /// All the nodes of the tree.
    pub fn total(&self) -> u64 {
        self.nodes.iter().sum()
    }

    /// The entries of the root in the inode: the extents at depth 0, else the nodes of the top
    /// level.
    pub fn root_count(&self) -> u64 {
        match self.depth {
            0 => self.extents,
            d => self.nodes[d as usize - 1],
        }
    }

    /// The records of `level`: the extents for the leaves, the nodes of the level below above.
    fn items(&self, level: usize) -> u64 {
        if level == 0 {
            self.extents
        } else {
            self.nodes[level - 1]
        }
    }

    /// The first record of node `j` of `level` (`j` up to the level's node count). The
    /// product stays below 2^64: both factors are at most the extent count, a `u32`.
    pub fn first(&self, level: usize, j: u64) -> u64 {
        j * self.items(level) / self.nodes[level]
    }

    /// The first extent under node `j` of `level`.
    fn first_extent(&self, mut level: usize, mut j: u64) -> u64 {
        loop {
            j = self.first(level, j);
            if level == 0 {
                return j;
            }
            level -= 1;
        }
    }

    /// The position in the tree's block list of the first node of `level`.
    pub fn offset(&self, level: usize) -> u64 {
        self.nodes[..level].iter().sum()
    }

    /// The index entry for node `j` of `level`, whose block list is `blocks`.
    pub fn entry(&self, extents: &[Extent], blocks: &[u64], level: usize, j: u64) -> IndexEntry {
        IndexEntry {
            key: extents[self.first_extent(level, j) as usize].file_block,
            child: blocks[(self.offset(level) + j) as usize],
        }
    }

    /// The root's entries for the tree of `extents` in `blocks`: the inode's `inline` extents
    /// at depth 0, its `index` entries above, with its `depth` and `root_count`.
    pub fn set_root(&self, raw: &mut RawInode, extents: &[Extent], blocks: &[u64]) {
        raw.depth = self.depth;
        raw.nextents = self.extents as u32;
        raw.root_count = self.root_count() as u32;
        raw.inline = [Extent::default(); INLINE_EXTENTS];
        raw.index = [IndexEntry::default(); ROOT_INDEX];
        if self.depth == 0 {
            raw.inline[..extents.len()].copy_from_slice(extents);
        } else {
            let top = self.depth as usize - 1;
            for j in 0..self.nodes[top] {
                raw.index[j as usize] = self.entry(extents, blocks, top, j);
            }
        }
    }
}

/// An extent tree to write: the extents (sorted, not overlapping), the blocks of its nodes (in
/// the order of [`TreeShape`]) and the inode it is of, with the inode's generation.
pub struct TreeData<'a> {
    pub extents: &'a [Extent],
    pub blocks: &'a [u64],
    pub ino: u32,
    pub generation: u32,
}

/// Encodes the nodes of `tree`, of shape `shape` (for as many extents, in as many blocks): each
/// is encoded into `buf`, a whole block, and handed to `write` with its block. The root is the
/// caller's ([`TreeShape::set_root`]).
pub fn write_tree<E>(
    shape: &TreeShape,
    tree: &TreeData<'_>,
    buf: &mut [u8],
    crc32c: impl Fn(&[&[u8]]) -> u32,
    mut write: impl FnMut(u64, &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let (extents, blocks) = (tree.extents, tree.blocks);
    for level in 0..shape.depth as usize {
        for j in 0..shape.nodes[level] {
            let (from, to) = (shape.first(level, j), shape.first(level, j + 1));
            let block = blocks[(shape.offset(level) + j) as usize];
            buf.fill(0);
            for (i, item) in (from..to).enumerate() {
                if level == 0 {
                    extents[item as usize].encode(&mut buf[NODE_HEADER + EXTENT_SIZE * i..]);
                } else {
                    shape
                        .entry(extents, blocks, level - 1, item)
                        .encode(&mut buf[NODE_HEADER + INDEX_SIZE * i..]);
                }
            }
            let h = NodeHeader {
                magic: NODE_MAGIC,
                count: (to - from) as u16,
                level: level as u16,
                ino: tree.ino,
                generation: tree.generation,
                block,
                crc: 0,
                reserved: 0,
            };
            encode_node(buf, &h, &crc32c);
            write(block, buf)?;
        }
    }
    Ok(())
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
