// SPDX-License-Identifier: GPL-2.0

//! xtfs_corrupt: damage an xtfs image on purpose, for the bad-image tests.
//!
//! ```text
//! xtfs_corrupt --list                  names of the hand-made cases, one per line
//! xtfs_corrupt --list-accepted         names of the cases the kernel accepts at mount
//! xtfs_corrupt IMAGE CASE              apply one hand-made case
//! xtfs_corrupt IMAGE random SEED [N] [--from BASE]
//!                                      change N (default 4) random bytes of the metadata
//!                                      (of a copy of image BASE written to IMAGE first)
//! ```
//!
//! Hand-made cases break one thing each and keep checksums right, so that the check behind
//! the checksum is the one that must catch them. Random mutations hit the superblock, the
//! bitmap, the inode table, the first directory and extent tree blocks and, in images of written
//! filesystems, any block in use up to the last one, checksums or not. The
//! image must have been made by `mkfs.xtfs -d` with at least one subdirectory and file, and,
//! for the `tree_` cases, a file in the root directory whose extents need an extent tree with
//! two entries in its root at least.

use std::process::exit;
use xtfs::*;

const CASES: &[&str] = &[
    "sb_magic",
    "sb_crc",
    "sb_version",
    "sb_format1",
    "sb_block_bits",
    "sb_geometry",
    "sb_blocks_beyond_device",
    "sb_no_inodes",
    "log_bad_block",
    "bitmap_metadata_free",
    "bitmap_beyond_end",
    "root_crc",
    "root_not_dir",
    "root_bad_extent",
    "root_size",
    "inode_bad_mode",
    "inode_bad_nsec",
    "inode_flags_unknown",
    "inode_acl_invalid",
    "inode_reserved",
    "inode_root_mismatch",
    "tree_root_key_order",
    "tree_node_other_inode",
    "tree_node_stale",
    "tree_node_moved",
    "tree_node_level",
    "tree_leaf_out_of_range",
    "tree_node_free",
    "inode_extent_beyond_device",
    "inode_extent_overlap",
    "inode_nlink_zero",
    "orphan_list_linked",
    "orphan_list_root",
    "dir_extent_unwritten",
    "symlink_size",
    "dir_nlink_max",
    "dir_nlink_one",
    "dirent_bad_name",
    "dirent_ino_range",
    "dirent_slot_garbage",
];

/// Hand-made cases that fsck finds but a mount accepts, as it reads inodes only when they are
/// used: using the filesystem must then fail cleanly, and count nothing twice.
const ACCEPTED_CASES: &[&str] = &["extent_cross_linked"];

fn fail(msg: &str) -> ! {
    eprintln!("xtfs_corrupt: {msg}");
    exit(1)
}

/// A small deterministic generator (xorshift64*), so a seed reproduces a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Img {
    dev: Device,
    sb: Super,
}

impl Img {
    fn bs(&self) -> u64 {
        self.sb.block_size()
    }

    fn inode_off(&self, ino: u32) -> u64 {
        self.sb.itable_start * self.bs() + (ino as u64 - 1) * INODE_SIZE as u64
    }

    fn inode(&self, ino: u32) -> RawInode {
        let b = self.dev.read(self.inode_off(ino), INODE_SIZE).unwrap();
        RawInode::decode(&b, ino)
            .ok()
            .flatten()
            .unwrap_or_else(|| fail(&format!("inode {ino} is not a good inode")))
    }

    fn put_inode(&self, ino: u32, raw: &RawInode) {
        self.dev
            .write(self.inode_off(ino), &raw.encode_with_crc(ino))
            .unwrap();
    }

    /// The first entry of the root directory that is a directory (`want_dir`) or not.
    fn root_entry(&self, want_dir: bool) -> (u64, u32) {
        self.root_entry_where(|t| (t == DT_DIR) == want_dir)
    }

    /// The first entry of the root directory whose type `want` accepts and whose inode holds
    /// its extents itself (no extent tree): where it is, its inode.
    fn root_entry_where(&self, want: impl Fn(u8) -> bool) -> (u64, u32) {
        let root = self.inode(ROOT_INO);
        for e in root.inline_extents() {
            for b in e.disk_block..e.disk_block + e.len as u64 {
                let data = self.dev.read(b * self.bs(), self.bs() as usize).unwrap();
                for slot in 0..(self.bs() as usize / DIRENT_SIZE) {
                    let at = slot * DIRENT_SIZE;
                    if let Ok(Some(d)) = Dirent::decode(&data[at..]) {
                        if want(d.file_type) && self.inode(d.ino).depth == 0 {
                            return (b * self.bs() + at as u64, d.ino);
                        }
                    }
                }
            }
        }
        fail("the root directory has no suitable entry")
    }

