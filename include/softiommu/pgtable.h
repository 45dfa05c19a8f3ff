/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu I/O page tables: bit-exact hardware formats, lock-free walks,
 * safe reclamation of table pages, level lookup, dirty tracking and a dump
 * in the layout of Linux's Intel debugfs.
 *
 * Formats (bit layouts in src/pgtable/fmt/<fmt>.h and docs/modules/pgtable.md):
 *  - SIOMMU_PT_FMT_X86_64:      x86-64 4-level (47-bit lower half) or 5-level
 *                               (56-bit) paging; also the VT-d first stage.
 *  - SIOMMU_PT_FMT_VTD_SS:      VT-d second stage, 3/4/5 levels (39/48/57 bit).
 *  - SIOMMU_PT_FMT_ARM_LPAE_S1: Arm VMSAv8-64 stage 1, 4 KiB granule, 48-bit
 *                               input, 4 levels.
 * Page sizes 4 KiB, 2 MiB and 1 GiB.
 *
 * Concurrency, in one paragraph: walkers (iova_to_phys, translate, walk,
 * lookup_level, dump) are lock-free and run inside RCU read-side sections;
 * map and unmap of disjoint ranges run concurrently with no table-wide lock
 * (a new table page is published with one compare-and-swap).  Unmap never
 * frees: it clears entries and collects detached table pages in a gather;
 * siommu_pt_gather_sync() then runs the caller's IOTLB invalidation callback
 * and frees the pages only after an RCU grace period (seed 000).  Overlapping
 * concurrent writers are a caller error: one of them gets -EEXIST or a short
 * unmap count, memory stays safe and nothing leaks.
 *
 * Table pages live in a per-table pool; their "physical" addresses (what
 * table entries and the dump show) are either their host addresses or, when
 * siommu_pt_cfg.table_phys_base is set, addresses from that base upward, in
 * allocation order (deterministic dumps and golden tests).
 */
#ifndef SOFTIOMMU_PGTABLE_H
#define SOFTIOMMU_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <softiommu/base.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siommu_pt;

enum siommu_pt_fmt {
	SIOMMU_PT_FMT_X86_64 = 1,
	SIOMMU_PT_FMT_VTD_SS,
	SIOMMU_PT_FMT_ARM_LPAE_S1,
};

/* Mapping permissions and attributes: the values of Linux's IOMMU_* flags. */
#define SIOMMU_PT_READ		(1u << 0)
#define SIOMMU_PT_WRITE		(1u << 1)
#define SIOMMU_PT_CACHE		(1u << 2)	/* coherent: snoop / cacheable */
#define SIOMMU_PT_NOEXEC	(1u << 3)
#define SIOMMU_PT_MMIO		(1u << 4)	/* device memory */
#define SIOMMU_PT_PRIV		(1u << 5)	/* privileged (supervisor) only */
#define SIOMMU_PT_PROT_MASK	0x3fu

/* Table flags (siommu_pt_cfg.flags). */
#define SIOMMU_PT_F_DIRTY	(1u << 0)	/* hardware A/D: VT-d SSADE, Arm HD (DBM) */
#define SIOMMU_PT_F_EXEC	(1u << 1)	/* VT-d second stage: execute bit in use (SLEE) */
/*
 * VT-d second stage: page-table management as Linux's intel-iommu driver
 * does it (drivers/iommu/intel/iommu.c), so that table memory and unmapped
 * sizes match the kernel's:
 *  - a map that may use a superpage where a table page holds the slot (a
 *    lower-level table left empty by earlier unmaps: unmap frees a table
 *    page only when it covers the page's whole span) detaches that table
 *    and installs the superpage, as switch_to_super_page() does (default:
 *    smaller pages inside the existing table);
 *  - an unmap whose range ends inside a large leaf that begins inside the
 *    range unmaps that whole leaf and counts it in the size returned, as
 *    __iommu_unmap() with intel_iommu_unmap() does ("unmap more than the
 *    size argument if it happens to be a large-page mapping"; default:
 *    -EINVAL, nothing unmapped).  A range starting inside a large leaf is
 *    -EINVAL either way.
 * Everything else (and every table without the flag) is unchanged.
 */
#define SIOMMU_PT_F_LINUX	(1u << 2)

