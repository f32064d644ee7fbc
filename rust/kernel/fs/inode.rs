// SPDX-License-Identifier: GPL-2.0

//! Inodes of a Rust filesystem, and their `inode_operations`.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h).
//!
//! Every inode of a superblock of type `T` is allocated by `T`'s `alloc_inode` in an
//! `INodeWithData` container, so an [`INode<T>`] always has a `T::INodeData` next to it. The
//! data is pin-initialised when the inode is allocated, dropped in `destroy_inode` (process
//! context) and the memory freed in `free_inode` (after an RCU grace period, as path walk may
//! still look at the inode).
//!
//! # Soundness
//!
//! By type: an [`INode`] is always initialised and referenced; an inode being evicted is an
//! [`Evicting`], which cannot be revived; a regular file is made only with address-space
//! operations ([`Kind::Reg`]). At run time: [`NewINode::init`] refuses a size outside
//! `0 ..= s_maxbytes` (`EUCLEAN`); `create`, `mkdir` and `symlink` fail with `EIO` if the
//! filesystem returns an inode of another type or one that already has a dentry (a directory
//! with two would break the dcache).
//!
//! An owned inode reference ([`INodeRef`]) borrows the superblock: it lives no longer than the
//! callback that made it. Nothing can hold an inode past its superblock's unmount (in a
//! `static`), in the superblock's data (whose drop would evict inodes into callbacks that see
//! the data half dropped), or in another inode's data (a cycle that keeps both busy at
//! unmount). A leaked one (`mem::forget`) is reported by the VFS at unmount, as in C, and pins
//! the module. The link count changes only under the inode's lock ([`Locked::set_nlink`]), as
//! `set_nlink()` requires.

use super::{acl, dir, file, sb::SuperBlock, FileSystem, Ino};
use crate::{
    bindings,
    error::{from_result, Result},
    pagecache,
    prelude::*,
    types::{ARef, Opaque},
};
use core::{marker::PhantomData, ptr::NonNull};

/// The container of an inode of filesystem `T` and its data, in the inode cache of `T`'s
/// registered type.
#[pin_data]
pub(crate) struct INodeWithData<T: FileSystem> {
    #[pin]
    data: T::INodeData,
    inode: Opaque<bindings::inode>,
    /// The cache the container came from (the superblock may be gone when it is freed).
    cache: *mut bindings::kmem_cache,
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
        sb: *mut bindings::super_block,
    ) -> *mut bindings::inode {
        // SAFETY: The VFS allocates inodes for a live superblock of `T`, whose type
        // `Registration` registered.
        let cache = unsafe { super::TypeAndCache::inode_cache(sb) };
        // SAFETY: As above; the cache's objects have the size and alignment of `Self` (the
        // invariant of `TypeAndCache`).
        let ptr = unsafe { bindings::alloc_inode_sb(sb, cache, GFP_KERNEL.as_raw()) };
        let ptr = ptr.cast::<Self>();
        if ptr.is_null() {
            return core::ptr::null_mut();
        }
        // SAFETY: `ptr` is a fresh object for a `Self` that stays where it is until
        // `free_inode` (it is never moved: pinned); the data is initialised in place, and on
        // failure the object goes back to the cache with nothing initialised.
        unsafe {
            if T::inode_data()
                .__pinned_init(core::ptr::addr_of_mut!((*ptr).data))
                .is_err()
            {
                bindings::kmem_cache_free(cache, ptr.cast());
                return core::ptr::null_mut();
            }
            core::ptr::addr_of_mut!((*ptr).cache).write(cache);
        }
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
    /// Only C calls this, as the `evict_inode` callback of the table it is in,
    /// with the arguments that callback's C contract guarantees.
    pub(crate) unsafe extern "C" fn evict_inode(inode: *mut bindings::inode) {
        // SAFETY: The VFS evicts an inode of this filesystem with no reference left, once.
        // Its page cache is emptied first (waiting for writeback), as `evict_inode` must.
        let bad = unsafe {
            bindings::truncate_inode_pages_final(&mut (*inode).i_data);
            bindings::is_bad_inode(inode)
        };
        // A bad inode (one that failed to initialise) has nothing of the filesystem's.
        if !bad {
            // SAFETY: As above. The superblock's data is set: inodes exist only once it is,
            // and it is dropped in `put_super`, after every inode was evicted (no inode
            // reference outlives a callback: `INodeRef`).
            T::evict_inode(&Evicting(unsafe { INode::<T>::from_raw(inode) }));
        }
        // SAFETY: As above; `evict_inode` must clear the inode once its pages are gone.
        unsafe { bindings::clear_inode(inode) };
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
            // superblock's `s_op` is `T`'s, and its data is set: see `evict_inode`) and its
            // control structure.
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
        let ptr = Self::container_of(inode);
        // SAFETY: Allocated by `alloc_inode` from `cache`, which `Registration` destroys only
        // after the RCU callbacks that call this ran; the data was dropped in
        // `destroy_inode`, so the memory goes back as it is.
        unsafe { bindings::kmem_cache_free((*ptr).cache, ptr.cast()) };
    }
}

/// An inode of filesystem `T`.
///
/// # Invariants
///
/// The inode belongs to a superblock of type `T` (so it lives in an `INodeWithData<T>`), has
/// been initialised (by [`NewINode::init`], or [`NewINode::init_created`]: then it stays
/// `I_NEW` until a creation gives it its dentry), and is kept alive for as long as a
/// `&INode<T>` exists: by a reference, or by the VFS while it writes back or evicts an inode
/// whose count is zero (so an `&INode<T>` does not allow taking a reference: see
/// [`INodeRef`]).
#[repr(transparent)]
pub struct INode<T: FileSystem>(Opaque<bindings::inode>, PhantomData<T>);

// SAFETY: The `struct inode` is usable from any thread; `T::INodeData` is `Send + Sync`.
unsafe impl<T: FileSystem> Send for INode<T> {}
// SAFETY: As above.
unsafe impl<T: FileSystem> Sync for INode<T> {}

/// An owned reference to an inode of filesystem `T` (`iput()` on drop), which lives no longer
/// than the borrow `'a` of the inode's superblock.
///
/// Made by this module from references it owns (a looked-up or new inode), by cloning one, or
/// by [`INode::try_get`]. Unlike `ARef`, never from any `&INode<T>`: writeback and eviction
/// run callbacks ([`FileSystem::write_inode`], the writeback mapper) for inodes whose
/// reference count is zero and that are about to be freed, which a new reference would not
/// keep alive.
///
/// `'a` is a borrow that a callback of the filesystem was given (its superblock, or an inode
/// of it), so the reference is dropped before the callback returns. The VFS shuts a superblock
/// down once its last mount goes, and it complains about ("Busy inodes after unmount"),
/// poisons and then frees under them the inodes still referenced: a reference kept in a
/// `static` would be dropped into freed memory, one kept in the superblock's data would evict
/// its inode while that data is dropped, and references kept in inodes' data could form a
/// cycle that no eviction breaks. None of these compiles: `T::Data` and `T::INodeData` are
/// chosen once for every superblock, and no borrow of a superblock is `'static`. Only a leak
/// (`mem::forget`) keeps a reference past its callback: the VFS then reports the inode busy
/// at unmount (a warning, or a `BUG()` with `CONFIG_BUG_ON_DATA_CORRUPTION`, as for a leak in
/// C), and the module that owns the filesystem type stays loaded, so that the code and tables
/// the inode points to stay (see `put_super` in [`super`]).
///
/// # Invariants
///
/// We own one reference to an inode that satisfies [`INode`]'s invariants, whose superblock
/// is alive for `'a`.
pub struct INodeRef<'a, T: FileSystem>(NonNull<INode<T>>, PhantomData<&'a SuperBlock<T>>);

// SAFETY: `INode<T>` is `Send + Sync`, and the reference may be dropped (`iput`) from any
// thread that may sleep, as C's holders do.
unsafe impl<T: FileSystem> Send for INodeRef<'_, T> {}
// SAFETY: As above; `&INodeRef<T>` only gives `&INode<T>`.
unsafe impl<T: FileSystem> Sync for INodeRef<'_, T> {}

impl<'a, T: FileSystem> INodeRef<'a, T> {
    /// # Safety
    ///
    /// The caller owns a reference to `ptr`, an inode as [`INode`]'s invariants describe whose
    /// superblock is alive for `'a`, and gives it up.
    pub(crate) unsafe fn from_raw(ptr: NonNull<bindings::inode>) -> Self {
        // INVARIANT: The caller's reference and superblock.
        Self(ptr.cast(), PhantomData)
    }

    /// Gives up the reference, for C code that takes it over.
    pub(crate) fn into_raw(self) -> *mut bindings::inode {
        let this = core::mem::ManuallyDrop::new(self);
        this.0.as_ptr().cast()
    }
}

impl<T: FileSystem> Clone for INodeRef<'_, T> {
    fn clone(&self) -> Self {
        // SAFETY: We own a reference (type invariant), so the count is not zero, as `ihold`
        // requires.
        unsafe { bindings::ihold(self.0.as_ptr().cast()) };
        // INVARIANT: The reference just taken, to an inode of the same superblock.
        Self(self.0, PhantomData)
    }
}

impl<T: FileSystem> core::ops::Deref for INodeRef<'_, T> {
    type Target = INode<T>;

    fn deref(&self) -> &INode<T> {
        // SAFETY: We own a reference (type invariant): the inode is alive while we exist.
        unsafe { self.0.as_ref() }
    }
}

