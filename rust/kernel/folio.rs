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
//! deliberately offers no public way to change the folio: code that modifies folios (the iomap
//! write path in [`crate::iomap`]) defines its own handle type, minted only once the conditions
//! for modifying are checked, and reaches the modifying operations of this module, which are
//! private to the kernel crate, only through it.
//!
//! # Soundness
//!
//! A [`LockedFolio`] owns its lock and releases it on drop; handing the lock to C without
//! releasing it is crate-private. [`Folio::alloc`] refuses orders the page allocator does not
//! serve.

use crate::{
    alloc::{AllocError, Flags},
    bindings,
    error::Result,
    pagecache::Mapping,
    types::{ARef, AlwaysRefCounted, Opaque},
};
#[cfg(CONFIG_IOMAP_RS)]
use crate::{
    error::code::*,
    uio::{Consumed, IovIter},
};
use core::{
    marker::PhantomData,
    mem::ManuallyDrop,
    ops::Deref,
    ptr::NonNull,
    sync::atomic::{AtomicUsize, Ordering},
};

/// Whether `flush_dcache_folio()` does anything on this architecture
/// (`ARCH_IMPLEMENTS_FLUSH_DCACHE_PAGE`). Where it is an empty inline, C compiles it away; Rust,
/// which can only call it through a helper, checks this constant instead.
#[cfg(CONFIG_IOMAP_RS)]
pub(crate) const ARCH_FLUSHES_DCACHE: bool = bindings::ARCH_FLUSHES_DCACHE;

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
///
/// // An order the page allocator does not serve fails, without a warning.
/// assert!(Folio::alloc(GFP_KERNEL, 40).is_err());
/// assert!(Folio::alloc(GFP_KERNEL, u32::MAX).is_err());
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
        // `folio_get()` without the helper call, where it is one unordered increment (C's
        // `atomic_inc()`): without the checks and tracepoints of `DEBUG_VM` and `DEBUG_PAGE_REF`.
        #[cfg(not(any(CONFIG_DEBUG_VM, CONFIG_DEBUG_PAGE_REF)))]
        {
            // SAFETY: The reference count is non-zero by the type invariant, so the folio is
            // alive and `_refcount` is an aligned `atomic_t`, which C changes only atomically;
            // the pointer does not outlive the increment.
            let count = unsafe {
                core::sync::atomic::AtomicI32::from_ptr(
                    core::ptr::addr_of_mut!(
                        (*self.as_raw()).__bindgen_anon_1.__bindgen_anon_1._refcount
                    )
                    .cast(),
                )
            };
            count.fetch_add(1, Ordering::Relaxed);
        }
        #[cfg(any(CONFIG_DEBUG_VM, CONFIG_DEBUG_PAGE_REF))]
        // SAFETY: The reference count is non-zero by the type invariant.
        unsafe {
            bindings::folio_get(self.as_raw())
        };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        let folio: *mut bindings::folio = obj.cast().as_ptr();
        // `folio_put()` without the helper call, where it is one locked decrement: on x86-64,
        // whose locked instructions are full barriers, as ordered as C's
        // `atomic_dec_and_test()`, and without the checks and tracepoints of `DEBUG_VM` and
        // `DEBUG_PAGE_REF`. Every page put is on the write path once per folio.
        #[cfg(all(CONFIG_X86_64, not(CONFIG_DEBUG_VM), not(CONFIG_DEBUG_PAGE_REF)))]
        {
            // SAFETY: The caller owns a reference, so the folio is alive and `_refcount` is an
            // aligned `atomic_t`, which C changes only atomically; the pointer does not outlive
            // the decrement.
            let count = unsafe {
                core::sync::atomic::AtomicI32::from_ptr(
                    core::ptr::addr_of_mut!((*folio).__bindgen_anon_1.__bindgen_anon_1._refcount)
                        .cast(),
                )
            };
            if count.fetch_sub(1, Ordering::SeqCst) == 1 {
                // SAFETY: Ours was the last reference (`folio_put_testzero()`): the folio is
                // freed, as `folio_put()` does.
                unsafe { bindings::__folio_put(folio) };
            }
        }
        #[cfg(not(all(CONFIG_X86_64, not(CONFIG_DEBUG_VM), not(CONFIG_DEBUG_PAGE_REF))))]
        // SAFETY: The caller owns a reference to the folio and gives it up.
        unsafe {
            bindings::folio_put(folio)
        };
    }
}

