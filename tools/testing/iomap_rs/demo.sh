#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: install what is missing, build the kernel, boot it, make and
# mount an XFS filesystem, run a short buffered-write workload on it and show
# what happened: iomap_rs's state, the data read back after dropping caches,
# the extent map, and a clean xfs_repair.

. "$(dirname "$0")/lib.sh"
. "$HARNESS_DIR/vm.sh"

"$HARNESS_DIR/setup-toolchain.sh"
"$HARNESS_DIR/build-kernel.sh"

say "boot the kernel and run the demonstration (console: ${LOG_DIR#"$REPO_DIR"/}/demo-console.log)"
rc=0
run_vm demo 900 "$HARNESS_DIR/guest-demo.sh @SHARE@" || rc=$?
cp -f "$VM_SHARE/dmesg.log" "$LOG_DIR/demo-dmesg.log" 2>/dev/null || true
[ -f "$VM_SHARE/demo.txt" ] && cat "$VM_SHARE/demo.txt"
splats=$(vm_kernel_splats "$VM_SHARE/dmesg.log" "$VM_CONSOLE_LOG")
[ -z "$splats" ] || die "step 'demo': kernel log splat (see $LOG_DIR/demo-dmesg.log):
$splats"
[ "$rc" = 0 ] || die "step 'demo': the guest run failed with status $rc (see $VM_CONSOLE_LOG)"
say "demo finished: no kernel warnings, data verified, filesystem clean"
