#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtfs writes its metadata through the block device's page cache and file
# data straight to the device. With 1 KiB blocks a page of that cache holds
# four blocks, some of them file data, whose cached copies go stale when the
# file is overwritten. A metadata write must dirty only its own blocks:
# written back whole, the folio would put the stale copies over the newer
# file data. On kernels with buffer heads (KCONFIG=distro), a buffered read
# of the device (readahead, as blkid or dd do) leaves folios without
# buffers, and dirtying such a folio used to dirty all of it.
#   1. files of one block, each followed on disk by a directory block, and
#      synced;
#   2. the caches dropped and the device read buffered;
#   3. the files overwritten and synced (their cached copies now stale);
#   4. an entry added to each directory: a metadata write into each page
#      that holds a file's block;
#   5. synced and the caches dropped: every file has its new contents, also
#      after a remount, and fsck finds the image clean.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 90

. "$(dirname "$0")/common.sh"
require_xtfs
ref_dir

n=24
mkfs.xtfs -q -b 1024 -s 16m "$SCRATCH_DEV" || fail "mkfs.xtfs failed"
mount_xtfs "$SCRATCH_DEV"
m=$SCRATCH_MNT
for i in $(seq "$n"); do
	head -c 1024 /dev/urandom >"$REF_DIR/old.$i"
	head -c 1024 /dev/urandom >"$REF_DIR/new.$i"
	cp "$REF_DIR/old.$i" "$m/f$i" || fail "writing f$i failed"
	# Writeback allocates the file's block; the directory's first entry
	# then takes the next free one.
	sync
	mkdir "$m/d$i" && touch "$m/d$i/a" || fail "mkdir d$i failed"
done
# The layout the test relies on: the block after a file's is not the next
# file's (a directory's block, or the root's) and shares its page.
block_of() {
	local sector
	sector=$(device_sector "$1" 0)
	[ -z "$sector" ] || echo $((sector / 2))
}
shared=0
for i in $(seq $((n - 1))); do
	b=$(block_of "$m/f$i") c=$(block_of "$m/f$((i + 1))")
	[ -n "$b" ] && [ -n "$c" ] ||
		fail "no block for f$i or f$((i + 1)): $(xfs_io -c fiemap "$m/f$i")"
	if [ $((b % 4)) != 3 ] && [ "$c" != $((b + 1)) ]; then shared=$((shared + 1)); fi
done
[ "$shared" -ge $((n / 2)) ] ||
	fail "only $shared of $((n - 1)) file blocks share their page" \
		"with a metadata block after them"
drop_caches
dd if="$SCRATCH_DEV" of=/dev/null bs=1M count=16 status=none || fail "reading the device failed"
for i in $(seq "$n"); do
	dd if="$REF_DIR/new.$i" of="$m/f$i" bs=1024 conv=notrunc status=none ||
		fail "overwriting f$i failed"
done
sync
for i in $(seq "$n"); do
	touch "$m/d$i/b" || fail "adding an entry to d$i failed"
done
drop_caches
for i in $(seq "$n"); do
	expect_same "f$i after a metadata write in its page" "$m/f$i" "$REF_DIR/new.$i"
done
unmount_scratch
mount_xtfs "$SCRATCH_DEV"
for i in $(seq "$n"); do
	expect_same "f$i after a remount" "$m/f$i" "$REF_DIR/new.$i"
	[ -e "$m/d$i/a" ] && [ -e "$m/d$i/b" ] || fail "d$i lost an entry"
done
check_xtfs "$SCRATCH_DEV"
echo "$n one-block files overwritten next to directory blocks," \
	"the device read buffered in between: the metadata writes left the new data alone;" \
	"fsck clean"
