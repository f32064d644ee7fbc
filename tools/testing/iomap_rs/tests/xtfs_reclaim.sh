#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtfs under reclaim, with lockdep watching. Eviction (evict_inode) and I/O
# completion take xtfs's per-inode extent lock and its allocator lock; a
# task holding either that allocated with GFP_KERNEL could enter reclaim,
# have the superblock shrinker evict another xtfs inode, and wait for the
# lock it holds. Lockdep reports that as a cycle through fs_reclaim as soon
# as it has seen both orders once. Here 2000 xtfs files are written and left
# alone, and a memory hog and reads of the test disk through the page cache
# make direct reclaim and kswapd evict their inodes. The test checks that
# they did (lockdep recorded fs_reclaim before xtfs's locks) and the harness
# that lockdep reported nothing: the locks are NoFsMutexes
# (kernel::fs::reclaim), whose holders allocate without entering filesystem
# reclaim.

. "$(dirname "$0")/common.sh"
require_xtfs
[ -r /proc/lockdep ] || skip "no /proc/lockdep (CONFIG_PROVE_LOCKING)"

mkfs_scratch_xtfs -b 4096 -s 512m
m=$SCRATCH_MNT
n=2000
mkdir "$m/d"
# Small files (shell built-ins only: no process per file), written back, and
# then left alone: their dentries and inodes age on the LRU lists that the
# shrinkers scan.
for ((i = 1; i <= n; i++)); do
	printf '%*s' $((i % 7 * 1500 + 1)) '' >"$m/d/f$i"
done
sync
nr_before=$(cut -f1 /proc/sys/fs/inode-nr)

hog=
pressure=$(cat /proc/sys/vm/vfs_cache_pressure)
stop_hog() {
	[ -z "$hog" ] || kill "$hog" 2>/dev/null
	wait 2>/dev/null
	echo "$pressure" >/proc/sys/vm/vfs_cache_pressure
}
trap stop_hog EXIT
# Reclaim scans a cache in proportion to its size, and a few thousand inodes
# are nothing next to gigabytes of page cache: count them a hundred times.
echo 10000 >/proc/sys/vm/vfs_cache_pressure
# The page cache filled from the test disk, then a hog that takes all but a
# little of what is left: its page faults reclaim (direct reclaim), and so
# does kswapd while the disk is read on.
dd if="$TEST_DEV" of=/dev/null bs=1M count=1024 status=none
avail=$(($(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))
coproc HOG { exec memhog $((avail - 256)); }
hog=$HOG_PID
read -r ready <&"${HOG[0]}" || fail "memhog did not start"
expect_eq "memhog" ready "$ready"
dd if="$TEST_DEV" of=/dev/null bs=1M count=2048 skip=1024 status=none
stop_hog
hog=
trap - EXIT
diagnose "inodes in memory: $nr_before before the pressure, $(cut -f1 /proc/sys/fs/inode-nr) after"

# xtfs still works on what reclaim evicted: every file reads back.
for ((i = 1; i <= n; i += 97)); do
	[ "$(stat -c %s "$m/d/f$i")" = $((i % 7 * 1500 + 1)) ] || fail "f$i has the wrong size"
done
rm -rf "$m/d"

# Lockdep is still on and saw an xtfs lock taken inside reclaim: a chain of
# held locks with fs_reclaim before one of xtfs's (/proc/lockdep lists only
# direct dependencies, and the shrinker holds the superblock's s_umount
# between).
grep -qE '^ *debug_locks: *1$' /proc/lockdep_stats ||
	fail "lockdep is off: $(grep debug_locks /proc/lockdep_stats)"
chains=$(tr '\n' '\t' </proc/lockdep_chains | sed 's/\t\t/\n/g' |
	grep -E 'fs_reclaim.*(xtfs_inode_info|xtfs_alloc)' || true)
[ -n "$chains" ] ||
	fail "reclaim never took an xtfs lock here (no lock chain fs_reclaim ... xtfs):" \
		"the test proves nothing"
diagnose "lockdep saw reclaim take:" \
	"$(grep -oE 'xtfs_(inode_info|alloc)' <<<"$chains" | sort -u | tr '\n' ' ')"
check_xtfs "$SCRATCH_DEV"
echo "xtfs inodes evicted by reclaim under memory pressure: no lockdep report; fsck clean"
