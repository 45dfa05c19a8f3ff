// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Attach/replace during DMA: a DMA sees the old domain or the new one,
 * never none, never a freed one.
 *
 * A driver thread keeps creating a paging domain (cycling through the
 * formats) that maps one IOVA page to buffer A or buffer B in turn,
 * replaces the device's domain and its PASID 1's domain with it, and
 * destroys the previous domain (which waits for a grace period and frees
 * its page table).  DMA threads read that page without PASID and with
 * PASID 1, all the time.  Every read must succeed (a replace leaves no gap:
 * no "no domain" or "not present" fault) and return a page that is all A or
 * all B (one translation per page).  Under ASan, a DMA that walked a freed
 * table or domain would be a use-after-free.
 *
 * SIOMMU_STRESS_BREAK=1 (testing builds): domains are destroyed without
 * their grace period (core_test_set_skip_grace()), and the DMA threads
 * yield between loading the attachment and using the domain; ASan then
 * reports a use-after-free (and TSan a race).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"

#include <softiommu/core.h>
#include "siommu_config.h"
#include "core/core_internal.h"

#define PG		4096u
#define WORDS		(PG / 8)
#define NDMA		2
#define NDMA_BREAK	6		/* oversubscribed: preempted inside the window */
#define IOVA		0x40000000ull
#define PAT_A		0xaaaaaaaaaaaaaaaaull
#define PAT_B		0xbbbbbbbbbbbbbbbbull

struct run {
	struct siommu_device *dev;
	uint64_t *buf_a, *buf_b;
	int stop;				/* atomic */
	uint64_t reads, seen_a, seen_b;		/* atomic adds */
	uint64_t faults, torn;			/* atomic adds */
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static void *dma_thread(void *arg)
{
	struct run *r = arg;
	uint64_t buf[WORDS];
	unsigned int i, n = 0;
	uint32_t pasid;
	int ret;

	if (getenv("SIOMMU_STRESS_BREAK"))
		siommu_test_yield(1ull << SIOMMU_YIELD_CORE_XLATE);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		pasid = n++ & 1;
		ret = siommu_dma_read(r->dev, pasid, IOVA, buf, PG);
		__atomic_fetch_add(&r->reads, 1, __ATOMIC_RELAXED);
		if (ret) {
			__atomic_fetch_add(&r->faults, 1, __ATOMIC_RELAXED);
			continue;
		}
		for (i = 1; i < WORDS; i++)
			if (buf[i] != buf[0])
				break;
		if (i < WORDS || (buf[0] != PAT_A && buf[0] != PAT_B))
			__atomic_fetch_add(&r->torn, 1, __ATOMIC_RELAXED);
		else if (buf[0] == PAT_A)
			__atomic_fetch_add(&r->seen_a, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&r->seen_b, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static uint64_t *buf_new(uint64_t pattern)
{
	uint64_t *b = NULL;
	unsigned int i;

	assert_int_equal(posix_memalign((void **)&b, PG, PG), 0);
	for (i = 0; i < WORDS; i++)
		b[i] = pattern;
	return b;
}

static struct siommu_domain *new_domain(struct siommu_iommu *iommu,
					unsigned int gen, uint64_t *buf)
{
	static const enum siommu_pt_fmt fmts[] = {
		SIOMMU_PT_FMT_X86_64, SIOMMU_PT_FMT_VTD_SS, SIOMMU_PT_FMT_ARM_LPAE_S1,
	};
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING,
		.fmt = fmts[gen % 3],
	};
	struct siommu_domain *d;

	assert_int_equal(siommu_domain_create(iommu, &cfg, &d), 0);
	assert_int_equal(siommu_domain_map(d, IOVA, (uintptr_t)buf, PG,
					   SIOMMU_PT_READ), 0);
	return d;
}

static void test_core_replace_during_dma(void **state)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct siommu_iommu *iommu;
	struct siommu_domain *cur, *next;
	struct siommu_ctx *ctx;
	pthread_t tids[NDMA_BREAK];
	double t0, secs = test_stress_seconds(2.0);
	unsigned int gen = 0, i, ndma = getenv("SIOMMU_STRESS_BREAK") ? NDMA_BREAK : NDMA;
	struct run r;

	memset(&r, 0, sizeof(r));
	r.buf_a = buf_new(PAT_A);
	r.buf_b = buf_new(PAT_B);
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_iommu_create(ctx, &caps, NULL, &iommu), 0);
	assert_int_equal(siommu_device_create(iommu, SIOMMU_RID(0, 2, 0, 0),
					      SIOMMU_DEV_PASID, 8, &r.dev), 0);
	cur = new_domain(iommu, gen, r.buf_a);
	assert_int_equal(siommu_device_attach(r.dev, cur), 0);
	assert_int_equal(siommu_pasid_attach(r.dev, 1, cur), 0);

	for (i = 0; i < ndma; i++)
		assert_int_equal(pthread_create(&tids[i], NULL, dma_thread, &r), 0);
	t0 = test_now_s();
	while (test_now_s() - t0 < secs) {
		gen++;
		next = new_domain(iommu, gen, (gen & 1) ? r.buf_b : r.buf_a);
		assert_int_equal(siommu_device_replace(r.dev, next), 0);
		assert_int_equal(siommu_pasid_replace(r.dev, 1, next), 0);
		/* Waits for DMA that loaded @cur, then frees it and its table. */
#if SIOMMU_TESTING_BUILD
		core_test_set_skip_grace(cur, getenv("SIOMMU_STRESS_BREAK") != NULL);
#endif
		assert_int_equal(siommu_domain_destroy(cur), 0);
		cur = next;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < ndma; i++)
		assert_int_equal(pthread_join(tids[i], NULL), 0);

	print_message("# replaces %u reads %" PRIu64 " (A %" PRIu64 ", B %" PRIu64
		      ") faults %" PRIu64 " torn %" PRIu64 "\n", gen, r.reads,
		      r.seen_a, r.seen_b, r.faults, r.torn);
	assert_int_equal(r.faults, 0);
	assert_int_equal(r.torn, 0);
	assert_true(gen > 10);
	assert_true(r.seen_a > 0 && r.seen_b > 0);

	assert_int_equal(siommu_pasid_detach(r.dev, 1), 0);
	assert_int_equal(siommu_device_detach(r.dev), 0);
	assert_int_equal(siommu_domain_destroy(cur), 0);
	assert_int_equal(siommu_device_destroy(r.dev), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	free(r.buf_a);
	free(r.buf_b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_replace_during_dma),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
