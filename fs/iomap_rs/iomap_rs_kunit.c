// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites of iomap_rs. The cases are Rust functions (iomap_rs_tests.rs);
 * this file only declares the suites to KUnit and gives Rust a way to fail a
 * case with a message that lands in the KUnit result.
 */
#include <kunit/test.h>
#include <linux/iomap_rs.h>
#include <linux/moduleparam.h>
#include <linux/random.h>

#include "iomap_rs_kunit.h"

void iomap_rs_kunit_fail(struct kunit *test, const char *file, int line,
			 const char *msg)
{
	KUNIT_FAIL(test, "%s:%d: %s", file, line, msg);
}

void iomap_rs_kunit_info(struct kunit *test, const char *msg)
{
	kunit_info(test, "%s", msg);
}

static void iomap_rs_smoke_c_sees_rust(struct kunit *test)
{
	/* The Rust object is linked in, initialised, and built against our header. */
	KUNIT_EXPECT_EQ(test, iomap_rs_abi_version(), IOMAP_RS_ABI_VERSION);
	KUNIT_EXPECT_TRUE(test, iomap_rs_initialized());
}

static struct kunit_case iomap_rs_smoke_cases[] = {
	KUNIT_CASE(iomap_rs_smoke_c_sees_rust),
	KUNIT_CASE(iomap_rs_smoke_abi_version),
	KUNIT_CASE(iomap_rs_smoke_file_range),
	KUNIT_CASE(iomap_rs_smoke_first_chunk_walk),
	{}
};

static struct kunit_suite iomap_rs_smoke_suite = {
	.name = "iomap_rs_smoke",
	.test_cases = iomap_rs_smoke_cases,
};

/*
 * The iterator against a fake filesystem whose validity cookie changes
 * mid-write: stale mapping -> short write -> remap of the rest.
 */
static struct kunit_case iomap_rs_iter_cases[] = {
	KUNIT_CASE(iomap_rs_iter_arithmetic),
	KUNIT_CASE(iomap_rs_iter_srcmap_clamps),
	KUNIT_CASE(iomap_rs_iter_stale_remap),
	KUNIT_CASE(iomap_rs_iter_stale_before_progress),
	KUNIT_CASE(iomap_rs_iter_zero_length_and_eof),
	KUNIT_CASE(iomap_rs_iter_errors),
	{}
};

static struct kunit_suite iomap_rs_iter_suite = {
	.name = "iomap_rs_iter",
	.test_cases = iomap_rs_iter_cases,
};

/*
 * The delalloc release against real page cache, on inodes of
 * iomap_rs_testfs.c.
 */
static ulong punch_seed;
module_param(punch_seed, ulong, 0444);
MODULE_PARM_DESC(punch_seed,
		 "seed of iomap_rs_punch's randomized cases (0: random)");

u64 iomap_rs_kunit_punch_seed(void)
{
	return punch_seed ? punch_seed : get_random_u64();
}

static struct kunit_case iomap_rs_punch_cases[] = {
	KUNIT_CASE(iomap_rs_punch_model),
	KUNIT_CASE(iomap_rs_punch_dirty_beyond_eof),
	KUNIT_CASE(iomap_rs_punch_folio_spanning_eof),
	KUNIT_CASE(iomap_rs_punch_bad_ranges),
	KUNIT_CASE(iomap_rs_punch_error_stops_unlocked),
	KUNIT_CASE(iomap_rs_punch_c_abi),
	{}
};

static struct kunit_suite iomap_rs_punch_suite = {
	.name = "iomap_rs_punch",
	.test_cases = iomap_rs_punch_cases,
};

kunit_test_suites(&iomap_rs_smoke_suite, &iomap_rs_iter_suite,
		  &iomap_rs_punch_suite);
