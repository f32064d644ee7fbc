// SPDX-License-Identifier: GPL-2.0

//! fsck.xtfs: check an xtfs filesystem (Documentation/filesystems/xtfs.rst), and repair it.
//!
//! ```text
//! fsck.xtfs [-n | -y | -p | -a] [-f] [-v] device...
//! ```
//!
//! Every inconsistency is printed on a line of its own: bad superblock, inode or extent tree node
//! checksums and fields (a node of another inode, or a stale one of an earlier inode in the same
//! slot), extent tree keys out of order, extents beyond the device or overlapping, blocks claimed
//! twice, blocks in use but free in the bitmap and blocks marked in use that nothing owns (leaks),
//! bad directory entries, directories not reachable from the root, wrong link counts. Each device's
//! report ends with a line that names it: `DEVICE: clean`, `DEVICE: N problems found, not
//! repaired`, `DEVICE: repaired` or `DEVICE: superblock: ...`; the devices are checked in the order
//! given (a test that checks many images pays for one process start).
//!
//! `-n` (the default) changes nothing. `-y` repairs everything it can; `-p` and `-a` (preen, as at
//! boot) repair only what loses nothing: the bitmap (leaked blocks and blocks in use but free),
//! link counts, a directory's `..`, entry types, the inode table's padding, orphans, and data
//! blocks claimed twice, which are copied: of two inodes (or two extents) claiming a block, the
//! one found first (by inode number) keeps it, and the other's extent is given a copy of its
//! blocks in free ones, as `e2fsck -y` clones multiply-claimed blocks, so that neither loses
//! what it held (e2fsck's preening stops there instead; the copy loses nothing, so `-p` makes
//! it). Where no free run is long enough, `-y` drops the extent and `-p` leaves it. What else
//! `-y` does, each chosen so that the result is a filesystem the kernel mounts and uses:
//!
//! - an inode whose checksum is wrong but whose fields make sense is written with the right
//!   checksum; one whose fields do not is cleared (and so are the entries that name it);
//! - bad extent records are dropped, and so is the rest of an extent tree, in file order, from
//!   a bad node on (the tree is rebuilt from the records kept, in the nodes it had), and so
//!   is the rest of a tree from a node that another inode claimed first;
//! - bad, duplicate and dangling directory entries are cleared, and all but the first name of
//!   a directory; a directory with a hole is cut at the hole, and its size set to its blocks;
//! - an inode without links that no name reaches (an orphan: a file unlinked while open when
//!   the system went down) and a bad symbolic link are freed;
//! - an inode with links that no name reaches, and a directory not reachable from the root
//!   (the top of a detached tree, or one of a cycle, whose name in the cycle is cleared), are
//!   linked into `lost+found` as `#INO` (made in the root if need be).
//!
//! Repairs go in passes: the structural ones first, then the orphans and the inodes to
//! reconnect, then, in a pass that finds nothing else, the counts (link counts, bitmap)
//! recounted from what the others left; then one more check.
//! A filesystem whose superblock or root inode is not right is not repaired.
//!
//! Exit status as fsck(8): 0 no errors, 1 errors found and all repaired, 4 errors left
//! uncorrected, 8 operational error (the run ends at the device that could not be read or
//! written; a block device in use is refused for repair), 16 usage error; with several
//! devices, their statuses or'ed together.

use std::collections::{HashMap, HashSet, VecDeque};
use std::process::exit;
use xtfs::*;

/// Prints a line to stdout. A closed or full stdout (fsck piped into `head`) is no reason to
/// stop in the middle of a repair: what cannot be printed is dropped.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// [`out!`] for stderr.
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

const USAGE: &str = "usage: fsck.xtfs [-n | -y | -p | -a] [-f] [-v] device...";
const MAX_REPORTS: usize = 200;
/// Repair passes before giving up: each structural pass can expose more (a cleared inode
/// leaves entries dangling, a cleared directory leaves its children unlinked), so a tree of
/// depth d may need d passes; the last ones recount.
const MAX_PASSES: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Preen,
    Repair,
}

/// Inode slot `b` (in use) with the fields that [`RawInode::decode_fields`] refuses set right
/// where that loses nothing it holds, and what was done; `None` if a field cannot be (a file
/// type that is none of xtfs's, a size beyond the largest file). Nanoseconds out of range
/// become 0; unknown flags are cleared; extended attribute entries in the inode that are not
/// valid are dropped with those after them; a device number in an inode that is no device node
/// is zeroed, and a special file loses its size and extents; an extent tree whose root does not
/// match the inode's extent count is dropped (the bitmap repair frees its nodes), and so are
/// the extents of an inode whose root does not hold them; a directory without a parent gets
/// the root (the check of its `..` sets it right), anything else loses its parent.
fn repaired_fields(b: &[u8]) -> Option<([u8; INODE_SIZE], String)> {
    let mut raw = RawInode::fields(b);
    let dir = raw.mode & S_IFMT == S_IFDIR;
    if raw.mode == 0 || raw.size > i64::MAX as u64 {
        return None;
    }
    let mut how = Vec::new();
    if raw
        .times
        .iter()
        .chain([&raw.btime])
        .any(|t| t.1 >= 1_000_000_000)
    {
        for t in raw
            .times
            .iter_mut()
            .chain([&mut raw.btime])
            .filter(|t| t.1 >= 1_000_000_000)
        {
            t.1 = 0;
        }
        how.push("nanoseconds to 0");
    }
    if raw.flags & !INODE_FLAGS_KNOWN != 0 {
        raw.flags &= INODE_FLAGS_KNOWN;
        how.push("unknown flags cleared");
    }
    let bytes = (raw.xattr_bytes as usize).min(INLINE_XATTR_BYTES);
    let bad = first_bad_xattr(&raw.xattrs[..bytes], raw.mode);
    if bad.is_some() || bytes < raw.xattr_bytes as usize {
        let good = bad.unwrap_or(bytes);
        raw.xattr_bytes = good as u16;
        raw.xattrs[good..].fill(0);
        how.push("the bad extended attributes in the inode dropped");
    }
    if raw.rdev != 0 && !matches!(raw.mode & S_IFMT, S_IFCHR | S_IFBLK) {
        raw.rdev = 0;
        how.push("the device number of an inode that is no device to 0");
    }
    if is_special(raw.mode) && (raw.size != 0 || raw.nextents != 0) {
        raw.size = 0;
        (raw.depth, raw.nextents, raw.root_count) = (0, 0, 0);
        how.push("a special file's size and extents dropped");
    }
    if raw.nlink != 0 && le32(b, INODE_NEXT_ORPHAN) != 0 {
        how.push("off the orphan list");
    }
    if !raw.root_consistent() {
        (raw.depth, raw.nextents, raw.root_count) = (0, 0, 0);
        how.push("drop the extents");
    }
    if dir && raw.parent == 0 {
        raw.parent = ROOT_INO;
        how.push("parent to the root");
    } else if !dir && raw.parent != 0 {
        raw.parent = 0;
        how.push("no parent");
    }
    // The checksum does not matter here: the repair writes it.
    let fixed = raw.encode_with_crc(0);
    matches!(RawInode::decode_fields(&fixed), Ok(Some(_))).then(|| (fixed, how.join(", ")))
}

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