impl Folio {
    /// Allocates a folio of `2^order` pages that is not in any page cache. Fails for an order
    /// above the page allocator's largest (`MAX_PAGE_ORDER`), which it would warn about.
    #[inline]
    pub fn alloc(flags: Flags, order: u32) -> Result<ARef<Folio>, AllocError> {
        // SAFETY: FFI call without arguments or safety requirements.
        if order > unsafe { bindings::folio_max_order() } {
            return Err(AllocError);
        }
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

    /// A flags word of the folio (`folio->flags` or `_flags_1`), read once, as `test_bit()`
    /// reads it: a single load of the whole word.
    ///
    /// The flag tests below read the words directly rather than through the C inlines, which
    /// Rust can only call as out-of-line helpers: they are on the write path once per folio.
    /// With `CONFIG_DEBUG_VM_PGFLAGS` the C checks of `const_folio_flags()` run first (a folio,
    /// not a tail page), through a helper.
    #[inline]
    fn load_flags(word: *mut crate::ffi::c_ulong, order: Ordering) -> usize {
        // SAFETY: The caller passes a flags word of a referenced folio: aligned and valid for
        // the load, and not kept past it. C changes the words with atomic bit operations
        // (`set_bit()`, `clear_bit()`, `folio_unlock()`'s `xor`), which x86 does on the byte
        // that holds the bit; a word-sized load that races with them sees each bit old or new,
        // as C's own `test_bit()` does under the kernel's memory model, which this follows.
        let word = unsafe { AtomicUsize::from_ptr(word.cast()) };
        word.load(order)
    }

    /// Whether flag `bit` (`enum pageflags`) is set in the folio's first flags word.
    #[inline]
    fn test_flag(&self, bit: bindings::pageflags, order: Ordering) -> bool {
        #[cfg(CONFIG_DEBUG_VM_PGFLAGS)]
        // SAFETY: The folio is referenced (type invariant).
        unsafe {
            bindings::folio_flags_check(self.as_raw())
        };
        // SAFETY: The folio is referenced (type invariant): its first page's `flags` is valid.
        let word = unsafe {
            core::ptr::addr_of_mut!((*self.as_raw()).__bindgen_anon_1.__bindgen_anon_1.flags)
        };
        Self::load_flags(word, order) & (1 << bit) != 0
    }

    /// The folio's order: it spans `2^order` pages.
    #[inline]
    pub fn order(&self) -> u32 {
        // `folio_order()`: 0 unless `PG_head` (`folio_test_large()`), else the low byte of the
        // second page's flags, which is set when the folio is made and does not change while
        // it is referenced (splitting freezes the reference count).
        if !self.test_flag(bindings::pageflags_PG_head, Ordering::Relaxed) {
            return 0;
        }
        // SAFETY: The folio is referenced (type invariant) and large, so its second page,
        // which holds `_flags_1`, is part of it.
        let word = unsafe {
            core::ptr::addr_of_mut!((*self.as_raw()).__bindgen_anon_2.__bindgen_anon_1._flags_1)
        };
        // The other bits of the word change atomically (`folio_set_has_hwpoisoned()`): an
        // atomic load, as for the first word.
        (Self::load_flags(word, Ordering::Relaxed) & 0xff) as u32
    }

    /// The size of the folio in bytes.
    #[inline]
    pub fn size(&self) -> usize {
        // `folio_size()`.
        crate::page::PAGE_SIZE << self.order()
    }

    /// The file offset of the folio's first byte. Only meaningful for a folio in a page cache,
    /// and only stable while it is locked.
    #[inline]
    pub fn pos(&self) -> i64 {
        // SAFETY: The folio is referenced (type invariant). `index` changes only under the
        // folio lock, which the caller may not hold: a `READ_ONCE()`, so that the load is not
        // torn or repeated (`folio_pos()` reads it once).
        let index = unsafe {
            core::ptr::read_volatile(core::ptr::addr_of!(
                (*self.as_raw()).__bindgen_anon_1.__bindgen_anon_1.index
            ))
        };
        // `folio_pos()`: `(loff_t)index << PAGE_SHIFT`.
        (index as i64) << bindings::PAGE_SHIFT
    }

    /// Whether the whole folio holds valid data (`PG_uptodate`).
    ///
    /// If it does, the folio's data is read after the flag (the acquire load, where C has
    /// `smp_rmb()`), pairing with `folio_mark_uptodate()`'s barrier before it sets the flag.
    #[inline]
    pub fn test_uptodate(&self) -> bool {
        self.test_flag(bindings::pageflags_PG_uptodate, Ordering::Acquire)
    }

    /// Whether the folio holds data not yet written back (`PG_dirty`).
    #[inline]
    pub fn test_dirty(&self) -> bool {
        self.test_flag(bindings::pageflags_PG_dirty, Ordering::Relaxed)
    }

    /// Whether the folio carries private data (`folio->private`: iomap's per-block state, on
    /// a mapping iomap manages), read once, as C's users read it. It is attached and detached
    /// under the folio lock, but for `iomap_dirty_folio()`, which may attach the state of a
    /// multi-block folio (all blocks uptodate and dirty) with only the page table lock held.
    #[cfg(CONFIG_IOMAP_RS)]
    #[inline]
    pub(crate) fn has_private(&self) -> bool {
        // SAFETY: The folio is referenced (type invariant); a `READ_ONCE()` of the pointer,
        // which is only compared with NULL.
        let private = unsafe {
            core::ptr::read_volatile(core::ptr::addr_of!(
                (*self.as_raw())
                    .__bindgen_anon_1
                    .__bindgen_anon_1
                    .__bindgen_anon_2
                    .private
            ))
        };
        !private.is_null()
    }

    /// Locks the folio, sleeping until the lock is available.
    #[inline]
    pub fn lock(this: ARef<Folio>) -> LockedFolio {
        // SAFETY: The folio is referenced. `folio_lock` may sleep: as for `Mutex::lock`, calling
        // it in atomic context is a bug that `might_sleep()` reports, not memory unsafety.
        unsafe { bindings::folio_lock(this.as_raw()) };
        // INVARIANT: We just took the lock and own it. The size is read under the lock and with our
        // reference: splitting a folio needs both (`split_huge_page_to_list_to_order()` asserts the
        // lock and freezes the reference count), so the size cannot change while `self` exists.
        LockedFolio {
            size: this.size(),
            folio: this,
            _not_send: PhantomData,
        }
    }

    /// Locks the folio if that does not need to wait; gives the reference back otherwise.
    #[inline]
    pub fn try_lock(this: ARef<Folio>) -> Result<LockedFolio, ARef<Folio>> {
        // SAFETY: The folio is referenced.
        if unsafe { bindings::folio_trylock(this.as_raw()) } {
            // INVARIANT: The trylock succeeded; we own the lock. The size is read under it and
            // with our reference, as in `lock`.
            Ok(LockedFolio {
                size: this.size(),
                folio: this,
                _not_send: PhantomData,
            })
        } else {
            Err(this)
        }
    }
}

/// A folio whose lock is held, together with a reference to it.
///
/// Dropping it unlocks the folio and drops the reference, in that order. It dereferences to
/// [`Folio`] for read-only access and provides no public way to modify the folio.
///
/// It is not [`Send`]: a folio lock is held across a short, bounded section of one task's work
/// (C never hands one to another thread either), so it cannot be parked in a global or passed to
/// a worker and kept while that task goes on to lock other folios of the file.
///
/// # Invariants
///
/// `folio` is locked, and the lock is owned by this object. `size` is `folio_size(folio)`.
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
    size: usize,
    _not_send: PhantomData<*mut ()>,
}

