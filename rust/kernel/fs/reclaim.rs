// SPDX-License-Identifier: GPL-2.0

//! Memory allocation under filesystem locks: no recursion into filesystem reclaim.
//!
//! C headers: [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h).
//!
//! Reclaim frees memory by evicting unused inodes (the superblock shrinker) and writing back
//! dirty pages, which calls the filesystem's `evict_inode` and I/O completions. A task that
//! holds a lock those take, and allocates memory with `GFP_KERNEL`, can enter reclaim from the
//! allocation and wait for the lock it holds: a deadlock that lockdep reports as a cycle
//! through `fs_reclaim`. C filesystems avoid it the way XFS does in a transaction:
//! `memalloc_nofs_save()` marks the task so that every allocation it makes behaves as
//! `GFP_NOFS` (reclaim then skips filesystems), until `memalloc_nofs_restore()`.
//!
//! [`NoFsScope`] is that scope, and [`NoFsMutex`] is a mutex whose guard holds one: a lock
//! that eviction or I/O completion takes should be a `NoFsMutex`, and then no allocation made
//! while it is held can recurse into the filesystem, whatever calls make it (a `KVec` push, a
//! page cache read of the device).
//!
//! # Soundness
//!
//! The scope is per task: a [`NoFsScope`] is neither `Send` nor `Sync`, so it ends on the task
//! that began it. Scopes nest as C's do: the outermost one ends the protection (an inner
//! `memalloc_nofs_save()` finds the flag set and its restore leaves it). Ending an outer scope
//! first (dropping the guard of the mutex locked first while a later one is held) ends the
//! protection for the rest, and leaking one (`mem::forget`) leaves the task without filesystem
//! reclaim for good: behaviour, not memory safety, in both cases, and the same as in C.

use crate::{
    bindings,
    init::PinInit,
    prelude::*,
    sync::{lock::mutex::MutexBackend, lock::Guard, Mutex},
};
use core::marker::PhantomData;

/// The current task allocates as with `GFP_NOFS` while this exists: no allocation it makes
/// enters filesystem reclaim (`memalloc_nofs_save()`, `memalloc_nofs_restore()` on drop).
///
/// # Invariants
///
/// `flags` is what `memalloc_nofs_save()` returned on the current task, which this is bound to.
#[must_use = "the scope ends when this is dropped"]
pub struct NoFsScope {
    flags: u32,
    _not_send: PhantomData<*mut ()>,
}

impl NoFsScope {
    /// Begins a scope on the current task.
    #[inline]
    pub fn enter() -> Self {
        // SAFETY: FFI call without memory-safety requirements: it sets `PF_MEMALLOC_NOFS` on
        // the current task and returns the flag's previous state.
        let flags = unsafe { bindings::memalloc_nofs_save() };
        // INVARIANT: Saved on the current task; `NoFsScope` is not `Send`.
        Self {
            flags,
            _not_send: PhantomData,
        }
    }
}

impl Drop for NoFsScope {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `flags` came from `memalloc_nofs_save()` on this task (type invariant);
        // scopes are dropped in reverse order of their creation unless one is moved, and
        // restoring an outer state first only ends the scope early, as in C.
        unsafe { bindings::memalloc_nofs_restore(self.flags) };
    }
}

/// A mutex whose holder allocates without entering filesystem reclaim (see the module
/// documentation): for data that `evict_inode` or I/O completion lock.
///
/// # Examples
///
/// ```
/// use kernel::fs::reclaim::NoFsMutex;
/// use kernel::{new_mutex, prelude::*};
///
/// let counts = KBox::pin_init(NoFsMutex::new(new_mutex!(KVec::<u32>::new())), GFP_KERNEL)?;
/// // A GFP_KERNEL allocation while the lock is held: it behaves as GFP_NOFS.
/// counts.lock().push(1, GFP_KERNEL)?;
/// assert_eq!(counts.lock().len(), 1);
/// # Ok::<(), Error>(())
/// ```
#[pin_data]
pub struct NoFsMutex<T> {
    #[pin]
    inner: Mutex<T>,
}

impl<T> NoFsMutex<T> {
    /// The initialiser of a `NoFsMutex` around `inner` (made with `new_mutex!`, which names
    /// its lock class).
    pub fn new(inner: impl PinInit<Mutex<T>>) -> impl PinInit<Self> {
        pin_init!(Self { inner <- inner })
    }

    /// Begins a no-filesystem-reclaim scope and acquires the lock, which the guard releases
    /// before it ends the scope.
    #[inline]
    pub fn lock(&self) -> NoFsGuard<'_, T> {
        let scope = NoFsScope::enter();
        NoFsGuard {
            guard: self.inner.lock(),
            _scope: scope,
        }
    }

    /// As [`NoFsMutex::lock`], but `None` at once if the lock is taken.
    #[inline]
    pub fn try_lock(&self) -> Option<NoFsGuard<'_, T>> {
        let scope = NoFsScope::enter();
        Some(NoFsGuard {
            guard: self.inner.try_lock()?,
            _scope: scope,
        })
    }
}

/// The guard of a [`NoFsMutex`]: the lock, then the scope (fields drop in order).
#[must_use = "the lock is released when this is dropped"]
pub struct NoFsGuard<'a, T> {
    guard: Guard<'a, T, MutexBackend>,
    _scope: NoFsScope,
}

impl<T> core::ops::Deref for NoFsGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> core::ops::DerefMut for NoFsGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}
