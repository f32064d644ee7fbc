#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest for demo.sh. Usage: guest-demo.sh SHARE BIN
#
# On XFS (/dev/vda) and on xtfs (/dev/vdb), each race of the seeds that the
# library fixes is forced once at its exact interleaving with the fix off and
# once with it on (progs/race.c, pause points under
# /sys/kernel/debug/iomap_rs/pause/): what the broken code destroys is shown
# as the offsets of the wrong bytes and a hex dump, what the fixed code does
# as its iomap_rs_stale trace event and the same bytes, right.

set -o errexit -o nounset -o pipefail
SHARE=$1
PATH=$2:$PATH
DEBUGFS=/sys/kernel/debug/iomap_rs
TRACEFS=/sys/kernel/tracing
exec > >(tee "$SHARE/demo.txt") 2>&1
trap 'dmesg >"$SHARE/dmesg.log"' EXIT

run() {
	echo "# $*"
	"$@"
}

knob() {
	echo "$2" >"$DEBUGFS/$1"
}

# hexdump FILE OFFSET: 48 bytes from OFFSET, 16 per line.
hexdump() {
	od -A d -t x1 -j "$2" -N 48 "$1"
}

# stale_map FS DIR: the seed's stale write mapping race on the filesystem
# mounted on DIR.
stale_map() {
	local f=$2/stale tail=$((512 * 1024 - 3072))
	echo
	echo "== $1: a write caching one mapping of an unwritten extent for many folios (d7b64041)"
	echo "A file is preallocated over [0, 512 KiB) and its last page written with 'A' (0x41)."
	echo "A write of 'B' (0x42) over [0, $tail) maps the unwritten extent once and parks"
	echo "after locking its first folio; meanwhile the last page is written back (its"
	echo "extent converted to written) and evicted; then the write resumes."
	echo
	echo "-- with the revalidation skipped (skip_validation=Y):"
	knob skip_validation Y
	run race stale-map "$f" small 1
	knob skip_validation N
	echo "the bytes around $tail, where 'B' should end and 'A' continue:"
	hexdump "$f" $((tail - 16))
	echo
	echo "-- with the revalidation:"
	echo >"$TRACEFS/trace"
	echo 1 >"$TRACEFS/events/iomap_rs/iomap_rs_stale/enable"
	run race stale-map "$f" small 1
	echo 0 >"$TRACEFS/events/iomap_rs/iomap_rs_stale/enable"
	echo "the trace event of the stale mapping (old and new validity cookie):"
	grep -o 'iomap_rs_stale:.*' "$TRACEFS/trace" | head -n 3
	hexdump "$f" $((tail - 16))
}

# punch_mmap FS DIR: the delalloc release racing an mmap write.
punch_mmap() {
	local f=$2/punch at=$((384 * 1024 + 100))
	echo
	echo "== $1: a short write releasing delalloc next to a page" \
		"written through mmap (generic/346)"
	echo "A write of 512 KiB from a buffer whose page at 256 KiB is unmapped reserves"
	echo "delalloc over [0, 512 KiB) and parks on its first folio; 1000 bytes of 0x6d"
	echo "are written at $at through a shared mapping; the write resumes, ends short at"
	echo "256 KiB and releases [256 KiB, 512 KiB)."
	echo
	echo "-- with the release as before the fix" \
		"(release_punch_all=Y: drop the cache, punch all):"
	knob release_punch_all Y
	run race punch-mmap "$f" 1
	knob release_punch_all N
	hexdump "$f" $((at - 4))
	echo
	echo "-- with the release that keeps dirty folios and their reservation:"
	run race punch-mmap "$f" 1
	hexdump "$f" $((at - 4))
}

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
mountpoint -q "$TRACEFS" || mount -t tracefs none "$TRACEFS"
echo "== kernel $(uname -r)"
run cat "$DEBUGFS/status"
knob enabled Y

mkdir -p /tmp/xfs /tmp/xtfs
echo
echo "== XFS on /dev/vda, xtfs (the Rust filesystem) on /dev/vdb"
run mkfs.xfs -f -q /dev/vda
run mount -t xfs /dev/vda /tmp/xfs
run mkfs.xtfs -q -s 256m /dev/vdb
run mount -t xtfs /dev/vdb /tmp/xtfs

stale_map XFS /tmp/xfs
stale_map xtfs /tmp/xtfs
punch_mmap XFS /tmp/xfs
punch_mmap xtfs /tmp/xtfs

echo
echo "== the pause points reached (hits) and timed out (misses)"
for p in write_validate; do
	echo "$p: $(cat "$DEBUGFS/pause/$p")"
done
echo "stale mappings detected: $(cat "$DEBUGFS/stale_detections")"
run umount /tmp/xfs
run umount /tmp/xtfs
echo "# xfs_repair -n /dev/vda"
xfs_repair -n /dev/vda >/dev/null 2>&1
echo "xfs_repair -n: clean"
run fsck.xtfs -n /dev/vdb
