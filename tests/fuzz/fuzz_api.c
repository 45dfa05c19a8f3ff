// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: sequences of calls across the whole public API, each checked
 * against a model of what it must return.
 *
 * The input is a list of operations: one byte picks the verb (mod the verb
 * count), the next bytes its arguments; handles are a byte mod the size of
 * their table, so every input is a valid program.  The world is built from
 * nothing by the input itself: IOMMUs (slot 0 reaches a memory map, slot 1
 * host memory), memory-map regions (RAM and MMIO, added, revoked,
 * destroyed), devices with PASIDs and PRI, domains of every type and
 * page-table format, attach/replace/detach of devices and PASIDs, map,
 * unmap, DMA map/unmap, translate and DMA, the ioas layer (IOAS, areas of
 * host, region, memfd and file memory, copy, reserve, allowed sets, IOAS
 * domains, access objects that pin, unpin and rw), the iopf layer (INLINE
 * and MANUAL), page requests and responses, drains, handlers, fault queues
 * read and written, CPU address spaces (mmap, munmap, mprotect, madvise,
 * split, fault, read/write), mirrors and SVA bindings, and page tables of
 * the fuzzer's own (siommu_pt_*: create of a fuzzed format, levels and
 * pool, map, unmap, iova_to_phys, walk, lookup_level, translate, dirty
 * read and clear, hold, unhold, destroy), revoke notifiers of the memory
 * map and notifiers of mms (registered, unregistered).  Single-threaded and
 * deterministic (the iopf drain does not wait; no worker threads).
 *
 * New verbs go at the end of ops[]: an op byte b below 64 then keeps its
 * meaning (ops[b]), so an input written with op bytes < 64 (as cmd2api.py
 * and tests/fuzz/corpus/api are) means the same program after a verb is
 * added; the corpus's inputs were rewritten so (b % 64) when the table grew
 * past 64.  MEMFD and FILE memory comes from files the input makes (a
 * memfd, possibly sealed, or an unlinked temp file under /tmp, possibly
 * reopened read-only), filled with a known pattern and closed at the end.
 *
 * Kept across inputs, for speed: one context (fuzz_model.h), the memory
 * map, and idle IOMMUs, which the teardown parks by slot and capabilities
 * instead of destroying them (siommu_iommu_destroy() waits for urcu's
 * barrier); the next input's siommu_iommu_create() of the same slot and
 * capabilities gets one back, empty (see K below).  They are really
 * destroyed, each returning 0, when the cache is full and when the
 * context is renewed.
 *
 * Oracles, for every call:
 *  - its result, when negative, is one its contract's Returns documents
 *    (tests/common/failnth.h parses the headers);
 *  - where the model knows the answer, the exact result: which objects are
 *    live and what destroy must say, attachment state (checked against
 *    siommu_device_domain()), which IOVA ranges each domain maps (a shadow
 *    of map/unmap/dma_map and of the IOAS areas an attached IOAS domain
 *    holds), so a translate of a mapped address gives the mapped address
 *    and of an unmapped one fails; DMA writes land where the shadow says
 *    (the host bytes, or the memory map's, and for file memory the file's,
 *    read back with pread()); pins give the pages of their areas; access
 *    reads give the area's bytes; a map or copy without FIXED_IOVA goes
 *    to the lowest hole of the allowed, unreserved IOVAs, and
 *    siommu_ioas_iova_ranges() gives exactly the model's allowed set minus
 *    its reservations (the caller's and the aperture bound); a failed map
 *    leaves the IOAS's area count and bytes unchanged; a direct table
 *    translates, walks and unmaps as its shadow says, a write translate
 *    makes a page dirty where the format has A/D and the dirty read gives
 *    exactly those pages (the bitmap too), and destroy is -EBUSY while
 *    held; a revoke notifier is called once per region revoked (by revoke
 *    or destroy, not again for a revoked one, not by a refused destroy)
 *    while it is registered, with that region already reading revoked, and
 *    what a notifier must not do there is -EDEADLK; an mm notifier's
 *    calls pair (tlbs inside start/end, none open when a call returns),
 *    its release runs once, at the mm's destroy, it keeps the mm object
 *    until unregistered, and registering on a destroyed mm is -ENODEV; an mm's areas (fixed mmap over one: -EEXIST; fresh and
 *    discarded anonymous memory reads zero; a write reads back);
 *  - every page-request group is answered exactly once: when a device's
 *    PRI is disabled, the responses it got equal the groups it started;
 *  - at the end everything is torn down, every destroy returns 0, and the
 *    context's destroy returns 0 (nothing leaks: LeakSanitizer is on).
 * A mismatch aborts with the call and both answers (fz_die()).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <softiommu/base.h>
#include <softiommu/mem.h>
#include <softiommu/core.h>
#include <softiommu/ioas.h>
#include <softiommu/iopf.h>
#include <softiommu/mm.h>
#include <softiommu/pgtable.h>

#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_IOMMU	2
#define N_REG	4
#define N_DEV	4
#define N_PASID	4		/* index 0: no PASID; 1..3: PASIDs 1..3 */
#define N_DOM	6
#define N_MAP	48
#define N_IOAS	2
#define N_AREA	16
#define N_RES	4
#define N_ACC	3
#define N_PIN	8
#define N_MM	2
#define N_MMA	24
#define N_SVA	3
#define N_FQ	2
#define N_FILE	3		/* files (memfd or unlinked temp file) IOAS areas map */
#define N_ALLOW	3		/* ranges of an IOAS's allowed set */
#define N_PT	2		/* tables of the direct siommu_pt_* verbs */
#define N_PTM	16		/* mappings of one */
#define N_MN	2		/* revoke notifiers on the memory map */
#define N_MMN	2		/* notifiers on mms */
#define N_HELD	32
#define N_COOKIE 64
#define MAX_OPS	256

#define PG	4096ull
#define SZ_2M	(1ull << 21)
#define SZ_1G	(1ull << 30)
#define ARENA	(4ull << 20)

/*
 * Host memory the host-addressed IOMMU (slot 1) and IOAS HOST areas reach:
 * 2 MiB aligned, mmap'd rather than static so that LeakSanitizer, which
 * scans globals at every leak check libFuzzer makes, does not scan it.
 */
static uint8_t *arena;

