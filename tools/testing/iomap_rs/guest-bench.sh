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
# Then the same write table on xtfs (its write path switches with the same
# knob), and xtfs against XFS with both writing through iomap_rs.
# IOMAP_RS_BENCH=release or write runs only one of the two, xtfs only the
# xtfs parts;
# IOMAP_RS_BENCH_SIZES lists the write sizes (default 4096 65536 1048576).

set -o errexit -o nounset -o pipefail
SHARE=$1
DEV=/dev/vda
MNT=/tmp/iomap_rs-bench
PAIRS=${IOMAP_RS_BENCH_PAIRS:-9}
MIB=${IOMAP_RS_BENCH_MIB:-64}
SIZES=${IOMAP_RS_BENCH_SIZES:-4096 65536 1048576}
KNOB=/sys/kernel/debug/iomap_rs/enabled
WHAT=${IOMAP_RS_BENCH:-all}
exec > >(tee "$SHARE/bench.txt") 2>&1
trap 'dmesg >"$SHARE/dmesg.log"' EXIT

# elapsed: the time since the last call (or the start), for the tables' footers.
last_mark=$SECONDS
elapsed() {
	echo "  ($((SECONDS - last_mark)) s)"
	last_mark=$SECONDS
}

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
if [ "$WHAT" != write ] && [ "$WHAT" != xtfs ]; then
	cat /sys/kernel/debug/iomap_rs/bench_release
	elapsed
	echo
fi
[ "$WHAT" != release ] || exit 0
mkfs.xfs -f -q "$DEV"
mkdir -p "$MNT"
mount -t xfs "$DEV" "$MNT"
MNT_XFS=$MNT

ROUNDS=8

# summarize LABEL FORMAT C_FIGURES RUST_FIGURES: one line with the label, the
# median figure of each side (printf FORMAT), the min, median and max of the
# per-run Rust/C ratios, and the 95% confidence interval of the median ratio
# (percentile bootstrap over the runs, a fixed seed so that the same runs give
# the same interval): an interval entirely below 1.00 means behind, one that
# holds 1.00 means no difference these runs can tell. The sorted ratios go to
# stderr.
summarize() {
	/usr/bin/python3 - "$@" <<'PY'
import random, statistics, sys
label, fmt, c, r = sys.argv[1:]
c = [float(x) for x in c.split()]
r = [float(x) for x in r.split()]
ratios = sorted(b / a for a, b in zip(c, r))
rng = random.Random(1)
boot = sorted(statistics.median(rng.choices(ratios, k=len(ratios)))
              for _ in range(4000))
lo, hi = boot[int(0.025 * len(boot))], boot[int(0.975 * len(boot)) - 1]
print(f"{label} {statistics.median(c):{fmt}} {statistics.median(r):{fmt}}"
      f" {ratios[0]:8.3f} {statistics.median(ratios):8.3f} {ratios[-1]:8.3f}"
      f"   [{lo:.3f}, {hi:.3f}]")
print("  ratios: " + " ".join(f"{x:.3f}" for x in ratios), file=sys.stderr)
PY
}
one_pair() { # SIZE WRITERS MODE -> "C_MB/s N RUST_MB/s N"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	"$IOMAP_RS_BIN/bench_write" "$MNT" "$1" "$2" "$3" "$MIB" "$KNOB" "$ROUNDS"
}

