#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inode flags on xtfs, set with chattr(1) (FS_IOC_SETFLAGS) and xfs_io's
# chattr (FS_IOC_FSSETXATTR), read with FS_IOC_GETFLAGS and lsattr(1):
# - immutable (+i): the file reads, and every change fails with EPERM (open
#   for writing, truncate, unlink, rename, link, chmod, utimes, setxattr), as
#   do a write and a truncation through a file opened before the flag was
#   set, and a write fault through its mapping gets SIGBUS; its other flags
#   change only with +i (as on ext4); a directory takes no new names;
# - append-only (+a): appending works, truncating, O_TRUNC, an open without
#   O_APPEND and unlink fail with EPERM;
# - no atime (+A): a read under strictatime leaves atime; nodump (+d) is
#   kept;
# - synchronous (+S): a write is durable when it returns, as with O_DSYNC:
#   what one write without fsync appended, buffered or O_DIRECT, and a
#   preallocation, are there after a shutdown that writes nothing (flags 2),
#   with the flag, before and after a remount; a write to a file without it
#   is lost (else a sync(2) elsewhere made everything durable, and the case
#   runs again); new files and directories take +S, +A and +d from their
#   directory, as on XFS and ext4;
# - +i and +a need CAP_LINUX_IMMUTABLE (EPERM for nobody, who may set +d on
#   a file of its own); flags xtfs does not store (+s, an XFS extent size
#   hint) fail with EOPNOTSUPP; setting a flag changes ctime;
# - flags stay after dropping the caches and after a remount, and are
#   enforced then; fsck.xtfs -n is clean.
# And the birth time (statx's stx_btime, stat -c %W): set when the file is
# made, unchanged by writes and chmod, kept across a remount.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 95

. "$(dirname "$0")/common.sh"
require_xtfs

m=$SCRATCH_MNT

# flags PATH: the FS_IOC_GETFLAGS bits of PATH, in hex.
flags() {
	python3 - "$1" <<'PY'
import array, fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
buf = array.array("l", [0])
fcntl.ioctl(fd, 0x80086601, buf)
print(hex(buf[0]))
PY
}

# refused WHAT COMMAND...: COMMAND must fail with EPERM.
refused() {
	local what=$1 out
	shift
	out=$("$@" 2>&1) && fail "$what: worked on a file that forbids it"
	case $out in
	*"Operation not permitted"*) ;;
	*) fail "$what: expected EPERM, got '$out'" ;;
	esac
}

# setflags_as_nobody PATH FLAGS: FS_IOC_SETFLAGS without capabilities;
# prints "ok" or the error.
setflags_as_nobody() {
	python3 - "$1" "$2" <<'PY'
import array, fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.setgroups([])
os.setresgid(65534, 65534, 65534)
os.setresuid(65534, 65534, 65534)
try:
    fcntl.ioctl(fd, 0x40086602, array.array("l", [int(sys.argv[2], 16)]))
    print("ok")
except OSError as e:
    print(os.strerror(e.errno))
PY
}

# enforced WHEN: what the flags set below forbid is refused, what they allow
# works.
enforced() {
	local w=$1
	expect_eq "$w: flags of i" 0x10 "$(flags "$m/i")"
	expect_eq "$w: flags of a" 0x20 "$(flags "$m/a")"
	expect_eq "$w: flags of d" 0x10 "$(flags "$m/d")"
	expect_eq "$w: flags of nodump" 0xc0 "$(flags "$m/nodump")"
	lsattr "$m/i" | grep -q '^[^ ]*i[^ ]* ' || fail "$w: lsattr does not show i"
	lsattr "$m/a" | grep -q '^[^ ]*a[^ ]* ' || fail "$w: lsattr does not show a"
	expect_eq "$w: reading an immutable file" "immutable" "$(cat "$m/i")"
	refused "$w: writing an immutable file" sh -c "echo more >>'$m/i'"
	refused "$w: truncating an immutable file" truncate -s 0 "$m/i"
	refused "$w: unlinking an immutable file" rm -f "$m/i"
	refused "$w: renaming an immutable file" mv "$m/i" "$m/i2"
	refused "$w: linking an immutable file" ln "$m/i" "$m/i3"
	refused "$w: chmod of an immutable file" chmod 600 "$m/i"
	refused "$w: utimes of an immutable file" touch -d @0 "$m/i"
	refused "$w: setxattr of an immutable file" \
		python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.x", b"1")' "$m/i"
	refused "$w: a new name in an immutable directory" touch "$m/d/new"
	refused "$w: another flag of an immutable file" chattr +d "$m/i"
	echo appended >>"$m/a" || fail "$w: appending to an append-only file failed"
	refused "$w: O_TRUNC of an append-only file" sh -c ": >'$m/a'"
	refused "$w: truncating an append-only file" truncate -s 0 "$m/a"
	refused "$w: writing an append-only file without O_APPEND" \
		python3 -c 'import os, sys; os.open(sys.argv[1], os.O_WRONLY)' "$m/a"
	refused "$w: unlinking an append-only file" rm -f "$m/a"
	[ -e "$m/i" ] && [ -e "$m/a" ] || fail "$w: a protected file went"
}

