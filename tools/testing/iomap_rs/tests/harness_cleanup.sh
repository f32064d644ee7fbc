#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness's cleanup after a test (guest-cleanup.sh), which runs after
# every test: a test that fails on purpose in a lane of its own (lane 7,
# its disks two loop devices) leaves its scratch filesystem mounted, a
# device-mapper device over its scratch disk with a filesystem mounted from
# it, and a loop device over a file in its directories, mounted too. The
# cleanup takes each away and says so, leaves alone a mount that belongs to
# no lane, and the same test run again after it (creating the same names)
# passes. A process a test leaves running is killed.

. "$(dirname "$0")/common.sh"
# shellcheck source=../guest-cleanup.sh
. "$(dirname "$0")/../guest-cleanup.sh"
require_xtfs

lane=7
read -ra dirs <<<"$(cleanup_lane_dirs $lane)"
scratch=${dirs[0]} ref=${dirs[1]} tmp=${dirs[2]}
work=$(mktemp -d)
other=$work/other other2=$work/other2
disks=()
finish() {
	set +o errexit
	local t
	for t in "$tmp/mnt" "$tmp/dm" "$scratch" "$other" "$other2"; do
		while mountpoint -q "$t"; do umount "$t" || break; done
	done
	dmsetup remove iomap_rs-cleanup-test 2>/dev/null
	for d in "${disks[@]}"; do losetup -d "$d" 2>/dev/null; done
	rm -rf "$work" "$scratch" "$ref" "$tmp"
}
trap finish EXIT
export DM_DISABLE_UDEV=1

# The lane's two disks.
for d in test scratch; do
	truncate -s 64M "$work/$d.img"
	disks+=("$(losetup -f --show "$work/$d.img")") || fail "losetup failed"
done
tdev=${disks[0]} sdev=${disks[1]}
mkdir -p "$scratch" "$ref" "$tmp" "$other" "$other2"
mount -t tmpfs none "$other" || fail "mounting a tmpfs failed"
cleanup_snapshot
# Not the lane's: made after the snapshot, on top of a mount from before
# it and on a directory of its own, outside the lane's directories and from
# no device of the lane.
mount -t tmpfs none "$other" || fail "mounting a second tmpfs failed"
mount -t tmpfs none "$other2" || fail "mounting a third tmpfs failed"

# leaky_test: what a test of lane 7 might do before it fails.
leaky_test() {
	mkfs.xtfs -q -b 4096 -s 32m "$sdev" || return 2
	mount -t xtfs "$sdev" "$scratch" || return 2
	echo "0 $(blockdev --getsz "$tdev") linear $tdev 0" |
		dmsetup create iomap_rs-cleanup-test 2>/dev/null || return 2
	mkfs.xtfs -q -b 4096 -s 32m /dev/mapper/iomap_rs-cleanup-test || return 2
	mkdir -p "$tmp/dm" "$tmp/mnt"
	mount -t xtfs /dev/mapper/iomap_rs-cleanup-test "$tmp/dm" || return 2
	truncate -s 16M "$tmp/img" && mkfs.xtfs -q -b 4096 -s 16m "$tmp/img" || return 2
	mount -t xtfs -o loop "$tmp/img" "$tmp/mnt" || return 2
	truncate -s 1M "$ref/spare.img"
	losetup -f "$ref/spare.img" || return 2
	return 1
}

rc=0
( leaky_test ) || rc=$?
[ "$rc" = 1 ] || fail "the leaky test could not set itself up (status $rc)"
report=$(cleanup_after $lane "$tdev" "$sdev")
echo "$report"
for want in "unmounted $scratch" "unmounted $tmp/dm" "unmounted $tmp/mnt" \
	"removed device-mapper device iomap_rs-cleanup-test" "detached loop device"; do
	grep -qF -- "cleanup: $want" <<<"$report" || fail "the cleanup did not report '$want'"
done
if grep -q "could not" <<<"$report"; then
	fail "the cleanup left something behind"
fi
for t in "$other" "$other2"; do
	[ "$(findmnt -rn -o TARGET | grep -cxF "$t")" = \
		"$([ "$t" = "$other" ] && echo 2 || echo 1)" ] ||
		fail "the cleanup unmounted a tmpfs on $t, which is no lane's"
done
for t in "$scratch" "$tmp/dm" "$tmp/mnt"; do
	if findmnt -rn -o TARGET | grep -qxF "$t"; then fail "$t is still mounted"; fi
done
if dmsetup ls | grep -q iomap_rs-cleanup-test; then
	fail "the device-mapper device is still there"
fi
if losetup -n -O BACK-FILE | grep -qF "$ref/" || losetup -n -O BACK-FILE | grep -qF "$tmp/"; then
	fail "a loop device over the lane's files is still there"
fi

# A test that exits with a process still running in the background: the
# harness runs each test under timeout(1), which leads a process group.
timeout 60 bash -c 'sleep 1000 </dev/null >/dev/null 2>&1 & exit 1' </dev/null &
pid=$!
wait "$pid" || true
report=$(cleanup_processes "$pid")
echo "$report"
grep -q "cleanup: killed processes the test left running: [0-9]" <<<"$report" ||
	fail "the cleanup did not report the process left running"
sleep 1
for p in $(pgrep -g "$pid"); do
	read -r _ _ state _ <"/proc/$p/stat" || continue
	[ "$state" = Z ] || fail "process $p of the test still runs (state $state)"
done

# The same test again, with the same names, now cleaning up after itself.
rc=0
( leaky_test ) || rc=$?
[ "$rc" = 1 ] || fail "the test after the failed one could not set itself up (status $rc)"
umount "$tmp/mnt" "$tmp/dm" "$scratch" || fail "unmounting failed"
dmsetup remove iomap_rs-cleanup-test || fail "removing the device-mapper device failed"
losetup -j "$ref/spare.img" -n -O NAME | xargs -r losetup -d
report=$(cleanup_after $lane "$tdev" "$sdev")
expect_eq "the cleanup after a test that cleaned up" "" "$report"
umount "$other" "$other2"
echo "a failed test's mounts, device-mapper and loop devices taken away and reported;" \
	"the test after it set up the same names"
