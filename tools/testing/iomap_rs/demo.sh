#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: install what is missing, build the kernel and the test
# programs, boot it and show what iomap_rs is for (guest-demo.sh): on XFS and
# on xtfs, the seed's stale write mapping race and the delalloc release
# racing an mmap write, each forced at the exact interleaving by a pause
# point, once with the fix off (the destroyed bytes shown) and once with it
# on (the stale mapping detected, the data right); then checks both
# filesystems.

. "$(dirname "$0")/lib.sh"
. "$HARNESS_DIR/vm.sh"

"$HARNESS_DIR/setup-toolchain.sh"
"$HARNESS_DIR/build-kernel.sh"
step "build test programs" "$LOG_DIR/progs.log" build_progs

say "boot the kernel and run the demonstration (console: ${LOG_DIR#"$REPO_DIR"/}/demo-console.log)"
rc=0
run_vm demo 900 "$HARNESS_DIR/guest-demo.sh @SHARE@ $OUT_DIR/bin" || rc=$?
cp -f "$VM_SHARE/dmesg.log" "$LOG_DIR/demo-dmesg.log" 2>/dev/null || true
[ -f "$VM_SHARE/demo.txt" ] && cat "$VM_SHARE/demo.txt"
splats=$(vm_kernel_splats "$VM_SHARE/dmesg.log" "$VM_CONSOLE_LOG")
[ -z "$splats" ] || die "step 'demo': kernel log splat (see $LOG_DIR/demo-dmesg.log):
$splats"
[ "$rc" = 0 ] || die "step 'demo': the guest run failed with status $rc (see $VM_CONSOLE_LOG)"
say "demo finished: no kernel warnings, both races shown with the fix off and on, filesystems clean"
