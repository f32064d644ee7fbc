// SPDX-License-Identifier: GPL-2.0
// expect: pass
//
// The control for unvalidated_folio_write.rs: the same write through the
// handle that Mapped::validate() returns compiles, so that test fails for the
// reason it claims, not because of a typo or a missing import.

use kernel::iomap::iter::IomapOps;
use kernel::iomap::write::ValidatedFolio;
use kernel::uio::IovIter;

/// Copies user data into a folio whose mapping was revalidated after it was locked.
pub fn write_validated<O: IomapOps>(
    folio: &mut ValidatedFolio<'_, '_, O>,
    from: &mut IovIter,
) -> usize {
    let pos = folio.folio().pos();
    folio.copy_from_iter(pos, 4096, from)
}
