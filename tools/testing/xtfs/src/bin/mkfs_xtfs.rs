// SPDX-License-Identifier: GPL-2.0

//! mkfs.xtfs: make an xtfs filesystem (Documentation/filesystems/xtfs.rst).
//!
//! ```text
//! mkfs.xtfs [-b block-size] [-N inodes] [-s size[k|m|g]] [-d root-directory] [-n] [-q] [--] device
//! ```
//!
//! `-s` makes the filesystem smaller than the device (the rest is not used), as fstests'
//! `_scratch_mkfs_sized` asks; `--` ends the options, as getopt's convention has it.
//! `-n` prints the layout without writing anything, as mke2fs does. `-d` copies a directory
//! tree (directories, regular files, symbolic links, special files, hard links, modes, owners,
//! times and the extended attributes of the `user.`, `trusted.` and `security.` namespaces) into
//! the new filesystem, as `mke2fs -d` does. Exit status 0 on success,
//! 1 on any error (bad option, device too small, I/O error).

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::exit;
use std::time::{SystemTime, UNIX_EPOCH};
use xtfs::*;

const USAGE: &str = "usage: mkfs.xtfs [-b block-size] [-N inodes] [-s size[k|m|g]] \
                     [-d root-directory] [-n] [-q] [--] device";

/// Extended attributes of the source tree, through the C library (`std` has no calls for them).
mod xattr {
    use std::ffi::{c_char, CString};
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    extern "C" {
        fn llistxattr(path: *const c_char, list: *mut u8, size: usize) -> isize;
        fn lgetxattr(
            path: *const c_char,
            name: *const c_char,
            value: *mut u8,
            size: usize,
        ) -> isize;
    }

    fn c_path(path: &Path) -> io::Result<CString> {
        CString::new(path.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput.into())
    }

