// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ioas: I/O address spaces of user memory (seeds 004, 003).
 *
 * Terms.  An IOAS holds areas: disjoint IOVA ranges [iova, last], each
 * mapping a slice of one pages object (pages.c: the pinned memory of one
 * map, shared by the areas copy made from it).  The IOVA space is
 * constrained by the allowed set (siommu_ioas_allow_iovas(); none given:
 * everything) and the reserved ranges (siommu_ioas_reserve(), and what lies
 * beyond the aperture of each filled domain).  Domains (domain.c) are
 * PAGING domains the IOAS owns; while a device is attached to one its table
 * holds exactly the areas.
 *
 * Invariants, under ioas->lock:
 *  I1  areas are disjoint, granule-aligned, inside the allowed set and
 *      outside every reserved range;
 *  I2  every filled domain maps each area (not revoked) at its IOVA to its
 *      pages' output address, with its permissions, and nothing else;
 *  I3  a failing call leaves I1/I2 and every area as they were: map and
 *      copy create their areas and domain mappings first and undo them on
 *      error; unmap validates every area of the range before removing any.
 *
 * Why one mutex per IOAS: every operation here changes the areas and every
 * filled domain together (I2), and the domains' updates (a strict unmap
 * waits for a grace period) must not be seen half done by another map or
 * unmap of the same range.  Access pins, unpins and rw do not take it: each
 * change of the tree republishes an RCU snapshot of the areas (a sorted
 * array, snap_publish_locked()) that they search, holding areas by a
 * per-area count (access.c, P1), so pins of disjoint areas scale; removed
 * areas and old snapshots are freed after a grace period.  No reader takes
 * it (the lockless pins take no lock inside their read-side sections but
 * their access's, which is never held across a grace period; every entry
 * point that takes it refuses inside a section), so holding it across the
 * grace period of a strict unmap keeps the rule "never wait for a grace
 * period holding a lock a reader takes".  The areas need no augmented interval tree: they never
 * overlap, so an RB tree ordered by IOVA is also ordered by last, and the
 * first area ending at or after an address is found by one descent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/ctx.h"
#include "base/debug.h"
#include "base/rcu.h"
#include "ioas/ioas_internal.h"

static inline int ioas_area_cmp(struct ioas_area *a, struct ioas_area *b)
{
	return a->iova < b->iova ? -1 : a->iova > b->iova;
}

RB_GENERATE(ioas_area_tree, ioas_area, rb, ioas_area_cmp)

#define GRANULE		SIOMMU_IOAS_PAGE_SIZE
#define MAP_PROT_MASK	(SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_WRITE)
#define MAP_FLAGS_MASK	(MAP_PROT_MASK | SIOMMU_IOAS_MAP_FIXED_IOVA)

/* ------------------------------------------------------------------ areas */

/* The first area with last >= @iova and iova <= @last, or NULL. */
struct ioas_area *ioas_area_first(struct siommu_ioas *ioas, uint64_t iova,
				  uint64_t last)
{
	struct ioas_area *n = RB_ROOT(&ioas->areas), *res = NULL;

	siommu_assert_held(&ioas->lock);
	while (n) {
		if (n->last >= iova) {
			res = n;
			n = RB_LEFT(n, rb);
		} else {
			n = RB_RIGHT(n, rb);
		}
	}
	return res && res->iova <= last ? res : NULL;
}

struct ioas_area *ioas_area_next(struct ioas_area *a)
{
	return RB_NEXT(ioas_area_tree, NULL, a);
}

static void area_free_rcu(struct siommu_rcu_head *h)
{
	siommu_free(siommu_container_of(h, struct ioas_area, rcu));
}

static void snap_free_rcu(struct siommu_rcu_head *h)
{
	siommu_free(siommu_container_of(h, struct ioas_snap, rcu));
}

/* A snapshot with room for @n areas, or NULL for n == 0 (*@err: -ENOMEM). */
struct ioas_snap *ioas_snap_alloc(uint64_t n, int *err)
{
	struct ioas_snap *s;

