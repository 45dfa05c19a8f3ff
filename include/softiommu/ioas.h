/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu ioas: I/O address spaces of user memory (seeds 004, 003).
 *
 * The object model is iommufd's, so that its users feel at home:
 *
 *  - struct siommu_ioas_layer: the ioas layer of one IOMMU (iommufd's
 *    context).  It registers a core layer (siommu_layer_register()) so that
 *    attaching a device to one of its domains fills the domain's table.
 *  - struct siommu_ioas: an I/O address space.  It holds "areas": IOVA
 *    ranges mapped to host memory (struct siommu_ioas_mem: memory the caller
 *    passes, a memfd, a file at an offset, or a region of a memory map).
 *  - domains of an IOAS (siommu_ioas_domain_alloc(), iommufd's HWPT): PAGING
 *    domains whose tables the IOAS keeps equal to its areas while a device
 *    is attached to them.
 *
 * Pages and "pinning" in user space.  The kernel pins a user page by taking
 * a reference on it, so the page stays even if the process unmaps it.  A
 * user-space library cannot take a reference on the caller's mapping, so
 * softiommu's pin is a reference that keeps the memory valid the way user
 * space can:
 *  - MEMFD and FILE: the IOAS duplicates the descriptor and mmaps the range
 *    (MAP_SHARED) when the memory is mapped; the mapping is kept until the
 *    last area using it (and, later, the last access pin) goes.  The caller
 *    may close its descriptor at once.  It must not truncate the file below
 *    the range while it is mapped (an access would then fault, as it would
 *    for any shared mapping).
 *  - HOST (anonymous memory the caller passes): the caller keeps the memory
 *    valid until the last area using it is unmapped (unlike iommufd, where
 *    the pin keeps the page alive after munmap: user space cannot).
 *  - REGION (a RAM or HOST region of a struct siommu_mem): the IOAS counts
 *    itself a user of the region (siommu_mem_region_get()), which keeps
 *    siommu_mem_region_destroy() from freeing it, and the region can be
 *    revoked (seed 003): see siommu_ioas_domain_alloc().
 * A pages object (the pinned memory of one map) is shared by every area
 * made from it by siommu_ioas_copy(): pinned once, counted per area.
 *
 * Addresses the domains map: a domain of the IOAS maps each IOVA of an area
 * to the output address of its memory: for REGION memory the region's
 * physical address (the IOMMU must use that memory map); for the other
 * kinds the host address (the IOMMU must have no memory map: output
 * addresses are then host addresses), so DMA reaches the memory.
 *
 * Locking.  Each IOAS has one mutex (rank IOAS, 151: taken inside core layer
 * callbacks and by every function here but pin, unpin and rw, never by a
 * reader) held across the updates of its attached domains' tables, so the
 * tables never disagree with the areas when the lock is free.  Access pins,
 * unpins and rw take no IOAS lock: they find the areas in an RCU snapshot
 * and hold them with a per-area count (so threads pinning disjoint areas do
 * not serialize), and take only their own access's mutex.  Every function
 * here that may block is refused with -EDEADLK inside a read-side section.
 *
 * Errors are negative errno values; a failing call changes nothing.
 */
#ifndef SOFTIOMMU_IOAS_H
#define SOFTIOMMU_IOAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softiommu/base.h>
#include <softiommu/mem.h>
#include <softiommu/core.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siommu_ioas_layer;
struct siommu_ioas;

/* The IOAS granule: every IOVA, length and offset is a multiple of it. */
#define SIOMMU_IOAS_PAGE_SIZE	4096ull

/* ------------------------------------------------------------------ layer */

/**
 * siommu_ioas_layer_create() - The ioas layer of @iommu: registers a core
 * layer (one of SIOMMU_LAYERS_MAX) whose prepare step fills a domain of an
 * IOAS on its first attachment and whose commit empties it after its last.
 * @ctx: for log messages; held busy until siommu_ioas_layer_destroy().
 * Context: any thread, outside a read-side section and layer callbacks.
 * Returns: 0 with *@out set; -EINVAL (NULL argument); -ENOSPC (no layer
 *          slot left on @iommu); -EDEADLK; -ENOMEM.
 */
SIOMMU_API int siommu_ioas_layer_create(struct siommu_ctx *ctx,
					struct siommu_iommu *iommu,
					struct siommu_ioas_layer **out);

/**
 * siommu_ioas_layer_destroy() - Unregister and free the layer.  NULL
 * returns 0.
 * Context: any thread, outside a read-side section and layer callbacks.
 * Returns: 0; -EBUSY (nothing done) while an IOAS of it lives; -EDEADLK.
 */
SIOMMU_API int siommu_ioas_layer_destroy(struct siommu_ioas_layer *l);

/* ------------------------------------------------------------------ IOAS */

/**
 * siommu_ioas_create() - An empty IOAS: no area, every IOVA allowed
 * ([0, 2^64 - 1]), nothing reserved.
 * Context: any thread.
 * Returns: 0 with *@out set; -EINVAL (NULL argument); -ENOMEM.
 */
SIOMMU_API int siommu_ioas_create(struct siommu_ioas_layer *l,
				  struct siommu_ioas **out);

/**
 * siommu_ioas_destroy() - Unmap every area and free the IOAS.  NULL
 * returns 0.
 * Context: any thread, outside a read-side section and revoke notifiers.
 * Returns: 0; -EBUSY (nothing done) while the IOAS has domains
 *          (siommu_ioas_domain_free() them first) or access objects;
 *          -EDEADLK (nothing done).
 */
SIOMMU_API int siommu_ioas_destroy(struct siommu_ioas *ioas);

/* ------------------------------------------------------------------ memory */

enum siommu_ioas_mem_type {
	SIOMMU_IOAS_MEM_HOST = 1,	/* @host: memory the caller keeps valid */
	SIOMMU_IOAS_MEM_MEMFD,		/* @fd: a memfd, at @offset */
	SIOMMU_IOAS_MEM_FILE,		/* @fd: a regular file, at @offset */
	SIOMMU_IOAS_MEM_REGION,		/* @region of @mem, at @offset */
};

/* struct siommu_ioas_mem.flags */
#define SIOMMU_IOAS_MEM_READONLY	(1u << 0)	/* HOST: the memory must not be written */

/*
 * The memory of a map.  Lengths come from siommu_ioas_map().  @host and
 * @offset must be multiples of SIOMMU_IOAS_PAGE_SIZE.  Read-only memory
 * (HOST with SIOMMU_IOAS_MEM_READONLY; a FILE or MEMFD descriptor opened
 * O_RDONLY; a memfd sealed F_SEAL_WRITE or F_SEAL_FUTURE_WRITE) may only be
 * mapped without SIOMMU_IOAS_MAP_WRITE.
 */
struct siommu_ioas_mem {
	enum siommu_ioas_mem_type type;
	unsigned int flags;		/* SIOMMU_IOAS_MEM_* */
	void *host;			/* HOST */
	int fd;				/* MEMFD, FILE: duplicated, the caller may close it */
	uint64_t offset;		/* MEMFD, FILE, REGION: byte offset of the range */
	struct siommu_mem *mem;		/* REGION: the memory map */
	struct siommu_mem_region *region; /* REGION: RAM or HOST (not MMIO) */
};

/* ------------------------------------------------------------------ map */

/* siommu_ioas_map() and siommu_ioas_copy() flags */
#define SIOMMU_IOAS_MAP_READ		(1u << 0)	/* devices may read */
#define SIOMMU_IOAS_MAP_WRITE		(1u << 1)	/* devices may write */
#define SIOMMU_IOAS_MAP_FIXED_IOVA	(1u << 2)	/* at *@iova, else the IOAS chooses */

/**
 * siommu_ioas_map() - Map @length bytes of @m at an IOVA: at *@iova with
 * SIOMMU_IOAS_MAP_FIXED_IOVA, else at one the IOAS chooses (the lowest
 * allowed, unreserved hole aligned to the largest of 1 GiB, 2 MiB or 4 KiB
 * that the length reaches, falling back to smaller alignments) and returns
 * in *@iova.  Every domain of the IOAS that is attached gets the mapping
 * before this returns.
 * Context: any thread, outside a read-side section; takes the IOAS's lock.
 * Returns: 0; -EINVAL (NULL argument, @length 0 or not a multiple of the
 *          granule, a misaligned IOVA, host address or offset, neither READ
 *          nor WRITE, unknown flag or type, the range in a reserved or not
 *          allowed IOVA range or beyond an attached domain's aperture, an
 *          MMIO region, an offset and length beyond the file or region, a
 *          descriptor that is not a memfd/regular file); -EOVERFLOW (the
 *          IOVA, host or file range wraps); -EEXIST (overlaps an area);
 *          -ENOSPC (no hole of @length); -EPERM (WRITE of read-only
 *          memory); -EBADF (a bad descriptor); -ENODEV (a revoked region);
 *          -ENOMEM; a domain's map error.  On error nothing changed.
 */
SIOMMU_API int siommu_ioas_map(struct siommu_ioas *ioas,
			       const struct siommu_ioas_mem *m,
			       uint64_t length, unsigned int flags,
			       uint64_t *iova);

/**
 * siommu_ioas_copy() - Map the pages that [@src_iova, @src_iova + @length
 * - 1] of @src maps (one area, a sub-range of one, or several contiguous
 * areas) into @dst (which may be @src) at *@dst_iova (FIXED_IOVA) or at an
 * IOVA @dst chooses.  The new areas share the source's pages: nothing is
 * pinned again.  @flags: READ/WRITE of the new areas (WRITE only from a
 * writable source), FIXED_IOVA.
 * Context: as siommu_ioas_map(); takes @src's lock, then @dst's (never
 *          both at once).
 * Returns: as siommu_ioas_map(), and -EINVAL (@src and @dst of different
 *          layers: as in iommufd, a copy stays in one context); -ENOENT
 *          (some byte of the source range is not mapped); -EPERM (WRITE of
 *          a source area that is not writable); -ENODEV (a source area's
 *          region was revoked).  On error nothing changed.
 */
SIOMMU_API int siommu_ioas_copy(struct siommu_ioas *dst, uint64_t *dst_iova,
				struct siommu_ioas *src, uint64_t src_iova,
				uint64_t length, unsigned int flags);

/**
 * siommu_ioas_unmap() - Unmap every area inside [@iova, @iova + @length -
 * 1], which must cover each area it touches exactly (areas are never
 * split), from the IOAS and from every attached domain (strict domains:
 * no DMA reaches the memory when this returns).  *@unmapped (if not NULL)
 * gets the bytes unmapped.
 * Context: any thread, outside a read-side section; takes the IOAS's lock
 *          (held across the domains' unmaps, which wait for grace periods).
 * Access objects holding pins in the range are asked to unpin first (see
 * "Unmap of a range with pins" below).
 * Returns: 0; -EINVAL (NULL @ioas, @length 0 or misaligned, misaligned
 *          @iova); -EOVERFLOW (the range wraps); -ENOENT (nothing mapped in
 *          the range, or an area crosses its boundary: nothing unmapped);
 *          -EBUSY (pins stayed: nothing unmapped); -ENOMEM (the new lookup
 *          snapshot: nothing unmapped, and no access was asked to unpin,
 *          unless a callback mapped more areas meanwhile); -EDEADLK.
 */
SIOMMU_API int siommu_ioas_unmap(struct siommu_ioas *ioas, uint64_t iova,
				 uint64_t length, uint64_t *unmapped);

/**
 * siommu_ioas_unmap_all() - Unmap every area (an empty IOAS succeeds with 0).
 * Context: as siommu_ioas_unmap().
 * Returns: 0; -EINVAL (NULL @ioas); -EBUSY (pins stayed: nothing
 *          unmapped); -ENOMEM (nothing unmapped); -EDEADLK.
 */
SIOMMU_API int siommu_ioas_unmap_all(struct siommu_ioas *ioas,
				     uint64_t *unmapped);

/* ------------------------------------------------------------------ ranges */

/* An IOVA range, both ends inclusive. */
struct siommu_ioas_range {
	uint64_t start;
	uint64_t last;
};

/**
 * siommu_ioas_iova_ranges() - The ranges where maps may go: the allowed
 * ranges minus the reserved ones (those given to siommu_ioas_reserve() and
 * what lies beyond an attached domain's aperture), in ascending order.
 * Mapped areas are inside them (they are not holes of this list).
 * @num: in: entries of @out; out: ranges there are.
 * Context: any thread, outside a read-side section; takes the IOAS's lock.
 * Returns: 0; -EMSGSIZE (@out too small: *@num says how many there are,
 *          @out holds the first ones); -EINVAL (NULL @ioas or @num, @out
 *          NULL with *@num > 0); -EDEADLK.
 */
SIOMMU_API int siommu_ioas_iova_ranges(struct siommu_ioas *ioas,
				       struct siommu_ioas_range *out,
				       unsigned int *num);

/**
 * siommu_ioas_allow_iovas() - Replace the allowed set by @n ranges (n = 0:
 * everything allowed again), atomically.  Adjacent ranges allow what they
 * cover together (an area or a map may cross their boundary).  The allowed
 * and the reserved ranges are disjoint (see siommu_ioas_reserve()).
 * Context: as siommu_ioas_iova_ranges().
 * Returns: 0; -EINVAL (NULL @ranges with @n > 0, a range with last < start
 *          or not granule-aligned (start and last + 1), overlapping
 *          ranges); -EADDRINUSE (a range overlaps a reserved range, or an
 *          area would fall outside the set); -ENOMEM; -EDEADLK.  On error
 *          the old set stays.
 */
SIOMMU_API int siommu_ioas_allow_iovas(struct siommu_ioas *ioas,
				       const struct siommu_ioas_range *ranges,
				       unsigned int n);

/**
 * siommu_ioas_reserve() - Reserve [@start, @last] (e.g. a device's MSI
 * window): no map goes there.  siommu_ioas_unreserve() removes a
 * reservation made with the same bounds.
 * Context: as siommu_ioas_iova_ranges().
 * Returns: 0; -EINVAL (last < start, misaligned); -EEXIST (overlaps an
 *          area); -EADDRINUSE (overlaps the allowed set, with one set);
 *          -ENOENT (unreserve: no such reservation); -ENOMEM; -EDEADLK.
 */
SIOMMU_API int siommu_ioas_reserve(struct siommu_ioas *ioas, uint64_t start,
				   uint64_t last);
SIOMMU_API int siommu_ioas_unreserve(struct siommu_ioas *ioas, uint64_t start,
				     uint64_t last);

/* ------------------------------------------------------------------ domains */

/**
 * siommu_ioas_domain_alloc() - Create a PAGING domain of the layer's IOMMU
 * (@cfg->type must be PAGING; @cfg->pt must be NULL) owned by @ioas: the
 * IOAS is its revocation owner (siommu_domain_set_revoke_owner()).  While
 * a device or PASID is attached to it its table holds every area of the
 * IOAS: the first attach fills it in the core's prepare step (refused with
 * nothing changed when the domain cannot hold an area: -ENOSPC beyond its
 * aperture, -EINVAL for page sizes that do not divide it), the last
 * detach empties it, and map, copy and unmap keep it in step.  While it
 * is filled, what lies beyond its aperture is reserved in the IOAS.
 * A revoke of a memory-map region that an area maps (REGION memory) tears
 * the area's mappings down in every domain before the revoke returns; the
 * area stays in the IOAS (unmap it) but is no longer in any table.  The
 * accesses pinning such an area are asked to unpin (their callback on the
 * area) before the revoke returns whether or not a domain is attached: an
 * IOAS that maps REGION memory of a memory map keeps a revoke notifier on
 * that map until siommu_ioas_destroy() (siommu_mem_destroy() is -EBUSY
 * meanwhile); pins that stay are logged.
 * Prepare errors: the fill refuses the attach (siommu_device_attach() and
 * the other attach calls return it, nothing changed) with -ENOENT (the
 * domain is being freed), -ENOSPC (an area beyond the aperture), -EINVAL
 * (page sizes that do not divide an area), -ENOMEM (table pages, or the
 * reservation of what lies beyond the aperture), or as siommu_domain_map()
 * for an area's mapping.
 * Context: any thread, outside a read-side section.
 * Returns: 0 with *@out set; -EINVAL (NULL argument, not PAGING, @cfg->pt
 *          set); -EDEADLK; -ENOMEM; the domain's creation errors, which
 *          are as siommu_domain_create().
 */
SIOMMU_API int siommu_ioas_domain_alloc(struct siommu_ioas *ioas,
					const struct siommu_domain_cfg *cfg,
					struct siommu_domain **out);

/**
 * siommu_ioas_domain_free() - Destroy a domain made by
 * siommu_ioas_domain_alloc().  NULL returns 0.
 * Context: any thread, outside a read-side section.
 * Returns: 0; -EINVAL (not a domain of an IOAS of this layer); -EBUSY
 *          (nothing done) while attached; -EDEADLK.
 */
SIOMMU_API int siommu_ioas_domain_free(struct siommu_ioas_layer *l,
				       struct siommu_domain *dom);

/* ------------------------------------------------------------------ access objects */

/*
 * Access objects (iommufd's "access"): a device that reaches memory through
 * the CPU, like a mediated device, pins pages of an IOAS by IOVA and reads
 * or writes through it.  Pins are counted per page of the pinned memory
 * (pages shared by copy are counted once, whichever area was pinned).
 *
 * Unmap of a range with pins (seed 004).  siommu_ioas_unmap() of a range
 * where accesses hold pins:
 *  1. blocks new pins and rw on the range (they fail with -EBUSY; a pin or
 *     rw already holding an area of it is waited for, or notified);
 *  2. calls the unmap callback of every access holding pins there, one at a
 *     time, with NO lock of the IOAS held (the callback may unpin, pin
 *     elsewhere, rw, or unmap another range);
 *  3. takes the lock again and looks everything up from scratch (the areas
 *     seen before may be gone, or be new ones);
 *  4. repeats for at most siommu_ioas_set_unmap_retries() rounds (default
 *     100, as iommufd); a round in which the pinned pages of the range went
 *     down resets the count;
 *  5. then fails with -EBUSY: unlike Linux (which leaves the areas before
 *     the stuck one unmapped), NOTHING in the range is unmapped, pins and
 *     rw work again, and the accesses still holding pins are named (a log
 *     warning, and siommu_ioas_pin_holders()).
 * A pin of an unrevocable access (created without a callback) makes the
 * unmap -EBUSY at once.  A callback runs while its access is kept alive:
 * destroying the access waits for it.
 */
struct siommu_ioas_access;

/*
 * An access's unmap callback: drop (siommu_ioas_access_unpin()) every pin
 * inside [iova, iova + length - 1] before returning.  Called with no lock
 * of the IOAS held, outside read-side sections; it may pin, unpin, rw and
 * unmap; it must not destroy its own access (-EDEADLK).
 */
typedef void siommu_ioas_unmap_fn(void *opaque, uint64_t iova, uint64_t length);

/* siommu_ioas_access_create() flags */
#define SIOMMU_IOAS_ACCESS_UNREVOCABLE	(1u << 0)	/* no callback: its pins make unmap -EBUSY */

/* siommu_ioas_access_pin() / _rw() flags */
#define SIOMMU_IOAS_ACCESS_WRITE	(1u << 0)	/* the pages will be written */

/**
 * siommu_ioas_access_create() - An access on @ioas named @name (copied, at
 * most 31 bytes kept) with an unmap callback @fn(@opaque, ...).  @fn may be
 * NULL only with SIOMMU_IOAS_ACCESS_UNREVOCABLE (an access with neither
 * may rw but not pin).
 * Context: any thread, outside a read-side section.
 * Returns: 0 with *@out set; -EINVAL (NULL @ioas or @out, unknown flag,
 *          UNREVOCABLE with a callback); -EDEADLK; -ENOMEM.
 */
SIOMMU_API int siommu_ioas_access_create(struct siommu_ioas *ioas,
					 const char *name,
					 siommu_ioas_unmap_fn *fn, void *opaque,
					 unsigned int flags,
					 struct siommu_ioas_access **out);

/**
 * siommu_ioas_access_destroy() - Ask the access to drop everything (its
 * callback on the whole IOVA space, if it has pins), wait for callbacks of
 * it that unmaps are running, and free it.  NULL returns 0.
 * Context: any thread, outside a read-side section; not from its own
 *          callback; no other call on @acc runs concurrently (an unmap's
 *          callback of it does, and is waited for).
 * Returns: 0; -EBUSY (nothing done) while it still holds pins; -EDEADLK
 *          (inside a read-side section or its own callback).
 */
SIOMMU_API int siommu_ioas_access_destroy(struct siommu_ioas_access *acc);

/**
 * siommu_ioas_access_replace() - Move @acc to @ioas: like destroy, ask it
 * to drop everything first and refuse while pins stay; then it belongs to
 * @ioas (with a new id there).  Replacing by its own IOAS is a no-op.
 * Context: as siommu_ioas_access_destroy(); no other call on @acc may run
 *          concurrently.
 * Returns: 0; -EINVAL (NULL argument); -EBUSY (nothing done) while it
 *          holds pins; -EDEADLK.
 */
SIOMMU_API int siommu_ioas_access_replace(struct siommu_ioas_access *acc,
					  struct siommu_ioas *ioas);

/**
 * siommu_ioas_access_pin() - Pin [@iova, @iova + @length - 1] (granule
 * aligned, inside areas, possibly several contiguous ones) and give the
 * host address of each page in @pages[0 .. length / 4096 - 1], valid until
 * the matching unpin.
 * Context: any thread, outside a read-side section; takes no IOAS lock
 *          (an RCU lookup; the access's own mutex); never blocks on an
 *          unmap (its range blocked: -EBUSY at once).
 * Returns: 0; -EINVAL (NULL argument, @length 0, misaligned, unknown
 *          flag); -EOVERFLOW (wraps); -ENOENT (a byte not mapped); -EPERM
 *          (WRITE of a read-only area; an access with no callback that is
 *          not UNREVOCABLE); -EBUSY (an unmap of the range is in progress:
 *          retry); -ENODEV (the memory's region was revoked); -ENOMEM;
 *          -EDEADLK.  On error nothing is pinned.
 */
SIOMMU_API int siommu_ioas_access_pin(struct siommu_ioas_access *acc,
				      uint64_t iova, uint64_t length,
				      unsigned int flags, void **pages);

/**
 * siommu_ioas_access_unpin() - Drop the pin made with exactly @iova and
 * @length (one pin per call).
 * Context: as siommu_ioas_access_pin().
 * Returns: 0; -EINVAL (no pin of @acc with these bounds: nothing done);
 *          -EDEADLK.
 */
SIOMMU_API int siommu_ioas_access_unpin(struct siommu_ioas_access *acc,
					uint64_t iova, uint64_t length);

/**
 * siommu_ioas_access_rw() - Copy @len bytes between @buf and the IOAS at
 * @iova (any alignment, across contiguous areas): write with
 * SIOMMU_IOAS_ACCESS_WRITE, else read.  All of it is checked before a byte
 * moves.
 * Context: as siommu_ioas_access_pin().
 * Returns: 0; -EINVAL (NULL argument, @len 0, unknown flag); -EOVERFLOW;
 *          -ENOENT; -EPERM (write to a read-only area); -EBUSY (an unmap
 *          of the range is in progress); -ENODEV (revoked); -EDEADLK.
 *          The copy runs inside a read-side section with the areas held:
 *          an unmap of them waits for it, and once a revoke of their
 *          REGION memory returns no rw copies from it.
 */
SIOMMU_API int siommu_ioas_access_rw(struct siommu_ioas_access *acc,
				     uint64_t iova, void *buf, size_t len,
				     unsigned int flags);

struct siommu_ioas_access_info {
	uint32_t id;			/* unique in the IOAS, from 1 */
	char name[32];
	uint64_t pins;			/* pin calls not yet unpinned */
	uint64_t pinned_bytes;
	unsigned int flags;
};

/**
 * siommu_ioas_access_get_info() - Describe @acc.
 * Context: any thread, outside a read-side section; takes the access's
 *          mutex.  Returns: 0, -EINVAL, -EDEADLK.
 */
SIOMMU_API int siommu_ioas_access_get_info(struct siommu_ioas_access *acc,
					   struct siommu_ioas_access_info *out);

/**
 * siommu_ioas_pin_holders() - The ids of the accesses holding pins inside
 * [@iova, @iova + @length - 1] (after an unmap's -EBUSY: who held on), in
 * creation order; fills at most @max of @ids.
 * Context: any thread, outside a read-side section; a snapshot.
 * Returns: the number of holders (may exceed @max); -EINVAL; -EOVERFLOW;
 *          -EDEADLK.
 */
SIOMMU_API int siommu_ioas_pin_holders(struct siommu_ioas *ioas, uint64_t iova,
				       uint64_t length, uint32_t *ids,
				       unsigned int max);

/**
 * siommu_ioas_set_unmap_retries() - Rounds of callbacks an unmap makes
 * before -EBUSY (1..1000000; default 100).
 * Context: any thread.  Returns: 0 or -EINVAL.
 */
SIOMMU_API int siommu_ioas_set_unmap_retries(struct siommu_ioas *ioas,
					     unsigned int rounds);

/* ------------------------------------------------------------------ queries */

struct siommu_ioas_area_info {
	uint64_t iova;
	uint64_t length;
	unsigned int flags;		/* SIOMMU_IOAS_MAP_READ / _WRITE */
	enum siommu_ioas_mem_type type;
	void *host;			/* host address of the area's first byte */
	uint64_t pa;			/* output address domains map it to */
	unsigned int pages_users;	/* areas sharing its pages (copy) */
	bool revoked;			/* its region was revoked */
};

struct siommu_ioas_info {
	uint64_t areas;
	uint64_t mapped_bytes;
	uint32_t domains;		/* allocated by siommu_ioas_domain_alloc() */
	uint32_t domains_filled;	/* ... attached, so holding the areas */
	uint64_t pages_objects;		/* distinct pinned memory objects */
	uint32_t accesses;		/* access objects on it */
	uint64_t pinned_pages;		/* sum of the per-page pin counts of its areas' pages */
};

/**
 * siommu_ioas_get_info() - Describe @ioas.
 * siommu_ioas_area_find() - Describe the area holding @iova (-ENOENT: none).
 * Context: any thread, outside a read-side section; takes the IOAS's lock.
 * Returns: 0; -EINVAL; -ENOENT; -EDEADLK.
 */
SIOMMU_API int siommu_ioas_get_info(struct siommu_ioas *ioas,
				    struct siommu_ioas_info *out);
SIOMMU_API int siommu_ioas_area_find(struct siommu_ioas *ioas, uint64_t iova,
				     struct siommu_ioas_area_info *out);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_IOAS_H */
