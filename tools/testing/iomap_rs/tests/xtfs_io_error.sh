#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# I/O errors from the device under xtfs: the filesystem lives on a
# device-mapper device whose table is switched from linear to dm-flakey with
# error_writes (every write fails, reads work). Then a buffered write
# succeeds into the cache and its fsync() reports EIO, as does an fsync()
# after an mmap write; an O_DIRECT write fails with EIO.
#
# A metadata write that fails (syncfs after a mkdir) shuts the filesystem
# down: from then on every change fails with EIO, even once the device
# works again, and the kernel log says so; reads go on, and data synced
# before reads back right, also after dropping the caches. The filesystem
# unmounts, no kernel splat. Mounted again it works, everything synced
# before the errors is intact, and fsck.xtfs -n is clean: nothing reached
# the device after the errors began, so it holds the state of the last
# successful sync.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 70

. "$(dirname "$0")/common.sh"
require_xtfs

cleanup() {
	is_mounted "$SCRATCH_MNT" && umount "$SCRATCH_MNT"
	flakey_remove
}
trap cleanup EXIT
flakey_scratch "xtfs-faulty-${SCRATCH_DEV##*/}"
dev=$FLAKEY_DEV

# fsync_result FILE [mmap]: write 256 KiB (through a shared mapping with
# "mmap") and fsync; prints "ok" or the error.
# Any call may fail: once a sync(2) of the other lane has met the failing
# metadata writes, the filesystem is shut down, and the creation or the
# truncation fails first.
fsync_result() {
	python3 - "$@" <<'PY'
import mmap, os, sys
try:
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
    data = os.urandom(256 << 10)
    if len(sys.argv) > 2:
        os.ftruncate(fd, len(data))
        with mmap.mmap(fd, len(data)) as m:
            m[:] = data
    else:
        os.write(fd, data)
    os.fsync(fd)
    print("ok")
except OSError as e:
    print("error", os.strerror(e.errno))
PY
}

mkfs.xtfs -q -b 4096 -N 64 -s 64m "$dev" || fail "mkfs.xtfs on $dev failed"
mount_xtfs "$dev"
ref_dir
head -c $((3 << 20)) /dev/urandom >"$REF_DIR/a"
cp "$REF_DIR/a" "$SCRATCH_MNT/a"
mkdir "$SCRATCH_MNT/d"
expect_eq "fsync with the device healthy" ok "$(fsync_result "$SCRATCH_MNT/d/before")"
sync

# Its messages from here on (the shutdown may come from the other lane's sync).
kname=$(kernel_name "$dev") || fail "no kernel name for $dev"
seen=$(dmesg | wc -l)
flakey_switch error_writes
expect_eq "fsync after a buffered write, writes failing" "error Input/output error" \
	"$(fsync_result "$SCRATCH_MNT/a2")"
expect_eq "fsync after an mmap write, writes failing" "error Input/output error" \
	"$(fsync_result "$SCRATCH_MNT/d/before" mmap)"
err=$(xfs_io -f -d -c "pwrite 0 64k" "$SCRATCH_MNT/direct" 2>&1) || true
case $err in
*"Input/output error"*) ;;
*) fail "an O_DIRECT write with writes failing: expected EIO, got '$err'" ;;
esac

# A metadata write error: the filesystem shuts down. (A sync(2) of the
# other lane may have shut it down already: then the mkdir fails too.)
mkdir "$SCRATCH_MNT/meta" 2>/dev/null || true
err=$(xfs_io -c syncfs "$SCRATCH_MNT" 2>&1) || true
case $err in
*"Input/output error"*) ;;
*) fail "syncfs with metadata writes failing: expected EIO, got '$err'" ;;
esac
dmesg | tail -n +$((seen + 1)) |
	grep -q "xtfs: $kname: metadata could not be written .* shut down" ||
	fail "no shutdown message in the kernel log after a metadata write error"
flakey_switch linear
# refused WHAT COMMAND...: COMMAND must report EIO (xfs_io reports a failed
# command but exits 0).
refused() {
	local what=$1 out
	shift
	out=$("$@" 2>&1) || true
	case $out in
	*"Input/output error"*) ;;
	*) fail "$what on a shut down filesystem: expected EIO, got '$out'" ;;
	esac
}
refused "creating a file" touch "$SCRATCH_MNT/new"
refused "mkdir" mkdir "$SCRATCH_MNT/new-dir"
refused "a symlink" ln -s a "$SCRATCH_MNT/new-link"
refused "a hard link" ln "$SCRATCH_MNT/a" "$SCRATCH_MNT/new-hard-link"
refused "a rename" mv "$SCRATCH_MNT/a" "$SCRATCH_MNT/a-renamed"
refused "unlink" rm "$SCRATCH_MNT/d/before"
refused "chmod" chmod 600 "$SCRATCH_MNT/a"
refused "a write" xfs_io -c "pwrite 0 4k" "$SCRATCH_MNT/a"
# A write fault that fails is a SIGBUS.
rc=0
xfs_io -c "mmap -w 0 4k" -c "mwrite 0 4k" "$SCRATCH_MNT/a" >/dev/null 2>&1 || rc=$?
expect_eq "exit status of an mmap write on a shut down filesystem (SIGBUS)" 135 "$rc"
refused "fallocate" xfs_io -c "falloc 0 8m" "$SCRATCH_MNT/a"
refused "truncate" xfs_io -c "truncate 0" "$SCRATCH_MNT/a"
refused "fsync" xfs_io -c fsync "$SCRATCH_MNT/a"
echo "a metadata write error shut the filesystem down:" \
	"every change fails with EIO, the device working again or not"
expect_same "synced data, shut down" "$SCRATCH_MNT/a" "$REF_DIR/a"
drop_caches 2>/dev/null || true
expect_same "synced data after dropping caches, writes failing" "$SCRATCH_MNT/a" "$REF_DIR/a"
umount "$SCRATCH_MNT" || fail "unmount of the shut down filesystem failed"

fsck.xtfs -n "$dev" >"$RESULT_DIR/fsck.log" 2>&1 ||
	{
		cat "$RESULT_DIR/fsck.log"
		fail "fsck.xtfs -n finds the device inconsistent after the write errors"
	}
mount_xtfs "$dev"
expect_same "synced data after the errors, remounted" "$SCRATCH_MNT/a" "$REF_DIR/a"
[ -f "$SCRATCH_MNT/d/before" ] || fail "a file synced before the errors is gone"
# Working again.
expect_eq "fsync with the device healthy again" ok "$(fsync_result "$SCRATCH_MNT/d/after")"
unmount_scratch
fsck.xtfs -n "$dev" >"$RESULT_DIR/fsck.log" 2>&1 ||
	{ cat "$RESULT_DIR/fsck.log"; fail "fsck.xtfs -n after the device recovered"; }
echo "write errors reached fsync (buffered and mmap) and O_DIRECT writes;" \
	"synced data intact; consistent and usable once remounted"
