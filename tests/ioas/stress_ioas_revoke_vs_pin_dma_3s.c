// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stress: revoke of memory-map regions an IOAS maps, racing access pins
 * and device DMA (seeds 003 and 004 together).
 *
 * NREG RAM regions of a memory map, each mapped (REGION memory) at its own
 * IOVA into an IOAS whose domain a device is attached to.  PINNERS threads,
 * each with a cooperative access, pin a page of a random region, check it
 * holds one generation's bytes, and keep the pin until their callback asks
 * for it or a while has passed; a DMA thread reads through the device at
 * random IOVAs.  The driver revokes a random region; when the revoke
 * returns it checks, then unmaps the area, destroys the region (its RAM is
 * freed), adds a new one at the same address with a new generation and
 * maps it again.  Half the time no domain is attached during the revoke
 * (the device is detached first), so the IOAS's own revoke notifier is the
 * only path that tells the pinners.
 *
 * Checks when a revoke returns: no access holds a pin in the region's area
 * (siommu_ioas_pin_holders() 0: every pin is asked to go before the revoke
 * returns, none slips in after); a pin and an rw of the area fail -ENODEV;
 * a DMA read of it fails.  Pins and DMA that return 0 see one generation's
 * bytes, never zeroes (a region's RAM is never touched after its revoke:
 * the sanitizers see a use of freed RAM).  No pin leaks at the end.
 *
 * Broken variant (testing builds, SIOMMU_STRESS_BREAK=1): the IOAS's revoke
 * notifier looks for holders at once instead of after a grace period, and
 * a yield widens the window between a pin's revoked check and its record:
 * a pin that checked before the flag was set is recorded after the
 * notifier looked, so the revoke returns with it held ("VIOLATION: revoke
 * returned with a pin held").
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_common.h"

#include <softiommu/softiommu.h>
#include "ioas/ioas_internal.h"
#include "base/debug.h"

#define PG	4096ull
#define NREG	4
#define REG_PG	4
#define PINNERS	2
#define PA0	0x40000000ull
#define IOVA0	0x100000ull

static struct siommu_mem *mem;
static struct siommu_ioas *ioas;
static struct siommu_device *dev;
static bool stop;
static bool break_revoke __attribute__((unused));
static long violations, pins_ok, pins_refused, dmas_ok, dmas_failed, revokes, asked;

/*
 * A driver's own bookkeeping of its pin, under its own mutex: the pin call
 * and the record are one step for the callback, which takes the mutex too
 * (as an mdev driver's unmap notifier would).
 */
struct pinner {
	struct siommu_ioas_access *acc;
	pthread_mutex_t mu;
	uint64_t pinned;		/* [mu] iova of its pin, 0 none; read atomically */
	unsigned int seed;
};

static void violation(const char *what)
{
	__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "VIOLATION: %s\n", what);
}

static uint64_t reg_pa(unsigned int r)
{
	return PA0 + (uint64_t)r * 0x100000;
}

static uint64_t reg_iova(unsigned int r)
{
	return IOVA0 + (uint64_t)r * 0x100000;
}

/* Whoever takes the pin (pinner or callback) unpins it, exactly once. */
static void take_and_unpin(struct pinner *p)
{
	pthread_mutex_lock(&p->mu);
	if (p->pinned)
		thread_assert_int_equal(siommu_ioas_access_unpin(p->acc, p->pinned, PG), 0);
	__atomic_store_n(&p->pinned, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->mu);
}

static void unmap_cb(void *opaque, uint64_t iova, uint64_t length)
{
	(void)iova;
	(void)length;
	__atomic_fetch_add(&asked, 1, __ATOMIC_RELAXED);
	take_and_unpin(opaque);
}

