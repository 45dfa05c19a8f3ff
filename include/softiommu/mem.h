/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu physical memory map: what page tables point at.
 *
 * A memory map (struct siommu_mem) holds regions at disjoint "physical"
 * address ranges:
 *
 *  - RAM the library allocates (zeroed) and frees,
 *  - RAM the caller registers: host memory shown at a physical address (in
 *    host use the physical address may simply equal the host address),
 *  - MMIO: read/write callbacks with an opaque pointer, called with access
 *    sizes 1, 2, 4 and 8.
 *
 * Addresses are found lock-free, inside an RCU read-side section
 * (siommu_read_lock() in softiommu/base.h).  Accesses either go through
 * siommu_mem_rw(), which enters its own section, or through the _rcu
 * functions, which run inside the caller's: the IOMMU core translates an
 * IOVA and copies the data in one section.  A host pointer or a region
 * pointer obtained inside a section is valid only until that section ends.
 *
 * Revocation (seed 003).  siommu_mem_region_revoke() makes every access
 * that starts afterwards fail with -ENODEV, calls the revoke notifiers
 * registered on the map (the core tears down the region's IOMMU mappings
 * there), waits until every access already in flight has finished, and
 * only then returns.  After it returns nothing touches the region's memory
 * or calls its callbacks: registered host memory may be freed, a device
 * model may go away.  Accesses pay no lock for this: each checks a revoked
 * flag inside its read-side section and revoke waits for a grace period.
 * Consequently MMIO callbacks run inside a read-side section: they may take
 * short locks and even block briefly, but must never wait for a grace period
 * (no siommu_synchronize(), no revoke or destroy), nor wait for a thread
 * that does: do not revoke a region while holding a lock its callbacks take.
 *
 * Concurrent accesses to the same bytes of RAM (two devices' DMA, or DMA
 * and siommu_mem_rw()) are not ordered by the library: the copies are plain
 * memcpy, so, as on a bus, they may interleave and tear, and in C's terms
 * they are a data race (ThreadSanitizer reports it).  Whoever shares memory
 * between accessors orders them (doorbells, flags through MMIO, locks), as
 * a driver and its device do.
 *
 * Errors: -EINVAL for bad arguments, -EEXIST for an overlapping region,
 * -EFAULT for an address no region covers, -ENODEV for a revoked region,
 * -EBUSY for destroying what is in use, -EDEADLK for a call that would wait
 * for a grace period from inside a read-side section or a notifier.  A
 * failing call changes nothing (accesses excepted: see siommu_mem_rw()).
 */
#ifndef SOFTIOMMU_MEM_H
#define SOFTIOMMU_MEM_H

#include <softiommu/base.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siommu_mem;
struct siommu_mem_region;
struct siommu_mem_notifier;

enum siommu_mem_type {
	SIOMMU_MEM_RAM = 1,	/* memory the library allocated */
	SIOMMU_MEM_HOST,	/* memory the caller registered */
	SIOMMU_MEM_MMIO,	/* read/write callbacks */
};

/*
 * MMIO callbacks.  @offset is the offset of the access in the region,
 * aligned to @size, which is 1, 2, 4 or 8; values are little-endian in the
 * caller's buffer.  An access is split into the largest naturally aligned
 * pieces that fit (a 6-byte access at offset 2 is a 2-byte then a 4-byte
 * call).  Return 0, or a negative errno value that ends the access with
 * that error (a positive value is taken as -EIO).
 * Context: inside a read-side section; see the rules at the top of this
 * header.  Both callbacks are required.
 */
struct siommu_mem_mmio_ops {
	int (*read)(void *opaque, uint64_t offset, unsigned int size,
		    uint64_t *val);
	int (*write)(void *opaque, uint64_t offset, unsigned int size,
		     uint64_t val);
};

/* The largest RAM region the library allocates (64 GiB). */
#define SIOMMU_MEM_RAM_MAX	(1ull << 36)

