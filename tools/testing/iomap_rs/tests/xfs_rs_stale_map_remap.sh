#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The xfs/559 scenario through iomap_rs: a file preallocated unwritten, its
# last page dirty, a large write across it with the validate delay knob on,
# racing writeback of the last page (unwritten -> written) and its eviction.
# The write must detect the stale mapping (the iomap_rs_stale trace event and
# the stale_detections counter), remap, and leave the expected content, which
# is checked again after a remount. Both with large folios and with order-0
# folios.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs
stale_race_remaps
check_scratch_xfs
