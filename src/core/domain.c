// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Domains: create/destroy, map/unmap through the core, strict and lazy
 * unmap, the flush queue.
 *
 * Strict unmap, in order (the contract of include/softiommu/core.h):
 *   1. siommu_pt_unmap() clears the entries (and detaches whole table
 *      pages into a gather);
 *   2. the IOTLB is invalidated for the range (core_inval(), called by
 *      siommu_pt_gather_sync()), so no lookup that starts afterwards hits
 *      the old translation, and no walk that started before can insert it
 *      (the IOTLB's seq_begin/insert generations, see translate.c);
 *   3. siommu_rcu_synchronize(): every read-side section that was running
 *      at step 2 has ended;
 *      A DMA holds one section across its translate and its copy, so every
 *      DMA that may have obtained the old translation (by a walk before
 *      step 1 or an IOTLB hit before step 2) has finished copying;
 *   4. the gather's detached table pages are freed (steps 2 to 4 are one
 *      siommu_pt_gather_sync(SIOMMU_PT_SYNC_WAIT) call when there are
 *      pages);
 *   5. siommu_domain_dma_unmap() releases the IOVA; return: the caller may
 *      free or reuse the memory.
 * Skipping step 3 is the broken variant the stress test must catch
 * (core_test_set_skip_grace()).
 *
 * Lazy unmap: steps 1, then the gather goes into the domain's flush queue
 * and unmap returns.  The queue is drained when it holds fq_batch entries
 * (by the unmap that fills it), when its oldest entry has waited
 * fq_timeout (by the IOMMU's flusher thread), or by siommu_domain_flush().  A drain takes the whole list out under the queue
 * lock, invalidates the domain's IOTLB entries once (as Linux's flush queue
 * does a full flush per batch), then syncs each gather without waiting
 * (table pages freed by RCU callbacks).  Until the drain, a DMA may still
 * hit an old IOTLB entry: the caller must not reuse memory it unmapped
 * lazily before a drain and a grace period (siommu_domain_flush() then
 * siommu_synchronize()).
 *
 * Unmap never allocates (so it never fails for lack of memory): mapping
 * records are cut without splitting (maps.c), a dma_unmap's record was
 * allocated by its dma_map, and a lazy unmap without a spare queue entry
 * that cannot get one is done strictly.
 *
 * Nothing here waits for a grace period while holding a lock: a reader
 * may take iommu->lock, dev->lock, dom->lock and maps_lock inside its
 * section (device_find, attach, create, map), so a wait under any of them
 * can deadlock against that reader.  The flusher and the revoke notifier
 * therefore pin each domain under iommu->lock and work on it unlocked.
 *
 * Destroy: a domain with users is refused.  Otherwise it is marked dying
 * (no new users), destroy waits until no flusher or revoke notifier has it
 * pinned, unlinks it, drains its queue, waits for a grace period
 * (translates that loaded it from an attachment before its last detach
 * have finished), drops its IOTLB entries, frees (or lets go of) its
 * table, and last releases its domain id for reuse.
 */
#include <errno.h>
#include <string.h>

#include "core/core_internal.h"

static void fq_spare_free(struct siommu_domain *dom);

#define CORE_FQ_DEFAULT_BATCH	256
#define CORE_FQ_DEFAULT_MS	10
#define CORE_DOMID_MAX		0xffffu		/* 16-bit, as VT-d's; recycled */

static const char *const type_names[] = {
	[SIOMMU_DOMAIN_BLOCKED] = "blocked",
	[SIOMMU_DOMAIN_IDENTITY] = "identity",
	[SIOMMU_DOMAIN_PAGING] = "paging",
};

SIOMMU_API const char *siommu_domain_type_name(enum siommu_domain_type type)
{
	if ((unsigned int)type < SIOMMU_DOMAIN_BLOCKED ||
	    (unsigned int)type > SIOMMU_DOMAIN_PAGING)
		return NULL;
	return type_names[type];
}

SIOMMU_API int siommu_domain_type_parse(const char *name,
					enum siommu_domain_type *type)
{
	unsigned int i;

