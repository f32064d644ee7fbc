#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Style and lint checks of the project's own code, as kernel reviewers run
# them: rustfmt with the kernel's config, a kernel build with CLIPPY=1
# (Debian's clippy-driver, matching /usr/bin/rustc), clippy on xtfs's
# userspace tools, checkpatch.pl and kernel-doc on the C files and headers we
# add, and the kernel's Sphinx documentation build of our .rst files.
# Exits non-zero on any finding.

. "$(dirname "$0")/lib.sh"

"$HARNESS_DIR/setup-toolchain.sh"
"$HARNESS_DIR/build-kernel.sh"

cd "$REPO_DIR"
mapfile -t rust_files < <(git ls-files '*.rs')
mapfile -t c_files < <(git ls-files 'fs/*.c' 'fs/*.h' 'include/*.h' 'rust/helpers/*.c')

rustfmt_check() {
	rustfmt --edition 2021 --config-path "$KSRC/.rustfmt.toml" --check "${rust_files[@]}"
}

clippy_build() {
	# Clippy needs the Rust objects recompiled; the next plain build
	# recompiles them back with rustc.
	IOMAP_RS_CLIPPY=1 kmake -j"$(nproc)" bzImage modules
	# Into a variable: grep refuses to read the file its output goes to
	# (this function's output is that log), and would find nothing.
	local findings
	findings=$(grep -nE '^(warning|error)' "$LOG_DIR/lint-clippy.log" || true)
	if [ -n "$findings" ]; then
		echo "$findings"
		echo "clippy reported the findings above"
		return 1
	fi
}

# xtfs's userspace tools (mkfs.xtfs, fsck.xtfs, xtfs_corrupt): a cargo crate
# of its own, built for the guest by build_progs.
tools_clippy() {
	CARGO_TARGET_DIR="$OUT_DIR/cargo" cargo clippy --release --offline \
		--manifest-path "$REPO_DIR/tools/testing/xtfs/Cargo.toml" -- -D warnings
}

checkpatch() {
	local f ignore rc=0
	for f in "${c_files[@]}"; do
		# TRACE_EVENT() has a layout of its own that --strict flags.
		ignore=
		case $f in *_trace.h) ignore=--ignore=OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT ;; esac
		"$KSRC/scripts/checkpatch.pl" --no-tree --strict --show-types $ignore -f "$f" ||
			rc=1
	done
	return $rc
}

# kernel-doc: the comments of the C ABI (include/linux/iomap_rs.h, pulled
# into Documentation/filesystems/iomap_rs.rst) and of the C files parse,
# with every parameter, member and return value described.
kernel_doc() {
	local out
	# (It says on stderr that it found no Sphinx: not a finding.)
	out=$(perl "$KSRC/scripts/kernel-doc" -none -Wall "${c_files[@]}" 2>&1 |
		grep -v 'Sphinx version not found' || true)
	[ -z "$out" ] || { echo "$out"; return 1; }
	perl "$KSRC/scripts/kernel-doc" -rst include/linux/iomap_rs.h 2>/dev/null |
		grep -c '^\.\. c:' |
		sed 's/$/ documented items in include\/linux\/iomap_rs.h/'
}

# MAINTAINERS: every file the series adds (the repository's files at their
# kernel paths: not the harness's top-level files or the patches to existing
# files, whose entries are the kernel's) gets a maintainer from our entries,
# as scripts/get_maintainer.pl finds them. It reads a patch for each file, as
# it refuses to look up files that are not in the tree it runs in.
maintainers() {
	local f out rc=0 patch=$OUT_DIR/maintainers-check.patch
	local email
	email=$(sed -n 's/^M:\t//p' "$REPO_DIR/MAINTAINERS" | head -n 1)
	[ -n "$email" ] || { echo "MAINTAINERS names no maintainer"; return 1; }
	while read -r f; do
		printf -- '--- /dev/null\n+++ b/%s\n@@ -0,0 +1 @@\n+\n' "$f" >"$patch"
		out=$(cd "$KSRC" && perl scripts/get_maintainer.pl --mpath "$REPO_DIR/MAINTAINERS" \
			--no-git --no-git-fallback --no-rolestats "$patch")
		case $out in
		*"$email"*) ;;
		*) echo "$f: no MAINTAINERS entry of ours covers it"; rc=1 ;;
		esac
	done < <(git -C "$REPO_DIR" ls-files Documentation fs include rust samples tools/testing)
	return $rc
}

# The kernel's documentation build (Sphinx, make htmldocs) of
# Documentation/filesystems, where our two .rst files are, in a directory of
# its own: no warning or error naming them, and both rendered (linked from
# the index, or Sphinx would have warned that they are in no toctree).
htmldocs() {
	local out=$OUT_DIR/htmldocs findings f
	/usr/bin/python3 -c 'import sphinx' 2>/dev/null ||
		{ echo "make lint needs Sphinx: apt-get install python3-sphinx"; return 1; }
	/usr/bin/python3 -c 'import yaml' 2>/dev/null ||
		{ echo "make lint needs PyYAML: apt-get install python3-yaml"; return 1; }
	mkdir -p "$out"
	# Debian's python3 first in PATH too: the netlink spec generator runs as
	# "env python3" and needs Debian's python3-yaml, which another python3
	# earlier in PATH (pyenv's, say) may lack.
	PATH=/usr/bin:$PATH make -C "$KSRC" O="$out" PYTHON3=/usr/bin/python3 \
		SPHINXBUILD=/usr/bin/sphinx-build SPHINXDIRS=filesystems htmldocs
	findings=$(grep -E 'filesystems/(iomap_rs|xtfs)(\.rst)?:|include/linux/iomap_rs\.h:' \
		"$LOG_DIR/lint-htmldocs.log" | grep -Ei 'warning|error' || true)
	[ -z "$findings" ] || { echo "$findings"; return 1; }
	for f in iomap_rs xtfs; do
		[ -s "$out/Documentation/output/filesystems/$f.html" ] ||
			{ echo "no $f.html rendered"; return 1; }
	done
}

step "rustfmt --check (${#rust_files[@]} files)" "$LOG_DIR/lint-rustfmt.log" rustfmt_check
step "kernel build with CLIPPY=1" "$LOG_DIR/lint-clippy.log" clippy_build
step "clippy on tools/testing/xtfs" "$LOG_DIR/lint-tools-clippy.log" tools_clippy
step "checkpatch.pl (${#c_files[@]} files)" "$LOG_DIR/lint-checkpatch.log" checkpatch
step "kernel-doc -Wall on the C files and headers" "$LOG_DIR/lint-kernel-doc.log" kernel_doc
step "get_maintainer.pl on every file the series adds" "$LOG_DIR/lint-maintainers.log" maintainers
step "make htmldocs SPHINXDIRS=filesystems" "$LOG_DIR/lint-htmldocs.log" htmldocs
say "lint clean"
