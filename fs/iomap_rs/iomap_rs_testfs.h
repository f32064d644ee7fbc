/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iomap_rs_testfs.c: inodes with iomap's address space operations and no
 * storage, for the KUnit suites, the test module and the delalloc release
 * benchmark (CONFIG_IOMAP_RS_DEBUG). The functions are exported for the
 * test module.
 */
#ifndef _FS_IOMAP_RS_TESTFS_H
#define _FS_IOMAP_RS_TESTFS_H

#include <linux/types.h>

struct file;
struct inode;
struct kiocb;

/*
 * A new inode of 2^blkbits-byte blocks (512 to PAGE_SIZE) with large folios,
 * i_size `size` and an empty cache, or NULL. s_maxbytes is 1 TiB. The caller
 * owns the reference: iput() drops it, and the cache with the inode.
 */
struct inode *iomap_rs_testfs_inode_new(unsigned int blkbits, loff_t size);

/* The same, with only order-0 folios in its page cache. */
struct inode *iomap_rs_testfs_inode_new_small_folios(unsigned int blkbits,
						     loff_t size);

/*
 * An open file on @inode (which it holds a reference to; fput() releases
 * it), readable with kernel_read(): data not in the cache reads as zeroes.
 * Returns an ERR_PTR on failure.
 */
struct file *iomap_rs_testfs_open(struct inode *inode);

/* A synchronous kiocb for @file at @pos, with IOCB_NOWAIT if @nowait. */
void iomap_rs_testfs_init_kiocb(struct kiocb *iocb, struct file *file,
				loff_t pos, bool nowait);

/*
 * release_bench.rs: run the delalloc release benchmark and write its report,
 * NUL-terminated, to buf (size > 0); returns its length or -errno.
 */
ssize_t iomap_rs_bench_release(char *buf, size_t size);

#endif /* _FS_IOMAP_RS_TESTFS_H */
