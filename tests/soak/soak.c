// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Soak: the demo's world under random API traffic for a long time, with
 * invariants checked all along (make soak runs it under ASan and TSan for
 * SOAK_MINUTES; make check runs a short slice).
 *
 * The world: a memory map with one large RAM region and a churned one, an
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
 *  - at the end every object is destroyed: destroys succeed and the
 *    context's destroy (which refuses while objects live) returns 0; under
 *    ASan, LeakSanitizer checks the process at exit.
 *
 *   soak [--seconds S] [--seed N] [--overlap]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "failnth.h"

#include <softiommu/core.h>
#include <softiommu/mem.h>
#include <softiommu/pgtable.h>

#define PG		4096ull
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
	_Atomic bool stop;
	/* dma_map ranges live (for the no-overlap check), under dm_lock */
	pthread_mutex_t dm_lock;
	struct { uint64_t iova, size; int dom; } dm[2 * NR_DMAMAP];
	unsigned int nr_dm;
};

static struct world W;
static uint64_t base_seed;

/* Invariant counters. */
static _Atomic unsigned long n_calls, n_xlate_checked, n_owner_checked, n_dm_checked,
	n_attach_checked, n_revoke_checked, n_dma_ok, n_dma_fault;

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* ------------------------------------------------------------------ contract checks */

#define MAX_FNS	64

static struct {
	const char *name;
	int errs[FN_MAX_ERRS];
	int n;
} fn_cache[MAX_FNS];
static unsigned int fn_cache_n;

/* Parsed once before the threads start (the parser is not thread-safe). */
static void contract_prepare(const char *name)
{
	fn_cache[fn_cache_n].name = name;
	fn_cache[fn_cache_n].n = fn_contract_errors(name, fn_cache[fn_cache_n].errs, 0);
	if (fn_cache[fn_cache_n].n < 0)
		thread_fail_msg("soak: %s has no contract with a Returns part", name);
	fn_cache_n++;
}

static void check_ret(const char *call, int64_t ret, const char *file, int line)
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
			if (fn_cache[i].errs[j] == (int)ret)
				return;
		test_thread_failed(file, line, "soak: %s returned %s, not in its contract", call,
				   siommu_errname((int)ret));
	}
	test_thread_failed(file, line, "soak: %.*s: not prepared", (int)k, call);
}

