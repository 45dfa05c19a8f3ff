// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Translation and DMA.
 *
 * A request (device, PASID, IOVA, access) is translated the way the
 * hardware does it: the attachment gives the domain; a BLOCKED domain
 * faults, an IDENTITY one passes the address through; a PAGING one looks
 * the IOTLB up by (domain id, PASID, page) and, on a miss, walks the page
 * table and caches the result.
 *
 * The walk is bracketed by the IOTLB's seq_begin/insert protocol
 * (softiommu/iotlb.h): seq_begin before the walk, insert after it, and the
 * insert is refused if an invalidation that may cover the page started in
 * between.  Unmap clears the table before it invalidates, so a walk either
 * read the table after the clear (it found nothing) or its insert is
 * refused, or the invalidation finds and removes the entry.  No stale
 * translation survives an invalidation in the IOTLB.
 *
 * IOTLB entries carry the leaf's permissions plus CORE_PROT_DIRTY when the
 * walk that filled them was a write (and so set the leaf's dirty bit, for
 * formats with hardware dirty tracking): a write that hits an entry filled
 * by a read walks again, as hardware does to set D.  Execute and privileged
 * requests always walk: the format decides those permissions.
 *
 * DMA: a transfer is cut into runs: pages whose translations continue each
 * other in the output address space (up to DMA_RUN_MAX bytes, host memory
 * only: see dma_one()).  A run's pages are translated and the run is
 * copied, with one memcpy(), inside ONE read-side section, so that a strict
 * unmap's grace period waits for every copy that could use a translation
 * it removed ("translations outlive nothing").  A recoverable fault (PRI
 * device, a domain with a fault handler: fault.c) is handed to the handler
 * inside that same section, with the domain the translation used.
 *
 * The per-thread translation hint.  Each thread keeps its last translation
 * through a paging domain (as libvfio-user keeps the region of the last
 * lookup): the device's serial and the PASID (the key), the domain it came
 * from, the page, its output address and permissions, and a reference to
 * the IOTLB entry it is a copy of (softiommu/iotlb.h, struct
 * siommu_iotlb_ref).  A translation of the same device, PASID and page uses
 * the hint instead of the IOTLB when, checked inside the read-side section:
 *  (a) the attachment still gives the same domain, and
 *  (b) the IOTLB entry still holds that translation (its sequence has not
 *      moved).
 * Why that is never stale.  The hint is only ever a copy of an IOTLB entry
 * at one sequence value, and every change of an entry moves its sequence
 * (an insert that updates the tag or reuses the way, an eviction, any
 * invalidation covering it: range, PASID, domain, all); so with (b) a hint
 * answers exactly what an IOTLB lookup made at the moment of the check
 * answers, and IOTLB contract 1 carries over: after an invalidation
 * returns, no hint check that starts afterwards succeeds on an entry it
 * covered.  Strict unmap (domain.c, steps 1-5, the seed-000 order) clears
 * the table, invalidates the IOTLB, then waits for a grace period: a
 * thread that used its hint before the invalidation is inside a section
 * the grace period waits for; one that checks it afterwards misses.  Detach
 * and replace do not invalidate the old domain's entries (other devices may
 * use them): (a) catches them; the attachment load is the one translation
 * does anyway, with its acquire.  A domain freed and another allocated at
 * the same address cannot pass (a): destroy invalidates the freed domain's
 * entries after its grace period (domain.c), which moves (b).  The serial,
 * unique and never reused, keys the hint instead of the device's address:
 * the device the caller passes is alive, so its IOMMU and IOTLB are, and
 * the entry the reference points into belongs to that IOTLB (the hint was
 * filled through this device), so checking (b) never reads freed memory.
 * A hint copied from a run entry (below) covers the whole run: the entry
 * holds all of it while its sequence stands, and any invalidation of a byte
 * of the run moves it.
 * The hint is filled from IOTLB hits only: a page just walked is hinted at
 * its second translation (an IOTLB hit).  Filling it from the insert too
 * would be as safe (insert_ref gives the same reference; hint.pml models
 * it) but costs every miss about 22 instructions, which random access
 * over many pages pays for nothing.
 * One slot per thread: a thread translating for several devices or pages
 * in turn just misses and refills it (a few stores).  Writes take the
 * IOTLB's path again (the hint holds what the entry holds, including its
 * dirty mark), and so do execute and privileged requests.
 *
 * Run entries.  A plain read that misses walks with
 * siommu_pt_translate_run_rcu(), which also gives the run of contiguous
 * 4 KiB leaves around the page in its leaf table (same permissions, output
 * continuing, no gap; their accessed bits set by compare-and-swap, none made
 * dirty), and caches the run as one IOTLB entry (siommu_iotlb_insert_run()).
 * The seq_begin before the walk covers every page of it (one 2 MiB block,
 * so one 1 GiB region: the same generation counters), and every
 * invalidation that covers a byte of the run removes the entry, so the
 * strict-unmap argument above holds page by page: an unmap of one page of
 * a run leaves no thread able to reach it through the run once it returned
 * (the argument in full: docs/modules/core.md, Translate; runs.pml).
 *
 * The fault reasons (names, errors) and the fault log are in fault.c.
 */
