#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel::fs refuses, at run time and without a kernel splat, what a safe
# Rust filesystem can try but its types cannot rule out. The module
# iomap_rs_fs_refusals (fs/iomap_rs/iomap_rs_fs_refusals.rs) is such a
# filesystem: a lookup of a scenario's name in its root runs the misuse and
# logs "NAME: ok" once the abstraction refused it as it must. Checked here:
#   neg-folio       page cache lookups at negative positions (EINVAL, none)
#   neg-size        an inode initialised with a negative size (EUCLEAN)
#   dir-file-ops    a directory with file operations that read through the
#                   page cache (EINVAL: it has no address-space operations)
#   sizes           write_size below EOF or negative, set_size_truncate with
#                   another mapping's invalidate_lock or a negative size,
#                   write_and_drop_range from a negative offset (EINVAL)
#   dir-zero        the iomap library on a directory's page cache (EINVAL)
#   readdir-*       directory entries named "bad/name" and "" (EUCLEAN)
#   mkdir           a mkdir returning a regular file (EIO; returning an
#                   existing inode does not compile: ui/)
#   set-pos,
#   dio-deviceless  a negative kiocb position (EINVAL); an O_DIRECT write
#                   mapped unwritten without a device (EIO, no NULL bdev),
#                   the mapper's end still called
#   failed mount    root fails after dirtying an inode: the inode is written
#                   and evicted, by the filesystem's callbacks, before the
#                   data is dropped (the data itself cannot hold an inode:
#                   ui/fs_data_holds_inode.rs)
#   ro-write        Metadata::write on a read-only mount (EROFS), the
#                   device unchanged; remount cannot flip read-only
#   xattr           values and name lists only within the caller's buffer
#                   (ERANGE), a value over 64 KiB (E2BIG, "xattr-huge"), a
#                   list over 64 KiB (E2BIG), no value given (ENODATA)
#   registration    a Registration dropped while a filesystem of its type is
#                   mounted is unregistered, not freed: the unmount after it
#                   goes through the type's kill_sb safely
# Unloading the module frees its own registration.

. "$(dirname "$0")/common.sh"

ko=${IOMAP_RS_KBUILD:?}/fs/iomap_rs/iomap_rs_fs_refusals.ko
[ -e "$ko" ] || fail "no $ko: the test config builds CONFIG_IOMAP_RS_FS_REFUSALS_TEST=m"

work=$REF_DIR/fs_refusals
mnt=$work/mnt
mnt_b=$work/mnt_b
mnt_c=$work/mnt_c
mkdir -p "$mnt" "$mnt_b" "$mnt_c"
loop=
cleanup() {
	umount "$mnt_b" 2>/dev/null || true
	umount "$mnt" 2>/dev/null || true
	[ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
	rmmod iomap_rs_fs_refusals 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# image NAME HEADER: a 1 MiB image starting with HEADER.
image() {
	printf '%s' "$2" >"$work/$1"
	truncate -s 1M "$work/$1"
}
image a.img IOMAPRS-REFUSALS-
image fail.img IOMAPRS-REFUSALSF
image b.img anything
image c.img anything

# The kernel log from the last mark on (marks are unique to this run).
mark=0
set_mark() {
	mark=$((mark + 1))
	echo "fs_refusals: mark <$$.$mark>" >/dev/kmsg
}
log() {
	dmesg | awk -v m="fs_refusals: mark <$$.$mark>" 'index($0, m) { on = 1; next } on'
}
# expect_log TEXT: a line of the log since the mark contains TEXT.
expect_log() {
	local l
	l=$(log)
	grep -qF -- "$1" <<<"$l" || {
		tail -n 20 <<<"$l"
		fail "the kernel log does not say '$1'"
	}
}
# No scenario failed, and no callback saw the data dropped.
no_failure() {
	local l
	l=$(log)
	if grep -E 'iomap_rs_fs_refusals: .*(FAILED|saw the data)' <<<"$l"; then
		fail "a misuse was not refused"
	fi
}
# expect_error WHAT TEXT CMD...: CMD fails with an error message containing TEXT.
expect_error() {
	local what=$1 text=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		fail "$what succeeded"
	fi
	case $out in
	*"$text"*) ;;
	*) fail "$what: expected '$text', got: $out" ;;
	esac
}

insmod "$ko" || fail "insmod $ko failed"
grep -qw iomap_rs_refusals /proc/filesystems || fail "iomap_rs_refusals is not registered"

set_mark
mount -t iomap_rs_refusals -o loop "$work/a.img" "$mnt" || fail "mount failed"
for s in neg-folio neg-size dir-file-ops sizes dir-zero; do
	if stat "$mnt/$s" >/dev/null 2>&1; then
		fail "lookup of $s found something"
	fi
	expect_log "iomap_rs_fs_refusals: $s: ok"
done
entries=$(ls -a "$mnt" | tr '\n' ' ')
expect_eq "entries listed" ". .. " "$entries"
expect_log "iomap_rs_fs_refusals: readdir-slash: ok"
expect_log "iomap_rs_fs_refusals: readdir-empty: ok"
expect_error "mkdir returning a regular file" "Input/output error" mkdir "$mnt/new"
expect_error "O_DIRECT write mapped without a device" "Input/output error" \
	dd if=/dev/zero of="$mnt/dio" bs=4096 count=1 oflag=direct conv=notrunc status=none
