#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test: the test command of README.md, and what CI runs (.ci/run).
#
#   make test                  every test once: those named in debug-subset on
#                              the debug configuration (the default one plus
#                              KASAN, UBSAN, DEBUG_VM, ...), the others on the
#                              default configuration, in two boots; one
#                              summary line for both
#   make test TESTS="a b"      the named tests, default configuration only
#   make test KCONFIG=NAME     every test (or TESTS) on configuration NAME only
#
# The last line is always "N passed, N failed"; the exit status is non-zero
# if a test failed. See the README for the matrix and its times.

set -o errexit -o nounset -o pipefail
HARNESS_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$HARNESS_DIR/../../.." && pwd)

if [ -n "${KCONFIG:-}" ] || [ $# -gt 0 ]; then
	KCONFIG=${KCONFIG:-default} exec "$HARNESS_DIR/run-tests.sh" "$@"
fi

# The subset: one name per line, comments after '#'.
mapfile -t subset < <(sed 's/#.*//; /^[[:space:]]*$/d; s/[[:space:]]//g' \
	"$HARNESS_DIR/debug-subset")
# The rest: the debug configuration has every option of the default one, so
# a test it runs gains nothing from running again on the default one.
rest=()
for f in "$HARNESS_DIR"/tests/*.sh; do
	t=$(basename "$f" .sh)
	[ "$t" = common ] && continue
	[[ " ${subset[*]} " == *" $t "* ]] || rest+=("$t")
done
for t in "${subset[@]}"; do
	[ -f "$HARNESS_DIR/tests/$t.sh" ] || { echo "debug-subset: no test $t" >&2; exit 1; }
done

# The two boots overlap, so that no core sits idle for long. Each boot runs
# its tests that run alone first (one vCPU mostly idle), then its two lanes
# (both busy); see guest-run-tests.sh.
#  - The debug kernel builds beside the default boot, at the lowest priority
#    (in its own session, whose scheduler autogroup is niced too: with
#    autogroups, nice only orders the tasks of one session), in the time the
#    default boot's tests that run alone leave idle.
#  - When the default boot's lanes begin (its guest writes
#    SHARE/alone-done), the build, if still going, goes back to normal
#    priority, and the debug boot starts as soon as its kernel is built: its
#    tests that run alone share the cores with the default lanes. Two
#    guests of 4 GiB each then run at once.
# The debug half's own build-kernel.sh then finds the kernel built (or
# finishes it, and reports any error of it). Its output is printed after the
# default one's.
"$HARNESS_DIR/setup-toolchain.sh"
bg_log=$REPO_DIR/out/debug-build-beside.log
mkdir -p "$(dirname "$bg_log")"
KCONFIG=debug setsid bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null; exec nice -n 19 "$0"' \
	"$HARNESS_DIR/build-kernel.sh" >"$bg_log" 2>&1 </dev/null &
bg=$!
pids=("$bg")
# Each of these leads a process group (setsid, or a job of this shell).
trap 'for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null; done' EXIT
printf '==> building the debug kernel beside the default run, at the lowest priority (log: %s)\n' \
	"${bg_log#"$REPO_DIR"/}"

default_log=$(mktemp)
debug_log=$(mktemp)
# The default boot's share (vm.sh: run_vm test), where its guest marks the
# end of its tests that run alone; IOMAP_RS_OUT would make both boots share
# one directory.
unset IOMAP_RS_OUT
alone_done=$REPO_DIR/out/vm/test/share/alone-done
rm -f "$alone_done"
setsid bash -c 'KCONFIG=default IOMAP_RS_RUSTDOC=1 "$@" >"$0" 2>&1 </dev/null' "$default_log" \
	"$HARNESS_DIR/run-tests.sh" "${rest[@]}" &
default=$!
pids+=("$default")
# The default run's output as it comes.
tail -n +1 --pid="$default" -f "$default_log" &
follow=$!
pids+=("$follow")

# The debug boot, once the default one's lanes have begun (or the default
# run has ended) and the debug kernel is built. The build goes back to
# normal priority first: the default lanes then share the cores with it
# instead of leaving it only what they do not use. (Writing 0 to an
# autogroup's nice needs no privilege; renice to a lower nice needs root, as
# apt-get does: without it, the build's processes stay at 19.)
start=$SECONDS
while [ ! -e "$alone_done" ] && kill -0 "$default" 2>/dev/null; do
	sleep 5
done
echo 0 >"/proc/$bg/autogroup" 2>/dev/null || true
renice --priority 0 -g "$bg" >/dev/null 2>&1 || true
wait "$bg" || true
# At half the random tests' sizes: the sanitizers make the debug
# configuration three times slower, and the cold run must stay within the
# hour.
printf '==> the debug boot starts %ds after the default run (its build included)\n' \
	$((SECONDS - start)) >>"$debug_log"
setsid bash -c 'KCONFIG=debug IOMAP_RS_SCALE=${IOMAP_RS_SCALE:-50} "$@" >>"$0" 2>&1 </dev/null' \
	"$debug_log" "$HARNESS_DIR/run-tests.sh" "${subset[@]}" &
debug=$!
pids+=("$debug")

rc=0
wait "$default" || rc=1
wait "$follow" || true
printf '==> the debug configuration: %s\n' "${subset[*]}"
# The debug run's output so far, then as it comes.
tail -n +1 --pid="$debug" -f "$debug_log"
wait "$debug" || rc=1
# Everything ended: the trap has nothing left to kill (and the pids may be
# someone else's by now).
trap - EXIT

passed=0
failed=0
for log in "$default_log" "$debug_log"; do
	last=$(tail -n 1 "$log")
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		# The run stopped before its summary (a build step failed): its error
		# line is above; count it as one failure so the total says so.
		failed=$((failed + 1))
		rc=1
	fi
done
rm -f "$default_log" "$debug_log" "$debug_log".*
echo "$passed passed, $failed failed"
exit $rc
