/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared virtual addressing: a device and PASID translate through the
 * mm's own x86-64 table (the VT-d first stage walks the CPU's format), as
 * Linux's iommu_sva_bind_device() attaches an SVA domain to a PASID.
 *
 * No copy, so no zap: the mm changes the table itself, and all the binding
 * must do is flush what the IOTLB cached, after the entries are cleared
 * and before anything is freed (Linux's arch_invalidate_secondary_tlbs()).
 * The mm then waits for a grace period (DMA that translated through an old
 * entry, or walked a table page being freed, has finished) before freeing
 * pages or returning: so when munmap returns, no DMA of the PASID can
 * reach the old pages, as after a strict unmap.
 *
 * The notifier is registered before the attach, so the first DMA through
 * the domain already has its invalidations; the detach comes before the
 * unregister, so the last DMA still had them.  Faults of a PRI device go to
 * the domain's fault handler: here they are resolved inline by faulting
 * the mm (mm->lock is never held across a grace period, so this is allowed
 * inside the DMA's read-side section); with SIOMMU_SVA_NO_HANDLER the iopf
 * layer installs its own (sva_iopf.c, when that layer exists).
 *
 * The mm's last user going away (siommu_mm_destroy()) calls release: the
 * PASID is detached (core's detach lets the layers drain it: the iopf
 * layer, for a PRI device, after a grace period), the domain destroyed
 * (its destroy waits for a grace period: no DMA through it is left); unbind
 * later only frees.
 */
#include <errno.h>

#include "base/alloc.h"
#include "base/compiler.h"
#include "base/debug.h"
#include "base/rcu.h"
#include "mm/mm_internal.h"

struct siommu_sva {
	struct siommu_mm *mm;		/* immutable; a reference */
	struct siommu_device *dev;	/* immutable */
	uint32_t pasid;			/* immutable */
	unsigned int flags;		/* immutable */
	bool handler;			/* immutable after bind */
	struct siommu_domain *dom;	/* [mm->lock]; NULL after release */
	struct siommu_mm_notifier *mn;	/* immutable after bind */
	mm_ext_clear_fn *ext_clear;	/* owner thread: another layer's handler */
	void *ext_opaque;
};

void mm_sva_set_ext(struct siommu_sva *b, mm_ext_clear_fn *fn, void *opaque)
{
	b->ext_clear = fn;
	b->ext_opaque = opaque;
}

static void sva_inv_tlbs(void *opaque, struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	struct siommu_sva *b = opaque;

	siommu_assert_held(&mm->lock);
	if (mm_test_breaks & SIOMMU_MM_BREAK_NO_SVA_INVAL)
		return;		/* broken on purpose (testing builds): stale IOTLB entries */
	if (b->dom)
		siommu_domain_invalidate(b->dom, r->start, r->last - r->start + 1, 0);
}

/* Detach, stop the handler, destroy the domain.  No lock held. */
static void sva_teardown(struct siommu_sva *b)
{
	struct siommu_domain *dom;

	SIOMMU_WARN_ON(siommu_pasid_detach(b->dev, b->pasid) != 0);
	siommu_mutex_lock(&b->mm->lock);
	dom = b->dom;
	b->dom = NULL;
	siommu_mutex_unlock(&b->mm->lock);
	if (b->handler)
		siommu_domain_set_fault_handler(dom, NULL, NULL);
	if (b->ext_clear)
		b->ext_clear(b->ext_opaque, dom);
	SIOMMU_WARN_ON(siommu_domain_destroy(dom) != 0);
}

static void sva_release(void *opaque, struct siommu_mm *mm)
{
	struct siommu_sva *b = opaque;

	(void)mm;
	if (b->dom)
		sva_teardown(b);
}

static const struct siommu_mm_notifier_ops sva_mn_ops = {
	.invalidate_tlbs = sva_inv_tlbs,
	.release = sva_release,
};

static int sva_fault_handler(void *opaque, const struct siommu_fault_info *f)
{
	struct siommu_sva *b = opaque;
	int ret = siommu_mm_fault(b->mm, f->iova, f->access);

	return ret ? ret : SIOMMU_IOPF_RESOLVED;
}

SIOMMU_API int siommu_sva_bind(struct siommu_mm *mm, struct siommu_iommu *iommu,
			       struct siommu_device *dev, uint32_t pasid,
			       unsigned int flags, struct siommu_sva **out)
{
	struct siommu_domain_cfg dcfg = { .type = SIOMMU_DOMAIN_PAGING };
	struct siommu_iommu_caps caps;
	struct siommu_sva *b;
	int ret;

	if (!mm || !iommu || !dev || !out || !pasid || (flags & ~SIOMMU_SVA_NO_HANDLER))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	if (__atomic_load_n(&mm->dead, __ATOMIC_RELAXED))
		return -ENODEV;
	/* The device must reach every address of the mm (found by fuzz_api). */
	ret = siommu_iommu_get_caps(iommu, &caps);
	if (ret)
		return ret;
	if (caps.ias_lg2 < 64 && (1ull << caps.ias_lg2) < mm->va_limit)
		return -ERANGE;
	b = siommu_zalloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->mm = mm;
	b->dev = dev;
	b->pasid = pasid;
	b->flags = flags;
	dcfg.pt = mm->pt;		/* the mm's own table: no copy */
	ret = siommu_domain_create(iommu, &dcfg, &b->dom);
	if (ret)
		goto err_free;
	if (!(flags & SIOMMU_SVA_NO_HANDLER)) {
		ret = siommu_domain_set_fault_handler(b->dom, sva_fault_handler, b);
		if (ret)
			goto err_dom;
		b->handler = true;
	}
	ret = siommu_mm_notifier_register(mm, &sva_mn_ops, b, &b->mn);
	if (ret)
		goto err_handler;
	ret = siommu_pasid_attach(dev, pasid, b->dom);
	if (ret)
		goto err_mn;
	siommu_mutex_lock(&mm->lock);
	mm->nr_bindings++;
	siommu_mutex_unlock(&mm->lock);
	mm_get(mm);
	*out = b;
	return 0;

err_mn:
	siommu_mm_notifier_unregister(b->mn);
err_handler:
	if (b->handler)
		siommu_domain_set_fault_handler(b->dom, NULL, NULL);
err_dom:
	siommu_domain_destroy(b->dom);
err_free:
	siommu_free(b);
	return ret;
}

SIOMMU_API int siommu_sva_unbind(struct siommu_sva *b)
{
	struct siommu_mm *mm;
	bool live;

	if (!b)
		return 0;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	mm = b->mm;
	siommu_mutex_lock(&mm->lock);
	live = b->dom != NULL;
	siommu_mutex_unlock(&mm->lock);
	if (live)
		sva_teardown(b);	/* detach first: the last DMA still had invalidations */
	siommu_mm_notifier_unregister(b->mn);
	siommu_mutex_lock(&mm->lock);
	mm->nr_bindings--;
	siommu_mutex_unlock(&mm->lock);
	mm_put(mm);
	siommu_free(b);
	return 0;
}

SIOMMU_API struct siommu_domain *siommu_sva_domain(struct siommu_sva *b)
{
	struct siommu_domain *d;

	if (!b)
		return NULL;
	siommu_mutex_lock(&b->mm->lock);
	d = b->dom;
	siommu_mutex_unlock(&b->mm->lock);
	return d;
}

SIOMMU_API uint32_t siommu_sva_pasid(struct siommu_sva *b)
{
	return b ? b->pasid : 0;
}

SIOMMU_API struct siommu_mm *siommu_sva_mm(struct siommu_sva *b)
{
	return b ? b->mm : NULL;
}
