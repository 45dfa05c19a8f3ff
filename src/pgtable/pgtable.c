// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * I/O page tables: the public API, argument checks, gathers and reclamation,
 * the invalidation sequence, and the debugfs-layout dump.
 *
 * Terms.  A *table page* holds 512 entries; an *entry* is a leaf (maps a
 * 4 KiB, 2 MiB or 1 GiB page), a table entry (points to a table page one
 * level down) or empty.  Levels count from the bottom (level 0 = 4 KiB
 * leaves).  The formats (fmt/<fmt>.h) say which bits mean what; the
 * algorithms are written once in pt_template.h and expanded per format
 * behind struct pt_fmt_ops.
 *
 * Concurrency design.
 *  - Walkers (iova_to_phys, translate, walk, lookup_level, dump, dirty) take
 *    no lock.  They run in RCU read-side sections and read each entry once
 *    with an acquire load.  Map and unmap also walk inside a read-side
 *    section, which is what keeps a table page they stand in alive even if
 *    an overlapping (erroneous) unmap detaches it.
 *  - Map publishes a new table page with one release compare-and-swap from
 *    the empty entry; leaves are written with a compare-and-swap from the
 *    empty entry too.  Map and unmap of disjoint ranges therefore need no
 *    table-wide lock: they meet only in upper table pages, where a table
 *    entry, once published, is removed only by an unmap covering its whole
 *    span (which a disjoint writer's range cannot overlap).
 *  - Overlapping concurrent writers are a caller error with a defined
 *    outcome: every entry changes by one atomic operation; a map that finds
 *    its slot taken fails with -EEXIST and removes the leaves it wrote; an
 *    unmap owns exactly what its exchanges returned, so no page is freed
 *    twice and none leaks (a table page published into a detached table is
 *    freed with it).  Memory is never corrupted; mappings may be lost.
 *
 * Reclamation (seed 000).  A table page is freed only when an unmap covers
 * its whole span, in this order, which is what makes every walker safe
 * against concurrent unmap:
 *   1. unmap clears the parent entry (atomic exchange), so no new walk can
 *      reach the page; walks already inside it may go on reading it;
 *   2. siommu_pt_gather_sync() runs the caller's IOTLB invalidation
 *      callback for the range (with SIOMMU_PT_INVAL_TABLES: paging-structure
 *      caches hold pointers into the pages), so no cache can lead to it;
 *   3. an RCU grace period passes, so every walk that could have read the
 *      page (every read-side section that was running at step 1) is over;
 *   4. the page is freed (pt_page_free(): back to the pool's FIFO).
 * Step 3 policy: by default a callback after a grace period (the sync never
 * blocks, allocates nothing and cannot fail: the table's own RCU head and
 * the chain through meta[], see pt_reclaim_defer()); synchronize_rcu only
 * with SIOMMU_PT_SYNC_WAIT, never inside a read-side section.  There is no
 * backlog bound that waits: pages waiting for their grace period are out of
 * the pool, and map returns -ENOMEM when the pool is exhausted (a caller
 * that may wait calls siommu_pt_reclaim_wait() and retries).  Waiting
 * where the caller did not ask for it deadlocked: a caller holding a lock
 * that a reader takes inside its section waited for that reader.
 *
 * Locks: the pool lock only (pool.c), a leaf.  No function here waits for
 * a grace period while holding a lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/ctx.h"
#include "pgtable/pt_internal.h"

#define PT_ALL_SIZES	(SIOMMU_PT_SZ_4K | SIOMMU_PT_SZ_2M | SIOMMU_PT_SZ_1G)
#define PT_MIN_OAS	32

static const struct pt_fmt_ops *const pt_formats[] = {
	&siommu_pt_ops_x86_64,
	&siommu_pt_ops_vtd_ss,
	&siommu_pt_ops_arm_lpae_s1,
};

static const struct pt_fmt_ops *pt_fmt_lookup(enum siommu_pt_fmt fmt)
{
	unsigned int i;

	for (i = 0; i < SIOMMU_ARRAY_SIZE(pt_formats); i++)
		if (pt_formats[i]->fmt == fmt)
			return pt_formats[i];
	return NULL;
}

SIOMMU_API const char *siommu_pt_fmt_name(enum siommu_pt_fmt fmt)
{
	const struct pt_fmt_ops *ops = pt_fmt_lookup(fmt);

	return ops ? ops->name : NULL;
}

SIOMMU_API int siommu_pt_fmt_parse(const char *name, enum siommu_pt_fmt *fmt)
{
	unsigned int i;

	if (!name || !fmt)
		return -EINVAL;
	for (i = 0; i < SIOMMU_ARRAY_SIZE(pt_formats); i++) {
		if (!strcmp(pt_formats[i]->name, name)) {
			*fmt = pt_formats[i]->fmt;
			return 0;
		}
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ create/destroy */

SIOMMU_API int siommu_pt_create(struct siommu_ctx *ctx, const struct siommu_pt_cfg *cfg,
				struct siommu_pt **out)
{
	const struct pt_fmt_ops *ops;
	unsigned int levels, oas;
	uint64_t pgsizes, pages, limit;
	struct siommu_pt *pt;
	int ret;

	if (!ctx || !cfg || !out)
		return -EINVAL;
	ops = pt_fmt_lookup(cfg->fmt);
	if (!ops)
		return -EINVAL;
	levels = cfg->levels ? cfg->levels : ops->default_levels;
	if (levels < ops->min_levels || levels > ops->max_levels)
		return -EINVAL;
	oas = cfg->oas_lg2 ? cfg->oas_lg2 : ops->max_oas_lg2;
	if (oas < PT_MIN_OAS || oas > ops->max_oas_lg2)
		return -EINVAL;
	if (cfg->flags & ~ops->valid_flags)
		return -EINVAL;
	pgsizes = cfg->pgsize_bitmap ? cfg->pgsize_bitmap : PT_ALL_SIZES;
	if (!(pgsizes & SIOMMU_PT_SZ_4K) || (pgsizes & ~PT_ALL_SIZES))
		return -EINVAL;
	if (cfg->table_phys_base & (PT_PAGE_SIZE - 1))
		return -EINVAL;
	pages = cfg->max_table_pages ? cfg->max_table_pages : PT_DEFAULT_POOL_PAGES;
	if (pages < 1 || pages > PT_MAX_POOL_PAGES)
		return -EINVAL;
	limit = 1ull << oas;
	if (cfg->table_phys_base &&
	    (cfg->table_phys_base >= limit ||
	     (pages << PT_PAGE_SHIFT) > limit - cfg->table_phys_base))
		return -ERANGE;

	pt = siommu_zalloc_aligned(SIOMMU_CACHELINE, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->ops = ops;
	pt->ctx = ctx;
	pt->levels = levels;
	pt->top = levels - 1;
	pt->ias_lg2 = ops->ias_lg2(levels);
	pt->oas_lg2 = oas;
	pt->flags = cfg->flags;
	pt->pgsize_bitmap = pgsizes;
	ret = pt_pool_init(pt, pages, cfg->table_phys_base);
	if (ret)
		goto err_free;
	if (pt->phys_base >= limit || pt->arena_bytes > limit - pt->phys_base) {
		ret = -ERANGE;		/* host addresses beyond the output width */
		goto err_pool;
	}
	pt->root = pt_page_alloc(pt);
	if (!pt->root) {
		ret = -ENOMEM;
		goto err_pool;
	}
	pt->root_pa = pt_phys(pt, pt->root);
	siommu_ctx_hold(ctx);
	*out = pt;
	return 0;

err_pool:
	pt_pool_fini(pt);
err_free:
	siommu_free(pt);
	return ret;
}

/* The table's memory, when no callback of it is pending: every page is back. */
static void pt_free_final(struct siommu_pt *pt)
{
	SIOMMU_WARN_ON(pt->pages_in_use != 0);
	pt_pool_fini(pt);
	siommu_free(pt);
}

SIOMMU_API int siommu_pt_destroy(struct siommu_pt *pt)
{
	bool orphaned;

	if (!pt)
		return 0;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	/* Pairs with the release in siommu_pt_unhold(). */
	if (__atomic_load_n(&pt->users, __ATOMIC_ACQUIRE))
		return -EBUSY;
	if (__atomic_load_n(&pt->pages_detached, __ATOMIC_ACQUIRE))
		return -EBUSY;
	pt->ops->free_tree(pt, pt->root, pt->top);
	siommu_ctx_unhold(pt->ctx);	/* siommu_ctx_destroy() waits for the callback */
	/*
	 * A reclaim callback still to run uses the pool (its pages wait for
	 * their grace period): waiting for it here (an rcu_barrier, 10 ms and
	 * more with liburcu's call_rcu thread) made every domain free and mm
	 * teardown that unmapped something that slow.  It frees the table
	 * instead, after its own frees (pt_reclaim_cb()).
	 */
	siommu_mutex_lock(&pt->pool_lock);
	pt->orphaned = pt->rcu_armed;
	orphaned = pt->orphaned;
	siommu_mutex_unlock(&pt->pool_lock);
	if (!orphaned)
		pt_free_final(pt);
	return 0;
}

SIOMMU_API int siommu_pt_get_info(struct siommu_pt *pt, struct siommu_pt_info *info)
{
	if (!pt || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->fmt = pt->ops->fmt;
	info->levels = pt->levels;
	info->ias_lg2 = pt->ias_lg2;
	info->oas_lg2 = pt->oas_lg2;
	info->flags = pt->flags;
	info->pgsize_bitmap = pt->pgsize_bitmap;
	info->root_phys = pt->root_pa;
	info->table_pages = siommu_load_relaxed(&pt->pages_in_use);
	info->table_bytes = info->table_pages << PT_PAGE_SHIFT;
	info->table_pages_peak = siommu_load_relaxed(&pt->pages_peak);
	info->detached_pages = siommu_load_relaxed(&pt->pages_detached);
	info->reclaim_pages = siommu_load_relaxed(&pt->pages_reclaim);
	info->max_table_pages = pt->nr_pages;
	return 0;
}

#if SIOMMU_TESTING_BUILD
void pt_test_set_skip_grace(struct siommu_pt *pt, bool skip)
{
	pt->test_skip_grace = skip;
}

void pt_test_set_map_eexist(struct siommu_pt *pt, bool on)
{
	__atomic_store_n(&pt->test_map_eexist, on, __ATOMIC_RELAXED);
}

void pt_test_set_map_enomem_partial(struct siommu_pt *pt, bool on)
{
	pt->test_map_enomem_partial = on;
}
#endif

/* ------------------------------------------------------------------ argument checks */

/* [iova, iova + size - 1] is a 4 KiB-aligned range below the input width. */
static int pt_check_range(const struct siommu_pt *pt, uint64_t iova, uint64_t size,
			  uint64_t *last)
{
	if (!size || ((iova | size) & (PT_PAGE_SIZE - 1)))
		return -EINVAL;
	if (siommu_add_overflow(iova, size - 1, last) || (*last >> pt->ias_lg2))
		return -ERANGE;
	return 0;
}

/* ------------------------------------------------------------------ map/unmap */

static int pt_map_checked(struct siommu_pt *pt, uint64_t iova, uint64_t pa,
			  uint64_t size, unsigned int prot, struct siommu_pt_gather *g)
{
	uint64_t last, pa_last;
	int ret;

	ret = pt_check_range(pt, iova, size, &last);
	if (ret)
		return ret;
	if (pa & (PT_PAGE_SIZE - 1))
		return -EINVAL;
	if ((prot & ~SIOMMU_PT_PROT_MASK) || !(prot & (SIOMMU_PT_READ | SIOMMU_PT_WRITE)))
		return -EINVAL;
	if (siommu_add_overflow(pa, size - 1, &pa_last) || (pa_last >> pt->oas_lg2))
		return -ERANGE;

	siommu_rcu_read_lock();
	ret = pt->ops->map(pt, iova, pa, size, prot, g);
#if SIOMMU_TESTING_BUILD
	/* Deliberately broken (tests only): an -ENOMEM that leaves a page mapped. */
	if (ret == -ENOMEM && pt->test_map_enomem_partial)
		pt->ops->map(pt, iova, pa, PT_PAGE_SIZE, prot, g);
#endif
	siommu_rcu_read_unlock();
	return ret;
}

SIOMMU_API int siommu_pt_map(struct siommu_pt *pt, uint64_t iova, uint64_t pa,
			     uint64_t size, unsigned int prot)
{
	struct siommu_pt_gather g;
	int ret;

	if (!pt)
		return -EINVAL;
	if (!(pt->flags & SIOMMU_PT_F_LINUX))
		return pt_map_checked(pt, iova, pa, size, prot, NULL);
	siommu_pt_gather_init(&g);
	g.pt = pt;
	ret = pt_map_checked(pt, iova, pa, size, prot, &g);
	/* never waits, cannot fail (see siommu_pt_gather_sync()) */
	siommu_pt_gather_sync(&g, NULL, NULL, 0);
	return ret;
}

SIOMMU_API int siommu_pt_map_gather(struct siommu_pt *pt, uint64_t iova, uint64_t pa,
				    uint64_t size, unsigned int prot,
				    struct siommu_pt_gather *g)
{
	if (!pt || !g || (g->pt && g->pt != pt))
		return -EINVAL;
	g->pt = pt;
	return pt_map_checked(pt, iova, pa, size, prot,
			      (pt->flags & SIOMMU_PT_F_LINUX) ? g : NULL);
}

SIOMMU_API void siommu_pt_gather_init(struct siommu_pt_gather *g)
{
	memset(g, 0, sizeof(*g));
	g->start = 1;		/* start > last: no range */
}

static int pt_gather_bind(struct siommu_pt *pt, struct siommu_pt_gather *g)
{
	if (!g || (g->pt && g->pt != pt))
		return -EINVAL;
	g->pt = pt;
	return 0;
}

void pt_gather_table(struct siommu_pt *pt, struct siommu_pt_gather *g,
		     uint64_t *table, unsigned int level, uint64_t pages)
{
	uint32_t idx = pt_page_index(pt, table);

	/* meta[] is never read by walkers: the page itself stays untouched. */
	pt->meta[idx].level = (uint8_t)level;
	pt->meta[idx].next = 0;
	if (g->tail)
		pt->meta[g->tail - 1].next = idx + 1;
	else
		g->head = idx + 1;
	g->tail = idx + 1;
	g->nr_pages += pages;
	__atomic_fetch_add(&pt->pages_detached, pages, __ATOMIC_RELAXED);
}

SIOMMU_API int64_t siommu_pt_unmap(struct siommu_pt *pt, uint64_t iova, uint64_t size,
				   struct siommu_pt_gather *g)
{
	uint64_t last;
	int64_t ret;

	if (!pt)
		return -EINVAL;
	ret = pt_check_range(pt, iova, size, &last);
	if (ret)
		return ret;
	if (pt_gather_bind(pt, g))
		return -EINVAL;

	siommu_rcu_read_lock();
	ret = pt->ops->unmap(pt, iova, last, g);
	siommu_rcu_read_unlock();
	return ret;
}

/* ------------------------------------------------------------------ reclamation */

/* Step 4: free the detached subtrees of a gather list. */
static void pt_free_list(struct siommu_pt *pt, uint32_t head, uint64_t nr_pages)
{
	while (head) {
		uint32_t idx = head - 1;

		head = pt->meta[idx].next;	/* before free_tree reuses meta[idx] */
		pt->ops->free_tree(pt, pt_page_host(pt, idx), pt->meta[idx].level);
	}
	__atomic_fetch_sub(&pt->pages_reclaim, nr_pages, __ATOMIC_RELAXED);
}

/*
 * Deferred frees need no allocation: the table owns one RCU head
 * (reclaim_rcu, as Linux frees table pages by RCU through their struct
 * page), and the lists of synced gathers are chained through meta[].next.
 * A sync appends its list to the queue (rq); if no callback is armed it
 * moves the queue in flight (rf) and arms one.  The callback, after its
 * grace period, frees the in-flight list, and if lists were queued
 * meanwhile moves them in flight and re-arms: every list is freed after a
 * grace period that began after it was queued (at most two grace periods
 * later).  So a sync without SIOMMU_PT_SYNC_WAIT never waits and never
 * fails, whatever the backlog: pages waiting for their grace period are
 * simply not in the pool, and a map that finds the pool exhausted gets
 * -ENOMEM (siommu_pt_reclaim_wait() waits them out).
 */
static void pt_reclaim_cb(struct siommu_rcu_head *head)
{
	struct siommu_pt *pt = siommu_container_of(head, struct siommu_pt, reclaim_rcu);
	bool orphaned;
	uint32_t list;
	uint64_t nr;

	siommu_mutex_lock(&pt->pool_lock);
	list = pt->rf_head;
	nr = pt->rf_pages;
	pt->rf_head = 0;
	pt->rf_pages = 0;
	siommu_mutex_unlock(&pt->pool_lock);
	pt_free_list(pt, list, nr);

	siommu_mutex_lock(&pt->pool_lock);
	if (pt->rq_head) {
		/* Queued after our grace period began: one more. */
		pt->rf_head = pt->rq_head;
		pt->rf_pages = pt->rq_pages;
		pt->rq_head = pt->rq_tail = 0;
		pt->rq_pages = 0;
		siommu_mutex_unlock(&pt->pool_lock);
		siommu_call_rcu(&pt->reclaim_rcu, pt_reclaim_cb);
		return;
	}
	/* Last touch of @pt: siommu_pt_reclaim_wait() reads it under the lock. */
	pt->rcu_armed = false;
	orphaned = pt->orphaned;
	siommu_mutex_unlock(&pt->pool_lock);
	if (orphaned)
		pt_free_final(pt);	/* siommu_pt_destroy() left it to us */
}

/* Queue the list @head..@tail for freeing after a grace period; never waits. */
static void pt_reclaim_defer(struct siommu_pt *pt, uint32_t head, uint32_t tail,
			     uint64_t nr)
{
	bool arm;

	siommu_mutex_lock(&pt->pool_lock);
	if (pt->rq_tail)
		pt->meta[pt->rq_tail - 1].next = head;
	else
		pt->rq_head = head;
	pt->rq_tail = tail;
	pt->rq_pages += nr;
	arm = !pt->rcu_armed;
	if (arm) {
		pt->rf_head = pt->rq_head;
		pt->rf_pages = pt->rq_pages;
		pt->rq_head = pt->rq_tail = 0;
		pt->rq_pages = 0;
		pt->rcu_armed = true;
	}
	siommu_mutex_unlock(&pt->pool_lock);
	if (arm)
		siommu_call_rcu(&pt->reclaim_rcu, pt_reclaim_cb);
}

/* Wait until no deferred free of @pt is pending.  Context: may wait. */
static void pt_reclaim_drain(struct siommu_pt *pt)
{
	bool armed;

	for (;;) {
		siommu_mutex_lock(&pt->pool_lock);
		armed = pt->rcu_armed;
		siommu_mutex_unlock(&pt->pool_lock);
		if (!armed)
			return;
		/* A callback that re-armed itself is waited for by the next one. */
		siommu_rcu_barrier();
	}
}

SIOMMU_API int siommu_pt_reclaim_wait(struct siommu_pt *pt)
{
	if (!pt)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	pt_reclaim_drain(pt);
	return 0;
}

SIOMMU_API int siommu_pt_gather_sync(struct siommu_pt_gather *g, siommu_pt_inval_fn *inval,
				     void *opaque, unsigned int flags)
{
	struct siommu_pt *pt;
	uint32_t head, tail;
	uint64_t nr;
	bool wait;

	if (!g || (flags & ~SIOMMU_PT_SYNC_WAIT))
		return -EINVAL;
	pt = g->pt;
	if (!pt || (g->start > g->last && !g->head)) {
		siommu_pt_gather_init(g);
		return 0;
	}
	wait = flags & SIOMMU_PT_SYNC_WAIT;
	if (wait && siommu_rcu_read_ongoing())
		return -EDEADLK;
	head = g->head;
	tail = g->tail;
	nr = g->nr_pages;

	/*
	 * Step 1 is behind us: unmap cleared the parent entries of the pages
	 * in the list (and the leaves of the range).
	 * Step 2: invalidate the IOTLB for the range, so that no cached
	 * translation or walk-cache pointer can lead into what was cleared.
	 */
	if (inval && g->start <= g->last)
		inval(opaque, g->start, g->last, head ? SIOMMU_PT_INVAL_TABLES : 0);
	siommu_pt_gather_init(g);
	if (!head)
		return 0;
	__atomic_fetch_add(&pt->pages_reclaim, nr, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&pt->pages_detached, nr, __ATOMIC_RELEASE);
	siommu_debug_yield(SIOMMU_YIELD_RECLAIM);

#if SIOMMU_TESTING_BUILD
	if (pt->test_skip_grace) {
		/* Deliberately broken (tests only): step 4 without step 3. */
		pt_free_list(pt, head, nr);
		return 0;
	}
#endif
	/* Step 3: a grace period.  Step 4: free (in pt_free_list()). */
	if (!wait) {
		pt_reclaim_defer(pt, head, tail, nr);
		return 0;
	}
	siommu_rcu_synchronize();
	pt_free_list(pt, head, nr);
	return 0;
}

/* ------------------------------------------------------------------ users */

SIOMMU_API int siommu_pt_hold(struct siommu_pt *pt)
{
	if (!pt)
		return -EINVAL;
	__atomic_fetch_add(&pt->users, 1, __ATOMIC_RELAXED);
	return 0;
}

SIOMMU_API int siommu_pt_unhold(struct siommu_pt *pt)
{
	uint64_t n;

	if (!pt)
		return -EINVAL;
	n = __atomic_load_n(&pt->users, __ATOMIC_RELAXED);
	do {
		if (!n)
			return -EINVAL;		/* no user to drop: nothing changed */
	} while (!__atomic_compare_exchange_n(&pt->users, &n, n - 1, false,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	return 0;
}

/* ------------------------------------------------------------------ invalidation sequence */

static struct pt_seq_shard *pt_shard(struct siommu_pt *pt, uint64_t iova)
{
	return &pt->seq[(iova >> PT_SEQ_SHARD_SHIFT) & (PT_SEQ_SHARDS - 1)];
}

/* The shards [iova, last] touches, each once. */
#define for_each_shard(pt, iova, last, s, r, n)					\
	for ((r) = (iova) >> PT_SEQ_SHARD_SHIFT,					\
	     (n) = ((last) >> PT_SEQ_SHARD_SHIFT) - (r) + 1,				\
	     (n) = (n) > PT_SEQ_SHARDS ? PT_SEQ_SHARDS : (n);				\
	     (n) && ((s) = &(pt)->seq[(r) & (PT_SEQ_SHARDS - 1)], 1);		\
	     (r)++, (n)--)

void pt_inval_begin(struct siommu_pt *pt, uint64_t iova, uint64_t last)
{
	struct pt_seq_shard *s;
	uint64_t r, n;

	/*
	 * Before the first entry is cleared; a full barrier, so no clear can
	 * be seen before this increment.  See siommu_pt_seq_retry().
	 */
	for_each_shard(pt, iova, last, s, r, n)
		__atomic_fetch_add(&s->in_progress, 1, __ATOMIC_SEQ_CST);
}

void pt_inval_end(struct siommu_pt *pt, uint64_t iova, uint64_t last)
{
	struct pt_seq_shard *s;
	uint64_t r, n;

	/* After the last entry is cleared: the sequence moves, then the count drops. */
	for_each_shard(pt, iova, last, s, r, n) {
		__atomic_fetch_add(&s->seq, 1, __ATOMIC_RELEASE);
		__atomic_fetch_sub(&s->in_progress, 1, __ATOMIC_RELEASE);
	}
}

/* The public bracket: the same calls unmap makes, after the range checks. */
static int pt_inval_public(struct siommu_pt *pt, uint64_t iova, uint64_t size,
			   void (*step)(struct siommu_pt *, uint64_t, uint64_t))
{
	uint64_t last;
	int ret;

	if (!pt)
		return -EINVAL;
	ret = pt_check_range(pt, iova, size, &last);
	if (ret)
		return ret;
	step(pt, iova, last);
	return 0;
}

SIOMMU_API int siommu_pt_invalidate_begin(struct siommu_pt *pt, uint64_t iova,
					  uint64_t size)
{
	return pt_inval_public(pt, iova, size, pt_inval_begin);
}

SIOMMU_API int siommu_pt_invalidate_end(struct siommu_pt *pt, uint64_t iova,
					uint64_t size)
{
	return pt_inval_public(pt, iova, size, pt_inval_end);
}

SIOMMU_API uint64_t siommu_pt_seq_begin(struct siommu_pt *pt, uint64_t iova)
{
	/* Pairs with the release increment in pt_inval_end(). */
	return siommu_load_acquire(&pt_shard(pt, iova)->seq);
}

SIOMMU_API bool siommu_pt_seq_retry(struct siommu_pt *pt, uint64_t iova, uint64_t seq)
{
	struct pt_seq_shard *s = pt_shard(pt, iova);

	/*
	 * The caller's walk read its entries with acquire loads, so this load
	 * comes after them.  If it sees no unmap in progress, any unmap that
	 * cleared an entry the walk read has either ended (its release
	 * decrement, read here, makes its sequence increment visible below)
	 * or not yet incremented in_progress, i.e. not yet cleared anything
	 * (its increment is a full barrier before its first clear): either
	 * way the answer was current when this load ran.
	 */
	if (__atomic_load_n(&s->in_progress, __ATOMIC_SEQ_CST))
		return true;
	return siommu_load_acquire(&s->seq) != seq;
}

/* ------------------------------------------------------------------ walkers */

SIOMMU_API int siommu_pt_iova_to_phys_rcu(struct siommu_pt *pt, uint64_t iova, uint64_t *pa)
{
	SIOMMU_CHECK(siommu_rcu_read_ongoing());
	if (siommu_unlikely(iova >> pt->ias_lg2))
		return -ERANGE;
	return pt->ops->iova_to_phys(pt, iova, pa);
}

SIOMMU_API int siommu_pt_iova_to_phys(struct siommu_pt *pt, uint64_t iova, uint64_t *pa)
{
	int ret;

	if (!pt || !pa)
		return -EINVAL;
	siommu_rcu_read_lock();
	ret = siommu_pt_iova_to_phys_rcu(pt, iova, pa);
	siommu_rcu_read_unlock();
	return ret;
}

SIOMMU_API int siommu_pt_translate_rcu(struct siommu_pt *pt, uint64_t iova,
				       unsigned int access, struct siommu_pt_xlate *out)
{
	SIOMMU_CHECK(siommu_rcu_read_ongoing());
	if (!pt || !out || (access & ~0xfu))
		return -EINVAL;
	if (iova >> pt->ias_lg2)
		return -ERANGE;
	return pt->ops->translate(pt, iova, access, out, NULL);
}

SIOMMU_API int siommu_pt_translate_run_rcu(struct siommu_pt *pt, uint64_t iova,
					   unsigned int access, struct siommu_pt_xlate *out,
					   uint64_t *run_first, uint64_t *run_last)
{
	uint64_t run[2];
	int ret;

	SIOMMU_CHECK(siommu_rcu_read_ongoing());
	if (!pt || !out || !run_first || !run_last || (access & ~0xfu))
		return -EINVAL;
	if (iova >> pt->ias_lg2)
		return -ERANGE;
	ret = pt->ops->translate(pt, iova, access, out, run);
	if (!ret) {
		*run_first = run[0];
		*run_last = run[1];
	}
	return ret;
}

SIOMMU_API int siommu_pt_walk_rcu(struct siommu_pt *pt, uint64_t iova, struct siommu_pt_walk *w)
{
	SIOMMU_CHECK(siommu_rcu_read_ongoing());
	if (!pt || !w)
		return -EINVAL;
	if (iova >> pt->ias_lg2)
		return -ERANGE;
	pt->ops->walk(pt, iova, w);
	return 0;
}

SIOMMU_API int siommu_pt_walk(struct siommu_pt *pt, uint64_t iova, struct siommu_pt_walk *w)
{
	int ret;

	siommu_rcu_read_lock();
	ret = siommu_pt_walk_rcu(pt, iova, w);
	siommu_rcu_read_unlock();
	return ret;
}

SIOMMU_API int siommu_pt_lookup_level_rcu(struct siommu_pt *pt, uint64_t iova)
{
	struct siommu_pt_walk w;

	SIOMMU_CHECK(siommu_rcu_read_ongoing());
	if (!pt)
		return -EINVAL;
	if (iova >> pt->ias_lg2)
		return -ERANGE;
	pt->ops->walk(pt, iova, &w);
	return w.leaf_level < 0 ? 0 : (int)pt_level_shift((unsigned int)w.leaf_level);
}

SIOMMU_API int siommu_pt_lookup_level(struct siommu_pt *pt, uint64_t iova)
{
	int ret;

	siommu_rcu_read_lock();
	ret = siommu_pt_lookup_level_rcu(pt, iova);
	siommu_rcu_read_unlock();
	return ret;
}

/* ------------------------------------------------------------------ dirty tracking */

SIOMMU_API int64_t siommu_pt_read_and_clear_dirty(struct siommu_pt *pt, uint64_t iova,
						  uint64_t size, unsigned int flags,
						  uint64_t *bitmap, unsigned int pgshift,
						  struct siommu_pt_gather *g)
{
	bool clear = !(flags & SIOMMU_PT_DIRTY_NO_CLEAR);
	uint64_t last, cstart, clast;
	int64_t ret;

	if (!pt || !bitmap || (flags & ~SIOMMU_PT_DIRTY_NO_CLEAR))
		return -EINVAL;
	if (pgshift < PT_PAGE_SHIFT || pgshift > pt_level_shift(PT_LEAF_LEVELS - 1))
		return -EINVAL;
	ret = pt_check_range(pt, iova, size, &last);
	if (ret)
		return ret;
	if ((iova | size) & ((1ull << pgshift) - 1))
		return -EINVAL;
	if (clear && pt_gather_bind(pt, g))
		return -EINVAL;
	if (!pt->ops->has_dirty(pt))
		return -EOPNOTSUPP;

	siommu_rcu_read_lock();
	ret = pt->ops->dirty(pt, iova, last, clear, bitmap, pgshift, &cstart, &clast);
	siommu_rcu_read_unlock();
	if (clear && cstart <= clast)
		pt_gather_range(g, cstart, clast);
	return ret;
}

/* ------------------------------------------------------------------ dump */

struct pt_line {
	char buf[256];
	size_t len;
};

static void pt_line_add(struct pt_line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void pt_line_add(struct pt_line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof(l->buf) - l->len ? (size_t)n
							      : sizeof(l->buf) - l->len - 1;
}

/*
 * One row of the layout of Linux's pgtable_walk_level()/dump_page_info():
 * the IOVA page number, then the entries of the path, top column first.
 * The columns down to the 1 GiB level are always printed (0 for levels the
 * table does not have); the 2 MiB column only when the walk went below the
 * 1 GiB level, the 4 KiB column only when it reached it.
 */
static void pt_dump_row(const struct siommu_pt *pt, struct pt_line *l, uint64_t iova,
			const uint64_t *path)
{
	unsigned int ncols = pt->ops->dump_columns, c;

	l->len = 0;
	pt_line_add(l, "0x%013" PRIx64 " |", iova >> PT_PAGE_SHIFT);
	for (c = 0; c < ncols; c++) {
		unsigned int level = ncols - 1 - c;
		uint64_t e = level <= pt->top ? path[level] : 0;

		if (level < PT_LEAF_LEVELS - 1 && !e)
			break;
		pt_line_add(l, "\t0x%016" PRIx64, e);
	}
}

SIOMMU_API int siommu_pt_dump(struct siommu_pt *pt, const struct siommu_pt_dump_dev *dev,
			      siommu_pt_dump_fn *fn, void *opaque)
{
	static const struct siommu_pt_dump_dev no_dev = { .pasid = SIOMMU_PT_NO_PASID };
	uint64_t path[SIOMMU_PT_MAX_LEVELS];
	unsigned int ncols, c;
	struct pt_line l;
	uint64_t iova = 0;
	int level, ret;

	if (!pt || !fn)
		return -EINVAL;
	if (!dev)
		dev = &no_dev;

	l.len = 0;
	pt_line_add(&l, "Device %04x:%02x:%02x.%x ", dev->segment, dev->bus,
		    dev->devfn >> 3, dev->devfn & 7);
	if (dev->pasid != SIOMMU_PT_NO_PASID)
		pt_line_add(&l, "with pasid %x ", dev->pasid);
	pt_line_add(&l, "@0x%" PRIx64, pt->root_pa);
	ret = fn(opaque, l.buf);
	if (ret)
		return ret;

	ncols = pt->ops->dump_columns;
	l.len = 0;
	pt_line_add(&l, "%-17s", "IOVA_PFN");
	for (c = 0; c < ncols; c++)
		pt_line_add(&l, c + 1 < ncols ? "\t%-18s" : "\t%-s", pt->ops->dump_names[c]);
	ret = fn(opaque, l.buf);
	if (ret)
		return ret;

	/*
	 * One leaf per read-side section, found from the root each time: a
	 * row never uses a page after its section ended, and the callback
	 * never runs inside a section (it may block, or take locks).
	 */
	for (;;) {
		siommu_rcu_read_lock();
		level = pt->ops->next_leaf(pt, &iova, path);
		siommu_rcu_read_unlock();
		if (level < 0 || (iova >> pt->ias_lg2))
			break;
		pt_dump_row(pt, &l, iova, path);
		ret = fn(opaque, l.buf);
		if (ret)
			return ret;
		iova += pt_level_size((unsigned int)level);
		if (!iova || (iova >> pt->ias_lg2))
			break;
	}
	return 0;
}

static int pt_dump_file_line(void *opaque, const char *line)
{
	FILE *f = opaque;

	return fprintf(f, "%s\n", line) < 0 ? -EIO : 0;
}

SIOMMU_API int siommu_pt_dump_file(struct siommu_pt *pt, const struct siommu_pt_dump_dev *dev,
				   FILE *f)
{
	if (!f)
		return -EINVAL;
	return siommu_pt_dump(pt, dev, pt_dump_file_line, f);
}
