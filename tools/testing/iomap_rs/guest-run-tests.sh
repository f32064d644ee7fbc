#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest (see run-tests.sh, which picks the tests).
# Usage: guest-run-tests.sh SHARE TEST... | guest-run-tests.sh SHARE @LIST_FILE
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
TEST_TIMEOUT=${IOMAP_RS_TEST_TIMEOUT:-900}
SPLAT_PATTERNS=${SPLAT_PATTERNS:?}

mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

mkdir -p "$SHARE/kunit"
for d in /sys/kernel/debug/kunit/*/; do
	[ -r "$d/results" ] || continue
	cat "$d/results" >"$SHARE/kunit/$(basename "$d").ktap"
done

tap=$SHARE/tests.tap
echo "TAP version 13" >"$tap"
echo "1..$#" >>"$tap"
n=0
for t in "$@"; do
	n=$((n + 1))
	out=$SHARE/tests/$t.out
	mkdir -p "$SHARE/tests"
	echo "iomap_rs-test: start $t" >/dev/kmsg
	before=$(dmesg | wc -l)
	start=$(date +%s)
	if [ -x "$TESTS_DIR/$t.sh" ]; then
		TEST_NAME=$t RESULT_DIR=$SHARE/tests/$t.d \
			timeout -k 5 "$TEST_TIMEOUT" "$TESTS_DIR/$t.sh" >"$out" 2>&1 </dev/null
		rc=$?
	else
		echo "no such test: $TESTS_DIR/$t.sh" >"$out"
		rc=1
	fi
	secs=$(($(date +%s) - start))
	echo "iomap_rs-test: end $t rc=$rc" >/dev/kmsg
	splats=$(dmesg | tail -n +"$((before + 1))" | grep -E -- "$SPLAT_PATTERNS" | head -n 5)
	if [ -n "$splats" ]; then
		echo "kernel log splat while the test ran:" >>"$out"
		echo "$splats" >>"$out"
		rc=1
	fi
	case $rc in
	0) echo "ok $n $t # time=${secs}s" >>"$tap" ;;
	4) echo "ok $n $t # SKIP $(tail -n 1 "$out")" >>"$tap" ;;
	124 | 137) echo "timed out after ${TEST_TIMEOUT}s" >>"$out"
		echo "not ok $n $t # time=${secs}s" >>"$tap" ;;
	*) echo "not ok $n $t # exit status $rc, time=${secs}s" >>"$tap" ;;
	esac
	if [ "$rc" != 0 ]; then
		sed 's/^/# /' "$out" | tail -n 60 >>"$tap"
	elif [ -s "$SHARE/tests/$t.d/diagnostics" ]; then
		# What a passing test reports on purpose (common.sh: diagnose).
		sed 's/^/# /' "$SHARE/tests/$t.d/diagnostics" >>"$tap"
	fi
done

dmesg >"$SHARE/dmesg.log"
echo "guest run complete" >"$SHARE/complete"
