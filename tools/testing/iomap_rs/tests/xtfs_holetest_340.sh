#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# generic/340's workload on xtfs: 1, 16 and 256 threads write the pages of a
# hole, a preallocated range and a truncated-up range of one file through a
# shared mapping at once, each fault mapping delalloc or an unwritten block
# next to its neighbours' (progs/holetest.c). Every page is checked cached
# and after writeback and eviction; nothing is left reserved (statfs after
# sync against a fresh mount); fsck.xtfs -n clean.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -s 256m
holetest_runs "1" "16" "256"
xtfs_expect_no_reservations "after the threads"
check_xtfs "$SCRATCH_DEV"
