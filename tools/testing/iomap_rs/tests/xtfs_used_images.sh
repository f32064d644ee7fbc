#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Damaged images of written filesystems, used: two base images are made by
# xtfs itself (nested directories of files of many sizes, a sparse file with
# an extent tree, preallocated unwritten extents, short and long
# symbolic links, hard links), one taken after unmounting and one taken
# while mounted after sync with an open-unlinked file. Each of the images
# (IOMAP_RS_IMAGES: 300, 1000 on the debug configuration) is a base with 3
# random bytes changed anywhere in its metadata or its blocks in use (seed
# printed), written to the scratch disk. fsck.xtfs -n classifies it; then
# progs/useimage.c mounts it, reads every file and symbolic link, lists every
# directory, creates, writes, fsyncs, renames, appends, truncates and removes,
# and unmounts. An image the mount refuses must be refused with EUCLEAN; an
# image fsck finds clean must be used without a single error and be clean
# again after; any image may fail operations, but never with a kernel splat
# (the harness checks).
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 150

. "$(dirname "$0")/common.sh"
require_xtfs

images=${IOMAP_RS_IMAGES:-300}
IMAGES_DIR=$(mktemp -d)
mount -t tmpfs none "$IMAGES_DIR"
trap 'is_mounted "$SCRATCH_MNT" && umount "$SCRATCH_MNT"
	umount "$IMAGES_DIR"; rmdir "$IMAGES_DIR"' EXIT
size=4m

# The base images, written through xtfs on the first 4 MiB of the scratch disk.
xtfs_written_images "$IMAGES_DIR" "$size"

seed=${IOMAP_RS_SEED:-$(date +%s)}
echo "used images: seed $seed (IOMAP_RS_SEED=$seed reproduces them)"
declare -A count=()
for ((i = 1; i <= images; i++)); do
	xtfs_damaged_image "$IMAGES_DIR" "$SCRATCH_DEV" "$i" "$seed"
	base=$DAMAGED_BASE
	rc=0
	fsck.xtfs -n "$SCRATCH_DEV" >"$RESULT_DIR/fsck.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 4 ] || fail "image $((seed + i)): fsck.xtfs exit status $rc"
	out=$(useimage "$SCRATCH_DEV" "$SCRATCH_MNT" xtfs) ||
		fail "image $((seed + i)) ($base): $out: the unmount failed"
	case $out in
	"mount-failed EUCLEAN") outcome=refused ;;
	mount-failed*) fail "image $((seed + i)) ($base): $out, expected EUCLEAN" ;;
	"used "*" ok") outcome=used ;;
	*) outcome=errors ;;
	esac
	if [ "$rc" = 0 ]; then
		[ "$outcome" = used ] ||
			fail "image $((seed + i)) ($base) is clean for fsck.xtfs but: $out"
		fsck.xtfs -n "$SCRATCH_DEV" >"$RESULT_DIR/fsck.out" 2>&1 ||
			{
				cat "$RESULT_DIR/fsck.out"
				fail "image $((seed + i)) ($base): not clean after use"
			}
		outcome=clean-$outcome
	fi
	count[$outcome]=$((${count[$outcome]:-0} + 1))
done
echo "$images images: ${count[refused]:-0} refused at mount (EUCLEAN)," \
	"${count[errors]:-0} mounted and failed some operations, ${count[used]:-0} used without" \
	"an error though fsck finds damage, ${count[clean-used]:-0} fsck-clean and used cleanly"
diagnose "$images damaged images of written filesystems: ${count[refused]:-0} refused," \
	"${count[errors]:-0} with failed operations, ${count[used]:-0} used though damaged," \
	"${count[clean-used]:-0} clean and used (seed $seed)"
