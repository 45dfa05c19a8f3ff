// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The revocation contract seen through the IOMMU (seed 003): DMA threads
 * hammer caller memory registered as a region and mapped in a strict domain
 * (no PASID) and a lazy one (PASID 1) while a driver revokes the region.
 * When siommu_mem_region_revoke() returns: no DMA that starts afterwards
 * succeeds (the core's notifier tore the mappings down, IOTLB included,
 * and the region refuses accesses), no DMA is still copying (the driver
 * poisons the memory at once: no successful read may contain POISON, and
 * the poison must be intact when the memory is freed), and the memory can
 * be freed without ASan reports.
 *
 * Each round uses a fresh region and IOVA.  A DMA thread reads the round
 * (cur) and then the last round whose revoke returned (done) before each
 * transfer: a success with done >= cur is a DMA after the revoke returned.
 * DMA threads own disjoint pages, so they never race each other.  Right
 * after each revoke the driver also checks that neither domain's table
 * still maps a page of the region.
 *
 * SIOMMU_STRESS_BREAK=1 (testing builds; elsewhere it prints
 * BREAK-UNSUPPORTED and exits 77): the core's revoke notifier leaves every
 * mapping in place (core_test_set_skip_revoke()).  DMA through them still
 * fails on the region's revoked flag, but the mappings survive the revoke:
 * the test must fail with "mappings survived revoke N" (N > 0).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "test_common.h"

#include <softiommu/core.h>
#include <softiommu/mem.h>
#include "siommu_config.h"
#include "core/core_internal.h"

#define PG		4096u
#define NPAGE		8
#define BYTES		(NPAGE * PG)
#define WORDS		(BYTES / 8)
#define NDMA		2
#define PA0		0x100000000ull
#define IOVA0		0x1000000000ull
#define STRIDE		0x100000ull
#define POISON		0xdeadbeefdeadbeefull

struct run {
	struct siommu_device *dev;
	int64_t cur;			/* atomic: round being hammered */
	int64_t done;			/* atomic: last round whose revoke returned */
	int stop;			/* atomic */
	uint64_t ok, failed, other;	/* atomic adds */
	uint64_t after_revoke, poison_reads;	/* atomic adds: violations */
};

