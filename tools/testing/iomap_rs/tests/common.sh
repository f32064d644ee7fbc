# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables are for the tests that source this
#
# Sourced by every in-guest test. A test is tools/testing/iomap_rs/tests/NAME.sh,
# run as root in the guest by guest-run-tests.sh with:
#
#   TEST_NAME     its name
#   RESULT_DIR    a host-visible directory for anything worth keeping
#   TEST_DEV      /dev/vda, SCRATCH_DEV /dev/vdb: empty 4 GiB disks
#                 (/dev/vdc and /dev/vdd in the second lane)
#   SCRATCH_MNT   where the scratch filesystem is mounted, REF_DIR a tmpfs
#                 for reference copies (one each per lane)
#   IOMAP_RS_BIN  the test programs built from tools/testing/iomap_rs/progs/
#
# A test with the line "# iomap_rs-test: parallel" may run while another
# test runs in the other lane (guest-run-tests.sh). It then must not use a
# global switch or counter (knob, use_write_path c, writes_start, the race
# and fault injection knobs of the library), a trace event, pause points,
# another module or a fixed name outside its lane (device-mapper or loop
# names included), and must not rely on the kernel log holding only its own
# lines (xtfs's messages name their device: kernel_name). Writing the
# defaults (use_write_path rust) is allowed: every parallel test does. So is
# fail-nth (fault_nth_setup, with make-it-fail on its lane's scratch device
# only): it fails the armed thread's allocations and bios only, and no other
# thread's, as the failslab, fail_page_alloc and fail_make_request
# probabilities stay 0. What the armed thread runs on another's behalf can
# still fail: direct reclaim and shrinkers evicting the other lane's inodes,
# which the other filesystem must survive as any allocation failure.
#
# Exit 0: pass, 4: skip (print the reason last), anything else: fail. Print
# what was expected and what was found before failing: it ends up in the TAP
# diagnostics. A kernel splat while the test runs fails it regardless.

set -o errexit -o nounset -o pipefail

TEST_DEV=${TEST_DEV:-/dev/vda}
SCRATCH_DEV=${SCRATCH_DEV:-/dev/vdb}
SCRATCH_MNT=${SCRATCH_MNT:-/tmp/iomap_rs-scratch}
IOMAP_RS_DEBUGFS=/sys/kernel/debug/iomap_rs
[ -d "${RESULT_DIR:=/tmp/iomap_rs-results}" ] || mkdir -p "$RESULT_DIR"

# IOMAP_RS_XTRACE=1 (make test passes it on): every command the test runs,
# with a timestamp, in $RESULT_DIR/xtrace, to see where a slow test spends
# its time. (bash ignores PS4 from the environment when run as root.)
if [ "${IOMAP_RS_XTRACE:-0}" = 1 ]; then
	PS4='+ $EPOCHREALTIME '
	exec {BASH_XTRACEFD}>>"$RESULT_DIR/xtrace"
	set -x
fi

fail() {
	echo "FAIL: $*"
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 4
}

# expect_eq WHAT EXPECTED GOT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# is_mounted DIR: something is mounted on DIR (read in the shell: a process
# costs a quarter of a second under TCG, and the helpers here run often).
is_mounted() {
	local dev mnt rest
	while read -r dev mnt rest; do
		[ "$mnt" != "$1" ] || return 0
	done </proc/self/mounts
	return 1
}

# mkfs_scratch_xfs [MKFS_OPTIONS...] and mount it on $SCRATCH_MNT.
mkfs_scratch_xfs() {
	# A failed test before may have left it mounted.
	if is_mounted "$SCRATCH_MNT"; then
		umount "$SCRATCH_MNT" || fail "cannot unmount $SCRATCH_MNT"
	fi
	mkfs.xfs -f -q "$@" "$SCRATCH_DEV" || fail "mkfs.xfs $* $SCRATCH_DEV failed"
	mount_scratch
}

# The type of the scratch filesystem: xfs, or xtfs once mount_xtfs was used.
SCRATCH_FSTYPE=xfs

mount_scratch() {
	[ -d "$SCRATCH_MNT" ] || mkdir -p "$SCRATCH_MNT"
	mount -t "$SCRATCH_FSTYPE" "$SCRATCH_DEV" "$SCRATCH_MNT" || fail "mount $SCRATCH_DEV failed"
}

unmount_scratch() {
	umount "$SCRATCH_MNT" || fail "umount $SCRATCH_MNT failed"
}

# umount_settled MNT: umount MNT, tried again for up to 5 s while it is busy
# (a reference another lane's test holds for an instant); if it stays busy,
# prints who uses it and fails (returns 1).
umount_settled() {
	local i
	for i in $(seq 1 25); do
		umount "$1" 2>/dev/null && return 0
		is_mounted "$1" || return 1
		sleep 0.2
	done
	umount "$1" && return 0
	echo "still busy after 5 s: $(fuser -vm "$1" 2>&1 | tail -n +2 | head -n 5 | tr '\n' ' ')"
	return 1
}

# Unmount and check the scratch filesystem; a repair finding is a failure.
check_scratch_xfs() {
	is_mounted "$SCRATCH_MNT" && unmount_scratch
	xfs_repair -n "$SCRATCH_DEV" >"$RESULT_DIR/xfs_repair.log" 2>&1 ||
		{
			cat "$RESULT_DIR/xfs_repair.log"
			fail "xfs_repair -n found problems on $SCRATCH_DEV"
		}
}

# knob NAME [VALUE]: read or set /sys/kernel/debug/iomap_rs/NAME.
knob() {
	if [ $# -eq 2 ]; then
		echo "$2" >"$IOMAP_RS_DEBUGFS/$1" || fail "cannot set $IOMAP_RS_DEBUGFS/$1 to $2"
	else
		cat "$IOMAP_RS_DEBUGFS/$1"
	fi
}

# diagnose MESSAGE: print MESSAGE and report it in the TAP diagnostics of
# the test even when it passes (a result worth seeing in every run).
diagnose() {
	echo "$*"
	echo "$*" >>"$RESULT_DIR/diagnostics"
}

# Route XFS buffered writes through iomap_rs (rust) or C iomap (c), with the
# fault injection knobs off.
use_write_path() {
	case $1 in
	rust) knob enabled Y ;;
	c) knob enabled N ;;
	*) fail "use_write_path: unknown path $1" ;;
	esac
	fault_injection_off
}

