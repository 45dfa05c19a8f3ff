/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IOVA allocator internals shared by iova_tree.c (the tree, the node pool and
 * the address index) and iova.c (the API, per-thread caches, the depot).
 * The design is in the top comment of iova.c and in docs/modules/iova.md.
 */
#ifndef SIOMMU_IOVA_INTERNAL_H
#define SIOMMU_IOVA_INTERNAL_H

#include <stdint.h>
#include <urcu/list.h>
#include <bsd/sys/tree.h>

#include "softiommu/iova.h"
#include "base/compiler.h"
#include "base/lock.h"
#include "base/tls.h"

/* ---- nodes ---- */

/*
 * Node states, kept in the low two bits of iova_node.key; the rest of the
 * key is the node's first granule number (pfn_lo).  Lock-free frees claim a
 * node with one compare-and-swap of the whole key, so a stale pointer to a
 * node that has since been recycled for another range cannot match.
 */
enum iova_node_state {
	IOVA_NODE_FREE = 0,		/* in the node pool, not in the tree */
	IOVA_NODE_RESERVED = 1,		/* in the tree: a reservation */
	IOVA_NODE_IN_USE = 2,		/* in the tree: allocated, owned by the caller */
	IOVA_NODE_CACHED = 3,		/* in the tree: freed, owned by a magazine */
};

#define IOVA_KEY_STATE_MASK	3ull
#define iova_key(pfn, state)	(((uint64_t)(pfn) << 2) | (state))

#define IOVA_NO_CLASS		0xff	/* iova_node.cls of uncached sizes */

/*
 * One range of the tree.  Nodes are type-stable: once allocated they live
 * (in the tree or in the pool) until the space is destroyed, so a lock-free
 * reader may dereference a node pointer it read from the index at any time;
 * the key tells it whether the node is still what it looked for.
 */
struct iova_node {
	RB_ENTRY(iova_node) rb;	/* [tree_lock] */
	uint64_t pfn_lo;	/* [tree_lock]; stable while the node is in the tree */
	uint64_t pfn_hi;	/* [tree_lock]; inclusive; stable likewise */
	/* Subtree summary (augmentation), [tree_lock]: */
	uint64_t sub_lo;	/* lowest pfn_lo in the subtree */
	uint64_t sub_hi;	/* highest pfn_hi in the subtree */
	uint64_t sub_gap;	/* longest free gap between two nodes of the subtree */
	int8_t sub_order;	/* largest k: an aligned 2^k block fits such a gap; -1 none */
	uint8_t cls;		/* [tree_lock] size class, or IOVA_NO_CLASS; stable in the tree */
	uint64_t key;		/* atomic: iova_key(pfn_lo, state) */
	struct iova_node *pool_next;	/* [tree_lock] node pool link */
} siommu_cacheline_aligned;

/* ---- the address index ---- */

/*
 * A radix table indexed by (pfn - aperture start): allocated ranges by their
 * first granule.  Tables are published with a release store under the tree
 * lock, read with acquire loads without it, and freed only at destroy.
 */
#define IOVA_RADIX_BITS		9
#define IOVA_RADIX_SIZE		(1u << IOVA_RADIX_BITS)
#define IOVA_RADIX_MASK		(IOVA_RADIX_SIZE - 1)

struct iova_radix {
	void *slot[IOVA_RADIX_SIZE];	/* interior: tables; leaf: nodes */
};

/* ---- magazines ---- */

#define IOVA_NR_CLASSES		(SIOMMU_IOVA_CACHE_MAX_LG2 + 1)
#define IOVA_MAG_SIZE		127	/* a magazine is 2 KiB */
#define IOVA_DEPOT_MAX		32	/* full magazines per class in the depot */
#define IOVA_DEPOT_EMPTY_MAX	8	/* spare empty magazines per class */

/*
 * A cached range: its first granule (so that an allocation from the cache
 * needs no load from the node) and its node.
 */
struct iova_mag_entry {
	uint64_t pfn;
	struct iova_node *node;
};

