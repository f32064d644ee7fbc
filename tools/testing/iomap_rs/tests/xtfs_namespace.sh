#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every namespace operation of xtfs (1 KiB blocks, so directories span many
# blocks): create, mkdir, symlink, hard links, unlink, rmdir (ENOTEMPTY on a
# non-empty directory), rename within and across directories, over an
# existing file and over an empty directory (ENOTEMPTY over a non-empty one),
# RENAME_NOREPLACE (EEXIST), RENAME_EXCHANGE (two files; a file and a
# directory across directories, whose ".." and parents' link counts follow),
# RENAME_WHITEOUT (a character device 0:0 left at the old name), names of 250
# bytes (ok) and 251 (ENAMETOOLONG),
# a directory of 300 entries with holes punched into it and refilled, and an
# open-unlinked file that keeps working until closed and then gives its space
# back. Link counts follow POSIX (directories: 2 + subdirectories); the tree
# is the same after dropping the caches and after a remount; fsck.xtfs -n is
# clean.
#
# iomap_rs-test: parallel

. "$(dirname "$0")/common.sh"
require_xtfs

mkfs_scratch_xtfs -b 1024 -N 2000 -s 64m
m=$SCRATCH_MNT

mkdir "$m/a" "$m/a/b" "$m/c" || fail "mkdir failed"
echo one >"$m/a/f1" && echo two >"$m/a/b/f2" || fail "create failed"
ln "$m/a/f1" "$m/c/hard" || fail "link failed"
ln -s ../a/f1 "$m/c/sym" || fail "symlink failed"
expect_eq "symlink target" "../a/f1" "$(readlink "$m/c/sym")"
expect_eq "read through the symlink" "one" "$(cat "$m/c/sym")"
links() {
	stat -c %h "$@" | tr '\n' ' ' | sed 's/ $//'
}
expect_eq "link counts of a, the root, c, a/f1, a/b/f2" "3 4 2 2 1" \
	"$(links "$m/a" "$m/" "$m/c" "$m/a/f1" "$m/a/b/f2")"

# Names.
long=$(printf 'n%.0s' $(seq 250))
touch "$m/$long" || fail "a 250-byte name was refused"
if touch "$m/${long}x" 2>"$RESULT_DIR/err"; then fail "a 251-byte name was accepted"; fi
grep -q 'File name too long' "$RESULT_DIR/err" || fail "251-byte name: $(cat "$RESULT_DIR/err")"
if mkdir "$m/a/b/f2/x" 2>/dev/null; then fail "mkdir under a file worked"; fi

# Renames.
mv "$m/a/f1" "$m/a/f1r" || fail "rename within a directory failed"
mv "$m/a/f1r" "$m/c/f1" || fail "rename across directories failed"
echo other >"$m/c/victim"
mv "$m/c/f1" "$m/c/victim" || fail "rename over a file failed"
expect_eq "renamed over" "one" "$(cat "$m/c/victim")"
expect_eq "links after rename over" "2" "$(stat -c %h "$m/c/victim")"
mkdir "$m/c/empty" "$m/c/full" && touch "$m/c/full/x"
if mv -T "$m/a/b" "$m/c/full" 2>"$RESULT_DIR/err"; then
	fail "rename over a non-empty directory worked"
fi
grep -q 'not empty\|exists' "$RESULT_DIR/err" ||
	fail "rename over non-empty dir: $(cat "$RESULT_DIR/err")"
mv -T "$m/a/b" "$m/c/empty" || fail "rename of a directory over an empty one failed"
expect_eq "moved directory" "two" "$(cat "$m/c/empty/f2")"
expect_eq "link counts after moving a directory" "2 4" "$(links "$m/a" "$m/c")"
expect_eq "moved directory's .." "$(stat -c %i "$m/c")" "$(stat -c %i "$m/c/empty/..")"
touch "$m/c/noreplace"
if "$IOMAP_RS_BIN/rename2" noreplace "$m/c/victim" "$m/c/noreplace" 2>"$RESULT_DIR/err"; then
	fail "RENAME_NOREPLACE replaced a file"
