#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The xfs/559 scenario through iomap_rs: a file preallocated unwritten, its
# last page dirty, a large write across it with the validate delay knob on,
# racing writeback of the last page (unwritten -> written) and its eviction.
# The write must detect the stale mapping (the iomap_rs_stale trace event and
# the stale_detections counter), remap, and leave the expected content, which
# is checked again after a remount. Both with large folios and with order-0
# folios.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs
for v in $STALE_RACE_VARIANTS; do
	IFS=: read -r mode size delay <<<"$v"
	f=$SCRATCH_MNT/race-$mode
	before=$(knob stale_detections)
	trace_stale_start
	rc=0
	stale_race_run "$mode" "$size" "$delay" "$f" || rc=$?
	events=$(trace_stale_stop)
	echo "$events" | head -5
	[ "$rc" = 0 ] || fail "$mode folios: the race corrupted the file (stale_race exit $rc)"
	n=$(($(knob stale_detections) - before))
	[ "$n" -gt 0 ] || fail "$mode folios: expected the write to find its mapping stale, stale_detections did not move"
	ino=$(printf '%x' "$(stat -c %i "$f")")
	echo "$events" | grep -q "ino 0x$ino " ||
		fail "$mode folios: expected an iomap_rs_stale event for inode 0x$ino, trace has: ${events:-nothing}"
	echo "$mode folios: $n stale mapping(s) detected and remapped"
	unmount_scratch
	mount_scratch
	"$IOMAP_RS_BIN/stale_race" verify "$f" "$size" || fail "$mode folios: wrong content after remount"
done
check_scratch_xfs
