// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unrecoverable faults: counters, a bounded rate-limited log, trace events.
 *
 * Every fault of a DMA is counted by reason (per-thread counters, no shared
 * write).  Then, under the log's lock (a leaf, taken on the fault path
 * only): if fewer than `rate` records were logged in the current one-second
 * window, the fault is recorded in the ring, replacing the oldest unread
 * record when the ring is full (counted as an overflow), and reported once
 * to the context's log sink and as an "io_page_fault" trace event, with no
 * lock held.  Over the rate it is only counted (ratelimited).  A storm of
 * faults thus costs a counter increment and a short critical section each,
 * and the log keeps the newest records: like the VT-d fault recording
 * registers with the overflow bit, plus Linux's ratelimited printing.
 *
 * Recoverable faults: a DMA's not-present or permission fault from a device
 * with SIOMMU_DEV_PRI in a PAGING domain with a fault handler goes to the
 * handler (the page request the iopf layer queues and later answers)
 * instead of the log.  The handler is called inside the read-side section
 * of the translation, so the domain it gets is alive; it is read with an
 * acquire load (fault_fn) that pairs with the release store of the setter,
 * after fault_opaque was written.  Removal clears fault_fn, waits for a
 * grace period (every call that loaded the old handler has returned) and
 * only then lets a new handler (and a new fault_opaque) be installed.
 *
 * This file also holds the fault reasons' names and errors (translate.c and
 * the log both use them).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "core/core_internal.h"

#define CORE_RATE_WINDOW_NS	1000000000ull

static const char *const reason_names[SIOMMU_FAULT_NR] = {
	[SIOMMU_FAULT_NONE] = "none",
	[SIOMMU_FAULT_NO_DOMAIN] = "no-domain",
	[SIOMMU_FAULT_BLOCKED] = "blocked",
	[SIOMMU_FAULT_OUT_OF_RANGE] = "out-of-range",
	[SIOMMU_FAULT_NOT_PRESENT] = "not-present",
	[SIOMMU_FAULT_PERMISSION] = "permission",
	[SIOMMU_FAULT_BAD_ADDRESS] = "bad-address",
};

SIOMMU_API const char *siommu_fault_reason_name(enum siommu_fault_reason r)
{
	if ((unsigned int)r >= SIOMMU_FAULT_NR)
		return NULL;
	return reason_names[r];
}

int core_fault_errno(enum siommu_fault_reason reason)
{
	switch (reason) {
	case SIOMMU_FAULT_NONE:
		return 0;
	case SIOMMU_FAULT_NO_DOMAIN:
		return -ENODATA;
	case SIOMMU_FAULT_BLOCKED:
		return -EPERM;
	case SIOMMU_FAULT_OUT_OF_RANGE:
		return -ERANGE;
	case SIOMMU_FAULT_NOT_PRESENT:
		return -ENOENT;
	case SIOMMU_FAULT_PERMISSION:
		return -EACCES;
	default:
		return -EFAULT;
	}
}

/* ------------------------------------------------------------------ recoverable */

SIOMMU_API int siommu_domain_set_fault_handler(struct siommu_domain *dom,
					       siommu_fault_handler_fn *fn,
					       void *opaque)
{
	int ret = 0;

	if (!dom || dom->type != SIOMMU_DOMAIN_PAGING)
		return -EINVAL;
	if (!fn && siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&dom->lock);
	if (fn) {
		if (dom->fault_fn || dom->fault_removing) {
			ret = -EBUSY;
		} else {
			dom->fault_opaque = opaque;
			/* @opaque before @fn: pairs with core_fault_recover_rcu(). */
			siommu_store_release(&dom->fault_fn, fn);
		}
		siommu_mutex_unlock(&dom->lock);
		return ret;
	}
	if (!dom->fault_fn || dom->fault_removing) {
		siommu_mutex_unlock(&dom->lock);
		return -ENOENT;
	}
	siommu_store_release(&dom->fault_fn, NULL);
	dom->fault_removing = true;
	siommu_mutex_unlock(&dom->lock);
	/* Every DMA that loaded the old handler leaves its section first. */
#if SIOMMU_TESTING_BUILD
	if (!dom->test_skip_grace)	/* tests: the broken variant */
#endif
		siommu_rcu_synchronize();
	siommu_mutex_lock(&dom->lock);
	dom->fault_removing = false;
	siommu_mutex_unlock(&dom->lock);
	return 0;
}

