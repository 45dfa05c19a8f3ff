// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-thread statistics counters summed on read; the design is in stats.h.
 *
 * Lifetimes.  A block lives from its thread's first add to a set until the
 * earlier of: the thread's exit (its counts are folded into set->retired),
 * or the set's destruction.  Both happen under stats_lock, which is what
 * lets either side run first.  A thread's cache may keep a (set id, block)
 * pair after the block is freed by a set's destruction: ids are never
 * reused, so no lookup can match it again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/debug.h"
#include "base/lock.h"
#include "base/stats.h"

__thread struct stats_cache_entry
	siommu_stats_cache[SIOMMU_STATS_CACHE] __attribute__((tls_model("initial-exec")));

static struct siommu_mutex stats_lock =
	SIOMMU_MUTEX_INITIALIZER("stats", SIOMMU_RANK_STATS);
static uint64_t next_id = 1;	/* atomic; 0 marks an empty cache slot */

/* This thread's blocks, [stats_lock]; the key's destructor folds them at exit. */
static __thread struct cds_list_head thread_blocks;
static __thread bool thread_ready;
static pthread_key_t stats_key;
static pthread_once_t stats_key_once = PTHREAD_ONCE_INIT;

static void block_retire(struct stats_block *b)
{
	struct siommu_stats *s = b->set;
	unsigned int i;

	for (i = 0; i < s->nr; i++)
		s->retired[i] += siommu_load_relaxed(&b->v[i]);
	cds_list_del(&b->set_node);
	cds_list_del(&b->thread_node);
	siommu_free(b);
}

static void stats_thread_exit(void *unused)
{
	struct stats_block *b, *tmp;

	siommu_mutex_lock(&stats_lock);
	cds_list_for_each_entry_safe(b, tmp, &thread_blocks, thread_node)
		block_retire(b);
	siommu_mutex_unlock(&stats_lock);
	memset(siommu_stats_cache, 0, sizeof(siommu_stats_cache));
	thread_ready = false;
}

static void stats_key_create(void)
{
	if (pthread_key_create(&stats_key, stats_thread_exit))
		siommu_check_failed("pthread_key_create", __FILE__, __LINE__);
}

struct stats_block *siommu_stats_block_slow(struct siommu_stats *s)
{
	struct stats_cache_entry *e =
		&siommu_stats_cache[s->id & (SIOMMU_STATS_CACHE - 1)];
	struct stats_block *b, *found = NULL;

	if (!thread_ready) {
		pthread_once(&stats_key_once, stats_key_create);
		CDS_INIT_LIST_HEAD(&thread_blocks);
		pthread_setspecific(stats_key, &thread_ready);
		thread_ready = true;
	}

	siommu_mutex_lock(&stats_lock);
	cds_list_for_each_entry(b, &thread_blocks, thread_node) {
		if (b->set == s) {
			found = b;
			break;
		}
	}
	if (!found) {
		found = siommu_zalloc(sizeof(*found) + s->nr * sizeof(uint64_t));
		if (found) {
			found->set = s;
			cds_list_add(&found->set_node, &s->blocks);
			cds_list_add(&found->thread_node, &thread_blocks);
		}
	}
	siommu_mutex_unlock(&stats_lock);

	if (found) {
		e->id = s->id;
		e->block = found;
	}
	return found;
}

void siommu_stats_add_slow(struct siommu_stats *s, unsigned int idx, uint64_t delta)
{
	struct stats_block *b = siommu_stats_block_slow(s);

	if (siommu_unlikely(!b)) {
		/* no block: a shared counter, so that nothing is lost */
		__atomic_fetch_add(&s->fallback[idx], delta, __ATOMIC_RELAXED);
		return;
	}
	siommu_store_relaxed(&b->v[idx], siommu_load_relaxed(&b->v[idx]) + delta);
}

int siommu_stats_create(unsigned int nr, struct siommu_stats **out)
{
	struct siommu_stats *s;

	if (!out || nr == 0 || nr > 4096)
		return -EINVAL;
	s = siommu_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->retired = siommu_calloc(nr, sizeof(uint64_t));
	if (!s->retired)
		goto err_free;
	s->fallback = siommu_calloc(nr, sizeof(uint64_t));
	if (!s->fallback)
		goto err_free_retired;
	s->nr = nr;
	s->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
	CDS_INIT_LIST_HEAD(&s->blocks);
	*out = s;
	return 0;

err_free_retired:
	siommu_free(s->retired);
err_free:
	siommu_free(s);
	return -ENOMEM;
}

void siommu_stats_destroy(struct siommu_stats *s)
{
	struct stats_block *b, *tmp;

	if (!s)
		return;
	siommu_mutex_lock(&stats_lock);
	cds_list_for_each_entry_safe(b, tmp, &s->blocks, set_node) {
		cds_list_del(&b->set_node);
		cds_list_del(&b->thread_node);
		siommu_free(b);
	}
	siommu_mutex_unlock(&stats_lock);
	siommu_free(s->fallback);
	siommu_free(s->retired);
	siommu_free(s);
}

static uint64_t sum_locked(struct siommu_stats *s, unsigned int idx)
{
	struct stats_block *b;
	uint64_t v = s->retired[idx] +
		     __atomic_load_n(&s->fallback[idx], __ATOMIC_RELAXED);

	cds_list_for_each_entry(b, &s->blocks, set_node)
		v += siommu_load_relaxed(&b->v[idx]);
	return v;
}

uint64_t siommu_stats_read(struct siommu_stats *s, unsigned int idx)
{
	uint64_t v;

	if (SIOMMU_WARN_ON(idx >= s->nr))
		return 0;
	siommu_mutex_lock(&stats_lock);
	v = sum_locked(s, idx);
	siommu_mutex_unlock(&stats_lock);
	return v;
}

void siommu_stats_read_all(struct siommu_stats *s, uint64_t *out)
{
	unsigned int i;

	siommu_mutex_lock(&stats_lock);
	for (i = 0; i < s->nr; i++)
		out[i] = sum_locked(s, i);
	siommu_mutex_unlock(&stats_lock);
}
