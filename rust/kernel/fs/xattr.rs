// SPDX-License-Identifier: GPL-2.0

//! Extended attributes.
//!
//! C headers: [`include/linux/xattr.h`](srctree/include/linux/xattr.h),
//! [`include/uapi/linux/xattr.h`](srctree/include/uapi/linux/xattr.h); the VFS side is
//! [`fs/xattr.c`](srctree/fs/xattr.c).
//!
//! A filesystem that implements [`super::FileSystem::xattr_get`], [`super::FileSystem::xattr_set`]
//! and [`super::FileSystem::xattr_list`] (all three or none: the build fails otherwise) stores
//! the `user.`, `trusted.` and `security.` namespaces ([`Namespace`]): its superblocks get one
//! `xattr_handler` for each (`s_xattr`, which gives every inode `IOP_XATTR`), and every inode
//! operations table of it a `listxattr`.
//!
//! The VFS checks permissions before a handler runs (`xattr_permission()`): `trusted.` needs
//! `CAP_SYS_ADMIN`; `user.` is only on regular files and directories, follows the file's
//! permissions and, in a sticky directory, its owner; a change of an immutable or append-only
//! inode is refused; `security.` is left to the LSMs, which may answer a read themselves.
//!
//! The system calls hold the inode's `i_rwsem` around a change and the mount's write access;
//! not every kernel caller does (IMA updates its hash at the last close with neither), and
//! nobody holds a lock around a read or a listing: a filesystem serialises its own readers
//! against its writers, and a change takes the freeze protection of an internal change
//! ([`super::sb::SuperBlock::start_intwrite`]). POSIX ACLs (`system.posix_acl_*`) do not come
//! here: the VFS routes them to the inode operations ([`super::acl`]), and the filesystem lists
//! them ([`List::add_acl`]).
//!
//! What the types guarantee: names come without their namespace's prefix, never empty, without
//! NUL, at most `XATTR_NAME_MAX` (255) bytes with the prefix ([`Name`]); the buffers of
//! `getxattr(2)` and `listxattr(2)` are filled only through [`Value`] and [`List`], which keep
//! within them (`ERANGE` when they are too small) and report the size needed when the caller
//! asked for it with an empty buffer.

use super::{inode::INode, FileSystem};
use crate::{bindings, error::from_result, prelude::*, str::CStr};
use core::marker::PhantomData;

/// `XATTR_NAME_MAX` of `include/uapi/linux/limits.h`: the longest name, with its prefix.
pub const NAME_MAX: usize = 255;

/// `XATTR_SIZE_MAX` of `include/uapi/linux/limits.h`: the largest value.
pub const SIZE_MAX: usize = 65536;

/// `XATTR_LIST_MAX` of `include/uapi/linux/limits.h`: the longest list of names.
const LIST_MAX: usize = 65536;

/// A namespace of extended attributes that a filesystem stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace {
    /// `user.`: any data of the file's users, under the file's permissions.
    User,
    /// `trusted.`: data only `CAP_SYS_ADMIN` reads and writes (overlayfs keeps its own there).
    Trusted,
    /// `security.`: labels of the LSMs (SELinux, Smack, IMA, file capabilities).
    Security,
}

impl Namespace {
    /// Every namespace, in the order of the superblock's handlers.
    pub const ALL: [Namespace; 3] = [Namespace::User, Namespace::Trusted, Namespace::Security];

    /// The prefix of the namespace's names, with its dot.
    pub const fn prefix(self) -> &'static [u8] {
        match self {
            Namespace::User => b"user.",
            Namespace::Trusted => b"trusted.",
            Namespace::Security => b"security.",
        }
    }

    /// The prefix as the C string the handler carries.
    const fn c_prefix(self) -> &'static CStr {
        match self {
            Namespace::User => crate::c_str!("user."),
            Namespace::Trusted => crate::c_str!("trusted."),
            Namespace::Security => crate::c_str!("security."),
        }
    }

    /// The namespace of a handler of [`Handlers`], from its `flags`.
    fn from_flags(flags: i32) -> Option<Namespace> {
        Namespace::ALL.get(usize::try_from(flags).ok()?).copied()
    }
}

/// The name of an extended attribute: its namespace and what follows the prefix.
///
/// # Invariants
///
/// `suffix` is not empty, holds no NUL, and is at most [`NAME_MAX`] bytes with the prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name<'a> {
    namespace: Namespace,
    suffix: &'a [u8],
}

