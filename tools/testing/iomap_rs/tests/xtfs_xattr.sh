#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extended attributes on xtfs (user., trusted., security.), with 1 KiB and
# 4 KiB blocks:
# - The errors of getxattr(2), setxattr(2), listxattr(2) and removexattr(2):
#   EEXIST for XATTR_CREATE of an existing one, ENODATA for XATTR_REPLACE or
#   removal of a missing one, ERANGE for a buffer too small (value and list)
#   and a name over 255 bytes, ENOSPC for a value larger than a block holds
#   (as ext4; the largest that fits is stored), E2BIG past 64 KiB (the VFS),
#   EPERM for user. on a symlink or a FIFO. An empty value and values with
#   NUL bytes are kept.
# - Where they go: the inode holds 228 bytes of entries and one block the
#   rest, so 100-byte values fit 2 + (block - 32) / 108 times and the next
#   fails with ENOSPC; removing one makes room again. A set or removal
#   changes ctime, not mtime.
# - What was set is what getxattr and listxattr give, cached, after
#   dropping the caches and after a remount; trusted. names are listed only
#   to CAP_SYS_ADMIN; an extended attribute block is freed when nothing needs
#   it, when its file is deleted, and when a file deleted while open is
#   closed (free space back, fsck clean).
# - Crash: after a shutdown that writes nothing (FS_IOC_SHUTDOWN, 2), what
#   was fsynced is there and fsck.xtfs -n is clean.
# - mkfs.xtfs -d copies them from a tmpfs tree.
# - A corrupt extended attribute block fails the reads with EUCLEAN (no
#   oops), fsck.xtfs -n reports it, fsck.xtfs -y drops it, and the two in
#   the inode stay with their values.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 430

. "$(dirname "$0")/common.sh"
require_xtfs

m=$SCRATCH_MNT
py=$RESULT_DIR/xattr.py
cat >"$py" <<'PY'
import ctypes, errno, json, os, stat, sys, time

libc = ctypes.CDLL(None, use_errno=True)
libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.listxattr.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.getxattr.restype = libc.listxattr.restype = ctypes.c_ssize_t


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def err(what, want, f, *args, **kw):
    try:
        f(*args, **kw)
    except OSError as e:
        if e.errno != want:
            got = errno.errorcode.get(e.errno)
            fail("%s: expected %s, got %s" % (what, errno.errorcode[want], got))
        return
    fail("%s: expected %s, it worked" % (what, errno.errorcode[want]))


def raw_errno(what, want, n):
    e = ctypes.get_errno()
    if n != -1 or e != want:
        got = errno.errorcode.get(e)
        fail("%s: expected %s, got %d (%s)" % (what, errno.errorcode[want], n, got))


def all_of(p):
    return {n: os.getxattr(p, n, follow_symlinks=False).hex()
            for n in os.listxattr(p, follow_symlinks=False)}


