#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The repository's top-level Kbuild builds its modules out of tree (make -C
# KDIR M=DIR; the harness builds them into out/oot before the run): xtfs and
# iomap_rs_modtest, each against the kernel crate's exported symbols only.
# Both load, and taint the kernel 'O' as out-of-tree modules do (so it is
# them that run, not the in-tree builds of the same sources); the test
# module runs its four buffered writes through kernel::iomap at load; xtfs
# makes, mounts, writes, syncs, remounts, reads back and passes fsck. Then
# the in-tree xtfs is loaded back for the tests that follow. Not parallel:
# xtfs is unloaded meanwhile.

. "$(dirname "$0")/common.sh"
require_xtfs

oot=${IOMAP_RS_BIN:?}/../oot
for ko in samples/rust/xtfs/xtfs.ko fs/iomap_rs/iomap_rs_modtest.ko; do
	[ -e "$oot/$ko" ] || fail "no $oot/$ko: the out-of-tree build did not run"
done
in_tree=${IOMAP_RS_KBUILD:?}/samples/rust/xtfs/xtfs.ko
trap 'grep -q "^xtfs " /proc/modules || insmod "$in_tree"' EXIT

# expect_oot MODULE: its taint flags (/sys/module) have O, out of tree.
expect_oot() {
	local taint
	taint=$(cat "/sys/module/$1/taint")
	[[ $taint == *O* ]] || fail "$1: taint '$taint', expected O: not the out-of-tree build"
}

writes_before=$(knob buffered_writes)
insmod "$oot/fs/iomap_rs/iomap_rs_modtest.ko" ||
	fail "insmod of the out-of-tree iomap_rs_modtest failed"
expect_oot iomap_rs_modtest
grep -q 'iomap_rs_modtest: buffered writes through kernel::iomap from a module: ok' <(dmesg) ||
	fail "the out-of-tree iomap_rs_modtest loaded without reporting its writes"
expect_eq "buffered writes of the out-of-tree test module" 4 \
	$(($(knob buffered_writes) - writes_before))
rmmod iomap_rs_modtest || fail "rmmod iomap_rs_modtest failed"

rmmod xtfs || fail "cannot unload the in-tree xtfs"
insmod "$oot/samples/rust/xtfs/xtfs.ko" || fail "insmod of the out-of-tree xtfs failed"
expect_oot xtfs
mkfs_scratch_xtfs -s 16m
ref_dir
head -c 300000 /dev/urandom >"$REF_DIR/oot"
cp "$REF_DIR/oot" "$SCRATCH_MNT/file"
mkdir "$SCRATCH_MNT/dir"
sync
unmount_scratch
mount_xtfs "$SCRATCH_DEV"
expect_same "a file written through the out-of-tree xtfs, remounted" "$SCRATCH_MNT/file" \
	"$REF_DIR/oot"
check_xtfs "$SCRATCH_DEV"
rmmod xtfs || fail "cannot unload the out-of-tree xtfs"
insmod "$in_tree" || fail "cannot load the in-tree xtfs back"
trap - EXIT
echo "out-of-tree iomap_rs_modtest and xtfs built from the top-level Kbuild," \
	"loaded (taint O) and worked; in-tree xtfs back"
