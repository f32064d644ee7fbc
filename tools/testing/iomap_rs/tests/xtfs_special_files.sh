#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Special files on xtfs (mknod(2)): character and block device nodes, a FIFO
# with a second hard link, and a socket that a process binds. Each has the
# type, permissions, device number and link count it was made with, in
# stat(2) and in the directory's d_type, cached, after dropping the caches
# and after a remount; each reaches what it names: /dev/zero's node reads
# zeroes, /dev/null's takes writes, the block node reads the test disk's
# first block, the FIFO passes data from a writer to a reader opening it by
# its other name, and a client connects to the socket by its path. A special
# file cannot be truncated (EINVAL). mkfs.xtfs -d copies special files from a
# directory the same way. fsck.xtfs -n is clean throughout.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 100

. "$(dirname "$0")/common.sh"
require_xtfs

mkfs_scratch_xtfs -s 64m
m=$SCRATCH_MNT
read -r major minor < <(stat -c '%t %T' "$TEST_DEV")
blk="$((0x$major)):$((0x$minor))"

mknod "$m/zero" c 1 5 || fail "mknod of a character device node failed"
mknod -m 0600 "$m/null" c 1 3 || fail "mknod of a character device node failed"
mknod "$m/blk" b "$((0x$major))" "$((0x$minor))" || fail "mknod of a block device node failed"
mkfifo -m 0640 "$m/fifo" || fail "mkfifo failed"
ln "$m/fifo" "$m/fifo2" || fail "a hard link to a FIFO failed"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$m/sock" ||
	fail "binding a socket failed"

# expect_special WHEN: what stat(2) and the directory say, and each file
# reaching what it names.
expect_special() {
	local got sock=$m/live-sock
	got=$(cd "$m" && stat -c '%n: %F, %a %t:%T %h %s' blk fifo fifo2 null sock zero)
	expect_eq "$1: stat of the special files" "blk: block special file, 644 $major:$minor 1 0
fifo: fifo, 640 0:0 2 0
fifo2: fifo, 640 0:0 2 0
null: character special file, 600 1:3 1 0
sock: socket, 755 0:0 1 0
zero: character special file, 644 1:5 1 0" "$got"
	got=$("$IOMAP_RS_BIN/listdir" "$m" 4096 types | grep -v ' \.\.*$' | LC_ALL=C sort -k2)
	expect_eq "$1: the directory's entry types (d_type)" "b blk
p fifo
p fifo2
c null
s sock
c zero" "$got"
	cmp -n 4096 "$m/zero" /dev/zero || fail "$1: the /dev/zero node does not read zeroes"
	echo discarded >"$m/null" || fail "$1: writing to the /dev/null node failed"
	cmp -n 4096 "$m/blk" "$TEST_DEV" ||
		fail "$1: the block device node ($blk) does not read $TEST_DEV"
	(echo through the fifo >"$m/fifo") &
	got=$(timeout 30 cat "$m/fifo2") || fail "$1: reading the FIFO failed"
	wait
	expect_eq "$1: data through the FIFO" "through the fifo" "$got"
	# A socket made by bind(2), and a connection through its path.
	rm -f "$sock"
	got=$(python3 - "$sock" <<'PY'
import socket, sys, threading
srv = socket.socket(socket.AF_UNIX)
srv.bind(sys.argv[1])
srv.listen(1)
def serve():
    conn, _ = srv.accept()
    conn.sendall(b"over the socket")
    conn.close()
t = threading.Thread(target=serve)
t.start()
cli = socket.socket(socket.AF_UNIX)
cli.connect(sys.argv[1])
print(cli.recv(100).decode())
t.join()
PY
	) || fail "$1: the socket did not work"
	expect_eq "$1: data through a socket in xtfs" "over the socket" "$got"
	rm "$sock"
	echo "$1: types, modes, device numbers and links right;" \
		"each special file reaches what it names"
}

expect_special "cached"
drop_caches
expect_special "after dropping the caches"
unmount_scratch
mount_xtfs "$SCRATCH_DEV"
expect_special "after a remount"

err=$(python3 -c 'import os, sys; os.truncate(sys.argv[1], 0)' "$m/fifo" 2>&1) &&
	fail "truncating a FIFO succeeded"
case $err in
*"Invalid argument"*) ;;
*) fail "truncating a FIFO: expected EINVAL, got '$err'" ;;
esac
chmod 0444 "$m/zero" || fail "chmod of a device node failed"
expect_eq "mode of a device node after chmod" 444 "$(stat -c %a "$m/zero")"
mv "$m/null" "$m/null-moved" && rm "$m/fifo" || fail "rename or unlink of a special file failed"
expect_eq "links of the FIFO after one name went" 1 "$(stat -c %h "$m/fifo2")"
check_xtfs "$SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"
rm "$m/fifo2" "$m/null-moved" "$m/zero" "$m/blk" "$m/sock" || fail "removing special files failed"
check_xtfs "$SCRATCH_DEV"
echo "truncation refused (EINVAL); chmod, rename and unlink work; fsck clean"

# mkfs.xtfs -d: the same files from a directory.
src=$REF_DIR/special-src
rm -rf "$src"
mkdir -p "$src"
mknod "$src/zero" c 1 5 && mknod -m 0600 "$src/null" c 1 3 &&
	mknod "$src/blk" b "$((0x$major))" "$((0x$minor))" && mkfifo -m 0640 "$src/fifo" &&
	ln "$src/fifo" "$src/fifo2" ||
	fail "making the special files of the source directory failed"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$src/sock" ||
	fail "binding a socket in the source directory failed"
mkfs.xtfs -q -s 64m -d "$src" "$SCRATCH_DEV" || fail "mkfs.xtfs -d failed"
check_xtfs "$SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"
expect_special "made by mkfs.xtfs -d"
check_xtfs "$SCRATCH_DEV"
rm -rf "$src"
