// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Soak: the demo's world under random API traffic on every module for a
 * long time, with invariants checked all along (make soak runs it under
 * ASan and TSan for SOAK_MINUTES; make check runs a slice).  This file has
 * the shared parts (soak.h: contract checks, invariant counters, the
 * modules' record, the summary) and the core and mem parts; soak_ioas.c,
 * soak_iopf.c and soak_mm.c have theirs, each on an IOMMU of its own, all
 * in one context.  The run ends with every invariant's counts and a line
 *   SOAK-SUMMARY seconds=S seed=N ops mem=.. core=.. ioas=.. iopf=.. mm=..
 *                calls=.. checks=.. violations=V
 * and fails if V > 0 (or an invariant was never checked).
 *
 * core and mem.  The world: a memory map with one large RAM region and a churned one, an
 * IOMMU, three devices (two with PASIDs), paging domains of every format
 * (strict and lazy), an identity and a blocked domain.  Every paging domain
 * maps window i (when its owner has it mapped) to the same physical range,
 * so that a translation of an address of window i has one right answer
 * whatever domain a device is attached to at that moment.  Threads:
 *  - dma (x2): random DMA reads and writes, SG lists and translations
 *    through random devices and PASIDs, at addresses of the windows, of the
 *    churned region, of dma_map ranges and of nothing;
 *  - driver (x2): each owns half the windows and maps/unmaps them in every
 *    paging domain; a driver also dma_maps and dma_unmaps in the lazy and
 *    a strict domain;
 *  - attach: attach, replace and detach of devices and PASIDs among the
 *    domains;
 *  - region: adds RAM, maps it, DMAs to it, revokes it, destroys it.
 * Invariants, each counted and printed:
 *  - every call returns 0 or an error its contract's Returns documents
 *    (parsed from the headers, tests/common/failnth.h);
 *  - a successful translation of window i's address gives window i's
 *    physical address (or, through an identity domain, the address itself);
 *  - an owner's map is visible in the domain's table at once, with the
 *    right address, and gone at once after its unmap (strict and lazy);
 *  - dma_map ranges never overlap while live; dma_unmap returns their size;
 *  - the attach thread's changes are what siommu_device_domain() says;
 *  - after a revoke returns, no domain maps the region any more;
 *  - at the end every object of every module is destroyed: destroys
 *    succeed and the context's destroy (which refuses while objects live)
 *    returns 0 (the library has no public live-object count: that refusal
 *    is it); under ASan, LeakSanitizer checks the process at exit.
 *
 *   soak [--seconds S] [--seed N] [--overlap] [--nice N] [--break NAME]
 */
#include "soak.h"

#define PG		SOAK_PG
#define RAM_PA		0x1000000ull		/* the static RAM region */
#define RAM_SIZE	(64ull << 20)
#define NR_WIN		16
#define WIN_IOVA	0x100000000ull		/* windows above 4 GiB (dma_map lives below) */
#define WIN_SIZE	(2ull << 20)
#define WIN_STRIDE	(8ull << 20)
#define CHURN_PA	0x10000000ull
#define CHURN_IOVA	0x200000000ull
#define CHURN_SIZE	(1ull << 20)
#define NR_DEV		3
#define NR_DOM		7		/* 5 paging, identity, blocked */
#define NR_PAGING	5
#define DMA_LIMIT	0xffffffffull
#define DMAMAP_PA	(RAM_PA + 40ull * (1 << 20))	/* dma_map memory, apart from windows */
#define NR_DMAMAP	64

struct world {
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct siommu_mem_region *ram;
	struct siommu_iommu *iommu;
	struct siommu_device *dev[NR_DEV];
	struct siommu_domain *dom[NR_DOM];
	/* dma_map ranges live (for the no-overlap check), under dm_lock */
	pthread_mutex_t dm_lock;
	struct { uint64_t iova, size; int dom; } dm[2 * NR_DMAMAP];
	unsigned int nr_dm;
};

static struct world W;
_Atomic bool soak_stop_flag;
uint64_t soak_seed;
const char *soak_break;
static _Atomic unsigned long n_violations;
#define base_seed soak_seed

/* Invariant counters of core and mem. */
static _Atomic unsigned long n_calls, n_dma_ok, n_dma_fault;
static struct soak_inv inv_contract = { .name = "every result in its contract" };
static struct soak_inv inv_xlate = {
	.name = "core: a translation of window i gives window i (or identity)"
};
static struct soak_inv inv_owner = { .name = "core: an owner's map/unmap is in its table at once" };
static struct soak_inv inv_dm = { .name = "core: live dma_map ranges never overlap" };
static struct soak_inv inv_attach = {
	.name = "core: attach/replace/detach did what device_domain says"
};
static struct soak_inv inv_revoke = {
	.name = "mem: after a revoke returned no domain maps the region"
};
static struct soak_inv inv_leak = { .name = "no object leaked: every destroy 0, ctx destroy 0" };
static struct soak_inv inv_log = { .name = "log sink: messages arrive whole" };

struct soak_module soak_core, soak_mem;

/* ------------------------------------------------------------------ log */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
#define NR_WATCH 4
static struct {
	const char *needle;
	char last[256];
	unsigned long count;
} watch[NR_WATCH];			/* [log_lock] */
static unsigned int nr_watch;		/* set before the threads start */
static _Atomic unsigned long n_log;

void soak_log_watch(const char *needle)
{
	if (nr_watch < NR_WATCH)
		watch[nr_watch++].needle = needle;
}

bool soak_log_seen(const char *needle, char *buf, size_t len, unsigned long *count)
{
	unsigned int i;
	bool found = false;

	pthread_mutex_lock(&log_lock);
	for (i = 0; i < nr_watch; i++) {
		if (strcmp(watch[i].needle, needle))
			continue;
		if (buf)
			snprintf(buf, len, "%s", watch[i].last);
		if (count)
			*count = watch[i].count;
		found = watch[i].count > 0;
	}
	pthread_mutex_unlock(&log_lock);
	return found;
}

static void log_sink(void *opaque, enum siommu_log_level level, const char *msg)
{
	unsigned int i;

	(void)opaque;
	(void)level;
	atomic_fetch_add_explicit(&n_log, 1, memory_order_relaxed);
	INV(&inv_log, msg && strlen(msg) < 4096, "a log message without end");
	pthread_mutex_lock(&log_lock);
	for (i = 0; i < nr_watch; i++) {
		if (!strstr(msg, watch[i].needle))
			continue;
		snprintf(watch[i].last, sizeof(watch[i].last), "%s", msg);
		watch[i].count++;
	}
	pthread_mutex_unlock(&log_lock);
}

/* ------------------------------------------------------------------ invariants */

static pthread_mutex_t viol_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int viol_printed;

void soak_violation(struct soak_inv *inv, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add_explicit(&inv->checked, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&inv->violated, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&n_violations, 1, memory_order_relaxed);
	pthread_mutex_lock(&viol_lock);
	if (viol_printed++ < 20) {
		fprintf(stderr, "# VIOLATION %s:%d: [%s] ", file, line, inv->name);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
		fflush(stderr);
	}
	pthread_mutex_unlock(&viol_lock);
}

/* ------------------------------------------------------------------ contract checks */

#define MAX_FNS	160

static struct {
	const char *name;
	int errs[FN_MAX_ERRS];
	int n;
} fn_cache[MAX_FNS];
static unsigned int fn_cache_n;

/* Parsed once before the threads start (the parser is not thread-safe). */
void soak_contract_prepare(const char *name)
{
	unsigned int i;

	for (i = 0; i < fn_cache_n; i++)
		if (!strcmp(fn_cache[i].name, name))
			return;
	if (fn_cache_n >= MAX_FNS)
		thread_fail_msg("soak: too many contracts (MAX_FNS)");
	fn_cache[fn_cache_n].name = name;
	fn_cache[fn_cache_n].n = fn_contract_errors(name, fn_cache[fn_cache_n].errs, 0);
	if (fn_cache[fn_cache_n].n < 0)
		thread_fail_msg("soak: %s has no contract with a Returns part", name);
	fn_cache_n++;
}

void soak_check_ret(const char *call, int64_t ret, const char *file, int line)
{
	size_t k = strspn(call, "abcdefghijklmnopqrstuvwxyz0123456789_");
	unsigned int i;
	int j;

	atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
	if (ret >= 0)
		return;
	for (i = 0; i < fn_cache_n; i++) {
		if (strlen(fn_cache[i].name) != k || strncmp(fn_cache[i].name, call, k))
			continue;
		for (j = 0; j < fn_cache[i].n; j++)
			if (fn_cache[i].errs[j] == (int)ret) {
				soak_pass(&inv_contract);
				return;
			}
		soak_violation(&inv_contract, file, line, "%.*s returned %s, not in its contract",
			       (int)k, call, siommu_errname((int)ret));
		return;
	}
	test_thread_failed(file, line, "soak: %.*s: not prepared", (int)k, call);
}

static const char *const contract_fns[] = {
	"siommu_dma_read", "siommu_dma_write", "siommu_dma_read_sg", "siommu_dma_write_sg",
	"siommu_translate", "siommu_domain_map", "siommu_domain_unmap",
	"siommu_domain_dma_map", "siommu_domain_dma_unmap", "siommu_domain_flush",
	"siommu_device_attach", "siommu_device_replace", "siommu_device_detach",
	"siommu_pasid_attach", "siommu_pasid_replace", "siommu_pasid_detach",
	"siommu_pt_iova_to_phys", "siommu_fault_log_read", "siommu_iommu_get_stats",
	NULL
};

static const char *const mem_contract_fns[] = {
	"siommu_mem_add_ram", "siommu_mem_region_revoke", "siommu_mem_region_destroy",
	"siommu_pt_iova_to_phys", NULL
};

/* ------------------------------------------------------------------ windows */

static uint64_t win_iova(unsigned int i)
{
	return WIN_IOVA + i * WIN_STRIDE;
}

static uint64_t win_pa(unsigned int i)
{
	return RAM_PA + i * WIN_SIZE;
}

/* Where an address of window i must translate to (UINT64_MAX: not a window). */
static uint64_t expected_pa(uint64_t iova)
{
	uint64_t off;
	unsigned int i;

	if (iova < WIN_IOVA)
		return UINT64_MAX;
	off = iova - WIN_IOVA;
	i = (unsigned int)(off / WIN_STRIDE);
	if (i >= NR_WIN || off % WIN_STRIDE >= WIN_SIZE)
		return UINT64_MAX;
	return win_pa(i) + off % WIN_STRIDE;
}

/* ------------------------------------------------------------------ threads */

/*
 * Where DMA thread @me goes.  The two DMA threads touch disjoint memory:
 * concurrent DMA to the same bytes is a data race in the library's RAM copy
 * (a plain memcpy; see the report of issue 15), which TSan rightly flags,
 * so thread 1 keeps to the odd windows and thread 0 has the even ones, the
 * churned region, the dma_map ranges (their memory is apart from the
 * windows) and unmapped addresses (above 4 GiB: even through the identity
 * domain they reach no RAM).  --overlap lets both go anywhere (and shows
 * the race under TSan).
 */
static bool overlap;

static uint64_t pick_addr(uint64_t *s, unsigned int me)
{
	unsigned int w = (unsigned int)(soak_rnd(s) % NR_WIN);

	if (!overlap)
		w = (w & ~1u) | me;
	switch (me && !overlap ? 3 : soak_rnd(s) % 8) {
	case 0:
		return CHURN_IOVA + soak_rnd(s) % CHURN_SIZE;
	case 1:
		return DMA_LIMIT - soak_rnd(s) % (16ull << 20);	/* where dma_map puts things */
	case 2:
		return (1ull << 32) + soak_rnd(s) % (1ull << 40);	/* anywhere (no RAM there) */
	default:
		return win_iova(w) + soak_rnd(s) % WIN_SIZE;
	}
}

static uint32_t pick_pasid(uint64_t *s, unsigned int d)
{
	static const uint32_t pasids[] = { 1, 2, 1000 };

	if (d == 2 || soak_rnd(s) % 2)
		return 0;
	return pasids[soak_rnd(s) % 3];
}

static void *dma_thread(void *arg)
{
	uint64_t s = base_seed ^ (uintptr_t)arg * 0x9e3779b97f4a7c15ull;
	unsigned int me = (unsigned int)(uintptr_t)arg - 1;
	uint8_t buf[256];

	while (!soak_stopping()) {
		unsigned int d = (unsigned int)(soak_rnd(&s) % NR_DEV), op = (unsigned int)(soak_rnd(&s) % 8);
		uint32_t pasid = pick_pasid(&s, d);
		uint64_t iova = pick_addr(&s, me);
		size_t len = 1 + soak_rnd(&s) % sizeof(buf);
		int64_t r;

		if (op < 3) {
			r = C(siommu_dma_read(W.dev[d], pasid, iova, buf, len));
		} else if (op < 5) {
			memset(buf, (int)op, len);
			r = C(siommu_dma_write(W.dev[d], pasid, iova, buf, len));
		} else if (op == 5) {
			struct siommu_dma_sg sg[3] = {
				{ .iova = iova, .buf = buf, .len = 16 },
				{ .iova = pick_addr(&s, me), .buf = buf + 16, .len = 100 },
				{ .iova = iova + 4096, .buf = buf + 116, .len = 8 },
			};

			r = soak_rnd(&s) % 2 ? C(siommu_dma_read_sg(W.dev[d], pasid, sg, 3)) :
					  C(siommu_dma_write_sg(W.dev[d], pasid, sg, 3));
		} else {
			struct siommu_translation t;
			uint64_t want = expected_pa(iova);

			r = C(siommu_translate(W.dev[d], pasid, iova, SIOMMU_ACC_READ, &t));
			if (!r && want != UINT64_MAX)
				INV(&inv_xlate, t.pa == want || t.pa == iova,
				    "translate 0x%llx gave 0x%llx, window says 0x%llx (or identity)",
				    (unsigned long long)iova, (unsigned long long)t.pa,
				    (unsigned long long)want);
		}
		soak_op(&soak_core);
		atomic_fetch_add_explicit(r ? &n_dma_fault : &n_dma_ok, 1, memory_order_relaxed);
	}
	return NULL;
}

static void dm_add(uint64_t iova, uint64_t size, int dom)
{
	unsigned int i;

	pthread_mutex_lock(&W.dm_lock);
	for (i = 0; i < W.nr_dm; i++)
		if (W.dm[i].dom == dom && iova < W.dm[i].iova + W.dm[i].size &&
		    W.dm[i].iova < iova + size)
			soak_violation(&inv_dm, __FILE__, __LINE__, "dma_map gave 0x%llx+0x%llx overlapping a live "
					"0x%llx+0x%llx", (unsigned long long)iova,
					(unsigned long long)size,
					(unsigned long long)W.dm[i].iova,
					(unsigned long long)W.dm[i].size);
	thread_assert_true(W.nr_dm < 2 * NR_DMAMAP);
	W.dm[W.nr_dm].iova = iova;
	W.dm[W.nr_dm].size = size;
	W.dm[W.nr_dm].dom = dom;
	W.nr_dm++;
	pthread_mutex_unlock(&W.dm_lock);
	soak_pass(&inv_dm);
}

static void dm_del(uint64_t iova, int dom)
{
	unsigned int i;

	pthread_mutex_lock(&W.dm_lock);
	for (i = 0; i < W.nr_dm; i++)
		if (W.dm[i].iova == iova && W.dm[i].dom == dom)
			break;
	thread_assert_true(i < W.nr_dm);
	W.dm[i] = W.dm[--W.nr_dm];
	pthread_mutex_unlock(&W.dm_lock);
}

/* The owner's view of its own mapping, in the domain's table. */
static void owner_check(struct siommu_domain *dom, uint64_t iova, uint64_t want)
{
	uint64_t pa = 0;
	int r = C(siommu_pt_iova_to_phys(siommu_domain_pt(dom), iova, &pa));

	INV(&inv_owner, want == UINT64_MAX ? r == -ENOENT : (!r && pa == want),
	    "the owner's table at 0x%llx: %s 0x%llx, want %s 0x%llx",
	    (unsigned long long)iova, siommu_errname(r), (unsigned long long)pa,
	    want == UINT64_MAX ? "ENOENT" : "OK", (unsigned long long)want);
}

static void *driver_thread(void *arg)
{
	unsigned int me = (unsigned int)(uintptr_t)arg - 3, i, d;	/* threads 3 and 4 */
	uint64_t s = base_seed ^ (0x1234567ull + me), a;
	bool mapped[NR_WIN][NR_PAGING] = { { false } };
	struct { uint64_t iova, size; } dm[NR_DMAMAP];
	unsigned int nr_dm = 0;
	int dmdom = me == 0 ? 1 : 0;		/* lazy for driver 0, strict for 1 */

	while (!soak_stopping()) {
		unsigned int op = (unsigned int)(soak_rnd(&s) % 10);

		soak_op(&soak_core);
		if (op < 7) {
			/* one of my windows in one domain: map or unmap, then look */
			i = me + 2 * (unsigned int)(soak_rnd(&s) % (NR_WIN / 2));
			d = (unsigned int)(soak_rnd(&s) % NR_PAGING);
			if (!mapped[i][d]) {
				uint64_t off = (soak_rnd(&s) % 2) ? 0 : PG * (soak_rnd(&s) % 8);

				/* sometimes a part, to have 4 KiB pages beside 2 MiB ones */
				thread_assert_int_equal(C(siommu_domain_map(W.dom[d], win_iova(i) + off,
							win_pa(i) + off, WIN_SIZE - off,
							SIOMMU_PT_READ | SIOMMU_PT_WRITE)), 0);
				if (off)
					thread_assert_int_equal(C(siommu_domain_map(W.dom[d],
							win_iova(i), win_pa(i), off,
							SIOMMU_PT_READ | SIOMMU_PT_WRITE)), 0);
				mapped[i][d] = true;
				a = win_iova(i) + (soak_rnd(&s) % WIN_SIZE & ~7ull);
				owner_check(W.dom[d], a, expected_pa(a));
			} else {
				thread_assert_int_equal(C(siommu_domain_unmap(W.dom[d], win_iova(i),
								WIN_SIZE)), WIN_SIZE);
				mapped[i][d] = false;
				owner_check(W.dom[d], win_iova(i) + soak_rnd(&s) % WIN_SIZE, UINT64_MAX);
			}
		} else if (op < 9) {
			if (nr_dm < NR_DMAMAP && (soak_rnd(&s) % 2 || !nr_dm)) {
				uint64_t size = PG << (soak_rnd(&s) % 6), iova = 0;
				int64_t r = C(siommu_domain_dma_map(W.dom[dmdom], DMAMAP_PA +
							me * WIN_SIZE + PG * (soak_rnd(&s) % 64), size,
							SIOMMU_PT_READ | SIOMMU_PT_WRITE,
							DMA_LIMIT, &iova));

				if (r == -ENOSPC)
					continue;
				thread_assert_int_equal(r, 0);
				dm_add(iova, size, dmdom);
				dm[nr_dm].iova = iova;
				dm[nr_dm].size = size;
				nr_dm++;
			} else if (nr_dm) {
				unsigned int k = (unsigned int)(soak_rnd(&s) % nr_dm);

				dm_del(dm[k].iova, dmdom);
				thread_assert_int_equal(C(siommu_domain_dma_unmap(W.dom[dmdom],
								dm[k].iova, dm[k].size)),
							dm[k].size);
				dm[k] = dm[--nr_dm];
			}
		} else {
			C(siommu_domain_flush(W.dom[1]));
		}
	}
	/* Leave nothing mapped that the teardown would not expect. */
	while (nr_dm) {
		nr_dm--;
		dm_del(dm[nr_dm].iova, dmdom);
		thread_assert_int_equal(C(siommu_domain_dma_unmap(W.dom[dmdom], dm[nr_dm].iova,
								 dm[nr_dm].size)), dm[nr_dm].size);
	}
	return NULL;
}

static void *attach_thread(void *arg)
{
	uint64_t s = base_seed ^ 0xa77ac4ull;
	static const uint32_t pasids[] = { 1, 2, 1000 };

	while (!soak_stopping()) {
		unsigned int d = (unsigned int)(soak_rnd(&s) % NR_DEV), op = (unsigned int)(soak_rnd(&s) % 6);
		struct siommu_domain *dom = W.dom[soak_rnd(&s) % NR_DOM];
		uint32_t pasid = pasids[soak_rnd(&s) % 3];
		int64_t r;

		if (d == 2)
			pasid = 0;		/* no PASID capability */
		if (op < 3) {
			r = pasid ? C(siommu_pasid_replace(W.dev[d], pasid, dom)) :
				    C(siommu_device_replace(W.dev[d], dom));
			/* Identity/blocked on a PASID may be refused; otherwise it is done. */
			if (!r)
				INV(&inv_attach, siommu_device_domain(W.dev[d], pasid ? pasid :
					SIOMMU_NO_PASID) == dom, "replace returned 0 but the domain is not it");
		} else if (op < 5) {
			r = pasid ? C(siommu_pasid_attach(W.dev[d], pasid, dom)) :
				    C(siommu_device_attach(W.dev[d], dom));
			if (!r)
				INV(&inv_attach, siommu_device_domain(W.dev[d], pasid ? pasid :
					SIOMMU_NO_PASID) == dom, "attach returned 0 but the domain is not it");
		} else {
			r = pasid ? C(siommu_pasid_detach(W.dev[d], pasid)) :
				    C(siommu_device_detach(W.dev[d]));
			if (!r)
				INV(&inv_attach, !siommu_device_domain(W.dev[d], pasid ? pasid :
					SIOMMU_NO_PASID), "detach returned 0 but a domain is attached");
		}
		soak_op(&soak_core);
		usleep(200);
	}
	return NULL;
}

static void *region_thread(void *arg)
{
	uint64_t s = base_seed ^ 0x4e610aull;

	while (!soak_stopping()) {
		struct siommu_mem_region *r = NULL;
		unsigned int d = (unsigned int)(soak_rnd(&s) % NR_PAGING), k;
		uint64_t pa = 0;

		thread_assert_int_equal(C(siommu_mem_add_ram(W.mem, CHURN_PA, CHURN_SIZE, &r)), 0);
		thread_assert_int_equal(C(siommu_domain_map(W.dom[d], CHURN_IOVA, CHURN_PA,
							   CHURN_SIZE, SIOMMU_PT_READ |
							   SIOMMU_PT_WRITE)), 0);
		/* (DMA to it is DMA thread 0's: see pick_addr()) */
		usleep(500);
		thread_assert_int_equal(C(siommu_mem_region_revoke(r)), 0);
		/* Revoke tore the mapping down: no domain maps the region now. */
		for (k = 0; k < NR_PAGING; k++) {
			int ret = C(siommu_pt_iova_to_phys(siommu_domain_pt(W.dom[k]),
							   CHURN_IOVA + PG * (soak_rnd(&s) % 256), &pa));

			INV(&inv_revoke, ret == -ENOENT, "domain %u still maps the revoked region (%s)",
			    k, siommu_errname(ret));
		}
		soak_op(&soak_mem);
		thread_assert_int_equal(C(siommu_mem_region_destroy(r)), 0);
		usleep(1000);
	}
	return NULL;
}

/* ------------------------------------------------------------------ world */

static void world_create(struct siommu_ctx *ctx)
{
	static const enum siommu_pt_fmt fmts[NR_PAGING] = {
		SIOMMU_PT_FMT_X86_64, SIOMMU_PT_FMT_X86_64, SIOMMU_PT_FMT_VTD_SS,
		SIOMMU_PT_FMT_ARM_LPAE_S1, SIOMMU_PT_FMT_VTD_SS,
	};
	struct siommu_iommu_caps caps = { .pasid_bits = 12 };
	unsigned int i;

	assert_int_equal(siommu_mem_create(ctx, &W.mem), 0);
	assert_int_equal(siommu_mem_add_ram(W.mem, RAM_PA, RAM_SIZE, &W.ram), 0);
	assert_int_equal(siommu_iommu_create(ctx, &caps, W.mem, &W.iommu), 0);
	for (i = 0; i < NR_DEV; i++)
		assert_int_equal(siommu_device_create(W.iommu, SIOMMU_RID(0, 3, i, 0),
						      i < 2 ? SIOMMU_DEV_PASID : 0, i < 2 ? 12 : 0,
						      &W.dev[i]), 0);
	for (i = 0; i < NR_PAGING; i++) {
		struct siommu_domain_cfg cfg = {
			.type = SIOMMU_DOMAIN_PAGING, .fmt = fmts[i],
			.levels = fmts[i] == SIOMMU_PT_FMT_VTD_SS ? 4 : 0,
			.unmap_mode = i == 1 ? SIOMMU_UNMAP_LAZY : SIOMMU_UNMAP_STRICT,
			.fq_batch = 8,
		};

		assert_int_equal(siommu_domain_create(W.iommu, &cfg, &W.dom[i]), 0);
	}
	assert_int_equal(siommu_domain_create(W.iommu, &(struct siommu_domain_cfg){
					      .type = SIOMMU_DOMAIN_IDENTITY }, &W.dom[5]), 0);
	assert_int_equal(siommu_domain_create(W.iommu, &(struct siommu_domain_cfg){
					      .type = SIOMMU_DOMAIN_BLOCKED }, &W.dom[6]), 0);
	for (i = 0; i < NR_DEV; i++)
		assert_int_equal(siommu_device_attach(W.dev[i], W.dom[i]), 0);
	pthread_mutex_init(&W.dm_lock, NULL);
}

static void world_destroy(void)
{
	static const uint32_t pasids[] = { 1, 2, 1000 };
	unsigned int i, p;

	for (i = 0; i < NR_DEV; i++) {
		siommu_device_detach(W.dev[i]);
		for (p = 0; p < 3 && i < 2; p++)
			siommu_pasid_detach(W.dev[i], pasids[p]);
		INV(&inv_leak, siommu_device_destroy(W.dev[i]) == 0, "core: device destroy");
	}
	for (i = 0; i < NR_DOM; i++)
		INV(&inv_leak, siommu_domain_destroy(W.dom[i]) == 0, "core: domain %u destroy", i);
	INV(&inv_leak, siommu_iommu_destroy(W.iommu) == 0, "core: iommu destroy");
	pthread_mutex_destroy(&W.dm_lock);
}

static void mem_destroy(void)
{
	INV(&inv_leak, siommu_mem_region_destroy(W.ram) == 0, "mem: RAM region destroy");
	INV(&inv_leak, siommu_mem_destroy(W.mem) == 0, "mem: memory map destroy");
}

struct soak_module soak_mem = {
	.name = "mem",
	.contracts = mem_contract_fns,
	.thread = { region_thread },
	.destroy = mem_destroy,
	.inv = { &inv_revoke },
};

struct soak_module soak_core = {
	.name = "core",
	.contracts = contract_fns,
	.create = world_create,
	.thread = { dma_thread, dma_thread, driver_thread, driver_thread, attach_thread },
	.destroy = world_destroy,
	.inv = { &inv_xlate, &inv_owner, &inv_dm, &inv_attach },
};

/* mem first: core's IOMMU uses its memory map (destroyed in reverse order). */
static struct soak_module *const modules[] = {
	&soak_mem, &soak_core, &soak_ioas, &soak_iopf, &soak_mm,
};
#define NR_MODULES (sizeof(modules) / sizeof(modules[0]))

static double soak_seconds = 5;

static unsigned long inv_sum(struct soak_inv *i, bool violated)
{
	return atomic_load(violated ? &i->violated : &i->checked);
}

static void test_soak(void **state)
{
	static struct soak_inv *const common[] = { &inv_contract, &inv_leak, &inv_log };
	pthread_t t[NR_MODULES][SOAK_MAX_THREADS];
	struct siommu_ctx *ctx;
	unsigned long checks = 0, viol = 0;
	char ops[256] = "";
	double t0, next, secs;
	unsigned int m, i, n = 0;
	int ret;

	(void)state;
	for (m = 0; m < NR_MODULES; m++)
		for (i = 0; modules[m]->contracts && modules[m]->contracts[i]; i++)
			soak_contract_prepare(modules[m]->contracts[i]);
	soak_log_watch("ioas:");
	print_message("# soak: %.0f s, seed %llu\n", soak_seconds, (unsigned long long)base_seed);
	/* One context for every module: its destroy at the end says nothing leaked. */
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	W.ctx = ctx;
	siommu_ctx_set_log(ctx, SIOMMU_LOG_WARN, log_sink, NULL);
	for (m = 0; m < NR_MODULES; m++)
		if (modules[m]->create)
			modules[m]->create(ctx);
	for (m = 0; m < NR_MODULES; m++)
		for (i = 0; i < SOAK_MAX_THREADS && modules[m]->thread[i]; i++)
			assert_int_equal(pthread_create(&t[m][i], NULL, modules[m]->thread[i],
							(void *)(uintptr_t)(i + 1)), 0);
	t0 = test_now_s();
	next = t0 + 60;
	while (test_now_s() - t0 < soak_seconds) {
		usleep(100000);
		if (soak_break && atomic_load(&n_violations))
			break;		/* the broken variant was caught */
		if (test_now_s() >= next) {
			print_message("# %.0f min: %lu calls; ops core %lu mem %lu ioas %lu iopf %lu "
				      "mm %lu\n", (test_now_s() - t0) / 60, atomic_load(&n_calls),
				      atomic_load(&soak_core.ops), atomic_load(&soak_mem.ops),
				      atomic_load(&soak_ioas.ops), atomic_load(&soak_iopf.ops),
				      atomic_load(&soak_mm.ops));
			next += 60;
		}
	}
	atomic_store(&soak_stop_flag, true);
	for (m = 0; m < NR_MODULES; m++)
		for (i = 0; i < SOAK_MAX_THREADS && modules[m]->thread[i]; i++)
			assert_int_equal(pthread_join(t[m][i], NULL), 0);
	secs = test_now_s() - t0;
	for (m = 0; m < NR_MODULES; m++)
		if (modules[m]->settle)
			modules[m]->settle();
	for (m = NR_MODULES; m-- > 0;)
		if (modules[m]->destroy)
			modules[m]->destroy();
	/* No object leaked: the context refuses to go while any lives. */
	ret = siommu_ctx_destroy(ctx);
	INV(&inv_leak, ret == 0, "the context's destroy returned %s: an object lives",
	    siommu_errname(ret));

	print_message("# %lu calls; DMA %lu done, %lu faulted; %lu log messages\n",
		      atomic_load(&n_calls), atomic_load(&n_dma_ok), atomic_load(&n_dma_fault),
		      atomic_load(&n_log));
	print_message("# invariants (checked, violated):\n");
	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
		print_message("#   %-70s %10lu %lu\n", common[i]->name, inv_sum(common[i], false),
			      inv_sum(common[i], true));
		checks += inv_sum(common[i], false);
		viol += inv_sum(common[i], true);
	}
	for (m = 0; m < NR_MODULES; m++) {
		for (i = 0; i < SOAK_MAX_INVS && modules[m]->inv[i]; i++) {
			struct soak_inv *v = modules[m]->inv[i];

			print_message("#   %-70s %10lu %lu\n", v->name, inv_sum(v, false),
				      inv_sum(v, true));
			checks += inv_sum(v, false);
			viol += inv_sum(v, true);
			/* Every invariant had work to check. */
			if (!inv_sum(v, false)) {
				print_message("#   (%s was never checked)\n", v->name);
				viol++;
			}
		}
		n += (unsigned int)snprintf(ops + n, sizeof(ops) - n, " %s=%lu", modules[m]->name,
					    atomic_load(&modules[m]->ops));
	}
	print_message("SOAK-SUMMARY seconds=%.0f seed=%llu ops%s calls=%lu checks=%lu "
		      "violations=%lu\n", secs, (unsigned long long)base_seed, ops,
		      atomic_load(&n_calls), checks, viol);
	assert_int_equal(viol, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak),
	};
	int i, nice_by = 0;

	base_seed = (uint64_t)time(NULL);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			soak_seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			base_seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--overlap"))
			overlap = true;
		else if (!strcmp(argv[i], "--break") && i + 1 < argc)
			soak_break = argv[++i];
		else if (!strcmp(argv[i], "--nice") && i + 1 < argc)
			nice_by = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--seconds S] [--seed N] [--overlap] [--nice N] "
				"[--break mm-no-sva-inval|iopf-naive-drain]\n", argv[0]);
			return 2;
		}
	}
	/*
	 * --nice: in make check the soak runs beside other tests; its threads
	 * (which inherit the main thread's nice value) take what they leave.
	 */
	if (nice_by && nice(nice_by) == -1 && errno)
		fprintf(stderr, "soak: nice(%d): %s\n", nice_by, strerror(errno));
	if (soak_break) {
		if (strcmp(soak_break, "mm-no-sva-inval") && strcmp(soak_break, "iopf-naive-drain")) {
			fprintf(stderr, "soak: unknown break '%s'\n", soak_break);
			return 2;
		}
		if (!siommu_testing_build()) {
			printf("BREAK-UNSUPPORTED: %s needs a -Dtesting=true build\n", soak_break);
			return 77;
		}
	}
	return cmocka_run_group_tests_name("soak", tests, NULL, NULL);
}
