#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The edge cases of buffered write() give the same result through iomap_rs as
# through C iomap: a write ending at the maximum file size, one past
# RLIMIT_FSIZE (EFBIG), a zero-length write, an RWF_NOWAIT write into a hole, and a write killed by SIGKILL part way (every byte up to the new
# size is written data, and the filesystem is consistent).

. "$(dirname "$0")/common.sh"

mkfs_scratch_xfs
declare -A got
for path in c rust; do
	use_write_path $path
	for c in efbig fsize zero nowait; do
		got[$path-$c]=$("$IOMAP_RS_BIN/writecase" $c "$SCRATCH_MNT/$c-$path")
		echo "$path: ${got[$path-$c]}"
	done
	knob validate_delay_ms 1
	out=$("$IOMAP_RS_BIN/writecase" kill "$SCRATCH_MNT/kill-$path")
	knob validate_delay_ms 0
	echo "$path: $out"
	size=${out##*size=}
	[ "$size" -gt 0 ] || echo "note: the write was killed before it wrote anything"
	drop_caches
	cmp -n "$size" "$SCRATCH_MNT/kill-$path" <(tr '\0' '\132' </dev/zero) >/dev/null 2>&1 ||
		fail "killed write ($path): the first $size bytes are not all the written 0x5a"
done
expect_eq "fsize" "fsize: error File too large" "${got[rust-fsize]}"
expect_eq "zero" "zero: wrote 0" "${got[rust-zero]}"
for c in efbig fsize zero nowait; do
	expect_eq "$c: iomap_rs against C iomap" "${got[c-$c]}" "${got[rust-$c]}"
done
check_scratch_xfs
