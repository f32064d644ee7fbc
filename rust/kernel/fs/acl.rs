// SPDX-License-Identifier: GPL-2.0

//! POSIX access control lists.
//!
//! C headers: [`include/linux/posix_acl.h`](srctree/include/linux/posix_acl.h),
//! [`include/linux/posix_acl_xattr.h`](srctree/include/linux/posix_acl_xattr.h); the VFS side
//! is [`fs/posix_acl.c`](srctree/fs/posix_acl.c).
//!
//! A filesystem that sets [`super::FileSystem::POSIX_ACL`] (and stores extended attributes,
//! which the VFS requires of a change) mounts with `SB_POSIXACL`. Then:
//! - permission checks consult an inode's access ACL (`generic_permission()`), which the VFS
//!   reads once through [`super::inode::Operations::get_acl`] and caches in the inode;
//! - `getxattr(2)`, `setxattr(2)` and `removexattr(2)` of `system.posix_acl_access` and
//!   `system.posix_acl_default` reach [`super::inode::Operations::get_acl`] and
//!   [`super::inode::Operations::set_acl`], after the VFS checked that the caller owns the
//!   inode (or has `CAP_FOWNER`), that the ACL is valid, and that only a directory gets a
//!   default ACL (`set_posix_acl()`); the filesystem lists them itself ([`Type::name`]);
//! - the VFS no longer applies the umask to a new inode: [`super::inode::NewOwner`] applies the
//!   parent's default ACL, or the umask if it has none (`posix_acl_create()`), and carries the
//!   ACLs the new inode gets, which the filesystem stores with it;
//! - `chmod(2)` rewrites the access ACL to match the new permission bits (`posix_acl_chmod()`,
//!   called by the `setattr` callback), through `set_acl`.
//!
//! An access ACL sets the inode's permission bits too: the `set_acl` callback computes them
//! (`posix_acl_update_mode()`, which also drops an ACL the bits alone express) and gives them
//! to the filesystem with the ACL ([`Change`]), which sets them in memory
//! ([`Change::apply_mode`]) when it stores the inode with the ACL, in one change, once nothing
//! can fail; else they are set after the filesystem succeeded. On success the callback updates
//! the VFS's cache.
//!
//! An [`Acl`] is immutable once made, and reference-counted: the VFS's cache, its callers and
//! the filesystem each hold their own reference.

use crate::{
    bindings,
    error::from_err_ptr,
    prelude::*,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::ptr::NonNull;

/// The type of an ACL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// The access ACL (`system.posix_acl_access`), which permission checks use.
    Access,
    /// The default ACL of a directory (`system.posix_acl_default`), which its new entries
    /// inherit.
    Default,
}

impl Type {
    /// The name of the extended attribute that shows the ACL to user space, which a filesystem
    /// lists ([`super::xattr::List::add_acl`]).
    pub const fn name(self) -> &'static [u8] {
        match self {
            Type::Access => b"system.posix_acl_access",
            Type::Default => b"system.posix_acl_default",
        }
    }

    /// `ACL_TYPE_ACCESS` or `ACL_TYPE_DEFAULT`.
    pub(crate) const fn to_c(self) -> i32 {
        match self {
            Type::Access => bindings::ACL_TYPE_ACCESS as i32,
            Type::Default => bindings::ACL_TYPE_DEFAULT as i32,
        }
    }

    /// The type of `ACL_TYPE_*` value `typ`.
    pub(crate) fn from_c(typ: i32) -> Option<Type> {
        match typ {
            t if t == bindings::ACL_TYPE_ACCESS as i32 => Some(Type::Access),
            t if t == bindings::ACL_TYPE_DEFAULT as i32 => Some(Type::Default),
            _ => None,
        }
    }
}

/// A POSIX ACL (`struct posix_acl`).
///
/// # Invariants
///
/// The object is a valid ACL (`posix_acl_valid()`), reference-counted, and never changed while
/// shared: whoever changes one (`__posix_acl_chmod()`, `__posix_acl_create()`) changes a clone.
/// (ksmbd's `ksmbd_vfs_set_init_posix_acl()` writes the entries of one it set before again,
/// with the same values: a race that changes nothing read here.)
#[repr(transparent)]
pub struct Acl(Opaque<bindings::posix_acl>);

// SAFETY: An ACL is not changed once shared (type invariant), and its last reference may be
// dropped on any thread (`posix_acl_release()` frees it after an RCU grace period).
unsafe impl Send for Acl {}
// SAFETY: As above: shared references only read it.
unsafe impl Sync for Acl {}

