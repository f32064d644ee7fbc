#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fsync against mmap writes (the seed's btrfs fix, 885f46d87f) on xtfs,
# forced at the exact interleaving (race fsync-mmap): fsync stores a file's
# extent records (7 in the inode, the rest in a chain block) in the journal's
# running transaction and parks at the fs_fsync_flush pause point, before its
# commit; the first page, in an unwritten extent, is written through a shared
# mapping and written back, and the completion, whose conversion splits the
# extent and shifts the records in the chain, stores them again and parks at
# fs_store_extents with the chain written and the inode not; fsync resumes
# and commits. Read
# from the disk with O_DIRECT right after fsync returns (xtfs is on a linear
# device over it, so that the read does not write back xtfs's cache first),
# the filesystem must be clean for fsck.xtfs -n (which replays the log) and
# the fsynced block must be there.
# Without the fix (fs_skip_fsync_serialize splits the completion's journal
# handle between the chain and the inode) the commit takes the new chain
# under the old inode in every iteration: an extent twice, one lost, blocks
# nothing owns. With it the records are one handle: the commit finds it open
# and waits for it in every iteration (it parks at fs_commit_wait, where the
# test sees it), and the disk is clean. The program runs the same steps
# either way; the devices of 20 iterations are checked by one fsck.

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
waited_off=$(echo "$RACE_OFF_OUTPUT" | grep 'waited for the completion')
waited_on=$(echo "$RACE_ON_OUTPUT" | grep 'waited for the completion')
diagnose "fsync vs mmap write: fix off: ${waited_off#*: }; fix on: ${waited_on#*: }"
expect_eq "fix off: iterations whose commit waited for the completion" \
	"the fsync's commit waited for the completion in 0 of $n iterations" "${waited_off#*: }"
expect_eq "fix on: iterations whose commit waited for the completion" \
	"the fsync's commit waited for the completion in $n of $n iterations" "${waited_on#*: }"
check_xtfs "$LINEAR_DEV"