/* Page size bits, for siommu_pt_cfg.pgsize_bitmap. */
#define SIOMMU_PT_SZ_4K		(1ull << 12)
#define SIOMMU_PT_SZ_2M		(1ull << 21)
#define SIOMMU_PT_SZ_1G		(1ull << 30)

#define SIOMMU_PT_MAX_LEVELS	5

struct siommu_pt_cfg {
	enum siommu_pt_fmt fmt;
	unsigned int levels;		/* 0: default (x86-64 4, VT-d SS 3, Arm 4) */
	unsigned int oas_lg2;		/* output address bits; 0: the format's maximum */
	unsigned int flags;		/* SIOMMU_PT_F_* */
	uint64_t pgsize_bitmap;		/* 0: 4K | 2M | 1G */
	uint64_t table_phys_base;	/* 0: table pages' host addresses */
	uint64_t max_table_pages;	/* pool size; 0: 131072 (512 MiB of tables) */
};

/**
 * siommu_pt_create() - Create an empty page table (its root page allocated).
 * Context: any thread.
 * Returns: 0, -EINVAL (bad format, levels, flags, page sizes, unaligned base),
 *          -ERANGE (the pool's addresses do not fit the output width) or
 *          -ENOMEM.
 */
SIOMMU_API int siommu_pt_create(struct siommu_ctx *ctx,
				const struct siommu_pt_cfg *cfg,
				struct siommu_pt **out);

/**
 * siommu_pt_destroy() - Free the table and every table page (pages still
 * waiting for their grace period, from unmaps synced without
 * SIOMMU_PT_SYNC_WAIT, are freed with the table's memory by their reclaim
 * callback after it; siommu_ctx_destroy() waits for such callbacks).
 * Never waits.
 * Context: no other thread uses @pt, now or later; every read-side section
 * that walked it has ended; outside a read-side section.  Mappings still
 * present are dropped.
 * Returns: 0; -EBUSY (nothing done) while it has users (siommu_pt_hold(),
 * e.g. a core domain translating through it) or a gather holding its
 * pages has not been synced; -EDEADLK inside a read-side section.  NULL
 * returns 0.
 */
SIOMMU_API int siommu_pt_destroy(struct siommu_pt *pt);

/**
 * siommu_pt_hold() - Count a user of @pt (an object that walks it and must
 * not see it freed, e.g. a domain created over a caller-owned table):
 * siommu_pt_destroy() refuses with -EBUSY until every user called
 * siommu_pt_unhold().
 * Context: any thread, lock-free; @pt is valid (not concurrently destroyed).
 * Returns: 0 or -EINVAL (@pt NULL).
 */
SIOMMU_API int siommu_pt_hold(struct siommu_pt *pt);

/**
 * siommu_pt_unhold() - Drop a user counted by siommu_pt_hold().
 * Context: any thread, lock-free.
 * Returns: 0 or -EINVAL (@pt NULL, or no user to drop: nothing changed).
 */
SIOMMU_API int siommu_pt_unhold(struct siommu_pt *pt);

struct siommu_pt_info {
	enum siommu_pt_fmt fmt;
	unsigned int levels;
	unsigned int ias_lg2;		/* IOVAs are below 1 << ias_lg2 */
	unsigned int oas_lg2;		/* physical addresses are below 1 << oas_lg2 */
	unsigned int flags;
	uint64_t pgsize_bitmap;
	uint64_t root_phys;
	uint64_t table_pages;		/* allocated and not yet freed (root included) */
	uint64_t table_bytes;
	uint64_t table_pages_peak;
	uint64_t detached_pages;	/* in gathers not yet synced */
	uint64_t reclaim_pages;		/* synced, waiting for their grace period */
	uint64_t max_table_pages;
};

/** siommu_pt_get_info() - Describe @pt.  Context: any thread.  Returns 0 or -EINVAL. */
SIOMMU_API int siommu_pt_get_info(struct siommu_pt *pt, struct siommu_pt_info *info);

/** siommu_pt_fmt_name() - "x86-64", "vtd-ss", "arm-lpae-s1", or NULL. */
SIOMMU_API const char *siommu_pt_fmt_name(enum siommu_pt_fmt fmt);
/** siommu_pt_fmt_parse() - Inverse of the above.  Returns 0 or -EINVAL. */
SIOMMU_API int siommu_pt_fmt_parse(const char *name, enum siommu_pt_fmt *fmt);

/* ------------------------------------------------------------------ map/unmap */

