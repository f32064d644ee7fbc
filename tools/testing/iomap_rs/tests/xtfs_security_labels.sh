#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# LSM labels of new inodes on xtfs (kernel::fs's Created::init_security,
# security_inode_init_security()), under Smack: iomap_rs.config builds Smack
# in, and this test's boot enables it (the line below); every other boot runs
# without an LSM that labels inodes.
# - A process labelled Alpha creates a file, a directory, a symlink, a FIFO,
#   a device node, an O_TMPFILE file named by linkat(), a whiteout (rename
#   with RENAME_WHITEOUT) and a file in a new directory: each is labelled
#   Alpha (security.SMACK64). A label of 255 bytes, which by its size cannot
#   be in the inode (228 bytes of entries), is stored in a block.
# - A directory labelled Beta and transmuting (SMACK64TRANSMUTE), with the
#   rule "Alpha Beta rwxat": what Alpha creates in it is labelled Beta, and a
#   new subdirectory also gets SMACK64TRANSMUTE (two attributes from one
#   call).
# - The labels are on disk, stored in the transaction that creates the
#   inode: the same after a remount (Smack then reads them from the inode;
#   without them it gives the filesystem's default label, _), fsck.xtfs -n
#   clean, and after a shutdown that writes nothing (FS_IOC_SHUTDOWN, 2)
#   for a file whose creation was fsynced.
#
# iomap_rs-test: boot lsm=smack

. "$(dirname "$0")/common.sh"
require_xtfs

[ -d /sys/kernel/security/lsm ] || [ -e /sys/kernel/security/lsm ] ||
	mount -t securityfs none /sys/kernel/security 2>/dev/null || true
lsms=$(cat /sys/kernel/security/lsm 2>/dev/null || echo none)
[[ ,$lsms, == *,smack,* ]] ||
	fail "Smack is not enabled: LSMs $lsms," \
		"kernel command line $(grep -o 'lsm=[^ ]*' /proc/cmdline || echo 'without lsm=')"
smackfs=
if [ ! -e /sys/fs/smackfs/load2 ]; then
	mount -t smackfs none /sys/fs/smackfs || fail "cannot mount smackfs"
	smackfs=mounted
fi
# The rule goes with the test, and smackfs if the test mounted it.
trap 'echo "Alpha Beta -" >/sys/fs/smackfs/load2
	[ -z "$smackfs" ] || umount /sys/fs/smackfs' EXIT

m=$SCRATCH_MNT
py=$RESULT_DIR/labels.py
cat >"$py" <<'PY'
import ctypes, os, stat, sys

libc = ctypes.CDLL(None, use_errno=True)
long_label = "L" * 255


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def label(path, name="SMACK64"):
    try:
        return os.getxattr(path, "security." + name, follow_symlinks=False).decode()
    except OSError as e:
        return "(%s)" % os.strerror(e.errno)


