#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SEEK_DATA/SEEK_HOLE and FIEMAP on xtfs (1 KiB and 4 KiB blocks) over every
# kind of range: written, holes, delayed allocations (dirty in the cache),
# unwritten extents with and without cached data in them, a preallocation
# beyond EOF, a partial block at EOF. Seeks find data where data is (cached
# pages over unwritten extents included, unwritten extents without them read
# as holes, as in C iomap), stop at EOF (SEEK_DATA at EOF: ENXIO), the same before and after
# writeback; FIEMAP shows delayed allocations before writeback and their
# blocks after, unwritten extents split where the write landed, and every
# written extent's physical address holds the file's data on the device
# (read with O_DIRECT). Again after a remount; fsck.xtfs -n clean.
#
# Not parallel: a sync(2) in the other lane writes back this test's dirty
# data, and FIEMAP then shows no delayed allocation (seen: a test's sync
# came within the 3 s between the writes and FIEMAP).

. "$(dirname "$0")/common.sh"
require_xtfs

# seeks FILE: the data ranges SEEK_DATA/SEEK_HOLE find, "start-end" each,
# then what SEEK_DATA at EOF and SEEK_HOLE in the last range give.
seeks() {
	python3 - "$1" <<'PY'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
out, pos = [], 0
while True:
    try:
        start = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError as e:
        if e.errno != errno.ENXIO:
            raise
        break
    end = os.lseek(fd, start, os.SEEK_HOLE)
    out.append("%d-%d" % (start, end))
    pos = end
try:
    os.lseek(fd, size, os.SEEK_DATA)
    out.append("data-at-eof")
except OSError as e:
    out.append("eof:" + errno.errorcode[e.errno])
print(" ".join(out))
PY
}

# extents FILE: FIEMAP without syncing first (filefrag), "start-end:kind"
# each, adjacent ranges of one kind merged; kinds: delalloc, unwritten, data.
extents() {
	filefrag -v -b1 "$1" | awk '
		$1 ~ /^[0-9]+:$/ {
			split($0, f, ":"); split(f[2], l, /\.\./);
			kind = "data";
			if ($0 ~ /delalloc/) kind = "delalloc";
			else if ($0 ~ /unwritten/) kind = "unwritten";
			s = l[1] + 0; e = l[2] + 1;
			if (n && kind == k[n] && s == E[n]) {
				E[n] = e
			} else {
				n++; S[n] = s; E[n] = e; k[n] = kind
			}
		}
		END {
			for (i = 1; i <= n; i++)
				printf "%s%d-%d:%s", (i > 1 ? " " : ""), S[i], E[i], k[i];
			print ""
		}'
}

# device_matches FILE: every written extent FIEMAP reports holds the file's
# bytes at its physical address on the device.
device_matches() {
	local log len phys n size
	size=$(stat -c %s "$1")
	while read -r log phys len; do
		# Up to EOF: the rest of the last block is not the file's.
		n=$((size - log < len ? size - log : len))
		cmp -n "$n" \
			<(dd if="$SCRATCH_DEV" bs=512 skip=$((phys / 512)) count=$((len / 512)) \
				iflag=direct status=none) \
			<(dd if="$1" bs=512 skip=$((log / 512)) count=$((len / 512)) status=none) \
			>/dev/null ||
			fail "FIEMAP: the device at byte $phys" \
				"does not hold $1's data at $log (+$len)"
	done < <(filefrag -v -b1 "$1" | awk '$1 ~ /^[0-9]+:$/ && $0 !~ /delalloc|unwritten/ {
		split($0, f, ":"); split(f[2], l, /\.\./); split(f[3], p, /\.\./);
		print l[1] + 0, p[1] + 0, l[2] - l[1] + 1 }')
}

K=1024
for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -N 64 -s 64m
	f=$SCRATCH_MNT/file
	eof=$((400 * K + 100))
	want_seeks="0-8192 $((64 * K))-$((68 * K)) $((260 * K))-$((264 * K))"
	want_seeks+=" $((400 * K))-$eof eof:ENXIO"
	eofb=$(((eof + bs - 1) / bs * bs))
	want_extents="0-8192:data $((64 * K))-$((68 * K)):data"
	want_extents+=" $((128 * K))-$((192 * K)):unwritten $((256 * K))-$((260 * K)):unwritten"
	want_extents+=" $((260 * K))-$((264 * K)):data $((264 * K))-$((320 * K)):unwritten"
	want_extents+=" $((400 * K))-$eofb:data $((512 * K))-$((576 * K)):unwritten"
	want_dirty="0-8192:data $((64 * K))-$((68 * K)):delalloc"
	want_dirty+=" $((128 * K))-$((192 * K)):unwritten $((256 * K))-$((320 * K)):unwritten"
	want_dirty+=" $((400 * K))-$eofb:delalloc $((512 * K))-$((576 * K)):unwritten"
	# The flusher, or a sync(2) of a test running beside this one, may write
	# the data back before FIEMAP looks: a file whose extents are not those of
	# dirty data is made again, five times at most.
	for ((try = 1; ; try++)); do
		rm -f "$f"
		xfs_io -f -c "pwrite -q -S 0x61 0 8k" -c fsync "$f"
		xfs_io -c "falloc $((128 * K)) $((64 * K))" -c "falloc $((256 * K)) $((64 * K))" \
			-c "falloc -k $((512 * K)) $((64 * K))" "$f"
		xfs_io -c "pwrite -q -S 0x62 $((64 * K)) 4k" \
			-c "pwrite -q -S 0x63 $((260 * K)) 4k" \
			-c "pwrite -q -S 0x64 $((400 * K)) 100" "$f"
		expect_eq "seeks with dirty data ($bs-byte blocks)" "$want_seeks" "$(seeks "$f")"
		got=$(extents "$f")
		[ "$got" = "$want_dirty" ] && break
		[ "$try" -lt 5 ] ||
			expect_eq "FIEMAP before writeback ($bs-byte blocks, 5 tries)" \
				"$want_dirty" "$got"
	done
	[ "$try" = 1 ] || echo "FIEMAP before writeback ($bs-byte blocks):" \
		"written back before FIEMAP $((try - 1)) times, tried again"
	sync
	# Adjacent written extents may be one: compare with merging done.
	expect_eq "FIEMAP after writeback ($bs-byte blocks)" "$want_extents" "$(extents "$f")"
	device_matches "$f"
	drop_caches
	expect_eq "seeks after dropping caches ($bs-byte blocks)" "$want_seeks" "$(seeks "$f")"
	unmount_scratch
	mount_xtfs "$SCRATCH_DEV"
	expect_eq "seeks after remount" "$want_seeks" "$(seeks "$f")"
	expect_eq "FIEMAP after remount" "$want_extents" "$(extents "$f")"
	device_matches "$f"
	# Cached pages of unwritten extents, even clean ones read in, count as
	# data, as C iomap (and XFS) has it: the seek looks at the cache there.
	cat "$f" >/dev/null
	want_cached="0-8192 $((64 * K))-$((68 * K)) $((128 * K))-$((192 * K))"
	want_cached+=" $((256 * K))-$((320 * K)) $((400 * K))-$eof eof:ENXIO"
	expect_eq "seeks with unwritten extents cached" "$want_cached" "$(seeks "$f")"
	check_xtfs "$SCRATCH_DEV"
done
echo "SEEK_DATA/SEEK_HOLE and FIEMAP right over written, hole, delalloc," \
	"unwritten (cached or not) and post-EOF ranges, before and after writeback and remount;" \
	"FIEMAP addresses hold the data; fsck clean"
