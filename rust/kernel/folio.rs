// SPDX-License-Identifier: GPL-2.0

//! Folios: the page cache's unit of memory.
//!
//! C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h),
//! [`include/linux/pagemap.h`](srctree/include/linux/pagemap.h).
//!
//! A `struct folio` is a physically contiguous, power-of-two sized set of pages that the page
//! cache manages as one unit. It is reference counted (`folio_get()`/`folio_put()`) and has a
//! sleeping lock (`folio_lock()`/`folio_unlock()`) that, for a folio in the page cache, excludes
//! truncation, reclaim and other I/O paths from changing its contents and state.
//!
//! This module gives read-only access to folios. [`LockedFolio`] proves the lock is held but
//! deliberately offers no way to change the folio: code that modifies folios (for example the
//! iomap write path in [`crate::iomap`]) defines its own handle type, minted only once the
//! conditions for modifying are checked.

use crate::{
    alloc::{AllocError, Flags},
    bindings,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::{mem::ManuallyDrop, ops::Deref, ptr::NonNull};

/// A folio.
///
/// Always used through a reference: [`ARef<Folio>`] owns one reference count, `&Folio` borrows
/// one owned by someone else.
///
/// # Invariants
///
/// The folio's reference count is non-zero for as long as a `&Folio` to it exists.
///
/// # Examples
///
/// ```
/// use kernel::alloc::flags::GFP_KERNEL;
/// use kernel::folio::Folio;
///
/// let folio = Folio::alloc(GFP_KERNEL, 2)?;
/// assert_eq!(folio.order(), 2);
/// assert_eq!(folio.size(), 4 * kernel::page::PAGE_SIZE);
/// assert!(!folio.test_uptodate());
/// # Ok::<(), Error>(())
/// ```
#[repr(transparent)]
pub struct Folio(Opaque<bindings::folio>);

// SAFETY: The C side lets any thread take and drop references to a folio and read its flags; the
// lock is not tied to the task that took it.
unsafe impl Send for Folio {}

// SAFETY: All methods taking `&self` are safe to call concurrently from several threads: they
// read the folio's immutable properties or its atomically updated flags.
unsafe impl Sync for Folio {}

// SAFETY: The type invariants guarantee that a `Folio` always has a non-zero reference count;
// `folio_get`/`folio_put` are the C functions that manage it.
unsafe impl AlwaysRefCounted for Folio {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The reference count is non-zero by the type invariant.
        unsafe { bindings::folio_get(self.as_raw()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference to the folio and gives it up.
        unsafe { bindings::folio_put(obj.cast().as_ptr()) };
    }
}

impl Folio {
    /// Allocates a folio of `2^order` pages that is not in any page cache.
    #[inline]
    pub fn alloc(flags: Flags, order: u32) -> Result<ARef<Folio>, AllocError> {
        // SAFETY: FFI call without safety requirements; it returns a new folio with a reference
        // count of one, or NULL.
        let ptr = unsafe { bindings::folio_alloc(flags.as_raw(), order) };
        let ptr = NonNull::new(ptr).ok_or(AllocError)?;
        // SAFETY: We own the single reference just allocated and hand it to the `ARef`.
        Ok(unsafe { ARef::from_raw(ptr.cast()) })
    }

    /// Creates a `&Folio` from a pointer to a C folio.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a folio on which a reference is held for at least `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::folio) -> &'a Folio {
        // SAFETY: `Folio` is a transparent wrapper of `struct folio`; the caller guarantees the
        // pointer is valid and referenced for `'a`, which is the type invariant.
        unsafe { &*ptr.cast() }
    }

    /// The underlying C folio.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::folio {
        self.0.get()
    }

    /// The folio's order: it spans `2^order` pages.
    #[inline]
    pub fn order(&self) -> u32 {
        // SAFETY: The folio is referenced (type invariant).
        unsafe { bindings::folio_order(self.as_raw()) }
    }

    /// The size of the folio in bytes.
    #[inline]
    pub fn size(&self) -> usize {
        // SAFETY: The folio is referenced (type invariant).
        unsafe { bindings::folio_size(self.as_raw()) }
    }

    /// The file offset of the folio's first byte. Only meaningful for a folio in a page cache,
    /// and only stable while it is locked.
    #[inline]
    pub fn pos(&self) -> i64 {
        // SAFETY: The folio is referenced (type invariant).
        unsafe { bindings::folio_pos(self.as_raw()) }
    }

    /// Whether the whole folio holds valid data (`PG_uptodate`).
    #[inline]
    pub fn test_uptodate(&self) -> bool {
        // SAFETY: The folio is referenced (type invariant).
        unsafe { bindings::folio_test_uptodate(self.as_raw()) }
    }

    /// Whether the folio holds data not yet written back (`PG_dirty`).
    #[inline]
    pub fn test_dirty(&self) -> bool {
        // SAFETY: The folio is referenced (type invariant).
        unsafe { bindings::folio_test_dirty(self.as_raw()) }
    }

    /// Locks the folio, sleeping until the lock is available.
    #[inline]
    pub fn lock(this: ARef<Folio>) -> LockedFolio {
        // SAFETY: The folio is referenced. `folio_lock` may sleep: as for `Mutex::lock`, calling
        // it in atomic context is a bug that `might_sleep()` reports, not memory unsafety.
        unsafe { bindings::folio_lock(this.as_raw()) };
        // INVARIANT: We just took the lock and own it.
        LockedFolio { folio: this }
    }

    /// Locks the folio if that does not need to wait; gives the reference back otherwise.
    #[inline]
    pub fn try_lock(this: ARef<Folio>) -> Result<LockedFolio, ARef<Folio>> {
        // SAFETY: The folio is referenced.
        if unsafe { bindings::folio_trylock(this.as_raw()) } {
            // INVARIANT: The trylock succeeded; we own the lock.
            Ok(LockedFolio { folio: this })
        } else {
            Err(this)
        }
    }
}

