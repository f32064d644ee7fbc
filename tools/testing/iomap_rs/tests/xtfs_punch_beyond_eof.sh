#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The delalloc release at EOF on xtfs with 1 KiB blocks (mmap_punch eof): the
# last page of a 9216-byte file is dirtied through a shared mapping, which
# marks every block of its folio dirty, those beyond EOF too; a write at EOF
# from an unmapped buffer fails. The delayed allocation it reserved beyond
# EOF lies under dirty blocks but is never written back: it must be given
# back. Nothing left reserved (statfs after sync against a fresh mount);
# fsck.xtfs -n clean. (The mmap page inside the range is race_punch_vs_mmap_xtfs.)
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -b 1024 -s 256m
rc=0
"$IOMAP_RS_BIN/mmap_punch" eof "$SCRATCH_MNT/eof" || rc=$?
[ "$rc" = 0 ] || fail "mmap_punch eof exited $rc (3: wrong content or leaked delalloc)"
xtfs_expect_no_reservations "after the failed write at EOF"
check_xtfs "$SCRATCH_DEV"
echo "the failed write at EOF gave back its reservation beyond EOF; fsck clean"
