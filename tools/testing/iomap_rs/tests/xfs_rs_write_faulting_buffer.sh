#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A write from a user buffer whose second page is unmapped is short: the
# first page is written, nothing else changes, no stale or zeroed data shows
# up. Over written data and beyond EOF, with the same result as C iomap.

. "$(dirname "$0")/common.sh"

mkfs_scratch_xfs
faulting_buffer_both_paths
check_scratch_xfs