	*err = 0;
	if (!n)
		return NULL;
	if (n > (UINT32_MAX - sizeof(*s)) / sizeof(s->a[0])) {
		*err = -ENOMEM;
		return NULL;
	}
	s = siommu_zalloc(sizeof(*s) + n * sizeof(s->a[0]));
	if (!s)
		*err = -ENOMEM;
	else
		s->cap = (unsigned int)n;
	return s;
}

/*
 * Fill @s (room for every area, or NULL when there is none) from the tree
 * and publish it; the old snapshot is freed after a grace period.
 * Pairs with the acquire load in access.c's lockless lookups: a reader that
 * sees @s sees every area it points to initialised.
 */
static void snap_publish_locked(struct siommu_ioas *ioas, struct ioas_snap *s)
{
	struct ioas_snap *old = ioas->snap;
	struct ioas_area *a;

	siommu_assert_held(&ioas->lock);
	if (s) {
		s->n = 0;
		RB_FOREACH(a, ioas_area_tree, &ioas->areas)
			s->a[s->n++] = a;
	}
	__atomic_store_n(&ioas->snap, s, __ATOMIC_RELEASE);
	if (old)
		siommu_call_rcu(&old->rcu, snap_free_rcu);
}

/* How many unmap blocks overlap [iova, last]. */
unsigned int ioas_blocks_over(struct siommu_ioas *ioas, uint64_t iova, uint64_t last)
{
	struct ioas_block *b;
	unsigned int n = 0;

	siommu_assert_held(&ioas->lock);
	cds_list_for_each_entry(b, &ioas->blocks, link)
		n += b->iova <= last && iova <= b->last;
	return n;
}

/* ------------------------------------------------------------------ ranges */

static bool overlaps(uint64_t s1, uint64_t l1, uint64_t s2, uint64_t l2)
{
	return s1 <= l2 && s2 <= l1;
}

static const struct ioas_resv *resv_first(struct siommu_ioas *ioas,
					  uint64_t start, uint64_t last)
{
	unsigned int i;

	for (i = 0; i < ioas->nr_resv; i++)
		if (overlaps(ioas->resv[i].start, ioas->resv[i].last, start, last))
			return &ioas->resv[i];
	return NULL;
}

/* Is [start, last] inside one allowed range? */
static bool allowed(struct siommu_ioas *ioas, uint64_t start, uint64_t last)
{
	unsigned int i;

	if (!ioas->allowed)
		return true;
	for (i = 0; i < ioas->nr_allowed; i++)
		if (ioas->allowed[i].start <= start && last <= ioas->allowed[i].last)
			return true;
	return false;
}

int ioas_resv_add(struct siommu_ioas *ioas, uint64_t start, uint64_t last,
		  struct ioas_domain *owner)
{
	unsigned int i;

	siommu_assert_held(&ioas->lock);
	if (ioas->nr_resv == ioas->cap_resv) {
		unsigned int cap = ioas->cap_resv ? ioas->cap_resv * 2 : 8;
		struct ioas_resv *n = siommu_calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		if (ioas->nr_resv)
			memcpy(n, ioas->resv, ioas->nr_resv * sizeof(*n));
		siommu_free(ioas->resv);
		ioas->resv = n;
		ioas->cap_resv = cap;
	}
	for (i = ioas->nr_resv; i > 0 && ioas->resv[i - 1].start > start; i--)
		ioas->resv[i] = ioas->resv[i - 1];
	ioas->resv[i] = (struct ioas_resv){ start, last, owner };
	ioas->nr_resv++;
	return 0;
}

static void resv_remove_at(struct siommu_ioas *ioas, unsigned int i)
{
	memmove(&ioas->resv[i], &ioas->resv[i + 1],
		(ioas->nr_resv - i - 1) * sizeof(*ioas->resv));
	ioas->nr_resv--;
}

void ioas_resv_remove_owner(struct siommu_ioas *ioas, struct ioas_domain *owner)
{
	unsigned int i = 0;

	siommu_assert_held(&ioas->lock);
	while (i < ioas->nr_resv) {
		if (ioas->resv[i].owner == owner)
			resv_remove_at(ioas, i);
		else
			i++;
	}
}

