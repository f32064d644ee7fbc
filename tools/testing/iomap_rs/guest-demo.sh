#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest for demo.sh. Usage: guest-demo.sh SHARE

set -o errexit -o nounset -o pipefail
SHARE=$1
DEV=/dev/vda
MNT=/tmp/iomap_rs-demo
exec > >(tee "$SHARE/demo.txt") 2>&1
trap 'dmesg >"$SHARE/dmesg.log"' EXIT

run() {
	echo "# $*"
	"$@"
}

mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
echo "== kernel $(uname -r)"
run cat /sys/kernel/debug/iomap_rs/status
dmesg | grep 'iomap_rs:' || true

echo "== XFS on $DEV"
run mkfs.xfs -f -q "$DEV"
mkdir -p "$MNT"
run mount -t xfs "$DEV" "$MNT"

echo "== buffered writes: aligned, unaligned, into a preallocated (unwritten) range"
run xfs_io -f -c "pwrite -q -S 0x61 0 1m" -c "pwrite -q -S 0x62 4000 10000" \
	-c "falloc 2m 1m" -c "pwrite -q -S 0x63 2100000 300000" -c fsync "$MNT/file"
want=$(md5sum <"$MNT/file" | cut -d' ' -f1)
run xfs_io -c "bmap -v" "$MNT/file"

echo "== read back after dropping the page cache and remounting"
echo 3 >/proc/sys/vm/drop_caches
run umount "$MNT"
run mount -t xfs "$DEV" "$MNT"
got=$(md5sum <"$MNT/file" | cut -d' ' -f1)
echo "md5 before: $want, after remount: $got"
[ "$want" = "$got" ] || { echo "DATA MISMATCH"; exit 1; }
run umount "$MNT"
run xfs_repair -n "$DEV" >/dev/null
echo "xfs_repair -n: clean"
