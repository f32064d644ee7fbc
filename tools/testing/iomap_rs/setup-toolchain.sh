#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything the harness needs, non-interactively, and verify that
# the pieces work together. Idempotent: a second run checks and returns in a
# second or two.

. "$(dirname "$0")/lib.sh"

APT_PACKAGES=(
	"$KERNEL_PKG=$KERNEL_PKG_VERSION"
	rustc-web rust-web-src rust-web-clippy
	clang-19 lld-19 llvm-19 libclang-19-dev
	make gcc flex bison bc libelf-dev libssl-dev cpio kmod xz-utils
	qemu-system-x86 udev xfsprogs python3-venv rsync acl
)

mkdir -p "$LOG_DIR" "$TOOLS_DIR"

check_disk() {
	local need_gb=12 avail_kb
	mkdir -p "$CACHE_DIR"
	avail_kb=$(df -Pk "$CACHE_DIR" | awk 'NR == 2 { print $4 }')
	if [ ! -d "$KBUILD" ] && [ "$avail_kb" -lt $((need_gb * 1024 * 1024)) ]; then
		die "step 'disk space': $CACHE_DIR has $((avail_kb / 1024)) MiB free," \
			"a cold build needs about ${need_gb} GiB"
	fi
}

missing_apt_packages() {
	local p name want have
	for p in "${APT_PACKAGES[@]}"; do
		name=${p%%=*}
		want=${p#*=}
		have=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$name" 2>/dev/null || true)
		case $have in
		ii*) ;;
		*) echo "$p"; continue ;;
		esac
		if [ "$want" != "$p" ] && [ "${have#ii }" != "$want" ]; then
			echo "$p"
		fi
	done
}

install_apt() {
	local missing
	mapfile -t missing < <(missing_apt_packages)
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${missing[@]}"
	mapfile -t missing < <(missing_apt_packages)
	if [ ${#missing[@]} -ne 0 ]; then
		echo "still missing after install: ${missing[*]}"
		return 1
	fi
}

bindgen_ok() {
	[ -x "$TOOLS_DIR/bindgen/bin/bindgen" ] &&
		"$TOOLS_DIR/bindgen/bin/bindgen" --version | grep -q " $BINDGEN_VERSION\$"
}

install_bindgen() {
	command -v cargo >/dev/null || { echo "cargo not found"; return 1; }
	# Build into a scratch root and move it in place only when complete, so
	# an interrupted install is never mistaken for a working one.
	rm -rf "$TOOLS_DIR/bindgen.tmp"
	cargo install --locked --root "$TOOLS_DIR/bindgen.tmp" \
		"bindgen-cli@$BINDGEN_VERSION"
	rm -rf "$TOOLS_DIR/bindgen"
	mv "$TOOLS_DIR/bindgen.tmp" "$TOOLS_DIR/bindgen"
}

vng_ok() {
	[ -x "$TOOLS_DIR/venv/bin/vng" ] &&
		[ -f "$TOOLS_DIR/venv/.complete-$VIRTME_NG_VERSION" ]
}

install_vng() {
	rm -rf "$TOOLS_DIR/venv"
	python3 -m venv "$TOOLS_DIR/venv"
	"$TOOLS_DIR/venv/bin/pip" install --no-input "virtme-ng==$VIRTME_NG_VERSION"
	touch "$TOOLS_DIR/venv/.complete-$VIRTME_NG_VERSION"
}

check_disk
if [ -n "$(missing_apt_packages)" ]; then
	step "install Debian packages" "$LOG_DIR/setup-apt.log" install_apt
fi
if ! bindgen_ok; then
	step "install bindgen-cli $BINDGEN_VERSION" "$LOG_DIR/setup-bindgen.log" install_bindgen
fi
if ! vng_ok; then
	step "install virtme-ng $VIRTME_NG_VERSION" "$LOG_DIR/setup-vng.log" install_vng
fi
[ -r "$KERNEL_TARBALL" ] ||
	die "step 'toolchain': $KERNEL_TARBALL missing after installing $KERNEL_PKG"
/usr/bin/rustc --version | grep -q '^rustc 1\.96' ||
	die "step 'toolchain': /usr/bin/rustc is not 1.96 ($(/usr/bin/rustc --version))"
say "toolchain ready: $(/usr/bin/rustc --version | cut -d' ' -f1-2), bindgen $BINDGEN_VERSION," \
	"clang$LLVM_SUFFIX, virtme-ng $VIRTME_NG_VERSION"
