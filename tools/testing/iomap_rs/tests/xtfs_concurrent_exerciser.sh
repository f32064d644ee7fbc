#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Four processes on four shared xtfs files at once (progs/concurrent_exerciser.c):
# 50,000 writes, mmap writes, zero ranges, punches, truncations,
# preallocations, reads, fsyncs, writebacks with eviction of ranges (page
# cache dropped and reclaimed behind the writers' backs) and renames between
# two directories, every read checked against what the operations running
# with it may have left; after each round of 128 every file is checked
# whole, and every 16th round again after dropping the caches. Then the
# files match their expected contents after dropping the caches and after a
# remount, no reservation is left and fsck.xtfs -n is clean.
# xfs_rs_concurrent_exerciser does the same on XFS through iomap_rs; the two
# make the 100,000 operations CI runs. `make soak` runs 10^6 of each under
# memory pressure on the debug configuration.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 230

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -b 4096 -N 64 -s 256m
xtfs_check_between() {
	xtfs_expect_no_reservations "after the run"
	check_xtfs "$SCRATCH_DEV"
}
concurrent_exerciser_run xtfs_check_between
check_xtfs "$SCRATCH_DEV"
echo "concurrent operations matched the model, cached, dropped and remounted;" \
	"nothing left reserved; fsck clean"