#include <errno.h>
#include <string.h>

#include "core/core_internal.h"

#define CORE_PROT_DIRTY		(1u << 8)	/* IOTLB entry filled by a write walk */

/*
 * The per-thread hint (top of this file).  Thread-local, initial-exec as the
 * RCU reader pointer is (base/rcu.h): 72 bytes of the library's static TLS.
 * Written and read by its own thread only.
 */
struct core_hint {
	struct siommu_domain *dom;	/* the domain the copy came from; NULL: empty */
	uint64_t serial;		/* the device's */
	uint64_t first;			/* IOVA of the first byte the entry covers */
	uint64_t last_off;		/* its span: last byte - first */
	uint64_t addr;			/* output address of first */
	struct siommu_iotlb_ref ref;	/* the IOTLB entry it is a copy of */
	/*
	 * This thread's hint-hit counter in dom->iommu->stats (its block of
	 * base/stats.h), found at the first hit after a fill; NULL: not yet.
	 * Valid while the IOMMU is: the hint is only used through a live
	 * device of that IOMMU (the serial), and the block lives as long as
	 * this thread or the IOMMU's counters.
	 */
	uint64_t *hits;
	uint32_t pasid;
	uint16_t prot;			/* the entry's: SIOMMU_PT_* | CORE_PROT_DIRTY */
	uint8_t size_lg2;		/* of the leaves */
	uint8_t ok;			/* bit a: iotlb_prot_ok(prot, a) (a <= SIOMMU_ACC_MASK) */
};

static __thread struct core_hint core_hint __attribute__((tls_model("initial-exec")));

/* Device serials: process-wide, never reused (the hint's key). */
static uint64_t core_serial_last;

uint64_t core_device_serial_next(void)
{
	return __atomic_add_fetch(&core_serial_last, 1, __ATOMIC_RELAXED);
}

#if SIOMMU_TESTING_BUILD
static bool core_hint_unchecked;	/* tests only: the broken variant */

void core_test_set_hint_unchecked(bool on)
{
	siommu_store_relaxed(&core_hint_unchecked, on);
}

static inline bool hint_broken(void)
{
	return siommu_load_relaxed(&core_hint_unchecked);
}
#else
static inline bool hint_broken(void)
{
	return false;
}
#endif

static inline int xlate_fault(struct siommu_translation *out,
			      enum siommu_fault_reason reason)
{
	out->reason = reason;
	return core_fault_errno(reason);
}

/* Can an IOTLB entry with @prot serve @access without a walk? */
static inline bool iotlb_prot_ok(unsigned int prot, unsigned int access)
{
	/*
	 * Privileged and execute requests always walk; a supervisor-only page
	 * (SIOMMU_PT_PRIV) a privileged walk cached must not serve the
	 * unprivileged requests that the table refuses (-EACCES).
	 */
	if ((access & (SIOMMU_ACC_EXEC | SIOMMU_ACC_PRIV)) || (prot & SIOMMU_PT_PRIV))
		return false;
	if ((access & SIOMMU_ACC_READ) && !(prot & SIOMMU_PT_READ))
		return false;
	if ((access & SIOMMU_ACC_WRITE) &&
	    (prot & (SIOMMU_PT_WRITE | CORE_PROT_DIRTY)) !=
	    (SIOMMU_PT_WRITE | CORE_PROT_DIRTY))
		return false;
	return true;
}