/*
 * Why is [iova, last] not mappable?  0, -EINVAL (reserved or not allowed)
 * or -EEXIST (an area).
 */
static int range_check(struct siommu_ioas *ioas, uint64_t iova, uint64_t last)
{
	if (!allowed(ioas, iova, last) || resv_first(ioas, iova, last))
		return -EINVAL;
	if (ioas_area_first(ioas, iova, last))
		return -EEXIST;
	return 0;
}

/*
 * The lowest @align-aligned IOVA where @length bytes fit in [lo, hi]
 * (allowed, unreserved, no area).  Returns 0 with *@out set, or -ENOSPC.
 */
static int hole_in(struct siommu_ioas *ioas, uint64_t lo, uint64_t hi,
		   uint64_t length, uint64_t align, uint64_t *out)
{
	uint64_t cur = lo, last;

	for (;;) {
		const struct ioas_resv *r;
		struct ioas_area *a;
		uint64_t next;

		if (cur % align) {
			if (siommu_add_overflow(cur, align - cur % align, &cur))
				return -ENOSPC;
		}
		if (cur < lo || cur > hi ||
		    siommu_add_overflow(cur, length - 1, &last) || last > hi)
			return -ENOSPC;
		r = resv_first(ioas, cur, last);
		a = ioas_area_first(ioas, cur, last);
		if (!r && !a) {
			*out = cur;
			return 0;
		}
		next = r ? r->last : 0;
		if (a && a->last > next)
			next = a->last;
		if (next == UINT64_MAX)
			return -ENOSPC;
		cur = next + 1;
	}
}

static int iova_alloc(struct siommu_ioas *ioas, uint64_t length, uint64_t pa,
		      uint64_t *out)
{
	static const uint64_t aligns[] = { 1ull << 30, 1ull << 21, GRANULE };
	unsigned int i, j;

	for (i = 0; i < SIOMMU_ARRAY_SIZE(aligns); i++) {
		uint64_t align = aligns[i];

		/* A larger alignment helps only if the memory has it too. */
		if (align > GRANULE && (length < align || pa % align))
			continue;
		if (!ioas->allowed) {
			if (!hole_in(ioas, 0, UINT64_MAX, length, align, out))
				return 0;
			continue;
		}
		for (j = 0; j < ioas->nr_allowed; j++)
			if (!hole_in(ioas, ioas->allowed[j].start,
				     ioas->allowed[j].last, length, align, out))
				return 0;
	}
	return -ENOSPC;
}

/* ------------------------------------------------------------------ IOAS */

int siommu_ioas_create(struct siommu_ioas_layer *l, struct siommu_ioas **out)
{
	struct siommu_ioas *ioas;

	if (!l || !out)
		return -EINVAL;
	ioas = siommu_zalloc(sizeof(*ioas));
	if (!ioas)
		return -ENOMEM;
	ioas->l = l;
	siommu_mutex_init(&ioas->lock, "ioas", SIOMMU_RANK_IOAS);
	RB_INIT(&ioas->areas);
	CDS_INIT_LIST_HEAD(&ioas->domains);
	CDS_INIT_LIST_HEAD(&ioas->accesses);
	CDS_INIT_LIST_HEAD(&ioas->blocks);
	if (pthread_cond_init(&ioas->cond, NULL)) {
		siommu_free(ioas);
		return -ENOMEM;
	}
	ioas->unmap_retries = 100;
	__atomic_fetch_add(&l->nr_ioas, 1, __ATOMIC_RELAXED);
	*out = ioas;
	return 0;
}

/*
 * Remove every area inside [iova, last] (the caller validated the range and
 * saw nothing busy in it, with the areas blocked): out of every domain and
 * the tree, then a new snapshot is published, and only then are the areas
 * queued for freeing after a grace period (a lockless lookup may still
 * hold the old snapshot; it sees them blocked and lets go).  Their pages
 * are dropped at once: a lookup that sees an area blocked never touches
 * them.  Returns 0 with *@bytes set, or -ENOMEM with nothing changed.
 */
