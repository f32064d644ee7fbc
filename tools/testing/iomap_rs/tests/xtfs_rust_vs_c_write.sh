#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The same workload through xtfs's two write paths, switched at run time by
# the library's `enabled` knob: kernel::iomap (Rust) and C
# iomap_file_buffered_write() with the same iomap operations (bridged, with
# their validity check as folio_ops->iomap_valid). Random aligned and
# unaligned writes from 1 byte to 3 MiB, over sparse files and beyond EOF,
# plus writes into preallocated ranges, with 1 KiB and 4 KiB blocks. The
# files written through each path are identical to each other and to the
# reference, cached, after dropping the caches and after a remount; the
# library's write counter moves for the Rust run only; space is all given
# back on removal; fsck.xtfs -n is clean.

. "$(dirname "$0")/common.sh"
require_xtfs

seed=${IOMAP_RS_SEED:-$RANDOM}
echo "seed $seed"
for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -N 256 -s 512m
	xtfs_dir_with_room "$SCRATCH_MNT/files" 32
	free_empty=$(xtfs_statfs_free)
	ref_dir
	for path in c rust; do
		use_write_path $path
		writes_start
		randwrite_cases "files/$path" $((16 << 20)) "$seed" <<<"$BASIC_WRITE_CASES"
		# Writes into unwritten extents: a preallocated file, then
		# unaligned writes across it and past its end.
		f=$SCRATCH_MNT/files/$path-prealloc
		xfs_io -f -c "falloc 0 1m" -c "pwrite -S 0x61 1000 70000" \
			-c "pwrite -S 0x62 500000 600000" \
			-c "pwrite -S 0x63 $((1 << 20)) 3" "$f" >/dev/null
		n=$(($(knob buffered_writes) - WRITES_BEFORE))
		case $path in
		rust) [ "$n" -gt 0 ] || fail "the Rust run did not write through kernel::iomap" ;;
		c) expect_eq "writes through kernel::iomap in the C run" 0 "$n" ;;
		esac
	done
	use_write_path rust
	xfs_io -f -c "falloc 0 1m" -c "pwrite -S 0x61 1000 70000" \
		-c "pwrite -S 0x62 500000 600000" \
		-c "pwrite -S 0x63 $((1 << 20)) 3" "$REF_DIR/prealloc" >/dev/null
	check_both() {
		local f name
		for f in "$SCRATCH_MNT"/files/rust-*; do
			name=${f##*/rust-}
			samefile "$f" "$SCRATCH_MNT/files/c-$name" >/dev/null ||
				fail "$1: the Rust and the C path wrote $name differently" \
					"($bs-byte blocks)"
			case $name in
			prealloc) expect_same "$1 ($bs-byte blocks)" "$f" "$REF_DIR/prealloc" ;;
			*) expect_same "$1 ($bs-byte blocks)" "$f" "$REF_DIR/rust-$name" ;;
			esac
		done
	}
	check_both cached
	drop_caches
	check_both "after dropping caches"
	unmount_scratch
	mount_xtfs "$SCRATCH_DEV"
	check_both "after remount"
	rm -r "$SCRATCH_MNT"/files/*
	sync
	expect_eq "free blocks after removing the files ($bs-byte blocks)" "$free_empty" \
		"$(xtfs_statfs_free)"
	check_xtfs "$SCRATCH_DEV"
done
echo "the Rust and the C write path give identical files" \
	"(random writes, preallocated ranges, 1 KiB and 4 KiB blocks), persisted; fsck clean"