/*
 * The access values (0..SIOMMU_ACC_MASK) that iotlb_prot_ok() lets an entry
 * with @prot serve, as a bit mask (none with EXEC or PRIV: 1 to 3 at most),
 * so that the hint tests one bit instead of the four conditions.
 */
static inline uint8_t hint_ok_mask(unsigned int prot)
{
	unsigned int a, m = 0;

	for (a = 1; a < 4; a++)
		m |= (unsigned int)iotlb_prot_ok(prot, a) << a;
	return (uint8_t)m;
}

/*
 * A hint hit with no counter pointer yet: count it the ordinary way, and
 * keep this thread's counter for the next hits (if it has a block).
 */
static __attribute__((noinline)) void hint_count_slow(struct core_hint *h,
						      struct siommu_stats *st)
{
	struct stats_block *b;

	siommu_stats_inc(st, CORE_STAT_HINT_HITS);
	b = siommu_tls_lookup(st->tls.id);
	if (b)
		h->hits = &b->v[CORE_STAT_HINT_HITS];
}

/* Keep @hit, the copy of an IOTLB entry (page or run), as this thread's hint. */
static inline void hint_set(struct siommu_device *dev, struct siommu_domain *dom,
			    uint32_t pasid, const struct siommu_iotlb_hit *hit)
{
	struct core_hint *h = &core_hint;

	h->dom = dom;
	h->serial = dev->serial;
	h->first = hit->span.first;
	h->last_off = hit->span.last - hit->span.first;
	h->addr = hit->e.addr - (hit->e.iova - hit->span.first);
	h->ref = hit->ref;
	h->hits = NULL;
	h->pasid = pasid;
	h->prot = (uint16_t)hit->e.prot;
	h->size_lg2 = (uint8_t)hit->e.size_lg2;
	h->ok = hint_ok_mask(hit->e.prot);
}

/*
 * The hint's answer for (@dev, @pasid, @iova, @access) through @dom, the
 * domain attached now; false: use the IOTLB.  Context: inside a read-side
 * section (the one @dom was loaded in).
 */
static inline __attribute__((always_inline)) bool
hint_lookup_rcu(struct siommu_device *dev, struct siommu_domain *dom,
		uint32_t pasid, uint64_t iova, unsigned int access,
		struct siommu_translation *out, uint64_t *span_last)
{
	struct core_hint *h = &core_hint;

	if (h->serial != dev->serial || h->pasid != pasid ||
	    iova - h->first > h->last_off || !((h->ok >> access) & 1))
		return false;
	/* (a) and (b) at the top of this file. */
	if (siommu_unlikely(h->dom != dom || !siommu_iotlb_ref_valid(&h->ref)) &&
	    !hint_broken())
		return false;
	out->pa = h->addr + (iova - h->first);
	out->prot = h->prot & SIOMMU_PT_PROT_MASK;
	out->pgsize_lg2 = h->size_lg2;
	out->iotlb_hit = true;
	*span_last = h->first + h->last_off;
	if (siommu_likely(h->hits != NULL))
		siommu_store_relaxed(h->hits, siommu_load_relaxed(h->hits) + 1);
	else
		hint_count_slow(h, dom->iommu->stats);
	return true;
}

/*
 * Requests whose walk fills a run entry: plain reads.  (A write's run would
 * have to be of leaves already dirty, and would replace the block's read
 * run: one run entry per block.  Writes keep 4 KiB entries, which DMA
 * writes extend with siommu_iotlb_lookup_run().)
 */
#define CORE_ACC_RUN_OK(access)	\
	(!((access) & (SIOMMU_ACC_WRITE | SIOMMU_ACC_EXEC | SIOMMU_ACC_PRIV)))

/*
 * The IOTLB missed (or its entry cannot serve @access): walk the table,
 * and cache what it gives (a run of 4 KiB leaves as one entry).
 * Out of line: the hit path in translate_slow_rcu() keeps a small frame.
 */
