#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Proof that xfs_rs_stale_map_remap can fail: the same race with the
# revalidation switched off (skip_validation) must reproduce the corruption,
# the last page's on-disk data zeroed by a write that trusted its stale
# mapping. Runs each variant several times and reports the hit rate; fails if
# a variant never hits, since the race test would then prove nothing.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs
stale_race_corrupts "${IOMAP_RS_RACE_RUNS:-5}"
check_scratch_xfs
