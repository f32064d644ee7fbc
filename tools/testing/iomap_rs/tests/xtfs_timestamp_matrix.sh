#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Which time stamps each operation changes, on every inode it touches:
# progs/timestamp_matrix.c runs write, read, truncate and ftruncate (up, down,
# same size), O_TRUNC, fallocate's modes, a write through a shared mapping,
# create, mkdir, mknod, symlink, link, unlink, rmdir, rename (within and
# across directories, over a file, of a directory), chmod, chown, utimensat,
# setxattr (new attribute, new value), removexattr, setting and removing a
# POSIX ACL and a directory listing,
# and prints for each inode whether its access,
# modification and change times moved. The table is made on XFS, the
# reference, and on xtfs, under each atime mode (relatime, strictatime,
# noatime, nodiratime, lazytime), and must be the same: where they differ,
# xtfs is wrong. A few lines POSIX requires are also checked on their own, so
# that the test does not rest on XFS alone (truncate(2) that changes the size
# marks mtime and ctime; chmod ctime only), and no time may go backwards.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
MODES="relatime strictatime noatime nodiratime lazytime"

# table FSTYPE: the matrix under every mode in $RESULT_DIR/FSTYPE.MODE.
table() {
	local mode
	for mode in $MODES; do
		unmount_scratch
		mount -t "$1" -o "$mode" "$SCRATCH_DEV" "$SCRATCH_MNT" ||
			fail "mount -t $1 -o $mode failed"
		mkdir "$SCRATCH_MNT/$mode"
		"$IOMAP_RS_BIN/timestamp_matrix" "$SCRATCH_MNT/$mode" >"$RESULT_DIR/$1.$mode" ||
			fail "timestamp_matrix on $1 ($mode) failed"
	done
}

mkfs_scratch_xfs
table xfs
mkfs_scratch_xtfs -s 256m
table xtfs

for mode in $MODES; do
	if ! diff -u "$RESULT_DIR/xfs.$mode" "$RESULT_DIR/xtfs.$mode" \
		>"$RESULT_DIR/diff.$mode"; then
		cat "$RESULT_DIR/diff.$mode"
		fail "time stamps under $mode: xtfs (+) differs from XFS (-)"
	fi
	echo "$mode: $(wc -l <"$RESULT_DIR/xtfs.$mode") operations," \
		"the same time stamps change as on XFS"
done

# What POSIX requires, whatever XFS does.
# required MODE LINE: LINE is in xtfs's table under MODE.
required() {
	grep -qxF -- "$2" "$RESULT_DIR/xtfs.$1" ||
		fail "$1: expected the line '$2'," \
			"got '$(grep -F "${2%%:*}:" "$RESULT_DIR/xtfs.$1")'"
}
for mode in $MODES; do
	required "$mode" "truncate(2) up: file a= m+ c+"
	required "$mode" "truncate(2) down: file a= m+ c+"
	required "$mode" "ftruncate(2) down: file a= m+ c+"
	required "$mode" "write: file a= m+ c+"
	required "$mode" "chmod: file a= m= c+"
	required "$mode" "unlink: dir a= m+ c+; file a= m= c+"
	! grep -n -- '[amc]-' "$RESULT_DIR/xtfs.$mode" ||
		fail "$mode: a time stamp went backwards"
done
required strictatime "read again: file a+ m= c="
required relatime "read again: file a= m= c="
required noatime "read: file a= m= c="
required nodiratime "read the directory: dir a= m= c=; file a= m= c="
echo "the lines POSIX requires are there; no time stamp went backwards"
check_xtfs "$SCRATCH_DEV"