def edge(d, bs):
    f = os.path.join(d, "edge")
    open(f, "w").close()
    os.setxattr(f, "user.a", b"1", os.XATTR_CREATE)
    err("XATTR_CREATE of an existing attribute", errno.EEXIST,
        os.setxattr, f, "user.a", b"2", os.XATTR_CREATE)
    err("XATTR_REPLACE of a missing attribute", errno.ENODATA,
        os.setxattr, f, "user.b", b"2", os.XATTR_REPLACE)
    err("removal of a missing attribute", errno.ENODATA, os.removexattr, f, "user.b")
    err("getxattr of a missing attribute", errno.ENODATA, os.getxattr, f, "user.b")
    os.setxattr(f, "user.a", b"22", os.XATTR_REPLACE)
    buf = ctypes.create_string_buffer(64)
    raw_errno("getxattr into a buffer too small", errno.ERANGE,
              libc.getxattr(f.encode(), b"user.a", buf, 1))
    n = libc.getxattr(f.encode(), b"user.a", None, 0)
    if n != 2:
        fail("getxattr of the size: %d, expected 2" % n)
    raw_errno("listxattr into a buffer too small", errno.ERANGE, libc.listxattr(f.encode(), buf, 3))
    n = libc.listxattr(f.encode(), None, 0)
    if n != len(b"user.a\0"):
        fail("listxattr of the size: %d" % n)
    os.setxattr(f, "user.empty", b"")
    os.setxattr(f, "user.nul", b"\0a\0b\0")
    if os.getxattr(f, "user.empty") != b"" or os.getxattr(f, "user.nul") != b"\0a\0b\0":
        fail("an empty value or one with NUL bytes changed")
    long_name = "user." + "n" * 250
    os.setxattr(f, long_name, b"v")
    err("a name of 256 bytes", errno.ERANGE, os.setxattr, f, long_name + "n", b"v")
    if os.getxattr(f, long_name) != b"v":
        fail("the longest name's value changed")
    os.removexattr(f, long_name)
    # The largest value a block holds with its name, and one byte more.
    big = bs - 32 - 4 - len("big")
    os.setxattr(f, "user.big", b"b" * big)
    err("a value larger than a block holds", errno.ENOSPC,
        os.setxattr, f, "user.big2", b"b" * (big + 1))
    err("a value over 64 KiB", errno.E2BIG, os.setxattr, f, "user.big3", b"b" * 65537)
    if os.getxattr(f, "user.big") != b"b" * big:
        fail("the largest value changed")
    os.unlink(f)
    # user. only on regular files and directories (the VFS's rule); trusted. anywhere.
    os.symlink("target", os.path.join(d, "link"))
    os.mkfifo(os.path.join(d, "fifo"))
    for name in ("link", "fifo"):
        p = os.path.join(d, name)
        err("user. on a " + name, errno.EPERM,
            os.setxattr, p, "user.x", b"1", follow_symlinks=False)
        os.setxattr(p, "trusted.x", b"t-" + name.encode(), follow_symlinks=False)
    # Where they go: 100-byte values, 108 bytes with their 4-byte names.
    f = os.path.join(d, "full")
    open(f, "w").close()
    st = os.stat(f)
    time.sleep(0.05)
    want = 2 + (bs - 32) // 108
    i = 0
    while True:
        try:
            os.setxattr(f, "user.%03d" % i, bytes([i]) * 100)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                fail("filling: %s" % e)
            break
        i += 1
    if i != want:
        fail("%d 100-byte values fit, expected %d" % (i, want))
    st2 = os.stat(f)
    if st2.st_ctime_ns == st.st_ctime_ns or st2.st_mtime_ns != st.st_mtime_ns:
        fail("setxattr: ctime unchanged or mtime changed")
    time.sleep(0.05)
    os.removexattr(f, "user.001")
    st3 = os.stat(f)
    if st3.st_ctime_ns == st2.st_ctime_ns or st3.st_mtime_ns != st.st_mtime_ns:
        fail("removexattr: ctime unchanged or mtime changed")
    os.setxattr(f, "user.again", b"a" * 100)
    err("one more when full", errno.ENOSPC, os.setxattr, f, "user.more", b"m" * 100)
    print("errors, limits and placement as expected: %d values of 100 bytes fit" % want)


def fill(d, out):
    os.mkdir(os.path.join(d, "dir"))
    for name in ("small", "blocky", "removed"):
        open(os.path.join(d, name), "w").close()
    os.setxattr(os.path.join(d, "small"), "user.k", b"v")
    os.setxattr(os.path.join(d, "small"), "security.label", b"system_u:object_r:etc_t:s0\0")
    os.setxattr(os.path.join(d, "small"), "trusted.overlay.opaque", b"y")
    for i in range(8):
        os.setxattr(os.path.join(d, "blocky"), "user.value%d" % i, os.urandom(90 + i))
    os.setxattr(os.path.join(d, "dir"), "user.d", b"dir value")
    os.setxattr(os.path.join(d, "dir"), "trusted.overlay.redirect", b"/a/b")
    # Moves between the inode and the block: grows, shrinks, goes.
    r = os.path.join(d, "removed")
    os.setxattr(r, "user.first", b"1" * 200)
    os.setxattr(r, "user.second", b"2" * 200)
    os.setxattr(r, "user.first", b"1")
    os.removexattr(r, "user.second")
    os.setxattr(r, "user.third", b"3" * 150)
    out_all = {}
    for name in sorted(os.listdir(d)):
        out_all[name] = all_of(os.path.join(d, name))
    json.dump(out_all, open(out, "w"), sort_keys=True, indent=1)


