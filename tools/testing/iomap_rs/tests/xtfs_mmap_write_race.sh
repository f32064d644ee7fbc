#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The generic/346 workload on xtfs (mmap_punch race): 1, 16 and 256 threads
# mix mmap writes and pwrite() over interleaved 3 KiB runs of one sparse
# file, neighbouring runs sharing pages, while a flusher writes back and
# evicts ranges (every writeback allocation and completion bumps the extent
# generation). The library's validate delay knob (1 ms per folio) makes
# writes find their mappings stale, end short and release delayed
# allocations next to pages other threads dirtied through mmap. Every byte is
# checked while running and again after dropping the caches and after a
# remount; no delayed allocation may be left after writeback (FIEMAP, and
# statfs against a fresh mount); fsck.xtfs -n clean.

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -s 512m
ref_dir
total=0
for spec in 1:3000 16:200 256:16; do
	threads=${spec%%:*}
	ops=${spec#*:}
	before=$(knob stale_detections)
	rc=0
	"$IOMAP_RS_BIN/mmap_punch" race "$SCRATCH_MNT/race-$threads" "$threads" "$ops" \
		"$REF_DIR/race-$threads" "$IOMAP_RS_DEBUGFS/validate_delay_ms" 1 || rc=$?
	knob validate_delay_ms 0
	[ "$rc" = 0 ] || fail "$threads threads: mmap_punch race exited $rc (3: wrong content or leaked delalloc)"
	n=$(($(knob stale_detections) - before))
	total=$((total + n))
	echo "$threads threads: $n stale mappings"
done
[ "$total" -gt 0 ] || fail "no write found its mapping stale: the test did not exercise short writes"
drop_caches
for threads in 1 16 256; do
	expect_same "$threads threads, after dropping caches" "$SCRATCH_MNT/race-$threads" "$REF_DIR/race-$threads"
done
xtfs_expect_no_reservations "after the races"
for threads in 1 16 256; do
	expect_same "$threads threads, after remount" "$SCRATCH_MNT/race-$threads" "$REF_DIR/race-$threads"
done
check_xtfs "$SCRATCH_DEV"
echo "mmap and pwrite racing with writeback and eviction: every byte right, cached, dropped and remounted; no reservation left; fsck clean"
