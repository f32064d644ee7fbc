#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Proof that xfs_rs_stale_map_remap can fail: the same race with the
# revalidation switched off (skip_validation) must reproduce the corruption,
# the last page's on-disk data zeroed by a write that trusted its stale
# mapping. Runs each variant several times and reports the hit rate; fails if
# a variant never hits, since the race test would then prove nothing.

. "$(dirname "$0")/common.sh"

runs=${IOMAP_RS_RACE_RUNS:-5}
use_write_path rust
mkfs_scratch_xfs
summary=()
for v in $STALE_RACE_VARIANTS; do
	IFS=: read -r mode size delay <<<"$v"
	hits=0
	for ((i = 1; i <= runs; i++)); do
		knob skip_validation Y
		rc=0
		stale_race_run "$mode" "$size" "$delay" "$SCRATCH_MNT/race-$mode" || rc=$?
		knob skip_validation N
		case $rc in
		0) ;;
		3) hits=$((hits + 1)) ;;
		*) fail "$mode folios: stale_race failed (exit $rc)" ;;
		esac
	done
	summary+=("$mode folios: corruption in $hits of $runs runs")
	echo "${summary[-1]}"
	[ "$hits" -gt 0 ] || fail "$mode folios: the race never corrupted the file without validation"
done
printf '%s\n' "${summary[@]}" >"$RESULT_DIR/hit-rate.txt"
check_scratch_xfs