    /// A regular file of the root directory with an extent tree of two root entries at least.
    fn tree_file(&self) -> (u32, RawInode) {
        let root = self.inode(ROOT_INO);
        for e in root.inline_extents() {
            for b in e.disk_block..e.disk_block + e.len as u64 {
                let data = self.dev.read(b * self.bs(), self.bs() as usize).unwrap();
                for slot in 0..(self.bs() as usize / DIRENT_SIZE) {
                    if let Ok(Some(d)) = Dirent::decode(&data[slot * DIRENT_SIZE..]) {
                        let r = self.inode(d.ino);
                        if d.file_type == DT_REG && r.depth >= 1 && r.root_count >= 2 {
                            return (d.ino, r);
                        }
                    }
                }
            }
        }
        fail("the root directory has no file with an extent tree of two root entries")
    }

    /// Changes extent tree node `block` with `edit`, and gives it the right checksum.
    fn edit_node(&self, block: u64, edit: impl FnOnce(&mut [u8])) {
        let mut b = self
            .dev
            .read(block * self.bs(), self.bs() as usize)
            .unwrap();
        edit(&mut b);
        let crc = node_checksum(&b, crc32c);
        put32(&mut b, 24, crc);
        self.dev.write(block * self.bs(), &b).unwrap();
    }

    fn write_sb(&self, edit: impl FnOnce(&mut [u8])) {
        let mut b = self.dev.read(0, 512).unwrap();
        edit(&mut b);
        let crc = crc32c(&[&b[..SB_CRC_OFFSET]]);
        put32(&mut b, SB_CRC_OFFSET, crc);
        self.dev.write(0, &b).unwrap();
    }

