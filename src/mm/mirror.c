/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mirror domains: a secondary MMU of an mm (KVM's shadow/TDP MMU, HMM,
 * RDMA ODP, a vIOMMU's shadow table).  The mirror has its own I/O table
 * in any format, IOVA = virtual address, and a core PAGING domain over it
 * (a caller-owned table, siommu_domain_cfg.pt).
 *
 * Fill (siommu_mirror_fault(), called by the domain's fault handler from
 * inside the faulting DMA's read-side section, or by iopf later):
 *
 *   1. seq = siommu_mm_invalidate_seq(mm)             snapshot
 *   2. translate addr in the mm, locklessly;          the page (KVM: gfn_to_pfn)
 *      if missing or read-only for a write: fault the mm (mm->lock), goto 1
 *   3. level = siommu_mm_lookup_level_rcu(mm, addr)   seed 001: may be stale
 *   4. lock(mirror)
 *   5. if siommu_mm_invalidate_retry(mm, seq, addr): unlock, goto 1
 *   6. map the largest page <= level the table allows, aligned; unlock.
 *
 * Zap (the mm notifier's invalidate_start, under mm->lock): lock(mirror),
 * clear the range from the table, invalidate the domain's IOTLB (no wait:
 * the mm waits for a grace period before it frees anything), unlock.
 *
 * Why 3 may use a stale answer: rules 1-3 of mm.h.  The answer is acted on
 * at 6 only if no invalidation touched addr since the snapshot (5, under
 * the lock the zap takes), so whatever was read at 2 and 3 was still the
 * mm's mapping when the lock was taken, and any later invalidation will
 * zap what 6 installs.  A larger page than the mm's (level stale upward)
 * cannot be installed either: the mm's leaf would have had to change size,
 * which is an invalidation (a split), which 5 sees.
 *
 * Bounded: max_retries rounds, then -EAGAIN (the handler answers QUEUED:
 * the DMA returns -EAGAIN and the device retries later).  Nothing here
 * waits for a grace period, so it may run inside a read-side section.
 */
#include <errno.h>
#include <string.h>

#include "base/alloc.h"
#include "base/compiler.h"
#include "base/debug.h"
#include "base/rcu.h"
#include "mm/mm_internal.h"

struct siommu_mirror {
	struct siommu_mm *mm;		/* immutable; a reference */
	struct siommu_iommu *iommu;	/* immutable */
	struct siommu_pt *pt;		/* immutable: the mirror's own table */
	struct siommu_domain *dom;	/* immutable */
	struct siommu_mm_notifier *mn;	/* immutable after create */
	uint64_t pgsize_bitmap;		/* immutable */
	unsigned int flags;		/* immutable */
	unsigned int max_retries;	/* immutable */
	bool released;			/* atomic: the mm is gone */
	bool handler;			/* immutable: our fault handler is installed */
	struct siommu_mutex lock;	/* the mirror lock: fill after the check, zap */
	struct siommu_mirror_stats st;	/* atomic counters */
	mm_ext_clear_fn *ext_clear;	/* owner thread: another layer's handler */
	void *ext_opaque;
};

void mm_mirror_set_ext(struct siommu_mirror *m, mm_ext_clear_fn *fn, void *opaque)
{
	m->ext_clear = fn;
	m->ext_opaque = opaque;
}

static void st_add(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ zap */

struct zap_ctx {
	struct siommu_domain *dom;
};

static void zap_inval(void *opaque, uint64_t iova, uint64_t last, unsigned int flags)
{
	struct zap_ctx *z = opaque;

	(void)flags;
	siommu_domain_invalidate(z->dom, iova, last - iova + 1, 0);
}

/* Clear [start, last] (widened to whole leaves) and invalidate.  Holds m->lock. */
static void mirror_zap_locked(struct siommu_mirror *m, uint64_t start, uint64_t last)
{
	struct zap_ctx z = { .dom = m->dom };
	struct siommu_pt_gather g;
	struct siommu_pt_info pi;
	int64_t n;
	int lv;

	siommu_assert_held(&m->lock);
	siommu_pt_get_info(m->pt, &pi);
	if (start >= (1ull << pi.ias_lg2))
		return;
	if (last >= (1ull << pi.ias_lg2))
		last = (1ull << pi.ias_lg2) - 1;
	/*
	 * A mirror leaf is never larger than the mm's leaf it copied, and an
	 * invalidation covers whole mm leaves; widen anyway, since unmap
	 * refuses to split and over-zapping only costs a refault.
	 */
	lv = siommu_pt_lookup_level(m->pt, start);
	if (lv > 12)
		start &= ~((1ull << lv) - 1);
	lv = siommu_pt_lookup_level(m->pt, last);
	if (lv > 12)
		last |= (1ull << lv) - 1;
	siommu_pt_gather_init(&g);
	n = siommu_pt_unmap(m->pt, start, last - start + 1, &g);
	SIOMMU_WARN_ON(n < 0);
	if (n > 0) {
		st_add(&m->st.zaps, 1);
		st_add(&m->st.zapped_bytes, (uint64_t)n);
	}
	/* IOTLB invalidated, table pages freed after a grace period: never waits. */
	siommu_pt_gather_sync(&g, zap_inval, &z, 0);
}

static void mirror_inv_start(void *opaque, struct siommu_mm *mm,
			     const struct siommu_mm_range *r)
{
	struct siommu_mirror *m = opaque;

	(void)mm;
	siommu_mutex_lock(&m->lock);
	mirror_zap_locked(m, r->start, r->last);
	siommu_mutex_unlock(&m->lock);
}

static void mirror_release(void *opaque, struct siommu_mm *mm)
{
	struct siommu_mirror *m = opaque;

	(void)mm;
	__atomic_store_n(&m->released, true, __ATOMIC_RELEASE);
	siommu_mutex_lock(&m->lock);
	mirror_zap_locked(m, 0, UINT64_MAX);
	siommu_mutex_unlock(&m->lock);
	/* The mm's teardown waits for a grace period before freeing. */
}

static const struct siommu_mm_notifier_ops mirror_mn_ops = {
	.invalidate_start = mirror_inv_start,
	.release = mirror_release,
};

/* ------------------------------------------------------------------ fill */

static unsigned int pick_size(const struct siommu_mirror *m, int level, uint64_t addr,
			      uint64_t pa)
{
	unsigned int lg2 = level > 0 ? (unsigned int)level : 12;

	if (m->flags & SIOMMU_MIRROR_4K_ONLY)
		return 12;
	for (; lg2 > 12; lg2 -= 9) {
		uint64_t mask = (1ull << lg2) - 1;

		/* The page's block must line up in both spaces. */
		if ((m->pgsize_bitmap & (1ull << lg2)) && (addr & mask) == (pa & mask))
			break;
	}
	return lg2;
}

SIOMMU_API int siommu_mirror_fault(struct siommu_mirror *m, uint64_t addr,
				   unsigned int access)
{
	struct siommu_mm *mm;
	unsigned int round;

	if (!m || (access & ~SIOMMU_ACC_MASK))
		return -EINVAL;
	mm = m->mm;
	addr &= ~0xfffull;
	st_add(&m->st.faults, 1);
	for (round = 0; round < m->max_retries; round++) {
		struct siommu_mm_xlate x;
		unsigned int lg2, prot;
		uint64_t seq, va, pa;
		int ret, level = 12;
		bool ok;

		if (__atomic_load_n(&m->released, __ATOMIC_ACQUIRE))
			return -ENODEV;
		seq = siommu_mm_invalidate_seq(mm);			/* 1 */
		siommu_rcu_read_lock();
		ret = siommu_mm_translate_rcu(mm, addr, &x);		/* 2 */
		ok = !ret && (!(access & SIOMMU_ACC_WRITE) || (x.prot & SIOMMU_MM_PROT_WRITE));
		if (ok)
			level = siommu_mm_lookup_level_rcu(mm, addr);	/* 3 */
		siommu_rcu_read_unlock();
		if (ret == -ERANGE) {
			st_add(&m->st.errors, 1);
			return -EFAULT;
		}
		if (!ok) {
			ret = siommu_mm_fault(mm, addr, access);
			if (ret) {
				st_add(&m->st.errors, 1);
				return ret;
			}
			continue;
		}
		siommu_debug_yield(SIOMMU_YIELD_MM_MIRROR);
		lg2 = pick_size(m, level, addr, x.pa);
		va = addr & ~((1ull << lg2) - 1);
		pa = x.pa - (addr - va);
		prot = SIOMMU_PT_READ | (x.prot & SIOMMU_MM_PROT_WRITE ? SIOMMU_PT_WRITE : 0);

		siommu_mutex_lock(&m->lock);				/* 4 */
		if (!(mm_test_breaks & SIOMMU_MM_BREAK_NO_RETRY) &&
		    siommu_mm_invalidate_retry(mm, seq, addr)) {	/* 5 */
			siommu_mutex_unlock(&m->lock);
			st_add(&m->st.retries, 1);
			continue;
		}
		ret = siommu_pt_map(m->pt, va, pa, 1ull << lg2, prot);	/* 6 */
		if (ret == -EEXIST && lg2 > 12) {
			/* Part of the block is mapped already: this page alone. */
			lg2 = 12;
			ret = siommu_pt_map(m->pt, addr, x.pa, 1ull << 12, prot);
		}
		siommu_mutex_unlock(&m->lock);
		if (ret == -EEXIST)
			return 0;	/* mapped by a concurrent fault: current (zaps clear it) */
		if (ret) {
			st_add(&m->st.errors, 1);
			return ret;
		}
		st_add(lg2 == 30 ? &m->st.maps_1g : lg2 == 21 ? &m->st.maps_2m : &m->st.maps_4k, 1);
		return 0;
	}
	st_add(&m->st.eagain, 1);
	return -EAGAIN;
}

static int mirror_fault_handler(void *opaque, const struct siommu_fault_info *f)
{
	int ret = siommu_mirror_fault(opaque, f->iova, f->access);

	if (!ret)
		return SIOMMU_IOPF_RESOLVED;
	if (ret == -EAGAIN)
		return SIOMMU_IOPF_QUEUED;	/* no queue without iopf: the device retries */
	return ret;
}

/* ------------------------------------------------------------------ create/destroy */

SIOMMU_API int siommu_mirror_create(struct siommu_mm *mm, struct siommu_iommu *iommu,
				    const struct siommu_mirror_cfg *cfg,
				    struct siommu_mirror **out)
{
	struct siommu_pt_cfg pcfg = { 0 };
	struct siommu_domain_cfg dcfg = { .type = SIOMMU_DOMAIN_PAGING };
	struct siommu_iommu_caps caps;
	struct siommu_pt_info pi;
	struct siommu_mirror *m;
	int ret;

	if (!mm || !iommu || !cfg || !out ||
	    (cfg->flags & ~(SIOMMU_MIRROR_4K_ONLY | SIOMMU_MIRROR_NO_HANDLER)))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	ret = siommu_iommu_get_caps(iommu, &caps);
	if (ret)
		return ret;
	m = siommu_zalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	pcfg.fmt = cfg->fmt ? cfg->fmt : SIOMMU_PT_FMT_X86_64;
	pcfg.levels = cfg->levels;
	pcfg.pgsize_bitmap = cfg->pgsize_bitmap;
	pcfg.max_table_pages = cfg->max_table_pages;	/* checked by the table */
	ret = siommu_pt_create(mm->ctx, &pcfg, &m->pt);
	if (ret)
		goto err_free;
	siommu_pt_get_info(m->pt, &pi);
	if ((1ull << pi.ias_lg2) < mm->va_limit) {
		ret = -ERANGE;
		goto err_pt;
	}
	m->pgsize_bitmap = pi.pgsize_bitmap & caps.pgsize_bitmap;
	m->flags = cfg->flags;
	m->max_retries = cfg->max_retries ? cfg->max_retries : 16;
	m->mm = mm;
	m->iommu = iommu;
	siommu_mutex_init(&m->lock, "mm.mirror", SIOMMU_RANK_MM_MIRROR);
	dcfg.pt = m->pt;
	ret = siommu_domain_create(iommu, &dcfg, &m->dom);
	if (ret)
		goto err_lock;
	if (!(cfg->flags & SIOMMU_MIRROR_NO_HANDLER)) {
		ret = siommu_domain_set_fault_handler(m->dom, mirror_fault_handler, m);
		if (ret)
			goto err_dom;
		m->handler = true;
	}
	ret = siommu_mm_notifier_register(mm, &mirror_mn_ops, m, &m->mn);
	if (ret)
		goto err_handler;
	mm_get(mm);
	*out = m;
	return 0;

err_handler:
	if (m->handler)
		siommu_domain_set_fault_handler(m->dom, NULL, NULL);
err_dom:
	siommu_domain_destroy(m->dom);
err_lock:
	siommu_mutex_destroy(&m->lock);
err_pt:
	siommu_pt_destroy(m->pt);
err_free:
	siommu_free(m);
	return ret;
}

SIOMMU_API int siommu_mirror_destroy(struct siommu_mirror *m)
{
	struct siommu_domain_info di;
	struct siommu_pt_gather g;
	struct siommu_pt_info pi;

	if (!m)
		return 0;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	if (siommu_domain_get_info(m->dom, &di) || di.users)
		return -EBUSY;
	/* No zap after this; then no fault handler call after the grace period. */
	siommu_mm_notifier_unregister(m->mn);
	if (m->handler)
		siommu_domain_set_fault_handler(m->dom, NULL, NULL);
	if (m->ext_clear)
		m->ext_clear(m->ext_opaque, m->dom);
	SIOMMU_WARN_ON(siommu_domain_destroy(m->dom) != 0);
	siommu_pt_get_info(m->pt, &pi);
	siommu_pt_gather_init(&g);
	siommu_pt_unmap(m->pt, 0, 1ull << pi.ias_lg2, &g);
	siommu_pt_gather_sync(&g, NULL, NULL, SIOMMU_PT_SYNC_WAIT);
	SIOMMU_WARN_ON(siommu_pt_destroy(m->pt) != 0);
	siommu_mutex_destroy(&m->lock);
	mm_put(m->mm);
	siommu_free(m);
	return 0;
}

SIOMMU_API struct siommu_domain *siommu_mirror_domain(struct siommu_mirror *m)
{
	return m ? m->dom : NULL;
}

SIOMMU_API struct siommu_pt *siommu_mirror_pt(struct siommu_mirror *m)
{
	return m ? m->pt : NULL;
}

SIOMMU_API int siommu_mirror_get_stats(struct siommu_mirror *m,
				       struct siommu_mirror_stats *out)
{
	if (!m || !out)
		return -EINVAL;
	out->faults = __atomic_load_n(&m->st.faults, __ATOMIC_RELAXED);
	out->maps_4k = __atomic_load_n(&m->st.maps_4k, __ATOMIC_RELAXED);
	out->maps_2m = __atomic_load_n(&m->st.maps_2m, __ATOMIC_RELAXED);
	out->maps_1g = __atomic_load_n(&m->st.maps_1g, __ATOMIC_RELAXED);
	out->retries = __atomic_load_n(&m->st.retries, __ATOMIC_RELAXED);
	out->eagain = __atomic_load_n(&m->st.eagain, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&m->st.errors, __ATOMIC_RELAXED);
	out->zaps = __atomic_load_n(&m->st.zaps, __ATOMIC_RELAXED);
	out->zapped_bytes = __atomic_load_n(&m->st.zapped_bytes, __ATOMIC_RELAXED);
	return 0;
}