def as_label(lbl, f):
    """Runs f in a child process labelled lbl (as root, with CAP_MAC_ADMIN)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with open("/proc/self/attr/current", "w") as c:
                c.write(lbl)
            f()
            code = 0
        except BaseException as e:
            print("FAIL: as %s: %r" % (lbl[:20], e))
        sys.stdout.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit(1)


def make(m):
    os.close(os.open(m + "/f", os.O_CREAT | os.O_WRONLY, 0o644))
    os.mkdir(m + "/d")
    os.close(os.open(m + "/d/g", os.O_CREAT | os.O_WRONLY, 0o644))
    os.symlink("f", m + "/l")
    os.mkfifo(m + "/p")
    os.mknod(m + "/c", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    fd = os.open(m, os.O_TMPFILE | os.O_WRONLY, 0o600)
    os.write(fd, b"tmp")
    # linkat(AT_SYMLINK_FOLLOW) through /proc (os.link calls link(2), which
    # does not follow the magic link).
    if libc.linkat(-100, b"/proc/self/fd/%d" % fd, -100, (m + "/t").encode(), 0x400):
        raise OSError(ctypes.get_errno(), "linkat")
    os.close(fd)
    os.close(os.open(m + "/moved", os.O_CREAT | os.O_WRONLY, 0o644))
    # renameat2(RENAME_WHITEOUT): a whiteout (0:0) left at "moved".
    if libc.renameat2(-100, (m + "/moved").encode(), -100, (m + "/w").encode(), 4):
        raise OSError(ctypes.get_errno(), "renameat2 RENAME_WHITEOUT")
    os.close(os.open(m + "/tr/file", os.O_CREAT | os.O_WRONLY, 0o644))
    os.mkdir(m + "/tr/sub")


def make_long(m):
    os.close(os.open(m + "/long", os.O_CREAT | os.O_WRONLY, 0o644))


EXPECTED = [
    ("f", "SMACK64", "Alpha"),
    ("d", "SMACK64", "Alpha"),
    ("d/g", "SMACK64", "Alpha"),
    ("l", "SMACK64", "Alpha"),
    ("p", "SMACK64", "Alpha"),
    ("c", "SMACK64", "Alpha"),
    ("t", "SMACK64", "Alpha"),
    ("moved", "SMACK64", "Alpha"),
    ("w", "SMACK64", "Alpha"),
    ("long", "SMACK64", long_label),
    ("tr/file", "SMACK64", "Beta"),
    ("tr/sub", "SMACK64", "Beta"),
    ("tr/sub", "SMACK64TRANSMUTE", "TRUE"),
]


def check(m, when):
    st = os.lstat(m + "/moved")
    if not stat.S_ISCHR(st.st_mode) or st.st_rdev != 0:
        fail("%s: moved is not a whiteout (mode %o)" % (when, st.st_mode))
    bad = []
    for path, name, want in EXPECTED:
        got = label(m + "/" + path, name)
        if got != want:
            bad.append("%s %s: %s, expected %s" % (path, name, got[:40], want[:40]))
    if bad:
        fail("%s: wrong labels: %s" % (when, "; ".join(bad)))
    print("%s: %d labels as expected" % (when, len(EXPECTED)))


m, what = sys.argv[1], sys.argv[2]
if what == "make":
    os.mkdir(m + "/tr")
    os.setxattr(m + "/tr", "security.SMACK64", b"Beta")
    os.setxattr(m + "/tr", "security.SMACK64TRANSMUTE", b"TRUE")
    as_label("Alpha", lambda: make(m))
    as_label(long_label, lambda: make_long(m))
    check(m, sys.argv[3])
elif what == "check":
    check(m, sys.argv[3])
elif what == "crash":
    def durable():
        os.mkdir(m + "/crash")
        fd = os.open(m + "/crash/f", os.O_CREAT | os.O_WRONLY, 0o644)
        os.fsync(fd)
        os.close(fd)
        d = os.open(m + "/crash", os.O_RDONLY)
        os.fsync(d)
        os.close(d)
    as_label("Alpha", durable)
elif what == "crash-check":
    for p in ("crash", "crash/f"):
        if label(m + "/" + p) != "Alpha":
            fail("after the shutdown: %s is labelled %s, expected Alpha" % (p, label(m + "/" + p)))
    print("after a shutdown without a flush: the fsynced creations are labelled Alpha")
PY

# Rules: Alpha may transmute into Beta (and write there).
echo "Alpha Beta rwxat" >/sys/fs/smackfs/load2 || fail "cannot load a Smack rule"

for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -s 64m
	python3 "$py" "$m" make "$bs-byte blocks, just created" || exit 1
	drop_caches
	python3 "$py" "$m" check "$bs-byte blocks, caches dropped" || exit 1
	check_xtfs "$SCRATCH_DEV"
	mount_xtfs "$SCRATCH_DEV"
	python3 "$py" "$m" check "$bs-byte blocks, remounted" || exit 1
done

# Crash: a creation made durable by fsync keeps its label.
mkfs_scratch_xtfs -s 64m
python3 "$py" "$m" crash || exit 1
python3 -c 'import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 2))' "$m" || fail "shutdown failed"
check_xtfs "$SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"
python3 "$py" "$m" crash-check || exit 1
unmount_scratch
