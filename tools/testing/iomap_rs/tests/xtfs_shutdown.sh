#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The shutdown ioctl on xtfs (FS_IOC_SHUTDOWN, _IOR('X', 125, __u32): ext4's,
# XFS's XFS_IOC_GOINGDOWN, as xfs_io -c shutdown and fstests use it), in its
# three modes: 0 writes back data and metadata first, 1 makes the journal
# durable first, 2 writes nothing more. Before it: a flag of no mode is
# refused (EINVAL) and so is a caller without CAP_SYS_ADMIN (EPERM), the
# filesystem staying up. After it, every change fails with EIO (creating,
# writing, truncating, mkdir), another shutdown does nothing (as on ext4 and
# XFS), and the filesystem unmounts.
# Then fsck.xtfs -n is clean (replaying the log), the next mount works, a file
# fsynced before is there with its data, and what the mode flushed is there:
# with 0 the data written and not fsynced too, with 1 the name of a file
# created and not fsynced.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 70

. "$(dirname "$0")/common.sh"
require_xtfs

# shutdown_ioctl PATH FLAGS [UID]: the ioctl on PATH (as UID if given);
# prints "ok" or the error.
shutdown_ioctl() {
	python3 - "$@" <<'PY'
import fcntl, os, struct, sys
path, flags = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDONLY)
if len(sys.argv) > 3:
    os.setuid(int(sys.argv[3]))
try:
    fcntl.ioctl(fd, 0x8004587D, struct.pack("I", flags))
    print("ok")
except OSError as e:
    print(os.strerror(e.errno))
PY
}

# refused WHAT COMMAND...: COMMAND must report EIO (xfs_io reports a failed
# command without failing).
refused() {
	local what=$1 out
	shift
	out=$("$@" 2>&1) || true
	case $out in
	*"Input/output error"*) ;;
	*) fail "$what on a shut down filesystem: expected EIO, got '$out'" ;;
	esac
}

m=$SCRATCH_MNT
ref_dir
for mode in 0 1 2; do
	mkfs_scratch_xtfs -s 64m
	kname=$(kernel_name "$SCRATCH_DEV")
	head -c 1M /dev/urandom >"$REF_DIR/a"
	head -c 1M /dev/urandom >"$REF_DIR/b"
	cp "$REF_DIR/a" "$m/a"
	xfs_io -c fsync "$m/a" || fail "fsync failed"
	cp "$REF_DIR/b" "$m/b"
	expect_eq "shutdown with flags 3" "Invalid argument" "$(shutdown_ioctl "$m" 3)"
	expect_eq "shutdown without CAP_SYS_ADMIN" "Operation not permitted" \
		"$(shutdown_ioctl "$m" "$mode" 65534)"
	: >"$m/still-up" || fail "the filesystem went down on a refused shutdown"
	rm "$m/still-up"
	seen=$(dmesg | wc -l)
	expect_eq "shutdown with flags $mode" ok "$(shutdown_ioctl "$m" "$mode")"
	dmesg | tail -n +$((seen + 1)) | grep -q "xtfs: $kname: shut down on request" ||
		fail "no shutdown message in the kernel log"
	refused "creating a file" touch "$m/new"
	refused "writing a file" xfs_io -c "pwrite 0 4k" -c fsync "$m/a"
	refused "truncating a file" truncate -s 0 "$m/a"
	refused "mkdir" mkdir "$m/dir"
	expect_eq "another shutdown" ok "$(shutdown_ioctl "$m" "$mode")"
	umount "$m" || fail "umount after a shutdown (flags $mode) failed"
	check_xtfs "$SCRATCH_DEV"
	mount_xtfs "$SCRATCH_DEV"
	cmp "$m/a" "$REF_DIR/a" || fail "flags $mode: the file fsynced before lost its data"
	case $mode in
	0) cmp "$m/b" "$REF_DIR/b" ||
		fail "flags 0: the data written before the shutdown was not flushed" ;;
	1) [ -e "$m/b" ] || fail "flags 1: the name created before the shutdown is not there" ;;
	esac
	check_xtfs "$SCRATCH_DEV"
	echo "flags $mode: refused before with bad flags and without the capability;" \
		"EIO after; unmounts; fsck clean; what it flushed is there"
done
