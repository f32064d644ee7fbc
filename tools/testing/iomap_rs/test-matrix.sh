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

# The debug kernel builds while the default configuration's tests run, so
# that a cold run does not wait for it afterwards. The guest's idle CPU time
# is enough: the build runs at the lowest priority, in its own session whose
# scheduler autogroup is niced too (with autogroups, nice only orders the
# tasks of one session), so that it takes no time the guest wants. The
# debug half's own build-kernel.sh then finds it built (or finishes it, and
# reports any error of it).
"$HARNESS_DIR/setup-toolchain.sh"
bg_log=$REPO_DIR/out/debug-build-beside.log
mkdir -p "$(dirname "$bg_log")"
KCONFIG=debug setsid bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null; exec nice -n 19 "$0"' \
	"$HARNESS_DIR/build-kernel.sh" >"$bg_log" 2>&1 </dev/null &
bg=$!
trap 'kill -- -$bg 2>/dev/null || true' EXIT
printf '==> building the debug kernel beside the default run, at the lowest priority (log: %s)\n' \
	"${bg_log#"$REPO_DIR"/}"

passed=0
failed=0
rc=0
for config in default debug; do
	log=$(mktemp)
	if [ "$config" = default ]; then
		KCONFIG=default "$HARNESS_DIR/run-tests.sh" "${rest[@]}" 2>&1 | tee "$log" || rc=1
	else
		# At about a third of the random tests' sizes (power failures,
		# random images, concurrent exercisers; make soak runs them
		# large): the sanitizers make the debug configuration three times
		# slower, and the cold run must stay within the hour. make
		# rustdoc runs beside it, in the time its tests that run alone
		# leave a core idle.
		start=$SECONDS
		wait "$bg" || true
		printf '==> the debug kernel build beside it ended (waited %ds for it)\n' \
			$((SECONDS - start))
		printf '==> the debug configuration: %s\n' "${subset[*]}"
		KCONFIG=debug IOMAP_RS_SCALE=${IOMAP_RS_SCALE:-35} IOMAP_RS_RUSTDOC=1 \
			"$HARNESS_DIR/run-tests.sh" "${subset[@]}" 2>&1 |
			tee "$log" || rc=1
	fi
	last=$(tail -n 1 "$log")
	rm -f "$log"
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
echo "$passed passed, $failed failed"
exit $rc