/// A repair.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fix {
    /// Writes inode `.0` with its checksum computed again.
    Checksum(u32),
    /// Writes inode `.0` as `.1`: its fields that made no sense repaired in place
    /// ([`repaired_fields`]), the rest as they were.
    Fields(u32, Box<[u8; INODE_SIZE]>),
    /// Clears inode `.0`'s slot: its blocks become free at the next bitmap repair.
    ClearInode(u32),
    /// Clears inode `.0`, which no name reaches and has no links (a file deleted while open:
    /// as [`Fix::ClearInode`]).
    Orphan(u32),
    /// Links inode `.0`, which no name reaches, into `lost+found` (made if need be) as
    /// `#INO`; a directory gets `lost+found` as its parent.
    Reconnect(u32),
    /// Gives inode `.0` the extent records `.1` (a subset of its own, in order), in an extent
    /// tree built in the nodes `.2` of its tree as it was read that are its own. The records
    /// at the indexes `.3` have blocks that another owner claimed first: each is given a copy
    /// of its blocks in free ones ([`Checker::clone_extent`]), or dropped if no free run is
    /// long enough.
    Extents(u32, Vec<Extent>, Vec<u64>, Vec<usize>),
    /// [`Fix::Extents`] that keeps every record: only blocks claimed twice, each copied for
    /// the second owner, as `e2fsck -y` clones multiply-claimed blocks. Loses nothing, so
    /// preening makes it; where a copy finds no room, preening leaves the inode as it is
    /// (and the repair becomes a [`Fix::Extents`], for `-y`).
    Clone(u32, Vec<Extent>, Vec<u64>, Vec<usize>),
    /// Clears the entry in slot `.1` of directory block `.0`.
    ClearEntry(u64, usize),
    /// Sets the file type of the entry in slot `.1` of directory block `.0` to `.2`.
    EntryType(u64, usize, u8),
    /// Sets directory `.0`'s parent to `.1`.
    Parent(u32, u32),
    /// Drops inode `.0`'s extended attribute block (the bitmap repair frees it): those in the
    /// inode stay.
    XattrBlock(u32),
    /// Sets the size of directory or symlink `.0` to `.1`.
    Size(u32, u64),
    /// Zeroes the bytes of the inode table after the last inode.
    ZeroItableTail,
    /// Sets inode `.0`'s link count to `.1`.
    Links(u32, u32),
    /// Writes the bitmap of the blocks in use.
    Bitmap,
    /// Empties the orphan list (the orphans it held are freed as any other).
    OrphanList,
}

impl Fix {
    /// When the repair is made: a pass makes only the repairs of the lowest stage it found.
    /// Orphans are freed or reconnected only once nothing else is to be repaired, as a repair
    /// of the structure can give them their name back (a directory's size, an entry's type);
    /// the counts are recounted from what all other repairs left.
    fn stage(&self) -> u8 {
        match self {
            Fix::Orphan(_) | Fix::Reconnect(_) => 1,
            Fix::Links(..) | Fix::Bitmap => 2,
            _ => 0,
        }
    }

    /// What preening repairs: what can be computed again from the rest and loses nothing.
    fn preen_safe(&self) -> bool {
        matches!(
            self,
            Fix::Links(..)
                | Fix::Bitmap
                | Fix::Clone(..)
                | Fix::Orphan(_)
                | Fix::ZeroItableTail
                | Fix::OrphanList
                | Fix::EntryType(..)
                | Fix::Parent(..)
        )
    }

    /// The inode the repair changes, if one.
    fn inode(&self) -> Option<u32> {
        match self {
            Fix::Checksum(i)
            | Fix::Fields(i, _)
            | Fix::ClearInode(i)
            | Fix::Orphan(i)
            | Fix::Reconnect(i)
            | Fix::Extents(i, ..)
            | Fix::Clone(i, ..)
            | Fix::Parent(i, _)
            | Fix::XattrBlock(i)
            | Fix::Size(i, _)
            | Fix::Links(i, _) => Some(*i),
            _ => None,
        }
    }
}

struct Checker {
    dev: Device,
    sb: Super,
    problems: usize,
    /// Problems no repair exists for.
    unfixable: usize,
    /// The repairs found, each once.
    fixes: Vec<Fix>,
    owners: Vec<Owner>,
    quiet: bool,
    /// The root directory is gone: nothing is repaired (everything would be an orphan).
    root_lost: bool,
    /// The root's `lost+found` directory, if it has one.
    lost_found: Option<u32>,
    /// Inodes that could not be linked into `lost+found`: not tried again.
    not_reconnected: HashSet<u32>,
    /// Inodes whose blocks claimed twice found no free run long enough for their copy under
    /// preening: their repair, which drops the extent, is left to `-y`.
    not_cloned: HashSet<u32>,
    /// Inodes with a copy of blocks claimed twice pending in this pass: until it is made,
    /// their data blocks are another's, and nothing is written to them.
    cloning: HashSet<u32>,
    /// Whether only repairs that lose nothing are made (`-p`).
    preen: bool,
    /// Inodes on the orphan list, as the last pass found them.
    orphans: usize,
}

struct Inode {
    raw: RawInode,
    extents: Vec<Extent>,
    /// The nodes of its extent tree that are its own.
    nodes: Vec<u64>,
}

/// The extent records of an inode as read: those in the inode, or those of the leaves of its
/// tree in file order, up to the first bad node.
struct Records {
    extents: Vec<Extent>,
    /// The tree's nodes read, depth first, with the number of records read before each.
    nodes: Vec<(u64, usize)>,
    /// What is wrong with the tree after the nodes read.
    bad: Option<String>,
}

impl Checker {
    fn problem(&mut self, msg: String, fix: Option<Fix>) {
        self.problems += 1;
        if self.problems <= MAX_REPORTS && !self.quiet {
            out!("{msg}");
        }
        let fix = match fix {
            Some(Fix::Clone(i, kept, nodes, clones)) if self.not_cloned.contains(&i) => {
                Some(Fix::Extents(i, kept, nodes, clones))
            }
            fix => fix,
        };
        match fix.filter(|f| !matches!(f, Fix::Reconnect(i) if self.not_reconnected.contains(i))) {
            Some(f) => {
                if !self.fixes.contains(&f) {
                    self.fixes.push(f);
                }
            }
            None => self.unfixable += 1,
        }
    }

    fn read(&self, block: u64, count: u64) -> Vec<u8> {
        let bs = self.sb.block_size();
        self.dev
            .read(block * bs, (count * bs) as usize)
            .unwrap_or_else(|e| {
                err!("fsck.xtfs: read of block {block}: {e}");
                exit(8)
            })
    }

    fn write(&self, block: u64, offset: u64, buf: &[u8]) {
        let at = block * self.sb.block_size() + offset;
        self.dev.write(at, buf).unwrap_or_else(|e| {
            err!("fsck.xtfs: write at byte {at}: {e}");
            exit(8)
        })
    }

    fn inode_pos(&self, ino: u32) -> (u64, u64) {
        let pos = (ino as u64 - 1) * INODE_SIZE as u64;
        let bs = self.sb.block_size();
        (self.sb.itable_start + pos / bs, pos % bs)
    }

    fn read_inode(&self, ino: u32) -> Vec<u8> {
        let (block, off) = self.inode_pos(ino);
        self.read(block, 1)[off as usize..off as usize + INODE_SIZE].to_vec()
    }

    /// Writes inode `ino` as `raw`; one without links keeps its place on the orphan list.
    fn write_inode(&self, ino: u32, raw: &RawInode) {
        let (block, off) = self.inode_pos(ino);
        let mut b = raw.encode_with_crc(ino);
        if raw.nlink == 0 {
            let next = le32(&self.read_inode(ino), INODE_NEXT_ORPHAN);
            set_next_orphan(&mut b, ino, next, crc32c);
        }
        self.write(block, off, &b);
    }

