#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# st_blocks counts the space a file takes, as XFS and ext4 count it: data
# blocks written, unwritten (preallocated, with and without KEEP_SIZE) and
# delayed (written, not yet written back), and the extent tree nodes that map
# them; nothing for holes. It follows writes, preallocation, punching and
# truncation, is the same after writeback and after a remount, and covers
# directories (their blocks) and symbolic links (one block). du(1) and every
# tool that sizes a tree read it.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -s 64m
m=$SCRATCH_MNT
# 512-byte units per 4 KiB block.
per=8

# expect_blocks WHAT FILE BLOCKS: FILE's st_blocks is BLOCKS filesystem
# blocks.
expect_blocks() {
	expect_eq "$1: st_blocks of ${2#"$m"/}" $(($3 * per)) "$(stat -c %b "$2")"
}

xfs_io -f -c "pwrite -q 0 1m" "$m/delalloc"
expect_blocks "1 MiB written, not yet written back (delayed allocation)" "$m/delalloc" 256
sync
expect_blocks "1 MiB written back" "$m/delalloc" 256

xfs_io -f -c "pwrite -q 0 4k" -c "pwrite -q 1m 4k" "$m/sparse"
expect_blocks "two blocks with a hole between them" "$m/sparse" 2
expect_eq "size of the sparse file" $((1024 * 1024 + 4096)) "$(stat -c %s "$m/sparse")"

xfs_io -f -c "falloc 0 1m" "$m/prealloc"
expect_blocks "1 MiB preallocated" "$m/prealloc" 256
xfs_io -c "falloc -k 1m 1m" "$m/prealloc"
expect_blocks "1 MiB more preallocated beyond EOF (KEEP_SIZE)" "$m/prealloc" 512
xfs_io -c "pwrite -q 4k 8k" "$m/prealloc"
expect_blocks "preallocated blocks written" "$m/prealloc" 512
xfs_io -c "fpunch 0 512k" "$m/prealloc"
expect_blocks "512 KiB punched" "$m/prealloc" 384
xfs_io -c "truncate 768k" "$m/prealloc"
expect_blocks "truncated to 768 KiB (the blocks beyond EOF go too)" "$m/prealloc" 64
xfs_io -c "truncate 0" "$m/prealloc"
expect_blocks "truncated to 0" "$m/prealloc" 0

# Every other block: 16 extents, more than the inode holds: an extent tree
# with one leaf, which counts once the extents are stored (at writeback). Any sync(2) (of
# another test running beside this one) or the flusher may write the file
# back between the write and stat(2). Writeback only ever turns delayed
# extents into stored ones, so if FIEMAP after the stat still reports all 16
# delayed, the stat saw none stored and must not count the leaf;
# otherwise the sample says nothing and a new file is tried.
args=()
for ((i = 0; i < 16; i++)); do args+=(-c "pwrite -q $((i * 8))k 4k"); done
for ((try = 0; ; try++)); do
	rm -f "$m/fragmented"
	xfs_io -f "${args[@]}" "$m/fragmented"
	b=$(stat -c %b "$m/fragmented")
	delayed=$(filefrag -v "$m/fragmented" | grep -c delalloc || true)
	[ "$delayed" = 16 ] && break
	[ "$try" -lt 20 ] || fail "the file was written back before FIEMAP in 20 tries"
done
expect_eq "16 blocks apart, not yet written back: st_blocks of fragmented" $((16 * per)) "$b"
sync
expect_blocks "16 extents written back: 16 blocks and the extent tree's leaf" "$m/fragmented" 17

mkdir "$m/dir"
expect_blocks "an empty directory" "$m/dir" 0
: >"$m/dir/entry"
expect_blocks "a directory with an entry" "$m/dir" 1
ln -s delalloc "$m/link"
expect_blocks "a symbolic link" "$m/link" 1

sync
before=$(cd "$m" && stat -c '%n %b' delalloc sparse prealloc fragmented dir link)
unmount_scratch
mount_xtfs "$SCRATCH_DEV"
expect_eq "st_blocks after a remount" "$before" \
	"$(cd "$m" && stat -c '%n %b' delalloc sparse prealloc fragmented dir link)"
rm "$m/fragmented"
check_xtfs "$SCRATCH_DEV"
echo "st_blocks right for delayed, written, unwritten, punched and truncated blocks," \
	"extent tree nodes, directories and links, and after a remount"