# memcpy_mbs SIZE WRITERS: the median over PAIRS runs of copying MIB in SIZE
# pieces with WRITERS threads (bench_memcpy), the copy that every write of the
# row makes, alone: how close each path comes to the machine's limit.
memcpy_mbs() {
	local p m=()
	for ((p = 0; p < PAIRS; p++)); do
		m+=("$("$IOMAP_RS_BIN/bench_memcpy" "$1" "$2" "$MIB" | awk '{ print $2 }')")
	done
	printf '%s\n' "${m[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# write_table FS: the Rust/C write table on the filesystem mounted at $MNT,
# with each row's memcpy limit and the share of it that C and Rust reach.
write_table() {
	local size writers mode c r p cm rm mc line
	echo "buffered write throughput on $1, kernel $(uname -r)," \
		"$MIB MiB per run in $((2 * ROUNDS)) interleaved chunks, $PAIRS runs per case;" \
		"memcpy: the same copies alone (C and Rust: their share of it)"
	printf '%-9s %-7s %-9s %10s %10s %8s %8s %8s   %-16s %10s %6s %6s\n' \
		size writers mode 'C MB/s' 'Rust MB/s' 'min' 'median' 'max' '95% CI median' \
		'memcpy' 'C' 'Rust'
	for size in $SIZES; do
		for writers in 1 2; do
			mc=$(memcpy_mbs "$size" "$writers")
			for mode in new overwrite; do
				c=() r=()
				for ((p = 0; p < PAIRS; p++)); do
					read -r _ cm _ rm < <(one_pair $size $writers $mode)
					c+=("$cm")
					r+=("$rm")
				done
				line=$(printf '%-9s %-7s %-9s' "$size" "$writers" "$mode")
				line=$(summarize "$line" 10.1f "${c[*]}" "${r[*]}")
				echo "$line" | awk -v m="$mc" '{
					printf "%s %10.1f %5.1f%% %5.1f%%\n", $0, m,
						100 * $4 / m, 100 * $5 / m
				}'
			done
		done
	done
	elapsed
}

if [ "$WHAT" != xtfs ]; then
	write_table XFS
	echo
	echo "zeroing and write faults on XFS: ops/s," \
		"$MIB MiB per run in $((2 * ROUNDS)) interleaved chunks, $PAIRS runs per case"
	printf '%-9s %10s %10s %8s %8s %8s   %s\n' \
		path 'C ops/s' 'Rust ops/s' 'min' 'median' 'max' '95% CI median'
	for path in zero mkwrite; do
		c=() r=()
		for ((p = 0; p < PAIRS; p++)); do
			sync
			echo 3 >/proc/sys/vm/drop_caches
			read -r _ cm _ rm < <("$IOMAP_RS_BIN/bench_paths" "$MNT" "$path" "$MIB" \
				"$KNOB" "$ROUNDS")
			c+=("$cm")
			r+=("$rm")
		done
		summarize "$(printf '%-9s' "$path")" 10.0f "${c[*]}" "${r[*]}"
	done
	elapsed
fi
echo Y >"$KNOB"

# xtfs on the second disk: its write path switches with the same knob.
XDEV=/dev/vdb
XMNT=/tmp/iomap_rs-bench-xtfs
"$IOMAP_RS_BIN/mkfs.xtfs" -q -b 4096 -N 256 "$XDEV"
mkdir -p "$XMNT"
mount -t xtfs "$XDEV" "$XMNT"
echo
MNT=$XMNT write_table xtfs
echo Y >"$KNOB"

# xtfs against XFS, both writing through iomap_rs: whole runs alternate
# between the two (which goes first alternates too); ratio xtfs/XFS per pair.
echo
echo "xtfs against XFS, both through iomap_rs:" \
	"$MIB MiB per run, $PAIRS runs per case, runs alternating"
printf '%-9s %-7s %-9s %10s %10s %8s %8s %8s   %s\n' \
	size writers mode 'XFS MB/s' 'xtfs MB/s' 'min' 'median' 'max' '95% CI median'
one_run() { # DIR SIZE MODE -> MB/s
	sync
	echo 3 >/proc/sys/vm/drop_caches
	"$IOMAP_RS_BIN/bench_write" "$1" "$2" 1 "$3" "$MIB" | awk '{ print $2 }'
}
for size in $SIZES; do
	for mode in new overwrite; do
		x=() t=()
		for ((p = 0; p < PAIRS; p++)); do
			if ((p % 2)); then
				t+=("$(one_run "$XMNT" $size $mode)")
				x+=("$(one_run "$MNT_XFS" $size $mode)")
			else
				x+=("$(one_run "$MNT_XFS" $size $mode)")
				t+=("$(one_run "$XMNT" $size $mode)")
			fi
		done
		summarize "$(printf '%-9s %-7s %-9s' "$size" 1 "$mode")" 10.1f "${x[*]}" "${t[*]}"
	done
done
elapsed