    fn in_data(&self, block: u64) -> bool {
        block >= self.sb.data_start && block < self.sb.blocks
    }

    /// Whether the `len` blocks from `start` are all in the data region.
    fn in_data_range(&self, start: u64, len: u64) -> bool {
        start >= self.sb.data_start && start.checked_add(len).is_some_and(|e| e <= self.sb.blocks)
    }

    /// Claims `len` blocks from `start` for `owner`: `Err` with the reason (and nothing
    /// claimed) if they are outside the data region or another's.
    fn claim(&mut self, start: u64, len: u64, owner: Owner, what: &str) -> Result<(), String> {
        if !self.in_data_range(start, len) {
            return Err(format!(
                "{owner}: {what} at blocks {start}+{len} is outside the data region [{}, {})",
                self.sb.data_start, self.sb.blocks
            ));
        }
        if let Some(b) = (start..start + len).find(|&b| self.owners[b as usize] != Owner::Free) {
            let prev = self.owners[b as usize];
            return Err(format!(
                "block {b} is claimed by {prev} and by {owner} ({what})"
            ));
        }
        for b in start..start + len {
            self.owners[b as usize] = owner;
        }
        Ok(())
    }

    /// Checks the extended attributes of inode `ino` and claims their block: a block that is not
    /// the inode's, or holds entries that make no sense, is dropped (with what it holds). A name
    /// found twice cannot be repaired: which value is right is not known.
    fn xattrs(&mut self, ino: u32, raw: &RawInode) {
        let is_dir = raw.mode & S_IFMT == S_IFDIR;
        // An ACL the kernel would refuse, or a default ACL on a non-directory.
        let acl_problem = |e: &XattrEntry<'_>| match e.namespace {
            XATTR_ACL_ACCESS | XATTR_ACL_DEFAULT if !posix_acl_valid(e.value) => {
                Some("is not a valid ACL")
            }
            XATTR_ACL_DEFAULT if !is_dir => Some("on a file that is not a directory"),
            _ => None,
        };
        let name = |e: XattrEntry<'_>| (e.namespace, e.name.to_vec(), acl_problem(&e));
        let mut names: Vec<(u8, Vec<u8>, Option<&str>)> = XattrEntries::new(raw.inline_xattrs())
            .flatten()
            .map(name)
            .collect();
        let block = raw.xattr_block;
        if block != 0 {
            // Claimed only once it is known to be the inode's: a bad pointer must not take a
            // block from its owner.
            let checked = if self.in_data(block) {
                let b = self.read(block, 1);
                check_xattr_block(&b, ino, raw.generation)
                    .map(|entries| {
                        XattrEntries::new(entries)
                            .flatten()
                            .map(name)
                            .collect::<Vec<_>>()
                    })
                    .and_then(|more| {
                        self.claim(block, 1, Owner::Inode(ino), "extended attribute block")
                            .map(|()| more)
                    })
            } else {
                Err("outside the data region".into())
            };
            match checked {
                Ok(more) => names.extend::<Vec<_>>(more),
                Err(e) => self.problem(
                    format!("inode {ino}: extended attribute block {block}: {e}"),
                    Some(Fix::XattrBlock(ino)),
                ),
            }
        }
        let full = |ns: u8, n: &[u8]| {
            let p = String::from_utf8_lossy(xattr_prefix(ns).unwrap_or_default()).into_owned();
            p + &String::from_utf8_lossy(n)
        };
        for (ns, n, problem) in &names {
            if let Some(problem) = problem {
                self.problem(
                    format!("inode {ino}: extended attribute {} {problem}", full(*ns, n)),
                    None,
                );
            }
        }
        let mut seen = HashSet::new();
        if let Some((ns, n, _)) = names
            .into_iter()
            .find(|(ns, n, _)| !seen.insert((*ns, n.clone())))
        {
            self.problem(
                format!("inode {ino}: extended attribute {} twice", full(ns, &n)),
                None,
            );
        }
    }

    /// Reads the extent records of inode `ino` (nothing is claimed).
    fn read_records(&self, ino: u32, raw: &RawInode) -> Records {
        let mut r = Records {
            extents: raw.inline_extents().to_vec(),
            nodes: Vec::new(),
            bad: None,
        };
        let root = raw.root_index();
        for (i, e) in root.iter().enumerate() {
            let end = root.get(i + 1).map_or(u64::MAX, |n| n.key);
            if let Err(bad) = self.read_subtree(ino, raw.generation, raw.depth - 1, e, end, &mut r)
            {
                r.bad = Some(bad);
                break;
            }
        }
        r
    }

    /// Reads the subtree of root or node entry `entry`, a node of `level` holding the extents
    /// from its key up to `end`, into `r`; `Err` says what is wrong at the first bad node.
    fn read_subtree(
        &self,
        ino: u32,
        generation: u32,
        level: u16,
        entry: &IndexEntry,
        end: u64,
        r: &mut Records,
    ) -> Result<(), String> {
        let block = entry.child;
        if !self.in_data(block) {
            return Err(format!(
                "extent tree node {block} is outside the data region"
            ));
        }
        if entry.key >= end {
            return Err(format!(
                "extent tree entry for node {block}: key {} not below the next one, {end}",
                entry.key
            ));
        }
        let b = self.read(block, 1);
        let count = check_node(&b, block, ino, generation, level)
            .map_err(|e| format!("extent tree node {block} (level {level}): {e}"))?;
        r.nodes.push((block, r.extents.len()));
        for i in 0..count {
            if level == 0 {
                let e = leaf_extent(&b, i);
                if e.file_block < entry.key || e.file_block >= end {
                    return Err(format!(
                        "extent tree leaf {block}: an extent at file block {} outside its \
                         range {}..{end}",
                        e.file_block, entry.key
                    ));
                }
                r.extents.push(e);
            } else {
                let e = node_entry(&b, i);
                let next = if i + 1 < count {
                    node_entry(&b, i + 1).key
                } else {
                    end
                };
                if e.key < entry.key || next > end {
                    return Err(format!(
                        "extent tree node {block}: key {} outside its range {}..{end}",
                        e.key, entry.key
                    ));
                }
                self.read_subtree(ino, generation, level - 1, &e, next, r)?;
            }
        }
        Ok(())
    }

    /// The extents of inode `ino`, checked, with their blocks and those of its tree's nodes
    /// claimed, and the nodes: records that are bad or whose blocks are another's are reported
    /// and left out, with a repair that drops them.
    fn extents(&mut self, ino: u32, raw: &RawInode) -> (Vec<Extent>, Vec<u64>) {
        let records = self.read_records(ino, raw);
        let owner = Owner::Inode(ino);
        let mut usable = records.extents.len();
        let mut nodes = Vec::new();
        let mut found = Vec::new();
        if let Some(bad) = &records.bad {
            found.push(format!("inode {ino}: {bad}"));
        }
        for &(block, first) in &records.nodes {
            if let Err(e) = self.claim(block, 1, owner, "extent tree node") {
                usable = first;
                found.push(e);
                break;
            }
            nodes.push(block);
        }
        if found.is_empty() && records.extents.len() != raw.nextents as usize {
            found.push(format!(
                "inode {ino}: {} extent records found, nextents says {}",
                records.extents.len(),
                raw.nextents
            ));
        }
        let max_block = (i64::MAX as u64) >> self.sb.block_bits;
        let mut kept = Vec::new();
        let mut clones = Vec::new();
        // Whether the repair changes more than where blocks claimed twice are (a node or a
        // record dropped, the record count).
        let mut dropped = !found.is_empty();
        let mut prev_end = 0u64;
        for (i, e) in records.extents[..usable].iter().enumerate() {
            let what = format!("extent {i} (file block {}, {} blocks)", e.file_block, e.len);
            let bad = if e.len == 0 || e.flags & !EXTENT_UNWRITTEN != 0 {
                Some(format!("bad length or flags {:#x}", e.flags))
            } else if e
                .file_block
                .checked_add(e.len as u64)
                .is_none_or(|end| end > max_block)
            {
                Some("beyond the largest file".into())
            } else if e.file_block < prev_end {
                Some("overlaps or precedes the previous one".into())
            } else {
                None
            };
            if let Some(why) = bad {
                found.push(format!("inode {ino}: {what}: {why}"));
                dropped = true;
                continue;
            }
            if let Err(why) = self.claim(e.disk_block, e.len as u64, owner, &what) {
                found.push(why);
                if !self.in_data_range(e.disk_block, e.len as u64) {
                    dropped = true;
                    continue;
                }
                // Inside the data region but another's (or its own, twice): kept, to be
                // given a copy of its blocks. Those nobody claimed yet are its own for
                // now, so that no copy lands on them before they are copied (a later
                // claimant of them gets a copy too); the next pass frees them.
                for b in e.disk_block..e.disk_block + e.len as u64 {
                    if self.owners[b as usize] == Owner::Free {
                        self.owners[b as usize] = owner;
                    }
                }
                self.cloning.insert(ino);
                clones.push(kept.len());
            }
            prev_end = e.file_block + e.len as u64;
            kept.push(*e);
        }
        if !found.is_empty() {
            // The records kept fit in the nodes read that are its own.
            let fix = if dropped {
                Fix::Extents(ino, kept.clone(), nodes.clone(), clones)
            } else {
                Fix::Clone(ino, kept.clone(), nodes.clone(), clones)
            };
            for msg in found {
                self.problem(msg, Some(fix.clone()));
            }
        }
        (kept, nodes)
    }

    /// The blocks of a directory or symlink, in file order, if they are all written and
    /// contiguous from file block 0. Else `Err` with the first file block that is not, the
    /// records to keep (those before a hole, without an unwritten flag: xtfs writes these
    /// blocks whole, so the flag is damage and what they hold is read as it is) and whether
    /// the blocks are complete all the same (only flags were wrong).
    fn data_blocks(inode: &Inode) -> Result<Vec<u64>, (u64, Vec<Extent>, bool)> {
        let mut blocks = Vec::new();
        let mut keep = Vec::new();
        let mut flagged = None;
        for e in &inode.extents {
            if e.file_block != blocks.len() as u64 {
                return Err((flagged.unwrap_or(e.file_block), keep, false));
            }
            if e.flags != 0 {
                flagged.get_or_insert(e.file_block);
            }
            keep.push(Extent { flags: 0, ..*e });
            blocks.extend(e.disk_block..e.disk_block + e.len as u64);
        }
        match flagged {
            Some(at) => Err((at, keep, true)),
            None => Ok(blocks),
        }
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
            let b = &itable[off..off + INODE_SIZE];
            let raw = match RawInode::decode(b, ino) {
                Ok(None) => continue,
                Ok(Some(raw)) => raw,
                Err(e) => match RawInode::decode_fields(b) {
                    // Only the checksum is wrong: kept, written again.
                    Ok(Some(raw)) => {
                        self.problem(format!("inode {ino}: {e}"), Some(Fix::Checksum(ino)));
                        raw
                    }
                    // Fields that can be set right without losing what the inode holds; only
                    // under a right checksum: with a wrong one as well, the slot is more likely
                    // garbage than an inode, whose blocks would be claimed from their owners.
                    Err(field) => {
                        match repaired_fields(b).filter(|_| RawInode::checksum_matches(b, ino)) {
                            Some((fixed, how)) => {
                                self.problem(
                                    format!("inode {ino}: {field} (repair: {how})"),
                                    Some(Fix::Fields(ino, Box::new(fixed))),
                                );
                                RawInode::fields(&fixed)
                            }
                            None => {
                                let fix = (ino != ROOT_INO).then_some(Fix::ClearInode(ino));
                                self.problem(format!("inode {ino}: {field}"), fix);
                                continue;
                            }
                        }
                    }
                    Ok(None) => {
                        let fix = (ino != ROOT_INO).then_some(Fix::ClearInode(ino));
                        self.problem(format!("inode {ino}: {e}"), fix);
                        continue;
                    }
                },
            };
            let (extents, nodes) = self.extents(ino, &raw);
            self.xattrs(ino, &raw);
            inodes.insert(
                ino,
                Inode {
                    raw,
                    extents,
                    nodes,
                },
            );
        }
        if itable[(sb.inodes as usize) * INODE_SIZE..]
            .iter()
            .any(|&b| b != 0)
        {
            self.problem(
                "inode table: bytes after the last inode are not zero".into(),
                Some(Fix::ZeroItableTail),
            );
        }

        // The orphan list: inodes in use without links, each once, deleted by the next
        // read-write mount.
        let mut listed = HashSet::new();
        self.orphans = 0;
        let head = self.dev.read(0, SB_BYTES).map(|b| le32(&b, SB_ORPHAN_HEAD));
        let mut ino = head.unwrap_or_else(|e| {
            err!("fsck.xtfs: reading the superblock: {e}");
            exit(8)
        });
        while ino != 0 {
            let bad = if ino > sb.inodes || ino == ROOT_INO || listed.contains(&ino) {
                Some("out of range, the root, or a loop")
            } else {
                match inodes.get(&ino) {
                    None => Some("a free inode"),
                    Some(i) if i.raw.nlink != 0 => Some("an inode with links"),
                    _ => None,
                }
            };
            if let Some(bad) = bad {
                self.problem(
                    format!("orphan list: inode {ino}: {bad}"),
                    Some(Fix::OrphanList),
                );
                listed.clear();
                break;
            }
            listed.insert(ino);
            let off = (ino as usize - 1) * INODE_SIZE;
            ino = le32(&itable[off..], INODE_NEXT_ORPHAN);
        }

        // Directories and symlinks.
        let mut refs: HashMap<u32, u32> = HashMap::new();
        let mut subdirs: HashMap<u32, u32> = HashMap::new();
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        // Where each directory's (first) name is.
        let mut named: HashMap<u32, (u64, usize)> = HashMap::new();
        let mut ids: Vec<u32> = inodes.keys().copied().collect();
        ids.sort_unstable();
        for &ino in &ids {
            let inode = &inodes[&ino];
            let mode = inode.raw.mode & S_IFMT;
            let size = inode.raw.size;
            // Files, and special files, which have no blocks.
            if mode == S_IFREG || is_special(mode) {
                continue;
            }
            // Its blocks are another's until the copy is made: their problems are reported,
            // and repaired in the next pass, in the copy.
            let cloning = self.cloning.contains(&ino);
            let blocks = match Self::data_blocks(inode) {
                Ok(blocks) => blocks,
                Err((at, keep, whole)) => {
                    // The entries of the blocks before the hole stay.
                    let prefix: Vec<u64> = keep
                        .iter()
                        .flat_map(|e| e.disk_block..e.disk_block + e.len as u64)
                        .collect();
                    let fix = if mode == S_IFLNK && !whole {
                        Some(Fix::ClearInode(ino))
                    } else {
                        Some(Fix::Extents(ino, keep, inode.nodes.clone(), Vec::new()))
                    };
                    let fix = fix.filter(|_| !cloning);
                    let what = if whole {
                        "an unwritten extent"
                    } else {
                        "a hole"
                    };
                    self.problem(
                        format!("inode {ino}: directory or symlink has {what} at file block {at}"),
                        fix,
                    );
                    if mode == S_IFLNK && !whole {
                        continue;
                    }
                    prefix
                }
            };
            if mode == S_IFLNK {
                // The kernel refuses a target with a NUL in it, as the VFS would misread it.
                let nul = blocks.len() == 1
                    && size > 0
                    && size < bs
                    && self.read(blocks[0], 1)[..size as usize].contains(&0);
                if blocks.len() != 1 || size == 0 || size >= bs || nul {
                    // One block whose target ends within it, the rest of the block zeroes
                    // as xtfs and mkfs.xtfs leave it: the size is set to it. Anything else
                    // is not a symlink's block.
                    let target_len = (blocks.len() == 1)
                        .then(|| self.read(blocks[0], 1))
                        .and_then(|b| {
                            let n = b.iter().position(|&c| c == 0)?;
                            (n > 0 && b[n..].iter().all(|&c| c == 0)).then_some(n)
                        });
                    let fix = match target_len {
                        Some(n) => Fix::Size(ino, n as u64),
                        None if cloning => continue,
                        None => Fix::ClearInode(ino),
                    };
                    self.problem(
                        format!(
                            "inode {ino}: symlink of {size} bytes in {} blocks",
                            blocks.len()
                        ),
                        Some(fix),
                    );
                }
                continue;
            }
            if !size.is_multiple_of(bs) || size / bs != blocks.len() as u64 {
                // Its entries are read all the same: they name what it holds.
                self.problem(
                    format!(
                        "inode {ino}: directory size {size} does not match its {} blocks",
                        blocks.len()
                    ),
                    Some(Fix::Size(ino, blocks.len() as u64 * bs)),
                );
            }
            let mut names = HashSet::new();
            for (i, &b) in blocks.iter().enumerate() {
                let data = self.read(b, 1);
                for slot in 0..(bs as usize / DIRENT_SIZE) {
                    let here = format!("directory {ino}: block {i} slot {slot}");
                    let clear = Some(Fix::ClearEntry(b, slot)).filter(|_| !cloning);
                    let d = match Dirent::decode(&data[slot * DIRENT_SIZE..]) {
                        Err(e) => {
                            self.problem(format!("{here}: {e}"), clear);
                            continue;
                        }
                        Ok(None) => continue,
                        Ok(Some(d)) => d,
                    };
                    let name = String::from_utf8_lossy(&d.name).into_owned();
                    if !names.insert(d.name.clone()) {
                        self.problem(format!("{here}: duplicate name {name:?}"), clear);
                        continue;
                    }
                    if d.ino == ROOT_INO {
                        self.problem(format!("{here}: {name:?} links the root directory"), clear);
                        continue;
                    }
                    let Some(target) = inodes.get(&d.ino) else {
                        self.problem(
                            format!("{here}: {name:?} points to free or bad inode {}", d.ino),
                            clear,
                        );
                        continue;
                    };
                    // (Every inode read has a type of the format's.)
                    let want = entry_type(target.raw.mode).unwrap_or(DT_REG);
                    if want == DT_DIR && named.contains_key(&d.ino) {
                        self.problem(
                            format!("{here}: {name:?} is another name of directory {}", d.ino),
                            clear,
                        );
                        continue;
                    }
                    if d.file_type != want {
                        self.problem(
                            format!(
                                "{here}: {name:?} has type {} but inode {} is {want}",
                                d.file_type, d.ino
                            ),
                            Some(Fix::EntryType(b, slot, want)).filter(|_| !cloning),
                        );
                    }
                    if want == DT_DIR {
                        named.insert(d.ino, (b, slot));
                    }
                    *refs.entry(d.ino).or_default() += 1;
                    if ino == ROOT_INO && want == DT_DIR && d.name == b"lost+found" {
                        self.lost_found = Some(d.ino);
                    }
                    if want == DT_DIR {
                        *subdirs.entry(ino).or_default() += 1;
                        children.entry(ino).or_default().push(d.ino);
                        if target.raw.parent != ino {
                            self.problem(
                                format!(
                                    "{here}: directory {name:?} (inode {}) names {} as its \
                                     parent",
                                    d.ino, target.raw.parent
                                ),
                                Some(Fix::Parent(d.ino, ino)),
                            );
                        }
                    }
                }
            }
        }

        // Link counts, reachability.
        match inodes.get(&ROOT_INO) {
            Some(r) if r.raw.mode & S_IFMT == S_IFDIR && r.raw.parent == ROOT_INO => {}
            Some(r) if r.raw.mode & S_IFMT == S_IFDIR => self.problem(
                "root directory: its parent is not itself".into(),
                Some(Fix::Parent(ROOT_INO, ROOT_INO)),
            ),
            _ => {
                self.root_lost = true;
                self.problem("root inode 1 is not a directory".into(), None)
            }
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
        // Directories no name from the root reaches: the tops of detached trees (no name at
        // all) go to lost+found, and the rest with them; in a cycle, which has no top, the
        // first directory goes, its name in the cycle cleared.
        let detached: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|&i| {
                i != ROOT_INO
                    && inodes[&i].raw.mode & S_IFMT == S_IFDIR
                    && inodes[&i].raw.nlink != 0
                    && !reachable.contains(&i)
            })
            .collect();
        let tops: Vec<u32> = detached
            .iter()
            .copied()
            .filter(|i| !refs.contains_key(i))
            .collect();
        if tops.is_empty() {
            if let Some((&first, &(b, slot))) =
                detached.first().and_then(|f| named.get_key_value(f))
            {
                self.problem(
                    format!("directory {first} is in a cycle of directories: its name is cleared"),
                    Some(Fix::ClearEntry(b, slot)),
                );
            }
        }
        for &ino in &ids {
            let raw = &inodes[&ino].raw;
            let r = refs.get(&ino).copied().unwrap_or(0);
            // Deleted, of any type: on the list, the mount's to free; off it, fsck's.
            if r == 0 && raw.nlink == 0 && ino != ROOT_INO {
                if listed.contains(&ino) {
                    self.orphans += 1;
                } else {
                    self.problem(
                        format!("inode {ino}: deleted but not freed (orphan)"),
                        Some(Fix::Orphan(ino)),
                    );
                }
                continue;
            }
            if raw.mode & S_IFMT == S_IFDIR {
                if ino != ROOT_INO && !reachable.contains(&ino) {
                    // Reached again once the top of its tree is reconnected.
                    let fix = if tops.contains(&ino) {
                        Some(Fix::Reconnect(ino))
                    } else {
                        tops.first().map(|&top| Fix::Reconnect(top))
                    };
                    self.problem(
                        format!("inode {ino}: directory not reachable from the root"),
                        fix,
                    );
                    continue;
                }
                let want = 2 + subdirs.get(&ino).copied().unwrap_or(0);
                if raw.nlink != want {
                    let fix = (want <= LINK_MAX).then_some(Fix::Links(ino, want));
                    self.problem(
                        format!(
                            "inode {ino}: directory link count {} should be {want}",
                            raw.nlink
                        ),
                        fix,
                    );
                }
            } else if r == 0 {
                self.problem(
                    format!("inode {ino}: in use but not linked from any directory"),
                    Some(Fix::Reconnect(ino)),
                );
            } else if raw.nlink != r {
                let fix = (r <= LINK_MAX).then_some(Fix::Links(ino, r));
                self.problem(
                    format!("inode {ino}: link count {} should be {r}", raw.nlink),
                    fix,
                );
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
            let msg = if set {
                format!(
                    "blocks {start}..{b} are in use in the bitmap but nothing owns them (leaked)"
                )
            } else {
                format!("blocks {start}..{b} belong to {owner} but are free in the bitmap")
            };
            self.problem(msg, Some(Fix::Bitmap));
        }
        if (sb.blocks..sb.bitmap_blocks * bs * 8).any(bit) {
            self.problem(
                "bitmap: bits beyond the last block are set".into(),
                Some(Fix::Bitmap),
            );
        }
        if (verbose || self.problems == 0) && !self.quiet {
            out!(
                "{} inodes of {} in use, {} blocks of {} ({} bytes each) in use",
                inodes.len(),
                sb.inodes,
                used,
                sb.blocks,
                bs
            );
            if self.orphans > 0 {
                out!(
                    "{} orphans: inodes without links, deleted by the next read-write mount",
                    self.orphans
                );
            }
        }
        let trees = inodes.values().filter(|i| i.raw.depth > 0);
        let (count, deepest, nodes, extents) = trees.fold((0, 0, 0, 0), |(c, d, n, e), i| {
            (
                c + 1,
                d.max(i.raw.depth),
                n + i.nodes.len(),
                e + i.extents.len(),
            )
        });
        if verbose && count > 0 && !self.quiet {
            out!(
                "extent trees: {count}, of {nodes} nodes holding {extents} extents; the deepest \
                 has {deepest} levels"
            );
        }
    }

    /// Applies `fixes`; a cleared inode gets no other repair.
    fn apply(&mut self, fixes: &[Fix]) {
        let cleared: HashSet<u32> = fixes
            .iter()
            .filter_map(|f| match f {
                Fix::ClearInode(i) | Fix::Orphan(i) => Some(*i),
                _ => None,
            })
            .collect();
        for fix in fixes {
            if let Some(ino) = fix.inode() {
                if cleared.contains(&ino) && !matches!(fix, Fix::ClearInode(_) | Fix::Orphan(_)) {
                    continue;
                }
            }
            self.apply_one(fix);
        }
    }

    fn apply_one(&mut self, fix: &Fix) {
        let bs = self.sb.block_size();
        // The fields of an inode in use (its slot was found usable when the fix was chosen).
        let fields = |c: &Checker, ino: u32| RawInode::fields(&c.read_inode(ino));
        match fix {
            Fix::Checksum(ino) => {
                let raw = fields(self, *ino);
                self.write_inode(*ino, &raw);
            }
            Fix::Fields(ino, fixed) => self.write_inode(*ino, &RawInode::fields(&fixed[..])),
            Fix::Reconnect(ino) => {
                // Left as it is if it cannot go in (no room, no free inode or block): then it
                // stays a problem, not repaired.
                if !self.reconnect(*ino) {
                    out!("inode {ino}: cannot be linked into lost+found: left as it is");
                    self.not_reconnected.insert(*ino);
                }
            }
            Fix::ClearInode(ino) | Fix::Orphan(ino) => {
                let (block, off) = self.inode_pos(*ino);
                self.write(block, off, &[0u8; INODE_SIZE]);
            }
            Fix::OrphanList => {
                let mut b = self.dev.read(0, SB_BYTES).unwrap_or_else(|e| {
                    err!("fsck.xtfs: reading the superblock: {e}");
                    exit(8)
                });
                set_orphan_head(&mut b, 0, crc32c);
                self.dev.write(0, &b).unwrap_or_else(|e| {
                    err!("fsck.xtfs: writing the superblock: {e}");
                    exit(8)
                });
            }
            Fix::Extents(ino, kept, nodes, clones) | Fix::Clone(ino, kept, nodes, clones) => {
                let mut kept = kept.clone();
                let copies: Vec<_> = clones
                    .iter()
                    .map(|&i| self.free_run(kept[i].len as u64))
                    .collect();
                if self.preen && copies.contains(&None) {
                    // Preening loses nothing: the inode stays as it is, for -y.
                    out!("inode {ino}: no room to copy its blocks claimed twice: left to -y");
                    self.not_cloned.insert(*ino);
                    return;
                }
                for (&i, copy) in clones.iter().zip(copies).rev() {
                    match copy.and_then(|to| self.clone_extent(*ino, &kept[i], to)) {
                        Some(block) => kept[i].disk_block = block,
                        None => {
                            out!(
                                "inode {ino}: no room to copy the {} blocks of file block {} \
                                 claimed twice: dropped",
                                kept[i].len,
                                kept[i].file_block
                            );
                            kept.remove(i);
                        }
                    }
                }
                let kept = &kept;
                let mut raw = fields(self, *ino);
                // The records kept came from the inode or the leaves of these nodes, which
                // hold them packed: every level of a packed tree has at most as many nodes as
                // the one they were read from.
                let shape = TreeShape::new(kept.len() as u64, bs).expect("fewer extents");
                let need = shape.total() as usize;
                assert!(need <= nodes.len(), "records kept beyond the tree read");
                let mut buf = vec![0u8; bs as usize];
                let tree = TreeData {
                    extents: kept,
                    blocks: &nodes[..need],
                    ino: *ino,
                    generation: raw.generation,
                };
                write_tree::<()>(&shape, &tree, &mut buf, crc32c, |block, b| {
                    self.write(block, 0, b);
                    Ok(())
                })
                .unwrap();
                shape.set_root(&mut raw, kept, &nodes[..need]);
                self.write_inode(*ino, &raw);
            }
            Fix::ClearEntry(block, slot) => {
                self.write(*block, (slot * DIRENT_SIZE) as u64, &[0u8; DIRENT_SIZE]);
            }
            Fix::EntryType(block, slot, t) => {
                self.write(*block, (slot * DIRENT_SIZE) as u64 + 5, &[*t]);
            }
            Fix::Parent(ino, parent) => {
                let mut raw = fields(self, *ino);
                raw.parent = *parent;
                self.write_inode(*ino, &raw);
            }
            Fix::XattrBlock(ino) => {
                let mut raw = fields(self, *ino);
                raw.xattr_block = 0;
                self.write_inode(*ino, &raw);
            }
            Fix::Size(ino, size) => {
                let mut raw = fields(self, *ino);
                raw.size = *size;
                self.write_inode(*ino, &raw);
            }
            Fix::ZeroItableTail => {
                let start = self.sb.inodes as u64 * INODE_SIZE as u64;
                let end = self.sb.itable_blocks * bs;
                let zero = vec![0u8; (end - start) as usize];
                self.write(self.sb.itable_start, start, &zero);
            }
            Fix::Links(ino, n) => {
                let mut raw = fields(self, *ino);
                raw.nlink = *n;
                self.write_inode(*ino, &raw);
            }
            Fix::Bitmap => {
                let mut bitmap = vec![0u8; (self.sb.bitmap_blocks * bs) as usize];
                for (b, o) in self.owners.iter().enumerate() {
                    if *o != Owner::Free {
                        bitmap[b / 8] |= 1 << (b % 8);
                    }
                }
                self.write(self.sb.bitmap_start, 0, &bitmap);
            }
        }
    }

    /// Sets the bits of the `len` blocks from `start` in the bitmap on disk at once, so that
    /// a repair that stops before the bitmap is recounted leaves no block in use marked free.
    fn mark_in_use(&mut self, start: u64, len: u64) {
        let bs = self.sb.block_size();
        let (first, last) = (start / 8, (start + len - 1) / 8);
        let at = self.sb.bitmap_start + first / bs;
        let blocks = last / bs - first / bs + 1;
        let mut bytes = self.read(at, blocks);
        for b in start..start + len {
            bytes[(b / 8 - (first / bs) * bs) as usize] |= 1 << (b % 8);
        }
        let (from, to) = ((first % bs) as usize, (last - (first / bs) * bs) as usize);
        self.write(at, from as u64, &bytes[from..=to]);
    }

    /// The first run of `len` blocks free both in the owners of this pass and in the bitmap
    /// on disk (a block in use there that nothing owns may be leaked, or may be something
    /// this check does not know of: it is not taken), given to [`Owner::Metadata`] so that
    /// no other run overlaps it until [`Checker::clone_extent`] gives it its owner.
    fn free_run(&mut self, len: u64) -> Option<u64> {
        let bitmap = self.read(self.sb.bitmap_start, self.sb.bitmap_blocks);
        let free = |c: &Self, b: u64| {
            c.owners[b as usize] == Owner::Free && bitmap[(b / 8) as usize] & (1 << (b % 8)) == 0
        };
        let mut start = self.sb.data_start;
        let mut b = start;
        while b < self.sb.blocks && b - start < len {
            if !free(self, b) {
                start = b + 1;
            }
            b += 1;
        }
        if b - start < len {
            return None;
        }
        for o in &mut self.owners[start as usize..(start + len) as usize] {
            *o = Owner::Metadata;
        }
        Some(start)
    }

    /// Copies the blocks of `e`, an extent of inode `ino` some of whose blocks another owner
    /// claimed first, to the run at `to` ([`Checker::free_run`]), which becomes the inode's:
    /// returns `to`. The copy is written before the tree that points to it, and the bitmap
    /// marks it in use at once, so that a repair that stops halfway leaves no block of a file
    /// free.
    fn clone_extent(&mut self, ino: u32, e: &Extent, to: u64) -> Option<u64> {
        let len = e.len as u64;
        // At most 256 blocks a copy: an extent can be long. The source is not free, so the
        // run does not overlap it.
        let mut done = 0;
        while done < len {
            let n = (len - done).min(256);
            let data = self.read(e.disk_block + done, n);
            self.write(to + done, 0, &data);
            done += n;
        }
        for b in to..to + len {
            self.owners[b as usize] = Owner::Inode(ino);
        }
        self.mark_in_use(to, len);
        Some(to)
    }

    /// A free block (in the owners of this pass, which it is then given to).
    fn allocate_block(&mut self, owner: Owner) -> Option<u64> {
        let b = (self.sb.data_start..self.sb.blocks)
            .find(|&b| self.owners[b as usize] == Owner::Free)?;
        self.owners[b as usize] = owner;
        Some(b)
    }

    /// Adds entry `name` for `ino` of type `file_type` in the first free slot of directory
    /// `dir`, which grows by a block if it is full (and has room for one more inline
    /// extent, or its last extent can grow): false if it cannot, or if `name` is taken.
    fn add_entry(&mut self, dir: u32, name: &[u8], ino: u32, file_type: u8) -> bool {
        let bs = self.sb.block_size();
        let mut raw = RawInode::fields(&self.read_inode(dir));
        let records = self.read_records(dir, &raw);
        let blocks: Vec<u64> = records
            .extents
            .iter()
            .flat_map(|e| e.disk_block..e.disk_block + e.len as u64)
            .collect();
        let mut entry = [0u8; DIRENT_SIZE];
        encode_dirent(&mut entry, ino, file_type, name);
        let mut free = None;
        for &b in &blocks {
            let data = self.read(b, 1);
            for slot in 0..bs as usize / DIRENT_SIZE {
                match Dirent::decode(&data[slot * DIRENT_SIZE..]) {
                    Ok(Some(d)) if d.name == name => return false,
                    Ok(None) if free.is_none() => free = Some((b, slot)),
                    _ => {}
                }
            }
        }
        if let Some((b, slot)) = free {
            self.write(b, (slot * DIRENT_SIZE) as u64, &entry);
            return true;
        }
        let n = raw.nextents as usize;
        // Only a directory whose extents are in its inode grows here.
        if records.bad.is_some() || records.extents.len() != n || raw.depth != 0 {
            return false;
        }
        // The block after the last one extends the last extent (while its length fits).
        let last = n.checked_sub(1).map(|i| raw.inline.get(i).copied());
        let next = blocks.last().map(|&b| b + 1);
        let contiguous = next.filter(|&b| {
            n <= INLINE_EXTENTS
                && (b as usize) < self.owners.len()
                && self.owners[b as usize] == Owner::Free
                && last.flatten().is_some_and(|e| e.len < u32::MAX)
        });
        if contiguous.is_none() && n >= INLINE_EXTENTS {
            return false;
        }
        let b = match contiguous {
            Some(b) => {
                self.owners[b as usize] = Owner::Inode(dir);
                b
            }
            None => match self.allocate_block(Owner::Inode(dir)) {
                Some(b) => b,
                None => return false,
            },
        };
        self.mark_in_use(b, 1);
        let mut block = vec![0u8; bs as usize];
        block[..DIRENT_SIZE].copy_from_slice(&entry);
        self.write(b, 0, &block);
        if contiguous.is_some() {
            raw.inline[n - 1].len += 1;
        } else {
            raw.inline[n] = Extent {
                file_block: blocks.len() as u64,
                disk_block: b,
                len: 1,
                flags: 0,
            };
            raw.nextents += 1;
            raw.root_count = raw.nextents;
        }
        raw.size = (blocks.len() as u64 + 1) * bs;
        self.write_inode(dir, &raw);
        true
    }

    /// The root's `lost+found`, made (with one block) if it has none.
    fn lost_found(&mut self) -> Option<u32> {
        if let Some(lf) = self.lost_found {
            return Some(lf);
        }
        let itable = self.read(self.sb.itable_start, self.sb.itable_blocks);
        let ino = (1..=self.sb.inodes).find(|&i| {
            let off = (i as usize - 1) * INODE_SIZE;
            itable[off..off + INODE_SIZE].iter().all(|&b| b == 0)
        })?;
        let block = self.allocate_block(Owner::Inode(ino))?;
        self.mark_in_use(block, 1);
        let bs = self.sb.block_size();
        self.write(block, 0, &vec![0u8; bs as usize]);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut raw = RawInode {
            mode: S_IFDIR | 0o700,
            nlink: 2,
            size: bs,
            times: [(now, 0); 3],
            btime: (now, 0),
            nextents: 1,
            root_count: 1,
            generation: new_generation(),
            parent: ROOT_INO,
            ..Default::default()
        };
        raw.inline[0] = Extent {
            file_block: 0,
            disk_block: block,
            len: 1,
            flags: 0,
        };
        self.write_inode(ino, &raw);
        // (A name `lost+found` that is not a directory is left alone.)
        let name = (0..100)
            .map(|i| match i {
                0 => "lost+found".to_string(),
                i => format!("lost+found.{i}"),
            })
            .find(|name| self.add_entry(ROOT_INO, name.as_bytes(), ino, DT_DIR));
        let Some(name) = name else {
            let (b, off) = self.inode_pos(ino);
            self.write(b, off, &[0u8; INODE_SIZE]);
            return None;
        };
        out!("{name} made: inode {ino}");
        self.lost_found = Some(ino);
        Some(ino)
    }

    /// Links `ino` into `lost+found` as `#INO`: false if it cannot.
    fn reconnect(&mut self, ino: u32) -> bool {
        let Some(lf) = self.lost_found() else {
            return false;
        };
        let mut raw = RawInode::fields(&self.read_inode(ino));
        let file_type = entry_type(raw.mode).unwrap_or(DT_REG);
        let name = (0..100)
            .map(|i| match i {
                0 => format!("#{ino}"),
                i => format!("#{ino}.{i}"),
            })
            .find(|name| self.add_entry(lf, name.as_bytes(), ino, file_type));
        if name.is_none() {
            return false;
        }
        if file_type == DT_DIR {
            raw.parent = lf;
            self.write_inode(ino, &raw);
        }
        out!("inode {ino}: linked into lost+found");
        true
    }

    fn reset(&mut self) {
        self.root_lost = false;
        self.lost_found = None;
        self.problems = 0;
        self.unfixable = 0;
        self.fixes.clear();
        self.cloning.clear();
    }
}

