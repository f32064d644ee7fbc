#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# generic/344's workload on xtfs: as xtfs_holetest_340, with every page read
# through the mapping first, so that the faults are write faults on cached,
# mapped pages; 16 and 256 threads, alone and with half the pages written
# with pwrite() (progs/holetest.c -r, -r -w). Every page is checked cached
# and after writeback and eviction; nothing is left reserved; fsck.xtfs -n
# clean.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -s 256m
holetest_runs "-r 16" "-r 256" "-r -w 16" "-r -w 256"
xtfs_expect_no_reservations "after the threads"
check_xtfs "$SCRATCH_DEV"
