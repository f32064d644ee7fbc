#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fallocate(2) on xtfs (1 KiB and 4 KiB blocks): preallocation (mode 0 and
# KEEP_SIZE), PUNCH_HOLE and ZERO_RANGE (with and without KEEP_SIZE) over a
# file whose ranges are written, holes, unwritten (preallocated) and delayed
# allocations, with unaligned ends, within and beyond EOF; once with the data
# still dirty in the cache, once written back and dropped before each call.
# Then writes and a shared-mapping write into preallocated ranges. Content
# matches a reference model after every call, after dropping the caches and
# after a remount; FIEMAP shows unwritten extents where preallocation and
# zeroing put them and holes where a punch freed whole blocks; preallocation
# takes exactly its blocks from the free space and punching gives them back;
# a preallocation larger than the free space fails with ENOSPC and leaks
# nothing; modes xtfs does not do fail with EOPNOTSUPP; fsck.xtfs -n is clean.
#
# iomap_rs-test: parallel
# iomap_rs-test: cost 65

. "$(dirname "$0")/common.sh"
require_xtfs

ref_dir

# kinds FILE OFF LEN: what FIEMAP reports for the range, one word per run of
# extents of one kind: hole, unwritten, delalloc or data.
kinds() {
	local idx range blocks total flags k out=""
	while read -r idx range blocks total flags; do
		if [ "$blocks" = hole ]; then
			k=hole
		elif ((flags & 0x800)); then
			k=unwritten
		elif ((flags & 0x4)); then
			k=delalloc
		else
			k=data
		fi
		[ "${out##* }" = "$k" ] || out="$out $k"
	done < <(xfs_io -c "fiemap -v $2 $3" "$1" | tail -n +3)
	# No extent at all: a hole.
	out=${out# }
	echo "${out:-hole}"
}

# apply OP OFF LEN: the call on $f, its effect on the model $r.
apply() {
	local op=$1 off=$2 len=$3 size end
	size=$(stat -c %s "$r")
	end=$((off + len))
	case $op in
	alloc) xfs_io -c "falloc $off $len" "$f" ;;
	alloc_keep) xfs_io -c "falloc -k $off $len" "$f" ;;
	punch) xfs_io -c "fpunch $off $len" "$f" ;;
	zero) xfs_io -c "fzero $off $len" "$f" ;;
	zero_keep) xfs_io -c "fzero -k $off $len" "$f" ;;
	*) fail "apply: unknown operation $op" ;;
	esac
	# The model: zeroes over the range (up to EOF if the size stays), and a
	# larger size if the range ends beyond EOF and the size does not stay.
	case $op in
	alloc | zero) [ "$end" -le "$size" ] || truncate -s "$end" "$r" ;;
	esac
	case $op in
	punch | zero_keep) [ "$end" -le "$size" ] || end=$size ;;
	esac
	case $op in
	punch | zero | zero_keep)
		[ "$off" -ge "$end" ] ||
			xfs_io -c "pwrite -S 0 $off $((end - off))" "$r" >/dev/null ;;
	esac
	expect_same "after $op $off $len ($pass, $bs-byte blocks)" "$f" "$r"
}

