#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarize one test run of the iomap_rs harness.

Reads what guest-run-tests.sh left in the share directory (the KTAP of each
KUnit suite and the TAP of the in-guest tests) plus the host's checks of the
kernel log, prints one TAP line per test with stable names (KUnit suites by
suite name, in-guest tests by test name), the diagnostics of every test that
failed and those a passing test chose to report, and as its last line
"N passed, N failed" (", N skipped" when some were). Exit status 0 only when
nothing failed.
"""

import argparse
import os
import re
import sys

RESULT_RE = re.compile(r"^(not ok|ok) (\d+) (\S+)(.*)$")


class Result:
    def __init__(self, name, status, detail="", diagnostics=()):
        self.name = name
        self.status = status  # "pass", "fail" or "skip"
        self.detail = detail
        self.diagnostics = list(diagnostics)


def parse_kunit_suite(path):
    """Return a Result for one suite from its debugfs KTAP."""
    name = os.path.basename(path)[: -len(".ktap")]
    with open(path, errors="replace") as f:
        lines = [line.rstrip("\n") for line in f]
    top = None
    for line in lines:
        m = RESULT_RE.match(line)  # Only unindented lines are the suite's.
        if m and m.group(3) == name:
            top = m
    if top is None:
        return Result(name, "fail", "no result line", lines[-20:])
    cases = [l for l in lines if RESULT_RE.match(l.strip()) and l.startswith(" ")]
    ncases = len(cases)
    if top.group(1) == "ok":
        skip = "# SKIP" in top.group(4)
        return Result(name, "skip" if skip else "pass", f"{ncases} cases")
    # Keep what explains the failure: failed cases and their log lines.
    diag = [l for l in lines if not RESULT_RE.match(l.strip()) or l.strip().startswith("not ok")]
    diag = [l for l in diag if "KTAP version" not in l and not re.match(r"^\s*1\.\.\d+$", l)]
    failed = sum(1 for l in cases if l.strip().startswith("not ok"))
    return Result(name, "fail", f"{failed} of {ncases} cases failed", diag[:80])


def parse_guest_tap(path):
    results = []
    current = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = RESULT_RE.match(line)
            if m:
                rest = m.group(4).strip()
                if m.group(1) == "not ok":
                    status = "fail"
                elif "# SKIP" in rest:
                    status = "skip"
                else:
                    status = "pass"
                current = Result(m.group(3), status, rest.lstrip("# "))
                results.append(current)
            elif line.startswith("#") and current is not None:
                current.diagnostics.append(line[1:].lstrip(" ") if line != "#" else "")
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("shares", nargs="+", metavar="share",
                    help="directories the guest wrote its results to, one per boot; the "
                    "first boot's holds the KUnit suites' results")
    ap.add_argument("--host-tap", action="append", default=[],
                    help="TAP of tests run on the host (compile checks), reported first")
    ap.add_argument("--expect-suites", help="file listing KUnit suites that must have run")
    ap.add_argument("--expect-tests", nargs="*", default=[],
                    help="in-guest tests that must have run")
    ap.add_argument(
        "--run-error", action="append", default=[],
        help="a failure of the run itself (timeout, boot splat); reported as a failed test")
    args = ap.parse_args()

    results = []
    for path in args.host_tap:
        if os.path.exists(path):
            results.extend(parse_guest_tap(path))
        else:
            results.append(Result(os.path.basename(path), "fail", "host checks did not run",
                                  [f"expected {path}, not found"]))
    kunit_dir = os.path.join(args.shares[0], "kunit")
    seen_suites = set()
    if os.path.isdir(kunit_dir):
        for fn in sorted(os.listdir(kunit_dir)):
            if fn.endswith(".ktap"):
                r = parse_kunit_suite(os.path.join(kunit_dir, fn))
                seen_suites.add(r.name)
                results.append(r)
    if args.expect_suites:
        with open(args.expect_suites) as f:
            for line in f:
                s = line.split("#", 1)[0].strip()
                if s and s not in seen_suites:
                    results.append(Result(
                        s, "fail", "KUnit suite did not run",
                        [f"expected suite {s} in /sys/kernel/debug/kunit, not found"]))

    guest = []
    for share in args.shares:
        tap = os.path.join(share, "tests.tap")
        tap_d = os.path.join(share, "tap.d")
        if os.path.exists(tap):
            guest.extend(parse_guest_tap(tap))
        elif os.path.isdir(tap_d):
            # The run did not finish: the tests that ended left their TAP
            # lines one file each, named by their number in the list.
            for fn in sorted((f for f in os.listdir(tap_d) if f.isdigit()), key=int):
                guest.extend(parse_guest_tap(os.path.join(tap_d, fn)))
    results.extend(guest)
    ran = {r.name for r in guest}
    where = " or ".join(os.path.join(s, "tests.tap") for s in args.shares)
    for t in args.expect_tests:
        if t not in ran:
            results.append(Result(t, "fail", "did not run",
                                  [f"expected in-guest test {t} in {where}, not found"]))

    for i, err in enumerate(args.run_error):
        results.append(Result("vm_run", "fail", "the VM run itself failed", err.split("\n")))

    print("TAP version 13")
    print(f"1..{len(results)}")
    for n, r in enumerate(results, 1):
        ok = "not ok" if r.status == "fail" else "ok"
        detail = r.detail
        if r.status == "skip" and "SKIP" not in detail:
            detail = "SKIP " + detail
        print(f"{ok} {n} {r.name}" + (f" # {detail}" if detail else ""))
        # A passing test has diagnostics only if it wrote some on purpose.
        for d in r.diagnostics:
            print(f"#   {d}")

    passed = sum(r.status == "pass" for r in results)
    failed = sum(r.status == "fail" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    if failed:
        print("failed: " + ", ".join(r.name for r in results if r.status == "fail"))
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
