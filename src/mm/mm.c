/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mm: CPU address spaces (seed 001).
 *
 * Terms.  An mm has areas (what mmap made: [start, end), a protection, a
 * backing), folios (anonymous memory backing part of an area: 4 KiB,
 * 2 MiB or 1 GiB, naturally aligned, cut from a block of host memory) and
 * its own x86-64 page table (src/pgtable, entries holding host addresses),
 * in which a folio is mapped whole or not at all.  File areas map the
 * host pages of a shared mapping of the file, 4 KiB at a time.
 *
 * Invariants.
 *  M1  every present leaf of the table lies inside an area and maps the
 *      memory of the folio (or file page) of its address, with the area's
 *      protection at the time it was mapped;
 *  M2  every change that removes or downgrades a leaf is one invalidation:
 *      begin (in_progress, range union) -> start callbacks -> change ->
 *      secondary TLB callbacks -> grace period -> free -> end (sequence,
 *      then count) -> end callbacks.  A huge folio straddling the range of
 *      an operation is split first, and the invalidation covers it whole;
 *  M3  memory is freed only after the grace period of the invalidation
 *      that removed its last leaf: CPU accesses (siommu_mm_read/write) and
 *      DMA copy inside one read-side section per page, so none is still
 *      copying;
 *  M4  mm->lock is never held across a grace period: device fault
 *      handlers fault the mm from inside a DMA's read-side section.  So an
 *      operation drops the lock before its grace period; another operation
 *      may start meanwhile, and faults may map the range again before the
 *      end (a secondary's retry check sees the count and the range, which
 *      is what they are for).
 *
 * Why the lockless lookup may answer "4 KiB" for a non-present entry: it
 * is read with no lock, so its answer is only a hint (the table may change
 * the next instant); the seed's review (KVM, host_pfn_mapping_level())
 * insists that a not-present entry is 4 KiB, never "none", because the
 * caller maps at most that size and the notifier retry discards it if the
 * page was really going away.  "None" made KVM's hugepage adjustment
 * compute a bogus level.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "base/alloc.h"
#include "base/compiler.h"
#include "base/debug.h"
#include "base/rcu.h"
#include "mm/mm_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define MM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MM_ASAN 1
#endif
#endif
#ifdef MM_ASAN
#include <sanitizer/asan_interface.h>
#define mm_poison(p, n)		ASAN_POISON_MEMORY_REGION(p, n)
#define mm_unpoison(p, n)	ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define mm_poison(p, n)		do { (void)(p); (void)(n); } while (0)
#define mm_unpoison(p, n)	do { (void)(p); (void)(n); } while (0)
#endif

#define SZ_4K	(1ull << 12)
#define SZ_2M	(1ull << 21)
#define SZ_1G	(1ull << 30)
/* What freed memory holds, so that a stale reader sees it (tests look for it). */
#define MM_POISON_BYTE	0x6b
#define MM_MMAP_BASE	(1ull << 32)

static inline int folio_cmp(struct mm_folio *a, struct mm_folio *b)
{
	return a->va < b->va ? -1 : a->va > b->va;
}

RB_GENERATE_INTERNAL(mm_folio_tree, mm_folio, rb, folio_cmp,
		     __attribute__((unused)) static)

/* ------------------------------------------------------------------ refs */

int mm_get(struct siommu_mm *mm)
{
	__atomic_add_fetch(&mm->refs, 1, __ATOMIC_RELAXED);
	return 0;
}

static void mm_free(struct siommu_mm *mm)
{
	if (mm->pt)
		SIOMMU_WARN_ON(siommu_pt_destroy(mm->pt) != 0);
	pthread_cond_destroy(&mm->hmm_cond);
	siommu_mutex_destroy(&mm->inv_lock);
	siommu_mutex_destroy(&mm->lock);
	siommu_free(mm->areas);
	siommu_free(mm->notifiers);
	siommu_free(mm->intervals);
	siommu_ctx_unhold(mm->ctx);
	siommu_free(mm);
}

void mm_put(struct siommu_mm *mm)
{
	if (__atomic_sub_fetch(&mm->refs, 1, __ATOMIC_ACQ_REL) == 0)
		mm_free(mm);
}

/* ------------------------------------------------------------------ create */

SIOMMU_API int siommu_mm_create(struct siommu_ctx *ctx, const struct siommu_mm_cfg *cfg,
				struct siommu_mm **out)
{
	struct siommu_pt_cfg pcfg = { .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_pt_info info;
	struct siommu_mm *mm;
	unsigned int levels = cfg ? cfg->levels : 0;
	int ret;

