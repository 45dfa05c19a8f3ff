/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Statistics counters: per-thread, summed on read.  Internal header.
 *
 * A counter set (struct siommu_stats) has a fixed number of 64-bit counters.
 * Each thread that adds to a set gets its own block of counters (base/tls.h:
 * per-thread per-object state, found by the set's id in the thread's own
 * table, no eviction, no lock), written only by that thread (relaxed atomic
 * stores: no shared cache line is written on the hot path, no
 * read-modify-write).  Readers sum every block, plus what exited threads
 * left behind, plus a shared fallback used only if a block cannot be
 * allocated.  Sums read while adds run are momentary snapshots: each counter
 * is exact once its adders have stopped.
 *
 * Locking: no process-wide lock.  Each set's tls owner lock (rank
 * SIOMMU_RANK_STATS) protects its list of blocks and its retired sums; it is
 * taken on the slow paths only: a thread's first add to the set, reads,
 * thread exit, and set destroy.
 */
#ifndef SIOMMU_BASE_STATS_H
#define SIOMMU_BASE_STATS_H

#include <stdint.h>

#include "base/compiler.h"
#include "base/debug.h"
#include "base/tls.h"

struct stats_block {
	struct siommu_tls_block hdr;
	uint64_t v[];			/* written by the owner thread only; relaxed atomics */
};

struct siommu_stats {
	struct siommu_tls_owner tls;	/* immutable: id and the blocks' owner */
	unsigned int nr;		/* immutable: number of counters */
	uint64_t *retired;		/* [tls owner lock] sums left by exited threads */
	uint64_t *fallback;		/* atomic adds; used when a block cannot be allocated */
};

/*
 * The whole add when this thread has no block yet: out of line, so that the
 * inlined fast path below needs no stack frame in its callers.
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
	struct stats_block *b = siommu_tls_lookup(s->tls.id);

	SIOMMU_CHECK(idx < s->nr);
	if (siommu_unlikely(!b)) {
		siommu_stats_add_slow(s, idx, delta);
		return;
	}
	/* Only this thread writes b->v; readers load it relaxed. */
	siommu_store_relaxed(&b->v[idx], siommu_load_relaxed(&b->v[idx]) + delta);
}

static inline void siommu_stats_inc(struct siommu_stats *s, unsigned int idx)
{
	siommu_stats_add(s, idx, 1);
}

/* Context: any thread; takes the set's lock. */
uint64_t siommu_stats_read(struct siommu_stats *s, unsigned int idx);
/* @out has s->nr entries.  Context: any thread; takes the set's lock. */
void siommu_stats_read_all(struct siommu_stats *s, uint64_t *out);

#endif
