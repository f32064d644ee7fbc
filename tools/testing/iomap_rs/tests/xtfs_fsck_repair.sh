#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fsck.xtfs repairs: each hand-made corruption (xtfs_corrupt --list, but
# the superblock's) and damaged images of written filesystems (3 random
# bytes of the metadata or the blocks in use, as xtfs_used_images makes
# them; IOMAP_RS_REPAIR_IMAGES, default 100) go through fsck.xtfs -y, which
# must exit 1 (repaired) or 0 (nothing wrong), or 4 only for a superblock
# or root inode it cannot repair, leaving those unchanged. A repaired image
# must be clean for fsck.xtfs -n, mount, and be used without a single error
# by progs/useimage.c (every file and link read, every directory listed,
# files created, written, fsynced, renamed, truncated and removed), and be
# clean again after. An inode whose fields can be set right without losing
# anything is kept. The image taken while a file was open and unlinked
# has that orphan freed; a root directory whose block is gone gets a
# lost+found holding everything it named. Preening (-p) repairs a bitmap and link counts,
# gives a block claimed twice to its second owner as a copy (the symbolic link
# whose block a file claimed keeps its target), but leaves a bad entry to -y,
# saying so. A mounted device is refused.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 180

. "$(dirname "$0")/common.sh"
require_xtfs

xtfs_image_dir

# repaired WHAT IMAGE: IMAGE, repaired, is clean and used cleanly (on the
# scratch disk).
repaired() {
	fsck.xtfs -n "$2" >"$IMAGES/fsck.out" 2>&1 ||
		fail "$1: not clean after fsck.xtfs -y: $(head -n 3 "$IMAGES/fsck.out")"
	dd if="$2" of="$SCRATCH_DEV" bs=1M status=none conv=notrunc ||
		fail "cannot write $SCRATCH_DEV"
	local out
	out=$(useimage "$SCRATCH_DEV" "$SCRATCH_MNT" xtfs) || fail "$1: the unmount failed: $out"
	case $out in
	"used "*" ok") ;;
	*) fail "$1: repaired, but using it gave: $out" ;;
	esac
	fsck.xtfs -n "$SCRATCH_DEV" >"$IMAGES/fsck.out" 2>&1 ||
		fail "$1: not clean after use: $(head -n 3 "$IMAGES/fsck.out")"
}

# inodes_in_use IMAGE: as fsck.xtfs -v counts them.
inodes_in_use() {
	fsck.xtfs -n -v "$1" | sed -n 's/^\([0-9]*\) inodes of .*/\1/p'
}

cases=0
for c in $(xtfs_corrupt --list | grep -v '^sb_') $(xtfs_corrupt --list-accepted); do
	cp "$IMAGES/base.img" "$IMAGES/c.img"
	xtfs_corrupt "$IMAGES/c.img" "$c" || fail "xtfs_corrupt $c failed"
	cp "$IMAGES/c.img" "$IMAGES/before.img"
	rc=0
	fsck.xtfs -y "$IMAGES/c.img" >"$IMAGES/repair.out" 2>&1 || rc=$?
	if [ "$c" = root_not_dir ]; then
		expect_eq "$c: fsck.xtfs -y exit status (a root that is not a directory)" 4 "$rc"
		cmp -s "$IMAGES/c.img" "$IMAGES/before.img" ||
			fail "$c: fsck.xtfs -y changed an image it cannot repair"
		continue
	fi
	[ "$rc" = 1 ] || fail "$c: fsck.xtfs -y exit status $rc, expected 1:" \
		"$(tail -n 3 "$IMAGES/repair.out")"
	repaired "$c" "$IMAGES/c.img"
	case $c in
	inode_bad_nsec | inode_reserved | inode_stray_extent_block | \
		dir_extent_unwritten | symlink_size)
		# Fields set right in place: the inode and what it holds stay.
		expect_eq "$c: inodes in use after the repair (the inode kept)" \
			"$(inodes_in_use "$IMAGES/base.img")" "$(inodes_in_use "$IMAGES/c.img")"
		;;
	esac
	if [ "$c" = root_bad_extent ]; then
		# The root's only block is gone: everything it named goes to lost+found.
		expect_eq "$c: inodes in use after the repair (lost+found added, nothing freed)" \
			"$(($(inodes_in_use "$IMAGES/base.img") + 1))" \
			"$(inodes_in_use "$IMAGES/c.img")"
	fi
	printf '%-28s %s\n' "$c" "$(tail -n 1 "$IMAGES/repair.out" | sed 's/.*: //')"
	cases=$((cases + 1))