static __attribute__((noinline)) int
translate_walk_rcu(struct siommu_domain *dom, uint32_t pasid, uint64_t iova,
		   unsigned int access, struct siommu_translation *out,
		   uint64_t *span_last)
{
	struct siommu_iommu *iommu = dom->iommu;
	struct siommu_iotlb_entry e;
	struct siommu_iotlb_seq seq;
	struct siommu_pt_xlate x;
	uint64_t mask, rfirst = 0, rlast = 0;
	unsigned int npages;
	int ret;

	siommu_stats_inc(iommu->stats, CORE_STAT_WALKS);
	/*
	 * Acquire: the walk's reads (those of the run's neighbours too: the
	 * same 2 MiB block, so the same generation counters) come after the
	 * generation snapshot.
	 */
	siommu_iotlb_seq_begin(iommu->iotlb, dom->domid, pasid, iova, &seq);
	if (CORE_ACC_RUN_OK(access))
		ret = siommu_pt_translate_run_rcu(dom->pt, iova, access, &x, &rfirst, &rlast);
	else
		ret = siommu_pt_translate_rcu(dom->pt, iova, access, &x);
	switch (ret) {
	case 0:
		break;
	case -ENOENT:
		return xlate_fault(out, SIOMMU_FAULT_NOT_PRESENT);
	case -EACCES:
		return xlate_fault(out, SIOMMU_FAULT_PERMISSION);
	default:
		return xlate_fault(out, SIOMMU_FAULT_OUT_OF_RANGE);
	}
	mask = (1ull << x.pgsize_lg2) - 1;
	e.iova = iova & ~mask;
	e.addr = x.pa & ~mask;
	e.size_lg2 = x.pgsize_lg2;
	e.prot = x.prot | ((access & SIOMMU_ACC_WRITE) ? CORE_PROT_DIRTY : 0);
	npages = 1;
	*span_last = iova | mask;
	if (CORE_ACC_RUN_OK(access) && x.pgsize_lg2 == 12 && rlast - rfirst > mask) {
		/* A run of 4 KiB leaves: one entry for all of it. */
		e.addr -= e.iova - rfirst;
		e.iova = rfirst;
		npages = (unsigned int)((rlast - rfirst + 1) >> 12);
		*span_last = rlast;
	}
	/* -EAGAIN: an invalidation raced with the walk; the answer still holds now. */
	siommu_iotlb_insert_run(iommu->iotlb, dom->domid, pasid, &e, npages, &seq, NULL);
	out->pa = x.pa;
	out->prot = x.prot;
	out->pgsize_lg2 = x.pgsize_lg2;
	out->iotlb_hit = false;
	return 0;
}

static inline __attribute__((always_inline)) int
translate_paging_rcu(struct siommu_device *dev, struct siommu_domain *dom,
		     uint32_t pasid, uint64_t iova, unsigned int access,
		     struct siommu_translation *out, uint64_t *span_last)
{
	struct siommu_iotlb_hit hit;

	if (dom->ias_lg2 < 64 && iova >> dom->ias_lg2)
		return xlate_fault(out, SIOMMU_FAULT_OUT_OF_RANGE);
	/*
	 * The hit path counts nothing of its own: the IOTLB counts its hits
	 * (per thread); hits that must walk anyway are counted below.
	 */
	if (siommu_iotlb_lookup_span(dom->iommu->iotlb, dom->domid, pasid, iova, &hit) == 0) {
		if (siommu_likely(iotlb_prot_ok(hit.e.prot, access))) {
			hint_set(dev, dom, pasid, &hit);
			out->pa = hit.e.addr + (iova - hit.e.iova);
			out->prot = hit.e.prot & SIOMMU_PT_PROT_MASK;
			out->pgsize_lg2 = hit.e.size_lg2;
			out->iotlb_hit = true;
			*span_last = hit.span.last;
			return 0;
		}
		siommu_stats_inc(dom->iommu->stats, CORE_STAT_IOTLB_HIT_WALKS);
	}
	return translate_walk_rcu(dom, pasid, iova, access, out, span_last);
}

/*
 * Everything after the hint: the domain's type, the IOTLB, the walk.  Out of
 * line, so that the hint's path in translate_rcu() needs no stack frame.
 */
static __attribute__((noinline)) int
translate_slow_rcu(struct siommu_device *dev, struct siommu_domain *dom,
		   uint32_t pasid, uint64_t iova, unsigned int access,
		   struct siommu_translation *out, uint64_t *span_last)
{
	switch (dom->type) {
	case SIOMMU_DOMAIN_PAGING:
		return translate_paging_rcu(dev, dom, pasid, iova, access, out, span_last);
	case SIOMMU_DOMAIN_IDENTITY:
		if (iova >> dev->iommu->caps.oas_lg2)
			return xlate_fault(out, SIOMMU_FAULT_OUT_OF_RANGE);
		out->pa = iova;
		out->prot = SIOMMU_PT_READ | SIOMMU_PT_WRITE;
		out->pgsize_lg2 = 12;
		*span_last = iova | 0xfff;
		return 0;
	default:
		return xlate_fault(out, SIOMMU_FAULT_BLOCKED);
	}
}

