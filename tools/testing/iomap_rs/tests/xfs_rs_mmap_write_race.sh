#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The generic/346 workload in our own code (mmap_punch race): 1, 16 and 256
# threads mix mmap writes and pwrite() over interleaved 3 KiB runs of one
# sparse file, neighbouring runs sharing pages, while a flusher writes back
# and evicts ranges. The validate delay knob (1 ms per folio) makes writes
# find their mappings stale, end short and release delalloc next to pages
# other threads dirtied through mmap. Every byte is checked while running
# and again after a remount; no delalloc may be left after writeback, and
# xfs_repair -n must be clean.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs
ref_dir
total=0
for spec in 1:3000 16:200 256:16; do
	threads=${spec%%:*}
	ops=${spec#*:}
	before=$(knob stale_detections)
	rc=0
	"$IOMAP_RS_BIN/mmap_punch" race "$SCRATCH_MNT/race-$threads" "$threads" "$ops" \
		"$REF_DIR/race-$threads" "$IOMAP_RS_DEBUGFS/validate_delay_ms" 1 || rc=$?
	[ "$rc" = 0 ] || fail "$threads threads: mmap_punch race exited $rc (3: wrong content or leaked delalloc)"
	n=$(($(knob stale_detections) - before))
	total=$((total + n))
	echo "$threads threads: $n stale mappings (each ends a write pass short; over new delalloc the rest is released)"
done
[ "$total" -gt 0 ] || fail "no write found its mapping stale: the test did not exercise short writes"
unmount_scratch
mount_scratch
for threads in 1 16 256; do
	expect_same "$threads threads, after remount" "$SCRATCH_MNT/race-$threads" "$REF_DIR/race-$threads"
done
check_scratch_xfs
