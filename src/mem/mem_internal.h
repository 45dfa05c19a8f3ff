/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory map's structures and its access fast path.  Internal header:
 * src/mem/mem.c and the benchmark (which times the same fast path under a
 * pthread rwlock as its baseline) include it.  The design is described at
 * the top of mem.c.
 */
#ifndef SIOMMU_MEM_INTERNAL_H
#define SIOMMU_MEM_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <urcu/list.h>

#include "softiommu/mem.h"
#include "base/compiler.h"
#include "base/debug.h"
#include "base/lock.h"
#include "base/rcu.h"
#include "base/stats.h"

/*
 * region->state: one word, so that get (users + 1 unless revoked) and
 * destroy (revoked unless users) decide atomically against each other.
 */
#define MEM_STATE_REVOKED	(1ull << 63)	/* accesses and gets fail -ENODEV */
#define MEM_STATE_DEAD		(1ull << 62)	/* destroyed; a tombstone in the array */
#define MEM_STATE_USERS		(MEM_STATE_DEAD - 1)

/* region->rstate: where the revoke is, [mem->lock]. */
enum mem_rstate {
	MEM_R_LIVE = 0,
	MEM_R_REVOKING,		/* flag set; notifiers or the grace period running */
	MEM_R_REVOKED,		/* revoke finished: nothing touches the region */
};

enum mem_stat {
	MEM_STAT_READS,
	MEM_STAT_WRITES,
	MEM_STAT_BYTES_READ,
	MEM_STAT_BYTES_WRITTEN,
	MEM_STAT_MMIO_CALLS,
	MEM_STAT_ERR_UNMAPPED,
	MEM_STAT_ERR_REVOKED,
	MEM_STAT_ERR_MMIO,
	MEM_STAT_REVOKES,
	MEM_STAT_NR,
};

struct siommu_mem_region {
	/* Read by accesses: immutable once published, except state. */
	uint64_t state;			/* atomic: REVOKED | DEAD | users */
	enum siommu_mem_type type;	/* immutable */
	uint8_t *host;			/* immutable; RAM and HOST: byte 0 of the region */
	struct siommu_mem_mmio_ops ops;	/* immutable; MMIO */
	void *opaque;			/* immutable; MMIO */
	uint64_t pa;			/* immutable */
	uint64_t last;			/* immutable: last byte, inclusive */

	/* Slow paths. */
	struct siommu_mem *mem;		/* immutable */
	enum mem_rstate rstate;		/* [mem->lock] */
	struct siommu_rcu_head rcu;	/* frees the struct after it is unpublished */
};

/* One array slot: the range is copied here so a search touches only the array. */
struct mem_slot {
	uint64_t pa;
	uint64_t last;			/* inclusive */
	struct siommu_mem_region *r;
};

/* Immutable once published: a new array replaces it (copy-on-write). */
struct mem_map {
	unsigned int nr;
	struct siommu_rcu_head rcu;
	struct mem_slot slot[];		/* sorted by pa, disjoint */
};

struct mem_notifier_node;

struct siommu_mem {
	/* Read by accesses. */
	struct mem_map *map;		/* RCU: replaced under lock (release store) */
	struct siommu_stats *stats;	/* immutable */

	/* Slow paths, on another cache line. */
	struct siommu_mutex lock siommu_cacheline_aligned; /* protects [L] */
	pthread_cond_t cond;		/* with lock: revoke finished, notifier call done */
	struct siommu_ctx *ctx;		/* immutable */
	unsigned int nr_regions;	/* [L] live (not destroyed) regions */
	unsigned int nr_dead;		/* [L] tombstones in map */
	unsigned int nr_notifiers;	/* [L] registered (not being unregistered) */
	struct cds_list_head notifiers;	/* [L] struct siommu_mem_notifier */
};

struct siommu_mem_notifier {
	struct cds_list_head node;	/* [L] on mem->notifiers */
	struct siommu_mem *mem;		/* immutable */
	siommu_mem_revoke_fn *fn;	/* immutable */
	void *opaque;			/* immutable */
	unsigned int calls;		/* [L] revokes calling fn right now */
	bool dead;			/* [L] being unregistered: call no more */
};

/*
 * Find the slot holding @pa in @m, or NULL.  Context: RCU read side (or any
 * lock that keeps @m alive).
 */
static inline const struct mem_slot *mem_find_slot(const struct mem_map *m,
						   uint64_t pa)
{
	unsigned int lo = 0, hi = m->nr;

	/*
	 * lo: the number of slots starting at or below pa.  (A branch-free
	 * variant with a conditional move measured slower: it chains each
	 * step's load to the previous one, where the branches speculate.)
	 */
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (m->slot[mid].pa <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || pa > m->slot[lo - 1].last)
		return NULL;
	return &m->slot[lo - 1];
}

#if SIOMMU_TESTING_BUILD
/*
 * Testing builds only: when set, revoke skips its grace period.  The stress
 * test sets it (SIOMMU_STRESS_BREAK=1) to show that it catches a broken
 * revoke.  Relaxed atomic.
 */
extern bool mem_test_break_revoke;
#endif

/* Out of line (mem.c): MMIO pieces, accesses that span regions, errors. */
int mem_access_slow(struct siommu_mem *mem, const struct mem_map *m,
		    const struct mem_slot *s, uint64_t pa, uint8_t *buf,
		    size_t len, bool write);
int mem_access_fail(struct siommu_mem *mem, int err);

/*
 * The access fast path: arguments already checked (@len > 0, no wrap).
 * Context: inside a read-side section, or under whatever lock keeps the
 * map and the region's memory alive (the benchmark's rwlock baseline).
 *
 * The revoked flag is read inside the section, after the map.  A revoke
 * sets it, then waits for a grace period: an access that saw it clear is in
 * a section that began before the grace period, which revoke waits for; an
 * access whose section begins later sees it set (the grace period orders
 * the store before it).  Pairs with the fetch_or in mem_revoke_begin().
 */
static inline int mem_access(struct siommu_mem *mem, uint64_t pa, void *buf,
			     size_t len, bool write)
{
	const struct mem_map *m = siommu_load_acquire(&mem->map);
	const struct mem_slot *s = mem_find_slot(m, pa);
	struct siommu_mem_region *r;
	uint64_t off;

	if (siommu_unlikely(!s))
		return mem_access_fail(mem, -EFAULT);
	r = s->r;
	if (siommu_unlikely(siommu_load_acquire(&r->state) &
			    (MEM_STATE_REVOKED | MEM_STATE_DEAD)))
		return mem_access_slow(mem, m, s, pa, buf, len, write);
	off = pa - s->pa;
	if (siommu_unlikely(len - 1 > s->last - pa || !r->host))
		return mem_access_slow(mem, m, s, pa, buf, len, write);
	siommu_debug_yield(SIOMMU_YIELD_MEM_ACCESS);
	if (write) {
		memcpy(r->host + off, buf, len);
		siommu_stats_inc(mem->stats, MEM_STAT_WRITES);
		siommu_stats_add(mem->stats, MEM_STAT_BYTES_WRITTEN, len);
	} else {
		memcpy(buf, r->host + off, len);
		siommu_stats_inc(mem->stats, MEM_STAT_READS);
		siommu_stats_add(mem->stats, MEM_STAT_BYTES_READ, len);
	}
	return 0;
}

#endif
