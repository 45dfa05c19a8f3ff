/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The page-table algorithms, written once and expanded per format.
 *
 * A format file (fmt/pt_<fmt>.c) defines PT_FMT (the prefix of its
 * primitives), PT_FMT_ENUM, PT_FMT_NAME and PT_FMT_INFO (the prefix of its
 * constants), includes its header fmt/<fmt>.h, then this file, which emits
 * `const struct pt_fmt_ops siommu_pt_ops_<fmt>`.  The primitives a format
 * provides, all static inline:
 *
 *   present(pt, e, level)   the entry maps something (table or leaf)
 *   is_leaf(e, level)       a present entry is a leaf
 *   table_pa(e), leaf_pa(e, level)
 *   mk_table(pt, pa), mk_leaf(pt, pa, level, prot)
 *   leaf_prot(pt, e)        SIOMMU_PT_* the leaf grants
 *   access(pt, e, acc, &new)  permission check; new = e with A/D updated
 *   has_dirty(pt), dirty(pt, e), clean(pt, e)
 *   ias(levels)             input address width
 *
 * Rules every function here keeps (see pgtable.c for the whole design):
 *  - Called inside an RCU read-side section, except free_tree().
 *  - Each entry is read once per decision with pt_load() (acquire).
 *  - A table page is published with one release compare-and-swap from 0
 *    (pt_install_table); a page that lost the race was never visible and is
 *    freed at once.
 *  - Entries are cleared with an atomic exchange: whoever gets a table
 *    pointer out of the exchange owns that page, so two racing unmaps
 *    (a caller error) can never both free it.
 *  - Nothing here frees a page that was ever reachable: unmap hands
 *    detached pages to the gather, and pgtable.c frees them after the
 *    invalidation callback and a grace period.
 */
#ifndef PT_FMT
#error "define PT_FMT before including pt_template.h"
#endif

#include <errno.h>
#include <string.h>

#define PT_CAT_(a, b)	a##b
#define PT_CAT(a, b)	PT_CAT_(a, b)
#define F(name)		PT_CAT(PT_FMT, PT_CAT(pt_, name))
#define FI(name)	PT_CAT(PT_FMT_INFO, name)

#define pt_present	F(present)
#define pt_is_leaf	F(is_leaf)
#define pt_table_pa	F(table_pa)
#define pt_leaf_pa	F(leaf_pa)

static inline uint64_t *F(child)(const struct siommu_pt *pt, uint64_t e)
{
	return pt_host(pt, pt_table_pa(e));
}

/*
 * Make sure the entry at @ptep (at @level > 0) points to a table page.
 * *e holds what the caller read there (not present); on return, the entry
 * now in place.  Returns 0, -ENOMEM, or -EEXIST if a leaf appeared there.
 */
