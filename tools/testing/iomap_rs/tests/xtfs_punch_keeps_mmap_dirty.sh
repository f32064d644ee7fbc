#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# On xtfs, a write that goes short inside the fresh delayed allocation it
# reserved, while another task dirtied a page of that range through mmap
# (mmap_punch keep): the release through kernel::iomap::delalloc must keep
# the reservation and the cached data under the dirty page and give back the
# rest. After writeback no delayed allocation is left (FIEMAP, and statfs
# against a fresh mount: no reservation left over); the mmap-written bytes
# survive dropping the caches and a remount. Then the same at EOF with 1 KiB
# blocks (mmap_punch eof: dirty blocks beyond EOF do not keep a failed
# write's reservation). fsck.xtfs -n clean.

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -s 256m
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
xtfs_expect_no_reservations "after the short write next to an mmap-dirtied page"
check_xtfs "$SCRATCH_DEV"

mkfs_scratch_xtfs -b 1024 -s 256m
rc=0
"$IOMAP_RS_BIN/mmap_punch" eof "$SCRATCH_MNT/eof" || rc=$?
[ "$rc" = 0 ] || fail "mmap_punch eof exited $rc (3: wrong content or leaked delalloc)"
xtfs_expect_no_reservations "after the failed write at EOF"
check_xtfs "$SCRATCH_DEV"
echo "the release kept the mmap-dirtied page's data and reservation and gave back the rest; nothing left reserved; fsck clean"
