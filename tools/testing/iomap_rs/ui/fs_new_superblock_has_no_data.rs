// SPDX-License-Identifier: GPL-2.0
// expect: E0599
//
// While fill_super runs, the superblock has no filesystem data yet
// (s_fs_info is set only from what fill_super returns), so the superblock
// it gets, a NewSuperBlock, has no data() to read it through.

use kernel::fs::{sb::NewSuperBlock, FileSystem};

/// Reads the data of a superblock that has none yet.
pub fn data_too_early<T: FileSystem>(sb: &NewSuperBlock<'_, T>) -> &T::Data {
    sb.data()
}
