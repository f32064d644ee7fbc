#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtfs serves a directory tree that mkfs.xtfs -d copied in: every name,
# file type, mode, owner, group, link count, size and modification time
# (to the nanosecond) matches the source, through lookup, readdir and
# getattr, and every file's contents and symlink's target read back
# (through C iomap and xtfs's extents); again after dropping the caches and
# after a remount; for 1 KiB and 4 KiB blocks. Sparse files (100 extents,
# in an extent tree) give the same SEEK_DATA/SEEK_HOLE answers as on the
# source and FIEMAP reports their data where it is. A directory of 300 entries
# lists completely with a 128-byte getdents64 buffer (each call resuming where
# the last stopped, every offset sought back to). Lookups of a missing name
# fail with ENOENT and of a name longer than 250 bytes with ENAMETOOLONG.
# fsck.xtfs -n finds each image clean.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

src=$(mktemp -d)
mount -t tmpfs none "$src"
trap 'umount "$src"; rmdir "$src"' EXIT
mkdir -p "$src/a/b/c" "$src/empty" "$src/big"
for i in $(seq 1 300); do echo "$i" >"$src/big/entry-$i"; done
head -c 100000 /dev/urandom >"$src/a/random"
for n in 0 1 1023 1024 1025 4096 4097; do head -c "$n" /dev/urandom >"$src/a/b/size-$n"; done
touch "$src/a/b/c/$(printf 'n%.0s' $(seq 1 250))"
echo hello >"$src/hello"
ln "$src/hello" "$src/a/hard-1"
ln "$src/hello" "$src/a/b/hard-2"
ln -s ../hello "$src/a/link"
# Sparse files: mkfs.xtfs -d leaves blocks of zeroes as holes. 100 runs of
# data make 100 extents, in an extent tree.
for i in $(seq 0 99); do
	head -c 4096 /dev/urandom |
		dd of="$src/sparse" bs=4096 seek=$((2 * i)) conv=notrunc status=none
done
head -c 65536 /dev/urandom >"$src/sparse-64k"
head -c 65536 /dev/urandom | dd of="$src/sparse-64k" bs=65536 seek=3 conv=notrunc status=none
truncate -s 327680 "$src/sparse-64k"
chmod 600 "$src/a/random"
chmod 2750 "$src/a/b"
chown 1000:2000 "$src/a/b/size-1"
touch -h -d @1234567890.123456789 "$src/a/link"
touch -d @1500000000.5 "$src/a/b/c"

# What must match; directory sizes are the filesystem's own (whole blocks).
listing() {
	(cd "$1" && find . \( -type d -printf '%p %y %m %U %G %n %T@\n' \) \
		-o -printf '%p %y %m %U %G %n %T@ %s\n' | LC_ALL=C sort)
}
listing "$src" >"$RESULT_DIR/src.list"

for bs in 1024 4096; do
	mkfs.xtfs -q -b "$bs" -s 64m -d "$src" "$SCRATCH_DEV" || fail "mkfs.xtfs -d failed"
	check_xtfs "$SCRATCH_DEV"
	mount_xtfs "$SCRATCH_DEV"
	for pass in mounted caches-dropped remounted; do
		case $pass in
		caches-dropped) drop_caches ;;
		remounted) unmount_scratch; mount_xtfs "$SCRATCH_DEV" ;;
		esac
		listing "$SCRATCH_MNT" >"$RESULT_DIR/xtfs.list"
		diff -u "$RESULT_DIR/src.list" "$RESULT_DIR/xtfs.list" ||
			fail "the tree read from xtfs ($bs-byte blocks, $pass)" \
				"differs from its source"
		# Contents, read through C iomap with xtfs's mapping, and link
		# targets.
		diff -r --no-dereference "$src" "$SCRATCH_MNT" >"$RESULT_DIR/diff.out" 2>&1 ||
			{
				head -n 5 "$RESULT_DIR/diff.out"
				fail "contents differ ($bs-byte blocks, $pass)"
			}
		expect_eq "read through a symlink" hello "$(cat "$SCRATCH_MNT/a/link")"
	done
	# SEEK_DATA/SEEK_HOLE: the same answers as tmpfs gives on the source.
	for f in sparse sparse-64k; do
		expect_eq "seek data/holes of $f" "$(xfs_io -r -c 'seek -a -r 0' "$src/$f")" \
			"$(xfs_io -r -c 'seek -a -r 0' "$SCRATCH_MNT/$f")"
	done
	# FIEMAP: data where the source has data, in 512-byte units.
	expect_eq "FIEMAP data extents of sparse-64k" "[0..127] [384..511]" \
		"$(xfs_io -r -c fiemap "$SCRATCH_MNT/sparse-64k" |
			awk '$2 ~ /^\[/ && $3 != "hole" { printf "%s%s", sep, $2; sep = " " }' |
			tr -d :)"
	expect_eq "FIEMAP data extents of sparse" 100 \
		"$(xfs_io -r -c fiemap "$SCRATCH_MNT/sparse" |
			awk '$2 ~ /^\[/ && $3 != "hole"' | wc -l)"
	# 128 bytes of getdents64 buffer: a few entries per call, each call
	# resuming where the last stopped, then every offset sought back to.
	"$IOMAP_RS_BIN/listdir" "$SCRATCH_MNT/big" 128 >"$RESULT_DIR/big.list" ||
		fail "listing a 300-entry directory in small pieces failed"
	expect_eq "entries of a 300-entry directory, listed in pieces" \
		"$(ls -a "$src/big" | LC_ALL=C sort)" "$(LC_ALL=C sort "$RESULT_DIR/big.list")"
	err=$(stat "$SCRATCH_MNT/a/missing" 2>&1) && fail "stat of a missing name succeeded"
	echo "$err" | grep -q 'No such file or directory' || fail "missing name: $err"
	err=$(stat "$SCRATCH_MNT/$(printf 'y%.0s' $(seq 1 251))" 2>&1) &&
		fail "stat of a 251-byte name succeeded"
	echo "$err" | grep -q 'File name too long' || fail "251-byte name: $err"
	check_xtfs "$SCRATCH_DEV"
	echo "$bs-byte blocks: $(wc -l <"$RESULT_DIR/xtfs.list") entries match," \
		"cached, after drop_caches and after remount"
done
