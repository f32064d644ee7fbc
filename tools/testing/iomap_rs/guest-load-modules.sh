#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the guest before anything else: loads the filesystem modules of the
# build ($IOMAP_RS_KBUILD, the host's build directory, seen over 9p). XFS is
# a module in the test config (as distributions build it), which is what
# proves that everything it calls in iomap_rs is exported: insmod fails on an
# unexported symbol. A config with XFS built in has no xfs.ko: nothing to do.
# xtfs (samples/rust/xtfs) is loaded the same way.

set -o errexit -o nounset

# xtfs, the Rust sample filesystem, is always a module.
for ko in fs/xfs/xfs.ko samples/rust/xtfs/xtfs.ko; do
	ko=$IOMAP_RS_KBUILD/$ko
	name=$(basename "$ko" .ko)
	if [ -e "$ko" ] && ! grep -q "^$name " /proc/modules; then
		insmod "$ko" || { echo "guest-load-modules: insmod $ko failed"; exit 1; }
	fi
done
exit 0
