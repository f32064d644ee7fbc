#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Time stamps come from one clock: a file changed right after it was
# created never gets an older mtime or ctime than its creation gave it
# (xtfs stamped new inodes with the fine clock, the VFS stamps changes with
# the coarse one, up to a tick behind). And access times follow the mount's
# atime mode (progs/timestamps.c: relatime updates an atime older than the
# mtime or ctime, strictatime every time, noatime never), for reads of files
# and listings of directories, and the updated atime survives a remount.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

use_write_path rust
mkfs_scratch_xtfs -s 64m
m=$SCRATCH_MNT
mkdir "$m/order"
timestamps order "$m/order" 300 >"$RESULT_DIR/order.log" 2>&1 ||
	{ cat "$RESULT_DIR/order.log"; fail "time stamps went backwards"; }
tail -n 1 "$RESULT_DIR/order.log"

for mode in relatime strictatime noatime; do
	unmount_scratch
	mount -t xtfs -o "$mode" "$SCRATCH_DEV" "$m" || fail "mount -o $mode failed"
	echo data >"$m/file-$mode"
	mkdir "$m/dir-$mode"
	: >"$m/dir-$mode/entry"
	for p in "file-$mode" "dir-$mode"; do
		timestamps atime "$m/$p" "$mode" >"$RESULT_DIR/atime.log" 2>&1 ||
			{ cat "$RESULT_DIR/atime.log"; fail "$p: access times wrong under $mode"; }
	done
	kept=$(stat -c '%n %x' "$m/file-$mode" "$m/dir-$mode")
	unmount_scratch
	mount_xtfs "$SCRATCH_DEV"
	expect_eq "access times after a remount ($mode)" "$kept" \
		"$(stat -c '%n %x' "$m/file-$mode" "$m/dir-$mode")"
	echo "$mode: access times of a file and a directory right, and kept over a remount"
done
check_xtfs "$SCRATCH_DEV"
