#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Systematic fault injection on XFS with its buffered I/O through iomap_rs,
# as tests/xtfs_fault_inject.sh does it on xtfs (see there and
# progs/faultop.c): for each file operation, the 1st, 2nd, ... allocation or
# bio to the device that its system call makes fails, until it completes
# without reaching the fault; after each, the file matches the model cached
# and after a remount, and with the files removed the free space is what it
# was before the first fault (no delayed allocation left reserved).
# xfs_repair -n after each remount is too slow under TCG for every fault:
# it runs at the end of each operation's sweep, over what it left.
# Allocations only, no I/O errors: XFS shuts itself down, by design, when a
# metadata read fails in a transaction that changed something (and the
# library's handling of I/O errors is tested on xtfs and in xtfs_io_error).
# An allocation XFS's own transaction code may not fail does the same (seen
# in O_DIRECT into a hole on the debug configuration, C code iomap_rs does
# not touch): the operation must have failed, log recovery must mount the
# file system and xfs_repair -n must find it clean; the sweep goes on from
# the next fault on a new file system and reports the count.

. "$(dirname "$0")/common.sh"

OPS=(write_inplace write_eof write_beyond write_hole mkwrite mkwrite_hole falloc_alloc
	falloc_punch falloc_zero truncate_down truncate_up fsync direct_inplace direct_hole)

# After a shutdown (faultop exits 3, the device unmounted): xfs_repair -n,
# then a new file system.
xfs_repaired_then_new() {
	if ! xfs_repair -n "$SCRATCH_DEV" >"$RESULT_DIR/xfs_repair-$op-shutdown.log" 2>&1; then
		echo "$op: xfs_repair -n after log recovery:" \
			"$(head -n 20 "$RESULT_DIR/xfs_repair-$op-shutdown.log")"
		FAULT_FAILURES+=("$op (xfs_repair after a shutdown)")
	fi
	mkfs_scratch_xfs
}
FAULT_MKFS=xfs_repaired_then_new
FAULT_ESCAPE="XFS shutdowns after an injected allocation failure"
FAULT_ESCAPE+=" (the operation failed; log recovery mounted it, xfs_repair -n clean)"

use_write_path rust
writes_start
fault_nth_setup "$SCRATCH_DEV"
for op in "${OPS[@]}"; do
	mkfs_scratch_xfs
	fault_sweep "$op" true
	unmount_scratch
	if ! xfs_repair -n "$SCRATCH_DEV" >"$RESULT_DIR/xfs_repair-$op.log" 2>&1; then
		echo "$op: xfs_repair -n: $(head -n 20 "$RESULT_DIR/xfs_repair-$op.log")"
		FAULT_FAILURES+=("$op (xfs_repair)")
	fi
done
expect_rust_writes
fault_sweep_report
