#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# generic/346's workload on xtfs: 1, 16 and 256 threads write half their
# pages through a shared mapping and half with pwrite(), over a hole, a
# preallocated range and a truncated-up range of one file, buffered writes,
# their delalloc and its release racing the faults (progs/holetest.c -w).
# Every page is checked cached and after writeback and eviction; nothing is
# left reserved; fsck.xtfs -n clean.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -s 256m
holetest_runs "-w 1" "-w 16" "-w 256"
xtfs_expect_no_reservations "after the threads"
check_xtfs "$SCRATCH_DEV"