static void arena_init(void)
{
	uint8_t *p = mmap(NULL, ARENA + SZ_2M, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		abort();
	arena = (uint8_t *)(((uintptr_t)p + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1));
}

enum dom_kind { DK_FREE, DK_PLAIN, DK_IOAS, DK_MIRROR };

struct mapping {
	uint64_t iova, pa, size;
	unsigned int prot;
	bool dma;
	bool revoked;			/* dma: torn down by a revoke; unmap sizes then vary */
};

struct w_dom {
	enum dom_kind kind;
	struct siommu_domain *d;
	int iommu;
	enum siommu_domain_type type;
	unsigned int ias;
	bool lazy, stale;		/* LAZY: unmapped IOVAs may still translate until a flush */
	bool unknown;			/* mappings changed behind the model (resolver) */
	unsigned int users;		/* attachments */
	int handler;			/* 0 none, 1 recording, 2 fault queue, 3 resolver */
	int hret;			/* recording: what it answers */
	int fq;				/* handler 2: the queue */
	int ioas;			/* DK_IOAS */
	struct siommu_mirror *mirror;	/* DK_MIRROR */
	struct siommu_pt *pt;		/* DK_PLAIN over a table of the fuzzer's (cfg.pt) */
	int mm;				/* DK_MIRROR */
	struct mapping m[N_MAP];
	unsigned int nm;
};

struct w_rec {
	unsigned int n, success, invalid, failure;
};

struct w_dev {
	struct siommu_device *d;
	int iommu;
	uint32_t rid;
	unsigned int flags, pbits;
	int att[N_PASID];		/* 0 none; > 0 domain slot + 1; < 0 -(SVA binding + 1) */
	bool enabled;
	struct w_rec rec;		/* responses the device received */
	unsigned int expected;		/* groups started that must be answered */
};

struct w_iommu {
	struct siommu_iommu *i;
	unsigned int pasid_bits, ias;
	struct siommu_iopf *iopf;
	enum siommu_iopf_mode mode;
	struct siommu_ioas_layer *layer;
};

struct w_reg {
	struct siommu_mem_region *r;
	uint64_t pa, size;
	enum siommu_mem_type type;
	bool revoked;
	unsigned int areas;		/* IOAS areas of it (each holds a user) */
};

struct w_area {
	uint64_t iova, len;
	uint8_t *host;			/* HOST: the arena bytes; REGION: NULL */
	uint64_t pa;			/* what domains map */
	unsigned int flags;
	int reg;			/* REGION: slot; else -1 */
	bool revoked;
	int file;			/* MEMFD/FILE: the file slot + 1 while the model holds its fd; else 0 */
	uint64_t foff;			/* MEMFD/FILE: offset of the area in the file */
};

struct w_ioas {
	struct siommu_ioas *a;
	int iommu;
	struct w_area ar[N_AREA];
	unsigned int nar;
	struct siommu_ioas_range res[N_RES];
	unsigned int nres;
	struct siommu_ioas_range allow[N_ALLOW];	/* sorted, adjacent ones merged */
	unsigned int nallow;		/* 0: everything allowed */
};

/* A table of the direct siommu_pt_* verbs: its shadow (4 KiB leaves only). */
struct w_ptm {
	uint64_t iova, pa, size;	/* size: 16 pages at most */
	unsigned int prot;
	bool dirty[16];			/* per page */
};

struct w_pt {
	struct siommu_pt *pt;
	unsigned int levels, ias;
	bool dirty_hw;			/* a write translate sets dirty (x86-64, or F_DIRTY) */
	unsigned int holds;
	struct w_ptm m[N_PTM];
	unsigned int nm;
};

/* A revoke notifier of the memory map: called once per region revoked since it was registered. */
struct w_mn {
	struct siommu_mem_notifier *n;
	unsigned long base, calls;	/* W.mn_revokes when registered; calls since */
	bool nasty;			/* tries what a notifier must not (-EDEADLK) */
};

/* A notifier of an mm: its calls, which pair (start, tlbs inside, end). */
struct w_mmn {
	struct siommu_mm_notifier *n;
	int mm;
	unsigned long starts, tlbs, ends, releases;
	int depth;			/* starts not yet ended */
};

/* A file IOAS areas map (MEMFD or FILE memory): the model's descriptor. */
struct w_file {
	int fd;				/* valid while size != 0 */
	uint64_t size;
	bool memfd;			/* F_GET_SEALS works on it */
	bool ro;			/* opened O_RDONLY, or sealed F_SEAL_WRITE */
};


struct w_pin {
	uint64_t iova, len;
};

enum acc_kind { AK_CB, AK_UNREVOCABLE, AK_STUBBORN, AK_RWONLY, AK_NR };

struct w_acc {
	struct siommu_ioas_access *a;
	int ioas;
	enum acc_kind kind;
	struct w_pin pin[N_PIN];
	unsigned int npin;
};

struct w_mma {
	uint64_t start, end;		/* [start, end) */
	unsigned int prot;
};

struct w_mm {
	struct siommu_mm *mm;
	bool dead;
	unsigned int refs;		/* mirrors and bindings: the object lives while > 0 */
	uint64_t top;			/* address width */
	struct w_mma a[N_MMA];
	unsigned int na;
};

struct w_sva {
	struct siommu_sva *b;
	int mm, dev, pidx, iommu;
	bool released;			/* the mm's release detached it */
};

struct w_fq {
	struct siommu_fault_queue *q;
	int iommu;
	unsigned int domains;
	bool closed;
	uint32_t cookie[N_COOKIE];	/* read, not answered */
	unsigned int ncookie;
	uint32_t last_cookie;
};

struct world {
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct w_iommu io[N_IOMMU];
	struct w_reg reg[N_REG];
	struct w_dev dev[N_DEV];
	struct w_dom dom[N_DOM];
	struct w_ioas ioas[N_IOAS];
	struct w_acc acc[N_ACC];
	struct w_mm mm[N_MM];
	struct w_sva sva[N_SVA];
	struct w_fq fq[N_FQ];
	struct w_file file[N_FILE];
	struct w_mn mn[N_MN];
	struct w_mmn mmn[N_MMN];
	unsigned long mn_revokes;	/* revocations of regions the model has seen */
	struct siommu_mem_region *mn_cur;	/* the region being revoked */
	struct w_pt pt[N_PT];
	struct siommu_iopf_group *held[N_HELD];
	int held_dom[N_HELD];
	unsigned int nheld;
};

static struct world W;

static void file_check(const uint8_t *h, const uint8_t *buf, size_t len, const char *what);
static bool host_of_area(uint64_t h, uint64_t len);
static void model_revoked_range(uint64_t rpa, uint64_t rsize);

/*
 * Kept across inputs (see fz_ctx_get()): the memory map, and idle IOMMUs
 * by slot and capabilities.  siommu_iommu_destroy() waits for urcu's
 * barrier (10 ms or more: liburcu's call_rcu thread sleeps 10 ms after each
 * wakeup), so an IOMMU no input uses any more is parked here instead, empty
 * (nothing of it is live: the context's object count says so at the end of
 * each input), and the next siommu_iommu_create() of the same slot and
 * capabilities gets it back.  That covers the teardown's IOMMUs and most of
 * op_iommu_destroy()'s (which checks -EBUSY with the real call, and really
 * destroys one in eight idle ones).  Parked IOMMUs are really destroyed,
 * and must return 0, when the cache is full (the least recently parked)
 * and when the context is renewed.
 */
#define N_KEPT	72		/* every (slot, valid caps) op_iommu_create() makes: 2 x 36 */

struct kept_iommu {
	struct siommu_iommu *i;
	int slot;
	struct siommu_iommu_caps caps;	/* as asked */
	long objs;			/* context objects it holds */
	unsigned long stamp;		/* when parked */
};

static struct {
	struct siommu_mem *mem;
	long mem_objs;
	struct kept_iommu k[N_KEPT];
	unsigned long clock;
} K;

/* Live IOMMUs of the input: what each was asked and holds, to park it. */
static struct kept_iommu live_io[N_IOMMU];

static void kept_destroy(void)
{
	int s;

	for (s = 0; s < N_KEPT; s++)
		if (K.k[s].i && siommu_iommu_destroy(K.k[s].i))
			fz_die("the destroy of a kept, empty IOMMU failed");
	if (K.mem && siommu_mem_destroy(K.mem))
		fz_die("the destroy of the kept, empty memory map failed");
	memset(&K, 0, sizeof(K));
}

/* Context objects the kept things hold. */
static long kept_objects(void)
{
	long n = K.mem_objs;
	int s;

	for (s = 0; s < N_KEPT; s++)
		if (K.k[s].i)
			n += K.k[s].objs;
	return n;
}

/* Park the idle IOMMU of slot @s (the input's W.io[s]); the oldest goes if full. */
static void kept_park(int s)
{
	struct kept_iommu *slot = NULL;
	int k;

	for (k = 0; k < N_KEPT; k++)
		if (!K.k[k].i) {
			slot = &K.k[k];
			break;
		}
	if (!slot) {
		slot = &K.k[0];
		for (k = 1; k < N_KEPT; k++)
			if (K.k[k].stamp < slot->stamp)
				slot = &K.k[k];
		FZ_WANT(FZ(siommu_iommu_destroy, slot->i), 0);
	}
	*slot = live_io[s];
	slot->stamp = ++K.clock;
	memset(&live_io[s], 0, sizeof(live_io[s]));
}

/* Take a parked IOMMU of slot @s with @caps, or NULL. */
static struct kept_iommu *kept_find(int s, const struct siommu_iommu_caps *caps)
{
	int k;

	for (k = 0; k < N_KEPT; k++)
		if (K.k[k].i && K.k[k].slot == s && !memcmp(&K.k[k].caps, caps, sizeof(*caps)))
			return &K.k[k];
	return NULL;
}

/* ------------------------------------------------------------------ helpers */

static uint32_t pasid_of(int pidx)
{
	return pidx ? (uint32_t)pidx : SIOMMU_NO_PASID;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static struct w_dom *dom_of_att(int att)
{
	return att > 0 ? &W.dom[att - 1] : NULL;
}

/* The device's model attachment for @pidx must be what the library says. */
static void check_attachment(int di, int pidx)
{
	struct w_dev *d = &W.dev[di];
	struct siommu_domain *got = siommu_device_domain(d->d, pasid_of(pidx)), *want = NULL;
	int att = d->att[pidx];

	if (att > 0)
		want = W.dom[att - 1].d;
	else if (att < 0)
		want = siommu_sva_domain(W.sva[-att - 1].b);
	if (got != want)
		fz_die("device %d pasid %u: attached to %p, the model says %p", di,
		       pasid_of(pidx), (void *)got, (void *)want);
}

/* ------------------------------------------------------------------ shadow of a domain */

static struct mapping *shadow_find(struct w_dom *m, uint64_t iova)
{
	unsigned int i;

	for (i = 0; i < m->nm; i++)
		if (iova >= m->m[i].iova && iova - m->m[i].iova < m->m[i].size)
			return &m->m[i];
	return NULL;
}

static bool shadow_overlaps(struct w_dom *m, uint64_t iova, uint64_t size)
{
	unsigned int i;

	for (i = 0; i < m->nm; i++)
		if (overlaps(iova, size, m->m[i].iova, m->m[i].size))
			return true;
	return false;
}

static void shadow_del(struct w_dom *m, unsigned int i)
{
	m->m[i] = m->m[--m->nm];
}

/* Remove [iova, iova + size) from the non-dma mappings; returns the bytes removed. */
static uint64_t shadow_sub(struct w_dom *m, uint64_t iova, uint64_t size)
{
	uint64_t removed = 0, end = iova + size;
	unsigned int i = 0;

	while (i < m->nm) {
		struct mapping x = m->m[i];
		uint64_t xe = x.iova + x.size;

		if (x.dma || !overlaps(iova, size, x.iova, x.size)) {
			i++;
			continue;
		}
		shadow_del(m, i);
		removed += (xe < end ? xe : end) - (x.iova > iova ? x.iova : iova);
		if (x.iova < iova && m->nm < N_MAP) {
			struct mapping l = x;

			l.size = iova - x.iova;
			m->m[m->nm++] = l;
		}
		if (xe > end && m->nm < N_MAP) {
			struct mapping r = x;

			r.iova = end;
			r.pa = x.pa + (end - x.iova);
			r.size = xe - end;
			m->m[m->nm++] = r;
		}
		/* the pieces were appended: they are visited again, harmlessly */
	}
	return removed;
}

/* Is [pa, pa + size) inside a region of the memory map that is revoked? */
static bool pa_revoked(uint64_t pa, uint64_t size)
{
	int i;

	for (i = 0; i < N_REG; i++)
		if (W.reg[i].r && W.reg[i].revoked &&
		    overlaps(pa, size, W.reg[i].pa, W.reg[i].size))
			return true;
	return false;
}

/* A live, unrevoked RAM region holding [pa, pa + len). */
static bool pa_ram(uint64_t pa, uint64_t len)
{
	int i;

	for (i = 0; i < N_REG; i++) {
		struct w_reg *r = &W.reg[i];

		if (r->r && !r->revoked && r->type == SIOMMU_MEM_RAM && pa >= r->pa &&
		    pa + len <= r->pa + r->size)
			return true;
	}
	return false;
}

/* The IOAS area of @ioas at @iova, or NULL. */
static struct w_area *area_at(struct w_ioas *a, uint64_t iova)
{
	unsigned int i;

	for (i = 0; i < a->nar; i++)
		if (iova >= a->ar[i].iova && iova - a->ar[i].iova < a->ar[i].len)
			return &a->ar[i];
	return NULL;
}

/*
 * What the model says (dev, pasid) translates @iova to: 1 mapped (*pa,
 * *prot set), 0 unmapped, -1 unknown (mirror, SVA, resolver, a LAZY
 * domain with stale entries).  *kind gets the domain type, 0 none.
 */
static int model_translate(int di, int pidx, uint64_t iova, uint64_t *pa, unsigned int *prot,
			   int *kind)
{
	int att = W.dev[di].att[pidx];
	struct w_dom *m = dom_of_att(att);

	*kind = 0;
	if (att < 0) {
		*kind = SIOMMU_DOMAIN_PAGING;
		return -1;
	}
	if (!m)
		return 0;
	*kind = (int)m->type;
	if (m->type == SIOMMU_DOMAIN_IDENTITY) {
		*pa = iova;
		*prot = SIOMMU_PT_READ | SIOMMU_PT_WRITE;
		return 1;
	}
	if (m->type != SIOMMU_DOMAIN_PAGING || m->kind == DK_MIRROR || m->unknown)
		return -1;
	if (m->kind == DK_IOAS) {
		struct w_area *ar = area_at(&W.ioas[m->ioas], iova);

		if (!ar || ar->revoked || !m->users)
			return 0;
		*pa = ar->pa + (iova - ar->iova);
		*prot = (ar->flags & SIOMMU_IOAS_MAP_READ ? SIOMMU_PT_READ : 0) |
			(ar->flags & SIOMMU_IOAS_MAP_WRITE ? SIOMMU_PT_WRITE : 0);
		return 1;
	}
	{
		struct mapping *x = shadow_find(m, iova);

		if (!x)
			return m->stale ? -1 : 0;
		if (x->revoked) {
			/* a DMA mapping a revoke tore down: its region is unreachable */
			uint64_t p = x->pa + ((iova - x->iova) & ~(PG - 1));

			return pa_revoked(p, PG) ? 0 : -1;
		}
		*pa = x->pa + (iova - x->iova);
		*prot = x->prot;
		return 1;
	}
}

/* ------------------------------------------------------------------ table pools */

/*
 * Every table the fuzzer makes has a small pool (siommu_pt_cfg's,
 * siommu_domain_cfg's and siommu_mirror_cfg's max_table_pages): pgtable's
 * default reserves 512 MiB, whose shadow ASan poisons on create and destroy
 * (tens of milliseconds: 60% of the time before).  Some pools are so small
 * that maps run out: then -ENOMEM is the answer, and only then.
 */
static uint64_t pool_of(uint8_t b)
{
	static const uint64_t pages[4] = { 512, 64, 8, 5 };

	return pages[b & 3];
}

/*
 * Table pages a map of [iova, iova + size) can need at most (one table per
 * level below the root per span it touches), or with @iova UINT64_MAX
 * (unknown) of any @size <= 2 MiB.
 */
static uint64_t tables_needed(unsigned int levels, uint64_t iova, uint64_t size)
{
	uint64_t n = 0;
	unsigned int l;

	for (l = 0; l + 1 < levels; l++) {
		unsigned int sh = 21 + 9 * l;

		if (iova == UINT64_MAX)
			n += 2;
		else if (sh < 64)
			n += ((iova + size - 1) >> sh) - (iova >> sh) + 1;
		else
			n++;
	}
	return n;
}

/* May a map of [iova, iova + size) in @pt fail with -ENOMEM (its pool nearly full)? */
static bool pool_short(struct siommu_pt *pt, uint64_t iova, uint64_t size)
{
	struct siommu_pt_info pi;

	if (!pt)
		return false;
	FZ_WANT(FZ(siommu_pt_get_info, pt, &pi), 0);
	FZ_CHECK(pi.table_pages <= pi.max_table_pages, "%llu table pages of a pool of %llu",
		 (unsigned long long)pi.table_pages, (unsigned long long)pi.max_table_pages);
	return pi.table_pages + tables_needed(pi.levels, iova, size) > pi.max_table_pages;
}

/* The same for any domain of IOAS @s that is attached (and so filled). */
static bool ioas_pool_short(int s, uint64_t iova, uint64_t len)
{
	int i;

	for (i = 0; i < N_DOM; i++)
		if (W.dom[i].kind == DK_IOAS && W.dom[i].ioas == s && W.dom[i].users &&
		    pool_short(siommu_domain_pt(W.dom[i].d), iova, len))
			return true;
	return false;
}

/* Could the fill of IOAS domain @m (every area of its IOAS) run out of table pages? */
static bool ioas_fill_short(struct w_dom *m)
{
	struct w_ioas *a = &W.ioas[m->ioas];
	struct siommu_pt_info pi;
	uint64_t need = 0;
	unsigned int i;

	FZ_WANT(FZ(siommu_pt_get_info, siommu_domain_pt(m->d), &pi), 0);
	for (i = 0; i < a->nar; i++)
		need += tables_needed(pi.levels, a->ar[i].iova, a->ar[i].len);
	return pi.table_pages + need > pi.max_table_pages;
}

/* ------------------------------------------------------------------ callbacks */

static void rec_fn(void *opaque, struct siommu_device *dev, const struct siommu_page_response *r)
{
	struct w_rec *x = opaque;

	(void)dev;
	x->n++;
	if (r->code == SIOMMU_PAGE_RESP_SUCCESS)
		x->success++;
	else if (r->code == SIOMMU_PAGE_RESP_INVALID)
		x->invalid++;
	else
		x->failure++;
}

static int h_handle(void *opaque, struct siommu_iopf_group *g)
{
	struct w_dom *m = opaque;

	FZ_CHECK(siommu_iopf_group_count(g) >= 1, "a group of %u requests",
		 siommu_iopf_group_count(g));
	FZ_CHECK(siommu_iopf_group_request(g, siommu_iopf_group_count(g) - 1)->flags &
		 SIOMMU_PRQ_LAST, "the last request of a group has L");
	FZ_CHECK(siommu_iopf_group_domain(g) == m->d, "the group's domain");
	if (m->hret == SIOMMU_IOPF_ASYNC) {
		if (W.nheld == N_HELD)
			return SIOMMU_PAGE_RESP_INVALID;
		W.held_dom[W.nheld] = (int)(m - W.dom);
		W.held[W.nheld++] = g;
	}
	return m->hret;
}

static const struct siommu_iopf_handler h_ops = {
	.name = "fuzz", .flags = SIOMMU_IOPF_HANDLER_ATOMIC, .handle = h_handle,
};

static int mmio_read(void *opaque, uint64_t off, unsigned int size, uint64_t *val)
{
	(void)opaque;
	(void)size;
	*val = off * 0x0101010101010101ull;
	return off >= 0x8000 ? -EIO : 0;
}

static int mmio_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	(void)opaque;
	(void)size;
	(void)val;
	return off >= 0x8000 ? -EIO : 0;
}

static const struct siommu_mem_mmio_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

/* An access's unmap callback: AK_CB drops its pins in the range, AK_STUBBORN keeps them. */
static void acc_unmap(void *opaque, uint64_t iova, uint64_t length)
{
	struct w_acc *a = opaque;
	unsigned int i = 0;

	if (a->kind == AK_STUBBORN)
		return;
	while (i < a->npin) {
		if (overlaps(iova, length, a->pin[i].iova, a->pin[i].len)) {
			FZ_WANT(FZ(siommu_ioas_access_unpin, a->a, a->pin[i].iova, a->pin[i].len), 0);
			a->pin[i] = a->pin[--a->npin];
		} else {
			i++;
		}
	}
}

/* ------------------------------------------------------------------ iommu, mem */

static void op_iommu_create(struct fz_in *in)
{
	int s = fz_u8(in) % N_IOMMU;
	uint8_t c = fz_u8(in);
	struct siommu_iommu_caps caps = { 0 };
	struct siommu_iommu_caps eff;
	struct kept_iommu *k;
	struct fz_exp x = { 0 };
	int ret;

	if (W.io[s].i)
		return;
	caps.pasid_bits = (c & 1) ? 8 : 0;
	switch ((c >> 1) & 3) {
	case 1: caps.pgsize_bitmap = SIOMMU_PT_SZ_4K; break;
	case 2: caps.pgsize_bitmap = SIOMMU_PT_SZ_4K | SIOMMU_PT_SZ_2M; break;
	case 3: if (c & 0x80) { caps.pgsize_bitmap = SIOMMU_PT_SZ_2M; fz_exp_add(&x, -EINVAL); } break;
	}
	switch ((c >> 3) & 3) {
	case 1: caps.ias_lg2 = 39; break;
	case 2: caps.ias_lg2 = 57; break;
	case 3: if (c & 0x40) { caps.ias_lg2 = 31; fz_exp_add(&x, -EINVAL); } break;
	}
	if (c & 0x20) {
		caps.prq_size = (c & 0x80) ? 3 : 4;
		if (c & 0x80)
			fz_exp_add(&x, -EINVAL);
	}
	if (!x.n && (k = kept_find(s, &caps))) {
		live_io[s] = *k;		/* the same IOMMU, empty */
		memset(k, 0, sizeof(*k));
		W.io[s].i = live_io[s].i;
	} else {
		long before = fz_ctx_objects();

		ret = FZ(siommu_iommu_create, W.ctx, &caps, s == 0 ? W.mem : NULL, &W.io[s].i);
		fz_exp_check(&x, ret);
		if (ret)
			return;
		live_io[s] = (struct kept_iommu){ .i = W.io[s].i, .slot = s, .caps = caps,
						  .objs = fz_ctx_objects() - before };
	}
	FZ_WANT(FZ(siommu_iommu_get_caps, W.io[s].i, &eff), 0);
	W.io[s].pasid_bits = eff.pasid_bits;
	W.io[s].ias = eff.ias_lg2;
}

static bool iommu_busy(int s)
{
	int i;

	if (W.io[s].iopf || W.io[s].layer)
		return true;
	for (i = 0; i < N_DEV; i++)
		if (W.dev[i].d && W.dev[i].iommu == s)
			return true;
	for (i = 0; i < N_DOM; i++)
		if (W.dom[i].kind != DK_FREE && W.dom[i].iommu == s)
			return true;
	/* a binding the mm's release detached holds nothing of the IOMMU */
	for (i = 0; i < N_SVA; i++)
		if (W.sva[i].b && !W.sva[i].released && W.sva[i].iommu == s)
			return true;
	return false;
}

static void op_iommu_destroy(struct fz_in *in)
{
	uint8_t c = fz_u8(in);
	int s = c % N_IOMMU;
	bool busy;
	int ret;

	if (!W.io[s].i)
		return;
	busy = iommu_busy(s);
	if (!busy && (c & 0xe0) != 0xe0) {
		kept_park(s);			/* destroyed later (see K) */
		memset(&W.io[s], 0, sizeof(W.io[s]));
		return;
	}
	ret = FZ(siommu_iommu_destroy, W.io[s].i);
	FZ_WANT(ret, busy ? -EBUSY : 0);
	if (!ret) {
		memset(&W.io[s], 0, sizeof(W.io[s]));
		memset(&live_io[s], 0, sizeof(live_io[s]));
	}
}

/* ------------------------------------------------------------------ revoke notifiers */

static void mn_fn(void *opaque, struct siommu_mem_region *r)
{
	struct w_mn *x = opaque;
	struct siommu_mem_region_info info;

	x->calls++;
	FZ_CHECK(r == W.mn_cur, "a revoke notifier called for %p, the region revoked is %p",
		 (void *)r, (void *)W.mn_cur);
	FZ_WANT(FZ(siommu_mem_region_info, r, &info), 0);
	FZ_CHECK(info.revoked, "a revoke notifier called before the region reads revoked");
	if (x->nasty) {
		FZ_WANT(FZ(siommu_mem_notifier_unregister, x->n), -EDEADLK);
		FZ_WANT(FZ(siommu_mem_region_revoke, r), -EDEADLK);
		FZ_WANT(FZ(siommu_mem_region_destroy, r), -EDEADLK);
	}
}

/* Every notifier was called once per revocation since its registration. */
static void mn_check(void)
{
	int i;

	for (i = 0; i < N_MN; i++)
		if (W.mn[i].n)
			FZ_CHECK(W.mn[i].calls == W.mn_revokes - W.mn[i].base,
				 "revoke notifier %d called %lu times for %lu revocations", i,
				 W.mn[i].calls, W.mn_revokes - W.mn[i].base);
}

/* Register (or, with c & 1, a NULL function: -EINVAL) or unregister a revoke notifier. */
static void op_mem_notifier(struct fz_in *in)
{
	int s = fz_u8(in) % N_MN;
	uint8_t c = fz_u8(in);
	struct w_mn *x = &W.mn[s];
	struct siommu_mem_notifier *n = NULL;

	if (x->n) {
		mn_check();
		FZ_WANT(FZ(siommu_mem_notifier_unregister, x->n), 0);
		memset(x, 0, sizeof(*x));
		return;
	}
	if (c & 1) {
		FZ_WANT(FZ(siommu_mem_notifier_register, W.mem, NULL, x, &n), -EINVAL);
		FZ_WANT(FZ(siommu_mem_notifier_unregister, NULL), -EINVAL);
		return;
	}
	x->base = W.mn_revokes;
	x->calls = 0;
	x->nasty = c & 2;
	FZ_WANT(FZ(siommu_mem_notifier_register, W.mem, mn_fn, x, &x->n), 0);
}

static void op_region_add(struct fz_in *in)
{
	int s = fz_u8(in) % N_REG;
	uint8_t c = fz_u8(in);
	uint64_t pa = (uint64_t)(s + 1) << 30, size = (c & 1) ? SZ_2M : 16 * PG;
	struct siommu_mem_region *r;
	int ret;

	if (c & 0x80) {
		/* overlapping or bad: over the slot's region, or size 0 */
		ret = FZ(siommu_mem_add_ram, W.mem, pa + PG, (c & 0x40) ? 0 : PG, &r);
		if (c & 0x40)
			FZ_WANT(ret, -EINVAL);
		else
			FZ_WANT(ret, W.reg[s].r && W.reg[s].size > PG ? -EEXIST : 0);
		if (!ret) {
			/* a one-page region inside the slot: destroy it again */
			W.mn_cur = r;
			FZ_WANT(FZ(siommu_mem_region_destroy, r), 0);
			W.mn_revokes++;
			mn_check();
			/* its destroy revoked it: the core tore down the mappings of its page */
			model_revoked_range(pa + PG, PG);
		}
		return;
	}
	if (c & 2)
		ret = FZ(siommu_mem_add_mmio, W.mem, pa, size, &mmio_ops, NULL, &r);
	else
		ret = FZ(siommu_mem_add_ram, W.mem, pa, size, &r);
	FZ_WANT(ret, W.reg[s].r ? -EEXIST : 0);
	if (ret)
		return;
	W.reg[s] = (struct w_reg){ .r = r, .pa = pa, .size = size,
				   .type = (c & 2) ? SIOMMU_MEM_MMIO : SIOMMU_MEM_RAM };
}

/* After a revoke of region @s: the core tore the region's mappings down. */
/* The core tore down every domain mapping of [rpa, rpa + rsize) (a region revoked). */
static void model_revoked_range(uint64_t rpa, uint64_t rsize)
{
	struct { uint64_t pa, size; } rr = { rpa, rsize }, *r = &rr;
	int d;
	unsigned int k;

	for (d = 0; d < N_DOM; d++) {
		struct w_dom *m = &W.dom[d];

		if (m->kind != DK_PLAIN)
			continue;
		k = 0;
		while (k < m->nm) {
			struct mapping *x = &m->m[k];

			if (!overlaps(x->pa, x->size, r->pa, r->size)) {
				k++;
				continue;
			}
			if (x->dma) {
				x->revoked = true;
				k++;
				continue;
			}
			/* A mapping partly outside the region: unmap what may be left. */
			if (x->pa < r->pa || x->pa + x->size > r->pa + r->size)
				FZ64(siommu_domain_unmap, m->d, x->iova, x->size);
			shadow_del(m, k);
		}
	}
}

static void model_revoked(int s)
{
	int i;
	unsigned int k;

	W.reg[s].revoked = true;
	model_revoked_range(W.reg[s].pa, W.reg[s].size);
	for (i = 0; i < N_IOAS; i++)
		for (k = 0; k < W.ioas[i].nar; k++)
			if (W.ioas[i].ar[k].reg == s)
				W.ioas[i].ar[k].revoked = true;
}

static void op_region_revoke(struct fz_in *in)
{
	int s = fz_u8(in) % N_REG;
	struct siommu_mem_region_info info;

	if (!W.reg[s].r)
		return;
	W.mn_cur = W.reg[s].r;
	FZ_WANT(FZ(siommu_mem_region_revoke, W.reg[s].r), 0);
	if (!W.reg[s].revoked)
		W.mn_revokes++;		/* a second revoke calls no notifier */
	mn_check();
	FZ_WANT(FZ(siommu_mem_region_info, W.reg[s].r, &info), 0);
	FZ_CHECK(info.revoked, "revoked after revoke");
	model_revoked(s);
}

static void op_region_destroy(struct fz_in *in)
{
	int s = fz_u8(in) % N_REG;
	int ret;

	if (!W.reg[s].r)
		return;
	W.mn_cur = W.reg[s].r;
	ret = FZ(siommu_mem_region_destroy, W.reg[s].r);
	if (W.reg[s].areas)
		FZ_WANT(ret, -EBUSY);	/* not even revoked */
	else
		FZ_WANT(ret, 0);
	if (!ret && !W.reg[s].revoked)
		W.mn_revokes++;
	mn_check();
	if (ret)
		return;
	model_revoked(s);
	memset(&W.reg[s], 0, sizeof(W.reg[s]));
}

static void op_mem_rw(struct fz_in *in)
{
	int s = fz_u8(in) % N_REG;
	uint8_t off = fz_u8(in), len = (uint8_t)(fz_u8(in) % 64 + 1);
	uint8_t buf[64], back[64];
	uint64_t pa;
	int ret;

	if (!W.reg[s].r)
		return;
	pa = W.reg[s].pa + (uint64_t)off * 256;
	memset(buf, off, sizeof(buf));
	ret = FZ_MMIO(siommu_mem_rw, W.mem, pa, buf, len, true);
	if (W.reg[s].revoked)
		FZ_WANT(ret, -ENODEV);
	else if (W.reg[s].type == SIOMMU_MEM_RAM)
		FZ_WANT(ret, 0);
	if (!ret && W.reg[s].type == SIOMMU_MEM_RAM) {
		FZ_WANT(FZ_MMIO(siommu_mem_rw, W.mem, pa, back, len, false), 0);
		FZ_CHECK(!memcmp(buf, back, len), "RAM reads back what was written");
	}
}

/* ------------------------------------------------------------------ devices */

static void op_dev_create(struct fz_in *in)
{
	int s = fz_u8(in) % N_DEV, io = fz_u8(in) % N_IOMMU, i;
	uint8_t c = fz_u8(in);
	uint32_t rid = SIOMMU_RID(0, 1, c & 3, 0);
	unsigned int flags = (c >> 2) & 0xf, pbits = 0;
	struct fz_exp x = { 0 };
	int ret;

	if (W.dev[s].d || !W.io[io].i)
		return;
	if (flags & SIOMMU_DEV_PASID)
		pbits = (c & 0x40) ? 21 : 8;
	if (c & 0x80)
		flags |= 0x10;		/* unknown flag */
	if ((flags & ~SIOMMU_DEV_FLAGS_MASK) || pbits > 20 ||
	    ((flags & SIOMMU_DEV_PRG_RESP_PASID) &&
	     (flags & (SIOMMU_DEV_PRI | SIOMMU_DEV_PASID)) != (SIOMMU_DEV_PRI | SIOMMU_DEV_PASID)))
		fz_exp_add(&x, -EINVAL);
	for (i = 0; i < N_DEV; i++)
		if (W.dev[i].d && W.dev[i].iommu == io && W.dev[i].rid == rid)
			fz_exp_add(&x, -EEXIST);
	if ((flags & SIOMMU_DEV_PASID) && !W.io[io].pasid_bits)
		fz_exp_add(&x, -EOPNOTSUPP);
	ret = FZ(siommu_device_create, W.io[io].i, rid, flags, pbits, &W.dev[s].d);
	fz_exp_check(&x, ret);
	if (ret) {
		W.dev[s].d = NULL;
		return;
	}
	FZ_CHECK(siommu_device_find(W.io[io].i, rid) == W.dev[s].d, "find the new device");
	W.dev[s].iommu = io;
	W.dev[s].rid = rid;
	W.dev[s].flags = flags;
	W.dev[s].pbits = pbits < W.io[io].pasid_bits ? pbits : W.io[io].pasid_bits;
	memset(W.dev[s].att, 0, sizeof(W.dev[s].att));
}

static void op_dev_destroy(struct fz_in *in)
{
	int s = fz_u8(in) % N_DEV, p;
	bool busy;
	int ret;

	if (!W.dev[s].d)
		return;
	busy = W.dev[s].enabled;
	for (p = 0; p < N_PASID; p++)
		if (W.dev[s].att[p])
			busy = true;
	ret = FZ(siommu_device_destroy, W.dev[s].d);
	FZ_WANT(ret, busy ? -EBUSY : 0);
	if (!ret)
		memset(&W.dev[s], 0, sizeof(W.dev[s]));
}

/* ------------------------------------------------------------------ domains */

static void dom_record(int s, struct siommu_domain *d, enum dom_kind kind, int io)
{
	struct siommu_domain_info info;
	struct w_dom *m = &W.dom[s];

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->d = d;
	m->iommu = io;
	FZ_WANT(FZ(siommu_domain_get_info, d, &info), 0);
	m->type = info.type;
	m->ias = info.ias_lg2;
	m->lazy = info.unmap_mode == SIOMMU_UNMAP_LAZY;
	FZ_CHECK(info.users == 0, "a new domain has no users");
}

static void op_dom_create(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM, io = fz_u8(in) % N_IOMMU;
	uint8_t t = fz_u8(in), f = fz_u8(in);
	struct siommu_domain_cfg cfg = { 0 };
	struct siommu_domain *d;
	struct siommu_pt *pt = NULL;
	struct fz_exp x = { 0 };
	int ret;

	if (W.dom[s].kind != DK_FREE || !W.io[io].i)
		return;
	cfg.type = (enum siommu_domain_type)(t % 4 + (t & 0x80 ? 1 : 0));
	if (cfg.type == 0 || cfg.type > SIOMMU_DOMAIN_PAGING)
		fz_exp_add(&x, -EINVAL);
	cfg.fmt = (enum siommu_pt_fmt)(f % 3 + 1);
	if (f & 0x04)
		cfg.levels = (f & 0x08) ? 5 : ((f & 0x10) ? 3 : 4);
	if (f & 0x20)
		cfg.pt_flags = SIOMMU_PT_F_DIRTY;
	if (f & 0x40) {
		cfg.unmap_mode = SIOMMU_UNMAP_LAZY;
		cfg.fq_batch = 2;
	}
	if (f & 0x80)
		cfg.table_phys_base = 1ull << 40;
	cfg.max_table_pages = pool_of(t >> 2);	/* for a table of the domain's own */
	/*
	 * Mostly over a small table of our own: a default table's pool (512 MiB
	 * of address space, poisoned page by page under ASan) costs tens of
	 * milliseconds to create and destroy, which would cap the fuzzer at a
	 * few inputs a second.
	 */
	if (cfg.type == SIOMMU_DOMAIN_PAGING && (t & 0x70)) {
		struct siommu_pt_cfg pc = { .fmt = cfg.fmt, .levels = cfg.levels,
					    .flags = cfg.pt_flags,
					    .table_phys_base = cfg.table_phys_base,
					    .max_table_pages = pool_of(t >> 2) };

		if (FZ(siommu_pt_create, W.ctx, &pc, &pt))
			return;
		cfg.pt = pt;
		/* ignored with a table of the caller's, even out of range */
		cfg.max_table_pages = (f & 1) ? (1ull << 26) + 1 : 0;
	}
	ret = FZ(siommu_domain_create, W.io[io].i, &cfg, &d);
	if (ret && pt)
		FZ_WANT(FZ(siommu_pt_destroy, pt), 0);
	if (cfg.type == SIOMMU_DOMAIN_PAGING && !cfg.levels && !cfg.pt_flags)
		fz_exp_check(&x, ret);		/* the format's defaults always work */
	else if (x.n)
		fz_exp_check(&x, ret);
	if (ret)
		return;
	dom_record(s, d, DK_PLAIN, io);
	W.dom[s].pt = pt;
	FZ_CHECK(W.dom[s].type == cfg.type, "the domain's type");
	FZ_CHECK(!pt || siommu_domain_pt(d) == pt, "the domain translates through our table");
	FZ_CHECK(cfg.type != SIOMMU_DOMAIN_PAGING || siommu_domain_pt(d), "a PAGING domain has a table");
	if (cfg.type == SIOMMU_DOMAIN_PAGING) {
		struct siommu_pt_info pi;

		FZ_WANT(FZ(siommu_pt_get_info, siommu_domain_pt(d), &pi), 0);
		FZ_CHECK(pi.max_table_pages == pool_of(t >> 2), "a pool of %llu pages, asked %llu",
			 (unsigned long long)pi.max_table_pages,
			 (unsigned long long)pool_of(t >> 2));
	}
}

static void op_dom_destroy(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM;
	struct w_dom *m = &W.dom[s];
	bool busy;
	int ret;

	if (m->kind == DK_FREE)
		return;
	busy = m->users || m->handler;
	switch (m->kind) {
	case DK_PLAIN:
		if (m->pt)
			FZ_WANT(FZ(siommu_pt_destroy, m->pt), -EBUSY);	/* the domain holds it */
		ret = FZ(siommu_domain_destroy, m->d);
		if (!ret && m->pt)
			FZ_WANT(FZ(siommu_pt_destroy, m->pt), 0);
		break;
	case DK_IOAS:
		ret = FZ(siommu_ioas_domain_free, W.io[m->iommu].layer, m->d);
		break;
	case DK_MIRROR:
		ret = FZ(siommu_mirror_destroy, m->mirror);
		busy = m->users;	/* its own handler goes with it */
		if (m->handler)
			busy = true;
		break;
	default:
		return;
	}
	FZ_WANT(ret, busy ? -EBUSY : 0);
	if (ret)
		return;
	if (m->kind == DK_MIRROR && !--W.mm[m->mm].refs && W.mm[m->mm].dead)
		memset(&W.mm[m->mm], 0, sizeof(W.mm[m->mm]));
	memset(m, 0, sizeof(*m));
}

/* A plain domain's destroy while an IOAS owns it must refuse (its private data). */
static void op_dom_destroy_wrong(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM;
	struct w_dom *m = &W.dom[s];

	if (m->kind == DK_IOAS)
		FZ_WANT(FZ(siommu_domain_destroy, m->d), -EBUSY);
	else if (m->kind == DK_PLAIN && W.io[m->iommu].layer)
		FZ_WANT(FZ(siommu_ioas_domain_free, W.io[m->iommu].layer, m->d), -EINVAL);
}

/* ------------------------------------------------------------------ attach */

static void op_attach(struct fz_in *in)
{
	int di = fz_u8(in) % N_DEV, ds = fz_u8(in) % N_DOM;
	uint8_t c = fz_u8(in);
	int pidx = c % N_PASID, op = (c >> 2) % 3;
	bool badpasid = (c & 0x40) && pidx;
	struct w_dev *d = &W.dev[di];
	struct w_dom *m = &W.dom[ds], *old;
	uint32_t pasid;
	struct fz_exp x = { 0 };
	bool weak = false;
	int ret;

	if (!d->d || (op != 2 && m->kind == DK_FREE) || d->att[pidx] < 0)
		return;
	pasid = badpasid ? (1u << 20) - 1 : pasid_of(pidx);
	if (badpasid || (pidx && d->pbits && pasid >= (1u << d->pbits)))
		fz_exp_add(&x, -EINVAL);
	if (pidx && !(d->flags & SIOMMU_DEV_PASID)) {
		fz_exp_add(&x, -EOPNOTSUPP);
		fz_exp_add(&x, -EINVAL);
	}
	if (op != 2 && m->iommu != d->iommu)
		fz_exp_add(&x, -EINVAL);
	if (op == 0 && d->att[pidx])
		fz_exp_add(&x, -EEXIST);
	if (op == 2 && !d->att[pidx])
		fz_exp_add(&x, -ENOENT);
	/* An IOAS domain's fill may refuse areas beyond its aperture or page sizes. */
	if (op != 2 && m->kind == DK_IOAS && !m->users)
		weak = true;
	old = dom_of_att(d->att[pidx]);
	if (op == 0)
		ret = pidx ? FZ(siommu_pasid_attach, d->d, pasid, m->d) :
			     FZ(siommu_device_attach, d->d, m->d);
	else if (op == 1)
		ret = pidx ? FZ(siommu_pasid_replace, d->d, pasid, m->d) :
			     FZ(siommu_device_replace, d->d, m->d);
	else
		ret = pidx ? FZ(siommu_pasid_detach, d->d, pasid) : FZ(siommu_device_detach, d->d);
	if (weak && !x.n && (ret == -ENOSPC || ret == -EINVAL))
		;	/* documented refusal of the fill */
	else if (weak && !x.n && ret == -ENOMEM)
		FZ_CHECK(ioas_fill_short(m), "the fill of an IOAS domain whose pool has room: ENOMEM");
	else
		fz_exp_check(&x, ret);
	if (!ret && !badpasid) {
		if (op == 2) {
			old->users--;
			d->att[pidx] = 0;
		} else if (old != m) {
			if (old)
				old->users--;
			m->users++;
			d->att[pidx] = ds + 1;
		}
	}
	if (!badpasid)
		check_attachment(di, pidx);
	if (old && old->kind != DK_FREE) {
		struct siommu_domain_info info;

		FZ_WANT(FZ(siommu_domain_get_info, old->d, &info), 0);
		FZ_CHECK(info.users == old->users, "users %u, model %u", info.users, old->users);
	}
}

/* ------------------------------------------------------------------ map */

static uint64_t iova_of(uint8_t b)
{
	static const uint64_t base[4] = { 0, SZ_2M * 4, SZ_1G, 1ull << 39 };

	return base[b >> 6] + (uint64_t)(b & 0x3f) * PG;
}

static uint64_t size_of(uint8_t b, bool host)
{
	switch (b & 7) {
	case 5: return SZ_2M;
	case 6: return host ? SZ_2M : SZ_1G;
	case 7: return PG + 0x800;
	default: return (uint64_t)((b >> 3) % 16 + 1) * PG;
	}
}

static uint64_t pa_of(uint8_t b, uint64_t size, bool host)
{
	if (host) {
		uint64_t off = (uint64_t)(b & 0x3f) * PG;

		if (size >= SZ_2M)
			off = (b & 1) ? SZ_2M : 0;
		if (off + size > ARENA)
			off = 0;
		return (uint64_t)(uintptr_t)arena + off;
	}
	if (size >= SZ_1G)
		return (uint64_t)((b & 3) + 1) << 30;
	if (size >= SZ_2M)
		return ((uint64_t)((b & 3) + 1) << 30) + ((b & 0x80) ? SZ_2M : 0);
	return ((uint64_t)((b & 3) + 1) << 30) + (uint64_t)((b >> 2) & 0x1f) * PG;
}

static void op_map(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM;
	uint8_t bi = fz_u8(in), bs = fz_u8(in), bp = fz_u8(in), pr = fz_u8(in);
	struct w_dom *m = &W.dom[s];
	bool host;
	uint64_t iova, size, pa;
	unsigned int prot = pr & SIOMMU_PT_PROT_MASK;
	struct fz_exp x = { 0 };
	int ret;

	if (m->kind != DK_PLAIN || m->nm >= N_MAP - 2)
		return;
	host = m->iommu == 1;
	iova = iova_of(bi);
	size = size_of(bs, host);
	pa = pa_of(bp, size, host);
	if (size == SZ_2M || size == SZ_1G)
		iova = (iova + size - 1) & ~(size - 1);
	if (m->type != SIOMMU_DOMAIN_PAGING) {
		fz_exp_add(&x, -EINVAL);
	} else {
		if ((size | iova | pa) & (PG - 1) || !(prot & (SIOMMU_PT_READ | SIOMMU_PT_WRITE)))
			fz_exp_add(&x, -EINVAL);
		if (iova + size > (1ull << m->ias))
			fz_exp_add(&x, -ERANGE);
		if (shadow_overlaps(m, iova, size))
			fz_exp_add(&x, -EEXIST);
		if (!host && pa_revoked(pa, size))
			fz_exp_add(&x, -ENODEV);
	}
	if (m->type == SIOMMU_DOMAIN_PAGING && !x.n &&
	    pool_short(siommu_domain_pt(m->d), iova, size))
		fz_exp_add(&x, -ENOMEM);	/* or 0 */
	ret = FZ(siommu_domain_map, m->d, iova, pa, size, prot);
	if (fz_trace)
		fprintf(stderr, "  map %#llx -> %#llx +%#llx prot %#x\n", (unsigned long long)iova,
			(unsigned long long)pa, (unsigned long long)size, prot);
	if (m->unknown && ret == -EEXIST)
		return;
	if (ret == -ENOMEM && fz_exp_has(&x, -ENOMEM))
		return;			/* nothing mapped: later translates check it */
	if (!ret && x.n == 1 && x.e[0] == -ENOMEM)
		x.n = 0;
	fz_exp_check(&x, ret);
	if (ret)
		return;
	m->m[m->nm++] = (struct mapping){ .iova = iova, .pa = pa, .size = size, .prot = prot };
}

static void op_unmap(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM;
	uint8_t c = fz_u8(in), bi = fz_u8(in), bs = fz_u8(in);
	struct w_dom *m = &W.dom[s];
	uint64_t iova, size, inside = 0;
	unsigned int i;
	bool cut = false;
	int64_t ret;

	if (m->kind != DK_PLAIN)
		return;
	if ((c & 1) && m->nm && !m->m[c / 2 % m->nm].dma) {
		struct mapping *x = &m->m[c / 2 % m->nm];

		iova = x->iova;
		size = x->size;
	} else {
		iova = iova_of(bi);
		size = size_of(bs, m->iommu == 1) * ((c >> 4) + 1);
	}
	for (i = 0; i < m->nm; i++) {
		struct mapping *x = &m->m[i];

		if (x->dma || !overlaps(iova, size, x->iova, x->size))
			continue;
		if ((iova > x->iova && iova < x->iova + x->size) ||
		    (iova + size > x->iova && iova + size < x->iova + x->size))
			cut = true;
	}
	ret = FZ64(siommu_domain_unmap, m->d, iova, size);
	if (m->type != SIOMMU_DOMAIN_PAGING) {
		FZ_WANT((int)ret, -EINVAL);
		return;
	}
	if ((iova | size) & (PG - 1)) {
		FZ_WANT((int)ret, -EINVAL);
		return;
	}
	if (iova + size > (1ull << m->ias)) {
		/*
		 * Beyond the domain's aperture: -ERANGE from the table, or, where
		 * the table is wider than the IOMMU (a caller's table), 0 bytes:
		 * the contract's "as siommu_pt_unmap()" (map refuses there, so
		 * nothing can be mapped).
		 */
		if (ret < 0) {
			FZ_CHECK(ret == -ERANGE || ret == -EINVAL, "beyond the aperture: %lld",
				 (long long)ret);
			return;
		}
		/* else as below: what was mapped below the aperture went */
	}
	if (ret == -EINVAL && cut)
		return;		/* a leaf straddles an end: nothing done */
	FZ_CHECK(ret >= 0, "unmap of [%#llx +%#llx]: %s", (unsigned long long)iova,
		 (unsigned long long)size, siommu_errname((int)ret));
	inside = shadow_sub(m, iova, size);
	if (!m->unknown)
		FZ_CHECK((uint64_t)ret == inside, "unmapped %lld bytes, the model %llu",
			 (long long)ret, (unsigned long long)inside);
	if (m->lazy && ret > 0)
		m->stale = true;
}

static void op_flush(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM;
	struct w_dom *m = &W.dom[s];

	if (m->kind == DK_FREE)
		return;
	FZ_WANT(FZ(siommu_domain_flush, m->d), 0);
	m->stale = false;
}

static void op_dma_map(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM;
	uint8_t bs = fz_u8(in), bp = fz_u8(in), pr = fz_u8(in);
	struct w_dom *m = &W.dom[s];
	bool host;
	uint64_t size, pa, iova = 0;
	unsigned int prot = (pr & 3) ? (pr & 3) : SIOMMU_PT_READ;
	int ret;

	if (m->kind != DK_PLAIN || m->nm >= N_MAP - 2)
		return;
	host = m->iommu == 1;
	size = (uint64_t)(bs % 8 + 1) * PG;
	pa = pa_of(bp, size, host);
	ret = FZ(siommu_domain_dma_map, m->d, pa, size, prot, UINT64_MAX, &iova);
	if (m->type != SIOMMU_DOMAIN_PAGING) {
		FZ_WANT(ret, -EINVAL);
		return;
	}
	if (!host && pa_revoked(pa, size)) {
		FZ_WANT(ret, -ENODEV);
		return;
	}
	if (ret == -ENOMEM && pool_short(siommu_domain_pt(m->d), UINT64_MAX, size))
		return;
	FZ_WANT(ret, 0);
	FZ_CHECK(!(iova & (PG - 1)) && iova >= PG && iova + size <= (1ull << m->ias),
		 "dma iova %#llx", (unsigned long long)iova);
	FZ_CHECK(!shadow_overlaps(m, iova, size), "dma_map gave a mapped IOVA %#llx",
		 (unsigned long long)iova);
	m->m[m->nm++] = (struct mapping){ .iova = iova, .pa = pa, .size = size, .prot = prot,
					  .dma = true };
}

static void op_dma_unmap(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM;
	uint8_t c = fz_u8(in);
	struct w_dom *m = &W.dom[s];
	unsigned int i, k = 0;
	int64_t ret;

	if (m->kind != DK_PLAIN)
		return;
	for (i = 0; i < m->nm; i++) {
		struct mapping *x = &m->m[(c + i) % m->nm];

		if (!x->dma)
			continue;
		k = (c + i) % m->nm;
		if (c & 0x80) {
			/* the wrong size: refused, nothing done */
			FZ_WANT((int)FZ64(siommu_domain_dma_unmap, m->d, x->iova, x->size + PG),
				-EINVAL);
			return;
		}
		ret = FZ64(siommu_domain_dma_unmap, m->d, x->iova, x->size);
		if (x->revoked)
			FZ_CHECK(ret >= 0, "dma_unmap after a revoke: %s", siommu_errname((int)ret));
		else
			FZ_CHECK((uint64_t)ret == x->size, "dma_unmap gave %lld for %llu",
				 (long long)ret, (unsigned long long)x->size);
		/* a second one is refused */
		FZ_WANT((int)FZ64(siommu_domain_dma_unmap, m->d, x->iova, x->size), -EINVAL);
		shadow_del(m, k);
		if (m->lazy)
			m->stale = true;
		return;
	}
	if (m->type == SIOMMU_DOMAIN_PAGING)
		FZ_WANT((int)FZ64(siommu_domain_dma_unmap, m->d, PG * 3, PG), -EINVAL);
}

/* ------------------------------------------------------------------ translate, DMA */

static void op_translate(struct fz_in *in)
{
	int di = fz_u8(in) % N_DEV;
	uint8_t c = fz_u8(in), bi = fz_u8(in), pick = fz_u8(in);
	int pidx = c % N_PASID, kind, want, ret;
	unsigned int access = (c >> 2) & SIOMMU_ACC_MASK, prot = 0;
	struct siommu_translation t;
	uint64_t iova, pa = 0;
	struct w_dev *d = &W.dev[di];

	if (!d->d)
		return;
	if (!access)
		access = SIOMMU_ACC_READ;
	iova = iova_of(bi) + (c & 0x40 ? 0x123 : 0);
	/* Often a mapped address of the attached domain. */
	if (d->att[pidx] > 0 && (pick & 1)) {
		struct w_dom *m = &W.dom[d->att[pidx] - 1];

		if (m->kind == DK_PLAIN && m->nm)
			iova = m->m[(pick >> 1) % m->nm].iova + ((pick & 0x80) ? PG : 0);
		else if (m->kind == DK_IOAS && W.ioas[m->ioas].nar)
			iova = W.ioas[m->ioas].ar[(pick >> 1) % W.ioas[m->ioas].nar].iova;
	}
	ret = FZ(siommu_translate, d->d, pasid_of(pidx), iova, access, &t);
	if (pidx && !(d->flags & SIOMMU_DEV_PASID))
		return;
	want = model_translate(di, pidx, iova, &pa, &prot, &kind);
	if (fz_trace)
		fprintf(stderr, "  translate %#llx: model %d pa %#llx prot %#x\n",
			(unsigned long long)iova, want, (unsigned long long)pa, prot);
	if (!kind) {
		FZ_WANT(ret, -ENODATA);
		return;
	}
	if (kind == SIOMMU_DOMAIN_BLOCKED) {
		FZ_WANT(ret, -EPERM);
		return;
	}
	if (want == 1) {
		bool simple = !(access & ~(SIOMMU_ACC_READ | SIOMMU_ACC_WRITE)) &&
			      !(prot & SIOMMU_PT_PRIV) &&
			      ((access & SIOMMU_ACC_READ) ? (prot & SIOMMU_PT_READ) : 1) &&
			      ((access & SIOMMU_ACC_WRITE) ? (prot & SIOMMU_PT_WRITE) : 1);

		if (kind == SIOMMU_DOMAIN_IDENTITY && ret == -ERANGE)
			return;
		if (simple)
			FZ_WANT(ret, 0);
		else
			FZ_CHECK(ret == 0 || ret == -EACCES, "a mapped address: %s",
				 siommu_errname(ret));
		if (!ret)
			FZ_CHECK(t.pa == pa, "translated %#llx to %#llx, the model %#llx",
				 (unsigned long long)iova, (unsigned long long)t.pa,
				 (unsigned long long)pa);
	} else if (want == 0) {
		FZ_CHECK(ret == -ENOENT || ret == -ERANGE, "an unmapped address %#llx: %s",
			 (unsigned long long)iova, siommu_errname(ret));
	}
}

/* Would a fault of (dev, pidx) be turned into a page request? */
static bool recoverable(int di, int pidx)
{
	struct w_dev *d = &W.dev[di];
	struct w_dom *m = dom_of_att(d->att[pidx]);

	if (!(d->flags & SIOMMU_DEV_PRI))
		return false;
	if (d->att[pidx] < 0 || (m && m->kind == DK_MIRROR))
		return true;		/* SVA and mirror handlers */
	return m && m->handler;
}

static void op_dma(struct fz_in *in)
{
	int di = fz_u8(in) % N_DEV;
	uint8_t c = fz_u8(in), bi = fz_u8(in), pick = fz_u8(in), len8 = fz_u8(in);
	int pidx = c % N_PASID, kind, want, ret;
	size_t len = (size_t)(len8 % 64) + 1;
	bool write = c & 4;
	struct w_dev *d = &W.dev[di];
	uint8_t buf[64], back[64];
	unsigned int prot = 0;
	uint64_t iova, pa = 0;

	if (!d->d)
		return;
	iova = iova_of(bi) + (pick & 0xf) * 8;
	if (d->att[pidx] > 0 && (pick & 0x10)) {
		struct w_dom *m = &W.dom[d->att[pidx] - 1];

		if (m->kind == DK_PLAIN && m->nm)
			iova = m->m[(pick >> 5) % m->nm].iova + (pick & 0xf) * 8;
		else if (m->kind == DK_IOAS && W.ioas[m->ioas].nar)
			iova = W.ioas[m->ioas].ar[(pick >> 5) % W.ioas[m->ioas].nar].iova;
	} else if (d->att[pidx] < 0 || (d->att[pidx] > 0 && W.dom[d->att[pidx] - 1].kind == DK_MIRROR)) {
		/* SVA or mirror: an address of the mm */
		int mi = d->att[pidx] < 0 ? W.sva[-d->att[pidx] - 1].mm : W.dom[d->att[pidx] - 1].mm;

		if (W.mm[mi].na)
			iova = W.mm[mi].a[pick % W.mm[mi].na].start + (pick & 0xf) * 8;
	}
	want = model_translate(di, pidx, iova, &pa, &prot, &kind);
	/* The host IOMMU reaches host memory: DMA only where the model knows it is ours. */
	if (d->iommu == 1 && kind == SIOMMU_DOMAIN_IDENTITY)
		return;
	if (d->iommu == 1 && want == -1 && d->att[pidx] > 0 && W.dom[d->att[pidx] - 1].kind != DK_MIRROR)
		return;		/* unknown mappings of a host domain (resolver, stale) */
	if (want == 1 && d->iommu == 1 &&
	    (pa < (uint64_t)(uintptr_t)arena || pa + len > (uint64_t)(uintptr_t)arena + ARENA) &&
	    !host_of_area(pa, PG - (pa & (PG - 1))))
		fz_die("the model maps %#llx outside the arena and the areas' files",
		       (unsigned long long)pa);
	if (want == 1 && (iova & (PG - 1)) + len > PG)
		len = PG - (iova & (PG - 1));
	memset(buf, (int)(c ^ bi ^ len8), sizeof(buf));
	if (write)
		ret = FZ_MMIO(siommu_dma_write, d->d, pasid_of(pidx), iova, buf, len);
	else
		ret = FZ_MMIO(siommu_dma_read, d->d, pasid_of(pidx), iova, back, len);
	if (ret == -EAGAIN) {
		FZ_CHECK(recoverable(di, pidx), "-EAGAIN without a fault handler");
		if (d->enabled)
			d->expected++;
		return;
	}
	if (pidx && !(d->flags & SIOMMU_DEV_PASID))
		return;
	if (!kind) {
		FZ_WANT(ret, -ENODATA);
		return;
	}
	if (kind == SIOMMU_DOMAIN_BLOCKED) {
		FZ_WANT(ret, -EPERM);
		return;
	}
	if (want == 0 && !recoverable(di, pidx))
		FZ_CHECK(ret == -ENOENT || ret == -ERANGE, "DMA at an unmapped %#llx: %s",
			 (unsigned long long)iova, siommu_errname(ret));
	if (want == 1 && !ret && write) {
		/* The bytes are where the model says. */
		if (d->iommu == 1) {
			FZ_CHECK(!memcmp((void *)(uintptr_t)pa, buf, len), "DMA write at %#llx",
				 (unsigned long long)iova);
			file_check((const uint8_t *)(uintptr_t)pa, buf, len, "DMA write");
		} else if (pa_ram(pa, len)) {
			FZ_WANT(FZ_MMIO(siommu_mem_rw, W.mem, pa, back, len, false), 0);
			FZ_CHECK(!memcmp(back, buf, len), "DMA write reaches pa %#llx",
				 (unsigned long long)pa);
		}
	}
	if (want == 1 && ret == 0 && !write && d->iommu == 1)
		FZ_CHECK(!memcmp((void *)(uintptr_t)pa, back, len), "DMA read at %#llx",
			 (unsigned long long)iova);
	if (want == 1 && d->iommu == 0 && pa_ram(pa, len) && (prot & SIOMMU_PT_READ) &&
	    (prot & SIOMMU_PT_WRITE) && !(prot & SIOMMU_PT_PRIV) && kind == SIOMMU_DOMAIN_PAGING)
		FZ_WANT(ret, 0);
	/* SVA and mirror: what the device wrote the CPU reads. */
	if (!ret && write && d->att[pidx] && want == -1) {
		int mi = -1;

		if (d->att[pidx] < 0 && !W.sva[-d->att[pidx] - 1].released)
			mi = W.sva[-d->att[pidx] - 1].mm;
		else if (d->att[pidx] > 0 && W.dom[d->att[pidx] - 1].kind == DK_MIRROR)
			mi = W.dom[d->att[pidx] - 1].mm;
		if (mi >= 0 && !W.mm[mi].dead) {
			ret = FZ(siommu_mm_read, W.mm[mi].mm, iova, back, len);
			if (!ret)
				FZ_CHECK(!memcmp(back, buf, len), "the mm reads what DMA wrote at %#llx",
					 (unsigned long long)iova);
		}
	}
}

/* ------------------------------------------------------------------ iopf */

static void op_iopf_create(struct fz_in *in)
{
	int io = fz_u8(in) % N_IOMMU;
	uint8_t c = fz_u8(in);
	struct siommu_iopf_cfg cfg = { .drain_timeout_ms = SIOMMU_IOPF_DRAIN_NOWAIT };
	int ret;

	if (!W.io[io].i || W.io[io].iopf)
		return;
	cfg.mode = (c & 1) ? SIOMMU_IOPF_MODE_MANUAL : SIOMMU_IOPF_MODE_INLINE;
	if (c & 0x80) {
		cfg.drain_timeout_ms = 70000;
		FZ_WANT(FZ(siommu_iopf_create, W.io[io].i, &cfg, &W.io[io].iopf), -EINVAL);
		W.io[io].iopf = NULL;
		return;
	}
	ret = FZ(siommu_iopf_create, W.io[io].i, &cfg, &W.io[io].iopf);
	FZ_WANT(ret, 0);
	W.io[io].mode = cfg.mode;
}

static bool iopf_busy(int io)
{
	int i;

	for (i = 0; i < N_DEV; i++)
		if (W.dev[i].d && W.dev[i].iommu == io && W.dev[i].enabled)
			return true;
	for (i = 0; i < N_DOM; i++)
		if (W.dom[i].kind != DK_FREE && W.dom[i].iommu == io && W.dom[i].handler)
			return true;
	for (i = 0; i < N_FQ; i++)
		if (W.fq[i].q && W.fq[i].iommu == io)
			return true;
	return false;
}

static void op_iopf_destroy(struct fz_in *in)
{
	int io = fz_u8(in) % N_IOMMU;
	int ret;

	if (!W.io[io].iopf)
		return;
	/* SVA bindings and mirrors handed to iopf are not tracked: leave those worlds alone */
	ret = FZ(siommu_iopf_destroy, W.io[io].iopf);
	if (iopf_busy(io))
		FZ_WANT(ret, -EBUSY);
	else if (ret != -EBUSY)
		FZ_WANT(ret, 0);
	if (!ret)
		W.io[io].iopf = NULL;
}

static void check_responses(int di)
{
	struct w_dev *d = &W.dev[di];

	if (d->rec.n != d->expected)
		fz_die("device %d got %u responses (%u success, %u invalid, %u failure) for %u "
		       "groups: every group must be answered exactly once", di, d->rec.n,
		       d->rec.success, d->rec.invalid, d->rec.failure, d->expected);
}

static void op_iopf_enable(struct fz_in *in)
{
	int di = fz_u8(in) % N_DEV;
	struct w_dev *d = &W.dev[di];
	struct fz_exp x = { 0 };
	int ret;

	if (!d->d || !W.io[d->iommu].iopf)
		return;
	if (!(d->flags & SIOMMU_DEV_PRI))
		fz_exp_add(&x, -EINVAL);
	if (d->enabled)
		fz_exp_add(&x, -EEXIST);
	if (!d->enabled)
		memset(&d->rec, 0, sizeof(d->rec));
	ret = FZ(siommu_iopf_device_enable, W.io[d->iommu].iopf, d->d, rec_fn, &d->rec);
	fz_exp_check(&x, ret);
	if (!ret) {
		d->enabled = true;
		d->expected = 0;
	}
}

static void op_iopf_disable(struct fz_in *in)
{
	int di = fz_u8(in) % N_DEV;
	struct w_dev *d = &W.dev[di];
	int ret;

	if (!d->d || !W.io[d->iommu].iopf)
		return;
	ret = FZ(siommu_iopf_device_disable, W.io[d->iommu].iopf, d->d);
	FZ_WANT(ret, d->enabled ? 0 : -ENOENT);
	if (ret)
		return;
	d->enabled = false;
	check_responses(di);
}

static void op_report(struct fz_in *in)
{
	int di = fz_u8(in) % N_DEV;
	uint8_t c = fz_u8(in), g = fz_u8(in), a = fz_u8(in);
	struct w_dev *d = &W.dev[di];
	struct siommu_page_request r = { 0 };
	int pidx = c % N_PASID, ret;

	if (!d->d || !W.io[d->iommu].iopf)
		return;
	r.addr = iova_of(a) + 0x10;
	r.access = (c >> 2) & 0xf;
	if ((c & 0x40) && !r.access)
		r.access = 0x10;	/* an unknown access bit */
	if (pidx) {
		r.flags |= SIOMMU_PRQ_PASID;
		r.pasid = (c & 0x80) ? (1u << 20) : (uint32_t)pidx;
	}
	if (!(g & 0x80))
		r.flags |= SIOMMU_PRQ_LAST;
	if (g & 0x40)
		r.flags |= SIOMMU_PRQ_PRIV_DATA;
	r.prgi = (uint16_t)((g & 0x20) ? SIOMMU_PRGI_MAX + 1 : (g & 7));
	r.private_data[0] = a;
	ret = FZ(siommu_iopf_report, W.io[d->iommu].iopf, d->d, &r);
	if (!d->enabled)
		FZ_CHECK(ret == -ENODEV || ret == -EINVAL, "a disabled device's report: %s",
			 siommu_errname(ret));
	if (ret >= 0 && (r.flags & SIOMMU_PRQ_LAST) && !siommu_page_request_is_stop(&r))
		d->expected++;
	if (ret >= 0 && ((r.access & ~SIOMMU_ACC_MASK) || r.prgi > SIOMMU_PRGI_MAX ||
			 (pidx && r.pasid >= (1u << 20))))
		fz_die("a bad request was accepted");
}

static void op_process(struct fz_in *in)
{
	int io = fz_u8(in) % N_IOMMU, ret;
	unsigned int max = fz_u8(in) % 4;

	if (!W.io[io].iopf)
		return;
	ret = FZ(siommu_iopf_process, W.io[io].iopf, max);
	if (W.io[io].mode != SIOMMU_IOPF_MODE_MANUAL)
		FZ_WANT(ret, -EINVAL);
	else
		FZ_CHECK(ret >= 0 && (!max || ret <= (int)max), "processed %d of %u", ret, max);
}

static void op_respond(struct fz_in *in)
{
	int di = fz_u8(in) % N_DEV;
	uint8_t c = fz_u8(in);
	struct w_dev *d = &W.dev[di];
	struct siommu_page_response r = { .prgi = c & 7 };
	int ret;

	if (!d->d || !W.io[d->iommu].iopf)
		return;
	r.code = (c & 0x80) ? 7 : ((c & 0x40) ? SIOMMU_PAGE_RESP_INVALID : SIOMMU_PAGE_RESP_SUCCESS);
	if (c & 0x20) {
		r.flags = SIOMMU_PRQ_PASID;
		r.pasid = (c >> 3) & 3;
	}
	ret = FZ(siommu_iopf_respond, W.io[d->iommu].iopf, d->d, &r);
	if (r.code == 7)
		FZ_CHECK(ret == -EINVAL || ret == -ENODEV, "a bad code: %s", siommu_errname(ret));
	else if (!d->enabled)
		FZ_WANT(ret, -ENODEV);
}

static void op_group_respond(struct fz_in *in)
{
	uint8_t c = fz_u8(in);
	unsigned int k;
	int ret;

	if (!W.nheld)
		return;
	k = c % W.nheld;
	if (c & 0x80) {
		FZ_WANT(FZ(siommu_iopf_group_respond, W.held[k], (enum siommu_page_resp_code)5),
			-EINVAL);
		return;
	}
	ret = FZ(siommu_iopf_group_respond, W.held[k],
		 (c & 1) ? SIOMMU_PAGE_RESP_INVALID : SIOMMU_PAGE_RESP_SUCCESS);
	FZ_CHECK(ret == 0 || ret == -ECANCELED, "group respond: %s", siommu_errname(ret));
	W.held[k] = W.held[--W.nheld];
	W.held_dom[k] = W.held_dom[W.nheld];
}

static void op_drain(struct fz_in *in)
{
	int di = fz_u8(in) % N_DEV, pidx = fz_u8(in) % N_PASID, ret;
	struct w_dev *d = &W.dev[di];

	if (!d->d || !W.io[d->iommu].iopf)
		return;
	ret = FZ(siommu_iopf_drain, W.io[d->iommu].iopf, d->d, pasid_of(pidx));
	if (!d->enabled)
		FZ_WANT(ret, -ENODEV);
	else
		FZ_CHECK(ret >= 0 || (pidx && !(d->flags & SIOMMU_DEV_PASID)),
			 "drain: %s", siommu_errname(ret));
}

static void op_clear_overflow(struct fz_in *in)
{
	int io = fz_u8(in) % N_IOMMU, ret;

	if (!W.io[io].iopf)
		return;
	ret = FZ(siommu_iopf_clear_overflow, W.io[io].iopf);
	FZ_CHECK(ret == 0 || ret == 1, "clear overflow: %d", ret);
}

static void op_set_handler(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM;
	uint8_t c = fz_u8(in);
	struct w_dom *m = &W.dom[s];
	struct siommu_iopf *iopf;
	int kind = c % 3 + 1, ret;
	struct fz_exp x = { 0 };
	static const int hret[] = { SIOMMU_PAGE_RESP_SUCCESS, SIOMMU_PAGE_RESP_INVALID,
				    SIOMMU_PAGE_RESP_FAILURE, SIOMMU_IOPF_ASYNC, -ENOMEM };

	if (m->kind == DK_FREE || !W.io[m->iommu].iopf)
		return;
	iopf = W.io[m->iommu].iopf;
	if (m->type != SIOMMU_DOMAIN_PAGING)
		fz_exp_add(&x, -EINVAL);
	if (m->handler || m->kind == DK_MIRROR)
		fz_exp_add(&x, -EBUSY);
	if (kind == 1) {
		m->hret = hret[(c >> 2) % 5];
		ret = FZ(siommu_iopf_domain_set_handler, iopf, m->d, &h_ops, m);
	} else if (kind == 2) {
		int q = (c >> 2) % N_FQ;

		if (!W.fq[q].q || W.fq[q].iommu != m->iommu)
			return;
		ret = FZ(siommu_fault_queue_set_domain, W.fq[q].q, m->d);
		if (!ret) {
			m->fq = q;
			W.fq[q].domains++;
		}
	} else {
		int a = (c >> 2) % N_IOAS;

		if (!W.ioas[a].a)
			return;
		if (W.io[m->iommu].mode == SIOMMU_IOPF_MODE_INLINE)
			fz_exp_add(&x, -EINVAL);
		ret = FZ(siommu_iopf_domain_set_resolver, iopf, m->d, W.ioas[a].a);
	}
	fz_exp_check(&x, ret);
	if (ret)
		return;
	m->handler = kind;
	if (kind == 3)
		m->unknown = true;	/* the resolver maps behind the model */
}

static void op_clear_handler(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM;
	struct w_dom *m = &W.dom[s];
	int ret;

	if (m->kind == DK_FREE || !W.io[m->iommu].iopf || m->kind == DK_MIRROR)
		return;
	ret = FZ(siommu_iopf_domain_clear_handler, W.io[m->iommu].iopf, m->d);
	if (m->type != SIOMMU_DOMAIN_PAGING)
		FZ_CHECK(ret == -EINVAL || ret == -ENOENT, "clear on a non-paging domain: %s",
			 siommu_errname(ret));
	else if (!m->handler)
		FZ_WANT(ret, -ENOENT);
	else
		FZ_WANT(ret, m->users ? -EBUSY : 0);
	if (ret)
		return;
	if (m->handler == 2)
		W.fq[m->fq].domains--;
	m->handler = 0;
}

/* ------------------------------------------------------------------ fault queues */

static void op_fq_create(struct fz_in *in)
{
	int s = fz_u8(in) % N_FQ, io = fz_u8(in) % N_IOMMU;

	if (W.fq[s].q || !W.io[io].iopf)
		return;
	FZ_WANT(FZ(siommu_fault_queue_create, W.io[io].iopf, &W.fq[s].q), 0);
	W.fq[s].iommu = io;
	FZ_CHECK(siommu_fault_queue_fd(W.fq[s].q) >= 0, "a descriptor");
}

static void op_fq_read(struct fz_in *in)
{
	int s = fz_u8(in) % N_FQ;
	size_t len = (size_t)fz_u8(in) * 7;
	struct siommu_fault_queue_record rec[64];
	struct w_fq *q = &W.fq[s];
	ssize_t ret;
	size_t i;

	if (!q->q)
		return;
	if (len > sizeof(rec))
		len = sizeof(rec);
	ret = FZ64(siommu_fault_queue_read, q->q, rec, len);
	if (q->closed) {
		FZ_WANT((int)ret, -EBADF);
		return;
	}
	FZ_CHECK(ret >= 0 && (size_t)ret <= len && ret % sizeof(rec[0]) == 0, "read %zd of %zu",
		 ret, len);
	for (i = 0; i < (size_t)ret / sizeof(rec[0]); i++) {
		struct siommu_fault_queue_record *r = &rec[i];

		FZ_CHECK(r->reserved == 0, "reserved");
		FZ_CHECK(r->cookie > q->last_cookie ||
			 (i && r->cookie == rec[i - 1].cookie), "cookies are fresh: %u after %u",
			 r->cookie, q->last_cookie);
		if (r->flags & SIOMMU_FQ_LAST_PAGE) {
			if (q->ncookie < N_COOKIE)
				q->cookie[q->ncookie++] = r->cookie;
			q->last_cookie = r->cookie;
		}
	}
	if (ret > 0)
		FZ_CHECK(rec[ret / sizeof(rec[0]) - 1].flags & SIOMMU_FQ_LAST_PAGE,
			 "whole groups only");
}

static void op_fq_write(struct fz_in *in)
{
	int s = fz_u8(in) % N_FQ;
	uint8_t c = fz_u8(in), n = fz_u8(in) % 4 + 1;
	struct siommu_fault_queue_response r[4];
	struct w_fq *q = &W.fq[s];
	unsigned int i, good = 0;
	size_t len;
	ssize_t ret;

	if (!q->q)
		return;
	for (i = 0; i < n; i++) {
		uint8_t b = fz_u8(in);

		r[i].code = (b & 1) ? SIOMMU_PAGE_RESP_INVALID : SIOMMU_PAGE_RESP_SUCCESS;
		if (b & 2)
			r[i].code = b;		/* maybe a bad code */
		if ((b & 4) && q->ncookie)
			r[i].cookie = q->cookie[(b >> 3) % q->ncookie];
		else
			r[i].cookie = q->last_cookie + 1 + b;	/* never handed out */
	}
	len = n * sizeof(r[0]);
	if (c & 1)
		len -= 3;		/* not a multiple of the response size */
	ret = FZ64(siommu_fault_queue_write, q->q, r, len);
	if (c & 1) {
		FZ_WANT((int)ret, -EINVAL);
		return;
	}
	if (q->closed) {
		if (r[0].code != SIOMMU_PAGE_RESP_SUCCESS && r[0].code != SIOMMU_PAGE_RESP_INVALID)
			FZ_CHECK(ret == -EINVAL || ret == -EBADF, "a bad code to a closed queue");
		else
			FZ_WANT((int)ret, -EBADF);
		return;
	}
	/* The model: responses are taken in order until the first bad one. */
	for (i = 0; i < n; i++) {
		unsigned int k;
		bool known = false;

		if (r[i].code != SIOMMU_PAGE_RESP_SUCCESS && r[i].code != SIOMMU_PAGE_RESP_INVALID)
			break;
		for (k = 0; k < q->ncookie; k++)
			if (q->cookie[k] == r[i].cookie) {
				q->cookie[k] = q->cookie[--q->ncookie];
				known = true;
				break;
			}
		if (!known)
			break;
		good++;
	}
	if (good)
		FZ_CHECK(ret == (ssize_t)(good * sizeof(r[0])), "wrote %zd, the model %u responses",
			 ret, good);
	else if (i < n && r[i].code != SIOMMU_PAGE_RESP_SUCCESS && r[i].code != SIOMMU_PAGE_RESP_INVALID)
		FZ_WANT((int)ret, -EINVAL);
	else
		FZ_WANT((int)ret, -ENOENT);
}

static void op_fq_close(struct fz_in *in)
{
	int s = fz_u8(in) % N_FQ;
	struct w_fq *q = &W.fq[s];

	if (!q->q)
		return;
	FZ_CHECK(FZ(siommu_fault_queue_close, q->q) >= 0, "close");
	q->closed = true;
	q->ncookie = 0;
}

static void op_fq_destroy(struct fz_in *in)
{
	int s = fz_u8(in) % N_FQ;
	struct w_fq *q = &W.fq[s];
	int ret;

	if (!q->q)
		return;
	ret = FZ(siommu_fault_queue_destroy, q->q);
	FZ_WANT(ret, q->domains ? -EBUSY : 0);
	if (!ret)
		memset(q, 0, sizeof(*q));
}

/* ------------------------------------------------------------------ ioas */

static void op_ioas_layer(struct fz_in *in)
{
	int io = fz_u8(in) % N_IOMMU, i, ret;
	bool busy = false;

	if (!W.io[io].i)
		return;
	if (!W.io[io].layer) {
		FZ_WANT(FZ(siommu_ioas_layer_create, W.ctx, W.io[io].i, &W.io[io].layer), 0);
		return;
	}
	for (i = 0; i < N_IOAS; i++)
		if (W.ioas[i].a && W.ioas[i].iommu == io)
			busy = true;
	ret = FZ(siommu_ioas_layer_destroy, W.io[io].layer);
	FZ_WANT(ret, busy ? -EBUSY : 0);
	if (!ret)
		W.io[io].layer = NULL;
}

static void op_ioas_create(struct fz_in *in)
{
	int s = fz_u8(in) % N_IOAS, io = fz_u8(in) % N_IOMMU, i, ret;
	struct w_ioas *a = &W.ioas[s];
	bool busy = false;

	if (!a->a) {
		if (!W.io[io].layer)
			return;
		FZ_WANT(FZ(siommu_ioas_create, W.io[io].layer, &a->a), 0);
		a->iommu = io;
		FZ_WANT(FZ(siommu_ioas_set_unmap_retries, a->a, 2), 0);
		return;
	}
	for (i = 0; i < N_DOM; i++)
		if (W.dom[i].kind == DK_IOAS && W.dom[i].ioas == s)
			busy = true;
	for (i = 0; i < N_ACC; i++)
		if (W.acc[i].a && W.acc[i].ioas == s)
			busy = true;
	ret = FZ(siommu_ioas_destroy, a->a);
	FZ_WANT(ret, busy ? -EBUSY : 0);
	if (ret)
		return;
	for (i = 0; i < (int)a->nar; i++)
		if (a->ar[i].reg >= 0)
			W.reg[a->ar[i].reg].areas--;
	memset(a, 0, sizeof(*a));
}

/* The lowest ias of the IOAS's attached domains (64 if none). */
static unsigned int ioas_aperture(int s)
{
	unsigned int ias = 64;
	int i;

	for (i = 0; i < N_DOM; i++)
		if (W.dom[i].kind == DK_IOAS && W.dom[i].ioas == s && W.dom[i].users &&
		    W.dom[i].ias < ias)
			ias = W.dom[i].ias;
	return ias;
}

static bool ioas_reserved(struct w_ioas *a, uint64_t iova, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < a->nres; i++)
		if (overlaps(iova, len, a->res[i].start, a->res[i].last - a->res[i].start + 1))
			return true;
	return false;
}

