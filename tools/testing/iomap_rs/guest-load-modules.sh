#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the guest before anything else: loads the filesystem modules of the
# build ($IOMAP_RS_KBUILD, the host's build directory, seen over 9p). XFS is
# a module in the test config (as distributions build it), which is what
# proves that everything it calls in iomap_rs is exported: insmod fails on an
# unexported symbol. A config with XFS built in has no xfs.ko: nothing to do.

set -o errexit -o nounset

ko=$IOMAP_RS_KBUILD/fs/xfs/xfs.ko
if [ -e "$ko" ] && ! grep -q '^xfs ' /proc/modules; then
	insmod "$ko" || { echo "guest-load-modules: insmod $ko failed"; exit 1; }
fi
exit 0
