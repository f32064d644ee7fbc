#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The extent B+tree changed in place: with 512-byte blocks (20 extents a
# leaf, 30 entries an interior node, 10 in the root), a file written one
# block in two gets 7000 extents, a tree three levels deep; then ranges of
# it are punched (leaves and interior nodes emptied and dropped), holes
# filled (leaves split), a preallocated range written one block in three
# (unwritten extents split at every write's completion), the file cut short
# (most of the tree dropped), and cut to a few blocks (the tree gives way to
# the extents in the inode). Every change is made to a model on tmpfs too;
# after each step the file matches it, cached, after the caches are dropped
# and after a remount; fsck.xtfs -n is clean (every node checked: keys,
# ranges, levels, checksums, owner, no block claimed twice or leaked); and
# st_blocks counts the tree's nodes.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
ref_dir
mkfs_scratch_xtfs -b 512 -N 64 -s 64m
f=$SCRATCH_MNT/f
model=$REF_DIR/f
: >"$model"

# both XFS_IO_ARGS...: the same xfs_io commands on the file and the model.
both() {
	xfs_io -f "$@" "$f" || fail "xfs_io $* on the file failed"
	xfs_io -f "$@" "$model" || fail "xfs_io $* on the model failed"
}

# every FROM COUNT STRIDE: pwrite commands of one byte at blocks FROM,
# FROM + STRIDE, ... (COUNT of them), each byte its block's number.
every() {
	local i cmds=()
	for ((i = 0; i < $2; i++)); do
		cmds+=(-c "pwrite -q -S $(((($1 + i * $3) % 255) + 1)) $((($1 + i * $3) * 512)) 1")
	done
	both "${cmds[@]}"
}

# extents: the extents FIEMAP reports for the file (filefrag would count
# extents that follow each other on the disk as one).
extents() {
	xfs_io -r -c fiemap "$f" | tail -n +2 | grep -vc hole
}

# step WHAT: the file matches the model cached, dropped and remounted, and
# fsck is clean; prints the tree fsck reports.
step() {
	local tree
	sync
	expect_same "$1, cached" "$f" "$model"
	drop_caches
	expect_same "$1, caches dropped" "$f" "$model"
	unmount_scratch
	fsck.xtfs -n -v "$SCRATCH_DEV" >"$RESULT_DIR/fsck.log" 2>&1 ||
		{ cat "$RESULT_DIR/fsck.log"; fail "$1: fsck.xtfs -n found problems"; }
	tree=$(sed -n 's/^extent trees: //p' "$RESULT_DIR/fsck.log")
	mount_xtfs "$SCRATCH_DEV"
	expect_same "$1, remounted" "$f" "$model"
	printf '%-50s %6s extents, tree: %s\n' "$1" "$(extents)" "${tree:-none}"
	TREE=$tree
}

# Written a thousand blocks at a time, every other block: each block its
# own extent.
for ((k = 0; k < 7; k++)); do every $((k * 2000)) 1000 2; done
step "7000 blocks, one in two"
expect_eq "extents of the fragmented file" 7000 "$(extents)"
[[ $TREE == *"deepest has 3 levels"* ]] ||
	fail "7000 extents: expected a tree of 3 levels, fsck says: $TREE"
# 7000 blocks of data and the tree's nodes: at least 350 leaves, and the
# leaves written in order are full.
blocks=$(stat -c %b "$f")
((blocks > 7350 && blocks < 7500)) || fail "st_blocks $blocks for 7000 data blocks and a tree"

both -c "fpunch $((2000 * 512)) $((3000 * 512))"
step "1500 extents punched"
expect_eq "extents after the punch" 5500 "$(extents)"

# Holes filled: the written blocks land elsewhere on the disk, new extents
# between the old ones, in the leaves that held these.
both -c "pwrite -q -S 0x77 $((8000 * 512)) $((1000 * 512))"
step "500 holes filled"

# A preallocated range beyond, written one block in three: each write's
# completion splits the unwritten extent.
both -c "falloc $((14000 * 512)) $((3000 * 512))"
every 14000 1000 3
step "1000 writes into a preallocated range"

both -c "truncate $((3000 * 512))"
step "cut to 3000 blocks"

both -c "truncate $((5 * 512))"
step "cut to 5 blocks"
[ -z "$TREE" ] || fail "5 blocks: expected the extents in the inode, fsck says: $TREE"
blocks=$(stat -c %b "$f")
expect_eq "st_blocks of 3 data blocks and no tree" 3 "$blocks"

rm "$f"
check_xtfs "$SCRATCH_DEV"
echo "a tree of 3 levels built, punched, split, converted, cut and dropped in place;" \
	"the file always the model's, fsck always clean"
