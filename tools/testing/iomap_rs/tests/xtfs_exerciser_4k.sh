#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A random operation sequence on xtfs (progs/exerciser.c): 100,000 writes,
# reads, mmap writes, O_DIRECT writes and reads, truncations, hole punches,
# zero ranges, preallocations and fsyncs over three files, every read checked
# against a model on tmpfs. In ten rounds of 10,000 operations, five with
# 4 KiB blocks and five with 1 KiB blocks; after each round the files match
# their models after dropping the caches and after a remount, fsck.xtfs -n is
# clean, and no reservation is left over. The seed is printed
# (IOMAP_RS_SEED replays it).
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

seed=${IOMAP_RS_SEED:-$RANDOM}
ops=${XTFS_EXERCISER_OPS:-10000}
echo "seed $seed, $ops operations per round"
use_write_path rust
ref_dir
compare_all() {
	local i
	for i in 0 1 2; do
		expect_same "$1 (round $round, seed $seed)" "$SCRATCH_MNT/ex/f$i" "$REF_DIR/f$i"
	done
}
for round in 1 2 3 4 5 6 7 8 9 10; do
	if [ "$round" = 1 ] || [ "$round" = 6 ]; then
		bs=$((round == 1 ? 4096 : 1024))
		mkfs_scratch_xtfs -b "$bs" -N 64 -s 256m
		mkdir "$SCRATCH_MNT/ex"
		rm -f "$REF_DIR"/f*
	fi
	rc=0
	"$IOMAP_RS_BIN/exerciser" "$SCRATCH_MNT/ex" "$REF_DIR" $((seed * 100 + round)) "$ops" || rc=$?
	[ "$rc" = 0 ] || fail "round $round ($bs-byte blocks): exerciser exited $rc (seed $((seed * 100 + round)))"
	drop_caches
	compare_all "after dropping caches"
	xtfs_expect_no_reservations "round $round"
	compare_all "after remount"
	check_xtfs "$SCRATCH_DEV"
	mount_xtfs "$SCRATCH_DEV"
done
unmount_scratch
echo "100,000 random operations in ten rounds matched the model, cached, dropped and remounted; nothing left reserved; fsck clean after every round"
