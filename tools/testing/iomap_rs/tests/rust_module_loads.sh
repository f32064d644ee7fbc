#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A loadable Rust module that uses kernel::iomap through its Rust API
# (fs/iomap_rs/iomap_rs_modtest.rs) links, loads and works: at load time it
# runs four buffered writes through kernel::iomap::write::buffered_write on
# files of the test pseudo filesystem, each with a mapping that goes stale at
# a chosen folio, and refuses to load unless the bytes written, the remaps
# and the contents read back are right. The library's counters must show
# those writes and remaps. (XFS itself is a module here too, loaded before
# the tests by guest-load-modules.sh: that is the proof its C calls link.)

. "$(dirname "$0")/common.sh"

ko=${IOMAP_RS_KBUILD:?}/fs/iomap_rs/iomap_rs_modtest.ko
[ -e "$ko" ] || fail "no $ko: the test config builds CONFIG_IOMAP_RS_MODULE_TEST=m"
grep -q '^xfs ' /proc/modules || fail "xfs.ko is not loaded: XFS should be a module here"

writes_before=$(knob buffered_writes)
stale_before=$(knob stale_detections)
if ! insmod "$ko"; then
	dmesg | grep iomap_rs_modtest | tail -n 5
	fail "insmod $ko failed"
fi
grep -q 'iomap_rs_modtest: buffered writes through kernel::iomap from a module: ok' <(dmesg) ||
	fail "the module loaded without reporting its writes"
expect_eq "buffered writes counted" 4 $(($(knob buffered_writes) - writes_before))
expect_eq "stale mappings counted" 4 $(($(knob stale_detections) - stale_before))
rmmod iomap_rs_modtest || fail "rmmod iomap_rs_modtest failed"
echo "iomap_rs_modtest loaded, wrote through kernel::iomap, unloaded"
