#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtfs_exerciser_4k's random operation sequence with 1 KiB blocks (four
# blocks per page: partial-page writes, zeroing and conversions), rounds 6
# to 10 (seed printed): 50,000 operations checked against the model,
# dropped, remounted and fsck'ed after each round.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 310

. "$(dirname "$0")/common.sh"
require_xtfs
exerciser_rounds 1024 6 7 8 9 10
