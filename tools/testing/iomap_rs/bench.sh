#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark command (make bench): boots the kernel once and measures
# buffered write throughput on XFS through C iomap and through iomap_rs in the
# same boot, the two taking turns within each run (guest-bench.sh), and prints
# MB/s per case with the Rust/C ratio (min, median, max over the runs). Not
# part of the test run.
#
# It also times the delalloc release over a 1 GiB range (no cached pages, one
# dirty page, 1000 scattered dirty pages), iomap_rs against C.
#
# Environment: IOMAP_RS_BENCH_PAIRS (runs per case, default 9), IOMAP_RS_BENCH_MIB (MiB
# written per run, default 64), IOMAP_RS_BENCH (all, release or write),
# IOMAP_RS_BENCH_SIZES (write sizes, default "4096 65536 1048576").

. "$(dirname "$0")/lib.sh"
. "$HARNESS_DIR/vm.sh"

"$HARNESS_DIR/setup-toolchain.sh"
"$HARNESS_DIR/build-kernel.sh"
step "build test programs" "$LOG_DIR/progs.log" build_progs

say "boot the kernel and run the benchmark (console: ${LOG_DIR#"$REPO_DIR"/}/bench-console.log)"
run_vm_report bench 3600 "$HARNESS_DIR/guest-bench.sh" \
	"IOMAP_RS_BIN=$OUT_DIR/bin" "IOMAP_RS_BENCH_PAIRS=${IOMAP_RS_BENCH_PAIRS:-9}" \
	"IOMAP_RS_BENCH_MIB=${IOMAP_RS_BENCH_MIB:-64}" "IOMAP_RS_BENCH=${IOMAP_RS_BENCH:-all}" \
	"IOMAP_RS_BENCH_SIZES='${IOMAP_RS_BENCH_SIZES:-4096 65536 1048576}'"