static int F(install_table)(struct siommu_pt *pt, uint64_t *ptep,
			    unsigned int level, uint64_t *e)
{
	uint64_t *page, want, expected = *e;

	page = pt_page_alloc(pt);
	if (!page)
		return -ENOMEM;
	want = F(mk_table)(pt, pt_phys(pt, page));
	siommu_debug_yield(SIOMMU_YIELD_PUBLISH);
	/*
	 * The zeroed page must be visible before the entry that links it.
	 * Pairs with the acquire load in pt_load() on every walk side.
	 */
	if (__atomic_compare_exchange_n(ptep, &expected, want, false,
					__ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
		*e = want;
		return 0;
	}
	/* Lost the race: our page was never visible, free it now. */
	pt_page_free(pt, page);
	*e = expected;
	if (!pt_present(pt, expected, level))
		return -EAGAIN;		/* cleared again meanwhile: caller retries */
	return pt_is_leaf(expected, level) ? -EEXIST : 0;
}

/* -EEXIST if any leaf overlaps [iova, last] below @table; 0 otherwise. */
static int F(check_empty)(struct siommu_pt *pt, const uint64_t *table,
			  unsigned int level, uint64_t iova, uint64_t last)
{
	uint64_t sz = pt_level_size(level);
	unsigned int idx;

	for (idx = pt_index(iova, level); idx < PT_ITEMS; idx++) {
		uint64_t start = iova & ~(sz - 1), end = start + sz - 1;
		uint64_t e = pt_load(&table[idx]);

		if (pt_present(pt, e, level)) {
			if (pt_is_leaf(e, level))
				return -EEXIST;
			if (F(check_empty)(pt, F(child)(pt, e), level - 1, iova,
					   end < last ? end : last))
				return -EEXIST;
		}
		if (end >= last)
			break;
		iova = end + 1;
	}
	return 0;
}

/* Bytes mapped below @table; adds the table pages of the subtree to *pages. */
static uint64_t F(count_tree)(struct siommu_pt *pt, const uint64_t *table,
			      unsigned int level, uint64_t *pages);

/*
 * SIOMMU_PT_F_LINUX: the table entry @e at @ptep (@level) holds the slot a
 * superpage of the map at @iova may take.  If no leaf is left below it (a
 * table emptied by earlier unmaps), detach it into @g, as Linux's
 * switch_to_super_page() frees it, and return true (the caller reads the
 * slot again; also when the entry changed under us).  False: a leaf is
 * below, the default placement (smaller pages) applies.
 * The page is freed as every detached page is: after @g's sync (the
 * invalidation, SIOMMU_PT_INVAL_TABLES) and a grace period, so a walker
 * still inside it reads a live page (seed 000).
 */
static bool F(replace_table)(struct siommu_pt *pt, uint64_t *ptep, unsigned int level,
			     uint64_t e, uint64_t iova, struct siommu_pt_gather *g)
{
	uint64_t sz = pt_level_size(level), start = iova & ~(sz - 1), pages = 0;
	uint64_t *child = F(child)(pt, e);

	if (F(check_empty)(pt, child, level - 1, start, start + sz - 1))
		return false;
	/* Step 1 of reclamation: the parent entry cleared; we own what it held. */
	if (!__atomic_compare_exchange_n(ptep, &e, 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return true;
	siommu_debug_yield(SIOMMU_YIELD_RECLAIM);
	F(count_tree)(pt, child, level - 1, &pages);
	pt_gather_table(pt, g, child, level - 1, pages);
	pt_gather_range(g, start, start + sz - 1);
	return true;
}

/*
 * One pass of map over [iova, iova + size).  Without @commit it publishes
 * the table pages the leaves will need (and writes no leaf); with @commit it
 * writes the leaves, each with a compare-and-swap from the empty value, and
 * counts them in *done.  Both passes make the same placement decisions: the
 * largest page alignment allows, or smaller where a table page holds the
 * slot of a larger one.  Returns 0, -ENOMEM or -EEXIST (a concurrent
 * overlapping writer; map checked the range first).
 */
static int F(map_pass)(struct siommu_pt *pt, uint64_t iova, uint64_t pa,
		       uint64_t size, unsigned int prot, bool commit,
		       uint64_t *done, struct siommu_pt_gather *g)
{
	while (size) {
		unsigned int want = pt_best_level(pt, iova, pa, size);
		unsigned int level = pt->top;
		uint64_t *table = pt->root;
		uint64_t *ptep, e, sz;
		int ret;

		/* Descend to the level the leaf goes to. */
		for (;;) {
			ptep = &table[pt_index(iova, level)];
			e = pt_load(ptep);
			if (level == want) {
				if (!pt_present(pt, e, level))
					break;
				if (pt_is_leaf(e, level))
					return -EEXIST;
				if (g && !commit && F(replace_table)(pt, ptep, level, e, iova, g))
					continue;	/* the slot is empty now: read it again */
				want--;	/* a table holds the slot: smaller pages below */
			} else if (!pt_present(pt, e, level)) {
				ret = F(install_table)(pt, ptep, level, &e);
				if (ret == -EAGAIN)
					continue;
				if (ret)
					return ret;
			} else if (pt_is_leaf(e, level)) {
				return -EEXIST;
			}
			table = F(child)(pt, e);
			level--;
			siommu_debug_yield(SIOMMU_YIELD_PT_WALK);
		}

		/* Fill consecutive empty slots of this table at this level. */
		sz = pt_level_size(level);
		for (;;) {
			if (commit) {
				uint64_t leaf = F(mk_leaf)(pt, pa, level, prot);

				if (!__atomic_compare_exchange_n(ptep, &e, leaf, false,
								 __ATOMIC_RELEASE,
								 __ATOMIC_RELAXED))
					break;	/* changed under us: redo from the root */
				*done += sz;
			}
			iova += sz;
			pa += sz;
			size -= sz;
			if (!size || !pt_index(iova, level) ||
			    pt_best_level(pt, iova, pa, size) != level)
				break;
			ptep = &table[pt_index(iova, level)];
			e = pt_load(ptep);
			if (pt_present(pt, e, level))
				break;	/* redo from the root: a table or a leaf */
		}
	}
	return 0;
}

/* Clear the leaves in [iova, iova + size) that map[] wrote (rollback). */
static void F(clear_leaves)(struct siommu_pt *pt, uint64_t iova, uint64_t size)
{
	while (size) {
		uint64_t *table = pt->root;
		unsigned int level = pt->top;
		uint64_t *ptep, e, sz;

		for (;;) {
			ptep = &table[pt_index(iova, level)];
			e = pt_load(ptep);
			if (!pt_present(pt, e, level) || pt_is_leaf(e, level))
				break;
			table = F(child)(pt, e);
			level--;
		}
		sz = pt_level_size(level);
		if (pt_present(pt, e, level))
			__atomic_exchange_n(ptep, 0, __ATOMIC_RELAXED);
		if (sz > size)
			break;
		iova += sz;
		size -= sz;
	}
}

static int F(map)(struct siommu_pt *pt, uint64_t iova, uint64_t pa,
		  uint64_t size, unsigned int prot, struct siommu_pt_gather *g)
{
	uint64_t done = 0;
	int ret;

	/* 1: nothing mapped in the range; nothing allocated if something is. */
	ret = F(check_empty)(pt, pt->root, pt->top, iova, iova + size - 1);
	if (ret)
		return ret;
	/*
	 * 2: the table pages (and, SIOMMU_PT_F_LINUX, empty tables in the
	 * slots of superpages detached); an -ENOMEM here leaves no leaf behind.
	 */
	ret = F(map_pass)(pt, iova, pa, size, prot, false, &done, g);
	if (ret)
		return ret;
	/* 3: the leaves.  Fails only against an overlapping concurrent writer. */
	ret = F(map_pass)(pt, iova, pa, size, prot, true, &done, g);
#if SIOMMU_TESTING_BUILD
	if (!ret && __atomic_load_n(&pt->test_map_eexist, __ATOMIC_RELAXED))
		ret = -EEXIST;	/* tests: as if a concurrent writer won the last slot */
#endif
	if (ret && done) {
		/*
		 * The leaves written so far were visible: their removal is an
		 * invalidation like an unmap's (a seq_retry() racing with it
		 * sees it).  The caller drops what its IOTLB may have cached
		 * (see siommu_pt_map()).
		 */
		pt_inval_begin(pt, iova, iova + done - 1);
		F(clear_leaves)(pt, iova, done);
		pt_inval_end(pt, iova, iova + done - 1);
	}
	return ret;
}

/* Bytes mapped below @table; adds the table pages of the subtree to *pages. */
static uint64_t F(count_tree)(struct siommu_pt *pt, const uint64_t *table,
			      unsigned int level, uint64_t *pages)
{
	uint64_t bytes = 0;
	unsigned int idx;

	(*pages)++;
	for (idx = 0; idx < PT_ITEMS; idx++) {
		uint64_t e = pt_load(&table[idx]);

		if (!pt_present(pt, e, level))
			continue;
		if (pt_is_leaf(e, level))
			bytes += pt_level_size(level);
		else
			bytes += F(count_tree)(pt, F(child)(pt, e), level - 1, pages);
	}
	return bytes;
}

struct F(unmap_state) {
	uint64_t start, last;
	struct siommu_pt_gather *g;
	bool stop;
};

static uint64_t F(unmap_level)(struct siommu_pt *pt, uint64_t *table,
			       unsigned int level, uint64_t iova,
			       struct F(unmap_state) *st)
{
	uint64_t sz = pt_level_size(level), bytes = 0;
	unsigned int idx;

	for (idx = pt_index(iova, level); idx < PT_ITEMS; idx++) {
		uint64_t start = iova & ~(sz - 1), end = start + sz - 1;
		uint64_t *ptep = &table[idx];
		uint64_t e = pt_load(ptep);

		if (pt_present(pt, e, level)) {
			bool whole = start >= st->start && end <= st->last;

			if (pt_is_leaf(e, level) && !whole) {
				st->stop = true;	/* never split a larger page */
				break;
			}
			if (whole) {
				/*
				 * Step 1 of reclamation: clear the parent entry.
				 * The exchange makes us the only owner of what
				 * it held.  Steps 2-4 (invalidate, grace period,
				 * free) are siommu_pt_gather_sync()'s.
				 */
				e = __atomic_exchange_n(ptep, 0, __ATOMIC_ACQ_REL);
				siommu_debug_yield(SIOMMU_YIELD_RECLAIM);
				if (pt_present(pt, e, level)) {
					if (pt_is_leaf(e, level)) {
						bytes += sz;
					} else {
						uint64_t *child = F(child)(pt, e);
						uint64_t pages = 0;

						bytes += F(count_tree)(pt, child, level - 1,
								       &pages);
						pt_gather_table(pt, st->g, child, level - 1,
								pages);
					}
					pt_gather_range(st->g, start, end);
				}
			} else {
				bytes += F(unmap_level)(pt, F(child)(pt, e), level - 1,
							iova, st);
				if (st->stop)
					break;
			}
		}
		if (end >= st->last)
			break;
		iova = end + 1;
	}
	return bytes;
}

/* Is @addr inside a leaf that begins before it (@first) or ends after it? */
static bool F(straddles)(struct siommu_pt *pt, uint64_t addr, bool first)
{
	const uint64_t *table = pt->root;
	unsigned int level = pt->top;

	for (;;) {
		uint64_t e = pt_load(&table[pt_index(addr, level)]);
		uint64_t mask = pt_level_size(level) - 1;

		if (!pt_present(pt, e, level))
			return false;
		if (pt_is_leaf(e, level))
			return first ? (addr & mask) != 0 : (addr & mask) != mask;
		table = F(child)(pt, e);
		level--;
	}
}

/* The level of the leaf mapping @addr, or -1. */
static int F(leaf_level)(struct siommu_pt *pt, uint64_t addr)
{
	const uint64_t *table = pt->root;
	unsigned int level = pt->top;

	for (;;) {
		uint64_t e = pt_load(&table[pt_index(addr, level)]);

		if (!pt_present(pt, e, level))
			return -1;
		if (pt_is_leaf(e, level))
			return (int)level;
		table = F(child)(pt, e);
		level--;
	}
}

static int64_t F(unmap)(struct siommu_pt *pt, uint64_t iova, uint64_t last,
			struct siommu_pt_gather *g)
{
	struct F(unmap_state) st;
	uint64_t bytes;

	if (pt->flags & SIOMMU_PT_F_LINUX) {
		/*
		 * __iommu_unmap() unmaps chunk by chunk and intel_iommu_unmap()
		 * turns a chunk smaller than the leaf at its start into that
		 * leaf's size: so a range ending inside a large leaf that
		 * begins inside the range takes all of that leaf.  A range
		 * starting inside a large leaf stays -EINVAL below: Linux's
		 * walk of a superpage entered in its middle is undefined (it
		 * would read the page as a table).
		 */
		int lvl = F(leaf_level)(pt, last);

		if (lvl > 0) {
			uint64_t sz = pt_level_size((unsigned int)lvl);

			if ((last & ~(sz - 1)) >= iova)
				last |= sz - 1;
		}
	}
	st = (struct F(unmap_state)){ .start = iova, .last = last, .g = g };

	if (F(straddles)(pt, iova, true) || F(straddles)(pt, last, false))
		return -EINVAL;
	pt_inval_begin(pt, iova, last);
	bytes = F(unmap_level)(pt, pt->root, pt->top, iova, &st);
	pt_inval_end(pt, iova, last);
	return (int64_t)bytes;
}

static int F(iova_to_phys)(struct siommu_pt *pt, uint64_t iova, uint64_t *pa)
{
	const uint64_t *table = pt->root;
	unsigned int level = pt->top;

	for (;;) {
		uint64_t e = pt_load(&table[pt_index(iova, level)]);

		if (!pt_present(pt, e, level))
			return -ENOENT;
		if (pt_is_leaf(e, level)) {
			*pa = pt_leaf_pa(e, level) | (iova & (pt_level_size(level) - 1));
			return 0;
		}
		table = F(child)(pt, e);
		level--;
		siommu_debug_yield(SIOMMU_YIELD_PT_WALK);
	}
}

/*
 * May the 4 KiB leaf at @ptep join a run that continues at @pa with the
 * permissions @prot, for @access?  It must be a present leaf there, grant
 * @access with the same permissions and, for a write, already be in the
 * state the write would leave (dirty: no leaf is made dirty that was not
 * written).  For a read its accessed state is set as the walk would set it
 * (a compare-and-swap; a changed entry ends the run).
 *
 * The common case first: the entry is the run's first leaf @e0 (as the
 * walk left it) with only its output address moved on by @pa - @pa0.  If
 * the address field took the difference without a carry (its address is
 * @pa), every other bit equals @e0's: same permissions, accessed and dirty
 * state, so it joins as is.
 */
static inline bool F(run_join)(struct siommu_pt *pt, uint64_t *ptep, uint64_t e0,
			       uint64_t pa0, uint64_t pa, unsigned int prot,
			       unsigned int access)
{
	uint64_t e = pt_load(ptep), newe;

	if (e == e0 + (pa - pa0) && pt_leaf_pa(e, 0) == pa)
		return true;
	if (!pt_present(pt, e, 0) || !pt_is_leaf(e, 0) || pt_leaf_pa(e, 0) != pa)
		return false;
	if (F(access)(pt, e, access, &newe) || F(leaf_prot)(pt, newe) != prot)
		return false;
	if (newe == e)
		return true;
	if (access & SIOMMU_PT_ACC_WRITE)
		return false;
	return __atomic_compare_exchange_n(ptep, &e, newe, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_ACQUIRE);
}

/*
 * translate, and with @run (not NULL) the run of 4 KiB leaves around a
 * 4 KiB leaf in its table: run[0], run[1] = first and last byte (a larger
 * leaf: its page).
 */
static int F(translate)(struct siommu_pt *pt, uint64_t iova, unsigned int access,
			struct siommu_pt_xlate *out, uint64_t *run)
{
	uint64_t *table, *ptep, e, newe, pa0;
	unsigned int level, i, i0, lo, hi;
	int ret;

again:
	table = pt->root;
	level = pt->top;
	for (;;) {
		ptep = &table[pt_index(iova, level)];
		e = pt_load(ptep);
		if (!pt_present(pt, e, level))
			return -ENOENT;
		if (pt_is_leaf(e, level))
			break;
		table = F(child)(pt, e);
		level--;
		siommu_debug_yield(SIOMMU_YIELD_PT_WALK);
	}
	for (;;) {
		ret = F(access)(pt, e, access, &newe);
		if (ret)
			return ret;
		/* Set A/D as hardware does: a locked compare-and-swap. */
		if (newe == e || __atomic_compare_exchange_n(ptep, &e, newe, false,
							     __ATOMIC_ACQUIRE,
							     __ATOMIC_ACQUIRE))
			break;
		if (!pt_present(pt, e, level) || !pt_is_leaf(e, level))
			goto again;
	}
	out->pa = pt_leaf_pa(e, level) | (iova & (pt_level_size(level) - 1));
	out->pgsize_lg2 = pt_level_shift(level);
	out->prot = F(leaf_prot)(pt, newe);
	if (!run)
		return 0;
	run[0] = iova & ~(pt_level_size(level) - 1);
	run[1] = run[0] + pt_level_size(level) - 1;
	if (level)
		return 0;
	/* The neighbours in the leaf table, outwards, while they continue. */
	i0 = pt_index(iova, 0);
	pa0 = pt_leaf_pa(e, 0);
	for (hi = i0; hi + 1 < PT_ITEMS; hi++)
		if (!F(run_join)(pt, &table[hi + 1], newe, pa0,
				 pa0 + ((uint64_t)(hi + 1 - i0) << PT_PAGE_SHIFT),
				 out->prot, access))
			break;
	for (lo = i0; lo > 0; lo--) {
		i = lo - 1;
		if (!F(run_join)(pt, &table[i], newe, pa0,
				 pa0 - ((uint64_t)(i0 - i) << PT_PAGE_SHIFT),
				 out->prot, access))
			break;
	}
	run[0] -= (uint64_t)(i0 - lo) << PT_PAGE_SHIFT;
	run[1] += (uint64_t)(hi - i0) << PT_PAGE_SHIFT;
	return 0;
}

static void F(walk)(struct siommu_pt *pt, uint64_t iova, struct siommu_pt_walk *w)
{
	const uint64_t *table = pt->root;
	unsigned int level = pt->top;

	memset(w, 0, sizeof(*w));
	w->levels = pt->levels;
	w->leaf_level = -1;
	for (;;) {
		uint64_t e = pt_load(&table[pt_index(iova, level)]);

		w->table_phys[level] = pt_phys(pt, table);
		w->entry[level] = e;
		w->last_level = (int)level;
		if (!pt_present(pt, e, level))
			return;
		if (pt_is_leaf(e, level)) {
			w->leaf_level = (int)level;
			return;
		}
		table = F(child)(pt, e);
		level--;
	}
}

static void pt_bitmap_set(uint64_t *bitmap, uint64_t first, uint64_t n)
{
	while (n) {
		uint64_t bit = first & 63, cnt = 64 - bit;
		uint64_t mask;

		if (cnt > n)
			cnt = n;
		mask = (cnt == 64 ? ~0ull : ((1ull << cnt) - 1)) << bit;
		bitmap[first >> 6] |= mask;
		first += cnt;
		n -= cnt;
	}
}

struct F(dirty_state) {
	uint64_t start, last;
	bool clear;
	uint64_t *bitmap;
	unsigned int pgshift;
	int64_t count;
	uint64_t cleared_start, cleared_last;
};

static void F(dirty_level)(struct siommu_pt *pt, uint64_t *table, unsigned int level,
			   uint64_t iova, struct F(dirty_state) *st)
{
	uint64_t sz = pt_level_size(level);
	unsigned int idx;

	for (idx = pt_index(iova, level); idx < PT_ITEMS; idx++) {
		uint64_t start = iova & ~(sz - 1), end = start + sz - 1;
		uint64_t *ptep = &table[idx];
		uint64_t e = pt_load(ptep);

		if (pt_present(pt, e, level)) {
			if (!pt_is_leaf(e, level)) {
				F(dirty_level)(pt, F(child)(pt, e), level - 1, iova, st);
			} else if (F(dirty)(pt, e)) {
				uint64_t lo = start < st->start ? st->start : start;
				uint64_t hi = end > st->last ? st->last : end;

				/* Clear with a CAS: hardware may set A/D meanwhile. */
				while (st->clear &&
				       !__atomic_compare_exchange_n(ptep, &e, F(clean)(pt, e),
								    false, __ATOMIC_RELAXED,
								    __ATOMIC_RELAXED)) {
					if (!pt_present(pt, e, level) ||
					    !pt_is_leaf(e, level) || !F(dirty)(pt, e))
						break;
				}
				pt_bitmap_set(st->bitmap, (lo - st->start) >> st->pgshift,
					      ((hi - lo) >> st->pgshift) + 1);
				st->count++;
				if (st->clear) {
					if (st->cleared_start > st->cleared_last) {
						st->cleared_start = start;
						st->cleared_last = end;
					} else {
						st->cleared_last = end;
					}
				}
			}
		}
		if (end >= st->last)
			break;
		iova = end + 1;
	}
}

static int64_t F(read_dirty)(struct siommu_pt *pt, uint64_t iova, uint64_t last,
			     bool clear, uint64_t *bitmap, unsigned int pgshift,
			     uint64_t *cleared_start, uint64_t *cleared_last)
{
	struct F(dirty_state) st = {
		.start = iova, .last = last, .clear = clear, .bitmap = bitmap,
		.pgshift = pgshift, .cleared_start = 1, .cleared_last = 0,
	};

	F(dirty_level)(pt, pt->root, pt->top, iova, &st);
	*cleared_start = st.cleared_start;
	*cleared_last = st.cleared_last;
	return st.count;
}

static int F(next_leaf_level)(struct siommu_pt *pt, const uint64_t *table,
			      unsigned int level, uint64_t *iova, uint64_t *path)
{
	uint64_t sz = pt_level_size(level);
	unsigned int idx;

	for (idx = pt_index(*iova, level); idx < PT_ITEMS; idx++) {
		uint64_t start = *iova & ~(sz - 1);
		uint64_t e = pt_load(&table[idx]);

		if (pt_present(pt, e, level)) {
			int found;

			path[level] = e;
			if (pt_is_leaf(e, level) && start < *iova) {
				/*
				 * A large leaf appeared over the cursor since the
				 * last row (concurrent unmap and map): its start
				 * was passed already.  Skip it, so that rows stay
				 * in IOVA order and never overlap.
				 */
			} else if (pt_is_leaf(e, level)) {
				/* Levels below a large leaf: not on the path. */
				memset(path, 0, level * sizeof(*path));
				*iova = start;
				return (int)level;
			} else {
				found = F(next_leaf_level)(pt, F(child)(pt, e), level - 1,
							   iova, path);
				if (found >= 0)
					return found;
			}
		}
		*iova = start + sz;
	}
	return -1;
}

static int F(next_leaf)(struct siommu_pt *pt, uint64_t *iova, uint64_t *path)
{
	memset(path, 0, SIOMMU_PT_MAX_LEVELS * sizeof(*path));
	return F(next_leaf_level)(pt, pt->root, pt->top, iova, path);
}

static void F(free_tree)(struct siommu_pt *pt, uint64_t *table, unsigned int level)
{
	unsigned int idx;

	if (level) {
		for (idx = 0; idx < PT_ITEMS; idx++) {
			uint64_t e = siommu_load_relaxed(&table[idx]);

			if (pt_present(pt, e, level) && !pt_is_leaf(e, level))
				F(free_tree)(pt, F(child)(pt, e), level - 1);
		}
	}
	pt_page_free(pt, table);
}

static bool F(has_dirty_op)(const struct siommu_pt *pt)
{
	return F(has_dirty)(pt);
}

static const char *const F(dump_names)[] = FI(_DUMP_NAMES);

const struct pt_fmt_ops PT_CAT(siommu_pt_ops_, PT_FMT) = {
	.fmt = PT_FMT_ENUM,
	.name = PT_FMT_NAME,
	.min_levels = FI(_MIN_LEVELS),
	.max_levels = FI(_MAX_LEVELS),
	.default_levels = FI(_DEFAULT_LEVELS),
	.max_oas_lg2 = FI(_MAX_OAS),
	.ias_lg2 = F(ias),
	.valid_flags = FI(_FLAGS),
	.dump_columns = SIOMMU_ARRAY_SIZE(F(dump_names)),
	.dump_names = F(dump_names),
	.map = F(map),
	.unmap = F(unmap),
	.iova_to_phys = F(iova_to_phys),
	.translate = F(translate),
	.walk = F(walk),
	.dirty = F(read_dirty),
	.next_leaf = F(next_leaf),
	.free_tree = F(free_tree),
	.has_dirty = F(has_dirty_op),
};