static bool ioas_overlaps(struct w_ioas *a, uint64_t iova, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < a->nar; i++)
		if (overlaps(iova, len, a->ar[i].iova, a->ar[i].len))
			return true;
	return false;
}

/* Is [iova, iova + len) inside one range of the allowed set (anywhere, without one)? */
static bool ioas_allowed(struct w_ioas *a, uint64_t iova, uint64_t len)
{
	unsigned int i;

	if (!a->nallow)
		return true;
	for (i = 0; i < a->nallow; i++)
		if (iova >= a->allow[i].start && iova + len - 1 <= a->allow[i].last)
			return true;
	return false;
}

static bool ioas_allow_overlaps(struct w_ioas *a, uint64_t start, uint64_t last)
{
	unsigned int i;

	for (i = 0; i < a->nallow; i++)
		if (start <= a->allow[i].last && a->allow[i].start <= last)
			return true;
	return false;
}

/*
 * What siommu_ioas_iova_ranges() must say for IOAS @s: the allowed set
 * (everything without one) minus the reserved ranges (the caller's and,
 * while a domain of the IOAS is attached, what lies beyond the narrowest
 * aperture), ascending; the first @max in @out, the count returned.
 */
static unsigned int model_ranges(int s, struct siommu_ioas_range *out, unsigned int max)
{
	struct w_ioas *a = &W.ioas[s];
	struct siommu_ioas_range all = { 0, UINT64_MAX }, res[N_RES + 1];
	const struct siommu_ioas_range *al = a->nallow ? a->allow : &all;
	unsigned int nal = a->nallow ? a->nallow : 1, nres = a->nres, ias = ioas_aperture(s);
	unsigned int i, j, n = 0;

	memcpy(res, a->res, nres * sizeof(res[0]));
	if (ias < 64)
		res[nres++] = (struct siommu_ioas_range){ 1ull << ias, UINT64_MAX };
	for (i = 0; i < nal; i++) {
		uint64_t cur = al[i].start;
		bool done = false;

		for (;;) {
			const struct siommu_ioas_range *r = NULL;

			for (j = 0; j < nres; j++)
				if (res[j].last >= cur && res[j].start <= al[i].last &&
				    (!r || res[j].start < r->start))
					r = &res[j];
			if (!r)
				break;
			if (r->start > cur) {
				if (n < max)
					out[n] = (struct siommu_ioas_range){ cur, r->start - 1 };
				n++;
			}
			if (r->last >= al[i].last) {
				done = true;
				break;
			}
			cur = r->last + 1;
		}
		if (!done) {
			if (n < max)
				out[n] = (struct siommu_ioas_range){ cur, al[i].last };
			n++;
		}
	}
	return n;
}

