// SPDX-License-Identifier: GPL-2.0

//! Write faults on shared file mappings: C's `iomap_page_mkwrite()`.
//!
//! C implementation: [`fs/iomap/buffered-io.c`](srctree/fs/iomap/buffered-io.c).
//!
//! Before a page of a file mapped shared becomes writable, the filesystem must reserve or
//! allocate the blocks under it (delalloc, for XFS) and the folio must be dirtied, so that
//! writeback writes it. [`page_mkwrite`] locks the folio once, checks that truncation has not
//! removed it, and maps its range through the filesystem; each pass of the iterator
//! revalidates its mapping with the folio locked before dirtying it
//! (`Mapped::dirty_locked_folio`), so a mapping that changed between `begin` and the dirtying
//! (writeback converting an extent, a racing `fallocate`) is mapped again rather than trusted.
//! C does not revalidate here.
//!
//! # Lock order
//!
//! `mmap_lock` (the fault handler's), then the mapping's `invalidate_lock` shared (which keeps
//! truncation and hole punching out: [`page_mkwrite`] takes the [`InvalidateLockRead`] proving
//! it), then the folio lock, then the filesystem's locks in `begin` and `end`.

use super::control::{self, Call};
use super::folio_state::FileFolio;
use super::iter::{iterate, IomapOps, IterFlags};
use super::range::FileRange;
use crate::{
    error::{code::*, Result},
    folio::Folio,
    pagecache::{FaultFolio, InvalidateLockRead, VmFault},
};

/// Makes the faulting folio of `fault` writable: maps its range within EOF through `ops` (for
/// [`IterFlags::WRITE`] and [`IterFlags::FAULT`]) and dirties it; returns it locked, as the
/// fault handler expects with `VM_FAULT_LOCKED`.
///
/// `lock` proves the inode's `invalidate_lock` is held (`EINVAL` if it is another mapping's).
/// `EFAULT` if the folio was truncated or lies beyond EOF (the fault is retried); otherwise the
/// filesystem's error. On an error the folio is unlocked.
pub fn page_mkwrite<'f, O: IomapOps>(
    ops: &mut O,
    lock: &InvalidateLockRead<'_>,
    fault: &'f VmFault,
) -> Result<FaultFolio<'f>> {
    control::count(Call::PageMkwrite);
    let inode = fault.inode();
    if !core::ptr::eq(lock.mapping(), inode.mapping()) {
        return Err(EINVAL);
    }
    let folio = Folio::lock(fault.folio());
    // Truncated since the fault found it: the fault handler retries.
    let mut folio = FileFolio::new(inode, folio).map_err(|_| EFAULT)?;
    let len = folio.mkwrite_check_truncate()?;
    let range = FileRange::from_pos_len(folio.folio().pos(), len as u64)?;
    let outcome = iterate(
        ops,
        inode,
        range,
        IterFlags::WRITE | IterFlags::FAULT,
        |m| m.dirty_locked_folio(&mut folio),
    );
    if let Some(e) = outcome.error {
        return Err(e);
    }
    folio.wait_stable();
    // The folio locked above is the fault's.
    FaultFolio::new(fault, folio.into_inner()).map_err(|_| EINVAL)
}
