#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Corrupt images never oops xtfs and never pass for good ones: hand-made
# cases (xtfs_corrupt --list), one per check of the mount and inode-reading
# paths, checksums kept right so the check behind them is the one that
# counts. fsck.xtfs must report each (exit status 4), and xtfs must refuse
# each with EUCLEAN, either at mount or when the broken part is looked up or
# listed, logging a message that names the device and says what is wrong
# ("xtfs: loop3: ...": the test reads the kernel log, and another lane's
# messages name other devices). xtfs_random_images does the random damage.
# Any kernel splat fails the test (the harness checks the log of the test's
# window).
#
# Cases a mount accepts (xtfs_corrupt --list-accepted: it reads inodes only
# when they are used), such as two files sharing a block: fsck.xtfs reports
# each; removing everything works, the damage is logged, and nothing is
# counted twice: the free space after sync is what a fresh mount finds.

#
# iomap_rs-test: parallel
# iomap_rs-test: cost 200

. "$(dirname "$0")/common.sh"
require_xtfs

xtfs_image_dir

cases=0
for c in $(xtfs_corrupt --list); do
	cp "$IMAGES/base.img" "$IMAGES/c.img"
	xtfs_corrupt "$IMAGES/c.img" "$c" || fail "xtfs_corrupt $c failed"
	rc=0
	fsck.xtfs -n "$IMAGES/c.img" >"$IMAGES/fsck.out" 2>&1 || rc=$?
	[ "$rc" = 4 ] ||
		fail "$c: fsck.xtfs exit status $rc, expected 4: $(head -n 3 "$IMAGES/fsck.out")"
	xtfs_try_image "$IMAGES/c.img" msgs
	outcome=$OUTCOME
	[ "$outcome" != ok ] || fail "$c: xtfs mounted and walked the image without an error"
	grep -q 'Structure needs cleaning' "$IMAGES/err" ||
		fail "$c: expected EUCLEAN, got: $(cat "$IMAGES/err")"
	msg=$(head -n 1 "$IMAGES/msgs")
	[ -n "$msg" ] || fail "$c: no xtfs message naming its loop device in the kernel log"
	printf '%-28s %-12s fsck: %s | kernel: %s\n' "$c" "$outcome" \
		"$(head -n 1 "$IMAGES/fsck.out" | cut -c1-60)" \
		"$(echo "$msg" | sed 's/.*xtfs: //' | cut -c1-60)"
	cases=$((cases + 1))
done

echo "$cases hand-made cases refused by fsck.xtfs and by xtfs, each with its message"

accepted=0
for c in $(xtfs_corrupt --list-accepted); do
	cp "$IMAGES/base.img" "$IMAGES/c.img"
	xtfs_corrupt "$IMAGES/c.img" "$c" || fail "xtfs_corrupt $c failed"
	rc=0
	fsck.xtfs -n "$IMAGES/c.img" >"$IMAGES/fsck.out" 2>&1 || rc=$?
	[ "$rc" = 4 ] ||
		fail "$c: fsck.xtfs exit status $rc, expected 4: $(head -n 3 "$IMAGES/fsck.out")"
	xtfs_loop_attach "$IMAGES/c.img"
	dev=$LOOP_DEV
	mount -t xtfs "$dev" "$SCRATCH_MNT" || fail "$c: the mount failed"
	rm -r "${SCRATCH_MNT:?}"/* || fail "$c: removing everything failed"
	sync -f "$SCRATCH_MNT"
	free=$(xtfs_statfs_free)
	umount "$SCRATCH_MNT"
	mount -t xtfs "$dev" "$SCRATCH_MNT" || fail "$c: the mount after use failed"
	expect_eq "$c: free blocks after removing everything against a fresh mount" \
		"$free" "$(xtfs_statfs_free)"
	umount "$SCRATCH_MNT"
	xtfs_loop_detach
	msg=$(head -n 1 "$IMAGES/msgs")
	[ -n "$msg" ] || fail "$c: no xtfs message naming its loop device in the kernel log"
	printf '%-28s fsck: %s | kernel: %s\n' "$c" "$(head -n 1 "$IMAGES/fsck.out" | cut -c1-60)" \
		"$(echo "$msg" | sed 's/.*xtfs: //' | cut -c1-60)"
	accepted=$((accepted + 1))
done
echo "$accepted hand-made cases a mount accepts:" \
	"found by fsck.xtfs, used without counting a block twice"
