#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Buffered writes to xtfs through kernel::iomap (4 KiB blocks): random aligned
# and unaligned writes of many sizes, from 1 byte to 3 MiB, over sparse files
# and beyond their EOF, as xfs_rs_write_basic does on XFS. Each file must match
# its reference while cached, on a copy of the device taken right after
# sync(2) (fsck-clean too), after the page cache is dropped and after a
# remount; the writes must have gone through the Rust write path; no
# reservation may be left once everything is written back and the files and
# their directory are removed (statfs free blocks back to what mkfs made);
# fsck.xtfs -n is clean.

. "$(dirname "$0")/common.sh"
require_xtfs

bs=${XTFS_BLOCK_SIZE:-4096}
mkfs_scratch_xtfs -b "$bs" -N 256 -s 512m
mkdir "$SCRATCH_MNT/files"
# The root directory keeps the block its entry for files/ took.
free_empty=$(xtfs_statfs_free)
ref_dir
writes_start
seed=${IOMAP_RS_SEED:-$RANDOM}
echo "seed $seed, $bs-byte blocks"
randwrite_cases files/basic $((16 << 20)) "$seed" <<<"$BASIC_WRITE_CASES"
# What sync(2) leaves on the device, before any unmount: a copy of the device
# taken right after it (as a crash would leave it) holds the same files, so
# the extents converted when the I/O completed reached the inode table before
# sync returned.
sync
dd if="$SCRATCH_DEV" of="$TEST_DEV" bs=1M count=512 iflag=direct status=none ||
	fail "cannot copy $SCRATCH_DEV"
copy=/tmp/xtfs-copy
mkdir -p "$copy"
mount -t xtfs -o ro "$TEST_DEV" "$copy" || fail "the copy taken after sync does not mount"
for f in "$copy"/files/basic-*; do
	expect_same "on the device after sync" "$f" "$REF_DIR/${f##*/}"
done
umount "$copy"
fsck.xtfs -n "$TEST_DEV" >"$RESULT_DIR/fsck-copy.log" 2>&1 ||
	{
		cat "$RESULT_DIR/fsck-copy.log"
		fail "fsck.xtfs -n finds the copy taken after sync inconsistent"
	}
verify_files files/basic
expect_rust_writes
check_xtfs "$SCRATCH_DEV"

# Removing the files gives every block back.
mount_xtfs "$SCRATCH_DEV"
rm -r "$SCRATCH_MNT/files"
sync
expect_eq "free blocks after removing the files" "$free_empty" "$(xtfs_statfs_free)"
check_xtfs "$SCRATCH_DEV"
echo "random writes match their references cached, after dropping caches and after a remount;" \
	"space freed; fsck clean"
