#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile checks against the kernel crate of the current build: each
# ui/NAME.rs says on its second line "// expect: pass" or "// expect: EXXXX".
# It is compiled with the exact rustc command kbuild used for
# fs/iomap_rs/iomap_rs.o (read from its .cmd file; kbuild also sets
# RUSTC_BOOTSTRAP=1), and passes if it compiles,
# or fails with that error code, as expected. Writes TAP to the file given as
# the only argument, one test per program, named ui_NAME.
#
# Usage: ui-tests.sh TAP_FILE

. "$(dirname "$0")/lib.sh"

tap=$1
cmd_file=$KBUILD/fs/iomap_rs/.iomap_rs.o.cmd
[ -f "$cmd_file" ] || die "no $cmd_file: build the kernel first"
# The command without the variable assignment, the outputs and the source.
base=$(sed -n 's/^savedcmd_[^ ]* := RUST_MODFILE=[^ ]* //p' "$cmd_file" |
	sed -e 's/ --out-dir [^ ]*//' -e 's/ --emit=[^ ]*//g' -e 's/ --crate-name [^ ]*//' \
		-e 's/ [^ ]*\.rs *$//')
[ -n "$base" ] || die "could not read the rustc command from $cmd_file"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
programs=("$HARNESS_DIR"/ui/*.rs)
{
	echo "TAP version 13"
	echo "1..${#programs[@]}"
	n=0
	for src in "${programs[@]}"; do
		n=$((n + 1))
		name=$(basename "$src" .rs)
		expect=$(sed -n '2s|^// expect: *||p' "$src")
		rc=0
		(cd "$KBUILD" && export RUSTC_BOOTSTRAP=1 &&
			eval "$base --crate-name ui_$name --out-dir $work" \
				"--emit=obj=$work/$name.o $src") \
			>"$work/$name.log" 2>&1 || rc=$?
		if [ "$expect" = pass ]; then
			if [ "$rc" = 0 ]; then
				echo "ok $n ui_$name # compiles, as expected"
			else
				echo "not ok $n ui_$name # expected to compile, rustc failed"
				sed 's/^/# /' "$work/$name.log" | head -40
			fi
		elif [ "$rc" != 0 ] && grep -q "error\[$expect\]" "$work/$name.log"; then
			echo "ok $n ui_$name # fails with $expect, as expected"
		else
			echo "not ok $n ui_$name # expected error $expect, rustc exited $rc"
			sed 's/^/# /' "$work/$name.log" | head -40
		fi
	done
} >"$tap"
cat "$tap"
