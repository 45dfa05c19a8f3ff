// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The IOTLB: a bounded, tagged, set-associative translation cache with
 * lock-free lookups.
 *
 * Terms.  A tag is (domain id, PASID, page address, page size code: 0 =
 * 4 KiB, 1 = 2 MiB, 2 = 1 GiB).  A set is a group of `ways` entries; a tag
 * lives in exactly one set, chosen by a multiplicative hash of (domain id,
 * page number, size code).  The PASID is part of the tag but not of the set
 * index, so every PASID's entry for a page of a domain sits in the same set:
 * that lets a range invalidation for "any PASID" probe single sets.
 *
 * Entry layout (32 bytes, two per cache line):
 *
 *	seq	even: stable; odd: a writer is changing the entry
 *	tag	page address | size code << 1 | 1 (valid); 0 = free
 *	id	domain id << 32 | PASID
 *	data	output page address | permission bits (low 12 bits)
 *
 * Lookups (readers).  A per-entry sequence counter, as a seqlock: read seq,
 * then tag, id and data, then seq again; the entry is used only if both
 * reads of seq are equal and even.  Every field is accessed with atomics
 * (acquire loads by readers, release stores by writers), which is the C11
 * formulation of a seqlock that needs no standalone fence (GCC's TSan does
 * not support fences) and costs plain moves on x86.  A reader never waits
 * and never retries: an entry caught mid-write is a miss, and a miss is
 * always safe (the caller walks the page table).  Readers write nothing but
 * their own thread's statistics block (base/stats.h): no shared cache line
 * is written on a hit.
 *
 * Writers (insert, invalidate) take the set's spinlock: a word in a
 * separate array (readers never touch it), held for a few dozen
 * instructions, never across anything that blocks or allocates.  It is a
 * leaf: nothing else is taken while it is held.
 *
 * Replacement: round-robin (FIFO) inside a set.  A free way is used first;
 * otherwise the way the set's hand points at is evicted and the hand moves
 * on.  LRU, or CLOCK's reference bit, would have every hit write the entry's
 * cache line (or a bit next to it): a shared write on the hot path that
 * bounces the line between threads hitting the same entry, which is exactly
 * what the lookup must not do.  Random replacement needs no hit-time write
 * either, but FIFO keeps runs deterministic (golden tests, replayed traces).
 *
 * The invalidation contract (see include/softiommu/iotlb.h):
 *
 * (1) No lookup that starts after an invalidation returns hits what it
 *     covered.  The invalidation clears each covered entry under its set
 *     lock with release stores; a lookup that starts afterwards loads the
 *     entry's tag after that store and sees it free or re-used.
 *
 * (2) No stale insert.  A lookup that missed, walked the page table and
 *     inserts what it read must not publish a translation an invalidation
 *     has already removed.  Each invalidation first bumps generation
 *     counters, then clears entries ("I1" then "I2").  An insert carries
 *     the sum of the counters that cover its tag, read before its walk
 *     (siommu_iotlb_seq_begin), and re-reads them under the set lock before
 *     it writes the entry.  For an invalidation X covering the tag, I2 locks
 *     the tag's set: if it does so after the insert released the lock, X
 *     finds the entry and clears it; if before, then I1 happens before the
 *     insert's re-read (through the lock), the sum differs and the insert
 *     is refused with -EAGAIN.  And if seq_begin already saw X's bump, its
 *     acquire load orders the walk after the page-table change that came
 *     before X, so the walk reads the new table.
 *
 *     The counters live in a small array of buckets hashed by (domain),
 *     (PASID), (domain, PASID), (domain, 1 GiB region) plus one global
 *     counter; a tag's sum covers the five that any invalidation of it
 *     bumps.  Counters only grow, so the sum changes iff one of them did.
 *     Two tags sharing a bucket only cost a refused insert.
 *
 * A range invalidation probes, for each page size, the set of every page
 * of that size overlapping the range, or scans all sets when that would be
 * more work.  It skips page sizes never inserted (the `sizes` mask).  The
 * mask is set by an insert before it takes the set lock and read by an
 * invalidation after I1, both sequentially consistent (a store-buffering
 * pair): either the invalidation sees the bit and probes that size, or the
 * insert's re-read under the lock sees the bump.
 *
 * Invalidation never waits for lookups already running (hardware does not
 * either): their results are the caller's to wait out, with an RCU grace
 * period when it frees memory.
 *
 * Lock order: the set spinlocks are leaves, below every siommu_mutex.  Only
 * one is held at a time.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "softiommu/iotlb.h"
#include "base/alloc.h"
#include "base/compiler.h"
#include "base/ctx.h"
#include "base/debug.h"
#include "base/stats.h"
#include "iotlb/iotlb_internal.h"

enum iotlb_stat {
	IOTLB_STAT_HITS,
	IOTLB_STAT_MISSES,
	IOTLB_STAT_INSERTS,
	IOTLB_STAT_INSERT_STALE,
	IOTLB_STAT_EVICTIONS,
	IOTLB_STAT_INVALIDATIONS,
	IOTLB_STAT_INV_ENTRIES,
	IOTLB_STAT_RUN_INSERTS,
	IOTLB_STAT_NR,
};

#define IOTLB_TAG_VALID		1ull
#define IOTLB_NR_SIZES		4		/* codes: 4 KiB, 2 MiB, 1 GiB, run */
#define IOTLB_CODE_RUN		3		/* a run of 4 KiB pages in a 2 MiB block */
#define IOTLB_RUN_LG2		21		/* a run lies inside one such block */
#define IOTLB_RUN_PAGES		512u
/* A run tag's page indices in its block: first << 12, last << 3 (9 bits each). */
#define IOTLB_RUN_IDX_MASK	(0x1ffull << 12 | 0x1ffull << 3)
#define IOTLB_PROT_BITS		12
#define IOTLB_REGION_LG2	30		/* generation buckets per 1 GiB */
#define IOTLB_RANGE_BUMP_MAX	8		/* regions bumped one by one */
#define IOTLB_GEN_BUCKETS_LG2	10
#define IOTLB_GEN_BUCKETS	(1u << IOTLB_GEN_BUCKETS_LG2)
#define IOTLB_GEN_ALL		IOTLB_GEN_BUCKETS	/* index of the global counter */

struct iotlb_entry {
	uint64_t seq;		/* [set lock] written; readers load it */
	uint64_t tag;		/* [set lock] written; see the layout above */
	uint64_t id;		/* [set lock] written */
	uint64_t data;		/* [set lock] written */
};

struct iotlb_set_ctl {
	uint32_t lock;		/* 0 free, 1 held: the set's writer lock */
	uint32_t hand;		/* [lock] next way to evict */
};