	if (!ctx || !out || (levels && levels != 4 && levels != 5))
		return -EINVAL;
	if (!levels)
		levels = 4;
	mm = siommu_zalloc(sizeof(*mm));
	if (!mm)
		return -ENOMEM;
	pcfg.levels = levels;
	pcfg.max_table_pages = cfg ? cfg->max_table_pages : 0;
	ret = siommu_pt_create(ctx, &pcfg, &mm->pt);
	if (ret) {
		siommu_free(mm);
		return ret;
	}
	siommu_pt_get_info(mm->pt, &info);
	/* table_phys_base 0: entries and the root are host addresses */
	mm->root = (uint64_t *)(uintptr_t)info.root_phys;
	mm->levels = levels;
	mm->va_limit = 1ull << info.ias_lg2;
	mm->ctx = ctx;
	mm->refs = 1;
	RB_INIT(&mm->folios);
	siommu_mutex_init(&mm->lock, "mm", SIOMMU_RANK_MM);
	siommu_mutex_init(&mm->inv_lock, "mm.inv", SIOMMU_RANK_MM_INV);
	pthread_cond_init(&mm->hmm_cond, NULL);
	siommu_ctx_hold(ctx);
	*out = mm;
	return 0;
}

SIOMMU_API struct siommu_pt *siommu_mm_pt(struct siommu_mm *mm)
{
	if (!mm || __atomic_load_n(&mm->dead, __ATOMIC_RELAXED))
		return NULL;
	return mm->pt;
}

/* ------------------------------------------------------------------ the lockless walk */

/*
 * The seed-001 walk: from the root, each entry read once (acquire: pairs
 * with the release compare-and-swap that publishes a table page in
 * pgtable), inside the caller's read-side section, so a table page it
 * reaches cannot be freed before the section ends (pgtable frees table
 * pages only after a grace period, seed 000).  Returns the last entry read
 * and its level (0 = 4 KiB); the entry may be non-present.
 */
static inline uint64_t mm_walk_rcu(const struct siommu_mm *mm, uint64_t va,
				   unsigned int *level)
{
	const uint64_t *table = mm->root;
	unsigned int l = mm->levels - 1;

	for (;;) {
		uint64_t e = __atomic_load_n(&table[(va >> (12 + 9 * l)) & 511],
					     __ATOMIC_ACQUIRE);

		if (!(e & MM_X86_P) || l == 0 || (l <= 2 && (e & MM_X86_PS))) {
			*level = l;
			return e;
		}
		siommu_debug_yield(SIOMMU_YIELD_PT_WALK);
		table = (const uint64_t *)(uintptr_t)(e & MM_X86_ADDR);
		l--;
	}
}

SIOMMU_API int siommu_mm_lookup_level_rcu(struct siommu_mm *mm, uint64_t addr)
{
	unsigned int l;
	uint64_t e;

	if (siommu_unlikely(addr >= mm->va_limit))
		return -ERANGE;
	e = mm_walk_rcu(mm, addr, &l);
	/* Not present at any level: 4 KiB, never "none" (seed 001's review). */
	if (!(e & MM_X86_P))
		return 12;
	return 12 + 9 * l;
}

SIOMMU_API int siommu_mm_lookup_level(struct siommu_mm *mm, uint64_t addr)
{
	int ret;

	if (!mm)
		return -EINVAL;
	siommu_rcu_read_lock();
	ret = siommu_mm_lookup_level_rcu(mm, addr);
	siommu_rcu_read_unlock();
	return ret;
}

SIOMMU_API int siommu_mm_translate_rcu(struct siommu_mm *mm, uint64_t addr,
				       struct siommu_mm_xlate *out)
{
	unsigned int l, lg2;
	uint64_t e;

