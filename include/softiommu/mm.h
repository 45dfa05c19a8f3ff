/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu mm: CPU address spaces (seed 001), their notifiers, shared
 * virtual addressing (SVA) and mirror domains.
 *
 * Objects:
 *  - struct siommu_mm: a CPU address space, as a process has one: areas
 *    (mmap/munmap/mprotect/madvise), its own x86-64 4- or 5-level page
 *    table (a struct siommu_pt of SIOMMU_PT_FMT_X86_64, whose entries hold
 *    host addresses), and backing memory faulted in on demand: anonymous
 *    zero-filled pages of 4 KiB, 2 MiB or 1 GiB (by the area's policy) or
 *    pages of a file or memfd mapped shared.
 *  - struct siommu_mm_notifier: a subscriber told about every change that
 *    removes or downgrades translations (invalidate range start and end),
 *    with the mm's invalidation sequence and in-progress count (KVM's
 *    mmu_invalidate_seq / mmu_invalidate_in_progress).
 *  - struct siommu_mm_interval: a subscriber of one range with its own
 *    odd/even sequence (HMM's mmu_interval_notifier).
 *  - struct siommu_mirror: a secondary MMU: a PAGING domain over an I/O
 *    table of its own (any format) mapping IOVA = virtual address, filled
 *    on device faults from the mm and zapped by the mm's invalidations.
 *  - struct siommu_sva: a device and PASID bound to an mm: a PAGING domain
 *    that walks the mm's own table (x86-64 = VT-d first stage; no copy).
 *
 * Concurrency, in one paragraph: the mm's areas and table are changed
 * under the mm's lock (rank MM), which is never held across a grace
 * period, so a device fault handler may fault the mm from inside a DMA's
 * read-side section.  Every change that removes or downgrades translations
 * is one invalidation: (1) in_progress is incremented and the range joins
 * the union of ranges in flight, notifiers' start callbacks run (mirrors
 * zap); (2) the table is changed; (3) the IOTLB of every SVA domain is
 * invalidated; the lock is dropped; (4) a grace period passes (no CPU
 * access or DMA that loaded an old translation is still copying); (5) the
 * old pages are freed; (6) the sequence is bumped, then in_progress is
 * decremented (in that order: seed 001 and KVM), then end callbacks run.
 * So when the call that changed the mm returns, no CPU access, no SVA DMA
 * and no mirror DMA can reach an old page: the strict-unmap guarantee.
 *
 * Addresses: an mm's virtual addresses are below 2^47 (4 levels) or 2^56
 * (5 levels), 4 KiB aligned for every operation.  Backing pages are host
 * memory: an IOMMU used for SVA or mirrors of an mm must reach host
 * addresses (siommu_iommu_create() without a memory map).
 */
#ifndef SOFTIOMMU_MM_H
#define SOFTIOMMU_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softiommu/base.h>
#include <softiommu/pgtable.h>
#include <softiommu/core.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siommu_mm;
struct siommu_mm_notifier;
struct siommu_mm_interval;
struct siommu_mirror;
struct siommu_sva;

/* ------------------------------------------------------------------ the mm */

struct siommu_mm_cfg {
	unsigned int levels;		/* 4 or 5; 0: 4 */
	uint64_t max_table_pages;	/* the table's pool; 0: pgtable's default */
};

/**
 * siommu_mm_create() - Create an empty address space.
 * Context: any thread.  The mm holds @ctx busy until its last reference
 *          goes (siommu_mm_destroy() and every mirror and binding of it).
 * Returns: 0; -EINVAL (NULL pointer, levels not 0/4/5); -ENOMEM.
 */
SIOMMU_API int siommu_mm_create(struct siommu_ctx *ctx,
				const struct siommu_mm_cfg *cfg,
				struct siommu_mm **out);

