// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Allocation models: the allocations rebuilt by the exact pass replayed
 * through IOVA allocator policies.
 *
 * The Linux-compatible policy follows the behaviour of Linux's
 * drivers/iommu/iova.c and dma-iommu.c (written from their documented
 * facts, no code copied), in pages of 4 KiB:
 *  - a red-black tree of allocated ranges with an anchor node at the top;
 *    allocation walks down from a cached node (one for requests limited to
 *    32 bits, one for the rest) and takes the first size-aligned gap below
 *    the limit; when that fails it retries once from the limit over the
 *    part above the cached node; a failed 32-bit search records the size
 *    (max32_alloc_size) and later requests as large fail at once until a
 *    range below 4 GiB is freed;
 *  - freeing a range that the cached node points at or below moves the
 *    cached node to the freed range's successor;
 *  - sizes below 32 pages are rounded up to a power of two; sizes up to 32
 *    pages are cached per CPU: a loaded and a previous magazine of 128 pfns
 *    (6.1; 127 in 6.12) and a depot of full magazines (6.1: at most 32,
 *    more are freed to the tree; 6.12: unbounded, and 100 ms after a push the
 *    depot gives one magazine back to the tree while it holds more than one
 *    per CPU); an allocation pops the newest pfn at or below its limit;
 *  - PCI devices with a mask above 32 bits try below 4 GiB first (6.1:
 *    always; 6.12: until that fails once), then the whole mask, and only
 *    that second try flushes the caches when the tree is full;
 *  - lazy mode: per-CPU flush queues of fq_size entries; an unmap queues its
 *    IOVA, flushing the IOTLB when its CPU's queue is full; a timer armed by
 *    the first queued entry fires after fq_timeout_ns and flushes every
 *    queue; entries are freed (to the rcache of the CPU freeing them) once a
 *    flush that started after they were queued has finished.
 * The free-running prediction lets the model choose every IOVA; the forced
 * one makes the model take the kernel's IOVA after each allocation (the
 * model's choice is undone, the kernel's one taken from the caches or the
 * tree).  In lazy mode the forced model also infers the timer: when the
 * kernel reuses an IOVA still in the model's flush queues, the timer has
 * fired, and the model fires it then.
 *
 * The other policies: "softiommu" is softiommu's own IOVA allocator
 * (src/iova, with its per-thread magazines, driven from this one thread);
 * "first-fit" takes the lowest free range that fits, no alignment, no
 * rounding, no caches.
 */
#include <bsd/sys/tree.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "softiommu/iova.h"
#include "softiommu/replay.h"
#include "base/alloc.h"
#include "replay/replay_internal.h"

#define PG_LG2		12
#define ANCHOR		UINT64_MAX
#define RC_ORDERS	6		/* IOVA_RANGE_CACHE_MAX_SIZE: orders 0..5 cached */
#define MAG_MAX		128
#define DEPOT_MAX_61	32
#define DEPOT_DELAY_NS	100000000ull

struct rn {
	RB_ENTRY(rn) rb;
	uint64_t lo, hi;	/* pfns, inclusive */
};

