#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the repository as a git format-patch series (series.plan).

    series.py generate REPO BASE WORKTREE OUT

REPO is the project repository, BASE a git repository of the pristine kernel
tree with the tag "base", WORKTREE a scratch clone of BASE that this rebuilds
patch by patch, OUT the directory for the patches and the cover letter.
Every tracked file of the series' directories must belong to exactly one
patch and every patch of patches/series to one patch of the plan, in the
same order; anything else is an error, so that the series cannot fall
behind the repository.
"""

import os
import re
import shutil
import subprocess
import sys

# The repository's directories that the series adds, at the same paths in
# the kernel tree; MAINTAINERS is generated, the rest of the top level (the
# harness's Makefile, README.md, patches/) is not the kernel's.
SERIES_ROOTS = ("Documentation/", "fs/", "include/", "rust/", "samples/", "tools/testing/iomap_rs/",
                "tools/testing/xtfs/")


def die(msg):
    sys.exit(f"series.py: {msg}")


def git(cwd, *args, env=None, text=True):
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=text, env=env)
    if r.returncode:
        die(f"git {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def squash(line):
    return " ".join(line.split())


class Patch:
    def __init__(self, subject):
        self.subject = subject
        self.apply = None
        self.add = []
        self.holds = []  # (file, first, last or None)
        self.body = []
        self.files = []


def parse_plan(path):
    patches, cur, in_head = [], None, False
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("== "):
                cur = Patch(line[3:].strip())
                patches.append(cur)
                in_head = True
                continue
            if cur is None:
                if line and not line.startswith("#"):
                    die(f"{path}:{n}: text before the first patch")
                continue
            if in_head:
                if not line:
                    in_head = False
                elif line.startswith("apply: "):
                    cur.apply = line[7:].strip()
                elif line.startswith("add: "):
                    cur.add += line[5:].split()
                elif line.startswith("hold: "):
                    file, _, rest = line[6:].partition(": ")
                    first, sep, last = rest.partition(" .. ")
                    cur.holds.append((file.strip(), squash(first), squash(last) if sep else None))
                else:
                    die(f"{path}:{n}: unknown header line: {line}")
                continue
            cur.body.append(line)
    for p in patches:
        while p.body and not p.body[-1]:
            p.body.pop()
        while p.body and not p.body[0]:
            p.body.pop(0)
    return patches


def patch_description(path):
    """The subject and body of a patches/ file (its text before the diff)."""
    with open(path) as f:
        text = f.read()
    m = re.search(r"^(diff --git |--- a/)", text, re.M)
    head = text[: m.start()] if m else ""
    lines = head.rstrip("\n").split("\n")
    return lines[0], [l for l in lines[2:]]


def assign_files(repo, patches):
    tracked = [f for f in git(repo, "ls-files").split("\n") if f.startswith(SERIES_ROOTS)]
    # The harness builds what is in the directories, tracked or not: a file it builds that the
    # series would leave out is refused.
    untracked = [f for f in git(repo, "ls-files", "--others", "--exclude-standard").split("\n")
                 if f.startswith(SERIES_ROOTS)]
    if untracked:
        die(f"untracked files (add them or remove them): {' '.join(untracked)}")
    owner = {}
    for f in tracked:
        best = None
        for i, p in enumerate(patches):
            for a in p.add:
                if f == a or (a.endswith("/") and f.startswith(a)):
                    if best and len(a) == len(best[1]):
                        die(f"{f}: claimed by patches {best[0] + 1} and {i + 1}")
                    if not best or len(a) > len(best[1]):
                        best = (i, a)
        if not best:
            die(f"{f}: in no patch of the plan")
        owner[f] = best[0]
    for i, p in enumerate(patches):
        for a in p.add:
            if not any(f == a or (a.endswith("/") and f.startswith(a)) for f in tracked):
                die(f"patch {i + 1}: {a}: no tracked file")
    for f, i in owner.items():
        patches[i].files.append(f)
    # A hold is of a file an earlier patch added, and names lines that are there.
    for i, p in enumerate(patches):
        for h in p.holds:
            if owner.get(h[0], i) >= i:
                die(f"patch {i + 1}: hold of {h[0]}, which no earlier patch adds")
            with open(os.path.join(repo, h[0])) as f:
                held_ranges(f.read().split("\n"), h, h[0])
    return owner


def held_ranges(lines, hold, file):
    """The line indexes of LINES that HOLD (first, last) covers."""
    _, first, last = hold
    starts = [i for i, l in enumerate(lines) if squash(l) == first]
    if len(starts) != 1:
        die(f"{file}: {len(starts)} lines are '{first}'")
    s = starts[0]
    e = s
    if last is not None:
        e = next((i for i in range(s, len(lines)) if squash(lines[i]) == last), None)
        if e is None:
            die(f"{file}: no '{last}' after '{first}'")
    if last is not None and s > 0 and not lines[s - 1].strip():
        s -= 1
    return range(s, e + 1)


def staged(repo, file, up_to, patches):
    """FILE's content in the tree of patch UP_TO: without the lines that later
    patches hold for themselves."""
    with open(os.path.join(repo, file), "rb") as f:
        data = f.read()
    later = [h for p in patches[up_to + 1:] for h in p.holds if h[0] == file]
    if not later:
        return data
    lines = data.decode().split("\n")
    drop = set()
    for h in later:
        drop.update(held_ranges(lines, h, file))
    return "\n".join(l for i, l in enumerate(lines) if i not in drop).encode()


def maintainers_entries(path):
    entries, cur = [], None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                cur = None
                continue
            if cur is None:
                cur = {"name": line, "head": [], "files": []}
                entries.append(cur)
            elif line.startswith("F:\t"):
                cur["files"].append(line[3:])
            else:
                cur["head"].append(line)
    return entries


def maintainers_text(entries, added, all_files):
    """Our entries as of the files ADDED: a directory pattern once all of its
    files are in, the files one by one until then."""
    out = []
    for e in entries:
        fl = []
        for pat in e["files"]:
            if pat.endswith("/"):
                under = [f for f in all_files if f.startswith(pat)]
                have = [f for f in under if f in added]
                if under and len(have) == len(under):
                    fl.append(pat)
                else:
                    fl += have
            elif pat in added:
                fl.append(pat)
        if fl:
            out.append((e["name"], [e["name"]] + e["head"] + ["F:\t" + f for f in sorted(fl)]))
    return out


def insert_entries(kernel_text, ours):
    """The kernel's MAINTAINERS with OURS inserted in alphabetical order: where
    the fewest entries before sort after it and after it before it (the list
    is not strictly sorted)."""
    lines = kernel_text.split("\n")
    # Entries start after the line of the list's title, each after a blank line.
    start = lines.index("Maintainers List") if "Maintainers List" in lines else 0
    for name, block in sorted(ours, reverse=True):
        heads = [i for i in range(start + 1, len(lines) - 1)
                 if not lines[i - 1] and re.match(r"[A-Z]:\t", lines[i + 1])]
        if not heads:
            die("MAINTAINERS: no entries")
        after = [lines[i].upper() > name.upper() for i in heads]
        # score[k]: entries before k that sort before NAME, and from k on after it.
        score = sum(after)
        best, best_k = score, 0
        for k, a in enumerate(after):
            score += -1 if a else 1
            if score > best:
                best, best_k = score, k + 1
        at = heads[best_k] if best_k < len(heads) else len(lines)
        lines[at:at] = block + [""]
    return "\n".join(lines)


def generate(repo, base, work, out):
    plan = parse_plan(os.path.join(repo, "tools/testing/iomap_rs/series.plan"))
    series = [l.strip() for l in open(os.path.join(repo, "patches/series"))
              if l.strip() and not l.startswith("#")]
    applies = [p.apply for p in plan if p.apply]
    if applies != series:
        die(f"the plan applies {applies}, patches/series lists {series}")
    owner = assign_files(repo, plan)
    all_files = sorted(owner)
    entries = maintainers_entries(os.path.join(repo, "MAINTAINERS"))
    author = next(l[3:] for e in entries for l in e["head"] if l.startswith("M:\t"))
    name, email = re.match(r"(.*) <(.*)>", author).groups()
    date = git(repo, "log", "-1", "--format=%cI").strip()
    env = dict(os.environ, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email, GIT_AUTHOR_DATE=date,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email, GIT_COMMITTER_DATE=date)

    if not os.path.isdir(os.path.join(work, ".git")):
        git(os.path.dirname(work) or ".", "clone", "-q", "--no-checkout", base, work)
    git(work, "checkout", "-q", "-f", "--detach", "base")
    git(work, "clean", "-q", "-f", "-d", "-x")
    kernel_maintainers = git(work, "show", "base:MAINTAINERS")
    added = set()
    for i, p in enumerate(plan):
        body = p.body
        if p.apply:
            path = os.path.join(repo, "patches", p.apply)
            subject, desc = patch_description(path)
            if not body:
                # The applied patch is the whole change: its description is the message.
                if subject != p.subject:
                    die(f"{p.apply}: its subject '{subject}' is not the plan's '{p.subject}'")
                body = desc
            r = subprocess.run(["patch", "-p1", "--forward", "--batch", "--fuzz=0", "-s",
                                "--no-backup-if-mismatch", "-i", path], cwd=work,
                               capture_output=True, text=True)
            if r.returncode:
                die(f"{p.apply} does not apply: {r.stdout.strip()} {r.stderr.strip()}")
        if not body:
            die(f"patch {i + 1} ({p.subject}): no commit message body")
        added.update(p.files)
        for f in sorted(added):
            dst = os.path.join(work, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as w:
                w.write(staged(repo, f, i, plan))
            shutil.copymode(os.path.join(repo, f), dst)
        ours = maintainers_text(entries, added, all_files)
        with open(os.path.join(work, "MAINTAINERS"), "w") as w:
            w.write(insert_entries(kernel_maintainers, ours))
        git(work, "add", "-A", "-f", ".")
        msg = "\n".join([p.subject, ""] + body + ["", f"Signed-off-by: {author}", ""])
        subprocess.run(["git", "commit", "-q", "-F", "-"], cwd=work, input=msg, text=True,
                       env=env, check=True)

    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    git(work, "format-patch", "-q", "--cover-letter", "--no-signature", "--zero-commit",
        "--base=base", "-o", out, "base..HEAD", env=env)
    cover = open(os.path.join(repo, "tools/testing/iomap_rs/series-cover-letter")).read()
    subject, _, blurb = cover.partition("\n")
    path = os.path.join(out, "0000-cover-letter.patch")
    text = open(path).read()
    text = text.replace("*** SUBJECT HERE ***", subject.strip())
    text = text.replace("*** BLURB HERE ***", blurb.strip("\n"))
    open(path, "w").write(text)
    print(f"{len(plan)} patches and a cover letter in {out}")


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "generate":
        generate(*sys.argv[2:])
    else:
        die(__doc__)


if __name__ == "__main__":
    main()
