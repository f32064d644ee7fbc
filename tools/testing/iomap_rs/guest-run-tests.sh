#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest (see run-tests.sh, which picks the tests).
# Usage: guest-run-tests.sh SHARE TEST... | guest-run-tests.sh SHARE @LIST_FILE
#
# A TEST is a script's name, or NAME:K for the K-th instance of a test run
# several times in one boot (make soak runs two crash replays, one per lane):
# each instance has its own results (SHARE/tests/NAME:K.out and .d).
#
# Leaves in SHARE:
#   kunit/<suite>.ktap   the KTAP of every KUnit suite that ran at boot,
#                        read from /sys/kernel/debug/kunit/<suite>/results;
#   tests.tap            one "ok N name" / "not ok N name" line per in-guest
#                        test, its output as "# " diagnostics, "# SKIP" for
#                        tests that exited with status 4 (as kselftest does);
#   dmesg.log            the whole kernel log at the end of the run.
#
# Each in-guest test is tools/testing/iomap_rs/tests/<name>.sh, run with a
# time limit and the environment described in tests/common.sh. A kernel
# splat logged while a test ran fails that test, whatever its exit status.
#
# Two lanes: a test whose script has the line "# iomap_rs-test: parallel"
# uses only its own disks, mount point and reference directory, and no
# global switch, counter, trace event, module or fault injection but its own
# thread's (the rules are in tests/common.sh); such tests
# run two at a time, one per lane, each lane with its own disks (lane 0:
# /dev/vda and /dev/vdb, lane 1: /dev/vdc and /dev/vdd), taking the next
# test from one queue. Every other test then runs alone, in lane 0. The TAP
# keeps the order of the list whatever order the tests ended in.
#
# The queue starts with the longest tests, so that the two lanes end
# together instead of one running a long test alone at the end: a test whose
# script has a line "# iomap_rs-test: cost SECONDS" (roughly its time where
# make test runs it: on the debug configuration for the tests of
# debug-subset, which runs three to seven times slower) is queued by that
# cost, the longest first, and those without one after them, in the list's
# order.
#
# After each test, guest-cleanup.sh takes away the mounts, device-mapper and
# loop devices it left in its lane (everything new after a test that ran
# alone), and the test's diagnostics say what was taken away: one failure
# stays one failure.

set -o nounset

