#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The seed's stale write mapping (d7b64041, xfs/559) on xtfs (the extent tree
# generation as the cookie), forced at the exact interleaving: a write of B
# into an unwritten extent parks at the write_validate pause point on its
# first folio, holding the mapping of the whole extent; the last page (A,
# partly overwritten by the write) is written back, its extent converted, and
# evicted; the write resumes (race stale-map). With the revalidation skipped
# (skip_validation) the write re-creates the last page as unwritten and zeroes
# A on disk in every iteration; with it, in none, and every iteration finds
# the mapping stale. Order-0 folios (the write walks cached pages) and large
# folios (the write creates them).

. "$(dirname "$0")/common.sh"

require_xtfs
use_write_path rust
mkfs_scratch_xtfs -s 1g
race_stale_map_both_folio_sizes
check_xtfs "$SCRATCH_DEV"
