#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Power failure at a random moment, as fstests' dm-flakey tests simulate it
# (generic/321, 322, 335, 336, 341-343 and 376 in spirit; xtfs_fsync_crash
# has the deterministic cases): xtfs on a
# device-mapper device, a random single-process workload on it (create,
# write, overwrite, truncate, preallocate, mmap write, rename over files and
# into new names, link, unlink, mkdir, rmdir, fsync of files and directories,
# sync), and at a random moment the device's table is switched to dm-flakey
# with drop_writes: from then on every write is acknowledged and lost, which
# is what the disk keeps of a power cut. The workload goes on a little, is
# stopped, the filesystem is unmounted (its writes lost too) and the table
# switched back. Then:
#   - the mount replays the journal;
#   - the names on disk are exactly the names the workload had after one of
#     its operations, no earlier than its last fsync or sync that returned
#     before the switch (operations are atomic and committed in order: a
#     rename never leaves two names or none, a new file never lacks its
#     name's directory);
#   - every file fsynced (or synced) before the switch and not changed,
#     renamed or removed afterwards has the content it had then;
#   - fsck.xtfs -n finds the filesystem clean after the unmount: no leaked
#     or doubly claimed block, link counts right.
# Before the rounds, one power failure between the unlink of an open file
# and its last close: the next mount deletes it from the orphan list.
# Rounds follow each other on the same filesystem (each starts from what
# the last one recovered). Seeds: IOMAP_RS_SEED, printed.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 290

. "$(dirname "$0")/common.sh"
require_xtfs