    fn case(&self, name: &str) {
        let bs = self.bs();
        match name {
            "sb_magic" => self.write_sb(|b| put32(b, 0, 0x1234_5678)),
            "sb_crc" => {
                let mut b = self.dev.read(0, 512).unwrap();
                b[200] ^= 1;
                self.dev.write(0, &b).unwrap();
            }
            "sb_version" => self.write_sb(|b| put32(b, 4, 3)),
            "sb_format1" => self.write_sb(|b| put32(b, 4, 1)),
            "sb_block_bits" => self.write_sb(|b| put32(b, 8, 20)),
            "sb_geometry" => self.write_sb(|b| put64(b, 64, self.sb.data_start + 1)),
            "sb_blocks_beyond_device" => {
                // A consistent geometry for a bigger device than there is.
                let blocks = self.dev.bytes / bs * 4;
                let big = Super::layout(
                    self.sb.block_bits,
                    blocks,
                    self.sb.inodes,
                    self.sb.log_blocks,
                )
                .unwrap();
                let mut enc = big.encode();
                enc[96..112].copy_from_slice(&self.sb.uuid);
                let crc = crc32c(&[&enc[..SB_CRC_OFFSET]]);
                put32(&mut enc, SB_CRC_OFFSET, crc);
                self.dev.write(0, &enc).unwrap();
            }
            "sb_no_inodes" => self.write_sb(|b| put32(b, 24, 0)),
            "log_bad_block" => {
                // A committed transaction, checksum and all, that would overwrite the
                // log's own header.
                let mut head = vec![0u8; bs as usize];
                let mut index = vec![0u8; bs as usize];
                let image = vec![0u8; bs as usize];
                LogHeader {
                    magic: LOG_MAGIC,
                    count: 1,
                    seq: 7,
                    crc: 0,
                }
                .encode(&mut head);
                put64(&mut index, 0, self.sb.log_start);
                let crc = LogHeader::checksum_start(&head, crc32c_update);
                let crc = !crc32c_update(crc32c_update(crc, &index), &image);
                LogHeader::set_crc(&mut head, crc);
                let log = self.sb.log_start * bs;
                self.dev.write(log, &head).unwrap();
                self.dev.write(log + bs, &index).unwrap();
                self.dev.write(log + 2 * bs, &image).unwrap();
            }
            "bitmap_metadata_free" => {
                let off = self.sb.bitmap_start * bs;
                let mut b = self.dev.read(off, 1).unwrap();
                b[0] &= !2;
                self.dev.write(off, &b).unwrap();
            }
            "bitmap_beyond_end" => {
                let last = self.sb.bitmap_start * bs + self.sb.bitmap_blocks * bs - 1;
                if self.sb.blocks.is_multiple_of(8 * bs) {
                    fail("no bits beyond the end in this geometry");
                }
                self.dev.write(last, &[0x80]).unwrap();
            }
            "root_crc" => {
                // The owner: no other check of the inode looks at it, only the checksum.
                let off = self.inode_off(ROOT_INO) + 8;
                let b = self.dev.read(off, 1).unwrap();
                self.dev.write(off, &[b[0] ^ 0x40]).unwrap();
            }
            "root_not_dir" => {
                let mut r = self.inode(ROOT_INO);
                r.mode = S_IFREG | 0o644;
                r.parent = 0;
                self.put_inode(ROOT_INO, &r);
            }
            "root_bad_extent" => {
                let mut r = self.inode(ROOT_INO);
                r.inline[0].len = 0;
                self.put_inode(ROOT_INO, &r);
            }
            "root_size" => {
                let mut r = self.inode(ROOT_INO);
                r.size += bs;
                self.put_inode(ROOT_INO, &r);
            }
            "inode_bad_mode" => {
                let (_, ino) = self.root_entry(false);
                let mut r = self.inode(ino);
                r.mode = 0o010644;
                self.put_inode(ino, &r);
            }
            "inode_bad_nsec" => {
                let (_, ino) = self.root_entry_where(|t| t == DT_REG);
                let mut r = self.inode(ino);
                r.times[1].1 = 1_000_000_000;
                self.put_inode(ino, &r);
            }
            "inode_flags_unknown" => {
                // A flag xtfs does not store (FS_NOCOMP_FL), beside one it does.
                let (_, ino) = self.root_entry_where(|t| t == DT_REG);
                let mut r = self.inode(ino);
                r.flags = 0x8 | 0x400;
                self.put_inode(ino, &r);
            }
            "inode_acl_invalid" => {
                // An access ACL in the inode whose entries are out of order (the owning
                // group's before the owner's), which the kernel would not accept.
                let (_, ino) = self.root_entry_where(|t| t == DT_REG);
                let mut r = self.inode(ino);
                let mut value = ACL_VERSION.to_le_bytes().to_vec();
                for (tag, perm) in [(0x04u16, 4u16), (0x01, 6), (0x20, 4)] {
                    value.extend(tag.to_le_bytes());
                    value.extend(perm.to_le_bytes());
                    value.extend(u32::MAX.to_le_bytes());
                }
                let e = XattrEntry {
                    namespace: XATTR_ACL_ACCESS,
                    name: b"",
                    value: &value,
                };
                let at = r.xattr_bytes as usize;
                if at + e.size() > INLINE_XATTR_BYTES {
                    fail("no room in the inode");
                }
                e.encode(&mut r.xattrs[at..]);
                r.xattr_bytes += e.size() as u16;
                self.put_inode(ino, &r);
            }
            "inode_reserved" => {
                // A device number in a regular file, under a right checksum.
                let (_, ino) = self.root_entry_where(|t| t == DT_REG);
                let mut b = self.dev.read(self.inode_off(ino), INODE_SIZE).unwrap();
                put32(&mut b, INODE_RDEV, 0x5a5a);
                let crc = RawInode::checksum(&b, ino, crc32c);
                put32(&mut b, INODE_CRC_OFFSET, crc);
                self.dev.write(self.inode_off(ino), &b).unwrap();
            }
            "inode_root_mismatch" => {
                // Extents in the inode, and a root that says it holds one more than it does.
                let (_, ino) = self.root_entry_where(|t| t == DT_REG);
                let mut r = self.inode(ino);
                if r.depth != 0 || r.nextents as usize >= INLINE_EXTENTS {
                    fail("the file has an extent tree");
                }
                r.root_count = r.nextents + 1;
                self.put_inode(ino, &r);
            }
            "tree_root_key_order" => {
                // The root's first two entries in the wrong order.
                let (ino, mut r) = self.tree_file();
                r.index.swap(0, 1);
                self.put_inode(ino, &r);
            }
            "tree_node_other_inode" => {
                // A node that says it is another inode's (as a block freed by one file and
                // reused by another, still holding the first one's node, would).
                let (ino, r) = self.tree_file();
                self.edit_node(r.index[0].child, |b| put32(b, 8, ino + 1));
            }
            "tree_node_stale" => {
                // A node of an earlier inode in the same slot: another generation.
                let (_, r) = self.tree_file();
                self.edit_node(r.index[0].child, |b| put32(b, 12, r.generation ^ 1));
            }
            "tree_node_moved" => {
                // A node written for another block (a misdirected write).
                let (_, r) = self.tree_file();
                let block = r.index[0].child;
                self.edit_node(block, |b| put64(b, 16, block + 1));
            }
            "tree_node_level" => {
                // A node that says it is on another level of the tree.
                let (_, r) = self.tree_file();
                self.edit_node(r.index[0].child, |b| put16(b, 6, r.depth));
            }
            "tree_node_free" => {
                // A node whose block the bitmap calls free: it could be handed out again.
                let (_, r) = self.tree_file();
                let block = r.index[0].child;
                let off = self.sb.bitmap_start * bs + block / 8;
                let mut b = self.dev.read(off, 1).unwrap();
                b[0] &= !(1 << (block % 8));
                self.dev.write(off, &b).unwrap();
            }
            "tree_leaf_out_of_range" => {
                // The first extent of the first leaf under the root's second entry moved below
                // the key the entry gives it.
                let (_, r) = self.tree_file();
                let mut leaf = r.index[1];
                for _ in 1..r.depth {
                    let node = self
                        .dev
                        .read(leaf.child * self.bs(), self.bs() as usize)
                        .unwrap();
                    leaf = node_entry(&node, 0);
                }
                self.edit_node(leaf.child, |b| {
                    let mut e = leaf_extent(b, 0);
                    e.file_block = leaf.key - 1;
                    e.encode(&mut b[NODE_HEADER..]);
                });
            }
            "inode_extent_beyond_device" => {
                let (_, ino) = self.root_entry(false);
                let mut r = self.inode(ino);
                r.inline[0].disk_block = self.sb.blocks - 1;
                r.inline[0].len = 2;
                self.put_inode(ino, &r);
            }
            "extent_cross_linked" => {
                // The root's regular file's first block is the symbolic link's block as well.
                let (_, file) = self.root_entry_where(|t| t == DT_REG);
                let (_, link) = self.root_entry_where(|t| t == DT_LNK);
                let mut r = self.inode(file);
                r.inline[0].disk_block = self.inode(link).inline[0].disk_block;
                self.put_inode(file, &r);
            }
            "inode_extent_overlap" => {
                let (_, ino) = self.root_entry(false);
                let mut r = self.inode(ino);
                let e = r.inline[0];
                let n = r.inline_extents().len();
                if n == INLINE_EXTENTS {
                    fail("no free inline extent slot");
                }
                r.inline[n] = Extent {
                    disk_block: e.disk_block + 100,
                    ..e
                };
                r.nextents = n as u32 + 1;
                r.root_count = r.nextents;
                self.put_inode(ino, &r);
            }
            "dir_extent_unwritten" => {
                // A subdirectory's block marked unwritten: xtfs writes directory blocks whole.
                let (_, ino) = self.root_entry(true);
                let mut r = self.inode(ino);
                r.inline[0].flags = EXTENT_UNWRITTEN;
                self.put_inode(ino, &r);
            }
            "symlink_size" => {
                let (_, ino) = self.root_entry_where(|t| t == DT_LNK);
                let mut r = self.inode(ino);
                r.size = 0;
                self.put_inode(ino, &r);
            }
            "dir_nlink_max" | "dir_nlink_one" => {
                // A subdirectory whose link count overflows with one more subdirectory, or
                // underflows when its only "." goes.
                let (_, ino) = self.root_entry(true);
                let mut r = self.inode(ino);
                r.nlink = if name == "dir_nlink_max" { u32::MAX } else { 1 };
                self.put_inode(ino, &r);
            }
            "inode_nlink_zero" => {
                let (_, ino) = self.root_entry(false);
                let mut r = self.inode(ino);
                r.nlink = 0;
                self.put_inode(ino, &r);
            }
            // The orphan list naming a file with links, or the root.
            "orphan_list_linked" => {
                let (_, ino) = self.root_entry(false);
                self.write_sb(|b| put32(b, SB_ORPHAN_HEAD, ino));
            }
            "orphan_list_root" => self.write_sb(|b| put32(b, SB_ORPHAN_HEAD, ROOT_INO)),
            // Not a refused case (not in `--list`): the orphans an image has, off the list.
            "orphan_list_cut" => self.write_sb(|b| put32(b, SB_ORPHAN_HEAD, 0)),
            "dirent_bad_name" => {
                let (off, _) = self.root_entry(false);
                self.dev.write(off + 6, b"a/b").unwrap();
                self.dev.write(off + 4, &[3]).unwrap();
            }
            "dirent_ino_range" => {
                let (off, _) = self.root_entry(false);
                self.dev
                    .write(off, &(self.sb.inodes + 1).to_le_bytes())
                    .unwrap();
            }
            "dirent_slot_garbage" => {
                // An empty slot after the last entry of the root's last block.
                let root = self.inode(ROOT_INO);
                let e = *root
                    .inline_extents()
                    .last()
                    .unwrap_or_else(|| fail("empty root"));
                let last = (e.disk_block + e.len as u64) * bs - 1;
                self.dev.write(last, &[0xff]).unwrap();
            }
            _ => fail(&format!("unknown case {name}")),
        }
    }