K=1024
for bs in 1024 4096; do
	mkfs_scratch_xtfs -b "$bs" -N 64 -s 64m
	# Accounting: preallocation takes exactly its blocks, a punch gives them
	# back; unwritten extents read as zeroes. (The file exists first: its
	# directory entry may take a directory block.)
	g=$SCRATCH_MNT/prealloc
	: >"$g"
	free0=$(xtfs_statfs_free)
	xfs_io -f -c "falloc -k 0 1m" "$g"
	[ "$(xtfs_statfs_free)" = $((free0 - (1 << 20) / bs)) ] ||
		fail "free blocks after preallocating 1 MiB ($bs-byte blocks):" \
			"expected $((free0 - (1 << 20) / bs)), got $(xtfs_statfs_free);" \
			"$(xfs_io -c "fiemap -v" "$g")"
	expect_eq "size after a KEEP_SIZE preallocation" 0 "$(stat -c %s "$g")"
	expect_eq "FIEMAP of the preallocation" unwritten "$(kinds "$g" 0 1m)"
	xfs_io -c "falloc 0 $((300 * K + 5))" "$g"
	expect_eq "size after a preallocation" $((300 * K + 5)) "$(stat -c %s "$g")"
	cmp -n $((300 * K + 5)) "$g" /dev/zero ||
		fail "a preallocated range does not read as zeroes"
	xfs_io -c "fpunch 0 1m" "$g"
	expect_eq "FIEMAP after punching it all" hole "$(kinds "$g" 0 1m)"
	expect_eq "free blocks after punching it all" "$free0" "$(xtfs_statfs_free)"
	cmp -n $((300 * K + 5)) "$g" /dev/zero || fail "a punched range does not read as zeroes"

	# More than the free space: ENOSPC, and nothing stays reserved or leaked.
	err=$(xfs_io -c "falloc 0 $(((free0 + 16) * bs))" "$g" 2>&1) || true
	case $err in
	*"No space left"*) ;;
	*) fail "preallocating more than the free space: expected ENOSPC, got '$err'" ;;
	esac
	rm "$g"
	sync
	expect_eq "free blocks after ENOSPC and removal" "$free0" "$(xtfs_statfs_free)"
	# All the space available to users works (statfs's f_bavail: free space
	# less what is kept back for metadata).
	avail=$(stat -f -c %a "$SCRATCH_MNT")
	xfs_io -f -c "falloc 0 $((avail * bs))" "$g" ||
		fail "preallocating the available space failed"
	expect_eq "available blocks after preallocating them all" 0 \
		"$(stat -f -c %a "$SCRATCH_MNT")"
	rm "$g"
	sync
	expect_eq "free blocks after a large preallocation and removal" "$free0" \
		"$(xtfs_statfs_free)"

	for mode in fcollapse finsert funshare; do
		err=$(xfs_io -f -c "$mode 0 $((2 * bs))" "$g" 2>&1) || true
		case $err in
		*"Operation not supported"*) ;;
		*) fail "$mode: expected EOPNOTSUPP, got '$err'" ;;
		esac
	done
	rm "$g"

	for pass in cached written; do
		f=$SCRATCH_MNT/file-$pass r=$REF_DIR/file-$pass
		# [0, 256K) written, [256K, 512K) a hole, [512K, 768K) unwritten,
		# [768K, 1M) a delayed allocation.
		head -c $((256 * K)) /dev/urandom >"$r"
		cp "$r" "$f"
		sync
		xfs_io -c "falloc -k $((512 * K)) $((256 * K))" "$f"
		xfs_io -c "pwrite -S 0x3c $((768 * K)) $((256 * K))" "$f" "$r" >/dev/null
		# (FIEMAP writes dirty data back first, so it is only asked in the
		# pass that writes back before each call anyway.)
		if [ "$pass" = written ]; then
			expect_eq "the layout ($bs-byte blocks)" "data hole unwritten data" \
				"$(kinds "$f" 0 1m)"
		fi
		while read -r op off len check; do
			[ "$pass" = cached ] || drop_caches
			apply "$op" "$off" "$len"
			# Whole blocks FIEMAP must show after the call.
			if [ -n "$check" ] && [ "$pass" = written ]; then
				set -- ${check//:/ }
				what="FIEMAP of [$1, +$2) after $op $off $len"
				expect_eq "$what ($pass, $bs-byte blocks)" \
					"$3" "$(kinds "$f" "$1" "$2")"
			fi
		done <<-EOF
		punch $((100 * K + 123)) $((200 * K - 46)) $((104 * K)):$((152 * K)):hole
		zero $((500 * K + 1)) $((300 * K + 510)) $((504 * K)):$((96 * K)):unwritten
		alloc $((200 * K + 5)) $((400 * K + 4)) $((256 * K)):$((240 * K)):unwritten
		punch $((700 * K + 3)) $((324 * K - 1003)) $((704 * K)):$((64 * K)):hole
		punch $((900 * K + 10)) 10
		zero_keep $((1024 * K - 500)) $((64 * K + 503)) $((1028 * K)):$((60 * K)):unwritten
		alloc_keep $((1152 * K)) $((128 * K)) $((1152 * K)):$((128 * K)):unwritten
		zero $((1324 * K + 7)) $((100 * K - 6))
		alloc $((2048 * K + 3)) 5000
		zero_keep 0 $((2 * bs))
		punch $((3 * bs + 1)) $((bs - 2))
		EOF
		# Writes into preallocated ranges: below EOF, through a shared
		# mapping, and beyond EOF into a KEEP_SIZE preallocation.
		xfs_io -c "pwrite -S 0x71 $((260 * K + 3)) 5000" "$f" "$r" >/dev/null
		xfs_io -c "mmap -rw $((512 * K)) $((64 * K))" \
			-c "mwrite -S 0x5a $((520 * K + 9)) 3000" -c msync "$f" >/dev/null
		xfs_io -c "pwrite -S 0x5a $((520 * K + 9)) 3000" "$r" >/dev/null
		expect_same "after writes into preallocated ranges ($pass, $bs-byte blocks)" \
			"$f" "$r"
		size=$(stat -c %s "$r")
		xfs_io -c "falloc -k $size $((64 * K))" "$f"
		xfs_io -c "pwrite -S 0x2d $((size + 5000)) 1000" "$f" "$r" >/dev/null
		expect_same "after a write into a preallocation beyond EOF ($pass)" "$f" "$r"
	done
	drop_caches
	for pass in cached written; do
		expect_same "after dropping caches ($pass, $bs-byte blocks)" \
			"$SCRATCH_MNT/file-$pass" "$REF_DIR/file-$pass"
	done
	unmount_scratch
	mount_xtfs "$SCRATCH_DEV"
	for pass in cached written; do
		expect_same "after remount ($pass, $bs-byte blocks)" \
			"$SCRATCH_MNT/file-$pass" "$REF_DIR/file-$pass"
	done
	expect_eq "FIEMAP after remount" unwritten \
		"$(kinds "$SCRATCH_MNT/file-cached" $((1152 * K)) $((128 * K)))"
	rm "$SCRATCH_MNT"/file-*
	sync
	expect_eq "free blocks after removing the files ($bs-byte blocks)" "$free0" \
		"$(xtfs_statfs_free)"
	check_xtfs "$SCRATCH_DEV"
done
echo "preallocation, punch and zero range over written, hole, unwritten and delalloc ranges" \
	"match the model cached, dropped and remounted;" \
	"FIEMAP, space accounting, ENOSPC and EOPNOTSUPP as expected; fsck clean"
