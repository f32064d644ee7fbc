#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Buffered writes through iomap_rs on XFS with 16 KiB blocks on 4 KiB pages
# (6.12 supports block sizes larger than the page size: the page cache then
# holds folios of at least a block). Random aligned and unaligned writes, into
# holes, over written data and beyond EOF: partial blocks must be zeroed or
# read whole although they span several pages. The file must match a
# reference copy while cached, after dropping caches and after a remount, and
# xfs_repair must be clean. Skipped, with the reason, if this mkfs.xfs or
# kernel cannot make or mount such a filesystem.

. "$(dirname "$0")/common.sh"

use_write_path rust
is_mounted "$SCRATCH_MNT" && unmount_scratch
mkfs.xfs -f -q -b size=16384 "$SCRATCH_DEV" >"$RESULT_DIR/mkfs.log" 2>&1 ||
	skip "mkfs.xfs $(mkfs.xfs -V | awk '{print $NF}') cannot make 16 KiB blocks:" \
		"$(tail -n 1 "$RESULT_DIR/mkfs.log")"
mkdir -p "$SCRATCH_MNT"
mount -t xfs "$SCRATCH_DEV" "$SCRATCH_MNT" 2>"$RESULT_DIR/mount.log" ||
	skip "kernel $(uname -r) cannot mount 16 KiB XFS blocks" \
		"on $(getconf PAGESIZE)-byte pages: $(dmesg | grep XFS | tail -n 1)"
bsize=$(stat -f -c %S "$SCRATCH_MNT")
expect_eq "block size of the mounted filesystem" 16384 "$bsize"

ref_dir
writes_start
seed=${IOMAP_RS_SEED:-$RANDOM}
echo "seed $seed"
# max_len align ops
randwrite_cases lbs $((8 << 20)) "$seed" <<'CASES'
1 1 200
5000 1 200
16384 16384 100
40000 1 100
1048576 512 10
CASES
verify_files lbs
expect_rust_writes
check_scratch_xfs
