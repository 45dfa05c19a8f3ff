// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-thread statistics counters summed on read; the design is in stats.h.
 *
 * Lifetimes.  A block lives from its thread's first add to a set until the
 * earlier of: the thread's exit (its counts are folded into set->retired,
 * by stats_thread_exit() under the set's lock), or the set's destruction.
 * base/tls.c does the bookkeeping that lets either side run first.
 */
#include <errno.h>
#include <string.h>

#include "base/alloc.h"
#include "base/debug.h"
#include "base/lock.h"
#include "base/stats.h"

static void stats_thread_exit(void *obj, void *data)
{
	struct siommu_stats *s = obj;
	struct stats_block *b = data;
	unsigned int i;

	for (i = 0; i < s->nr; i++)
		s->retired[i] += siommu_load_relaxed(&b->v[i]);
}

void siommu_stats_add_slow(struct siommu_stats *s, unsigned int idx, uint64_t delta)
{
	struct stats_block *b = siommu_tls_get_slow(&s->tls);

	if (siommu_unlikely(!b)) {
		/* no block: a shared counter, so that nothing is lost */
		__atomic_fetch_add(&s->fallback[idx], delta, __ATOMIC_RELAXED);
		return;
	}
	siommu_store_relaxed(&b->v[idx], siommu_load_relaxed(&b->v[idx]) + delta);
}

struct stats_with_ops {
	struct siommu_stats s;
	struct siommu_tls_ops ops;	/* block size depends on nr */
};

int siommu_stats_create(unsigned int nr, struct siommu_stats **out)
{
	struct stats_with_ops *so;
	struct siommu_stats *s;

	if (!out || nr == 0 || nr > 4096)
		return -EINVAL;
	so = siommu_zalloc(sizeof(*so));
	if (!so)
		return -ENOMEM;
	s = &so->s;
	s->retired = siommu_calloc(nr, sizeof(uint64_t));
	if (!s->retired)
		goto err_free;
	s->fallback = siommu_calloc(nr, sizeof(uint64_t));
	if (!s->fallback)
		goto err_free_retired;
	s->nr = nr;
	so->ops.size = sizeof(struct stats_block) + nr * sizeof(uint64_t);
	so->ops.hdr_offset = offsetof(struct stats_block, hdr);
	so->ops.thread_exit = stats_thread_exit;
	if (siommu_tls_owner_init(&s->tls, &so->ops, s, "stats", SIOMMU_RANK_STATS))
		goto err_free_fallback;
	*out = s;
	return 0;

err_free_fallback:
	siommu_free(s->fallback);
err_free_retired:
	siommu_free(s->retired);
err_free:
	siommu_free(so);
	return -ENOMEM;
}

void siommu_stats_destroy(struct siommu_stats *s)
{
	if (!s)
		return;
	siommu_tls_owner_fini(&s->tls);
	siommu_free(s->fallback);
	siommu_free(s->retired);
	siommu_free(siommu_container_of(s, struct stats_with_ops, s));
}

static uint64_t sum_locked(struct siommu_stats *s, unsigned int idx)
{
	struct stats_block *b;
	uint64_t v = s->retired[idx] +
		     __atomic_load_n(&s->fallback[idx], __ATOMIC_RELAXED);

	siommu_tls_for_each(&s->tls, b)
		v += siommu_load_relaxed(&b->v[idx]);
	return v;
}

uint64_t siommu_stats_read(struct siommu_stats *s, unsigned int idx)
{
	uint64_t v;

	if (SIOMMU_WARN_ON(idx >= s->nr))
		return 0;
	siommu_tls_owner_lock(&s->tls);
	v = sum_locked(s, idx);
	siommu_tls_owner_unlock(&s->tls);
	return v;
}

void siommu_stats_read_all(struct siommu_stats *s, uint64_t *out)
{
	unsigned int i;

	siommu_tls_owner_lock(&s->tls);
	for (i = 0; i < s->nr; i++)
		out[i] = sum_locked(s, i);
	siommu_tls_owner_unlock(&s->tls);
}
