// SPDX-License-Identifier: GPL-2.0
// expect: pass
//
// The control for the compile-fail programs of this directory: the whole write
// protocol, in order, through the handles the library gives out, compiles.
// So each of those fails for the reason it claims, not because of a typo or a
// missing import.

use kernel::iomap::iter::{IomapOps, Mapped};
use kernel::pagecache::InodeLock;
use kernel::prelude::*;
use kernel::uio::IovIter;

/// Writes up to a page at `pos` of the mapping: lock and revalidate, prepare, copy, commit.
pub fn write_validated<O: IomapOps>(
    m: &mut Mapped<'_, O>,
    pos: i64,
    from: &mut IovIter,
    lock: &InodeLock<'_>,
) -> Result<usize> {
    let Some(folio) = m.lock_folio(pos, 4096)? else {
        return Ok(0);
    };
    let prepared = folio.prepare_write(4096)?;
    let copied = prepared.copy_from_iter(from);
    Ok(copied.commit(lock)?.written)
}
