/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu IOTLB: a bounded, tagged translation cache.
 *
 * An entry caches one page translation: the tag is (domain id, PASID, page
 * address, page size 4 KiB / 2 MiB / 1 GiB) and the payload is the output
 * address of the page and the caller's permission bits.  The cache is
 * set-associative with round-robin (FIFO) replacement inside each set.
 *
 * Like a hardware IOTLB it is not coherent by itself: whoever changes a
 * page table must invalidate what it changed (by range, PASID, domain or
 * everything).  The contract the core's strict unmap builds on:
 *
 *  1. When an invalidation returns, no lookup that starts afterwards hits
 *     an entry it covered.  (A lookup that started earlier may still
 *     return the old translation: waiting for those is the caller's job,
 *     typically an RCU grace period.)
 *  2. A translation read from a page table before an invalidation cannot be
 *     inserted after it.  The caller brackets its page-table walk:
 *
 *	struct siommu_iotlb_seq seq;
 *	struct siommu_iotlb_entry e;
 *
 *	if (siommu_iotlb_lookup(tlb, dom, pasid, iova, &e) == -ENOENT) {
 *		siommu_iotlb_seq_begin(tlb, dom, pasid, iova, &seq);
 *		walk the page table into e;	(reads after seq_begin)
 *		siommu_iotlb_insert(tlb, dom, pasid, &e, &seq);
 *	}
 *
 *     and insert refuses (-EAGAIN) when an invalidation that may cover the
 *     entry started after seq_begin.  The walk's answer is still correct
 *     for this one access; it is only not cached.  The unmapper must
 *     change the page table before it invalidates, as hardware requires.
 *
 * Lookups are lock-free and write no shared memory (statistics are
 * per-thread); inserts and invalidations take short per-set spinlocks and
 * never sleep.  No function here waits for a grace period, so all of them
 * may be called inside or outside an RCU read-side section.
 */
#ifndef SOFTIOMMU_IOTLB_H
#define SOFTIOMMU_IOTLB_H

#include <softiommu/base.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siommu_iotlb;

/* PASIDs are 20 bits (PCIe); domain ids are any 32-bit value but ANY. */
#define SIOMMU_IOTLB_PASID_MAX		0xfffffu
#define SIOMMU_IOTLB_PASID_ANY		0xffffffffu	/* invalidations only */
#define SIOMMU_IOTLB_DOMID_ANY		0xffffffffu	/* siommu_iotlb_inv_pasid() only */
/* Permission bits are the caller's; they must fit in this mask. */
#define SIOMMU_IOTLB_PROT_MASK		0xfffu
#define SIOMMU_IOTLB_CAPACITY_MAX	(1u << 24)
#define SIOMMU_IOTLB_WAYS_MAX		16u
#define SIOMMU_IOTLB_DEFAULT_CAPACITY	512u
#define SIOMMU_IOTLB_DEFAULT_WAYS	4u

struct siommu_iotlb_config {
	uint32_t capacity;	/* entries: a power of two in [ways, CAPACITY_MAX]; 0: default */
	uint32_t ways;		/* entries per set: 1, 2, 4, 8 or 16; 0: default */
};

/* One cached translation. */
struct siommu_iotlb_entry {
	uint64_t iova;		/* first byte of the page, aligned to its size */
	uint64_t addr;		/* output address of that byte, aligned likewise */
	unsigned int size_lg2;	/* 12, 21 or 30 */
	unsigned int prot;	/* the caller's bits, within SIOMMU_IOTLB_PROT_MASK */
};

/*
 * What siommu_iotlb_seq_begin() hands to siommu_iotlb_insert(): a snapshot
 * of the invalidation generations that cover one tag.  Opaque.
 */
struct siommu_iotlb_seq {
	uint64_t gen;
	uint64_t region;
	uint32_t domid;
	uint32_t pasid;
	uint16_t bucket[4];	/* the generation buckets summed (insert re-reads them) */
};

