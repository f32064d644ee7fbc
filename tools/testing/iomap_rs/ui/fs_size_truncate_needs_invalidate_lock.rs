// SPDX-License-Identifier: GPL-2.0
// expect: E0061
//
// Cutting the file size drops the cache beyond the new EOF: page faults
// must be kept out meanwhile, so set_size_truncate takes the proof that the
// mapping's invalidate_lock is held exclusively, as well as i_rwsem's guard.

use kernel::pagecache::InodeLock;
use kernel::prelude::*;

/// Truncates to zero holding only i_rwsem.
pub fn truncate_without_invalidate_lock(lock: &InodeLock<'_>) -> Result {
    lock.set_size_truncate(0)
}
