#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stress: the generic/346 workload on xtfs (stress_mmap_writes in common.sh),
# where every writeback allocation and completion bumps the extent
# generation: 1, 16 and 256 threads of mmap writes and pwrites over shared
# pages with writeback, eviction and the delay knob racing. Every byte is
# checked, after dropping the caches and a remount too; nothing left reserved
# (statfs against a fresh mount); fsck.xtfs -n clean. The exact interleaving
# of the release and an mmap write is race_punch_vs_mmap_xtfs.

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -s 512m
stress_mmap_writes
xtfs_expect_no_reservations "after the races"
check_xtfs "$SCRATCH_DEV"