int ioas_remove_range_locked(struct siommu_ioas *ioas, uint64_t iova,
			     uint64_t last, uint64_t *bytes, struct ioas_snap **spare)
{
	struct ioas_area *a = ioas_area_first(ioas, iova, last), *next, *dead = NULL;
	struct ioas_snap *s;
	uint64_t k = 0;
	int ret;

	siommu_assert_held(&ioas->lock);
	for (next = a; next && next->iova <= last; next = ioas_area_next(next))
		k++;
	if (spare && *spare && ioas->nr_areas - k && (*spare)->cap >= ioas->nr_areas - k) {
		s = *spare;
		*spare = NULL;
	} else {
		s = ioas_snap_alloc(ioas->nr_areas - k, &ret);
		if (ret)
			return ret;
	}
	*bytes = 0;
	for (; a && a->iova <= last; a = next) {
		next = ioas_area_next(a);
		/*
		 * Blocked for good: a lookup through an old snapshot lets go.
		 * Its busy count may still rise and fall (a pin raising it,
		 * seeing the block and backing off): such a pin touches only
		 * this struct, never the pages, and the struct outlives it.
		 */
		__atomic_fetch_add(&a->blocked, 1, __ATOMIC_SEQ_CST);
		ioas_domains_unmap_area(ioas, a);
		RB_REMOVE(ioas_area_tree, &ioas->areas, a);
		*bytes += ioas_area_len(a);
		ioas->nr_areas--;
		ioas->mapped_bytes -= ioas_area_len(a);
		ioas_pages_put(a->pages);
		a->dead_next = dead;
		dead = a;
	}
	snap_publish_locked(ioas, s);
	for (a = dead; a; a = next) {
		next = a->dead_next;
		siommu_call_rcu(&a->rcu, area_free_rcu);
	}
	return 0;
}

int siommu_ioas_destroy(struct siommu_ioas *ioas)
{
	int ret;

	if (!ioas)
		return 0;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&ioas->lock);
	if (ioas->nr_domains || ioas->nr_accesses) {
		siommu_mutex_unlock(&ioas->lock);
		return -EBUSY;
	}
	siommu_mutex_unlock(&ioas->lock);
	/* Nothing else may use @ioas now (no access, no domain, the caller's). */
	ret = ioas_unwatch_all(ioas);
	if (ret)
		return ret;
	siommu_mutex_lock(&ioas->lock);
	/* No access: nothing busy; an empty snapshot needs no memory. */
	SIOMMU_WARN_ON(ioas_remove_range_locked(ioas, 0, UINT64_MAX, &(uint64_t){ 0 }, NULL));
	siommu_mutex_unlock(&ioas->lock);
	pthread_cond_destroy(&ioas->cond);
	siommu_mutex_destroy(&ioas->lock);
	siommu_free(ioas->allowed);
	siommu_free(ioas->resv);
	__atomic_fetch_sub(&ioas->l->nr_ioas, 1, __ATOMIC_RELEASE);
	siommu_free(ioas);
	return 0;
}

/* ------------------------------------------------------------------ map */

/* A piece of pages to map: copy may map several, map maps one. */
struct map_piece {
	struct ioas_pages *pages;	/* one reference, moved into the area */
	uint64_t off;
	uint64_t len;
};

/*
 * Map @n pieces back to back from an IOVA (fixed in *@iova or chosen),
 * into the tree and every filled domain.  Consumes the pieces' references
 * on success; on error they stay the caller's and nothing changed.
 */
