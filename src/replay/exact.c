// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Exact mode: the kernel's IOVAs mapped into a page table as recorded.
 *
 * Live mappings are kept in a red-black tree (libbsd) keyed by IOVA, so that
 * every inconsistency is found before the table sees the operation: a map
 * over a live mapping is reported and not applied; an unmap that covers no
 * live mapping, or covers part of one or a hole, is reported (the covered
 * parts are unmapped).
 *
 * The synthetic DMA stream of the IOTLB model: the device reads each 4 KiB
 * page of a mapping once right after the map and once right before its
 * unmap (the first 4096 pages of a mapping; larger ones are touched in
 * their first 4096 pages only); an unmap invalidates its range (strict).
 * An IOTLB entry caches one leaf (4 KiB, 2 MiB or 1 GiB, as the table
 * mapped it); the set is chosen by the leaf's page number; LRU replacement.
 *
 * Allocations: maps that one unmap covers whole are one allocation (a
 * scatter-gather request); a map no unmap covers is an allocation of its
 * own.  The allocation operations (alloc at the first map, free at the
 * unmap) are what the models replay (models.c).
 */
#include <bsd/sys/tree.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "softiommu/replay.h"
#include "base/alloc.h"
#include "replay/replay_internal.h"

#define TOUCH_MAX_PAGES	4096u
#define MAX_SAMPLES	20000u
#define RP_TABLE_PHYS_BASE	(1ull << 32)

struct live {
	RB_ENTRY(live) rb;
	uint64_t start, end;	/* [start, end) */
	uint64_t pa;
	uint64_t ev;		/* the map event */
};

/* Live nodes come from chunks of a free list (a map and an unmap per event: no malloc each). */
#define LIVE_CHUNK	255u
struct live_chunk {
	struct live_chunk *next;
	struct live nodes[LIVE_CHUNK];
};

static int live_cmp(const struct live *a, const struct live *b)
{
	return a->start < b->start ? -1 : a->start > b->start;
}

RB_HEAD(live_tree, live);
RB_GENERATE_INTERNAL(live_tree, live, rb, live_cmp, __attribute__((unused)) static)

/* ---- IOTLB model ---- */

struct tlb_way {
	uint64_t tag;		/* leaf page number << 2 | size index; 0 = empty */
	uint64_t stamp;
};

struct tlb_model {
	struct siommu_replay_tlb_result *res;
	unsigned int sets, ways;
	struct tlb_way *w;
	uint64_t clock;
};

static inline unsigned int leaf_lg2(uint64_t bitmap, uint64_t iova, uint64_t pa, uint64_t left)
{
	static const unsigned int lg2[3] = { 30, 21, 12 };
	unsigned int i;

	if (left < (1u << 21) || ((iova | pa) & ((1u << 21) - 1)))
		return 12;	/* most leaves: nothing larger fits */

	for (i = 0; i < 3; i++) {
		uint64_t s = 1ull << lg2[i];

		if ((bitmap & s) && !((iova | pa) & (s - 1)) && left >= s)
			return lg2[i];
	}
	return 12;
}

static inline uint64_t tlb_tag(uint64_t iova, unsigned int lg2)
{
	return ((iova >> lg2) << 2 | (lg2 == 12 ? 1 : lg2 == 21 ? 2 : 3));
}

static inline struct tlb_way *tlb_set(struct tlb_model *t, uint64_t tag)
{
	uint64_t h = tag * 0x9e3779b97f4a7c15ull;

	return &t->w[(size_t)((h >> 32) & (t->sets - 1)) * t->ways];
}

/* @n reads of the leaf @tag in a row: the first may miss, the others hit it. */
static void tlb_access(struct tlb_model *t, uint64_t tag, uint64_t n)
{
	struct tlb_way *s = tlb_set(t, tag), *victim = s;
	unsigned int i;

	t->res->accesses += n;
	t->clock += n;
	for (i = 0; i < t->ways; i++) {
		if (s[i].tag == tag) {
			t->res->hits += n;
			s[i].stamp = t->clock;
			return;
		}
		if (s[i].stamp < victim->stamp)
			victim = &s[i];	/* LRU: the first way of the oldest stamp (empty: 0) */
	}
	victim->tag = tag;
	victim->stamp = t->clock;
	t->res->hits += n - 1;
}

