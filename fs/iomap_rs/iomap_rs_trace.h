/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of iomap_rs.
 *
 * iomap_rs_stale fires once per stale mapping detected by the write path:
 * after a folio within the cached mapping [@offset, @offset + @length) was
 * locked, the filesystem said that mapping, with @old_cookie, no longer
 * matched its extent tree (@offset is where the mapping starts, not the
 * folio), and the rest of the write was mapped again, yielding @new_cookie
 * (@remapped is false if the write ended before a new mapping was obtained;
 * @new_cookie is then @old_cookie).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM iomap_rs

#if !defined(_IOMAP_RS_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _IOMAP_RS_TRACE_H

#include <linux/fs.h>
#include <linux/tracepoint.h>

TRACE_EVENT(iomap_rs_stale,
	TP_PROTO(struct inode *inode, loff_t offset, u64 length,
		 u64 old_cookie, u64 new_cookie, bool remapped),
	TP_ARGS(inode, offset, length, old_cookie, new_cookie, remapped),
	TP_STRUCT__entry(
		__field(dev_t, dev)
		__field(u64, ino)
		__field(loff_t, offset)
		__field(u64, length)
		__field(u64, old_cookie)
		__field(u64, new_cookie)
		__field(bool, remapped)
	),
	TP_fast_assign(
		__entry->dev = inode->i_sb->s_dev;
		__entry->ino = inode->i_ino;
		__entry->offset = offset;
		__entry->length = length;
		__entry->old_cookie = old_cookie;
		__entry->new_cookie = new_cookie;
		__entry->remapped = remapped;
	),
	TP_printk("dev %d:%d ino 0x%llx offset 0x%llx length 0x%llx old_cookie 0x%llx new_cookie 0x%llx remapped %d",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->offset, __entry->length, __entry->old_cookie,
		  __entry->new_cookie, __entry->remapped)
);

#endif /* _IOMAP_RS_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE iomap_rs_trace
#include <trace/define_trace.h>
