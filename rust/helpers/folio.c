// SPDX-License-Identifier: GPL-2.0

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/swap.h>

struct folio *rust_helper_folio_alloc(gfp_t gfp, unsigned int order)
{
	return folio_alloc(gfp, order);
}

/* The largest order the page allocator serves (larger ones warn and fail). */
unsigned int rust_helper_folio_max_order(void)
{
	return MAX_PAGE_ORDER;
}

void rust_helper_folio_get(struct folio *folio)
{
	folio_get(folio);
}

void rust_helper_folio_put(struct folio *folio)
{
	folio_put(folio);
}

unsigned int rust_helper_folio_order(struct folio *folio)
{
	return folio_order(folio);
}

size_t rust_helper_folio_size(struct folio *folio)
{
	return folio_size(folio);
}

loff_t rust_helper_folio_pos(struct folio *folio)
{
	return folio_pos(folio);
}

/*
 * The checks const_folio_flags() makes with CONFIG_DEBUG_VM_PGFLAGS (a folio,
 * not a tail page): kernel::folio reads the flags words itself, and calls
 * this first in that configuration.
 */
void rust_helper_folio_flags_check(struct folio *folio)
{
	(void)const_folio_flags(folio, 0);
}

bool rust_helper_folio_test_uptodate(struct folio *folio)
{
	return folio_test_uptodate(folio);
}

bool rust_helper_folio_test_dirty(struct folio *folio)
{
	return folio_test_dirty(folio);
}

void rust_helper_folio_lock(struct folio *folio)
{
	folio_lock(folio);
}

bool rust_helper_folio_trylock(struct folio *folio)
{
	return folio_trylock(folio);
}

void rust_helper_folio_mark_accessed(struct folio *folio)
{
	folio_mark_accessed(folio);
}
