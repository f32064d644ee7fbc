#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make rustdoc: the kernel's own `make rustdoc` on the default configuration,
# which documents the kernel crate (kernel::iomap, kernel::fs, kernel::folio,
# kernel::pagecache, kernel::uio, ...) as HTML, and its result copied to
# out/rustdoc/ (start at out/rustdoc/kernel/index.html).
#
# Fails on any rustdoc warning that names one of the project's files (a
# broken intra-doc link, an unclosed HTML tag, a bare URL, ...) and on a
# public item of kernel::iomap or kernel::fs without documentation (the
# kernel builds its crates with -Wmissing_docs, and a build warning in the
# project's files already fails build-kernel.sh). The examples in the docs
# run as KUnit tests at every boot of make test (rust_doctests_kernel).
#
# rustdoc.sh --tap FILE: what make test runs beside its debug boot, on the
# kernel it has built (KCONFIG's; no toolchain or build step): the result as
# one TAP line "ok 1 rustdoc" (or "not ok", with the reason) in FILE, for
# the test summary.

. "$(dirname "$0")/lib.sh"

log=$LOG_DIR/rustdoc.log
if [ "${1:-}" = --tap ]; then
	tap=$2
	rm -f "$tap"
	start=$SECONDS
	rc=0
	out=$("$0" --built 2>&1) || rc=$?
	{
		echo "TAP version 13"
		echo "1..1"
		if [ "$rc" = 0 ]; then
			echo "ok 1 rustdoc # no warnings, $((SECONDS - start))s"
		else
			echo "not ok 1 rustdoc # exit status $rc"
			echo "$out" | tail -n 30 | sed 's/^/# /'
		fi
	} >"$tap.tmp"
	mv "$tap.tmp" "$tap"
	exit 0
fi
if [ "${1:-}" != --built ]; then
	"$HARNESS_DIR/setup-toolchain.sh"
	"$HARNESS_DIR/build-kernel.sh"
fi

rustdoc() {
	local ours
	kmake rustdoc
	ours=$(project_warnings "$log")
	if [ -n "$ours" ]; then
		echo "rustdoc warnings in the project's own files (see above):"
		echo "$ours"
		return 1
	fi
}

step "make rustdoc (the kernel crate's HTML documentation)" "$log" rustdoc
html=$KBUILD/Documentation/output/rust/rustdoc
for m in iomap fs folio pagecache uio; do
	[ -f "$html/kernel/$m/index.html" ] || die "rustdoc made no page for kernel::$m"
done
mkdir -p "$OUT_DIR"
rm -rf "$OUT_DIR/rustdoc"
cp -r "$html" "$OUT_DIR/rustdoc"
say "documentation: ${OUT_DIR#"$REPO_DIR"/}/rustdoc/kernel/index.html" \
	"(kernel::iomap: ${OUT_DIR#"$REPO_DIR"/}/rustdoc/kernel/iomap/index.html)"
