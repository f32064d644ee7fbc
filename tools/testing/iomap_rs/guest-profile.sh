#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest for profile.sh. Usage: guest-profile.sh SHARE
#
# For each case, the same writes on XFS through C iomap and through
# iomap_rs (/sys/kernel/debug/iomap_rs/enabled), each with ftrace's function
# profiler on for the writes only: what every traceable function was called,
# summed over the CPUs and divided by the writes made. Rust functions have no
# ftrace entry (in 6.12), so the Rust side's rows are the C functions and
# rust_helper_* wrappers it calls; the calls from one Rust function to
# another are not counted. Everything else the machine did in that time is
# counted too (the writing dd's own reads of /dev/zero, say): it is the same
# on both sides.
#
# Then the same writes again between two marks each (progs/insn_mark.c), for
# the instruction counts of QEMU's plugin (below).
#
# The cases: 4 KiB overwrites of cached, clean pages (a write per folio),
# 4 KiB appends to a new file (delayed allocation, the size extended), 1 MiB
# overwrites (large folios: per write, not per folio), and make bench's
# zeroing and write fault operations (progs/bench_paths.c: per operation).

set -o errexit -o nounset -o pipefail
SHARE=$1
DEV=/dev/vda
MNT=/tmp/iomap_rs-profile
MIB=${IOMAP_RS_PROFILE_MIB:-16}
KNOB=/sys/kernel/debug/iomap_rs/enabled
T=/sys/kernel/tracing
exec > >(tee "$SHARE/profile.txt") 2>&1
trap 'dmesg >"$SHARE/dmesg.log"' EXIT

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
mountpoint -q "$T" || mount -t tracefs none "$T"
mkfs.xfs -f -q "$DEV"
mkdir -p "$MNT"
mount -t xfs "$DEV" "$MNT"
F=$MNT/profile
WORK=$(mktemp -d)
touch "$WORK/knob"

# profile_run OUT CMD...: CMD with the function profiler on (enabling it
# resets the counts); OUT gets "FUNCTION HITS" lines, summed over the CPUs.
profile_run() {
	local out=$1
	shift
	echo 1 >"$T/function_profile_enabled"
	"$@"
	echo 0 >"$T/function_profile_enabled"
	cat "$T"/trace_stat/function[0-9]* |
		awk '$2 ~ /^[0-9]+$/ { hits[$1] += $2 }
			END { for (f in hits) print f, hits[f] }' >"$out"
}

# prepare CASE: the file state before the case's writes, made without the
# profiler: cached and clean for the overwrites, absent for the appends.
prepare() {
	rm -f "$F"
	case $1 in
	*overwrite) dd if=/dev/zero of="$F" bs=1M count="$MIB" status=none ;;
	esac
	rm -f "$MNT/bench_paths"
	sync
}

# writes CASE: the writes that are profiled.
writes() {
	case $1 in
	4k-overwrite)
		dd if=/dev/zero of="$F" bs=4096 count=$((MIB * 256)) conv=notrunc status=none
		;;
	4k-append) dd if=/dev/zero of="$F" bs=4096 count=$((MIB * 256)) status=none ;;
	1m-overwrite) dd if=/dev/zero of="$F" bs=1M count="$MIB" conv=notrunc status=none ;;
	# bench_paths' own switching goes to a file of no effect: the real
	# switch was set for the whole run.
	zero | mkwrite) "$IOMAP_RS_BIN/bench_paths" "$MNT" "$1" "$MIB" "$WORK/knob" 1 >/dev/null ;;
	esac
}

# table CASE WRITES C_COUNTS RUST_COUNTS: the functions called at least
# once per 4 writes on either side, per write, the most called by Rust first;
# then the totals.
table() {
	local join='FNR == NR { c[$1] = $2; all[$1] = 1; next } { r[$1] = $2; all[$1] = 1 }'
	echo "$1: calls per write ($2 writes)"
	printf '  %-44s %8s %8s %8s\n' function C Rust Rust-C
	awk -v n="$2" "$join"'
		END {
			for (f in all)
				if ((c[f] + 0) / n >= 0.25 || (r[f] + 0) / n >= 0.25)
					printf "  %-44s %8.2f %8.2f %+8.2f\n", f,
						c[f] / n, r[f] / n, (r[f] - c[f]) / n
		}' "$3" "$4" | sort -k3,3nr -k2,2nr -k1,1
	awk -v n="$2" "$join"'
		END {
			for (f in all) {
				tc += c[f]
				tr += r[f]
			}
			printf "  %-44s %8.2f %8.2f %+8.2f\n", "(all traceable calls)",
				tc / n, tr / n, (tr - tc) / n
		}' "$3" "$4"
	echo
}

# nr_writes CASE: how many writes (or operations) writes CASE makes.
nr_writes() {
	case $1 in
	1m-*) echo "$MIB" ;;
	# bench_paths' operations: a 100-byte append 1000 bytes past EOF
	# (a zeroing and a write), a write fault per page.
	zero) echo $(((MIB << 20) / 1100)) ;;
	*) echo $((MIB * 256)) ;;
	esac
}

CASES="4k-overwrite 4k-append 1m-overwrite zero mkwrite"

echo "function calls per write, C iomap and iomap_rs, XFS, kernel $(uname -r)," \
	"ftrace's function profiler"
echo
for c in $CASES; do
	for side in C Rust; do
		[ "$side" = C ] && echo N >"$KNOB" || echo Y >"$KNOB"
		prepare "$c"
		profile_run "$WORK/$c.$side" writes "$c"
	done
	echo Y >"$KNOB"
	table "$c" "$(nr_writes "$c")" "$WORK/$c.C" "$WORK/$c.Rust"
done

# The instructions: the same writes again, each side's between two marks for
# QEMU's insn_profile plugin, which profile.sh loads and which writes the
# counts since the previous mark to the share's insn.N. insn-phases says
# which N holds which writes; profile.sh makes the tables (insn_table.py)
# with the symbols of this boot.
cp /proc/kallsyms "$SHARE/kallsyms"
mark=0
for c in $CASES; do
	for side in C Rust; do
		[ "$side" = C ] && echo N >"$KNOB" || echo Y >"$KNOB"
		prepare "$c"
		"$IOMAP_RS_BIN/insn_mark"
		writes "$c"
		"$IOMAP_RS_BIN/insn_mark"
		mark=$((mark + 2))
		echo "$mark $c $side $(nr_writes "$c")" >>"$SHARE/insn-phases"
	done
	echo Y >"$KNOB"
done
rm -f "$F" "$MNT/bench_paths"
umount "$MNT"
