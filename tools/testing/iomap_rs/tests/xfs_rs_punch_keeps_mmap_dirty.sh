#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A write that goes short inside the fresh delalloc extent it reserved, while
# another task dirtied a page of that extent through mmap (mmap_punch keep):
# the delalloc release must keep the reservation and the cached data under
# the dirty page and punch the rest. After writeback no delalloc is left
# (FIEMAP, and bmap after a remount), the mmap-written bytes survive dropping
# the caches and a remount, and xfs_repair -n is clean.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs
ref_dir
f=$SCRATCH_MNT/keep
writes_start
rc=0
"$IOMAP_RS_BIN/mmap_punch" keep "$f" "$IOMAP_RS_DEBUGFS/validate_delay_ms" 10 || rc=$?
[ "$rc" = 0 ] || fail "mmap_punch keep exited $rc (3: wrong content or leaked delalloc, 2: the race did not happen as planned)"
expect_rust_writes
# The short write's first 256 KiB, the 1000 bytes written through mmap, zeroes.
xfs_io -f -c "truncate 1m" -c "pwrite -q -S 0x77 0 256k" \
	-c "pwrite -q -S 0x6d $((384 * 1024 + 100)) 1000" "$REF_DIR/keep" >/dev/null
verify_cached_dropped_remounted "$f" "$REF_DIR/keep"
xfs_io -r -c "bmap -elpv" "$f" | tee "$RESULT_DIR/bmap.txt"
if grep -q delalloc "$RESULT_DIR/bmap.txt"; then
	fail "delalloc left after remount"
fi
check_scratch_xfs
