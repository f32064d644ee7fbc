#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The edge cases of buffered write() give the same result through iomap_rs as
# through C iomap: a write ending at the maximum file size, one past
# RLIMIT_FSIZE (EFBIG), a zero-length write, an RWF_NOWAIT write into a hole,
# and a write killed by SIGKILL part way (every byte up to the new size is
# written data, and the filesystem is consistent).

. "$(dirname "$0")/common.sh"

mkfs_scratch_xfs
write_bad_input_both_paths
check_scratch_xfs
