// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device removal racing fault reports (seed 002's reference count on the
 * per-device fault data): reporter threads send page requests and DMA
 * faults for a device while the main thread disables its iopf data
 * (siommu_iopf_device_disable(): the removal path) and enables it again,
 * with groups in flight on a worker pool and a handler that keeps some
 * groups and answers them late.  A report either is refused (-ENODEV) or
 * is fully handled; no response reaches the device after the disable
 * returned (the response function checks the device's epoch); under ASan
 * nothing is used after free.
 *
 * SIOMMU_STRESS_BREAK=1 (testing builds; a plain build says
 * BREAK-UNSUPPORTED): the disable frees the fault data at once, as if no
 * report could hold it: a sanitizer sees the use after free.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"

#include <softiommu/core.h>
#include <softiommu/iopf.h>
#include "siommu_config.h"
#include "iopf/iopf_internal.h"

#define NREP		2
#define MIN_ROUNDS	100
#define MAX_SECS	60.0
#define KEEP		32

struct run {
	struct siommu_iopf *iopf;
	struct siommu_device *dev;
	int enabled;			/* atomic: the epoch is live */
	int stop;			/* atomic */
	uint64_t violations, responses, refused, queued; /* atomic adds */
	pthread_mutex_t keep_lock;	/* the late answers */
	struct siommu_iopf_group *kept[KEEP];
	unsigned int nkept;
};

static struct run R;

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static void on_response(void *opaque, struct siommu_device *dev,
			const struct siommu_page_response *r)
{
	(void)opaque;
	(void)dev;
	(void)r;
	if (!__atomic_load_n(&R.enabled, __ATOMIC_ACQUIRE) &&
	    __atomic_fetch_add(&R.violations, 1, __ATOMIC_RELAXED) < 5)
		fprintf(stderr, "VIOLATION: a response after the disable returned\n");
	__atomic_fetch_add(&R.responses, 1, __ATOMIC_RELAXED);
}

/* Keeps one group in four (answered late by the main thread), answers the rest. */
static int handle(void *opaque, struct siommu_iopf_group *g)
{
	int ret = SIOMMU_PAGE_RESP_SUCCESS;

	(void)opaque;
	sched_yield();
	pthread_mutex_lock(&R.keep_lock);
	if (R.nkept < KEEP && siommu_iopf_group_request(g, 0)->addr % 0x4000 == 0) {
		R.kept[R.nkept++] = g;
		ret = SIOMMU_IOPF_ASYNC;
	}
	pthread_mutex_unlock(&R.keep_lock);
	return ret;
}

static const struct siommu_iopf_handler ops = { .name = "keep", .handle = handle };

static void answer_kept(void)
{
	struct siommu_iopf_group *g[KEEP];
	unsigned int i, n;

	pthread_mutex_lock(&R.keep_lock);
	n = R.nkept;
	for (i = 0; i < n; i++)
		g[i] = R.kept[i];
	R.nkept = 0;
	pthread_mutex_unlock(&R.keep_lock);
	for (i = 0; i < n; i++) {
		int ret = siommu_iopf_group_respond(g[i], SIOMMU_PAGE_RESP_SUCCESS);

		thread_assert_true(ret == 0 || ret == -ECANCELED);
	}
}

static void *reporter(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg, n = 0;

	while (!__atomic_load_n(&R.stop, __ATOMIC_ACQUIRE)) {
		struct siommu_page_request r = {
			.addr = (uint64_t)(rand_r(&seed) % 64) * 0x1000,
			.access = SIOMMU_ACC_WRITE, .flags = SIOMMU_PRQ_LAST,
			.prgi = (uint16_t)(n++ % 512),
		};
		int ret;

		if (rand_r(&seed) % 2) {
			uint8_t b;

			/* a DMA fault: a page request, or unrecoverable when disabled */
			ret = siommu_dma_read(R.dev, 0, 0x40000000ull + r.addr, &b, 1);
			thread_assert_true(ret == -EAGAIN || ret == -ENOENT);
			ret = ret == -EAGAIN ? 0 : -ENODEV;
		} else {
			ret = siommu_iopf_report(R.iopf, R.dev, &r);
			thread_assert_true(ret == 0 || ret == 1 || ret == -ENODEV);
		}
		__atomic_fetch_add(ret == -ENODEV ? &R.refused : &R.queued, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_iopf_remove_vs_report(void **state)
{
	struct siommu_iommu_caps caps = { .prq_size = 64 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_WORKERS, .workers = 2,
					.drain_timeout_ms = 1 };
	double secs = test_stress_seconds(3.0), t0;
	struct siommu_iommu *iommu;
	struct siommu_domain *dom;
	struct siommu_ctx *ctx;
	pthread_t th[NREP];
	unsigned int i, rounds = 0;
	bool broken = test_break_requested();

	(void)state;
	(void)broken;
	pthread_mutex_init(&R.keep_lock, NULL);
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_iommu_create(ctx, &caps, NULL, &iommu), 0);
	assert_int_equal(siommu_iopf_create(iommu, &icfg, &R.iopf), 0);
	assert_int_equal(siommu_domain_create(iommu, &cfg, &dom), 0);
	assert_int_equal(siommu_iopf_domain_set_handler(R.iopf, dom, &ops, NULL), 0);
	assert_int_equal(siommu_device_create(iommu, SIOMMU_RID(0, 6, 0, 0), SIOMMU_DEV_PRI, 0,
					      &R.dev), 0);
	assert_int_equal(siommu_device_attach(R.dev, dom), 0);
	assert_int_equal(siommu_iopf_device_enable(R.iopf, R.dev, on_response, NULL), 0);
	__atomic_store_n(&R.enabled, 1, __ATOMIC_RELEASE);
#if SIOMMU_TESTING_BUILD
	iopf_test_set_no_dev_refs(broken);
#endif
	for (i = 0; i < NREP; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reporter, (void *)(uintptr_t)(i + 1)),
				 0);
	t0 = test_now_s();
	while ((test_now_s() - t0 < secs || rounds < MIN_ROUNDS) && test_now_s() - t0 < MAX_SECS) {
		usleep(200);
		if (rounds % 3 == 0)
			answer_kept();		/* late answers, racing the disable */
		assert_int_equal(siommu_iopf_device_disable(R.iopf, R.dev), 0);
		__atomic_store_n(&R.enabled, 0, __ATOMIC_RELEASE);
		answer_kept();			/* after the disable: dropped */
		usleep(50);
		__atomic_store_n(&R.enabled, 1, __ATOMIC_RELEASE);
		assert_int_equal(siommu_iopf_device_enable(R.iopf, R.dev, on_response, NULL), 0);
		rounds++;
	}
	__atomic_store_n(&R.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NREP; i++)
		pthread_join(th[i], NULL);
#if SIOMMU_TESTING_BUILD
	iopf_test_set_no_dev_refs(false);
#endif
	assert_int_equal(siommu_iopf_device_disable(R.iopf, R.dev), 0);
	__atomic_store_n(&R.enabled, 0, __ATOMIC_RELEASE);
	answer_kept();
	printf("# rounds %u, reports queued %" PRIu64 ", refused %" PRIu64 ", responses %" PRIu64
	       ", violations %" PRIu64 "\n", rounds, R.queued, R.refused, R.responses,
	       R.violations);
	assert_int_equal(siommu_device_detach(R.dev), 0);
	assert_int_equal(siommu_device_destroy(R.dev), 0);
	assert_int_equal(siommu_iopf_domain_clear_handler(R.iopf, dom), 0);
	assert_int_equal(siommu_iopf_destroy(R.iopf), 0);
	assert_int_equal(siommu_domain_destroy(dom), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	assert_int_equal(R.violations, 0);
	assert_true(R.queued > 0 && R.refused > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iopf_remove_vs_report),
	};

#if !SIOMMU_TESTING_BUILD
	if (test_break_requested())
		test_break_unsupported("the no-refcount hook exists in -Dtesting=true builds only");
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
