#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The xfs/559 scenario on xtfs, whose writes go through kernel::iomap with the
# extent tree's generation as the validity cookie: a file preallocated
# unwritten (fallocate), its last page dirty, a large write across it with the
# library's validate delay knob on, racing writeback of the last page (the
# completion converts its extent, bumping the generation) and its eviction.
# The write must detect the stale mapping (the iomap_rs_stale trace event and
# the stale_detections counter), remap, and leave the expected content, which
# is checked again after a remount. Both with large folios and with order-0
# folios; fsck.xtfs -n clean.

. "$(dirname "$0")/common.sh"
require_xtfs

fault_injection_off
mkfs_scratch_xtfs -s 256m
stale_race_remaps
check_xtfs "$SCRATCH_DEV"
echo "the stale mapping was detected and remapped with large and order-0 folios; content right after remount; fsck clean"