int core_fault_recover_rcu(struct siommu_device *dev, struct siommu_domain *dom,
			   uint32_t pasid, uint64_t iova, unsigned int access,
			   enum siommu_fault_reason reason)
{
	struct siommu_iommu *iommu = dev->iommu;
	struct siommu_fault_info f;
	siommu_fault_handler_fn *fn;
	int ret;

	if (!(dev->flags & SIOMMU_DEV_PRI) || !dom ||
	    (reason != SIOMMU_FAULT_NOT_PRESENT &&
	     reason != SIOMMU_FAULT_PERMISSION))
		return -1;
	fn = siommu_load_acquire(&dom->fault_fn);
	if (!fn)
		return -1;
	f = (struct siommu_fault_info){ .dev = dev, .dom = dom, .pasid = pasid,
					.iova = iova, .access = access,
					.reason = reason };
	siommu_stats_inc(iommu->stats, CORE_STAT_FAULTS_RECOVERABLE);
	ret = fn(siommu_load_relaxed(&dom->fault_opaque), &f);
	if (ret == SIOMMU_IOPF_QUEUED) {
		siommu_stats_inc(iommu->stats, CORE_STAT_FAULT0 + reason);
		siommu_stats_inc(iommu->stats, CORE_STAT_PAGE_REQUESTS);
		return ret;
	}
	if (ret == SIOMMU_IOPF_RESOLVED) {
		siommu_stats_inc(iommu->stats, CORE_STAT_FAULT0 + reason);
		siommu_stats_inc(iommu->stats, CORE_STAT_FAULTS_RESOLVED);
		return ret;
	}
	return -1;	/* unrecoverable: the caller records it (and counts it) */
}

/* ------------------------------------------------------------------ the log */

int core_flog_init(struct core_fault_log *fl, uint32_t size, uint32_t rate)
{
	fl->ring = siommu_calloc(size, sizeof(*fl->ring));
	if (!fl->ring)
		return -ENOMEM;
	fl->size = size;
	fl->rate = rate;
	siommu_mutex_init(&fl->lock, "core.faultlog", SIOMMU_RANK_CORE_FAULT);
	return 0;
}

void core_flog_fini(struct core_fault_log *fl)
{
	siommu_mutex_destroy(&fl->lock);
	siommu_free(fl->ring);
}

static const char *access_name(unsigned int access)
{
	if (access & SIOMMU_ACC_WRITE)
		return "DMA Write";
	if (access & SIOMMU_ACC_EXEC)
		return "DMA Exec";
	return "DMA Read";
}

void core_record_fault(struct siommu_iommu *iommu, struct siommu_device *dev,
		       uint32_t pasid, uint64_t iova, unsigned int access,
		       enum siommu_fault_reason reason)
{
	struct core_fault_log *fl = &iommu->flog;
	struct siommu_fault_record *r;
	uint64_t now = core_now_ns();
	bool logged = false;

	if ((unsigned int)reason >= SIOMMU_FAULT_NR)
		reason = SIOMMU_FAULT_BAD_ADDRESS;
	siommu_stats_inc(iommu->stats, CORE_STAT_FAULT0 + reason);

	siommu_mutex_lock(&fl->lock);
	if (now - fl->window_ns >= CORE_RATE_WINDOW_NS) {
		fl->window_ns = now;
		fl->in_window = 0;
	}
	if (fl->in_window < fl->rate && fl->size) {
		fl->in_window++;
		if (fl->count == fl->size) {
			/* Full: the newest replaces the oldest. */
			fl->head = (fl->head + 1) % fl->size;
			fl->count--;
			siommu_stats_inc(iommu->stats, CORE_STAT_FAULTS_OVERFLOW);
		}
		r = &fl->ring[(fl->head + fl->count) % fl->size];
		fl->count++;
		r->seq = ++fl->seq;
		r->ts_ns = now;
		r->rid = dev->rid;
		r->pasid = pasid;
		r->iova = iova;
		r->access = access;
		r->reason = reason;
		logged = true;
	}
	siommu_mutex_unlock(&fl->lock);