impl<T: FileSystem> Drop for INodeRef<'_, T> {
    fn drop(&mut self) {
        // SAFETY: We own a reference (type invariant) and give it up, once.
        unsafe { bindings::iput(self.0.as_ptr().cast()) };
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

    /// A new reference to the inode (`igrab()`), or `None` if the inode is being freed (a
    /// callback of its last `iput`, or of writeback after it): such an inode cannot be kept.
    ///
    /// Writeback callbacks (`write_inode`, the writeback mapper, an I/O completion) must not
    /// take one: the reference is dropped before the callback returns, and if it is the last
    /// one of an unlinked inode, the eviction it starts waits for that very writeback (a hang,
    /// not memory unsafety). Nor may those callbacks look their own inode up
    /// ([`super::sb::SuperBlock::get_or_create_inode`] waits for an inode being freed).
    pub fn try_get(&self) -> Option<INodeRef<'_, T>> {
        // SAFETY: The inode is alive (type invariant); `igrab` takes a reference unless the
        // inode is being freed (`I_FREEING`, `I_WILL_FREE`), under `i_lock`, and returns
        // null then.
        let ptr = NonNull::new(unsafe { bindings::igrab(self.as_raw()) })?;
        // SAFETY: `igrab` returned a reference we own; the superblock is alive while the
        // inode is, so for the borrow of `self`.
        Some(unsafe { INodeRef::from_raw(ptr) })
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
                nlink: self.nlink(),
                uid: bindings::i_uid_read(ptr),
                gid: bindings::i_gid_read(ptr),
                size: bindings::i_size_read(ptr),
                atime: time(bindings::inode_get_atime(ptr)),
                mtime: time(bindings::inode_get_mtime(ptr)),
                ctime: time(bindings::inode_get_ctime(ptr)),
            }
        }
    }

    /// The link count.
    pub fn nlink(&self) -> u32 {
        // SAFETY: Reading a field of a live inode, as C's `inode->i_nlink` readers do.
        unsafe { core::ptr::read_volatile(&(*self.as_raw()).__bindgen_anon_1.i_nlink) }
    }

    /// Sets the change time to now.
    ///
    /// The time stamps are not under a lock: C updates them without `i_rwsem` too
    /// (`file_update_time()` in a write fault).
    pub fn touch_ctime(&self) {
        // SAFETY: The inode is live (type invariant).
        unsafe { bindings::inode_set_ctime_current(self.as_raw()) };
    }

    /// Sets the modification and change times to now, as a change of a directory's entries
    /// does.
    pub fn touch_mtime_ctime(&self) {
        // SAFETY: The inode is live (type invariant).
        unsafe {
            let now = bindings::inode_set_ctime_current(self.as_raw());
            bindings::inode_set_mtime_to_ts(self.as_raw(), now);
        }
    }

    /// Marks the inode dirty, so that [`super::FileSystem::write_inode`] writes it back
    /// (`mark_inode_dirty()`).
    pub fn mark_dirty(&self) {
        // SAFETY: The inode is live and initialised (type invariant).
        unsafe { bindings::mark_inode_dirty(self.as_raw()) };
    }

    /// The inode's mode (file type and permissions).
    pub fn mode(&self) -> u16 {
        // SAFETY: Reading a field of a live inode; C reads it without a lock too.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.as_raw()).i_mode)) }
    }

    /// Whether writes to the inode are synchronous (`IS_SYNC()`): its filesystem is mounted
    /// with `-o sync`, or it has [`Flags::SYNC`]. A snapshot: `chattr` may change it at once.
    pub fn is_sync(&self) -> bool {
        // SAFETY: The inode and its superblock are live (type invariant); the helper reads
        // `s_flags` and `i_flags` without a lock, as C's `IS_SYNC()` does.
        unsafe { bindings::fs_inode_is_sync(self.as_raw()) }
    }
}

/// An inode whose `i_rwsem` the VFS holds exclusively for the operation: a directory whose
/// names are created, linked, removed or renamed (see [`LockedDir`]), or the inode such an
/// operation links, unlinks or replaces. Its size and link count may change.
///
/// # Invariants
///
/// `lock` is the (borrowed) lock of `inode`, held for the lifetime of this object.
pub struct Locked<'a, T: FileSystem> {
    inode: &'a INode<T>,
    lock: pagecache::InodeLock<'a>,
}

/// A directory whose `i_rwsem` the VFS holds exclusively for the operation (creating, linking,
/// removing or renaming names in it).
pub type LockedDir<'a, T> = Locked<'a, T>;

impl<'a, T: FileSystem> Locked<'a, T> {
    /// # Safety
    ///
    /// `inode`'s `i_rwsem` is held exclusively for the returned lifetime.
    unsafe fn new(inode: &'a INode<T>) -> Self {
        // SAFETY: The caller's contract.
        let lock = unsafe { inode.as_inode().assume_locked_exclusive() };
        // INVARIANT: The caller's contract.
        Locked { inode, lock }
    }

    /// The proof that the inode's lock is held.
    pub fn lock(&self) -> &pagecache::InodeLock<'a> {
        &self.lock
    }

    /// Sets the link count (`set_nlink()`). An inode whose count drops to zero is deleted when
    /// its last reference goes ([`super::FileSystem::evict_inode`]).
    pub fn set_nlink(&self, nlink: u32) {
        // SAFETY: The inode is live (type invariant of `INode`) and locked (ours): `set_nlink`
        // reads and writes `i_nlink` and keeps the superblock's count of inodes to remove
        // right, which is only exact with writers serialised, as its callers are by the lock.
        unsafe { bindings::set_nlink(self.inode.as_raw(), nlink) };
    }
}

impl<T: FileSystem> core::ops::Deref for Locked<'_, T> {
    type Target = INode<T>;

    fn deref(&self) -> &INode<T> {
        self.inode
    }
}

/// An inode being evicted ([`FileSystem::evict_inode`]).
///
/// It has no references left and cannot gain any: it gives no [`INode`] and no
/// [`INodeRef`] (that would resurrect an inode the VFS is freeing).
pub struct Evicting<'a, T: FileSystem>(&'a INode<T>);

impl<T: FileSystem> Evicting<'_, T> {
    /// The inode number.
    pub fn ino(&self) -> Ino {
        self.0.ino()
    }

    /// The filesystem's data of the inode.
    pub fn data(&self) -> &T::INodeData {
        self.0.data()
    }

    /// The superblock the inode belongs to.
    pub fn super_block(&self) -> &SuperBlock<T> {
        self.0.super_block()
    }

    /// The link count: zero if the inode is to be deleted.
    pub fn nlink(&self) -> u32 {
        self.0.nlink()
    }

    /// The inode's mode.
    pub fn mode(&self) -> u16 {
        self.0.mode()
    }

    /// The inode's attributes, to write them a last time.
    pub fn attrs(&self) -> Attrs {
        self.0.attrs()
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
    /// A character device node.
    Chr,
    /// A block device node.
    Blk,
    /// A FIFO (named pipe).
    Fifo,
    /// A socket.
    Sock,
}

impl Type {
    /// The type of an inode of mode `mode`, if it is one of these.
    pub fn from_mode(mode: u16) -> Option<Type> {
        match u32::from(mode) & bindings::S_IFMT {
            bindings::S_IFREG => Some(Type::Reg),
            bindings::S_IFDIR => Some(Type::Dir),
            bindings::S_IFLNK => Some(Type::Lnk),
            bindings::S_IFCHR => Some(Type::Chr),
            bindings::S_IFBLK => Some(Type::Blk),
            bindings::S_IFIFO => Some(Type::Fifo),
            bindings::S_IFSOCK => Some(Type::Sock),
            _ => None,
        }
    }

    /// The file type bits of a mode (`S_IFMT`) of this type.
    pub fn mode_bits(self) -> u16 {
        (match self {
            Type::Reg => bindings::S_IFREG,
            Type::Dir => bindings::S_IFDIR,
            Type::Lnk => bindings::S_IFLNK,
            Type::Chr => bindings::S_IFCHR,
            Type::Blk => bindings::S_IFBLK,
            Type::Fifo => bindings::S_IFIFO,
            Type::Sock => bindings::S_IFSOCK,
        }) as u16
    }
}

/// A device number (`dev_t`): a major number below 2^12 and a minor number below 2^20, as the
/// kernel holds them (`MKDEV()`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct DevNum(u32);

impl DevNum {
    const MINOR_BITS: u32 = 20;
    const MINOR_MASK: u32 = (1 << Self::MINOR_BITS) - 1;

    /// `0:0`: a character device node of this number is a whiteout, which hides a name of a
    /// lower layer in overlayfs (`WHITEOUT_DEV`).
    pub const WHITEOUT: DevNum = DevNum(0);

    /// The device number `major:minor`; `None` if either is too large for a `dev_t`.
    pub fn new(major: u32, minor: u32) -> Option<DevNum> {
        (major < 1 << (32 - Self::MINOR_BITS) && minor <= Self::MINOR_MASK)
            .then_some(DevNum(major << Self::MINOR_BITS | minor))
    }

    /// The major number.
    pub fn major(self) -> u32 {
        self.0 >> Self::MINOR_BITS
    }

    /// The minor number.
    pub fn minor(self) -> u32 {
        self.0 & Self::MINOR_MASK
    }

    /// The device number in the 32-bit encoding that does not depend on the kernel's `dev_t`
    /// layout, for a filesystem to store (`new_encode_dev()`).
    pub fn encode(self) -> u32 {
        let (major, minor) = (self.major(), self.minor());
        (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
    }

    /// The device number a filesystem stored with [`DevNum::encode`] (`new_decode_dev()`);
    /// every `u32` decodes to a valid one.
    pub fn decode(stored: u32) -> DevNum {
        let major = (stored & 0xfff00) >> 8;
        let minor = (stored & 0xff) | ((stored >> 12) & 0xfff00);
        DevNum(major << Self::MINOR_BITS | minor)
    }
}

/// A special file: what a device node, FIFO or socket is made with (`mknod(2)`). It has no
/// data of its own: opening it reaches a driver, a pipe or nothing (`init_special_inode()`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Special {
    /// A character device node for the device.
    Chr(DevNum),
    /// A block device node for the device.
    Blk(DevNum),
    /// A FIFO.
    Fifo,
    /// A socket.
    Sock,
}

impl Special {
    /// The file type.
    pub fn typ(self) -> Type {
        match self {
            Special::Chr(_) => Type::Chr,
            Special::Blk(_) => Type::Blk,
            Special::Fifo => Type::Fifo,
            Special::Sock => Type::Sock,
        }
    }

    /// The device number (none for a FIFO or socket).
    pub fn dev(self) -> Option<DevNum> {
        match self {
            Special::Chr(dev) | Special::Blk(dev) => Some(dev),
            Special::Fifo | Special::Sock => None,
        }
    }

    /// The special file of type `typ` and device number `dev` (ignored but for devices);
    /// `None` if `typ` is not a special file's.
    pub fn new(typ: Type, dev: DevNum) -> Option<Special> {
        match typ {
            Type::Chr => Some(Special::Chr(dev)),
            Type::Blk => Some(Special::Blk(dev)),
            Type::Fifo => Some(Special::Fifo),
            Type::Sock => Some(Special::Sock),
            Type::Reg | Type::Dir | Type::Lnk => None,
        }
    }
}

