// SPDX-License-Identifier: GPL-2.0

//! Scheduler points and signals for long-running kernel loops.
//!
//! C headers: [`include/linux/sched.h`](srctree/include/linux/sched.h),
//! [`include/linux/sched/signal.h`](srctree/include/linux/sched/signal.h).
//!
//! A loop that processes user-sized amounts of data (a buffered write, say) gives the CPU up
//! between steps and stops when its task is being killed.

use crate::bindings;

/// Whether the current task has a fatal signal pending (`fatal_signal_pending(current)`): it is
/// being killed, and a long operation should stop at the next safe point.
#[inline]
pub fn fatal_signal_pending() -> bool {
    // SAFETY: FFI call without safety requirements: it reads the running task's signals.
    unsafe { bindings::current_fatal_signal_pending() }
}

/// Gives up the CPU if a reschedule is due (`cond_resched()`). Must not be called in atomic
/// context (with a spinlock held, say): `might_sleep()` reports that, as for any sleeping call.
#[inline]
pub fn cond_resched() {
    // SAFETY: FFI call without memory-safety requirements.
    unsafe { bindings::cond_resched() };
}