static int map_pieces(struct siommu_ioas *ioas, struct map_piece *pc,
		      unsigned int n, uint64_t total, unsigned int flags,
		      uint64_t *iova)
{
	struct ioas_area **areas, *dup;
	struct ioas_snap *snap = NULL;
	uint64_t start, last, cur;
	unsigned int i, done;
	int ret;

	siommu_mutex_lock(&ioas->lock);
	if (flags & SIOMMU_IOAS_MAP_FIXED_IOVA) {
		start = *iova;
		if (start % GRANULE) {
			ret = -EINVAL;
			goto out_unlock;
		}
		if (siommu_add_overflow(start, total - 1, &last)) {
			ret = -EOVERFLOW;
			goto out_unlock;
		}
		ret = range_check(ioas, start, last);
		if (ret)
			goto out_unlock;
	} else {
		ret = iova_alloc(ioas, total, pc[0].pages->pa + pc[0].off, &start);
		if (ret)
			goto out_unlock;
	}
	for (i = 0; i < n; i++) {
		if (pc[i].pages->mem) {
			ret = ioas_watch_mem_locked(ioas, pc[i].pages->mem);
			if (ret)
				goto out_unlock;
		}
	}
	snap = ioas_snap_alloc(ioas->nr_areas + n, &ret);
	if (ret)
		goto out_unlock;
	areas = siommu_calloc(n, sizeof(*areas));
	if (!areas) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	for (i = 0; i < n; i++) {
		areas[i] = siommu_zalloc_aligned(SIOMMU_CACHELINE, sizeof(**areas));
		if (!areas[i]) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	cur = start;
	for (done = 0; done < n; done++) {
		struct ioas_area *a = areas[done];

		a->iova = cur;
		a->last = cur + pc[done].len - 1;
		a->pages = pc[done].pages;
		a->pages_off = pc[done].off;
		a->flags = flags & MAP_PROT_MASK;
		/* An unmap notifying over this range keeps pins out of it too. */
		a->blocked = ioas_blocks_over(ioas, a->iova, a->last);
		ret = ioas_domains_map_area(ioas, a);
		if (ret)
			goto out_undo;
		dup = RB_INSERT(ioas_area_tree, &ioas->areas, a);
		SIOMMU_CHECK(!dup);	/* range_check/iova_alloc found no overlap */
		cur += pc[done].len;
	}
	ioas->nr_areas += n;
	ioas->mapped_bytes += total;
	snap_publish_locked(ioas, snap);
	siommu_free(areas);
	siommu_mutex_unlock(&ioas->lock);
	*iova = start;
	return 0;

out_undo:
	while (done--) {
		RB_REMOVE(ioas_area_tree, &ioas->areas, areas[done]);
		ioas_domains_unmap_area(ioas, areas[done]);
	}
	i = n;
out_free:
	while (i--)
		siommu_free(areas[i]);	/* the pages' references stay the caller's */
	siommu_free(areas);
out_unlock:
	siommu_mutex_unlock(&ioas->lock);
	siommu_free(snap);
	return ret;
}

static int map_args_check(uint64_t length, unsigned int flags)
{
	if (!length || length % GRANULE)
		return -EINVAL;
	if (flags & ~MAP_FLAGS_MASK || !(flags & MAP_PROT_MASK))
		return -EINVAL;
	return 0;
}

int siommu_ioas_map(struct siommu_ioas *ioas, const struct siommu_ioas_mem *m,
		    uint64_t length, unsigned int flags, uint64_t *iova)
{
	struct map_piece pc;
	int ret;

	if (!ioas || !m || !iova)
		return -EINVAL;
	ret = map_args_check(length, flags);
	if (ret)
		return ret;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	ret = ioas_pages_create(m, length, flags & SIOMMU_IOAS_MAP_WRITE, &pc.pages);
	if (ret)
		return ret;
	pc.off = 0;
	pc.len = length;
	ret = map_pieces(ioas, &pc, 1, length, flags, iova);
	if (ret)
		ioas_pages_put(pc.pages);
	return ret;
}

/*
 * Collect the pieces of [iova, iova + length - 1] of @src, each with a
 * reference on its pages.  Returns the number of pieces (> 0) with *@out
 * allocated, or -ENOENT / -EPERM / -ENODEV (a piece's region was revoked:
 * like a map of a revoked region, refused) / -ENOMEM with nothing held.
 */
static int copy_collect(struct siommu_ioas *src, uint64_t iova, uint64_t last,
			bool write, struct map_piece **out)
{
	struct map_piece *pc = NULL;
	struct ioas_area *a;
	unsigned int n = 0, i;
	uint64_t cur = iova;
	int ret = 0;

	siommu_mutex_lock(&src->lock);
	for (a = ioas_area_first(src, iova, last); a; a = ioas_area_next(a)) {
		if (a->iova > cur)
			break;		/* a hole */
		n++;
		if (a->last >= last)
			break;
		cur = a->last + 1;
	}
	if (!n || !a || a->iova > cur || a->last < last) {
		ret = -ENOENT;
		goto out;
	}
	pc = siommu_calloc(n, sizeof(*pc));
	if (!pc) {
		ret = -ENOMEM;
		goto out;
	}
	a = ioas_area_first(src, iova, last);
	for (i = 0; i < n; i++, a = ioas_area_next(a)) {
		uint64_t s = a->iova > iova ? a->iova : iova;
		uint64_t e = a->last < last ? a->last : last;

		if (write && !(a->flags & SIOMMU_IOAS_MAP_WRITE)) {
			ret = -EPERM;
			break;
		}
		if (a->pages->region) {
			struct siommu_mem_region_info ri;

			if (!siommu_mem_region_info(a->pages->region, &ri) && ri.revoked) {
				ret = -ENODEV;	/* found by fuzz_api */
				break;
			}
		}
		pc[i].pages = a->pages;
		pc[i].off = a->pages_off + (s - a->iova);
		pc[i].len = e - s + 1;
	}
	if (ret) {
		siommu_free(pc);
		goto out;
	}
	for (i = 0; i < n; i++)
		ioas_pages_get(pc[i].pages);
	*out = pc;
	ret = (int)n;
out:
	siommu_mutex_unlock(&src->lock);
	return ret;
}

int siommu_ioas_copy(struct siommu_ioas *dst, uint64_t *dst_iova,
		     struct siommu_ioas *src, uint64_t src_iova,
		     uint64_t length, unsigned int flags)
{
	struct map_piece *pc;
	uint64_t last;
	int n, ret, i;

	if (!dst || !dst_iova || !src || src->l != dst->l)
		return -EINVAL;
	ret = map_args_check(length, flags);
	if (ret)
		return ret;
	if (src_iova % GRANULE)
		return -EINVAL;
	if (siommu_add_overflow(src_iova, length - 1, &last))
		return -EOVERFLOW;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	n = copy_collect(src, src_iova, last, flags & SIOMMU_IOAS_MAP_WRITE, &pc);
	if (n < 0)
		return n;
	ret = map_pieces(dst, pc, (unsigned int)n, length, flags, dst_iova);
	if (ret)
		for (i = 0; i < n; i++)
			ioas_pages_put(pc[i].pages);
	siommu_free(pc);
	return ret;
}

/* ------------------------------------------------------------------ unmap */

int siommu_ioas_unmap(struct siommu_ioas *ioas, uint64_t iova, uint64_t length,
		      uint64_t *unmapped)
{
	char warn[IOAS_WARN_MAX];
	uint64_t last, bytes = 0;
	int ret;

	if (!ioas || !length || length % GRANULE || iova % GRANULE)
		return -EINVAL;
	if (siommu_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&ioas->lock);
	ret = ioas_unmap_range_locked(ioas, iova, last, false, &bytes, warn);
	siommu_mutex_unlock(&ioas->lock);
	if (ret == -EBUSY)
		siommu_warn(ioas->l->ctx, "%s", warn);	/* no lock held: base.h */
	if (!ret && unmapped)
		*unmapped = bytes;
	return ret;
}

int siommu_ioas_unmap_all(struct siommu_ioas *ioas, uint64_t *unmapped)
{
	char warn[IOAS_WARN_MAX];
	uint64_t bytes = 0;
	int ret;

	if (!ioas)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&ioas->lock);
	ret = ioas_unmap_range_locked(ioas, 0, UINT64_MAX, true, &bytes, warn);
	siommu_mutex_unlock(&ioas->lock);
	if (ret == -EBUSY)
		siommu_warn(ioas->l->ctx, "%s", warn);	/* no lock held: base.h */
	if (!ret && unmapped)
		*unmapped = bytes;
	return ret;
}