/// A generation number for an inode being created: random, as ext4 and XFS give theirs
/// (`get_random_u32()`). With the inode number it tells the inodes created in one slot apart,
/// so that a filesystem can bind its per-inode metadata to one of them (and file handles name
/// one).
pub fn new_generation() -> u32 {
    // SAFETY: `get_random_u32` has no preconditions and may be called in any context.
    unsafe { bindings::get_random_u32() }
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
    /// The current time as the VFS stamps inodes with it (`current_time()`): the coarse clock,
    /// at the nanosecond granularity and full range every Rust filesystem's superblock has.
    /// A filesystem that stamps a new inode with this and later changes with
    /// [`INode::touch_ctime`] and the VFS's own updates uses one clock, so its times never go
    /// backwards (the fine clock runs up to a tick ahead of the coarse one).
    pub fn now() -> Time {
        let mut ts = bindings::timespec64::default();
        // SAFETY: `ts` is valid for writes.
        unsafe { bindings::ktime_get_coarse_real_ts64(&mut ts) };
        Time {
            sec: ts.tv_sec,
            nsec: ts.tv_nsec as u32,
        }
    }

    fn to_c(self) -> bindings::timespec64 {
        bindings::timespec64 {
            tv_sec: self.sec,
            tv_nsec: self.nsec.min(999_999_999) as _,
        }
    }
}

/// What a filesystem may correct of an inode's `stat(2)` ([`Operations::getattr`]).
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    /// The space the file uses on the device, in 512-byte units (`st_blocks`): blocks of
    /// data and of the metadata that maps them, including those reserved for data not yet
    /// written back, as XFS and ext4 count them. The VFS fills in the inode's `i_blocks`.
    pub blocks: u64,
    /// The inode's creation time (`statx(2)`'s `stx_btime`), if the filesystem keeps it: `None`
    /// from the VFS.
    pub btime: Option<Time>,
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

/// The owner and permissions of an inode being created, as the VFS and the parent directory
/// decide them (the caller's fsuid and fsgid, set-group-ID directories inherited, and the
/// parent's default ACL or else the umask applied). The filesystem puts them in
/// [`Params::attrs`], stores `acls` with the inode ([`acl`]), and asks the LSMs for its labels
/// with `security` ([`Created::init_security`]).
///
/// It lives no longer than the callback of the creation (`'a`).
#[derive(Debug)]
pub struct NewOwner<'a> {
    /// Permission bits (no file type).
    pub mode: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// The ACLs the inode inherits from its parent's default ACL, on a filesystem with
    /// [`super::FileSystem::POSIX_ACL`]: stored with the inode, they are in the VFS's cache
    /// once the creation returns.
    pub acls: acl::Inherited,
    /// What the LSMs label the inode by.
    pub security: Security<'a>,
}

impl<'a> NewOwner<'a> {
    /// The owner of an inode of `mode` (its type and the permission bits asked for) being
    /// created in `dir` as `name`.
    ///
    /// # Safety
    ///
    /// `dir` is a live, initialised directory, and `name` null (an `O_TMPFILE` inode) or the
    /// name of the dentry being created (`d_name`), both valid for `'a`.
    unsafe fn new(
        dir: *mut bindings::inode,
        name: *const bindings::qstr,
        mode: u16,
    ) -> Result<Self> {
        // SAFETY: The caller's contract.
        let mut owner = unsafe { Self::without_acls(dir, name, mode) };
        let mut mode = (mode & bindings::S_IFMT as u16) | owner.mode;
        // SAFETY: The caller's contract.
        owner.acls = unsafe { acl::Inherited::create(dir, &mut mode)? };
        owner.mode = mode & 0o7777;
        Ok(owner)
    }

    /// As [`NewOwner::new`], without inheriting ACLs or applying the umask: for a whiteout,
    /// which has no permissions.
    ///
    /// # Safety
    ///
    /// As [`NewOwner::new`].
    unsafe fn without_acls(
        dir: *mut bindings::inode,
        name: *const bindings::qstr,
        mode: u16,
    ) -> Self {
        let (mut mode, mut uid, mut gid) = (mode as bindings::umode_t, 0, 0);
        // SAFETY: `dir` is live (the caller's contract); the helper only reads it and the
        // current task's credentials.
        unsafe { bindings::fs_new_owner(dir, &mut mode, &mut uid, &mut gid) };
        NewOwner {
            mode: mode & 0o7777,
            uid,
            gid,
            acls: acl::Inherited::default(),
            // INVARIANT: The caller's contract.
            security: Security {
                dir,
                name,
                _p: PhantomData,
            },
        }
    }
}

/// What the LSMs label an inode being created by (`security_inode_init_security()`): the
/// directory and the name the VFS creates it with, as only the VFS's callback knows them.
/// There is one per creation, and [`Created::init_security`] consumes it.
///
/// # Invariants
///
/// `dir` is a live directory and `name` null (an `O_TMPFILE` inode) or a dentry's name,
/// NUL-terminated, both valid for `'a`.
pub struct Security<'a> {
    dir: *mut bindings::inode,
    name: *const bindings::qstr,
    _p: PhantomData<&'a bindings::inode>,
}

impl core::fmt::Debug for Security<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Security").finish_non_exhaustive()
    }
}

/// Copies the extended attributes the LSMs made for a new inode out of
/// `security_inode_init_security()`, which frees them when this returns.
///
/// # Safety
///
/// `array` is an array of `struct xattr` ended by one with a null name, whose names are
/// NUL-terminated and whose values hold `value_len` bytes; `data` points to a
/// `KVec<xattr::SecurityXattr>` nothing else accesses during the call.
unsafe extern "C" fn copy_security_xattrs(
    _inode: *mut bindings::inode,
    array: *const bindings::xattr,
    data: *mut crate::ffi::c_void,
) -> crate::ffi::c_int {
    // SAFETY: The caller's contract.
    let out = unsafe { &mut *data.cast::<KVec<super::xattr::SecurityXattr>>() };
    let mut entry = array;
    // Never `EOPNOTSUPP`, which `security_inode_init_security()` would take for success with
    // what was copied so far: only the errors of allocations and of `SecurityXattr::new`.
    from_result(|| loop {
        // SAFETY: `entry` is in the array: at most its terminator, where this stops.
        let x = unsafe { &*entry };
        if x.name.is_null() {
            return Ok(0);
        }
        // SAFETY: The caller's contract: the name is NUL-terminated, the value `value_len`
        // bytes long (and maybe null when empty).
        let (name, value) = unsafe {
            (
                crate::str::CStr::from_char_ptr(x.name).as_bytes(),
                if x.value_len == 0 {
                    &[][..]
                } else {
                    core::slice::from_raw_parts(x.value.cast::<u8>(), x.value_len)
                },
            )
        };
        out.push(super::xattr::SecurityXattr::new(name, value)?, GFP_KERNEL)?;
        // SAFETY: This entry was not the terminator: the next one is in the array.
        entry = unsafe { entry.add(1) };
    })
}

/// The type of a new inode, with what that type needs.
///
/// A regular file's data lives in the page cache, whose reads, faults and writeback call its
/// address-space operations: it cannot be made without them.
pub enum Kind<T: FileSystem> {
    /// A regular file, whose page cache has the operations `aops`.
    #[cfg(CONFIG_IOMAP_RS)]
    Reg(super::address_space::Ops<T>),
    /// A directory (its entries are the filesystem's metadata, not cached file data).
    Dir,
    /// A symbolic link (its target is read by [`Operations::get_link`]).
    Lnk,
    /// A device node, FIFO or socket: the VFS gives it the file operations of its kind
    /// (`init_special_inode()`), and [`Params::file_ops`] is not used.
    Special(Special),
    /// Without address-space operations no regular file can be made; this variant, which
    /// cannot be built, keeps `T` used.
    #[cfg(not(CONFIG_IOMAP_RS))]
    #[doc(hidden)]
    Never(core::convert::Infallible, PhantomData<T>),
}

impl<T: FileSystem> Kind<T> {
    /// The file type.
    pub fn typ(&self) -> Type {
        match self {
            #[cfg(CONFIG_IOMAP_RS)]
            Kind::Reg(_) => Type::Reg,
            Kind::Dir => Type::Dir,
            Kind::Lnk => Type::Lnk,
            Kind::Special(special) => special.typ(),
            #[cfg(not(CONFIG_IOMAP_RS))]
            Kind::Never(never, _) => match *never {},
        }
    }
}

/// What a new inode is initialised with.
pub struct Params<T: FileSystem> {
    /// The file type, and for a regular file its address-space operations.
    pub kind: Kind<T>,
    /// The attributes; the file type bits of `attrs.mode` are taken from `kind`, and the size
    /// must be a file size (`0 ..= s_maxbytes`).
    pub attrs: Attrs,
    /// The inode operations.
    pub inode_ops: Ops<T>,
    /// The file operations of its open files.
    pub file_ops: file::Ops<T>,
    /// Whether the page cache may hold folios larger than a page.
    pub large_folios: bool,
    /// The inode's flags, as stored ([`Operations::set_flags`]).
    pub flags: Flags,
    /// The inode's generation (`i_generation`): a number that tells apart the inodes its
    /// number named over time, which the LSMs may hash with its labels (EVM); 0 for a
    /// filesystem that keeps none.
    pub generation: u32,
}

/// Inode flags of `FS_IOC_GETFLAGS` and `FS_IOC_SETFLAGS` (`lsattr(1)`, `chattr(1)`, and XFS's
/// `FS_IOC_FSGETXATTR`) that the VFS enforces, or that ask nothing of the filesystem but to keep
/// them.
///
/// # Invariants
///
/// Only the bits of [`Flags::ALL`] are set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags(u32);

