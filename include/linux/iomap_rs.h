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

/**
 * define IOMAP_RS_ABI_VERSION - version of the C ABI below
 *
 * Bumped whenever an entry point's contract changes; the Rust side reads it
 * from here, so the two cannot disagree.
 */
#define IOMAP_RS_ABI_VERSION	3

#ifdef CONFIG_IOMAP_RS

/**
 * iomap_rs_abi_version() - the ABI version the Rust library was built against
 *
 * Return: IOMAP_RS_ABI_VERSION as the library saw it when it was built.
 */
u32 iomap_rs_abi_version(void);

/**
 * iomap_rs_initialized() - whether the Rust library's initialisation ran
 *
 * Return: true once the library's initcall has run.
 */
bool iomap_rs_initialized(void);

/**
 * iomap_rs_file_buffered_write() - drop-in for iomap_file_buffered_write()
 * @iocb: the write's control block; ki_pos is where it starts
 * @from: the data to write
 * @ops: the filesystem's iomap operations
 * @private: the filesystem's data for its operations (iomap_iter.private)
 *
 * Writes @from at @iocb->ki_pos through the page cache, as
 * iomap_file_buffered_write() does, and advances @iocb->ki_pos by what was
 * written. The caller holds the inode's i_rwsem exclusively. The cached
 * mapping is revalidated through folio_ops->iomap_valid after each folio is
 * locked and before it is touched: a stale mapping ends the pass short and
 * the rest of the range is mapped again.
 *
 * Return: the number of bytes written, or a negative errno if nothing was.
 */
ssize_t iomap_rs_file_buffered_write(struct kiocb *iocb, struct iov_iter *from,
				     const struct iomap_ops *ops, void *private);

/**
 * iomap_rs_write_delalloc_release() - drop-in for iomap_write_delalloc_release()
 * @inode: the file a short write left unused delalloc in
 * @start_byte: the start of the unused range
 * @end_byte: the end of the unused range (exclusive)
 * @flags: the iomap flags of the write (IOMAP_WRITE ...)
 * @iomap: the write's mapping
 * @punch: the filesystem's callback that releases a range's delalloc
 *
 * Releases the delalloc blocks of [@start_byte, @end_byte) that no dirty
 * folio covers: it walks the range with SEEK_DATA and SEEK_HOLE, keeps every
 * dirty folio and its blocks (data written through mmap meanwhile), calls
 * @punch only for the rest, and never truncates the page cache. The caller
 * holds @inode->i_mapping->invalidate_lock exclusively.
 */
void iomap_rs_write_delalloc_release(struct inode *inode, loff_t start_byte,
				     loff_t end_byte, unsigned int flags, struct iomap *iomap,
				     iomap_punch_t punch);

/**
 * iomap_rs_zero_range() - drop-in for iomap_zero_range()
 * @inode: the file
 * @pos: the start of the range to zero
 * @len: the length of the range
 * @did_zero: set to true if anything was zeroed (may be NULL)
 * @ops: the filesystem's iomap operations
 *
 * Zeroes [@pos, @pos + @len) in the page cache where the mapping has data,
 * as iomap_zero_range() does. The caller holds i_rwsem and
 * @inode->i_mapping->invalidate_lock exclusively (asserted). Each folio is
 * locked and the mapping revalidated before it is modified, as for writes.
 *
 * Return: 0, or a negative errno.
 */
int iomap_rs_zero_range(struct inode *inode, loff_t pos, loff_t len,
			bool *did_zero, const struct iomap_ops *ops);

/**
 * iomap_rs_truncate_page() - drop-in for iomap_truncate_page()
 * @inode: the file
 * @pos: the new size: the rest of its block is zeroed
 * @did_zero: set to true if anything was zeroed (may be NULL)
 * @ops: the filesystem's iomap operations
 *
 * The locking and revalidation of iomap_rs_zero_range().
 *
 * Return: 0, or a negative errno.
 */
int iomap_rs_truncate_page(struct inode *inode, loff_t pos, bool *did_zero,
			   const struct iomap_ops *ops);

/**
 * iomap_rs_file_unshare() - drop-in for iomap_file_unshare()
 * @inode: the file
 * @pos: the start of the range to unshare
 * @len: the length of the range
 * @ops: the filesystem's iomap operations
 *
 * Reads the shared blocks of the range into the page cache and dirties them,
 * so that writeback gives the file its own copy. The locking and
 * revalidation of iomap_rs_zero_range().
 *
 * Return: 0, or a negative errno.
 */
int iomap_rs_file_unshare(struct inode *inode, loff_t pos, loff_t len,
			  const struct iomap_ops *ops);

/**
 * iomap_rs_page_mkwrite() - drop-in for iomap_page_mkwrite()
 * @vmf: the write fault
 * @ops: the filesystem's iomap operations
 *
 * Maps the faulting folio's blocks for writing and dirties the folio. The
 * caller holds the mapping's invalidate_lock shared (asserted). Each pass of
 * the iterator revalidates its mapping under the folio lock before the folio
 * is dirtied.
 *
 * Return: VM_FAULT_LOCKED with the folio locked and dirty, or an error
 * (``VM_FAULT_SIGBUS``, ``VM_FAULT_OOM``, ...).
 */