/* ------------------------------------------------------------------ ranges API */

/* Emit allowed-minus-reserved pieces of [lo, hi]; returns the new count. */
static unsigned int emit_holes(struct siommu_ioas *ioas, uint64_t lo,
			       uint64_t hi, struct siommu_ioas_range *out,
			       unsigned int max, unsigned int n)
{
	uint64_t cur = lo;
	unsigned int i;
	bool done = false;

	/* resv[] is sorted by start; ranges may overlap each other. */
	for (i = 0; i < ioas->nr_resv && !done; i++) {
		const struct ioas_resv *r = &ioas->resv[i];

		if (r->last < cur || r->start > hi)
			continue;
		if (r->start > cur) {
			if (n < max)
				out[n] = (struct siommu_ioas_range){ cur, r->start - 1 };
			n++;
		}
		if (r->last >= hi)
			done = true;
		else if (r->last + 1 > cur)
			cur = r->last + 1;
	}
	if (!done) {
		if (n < max)
			out[n] = (struct siommu_ioas_range){ cur, hi };
		n++;
	}
	return n;
}

int siommu_ioas_iova_ranges(struct siommu_ioas *ioas,
			    struct siommu_ioas_range *out, unsigned int *num)
{
	unsigned int n = 0, i, max;

	if (!ioas || !num || (!out && *num))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	max = *num;
	siommu_mutex_lock(&ioas->lock);
	if (!ioas->allowed)
		n = emit_holes(ioas, 0, UINT64_MAX, out, max, n);
	else
		for (i = 0; i < ioas->nr_allowed; i++)
			n = emit_holes(ioas, ioas->allowed[i].start,
				       ioas->allowed[i].last, out, max, n);
	siommu_mutex_unlock(&ioas->lock);
	*num = n;
	return n > max ? -EMSGSIZE : 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct siommu_ioas_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static bool range_aligned(uint64_t start, uint64_t last)
{
	return start % GRANULE == 0 &&
	       (last == UINT64_MAX || (last + 1) % GRANULE == 0);
}

int siommu_ioas_allow_iovas(struct siommu_ioas *ioas,
			    const struct siommu_ioas_range *ranges,
			    unsigned int n)
{
	struct siommu_ioas_range *set = NULL, *old;
	struct ioas_area *a;
	unsigned int i, j, old_n;
	int ret = 0;

	if (!ioas || (!ranges && n))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	if (n) {
		set = siommu_calloc(n, sizeof(*set));
		if (!set)
			return -ENOMEM;
		memcpy(set, ranges, n * sizeof(*set));
		qsort(set, n, sizeof(*set), range_cmp);
		for (i = 0; i < n; i++) {
			if (set[i].last < set[i].start ||
			    !range_aligned(set[i].start, set[i].last) ||
			    (i && set[i].start <= set[i - 1].last)) {
				siommu_free(set);
				return -EINVAL;
			}
		}
		/*
		 * Adjacent ranges allow what they cover together: merged, so that
		 * an area, a map or a hole may cross their boundary (allowed()
		 * and hole_in() look inside one range) and iova_ranges lists one.
		 */
		for (i = 1, j = 0; i < n; i++) {
			if (set[j].last != UINT64_MAX && set[j].last + 1 == set[i].start)
				set[j].last = set[i].last;
			else
				set[++j] = set[i];
		}
		n = j + 1;
	}
	siommu_mutex_lock(&ioas->lock);
	for (i = 0; i < n && !ret; i++) {
		const struct ioas_resv *r = resv_first(ioas, set[i].start, set[i].last);

		/* A domain's aperture bound is not the caller's reservation. */
		for (; r && r < ioas->resv + ioas->nr_resv; r++)
			if (!r->owner && overlaps(r->start, r->last,
						  set[i].start, set[i].last))
				ret = -EADDRINUSE;
	}
	old = ioas->allowed;
	old_n = ioas->nr_allowed;
	ioas->allowed = set;
	ioas->nr_allowed = n;
	RB_FOREACH(a, ioas_area_tree, &ioas->areas)
		if (!ret && !allowed(ioas, a->iova, a->last))
			ret = -EADDRINUSE;
	if (ret) {
		ioas->allowed = old;
		ioas->nr_allowed = old_n;
		siommu_mutex_unlock(&ioas->lock);
		siommu_free(set);
		return ret;
	}
	siommu_mutex_unlock(&ioas->lock);
	siommu_free(old);
	return 0;
}

int siommu_ioas_reserve(struct siommu_ioas *ioas, uint64_t start, uint64_t last)
{
	unsigned int i;
	int ret;

	if (!ioas || last < start || !range_aligned(start, last))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&ioas->lock);
	ret = ioas_area_first(ioas, start, last) ? -EEXIST : 0;
	for (i = 0; !ret && ioas->allowed && i < ioas->nr_allowed; i++)
		if (overlaps(ioas->allowed[i].start, ioas->allowed[i].last,
			     start, last))
			ret = -EADDRINUSE;
	if (!ret)
		ret = ioas_resv_add(ioas, start, last, NULL);
	siommu_mutex_unlock(&ioas->lock);
	return ret;
}

