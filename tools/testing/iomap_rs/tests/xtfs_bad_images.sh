#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Corrupt images never oops xtfs and never pass for good ones.
#
# Hand-made cases (xtfs_corrupt --list), one per check of the mount and
# inode-reading paths, checksums kept right so the check behind them is
# the one that counts: fsck.xtfs must report each (exit status 4), and xtfs
# must refuse each with EUCLEAN, either at mount or when the broken part is
# looked up or listed, logging an "xtfs:" message that says what is wrong.
#
# Random cases: 200 images with 4 random bytes of their metadata changed
# (superblock, bitmap, inode table, first directory blocks), seed printed.
# Each either mounts or fails cleanly; an image fsck.xtfs finds clean must
# mount and be walked without error. Any kernel splat fails the test (the
# harness checks the log of the test's window).

. "$(dirname "$0")/common.sh"
require_xtfs

work=$(mktemp -d)
mount -t tmpfs none "$work"
loop=
cleanup() {
	mountpoint -q "$SCRATCH_MNT" && umount "$SCRATCH_MNT"
	[ -n "$loop" ] && losetup -d "$loop"
	umount "$work"
	rmdir "$work"
}
trap cleanup EXIT
mkdir -p "$work/src/dir/sub" "$SCRATCH_MNT"
echo data >"$work/src/file"
for i in $(seq 1 20); do echo "$i" >"$work/src/dir/f$i"; done
ln -s file "$work/src/link"
truncate -s 2m "$work/base.img"
mkfs.xtfs -q -b 1024 -N 128 -d "$work/src" "$work/base.img" || fail "mkfs.xtfs of the base image failed"
fsck.xtfs -n "$work/base.img" >/dev/null || fail "the base image is not clean"

# try_image IMAGE: prints "mount-failed", "walk-failed" or "ok"; the error
# text goes to $work/err.
try_image() {
	loop=$(losetup -f --show "$1")
	if ! mount -t xtfs -o ro "$loop" "$SCRATCH_MNT" 2>"$work/err"; then
		echo mount-failed
	elif ! find "$SCRATCH_MNT" -printf '%p %s %m %n\n' >/dev/null 2>"$work/err"; then
		umount "$SCRATCH_MNT"
		echo walk-failed
	else
		umount "$SCRATCH_MNT"
		echo ok
	fi
	losetup -d "$loop"
	loop=
}

cases=0
for c in $(xtfs_corrupt --list); do
	cp "$work/base.img" "$work/c.img"
	xtfs_corrupt "$work/c.img" "$c" || fail "xtfs_corrupt $c failed"
	rc=0
	fsck.xtfs -n "$work/c.img" >"$work/fsck.out" 2>&1 || rc=$?
	[ "$rc" = 4 ] || fail "$c: fsck.xtfs exit status $rc, expected 4: $(head -n 3 "$work/fsck.out")"
	mark="xtfs-bad-images: case $c"
	echo "$mark" >/dev/kmsg
	outcome=$(try_image "$work/c.img")
	[ "$outcome" != ok ] || fail "$c: xtfs mounted and walked the image without an error"
	grep -q 'Structure needs cleaning' "$work/err" ||
		fail "$c: expected EUCLEAN, got: $(cat "$work/err")"
	msg=$(dmesg | sed -n "/$mark\$/,\$p" | grep -m1 'xtfs:' || true)
	[ -n "$msg" ] || fail "$c: no xtfs: message in the kernel log"
	printf '%-28s %-12s fsck: %s | kernel: %s\n' "$c" "$outcome" \
		"$(head -n 1 "$work/fsck.out" | cut -c1-60)" "$(echo "$msg" | sed 's/.*xtfs: //' | cut -c1-60)"
	cases=$((cases + 1))
done

seed=${XTFS_BAD_IMAGES_SEED:-$(date +%s)}
echo "random images: seed $seed (XTFS_BAD_IMAGES_SEED=$seed reproduces them)"
declare -A count=()
clean=0
for i in $(seq 1 200); do
	cp "$work/base.img" "$work/r.img"
	xtfs_corrupt "$work/r.img" random $((seed + i)) 4 || fail "xtfs_corrupt random failed"
	rc=0
	fsck.xtfs -n "$work/r.img" >"$work/fsck.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 4 ] || fail "image $((seed + i)): fsck.xtfs exit status $rc"
	outcome=$(try_image "$work/r.img")
	if [ "$outcome" != ok ]; then
		grep -q 'Structure needs cleaning' "$work/err" ||
			fail "image $((seed + i)): $outcome without EUCLEAN: $(cat "$work/err")"
	fi
	if [ "$rc" = 0 ]; then
		clean=$((clean + 1))
		[ "$outcome" = ok ] || fail "image $((seed + i)) is clean for fsck.xtfs but xtfs gave $outcome: $(cat "$work/err")"
	fi
	count[$outcome]=$((${count[$outcome]:-0} + 1))
done
echo "$cases hand-made cases refused; 200 random images: ${count[mount-failed]:-0} refused at mount," \
	"${count[walk-failed]:-0} at lookup or readdir, ${count[ok]:-0} mounted and walked ($clean of them fsck-clean)"