impl<'a> Name<'a> {
    /// The name `suffix` in `namespace`: `EINVAL` if it is empty or holds a NUL, `ERANGE` if it
    /// is longer than the VFS allows with the prefix (as `setxattr(2)` reports).
    pub fn new(namespace: Namespace, suffix: &'a [u8]) -> Result<Name<'a>> {
        if suffix.is_empty() || suffix.contains(&0) {
            return Err(EINVAL);
        }
        if namespace.prefix().len() + suffix.len() > NAME_MAX {
            return Err(ERANGE);
        }
        // INVARIANT: Checked above.
        Ok(Name { namespace, suffix })
    }

    /// The namespace.
    pub fn namespace(&self) -> Namespace {
        self.namespace
    }

    /// The name without the namespace's prefix.
    pub fn suffix(&self) -> &'a [u8] {
        self.suffix
    }
}

/// An extended attribute of the `security.` namespace an LSM gives a new inode
/// ([`super::inode::Created::init_security`]), copied out of the LSM's memory.
///
/// # Invariants
///
/// `name` is a suffix of the `security.` namespace as [`Name`] requires; `value` is at most
/// [`SIZE_MAX`] bytes.
pub struct SecurityXattr {
    name: KVec<u8>,
    value: KVec<u8>,
}

impl SecurityXattr {
    /// A copy of the attribute `security.name` of value `value`: errors as [`Name::new`], and
    /// `E2BIG` for a value larger than [`SIZE_MAX`], as `setxattr(2)` reports.
    pub(crate) fn new(name: &[u8], value: &[u8]) -> Result<SecurityXattr> {
        Name::new(Namespace::Security, name)?;
        if value.len() > SIZE_MAX {
            return Err(E2BIG);
        }
        let mut copy = KVec::with_capacity(name.len(), GFP_KERNEL)?;
        copy.extend_from_slice(name, GFP_KERNEL)?;
        let mut v = KVec::with_capacity(value.len(), GFP_KERNEL)?;
        v.extend_from_slice(value, GFP_KERNEL)?;
        // INVARIANT: Checked above.
        Ok(SecurityXattr {
            name: copy,
            value: v,
        })
    }

    /// The name (in the `security.` namespace).
    pub fn name(&self) -> Name<'_> {
        // INVARIANT: The type invariant.
        Name {
            namespace: Namespace::Security,
            suffix: &self.name,
        }
    }

    /// The value.
    pub fn value(&self) -> &[u8] {
        &self.value
    }
}

/// How a change of an extended attribute may go (`XATTR_CREATE`, `XATTR_REPLACE`); the default
/// is neither (the attribute is made or replaced, and removing one that does not exist is not
/// an error).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetFlags(u32);

impl SetFlags {
    /// Only a new attribute may be made (`XATTR_CREATE`).
    pub fn create_only(self) -> bool {
        self.0 & bindings::XATTR_CREATE != 0
    }

    /// Only an existing attribute may change (`XATTR_REPLACE`; always so for a removal).
    pub fn replace_only(self) -> bool {
        self.0 & bindings::XATTR_REPLACE != 0
    }

    /// Checks the change against whether the attribute `exists`: `EEXIST` for a creation of
    /// one that does, `ENODATA` for a replacement or removal of one that does not.
    pub fn check(self, exists: bool) -> Result {
        if exists && self.create_only() {
            Err(EEXIST)
        } else if !exists && self.replace_only() {
            Err(ENODATA)
        } else {
            Ok(())
        }
    }
}

/// Where the value of an extended attribute goes: the buffer of a `getxattr(2)`, or only its
/// size when the caller asked for that (an empty buffer).
///
/// # Invariants
///
/// `buf` is null, or valid for writes of `size` bytes for `'a`.
pub struct Value<'a> {
    buf: *mut u8,
    size: usize,
    len: Option<usize>,
    _buf: PhantomData<&'a mut [u8]>,
}

impl Value<'_> {
    /// Gives the attribute's value: copied into the buffer if the caller gave one, `ERANGE`
    /// if it is too small. `E2BIG` for a value longer than `XATTR_SIZE_MAX`, which no caller
    /// could read. The last value given is the one reported.
    pub fn set(&mut self, value: &[u8]) -> Result {
        if value.len() > SIZE_MAX {
            return Err(E2BIG);
        }
        if self.size != 0 && !self.buf.is_null() {
            if value.len() > self.size {
                return Err(ERANGE);
            }
            // SAFETY: `buf` is valid for `size` bytes (type invariant), which `value` does not
            // exceed; `value` is a distinct Rust slice, so they cannot overlap.
            unsafe { core::ptr::copy_nonoverlapping(value.as_ptr(), self.buf, value.len()) };
        }
        self.len = Some(value.len());
        Ok(())
    }
}