vm_fault_t iomap_rs_page_mkwrite(struct vm_fault *vmf,
				 const struct iomap_ops *ops);

/**
 * iomap_rs_enabled() - whether opted-in filesystems use iomap_rs
 *
 * Filesystems that opted in (XFS) call iomap_rs instead of C iomap while
 * /sys/kernel/debug/iomap_rs/enabled is Y (its default is
 * CONFIG_IOMAP_RS_DEFAULT_ENABLED). Read once per call, so flipping it
 * affects the next write, without a reboot.
 *
 * Return: the switch's value.
 */
bool iomap_rs_enabled(void);

/*
 * The control and observability hooks below are called by the Rust library
 * (fs/iomap_rs/iomap_rs_control.c), not by filesystems. They are exported:
 * the library's generic code is instantiated in the Rust filesystem module
 * that calls it, which then links against them.
 */

/**
 * enum iomap_rs_counter - the library's call counters, in debugfs
 * @IOMAP_RS_BUFFERED_WRITE: buffered writes (buffered_writes)
 * @IOMAP_RS_ZERO_RANGE: zeroed ranges (zero_ranges)
 * @IOMAP_RS_TRUNCATE_PAGE: truncated pages (truncate_pages)
 * @IOMAP_RS_UNSHARE: unshared ranges (unshares)
 * @IOMAP_RS_PAGE_MKWRITE: write faults (page_mkwrites)
 * @IOMAP_RS_NR_COUNTERS: the number of counters
 */
enum iomap_rs_counter {
	IOMAP_RS_BUFFERED_WRITE,	/* debugfs: buffered_writes */
	IOMAP_RS_ZERO_RANGE,		/* zero_ranges */
	IOMAP_RS_TRUNCATE_PAGE,		/* truncate_pages */
	IOMAP_RS_UNSHARE,		/* unshares */
	IOMAP_RS_PAGE_MKWRITE,		/* page_mkwrites */
	IOMAP_RS_NR_COUNTERS,
};

/**
 * iomap_rs_count() - count a call of the library
 * @counter: which one (enum iomap_rs_counter; others are ignored)
 */
void iomap_rs_count(unsigned int counter);

/**
 * iomap_rs_note_stale() - report a mapping found stale
 * @inode: the file
 * @offset: the start of the stale mapping
 * @length: its length
 * @old_cookie: the validity cookie the mapping was taken with
 * @new_cookie: the filesystem's cookie when the folio was locked
 * @remapped: whether the rest of the range is being mapped again
 *
 * Emits the iomap_rs_stale trace event.
 */
void iomap_rs_note_stale(struct inode *inode, loff_t offset, u64 length,
			 u64 old_cookie, u64 new_cookie, bool remapped);

/**
 * iomap_rs_trace_iter() - C iomap's iomap_iter trace event
 * @iter: the iterator of the C ABI
 * @ops: the filesystem's iomap operations
 * @caller: the entry point's address (``_RET_IP_`` in C)
 */
void iomap_rs_trace_iter(struct iomap_iter *iter, const struct iomap_ops *ops,
			 unsigned long caller);

/**
 * iomap_rs_trace_iter_maps() - C iomap's iomap_iter_dstmap and
 * iomap_iter_srcmap trace events
 * @iter: the iterator of the C ABI, after ->iomap_begin
 */
void iomap_rs_trace_iter_maps(struct iomap_iter *iter);

/**
 * struct iomap_rs_ioend_queue - deferred completion of writeback ioends
 * @wq: the queue's own WQ_MEM_RECLAIM workqueue
 * @work: the work item that completes the queued ioends
 * @lock: protects @list, taken from bio completion (IRQ-safe)
 * @list: the ioends whose bios completed, not yet completed by @complete
 * @inflight: ioends handed to the queue and not yet done
 * @complete: the filesystem's completion, called in process context
 *
 * For filesystems written in Rust (fs/iomap_rs/iomap_rs_ioend.c). Writeback
 * bios complete in interrupt context; converting unwritten extents takes
 * sleeping locks and writes metadata. A filesystem's ->prepare_ioend hands
 * the ioend to a queue (iomap_rs_ioend_defer()), whose bio completion puts
 * it on @list and queues @work on @wq (as XFS does with its per-inode ioend
 * lists). The work calls @complete, which must end with
 * iomap_finish_ioends() and iomap_rs_ioend_done(). @complete runs before
 * the folios' writeback ends, so waiting on writeback waits for it.
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

/**
 * iomap_rs_ioend_queue_init() - set up an ioend queue
 * @queue: the queue
 * @name: its workqueue's name
 * @complete: the filesystem's completion of an ioend
 *
 * Return: 0, or -ENOMEM if the workqueue cannot be allocated.
 */