	if (!name || !type)
		return -EINVAL;
	for (i = SIOMMU_DOMAIN_BLOCKED; i <= SIOMMU_DOMAIN_PAGING; i++) {
		if (!strcmp(type_names[i], name)) {
			*type = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ pins */

struct siommu_domain *core_domain_next_pinned_locked(struct siommu_iommu *iommu,
						     struct siommu_domain *prev)
{
	struct cds_list_head *pos;
	struct siommu_domain *dom = NULL;

	siommu_assert_held(&iommu->lock);
	/* @prev is pinned, so destroy has not unlinked it: its next is valid. */
	for (pos = prev ? prev->node.next : iommu->domains.next;
	     pos != &iommu->domains; pos = pos->next) {
		struct siommu_domain *d = cds_list_entry(pos, struct siommu_domain, node);

		if (!d->destroying) {
			d->pins++;
			dom = d;
			break;
		}
	}
	if (prev && --prev->pins == 0 && prev->destroying)
		pthread_cond_broadcast(&prev->unpin_cond);
	return dom;
}

/* ------------------------------------------------------------------ flusher thread */

/*
 * The IOMMU's flusher thread drains lazy domains whose oldest queued unmap
 * has waited its timeout.  It holds iommu->lock only to walk the domain
 * list: each domain is pinned (destroy waits for the pin) and drained with
 * no core lock held (a drain never waits for a grace period, but no work
 * is done under a lock that a reader may take).
 *
 * Sleeping.  While some queue holds entries it sleeps until the earliest
 * one is due.  When every queue is empty it lingers one more period
 * (CORE_FLUSHER_LINGER_NS) and only then goes idle (an untimed wait), so
 * that a stream of lazy unmaps, whose queues empty at every count drain,
 * does not pay a wake-up per batch.
 *
 * Waking the flusher early without losing the wake-up and without taking
 * iommu->lock on every unmap.  fq_wake_ns is when the flusher scans next
 * (0 while it scans, UINT64_MAX while idle).  An unmap that makes a queue
 * non-empty, due at D, bumps fq_kicks, then reads fq_wake_ns, and signals
 * (under iommu->lock) only if the flusher would wake after D: a domain
 * with a short timeout is not kept waiting by another domain's long one
 * (before, only an idle flusher was woken, and a 1 ms queue waited for a
 * 3 s one).  The flusher stores fq_wake_ns, then re-reads fq_kicks, and
 * sleeps only if no kick came since it began its scan.  All four accesses
 * are sequentially consistent (a store-buffering pair): either the flusher
 * sees the kick and scans again, or the unmap sees the new fq_wake_ns and
 * signals if it must; the signal cannot come before the wait, since the
 * flusher holds iommu->lock from that store until the wait releases it.
 * An unmap that reads 0 (scanning) needs no signal: the flusher re-reads
 * fq_kicks after its scan.
 */
#define CORE_FLUSHER_LINGER_NS	10000000ull

/* Drain what is due; returns the earliest due time left (UINT64_MAX: none). */
static uint64_t flusher_scan_locked(struct siommu_iommu *iommu, uint64_t now)
{
	struct siommu_domain *dom;
	uint64_t next = UINT64_MAX, due;

	siommu_assert_held(&iommu->lock);
	for (dom = core_domain_next_pinned_locked(iommu, NULL); dom;
	     dom = core_domain_next_pinned_locked(iommu, dom)) {
		if (dom->type != SIOMMU_DOMAIN_PAGING ||
		    dom->unmap_mode != SIOMMU_UNMAP_LAZY)
			continue;
		siommu_mutex_lock(&dom->fq.lock);
		due = dom->fq.count ? dom->fq.oldest_ns + dom->fq.timeout_ns : UINT64_MAX;
		siommu_mutex_unlock(&dom->fq.lock);
		if (due <= now) {
			siommu_mutex_unlock(&iommu->lock);
			core_fq_drain(dom);	/* pinned: not destroyed meanwhile */
			siommu_mutex_lock(&iommu->lock);
			continue;
		}
		if (due < next)
			next = due;
	}
	return next;
}

static void *flusher_main(void *arg)
{
	struct siommu_iommu *iommu = arg;
	bool lingered = false;
	struct timespec ts;
	uint64_t kicks, now, next;

	siommu_mutex_lock(&iommu->lock);
	while (!iommu->fq_stop) {
		__atomic_store_n(&iommu->fq_wake_ns, 0, __ATOMIC_SEQ_CST);
		kicks = __atomic_load_n(&iommu->fq_kicks, __ATOMIC_SEQ_CST);
		now = core_now_ns();
		next = flusher_scan_locked(iommu, now);
		if (iommu->fq_stop)
			break;
		if (next == UINT64_MAX && !lingered) {
			lingered = true;
			next = now + CORE_FLUSHER_LINGER_NS;
		} else if (next != UINT64_MAX) {
			lingered = false;
		}
		/* Pairs with the fetch_add and load in core_flusher_kick(). */
		__atomic_store_n(&iommu->fq_wake_ns, next, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&iommu->fq_kicks, __ATOMIC_SEQ_CST) != kicks)
			continue;
		/* The lock is ours again when the wait returns (lockdep agrees). */
		if (next == UINT64_MAX) {
			pthread_cond_wait(&iommu->fq_cond, &iommu->lock.m);
			lingered = false;
			continue;
		}
		/* fq_cond uses CLOCK_MONOTONIC (see flusher_start_locked()). */
		ts.tv_sec = (time_t)(next / 1000000000ull);
		ts.tv_nsec = (long)(next % 1000000000ull);
		pthread_cond_timedwait(&iommu->fq_cond, &iommu->lock.m, &ts);
	}
	siommu_mutex_unlock(&iommu->lock);
	return NULL;
}

/* A pthread error as one of the library's errors. */
static int core_pthread_err(int err)
{
	return err == EAGAIN ? -EAGAIN : -ENOMEM;
}

/*
 * pthread_cond_init() may fail (ENOMEM, EAGAIN); testing builds make it
 * fail like an allocation (fail-nth), so that the error paths are swept.
 */
static int core_cond_init(pthread_cond_t *cond, const pthread_condattr_t *attr)
{
	if (siommu_should_fail())
		return ENOMEM;
	return pthread_cond_init(cond, attr);
}

/* Context: holds iommu->lock. */
static int flusher_start_locked(struct siommu_iommu *iommu)
{
	pthread_condattr_t attr;
	int ret;

	siommu_assert_held(&iommu->lock);
	if (iommu->fq_thread_running)
		return 0;
	ret = pthread_condattr_init(&attr);
	if (ret)
		return core_pthread_err(ret);
	ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!ret)
		ret = core_cond_init(&iommu->fq_cond, &attr);
	pthread_condattr_destroy(&attr);
	if (ret)
		return core_pthread_err(ret);
	iommu->fq_stop = false;
	ret = pthread_create(&iommu->fq_thread, NULL, flusher_main, iommu);
	if (ret) {
		pthread_cond_destroy(&iommu->fq_cond);
		return core_pthread_err(ret);
	}
	iommu->fq_thread_running = true;
	return 0;
}

/* A queue became non-empty, its entry due at @due_ns.  Context: no core lock held. */
void core_flusher_kick(struct siommu_iommu *iommu, uint64_t due_ns)
{
	/* Pairs with the store and load in flusher_main(). */
	__atomic_fetch_add(&iommu->fq_kicks, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&iommu->fq_wake_ns, __ATOMIC_SEQ_CST) <= due_ns)
		return;		/* scanning (0), or waking up in time */
	siommu_mutex_lock(&iommu->lock);
	if (iommu->fq_thread_running)
		pthread_cond_signal(&iommu->fq_cond);
	siommu_mutex_unlock(&iommu->lock);
}