/// Where the names of an inode's extended attributes go: the buffer of a `listxattr(2)`, each
/// name with its prefix and a NUL, or only their total size when the caller asked for that
/// (an empty buffer).
///
/// # Invariants
///
/// `buf` is null, or valid for writes of `size` bytes for `'a`; `used <= LIST_MAX`, and
/// `used <= size` when `size` is not 0 and `buf` not null.
pub struct List<'a> {
    buf: *mut u8,
    size: usize,
    used: usize,
    /// Whether `trusted.` names are listed: only to `CAP_SYS_ADMIN`, once asked.
    trusted: Option<bool>,
    _buf: PhantomData<&'a mut [u8]>,
}

impl List<'_> {
    /// Adds `name`, unless it is a `trusted.` name and the caller does not have
    /// `CAP_SYS_ADMIN` (which reading it needs). `ERANGE` if the buffer is too small; `E2BIG`
    /// past `XATTR_LIST_MAX`, which no caller could read.
    pub fn add(&mut self, name: &Name<'_>) -> Result {
        if name.namespace == Namespace::Trusted {
            // SAFETY: `capable` only reads the current task's credentials.
            let allowed = *self.trusted.get_or_insert_with(|| unsafe {
                bindings::capable(bindings::CAP_SYS_ADMIN as i32)
            });
            if !allowed {
                return Ok(());
            }
        }
        self.add_raw(name.namespace.prefix(), name.suffix)
    }

    /// Adds the name of the inode's POSIX ACL of type `typ`, which the filesystem stores
    /// ([`super::acl`]): `system.posix_acl_access` or `system.posix_acl_default`. Errors as
    /// [`List::add`].
    pub fn add_acl(&mut self, typ: super::acl::Type) -> Result {
        self.add_raw(typ.name(), b"")
    }

    /// Adds the name `prefix` and `suffix` make.
    fn add_raw(&mut self, prefix: &[u8], suffix: &[u8]) -> Result {
        let n = prefix.len() + suffix.len() + 1;
        let end = self.used + n;
        if end > LIST_MAX {
            return Err(E2BIG);
        }
        if self.size != 0 && !self.buf.is_null() {
            if end > self.size {
                return Err(ERANGE);
            }
            // SAFETY: `[used, end)` is within the `size` bytes `buf` is valid for (checked
            // above); the sources are Rust slices, distinct from the caller's buffer.
            unsafe {
                let at = self.buf.add(self.used);
                core::ptr::copy_nonoverlapping(prefix.as_ptr(), at, prefix.len());
                let at = at.add(prefix.len());
                core::ptr::copy_nonoverlapping(suffix.as_ptr(), at, suffix.len());
                at.add(suffix.len()).write(0);
            }
        }
        // INVARIANT: `end <= LIST_MAX`, and `end <= size` with a buffer (checked above).
        self.used = end;
        Ok(())
    }
}

/// The `xattr_handler`s of filesystem `T`, one per [`Namespace`].
pub(crate) struct Handlers<T: FileSystem>(PhantomData<T>);

impl<T: FileSystem> Handlers<T> {
    const USER: bindings::xattr_handler = Self::handler(Namespace::User);
    const TRUSTED: bindings::xattr_handler = Self::handler(Namespace::Trusted);
    const SECURITY: bindings::xattr_handler = Self::handler(Namespace::Security);