struct siommu_iotlb {
	/* Read by every lookup: one cache line, written at most 3 times. */
	struct iotlb_entry *entries;	/* immutable pointer; entries as above */
	struct siommu_stats *stats;	/* immutable */
	uint64_t set_mask;		/* immutable: (nsets - 1) * set_bytes */
	uint32_t nsets_lg2;		/* immutable */
	uint32_t set_bytes;		/* immutable: ways * sizeof(struct iotlb_entry) */
	unsigned int sizes;		/* bit per size code ever inserted; only set (seq_cst) */

	/* Writers only, on other cache lines. */
	struct iotlb_set_ctl *ctl siommu_cacheline_aligned; /* immutable pointer */
	uint64_t *gens;			/* immutable pointer; counters: atomic, only grow */
	struct siommu_ctx *ctx;		/* immutable */
	uint32_t capacity;		/* immutable */
	uint32_t ways;			/* immutable */
	uint32_t nsets;			/* immutable */
	unsigned int set_bytes_lg2;	/* immutable */
};

/* ------------------------------------------------------------------ helpers */

/* The span a code's tags are indexed by: the page size, or a run's block. */
static inline unsigned int size_lg2_of(unsigned int code)
{
	return code == IOTLB_CODE_RUN ? IOTLB_RUN_LG2 : 12 + 9 * code;
}

static inline uint64_t dom_key(uint32_t domid)
{
	return (uint64_t)domid * 0xff51afd7ed558ccdull;
}

static inline uint64_t make_id(uint32_t domid, uint32_t pasid)
{
	return (uint64_t)domid << 32 | pasid;
}

static inline uint64_t make_tag(uint64_t page, unsigned int code)
{
	return page | (uint64_t)code << 1 | IOTLB_TAG_VALID;
}

static inline unsigned int tag_code(uint64_t tag)
{
	return (unsigned int)(tag >> 1) & 3;
}

static inline uint64_t tag_page(uint64_t tag)
{
	return tag & ~((1ull << IOTLB_PROT_BITS) - 1);
}

/* A run tag: its block, the indices of its first and last 4 KiB pages. */
static inline uint64_t make_run_tag(uint64_t block, unsigned int first,
				    unsigned int last)
{
	return block | (uint64_t)first << 12 | (uint64_t)last << 3 |
	       (uint64_t)IOTLB_CODE_RUN << 1 | IOTLB_TAG_VALID;
}

static inline unsigned int run_first(uint64_t tag)
{
	return (unsigned int)(tag >> 12) & (IOTLB_RUN_PAGES - 1);
}

static inline unsigned int run_last(uint64_t tag)
{
	return (unsigned int)(tag >> 3) & (IOTLB_RUN_PAGES - 1);
}

/* First and last byte of what a valid @tag translates. */
static inline void tag_span(uint64_t tag, uint64_t *first, uint64_t *last)
{
	unsigned int code = tag_code(tag);

	if (code == IOTLB_CODE_RUN) {
		uint64_t block = tag & ~((1ull << IOTLB_RUN_LG2) - 1);

		*first = block + ((uint64_t)run_first(tag) << 12);
		*last = block + ((uint64_t)run_last(tag) << 12) + 0xfff;
	} else {
		*first = tag_page(tag);
		*last = *first + ((1ull << size_lg2_of(code)) - 1);
	}
}

/*
 * The set of (domain, page number @pfn of size @code), as a byte offset into
 * the entry array.  The low bits of the page number pick the set, as in
 * hardware, plus an offset hashed from the rest of the page number, the
 * domain and the size: consecutive pages of one domain fall in consecutive
 * sets, so a contiguous working set of up to (ways - 1) / ways of the
 * capacity never conflicts, at any alignment (a hash of the whole page
 * number scattered 256 consecutive pages of a 512-entry cache with about
 * 13% conflict misses), while pages that differ only above the index bits
 * (strides of the cache size, the same address in two domains) are spread
 * by the hash.
 */
static inline size_t set_offset(const struct siommu_iotlb *tlb, uint64_t dkey,
				uint64_t pfn, unsigned int code)
{
	uint64_t high = ((pfn >> tlb->nsets_lg2) ^ dkey) + code;
	uint64_t h = pfn + ((high * 0x9e3779b97f4a7c15ull) >> 32);

	return (size_t)((h << tlb->set_bytes_lg2) & tlb->set_mask);
}

static inline struct iotlb_entry *set_at(const struct siommu_iotlb *tlb,
					 size_t off)
{
	return (struct iotlb_entry *)((char *)tlb->entries + off);
}

static inline size_t set_index_of(const struct siommu_iotlb *tlb, size_t off)
{
	return off >> tlb->set_bytes_lg2;
}