expect_log "iomap_rs_fs_refusals: set-pos: ok"
expect_log "iomap_rs_fs_refusals: dio-deviceless: ok"
# The mapper's end releases what its begin took, though C never sees the mapping.
expect_log "iomap_rs_fs_refusals: deviceless: end at 0 after 0 bytes"
# Extended attributes: what getxattr(2) and listxattr(2) return for buffers of each size (a
# length, or minus the errno).
got=$(python3 - "$mnt" <<'PY'
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.listxattr.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.getxattr.restype = libc.listxattr.restype = ctypes.c_ssize_t
p = sys.argv[1].encode()
def call(f, *args):
    size = args[-1]
    buf = ctypes.create_string_buffer(size + 1)
    n = f(p, *args[:-1], buf if size else None, size)
    return str(n if n >= 0 else -ctypes.get_errno())
print(call(libc.getxattr, b"user.small", 4), call(libc.getxattr, b"user.small", 0),
      call(libc.getxattr, b"user.small", 64), call(libc.getxattr, b"user.none", 64),
      call(libc.getxattr, b"user.huge", 0), call(libc.getxattr, b"user.huge", 65536),
      call(libc.listxattr, 10), call(libc.listxattr, 0), call(libc.listxattr, 65536))
PY
) || fail "the extended attribute calls failed"
# ERANGE 34, ENODATA 61, E2BIG 7.
expect_eq "getxattr and listxattr results" "-34 10 10 -61 -7 -7 -34 -7 -7" "$got"
expect_log "iomap_rs_fs_refusals: xattr-huge: ok"
# Remounting cannot make it read-only behind the filesystem's back.
expect_error "remount read-only" "" mount -o remount,ro "$mnt"
grep -q " $mnt iomap_rs_refusals rw[, ]" /proc/mounts ||
	fail "the mount is not read-write any more: $(grep " $mnt " /proc/mounts)"
umount "$mnt" || fail "umount failed"
no_failure
echo "refused: negative positions and sizes, page cache file operations on a directory," \
	"the library on a directory, bad entry names, mkdir of a file, device-less direct I/O"

# A mount that fails after root dirtied an inode.
set_mark
expect_error "mount whose root fails" "" mount -t iomap_rs_refusals -o loop "$work/fail.img" "$mnt"
expect_log "iomap_rs_fs_refusals: write_inode 2"
expect_log "iomap_rs_fs_refusals: evict_inode 2"
no_failure
echo "failed mount: the inode root dirtied written and evicted by the filesystem, with its data"

# Read-only: metadata writes refused, the device unchanged, no remount. The
# loop device is read-write (mount -o loop,ro would make it read-only, and
# the block layer, not kernel::fs, would refuse).
set_mark
cp "$work/a.img" "$work/a.orig"
loop=$(losetup -f --show "$work/a.img") || fail "losetup failed"
mount -t iomap_rs_refusals -o ro "$loop" "$mnt" || fail "read-only mount failed"
stat "$mnt/ro-write" >/dev/null 2>&1 || true
expect_log "iomap_rs_fs_refusals: ro-write: ok"
expect_error "remount read-write" "" mount -o remount,rw "$mnt"
grep -q " $mnt iomap_rs_refusals ro[, ]" /proc/mounts ||
	fail "the mount is not read-only any more: $(grep " $mnt " /proc/mounts)"
umount "$mnt"
losetup -d "$loop"
loop=
samefile "$work/a.img" "$work/a.orig" || fail "the read-only mount changed its device"
no_failure
echo "read-only: Metadata::write refused with EROFS, remount rw refused, the device unchanged"

# A registration dropped while a filesystem of its type is mounted.
set_mark
mount -t iomap_rs_refusals -o loop "$work/a.img" "$mnt" || fail "mount failed"
grep -qw iomap_rs_refusals_b /proc/filesystems || fail "iomap_rs_refusals_b is not registered"
mount -t iomap_rs_refusals_b -o loop "$work/b.img" "$mnt_b" ||
	fail "mount of iomap_rs_refusals_b failed"
stat "$mnt/drop-registration-b" >/dev/null 2>&1 || true
expect_log "drop-registration-b: dropped"
expect_log "filesystem type iomap_rs_refusals_b unregistered while its module is live: not freed"
if grep -qw iomap_rs_refusals_b /proc/filesystems; then
	fail "iomap_rs_refusals_b is still registered"
fi
expect_error "mount of an unregistered type" "" \
	mount -t iomap_rs_refusals_b -o loop "$work/c.img" "$mnt_c"
ls "$mnt_b" >/dev/null || fail "the mounted iomap_rs_refusals_b cannot be listed"
umount "$mnt_b" || fail "umount of iomap_rs_refusals_b after its registration was dropped failed"
umount "$mnt" || fail "umount failed"
no_failure
echo "registration dropped while mounted: unregistered, kept until the unmount, which went through"

rmmod iomap_rs_fs_refusals || fail "rmmod failed"
if grep -qw iomap_rs_refusals /proc/filesystems; then
	fail "iomap_rs_refusals is still registered after rmmod"
fi
echo "module unloaded: its registration freed"
