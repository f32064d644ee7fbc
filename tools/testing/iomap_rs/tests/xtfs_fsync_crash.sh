#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What fsync promises across a power cut, after renames and links: our
# analogues of fstests' dm-flakey tests generic/321, 322, 335, 336, 341, 342,
# 343 and 376. Each case changes names, fsyncs one file or directory, and
# then the power goes: the scratch device's table is switched to dm-flakey
# drop_writes (every later write acknowledged and lost), a change that was
# not fsynced is made, and the filesystem is unmounted and switched back.
# Then fsck.xtfs -n is clean (link counts, no leaks), the mount replays the
# journal, and the names and contents the fsync covered are there: the ones
# POSIX and Linux filesystems promise (a renamed file fsynced is found under
# its new name; an fsynced directory has its entries; a file fsynced has
# every link made before), and, since an xtfs commit holds every operation
# before it, the whole state of the fsync.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 65

. "$(dirname "$0")/common.sh"
require_xtfs

cleanup() {
	is_mounted "$SCRATCH_MNT" && umount "$SCRATCH_MNT"
	flakey_remove
}
trap cleanup EXIT
flakey_scratch "xtfs-fsync-crash-${SCRATCH_DEV##*/}"
mkfs.xtfs -q -b 4096 -s 64m "$FLAKEY_DEV" || fail "mkfs.xtfs failed"
mount_xtfs "$FLAKEY_DEV"
m=$SCRATCH_MNT
ref_dir
ref=$REF_DIR

# new_file PATH SIZE: a file of SIZE random bytes, its copy kept as
# $ref/NAME (NAME: PATH with / as _).
new_file() {
	head -c "$2" /dev/urandom >"$m/$1"
	cp "$m/$1" "$ref/${1//\//_}"
}

# fsync_path PATH: fsync a file or directory (xfs_io opens either).
fsync_path() {
	xfs_io -r -c fsync "$m/$1" || fail "fsync of $1 failed"
}

# power_cut CASE [COMMAND]: the power goes; COMMAND, run after it, is lost.
power_cut() {
	flakey_switch drop_writes
	[ -z "${2:-}" ] || eval "$2" || fail "$1: the change after the cut failed"
	umount "$m" || fail "$1: umount failed"
	flakey_switch linear
	fsck.xtfs -n "$FLAKEY_DEV" >"$RESULT_DIR/fsck-$1.log" 2>&1 ||
		fail "$1: fsck.xtfs -n: $(head -n 5 "$RESULT_DIR/fsck-$1.log")"
	mount_xtfs "$FLAKEY_DEV"
}

# same PATH REF: the file at PATH has the content of the copy REF.
same() {
	[ -f "$m/$1" ] || fail "$CASE: $1 is missing"
	cmp -s "$m/$1" "$ref/${2//\//_}" || fail "$CASE: $1 has not the content of $2"
}

# gone PATH: no name PATH.
gone() {
	[ ! -e "$m/$1" ] || fail "$CASE: $1 is still there"
}

# links PATH N: the inode at PATH has N links.
links() {
	expect_eq "$CASE: links of $1" "$2" "$(stat -c %h "$m/$1")"
}

# 321: files renamed inside a directory and into a new subdirectory, the
# directories fsynced: the new names only.
CASE=321
mkdir "$m/a"
new_file a/f1 5000
new_file a/f2 70000
fsync_path a/f1
fsync_path a/f2
mv "$m/a/f1" "$m/a/g1"
mkdir "$m/a/sub"
mv "$m/a/f2" "$m/a/sub/g2"
fsync_path a
fsync_path a/sub
power_cut $CASE "touch $m/a/lost"
same a/g1 a/f1
same a/sub/g2 a/f2
gone a/f1
gone a/f2
gone a/lost

# 322: a file renamed into another directory, then the file fsynced: it is
# found under its new name (the rename is in the fsync's transaction).
CASE=322
mkdir "$m/b" "$m/c"
new_file b/x 12345
sync
mv "$m/b/x" "$m/c/y"
fsync_path c/y
power_cut $CASE "mv $m/c/y $m/b/z"
same c/y b/x
gone b/x
gone b/z

# 335: a file moved to a new directory, written and fsynced: the new parent
# has it, the old one does not.
CASE=335
mkdir "$m/d"
new_file d/w 4096
sync
mkdir "$m/d/new"
mv "$m/d/w" "$m/d/new/w"
head -c 8192 /dev/urandom >>"$m/d/new/w"
cp "$m/d/new/w" "$ref/d_w"
fsync_path d/new/w
power_cut $CASE
same d/new/w d/w
gone d/w
links d/new 2

# 336: a file with links in two directories; one link removed, the file
# moved, then fsynced: one name, one link.
CASE=336
mkdir "$m/e" "$m/e2"
new_file e/v 3000
ln "$m/e/v" "$m/e2/v"
sync
rm "$m/e/v"
mv "$m/e2/v" "$m/e2/v2"
fsync_path e2/v2
power_cut $CASE
same e2/v2 e/v
gone e/v
gone e2/v
links e2/v2 1

# 341: a directory renamed, a new one made under its old name with a file,
# which is fsynced: both directories, each with its own files.
CASE=341
mkdir -p "$m/g/dir"
new_file g/dir/old 2222
sync
mv "$m/g/dir" "$m/g/dir2"
mkdir "$m/g/dir"
new_file g/dir/new 3333
fsync_path g/dir/new
power_cut $CASE
same g/dir2/old g/dir/old
same g/dir/new g/dir/new
gone g/dir/old
links g 4

# 342: a file renamed, a new file made under its old name and fsynced: both
# names, each with its own content.
CASE=342
mkdir "$m/h"
new_file h/foo 4444
sync
mv "$m/h/foo" "$m/h/bar"
cp "$ref/h_foo" "$ref/h_bar"
new_file h/foo 5555
fsync_path h/foo
power_cut $CASE
same h/bar h/bar
same h/foo h/foo

# 343: a hard link made in another directory, then the file renamed, then
# fsynced: every name made before the fsync, the link count right.
CASE=343
mkdir "$m/i" "$m/i2"
new_file i/f 6000
sync
ln "$m/i/f" "$m/i2/link"
mv "$m/i/f" "$m/i/g"
fsync_path i/g
power_cut $CASE "rm $m/i2/link"
same i/g i/f
same i2/link i/f
gone i/f
links i/g 2

# 376: a file renamed to a name in a new directory and linked back under its
# old name, then fsynced: both names, two links.
CASE=376
mkdir "$m/j"
new_file j/a 7000
sync
mkdir "$m/j/k"
mv "$m/j/a" "$m/j/k/b"
ln "$m/j/k/b" "$m/j/a"
fsync_path j/a
power_cut $CASE
same j/k/b j/a
same j/a j/a
links j/a 2

umount "$m"
fsck.xtfs -n "$FLAKEY_DEV" >"$RESULT_DIR/fsck.log" 2>&1 ||
	fail "fsck.xtfs -n at the end: $(head -n 5 "$RESULT_DIR/fsck.log")"
echo "8 power cuts after renames, links and fsync" \
	"(analogues of generic/321, 322, 335, 336, 341, 342, 343, 376):" \
	"fsck clean, names, contents and link counts as fsynced"
