// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Resolver faults racing IOAS unmaps: two device threads DMA to random
 * pages of 8 areas of 8 pages of a backing IOAS, through a domain filled
 * lazily by the resolve-by-mapping handler on two workers (a DMA that
 * faults waits for its response, then retries).  The main thread keeps
 * unmapping an area (sometimes all of them) and mapping it again.
 *
 * Checked: when siommu_ioas_unmap() returns, no page of the range is
 * mapped in the domain (siommu_translate() of each fails), whatever the
 * workers were doing; a DMA that succeeds reads the page's own byte; at the
 * end nothing is pinned and the resolver's access is gone; ASan checks
 * nothing leaked.
 *
 * SIOMMU_STRESS_BREAK=1 (testing builds; a plain build says
 * BREAK-UNSUPPORTED): the resolver maps without pinning or recording the
 * page (the old resolver): pages stay mapped after the unmap returned
 * ("VIOLATION: ...").
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "test_common.h"

#include <softiommu/core.h>
#include <softiommu/ioas.h>
#include <softiommu/iopf.h>
#include "siommu_config.h"
#include "iopf/iopf_internal.h"

#define PG		4096ull
#define NAREA		8
#define APAGES		8
#define NPAGES		(NAREA * APAGES)
#define BASE		0x10000000ull
#define NDEVT		2
#define MIN_ROUNDS	200
#define MAX_SECS	60.0

struct run {
	struct siommu_iopf *iopf;
	struct siommu_ioas *backing;
	struct siommu_device *dev;
	struct siommu_domain *dom;
	uint8_t *mem;
	int stop;			/* atomic */
	uint64_t responses;		/* atomic */
	uint64_t dma_ok;		/* atomic */
	uint64_t violations;		/* atomic */
};

static struct run R;

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static void violation(const char *what, uint64_t iova)
{
	if (__atomic_fetch_add(&R.violations, 1, __ATOMIC_RELAXED) < 5)
		fprintf(stderr, "VIOLATION: %s (iova 0x%" PRIx64 ")\n", what, iova);
}

static void on_response(void *opaque, struct siommu_device *dev,
			const struct siommu_page_response *r)
{
	(void)opaque;
	(void)dev;
	(void)r;
	__atomic_fetch_add(&R.responses, 1, __ATOMIC_RELEASE);
}

