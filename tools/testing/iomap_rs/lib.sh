# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this
#
# Shared definitions for the iomap_rs harness: where things live, the pinned
# versions, and the step runner that turns every failure into one line that
# names the step and its log file.
#
# Sourced by setup-toolchain.sh, build-kernel.sh, vm.sh, run-tests.sh, demo.sh
# and bench.sh; never run directly.

set -o errexit -o nounset -o pipefail

# The kernel base. Bumping this changes the cache key: a new tree is
# extracted and built from scratch.
KERNEL_PKG=linux-source-6.12
KERNEL_PKG_VERSION=6.12.117-1~deb12u1
KERNEL_TARBALL=/usr/src/linux-source-6.12.tar.xz

BINDGEN_VERSION=0.69.5
VIRTME_NG_VERSION=1.42
LLVM_SUFFIX=-19

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$HARNESS_DIR/../../.." && pwd)

# The kernel configuration (make test KCONFIG=NAME): "default" is tinyconfig
# plus iomap_rs.config; "distro" adds iomap_rs-distro.config on top, "debug"
# iomap_rs-debug.config, "profile" (make profile) iomap_rs-profile.config.
# Each has its own source and build cache and its own output directory, so
# switching between them rebuilds nothing.
KCONFIG=${KCONFIG:-default}
case $KCONFIG in
default | distro | debug | profile) ;;
*)
	printf 'error: KCONFIG=%s: not one of default, distro, debug, profile\n' "$KCONFIG" >&2
	exit 1
	;;
esac

CACHE_DIR=${IOMAP_RS_CACHE:-$HOME/.cache/iomap_rs}
TOOLS_DIR=$CACHE_DIR/tools
KERNEL_CACHE=$CACHE_DIR/kernel-$KERNEL_PKG_VERSION
[ "$KCONFIG" = default ] || KERNEL_CACHE=$KERNEL_CACHE-$KCONFIG
KSRC=$KERNEL_CACHE/src
KBUILD=$KERNEL_CACHE/build
BZIMAGE=$KBUILD/arch/x86/boot/bzImage

if [ "$KCONFIG" = default ]; then
	OUT_DIR=${IOMAP_RS_OUT:-$REPO_DIR/out}
else
	OUT_DIR=${IOMAP_RS_OUT:-$REPO_DIR/out/kconfig-$KCONFIG}
fi
LOG_DIR=$OUT_DIR/logs

# Directories of the repository that are copied into the kernel tree at the
# same paths. Files here must be new to the kernel; changes to existing
# kernel files go through the patch series in $PATCH_DIR.
OVERLAY_ROOTS=(rust fs include samples Documentation)
PATCH_DIR=$REPO_DIR/patches
CONFIG_FRAGMENTS=("$HARNESS_DIR/iomap_rs.config")
[ "$KCONFIG" = default ] || CONFIG_FRAGMENTS+=("$HARNESS_DIR/iomap_rs-$KCONFIG.config")

export PATH=$TOOLS_DIR/bindgen/bin:$TOOLS_DIR/venv/bin:$PATH

# Every kernel make invocation goes through this, so nobody can forget the
# Debian rustc: the rustup rustc on PATH is another version (E0514).
kmake() {
	make -C "$KSRC" O="$KBUILD" LLVM="$LLVM_SUFFIX" \
		RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
		HOSTRUSTC=/usr/bin/rustc BINDGEN="$TOOLS_DIR/bindgen/bin/bindgen" \
		CLIPPY_DRIVER=/usr/bin/clippy-driver \
		${IOMAP_RS_CLIPPY:+CLIPPY=1} "$@"
}

# project_warnings LOG [FILES]: the lines of a kernel build's LOG that place
# a warning or an error in one of the project's files, those FILES lists (one
# path in the tree per line; by default the files the harness lays over the
# tree): rustc and rustdoc name the file a line or two after "warning:",
# clang on the same line. The kernel's own are not ours to fix.
project_warnings() {
	local files=${2:-$KERNEL_CACHE/overlay-files}
	[ -s "$files" ] || die "no list of the project's files: $files"
	grep -A3 -E 'warning|^error' "$1" | grep -F -f <(sed 's|^|/|' "$files") || true
}

say() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# step NAME LOG CMD...: run CMD with its output in LOG. On failure print one
# line naming the step and the log, the log's last lines for context, and
# exit non-zero.
step() {
	local name=$1 log=$2
	shift 2
	mkdir -p "$(dirname "$log")"
	say "$name (log: ${log#"$REPO_DIR"/})"
	local start=$SECONDS rc=0
	# Not "if ! cmd": errexit is off inside a condition, and a function
	# whose middle command failed would report the status of its last one.
	set +o errexit
	(
		set -o errexit
		"$@"
	) >"$log" 2>&1
	rc=$?
	set -o errexit
	if [ $rc -ne 0 ]; then
		echo "----- last lines of $log -----" >&2
		tail -n 25 "$log" >&2
		echo "------------------------------" >&2
		die "step '$name' failed; full log: $log"
	fi
	printf '    done in %ds\n' $((SECONDS - start))
}

# Files the patch series in DIR (patches/ or a copy) touches, from the headers
# of its diffs (build-kernel.sh, series.sh).
patched_files() {
	local dir=$1 p
	[ -f "$dir/series" ] || return 0
	grep -v '^\s*#' "$dir/series" | grep -v '^\s*$' | while read -r p; do
		sed -n 's|^+++ [^/]*/\([^\t ]*\).*|\1|p' "$dir/$p"
	done | sort -u
}

# Content hash of the inputs that require a fresh source tree.
series_hash() {
	{
		echo "$KERNEL_PKG_VERSION"
		if [ -f "$PATCH_DIR/series" ]; then
			cat "$PATCH_DIR/series"
			grep -v '^\s*#' "$PATCH_DIR/series" | grep -v '^\s*$' |
				while read -r p; do cat "$PATCH_DIR/$p"; done
		fi
	} | sha256sum | cut -d' ' -f1
}

# Test programs run in the guest straight from the host's filesystem. They
# take the kernel's tools/include for its compiler macros, as selftests do.
build_progs() {
	local src
	mkdir -p "$OUT_DIR/bin"
	for src in "$HARNESS_DIR"/progs/*.c; do
		[ -e "$src" ] || continue
		gcc -O2 -g -Wall -Wextra -Werror -pthread -D_GNU_SOURCE -I"$KSRC/tools/include" \
			-o "$OUT_DIR/bin/$(basename "$src" .c)" "$src"
	done
	# xtfs's tools (Rust, std only), under the names mkfs(8) and fsck(8)
	# look for: mkfs -t xtfs runs mkfs.xtfs.
	RUSTFLAGS="-D warnings" CARGO_TARGET_DIR="$OUT_DIR/cargo" cargo build --release --offline \
		--manifest-path "$REPO_DIR/tools/testing/xtfs/Cargo.toml"
	# Their unit tests (the format's checks, such as posix_acl_valid): a
	# failure stops the run before the guest boots.
	RUSTFLAGS="-D warnings" CARGO_TARGET_DIR="$OUT_DIR/cargo" cargo test --release --offline \
		--quiet --manifest-path "$REPO_DIR/tools/testing/xtfs/Cargo.toml"
	install -m 755 "$OUT_DIR/cargo/release/mkfs_xtfs" "$OUT_DIR/bin/mkfs.xtfs"
	install -m 755 "$OUT_DIR/cargo/release/fsck_xtfs" "$OUT_DIR/bin/fsck.xtfs"
	install -m 755 "$OUT_DIR/cargo/release/xtfs_corrupt" "$OUT_DIR/bin/xtfs_corrupt"
}

# The repository's top-level Kbuild, built out of tree against the harness's
# kernel as a module developer would (make -C KDIR M=DIR), in a copy of the
# sources in out/oot: kbuild writes its objects next to them.
build_oot_modules() {
	local oot=$OUT_DIR/oot
	rm -rf "$oot"
	mkdir -p "$oot"
	git -C "$REPO_DIR" ls-files Kbuild samples/rust/xtfs 'fs/iomap_rs/*.rs' |
		tar -C "$REPO_DIR" -cf - -T - | tar -C "$oot" -xf -
	kmake M="$oot" modules
	[ -e "$oot/samples/rust/xtfs/xtfs.ko" ] && [ -e "$oot/fs/iomap_rs/iomap_rs_modtest.ko" ]
}
