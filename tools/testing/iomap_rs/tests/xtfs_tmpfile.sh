#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# O_TMPFILE on xtfs: an unnamed file has no links (st_nlink 0) and takes
# writes; linkat() through /proc/self/fd gives it a name with its data, which
# a remount keeps; one opened with O_EXCL cannot be named (ENOENT); one that
# is closed unnamed gives its space back. And the crash before the name: a
# file made with O_TMPFILE, written and fsynced, is on the orphan list on
# disk; the power goes (dm-flakey drop_writes) before it is closed, so its
# deletion is lost; fsck.xtfs -n finds the filesystem clean (an orphan is no
# problem), and the next mount deletes it: the free space is what it was
# before the file, and fsck.xtfs is clean again.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 55

. "$(dirname "$0")/common.sh"
require_xtfs

cleanup() {
	is_mounted "$SCRATCH_MNT" && umount "$SCRATCH_MNT"
	flakey_remove
}
trap cleanup EXIT
flakey_scratch "xtfs-tmpfile-${SCRATCH_DEV##*/}"
mkfs.xtfs -q -s 64m "$FLAKEY_DEV" || fail "mkfs.xtfs failed"
mount_xtfs "$FLAKEY_DEV"
m=$SCRATCH_MNT
ref_dir
xtfs_dir_with_room "$m/d" 8

# A tmpfile named by linkat(), and one with O_EXCL that cannot be.
out=$(python3 - "$m/d" "$REF_DIR/named" <<'PY'
import errno, os, sys
d, ref = sys.argv[1], sys.argv[2]
data = os.urandom(1 << 20)
fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o640)
os.write(fd, data)
print("unnamed: %d links, %d bytes" % (os.fstat(fd).st_nlink, os.fstat(fd).st_size))
# linkat(AT_SYMLINK_FOLLOW), which os.link uses only with a directory fd.
dfd = os.open(d, os.O_RDONLY)
os.link("/proc/self/fd/%d" % fd, "named", dst_dir_fd=dfd)
print("named: %d links" % os.fstat(fd).st_nlink)
os.close(fd)
with open(ref, "wb") as f:
    f.write(data)
fd = os.open(d, os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600)
try:
    os.link("/proc/self/fd/%d" % fd, "excl", dst_dir_fd=dfd)
    print("O_EXCL: named")
except OSError as e:
    print("O_EXCL: " + errno.errorcode[e.errno])
os.close(fd)
PY
) || fail "O_TMPFILE: $out"
expect_eq "O_TMPFILE, linkat() and O_EXCL" "unnamed: 0 links, 1048576 bytes
named: 1 links
O_EXCL: ENOENT" "$out"
expect_eq "mode of the named tmpfile" 640 "$(stat -c %a "$m/d/named")"
cmp "$m/d/named" "$REF_DIR/named" || fail "the named tmpfile has not its data"
[ ! -e "$m/d/excl" ] || fail "the O_EXCL tmpfile got a name"
unmount_scratch
fsck.xtfs -n "$FLAKEY_DEV" >"$RESULT_DIR/fsck.log" 2>&1 ||
	fail "fsck.xtfs -n after linkat: $(head -n 5 "$RESULT_DIR/fsck.log")"
mount_xtfs "$FLAKEY_DEV"
cmp "$m/d/named" "$REF_DIR/named" || fail "the named tmpfile lost its data over a remount"
expect_eq "links of the named tmpfile after a remount" 1 "$(stat -c %h "$m/d/named")"
echo "O_TMPFILE: no links, named by linkat() with its data (kept over a remount), O_EXCL refused"

# Closed unnamed: the space comes back.
sync
before=$(xtfs_statfs_free)
python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(fd, os.urandom(8 << 20))
os.fsync(fd)
os.close(fd)' "$m/d" || fail "writing an unnamed tmpfile failed"
sync
expect_eq "free blocks after an unnamed tmpfile was closed" "$before" "$(xtfs_statfs_free)"

# The crash before the name.
mkfifo "$REF_DIR/go"
rm -f "$REF_DIR/synced"
python3 - "$m/d" "$REF_DIR/synced" "$REF_DIR/go" <<'PY' &
import os, sys
fd = os.open(sys.argv[1], os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(fd, os.urandom(8 << 20))
os.fsync(fd)
open(sys.argv[2], "w").close()
open(sys.argv[3]).read()
os.close(fd)
PY
writer=$!
for ((i = 0; i < 600; i++)); do
	[ ! -e "$REF_DIR/synced" ] || break
	sleep 0.1
done
[ -e "$REF_DIR/synced" ] || fail "the tmpfile writer did not fsync"
diagnose "free blocks with the unnamed tmpfile written and fsynced: $(xtfs_statfs_free)"
flakey_switch drop_writes
echo go >"$REF_DIR/go"
wait "$writer" || fail "the tmpfile writer failed"
umount "$m" || fail "umount after the power cut failed"
flakey_switch linear
fsck.xtfs -n -v "$FLAKEY_DEV" >"$RESULT_DIR/fsck-crash.log" 2>&1 ||
	fail "fsck.xtfs -n after the crash: $(head -n 5 "$RESULT_DIR/fsck-crash.log")"
kname=$(kernel_name "$FLAKEY_DEV")
seen=$(dmesg | wc -l)
mount_xtfs "$FLAKEY_DEV"
dmesg | tail -n +$((seen + 1)) | grep -q "xtfs: $kname: deleted 1 orphan inodes" ||
	fail "the mount after the crash did not delete the unnamed tmpfile"
sync
expect_eq "free blocks after the mount deleted the crashed tmpfile" "$before" "$(xtfs_statfs_free)"
umount "$m"
fsck.xtfs -n "$FLAKEY_DEV" >"$RESULT_DIR/fsck.log" 2>&1 ||
	fail "fsck.xtfs -n at the end: $(head -n 5 "$RESULT_DIR/fsck.log")"
echo "an unnamed tmpfile cut off by a crash: fsck clean, deleted by the next mount, its space back"