/*
 * siommu_translate_rcu(), also giving the domain it used (NULL: none) in
 * *@domp and, on success, in *@span_last the last byte of the span the
 * translation holds for (output contiguous from @iova, same permissions:
 * the rest of the page, or of a cached run of pages).
 * Context: inside a read-side section; arguments checked.
 */
static inline __attribute__((always_inline)) int
translate_rcu(struct siommu_device *dev, uint32_t pasid,
	      uint64_t iova, unsigned int access,
	      struct siommu_translation *out,
	      struct siommu_domain **domp, uint64_t *span_last)
{
	struct siommu_domain *dom;

	SIOMMU_CHECK(siommu_rcu_read_ongoing());
	out->reason = SIOMMU_FAULT_NONE;
	out->iotlb_hit = false;
	*domp = dom = core_attached_rcu(dev, pasid);
	if (siommu_unlikely(!dom))
		return xlate_fault(out, SIOMMU_FAULT_NO_DOMAIN);
	siommu_debug_yield(SIOMMU_YIELD_CORE_XLATE);
	/* Only paging domains fill the hint: a match is a paging domain. */
	if (hint_lookup_rcu(dev, dom, pasid, iova, access, out, span_last))
		return 0;
	return translate_slow_rcu(dev, dom, pasid, iova, access, out, span_last);
}

static inline bool translate_args_ok(struct siommu_device *dev, uint32_t pasid,
				     unsigned int access,
				     struct siommu_translation *out)
{
	return dev && out && access && !(access & ~SIOMMU_ACC_MASK) &&
	       !(pasid >> SIOMMU_PASID_BITS_MAX);
}

/*
 * The public calls past a hint miss, out of line and with no span to give
 * back, so that they are tail calls: the hint's path in siommu_translate()
 * and siommu_translate_rcu() needs no stack frame.  The first leaves the
 * caller's section as siommu_translate() entered it.
 */
static __attribute__((noinline)) int
translate_slow_unlock(struct siommu_device *dev, struct siommu_domain *dom,
		      uint32_t pasid, uint64_t iova, unsigned int access,
		      struct siommu_translation *out)
{
	uint64_t span_last;
	int ret;

	ret = dom ? translate_slow_rcu(dev, dom, pasid, iova, access, out, &span_last) :
		    xlate_fault(out, SIOMMU_FAULT_NO_DOMAIN);
	siommu_rcu_read_unlock();
	return ret;
}

static __attribute__((noinline)) int
translate_slow_pub_rcu(struct siommu_device *dev, struct siommu_domain *dom,
		       uint32_t pasid, uint64_t iova, unsigned int access,
		       struct siommu_translation *out)
{
	uint64_t span_last;

	if (!dom)
		return xlate_fault(out, SIOMMU_FAULT_NO_DOMAIN);
	return translate_slow_rcu(dev, dom, pasid, iova, access, out, &span_last);
}

SIOMMU_API int siommu_translate_rcu(struct siommu_device *dev, uint32_t pasid,
				    uint64_t iova, unsigned int access,
				    struct siommu_translation *out)
{
	struct siommu_domain *dom;
	uint64_t span_last;

	if (siommu_unlikely(!translate_args_ok(dev, pasid, access, out)))
		return -EINVAL;
	SIOMMU_CHECK(siommu_rcu_read_ongoing());
	out->reason = SIOMMU_FAULT_NONE;
	out->iotlb_hit = false;
	dom = core_attached_rcu(dev, pasid);
	siommu_debug_yield(SIOMMU_YIELD_CORE_XLATE);
	/* As translate_rcu(); a NULL domain cannot match the hint. */
	if (siommu_likely(dom != NULL) &&
	    hint_lookup_rcu(dev, dom, pasid, iova, access, out, &span_last))
		return 0;
	return translate_slow_pub_rcu(dev, dom, pasid, iova, access, out);
}

SIOMMU_API int siommu_translate(struct siommu_device *dev, uint32_t pasid,
				uint64_t iova, unsigned int access,
				struct siommu_translation *out)
{
	struct siommu_domain *dom;
	uint64_t span_last;