/**
 * siommu_mm_destroy() - The last user of the address space goes away (the
 * process exits): every notifier's release callback runs (mirrors zap and
 * stop faulting; SVA bindings detach their PASID, which drains it, and
 * destroy their domain), every area is unmapped as by siommu_mm_munmap()
 * (but allocating nothing: no allocation failure can stop it), and the mm
 * stops accepting operations (-ENODEV).  The object itself is
 * freed when the last mirror, binding, notifier and interval of it is gone
 * too: those may be unregistered (removed) after the destroy.
 * Context: any thread, outside a read-side section (waits for grace
 *          periods), holding no library lock; no other thread operates on
 *          @mm or unregisters its notifiers meanwhile.  NULL is a no-op.
 */
SIOMMU_API void siommu_mm_destroy(struct siommu_mm *mm);

/* Protections (siommu_mm_mmap(), siommu_mm_mprotect()). */
#define SIOMMU_MM_PROT_NONE	0u
#define SIOMMU_MM_PROT_READ	(1u << 0)
#define SIOMMU_MM_PROT_WRITE	(1u << 1)
#define SIOMMU_MM_PROT_EXEC	(1u << 2)
#define SIOMMU_MM_PROT_MASK	0x7u

/* siommu_mm_mmap() flags.  One of ANON or SHARED (a file or memfd). */
#define SIOMMU_MM_MAP_ANON	(1u << 0)	/* zero-filled private memory */
#define SIOMMU_MM_MAP_SHARED	(1u << 1)	/* pages of @fd at @offset, shared */
#define SIOMMU_MM_MAP_FIXED	(1u << 2)	/* exactly at @addr; -EEXIST if taken */
/* Page-size policy of an anonymous area (at most one; none = THP): */
#define SIOMMU_MM_PAGE_THP	0u		/* largest of 4K/2M/1G alignment allows */
#define SIOMMU_MM_PAGE_4K	(1u << 4)
#define SIOMMU_MM_PAGE_2M	(1u << 5)	/* area must be 2 MiB aligned */
#define SIOMMU_MM_PAGE_1G	(1u << 6)	/* area must be 1 GiB aligned */
#define SIOMMU_MM_MAP_MASK	0x77u

/**
 * siommu_mm_mmap() - Add an area of @len bytes: anonymous, or @fd's bytes
 * from @offset (mapped MAP_SHARED: CPU and device writes reach the file).
 * Nothing is backed until it is touched (a CPU fault, a device fault).
 * Without SIOMMU_MM_MAP_FIXED @addr is ignored and the lowest free range
 * aligned to the area's largest page size is chosen.
 * Context: any thread; takes the mm's lock.
 * Returns: 0 with *@out_addr set; -EINVAL (len 0, unaligned @addr, @len or
 *          @offset, bad flags or prot, a fixed page size the range is not
 *          aligned to, fd < 0 with SHARED); -ERANGE (beyond the address
 *          width); -EEXIST (FIXED over an existing area); -ENOSPC (no free
 *          range); -EBADF (mapping @fd failed); -ENODEV (the mm is gone);
 *          -ENOMEM.  On error nothing changed.
 */
SIOMMU_API int siommu_mm_mmap(struct siommu_mm *mm, uint64_t addr, uint64_t len,
			      unsigned int prot, unsigned int flags, int fd,
			      uint64_t offset, uint64_t *out_addr);

/**
 * siommu_mm_munmap() - Remove every area in [addr, addr + len - 1] (holes
 * are skipped; areas straddling an end are cut; huge pages straddling an
 * end are split).  One invalidation (see the top of this header): when it
 * returns, no CPU access and no device access through an SVA binding or a
 * mirror of @mm can reach the old pages, which are freed.
 * Context: any thread, outside a read-side section (waits for a grace
 *          period), holding no library lock.  Takes the mm's lock.
 * Returns: 0; -EINVAL (unaligned, len 0); -ERANGE; -ENODEV; -EDEADLK
 *          (inside a read-side section: nothing done); -ENOMEM (splitting
 *          a huge page needed table pages: nothing changed).
 */
SIOMMU_API int siommu_mm_munmap(struct siommu_mm *mm, uint64_t addr, uint64_t len);

