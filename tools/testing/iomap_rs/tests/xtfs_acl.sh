#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# POSIX ACLs on xtfs, with XFS as the reference: the same script of
# setfacl(1), chmod(1), file creation and access as an unprivileged user
# (nobody, through setpriv(1)) runs on both, and what getfacl(1), stat(1)
# and the accesses show must be the same.
# - Access checks honour a named user's entry and the mask; chmod rewrites
#   the mask (a group-class change) and the access follows; only the owner
#   may set an ACL; setfacl -b removes it; an ACL the mode expresses is not
#   stored (no system.posix_acl_access listed).
# - Default ACLs: files, directories, FIFOs and O_TMPFILE files made in a
#   directory with one inherit it (a directory as its default too), and the
#   umask is not applied; in a directory without one the umask is.
# - Large ACLs: a directory whose default ACL has 40 named users gives a new
#   subdirectory two ACLs that do not fit in the inode (an extended
#   attribute block made in the creation's transaction), and a file gets
#   one of 104 entries (in the block, of 1 KiB blocks too).
# On xtfs, with 1 KiB and 4 KiB blocks:
# - everything again after dropping the caches and after a remount, fsck
#   clean;
# - an ACL larger than a block holds is refused with ENOSPC, and the ACL and
#   the mode stay as they were (the mode that setting it computes is put
#   back);
# - mkfs.xtfs -d copies ACLs from a tmpfs tree;
# - a corrupt ACL is refused at lookup with EUCLEAN (xtfs_bad_images).
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 600

. "$(dirname "$0")/common.sh"
require_xtfs
command -v setfacl >/dev/null || fail "setfacl is not installed (Debian package acl)"

m=$SCRATCH_MNT

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# try CMD...: "ok", or "refused" with the error's text.
try() {
	local out
	if out=$("$@" 2>&1 >/dev/null); then
		echo "ok"
	else
		echo "refused: ${out##*: }"
	fi
}

# show PATH...: mode and ACLs of each, numeric IDs, and the names listxattr
# gives (without trusted.SGI_ACL_FILE and trusted.SGI_ACL_DEFAULT: XFS's
# own names of the ACLs, which it lists to CAP_SYS_ADMIN too). One process
# of each tool for all of them: starting processes is most of this test's
# time on the debug configuration.
show() {
	stat -c '%n %A' "$@"
	getfacl -n "$@" 2>&1
	python3 -c 'import os, sys
for p in sys.argv[1:]:
    names = [n for n in os.listxattr(p) if not n.startswith("trusted.SGI_ACL_")]
    print(p, "names:", sorted(names))' "$@"
}

# A tree with ACLs in the current directory (the filesystem's root).
make_tree() {
	umask 022
	echo secret >f
	chmod 0640 f
	echo "nobody reads f: $(try as_nobody cat f)"
	setfacl -m u:65534:r f
	echo "after setfacl -m u:65534:r: $(try as_nobody cat f)"
	chmod 0600 f
	echo "after chmod 0600: $(try as_nobody cat f)"
	show f
	chmod 0640 f
	echo "after chmod 0640: $(try as_nobody cat f)"
	echo "nobody sets an ACL on f: $(try as_nobody setfacl -m u:65534:rw f)"
	show f

	echo x >plain
	setfacl --set u::rw,g::r,o::- plain
	show plain
	echo x >removed
	setfacl -m u:65534:rw,g:65534:r removed
	setfacl -b removed
	show removed

	mkdir -m 0755 d
	setfacl -d -m u:65534:rwx,g::rx,o::- d
	echo hello >d/new
	mkdir d/sub
	mkfifo d/fifo
	# linkat(2) with AT_SYMLINK_FOLLOW: link(2) does not follow /proc/self/fd.
	python3 -c 'import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("d", os.O_TMPFILE | os.O_WRONLY, 0o666)
if libc.linkat(-100, b"/proc/self/fd/%d" % fd, -100, b"d/tmp", 0x400):
    raise OSError(ctypes.get_errno(), "linkat")'
	echo "nobody reads d/new: $(try as_nobody cat d/new)"
	echo "nobody writes d/new: $(try as_nobody sh -c 'echo y >>d/new')"
	mkdir e
	: >e/plain
	mkdir e/sub

	mkdir big
	users=$(seq -f 'u:%g:r' 1000 1039 | paste -sd,)
	setfacl -d -m "$users" big
	mkdir big/inner
	: >big/inner/file
	: >huge
	setfacl -m "$(seq -f 'u:%g:r' 2000 2099 | paste -sd,)" huge
}