mkfs_scratch_xtfs -s 64m

# The birth time: between the seconds around the creation, then fixed.
t0=$(date +%s)
echo born >"$m/born"
t1=$(date +%s)
btime=$(stat -c %W "$m/born")
# (The coarse clock the VFS stamps with may lag date's by a tick.)
[ "$btime" -ge $((t0 - 1)) ] && [ "$btime" -le "$t1" ] ||
	fail "birth time $btime not within [$t0 - 1, $t1]"
sleep 1.1
echo more >>"$m/born"
chmod 600 "$m/born"
expect_eq "birth time after a write and chmod" "$btime" "$(stat -c %W "$m/born")"

echo immutable >"$m/i"
echo append >"$m/a"
: >"$m/nodump"
mkdir "$m/d"
ctime=$(stat -c %Z.%z "$m/i")
sleep 0.05
chattr +i "$m/i" || fail "chattr +i failed"
[ "$(stat -c %Z.%z "$m/i")" != "$ctime" ] || fail "chattr +i did not change ctime"
chattr +a "$m/a" || fail "chattr +a failed"
xfs_io -c "chattr +i" "$m/d" || fail "xfs_io chattr +i (FS_IOC_FSSETXATTR) failed"
chattr +d +A "$m/nodump" || fail "chattr +d +A failed"
out=$(chattr +s "$m/nodump" 2>&1) && fail "chattr +s worked"
case $out in *"Operation not supported"*) ;; *) fail "chattr +s: $out" ;; esac
# An XFS extent size hint (FS_IOC_FSSETXATTR, which xfs_io sets on XFS only).
out=$(python3 - "$m/nodump" <<'PY'
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fsx = bytearray(28)
fcntl.ioctl(fd, 0x801C581F, fsx)
xflags, _, nextents, projid, cow = struct.unpack_from("<5I", fsx)
struct.pack_into("<5I", fsx, 0, xflags | 0x800, 65536, nextents, projid, cow)
try:
    fcntl.ioctl(fd, 0x401C5820, bytes(fsx))
    print("set")
except OSError as e:
    print(os.strerror(e.errno))
PY
)
expect_eq "an extent size hint" "Operation not supported" "$out"
expect_eq "flags after refused changes" 0xc0 "$(flags "$m/nodump")"

# A file opened for writing (and mapped) before it became immutable or
# append-only: writes and truncation through it fail with EPERM, a write
# fault with SIGBUS; the data stays as it was.
head -c 8192 /dev/urandom >"$m/pre"
cp "$m/pre" "$RESULT_DIR/pre"
got=$(python3 - "$m/pre" <<'PY'
import mmap, os, signal, subprocess, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR)
m = mmap.mmap(fd, 8192)
def outcome(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return os.strerror(e.errno)
subprocess.run(["chattr", "+i", p], check=True)
out = [outcome(lambda: os.pwrite(fd, b"x", 0)), outcome(lambda: os.ftruncate(fd, 0))]
pid = os.fork()
if pid == 0:
    m[100] = 0x41
    os._exit(0)
_, status = os.waitpid(pid, 0)
out.append(signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else "no signal")
subprocess.run(["chattr", "-i", "+a", p], check=True)
out.append(outcome(lambda: os.ftruncate(fd, 0)))
subprocess.run(["chattr", "-a", p], check=True)
print(", ".join(out))
PY
) || fail "the writes through an earlier open failed to run"
what="a write, a truncation and a write fault through an earlier open of an immutable file,"
what+=" and a truncation of an append-only one"
expect_eq "$what" \
	"Operation not permitted, Operation not permitted, SIGBUS, Operation not permitted" "$got"
cmp "$m/pre" "$RESULT_DIR/pre" || fail "the file changed"

# Capabilities: nobody owns "mine".
: >"$m/mine"
chown 65534:65534 "$m/mine"
expect_eq "+d by the owner" ok "$(setflags_as_nobody "$m/mine" 40)"
expect_eq "+i by the owner without CAP_LINUX_IMMUTABLE" "Operation not permitted" \
	"$(setflags_as_nobody "$m/mine" 50)"
