#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Buffered writes through iomap_rs on XFS (4 KiB blocks): random aligned and
# unaligned writes of many sizes, from 1 byte to 3 MiB, over a sparse file
# and beyond its EOF; the file must match a reference copy while cached, after
# the page cache is dropped and after a remount, and xfs_repair must be clean.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs
ref_dir
writes_start
seed=${IOMAP_RS_SEED:-$RANDOM}
echo "seed $seed"
randwrite_cases basic $((16 << 20)) "$seed" <<<"$BASIC_WRITE_CASES"
verify_files basic
expect_rust_writes
check_scratch_xfs