/**
 * siommu_pt_map() - Map [iova, iova + size - 1] to [pa, pa + size - 1],
 * using the largest page sizes that alignment, size and the table's page
 * sizes allow (a smaller size where an existing table page occupies the
 * slot of a larger one).
 * Context: any thread, lock-free; outside or inside a read-side section.
 * Runs concurrently with maps and unmaps of disjoint ranges.
 * Returns: 0; -EINVAL (size 0, iova/pa/size not 4 KiB aligned, bad @prot or
 *          no READ/WRITE); -ERANGE (beyond the input or output width);
 *          -EEXIST if any part of the range is mapped; -ENOMEM (also when
 *          the pool is exhausted by pages waiting for their grace period:
 *          see siommu_pt_reclaim_wait()).  On error no mapping was added
 *          (empty table pages may have been).  An -EEXIST found while
 *          writing the leaves (an overlapping concurrent writer) removes
 *          the leaves written so far inside an invalidation (the sequence
 *          of siommu_pt_seq_begin() moves): they were briefly visible, so a
 *          caller with an IOTLB invalidates the range after an -EEXIST.
 */
SIOMMU_API int siommu_pt_map(struct siommu_pt *pt, uint64_t iova, uint64_t pa,
			     uint64_t size, unsigned int prot);

/**
 * siommu_pt_map_gather() - siommu_pt_map(), and on a SIOMMU_PT_F_LINUX
 * table the empty table pages a superpage replaced go to @g (their slots'
 * range too): the caller syncs @g with its invalidation callback, which
 * gets SIOMMU_PT_INVAL_TABLES (paging-structure caches may hold pointers
 * to them), as Linux flushes the IOTLB in switch_to_super_page().
 * siommu_pt_map() on such a table syncs them itself without a callback
 * (enough when nothing caches paging-structure entries of the table).
 * Tables are detached also when the map then fails: they held no leaf, so
 * no translation changed.
 * Context: as siommu_pt_map().
 * Returns: as siommu_pt_map(), and -EINVAL if @g is NULL or belongs to
 *          another table.
 */
struct siommu_pt_gather;
SIOMMU_API int siommu_pt_map_gather(struct siommu_pt *pt, uint64_t iova, uint64_t pa,
				    uint64_t size, unsigned int prot,
				    struct siommu_pt_gather *g);

/*
 * A gather: what unmaps (and dirty clears) leave to be done, the range whose
 * IOTLB entries must be invalidated and the detached table pages to free.
 * Caller-owned; initialize with siommu_pt_gather_init().  Several unmaps of
 * one table may add to one gather; a gather must be synced before the table
 * is destroyed.  Fields are private.
 */
struct siommu_pt_gather {
	struct siommu_pt *pt;
	uint64_t start;			/* range hull; start > last: no range */
	uint64_t last;
	uint64_t nr_pages;		/* detached table pages */
	uint32_t head, tail;		/* list of detached subtree roots */
};

/** siommu_pt_gather_init() - Make @g empty. */
SIOMMU_API void siommu_pt_gather_init(struct siommu_pt_gather *g);

/**
 * siommu_pt_unmap() - Remove the mappings in [iova, iova + size - 1].
 * Holes are skipped.  A leaf that straddles either end of the range is not
 * split: the call fails with -EINVAL and nothing changes.  A table page
 * whose whole span lies in the range is detached (its parent entry cleared)
 * and added to @g with the range; it is freed by siommu_pt_gather_sync().
 * Context: any thread, lock-free; runs concurrently with maps and unmaps of
 * disjoint ranges.  @g is used by one thread at a time.
 * Returns: the bytes unmapped (>= 0), -EINVAL (unaligned, size 0, a straddled
 *          leaf, @g belongs to another table) or -ERANGE.
 */
SIOMMU_API int64_t siommu_pt_unmap(struct siommu_pt *pt, uint64_t iova,
				   uint64_t size, struct siommu_pt_gather *g);

/* Invalidation callback flags. */
#define SIOMMU_PT_INVAL_TABLES	(1u << 0)	/* table pages are freed: drop walk caches too */

/*
 * IOTLB invalidation callback for [iova, last].  Called by
 * siommu_pt_gather_sync() after the entries are cleared and before any page
 * is freed; when it returns, no cache may hold a translation of the range
 * (or, with SIOMMU_PT_INVAL_TABLES, a pointer into its table pages).
 */