struct siommu_mem_region_info {
	uint64_t pa;			/* first byte */
	uint64_t size;			/* bytes */
	enum siommu_mem_type type;
	bool revoked;			/* revoke started (accesses fail) */
	uint64_t users;			/* siommu_mem_region_get() count */
};

/* What a lookup found: valid only inside the caller's read-side section. */
struct siommu_mem_span {
	struct siommu_mem_region *region;
	enum siommu_mem_type type;
	uint64_t offset;		/* of the address in the region */
	uint64_t len;			/* bytes from the address to the region's end */
	void *host;			/* RAM and HOST: host address of the byte; MMIO: NULL */
};

struct siommu_mem_stats {
	uint64_t reads;			/* accesses that succeeded */
	uint64_t writes;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t mmio_calls;		/* callback invocations */
	uint64_t err_unmapped;		/* accesses and lookups that got -EFAULT */
	uint64_t err_revoked;		/* ... that got -ENODEV */
	uint64_t err_mmio;		/* accesses a callback failed */
	uint64_t revokes;		/* regions revoked (explicitly or by destroy) */
	uint32_t regions;		/* live regions (revoked ones included) */
	uint32_t notifiers;
};

/**
 * siommu_mem_create() - Create an empty memory map.  It holds @ctx busy.
 * Context: any thread.
 * Returns: 0, -EINVAL (@ctx or @out NULL) or -ENOMEM.
 */
SIOMMU_API int siommu_mem_create(struct siommu_ctx *ctx,
				 struct siommu_mem **out);

/**
 * siommu_mem_destroy() - Destroy an empty memory map.  NULL is accepted.
 * Context: any thread; no other thread may use @mem any more.
 * Returns: 0, or -EBUSY (nothing done) while regions or notifiers remain.
 */
SIOMMU_API int siommu_mem_destroy(struct siommu_mem *mem);

/**
 * siommu_mem_add_ram() - Add @size bytes of zeroed RAM, allocated by the
 * library, at [@pa, @pa + @size - 1].
 * Context: any thread, inside or outside a read-side section; takes the
 * map's mutex briefly.  Lookups that start after it returns see the region.
 * Returns: 0 with *@out set; -EINVAL (NULL argument, @size 0 or above
 * SIOMMU_MEM_RAM_MAX, the range wraps past 2^64); -EEXIST (overlaps a
 * region, revoked ones included); -ENOMEM.  On error nothing changed.
 */
SIOMMU_API int siommu_mem_add_ram(struct siommu_mem *mem, uint64_t pa,
				  uint64_t size,
				  struct siommu_mem_region **out);

/**
 * siommu_mem_add_host() - Show the caller's memory [@host, @host + @size)
 * at [@pa, @pa + @size - 1].  The memory must stay valid until the region
 * is revoked (or destroyed); afterwards the library never touches it.
 * Context and Returns: as siommu_mem_add_ram(); -EINVAL also for @host
 * NULL or a host range that wraps.
 */
SIOMMU_API int siommu_mem_add_host(struct siommu_mem *mem, uint64_t pa,
				   void *host, uint64_t size,
				   struct siommu_mem_region **out);

/**
 * siommu_mem_add_mmio() - Add an MMIO region handled by @ops (copied) with
 * @opaque.  The callbacks may be called as soon as this returns and until
 * the region is revoked.
 * Context and Returns: as siommu_mem_add_ram(); -EINVAL also for @ops or
 * one of its callbacks NULL.
 */
SIOMMU_API int siommu_mem_add_mmio(struct siommu_mem *mem, uint64_t pa,
				   uint64_t size,
				   const struct siommu_mem_mmio_ops *ops,
				   void *opaque,
				   struct siommu_mem_region **out);