void core_flusher_stop(struct siommu_iommu *iommu)
{
	bool running;

	siommu_mutex_lock(&iommu->lock);
	running = iommu->fq_thread_running;
	iommu->fq_stop = true;
	if (running)
		pthread_cond_signal(&iommu->fq_cond);
	siommu_mutex_unlock(&iommu->lock);
	if (!running)
		return;
	pthread_join(iommu->fq_thread, NULL);
	pthread_cond_destroy(&iommu->fq_cond);
	iommu->fq_thread_running = false;
}

/* ------------------------------------------------------------------ domain ids */

/*
 * PAGING domain ids tag IOTLB entries.  They are recycled, lowest free
 * first, but an id is released only at the very end of destroy: after the
 * grace period that outlasts every walk of the domain (so no insert of the
 * old domain can come later) and after its IOTLB entries were dropped, so
 * no IOTLB entry of the old domain can exist when a new one gets the id.
 * A bitmap under iommu->lock; freed when no id is in use (so the IOMMU's
 * destroy, which needs no domain left, has nothing to free).
 */
static int domid_alloc_locked(struct siommu_iommu *iommu, uint32_t *out)
{
	uint32_t w, words;
	uint64_t *map;

	siommu_assert_held(&iommu->lock);
	for (w = 0; w < iommu->domid_words; w++) {
		uint64_t free = ~iommu->domids[w];

		if (!w)
			free &= ~1ull;		/* id 0: not a PAGING domain */
		if (free) {
			uint32_t id = w * 64 + (uint32_t)__builtin_ctzll(free);

			if (id > CORE_DOMID_MAX)
				return -ENOSPC;
			iommu->domids[w] |= 1ull << (id % 64);
			iommu->domids_used++;
			*out = id;
			return 0;
		}
	}
	if ((uint64_t)iommu->domid_words * 64 > CORE_DOMID_MAX)
		return -ENOSPC;
	words = iommu->domid_words ? iommu->domid_words * 2 : 1;
	if ((uint64_t)words * 64 > (uint64_t)CORE_DOMID_MAX + 1)
		words = (uint32_t)(((uint64_t)CORE_DOMID_MAX + 1) / 64);
	map = siommu_calloc(words, sizeof(*map));
	if (!map)
		return -ENOMEM;
	if (iommu->domid_words)
		memcpy(map, iommu->domids, iommu->domid_words * sizeof(*map));
	siommu_free(iommu->domids);
	iommu->domids = map;
	iommu->domid_words = words;
	return domid_alloc_locked(iommu, out);
}

static void domid_release(struct siommu_iommu *iommu, uint32_t id)
{
	siommu_mutex_lock(&iommu->lock);
	SIOMMU_WARN_ON(!(iommu->domids[id / 64] & (1ull << (id % 64))));
	iommu->domids[id / 64] &= ~(1ull << (id % 64));
	if (!--iommu->domids_used) {
		siommu_free(iommu->domids);
		iommu->domids = NULL;
		iommu->domid_words = 0;
	}
	siommu_mutex_unlock(&iommu->lock);
}

/* ------------------------------------------------------------------ create/destroy */

/* Let go of the table: destroy ours, stop using the caller's. */
static void domain_pt_release(struct siommu_domain *dom)
{
	if (dom->pt_external)
		SIOMMU_WARN_ON(siommu_pt_unhold(dom->pt) != 0);
	else
		SIOMMU_WARN_ON(siommu_pt_destroy(dom->pt) != 0);
}