	if (siommu_unlikely(!translate_args_ok(dev, pasid, access, out)))
		return -EINVAL;
	siommu_rcu_read_lock();
	out->reason = SIOMMU_FAULT_NONE;
	out->iotlb_hit = false;
	dom = core_attached_rcu(dev, pasid);
	siommu_debug_yield(SIOMMU_YIELD_CORE_XLATE);
	if (siommu_likely(dom != NULL) &&
	    hint_lookup_rcu(dev, dom, pasid, iova, access, out, &span_last)) {
		siommu_rcu_read_unlock();
		return 0;
	}
	return translate_slow_unlock(dev, dom, pasid, iova, access, out);
}

/* ------------------------------------------------------------------ DMA */

/*
 * Move @len bytes between @buf and the output address @pa.
 * Context: inside the read-side section the translation was obtained in.
 */
static inline int phys_rw_rcu(struct siommu_iommu *iommu, uint64_t pa,
			      void *buf, size_t len, bool write)
{
	if (iommu->mem)
		return siommu_mem_rw_rcu(iommu->mem, pa, buf, len, write);
	if (write)
		memcpy((void *)(uintptr_t)pa, buf, len);
	else
		memcpy(buf, (const void *)(uintptr_t)pa, len);
	return 0;
}

/*
 * Bytes per run at most: bounds how long a DMA holds one read-side section
 * (a grace period waits for it), about 10 us of memcpy here.
 */
#define DMA_RUN_MAX	(1u << 20)

/*
 * A run begins at @iova with @chunk bytes at @pa (the first translation,
 * whose span ends at @span_last): extend it over the span and the pages
 * that follow while their translations continue it and the transfer (@len
 * bytes left) lasts.  Returns the run's length.  A page that faults or goes
 * elsewhere ends the run; the caller translates it again as the first page
 * of the next run (and handles its fault there).
 * Context: inside the read-side section of the first translation, which
 * the copy of the whole run uses too.
 */
static uint64_t dma_run_rcu(struct siommu_device *dev, struct siommu_domain *dom0,
			    uint32_t pasid, uint64_t iova, unsigned int access,
			    uint64_t pa, uint64_t chunk, uint64_t len, uint64_t span_last)
{
	uint64_t lim = len < DMA_RUN_MAX ? len : DMA_RUN_MAX;
	bool write = access & SIOMMU_ACC_WRITE;
	unsigned int pwant = write ? SIOMMU_PT_WRITE | CORE_PROT_DIRTY : SIOMMU_PT_READ;
	/* As iotlb_prot_ok(): a supervisor-only entry never serves DMA. */
	unsigned int pmask = pwant | SIOMMU_PT_PRIV;
	struct siommu_translation t;
	struct siommu_domain *dom;
	uint64_t span;
	int pages;

	for (;;) {
		/* The span of the last translation: the same mapping, go on. */
		span = span_last - (iova + chunk) + 1;
		if (span_last >= iova + chunk && chunk < lim)
			chunk += lim - chunk < span ? lim - chunk : span;
		if (chunk >= lim)
			break;
		/*
		 * Whole 4 KiB pages that hit the IOTLB and continue the run,
		 * in one call (the attachment is the first page's: the same
		 * section, so a detach or replace still waits for this copy).
		 * What it stops at is translated alone below.
		 */
		if (dom0->type == SIOMMU_DOMAIN_PAGING && !((iova + chunk) & 0xfff)) {
			pages = siommu_iotlb_lookup_run(dom0->iommu->iotlb, dom0->domid,
							pasid, iova + chunk, pa + chunk,
							(unsigned int)((lim - chunk + 0xfff) >> 12),
							pmask, pwant);
			if (pages > 0) {
				chunk += (uint64_t)pages << 12;
				if (chunk > len)
					chunk = len;
				span_last = 0;
				continue;
			}
		}
		if (translate_rcu(dev, pasid, iova + chunk, access, &t, &dom, &span_last) ||
		    t.pa != pa + chunk)
			break;
	}
	return chunk;
}

