#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Crash consistency at every flush point, as fstests' dm-log-writes tests
# (generic/455, 457, 482) prove it: xtfs on a dm-log-writes device, which
# records every write, flush and FUA write in an order the disk could have
# made them durable in, under a workload of three processes:
#   - two writers, each creating files (written, overwritten, preallocated,
#     written through mmap, truncated), some in place and some under a
#     temporary name renamed into place with the directory fsynced
#     afterwards; after each fsync (or the directory's), a mark in the log
#     with the file's name and its content's SHA-256;
#   - one process of random namespace and data operations on its own tree
#     (create, write, mmap write, fallocate, truncate, rename, link, unlink,
#     mkdir, rmdir, fsync, sync).
# The filesystem is then unmounted, and logwrites_replay replays the log
# onto another device one entry at a time. At every flush, after every FUA
# write, at one random point between two of them (some of the writes in
# between on the media, the others not), at every mark (dm-log-writes logs a
# write only once a flush covers it: an fsync that did not flush has not
# made its file durable by its mark) and at the end:
#   - fsck.xtfs -n, which replays the journal in memory, finds the
#     filesystem clean: no leaked or doubly claimed block, link counts and
#     directories right;
#   - the mount replays the journal (read-only: it loads the log; every
#     RW_EVERY-th point on a copy mounted read-write, which writes it home,
#     takes a change and unmounts, after which fsck is clean again);
#   - every file whose mark the replay has passed has the content it had at
#     its fsync, under its name (a file renamed into place is durable by the
#     fsync of its directory, as POSIX has it; one created in place and
#     fsynced is durable under its name because an xtfs commit holds every
#     operation before it, which is more than POSIX asks);
#   - every file of the tree reads without an error.
# IOMAP_RS_REPLAY_FILES files (20; 40 with KCONFIG=debug, whose points take
# four times as long) are written, about 7 points each; at least
# IOMAP_RS_REPLAY_MIN_POINTS points (100) must be checked. make soak runs it
# on the debug configuration with 160 files, for at least 1000 points.
# Seeds: IOMAP_RS_SEED, printed.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 370

. "$(dirname "$0")/common.sh"

