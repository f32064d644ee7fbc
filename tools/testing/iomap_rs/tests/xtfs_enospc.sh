#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Running out of space on xtfs (1 KiB and 4 KiB blocks). Delayed allocation
# reserves space at write time, so ENOSPC comes from write(), never from
# writeback:
#  - 1 MiB writes fill the filesystem: the last one ends short at the last
#    available block, the next fails with ENOSPC; the file holds exactly the
#    space statfs offered; writes into holes fail, overwrites still work, a
#    write fault into a hole gets SIGBUS; files and directories can still be
#    created (directory blocks come from the metadata reserve) until the
#    inode table is full, then ENOSPC;
#  - ENOSPC mid-write, through the Rust and the C write path: with K blocks
#    free, a 1 MiB write writes exactly K blocks and the next write fails;
#  - four writers fill it in parallel;
# each time, the data is right after writeback, after dropping the caches and
# after a remount; no reservation is left over (statfs after sync against a
# fresh mount); removing everything gives back all the space; fsck.xtfs -n is
# clean.

. "$(dirname "$0")/common.sh"
require_xtfs

# pwrite1 FILE OFFSET LEN BYTE: one pwrite(2) call; prints what it returned
# or the error.
pwrite1() {
	python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
try:
    print("wrote", os.pwrite(fd, bytes([int(sys.argv[4], 0)]) * int(sys.argv[3]), int(sys.argv[2])))
except OSError as e:
    print("error", os.strerror(e.errno))
' "$@"
}

# filled FILE BYTE: FILE holds only BYTE.
filled() {
	cmp -n "$(stat -c %s "$1")" "$1" <(tr '\0' "\\$(printf '%03o' "$2")" </dev/zero) >/dev/null
}

avail() {
	stat -f -c %a "$SCRATCH_MNT"
}

for bs in 1024 4096; do
	use_write_path rust
	mkfs_scratch_xtfs -b "$bs" -N 64 -s 24m
	d=$SCRATCH_MNT/d
	xtfs_dir_with_room "$d" 16
	free0=$(xtfs_statfs_free)
	avail0=$(avail)

	# Fill it.
	rc=0
	err=$(tr '\0' '\136' </dev/zero | dd of="$d/fill" bs=1M iflag=fullblock 2>&1) || rc=$?
	case $rc:$err in
	0:*) fail "writing until the filesystem is full did not fail" ;;
	*"No space left"*) ;;
	*) fail "filling the filesystem: expected ENOSPC, got: $err" ;;
	esac
	expect_eq "bytes written until ENOSPC ($bs-byte blocks)" $((avail0 * bs)) \
		"$(stat -c %s "$d/fill")"
	expect_eq "available blocks when full" 0 "$(avail)"
	expect_eq "a write into a hole when full" "error No space left on device" \
		"$(pwrite1 "$d/hole" 0 100 0x11)"
	expect_eq "an overwrite when full" "wrote 5000" "$(pwrite1 "$d/fill" 3000 5000 0x5e)"
	truncate -s 1m "$d/hole"
	xfs_io -c "mmap -w 0 4096" -c "mwrite -S 0x11 0 10" "$d/hole" >/dev/null 2>&1 &&
		fail "a write fault into a hole succeeded on a full filesystem"
	sync
	filled "$d/fill" 0x5e || fail "the file that filled the filesystem has wrong data"
	drop_caches
	filled "$d/fill" 0x5e || fail "the file that filled the filesystem, after dropping caches"
	xtfs_expect_no_reservations "full filesystem"
	filled "$d/fill" 0x5e || fail "the file that filled the filesystem, after remount"
	rm "$d/hole"
	# Files and directories on the full filesystem: their directory blocks
	# come out of the metadata reserve, and the inode table runs out first:
	# ENOSPC then, after exactly the free inodes statfs reported.
	inodes=$(stat -f -c %d "$SCRATCH_MNT")
	mkdir "$d/many" || fail "mkdir on a full filesystem failed"
	n=1
	while [ "$n" -le 1000 ] && : >"$d/many/f$n" 2>/dev/null; do n=$((n + 1)); done
	expect_eq "inodes taken until ENOSPC ($bs-byte blocks)" "$inodes" "$n"
	case $(mkdir "$d/many/dir" 2>&1) in
	*"No space left"*) ;;
	*) fail "mkdir with the inode table full: expected ENOSPC" ;;
	esac
	expect_eq "entries in the directory that filled the inode table" $((inodes - 1)) \
		"$(find "$d/many" -type f | wc -l)"
	rm -r "$d/many"

	# ENOSPC mid-write, through both paths: K blocks free, a 1 MiB write.
	k=10
	for path in rust c; do
		use_write_path $path
		size=$(stat -c %s "$d/fill")
		truncate -s $((size - k * bs)) "$d/fill"
		sync
		expect_eq "available blocks after giving $k back ($path)" "$k" "$(avail)"
		expect_eq "a 1 MiB write with $k blocks free ($path, $bs-byte blocks)" \
			"wrote $((k * bs))" "$(pwrite1 "$d/mid-$path" 0 $((1 << 20)) 0x22)"
		expect_eq "the next write ($path)" "error No space left on device" \
			"$(pwrite1 "$d/mid-$path" $((k * bs)) 100 0x22)"
		drop_caches
		filled "$d/mid-$path" 0x22 || fail "the short write's file has wrong data ($path)"
		xtfs_expect_no_reservations "after ENOSPC mid-write ($path)"
		filled "$d/mid-$path" 0x22 || fail "the short write's file after remount ($path)"
	done
	use_write_path rust
	rm "$d"/*
	sync
	expect_eq "free blocks after removing everything ($bs-byte blocks)" "$free0" \
		"$(xtfs_statfs_free)"

	# Four writers at once.
	for i in 1 2 3 4; do
		(tr '\0' "\\$(printf '%03o' $((0x40 + i)))" </dev/zero |
			dd of="$d/par-$i" bs=64k iflag=fullblock 2>/dev/null) &
	done
	wait || true
	total=0
	for i in 1 2 3 4; do
		total=$((total + $(stat -c %s "$d/par-$i")))
	done
	expect_eq "bytes four writers wrote until ENOSPC ($bs-byte blocks)" $((avail0 * bs)) \
		"$total"
	drop_caches
	xtfs_expect_no_reservations "after four writers filled it"
	for i in 1 2 3 4; do
		filled "$d/par-$i" $((0x40 + i)) ||
			fail "writer $i's file has wrong data after remount"
	done
	rm "$d"/*
	sync
	expect_eq "free blocks after removing the writers' files" "$free0" "$(xtfs_statfs_free)"
	check_xtfs "$SCRATCH_DEV"
done
echo "ENOSPC from write() at exactly the available space" \
	"(single, mid-write on both paths, parallel);" \
	"data right and persisted; nothing left reserved; fsck clean"
