// SPDX-License-Identifier: GPL-2.0

//! fsck.xtfs: check an xtfs filesystem (Documentation/filesystems/xtfs.rst), read-only.
//!
//! ```text
//! fsck.xtfs [-n] [-f] [-v] device...
//! ```
//!
//! Every inconsistency is printed on a line of its own: bad superblock, inode or extent block
//! checksums and fields, extents beyond the device or overlapping, blocks claimed twice, blocks
//! in use but free in the bitmap and blocks marked in use that nothing owns (leaks), bad
//! directory entries, directories not reachable from the root, wrong link counts. Each device's
//! report ends with a line that names it: `DEVICE: clean`, `DEVICE: N problems found, not
//! repaired` or `DEVICE: superblock: ...`; the devices are checked in the order given (a test
//! that checks many images pays for one process start).
//!
//! Exit status as fsck(8): 0 no errors, 4 errors left uncorrected (this checker never repairs;
//! `-y`, `-p` and `-a` are accepted and change nothing), 8 operational error (the run ends at
//! the device that could not be read), 16 usage error; with several devices, their statuses or'ed
//! together.

use std::collections::{HashMap, HashSet, VecDeque};
use std::process::exit;
use xtfs::*;

const USAGE: &str = "usage: fsck.xtfs [-n] [-f] [-v] device...";
const MAX_REPORTS: usize = 200;

/// Who owns a block, for reports of blocks claimed twice.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Free,
    Metadata,
    Inode(u32),
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Free => write!(f, "nothing"),
            Owner::Metadata => write!(f, "the filesystem's metadata"),
            Owner::Inode(i) => write!(f, "inode {i}"),
        }
    }
}

struct Checker {
    dev: Device,
    sb: Super,
    problems: usize,
    owners: Vec<Owner>,
}

struct Inode {
    raw: RawInode,
    extents: Vec<Extent>,
}

impl Checker {
    fn problem(&mut self, msg: String) {
        self.problems += 1;
        if self.problems <= MAX_REPORTS {
            println!("{msg}");
        }
    }

    fn read(&self, block: u64, count: u64) -> Vec<u8> {
        let bs = self.sb.block_size();
        self.dev
            .read(block * bs, (count * bs) as usize)
            .unwrap_or_else(|e| {
                eprintln!("fsck.xtfs: read of block {block}: {e}");
                exit(8)
            })
    }

    /// Claims `len` blocks from `start` for `owner`, reporting blocks outside the data region
    /// and blocks already claimed. Returns false when the range is outside the device.
    fn claim(&mut self, start: u64, len: u64, owner: Owner, what: &str) -> bool {
        let end = start.checked_add(len);
        if start < self.sb.data_start || end.is_none_or(|e| e > self.sb.blocks) {
            self.problem(format!(
                "{owner}: {what} at blocks {start}+{len} is outside the data region [{}, {})",
                self.sb.data_start, self.sb.blocks
            ));
            return false;
        }
        for b in start..start + len {
            match self.owners[b as usize] {
                Owner::Free => self.owners[b as usize] = owner,
                prev => self.problem(format!(
                    "block {b} is claimed by {prev} and by {owner} ({what})"
                )),
            }
        }
        true
    }