/**
 * siommu_mm_mprotect() - Change the protection of every page of the
 * range, which must be covered by areas (holes: -ENOMEM, as Linux).  The
 * pages stay; translations are rewritten with the new permissions inside
 * one invalidation (so a device that could write before cannot when this
 * returns).
 * Context and Returns: as siommu_mm_munmap(), plus -EINVAL for bad @prot,
 *          -ENOMEM for a hole (nothing changed).
 */
SIOMMU_API int siommu_mm_mprotect(struct siommu_mm *mm, uint64_t addr, uint64_t len,
				  unsigned int prot);

#define SIOMMU_MM_MADV_DONTNEED	1	/* drop the pages: anonymous memory reads zero again */
#define SIOMMU_MM_MADV_NOHUGEPAGE 2	/* split huge pages of the range; fault in 4 KiB */

/**
 * siommu_mm_madvise() - DONTNEED: discard the range's pages (anonymous:
 * freed, the next touch faults a zeroed page; shared file: the file keeps
 * the data, only translations go).  NOHUGEPAGE: split the huge pages that
 * overlap the range into 4 KiB translations of the same memory and fault
 * in 4 KiB pages from now on.  Each is one invalidation.
 * Context and Returns: as siommu_mm_munmap(), plus -EINVAL for @advice.
 *          Holes are skipped.
 */
SIOMMU_API int siommu_mm_madvise(struct siommu_mm *mm, uint64_t addr, uint64_t len,
				 int advice);

/**
 * siommu_mm_split() - Split the huge page that backs @addr (if any) into
 * 512 pages of the next smaller size on the same memory (1 GiB -> 2 MiB,
 * 2 MiB -> 4 KiB), as Linux's THP split does when part of a huge page
 * changes: one invalidation of the huge page's range; the pieces are
 * mapped again by the next access.
 * Context: as siommu_mm_munmap().
 * Returns: 1 (split), 0 (not mapped by a huge page), -EINVAL, -ERANGE,
 *          -ENODEV, -EDEADLK, -ENOMEM.
 */
SIOMMU_API int siommu_mm_split(struct siommu_mm *mm, uint64_t addr);

/* Access types of faults: the SIOMMU_ACC_* values (READ, WRITE, EXEC). */

/**
 * siommu_mm_fault() - A CPU fault at @addr for @access: back the page
 * (zero-filled anonymous page of the area's size, or the file's page) and
 * map it, or succeed if it is mapped with the access allowed already.
 * Context: any thread, also inside a read-side section (a device fault
 *          handler calls it there; it never waits for a grace period);
 *          takes the mm's lock.
 * Returns: 0; -EFAULT (no area at @addr); -EACCES (the area forbids the
 *          access); -ERANGE; -ENODEV (the mm is gone); -ENOMEM.  On error
 *          no page was backed or mapped (empty table pages may have been
 *          added, as siommu_pt_map() says).
 */
SIOMMU_API int siommu_mm_fault(struct siommu_mm *mm, uint64_t addr,
			       unsigned int access);

/**
 * siommu_mm_read() / siommu_mm_write() - Copy @len bytes at @addr as a CPU
 * thread of the process would: through the mm's table (the copy of each
 * page inside one read-side section), faulting pages in as needed.
 * Context: any thread, outside or inside a read-side section (faults take
 *          the mm's lock; never waits for a grace period).
 * Returns: 0; -EFAULT / -EACCES (as siommu_mm_fault(); the bytes before the
 *          faulting page were copied); -EINVAL (NULL, len 0, wraps);
 *          -ERANGE; -ENODEV; -ENOMEM; -EAGAIN (a page was invalidated
 *          between its fault and its copy 1000 times in a row).
 */
SIOMMU_API int siommu_mm_read(struct siommu_mm *mm, uint64_t addr, void *buf,
			      size_t len);
SIOMMU_API int siommu_mm_write(struct siommu_mm *mm, uint64_t addr,
			       const void *buf, size_t len);

/* ------------------------------------------------------------------ lookups (seed 001) */

