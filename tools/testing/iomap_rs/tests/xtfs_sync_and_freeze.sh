#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sync(2), syncfs(2), a freeze and the unmount flush the device's volatile
# write cache (sync_fs), which nothing else asks for: without it, what they
# wrote could still be lost to a power failure. The disk's count of FLUSH
# requests (field 16 of /sys/block/DEV/stat) must grow with each.
#
# And a frozen xtfs does not change its device (freeze_fs, and internal
# changes under sb_start_intwrite): the last close of an unlinked file,
# which deletes the inode at eviction, waits for the thaw; an fsync and a
# sync(2) return at once (the freeze made everything durable) without
# writing or flushing; the device,
# as read through its page cache (where xtfs's metadata goes first), stays
# the same, and the disk gets no write and no flush meanwhile. After the
# thaw the deletion is done (the inode and its blocks are free again) and
# fsck.xtfs finds the filesystem clean.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

disk=${SCRATCH_DEV##*/}
[ "$(cat "/sys/block/$disk/queue/write_cache")" = "write back" ] ||
	fail "$SCRATCH_DEV has no volatile write cache: flushes would not be counted"
# The disk's counts of write and flush requests, once they stop changing: a
# request is counted only after its waiter has been woken.
requests() {
	local f now last=
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		read -ra f <"/sys/block/$disk/stat"
		now="writes ${f[4]} flushes ${f[15]}"
		[ "$now" != "$last" ] || break
		last=$now
		sleep 0.3
	done
	echo "$now"
}
flushes() {
	local r
	r=$(requests)
	echo "${r##* }"
}
# expect_flush WHAT COMMAND...: COMMAND sends at least one FLUSH to the disk.
expect_flush() {
	local what=$1 before
	shift
	before=$(flushes)
	"$@" || fail "$what failed"
	[ "$(flushes)" -gt "$before" ] || fail "$what did not flush the disk's write cache"
	echo "$what flushed the disk's write cache"
}

use_write_path rust
mkfs_scratch_xtfs -s 32m
m=$SCRATCH_MNT
xfs_io -f -c "pwrite -q 0 64k" "$m/a"
expect_flush "syncfs" xfs_io -c syncfs "$m/a"
xfs_io -f -c "pwrite -q 0 64k" "$m/b"
expect_flush "sync" sync
mkdir "$m/dir"
expect_flush "umount" umount "$m"
mount_xtfs "$SCRATCH_DEV"

# The device as its page cache has it: the first 32 MiB (the filesystem).
device_sum() {
	dd if="$SCRATCH_DEV" bs=1M count=32 status=none | md5sum
}
echo data >"$m/other"
sync
free_inodes=$(stat -f -c %d "$m")
free_blocks=$(stat -f -c %f "$m")
xfs_io -f -c "pwrite -q 0 256k" -c fsync "$m/unlinked"
sleep 600 <"$m/unlinked" &
holder=$!
# The background shell opens the file on its own time.
for ((i = 0; i < 100; i++)); do
	[ "$(readlink "/proc/$holder/fd/0")" != "$m/unlinked" ] || break
	sleep 0.1
done
[ "$i" -lt 100 ] || fail "the holder did not open the file"
rm "$m/unlinked"
expect_flush "a freeze" fsfreeze -f "$m"
trap 'fsfreeze -u "$m" 2>/dev/null; kill $holder 2>/dev/null; true' EXIT
frozen=$(device_sum)
io=$(requests)
# The holder's last close deletes the inode.
kill $holder
out=$(timeout 60 xfs_io -r -c fsync "$m/other" 2>&1) && [ -z "$out" ] ||
	fail "fsync of a frozen filesystem failed or did not return: $out"
# sync(2) syncs frozen filesystems too.
sync
sleep 3
[ -e "/proc/$holder" ] ||
	fail "the last close of an unlinked file ended while the filesystem was frozen"
expect_eq "the device while frozen" "$frozen" "$(device_sum)"
expect_eq "requests to the disk while frozen" "$io" "$(requests)"
echo "the device did not change while frozen: a deletion waited, an fsync wrote nothing"
fsfreeze -u "$m" || fail "thaw failed"
trap - EXIT
wait $holder || true
expect_eq "free inodes once the deletion is done" "$free_inodes" "$(stat -f -c %d "$m")"
expect_eq "free blocks once the deletion is done" "$free_blocks" "$(stat -f -c %f "$m")"
check_xtfs "$SCRATCH_DEV"
echo "after the thaw: the unlinked file deleted, fsync done, the filesystem clean"