static void *device_thread(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;

	while (!__atomic_load_n(&R.stop, __ATOMIC_ACQUIRE)) {
		unsigned int p = rand_r(&seed) % NPAGES;
		uint64_t iova = BASE + p * PG, r0 = __atomic_load_n(&R.responses, __ATOMIC_ACQUIRE);
		uint8_t b = 0;
		double t0;
		int ret;

		ret = siommu_dma_read(R.dev, 0, iova + 7, &b, 1);
		if (ret == 0) {
			if (b != (uint8_t)(p + 1))
				violation("DMA read another page's byte", iova);
			__atomic_fetch_add(&R.dma_ok, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (ret != -EAGAIN && ret != -ENOENT && ret != -EFAULT && ret != -EIO)
			violation("unexpected DMA error", iova);
		/* a device waits for a response (any: the PRG index is the IOMMU's) */
		t0 = test_now_s();
		while (__atomic_load_n(&R.responses, __ATOMIC_ACQUIRE) == r0 &&
		       test_now_s() - t0 < 0.002)
			sched_yield();
	}
	return NULL;
}

static int map_area(unsigned int a)
{
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST,
				     .host = R.mem + (uint64_t)a * APAGES * PG };
	uint64_t iova = BASE + (uint64_t)a * APAGES * PG;

	return siommu_ioas_map(R.backing, &m, APAGES * PG, SIOMMU_IOAS_MAP_READ |
			       SIOMMU_IOAS_MAP_WRITE | SIOMMU_IOAS_MAP_FIXED_IOVA, &iova);
}

/* After an unmap of [first, first + n) areas returned: none of their pages is mapped. */
static void check_unmapped(unsigned int first, unsigned int n)
{
	struct siommu_translation t;
	uint64_t iova;

	for (iova = BASE + (uint64_t)first * APAGES * PG;
	     iova < BASE + (uint64_t)(first + n) * APAGES * PG; iova += PG)
		if (siommu_translate(R.dev, 0, iova, SIOMMU_ACC_READ, &t) == 0)
			violation("page mapped after its IOAS unmap returned", iova);
}

static void test_resolve_vs_unmap(void **state)
{
	struct siommu_iommu_caps caps = { 0 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_WORKERS, .workers = 2 };
	double secs = test_stress_seconds(3.0), t0;
	struct siommu_ioas_layer *l;
	struct siommu_iommu *iommu;
	struct siommu_ioas_info ii;
	struct siommu_iopf_stats st;
	struct siommu_ctx *ctx;
	pthread_t th[NDEVT];
	unsigned int i, a, rounds = 0, seed = 7;
	uint64_t unmapped;
	bool broken = test_break_requested();

	(void)state;
	R.mem = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	assert_true(R.mem != MAP_FAILED);
	for (i = 0; i < NPAGES; i++)
		memset(R.mem + i * PG, i + 1, PG);
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_iommu_create(ctx, &caps, NULL, &iommu), 0);
	assert_int_equal(siommu_ioas_layer_create(ctx, iommu, &l), 0);
	assert_int_equal(siommu_ioas_create(l, &R.backing), 0);
	for (a = 0; a < NAREA; a++)
		assert_int_equal(map_area(a), 0);
	assert_int_equal(siommu_iopf_create(iommu, &icfg, &R.iopf), 0);
	assert_int_equal(siommu_device_create(iommu, SIOMMU_RID(0, 6, 0, 0), SIOMMU_DEV_PRI, 0,
					      &R.dev), 0);
	assert_int_equal(siommu_domain_create(iommu, &cfg, &R.dom), 0);
	assert_int_equal(siommu_iopf_domain_set_resolver(R.iopf, R.dom, R.backing), 0);
	assert_int_equal(siommu_iopf_device_enable(R.iopf, R.dev, on_response, NULL), 0);
	assert_int_equal(siommu_device_attach(R.dev, R.dom), 0);
#if SIOMMU_TESTING_BUILD
	iopf_test_set_resolver_unpinned(broken);
#endif
	for (i = 0; i < NDEVT; i++)
		assert_int_equal(pthread_create(&th[i], NULL, device_thread,
						(void *)(uintptr_t)(11 + i)), 0);

	t0 = test_now_s();
	while ((test_now_s() - t0 < secs || rounds < MIN_ROUNDS) && test_now_s() - t0 < MAX_SECS &&
	       !(broken && __atomic_load_n(&R.violations, __ATOMIC_RELAXED))) {
		unsigned int first = rand_r(&seed) % NAREA, n = 1;

		if (rounds % 16 == 15) {	/* everything */
			first = 0;
			n = NAREA;
			assert_int_equal(siommu_ioas_unmap_all(R.backing, &unmapped), 0);
		} else {
			assert_int_equal(siommu_ioas_unmap(R.backing,
							   BASE + (uint64_t)first * APAGES * PG,
							   APAGES * PG, &unmapped), 0);
		}
		assert_int_equal(unmapped, (uint64_t)n * APAGES * PG);
		check_unmapped(first, n);
		usleep(rand_r(&seed) % 300);	/* faults on the unbacked range: Invalid */
		check_unmapped(first, n);
		for (a = first; a < first + n; a++)
			assert_int_equal(map_area(a), 0);
		rounds++;
		usleep(rand_r(&seed) % 500);	/* let faults map pages again */
	}
	__atomic_store_n(&R.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NDEVT; i++)
		pthread_join(th[i], NULL);
#if SIOMMU_TESTING_BUILD
	iopf_test_set_resolver_unpinned(false);
#endif
	assert_int_equal(siommu_iopf_get_stats(R.iopf, &st), 0);
	printf("# rounds %u, groups %" PRIu64 ", success %" PRIu64 ", invalid %" PRIu64
	       ", DMA done %" PRIu64 ", violations %" PRIu64 "\n", rounds, st.groups,
	       st.resp_success, st.resp_invalid, __atomic_load_n(&R.dma_ok, __ATOMIC_RELAXED),
	       __atomic_load_n(&R.violations, __ATOMIC_RELAXED));
	assert_int_equal(siommu_device_detach(R.dev), 0);
	assert_int_equal(siommu_iopf_device_disable(R.iopf, R.dev), 0);
	assert_int_equal(siommu_iopf_domain_clear_handler(R.iopf, R.dom), 0);
	assert_int_equal(siommu_ioas_get_info(R.backing, &ii), 0);
	assert_int_equal(ii.pinned_pages, 0);
	assert_int_equal(ii.accesses, 0);
	assert_int_equal(siommu_iopf_destroy(R.iopf), 0);
	assert_int_equal(siommu_domain_destroy(R.dom), 0);
	assert_int_equal(siommu_device_destroy(R.dev), 0);
	assert_int_equal(siommu_ioas_destroy(R.backing), 0);
	assert_int_equal(siommu_ioas_layer_destroy(l), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	munmap(R.mem, NPAGES * PG);
	assert_int_equal(__atomic_load_n(&R.violations, __ATOMIC_RELAXED), 0);
	assert_true(st.resp_success > 0 && st.resp_invalid > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_vs_unmap),
	};

	(void)argc;
	(void)argv;
#if !SIOMMU_TESTING_BUILD
	if (test_break_requested())
		test_break_unsupported("the unpinned-resolver hook exists in -Dtesting=true builds only");
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
