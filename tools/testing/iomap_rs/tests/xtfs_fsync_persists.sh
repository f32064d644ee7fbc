#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What fsync and fdatasync returned for is on the disk: after each call the
# filesystem is read from the disk with O_DIRECT (what a crash right then
# would leave; xtfs is on a linear device over it, so that the read does not
# write back xtfs's cache first), must be clean for fsck.xtfs -n, and,
# mounted from that copy, must give the file as the page cache has it. First
# a new file with fsync of the directory, which is what persists a name;
# the other files are created and synced first. Then the cases where the
# metadata to persist is only the conversion of unwritten extents that the
# data's writeback completion did, which leaves the inode clean for
# fdatasync (a time stamp change dirties it for fsync only): an overwrite of
# preallocated blocks and an mmap write into a hole, each followed by
# fdatasync (and msync(MS_SYNC), which is one); then an append with
# fdatasync, an mmap write with fsync, and a truncation with fsync.

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
linear_scratch
mkfs.xtfs -q -s 32m "$LINEAR_DEV" || fail "mkfs.xtfs $LINEAR_DEV failed"
mount_xtfs "$LINEAR_DEV"
copy=$(mktemp -d)
mount -t tmpfs none "$copy"
mkdir "$copy/mnt"
trap 'is_mounted "$copy/mnt" && umount "$copy/mnt"; umount "$copy"; rmdir "$copy"
	linear_scratch_remove' EXIT

# on_disk WHAT FILE: the disk as it is now holds FILE as cached.
on_disk() {
	dd if="$SCRATCH_DEV" of="$copy/image" bs=1M count=32 iflag=direct status=none ||
		fail "$1: cannot read the disk"
	fsck.xtfs -n "$copy/image" >"$RESULT_DIR/fsck.log" 2>&1 ||
		fail "$1: fsck.xtfs finds the disk inconsistent:" \
			"$(head -n 3 "$RESULT_DIR/fsck.log")"
	mount -t xtfs -o loop,ro "$copy/image" "$copy/mnt" ||
		fail "$1: the disk's copy does not mount"
	samefile "$copy/mnt/${2#"$SCRATCH_MNT"/}" "$2" >"$RESULT_DIR/cmp.log" 2>&1 ||
		fail "$1: the file on the disk differs from the cached one:" \
			"$(head -c 300 "$RESULT_DIR/cmp.log")"
	umount "$copy/mnt"
	echo "$1: on the disk"
}

# A new file: fsync of it and of its directory (which grows by a block for
# the first names) make both durable; without the directory's, the disk
# would hold an inode no name reaches and the directory's block leaked.
f=$SCRATCH_MNT/new
xfs_io -f -c "pwrite -q -S 0x44 0 20000" -c fsync "$f"
xfs_io -r -c fsync "$SCRATCH_MNT" 2>&1 | grep . && fail "fsync of the directory failed"
on_disk "a new file, fsync of it and of its directory" "$f"
# Renamed (fsync of the directory), and in a new subdirectory (fsync of the
# file, of the subdirectory and of its parent).
mv "$f" "$SCRATCH_MNT/renamed"
xfs_io -r -c fsync "$SCRATCH_MNT"
on_disk "a rename, fsync of the directory" "$SCRATCH_MNT/renamed"
mkdir "$SCRATCH_MNT/sub"
f=$SCRATCH_MNT/sub/file
xfs_io -f -c "pwrite -q -S 0x45 0 9000" -c fsync "$f"
xfs_io -r -c fsync "$SCRATCH_MNT/sub"
xfs_io -r -c fsync "$SCRATCH_MNT"
on_disk "a new file in a new directory, fsync of both and of the parent" "$f"

touch "$SCRATCH_MNT/prealloc" "$SCRATCH_MNT/sparse" "$SCRATCH_MNT/append"
sync

f=$SCRATCH_MNT/prealloc
xfs_io -f -c "falloc 0 256k" -c fsync "$f"
xfs_io -c "pwrite -q -S 0x55 4096 65536" -c fdatasync "$f"
on_disk "overwrite of preallocated blocks, fdatasync" "$f"

f=$SCRATCH_MNT/sparse
xfs_io -f -c "truncate 256k" -c fsync "$f"
xfs_io -c "mmap -rw 0 256k" -c "mwrite -S 0x66 8192 12288" -c "msync -s 0 256k" "$f"
on_disk "mmap write into a hole, msync(MS_SYNC)" "$f"
xfs_io -c "mmap -rw 0 256k" -c "mwrite -S 0x67 131072 4096" -c fdatasync "$f"
on_disk "mmap write into a hole, fdatasync" "$f"

f=$SCRATCH_MNT/append
xfs_io -f -c "pwrite -q -S 0x11 0 10000" -c fdatasync "$f"
on_disk "append, fdatasync" "$f"
xfs_io -c "mmap -rw 0 8192" -c "mwrite -S 0x12 100 5000" -c fsync "$f"
on_disk "mmap write over data, fsync" "$f"
xfs_io -c "truncate 3000" -c fsync "$f"
on_disk "truncation, fsync" "$f"

check_xtfs "$LINEAR_DEV"
echo "every fsync and fdatasync left the disk clean and holding the file"
