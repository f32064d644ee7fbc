#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The profile command (make profile): builds the profiling configuration
# (KCONFIG=profile: iomap_rs-profile.config, ftrace's function profiler),
# boots it once and counts, per folio, the calls that C iomap and iomap_rs
# make for the same buffered writes on XFS (guest-profile.sh): every
# traceable function, C's and the rust_helper_* wrappers Rust calls C's
# inlines through. Prints the table (out/kconfig-profile/logs/profile.txt).
# Not part of the test run: the counts do not change with the machine, the
# table in Documentation/filesystems/iomap_rs.rst comes from it.
#
# Environment: IOMAP_RS_PROFILE_MIB (MiB written per case, default 16).

export KCONFIG=profile
# One vCPU: turning the profiler on patches the entry of every traceable
# function (int3 first, text_poke_bp()), and under TCG another vCPU can run a
# stale translation of a breakpoint the patching has already removed, an
# oops in the int3 handler. The counts do not depend on the CPUs.
export VM_CPUS=${VM_CPUS:-1}
. "$(dirname "$0")/lib.sh"
. "$HARNESS_DIR/vm.sh"

"$HARNESS_DIR/setup-toolchain.sh"
"$HARNESS_DIR/build-kernel.sh"
step "build test programs" "$LOG_DIR/progs.log" build_progs

say "boot the kernel and profile (console: ${LOG_DIR#"$REPO_DIR"/}/profile-console.log)"
run_vm_report profile 1800 "$HARNESS_DIR/guest-profile.sh" \
	"IOMAP_RS_BIN=$OUT_DIR/bin" "IOMAP_RS_PROFILE_MIB=${IOMAP_RS_PROFILE_MIB:-16}"