/*
 * Where a map of @len bytes (< 2 MiB: only the 4 KiB alignment applies) of
 * IOAS @s without FIXED_IOVA must go: the lowest hole of the ranges above
 * with no area.  false: none (-ENOSPC).
 */
static bool model_hole(int s, uint64_t len, uint64_t *iova)
{
	struct w_ioas *a = &W.ioas[s];
	struct siommu_ioas_range r[32];
	unsigned int n = model_ranges(s, r, 32), i, k;

	FZ_CHECK(n <= 32, "%u ranges", n);
	for (i = 0; i < n; i++) {
		uint64_t cur = r[i].start;

		while (cur >= r[i].start && cur <= r[i].last && r[i].last - cur >= len - 1) {
			bool hit = false;

			for (k = 0; k < a->nar; k++)
				if (overlaps(cur, len, a->ar[k].iova, a->ar[k].len)) {
					cur = a->ar[k].iova + a->ar[k].len;
					hit = true;
					break;
				}
			if (!hit) {
				*iova = cur;
				return true;
			}
		}
	}
	return false;
}

/* The IOAS's own count of areas and bytes must be the model's. */
static void ioas_check_info(int s)
{
	struct w_ioas *a = &W.ioas[s];
	struct siommu_ioas_info info;
	uint64_t bytes = 0;
	unsigned int k;

	for (k = 0; k < a->nar; k++)
		bytes += a->ar[k].len;
	FZ_WANT(FZ(siommu_ioas_get_info, a->a, &info), 0);
	FZ_CHECK(info.areas == a->nar && info.mapped_bytes == bytes,
		 "IOAS %d: %llu areas of %llu bytes, the model %u of %llu", s,
		 (unsigned long long)info.areas, (unsigned long long)info.mapped_bytes, a->nar,
		 (unsigned long long)bytes);
}

