#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The XFS test's edge cases of buffered write() on xtfs (1 KiB and 4 KiB
# blocks), through its Rust write path and through C iomap (the runtime
# switch): a write ending at the maximum file size, one past RLIMIT_FSIZE
# (EFBIG), a zero-length write, an RWF_NOWAIT write into a hole, a write
# killed by SIGKILL part way. Same results through both paths; the files
# read back right after a remount (the killed write's bytes up to its size
# are all written data); free space after removing everything is what it was
# before (no reservation leaked by the short and failed writes); fsck.xtfs -n
# clean.

. "$(dirname "$0")/common.sh"
require_xtfs

for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -s 256m
	xtfs_dir_with_room "$SCRATCH_MNT/d" 16
	free0=$(xtfs_statfs_free)
	SCRATCH_MNT=$SCRATCH_MNT/d write_bad_input_both_paths
	unmount_scratch
	mount_xtfs "$SCRATCH_DEV"
	for path in c rust; do
		size=$(stat -c %s "$SCRATCH_MNT/d/kill-$path")
		cmp -n "$size" "$SCRATCH_MNT/d/kill-$path" <(tr '\0' '\132' </dev/zero) \
			>/dev/null 2>&1 ||
			fail "killed write ($path, $bs-byte blocks):" \
				"not all 0x5a up to $size after remount"
	done
	rm -f "$SCRATCH_MNT"/d/*
	sync
	expect_eq "free blocks after removing the files ($bs-byte blocks)" "$free0" \
		"$(xtfs_statfs_free)"
	check_xtfs "$SCRATCH_DEV"
done
use_write_path rust
echo "the write edge cases give the same results through the Rust and the C write path;" \
	"persisted; no leak; fsck clean"