def verify(d, ref, what):
    want = json.load(open(ref))
    for name, attrs in sorted(want.items()):
        got = all_of(os.path.join(d, name))
        if got != attrs:
            fail("%s: %s: got %s, expected %s" % (what, name, sorted(got), sorted(attrs)))
    print("%s: %d files' extended attributes as set" % (what, len(want)))


def names(p):
    print(" ".join(sorted(os.listxattr(p))))


def as_nobody(p):
    fd = os.open(p, os.O_RDONLY)
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
    print(" ".join(sorted(os.listxattr(fd))))
    try:
        os.getxattr(fd, "trusted.overlay.opaque")
        print("read trusted.")
    except OSError as e:
        print(errno.errorcode[e.errno])


def errno_of(p, name):
    try:
        os.getxattr(p, name)
        print("ok")
    except OSError as e:
        print(errno.errorcode[e.errno])


cmd = sys.argv[1]
if cmd == "edge":
    edge(sys.argv[2], int(sys.argv[3]))
elif cmd == "fill":
    fill(sys.argv[2], sys.argv[3])
elif cmd == "verify":
    verify(sys.argv[2], sys.argv[3], sys.argv[4])
elif cmd == "names":
    names(sys.argv[2])
elif cmd == "set":
    # FILE NAME VALUE [NAME VALUE...], in that order.
    for i in range(3, len(sys.argv), 2):
        os.setxattr(sys.argv[2], sys.argv[i], sys.argv[i + 1].encode())
elif cmd == "remove":
    for name in sys.argv[3:]:
        os.removexattr(sys.argv[2], name)
elif cmd == "kept":
    want = json.load(open(sys.argv[3]))[os.path.basename(sys.argv[2])]
    got = all_of(sys.argv[2])
    if len(got) != int(sys.argv[4]) or any(want.get(n) != v for n, v in got.items()):
        fail("kept: %s of %s" % (sorted(got), sorted(want)))
elif cmd == "nobody":
    as_nobody(sys.argv[2])
elif cmd == "errno":
    errno_of(sys.argv[2], sys.argv[3])
PY

# xattr CMD ARG...: one step of the script above (one process: starting
# python3 is most of this test's time on the debug configuration).
xattr() {
	python3 "$py" "$@" || fail "xattr $1 failed"
}

# big_values CHAR: the arguments of xattr set for user.big1 to user.big3,
# 150 bytes of CHAR each: together too large for the inode.
big_values() {
	local i v
	v=$(printf "$1%.0s" {1..150})
	for i in 1 2 3; do printf '%s\n%s\n' "user.big$i" "$v"; done
}

# xattr_block INO: the extended attribute block of inode INO of the
# unmounted scratch filesystem (0 if none), from the superblock's layout.
xattr_block() {
	python3 - "$SCRATCH_DEV" "$1" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as dev:
    sb = dev.read(512)
    bs = 1 << struct.unpack_from("<I", sb, 8)[0]
    itable = struct.unpack_from("<Q", sb, 48)[0]
    dev.seek(itable * bs + (int(sys.argv[2]) - 1) * 512)
    print(struct.unpack_from("<Q", dev.read(512), 272)[0], bs)
PY
}

for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -s 64m
	xattr edge "$m" "$bs"
	xattr fill "$m" "$RESULT_DIR/want.json"
	xattr verify "$m" "$RESULT_DIR/want.json" "$bs-byte blocks, cached"
	drop_caches
	xattr verify "$m" "$RESULT_DIR/want.json" "$bs-byte blocks, caches dropped"
	check_xtfs "$SCRATCH_DEV"
	mount_xtfs "$SCRATCH_DEV"
	xattr verify "$m" "$RESULT_DIR/want.json" "$bs-byte blocks, remounted"

	# trusted. only for CAP_SYS_ADMIN.
	got=$(python3 "$py" nobody "$m/small") || fail "listxattr as nobody failed"
	expect_eq "names nobody lists, and a trusted. read" "security.label user.k