static void op_ioas_map(struct fz_in *in)
{
	int s = fz_u8(in) % N_IOAS;
	uint8_t c = fz_u8(in), bi = fz_u8(in), bo = fz_u8(in), bl = fz_u8(in);
	struct w_ioas *a = &W.ioas[s];
	struct siommu_ioas_mem mem = { 0 };
	uint64_t len = (uint64_t)(bl % 8 + 1) * PG, off = (uint64_t)bo * PG, iova = 0, hole = 0;
	unsigned int flags = (c & 3) ? (c & 3) : SIOMMU_IOAS_MAP_READ, ias;
	struct fz_exp x = { 0 };
	bool fixed = c & 4;
	int reg = -1, ret;

	if (!a->a || a->nar >= N_AREA)
		return;
	if ((c & 8) && a->iommu == 0) {
		reg = (c >> 4) % N_REG;
		if (!W.reg[reg].r)
			return;
		mem.type = SIOMMU_IOAS_MEM_REGION;
		mem.mem = W.mem;
		mem.region = W.reg[reg].r;
		mem.offset = off % (W.reg[reg].size + 2 * PG);
		if (W.reg[reg].type == SIOMMU_MEM_MMIO || mem.offset + len > W.reg[reg].size)
			fz_exp_add(&x, -EINVAL);
		if (W.reg[reg].revoked)
			fz_exp_add(&x, -ENODEV);
	} else {
		mem.type = SIOMMU_IOAS_MEM_HOST;
		if (off + len > ARENA)
			off = 0;
		mem.host = arena + off;
		if (c & 0x40) {
			mem.flags = SIOMMU_IOAS_MEM_READONLY;
			if (flags & SIOMMU_IOAS_MAP_WRITE)
				fz_exp_add(&x, -EPERM);
		}
	}
	if (fixed) {
		flags |= SIOMMU_IOAS_MAP_FIXED_IOVA;
		iova = iova_of(bi);
		if (c & 0x80)
			iova += 0x800;
		if (iova & (PG - 1))
			fz_exp_add(&x, -EINVAL);
		else if (ioas_overlaps(a, iova, len))
			fz_exp_add(&x, -EEXIST);
		if (ioas_reserved(a, iova, len) || !ioas_allowed(a, iova, len))
			fz_exp_add(&x, -EINVAL);
	} else if (!model_hole(s, len, &hole))
		fz_exp_add(&x, -ENOSPC);
	ias = ioas_aperture(s);
	if (fixed && ias < 64 && iova + len > (1ull << ias))
		fz_exp_add(&x, -EINVAL);
	if (!x.n && ioas_pool_short(s, fixed ? iova : UINT64_MAX, len))
		fz_exp_add(&x, -ENOMEM);	/* or 0 */
	ret = FZ(siommu_ioas_map, a->a, &mem, len, flags, &iova);
	if (!ret && x.n == 1 && x.e[0] == -ENOMEM)
		x.n = 0;
	fz_exp_check(&x, ret);
	if (!ret && !fixed)
		FZ_CHECK(iova == hole, "a map of %llu bytes went to %#llx, the lowest hole is %#llx",
			 (unsigned long long)len, (unsigned long long)iova, (unsigned long long)hole);
	if (ret == -ENOMEM && fixed) {
		struct siommu_ioas_area_info info;

		/* a failed map left nothing behind */
		FZ_CHECK(FZ(siommu_ioas_area_find, a->a, iova, &info) < 0 || ioas_overlaps(a, iova, len),
			 "an area at %#llx after its map failed", (unsigned long long)iova);
	}
	if (ret)
		return;
	FZ_CHECK(!ioas_overlaps(a, iova, len) && !(iova & (PG - 1)), "the new area at %#llx",
		 (unsigned long long)iova);
	FZ_CHECK(!ioas_reserved(a, iova, len), "an area in a reserved range");
	a->ar[a->nar++] = (struct w_area){
		.iova = iova, .len = len, .flags = flags & 3, .reg = reg,
		.host = reg < 0 ? mem.host : NULL,
		.pa = reg < 0 ? (uint64_t)(uintptr_t)mem.host : W.reg[reg].pa + mem.offset,
	};
	if (reg >= 0)
		W.reg[reg].areas++;
	{
		struct siommu_ioas_area_info info;

		FZ_WANT(FZ(siommu_ioas_area_find, a->a, iova, &info), 0);
		FZ_CHECK(info.iova == iova && info.length == len && info.pa == a->ar[a->nar - 1].pa,
			 "area info");
	}
}

/* Pins of accesses of @s inside [iova, iova + len): any by an access that will not let go? */
static bool ioas_stuck_pins(int s, uint64_t iova, uint64_t len)
{
	int i;
	unsigned int k;

	for (i = 0; i < N_ACC; i++) {
		struct w_acc *c = &W.acc[i];

		if (!c->a || c->ioas != s || c->kind == AK_CB)
			continue;
		for (k = 0; k < c->npin; k++)
			if (overlaps(iova, len, c->pin[k].iova, c->pin[k].len))
				return true;
	}
	return false;
}

static void ioas_del_area(struct w_ioas *a, unsigned int k)
{
	if (a->ar[k].reg >= 0)
		W.reg[a->ar[k].reg].areas--;
	a->ar[k] = a->ar[--a->nar];
}

static void op_ioas_unmap(struct fz_in *in)
{
	int s = fz_u8(in) % N_IOAS;
	uint8_t c = fz_u8(in), bi = fz_u8(in);
	struct w_ioas *a = &W.ioas[s];
	uint64_t iova, len, unmapped = 0, want = 0;
	unsigned int k;
	bool any = false, cross = false;
	int ret;

	if (!a->a)
		return;
	if ((c & 3) == 3) {
		bool stuck = ioas_stuck_pins(s, 0, UINT64_MAX);

		ret = FZ(siommu_ioas_unmap_all, a->a, &unmapped);
		FZ_WANT(ret, stuck ? -EBUSY : 0);
		if (!ret) {
			for (k = 0; k < a->nar; k++)
				want += a->ar[k].len;
			FZ_CHECK(unmapped == want, "unmap_all %llu of %llu",
				 (unsigned long long)unmapped, (unsigned long long)want);
			while (a->nar)
				ioas_del_area(a, 0);
		}
		return;
	}
	if ((c & 1) && a->nar) {
		iova = a->ar[(c >> 2) % a->nar].iova;
		len = a->ar[(c >> 2) % a->nar].len;
	} else {
		iova = iova_of(bi);
		len = (uint64_t)((c >> 2) % 16 + 1) * PG;
	}
	for (k = 0; k < a->nar; k++) {
		struct w_area *ar = &a->ar[k];

		if (!overlaps(iova, len, ar->iova, ar->len))
			continue;
		any = true;
		if (ar->iova < iova || ar->iova + ar->len > iova + len)
			cross = true;
		want += ar->len;
	}
	ret = FZ(siommu_ioas_unmap, a->a, iova, len, &unmapped);
	if (!any || cross)
		FZ_WANT(ret, -ENOENT);
	else
		FZ_WANT(ret, ioas_stuck_pins(s, iova, len) ? -EBUSY : 0);
	if (ret)
		return;
	FZ_CHECK(unmapped == want, "unmapped %llu, the model %llu", (unsigned long long)unmapped,
		 (unsigned long long)want);
	k = 0;
	while (k < a->nar)
		if (overlaps(iova, len, a->ar[k].iova, a->ar[k].len))
			ioas_del_area(a, k);
		else
			k++;
}

static void op_ioas_copy(struct fz_in *in)
{
	int d = fz_u8(in) % N_IOAS, s = fz_u8(in) % N_IOAS;
	uint8_t c = fz_u8(in);
	struct w_ioas *src = &W.ioas[s], *dst = &W.ioas[d];
	struct w_area *ar;
	uint64_t iova = 0, hole = 0;
	unsigned int flags = (c & 3) ? (c & 3) : SIOMMU_IOAS_MAP_READ;
	struct fz_exp x = { 0 };
	int ret;

	if (!src->a || !dst->a || !src->nar || dst->nar >= N_AREA)
		return;
	ar = &src->ar[(c >> 2) % src->nar];
	if (dst->iommu != src->iommu) {
		/* IOASes of two layers (iommufd contexts): refused, whatever the memory */
		FZ_WANT(FZ(siommu_ioas_copy, dst->a, &iova, src->a, ar->iova, ar->len, flags),
			-EINVAL);
		ioas_check_info(d);
		return;
	}
	if ((flags & SIOMMU_IOAS_MAP_WRITE) && !(ar->flags & SIOMMU_IOAS_MAP_WRITE))
		fz_exp_add(&x, -EPERM);
	if (ar->revoked)
		fz_exp_add(&x, -ENODEV);
	if (!model_hole(d, ar->len, &hole))
		fz_exp_add(&x, -ENOSPC);
	if (!x.n && ioas_pool_short(d, UINT64_MAX, ar->len))
		fz_exp_add(&x, -ENOMEM);	/* or 0 */
	ret = FZ(siommu_ioas_copy, dst->a, &iova, src->a, ar->iova, ar->len, flags);
	if (!ret && x.n == 1 && x.e[0] == -ENOMEM)
		x.n = 0;
	fz_exp_check(&x, ret);
	if (ret)
		return;
	FZ_CHECK(iova == hole, "a copy of %llu bytes went to %#llx, the lowest hole is %#llx",
		 (unsigned long long)ar->len, (unsigned long long)iova, (unsigned long long)hole);
	FZ_CHECK(!ioas_overlaps(dst, iova, ar->len), "copy into an area");
	dst->ar[dst->nar] = *ar;
	dst->ar[dst->nar].iova = iova;
	dst->ar[dst->nar].flags = flags;
	if (ar->reg >= 0)
		W.reg[ar->reg].areas++;
	dst->nar++;
}

static void op_ioas_reserve(struct fz_in *in)
{
	int s = fz_u8(in) % N_IOAS;
	uint8_t c = fz_u8(in), bi = fz_u8(in);
	struct w_ioas *a = &W.ioas[s];
	uint64_t start, last;
	unsigned int k;
	int ret;

	if (!a->a)
		return;
	if ((c & 1) && a->nres) {
		k = (c >> 1) % a->nres;
		FZ_WANT(FZ(siommu_ioas_unreserve, a->a, a->res[k].start, a->res[k].last), 0);
		a->res[k] = a->res[--a->nres];
		return;
	}
	start = iova_of(bi);
	last = start + (uint64_t)((c >> 1) % 8 + 1) * PG - 1;
	if (c & 1) {
		FZ_WANT(FZ(siommu_ioas_unreserve, a->a, start, last), -ENOENT);
		return;
	}
	if (a->nres >= N_RES)
		return;
	ret = FZ(siommu_ioas_reserve, a->a, start, last);
	/* reserved and allowed ranges are disjoint (siommu_ioas_allow_iovas()) */
	FZ_WANT(ret, ioas_overlaps(a, start, last - start + 1) ? -EEXIST :
		     ioas_allow_overlaps(a, start, last) ? -EADDRINUSE : 0);
	if (!ret)
		a->res[a->nres++] = (struct siommu_ioas_range){ start, last };
}

static void op_ioas_ranges(struct fz_in *in)
{
	int s = fz_u8(in) % N_IOAS;
	struct siommu_ioas_range r[4];
	unsigned int n = fz_u8(in) % 5, i;
	int ret;

	if (!W.ioas[s].a)
		return;
	{
	struct siommu_ioas_range want[4];
	unsigned int max = n, nwant = model_ranges(s, want, 4);

	ret = FZ(siommu_ioas_iova_ranges, W.ioas[s].a, r, &n);
	FZ_WANT(ret, nwant > max ? -EMSGSIZE : 0);
	FZ_CHECK(n == nwant, "%u ranges, the model %u", n, nwant);
	for (i = 0; i < n && i < max; i++)
		FZ_CHECK(r[i].start == want[i].start && r[i].last == want[i].last,
			 "range %u: [%#llx, %#llx], the model [%#llx, %#llx]", i,
			 (unsigned long long)r[i].start, (unsigned long long)r[i].last,
			 (unsigned long long)want[i].start, (unsigned long long)want[i].last);
	}
}

/*
 * siommu_ioas_allow_iovas(): up to three ranges (around IOVAs the other
 * verbs use, around an area, large, whole, or malformed), or none (all
 * allowed again).  The model: -EINVAL for a malformed set (last < start,
 * misaligned, overlapping), -EADDRINUSE if a range overlaps a caller's
 * reservation or an area would be outside the set; on error the old set
 * stays.  Adjacent ranges allow what they cover together.
 */