    /// Calls `f` with a buffer of the size it asks for (with an empty one), again if the value
    /// grew in between (`ERANGE`).
    fn sized(mut f: impl FnMut(*mut u8, usize) -> isize) -> io::Result<Vec<u8>> {
        loop {
            let n = f(std::ptr::null_mut(), 0);
            if n < 0 {
                let e = io::Error::last_os_error();
                // A filesystem without extended attributes has none.
                return match e.raw_os_error() {
                    Some(95) => Ok(Vec::new()), // EOPNOTSUPP
                    _ => Err(e),
                };
            }
            let mut buf = vec![0u8; n as usize];
            let got = f(buf.as_mut_ptr(), buf.len());
            if got >= 0 {
                buf.truncate(got as usize);
                return Ok(buf);
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(34 /* ERANGE */) {
                return Err(e);
            }
        }
    }

    /// The names of the extended attributes of `path`.
    pub fn list(path: &Path) -> io::Result<Vec<Vec<u8>>> {
        let p = c_path(path)?;
        // SAFETY: `p` is a C string and the buffer is valid for `size` bytes.
        let names = sized(|buf, size| unsafe { llistxattr(p.as_ptr(), buf, size) })?;
        Ok(names
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .map(|n| n.to_vec())
            .collect())
    }

    /// The value of extended attribute `name` of `path`.
    pub fn get(path: &Path, name: &[u8]) -> io::Result<Vec<u8>> {
        let p = c_path(path)?;
        let n = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: `p` and `n` are C strings and the buffer is valid for `size` bytes.
        sized(|buf, size| unsafe { lgetxattr(p.as_ptr(), n.as_ptr(), buf, size) })
    }
}

/// The mode's file type of a special file (device node, FIFO, socket) of type `ft`.
fn special_type(ft: &std::fs::FileType) -> Option<u16> {
    Some(if ft.is_char_device() {
        S_IFCHR
    } else if ft.is_block_device() {
        S_IFBLK
    } else if ft.is_fifo() {
        S_IFIFO
    } else if ft.is_socket() {
        S_IFSOCK
    } else {
        return None;
    })
}

/// A device number as `stat(2)` gives it (glibc's `dev_t`) in the encoding xtfs stores, the
/// kernel's `new_encode_dev()`.
fn encode_dev(dev: u64) -> u32 {
    let major = (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32;
    let minor = (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32;
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

fn fail(msg: &str) -> ! {
    eprintln!("mkfs.xtfs: {msg}");
    exit(1)
}

fn parse_size(s: &str) -> Option<u64> {
    let (num, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1 << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

struct Options {
    block_size: u64,
    inodes: Option<u32>,
    size: Option<u64>,
    dry_run: bool,
    quiet: bool,
    root_dir: Option<String>,
    device: String,
}

fn parse_args() -> Options {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        block_size: 4096,
        inodes: None,
        size: None,
        dry_run: false,
        quiet: false,
        root_dir: None,
        device: String::new(),
    };
    let mut options_end = false;
    while let Some(a) = args.next() {
        if options_end || a == "--" || !a.starts_with('-') {
            // After `--` (as getopt has it, and as fstests' `_scratch_mkfs` passes), every
            // argument is an operand, even one starting with '-'.
            if a == "--" && !options_end {
                options_end = true;
            } else if o.device.is_empty() {
                o.device = a;
            } else {
                fail(&format!("unexpected argument {a}\n{USAGE}"));
            }
            continue;
        }
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| fail(&format!("{name} needs a value\n{USAGE}")))
        };
        match a.as_str() {
            "-b" => {
                let v = value("-b");
                o.block_size =
                    parse_size(&v).unwrap_or_else(|| fail(&format!("bad block size {v}")));
            }
            "-N" => {
                let v = value("-N");
                o.inodes = Some(
                    v.parse()
                        .unwrap_or_else(|_| fail(&format!("bad inode count {v}"))),
                );
            }
            "-s" => {
                let v = value("-s");
                o.size = Some(parse_size(&v).unwrap_or_else(|| fail(&format!("bad size {v}"))));
            }
            "-d" => o.root_dir = Some(value("-d")),
            "-n" => o.dry_run = true,
            "-q" => o.quiet = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                exit(0)
            }
            s => fail(&format!("unknown option {s}\n{USAGE}")),
        }
    }
    if o.device.is_empty() {
        fail(USAGE);
    }
    o
}

fn main() {
    let o = parse_args();
    if !o.block_size.is_power_of_two() {
        fail(&format!(
            "block size {} is not a power of two",
            o.block_size
        ));
    }
    let block_bits = o.block_size.trailing_zeros();
    let dev =
        Device::open(&o.device, !o.dry_run).unwrap_or_else(|e| fail(&format!("{}: {e}", o.device)));
    let bytes = o.size.unwrap_or(dev.bytes);
    if bytes > dev.bytes {
        fail(&format!(
            "{} is {} bytes, smaller than {bytes}",
            o.device, dev.bytes
        ));
    }
    let blocks = bytes >> block_bits;
    // One inode per 16 KiB by default, at least 64.
    let inodes = o
        .inodes
        .unwrap_or_else(|| (bytes / 16384).clamp(64, 1 << 20) as u32);
    let log_blocks = default_log_blocks(blocks);
    let mut sb = Super::layout(block_bits, blocks, inodes, log_blocks).unwrap_or_else(|e| fail(&e));
    if !o.quiet {
        println!(
            "xtfs: {} blocks of {} bytes, {} inodes; bitmap at {} ({} blocks), inode table at {} \
             ({} blocks), log at {} ({} blocks), data from block {}",
            sb.blocks,
            sb.block_size(),
            sb.inodes,
            sb.bitmap_start,
            sb.bitmap_blocks,
            sb.itable_start,
            sb.itable_blocks,
            sb.log_start,
            sb.log_blocks,
            sb.data_start
        );
    }
    if o.dry_run {
        return;
    }
    // A random UUID; without /dev/urandom it stays zero, which nothing depends on.
    if let Ok(f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut &f, &mut sb.uuid);
    }

    let mut img = Image {
        bitmap: vec![0u8; (sb.bitmap_blocks * sb.block_size()) as usize],
        itable: vec![0u8; (sb.itable_blocks * sb.block_size()) as usize],
        next_block: sb.data_start,
        next_ino: ROOT_INO + 1,
        links: HashMap::new(),
        sb,
        dev,
    };
    for b in 0..img.sb.data_start {
        img.set_used(b);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let t = (now.as_secs() as i64, now.subsec_nanos());
    let mut root = RawInode {
        mode: S_IFDIR | 0o755,
        nlink: 2,
        times: [t; 3],
        btime: t,
        generation: new_generation(),
        parent: ROOT_INO,
        ..Default::default()
    };
    if let Some(dir) = &o.root_dir {
        let meta = std::fs::metadata(dir).unwrap_or_else(|e| fail(&format!("{dir}: {e}")));
        root = img.copy_dir(Path::new(dir), ROOT_INO, ROOT_INO, &meta);
        img.copy_xattrs(Path::new(dir), ROOT_INO, &mut root);
    }
    img.put_inode(ROOT_INO, &root);

    let bs = img.sb.block_size();
    let mut block0 = vec![0u8; bs as usize];
    block0[..512].copy_from_slice(&img.sb.encode());
    img.write(0, &block0);
    img.write(img.sb.bitmap_start * bs, &img.bitmap.clone());
    img.write(img.sb.itable_start * bs, &img.itable.clone());
    write_empty_log(&img.dev, &img.sb, 0).unwrap_or_else(|e| fail(&format!("{}: {e}", o.device)));
    img.dev
        .file
        .sync_all()
        .unwrap_or_else(|e| fail(&format!("{}: {e}", o.device)));
}

/// A filesystem being made: the bitmap and the inode table in memory, data written as it is
/// allocated.
struct Image {
    sb: Super,
    dev: Device,
    bitmap: Vec<u8>,
    itable: Vec<u8>,
    next_block: u64,
    next_ino: u32,
    /// Hard links: the source's (device, inode) to ours, and how many names it got.
    links: HashMap<(u64, u64), u32>,
}

impl Image {
    fn set_used(&mut self, b: u64) {
        self.bitmap[(b / 8) as usize] |= 1 << (b % 8);
    }

    fn write(&self, off: u64, buf: &[u8]) {
        self.dev
            .write(off, buf)
            .unwrap_or_else(|e| fail(&format!("write at byte {off}: {e}")));
    }

    fn new_ino(&mut self) -> u32 {
        if self.next_ino > self.sb.inodes {
            fail(&format!("more than {} files: use -N", self.sb.inodes));
        }
        self.next_ino += 1;
        self.next_ino - 1
    }

    fn put_inode(&mut self, ino: u32, raw: &RawInode) {
        let off = (ino as usize - 1) * INODE_SIZE;
        self.itable[off..off + INODE_SIZE].copy_from_slice(&raw.encode_with_crc(ino));
    }

    fn inode(&self, ino: u32) -> RawInode {
        let off = (ino as usize - 1) * INODE_SIZE;
        RawInode::decode(&self.itable[off..off + INODE_SIZE], ino)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    fn alloc(&mut self, blocks: u64) -> u64 {
        if self.next_block + blocks > self.sb.blocks {
            fail("the files do not fit: make the filesystem bigger");
        }
        let start = self.next_block;
        self.next_block += blocks;
        for b in start..start + blocks {
            self.set_used(b);
        }
        start
    }

    /// Writes `data` into newly allocated blocks and returns its extents, written. With
    /// `sparse`, blocks of zeroes are left as holes (as `cp --sparse=always` does); each run of
    /// data blocks is one extent.
    fn store(&mut self, data: &[u8], sparse: bool) -> Vec<Extent> {
        let bs = self.sb.block_size() as usize;
        let mut extents: Vec<Extent> = Vec::new();
        for (i, chunk) in data.chunks(bs).enumerate() {
            if sparse && chunk.iter().all(|&b| b == 0) {
                continue;
            }
            let disk = self.alloc(1);
            let mut block = chunk.to_vec();
            block.resize(bs, 0);
            self.write(disk * bs as u64, &block);
            match extents.last_mut() {
                Some(e)
                    if e.file_block + e.len as u64 == i as u64
                        && e.disk_block + e.len as u64 == disk
                        && e.len < u32::MAX =>
                {
                    e.len += 1
                }
                _ => extents.push(Extent {
                    file_block: i as u64,
                    disk_block: disk,
                    len: 1,
                    flags: 0,
                }),
            }
        }
        extents
    }

    /// Gives inode `ino` its extents: in the inode, or in an extent tree whose root it holds.
    fn set_extents(&mut self, ino: u32, raw: &mut RawInode, extents: Vec<Extent>) {
        let bs = self.sb.block_size();
        let shape = TreeShape::new(extents.len() as u64, bs)
            .unwrap_or_else(|| fail(&format!("inode {ino}: too many extents")));
        let blocks: Vec<u64> = (0..shape.total()).map(|_| self.alloc(1)).collect();
        let mut b = vec![0u8; bs as usize];
        let mut nodes = Vec::new();
        let tree = TreeData {
            extents: &extents,
            blocks: &blocks,
            ino,
            generation: raw.generation,
        };
        write_tree::<()>(&shape, &tree, &mut b, crc32c, |block, node| {
            nodes.push((block, node.to_vec()));
            Ok(())
        })
        .unwrap();
        for (block, node) in nodes {
            self.write(block * bs, &node);
        }
        shape.set_root(raw, &extents, &blocks);
    }

    fn attrs(meta: &std::fs::Metadata, mode: u16) -> RawInode {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        RawInode {
            generation: new_generation(),
            btime: (now.as_secs() as i64, now.subsec_nanos()),
            mode: mode | (meta.mode() as u16 & 0o7777),
            nlink: 1,
            uid: meta.uid(),
            gid: meta.gid(),
            times: [
                (meta.atime(), meta.atime_nsec() as u32),
                (meta.mtime(), meta.mtime_nsec() as u32),
                (meta.ctime(), meta.ctime_nsec() as u32),
            ],
            ..Default::default()
        }
    }

    /// Copies the extended attributes of `path` (not followed if a symlink) into inode `ino`,
    /// `raw`: those of the namespaces xtfs stores, each where it first fits, in the inode or its
    /// block (as the kernel places them). Others are skipped with a warning; attributes that do
    /// not fit fail.
    fn copy_xattrs(&mut self, path: &Path, ino: u32, raw: &mut RawInode) {
        let what =
            |e: String| -> ! { fail(&format!("{}: extended attributes: {e}", path.display())) };
        let mut values = Vec::new();
        for name in xattr::list(path).unwrap_or_else(|e| what(e.to_string())) {
            // An ACL's name is its namespace's prefix alone.
            let acl = [XATTR_ACL_ACCESS, XATTR_ACL_DEFAULT]
                .into_iter()
                .find(|&ns| xattr_prefix(ns) == Some(&name[..]))
                .map(|ns| (ns, &b""[..]));
            let found = acl.or_else(|| {
                [XATTR_USER, XATTR_TRUSTED, XATTR_SECURITY]
                    .into_iter()
                    .find_map(|ns| Some((ns, name.strip_prefix(xattr_prefix(ns)?)?)))
            });
            let Some((ns, suffix)) = found else {
                eprintln!(
                    "mkfs.xtfs: {}: {}: skipped (a namespace xtfs does not store)",
                    path.display(),
                    String::from_utf8_lossy(&name)
                );
                continue;
            };
            let value = xattr::get(path, &name).unwrap_or_else(|e| what(e.to_string()));
            if acl.is_some() && !posix_acl_valid(&value) {
                what(format!(
                    "{} is not a valid ACL",
                    String::from_utf8_lossy(&name)
                ));
            }
            values.push((ns, suffix.to_vec(), value));
        }
        if values.is_empty() {
            return;
        }
        let entries: Vec<XattrEntry<'_>> = values
            .iter()
            .map(|(namespace, name, value)| XattrEntry {
                namespace: *namespace,
                name,
                value,
            })
            .collect();
        if let Some(e) = entries.iter().find(|e| !e.valid()) {
            what(format!("{} is not valid", String::from_utf8_lossy(e.name)));
        }
        let bs = self.sb.block_size() as usize;
        let mut block = vec![0u8; bs];
        let (bytes, block_bytes) = place_xattrs(
            entries.iter().copied(),
            &mut raw.xattrs,
            &mut block[XATTR_HEADER..],
        )
        .unwrap_or_else(|| what(format!("more than fit in the inode and a {bs}-byte block")));
        raw.xattr_bytes = bytes as u16;
        if block_bytes > 0 {
            let header = XattrHeader {
                ino,
                generation: raw.generation,
                bytes: block_bytes as u32,
                ..XattrHeader::default()
            };
            header.encode(&mut block, crc32c);
            raw.xattr_block = self.alloc(1);
            self.write(raw.xattr_block * bs as u64, &block);
        }
    }

    /// Copies directory `path` as inode `ino` with parent `parent`; returns its inode.
    fn copy_dir(
        &mut self,
        path: &Path,
        ino: u32,
        parent: u32,
        meta: &std::fs::Metadata,
    ) -> RawInode {
        let mut dir = Self::attrs(meta, S_IFDIR);
        dir.parent = parent;
        dir.nlink = 2;
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())))
            .map(|e| e.unwrap_or_else(|e| fail(&format!("{}: {e}", path.display()))))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        let mut table = Vec::new();
        for entry in entries {
            let name = entry.file_name();
            let name = name.as_bytes();
            let child = entry.path();
            if name.len() > NAME_MAX {
                fail(&format!(
                    "{}: name longer than {NAME_MAX} bytes",
                    child.display()
                ));
            }
            let meta = std::fs::symlink_metadata(&child)
                .unwrap_or_else(|e| fail(&format!("{}: {e}", child.display())));
            let ft = meta.file_type();
            let (cino, dtype) = if ft.is_dir() {
                let cino = self.new_ino();
                let mut raw = self.copy_dir(&child, cino, ino, &meta);
                self.copy_xattrs(&child, cino, &mut raw);
                self.put_inode(cino, &raw);
                if dir.nlink >= LINK_MAX {
                    fail(&format!(
                        "{}: more than {} subdirectories",
                        path.display(),
                        LINK_MAX - 2
                    ));
                }
                dir.nlink += 1;
                (cino, DT_DIR)
            } else if ft.is_symlink() {
                let target = std::fs::read_link(&child)
                    .unwrap_or_else(|e| fail(&format!("{}: {e}", child.display())));
                let target = target.as_os_str().as_bytes();
                if target.is_empty() || target.len() as u64 >= self.sb.block_size() {
                    fail(&format!("{}: symlink target too long", child.display()));
                }
                let cino = self.new_ino();
                let mut raw = Self::attrs(&meta, S_IFLNK);
                raw.size = target.len() as u64;
                let extents = self.store(target, false);
                self.set_extents(cino, &mut raw, extents);
                self.copy_xattrs(&child, cino, &mut raw);
                self.put_inode(cino, &raw);
                (cino, DT_LNK)
            } else if ft.is_file() || special_type(&ft).is_some() {
                let key = (meta.dev(), meta.ino());
                if let Some(&cino) = self.links.get(&key) {
                    let mut raw = self.inode(cino);
                    if raw.nlink >= LINK_MAX {
                        fail(&format!(
                            "{}: more than {LINK_MAX} hard links",
                            child.display()
                        ));
                    }
                    raw.nlink += 1;
                    self.put_inode(cino, &raw);
                    (cino, entry_type(raw.mode).unwrap_or(DT_REG))
                } else if let Some(typ) = special_type(&ft) {
                    // A device node, FIFO or socket: no data, a device number for a device.
                    let cino = self.new_ino();
                    let mut raw = Self::attrs(&meta, typ);
                    if matches!(typ, S_IFCHR | S_IFBLK) {
                        raw.rdev = encode_dev(meta.rdev());
                    }
                    self.copy_xattrs(&child, cino, &mut raw);
                    self.put_inode(cino, &raw);
                    if meta.nlink() > 1 {
                        self.links.insert(key, cino);
                    }
                    (cino, entry_type(typ).unwrap_or(DT_REG))
                } else {
                    let data = std::fs::read(&child)
                        .unwrap_or_else(|e| fail(&format!("{}: {e}", child.display())));
                    let cino = self.new_ino();
                    let mut raw = Self::attrs(&meta, S_IFREG);
                    raw.size = data.len() as u64;
                    let extents = self.store(&data, true);
                    self.set_extents(cino, &mut raw, extents);
                    self.copy_xattrs(&child, cino, &mut raw);
                    self.put_inode(cino, &raw);
                    if meta.nlink() > 1 {
                        self.links.insert(key, cino);
                    }
                    (cino, DT_REG)
                }
            } else {
                eprintln!(
                    "mkfs.xtfs: {}: skipped (of no type xtfs has)",
                    child.display()
                );
                continue;
            };
            let mut d = [0u8; DIRENT_SIZE];
            encode_dirent(&mut d, cino, dtype, name);
            table.extend_from_slice(&d);
        }
        let extents = self.store(&table, false);
        dir.size = extents.iter().map(|e| e.len as u64).sum::<u64>() * self.sb.block_size();
        self.set_extents(ino, &mut dir, extents);
        dir
    }
}
