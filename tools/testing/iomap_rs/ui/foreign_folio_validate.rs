// SPDX-License-Identifier: GPL-2.0
// expect: E0599
//
// A folio from elsewhere (another file's page cache, or one allocated on the
// side) must not be validated against this iteration's mapping: its blocks
// would be read from the wrong file and its dirty state accounted to the wrong
// address space. The only way to a writable folio, Mapped::lock_folio(), takes
// a position, not a folio, and checks that the filesystem's get_folio gave
// the iteration inode's folio at it; there is no method that takes a folio.

use kernel::folio::LockedFolio;
use kernel::iomap::iter::{IomapOps, Mapped};
use kernel::pagecache::Inode;

/// Tries to validate another file's folio under this mapping.
pub fn validate_foreign<O: IomapOps>(m: &mut Mapped<'_, O>, other: &Inode, folio: LockedFolio) {
    let _ = m.validate(other, folio);
}
