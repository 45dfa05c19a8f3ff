/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * I/O page tables: internal definitions shared by pgtable.c, pool.c and the
 * per-format walkers that pt_template.h expands.
 *
 * Levels are numbered from the bottom: level 0 holds 4 KiB leaves, level 1
 * 2 MiB, level 2 1 GiB, level 3 and 4 only tables.  Every format here has a
 * 4 KiB granule: 512 eight-byte entries per table, 9 IOVA bits per level.
 * The root is at level pt->top = levels - 1.
 */
#ifndef SIOMMU_PGTABLE_PT_INTERNAL_H
#define SIOMMU_PGTABLE_PT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "softiommu/pgtable.h"
#include "base/compiler.h"
#include "base/debug.h"
#include "base/lock.h"
#include "base/rcu.h"

#define PT_PAGE_SHIFT		12
#define PT_PAGE_SIZE		(1ull << PT_PAGE_SHIFT)
#define PT_ITEMS_LG2		9
#define PT_ITEMS		(1u << PT_ITEMS_LG2)
#define PT_LEAF_LEVELS		3		/* leaves at levels 0, 1, 2 */
#define PT_SEQ_SHARDS		64
#define PT_SEQ_SHARD_SHIFT	30		/* one shard per 1 GiB region */
#define PT_DEFAULT_POOL_PAGES	(1u << 17)
#define PT_MAX_POOL_PAGES	(1u << 26)	/* 256 GiB of tables */

struct siommu_pt;

/*
 * Per-format operations: the small runtime ops table.  pt_template.h emits
 * one per format from the format's inline primitives.  All walkers get a
 * range already checked against the table's widths.
 */
struct pt_fmt_ops {
	enum siommu_pt_fmt fmt;
	const char *name;
	unsigned int min_levels, max_levels, default_levels;
	unsigned int max_oas_lg2;
	unsigned int (*ias_lg2)(unsigned int levels);
	unsigned int valid_flags;
	/* Dump: column names, top column first; the last is level 0. */
	unsigned int dump_columns;
	const char *const *dump_names;

	/*
	 * Context: inside a read-side section.  @g: where a map on a
	 * SIOMMU_PT_F_LINUX table puts the empty tables it replaces by a
	 * superpage (NULL: it never replaces one).
	 */
	int (*map)(struct siommu_pt *pt, uint64_t iova, uint64_t pa,
		   uint64_t size, unsigned int prot, struct siommu_pt_gather *g);
	int64_t (*unmap)(struct siommu_pt *pt, uint64_t iova, uint64_t last,
			 struct siommu_pt_gather *g);
	int (*iova_to_phys)(struct siommu_pt *pt, uint64_t iova, uint64_t *pa);
	/* @run: NULL, or the run of 4 KiB leaves (siommu_pt_translate_run_rcu()). */
	int (*translate)(struct siommu_pt *pt, uint64_t iova, unsigned int access,
			 struct siommu_pt_xlate *out, uint64_t *run);
	void (*walk)(struct siommu_pt *pt, uint64_t iova, struct siommu_pt_walk *w);
	int64_t (*dirty)(struct siommu_pt *pt, uint64_t iova, uint64_t last,
			 bool clear, uint64_t *bitmap, unsigned int pgshift,
			 uint64_t *cleared_start, uint64_t *cleared_last);
	/* First leaf at or after *iova: fills path[] (by level), returns its level or -1. */
	int (*next_leaf)(struct siommu_pt *pt, uint64_t *iova, uint64_t *path);
	/* Exclusive access (after a grace period, or at destroy). */
	void (*free_tree)(struct siommu_pt *pt, uint64_t *table, unsigned int level);
	bool (*has_dirty)(const struct siommu_pt *pt);
};

extern const struct pt_fmt_ops siommu_pt_ops_x86_64;
extern const struct pt_fmt_ops siommu_pt_ops_vtd_ss;
extern const struct pt_fmt_ops siommu_pt_ops_arm_lpae_s1;

/* Bookkeeping of one pool page ("struct page"): never read by walkers. */
struct pt_page_meta {
	uint32_t next;			/* free list or gather list: index + 1; 0 ends */
	uint8_t level;			/* level of the table while detached */
	uint8_t in_use;			/* [pool_lock] checks double frees */
};

/* One invalidation-sequence shard: its own cache line. */
struct pt_seq_shard {
	uint64_t in_progress;		/* atomic: unmaps running over this region */
	uint64_t seq;			/* atomic: unmaps finished */
} siommu_cacheline_aligned;

struct siommu_pt {
	/* Immutable after create. */
	const struct pt_fmt_ops *ops;
	struct siommu_ctx *ctx;
	unsigned int levels;
	unsigned int top;		/* levels - 1 */
	unsigned int ias_lg2;
	unsigned int oas_lg2;
	unsigned int flags;
	uint64_t pgsize_bitmap;
	uint64_t *root;
	uint64_t root_pa;

