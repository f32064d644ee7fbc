#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Systematic fault injection on xtfs: for each operation, the 1st, 2nd, ...
# allocation (slab or page) or bio to the device that the operation's system
# call makes fails (/proc/thread-self/fail-nth), until the operation
# completes without reaching the fault. After each: the call returned
# success or an error, the files match what it may have done, cached and
# after a remount; after sync no reservation is left (statfs against a fresh
# mount); fsck.xtfs -n is clean; no kernel splat (the harness). The caches
# are dropped before each call, so that it reads metadata, and can fail to.
# Reports the number of fault sites each operation reached. A metadata write
# that fails leaves damage only a journal could undo: the operation must then
# report EIO, and either xtfs shut itself down (a sync found the failed
# write: every change fails with EIO, and it must unmount) or fsck find the
# damage; the sweep continues on a new filesystem, and the count of such
# faults is reported.
#
# It may run beside another test: fail-nth fails only the calling thread's
# allocations and bios, and bios only to a device whose make-it-fail is set,
# its lane's scratch device; the global settings fault_nth_setup changes
# (verbosity, what the injection ignores) matter to no other thread. Its
# messages name its device.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 1030

. "$(dirname "$0")/common.sh"
require_xtfs

OPS=(write_inplace write_eof write_beyond write_hole mkwrite mkwrite_hole falloc_alloc
	falloc_punch falloc_zero truncate_down truncate_up fsync direct_inplace direct_hole
	create mkdir link symlink rename rename_replace rename_dir unlink rmdir)

# A new filesystem for each operation: what one left wrong stays its own. A
# write error injected before that nobody was told of yet is reported to the
# next fsync of the device, even by a process that opened it later (errseq):
# that of sync(1), not mkfs's.
FAULT_MKFS=new_xtfs
FAULT_ESCAPE="metadata writes lost to an injected I/O error"
FAULT_ESCAPE+=" (EIO reported; xtfs shut down, or fsck found the damage)"
new_xtfs() {
	if is_mounted "$SCRATCH_MNT"; then unmount_scratch; fi
	sync "$SCRATCH_DEV" 2>/dev/null || true
	mkfs_scratch_xtfs -b 4096 -N 64 -s 16m
}

use_write_path rust
fault_nth_setup "$SCRATCH_DEV" io
for op in "${OPS[@]}"; do
	new_xtfs
	fault_sweep "$op" fsck.xtfs -n "$SCRATCH_DEV"
done
fault_sweep_report