# One point: the replay device as logwrites_replay left it (see above). A
# process costs tens of milliseconds under TCG, and reading every file at
# every point would cost more than the rest of the point: the read-write
# points and the last one read every file and check every durable one; the
# others check the durable files of the last 8 marks replayed and 8 more in
# turn, and stat every name.
check_point() {
	local p=$LOGWRITES_POINT
	local at="point $LOGWRITES_POINT (log entry $LOGWRITES_ENTRY, $LOGWRITES_KIND)"
	local mnt=$SCRATCH_MNT dev=$REPLAY_DEV opts=ro lines name path sha n i
	fsck.xtfs -n -v "$dev" >"$RESULT_DIR/fsck.log" 2>&1 ||
		{
			echo "$at: fsck.xtfs -n:"
			grep -v '^journal:' "$RESULT_DIR/fsck.log" | head -n 8
			return 1
		}
	mapfile -t lines <"$RESULT_DIR/fsck.log"
	[[ ${lines[*]} == *"replayed in memory"* ]] && echo "$p" >>"$RESULT_DIR/replayed"
	if ((p % RW_EVERY == 0)) || [ "$LOGWRITES_KIND" = end ]; then
		dd if="$dev" of="$COPY_DEV" bs=1M oflag=direct status=none || return 1
		dev=$COPY_DEV opts=rw
	fi
	mount -t xtfs -o "$opts" "$dev" "$mnt" 2>"$RESULT_DIR/mount.log" ||
		{ echo "$at: mount -o $opts failed: $(<"$RESULT_DIR/mount.log")"; return 1; }
	# The durable files whose marks were replayed, in the marks' order, and
	# which of them to check.
	local -A path_of=() sha_of=() got=()
	local -a names=() paths=() shas=() check=()
	while read -r name path sha; do path_of[$name]=$path sha_of[$name]=$sha; done <"$DURABLE"
	while read -r name; do
		[ -n "${path_of[$name]:-}" ] || continue
		names+=("$name") paths+=("${path_of[$name]}") shas+=("${sha_of[$name]}")
	done <"$MARKS"
	n=${#paths[@]}
	if [ "$opts" = rw ]; then
		check=("${!paths[@]}")
	elif ((n > 0)); then
		for ((i = 0; i < 8 && i < n; i++)); do
			check+=($((n - 1 - i)) $(((p * 8 + i) % n)))
		done
	fi
	local ok=1 files=()
	for i in "${check[@]}"; do files+=("$mnt/${paths[i]}"); done
	if [ "$opts" = rw ]; then
		# Every file read whole.
		find "$mnt" -type f -exec sha256sum {} + \
			>"$RESULT_DIR/sha.log" 2>"$RESULT_DIR/read.log" ||
			{ echo "$at: reading the tree: $(head -n 3 "$RESULT_DIR/read.log")"; ok=0; }
	else
		find "$mnt" -printf '%s\n' >/dev/null 2>"$RESULT_DIR/read.log" ||
			{ echo "$at: walking the tree: $(head -n 3 "$RESULT_DIR/read.log")"; ok=0; }
		if ((${#files[@]})); then
			sha256sum "${files[@]}" >"$RESULT_DIR/sha.log" 2>"$RESULT_DIR/read.log" ||
				true
		else
			: >"$RESULT_DIR/sha.log"
		fi
	fi
	while read -r sha path; do got[${path#"$mnt"/}]=$sha; done <"$RESULT_DIR/sha.log"
	local checked=0
	for i in "${check[@]}"; do
		path=${paths[i]}
		[ "${got[$path]:-missing}" = "${shas[i]}" ] ||
			{
				echo "$at: $path, fsynced before mark ${names[i]}," \
					"is ${got[$path]:-missing}, not ${shas[i]}" \
					"$(head -n 2 "$RESULT_DIR/read.log")"
				ok=0
			}
		checked=$((checked + 1))
	done
	if [ "$opts" = rw ] && [ "$ok" = 1 ]; then
		{
			mkdir -p "$mnt/after" && echo "$p" >"$mnt/after/$p" &&
				rm -rf "$mnt/chaos" && sync
		} 2>"$RESULT_DIR/rw.log" ||
			{
				echo "$at: changing the replayed filesystem:" \
					"$(head -n 3 "$RESULT_DIR/rw.log")"
				ok=0
			}
	fi
	umount_settled "$mnt" || { echo "$at: umount failed"; return 1; }
	[ "$ok" = 1 ] || return 1
	echo "$checked" >>"$RESULT_DIR/verified"
	[ "$opts" = ro ] || echo "$n $checked" >"$RESULT_DIR/verified-all"
	if [ "$opts" = rw ]; then
		fsck.xtfs -n "$dev" >"$RESULT_DIR/fsck.log" 2>&1 ||
			{
				echo "$at: after a read-write mount, fsck.xtfs -n:"
				head -n 8 "$RESULT_DIR/fsck.log"
				return 1
			}
	fi
}

# logwrites_replay runs the test again for each point.
if [ "${1:-}" = --check-point ]; then
	check_point
	exit
fi

require_xtfs

command -v dmsetup >/dev/null || fail "no dmsetup"
modprobe -q dm-log-writes 2>/dev/null || true
grep -qw log-writes <(dmsetup targets) || fail "no dm-log-writes target (CONFIG_DM_LOG_WRITES)"
export DM_DISABLE_UDEV=1
lane=${SCRATCH_DEV##*/}
seed=${IOMAP_RS_SEED:-$RANDOM}
files=${IOMAP_RS_REPLAY_FILES:-20}
# The points the run must reach (make soak asks for 1000).
min_points=${IOMAP_RS_REPLAY_MIN_POINTS:-100}
RW_EVERY=8
# 32 MiB for every 40 files, so that the workload does not fill it.
mib=$((((files + 39) / 40) * 32))
region=$((mib * 2048))

# Three regions of the scratch disk: the device written under the log, the
# one the log is replayed onto and the read-write mounts' copy.
names=()
linear() {
	local name=xtfs-lw-$1-$lane
	dmsetup remove "$name" 2>/dev/null || true
	dm create "$name" --table "0 $region linear $SCRATCH_DEV $(($2 * region))"
	[ -b "/dev/mapper/$name" ] || dm mknodes "$name"
	dd if=/dev/zero of="/dev/mapper/$name" bs=1M count=$mib oflag=direct status=none
	names+=("$name")
}
LW=xtfs-lw-$lane
cleanup() {
	is_mounted "$SCRATCH_MNT" && umount "$SCRATCH_MNT"
	dmsetup remove "$LW" 2>/dev/null || true
	for n in "${names[@]}"; do dmsetup remove "$n" 2>/dev/null || true; done
}
trap cleanup EXIT
dmsetup remove "$LW" 2>/dev/null || true
linear data 0
linear replay 1
linear copy 2
# The log on the test disk: a fresh super block says the log is empty.
dd if=/dev/zero of="$TEST_DEV" bs=1M count=1 oflag=direct status=none
dm create "$LW" --table "0 $region log-writes /dev/mapper/xtfs-lw-data-$lane $TEST_DEV"
[ -b "/dev/mapper/$LW" ] || dm mknodes "$LW"
dev=/dev/mapper/$LW

mkfs.xtfs -q -b 4096 -s ${mib}m "$dev" || fail "mkfs.xtfs $dev failed"
dm message "$LW" 0 mark mkfs
mount_xtfs "$dev"

# The workload: ROOT, SEED, FILES, the log-writes device's name, the list of
# durable files to write ("MARK PATH SHA256" per line).
WORKLOAD=$(cat <<'PY'
import hashlib, mmap, os, random, subprocess, sys

root, seed, files, lw, durable_path = (
    sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])


def mark(name):
    subprocess.run(["dmsetup", "message", lw, "0", "mark", name], check=True)


def mmap_write(rng, fd, size):
    """Random bytes at a random place of the first size bytes, through a mapping."""
    with mmap.mmap(fd, size) as m:
        at = rng.randrange(size)
        n = min(size - at, rng.randrange(1, 16 << 10))
        m[at:at + n] = rng.randbytes(n)


def spawn(what, fn, *args):
    """fn(*args) in a child process; its pid."""
    pid = os.fork()
    if pid == 0:
        try:
            fn(*args)
            os._exit(0)
        except BaseException as e:
            print("%s: %r" % (what, e), file=sys.stderr)
            os._exit(1)
    return pid


def writer(w):
    rng = random.Random(seed * 10 + w)
    out = open(durable_path + ".%d" % w, "w", buffering=1)
    d = os.path.join(root, "dur")
    for k in range(files // 2):
        name = "w%d-%d" % (w, k)
        final = os.path.join(d, name)
        via_rename = rng.random() < 0.4
        path = final + ".tmp" if via_rename else final
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        for _ in range(rng.randrange(1, 4)):
            os.pwrite(fd, rng.randbytes(rng.randrange(1, 96 << 10)), rng.randrange(0, 128 << 10))
        if rng.random() < 0.3:
            os.posix_fallocate(fd, rng.randrange(0, 128 << 10), rng.randrange(1, 64 << 10))
        if rng.random() < 0.2:
            os.ftruncate(fd, rng.randrange(0, 192 << 10))
        size = os.fstat(fd).st_size
        if size and rng.random() < 0.3:
            mmap_write(rng, fd, size)
        os.fsync(fd)
        data = os.pread(fd, size, 0)
        os.close(fd)
        if via_rename:
            os.rename(path, final)
            dfd = os.open(d, os.O_RDONLY)
            os.fsync(dfd)
            os.close(dfd)
        mark(name)
        out.write("%s dur/%s %s\n" % (name, name, hashlib.sha256(data).hexdigest()))
    out.close()


def chaos(stop):
    rng = random.Random(seed * 10 + 9)
    top = os.path.join(root, "chaos")
    # Bounded, so that a fast machine does not make more points than a slow one.
    for _ in range(files * 10):
        if os.path.exists(stop):
            break
        tree = []
        for dp, dn, fn in os.walk(top):
            tree += [os.path.join(dp, n) for n in fn]
        dirs = [top] + [os.path.join(dp, n) for dp, dn, fn in os.walk(top) for n in dn]
        f = rng.choice(tree) if tree else None
        new = os.path.join(rng.choice(dirs), "f%d" % rng.randrange(30))
        op = rng.choice(["write", "write", "create", "truncate", "prealloc", "mmap",
                         "rename", "rename", "link", "unlink", "unlink", "mkdir",
                         "rmdir", "fsync", "sync"])
        try:
            if op in ("write", "create") or f is None:
                p = f if op == "write" and f else new
                fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
                os.pwrite(fd, rng.randbytes(rng.randrange(1, 48 << 10)),
                          rng.randrange(0, 192 << 10))
                os.close(fd)
            elif op == "truncate":
                os.truncate(f, rng.randrange(0, 200 << 10))
            elif op == "prealloc":
                fd = os.open(f, os.O_WRONLY)
                os.posix_fallocate(fd, rng.randrange(0, 192 << 10), rng.randrange(1, 96 << 10))
                os.close(fd)
            elif op == "mmap":
                fd = os.open(f, os.O_RDWR)
                size = os.fstat(fd).st_size
                if size:
                    mmap_write(rng, fd, size)
                os.close(fd)
            elif op == "rename":
                src = f if rng.random() < 0.85 or len(dirs) < 2 else rng.choice(dirs[1:])
                dst = new if rng.random() < 0.5 else rng.choice(tree)
                os.rename(src, dst)
            elif op == "link":
                os.link(f, new)
            elif op == "unlink":
                os.unlink(f)
            elif op == "mkdir":
                os.mkdir(os.path.join(rng.choice(dirs), "d%d" % rng.randrange(6)))
            elif op == "rmdir" and len(dirs) > 1:
                os.rmdir(rng.choice(dirs[1:]))
            elif op == "fsync":
                fd = os.open(f, os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)
            elif op == "sync":
                os.sync()
        except OSError:
            pass


os.makedirs(os.path.join(root, "dur"))
os.makedirs(os.path.join(root, "chaos"))
stop = durable_path + ".stop"
pids = [spawn("writer %d" % w, writer, w) for w in range(2)]
pid = spawn("chaos", chaos, stop)
bad = 0
for p in pids:
    bad |= os.waitpid(p, 0)[1]
open(stop, "w").close()
bad |= os.waitpid(pid, 0)[1]
sys.exit(1 if bad else 0)
PY
)

durable=$RESULT_DIR/durable
rm -f "$durable" "$durable".*
python3 -c "$WORKLOAD" "$SCRATCH_MNT" "$seed" "$files" "$LW" "$durable" \
	2>"$RESULT_DIR/workload.err" ||
	fail "the workload failed (seed $seed): $(tail -n 5 "$RESULT_DIR/workload.err")"
cat "$durable".* >"$durable"
umount "$SCRATCH_MNT" || fail "umount failed"
dm message "$LW" 0 mark unmounted
dm remove "$LW"

export REPLAY_DEV=/dev/mapper/xtfs-lw-replay-$lane COPY_DEV=/dev/mapper/xtfs-lw-copy-$lane
export MARKS=$RESULT_DIR/marks DURABLE=$durable RESULT_DIR SCRATCH_MNT RW_EVERY
rm -f "$RESULT_DIR/replayed" "$RESULT_DIR/verified" "$RESULT_DIR/verified-all"
if ! out=$(logwrites_replay -c "$(realpath "$0") --check-point" -m "$MARKS" -s mkfs -b "$seed" \
		"$TEST_DEV" "$REPLAY_DEV" 2>&1); then
	# For the post-mortem: the log, and the device as the failed point had it.
	dd if="$TEST_DEV" of="$RESULT_DIR/log.img" bs=1M count=1024 conv=sparse status=none
	dd if="$REPLAY_DEV" of="$RESULT_DIR/replay.img" bs=1M conv=sparse status=none
	fail "seed $seed: $(echo "$out" | tail -n 12) (log.img and replay.img kept)"
fi
diagnose "seed $seed: $(echo "$out" | tail -n 1)"
points=$(echo "$out" | sed -n 's/.* \([0-9]*\) points checked.*/\1/p')
replayed=$(wc -l <"$RESULT_DIR/replayed" 2>/dev/null || echo 0)
verified=$(awk '{ n += $1 } END { print n + 0 }' "$RESULT_DIR/verified")
diagnose "$replayed points had a committed transaction in the log to replay;" \
	"$verified checks of fsynced files' content"
# The replay's end is the unmounted filesystem: every file there.
# The end, a read-write point, had every durable file, and checked each.
read -r n checked <"$RESULT_DIR/verified-all"
expect_eq "durable files at the end" "$(wc -l <"$durable")" "$n"
expect_eq "durable files checked at the end" "$n" "$checked"
[ "$points" -ge "$min_points" ] || fail "only $points points checked, $min_points wanted"
[ "$replayed" -gt 0 ] || fail "no point had a committed transaction to replay"
