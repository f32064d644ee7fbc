#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# page_mkwrite against fallocate (the seed's ext4 thread) on xtfs, forced at
# the exact interleaving: a write fault on the cached first page of a sparse
# file parks at the fs_mkwrite_map pause point, after xtfs looked the page's
# block up (a hole) and reserved space, before it inserts the delayed
# allocation; fallocate() preallocates the file's 64 KiB meanwhile (it holds
# i_rwsem only, as ext4's does); the fault resumes (race mkwrite-falloc).
# Without the recheck under the extent lock (fs_skip_mkwrite_recheck) the
# delayed allocation replaces the new unwritten extent in every iteration:
# after fsync the page's block is not where the preallocation put it, and
# fsck.xtfs finds the preallocated block leaked. With the recheck, the fault
# uses the unwritten extent in every iteration and fsck is clean.

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -s 64m
# After the run without the fix: fsck must see the damage, then a fresh
# filesystem for the run with it.
leaks_then_fresh_fs() {
	unmount_scratch
	if fsck.xtfs -n "$SCRATCH_DEV" >"$RESULT_DIR/fsck-fix-off.log" 2>&1; then
		fail "fsck.xtfs found nothing wrong after the run without the recheck"
	fi
	diagnose "fsck.xtfs after the run without the recheck:" \
		"$(grep -c . "$RESULT_DIR/fsck-fix-off.log") line(s)," \
		"first: $(head -n 1 "$RESULT_DIR/fsck-fix-off.log")"
	mkfs_scratch_xtfs -s 64m
}
RACE_BETWEEN=leaks_then_fresh_fs
race_fix_off_on "mkwrite vs fallocate" fs_skip_mkwrite_recheck "$RACE_ITERATIONS" \
	mkwrite-falloc "$SCRATCH_MNT/mkwrite"
check_xtfs "$SCRATCH_DEV"