static void tlb_inval(struct tlb_model *t, uint64_t tag)
{
	struct tlb_way *s = tlb_set(t, tag);
	unsigned int i;

	for (i = 0; i < t->ways; i++)
		if (s[i].tag == tag)
			s[i] = (struct tlb_way){ 0, 0 };
}

/* Walk the leaves of a mapping (its first TOUCH_MAX_PAGES pages): touch each 4 KiB page, or invalidate each leaf. */
static void tlb_walk(struct tlb_model *tl, unsigned int n, uint64_t bitmap,
		     const struct live *m, bool inval)
{
	uint64_t off = 0, size = m->end - m->start, touched = 0;

	while (off < size && touched < TOUCH_MAX_PAGES) {
		unsigned int lg2 = leaf_lg2(bitmap, m->start + off, m->pa + off, size - off);
		uint64_t leaf = 1ull << lg2, tag = tlb_tag(m->start + off, lg2);
		uint64_t pages = leaf >> 12;
		unsigned int i;

		if (touched + pages > TOUCH_MAX_PAGES)
			pages = TOUCH_MAX_PAGES - touched;
		for (i = 0; i < n; i++) {
			if (inval)
				tlb_inval(&tl[i], tag);
			else
				tlb_access(&tl[i], tag, pages);
		}
		touched += pages;
		off += leaf;
	}
}

/* ---- the pass ---- */

struct exact {
	struct siommu_replay *r;
	struct live_tree tree;
	struct tlb_model tlb[SIOMMU_REPLAY_MAX_TLBS];
	uint64_t bitmap;
	uint32_t *group;	/* per event: the allocation of a map (union-find by lowest index) */
	uint64_t *gsize;	/* per event (root): bytes of the allocation */
	uint64_t *giova;	/* per event (root): lowest IOVA of the allocation */
	uint64_t *gfree;	/* per event (root): the unmap that freed it, or UINT64_MAX */
	uint64_t live_maps, live_bytes;
	struct live *lo, *hi;	/* lowest and highest live mapping (the span) */
	uint64_t sample_every;
	struct live *free_nodes;	/* chained through rb.rbe_left */
	struct live_chunk *chunks;
};

static struct live *live_alloc(struct exact *x)
{
	struct live *n = x->free_nodes;

	if (!n) {
		struct live_chunk *c = siommu_zalloc(sizeof(*c));
		unsigned int i;

		if (!c)
			return NULL;
		c->next = x->chunks;
		x->chunks = c;
		for (i = LIVE_CHUNK; i-- > 1; ) {
			c->nodes[i].rb.rbe_left = x->free_nodes;
			x->free_nodes = &c->nodes[i];
		}
		n = &c->nodes[0];
	} else {
		x->free_nodes = n->rb.rbe_left;
	}
	memset(n, 0, sizeof(*n));
	return n;
}

static void live_free(struct exact *x, struct live *n)
{
	n->rb.rbe_left = x->free_nodes;
	x->free_nodes = n;
}

static uint32_t find(uint32_t *g, uint32_t x)
{
	while (g[x] != x) {
		g[x] = g[g[x]];
		x = g[x];
	}
	return x;
}

static int table_bytes(struct siommu_replay *r, uint64_t *bytes)
{
	struct siommu_pt_info info;
	int ret = siommu_pt_get_info(r->pt, &info);

	if (ret)
		return ret;
	*bytes = (info.table_pages - info.detached_pages - info.reclaim_pages) * 4096u;
	return 0;
}