	/* The pool: table pages are pool pages; immutable fields first. */
	uint8_t *arena;			/* host address of pool page 0 */
	uint64_t arena_bytes;
	uint64_t phys_base;		/* physical address of pool page 0 */
	uint64_t pa_to_host;		/* host = pa + pa_to_host (mod 2^64) */
	uint32_t nr_pages;
	struct pt_page_meta *meta;	/* nr_pages entries */
	struct siommu_mutex pool_lock;	/* protects fields marked [P] */
	uint32_t bump;			/* [P] pages ever handed out from the top */
	uint32_t free_head, free_tail;	/* [P] FIFO of free pages (index + 1) */
	uint64_t pages_in_use;		/* [P] written; relaxed reads */
	uint64_t pages_peak;		/* [P] written; relaxed reads */
	uint64_t pages_detached;	/* atomic: in gathers not yet synced */
	uint64_t pages_reclaim;		/* atomic: synced, before their grace period */
	/*
	 * Deferred reclamation without allocation: one RCU head per table.
	 * Synced gathers' lists are appended to the queue; the armed callback
	 * frees the in-flight list after its grace period and, if the queue
	 * is not empty, moves it to in flight and re-arms itself.
	 */
	struct siommu_rcu_head reclaim_rcu;	/* [P] used while rcu_armed */
	bool rcu_armed;			/* [P] the callback is queued or running */
	bool orphaned;			/* [P] destroyed while armed: the callback frees @pt */
	uint32_t rq_head, rq_tail;	/* [P] queued lists (meta index + 1) */
	uint64_t rq_pages;		/* [P] */
	uint32_t rf_head;		/* [P] in flight: the armed callback frees it */
	uint64_t rf_pages;		/* [P] */
	uint64_t users;			/* atomic: siommu_pt_hold() count */
#if SIOMMU_TESTING_BUILD
	bool test_skip_grace;		/* tests only: free before the grace period */
	bool test_map_eexist;		/* tests only: the commit pass loses its last CAS */
	bool test_map_enomem_partial;	/* tests only: an -ENOMEM map leaves a page mapped */
#endif

	struct pt_seq_shard seq[PT_SEQ_SHARDS];
};

/* ---- addresses and indices ---- */

static inline unsigned int pt_level_shift(unsigned int level)
{
	return PT_PAGE_SHIFT + PT_ITEMS_LG2 * level;
}

static inline uint64_t pt_level_size(unsigned int level)
{
	return 1ull << pt_level_shift(level);
}

static inline unsigned int pt_index(uint64_t iova, unsigned int level)
{
	return (unsigned int)(iova >> pt_level_shift(level)) & (PT_ITEMS - 1);
}

/* Host address of the table page at physical address @pa. */
static inline uint64_t *pt_host(const struct siommu_pt *pt, uint64_t pa)
{
	return (uint64_t *)(uintptr_t)(pa + pt->pa_to_host);
}

static inline uint64_t pt_phys(const struct siommu_pt *pt, const void *host)
{
	return (uint64_t)(uintptr_t)host - pt->pa_to_host;
}

static inline uint32_t pt_page_index(const struct siommu_pt *pt, const void *host)
{
	return (uint32_t)(((const uint8_t *)host - pt->arena) >> PT_PAGE_SHIFT);
}

static inline uint64_t *pt_page_host(const struct siommu_pt *pt, uint32_t idx)
{
	return (uint64_t *)(pt->arena + ((uint64_t)idx << PT_PAGE_SHIFT));
}

/*
 * Every entry a walker reads goes through pt_load(): one acquire load.  Pairs
 * with the release compare-and-swap that publishes a table page
 * (pt_install_table() in pt_template.h): a walker that sees the entry sees
 * the page's zeroed contents.
 */
static inline uint64_t pt_load(const uint64_t *ptep)
{
	return siommu_load_acquire(ptep);
}

/* The largest level whose page fits @iova, @pa and @size. */
static inline unsigned int pt_best_level(const struct siommu_pt *pt, uint64_t iova,
					 uint64_t pa, uint64_t size)
{
	unsigned int level;

	for (level = PT_LEAF_LEVELS - 1; level > 0; level--) {
		uint64_t sz = pt_level_size(level);

		if (level > pt->top || !(pt->pgsize_bitmap & sz))
			continue;
		if (!((iova | pa) & (sz - 1)) && size >= sz)
			return level;
	}
	return 0;
}

/* ---- the pool (pool.c) ---- */

int pt_pool_init(struct siommu_pt *pt, uint64_t nr_pages, uint64_t phys_base);
void pt_pool_fini(struct siommu_pt *pt);
/* A zeroed page, or NULL.  Context: any thread; takes pool_lock. */
uint64_t *pt_page_alloc(struct siommu_pt *pt);
/* Free a page no walker can reach (never published, or after a grace period). */
void pt_page_free(struct siommu_pt *pt, uint64_t *page);

/* ---- gathers (pgtable.c) ---- */

static inline void pt_gather_range(struct siommu_pt_gather *g, uint64_t start,
				   uint64_t last)
{
	if (g->start > g->last) {
		g->start = start;
		g->last = last;
		return;
	}
	if (start < g->start)
		g->start = start;
	if (last > g->last)
		g->last = last;
}

/* Add a detached subtree root (a table page at @level holding @pages pages). */
void pt_gather_table(struct siommu_pt *pt, struct siommu_pt_gather *g,
		     uint64_t *table, unsigned int level, uint64_t pages);

/* ---- invalidation sequence ---- */

void pt_inval_begin(struct siommu_pt *pt, uint64_t iova, uint64_t last);
void pt_inval_end(struct siommu_pt *pt, uint64_t iova, uint64_t last);

#if SIOMMU_TESTING_BUILD
/* Tests only: make gather_sync free before the grace period (a broken reclaim). */
void pt_test_set_skip_grace(struct siommu_pt *pt, bool skip);
/*
 * Tests only: make every map's commit pass end as if an overlapping
 * concurrent writer had taken its last slot (-EEXIST after writing the
 * leaves), to exercise the rollback deterministically.
 */
void pt_test_set_map_eexist(struct siommu_pt *pt, bool on);
/*
 * Tests only: a map that fails with -ENOMEM maps its first page anyway (a
 * broken "on error no mapping was added"), for the fail-nth sweep's broken
 * variant (tests/pgtable/test_pgtable_failnth.c).
 */
void pt_test_set_map_enomem_partial(struct siommu_pt *pt, bool on);
#endif

#endif