static bool one_generation(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != b[0] || !b[i])
			return false;
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *pinner_fn(void *arg)
{
	struct pinner *p = arg;

#if SIOMMU_TESTING_BUILD
	/* Widen the window between a pin's checks and its record. */
	siommu_test_yield(1ull << SIOMMU_YIELD_IOAS_HOLD);
#endif
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned int r = (unsigned int)rand_r(&p->seed) % NREG;
		uint64_t iova = reg_iova(r) + (uint64_t)(rand_r(&p->seed) % REG_PG) * PG;
		void *page;
		double until;
		int ret;

		pthread_mutex_lock(&p->mu);
		ret = siommu_ioas_access_pin(p->acc, iova, PG, 0, &page);
		if (!ret)
			__atomic_store_n(&p->pinned, iova, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&p->mu);
		if (ret) {
			if (ret != -ENODEV && ret != -ENOENT && ret != -EBUSY)
				violation("pin failed uncleanly");
			__atomic_fetch_add(&pins_refused, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_fetch_add(&pins_ok, 1, __ATOMIC_RELAXED);
		/* Pinned: the region's RAM stays valid until the unpin. */
		pthread_mutex_lock(&p->mu);	/* the page is valid while we hold the pin */
		if (p->pinned && !one_generation(page, 64))
			violation("pinned page does not hold one generation's bytes");
		pthread_mutex_unlock(&p->mu);
		/* Keep it until asked, or 200 us. */
		until = now_s() + 200e-6;
		while (__atomic_load_n(&p->pinned, __ATOMIC_ACQUIRE) && now_s() < until)
			;
		take_and_unpin(p);
	}
#if SIOMMU_TESTING_BUILD
	siommu_test_yield(0);
#endif
	return NULL;
}

static void *dma_fn(void *arg)
{
	unsigned int seed = 99;
	uint8_t b[32];

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned int r = (unsigned int)rand_r(&seed) % NREG;
		uint64_t iova = reg_iova(r) + (uint64_t)(rand_r(&seed) % (REG_PG * PG - sizeof(b)));

		if (siommu_dma_read(dev, 0, iova, b, sizeof(b))) {
			__atomic_fetch_add(&dmas_failed, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_fetch_add(&dmas_ok, 1, __ATOMIC_RELAXED);
		if (!one_generation(b, sizeof(b)))
			violation("DMA read bytes of no single generation");
	}
	return NULL;
}

/* A new region r with generation @gen, mapped at its IOVA. */
static struct siommu_mem_region *region_add(unsigned int r, uint8_t gen)
{
	struct siommu_mem_region *reg;
	struct siommu_ioas_mem m;
	uint8_t *fill = malloc(REG_PG * PG);
	uint64_t iova = reg_iova(r);

	assert_non_null(fill);
	memset(fill, gen, REG_PG * PG);
	assert_int_equal(siommu_mem_add_ram(mem, reg_pa(r), REG_PG * PG, &reg), 0);
	assert_int_equal(siommu_mem_rw(mem, reg_pa(r), fill, REG_PG * PG, true), 0);
	free(fill);
	m = (struct siommu_ioas_mem){ .type = SIOMMU_IOAS_MEM_REGION, .mem = mem, .region = reg };
	assert_int_equal(siommu_ioas_map(ioas, &m, REG_PG * PG, SIOMMU_IOAS_MAP_READ |
					 SIOMMU_IOAS_MAP_WRITE | SIOMMU_IOAS_MAP_FIXED_IOVA,
					 &iova), 0);
	return reg;
}

static void test_stress_ioas_revoke_vs_pin_dma(void **state)
{
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_ioas_layer *l;
	struct siommu_domain *dom;
	struct siommu_mem_region *reg[NREG];
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct pinner pn[PINNERS];
	pthread_t th[PINNERS], dth;
	struct siommu_ioas_info info;
	double end = test_now_s() + test_stress_seconds(3);
	unsigned int seed = 3, i;
	uint8_t gen = 1, b[8];
	bool attached = true;

	(void)state;
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	/* pins that stay are logged; refused unmaps too: no warning each time */
	assert_int_equal(siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, NULL, NULL), 0);
	assert_int_equal(siommu_mem_create(ctx, &mem), 0);
	assert_int_equal(siommu_iommu_create(ctx, NULL, mem, &iommu), 0);
	assert_int_equal(siommu_device_create(iommu, SIOMMU_RID(0, 0, 1, 0), 0, 0, &dev), 0);
	assert_int_equal(siommu_ioas_layer_create(ctx, iommu, &l), 0);
	assert_int_equal(siommu_ioas_create(l, &ioas), 0);
	for (i = 0; i < NREG; i++)
		reg[i] = region_add(i, gen++);
	assert_int_equal(siommu_ioas_domain_alloc(ioas, &cfg, &dom), 0);
	assert_int_equal(siommu_device_attach(dev, dom), 0);
	for (i = 0; i < PINNERS; i++) {
		pn[i] = (struct pinner){ .seed = 10 + i };
		pthread_mutex_init(&pn[i].mu, NULL);
		assert_int_equal(siommu_ioas_access_create(ioas, "pinner", unmap_cb, &pn[i], 0,
							   &pn[i].acc), 0);
		assert_int_equal(pthread_create(&th[i], NULL, pinner_fn, &pn[i]), 0);
	}
	assert_int_equal(pthread_create(&dth, NULL, dma_fn, NULL), 0);
#if SIOMMU_TESTING_BUILD
	if (break_revoke)
		ioas_test_set_break(IOAS_BREAK_REVOKE_NO_WAIT);
#endif
	while (test_now_s() < end && !__atomic_load_n(&violations, __ATOMIC_RELAXED)) {
		unsigned int r = (unsigned int)rand_r(&seed) % NREG;
		bool detach = rand_r(&seed) % 2;
		void *page;
		int ret;

		if (detach && attached) {
			assert_int_equal(siommu_device_detach(dev), 0);
			attached = false;
		} else if (!detach && !attached) {
			assert_int_equal(siommu_device_attach(dev, dom), 0);
			attached = true;
		}
		assert_int_equal(siommu_mem_region_revoke(reg[r]), 0);
		revokes++;
		/* The revoke returned: every pin of the region was asked to go. */
		if (siommu_ioas_pin_holders(ioas, reg_iova(r), REG_PG * PG, NULL, 0) != 0)
			violation("revoke returned with a pin held");
		ret = siommu_ioas_access_pin(pn[0].acc, reg_iova(r), PG, 0, &page);
		if (ret != -ENODEV) {
			violation("pin of a revoked region did not fail -ENODEV");
			if (!ret)
				siommu_ioas_access_unpin(pn[0].acc, reg_iova(r), PG);
		}
		if (siommu_ioas_access_rw(pn[0].acc, reg_iova(r), b, sizeof(b), 0) != -ENODEV)
			violation("rw of a revoked region did not fail -ENODEV");
		if (attached && !siommu_dma_read(dev, 0, reg_iova(r), b, sizeof(b)))
			violation("DMA reached a revoked region");
		/* Tear down and recreate (the broken variant may leave a pin: ask it). */
		while ((ret = siommu_ioas_unmap(ioas, reg_iova(r), REG_PG * PG, NULL)) == -EBUSY)
			;
		assert_int_equal(ret, 0);
		assert_int_equal(siommu_mem_region_destroy(reg[r]), 0);
		if (++gen == 0)
			gen = 1;
		reg[r] = region_add(r, gen);
	}
#if SIOMMU_TESTING_BUILD
	ioas_test_set_break(IOAS_BREAK_NONE);
#endif
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < PINNERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(pthread_join(dth, NULL), 0);
	assert_int_equal(siommu_ioas_get_info(ioas, &info), 0);
	printf("# revokes %ld, pins %ld (refused %ld, asked %ld), DMA %ld (failed %ld)\n",
	       revokes, pins_ok, pins_refused, asked, dmas_ok, dmas_failed);
	assert_int_equal(info.pinned_pages, 0);	/* no pin leaks */
	assert_int_equal(violations, 0);
	assert_true(revokes > 0 && pins_ok > 0 && dmas_ok > 0);
	for (i = 0; i < PINNERS; i++)
		assert_int_equal(siommu_ioas_access_destroy(pn[i].acc), 0);
	for (i = 0; i < PINNERS; i++)
		pthread_mutex_destroy(&pn[i].mu);
	if (attached)
		assert_int_equal(siommu_device_detach(dev), 0);
	assert_int_equal(siommu_ioas_domain_free(l, dom), 0);
	assert_int_equal(siommu_ioas_destroy(ioas), 0);
	for (i = 0; i < NREG; i++)
		assert_int_equal(siommu_mem_region_destroy(reg[i]), 0);
	assert_int_equal(siommu_ioas_layer_destroy(l), 0);
	assert_int_equal(siommu_device_destroy(dev), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_ioas_revoke_vs_pin_dma),
	};

	(void)argc;
	(void)argv;
	if (test_break_requested()) {
#if SIOMMU_TESTING_BUILD
		break_revoke = true;
#else
		test_break_unsupported("the ioas break hooks exist in -Dtesting=true builds only");
#endif
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
