#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A write from a user buffer whose second page is unmapped is short: the
# first page is written, nothing else changes, no stale or zeroed data shows
# up. Over written data and beyond EOF, with the same result as C iomap.

. "$(dirname "$0")/common.sh"

mkfs_scratch_xfs
ref_dir
expected=()
for path in c rust; do
	use_write_path $path
	f=$SCRATCH_MNT/fault-$path
	xfs_io -f -c "pwrite -q -S 0x5a 0 65536" -c fsync "$f"
	drop_caches
	over=$("$IOMAP_RS_BIN/faultwrite" "$f" 4096)
	new=$("$IOMAP_RS_BIN/faultwrite" "$SCRATCH_MNT/new-$path" 0)
	expected+=("$over / $new")
	expect_eq "write over data ($path)" "wrote 4096" "$over"
	expect_eq "write into a new file ($path)" "wrote 4096" "$new"
	drop_caches
	# [0, 4K) and [8K, 64K) still 0x5a, [4K, 8K) 0xab.
	xfs_io -f -c "pwrite -q -S 0x5a 0 65536" -c "pwrite -q -S 0xab 4096 4096" "$REF_DIR/fault"
	expect_same "the written file ($path)" "$f" "$REF_DIR/fault"
	expect_eq "size of the new file ($path)" 4096 "$(stat -c %s "$SCRATCH_MNT/new-$path")"
	xfs_io -f -c "pwrite -q -S 0xab 0 4096" "$REF_DIR/new"
	expect_same "the new file ($path)" "$SCRATCH_MNT/new-$path" "$REF_DIR/new"
done
expect_eq "iomap_rs result against C iomap" "${expected[0]}" "${expected[1]}"
check_scratch_xfs