/**
 * siommu_mm_lookup_level_rcu() - The mapping level of @addr in the mm's
 * table: log2 of the size of the page that maps it, 12, 21 or 30.  The
 * seed-001 walk: inside the caller's read-side section (so no table page
 * can be freed under it), each entry read once; a non-present entry at any
 * level answers 12 (4 KiB), never "none" (KVM's host_pfn_mapping_level()):
 * 4 KiB is always a safe answer.
 *
 * The answer may be stale as soon as it is returned.  It may be acted on
 * only under the three rules (KVM's, from the seed):
 *   1. seq = siommu_mm_invalidate_seq(mm) was read before the lookup (and
 *      before resolving the page it is about);
 *   2. the caller then takes the lock its notifier's invalidate_start
 *      takes to zap (the mirror lock), and checks
 *      siommu_mm_invalidate_retry(mm, seq, addr) under it: if true, the
 *      answer is discarded (retry);
 *   3. the answer is used (the mapping installed) before that lock is
 *      dropped.
 * Context: inside a read-side section; lock-free.
 * Returns: 12, 21 or 30; -ERANGE (beyond the address width).
 */
SIOMMU_API int siommu_mm_lookup_level_rcu(struct siommu_mm *mm, uint64_t addr);
/**
 * siommu_mm_lookup_level() - The same in a read-side section of its own.
 * Returns: as siommu_mm_lookup_level_rcu(); -EINVAL (NULL @mm).
 */
SIOMMU_API int siommu_mm_lookup_level(struct siommu_mm *mm, uint64_t addr);

struct siommu_mm_xlate {
	uint64_t pa;			/* host address of @addr's byte */
	unsigned int pgsize_lg2;	/* 12, 21 or 30 */
	unsigned int prot;		/* SIOMMU_MM_PROT_* the translation grants */
};

/**
 * siommu_mm_translate_rcu() - The translation of @addr in the mm's table
 * (a lock-free walk, each entry read once).  The address is valid until
 * the read-side section ends; the rules above apply to keeping it longer.
 * Context: inside a read-side section; lock-free.
 * Returns: 0; -ENOENT (not mapped); -ERANGE.
 */
SIOMMU_API int siommu_mm_translate_rcu(struct siommu_mm *mm, uint64_t addr,
				       struct siommu_mm_xlate *out);

/* ------------------------------------------------------------------ notifiers */

enum siommu_mm_event {
	SIOMMU_MM_EV_UNMAP = 1,		/* munmap */
	SIOMMU_MM_EV_PROTECT,		/* mprotect */
	SIOMMU_MM_EV_DISCARD,		/* madvise DONTNEED */
	SIOMMU_MM_EV_SPLIT,		/* a huge page split (same memory, smaller pages) */
	SIOMMU_MM_EV_RELEASE,		/* the teardown of siommu_mm_destroy() */
};

/* The range of an invalidation: [start, last], page aligned. */
struct siommu_mm_range {
	uint64_t start;
	uint64_t last;
	enum siommu_mm_event event;
};

/*
 * A notifier's callbacks (each may be NULL).
 * @invalidate_start: before the mm changes translations of @r; in_progress
 *     already counts it (siommu_mm_invalidate_retry() is true for @r).  A
 *     secondary MMU zaps its copies of @r here, under the lock its fault
 *     path checks the retry under.  Called with the mm's lock held: it must
 *     not call siommu_mm_* operations nor wait for a grace period; it may
 *     take locks of rank above MM.  The mm waits for a grace period after
 *     the change, so a zap need only make its translations unreachable
 *     (clear, invalidate the IOTLB without waiting).
 * @invalidate_tlbs: after the mm's table entries of @r were cleared, before
 *     any page or table page is freed (Linux's
 *     arch_invalidate_secondary_tlbs): for a secondary MMU that walks the
 *     mm's own table (SVA), which can only flush its caches.  Called with
 *     the mm's lock held; must not wait for a grace period (the mm waits
 *     for one after it).  @r->last may exceed the range of start/end
 *     (table pages freed).
 * @invalidate_end: after the change, after the grace period and the frees,
 *     after the sequence moved and in_progress dropped.  Same context.
 * @release: siommu_mm_destroy() began: the mm will be torn down.  Called
 *     with no mm lock held, outside read-side sections; may block, wait for
 *     grace periods, attach and detach.  start/end calls may still follow
 *     (the teardown), with event RELEASE.
 */
