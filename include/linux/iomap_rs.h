/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iomap_rs: the iomap buffered write path implemented in Rust.
 *
 * The library lives in the Rust kernel crate (rust/kernel/iomap/); this
 * header is its C ABI, a drop-in for the corresponding entry points of
 * <linux/iomap.h> so that a C filesystem switches with one line. See
 * Documentation/filesystems/iomap_rs.rst.
 */
#ifndef _LINUX_IOMAP_RS_H
#define _LINUX_IOMAP_RS_H

#include <linux/cacheflush.h>
#include <linux/iomap.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct folio;
struct inode;
struct iov_iter;
struct kiocb;
struct vm_fault;

/*
 * Version of the ABI below. Bumped whenever an entry point's contract
 * changes; the Rust side reads it from here, so the two cannot disagree.
 */
#define IOMAP_RS_ABI_VERSION	3

/*
 * Whether flush_dcache_folio() does anything on this architecture. Where it
 * is an empty inline, C compiles it away; Rust, which can only call it
 * through a helper, checks this constant instead.
 */
#if ARCH_IMPLEMENTS_FLUSH_DCACHE_PAGE
#define IOMAP_RS_ARCH_FLUSHES_DCACHE	1
#else
#define IOMAP_RS_ARCH_FLUSHES_DCACHE	0
#endif

#ifdef CONFIG_IOMAP_RS

/* The ABI version the Rust library was built against. */
u32 iomap_rs_abi_version(void);

/* Whether the Rust library's initialisation ran. */
bool iomap_rs_initialized(void);

/*
 * Drop-in for iomap_file_buffered_write(): same arguments, same result (bytes
 * written, or a negative errno if nothing was), same update of iocb->ki_pos.
 * The cached mapping is revalidated through folio_ops->iomap_valid after each
 * folio is locked and before it is touched.
 */
ssize_t iomap_rs_file_buffered_write(struct kiocb *iocb, struct iov_iter *from,
				     const struct iomap_ops *ops, void *private);

/*
 * Drop-in for iomap_write_delalloc_release(): the caller holds
 * inode->i_mapping->invalidate_lock exclusively.
 */
void iomap_rs_write_delalloc_release(struct inode *inode, loff_t start_byte,
				     loff_t end_byte, unsigned int flags, struct iomap *iomap,
				     iomap_punch_t punch);

/*
 * Drop-ins for iomap_zero_range(), iomap_truncate_page() and
 * iomap_file_unshare(): same arguments, same results. The caller holds
 * i_rwsem and inode->i_mapping->invalidate_lock exclusively (asserted). Each
 * folio is locked and the mapping revalidated before it is modified, as for
 * writes.
 */
int iomap_rs_zero_range(struct inode *inode, loff_t pos, loff_t len,
			bool *did_zero, const struct iomap_ops *ops);
int iomap_rs_truncate_page(struct inode *inode, loff_t pos, bool *did_zero,
			   const struct iomap_ops *ops);
int iomap_rs_file_unshare(struct inode *inode, loff_t pos, loff_t len,
			  const struct iomap_ops *ops);

/*
 * Drop-in for iomap_page_mkwrite(): the caller holds the mapping's
 * invalidate_lock shared (asserted); returns VM_FAULT_LOCKED with the folio
 * locked and dirty, or an error. Each pass of the iterator revalidates its
 * mapping under the folio lock before the folio is dirtied.
 */
vm_fault_t iomap_rs_page_mkwrite(struct vm_fault *vmf,
				 const struct iomap_ops *ops);

/*
 * Whether filesystems that opted in route their buffered writes through
 * iomap_rs (/sys/kernel/debug/iomap_rs/enabled, default yes). Read once per
 * call, so flipping it affects the next write, without a reboot.
 */
bool iomap_rs_enabled(void);

/*
 * Control and observability hooks called by the Rust library
 * (fs/iomap_rs/iomap_rs_control.c), not by filesystems. They are exported:
 * the library's generic code is instantiated in the Rust filesystem module
 * that calls it, which then links against them.
 */