    /// The extents of an inode: the inline ones and the chain of extent blocks.
    fn extents(&mut self, ino: u32, raw: &RawInode) -> Vec<Extent> {
        let mut extents = raw.inline_extents().to_vec();
        let per_block = extents_per_block(self.sb.block_size());
        let mut next = raw.extent_block;
        let mut hops = 0u64;
        while next != 0 {
            hops += 1;
            if hops > self.sb.blocks || !self.claim(next, 1, Owner::Inode(ino), "extent block") {
                if hops > self.sb.blocks {
                    self.problem(format!("inode {ino}: extent block chain loops"));
                }
                break;
            }
            let b = self.read(next, 1);
            let count = le32(&b, 4) as usize;
            if le32(&b, 0) != EXTENT_BLOCK_MAGIC {
                self.problem(format!("inode {ino}: extent block {next}: bad magic"));
                break;
            }
            if le32(&b, 20) != extent_block_crc(&b) {
                self.problem(format!(
                    "inode {ino}: extent block {next}: checksum mismatch"
                ));
                break;
            }
            if le32(&b, 16) != ino || count == 0 || count > per_block || le64(&b, 24) != 0 {
                self.problem(format!(
                    "inode {ino}: extent block {next}: owner {}, count {count}",
                    le32(&b, 16)
                ));
                break;
            }
            extents.extend(
                (0..count).map(|i| Extent::decode(&b[EXTENT_BLOCK_HEADER + EXTENT_SIZE * i..])),
            );
            next = le64(&b, 8);
        }
        if extents.len() != raw.nextents as usize {
            self.problem(format!(
                "inode {ino}: {} extent records found, nextents says {}",
                extents.len(),
                raw.nextents
            ));
        }
        extents
    }

    /// Checks the records of an inode and claims their blocks.
    fn check_extents(&mut self, ino: u32, extents: &[Extent]) {
        let max_block = (i64::MAX as u64) >> self.sb.block_bits;
        let mut prev_end = 0u64;
        for (i, e) in extents.iter().enumerate() {
            let what = format!("extent {i} (file block {}, {} blocks)", e.file_block, e.len);
            if e.len == 0 || e.flags & !EXTENT_UNWRITTEN != 0 {
                self.problem(format!(
                    "inode {ino}: {what}: bad length or flags {:#x}",
                    e.flags
                ));
                continue;
            }
            if e.file_block
                .checked_add(e.len as u64)
                .is_none_or(|end| end > max_block)
            {
                self.problem(format!("inode {ino}: {what}: beyond the largest file"));
                continue;
            }
            if i > 0 && e.file_block < prev_end {
                self.problem(format!(
                    "inode {ino}: {what}: overlaps or precedes the previous one"
                ));
            }
            prev_end = e.file_block + e.len as u64;
            self.claim(e.disk_block, e.len as u64, Owner::Inode(ino), &what);
        }
    }

    /// The blocks of a directory or symlink, in file order, if they are all written and
    /// contiguous from file block 0.
    fn data_blocks(&mut self, ino: u32, inode: &Inode) -> Option<Vec<u64>> {
        let mut blocks = Vec::new();
        for e in &inode.extents {
            if e.flags != 0 || e.file_block != blocks.len() as u64 {
                self.problem(format!(
                    "inode {ino}: directory or symlink has a hole or an unwritten extent at \
                     file block {}",
                    e.file_block
                ));
                return None;
            }
            blocks.extend(e.disk_block..e.disk_block + e.len as u64);
        }
        Some(blocks)
    }

