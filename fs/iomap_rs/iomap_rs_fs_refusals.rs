// SPDX-License-Identifier: GPL-2.0

//! iomap_rs_fs_refusals: a filesystem that misuses `kernel::fs` in safe Rust, to prove that each
//! misuse the types cannot rule out is refused at run time, with an error and no kernel splat.
//!
//! It registers the filesystem type `iomap_rs_refusals`, which mounts any block device whose
//! first bytes are `IOMAPRS-REFUSALS` (a `F` after them makes `root` fail after it dirtied an
//! inode). Looking up a name in its root directory runs the scenario of that name and logs
//! `iomap_rs_fs_refusals: NAME: ok` if the abstraction refused as it must, or
//! `iomap_rs_fs_refusals: NAME: FAILED: ...` otherwise (the lookup then finds nothing, but for
//! `dio`, a regular file). Listing the root emits a name with a `/`; `mkdir` returns a regular
//! file. `write_inode` and `evict_inode` log the inode, and complain if they see the data
//! dropped.
//! `tools/testing/iomap_rs/tests/fs_refusals.sh` drives it.
//!
//! Each mount also registers a second type, `iomap_rs_refusals_b`, whose registration the data
//! keeps: the `drop-registration-b` scenario drops it while such a filesystem is mounted.

use core::pin::Pin;
use kernel::c_str;
use kernel::fs::{
    self, address_space, dir,
    inode::{self, INode, INodeRef, LockedDir, NewOwner},
    sb::{self, Either, SuperBlock},
};
use kernel::iomap::{
    delalloc::write_delalloc_release,
    iter::{IomapOps, IterFlags},
    map::{Iomap, MappingType},
    range::FileRange,
    zero,
};
use kernel::pagecache::{Inode, InodeLock};
use kernel::prelude::*;
use kernel::sync::{new_mutex, Mutex};
use kernel::uio::{IovIter, Kiocb};

module! {
    type: Refusals,
    name: "iomap_rs_fs_refusals",
    author: "iomap_rs developers",
    description: "Misuses of kernel::fs that must be refused at run time",
    license: "GPL",
}

const MAGIC: &[u8] = b"IOMAPRS-REFUSALS";
const ROOT_INO: u64 = 1;
const FILE_INO: u64 = 2;
const BAD_INO: u64 = 3;
const MKDIR_INO: u64 = 5;
const DIR_FOPS_INO: u64 = 6;
/// Logs the outcome of scenario `name`: `Ok` if the abstraction refused as it must.
fn report(name: &str, outcome: core::result::Result<(), &str>) {
    match outcome {
        Ok(()) => pr_info!("{}: ok\n", name),
        Err(why) => pr_err!("{}: FAILED: {}\n", name, why),
    }
}

/// `Ok` if `got` is the error `want`.
fn refused<T>(got: Result<T>, want: Error) -> core::result::Result<(), &'static str> {
    match got {
        Err(e) if e == want => Ok(()),
        Err(_) => Err("refused with another error"),
        Ok(_) => Err("not refused"),
    }
}

struct RefusalsFs;

/// The data of a mount: it holds the registration of the second type. (It cannot hold an
/// inode: `ui/fs_data_holds_inode.rs`.)
#[pin_data]
struct Data {
    /// A callback that saw the data after its drop would find it poisoned.
    poison: Poison,
    #[pin]
    registration_b: Mutex<Option<Pin<KBox<fs::Registration>>>>,
    fail_root: bool,
}

/// `ALIVE` until dropped, `POISONED` after.
struct Poison(u32);

const ALIVE: u32 = 0x5a5a;
const POISONED: u32 = 0xdead;

impl Drop for Poison {
    fn drop(&mut self) {
        self.0 = POISONED;
    }
}

/// Logs a callback for inode `ino`, and complains if the data `sb` gives was dropped: what
/// the `write_inode` and `evict_inode` callbacks must never see.
fn check_data(sb: &SuperBlock<RefusalsFs>, callback: &str, ino: u64) {
    let value = sb.data().poison.0;
    if value != ALIVE {
        pr_err!("{} saw the data dropped ({:#x})\n", callback, value);
    }
    pr_info!("{} {}\n", callback, ino);
}