/*
 * A reference to the entry a lookup hit or an insert wrote
 * (siommu_iotlb_lookup_ref(), siommu_iotlb_insert_ref()): the entry's
 * sequence word and its value when it held the translation returned.  Every
 * change of an entry (an insert that reuses or updates it, an eviction, any
 * invalidation that covers it) moves its sequence, which never goes back,
 * so siommu_iotlb_ref_valid() is true exactly while the entry still holds
 * that translation: a caller may keep the copy it got (a per-thread hint)
 * and use it again, instead of a lookup, while the reference is valid.  It
 * is as fresh as a lookup made at the moment of the check (contract 1 above
 * holds for it).  Only valid while the IOTLB exists: the caller must know
 * the IOTLB is alive before it checks.
 */
struct siommu_iotlb_ref {
	const uint64_t *seq;	/* inside the IOTLB's entry array */
	uint64_t val;
};

/*
 * Does the entry still hold what the lookup or insert that filled @ref
 * returned?  Context: any thread; lock-free; the IOTLB must be alive.
 * Acquire: reads that depend on the answer come after it (pairs with the
 * release stores of the entry's writers).
 */
static inline bool siommu_iotlb_ref_valid(const struct siommu_iotlb_ref *ref)
{
	return __atomic_load_n(ref->seq, __ATOMIC_ACQUIRE) == ref->val;
}

/* What a translation cached for an address covers (siommu_iotlb_lookup_span()). */
struct siommu_iotlb_span {
	uint64_t first;		/* first byte */
	uint64_t last;		/* last byte (inclusive) */
};

/* A hit of siommu_iotlb_lookup_span(). */
struct siommu_iotlb_hit {
	struct siommu_iotlb_entry e;	/* the page holding the address (a run: its 4 KiB page) */
	struct siommu_iotlb_ref ref;	/* the entry that hit */
	struct siommu_iotlb_span span;	/* output contiguous from e, same permissions */
};

struct siommu_iotlb_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t inserts;		/* entries written (new or updated) */
	uint64_t insert_stale;		/* inserts refused with -EAGAIN */
	uint64_t evictions;		/* valid entries replaced by another tag */
	uint64_t invalidations;		/* invalidation calls */
	uint64_t inv_entries;		/* entries those calls removed */
	uint32_t capacity;
	uint32_t ways;
	uint64_t run_inserts;		/* of the inserts: run entries (siommu_iotlb_insert_run()) */
};

/**
 * siommu_iotlb_create() - Create an empty IOTLB.
 * @cfg: capacity and associativity; NULL for the defaults (512 entries,
 *       4 ways).
 * Context: any thread.
 * Returns: 0, -EINVAL (@ctx or @out NULL, a capacity or ways value out of
 * range or not a power of two, ways above capacity) or -ENOMEM.
 */
SIOMMU_API int siommu_iotlb_create(struct siommu_ctx *ctx,
				   const struct siommu_iotlb_config *cfg,
				   struct siommu_iotlb **out);

/**
 * siommu_iotlb_destroy() - Free an IOTLB.  NULL is accepted.
 * Context: any thread; no other thread may use @tlb any more.
 */
SIOMMU_API void siommu_iotlb_destroy(struct siommu_iotlb *tlb);

/**
 * siommu_iotlb_lookup() - Look up the translation of @iova.
 * @out: on a hit, the cached page that contains @iova; the output address
 *       of @iova is out->addr + (iova - out->iova).
 * Context: any thread; lock-free, wait-free, writes only this thread's
 * statistics.  The result is a copy: it stays readable, but may be stale as
 * soon as an invalidation covering it starts.
 * Returns: 0 (hit), -ENOENT (miss) or -EINVAL (@tlb or @out NULL, @pasid
 * above SIOMMU_IOTLB_PASID_MAX, @domid ANY).
 */
SIOMMU_API int siommu_iotlb_lookup(struct siommu_iotlb *tlb, uint32_t domid,
				   uint32_t pasid, uint64_t iova,
				   struct siommu_iotlb_entry *out);

/**
 * siommu_iotlb_lookup_ref() - siommu_iotlb_lookup(), and on a hit a
 * reference to the entry in @ref (see struct siommu_iotlb_ref).
 * Context: as siommu_iotlb_lookup().
 * Returns: as siommu_iotlb_lookup(); -EINVAL also for @ref NULL.
 */
SIOMMU_API int siommu_iotlb_lookup_ref(struct siommu_iotlb *tlb, uint32_t domid,
				       uint32_t pasid, uint64_t iova,
				       struct siommu_iotlb_entry *out,
				       struct siommu_iotlb_ref *ref);

