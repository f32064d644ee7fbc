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

. "$(dirname "$0")/common.sh"

OPS=(write_inplace write_eof write_beyond write_hole mkwrite mkwrite_hole falloc_alloc
	falloc_punch falloc_zero truncate_down truncate_up fsync direct_inplace direct_hole)

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