# The state make_tree leaves, as the listing compared between filesystems.
show_tree() {
	show f plain removed d d/new d/sub d/fifo d/tmp e e/plain e/sub big big/inner \
		big/inner/file
	getfacl -n huge | md5sum
	echo "nobody reads f: $(try as_nobody cat f)"
	echo "nobody reads d/new: $(try as_nobody cat d/new)"
}

# XFS, the reference.
mkfs_scratch_xfs
(cd "$m" && make_tree && show_tree) >"$RESULT_DIR/xfs.txt" 2>&1 || fail "the XFS run failed"
check_scratch_xfs
# The reference itself: every step worked, and what POSIX ACLs mean shows.
if grep -E "Traceback|No such file|not supported" "$RESULT_DIR/xfs.txt"; then
	fail "a step failed on XFS"
fi
for want in "nobody reads f: refused: Permission denied" \
	"after setfacl -m u:65534:r: ok" "after chmod 0600: refused: Permission denied" \
	"after chmod 0640: ok" "nobody sets an ACL on f: refused: Operation not permitted" \
	"nobody writes d/new: ok" "e/plain -rw-r--r--" "d/tmp -rw-rw----" "user:1039:r--"; do
	grep -qxF "$want" "$RESULT_DIR/xfs.txt" || fail "XFS: no line \"$want\""
done

for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -s 64m
	(cd "$m" && make_tree && show_tree) >"$RESULT_DIR/xtfs.txt" 2>&1 ||
		fail "the xtfs run failed"
	diff -u "$RESULT_DIR/xfs.txt" "$RESULT_DIR/xtfs.txt" ||
		fail "$bs-byte blocks: xtfs and XFS differ"
	(cd "$m" && show_tree) >"$RESULT_DIR/cached.txt" 2>&1
	drop_caches
	(cd "$m" && show_tree) >"$RESULT_DIR/dropped.txt" 2>&1
	diff -u "$RESULT_DIR/cached.txt" "$RESULT_DIR/dropped.txt" ||
		fail "$bs-byte blocks: differ after dropping the caches"
	check_xtfs "$SCRATCH_DEV"
	mount_xtfs "$SCRATCH_DEV"
	(cd "$m" && show_tree) >"$RESULT_DIR/remounted.txt" 2>&1
	diff -u "$RESULT_DIR/cached.txt" "$RESULT_DIR/remounted.txt" ||
		fail "$bs-byte blocks: differ after a remount"

	# Larger than a block holds: ENOSPC, nothing changed, the mode put back.
	before=$(cd "$m" && show f)
	n=$((bs / 8 + 8))
	got=$(try setfacl -m "$(seq -f 'u:%g:rwx' 3000 $((3000 + n)) | paste -sd,)" "$m/f")
	case $got in
	"refused: No space left on device") ;;
	*) fail "$bs-byte blocks: an ACL of $n entries: $got, expected ENOSPC" ;;
	esac
	expect_eq "$bs-byte blocks: f after the refused ACL" "$before" "$(cd "$m" && show f)"
	drop_caches
	expect_eq "$bs-byte blocks: f after the refused ACL, caches dropped" "$before" \
		"$(cd "$m" && show f)"
	check_xtfs "$SCRATCH_DEV"
	echo "$bs-byte blocks: same as XFS, cached, dropped and remounted; ENOSPC changes nothing"
done

# mkfs.xtfs -d copies them from tmpfs.
src=$(mktemp -d)
mount -t tmpfs none "$src" || fail "cannot mount a tmpfs"
(cd "$src" && make_tree && show_tree) >"$RESULT_DIR/tmpfs.txt" 2>&1 || fail "the tmpfs run failed"
mkfs.xtfs -q -d "$src" "$SCRATCH_DEV" || fail "mkfs.xtfs -d failed"
check_xtfs "$SCRATCH_DEV"
mount_xtfs "$SCRATCH_DEV"
(cd "$src" && show_tree) >"$RESULT_DIR/tmpfs.txt" 2>&1
(cd "$m" && show_tree) >"$RESULT_DIR/copied.txt" 2>&1
diff -u "$RESULT_DIR/tmpfs.txt" "$RESULT_DIR/copied.txt" || fail "mkfs.xtfs -d: the ACLs differ"
umount "$src" && rmdir "$src"
check_xtfs "$SCRATCH_DEV"
echo "mkfs.xtfs -d: the ACLs of a tmpfs tree copied"
