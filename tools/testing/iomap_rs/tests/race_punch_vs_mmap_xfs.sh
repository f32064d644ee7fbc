#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The delalloc release against an mmap write (the seed's stable backport,
# generic/346) on XFS, forced at the exact interleaving: a write of 512 KiB
# from a buffer with an unmapped page at 256 KiB reserves delalloc over
# [0, 512 KiB) and parks at the write_validate pause point on its first
# folio; a page at 384 KiB is written through a shared mapping (its fault
# finds the write's delalloc and dirties it); the write resumes, ends short
# at 256 KiB and releases the unused delalloc (race punch-mmap). With the
# release as before the fix (release_punch_all: drop the cache over the
# unused range and punch it all) the mmap-written bytes are lost in every
# iteration; with the fix they survive writeback and eviction in every
# iteration, and no delalloc is left after fsync.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs
race_fix_off_on "punch vs mmap" release_punch_all "$RACE_ITERATIONS" \
	punch-mmap "$SCRATCH_MNT/punch"
check_scratch_xfs