/**
 * siommu_mem_region_revoke() - Revoke @r (seed 003).
 * In order: every access that starts from now on fails with -ENODEV and
 * siommu_mem_region_get() fails; the map's revoke notifiers are called
 * (outside every lock of this module, outside any read-side section); the
 * call waits until every access that was in flight has finished.  When it
 * returns, nothing touches the region's memory or calls its callbacks any
 * more.  Revoking a revoked region waits until the first revoke has
 * finished and returns 0.  The region keeps its address range (and its
 * users) until it is destroyed.
 * Context: any thread, outside read-side sections and notifiers; may block
 * (a grace period).  No siommu_mem_region_destroy() of @r may run
 * concurrently.
 * Returns: 0, -EINVAL (@r NULL), -EDEADLK (inside a read-side section or a
 * revoke notifier: nothing done).
 */
SIOMMU_API int siommu_mem_region_revoke(struct siommu_mem_region *r);

/**
 * siommu_mem_region_destroy() - Remove @r from its map and free it (and,
 * for RAM, its memory).  A region not yet revoked is revoked first, as
 * siommu_mem_region_revoke() does.  NULL is accepted.
 * Context: as siommu_mem_region_revoke(); no other call on @r may run
 * concurrently except accesses through the map and siommu_mem_region_get()
 * from a read-side section that found @r by a lookup (those fail).
 * Returns: 0; -EBUSY while @r has users (siommu_mem_region_get()): nothing
 * done, not even the revoke; -EDEADLK as for revoke.
 */
SIOMMU_API int siommu_mem_region_destroy(struct siommu_mem_region *r);

/**
 * siommu_mem_region_get() - Count a user of @r (e.g. an IOMMU mapping of
 * it), which keeps siommu_mem_region_destroy() from freeing it.  A revoke
 * notifier is where users of a revoked region let go.
 * Context: any thread; lock-free.  @r must be known valid: the caller holds
 * a user count, owns the region, or found it by a lookup in the read-side
 * section it is still in.
 * Returns: 0; -EINVAL (@r NULL); -ENODEV (revoked or being destroyed);
 * -EOVERFLOW (2^62 - 1 users).
 */
SIOMMU_API int siommu_mem_region_get(struct siommu_mem_region *r);

/**
 * siommu_mem_region_put() - Drop a user count taken by get.
 * Context: any thread; lock-free.
 * Returns: 0, or -EINVAL (@r NULL, or no user to drop: nothing changed).
 */
SIOMMU_API int siommu_mem_region_put(struct siommu_mem_region *r);

/**
 * siommu_mem_region_info() - Describe @r.
 * Context: any thread; lock-free; a snapshot (revoked and users may change
 * at once).
 * Returns: 0 or -EINVAL (NULL argument).
 */
SIOMMU_API int siommu_mem_region_info(struct siommu_mem_region *r,
				      struct siommu_mem_region_info *out);

/*
 * A revoke notifier: called once for each region revoked (by revoke or by
 * destroy) after accesses to it started failing, before the revoke waits
 * for those in flight.  It is where the core tears down every IOMMU mapping
 * of the region and invalidates the IOTLB.
 * Context: the revoking thread, outside every lock of this module and
 * outside read-side sections: it may block and wait for grace periods.  It
 * may look up, access, add regions, register notifiers and drop user
 * counts, but must not revoke or destroy regions nor unregister notifiers
 * (those return -EDEADLK from here).  Several notifiers of one map may run
 * at once on different threads, for different regions.
 */
typedef void siommu_mem_revoke_fn(void *opaque, struct siommu_mem_region *r);

/**
 * siommu_mem_notifier_register() - Call @fn(@opaque, region) for every
 * region of @mem revoked from now on.  A revoke already running when this
 * is called may or may not call @fn.
 * Context: any thread (also a notifier); takes the map's mutex briefly.
 * Returns: 0 with *@out set, -EINVAL (NULL argument) or -ENOMEM.
 */
SIOMMU_API int siommu_mem_notifier_register(struct siommu_mem *mem,
					    siommu_mem_revoke_fn *fn,
					    void *opaque,
					    struct siommu_mem_notifier **out);