struct iova_mag {
	unsigned long n;
	struct iova_mag_entry e[IOVA_MAG_SIZE];
};

/* Per-thread counters (written by the owner only, relaxed). */
enum iova_pcache_counter {
	IOVA_PC_HITS,
	IOVA_PC_NR,
};

/*
 * The cache of one thread for one space.  The owner thread uses loaded/prev
 * only inside a cache section (busy == 1) in which it saw flush == 0; a
 * flusher sets flush, makes every thread execute a barrier, waits until busy
 * is 0, and then owns them until it clears flush.  Everything the owner does
 * in between bypasses the cache.
 */
struct iova_pcache {
	/* The fast paths touch the first two cache lines only. */
	unsigned int busy;		/* atomic: owner inside a cache section */
	unsigned int flush;		/* atomic: set by a flusher */
	uint64_t hint_idx;		/* owner: (index >> 9) + 1 of hint_leaf; 0 none */
	struct iova_radix *hint_leaf;	/* owner: last index leaf used by free */
	uint64_t cnt[IOVA_PC_NR];	/* owner writes, anyone reads (relaxed) */
	struct iova_mag *loaded[IOVA_NR_CLASSES];	/* owner (see above) */
	struct iova_mag *prev[IOVA_NR_CLASSES];		/* owner (see above) */
	struct siommu_tls_block tls;	/* base/tls.c links, [space->caches lock] */
};	/* allocated cache-line aligned by base/tls.c; not declared so: list
	 * walks compute container_of() of the list head, which UBSan checks
	 * for alignment */

/* ---- the space ---- */

struct iova_depot {
	unsigned int nr_full;				/* [depot_lock] */
	unsigned int nr_empty;				/* [depot_lock] */
	struct iova_mag *full[IOVA_DEPOT_MAX];		/* [depot_lock] */
	struct iova_mag *empty[IOVA_DEPOT_EMPTY_MAX];	/* [depot_lock] */
};

RB_HEAD(iova_tree_head, iova_node);

struct siommu_iova_space {
	/* Read-mostly: immutable after create. */
	struct siommu_ctx *ctx;
	struct siommu_tls_owner caches;	/* the threads' iova_pcaches (base/tls.h); its
					 * lock, "iova_caches", guards [caches] */
	uint64_t start_pfn;		/* aperture, in granules */
	uint64_t last_pfn;
	unsigned int granule_lg2;
	unsigned int flags;
	unsigned int radix_levels;	/* >= 1 */
	struct iova_radix *radix_root;

	/* The tree: ranges in use, cached and reserved. */
	struct siommu_mutex tree_lock siommu_cacheline_aligned;
	struct iova_tree_head tree;	/* [tree_lock] */
	struct iova_node *pool;		/* [tree_lock] free nodes */
	uint64_t nr_nodes;		/* [tree_lock] nodes allocated (tree + pool) */
	uint64_t tree_allocs;		/* [tree_lock] */
	uint64_t tree_frees;		/* [tree_lock] ranges given back to the tree */
	uint64_t direct_frees;		/* [tree_lock] ranges freed straight to the tree */
	uint64_t failures;		/* [tree_lock] */

	/* The depot of magazines shared by the threads. */
	struct siommu_mutex depot_lock siommu_cacheline_aligned;
	struct iova_depot depot[IOVA_NR_CLASSES];	/* [depot_lock] */
	uint64_t depot_gets;		/* [depot_lock] */
	uint64_t depot_puts;		/* [depot_lock] */

	/* Caches. */
	struct siommu_mutex flush_lock siommu_cacheline_aligned;	/* serializes flushes */
	uint64_t flushes;		/* atomic (relaxed) */
	uint64_t retired[IOVA_PC_NR];	/* [caches] counters of gone caches */
};

static inline uint64_t iova_index_of(const struct siommu_iova_space *s,
				     uint64_t pfn)
{
	return pfn - s->start_pfn;
}

/* Lock-free: the index leaf that holds @idx, or NULL if there is none yet. */
struct iova_radix *iova_index_leaf(struct siommu_iova_space *s, uint64_t idx);

