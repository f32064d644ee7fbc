// SPDX-License-Identifier: GPL-2.0

//! Inodes of a Rust filesystem, and their `inode_operations`.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h).
//!
//! Every inode of a superblock of type `T` is allocated by `T`'s `alloc_inode` in an
//! [`INodeWithData`] container, so an [`INode<T>`] always has a `T::INodeData` next to it. The
//! data is pin-initialised when the inode is allocated, dropped in `destroy_inode` (process
//! context) and the memory freed in `free_inode` (after an RCU grace period, as path walk may
//! still look at the inode).

use super::{dir, file, sb::SuperBlock, FileSystem, Ino};
use crate::{
    bindings,
    error::{from_result, Result},
    pagecache,
    prelude::*,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::{marker::PhantomData, ptr::NonNull};

/// The container of an inode of filesystem `T` and its data.
#[pin_data]
pub(crate) struct INodeWithData<T: FileSystem> {
    #[pin]
    data: T::INodeData,
    inode: Opaque<bindings::inode>,
}

impl<T: FileSystem> INodeWithData<T> {
    fn container_of(inode: *const bindings::inode) -> *mut Self {
        // SAFETY: The caller of the callbacks below passes an inode of a `T` superblock, which
        // `alloc_inode` allocated inside an `INodeWithData<T>`.
        unsafe { crate::container_of!(inode, Self, inode) as *mut Self }
    }

    /// # Safety
    ///
    /// Only C calls this, as the `alloc_inode` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    pub(crate) unsafe extern "C" fn alloc_inode(
        _sb: *mut bindings::super_block,
    ) -> *mut bindings::inode {
        let init = try_pin_init!(Self {
            data <- T::inode_data(),
            inode: Opaque::uninit(),
        }? Error);
        let Ok(container) = KBox::pin_init(init, GFP_KERNEL) else {
            return core::ptr::null_mut();
        };
        // SAFETY: The container stays where it is until `free_inode` (it is pinned); it is
        // released there with `KBox::from_raw`.
        let ptr = KBox::into_raw(unsafe { Pin::into_inner_unchecked(container) });
        // SAFETY: `ptr` is valid; `inode_init_once` initialises the embedded inode (the VFS
        // then calls `inode_init_always` on it).
        unsafe {
            let inode = (*ptr).inode.get();
            bindings::inode_init_once(inode);
            inode
        }
    }

    /// # Safety
    ///
    /// Only C calls this, as the `destroy_inode` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    pub(crate) unsafe extern "C" fn destroy_inode(inode: *mut bindings::inode) {
        let ptr = Self::container_of(inode);
        // SAFETY: The inode is being destroyed: nobody uses its data any more. It is dropped in
        // place; `free_inode` frees the memory without dropping it again.
        unsafe { core::ptr::drop_in_place(core::ptr::addr_of_mut!((*ptr).data)) };
    }

    /// # Safety
    ///
    /// Only C calls this, as the `write_inode` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    pub(crate) unsafe extern "C" fn write_inode(
        inode: *mut bindings::inode,
        wbc: *mut bindings::writeback_control,
    ) -> crate::ffi::c_int {
        from_result(|| {
            // SAFETY: Writeback passes a live, initialised inode of this filesystem (its
            // superblock's `s_op` is `T`'s) and its control structure.
            let (inode, sync) = unsafe {
                (
                    INode::<T>::from_raw(inode),
                    (*wbc).sync_mode == bindings::writeback_sync_modes_WB_SYNC_ALL,
                )
            };
            T::write_inode(inode, sync)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only C calls this, as the `free_inode` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    pub(crate) unsafe extern "C" fn free_inode(inode: *mut bindings::inode) {
        let ptr = Self::container_of(inode).cast::<core::mem::MaybeUninit<Self>>();
        // SAFETY: Allocated by `alloc_inode` as a `KBox<Self>`; the data was dropped in
        // `destroy_inode`, so it is freed as uninitialised memory.
        drop(unsafe { KBox::from_raw(ptr) });
    }
}

/// An inode of filesystem `T`.
///
/// # Invariants
///
/// The inode belongs to a superblock of type `T` (so it lives in an [`INodeWithData<T>`]), has
/// been initialised (it is not `I_NEW` any more), and is kept alive for as long as a
/// `&INode<T>` exists.
#[repr(transparent)]
pub struct INode<T: FileSystem>(Opaque<bindings::inode>, PhantomData<T>);

// SAFETY: The `struct inode` is usable from any thread; `T::INodeData` is `Send + Sync`.
unsafe impl<T: FileSystem> Send for INode<T> {}
// SAFETY: As above.
unsafe impl<T: FileSystem> Sync for INode<T> {}

// SAFETY: `ihold` and `iput` maintain the inode's reference count; an `&INode<T>` exists only
// while a reference is held, so `ihold` never sees a count of zero.
unsafe impl<T: FileSystem> AlwaysRefCounted for INode<T> {
    fn inc_ref(&self) {
        // SAFETY: The inode is referenced (type invariant).
        unsafe { bindings::ihold(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference.
        unsafe { bindings::iput(obj.cast().as_ptr()) };
    }
}

impl<T: FileSystem> INode<T> {
    /// # Safety
    ///
    /// `ptr` is an inode as described in the type invariants, for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::inode) -> &'a Self {
        // SAFETY: `INode` is transparent over the inode; the rest is the caller's contract.
        unsafe { &*ptr.cast() }
    }

    /// The raw `struct inode`.
    pub fn as_raw(&self) -> *mut bindings::inode {
        self.0.get()
    }

    /// The inode number.
    pub fn ino(&self) -> Ino {
        // SAFETY: `i_ino` does not change after initialisation (type invariant).
        unsafe { (*self.as_raw()).i_ino as _ }
    }

    /// The filesystem's data of this inode. It never moves (it was pin-initialised in place), so
    /// it can hold locks.
    pub fn data(&self) -> &T::INodeData {
        let ptr = INodeWithData::<T>::container_of(self.as_raw());
        // SAFETY: The inode lives in an `INodeWithData<T>` (type invariant) whose data was
        // initialised in `alloc_inode` and is dropped only in `destroy_inode`, after the last
        // reference is gone.
        unsafe { &(*ptr).data }
    }

    /// The superblock the inode belongs to.
    pub fn super_block(&self) -> &SuperBlock<T> {
        // SAFETY: An initialised inode belongs to a superblock whose data is set, alive while
        // the inode is (type invariant).
        unsafe { SuperBlock::from_raw((*self.as_raw()).i_sb) }
    }

    /// The inode as the page cache abstractions see it.
    pub fn as_inode(&self) -> &pagecache::Inode {
        // SAFETY: The inode is alive while `self` is borrowed (type invariant).
        unsafe { pagecache::Inode::from_raw(self.as_raw()) }
    }

    /// The inode's attributes as they are now in memory (what the filesystem writes back).
    pub fn attrs(&self) -> Attrs {
        let ptr = self.as_raw();
        let time = |ts: bindings::timespec64| Time {
            sec: ts.tv_sec,
            nsec: ts.tv_nsec as u32,
        };
        // SAFETY: The inode is live (type invariant); the helpers read its fields as C does
        // (callers that need a stable snapshot hold the inode's lock).
        unsafe {
            Attrs {
                mode: self.mode(),
                nlink: (*ptr).__bindgen_anon_1.i_nlink,
                uid: bindings::i_uid_read(ptr),
                gid: bindings::i_gid_read(ptr),
                size: bindings::i_size_read(ptr),
                atime: time(bindings::inode_get_atime(ptr)),
                mtime: time(bindings::inode_get_mtime(ptr)),
                ctime: time(bindings::inode_get_ctime(ptr)),
            }
        }
    }

    /// The inode's mode (file type and permissions).
    pub fn mode(&self) -> u16 {
        // SAFETY: Reading a field of a live inode; C reads it without a lock too.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.as_raw()).i_mode)) }
    }
}

/// The type of an inode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Type {
    /// A regular file.
    Reg,
    /// A directory.
    Dir,
    /// A symbolic link.
    Lnk,
}

impl Type {
    fn mode_bits(self) -> u16 {
        (match self {
            Type::Reg => bindings::S_IFREG,
            Type::Dir => bindings::S_IFDIR,
            Type::Lnk => bindings::S_IFLNK,
        }) as u16
    }
}

/// A time stamp: seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Time {
    /// Seconds (may be negative).
    pub sec: i64,
    /// Nanoseconds, below 1_000_000_000.
    pub nsec: u32,
}

impl Time {
    fn to_c(self) -> bindings::timespec64 {
        bindings::timespec64 {
            tv_sec: self.sec,
            tv_nsec: self.nsec.min(999_999_999) as _,
        }
    }
}

/// The attributes of an inode, as [`INode::attrs`] reads them.
#[derive(Clone, Copy, Debug)]
pub struct Attrs {
    /// File type and permissions.
    pub mode: u16,
    /// Link count.
    pub nlink: u32,
    /// Owner (in the initial user namespace).
    pub uid: u32,
    /// Group (in the initial user namespace).
    pub gid: u32,
    /// Size in bytes.
    pub size: i64,
    /// Access time.
    pub atime: Time,
    /// Modification time.
    pub mtime: Time,
    /// Change time.
    pub ctime: Time,
}

/// A change of attributes asked for by `chmod`, `chown`, `utimes` or `truncate`, already
/// checked for permission by the VFS. Only the size needs the filesystem's own work; the rest
/// is copied into the inode once the filesystem accepts the change.
#[derive(Clone, Copy, Debug)]
pub struct AttrChange {
    /// The new size, if the size changes.
    pub size: Option<i64>,
}

/// What a new inode is initialised with.
pub struct Params<T: FileSystem> {
    /// The file type.
    pub typ: Type,
    /// The attributes; the file type bits of `attrs.mode` are taken from `typ`.
    pub attrs: Attrs,
    /// The inode operations.
    pub inode_ops: Ops<T>,
    /// The file operations of its open files.
    pub file_ops: file::Ops<T>,
    /// The operations of its page cache; `None` for inodes whose data is not cached (this
    /// module's directories and symlinks).
    #[cfg(CONFIG_IOMAP_RS)]
    pub aops: Option<super::address_space::Ops<T>>,
    /// Whether the page cache may hold folios larger than a page.
    pub large_folios: bool,
}

/// A new inode, locked and not yet visible to anybody else, that must be initialised.
///
/// Dropping it without [`NewINode::init`] marks it bad and releases it (`iget_failed()`).
///
/// # Invariants
///
/// The inode belongs to a superblock of type `T`, is flagged `I_NEW` and locked, and we own a
/// reference to it.
pub struct NewINode<T: FileSystem>(NonNull<bindings::inode>, PhantomData<T>);

impl<T: FileSystem> NewINode<T> {
    /// # Safety
    ///
    /// `ptr` is an inode as described in the type invariants; ownership of the reference moves
    /// to the returned value.
    pub(crate) unsafe fn from_raw(ptr: NonNull<bindings::inode>) -> Self {
        Self(ptr, PhantomData)
    }

    /// The inode number.
    pub fn ino(&self) -> Ino {
        // SAFETY: The inode is valid (type invariant) and `i_ino` is set by `iget_locked`.
        unsafe { (*self.0.as_ptr()).i_ino as _ }
    }

    /// The filesystem's data of the new inode, to be filled before [`NewINode::init`].
    pub fn data(&self) -> &T::INodeData {
        let ptr = INodeWithData::<T>::container_of(self.0.as_ptr());
        // SAFETY: As in `INode::data`: the data was initialised by `alloc_inode`.
        unsafe { &(*ptr).data }
    }

    /// Initialises the inode from `params` and makes it visible.
    pub fn init(self, params: Params<T>) -> ARef<INode<T>> {
        let this = core::mem::ManuallyDrop::new(self);
        let ptr = this.0.as_ptr();
        // SAFETY: The inode is new and locked (type invariant): nobody else accesses it until
        // `unlock_new_inode`. The operation tables are `'static`.
        unsafe {
            let inode = &mut *ptr;
            let a = &params.attrs;
            inode.i_mode = params.typ.mode_bits() | (a.mode & 0o7777);
            bindings::set_nlink(ptr, a.nlink);
            bindings::i_uid_write(ptr, a.uid);
            bindings::i_gid_write(ptr, a.gid);
            bindings::i_size_write(ptr, a.size);
            bindings::inode_set_atime_to_ts(ptr, a.atime.to_c());
            bindings::inode_set_mtime_to_ts(ptr, a.mtime.to_c());
            bindings::inode_set_ctime_to_ts(ptr, a.ctime.to_c());
            inode.i_op = params.inode_ops.0;
            inode.__bindgen_anon_3.i_fop = params.file_ops.table();
            #[cfg(CONFIG_IOMAP_RS)]
            if let Some(aops) = params.aops {
                (*inode.i_mapping).a_ops = aops.table();
            }
            if params.large_folios {
                bindings::mapping_set_large_folios(inode.i_mapping);
            }
            bindings::unlock_new_inode(ptr);
            // INVARIANT: The inode is initialised now; we pass on our reference.
            ARef::from_raw(this.0.cast())
        }
    }
}

impl<T: FileSystem> Drop for NewINode<T> {
    fn drop(&mut self) {
        // SAFETY: The inode is new and locked and we own a reference (type invariant):
        // `iget_failed` marks it bad, unlocks it and drops the reference.
        unsafe { bindings::iget_failed(self.0.as_ptr()) };
    }
}

/// The `inode_operations` of a Rust filesystem.
#[vtable]
pub trait Operations {
    /// The filesystem.
    type FileSystem: FileSystem;

    /// Looks up `name` in directory `dir`: the inode it names, or `None` if there is none.
    fn lookup(
        _dir: &INode<Self::FileSystem>,
        _name: &[u8],
    ) -> Result<Option<ARef<INode<Self::FileSystem>>>> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Accepts or refuses a change of `inode`'s attributes (`setattr`). The VFS has checked the
    /// caller's permission (`setattr_prepare()`); on `Ok` the new attributes are copied into the
    /// inode and it is marked dirty, so that [`FileSystem::write_inode`] writes them back.
    /// Without this operation, attributes cannot be changed (`EPERM`).
    ///
    /// [`FileSystem::write_inode`]: super::FileSystem::write_inode
    fn setattr(_inode: &INode<Self::FileSystem>, _change: &AttrChange) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Returns the target of symbolic link `inode`, without a terminating NUL.
    fn get_link(_inode: &INode<Self::FileSystem>) -> Result<KVec<u8>> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Reports the extents of `[start, start + len)` (FIEMAP), typically through
    /// [`super::address_space::fiemap`].
    #[cfg(CONFIG_IOMAP_RS)]
    fn fiemap(
        _inode: &INode<Self::FileSystem>,
        _info: &mut super::address_space::FiemapInfo<'_>,
        _start: u64,
        _len: u64,
    ) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }
}

