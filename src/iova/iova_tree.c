// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The tree of an IOVA space: allocated, cached and reserved ranges in a
 * red-black tree (libbsd's <sys/tree.h> macros) augmented with a summary of
 * the free gaps in each subtree, the pool of nodes, and the address index
 * that lets a lock-free free find the node of an allocation.
 *
 * Free space is implicit: the gaps between consecutive nodes, plus the gaps
 * between the aperture's ends and the first and last node.  Each node keeps
 * a summary of its subtree that depends on nothing outside it:
 *
 *   sub_lo, sub_hi   the first and last granule covered by the subtree's nodes
 *   sub_gap          the longest gap between two consecutive nodes of it
 *   sub_order        the largest k such that some such gap holds a block of
 *                    2^k granules aligned to 2^k (-1: no gap)
 *
 * The gap between a node and its left subtree is [left.sub_hi + 1, lo - 1],
 * and symmetrically on the right, so a node's summary is a function of its
 * own range and its children's summaries (iova_augment()).
 *
 * Search.  Allocation wants the highest start x, aligned to 2^a granules
 * (2^a = the smallest power of two >= n), with [x, x + n - 1] free and at
 * or below the limit.  Gaps do not overlap, so the highest gap that fits
 * gives the answer; the search visits gaps from the top down and skips a
 * subtree when
 *   - its sub_lo is at or above the limit (every gap inside is above it), or
 *   - sub_gap < n, or sub_order < a (or < a - 1 when n is not a power of
 *     two: such a range contains an aligned 2^(a-1) block, so a fitting gap
 *     must hold one).
 * For power-of-two sizes (every cached size) the order test is exact: a
 * subtree entirely below the limit that passes it has a fit, so the search
 * descends one path, plus the one path along the limit: O(log n).  For other
 * sizes the tests are necessary, not sufficient, and an adversarial layout of
 * gaps that hold n granules but never aligned may make the search visit more.
 *
 * Keeping the summaries right.  The libbsd macros call RB_AUGMENT(node) at
 * the nodes whose children change (rotations, and the removal's relinks)
 * but, on insertion and on removal of a node with fewer than two children,
 * not on the ancestors above.  iova_augment() recomputes one node from its
 * children; after every insert and remove, augment_to_root() recomputes the
 * path from the lowest changed node to the root.  Why that is enough: at
 * any moment every node whose summary is stale is an ancestor of (or is)
 * that lowest node: true just after the link or unlink, and kept by each
 * rotation, which recomputes the two nodes it moves from their children
 * (a recomputed node can only be stale through a stale child, which then
 * makes it an ancestor too).  iova_tree_check_locked() verifies it.
 *
 * The index.  A radix table of 512-entry levels, indexed by granule number
 * minus the aperture's first, maps the first granule of each allocation
 * (IN_USE or CACHED) to its node.  Tables are created under the tree lock
 * and published with a release store; lock-free readers walk with acquire
 * loads.  Tables and nodes are freed only at destroy, so a lock-free reader
 * can always dereference what it read; a node may have been recycled since,
 * which the claim (a compare-and-swap of the node's key, whose upper bits are
 * the range's first granule) detects.
 *
 * Locking: everything here runs under space->tree_lock, except
 * iova_index_lookup() and the reads of iova_node.key, which are lock-free.
 */
#include <errno.h>
#include <string.h>

#include "base/alloc.h"
#include "base/debug.h"
#include "iova/iova_internal.h"

static void iova_augment(struct iova_node *n);

#undef RB_AUGMENT
#define RB_AUGMENT(x)	iova_augment(x)

static inline int node_cmp(struct iova_node *a, struct iova_node *b)
{
	return a->pfn_lo < b->pfn_lo ? -1 : a->pfn_lo > b->pfn_lo;
}

RB_GENERATE_INTERNAL(iova_tree_head, iova_node, rb, node_cmp,
		     __attribute__((unused)) static)

#define LEFT(n)		RB_LEFT(n, rb)
#define RIGHT(n)	RB_RIGHT(n, rb)
#define PARENT(n)	RB_PARENT(n, rb)

/* ---- summaries ---- */

/* Largest k such that an aligned block of 2^k granules fits in [lo, hi]. */
static int gap_order(uint64_t lo, uint64_t hi)
{
	uint64_t len = hi - lo + 1;
	int k = 63 - __builtin_clzll(len);
	uint64_t sz = 1ull << k;
	uint64_t x = (lo + sz - 1) & ~(sz - 1);

	/* pfns are below 2^62 (granule >= 4 bytes): no overflow here */
	return x + sz - 1 <= hi ? k : k - 1;
}

static inline void gap_merge(uint64_t lo, uint64_t hi, uint64_t *gap,
			     int *order)
{
	int k;

	if (lo > hi)
		return;
	if (hi - lo + 1 > *gap)
		*gap = hi - lo + 1;
	k = gap_order(lo, hi);
	if (k > *order)
		*order = k;
}

struct iova_summary {
	uint64_t lo, hi, gap;
	int order;
};

static void summarize(const struct iova_node *n, struct iova_summary *sum)
{
	const struct iova_node *l = LEFT(n), *r = RIGHT(n);

	sum->lo = l ? l->sub_lo : n->pfn_lo;
	sum->hi = r ? r->sub_hi : n->pfn_hi;
	sum->gap = 0;
	sum->order = -1;
	if (l) {
		sum->gap = l->sub_gap;
		sum->order = l->sub_order;
		gap_merge(l->sub_hi + 1, n->pfn_lo - 1, &sum->gap, &sum->order);
	}
	if (r) {
		if (r->sub_gap > sum->gap)
			sum->gap = r->sub_gap;
		if (r->sub_order > sum->order)
			sum->order = r->sub_order;
		gap_merge(n->pfn_hi + 1, r->sub_lo - 1, &sum->gap, &sum->order);
	}
}

static void iova_augment(struct iova_node *n)
{
	struct iova_summary sum;

	summarize(n, &sum);
	n->sub_lo = sum.lo;
	n->sub_hi = sum.hi;
	n->sub_gap = sum.gap;
	n->sub_order = (int8_t)sum.order;
}

static void augment_to_root(struct iova_node *n)
{
	for (; n; n = PARENT(n))
		iova_augment(n);
}

static void tree_insert(struct siommu_iova_space *s, struct iova_node *n)
{
	struct iova_node *dup;

	n->sub_lo = n->pfn_lo;
	n->sub_hi = n->pfn_hi;
	n->sub_gap = 0;
	n->sub_order = -1;
	dup = RB_INSERT(iova_tree_head, &s->tree, n);
	SIOMMU_CHECK(!dup);
	(void)dup;
	augment_to_root(n);
}

static void tree_erase(struct siommu_iova_space *s, struct iova_node *n)
{
	struct iova_node *start, *succ;

	/* The lowest node whose subtree changes: see the top comment. */
	if (LEFT(n) && RIGHT(n)) {
		for (succ = RIGHT(n); LEFT(succ); succ = LEFT(succ))
			;
		start = PARENT(succ) == n ? succ : PARENT(succ);
	} else {
		start = PARENT(n);
	}
	RB_REMOVE(iova_tree_head, &s->tree, n);
	augment_to_root(start);
}

/* ---- node pool ---- */

static struct iova_node *node_get(struct siommu_iova_space *s)
{
	struct iova_node *n = s->pool;

	if (n) {
		s->pool = n->pool_next;
		n->pool_next = NULL;
		return n;
	}
	n = siommu_zalloc_aligned(SIOMMU_CACHELINE, sizeof(*n));
	if (n)
		s->nr_nodes++;
	return n;
}

static void node_put(struct siommu_iova_space *s, struct iova_node *n)
{
	siommu_store_release(&n->key, iova_key(0, IOVA_NODE_FREE));
	n->pool_next = s->pool;
	s->pool = n;
}

/* ---- index ---- */

struct iova_radix *iova_index_leaf(struct siommu_iova_space *s, uint64_t idx)
{
	struct iova_radix *t = s->radix_root;
	unsigned int lvl;

	for (lvl = s->radix_levels - 1; lvl > 0; lvl--) {
		/* Pairs with the release store in index_slot(). */
		t = siommu_load_acquire(&t->slot[(idx >> (lvl * IOVA_RADIX_BITS)) &
						 IOVA_RADIX_MASK]);
		if (!t)
			return NULL;
	}
	return t;
}

/* The leaf slot of @idx, creating tables if @create.  Caller holds tree_lock. */
static void **index_slot(struct siommu_iova_space *s, uint64_t idx,
			 bool create)
{
	struct iova_radix *t = s->radix_root, *next;
	unsigned int lvl;
	void **p;

	siommu_assert_held(&s->tree_lock);
	for (lvl = s->radix_levels - 1; lvl > 0; lvl--) {
		p = &t->slot[(idx >> (lvl * IOVA_RADIX_BITS)) & IOVA_RADIX_MASK];
		next = siommu_load_relaxed(p);
		if (!next) {
			if (!create)
				return NULL;
			next = siommu_zalloc(sizeof(*next));
			if (!next)
				return NULL;
			/* Zeroed table before the pointer: pairs with iova_index_leaf(). */
			siommu_store_release(p, next);
		}
		t = next;
	}
	return &t->slot[idx & IOVA_RADIX_MASK];
}

static void radix_free(struct iova_radix *t, unsigned int lvl)
{
	unsigned int i;

	if (!t)
		return;
	if (lvl > 0)
		for (i = 0; i < IOVA_RADIX_SIZE; i++)
			radix_free(t->slot[i], lvl - 1);
	siommu_free(t);
}

/* ---- init / fini ---- */

int iova_tree_init(struct siommu_iova_space *s)
{
	uint64_t span = s->last_pfn - s->start_pfn;
	unsigned int bits = span ? 64 - __builtin_clzll(span) : 1;

	RB_INIT(&s->tree);
	s->radix_levels = (bits + IOVA_RADIX_BITS - 1) / IOVA_RADIX_BITS;
	s->radix_root = siommu_zalloc(sizeof(*s->radix_root));
	return s->radix_root ? 0 : -ENOMEM;
}

void iova_tree_fini(struct siommu_iova_space *s)
{
	struct iova_node *n, *next;

	RB_FOREACH_SAFE(n, iova_tree_head, &s->tree, next) {
		RB_REMOVE(iova_tree_head, &s->tree, n);
		siommu_free(n);
	}
	while ((n = s->pool)) {
		s->pool = n->pool_next;
		siommu_free(n);
	}
	radix_free(s->radix_root, s->radix_levels - 1);
	s->radix_root = NULL;
}

/* ---- search ---- */

/* The highest fit in [lo, hi] (granules), clipped to the limit. */
static inline bool fit(uint64_t lo, uint64_t hi,
		       const struct iova_alloc_req *req, uint64_t *out)
{
	uint64_t x;

	if (hi > req->limit_pfn)
		hi = req->limit_pfn;
	if (lo > hi || hi - lo + 1 < req->pages)
		return false;
	x = (hi - req->pages + 1) & ~((1ull << req->align_lg2) - 1);
	if (x < lo)
		return false;
	*out = x;
	return true;
}

/* The highest fit among the gaps between the nodes of subtree @t. */
static bool search_sub(const struct iova_node *t,
		       const struct iova_alloc_req *req, uint64_t *out)
{
	while (t) {
		if (t->sub_lo >= req->limit_pfn || t->sub_gap < req->pages ||
		    t->sub_order < req->need_order)
			return false;
		if (search_sub(RIGHT(t), req, out))
			return true;
		if (RIGHT(t) && fit(t->pfn_hi + 1, RIGHT(t)->sub_lo - 1, req, out))
			return true;
		if (LEFT(t) && fit(LEFT(t)->sub_hi + 1, t->pfn_lo - 1, req, out))
			return true;
		t = LEFT(t);	/* tail call */
	}
	return false;
}

static bool tree_search(struct siommu_iova_space *s,
			const struct iova_alloc_req *req, uint64_t *out)
{
	const struct iova_node *root = RB_ROOT(&s->tree);

	if (!root)
		return fit(s->start_pfn, s->last_pfn, req, out);
	if (root->sub_hi < s->last_pfn &&
	    fit(root->sub_hi + 1, s->last_pfn, req, out))
		return true;
	if (search_sub(root, req, out))
		return true;
	return root->sub_lo > s->start_pfn &&
	       fit(s->start_pfn, root->sub_lo - 1, req, out);
}

struct iova_node *iova_tree_alloc_locked(struct siommu_iova_space *s,
					 const struct iova_alloc_req *req,
					 int *err)
{
	struct iova_node *n;
	uint64_t x;
	void **slot;

	siommu_assert_held(&s->tree_lock);
	if (!tree_search(s, req, &x)) {
		*err = -ENOSPC;
		return NULL;
	}
	n = node_get(s);
	if (!n)
		goto err_nomem;
	slot = index_slot(s, iova_index_of(s, x), true);
	if (!slot)
		goto err_put;
	SIOMMU_CHECK(!*slot);
	n->pfn_lo = x;
	n->pfn_hi = x + req->pages - 1;
	n->cls = req->cls;
	siommu_store_release(&n->key, iova_key(x, IOVA_NODE_IN_USE));
	tree_insert(s, n);
	/*
	 * Node fields and key before the pointer: pairs with the acquire load
	 * in iova_index_lookup().
	 */
	siommu_store_release(slot, n);
	s->tree_allocs++;
	return n;

err_put:
	node_put(s, n);
err_nomem:
	*err = -ENOMEM;
	return NULL;
}

void iova_tree_remove_locked(struct siommu_iova_space *s, struct iova_node *n)
{
	void **slot;

	siommu_assert_held(&s->tree_lock);
	SIOMMU_CHECK(iova_node_state(n) == IOVA_NODE_CACHED);
	slot = index_slot(s, iova_index_of(s, n->pfn_lo), false);
	SIOMMU_CHECK(slot && *slot == n);
	if (slot)
		siommu_store_release(slot, NULL);
	tree_erase(s, n);
	node_put(s, n);
	s->tree_frees++;
}

/* The first node (in address order) that ends at or after @pfn. */
static struct iova_node *first_ending_at_or_after(struct siommu_iova_space *s,
						  uint64_t pfn)
{
	struct iova_node *t = RB_ROOT(&s->tree), *res = NULL;

	while (t) {
		if (t->pfn_hi >= pfn) {
			res = t;
			t = LEFT(t);
		} else {
			t = RIGHT(t);
		}
	}
	return res;
}

struct iova_node *iova_tree_find_locked(struct siommu_iova_space *s,
					uint64_t pfn)
{
	struct iova_node *n = first_ending_at_or_after(s, pfn);

	siommu_assert_held(&s->tree_lock);
	return n && n->pfn_lo <= pfn ? n : NULL;
}

struct iova_node *iova_tree_first_locked(struct siommu_iova_space *s)
{
	return RB_MIN(iova_tree_head, &s->tree);
}

struct iova_node *iova_tree_next_locked(struct iova_node *n)
{
	return RB_NEXT(iova_tree_head, NULL, n);
}

static void insert_reserved(struct siommu_iova_space *s, struct iova_node *n,
			    uint64_t lo, uint64_t hi)
{
	n->pfn_lo = lo;
	n->pfn_hi = hi;
	n->cls = IOVA_NO_CLASS;
	siommu_store_release(&n->key, iova_key(lo, IOVA_NODE_RESERVED));
	tree_insert(s, n);
}

int iova_tree_reserve_locked(struct siommu_iova_space *s, uint64_t lo,
			     uint64_t hi)
{
	struct iova_node *first, *m, *spare = NULL, *n;
	uint64_t cursor, pieces = 0, i;
	bool cached = false;

	siommu_assert_held(&s->tree_lock);
	/* Pass 1: what overlaps, and how many free pieces there are. */
	first = first_ending_at_or_after(s, lo);
	cursor = lo;
	for (m = first; m && m->pfn_lo <= hi; m = iova_tree_next_locked(m)) {
		switch (iova_node_state(m)) {
		case IOVA_NODE_IN_USE:
			return -EBUSY;
		case IOVA_NODE_CACHED:
			cached = true;
			break;
		default:
			break;
		}
		if (m->pfn_lo > cursor)
			pieces++;
		cursor = m->pfn_hi + 1;
	}
	if (cached)
		return -EAGAIN;
	if (cursor <= hi)
		pieces++;

	/* Every node first, so that nothing changes if one is missing. */
	for (i = 0; i < pieces; i++) {
		n = node_get(s);
		if (!n)
			goto err_put;
		n->pool_next = spare;
		spare = n;
	}

	/* Pass 2: fill the pieces.  Inserts keep in-order successors. */
	cursor = lo;
	for (m = first; m && m->pfn_lo <= hi; m = iova_tree_next_locked(m)) {
		if (m->pfn_lo > cursor) {
			n = spare;
			spare = n->pool_next;
			n->pool_next = NULL;
			insert_reserved(s, n, cursor, m->pfn_lo - 1);
		}
		cursor = m->pfn_hi + 1;
	}
	if (cursor <= hi) {
		n = spare;
		spare = n->pool_next;
		n->pool_next = NULL;
		insert_reserved(s, n, cursor, hi);
	}
	SIOMMU_CHECK(!spare);
	return 0;

err_put:
	while ((n = spare)) {
		spare = n->pool_next;
		node_put(s, n);
	}
	return -ENOMEM;
}

/* ---- checking ---- */

#define CHECK_OR_RETURN(cond)			\
	do {					\
		if (!(cond))			\
			return -__LINE__;	\
	} while (0)

/* Returns the black height of @n, or a negative line number. */
static int check_node(struct siommu_iova_space *s, struct iova_node *n,
		      struct iova_node *parent)
{
	struct iova_summary sum;
	int lh, rh;
	void **slot;
	enum iova_node_state st;

	if (!n)
		return 1;
	CHECK_OR_RETURN(PARENT(n) == parent);
	CHECK_OR_RETURN(n->pfn_lo <= n->pfn_hi);
	CHECK_OR_RETURN(n->pfn_lo >= s->start_pfn && n->pfn_hi <= s->last_pfn);
	if (LEFT(n))
		CHECK_OR_RETURN(LEFT(n)->pfn_lo < n->pfn_lo);
	if (RIGHT(n))
		CHECK_OR_RETURN(RIGHT(n)->pfn_lo > n->pfn_lo);
	if (RB_COLOR(n, rb) == RB_RED) {
		CHECK_OR_RETURN(!LEFT(n) || RB_COLOR(LEFT(n), rb) == RB_BLACK);
		CHECK_OR_RETURN(!RIGHT(n) || RB_COLOR(RIGHT(n), rb) == RB_BLACK);
	}
	lh = check_node(s, LEFT(n), n);
	if (lh < 0)
		return lh;
	rh = check_node(s, RIGHT(n), n);
	if (rh < 0)
		return rh;
	CHECK_OR_RETURN(lh == rh);

	/* The summary equals a recomputation from the (checked) children. */
	summarize(n, &sum);
	CHECK_OR_RETURN(sum.lo == n->sub_lo && sum.hi == n->sub_hi &&
			sum.gap == n->sub_gap && sum.order == n->sub_order);

	/* Key and index. */
	CHECK_OR_RETURN((siommu_load_acquire(&n->key) >> 2) == n->pfn_lo);
	st = iova_node_state(n);
	CHECK_OR_RETURN(st != IOVA_NODE_FREE);
	slot = index_slot(s, iova_index_of(s, n->pfn_lo), false);
	if (st == IOVA_NODE_RESERVED) {
		CHECK_OR_RETURN(!slot || *slot != n);
		CHECK_OR_RETURN(n->cls == IOVA_NO_CLASS);
	} else {
		CHECK_OR_RETURN(slot && *slot == n);
		if (n->cls != IOVA_NO_CLASS)
			CHECK_OR_RETURN(n->pfn_hi - n->pfn_lo + 1 == 1ull << n->cls);
	}
	return lh + (RB_COLOR(n, rb) == RB_BLACK);
}

int iova_tree_check_locked(struct siommu_iova_space *s)
{
	struct iova_node *n, *prev = NULL;
	int ret;

	siommu_assert_held(&s->tree_lock);
	CHECK_OR_RETURN(!RB_ROOT(&s->tree) ||
			RB_COLOR(RB_ROOT(&s->tree), rb) == RB_BLACK);
	ret = check_node(s, RB_ROOT(&s->tree), NULL);
	if (ret < 0)
		return ret;
	/* In order: sorted and disjoint. */
	RB_FOREACH(n, iova_tree_head, &s->tree) {
		if (prev)
			CHECK_OR_RETURN(prev->pfn_hi < n->pfn_lo);
		prev = n;
	}
	for (n = s->pool; n; n = n->pool_next)
		CHECK_OR_RETURN(iova_node_state(n) == IOVA_NODE_FREE);
	return 0;
}
