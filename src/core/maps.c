// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Mapping records and the revoke notifier (seed 003).
 *
 * A page table answers "where does this IOVA go?" but not "which IOVAs go
 * into this physical range?".  Revocation of a memory region needs the
 * second question: every mapping of the region, in every domain, must be
 * torn down.  So when the IOMMU has a memory map, each paging domain keeps
 * a record of what siommu_domain_map() mapped: an IOVA-ordered red-black
 * tree of non-overlapping (iova, last, pa) records under dom->maps_lock.
 * Map adds a record after the table accepted the mapping; unmap trims,
 * splits or removes the records it covers (a split uses a record allocated
 * before anything changes, so unmap never fails half way).  Record
 * boundaries are always boundaries the table accepted, so unmapping a
 * whole record never has to split a leaf.  Without a memory map nothing is
 * recorded and map/unmap stay lock-free.
 *
 * The revoke notifier (called by siommu_mem_region_revoke() after new
 * accesses to the region started failing and before it waits for those in
 * flight) takes iommu->lock so that no domain goes away, and for each
 * paging domain collects the records that intersect the region, then
 * unmaps each of them whole: entries cleared, IOTLB invalidated (every
 * unmap mode: revocation does not wait for a flush queue), table pages
 * freed after a grace period.  It does not wait for a grace period itself:
 * the revoke does that right after the notifiers, and an access that still
 * holds an old translation fails on the region's revoked flag anyway.  A
 * record that straddles the region's boundary is torn down whole.
 */
#include <errno.h>
#include <string.h>

#include "core/core_internal.h"

static inline int rec_cmp(struct core_map_rec *a, struct core_map_rec *b)
{
	return a->iova < b->iova ? -1 : a->iova > b->iova;
}

RB_GENERATE_INTERNAL(core_map_tree, core_map_rec, rb, rec_cmp,
		     __attribute__((unused)) static)

void core_maps_add(struct siommu_domain *dom, struct core_map_rec *rec)
{
	siommu_mutex_lock(&dom->maps_lock);
	SIOMMU_WARN_ON(RB_INSERT(core_map_tree, &dom->maps, rec) != NULL);
	siommu_mutex_unlock(&dom->maps_lock);
}

/* The first record that may overlap [iova, ...]: the one before iova, if any. */
static struct core_map_rec *first_overlap_locked(struct siommu_domain *dom,
						 uint64_t iova)
{
	struct core_map_rec key = { .iova = iova }, *r, *prev;

	r = RB_NFIND(core_map_tree, &dom->maps, &key);
	prev = r ? RB_PREV(core_map_tree, &dom->maps, r) :
		   RB_MAX(core_map_tree, &dom->maps);
	if (prev && prev->last >= iova)
		return prev;
	return r;
}

void core_maps_remove(struct siommu_domain *dom, uint64_t iova, uint64_t last,
		      struct core_map_rec **spare)
{
	struct core_map_rec *r, *next;

	siommu_mutex_lock(&dom->maps_lock);
	for (r = first_overlap_locked(dom, iova); r && r->iova <= last; r = next) {
		next = RB_NEXT(core_map_tree, &dom->maps, r);
		if (r->iova >= iova && r->last <= last) {
			RB_REMOVE(core_map_tree, &dom->maps, r);
			siommu_free(r);
		} else if (r->iova < iova && r->last > last) {
			/* Split: the tail goes into the spare record. */
			struct core_map_rec *t = *spare;

			*spare = NULL;
			if (SIOMMU_WARN_ON(!t)) {
				r->last = iova - 1;
				break;
			}
			t->iova = last + 1;
			t->last = r->last;
			t->pa = r->pa + (last + 1 - r->iova);
			r->last = iova - 1;
			RB_INSERT(core_map_tree, &dom->maps, t);
			break;
		} else if (r->iova < iova) {
			r->last = iova - 1;
		} else {
			/* Head trimmed: the key grows but the order holds. */
			r->pa += last + 1 - r->iova;
			r->iova = last + 1;
		}
	}
	siommu_mutex_unlock(&dom->maps_lock);
}

void core_maps_free(struct siommu_domain *dom)
{
	struct core_map_rec *r, *next;

	for (r = RB_MIN(core_map_tree, &dom->maps); r; r = next) {
		next = RB_NEXT(core_map_tree, &dom->maps, r);
		RB_REMOVE(core_map_tree, &dom->maps, r);
		siommu_free(r);
	}
}

struct revoke_range {
	uint64_t iova;
	uint64_t size;
};

/*
 * Collect the records of @dom that intersect [pa, pa_last] into a new
 * array.  Returns the count, or -ENOMEM.
 */
static int collect_locked(struct siommu_domain *dom, uint64_t pa,
			  uint64_t pa_last, struct revoke_range **out)
{
	struct revoke_range *v = NULL, *nv;
	struct core_map_rec *r;
	int n = 0, cap = 0;

	siommu_mutex_lock(&dom->maps_lock);
	RB_FOREACH(r, core_map_tree, &dom->maps) {
		uint64_t r_pa_last = r->pa + (r->last - r->iova);

		if (r->pa > pa_last || r_pa_last < pa)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			nv = siommu_malloc((size_t)cap * sizeof(*v));
			if (!nv) {
				siommu_free(v);
				siommu_mutex_unlock(&dom->maps_lock);
				return -ENOMEM;
			}
			if (v)
				memcpy(nv, v, (size_t)n * sizeof(*v));
			siommu_free(v);
			v = nv;
		}
		v[n].iova = r->iova;
		v[n].size = r->last - r->iova + 1;
		n++;
	}
	siommu_mutex_unlock(&dom->maps_lock);
	*out = v;
	return n;
}

void core_revoke_notify(void *opaque, struct siommu_mem_region *region)
{
	struct siommu_iommu *iommu = opaque;
	struct siommu_mem_region_info info;
	struct revoke_range *v;
	struct siommu_domain *dom;
	uint64_t pa_last;
	int i, n;

	if (siommu_mem_region_info(region, &info) || !info.size)
		return;
	pa_last = info.pa + info.size - 1;
	siommu_mutex_lock(&iommu->lock);
	cds_list_for_each_entry(dom, &iommu->domains, node) {
		if (dom->type != SIOMMU_DOMAIN_PAGING)
			continue;
		n = collect_locked(dom, info.pa, pa_last, &v);
		if (n < 0) {
			/*
			 * Cannot list them: drop every translation of the
			 * domain from the IOTLB at least.  Accesses through
			 * the remaining entries fail on the revoked region.
			 */
			siommu_iotlb_inv_domain(iommu->iotlb, dom->domid);
			siommu_warn(iommu->ctx, "revoke: out of memory listing domain %u mappings",
				    dom->domid);
			continue;
		}
		for (i = 0; i < n; i++)
			core_unmap_nowait(dom, v[i].iova, v[i].size);
		siommu_free(v);
	}
	siommu_mutex_unlock(&iommu->lock);
}
