#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest runs our kernel with iomap_rs built in and initialised: the
# debugfs status written by the Rust library reports the ABI of the header
# it was built against, the Rust init message is in the log, and XFS (the
# first user) is available.

. "$(dirname "$0")/common.sh"

status=$IOMAP_RS_DEBUGFS/status
[ -r "$status" ] || fail "expected $status to exist, it does not (is CONFIG_IOMAP_RS on?)"
cat "$status"

header=$(dirname "$0")/../../../../include/linux/iomap_rs.h
want_abi=$(sed -n 's/^#define IOMAP_RS_ABI_VERSION[[:space:]]*\([0-9]*\)$/\1/p' "$header")
expect_eq "abi_version in $status" "$want_abi" "$(sed -n 's/^abi_version: //p' "$status")"
expect_eq "rust_initialized in $status" yes "$(sed -n 's/^rust_initialized: //p' "$status")"

grep -q 'iomap_rs: Rust buffered write library ready' <(dmesg) ||
	fail "expected the Rust init message 'iomap_rs: Rust buffered write library ready'" \
		"in dmesg, not found"

grep -qw xfs /proc/filesystems || fail "expected xfs in /proc/filesystems, not found"
echo "kernel $(uname -r): iomap_rs ABI $want_abi initialised, xfs registered"