    fn run(&mut self, verbose: bool) {
        let sb = self.sb.clone();
        let bs = sb.block_size();
        self.owners = vec![Owner::Free; sb.blocks as usize];
        for o in &mut self.owners[..sb.data_start as usize] {
            *o = Owner::Metadata;
        }

        // Inodes and their extents.
        let itable = self.read(sb.itable_start, sb.itable_blocks);
        let mut inodes: HashMap<u32, Inode> = HashMap::new();
        for ino in 1..=sb.inodes {
            let off = (ino as usize - 1) * INODE_SIZE;
            match RawInode::decode(&itable[off..off + INODE_SIZE], ino) {
                Err(e) => self.problem(format!("inode {ino}: {e}")),
                Ok(None) => {}
                Ok(Some(raw)) => {
                    let extents = self.extents(ino, &raw);
                    self.check_extents(ino, &extents);
                    inodes.insert(ino, Inode { raw, extents });
                }
            }
        }
        if itable[(sb.inodes as usize) * INODE_SIZE..]
            .iter()
            .any(|&b| b != 0)
        {
            self.problem("inode table: bytes after the last inode are not zero".into());
        }

        // Directories and symlinks.
        let mut refs: HashMap<u32, u32> = HashMap::new();
        let mut subdirs: HashMap<u32, u32> = HashMap::new();
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut ids: Vec<u32> = inodes.keys().copied().collect();
        ids.sort_unstable();
        for &ino in &ids {
            let inode = &inodes[&ino];
            let mode = inode.raw.mode & S_IFMT;
            let size = inode.raw.size;
            if mode == S_IFREG {
                continue;
            }
            let Some(blocks) = self.data_blocks(ino, inode) else {
                continue;
            };
            if mode == S_IFLNK {
                if blocks.len() != 1 || size == 0 || size >= bs {
                    self.problem(format!(
                        "inode {ino}: symlink of {size} bytes in {} blocks",
                        blocks.len()
                    ));
                }
                continue;
            }
            if !size.is_multiple_of(bs) || size / bs != blocks.len() as u64 {
                self.problem(format!(
                    "inode {ino}: directory size {size} does not match its {} blocks",
                    blocks.len()
                ));
                continue;
            }
            let mut names = HashSet::new();
            for (i, &b) in blocks.iter().enumerate() {
                let data = self.read(b, 1);
                for slot in 0..(bs as usize / DIRENT_SIZE) {
                    let here = format!("directory {ino}: block {i} slot {slot}");
                    let d = match Dirent::decode(&data[slot * DIRENT_SIZE..]) {
                        Err(e) => {
                            self.problem(format!("{here}: {e}"));
                            continue;
                        }
                        Ok(None) => continue,
                        Ok(Some(d)) => d,
                    };
                    let name = String::from_utf8_lossy(&d.name).into_owned();
                    if !names.insert(d.name.clone()) {
                        self.problem(format!("{here}: duplicate name {name:?}"));
                    }
                    let Some(target) = inodes.get(&d.ino) else {
                        self.problem(format!(
                            "{here}: {name:?} points to free or bad inode {}",
                            d.ino
                        ));
                        continue;
                    };
                    let want = match target.raw.mode & S_IFMT {
                        S_IFDIR => DT_DIR,
                        S_IFLNK => DT_LNK,
                        _ => DT_REG,
                    };
                    if d.file_type != want {
                        self.problem(format!(
                            "{here}: {name:?} has type {} but inode {} is {want}",
                            d.file_type, d.ino
                        ));
                    }
                    if d.ino == ROOT_INO {
                        self.problem(format!("{here}: {name:?} links the root directory"));
                    }
                    *refs.entry(d.ino).or_default() += 1;
                    if want == DT_DIR {
                        *subdirs.entry(ino).or_default() += 1;
                        children.entry(ino).or_default().push(d.ino);
                        if target.raw.parent != ino {
                            self.problem(format!(
                                "{here}: directory {name:?} (inode {}) names {} as its parent",
                                d.ino, target.raw.parent
                            ));
                        }
                    }
                }
            }
        }

        // Link counts, reachability.
        match inodes.get(&ROOT_INO) {
            Some(r) if r.raw.mode & S_IFMT == S_IFDIR && r.raw.parent == ROOT_INO => {}
            _ => self.problem("root inode 1 is not a directory that is its own parent".into()),
        }
        let mut reachable = HashSet::from([ROOT_INO]);
        let mut queue = VecDeque::from([ROOT_INO]);
        while let Some(d) = queue.pop_front() {
            for &c in children.get(&d).into_iter().flatten() {
                if reachable.insert(c) {
                    queue.push_back(c);
                }
            }
        }
        for &ino in &ids {
            let raw = &inodes[&ino].raw;
            let r = refs.get(&ino).copied().unwrap_or(0);
            if raw.nlink > LINK_MAX {
                self.problem(format!(
                    "inode {ino}: link count {} above the limit {LINK_MAX}",
                    raw.nlink
                ));
            }
            if raw.mode & S_IFMT == S_IFDIR {
                let want = 2 + subdirs.get(&ino).copied().unwrap_or(0);
                if raw.nlink != want {
                    self.problem(format!(
                        "inode {ino}: directory link count {} should be {want}",
                        raw.nlink
                    ));
                }
                if ino != ROOT_INO && r != 1 {
                    self.problem(format!("inode {ino}: directory has {r} names"));
                }
                if !reachable.contains(&ino) {
                    self.problem(format!(
                        "inode {ino}: directory not reachable from the root"
                    ));
                }
            } else if r == 0 {
                self.problem(format!(
                    "inode {ino}: in use but not linked from any directory"
                ));
            } else if raw.nlink != r {
                self.problem(format!(
                    "inode {ino}: link count {} should be {r}",
                    raw.nlink
                ));
            }
        }

        // The bitmap against the owners found.
        let bitmap = self.read(sb.bitmap_start, sb.bitmap_blocks);
        let bit = |b: u64| bitmap[(b / 8) as usize] & (1 << (b % 8)) != 0;
        let mut used = 0u64;
        let mut b = 0u64;
        while b < sb.blocks {
            let (set, owner) = (bit(b), self.owners[b as usize]);
            used += set as u64;
            let wrong = set != (owner != Owner::Free);
            if !wrong {
                b += 1;
                continue;
            }
            let start = b;
            while b < sb.blocks && bit(b) == set && self.owners[b as usize] == owner {
                b += 1;
            }
            used += if set { b - start - 1 } else { 0 };
            if set {
                self.problem(format!(
                    "blocks {start}..{b} are in use in the bitmap but nothing owns them (leaked)"
                ));
            } else {
                self.problem(format!(
                    "blocks {start}..{b} belong to {owner} but are free in the bitmap"
                ));
            }
        }
        if (sb.blocks..sb.bitmap_blocks * bs * 8).any(bit) {
            self.problem("bitmap: bits beyond the last block are set".into());
        }
        if verbose || self.problems == 0 {
            println!(
                "{} inodes of {} in use, {} blocks of {} ({} bytes each) in use",
                inodes.len(),
                sb.inodes,
                used,
                sb.blocks,
                bs
            );
        }
    }
}