struct dma_arg {
	struct run *r;
	unsigned int index;
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static void *dma_thread(void *arg)
{
	struct dma_arg *a = arg;
	struct run *r = a->r;
	uint64_t buf[PG / 8];
	unsigned int seed = 77 + a->index, page, i, len;
	int64_t cur, done;
	uint32_t pasid;
	uint64_t iova;
	int ret;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		cur = __atomic_load_n(&r->cur, __ATOMIC_ACQUIRE);
		done = __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
		if (cur < 0)
			continue;
		page = (rand_r(&seed) % (NPAGE / NDMA)) * NDMA + a->index;
		pasid = rand_r(&seed) & 1;
		len = 1 + rand_r(&seed) % (PG / 8);
		iova = IOVA0 + (uint64_t)cur * STRIDE + (uint64_t)page * PG;
		if (rand_r(&seed) & 1) {
			ret = siommu_dma_read(r->dev, pasid, iova, buf, len * 8);
			for (i = 0; !ret && i < len; i++) {
				if (buf[i] == POISON) {
					__atomic_fetch_add(&r->poison_reads, 1, __ATOMIC_RELAXED);
					break;
				}
			}
		} else {
			for (i = 0; i < len; i++)
				buf[i] = (uint64_t)(a->index + 1) << 56 | i;
			ret = siommu_dma_write(r->dev, pasid, iova, buf, len * 8);
		}
		if (!ret) {
			__atomic_fetch_add(&r->ok, 1, __ATOMIC_RELAXED);
			if (done >= cur)
				__atomic_fetch_add(&r->after_revoke, 1, __ATOMIC_RELAXED);
		} else if (ret == -ENOENT || ret == -ENODEV) {
			__atomic_fetch_add(&r->failed, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_fetch_add(&r->other, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void test_core_revoke_during_dma(void **state)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 4 };
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
	};
	struct siommu_domain *strict, *lazy;
	struct siommu_mem_region *region;
	struct siommu_iommu *iommu;
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct dma_arg args[NDMA];
	pthread_t tids[NDMA];
	double t0, secs = test_stress_seconds(2.0);
	uint64_t *host = NULL, writes_after = 0, survived = 0;
	int64_t round = 0;
	unsigned int i;
	struct run r;

	memset(&r, 0, sizeof(r));
	r.cur = -1;
	r.done = -1;
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_mem_create(ctx, &mem), 0);
	assert_int_equal(siommu_iommu_create(ctx, &caps, mem, &iommu), 0);
	assert_int_equal(siommu_device_create(iommu, SIOMMU_RID(0, 4, 0, 0), SIOMMU_DEV_PASID,
					      4, &r.dev), 0);
	assert_int_equal(siommu_domain_create(iommu, &cfg, &strict), 0);
	cfg.unmap_mode = SIOMMU_UNMAP_LAZY;
	assert_int_equal(siommu_domain_create(iommu, &cfg, &lazy), 0);
	assert_int_equal(siommu_device_attach(r.dev, strict), 0);
	assert_int_equal(siommu_pasid_attach(r.dev, 1, lazy), 0);
#if SIOMMU_TESTING_BUILD
	core_test_set_skip_revoke(iommu, getenv("SIOMMU_STRESS_BREAK") != NULL);
#endif

	for (i = 0; i < NDMA; i++) {
		args[i].r = &r;
		args[i].index = i;
		assert_int_equal(pthread_create(&tids[i], NULL, dma_thread, &args[i]), 0);
	}
	t0 = test_now_s();
	while (test_now_s() - t0 < secs) {
		uint64_t pa = PA0 + (uint64_t)round * STRIDE;
		uint64_t iova = IOVA0 + (uint64_t)round * STRIDE;

		assert_int_equal(posix_memalign((void **)&host, PG, BYTES), 0);
		for (i = 0; i < WORDS; i++)
			host[i] = (uint64_t)round;
		assert_int_equal(siommu_mem_add_host(mem, pa, host, BYTES, &region), 0);
		assert_int_equal(siommu_domain_map(strict, iova, pa, BYTES,
						   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
		assert_int_equal(siommu_domain_map(lazy, iova, pa, BYTES,
						   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
		__atomic_store_n(&r.cur, round, __ATOMIC_RELEASE);
		usleep(2000);

		assert_int_equal(siommu_mem_region_revoke(region), 0);
		/* The contract: from here on nothing touches @host. */
		__atomic_store_n(&r.done, round, __ATOMIC_RELEASE);
		/* ... and nothing maps it. */
		for (i = 0; i < NPAGE; i++) {
			uint64_t out;

			survived += !siommu_pt_iova_to_phys(siommu_domain_pt(strict),
							    iova + i * PG, &out);
			survived += !siommu_pt_iova_to_phys(siommu_domain_pt(lazy),
							    iova + i * PG, &out);
		}
		for (i = 0; i < WORDS; i++)
			host[i] = POISON;
		usleep(500);
		for (i = 0; i < WORDS; i++)
			if (host[i] != POISON)
				writes_after++;
		assert_int_equal(siommu_mem_region_destroy(region), 0);
		free(host);
		round++;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NDMA; i++)
		assert_int_equal(pthread_join(tids[i], NULL), 0);

	print_message("# rounds %" PRId64 " dma ok %" PRIu64 " failed %" PRIu64
		      " after revoke %" PRIu64 " poison reads %" PRIu64
		      " writes after %" PRIu64 " mappings survived revoke %" PRIu64 "\n",
		      round, r.ok, r.failed, r.after_revoke, r.poison_reads, writes_after,
		      survived);
	if (survived)
		print_message("# VIOLATION: mappings of a revoked region survived its revoke\n");
	assert_int_equal(survived, 0);
	assert_int_equal(r.other, 0);
	assert_int_equal(r.after_revoke, 0);
	assert_int_equal(r.poison_reads, 0);
	assert_int_equal(writes_after, 0);
	assert_true(round > 5);
	assert_true(r.ok > 0 && r.failed > 0);

	/* Nothing of the revoked regions is left mapped. */
	assert_int_equal(siommu_domain_unmap(strict, IOVA0, (uint64_t)round * STRIDE), 0);
	assert_int_equal(siommu_pasid_detach(r.dev, 1), 0);
	assert_int_equal(siommu_device_detach(r.dev), 0);
	assert_int_equal(siommu_domain_destroy(strict), 0);
	assert_int_equal(siommu_domain_destroy(lazy), 0);
	assert_int_equal(siommu_device_destroy(r.dev), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_revoke_during_dma),
	};

	if (getenv("SIOMMU_STRESS_BREAK") && !SIOMMU_TESTING_BUILD) {
		/* The skip-revoke hook exists only in testing builds. */
		printf("BREAK-UNSUPPORTED: core_test_set_skip_revoke() needs -Dtesting=true\n");
		return 77;
	}

	return cmocka_run_group_tests(tests, NULL, NULL);
}
