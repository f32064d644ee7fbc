#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sub-folio blocks: XFS with 1 KiB blocks, so every 4 KiB page has four
# blocks with their own uptodate and dirty state. Unaligned writes land in
# holes, unwritten (preallocated) extents and written extents of one file;
# the file must match its reference cached, after dropping caches and after a
# remount.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs -b size=1024
ref_dir
writes_start
seed=${IOMAP_RS_SEED:-$RANDOM}
echo "seed $seed"
f=$SCRATCH_MNT/subpage
size=$((8 << 20))
# Layout, per 256 KiB: [0, 64K) hole, [64K, 128K) unwritten,
# [128K, 192K) written, [192K, 256K) hole; plus odd-sized islands.
args=()
for ((off = 0; off < size; off += 262144)); do
	args+=(-c "falloc $((off + 65536)) 65536")
	args+=(-c "pwrite -q -S 0x33 $((off + 131072)) 65536")
	args+=(-c "falloc $((off + 200704 + 1024)) 3072")
	args+=(-c "pwrite -q -S 0x44 $((off + 225280 + 2048)) 1024")
done
xfs_io -f "${args[@]}" -c "truncate $size" -c fsync "$f" || fail "xfs_io could not lay out $f"
drop_caches
cp "$f" "$REF_DIR/subpage"
for max_len in 1 700 1500 5000 20000; do
	"$IOMAP_RS_BIN/randwrite" "$f" "$REF_DIR/subpage" "$((seed + max_len))" 300 "$max_len" \
		"$size"
done
"$IOMAP_RS_BIN/randwrite" "$f" "$REF_DIR/subpage" "$seed" 100 3000 "$size" 1024
verify_cached_dropped_remounted "$f" "$REF_DIR/subpage"
expect_rust_writes
check_scratch_xfs
