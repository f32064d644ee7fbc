/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bridge between iomap_rs's KUnit suites, declared in C (6.12 has no Rust
 * macro to declare a suite), and their cases, written in Rust in
 * iomap_rs_tests.rs.
 */
#ifndef _FS_IOMAP_RS_KUNIT_H
#define _FS_IOMAP_RS_KUNIT_H

#include <linux/types.h>

struct kunit;

/* Called by Rust cases: fail the running case with a message. */
void iomap_rs_kunit_fail(struct kunit *test, const char *file, int line,
			 const char *msg);
/* Called by Rust cases: log a line to the KUnit result. */
void iomap_rs_kunit_info(struct kunit *test, const char *msg);

/* Suite iomap_rs_smoke. */
void iomap_rs_smoke_abi_version(struct kunit *test);
void iomap_rs_smoke_file_range(struct kunit *test);
void iomap_rs_smoke_first_chunk_walk(struct kunit *test);

/* Suite iomap_rs_iter. */
void iomap_rs_iter_arithmetic(struct kunit *test);
void iomap_rs_iter_srcmap_clamps(struct kunit *test);
void iomap_rs_iter_stale_remap(struct kunit *test);
void iomap_rs_iter_stale_before_progress(struct kunit *test);
void iomap_rs_iter_zero_length_and_eof(struct kunit *test);
void iomap_rs_iter_errors(struct kunit *test);

/* Suite iomap_rs_punch; its inodes come from iomap_rs_testfs.h. */
u64 iomap_rs_kunit_punch_seed(void);
void iomap_rs_punch_model(struct kunit *test);
void iomap_rs_punch_dirty_beyond_eof(struct kunit *test);
void iomap_rs_punch_folio_spanning_eof(struct kunit *test);
void iomap_rs_punch_bad_ranges(struct kunit *test);
void iomap_rs_punch_error_stops_unlocked(struct kunit *test);
void iomap_rs_punch_c_abi(struct kunit *test);

/* Suite iomap_rs_write. */
/*
 * A user buffer of the running case holding @len bytes of @data, which end
 * at a page boundary followed by an unmapped page: a copy of more than @len
 * bytes from it faults at the end of the data. Returns its address, 0 if it
 * could not be made.
 */
unsigned long iomap_rs_kunit_user_buffer(struct kunit *test, const void *data,
					 size_t len);
void iomap_rs_write_faulting_buffer(struct kunit *test);
void iomap_rs_write_short_copy_retry(struct kunit *test);
void iomap_rs_write_nowait_locked_folio(struct kunit *test);
void iomap_rs_write_stale_nth_folio(struct kunit *test);
void iomap_rs_write_block_sizes(struct kunit *test);
void iomap_rs_write_bad_mappings(struct kunit *test);
void iomap_rs_zero_range_cached(struct kunit *test);
void iomap_rs_zero_range_bad_input(struct kunit *test);

#endif /* _FS_IOMAP_RS_KUNIT_H */