struct siommu_mm_notifier_ops {
	void (*invalidate_start)(void *opaque, struct siommu_mm *mm,
				 const struct siommu_mm_range *r);
	void (*invalidate_tlbs)(void *opaque, struct siommu_mm *mm,
				const struct siommu_mm_range *r);
	void (*invalidate_end)(void *opaque, struct siommu_mm *mm,
			       const struct siommu_mm_range *r);
	void (*release)(void *opaque, struct siommu_mm *mm);
};

/**
 * siommu_mm_notifier_register() - Subscribe @ops(@opaque) to @mm's
 * invalidations that start after this returns.  The notifier keeps the mm
 * object (as a mirror or binding does): after siommu_mm_destroy() (its
 * release callback ran) it must still be unregistered, which frees it.
 * Context: any thread; takes the mm's lock.
 * Returns: 0; -EINVAL; -ENODEV (the mm is gone); -ENOMEM.
 */
SIOMMU_API int siommu_mm_notifier_register(struct siommu_mm *mm,
					   const struct siommu_mm_notifier_ops *ops,
					   void *opaque,
					   struct siommu_mm_notifier **out);

/**
 * siommu_mm_notifier_unregister() - Unsubscribe: when this returns no
 * callback of @n is running or will run.  Frees @n, and the mm if it was
 * destroyed and this was its last user.  NULL returns 0.
 * Context: any thread, not from @n's callbacks; takes the mm's lock.
 * Returns: 0.
 */
SIOMMU_API int siommu_mm_notifier_unregister(struct siommu_mm_notifier *n);

/**
 * siommu_mm_invalidate_seq() - The invalidation sequence, read before a
 * lookup (KVM's mmu_invalidate_seq; acquire: the lookups after it see the
 * table at least as new as the sequence).
 * Context: any thread; lock-free.
 */
SIOMMU_API uint64_t siommu_mm_invalidate_seq(struct siommu_mm *mm);

/**
 * siommu_mm_invalidate_retry() - True if what was looked up at @addr since
 * @seq = siommu_mm_invalidate_seq() may be stale: an invalidation whose
 * ranges' union covers @addr is in progress, or one ended since @seq
 * (KVM's mmu_invalidate_retry_gfn()).  Meaningful under the lock the
 * caller's invalidate_start takes (rule 2 above).
 * Context: any thread; lock-free.
 */
SIOMMU_API bool siommu_mm_invalidate_retry(struct siommu_mm *mm, uint64_t seq,
					   uint64_t addr);

/* ------------------------------------------------------------------ interval notifiers */

/*
 * An interval notifier's callback: @r overlaps the interval; the mm is
 * about to change it.  The subscriber takes its own lock, calls
 * siommu_mm_interval_set_seq(@in, @cur_seq) and zaps its copies (HMM's
 * mmu_interval_notifier_ops.invalidate).  Context: as invalidate_start.
 */
struct siommu_mm_interval_ops {
	void (*invalidate)(struct siommu_mm_interval *in,
			   const struct siommu_mm_range *r, uint64_t cur_seq);
};

/**
 * siommu_mm_interval_insert() - Watch [start, start + len - 1] of @mm.
 * Context: any thread; takes the mm's lock.
 * Returns: 0; -EINVAL (NULL, len 0, wraps, no invalidate callback);
 *          -ENODEV; -ENOMEM.
 */
SIOMMU_API int siommu_mm_interval_insert(struct siommu_mm *mm, uint64_t start,
					 uint64_t len,
					 const struct siommu_mm_interval_ops *ops,
					 void *opaque,
					 struct siommu_mm_interval **out);
