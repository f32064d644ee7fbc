#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Randomly damaged images never oops xtfs and never pass for good ones: 200
# images (at IOMAP_RS_SCALE 100) with 4 random bytes of their metadata changed (superblock, bitmap,
# inode table, first directory blocks), seed printed. Each either mounts and
# is walked, or fails cleanly with EUCLEAN; an image fsck.xtfs finds clean
# must mount and be walked without error. Any kernel splat fails the test
# (the harness checks the log of the test's window). xtfs_bad_images does
# the hand-made cases.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 350

. "$(dirname "$0")/common.sh"
require_xtfs

xtfs_image_dir

seed=${IOMAP_RS_SEED:-$(date +%s)}
echo "random images: seed $seed (IOMAP_RS_SEED=$seed reproduces them)"
declare -A count=()
clean=0
n=$(((200 * ${IOMAP_RS_SCALE:-100} + 99) / 100))
for ((i = 1; i <= n; i++)); do
	cp "$IMAGES/base.img" "$IMAGES/r.img"
	xtfs_corrupt "$IMAGES/r.img" random $((seed + i)) 4 || fail "xtfs_corrupt random failed"
	rc=0
	fsck.xtfs -n "$IMAGES/r.img" >"$IMAGES/fsck.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 4 ] || fail "image $((seed + i)): fsck.xtfs exit status $rc"
	xtfs_try_image "$IMAGES/r.img"
	outcome=$OUTCOME
	if [ "$outcome" != ok ]; then
		grep -q 'Structure needs cleaning' "$IMAGES/err" ||
			fail "image $((seed + i)): $outcome without EUCLEAN: $(cat "$IMAGES/err")"
	fi
	if [ "$rc" = 0 ]; then
		clean=$((clean + 1))
		[ "$outcome" = ok ] || fail "image $((seed + i)) is clean for fsck.xtfs" \
			"but xtfs gave $outcome: $(cat "$IMAGES/err")"
	fi
	count[$outcome]=$((${count[$outcome]:-0} + 1))
done
echo "$n random images: ${count[mount-failed]:-0} refused at mount," \
	"${count[walk-failed]:-0} at lookup or readdir," \
	"${count[ok]:-0} mounted and walked ($clean of them fsck-clean)"