static int paging_init(struct siommu_domain *dom,
		       const struct siommu_domain_cfg *cfg)
{
	struct siommu_iommu *iommu = dom->iommu;
	struct siommu_iova_config icfg = { 0 };
	struct siommu_pt_cfg pcfg = { 0 };
	struct siommu_pt_info info;
	int ret;

	if (cfg->unmap_mode != SIOMMU_UNMAP_STRICT &&
	    cfg->unmap_mode != SIOMMU_UNMAP_LAZY)
		return -EINVAL;
	if (cfg->pt) {
		/* A table the caller owns (SVA, mirrors): used as it is. */
		ret = siommu_pt_get_info(cfg->pt, &info);
		if (ret)
			return ret;
		if (info.oas_lg2 > iommu->caps.oas_lg2)
			return -ERANGE;
		/* A user of the table: its destroy is -EBUSY until ours. */
		SIOMMU_WARN_ON(siommu_pt_hold(cfg->pt) != 0);
		dom->pt = cfg->pt;
		dom->pt_external = true;
		goto have_table;
	}
	pcfg.fmt = cfg->fmt;
	pcfg.levels = cfg->levels;
	pcfg.flags = cfg->pt_flags;
	pcfg.pgsize_bitmap = iommu->caps.pgsize_bitmap;
	pcfg.table_phys_base = cfg->table_phys_base;
	pcfg.max_table_pages = cfg->max_table_pages;	/* checked by the table */
	ret = siommu_pt_create(iommu->ctx, &pcfg, &dom->pt);
	if (ret)
		return ret;
	siommu_pt_get_info(dom->pt, &info);
	if (info.oas_lg2 > iommu->caps.oas_lg2) {
		/* Let the table refuse output addresses the IOMMU cannot emit. */
		siommu_pt_destroy(dom->pt);
		pcfg.oas_lg2 = iommu->caps.oas_lg2;
		ret = siommu_pt_create(iommu->ctx, &pcfg, &dom->pt);
		if (ret)
			return ret;
		siommu_pt_get_info(dom->pt, &info);
	}
have_table:
	dom->ias_lg2 = info.ias_lg2 < iommu->caps.ias_lg2 ? info.ias_lg2 :
			iommu->caps.ias_lg2;
	icfg.start = 1ull << 12;	/* IOVA 0 is never handed out */
	icfg.last = dom->ias_lg2 >= 64 ? UINT64_MAX : (1ull << dom->ias_lg2) - 1;
	icfg.granule_lg2 = 12;
	ret = siommu_iova_space_create(iommu->ctx, &icfg, &dom->iovas);
	if (ret) {
		domain_pt_release(dom);
		return ret;
	}
	dom->unmap_mode = cfg->unmap_mode;
	siommu_mutex_init(&dom->fq.lock, "core.fq", SIOMMU_RANK_CORE_FQ);
	CDS_INIT_LIST_HEAD(&dom->fq.entries);
	CDS_INIT_LIST_HEAD(&dom->fq.spare);
	dom->fq.batch = cfg->fq_batch ? cfg->fq_batch : CORE_FQ_DEFAULT_BATCH;
	dom->fq.timeout_ns = (uint64_t)(cfg->fq_timeout_ms ? cfg->fq_timeout_ms :
					CORE_FQ_DEFAULT_MS) * 1000000ull;
	return 0;
}

SIOMMU_API int siommu_domain_create(struct siommu_iommu *iommu,
				    const struct siommu_domain_cfg *cfg,
				    struct siommu_domain **out)
{
	struct siommu_domain *dom;
	int ret;