int iomap_rs_ioend_queue_init(struct iomap_rs_ioend_queue *queue,
			      const char *name,
			      void (*complete)(struct iomap_rs_ioend_queue *queue,
					       struct iomap_ioend *ioend,
					       int error));

/**
 * iomap_rs_ioend_queue_destroy() - tear down an ioend queue
 * @queue: the queue
 *
 * Waits until no ioend handed to @queue is left, then drains and destroys
 * its workqueue.
 */
void iomap_rs_ioend_queue_destroy(struct iomap_rs_ioend_queue *queue);

/**
 * iomap_rs_ioend_defer() - complete an ioend through a queue
 * @queue: the queue
 * @ioend: the ioend, from ->prepare_ioend
 *
 * Called from ->prepare_ioend: the ioend's bio completion then queues it on
 * @queue instead of finishing it in interrupt context.
 */
void iomap_rs_ioend_defer(struct iomap_rs_ioend_queue *queue,
			  struct iomap_ioend *ioend);

/**
 * iomap_rs_ioend_done() - an ioend of a queue is completed
 * @queue: the queue
 *
 * Called by ->complete when it is done with an ioend of @queue.
 */
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

/**
 * enum iomap_rs_pause_point - where a task can be parked until a test
 * releases it (iomap_rs_pause.c)
 * @IOMAP_RS_PAUSE_WRITE_VALIDATE: after locking a folio, before revalidating
 *	the write mapping
 * @IOMAP_RS_PAUSE_ZERO_VALIDATE: the same for zeroing
 * @IOMAP_RS_PAUSE_MKWRITE_VALIDATE: the same for a write fault
 * @IOMAP_RS_PAUSE_RELEASE_PUNCH: in the delalloc release, before it walks the
 *	cache and punches
 * @IOMAP_RS_PAUSE_FS_MKWRITE_MAP: in page_mkwrite's mapping, between the
 *	lookup and the delalloc
 * @IOMAP_RS_PAUSE_FS_IOEND_CONVERT: at write completion, before converting
 *	unwritten extents
 * @IOMAP_RS_PAUSE_FS_FSYNC_FLUSH: in fsync, records written to the device's
 *	cache, not yet flushed
 * @IOMAP_RS_PAUSE_FS_STORE_EXTENTS: a write completion writing extent
 *	records, between their blocks
 * @IOMAP_RS_PAUSE_FS_EXTENT_LOCK_WAIT: a mapping found the extent lock held,
 *	before waiting for it
 * @IOMAP_RS_PAUSE_FS_COMMIT_WAIT: an fsync's journal commit found handles
 *	open, before waiting for them
 * @IOMAP_RS_NR_PAUSE_POINTS: the number of points
 *
 * The library's points come first; the ``FS_`` ones are generic places in a
 * filesystem built on the library (xtfs uses them).
 */
enum iomap_rs_pause_point {
	IOMAP_RS_PAUSE_WRITE_VALIDATE,
	IOMAP_RS_PAUSE_ZERO_VALIDATE,
	IOMAP_RS_PAUSE_MKWRITE_VALIDATE,
	IOMAP_RS_PAUSE_RELEASE_PUNCH,
	IOMAP_RS_PAUSE_FS_MKWRITE_MAP,
	IOMAP_RS_PAUSE_FS_IOEND_CONVERT,
	IOMAP_RS_PAUSE_FS_FSYNC_FLUSH,
	IOMAP_RS_PAUSE_FS_STORE_EXTENTS,
	IOMAP_RS_PAUSE_FS_EXTENT_LOCK_WAIT,
	IOMAP_RS_PAUSE_FS_COMMIT_WAIT,
	IOMAP_RS_NR_PAUSE_POINTS,
};

/* Bit N is set while point N is armed: test it before calling. */
extern unsigned long iomap_rs_pause_armed;

/**
 * iomap_rs_pause() - park at a pause point if a test armed it
 * @point: the point (enum iomap_rs_pause_point)
 * @inode: the file the task works on
 * @pos: the position it works at
 *
 * If a test armed @point for @inode and a range holding @pos, the task
 * parks, with whatever locks it holds, until the test releases it or the
 * arming's timeout passes; the point is then disarmed. Callers test
 * iomap_rs_pause_armed first. Only with CONFIG_IOMAP_RS_DEBUG.
 */
void iomap_rs_pause(unsigned int point, struct inode *inode, loff_t pos);
struct dentry;
void iomap_rs_pause_init(struct dentry *parent);
#endif

/*
 * Per-block folio state helpers exported by fs/iomap/buffered-io.c for the
 * Rust library, so that both implementations share one state: thin wrappers
 * of that file's static ifs_alloc() (-EAGAIN where it fails and the folio
 * has more than one block), iomap_adjust_read_range(),
 * iomap_read_folio_sync(), iomap_set_range_uptodate(),
 * iomap_set_range_dirty() and ifs_block_is_dirty() (the folio's dirty flag
 * when it has no state).
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
