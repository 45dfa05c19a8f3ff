/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Statistics counters: per-thread, summed on read.  Internal header.
 *
 * A counter set (struct siommu_stats) has a fixed number of 64-bit counters.
 * Each thread that adds to a set gets its own block of counters, found
 * through a small thread-local cache keyed by the set's unique id, and
 * written only by that thread (relaxed atomic stores: no shared cache line
 * is written on the hot path, no read-modify-write).  Readers sum every
 * block, plus what exited threads left behind, plus a shared fallback used
 * only if a block cannot be allocated.  Sums read while adds run are
 * momentary snapshots: each counter is exact once its adders have stopped.
 *
 * Locking: one process-wide mutex, stats_lock (rank SIOMMU_RANK_STATS, a
 * leaf), protects the lists that tie blocks to sets and threads.  It is taken
 * on the slow paths only: a thread's first add to a set, reads, thread exit,
 * and set destroy.
 */
#ifndef SIOMMU_BASE_STATS_H
#define SIOMMU_BASE_STATS_H

#include <stdint.h>
#include <urcu/list.h>

#include "base/compiler.h"
#include "base/debug.h"

struct stats_block {
	struct cds_list_head set_node;		/* [stats_lock] */
	struct cds_list_head thread_node;	/* [stats_lock] */
	struct siommu_stats *set;		/* [stats_lock] */
	uint64_t v[];				/* written by the owner thread only; relaxed atomics */
};

struct siommu_stats {
	uint64_t id;			/* immutable; unique in the process */
	unsigned int nr;		/* immutable: number of counters */
	struct cds_list_head blocks;	/* [stats_lock] live threads' blocks */
	uint64_t *retired;		/* [stats_lock] sums left by exited threads */
	uint64_t *fallback;		/* atomic adds; used when a block cannot be allocated */
};

#define SIOMMU_STATS_CACHE	16	/* sets a thread can use without a slow path */

struct stats_cache_entry {
	uint64_t id;
	struct stats_block *block;
};

extern __thread struct stats_cache_entry
	siommu_stats_cache[SIOMMU_STATS_CACHE] __attribute__((tls_model("initial-exec")));

struct stats_block *siommu_stats_block_slow(struct siommu_stats *s);
/*
 * The whole add when this thread's block is not in its cache: out of line,
 * so that the inlined fast path below needs no stack frame in its callers.
 */
void siommu_stats_add_slow(struct siommu_stats *s, unsigned int idx, uint64_t delta)
	__attribute__((noinline));

/* Returns 0, -EINVAL (nr 0 or over 4096) or -ENOMEM. */
int siommu_stats_create(unsigned int nr, struct siommu_stats **out);
/* Context: no thread may add to @s concurrently. */
void siommu_stats_destroy(struct siommu_stats *s);

/* Context: any thread; lock-free after this thread's first add to @s. */
static inline void siommu_stats_add(struct siommu_stats *s, unsigned int idx,
				    uint64_t delta)
{
	struct stats_cache_entry *e =
		&siommu_stats_cache[s->id & (SIOMMU_STATS_CACHE - 1)];
	struct stats_block *b;

	SIOMMU_CHECK(idx < s->nr);
	if (siommu_unlikely(e->id != s->id)) {
		siommu_stats_add_slow(s, idx, delta);
		return;
	}
	b = e->block;
	/* Only this thread writes b->v; readers load it relaxed. */
	siommu_store_relaxed(&b->v[idx], siommu_load_relaxed(&b->v[idx]) + delta);
}

static inline void siommu_stats_inc(struct siommu_stats *s, unsigned int idx)
{
	siommu_stats_add(s, idx, 1);
}

/* Context: any thread; takes stats_lock. */
uint64_t siommu_stats_read(struct siommu_stats *s, unsigned int idx);
/* @out has s->nr entries.  Context: any thread; takes stats_lock. */
void siommu_stats_read_all(struct siommu_stats *s, uint64_t *out);

#endif