/**
 * siommu_iotlb_lookup_span() - siommu_iotlb_lookup_ref() into @hit, and the
 * span of addresses the entry that hit translates: for a page entry its
 * page; for a run entry (siommu_iotlb_insert_run()) the run, every byte x
 * of which translates to hit->e.addr + (x - hit->e.iova) with the same
 * permissions, while hit->ref is valid.  hit->e is the 4 KiB page of a run
 * that holds @iova, so callers that ignore the span see a page entry.
 * Context: as siommu_iotlb_lookup().
 * Returns: as siommu_iotlb_lookup(); -EINVAL also for @hit NULL.
 */
SIOMMU_API int siommu_iotlb_lookup_span(struct siommu_iotlb *tlb, uint32_t domid,
					uint32_t pasid, uint64_t iova,
					struct siommu_iotlb_hit *hit);

/**
 * siommu_iotlb_lookup_run() - How many 4 KiB pages from @iova on, at most
 * @max, hit and continue a run: page i maps to @addr + i * 4096 with
 * (prot & @prot_mask) == @prot_want.  Stops at the first page that does
 * not (a miss, another address or permissions, a larger page: look that
 * one up alone).  Each page counted is an IOTLB hit.  For transfers over
 * many pages (DMA), with the same freshness as one lookup per page.
 * Context: as siommu_iotlb_lookup().
 * Returns: the number of pages, or -EINVAL (@iova or @addr not 4 KiB
 * aligned, bad tag, @prot_want outside @prot_mask).
 */
SIOMMU_API int siommu_iotlb_lookup_run(struct siommu_iotlb *tlb, uint32_t domid,
				       uint32_t pasid, uint64_t iova, uint64_t addr,
				       unsigned int max, unsigned int prot_mask,
				       unsigned int prot_want);

/**
 * siommu_iotlb_seq_begin() - Snapshot the invalidation generations that
 * cover (@domid, @pasid, the page of @iova) before reading a page table.
 * Context: any thread; lock-free.  The page-table reads that produce the
 * entry must come after this call (it has acquire semantics).
 * Returns: 0 or -EINVAL (bad tag, as for lookup; @seq NULL).
 */
SIOMMU_API int siommu_iotlb_seq_begin(struct siommu_iotlb *tlb, uint32_t domid,
				      uint32_t pasid, uint64_t iova,
				      struct siommu_iotlb_seq *seq);

/**
 * siommu_iotlb_insert() - Cache @e for (@domid, @pasid) unless an
 * invalidation that may cover it started after @seq was taken.
 * An entry with the same tag is updated in place; otherwise a free way of
 * the set is used, or the set's oldest entry is evicted.
 * @seq: from siommu_iotlb_seq_begin() for the same @domid, @pasid and an
 *       address inside @e's page.
 * Context: any thread; takes one set spinlock briefly; never sleeps.
 * Returns: 0; -EAGAIN (stale: nothing inserted; may also happen, rarely,
 * for an unrelated invalidation that shares a generation bucket); -EINVAL
 * (NULL argument, bad tag, size_lg2 not 12/21/30, iova or addr not aligned
 * to the size, prot outside the mask, @seq taken for another tag).
 */
SIOMMU_API int siommu_iotlb_insert(struct siommu_iotlb *tlb, uint32_t domid,
				   uint32_t pasid,
				   const struct siommu_iotlb_entry *e,
				   const struct siommu_iotlb_seq *seq);

/**
 * siommu_iotlb_insert_ref() - siommu_iotlb_insert(), and when it returns 0
 * a reference to the entry written in @ref (see struct siommu_iotlb_ref).
 * Context: as siommu_iotlb_insert().
 * Returns: as siommu_iotlb_insert(); -EINVAL also for @ref NULL.
 */
SIOMMU_API int siommu_iotlb_insert_ref(struct siommu_iotlb *tlb, uint32_t domid,
				       uint32_t pasid,
				       const struct siommu_iotlb_entry *e,
				       const struct siommu_iotlb_seq *seq,
				       struct siommu_iotlb_ref *ref);