#[vtable]
impl fs::FileSystem for RefusalsFs {
    const NAME: &'static CStr = c_str!("iomap_rs_refusals");
    type Data = Data;
    type INodeData = ();

    fn inode_data() -> impl PinInit<(), Error> {}

    fn fill_super(sb: &sb::NewSuperBlock<'_, Self>) -> Result<impl PinInit<Data, Error>> {
        let mut head = [0u8; 17];
        sb.read(0, &mut head)?;
        if &head[..MAGIC.len()] != MAGIC {
            return Err(EINVAL);
        }
        sb.set_block_size(4096)?;
        let registration_b =
            KBox::pin_init(fs::Registration::new::<FsB>(&THIS_MODULE), GFP_KERNEL)?;
        Ok(try_pin_init!(Data {
            registration_b <- new_mutex!(Some(registration_b)),
            fail_root: head[MAGIC.len()] == b'F',
            poison: Poison(ALIVE),
        }? Error))
    }

    fn root(sb: &SuperBlock<Self>) -> Result<INodeRef<'_, Self>> {
        let root = get_inode(sb, ROOT_INO)?;
        if sb.data().fail_root {
            // A dirty inode when the mount fails: the superblock is inactive, so its last
            // reference, dropped here, writes and evicts it at once, before the data goes.
            let file = get_inode(sb, FILE_INO)?;
            file.mark_dirty();
            return Err(EUCLEAN);
        }
        Ok(root)
    }

    fn write_inode(inode: &INode<Self>, _sync: bool) -> Result {
        check_data(inode.super_block(), "write_inode", inode.ino());
        Ok(())
    }

    fn evict_inode(inode: &inode::Evicting<'_, Self>) {
        check_data(inode.super_block(), "evict_inode", inode.ino());
    }

    /// `user.small` is 10 bytes, given to buffers of any size; `user.huge` tries a value over
    /// `XATTR_SIZE_MAX` (refused with `E2BIG`); `user.none` returns `Ok` without a value.
    fn xattr_get(
        _inode: &INode<Self>,
        name: &fs::xattr::Name<'_>,
        value: &mut fs::xattr::Value<'_>,
    ) -> Result {
        match name.suffix() {
            b"small" => value.set(b"0123456789"),
            b"huge" => {
                let huge = KVec::from_elem(0u8, fs::xattr::SIZE_MAX + 1, GFP_KERNEL)?;
                let result = value.set(&huge);
                report("xattr-huge", refused(result, E2BIG));
                result
            }
            b"none" => Ok(()),
            _ => Err(ENODATA),
        }
    }

    fn xattr_set(
        _inode: &INode<Self>,
        _name: &fs::xattr::Name<'_>,
        _value: Option<&[u8]>,
        _flags: fs::xattr::SetFlags,
    ) -> Result {
        Err(EOPNOTSUPP)
    }

    /// Lists `user.small`, then names of 250 bytes until the list refuses one: past the
    /// caller's buffer (`ERANGE`) or past `XATTR_LIST_MAX` (`E2BIG`).
    fn xattr_list(_inode: &INode<Self>, list: &mut fs::xattr::List<'_>) -> Result {
        let ns = fs::xattr::Namespace::User;
        list.add(&fs::xattr::Name::new(ns, b"small")?)?;
        let long = [b'n'; 250];
        loop {
            list.add(&fs::xattr::Name::new(ns, &long)?)?;
        }
    }
}

/// Returns inode `ino`: the root directory, the regular file, or anything else as a directory.
fn get_inode(sb: &SuperBlock<RefusalsFs>, ino: u64) -> Result<INodeRef<'_, RefusalsFs>> {
    let new = match sb.get_or_create_inode(ino)? {
        Either::Left(inode) => return Ok(inode),
        Either::Right(new) => new,
    };
    new.init(if ino == FILE_INO {
        file_params()
    } else {
        dir_params(0)
    })
}

/// The attributes of an inode of mode `mode`, `nlink` links and `size` bytes.
fn attrs(mode: u16, nlink: u32, size: i64) -> inode::Attrs {
    inode::Attrs {
        mode,
        nlink,
        uid: 0,
        gid: 0,
        size,
        atime: inode::Time::default(),
        mtime: inode::Time::default(),
        ctime: inode::Time::default(),
    }
}

