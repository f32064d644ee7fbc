#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Zeroing through iomap_rs on XFS (iomap_rs_zero_range() and
# iomap_rs_truncate_page()): a random sequence of writes (some beyond EOF,
# which zero the gap), truncates down and up to unaligned sizes (which zero
# the tail of the last block), fzero and fpunch with partial blocks, and
# preallocation, over holes, unwritten extents, written extents (after an
# fsync) and dirty delalloc, with 4 KiB and 1 KiB blocks, the file closed and
# reopened now and then. A reference copy on
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

# The operations are generated first, with the size tracked here, then run as
# one xfs_io per file: a process per operation costs more than the operation
# under TCG. FILE_CMDS go to the file, REF_CMDS to its reference on tmpfs.
both() { file_cmds+=(-c "$*"); ref_cmds+=(-c "$*"); }

# zeroed OP OFF LEN: OP (fzero or fpunch) on the file, zeroes on the reference.
zeroed() {
	file_cmds+=(-c "$1 $2 $3")
	ref_cmds+=(-c "pwrite -q -S 0 $2 $3")
}

# rnd N: a random number in [0, N) in $r (no subshell).
rnd() { r=$(((RANDOM << 15 | RANDOM) % $1)); }

# run_cmds FILE CMDS...: one xfs_io; anything it prints is a failed operation.
run_cmds() {
	local f=$1 err
	shift
	err=$(xfs_io -f "$@" "$f" 2>&1) || fail "xfs_io on $f exited with an error: $err"
	[ -z "$err" ] || fail "an operation on $f failed: $(echo "$err" | head -n 5)"
}

for bsize in 4096 1024; do
	mkfs_scratch_xfs -b size=$bsize
	f=$SCRATCH_MNT/zero-$bsize
	ref=$REF_DIR/zero-$bsize
	max=$((4 << 20))
	file_cmds=() ref_cmds=()
	size=$((max / 2))
	both "truncate $size"
	for ((i = 0; i < 250; i++)); do
		rnd 11
		case $r in
		0 | 1) # a write anywhere, maybe beyond EOF (zeroing the gap)
			rnd $max; off=$r; rnd 20000; len=$((1 + r)); rnd 250
			both "pwrite -q -S $((1 + r)) $off $len"
			size=$((off + len > size ? off + len : size)) ;;
		2) # a write just beyond EOF, unaligned
			rnd 9000; off=$((size + r)); rnd 5000; len=$((1 + r)); rnd 250
			both "pwrite -q -S $((1 + r)) $off $len"
			size=$((off + len)) ;;
		3) # truncate down or up, unaligned
			rnd $max; size=$r
			both "truncate $size" ;;
		4 | 5 | 6) # zero (4, 5) or punch (6) a range within EOF, partial
			# blocks at both ends
			[ "$size" -gt 2 ] || continue
			op=fzero
			[ "$r" != 6 ] || op=fpunch
			rnd $((size - 1)); off=$r; rnd $((size - off)); len=$((1 + r))
			zeroed $op "$off" "$len" ;;
		7) # preallocate unwritten extents, size unchanged
			rnd $max; off=$r; rnd 65536
			file_cmds+=(-c "falloc -k $off $((1 + r))") ;;
		8) # write back: delalloc becomes written
			file_cmds+=(-c fsync) ;;
		9) # drop the clean cache: zeroing then works on folios it reads
			file_cmds+=(-c "fadvise -d 0 0") ;;
		10) # close and reopen: the last close trims post-EOF preallocation
			file_cmds+=(-c close -c "open $f") ;;
		esac
	done
	run_cmds "$f" "${file_cmds[@]}"
	run_cmds "$ref" "${ref_cmds[@]}"
	expect_eq "size of the reference (as tracked)" "$size" "$(stat -c %s "$ref")"
	verify_cached_dropped_remounted "$f" "$ref"
	check_scratch_xfs
done
zeroes=$(($(knob zero_ranges) - zero_before))
truncs=$(($(knob truncate_pages) - trunc_before))
[ "$zeroes" -gt 0 ] || fail "zero_ranges did not move: zeroing did not go through iomap_rs"
[ "$truncs" -gt 0 ] || fail "truncate_pages did not move: truncation did not go through iomap_rs"
echo "$zeroes zero ranges and $truncs truncated blocks through iomap_rs"