/**
 * siommu_iotlb_insert_run() - Cache, in one entry, a run of @npages 4 KiB
 * pages that starts with @e (a 4 KiB page) and lies in @e's 2 MiB-aligned
 * block: page i translates to e->addr + i * 4096 with e->prot.  @npages 1
 * is siommu_iotlb_insert_ref().  A (domain, PASID, block) has at most one
 * run entry: a new run of the block replaces the old one in place.  Every
 * lookup of a page of the run hits it (siommu_iotlb_lookup() returns that
 * 4 KiB page; siommu_iotlb_lookup_span() also the run); every invalidation
 * that covers any byte of the run removes all of it.
 * @seq: from siommu_iotlb_seq_begin() for the same @domid, @pasid and an
 *       address of the block, taken before the page-table reads of every
 *       page of the run.
 * @ref: NULL, or where a reference to the entry goes when it returns 0.
 * Context: as siommu_iotlb_insert().
 * Returns: as siommu_iotlb_insert(); -EINVAL also for @npages 0, @npages
 * > 1 with @e not a 4 KiB page, or a run leaving @e's 2 MiB block.
 */
SIOMMU_API int siommu_iotlb_insert_run(struct siommu_iotlb *tlb, uint32_t domid,
				       uint32_t pasid,
				       const struct siommu_iotlb_entry *e,
				       unsigned int npages,
				       const struct siommu_iotlb_seq *seq,
				       struct siommu_iotlb_ref *ref);

/**
 * siommu_iotlb_inv_range() - Invalidate every entry of (@domid, @pasid)
 * whose page overlaps [@iova, @iova + @size - 1], whatever its page size.
 * @pasid: a PASID, or SIOMMU_IOTLB_PASID_ANY for every PASID of @domid.
 * Context: any thread; takes set spinlocks one at a time; never sleeps.
 * Returns: 0 or -EINVAL (@tlb NULL, @size 0, the range wraps past 2^64,
 * bad @domid or @pasid).
 */
SIOMMU_API int siommu_iotlb_inv_range(struct siommu_iotlb *tlb, uint32_t domid,
				      uint32_t pasid, uint64_t iova,
				      uint64_t size);

/**
 * siommu_iotlb_inv_pasid() - Invalidate every entry tagged @pasid in
 * @domid, or in every domain if @domid is SIOMMU_IOTLB_DOMID_ANY.
 * Context: as siommu_iotlb_inv_range().
 * Returns: 0 or -EINVAL.
 */
SIOMMU_API int siommu_iotlb_inv_pasid(struct siommu_iotlb *tlb, uint32_t domid,
				      uint32_t pasid);

/**
 * siommu_iotlb_inv_domain() - Invalidate every entry of @domid.
 * Context: as siommu_iotlb_inv_range().  Returns: 0 or -EINVAL.
 */
SIOMMU_API int siommu_iotlb_inv_domain(struct siommu_iotlb *tlb,
				       uint32_t domid);

/**
 * siommu_iotlb_inv_all() - Invalidate every entry.
 * Context: as siommu_iotlb_inv_range().  Returns: 0 or -EINVAL (@tlb NULL).
 */
SIOMMU_API int siommu_iotlb_inv_all(struct siommu_iotlb *tlb);

/**
 * siommu_iotlb_get_stats() - Sum the counters over all threads.
 * Context: any thread; a momentary snapshot while others run.
 * Returns: 0 or -EINVAL.
 */
SIOMMU_API int siommu_iotlb_get_stats(struct siommu_iotlb *tlb,
				      struct siommu_iotlb_stats *out);

/*
 * Called for each valid entry, in set order then way order (deterministic
 * for a given sequence of operations).  Return non-zero to stop.
 */
typedef int siommu_iotlb_entry_fn(void *opaque, uint32_t domid, uint32_t pasid,
				  const struct siommu_iotlb_entry *e);

/**
 * siommu_iotlb_for_each() - Visit the valid entries (debugging, dumps).
 * Each set is copied under its lock and visited with no lock held, so @fn
 * may call any function of this header.
 * Context: any thread.
 * Returns: 0, what @fn returned to stop, or -EINVAL.
 */
SIOMMU_API int siommu_iotlb_for_each(struct siommu_iotlb *tlb,
				     siommu_iotlb_entry_fn *fn, void *opaque);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_IOTLB_H */
