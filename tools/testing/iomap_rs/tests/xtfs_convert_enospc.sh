#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ENOSPC never reaches an I/O completion on xtfs: writes into a preallocated
# file on a full filesystem (1 KiB blocks, where an extent tree needs the
# most blocks per extent). Converting what a write filled splits the
# unwritten extent, and writing every other block makes the file's extent
# tree grow by a leaf per 20 writes or so, until its blocks are more than
# the space left. The tree blocks a conversion may need are reserved when
# the data is dirtied: so the writes, through the Rust and the C write path
# and through page faults, fail with ENOSPC (a fault with SIGBUS) once the
# tree cannot grow any more, and every write that succeeded is on disk: fsync
# succeeds, the data reads back after dropping the caches and after a remount,
# and the blocks not written read as zeroes. Nothing stays reserved after a
# sync, and fsck.xtfs -n is clean.
#
# Then one fallocate(2) of all the space there is, on 512-byte blocks whose
# free space is every other block (two files preallocated a block at a time
# in turn, one removed): every block it takes is an extent of its own, and
# their tree needs more blocks than metadata has left. It must end with
# ENOSPC (or succeed) and leave the filesystem working: no shutdown, the
# extents it made recorded, fsck clean. (One store of all its extents took
# the last metadata blocks, failed, and shut xtfs down.)

. "$(dirname "$0")/common.sh"
require_xtfs

# every_other FILE BLOCKS BS FIRST: writes block FIRST, FIRST + 2, ... of
# FILE, each with its own pattern byte, one pwrite(2) each, until one fails;
# then fsyncs. Prints how many writes succeeded, the error that stopped them
# (or "none") and fsync's result.
every_other() {
	python3 -c '
import os, sys
path, blocks, bs, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
fd = os.open(path, os.O_WRONLY)
done, err = 0, "none"
for b in range(first, blocks, 2):
    try:
        os.pwrite(fd, bytes([b % 251 + 1]) * bs, b * bs)
    except OSError as e:
        err = os.strerror(e.errno)
        break
    done += 1
try:
    os.fsync(fd)
    synced = "ok"
except OSError as e:
    synced = os.strerror(e.errno)
print(done, err.replace(" ", "_"), synced.replace(" ", "_"))
' "$@"
}

# check_blocks FILE BLOCKS BS: every block of FILE holds its own pattern byte
# (block b: b % 251 + 1) if it was written, else zeroes; the written blocks
# are the first EVEN of blocks 0, 2, 4, ... and the first ODD of 1, 3, 5, ...
# Prints "ok" or the first wrong block. (check_blocks FILE BLOCKS BS EVEN ODD)
check_blocks() {
	python3 -c '
import sys
path, blocks, bs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
w = (int(sys.argv[4]), int(sys.argv[5]))
with open(path, "rb") as f:
    for b in range(blocks):
        data = f.read(bs)
        written = b // 2 < w[b % 2]
        want = bytes([b % 251 + 1 if written else 0]) * bs
        if data != want:
            print("block", b, "written" if written else "not-written", "holds", data[:8].hex())
            sys.exit(0)
print("ok")
' "$@"
}