int siommu_ioas_unreserve(struct siommu_ioas *ioas, uint64_t start,
			  uint64_t last)
{
	unsigned int i;
	int ret = -ENOENT;

	if (!ioas || last < start || !range_aligned(start, last))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&ioas->lock);
	for (i = 0; i < ioas->nr_resv; i++) {
		if (!ioas->resv[i].owner && ioas->resv[i].start == start &&
		    ioas->resv[i].last == last) {
			resv_remove_at(ioas, i);
			ret = 0;
			break;
		}
	}
	siommu_mutex_unlock(&ioas->lock);
	return ret;
}

/* ------------------------------------------------------------------ queries */

int siommu_ioas_get_info(struct siommu_ioas *ioas, struct siommu_ioas_info *out)
{
	struct ioas_domain *d;
	struct ioas_area *a;

	if (!ioas || !out)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	memset(out, 0, sizeof(*out));
	siommu_mutex_lock(&ioas->lock);
	out->areas = ioas->nr_areas;
	out->mapped_bytes = ioas->mapped_bytes;
	out->domains = ioas->nr_domains;
	cds_list_for_each_entry(d, &ioas->domains, link)
		out->domains_filled += d->filled;
	/* Distinct pages objects: an area counts if no earlier area shares them. */
	RB_FOREACH(a, ioas_area_tree, &ioas->areas) {
		struct ioas_area *b;
		bool first = true;

		RB_FOREACH(b, ioas_area_tree, &ioas->areas) {
			if (b == a)
				break;
			if (b->pages == a->pages)
				first = false;
		}
		out->pages_objects += first;
	}
	out->accesses = ioas->nr_accesses;
	out->pinned_pages = ioas_pinned_pages_locked(ioas);
	siommu_mutex_unlock(&ioas->lock);
	return 0;
}

int siommu_ioas_area_find(struct siommu_ioas *ioas, uint64_t iova,
			  struct siommu_ioas_area_info *out)
{
	struct siommu_mem_region_info ri;
	struct ioas_area *a;

	if (!ioas || !out)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&ioas->lock);
	a = ioas_area_first(ioas, iova, iova);
	if (!a) {
		siommu_mutex_unlock(&ioas->lock);
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	out->iova = a->iova;
	out->length = ioas_area_len(a);
	out->flags = a->flags;
	out->type = a->pages->type;
	out->host = (char *)a->pages->host + a->pages_off;
	out->pa = ioas_area_pa(a);
	out->pages_users = (unsigned int)ioas_pages_users(a->pages);
	out->revoked = a->pages->region && !siommu_mem_region_info(a->pages->region, &ri) &&
		       ri.revoked;
	siommu_mutex_unlock(&ioas->lock);
	return 0;
}