# 16 rounds, fewer or more at another IOMAP_RS_SCALE (at least one).
rounds=${XTFS_POWER_FAIL_ROUNDS:-$(((16 * ${IOMAP_RS_SCALE:-100} + 99) / 100))}
seed=${IOMAP_RS_SEED:-$RANDOM}
load_pid=
cleanup() {
	[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
	is_mounted "$SCRATCH_MNT" && umount "$SCRATCH_MNT"
	flakey_remove
}
trap cleanup EXIT
flakey_scratch "xtfs-power-${SCRATCH_DEV##*/}"
dev=$FLAKEY_DEV
kname=$(kernel_name "$dev") || fail "no kernel name for $dev"
mkfs.xtfs -q -b 4096 -s 64m "$dev" || fail "mkfs.xtfs $dev failed"
mount_xtfs "$dev"

# First, the orphan list: a file unlinked while open, and the power cut
# before its last close. The unlink's transaction put it on the list; the
# next read-write mount deletes it, and its blocks are free again.
# (The root's first directory block is allocated first: it stays.)
: >"$SCRATCH_MNT/first"
free_before=$(stat -f -c %f "$SCRATCH_MNT")
exec {orphan_fd}<>"$SCRATCH_MNT/orphan"
head -c 1M /dev/urandom >&"$orphan_fd"
rm "$SCRATCH_MNT/orphan"
sync
flakey_switch drop_writes
exec {orphan_fd}>&-
umount "$SCRATCH_MNT" || fail "umount with the orphan deleted failed"
flakey_switch linear
fsck.xtfs -n "$dev" >"$RESULT_DIR/fsck-orphan.log" 2>&1 ||
	fail "fsck.xtfs -n with an orphan on the list: $(head -n 5 "$RESULT_DIR/fsck-orphan.log")"
grep -q "^1 orphans" "$RESULT_DIR/fsck-orphan.log" ||
	fail "fsck.xtfs -n does not count the orphan: $(cat "$RESULT_DIR/fsck-orphan.log")"
seen=$(dmesg | wc -l)
mount_xtfs "$dev"
dmesg | tail -n +$((seen + 1)) | grep -q "xtfs: $kname: deleted 1 orphan inodes" ||
	fail "the mount did not delete the orphan:" \
		"$(dmesg | tail -n +$((seen + 1)) | grep xtfs: | tail -n 3)"
expect_eq "free blocks after the orphan's deletion" "$free_before" "$(stat -f -c %f "$SCRATCH_MNT")"
umount "$SCRATCH_MNT"
fsck.xtfs -n "$dev" >"$RESULT_DIR/fsck-orphan.log" 2>&1 ||
	fail "fsck.xtfs -n after the orphan's deletion: $(head -n 5 "$RESULT_DIR/fsck-orphan.log")"
! grep -q orphans "$RESULT_DIR/fsck-orphan.log" ||
	fail "the orphan is still on the list: $(cat "$RESULT_DIR/fsck-orphan.log")"
mount_xtfs "$dev"

# What the workload and the check share: the names under ROOT (Python's
# global `root`), path -> "d" or "f".
NAMES=$(cat <<'PY'
def names():
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs:
            out[os.path.relpath(os.path.join(d, n), root)] = "d"
        for n in files:
            out[os.path.relpath(os.path.join(d, n), root)] = "f"
    return out
PY
)

# The workload: OPS random operations on ROOT from seed SEED, then it goes on
# until killed. LOG gets, line by line and flushed as each is done:
#   ns J NAMES      the names (JSON: path -> "d" or "f") after operation J
#                   (J = -1: before the first)
#   durable J P SHA file P had content SHA when operation J, an fsync of it
#                   or a sync, returned (after the names of J; P empty for a
#                   directory's fsync or a sync)
#   touch J P       operation J may change, rename or remove what is at P
#                   (logged before it starts, with the file's other names)
WORKLOAD=$(cat <<'PY'
import hashlib, json, mmap, os, random, sys

root, seed, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(seed)
log = open(log_path, "w", buffering=1)



def sha(path):
    with open(os.path.join(root, path), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def emit(*words):
    log.write(" ".join(str(w) for w in words) + "\n")


def aliases(ns, paths):
    """paths, with every other name of the same files and what is under them."""
    inos = set()
    for p in paths:
        try:
            inos.add(os.lstat(os.path.join(root, p)).st_ino)
        except OSError:
            pass
    out = set(paths)
    for q in ns:
        if any(q.startswith(p + "/") for p in paths):
            out.add(q)
        elif ns[q] == "f" and os.lstat(os.path.join(root, q)).st_ino in inos:
            out.add(q)
    return out


ns = names()
emit("ns", -1, json.dumps(ns, sort_keys=True))
j = 0
while True:
    files = sorted(p for p, t in ns.items() if t == "f")
    dirs = [""] + sorted(p for p, t in ns.items() if t == "d")
    op = rng.choice(["write", "write", "write", "create", "create", "truncate",
                     "prealloc", "mmap", "rename", "rename", "link", "unlink",
                     "mkdir", "rmdir", "fsync", "fsync", "fsync", "fsyncdir",
                     "sync"])
    new = os.path.join(rng.choice(dirs), "f%d" % rng.randrange(40))
    f = rng.choice(files) if files else None
    if f is None and op not in ("mkdir", "rmdir", "fsyncdir", "sync"):
        op = "create"
    src = f
    if op == "rename" and rng.random() < 0.15 and len(dirs) > 1:
        src = rng.choice(dirs[1:])
    dst = new if rng.random() < 0.5 or len(files) < 2 else rng.choice(files)
    p = f if op == "write" else new
    # What the operation may change, logged before it starts: a check must
    # not count on a file that an operation cut short by the kill changed.
    touched = {
        "write": [p], "create": [p], "truncate": [f], "prealloc": [f],
        "mmap": [f], "rename": [src, dst], "link": [f, new], "unlink": [f],
    }.get(op, [])
    for t in sorted(aliases(ns, touched)):
        emit("touch", j, t)
    durable = []
    try:
        if op in ("write", "create"):
            fd = os.open(os.path.join(root, p), os.O_WRONLY | os.O_CREAT, 0o644)
            off = rng.randrange(0, 256 << 10)
            os.pwrite(fd, rng.randbytes(rng.randrange(1, 64 << 10)), off)
            os.close(fd)
        elif op == "truncate":
            os.truncate(os.path.join(root, f), rng.randrange(0, 300 << 10))
        elif op == "prealloc":
            fd = os.open(os.path.join(root, f), os.O_WRONLY)
            os.posix_fallocate(fd, rng.randrange(0, 256 << 10), rng.randrange(1, 128 << 10))
            os.close(fd)
        elif op == "mmap":
            fd = os.open(os.path.join(root, f), os.O_RDWR)
            size = os.fstat(fd).st_size
            if size > 0:
                with mmap.mmap(fd, size) as m:
                    at = rng.randrange(size)
                    n = min(size - at, rng.randrange(1, 16 << 10))
                    m[at:at + n] = rng.randbytes(n)
            os.close(fd)
        elif op == "rename":
            if src != dst and not (dst + "/").startswith(src + "/"):
                os.rename(os.path.join(root, src), os.path.join(root, dst))
        elif op == "link":
            os.link(os.path.join(root, f), os.path.join(root, new))
        elif op == "unlink":
            os.unlink(os.path.join(root, f))
        elif op == "mkdir":
            os.mkdir(os.path.join(root, rng.choice(dirs), "d%d" % rng.randrange(10)))
        elif op == "rmdir" and len(dirs) > 1:
            os.rmdir(os.path.join(root, rng.choice(dirs[1:])))
        elif op == "fsync":
            fd = os.open(os.path.join(root, f), os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            durable.append((f, sha(f)))
        elif op == "fsyncdir":
            fd = os.open(os.path.join(root, rng.choice(dirs)), os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            durable.append(("", ""))
        elif op == "sync":
            os.sync()
            durable.append(("", ""))
            for q in files:
                durable.append((q, sha(q)))
    except OSError:
        # EEXIST, ENOTEMPTY, ENOENT, ENOSPC...: the names still tell.
        pass
    # The names first: an operation whose durability is logged has its names logged.
    ns = names()
    emit("ns", j, json.dumps(ns, sort_keys=True))
    for p, digest in durable:
        emit("durable", j, p, digest)
    j += 1
PY
)

# The check after the mount: LOG as the workload left it, BEFORE the number
# of its lines when the writes began to be lost.
CHECK=$(cat <<'PY'
import hashlib, json, os, sys

root, log_path, before = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(log_path).read().split("\n")
# A line cut by the kill is dropped.
lines = [l for l in lines[:-1]]
durable_op = -1
fsynced = {}
states = {}
touches = []
for i, l in enumerate(lines):
    w = l.split(" ", 3)
    if w[0] == "ns":
        states[int(w[1])] = json.loads(l.split(" ", 2)[2])
    elif w[0] == "durable" and i < before:
        durable_op = max(durable_op, int(w[1]))
        if w[2]:
            fsynced[w[2]] = (int(w[1]), w[3])
    elif w[0] == "touch":
        touches.append((int(w[1]), w[2]))



now = names()
candidates = [j for j in states if j >= durable_op]
if not candidates:
    print("log: operation %d is durable but its names were not logged" % durable_op)
    sys.exit(1)
match = [j for j in candidates if states[j] == now]
bad = 0
if not match:
    best = min(candidates, key=lambda j: len(set(states[j].items()) ^ set(now.items())))
    diff = sorted(set(states[best].items()) ^ set(now.items()))
    print("names: none of operations %d..%d left these names (closest %d: %s)"
          % (min(candidates), max(candidates), best, diff[:6]))
    bad += 1
checked = 0
for p, (op, digest) in fsynced.items():
    if any(j > op and t == p for j, t in touches):
        continue
    checked += 1
    try:
        with open(os.path.join(root, p), "rb") as f:
            got = hashlib.sha256(f.read()).hexdigest()
    except OSError as e:
        got = str(e)
    if got != digest:
        print("data: %s, fsynced at operation %d, has lost its content (%s)" % (p, op, got[:16]))
        bad += 1
print("recovered operation %s of %d (durable from %d); %d fsynced files checked"
      % (match[0] if match else "?", max(states), durable_op, checked))
sys.exit(1 if bad else 0)
PY
)

replayed=0 checked=0 ops=0
for ((round = 0; round < rounds; round++)); do
	rseed=$((seed * 100 + round))
	log=$RESULT_DIR/round-$round.log
	python3 -c "$NAMES"$'\n'"$WORKLOAD" "$SCRATCH_MNT" "$rseed" "$log" \
		2>"$RESULT_DIR/workload-$round.err" &
	load_pid=$!
	# Counted from its first line (Python takes a while to start).
	for ((i = 0; i < 600; i++)); do
		[ -s "$log" ] && break
		sleep 0.05
	done
	# A moment from 0.2 to 6 s in, chosen by the round's seed.
	sleep "$(awk -v s="$rseed" 'BEGIN { srand(s); printf "%.2f", 0.2 + 5.8 * rand() }')"
	kill -0 "$load_pid" 2>/dev/null ||
		fail "round $round: the workload died:" \
			"$(tail -n 3 "$RESULT_DIR/workload-$round.err")"
	before=$(wc -l <"$log")
	flakey_switch drop_writes
	sleep 0.5
	# It may have died since the cut: the device now drops writes, so a
	# metadata block that reclaim (or the other lane's drop_caches) took from
	# the cache is read back as it was before the cut, and the workload can
	# find its tree changed under it. Only the state after the remount counts.
	kill "$load_pid" 2>/dev/null ||
		diagnose "round $round: the workload ended after the cut:" \
			"$(tail -n 1 "$RESULT_DIR/workload-$round.err")"
	wait "$load_pid" 2>/dev/null || true
	load_pid=
	umount "$SCRATCH_MNT" || fail "round $round: umount failed"
	flakey_switch linear
	seen=$(dmesg | wc -l)
	mount_xtfs "$dev"
	dmesg | tail -n +$((seen + 1)) | grep -q "xtfs: $kname: journal: replaying" &&
		replayed=$((replayed + 1))
	out=$(python3 -c "$NAMES"$'\n'"$CHECK" "$SCRATCH_MNT" "$log" "$before") ||
		fail "round $round (seed $rseed): $out"
	diagnose "round $round (seed $rseed): $out"
	checked=$((checked + $(echo "$out" | sed -n 's/.*; \([0-9]*\) fsynced files checked/\1/p')))
	ops=$((ops + $(grep -c '^ns' "$log")))
	umount "$SCRATCH_MNT" || fail "round $round: umount after the check failed"
	fsck.xtfs -n "$dev" >"$RESULT_DIR/fsck-$round.log" 2>&1 ||
		fail "round $round (seed $rseed): fsck.xtfs -n:" \
			"$(head -n 5 "$RESULT_DIR/fsck-$round.log")"
	mount_xtfs "$dev"
done
diagnose "seed $seed: $rounds power failures after $ops operations," \
	"$replayed replayed a committed transaction, $checked fsynced files checked"
[ "$replayed" -gt 0 ] ||
	fail "no round replayed a transaction: the power failures all hit an empty log"
