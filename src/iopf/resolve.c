// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Resolve by mapping: a group handler that maps each faulting page of a
 * group into the group's domain from the area of a backing IOAS that holds
 * its address (a lazily filled domain: the demand paging of an I/O address
 * space).
 *
 * The resolver is an access of the backing IOAS (iommufd's access, as a
 * mediated device is one): each page it maps into the domain stays pinned
 * through the access while it is mapped, and is recorded.  An unmap or a
 * revoke of the backing range calls the access's unmap callback before it
 * can finish (the IOAS waits for the range's pins to go); the callback
 * unmaps the recorded pages of the range from the domain (which
 * invalidates the IOTLB; a LAZY domain's queue is drained), then unpins
 * them.  So when siommu_ioas_unmap() returns (or a revoke of the memory),
 * the domain maps no page of the range, and no DMA uses one.
 *
 * rs->lock (IOPF_RESOLVE, rank 140) is held by the handler across its
 * look-up, pin and map of a page, and by the callback across its unmap and
 * unpin: a page is either mapped and recorded before the callback looks,
 * or its pin is refused (-EBUSY: the unmap blocks new pins of its range
 * first; the handler answers Success and the device's retry finds the page
 * unbacked, or backed again if the unmap failed).  The lock ranks below
 * the IOAS's (the handler calls siommu_ioas_area_find() under it); the
 * callback runs with no IOAS lock held.  It is held across strict unmaps'
 * grace periods, so the handler is never called inside a read-side
 * section: it is not ATOMIC, and iopf refuses it in INLINE mode.
 */
#include <bsd/sys/tree.h>
#include <errno.h>

#include "iopf_internal.h"
#include "base/alloc.h"
#include "base/debug.h"

#define RESOLVE_PAGE	4096ull

/* A page the resolver mapped into the domain, pinned through its access. */
struct resolve_page {
	RB_ENTRY(resolve_page) node;	/* [rs->lock] rs->pages */
	uint64_t iova;			/* [rs->lock] page address */
};

static int resolve_page_cmp(const struct resolve_page *a, const struct resolve_page *b)
{
	return a->iova < b->iova ? -1 : a->iova > b->iova;
}

RB_HEAD(resolve_tree, resolve_page);
RB_GENERATE_INTERNAL(resolve_tree, resolve_page, node, resolve_page_cmp,
		     __attribute__((unused)) static)

struct iopf_resolver {
	struct siommu_mutex lock;	/* IOPF_RESOLVE: pages */
	struct siommu_ioas *backing;	/* immutable; outlives the handler */
	struct siommu_ioas_access *acc;	/* immutable: the pins of mapped pages */
	struct siommu_domain *dom;	/* immutable */
	bool lazy;			/* immutable: dom's unmaps are LAZY */
	struct resolve_tree pages;	/* [lock] mapped and pinned pages */
};

#if SIOMMU_TESTING_BUILD
/* Broken variant of stress_iopf_resolve_vs_unmap_3s: map with no pin and no record (the old code). */
static bool test_unpinned;

void iopf_test_set_resolver_unpinned(bool on)
{
	__atomic_store_n(&test_unpinned, on, __ATOMIC_RELAXED);
}
#endif

static bool same_area(const struct siommu_ioas_area_info *a,
		      const struct siommu_ioas_area_info *b)
{
	return a->iova == b->iova && a->length == b->length && a->flags == b->flags &&
	       a->pa == b->pa && a->revoked == b->revoked;
}

/* Map one request's page; a response code or a negative errno.  Context: rs->lock held. */
static int resolve_one_locked(struct iopf_resolver *rs, const struct siommu_page_request *r)
{
	struct resolve_page key = { .iova = r->addr & ~(RESOLVE_PAGE - 1) }, *p;
	struct siommu_ioas_area_info a, b;
	uint64_t page = key.iova;
	unsigned int prot = 0;
	void *host;
	int ret;

	ret = siommu_ioas_area_find(rs->backing, page, &a);
	if (ret == -ENOENT)
		return SIOMMU_PAGE_RESP_INVALID;	/* not backed */
	if (ret)
		return ret;
	if (((r->access & SIOMMU_ACC_READ) && !(a.flags & SIOMMU_IOAS_MAP_READ)) ||
	    ((r->access & SIOMMU_ACC_WRITE) && !(a.flags & SIOMMU_IOAS_MAP_WRITE)) ||
	    a.revoked)
		return SIOMMU_PAGE_RESP_INVALID;	/* a map cannot give it */
	if (a.flags & SIOMMU_IOAS_MAP_READ)
		prot |= SIOMMU_PT_READ;
	if (a.flags & SIOMMU_IOAS_MAP_WRITE)
		prot |= SIOMMU_PT_WRITE;
#if SIOMMU_TESTING_BUILD
	if (__atomic_load_n(&test_unpinned, __ATOMIC_RELAXED)) {
		ret = siommu_domain_map(rs->dom, page, a.pa + (page - a.iova), RESOLVE_PAGE, prot);
		return ret == 0 || ret == -EEXIST ? SIOMMU_PAGE_RESP_SUCCESS : ret;
	}
#endif
	p = RB_FIND(resolve_tree, &rs->pages, &key);
	if (p) {
		/* Pinned, so still this area: mapped again after the owner unmapped it. */
		ret = siommu_domain_map(rs->dom, page, a.pa + (page - a.iova), RESOLVE_PAGE, prot);
		return ret == 0 || ret == -EEXIST ? SIOMMU_PAGE_RESP_SUCCESS : ret;
	}
	ret = siommu_ioas_access_pin(rs->acc, page, RESOLVE_PAGE,
				     (a.flags & SIOMMU_IOAS_MAP_WRITE) ? SIOMMU_IOAS_ACCESS_WRITE : 0,
				     &host);
	if (ret == -ENOENT || ret == -ENODEV)
		return SIOMMU_PAGE_RESP_INVALID;	/* unmapped or revoked since */
	if (ret == -EBUSY || ret == -EPERM)
		return SIOMMU_PAGE_RESP_SUCCESS;	/* being unmapped, or replaced: retry */
	if (ret)
		return ret;
	/* The pin holds the area it found: is it still the one looked at? */
	ret = siommu_ioas_area_find(rs->backing, page, &b);
	if (ret || !same_area(&a, &b)) {
		SIOMMU_WARN_ON(siommu_ioas_access_unpin(rs->acc, page, RESOLVE_PAGE));
		return ret && ret != -ENOENT ? ret : SIOMMU_PAGE_RESP_SUCCESS;	/* retry */
	}
	p = siommu_malloc(sizeof(*p));
	if (!p) {
		SIOMMU_WARN_ON(siommu_ioas_access_unpin(rs->acc, page, RESOLVE_PAGE));
		return -ENOMEM;
	}
	ret = siommu_domain_map(rs->dom, page, a.pa + (page - a.iova), RESOLVE_PAGE, prot);
	if (ret) {
		/* -EEXIST: the domain's owner mapped the page itself; not ours */
		siommu_free(p);
		SIOMMU_WARN_ON(siommu_ioas_access_unpin(rs->acc, page, RESOLVE_PAGE));
		if (ret == -ENODEV)
			return SIOMMU_PAGE_RESP_INVALID;	/* its memory was revoked meanwhile */
		return ret == -EEXIST ? SIOMMU_PAGE_RESP_SUCCESS : ret;
	}
	p->iova = page;
	RB_INSERT(resolve_tree, &rs->pages, p);
	return SIOMMU_PAGE_RESP_SUCCESS;
}

static int resolve_handle(void *opaque, struct siommu_iopf_group *g)
{
	struct iopf_resolver *rs = opaque;
	int ret = SIOMMU_PAGE_RESP_SUCCESS;
	unsigned int i;

	siommu_mutex_lock(&rs->lock);
	for (i = 0; i < siommu_iopf_group_count(g); i++) {
		ret = resolve_one_locked(rs, siommu_iopf_group_request(g, i));
		if (ret != SIOMMU_PAGE_RESP_SUCCESS)
			break;	/* Invalid, or an error: Response Failure */
	}
	siommu_mutex_unlock(&rs->lock);
	return ret;
}

/*
 * The access's unmap callback: unmap from the domain every recorded page
 * in [iova, iova + length - 1] (runs of consecutive pages in one unmap),
 * make the IOTLB forget them, then drop their pins.  Called by an unmap or
 * revoke of the backing IOAS (and the access's destroy) with no IOAS lock
 * held, outside read-side sections.
 */
static void resolve_unmap(void *opaque, uint64_t iova, uint64_t length)
{
	struct iopf_resolver *rs = opaque;
	struct resolve_page key = { .iova = iova & ~(RESOLVE_PAGE - 1) }, *p, *first, *n;
	uint64_t last = iova + length - 1, start = 0, end = 0;
	bool any = false;

	siommu_mutex_lock(&rs->lock);
	first = RB_NFIND(resolve_tree, &rs->pages, &key);
	for (p = first; p && p->iova <= last; p = RB_NEXT(resolve_tree, &rs->pages, p)) {
		if (any && p->iova == end) {
			end += RESOLVE_PAGE;
			continue;
		}
		if (any)
			SIOMMU_WARN_ON(siommu_domain_unmap(rs->dom, start, end - start) < 0);
		start = p->iova;
		end = start + RESOLVE_PAGE;
		any = true;
	}
	if (any)
		SIOMMU_WARN_ON(siommu_domain_unmap(rs->dom, start, end - start) < 0);
	if (any && rs->lazy) {
		/* as a strict unmap: the IOTLB forgets them, DMA that used them is over */
		SIOMMU_WARN_ON(siommu_domain_flush(rs->dom) < 0);
		SIOMMU_WARN_ON(siommu_synchronize());
	}
	for (p = first; p && p->iova <= last; p = n) {
		n = RB_NEXT(resolve_tree, &rs->pages, p);
		RB_REMOVE(resolve_tree, &rs->pages, p);
		SIOMMU_WARN_ON(siommu_ioas_access_unpin(rs->acc, p->iova, RESOLVE_PAGE));
		siommu_free(p);
	}
	siommu_mutex_unlock(&rs->lock);
}

/* Clearing the handler: what it mapped is unmapped (the access's destroy calls resolve_unmap()). */
static void resolve_release(void *opaque)
{
	struct iopf_resolver *rs = opaque;

	SIOMMU_WARN_ON(siommu_ioas_access_destroy(rs->acc));
	SIOMMU_CHECK(RB_EMPTY(&rs->pages));
	siommu_mutex_destroy(&rs->lock);
	siommu_free(rs);
}

static const struct siommu_iopf_handler resolve_handler = {
	.name = "resolve",
	.handle = resolve_handle,
};

SIOMMU_API int siommu_iopf_domain_set_resolver(struct siommu_iopf *iopf,
					       struct siommu_domain *dom,
					       struct siommu_ioas *backing)
{
	struct siommu_domain_info info;
	struct iopf_resolver *rs;
	int ret;

	if (!iopf || !dom || !backing || iopf->mode == SIOMMU_IOPF_MODE_INLINE)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	ret = siommu_domain_get_info(dom, &info);
	if (ret)
		return ret;
	rs = siommu_zalloc(sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	siommu_mutex_init(&rs->lock, "iopf.resolve", SIOMMU_RANK_IOPF_RESOLVE);
	RB_INIT(&rs->pages);
	rs->backing = backing;
	rs->dom = dom;
	rs->lazy = info.unmap_mode == SIOMMU_UNMAP_LAZY;
	ret = siommu_ioas_access_create(backing, "iopf-resolver", resolve_unmap, rs, 0, &rs->acc);
	if (!ret) {
		ret = iopf_set_handler(iopf, dom, &resolve_handler, rs, resolve_release);
		if (ret)
			SIOMMU_WARN_ON(siommu_ioas_access_destroy(rs->acc));
	}
	if (ret) {
		siommu_mutex_destroy(&rs->lock);
		siommu_free(rs);
	}
	return ret;
}
