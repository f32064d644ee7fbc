// SPDX-License-Identifier: GPL-2.0
// expect: E0521
//
// A validated folio must not outlive the pass of the iterator that validated
// it: kept past the operation's return, it would stay locked while the
// filesystem's iomap_end and the next iomap_begin run (which may lock it: a
// deadlock), and be written under a mapping that nobody revalidates any more.
// The handle borrows the pass's Mapped, which cannot escape the closure.

use kernel::iomap::iter::{iterate, IomapOps, IterFlags};
use kernel::iomap::range::FileRange;
use kernel::iomap::write::ValidatedFolio;
use kernel::pagecache::Inode;
use kernel::prelude::*;

/// Keeps the first folio of the first pass for later.
pub fn keep_folio<O: IomapOps>(ops: &mut O, inode: &Inode, range: FileRange) {
    let mut kept: Option<ValidatedFolio<'_, '_, O>> = None;
    let _ = iterate(ops, inode, range, IterFlags::WRITE, |m| {
        kept = m.lock_folio(m.range().start(), 4096)?;
        Ok(0)
    });
    drop(kept);
}
