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
//! `kill_block_super()`, after which the data is dropped.
//!
//! The operation tables keep C's split: [`FileSystem`] is `super_operations`,
//! [`inode::Operations`] is `inode_operations`, [`file::Operations`] is `file_operations`. A
//! filesystem picks the tables for each inode when it initialises it ([`inode::Params`]).
//!
//! Inodes are allocated by this module, in a container that holds the filesystem's per-inode
//! data ([`FileSystem::INodeData`], pin-initialised, so it can hold locks) next to the
//! `struct inode`: [`inode::INode::data`] reaches it.

use crate::{
    bindings,
    error::{from_result, to_result, Error, Result},
    init::PinInit,
    prelude::*,
    str::CStr,
    types::{ARef, Opaque},
    ThisModule,
};
use core::{marker::PhantomData, pin::Pin};

#[cfg(CONFIG_IOMAP_RS)]
pub mod address_space;
pub mod dir;
pub mod file;
pub mod inode;
pub mod sb;

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

    /// Initialises the data of a newly allocated inode, before its number is known. The
    /// filesystem fills it when it reads the inode ([`sb::SuperBlock::get_or_create_inode`]).
    fn inode_data() -> impl PinInit<Self::INodeData, Error>;

    /// Reads and checks the superblock of a new mount and returns the initialiser of the
    /// filesystem's data (pinned, so it can hold locks and queues).
    ///
    /// Bad on-disk contents must fail here with an error, never panic.
    fn fill_super(sb: &sb::NewSuperBlock<'_, Self>) -> Result<impl PinInit<Self::Data, Error>>;

    /// Returns the root directory of a superblock whose [`FileSystem::fill_super`] succeeded.
    fn root(sb: &sb::SuperBlock<Self>) -> Result<ARef<inode::INode<Self>>>;

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
}

/// A registered filesystem type.
///
/// # Invariants
///
/// `fs` is registered with `register_filesystem()` and its lockdep keys are registered, until
/// the registration is dropped.
#[pin_data(PinnedDrop)]
pub struct Registration {
    #[pin]
    fs: Opaque<bindings::file_system_type>,
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
            // SAFETY: `slot` is valid for writes (the contract of `pin_init_from_closure`).
            let fs_ptr = unsafe { Opaque::raw_get(core::ptr::addr_of!((*slot).fs)) };
            // SAFETY: `fs_ptr` is valid for writes; all-zeroes is a valid `file_system_type`,
            // then the fields are set. The keys are registered before `register_filesystem`
            // makes the type visible, and unregistered if it fails.
            unsafe {
                fs_ptr.write(core::mem::zeroed());
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
                }
                to_result(ret)
            }
        };
        // SAFETY: On success the closure initialised `fs` (the only field) and registered it,
        // which is the type invariant; on failure nothing needs dropping. The slot is pinned, as
        // the registered structure must stay where it is.
        unsafe { crate::init::pin_init_from_closure(init) }
    }
}

#[pinned_drop]
impl PinnedDrop for Registration {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `fs` is registered. `unregister_filesystem` returns only
        // after no superblock of the type is left (module reference counting keeps a mounted
        // filesystem's module loaded), so the keys are no longer used.
        unsafe {
            bindings::unregister_filesystem(self.fs.get());
            bindings::fs_type_unregister_keys(self.fs.get());
        }
    }
}

/// The C callbacks of a filesystem type `T`.
struct Tables<T: FileSystem>(PhantomData<T>);

impl<T: FileSystem> Tables<T> {
    const CONTEXT: bindings::fs_context_operations = bindings::fs_context_operations {
        free: None,
        parse_param: None,
        get_tree: Some(Self::get_tree),
        reconfigure: None,
        parse_monolithic: None,
        dup: None,
    };

    const SUPER: bindings::super_operations = bindings::super_operations {
        alloc_inode: Some(inode::INodeWithData::<T>::alloc_inode),
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
    /// Only C calls this, as the `fill_super` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn fill_super(
        sb_ptr: *mut bindings::super_block,
        _fc: *mut bindings::fs_context,
    ) -> crate::ffi::c_int {
        from_result(|| {
            // SAFETY: `get_tree_bdev` passes a new superblock it holds exclusively (`s_umount`
            // held for writing) with its block device set up.
            let sb = unsafe { &mut *sb_ptr };
            sb.s_op = &Self::SUPER;
            sb.s_maxbytes = bindings::MAX_LFS_FILESIZE;
            sb.s_time_gran = 1;
            sb.s_time_min = i64::MIN;
            sb.s_time_max = i64::MAX;

            // SAFETY: As above; the superblock has no data yet.
            let new = unsafe { sb::NewSuperBlock::<T>::from_raw(sb_ptr) };
            let data = KBox::pin_init(T::fill_super(&new)?, GFP_KERNEL)?;
            // INVARIANT: From now on `s_fs_info` holds the `T::Data` of this superblock; it is
            // dropped in place and freed in `kill_sb`, after `kill_block_super`, so it stays
            // pinned.
            // SAFETY: The data is not moved out of the allocation until it is dropped.
            sb.s_fs_info = KBox::into_raw(unsafe { Pin::into_inner_unchecked(data) }).cast();

            // SAFETY: The superblock's data is set: it is a `SuperBlock<T>` now.
            let sb = unsafe { sb::SuperBlock::<T>::from_raw(sb_ptr) };
            let root = T::root(sb)?;
            let root_ptr = root.as_raw();
            core::mem::forget(root);
            // SAFETY: `d_make_root` takes over the reference to the root inode, on failure too.
            let dentry = unsafe { bindings::d_make_root(root_ptr) };
            if dentry.is_null() {
                return Err(ENOMEM);
            }
            // SAFETY: `sb_ptr` is valid as above.
            unsafe { (*sb_ptr).s_root = dentry };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only C calls this, as the `kill_sb` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    unsafe extern "C" fn kill_sb(sb_ptr: *mut bindings::super_block) {
        // SAFETY: The VFS calls `kill_sb` once for a superblock of this type, which it owns.
        unsafe { bindings::kill_block_super(sb_ptr) };
        // SAFETY: All inodes are gone; `s_fs_info` is null (`fill_super` failed before setting
        // it) or the `KBox<T::Data>` set in `fill_super`.
        let data = unsafe { (*sb_ptr).s_fs_info };
        if !data.is_null() {
            // SAFETY: As above: nobody else uses the data any more.
            drop(unsafe { KBox::from_raw(data.cast::<T::Data>()) });
        }
    }
}
