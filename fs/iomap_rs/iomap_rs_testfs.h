/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iomap_rs_testfs.c: inodes with iomap's address space operations and no
 * storage, for the KUnit suites and the delalloc release benchmark.
 */
#ifndef _FS_IOMAP_RS_TESTFS_H
#define _FS_IOMAP_RS_TESTFS_H

#include <linux/types.h>

struct inode;

/*
 * A new inode of 2^blkbits-byte blocks (512 to PAGE_SIZE) with large folios,
 * i_size `size` and an empty cache, or NULL. s_maxbytes is 1 TiB. The caller
 * owns the reference: iput() drops it, and the cache with the inode.
 */
struct inode *iomap_rs_testfs_inode_new(unsigned int blkbits, loff_t size);

/*
 * release_bench.rs: run the delalloc release benchmark and write its report,
 * NUL-terminated, to buf (size > 0); returns its length or -errno.
 */
ssize_t iomap_rs_bench_release(char *buf, size_t size);

#endif /* _FS_IOMAP_RS_TESTFS_H */