enum iomap_rs_counter {
	IOMAP_RS_BUFFERED_WRITE,	/* debugfs: buffered_writes */
	IOMAP_RS_ZERO_RANGE,		/* zero_ranges */
	IOMAP_RS_TRUNCATE_PAGE,		/* truncate_pages */
	IOMAP_RS_UNSHARE,		/* unshares */
	IOMAP_RS_PAGE_MKWRITE,		/* page_mkwrites */
	IOMAP_RS_NR_COUNTERS,
};

void iomap_rs_count(unsigned int counter);
void iomap_rs_note_stale(struct inode *inode, loff_t offset, u64 length,
			 u64 old_cookie, u64 new_cookie, bool remapped);

/*
 * C iomap's iterator trace events (iomap_iter, iomap_iter_dstmap,
 * iomap_iter_srcmap), for the C ABI's iterator.
 */
void iomap_rs_trace_iter(struct iomap_iter *iter, const struct iomap_ops *ops,
			 unsigned long caller);
void iomap_rs_trace_iter_maps(struct iomap_iter *iter);

/*
 * Deferred completion of writeback ioends, for filesystems written in Rust
 * (fs/iomap_rs/iomap_rs_ioend.c). Writeback bios complete in interrupt
 * context; converting unwritten extents takes sleeping locks and writes
 * metadata. A filesystem's ->prepare_ioend hands the ioend to a queue, whose
 * bio completion puts it on a list under an IRQ-safe lock and kicks a work
 * item on the queue's own WQ_MEM_RECLAIM workqueue (as XFS does with its
 * per-inode ioend lists). The work calls ->complete in process context, which
 * must end with iomap_finish_ioends(). ->complete is called before the
 * folios' writeback ends, so waiting on writeback waits for it.
 *
 * iomap_rs_ioend_queue_destroy() waits until no ioend handed to the queue is
 * left, then drains and destroys the workqueue.
 */
struct iomap_rs_ioend_queue {
	struct workqueue_struct *wq;
	struct work_struct work;
	spinlock_t lock;		/* protects list, from bio completion */
	struct list_head list;
	atomic_t inflight;
	void (*complete)(struct iomap_rs_ioend_queue *queue,
			 struct iomap_ioend *ioend, int error);
};

int iomap_rs_ioend_queue_init(struct iomap_rs_ioend_queue *queue,
			      const char *name,
			      void (*complete)(struct iomap_rs_ioend_queue *queue,
					       struct iomap_ioend *ioend,
					       int error));
void iomap_rs_ioend_queue_destroy(struct iomap_rs_ioend_queue *queue);
void iomap_rs_ioend_defer(struct iomap_rs_ioend_queue *queue,
			  struct iomap_ioend *ioend);
void iomap_rs_ioend_done(struct iomap_rs_ioend_queue *queue);

#ifdef CONFIG_IOMAP_RS_DEBUG
/*
 * The debug knobs, read by the write path on every folio without a call; it
 * sleeps (msleep()) only for a non-zero delay.
 */
extern u32 iomap_rs_validate_delay_ms;
extern bool iomap_rs_skip_validation;

/*
 * Switches that turn off one fix each, so that the race tests can show the
 * failure it prevents: the delalloc release truncates the page cache over
 * the unused range and punches all of it (as before the seed's fix), a
 * filesystem's page_mkwrite does not recheck the extent under its lock
 * before inserting delalloc, a filesystem's fsync does not keep its extent
 * records from changing between writing them and flushing them.
 */
extern bool iomap_rs_release_punch_all;
extern bool iomap_rs_fs_skip_mkwrite_recheck;
extern bool iomap_rs_fs_skip_fsync_serialize;

/*
 * Pause points (iomap_rs_pause.c): where a task can be parked until a test
 * releases it. The library's points come first; the fs_ ones are generic
 * places in a filesystem built on the library (xtfs uses them).
 */
