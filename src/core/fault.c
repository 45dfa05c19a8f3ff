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
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "core/core_internal.h"

#define CORE_RATE_WINDOW_NS	1000000000ull

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
	out->iotlb_hits = ts.hits - v[CORE_STAT_IOTLB_HIT_WALKS];
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
	return 0;
}