/**
 * siommu_mm_interval_remove() - Stop watching; no callback of @in runs
 * after this returns.  Frees @in, and the mm if it was destroyed and this
 * was its last user.  NULL returns 0.
 * Context: any thread, not from its callback; takes the mm's lock.
 */
SIOMMU_API int siommu_mm_interval_remove(struct siommu_mm_interval *in);

/** siommu_mm_interval_opaque() - The @opaque given at insert. */
SIOMMU_API void *siommu_mm_interval_opaque(struct siommu_mm_interval *in);

/**
 * siommu_mm_interval_read_begin() - Begin a read of the interval's pages
 * (HMM's mmu_interval_read_begin()): if an invalidation that touched the
 * interval is still running (the sequence is odd), wait until it ends;
 * return the (even) sequence to check with read_retry under the lock the
 * callback takes.
 * Context: any thread, outside a read-side section (may sleep); not under
 *          the lock the callback takes.
 */
SIOMMU_API uint64_t siommu_mm_interval_read_begin(struct siommu_mm_interval *in);
/**
 * siommu_mm_interval_read_retry() - True if an invalidation touched the
 * interval since read_begin returned @seq.
 * Context: any thread, lock-free; meaningful under the callback's lock.
 */
SIOMMU_API bool siommu_mm_interval_read_retry(struct siommu_mm_interval *in,
					      uint64_t seq);
/** siommu_mm_interval_set_seq() - From the callback, under the subscriber's lock. */
SIOMMU_API void siommu_mm_interval_set_seq(struct siommu_mm_interval *in,
					   uint64_t cur_seq);

/* ------------------------------------------------------------------ info */

struct siommu_mm_info {
	unsigned int levels;
	uint64_t nr_areas;
	uint64_t mapped_4k;		/* leaves in the table, by size */
	uint64_t mapped_2m;
	uint64_t mapped_1g;
	uint64_t rss_bytes;		/* anonymous memory backed, bytes */
	uint64_t invalidate_seq;
	uint64_t in_progress;
	uint64_t invalidations;		/* started so far */
	uint64_t faults;		/* CPU and device faults that mapped a page */
	uint64_t splits;		/* huge pages split */
	uint64_t notifiers;		/* notifiers + interval notifiers registered */
	uint64_t bindings;		/* SVA bindings */
	uint64_t table_pages;
	bool dead;			/* siommu_mm_destroy() ran */
};

/**
 * siommu_mm_get_info() - Describe @mm.  Context: any thread (takes the mm's lock).
 * Returns: 0 or -EINVAL (NULL argument).
 */
SIOMMU_API int siommu_mm_get_info(struct siommu_mm *mm, struct siommu_mm_info *out);

/**
 * siommu_mm_pt() - The mm's x86-64 page table, for walks and dumps (do
 * not change it: every change goes through the mm).  NULL once the mm is
 * gone.
 */
SIOMMU_API struct siommu_pt *siommu_mm_pt(struct siommu_mm *mm);

/* ------------------------------------------------------------------ mirror domains */

/* siommu_mirror_cfg.flags */
#define SIOMMU_MIRROR_4K_ONLY	(1u << 0)	/* map 4 KiB pages only (baseline) */
#define SIOMMU_MIRROR_NO_HANDLER (1u << 1)	/* install no fault handler (iopf does) */

struct siommu_mirror_cfg {
	enum siommu_pt_fmt fmt;		/* 0: x86-64 */
	unsigned int levels;		/* 0: the format's default */
	uint64_t pgsize_bitmap;		/* 0: 4K|2M|1G (then limited by the IOMMU) */
	unsigned int flags;		/* SIOMMU_MIRROR_* */
	unsigned int max_retries;	/* per fault; 0: 16 */
	/*
	 * The mirror table's pool in pages, as siommu_pt_cfg.max_table_pages
	 * (0: pgtable's default, 131072 pages = 512 MiB reserved; 1..2^26,
	 * else -EINVAL).  A fault whose fill needs a table page beyond it
	 * fails with -ENOMEM.
	 */
	uint64_t max_table_pages;
};