    /// Changes `n` random bytes of the metadata: superblock, bitmap, inode table (the part in
    /// use) and the first data blocks (directories and the first files).
    /// The last block the bitmap has in use.
    fn last_used(&self) -> u64 {
        let bs = self.bs();
        let bitmap = self
            .dev
            .read(
                self.sb.bitmap_start * bs,
                (self.sb.bitmap_blocks * bs) as usize,
            )
            .unwrap();
        (self.sb.data_start..self.sb.blocks)
            .rev()
            .find(|&b| bitmap[(b / 8) as usize] & (1 << (b % 8)) != 0)
            .unwrap_or(self.sb.data_start)
    }

    fn random(&self, seed: u64, n: u32) {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let bs = self.bs();
        let regions = [
            (0, 512),
            (self.sb.bitmap_start * bs, self.sb.bitmap_blocks * bs),
            (
                self.sb.itable_start * bs,
                (64 * INODE_SIZE as u64).min(self.sb.itable_blocks * bs),
            ),
            (self.sb.data_start * bs, 8 * bs),
            // Every block up to the last one in use: the directory, extent and symbolic link
            // blocks of a written filesystem are among them.
            (
                self.sb.data_start * bs,
                (self.last_used() + 1 - self.sb.data_start) * bs,
            ),
        ];
        for _ in 0..n {
            let (start, len) = regions[rng.below(regions.len() as u64) as usize];
            let off = start + rng.below(len);
            let mut b = self.dev.read(off, 1).unwrap();
            b[0] = match rng.below(3) {
                0 => b[0] ^ (1 << rng.below(8)),
                1 => rng.next() as u8,
                _ => 0,
            };
            self.dev.write(off, &b).unwrap();
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--list") => return CASES.iter().for_each(|c| println!("{c}")),
        Some("--list-accepted") => return ACCEPTED_CASES.iter().for_each(|c| println!("{c}")),
        _ => {}
    }
    if args.len() < 2 {
        fail(
            "usage: xtfs_corrupt --list | --list-accepted | IMAGE CASE | IMAGE random SEED [N] \
             [--from BASE]",
        );
    }
    let dev = Device::open(&args[0], true).unwrap_or_else(|e| fail(&format!("{}: {e}", args[0])));
    if let Some(at) = args.iter().position(|a| a == "--from") {
        let base = args
            .get(at + 1)
            .unwrap_or_else(|| fail("--from needs an image"));
        let data = std::fs::read(base).unwrap_or_else(|e| fail(&format!("{base}: {e}")));
        dev.write(0, &data)
            .unwrap_or_else(|e| fail(&format!("{}: {e}", args[0])));
    }
    let head = dev.read(0, 512).unwrap_or_else(|e| fail(&e.to_string()));
    let sb = Super::decode(&head, dev.bytes).unwrap_or_else(|e| fail(&e));
    let img = Img { dev, sb };
    if args[1] == "random" {
        let seed = args
            .get(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| fail("bad seed"));
        let n = args
            .get(3)
            .filter(|a| *a != "--from")
            .and_then(|s| s.parse().ok())
            .unwrap_or(4);
        img.random(seed, n);
    } else {
        img.case(&args[1]);
    }
    img.dev
        .file
        .sync_all()
        .unwrap_or_else(|e| fail(&e.to_string()));
}
