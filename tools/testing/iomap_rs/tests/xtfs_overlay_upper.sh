#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtfs as the upper layer of overlayfs (redirect_dir=on), over a tmpfs lower
# layer: the features overlayfs needs of its upper filesystem (d_type,
# trusted. extended attributes, RENAME_WHITEOUT, O_TMPFILE) in use together.
# - copy-up: appending to a lower file copies it up whole; a chmod copies
#   it up too; the lower layer is unchanged;
# - whiteouts: a removed lower file is a character device 0:0 in the upper
#   layer and gone from the merged view;
# - an opaque directory: a lower directory removed and made again holds
#   none of its lower entries (trusted.overlay.opaque);
# - a redirect: a renamed lower directory keeps its lower entries under the
#   new name (trusted.overlay.redirect);
# - the merged view (names, types, modes, contents) is the same after the
#   overlay and xtfs are unmounted and mounted again; fsck.xtfs -n is clean.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 40

. "$(dirname "$0")/common.sh"
require_xtfs
grep -qw overlay /proc/filesystems || fail "overlayfs is not available (CONFIG_OVERLAY_FS)"

m=$SCRATCH_MNT
low=$(mktemp -d)
ovl=$(mktemp -d)
mount -t tmpfs none "$low" || fail "cannot mount the lower tmpfs"
cleanup_overlay() {
	umount "$ovl" 2>/dev/null
	umount "$low" 2>/dev/null
	rmdir "$ovl" "$low"
}

# view: the merged view, one line per entry: path, type, mode, checksum.
view() {
	(cd "$ovl" && find . -printf '%p %y %m\n' | LC_ALL=C sort &&
		find . -type f -exec md5sum {} + | LC_ALL=C sort -k2)
}

mount_overlay() {
	mount -t overlay none \
		-o "lowerdir=$low,upperdir=$m/upper,workdir=$m/work,redirect_dir=on" "$ovl" ||
		fail "mounting overlayfs on xtfs failed: $(dmesg | grep overlayfs | tail -n 3)"
}

# xattr PATH NAME: the value of extended attribute NAME of PATH, or the error.
xattr() {
	python3 -c 'import os, sys
try:
    print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())
except OSError as e:
    print(os.strerror(e.errno))' "$1" "$2"
}

mkdir -p "$low/dir/sub" "$low/gone" "$low/moved"
head -c 200k /dev/urandom >"$low/big"
echo lower >"$low/small"
echo lower >"$low/dir/file"
echo lower >"$low/gone/old"
echo lower >"$low/moved/inside"
echo rm-me >"$low/removed"
lower_sum=$(cd "$low" && find . -type f -exec md5sum {} + | LC_ALL=C sort -k2)

mkfs_scratch_xtfs -s 64m
mkdir "$m/upper" "$m/work"
mount_overlay

# Copy-up of data and of metadata.
echo appended >>"$ovl/big"
chmod 600 "$ovl/small"
[ -f "$m/upper/big" ] || fail "appending did not copy big up"
expect_eq "size of the copied-up file" $((200 * 1024 + 9)) "$(stat -c %s "$m/upper/big")"
expect_eq "mode of the chmodded file in the upper layer" 600 "$(stat -c %a "$m/upper/small")"
# A whiteout.
rm "$ovl/removed"
[ -e "$ovl/removed" ] && fail "a removed lower file is still in the merged view"
expect_eq "the whiteout" "character special file 0:0" "$(stat -c '%F %t:%T' "$m/upper/removed")"
# An opaque directory.
rm -r "$ovl/gone"
mkdir "$ovl/gone"
echo new >"$ovl/gone/new"
expect_eq "the opaque directory's entries" "new" "$(ls "$ovl/gone")"
expect_eq "trusted.overlay.opaque" "y" "$(xattr "$m/upper/gone" trusted.overlay.opaque)"
# A redirect.
mv "$ovl/moved" "$ovl/renamed"
expect_eq "the renamed directory's entries" "inside" "$(ls "$ovl/renamed")"
# Relative ("moved") within one parent, absolute across.
case $(xattr "$m/upper/renamed" trusted.overlay.redirect) in
moved | /moved) ;;
*) fail "trusted.overlay.redirect: '$(xattr "$m/upper/renamed" trusted.overlay.redirect)'" ;;
esac
echo new >"$ovl/dir/sub/created"

before=$(view)
umount "$ovl" || fail "unmounting overlayfs failed"
unmount_scratch
check_xtfs "$SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"
mount_overlay
expect_eq "the merged view after both are mounted again" "$before" "$(view)"
expect_eq "the lower layer" "$lower_sum" \
	"$(cd "$low" && find . -type f -exec md5sum {} + | LC_ALL=C sort -k2)"
cleanup_overlay
check_xtfs "$SCRATCH_DEV"
echo "overlayfs on xtfs: copy-up, whiteout, opaque directory and redirect, kept across mounts"