expect_eq "+d on another's file" "Operation not permitted" \
	"$(setflags_as_nobody "$m/nodump" c0)"
expect_eq "flags of mine" 0x40 "$(flags "$m/mine")"

enforced "cached"

# No atime under strictatime.
unmount_scratch
mount -t xtfs -o strictatime "$SCRATCH_DEV" "$m" || fail "mount -o strictatime failed"
atime=$(stat -c %x "$m/nodump")
born_atime=$(stat -c %x "$m/born")
sleep 0.05
cat "$m/nodump" "$m/born" >/dev/null
expect_eq "atime of a +A file after a read" "$atime" "$(stat -c %x "$m/nodump")"
[ "$(stat -c %x "$m/born")" != "$born_atime" ] ||
	fail "strictatime: a read of a file without +A left its atime"

drop_caches
enforced "caches dropped"
check_xtfs "$SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"
enforced "remounted"
expect_eq "birth time after a remount" "$btime" "$(stat -c %W "$m/born")"

chattr -i "$m/i" "$m/d" || fail "chattr -i failed"
chattr -a "$m/a" || fail "chattr -a failed"
rm "$m/i" "$m/a" || fail "unlinking after the flags went failed"
touch "$m/d/new" || fail "a new name after -i failed"
check_xtfs "$SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"

# Synchronous writes. Flags a directory passes on: +S +A +d (0xc8).
mkdir "$m/s"
chattr +S +A +d "$m/s" || fail "chattr +S +A +d of a directory failed"
: >"$m/s/sync"
mkdir "$m/s/sub"
expect_eq "flags of a file made in a +S +A +d directory" 0xc8 "$(flags "$m/s/sync")"
expect_eq "flags of a directory made in it" 0xc8 "$(flags "$m/s/sub")"
lsattr "$m/s/sync" | grep -q '^[^ ]*S[^ ]* ' || fail "lsattr does not show S"
: >"$m/plain"
sync

# sync_writes_survive WHEN: a buffered and an O_DIRECT write appended to
# s/sync and a preallocation that extends it, none fsynced, survive a shutdown
# that writes nothing; the same buffered write to "plain" (no +S), made
# after, must be lost, or a sync(2) of the other lane came between and the
# case proves nothing: it runs again (three times at most).
sync_writes_survive() {
	local w=$1 try size
	for try in 1 2 3; do
		cp "$m/s/sync" "$RESULT_DIR/sync.want"
		head -c 12345 /dev/urandom >>"$RESULT_DIR/sync.want"
		tail -c 12345 "$RESULT_DIR/sync.want" >>"$m/s/sync" ||
			fail "$w: the write of the +S file failed"
		# O_DIRECT: block-aligned, at the next block boundary past the end.
		size=$((($(stat -c %s "$RESULT_DIR/sync.want") + 4095) / 4096 * 4096))
		xfs_io -d -c "pwrite -q -S 0x5a $size 8192" "$m/s/sync" ||
			fail "$w: the O_DIRECT write of the +S file failed"
		truncate -s "$size" "$RESULT_DIR/sync.want"
		head -c 8192 /dev/zero | tr '\0' '\132' >>"$RESULT_DIR/sync.want"
		# Preallocated past the end, which the size follows: zeroes. (Not with
		# fallocate(1), which fsyncs the file before it closes it.)
		python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.posix_fallocate(fd, int(sys.argv[2]), 65536)' "$m/s/sync" $((size + 8192)) ||
			fail "$w: fallocate of the +S file failed"
		truncate -s $((size + 8192 + 65536)) "$RESULT_DIR/sync.want"
		head -c 4096 /dev/urandom >>"$m/plain"
		size=$(stat -c %s "$m/plain")
		python3 -c 'import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 2))' "$m" || fail "$w: shutdown failed"
		check_xtfs "$SCRATCH_DEV"
		mount_xtfs "$SCRATCH_DEV"
		cmp "$m/s/sync" "$RESULT_DIR/sync.want" ||
			fail "$w: writes to a +S file did not survive a shutdown without a flush"
		expect_eq "$w: flags of the +S file after the shutdown" 0xc8 "$(flags "$m/s/sync")"
		[ "$(stat -c %s "$m/plain")" = "$size" ] || return 0
		echo "$w: try $try: the write without +S survived too (a sync(2) elsewhere): again"
	done
	fail "$w: in every try, a write without +S survived the shutdown too"
}
sync_writes_survive "cached"
# Now with the flag read from the disk.
sync_writes_survive "remounted"
check_xtfs "$SCRATCH_DEV"
echo "flags set, shown, enforced, inherited and kept; birth time kept; +S writes durable"