static int sample(struct exact *x, size_t i)
{
	struct siommu_replay *r = x->r;
	struct siommu_replay_sample *s;
	struct live *lo, *hi;
	uint64_t tb = 0;
	int ret;

	ret = table_bytes(r, &tb);
	if (ret)
		return ret;
	if (tb > r->rep.table_bytes_peak)
		r->rep.table_bytes_peak = tb;
	lo = x->lo;
	hi = x->hi;
	uint64_t span = lo ? hi->end - lo->start : 0;

	if (span > r->rep.peak_iova_span)
		r->rep.peak_iova_span = span;
	if (i % x->sample_every && i + 1 != r->nr_ev)
		return 0;
	ret = rp_grow((void **)&r->samples, &r->cap_samples, r->nr_samples + 1, sizeof(*s));
	if (ret)
		return ret;
	s = &r->samples[r->nr_samples++];
	s->ts_ns = r->ev[i].ts;
	s->event = i;
	s->live_maps = x->live_maps;
	s->live_bytes = x->live_bytes;
	s->iova_span = span;
	s->table_bytes = tb;
	return 0;
}

static void count_pages(struct exact *x, uint64_t iova, uint64_t pa, uint64_t size)
{
	uint64_t off = 0;

	while (off < size) {
		unsigned int lg2 = leaf_lg2(x->bitmap, iova + off, pa + off, size - off);

		x->r->rep.pages[lg2 == 12 ? 0 : lg2 == 21 ? 1 : 2]++;
		off += 1ull << lg2;
	}
}

/*
 * The live mapping overlapping [iova, end), or NULL.  Only when the table
 * refused a map: the table holds exactly the live mappings (every map that
 * went in is a live node, every cut that succeeded left the table as the
 * tree), so a map the table accepts overlaps nothing.
 */
static struct live *overlap(struct exact *x, uint64_t iova, uint64_t end)
{
	struct live key = { .start = iova }, *n, *p;

	n = RB_NFIND(live_tree, &x->tree, &key);
	p = n ? RB_PREV(live_tree, &x->tree, n) : RB_MAX(live_tree, &x->tree);
	if (n && n->start < end)
		return n;
	if (p && p->end > iova)
		return p;
	return NULL;
}

static int do_map(struct exact *x, size_t i)
{
	struct siommu_replay *r = x->r;
	const struct rp_ev *e = &r->ev[i];
	uint64_t end = e->iova + e->size;
	struct live *n, *p;
	int ret;

	ret = siommu_pt_map(r->pt, e->iova, e->x, e->size, SIOMMU_PT_READ | SIOMMU_PT_WRITE);
	if (ret) {
		p = overlap(x, e->iova, end);
		if (p)
			return rp_issue(r, SIOMMU_REPLAY_MAP_OVER_LIVE, e->file, e->line,
					"map 0x%" PRIx64 "-0x%" PRIx64 " over the live mapping 0x%" PRIx64
					"-0x%" PRIx64 " of line %" PRIu64 " (not applied)",
					e->iova, end, p->start, p->end, r->ev[p->ev].line);
		if (ret == -ENOMEM)
			return ret;
		return rp_issue(r, SIOMMU_REPLAY_MAP_REFUSED, e->file, e->line,
				"the %s table refused map 0x%" PRIx64 "-0x%" PRIx64 " paddr=0x%" PRIx64
				": %s (not applied)", siommu_pt_fmt_name(r->opts.fmt),
				e->iova, end, e->x, siommu_errname(ret));
	}
	n = live_alloc(x);
	if (!n) {
		struct siommu_pt_gather g;

		siommu_pt_gather_init(&g);
		siommu_pt_unmap(r->pt, e->iova, e->size, &g);
		siommu_pt_gather_sync(&g, NULL, NULL, 0);
		return -ENOMEM;
	}
	n->start = e->iova;
	n->end = end;
	n->pa = e->x;
	n->ev = i;
	RB_INSERT(live_tree, &x->tree, n);
	if (!x->lo || n->start < x->lo->start)
		x->lo = n;
	if (!x->hi || n->start > x->hi->start)
		x->hi = n;
	x->live_maps++;
	x->live_bytes += e->size;
	r->rep.mapped_bytes += e->size;
	if (x->live_maps > r->rep.peak_live_maps)
		r->rep.peak_live_maps = x->live_maps;
	if (x->live_bytes > r->rep.peak_live_bytes)
		r->rep.peak_live_bytes = x->live_bytes;
	count_pages(x, e->iova, e->x, e->size);
	tlb_walk(x->tlb, r->rep.nr_tlbs, x->bitmap, n, false);
	x->gsize[i] = e->size;
	x->giova[i] = e->iova;
	return 0;
}