/// A regular file, mapped by [`Mapper`].
fn file_params() -> inode::Params<RefusalsFs> {
    inode::Params {
        kind: inode::Kind::Reg(address_space::Ops::iomap::<Mapper>()),
        attrs: attrs(0o644, 1, 0),
        inode_ops: inode::Ops::new::<DirOps>(),
        file_ops: fs::file::Ops::new::<FileOps>(),
        large_folios: false,
        flags: inode::Flags::empty(),
        generation: 0,
    }
}

/// A directory of `size` bytes.
fn dir_params(size: i64) -> inode::Params<RefusalsFs> {
    inode::Params {
        kind: inode::Kind::Dir,
        attrs: attrs(0o755, 2, size),
        inode_ops: inode::Ops::new::<DirOps>(),
        file_ops: fs::file::Ops::new::<DirFileOps>(),
        large_folios: false,
        flags: inode::Flags::empty(),
        generation: 0,
    }
}

/// Maps every file as unwritten blocks on no device (`Iomap::new`), which C iomap must never
/// see: direct I/O would write them through a null device.
struct Mapper;

/// Maps everything as one mapping type on no device: unwritten blocks for [`Mapper`], delayed
/// allocation (as a write would, which makes the library attach its per-block state to the
/// folios) for the library calls on a directory.
struct DevicelessOps(MappingType);

impl IomapOps for DevicelessOps {
    fn begin(
        &mut self,
        pos: i64,
        len: u64,
        _flags: IterFlags,
        iomap: &mut Iomap,
        _srcmap: &mut Iomap,
    ) -> Result {
        *iomap = Iomap::new(self.0, pos, len.min(1 << 20), 0)?;
        Ok(())
    }

    /// What `begin` took would be released here: it must be called even when the mapping is
    /// refused after `begin`.
    fn end(
        &mut self,
        pos: i64,
        _len: u64,
        written: u64,
        _flags: IterFlags,
        _iomap: &mut Iomap,
    ) -> Result {
        pr_info!("deviceless: end at {} after {} bytes\n", pos, written);
        Ok(())
    }
}

impl address_space::Mapper for Mapper {
    type FileSystem = RefusalsFs;
    type Ops<'a> = DevicelessOps;

    fn ops(_inode: &INode<RefusalsFs>) -> DevicelessOps {
        DevicelessOps(MappingType::Unwritten)
    }

    const DIRECT_IO: bool = true;
}

impl address_space::DirectWrite for Mapper {
    fn direct_write_done(
        _inode: &INode<RefusalsFs>,
        _lock: &InodeLock<'_>,
        _offset: i64,
        _size: u64,
        _unwritten: bool,
    ) -> Result {
        Ok(())
    }
}

struct FileOps;

#[vtable]
impl fs::file::Operations for FileOps {
    type FileSystem = RefusalsFs;

    fn read_iter(_inode: &INode<RefusalsFs>, kiocb: &mut Kiocb, to: &mut IovIter) -> Result<usize> {
        fs::file::generic_read(kiocb, to)
    }

    /// Direct writes only: through C's direct I/O with the device-less mapping, which must be
    /// refused (`EIO`) before C submits anything.
    fn write_iter(
        inode: &INode<RefusalsFs>,
        kiocb: &mut Kiocb,
        from: &mut IovIter,
    ) -> Result<usize> {
        if !kiocb.is_direct() {
            return Err(EOPNOTSUPP);
        }
        // A negative position has no place in a kiocb.
        report("set-pos", refused(kiocb.set_pos(-1), EINVAL));
        let lock = inode.as_inode().lock_exclusive();
        fs::file::write_checks(kiocb, from, &lock)?;
        let ret = address_space::direct_write::<Mapper>(inode, kiocb, from, &lock);
        let outcome = match ret {
            Err(e) if e == EIO => Ok(()),
            Err(_) => Err("refused with another error"),
            Ok(_) => Err("not refused"),
        };
        report("dio-deviceless", outcome);
        ret
    }
}

struct DirFileOps;

#[vtable]
impl fs::file::Operations for DirFileOps {
    type FileSystem = RefusalsFs;

