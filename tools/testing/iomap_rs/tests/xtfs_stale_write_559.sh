#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fstests xfs/559 on xtfs, with a pause point where xfs/559 has a 500 ms
# write delay and a sleep (which on this kernel never hit the race, XFS's
# large folios leaving too few lock points in its write). A 10-page file is
# preallocated, its cache emptied by a remount, its last byte written (0x58);
# a write of 0x57 over the first 9 pages and 1 byte maps the unwritten
# extent once and, creating large folios, parks at write_validate on its
# first one; the last page is written back (its extent converted, the
# generation bumped) and dropped from the cache; the write resumes. Every run
# must emit the iomap_rs_stale trace event for the file, and the file must
# match the reference after a remount. 10 runs; fsck.xtfs -n clean.

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -s 64m
ref_dir
bs=4096
filesz=$((10 * bs))
dirty=$((filesz - 1))
len=$((9 * bs + 1))
f=$SCRATCH_MNT/file
xfs_io -f -c "truncate 0" -c "pwrite -q -S 0x58 $dirty 1" -c "pwrite -q -S 0x57 0 $len" \
	"$REF_DIR/559" >/dev/null
for run in $(seq 10); do
	rm -f "$f"
	xfs_io -f -c "falloc 0 $filesz" "$f" || fail "falloc"
	unmount_scratch
	mount_scratch
	xfs_io -c "pwrite -q -S 0x58 $dirty 1" "$f" || fail "pwrite 0x58"
	ino=$(printf '%x' "$(stat -c %i "$f")")
	pause_arm write_validate "$f" 0 1
	trace_stale_start
	xfs_io -c "pwrite -q -S 0x57 -b $len 0 $len" "$f" &
	writer=$!
	pause_wait write_validate
	xfs_io -c "sync_range -b -w -a $((filesz - bs)) $bs" \
		-c "fadvise -d $((filesz - bs)) $bs" "$f" ||
		fail "sync_range/fadvise"
	pause_release write_validate
	wait "$writer" || fail "run $run: the write failed"
	events=$(trace_stale_stop)
	echo "$events" | grep -q "ino 0x$ino " ||
		fail "run $run: no iomap_rs_stale event for inode 0x$ino;" \
			"trace has: ${events:-nothing}"
	[ "$run" -gt 1 ] ||
		echo "run 1: $(echo "$events" | grep -o 'iomap_rs_stale:.*' | head -n 1)"
	unmount_scratch
	mount_scratch
	samefile "$f" "$REF_DIR/559" ||
		fail "run $run: the file differs from the reference after a remount"
done
diagnose "10 runs: the write found its mapping stale every time (trace event)," \
	"the file right after a remount"
check_xtfs "$SCRATCH_DEV"