/* Unmap [s, t) of live mapping @m from the table; split @m if needed. */
static int cut(struct exact *x, struct live *m, uint64_t s, uint64_t t, struct siommu_pt_gather *g,
	       uint64_t *table_bytes)
{
	struct siommu_replay *r = x->r;
	int64_t got = siommu_pt_unmap(r->pt, s, t - s, g);

	if (got < 0)
		return (int)got;
	*table_bytes += (uint64_t)got;
	x->live_bytes -= t - s;
	r->rep.unmapped_bytes += t - s;
	if (s == m->start && t == m->end) {
		if (m == x->lo)
			x->lo = RB_NEXT(live_tree, &x->tree, m);
		if (m == x->hi)
			x->hi = RB_PREV(live_tree, &x->tree, m);
		RB_REMOVE(live_tree, &x->tree, m);
		live_free(x, m);
		x->live_maps--;
	} else if (s == m->start) {
		/* the key changes but the order does not: no other node lies in [s, t) */
		m->pa += t - m->start;
		m->start = t;
	} else if (t == m->end) {
		m->end = s;
	} else {
		struct live *tail = live_alloc(x);

		if (!tail)
			return -ENOMEM;
		*tail = *m;
		tail->start = t;
		tail->pa = m->pa + (t - m->start);
		m->end = s;
		RB_INSERT(live_tree, &x->tree, tail);
		if (m == x->hi)
			x->hi = tail;
		x->live_maps++;
	}
	return 0;
}

