#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A file of 10^6 extents (XTFS_EXTENTS), on 1 KiB blocks: one block
# preallocated in every two (progs/many_extents.c: each an unwritten extent
# of its own, a hole on either side), fsynced; then 500 of them, chosen at
# random, written and fdatasynced one by one (each write's completion
# converts its extent in the middle of the tree, and the journal commits).
# Checked cached, after a remount (the mount reads the whole tree back) and
# after the file is cut to half its extents and remounted: FIEMAP reports
# every extent at its place, unwritten or written as it should be, written
# blocks hold what was written and unwritten ones read as zeroes; fsck.xtfs
# -n is clean and counts the extents in the tree. Removing the file gives
# every block back. Format 1 kept a file's extents in one array and could
# not store more than about 131,000 of them.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 250

. "$(dirname "$0")/common.sh"
require_xtfs

N=${XTFS_EXTENTS:-1000000}
COUNT=500
SEED=${IOMAP_RS_SEED:-$RANDOM}
BS=1024
f=$SCRATCH_MNT/f
echo "seed $SEED"

use_write_path rust
mkfs_scratch_xtfs -b $BS -N 64
# Counted with the file's name in the root directory, which keeps the block
# it takes.
: >"$f"
sync
free_before=$(stat -f -c %f "$SCRATCH_MNT")

# fsck_extents WHAT EXTENTS: fsck.xtfs -n is clean, and its tree holds EXTENTS.
fsck_extents() {
	local tree
	fsck.xtfs -n -v "$SCRATCH_DEV" >"$RESULT_DIR/fsck.log" 2>&1 ||
		fail "$1: fsck.xtfs -n found problems: $(head -n 5 "$RESULT_DIR/fsck.log")"
	tree=$(sed -n 's/^extent trees: //p' "$RESULT_DIR/fsck.log")
	[[ $tree == *" holding $2 extents;"* ]] ||
		fail "$1: expected a tree of $2 extents, fsck says: ${tree:-no tree}"
	diagnose "$1: fsck: extent trees: $tree"
}

# check WHAT LIMIT: many_extents check of the file, its first LIMIT extents.
check() {
	local out
	out=$(many_extents check "$f" "$N" $BS $COUNT "$SEED" "$2" 2>&1) || fail "$1: $out"
	diagnose "$1: $out"
}

out=$(many_extents make "$f" "$N" $BS) || fail "making the file: $out"
diagnose "$out"
many_extents write "$f" "$N" $BS $COUNT "$SEED" || fail "the writes failed"
check "cached" "$N"

unmount_scratch
fsck_extents "written" "$N"
start=$(date +%s%N)
mount_xtfs "$SCRATCH_DEV"
stat "$f" >/dev/null || fail "stat after the remount failed"
diagnose "the mount and the first stat, which reads the tree:" \
	"$((($(date +%s%N) - start) / 1000000)) ms"
check "remounted" "$N"

# Cut to half the extents: the tree drops half its leaves.
half=$((N / 2))
truncate -s $((2 * half * BS)) "$f" || fail "truncate failed"
check "cut to half, cached" "$half"
unmount_scratch
fsck_extents "cut to half" "$half"
mount_xtfs "$SCRATCH_DEV"
check "cut to half, remounted" "$half"

rm "$f"
sync
expect_eq "free blocks with the file removed" "$free_before" "$(stat -f -c %f "$SCRATCH_MNT")"
unmount_scratch
fsck.xtfs -n "$SCRATCH_DEV" >"$RESULT_DIR/fsck.log" 2>&1 ||
	fail "the file removed: fsck.xtfs -n found problems: $(head -n 5 "$RESULT_DIR/fsck.log")"