enum iomap_rs_pause_point {
	/* After locking a folio, before revalidating the write mapping. */
	IOMAP_RS_PAUSE_WRITE_VALIDATE,
	/* The same for zeroing. */
	IOMAP_RS_PAUSE_ZERO_VALIDATE,
	/* The same for a write fault. */
	IOMAP_RS_PAUSE_MKWRITE_VALIDATE,
	/* In the delalloc release, before it walks the cache and punches. */
	IOMAP_RS_PAUSE_RELEASE_PUNCH,
	/* In page_mkwrite's mapping, between the lookup and the delalloc. */
	IOMAP_RS_PAUSE_FS_MKWRITE_MAP,
	/* At write completion, before converting unwritten extents. */
	IOMAP_RS_PAUSE_FS_IOEND_CONVERT,
	/* In fsync, records written to the device's cache, not yet flushed. */
	IOMAP_RS_PAUSE_FS_FSYNC_FLUSH,
	/* A write completion writing extent records, between their blocks. */
	IOMAP_RS_PAUSE_FS_STORE_EXTENTS,
	/* A mapping found the extent lock held, before waiting for it. */
	IOMAP_RS_PAUSE_FS_EXTENT_LOCK_WAIT,
	IOMAP_RS_NR_PAUSE_POINTS,
};

/* Bit N is set while point N is armed: test it before calling. */
extern unsigned long iomap_rs_pause_armed;
void iomap_rs_pause(unsigned int point, struct inode *inode, loff_t pos);
struct dentry;
void iomap_rs_pause_init(struct dentry *parent);
#endif

/*
 * Per-block folio state helpers exported by fs/iomap/buffered-io.c for the
 * Rust library, so that both implementations share one state.
 */
int iomap_folio_state_prepare(struct inode *inode, struct folio *folio,
			      unsigned int flags);
void iomap_folio_adjust_read_range(struct inode *inode, struct folio *folio,
				   loff_t *pos, loff_t length, size_t *offp, size_t *lenp);
int iomap_folio_read_sync(loff_t block_start, struct folio *folio,
			  size_t poff, size_t plen, const struct iomap *iomap);
void iomap_folio_set_range_uptodate(struct folio *folio, size_t off,
				    size_t len);
void iomap_folio_set_range_dirty(struct folio *folio, size_t off, size_t len);
bool iomap_folio_block_is_dirty(struct folio *folio, unsigned int block);

#else /* CONFIG_IOMAP_RS */

static inline bool iomap_rs_enabled(void)
{
	return false;
}

static inline ssize_t iomap_rs_file_buffered_write(struct kiocb *iocb,
						   struct iov_iter *from,
						   const struct iomap_ops *ops,
						   void *private)
{
	return iomap_file_buffered_write(iocb, from, ops, private);
}

static inline void iomap_rs_write_delalloc_release(struct inode *inode,
						   loff_t start_byte,
						   loff_t end_byte,
						   unsigned int flags,
						   struct iomap *iomap,
						   iomap_punch_t punch)
{
	iomap_write_delalloc_release(inode, start_byte, end_byte, flags, iomap,
				     punch);
}

static inline int iomap_rs_zero_range(struct inode *inode, loff_t pos,
				      loff_t len, bool *did_zero,
				      const struct iomap_ops *ops)
{
	return iomap_zero_range(inode, pos, len, did_zero, ops);
}

static inline int iomap_rs_truncate_page(struct inode *inode, loff_t pos,
					 bool *did_zero,
					 const struct iomap_ops *ops)
{
	return iomap_truncate_page(inode, pos, did_zero, ops);
}

static inline int iomap_rs_file_unshare(struct inode *inode, loff_t pos,
					loff_t len, const struct iomap_ops *ops)
{
	return iomap_file_unshare(inode, pos, len, ops);
}

static inline vm_fault_t iomap_rs_page_mkwrite(struct vm_fault *vmf,
					       const struct iomap_ops *ops)
{
	return iomap_page_mkwrite(vmf, ops);
}

#endif /* CONFIG_IOMAP_RS */

#endif /* _LINUX_IOMAP_RS_H */
