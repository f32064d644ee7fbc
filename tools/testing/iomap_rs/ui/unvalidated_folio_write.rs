// SPDX-License-Identifier: GPL-2.0
// expect: E0599
//
// Writing into a folio that is locked but whose mapping was not revalidated
// must not compile: `LockedFolio` has no public method that modifies the
// folio. (The programs of this directory are checked by
// tools/testing/iomap_rs/ui-tests.sh against the kernel crate of the build.)

use kernel::folio::LockedFolio;
use kernel::uio::IovIter;

/// Copies user data into a folio without asking whether its mapping is still valid.
pub fn write_unvalidated(folio: &mut LockedFolio, from: &mut IovIter) -> usize {
    let pos = folio.pos();
    folio.copy_from_iter(pos, 4096, from)
}
