#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkfs.xtfs, called as mkfs -t xtfs, makes a filesystem that xtfs.ko mounts;
# statfs reports exactly the geometry mkfs printed (blocks, free blocks,
# available blocks (free less the metadata reserve), inodes, free inodes,
# block size, name length, magic); the empty root lists only . and ..; it
# survives unmount and remount; fsck -t xtfs -n finds it clean. For 1 KiB and
# 4 KiB blocks. A device that holds no xtfs fails the mount with EUCLEAN and a
# message, and fsck.xtfs with exit status 4.

. "$(dirname "$0")/common.sh"
require_xtfs

statfs() {
	stat -f -c '%t %S %b %f %a %c %d %l' "$SCRATCH_MNT"
}

for bs in 1024 4096; do
	mkfs -t xtfs -b "$bs" -N 1000 -s 64m "$SCRATCH_DEV" >"$RESULT_DIR/mkfs.log" ||
		fail "mkfs -t xtfs -b $bs failed: $(cat "$RESULT_DIR/mkfs.log")"
	data_start=$(sed -n 's/.*data from block \([0-9]*\).*/\1/p' "$RESULT_DIR/mkfs.log")
	[ -n "$data_start" ] || fail "mkfs.xtfs printed no layout: $(cat "$RESULT_DIR/mkfs.log")"
	blocks=$((64 * 1024 * 1024 / bs))
	free=$((blocks - data_start))
	# Available to users: less the blocks xtfs keeps back for metadata (1/64 of
	# the blocks, 8 to 1024).
	reserve=$((blocks / 64 < 8 ? 8 : blocks / 64 > 1024 ? 1024 : blocks / 64))
	want="$XTFS_MAGIC $bs $blocks $free $((free - reserve)) 1000 999 250"

	mount_xtfs "$SCRATCH_DEV"
	expect_eq "statfs with $bs-byte blocks" "$want" "$(statfs)"
	expect_eq "root listing" ". .." "$(ls -a "$SCRATCH_MNT" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "root inode" "1 directory 755 2" "$(stat -c '%i %F %a %h' "$SCRATCH_MNT")"
	unmount_scratch

	mount_xtfs "$SCRATCH_DEV"
	expect_eq "statfs after remount" "$want" "$(statfs)"
	unmount_scratch
	fsck -t xtfs -n "$SCRATCH_DEV" >"$RESULT_DIR/fsck.log" 2>&1 ||
		{
			cat "$RESULT_DIR/fsck.log"
			fail "fsck -t xtfs -n found problems ($bs-byte blocks)"
		}
	echo "$bs-byte blocks: $blocks blocks, data from block $data_start," \
		"statfs and remount ok, fsck clean"
done

# Not an xtfs filesystem.
dd if=/dev/zero of="$SCRATCH_DEV" bs=1M count=1 conv=notrunc status=none
mkdir -p "$SCRATCH_MNT"
if mount -t xtfs "$SCRATCH_DEV" "$SCRATCH_MNT" 2>"$RESULT_DIR/mount.err"; then
	umount "$SCRATCH_MNT"
	fail "mounted a zeroed device"
fi
grep -q 'Structure needs cleaning' "$RESULT_DIR/mount.err" ||
	fail "mount of a zeroed device: expected EUCLEAN, got: $(cat "$RESULT_DIR/mount.err")"
dmesg | tail -n 20 | grep -q "xtfs: $(kernel_name "$SCRATCH_DEV"): no xtfs superblock" ||
	fail "no message naming the device and its bad superblock"
rc=0
fsck.xtfs -n "$SCRATCH_DEV" >/dev/null 2>&1 || rc=$?
expect_eq "fsck.xtfs exit status on a zeroed device" 4 "$rc"
echo "zeroed device: mount fails with EUCLEAN, fsck exits 4"
