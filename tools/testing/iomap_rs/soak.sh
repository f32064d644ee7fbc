#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak: on the debug configuration (KASAN, lockdep, DEBUG_VM, ...), the
# concurrent exercisers (xtfs_concurrent_exerciser and
# xfs_rs_concurrent_exerciser) at 10^6 operations each, in a memory cgroup
# held at 8 MiB (memory.high) so that reclaim takes the files' pages from
# under them, and crash replay at 1000 points or more: xtfs_log_replay twice,
# one instance per lane (xtfs_log_replay:1 and :2, each with its own results
# and seed, the same one with IOMAP_RS_SEED), each with 80 files and at least
# 500 points. A point takes about 10 s under TCG, so one instance of 1000
# points would take three hours; two side by side take half that.
# Not part of `make test` or CI: it takes hours. Ends with "N passed, N failed" like `make test`.
#
# Usage: soak.sh [TEST...] (default: the three above)
# Environment: IOMAP_RS_CONCURRENT_OPS (1000000) per test,
# IOMAP_RS_PRESSURE_MIB (8), IOMAP_RS_REPLAY_FILES (80) and
# IOMAP_RS_REPLAY_MIN_POINTS (500) per replay instance, IOMAP_RS_SEED to
# replay a run; the bounds are IOMAP_RS_TEST_TIMEOUT (6 h per test) and
# IOMAP_RS_VM_TIMEOUT (8 h).

set -o errexit -o nounset -o pipefail
HARNESS_DIR=$(cd "$(dirname "$0")" && pwd)

export KCONFIG=debug
export IOMAP_RS_CONCURRENT_OPS=${IOMAP_RS_CONCURRENT_OPS:-1000000}
export IOMAP_RS_PRESSURE=1
export IOMAP_RS_REPLAY_FILES=${IOMAP_RS_REPLAY_FILES:-80}
export IOMAP_RS_REPLAY_MIN_POINTS=${IOMAP_RS_REPLAY_MIN_POINTS:-500}
export IOMAP_RS_TEST_TIMEOUT=${IOMAP_RS_TEST_TIMEOUT:-21600}
export IOMAP_RS_VM_TIMEOUT=${IOMAP_RS_VM_TIMEOUT:-28800}
if [ $# -eq 0 ]; then
	set -- xtfs_concurrent_exerciser xfs_rs_concurrent_exerciser xtfs_log_replay
fi
# The replay, named, runs as two instances, one per lane.
tests=()
for t in "$@"; do
	if [ "$t" = xtfs_log_replay ]; then
		tests+=(xtfs_log_replay:1 xtfs_log_replay:2)
	else
		tests+=("$t")
	fi
done
set -- "${tests[@]}"
exec "$HARNESS_DIR/run-tests.sh" "$@"