/* The call's result, checked against its contract. */
#define C(call)								\
	({								\
		int64_t __r = (call);					\
		check_ret(#call, __r, __FILE__, __LINE__);		\
		__r;							\
	})

static const char *const contract_fns[] = {
	"siommu_dma_read", "siommu_dma_write", "siommu_dma_read_sg", "siommu_dma_write_sg",
	"siommu_translate", "siommu_domain_map", "siommu_domain_unmap",
	"siommu_domain_dma_map", "siommu_domain_dma_unmap", "siommu_domain_flush",
	"siommu_device_attach", "siommu_device_replace", "siommu_device_detach",
	"siommu_pasid_attach", "siommu_pasid_replace", "siommu_pasid_detach",
	"siommu_mem_add_ram", "siommu_mem_region_revoke", "siommu_mem_region_destroy",
	"siommu_pt_iova_to_phys", "siommu_fault_log_read", "siommu_iommu_get_stats",
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
	unsigned int w = (unsigned int)(rnd(s) % NR_WIN);

	if (!overlap)
		w = (w & ~1u) | me;
	switch (me && !overlap ? 3 : rnd(s) % 8) {
	case 0:
		return CHURN_IOVA + rnd(s) % CHURN_SIZE;
	case 1:
		return DMA_LIMIT - rnd(s) % (16ull << 20);	/* where dma_map puts things */
	case 2:
		return (1ull << 32) + rnd(s) % (1ull << 40);	/* anywhere (no RAM there) */
	default:
		return win_iova(w) + rnd(s) % WIN_SIZE;
	}
}

static uint32_t pick_pasid(uint64_t *s, unsigned int d)
{
	static const uint32_t pasids[] = { 1, 2, 1000 };

	if (d == 2 || rnd(s) % 2)
		return 0;
	return pasids[rnd(s) % 3];
}

static void *dma_thread(void *arg)
{
	uint64_t s = base_seed ^ (uintptr_t)arg * 0x9e3779b97f4a7c15ull;
	unsigned int me = (unsigned int)(uintptr_t)arg - 1;
	uint8_t buf[256];

	while (!atomic_load_explicit(&W.stop, memory_order_relaxed)) {
		unsigned int d = (unsigned int)(rnd(&s) % NR_DEV), op = (unsigned int)(rnd(&s) % 8);
		uint32_t pasid = pick_pasid(&s, d);
		uint64_t iova = pick_addr(&s, me);
		size_t len = 1 + rnd(&s) % sizeof(buf);
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

			r = rnd(&s) % 2 ? C(siommu_dma_read_sg(W.dev[d], pasid, sg, 3)) :
					  C(siommu_dma_write_sg(W.dev[d], pasid, sg, 3));
		} else {
			struct siommu_translation t;
			uint64_t want = expected_pa(iova);

			r = C(siommu_translate(W.dev[d], pasid, iova, SIOMMU_ACC_READ, &t));
			if (!r && want != UINT64_MAX) {
				if (t.pa != want && t.pa != iova)
					thread_fail_msg("soak: translate 0x%llx gave 0x%llx, window "
							"says 0x%llx (or identity)",
							(unsigned long long)iova,
							(unsigned long long)t.pa,
							(unsigned long long)want);
				atomic_fetch_add_explicit(&n_xlate_checked, 1,
							  memory_order_relaxed);
			}
		}
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
			thread_fail_msg("soak: dma_map gave 0x%llx+0x%llx overlapping a live "
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
	atomic_fetch_add_explicit(&n_dm_checked, 1, memory_order_relaxed);
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

	if (want == UINT64_MAX ? r != -ENOENT : (r || pa != want))
		thread_fail_msg("soak: the owner's table at 0x%llx: %s 0x%llx, want %s 0x%llx",
				(unsigned long long)iova, siommu_errname(r),
				(unsigned long long)pa, want == UINT64_MAX ? "ENOENT" : "OK",
				(unsigned long long)want);
	atomic_fetch_add_explicit(&n_owner_checked, 1, memory_order_relaxed);
}

static void *driver_thread(void *arg)
{
	unsigned int me = (unsigned int)(uintptr_t)arg, i, d;
	uint64_t s = base_seed ^ (0x1234567ull + me), a;
	bool mapped[NR_WIN][NR_PAGING] = { { false } };
	struct { uint64_t iova, size; } dm[NR_DMAMAP];
	unsigned int nr_dm = 0;
	int dmdom = me == 0 ? 1 : 0;		/* lazy for driver 0, strict for 1 */

	while (!atomic_load_explicit(&W.stop, memory_order_relaxed)) {
		unsigned int op = (unsigned int)(rnd(&s) % 10);

		if (op < 7) {
			/* one of my windows in one domain: map or unmap, then look */
			i = me + 2 * (unsigned int)(rnd(&s) % (NR_WIN / 2));
			d = (unsigned int)(rnd(&s) % NR_PAGING);
			if (!mapped[i][d]) {
				uint64_t off = (rnd(&s) % 2) ? 0 : PG * (rnd(&s) % 8);

				/* sometimes a part, to have 4 KiB pages beside 2 MiB ones */
				thread_assert_int_equal(C(siommu_domain_map(W.dom[d], win_iova(i) + off,
							win_pa(i) + off, WIN_SIZE - off,
							SIOMMU_PT_READ | SIOMMU_PT_WRITE)), 0);
				if (off)
					thread_assert_int_equal(C(siommu_domain_map(W.dom[d],
							win_iova(i), win_pa(i), off,
							SIOMMU_PT_READ | SIOMMU_PT_WRITE)), 0);
				mapped[i][d] = true;
				a = win_iova(i) + (rnd(&s) % WIN_SIZE & ~7ull);
				owner_check(W.dom[d], a, expected_pa(a));
			} else {
				thread_assert_int_equal(C(siommu_domain_unmap(W.dom[d], win_iova(i),
								WIN_SIZE)), WIN_SIZE);
				mapped[i][d] = false;
				owner_check(W.dom[d], win_iova(i) + rnd(&s) % WIN_SIZE, UINT64_MAX);
			}
		} else if (op < 9) {
			if (nr_dm < NR_DMAMAP && (rnd(&s) % 2 || !nr_dm)) {
				uint64_t size = PG << (rnd(&s) % 6), iova = 0;
				int64_t r = C(siommu_domain_dma_map(W.dom[dmdom], DMAMAP_PA +
							me * WIN_SIZE + PG * (rnd(&s) % 64), size,
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
				unsigned int k = (unsigned int)(rnd(&s) % nr_dm);

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

	while (!atomic_load_explicit(&W.stop, memory_order_relaxed)) {
		unsigned int d = (unsigned int)(rnd(&s) % NR_DEV), op = (unsigned int)(rnd(&s) % 6);
		struct siommu_domain *dom = W.dom[rnd(&s) % NR_DOM];
		uint32_t pasid = pasids[rnd(&s) % 3];
		int64_t r;

		if (d == 2)
			pasid = 0;		/* no PASID capability */
		if (op < 3) {
			r = pasid ? C(siommu_pasid_replace(W.dev[d], pasid, dom)) :
				    C(siommu_device_replace(W.dev[d], dom));
			/* Identity/blocked on a PASID may be refused; otherwise it is done. */
			if (!r && siommu_device_domain(W.dev[d], pasid ? pasid : SIOMMU_NO_PASID) != dom)
				thread_fail_msg("soak: replace returned 0 but the domain is not it");
		} else if (op < 5) {
			r = pasid ? C(siommu_pasid_attach(W.dev[d], pasid, dom)) :
				    C(siommu_device_attach(W.dev[d], dom));
			if (!r && siommu_device_domain(W.dev[d], pasid ? pasid : SIOMMU_NO_PASID) != dom)
				thread_fail_msg("soak: attach returned 0 but the domain is not it");
		} else {
			r = pasid ? C(siommu_pasid_detach(W.dev[d], pasid)) :
				    C(siommu_device_detach(W.dev[d]));
			if (!r && siommu_device_domain(W.dev[d], pasid ? pasid : SIOMMU_NO_PASID))
				thread_fail_msg("soak: detach returned 0 but a domain is attached");
		}
		atomic_fetch_add_explicit(&n_attach_checked, 1, memory_order_relaxed);
		usleep(200);
	}
	return NULL;
}

static void *region_thread(void *arg)
{
	uint64_t s = base_seed ^ 0x4e610aull;

	while (!atomic_load_explicit(&W.stop, memory_order_relaxed)) {
		struct siommu_mem_region *r = NULL;
		unsigned int d = (unsigned int)(rnd(&s) % NR_PAGING), k;
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
							   CHURN_IOVA + PG * (rnd(&s) % 256), &pa));

			if (ret != -ENOENT)
				thread_fail_msg("soak: domain %u still maps the revoked region (%s)",
						k, siommu_errname(ret));
		}
		atomic_fetch_add_explicit(&n_revoke_checked, 1, memory_order_relaxed);
		thread_assert_int_equal(C(siommu_mem_region_destroy(r)), 0);
		usleep(1000);
	}
	return NULL;
}

/* ------------------------------------------------------------------ world */

static void world_create(void)
{
	static const enum siommu_pt_fmt fmts[NR_PAGING] = {
		SIOMMU_PT_FMT_X86_64, SIOMMU_PT_FMT_X86_64, SIOMMU_PT_FMT_VTD_SS,
		SIOMMU_PT_FMT_ARM_LPAE_S1, SIOMMU_PT_FMT_VTD_SS,
	};
	struct siommu_iommu_caps caps = { .pasid_bits = 12 };
	unsigned int i;

	assert_int_equal(siommu_ctx_create(&W.ctx), 0);
	siommu_ctx_set_log(W.ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_mem_create(W.ctx, &W.mem), 0);
	assert_int_equal(siommu_mem_add_ram(W.mem, RAM_PA, RAM_SIZE, &W.ram), 0);
	assert_int_equal(siommu_iommu_create(W.ctx, &caps, W.mem, &W.iommu), 0);
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
		assert_int_equal(siommu_device_destroy(W.dev[i]), 0);
	}
	for (i = 0; i < NR_DOM; i++)
		assert_int_equal(siommu_domain_destroy(W.dom[i]), 0);
	assert_int_equal(siommu_iommu_destroy(W.iommu), 0);
	assert_int_equal(siommu_mem_region_destroy(W.ram), 0);
	assert_int_equal(siommu_mem_destroy(W.mem), 0);
	/* No object leaked: the context refuses to go while any lives. */
	assert_int_equal(siommu_ctx_destroy(W.ctx), 0);
	pthread_mutex_destroy(&W.dm_lock);
}

static double soak_seconds = 5;

static void test_soak(void **state)
{
	pthread_t t[6];
	double t0, next;
	unsigned int i;

	for (i = 0; i < sizeof(contract_fns) / sizeof(contract_fns[0]); i++)
		contract_prepare(contract_fns[i]);
	print_message("# soak: %.0f s, seed %llu\n", soak_seconds, (unsigned long long)base_seed);
	world_create();
	assert_int_equal(pthread_create(&t[0], NULL, dma_thread, (void *)1), 0);
	assert_int_equal(pthread_create(&t[1], NULL, dma_thread, (void *)2), 0);
	assert_int_equal(pthread_create(&t[2], NULL, driver_thread, (void *)0), 0);
	assert_int_equal(pthread_create(&t[3], NULL, driver_thread, (void *)1), 0);
	assert_int_equal(pthread_create(&t[4], NULL, attach_thread, NULL), 0);
	assert_int_equal(pthread_create(&t[5], NULL, region_thread, NULL), 0);
	t0 = test_now_s();
	next = t0 + 60;
	while (test_now_s() - t0 < soak_seconds) {
		usleep(100000);
		if (test_now_s() >= next) {
			print_message("# %.0f min: %lu calls\n", (test_now_s() - t0) / 60,
				      atomic_load(&n_calls));
			next += 60;
		}
	}
	atomic_store(&W.stop, true);
	for (i = 0; i < 6; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	world_destroy();
	print_message("# %lu calls, every result in its contract; DMA %lu done, %lu faulted\n",
		      atomic_load(&n_calls), atomic_load(&n_dma_ok), atomic_load(&n_dma_fault));
	print_message("# invariants: %lu translations of windows right, %lu owner views right, "
		      "%lu dma_maps without overlap, %lu attachment changes as said, %lu revokes "
		      "left no mapping, no object leaked\n",
		      atomic_load(&n_xlate_checked), atomic_load(&n_owner_checked),
		      atomic_load(&n_dm_checked), atomic_load(&n_attach_checked),
		      atomic_load(&n_revoke_checked));
	assert_true(atomic_load(&n_xlate_checked) > 0 && atomic_load(&n_owner_checked) > 0);
	assert_true(atomic_load(&n_revoke_checked) > 0 && atomic_load(&n_attach_checked) > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak),
	};
	int i;

	base_seed = (uint64_t)time(NULL);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			soak_seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			base_seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--overlap"))
			overlap = true;
		else {
			fprintf(stderr, "usage: %s [--seconds S] [--seed N] [--overlap]\n", argv[0]);
			return 2;
		}
	}
	return cmocka_run_group_tests_name("soak", tests, NULL, NULL);
}
