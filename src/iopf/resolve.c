// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Resolve by mapping: a group handler that maps each faulting page of a
 * group into the group's domain from the area of a backing IOAS that holds
 * its address (a lazily filled domain: the demand paging of an I/O address
 * space).  It takes the IOAS's lock (held across strict unmaps' grace
 * periods), so it is never called inside a read-side section: the handler
 * is not ATOMIC, and iopf refuses it in INLINE mode.
 */
#include <errno.h>

#include "iopf_internal.h"
#include "base/alloc.h"

#define RESOLVE_PAGE	4096ull

struct iopf_resolver {
	struct siommu_ioas *backing;	/* immutable; outlives the handler */
};

/* Map one request's page; a response code or a negative errno. */
static int resolve_one(struct iopf_resolver *rs, struct siommu_domain *dom,
		       const struct siommu_page_request *r)
{
	struct siommu_ioas_area_info a;
	uint64_t page = r->addr & ~(RESOLVE_PAGE - 1);
	unsigned int prot = 0;
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
	ret = siommu_domain_map(dom, page, a.pa + (page - a.iova), RESOLVE_PAGE, prot);
	/* -EEXIST: another group of the page mapped it from the same area */
	return ret == 0 || ret == -EEXIST ? SIOMMU_PAGE_RESP_SUCCESS : ret;
}

static int resolve_handle(void *opaque, struct siommu_iopf_group *g)
{
	struct siommu_domain *dom = siommu_iopf_group_domain(g);
	unsigned int i;
	int ret;

	for (i = 0; i < siommu_iopf_group_count(g); i++) {
		ret = resolve_one(opaque, dom, siommu_iopf_group_request(g, i));
		if (ret != SIOMMU_PAGE_RESP_SUCCESS)
			return ret;	/* Invalid, or an error: Response Failure */
	}
	return SIOMMU_PAGE_RESP_SUCCESS;
}

static void resolve_release(void *opaque)
{
	siommu_free(opaque);
}

static const struct siommu_iopf_handler resolve_handler = {
	.name = "resolve",
	.handle = resolve_handle,
};

SIOMMU_API int siommu_iopf_domain_set_resolver(struct siommu_iopf *iopf,
					       struct siommu_domain *dom,
					       struct siommu_ioas *backing)
{
	struct iopf_resolver *rs;
	int ret;

	if (!iopf || !dom || !backing || iopf->mode == SIOMMU_IOPF_MODE_INLINE)
		return -EINVAL;
	rs = siommu_zalloc(sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->backing = backing;
	ret = iopf_set_handler(iopf, dom, &resolve_handler, rs, resolve_release);
	if (ret)
		siommu_free(rs);
	return ret;
}