# The library's fault injection knobs off (they apply to every filesystem
# whose writes go through it).
fault_injection_off() {
	knob validate_delay_ms 0
	knob skip_validation N
	knob release_punch_all N
	knob fs_skip_mkwrite_recheck N
	knob fs_skip_fsync_serialize N
}

# A tmpfs for reference copies of the files under test.
REF_DIR=${REF_DIR:-/tmp/iomap_rs-ref}
ref_dir() {
	[ -d "$REF_DIR" ] || mkdir -p "$REF_DIR"
	is_mounted "$REF_DIR" || mount -t tmpfs -o size=1G tmpfs "$REF_DIR"
	rm -rf "${REF_DIR:?}"/*
}

# kernel_name DEV: the kernel's name of block device DEV (vdb, dm-3), which
# xtfs puts first in its messages ("xtfs: vdb: ..."), so that a test can tell
# its own from the other lane's.
kernel_name() {
	local mm
	mm=$(stat -L -c '%t:%T' "$1") || return 1
	basename "$(readlink -f "/sys/dev/block/$((16#${mm%:*})):$((16#${mm#*:}))")"
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# expect_same WHAT FILE REFERENCE: the two files have the same content
# (progs/samefile.c: cmp in 1 MiB reads).
expect_same() {
	samefile "$2" "$3" >"$RESULT_DIR/cmp.log" 2>&1 ||
		fail "$1: $2 differs from its reference: $(head -c 300 "$RESULT_DIR/cmp.log")"
}

# Verify FILE against REFERENCE while cached, after dropping the page cache
# and after a remount of the scratch filesystem.
verify_cached_dropped_remounted() {
	expect_same "cached" "$1" "$2"
	drop_caches
	expect_same "after dropping caches" "$1" "$2"
	unmount_scratch
	mount_scratch
	expect_same "after remount" "$1" "$2"
}

# randwrite_cases PREFIX FILE_SIZE SEED: for each "max_len align ops" line on
# stdin, random writes (tools/testing/iomap_rs/progs/randwrite.c) into
# $SCRATCH_MNT/PREFIX-max_len-align and its reference in $REF_DIR.
randwrite_cases() {
	local max_len align ops f
	while read -r max_len align ops; do
		f=$SCRATCH_MNT/$1-$max_len-$align
		"$IOMAP_RS_BIN/randwrite" "$f" "$REF_DIR/${f##*/}" "$3" "$ops" "$max_len" \
			"$2" "$align"
	done
}

# The random write cases of the basic write tests (XFS and xtfs), for
# randwrite_cases: "max_len align ops", from single bytes to 3 MiB, aligned
# and not.
BASIC_WRITE_CASES='1 1 200
512 512 200
4096 4096 200
5000 1 200
65536 1 100
65536 4096 100
1048576 1 20
3145728 512 10'

# verify_files PREFIX: every $SCRATCH_MNT/PREFIX-* matches its reference
# while cached, after dropping the page cache and after a remount.
verify_files() {
	local f
	for f in "$SCRATCH_MNT/$1"-*; do
		expect_same "cached" "$f" "$REF_DIR/${f##*/}"
	done
	drop_caches
	for f in "$SCRATCH_MNT/$1"-*; do
		expect_same "after dropping caches" "$f" "$REF_DIR/${f##*/}"
	done
	unmount_scratch
	mount_scratch
	for f in "$SCRATCH_MNT/$1"-*; do
		expect_same "after remount" "$f" "$REF_DIR/${f##*/}"
	done
}

# The writes since `writes_start` went through iomap_rs.
writes_start() {
	WRITES_BEFORE=$(knob buffered_writes)
}

expect_rust_writes() {
	local n=$(($(knob buffered_writes) - WRITES_BEFORE))
	[ "$n" -gt 0 ] ||
		fail "expected the writes to go through iomap_rs, buffered_writes did not move"
	echo "$n buffered writes went through iomap_rs"
}

TRACEFS=/sys/kernel/tracing
# Enable the iomap_rs_stale trace event, clearing the trace buffer.
trace_stale_start() {
	is_mounted "$TRACEFS" || mount -t tracefs none "$TRACEFS" || fail "cannot mount tracefs"
	echo >"$TRACEFS/trace"
	echo 1 >"$TRACEFS/events/iomap_rs/iomap_rs_stale/enable" ||
		fail "no iomap_rs_stale trace event"
}

trace_stale_stop() {
	echo 0 >"$TRACEFS/events/iomap_rs/iomap_rs_stale/enable"
	grep iomap_rs_stale "$TRACEFS/trace" || true
}