// SAFETY: The reference count is `a_refcount`, which `posix_acl_dup()` and
// `posix_acl_release()` take and drop; the last drop frees the object.
unsafe impl AlwaysRefCounted for Acl {
    fn inc_ref(&self) {
        // SAFETY: The existence of `&self` means the count is not zero.
        unsafe { bindings::posix_acl_dup(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference.
        unsafe { bindings::posix_acl_release(obj.as_ptr().cast()) };
    }
}

impl Acl {
    /// The ACL of the extended attribute representation `value` (`struct
    /// posix_acl_xattr_header` and its entries, little-endian, user and group IDs in the
    /// initial user namespace: `getxattr(2)`'s, and what [`Acl::to_xattr`] gives), as a
    /// filesystem stores it. `EINVAL` if it is not a valid ACL with at least one entry
    /// (`posix_acl_valid()`: the owner's, the owning group's and the others' entries, a mask
    /// if there are named users or groups, in order, and no unknown tag or permission bit).
    pub fn from_xattr(value: &[u8]) -> Result<ARef<Acl>> {
        // SAFETY: `value` is valid for reads of its length (a dangling pointer with length 0
        // is refused before it is read); the helper copies what it keeps.
        let ptr = from_err_ptr(unsafe {
            bindings::fs_acl_from_xattr(value.as_ptr().cast(), value.len())
        })?;
        // INVARIANT: A new, valid ACL that nobody else has.
        // SAFETY: The helper returns an ACL we own a reference to, never NULL.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(ptr.cast())) })
    }

    /// The extended attribute representation of the ACL (as [`Acl::from_xattr`] reads it).
    pub fn to_xattr(&self) -> Result<KVec<u8>> {
        // SAFETY: The ACL is valid; with no buffer the helper only computes the size.
        let size = unsafe { bindings::fs_acl_to_xattr(self.0.get(), core::ptr::null_mut(), 0) };
        let size = usize::try_from(size).map_err(|_| Error::from_errno(size))?;
        let mut v = KVec::<u8>::with_capacity(size, GFP_KERNEL)?;
        // SAFETY: `v` has room for `size` bytes; the ACL does not change (type invariant).
        let written =
            unsafe { bindings::fs_acl_to_xattr(self.0.get(), v.as_mut_ptr().cast(), size) };
        if written < 0 || written as usize != size {
            return Err(EIO);
        }
        // SAFETY: The helper wrote `size` bytes.
        unsafe { v.set_len(size) };
        Ok(v)
    }

    /// The number of entries.
    pub fn count(&self) -> usize {
        // SAFETY: The ACL is valid and `a_count` does not change.
        unsafe { (*self.0.get()).a_count as usize }
    }

    /// # Safety
    ///
    /// `ptr` is a valid ACL (`posix_acl_valid()`), not changed while shared, that stays alive
    /// for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::posix_acl) -> &'a Acl {
        // SAFETY: The caller's contract; `Acl` is transparent over the C type.
        unsafe { &*ptr.cast() }
    }

    /// The C object.
    pub(crate) fn as_raw(&self) -> *mut bindings::posix_acl {
        self.0.get()
    }
}

impl core::fmt::Debug for Acl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Acl").field("count", &self.count()).finish()
    }
}

/// The ACLs a new inode gets from its parent's default ACL (`posix_acl_create()`).
#[derive(Clone, Default)]
pub struct Inherited {
    /// Its access ACL, if its permissions are not the permission bits alone.
    pub access: Option<ARef<Acl>>,
    /// The default ACL of a new directory: its parent's.
    pub default: Option<ARef<Acl>>,
}

impl core::fmt::Debug for Inherited {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inherited")
            .field("access", &self.access.as_deref())
            .field("default", &self.default.as_deref())
            .finish()
    }
}

impl Inherited {
    /// The ACL of type `typ`.
    pub fn get(&self, typ: Type) -> Option<&Acl> {
        match typ {
            Type::Access => self.access.as_deref(),
            Type::Default => self.default.as_deref(),
        }
    }

