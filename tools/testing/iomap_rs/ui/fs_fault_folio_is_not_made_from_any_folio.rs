// SPDX-License-Identifier: GPL-2.0
// expect: E0624
//
// The only public way to a FaultFolio is VmFault::lock_folio: its
// constructor from a locked folio, which checks that it is the fault's, is
// the kernel crate's.

use kernel::folio::LockedFolio;
use kernel::pagecache::{FaultFolio, VmFault};

/// Wraps any locked folio as the answer to a fault.
pub fn wrap<'f>(fault: &'f VmFault, folio: LockedFolio) -> Option<FaultFolio<'f>> {
    FaultFolio::new(fault, folio).ok()
}