/**
 * siommu_mirror_create() - A mirror of @mm behind @iommu: a PAGING domain
 * (siommu_mirror_domain(); attach devices to it with the core calls) over
 * a table of its own in @cfg's format, empty at first, IOVA = virtual
 * address.  A device fault (the domain's fault handler, unless
 * NO_HANDLER; or siommu_mirror_fault()) fills it: snapshot the sequence,
 * resolve the page in the mm (a CPU fault if needed) and its level
 * locklessly, take the mirror lock, retry if the address is under an
 * invalidation or the sequence moved, else map the largest page the mm
 * has and the table allows.  The mm's invalidations zap it under the same
 * lock.
 * Context: any thread, outside a read-side section.
 * Returns: 0; -EINVAL (NULL, bad cfg); -ERANGE (the table's input width is
 *          below the mm's); -ENODEV (the mm is gone); -EDEADLK (inside a
 *          read-side section); -ENOMEM; the domain's creation errors, as
 *          siommu_domain_create().
 */
SIOMMU_API int siommu_mirror_create(struct siommu_mm *mm, struct siommu_iommu *iommu,
				    const struct siommu_mirror_cfg *cfg,
				    struct siommu_mirror **out);

/**
 * siommu_mirror_destroy() - Unregister from the mm, destroy the domain and
 * the table.  NULL returns 0.
 * Context: any thread, outside a read-side section.
 * Returns: 0; -EBUSY (the domain is attached: nothing done); -EDEADLK
 *          (inside a read-side section: nothing done).
 */
SIOMMU_API int siommu_mirror_destroy(struct siommu_mirror *m);

/** siommu_mirror_domain() - The mirror's domain. */
SIOMMU_API struct siommu_domain *siommu_mirror_domain(struct siommu_mirror *m);
/** siommu_mirror_pt() - The mirror's own table (walks, dumps). */
SIOMMU_API struct siommu_pt *siommu_mirror_pt(struct siommu_mirror *m);

/**
 * siommu_mirror_fault() - Resolve a device fault at @addr for @access
 * (SIOMMU_ACC_*): the protocol of siommu_mirror_create(), at most
 * max_retries rounds.
 * Context: any thread, also inside a read-side section (the fault handler
 *          calls it there); never waits for a grace period.
 * Returns: 0 (mapped); -EAGAIN (invalidations kept racing: retry later);
 *          -EFAULT / -EACCES (the mm has no such page / forbids the
 *          access); -ENODEV (the mm is gone); -EINVAL (NULL @m, unknown
 *          access bits); -ENOMEM.
 */
SIOMMU_API int siommu_mirror_fault(struct siommu_mirror *m, uint64_t addr,
				   unsigned int access);

struct siommu_mirror_stats {
	uint64_t faults;		/* siommu_mirror_fault() calls */
	uint64_t maps_4k, maps_2m, maps_1g;
	uint64_t retries;		/* rounds discarded by the retry check */
	uint64_t eagain;		/* faults that gave up */
	uint64_t errors;		/* -EFAULT/-EACCES/-ENOMEM answers */
	uint64_t zaps;			/* invalidations that reached the mirror */
	uint64_t zapped_bytes;
};

/**
 * siommu_mirror_get_stats() - Counters.  Context: any thread.
 * Returns: 0; -EINVAL (NULL argument).
 */
SIOMMU_API int siommu_mirror_get_stats(struct siommu_mirror *m,
				       struct siommu_mirror_stats *out);

/* ------------------------------------------------------------------ SVA */

/* siommu_sva_bind() flags */
#define SIOMMU_SVA_NO_HANDLER	(1u << 0)	/* install no fault handler (iopf does) */

