# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables are for the tests that source this
#
# Sourced by every in-guest test. A test is tools/testing/iomap_rs/tests/NAME.sh,
# run as root in the guest by guest-run-tests.sh with:
#
#   TEST_NAME     its name
#   RESULT_DIR    a host-visible directory for anything worth keeping
#   TEST_DEV      /dev/vda, SCRATCH_DEV /dev/vdb: empty 4 GiB disks
#   IOMAP_RS_BIN  the test programs built from tools/testing/iomap_rs/progs/
#
# Exit 0: pass, 4: skip (print the reason last), anything else: fail. Print
# what was expected and what was found before failing: it ends up in the TAP
# diagnostics. A kernel splat while the test runs fails it regardless.

set -o errexit -o nounset -o pipefail

TEST_DEV=${TEST_DEV:-/dev/vda}
SCRATCH_DEV=${SCRATCH_DEV:-/dev/vdb}
SCRATCH_MNT=${SCRATCH_MNT:-/tmp/iomap_rs-scratch}
IOMAP_RS_DEBUGFS=/sys/kernel/debug/iomap_rs
mkdir -p "${RESULT_DIR:=/tmp/iomap_rs-results}"

fail() {
	echo "FAIL: $*"
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 4
}

# expect_eq WHAT EXPECTED GOT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# mkfs_scratch_xfs [MKFS_OPTIONS...] and mount it on $SCRATCH_MNT.
mkfs_scratch_xfs() {
	mkfs.xfs -f -q "$@" "$SCRATCH_DEV" || fail "mkfs.xfs $* $SCRATCH_DEV failed"
	mount_scratch
}

mount_scratch() {
	mkdir -p "$SCRATCH_MNT"
	mount -t xfs "$SCRATCH_DEV" "$SCRATCH_MNT" || fail "mount $SCRATCH_DEV failed"
}

unmount_scratch() {
	umount "$SCRATCH_MNT" || fail "umount $SCRATCH_MNT failed"
}

# Unmount and check the scratch filesystem; a repair finding is a failure.
check_scratch_xfs() {
	mountpoint -q "$SCRATCH_MNT" && unmount_scratch
	xfs_repair -n "$SCRATCH_DEV" >"$RESULT_DIR/xfs_repair.log" 2>&1 ||
		{ cat "$RESULT_DIR/xfs_repair.log"; fail "xfs_repair -n found problems on $SCRATCH_DEV"; }
}
