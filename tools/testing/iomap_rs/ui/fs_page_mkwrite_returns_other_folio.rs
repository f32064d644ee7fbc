// SPDX-License-Identifier: GPL-2.0
// expect: E0308
//
// page_mkwrite hands back the faulting folio, locked, and the fault handler
// unlocks it. Returning another locked folio (here a new one) would make the
// handler unlock a folio nobody locked and leave this one locked for ever:
// the result type is the fault's FaultFolio, which only VmFault::lock_folio
// makes.

use kernel::folio::Folio;
use kernel::pagecache::{FaultFolio, VmFault};
use kernel::prelude::*;

/// A write fault answered with a folio of its own.
pub fn page_mkwrite<'f>(_fault: &'f VmFault) -> Result<FaultFolio<'f>> {
    let folio = Folio::alloc(GFP_KERNEL, 0)?;
    Ok(Folio::lock(folio))
}
