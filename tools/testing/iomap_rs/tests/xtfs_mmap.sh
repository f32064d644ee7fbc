#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Writes through shared mappings of xtfs files (1 KiB and 4 KiB blocks): into
# holes (page_mkwrite reserves delayed allocation through kernel::iomap), into
# data written back before, into blocks written by write(2) and still dirty,
# across EOF's page; then msync, truncation of a mapped file, and more write
# faults after the caches were dropped. The write faults must have gone
# through the library (page_mkwrites counter); content matches a reference
# cached, after dropping the caches and after a remount; fsck.xtfs -n clean.

. "$(dirname "$0")/common.sh"
require_xtfs

ref_dir
before=$(knob page_mkwrites)
for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -N 64 -s 128m
	f=$SCRATCH_MNT/mapped r=$REF_DIR/mapped
	rm -f "$r"
	truncate -s $((4 << 20)) "$f" "$r"
	mw() { # mw PATTERN OFFSET LENGTH: mapped write into $f, pwrite into $r
		local size
		size=$(stat -c %s "$f")
		xfs_io -c "mmap -rw 0 $size" -c "mwrite -S $1 $2 $3" -c "msync -s 0 $size" "$f" \
			>"$RESULT_DIR/xfs_io.log" 2>&1 ||
			fail "mapped write of $3 bytes at $2 failed:" \
				"$(cat "$RESULT_DIR/xfs_io.log")"
		xfs_io -c "pwrite -S $1 $2 $3" "$r" >/dev/null
	}
	mw 0x11 0 4096
	mw 0x22 $((1 << 20)) 5000
	mw 0x33 $((3 << 20)) $((1 << 20))
	expect_same "mapped writes into holes ($bs-byte blocks)" "$f" "$r"
	sync
	mw 0x44 100 300
	xfs_io -c "pwrite -S 0x55 $((2 << 20)) 8192" "$f" "$r" >/dev/null
	mw 0x66 $(((2 << 20) + 4096)) 100
	expect_same "mapped writes over data ($bs-byte blocks)" "$f" "$r"
	truncate -s $(((3 << 20) + 1000)) "$f" "$r"
	mw 0x77 $((3 << 20)) 1000
	drop_caches
	mw 0x88 $(((3 << 20) + 500)) 500
	mw 0x99 $((2 << 20)) 4096
	verify_cached_dropped_remounted "$f" "$r"
	check_xtfs "$SCRATCH_DEV"
done
n=$(($(knob page_mkwrites) - before))
[ "$n" -gt 0 ] || fail "no write fault went through kernel::iomap (page_mkwrites did not move)"
echo "$n write faults through kernel::iomap;" \
	"mapped writes into holes, over clean and dirty data," \
	"near EOF and after truncation persist; fsck clean"
