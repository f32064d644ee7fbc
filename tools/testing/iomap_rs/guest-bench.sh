#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest for bench.sh. Usage: guest-bench.sh SHARE
#
# First the delalloc release benchmark (release_bench.rs, through debugfs),
# then, for each write case (write size x writers x new/overwrite), PAIRS
# runs of bench_write in which C iomap and iomap_rs take turns writing the
# files' chunks (16 chunks, the order alternating by round, the switch
# /sys/kernel/debug/iomap_rs/enabled flipped between chunks): both paths see
# the same machine, cache and file state, which under TCG matters more than
# anything we measure. Each run gives one Rust/C ratio.
# IOMAP_RS_BENCH=release or write runs only one of the two;
# IOMAP_RS_BENCH_SIZES lists the write sizes (default 4096 65536 1048576).

set -o errexit -o nounset -o pipefail
SHARE=$1
DEV=/dev/vda
MNT=/tmp/iomap_rs-bench
PAIRS=${IOMAP_RS_BENCH_PAIRS:-5}
MIB=${IOMAP_RS_BENCH_MIB:-64}
SIZES=${IOMAP_RS_BENCH_SIZES:-4096 65536 1048576}
KNOB=/sys/kernel/debug/iomap_rs/enabled
WHAT=${IOMAP_RS_BENCH:-all}
exec > >(tee "$SHARE/bench.txt") 2>&1
trap 'dmesg >"$SHARE/dmesg.log"' EXIT

mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
if [ "$WHAT" != write ]; then
	cat /sys/kernel/debug/iomap_rs/bench_release
	echo
fi
[ "$WHAT" != release ] || exit 0
mkfs.xfs -f -q "$DEV"
mkdir -p "$MNT"
mount -t xfs "$DEV" "$MNT"

ROUNDS=8

# summarize LABEL FORMAT C_FIGURES RUST_FIGURES: one line with the label, the
# median figure of each side (printf FORMAT) and the min, median and max of
# the per-run Rust/C ratios; the sorted ratios go to stderr.
summarize() {
	/usr/bin/python3 - "$@" <<'PY'
import statistics, sys
label, fmt, c, r = sys.argv[1:]
c = [float(x) for x in c.split()]
r = [float(x) for x in r.split()]
ratios = sorted(b / a for a, b in zip(c, r))
print(f"{label} {statistics.median(c):{fmt}} {statistics.median(r):{fmt}}"
      f" {ratios[0]:8.3f} {statistics.median(ratios):8.3f} {ratios[-1]:8.3f}")
print("  ratios: " + " ".join(f"{x:.3f}" for x in ratios), file=sys.stderr)
PY
}
one_pair() { # SIZE WRITERS MODE -> "C_MB/s N RUST_MB/s N"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	"$IOMAP_RS_BIN/bench_write" "$MNT" "$1" "$2" "$3" "$MIB" "$KNOB" "$ROUNDS"
}

echo "buffered write throughput on XFS, kernel $(uname -r), $MIB MiB per run in $((2 * ROUNDS)) interleaved chunks, $PAIRS runs per case"
printf '%-9s %-7s %-9s %10s %10s %8s %8s %8s\n' size writers mode 'C MB/s' 'Rust MB/s' 'min' 'median' 'max'
for size in $SIZES; do
	for writers in 1 2; do
		for mode in new overwrite; do
			c=() r=()
			for ((p = 0; p < PAIRS; p++)); do
				read -r _ cm _ rm < <(one_pair $size $writers $mode)
				c+=("$cm")
				r+=("$rm")
			done
			summarize "$(printf '%-9s %-7s %-9s' "$size" "$writers" "$mode")" 10.1f "${c[*]}" "${r[*]}"
		done
	done
done
echo
echo "zeroing and write faults on XFS: ops/s, $MIB MiB per run in $((2 * ROUNDS)) interleaved chunks, $PAIRS runs per case"
printf '%-9s %10s %10s %8s %8s %8s\n' path 'C ops/s' 'Rust ops/s' 'min' 'median' 'max'
for path in zero mkwrite; do
	c=() r=()
	for ((p = 0; p < PAIRS; p++)); do
		sync
		echo 3 >/proc/sys/vm/drop_caches
		read -r _ cm _ rm < <("$IOMAP_RS_BIN/bench_paths" "$MNT" "$path" "$MIB" "$KNOB" "$ROUNDS")
		c+=("$cm")
		r+=("$rm")
	done
	summarize "$(printf '%-9s' "$path")" 10.0f "${c[*]}" "${r[*]}"
done
echo Y >"$KNOB"
umount "$MNT"