/// Checks the filesystem on `path` and, unless `mode` is [`Mode::Check`], repairs it: the
/// fsck(8) status (0, 1 or 4); exits 8 if it cannot be read or written.
fn check(path: &str, mode: Mode, verbose: bool) -> i32 {
    let opened = if mode == Mode::Check {
        Device::open(path, false)
    } else {
        Device::open_exclusive(path)
    };
    let dev = opened.unwrap_or_else(|e| {
        err!("fsck.xtfs: {path}: {e}");
        exit(8)
    });
    let head = dev.read(0, 512).unwrap_or_else(|e| {
        err!("fsck.xtfs: {path}: cannot read the superblock: {e}");
        exit(8)
    });
    let sb = match Super::decode(&head, dev.bytes) {
        Ok(sb) => sb,
        Err(e) => {
            out!("{path}: superblock: {e}");
            return 4;
        }
    };
    // The log first: what it replays is part of the filesystem. Checking replays it in memory;
    // repairing writes it home and empties the log, as a mount would.
    let mut dev = dev;
    let mut log_repaired = false;
    match read_log(&dev, &sb) {
        Ok(Log::Empty(_)) => (),
        Ok(Log::Committed(seq, images)) if mode == Mode::Check => {
            if verbose {
                out!(
                    "journal: transaction {seq} ({} blocks) replayed in memory",
                    images.len()
                );
            }
            dev.overlay = images.into_iter().collect();
            dev.overlay_block_size = sb.block_size();
        }
        Ok(Log::Committed(seq, images)) => {
            for (block, data) in &images {
                let at = block * sb.block_size();
                dev.write(at, data).unwrap_or_else(|e| {
                    err!("fsck.xtfs: {path}: replaying the log at byte {at}: {e}");
                    exit(8)
                });
            }
            sync_and_empty_log(&dev, &sb, seq.wrapping_add(1), path);
            if verbose {
                out!(
                    "journal: transaction {seq} ({} blocks) replayed",
                    images.len()
                );
            }
        }
        Err(e) if mode == Mode::Check => {
            out!("{path}: journal: {e}, not repaired");
            return 4;
        }
        Err(e) => {
            out!("journal: {e}: emptied");
            sync_and_empty_log(&dev, &sb, 0, path);
            log_repaired = true;
        }
    }
    let mut c = Checker {
        dev,
        sb,
        problems: 0,
        unfixable: 0,
        fixes: Vec::new(),
        owners: Vec::new(),
        quiet: false,
        root_lost: false,
        lost_found: None,
        not_reconnected: HashSet::new(),
        not_cloned: HashSet::new(),
        cloning: HashSet::new(),
        preen: mode == Mode::Preen,
        orphans: 0,
    };
    c.run(verbose);
    if c.problems == 0 && log_repaired {
        out!("{path}: repaired (the log)");
        return 1;
    }
    if c.problems == 0 {
        out!("{path}: clean");
        return 0;
    }
    if c.problems > MAX_REPORTS {
        out!("... and {} more", c.problems - MAX_REPORTS);
    }
    if mode == Mode::Check || c.root_lost {
        out!("{path}: {} problems found, not repaired", c.problems);
        return 4;
    }
    let mut repaired = 0;
    for _ in 0..MAX_PASSES {
        // Preening does not recount while a repair it may not make is pending: the bitmap
        // would free the blocks of an inode whose name is still there.
        let held_back = mode == Mode::Preen && c.fixes.iter().any(|f| !f.preen_safe());
        let allowed: Vec<Fix> = c
            .fixes
            .iter()
            .filter(|f| mode == Mode::Repair || f.preen_safe())
            .filter(|f| !(held_back && f.stage() == 2))
            .cloned()
            .collect();
        // Structure first, orphans once nothing else is left to repair, the counts last.
        let Some(stage) = allowed.iter().map(Fix::stage).min() else {
            break;
        };
        let pass: Vec<Fix> = allowed.into_iter().filter(|f| f.stage() == stage).collect();
        if pass.is_empty() {
            break;
        }
        repaired += pass.len();
        c.apply(&pass);
        c.reset();
        c.quiet = true;
        c.run(false);
        if c.problems == 0 {
            break;
        }
    }
    c.dev.file.sync_all().unwrap_or_else(|e| {
        err!("fsck.xtfs: {path}: sync: {e}");
        exit(8)
    });
    if c.problems == 0 {
        out!("{path}: repaired ({repaired} repairs)");
        return 1;
    }
    // What is left, reported once more.
    c.reset();
    c.quiet = false;
    c.run(verbose);
    if mode == Mode::Preen && c.unfixable < c.problems {
        out!("{path}: UNEXPECTED INCONSISTENCY: run fsck.xtfs -y");
    }
    out!(
        "{path}: {} problems left after {repaired} repairs",
        c.problems
    );
    4
}