static inline struct iotlb_entry *set_entries(const struct siommu_iotlb *tlb,
					      size_t idx)
{
	return tlb->entries + idx * tlb->ways;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static __attribute__((noinline)) void set_lock_slow(struct iotlb_set_ctl *c)
{
	unsigned int spins = 0;

	/* Acquire: pairs with the release in set_unlock(). */
	while (__atomic_exchange_n(&c->lock, 1, __ATOMIC_ACQUIRE)) {
		while (siommu_load_relaxed(&c->lock)) {
			/* The holder may have been preempted: let it run. */
			if (++spins >= 128) {
				sched_yield();
				spins = 0;
			} else {
				cpu_relax();
			}
		}
	}
}

/* The uncontended case inline (one exchange); spinning out of line. */
static inline void set_lock(struct iotlb_set_ctl *c)
{
	/* Acquire: pairs with the release in set_unlock(). */
	if (siommu_unlikely(__atomic_exchange_n(&c->lock, 1, __ATOMIC_ACQUIRE)))
		set_lock_slow(c);
}

static inline void set_unlock(struct iotlb_set_ctl *c)
{
	siommu_store_release(&c->lock, 0);
}

/*
 * Rewrite one entry.  Context: the set's lock is held.
 * The odd sequence value is stored first; each field store is a release, so
 * a reader whose acquire load of a field reads a value stored here also
 * sees the odd sequence (or later) when it reloads seq, and discards what
 * it read.  The final release of the even value pairs with the acquire
 * load of seq at the start of iotlb_probe().
 */
static void entry_write(struct iotlb_entry *e, uint64_t tag, uint64_t id,
			uint64_t data)
{
	uint64_t s = siommu_load_relaxed(&e->seq);

	siommu_store_relaxed(&e->seq, s + 1);
	siommu_store_release(&e->tag, tag);
	siommu_store_release(&e->id, id);
	siommu_store_release(&e->data, data);
	siommu_store_release(&e->seq, s + 2);
}

/* Free an entry.  Context: the set's lock is held. */
static void entry_clear(struct iotlb_entry *e)
{
	uint64_t s = siommu_load_relaxed(&e->seq);

	siommu_store_relaxed(&e->seq, s + 1);
	siommu_store_release(&e->tag, 0);
	siommu_store_release(&e->seq, s + 2);
}

/* ------------------------------------------------------------------ generations */

enum gen_kind {
	GEN_DOM = 1,
	GEN_PASID,
	GEN_DOM_PASID,
	GEN_DOM_REGION,
};

/* Multiplicative (Fibonacci) hashing of (kind, a, b): its top bits. */
static inline size_t gen_bucket(enum gen_kind kind, uint64_t a, uint64_t b)
{
	uint64_t x = (a + ((uint64_t)kind << 40)) * 0x9e3779b97f4a7c15ull +
		     b * 0xc2b2ae3d27d4eb4full;

	return (size_t)(x >> (64 - IOTLB_GEN_BUCKETS_LG2));
}

/* The buckets of the four hashed counters that cover (@domid, @pasid, @region). */
static inline void gen_buckets(uint32_t domid, uint32_t pasid, uint64_t region,
			       uint16_t *b)
{
	b[0] = (uint16_t)gen_bucket(GEN_DOM, domid, 0);
	b[1] = (uint16_t)gen_bucket(GEN_PASID, pasid, 0);
	b[2] = (uint16_t)gen_bucket(GEN_DOM_PASID, domid, pasid);
	b[3] = (uint16_t)gen_bucket(GEN_DOM_REGION, domid, region);
}

/*
 * The sum of the global counter and the four of @b (from gen_buckets():
 * masked, so a corrupt seq cannot index out of the array).
 */
static inline uint64_t gen_sum_b(const struct siommu_iotlb *tlb, const uint16_t *b,
				 int memorder)
{
	const uint64_t *g = tlb->gens;
	const unsigned int m = IOTLB_GEN_BUCKETS - 1;

	return __atomic_load_n(&g[IOTLB_GEN_ALL], memorder) +
	       __atomic_load_n(&g[b[0] & m], memorder) +
	       __atomic_load_n(&g[b[1] & m], memorder) +
	       __atomic_load_n(&g[b[2] & m], memorder) +
	       __atomic_load_n(&g[b[3] & m], memorder);
}

/*
 * I1 of an invalidation: make every insert that took its seq before this
 * point fail its check.  Sequentially consistent: it is ordered after the
 * caller's page-table changes (release, pairs with the acquire loads of
 * seq_begin) and before the invalidation's load of tlb->sizes (the
 * store-buffering pair with insert described at the top).
 */
static void gen_bump(struct siommu_iotlb *tlb, size_t bucket)
{
	__atomic_fetch_add(&tlb->gens[bucket], 1, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------------ create */

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static unsigned int lg2_u32(uint32_t v)
{
	return 31u - (unsigned int)__builtin_clz(v);
}

SIOMMU_API int siommu_iotlb_create(struct siommu_ctx *ctx,
				   const struct siommu_iotlb_config *cfg,
				   struct siommu_iotlb **out)
{
	uint32_t capacity = SIOMMU_IOTLB_DEFAULT_CAPACITY;
	uint32_t ways = SIOMMU_IOTLB_DEFAULT_WAYS;
	struct siommu_iotlb *tlb;
	int ret;

	if (!ctx || !out)
		return -EINVAL;
	if (cfg && cfg->capacity)
		capacity = cfg->capacity;
	if (cfg && cfg->ways)
		ways = cfg->ways;
	if (!pow2(capacity) || capacity > SIOMMU_IOTLB_CAPACITY_MAX ||
	    !pow2(ways) || ways > SIOMMU_IOTLB_WAYS_MAX || ways > capacity)
		return -EINVAL;

	tlb = siommu_zalloc_aligned(SIOMMU_CACHELINE, sizeof(*tlb));
	if (!tlb)
		return -ENOMEM;
	tlb->capacity = capacity;
	tlb->ways = ways;
	tlb->nsets = capacity / ways;
	tlb->set_bytes = ways * (uint32_t)sizeof(struct iotlb_entry);
	tlb->set_bytes_lg2 = lg2_u32(tlb->set_bytes);
	tlb->set_mask = (uint64_t)(tlb->nsets - 1) * tlb->set_bytes;
	tlb->nsets_lg2 = lg2_u32(tlb->nsets);
	tlb->ctx = ctx;

	/* Aligned to a set at least: iotlb_probe() finds a set's end so. */
	tlb->entries = siommu_zalloc_aligned(tlb->set_bytes > SIOMMU_CACHELINE ?
					     tlb->set_bytes : SIOMMU_CACHELINE,
					     (size_t)capacity * sizeof(struct iotlb_entry));
	if (!tlb->entries)
		goto err_free_tlb;
	tlb->ctl = siommu_calloc(tlb->nsets, sizeof(struct iotlb_set_ctl));
	if (!tlb->ctl)
		goto err_free_entries;
	tlb->gens = siommu_calloc(IOTLB_GEN_BUCKETS + 1, sizeof(uint64_t));
	if (!tlb->gens)
		goto err_free_ctl;
	ret = siommu_stats_create(IOTLB_STAT_NR, &tlb->stats);
	if (ret)
		goto err_free_gens;

	siommu_ctx_hold(ctx);
	*out = tlb;
	return 0;

err_free_gens:
	siommu_free(tlb->gens);
err_free_ctl:
	siommu_free(tlb->ctl);
err_free_entries:
	siommu_free(tlb->entries);
err_free_tlb:
	siommu_free(tlb);
	return -ENOMEM;
}

SIOMMU_API void siommu_iotlb_destroy(struct siommu_iotlb *tlb)
{
	if (!tlb)
		return;
	siommu_ctx_unhold(tlb->ctx);
	siommu_stats_destroy(tlb->stats);
	siommu_free(tlb->gens);
	siommu_free(tlb->ctl);
	siommu_free(tlb->entries);
	siommu_free(tlb);
}

/* ------------------------------------------------------------------ lookup */

static inline bool tag_ok(uint32_t domid, uint32_t pasid)
{
	return pasid <= SIOMMU_IOTLB_PASID_MAX && domid != SIOMMU_IOTLB_DOMID_ANY;
}

/*
 * Probe the set of (domain, the page of size @code that holds @iova).
 * Context: lock-free.  Returns true and fills @out on a validated hit.
 *
 * Written for few live registers (the whole 4 KiB path fits in the
 * caller-saved ones): the entry array is aligned to the set size, so the
 * last way of a set is the one whose successor starts a new set.
 */
static inline bool iotlb_probe(const struct siommu_iotlb *tlb, uint64_t dkey,
			       uint64_t id, uint64_t iova, unsigned int code,
			       struct siommu_iotlb_entry *out,
			       struct siommu_iotlb_ref *ref)
{
	unsigned int lg2 = size_lg2_of(code);
	uint64_t want = make_tag(iova & ~((1ull << lg2) - 1), code);
	struct iotlb_entry *e = set_at(tlb, set_offset(tlb, dkey, iova >> lg2, code));
	uint64_t s, data;

	do {
		/* Pairs with the final release store of entry_write(). */
		s = siommu_load_acquire(&e->seq);
		if (((siommu_load_acquire(&e->tag) ^ want) |
		     (siommu_load_acquire(&e->id) ^ id)) != 0)
			continue;
		siommu_debug_yield(SIOMMU_YIELD_IOTLB_LOOKUP);
		data = siommu_load_acquire(&e->data);
		/*
		 * Ordered after the acquire loads above.  If any of them read
		 * a store of a later write, that write's odd seq is visible
		 * here (see entry_write()).
		 */
		if (siommu_unlikely(((siommu_load_relaxed(&e->seq) ^ s) | (s & 1)) != 0))
			continue;	/* changing under us: a miss */
		out->iova = tag_page(want);
		out->addr = data & ~((1ull << lg2) - 1);
		out->size_lg2 = lg2;
		out->prot = (unsigned int)data & SIOMMU_IOTLB_PROT_MASK;
		if (ref) {
			/* What was read is the entry's content at seq @s. */
			ref->seq = &e->seq;
			ref->val = s;
		}
		return true;
	} while ((uintptr_t)++e & (tlb->set_bytes - 1));
	return false;
}

/*
 * Probe the set of the run entry of (domain, the 2 MiB block that holds
 * @iova): a hit if the block's run covers @iova's page.  On a hit @out is
 * that 4 KiB page and @span (if not NULL) the run's first and last byte.
 * A (domain, PASID, block) has at most one run entry (insert updates it in
 * place), so a run entry of the block that does not cover the page is a
 * miss.  Context: lock-free; the same validated read as iotlb_probe().
 */
static inline bool iotlb_probe_run(const struct siommu_iotlb *tlb, uint64_t dkey,
				   uint64_t id, uint64_t iova,
				   struct siommu_iotlb_entry *out,
				   struct siommu_iotlb_ref *ref,
				   struct siommu_iotlb_span *span)
{
	uint64_t block = iova & ~((1ull << IOTLB_RUN_LG2) - 1);
	uint64_t want = make_run_tag(block, 0, 0);
	unsigned int idx = (unsigned int)(iova >> 12) & (IOTLB_RUN_PAGES - 1);
	struct iotlb_entry *e = set_at(tlb, set_offset(tlb, dkey, iova >> IOTLB_RUN_LG2,
						       IOTLB_CODE_RUN));
	uint64_t s, t, data;

	do {
		/* As iotlb_probe(): pairs with entry_write()'s final release. */
		s = siommu_load_acquire(&e->seq);
		t = siommu_load_acquire(&e->tag);
		if ((((t & ~IOTLB_RUN_IDX_MASK) ^ want) |
		     (siommu_load_acquire(&e->id) ^ id)) != 0)
			continue;
		siommu_debug_yield(SIOMMU_YIELD_IOTLB_LOOKUP);
		data = siommu_load_acquire(&e->data);
		if (siommu_unlikely(((siommu_load_relaxed(&e->seq) ^ s) | (s & 1)) != 0))
			continue;	/* changing under us: a miss */
		if (idx < run_first(t) || idx > run_last(t))
			return false;	/* the block's run, not this page */
		out->iova = block + ((uint64_t)idx << 12);
		/* The block's (virtual) output base, plus the page: may wrap. */
		out->addr = (data & ~(uint64_t)SIOMMU_IOTLB_PROT_MASK) + ((uint64_t)idx << 12);
		out->size_lg2 = 12;
		out->prot = (unsigned int)data & SIOMMU_IOTLB_PROT_MASK;
		if (ref) {
			ref->seq = &e->seq;
			ref->val = s;
		}
		if (span)
			tag_span(t, &span->first, &span->last);
		return true;
	} while ((uintptr_t)++e & (tlb->set_bytes - 1));
	return false;
}

/*
 * After a 4 KiB miss: the tag check, the run, 2 MiB and 1 GiB probes, and
 * the miss count.  Out of line, and taking only values the fast path keeps
 * live anyway (@id holds the domain and PASID; @iova may have lost its low
 * 12 bits, which no probe here uses).
 */
static __attribute__((noinline)) int
iotlb_lookup_slow(struct siommu_iotlb *tlb, uint64_t id, uint64_t iova,
		  struct siommu_iotlb_entry *out, struct siommu_iotlb_ref *ref)
{
	uint32_t domid = (uint32_t)(id >> 32), pasid = (uint32_t)id;
	uint64_t dkey = dom_key(domid);
	unsigned int sizes = siommu_load_relaxed(&tlb->sizes);

	if (!tag_ok(domid, pasid))
		return -EINVAL;
	if (((sizes & (1u << IOTLB_CODE_RUN)) &&
	     iotlb_probe_run(tlb, dkey, id, iova, out, ref, NULL)) ||
	    ((sizes & 2) && iotlb_probe(tlb, dkey, id, iova, 1, out, ref)) ||
	    ((sizes & 4) && iotlb_probe(tlb, dkey, id, iova, 2, out, ref))) {
		siommu_stats_inc(tlb->stats, IOTLB_STAT_HITS);
		return 0;
	}
	siommu_stats_inc(tlb->stats, IOTLB_STAT_MISSES);
	return -ENOENT;
}

/*
 * The hot counters (hits, misses, inserts): this thread's counter block of
 * the IOTLB it counted for last, in a one-entry initial-exec cache, so that
 * a thread translating through one IOMMU finds it with one compare instead
 * of base/stats.h's hash probe (about 20 instructions).  Keyed by the
 * counter set's id, unique in the process and never reused (base/tls.h):
 * the entry of a destroyed IOTLB never matches again, so its block pointer
 * is never followed after the block is freed (at the set's destroy, or
 * this thread's exit, which ends this cache too).  Written by this thread
 * only.
 */
struct iotlb_stats_cache {
	uint64_t id;		/* 0 (never an id): empty */
	uint64_t *v;		/* that set's block of this thread: its counters */
};

static __thread struct iotlb_stats_cache iotlb_tls_stats
	__attribute__((tls_model("initial-exec")));

static __attribute__((noinline)) uint64_t *iotlb_stats_slow(struct siommu_stats *st)
{
	struct stats_block *b = siommu_tls_lookup(st->tls.id);

	if (!b) {
		/* This thread's first count of @st: make its block. */
		siommu_stats_add(st, IOTLB_STAT_HITS, 0);
		b = siommu_tls_lookup(st->tls.id);
		if (!b)
			return NULL;	/* no memory: the caller counts the slow way */
	}
	iotlb_tls_stats.id = st->tls.id;
	iotlb_tls_stats.v = b->v;
	return b->v;
}

/* This thread's counters of @st, or NULL (then use siommu_stats_add()). */
static inline uint64_t *iotlb_stats_v(struct siommu_stats *st)
{
	if (siommu_likely(iotlb_tls_stats.id == st->tls.id))
		return iotlb_tls_stats.v;
	return iotlb_stats_slow(st);
}

static inline void iotlb_count_n(struct siommu_stats *st, unsigned int idx, uint64_t n)
{
	uint64_t *v = iotlb_stats_v(st);

	if (siommu_unlikely(!v)) {
		siommu_stats_add(st, idx, n);
		return;
	}
	/* Only this thread writes its block; readers load it relaxed. */
	siommu_store_relaxed(&v[idx], siommu_load_relaxed(&v[idx]) + n);
}

static inline void iotlb_count(struct siommu_stats *st, unsigned int idx)
{
	iotlb_count_n(st, idx, 1);
}

static inline __attribute__((always_inline)) int
iotlb_lookup(struct siommu_iotlb *tlb, uint32_t domid, uint32_t pasid, uint64_t iova,
	     struct siommu_iotlb_entry *out, struct siommu_iotlb_ref *ref)
{
	uint64_t id = make_id(domid, pasid);

	if (siommu_unlikely(!tlb || !out))
		return -EINVAL;
	/*
	 * A bad tag (PASID over 20 bits, domain ANY) cannot match: insert
	 * refuses them.  So it is checked on the miss path only, before any
	 * wider probe, and still gives -EINVAL.  A stale sizes mask only
	 * costs a miss (see the top comment).
	 */
	if (siommu_likely(siommu_load_relaxed(&tlb->sizes) & 1) &&
	    iotlb_probe(tlb, dom_key(domid), id, iova, 0, out, ref)) {
		iotlb_count(tlb->stats, IOTLB_STAT_HITS);
		return 0;
	}
	return iotlb_lookup_slow(tlb, id, iova & ~0xfffull, out, ref);
}

SIOMMU_API int siommu_iotlb_lookup(struct siommu_iotlb *tlb, uint32_t domid,
				   uint32_t pasid, uint64_t iova,
				   struct siommu_iotlb_entry *out)
{
	return iotlb_lookup(tlb, domid, pasid, iova, out, NULL);
}

SIOMMU_API int siommu_iotlb_lookup_ref(struct siommu_iotlb *tlb, uint32_t domid,
				       uint32_t pasid, uint64_t iova,
				       struct siommu_iotlb_entry *out,
				       struct siommu_iotlb_ref *ref)
{
	if (siommu_unlikely(!ref))
		return -EINVAL;
	return iotlb_lookup(tlb, domid, pasid, iova, out, ref);
}

/*
 * siommu_iotlb_lookup_span() past the 4 KiB and run probes: the tag check,
 * the 2 MiB and 1 GiB probes, the miss count.  Out of line (as
 * iotlb_lookup_slow()).
 */
static __attribute__((noinline)) int
iotlb_lookup_span_slow(struct siommu_iotlb *tlb, uint64_t id, uint64_t iova,
		       struct siommu_iotlb_hit *hit)
{
	uint32_t domid = (uint32_t)(id >> 32), pasid = (uint32_t)id;
	uint64_t dkey = dom_key(domid);
	unsigned int sizes = siommu_load_relaxed(&tlb->sizes);

	if (!tag_ok(domid, pasid))
		return -EINVAL;
	if (((sizes & 2) && iotlb_probe(tlb, dkey, id, iova, 1, &hit->e, &hit->ref)) ||
	    ((sizes & 4) && iotlb_probe(tlb, dkey, id, iova, 2, &hit->e, &hit->ref))) {
		hit->span.first = hit->e.iova;
		hit->span.last = hit->e.iova + ((1ull << hit->e.size_lg2) - 1);
		iotlb_count(tlb->stats, IOTLB_STAT_HITS);
		return 0;
	}
	iotlb_count(tlb->stats, IOTLB_STAT_MISSES);
	return -ENOENT;
}

/*
 * The 4 KiB probe, then the run probe, inline: the two a translation of
 * 4 KiB pages needs, in one call with no stack frame of its own on a hit.
 */
SIOMMU_API int siommu_iotlb_lookup_span(struct siommu_iotlb *tlb, uint32_t domid,
					uint32_t pasid, uint64_t iova,
					struct siommu_iotlb_hit *hit)
{
	uint64_t id = make_id(domid, pasid);
	unsigned int sizes;

	if (siommu_unlikely(!tlb || !hit))
		return -EINVAL;
	/* A bad tag cannot match (as iotlb_lookup()): checked on the miss path. */
	sizes = siommu_load_relaxed(&tlb->sizes);
	if (siommu_likely(sizes & 1) &&
	    iotlb_probe(tlb, dom_key(domid), id, iova, 0, &hit->e, &hit->ref)) {
		hit->span.first = hit->e.iova;
		hit->span.last = hit->e.iova + 0xfff;
		iotlb_count(tlb->stats, IOTLB_STAT_HITS);
		return 0;
	}
	if ((sizes & (1u << IOTLB_CODE_RUN)) &&
	    iotlb_probe_run(tlb, dom_key(domid), id, iova, &hit->e, &hit->ref, &hit->span)) {
		iotlb_count(tlb->stats, IOTLB_STAT_HITS);
		return 0;
	}
	return iotlb_lookup_span_slow(tlb, id, iova & ~0xfffull, hit);
}

/*
 * The pages after one a caller already translated, for a transfer that
 * goes on (DMA runs): one probe per page, the set of each next page found
 * from the previous one's (consecutive pages of a domain sit in consecutive
 * sets, the hash offset changes only every nsets pages), one statistics
 * add for all the hits.  4 KiB entries only: larger pages are the caller's
 * single lookups.
 */
SIOMMU_API int siommu_iotlb_lookup_run(struct siommu_iotlb *tlb, uint32_t domid,
				       uint32_t pasid, uint64_t iova, uint64_t addr,
				       unsigned int max, unsigned int prot_mask,
				       unsigned int prot_want)
{
	uint64_t id = make_id(domid, pasid), dkey = dom_key(domid), want, s, data;
	uint64_t pfn = iova >> 12;
	struct iotlb_entry *e;
	unsigned int n;
	bool hit;

	if (!tlb || (iova & 0xfff) || (addr & 0xfff) || !tag_ok(domid, pasid) ||
	    (prot_want & ~prot_mask))
		return -EINVAL;
	if (!(siommu_load_relaxed(&tlb->sizes) & 1))
		return 0;
	for (n = 0; n < max; n++, pfn++, addr += 4096) {
		want = make_tag(pfn << 12, 0);
		e = set_at(tlb, set_offset(tlb, dkey, pfn, 0));
		hit = false;
		do {
			/* As iotlb_probe(): pairs with entry_write()'s final release. */
			s = siommu_load_acquire(&e->seq);
			if (((siommu_load_acquire(&e->tag) ^ want) |
			     (siommu_load_acquire(&e->id) ^ id)) != 0)
				continue;
			siommu_debug_yield(SIOMMU_YIELD_IOTLB_LOOKUP);
			data = siommu_load_acquire(&e->data);
			if (siommu_unlikely(((siommu_load_relaxed(&e->seq) ^ s) | (s & 1)) != 0))
				continue;
			hit = true;
			break;
		} while ((uintptr_t)++e & (tlb->set_bytes - 1));
		if (!hit ||
		    (data & ~(uint64_t)SIOMMU_IOTLB_PROT_MASK) != addr ||
		    (data & prot_mask) != prot_want)
			break;	/* a miss, or the run ends here */
	}
	if (n)
		iotlb_count_n(tlb->stats, IOTLB_STAT_HITS, n);
	return (int)n;
}

/* ------------------------------------------------------------------ insert */

#if SIOMMU_TESTING_BUILD
bool iotlb_test_break_stale_insert;	/* tests only: see iotlb_internal.h */

static bool iotlb_insert_broken(void)
{
	return siommu_load_relaxed(&iotlb_test_break_stale_insert);
}
bool iotlb_test_break_run_inv;	/* tests only: see iotlb_internal.h */

static bool iotlb_run_inv_broken(void)
{
	return siommu_load_relaxed(&iotlb_test_break_run_inv);
}
#else
static inline bool iotlb_insert_broken(void)
{
	return false;
}

static inline bool iotlb_run_inv_broken(void)
{
	return false;
}
#endif

SIOMMU_API int siommu_iotlb_seq_begin(struct siommu_iotlb *tlb, uint32_t domid,
				      uint32_t pasid, uint64_t iova,
				      struct siommu_iotlb_seq *seq)
{
	if (!tlb || !seq || !tag_ok(domid, pasid))
		return -EINVAL;
	seq->domid = domid;
	seq->pasid = pasid;
	seq->region = iova >> IOTLB_REGION_LG2;
	/* Hashed once: insert re-reads the same buckets. */
	gen_buckets(domid, pasid, seq->region, seq->bucket);
	/*
	 * Acquire: the caller's page-table reads come after, so if a
	 * generation bump is seen here, so is the table change before it.
	 * Pairs with gen_bump().
	 */
	seq->gen = gen_sum_b(tlb, seq->bucket, __ATOMIC_ACQUIRE);
	return 0;
}

static int code_of(unsigned int size_lg2)
{
	switch (size_lg2) {
	case 12:
		return 0;
	case 21:
		return 1;
	case 30:
		return 2;
	default:
		return -1;
	}
}

/* An insert's counters, through this thread's cached block. */
static inline void insert_count(struct siommu_stats *st, bool run, bool evict)
{
	uint64_t *v = iotlb_stats_v(st);

	if (siommu_unlikely(!v)) {
		siommu_stats_inc(st, IOTLB_STAT_INSERTS);
		if (run)
			siommu_stats_inc(st, IOTLB_STAT_RUN_INSERTS);
		if (evict)
			siommu_stats_inc(st, IOTLB_STAT_EVICTIONS);
		return;
	}
	/* Only this thread writes its block (base/stats.h). */
	siommu_store_relaxed(&v[IOTLB_STAT_INSERTS], siommu_load_relaxed(&v[IOTLB_STAT_INSERTS]) + 1);
	if (run)
		siommu_store_relaxed(&v[IOTLB_STAT_RUN_INSERTS],
				     siommu_load_relaxed(&v[IOTLB_STAT_RUN_INSERTS]) + 1);
	if (evict)
		siommu_store_relaxed(&v[IOTLB_STAT_EVICTIONS],
				     siommu_load_relaxed(&v[IOTLB_STAT_EVICTIONS]) + 1);
}

/*
 * Insert @e, or when @npages > 1 the run of @npages 4 KiB pages that starts
 * with @e (one entry, code RUN: the run's block, first and last page in the
 * tag, the block's output base in data).
 */
static int iotlb_insert(struct siommu_iotlb *tlb, uint32_t domid, uint32_t pasid,
			const struct siommu_iotlb_entry *e, unsigned int npages,
			const struct siommu_iotlb_seq *seq,
			struct siommu_iotlb_ref *ref)
{
	struct iotlb_entry *set, *victim = NULL;
	uint64_t tag, id, mask, data, match_mask = ~0ull;
	struct iotlb_set_ctl *ctl;
	bool evict = false;
	unsigned int w, first;
	size_t idx;
	int code;

	if (!tlb || !e || !seq || !tag_ok(domid, pasid))
		return -EINVAL;
	code = code_of(e->size_lg2);
	if (code < 0)
		return -EINVAL;
	mask = (1ull << e->size_lg2) - 1;
	if ((e->iova & mask) || (e->addr & mask) ||
	    (e->prot & ~SIOMMU_IOTLB_PROT_MASK))
		return -EINVAL;
	if (seq->domid != domid || seq->pasid != pasid ||
	    seq->region != e->iova >> IOTLB_REGION_LG2)
		return -EINVAL;
	first = (unsigned int)(e->iova >> 12) & (IOTLB_RUN_PAGES - 1);
	if (npages > 1) {
		/* 4 KiB pages, all in @e's 2 MiB block (so in seq's region). */
		if (code != 0 || npages > IOTLB_RUN_PAGES - first)
			return -EINVAL;
		code = IOTLB_CODE_RUN;
	}

	/*
	 * Announce the size before the set lock and the generation check:
	 * the store-buffering pair with the invalidation's I1 / sizes load
	 * (top comment).  The bit is never cleared.
	 */
	if (!(__atomic_load_n(&tlb->sizes, __ATOMIC_SEQ_CST) & (1u << code)))
		__atomic_fetch_or(&tlb->sizes, 1u << code, __ATOMIC_SEQ_CST);

	id = make_id(domid, pasid);
	if (code == IOTLB_CODE_RUN) {
		uint64_t block = e->iova & ~((1ull << IOTLB_RUN_LG2) - 1);

		tag = make_run_tag(block, first, first + npages - 1);
		/* One run per (domain, PASID, block): same block, update it. */
		match_mask = ~IOTLB_RUN_IDX_MASK;
		data = (e->addr - ((uint64_t)first << 12)) | e->prot;
		idx = set_index_of(tlb, set_offset(tlb, dom_key(domid),
						    e->iova >> IOTLB_RUN_LG2, IOTLB_CODE_RUN));
	} else {
		tag = make_tag(e->iova, (unsigned int)code);
		data = e->addr | e->prot;
		idx = set_index_of(tlb, set_offset(tlb, dom_key(domid),
						    e->iova >> e->size_lg2, (unsigned int)code));
	}
	set = set_entries(tlb, idx);
	ctl = &tlb->ctl[idx];

	siommu_debug_yield(SIOMMU_YIELD_IOTLB_INSERT);
	set_lock(ctl);
	/*
	 * Any invalidation covering this tag that started after seq_begin
	 * either bumped a counter we read here (its I2 has not locked this
	 * set yet, or had already released it: then its I1 happens before
	 * this load through the lock), or will lock the set after us and
	 * clear what we write.  A run's pages are all in seq's 1 GiB region,
	 * so the same five counters cover every one of them.
	 */
	if (gen_sum_b(tlb, seq->bucket, __ATOMIC_SEQ_CST) != seq->gen &&
	    !iotlb_insert_broken()) {
		set_unlock(ctl);
		siommu_stats_inc(tlb->stats, IOTLB_STAT_INSERT_STALE);
		return -EAGAIN;
	}
	for (w = 0; w < tlb->ways; w++) {
		uint64_t t = siommu_load_relaxed(&set[w].tag);

		/* (A page tag's code never matches a run's under the mask.) */
		if (((t ^ tag) & match_mask) == 0 && siommu_load_relaxed(&set[w].id) == id) {
			victim = &set[w];	/* same tag: update in place */
			break;
		}
		if (!t && !victim)
			victim = &set[w];	/* first free way */
	}
	if (!victim) {
		victim = &set[ctl->hand];
		ctl->hand = (ctl->hand + 1) & (tlb->ways - 1);
		evict = true;
	}
	entry_write(victim, tag, id, data);
	if (ref) {
		/* The entry holds @e until its next write (relaxed: we wrote it). */
		ref->seq = &victim->seq;
		ref->val = siommu_load_relaxed(&victim->seq);
	}
	set_unlock(ctl);

	insert_count(tlb->stats, code == IOTLB_CODE_RUN, evict);
	return 0;
}

SIOMMU_API int siommu_iotlb_insert(struct siommu_iotlb *tlb, uint32_t domid,
				   uint32_t pasid,
				   const struct siommu_iotlb_entry *e,
				   const struct siommu_iotlb_seq *seq)
{
	return iotlb_insert(tlb, domid, pasid, e, 1, seq, NULL);
}

SIOMMU_API int siommu_iotlb_insert_ref(struct siommu_iotlb *tlb, uint32_t domid,
				       uint32_t pasid,
				       const struct siommu_iotlb_entry *e,
				       const struct siommu_iotlb_seq *seq,
				       struct siommu_iotlb_ref *ref)
{
	if (!ref)
		return -EINVAL;
	return iotlb_insert(tlb, domid, pasid, e, 1, seq, ref);
}

SIOMMU_API int siommu_iotlb_insert_run(struct siommu_iotlb *tlb, uint32_t domid,
				       uint32_t pasid,
				       const struct siommu_iotlb_entry *e,
				       unsigned int npages,
				       const struct siommu_iotlb_seq *seq,
				       struct siommu_iotlb_ref *ref)
{
	if (!npages)
		return -EINVAL;
	return iotlb_insert(tlb, domid, pasid, e, npages, seq, ref);
}

/* ------------------------------------------------------------------ invalidation */

struct inv_match {
	uint32_t domid;		/* or DOMID_ANY */
	uint32_t pasid;		/* or PASID_ANY */
	bool all;		/* everything */
	bool range;		/* also require overlap with [first, last] */
	uint64_t first, last;
};

static bool inv_matches(const struct inv_match *m, uint64_t tag, uint64_t id)
{
	uint64_t page, page_last;

	if (!(tag & IOTLB_TAG_VALID))
		return false;
	if (m->all)
		return true;
	if (m->domid != SIOMMU_IOTLB_DOMID_ANY && (uint32_t)(id >> 32) != m->domid)
		return false;
	if (m->pasid != SIOMMU_IOTLB_PASID_ANY && (uint32_t)id != m->pasid)
		return false;
	if (!m->range)
		return true;
	if (tag_code(tag) == IOTLB_CODE_RUN && iotlb_run_inv_broken())
		return false;	/* tests only: the broken variant */
	tag_span(tag, &page, &page_last);
	return page <= m->last && page_last >= m->first;
}

/* Clear the matching entries of one set.  Returns how many. */
static unsigned int inv_set(struct siommu_iotlb *tlb, size_t idx,
			    const struct inv_match *m)
{
	struct iotlb_entry *set = set_entries(tlb, idx);
	unsigned int w, n = 0;

	set_lock(&tlb->ctl[idx]);
	for (w = 0; w < tlb->ways; w++) {
		if (inv_matches(m, siommu_load_relaxed(&set[w].tag),
				siommu_load_relaxed(&set[w].id))) {
			entry_clear(&set[w]);
			n++;
		}
	}
	set_unlock(&tlb->ctl[idx]);
	return n;
}

static uint64_t inv_scan(struct siommu_iotlb *tlb, const struct inv_match *m)
{
	uint64_t n = 0;
	size_t idx;

	for (idx = 0; idx < tlb->nsets; idx++)
		n += inv_set(tlb, idx, m);
	return n;
}

static void inv_account(struct siommu_iotlb *tlb, uint64_t n)
{
	siommu_stats_inc(tlb->stats, IOTLB_STAT_INVALIDATIONS);
	if (n)
		siommu_stats_add(tlb->stats, IOTLB_STAT_INV_ENTRIES, n);
}

SIOMMU_API int siommu_iotlb_inv_range(struct siommu_iotlb *tlb, uint32_t domid,
				      uint32_t pasid, uint64_t iova,
				      uint64_t size)
{
	struct inv_match m = { .domid = domid, .pasid = pasid, .range = true };
	uint64_t last, r, probes = 0, n = 0, pfn;
	unsigned int code, sizes;

	if (!tlb || !size || siommu_add_overflow(iova, size - 1, &last) ||
	    domid == SIOMMU_IOTLB_DOMID_ANY ||
	    (pasid > SIOMMU_IOTLB_PASID_MAX && pasid != SIOMMU_IOTLB_PASID_ANY))
		return -EINVAL;
	m.first = iova;
	m.last = last;

	/* I1: generations (the range's regions, or the wider bucket). */
	if ((last >> IOTLB_REGION_LG2) - (iova >> IOTLB_REGION_LG2) < IOTLB_RANGE_BUMP_MAX) {
		for (r = iova >> IOTLB_REGION_LG2; r <= last >> IOTLB_REGION_LG2; r++)
			gen_bump(tlb, gen_bucket(GEN_DOM_REGION, domid, r));
	} else if (pasid == SIOMMU_IOTLB_PASID_ANY) {
		gen_bump(tlb, gen_bucket(GEN_DOM, domid, 0));
	} else {
		gen_bump(tlb, gen_bucket(GEN_DOM_PASID, domid, pasid));
	}
	siommu_debug_yield(SIOMMU_YIELD_IOTLB_INV);

	/* I2: probe each page's set, or scan when that is less work. */
	sizes = __atomic_load_n(&tlb->sizes, __ATOMIC_SEQ_CST);
	for (code = 0; code < IOTLB_NR_SIZES; code++) {
		unsigned int lg2 = size_lg2_of(code);

		if (sizes & (1u << code))
			probes += (last >> lg2) - (iova >> lg2) + 1;
		if (probes > tlb->nsets)
			break;
	}
	if (probes > tlb->nsets) {
		n = inv_scan(tlb, &m);
	} else {
		uint64_t dkey = dom_key(domid);

		for (code = 0; code < IOTLB_NR_SIZES; code++) {
			unsigned int lg2 = size_lg2_of(code);

			if (!(sizes & (1u << code)))
				continue;
			for (pfn = iova >> lg2; pfn <= last >> lg2; pfn++)
				n += inv_set(tlb, set_index_of(tlb,
						set_offset(tlb, dkey, pfn, code)), &m);
		}
	}
	inv_account(tlb, n);
	return 0;
}

SIOMMU_API int siommu_iotlb_inv_pasid(struct siommu_iotlb *tlb, uint32_t domid,
				      uint32_t pasid)
{
	struct inv_match m = { .domid = domid, .pasid = pasid };

	if (!tlb || pasid > SIOMMU_IOTLB_PASID_MAX)
		return -EINVAL;
	if (domid == SIOMMU_IOTLB_DOMID_ANY)
		gen_bump(tlb, gen_bucket(GEN_PASID, pasid, 0));
	else
		gen_bump(tlb, gen_bucket(GEN_DOM_PASID, domid, pasid));
	siommu_debug_yield(SIOMMU_YIELD_IOTLB_INV);
	inv_account(tlb, inv_scan(tlb, &m));
	return 0;
}

SIOMMU_API int siommu_iotlb_inv_domain(struct siommu_iotlb *tlb, uint32_t domid)
{
	struct inv_match m = { .domid = domid, .pasid = SIOMMU_IOTLB_PASID_ANY };

	if (!tlb || domid == SIOMMU_IOTLB_DOMID_ANY)
		return -EINVAL;
	gen_bump(tlb, gen_bucket(GEN_DOM, domid, 0));
	siommu_debug_yield(SIOMMU_YIELD_IOTLB_INV);
	inv_account(tlb, inv_scan(tlb, &m));
	return 0;
}

SIOMMU_API int siommu_iotlb_inv_all(struct siommu_iotlb *tlb)
{
	struct inv_match m = { .all = true };

	if (!tlb)
		return -EINVAL;
	gen_bump(tlb, IOTLB_GEN_ALL);
	siommu_debug_yield(SIOMMU_YIELD_IOTLB_INV);
	inv_account(tlb, inv_scan(tlb, &m));
	return 0;
}

/* ------------------------------------------------------------------ introspection */

SIOMMU_API int siommu_iotlb_get_stats(struct siommu_iotlb *tlb,
				      struct siommu_iotlb_stats *out)
{
	uint64_t v[IOTLB_STAT_NR];

	if (!tlb || !out)
		return -EINVAL;
	siommu_stats_read_all(tlb->stats, v);
	memset(out, 0, sizeof(*out));
	out->hits = v[IOTLB_STAT_HITS];
	out->misses = v[IOTLB_STAT_MISSES];
	out->inserts = v[IOTLB_STAT_INSERTS];
	out->insert_stale = v[IOTLB_STAT_INSERT_STALE];
	out->evictions = v[IOTLB_STAT_EVICTIONS];
	out->invalidations = v[IOTLB_STAT_INVALIDATIONS];
	out->inv_entries = v[IOTLB_STAT_INV_ENTRIES];
	out->capacity = tlb->capacity;
	out->ways = tlb->ways;
	out->run_inserts = v[IOTLB_STAT_RUN_INSERTS];
	return 0;
}

SIOMMU_API int siommu_iotlb_for_each(struct siommu_iotlb *tlb,
				     siommu_iotlb_entry_fn *fn, void *opaque)
{
	struct {
		uint64_t tag, id, data;
	} copy[SIOMMU_IOTLB_WAYS_MAX];
	struct siommu_iotlb_entry e;
	unsigned int w, n;
	size_t idx;
	int ret;

	if (!tlb || !fn)
		return -EINVAL;
	for (idx = 0; idx < tlb->nsets; idx++) {
		struct iotlb_entry *set = set_entries(tlb, idx);

		n = 0;
		set_lock(&tlb->ctl[idx]);
		for (w = 0; w < tlb->ways; w++) {
			uint64_t tag = siommu_load_relaxed(&set[w].tag);

			if (!(tag & IOTLB_TAG_VALID))
				continue;
			copy[n].tag = tag;
			copy[n].id = siommu_load_relaxed(&set[w].id);
			copy[n].data = siommu_load_relaxed(&set[w].data);
			n++;
		}
		set_unlock(&tlb->ctl[idx]);
		for (w = 0; w < n; w++) {
			unsigned int code = tag_code(copy[w].tag), lg2 = size_lg2_of(code);
			uint64_t first, last, pg;

			e.prot = (unsigned int)copy[w].data & SIOMMU_IOTLB_PROT_MASK;
			if (code == IOTLB_CODE_RUN) {
				/* A run: each of its pages, as a 4 KiB translation. */
				tag_span(copy[w].tag, &first, &last);
				for (pg = first; pg < last; pg += 4096) {
					e.iova = pg;
					e.addr = (copy[w].data & ~(uint64_t)SIOMMU_IOTLB_PROT_MASK) +
						 (pg & ((1ull << IOTLB_RUN_LG2) - 1));
					e.size_lg2 = 12;
					ret = fn(opaque, (uint32_t)(copy[w].id >> 32),
						 (uint32_t)copy[w].id, &e);
					if (ret)
						return ret;
				}
				continue;
			}
			e.iova = tag_page(copy[w].tag);
			e.addr = copy[w].data & ~((1ull << lg2) - 1);
			e.size_lg2 = lg2;
			ret = fn(opaque, (uint32_t)(copy[w].id >> 32),
				 (uint32_t)copy[w].id, &e);
			if (ret)
				return ret;
		}
	}
	return 0;
}
