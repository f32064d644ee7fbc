#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Proof that xtfs_stale_map_remap can fail: the same race on xtfs with the
# library's revalidation switched off (skip_validation) must reproduce the
# corruption, the last page's on-disk data zeroed by a write that trusted its
# stale mapping of an unwritten extent. Runs each variant several times and
# reports the hit rate; fails if a variant never hits. The filesystem itself
# stays consistent (fsck.xtfs -n clean): the damage is to the file's data.

. "$(dirname "$0")/common.sh"
require_xtfs

fault_injection_off
mkfs_scratch_xtfs -s 256m
stale_race_corrupts "${IOMAP_RS_RACE_RUNS:-5}"
check_xtfs "$SCRATCH_DEV"
echo "the race corrupted the file without validation in every variant"