/// Makes what was written to `dev` durable, then writes an empty log with sequence number
/// `seq` and makes it durable: the order a checkpoint has.
fn sync_and_empty_log(dev: &Device, sb: &Super, seq: u64, path: &str) {
    let done = dev
        .file
        .sync_all()
        .and_then(|()| write_empty_log(dev, sb, seq))
        .and_then(|()| dev.file.sync_all());
    done.unwrap_or_else(|e| {
        err!("fsck.xtfs: {path}: writing the log: {e}");
        exit(8)
    });
}

fn main() {
    let mut devices = Vec::new();
    let mut verbose = false;
    let mut mode = None;
    for a in std::env::args().skip(1) {
        let m = match a.as_str() {
            "-n" => Some(Mode::Check),
            "-y" => Some(Mode::Repair),
            "-p" | "-a" => Some(Mode::Preen),
            "-f" => None,
            "-v" => {
                verbose = true;
                None
            }
            s if s.starts_with('-') => {
                err!("fsck.xtfs: unknown option {s}\n{USAGE}");
                exit(16)
            }
            s => {
                devices.push(s.to_string());
                None
            }
        };
        if let Some(m) = m {
            if mode.is_some_and(|prev| prev != m) {
                err!("fsck.xtfs: only one of -n, -y and -p may be given\n{USAGE}");
                exit(16)
            }
            mode = Some(m);
        }
    }
    if devices.is_empty() {
        err!("{USAGE}");
        exit(16)
    }
    let mode = mode.unwrap_or(Mode::Check);
    // As fsck(8) with several filesystems: the statuses or'ed together.
    let status = devices
        .iter()
        .fold(0, |status, path| status | check(path, mode, verbose));
    exit(status)
}