impl Flags {
    /// `FS_IMMUTABLE_FL` (`chattr +i`): no change of the inode's data, attributes, extended
    /// attributes or names (`S_IMMUTABLE`). The VFS checks opens for writing, attribute and
    /// name changes, `fallocate` and `copy_file_range`; writes ([`super::file::write_checks`]),
    /// truncation and write faults through a file opened for writing before the flag was set
    /// are refused here, as ext4 does in its own paths.
    pub const IMMUTABLE: Flags = Flags(bindings::FS_IMMUTABLE_FL);
    /// `FS_APPEND_FL` (`chattr +a`): opened for writing only to append, never truncated,
    /// unlinked or renamed (`S_APPEND`); a truncation through a file opened before the flag
    /// was set is refused here, but, as on ext4 and XFS, not a write at an offset through it.
    pub const APPEND: Flags = Flags(bindings::FS_APPEND_FL);
    /// `FS_NODUMP_FL` (`chattr +d`): for backup programs only.
    pub const NODUMP: Flags = Flags(bindings::FS_NODUMP_FL);
    /// `FS_NOATIME_FL` (`chattr +A`): reads do not update the access time (`S_NOATIME`).
    pub const NOATIME: Flags = Flags(bindings::FS_NOATIME_FL);
    /// `FS_SYNC_FL` (`chattr +S`): writes are synchronous, as on a filesystem mounted with
    /// `-o sync` (`S_SYNC`, [`INode::is_sync`]): each is synced before it returns, as if the
    /// file were open with `O_DSYNC` ([`super::file::write_sync`]). Which other changes of the
    /// inode a filesystem makes durable at once is its own choice (XFS and ext4 sync
    /// `fallocate`, ext4 also attribute changes; [`super::file::File::sync_writes`]).
    pub const SYNC: Flags = Flags(bindings::FS_SYNC_FL);
    /// Every flag of this type.
    pub const ALL: Flags = Flags(
        bindings::FS_IMMUTABLE_FL
            | bindings::FS_APPEND_FL
            | bindings::FS_NODUMP_FL
            | bindings::FS_NOATIME_FL
            | bindings::FS_SYNC_FL,
    );

    /// No flag.
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// The flags of `FS_*_FL` bits `bits`: `None` if one is not of this type.
    pub const fn from_bits(bits: u32) -> Option<Flags> {
        if bits & !Self::ALL.0 != 0 {
            None
        } else {
            // INVARIANT: Checked above.
            Some(Flags(bits))
        }
    }

    /// The `FS_*_FL` bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags of `self` and those of `other`.
    pub const fn union(self, other: Flags) -> Flags {
        // INVARIANT: Both have only bits of `ALL`.
        Flags(self.0 | other.0)
    }

    /// The flags both `self` and `other` have.
    pub const fn intersection(self, other: Flags) -> Flags {
        // INVARIANT: `self` has only bits of `ALL`.
        Flags(self.0 & other.0)
    }

    /// The `S_*` bits of `i_flags` the VFS acts on for these flags.
    fn inode_flags(self) -> u32 {
        let mut f = 0;
        if self.contains(Flags::IMMUTABLE) {
            f |= bindings::S_IMMUTABLE;
        }
        if self.contains(Flags::APPEND) {
            f |= bindings::S_APPEND;
        }
        if self.contains(Flags::NOATIME) {
            f |= bindings::S_NOATIME;
        }
        if self.contains(Flags::SYNC) {
            f |= bindings::S_SYNC;
        }
        f
    }

    /// The `S_*` bits of `i_flags` that [`Flags::inode_flags`] sets.
    const INODE_MASK: u32 =
        bindings::S_IMMUTABLE | bindings::S_APPEND | bindings::S_NOATIME | bindings::S_SYNC;

    /// Sets the `S_*` bits of `inode` for these flags (`inode_set_flags()`).
    ///
    /// # Safety
    ///
    /// `inode` is live, and new (`I_NEW`) or its `i_rwsem` is held exclusively.
    unsafe fn apply(self, inode: *mut bindings::inode) {
        // SAFETY: The caller's contract: nobody else changes `i_flags` meanwhile (those who
        // do hold `i_rwsem`, or own a new inode).
        unsafe { bindings::inode_set_flags(inode, self.inode_flags(), Self::INODE_MASK) };
    }
}

impl core::ops::BitOr for Flags {
    type Output = Flags;

    fn bitor(self, other: Flags) -> Flags {
        self.union(other)
    }
}

/// A new inode, locked and not yet visible to anybody else, that must be initialised.
///
/// Dropping it without [`NewINode::init`] marks it bad and releases it (`iget_failed()`).
///
/// # Invariants
///
/// The inode belongs to a superblock of type `T` alive for `'a`, is flagged `I_NEW` and
/// locked, and we own a reference to it.
pub struct NewINode<'a, T: FileSystem>(NonNull<bindings::inode>, PhantomData<&'a SuperBlock<T>>);

impl<'a, T: FileSystem> NewINode<'a, T> {
    /// # Safety
    ///
    /// `ptr` is an inode as described in the type invariants; ownership of the reference moves
    /// to the returned value.
    pub(crate) unsafe fn from_raw(ptr: NonNull<bindings::inode>) -> Self {
        // INVARIANT: The caller's contract.
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
    ///
    /// `EUCLEAN` if the size is not a file size (`0 ..= s_maxbytes`: a negative size would
    /// reach the page cache as an index no truncation removes), `EINVAL` if a directory or
    /// symlink gets file operations that read, write or map its data (only a regular file has
    /// address-space operations): the inode is then marked bad and released, as on any
    /// failure to read it.
    pub fn init(self, params: Params<T>) -> Result<INodeRef<'a, T>> {
        Ok(self.init_created(params)?.unlock())
    }

    /// Initialises the inode from `params` for a `create`, `mkdir` or `symlink`, which returns
    /// it still locked (`I_NEW`, so nobody else can find it) until the VFS gives it its dentry.
    /// Errors as [`NewINode::init`].
    pub fn init_created(self, params: Params<T>) -> Result<Created<'a, T>> {
        let ptr = self.0.as_ptr();
        // SAFETY: The inode is valid (type invariant); its superblock's `s_maxbytes` is set
        // before any inode is created.
        let max = unsafe { (*(*ptr).i_sb).s_maxbytes };
        if params.attrs.size < 0 || params.attrs.size > max {
            return Err(EUCLEAN);
        }
        // Reads, writes and mappings go through the page cache, which only a regular file's
        // address-space operations serve: a directory or symlink with them would call a NULL
        // `read_folio`.
        let fops = params.file_ops.table();
        if params.kind.typ() != Type::Reg
            && (fops.read_iter.is_some() || fops.write_iter.is_some() || fops.mmap.is_some())
        {
            return Err(EINVAL);
        }
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: The inode is new and locked (type invariant): nobody else accesses it until
        // `unlock_new_inode`. The operation tables are `'static`.
        unsafe {
            let a = &params.attrs;
            (*ptr).i_mode = params.kind.typ().mode_bits() | (a.mode & 0o7777);
            bindings::set_nlink(ptr, a.nlink);
            bindings::i_uid_write(ptr, a.uid);
            bindings::i_gid_write(ptr, a.gid);
            bindings::i_size_write(ptr, a.size);
            bindings::inode_set_atime_to_ts(ptr, a.atime.to_c());
            bindings::inode_set_mtime_to_ts(ptr, a.mtime.to_c());
            bindings::inode_set_ctime_to_ts(ptr, a.ctime.to_c());
            (*ptr).i_generation = params.generation;
            (*ptr).i_op = params.inode_ops.0;
            // A special file keeps the file operations `inode_init_always()` gave it (those
            // that refuse to open, a socket's) unless `init_special_inode` sets its kind's.
            if !matches!(params.kind, Kind::Special(_)) {
                (*ptr).__bindgen_anon_3.i_fop = fops;
            }
            if let Kind::Special(special) = params.kind {
                // Sets `i_fop` to those of the kind, and `i_rdev`.
                let rdev = special.dev().map_or(0, |d| d.0);
                bindings::init_special_inode(ptr, (*ptr).i_mode, rdev);
            }
            #[cfg(CONFIG_IOMAP_RS)]
            if let Kind::Reg(aops) = params.kind {
                (*(*ptr).i_mapping).a_ops = aops.table();
            }
            if params.large_folios {
                bindings::mapping_set_large_folios((*ptr).i_mapping);
            }
            // A new inode (`I_NEW`), which nobody else sees yet.
            params.flags.apply(ptr);
            // INVARIANT: The inode's fields are initialised; it stays `I_NEW` and we pass on
            // our reference.
            Ok(Created(INodeRef::from_raw(this.0)))
        }
    }
}

/// A new inode, initialised but still locked (`I_NEW`): what [`Operations::create`],
/// [`Operations::mkdir`] and [`Operations::symlink`] return, made only by
/// [`NewINode::init_created`]. Until the VFS gives it its dentry (`d_instantiate_new()`, which
/// unlocks it), whoever looks the inode up waits, and `lookup` refuses it: so it has exactly
/// one dentry, as a directory must.
///
/// It can be used as an [`INode`] meanwhile (to write it, link it into the directory).
/// Dropping it unlocks it and drops the reference: a creation that fails after making the
/// inode clears its link count first, so that eviction deletes it.
///
/// # Invariants
///
/// The inode is initialised and `I_NEW`, and we own a reference to it.
pub struct Created<'a, T: FileSystem>(INodeRef<'a, T>);

impl<'a, T: FileSystem> Created<'a, T> {
    /// Sets the link count (`set_nlink()`): nobody else can reach the inode until it is
    /// instantiated, as if it were locked. A creation that fails after making the inode sets
    /// it to zero, so that eviction deletes the inode.
    pub fn set_nlink(&self, nlink: u32) {
        // SAFETY: The inode is live and `I_NEW` (type invariant): whoever looks it up waits
        // until it is unlocked, so this is its only writer, as under the inode's lock.
        unsafe { bindings::set_nlink(self.0.as_raw(), nlink) };
    }

