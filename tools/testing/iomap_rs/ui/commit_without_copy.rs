// SPDX-License-Identifier: GPL-2.0
// expect: E0599
//
// A folio must not be marked uptodate and dirty before its blocks were
// brought up to date and the data copied in: a freshly allocated folio holds
// old kernel memory, which read(2) would then return. Commit is a method of
// CopiedWrite only, reached through prepare_write() and copy_from_iter().

use kernel::iomap::iter::IomapOps;
use kernel::iomap::write::ValidatedFolio;
use kernel::pagecache::InodeLock;
use kernel::prelude::*;

/// Commits a folio that was validated but neither prepared nor copied into.
pub fn commit_uncopied<O: IomapOps>(
    folio: ValidatedFolio<'_, '_, O>,
    lock: &InodeLock<'_>,
) -> Result {
    folio.commit(lock)?;
    Ok(())
}
