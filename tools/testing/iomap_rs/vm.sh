# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Boot the built kernel under virtme-ng and run one command in it.
#
# The guest sees the host's root filesystem read-only over 9p (so host tools
# such as xfs_io, mkfs.xfs and our test programs run as they are), gets four
# empty virtio-blk disks (/dev/vda to /dev/vdd: a test and a scratch disk for
# each of the two lanes the tests run in, see guest-run-tests.sh) and one
# writable directory shared with the host, $VM_SHARE, where the guest leaves
# its results and its full dmesg.
#
# A run fails, with one line naming the reason and the log, when the guest
# times out, panics, or the kernel log holds a splat (see SPLAT_PATTERNS).
# Sourced; requires lib.sh.

# The distribution configuration runs on four vCPUs, as real machines have
# more CPUs than the two the hosts give (more interleavings, per-CPU lists).
if [ "$KCONFIG" = distro ]; then
	VM_CPUS=${VM_CPUS:-4}
else
	VM_CPUS=${VM_CPUS:-2}
fi
VM_MEMORY=${VM_MEMORY:-4G}
VM_DISK_SIZE=${VM_DISK_SIZE:-4G}

# The root filesystem as virtme-ng mounts it, plus cache=loose: the host's
# files do not change during a run, and executables are paged in once instead
# of over 9p at every exec (a quarter of what starting a process costs under
# TCG, and the tests start thousands). log_buf_len: a test's window of the kernel log
# (guest-run-tests.sh) must still be there when the test ends.
VM_ROOTFLAGS=rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose

# Kernel log lines that fail a run wherever they appear: warnings, BUGs
# (including lockdep's "BUG: MAX_LOCKDEP..." and sleeping-in-atomic),
# oopses, sanitizer reports, lockdep switching itself off after a report,
# panics, hung tasks and RCU stalls.
SPLAT_PATTERNS='WARNING:|BUG:|Oops|KASAN|UBSAN|Kernel panic|general protection fault'
SPLAT_PATTERNS+='|turning off the locking correctness validator'
SPLAT_PATTERNS+='|INFO: task .* blocked for more than|rcu: INFO: .* detected stalls'

# vm_kernel_splats LOG...: print the splat lines found in the logs.
vm_kernel_splats() {
	grep -hE -- "$SPLAT_PATTERNS" "$@" 2>/dev/null | sed 's/\r$//' | head -n 20 || true
}

# run_vm NAME TIMEOUT_SECONDS GUEST_COMMAND
#
# VM_APPEND, if set, is added to the kernel command line; VM_QEMU_OPTS, if
# set, to QEMU's.
# Sets VM_SHARE (host directory, writable in the guest at the same path) and
# VM_CONSOLE_LOG before booting; "@SHARE@" in GUEST_COMMAND is replaced by
# VM_SHARE. Returns the guest command's exit status, or
# 124 on timeout. Callers check splats with vm_kernel_splats.
run_vm() {
	local name=$1 timeout_s=$2 cmd=$3
	local dir=$OUT_DIR/vm/$name
	rm -rf "$dir"
	mkdir -p "$dir/share"
	VM_SHARE=$dir/share
	VM_CONSOLE_LOG=$LOG_DIR/$name-console.log
	cmd=${cmd//@SHARE@/$VM_SHARE}
	# XFS is a module in the test config: load it (and tell the tests where
	# the build's modules are) before anything mounts it.
	cmd="export IOMAP_RS_KBUILD=$KBUILD; $HARNESS_DIR/guest-load-modules.sh && $cmd"
	local disk qemu_opts=
	for disk in 0 1 2 3; do
		truncate -s "$VM_DISK_SIZE" "$dir/disk$disk.img"
		qemu_opts+=" -drive file=$dir/disk$disk.img,if=virtio,format=raw,cache=unsafe"
	done
	qemu_opts+="${VM_QEMU_OPTS:+ $VM_QEMU_OPTS}"

	local kvm_opt=--disable-kvm
	if [ "${IOMAP_RS_KVM:-0}" = 1 ]; then
		kvm_opt=
	fi

	local rc=0 vm
	# setsid + timeout -k: the whole QEMU process group goes on a hang.
	# timeout leads a process group of its own, which a signal to the
	# caller's does not reach: in the background, so that a stopped run
	# (make test interrupted) can hand the signal on, as on a hang.
	local append="printk.devkmsg=on log_buf_len=16M $VM_ROOTFLAGS${VM_APPEND:+ $VM_APPEND}"
	timeout -k 10 "$timeout_s" setsid vng --run "$BZIMAGE" $kvm_opt \
		--disable-microvm --force-9p \
		--cpus "$VM_CPUS" --memory "$VM_MEMORY" \
		--rwdir "$VM_SHARE" --cwd "$REPO_DIR" \
		--append "$append" \
		--qemu-opts="$qemu_opts" --verbose \
		--exec "$cmd" </dev/null >"$VM_CONSOLE_LOG" 2>&1 &
	vm=$!
	trap 'kill -- -'"$vm"' 2>/dev/null || kill '"$vm"' 2>/dev/null; exit 143' TERM INT HUP
	wait "$vm" || rc=$?
	trap - TERM INT HUP
	# The share and the disks are kept for inspection until the next run
	# of the same name; the disks are sparse and removed here.
	rm -f "$dir"/disk*.img
	return $rc
}

# run_vm_report NAME TIMEOUT_SECONDS GUEST_SCRIPT ENV...
#
# For the commands whose guest script writes a report (make bench, make
# profile): runs GUEST_SCRIPT SHARE in the guest with the ENV assignments,
# keeps its dmesg as $LOG_DIR/NAME-dmesg.log and its report, the share's
# NAME.txt, as $LOG_DIR/NAME.txt, and prints the report. Dies, naming the
# step, on a kernel splat or a failed guest run.
run_vm_report() {
	local name=$1 timeout_s=$2 script=$3 rc=0 splats
	shift 3
	run_vm "$name" "$timeout_s" "$* $script @SHARE@" || rc=$?
	cp -f "$VM_SHARE/dmesg.log" "$LOG_DIR/$name-dmesg.log" 2>/dev/null || true
	[ -f "$VM_SHARE/$name.txt" ] && cp "$VM_SHARE/$name.txt" "$LOG_DIR/$name.txt" &&
		cat "$LOG_DIR/$name.txt"
	splats=$(vm_kernel_splats "$VM_SHARE/dmesg.log" "$VM_CONSOLE_LOG")
	[ -z "$splats" ] || die "step '$name': kernel log splat (see $LOG_DIR/$name-dmesg.log):
$splats"
	[ "$rc" = 0 ] ||
		die "step '$name': the guest run failed with status $rc (see $VM_CONSOLE_LOG)"
}
