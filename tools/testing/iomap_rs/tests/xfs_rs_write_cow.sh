#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Copy-on-write: writes through iomap_rs into a reflinked copy (shared
# extents, IOMAP_F_SHARED with a source mapping) change only the copy. The
# copy must match its reference and the original must be unchanged, cached,
# after dropping caches and after a remount.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs -m reflink=1
ref_dir
writes_start
seed=${IOMAP_RS_SEED:-$RANDOM}
echo "seed $seed"
orig=$SCRATCH_MNT/orig
copy=$SCRATCH_MNT/copy
size=$((8 << 20))
"$IOMAP_RS_BIN/randwrite" "$orig" "$REF_DIR/orig" "$seed" 64 $((1 << 20)) "$size" 4096
xfs_io -c "truncate $size" -c fsync "$orig"
truncate -s "$size" "$REF_DIR/orig"
cp --reflink=always "$orig" "$copy" || fail "cp --reflink=always failed"
cp "$REF_DIR/orig" "$REF_DIR/copy"
drop_caches
for max_len in 100 3000 70000; do
	"$IOMAP_RS_BIN/randwrite" "$copy" "$REF_DIR/copy" "$((seed + max_len))" 100 "$max_len" \
		"$size"
done
verify_cached_dropped_remounted "$copy" "$REF_DIR/copy"
expect_same "the reflinked original" "$orig" "$REF_DIR/orig"
xfs_io -c "fiemap -v" "$copy" | grep -q shared ||
	echo "note: no extent of the copy is shared any more"
expect_rust_writes
check_scratch_xfs