    /// The extended attributes of the `security.` namespace the LSMs give the new inode
    /// (`security_inode_init_security()`), from the directory and name of its creation
    /// (`security`), and its type, owner and mode as initialised: the filesystem stores them
    /// with the inode, as if set by `setxattr(2)`, in the transaction that creates it, and
    /// fails the creation if it cannot. None (and no allocation) when no LSM labels inodes;
    /// an LSM's error (`ENOMEM`, or a refusal) otherwise, as is a name that `setxattr(2)`
    /// would refuse (`EINVAL`, `ERANGE`) or a value larger than it allows (`E2BIG`). `EINVAL`
    /// if the inode is not of the directory's superblock.
    ///
    /// The LSMs read the inode's type, mode, owner, number and generation ([`Params`]), and
    /// may also label the in-memory inode here; the VFS calls them again when the inode gets
    /// its dentry.
    pub fn init_security(
        &self,
        security: Security<'_>,
    ) -> Result<KVec<super::xattr::SecurityXattr>> {
        // SAFETY: Both inodes are live (type invariant, `Security`'s invariant).
        if unsafe { (*self.0.as_raw()).i_sb != (*security.dir).i_sb } {
            return Err(EINVAL);
        }
        let mut xattrs = KVec::new();
        // As `GFP_NOFS`, as C filesystems allocate here: the filesystem may be in a
        // transaction that reclaim would wait for.
        let _nofs = super::reclaim::NoFsScope::enter();
        // SAFETY: The inode is live and initialised, and `I_NEW`, so that nobody else sees the
        // labels until they are complete (type invariant); `dir` and `name` are valid for the
        // call (`Security`'s invariant); the callback gets the arguments its contract asks
        // for (`security_inode_init_security()` ends the array with a zeroed entry, and its
        // values hold `value_len` bytes) and `xattrs`, which only it accesses meanwhile.
        crate::error::to_result(unsafe {
            bindings::fs_init_security(
                self.0.as_raw(),
                security.dir,
                security.name,
                Some(copy_security_xattrs),
                core::ptr::addr_of_mut!(xattrs).cast(),
            )
        })?;
        Ok(xattrs)
    }

    /// Unlocks the inode (`unlock_new_inode()`) and returns the reference.
    fn unlock(self) -> INodeRef<'a, T> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is not used or dropped again: the reference moves out once.
        let inode = unsafe { core::ptr::read(&this.0) };
        // SAFETY: The inode is `I_NEW` (type invariant); this clears it, once.
        unsafe { bindings::unlock_new_inode(inode.as_raw()) };
        inode
    }

    /// Gives up the reference, for `d_instantiate_new()`, which takes it over and unlocks the
    /// inode.
    fn into_raw(self) -> *mut bindings::inode {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is not used or dropped again: the reference moves out once, to the
        // caller.
        unsafe { core::ptr::read(&this.0) }.into_raw()
    }
}

/// The file an `O_TMPFILE` open is making ([`Operations::tmpfile`]): the new inode gets its
/// unnamed dentry from [`TmpFile::instantiate`].
///
/// # Invariants
///
/// `file` is the file the VFS passed to the `tmpfile` callback, valid for `'a`, whose
/// `f_path.dentry` is negative and unhashed until `instantiate` gives it `inode` (non-null
/// from then on), which stays `I_NEW` until the callback unlocks it; `dir` is the live
/// directory the VFS passed with it.
pub struct TmpFile<'a, T: FileSystem> {
    file: *mut bindings::file,
    dir: *mut bindings::inode,
    inode: *mut bindings::inode,
    _p: PhantomData<(&'a bindings::file, T)>,
}

impl<'a, T: FileSystem> TmpFile<'a, T> {
    /// Gives the new regular file `inode` (made by [`NewINode::init_created`] with one link)
    /// the open file's unnamed dentry: drops its link (`d_tmpfile()`), so that it has none, and
    /// marks it dirty. The filesystem records that it has no links in the same transaction
    /// that made it (on its orphan list: should the system crash, nothing names it), while the
    /// inode is still locked (`I_NEW`: the VFS unlocks it when [`Operations::tmpfile`]
    /// returns); a later `linkat()` may give it a name ([`Operations::link`] of an inode
    /// without links); else the last close deletes it ([`super::FileSystem::evict_inode`]).
    ///
    /// `EINVAL` if a dentry was given already, or if the inode is not a regular file of this
    /// superblock with one link: it is dropped without links, so that eviction deletes it.
    pub fn instantiate(&mut self, inode: Created<'_, T>) -> Result<&'a INode<T>> {
        // SAFETY: Both inodes are live (`dir`: type invariant).
        let same_sb = unsafe { (*inode.as_raw()).i_sb == (*self.dir).i_sb };
        if !self.inode.is_null()
            || !same_sb
            || Type::from_mode(inode.mode()) != Some(Type::Reg)
            || inode.nlink() != 1
        {
            inode.set_nlink(0);
            return Err(EINVAL);
        }
        let ptr = inode.into_raw();
        // SAFETY: `file`'s dentry is negative and unhashed (type invariant: no inode given
        // yet), as `d_tmpfile()` needs, and the inode has one link to drop; the dentry takes
        // over our reference.
        unsafe { bindings::d_tmpfile(self.file, ptr) };
        // INVARIANT: The dentry has its inode, still `I_NEW` (`Created`'s invariant), which
        // the callback unlocks.
        self.inode = ptr;
        // SAFETY: The dentry holds the inode, and `vfs_tmpfile()` holds the dentry until the
        // `tmpfile` call, `'a`, returns.
        Ok(unsafe { INode::from_raw(ptr) })
    }
}

impl<T: FileSystem> core::ops::Deref for Created<'_, T> {
    type Target = INode<T>;

    fn deref(&self) -> &INode<T> {
        &self.0
    }
}

impl<T: FileSystem> Drop for Created<'_, T> {
    fn drop(&mut self) {
        // SAFETY: The inode is `I_NEW` (type invariant); the reference is dropped after.
        unsafe { bindings::unlock_new_inode(self.0.as_raw()) };
    }
}