    /// Lists ".", "..", then a name with a `/`, which must be refused.
    fn read_dir(dir: &INode<RefusalsFs>, emitter: &mut dir::Emitter<'_>) -> Result {
        if emitter.pos() == 0 && !emitter.emit(1, b".", dir.ino(), dir::EntryType::Dir)? {
            return Ok(());
        }
        if emitter.pos() == 1 && !emitter.emit(2, b"..", ROOT_INO, dir::EntryType::Dir)? {
            return Ok(());
        }
        if emitter.pos() == 2 {
            report(
                "readdir-slash",
                refused(
                    emitter.emit(3, b"bad/name", FILE_INO, dir::EntryType::Reg),
                    EUCLEAN,
                ),
            );
            report(
                "readdir-empty",
                refused(emitter.emit(3, b"", FILE_INO, dir::EntryType::Reg), EUCLEAN),
            );
        }
        Ok(())
    }
}

struct DirOps;

#[vtable]
impl inode::Operations for DirOps {
    type FileSystem = RefusalsFs;

    fn lookup<'a>(
        dir: &'a INode<RefusalsFs>,
        name: &[u8],
    ) -> Result<Option<INodeRef<'a, RefusalsFs>>> {
        let sb = dir.super_block();
        match name {
            b"dio" => return Ok(Some(get_inode(sb, FILE_INO)?)),
            b"neg-folio" => {
                let file = get_inode(sb, FILE_INO)?;
                let mapping = file.as_inode().mapping();
                let outcome = refused(mapping.get_folio_for_write(-1, 4096, false), EINVAL)
                    .and_then(|()| match mapping.lock_folio(-4096).is_none() {
                        true => Ok(()),
                        false => Err("lock_folio(-4096) found a folio"),
                    })
                    .and_then(|()| match mapping.get_folio(i64::MIN).is_none() {
                        true => Ok(()),
                        false => Err("get_folio(i64::MIN) found a folio"),
                    })
                    .and_then(|()| {
                        refused(
                            mapping.seek_hole_data(-1, 4096, kernel::pagecache::Seek::Data),
                            EINVAL,
                        )
                    });
                report("neg-folio", outcome);
            }
            b"neg-size" => {
                let outcome = match sb.get_or_create_inode(BAD_INO)? {
                    Either::Right(new) => refused(new.init(dir_params(-1)), EUCLEAN),
                    Either::Left(_) => Err("the inode exists already"),
                };
                report("neg-size", outcome);
            }
            b"dir-file-ops" => {
                // A directory whose file operations read through a page cache it has no
                // address-space operations for.
                let outcome = match sb.get_or_create_inode(DIR_FOPS_INO)? {
                    Either::Right(new) => {
                        let mut params = dir_params(0);
                        params.file_ops = fs::file::Ops::new::<FileOps>();
                        refused(new.init(params), EINVAL)
                    }
                    Either::Left(_) => Err("the inode exists already"),
                };
                report("dir-file-ops", outcome);
            }
            b"sizes" => {
                let file = get_inode(sb, FILE_INO)?;
                let lock = file.as_inode().lock_exclusive();
                let outcome = {
                    let invalidate = file.as_inode().mapping().invalidate_lock_write();
                    refused(lock.write_size(-1), EINVAL)
                        .and_then(|()| lock.write_size(8192).map_err(|_| "write_size(8192) failed"))
                        // Shrinking EOF without dropping the cache beyond it.
                        .and_then(|()| refused(lock.write_size(4096), EINVAL))
                        .and_then(|()| refused(lock.set_size_truncate(&invalidate, -1), EINVAL))
                        .and_then(|()| {
                            refused(lock.write_and_drop_range(&invalidate, -1, 4096), EINVAL)
                        })
                };
                // Another mapping's lock proves nothing (taken alone: two invalidate locks
                // of one filesystem type are one lock class).
                let outcome = outcome.and_then(|()| {
                    let other = dir.as_inode().mapping().invalidate_lock_write();
                    refused(lock.set_size_truncate(&other, 0), EINVAL)
                });
                let outcome = outcome
                    .and_then(|()| {
                        let invalidate = file.as_inode().mapping().invalidate_lock_write();
                        lock.set_size_truncate(&invalidate, 0)
                            .map_err(|_| "set_size_truncate(0) failed")
                    })
                    .and_then(|()| match file.as_inode().size() {
                        0 => Ok(()),
                        _ => Err("the size is not 0"),
                    });
                report("sizes", outcome);
            }
            b"dir-zero" => {
                // The library on a page cache iomap does not manage (a directory's).
                let invalidate = dir.as_inode().mapping().invalidate_lock_write();
                let range = FileRange::new(0, 4096)?;
                let outcome = refused(
                    zero::zero_range(
                        &mut DevicelessOps(MappingType::Delalloc),
                        &invalidate,
                        dir.as_inode(),
                        range,
                    ),
                    EINVAL,
                )
                .and_then(|()| {
                    refused(
                        write_delalloc_release(
                            &invalidate,
                            dir.as_inode(),
                            range,
                            |_: &Inode, _| Ok(()),
                        ),
                        EINVAL,
                    )
                });
                report("dir-zero", outcome);
            }
            b"ro-write" => {
                let outcome = match sb.read_only() {
                    true => refused(sb.write(0, &[0u8; 16]), EROFS),
                    false => Err("the filesystem is not read-only"),
                };
                report("ro-write", outcome);
            }
            b"drop-registration-b" => {
                let registration = sb.data().registration_b.lock().take();
                drop(registration);
                pr_info!("drop-registration-b: dropped\n");
            }
            _ => {}
        }
        Ok(None)
    }

    /// Returns a new regular file for a directory, which must be refused (an existing inode,
    /// the directory itself say, cannot even be returned: only a new inode is a `Created`).
    fn mkdir<'a>(
        dir: &'a LockedDir<'_, RefusalsFs>,
        _name: &[u8],
        _owner: NewOwner<'_>,
    ) -> Result<inode::Created<'a, RefusalsFs>> {
        match dir.super_block().get_or_create_inode(MKDIR_INO)? {
            Either::Right(new) => new.init_created(file_params()),
            Either::Left(_) => Err(EEXIST),
        }
    }
}