SHARE=$1
shift
# "@FILE": the test names are in FILE, one per line (a long list does not fit
# on the kernel command line that carries this command).
if [ $# -eq 1 ] && [ "${1#@}" != "$1" ]; then
	mapfile -t names <"${1#@}"
	set -- "${names[@]}"
fi
TESTS_DIR=$(cd "$(dirname "$0")/tests" && pwd)
# shellcheck source=guest-cleanup.sh
. "$(dirname "$0")/guest-cleanup.sh"
TEST_TIMEOUT=${IOMAP_RS_TEST_TIMEOUT:-900}
SPLAT_PATTERNS=${SPLAT_PATTERNS:?}

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
mountpoint -q /sys/kernel/tracing || mount -t tracefs none /sys/kernel/tracing 2>/dev/null

mkdir -p "$SHARE/kunit" "$SHARE/tests" "$SHARE/tap.d"
for d in /sys/kernel/debug/kunit/*/; do
	[ -r "$d/results" ] || continue
	cat "$d/results" >"$SHARE/kunit/$(basename "$d").ktap"
done

# test_window NAME: the kernel log from NAME's start mark to its end mark
# (other lanes' lines included: a splat while two tests ran fails both).
test_window() {
	dmesg | awk -v s="iomap_rs-test: start $1" -v e="iomap_rs-test: end $1 " '
		{ i = index($0, s) }
		i && substr($0, i + length(s)) == "" { on = 1 }
		on { print }
		on && index($0, e) { on = 0 }'
}

# run_test N NAME LANE [all]: run test NAME (number N) in LANE; its TAP lines
# go to $SHARE/tap.d/N. "all": the test runs alone, and whatever it left
# anywhere is taken away after it.
run_test() {
	local n=$1 t=$2 lane=$3 all=${4:-} script=$TESTS_DIR/${2%%:*}.sh
	local out=$SHARE/tests/$2.out tap=$SHARE/tap.d/$1 start rc secs splats
	local test_dev=/dev/vda scratch_dev=/dev/vdb tmp=/tmp/iomap_rs-tmp-$3
	local cleaned reason pid left=
	[ "$lane" = 0 ] || { test_dev=/dev/vdc scratch_dev=/dev/vdd; }
	echo "iomap_rs-test: start $t" >/dev/kmsg
	start=$(date +%s)
	mkdir -p "$tmp"
	if [ -x "$script" ]; then
		TEST_NAME=$t RESULT_DIR=$SHARE/tests/$t.d \
			TEST_DEV=$test_dev SCRATCH_DEV=$scratch_dev \
			SCRATCH_MNT=/tmp/iomap_rs-scratch-$lane REF_DIR=/tmp/iomap_rs-ref-$lane \
			TMPDIR=$tmp \
			timeout -k 5 "$TEST_TIMEOUT" "$script" >"$out" 2>&1 </dev/null &
		# timeout leads a process group of its own: what the test left
		# running in the background (a memory hog, say) is killed with it.
		pid=$!
		wait "$pid"
		rc=$?
		left=$(cleanup_processes "$pid")
	else
		echo "no such test: $script" >"$out"
		rc=1
	fi
	secs=$(($(date +%s) - start))
	reason=$(tail -n 1 "$out")
	cleaned=$(
		[ -z "$left" ] || echo "$left"
		cleanup_after "$lane" "$test_dev" "$scratch_dev" $all
	)
	rm -rf --one-file-system "$tmp"
	if [ -n "$cleaned" ]; then
		mkdir -p "$SHARE/tests/$t.d"
		echo "$cleaned" | tee -a "$out" >>"$SHARE/tests/$t.d/diagnostics"
	fi
	echo "iomap_rs-test: end $t rc=$rc" >/dev/kmsg
	splats=$(test_window "$t" | grep -E -- "$SPLAT_PATTERNS" | head -n 5)
	if [ -n "$splats" ]; then
		echo "kernel log splat while the test ran:" >>"$out"
		echo "$splats" >>"$out"
		rc=1
	fi
	case $rc in
	0) echo "ok $n $t # time=${secs}s" >"$tap" ;;
	4) echo "ok $n $t # SKIP $reason" >"$tap" ;;
	124 | 137) echo "timed out after ${TEST_TIMEOUT}s" >>"$out"
		echo "not ok $n $t # time=${secs}s" >"$tap" ;;
	*) echo "not ok $n $t # exit status $rc, time=${secs}s" >"$tap" ;;
	esac
	if [ "$rc" != 0 ]; then
		sed 's/^/# /' "$out" | tail -n 60 >>"$tap"
	elif [ -s "$SHARE/tests/$t.d/diagnostics" ]; then
		# What a passing test reports on purpose (common.sh: diagnose).
		sed 's/^/# /' "$SHARE/tests/$t.d/diagnostics" >>"$tap"
	fi
}

# lane LANE: run queued parallel tests until the queue is empty. The queue
# is a file holding the index of the next test, taken under flock.
lane() {
	local i
	while :; do
		{
			flock 9
			i=$(<"$queue")
			echo $((i + 1)) >"$queue"
		} 9<"$queue"
		[ "$i" -lt "${#parallel[@]}" ] || return 0
		run_test "${parallel[i]}" "${parallel_names[i]}" "$1"
	done
}

# One pass over the scripts (a process costs tens of milliseconds under
# TCG): "SCRIPT PARALLEL COST" for each, PARALLEL 1 for a test that may run
# in a lane, COST its first cost line's, 0 if none.
declare -A is_parallel=() cost_of=()
scripts=()
for t in "$@"; do
	[ -f "$TESTS_DIR/${t%%:*}.sh" ] && scripts+=("$TESTS_DIR/${t%%:*}.sh")
done
if [ ${#scripts[@]} -gt 0 ]; then
	while read -r f p c; do
		is_parallel[$f]=$p cost_of[$f]=$c
	done < <(awk '
		FNR == 1 { if (f != "") print f, p, c; f = FILENAME; p = 0; c = 0; costed = 0 }
		$0 == "# iomap_rs-test: parallel" { p = 1 }
		/^# iomap_rs-test: cost [0-9]+$/ && !costed { c = $4; costed = 1 }
		END { if (f != "") print f, p, c }' "${scripts[@]}")
fi

parallel=() parallel_names=() alone=() alone_names=()
queued=()
n=0
for t in "$@"; do
	n=$((n + 1))
	f=$TESTS_DIR/${t%%:*}.sh
	if [ $# -gt 1 ] && [ "${is_parallel[$f]:-0}" = 1 ]; then
		queued+=("${cost_of[$f]} $n $t")
	else
		alone+=("$n") alone_names+=("$t")
	fi
done
# By cost, the highest first; a stable sort keeps the list's order among
# equal costs.
if [ ${#queued[@]} -gt 0 ]; then
	while read -r _ qn qt; do
		parallel+=("$qn") parallel_names+=("$qt")
	done < <(printf '%s\n' "${queued[@]}" | sort -s -k1,1nr)
fi

cleanup_snapshot
queue=$SHARE/queue
echo 0 >"$queue"
lane 0 &
lane 1 &
wait
for i in "${!alone[@]}"; do
	run_test "${alone[i]}" "${alone_names[i]}" 0 all
done

tap=$SHARE/tests.tap
{
	echo "TAP version 13"
	echo "1..$#"
	for ((i = 1; i <= $#; i++)); do
		cat "$SHARE/tap.d/$i"
	done
} >"$tap"

dmesg >"$SHARE/dmesg.log"
echo "guest run complete" >"$SHARE/complete"
