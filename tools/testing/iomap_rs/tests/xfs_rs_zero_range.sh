#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Zeroing through iomap_rs on XFS (iomap_rs_zero_range() and
# iomap_rs_truncate_page()): a random sequence of writes (some beyond EOF,
# which zero the gap), truncates down and up to unaligned sizes (which zero
# the tail of the last block), fzero and fpunch with partial blocks, and
# preallocation, over holes, unwritten extents, written extents (after an
# fsync) and dirty delalloc, with 4 KiB and 1 KiB blocks. A reference copy on
# tmpfs gets the same operations (zeroing as writes of zeroes); the file must
# match it while cached, after dropping caches and after a remount, and
# xfs_repair must be clean. The zero_ranges and truncate_pages counters must
# have moved: the Rust path was the one taken.

. "$(dirname "$0")/common.sh"

use_write_path rust
seed=${IOMAP_RS_SEED:-$RANDOM}
echo "seed $seed"
RANDOM=$seed
zero_before=$(knob zero_ranges)
trunc_before=$(knob truncate_pages)
ref_dir

# both CMD...: run an xfs_io command on the file and on its reference.
both() {
	xfs_io -f -c "$*" "$f" || fail "xfs_io -c '$*' $f failed"
	xfs_io -f -c "$*" "$ref" || fail "xfs_io -c '$*' $ref failed"
}

# zeroed OP OFF LEN: OP (fzero or fpunch) on the file, zeroes on the reference.
zeroed() {
	xfs_io -c "$1 $2 $3" "$f" || fail "xfs_io -c '$1 $2 $3' $f failed"
	xfs_io -c "pwrite -q -S 0 $2 $3" "$ref" || fail "zeroing the reference failed"
}

rnd() { echo $(((RANDOM << 15 | RANDOM) % $1)); }

for bsize in 4096 1024; do
	mkfs_scratch_xfs -b size=$bsize
	f=$SCRATCH_MNT/zero-$bsize
	ref=$REF_DIR/zero-$bsize
	max=$((4 << 20))
	both "truncate $((max / 2))"
	for ((i = 0; i < 250; i++)); do
		size=$(stat -c %s "$ref")
		case $(rnd 10) in
		0 | 1) # a write anywhere, maybe beyond EOF (zeroing the gap)
			off=$(rnd $max) len=$((1 + $(rnd 20000)))
			both "pwrite -q -S $((1 + $(rnd 250))) $off $len" ;;
		2) # a write just beyond EOF, unaligned
			off=$((size + $(rnd 9000))) len=$((1 + $(rnd 5000)))
			both "pwrite -q -S $((1 + $(rnd 250))) $off $len" ;;
		3) # truncate down or up, unaligned
			both "truncate $(rnd $max)" ;;
		4 | 5) # zero a range within EOF, partial blocks at both ends
			[ "$size" -gt 2 ] || continue
			off=$(rnd $((size - 1))) len=$((1 + $(rnd $((size - off)))))
			zeroed fzero "$off" "$len" ;;
		6) # punch a range within EOF
			[ "$size" -gt 2 ] || continue
			off=$(rnd $((size - 1))) len=$((1 + $(rnd $((size - off)))))
			zeroed fpunch "$off" "$len" ;;
		7) # preallocate unwritten extents, size unchanged
			off=$(rnd $max) len=$((1 + $(rnd 65536)))
			xfs_io -c "falloc -k $off $len" "$f" || fail "falloc -k $off $len failed" ;;
		8) # write back: delalloc becomes written
			xfs_io -c fsync "$f" ;;
		9) # drop the clean cache: zeroing then works on folios it reads
			xfs_io -c "fadvise -d 0 0" "$f" ;;
		esac
	done
	verify_cached_dropped_remounted "$f" "$ref"
	check_scratch_xfs
done
zeroes=$(($(knob zero_ranges) - zero_before))
truncs=$(($(knob truncate_pages) - trunc_before))
[ "$zeroes" -gt 0 ] || fail "zero_ranges did not move: zeroing did not go through iomap_rs"
[ "$truncs" -gt 0 ] || fail "truncate_pages did not move: truncation did not go through iomap_rs"
echo "$zeroes zero ranges and $truncs truncated blocks through iomap_rs"