/*
 * Lock-free: the allocation node indexed at @pfn (inside the aperture), or
 * NULL.  @hint (may be NULL): the calling thread's cache, which remembers
 * the last leaf.  Leaves are freed only at destroy, so the hint stays valid.
 */
static inline struct iova_node *iova_index_lookup(struct siommu_iova_space *s,
						  uint64_t pfn,
						  struct iova_pcache *hint)
{
	uint64_t idx = iova_index_of(s, pfn);
	struct iova_radix *leaf;

	if (hint && hint->hint_idx == (idx >> IOVA_RADIX_BITS) + 1) {
		leaf = hint->hint_leaf;
	} else {
		leaf = iova_index_leaf(s, idx);
		if (!leaf)
			return NULL;
		if (hint) {
			hint->hint_idx = (idx >> IOVA_RADIX_BITS) + 1;
			hint->hint_leaf = leaf;
		}
	}
	/* Pairs with the release store in iova_tree_alloc_locked(). */
	return siommu_load_acquire((struct iova_node **)
				   &leaf->slot[idx & IOVA_RADIX_MASK]);
}

/* ---- iova_tree.c (every function: caller holds tree_lock unless noted) ---- */

struct iova_alloc_req {
	uint64_t pages;		/* granules */
	uint64_t limit_pfn;	/* highest granule the range may include */
	unsigned int align_lg2;	/* start aligned to 2^align_lg2 granules */
	int need_order;		/* a gap must fit an aligned 2^need_order block */
	uint8_t cls;		/* size class or IOVA_NO_CLASS */
};

int iova_tree_init(struct siommu_iova_space *s);
/* Frees every node, the pool and the index.  Context: no other user. */
void iova_tree_fini(struct siommu_iova_space *s);

/* Search, insert IN_USE and index.  Returns the node, or NULL with *err set. */
struct iova_node *iova_tree_alloc_locked(struct siommu_iova_space *s,
					 const struct iova_alloc_req *req,
					 int *err);
/* Remove an allocation node (state CACHED: claimed by the caller). */
void iova_tree_remove_locked(struct siommu_iova_space *s, struct iova_node *n);
/*
 * Reserve [lo, hi] (granules, inside the aperture).  Returns 0, -EBUSY (an
 * allocation overlaps), -EAGAIN (a cached range overlaps: flush and retry)
 * or -ENOMEM.  Nothing changed on error.
 */
int iova_tree_reserve_locked(struct siommu_iova_space *s, uint64_t lo,
			     uint64_t hi);
/* The node containing @pfn, or NULL. */
struct iova_node *iova_tree_find_locked(struct siommu_iova_space *s,
					uint64_t pfn);
/* In-order first and next. */
struct iova_node *iova_tree_first_locked(struct siommu_iova_space *s);
struct iova_node *iova_tree_next_locked(struct iova_node *n);


/*
 * Check every invariant of the tree (order, no overlap, aperture, summaries,
 * index).  Returns 0 or a negative line number of the first violation.
 * For tests.
 */
int iova_tree_check_locked(struct siommu_iova_space *s);

static inline enum iova_node_state iova_node_state(struct iova_node *n)
{
	return (enum iova_node_state)(siommu_load_acquire(&n->key) &
				      IOVA_KEY_STATE_MASK);
}

#if SIOMMU_TESTING_BUILD
/*
 * Testing builds only: when non-zero, the calling thread's next
 * membarrier(2) call other than the query fails with this errno (once).
 */
extern __thread int iova_test_membarrier_errno;
#endif

/* For tests: check the tree of @s under its lock. */
int siommu_iova_check(struct siommu_iova_space *s);

/* ---- testing hook ---- */

#if SIOMMU_TESTING_BUILD
/*
 * Testing builds only: when set, a flush empties the magazines without its
 * handshake with the owners (no membarrier(), no wait for busy == 0), while
 * an owner may still be inside a cache section using them: the broken flush
 * the stress test (SIOMMU_STRESS_BREAK=1) must catch.  Relaxed atomic.
 */
extern bool iova_test_break_flush;
#endif

#endif
