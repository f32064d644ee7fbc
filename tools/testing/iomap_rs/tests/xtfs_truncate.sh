#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Truncation on xtfs (1 KiB and 4 KiB blocks): down to a block boundary, to
# the middle of a block (the rest of the block reads as zeroes, also after
# extending again), to zero, and up past EOF (a hole that reads as zeroes),
# on cached dirty data, written-back data and after the caches were dropped;
# then writes after the truncations. Content matches a reference after
# dropping the caches and after a remount; the space of the truncated blocks
# comes back; fsck.xtfs -n is clean.

. "$(dirname "$0")/common.sh"
require_xtfs

ref_dir
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
	drop_caches
	expect_same "after dropping caches" "$f" "$r"
	unmount_scratch
	mount_xtfs "$SCRATCH_DEV"
	expect_same "after remount" "$f" "$r"
	truncate -s 0 "$f"
	sync
	expect_eq "free blocks after truncating to 0 ($bs-byte blocks)" "$free_empty" "$(xtfs_statfs_free)"
	check_xtfs "$SCRATCH_DEV"
done
echo "truncation down (aligned, mid-block, to 0) and up on dirty, written and uncached data matches the reference and persists; space returned; fsck clean"
