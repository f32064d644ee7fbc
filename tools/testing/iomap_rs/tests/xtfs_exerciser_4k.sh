#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A random operation sequence on xtfs with 4 KiB blocks (progs/exerciser.c):
# 50,000 writes, reads, mmap writes, O_DIRECT writes and reads, truncations,
# hole punches, zero ranges, preallocations and fsyncs over three files,
# every read checked against a model on tmpfs, in five rounds; after each
# the files match their models after dropping the caches and after a
# remount, fsck.xtfs -n is clean, and no reservation is left over. The seed
# is printed (IOMAP_RS_SEED replays it). xtfs_exerciser_1k runs rounds 6 to
# 10 with 1 KiB blocks: two tests, so that the lanes share them.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 300

. "$(dirname "$0")/common.sh"
require_xtfs
exerciser_rounds 4096 1 2 3 4 5