impl LockedFolio {
    /// The size of the folio in bytes, as [`Folio::size`]: read once, when the lock was taken,
    /// as it cannot change while the lock is held.
    #[inline]
    pub fn size(&self) -> usize {
        self.size
    }

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

    /// Gives up ownership of the lock, leaving the folio locked, and returns the reference: for
    /// handing a locked folio to C code that releases the lock but not this reference (a fault
    /// handler given `VM_FAULT_LOCKED`, which holds a reference of its own: see
    /// [`crate::pagecache::FaultFolio`]). Crate-private: safe code elsewhere would leak the lock.
    #[inline]
    pub(crate) fn keep_locked(self) -> ARef<Folio> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is not used or dropped again, so the reference moves out exactly once;
        // the lock is left held, for the C code the caller hands the folio to.
        unsafe { core::ptr::read(&this.folio) }
    }

    /// Gives up ownership of the lock and the reference without releasing them, for handing the
    /// folio to C code that will (for example `folio_ops->put_folio`). Crate-private, as
    /// [`LockedFolio::keep_locked`].
    #[cfg(CONFIG_IOMAP_RS)]
    #[inline]
    pub(crate) fn into_raw(self) -> *mut bindings::folio {
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
        let folio: ARef<Folio> = unsafe { ARef::from_raw(ptr.cast()) };
        // INVARIANT: The caller transfers the lock and a reference; the size is read under
        // both, as in `Folio::lock`.
        Self {
            size: folio.size(),
            folio,
            _not_send: PhantomData,
        }
    }
}