/// The second filesystem type: an empty directory on any device.
struct FsB;

#[vtable]
impl fs::FileSystem for FsB {
    const NAME: &'static CStr = c_str!("iomap_rs_refusals_b");
    type Data = ();
    type INodeData = ();

    fn inode_data() -> impl PinInit<(), Error> {}

    fn fill_super(sb: &sb::NewSuperBlock<'_, Self>) -> Result<impl PinInit<(), Error>> {
        sb.set_block_size(4096)?;
        Ok(())
    }

    fn root(sb: &SuperBlock<Self>) -> Result<INodeRef<'_, Self>> {
        match sb.get_or_create_inode(ROOT_INO)? {
            Either::Left(inode) => Ok(inode),
            Either::Right(new) => new.init(inode::Params {
                kind: inode::Kind::Dir,
                attrs: attrs(0o755, 2, 0),
                inode_ops: inode::Ops::new::<EmptyDirOps>(),
                file_ops: fs::file::Ops::new::<EmptyDirFileOps>(),
                large_folios: false,
                flags: inode::Flags::empty(),
                generation: 0,
            }),
        }
    }
}

struct EmptyDirOps;

#[vtable]
impl inode::Operations for EmptyDirOps {
    type FileSystem = FsB;

    fn lookup<'a>(_dir: &'a INode<FsB>, _name: &[u8]) -> Result<Option<INodeRef<'a, FsB>>> {
        Ok(None)
    }
}

struct EmptyDirFileOps;

#[vtable]
impl fs::file::Operations for EmptyDirFileOps {
    type FileSystem = FsB;

    fn read_dir(dir: &INode<FsB>, emitter: &mut dir::Emitter<'_>) -> Result {
        if emitter.pos() == 0 && !emitter.emit(1, b".", dir.ino(), dir::EntryType::Dir)? {
            return Ok(());
        }
        if emitter.pos() == 1 {
            emitter.emit(2, b"..", ROOT_INO, dir::EntryType::Dir)?;
        }
        Ok(())
    }
}

struct Refusals {
    _registration: Pin<KBox<fs::Registration>>,
}

impl kernel::Module for Refusals {
    fn init(module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _registration: KBox::pin_init(fs::Registration::new::<RefusalsFs>(module), GFP_KERNEL)?,
        })
    }
}
