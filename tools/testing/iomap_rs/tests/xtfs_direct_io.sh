#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# O_DIRECT on xtfs (1 KiB and 4 KiB blocks), mixed with buffered I/O and mmap
# on the same file: direct writes into holes (blocks allocated unwritten,
# converted when the write is done), over written data, over dirty cached
# data and delayed allocations (written back first, the cache dropped), into
# preallocated ranges with partial blocks (zeroed around), beyond EOF
# (extending the file), with RWF_DSYNC; direct reads that see dirty cached
# data and mmap writes, zeroes in holes and nothing past EOF; buffered reads
# and a shared mapping that see what direct writes wrote. A misaligned direct
# write fails with EINVAL. After every step the file matches a reference
# model through the cache and through O_DIRECT; again after dropping the
# caches and after a remount; removal gives back all the space; fsck.xtfs -n
# clean.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 60

. "$(dirname "$0")/common.sh"
require_xtfs

ref_dir

# direct_same WHAT: the file read with O_DIRECT matches the reference.
direct_same() {
	cmp <(dd if="$f" bs=1M iflag=direct status=none) "$r" >"$RESULT_DIR/cmp.log" 2>&1 ||
		fail "$1: read with O_DIRECT, $f differs from its reference:" \
			"$(head -c 300 "$RESULT_DIR/cmp.log")"
}

# step MODE CMD: CMD (an xfs_io pwrite or mwrite) on the file, through
# O_DIRECT (d), the cache (b) or a shared mapping of the whole file (m); the
# same as a buffered pwrite on the reference; then compare both ways.
step() {
	local mode=$1 cmd=$2 size
	case $mode in
	d) xfs_io -f -d -c "$cmd" "$f" >/dev/null || fail "direct $cmd failed" ;;
	b) xfs_io -c "$cmd" "$f" >/dev/null ;;
	m)
		size=$(stat -c %s "$f")
		xfs_io -c "mmap -rw 0 $size" -c "$cmd" "$f" >/dev/null
		cmd=${cmd/mwrite/pwrite}
		;;
	esac
	xfs_io -f -c "${cmd/pwrite -D/pwrite}" "$r" >/dev/null
	expect_same "after $mode $cmd ($bs-byte blocks)" "$f" "$r"
	direct_same "after $mode $cmd ($bs-byte blocks)"
}

K=1024
for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -N 64 -s 128m
	f=$SCRATCH_MNT/file r=$REF_DIR/file
	# (Created first: its directory entry takes a block.)
	: >"$f"
	: >"$r"
	free0=$(xtfs_statfs_free)
	step d "pwrite -S 0x11 0 64k"
	step b "pwrite -S 0x22 30000 5000"
	step d "pwrite -S 0x33 16k 4k"
	step m "mwrite -S 0x44 40000 10"
	step d "pwrite -S 0x55 36k 8k"
	# Over a delayed allocation written just before, and next to it.
	step b "pwrite -S 0x66 100k 20000"
	step d "pwrite -S 0x77 104k 2k"
	# Beyond EOF, 512-byte aligned but not block aligned: a hole in
	# between, zeroes around the written sectors.
	step d "pwrite -S 0x88 $((200 * K + 512)) 1536"
	# Into a preallocated range, with partial blocks.
	xfs_io -c "falloc -k $((256 * K)) $((64 * K))" "$f"
	step d "pwrite -S 0x99 $((260 * K + 512)) $((5 * K))"
	step d "pwrite -D -S 0xaa $((280 * K)) 4k"
	step b "pwrite -S 0xbb $((262 * K)) 100"
	# A shared mapping sees direct writes.
	out=$(xfs_io -d -c "mmap -r 0 64k" -c "mread -v 16384 8" -c "pwrite -S 0xcc 16k 4k" \
		-c "mread -v 16384 8" "$f")
	xfs_io -c "pwrite -S 0xcc 16k 4k" "$r" >/dev/null
	case $out in
	*"00004000:  33 33"*"00004000:  cc cc"*) ;;
	*) fail "a shared mapping does not see a direct write: $out" ;;
	esac
	direct_same "after a direct write under a shared mapping"
	# Reads: holes read as zeroes, nothing past EOF.
	size=$(stat -c %s "$f")
	expect_eq "direct read at EOF" 0 \
		"$(dd if="$f" bs=4096 skip=$(((size + 4095) / 4096)) iflag=direct status=none |
			wc -c)"
	cmp -n 4096 <(dd if="$f" bs=4096 skip=$((160 * K / 4096)) count=1 iflag=direct \
		status=none) /dev/zero || fail "a hole read with O_DIRECT is not zeroes"
	err=$(xfs_io -d -c "pwrite 100 512" "$f" 2>&1) || true
	case $err in
	*"Invalid argument"*) ;;
	*) fail "a misaligned direct write: expected EINVAL, got '$err'" ;;
	esac
	drop_caches
	expect_same "after dropping caches ($bs-byte blocks)" "$f" "$r"
	direct_same "after dropping caches ($bs-byte blocks)"
	unmount_scratch
	mount_xtfs "$SCRATCH_DEV"
	expect_same "after remount ($bs-byte blocks)" "$f" "$r"
	direct_same "after remount ($bs-byte blocks)"
	rm "$f"
	sync
	expect_eq "free blocks after removal ($bs-byte blocks)" "$free0" "$(xtfs_statfs_free)"
	check_xtfs "$SCRATCH_DEV"
done
echo "direct writes and reads mixed with buffered I/O and mmap match the model" \
	"through the cache and O_DIRECT, persisted; space returned; fsck clean"
