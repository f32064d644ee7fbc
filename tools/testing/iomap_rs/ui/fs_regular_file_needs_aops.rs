// SPDX-License-Identifier: GPL-2.0
// expect: E0061
//
// A regular file's reads, faults and writeback call its address-space
// operations: an inode of kind Reg cannot be built without them (before,
// `aops` was an Option for every type, and a regular file left without them
// made the page cache call a NULL read_folio).

use kernel::fs::{inode::Kind, FileSystem};

/// The kind of a regular file with no address-space operations.
pub fn regular_without_aops<T: FileSystem>() -> Kind<T> {
    Kind::Reg()
}
