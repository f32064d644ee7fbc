#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtfs serves a directory tree that mkfs.xtfs -d copied in: every name,
# file type, mode, owner, group, link count, size and modification time
# (to the nanosecond) matches the source, through lookup, readdir (a
# directory of 300 entries, listed in pieces by getdents) and getattr;
# again after dropping the caches and after a remount; for 1 KiB and 4 KiB
# blocks. Lookups of a missing name fail with ENOENT and of a name longer
# than 250 bytes with ENAMETOOLONG. fsck.xtfs -n finds each image clean.

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
			fail "the tree read from xtfs ($bs-byte blocks, $pass) differs from its source"
	done
	expect_eq "entries of a 300-entry directory" 302 "$(ls -a "$SCRATCH_MNT/big" | wc -l)"
	err=$(stat "$SCRATCH_MNT/a/missing" 2>&1) && fail "stat of a missing name succeeded"
	echo "$err" | grep -q 'No such file or directory' || fail "missing name: $err"
	err=$(stat "$SCRATCH_MNT/$(printf 'y%.0s' $(seq 1 251))" 2>&1) && fail "stat of a 251-byte name succeeded"
	echo "$err" | grep -q 'File name too long' || fail "251-byte name: $err"
	check_xtfs "$SCRATCH_DEV"
	echo "$bs-byte blocks: $(wc -l <"$RESULT_DIR/xtfs.list") entries match, cached, after drop_caches and after remount"
done