	if (!iommu || !cfg || !out || !siommu_domain_type_name(cfg->type))
		return -EINVAL;
	dom = siommu_zalloc(sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	dom->iommu = iommu;
	dom->type = cfg->type;
	dom->ias_lg2 = iommu->caps.oas_lg2;	/* identity: out = in */
	siommu_mutex_init(&dom->lock, "core.domain", SIOMMU_RANK_CORE_DOMAIN);
	CDS_INIT_LIST_HEAD(&dom->fq.entries);
	CDS_INIT_LIST_HEAD(&dom->fq.spare);
	siommu_mutex_init(&dom->maps_lock, "core.maps", SIOMMU_RANK_CORE_MAPS);
	RB_INIT(&dom->maps);
	RB_INIT(&dom->dmas);
	dom->track_maps = cfg->type == SIOMMU_DOMAIN_PAGING && iommu->mem;
	ret = core_cond_init(&dom->unpin_cond, NULL);
	if (ret) {
		ret = core_pthread_err(ret);
		goto err_free;
	}
	if (cfg->type == SIOMMU_DOMAIN_PAGING) {
		ret = paging_init(dom, cfg);
		if (ret)
			goto err_cond;
	}

	siommu_mutex_lock(&iommu->lock);
	if (dom->type == SIOMMU_DOMAIN_PAGING) {
		if (dom->unmap_mode == SIOMMU_UNMAP_LAZY) {
			ret = flusher_start_locked(iommu);
			if (ret)
				goto err_unlock;
		}
		/* Recycled only once no IOTLB entry of it can exist (destroy). */
		ret = domid_alloc_locked(iommu, &dom->domid);
		if (ret)
			goto err_unlock;
		dom->domid_held = true;
	}
	cds_list_add_tail(&dom->node, &iommu->domains);
	iommu->nr_domains++;
	siommu_mutex_unlock(&iommu->lock);
	*out = dom;
	return 0;

err_unlock:
	siommu_mutex_unlock(&iommu->lock);
	siommu_iova_space_destroy(dom->iovas);
	domain_pt_release(dom);
err_cond:
	pthread_cond_destroy(&dom->unpin_cond);
err_free:
	siommu_mutex_destroy(&dom->maps_lock);
	siommu_mutex_destroy(&dom->lock);
	siommu_free(dom);
	return ret;
}

/* A layer's private data is set on @dom: the layer still uses it. */
static bool domain_has_priv(struct siommu_domain *dom)
{
	unsigned int i;

	for (i = 0; i < SIOMMU_LAYERS_MAX; i++)
		if (siommu_load_acquire(&dom->priv[i]))
			return true;
	return false;
}

SIOMMU_API int siommu_domain_destroy(struct siommu_domain *dom)
{
	struct siommu_iommu *iommu;

	if (!dom)
		return 0;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	iommu = dom->iommu;
	siommu_mutex_lock(&iommu->lock);
	siommu_mutex_lock(&dom->lock);
	if (dom->users || domain_has_priv(dom)) {
		siommu_mutex_unlock(&dom->lock);
		siommu_mutex_unlock(&iommu->lock);
		return -EBUSY;
	}
	dom->dying = true;
	siommu_mutex_unlock(&dom->lock);
	/*
	 * The flusher and the revoke notifier work on a domain with no core
	 * lock held, pinned: wait until none does (they never wait for a grace
	 * period, so this is short), then unlink.
	 */
	dom->destroying = true;
	while (dom->pins)
		pthread_cond_wait(&dom->unpin_cond, &iommu->lock.m);
	cds_list_del(&dom->node);
	iommu->nr_domains--;
	siommu_mutex_unlock(&iommu->lock);

	if (dom->type == SIOMMU_DOMAIN_PAGING) {
		core_fq_drain(dom);
		fq_spare_free(dom);
		/* DMA that loaded @dom before its last detach has finished. */
#if SIOMMU_TESTING_BUILD
		if (!dom->test_skip_grace)	/* tests: the broken variant */
#endif
			siommu_rcu_synchronize();
		siommu_iotlb_inv_domain(iommu->iotlb, dom->domid);
		domain_pt_release(dom);
		siommu_iova_free_all(dom->iovas);
		SIOMMU_WARN_ON(siommu_iova_space_destroy(dom->iovas) != 0);
		siommu_mutex_destroy(&dom->fq.lock);
		/* No walk of @dom is left and its IOTLB entries are gone. */
		if (dom->domid_held)
			domid_release(iommu, dom->domid);
	} else {
		siommu_rcu_synchronize();
	}
	core_maps_free(dom);
	core_dma_free_all(dom);
	pthread_cond_destroy(&dom->unpin_cond);
	siommu_mutex_destroy(&dom->maps_lock);
	siommu_mutex_destroy(&dom->lock);
	siommu_free(dom);
	return 0;
}

SIOMMU_API int siommu_domain_get_info(struct siommu_domain *dom,
				      struct siommu_domain_info *out)
{
	if (!dom || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->type = dom->type;
	out->domid = dom->domid;
	out->ias_lg2 = dom->ias_lg2;
	out->unmap_mode = dom->unmap_mode;
	out->users = siommu_load_relaxed(&dom->users);
	if (dom->type == SIOMMU_DOMAIN_PAGING) {
		siommu_mutex_lock(&dom->fq.lock);
		out->fq_pending = dom->fq.count;
		siommu_mutex_unlock(&dom->fq.lock);
	}
	return 0;
}

SIOMMU_API struct siommu_pt *siommu_domain_pt(struct siommu_domain *dom)
{
	return dom ? dom->pt : NULL;
}

/* ------------------------------------------------------------------ map/unmap */

/*
 * Map with a memory map (revocation, seed 003).  A map must either be seen
 * by the revoke notifier or see the region revoked: maps_lock is held from
 * the revoked check until the leaves are published and the record added,
 * and the notifier takes maps_lock after the region's revoked flag was set.
 * If the notifier took it first, the flag's store happened before this
 * map's check (lock order), which refuses with -ENODEV; otherwise the
 * notifier finds the leaves and the record.  Allocations (the record and a
 * spare for splitting one around a hole) come first: unmap never
 * allocates.
 */
static int map_tracked(struct siommu_domain *dom, uint64_t iova, uint64_t last,
		       uint64_t pa, uint64_t size, unsigned int prot)
{
	struct core_map_rec *rec, *spare;
	int ret;

	rec = siommu_zalloc(sizeof(*rec));
	spare = siommu_zalloc(sizeof(*spare));
	if (!rec || !spare) {
		siommu_free(rec);
		siommu_free(spare);
		return -ENOMEM;
	}
	siommu_mutex_lock(&dom->maps_lock);
	ret = siommu_mem_check_range(dom->iommu->mem, pa, size);
	if (!ret)
		ret = siommu_pt_map(dom->pt, iova, pa, size, prot);
	if (!ret) {
		dom->mapped = true;
		if (!dom->owner_fn) {	/* an owner records its own mappings */
			rec->iova = iova;
			rec->last = last;
			rec->pa = pa;
			core_maps_insert_locked(dom, rec, &spare);
			rec = NULL;
		}
	}
	siommu_mutex_unlock(&dom->maps_lock);
	siommu_free(rec);
	siommu_free(spare);
	return ret;
}

SIOMMU_API int siommu_domain_map(struct siommu_domain *dom, uint64_t iova,
				 uint64_t pa, uint64_t size, unsigned int prot)
{
	uint64_t last = 0;
	int ret;

	if (!dom || dom->type != SIOMMU_DOMAIN_PAGING)
		return -EINVAL;
	if (size && (siommu_add_overflow(iova, size - 1, &last) ||
		     (dom->ias_lg2 < 64 && last >> dom->ias_lg2)))
		return -ERANGE;
	if (dom->track_maps && size)
		ret = map_tracked(dom, iova, last, pa, size, prot);
	else
		ret = siommu_pt_map(dom->pt, iova, pa, size, prot);
	if (ret == -EEXIST && size) {
		/*
		 * A map that lost against an overlapping concurrent writer
		 * removed leaves that were briefly visible (the table bumped
		 * its sequence): drop what a walk may have cached meanwhile.
		 */
		core_inval(dom, iova, last, 0);
	}
	if (ret)
		return ret;
	siommu_stats_inc(dom->iommu->stats, CORE_STAT_MAPS);
	if (siommu_trace_enabled(dom->iommu->ctx)) {
		struct siommu_trace_event ev = {
			.type = SIOMMU_TRACE_MAP,
			.iova = iova,
			.paddr = pa,
			.size = size,
		};

		siommu_trace_emit(dom->iommu->ctx, &ev);
	}
	return 0;
}

SIOMMU_API int siommu_domain_set_revoke_owner(struct siommu_domain *dom,
					      siommu_domain_revoke_fn *fn,
					      void *opaque)
{
	int ret = 0;

	if (!dom || dom->type != SIOMMU_DOMAIN_PAGING || !fn)
		return -EINVAL;
	siommu_mutex_lock(&dom->maps_lock);
	if (dom->owner_fn || dom->mapped) {
		ret = -EBUSY;
	} else {
		dom->owner_fn = fn;
		dom->owner_opaque = opaque;
	}
	siommu_mutex_unlock(&dom->maps_lock);
	return ret;
}

/* IOTLB invalidation for a gather (siommu_pt_inval_fn). */
void core_inval(void *opaque, uint64_t iova, uint64_t last, unsigned int flags)
{
	struct siommu_domain *dom = opaque;

	siommu_iotlb_inv_range(dom->iommu->iotlb, dom->domid,
			       SIOMMU_IOTLB_PASID_ANY, iova, last - iova + 1);
}

#if SIOMMU_TESTING_BUILD
void core_test_set_skip_grace(struct siommu_domain *dom, bool skip)
{
	dom->test_skip_grace = skip;
}
#endif

static void unmap_strict(struct siommu_domain *dom, struct siommu_pt_gather *g,
			 bool unmapped)
{
	bool wait = unmapped;	/* no translation removed: no DMA to wait for */

#if SIOMMU_TESTING_BUILD
	if (dom->test_skip_grace)	/* deliberately broken (tests only) */
		wait = false;
#endif
	if (wait && g->head) {
		/*
		 * Steps 2 to 4 and the free in one call: invalidate, wait for a
		 * grace period (every DMA that may hold the old translation has
		 * finished), free the detached table pages before returning.
		 */
		SIOMMU_WARN_ON(siommu_pt_gather_sync(g, core_inval, dom,
						     SIOMMU_PT_SYNC_WAIT) != 0);
		return;
	}
	/* Steps 2 and 3: invalidate (no table pages to free, or not waiting). */
	SIOMMU_WARN_ON(siommu_pt_gather_sync(g, core_inval, dom, 0) != 0);
	if (!wait)
		return;
	siommu_debug_yield(SIOMMU_YIELD_RECLAIM);
	/* Step 4: wait out every DMA that may hold the old translation. */
	siommu_rcu_synchronize();
}

/*
 * Drained entries are kept for reuse (up to a batch), so that a lazy unmap
 * allocates nothing once the queue has cycled: Linux's flush queues are
 * preallocated rings for the same reason.
 */
static void fq_spare_free(struct siommu_domain *dom)
{
	struct core_fq_entry *e, *tmp;

	cds_list_for_each_entry_safe(e, tmp, &dom->fq.spare, node)
		siommu_free(e);
	CDS_INIT_LIST_HEAD(&dom->fq.spare);
	dom->fq.nr_spare = 0;
}

/*
 * Step 5 of a dma_unmap: no DMA can use the translation any more, so the
 * IOVA may be handed out again.  The record goes first (a dma_unmap of the
 * IOVA now finds nothing), then exactly this allocation is freed.
 * Context: no core lock held.
 */
static void dma_release(struct siommu_domain *dom, struct core_dma_rec *rec)
{
	siommu_mutex_lock(&dom->maps_lock);
	core_dma_remove_locked(dom, rec);
	siommu_mutex_unlock(&dom->maps_lock);
	SIOMMU_WARN_ON(siommu_iova_free(dom->iovas, rec->iova) != 0);
	siommu_free(rec);
}

void core_fq_drain(struct siommu_domain *dom)
{
	struct core_fq_entry *e, *tmp;
	struct cds_list_head list;
	uint32_t n;

	if (dom->type != SIOMMU_DOMAIN_PAGING)
		return;
	CDS_INIT_LIST_HEAD(&list);
	siommu_mutex_lock(&dom->fq.lock);
	n = dom->fq.count;
	cds_list_splice(&dom->fq.entries, &list);
	CDS_INIT_LIST_HEAD(&dom->fq.entries);
	dom->fq.count = 0;
	siommu_mutex_unlock(&dom->fq.lock);
	if (!n)
		return;
	/*
	 * The entries of every queued unmap were cleared before it was queued:
	 * one invalidation of the domain covers them all, and refuses any
	 * insert of a walk that started before it (the generation bump).
	 */
	siommu_iotlb_inv_domain(dom->iommu->iotlb, dom->domid);
	cds_list_for_each_entry_safe(e, tmp, &list, node) {
		/* No inval callback: done above.  Pages go after a grace period. */
		SIOMMU_WARN_ON(siommu_pt_gather_sync(&e->g, NULL, NULL, 0) != 0);
		/* The IOTLB no longer translates it: the IOVA may be reused. */
		if (e->dma)
			dma_release(dom, e->dma);
		e->dma = NULL;
	}
	/* Keep up to a batch of entries for the next unmaps; free the rest. */
	siommu_mutex_lock(&dom->fq.lock);
	cds_list_for_each_entry_safe(e, tmp, &list, node) {
		if (dom->fq.nr_spare < dom->fq.batch) {
			cds_list_move(&e->node, &dom->fq.spare);
			dom->fq.nr_spare++;
		} else {
			cds_list_del(&e->node);
			siommu_free(e);
		}
	}
	siommu_mutex_unlock(&dom->fq.lock);
	siommu_stats_inc(dom->iommu->stats, CORE_STAT_FQ_BATCHES);
	siommu_stats_add(dom->iommu->stats, CORE_STAT_FQ_ENTRIES, n);
}

/*
 * Queue what a lazy unmap gathered in @g (copied: a gather is plain values).
 * Returns 1 if the queue must be drained now, 0, or -ENOMEM (nothing
 * queued: the caller finishes the unmap strictly).  *@due is set to the
 * time the queue is due when this entry made it non-empty.
 */
static int fq_enqueue(struct siommu_domain *dom, const struct siommu_pt_gather *g,
		      uint64_t iova, uint64_t size, struct core_dma_rec *dma,
		      bool *wake, uint64_t *due)
{
	struct core_fq_entry *e = NULL;
	bool drain;

	/*
	 * Drains by time are the flusher thread's: it is woken when the
	 * queue becomes non-empty and sleeps until the oldest entry is due,
	 * so an enqueue reads the clock only for the first entry.
	 */
	siommu_mutex_lock(&dom->fq.lock);
	if (siommu_unlikely(cds_list_empty(&dom->fq.spare))) {
		siommu_mutex_unlock(&dom->fq.lock);
		e = siommu_malloc(sizeof(*e));	/* until the queue has cycled once */
		if (!e)
			return -ENOMEM;
		siommu_mutex_lock(&dom->fq.lock);
	} else {
		e = cds_list_first_entry(&dom->fq.spare, struct core_fq_entry, node);
		cds_list_del(&e->node);
		dom->fq.nr_spare--;
	}
	e->g = *g;
	e->iova = iova;
	e->size = size;
	e->dma = dma;	/* Step 5 waits for the drain. */
	*wake = dom->fq.count == 0;
	if (*wake) {
		dom->fq.oldest_ns = core_now_ns();
		*due = dom->fq.oldest_ns + dom->fq.timeout_ns;
	}
	cds_list_add_tail(&e->node, &dom->fq.entries);
	dom->fq.count++;
	drain = dom->fq.count >= dom->fq.batch;
	siommu_mutex_unlock(&dom->fq.lock);
	return drain;
}

/*
 * Step 1 of every unmap mode: clear the entries into @g and update the
 * mapping records (under maps_lock, against a revoke notifier tearing down
 * the same records).  Allocates nothing.  Returns the bytes unmapped or an
 * error (nothing done).
 */
static int64_t unmap_clear(struct siommu_domain *dom, uint64_t iova,
			   uint64_t size, struct siommu_pt_gather *g)
{
	int64_t n;

	siommu_pt_gather_init(g);
	if (!dom->track_maps)
		return siommu_pt_unmap(dom->pt, iova, size, g);
	siommu_mutex_lock(&dom->maps_lock);
	n = siommu_pt_unmap(dom->pt, iova, size, g);
	if (n >= 0 && !dom->owner_fn)
		core_maps_remove_locked(dom, iova, iova + size - 1);
	siommu_mutex_unlock(&dom->maps_lock);
	return n;
}

static void trace_unmap(struct siommu_iommu *iommu, uint64_t iova,
			uint64_t size, int64_t n)
{
	struct siommu_trace_event ev = {
		.type = SIOMMU_TRACE_UNMAP,
		.iova = iova,
		.size = size,
		.unmapped_size = (uint64_t)n,
	};

	if (siommu_trace_enabled(iommu->ctx))
		siommu_trace_emit(iommu->ctx, &ev);
}

static int64_t domain_unmap(struct siommu_domain *dom, uint64_t iova,
			    uint64_t size, struct core_dma_rec *dma)
{
	struct siommu_iommu *iommu = dom->iommu;
	struct siommu_pt_gather g;
	uint64_t due = 0;
	bool wake = false;
	int64_t n;
	int q = -ENOMEM;

	/* Step 1: clear the entries. */
	n = unmap_clear(dom, iova, size, &g);
	if (n < 0)
		return n;
	if (dom->unmap_mode == SIOMMU_UNMAP_LAZY)
		q = fq_enqueue(dom, &g, iova, size, dma, &wake, &due);
	if (q >= 0) {
		if (q)
			core_fq_drain(dom);
		else if (wake)
			core_flusher_kick(iommu, due);
		siommu_stats_inc(iommu->stats, CORE_STAT_UNMAPS_LAZY);
	} else {
		/* STRICT, or LAZY without memory for a queue entry: strictly. */
		unmap_strict(dom, &g, n > 0);
		/* Step 5: no DMA can use the translation: the IOVA may be reused. */
		if (dma)
			dma_release(dom, dma);
		siommu_stats_inc(iommu->stats, CORE_STAT_UNMAPS_STRICT);
	}
	trace_unmap(iommu, iova, size, n);
	return n;
}

SIOMMU_API int64_t siommu_domain_unmap(struct siommu_domain *dom, uint64_t iova,
				       uint64_t size)
{
	if (!dom || dom->type != SIOMMU_DOMAIN_PAGING)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	return domain_unmap(dom, iova, size, NULL);
}

SIOMMU_API int siommu_domain_dma_map(struct siommu_domain *dom, uint64_t pa,
				     uint64_t size, unsigned int prot,
				     uint64_t limit, uint64_t *iova)
{
	struct core_dma_rec *rec;
	uint64_t at;
	int ret;

	if (!dom || dom->type != SIOMMU_DOMAIN_PAGING || !iova || !size ||
	    (size & 0xfff) || (pa & 0xfff))
		return -EINVAL;
	rec = siommu_zalloc(sizeof(*rec));	/* unmap allocates nothing */
	if (!rec)
		return -ENOMEM;
	ret = siommu_iova_alloc(dom->iovas, size, limit, &at);
	if (ret)
		goto err_free;
	ret = siommu_domain_map(dom, at, pa, size, prot);
	if (ret) {
		SIOMMU_WARN_ON(siommu_iova_free(dom->iovas, at) != 0);
		goto err_free;
	}
	rec->iova = at;
	rec->size = size;
	siommu_mutex_lock(&dom->maps_lock);
	core_dma_insert_locked(dom, rec);
	siommu_mutex_unlock(&dom->maps_lock);
	*iova = at;
	return 0;

err_free:
	siommu_free(rec);
	return ret;
}

SIOMMU_API int64_t siommu_domain_dma_unmap(struct siommu_domain *dom,
					   uint64_t iova, uint64_t size)
{
	struct core_dma_rec *rec;
	int64_t n;

	if (!dom || dom->type != SIOMMU_DOMAIN_PAGING)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	/*
	 * Claim the mapping: a second dma_unmap of it (racing, or late but
	 * before the IOVA is handed out again) finds it claimed or gone and is
	 * refused, so it cannot release an IOVA that has a new owner.
	 */
	siommu_mutex_lock(&dom->maps_lock);
	rec = core_dma_find_locked(dom, iova);
	if (!rec || rec->unmapping || size != rec->size) {
		siommu_mutex_unlock(&dom->maps_lock);
		return -EINVAL;
	}
	rec->unmapping = true;
	siommu_mutex_unlock(&dom->maps_lock);
	n = domain_unmap(dom, iova, size, rec);
	if (n < 0) {
		/* Nothing done (a leaf straddles the range: mixed use). */
		siommu_mutex_lock(&dom->maps_lock);
		rec->unmapping = false;
		siommu_mutex_unlock(&dom->maps_lock);
	}
	return n;
}

SIOMMU_API int siommu_domain_invalidate(struct siommu_domain *dom, uint64_t iova,
					uint64_t size, unsigned int flags)
{
	uint64_t last;

	if (!dom || dom->type != SIOMMU_DOMAIN_PAGING || !size ||
	    siommu_add_overflow(iova, size - 1, &last) || (flags & ~SIOMMU_INVAL_WAIT))
		return -EINVAL;
	if ((flags & SIOMMU_INVAL_WAIT) && siommu_rcu_read_ongoing())
		return -EDEADLK;
	/* The caller changed the table before calling, as for a gather. */
	core_inval(dom, iova, last, 0);
	if (flags & SIOMMU_INVAL_WAIT)
		siommu_rcu_synchronize();
	return 0;
}

SIOMMU_API int siommu_domain_flush(struct siommu_domain *dom)
{
	if (!dom)
		return -EINVAL;
	/* A drain never waits, but it may free IOVAs (flush handshakes). */
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	core_fq_drain(dom);
	return 0;
}