impl<T: FileSystem> Drop for NewINode<'_, T> {
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
    fn lookup<'a>(
        _dir: &'a INode<Self::FileSystem>,
        _name: &[u8],
    ) -> Result<Option<INodeRef<'a, Self::FileSystem>>> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Accepts or refuses a change of `inode`'s attributes (`setattr`). The VFS has checked the
    /// caller's permission (`setattr_prepare()`); on `Ok` the new attributes are copied into the
    /// inode and it is marked dirty, so that [`FileSystem::write_inode`] writes them back.
    /// Without this operation, attributes cannot be changed (`EPERM`).
    ///
    /// `lock` proves that the inode's `i_rwsem` is held exclusively (the VFS holds it), which a
    /// size change needs.
    ///
    /// [`FileSystem::write_inode`]: super::FileSystem::write_inode
    fn setattr(
        _inode: &INode<Self::FileSystem>,
        _lock: &pagecache::InodeLock<'_>,
        _change: &AttrChange,
    ) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Creates a regular file `name` in directory `dir` and returns its new inode
    /// ([`NewINode::init_created`]), initialised with `owner`'s attributes and a link count of
    /// one. The VFS holds `dir`'s lock and has checked that `name` does not exist. An inode of
    /// another type or of another superblock fails the creation with `EIO`.
    fn create<'a>(
        _dir: &'a LockedDir<'_, Self::FileSystem>,
        _name: &[u8],
        _owner: NewOwner<'_>,
    ) -> Result<Created<'a, Self::FileSystem>> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Creates directory `name` in `dir`, as [`Operations::create`] does files.
    fn mkdir<'a>(
        _dir: &'a LockedDir<'_, Self::FileSystem>,
        _name: &[u8],
        _owner: NewOwner<'_>,
    ) -> Result<Created<'a, Self::FileSystem>> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Creates symbolic link `name` in `dir` pointing to `target` (not empty, no NUL), as
    /// [`Operations::create`] does files.
    fn symlink<'a>(
        _dir: &'a LockedDir<'_, Self::FileSystem>,
        _name: &[u8],
        _target: &[u8],
        _owner: NewOwner<'_>,
    ) -> Result<Created<'a, Self::FileSystem>> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Creates the special file `name` in `dir` (`mknod(2)`: a device node, FIFO or socket),
    /// as [`Operations::create`] does files; its inode is initialised with
    /// [`Kind::Special`]. The VFS has checked the caller's right to make device nodes.
    fn mknod<'a>(
        _dir: &'a LockedDir<'_, Self::FileSystem>,
        _name: &[u8],
        _special: Special,
        _owner: NewOwner<'_>,
    ) -> Result<Created<'a, Self::FileSystem>> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Creates an unnamed regular file in `dir`'s filesystem for an `O_TMPFILE` open, as
    /// [`Operations::create`] does files, and gives it to `file` with
    /// [`TmpFile::instantiate`], which leaves it without links. The VFS does not lock `dir`.
    /// Returning `Ok` without a call of `instantiate` fails the open with `EIO`.
    fn tmpfile<'a>(
        _dir: &'a INode<Self::FileSystem>,
        _file: &mut TmpFile<'a, Self::FileSystem>,
        _owner: NewOwner<'_>,
    ) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Adds `name` in `dir` for the existing non-directory `inode` (locked by the VFS) and
    /// raises its link count. The inode may have no links: one made by
    /// [`Operations::tmpfile`], which `linkat()` names.
    fn link(
        _inode: &Locked<'_, Self::FileSystem>,
        _dir: &LockedDir<'_, Self::FileSystem>,
        _name: &[u8],
    ) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Removes the entry `name` of `dir`, which names the non-directory `inode` (locked by the
    /// VFS), and lowers its link count. An inode left without links stays usable by whoever has it
    /// open; it is deleted when the last reference goes ([`super::FileSystem::evict_inode`]).
    fn unlink(
        _dir: &LockedDir<'_, Self::FileSystem>,
        _name: &[u8],
        _inode: &Locked<'_, Self::FileSystem>,
    ) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Removes directory `inode` (locked by the VFS), named `name` in `dir`, if it is empty
    /// (`ENOTEMPTY` otherwise).
    fn rmdir(
        _dir: &LockedDir<'_, Self::FileSystem>,
        _name: &[u8],
        _inode: &Locked<'_, Self::FileSystem>,
    ) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Moves `inode` from `old_name` in `old_dir` to `new_name` in `new_dir`, replacing `target` if
    /// that name exists (the VFS has checked that `target` is a directory exactly when `inode` is,
    /// and that neither is an ancestor of the other directory; the filesystem checks that a
    /// directory `target` is empty). The VFS locks both directories and `target`, but not `inode`
    /// when it is a directory that stays in the same parent: so `inode`'s link count cannot change
    /// here. `RENAME_NOREPLACE` is handled by the VFS. With `RENAME_WHITEOUT`, `whiteout` is the
    /// owner of the whiteout (a character device node for [`DevNum::WHITEOUT`], as overlayfs
    /// reads it) the filesystem leaves at the old name in the same operation, or it fails with
    /// `EINVAL`. `RENAME_EXCHANGE` is [`Operations::exchange`]'s.
    fn rename(
        _old_dir: &LockedDir<'_, Self::FileSystem>,
        _old_name: &[u8],
        _inode: &INode<Self::FileSystem>,
        _new_dir: &LockedDir<'_, Self::FileSystem>,
        _new_name: &[u8],
        _target: Option<&Locked<'_, Self::FileSystem>>,
        _whiteout: Option<NewOwner<'_>>,
    ) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Swaps the names `old_name` in `old_dir`, of `inode`, and `new_name` in `new_dir`, of
    /// `other`, atomically (`RENAME_EXCHANGE`): each inode ends up under the other's name, and a
    /// directory that changes parent gets its new `..`. Without this operation exchanges fail
    /// with `EINVAL`. The VFS locks both directories, and each inode unless it is a directory
    /// that stays in its parent; it has checked that neither is an ancestor of the other
    /// directory, and the parents' link counts against the filesystem's maximum.
    fn exchange(
        _old_dir: &LockedDir<'_, Self::FileSystem>,
        _old_name: &[u8],
        _inode: &INode<Self::FileSystem>,
        _new_dir: &LockedDir<'_, Self::FileSystem>,
        _new_name: &[u8],
        _other: &INode<Self::FileSystem>,
    ) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Completes what `stat(2)` reports of `inode` (`getattr`): the VFS has filled `stat` from
    /// the inode (`generic_fillattr()`), and the filesystem corrects what only it knows, such
    /// as the space in use. Without this operation, the VFS's values are reported.
    fn getattr(_inode: &INode<Self::FileSystem>, _stat: &mut Stat) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Returns `inode`'s flags (`FS_IOC_GETFLAGS`, `FS_IOC_FSGETXATTR`): those it stores.
    /// Without this operation (and [`Operations::set_flags`]) both ioctls fail with `ENOTTY`.
    fn get_flags(_inode: &INode<Self::FileSystem>) -> Result<Flags> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Sets `inode`'s flags to `flags` (`FS_IOC_SETFLAGS`, `FS_IOC_FSSETXATTR`): the filesystem
    /// stores them and updates the change time. The VFS holds `i_rwsem`, and has checked that
    /// the caller owns the inode (or has `CAP_FOWNER`) and, for a change of
    /// [`Flags::IMMUTABLE`] or [`Flags::APPEND`], has `CAP_LINUX_IMMUTABLE`. Flags of no
    /// [`Flags`] and XFS attributes beyond them were refused (`EOPNOTSUPP`), and so was a change
    /// of an immutable inode's other flags that keeps it immutable (`EPERM`). Once this
    /// returns `Ok`, the inode's `S_IMMUTABLE`, `S_APPEND`, `S_NOATIME` and `S_SYNC` follow
    /// `flags`, so that the VFS enforces them.
    fn set_flags(_inode: &Locked<'_, Self::FileSystem>, _flags: Flags) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Reads `inode`'s ACL of type `typ` (`get_inode_acl`): `None` if it has none. The VFS
    /// caches what this returns in the inode until [`Operations::set_acl`] or eviction. It is
    /// called with any `i_rwsem` held, `inode`'s or its parent's (permission checks, a
    /// creation's `posix_acl_create()`, `chmod(2)`), and in `chmod(2)` with the mount's write
    /// access: it must take neither, nor the freeze protection of an internal change.
    fn get_acl(
        _inode: &INode<Self::FileSystem>,
        _typ: acl::Type,
    ) -> Result<Option<ARef<acl::Acl>>> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Stores the ACL of `change` as `inode`'s ACL of its type, or removes it (`None`; removing
    /// one the inode does not have succeeds), and updates the change time (`set_acl`).
    ///
    /// The VFS has checked that the caller owns the inode or has `CAP_FOWNER`, that the ACL
    /// is valid, and that only a directory gets a default ACL. An access ACL may change the
    /// inode's permission bits ([`acl::Change::mode`]; an ACL that the bits alone express comes
    /// as `None`): the filesystem stores them with it, in one change if it can
    /// ([`acl::Change::apply_mode`]). `setxattr(2)` and `chmod(2)` hold `i_rwsem`; not every
    /// kernel caller does (ksmbd's), so the filesystem serialises this against its readers and
    /// other writers itself, and takes the freeze protection of an internal change. On `Ok`
    /// the VFS's cache has the new ACL.
    fn set_acl(_inode: &INode<Self::FileSystem>, _change: &acl::Change<'_>) -> Result {
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
                create: if U::HAS_CREATE {
                    Some(Self::create_callback)
                } else {
                    None
                },
                mkdir: if U::HAS_MKDIR {
                    Some(Self::mkdir_callback)
                } else {
                    None
                },
                symlink: if U::HAS_SYMLINK {
                    Some(Self::symlink_callback)
                } else {
                    None
                },
                mknod: if U::HAS_MKNOD {
                    Some(Self::mknod_callback)
                } else {
                    None
                },
                tmpfile: if U::HAS_TMPFILE {
                    Some(Self::tmpfile_callback)
                } else {
                    None
                },
                link: if U::HAS_LINK {
                    Some(Self::link_callback)
                } else {
                    None
                },
                unlink: if U::HAS_UNLINK {
                    Some(Self::unlink_callback)
                } else {
                    None
                },
                rmdir: if U::HAS_RMDIR {
                    Some(Self::rmdir_callback)
                } else {
                    None
                },
                rename: if U::HAS_RENAME {
                    Some(Self::rename_callback)
                } else {
                    None
                },
                getattr: if U::HAS_GETATTR {
                    Some(Self::getattr_callback)
                } else {
                    None
                },
                get_link: if U::HAS_GET_LINK {
                    Some(Self::get_link_callback)
                } else {
                    None
                },
                fileattr_get: if U::HAS_GET_FLAGS {
                    Some(Self::fileattr_get_callback)
                } else {
                    None
                },
                fileattr_set: if U::HAS_SET_FLAGS {
                    Some(Self::fileattr_set_callback)
                } else {
                    None
                },
                get_inode_acl: if U::HAS_GET_ACL {
                    Some(Self::get_acl_callback)
                } else {
                    None
                },
                set_acl: if U::HAS_SET_ACL {
                    Some(Self::set_acl_callback)
                } else {
                    None
                },
                listxattr: if <U::FileSystem as FileSystem>::HAS_XATTR_LIST {
                    Some(super::xattr::listxattr_callback::<U::FileSystem>)
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
                    // The VFS passes a live, initialised directory of this filesystem (its
                    // `i_op` is this table), whose superblock is alive for the call, and a
                    // dentry whose name is stable during the lookup (the parent's `i_rwsem`
                    // is held).
                    // SAFETY: `dir` is a live, initialised inode of `U::FileSystem` (above).
                    let dir = unsafe { INode::<U::FileSystem>::from_raw(dir) };
                    // SAFETY: The dentry's name is stable during the lookup (above).
                    let name = unsafe { Self::name(dentry) };
                    let inode = match U::lookup(dir, name)? {
                        Some(inode) => {
                            let raw = inode.as_raw();
                            // SAFETY: The inode is live (we hold a reference).
                            let being_created = unsafe { bindings::fs_inode_is_new(raw) };
                            // An inode of another superblock would outlive its unmount here;
                            // one still being created (`I_NEW`: its `Created` leaked, as with
                            // `KBox::leak`, which also leaks the inode) gets its dentry from
                            // its creation only. Safe code cannot return the first (references
                            // do not outlive their callback), nor the second without a leak.
                            if being_created
                                || !core::ptr::eq(inode.super_block(), dir.super_block())
                            {
                                return Err(EIO);
                            }
                            inode.into_raw()
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
            /// Only C calls this, as the `setattr` callback of the table it is in,
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
                    // inode locked, and the requested change, valid for the call and ours to
                    // change (`notify_change()`'s copy, which `xfs_setattr_size()` changes too).
                    unsafe {
                        crate::error::to_result(bindings::setattr_prepare(idmap, dentry, iattr))?;
                        let inode_ptr = (*dentry).d_inode;
                        let inode = INode::<U::FileSystem>::from_raw(inode_ptr);
                        let valid = (*iattr).ia_valid;
                        let size = (valid & bindings::ATTR_SIZE != 0).then(|| (*iattr).ia_size);
                        // `setattr_prepare()` refuses the other changes of an immutable or
                        // append-only inode; a truncation through a file opened for writing
                        // before it became so is refused here, as on ext4.
                        if size.is_some()
                            && (*inode_ptr).i_flags & (bindings::S_IMMUTABLE | bindings::S_APPEND)
                                != 0
                        {
                            return Err(EPERM);
                        }
                        // A change of size marks the modification and change times, as POSIX
                        // requires of truncate(2): `ftruncate(2)` and `O_TRUNC` ask for it,
                        // `truncate(2)` does not (`vfs_truncate()`), and every filesystem
                        // stamps them in its `setattr` then, as `xfs_setattr_size()` does.
                        let stamp = size.is_some_and(|s| s != inode.as_inode().size())
                            && valid & (bindings::ATTR_MTIME | bindings::ATTR_CTIME) == 0;
                        // The VFS calls `setattr` with `i_rwsem` held exclusively.
                        let lock = inode.as_inode().assume_locked_exclusive();
                        U::setattr(inode, &lock, &AttrChange { size })?;
                        if stamp {
                            let now = bindings::current_time(inode_ptr);
                            (*iattr).ia_mtime = now;
                            (*iattr).ia_ctime = now;
                            (*iattr).ia_valid |= bindings::ATTR_MTIME | bindings::ATTR_CTIME;
                        }
                        bindings::setattr_copy(idmap, inode_ptr, iattr);
                        bindings::mark_inode_dirty(inode_ptr);
                    }
                    // A new mode rewrites the access ACL's entries for the owner, the group
                    // class and the others (ext4's and XFS's `setattr` do the same).
                    if U::HAS_SET_ACL {
                        // SAFETY: As above: `iattr` and the positive dentry are valid for the
                        // call, with the inode's `i_rwsem` held, as `posix_acl_chmod()` needs.
                        unsafe {
                            if (*iattr).ia_valid & bindings::ATTR_MODE != 0 {
                                let mode = (*(*dentry).d_inode).i_mode;
                                crate::error::to_result(bindings::fs_acl_chmod(
                                    idmap, dentry, mode,
                                ))?;
                            }
                        }
                    }
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// `dentry` is a dentry the VFS passed, whose name is stable during the call
            /// (its parent's `i_rwsem` is held).
            unsafe fn name<'a>(dentry: *const bindings::dentry) -> &'a [u8] {
                // SAFETY: The caller's contract.
                unsafe {
                    let qstr = &(*dentry).d_name;
                    let len = qstr.__bindgen_anon_1.__bindgen_anon_1.len as usize;
                    core::slice::from_raw_parts(qstr.name, len)
                }
            }

            /// Creates an inode of type `typ` named by the negative `dentry` in `dir` with
            /// `create(dir, name, owner)`, and instantiates `dentry` with it. An inode of
            /// another type or superblock is dropped and the creation fails with `EIO`.
            ///
            /// # Safety
            ///
            /// The arguments of a `create`, `mkdir` or `symlink` callback: a live directory of
            /// this filesystem, locked, and a negative dentry in it.
            unsafe fn create_with(
                dir: *mut bindings::inode,
                dentry: *mut bindings::dentry,
                mode: bindings::umode_t,
                typ: Type,
                rdev: Option<DevNum>,
                create: impl for<'a> FnOnce(
                    &'a LockedDir<'_, U::FileSystem>,
                    &[u8],
                    NewOwner<'_>,
                ) -> Result<Created<'a, U::FileSystem>>,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: The caller's contract: `dir` is live and locked for the whole
                    // callback, so that the name of `dentry`, in it, is stable meanwhile.
                    let (owner, locked, name) = unsafe {
                        (
                            NewOwner::new(dir, core::ptr::addr_of!((*dentry).d_name), mode)?,
                            LockedDir::new(INode::<U::FileSystem>::from_raw(dir)),
                            Self::name(dentry),
                        )
                    };
                    let acls = owner.acls.clone();
                    let inode = create(&locked, name, owner)?;
                    // SAFETY: Both inodes are live.
                    let same_sb = unsafe { (*inode.as_raw()).i_sb == (*dir).i_sb };
                    // An inode of another superblock (of the same type) would be pinned by
                    // this dentry past that superblock's unmount.
                    if !same_sb || Type::from_mode(inode.mode()) != Some(typ) {
                        return Err(EIO);
                    }
                    // A device node for the device the VFS checked the caller may make
                    // (`devcgroup_inode_mknod()`, the LSM hook), not another.
                    // SAFETY: The inode is live; `i_rdev` was set when it was initialised.
                    if rdev.is_some_and(|d| unsafe { (*inode.as_raw()).i_rdev } != d.0) {
                        return Err(EIO);
                    }
                    if <U::FileSystem as FileSystem>::POSIX_ACL {
                        // SAFETY: The inode is live.
                        unsafe { acls.cache(inode.as_raw()) };
                    }
                    // The inode is `I_NEW` (`Created`'s invariant), so it has no dentry:
                    // `lookup` refuses `I_NEW` inodes, and nothing else gives them one.
                    // SAFETY: `dentry` is the callback's negative dentry (the caller's contract);
                    // `d_instantiate_new` takes over the reference and unlocks the inode.
                    unsafe { bindings::d_instantiate_new(dentry, inode.into_raw()) };
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// Only C calls this, as the `create` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn create_callback(
                _idmap: *mut bindings::mnt_idmap,
                dir: *mut bindings::inode,
                dentry: *mut bindings::dentry,
                mode: bindings::umode_t,
                _excl: bool,
            ) -> crate::ffi::c_int {
                // SAFETY: The arguments of the `create` callback.
                unsafe { Self::create_with(dir, dentry, mode, Type::Reg, None, U::create) }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `mkdir` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn mkdir_callback(
                _idmap: *mut bindings::mnt_idmap,
                dir: *mut bindings::inode,
                dentry: *mut bindings::dentry,
                mode: bindings::umode_t,
            ) -> crate::ffi::c_int {
                let mode = mode | bindings::S_IFDIR as bindings::umode_t;
                // SAFETY: The arguments of the `mkdir` callback.
                unsafe { Self::create_with(dir, dentry, mode, Type::Dir, None, U::mkdir) }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `symlink` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn symlink_callback(
                _idmap: *mut bindings::mnt_idmap,
                dir: *mut bindings::inode,
                dentry: *mut bindings::dentry,
                target: *const crate::ffi::c_char,
            ) -> crate::ffi::c_int {
                // SAFETY: `target` is a NUL-terminated string valid for the call.
                let target = unsafe { crate::str::CStr::from_char_ptr(target) }.as_bytes();
                if target.is_empty() {
                    return ENOENT.to_errno();
                }
                // SAFETY: The arguments of the `symlink` callback.
                unsafe {
                    let mode = (bindings::S_IFLNK | 0o777) as bindings::umode_t;
                    Self::create_with(dir, dentry, mode, Type::Lnk, None, |dir, name, owner| {
                        U::symlink(dir, name, target, owner)
                    })
                }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `mknod` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn mknod_callback(
                _idmap: *mut bindings::mnt_idmap,
                dir: *mut bindings::inode,
                dentry: *mut bindings::dentry,
                mode: bindings::umode_t,
                rdev: bindings::dev_t,
            ) -> crate::ffi::c_int {
                // `vfs_mknod()` passes only these types (regular files go to `create`).
                let Some(special) =
                    Type::from_mode(mode).and_then(|t| Special::new(t, DevNum(rdev)))
                else {
                    return EINVAL.to_errno();
                };
                // SAFETY: The arguments of the `mknod` callback.
                unsafe {
                    let typ = special.typ();
                    Self::create_with(dir, dentry, mode, typ, special.dev(), |dir, name, owner| {
                        U::mknod(dir, name, special, owner)
                    })
                }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `tmpfile` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn tmpfile_callback(
                _idmap: *mut bindings::mnt_idmap,
                dir: *mut bindings::inode,
                file: *mut bindings::file,
                mode: bindings::umode_t,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: `vfs_tmpfile()` passes a live directory of this filesystem and
                    // the file being opened, whose dentry is a new, negative and unhashed one
                    // (`d_alloc()`), valid for the call; an `O_TMPFILE` inode has no name.
                    let (owner, dir_inode) = unsafe {
                        (
                            NewOwner::new(dir, core::ptr::null(), mode)?,
                            INode::<U::FileSystem>::from_raw(dir),
                        )
                    };
                    let acls = owner.acls.clone();
                    // INVARIANT: as above; no inode given yet.
                    let mut tmp = TmpFile {
                        file,
                        dir,
                        inode: core::ptr::null_mut(),
                        _p: PhantomData,
                    };
                    let made = U::tmpfile(dir_inode, &mut tmp, owner);
                    if tmp.inode.is_null() {
                        return made.and(Err(EIO));
                    }
                    // SAFETY: The inode `instantiate` gave the dentry, which holds it, is still
                    // `I_NEW` (`TmpFile`'s invariant): unlocked once, before `vfs_tmpfile()`
                    // drops the dentry (whose last reference would find it `I_NEW`).
                    unsafe { bindings::unlock_new_inode(tmp.inode) };
                    made?;
                    if <U::FileSystem as FileSystem>::POSIX_ACL {
                        // SAFETY: The dentry holds the inode.
                        unsafe { acls.cache(tmp.inode) };
                    }
                    // SAFETY: The file and its dentry, which has its inode now
                    // (`finish_open_simple()`).
                    crate::error::to_result(unsafe {
                        bindings::finish_open(file, (*file).f_path.dentry, None)
                    })?;
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// Only C calls this, as the `link` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn link_callback(
                old_dentry: *mut bindings::dentry,
                dir: *mut bindings::inode,
                dentry: *mut bindings::dentry,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: The VFS passes a positive dentry of a non-directory of this
                    // filesystem (locked, `vfs_link`), a locked directory of the same
                    // filesystem and a negative dentry in it.
                    unsafe {
                        let inode = INode::<U::FileSystem>::from_raw((*old_dentry).d_inode);
                        let dir = LockedDir::new(INode::<U::FileSystem>::from_raw(dir));
                        // Taken before the filesystem links: nothing fails after it. The VFS
                        // holds the inode through `old_dentry`, so it is not being freed.
                        let reference = inode.try_get().ok_or(EIO)?;
                        U::link(&Locked::new(inode), &dir, Self::name(dentry))?;
                        // SAFETY: `d_instantiate` takes over the reference; the dentry is the
                        // callback's negative one.
                        bindings::d_instantiate(dentry, reference.into_raw());
                    }
                    Ok(0)
                })
            }

            /// Removes the name of the positive `dentry` from `dir` with
            /// `remove(dir, name, inode)`.
            ///
            /// # Safety
            ///
            /// The arguments of an `unlink` or `rmdir` callback: a locked directory of this
            /// filesystem and a positive dentry in it, whose inode is locked (`vfs_unlink`,
            /// `vfs_rmdir`).
            unsafe fn remove_with(
                dir: *mut bindings::inode,
                dentry: *mut bindings::dentry,
                remove: impl FnOnce(
                    &LockedDir<'_, U::FileSystem>,
                    &[u8],
                    &Locked<'_, U::FileSystem>,
                ) -> Result,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: The caller's contract.
                    unsafe {
                        let inode =
                            Locked::new(INode::<U::FileSystem>::from_raw((*dentry).d_inode));
                        let dir = LockedDir::new(INode::<U::FileSystem>::from_raw(dir));
                        remove(&dir, Self::name(dentry), &inode)?;
                    }
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// Only C calls this, as the `unlink` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn unlink_callback(
                dir: *mut bindings::inode,
                dentry: *mut bindings::dentry,
            ) -> crate::ffi::c_int {
                // SAFETY: The arguments of the `unlink` callback.
                unsafe { Self::remove_with(dir, dentry, U::unlink) }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `rmdir` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn rmdir_callback(
                dir: *mut bindings::inode,
                dentry: *mut bindings::dentry,
            ) -> crate::ffi::c_int {
                // SAFETY: The arguments of the `rmdir` callback.
                unsafe { Self::remove_with(dir, dentry, U::rmdir) }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `rename` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn rename_callback(
                _idmap: *mut bindings::mnt_idmap,
                old_dir: *mut bindings::inode,
                old_dentry: *mut bindings::dentry,
                new_dir: *mut bindings::inode,
                new_dentry: *mut bindings::dentry,
                flags: u32,
            ) -> crate::ffi::c_int {
                let known = bindings::RENAME_NOREPLACE
                    | bindings::RENAME_WHITEOUT
                    | bindings::RENAME_EXCHANGE;
                if flags & !known != 0 {
                    return EINVAL.to_errno();
                }
                if flags & bindings::RENAME_EXCHANGE != 0 {
                    if !U::HAS_EXCHANGE {
                        return EINVAL.to_errno();
                    }
                    return from_result(|| {
                        // SAFETY: The VFS passes two locked directories of this filesystem and
                        // a positive dentry in each (`do_renameat2` checked that the new name
                        // exists); their inodes are live.
                        unsafe {
                            let target = (*new_dentry).d_inode;
                            if target.is_null() {
                                return Err(ENOENT);
                            }
                            U::exchange(
                                &LockedDir::new(INode::<U::FileSystem>::from_raw(old_dir)),
                                Self::name(old_dentry),
                                INode::<U::FileSystem>::from_raw((*old_dentry).d_inode),
                                &LockedDir::new(INode::<U::FileSystem>::from_raw(new_dir)),
                                Self::name(new_dentry),
                                INode::<U::FileSystem>::from_raw(target),
                            )?;
                        }
                        Ok(0)
                    });
                }
                from_result(|| {
                    // The owner of a whiteout, as `vfs_mknod()` would make it in `old_dir`,
                    // labelled by the LSMs as one named as the source (as ext4 does).
                    let whiteout = (flags & bindings::RENAME_WHITEOUT != 0).then(|| {
                        let mode = bindings::S_IFCHR as bindings::umode_t;
                        // SAFETY: `old_dir` is a live directory, and `old_dentry` a dentry in
                        // it whose name is stable until the callback returns (the callback's
                        // contract: the VFS holds `old_dir`'s lock).
                        unsafe {
                            NewOwner::without_acls(
                                old_dir,
                                core::ptr::addr_of!((*old_dentry).d_name),
                                mode,
                            )
                        }
                    });
                    // `vfs_rename` locks the moved inode unless it is a directory staying in the
                    // same parent, and without `RENAME_EXCHANGE` (above) the target.
                    // SAFETY: The VFS passes two locked directories of this filesystem, a
                    // positive dentry in the first and one in the second, positive if the
                    // name exists; their inodes are live.
                    unsafe {
                        let inode = INode::<U::FileSystem>::from_raw((*old_dentry).d_inode);
                        let target = (*new_dentry).d_inode;
                        let target = (!target.is_null())
                            .then(|| Locked::new(INode::<U::FileSystem>::from_raw(target)));
                        U::rename(
                            &LockedDir::new(INode::<U::FileSystem>::from_raw(old_dir)),
                            Self::name(old_dentry),
                            inode,
                            &LockedDir::new(INode::<U::FileSystem>::from_raw(new_dir)),
                            Self::name(new_dentry),
                            target.as_ref(),
                            whiteout,
                        )?;
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
            /// Only C calls this, as the `getattr` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn getattr_callback(
                idmap: *mut bindings::mnt_idmap,
                path: *const bindings::path,
                stat: *mut bindings::kstat,
                request_mask: u32,
                _query_flags: crate::ffi::c_uint,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: `vfs_getattr_nosec()` passes a path it holds, to a positive
                    // dentry of this filesystem (its inode cannot change while the dentry is
                    // positive and referenced), and a `kstat` valid for writes for the call.
                    unsafe {
                        let inode_ptr = (*(*path).dentry).d_inode;
                        bindings::generic_fillattr(idmap, request_mask, inode_ptr, stat);
                        let inode = INode::<U::FileSystem>::from_raw(inode_ptr);
                        let mut st = Stat {
                            blocks: (*stat).blocks,
                            btime: None,
                        };
                        U::getattr(inode, &mut st)?;
                        (*stat).blocks = st.blocks;
                        // Reported when asked for, as XFS and ext4 do.
                        if let Some(t) = st
                            .btime
                            .filter(|_| request_mask & bindings::STATX_BTIME != 0)
                        {
                            (*stat).btime = bindings::timespec64 {
                                tv_sec: t.sec,
                                tv_nsec: t.nsec.min(999_999_999) as _,
                            };
                            (*stat).result_mask |= bindings::STATX_BTIME;
                        }
                    }
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// Only C calls this, as the `get_inode_acl` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn get_acl_callback(
                inode: *mut bindings::inode,
                typ: crate::ffi::c_int,
                rcu: bool,
            ) -> *mut bindings::posix_acl {
                // Only a filesystem that never caches its ACLs (`ACL_DONT_CACHE`, which nothing
                // here sets) is asked in an RCU path walk, which must not sleep.
                if rcu {
                    return ECHILD.to_ptr();
                }
                let result = (|| {
                    let typ = acl::Type::from_c(typ).ok_or(EINVAL)?;
                    // SAFETY: `__get_acl()` and `get_cached_acl_rcu()` pass a live, initialised
                    // inode whose operations are this table's, which their caller holds.
                    let inode = unsafe { INode::<U::FileSystem>::from_raw(inode) };
                    // The caller takes over the reference (and caches its own).
                    Ok(
                        U::get_acl(inode, typ)?.map_or(core::ptr::null_mut(), |acl| {
                            ARef::into_raw(acl).as_ptr().cast()
                        }),
                    )
                })();
                result.unwrap_or_else(|e: Error| e.to_ptr())
            }

            /// # Safety
            ///
            /// Only C calls this, as the `set_acl` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn set_acl_callback(
                idmap: *mut bindings::mnt_idmap,
                dentry: *mut bindings::dentry,
                acl: *mut bindings::posix_acl,
                typ: crate::ffi::c_int,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    let typ = acl::Type::from_c(typ).ok_or(EINVAL)?;
                    // SAFETY: `set_posix_acl()` and `posix_acl_chmod()` pass a positive dentry
                    // they hold, whose inode's operations are this table's.
                    let inode_ptr = unsafe { (*dentry).d_inode };
                    // SAFETY: As above: a live, initialised inode of this filesystem.
                    let inode = unsafe { INode::<U::FileSystem>::from_raw(inode_ptr) };
                    // `set_posix_acl()` refuses these already; `posix_acl_chmod()` sets an
                    // access ACL only.
                    if typ == acl::Type::Default && Type::from_mode(inode.mode()) != Some(Type::Dir)
                    {
                        return if acl.is_null() { Ok(0) } else { Err(EACCES) };
                    }
                    let mut acl = acl;
                    let old = inode.mode() as bindings::umode_t;
                    let mut mode = None;
                    if typ == acl::Type::Access && !acl.is_null() {
                        let mut m = old;
                        // SAFETY: The inode is live; `acl` is the caller's, which the helper
                        // may replace with NULL (an ACL the permission bits express), without
                        // dropping the caller's reference.
                        crate::error::to_result(unsafe {
                            bindings::fs_acl_update_mode(idmap, inode_ptr, &mut m, &mut acl)
                        })?;
                        mode = Some(m);
                    }
                    let given = if acl.is_null() {
                        None
                    } else {
                        // SAFETY: `acl` is valid (`set_posix_acl()` checked it, and
                        // `posix_acl_chmod()` passes a masked clone of a valid one), and the
                        // caller holds it for the call.
                        Some(unsafe { acl::Acl::from_raw(acl) })
                    };
                    // SAFETY: The inode is live for the call.
                    let change = unsafe { acl::Change::new(inode_ptr, typ, given, old, mode) };
                    let result = U::set_acl(inode, &change);
                    change.finish(result.is_ok());
                    result?;
                    // SAFETY: The inode is live; the cache takes its own reference.
                    unsafe { bindings::fs_set_cached_acl(inode_ptr, typ.to_c(), acl) };
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// Only C calls this, as the `fileattr_get` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn fileattr_get_callback(
                dentry: *mut bindings::dentry,
                fa: *mut bindings::fileattr,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: `vfs_fileattr_get()` passes a positive dentry it holds, whose
                    // inode's operations are this table's: a live, initialised inode of this
                    // filesystem.
                    let inode = unsafe { INode::<U::FileSystem>::from_raw((*dentry).d_inode) };
                    let flags = U::get_flags(inode)?;
                    // SAFETY: `fa` is the caller's, valid for writes for the call.
                    unsafe { bindings::fileattr_fill_flags(fa, flags.bits()) };
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// Only C calls this, as the `fileattr_set` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn fileattr_set_callback(
                _idmap: *mut bindings::mnt_idmap,
                dentry: *mut bindings::dentry,
                fa: *mut bindings::fileattr,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: `vfs_fileattr_set()` (its only caller) passes a positive dentry
                    // it holds, with the inode's `i_rwsem` held exclusively; the inode's
                    // operations are this table's.
                    let inode = unsafe { INode::<U::FileSystem>::from_raw((*dentry).d_inode) };
                    // SAFETY: And the attributes to set, valid for the call, which nothing
                    // changes while this reference lives.
                    let fa = unsafe { &*fa };
                    // XFS attributes no `FS_*_FL` flag stands for (`fileattr_has_fsx()`).
                    let common = bindings::FS_XFLAG_SYNC
                        | bindings::FS_XFLAG_IMMUTABLE
                        | bindings::FS_XFLAG_APPEND
                        | bindings::FS_XFLAG_NODUMP
                        | bindings::FS_XFLAG_NOATIME
                        | bindings::FS_XFLAG_DAX
                        | bindings::FS_XFLAG_PROJINHERIT;
                    if fa.fsx_valid()
                        && (fa.fsx_xflags & !common != 0
                            || fa.fsx_extsize != 0
                            || fa.fsx_projid != 0
                            || fa.fsx_cowextsize != 0)
                    {
                        return Err(EOPNOTSUPP);
                    }
                    let flags = Flags::from_bits(fa.flags).ok_or(EOPNOTSUPP)?;
                    // An immutable inode's other flags change only with that one, as on ext4
                    // (`vfs_fileattr_set()` has read them through `fileattr_get` already, so
                    // the filesystem has the operation).
                    if U::HAS_GET_FLAGS {
                        let old = U::get_flags(inode)?;
                        if old.contains(Flags::IMMUTABLE)
                            && flags.contains(Flags::IMMUTABLE)
                            && old != flags
                        {
                            return Err(EPERM);
                        }
                    }
                    // SAFETY: The lock is held for the call (above).
                    let locked = unsafe { Locked::new(inode) };
                    U::set_flags(&locked, flags)?;
                    // SAFETY: The inode is live and its `i_rwsem` held exclusively (above).
                    unsafe { flags.apply(inode.as_raw()) };
                    Ok(0)
                })
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