# stress_mmap_writes: the generic/346 workload (mmap_punch race) on the
# mounted scratch filesystem at 1, 16 and 256 threads: mmap writes and
# pwrite() over interleaved 3 KiB runs of one sparse file, neighbouring runs
# sharing pages, while a flusher writes back and evicts ranges. The validate
# delay knob (1 ms per folio) makes writes find their mappings stale, end
# short and release delalloc next to pages other threads dirtied through
# mmap. A stress test: it checks every byte while running and again after
# dropping the caches and a remount, and that no delalloc is left after
# writeback, but it forces no interleaving (race_punch_vs_mmap_* do).
stress_mmap_writes() {
	local spec threads ops before rc n total=0
	ref_dir
	for spec in 1:3000 16:200 256:16; do
		threads=${spec%%:*}
		ops=${spec#*:}
		before=$(knob stale_detections)
		rc=0
		"$IOMAP_RS_BIN/mmap_punch" race "$SCRATCH_MNT/race-$threads" "$threads" "$ops" \
			"$REF_DIR/race-$threads" "$IOMAP_RS_DEBUGFS/validate_delay_ms" 1 || rc=$?
		knob validate_delay_ms 0
		[ "$rc" = 0 ] || fail "$threads threads: mmap_punch race exited $rc" \
			"(3: wrong content or leaked delalloc)"
		n=$(($(knob stale_detections) - before))
		total=$((total + n))
		echo "$threads threads: $n stale mappings" \
			"(each ends a write pass short; over new delalloc the rest is released)"
	done
	[ "$total" -gt 0 ] ||
		fail "no write found its mapping stale: the test did not exercise short writes"
	drop_caches
	for threads in 1 16 256; do
		expect_same "$threads threads, after dropping caches" "$SCRATCH_MNT/race-$threads" \
			"$REF_DIR/race-$threads"
	done
	unmount_scratch
	mount_scratch
	for threads in 1 16 256; do
		expect_same "$threads threads, after remount" "$SCRATCH_MNT/race-$threads" \
			"$REF_DIR/race-$threads"
	done
}

# write_bad_input_both_paths: the edge cases of buffered write() on the
# mounted scratch filesystem through C iomap and through iomap_rs (the
# `enabled` knob): a write ending at the maximum file size, one past
# RLIMIT_FSIZE (EFBIG), a zero-length write, an RWF_NOWAIT write into a hole,
# and a write killed by SIGKILL part way (every byte up to the new size is
# written data). Both paths must give the same results.
write_bad_input_both_paths() {
	local path c out size
	local -A got
	for path in c rust; do
		use_write_path $path
		for c in efbig fsize zero nowait; do
			got[$path-$c]=$("$IOMAP_RS_BIN/writecase" $c "$SCRATCH_MNT/$c-$path")
			echo "$path: ${got[$path-$c]}"
		done
		knob validate_delay_ms 1
		out=$("$IOMAP_RS_BIN/writecase" kill "$SCRATCH_MNT/kill-$path")
		knob validate_delay_ms 0
		echo "$path: $out"
		size=${out##*size=}
		[ "$size" -gt 0 ] || echo "note: the write was killed before it wrote anything"
		drop_caches
		cmp -n "$size" "$SCRATCH_MNT/kill-$path" <(tr '\0' '\132' </dev/zero) \
			>/dev/null 2>&1 ||
			fail "killed write ($path): the first $size bytes are not all" \
				"the written 0x5a"
	done
	expect_eq "fsize" "fsize: error File too large" "${got[rust-fsize]}"
	expect_eq "zero" "zero: wrote 0" "${got[rust-zero]}"
	for c in efbig fsize zero nowait; do
		expect_eq "$c: iomap_rs against C iomap" "${got[c-$c]}" "${got[rust-$c]}"
	done
}

# faulting_buffer_both_paths: on the mounted scratch filesystem, through C
# iomap and through iomap_rs, a write from a user buffer whose second page is
# unmapped is short: the first page is written, nothing else changes, no
# stale or zeroed data shows up; over written data and beyond EOF, with the
# same results through both paths.
faulting_buffer_both_paths() {
	local path f over new expected=()
	ref_dir
	for path in c rust; do
		use_write_path $path
		f=$SCRATCH_MNT/fault-$path
		xfs_io -f -c "pwrite -q -S 0x5a 0 65536" -c fsync "$f"
		drop_caches
		over=$("$IOMAP_RS_BIN/faultwrite" "$f" 4096)
		new=$("$IOMAP_RS_BIN/faultwrite" "$SCRATCH_MNT/new-$path" 0)
		expected+=("$over / $new")
		expect_eq "write over data ($path)" "wrote 4096" "$over"
		expect_eq "write into a new file ($path)" "wrote 4096" "$new"
		drop_caches
		# [0, 4K) and [8K, 64K) still 0x5a, [4K, 8K) 0xab.
		xfs_io -f -c "pwrite -q -S 0x5a 0 65536" -c "pwrite -q -S 0xab 4096 4096" \
			"$REF_DIR/fault"
		expect_same "the written file ($path)" "$f" "$REF_DIR/fault"
		expect_eq "size of the new file ($path)" 4096 \
			"$(stat -c %s "$SCRATCH_MNT/new-$path")"
		xfs_io -f -c "pwrite -q -S 0xab 0 4096" "$REF_DIR/new"
		expect_same "the new file ($path)" "$SCRATCH_MNT/new-$path" "$REF_DIR/new"
	done
	expect_eq "iomap_rs result against C iomap" "${expected[0]}" "${expected[1]}"
}

# xtfs (samples/rust/xtfs): its tools are in $IOMAP_RS_BIN under the names
# mkfs(8) and fsck(8) look for.
XTFS_MAGIC=53465458
export PATH="${IOMAP_RS_BIN:-/nonexistent}:$PATH"

require_xtfs() {
	grep -q '^xtfs ' /proc/modules || fail "xtfs.ko is not loaded (CONFIG_SAMPLE_RUST_XTFS=m)"
	grep -qw xtfs /proc/filesystems || fail "xtfs is not a registered filesystem type"
	command -v mkfs.xtfs >/dev/null || fail "no mkfs.xtfs in $IOMAP_RS_BIN"
}

# mount_xtfs DEVICE: mount it on $SCRATCH_MNT.
mount_xtfs() {
	[ -d "$SCRATCH_MNT" ] || mkdir -p "$SCRATCH_MNT"
	if is_mounted "$SCRATCH_MNT"; then
		umount "$SCRATCH_MNT" || fail "cannot unmount $SCRATCH_MNT"
	fi
	mount -t xtfs "$1" "$SCRATCH_MNT" ||
		fail "mount -t xtfs $1 failed: $(dmesg | grep xtfs: | tail -n 3)"
	SCRATCH_FSTYPE=xtfs
}

# mkfs_scratch_xtfs [MKFS_OPTIONS...]: a new xtfs on $SCRATCH_DEV, mounted.
mkfs_scratch_xtfs() {
	if is_mounted "$SCRATCH_MNT"; then
		umount "$SCRATCH_MNT" || fail "cannot unmount $SCRATCH_MNT"
	fi
	mkfs.xtfs -q "$@" "$SCRATCH_DEV" || fail "mkfs.xtfs $* $SCRATCH_DEV failed"
	mount_xtfs "$SCRATCH_DEV"
}

# xtfs_image_dir: a private tmpfs in $IMAGES, unmounted at exit, holding
# base.img: a 2 MiB xtfs image (1 KiB blocks, 128 inodes) made by mkfs.xtfs
# -d from a small tree (a file, a sparse file of 100 extents, whose extent
# tree has 3 leaves, a directory of 20 files with a subdirectory, a symlink),
# fsck-clean. The bad-image tests damage copies of it.
xtfs_image_dir() {
	IMAGES=$(mktemp -d)
	mount -t tmpfs none "$IMAGES"
	trap 'is_mounted "$SCRATCH_MNT" && umount "$SCRATCH_MNT"
		umount "$IMAGES"; rmdir "$IMAGES"' EXIT
	mkdir -p "$IMAGES/src/dir/sub" "$SCRATCH_MNT"
	echo data >"$IMAGES/src/file"
	local i
	for ((i = 1; i <= 20; i++)); do echo "$i" >"$IMAGES/src/dir/f$i"; done
	ln -s file "$IMAGES/src/link"
	local frag=()
	for ((i = 0; i < 100; i++)); do frag+=(-c "pwrite -q $((i * 2048)) 1"); done
	xfs_io -f "${frag[@]}" "$IMAGES/src/frag"
	truncate -s 2m "$IMAGES/base.img"
	mkfs.xtfs -q -b 1024 -N 128 -d "$IMAGES/src" "$IMAGES/base.img" ||
		fail "mkfs.xtfs of the base image failed"
	fsck.xtfs -n "$IMAGES/base.img" >/dev/null || fail "the base image is not clean"
}

# xtfs_written_images DIR SIZE: two images of a filesystem of SIZE bytes
# written by xtfs itself on the scratch disk (nested directories of files of
# many sizes, a sparse file with an extent tree, preallocated
# unwritten extents, short and long symbolic links, a hard link): DIR/live.img
# taken while mounted, after sync, with a file open and unlinked (an orphan
# on disk), and DIR/clean.img taken after unmounting, fsck-clean.
xtfs_written_images() {
	local dir=$1 size=$2 m=$SCRATCH_MNT i open_fd writes=()
	mkfs_scratch_xtfs -b 1024 -N 128 -s "$size"
	mkdir -p "$m/a/b/c" "$m/d"
	for i in 0 1 2 3 4 5 6 7 8 9; do
		head -c $((i * i * 337)) /dev/urandom >"$m/a/f$i"
		head -c $((i * 1024)) /dev/urandom >"$m/a/b/g$i"
		echo "$i" >"$m/a/b/c/h$i"
	done
	for ((i = 0; i < 60; i++)); do writes+=(-c "pwrite -q $((i * 2048)) 1"); done
	xfs_io -f "${writes[@]}" "$m/d/sparse"
	fallocate -l 40k "$m/d/prealloc"
	ln -s f1 "$m/a/short-link"
	ln -s "$(printf 'long/%.0s' {1..100})target" "$m/a/long-link"
	ln "$m/a/f5" "$m/d/hard-link"
	exec {open_fd}<>"$m/d/open-unlinked"
	head -c 5000 /dev/urandom >&"$open_fd"
	rm "$m/d/open-unlinked"
	sync -f "$m"
	dd if="$SCRATCH_DEV" of="$dir/live.img" bs=1M count=$((${size%m})) status=none
	exec {open_fd}>&-
	unmount_scratch
	dd if="$SCRATCH_DEV" of="$dir/clean.img" bs=1M count=$((${size%m})) status=none
	fsck.xtfs -n "$dir/clean.img" >"$RESULT_DIR/fsck-base.log" 2>&1 ||
		{ cat "$RESULT_DIR/fsck-base.log"; fail "the base image is not clean"; }
}

# xtfs_damaged_image DIR IMAGE N SEED: IMAGE is one of DIR's written images
# (xtfs_written_images: clean.img for odd N, live.img for even N) with 3
# random bytes of its metadata or blocks in use changed (xtfs_corrupt, seed
# SEED + N); DAMAGED_BASE says which.
xtfs_damaged_image() {
	DAMAGED_BASE=clean
	(($3 % 2)) || DAMAGED_BASE=live
	xtfs_corrupt "$2" random $(($4 + $3)) 3 --from "$1/$DAMAGED_BASE.img" ||
		fail "xtfs_corrupt failed"
}

# xtfs_try_image IMAGE [msgs]: mounts IMAGE read-only and walks it (find
# -printf). Sets OUTCOME to ok, mount-failed or walk-failed; $IMAGES/err
# holds what the failing command printed. With "msgs", on a loop device of
# its own, whose kernel messages from xtfs meanwhile go to $IMAGES/msgs
# (they name it, "xtfs: loop3: ...": another lane's are not among them;
# four processes more, which the random images do without).
xtfs_try_image() {
	local dev=$1 opts=loop,ro
	if [ "${2:-}" = msgs ]; then
		xtfs_loop_attach "$1" -r
		dev=$LOOP_DEV opts=ro
	fi
	if ! mount -t xtfs -o "$opts" "$dev" "$SCRATCH_MNT" 2>"$IMAGES/err"; then
		OUTCOME=mount-failed
	elif ! find "$SCRATCH_MNT" -printf '%p %s %m %n\n' >/dev/null 2>"$IMAGES/err"; then
		umount "$SCRATCH_MNT"
		OUTCOME=walk-failed
	else
		umount "$SCRATCH_MNT"
		OUTCOME=ok
	fi
	[ "${2:-}" != msgs ] || xtfs_loop_detach
}

# xtfs_loop_attach IMAGE [-r]: sets LOOP_DEV to a new loop device over IMAGE
# (read-only with -r) and marks the kernel log; xtfs_loop_detach puts xtfs's
# messages naming that device since the mark in $IMAGES/msgs, then detaches
# it (in that order, so that no later user of its name is read).
xtfs_loop_attach() {
	LOOP_DEV=$(losetup -f --show ${2:+"$2"} "$1") || fail "losetup $* failed"
	LOOP_MARK="xtfs_loop_attach: $LOOP_DEV $BASHPID $SRANDOM"
	echo "$LOOP_MARK" >/dev/kmsg
}

xtfs_loop_detach() {
	xtfs_messages_since "$LOOP_MARK" "$LOOP_DEV" >"$IMAGES/msgs"
	losetup -d "$LOOP_DEV"
}

# xtfs_messages_since MARK DEVICE: xtfs's kernel messages about DEVICE (by
# its name) logged after the last line that ends with MARK.
xtfs_messages_since() {
	dmesg | awk -v mark="$1" -v tag="xtfs: ${2##*/}: " '
		substr($0, length($0) - length(mark) + 1) == mark { n = 0; seen = 1; next }
		seen && index($0, tag) { line[++n] = $0 }
		END { for (i = 1; i <= n; i++) print line[i] }'
}

# linear_scratch: a device-mapper linear device over the whole scratch disk,
# LINEAR_DEV, for a filesystem whose writes must be read back from the disk
# as the disk has them: an O_DIRECT read of the device a filesystem is
# mounted on first writes back what that filesystem left dirty in the
# device's cache, but the disk under a linear device has a cache of its own,
# which stays empty. Reading $SCRATCH_DEV with O_DIRECT then gives what a
# crash would leave. linear_scratch_remove takes it away.
linear_scratch() {
	export DM_DISABLE_UDEV=1
	LINEAR_NAME=iomap_rs-linear-${SCRATCH_DEV##*/}
	dmsetup remove "$LINEAR_NAME" 2>/dev/null || true
	# (dmsetup says on stderr that it manages the device nodes itself.)
	echo "0 $(blockdev --getsz "$SCRATCH_DEV") linear $SCRATCH_DEV 0" |
		dmsetup create "$LINEAR_NAME" 2>"$RESULT_DIR/dmsetup.log" ||
		fail "cannot create a linear device over $SCRATCH_DEV:" \
			"$(cat "$RESULT_DIR/dmsetup.log")"
	LINEAR_DEV=/dev/mapper/$LINEAR_NAME
}

linear_scratch_remove() {
	if is_mounted "$SCRATCH_MNT"; then umount "$SCRATCH_MNT"; fi
	dmsetup remove "$LINEAR_NAME" 2>>"$RESULT_DIR/dmsetup.log"
}

# dm ARGS...: dmsetup; its complaints (it says on every call that it manages
# the device nodes itself) go to dmsetup.log, quoted when a call fails.
dm() {
	dmsetup "$@" 2>>"$RESULT_DIR/dmsetup.log" ||
		fail "dmsetup $1 failed: $(tail -n 3 "$RESULT_DIR/dmsetup.log")"
}

# flakey_scratch NAME: $SCRATCH_DEV behind the device-mapper device NAME (a
# name of the lane's own), FLAKEY_DEV, linear until flakey_switch changes its
# table; flakey_remove (at exit) takes it away.
flakey_scratch() {
	command -v dmsetup >/dev/null || fail "no dmsetup"
	grep -qw flakey <(dmsetup targets) || fail "no dm-flakey target (CONFIG_DM_FLAKEY)"
	export DM_DISABLE_UDEV=1
	FLAKEY_NAME=$1
	FLAKEY_DEV=/dev/mapper/$1
	FLAKEY_SECTORS=$(blockdev --getsz "$SCRATCH_DEV")
	dmsetup remove "$FLAKEY_NAME" 2>/dev/null || true
	dm create "$FLAKEY_NAME" --table "0 $FLAKEY_SECTORS linear $SCRATCH_DEV 0"
	[ -b "$FLAKEY_DEV" ] || dm mknodes "$FLAKEY_NAME"
}

# flakey_switch linear|drop_writes|error_writes: swap the live table without
# freezing the filesystem. dm-flakey up 0 s and down 1 s is always down: with
# drop_writes every write is acknowledged and lost (what a power cut keeps of
# a write cache), with error_writes every write fails; reads pass.
flakey_switch() {
	local table="0 $FLAKEY_SECTORS linear $SCRATCH_DEV 0"
	[ "$1" = linear ] || table="0 $FLAKEY_SECTORS flakey $SCRATCH_DEV 0 0 1 1 $1"
	dm suspend --nolockfs "$FLAKEY_NAME"
	dm load "$FLAKEY_NAME" --table "$table"
	dm resume "$FLAKEY_NAME"
}

flakey_remove() {
	dmsetup remove "$FLAKEY_NAME" 2>/dev/null || true
}

# device_sector FILE BYTE: the 512-byte sector of the device that holds byte
# BYTE of FILE, as FIEMAP reports it (xfs_io's "N: [from..to]: first..last"
# lines, in sectors); nothing if the byte is in a hole or not yet allocated.
device_sector() {
	local s=$(($2 / 512)) range addr from
	while read -r _ range addr _; do
		[[ $range =~ ^\[([0-9]+)\.\.([0-9]+)\]:$ ]] || continue
		from=${BASH_REMATCH[1]}
		[ "$from" -le "$s" ] && [ "$s" -le "${BASH_REMATCH[2]}" ] || continue
		[[ $addr =~ ^([0-9]+)\.\.[0-9]+$ ]] || return 0
		echo $((BASH_REMATCH[1] + s - from))
		return 0
	done < <(xfs_io -r -c "fiemap $2 1" "$1")
}

# xtfs_statfs_free: the free blocks statfs reports (for leak checks).
xtfs_statfs_free() {
	stat -f -c '%f' "$SCRATCH_MNT"
}

# xtfs_dir_with_room DIR N: make directory DIR with blocks for N entries, so
# that free space counted afterwards does not see it grow (directories keep
# their blocks when entries go).
xtfs_dir_with_room() {
	local i
	mkdir "$1"
	for ((i = 0; i < $2; i++)); do : >"$1/room-$i"; done
	rm -f "$1"/room-*
}

# xtfs_expect_no_reservations WHAT: after sync(2), the free space statfs
# counts (reservations taken off) is what a fresh mount finds in the bitmap:
# no delayed allocation is left reserved without dirty data over it.
xtfs_expect_no_reservations() {
	local before what
	sync
	before=$(xtfs_statfs_free)
	unmount_scratch
	mount_xtfs "$SCRATCH_DEV"
	what="$1: free blocks after sync against a fresh mount (the difference is left reserved)"
	expect_eq "$what" "$before" "$(xtfs_statfs_free)"
}

# check_xtfs DEVICE: unmount if mounted; fsck.xtfs -n must find it clean.
check_xtfs() {
	if is_mounted "$SCRATCH_MNT"; then unmount_scratch; fi
	fsck.xtfs -n "$1" >"$RESULT_DIR/fsck.log" 2>&1 ||
		{ cat "$RESULT_DIR/fsck.log"; fail "fsck.xtfs -n found problems on $1"; }
}

# race_fix_off_on LABEL KNOB N RACE_ARGS...: the race program (progs/race.c)
# for N iterations with the fix turned off (debugfs KNOB set to Y), then N
# with it on (KNOB N), each iteration forced at the same interleaving by a
# pause point. Fails unless the pause point was reached in every iteration
# of both runs, every iteration without the fix went wrong and none with it.
# Prints both counts, for the TAP diagnostics; sets RACE_OFF and RACE_ON to
# the summaries, RACE_OFF_OUTPUT and RACE_ON_OUTPUT to all the program
# printed (also kept in $RESULT_DIR/race-fix-off.log and race-fix-on.log),
# and RACE_ON_STALE_BEFORE to the stale_detections counter before the run
# with the fix. A function named in RACE_BETWEEN runs between the two runs.
race_fix_off_on() {
	local label=$1 knob_name=$2 n=$3 out rc t0 off on
	shift 3
	t0=$(date +%s%N)
	knob "$knob_name" Y
	rc=0
	out=$("$IOMAP_RS_BIN/race" "$@" "$n") || rc=$?
	knob "$knob_name" N
	echo "$out" | head -n 3
	[ "$rc" = 0 ] || fail "$label: race $* failed (exit $rc) with the fix off"
	off=$(echo "$out" | tail -n 1)
	RACE_OFF_OUTPUT=$out
	echo "$out" >"$RESULT_DIR/race-fix-off.log"
	# A test may need a fresh filesystem after the damage.
	[ -z "${RACE_BETWEEN:-}" ] || "$RACE_BETWEEN"
	RACE_ON_STALE_BEFORE=$(knob stale_detections)
	out=$("$IOMAP_RS_BIN/race" "$@" "$n") || fail "$label: race $* failed with the fix on: $out"
	echo "$out" | head -n 3
	on=$(echo "$out" | tail -n 1)
	RACE_ON_OUTPUT=$out
	echo "$out" >"$RESULT_DIR/race-fix-on.log"
	RACE_OFF="fix off ($knob_name=Y): ${off#*: }"
	RACE_ON="fix on: ${on#*: }"
	diagnose "$label: $RACE_OFF; $RACE_ON;" \
		"$((2 * n)) iterations in $((($(date +%s%N) - t0) / 1000000)) ms"
	expect_eq "$label, fix off" "$n iterations, pause reached $n, corrupt $n" "${off#*: }"
	expect_eq "$label, fix on" "$n iterations, pause reached $n, corrupt 0" "${on#*: }"
}

# race_stale_map_both_folio_sizes: the seed's stale-mapping race (race
# stale-map) on the mounted scratch filesystem with order-0 ("small") and
# large folios, each with the revalidation skipped and then done; with it,
# every iteration must have found its mapping stale (stale_detections).
race_stale_map_both_folio_sizes() {
	local folios n
	for folios in small large; do
		race_fix_off_on "stale map, $folios folios" skip_validation "$RACE_ITERATIONS" \
			stale-map "$SCRATCH_MNT/stale-$folios" "$folios"
		n=$(($(knob stale_detections) - RACE_ON_STALE_BEFORE))
		[ "$n" -ge "$RACE_ITERATIONS" ] ||
			fail "$folios folios: $n stale mappings detected" \
				"in $RACE_ITERATIONS iterations with the fix on"
		diagnose "$folios folios: $n stale mappings detected and remapped with the fix on"
	done
}

# The iterations of each deterministic race run, with the fix off and on.
RACE_ITERATIONS=${RACE_ITERATIONS:-100}

# exerciser_rounds BLOCK_SIZE ROUND...: progs/exerciser on a fresh xtfs with
# BLOCK_SIZE-byte blocks, XTFS_EXERCISER_OPS (10,000) random operations per
# round over three files checked against their models in $REF_DIR; after
# each round the files must match their models after dropping the caches and
# after a remount, nothing may be left reserved and fsck.xtfs -n must be
# clean. Round R's seed is SEED * 100 + R, SEED being IOMAP_RS_SEED or random
# (printed, to replay a failure).
exerciser_rounds() {
	local bs=$1 seed=${IOMAP_RS_SEED:-$RANDOM} ops=${XTFS_EXERCISER_OPS:-10000} round rc i
	shift
	echo "seed $seed, $ops operations per round, $bs-byte blocks"
	use_write_path rust
	ref_dir
	mkfs_scratch_xtfs -b "$bs" -N 64 -s 256m
	mkdir "$SCRATCH_MNT/ex"
	for round in "$@"; do
		rc=0
		"$IOMAP_RS_BIN/exerciser" "$SCRATCH_MNT/ex" "$REF_DIR" $((seed * 100 + round)) \
			"$ops" || rc=$?
		[ "$rc" = 0 ] ||
			fail "round $round: exerciser exited $rc (seed $((seed * 100 + round)))"
		drop_caches
		for i in 0 1 2; do
			expect_same "after dropping caches (round $round, seed $seed)" \
				"$SCRATCH_MNT/ex/f$i" "$REF_DIR/f$i"
		done
		xtfs_expect_no_reservations "round $round"
		for i in 0 1 2; do
			expect_same "after remount (round $round, seed $seed)" \
				"$SCRATCH_MNT/ex/f$i" "$REF_DIR/f$i"
		done
		check_xtfs "$SCRATCH_DEV"
		mount_xtfs "$SCRATCH_DEV"
	done
	unmount_scratch
	echo "$(($# * ops)) random operations in $# rounds matched the model," \
		"cached, dropped and remounted; nothing left reserved;" \
		"fsck clean after every round"
}

# holetest_runs SPEC...: progs/holetest on the scratch filesystem for each
# "[-r] [-w] THREADS" spec, with about 1024 pages per thread count; every page
# checked cached and after writeback and eviction.
holetest_runs() {
	local spec threads opts rc
	for spec in "$@"; do
		threads=${spec##* }
		opts=${spec%"$threads"}
		rc=0
		# shellcheck disable=SC2086 # the options are words
		"$IOMAP_RS_BIN/holetest" $opts "$SCRATCH_MNT/holetest" "$threads" \
			$((1024 / threads > 4 ? 1024 / threads : 4)) || rc=$?
		[ "$rc" = 0 ] || fail "holetest $spec exited $rc (3: a page was wrong)"
	done
}

# The pause points (fs/iomap_rs/iomap_rs_pause.c) from the shell.
# pause_arm POINT FILE START END: the next task reaching POINT for FILE at an
# offset in [START, END) parks there.
pause_arm() {
	local dev ino
	read -r dev ino < <(stat -c '%d %i' "$2") || fail "stat $2"
	echo "arm $dev $ino $3 $4" >"$IOMAP_RS_DEBUGFS/pause/$1" || fail "cannot arm pause point $1"
}

# pause_wait POINT: until a task parked at POINT; fails if none did in time.
pause_wait() {
	echo wait >"$IOMAP_RS_DEBUGFS/pause/$1" 2>/dev/null ||
		fail "nothing reached pause point $1: $(cat "$IOMAP_RS_DEBUGFS/pause/$1")"
}

pause_release() {
	echo release >"$IOMAP_RS_DEBUGFS/pause/$1" || fail "cannot release pause point $1"
}

# fault_nth_setup DEVICE [io]: let /proc/thread-self/fail-nth fail
# allocations that may sleep (failslab and fail_page_alloc ignore them by
# default, and every page order) and, with "io", bios to DEVICE
# (fail_make_request); silently, the test program reports which faults it
# reached. fault_nth_restore undoes it (the defaults), also when the test
# fails.
FAULT_DEBUGFS=/sys/kernel/debug
fault_nth_setup() {
	local a
	[ -e /proc/thread-self/fail-nth ] ||
		fail "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)"
	for a in failslab fail_page_alloc fail_make_request; do
		[ -d "$FAULT_DEBUGFS/$a" ] || fail "no $FAULT_DEBUGFS/$a"
		echo 0 >"$FAULT_DEBUGFS/$a/verbose"
	done
	echo N >"$FAULT_DEBUGFS/failslab/ignore-gfp-wait"
	echo N >"$FAULT_DEBUGFS/fail_page_alloc/ignore-gfp-wait"
	echo N >"$FAULT_DEBUGFS/fail_page_alloc/ignore-gfp-highmem"
	echo 0 >"$FAULT_DEBUGFS/fail_page_alloc/min-order"
	FAULT_NTH_DEV=/sys/block/${1##*/}/make-it-fail
	[ "${2:-}" != io ] || echo 1 >"$FAULT_NTH_DEV"
	trap fault_nth_restore EXIT
}

fault_nth_restore() {
	local a
	echo 0 >"$FAULT_NTH_DEV"
	echo Y >"$FAULT_DEBUGFS/failslab/ignore-gfp-wait"
	echo Y >"$FAULT_DEBUGFS/fail_page_alloc/ignore-gfp-wait"
	echo Y >"$FAULT_DEBUGFS/fail_page_alloc/ignore-gfp-highmem"
	echo 1 >"$FAULT_DEBUGFS/fail_page_alloc/min-order"
	for a in failslab fail_page_alloc fail_make_request; do
		echo 2 >"$FAULT_DEBUGFS/$a/verbose"
	done
	if is_mounted "$SCRATCH_MNT"; then umount "$SCRATCH_MNT"; fi
}

# fault_sweep OP FSCK...: progs/faultop.c's sweep of OP on the mounted
# scratch filesystem: the 1st, 2nd, ... fault injection point it reaches
# fails, until it completes without reaching one; after each, the files
# match the model, no reservation is left, FSCK is clean. The per-fault lines
# go to $RESULT_DIR/fault-OP.log. Adds "OP N" (N fault sites) to FAULT_SITES,
# or what went wrong to FAULT_FAILURES. Where a fault made a metadata write
# fail (the operation returned EIO and fsck finds the update missing: without
# a journal nothing can redo it), or where XFS shut itself down after the
# error (see faultop.c: xfs_after_shutdown), counts it in FAULT_ESCAPES and
# goes on from the next fault on a new filesystem made by FAULT_MKFS (a
# command); FAULT_ESCAPE says what such an escape is, for the report.
FAULT_SWEEP_LIMIT=${FAULT_SWEEP_LIMIT:-2000}
FAULT_SITES=()
FAULT_FAILURES=()
FAULT_ESCAPES=0
FAULT_ESCAPE="metadata writes lost to an injected I/O error"
FAULT_ESCAPE+=" (reported as EIO, left for fsck to repair)"
FAULT_MKFS=false
fault_sweep() {
	local op=$1 out first=1 rc
	shift
	out=$RESULT_DIR/fault-$op.log
	: >"$out"
	while :; do
		rc=0
		faultop sweep "$SCRATCH_DEV" "$SCRATCH_MNT" "$SCRATCH_FSTYPE" "$op" "$first" \
			"$FAULT_SWEEP_LIMIT" -- "$@" >>"$out" 2>&1 || rc=$?
		[ "$rc" = 3 ] || break
		FAULT_ESCAPES=$((FAULT_ESCAPES + 1))
		first=$(($(grep -c "^$op fault [0-9]*: reached" "$out") + 1))
		$FAULT_MKFS
	done
	if [ "$rc" = 0 ]; then
		FAULT_SITES+=("$op $(tail -n 1 "$out" | tr -dc 0-9)")
	else
		echo "$op: $(grep -v "^$op fault [0-9]*: reached" "$out" | head -n 20)"
		FAULT_FAILURES+=("$op")
	fi
}

# fault_sweep_report: the fault sites per operation in the diagnostics; fails
# if an operation went wrong.
fault_sweep_report() {
	diagnose "fault sites per operation: $(IFS=,; echo "${FAULT_SITES[*]}" | sed 's/,/, /g')"
	[ "$FAULT_ESCAPES" = 0 ] || diagnose "$FAULT_ESCAPE: $FAULT_ESCAPES"
	[ ${#FAULT_FAILURES[@]} -eq 0 ] ||
		fail "fault injection found problems in: ${FAULT_FAILURES[*]}" \
			"(per fault: fault-OP.log)"
}

# concurrent_exerciser_run CHECK_FUNCTION: progs/concurrent_exerciser on the
# mounted scratch filesystem: IOMAP_RS_CONCURRENT_OPS (50,000) operations by
# 4 processes on 4 shared files (writes, mmap writes, fallocate modes,
# truncate, fsync, writeback and eviction of ranges, renames), every read
# checked against the outcomes the operations running with it allow, each
# round checked whole and every 16th after dropping the caches. Then the
# files must match what it left in $REF_DIR after dropping the caches and
# after a remount; CHECK_FUNCTION runs between the two (it may remount).
# With IOMAP_RS_PRESSURE=1 (make soak; it needs a kernel with a memory
# controller) the files may grow to 2 MiB instead of 1 and the processes run
# in a memory cgroup held at IOMAP_RS_PRESSURE_MIB (8) MiB (the model's
# memory is charged outside it), so that reclaim takes the files' pages while
# they work; it must have taken some. The seed is printed (IOMAP_RS_SEED
# replays it).
concurrent_exerciser_run() {
	local check=$1 ops=${IOMAP_RS_CONCURRENT_OPS:-50000} seed=${IOMAP_RS_SEED:-$RANDOM}
	local procs=4 rc=0 i out=$RESULT_DIR/concurrent_exerciser.log
	local pressure=${IOMAP_RS_PRESSURE:-0}
	local run=("$IOMAP_RS_BIN/concurrent_exerciser") max_size=$((1 << 20))
	ref_dir
	mkdir "$SCRATCH_MNT/cx"
	if [ "$pressure" = 1 ]; then
		memory_cgroup_start "${IOMAP_RS_PRESSURE_MIB:-8}"
		run+=(-c "$MEMCG")
		max_size=$((2 << 20))
	fi
	echo "seed $seed, $ops operations" \
		"by $procs processes$([ "$pressure" = 0 ] || echo ", under memory pressure")"
	"${run[@]}" "$SCRATCH_MNT/cx" "$REF_DIR" "$procs" "$ops" "$seed" "$max_size" \
		>"$out" 2>&1 || rc=$?
	tail -n 40 "$out"
	[ "$rc" = 0 ] || fail \
		"concurrent_exerciser exited $rc (3: a read or a file did not match; seed $seed)"
	diagnose "$(tail -n 1 "$out")"
	[ "$pressure" = 0 ] || memory_cgroup_stop
	drop_caches
	for i in 0 1 2 3; do
		expect_same "after dropping caches (seed $seed)" "$SCRATCH_MNT/cx/d0/f$i" \
			"$REF_DIR/f$i"
	done
	"$check"
	is_mounted "$SCRATCH_MNT" || mount_scratch
	for i in 0 1 2 3; do
		expect_same "after remount (seed $seed)" "$SCRATCH_MNT/cx/d0/f$i" "$REF_DIR/f$i"
	done
}

# memory_cgroup_start MIB: a cgroup (v2) for this test, in MEMCG, whose
# processes are reclaimed from once they use more than MIB MiB (memory.high:
# reclaimed and throttled, never killed by the OOM killer). Fails if the
# kernel has no memory controller (the default configuration: use
# KCONFIG=debug or distro). memory_cgroup_stop reports how much reclaim took
# from it, fails if nothing, and removes it (so does the EXIT trap this
# sets, if the test fails first).
memory_cgroup_start() {
	local root=/sys/fs/cgroup
	[ -e "$root/cgroup.controllers" ] || mount -t cgroup2 cgroup2 "$root" ||
		fail "cannot mount the cgroup2 filesystem on $root"
	grep -qw memory "$root/cgroup.controllers" ||
		fail "no memory controller (CONFIG_MEMCG):" \
			"memory pressure needs KCONFIG=debug or distro"
	grep -qw memory "$root/cgroup.subtree_control" ||
		echo +memory >"$root/cgroup.subtree_control" ||
		fail "cannot enable the memory controller"
	MEMCG=$root/iomap_rs-$TEST_NAME
	[ -d "$MEMCG" ] || mkdir "$MEMCG" || fail "cannot make $MEMCG"
	echo $(($1 << 20)) >"$MEMCG/memory.high" || fail "cannot set $MEMCG/memory.high"
	trap memory_cgroup_remove EXIT
}

memory_cgroup_stop() {
	local steal high
	steal=$(sed -n 's/^pgsteal \([0-9]*\)$/\1/p' "$MEMCG/memory.stat")
	high=$(sed -n 's/^high \([0-9]*\)$/\1/p' "$MEMCG/memory.events")
	diagnose "memory pressure: the cgroup went over memory.high $high times;" \
		"reclaim took $steal pages from it"
	[ "${steal:-0}" -gt 0 ] || fail "reclaim took nothing from the cgroup:" \
		"no memory pressure, the run proves nothing about it"
	memory_cgroup_remove
	trap - EXIT
}

memory_cgroup_remove() {
	[ -d "${MEMCG:-}" ] || return 0
	# Its processes have exited; an empty cgroup goes with rmdir.
	rmdir "$MEMCG" 2>/dev/null ||
		echo "could not remove $MEMCG: processes $(tr '\n' ' ' <"$MEMCG/cgroup.procs")"
}