typedef void siommu_pt_inval_fn(void *opaque, uint64_t iova, uint64_t last,
				unsigned int flags);

#define SIOMMU_PT_SYNC_WAIT	(1u << 0)	/* wait for the grace period and free now */

/**
 * siommu_pt_gather_sync() - Finish what the unmaps gathered in @g, in the
 * order of seed 000: (1) the entries were cleared by unmap; (2) @inval runs
 * for the range; (3) an RCU grace period passes; (4) the pages are freed.
 * Policy for (3): without SIOMMU_PT_SYNC_WAIT it never waits, allocates
 * nothing and cannot fail: the pages are freed by an RCU callback after a
 * grace period (through the table's own RCU head; whatever the backlog:
 * pages waiting are out of the pool until then, see siommu_pt_map()'s
 * -ENOMEM).  With SIOMMU_PT_SYNC_WAIT it waits for a grace period
 * (synchronize_rcu) and frees the pages before returning.  @inval may be
 * NULL only when nothing caches translations of this table.  @g is left
 * empty.
 * Context: any thread.  Without WAIT: anywhere, also inside a read-side
 * section and holding any lock.  With WAIT: outside a read-side section,
 * holding no lock a reader takes.
 * Returns: 0, -EINVAL (@g NULL, unknown flag) or -EDEADLK (WAIT inside a
 *          read-side section; nothing done, @inval not called).
 */
SIOMMU_API int siommu_pt_gather_sync(struct siommu_pt_gather *g,
				     siommu_pt_inval_fn *inval, void *opaque,
				     unsigned int flags);

/**
 * siommu_pt_reclaim_wait() - Wait until every table page of @pt synced
 * without SIOMMU_PT_SYNC_WAIT is back in the pool (after a map's -ENOMEM
 * caused by a reclaim backlog, or before measuring the pool).
 * Context: any thread, outside a read-side section, holding no lock a
 * reader takes (waits for grace periods).
 * Returns: 0, -EINVAL (@pt NULL) or -EDEADLK (inside a read-side section).
 */
SIOMMU_API int siommu_pt_reclaim_wait(struct siommu_pt *pt);

/* ------------------------------------------------------------------ walkers */

/**
 * siommu_pt_iova_to_phys_rcu() - The physical address @iova maps to.
 * Context: inside a read-side section; lock-free.  The answer may be stale
 * as soon as it is returned.
 * Returns: 0 (*pa set), -ENOENT (not mapped) or -ERANGE.
 */
SIOMMU_API int siommu_pt_iova_to_phys_rcu(struct siommu_pt *pt, uint64_t iova,
					  uint64_t *pa);
/**
 * siommu_pt_iova_to_phys() - The same, in a read-side section of its own.
 * Returns: as siommu_pt_iova_to_phys_rcu(), or -EINVAL (@pt or @pa NULL).
 */
SIOMMU_API int siommu_pt_iova_to_phys(struct siommu_pt *pt, uint64_t iova,
				      uint64_t *pa);

/* Access types for siommu_pt_translate_rcu(). */
#define SIOMMU_PT_ACC_READ	(1u << 0)
#define SIOMMU_PT_ACC_WRITE	(1u << 1)
#define SIOMMU_PT_ACC_EXEC	(1u << 2)
#define SIOMMU_PT_ACC_PRIV	(1u << 3)	/* privileged request */

struct siommu_pt_xlate {
	uint64_t pa;			/* translation of the iova */
	unsigned int pgsize_lg2;	/* 12, 21 or 30 */
	unsigned int prot;		/* SIOMMU_PT_* the leaf grants */
};

/**
 * siommu_pt_translate_rcu() - Translate as the hardware would: check @access
 * against the leaf's permissions and, where the format has hardware A/D
 * (x86-64 always; VT-d SS and Arm with SIOMMU_PT_F_DIRTY), set the accessed
 * and, for a write, dirty state of the leaf with a compare-and-swap.
 * Context: inside a read-side section; lock-free.
 * Returns: 0, -ENOENT (not mapped), -EACCES (permission), -EINVAL (@pt or
 *          @out NULL, an unknown @access bit) or -ERANGE.
 */
SIOMMU_API int siommu_pt_translate_rcu(struct siommu_pt *pt, uint64_t iova,
				       unsigned int access,
				       struct siommu_pt_xlate *out);

