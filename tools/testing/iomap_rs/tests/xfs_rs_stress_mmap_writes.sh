#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stress: the generic/346 workload in our own code on XFS (stress_mmap_writes
# in common.sh): mmap writes, pwrites and faulting pwrites over shared pages
# at 1, 16 and 256 threads with writeback and eviction racing and the delay
# knob making writes go stale. Every byte is checked, after dropping the
# caches and a remount too; no delalloc left; xfs_repair -n clean. The exact
# interleaving of the release and an mmap write is race_punch_vs_mmap_xfs.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs
stress_mmap_writes
check_scratch_xfs