static void op_ioas_allow(struct fz_in *in)
{
	int s = fz_u8(in) % N_IOAS;
	uint8_t c = fz_u8(in);
	struct w_ioas *a = &W.ioas[s];
	struct siommu_ioas_range r[N_ALLOW], set[N_ALLOW], t;
	unsigned int n = c % (N_ALLOW + 1), i, j, ns = 0;
	int want = 0, ret;

	if (!a->a)
		return;
	for (i = 0; i < n; i++) {
		uint8_t b1 = fz_u8(in), b2 = fz_u8(in);
		uint64_t start = iova_of(b1), last;

		switch (b2 >> 6) {
		case 0:
			last = start + (uint64_t)((b2 & 0x3f) + 1) * PG - 1;
			break;
		case 1:
			if (a->nar) {
				struct w_area *ar = &a->ar[b1 % a->nar];
				uint64_t lo = (uint64_t)(b2 & 7) * PG;

				start = ar->iova >= lo ? ar->iova - lo : 0;
				last = ar->iova + ar->len - 1 + (uint64_t)((b2 >> 3) & 7) * PG;
			} else {
				last = start + PG - 1;
			}
			break;
		case 2:
			last = start + (SZ_1G << (b2 & 3)) - 1;
			break;
		default:
			switch (b2 & 3) {
			case 0:		/* last + 1 misaligned */
				last = start + (uint64_t)((b2 >> 2) & 0xf) * PG + 0x7ff;
				break;
			case 1:		/* last < start */
				start += 2 * PG;
				last = start - PG - 1;
				break;
			case 2:		/* start misaligned */
				last = start + 2 * PG - 1;
				start += 0x800;
				break;
			default:	/* everything */
				start = 0;
				last = UINT64_MAX;
				break;
			}
			break;
		}
		r[i] = (struct siommu_ioas_range){ start, last };
	}
	if (n && (c & 0x80)) {
		FZ_WANT(FZ(siommu_ioas_allow_iovas, a->a, NULL, n), -EINVAL);
		return;
	}
	/* the model: sort, validate, merge adjacent ranges */
	memcpy(set, r, n * sizeof(r[0]));
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && set[j].start < set[j - 1].start; j--) {
			t = set[j];
			set[j] = set[j - 1];
			set[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		if (set[i].last < set[i].start || set[i].start % PG ||
		    (set[i].last != UINT64_MAX && (set[i].last + 1) % PG) ||
		    (i && set[i].start <= set[i - 1].last))
			want = -EINVAL;
	}
	if (!want) {
		for (i = 0; i < n; i++) {
			if (ns && set[ns - 1].last != UINT64_MAX && set[ns - 1].last + 1 == set[i].start)
				set[ns - 1].last = set[i].last;
			else
				set[ns++] = set[i];
		}
		for (i = 0; i < ns; i++)
			for (j = 0; j < a->nres; j++)
				if (set[i].start <= a->res[j].last && a->res[j].start <= set[i].last)
					want = -EADDRINUSE;
		for (j = 0; j < a->nar && ns; j++) {
			bool in_one = false;

			for (i = 0; i < ns; i++)
				if (a->ar[j].iova >= set[i].start &&
				    a->ar[j].iova + a->ar[j].len - 1 <= set[i].last)
					in_one = true;
			if (!in_one)
				want = -EADDRINUSE;
		}
	}
	ret = FZ(siommu_ioas_allow_iovas, a->a, r, n);
	FZ_WANT(ret, want);
	if (!ret) {
		memcpy(a->allow, set, ns * sizeof(set[0]));
		a->nallow = ns;
	}
	{
		/* what iova_ranges says follows the set (or the old one) */
		struct siommu_ioas_range got[8], exp[8];
		unsigned int ng = 8, ne = model_ranges(s, exp, 8);

		ret = FZ(siommu_ioas_iova_ranges, a->a, got, &ng);
		FZ_WANT(ret, ne > 8 ? -EMSGSIZE : 0);
		FZ_CHECK(ng == ne, "%u ranges after allow_iovas, the model %u", ng, ne);
		for (i = 0; i < ng && i < 8; i++)
			FZ_CHECK(got[i].start == exp[i].start && got[i].last == exp[i].last,
				 "range %u after allow_iovas: [%#llx, %#llx], the model [%#llx, %#llx]",
				 i, (unsigned long long)got[i].start, (unsigned long long)got[i].last,
				 (unsigned long long)exp[i].start, (unsigned long long)exp[i].last);
	}
	ioas_check_info(s);
}

/* ------------------------------------------------------------------ file memory */

/* The byte a file of the model holds at @off when it is made. */
static uint8_t file_byte(int f, uint64_t off)
{
	return (uint8_t)(0xa5 ^ (f * 0x35) ^ ((off >> 12) * 7) ^ off);
}

/*
 * Make file slot @f: a memfd or an unlinked temp file of 1..12 pages
 * filled with file_byte(), read-write, sealed against writes (memfd) or
 * reopened read-only (temp file).
 */
static void file_make(int f, uint8_t k)
{
	struct w_file *x = &W.file[f];
	uint64_t size = (uint64_t)(k % 12 + 1) * PG, off;
	uint8_t page[PG];
	int fd, kind = (k >> 4) & 3, i;

	if (kind < 2) {
		fd = memfd_create("fuzz_api", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	} else {
		char name[] = "/tmp/fuzz_api.XXXXXX";

		fd = mkstemp(name);
		if (fd >= 0)
			unlink(name);
	}
	if (fd < 0 || ftruncate(fd, (off_t)size))
		fz_die("making a file for IOAS memory: %s", strerror(errno));
	for (off = 0; off < size; off += PG) {
		for (i = 0; i < (int)PG; i++)
			page[i] = file_byte(f, off + (uint64_t)i);
		if (pwrite(fd, page, PG, (off_t)off) != (ssize_t)PG)
			fz_die("filling a file: %s", strerror(errno));
	}
	x->ro = false;
	if (kind == 1) {
		if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW))
			fz_die("sealing a memfd: %s", strerror(errno));
		x->ro = true;
	} else if (kind == 3) {
		char path[64];
		int ro;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ro = open(path, O_RDONLY | O_CLOEXEC);
		if (ro < 0)
			fz_die("reopening a file read-only: %s", strerror(errno));
		close(fd);
		fd = ro;
		x->ro = true;
	}
	x->fd = fd;
	x->size = size;
	x->memfd = fcntl(fd, F_GET_SEALS) >= 0;
}

static void file_close(int f)
{
	int i;
	unsigned int k;

	if (!W.file[f].size)
		return;
	close(W.file[f].fd);
	memset(&W.file[f], 0, sizeof(W.file[f]));
	for (i = 0; i < N_IOAS; i++)
		for (k = 0; k < W.ioas[i].nar; k++)
			if (W.ioas[i].ar[k].file == f + 1)
				W.ioas[i].ar[k].file = 0;
}

/*
 * The file bytes behind host address @h (an area of file memory the model
 * still holds the descriptor of) must be @buf: the mapping is MAP_SHARED.
 */
static void file_check(const uint8_t *h, const uint8_t *buf, size_t len, const char *what)
{
	static uint8_t back[8 * PG];
	int i;
	unsigned int k;

	for (i = 0; i < N_IOAS; i++)
		for (k = 0; k < W.ioas[i].nar; k++) {
			struct w_area *ar = &W.ioas[i].ar[k];

			if (!ar->file || !ar->host || h < ar->host || h + len > ar->host + ar->len ||
			    len > sizeof(back))
				continue;
			if (pread(W.file[ar->file - 1].fd, back, len,
				  (off_t)(ar->foff + (uint64_t)(h - ar->host))) != (ssize_t)len)
				fz_die("reading a file back: %s", strerror(errno));
			FZ_CHECK(!memcmp(back, buf, len), "%s: the file holds other bytes", what);
			return;
		}
}

/* Is [h, h + len) host memory of an IOAS area (the arena or a file's mapping)? */
static bool host_of_area(uint64_t h, uint64_t len)
{
	int i;
	unsigned int k;

	for (i = 0; i < N_IOAS; i++)
		for (k = 0; k < W.ioas[i].nar; k++) {
			struct w_area *ar = &W.ioas[i].ar[k];
			uint64_t b = (uint64_t)(uintptr_t)ar->host;

			if (ar->host && h >= b && h + len <= b + ar->len)
				return true;
		}
	return false;
}

/*
 * siommu_ioas_map() of MEMFD and FILE memory: a file slot of the model
 * (made on first use), at an offset, and the bad cases: a bad descriptor,
 * a descriptor that is no regular file, a misaligned or wrapping offset,
 * a range beyond the file's end, a non-memfd as MEMFD, WRITE of a
 * read-only descriptor or a write-sealed memfd.  On success the area's
 * bytes are the file's (read with pread()), the area is in the model with
 * its host address (the IOAS's mapping, from siommu_ioas_area_find()), so
 * pins, access rw and DMA check against it, and writes through it must
 * reach the file.  c & 0x40: the model closes its descriptor at once (the
 * IOAS holds its own).
 */
static void op_ioas_map_fd(struct fz_in *in)
{
	int s = fz_u8(in) % N_IOAS;
	uint8_t c = fz_u8(in), f8 = fz_u8(in), bo = fz_u8(in), bl = fz_u8(in), bi = fz_u8(in);
	int f = f8 % N_FILE, variant = (c >> 3) & 7, other = -1, ret;
	struct w_ioas *a = &W.ioas[s];
	struct w_file *x = &W.file[f];
	struct siommu_ioas_mem mem = { 0 };
	uint64_t len = (uint64_t)(bl % 8 + 1) * PG, iova = 0, hole = 0, ias;
	unsigned int flags = (c & 3) ? (c & 3) : SIOMMU_IOAS_MAP_READ;
	bool fixed = c & 4, good_fd = true;
	struct fz_exp e = { 0 };

	if (!a->a || a->nar >= N_AREA)
		return;
	if (!x->size)
		file_make(f, f8 >> 2);
	mem.type = (c & 0x80) ? SIOMMU_IOAS_MEM_FILE : SIOMMU_IOAS_MEM_MEMFD;
	mem.fd = x->fd;
	mem.offset = (uint64_t)(bo % 12) * PG;
	switch (variant) {
	case 5:			/* no descriptor */
		mem.fd = (bo & 1) ? -1 : 1 << 20;
		good_fd = false;
		fz_exp_add(&e, -EBADF);
		break;
	case 6:
		mem.offset += 0x200;
		fz_exp_add(&e, -EINVAL);
		break;
	case 7:
		if (bo & 1) {
			mem.offset = UINT64_MAX & ~(PG - 1);
			fz_exp_add(&e, -EOVERFLOW);
		} else {
			other = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (other < 0)
				fz_die("/dev/null: %s", strerror(errno));
			mem.fd = other;
			good_fd = false;
			fz_exp_add(&e, -EINVAL);	/* not a regular file */
		}
		break;
	default:
		break;
	}
	if (good_fd) {
		if (mem.type == SIOMMU_IOAS_MEM_MEMFD && !x->memfd)
			fz_exp_add(&e, -EINVAL);
		if (variant != 7 && mem.offset + len > x->size)
			fz_exp_add(&e, -EINVAL);
		if ((flags & SIOMMU_IOAS_MAP_WRITE) && x->ro)
			fz_exp_add(&e, -EPERM);
	}
	if (fixed) {
		flags |= SIOMMU_IOAS_MAP_FIXED_IOVA;
		iova = iova_of(bi);
		if (ioas_overlaps(a, iova, len))
			fz_exp_add(&e, -EEXIST);
		ias = ioas_aperture(s);
		if (ioas_reserved(a, iova, len) || !ioas_allowed(a, iova, len) ||
		    (ias < 64 && iova + len > (1ull << ias)))
			fz_exp_add(&e, -EINVAL);
	} else if (!model_hole(s, len, &hole)) {
		fz_exp_add(&e, -ENOSPC);
	}
	if (!e.n && ioas_pool_short(s, fixed ? iova : UINT64_MAX, len))
		fz_exp_add(&e, -ENOMEM);	/* or 0 */
	ret = FZ(siommu_ioas_map, a->a, &mem, len, flags, &iova);
	if (other >= 0)
		close(other);
	if (!ret && e.n == 1 && e.e[0] == -ENOMEM)
		e.n = 0;
	fz_exp_check(&e, ret);
	if (ret) {
		ioas_check_info(s);	/* nothing changed */
		return;
	}
	if (!fixed)
		FZ_CHECK(iova == hole, "a map of %llu bytes went to %#llx, the lowest hole is %#llx",
			 (unsigned long long)len, (unsigned long long)iova, (unsigned long long)hole);
	FZ_CHECK(!ioas_overlaps(a, iova, len), "the new area at %#llx", (unsigned long long)iova);
	{
		struct siommu_ioas_area_info info;
		struct w_area *ar = &a->ar[a->nar++];
		uint64_t o;

		FZ_WANT(FZ(siommu_ioas_area_find, a->a, iova, &info), 0);
		FZ_CHECK(info.iova == iova && info.length == len && info.host &&
			 info.pa == (uint64_t)(uintptr_t)info.host && info.type == mem.type &&
			 info.flags == (flags & 3) && !info.revoked, "area info of a file area");
		*ar = (struct w_area){
			.iova = iova, .len = len, .flags = flags & 3, .reg = -1,
			.host = info.host, .pa = info.pa,
			.file = f + 1, .foff = mem.offset,
		};
		/* the bytes the IOAS maps are the file's */
		for (o = 0; o < len; o += PG) {
			uint8_t want[PG];

			if (pread(x->fd, want, PG, (off_t)(mem.offset + o)) != (ssize_t)PG)
				fz_die("reading a file: %s", strerror(errno));
			FZ_CHECK(!memcmp(ar->host + o, want, PG),
				 "the area at %#llx maps other bytes than the file's at %#llx",
				 (unsigned long long)(iova + o), (unsigned long long)(mem.offset + o));
		}
	}
	ioas_check_info(s);
	if (c & 0x40)
		file_close(f);
}

/* ------------------------------------------------------------------ direct page tables */

/*
 * Tables of the fuzzer's own (siommu_pt_*, no domain): a fuzzed format,
 * levels and pool, 4 KiB pages only (every leaf is one page, so the
 * dirty state of each is the model's), and a shadow of what they map.
 */

static struct w_ptm *pt_find(struct w_pt *t, uint64_t iova)
{
	unsigned int i;

	for (i = 0; i < t->nm; i++)
		if (iova >= t->m[i].iova && iova - t->m[i].iova < t->m[i].size)
			return &t->m[i];
	return NULL;
}

/* The mapping's dirty bit of page @iova. */
static bool *pt_dirty(struct w_ptm *x, uint64_t iova)
{
	return &x->dirty[(iova - x->iova) / PG];
}

/*
 * Create (empty slot), or hold, unhold, destroy (-EBUSY while held,
 * nothing changed; then unhold is -EINVAL with no user).
 */
static void op_pt_life(struct fz_in *in)
{
	int s = fz_u8(in) % N_PT;
	uint8_t c = fz_u8(in), b = fz_u8(in);
	struct w_pt *t = &W.pt[s];
	int ret;

	if (!t->pt) {
		static const unsigned int lv[4] = { 0, 3, 4, 5 };
		struct siommu_pt_cfg cfg = { .pgsize_bitmap = SIOMMU_PT_SZ_4K };
		enum siommu_pt_fmt fmt = (enum siommu_pt_fmt)(c % 3 + 1);
		unsigned int levels = lv[(c >> 2) & 3], want_levels, min, max, def;
		struct siommu_pt_info pi;
		int want = 0;

		cfg.fmt = fmt;
		cfg.levels = levels;
		cfg.max_table_pages = pool_of(b);
		if (c & 0x10)
			cfg.flags = SIOMMU_PT_F_DIRTY;
		if (c & 0x20) {
			cfg.pgsize_bitmap = SIOMMU_PT_SZ_2M;	/* no 4 KiB: refused */
			want = -EINVAL;
		}
		min = fmt == SIOMMU_PT_FMT_VTD_SS ? 3 : 4;
		max = fmt == SIOMMU_PT_FMT_ARM_LPAE_S1 ? 4 : 5;
		def = fmt == SIOMMU_PT_FMT_VTD_SS ? 3 : 4;
		want_levels = levels ? levels : def;
		if (want_levels < min || want_levels > max)
			want = -EINVAL;
		ret = FZ(siommu_pt_create, W.ctx, &cfg, &t->pt);
		FZ_WANT(ret, want);
		if (ret) {
			t->pt = NULL;
			return;
		}
		FZ_WANT(FZ(siommu_pt_get_info, t->pt, &pi), 0);
		FZ_CHECK(pi.fmt == fmt && pi.levels == want_levels &&
			 pi.pgsize_bitmap == SIOMMU_PT_SZ_4K &&
			 pi.max_table_pages == cfg.max_table_pages && pi.table_pages == 1,
			 "a new table's info");
		if (fmt == SIOMMU_PT_FMT_VTD_SS)
			FZ_CHECK(pi.ias_lg2 == 39 + 9 * (want_levels - 3), "VT-d ias %u", pi.ias_lg2);
		else if (fmt == SIOMMU_PT_FMT_ARM_LPAE_S1)
			FZ_CHECK(pi.ias_lg2 == 48, "Arm ias %u", pi.ias_lg2);
		else
			FZ_CHECK(pi.ias_lg2 >= 47 + 9 * (want_levels - 4) &&
				 pi.ias_lg2 <= 48 + 9 * (want_levels - 4), "x86-64 ias %u", pi.ias_lg2);
		t->levels = want_levels;
		t->ias = pi.ias_lg2;
		t->dirty_hw = fmt == SIOMMU_PT_FMT_X86_64 || (c & 0x10);
		return;
	}
	switch (c & 3) {
	case 0:
		FZ_WANT(FZ(siommu_pt_hold, t->pt), 0);
		t->holds++;
		break;
	case 1:
		FZ_WANT(FZ(siommu_pt_unhold, t->pt), t->holds ? 0 : -EINVAL);
		if (t->holds)
			t->holds--;
		break;
	default:
		ret = FZ(siommu_pt_destroy, t->pt);
		FZ_WANT(ret, t->holds ? -EBUSY : 0);
		if (!ret) {
			memset(t, 0, sizeof(*t));
		} else if (t->nm) {
			uint64_t pa;

			/* nothing changed */
			FZ_WANT(FZ(siommu_pt_iova_to_phys, t->pt, t->m[0].iova, &pa), 0);
			FZ_CHECK(pa == t->m[0].pa, "a held table after its refused destroy");
		}
		break;
	}
}

/* Sync a gather of table @t (no IOTLB caches its translations). */
static void pt_sync(struct siommu_pt_gather *g)
{
	FZ_WANT(FZ(siommu_pt_gather_sync, g, NULL, NULL, 0), 0);
}

/*
 * map, unmap, iova_to_phys, translate (a write sets the page dirty on a
 * table with hardware A/D), walk, lookup_level, read (and clear) dirty.
 */
