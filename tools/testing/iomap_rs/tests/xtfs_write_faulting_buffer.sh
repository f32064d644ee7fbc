#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A write from a user buffer whose second page is unmapped, on xtfs (1 KiB and
# 4 KiB blocks), through its Rust write path and through C iomap: the write is
# short, the first page is written, nothing else changes, no stale or zeroed
# data shows up; over written data and beyond EOF; the same results through
# both paths, also after a remount; the delayed allocation the short write
# did not use is given back (free space after removal as before); fsck.xtfs
# -n clean.

. "$(dirname "$0")/common.sh"
require_xtfs

for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -s 256m
	xtfs_dir_with_room "$SCRATCH_MNT/d" 16
	free0=$(xtfs_statfs_free)
	SCRATCH_MNT=$SCRATCH_MNT/d faulting_buffer_both_paths
	# The short write reserved three pages of delayed allocation and used
	# one: the rest is given back at once, through either path.
	for path in c rust; do
		use_write_path $path
		before=$(xtfs_statfs_free)
		expect_eq "short write into a new file ($path)" "wrote 4096" \
			"$("$IOMAP_RS_BIN/faultwrite" "$SCRATCH_MNT/d/short-$path" 0)"
		expect_eq "free blocks after a short write of one page ($path, $bs-byte blocks)" \
			$((before - 4096 / bs)) "$(xtfs_statfs_free)"
	done
	unmount_scratch
	mount_xtfs "$SCRATCH_DEV"
	for path in c rust; do
		expect_same "after remount ($path, $bs-byte blocks)" "$SCRATCH_MNT/d/fault-$path" \
			"$REF_DIR/fault"
		expect_same "new file after remount ($path)" "$SCRATCH_MNT/d/new-$path" \
			"$REF_DIR/new"
	done
	rm -f "$SCRATCH_MNT"/d/*
	sync
	expect_eq "free blocks after removing the files ($bs-byte blocks)" "$free0" \
		"$(xtfs_statfs_free)"
	check_xtfs "$SCRATCH_DEV"
done
use_write_path rust
echo "short writes from a faulting buffer are the same through both paths and persist;" \
	"no leak; fsck clean"
