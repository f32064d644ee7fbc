// SPDX-License-Identifier: GPL-2.0
/*
 * The iterator trace events of C iomap (fs/iomap/trace.h), emitted by
 * iomap_rs's C ABI at the points where C's iomap_iter() emits them, so that
 * tracing a filesystem routed through iomap_rs shows the same mappings.
 */
#include <linux/export.h>
#include <linux/iomap.h>
#include <linux/iomap_rs.h>

#include "../iomap/trace.h"

void iomap_rs_trace_iter(struct iomap_iter *iter, const struct iomap_ops *ops,
			 unsigned long caller)
{
	trace_iomap_iter(iter, ops, caller);
}
EXPORT_SYMBOL_GPL(iomap_rs_trace_iter);

void iomap_rs_trace_iter_maps(struct iomap_iter *iter)
{
	trace_iomap_iter_dstmap(iter->inode, &iter->iomap);
	if (iter->srcmap.type != IOMAP_HOLE)
		trace_iomap_iter_srcmap(iter->inode, &iter->srcmap);
}
EXPORT_SYMBOL_GPL(iomap_rs_trace_iter_maps);