/// Checks the filesystem on `path`: 0 if it is clean, 4 if it has errors (printed); exits 8 if
/// it cannot be read.
fn check(path: &str, verbose: bool) -> i32 {
    let dev = Device::open(path, false).unwrap_or_else(|e| {
        eprintln!("fsck.xtfs: {path}: {e}");
        exit(8)
    });
    let head = dev.read(0, 512).unwrap_or_else(|e| {
        eprintln!("fsck.xtfs: {path}: cannot read the superblock: {e}");
        exit(8)
    });
    let sb = match Super::decode(&head, dev.bytes) {
        Ok(sb) => sb,
        Err(e) => {
            println!("{path}: superblock: {e}");
            return 4;
        }
    };
    let mut c = Checker {
        dev,
        sb,
        problems: 0,
        owners: Vec::new(),
    };
    c.run(verbose);
    if c.problems > 0 {
        if c.problems > MAX_REPORTS {
            println!("... and {} more", c.problems - MAX_REPORTS);
        }
        println!("{path}: {} problems found, not repaired", c.problems);
        return 4;
    }
    println!("{path}: clean");
    0
}

fn main() {
    let mut devices = Vec::new();
    let mut verbose = false;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "-n" | "-f" | "-y" | "-p" | "-a" => {}
            "-v" => verbose = true,
            s if s.starts_with('-') => {
                eprintln!("fsck.xtfs: unknown option {s}\n{USAGE}");
                exit(16)
            }
            s => devices.push(s.to_string()),
        }
    }
    if devices.is_empty() {
        eprintln!("{USAGE}");
        exit(16)
    }
    // As fsck(8) with several filesystems: the statuses or'ed together.
    let status = devices
        .iter()
        .fold(0, |status, path| status | check(path, verbose));
    exit(status)
}
