#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The profile command (make profile): builds the profiling configuration
# (KCONFIG=profile: iomap_rs-profile.config, a distribution-like kernel with
# ftrace's function profiler), boots it once and compares, per write, what
# C iomap and iomap_rs do for the same buffered writes on XFS
# (guest-profile.sh): the calls of every traceable function (C's and the
# rust_helper_* wrappers Rust calls C's inlines through), then the guest
# instructions and memory accesses per kernel function, Rust's included,
# counted by QEMU with qemu-plugin/insn_profile.c (insn_table.py makes the
# tables). Prints both (out/kconfig-profile/logs/profile.txt). Not part of
# the test run: the counts do not change with the machine, the tables in
# Documentation/filesystems/iomap_rs.rst come from it.
#
# Environment: IOMAP_RS_PROFILE_MIB (MiB written per case, default 16).

export KCONFIG=profile
# The instruction counts come from TCG's plugin interface, which KVM lacks.
if [ "${IOMAP_RS_KVM:-0}" = 1 ]; then
	echo "make profile: runs under TCG only (unset IOMAP_RS_KVM)" >&2
	exit 1
fi
# One vCPU: turning the profiler on patches the entry of every traceable
# function (int3 first, text_poke_bp()), and under TCG another vCPU can run a
# stale translation of a breakpoint the patching has already removed, an
# oops in the int3 handler. The instruction counter's additions are not
# atomic either. The counts do not depend on the CPUs.
export VM_CPUS=${VM_CPUS:-1}
. "$(dirname "$0")/lib.sh"
. "$HARNESS_DIR/vm.sh"

"$HARNESS_DIR/setup-toolchain.sh"
"$HARNESS_DIR/build-kernel.sh"
step "build test programs" "$LOG_DIR/progs.log" build_progs

# The instruction counts: QEMU's plugin interface, with our plugin
# (qemu-plugin/insn_profile.c; Debian packages no plugin header, it declares
# the API it uses).
build_plugin() {
	mkdir -p "$OUT_DIR/qemu-plugin"
	gcc -O2 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden -pthread \
		-o "$OUT_DIR/qemu-plugin/insn_profile.so" "$HARNESS_DIR/qemu-plugin/insn_profile.c"
}
step "build the QEMU plugin" "$LOG_DIR/qemu-plugin.log" build_plugin
# run_vm's share for the boot named profile, where the guest marks.
share=$OUT_DIR/vm/profile/share
export VM_QEMU_OPTS="-plugin $OUT_DIR/qemu-plugin/insn_profile.so,out=$share/insn"

say "boot the kernel and profile (console: ${LOG_DIR#"$REPO_DIR"/}/profile-console.log)"
run_vm_report profile 3600 "$HARNESS_DIR/guest-profile.sh" \
	"IOMAP_RS_BIN=$OUT_DIR/bin" "IOMAP_RS_PROFILE_MIB=${IOMAP_RS_PROFILE_MIB:-16}"
python3 "$HARNESS_DIR/insn_table.py" "$share" | tee -a "$LOG_DIR/profile.txt"
