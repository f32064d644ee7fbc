#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test command: install what is missing, build the kernel, boot it and
# run every test in it (the KUnit suites, which run at boot, then every
# in-guest test; a test that needs kernel parameters in a boot of its own
# after that), and end with "N passed, N failed".
#
# Usage: run-tests.sh [TEST...]   (default: every test in tests/)
# Environment: IOMAP_RS_VM_TIMEOUT (seconds, default 3600, 10800 with
# KCONFIG=debug) bounds each boot's run, IOMAP_RS_TEST_TIMEOUT (900, 2700) each test;
# IOMAP_RS_IMAGES (300, 1000 with KCONFIG=debug) is the number of damaged
# images xtfs_used_images uses; IOMAP_RS_REPLAY_FILES (20, 40) the fsynced
# files xtfs_log_replay writes, IOMAP_RS_REPLAY_MIN_POINTS (100) the replay
# points it must reach; IOMAP_RS_CONCURRENT_OPS (50,000) the
# operations of each concurrent exerciser test; IOMAP_RS_PRESSURE=1 runs
# them in a memory cgroup of IOMAP_RS_PRESSURE_MIB (8) MiB (make soak);
# IOMAP_RS_SCALE (100) is the size of the random tests that take it (power
# failures, random images, concurrent operations) in percent of their
# defaults; IOMAP_RS_SEED, if set, replays the random tests' seed (each prints its);
# IOMAP_RS_XTRACE=1 leaves a timestamped trace of each test in
# out/vm/test/share/tests/NAME.d/xtrace (see tests/common.sh).

. "$(dirname "$0")/lib.sh"
. "$HARNESS_DIR/vm.sh"

"$HARNESS_DIR/setup-toolchain.sh"
"$HARNESS_DIR/build-kernel.sh"

step "build test programs" "$LOG_DIR/progs.log" build_progs
step "build the out-of-tree modules (make M=out/oot)" "$LOG_DIR/oot.log" build_oot_modules
step "compile checks of ui/ against the kernel crate" "$LOG_DIR/ui.log" \
	"$HARNESS_DIR/ui-tests.sh" "$OUT_DIR/ui.tap"

# make test's debug half (test-matrix.sh sets IOMAP_RS_RUSTDOC=1): make
# rustdoc on the kernel just built, beside the VM run at the lowest priority
# (it gets the core the tests that run alone leave idle); its TAP line joins
# the summary.
rustdoc_pid=
if [ "${IOMAP_RS_RUSTDOC:-0}" = 1 ]; then
	rm -f "$OUT_DIR/rustdoc.tap"
	# At most half an hour: it takes about 90 s of CPU.
	setsid bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null
		exec nice -n 19 timeout 1800 "$0" --tap "$1"' \
		"$HARNESS_DIR/rustdoc.sh" "$OUT_DIR/rustdoc.tap" </dev/null >/dev/null 2>&1 &
	rustdoc_pid=$!
	# Not left running in the build directory if this run is stopped.
	trap 'kill -- -"$rustdoc_pid" 2>/dev/null || true' EXIT
fi