	if (siommu_unlikely(addr >= mm->va_limit))
		return -ERANGE;
	e = mm_walk_rcu(mm, addr, &l);
	if (!(e & MM_X86_P))
		return -ENOENT;
	lg2 = 12 + 9 * l;
	out->pgsize_lg2 = lg2;
	out->pa = (e & MM_X86_ADDR & ~((1ull << lg2) - 1)) + (addr & ((1ull << lg2) - 1));
	out->prot = SIOMMU_MM_PROT_READ | (e & MM_X86_RW ? SIOMMU_MM_PROT_WRITE : 0) |
		    (e & MM_X86_XD ? 0 : SIOMMU_MM_PROT_EXEC);
	return 0;
}

/* ------------------------------------------------------------------ areas */

/* Index of the first area whose end is above @va (nr_areas if none). */
static uint32_t area_index(const struct siommu_mm *mm, uint64_t va)
{
	uint32_t lo = 0, hi = mm->nr_areas;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (mm->areas[mid].end <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct mm_area *area_find(struct siommu_mm *mm, uint64_t va)
{
	uint32_t i = area_index(mm, va);

	if (i < mm->nr_areas && mm->areas[i].start <= va)
		return &mm->areas[i];
	return NULL;
}

static int areas_reserve(struct siommu_mm *mm, uint32_t more)
{
	struct mm_area *n;
	uint32_t cap;

	if (mm->nr_areas + more <= mm->cap_areas)
		return 0;
	cap = mm->cap_areas ? mm->cap_areas * 2 : 16;
	while (cap < mm->nr_areas + more)
		cap *= 2;
	n = siommu_calloc(cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (mm->nr_areas)
		memcpy(n, mm->areas, mm->nr_areas * sizeof(*n));
	siommu_free(mm->areas);
	mm->areas = n;
	mm->cap_areas = cap;
	return 0;
}

/* Cut the area containing @va (if any, and not starting there) in two.  Reserved room. */
static void area_split_at(struct siommu_mm *mm, uint64_t va)
{
	uint32_t i = area_index(mm, va);
	struct mm_area *a;

	if (i >= mm->nr_areas || mm->areas[i].start >= va)
		return;
	SIOMMU_CHECK(mm->nr_areas < mm->cap_areas);
	memmove(&mm->areas[i + 1], &mm->areas[i], (mm->nr_areas - i) * sizeof(*a));
	mm->nr_areas++;
	a = &mm->areas[i];
	a->end = va;
	mm->areas[i + 1].start = va;
	if (a->file) {
		a->file->refs++;
		mm->areas[i + 1].file_off = a->file_off + (va - a->start);
	}
}

/* ------------------------------------------------------------------ folios */

static struct mm_folio *folio_find(struct siommu_mm *mm, uint64_t va)
{
	static const unsigned int sizes[] = { 30, 21, 12 };

	for (unsigned int i = 0; i < 3; i++) {
		struct mm_folio key = { .va = va & ~((1ull << sizes[i]) - 1) };
		struct mm_folio *f = RB_FIND(mm_folio_tree, &mm->folios, &key);

		if (f && f->size_lg2 == sizes[i])
			return f;
	}
	return NULL;
}

/* Is any folio inside [va, va + size)? */
static bool folio_overlaps(struct siommu_mm *mm, uint64_t va, uint64_t size)
{
	struct mm_folio key = { .va = va };
	struct mm_folio *f = RB_NFIND(mm_folio_tree, &mm->folios, &key);

	return (f && f->va < va + size) || folio_find(mm, va);
}

static struct mm_block *block_alloc(unsigned int lg2)
{
	struct mm_block *b = siommu_zalloc(sizeof(*b));
	uint64_t size = 1ull << lg2;

	if (!b)
		return NULL;
	b->size_lg2 = lg2;
	if (lg2 >= 30) {
		/* 1 GiB: reserve twice, keep the aligned half (zero, backed lazily). */
		uint8_t *p = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		uint8_t *a;

		if (p == MAP_FAILED || siommu_should_fail()) {
			if (p != MAP_FAILED)
				munmap(p, 2 * size);
			siommu_free(b);
			return NULL;
		}
		a = (uint8_t *)(((uintptr_t)p + size - 1) & ~(uintptr_t)(size - 1));
		if (a > p)
			munmap(p, a - p);
		munmap(a + size, p + size - a);
		b->mem = a;
		b->mmapped = true;
	} else {
		b->mem = siommu_zalloc_aligned(size, size);
		if (!b->mem) {
			siommu_free(b);
			return NULL;
		}
	}
	return b;
}

static void block_free(struct mm_block *b)
{
	uint64_t size = 1ull << b->size_lg2;

	if (b->mmapped) {
		/*
		 * ASan keeps manual poison across munmap(): the next mapping
		 * at these addresses (ours or anyone's) would inherit it.
		 */
		mm_unpoison(b->mem, size);
		munmap(b->mem, size);
	} else {
		mm_unpoison(b->mem, size);
		memset(b->mem, MM_POISON_BYTE, size);	/* a stale reader sees poison */
		siommu_free(b->mem);
	}
	siommu_free(b);
}

/*
 * Defer @p to after the grace period.  The room was reserved before the
 * operation changed anything (mm_change(): files_reserve(), op_reserve()),
 * so this never allocates and cannot fail.
 */
static void deferred_put(void **arr, uint32_t *nr, uint32_t cap, void *p)
{
	SIOMMU_CHECK(*nr < cap);
	arr[(*nr)++] = p;
}

/*
 * Take a folio out of the mm, after its leaf was cleared; its memory is
 * let go after the grace period (folio_retire()).  The folio keeps its
 * reference on the block until then.
 */
static void folio_release(struct siommu_mm *mm, struct mm_folio *f, struct mm_deferred *d)
{
	deferred_put((void **)d->folios, &d->nr_folios, d->cap_folios, f);
	RB_REMOVE(mm_folio_tree, &mm->folios, f);
	mm->rss -= 1ull << f->size_lg2;
}

/*
 * After the grace period (M3): poison the folio's part of a block other
 * folios still use (ASan reports a stale access there; others read the
 * poison byte), then drop its reference: poisoning first, so the block
 * cannot be freed under the memset by the operation that drops the last
 * other reference.  The last reference frees the block.
 */
static void folio_retire(struct mm_folio *f)
{
	struct mm_block *b = f->blk;

	if (f->size_lg2 < b->size_lg2) {
		memset(f->mem, MM_POISON_BYTE, 1ull << f->size_lg2);
		mm_poison(f->mem, 1ull << f->size_lg2);
	}
	if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		block_free(b);
	siommu_free(f);
}

/* ------------------------------------------------------------------ invalidations */

enum mm_change { CH_UNMAP, CH_PROTECT, CH_DISCARD, CH_NOHUGE };

struct mm_op {
	struct siommu_mm_range r;
	struct siommu_pt_gather g;
	struct mm_deferred d;
	struct mm_folio **kids;		/* mm_change(): split pieces, allocated first */
	uint32_t nr_kids, used_kids;
	bool cleared;			/* a leaf was cleared: a grace period is needed */
};

/* Start an invalidation of [start, last] under mm->lock (M2). */
static void op_begin_locked(struct siommu_mm *mm, struct mm_op *op, uint64_t start,
			    uint64_t last, enum siommu_mm_event ev)
{
	siommu_assert_held(&mm->lock);
	op->r = (struct siommu_mm_range){ .start = start, .last = last, .event = ev };
	siommu_pt_gather_init(&op->g);
	mm_inv_begin(mm, &op->r);
	mm_call_start_locked(mm, &op->r);
	siommu_pt_invalidate_begin(mm->pt, start, last - start + 1);
}

struct tlb_ctx {
	struct siommu_mm *mm;
	enum siommu_mm_event ev;
};

static void mm_gather_inval(void *opaque, uint64_t iova, uint64_t last, unsigned int flags)
{
	struct tlb_ctx *t = opaque;
	struct siommu_mm_range r = { .start = iova, .last = last, .event = t->ev };

	(void)flags;
	mm_call_tlbs_locked(t->mm, &r);
}

/* Unmap [va, va + size) from the table into the op's gather. */
static void op_unmap(struct siommu_mm *mm, struct mm_op *op, uint64_t va, uint64_t size)
{
	int64_t n = siommu_pt_unmap(mm->pt, va, size, &op->g);

	/* Folios straddling the range were split first: no leaf straddles. */
	SIOMMU_WARN_ON(n < 0);
	if (n > 0)
		op->cleared = true;
}

/*
 * Finish: secondary TLBs, unlock, grace period, free, end.  Drops mm->lock.
 * Context: outside a read-side section.
 */
static void op_finish_unlock(struct siommu_mm *mm, struct mm_op *op)
{
	struct tlb_ctx t = { .mm = mm, .ev = op->r.event };
	bool gp;

	siommu_pt_invalidate_end(mm->pt, op->r.start, op->r.last - op->r.start + 1);
	/*
	 * Seed 000's order for the mm's own table pages, and Linux's
	 * arch_invalidate_secondary_tlbs() for SVA: entries cleared (above),
	 * then the secondary TLBs (the callback, under mm->lock), then a grace
	 * period (below), then frees.  Without WAIT the sync never waits.
	 */
	if (op->g.start <= op->g.last)
		op->cleared = true;
	siommu_pt_gather_sync(&op->g, mm_gather_inval, &t, 0);
	gp = op->cleared || op->d.nr_folios || op->d.nr_files ||
	     mm->nr_notifiers || mm->nr_intervals;
	siommu_mutex_unlock(&mm->lock);

	/*
	 * M3/M4: every CPU access and DMA that loaded an old translation (of
	 * the mm's table, an SVA IOTLB entry or a mirror's zapped entry) is
	 * inside a read-side section that began before this: wait for it,
	 * holding no lock.
	 */
	if (gp)
		siommu_rcu_synchronize();
	for (uint32_t i = 0; i < op->d.nr_folios; i++)
		folio_retire(op->d.folios[i]);
	for (uint32_t i = 0; i < op->d.nr_files; i++) {
		struct mm_file *f = op->d.files[i];

		munmap(f->host, f->len);
		siommu_free(f);
	}
	siommu_free(op->d.folios);
	siommu_free(op->d.files);

	/* The sequence moves, then the count drops (notifier.c). */
	mm_inv_end(mm, &op->r);
	siommu_mutex_lock(&mm->lock);
	mm_call_end_locked(mm, &op->r);
	siommu_mutex_unlock(&mm->lock);
}

/*
 * Split folio @f into 512 folios of the next smaller size (same memory),
 * after unmapping it: the next access maps the pieces.
 */
/* The 512 folios a split makes, allocated before anything changes. */
static int split_kids_alloc(struct mm_folio **kids)
{
	for (unsigned int i = 0; i < 512; i++) {
		kids[i] = siommu_zalloc(sizeof(*kids[i]));
		if (!kids[i]) {
			while (i--)
				siommu_free(kids[i]);
			return -ENOMEM;
		}
	}
	return 0;
}

static void folio_split_kids(struct siommu_mm *mm, struct mm_op *op, struct mm_folio *f,
			     struct mm_folio **kids)
{
	unsigned int lg2 = f->size_lg2 - 9;

	op_unmap(mm, op, f->va, 1ull << f->size_lg2);
	RB_REMOVE(mm_folio_tree, &mm->folios, f);
	__atomic_add_fetch(&f->blk->refs, 511, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < 512; i++) {
		kids[i]->va = f->va + ((uint64_t)i << lg2);
		kids[i]->size_lg2 = lg2;
		kids[i]->blk = f->blk;
		kids[i]->mem = (uint8_t *)f->mem + ((uint64_t)i << lg2);
		RB_INSERT(mm_folio_tree, &mm->folios, kids[i]);
	}
	siommu_free(f);
	__atomic_add_fetch(&mm->splits, 1, __ATOMIC_RELAXED);
}

/* Split @f with 512 of the pieces op_reserve() allocated: cannot fail. */
static void folio_split(struct siommu_mm *mm, struct mm_op *op, struct mm_folio *f)
{
	SIOMMU_CHECK(op->nr_kids - op->used_kids >= 512);
	folio_split_kids(mm, op, f, op->kids + op->used_kids);
	op->used_kids += 512;
}

/* Split until no folio straddles @va. */
static void split_at(struct siommu_mm *mm, struct mm_op *op, uint64_t va)
{
	struct mm_folio *f;

	while ((f = folio_find(mm, va)) && f->va < va)
		folio_split(mm, op, f);
}

/* The pieces split_at(@va) will make: none, one split, or two (1 GiB, then 2 MiB). */
static uint64_t split_at_need(struct siommu_mm *mm, uint64_t va)
{
	struct mm_folio *f = folio_find(mm, va);

	if (!f || f->va == va)
		return 0;
	return f->size_lg2 == 30 && (va & (SZ_2M - 1)) ? 1024 : 512;
}

/*
 * The pieces NOHUGEPAGE of [s, e) will make (split_at() of both ends
 * included): every huge folio meeting the range is split, a 1 GiB one
 * into 2 MiB pieces and each piece that meets the range again.
 */
static uint64_t nohuge_need(struct siommu_mm *mm, uint64_t s, uint64_t e)
{
	struct mm_folio key = { .va = s };
	struct mm_folio *f = folio_find(mm, s);
	uint64_t n = 0;

	if (!f)
		f = RB_NFIND(mm_folio_tree, &mm->folios, &key);
	for (; f && f->va < e; f = RB_NEXT(mm_folio_tree, &mm->folios, f)) {
		uint64_t lo = f->va > s ? f->va : s;
		uint64_t hi = f->va + (1ull << f->size_lg2) < e ? f->va + (1ull << f->size_lg2) : e;

		if (f->size_lg2 == 21)
			n += 512;
		else if (f->size_lg2 == 30)
			n += 512 + 512 * (((hi - 1) >> 21) - (lo >> 21) + 1);
	}
	return n;
}

static void op_reserve_free(struct mm_op *op)
{
	for (uint32_t i = op->used_kids; i < op->nr_kids; i++)
		siommu_free(op->kids[i]);
	siommu_free(op->kids);
	op->kids = NULL;
	op->nr_kids = op->used_kids = 0;
}

/*
 * Everything change @ch of [s, e) will allocate, taken under mm->lock
 * before its invalidation begins, so that nothing fails once it has (M2;
 * "-ENOMEM: nothing changed"): the pieces of every split, and for UNMAP
 * and DISCARD room in the deferral list for every folio it takes out (the
 * folios inside the range now, plus at most every piece).  On -ENOMEM
 * nothing is left allocated.
 */
static int op_reserve(struct siommu_mm *mm, struct mm_op *op, enum mm_change ch,
		      uint64_t s, uint64_t e)
{
	struct mm_folio key = { .va = s };
	struct mm_folio *f;
	uint64_t need = ch == CH_NOHUGE ? nohuge_need(mm, s, e) :
		split_at_need(mm, s) + split_at_need(mm, e);
	uint64_t nf = 0;

	if (need > UINT32_MAX)
		return -ENOMEM;
	if (need) {
		op->kids = siommu_calloc(need, sizeof(*op->kids));
		if (!op->kids)
			return -ENOMEM;
		for (; op->nr_kids < need; op->nr_kids++) {
			op->kids[op->nr_kids] = siommu_zalloc(sizeof(**op->kids));
			if (!op->kids[op->nr_kids]) {
				op_reserve_free(op);
				return -ENOMEM;
			}
		}
	}
	if (ch != CH_UNMAP && ch != CH_DISCARD)
		return 0;
	for (f = RB_NFIND(mm_folio_tree, &mm->folios, &key); f && f->va < e;
	     f = RB_NEXT(mm_folio_tree, &mm->folios, f))
		nf++;
	nf += need;
	if (!nf)
		return 0;
	if (nf > UINT32_MAX ||
	    !(op->d.folios = siommu_calloc(nf, sizeof(*op->d.folios)))) {
		op_reserve_free(op);
		return -ENOMEM;
	}
	op->d.cap_folios = (uint32_t)nf;
	return 0;
}

/* The range an operation on [s, e) invalidates: folios straddling an end, whole. */
static void expand_range(struct siommu_mm *mm, uint64_t *s, uint64_t *e)
{
	struct mm_folio *f = folio_find(mm, *s);

	if (f && f->va < *s)
		*s = f->va;
	f = folio_find(mm, *e - 1);
	if (f && f->va + (1ull << f->size_lg2) > *e)
		*e = f->va + (1ull << f->size_lg2);
}

static int check_range(struct siommu_mm *mm, uint64_t addr, uint64_t len)
{
	uint64_t end;

	if (!mm || !len || (addr | len) & (SZ_4K - 1) || siommu_add_overflow(addr, len, &end))
		return -EINVAL;
	if (end > mm->va_limit)
		return -ERANGE;
	return 0;
}

/* Remove the folios of [s, e) (not straddling): room reserved by op_reserve(). */
static void release_folios(struct siommu_mm *mm, struct mm_op *op, uint64_t s, uint64_t e)
{
	struct mm_folio key = { .va = s };
	struct mm_folio *f = RB_NFIND(mm_folio_tree, &mm->folios, &key);

	while (f && f->va < e) {
		struct mm_folio *next = RB_NEXT(mm_folio_tree, &mm->folios, f);

		folio_release(mm, f, &op->d);
		f = next;
	}
}

/* The common path of munmap/mprotect/madvise (M2). */
/*
 * Room in @d's file list for every file area of [s, e), taken before the
 * unmap changes anything: the unmap cannot then fail (or leak a file's
 * host mapping) for want of it.
 */
static int files_reserve(struct siommu_mm *mm, struct mm_deferred *d, uint64_t s, uint64_t e)
{
	uint32_t need = 0, i;
	void **n;

	for (i = area_index(mm, s); i < mm->nr_areas && mm->areas[i].start < e; i++)
		need += mm->areas[i].file != NULL;
	if (d->nr_files + need <= d->cap_files)
		return 0;
	n = siommu_calloc(d->nr_files + need, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (d->nr_files)
		memcpy(n, d->files, d->nr_files * sizeof(*n));
	siommu_free(d->files);
	d->files = (void *)n;
	d->cap_files = d->nr_files + need;
	return 0;
}

static int mm_change(struct siommu_mm *mm, uint64_t addr, uint64_t len, enum mm_change ch,
		     unsigned int prot)
{
	static const enum siommu_mm_event evs[] = {
		[CH_UNMAP] = SIOMMU_MM_EV_UNMAP, [CH_PROTECT] = SIOMMU_MM_EV_PROTECT,
		[CH_DISCARD] = SIOMMU_MM_EV_DISCARD, [CH_NOHUGE] = SIOMMU_MM_EV_SPLIT,
	};
	struct mm_op op = { 0 };
	uint64_t s = addr, e = addr + len, is, ie;
	int ret = check_range(mm, addr, len);

	if (ret)
		return ret;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&mm->lock);
	if (mm->dead) {
		siommu_mutex_unlock(&mm->lock);
		return -ENODEV;
	}
	if (ch == CH_PROTECT) {
		/* Every page covered (Linux: -ENOMEM for a hole). */
		uint64_t va = s;

		while (va < e) {
			struct mm_area *a = area_find(mm, va);

			if (!a) {
				siommu_mutex_unlock(&mm->lock);
				return -ENOMEM;
			}
			va = a->end;
		}
	}
	/*
	 * Every allocation before the invalidation begins: from op_begin_locked()
	 * on nothing can fail (an -ENOMEM after it would have called the
	 * notifiers, moved the sequence and split folios: a change).
	 */
	if (areas_reserve(mm, 2) || (ch == CH_UNMAP && files_reserve(mm, &op.d, s, e)) ||
	    op_reserve(mm, &op, ch, s, e)) {
		siommu_mutex_unlock(&mm->lock);
		siommu_free(op.d.files);
		return -ENOMEM;
	}
	is = s;
	ie = e;
	expand_range(mm, &is, &ie);
	op_begin_locked(mm, &op, is, ie - 1, evs[ch]);
	split_at(mm, &op, s);
	split_at(mm, &op, e);
	if (ch == CH_NOHUGE) {
		struct mm_folio key = { .va = s };
		struct mm_folio *f;

		/* Split every huge folio of the range down to 4 KiB. */
		for (;;) {
			f = RB_NFIND(mm_folio_tree, &mm->folios, &key);
			while (f && f->va < e && f->size_lg2 == 12)
				f = RB_NEXT(mm_folio_tree, &mm->folios, f);
			if (!f || f->va >= e)
				break;
			folio_split(mm, &op, f);
		}
	}
	if (ch != CH_NOHUGE)
		op_unmap(mm, &op, s, len);
	if (ch == CH_UNMAP || ch == CH_DISCARD)
		release_folios(mm, &op, s, e);
	if (ch == CH_DISCARD)
		goto done;	/* areas stay as they are (Linux: no VMA split either) */
	area_split_at(mm, s);
	area_split_at(mm, e);
	for (uint32_t i = area_index(mm, s); i < mm->nr_areas && mm->areas[i].start < e;) {
		struct mm_area *a = &mm->areas[i];

		if (ch == CH_PROTECT) {
			a->prot = prot;
		} else if (ch == CH_NOHUGE) {
			a->flags |= MM_AREA_NOHUGE;
		} else if (ch == CH_UNMAP) {
			/*
			 * At most one file per area of [s, e), and the cuts above
			 * made no new area inside it: files_reserve() made room.
			 */
			if (a->file && --a->file->refs == 0)
				deferred_put((void **)op.d.files, &op.d.nr_files,
					     op.d.cap_files, a->file);
			memmove(a, a + 1, (mm->nr_areas - i - 1) * sizeof(*a));
			mm->nr_areas--;
			continue;
		}
		i++;
	}
done:
	op_finish_unlock(mm, &op);
	op_reserve_free(&op);	/* the pieces no split needed */
	return 0;
}

SIOMMU_API int siommu_mm_munmap(struct siommu_mm *mm, uint64_t addr, uint64_t len)
{
	/*
	 * On a dead mm: -ENODEV, as documented (fuzz_api found it returning 0),
	 * before the arguments are looked at (mm_change() checks again under
	 * the lock).
	 */
	if (mm && __atomic_load_n(&mm->dead, __ATOMIC_RELAXED))
		return -ENODEV;
	return mm_change(mm, addr, len, CH_UNMAP, 0);
}

SIOMMU_API int siommu_mm_mprotect(struct siommu_mm *mm, uint64_t addr, uint64_t len,
				  unsigned int prot)
{
	if (prot & ~SIOMMU_MM_PROT_MASK)
		return -EINVAL;
	return mm_change(mm, addr, len, CH_PROTECT, prot);
}

SIOMMU_API int siommu_mm_madvise(struct siommu_mm *mm, uint64_t addr, uint64_t len,
				 int advice)
{
	if (advice == SIOMMU_MM_MADV_DONTNEED)
		return mm_change(mm, addr, len, CH_DISCARD, 0);
	if (advice == SIOMMU_MM_MADV_NOHUGEPAGE)
		return mm_change(mm, addr, len, CH_NOHUGE, 0);
	return -EINVAL;
}

SIOMMU_API int siommu_mm_split(struct siommu_mm *mm, uint64_t addr)
{
	struct mm_folio *kids[512];
	struct mm_op op = { 0 };
	struct mm_folio *f;

	if (!mm || addr & (SZ_4K - 1))
		return -EINVAL;
	if (addr >= mm->va_limit)
		return -ERANGE;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&mm->lock);
	if (mm->dead) {
		siommu_mutex_unlock(&mm->lock);
		return -ENODEV;
	}
	f = folio_find(mm, addr);
	if (!f || f->size_lg2 == 12) {
		siommu_mutex_unlock(&mm->lock);
		return 0;
	}
	/*
	 * The pieces first: a split that fails for memory must not have
	 * started the invalidation (notifiers called, the sequence moved).
	 */
	if (split_kids_alloc(kids)) {
		siommu_mutex_unlock(&mm->lock);
		return -ENOMEM;
	}
	op_begin_locked(mm, &op, f->va, f->va + (1ull << f->size_lg2) - 1, SIOMMU_MM_EV_SPLIT);
	folio_split_kids(mm, &op, f, kids);
	op_finish_unlock(mm, &op);
	return 1;
}

/* ------------------------------------------------------------------ mmap */

static unsigned int area_max_lg2(unsigned int flags)
{
	if (flags & SIOMMU_MM_PAGE_1G)
		return 30;
	if (flags & SIOMMU_MM_PAGE_2M)
		return 21;
	if (flags & (SIOMMU_MM_PAGE_4K | SIOMMU_MM_MAP_SHARED))
		return 12;
	return 21;	/* THP */
}

SIOMMU_API int siommu_mm_mmap(struct siommu_mm *mm, uint64_t addr, uint64_t len,
			      unsigned int prot, unsigned int flags, int fd,
			      uint64_t offset, uint64_t *out_addr)
{
	unsigned int page = flags & (SIOMMU_MM_PAGE_4K | SIOMMU_MM_PAGE_2M | SIOMMU_MM_PAGE_1G);
	unsigned int kind = flags & (SIOMMU_MM_MAP_ANON | SIOMMU_MM_MAP_SHARED);
	struct mm_file *file = NULL;
	struct mm_area *a;
	uint64_t align, end;
	uint32_t i;
	int ret;

	if (!mm || !out_addr || !len || (flags & ~SIOMMU_MM_MAP_MASK) ||
	    (prot & ~SIOMMU_MM_PROT_MASK) ||
	    (kind != SIOMMU_MM_MAP_ANON && kind != SIOMMU_MM_MAP_SHARED) ||
	    (page & (page - 1)) || (page && kind == SIOMMU_MM_MAP_SHARED) ||
	    (len | offset) & (SZ_4K - 1) || (kind == SIOMMU_MM_MAP_SHARED && fd < 0))
		return -EINVAL;
	align = 1ull << area_max_lg2(flags);
	if (!page && len < SZ_2M)
		align = SZ_4K;
	if (page && (len & (align - 1)))
		return -EINVAL;
	if (flags & SIOMMU_MM_MAP_FIXED) {
		if (addr & (SZ_4K - 1) || (page && (addr & (align - 1))))
			return -EINVAL;
		if (siommu_add_overflow(addr, len, &end) || end > mm->va_limit)
			return -ERANGE;
	}
	if (kind == SIOMMU_MM_MAP_SHARED) {
		void *host;

		file = siommu_zalloc(sizeof(*file));
		if (!file)
			return -ENOMEM;
		host = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
		if (host == MAP_FAILED) {
			siommu_free(file);
			return -EBADF;
		}
		file->host = host;
		file->len = len;
		file->refs = 1;
	}
	siommu_mutex_lock(&mm->lock);
	ret = mm->dead ? -ENODEV : areas_reserve(mm, 1);
	if (ret)
		goto err;
	if (flags & SIOMMU_MM_MAP_FIXED) {
		i = area_index(mm, addr);
		if (i < mm->nr_areas && mm->areas[i].start < addr + len) {
			ret = -EEXIST;
			goto err;
		}
	} else {
		/* The lowest free range from the mmap base, aligned. */
		uint64_t va = MM_MMAP_BASE;

		for (i = area_index(mm, va);; i++) {
			va = (va + align - 1) & ~(align - 1);
			if (siommu_add_overflow(va, len, &end) || end > mm->va_limit) {
				ret = -ENOSPC;
				goto err;
			}
			if (i >= mm->nr_areas || end <= mm->areas[i].start)
				break;
			va = mm->areas[i].end;
		}
		addr = va;
	}
	memmove(&mm->areas[i + 1], &mm->areas[i], (mm->nr_areas - i) * sizeof(*a));
	mm->nr_areas++;
	a = &mm->areas[i];
	*a = (struct mm_area){ .start = addr, .end = addr + len, .prot = prot,
			       .flags = flags & ~SIOMMU_MM_MAP_FIXED, .file = file };
	siommu_mutex_unlock(&mm->lock);
	*out_addr = addr;
	return 0;
err:
	siommu_mutex_unlock(&mm->lock);
	if (file) {
		munmap(file->host, file->len);
		siommu_free(file);
	}
	return ret;
}

/* ------------------------------------------------------------------ faults */

static unsigned int pt_prot_of(unsigned int prot)
{
	return SIOMMU_PT_READ | (prot & SIOMMU_MM_PROT_WRITE ? SIOMMU_PT_WRITE : 0) |
	       (prot & SIOMMU_MM_PROT_EXEC ? 0 : SIOMMU_PT_NOEXEC);
}

static bool prot_allows(unsigned int prot, unsigned int access)
{
	if ((access & SIOMMU_ACC_WRITE) && !(prot & SIOMMU_MM_PROT_WRITE))
		return false;
	if ((access & SIOMMU_ACC_EXEC) && !(prot & SIOMMU_MM_PROT_EXEC))
		return false;
	return prot & (SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE | SIOMMU_MM_PROT_EXEC);
}

/* A new folio for @va in @a: the largest size the policy, area and neighbours allow. */
static struct mm_folio *folio_new(struct siommu_mm *mm, struct mm_area *a, uint64_t va)
{
	unsigned int lg2 = area_max_lg2(a->flags);
	struct mm_folio *f;

	if (a->flags & MM_AREA_NOHUGE)
		lg2 = 12;
	for (; lg2 >= 12; lg2 = lg2 == 12 ? 0 : lg2 - 9) {
		uint64_t blk = va & ~((1ull << lg2) - 1);

		if (blk >= a->start && blk + (1ull << lg2) <= a->end &&
		    !folio_overlaps(mm, blk, 1ull << lg2))
			break;
	}
	if (lg2 < 12)
		return NULL;
	f = siommu_zalloc(sizeof(*f));
	if (!f)
		return NULL;
	f->blk = block_alloc(lg2);
	if (!f->blk) {
		siommu_free(f);
		return NULL;
	}
	f->blk->refs = 1;
	f->va = va & ~((1ull << lg2) - 1);
	f->size_lg2 = lg2;
	f->mem = f->blk->mem;
	RB_INSERT(mm_folio_tree, &mm->folios, f);
	mm->rss += 1ull << lg2;
	return f;
}

static int mm_fault_locked(struct siommu_mm *mm, uint64_t va, unsigned int access)
{
	struct mm_area *a;
	struct mm_folio *f;
	unsigned int l;
	uint64_t e;
	int ret;

	siommu_assert_held(&mm->lock);
	if (mm->dead)
		return -ENODEV;
	a = area_find(mm, va);
	if (!a)
		return -EFAULT;
	if (!prot_allows(a->prot, access))
		return -EACCES;
	siommu_rcu_read_lock();
	e = mm_walk_rcu(mm, va, &l);
	siommu_rcu_read_unlock();
	if (e & MM_X86_P)
		return 0;	/* mapped already, with the area's protection (M1) */
	if (a->file) {
		uint64_t pa = (uint64_t)(uintptr_t)a->file->host + a->file_off + (va - a->start);

		ret = siommu_pt_map(mm->pt, va, pa, SZ_4K, pt_prot_of(a->prot));
	} else {
		bool fresh = false;

		f = folio_find(mm, va);
		if (!f) {
			f = folio_new(mm, a, va);
			fresh = true;
		}
		if (!f)
			return -ENOMEM;
		ret = siommu_pt_map(mm->pt, f->va, (uint64_t)(uintptr_t)f->mem,
				    1ull << f->size_lg2, pt_prot_of(a->prot));
		if (ret == -EEXIST) {
			/* Part of it is mapped (never by M1; be safe): this page only. */
			ret = siommu_pt_map(mm->pt, va,
					    (uint64_t)(uintptr_t)f->mem + (va - f->va),
					    SZ_4K, pt_prot_of(a->prot));
		}
		if (ret && ret != -EEXIST && fresh) {
			/*
			 * The table refused it (no memory): the folio made for it
			 * goes again, so the failed fault changed nothing (no
			 * reader can have seen it: it was never mapped).
			 */
			RB_REMOVE(mm_folio_tree, &mm->folios, f);
			mm->rss -= 1ull << f->size_lg2;
			folio_retire(f);
		}
	}
	if (ret == -EEXIST)
		ret = 0;
	if (!ret)
		__atomic_add_fetch(&mm->faults, 1, __ATOMIC_RELAXED);
	return ret;
}

SIOMMU_API int siommu_mm_fault(struct siommu_mm *mm, uint64_t addr, unsigned int access)
{
	int ret;

	if (!mm || (access & ~SIOMMU_ACC_MASK))
		return -EINVAL;
	if (addr >= mm->va_limit)
		return -ERANGE;
	siommu_mutex_lock(&mm->lock);
	ret = mm_fault_locked(mm, addr & ~(SZ_4K - 1), access);
	siommu_mutex_unlock(&mm->lock);
	return ret;
}

/* ------------------------------------------------------------------ CPU access */

static int mm_access(struct siommu_mm *mm, uint64_t addr, void *buf, size_t len, bool write)
{
	unsigned int access = write ? SIOMMU_ACC_WRITE : SIOMMU_ACC_READ;
	uint64_t end;
	uint8_t *p = buf;

	if (!mm || !buf || !len || siommu_add_overflow(addr, (uint64_t)len, &end))
		return -EINVAL;
	if (end > mm->va_limit)
		return -ERANGE;
	while (addr < end) {
		uint64_t n = SZ_4K - (addr & (SZ_4K - 1));
		struct siommu_mm_xlate x;
		int ret, tries = 0;

		if (n > end - addr)
			n = end - addr;
		for (;;) {
			siommu_rcu_read_lock();
			ret = siommu_mm_translate_rcu(mm, addr, &x);
			if (!ret && (!write || (x.prot & SIOMMU_MM_PROT_WRITE))) {
				/* One section across lookup and copy (M3). */
				if (write)
					memcpy((void *)(uintptr_t)x.pa, p, n);
				else
					memcpy(p, (const void *)(uintptr_t)x.pa, n);
				siommu_rcu_read_unlock();
				break;
			}
			siommu_rcu_read_unlock();
			if (++tries > 1000)
				return -EAGAIN;
			ret = siommu_mm_fault(mm, addr, access);
			if (ret)
				return ret;
		}
		addr += n;
		p += n;
	}
	return 0;
}

SIOMMU_API int siommu_mm_read(struct siommu_mm *mm, uint64_t addr, void *buf, size_t len)
{
	return mm_access(mm, addr, buf, len, false);
}

SIOMMU_API int siommu_mm_write(struct siommu_mm *mm, uint64_t addr, const void *buf,
			       size_t len)
{
	return mm_access(mm, addr, (void *)buf, len, true);
}

/* ------------------------------------------------------------------ info, destroy */

SIOMMU_API int siommu_mm_get_info(struct siommu_mm *mm, struct siommu_mm_info *out)
{
	struct siommu_pt_info pi;

	if (!mm || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	siommu_mutex_lock(&mm->lock);
	out->levels = mm->levels;
	out->nr_areas = mm->nr_areas;
	out->rss_bytes = mm->rss;
	out->dead = mm->dead;
	out->notifiers = mm->nr_notifiers + mm->nr_intervals;
	out->bindings = mm->nr_bindings;
	/* Count leaves: walk each area, skipping by the size of what is found. */
	siommu_rcu_read_lock();
	for (uint32_t i = 0; i < mm->nr_areas; i++) {
		for (uint64_t va = mm->areas[i].start; va < mm->areas[i].end;) {
			unsigned int l;
			uint64_t e = mm_walk_rcu(mm, va, &l);
			uint64_t step = 1ull << (12 + 9 * l);

			if (e & MM_X86_P) {
				if (l == 0)
					out->mapped_4k++;
				else if (l == 1)
					out->mapped_2m++;
				else
					out->mapped_1g++;
			}
			va = (va & ~(step - 1)) + step;
		}
	}
	siommu_rcu_read_unlock();
	siommu_mutex_unlock(&mm->lock);
	out->invalidate_seq = __atomic_load_n(&mm->seq, __ATOMIC_ACQUIRE);
	out->in_progress = __atomic_load_n(&mm->in_progress, __ATOMIC_ACQUIRE);
	out->invalidations = __atomic_load_n(&mm->invalidations, __ATOMIC_RELAXED);
	out->faults = __atomic_load_n(&mm->faults, __ATOMIC_RELAXED);
	out->splits = __atomic_load_n(&mm->splits, __ATOMIC_RELAXED);
	if (!siommu_pt_get_info(mm->pt, &pi))
		out->table_pages = pi.table_pages;
	return 0;
}

/*
 * The teardown's invalidation of everything (siommu_mm_destroy()): a munmap
 * of the whole space that allocates nothing, so a destroy, which returns
 * nothing, cannot fail half-way and leak.  A dead mm gains no folio, area
 * or split (faults, mmap and the changes refuse it; only this unmap runs),
 * and no straddling folio needs a split: the folios and file mappings are
 * taken straight from the tree and the areas after the grace period,
 * instead of through the deferral lists a munmap reserves.
 */
static void mm_teardown(struct siommu_mm *mm)
{
	struct mm_op op = { 0 };
	struct mm_folio *f;

	siommu_mutex_lock(&mm->lock);
	op_begin_locked(mm, &op, 0, mm->va_limit - 1, SIOMMU_MM_EV_UNMAP);
	op_unmap(mm, &op, 0, mm->va_limit);
	if (!RB_EMPTY(&mm->folios) || mm->nr_areas)
		op.cleared = true;	/* their memory goes after a grace period */
	op_finish_unlock(mm, &op);

	/* After it: no translation of the table reaches a folio or a file. */
	siommu_mutex_lock(&mm->lock);
	while ((f = RB_MIN(mm_folio_tree, &mm->folios))) {
		RB_REMOVE(mm_folio_tree, &mm->folios, f);
		mm->rss -= 1ull << f->size_lg2;
		folio_retire(f);
	}
	for (uint32_t i = 0; i < mm->nr_areas; i++) {
		struct mm_file *file = mm->areas[i].file;

		if (file && --file->refs == 0) {
			munmap(file->host, file->len);
			siommu_free(file);
		}
	}
	mm->nr_areas = 0;
	siommu_mutex_unlock(&mm->lock);
}

SIOMMU_API void siommu_mm_destroy(struct siommu_mm *mm)
{
	if (!mm)
		return;
	siommu_mutex_lock(&mm->lock);
	if (mm->dead) {
		siommu_mutex_unlock(&mm->lock);
		return;
	}
	__atomic_store_n(&mm->dead, true, __ATOMIC_RELAXED);
	siommu_mutex_unlock(&mm->lock);
	/* Subscribers first (SVA detaches and drains, mirrors zap and stop). */
	mm_notifiers_release(mm);
	/* Then the teardown: one invalidation of everything, allocating nothing. */
	mm_teardown(mm);
	mm_put(mm);
}