static int rn_cmp(const struct rn *a, const struct rn *b)
{
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

RB_HEAD(rn_tree, rn);
RB_GENERATE_INTERNAL(rn_tree, rn, rb, rn_cmp, __attribute__((unused)) static)

struct mag {
	unsigned int size;
	uint64_t pfns[MAG_MAX];
};

struct cpu_rc {
	struct mag *loaded, *prev;
};

struct rcache {
	struct cpu_rc *cpu;
	struct mag **depot;
	size_t depot_size, depot_cap;
	bool work_pending;
	uint64_t work_at;
};

struct fq_ent {
	uint64_t pfn, pages, counter;
};

struct fq {
	struct fq_ent *e;
	unsigned int head, tail;	/* ring of fq_size + 1 slots */
};

struct lmodel {
	struct siommu_replay *r;
	struct rn_tree tree;
	struct rn *anchor;
	struct rn *cached, *cached32;
	uint64_t start_pfn, dma_32bit_pfn, max32_alloc_size;
	uint64_t limit_pfn;		/* the device's limit (inclusive) */
	bool pci32;			/* the 32-bit-first try is on */
	unsigned int mag_size;
	unsigned int ncpu;
	struct rcache rc[RC_ORDERS];
	uint64_t nodes;			/* tree nodes, anchor and reserved excluded */
	uint64_t nreserved;
	bool oom;
	/* lazy */
	bool lazy;
	struct fq *fq;
	unsigned int fq_slots;
	uint64_t fq_start_cnt, fq_finish_cnt;
	bool timer_on;
	uint64_t timer_at;
	unsigned int hz;		/* 0: the timer fires fq_timeout_ns after arming */
	uint64_t phase;			/* ns: where the ticks fall */
	uint64_t delay;			/* the timer's timeout, ns */
	uint64_t inferred;		/* flushes inferred in forced mode */
	unsigned int timer_cpu;
	unsigned int busy_cpu;		/* CPU of the latest event of a task other than idle */
	struct siommu_replay_policy_result *res;
};

/* how the last allocation was made, to undo it (forced mode) */
struct undo {
	struct mag *mag;		/* popped from this magazine ... */
	unsigned int idx;		/* ... at this index */
	struct rn *node;		/* or inserted into the tree */
	struct rn *cached, *cached32;
	uint64_t max32;
};

static unsigned int order_base_2(uint64_t n)
{
	return n <= 1 ? 0 : 64 - (unsigned int)__builtin_clzll(n - 1);
}

static uint64_t roundup_pow2(uint64_t n)
{
	return 1ull << order_base_2(n);
}

static struct rn *rn_new(struct lmodel *m, uint64_t lo, uint64_t hi)
{
	struct rn *n = siommu_zalloc(sizeof(*n));

	if (!n) {
		m->oom = true;
		return NULL;
	}
	n->lo = lo;
	n->hi = hi;
	return n;
}

/* The node holding @pfn, or NULL. */
static struct rn *find_pfn(struct lmodel *m, uint64_t pfn)
{
	struct rn key = { .lo = pfn }, *n = RB_NFIND(rn_tree, &m->tree, &key);

	if (n && n->lo == pfn)
		return n;
	n = n ? RB_PREV(rn_tree, &m->tree, n) : RB_MAX(rn_tree, &m->tree);
	return n && n->lo <= pfn && pfn <= n->hi ? n : NULL;
}

/* Lowest node ending at or above @limit (the anchor ends above everything). */
static struct rn *find_limit(struct lmodel *m, uint64_t limit)
{
	struct rn key = { .lo = limit }, *n = RB_NFIND(rn_tree, &m->tree, &key), *p;

	if (limit > m->dma_32bit_pfn)
		return m->anchor;
	p = n ? RB_PREV(rn_tree, &m->tree, n) : NULL;
	return p && p->hi >= limit ? p : n;
}

static void cached_insert_update(struct lmodel *m, struct rn *n)
{
	if (n->hi < m->dma_32bit_pfn)
		m->cached32 = n;
	else
		m->cached = n;
}

static void cached_delete_update(struct lmodel *m, struct rn *f)
{
	if (f == m->cached32 || (f->hi < m->dma_32bit_pfn && f->lo >= m->cached32->lo))
		m->cached32 = RB_NEXT(rn_tree, &m->tree, f);
	if (f->lo < m->dma_32bit_pfn)
		m->max32_alloc_size = m->dma_32bit_pfn;
	if (f->lo >= m->cached->lo)
		m->cached = RB_NEXT(rn_tree, &m->tree, f);
}

static void tree_remove(struct lmodel *m, struct rn *n)
{
	cached_delete_update(m, n);
	RB_REMOVE(rn_tree, &m->tree, n);
	siommu_free(n);
	m->nodes--;
}

static void tree_free_pfn(struct lmodel *m, uint64_t pfn)
{
	struct rn *n = find_pfn(m, pfn);

	if (n && n != m->anchor)
		tree_remove(m, n);
}

/* First-fit's free: its tree has no anchor and no cached nodes. */
static void ff_free(struct lmodel *m, uint64_t pfn)
{
	struct rn key = { .lo = pfn }, *n = RB_FIND(rn_tree, &m->tree, &key);

	if (!n)
		return;
	RB_REMOVE(rn_tree, &m->tree, n);
	siommu_free(n);
	m->nodes--;
}

/* The size-aligned top-down search; @limit exclusive.  Returns the node or NULL. */
static struct rn *tree_alloc(struct lmodel *m, uint64_t size, uint64_t limit)
{
	uint64_t align_mask = ~0ull << order_base_2(size);
	uint64_t high = limit, low = m->start_pfn, new_pfn, retry_pfn;
	struct rn *curr, *prev, *n;

	if (limit <= m->dma_32bit_pfn && size >= m->max32_alloc_size)
		return NULL;
	curr = limit <= m->dma_32bit_pfn ? m->cached32 : m->cached;
	retry_pfn = curr->hi;
retry:
	do {
		if (curr->lo < high)
			high = curr->lo;
		new_pfn = (high - size) & align_mask;
		prev = curr;
		curr = RB_PREV(rn_tree, &m->tree, curr);
	} while (curr && new_pfn <= curr->hi && new_pfn >= low);
	if (high < size || new_pfn < low) {
		if (low == m->start_pfn && retry_pfn < limit) {
			high = limit;
			low = retry_pfn + 1;
			curr = find_limit(m, limit);
			goto retry;
		}
		m->max32_alloc_size = size;
		return NULL;
	}
	(void)prev;
	n = rn_new(m, new_pfn, new_pfn + size - 1);
	if (!n)
		return NULL;
	RB_INSERT(rn_tree, &m->tree, n);
	m->nodes++;
	cached_insert_update(m, n);
	return n;
}

static struct mag *mag_new(struct lmodel *m)
{
	struct mag *g = siommu_zalloc(sizeof(*g));

	if (!g)
		m->oom = true;
	return g;
}

static void mag_free_pfns(struct lmodel *m, struct mag *g)
{
	unsigned int i;

	if (!g)
		return;		/* a CPU that never used its cache */
	for (i = 0; i < g->size; i++)
		tree_free_pfn(m, g->pfns[i]);
	g->size = 0;
}

static void depot_push(struct lmodel *m, struct rcache *rc, struct mag *g, uint64_t now)
{
	if (m->r->opts.linux_version == SIOMMU_REPLAY_LINUX_6_1 && rc->depot_size >= DEPOT_MAX_61) {
		mag_free_pfns(m, g);
		siommu_free(g);
		return;
	}
	if (rp_grow((void **)&rc->depot, &rc->depot_cap, rc->depot_size + 1, sizeof(*rc->depot))) {
		m->oom = true;
		mag_free_pfns(m, g);
		siommu_free(g);
		return;
	}
	rc->depot[rc->depot_size++] = g;
	if (m->r->opts.linux_version == SIOMMU_REPLAY_LINUX_6_12 && !rc->work_pending) {
		rc->work_pending = true;
		rc->work_at = now + DEPOT_DELAY_NS;
	}
}

/* 6.12: the depot's delayed work, run for every deadline passed by @now. */
static void depot_work(struct lmodel *m, uint64_t now)
{
	unsigned int o;

	for (o = 0; o < RC_ORDERS; o++) {
		struct rcache *rc = &m->rc[o];

		while (rc->work_pending && rc->work_at <= now) {
			if (rc->depot_size > m->ncpu) {
				struct mag *g = rc->depot[--rc->depot_size];

				mag_free_pfns(m, g);
				siommu_free(g);
				rc->work_at += DEPOT_DELAY_NS;
			} else {
				rc->work_pending = false;
			}
		}
	}
}

/*
 * A CPU's two magazines of order @o, made on its first use: a CPU that
 * never uses its cache costs nothing (a trace from a 600-CPU machine, or a
 * CPU number a fuzzer made up, used to cost 12 empty magazines per CPU for
 * every policy run).  An empty pair behaves as two empty magazines, which
 * is what Linux starts with.  NULL when out of memory (m->oom set).
 */
static struct cpu_rc *cpu_rc(struct lmodel *m, unsigned int o, unsigned int cpu)
{
	struct cpu_rc *c = &m->rc[o].cpu[cpu];

	if (!c->loaded) {
		c->loaded = mag_new(m);
		if (!c->loaded)
			return NULL;
	}
	if (!c->prev) {
		c->prev = mag_new(m);
		if (!c->prev)
			return NULL;
	}
	return c;
}

static bool rcache_insert(struct lmodel *m, unsigned int cpu, uint64_t pfn, uint64_t pages, uint64_t now)
{
	unsigned int o = order_base_2(pages);
	struct cpu_rc *c;

	if (o >= RC_ORDERS)
		return false;
	c = cpu_rc(m, o, cpu);
	if (!c)
		return false;
	if (c->loaded->size >= m->mag_size) {
		if (c->prev->size < m->mag_size) {
			struct mag *t = c->prev;

			c->prev = c->loaded;
			c->loaded = t;
		} else {
			struct mag *g = mag_new(m);

			if (!g)
				return false;
			depot_push(m, &m->rc[o], c->loaded, now);
			c->loaded = g;
		}
	}
	c->loaded->pfns[c->loaded->size++] = pfn;
	return true;
}

/* Pop the newest pfn <= @limit (the start limit); 0 if none. */
static uint64_t mag_pop(struct mag *g, uint64_t limit, struct undo *u)
{
	int i;
	uint64_t pfn;

	if (!g->size)
		return 0;
	for (i = (int)g->size - 1; g->pfns[i] > limit; i--)
		if (i == 0)
			return 0;
	pfn = g->pfns[i];
	g->pfns[i] = g->pfns[--g->size];
	if (u) {
		u->mag = g;
		u->idx = (unsigned int)i;
	}
	return pfn;
}

static uint64_t rcache_get(struct lmodel *m, unsigned int cpu, uint64_t pages,
			   uint64_t limit_excl, struct undo *u)
{
	unsigned int o = order_base_2(pages);
	struct cpu_rc *c;
	struct rcache *rc;

	if (o >= RC_ORDERS)
		return 0;
	rc = &m->rc[o];
	if (!rc->cpu[cpu].loaded && !rc->depot_size)
		return 0;	/* never used, nothing in the depot: empty */
	c = cpu_rc(m, o, cpu);
	if (!c)
		return 0;
	if (!c->loaded->size) {
		if (c->prev->size) {
			struct mag *t = c->prev;

			c->prev = c->loaded;
			c->loaded = t;
		} else if (rc->depot_size) {
			siommu_free(c->loaded);
			c->loaded = rc->depot[--rc->depot_size];
		} else {
			return 0;
		}
	}
	return mag_pop(c->loaded, limit_excl - pages, u);
}

static void flush_all_rcaches(struct lmodel *m)
{
	unsigned int o, c;

	for (o = 0; o < RC_ORDERS; o++) {
		for (c = 0; c < m->ncpu; c++) {
			mag_free_pfns(m, m->rc[o].cpu[c].loaded);
			mag_free_pfns(m, m->rc[o].cpu[c].prev);
		}
		while (m->rc[o].depot_size) {
			struct mag *g = m->rc[o].depot[--m->rc[o].depot_size];

			mag_free_pfns(m, g);
			siommu_free(g);
		}
	}
}

static uint64_t alloc_fast(struct lmodel *m, unsigned int cpu, uint64_t pages,
			   uint64_t limit, bool flush, struct undo *u)
{
	uint64_t pfn = rcache_get(m, cpu, pages, limit + 1, u);
	struct rn *n;

	if (pfn)
		return pfn;
	for (;;) {
		u->cached = m->cached;
		u->cached32 = m->cached32;
		u->max32 = m->max32_alloc_size;
		n = tree_alloc(m, pages, limit + 1);
		if (n) {
			u->node = n;
			return n->lo;
		}
		if (!flush || m->oom)
			return 0;
		flush = false;
		flush_all_rcaches(m);
	}
}

/* iommu_dma_alloc_iova() in pages; returns the pfn or 0. */
static uint64_t lm_alloc(struct lmodel *m, unsigned int cpu, uint64_t pages, struct undo *u)
{
	uint64_t pfn = 0;

	memset(u, 0, sizeof(*u));
	if (pages < (1u << (RC_ORDERS - 1)))
		pages = roundup_pow2(pages);
	if (m->limit_pfn > 0xfffff && m->pci32) {
		pfn = alloc_fast(m, cpu, pages, 0xfffff, false, u);
		if (!pfn && m->r->opts.linux_version == SIOMMU_REPLAY_LINUX_6_12)
			m->pci32 = false;
	}
	if (!pfn) {
		memset(u, 0, sizeof(*u));
		pfn = alloc_fast(m, cpu, pages, m->limit_pfn, true, u);
	}
	return pfn;
}

static void lm_undo(struct lmodel *m, const struct undo *u, uint64_t pfn)
{
	if (u->mag) {
		struct mag *g = u->mag;

		g->pfns[g->size++] = g->pfns[u->idx];
		g->pfns[u->idx] = pfn;
	} else if (u->node) {
		RB_REMOVE(rn_tree, &m->tree, u->node);
		siommu_free(u->node);
		m->nodes--;
		m->cached = u->cached;
		m->cached32 = u->cached32;
		m->max32_alloc_size = u->max32;
	}
}

/* Remove @pfn from a magazine of order @o (any CPU, the depot).  Returns true if found. */
static bool take_cached(struct lmodel *m, unsigned int cpu, unsigned int o, uint64_t pfn)
{
	struct rcache *rc = &m->rc[o];
	unsigned int c, k, i;

	for (k = 0; k < m->ncpu + rc->depot_size; k++) {
		/* this CPU first */
		struct mag *gs[2];
		unsigned int ng;

		if (k < m->ncpu) {
			c = (cpu + k) % m->ncpu;
			gs[0] = rc->cpu[c].loaded;
			gs[1] = rc->cpu[c].prev;
			ng = 2;
		} else {
			gs[0] = rc->depot[k - m->ncpu];
			ng = 1;
		}
		for (unsigned int j = 0; j < ng; j++) {
			struct mag *g = gs[j];

			for (i = 0; g && i < g->size; i++) {
				if (g->pfns[i] == pfn) {
					g->pfns[i] = g->pfns[--g->size];
					return true;
				}
			}
		}
	}
	return false;
}

static void fq_ring_free(struct lmodel *m, unsigned int qcpu, unsigned int free_cpu, uint64_t now,
			 uint64_t *freed);

/* Make the kernel's @pfn allocated in the model (forced mode). */
static void lm_take(struct lmodel *m, unsigned int cpu, uint64_t pfn, uint64_t pages, uint64_t now)
{
	unsigned int o;
	struct rn key, *n;

	if (pages < (1u << (RC_ORDERS - 1)))
		pages = roundup_pow2(pages);
	o = order_base_2(pages);
	if (o < RC_ORDERS && take_cached(m, cpu, o, pfn))
		return;
	if (m->lazy) {
		/* still queued in the model: the kernel's timer has fired by now */
		unsigned int c, q;
		bool queued = false;

		for (c = 0; c < m->ncpu && !queued; c++)
			for (q = m->fq[c].head; q != m->fq[c].tail; q = (q + 1) % m->fq_slots)
				if (m->fq[c].e[q].pfn == pfn)
					queued = true;
		if (queued) {
			uint64_t freed = 0;

			m->inferred++;
			m->fq_start_cnt++;
			m->fq_finish_cnt++;
			m->res->invalidations++;
			m->res->flushes++;
			m->timer_on = false;
			for (c = 0; c < m->ncpu; c++)
				fq_ring_free(m, c, cpu, now, &freed);
			if (o < RC_ORDERS && take_cached(m, cpu, o, pfn))
				return;
		}
	}
	if (find_pfn(m, pfn) || find_pfn(m, pfn + pages - 1))
		return;		/* the model holds it allocated: leave it */
	key.lo = pfn;
	n = RB_NFIND(rn_tree, &m->tree, &key);
	if (n && n->lo <= pfn + pages - 1)
		return;		/* overlaps: leave it */
	n = rn_new(m, pfn, pfn + pages - 1);
	if (!n)
		return;
	RB_INSERT(rn_tree, &m->tree, n);
	m->nodes++;
	cached_insert_update(m, n);
}

static void lm_free_now(struct lmodel *m, unsigned int cpu, uint64_t pfn, uint64_t pages, uint64_t now)
{
	if (!rcache_insert(m, cpu, pfn, pages, now))
		tree_free_pfn(m, pfn);
}

static void fq_ring_free(struct lmodel *m, unsigned int qcpu, unsigned int free_cpu, uint64_t now,
			 uint64_t *freed)
{
	struct fq *q = &m->fq[qcpu];

	while (q->head != q->tail && q->e[q->head].counter < m->fq_finish_cnt) {
		lm_free_now(m, free_cpu, q->e[q->head].pfn, q->e[q->head].pages, now);
		q->head = (q->head + 1) % m->fq_slots;
		(*freed)++;
	}
}

static void note_batch(struct siommu_replay_policy_result *res, uint64_t n)
{
	unsigned int b = 0;

	if (!n)
		return;
	while (b < 7 && n > (1ull << b))
		b++;
	res->batch_hist[b]++;
	if (n > res->max_batch)
		res->max_batch = n;
}

static void fq_flush_all(struct lmodel *m, unsigned int cpu, uint64_t now)
{
	uint64_t freed = 0;
	unsigned int c;

	m->fq_start_cnt++;
	m->fq_finish_cnt++;
	m->res->invalidations++;
	m->res->flushes++;
	for (c = 0; c < m->ncpu; c++)
		fq_ring_free(m, c, cpu, now, &freed);
	note_batch(m->res, freed);
}

/* Fire the flush timer if it is due at @now. */
static void lm_tick(struct lmodel *m, uint64_t now)
{
	if (m->r->opts.linux_version == SIOMMU_REPLAY_LINUX_6_12)
		depot_work(m, now);
	if (m->lazy && m->timer_on && m->timer_at <= now) {
		m->timer_on = false;
		fq_flush_all(m, m->timer_cpu, m->timer_at);
	}
}

/*
 * When the flush timer armed at @now fires.  With a tick rate: mod_timer(
 * jiffies + msecs_to_jiffies(timeout)) fires on the tick where jiffies
 * reaches that count: msecs_to_jiffies rounds up, and jiffies counts the
 * ticks at phase + k * tick.
 */
static uint64_t timer_deadline(struct lmodel *m, uint64_t now)
{
	uint64_t tick, j, n;

	if (!m->hz)
		return now + m->delay;
	tick = 1000000000ull / m->hz;
	n = (m->delay * m->hz + 999999999ull) / 1000000000ull;
	j = now >= m->phase ? (now - m->phase) / tick : 0;
	return m->phase + (j + n) * tick;
}

static void lm_free(struct lmodel *m, unsigned int cpu, bool idle, uint64_t pfn, uint64_t pages,
		    uint64_t now)
{
	struct fq *q;
	uint64_t freed = 0;

	if (!m->lazy) {
		m->res->invalidations++;
		lm_free_now(m, cpu, pfn, pages, now);
		return;
	}
	q = &m->fq[cpu];
	if (!q->e) {
		q->e = siommu_calloc(m->fq_slots, sizeof(struct fq_ent));
		if (!q->e) {
			m->oom = true;
			m->res->invalidations++;
			lm_free_now(m, cpu, pfn, pages, now);
			return;
		}
	}
	fq_ring_free(m, cpu, cpu, now, &freed);
	if ((q->tail + 1) % m->fq_slots == q->head) {
		m->fq_start_cnt++;
		m->fq_finish_cnt++;
		m->res->invalidations++;
		m->res->flushes++;
		fq_ring_free(m, cpu, cpu, now, &freed);
		note_batch(m->res, freed);
	}
	q->e[q->tail] = (struct fq_ent){ pfn, pages, m->fq_start_cnt };
	q->tail = (q->tail + 1) % m->fq_slots;
	if (!m->timer_on) {
		m->timer_on = true;
		m->timer_at = timer_deadline(m, now);
		/*
		 * A timer armed by the idle task (softirq on an idle CPU) is
		 * queued on a busy CPU (timer migration, get_nohz_timer_target()).
		 */
		m->timer_cpu = idle ? m->busy_cpu : cpu;
	}
}

static int lm_init(struct lmodel *m, struct siommu_replay *r, bool lazy,
		   struct siommu_replay_policy_result *res)
{
	uint64_t aperture_last = (1ull << r->opts.ias_lg2) - 1;
	uint64_t mask = r->opts.dma_mask_lg2 >= 64 ? UINT64_MAX : (1ull << r->opts.dma_mask_lg2) - 1;
	unsigned int o, i;

	memset(m, 0, sizeof(*m));
	m->r = r;
	m->res = res;
	m->lazy = lazy;
	RB_INIT(&m->tree);
	m->ncpu = r->nr_cpus ? r->nr_cpus : 1;
	m->mag_size = r->opts.linux_version == SIOMMU_REPLAY_LINUX_6_12 ? 127 : 128;
	m->start_pfn = 1;
	m->dma_32bit_pfn = 1ull << (32 - PG_LG2);
	m->max32_alloc_size = m->dma_32bit_pfn;
	m->limit_pfn = (mask < aperture_last ? mask : aperture_last) >> PG_LG2;
	m->pci32 = !r->opts.not_pci;
	m->anchor = rn_new(m, ANCHOR, ANCHOR);
	if (!m->anchor)
		return -ENOMEM;
	RB_INSERT(rn_tree, &m->tree, m->anchor);
	m->cached = m->cached32 = m->anchor;
	for (o = 0; o < RC_ORDERS; o++) {
		/* the magazines are made on first use (cpu_rc()) */
		m->rc[o].cpu = siommu_calloc(m->ncpu, sizeof(*m->rc[o].cpu));
		if (!m->rc[o].cpu)
			return -ENOMEM;
	}
	if (lazy) {
		m->fq_slots = r->opts.fq_size + 1;
		/* a CPU's ring is made on its first free (lm_free()); empty till then */
		m->fq = siommu_calloc(m->ncpu, sizeof(*m->fq));
		if (!m->fq)
			return -ENOMEM;
	}
	/* reserved windows: VT-d's interrupt range, then the caller's */
	for (i = 0; i <= r->opts.nr_reserved; i++) {
		uint64_t lo, hi;
		struct rn *n;

		if (i == r->opts.nr_reserved) {
			if (r->opts.no_default_reserved || r->opts.fmt != SIOMMU_PT_FMT_VTD_SS)
				break;
			lo = 0xfee00000ull >> PG_LG2;
			hi = 0xfeefffffull >> PG_LG2;
		} else {
			lo = r->opts.reserved[i][0] >> PG_LG2;
			hi = r->opts.reserved[i][1] >> PG_LG2;
		}
		if (find_pfn(m, lo) || find_pfn(m, hi))
			continue;	/* overlaps one already reserved */
		n = rn_new(m, lo, hi);
		if (!n)
			return -ENOMEM;
		RB_INSERT(rn_tree, &m->tree, n);
		m->nreserved++;
	}
	return 0;
}

static void lm_fini(struct lmodel *m)
{
	struct rn *n, *next;
	unsigned int o, c;

	for (n = RB_MIN(rn_tree, &m->tree); n; n = next) {
		next = RB_NEXT(rn_tree, &m->tree, n);
		RB_REMOVE(rn_tree, &m->tree, n);
		siommu_free(n);
	}
	for (o = 0; o < RC_ORDERS; o++) {
		if (m->rc[o].cpu)
			for (c = 0; c < m->ncpu; c++) {
				siommu_free(m->rc[o].cpu[c].loaded);
				siommu_free(m->rc[o].cpu[c].prev);
			}
		siommu_free(m->rc[o].cpu);
		while (m->rc[o].depot_size)
			siommu_free(m->rc[o].depot[--m->rc[o].depot_size]);
		siommu_free(m->rc[o].depot);
	}
	if (m->fq)
		for (c = 0; c < m->ncpu; c++)
			siommu_free(m->fq[c].e);
	siommu_free(m->fq);
}

/* ---- live ranges of a policy run: span and table memory ---- */

struct liveset {
	struct rn_tree tree;
	struct siommu_pt *pt;
	struct siommu_replay_policy_result *res;
};

static int ls_add(struct liveset *ls, uint64_t iova, uint64_t size)
{
	struct rn *n = siommu_zalloc(sizeof(*n)), *lo, *hi;
	struct siommu_pt_info info;

	if (!n)
		return -ENOMEM;
	n->lo = iova;
	n->hi = iova + size - 1;
	if (RB_INSERT(rn_tree, &ls->tree, n)) {
		siommu_free(n);		/* the policy handed out a live range twice */
		return 0;
	}
	lo = RB_MIN(rn_tree, &ls->tree);
	hi = RB_MAX(rn_tree, &ls->tree);
	if (hi->hi + 1 - lo->lo > ls->res->peak_span)
		ls->res->peak_span = hi->hi + 1 - lo->lo;
	if (siommu_pt_map(ls->pt, iova, iova, size, SIOMMU_PT_READ | SIOMMU_PT_WRITE) == 0 &&
	    siommu_pt_get_info(ls->pt, &info) == 0 &&
	    info.table_bytes > ls->res->peak_table_bytes)
		ls->res->peak_table_bytes = info.table_bytes;
	return 0;
}

static void ls_del(struct liveset *ls, uint64_t iova)
{
	struct rn key = { .lo = iova }, *n = RB_FIND(rn_tree, &ls->tree, &key);
	struct siommu_pt_gather g;

	if (!n)
		return;
	siommu_pt_gather_init(&g);
	siommu_pt_unmap(ls->pt, n->lo, n->hi + 1 - n->lo, &g);
	siommu_pt_gather_sync(&g, NULL, NULL, 0);
	RB_REMOVE(rn_tree, &ls->tree, n);
	siommu_free(n);
}

static int ls_init(struct liveset *ls, struct siommu_replay *r, struct siommu_replay_policy_result *res)
{
	struct siommu_pt_cfg cfg = { .fmt = r->opts.fmt, .pgsize_bitmap = r->opts.pgsize_bitmap,
				     .max_table_pages = r->table_pages };

	RB_INIT(&ls->tree);
	ls->res = res;
	if (r->opts.fmt == SIOMMU_PT_FMT_VTD_SS || r->opts.fmt == SIOMMU_PT_FMT_X86_64)
		cfg.levels = r->opts.ias_lg2 <= 39 ? 3 : r->opts.ias_lg2 <= 48 ? 4 : 5;
	if (r->opts.fmt == SIOMMU_PT_FMT_X86_64 && cfg.levels == 3)
		cfg.levels = 4;
	return siommu_pt_create(r->ctx, &cfg, &ls->pt);
}

static void ls_fini(struct liveset *ls)
{
	struct rn *n, *next;

	for (n = RB_MIN(rn_tree, &ls->tree); n; n = next) {
		next = RB_NEXT(rn_tree, &ls->tree, n);
		RB_REMOVE(rn_tree, &ls->tree, n);
		siommu_free(n);
	}
	siommu_pt_destroy(ls->pt);
}

/* ---- runs ---- */

/* Prediction (forced and free-running, strict or lazy by the trace) and the Linux what-if rows. */
static int run_linux(struct siommu_replay *r, bool lazy, bool forced, unsigned int hz,
		     uint64_t phase, uint64_t delay, uint64_t *hits, uint64_t *inferred, uint32_t *series,
		     struct siommu_replay_policy_result *res)
{
	struct lmodel m;
	struct liveset ls;
	uint64_t *pfn_of = NULL;
	size_t i, k = 0;
	int ret;

	ls.pt = NULL;
	RB_INIT(&ls.tree);
	ret = lm_init(&m, r, lazy, res);
	m.hz = hz;
	m.phase = phase;
	m.delay = delay;
	if (!ret)
		ret = ls_init(&ls, r, res);
	if (ret)
		goto out;
	pfn_of = siommu_calloc(r->nr_ev + 1, sizeof(*pfn_of));
	if (!pfn_of) {
		ret = -ENOMEM;
		goto out;
	}
	*hits = 0;
	for (i = 0; i < r->nr_ops; i++) {
		const struct rp_op *op = &r->ops[i];
		uint64_t pages = (op->size + (1u << PG_LG2) - 1) >> PG_LG2;
		unsigned int cpu = op->cpu % m.ncpu;
		struct undo u;

		lm_tick(&m, op->ts);
		if (op->pid)
			m.busy_cpu = cpu;
		if (op->type == RP_OP_ALLOC) {
			uint64_t p = lm_alloc(&m, cpu, pages, &u), want = op->iova >> PG_LG2;

			res->allocs++;
			if (!p)
				res->failures++;
			if (p == want)
				(*hits)++;
			if (forced && p != want) {
				if (p)
					lm_undo(&m, &u, p);
				lm_take(&m, cpu, want, pages, op->ts);
				p = want;
			}
			pfn_of[op->group] = p;
			if (p) {
				ret = ls_add(&ls, p << PG_LG2, op->size);
				if (ret)
					goto out;
			}
			if (series)
				series[k++] = (uint32_t)*hits;
			if (m.nodes > res->peak_tree_nodes)
				res->peak_tree_nodes = m.nodes;
		} else if (pfn_of[op->group]) {
			uint64_t p = pfn_of[op->group];

			ls_del(&ls, p << PG_LG2);
			lm_free(&m, cpu, !op->pid, p, pages, op->ts);
			pfn_of[op->group] = 0;
		}
		if (m.oom) {
			ret = -ENOMEM;
			goto out;
		}
	}
	res->valid = true;
	if (inferred)
		*inferred = m.inferred;
out:
	siommu_free(pfn_of);
	if (ls.pt)
		ls_fini(&ls);
	lm_fini(&m);
	return ret;
}

/* Free an IOVA to softiommu's allocator (@s) or first-fit's tree. */
static void other_free(struct siommu_iova_space *s, struct lmodel *ff, uint64_t iova)
{
	if (s)
		siommu_iova_free(s, iova);
	else
		ff_free(ff, iova >> PG_LG2);
}

/* A flush of the other policies' queue: one invalidation, every queued IOVA freed. */
static void other_flush(struct siommu_iova_space *s, struct lmodel *ff, uint64_t *q, uint64_t *qn,
			struct siommu_replay_policy_result *res)
{
	uint64_t j;

	res->invalidations++;
	res->flushes++;
	for (j = 0; j < *qn; j++)
		other_free(s, ff, q[j]);
	note_batch(res, *qn);
	*qn = 0;
}

/* softiommu's allocator or first-fit, strict or lazy (flush queue with the same rules). */
static int run_other(struct siommu_replay *r, enum siommu_replay_policy pol, bool lazy,
		     struct siommu_replay_policy_result *res)
{
	struct siommu_iova_config cfg = {
		.start = 1ull << PG_LG2,
		.last = (1ull << r->opts.ias_lg2) - 1,
		.granule_lg2 = PG_LG2,
	};
	uint64_t limit = r->opts.dma_mask_lg2 >= 64 ? UINT64_MAX : (1ull << r->opts.dma_mask_lg2) - 1;
	struct siommu_iova_space *s = NULL;
	struct lmodel ff;		/* first-fit reuses the tree (no caches used) */
	struct liveset ls;
	uint64_t *iova_of = NULL, *q = NULL, qn = 0, qcap = r->opts.fq_size * (r->nr_cpus ? r->nr_cpus : 1);
	uint64_t timer_at = 0;
	bool timer_on = false;
	size_t i;
	int ret;

	memset(&ff, 0, sizeof(ff));
	RB_INIT(&ff.tree);
	ret = ls_init(&ls, r, res);
	if (ret)
		return ret;
	if (pol == SIOMMU_REPLAY_POL_SOFTIOMMU)
		ret = siommu_iova_space_create(r->ctx, &cfg, &s);
	iova_of = siommu_calloc(r->nr_ev + 1, sizeof(*iova_of));
	q = siommu_calloc(qcap + 1, sizeof(*q));
	if (!ret && (!iova_of || !q))
		ret = -ENOMEM;
	for (i = 0; !ret && i < r->nr_ops; i++) {
		const struct rp_op *op = &r->ops[i];
		uint64_t iova = 0;

		if (lazy && timer_on && timer_at <= op->ts) {
			/* the timer: one invalidation, everything queued freed */
			other_flush(s, &ff, q, &qn, res);
			timer_on = false;
		}
		if (op->type == RP_OP_ALLOC) {
			res->allocs++;
			if (s) {
				if (siommu_iova_alloc(s, op->size, limit, &iova))
					iova = 0;
			} else {
				/* lowest gap that fits */
				uint64_t pages = (op->size + 4095) >> PG_LG2, at = 1;
				struct rn *n, *nn;

				for (n = RB_MIN(rn_tree, &ff.tree); n; n = RB_NEXT(rn_tree, &ff.tree, n)) {
					if (n->lo >= at + pages)
						break;
					at = n->hi + 1;
				}
				if (((at + pages) << PG_LG2) - 1 <= cfg.last) {
					nn = rn_new(&ff, at, at + pages - 1);
					if (!nn) {
						ret = -ENOMEM;
						break;
					}
					RB_INSERT(rn_tree, &ff.tree, nn);
					ff.nodes++;
					iova = at << PG_LG2;
				}
			}
			if (!iova) {
				res->failures++;
				continue;
			}
			iova_of[op->group] = iova;
			ret = ls_add(&ls, iova, op->size);
			uint64_t nodes = ff.nodes;

			if (s) {
				struct siommu_iova_stats st;

				if (!siommu_iova_get_stats(s, &st))
					nodes = st.allocated + st.cached;
			}
			if (nodes > res->peak_tree_nodes)
				res->peak_tree_nodes = nodes;
		} else if (iova_of[op->group]) {
			iova = iova_of[op->group];
			iova_of[op->group] = 0;
			ls_del(&ls, iova);
			if (!lazy) {
				res->invalidations++;
				other_free(s, &ff, iova);
				continue;
			}
			if (qn == qcap)
				other_flush(s, &ff, q, &qn, res);	/* the queue is full */
			q[qn++] = iova;
			if (!timer_on) {
				timer_on = true;
				timer_at = op->ts + r->opts.fq_timeout_ns;
			}
		}
	}
	if (!ret)
		res->valid = true;
	if (s) {
		siommu_iova_free_all(s);
		siommu_iova_space_destroy(s);
	}
	/* ff.anchor is NULL and the first-fit tree holds only its nodes */
	{
		struct rn *n, *next;

		for (n = RB_MIN(rn_tree, &ff.tree); n; n = next) {
			next = RB_NEXT(rn_tree, &ff.tree, n);
			RB_REMOVE(rn_tree, &ff.tree, n);
			siommu_free(n);
		}
	}
	siommu_free(iova_of);
	siommu_free(q);
	ls_fini(&ls);
	return ret;
}

int rp_models(struct siommu_replay *r)
{
	struct siommu_replay_policy_result scratch;
	size_t nalloc = 0, i;
	int ret = 0;

	for (i = 0; i < r->nr_ops; i++)
		nalloc += r->ops[i].type == RP_OP_ALLOC;
	if (r->opts.predict) {
		uint64_t hits;

		r->pred_ts = siommu_calloc(nalloc + 1, sizeof(*r->pred_ts));
		r->pred_forced = siommu_calloc(nalloc + 1, sizeof(*r->pred_forced));
		r->pred_free = siommu_calloc(nalloc + 1, sizeof(*r->pred_free));
		if (!r->pred_ts || !r->pred_forced || !r->pred_free)
			return -ENOMEM;
		for (i = 0; i < r->nr_ops; i++)
			if (r->ops[i].type == RP_OP_ALLOC)
				r->pred_ts[r->nr_pred++] = r->ops[i].ts;
		unsigned int best_hz = r->opts.hz;
		uint64_t best_delay = r->opts.fq_timeout_ns, best_phase = 0, phase, best = 0;

		if (r->opts.lazy_trace && !r->opts.no_infer) {
			/* infer the timer: the delay, or tick rate and phase, that predict best */
			static const unsigned int rates[] = { 0, 100, 250, 300, 1000 };
			unsigned int k, step;
			bool first = true;

			for (k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
				uint64_t tick = rates[k] ? 1000000000ull / rates[k] : 0;

				for (step = 0; step < (rates[k] ? 16u : 51u); step++) {
					uint64_t d = rates[k] ? r->opts.fq_timeout_ns : 5000000ull + step * 500000ull;

					phase = rates[k] ? (r->rep.first_ts_ns + tick * step / 16) % tick : 0;
					memset(&scratch, 0, sizeof(scratch));
					ret = run_linux(r, true, true, rates[k], phase, d, &hits, NULL, NULL,
							&scratch);
					if (ret)
						return ret;
					if (hits > best || first) {
						best = hits;
						best_hz = rates[k];
						best_phase = phase;
						best_delay = d;
						first = false;
					}
				}
			}
		}
		r->rep.pred_hz = r->opts.lazy_trace ? best_hz : 0;
		r->rep.pred_phase_ns = r->opts.lazy_trace ? best_phase : 0;
		r->rep.pred_delay_ns = r->opts.lazy_trace ? best_delay : 0;
		memset(&scratch, 0, sizeof(scratch));
		ret = run_linux(r, r->opts.lazy_trace, true, r->rep.pred_hz, best_phase, best_delay,
				&hits, &r->rep.pred_timer_inferred, r->pred_forced, &scratch);
		if (ret)
			return ret;
		r->rep.pred_forced_hits = hits;
		memset(&scratch, 0, sizeof(scratch));
		ret = run_linux(r, r->opts.lazy_trace, false, r->rep.pred_hz, best_phase, best_delay,
				&hits, NULL, r->pred_free, &scratch);
		if (ret)
			return ret;
		r->rep.pred_free_hits = hits;
		r->rep.pred_total = nalloc;
		r->rep.predicted = true;
	}
	if (r->opts.whatif) {
		unsigned int lazy;
		uint64_t hits;

		for (lazy = 0; lazy < 2 && !ret; lazy++) {
			ret = run_linux(r, lazy, false, r->opts.hz, 0, r->opts.fq_timeout_ns, &hits, NULL, NULL,
					&r->rep.whatif[SIOMMU_REPLAY_POL_LINUX][lazy]);
			if (!ret)
				ret = run_other(r, SIOMMU_REPLAY_POL_SOFTIOMMU, lazy,
						&r->rep.whatif[SIOMMU_REPLAY_POL_SOFTIOMMU][lazy]);
			if (!ret)
				ret = run_other(r, SIOMMU_REPLAY_POL_FIRSTFIT, lazy,
						&r->rep.whatif[SIOMMU_REPLAY_POL_FIRSTFIT][lazy]);
		}
	}
	return ret;
}