done
echo "$cases hand-made cases repaired, clean and used; a root that is not a directory left alone"

# Preening repairs what loses nothing, and only that.
cp "$IMAGES/base.img" "$IMAGES/c.img"
xtfs_corrupt "$IMAGES/c.img" bitmap_metadata_free
xtfs_corrupt "$IMAGES/c.img" dir_nlink_one
rc=0
fsck.xtfs -p "$IMAGES/c.img" >"$IMAGES/repair.out" 2>&1 || rc=$?
expect_eq "fsck.xtfs -p exit status, a bitmap and a link count wrong" 1 "$rc"
repaired "preen of a bitmap and a link count" "$IMAGES/c.img"
cp "$IMAGES/base.img" "$IMAGES/c.img"
xtfs_corrupt "$IMAGES/c.img" dirent_bad_name
rc=0
fsck.xtfs -p "$IMAGES/c.img" >"$IMAGES/repair.out" 2>&1 || rc=$?
expect_eq "fsck.xtfs -p exit status, a bad directory entry" 4 "$rc"
grep -q "UNEXPECTED INCONSISTENCY: run fsck.xtfs -y" "$IMAGES/repair.out" ||
	fail "fsck.xtfs -p did not say that -y is needed: $(tail -n 2 "$IMAGES/repair.out")"
rc=0
fsck.xtfs -y "$IMAGES/c.img" >"$IMAGES/repair.out" 2>&1 || rc=$?
expect_eq "fsck.xtfs -y after -p" 1 "$rc"
repaired "-y after -p" "$IMAGES/c.img"
echo "preening repaired a bitmap and a link count, and left a bad entry to -y"

# A block claimed twice (the regular file's first block is the symbolic
# link's): preening gives the second owner a copy of it, and both keep what
# they held. (Dropping the second owner's extent would lose the link.)
cp "$IMAGES/base.img" "$IMAGES/c.img"
xtfs_corrupt "$IMAGES/c.img" extent_cross_linked
rc=0
fsck.xtfs -p "$IMAGES/c.img" >"$IMAGES/repair.out" 2>&1 || rc=$?
expect_eq "fsck.xtfs -p exit status, a block claimed twice" 1 "$rc"
fsck.xtfs -n "$IMAGES/c.img" >"$IMAGES/fsck.out" 2>&1 ||
	fail "a block claimed twice: not clean after fsck.xtfs -p: $(head -n 3 "$IMAGES/fsck.out")"
dd if="$IMAGES/c.img" of="$SCRATCH_DEV" bs=1M status=none conv=notrunc ||
	fail "cannot write $SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"
expect_eq "the symbolic link's target after the copy" file "$(readlink "$SCRATCH_MNT/link")"
expect_eq "the file's first bytes (the link's block, as before)" file \
	"$(head -c 4 "$SCRATCH_MNT/file")"
unmount_scratch
repaired "a block claimed twice, preened" "$IMAGES/c.img"
echo "a block claimed twice: preening copied it for its second owner:" \
	"$(head -n 1 "$IMAGES/repair.out")"