fi
grep -q 'File exists' "$RESULT_DIR/err" || fail "RENAME_NOREPLACE: $(cat "$RESULT_DIR/err")"

# RENAME_EXCHANGE: two files in one directory; a file and a directory across
# directories (the directory's ".." and both parents' link counts follow).
mkdir "$m/x" "$m/y" "$m/y/sub"
echo left >"$m/x/l" && echo right >"$m/x/r" || fail "create failed"
"$IOMAP_RS_BIN/rename2" exchange "$m/x/l" "$m/x/r" || fail "RENAME_EXCHANGE of two files failed"
expect_eq "exchanged files" "right left" "$(cat "$m/x/l" "$m/x/r" | tr '\n' ' ' | sed 's/ $//')"
"$IOMAP_RS_BIN/rename2" exchange "$m/x/l" "$m/y/sub" ||
	fail "RENAME_EXCHANGE of a file and a directory failed"
[ -d "$m/x/l" ] && [ -f "$m/y/sub" ] || fail "RENAME_EXCHANGE: the names did not swap their inodes"
expect_eq "the exchanged file" "right" "$(cat "$m/y/sub")"
expect_eq "link counts of the parents after the exchange" "3 2" "$(links "$m/x" "$m/y")"
expect_eq "the exchanged directory's .." "$(stat -c %i "$m/x")" "$(stat -c %i "$m/x/l/..")"
# RENAME_WHITEOUT: the old name becomes a whiteout (character device 0:0).
echo moved >"$m/x/w" || fail "create failed"
"$IOMAP_RS_BIN/rename2" whiteout "$m/x/w" "$m/y/w" || fail "RENAME_WHITEOUT failed"
expect_eq "the file moved with RENAME_WHITEOUT" "moved" "$(cat "$m/y/w")"
expect_eq "the whiteout left behind" "character special file 0:0 1" \
	"$(stat -c '%F %t:%T %h' "$m/x/w")"

# Removal.
if rmdir "$m/c/full" 2>"$RESULT_DIR/err"; then fail "rmdir of a non-empty directory worked"; fi
grep -q 'not empty' "$RESULT_DIR/err" || fail "rmdir non-empty: $(cat "$RESULT_DIR/err")"
rm "$m/c/full/x" && rmdir "$m/c/full" || fail "rmdir failed"
rm "$m/c/hard" || fail "unlink failed"
expect_eq "links after unlink" "1" "$(stat -c %h "$m/c/victim")"

# A big directory: 300 entries, every third removed, then refilled.
mkdir "$m/big"
for i in $(seq 300); do : >"$m/big/entry-$i"; done
for i in $(seq 1 3 300); do rm "$m/big/entry-$i"; done
for i in $(seq 1 3 300); do : >"$m/big/again-$i"; done
expect_eq "big directory entries" 300 "$(ls "$m/big" | wc -l)"

# An open-unlinked file.
free_before=$(sync; xtfs_statfs_free)
exec 3<>"$m/c/open-unlinked"
head -c $((1 << 20)) /dev/urandom >&3
rm "$m/c/open-unlinked"
sync
head -c 4096 /dev/zero >&3
expect_eq "size of the open-unlinked file" $(((1 << 20) + 4096)) "$(stat -L -c %s /proc/self/fd/3)"
exec 3>&-
sync
expect_eq "free blocks after closing the open-unlinked file" "$free_before" "$(xtfs_statfs_free)"

tree() {
	(cd "$m" && find . -printf '%p %y %n %s %l\n' | sort)
}
want=$(tree)
drop_caches
expect_eq "tree after dropping caches" "$want" "$(tree)"
unmount_scratch
mount_xtfs "$SCRATCH_DEV"
expect_eq "tree after remount" "$want" "$(tree)"
expect_eq "content after remount" "one two" \
	"$(cat "$m/c/victim" "$m/c/empty/f2" | tr '\n' ' ' | sed 's/ $//')"
check_xtfs "$SCRATCH_DEV"
echo "create, mkdir, link, symlink, rename (all cases, exchange, whiteout), unlink, rmdir," \
	"long names," \
	"a 300-entry directory and an open-unlinked file work and persist; fsck clean"
