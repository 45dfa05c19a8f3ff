// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Mapping records (for revocation, seed 003) and DMA-API records.
 *
 * A page table answers "where does this IOVA go?" but not "which IOVAs go
 * into this physical range?".  Revocation of a memory region needs the
 * second question: every mapping of the region, in every domain, must be
 * torn down (revoke.c).  So when the IOMMU has a memory map, each paging
 * domain without a revocation owner keeps a record of what
 * siommu_domain_map() mapped: an IOVA-ordered red-black tree of
 * non-overlapping (iova, last, pa) records under dom->maps_lock.
 *
 * Records allocate only at map time.  Unmap never allocates (it cannot
 * fail for lack of memory): it removes the records it covers whole and
 * trims those it overlaps at one end; a record that strictly contains the
 * unmapped range is left as it is, with a hole.  A hole maps nothing, so
 * tearing the whole record down later (revoke) is still right: the table's
 * unmap skips holes.  A map into a hole (the only way a new mapping can
 * overlap an existing record's range) splits the record around the new
 * one, with a spare record the map allocated before anything changed; at
 * most one record can strictly contain the new range, so one spare is
 * enough.  Record boundaries are always boundaries the table accepted
 * (ends of maps and unmaps), so unmapping a whole record never has to split
 * a leaf.
 *
 * DMA records (struct core_dma_rec, same lock): one per
 * siommu_domain_dma_map() until its IOVA is released; see core_internal.h.
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

static inline int dma_cmp(struct core_dma_rec *a, struct core_dma_rec *b)
{
	return a->iova < b->iova ? -1 : a->iova > b->iova;
}

RB_GENERATE_INTERNAL(core_dma_tree, core_dma_rec, rb, dma_cmp,
		     __attribute__((unused)) static)

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

/*
 * Make room for [iova, last] in the records: remove what it covers, trim
 * what it overlaps at one end, and split (with *@spare) the record that
 * strictly contains it, or, without a spare (unmap), leave that one whole.
 */
static void maps_cut_locked(struct siommu_domain *dom, uint64_t iova,
			    uint64_t last, struct core_map_rec **spare)
{
	struct core_map_rec *r, *next;

	siommu_assert_held(&dom->maps_lock);
	for (r = first_overlap_locked(dom, iova); r && r->iova <= last; r = next) {
		next = RB_NEXT(core_map_tree, &dom->maps, r);
		if (r->iova >= iova && r->last <= last) {
			RB_REMOVE(core_map_tree, &dom->maps, r);
			siommu_free(r);
		} else if (r->iova < iova && r->last > last) {
			struct core_map_rec *t;

			if (!spare)
				break;	/* unmap: a hole in r, nothing allocated */
			/* Split: the tail goes into the spare record. */
			t = *spare;
			*spare = NULL;
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
}

void core_maps_insert_locked(struct siommu_domain *dom, struct core_map_rec *rec,
			     struct core_map_rec **spare)
{
	maps_cut_locked(dom, rec->iova, rec->last, spare);
	SIOMMU_WARN_ON(RB_INSERT(core_map_tree, &dom->maps, rec) != NULL);
}

void core_maps_remove_locked(struct siommu_domain *dom, uint64_t iova,
			     uint64_t last)
{
	maps_cut_locked(dom, iova, last, NULL);
}

struct core_map_rec *core_maps_first_pa_locked(struct siommu_domain *dom,
					       uint64_t pa, uint64_t pa_last)
{
	struct core_map_rec *r;

	siommu_assert_held(&dom->maps_lock);
	RB_FOREACH(r, core_map_tree, &dom->maps) {
		uint64_t r_pa_last = r->pa + (r->last - r->iova);

		if (r->pa <= pa_last && r_pa_last >= pa)
			return r;
	}
	return NULL;
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

struct core_dma_rec *core_dma_find_locked(struct siommu_domain *dom,
					  uint64_t iova)
{
	struct core_dma_rec key = { .iova = iova };

	siommu_assert_held(&dom->maps_lock);
	return RB_FIND(core_dma_tree, &dom->dmas, &key);
}

void core_dma_insert_locked(struct siommu_domain *dom, struct core_dma_rec *rec)
{
	siommu_assert_held(&dom->maps_lock);
	SIOMMU_WARN_ON(RB_INSERT(core_dma_tree, &dom->dmas, rec) != NULL);
}

void core_dma_remove_locked(struct siommu_domain *dom, struct core_dma_rec *rec)
{
	siommu_assert_held(&dom->maps_lock);
	RB_REMOVE(core_dma_tree, &dom->dmas, rec);
}

void core_dma_free_all(struct siommu_domain *dom)
{
	struct core_dma_rec *r, *next;

	for (r = RB_MIN(core_dma_tree, &dom->dmas); r; r = next) {
		next = RB_NEXT(core_dma_tree, &dom->dmas, r);
		RB_REMOVE(core_dma_tree, &dom->dmas, r);
		siommu_free(r);
	}
}
