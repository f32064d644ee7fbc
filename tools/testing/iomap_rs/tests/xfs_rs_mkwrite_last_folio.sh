#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A write fault through iomap_rs (iomap_rs_page_mkwrite()) on the last page
# a file can map, on XFS with 16 KiB blocks, in a file whose size is the
# largest there is (LLONG_MAX): the page's folio, a block at least, ends at
# 2^63, one past the largest loff_t. The bytes of the folio within EOF must
# be computed without overflowing (the Rust folio_mkwrite_check_truncate()
# once added the folio's start and size: a panic, with the kernel's Rust
# overflow checks). The written bytes must read back, cached and after a
# remount, and xfs_repair -n must be clean.

. "$(dirname "$0")/common.sh"

use_write_path rust
before=$(knob page_mkwrites)
mkfs_scratch_xfs -b size=16384
f=$SCRATCH_MNT/last
max=9223372036854775807
# mmap() maps no byte at or past the largest size: the last whole page it
# maps ends 4 KiB before it.
off=$((max - 8191))
xfs_io -f -c "truncate $max" -c "mmap -rw $off 4096" -c "mwrite -S 0x5a $off 4096" \
	-c "msync -s $off 4096" "$f" || fail "the write fault at $off failed"

# read_back: the written page's distinct bytes, as hex.
read_back() {
	dd if="$f" iflag=skip_bytes skip="$off" bs=4096 count=1 status=none |
		od -An -v -tx1 | tr -s ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' '
}
expect_eq "the page, cached" "5a " "$(read_back)"
unmount_scratch
mount_scratch
expect_eq "the page, after a remount" "5a " "$(read_back)"
expect_eq "the size" "$max" "$(stat -c %s "$f")"
check_scratch_xfs
n=$(($(knob page_mkwrites) - before))
[ "$n" -gt 0 ] || fail "page_mkwrites did not move: the fault did not go through iomap_rs"