/**
 * siommu_pt_translate_run_rcu() - siommu_pt_translate_rcu(), and the run of
 * leaves around @iova that one cached translation may cover: for a 4 KiB
 * leaf, the neighbouring 4 KiB leaves of its table (so inside its 2 MiB-
 * aligned block) that, without a gap, are present, continue its output
 * address, grant @access with the same permissions and, for a write, are
 * already dirty; [*@run_first, *@run_last] (bytes, inclusive) is that run.
 * A leaf that joins a read's run gets its accessed state set (as a
 * prefetching hardware walker may set it); no leaf is made dirty by it.
 * For a larger leaf the run is its page.
 * Context: inside a read-side section; lock-free.
 * Returns: as siommu_pt_translate_rcu(); -EINVAL also for @run_first or
 *          @run_last NULL.
 */
SIOMMU_API int siommu_pt_translate_run_rcu(struct siommu_pt *pt, uint64_t iova,
					   unsigned int access,
					   struct siommu_pt_xlate *out,
					   uint64_t *run_first, uint64_t *run_last);

/* The raw entries on the path to @iova.  entry[L]: level L (0 = 4 KiB). */
struct siommu_pt_walk {
	uint64_t entry[SIOMMU_PT_MAX_LEVELS];
	uint64_t table_phys[SIOMMU_PT_MAX_LEVELS];	/* table holding entry[L] */
	unsigned int levels;		/* of the table */
	int leaf_level;			/* level of the leaf; -1: not mapped */
	int last_level;			/* lowest level read */
};

/**
 * siommu_pt_walk_rcu() - Read the entries on the path to @iova, top down,
 * each once.  Context: inside a read-side section; lock-free.
 * Returns: 0 (mapped or not: see leaf_level), -EINVAL (@pt or @w NULL) or
 * -ERANGE.
 */
SIOMMU_API int siommu_pt_walk_rcu(struct siommu_pt *pt, uint64_t iova,
				  struct siommu_pt_walk *w);
/** siommu_pt_walk() - The same, in a read-side section of its own. */
SIOMMU_API int siommu_pt_walk(struct siommu_pt *pt, uint64_t iova,
			      struct siommu_pt_walk *w);

/**
 * siommu_pt_lookup_level_rcu() - At what page size is @iova mapped? (seed 001)
 * The answer may be stale as soon as it is returned: to act on it, take
 * seq = siommu_pt_seq_begin() before the lookup and, under the lock that
 * serializes your use against invalidations, discard the answer if
 * siommu_pt_seq_retry(seq) is true (KVM's mmu_notifier_retry rule).
 * Context: inside a read-side section; lock-free.
 * Returns: 12, 21 or 30 (log2 of the page size), 0 if not mapped, -EINVAL
 * (@pt NULL) or -ERANGE.
 */
SIOMMU_API int siommu_pt_lookup_level_rcu(struct siommu_pt *pt, uint64_t iova);
/** siommu_pt_lookup_level() - The same, in a read-side section of its own. */
SIOMMU_API int siommu_pt_lookup_level(struct siommu_pt *pt, uint64_t iova);

/**
 * siommu_pt_invalidate_begin() - Start an invalidation of
 * [iova, iova + size - 1] made by a caller that changes @pt directly (an mm
 * notifier's invalidate_range_start on a table it shares): from now until
 * the matching siommu_pt_invalidate_end(), siommu_pt_seq_retry() is true
 * for every IOVA of the range's 1 GiB regions, and after it the sequence
 * has moved.  Unmap brackets itself the same way.  Call it before changing
 * the first entry (it is a full barrier) and end it after the last, with
 * the same range; begins may nest and overlap.
 * Context: any thread; lock-free.
 * Returns: 0, -EINVAL (@pt NULL, size 0 or not 4 KiB aligned) or -ERANGE
 *          (beyond the input width).  An end with no begin is a caller bug.
 */
SIOMMU_API int siommu_pt_invalidate_begin(struct siommu_pt *pt, uint64_t iova,
					  uint64_t size);
/**
 * siommu_pt_invalidate_end() - End what siommu_pt_invalidate_begin()
 * started, after the last entry changed: the sequence moves (release), then
 * the invalidation stops being in progress.
 * Context and Returns: as siommu_pt_invalidate_begin().
 */
SIOMMU_API int siommu_pt_invalidate_end(struct siommu_pt *pt, uint64_t iova,
					uint64_t size);

