# SPDX-License-Identifier: GPL-2.0
#
# iomap_rs: the two commands of README.md. Everything is done by the scripts
# in tools/testing/iomap_rs/; this file only names them.

.PHONY: run test soak bench profile kernel lint rustdoc series check-series clean

# Build if needed, boot, mount XFS and run a short demonstration.
run:
	tools/testing/iomap_rs/demo.sh

# Build if needed, boot, run every test on the default configuration, then
# the tests of tools/testing/iomap_rs/debug-subset on the debug one; ends with
# "N passed, N failed". Select tests with TESTS="name ..." (default
# configuration only), one configuration with KCONFIG=default, distro or
# debug (every test there, or TESTS).
test:
	KCONFIG=$(KCONFIG) tools/testing/iomap_rs/test-matrix.sh $(TESTS)

# The concurrent exercisers at 10^6 operations each under memory pressure,
# and crash replay at 1000 flush points, on the debug configuration: hours,
# not in CI. Select tests with TESTS="name ...".
soak:
	tools/testing/iomap_rs/soak.sh $(TESTS)

# C iomap against iomap_rs in one boot: MB/s and Rust/C ratios per case.
bench:
	tools/testing/iomap_rs/bench.sh

# Calls per write of C iomap and iomap_rs, counted by ftrace's function
# profiler on the profiling configuration (KCONFIG=profile), in one boot.
profile:
	tools/testing/iomap_rs/profile.sh

# Only install the toolchain and build the kernel.
kernel:
	tools/testing/iomap_rs/setup-toolchain.sh
	tools/testing/iomap_rs/build-kernel.sh

# rustfmt, clippy (CLIPPY=1) and checkpatch on the project's own code.
lint:
	tools/testing/iomap_rs/lint.sh

# The kernel crate's HTML documentation (kernel::iomap, kernel::fs, ...) in
# out/rustdoc/, by the kernel's own make rustdoc; fails on a rustdoc warning
# in the project's files.
rustdoc:
	tools/testing/iomap_rs/rustdoc.sh

# The repository as a git format-patch series against the pristine kernel
# tree (tools/testing/iomap_rs/series.plan), in out/series/.
series:
	tools/testing/iomap_rs/series.sh

# make series, then git am onto a clean tree, the result compared with the
# harness's tree (make kernel first), and checkpatch --strict on each patch.
check-series:
	tools/testing/iomap_rs/series.sh --check

# Remove logs and VM leftovers (the kernel build cache stays in ~/.cache/iomap_rs).
clean:
	rm -rf out
