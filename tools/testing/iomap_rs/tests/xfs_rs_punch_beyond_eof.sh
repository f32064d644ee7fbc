#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The case of the comment in iomap_write_delalloc_release(): a write fault
# dirties the page across EOF, blocks beyond EOF included (1 KiB blocks), then
# a write from EOF into that cached, dirty range fails (mmap_punch eof). The
# delalloc it reserved beyond EOF must be punched although its blocks are
# dirty in the cache: writeback never writes beyond EOF. Checked with FIEMAP
# before and after writeback; the content and xfs_repair -n must be clean.

. "$(dirname "$0")/common.sh"

use_write_path rust
mkfs_scratch_xfs -b size=1024
ref_dir
f=$SCRATCH_MNT/eof
writes_start
rc=0
"$IOMAP_RS_BIN/mmap_punch" eof "$f" || rc=$?
[ "$rc" = 0 ] || fail "mmap_punch eof exited $rc" \
	"(3: delalloc left beyond EOF, 2: the write did not fail as planned)"
expect_rust_writes
expect_eq "file size" 9216 "$(stat -c %s "$f")"
xfs_io -f -c "pwrite -q -S 0x11 0 8192" -c "pwrite -q -S 0x22 8192 1024" "$REF_DIR/eof" >/dev/null
verify_cached_dropped_remounted "$f" "$REF_DIR/eof"
check_scratch_xfs
