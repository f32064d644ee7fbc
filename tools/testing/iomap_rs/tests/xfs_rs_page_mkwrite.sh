#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Write faults through iomap_rs on XFS (iomap_rs_page_mkwrite()): mmap
# writes, with unaligned starts and lengths, into a hole, an unwritten
# extent, dirty delalloc and written blocks of one file, with 4 KiB and 1 KiB
# blocks; the file must match a reference written with pwrite, cached, after
# dropping caches and after a remount. Then mmap writers race fpunch and
# truncate (down and up) on another file: no kernel splat, and xfs_repair -n
# clean afterwards. The page_mkwrites counter must have moved.

. "$(dirname "$0")/common.sh"

use_write_path rust
before=$(knob page_mkwrites)
ref_dir
mib=$((1 << 20))

for bsize in 4096 1024; do
	mkfs_scratch_xfs -b size=$bsize
	f=$SCRATCH_MNT/mkwrite-$bsize
	ref=$REF_DIR/mkwrite-$bsize
	# [0, 1M) hole, [1M, 2M) unwritten, [2M, 3M) dirty delalloc, [3M, 4M) written.
	xfs_io -f -c "pwrite -q -S 0x33 $((3 * mib)) $mib" -c fsync \
		-c "falloc -k $mib $mib" -c "pwrite -q -S 0x22 $((2 * mib)) $mib" "$f" ||
		fail "laying out $f failed"
	xfs_io -f -c "truncate $((4 * mib))" -c "pwrite -q -S 0x33 $((3 * mib)) $mib" \
		-c "pwrite -q -S 0x22 $((2 * mib)) $mib" "$ref" >/dev/null
	args=()
	for region in 0 1 2 3; do
		for k in 1 2 3; do
			off=$((region * mib + k * 70001)) len=$((k * 3001))
			args+=(-c "mwrite -S $((0x40 + region * 4 + k)) $off $len")
			xfs_io -c "pwrite -q -S $((0x40 + region * 4 + k)) $off $len" "$ref" \
				>/dev/null
		done
	done
	xfs_io -c "mmap -rw 0 $((4 * mib))" "${args[@]}" -c "msync -s 0 $((4 * mib))" "$f" ||
		fail "mmap writes into $f failed"
	verify_cached_dropped_remounted "$f" "$ref"
	check_scratch_xfs
done

# Racing: mmap writers against hole punching and truncation.
mkfs_scratch_xfs
f=$SCRATCH_MNT/race
xfs_io -f -c "truncate $((4 * mib))" "$f" || fail "creating $f failed"
(
	for ((i = 0; i < 40; i++)); do
		# A writer dies of SIGBUS when a truncate races it past EOF: expected.
		xfs_io -c "mmap -rw 0 $((4 * mib))" \
			-c "mwrite -S $((i % 200 + 1)) $(((i * 104729) % (3 * mib))) 200000" \
			-c "mwrite -S $((i % 200 + 2)) $(((i * 7919) % mib)) 5000" "$f" \
			2>/dev/null || true
	done
) &
writer=$!
for ((i = 0; i < 40; i++)); do
	xfs_io -c "fpunch $(((i * 65537) % (3 * mib))) $((i * 1000 + 1))" "$f" ||
		fail "fpunch failed"
	if ((i % 5 == 0)); then
		xfs_io -c "truncate $(((i * 12345) % mib + 1))" -c "truncate $((4 * mib))" "$f" ||
			fail "truncate failed"
	fi
done
wait "$writer"
xfs_io -c fsync "$f" || fail "fsync after the race failed"
check_scratch_xfs
n=$(($(knob page_mkwrites) - before))
[ "$n" -gt 0 ] || fail "page_mkwrites did not move: write faults did not go through iomap_rs"
echo "$n write faults through iomap_rs"
