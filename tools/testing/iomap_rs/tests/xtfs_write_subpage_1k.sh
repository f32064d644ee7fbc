#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtfs_write_basic with 1 KiB blocks: four blocks per page, so writes start
# and end inside folios at block granularity, partial blocks are zeroed or
# read around the write, and writeback and unwritten conversion work on block
# ranges smaller than a folio.

XTFS_BLOCK_SIZE=1024 exec "$(dirname "$0")/xtfs_write_basic.sh"