ENODATA" "$got"
	expect_eq "names root lists" "security.label trusted.overlay.opaque user.k" \
		"$(python3 "$py" names "$m/small")"

	# A block freed when nothing needs it, and with its file.
	xtfs_dir_with_room "$m/free" 4
	: >"$m/free/f"
	sync
	before=$(xtfs_statfs_free)
	mapfile -t args < <(big_values x)
	xattr set "$m/free/f" "${args[@]}"
	sync
	expect_eq "free blocks with an extended attribute block" $((before - 1)) \
		"$(xtfs_statfs_free)"
	xattr remove "$m/free/f" user.big1 user.big2 user.big3
	sync
	expect_eq "free blocks once the block is not needed" "$before" "$(xtfs_statfs_free)"
	mapfile -t args < <(big_values y)
	xattr set "$m/free/f" "${args[@]}"
	rm "$m/free/f"
	sync
	expect_eq "free blocks once its file is deleted" "$before" "$(xtfs_statfs_free)"
	: >"$m/free/f"
	mapfile -t args < <(big_values z)
	xattr set "$m/free/f" "${args[@]}"
	exec 3<"$m/free/f"
	rm "$m/free/f"
	sync
	expect_eq "free blocks while a deleted file is open" $((before - 1)) "$(xtfs_statfs_free)"
	exec 3<&-
	sync
	expect_eq "free blocks once the deleted file is closed" "$before" "$(xtfs_statfs_free)"
	check_xtfs "$SCRATCH_DEV"
	mount_xtfs "$SCRATCH_DEV"
	echo "$bs-byte blocks: trusted. hidden from nobody; blocks freed"
done

# Crash: what fsync made durable survives a shutdown that writes nothing.
mkfs_scratch_xtfs -s 64m
: >"$m/f"
xattr set "$m/f" user.durable "fsynced $(head -c 300 /dev/zero | tr '\0' d)"
xfs_io -c fsync "$m/f" || fail "fsync failed"
xattr set "$m/f" user.maybe "not fsynced"
python3 -c 'import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 2))' "$m" || fail "shutdown failed"
check_xtfs "$SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"
got=$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.durable").decode()[:7])' \
	"$m/f") || fail "the fsynced extended attribute is gone after the shutdown"
expect_eq "fsynced value after the shutdown" "fsynced" "$got"
echo "crash: the fsynced extended attribute survived a shutdown without a flush"

# mkfs.xtfs -d copies them.
src=$(mktemp -d)
mount -t tmpfs none "$src" || fail "cannot mount a tmpfs"
xattr fill "$src" "$RESULT_DIR/src.json"
unmount_scratch
mkfs.xtfs -q -d "$src" "$SCRATCH_DEV" || fail "mkfs.xtfs -d failed"
check_xtfs "$SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"
xattr verify "$m" "$RESULT_DIR/src.json" "mkfs.xtfs -d from tmpfs"
umount "$src" && rmdir "$src"

# A corrupt block: EUCLEAN, reported, dropped by the repair.
ino=$(stat -c %i "$m/blocky")
unmount_scratch
read -r block bs < <(xattr_block "$ino")
[ "$block" -gt 0 ] || fail "blocky has no extended attribute block"
printf '\xff' | dd of="$SCRATCH_DEV" bs=1 seek=$((block * bs + 100)) conv=notrunc status=none ||
	fail "cannot damage the block"
mount_xtfs "$SCRATCH_DEV"
expect_eq "getxattr with a corrupt block" "EUCLEAN" \
	"$(python3 "$py" errno "$m/blocky" user.value7)"
unmount_scratch
fsck.xtfs -n "$SCRATCH_DEV" >"$RESULT_DIR/fsck-bad.log" 2>&1 &&
	fail "fsck.xtfs -n found the corrupt block clean"
grep -q "extended attribute block $block: checksum mismatch" "$RESULT_DIR/fsck-bad.log" ||
	fail "fsck.xtfs -n did not report the block: $(cat "$RESULT_DIR/fsck-bad.log")"
rc=0
fsck.xtfs -y "$SCRATCH_DEV" >"$RESULT_DIR/fsck-repair.log" 2>&1 || rc=$?
expect_eq "fsck.xtfs -y exit status (repaired)" 1 "$rc"
check_xtfs "$SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"
# The two that fit in the inode stay, with their values.
xattr kept "$m/blocky" "$RESULT_DIR/src.json" 2
expect_eq "another file's after the repair" "security.label trusted.overlay.opaque user.k" \
	"$(python3 "$py" names "$m/small")"
check_xtfs "$SCRATCH_DEV"
echo "a corrupt block: EUCLEAN, reported and dropped by fsck.xtfs"
