# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# What a test leaves behind, taken away after it, whatever it did or failed
# to do, so that one failure stays one failure: a test that dies with its
# scratch filesystem mounted or a device-mapper or loop device set up must
# not fail the next test in its lane. Sourced by guest-run-tests.sh (and by
# the harness_cleanup test, which checks it).
#
# cleanup_snapshot: record what exists before any test (the guest's own
# mounts, by mount ID, and whatever else was there), which cleanup never
# touches.
#
# cleanup_after LANE TEST_DEV SCRATCH_DEV [all]: take away what is not in
# the snapshot and belongs to LANE, and print one line per thing taken away
# (with "all", set the library's switches back as well).
# What belongs to a lane: mounts on the lane's directories (not the lanes'
# reference tmpfs themselves, which live from test to test) or of its disks,
# device-mapper devices over its disks, loop devices over files in its
# directories, and the mounts of those. With "all" (after a test that ran
# alone), everything not in the snapshot.
#
# Mounts go first, deepest first, then device-mapper devices, then loop
# devices. A mount that cannot be unmounted (a process of the test still
# uses it) is detached lazily; a device that cannot be removed is reported
# as such.

CLEANUP_MOUNTS=
CLEANUP_DM=
CLEANUP_LOOPS=

# cleanup_processes PGID: kill what is left of process group PGID (a test
# run by timeout(1), which leads a group of its own), before the mounts go:
# a process left in the background (a memory hog, a writer) would keep them
# busy, or keep using the machine.
cleanup_processes() {
	local left
	left=$(pgrep -g "$1" | tr '\n' ' ')
	[ -n "$left" ] || return 0
	kill -KILL -- "-$1" 2>/dev/null
	echo "cleanup: killed processes the test left running: $left"
}

# The library's debugfs switches (fs/iomap_rs/iomap_rs_control.c: the write
# path, the fixes, the validation delay) as they were before any test: a
# test that ran alone gets them back after it, as a failed test may not have
# set them back itself. Only these files are read: reading some others runs
# something (bench_release).
CLEANUP_KNOB_DIR=/sys/kernel/debug/iomap_rs
CLEANUP_KNOB_NAMES="enabled skip_validation validate_delay_ms release_punch_all"
CLEANUP_KNOB_NAMES+=" fs_skip_mkwrite_recheck fs_skip_fsync_serialize"
CLEANUP_KNOBS=

# _cleanup_switches: "FILE VALUE" for each switch.
_cleanup_switches() {
	local name v
	for name in $CLEANUP_KNOB_NAMES; do
		v=$(cat "$CLEANUP_KNOB_DIR/$name" 2>/dev/null) || continue
		echo "$CLEANUP_KNOB_DIR/$name $v"
	done
}

cleanup_snapshot() {
	CLEANUP_KNOBS=$(_cleanup_switches)
	CLEANUP_MOUNTS=$(findmnt -rn -o ID)
	CLEANUP_DM=$(dmsetup ls 2>/dev/null | cut -f1)
	CLEANUP_LOOPS=$(losetup -n -O NAME 2>/dev/null)
}

# cleanup_lane_dirs LANE: the directories a test in LANE works in.
cleanup_lane_dirs() {
	echo "/tmp/iomap_rs-scratch-$1 /tmp/iomap_rs-ref-$1 /tmp/iomap_rs-tmp-$1"
}

# _cleanup_in LIST WORD: WORD is a line of LIST.
_cleanup_in() {
	grep -qxF -- "$2" <<<"$1"
}

# _cleanup_under PATH DIR...: PATH is DIR or below one of the DIRs.
_cleanup_under() {
	local p=$1 d
	shift
	for d in "$@"; do
		case $p in
		"$d" | "$d"/*) return 0 ;;
		esac
	done
	return 1
}

cleanup_after() {
	local lane=$1 tdev=$2 sdev=$3 all=${4:-}
	local dirs name deps loop back target source pattern file value
	local devs=("$tdev" "$sdev") dms=() loops=() mounts=()
	read -ra dirs <<<"$(cleanup_lane_dirs "$lane")"
	# Loop devices over files in the lane's directories, device-mapper
	# devices over the lane's disks or those loop devices: what is mounted
	# from any of them is the lane's.
	while read -r loop back; do
		[ -n "$loop" ] || continue
		_cleanup_in "$CLEANUP_LOOPS" "$loop" && continue
		if [ -n "$all" ] || _cleanup_under "${back% (deleted)}" "${dirs[@]}"; then
			loops+=("$loop")
			devs+=("$loop")
		fi
	done < <(losetup -n -O NAME,BACK-FILE 2>/dev/null)
	pattern="\\(($(printf '%s\n' "${devs[@]##*/}" | paste -sd '|'))\\)"
	while read -r name; do
		[ -n "$name" ] && [ "$name" != "No devices found" ] || continue
		_cleanup_in "$CLEANUP_DM" "$name" && continue
		deps=$(dmsetup deps -o devname "$name" 2>/dev/null)
		if [ -n "$all" ] || grep -qE -- "$pattern" <<<"$deps"; then
			dms+=("$name")
			devs+=("/dev/mapper/$name" "/dev/$(dmsetup info -c --noheadings \
				-o blkdevname "$name" 2>/dev/null)")
		fi
	done < <(dmsetup ls 2>/dev/null | cut -f1)
	# Mounts, last mounted first.
	while read -r id target source; do
		_cleanup_in "$CLEANUP_MOUNTS" "$id" && continue
		# The lanes' reference tmpfs stay (common.sh: ref_dir).
		[[ $target =~ ^/tmp/iomap_rs-ref-[0-9]+$ ]] && continue
		if [ -n "$all" ] || _cleanup_under "$target" "${dirs[@]}" ||
			printf '%s\n' "${devs[@]}" | grep -qxF -- "$source"; then
			mounts=("$target" "${mounts[@]}")
		fi
	done < <(findmnt -rn -o ID,TARGET,SOURCE)
	for target in "${mounts[@]}"; do
		target=$(printf '%b' "$target")
		if umount "$target" 2>/dev/null; then
			echo "cleanup: unmounted $target"
		elif umount -l "$target" 2>/dev/null; then
			echo "cleanup: detached $target lazily:" \
				"a process still uses it, and its device stays busy"
		else
			echo "cleanup: could not unmount $target"
		fi
	done
	for name in "${dms[@]}"; do
		if dmsetup remove "$name" 2>/dev/null ||
			dmsetup remove --retry "$name" 2>/dev/null; then
			echo "cleanup: removed device-mapper device $name"
		else
			echo "cleanup: could not remove device-mapper device $name"
		fi
	done
	# Loop devices a mount set up (mount -o loop) went with the unmount.
	for loop in "${loops[@]}"; do
		losetup "$loop" >/dev/null 2>&1 || continue
		if losetup -d "$loop" 2>/dev/null; then
			echo "cleanup: detached loop device $loop"
		else
			echo "cleanup: could not detach loop device $loop"
		fi
	done
	# The switches, after a test that ran alone (tests in lanes may be
	# using them).
	[ -n "$all" ] || return 0
	while read -r file value; do
		[ -n "$file" ] || continue
		[ "$(cat "$file" 2>/dev/null)" = "$value" ] && continue
		if echo "$value" >"$file" 2>/dev/null; then
			echo "cleanup: set ${file##*/} back to $value"
		else
			echo "cleanup: could not set ${file##*/} back to $value"
		fi
	done <<<"$CLEANUP_KNOBS"
	return 0
}