// Modifying operations: private to the kernel crate, whose iomap library calls them only through
// its validated handle (`crate::iomap::write`). Each checks its byte range against the folio, so
// none can write outside it whatever it is passed.
impl LockedFolio {
    /// Whether the folio is in the page cache of `mapping`. Stable while the folio is locked:
    /// truncation and reclaim take the lock before removing a folio from its mapping.
    #[inline]
    pub fn belongs_to(&self, mapping: &Mapping) -> bool {
        // SAFETY: The folio is referenced (type invariant), so its `struct folio` is valid for
        // reads; `mapping` only changes under the folio lock, which we hold: a plain read (as
        // `READ_ONCE()`, so that it is not torn) sees the current value.
        let owner = unsafe {
            core::ptr::read_volatile(core::ptr::addr_of!(
                (*self.as_raw()).__bindgen_anon_1.__bindgen_anon_1.mapping
            ))
        };
        core::ptr::eq(owner, mapping.as_raw())
    }

    /// Whether `[off, off + len)` lies within the folio.
    #[cfg(CONFIG_IOMAP_RS)]
    #[inline]
    fn contains(&self, off: usize, len: usize) -> bool {
        off.checked_add(len).is_some_and(|end| end <= self.size())
    }

    /// Zeroes the folio-relative ranges `[start1, end1)` and `[start2, end2)`
    /// (`folio_zero_segments()`); a range whose end is not after its start is empty, as in C.
    /// `EINVAL`, changing nothing, if a non-empty range is not within the folio.
    #[cfg(CONFIG_IOMAP_RS)]
    #[inline]
    pub(crate) fn zero_segments(
        &mut self,
        start1: usize,
        end1: usize,
        start2: usize,
        end2: usize,
    ) -> Result {
        let size = self.size();
        let segment = |start: usize, end: usize| match start < end {
            true if end <= size => Ok((start, end)),
            true => Err(EINVAL),
            false => Ok((0, 0)),
        };
        let (start1, end1) = segment(start1, end1)?;
        let (start2, end2) = segment(start2, end2)?;
        // SAFETY: The folio is locked (type invariant) and both ranges lie within it (`size` is
        // its size, type invariant).
        unsafe { bindings::folio_zero_segments(self.as_raw(), start1, end1, start2, end2) };
        Ok(())
    }

    /// Copies up to `len` bytes from `from` into the folio at `off` with page faults disabled
    /// (`copy_folio_from_iter_atomic()`); returns what was copied, nothing if the range is not
    /// within the folio.
    #[cfg(CONFIG_IOMAP_RS)]
    #[inline]
    pub(crate) fn copy_from_iter_atomic<'i>(
        &mut self,
        off: usize,
        len: usize,
        from: &'i mut IovIter,
    ) -> Consumed<'i> {
        let copied = if self.contains(off, len) {
            // SAFETY: The folio is locked (type invariant) and `[off, off + len)` lies within it
            // (`size` is its size, type invariant); the iterator is exclusively ours. The copy does
            // not fault, as required under a folio lock. `copy_folio_from_iter_atomic()` is this
            // call on the folio's head page, `folio->page`, which the pointer cast gives (the page
            // is the folio's first member).
            unsafe {
                bindings::copy_page_from_iter_atomic(self.as_raw().cast(), off, len, from.as_raw())
            }
        } else {
            0
        };
        // SAFETY: The copy consumed `copied` bytes from `from`.
        unsafe { Consumed::new(from, copied) }
    }

    /// Marks the folio as recently used (`folio_mark_accessed()`), a hint to reclaim.
    #[cfg(CONFIG_IOMAP_RS)]
    #[inline]
    pub(crate) fn mark_accessed(&self) {
        // SAFETY: The folio is referenced and locked (type invariant).
        unsafe { bindings::folio_mark_accessed(self.as_raw()) };
    }

    /// `flush_dcache_folio()`, compiled out on architectures where it is empty (as C's inline
    /// is).
    #[cfg(CONFIG_IOMAP_RS)]
    #[inline]
    pub(crate) fn flush_dcache(&self) {
        if ARCH_FLUSHES_DCACHE {
            // SAFETY: The folio is locked and referenced (type invariant).
            unsafe { bindings::flush_dcache_folio(self.as_raw()) };
        }
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