/// A folio whose lock is held, together with a reference to it.
///
/// Dropping it unlocks the folio and drops the reference, in that order. It dereferences to
/// [`Folio`] for read-only access and provides no way to modify the folio.
///
/// # Invariants
///
/// `folio` is locked, and the lock is owned by this object.
///
/// # Examples
///
/// ```
/// use kernel::alloc::flags::GFP_KERNEL;
/// use kernel::folio::Folio;
///
/// let folio = Folio::alloc(GFP_KERNEL, 0)?;
/// let locked = Folio::lock(folio.clone());
/// // Locked already: a second lock attempt does not wait and gives the reference back.
/// assert!(Folio::try_lock(folio.clone()).is_err());
/// let folio = locked.unlock();
/// assert!(Folio::try_lock(folio).is_ok());
/// # Ok::<(), Error>(())
/// ```
pub struct LockedFolio {
    folio: ARef<Folio>,
}

impl LockedFolio {
    /// Unlocks the folio and returns the reference.
    #[inline]
    pub fn unlock(self) -> ARef<Folio> {
        let this = ManuallyDrop::new(self);
        // SAFETY: The lock is ours (type invariant) and `this` is never dropped, so it is
        // released exactly once.
        unsafe { bindings::folio_unlock(this.folio.as_raw()) };
        // SAFETY: `this` is not used or dropped again, so the reference moves out exactly once.
        unsafe { core::ptr::read(&this.folio) }
    }

    /// Gives up ownership of the lock and the reference without releasing them, for handing the
    /// folio to C code that will (for example `folio_ops->put_folio`).
    #[inline]
    pub fn into_raw(self) -> *mut bindings::folio {
        let this = ManuallyDrop::new(self);
        this.folio.as_raw()
    }

    /// Takes ownership of a locked folio and one reference to it, as returned by `into_raw` or
    /// by C code such as `__filemap_get_folio(FGP_LOCK)`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a folio that is locked by the caller, who owns one reference to it;
    /// both are transferred to the returned object.
    #[inline]
    pub unsafe fn from_raw(ptr: NonNull<bindings::folio>) -> Self {
        // SAFETY: The caller transfers one reference.
        let folio = unsafe { ARef::from_raw(ptr.cast()) };
        // INVARIANT: The caller transfers the lock.
        Self { folio }
    }
}

impl Deref for LockedFolio {
    type Target = Folio;

    #[inline]
    fn deref(&self) -> &Folio {
        &self.folio
    }
}

impl Drop for LockedFolio {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: The lock is ours (type invariant) and is released exactly once, here; the
        // reference is dropped after this function returns, with `self.folio`.
        unsafe { bindings::folio_unlock(self.folio.as_raw()) };
    }
}
