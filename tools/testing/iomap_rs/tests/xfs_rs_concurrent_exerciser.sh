#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtfs_concurrent_exerciser on XFS with its buffered writes through
# iomap_rs: four processes on four shared files at once, 50,000 operations
# (writes, mmap writes, fallocate modes, truncate, fsync, writeback and
# eviction of ranges, renames), every read checked against what the
# operations running with it may have left; then the files match after
# dropping the caches and after a remount, and xfs_repair -n is clean.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 220

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs
concurrent_exerciser_run check_scratch_xfs
check_scratch_xfs
echo "concurrent operations matched the model, cached, dropped and remounted; xfs_repair clean"
