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
 * paging domain finds the records that intersect the region, in IOVA order,
 * and unmaps each of them whole, allocating nothing: entries cleared, IOTLB invalidated (every
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

/*
 * The first record of @dom at or after IOVA @from that maps into
 * [pa, pa_last]: its range in *@iova, *@size.  Returns false if none.
 */
static bool next_intersecting(struct siommu_domain *dom, uint64_t from,
			      uint64_t pa, uint64_t pa_last, uint64_t *iova,
			      uint64_t *size)
{
	struct core_map_rec key = { .iova = from }, *r;
	bool found = false;

	siommu_mutex_lock(&dom->maps_lock);
	for (r = RB_NFIND(core_map_tree, &dom->maps, &key); r;
	     r = RB_NEXT(core_map_tree, &dom->maps, r)) {
		uint64_t r_pa_last = r->pa + (r->last - r->iova);

		if (r->pa <= pa_last && r_pa_last >= pa) {
			*iova = r->iova;
			*size = r->last - r->iova + 1;
			found = true;
			break;
		}
	}
	siommu_mutex_unlock(&dom->maps_lock);
	return found;
}

void core_revoke_notify(void *opaque, struct siommu_mem_region *region)
{
	struct siommu_iommu *iommu = opaque;
	struct siommu_mem_region_info info;
	struct siommu_domain *dom;
	uint64_t pa_last, iova, size;

	if (siommu_mem_region_info(region, &info) || !info.size)
		return;
	pa_last = info.pa + info.size - 1;
	siommu_mutex_lock(&iommu->lock);
	cds_list_for_each_entry(dom, &iommu->domains, node) {
		if (dom->type != SIOMMU_DOMAIN_PAGING)
			continue;
		/*
		 * One record at a time, in IOVA order, each unmapped whole (no
		 * split: no allocation, so this cannot fail half way).
		 */
		iova = 0;
		while (next_intersecting(dom, iova, info.pa, pa_last, &iova, &size)) {
			if (core_unmap_nowait(dom, iova, size) < 0) {
				/* Cannot happen for a whole record; drop it anyway. */
				SIOMMU_WARN_ON(true);
				core_maps_remove(dom, iova, iova + size - 1, NULL);
			}
		}
		/*
		 * Lazily unmapped ranges of the region may still sit in the
		 * IOTLB: drain now, so that no stale entry can reach whatever
		 * is added at these addresses after the region is gone.
		 */
		if (dom->unmap_mode == SIOMMU_UNMAP_LAZY)
			core_fq_drain(dom);
	}
	siommu_mutex_unlock(&iommu->lock);
}