    /// Computes the ACLs and the permission bits of an inode of `mode` (its type and the
    /// permissions asked for) being created in `dir` (`posix_acl_create()`): from `dir`'s
    /// default ACL, or the umask applied if it has none or the filesystem has no ACLs.
    ///
    /// # Safety
    ///
    /// `dir` is a live, initialised inode.
    pub(crate) unsafe fn create(dir: *mut bindings::inode, mode: &mut u16) -> Result<Inherited> {
        let mut m = *mode as bindings::umode_t;
        let (mut default, mut access) = (core::ptr::null_mut(), core::ptr::null_mut());
        // SAFETY: `dir` is live (the caller's contract). Without ACLs the helper changes
        // nothing, so both pointers start NULL.
        crate::error::to_result(unsafe {
            bindings::fs_acl_create(dir, &mut m, &mut default, &mut access)
        })?;
        *mode = m;
        let own = |p: *mut bindings::posix_acl| {
            NonNull::new(p).map(|p| {
                // INVARIANT: `posix_acl_create()` gives us a reference to each non-NULL ACL: a
                // masked clone of the directory's default ACL, which was valid, and that ACL
                // itself; neither is changed once shared.
                // SAFETY: As above: we own the reference.
                unsafe { ARef::from_raw(p.cast::<Acl>()) }
            })
        };
        Ok(Inherited {
            access: own(access),
            default: own(default),
        })
    }

    /// Puts the ACLs in the VFS's cache of new inode `inode`, which its filesystem stored them
    /// with: none where there is none, so that no permission check reads them.
    ///
    /// # Safety
    ///
    /// `inode` is live.
    pub(crate) unsafe fn cache(&self, inode: *mut bindings::inode) {
        for typ in [Type::Access, Type::Default] {
            let acl = self.get(typ).map_or(core::ptr::null_mut(), Acl::as_raw);
            // SAFETY: `inode` is live; the cache takes its own reference.
            unsafe { bindings::fs_set_cached_acl(inode, typ.to_c(), acl) };
        }
    }
}

/// A change of an inode's ACL: what [`super::inode::Operations::set_acl`] stores.
///
/// # Invariants
///
/// `inode` is live for `'a`; `mode` is `Some` only for an access ACL.
pub struct Change<'a> {
    typ: Type,
    acl: Option<&'a Acl>,
    inode: *mut bindings::inode,
    old: bindings::umode_t,
    mode: Option<bindings::umode_t>,
    applied: core::cell::Cell<bool>,
}

impl<'a> Change<'a> {
    /// # Safety
    ///
    /// `inode` is live for `'a`.
    pub(crate) unsafe fn new(
        inode: *mut bindings::inode,
        typ: Type,
        acl: Option<&'a Acl>,
        old: bindings::umode_t,
        mode: Option<bindings::umode_t>,
    ) -> Self {
        // INVARIANT: The caller's contract; the callback computes a mode for an access ACL only.
        Change {
            typ,
            acl,
            inode,
            old,
            mode: mode.filter(|&m| m != old),
            applied: core::cell::Cell::new(false),
        }
    }

    /// The type of the ACL.
    pub fn typ(&self) -> Type {
        self.typ
    }

    /// The new ACL, `None` to remove it.
    pub fn acl(&self) -> Option<&'a Acl> {
        self.acl
    }

    /// The inode's new mode (file type and permissions), if an access ACL changes it.
    pub fn mode(&self) -> Option<u16> {
        self.mode
    }

    /// Sets the inode's mode to [`Change::mode`] in memory: for a filesystem that then stores
    /// the inode with the ACL, in the same change, once nothing else can fail. Without it, the
    /// mode is set once the filesystem succeeded; either way it is set back if it fails.
    pub fn apply_mode(&self) {
        if let Some(mode) = self.mode {
            self.set_mode(mode);
            self.applied.set(true);
        }
    }

    /// Ends the change: the mode as the filesystem's result `ok` requires it, and the inode
    /// marked dirty for it (for a filesystem that writes inodes back rather than in `set_acl`).
    pub(crate) fn finish(&self, ok: bool) {
        let Some(mode) = self.mode else {
            return;
        };
        match (ok, self.applied.get()) {
            (true, false) => self.set_mode(mode),
            (false, true) => self.set_mode(self.old),
            _ => {}
        }
        if ok || self.applied.get() {
            // SAFETY: The inode is live (type invariant).
            unsafe { bindings::mark_inode_dirty(self.inode) };
        }
    }

    fn set_mode(&self, mode: bindings::umode_t) {
        // Written as `setattr_copy()` writes it, and as C filesystems write it in `set_acl`:
        // under `i_rwsem`, but for ksmbd's calls.
        // SAFETY: The inode is live (type invariant).
        unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!((*self.inode).i_mode), mode) };
    }
}
