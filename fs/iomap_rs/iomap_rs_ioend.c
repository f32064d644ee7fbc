// SPDX-License-Identifier: GPL-2.0
/*
 * Deferred completion of writeback ioends for Rust filesystems: see the
 * comment on struct iomap_rs_ioend_queue in include/linux/iomap_rs.h.
 *
 * The list lock is taken from bio completion, which may run in hard or soft
 * interrupt context, hence the irqsave variants. Each ioend queued holds a
 * count on the queue (inflight), dropped by iomap_rs_ioend_done() once
 * ->complete is finished with it, so that destroying the queue waits for
 * every ioend that can still reach it.
 */
#include <linux/bio.h>
#include <linux/export.h>
#include <linux/iomap_rs.h>
#include <linux/wait_bit.h>

static void iomap_rs_ioend_work(struct work_struct *work)
{
	struct iomap_rs_ioend_queue *queue =
		container_of(work, struct iomap_rs_ioend_queue, work);
	struct iomap_ioend *ioend;
	unsigned long flags;
	LIST_HEAD(list);

	spin_lock_irqsave(&queue->lock, flags);
	list_splice_init(&queue->list, &list);
	spin_unlock_irqrestore(&queue->lock, flags);

	while ((ioend = list_first_entry_or_null(&list, struct iomap_ioend,
						 io_list))) {
		list_del_init(&ioend->io_list);
		queue->complete(queue, ioend,
				blk_status_to_errno(ioend->io_bio.bi_status));
		cond_resched();
	}
}

static void iomap_rs_ioend_end_bio(struct bio *bio)
{
	struct iomap_ioend *ioend = iomap_ioend_from_bio(bio);
	struct iomap_rs_ioend_queue *queue = bio->bi_private;
	unsigned long flags;

	spin_lock_irqsave(&queue->lock, flags);
	if (list_empty(&queue->list))
		queue_work(queue->wq, &queue->work);
	list_add_tail(&ioend->io_list, &queue->list);
	spin_unlock_irqrestore(&queue->lock, flags);
}

int iomap_rs_ioend_queue_init(struct iomap_rs_ioend_queue *queue,
			      const char *name,
			      void (*complete)(struct iomap_rs_ioend_queue *queue,
					       struct iomap_ioend *ioend,
					       int error))
{
	queue->wq = alloc_workqueue("%s", WQ_MEM_RECLAIM | WQ_FREEZABLE, 0,
				    name);
	if (!queue->wq)
		return -ENOMEM;
	INIT_WORK(&queue->work, iomap_rs_ioend_work);
	spin_lock_init(&queue->lock);
	INIT_LIST_HEAD(&queue->list);
	atomic_set(&queue->inflight, 0);
	queue->complete = complete;
	return 0;
}
EXPORT_SYMBOL_GPL(iomap_rs_ioend_queue_init);

void iomap_rs_ioend_queue_destroy(struct iomap_rs_ioend_queue *queue)
{
	wait_var_event(&queue->inflight, !atomic_read(&queue->inflight));
	destroy_workqueue(queue->wq);
}
EXPORT_SYMBOL_GPL(iomap_rs_ioend_queue_destroy);

/* Called from ->prepare_ioend: completion goes through @queue. */
void iomap_rs_ioend_defer(struct iomap_rs_ioend_queue *queue,
			  struct iomap_ioend *ioend)
{
	atomic_inc(&queue->inflight);
	ioend->io_bio.bi_private = queue;
	ioend->io_bio.bi_end_io = iomap_rs_ioend_end_bio;
}
EXPORT_SYMBOL_GPL(iomap_rs_ioend_defer);

/* Called by ->complete when it is done with an ioend of @queue. */
void iomap_rs_ioend_done(struct iomap_rs_ioend_queue *queue)
{
	if (atomic_dec_and_test(&queue->inflight))
		wake_up_var(&queue->inflight);
}
EXPORT_SYMBOL_GPL(iomap_rs_ioend_done);