/**
 * siommu_sva_bind() - Bind (@dev, @pasid) of @iommu to @mm: a PAGING domain that
 * translates through the mm's own x86-64 table (no copy), attached to the
 * PASID.  Page faults of a PRI device are resolved inline by faulting the
 * mm (the domain's fault handler) unless NO_HANDLER.  Every invalidation
 * of @mm reaches the domain's IOTLB entries before the call that changed
 * the mm returns.  The PASID must be free.
 * Context: any thread, outside a read-side section (attach waits for a
 *          grace period), holding no library lock.
 * Returns: 0; -EINVAL (NULL, bad flags, @pasid 0 or out of range, @dev
 *          of another IOMMU);
 *          -EOPNOTSUPP (no PASID capability); -EEXIST (PASID attached);
 *          -ERANGE (the IOMMU's input width is below the mm's); -ENODEV
 *          (the mm is gone); -ENOMEM; the attach's errors, which are
 *          as siommu_pasid_attach().
 */
SIOMMU_API int siommu_sva_bind(struct siommu_mm *mm, struct siommu_iommu *iommu,
			       struct siommu_device *dev, uint32_t pasid,
			       unsigned int flags, struct siommu_sva **out);

/**
 * siommu_sva_unbind() - Detach the PASID (draining it: core's detach waits
 * for DMA through it to finish), stop invalidating for it, destroy the
 * domain, free @b.  After the mm's release the PASID is already detached.
 * NULL returns 0.
 * Context: as siommu_sva_bind().
 * Returns: 0; -EDEADLK (inside a read-side section: nothing done).
 */
SIOMMU_API int siommu_sva_unbind(struct siommu_sva *b);

/** siommu_sva_domain() - The binding's domain (NULL after the mm's release). */
SIOMMU_API struct siommu_domain *siommu_sva_domain(struct siommu_sva *b);
/** siommu_sva_pasid() - The bound PASID. */
SIOMMU_API uint32_t siommu_sva_pasid(struct siommu_sva *b);
/** siommu_sva_mm() - The bound mm. */
SIOMMU_API struct siommu_mm *siommu_sva_mm(struct siommu_sva *b);

/* ------------------------------------------------------------------ through iopf */

struct siommu_iopf;

/**
 * siommu_sva_iopf_enable() / siommu_mirror_iopf_enable() - Route faults
 * through iopf.  Available when the library is built with the iopf module
 * (seed 002; src/mm/sva_iopf.c): hand the domain of a binding made with
 * SIOMMU_SVA_NO_HANDLER, or of a mirror made with SIOMMU_MIRROR_NO_HANDLER,
 * to @iopf: its PRI devices' faults become page requests, and each group is
 * resolved from the mm (SVA: siommu_mm_fault(); mirror:
 * siommu_mirror_fault()) by an ATOMIC group handler (it may run inline,
 * inside the DMA's read-side section), then answered: SUCCESS, Invalid
 * Request (no area, a protection refused, the mm gone) or Response Failure
 * (no memory).  A mirror that gave up on racing invalidations answers
 * SUCCESS: the device translates again and asks again.  siommu_sva_unbind()
 * (or the mm's release) and siommu_mirror_destroy() remove the handler
 * after the detach.
 * Context: as siommu_iopf_domain_set_handler().
 * Returns: as siommu_iopf_domain_set_handler(), plus -ENODEV (the binding's
 *          mm is gone).
 */
SIOMMU_API int siommu_sva_iopf_enable(struct siommu_sva *b, struct siommu_iopf *iopf);
SIOMMU_API int siommu_mirror_iopf_enable(struct siommu_mirror *m, struct siommu_iopf *iopf);

/* ------------------------------------------------------------------ testing */

/*
 * Broken-protocol switches for the stress tests (testing builds only; per
 * thread: the mirror fault path or the invalidating thread that calls it):
 * mm_test_set_break(SIOMMU_MM_BREAK_*).  Returns 0, or -EOPNOTSUPP in a
 * build without the hooks.
 */
#define SIOMMU_MM_BREAK_NO_RETRY	(1u << 0)	/* mirror maps without the retry check */
#define SIOMMU_MM_BREAK_REVERSED	(1u << 1)	/* count dropped before the seq bump */
#define SIOMMU_MM_BREAK_NO_SVA_INVAL	(1u << 2)	/* SVA IOTLBs not invalidated */
SIOMMU_API int siommu_mm_test_set_break(unsigned int breaks);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_MM_H */