/// An `inode_operations` table for filesystem `T`.
#[derive(Clone, Copy)]
pub struct Ops<T: FileSystem>(&'static bindings::inode_operations, PhantomData<T>);

impl<T: FileSystem> Ops<T> {
    /// The table of the operations `U` implements.
    pub const fn new<U: Operations<FileSystem = T> + ?Sized>() -> Self {
        struct Table<U: Operations + ?Sized>(PhantomData<U>);
        impl<U: Operations + ?Sized> Table<U> {
            const TABLE: bindings::inode_operations = bindings::inode_operations {
                lookup: if U::HAS_LOOKUP {
                    Some(Self::lookup_callback)
                } else {
                    None
                },
                setattr: Some(Self::setattr_callback),
                get_link: if U::HAS_GET_LINK {
                    Some(Self::get_link_callback)
                } else {
                    None
                },
                #[cfg(CONFIG_IOMAP_RS)]
                fiemap: if U::HAS_FIEMAP {
                    Some(Self::fiemap_callback)
                } else {
                    None
                },
                // SAFETY: All-zeroes (no callback) is valid for the other fields.
                ..unsafe { core::mem::zeroed() }
            };

            /// # Safety
            ///
            /// Only C calls this, as the `lookup` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn lookup_callback(
                dir: *mut bindings::inode,
                dentry: *mut bindings::dentry,
                _flags: u32,
            ) -> *mut bindings::dentry {
                let result = (|| {
                    // SAFETY: The VFS passes a live, initialised directory of this filesystem
                    // (its `i_op` is this table) and a dentry whose name is stable during the
                    // lookup (the parent's `i_rwsem` is held).
                    let (dir, name) = unsafe {
                        let qstr = &(*dentry).d_name;
                        let len = qstr.__bindgen_anon_1.__bindgen_anon_1.len as usize;
                        (
                            INode::<U::FileSystem>::from_raw(dir),
                            core::slice::from_raw_parts(qstr.name, len),
                        )
                    };
                    let inode = match U::lookup(dir, name)? {
                        Some(inode) => {
                            let ptr = inode.as_raw();
                            core::mem::forget(inode);
                            ptr
                        }
                        None => core::ptr::null_mut(),
                    };
                    // SAFETY: `d_splice_alias` takes over the inode reference (or none) and
                    // returns the dentry to use, null for `dentry` itself, or an error
                    // pointer.
                    Ok(unsafe { bindings::d_splice_alias(inode, dentry) })
                })();
                result.unwrap_or_else(|e: Error| e.to_ptr())
            }

            /// # Safety
            ///
            /// Only C calls this, as the `get_link` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn setattr_callback(
                idmap: *mut bindings::mnt_idmap,
                dentry: *mut bindings::dentry,
                iattr: *mut bindings::iattr,
            ) -> crate::ffi::c_int {
                if !U::HAS_SETATTR {
                    return EPERM.to_errno();
                }
                from_result(|| {
                    // SAFETY: The VFS passes a positive dentry of this filesystem, with its
                    // inode locked, and the requested change, valid for the call.
                    unsafe {
                        crate::error::to_result(bindings::setattr_prepare(idmap, dentry, iattr))?;
                        let inode_ptr = (*dentry).d_inode;
                        let inode = INode::<U::FileSystem>::from_raw(inode_ptr);
                        let size = ((*iattr).ia_valid & bindings::ATTR_SIZE != 0)
                            .then(|| (*iattr).ia_size);
                        U::setattr(inode, &AttrChange { size })?;
                        bindings::setattr_copy(idmap, inode_ptr, iattr);
                        bindings::mark_inode_dirty(inode_ptr);
                    }
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// Only C calls this, as the `get_link` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn get_link_callback(
                dentry: *mut bindings::dentry,
                inode: *mut bindings::inode,
                done: *mut bindings::delayed_call,
            ) -> *const crate::ffi::c_char {
                // Path walk in RCU mode (no dentry) must not sleep: ask for a retry in ref
                // mode, where reading the target may.
                if dentry.is_null() {
                    return ECHILD.to_ptr::<crate::ffi::c_char>();
                }
                // SAFETY: The VFS passes a live, initialised symlink of this filesystem.
                let inode = unsafe { INode::<U::FileSystem>::from_raw(inode) };
                let target = U::get_link(inode).and_then(|mut t| {
                    if t.is_empty() || t.contains(&0) {
                        return Err(EUCLEAN);
                    }
                    t.push(0, GFP_KERNEL)?;
                    Ok(t)
                });
                match target {
                    Ok(t) => {
                        let (ptr, _, _) = t.into_raw_parts();
                        // SAFETY: `ptr` is a NUL-terminated kmalloc'd buffer that the VFS
                        // uses until it calls `done`, which frees it with `kfree_link`.
                        unsafe {
                            bindings::set_delayed_call(done, Some(bindings::kfree_link), ptr.cast())
                        };
                        ptr.cast::<crate::ffi::c_char>()
                    }
                    Err(e) => e.to_ptr::<crate::ffi::c_char>(),
                }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `fiemap` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            #[cfg(CONFIG_IOMAP_RS)]
            unsafe extern "C" fn fiemap_callback(
                inode: *mut bindings::inode,
                info: *mut bindings::fiemap_extent_info,
                start: u64,
                len: u64,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: The VFS passes a live, initialised inode of this filesystem and
                    // the call's extent info.
                    let (inode, mut info) = unsafe {
                        (
                            INode::<U::FileSystem>::from_raw(inode),
                            super::address_space::FiemapInfo::from_raw(info),
                        )
                    };
                    U::fiemap(inode, &mut info, start, len)?;
                    Ok(0)
                })
            }
        }
        Self(&Table::<U>::TABLE, PhantomData)
    }
}

/// Directory entry types, for `readdir`.
pub use dir::EntryType;
