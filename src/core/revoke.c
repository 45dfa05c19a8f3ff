// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The revoke notifier (seed 003): after siommu_mem_region_revoke()
 * returns, no mapping of the region exists in any domain, and new ones are
 * refused (-ENODEV).
 *
 * Called by the memory map after the region's revoked flag is set (new
 * accesses and new maps fail) and before it waits for a grace period (the
 * accesses in flight finish).  For each domain of the IOMMU:
 *
 *  - The domain is pinned under iommu->lock and the lock dropped: nothing
 *    below runs under a lock that a reader may take while it could wait,
 *    and destroy waits for the pin (core_domain_next_pinned_locked()).
 *  - A domain whose mappings core records (maps.c): under dom->maps_lock,
 *    every record whose physical range intersects the region is unmapped
 *    whole (a record straddling the region's boundary goes entirely; holes
 *    are skipped by the table), its IOTLB range invalidated and its table
 *    pages queued for freeing after a grace period; nothing is allocated
 *    and nothing waits (gather syncs without SIOMMU_PT_SYNC_WAIT never
 *    wait), so this cannot fail half way.  Holding maps_lock here is what
 *    makes a racing map safe: see map_tracked() in domain.c.
 *  - A domain with a revocation owner (siommu_domain_set_revoke_owner(): a
 *    layer such as ioas that keeps its own records of what it mapped and
 *    must tell its own users): maps_lock is taken and dropped (after this,
 *    every map of the domain sees the region revoked), then the owner's
 *    callback runs with no core lock held and unmaps through
 *    siommu_domain_unmap() every mapping it made of the region.
 *  - A lazy domain's flush queue is drained afterwards: ranges unmapped
 *    lazily before may still sit in the IOTLB.
 *
 * It does not wait for a grace period itself: the revoke does that right
 * after the notifiers, and an access through a translation obtained before
 * fails on the region's revoked flag anyway.
 */
#include <errno.h>

#include "core/core_internal.h"

/* Tear down what core recorded of [pa, pa_last] in @dom.  Context: maps_lock. */
static void revoke_records_locked(struct siommu_domain *dom, uint64_t pa,
				  uint64_t pa_last)
{
	struct siommu_pt_gather g;
	struct core_map_rec *r;
	uint64_t iova, last;
	int64_t n;

	while ((r = core_maps_first_pa_locked(dom, pa, pa_last))) {
		iova = r->iova;
		last = r->last;
		siommu_pt_gather_init(&g);
		n = siommu_pt_unmap(dom->pt, iova, last - iova + 1, &g);
		/* Record boundaries are leaf boundaries: cannot fail. */
		SIOMMU_WARN_ON(n < 0);
		core_maps_remove_locked(dom, iova, last);
		/* Invalidate now; the pages go after a grace period (no wait). */
		SIOMMU_WARN_ON(siommu_pt_gather_sync(&g, core_inval, dom, 0) != 0);
		siommu_stats_inc(dom->iommu->stats, CORE_STAT_UNMAPS_STRICT);
	}
}

static void revoke_domain(struct siommu_domain *dom, uint64_t pa, uint64_t pa_last)
{
	siommu_domain_revoke_fn *fn;
	void *opaque;

	if (dom->type != SIOMMU_DOMAIN_PAGING)
		return;
	siommu_mutex_lock(&dom->maps_lock);
	fn = dom->owner_fn;
	opaque = dom->owner_opaque;
	if (!fn)
		revoke_records_locked(dom, pa, pa_last);
	siommu_mutex_unlock(&dom->maps_lock);
	if (fn)
		fn(opaque, dom, pa, pa_last - pa + 1);
	/*
	 * Lazily unmapped ranges of the region may still sit in the IOTLB:
	 * drain now, so that no stale entry can reach whatever is added at
	 * these addresses after the region is gone.
	 */
	if (dom->unmap_mode == SIOMMU_UNMAP_LAZY)
		core_fq_drain(dom);
}

#if SIOMMU_TESTING_BUILD
void core_test_set_skip_revoke(struct siommu_iommu *iommu, bool skip)
{
	__atomic_store_n(&iommu->test_skip_revoke, skip, __ATOMIC_RELAXED);
}
#endif

void core_revoke_notify(void *opaque, struct siommu_mem_region *region)
{
	struct siommu_iommu *iommu = opaque;
	struct siommu_mem_region_info info;
	struct siommu_domain *dom;

	if (siommu_mem_region_info(region, &info) || !info.size)
		return;
#if SIOMMU_TESTING_BUILD
	if (__atomic_load_n(&iommu->test_skip_revoke, __ATOMIC_RELAXED))
		return;		/* deliberately broken (tests only) */
#endif
	siommu_mutex_lock(&iommu->lock);
	for (dom = core_domain_next_pinned_locked(iommu, NULL); dom;
	     dom = core_domain_next_pinned_locked(iommu, dom)) {
		siommu_mutex_unlock(&iommu->lock);
		revoke_domain(dom, info.pa, info.pa + info.size - 1);
		siommu_mutex_lock(&iommu->lock);
	}
	siommu_mutex_unlock(&iommu->lock);
}
