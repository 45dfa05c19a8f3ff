/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu IOVA allocator: I/O virtual address space of one domain.
 *
 * A space has an aperture [start, last], a granule (the smallest IOMMU page,
 * usually 4 KiB) and reserved ranges that allocation never returns.
 * Allocation is size-aligned and top-down, as Linux's allocator is: a range
 * of n granules starts at a multiple of the smallest power of two >= n
 * granules, and the highest such free place at or below the caller's limit
 * is chosen.  Sizes up to SIOMMU_IOVA_CACHE_MAX granules are rounded up to a
 * power of two (Linux does this up to 32 pages), so that freed ranges can be
 * reused for any request of the same size class.
 *
 * Per-thread caches ("magazines") keep recently freed ranges of each cached
 * size class; an allocation and a free of a cached size take no shared lock
 * and write no shared cache line in the common case.  A freed range sitting
 * in a cache still counts as used in the space's tree; caches are flushed
 * (every thread's) when an allocation finds no room, by
 * siommu_iova_flush_caches(), and when the space is destroyed.
 *
 * Release is immediate (strict): when siommu_iova_free() returns, the range
 * may be handed out again (first to the freeing thread; to others after it
 * leaves the cache).  Deferred (lazy) release is built on top of it by the
 * core's flush queue: siommu_iova_free() may be called from any thread,
 * including an RCU callback.
 *
 * Addresses and sizes are in bytes.  Sizes are rounded up to whole granules.
 */
#ifndef SOFTIOMMU_IOVA_H
#define SOFTIOMMU_IOVA_H

#include <softiommu/base.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siommu_iova_space;

/* Sizes of up to 2^SIOMMU_IOVA_CACHE_MAX_LG2 granules are cached per thread. */
#define SIOMMU_IOVA_CACHE_MAX_LG2	8
#define SIOMMU_IOVA_CACHE_MAX		(1u << SIOMMU_IOVA_CACHE_MAX_LG2)

/* siommu_iova_config.flags */
/*
 * No per-thread caches: every call takes the tree lock.  Spaces are also
 * created this way on kernels without membarrier(2) (before Linux 4.14).
 */
#define SIOMMU_IOVA_NO_CACHE	(1u << 0)

struct siommu_iova_config {
	uint64_t start;			/* first address of the aperture, granule aligned */
	uint64_t last;			/* last address (inclusive); last + 1 granule aligned */
	unsigned int granule_lg2;	/* log2 of the granule: 2 .. 48 (12 for 4 KiB) */
	unsigned int flags;		/* SIOMMU_IOVA_* */
};

enum siommu_iova_kind {
	SIOMMU_IOVA_ALLOCATED,		/* handed out by siommu_iova_alloc() */
	SIOMMU_IOVA_CACHED,		/* freed, held in a per-thread cache or the depot */
	SIOMMU_IOVA_RESERVED,		/* siommu_iova_reserve() */
};

struct siommu_iova_range {
	uint64_t start;
	uint64_t last;			/* inclusive */
	enum siommu_iova_kind kind;
};

struct siommu_iova_stats {
	uint64_t allocs;		/* successful siommu_iova_alloc() calls */
	uint64_t frees;			/* ranges freed (free or free_all): allocs - allocated */
	uint64_t cache_hits;		/* allocations served by a per-thread cache */
	uint64_t cache_frees;		/* frees kept in a cache (frees - those to the tree) */
	uint64_t tree_allocs;		/* allocations that searched the tree */
	uint64_t tree_frees;		/* ranges given back to the tree (free or flush) */
	uint64_t depot_gets;		/* full magazines taken from the depot */
	uint64_t depot_puts;		/* full magazines given to the depot */
	uint64_t flushes;		/* flushes of every thread's caches */
	uint64_t failures;		/* allocations refused for lack of room (-ENOSPC) */
	/* Counters above and state below are exact when no call runs concurrently. */
	uint64_t allocated;		/* ranges allocated */
	uint64_t cached;		/* freed ranges held by caches */
	uint64_t reserved;		/* reserved ranges (tree nodes) */
	uint64_t threads;		/* threads with a cache for this space */
};

/**
 * siommu_iova_space_create() - Create an IOVA space.
 * @ctx: the context it hangs off (held busy until destroy).
 * @cfg: aperture, granule and flags.
 * Context: any thread.
 * Returns: 0, -EINVAL (NULL pointer, granule_lg2 out of 2..48, start or
 *          last + 1 not granule aligned, start > last, unknown flag),
 *          -ENOMEM, or -EIO: the process could not register for
 *          membarrier(2), which per-thread caches need (the first caching
 *          create registers; a later one tries again).  Nothing is created
 *          on error.
 */
SIOMMU_API int siommu_iova_space_create(struct siommu_ctx *ctx,
					const struct siommu_iova_config *cfg,
					struct siommu_iova_space **out);

/**
 * siommu_iova_space_destroy() - Destroy a space and every cache of it.
 * Reserved ranges go with it.
 * Context: any thread; no other thread may use @s concurrently (threads that
 *          used it may still be alive or exiting).
 * Returns: 0, or -EBUSY (nothing done) while ranges are allocated: free them,
 *          or call siommu_iova_free_all(), first.  NULL is accepted.
 */
SIOMMU_API int siommu_iova_space_destroy(struct siommu_iova_space *s);

/**
 * siommu_iova_alloc() - Allocate @size bytes of IOVA at or below @limit.
 * @size: bytes, rounded up to the granule, then to a power of two of
 *        granules if at most SIOMMU_IOVA_CACHE_MAX granules.
 * @limit: highest address the range may include (inclusive), e.g. a DMA mask
 *         such as 0xffffffff; UINT64_MAX for the whole aperture.
 * @iova: set to the start of the range on success.
 * Context: any thread, concurrently with every other call on @s, inside or
 *          outside a read-side section.  The common case (a cached size
 *          freed before by this thread) takes no lock and writes no shared
 *          cache line.  When the space looks full it flushes every thread's
 *          cache (see siommu_iova_flush_caches()) and tries once more.
 * Returns: 0; -EINVAL (NULL pointer, @size 0); -ERANGE (@size larger than
 *          the aperture, or @limit below its start: no place could ever fit);
 *          -ENOSPC (no free place below @limit now, or the caches that
 *          might hold one could not be flushed); -ENOMEM.  On error
 *          nothing changed and @iova is untouched.
 */
SIOMMU_API int siommu_iova_alloc(struct siommu_iova_space *s, uint64_t size,
				 uint64_t limit, uint64_t *iova);

/**
 * siommu_iova_free() - Free the range siommu_iova_alloc() returned at @iova.
 * Context: any thread, concurrently with every other call on @s, inside or
 *          outside a read-side section (RCU callbacks may call it).  The
 *          common case takes no lock: one atomic compare-and-swap on the
 *          range's own tree node.
 * Returns: 0; -EINVAL (@s NULL, @iova not granule aligned); -ENOENT (no
 *          allocated range starts at @iova: never allocated, already freed,
 *          reserved, or not the start of its range).  A double free is
 *          -ENOENT and changes nothing, even when the first free is still
 *          sitting in a cache, and even when two threads race to free it.
 */
SIOMMU_API int siommu_iova_free(struct siommu_iova_space *s, uint64_t iova);

/**
 * siommu_iova_find() - The allocated or reserved range that contains @addr.
 * Context: any thread; takes the tree lock.  The answer may be stale as soon
 *          as it is returned if other threads allocate and free.
 * Returns: 0 (@out filled, kind ALLOCATED or RESERVED), -EINVAL (NULL
 *          pointer) or -ENOENT (@addr is free, or freed and cached).
 */
SIOMMU_API int siommu_iova_find(struct siommu_iova_space *s, uint64_t addr,
				struct siommu_iova_range *out);

/**
 * siommu_iova_reserve() - Keep [start, last] out of every later allocation.
 * The part outside the aperture is ignored; granules that overlap the range
 * at all are reserved.  Reserving what is already reserved is allowed.
 * Context: any thread.  If cached (freed) ranges overlap, every thread's cache
 *          is flushed first (see siommu_iova_flush_caches()).
 * Returns: 0, -EINVAL (@s NULL, @start > @last), -EBUSY (an allocated range
 *          overlaps: nothing reserved), -ENOMEM (nothing reserved) or -EIO
 *          (cached ranges overlap and the caches could not be flushed:
 *          membarrier(2) failed; nothing reserved).
 */
SIOMMU_API int siommu_iova_reserve(struct siommu_iova_space *s, uint64_t start,
				   uint64_t last);

/**
 * siommu_iova_free_all() - Free every allocated range (not reservations),
 * and empty every cache: the space is as after create and reserve.
 * Context: any thread; no alloc or free on @s may run concurrently.
 */
SIOMMU_API void siommu_iova_free_all(struct siommu_iova_space *s);

/**
 * siommu_iova_flush_caches() - Give every range held by any thread's cache,
 * and by the depot, back to the tree.
 * Context: any thread, inside or outside a read-side section; may block
 *          briefly (it makes every thread of the process execute a memory
 *          barrier, membarrier(2), and waits for cache operations in flight
 *          to end).  Other calls on @s keep working meanwhile, bypassing the
 *          caches being flushed.
 * Returns: 0, -EINVAL (@s NULL) or -EIO (membarrier(2) failed, which a
 *          registered process should never see: nothing was flushed, every
 *          cache keeps working).
 */
SIOMMU_API int siommu_iova_flush_caches(struct siommu_iova_space *s);

/**
 * siommu_iova_snapshot() - The ranges of the tree, in address order.
 * @out: up to @max ranges are written here (NULL allowed if @max is 0).
 * @nr: set to the number of ranges in the tree.
 * Context: any thread; takes the tree lock.
 * Returns: 0, -EINVAL (NULL pointer) or -ENOSPC (more than @max ranges:
 *          the first @max are written, *@nr says how many there are).
 */
SIOMMU_API int siommu_iova_snapshot(struct siommu_iova_space *s,
				    struct siommu_iova_range *out, size_t max,
				    size_t *nr);

/**
 * siommu_iova_get_stats() - Counters and current state of @s.
 * Context: any thread; takes the registry and tree locks briefly.
 * Returns: 0 or -EINVAL (NULL pointer).
 */
SIOMMU_API int siommu_iova_get_stats(struct siommu_iova_space *s,
				     struct siommu_iova_stats *out);

/** siommu_iova_kind_name() - "allocated", "cached", "reserved" or NULL. */
SIOMMU_API const char *siommu_iova_kind_name(enum siommu_iova_kind kind);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_IOVA_H */
