// SPDX-License-Identifier: GPL-2.0
// expect: E0133
//
// A mapping that says a file's data is on a device at some address must not
// be made in safe code: the write path reads partial blocks from it
// (iomap_read_folio_sync(), submit_bio()), so a made-up device or address
// would oops or read another file's blocks. Iomap::new() refuses
// MappingType::Mapped (EINVAL, a doctest); Iomap::with_device() and
// Iomap::from_c() are unsafe, with the contract stated.

use kernel::bindings;
use kernel::iomap::map::{Iomap, MappingType};
use kernel::prelude::*;

/// Claims the file's first 64 KiB are at address 0 of no device at all.
pub fn made_up_mapping() -> Result<Iomap> {
    Iomap::with_device(
        MappingType::Mapped,
        0,
        65536,
        0,
        core::ptr::null_mut::<bindings::block_device>(),
        0,
    )
}