static int do_unmap(struct exact *x, size_t i)
{
	struct siommu_replay *r = x->r;
	const struct rp_ev *e = &r->ev[i];
	struct live key = { .start = e->iova }, *n, *next;
	uint64_t end = e->iova + e->size, covered = 0, table_bytes = 0;
	uint32_t first = UINT32_MAX;
	struct siommu_pt_gather g;
	bool partial = false;
	int ret = 0;

	if (r->opts.linux_pt) {
		/*
		 * What Linux's table unmaps: a range ending inside a superpage
		 * that begins inside it takes the whole superpage (see
		 * SIOMMU_PT_F_LINUX); the table's own answer is checked
		 * against unmapped_size below.
		 */
		int lg2 = siommu_pt_lookup_level(r->pt, end - 1);

		if (lg2 > 12) {
			uint64_t sz = 1ull << lg2, leaf = (end - 1) & ~(sz - 1);

			if (leaf >= e->iova)
				end = leaf + sz;
		}
	} else if (e->x != e->size) {
		ret = rp_issue(r, SIOMMU_REPLAY_UNMAP_SIZE, e->file, e->line,
			       "unmap 0x%" PRIx64 "-0x%" PRIx64 ": unmapped_size=%" PRIu64
			       " differs from size=%" PRIu64, e->iova, end, e->x, e->size);
		if (ret)
			return ret;
	}
	siommu_pt_gather_init(&g);
	n = RB_NFIND(live_tree, &x->tree, &key);
	next = n ? RB_PREV(live_tree, &x->tree, n) : RB_MAX(live_tree, &x->tree);
	if (next && next->end > e->iova)
		n = next;
	for (; n && n->start < end; n = next) {
		uint64_t s = n->start > e->iova ? n->start : e->iova;
		uint64_t t = n->end < end ? n->end : end;
		bool whole = s == n->start && t == n->end;
		uint64_t mev = n->ev, mstart = n->start, mend = n->end;

		next = RB_NEXT(live_tree, &x->tree, n);
		if (whole) {
			/* the TLB reads before the unmap, then the union of the allocation */
			tlb_walk(x->tlb, r->rep.nr_tlbs, x->bitmap, n, false);
			tlb_walk(x->tlb, r->rep.nr_tlbs, x->bitmap, n, true);
			uint32_t root = find(x->group, (uint32_t)mev);

			if (first == UINT32_MAX) {
				first = root;
			} else if (root != first) {
				uint32_t lo = root < first ? root : first, hi = root < first ? first : root;

				x->group[hi] = lo;
				x->gsize[lo] += x->gsize[hi];
				if (x->giova[hi] < x->giova[lo])
					x->giova[lo] = x->giova[hi];
				first = lo;
			}
		} else {
			partial = true;
			ret = rp_issue(r, SIOMMU_REPLAY_UNMAP_PARTIAL, e->file, e->line,
				       "unmap 0x%" PRIx64 "-0x%" PRIx64 " covers part (0x%" PRIx64
				       "-0x%" PRIx64 ") of the mapping 0x%" PRIx64 "-0x%" PRIx64
				       " of line %" PRIu64, e->iova, end, s, t, mstart, mend,
				       r->ev[mev].line);
			if (ret)
				break;
			tlb_walk(x->tlb, r->rep.nr_tlbs, x->bitmap, n, true);
		}
		covered += t - s;
		ret = cut(x, n, s, t, &g, &table_bytes);
		if (ret == -EINVAL) {
			/* a leaf straddles the cut: the table cannot split it */
			ret = rp_issue(r, SIOMMU_REPLAY_UNMAP_PARTIAL, e->file, e->line,
				       "unmap 0x%" PRIx64 "-0x%" PRIx64 " would split a large page of the mapping of line %" PRIu64
				       " (that part left mapped)", e->iova, end, r->ev[mev].line);
		}
		if (ret)
			break;
	}
	siommu_pt_gather_sync(&g, NULL, NULL, 0);
	if (ret)
		return ret;
	/* (an unmap that covers nothing is that issue, not this one) */
	if (r->opts.linux_pt && covered && e->x != table_bytes) {
		ret = rp_issue(r, SIOMMU_REPLAY_UNMAP_SIZE, e->file, e->line,
			       "unmap 0x%" PRIx64 "-0x%" PRIx64 ": unmapped_size=%" PRIu64
			       " differs from the %" PRIu64 " bytes the Linux-compatible table unmapped",
			       e->iova, e->iova + e->size, e->x, table_bytes);
		if (ret)
			return ret;
	}
	if (!covered)
		return rp_issue(r, SIOMMU_REPLAY_UNMAP_NOTHING, e->file, e->line,
				"unmap 0x%" PRIx64 "-0x%" PRIx64 " covers no live mapping",
				e->iova, end);
	if (covered < end - e->iova && !partial)
		ret = rp_issue(r, SIOMMU_REPLAY_UNMAP_PARTIAL, e->file, e->line,
			       "unmap 0x%" PRIx64 "-0x%" PRIx64 " covers %" PRIu64
			       " bytes of live mappings and %" PRIu64 " bytes of holes",
			       e->iova, end, covered, end - e->iova - covered);
	if (first != UINT32_MAX && !partial)
		x->gfree[first] = i;
	return ret;
}

/*
 * Maps no unmap ever covered: a scatter-gather request still mapped at the
 * end of the trace shows as consecutive maps of one task on one CPU, each
 * starting where the one before ended; those are one allocation.
 */
static int group_unfreed(struct exact *x)
{
	struct siommu_replay *r = x->r;
	uint64_t *last = siommu_calloc(SIOMMU_REPLAY_MAX_CPUS, sizeof(*last));
	size_t i;

	if (!last)
		return -ENOMEM;
	for (i = 0; i < SIOMMU_REPLAY_MAX_CPUS; i++)
		last[i] = UINT64_MAX;
	for (i = 0; i < r->nr_ev; i++) {
		const struct rp_ev *e = &r->ev[i], *p;
		uint32_t root, proot;

		if (e->type != SIOMMU_TRACE_MAP || !x->gsize[i] ||
		    x->gfree[root = find(x->group, (uint32_t)i)] != UINT64_MAX) {
			last[e->cpu] = UINT64_MAX;
			continue;
		}
		if (last[e->cpu] != UINT64_MAX) {
			p = &r->ev[last[e->cpu]];
			proot = find(x->group, (uint32_t)last[e->cpu]);
			if (p->pid == e->pid && p->iova + p->size == e->iova && proot != root) {
				uint32_t lo = proot < root ? proot : root, hi = proot < root ? root : proot;

				x->group[hi] = lo;
				x->gsize[lo] += x->gsize[hi];
				if (x->giova[hi] < x->giova[lo])
					x->giova[lo] = x->giova[hi];
			}
		}
		last[e->cpu] = i;
	}
	siommu_free(last);
	return 0;
}