static void op_pt_op(struct fz_in *in)
{
	int s = fz_u8(in) % N_PT;
	uint8_t c = fz_u8(in), bi = fz_u8(in), bl = fz_u8(in);
	struct w_pt *t = &W.pt[s];
	uint64_t iova = iova_of(bi), size = (uint64_t)(bl % 16 + 1) * PG, top;
	struct siommu_pt_gather g;
	struct w_ptm *x;
	struct fz_exp e = { 0 };
	bool beyond;
	int ret;

	if (!t->pt)
		return;
	top = t->ias >= 64 ? UINT64_MAX : (1ull << t->ias);
	if ((bl & 0x80) && t->nm) {
		x = &t->m[bi % t->nm];
		iova = x->iova + (uint64_t)(((bl >> 4) & 7) % (x->size / PG)) * PG;
	}
	beyond = iova + size > top;
	siommu_pt_gather_init(&g);
	switch ((c >> 1) & 7) {
	case 0:
	case 1: {		/* map */
		uint64_t pa = SZ_1G + (uint64_t)(c >> 4) * 16 * PG + (uint64_t)(bl & 0x70) * PG;
		unsigned int prot = (c & 1) ? SIOMMU_PT_READ | SIOMMU_PT_WRITE : SIOMMU_PT_READ;
		uint64_t i;

		if (t->nm >= N_PTM)
			return;
		if ((bl & 0x40) && !(bl & 0x80)) {
			iova += 0x800;
			fz_exp_add(&e, -EINVAL);
		}
		if (beyond)
			fz_exp_add(&e, -ERANGE);
		else
			for (i = 0; i < t->nm; i++)
				if (overlaps(iova, size, t->m[i].iova, t->m[i].size))
					fz_exp_add(&e, -EEXIST);
		if (!e.n && pool_short(t->pt, iova, size))
			fz_exp_add(&e, -ENOMEM);	/* or 0 */
		ret = FZ(siommu_pt_map, t->pt, iova, pa, size, prot);
		if (!ret && e.n == 1 && e.e[0] == -ENOMEM)
			e.n = 0;
		fz_exp_check(&e, ret);
		if (ret) {
			uint64_t got;

			if (!beyond && !(iova & (PG - 1)) && !pt_find(t, iova))
				FZ_WANT(FZ(siommu_pt_iova_to_phys, t->pt, iova, &got), -ENOENT);
			return;
		}
		t->m[t->nm] = (struct w_ptm){ .iova = iova, .pa = pa, .size = size, .prot = prot };
		t->nm++;
		return;
	}
	case 2: {		/* unmap */
		uint64_t want = 0;
		int64_t r;
		unsigned int k;

		if (t->nm >= N_PTM)
			return;		/* a split adds a piece */
		for (k = 0; k < t->nm; k++)
			if (overlaps(iova, size, t->m[k].iova, t->m[k].size))
				want += (t->m[k].iova + t->m[k].size < iova + size ?
					 t->m[k].iova + t->m[k].size : iova + size) -
					(t->m[k].iova > iova ? t->m[k].iova : iova);
		r = FZ64(siommu_pt_unmap, t->pt, iova, size, &g);
		if (beyond && r == -ERANGE)
			return;
		FZ_CHECK(r == (int64_t)want, "pt unmap of [%#llx, +%#llx): %lld, the model %llu",
			 (unsigned long long)iova, (unsigned long long)size, (long long)r,
			 (unsigned long long)want);
		pt_sync(&g);
		/* the shadow: cut [iova, iova + size) out (pieces keep their dirty bits) */
		k = 0;
		while (k < t->nm) {
			struct w_ptm m = t->m[k];
			uint64_t me = m.iova + m.size, end = iova + size;

			if (!overlaps(iova, size, m.iova, m.size)) {
				k++;
				continue;
			}
			t->m[k] = t->m[--t->nm];
			if (m.iova < iova) {
				struct w_ptm l = m;

				l.size = iova - m.iova;
				t->m[t->nm++] = l;
			}
			if (me > end) {
				struct w_ptm rt = m;
				uint64_t cut = (end - m.iova) / PG;

				rt.iova = end;
				rt.pa = m.pa + (end - m.iova);
				rt.size = me - end;
				memset(rt.dirty, 0, sizeof(rt.dirty));
				memcpy(rt.dirty, m.dirty + cut, (16 - cut) * sizeof(bool));
				t->m[t->nm++] = rt;
			}
		}
		return;
	}
	case 3: {		/* iova_to_phys, walk, lookup_level */
		struct siommu_pt_walk w;
		uint64_t pa = 0;

		x = pt_find(t, iova);
		ret = FZ(siommu_pt_iova_to_phys, t->pt, iova, &pa);
		if (iova >= top) {
			FZ_WANT(ret, -ERANGE);
			return;
		}
		FZ_WANT(ret, x ? 0 : -ENOENT);
		if (x)
			FZ_CHECK(pa == x->pa + (iova - x->iova), "iova_to_phys %#llx: %#llx",
				 (unsigned long long)iova, (unsigned long long)pa);
		FZ_WANT(FZ(siommu_pt_walk, t->pt, iova, &w), 0);
		FZ_CHECK(w.levels == t->levels && w.leaf_level == (x ? 0 : -1),
			 "walk of %#llx: %u levels, leaf at %d", (unsigned long long)iova, w.levels,
			 w.leaf_level);
		FZ_WANT(FZ(siommu_pt_lookup_level, t->pt, iova), x ? 12 : 0);
		return;
	}
	case 4:
	case 5: {		/* translate, as a device would (a write sets dirty) */
		struct siommu_pt_xlate xl;
		unsigned int acc = (c & 1) ? SIOMMU_PT_ACC_WRITE : SIOMMU_PT_ACC_READ;
		int want;

		x = pt_find(t, iova);
		siommu_read_lock();
		ret = siommu_pt_translate_rcu(t->pt, iova, acc, &xl);
		siommu_read_unlock();
		ret = (int)fz_ret("siommu_pt_translate_rcu", ret);
		want = iova >= top ? -ERANGE : !x ? -ENOENT :
		       (acc & SIOMMU_PT_ACC_WRITE) && !(x->prot & SIOMMU_PT_WRITE) ? -EACCES : 0;
		FZ_WANT(ret, want);
		if (ret)
			return;
		FZ_CHECK(xl.pa == x->pa + (iova - x->iova) && xl.pgsize_lg2 == 12,
			 "translate %#llx: %#llx at 2^%u", (unsigned long long)iova,
			 (unsigned long long)xl.pa, xl.pgsize_lg2);
		if ((acc & SIOMMU_PT_ACC_WRITE) && t->dirty_hw)
			*pt_dirty(x, iova) = true;
		return;
	}
	default: {		/* read_and_clear_dirty over up to 64 pages */
		uint64_t bm = 0, want_bm = 0, len = (uint64_t)(bl % 64 + 1) * PG, p;
		unsigned int flags = (c & 1) ? SIOMMU_PT_DIRTY_NO_CLEAR : 0;
		int64_t r, want = 0;

		r = FZ64(siommu_pt_read_and_clear_dirty, t->pt, iova, len, flags, &bm, 12, &g);
		if (iova + len > top) {
			FZ_CHECK(r == -ERANGE || (!t->dirty_hw && r == -EOPNOTSUPP),
				 "dirty beyond the input width: %lld", (long long)r);
			pt_sync(&g);
			return;
		}
		if (!t->dirty_hw) {
			FZ_CHECK(r == -EOPNOTSUPP, "dirty without A/D: %lld", (long long)r);
			return;
		}
		for (p = 0; p < len; p += PG) {
			x = pt_find(t, iova + p);
			if (x && *pt_dirty(x, iova + p)) {
				want++;
				want_bm |= 1ull << (p / PG);
				if (!flags)
					*pt_dirty(x, iova + p) = false;
			}
		}
		FZ_CHECK(r == want && bm == want_bm,
			 "dirty of [%#llx, +%#llx): %lld leaves, bitmap %#llx; the model %lld, %#llx",
			 (unsigned long long)iova, (unsigned long long)len, (long long)r,
			 (unsigned long long)bm, (long long)want, (unsigned long long)want_bm);
		pt_sync(&g);
		return;
	}
	}
}

static void op_ioas_domain(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM, a = fz_u8(in) % N_IOAS;
	uint8_t f = fz_u8(in);
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING };
	struct siommu_domain *d;
	int ret;

	if (W.dom[s].kind != DK_FREE || !W.ioas[a].a)
		return;
	cfg.fmt = (enum siommu_pt_fmt)(f % 3 + 1);
	if (f & 4)
		cfg.levels = 3;		/* VT-d 39 bits; others refuse */
	if (f & 8)
		cfg.type = SIOMMU_DOMAIN_IDENTITY;
	cfg.max_table_pages = pool_of(f >> 4);
	ret = FZ(siommu_ioas_domain_alloc, W.ioas[a].a, &cfg, &d);
	if (f & 8)
		FZ_WANT(ret, -EINVAL);
	else if (!(f & 4))
		FZ_WANT(ret, 0);
	if (ret)
		return;
	dom_record(s, d, DK_IOAS, W.ioas[a].iommu);
	W.dom[s].ioas = a;
	{
		struct siommu_pt_info pi;

		FZ_WANT(FZ(siommu_pt_get_info, siommu_domain_pt(d), &pi), 0);
		FZ_CHECK(pi.max_table_pages == cfg.max_table_pages, "an IOAS domain's pool");
	}
}

/* ------------------------------------------------------------------ access objects */

static void op_acc_create(struct fz_in *in)
{
	int s = fz_u8(in) % N_ACC, a = fz_u8(in) % N_IOAS;
	uint8_t c = fz_u8(in);
	struct w_acc *x = &W.acc[s];
	enum acc_kind kind = (enum acc_kind)(c % AK_NR);
	int ret;

	if (x->a || !W.ioas[a].a)
		return;
	x->kind = kind;
	x->ioas = a;
	if (c & 0x80) {
		/* UNREVOCABLE with a callback: refused */
		FZ_WANT(FZ(siommu_ioas_access_create, W.ioas[a].a, "bad", acc_unmap, x,
			   SIOMMU_IOAS_ACCESS_UNREVOCABLE, &x->a), -EINVAL);
		x->a = NULL;
		return;
	}
	switch (kind) {
	case AK_CB:
	case AK_STUBBORN:
		ret = FZ(siommu_ioas_access_create, W.ioas[a].a, "fuzz", acc_unmap, x, 0, &x->a);
		break;
	case AK_UNREVOCABLE:
		ret = FZ(siommu_ioas_access_create, W.ioas[a].a, "fuzz-unrevocable", NULL, NULL,
			 SIOMMU_IOAS_ACCESS_UNREVOCABLE, &x->a);
		break;
	default:
		ret = FZ(siommu_ioas_access_create, W.ioas[a].a, "fuzz-rw", NULL, NULL, 0, &x->a);
		break;
	}
	FZ_WANT(ret, 0);
}

static void op_acc_destroy(struct fz_in *in)
{
	int s = fz_u8(in) % N_ACC;
	uint8_t c = fz_u8(in);
	struct w_acc *x = &W.acc[s];
	bool stuck;
	int ret;

	if (!x->a)
		return;
	stuck = x->npin && x->kind != AK_CB;
	if (c & 1) {
		int to = (c >> 1) % N_IOAS;

		if (!W.ioas[to].a)
			return;
		ret = FZ(siommu_ioas_access_replace, x->a, W.ioas[to].a);
		FZ_WANT(ret, stuck && to != x->ioas ? -EBUSY : 0);
		if (!ret)
			x->ioas = to;
		return;
	}
	ret = FZ(siommu_ioas_access_destroy, x->a);
	FZ_WANT(ret, stuck ? -EBUSY : 0);
	if (!ret)
		memset(x, 0, sizeof(*x));
}

/* Is [iova, iova + len) covered by contiguous areas?  Sets the weakest flags / revoked. */
static bool ioas_covered(struct w_ioas *a, uint64_t iova, uint64_t len, unsigned int *flags,
			 bool *revoked)
{
	uint64_t at = iova;

	*flags = 3;
	*revoked = false;
	while (at < iova + len) {
		struct w_area *ar = area_at(a, at);

		if (!ar)
			return false;
		*flags &= ar->flags;
		if (ar->revoked)
			*revoked = true;
		at = ar->iova + ar->len;
	}
	return true;
}

/* The host address of @iova's byte in the IOAS (HOST areas), or NULL. */
static uint8_t *ioas_host(struct w_ioas *a, uint64_t iova)
{
	struct w_area *ar = area_at(a, iova);

	if (!ar)
		return NULL;
	if (ar->host)
		return ar->host + (iova - ar->iova);
	return NULL;
}

static void op_pin(struct fz_in *in)
{
	int s = fz_u8(in) % N_ACC;
	uint8_t c = fz_u8(in), o = fz_u8(in);
	struct w_acc *x = &W.acc[s];
	struct w_ioas *a;
	uint64_t iova, len;
	unsigned int flags = (c & 1) ? SIOMMU_IOAS_ACCESS_WRITE : 0, aflags, i;
	void *pages[16];
	struct fz_exp e = { 0 };
	bool revoked;
	int ret;

	if (!x->a)
		return;
	a = &W.ioas[x->ioas];
	if (c & 1 && x->npin >= N_PIN)
		return;
	if (x->npin >= N_PIN)
		return;
	if (a->nar && !(c & 2)) {
		struct w_area *ar = &a->ar[o % a->nar];

		iova = ar->iova + (uint64_t)((o >> 4) % 4) * PG;
		len = (uint64_t)((c >> 2) % 4 + 1) * PG;
	} else {
		iova = iova_of(o);
		len = (uint64_t)((c >> 2) % 16 + 1) * PG;
	}
	if (!ioas_covered(a, iova, len, &aflags, &revoked))
		fz_exp_add(&e, -ENOENT);
	else if (revoked)
		fz_exp_add(&e, -ENODEV);
	if ((flags & SIOMMU_IOAS_ACCESS_WRITE) && !(aflags & SIOMMU_IOAS_MAP_WRITE))
		fz_exp_add(&e, -EPERM);
	if (x->kind == AK_RWONLY)
		fz_exp_add(&e, -EPERM);
	ret = FZ(siommu_ioas_access_pin, x->a, iova, len, flags, pages);
	fz_exp_check(&e, ret);
	if (ret)
		return;
	for (i = 0; i < len / PG; i++) {
		uint8_t *h = ioas_host(a, iova + i * PG);
		struct w_area *ar = area_at(a, iova + i * PG);

		if (h)
			FZ_CHECK(pages[i] == h, "pin page %u: %p, the area's %p", i, pages[i], (void *)h);
		else
			FZ_CHECK(pages[i] != NULL, "pin page %u of a region area", i);
		(void)ar;
	}
	x->pin[x->npin++] = (struct w_pin){ iova, len };
}

static void op_unpin(struct fz_in *in)
{
	int s = fz_u8(in) % N_ACC;
	uint8_t c = fz_u8(in);
	struct w_acc *x = &W.acc[s];
	unsigned int k;

	if (!x->a)
		return;
	if (!x->npin || (c & 1)) {
		/* any bounds: only a pin with exactly these goes */
		uint64_t iova = iova_of(c) + 7 * PG;

		for (k = 0; k < x->npin; k++)
			if (x->pin[k].iova == iova && x->pin[k].len == PG)
				break;
		FZ_WANT(FZ(siommu_ioas_access_unpin, x->a, iova, PG), k < x->npin ? 0 : -EINVAL);
		if (k < x->npin)
			x->pin[k] = x->pin[--x->npin];
		return;
	}
	k = (c >> 1) % x->npin;
	FZ_WANT(FZ(siommu_ioas_access_unpin, x->a, x->pin[k].iova, x->pin[k].len), 0);
	x->pin[k] = x->pin[--x->npin];
}

static void op_acc_rw(struct fz_in *in)
{
	int s = fz_u8(in) % N_ACC;
	uint8_t c = fz_u8(in), o = fz_u8(in), l = fz_u8(in);
	struct w_acc *x = &W.acc[s];
	struct w_ioas *a;
	uint8_t buf[128], back[128];
	size_t len = (size_t)(l % 128) + 1;
	uint64_t iova;
	unsigned int aflags;
	struct fz_exp e = { 0 };
	bool revoked;
	int ret;

	if (!x->a)
		return;
	a = &W.ioas[x->ioas];
	if (a->nar && !(c & 2))
		iova = a->ar[o % a->nar].iova + (o >> 4) * 37;
	else
		iova = iova_of(o) + 5;
	if (!ioas_covered(a, iova, len, &aflags, &revoked))
		fz_exp_add(&e, -ENOENT);
	else if (revoked)
		fz_exp_add(&e, -ENODEV);
	memset(buf, c ^ l, sizeof(buf));
	if (c & 1) {
		if (!(aflags & SIOMMU_IOAS_MAP_WRITE))
			fz_exp_add(&e, -EPERM);
		ret = FZ(siommu_ioas_access_rw, x->a, iova, buf, len, SIOMMU_IOAS_ACCESS_WRITE);
		fz_exp_check(&e, ret);
		if (ret)
			return;
		FZ_WANT(FZ(siommu_ioas_access_rw, x->a, iova, back, len, 0), 0);
		FZ_CHECK(!memcmp(buf, back, len), "access rw reads back what it wrote");
		{
			uint8_t *h = ioas_host(a, iova);

			if (h && ioas_host(a, iova + len - 1) == h + len - 1) {
				FZ_CHECK(!memcmp(h, buf, len), "access write reaches the host memory");
				file_check(h, buf, len, "access write");
			}
		}
	} else {
		ret = FZ(siommu_ioas_access_rw, x->a, iova, back, len, 0);
		fz_exp_check(&e, ret);
		if (!ret) {
			uint8_t *h = ioas_host(a, iova);

			if (h && ioas_host(a, iova + len - 1) == h + len - 1) {
				FZ_CHECK(!memcmp(h, back, len), "access read gives the host memory");
				file_check(h, back, len, "access read");
			}
		}
	}
}

/* ------------------------------------------------------------------ mm */

static void op_mm_create(struct fz_in *in)
{
	int s = fz_u8(in) % N_MM;
	uint8_t c = fz_u8(in);
	struct siommu_mm_cfg cfg = { 0 };
	struct siommu_mm_info info;
	int ret;

	if (W.mm[s].mm)
		return;
	cfg.levels = (c & 1) ? 5 : ((c & 2) ? 4 : 0);
	cfg.max_table_pages = 512;	/* cheap to create under ASan (see op_dom_create) */
	if (c & 0x80)
		cfg.levels = 3;
	ret = FZ(siommu_mm_create, W.ctx, &cfg, &W.mm[s].mm);
	FZ_WANT(ret, cfg.levels == 3 ? -EINVAL : 0);
	if (ret) {
		W.mm[s].mm = NULL;
		return;
	}
	FZ_WANT(FZ(siommu_mm_get_info, W.mm[s].mm, &info), 0);
	W.mm[s].top = info.levels == 5 ? 1ull << 56 : 1ull << 47;
}

/* Usable: not destroyed, or destroyed with the object kept by a mirror or binding. */
static struct w_mm *mm_usable(int s)
{
	struct w_mm *m = &W.mm[s];

	if (!m->mm || (m->dead && !m->refs))
		return NULL;
	return m;
}

static void op_mm_destroy(struct fz_in *in)
{
	int s = fz_u8(in) % N_MM, i, p;
	struct w_mm *m = &W.mm[s];

	if (!m->mm || m->dead)
		return;
	siommu_mm_destroy(m->mm);
	snprintf(fz_where, sizeof(fz_where), "siommu_mm_destroy");
	m->dead = true;
	m->na = 0;
	/* SVA bindings detached their PASID */
	for (i = 0; i < N_SVA; i++) {
		struct w_sva *b = &W.sva[i];

		if (!b->b || b->mm != s)
			continue;
		b->released = true;
		for (p = 0; p < N_PASID; p++)
			if (W.dev[b->dev].att[p] == -(i + 1))
				W.dev[b->dev].att[p] = 0;
		FZ_CHECK(siommu_device_domain(W.dev[b->dev].d, pasid_of(b->pidx)) == NULL,
			 "the mm's release detached the SVA PASID");
	}
	if (!m->refs)
		memset(m, 0, sizeof(*m));
}

static bool mm_area_overlaps(struct w_mm *m, uint64_t start, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < m->na; i++)
		if (overlaps(start, len, m->a[i].start, m->a[i].end - m->a[i].start))
			return true;
	return false;
}

static struct w_mma *mm_area_at(struct w_mm *m, uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < m->na; i++)
		if (addr >= m->a[i].start && addr < m->a[i].end)
			return &m->a[i];
	return NULL;
}

/*
 * Cut [start, start + len) out of the areas; with @prot >= 0, add the parts
 * that were covered back with @prot.  The areas grow by at most two (the
 * pieces left of and right of the range): callers make sure there is room
 * (mm_area_room()) before they change the mm.
 */
static void mm_area_set(struct w_mm *m, uint64_t start, uint64_t len, int prot)
{
	struct w_mma out[N_MMA + 2];
	uint64_t end = start + len;
	unsigned int i, n = 0;

	for (i = 0; i < m->na; i++) {
		struct w_mma x = m->a[i];

		if (!overlaps(start, len, x.start, x.end - x.start)) {
			out[n++] = x;
			continue;
		}
		if (x.start < start)
			out[n++] = (struct w_mma){ x.start, start, x.prot };
		if (x.end > end)
			out[n++] = (struct w_mma){ end, x.end, x.prot };
		if (prot >= 0)
			out[n++] = (struct w_mma){ x.start > start ? x.start : start,
						   x.end < end ? x.end : end, (unsigned int)prot };
	}
	if (n > N_MMA)
		fz_die("the model's area table overflowed (%u areas)", n);
	memcpy(m->a, out, n * sizeof(out[0]));
	m->na = n;
}

/* Room in the model for a change of the mm's areas (up to two more). */
static bool mm_area_room(struct w_mm *m)
{
	return m->na + 2 <= N_MMA;
}

static uint64_t mm_addr_of(uint8_t b)
{
	static const uint64_t base[4] = { 1ull << 32, (1ull << 32) + SZ_2M * 8, 1ull << 40,
					  (1ull << 47) - SZ_2M };

	return base[b >> 6] + (uint64_t)(b & 0x3f) * PG;
}

static void op_mmap(struct fz_in *in)
{
	int s = fz_u8(in) % N_MM;
	uint8_t c = fz_u8(in), ba = fz_u8(in), bl = fz_u8(in);
	struct w_mm *m = mm_usable(s);
	uint64_t addr, len, out = 0;
	unsigned int prot = c & 7, flags = SIOMMU_MM_MAP_ANON;
	struct fz_exp x = { 0 };
	uint8_t buf[16];
	int ret;

	if (!m || m->na >= N_MMA - 3)
		return;
	addr = mm_addr_of(ba);
	len = (bl & 0x80) ? SZ_2M : (uint64_t)(bl % 16 + 1) * PG;
	if (c & 8) {
		flags |= SIOMMU_MM_MAP_FIXED;
		if (len == SZ_2M)
			addr &= ~(SZ_2M - 1);
	}
	if (c & 0x10)
		flags |= SIOMMU_MM_PAGE_4K;
	else if ((c & 0x20) && len == SZ_2M)
		flags |= SIOMMU_MM_PAGE_2M;
	if (m->dead)
		fz_exp_add(&x, -ENODEV);
	if ((flags & SIOMMU_MM_MAP_FIXED) && mm_area_overlaps(m, addr, len))
		fz_exp_add(&x, -EEXIST);
	if ((flags & SIOMMU_MM_MAP_FIXED) && addr + len > m->top)
		fz_exp_add(&x, -ERANGE);
	if ((flags & SIOMMU_MM_MAP_FIXED) && (flags & SIOMMU_MM_PAGE_2M) && (addr & (SZ_2M - 1)))
		fz_exp_add(&x, -EINVAL);
	ret = FZ(siommu_mm_mmap, m->mm, addr, len, prot, flags, -1, 0, &out);
	fz_exp_check(&x, ret);
	if (ret)
		return;
	if (flags & SIOMMU_MM_MAP_FIXED)
		FZ_CHECK(out == addr, "fixed mmap at %#llx gave %#llx", (unsigned long long)addr,
			 (unsigned long long)out);
	FZ_CHECK(!mm_area_overlaps(m, out, len) && !(out & (PG - 1)) && out + len <= m->top,
		 "mmap gave %#llx", (unsigned long long)out);
	m->a[m->na++] = (struct w_mma){ out, out + len, prot };
	if (prot & SIOMMU_MM_PROT_READ) {
		static const uint8_t zero[16];

		FZ_WANT(FZ(siommu_mm_read, m->mm, out + len - 16, buf, 16), 0);
		FZ_CHECK(!memcmp(buf, zero, 16), "fresh anonymous memory reads zero");
	}
}

