// SPDX-License-Identifier: GPL-2.0

//! Filesystems on block devices.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h),
//! [`include/linux/fs_context.h`](srctree/include/linux/fs_context.h).
//!
//! A filesystem implements [`FileSystem`] and registers it with [`Registration`]. Mounting goes
//! through the new mount API: `init_fs_context` installs a context whose `get_tree` is
//! `get_tree_bdev()`, which opens the block device and calls back into
//! [`FileSystem::fill_super`] with a [`sb::NewSuperBlock`]; the filesystem reads its superblock
//! through the block device's page cache ([`sb::Metadata`]), returns its per-superblock data and
//! then, once that data is in place, its root inode ([`FileSystem::root`]). `kill_sb` is
//! `kill_block_super()`; the data is dropped in its `put_super`, after the VFS has synced the
//! filesystem and evicted the unused inodes, or at the end of a failed `fill_super`.
//!
//! # Soundness
//!
//! What the types guarantee: a filesystem written in safe Rust gets each C object only while
//! the VFS keeps it alive (a `&`[`sb::SuperBlock`] only once its data is set and until it is
//! dropped, an [`inode::INode`] only initialised and referenced, an [`inode::INodeRef`] only
//! within the callback that borrowed its superblock, so never in the superblock's data or past
//! its unmount, an [`inode::Evicting`] that cannot be revived), and each operation only with
//! the locks its C contract requires ([`inode::Locked`], [`crate::pagecache::InodeLock`]). A
//! regular file cannot be made without address-space operations ([`inode::Kind`]). The LSMs
//! label a new inode from the directory and dentry name of its creation only, once, while the
//! creation runs ([`inode::Security`], consumed by [`inode::Created::init_security`]).
//!
//! What is checked at run time, with an error and no kernel warning: a [`Registration`]
//! dropped while its module is live is unregistered but not
//! freed (a mount may still use it); remounting cannot change whether the filesystem is
//! read-only, and [`sb::Metadata::write`] fails on a read-only one; `create`, `mkdir` and
//! `symlink` must return an inode of the right type that has no dentry yet; `readdir` names
//! must be valid ([`dir::Emitter::emit`]); inode sizes must be file sizes; an ACL read from disk
//! must be valid ([`acl::Acl::from_xattr`]).
//!
//! The operation tables keep C's split: [`FileSystem`] is `super_operations`,
//! [`inode::Operations`] is `inode_operations`, [`file::Operations`] is `file_operations`. A
//! filesystem picks the tables for each inode when it initialises it ([`inode::Params`]).
//!
//! Locks that eviction or writeback completion take should be [`reclaim::NoFsMutex`]es: the
//! allocations made while one is held then cannot enter filesystem reclaim, which evicts
//! inodes and waits for writeback.
//!
//! Inodes are allocated by this module, in a container that holds the filesystem's per-inode
//! data ([`FileSystem::INodeData`], pin-initialised, so it can hold locks) next to the
//! `struct inode`: [`inode::INode::data`] reaches it. The containers come from a slab cache of
//! the filesystem type (`alloc_inode_sb()`, as C filesystems allocate theirs): reclaimable,
//! charged to memory cgroups, on the cgroup's list of the superblock's inodes.
//!
//! # Examples
//!
//! The smallest filesystem: read-only, its root an empty directory, nothing read from the
//! device. A real one checks its superblock in `fill_super` ([`sb::Metadata`]), keeps what it
//! read in its [`FileSystem::Data`], and reads each inode from the device when
//! [`sb::SuperBlock::get_or_create_inode`] gives it a new one. Its module registers it with
//! `KBox::pin_init(Registration::new::<EmptyFs>(module), GFP_KERNEL)` and keeps the
//! registration until it is unloaded.
//!
//! ```
//! use kernel::c_str;
//! use kernel::fs::{self, dir, file, inode, sb};
//! use kernel::prelude::*;
//!
//! struct EmptyFs;
//!
//! #[vtable]
//! impl fs::FileSystem for EmptyFs {
//!     const NAME: &'static CStr = c_str!("emptyfs");
//!     type Data = ();
//!     type INodeData = ();
//!
//!     fn inode_data() -> impl PinInit<(), Error> {}
//!
//!     fn fill_super(sb: &sb::NewSuperBlock<'_, Self>) -> Result<impl PinInit<(), Error>> {
//!         sb.set_read_only();
//!         Ok(())
//!     }
//!
//!     fn root(sb: &sb::SuperBlock<Self>) -> Result<inode::INodeRef<'_, Self>> {
//!         let new = match sb.get_or_create_inode(1)? {
//!             sb::Either::Left(cached) => return Ok(cached),
//!             sb::Either::Right(new) => new,
//!         };
//!         let now = inode::Time::now();
//!         new.init(inode::Params {
//!             kind: inode::Kind::Dir,
//!             attrs: inode::Attrs {
//!                 mode: 0o755,
//!                 nlink: 2,
//!                 uid: 0,
//!                 gid: 0,
//!                 size: 0,
//!                 atime: now,
//!                 mtime: now,
//!                 ctime: now,
//!             },
//!             inode_ops: inode::Ops::new::<EmptyDir>(),
//!             file_ops: file::Ops::new::<EmptyDir>(),
//!             large_folios: false,
//!             flags: inode::Flags::empty(),
//!             generation: 0,
//!         })
//!     }
//! }
//!
//! /// The root directory's operations: nothing to look up, only `.` and `..` to list.
//! struct EmptyDir;
//!
//! #[vtable]
//! impl inode::Operations for EmptyDir {
//!     type FileSystem = EmptyFs;
//!
//!     fn lookup<'a>(
//!         _dir: &'a inode::INode<EmptyFs>,
//!         _name: &[u8],
//!     ) -> Result<Option<inode::INodeRef<'a, EmptyFs>>> {
//!         Ok(None)
//!     }
//! }
//!
//! #[vtable]
//! impl file::Operations for EmptyDir {
//!     type FileSystem = EmptyFs;
//!
//!     fn read_dir(dir: &inode::INode<EmptyFs>, emitter: &mut dir::Emitter<'_>) -> Result {
//!         // The position is the index of the next entry; the root is its own parent.
//!         for (pos, name) in [(0, &b"."[..]), (1, &b".."[..])] {
//!             if emitter.pos() != pos {
//!                 continue;
//!             }
//!             if !emitter.emit(pos + 1, name, dir.ino(), dir::EntryType::Dir)? {
//!                 // The caller's buffer is full: it asks again from `pos`.
//!                 return Ok(());
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! assert_eq!(<EmptyFs as fs::FileSystem>::NAME.as_bytes(), b"emptyfs");
//! ```

