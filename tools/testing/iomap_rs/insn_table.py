#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tables of guest instructions per write, C iomap against iomap_rs.

make profile's second part. Reads what the profile boot left in its share
directory:
  insn.N       the counts qemu-plugin/insn_profile.c wrote at the guest's
               N-th mark: "START INSTRUCTIONS MEMORY_ACCESSES" per
               translation block;
  insn-phases  "N CASE SIDE WRITES" from guest-profile.sh: insn.N holds
               CASE's writes on SIDE (C or Rust), WRITES of them;
  kallsyms     the guest's /proc/kallsyms.
Each block is charged to the kernel function it starts in (the nearest
text symbol at or below its address; user space as one row). Rust names
are demangled with llvm-cxxfilt. Prints, per case, the functions that run
MIN instructions per write more or fewer on one side than on the other (2 by
default), by the difference (the functions both sides run alike, the system
call, XFS, the page cache, the copy, cancel out), then the totals: of the
library's functions (LIBRARY: C iomap's, iomap_rs's, the helpers), which do
not change between boots, then of everything, which takes in what else the
guest ran meanwhile.
"""

import argparse
import bisect
import collections
import os
import re
import shutil
import subprocess
import sys

USER = "(user space)"
# The functions of C iomap (fs/iomap/: iomap_*, its static ifs_* helpers), of
# iomap_rs (its C side iomap_rs_*, the kernel crate's Rust) and the rust_helper_*
# wrappers Rust calls C inlines through.
LIBRARY = re.compile(r"^(_*iomap_|ifs_|rust_helper_|<?kernel::|<?core::|<.* as kernel::)")


def load_symbols(path):
    """Sorted (address, name) of the kernel's text symbols."""
    syms = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3 or parts[1] not in "tTwW":
                continue
            name = parts[2]
            if len(parts) > 3:
                name += " " + parts[3]
            syms.append((int(parts[0], 16), name))
    syms.sort()
    return syms


def demangle(names, cxxfilt):
    """Rust v0 names (_R...) demangled; others as they are."""
    rust = sorted(n for n in names if n.startswith("_R"))
    out = {n: n for n in names}
    if not rust:
        return out
    if not cxxfilt:
        sys.exit("insn_table: llvm-cxxfilt not found: Rust names stay mangled")
    res = subprocess.run([cxxfilt], input="\n".join(rust) + "\n", capture_output=True,
                         text=True, check=True)
    for mangled, plain in zip(rust, res.stdout.splitlines()):
        out[mangled] = plain
    return out


def phase_counts(path, addrs, names):
    """{function: [instructions, memory accesses]} of one insn.N file."""
    counts = collections.defaultdict(lambda: [0, 0])
    with open(path) as f:
        for line in f:
            start, insns, mem = line.split()
            start = int(start, 16)
            if start < 1 << 63:
                fn = USER
            else:
                i = bisect.bisect_right(addrs, start) - 1
                fn = names[i] if i >= 0 else "(unknown)"
            c = counts[fn]
            c[0] += int(insns)
            c[1] += int(mem)
    return counts


def short(name, width):
    """NAME cut to WIDTH; Rust names first lose their generic arguments."""
    while True:
        plain = re.sub(r"(?<=[\w>])<[^<>]*>", "", name)
        if plain == name:
            break
        name = plain
    name = re.sub(r"^<([^<> ]*)>::", r"\1::", name)
    return name if len(name) <= width else name[:width - 3] + "..."


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("share")
    ap.add_argument("--min", type=float, default=2.0,
                    help="rows: functions whose count per write differs by at least this much")
    ap.add_argument("--cxxfilt", default=shutil.which("llvm-cxxfilt-19") or
                    shutil.which("llvm-cxxfilt"))
    args = ap.parse_args()

    syms = load_symbols(os.path.join(args.share, "kallsyms"))
    if not syms or syms[-1][0] == 0:
        sys.exit("insn_table: no text symbol addresses in kallsyms (read as root?)")
    addrs = [a for a, _ in syms]
    names = [n for _, n in syms]

    cases = collections.OrderedDict()
    with open(os.path.join(args.share, "insn-phases")) as f:
        for line in f:
            n, case, side, writes = line.split()
            counts = phase_counts(os.path.join(args.share, "insn." + n), addrs, names)
            cases.setdefault(case, {})[side] = (counts, int(writes))

    print("guest instructions (and memory accesses) per write, C iomap and iomap_rs, XFS,"
          " QEMU TCG plugin qemu-plugin/insn_profile.c")
    print()
    all_fns = set()
    for sides in cases.values():
        for counts, _ in sides.values():
            all_fns.update(counts)
    plain = demangle(all_fns, args.cxxfilt)
    for case, sides in cases.items():
        (c, nc), (r, nr) = sides["C"], sides["Rust"]
        print(f"{case}: per write ({nc} writes)")
        print(f"  {'function':<60} {'C':>9} {'Rust':>9} {'Rust-C':>9}")
        rows = []
        for fn in set(c) | set(r):
            ci, ri = c[fn][0] / nc if fn in c else 0.0, r[fn][0] / nr if fn in r else 0.0
            if abs(ri - ci) >= args.min:
                rows.append((ri - ci, ci, ri, fn))
        rows.sort(key=lambda x: (-x[0], -x[2], x[3]))
        for d, ci, ri, fn in rows:
            print(f"  {short(plain[fn], 60):<60} {ci:9.1f} {ri:9.1f} {d:+9.1f}")
        # The library's own functions on each side: unlike the totals, which take in whatever
        # else the guest ran meanwhile, the same from boot to boot.
        lc = sum(v[0] for fn, v in c.items() if LIBRARY.match(plain[fn])) / nc
        lr = sum(v[0] for fn, v in r.items() if LIBRARY.match(plain[fn])) / nr
        print(f"  {'(iomap: C iomap, iomap_rs, their helpers)':<60} {lc:9.1f} {lr:9.1f}"
              f" {lr - lc:+9.1f}")
        for what, k in (("(all instructions)", 0), ("(all memory accesses)", 1)):
            tc = sum(v[k] for v in c.values()) / nc
            tr = sum(v[k] for v in r.values()) / nr
            print(f"  {what:<60} {tc:9.1f} {tr:9.1f} {tr - tc:+9.1f}")
        kc = sum(v[0] for fn, v in c.items() if fn != USER) / nc
        kr = sum(v[0] for fn, v in r.items() if fn != USER) / nr
        print(f"  {'(kernel instructions)':<60} {kc:9.1f} {kr:9.1f} {kr - kc:+9.1f}")
        print()


if __name__ == "__main__":
    main()