# fsync latency, xtfs against XFS, both through iomap_rs: a 4 KiB write and
# an fsync, FSYNCS times per run (appending: new blocks, the size and the
# extent reach the disk; overwriting: the data and the timestamps), runs
# alternating as above; the ratio is xtfs's write+fsync pairs per second
# over XFS's (above 1: xtfs's fsync is faster).
FSYNCS=${IOMAP_RS_BENCH_FSYNCS:-200}
echo
echo "fsync latency, xtfs against XFS, both through iomap_rs:" \
	"$FSYNCS 4 KiB write+fsync pairs per run, $PAIRS runs per case, runs alternating"
printf '%-9s %-9s %10s %10s %10s %10s %8s %8s %8s   %s\n' \
	size mode 'XFS ops/s' 'xtfs ops/s' 'XFS us' 'xtfs us' 'min' 'median' 'max' '95% CI median'
fsync_run() { # DIR MODE -> "OPS/S MEDIAN_US"
	sync
	"$IOMAP_RS_BIN/bench_fsync" "$1/fsync-bench" "$2" "$FSYNCS" 4096 | awk '{ print $2, $4 }'
	rm -f "$1/fsync-bench"
}
for mode in append overwrite; do
	x=() t=() xl=() tl=()
	for ((p = 0; p < PAIRS; p++)); do
		if ((p % 2)); then
			read -r ops us < <(fsync_run "$XMNT" $mode) && t+=("$ops") tl+=("$us")
			read -r ops us < <(fsync_run "$MNT_XFS" $mode) && x+=("$ops") xl+=("$us")
		else
			read -r ops us < <(fsync_run "$MNT_XFS" $mode) && x+=("$ops") xl+=("$us")
			read -r ops us < <(fsync_run "$XMNT" $mode) && t+=("$ops") tl+=("$us")
		fi
	done
	lat=$(printf '%s\n' "${xl[@]}" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	tlat=$(printf '%s\n' "${tl[@]}" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	summarize "$(printf '%-9s %-9s' 4096 "$mode")" 10.1f "${x[*]}" "${t[*]}" |
		awk -v a="$lat" -v b="$tlat" '{
			printf "%s %s %s %s %10s %10s %s %s %s   %s %s\n",
				$1, $2, $3, $4, a, b, $5, $6, $7, $8, $9
		}'
done
elapsed
umount "$XMNT"
umount "$MNT_XFS"

# The cost of a write by the number of extents of the file (xtfs's extent
# tree): a file of N extents (one 1 KiB block preallocated in every two),
# then 1 KiB writes into random preallocated blocks, each fdatasynced (its
# writeback converts the extent, the tree stores the change, the journal
# commits). The ratio is to the file of 10 extents: a flat line means the
# cost does not grow with the file's extents.
echo
EXTENTS=${IOMAP_RS_BENCH_EXTENTS:-10 1000 100000 1000000}
EWRITES=${IOMAP_RS_BENCH_EXTENT_WRITES:-200}
echo "write cost by extent count on xtfs (1 KiB blocks):" \
	"$EWRITES 1 KiB write+fdatasync pairs into random preallocated blocks;" \
	"the file read back after a remount"
printf '%-9s %10s %10s %12s %12s\n' extents 'ops/s' 'vs 10' 'setup s' 'read back s'
EDEV=/dev/vdc
EMNT=/tmp/iomap_rs-bench-extents
"$IOMAP_RS_BIN/mkfs.xtfs" -q -b 1024 -N 64 "$EDEV"
mkdir -p "$EMNT"
mount -t xtfs "$EDEV" "$EMNT"
base=
for n in $EXTENTS; do
	read -r _ ops _ setup < <("$IOMAP_RS_BIN/bench_extents" "$EMNT/f" "$n" "$EWRITES" 1024)
	base=${base:-$ops}
	# The inode read back whole: every extent into memory.
	umount "$EMNT"
	mount -t xtfs "$EDEV" "$EMNT"
	start=$(date +%s.%N)
	blocks=$(stat -c %b "$EMNT/f") || blocks=error
	reread=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	[ "$blocks" != error ] || reread="failed"
	printf '%-9s %10s %10s %12s %12s\n' "$n" "$ops" \
		"$(awk -v a="$ops" -v b="$base" 'BEGIN { printf "%.3f", a / b }')" \
		"$setup" "$reread"
	rm -f "$EMNT/f"
	sync
done
elapsed
umount "$EMNT"