static void op_munmap(struct fz_in *in)
{
	int s = fz_u8(in) % N_MM;
	uint8_t c = fz_u8(in), ba = fz_u8(in);
	struct w_mm *m = mm_usable(s);
	uint64_t addr, len;
	int ret, op = c & 3;

	if (!m || !mm_area_room(m))
		return;
	if (m->na && (c & 4)) {
		struct w_mma *x = &m->a[(c >> 3) % m->na];

		addr = x->start + ((c & 0x80) ? PG : 0);
		len = x->end - x->start;
		if (len > PG && (c & 0x80))
			len -= PG;
		else
			addr = x->start;
	} else {
		addr = mm_addr_of(ba);
		len = (uint64_t)((c >> 3) % 16 + 1) * PG;
	}
	if (op == 0) {
		ret = FZ(siommu_mm_munmap, m->mm, addr, len);
		FZ_WANT(ret, m->dead ? -ENODEV : 0);
		if (!ret)
			mm_area_set(m, addr, len, -1);
	} else if (op == 1) {
		unsigned int prot = (c >> 5) & 7;
		uint64_t at = addr;
		bool hole = false;

		while (at < addr + len) {
			struct w_mma *x = mm_area_at(m, at);

			if (!x) {
				hole = true;
				break;
			}
			at = x->end;
		}
		ret = FZ(siommu_mm_mprotect, m->mm, addr, len, prot);
		FZ_WANT(ret, m->dead ? -ENODEV : (hole ? -ENOMEM : 0));
		if (!ret)
			mm_area_set(m, addr, len, (int)prot);
	} else if (op == 2) {
		uint8_t buf[16];
		static const uint8_t zero[16];
		struct w_mma *x;

		ret = FZ(siommu_mm_madvise, m->mm, addr, len, SIOMMU_MM_MADV_DONTNEED);
		FZ_WANT(ret, m->dead ? -ENODEV : 0);
		x = mm_area_at(m, addr);
		if (!ret && x && (x->prot & SIOMMU_MM_PROT_READ)) {
			FZ_WANT(FZ(siommu_mm_read, m->mm, addr, buf, 16), 0);
			FZ_CHECK(!memcmp(buf, zero, 16), "discarded anonymous memory reads zero");
		}
	} else {
		ret = FZ(siommu_mm_split, m->mm, addr);
		if (m->dead)
			FZ_WANT(ret, -ENODEV);
		else
			FZ_CHECK(ret == 0 || ret == 1, "split: %d", ret);
	}
}

static void op_mm_touch(struct fz_in *in)
{
	int s = fz_u8(in) % N_MM;
	uint8_t c = fz_u8(in), o = fz_u8(in);
	struct w_mm *m = mm_usable(s);
	struct w_mma *x;
	uint64_t addr;
	unsigned int acc = (c & 3) ? (c & 3) : SIOMMU_ACC_READ;
	uint8_t buf[32], back[32];
	int ret;

	if (!m)
		return;
	if (m->na && !(c & 4))
		addr = m->a[o % m->na].start + (uint64_t)((o >> 4) % 2) * PG;
	else
		addr = mm_addr_of(o);
	x = mm_area_at(m, addr);
	if (c & 8) {
		ret = FZ(siommu_mm_fault, m->mm, addr, acc);
		if (m->dead)
			FZ_WANT(ret, -ENODEV);
		else if (!x)
			FZ_WANT(ret, -EFAULT);
		else if ((x->prot & acc) == acc)
			FZ_WANT(ret, 0);
		else
			FZ_CHECK(ret == -EACCES || ret == 0, "fault: %s", siommu_errname(ret));
		return;
	}
	memset(buf, o ^ c, sizeof(buf));
	ret = FZ(siommu_mm_write, m->mm, addr + 8, buf, sizeof(buf));
	if (m->dead)
		FZ_WANT(ret, -ENODEV);
	else if (!x)
		FZ_WANT(ret, -EFAULT);
	else if ((x->prot & 3) == 3)
		FZ_WANT(ret, 0);
	if (ret || !(x->prot & SIOMMU_MM_PROT_READ))
		return;
	FZ_WANT(FZ(siommu_mm_read, m->mm, addr + 8, back, sizeof(back)), 0);
	FZ_CHECK(!memcmp(buf, back, sizeof(buf)), "the mm reads back what it wrote");
}

/* ------------------------------------------------------------------ mm notifiers */

static struct w_mmn *mmn_of(void *opaque, struct siommu_mm *mm)
{
	struct w_mmn *x = opaque;

	FZ_CHECK(x->n, "an mm notifier called after its unregister");
	FZ_CHECK(W.mm[x->mm].mm == mm, "an mm notifier called for another mm");
	return x;
}

static void mmn_start(void *opaque, struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	struct w_mmn *x = mmn_of(opaque, mm);

	FZ_CHECK(r->start <= r->last, "invalidate_start of [%#llx, %#llx]",
		 (unsigned long long)r->start, (unsigned long long)r->last);
	x->starts++;
	x->depth++;
}

static void mmn_tlbs(void *opaque, struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	struct w_mmn *x = mmn_of(opaque, mm);

	FZ_CHECK(x->depth > 0, "invalidate_tlbs outside a start/end");
	x->tlbs++;
}

static void mmn_end(void *opaque, struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	struct w_mmn *x = mmn_of(opaque, mm);

	FZ_CHECK(x->depth > 0, "invalidate_end without a start");
	x->ends++;
	x->depth--;
}

static void mmn_release(void *opaque, struct siommu_mm *mm)
{
	struct w_mmn *x = mmn_of(opaque, mm);

	FZ_CHECK(x->depth == 0, "release inside an invalidation");
	x->releases++;
}

static const struct siommu_mm_notifier_ops mmn_ops = {
	.invalidate_start = mmn_start, .invalidate_tlbs = mmn_tlbs,
	.invalidate_end = mmn_end, .release = mmn_release,
};

/* After every call: no invalidation is left open, release ran once iff the mm was destroyed. */
static void mmn_check(void)
{
	int i;

	for (i = 0; i < N_MMN; i++) {
		struct w_mmn *x = &W.mmn[i];

		if (!x->n)
			continue;
		FZ_CHECK(x->depth == 0 && x->starts == x->ends,
			 "mm notifier %d: %lu starts, %lu ends after the call", i, x->starts, x->ends);
		FZ_CHECK(x->releases == (W.mm[x->mm].dead ? 1u : 0u),
			 "mm notifier %d: %lu releases, the mm is %s", i, x->releases,
			 W.mm[x->mm].dead ? "destroyed" : "live");
	}
}

/*
 * Register a notifier on an mm (-ENODEV once it was destroyed while a
 * mirror, binding or notifier keeps the object), or unregister one (it
 * keeps the object: an mm destroyed meanwhile goes with the last).
 */
static void op_mm_notifier(struct fz_in *in)
{
	int s = fz_u8(in) % N_MMN, mi = fz_u8(in) % N_MM;
	struct w_mmn *x = &W.mmn[s];
	struct siommu_mm_notifier *n = NULL;
	struct w_mm *m;
	int ret;

	if (x->n) {
		m = &W.mm[x->mm];
		FZ_WANT(FZ(siommu_mm_notifier_unregister, x->n), 0);
		memset(x, 0, sizeof(*x));
		if (!--m->refs && m->dead)
			memset(m, 0, sizeof(*m));
		return;
	}
	m = &W.mm[mi];
	if (!m->mm)
		return;
	ret = FZ(siommu_mm_notifier_register, m->mm, &mmn_ops, x, &n);
	FZ_WANT(ret, m->dead ? -ENODEV : 0);
	if (ret)
		return;
	*x = (struct w_mmn){ .n = n, .mm = mi };
	m->refs++;
}

static void op_mirror_create(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM, mi = fz_u8(in) % N_MM, io = fz_u8(in) % N_IOMMU;
	uint8_t f = fz_u8(in);
	struct siommu_mirror_cfg cfg = { 0 };
	struct siommu_mirror *mir;
	struct w_mm *m = mm_usable(mi);
	int ret;

	if (W.dom[s].kind != DK_FREE || !m || !W.io[io].i)
		return;
	cfg.fmt = (enum siommu_pt_fmt)(f % 4);
	if (f & 4)
		cfg.flags |= SIOMMU_MIRROR_4K_ONLY;
	cfg.max_table_pages = pool_of(f >> 3);
	ret = FZ(siommu_mirror_create, m->mm, W.io[io].i, &cfg, &mir);
	if (m->dead)	/* a table narrower than the mm may be found first: both documented */
		FZ_CHECK(ret == -ENODEV || ret == -ERANGE, "a mirror of a dead mm: %s",
			 siommu_errname(ret));
	if (ret)
		return;
	dom_record(s, siommu_mirror_domain(mir), DK_MIRROR, io);
	{
		struct siommu_pt_info pi;

		FZ_WANT(FZ(siommu_pt_get_info, siommu_mirror_pt(mir), &pi), 0);
		FZ_CHECK(pi.max_table_pages == cfg.max_table_pages, "a mirror's pool");
	}
	W.dom[s].mirror = mir;
	W.dom[s].mm = mi;
	m->refs++;
}

static void op_mirror_fault(struct fz_in *in)
{
	int s = fz_u8(in) % N_DOM;
	uint8_t c = fz_u8(in), o = fz_u8(in);
	struct w_dom *d = &W.dom[s];
	struct w_mm *m;
	struct w_mma *x;
	uint64_t addr;
	unsigned int acc = (c & 3) ? (c & 3) : SIOMMU_ACC_READ;
	int ret;

	if (d->kind != DK_MIRROR)
		return;
	m = &W.mm[d->mm];
	addr = m->na ? m->a[o % m->na].start : mm_addr_of(o);
	x = mm_area_at(m, addr);
	ret = FZ(siommu_mirror_fault, d->mirror, addr, acc);
	if (m->dead)
		FZ_WANT(ret, -ENODEV);
	else if (!x)
		FZ_WANT(ret, -EFAULT);
	else if ((x->prot & acc) == acc)
		FZ_CHECK(ret == 0 || ret == -ERANGE ||
			 (ret == -ENOMEM && pool_short(siommu_mirror_pt(d->mirror), addr, PG)),
			 "mirror fault: %s", siommu_errname(ret));
}

static void op_sva_bind(struct fz_in *in)
{
	int s = fz_u8(in) % N_SVA, mi = fz_u8(in) % N_MM, di = fz_u8(in) % N_DEV;
	uint8_t c = fz_u8(in);
	int pidx = c % (N_PASID - 1) + 1, ret;
	struct w_sva *b = &W.sva[s];
	struct w_dev *d = &W.dev[di];
	struct w_mm *m = mm_usable(mi);
	struct fz_exp x = { 0 };
	unsigned int flags = (c & 4) ? SIOMMU_SVA_NO_HANDLER : 0;

	if (b->b) {
		/* unbind */
		int p;

		ret = FZ(siommu_sva_unbind, b->b);
		FZ_WANT(ret, 0);
		for (p = 0; p < N_PASID; p++)
			if (W.dev[b->dev].att[p] == -(s + 1))
				W.dev[b->dev].att[p] = 0;
		check_attachment(b->dev, b->pidx);
		if (!--W.mm[b->mm].refs && W.mm[b->mm].dead)
			memset(&W.mm[b->mm], 0, sizeof(W.mm[b->mm]));
		memset(b, 0, sizeof(*b));
		return;
	}
	if (!m || !d->d)
		return;
	if (!(d->flags & SIOMMU_DEV_PASID))
		fz_exp_add(&x, -EOPNOTSUPP);
	if (d->att[pidx])
		fz_exp_add(&x, -EEXIST);
	if (m->dead)
		fz_exp_add(&x, -ENODEV);
	if (W.io[d->iommu].ias < 64 && (1ull << W.io[d->iommu].ias) < m->top)
		fz_exp_add(&x, -ERANGE);
	ret = FZ(siommu_sva_bind, m->mm, W.io[d->iommu].i, d->d, pasid_of(pidx), flags, &b->b);
	fz_exp_check(&x, ret);
	if (ret) {
		b->b = NULL;
		return;
	}
	b->mm = mi;
	b->dev = di;
	b->iommu = d->iommu;
	b->pidx = pidx;
	d->att[pidx] = -(s + 1);
	m->refs++;
	check_attachment(di, pidx);
	FZ_CHECK(siommu_sva_pasid(b->b) == pasid_of(pidx) && siommu_sva_mm(b->b) == m->mm,
		 "the binding's pasid and mm");
	if ((flags & SIOMMU_SVA_NO_HANDLER) && W.io[d->iommu].iopf && (c & 8)) {
		ret = FZ(siommu_sva_iopf_enable, b->b, W.io[d->iommu].iopf);
		FZ_WANT(ret, 0);
	}
}

/* ------------------------------------------------------------------ teardown */

static void teardown(void)
{
	int i, p;

	snprintf(fz_where, sizeof(fz_where), "teardown");
	/* SVA bindings first (their PASIDs are not the fuzzer's to detach) */
	for (i = 0; i < N_SVA; i++)
		if (W.sva[i].b) {
			FZ_WANT(FZ(siommu_sva_unbind, W.sva[i].b), 0);
			for (p = 0; p < N_PASID; p++)
				if (W.dev[W.sva[i].dev].att[p] == -(i + 1))
					W.dev[W.sva[i].dev].att[p] = 0;
			W.mm[W.sva[i].mm].refs--;
		}
	for (i = 0; i < N_DEV; i++) {
		struct w_dev *d = &W.dev[i];

		if (!d->d)
			continue;
		for (p = 1; p < N_PASID; p++)
			if (d->att[p] > 0) {
				FZ_WANT(FZ(siommu_pasid_detach, d->d, pasid_of(p)), 0);
				W.dom[d->att[p] - 1].users--;
				d->att[p] = 0;
			}
		if (d->att[0] > 0) {
			FZ_WANT(FZ(siommu_device_detach, d->d), 0);
			W.dom[d->att[0] - 1].users--;
			d->att[0] = 0;
		}
		if (d->enabled) {
			FZ_WANT(FZ(siommu_iopf_device_disable, W.io[d->iommu].iopf, d->d), 0);
			d->enabled = false;
			check_responses(i);
		}
	}
	for (i = 0; i < (int)W.nheld; i++) {
		int ret = FZ(siommu_iopf_group_respond, W.held[i], SIOMMU_PAGE_RESP_SUCCESS);

		FZ_CHECK(ret == -ECANCELED, "a held group after its device's disable: %s",
			 siommu_errname(ret));
	}
	W.nheld = 0;
	for (i = 0; i < N_DOM; i++) {
		struct w_dom *m = &W.dom[i];

		FZ_CHECK(m->kind == DK_FREE || m->users == 0, "domain %d users", i);
		if (m->handler) {
			FZ_WANT(FZ(siommu_iopf_domain_clear_handler, W.io[m->iommu].iopf, m->d), 0);
			m->handler = 0;
		}
	}
	for (i = 0; i < N_FQ; i++)
		if (W.fq[i].q)
			FZ_WANT(FZ(siommu_fault_queue_destroy, W.fq[i].q), 0);
	for (i = 0; i < N_ACC; i++) {
		struct w_acc *x = &W.acc[i];

		if (!x->a)
			continue;
		while (x->npin) {
			x->npin--;
			FZ_WANT(FZ(siommu_ioas_access_unpin, x->a, x->pin[x->npin].iova,
				   x->pin[x->npin].len), 0);
		}
		FZ_WANT(FZ(siommu_ioas_access_destroy, x->a), 0);
	}
	for (i = 0; i < N_DOM; i++) {
		struct w_dom *m = &W.dom[i];

		if (m->kind == DK_IOAS)
			FZ_WANT(FZ(siommu_ioas_domain_free, W.io[m->iommu].layer, m->d), 0);
		else if (m->kind == DK_PLAIN) {
			FZ_WANT(FZ(siommu_domain_destroy, m->d), 0);
			if (m->pt)
				FZ_WANT(FZ(siommu_pt_destroy, m->pt), 0);
		}
		else if (m->kind == DK_MIRROR)
			FZ_WANT(FZ(siommu_mirror_destroy, m->mirror), 0);
	}
	for (i = 0; i < N_IOAS; i++)
		if (W.ioas[i].a)
			FZ_WANT(FZ(siommu_ioas_destroy, W.ioas[i].a), 0);
	for (i = 0; i < N_FILE; i++)
		file_close(i);
	for (i = 0; i < N_PT; i++) {
		struct w_pt *t = &W.pt[i];

		if (!t->pt)
			continue;
		for (; t->holds; t->holds--)
			FZ_WANT(FZ(siommu_pt_unhold, t->pt), 0);
		FZ_WANT(FZ(siommu_pt_destroy, t->pt), 0);
	}
	for (i = 0; i < N_MM; i++)
		if (W.mm[i].mm && !W.mm[i].dead) {
			siommu_mm_destroy(W.mm[i].mm);
			W.mm[i].dead = true;
		}
	mmn_check();		/* every notifier's release ran */
	for (i = 0; i < N_MMN; i++)
		if (W.mmn[i].n)
			FZ_WANT(FZ(siommu_mm_notifier_unregister, W.mmn[i].n), 0);
	for (i = 0; i < N_DEV; i++)
		if (W.dev[i].d)
			FZ_WANT(FZ(siommu_device_destroy, W.dev[i].d), 0);
	for (i = 0; i < N_IOMMU; i++) {
		if (W.io[i].iopf)
			FZ_WANT(FZ(siommu_iopf_destroy, W.io[i].iopf), 0);
		if (W.io[i].layer)
			FZ_WANT(FZ(siommu_ioas_layer_destroy, W.io[i].layer), 0);
		if (W.io[i].i)
			kept_park(i);		/* kept for the next input (K) */
	}
	for (i = 0; i < N_REG; i++)
		if (W.reg[i].r) {
			W.mn_cur = W.reg[i].r;
			FZ_WANT(FZ(siommu_mem_region_destroy, W.reg[i].r), 0);
			if (!W.reg[i].revoked)
				W.mn_revokes++;
			mn_check();
		}
	for (i = 0; i < N_MN; i++)
		if (W.mn[i].n)
			FZ_WANT(FZ(siommu_mem_notifier_unregister, W.mn[i].n), 0);
	{
		struct siommu_mem_stats ms;

		FZ_WANT(FZ(siommu_mem_get_stats, W.mem, &ms), 0);
		FZ_CHECK(ms.regions == 0, "%u regions left", ms.regions);
	}
	fz_ctx_check_empty(kept_objects());
}

/* ------------------------------------------------------------------ the verbs */

typedef void op_fn(struct fz_in *in);

static op_fn *const ops[] = {
	op_iommu_create, op_iommu_destroy, op_region_add, op_region_revoke, op_region_destroy,
	op_mem_rw, op_dev_create, op_dev_destroy, op_dom_create, op_dom_destroy,
	op_dom_destroy_wrong, op_attach, op_map, op_unmap, op_flush, op_dma_map, op_dma_unmap,
	op_translate, op_dma, op_iopf_create, op_iopf_destroy, op_iopf_enable, op_iopf_disable,
	op_report, op_process, op_respond, op_group_respond, op_drain, op_clear_overflow,
	op_set_handler, op_clear_handler, op_fq_create, op_fq_read, op_fq_write, op_fq_close,
	op_fq_destroy, op_ioas_layer, op_ioas_create, op_ioas_map, op_ioas_unmap, op_ioas_copy,
	op_ioas_reserve, op_ioas_ranges, op_ioas_domain, op_acc_create, op_acc_destroy, op_pin,
	op_unpin, op_acc_rw, op_mm_create, op_mm_destroy, op_mmap, op_munmap, op_mm_touch,
	op_mirror_create, op_mirror_fault, op_sva_bind,
	/* the common ones again, so that random inputs reach deep states */
	op_attach, op_map, op_translate, op_dma, op_report, op_ioas_map, op_pin,
	/* added later: op bytes < 64 keep their meaning (see the top comment) */
	op_ioas_map_fd, op_ioas_allow, op_pt_life, op_pt_op, op_pt_op, op_mem_notifier,
	op_mm_notifier,
};

#define NR_OPS	(sizeof(ops) / sizeof(ops[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	static bool inited;

	if (!inited) {
		fz_contracts_init();
		arena_init();
		inited = true;
	}
	if (size > 4096)
		return 0;
	memset(&W, 0, sizeof(W));
	fz_opno = 0;
	snprintf(fz_where, sizeof(fz_where), "setup");
	W.ctx = fz_ctx_get(kept_destroy);
	if (!K.mem) {
		long before = fz_ctx_objects();

		FZ_WANT(FZ(siommu_mem_create, W.ctx, &K.mem), 0);
		K.mem_objs = fz_ctx_objects() - before;
	}
	W.mem = K.mem;
	while (in.left && fz_opno < MAX_OPS) {
		uint8_t op = fz_u8(&in);

		fz_opno++;
		ops[op % NR_OPS](&in);
		mmn_check();
	}
	fz_opno++;
	teardown();
	return 0;
}
