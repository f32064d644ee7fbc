#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fsync against mmap writes (the seed's btrfs fix, 885f46d87f) on xtfs,
# forced at the exact interleaving (race fsync-mmap): fsync writes a file's
# extent records (7 in the inode, the rest in a chain block) to the device's
# cache and parks at the fs_fsync_flush pause point, before flushing that
# cache; a hole's page is written through a shared mapping and written back,
# and the completion, writing the records again, parks at fs_store_extents
# with the chain written and the inode not; fsync resumes and flushes. Read
# from the disk with O_DIRECT right after fsync returns (xtfs is on a linear
# device over it, so that the read does not write back xtfs's cache first),
# the filesystem must be clean for fsck.xtfs -n and the fsynced block must
# be there.
# Without the serialization (fs_skip_fsync_serialize) the device holds the
# new chain under the old inode in every iteration: an extent twice, one
# lost, blocks nothing owns. With it, fsync holds the extent lock until its
# flush is done: the write fault waits for it in every iteration (it finds
# the lock held and parks at fs_extent_lock_wait, never at fs_mkwrite_map,
# while fsync is parked; after the flush it parks at fs_mkwrite_map until
# the disk has been read), and the disk is clean. The program runs the same
# steps either way; the devices of 20 iterations are checked by one fsck.

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
# xtfs on a linear device: the race program reads the disk under it.
linear_scratch
trap linear_scratch_remove EXIT
mkfs.xtfs -q -s 8m "$LINEAR_DEV" || fail "mkfs.xtfs $LINEAR_DEV failed"
mount_xtfs "$LINEAR_DEV"
ref_dir
race_fix_off_on "fsync vs mmap write" fs_skip_fsync_serialize "$RACE_ITERATIONS" \
	fsync-mmap "$SCRATCH_MNT/fsync" "$SCRATCH_DEV" "$REF_DIR/image"
n=$RACE_ITERATIONS
waited_off=$(echo "$RACE_OFF_OUTPUT" | grep 'waited for fsync')
waited_on=$(echo "$RACE_ON_OUTPUT" | grep 'waited for fsync')
diagnose "fsync vs mmap write: fix off: ${waited_off#*: }; fix on: ${waited_on#*: }"
expect_eq "fix off: iterations whose write fault waited for the fsync" \
	"the write fault waited for fsync in 0 of $n iterations" "${waited_off#*: }"
expect_eq "fix on: iterations whose write fault waited for the fsync" \
	"the write fault waited for fsync in $n of $n iterations" "${waited_on#*: }"
check_xtfs "$LINEAR_DEV"
