#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtfs mounts read-write and persists attribute changes through setattr and
# write_inode: chmod, chown and utimes (nanoseconds) on files, directories
# and symlinks survive dropping the caches and a remount, and fsck.xtfs -n
# finds the image clean.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

src=$(mktemp -d)
mount -t tmpfs none "$src"
trap 'umount "$src"; rmdir "$src"' EXIT
mkdir -p "$src/dir/sub"
echo content >"$src/file"
head -c 10000 /dev/urandom >"$src/dir/data"
ln -s file "$src/link"

mkfs.xtfs -q -b 1024 -s 16m -d "$src" "$SCRATCH_DEV" || fail "mkfs.xtfs -d failed"
mount_xtfs "$SCRATCH_DEV"
findmnt -no OPTIONS "$SCRATCH_MNT" | grep -q '^rw' || fail "xtfs did not mount read-write"

m=$SCRATCH_MNT
chmod 640 "$m/file" && chown 1234:5678 "$m/file" || fail "chmod/chown of a file failed"
touch -d @1600000000.123456789 "$m/file" || fail "utimes of a file failed"
chmod 2711 "$m/dir" && chown 42:43 "$m/dir" || fail "chmod/chown of a directory failed"
touch -m -d @1700000000.5 "$m/dir/sub" || fail "utimes of a directory failed"
chown -h 7:8 "$m/link" || fail "chown of a symlink failed"
touch -h -m -d @1500000000.25 "$m/link" || fail "utimes of a symlink failed"
want=$(stat -c '%n %a %u %g %Y.%y' "$m/file" "$m/dir" "$m/dir/sub" "$m/link")
stat -c '%n %a %u %g %Y' "$m/file" | grep -q "640 1234 5678 1600000000" ||
	fail "the change did not take: $(stat -c '%n %a %u %g %Y' "$m/file")"

for pass in caches-dropped remounted; do
	case $pass in
	caches-dropped) drop_caches ;;
	remounted) unmount_scratch; mount_xtfs "$SCRATCH_DEV" ;;
	esac
	expect_eq "attributes ($pass)" "$want" \
		"$(stat -c '%n %a %u %g %Y.%y' "$m/file" "$m/dir" "$m/dir/sub" "$m/link")"
	cmp "$src/file" "$m/file" || fail "file contents changed ($pass)"
	cmp "$src/dir/data" "$m/dir/data" || fail "data contents changed ($pass)"
done
check_xtfs "$SCRATCH_DEV"
echo "chmod, chown and utimes of a file, directories and a symlink persist; fsck clean"