	if (!logged) {
		siommu_stats_inc(iommu->stats, CORE_STAT_FAULTS_RATELIMITED);
		return;
	}
	siommu_stats_inc(iommu->stats, CORE_STAT_FAULTS_LOGGED);
	if (pasid == SIOMMU_NO_PASID)
		siommu_warn(iommu->ctx,
			    "[%s NO_PASID] Request device [%s] fault addr 0x%" PRIx64
			    " [fault reason %s]",
			    access_name(access), dev->name, iova,
			    siommu_fault_reason_name(reason));
	else
		siommu_warn(iommu->ctx,
			    "[%s PASID 0x%x] Request device [%s] fault addr 0x%" PRIx64
			    " [fault reason %s]",
			    access_name(access), pasid, dev->name, iova,
			    siommu_fault_reason_name(reason));
	if (siommu_trace_enabled(iommu->ctx)) {
		struct siommu_trace_event ev = {
			.type = SIOMMU_TRACE_IO_PAGE_FAULT,
			.device = dev->name,
			.driver = "softiommu",
			.iova = iova,
			.flags = (int)access,
		};

		siommu_trace_emit(iommu->ctx, &ev);
	}
}

SIOMMU_API int siommu_fault_log_read(struct siommu_iommu *iommu,
				     struct siommu_fault_record *out,
				     unsigned int max)
{
	struct core_fault_log *fl;
	unsigned int n = 0;

	if (!iommu || (!out && max))
		return -EINVAL;
	fl = &iommu->flog;
	siommu_mutex_lock(&fl->lock);
	while (n < max && fl->count) {
		out[n++] = fl->ring[fl->head];
		fl->head = (fl->head + 1) % fl->size;
		fl->count--;
	}
	siommu_mutex_unlock(&fl->lock);
	return (int)n;
}

SIOMMU_API int siommu_iommu_get_stats(struct siommu_iommu *iommu,
				      struct siommu_iommu_stats *out)
{
	struct siommu_iotlb_stats ts;
	uint64_t v[CORE_STAT_NR];
	unsigned int i;

	if (!iommu || !out)
		return -EINVAL;
	siommu_stats_read_all(iommu->stats, v);
	memset(out, 0, sizeof(*out));
	siommu_iotlb_get_stats(iommu->iotlb, &ts);
	/* The hint is a copy of an IOTLB entry, checked against it: a hit. */
	out->iotlb_hits = ts.hits - v[CORE_STAT_IOTLB_HIT_WALKS] + v[CORE_STAT_HINT_HITS];
	out->iotlb_misses = v[CORE_STAT_WALKS];
	out->translations = out->iotlb_hits + out->iotlb_misses;
	for (i = 0; i < SIOMMU_FAULT_NR; i++)
		out->faults[i] = v[CORE_STAT_FAULT0 + i];
	out->faults_logged = v[CORE_STAT_FAULTS_LOGGED];
	out->faults_ratelimited = v[CORE_STAT_FAULTS_RATELIMITED];
	out->faults_overflow = v[CORE_STAT_FAULTS_OVERFLOW];
	out->dma_ops = v[CORE_STAT_DMA_OPS];
	out->dma_read_bytes = v[CORE_STAT_DMA_READ_BYTES];
	out->dma_write_bytes = v[CORE_STAT_DMA_WRITE_BYTES];
	out->maps = v[CORE_STAT_MAPS];
	out->unmaps_strict = v[CORE_STAT_UNMAPS_STRICT];
	out->unmaps_lazy = v[CORE_STAT_UNMAPS_LAZY];
	out->fq_batches = v[CORE_STAT_FQ_BATCHES];
	out->fq_entries = v[CORE_STAT_FQ_ENTRIES];
	out->faults_recoverable = v[CORE_STAT_FAULTS_RECOVERABLE];
	out->page_requests = v[CORE_STAT_PAGE_REQUESTS];
	out->faults_resolved = v[CORE_STAT_FAULTS_RESOLVED];
	return 0;
}
