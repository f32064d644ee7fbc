#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Truncation on xtfs (1 KiB and 4 KiB blocks): down to a block boundary, to
# the middle of a block (the rest of the block reads as zeroes, also after
# extending again), to zero, and up past EOF (a hole that reads as zeroes),
# on cached dirty data, written-back data and after the caches were dropped;
# then writes after the truncations. On the device, the block at a mid-block
# EOF is zero past it; a write beyond EOF zeroes the gap, also over bytes a
# shared mapping put past EOF. Content matches a reference after dropping the
# caches and after a remount; the space of the truncated blocks comes back;
# fsck.xtfs -n is clean.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

ref_dir

# eof_block_tail FILE BLOCK_SIZE: the bytes past EOF of the block holding EOF,
# read from the device (O_DIRECT) at the address FIEMAP reports.
eof_block_tail() {
	local size blk sector
	size=$(stat -c %s "$1")
	blk=$((size / $2 * $2))
	sector=$(device_sector "$1" "$blk")
	[ -n "$sector" ] || fail "no extent at byte $blk of $1: $(xfs_io -c fiemap "$1")"
	dd if="$SCRATCH_DEV" bs=512 skip="$sector" count=$(($2 / 512)) iflag=direct status=none |
		tail -c +$((size % $2 + 1))
}

for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -N 64 -s 128m
	f=$SCRATCH_MNT/file r=$REF_DIR/file
	: >"$f"
	free_empty=$(xtfs_statfs_free)
	head -c $((3 << 20)) /dev/urandom >"$r"
	cp "$r" "$f"
	# Dirty in the cache, then written back, then not cached at all.
	for state in dirty written dropped; do
		case $state in
		written) sync ;;
		dropped) drop_caches ;;
		esac
		size=$(stat -c %s "$r")
		for new in $((size - bs)) $((size - bs - 100)) $((size / 2 + 7)); do
			truncate -s "$new" "$f" && truncate -s "$new" "$r"
			expect_same "truncated to $new ($state, $bs-byte blocks)" "$f" "$r"
		done
		# Up again: the bytes past the old EOF read as zeroes.
		truncate -s $((size + 5000)) "$f" && truncate -s $((size + 5000)) "$r"
		expect_same "extended to $((size + 5000)) ($state)" "$f" "$r"
		# Writes over the zeroed tail and past it.
		dd if=/dev/urandom of="$REF_DIR/chunk" bs=3000 count=1 status=none
		dd if="$REF_DIR/chunk" of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
		dd if="$REF_DIR/chunk" of="$r" bs=1 seek=$((size / 2)) conv=notrunc status=none
		expect_same "written after truncations ($state)" "$f" "$r"
	done
	# On disk, the block at a mid-block EOF is zero past it once written back
	# (truncation zeroes it through the library), whatever extends the file
	# later.
	eof_file=$SCRATCH_MNT/eof
	head -c $((3 * bs)) /dev/urandom >"$eof_file"
	sync
	truncate -s $((bs + 100)) "$eof_file"
	sync
	expect_eq "device bytes past EOF in its block ($bs-byte blocks)" 0 \
		"$(eof_block_tail "$eof_file" "$bs" | tr -d '\0' | wc -c)"
	# A write beyond EOF zeroes the gap: bytes written past EOF through a
	# shared mapping of the EOF page must not show up in it.
	gap_file=$SCRATCH_MNT/gap
	head -c 1500 /dev/urandom >"$REF_DIR/gap"
	cp "$REF_DIR/gap" "$gap_file"
	# (No msync: writeback would zero the bytes past EOF in the page.)
	xfs_io -c "mmap -rw 0 4096" -c "mwrite -S 0xee 1500 100" "$gap_file" >/dev/null ||
		fail "mapped write past EOF failed"
	xfs_io -c "pwrite -S 0x11 3500 10" "$gap_file" "$REF_DIR/gap" >/dev/null
	expect_same "the gap a write past EOF leaves ($bs-byte blocks)" "$gap_file" "$REF_DIR/gap"
	drop_caches
	expect_same "after dropping caches" "$f" "$r"
	expect_same "the gap after dropping caches" "$gap_file" "$REF_DIR/gap"
	unmount_scratch
	mount_xtfs "$SCRATCH_DEV"
	expect_same "after remount" "$f" "$r"
	rm "$eof_file" "$gap_file"
	truncate -s 0 "$f"
	sync
	expect_eq "free blocks after truncating to 0 ($bs-byte blocks)" "$free_empty" \
		"$(xtfs_statfs_free)"
	check_xtfs "$SCRATCH_DEV"
done
echo "truncation down (aligned, mid-block, to 0) and up on dirty, written and uncached data" \
	"matches the reference and persists; space returned; fsck clean"