/**
 * siommu_mem_notifier_unregister() - Unregister and free @n.  When it
 * returns, @n's function is not running and will not be called again.
 * Context: any thread, outside notifiers (it waits for running calls).
 * Returns: 0, -EINVAL (@n NULL) or -EDEADLK (from a notifier: nothing done).
 */
SIOMMU_API int siommu_mem_notifier_unregister(struct siommu_mem_notifier *n);

/**
 * siommu_mem_lookup_rcu() - Find the region holding @pa.
 * @out: region, offset and, for RAM, the host address of @pa; every pointer
 *       in it is valid only until the caller's read-side section ends.
 * Context: inside a read-side section; lock-free, never blocks.
 * Returns: 0; -EINVAL (NULL argument); -EFAULT (no region holds @pa);
 * -ENODEV (the region is revoked).
 */
SIOMMU_API int siommu_mem_lookup_rcu(struct siommu_mem *mem, uint64_t pa,
				     struct siommu_mem_span *out);

/**
 * siommu_mem_check_range() - Is any byte of [pa, pa + size - 1] in a
 * revoked (or destroyed) region?  Bytes no region holds are not an error
 * here.  The core refuses to map into a revoked region with this; a revoke
 * that sets the flag after this check must find the mapping by other means
 * (the core serializes the two, see its revoke notifier).
 * Context: any thread (also inside a read-side section); lock-free.
 * Returns: 0 (none revoked), -ENODEV, or -EINVAL (@mem NULL, @size 0, the
 * range wraps past 2^64).
 */
SIOMMU_API int siommu_mem_check_range(struct siommu_mem *mem, uint64_t pa,
				      uint64_t size);

/**
 * siommu_mem_rw_rcu() - Read (@write false) or write @len bytes at @pa.
 * An access may span adjacent regions of any types.  All of it is checked
 * before any byte moves: if any byte lies in no region (-EFAULT) or in a
 * revoked region (-ENODEV), nothing is transferred.  An MMIO callback
 * failure ends the access with its error after the bytes before it.
 * Context: inside a read-side section; lock-free; blocks only if an MMIO
 * callback does.
 * Returns: 0, -EINVAL (@mem or @buf NULL, @len 0, the range wraps past
 * 2^64), -EFAULT, -ENODEV, or a callback's error.
 */
SIOMMU_API int siommu_mem_rw_rcu(struct siommu_mem *mem, uint64_t pa,
				 void *buf, size_t len, bool write);

/**
 * siommu_mem_rw() - siommu_mem_rw_rcu() inside a read-side section of its
 * own.
 * Context: any thread (also inside a read-side section: sections nest).
 * Returns: as siommu_mem_rw_rcu().
 */
SIOMMU_API int siommu_mem_rw(struct siommu_mem *mem, uint64_t pa, void *buf,
			     size_t len, bool write);

/*
 * Called for each region of a map in address order, inside a read-side
 * section (the rules of MMIO callbacks apply).  Return non-zero to stop.
 */
typedef int siommu_mem_region_fn(void *opaque, struct siommu_mem_region *r,
				 const struct siommu_mem_region_info *info);

/**
 * siommu_mem_for_each_region() - Visit the regions (dumps, debugging).
 * Context: any thread; lock-free; sees one snapshot of the map.
 * Returns: 0, what @fn returned to stop, or -EINVAL.
 */
SIOMMU_API int siommu_mem_for_each_region(struct siommu_mem *mem,
					  siommu_mem_region_fn *fn,
					  void *opaque);

/**
 * siommu_mem_get_stats() - Sum the map's counters over all threads.
 * Context: any thread; a momentary snapshot while others run.
 * Returns: 0 or -EINVAL.
 */
SIOMMU_API int siommu_mem_get_stats(struct siommu_mem *mem,
				    struct siommu_mem_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_MEM_H */