if [ $# -gt 0 ]; then
	tests=("$@")
else
	tests=()
	for f in "$HARNESS_DIR"/tests/*.sh; do
		t=$(basename "$f" .sh)
		[ "$t" = common ] || tests+=("$t")
	done
fi

# The debug configuration runs three to four times slower (KASAN, SLUB
# debugging): its bounds are three times the others'.
if [ "$KCONFIG" = debug ]; then
	VM_TIMEOUT=${IOMAP_RS_VM_TIMEOUT:-10800}
	TEST_TIMEOUT=${IOMAP_RS_TEST_TIMEOUT:-2700}
	IMAGES=${IOMAP_RS_IMAGES:-1000}
	REPLAY_FILES=${IOMAP_RS_REPLAY_FILES:-40}
else
	VM_TIMEOUT=${IOMAP_RS_VM_TIMEOUT:-3600}
	TEST_TIMEOUT=${IOMAP_RS_TEST_TIMEOUT:-900}
	IMAGES=${IOMAP_RS_IMAGES:-300}
	REPLAY_FILES=${IOMAP_RS_REPLAY_FILES:-20}
fi

# Tests whose script asks for a kernel command line of its own
# ("# iomap_rs-test: boot PARAMETERS", such as lsm=smack for an LSM that is
# built in but not enabled by default) run after the others, in one boot per
# command line, without the KUnit suites (kunit.enable=0: they ran in the
# first boot).
main_tests=() boots=()
declare -A boot_tests=()
for t in "${tests[@]}"; do
	p=
	# A name without a script goes to the first boot, which reports it.
	script=$HARNESS_DIR/tests/${t%%:*}.sh
	[ ! -f "$script" ] || p=$(sed -n 's/^# iomap_rs-test: boot //p' "$script" | head -n 1)
	if [ -z "$p" ]; then
		main_tests+=("$t")
	else
		[ -n "${boot_tests[$p]+set}" ] || boots+=("$p")
		boot_tests[$p]+=" $t"
	fi
done

export SPLAT_PATTERNS IOMAP_RS_OUT=$OUT_DIR
guest_cmd="SPLAT_PATTERNS='$SPLAT_PATTERNS' IOMAP_RS_BIN=$OUT_DIR/bin"
guest_cmd+=" IOMAP_RS_TEST_TIMEOUT=$TEST_TIMEOUT IOMAP_RS_IMAGES=$IMAGES"
guest_cmd+=" IOMAP_RS_REPLAY_FILES=$REPLAY_FILES "
guest_cmd+="${IOMAP_RS_REPLAY_MIN_POINTS:+IOMAP_RS_REPLAY_MIN_POINTS=$IOMAP_RS_REPLAY_MIN_POINTS }"
guest_cmd+="IOMAP_RS_CONCURRENT_OPS=${IOMAP_RS_CONCURRENT_OPS:-$((500 * ${IOMAP_RS_SCALE:-100}))}"
guest_cmd+=" IOMAP_RS_SCALE=${IOMAP_RS_SCALE:-100} "
guest_cmd+="${IOMAP_RS_PRESSURE:+IOMAP_RS_PRESSURE=$IOMAP_RS_PRESSURE }"
guest_cmd+="IOMAP_RS_PRESSURE_MIB=${IOMAP_RS_PRESSURE_MIB:-8} "
guest_cmd+="${IOMAP_RS_SEED:+IOMAP_RS_SEED=$IOMAP_RS_SEED }"
guest_cmd+="IOMAP_RS_XTRACE=${IOMAP_RS_XTRACE:-0}"

shares=() run_errors=()
# boot_and_run NAME TEST...: one boot (with VM_APPEND's parameters) running
# the tests; adds its share to shares and what went wrong outside any test
# (a timeout, an unfinished run, a splat at boot or between tests) to
# run_errors.
boot_and_run() {
	local name=$1 vm_rc=0 start=$SECONDS share splats msg
	shift
	say "boot the kernel${VM_APPEND:+ with $VM_APPEND} and run $# in-guest tests" \
		"(console: ${LOG_DIR#"$REPO_DIR"/}/$name-console.log)"
	# The names go in a file: the guest command travels on the kernel
	# command line, which a list of every test would overflow.
	printf '%s\n' "$@" >"$OUT_DIR/$name.list"
	run_vm "$name" "$VM_TIMEOUT" \
		"$guest_cmd $HARNESS_DIR/guest-run-tests.sh @SHARE@ @$OUT_DIR/$name.list" ||
		vm_rc=$?
	printf '    VM run took %ds\n' $((SECONDS - start))
	share=$VM_SHARE
	shares+=("$share")
	cp -f "$share/dmesg.log" "$LOG_DIR/$name-dmesg.log" 2>/dev/null || true
	if [ ! -f "$share/complete" ]; then
		if [ "$vm_rc" = 124 ]; then
			msg="$name: the VM timed out after ${VM_TIMEOUT}s;"
			run_errors+=("$msg console log: $VM_CONSOLE_LOG")
		else
			msg="$name: the guest did not finish the run (vng exit status $vm_rc);"
			run_errors+=("$msg console log: $VM_CONSOLE_LOG")
		fi
		splats=$(vm_kernel_splats "$VM_CONSOLE_LOG")
	else
		# Splats inside a test's window already failed that test; these
		# are the ones logged at boot or between tests.
		splats=$(awk '/iomap_rs-test: start/ { in_test = 1 } !in_test { print }
			/iomap_rs-test: end/ { in_test = 0 }' "$share/dmesg.log" |
			grep -E -- "$SPLAT_PATTERNS" | head -n 20 || true)
	fi
	if [ -n "$splats" ]; then
		msg="$name: kernel log splat outside any test (boot or KUnit);"
		run_errors+=("$msg full log: $LOG_DIR/$name-dmesg.log
$splats")
	fi
}

# The first boot runs the KUnit suites, unless only tests of their own boots
# were asked for.
suites=()
if [ ${#main_tests[@]} -gt 0 ] || [ ${#boots[@]} -eq 0 ]; then
	VM_APPEND= boot_and_run test "${main_tests[@]}"
	suites=(--expect-suites "$HARNESS_DIR/kunit-suites")
fi
i=0
for p in "${boots[@]}"; do
	i=$((i + 1))
	read -r -a these <<<"${boot_tests[$p]}"
	VM_APPEND="kunit.enable=0 $p" boot_and_run "test-boot$i" "${these[@]}"
done

host_taps=(--host-tap "$OUT_DIR/ui.tap")
if [ -n "$rustdoc_pid" ]; then
	wait "$rustdoc_pid" || true
	trap - EXIT
	host_taps+=(--host-tap "$OUT_DIR/rustdoc.tap")
fi
args=("${shares[@]}" "${host_taps[@]}" "${suites[@]}" --expect-tests "${tests[@]}")
for e in "${run_errors[@]}"; do
	args+=(--run-error "$e")
done
python3 "$HARNESS_DIR/tap_summary.py" "${args[@]}" | tee "$LOG_DIR/test-results.tap"