use crate::{
    bindings,
    error::{from_result, to_result, Error, Result},
    init::PinInit,
    prelude::*,
    str::CStr,
    ThisModule,
};
use core::{marker::PhantomData, pin::Pin};

pub mod acl;
#[cfg(CONFIG_IOMAP_RS)]
pub mod address_space;
pub mod dir;
pub mod file;
pub mod inode;
pub mod reclaim;
pub mod sb;
pub mod xattr;

/// A byte offset in a file (C's `loff_t`).
pub type Offset = i64;

/// An inode number.
pub type Ino = u64;

/// A filesystem type: its `super_operations` and how it mounts.
#[vtable]
pub trait FileSystem: Sized + Send + Sync + 'static {
    /// The name of the filesystem type, as given to `mount -t`.
    const NAME: &'static CStr;

    /// Data of one mounted filesystem, reachable from every [`sb::SuperBlock`] of this type.
    type Data: Send + Sync;

    /// Per-inode data, stored in the inode container next to the `struct inode`.
    type INodeData: Send + Sync;

    /// Whether the filesystem stores POSIX ACLs ([`acl`]): its superblocks get `SB_POSIXACL`,
    /// and its inodes' operations [`inode::Operations::get_acl`] and
    /// [`inode::Operations::set_acl`]. It must store extended attributes too (a build error
    /// otherwise), and list the ACLs an inode has ([`xattr::List::add_acl`]).
    const POSIX_ACL: bool = false;

    /// Initialises the data of a newly allocated inode, before its number is known. The
    /// filesystem fills it when it reads the inode ([`sb::SuperBlock::get_or_create_inode`]).
    fn inode_data() -> impl PinInit<Self::INodeData, Error>;

    /// Reads and checks the superblock of a new mount and returns the initialiser of the
    /// filesystem's data (pinned, so it can hold locks and queues).
    ///
    /// Bad on-disk contents must fail here with an error, never panic.
    fn fill_super(sb: &sb::NewSuperBlock<'_, Self>) -> Result<impl PinInit<Self::Data, Error>>;

    /// Returns the root directory of a superblock whose [`FileSystem::fill_super`] succeeded:
    /// a directory of this superblock, initialised with [`inode::NewINode::init`] (`EIO`
    /// otherwise).
    fn root(sb: &sb::SuperBlock<Self>) -> Result<inode::INodeRef<'_, Self>>;

    /// Writes inode `inode`'s attributes back to disk (`write_inode`), after they changed in
    /// memory (`setattr`, time stamp updates). `sync` asks to wait for the I/O.
    fn write_inode(_inode: &inode::INode<Self>, _sync: bool) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Releases what an inode leaving memory holds on disk (`evict_inode`), called after its
    /// page cache is emptied: an inode without links is deleted here (its blocks and its slot
    /// freed). Not called for inodes that failed to initialise.
    fn evict_inode(_inode: &inode::Evicting<'_, Self>) {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Returns the filesystem's statistics (`statfs(2)`).
    fn statfs(_sb: &sb::SuperBlock<Self>) -> Result<sb::Stat> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Makes what was written so far durable (`sync_fs`), for `sync(2)`, `syncfs(2)`, a freeze and
    /// the unmount (`sync_filesystem()`): the VFS has written back the dirty data and inodes, and
    /// calls this first with `wait` false (start what can be started), then with `wait` true
    /// (finish, including flushing the device's volatile cache, which the VFS never does itself);
    /// an emergency sync (sysrq) calls it with `wait` false only. The VFS holds `s_umount`: this
    /// must not start an internal change ([`sb::SuperBlock::start_intwrite`]), which a frozen
    /// filesystem's thaw would wait for. The block device's page cache is written back by the VFS
    /// only after each call, so a filesystem whose metadata is there writes it back itself
    /// ([`sb::Metadata::sync`]) before it flushes. Never called on a read-only mount.
    fn sync_fs(_sb: &sb::SuperBlock<Self>, _wait: bool) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Brings the filesystem to a consistent state on disk and stops it from writing
    /// (`freeze_fs`), at the end of a freeze (`FIFREEZE`, `fsfreeze(8)`, a snapshot of the
    /// device): writes, page faults and internal writers ([`sb::SuperBlock::start_intwrite`])
    /// are all blocked by then, and [`FileSystem::sync_fs`] has run. An error cancels the
    /// freeze. The filesystem writes again when the writers blocked by the freeze go on.
    fn freeze_fs(_sb: &sb::SuperBlock<Self>) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Gives the value of extended attribute `name` of `inode` to `value` (`getxattr(2)`);
    /// `ENODATA` if the inode has no such attribute (which returning `Ok` without a value also
    /// reports). The VFS has checked the caller's right to read it and holds no lock: the
    /// filesystem serialises this against [`FileSystem::xattr_set`]. See [`xattr`].
    fn xattr_get(
        _inode: &inode::INode<Self>,
        _name: &xattr::Name<'_>,
        _value: &mut xattr::Value<'_>,
    ) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Sets extended attribute `name` of `inode` to `value`, or removes it (`None`), as `flags`
    /// allow ([`xattr::SetFlags::check`]), and updates the inode's change time
    /// (`setxattr(2)`, `removexattr(2)`). The VFS has checked the caller's right to change it;
    /// the system calls hold `inode`'s `i_rwsem`, not every kernel caller does (see [`xattr`]).
    /// `ENOSPC` when the filesystem cannot hold the value.
    fn xattr_set(
        _inode: &inode::INode<Self>,
        _name: &xattr::Name<'_>,
        _value: Option<&[u8]>,
        _flags: xattr::SetFlags,
    ) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Adds the name of each extended attribute of `inode` to `list` (`listxattr(2)`). The VFS
    /// holds no lock.
    fn xattr_list(_inode: &inode::INode<Self>, _list: &mut xattr::List<'_>) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// The last call of a mounted filesystem (`put_super`), before its data is dropped: the
    /// VFS has synced it ([`FileSystem::sync_fs`]) and then evicted every inode, and
    /// evictions that deleted an inode (one whose last reference went only then) wrote after
    /// that sync. A filesystem makes those durable here. Nothing can fail the unmount.
    fn put_super(_sb: &sb::SuperBlock<Self>) {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A registered filesystem type.
///
/// The `file_system_type` is allocated apart from the registration, with the type's inode
/// cache: the VFS keeps using it as long as a superblock of the type exists, and unregistering
/// does not wait for them (a mounted filesystem holds a reference to the module that owns the
/// type, not to this object). Dropping the registration while its module is being unloaded
/// frees both, as no superblock or mount in progress can hold the module then; dropping it at
/// any other time unregisters the type and leaks them, with a warning.
///
/// # Invariants
///
/// `fs` points to a `TypeAndCache` allocated with `KBox`, whose type is registered with
/// `register_filesystem()` and has its lockdep keys registered, until the registration is
/// dropped.
#[pin_data(PinnedDrop)]
pub struct Registration {
    fs: core::ptr::NonNull<TypeAndCache>,
}

/// A registered `file_system_type` and the slab cache of its inodes.
///
/// # Invariants
///
/// `inode_cache` is a cache of objects of the size and alignment of the inode containers of
/// the type's filesystem, created before the type was registered and destroyed only after it
/// is unregistered and every inode of it freed.
#[repr(C)]
pub(crate) struct TypeAndCache {
    fs: bindings::file_system_type,
    inode_cache: *mut bindings::kmem_cache,
}

impl TypeAndCache {
    /// The inode cache of the filesystem type of superblock `sb`.
    ///
    /// # Safety
    ///
    /// `sb` is a live superblock of a type registered by [`Registration`].
    pub(crate) unsafe fn inode_cache(sb: *mut bindings::super_block) -> *mut bindings::kmem_cache {
        // SAFETY: The type of `sb` is the `fs` field of a `TypeAndCache` (the caller's
        // contract), alive while a superblock of it is.
        unsafe {
            let t = crate::container_of!((*sb).s_type, TypeAndCache, fs);
            (*t).inode_cache
        }
    }
}

// SAFETY: `Registration` only gives access to `fs` in `drop`, and `unregister_filesystem` may be
// called from any thread.
unsafe impl Send for Registration {}
// SAFETY: No method of `Registration` takes `&self`.
unsafe impl Sync for Registration {}

impl Registration {
    /// Registers the filesystem type `T`, owned by `module`.
    pub fn new<T: FileSystem>(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let init = move |slot: *mut Self| {
            // A type dropped while mounted is leaked with its cache (see above), so a later
            // registration of the same name needs a cache name of its own: slab names must be
            // unique (a duplicate warns with `DEBUG_VM`).
            static SERIAL: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
            let serial = SERIAL.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            let cache_name = crate::str::CString::try_from_fmt(crate::fmt!(
                "{}_inode_cache_{}",
                T::NAME,
                serial
            ))?;
            let size = core::mem::size_of::<inode::INodeWithData<T>>();
            let align = core::mem::align_of::<inode::INodeWithData<T>>();
            // SAFETY: The name is a valid string (the cache keeps a copy); the sizes are those
            // of a Rust type, well below `u32::MAX`.
            let cache = unsafe {
                bindings::fs_inode_cache_create(cache_name.as_char_ptr(), size as u32, align as u32)
            };
            if cache.is_null() {
                return Err(ENOMEM);
            }
            // SAFETY: All-zeroes is a valid `file_system_type` (no callbacks, no name).
            let zeroed = unsafe { core::mem::zeroed::<bindings::file_system_type>() };
            let Ok(both) = KBox::new(
                TypeAndCache {
                    fs: zeroed,
                    inode_cache: cache,
                },
                GFP_KERNEL,
            ) else {
                // SAFETY: Created above, not used by anything yet.
                unsafe { bindings::kmem_cache_destroy(cache) };
                return Err(ENOMEM);
            };
            let both = KBox::into_raw(both);
            // SAFETY: `both` is a valid, exclusively owned allocation; the fields are set,
            // then the keys are registered before `register_filesystem` makes the type
            // visible, and unregistered (and the allocations freed) if it fails.
            unsafe {
                let fs_ptr = core::ptr::addr_of_mut!((*both).fs);
                let fs = &mut *fs_ptr;
                fs.owner = module.as_ptr();
                fs.name = T::NAME.as_char_ptr();
                fs.fs_flags = bindings::FS_REQUIRES_DEV as i32;
                fs.init_fs_context = Some(Tables::<T>::init_fs_context);
                fs.kill_sb = Some(Tables::<T>::kill_sb);
                // The structure is not in static memory: lockdep must know its keys.
                bindings::fs_type_register_keys(fs_ptr);
                let ret = bindings::register_filesystem(fs_ptr);
                if ret != 0 {
                    bindings::fs_type_unregister_keys(fs_ptr);
                    bindings::kmem_cache_destroy(cache);
                    drop(KBox::from_raw(both));
                    return to_result(ret);
                }
                // INVARIANT: Allocated and registered, keys too; the cache was made for `T`'s
                // inode containers.
                // SAFETY: `slot` is valid for writes (the contract of `pin_init_from_closure`).
                core::ptr::addr_of_mut!((*slot).fs).write(core::ptr::NonNull::new_unchecked(both));
            }
            Ok(())
        };
        // SAFETY: On success the closure initialised `fs` (the only field) with the registered
        // type, which is the type invariant; on failure nothing is left to drop.
        unsafe { crate::init::pin_init_from_closure(init) }
    }
}

#[pinned_drop]
impl PinnedDrop for Registration {
    fn drop(self: Pin<&mut Self>) {
        let both = self.fs.as_ptr();
        // SAFETY: Allocated and alive (type invariant).
        let fs = unsafe { core::ptr::addr_of_mut!((*both).fs) };
        // After `unregister_filesystem` no new mount finds the type; a superblock, or a mount
        // that found the type before, holds a reference to the owning module
        // (`get_filesystem()`), so only a module being unloaded (`MODULE_STATE_GOING`, reached
        // with no reference left) may free the type and forget its keys.
        // SAFETY: By the type invariant `fs` is registered; both calls take a registered type.
        let going = unsafe {
            bindings::unregister_filesystem(fs);
            bindings::fs_type_owner_going(fs)
        };
        if going {
            // Inodes of the type are freed by RCU callbacks (`free_inode`, in the module's
            // code, into the cache): C filesystems wait for them in their exit too.
            // SAFETY: As above, nothing uses the type, its keys or its cache once the pending
            // RCU callbacks have run; it was allocated by `KBox` in `new`.
            unsafe {
                bindings::rcu_barrier();
                bindings::fs_type_unregister_keys(fs);
                bindings::kmem_cache_destroy((*both).inode_cache);
                drop(KBox::from_raw(both));
            }
        } else {
            // SAFETY: The type is leaked, so its name (`'static`) stays valid.
            let name = unsafe { CStr::from_char_ptr((*fs).name) };
            crate::pr_warn!(
                "filesystem type {} unregistered while its module is live: not freed, as a mount may still use it\n",
                name
            );
        }
    }
}

/// `SB_FORCE` of `include/linux/fs.h` (`BIT(27)`, which bindgen does not expand): a forced
/// (emergency) remount.
const SB_FORCE: u32 = 1 << 27;

/// The C callbacks of a filesystem type `T`.
struct Tables<T: FileSystem>(PhantomData<T>);

impl<T: FileSystem> Tables<T> {
    /// Whether the filesystem stores extended attributes: it implements all three operations, or
    /// none (a build error otherwise).
    const XATTRS: bool = {
        assert!(
            T::HAS_XATTR_GET == T::HAS_XATTR_SET && T::HAS_XATTR_SET == T::HAS_XATTR_LIST,
            "a filesystem implements xattr_get, xattr_set and xattr_list, or none of them"
        );
        T::HAS_XATTR_GET
    };

    /// Whether the filesystem's superblocks get `SB_POSIXACL` (never without
    /// `CONFIG_FS_POSIX_ACL`, whose absence leaves the umask to the VFS).
    const POSIX_ACL: bool = {
        assert!(
            !T::POSIX_ACL || Self::XATTRS,
            "a filesystem with POSIX ACLs stores extended attributes"
        );
        T::POSIX_ACL && cfg!(CONFIG_FS_POSIX_ACL)
    };

    const CONTEXT: bindings::fs_context_operations = bindings::fs_context_operations {
        free: None,
        parse_param: None,
        get_tree: Some(Self::get_tree),
        reconfigure: Some(Self::reconfigure),
        parse_monolithic: None,
        dup: None,
    };

    const SUPER: bindings::super_operations = bindings::super_operations {
        alloc_inode: Some(inode::INodeWithData::<T>::alloc_inode),
        put_super: Some(Self::put_super),
        destroy_inode: Some(inode::INodeWithData::<T>::destroy_inode),
        free_inode: Some(inode::INodeWithData::<T>::free_inode),
        evict_inode: if T::HAS_EVICT_INODE {
            Some(inode::INodeWithData::<T>::evict_inode)
        } else {
            None
        },
        write_inode: if T::HAS_WRITE_INODE {
            Some(inode::INodeWithData::<T>::write_inode)
        } else {
            None
        },
        statfs: if T::HAS_STATFS {
            Some(sb::SuperBlock::<T>::statfs_callback)
        } else {
            None
        },
        sync_fs: if T::HAS_SYNC_FS {
            Some(sb::SuperBlock::<T>::sync_fs_callback)
        } else {
            None
        },
        freeze_fs: if T::HAS_FREEZE_FS {
            Some(sb::SuperBlock::<T>::freeze_fs_callback)
        } else {
            None
        },
        // SAFETY: All-zeroes (no callback) is valid for the remaining fields.
        ..unsafe { core::mem::zeroed() }
    };

    /// # Safety
    ///
    /// Only C calls this, as the `init_fs_context` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn init_fs_context(fc: *mut bindings::fs_context) -> crate::ffi::c_int {
        // SAFETY: The VFS passes a valid context that it owns during the call.
        unsafe { (*fc).ops = &Self::CONTEXT };
        0
    }

    /// # Safety
    ///
    /// Only C calls this, as the `get_tree` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn get_tree(fc: *mut bindings::fs_context) -> crate::ffi::c_int {
        // SAFETY: `fc` is valid (it is the context being mounted) and `fill_super` is a valid
        // callback for `get_tree_bdev`.
        unsafe { bindings::get_tree_bdev(fc, Some(Self::fill_super)) }
    }

    /// # Safety
    ///
    /// Only C calls this, as the `reconfigure` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn reconfigure(fc: *mut bindings::fs_context) -> crate::ffi::c_int {
        // SAFETY: `reconfigure_super` passes the context of a remount, whose root is a mounted
        // superblock of this type, with `s_umount` held for writing.
        let fc = unsafe { &*fc };
        let (flags, mask) = (fc.sb_flags, fc.sb_flags_mask);
        // SAFETY: As above: the root dentry is the mounted superblock's.
        let sb = unsafe { (*fc.root).d_sb };
        // SAFETY: As above: the flags are stable under `s_umount`.
        let rdonly = unsafe { (*sb).s_flags } & bindings::SB_RDONLY != 0;
        let ro = bindings::SB_RDONLY as u32;
        // Nothing here writes back or checks a filesystem made read-write, nor syncs one made
        // read-only (whose writeback would then fail): the state stays as mounted. An
        // emergency remount (`SB_FORCE`, sysrq) is not refused: the VFS would warn and make
        // the filesystem read-only anyway; `Metadata::write` then fails with `EROFS`.
        if flags & SB_FORCE == 0 && mask & ro != 0 && (flags & ro != 0) != rdonly {
            return EBUSY.to_errno();
        }
        0
    }

    /// # Safety
    ///
    /// Only C calls this, as the `fill_super` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn fill_super(
        sb_ptr: *mut bindings::super_block,
        _fc: *mut bindings::fs_context,
    ) -> crate::ffi::c_int {
        // The fields are written through the pointer: no reference to the superblock is held
        // while the filesystem's callbacks reach it through theirs.
        // SAFETY: `get_tree_bdev` passes a new superblock it holds exclusively (`s_umount`
        // held for writing) with its block device set up.
        unsafe {
            (*sb_ptr).s_op = &Self::SUPER;
            (*sb_ptr).s_maxbytes = bindings::MAX_LFS_FILESIZE;
            (*sb_ptr).s_time_gran = 1;
            (*sb_ptr).s_time_min = i64::MIN;
            (*sb_ptr).s_time_max = i64::MAX;
            // Before any inode is allocated: `inode_init_always()` gives `IOP_XATTR` to the
            // inodes of a superblock with handlers.
            if Self::XATTRS {
                (*sb_ptr).s_xattr = xattr::Handlers::<T>::table();
            }
            // Before any inode is created: `posix_acl_create()` applies the umask only on
            // a superblock with it, and the VFS only on one without.
            // `mount(2)` passes a caller's `MS_POSIXACL` on: cleared where it is not ours.
            if Self::POSIX_ACL {
                (*sb_ptr).s_flags |= bindings::SB_POSIXACL as crate::ffi::c_ulong;
            } else {
                (*sb_ptr).s_flags &= !(bindings::SB_POSIXACL as crate::ffi::c_ulong);
            }
        }
        from_result(|| {
            // SAFETY: As above; the superblock has no data yet.
            let new = unsafe { sb::NewSuperBlock::<T>::from_raw(sb_ptr) };
            let data = KBox::pin_init(T::fill_super(&new)?, GFP_KERNEL)?;
            // SAFETY: As above: a new superblock, whose `s_fs_info` is still null (only
            // `set_data` sets it).
            unsafe { sb::set_data::<T>(sb_ptr, data) };
            let ret = Self::fill_root(sb_ptr);
            if ret.is_err() {
                // No inode is left: `root` dropped every reference it took (they borrow the
                // superblock) or `d_make_root` did, and inodes of an inactive superblock
                // (`get_tree_bdev` activates it only after this succeeds) are evicted by their
                // last `iput`.
                // SAFETY: The mount failed and nothing else uses the superblock, which has no
                // inode left (above).
                unsafe { sb::drop_data::<T>(sb_ptr) };
            }
            ret
        })
    }

    /// Sets the root dentry of a new superblock whose data is set.
    fn fill_root(sb_ptr: *mut bindings::super_block) -> Result<i32> {
        // SAFETY: The superblock's data is set: it is a `SuperBlock<T>` now, for the duration
        // of this call (the caller holds it exclusively).
        let sb = unsafe { sb::SuperBlock::<T>::from_raw(sb_ptr) };
        let root = T::root(sb)?;
        // SAFETY: The inode is live (we hold a reference).
        let being_created = unsafe { bindings::fs_inode_is_new(root.as_raw()) };
        // The root is a directory of this superblock, and no creation is giving it a dentry.
        if being_created
            || !core::ptr::eq(root.super_block(), sb)
            || inode::Type::from_mode(root.mode()) != Some(inode::Type::Dir)
        {
            return Err(EIO);
        }
        let root_ptr = root.into_raw();
        // SAFETY: `d_make_root` takes over the reference to the root inode, on failure too.
        let dentry = unsafe { bindings::d_make_root(root_ptr) };
        if dentry.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `sb_ptr` is valid and held exclusively (the caller's).
        unsafe { (*sb_ptr).s_root = dentry };
        Ok(0)
    }

    /// # Safety
    ///
    /// Only C calls this, as the `put_super` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn put_super(sb_ptr: *mut bindings::super_block) {
        // SAFETY: `generic_shutdown_super` calls `put_super` once, after syncing the
        // filesystem, clearing `SB_ACTIVE` and evicting every unused inode.
        if unsafe { bindings::fs_pin_owner_if_inodes_left(sb_ptr) } {
            // A reference was leaked (`mem::forget`: an `INodeRef` cannot outlive its
            // callback otherwise). Safe code may leak; the VFS reports the inodes as busy
            // next, and the module stays loaded for what they point to.
            crate::pr_err!(
                "inode references leaked: the module that owns the filesystem type stays loaded\n"
            );
        }
        if T::HAS_PUT_SUPER {
            // SAFETY: As above: the data is still set (dropped below), and the superblock
            // alive for the call.
            T::put_super(unsafe { sb::SuperBlock::<T>::from_raw(sb_ptr) });
        }
        // SAFETY: As above. No inode is used: the mounts are gone, so no file is open and no
        // callback runs, and no `INodeRef` outlives the callback that took it (a leaked one
        // is never used again). The data holds none.
        unsafe { sb::drop_data::<T>(sb_ptr) };
    }

    /// # Safety
    ///
    /// Only C calls this, as the `kill_sb` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn kill_sb(sb_ptr: *mut bindings::super_block) {
        // SAFETY: The VFS calls `kill_sb` once for a superblock of this type, which it owns.
        // Its data is gone already: dropped by `put_super` for a mounted superblock, by
        // `fill_super` if that failed after setting it.
        unsafe { bindings::kill_block_super(sb_ptr) };
    }
}
