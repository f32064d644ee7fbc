// SPDX-License-Identifier: GPL-2.0
// expect: E0277
//
// A locked folio must not be handed to another thread or parked in a global
// to be kept while its task goes on locking other folios of the file: a folio
// lock is held for a bounded section of one task's work. LockedFolio is not
// Send.

use kernel::folio::LockedFolio;

fn requires_send<T: Send>(_: T) {}

/// Tries to send a locked folio elsewhere.
pub fn send_locked(folio: LockedFolio) {
    requires_send(folio);
}