    /// The NULL-terminated array `s_xattr` points to (`Option<&T>` is a nullable pointer).
    const TABLE: &'static [Option<&'static bindings::xattr_handler>; 4] = &[
        Some(&Self::USER),
        Some(&Self::TRUSTED),
        Some(&Self::SECURITY),
        None,
    ];

    /// The value of a superblock's `s_xattr`.
    pub(crate) fn table() -> *const *const bindings::xattr_handler {
        Self::TABLE.as_ptr().cast()
    }

    const fn handler(namespace: Namespace) -> bindings::xattr_handler {
        bindings::xattr_handler {
            name: core::ptr::null(),
            prefix: namespace.c_prefix().as_char_ptr(),
            flags: namespace as i32,
            list: None,
            get: Some(Self::get_callback),
            set: Some(Self::set_callback),
        }
    }

    /// The namespace and name a handler was called for.
    ///
    /// # Safety
    ///
    /// `handler` is one of this type's, and `name` a NUL-terminated string valid for `'a`.
    unsafe fn name<'a>(
        handler: *const bindings::xattr_handler,
        name: *const crate::ffi::c_char,
    ) -> Result<Name<'a>> {
        // SAFETY: The caller's contract.
        let (flags, suffix) = unsafe { ((*handler).flags, CStr::from_char_ptr(name)) };
        // `xattr_resolve_name()` passes what follows the prefix, refusing an empty one.
        Name::new(
            Namespace::from_flags(flags).ok_or(EINVAL)?,
            suffix.as_bytes(),
        )
    }

    /// # Safety
    ///
    /// Only C calls this, as the `get` callback of one of the handlers of this type, with the
    /// arguments that callback's C contract guarantees.
    unsafe extern "C" fn get_callback(
        handler: *const bindings::xattr_handler,
        _dentry: *mut bindings::dentry,
        inode: *mut bindings::inode,
        name: *const crate::ffi::c_char,
        buffer: *mut crate::ffi::c_void,
        size: usize,
    ) -> crate::ffi::c_int {
        from_result(|| {
            // `__vfs_getxattr()` resolved the handler from `inode->i_sb->s_xattr`, which only
            // superblocks of `T` point here, and only inodes that got `IOP_XATTR` when they were
            // allocated for one reach it (a bad inode loses it): `inode` is a referenced,
            // initialised inode of `T` (possibly still `I_NEW`, as an LSM reads the label of
            // an inode being created, after its initialisation). Its name is the rest of the
            // caller's, after the prefix, and `buffer` is valid for `size` bytes, or `size` is 0.
            // SAFETY: As above.
            let inode = unsafe { INode::<T>::from_raw(inode) };
            // SAFETY: As above.
            let name = unsafe { Self::name(handler, name)? };
            // INVARIANT: As above.
            let mut value = Value {
                buf: buffer.cast(),
                size,
                len: None,
                _buf: PhantomData,
            };
            T::xattr_get(inode, &name, &mut value)?;
            // At most `XATTR_SIZE_MAX` (`Value::set`).
            Ok(value.len.ok_or(ENODATA)? as i32)
        })
    }

    /// # Safety
    ///
    /// Only C calls this, as the `set` callback of one of the handlers of this type, with the
    /// arguments that callback's C contract guarantees.
    #[allow(clippy::too_many_arguments)]
    unsafe extern "C" fn set_callback(
        handler: *const bindings::xattr_handler,
        _idmap: *mut bindings::mnt_idmap,
        _dentry: *mut bindings::dentry,
        inode: *mut bindings::inode,
        name: *const crate::ffi::c_char,
        buffer: *const crate::ffi::c_void,
        size: usize,
        flags: crate::ffi::c_int,
    ) -> crate::ffi::c_int {
        from_result(|| {
            // As in `get_callback`: a live, initialised inode of `T` and the name after the
            // prefix. `__vfs_setxattr()` passes a value of `size` bytes (an empty one is "", not
            // NULL), `__vfs_removexattr()` NULL with `XATTR_REPLACE`.
            // SAFETY: As above.
            let inode = unsafe { INode::<T>::from_raw(inode) };
            // SAFETY: As above.
            let name = unsafe { Self::name(handler, name)? };
            let value = if buffer.is_null() {
                None
            } else {
                if size > SIZE_MAX {
                    return Err(E2BIG);
                }
                // SAFETY: As above: `buffer` is valid for reads of `size` bytes for the call,
                // and the VFS does not change it meanwhile (its own copy of the caller's).
                Some(unsafe { core::slice::from_raw_parts(buffer.cast::<u8>(), size) })
            };
            let flags = SetFlags(flags as u32);
            if value.is_none() && !flags.replace_only() {
                return Err(EINVAL);
            }
            T::xattr_set(inode, &name, value, flags)?;
            Ok(0)
        })
    }
}

/// The `listxattr` inode operation of filesystem `T`, in each of its inode operations tables
/// when it stores extended attributes.
///
/// # Safety
///
/// Only C calls this, as the `listxattr` callback of an inode operations table of `T`, with
/// the arguments that callback's C contract guarantees.
pub(crate) unsafe extern "C" fn listxattr_callback<T: FileSystem>(
    dentry: *mut bindings::dentry,
    buffer: *mut crate::ffi::c_char,
    size: usize,
) -> isize {
    let result = (|| -> Result<isize> {
        // `vfs_listxattr()` passes a positive dentry it holds, of an inode whose operations
        // table is `T`'s (so a live, initialised inode of `T`), and a buffer valid for `size`
        // bytes, or none with `size` 0.
        // SAFETY: As above.
        let inode = unsafe { INode::<T>::from_raw((*dentry).d_inode) };
        // INVARIANT: As above; nothing is used yet.
        let mut list = List {
            buf: buffer.cast(),
            size,
            used: 0,
            trusted: None,
            _buf: PhantomData,
        };
        T::xattr_list(inode, &mut list)?;
        // At most `XATTR_LIST_MAX` (type invariant of `List`).
        Ok(list.used as isize)
    })();
    match result {
        Ok(n) => n,
        Err(e) => e.to_errno() as isize,
    }
}