/**
 * siommu_pt_seq_begin() - Invalidation sequence for @iova, read before a
 * lookup.  Every unmap whose range covers @iova's 1 GiB region counts as an
 * invalidation: it is "in progress" from before it clears its first entry
 * until after its last, and bumps the sequence at its end.  The counter is
 * per table, sharded by 1 GiB region so that disjoint writers do not share
 * a cache line.
 * Context: any thread; lock-free.
 */
SIOMMU_API uint64_t siommu_pt_seq_begin(struct siommu_pt *pt, uint64_t iova);
/**
 * siommu_pt_seq_retry() - True if an invalidation touching @iova's region is
 * in progress or ended since siommu_pt_seq_begin() returned @seq.
 * Context: any thread; lock-free.
 */
SIOMMU_API bool siommu_pt_seq_retry(struct siommu_pt *pt, uint64_t iova,
				    uint64_t seq);

/* ------------------------------------------------------------------ dirty tracking */

#define SIOMMU_PT_DIRTY_NO_CLEAR	(1u << 0)	/* read without clearing */

/**
 * siommu_pt_read_and_clear_dirty() - Record the dirty leaves of
 * [iova, iova + size - 1] in @bitmap and clear their dirty state (like
 * iommufd's IOMMU_HWPT_GET_DIRTY_BITMAP).  Bit i of @bitmap (64-bit words,
 * little-endian bit order) stands for [iova + i * 2^pgshift, ...); a dirty
 * leaf sets every bit it covers within the range; bits are only set, never
 * cleared.  Cleared leaves' range is added to @g (cached dirty state must be
 * invalidated): sync it.  New mappings start clean.
 * Context: any thread; lock-free (a compare-and-swap per dirty leaf).
 * Returns: the number of dirty leaves (>= 0); -EINVAL (alignment to
 *          2^pgshift, pgshift < 12 or > 30, @g NULL while clearing);
 *          -ERANGE; -EOPNOTSUPP (format without A/D, see SIOMMU_PT_F_DIRTY).
 */
SIOMMU_API int64_t siommu_pt_read_and_clear_dirty(struct siommu_pt *pt,
						  uint64_t iova, uint64_t size,
						  unsigned int flags,
						  uint64_t *bitmap,
						  unsigned int pgshift,
						  struct siommu_pt_gather *g);

/* ------------------------------------------------------------------ dump */

#define SIOMMU_PT_NO_PASID	UINT32_MAX

/* Who the dump is for: the "Device ..." line of the debugfs layout. */
struct siommu_pt_dump_dev {
	uint16_t segment;
	uint8_t bus;
	uint8_t devfn;			/* device << 3 | function */
	uint32_t pasid;			/* SIOMMU_PT_NO_PASID: the device's own file */
};

/* One line of dump output, without its newline.  Nonzero stops the dump. */
typedef int siommu_pt_dump_fn(void *opaque, const char *line);

/**
 * siommu_pt_dump() - Print the table in the layout of Linux's Intel debugfs
 * file domain_translation_struct (drivers/iommu/intel/debugfs.c): a
 * "Device SSSS:BB:DD.F [with pasid P ]@0xROOT" line, the column header, and
 * one row per leaf: the IOVA page number and the raw entry of every level on
 * the path, top level first.  x86-64 and VT-d use the columns PML5E (PML5E,
 * PML4E, PDPE/PDPTE, PDE, PTE); Arm uses L0..L3.
 * Safe while other threads map and unmap: each row is read in a read-side
 * section of its own (the callback runs outside it), from the root, so a row
 * shows a path as it was at one moment of the walk; rows come in IOVA order.
 * @dev may be NULL (device 0000:00:00.0, no PASID).
 * Context: any thread; lock-free.
 * Returns: 0, -EINVAL, or the callback's nonzero value.
 */
SIOMMU_API int siommu_pt_dump(struct siommu_pt *pt,
			      const struct siommu_pt_dump_dev *dev,
			      siommu_pt_dump_fn *fn, void *opaque);
/**
 * siommu_pt_dump_file() - siommu_pt_dump() to @f, one line per line.
 * Returns: as siommu_pt_dump(); -EINVAL also for @f NULL.
 */
SIOMMU_API int siommu_pt_dump_file(struct siommu_pt *pt,
				   const struct siommu_pt_dump_dev *dev,
				   FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_PGTABLE_H */
