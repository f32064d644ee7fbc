#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel with the project in it:
#
#   1. source tree: the pristine Debian tarball extracted under the cache
#      (never in the work tree) with the patch series applied;
#   2. overlay: the repository's own files copied in at their kernel paths;
#   3. config: tinyconfig + tools/testing/iomap_rs/iomap_rs.config, checked;
#   4. build: out of tree with O=, incremental.
#
# Cache validity. The source tree carries a stamp with the hash of the kernel
# version and the patch series; it is written only after extraction and
# patching succeeded, and a tree without a matching stamp is rebuilt from the
# tarball. The build directory is trusted to make: an interrupted kbuild run
# is resumed by the next one, and files whose content changed get new mtimes.
# When the series changes, every file the old or the new series touches is
# re-stamped so that make rebuilds what depended on it.

. "$(dirname "$0")/lib.sh"

STAMP=$KSRC/.iomap_rs-series
PRISTINE_LIST=$KERNEL_CACHE/pristine-files
OVERLAY_MANIFEST=$KERNEL_CACHE/overlay-files

patch_list() {
	[ -f "$PATCH_DIR/series" ] || return 0
	grep -v '^\s*#' "$PATCH_DIR/series" | grep -v '^\s*$' || true
}

prepare_source() {
	local new=$KERNEL_CACHE/src.new p
	rm -rf "$new"
	mkdir -p "$new"
	tar -xf "$KERNEL_TARBALL" -C "$new" --strip-components=1
	(cd "$new" && find . -type f | sed 's|^\./||' | sort) >"$PRISTINE_LIST.new"
	while read -r p; do
		echo "applying $p"
		patch -d "$new" -p1 --forward --batch --fuzz=0 \
			--no-backup-if-mismatch <"$PATCH_DIR/$p" ||
			{
				echo "patch $p does not apply to $KERNEL_PKG $KERNEL_PKG_VERSION"
				return 1
			}
	done < <(patch_list)

	# Files patched by the previous series lose their patches and get the
	# tarball's old mtime back: touch them so make sees the change.
	local old_patches=$KERNEL_CACHE/applied-patches
	{
		[ -d "$old_patches" ] && patched_files "$old_patches"
		patched_files "$PATCH_DIR"
	} | sort -u | while read -r f; do
		[ -e "$new/$f" ] && touch "$new/$f"
	done

	rm -rf "$KSRC" "$old_patches"
	mv "$new" "$KSRC"
	mv "$PRISTINE_LIST.new" "$PRISTINE_LIST"
	rm -f "$OVERLAY_MANIFEST"
	mkdir -p "$old_patches"
	[ -f "$PATCH_DIR/series" ] && cp -a "$PATCH_DIR"/. "$old_patches"/
	series_hash >"$STAMP"
}

overlay_files() {
	local root
	for root in "${OVERLAY_ROOTS[@]}"; do
		[ -d "$REPO_DIR/$root" ] || continue
		(cd "$REPO_DIR" && find "$root" -type f ! -name '*~' ! -name '.*.swp')
	done | sort
}

sync_overlay() {
	local f
	overlay_files >"$OVERLAY_MANIFEST.new"
	# The overlay only adds files. Changing a kernel file is a patch.
	if comm -12 "$OVERLAY_MANIFEST.new" "$PRISTINE_LIST" | grep .; then
		echo "the files above exist in the kernel tree:" \
			"change them with a patch in patches/, not the overlay"
		return 1
	fi
	# Files removed from the overlay since the last sync.
	if [ -f "$OVERLAY_MANIFEST" ]; then
		comm -23 "$OVERLAY_MANIFEST" "$OVERLAY_MANIFEST.new" | while read -r f; do
			echo "removed: $f"
			rm -f "$KSRC/$f"
		done
	fi
	# Copy only what changed so unchanged files keep their mtimes.
	while read -r f; do
		if ! cmp -s "$REPO_DIR/$f" "$KSRC/$f"; then
			echo "updated: $f"
			mkdir -p "$(dirname "$KSRC/$f")"
			cp "$REPO_DIR/$f" "$KSRC/$f"
		fi
	done <"$OVERLAY_MANIFEST.new"
	mv "$OVERLAY_MANIFEST.new" "$OVERLAY_MANIFEST"
}

# Print the options the fragments ask for that the final config lacks. A
# later fragment overrides an earlier one, as in merge_config.sh.
dropped_options() {
	local config=$1 line opt
	awk '/^CONFIG_[A-Za-z0-9_]+=/ { o = $0; sub(/=.*/, "", o) }
		/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { o = $2 }
		o != "" { if (!(o in last)) order[++n] = o; last[o] = $0; o = "" }
		END { for (i = 1; i <= n; i++) print last[order[i]] }' \
		"${CONFIG_FRAGMENTS[@]}" | while read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$config" ||
				echo "$line (got: $(grep -E "^(# )?${line%%=*}[= ]" "$config" ||
					echo unset))"
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			grep -q "^$opt=" "$config" && echo "$opt should be unset"
			;;
		esac
	done
	return 0
}

configure() {
	local gen=$KERNEL_CACHE/config-gen dropped
	rm -rf "$gen"
	mkdir -p "$gen" "$KBUILD"
	make -C "$KSRC" O="$gen" LLVM="$LLVM_SUFFIX" tinyconfig
	"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$gen" "$gen/.config" "${CONFIG_FRAGMENTS[@]}"
	make -C "$KSRC" O="$gen" LLVM="$LLVM_SUFFIX" RUSTC=/usr/bin/rustc \
		BINDGEN="$TOOLS_DIR/bindgen/bin/bindgen" olddefconfig
	dropped=$(dropped_options "$gen/.config")
	if [ -n "$dropped" ]; then
		echo "Kconfig dropped options from ${CONFIG_FRAGMENTS[*]} (missing dependencies?):"
		echo "$dropped"
		return 1
	fi
	# Replace the build's config only when it changed, so an unchanged
	# config costs nothing.
	if ! cmp -s "$gen/.config" "$KBUILD/.config"; then
		echo "config changed"
		cp "$gen/.config" "$KBUILD/.config"
	fi
	rm -rf "$gen"
}

# build LOG: LOG is the step's own log, where kmake's output goes.
build() {
	local log=$1 ours
	# bzImage and the modules of the test config: XFS (built as a module,
	# as distributions do) and the iomap_rs test module.
	kmake -j"$(nproc)" bzImage modules
	# Warnings in the kernel's own code are not ours to fix; warnings in the
	# project's files are errors.
	ours=$(project_warnings "$log")
	if [ -n "$ours" ]; then
		echo "compiler warnings in the project's own files (see above):"
		echo "$ours"
		return 1
	fi
}

mkdir -p "$LOG_DIR" "$KERNEL_CACHE"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$(series_hash)" ]; then
	step "extract $KERNEL_PKG $KERNEL_PKG_VERSION and apply patches/series" \
		"$LOG_DIR/source.log" prepare_source
fi
step "overlay the project's files" "$LOG_DIR/overlay.log" sync_overlay
step "check Rust toolchain (make rustavailable)" "$LOG_DIR/rustavailable.log" \
	kmake rustavailable
step "configure $KCONFIG (tinyconfig + ${CONFIG_FRAGMENTS[*]##*/})" "$LOG_DIR/config.log" configure
step "build kernel (a cold build takes ~8 min on 2 cores)" "$LOG_DIR/build.log" \
	build "$LOG_DIR/build.log"
say "kernel: $BZIMAGE"