static int dma_one(struct siommu_device *dev, uint32_t pasid, uint64_t iova,
		   uint8_t *buf, size_t len, bool write)
{
	struct siommu_iommu *iommu = dev->iommu;
	unsigned int access = write ? SIOMMU_ACC_WRITE : SIOMMU_ACC_READ;
	enum siommu_fault_reason reason;
	struct siommu_translation t;
	struct siommu_domain *dom;
	uint64_t last, chunk, room, span_last;
	unsigned int resolved = 0;
	size_t done = 0;
	int ret, rec;

	if (siommu_add_overflow(iova, (uint64_t)len - 1, &last))
		return -EINVAL;
	while (done < len) {
		siommu_rcu_read_lock();
		ret = translate_rcu(dev, pasid, iova + done, access, &t, &dom, &span_last);
		if (ret) {
			reason = t.reason;
			/* In the section: @dom is valid for the handler. */
			rec = resolved < SIOMMU_IOPF_RETRIES ?
			      core_fault_recover_rcu(dev, dom, pasid, iova + done,
						     access, reason) : -1;
			siommu_rcu_read_unlock();
			if (rec == SIOMMU_IOPF_QUEUED)
				return -EAGAIN;
			if (rec == SIOMMU_IOPF_RESOLVED) {
				resolved++;
				continue;	/* translate the piece again */
			}
			core_record_fault(iommu, dev, pasid, iova + done, access,
					  reason);
			return ret;
		}
		resolved = 0;
		room = (1ull << t.pgsize_lg2) - ((iova + done) &
						 ((1ull << t.pgsize_lg2) - 1));
		chunk = len - done < room ? len - done : room;
		/*
		 * Host memory: one copy per run.  Not for a memory map, whose
		 * access checks and counts (and the fault address it reports)
		 * are per piece.
		 */
		if (!iommu->mem)
			chunk = dma_run_rcu(dev, dom, pasid, iova + done, access, t.pa,
					    chunk, len - done, span_last);
		siommu_debug_yield(SIOMMU_YIELD_CORE_DMA);
		/* Same section as the translation: see the top of this file. */
		ret = phys_rw_rcu(iommu, t.pa, buf + done, chunk, write);
		siommu_rcu_read_unlock();
		if (ret) {
			core_record_fault(iommu, dev, pasid, iova + done, access,
					  SIOMMU_FAULT_BAD_ADDRESS);
			return ret;
		}
		done += chunk;
	}
	siommu_stats_add(iommu->stats, write ? CORE_STAT_DMA_WRITE_BYTES :
					       CORE_STAT_DMA_READ_BYTES, len);
	return 0;
}

static int dma_sg(struct siommu_device *dev, uint32_t pasid,
		  const struct siommu_dma_sg *sg, size_t nents, bool write)
{
	size_t i;
	int ret;

	if (!dev || !sg || !nents || pasid >> SIOMMU_PASID_BITS_MAX)
		return -EINVAL;
	for (i = 0; i < nents; i++) {
		uint64_t last;

		if (!sg[i].buf || !sg[i].len ||
		    siommu_add_overflow(sg[i].iova, (uint64_t)sg[i].len - 1, &last))
			return -EINVAL;
	}
	for (i = 0; i < nents; i++) {
		ret = dma_one(dev, pasid, sg[i].iova, sg[i].buf, sg[i].len, write);
		if (ret)
			return ret;
	}
	siommu_stats_inc(dev->iommu->stats, CORE_STAT_DMA_OPS);
	return 0;
}

SIOMMU_API int siommu_dma_read(struct siommu_device *dev, uint32_t pasid,
			       uint64_t iova, void *buf, size_t len)
{
	struct siommu_dma_sg sg = { .iova = iova, .buf = buf, .len = len };

	return dma_sg(dev, pasid, &sg, 1, false);
}

SIOMMU_API int siommu_dma_write(struct siommu_device *dev, uint32_t pasid,
				uint64_t iova, const void *buf, size_t len)
{
	struct siommu_dma_sg sg = { .iova = iova, .buf = (void *)buf, .len = len };

	return dma_sg(dev, pasid, &sg, 1, true);
}

SIOMMU_API int siommu_dma_read_sg(struct siommu_device *dev, uint32_t pasid,
				  const struct siommu_dma_sg *sg, size_t nents)
{
	return dma_sg(dev, pasid, sg, nents, false);
}

SIOMMU_API int siommu_dma_write_sg(struct siommu_device *dev, uint32_t pasid,
				   const struct siommu_dma_sg *sg, size_t nents)
{
	return dma_sg(dev, pasid, sg, nents, true);
}