bs=1024
blocks=12288
for path in rust c; do
	use_write_path $path
	mkfs_scratch_xtfs -b $bs -N 32 -s 16m
	d=$SCRATCH_MNT/d
	xtfs_dir_with_room "$d" 8
	xfs_io -f -c "falloc 0 $((blocks * bs))" "$d/pre" ||
		fail "preallocating $blocks blocks failed"
	dd if=/dev/zero of="$d/fill" bs=64k 2>/dev/null &&
		fail "filling the filesystem did not fail"
	sync
	expect_eq "available blocks when full ($path)" 0 "$(stat -f -c %a "$SCRATCH_MNT")"

	# Even blocks: the tree grows until it cannot.
	read -r w0 err0 sync0 < <(every_other "$d/pre" $blocks $bs 0)
	echo "$path: $w0 writes of even blocks, then: $err0; fsync: $sync0"
	expect_eq "what stopped the writes of even blocks ($path)" "No_space_left_on_device" "$err0"
	expect_eq "fsync after the writes of even blocks ($path)" ok "$sync0"
	# A leaf holds 41 extents: the tree had to grow well past one leaf.
	[ "$w0" -ge 1000 ] || fail "only $w0 writes of even blocks succeeded ($path)"
	[ "$w0" -lt $((blocks / 2)) ] ||
		fail "every write of an even block succeeded: the filesystem never ran out ($path)"
	# Odd blocks: each write joins three extents into one once converted,
	# but is charged as one that splits an extent: it may fail too.
	read -r w1 err1 sync1 < <(every_other "$d/pre" $((2 * w0)) $bs 1)
	echo "$path: $w1 writes of odd blocks, then: $err1; fsync: $sync1"
	expect_eq "fsync after the writes of odd blocks ($path)" ok "$sync1"
	# Page faults into the rest, 4 KiB apart: SIGBUS once the tree cannot
	# grow, or the data is kept.
	faults=0
	for b in $(seq $((2 * w0 + 8)) 4 $((2 * w0 + 88))); do
		rc=0
		err=$(xfs_io -c "mmap -w 0 $((blocks * bs))" \
			-c "mwrite -S $((b % 251 + 1)) $((b * bs)) $bs" \
			-c "msync -s 0 $((blocks * bs))" "$d/pre" 2>&1 >/dev/null) || rc=$?
		# 128 + SIGBUS: the fault was refused. Anything else (msync
		# reporting a failed writeback, say) is a failure.
		[ "$rc" = 135 ] && break
		[ "$rc:$err" = 0: ] || fail "a write fault at block $b ($path): exit $rc: $err"
		faults=$((faults + 1))
	done
	echo "$path: $faults write faults succeeded past the writes"
	sync "$d/pre" || fail "fsync after the write faults ($path)"
	drop_caches
	res=$(check_blocks "$d/pre" $((2 * w0 + 2)) $bs "$w0" "$w1")
	expect_eq "the file after dropping the caches ($path)" ok "$res"
	for i in $(seq 1 "$faults"); do
		b=$((2 * w0 + 4 + 4 * i))
		got=$(od -An -tx1 -N1 -j $((b * bs)) "$d/pre" | tr -d ' ')
		expect_eq "block $b written by a fault ($path)" \
			"$(printf '%02x' $((b % 251 + 1)))" "$got"
	done
	xtfs_expect_no_reservations "after the conversions ($path)"
	res=$(check_blocks "$d/pre" $((2 * w0 + 2)) $bs "$w0" "$w1")
	expect_eq "the file after a remount ($path)" ok "$res"
	extents=$(xfs_io -c "fiemap" "$d/pre" | tail -n +2 | grep -vc hole)
	echo "$path: $extents extents in the file after the remount"
	check_xtfs "$SCRATCH_DEV"
done
echo "writes into preallocated space on a full filesystem:" \
	"ENOSPC from write() (Rust and C paths) once the extent tree cannot grow," \
	"never at completion; every write that succeeded persisted; fsck clean"

mkfs_scratch_xtfs -b 512 -N 64 -s 8m
out=$(python3 - "$SCRATCH_MNT" <<'PY'
import os, sys
root = sys.argv[1]
a = os.open(root + "/a", os.O_RDWR | os.O_CREAT, 0o644)
b = os.open(root + "/b", os.O_RDWR | os.O_CREAT, 0o644)
n = 0
try:
    while True:
        os.posix_fallocate(a, n * 512, 512)
        os.posix_fallocate(b, n * 512, 512)
        n += 1
except OSError as e:
    if e.errno != 28:
        raise
os.close(a)
os.close(b)
os.unlink(root + "/b")
os.sync()
avail = os.statvfs(root).f_bavail
c = os.open(root + "/c", os.O_RDWR | os.O_CREAT, 0o644)
try:
    os.posix_fallocate(c, 0, avail * 512)
    result = "ok"
except OSError as e:
    result = os.strerror(e.errno)
os.close(c)
print("%d blocks free in pieces; fallocate of them all: %s" % (avail, result))
PY
) || fail "the fragmented preallocation: $out"
echo "$out"
case $out in
*": ok" | *": No space left on device") ;;
*) fail "one fallocate into free space in pieces: expected success or ENOSPC: $out" ;;
esac
: >"$SCRATCH_MNT/after" ||
	fail "the filesystem after the fragmented preallocation: creating a file failed"
sync
extents=$(xfs_io -c "fiemap" "$SCRATCH_MNT/c" | tail -n +2 | grep -vc hole)
unmount_scratch
mount_xtfs "$SCRATCH_DEV"
expect_eq "the preallocated file's extents after a remount" "$extents" \
	"$(xfs_io -c "fiemap" "$SCRATCH_MNT/c" | tail -n +2 | grep -vc hole)"
echo "the fragmented preallocation made $extents extents, kept after a remount"
xtfs_expect_no_reservations "after the fragmented preallocation"
check_xtfs "$SCRATCH_DEV"