static int build_ops(struct exact *x)
{
	struct siommu_replay *r = x->r;
	unsigned int maxcpu = 0;
	size_t i;
	int ret;

	for (i = 0; i < r->nr_ev; i++) {
		const struct rp_ev *e = &r->ev[i];
		uint32_t root;
		struct rp_op *op;

		if (e->cpu > maxcpu)
			maxcpu = e->cpu;
		if (e->type == SIOMMU_TRACE_MAP && x->gsize[i]) {
			root = find(x->group, (uint32_t)i);
			if (root != i)
				continue;
			ret = rp_grow((void **)&r->ops, &r->cap_ops, r->nr_ops + 1, sizeof(*op));
			if (ret)
				return ret;
			op = &r->ops[r->nr_ops++];
			*op = (struct rp_op){ .type = RP_OP_ALLOC, .cpu = e->cpu, .pid = e->pid, .group = root,
					      .ts = e->ts, .size = x->gsize[root],
					      .iova = x->giova[root] };
			r->rep.allocs++;
			if (x->gsize[root] != e->size)
				r->rep.sg_allocs++;
		}
	}
	/* frees: at their unmap, in event order */
	for (i = 0; i < r->nr_ev; i++)
		x->group[i] = UINT32_MAX;
	for (i = 0; i < r->nr_ev; i++)
		if (x->gfree[i] != UINT64_MAX)
			x->group[x->gfree[i]] = (uint32_t)i;	/* unmap -> root it freed (one each) */
	/* merge: walk events, emitting frees at unmaps, allocs at their map */
	size_t mcap = r->nr_ops * 2 + 1;
	struct rp_op *merged = siommu_calloc(mcap, sizeof(*merged));
	size_t k = 0, a = 0;

	if (!merged)
		return -ENOMEM;
	for (i = 0; i < r->nr_ev; i++) {
		if (a < r->nr_ops && r->ops[a].group == i)
			merged[k++] = r->ops[a++];
		if (x->group[i] != UINT32_MAX) {
			const struct rp_ev *e = &r->ev[i];
			uint32_t root = x->group[i];

			merged[k++] = (struct rp_op){ .type = RP_OP_FREE, .cpu = e->cpu, .pid = e->pid, .group = root,
						      .ts = e->ts, .size = x->gsize[root],
						      .iova = x->giova[root] };
		}
	}
	siommu_free(r->ops);
	r->ops = merged;
	r->nr_ops = k;
	r->cap_ops = mcap;	/* what was allocated (k may be up to 2 * nr_ops) */
	r->nr_cpus = maxcpu + 1;
	return 0;
}

/*
 * The table pool a replay needs: every table page ever allocated (in use or
 * waiting for its grace period) was allocated by a map, and a map of S bytes
 * allocates at most S / span + 2 tables at each of the (at most 4) levels
 * below the root; the what-if tables map allocations whose sizes add up to
 * at most twice the maps' (power-of-two rounding).  Capped at pgtable's
 * default pool (131072 pages): a small trace gets a small arena (the
 * default one, 512 MiB of address space and its metadata, made each table
 * creation slow under ASan: fuzzing timed out on it).
 */
static uint64_t table_pages_needed(const struct siommu_replay *r)
{
	const uint64_t cap = 131072;
	uint64_t n = 1;
	size_t i;

	for (i = 0; i < r->nr_ev && n < cap; i++) {
		const struct rp_ev *e = &r->ev[i];

		if (e->type == SIOMMU_TRACE_MAP) {
			uint64_t s = e->size > cap << 21 ? cap << 21 : e->size;

			n += 4 * 3 + 2 * ((s >> 21) + (s >> 30) + 2);
		}
	}
	return n < cap ? n : cap;
}

