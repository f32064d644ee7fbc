// SPDX-License-Identifier: GPL-2.0
// expect: E0624
//
// LockedFolio::keep_locked gives up the lock without releasing it: outside
// the kernel crate (whose fault path hands the lock to the fault handler)
// it would only leak a folio lock, so it is not public.

use kernel::folio::{Folio, LockedFolio};
use kernel::types::ARef;

/// Leaks the lock of a folio.
pub fn leak_lock(folio: LockedFolio) -> ARef<Folio> {
    folio.keep_locked()
}
