#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unsharing through iomap_rs on XFS (iomap_rs_file_unshare()): a copy of a
# file shares its blocks (reflink); funshare over part of the copy, with
# unaligned ends and some of its cache dropped or dirty, must give it blocks
# of its own there (no shared extent left in that range, per FIEMAP), keep
# its content, and leave the original intact, also after writing into the
# unshared range. Checked cached, after dropping caches and after a remount,
# and xfs_repair must be clean. The unshares counter must have moved.

. "$(dirname "$0")/common.sh"

use_write_path rust
before=$(knob unshares)
mkfs_scratch_xfs -m reflink=1
ref_dir
orig=$SCRATCH_MNT/orig
copy=$SCRATCH_MNT/copy
size=$((3 << 20))
xfs_io -f -c "pwrite -q -S 0x5a 0 $size" -c "pwrite -q -S 0x11 100000 5000" -c fsync "$orig" ||
	fail "writing $orig failed"
cp "$orig" "$REF_DIR/orig"
xfs_io -f -c "reflink $orig" "$copy" >/dev/null || fail "reflink $orig $copy failed"
cp "$orig" "$REF_DIR/copy"
# Part of the copy cached and dirty, part cached clean, part not cached.
xfs_io -c "pwrite -q -S 0x22 700000 3000" "$copy" || fail "write into $copy failed"
xfs_io -c "pwrite -q -S 0x22 700000 3000" "$REF_DIR/copy" >/dev/null
xfs_io -c "pread -q 0 1m" "$copy" || fail "read of $copy failed"

start=$((65536 + 1000)) len=$((2 << 20))

# The extents of the copy overlapping [start, start + len) that FIEMAP reports
# shared (0x2000). Lines look like "   0: [0..127]:   96..223   128 0x2000",
# in 512-byte units.
shared_in_range() {
	local s=$((start / 512)) e=$(((start + len - 1) / 512)) ext range flags lo hi
	while read -r ext range _ _ flags; do
		[[ $ext =~ ^[0-9]+:$ && $range =~ ^\[([0-9]+)\.\.([0-9]+)\]:$ ]] || continue
		lo=${BASH_REMATCH[1]} hi=${BASH_REMATCH[2]}
		if [ "$hi" -ge "$s" ] && [ "$lo" -le "$e" ] && (((${flags:-0} & 0x2000) != 0)); then
			echo -n "[$lo..$hi] "
		fi
	done < <(xfs_io -c "fiemap -v" "$copy")
}
# The check below must be able to fail: before funshare the range is shared.
[ -n "$(shared_in_range)" ] ||
	fail "the reflinked copy reports no shared extent in the range before funshare"
xfs_io -c "funshare $start $len" "$copy" || fail "funshare $start $len failed"
xfs_io -c fsync "$copy"

[ -z "$(shared_in_range)" ] ||
	fail "extents still shared within the unshared range: $(shared_in_range)"

# A write into the unshared range changes the copy only.
xfs_io -c "pwrite -q -S 0x33 $((start + 4096)) 8192" "$copy" || fail "write after funshare failed"
xfs_io -c "pwrite -q -S 0x33 $((start + 4096)) 8192" "$REF_DIR/copy" >/dev/null
verify_cached_dropped_remounted "$copy" "$REF_DIR/copy"
expect_same "original after unsharing its copy" "$orig" "$REF_DIR/orig"
n=$(($(knob unshares) - before))
[ "$n" -gt 0 ] || fail "unshares did not move: funshare did not go through iomap_rs"
echo "$n unshare calls through iomap_rs"
check_scratch_xfs