int rp_exact(struct siommu_replay *r)
{
	struct siommu_pt_cfg cfg = {
		.fmt = r->opts.fmt,
		.pgsize_bitmap = r->opts.pgsize_bitmap,
		.table_phys_base = RP_TABLE_PHYS_BASE,	/* deterministic dumps */
		.flags = r->opts.linux_pt ? SIOMMU_PT_F_LINUX : 0,
	};
	r->table_pages = table_pages_needed(r);
	cfg.max_table_pages = r->table_pages;
	struct siommu_pt_info info;
	struct exact x = { .r = r };
	unsigned int t;
	size_t i;
	int ret;

	RB_INIT(&x.tree);
	if (r->opts.fmt == SIOMMU_PT_FMT_VTD_SS || r->opts.fmt == SIOMMU_PT_FMT_X86_64)
		cfg.levels = r->opts.ias_lg2 <= 39 ? 3 : r->opts.ias_lg2 <= 48 ? 4 : 5;
	if (r->opts.fmt == SIOMMU_PT_FMT_X86_64 && cfg.levels == 3)
		cfg.levels = 4;
	ret = siommu_pt_create(r->ctx, &cfg, &r->pt);
	if (ret)
		return ret;
	ret = siommu_pt_get_info(r->pt, &info);
	if (ret)
		return ret;
	x.bitmap = info.pgsize_bitmap;
	r->rep.table_bytes_peak = info.table_bytes;
	r->rep.nr_tlbs = r->opts.nr_tlbs;
	for (t = 0; t < r->opts.nr_tlbs; t++) {
		r->rep.tlb[t].geom = r->opts.tlb[t];
		x.tlb[t].res = &r->rep.tlb[t];
		x.tlb[t].sets = r->opts.tlb[t].sets;
		x.tlb[t].ways = r->opts.tlb[t].ways;
		x.tlb[t].w = siommu_calloc((size_t)x.tlb[t].sets * x.tlb[t].ways, sizeof(struct tlb_way));
		if (!x.tlb[t].w) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (r->nr_ev > UINT32_MAX - 1) {
		ret = -ENOMEM;
		goto out;
	}
	x.group = siommu_calloc(r->nr_ev + 1, sizeof(*x.group));
	x.gsize = siommu_calloc(r->nr_ev + 1, sizeof(*x.gsize));
	x.giova = siommu_calloc(r->nr_ev + 1, sizeof(*x.giova));
	x.gfree = siommu_calloc(r->nr_ev + 1, sizeof(*x.gfree));
	if (!x.group || !x.gsize || !x.giova || !x.gfree) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < r->nr_ev; i++) {
		x.group[i] = (uint32_t)i;
		x.gfree[i] = UINT64_MAX;
	}
	x.sample_every = r->nr_ev / MAX_SAMPLES + 1;
	for (i = 0; i < r->nr_ev; i++) {
		switch (r->ev[i].type) {
		case SIOMMU_TRACE_MAP:
			ret = do_map(&x, i);
			break;
		case SIOMMU_TRACE_UNMAP:
			ret = do_unmap(&x, i);
			break;
		default:
			ret = 0;
			break;
		}
		if (!ret)
			ret = sample(&x, i);
		if (ret)
			goto out;
		if (r->opts.progress && !(i & 0xffff))
			r->opts.progress(r->opts.progress_opaque, i, r->nr_ev);
	}
	r->rep.end_live_maps = x.live_maps;
	r->rep.end_live_bytes = x.live_bytes;
	ret = table_bytes(r, &r->rep.table_bytes_end);
	if (!ret)
		ret = group_unfreed(&x);
	if (!ret)
		ret = build_ops(&x);
out:
	while (x.chunks) {
		struct live_chunk *c = x.chunks;

		x.chunks = c->next;
		siommu_free(c);
	}
	for (t = 0; t < r->opts.nr_tlbs; t++)
		siommu_free(x.tlb[t].w);
	siommu_free(x.group);
	siommu_free(x.gsize);
	siommu_free(x.giova);
	siommu_free(x.gfree);
	return ret;
}