# Output that cannot be written (a closed pipe) stops no repair halfway: the
# reader is gone before fsck.xtfs starts, so each of its writes fails (EPIPE).
cp "$IMAGES/base.img" "$IMAGES/c.img"
xtfs_corrupt "$IMAGES/c.img" dir_nlink_one
xtfs_corrupt "$IMAGES/c.img" dirent_bad_name
rc=0
{ sleep 1; fsck.xtfs -y "$IMAGES/c.img" 2>&1; } | true || rc=${PIPESTATUS[0]}
expect_eq "fsck.xtfs -y writing to a closed pipe: exit status" 1 "$rc"
repaired "-y with its output cut short" "$IMAGES/c.img"
echo "fsck.xtfs -y writing to a closed pipe: repaired"

# Written images: an orphan, then random damage.
xtfs_written_images "$IMAGES" 4m
# The image taken with an open unlinked file has it on the orphan list: clean,
# the next mount's to free. Cut off the list, it is fsck's.
cp "$IMAGES/live.img" "$IMAGES/orphan.img"
rc=0
fsck.xtfs -n "$IMAGES/orphan.img" >"$IMAGES/repair.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "the image taken with an open unlinked file:" \
	"fsck.xtfs -n exit status $rc, expected 0: $(head -n 3 "$IMAGES/repair.out")"
grep -q "^1 orphans" "$IMAGES/repair.out" ||
	fail "the orphan on the list is not counted: $(cat "$IMAGES/repair.out")"
# (Its log, which holds the superblock, written home first.)
fsck.xtfs -y "$IMAGES/orphan.img" >"$IMAGES/repair.out" 2>&1 ||
	fail "fsck.xtfs -y of a clean image with a log: $(head -n 3 "$IMAGES/repair.out")"
xtfs_corrupt "$IMAGES/orphan.img" orphan_list_cut || fail "xtfs_corrupt failed"
rc=0
fsck.xtfs -y "$IMAGES/orphan.img" >"$IMAGES/repair.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "the orphan off the list: fsck.xtfs -y exit status $rc, expected 1"
grep -q "orphan" "$IMAGES/repair.out" || fail "no orphan found off the list"
repaired "the orphan freed" "$IMAGES/orphan.img"
echo "the open unlinked file's inode: on the orphan list, clean; off it, freed:" \
	"$(grep -m1 orphan "$IMAGES/repair.out")"

images=${IOMAP_RS_REPAIR_IMAGES:-100}
seed=${IOMAP_RS_SEED:-$(date +%s)}
echo "damaged images: seed $seed (IOMAP_RS_SEED=$seed reproduces them)"
declare -A count=()
cp "$IMAGES/clean.img" "$IMAGES/d.img"
for ((i = 1; i <= images; i++)); do
	xtfs_damaged_image "$IMAGES" "$IMAGES/d.img" "$i" "$seed"
	base=$DAMAGED_BASE
	rc=0
	fsck.xtfs -y "$IMAGES/d.img" >"$IMAGES/repair.out" 2>&1 || rc=$?
	case $rc in
	0 | 1) repaired "image $((seed + i)) ($base)" "$IMAGES/d.img" ;;
	4) grep -q "superblock:\|root inode 1 is not a directory" "$IMAGES/repair.out" ||
		fail "image $((seed + i)) ($base): left unrepaired:" \
			"$(tail -n 3 "$IMAGES/repair.out")" ;;
	*) fail "image $((seed + i)) ($base): fsck.xtfs -y exit status $rc" ;;
	esac
	count[$rc]=$((${count[$rc]:-0} + 1))
done
echo "$images damaged images: ${count[1]:-0} repaired, ${count[0]:-0} with nothing to repair," \
	"${count[4]:-0} with a broken superblock or root left alone;" \
	"every repaired one clean and used"

mkfs_scratch_xtfs
rc=0
fsck.xtfs -y "$SCRATCH_DEV" >"$IMAGES/repair.out" 2>&1 || rc=$?
expect_eq "fsck.xtfs -y of a mounted device" 8 "$rc"
echo "a mounted device refused: $(head -n 1 "$IMAGES/repair.out")"
