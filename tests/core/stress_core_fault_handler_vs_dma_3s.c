// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fault-handler removal during DMA: when siommu_domain_set_fault_handler(
 * dom, NULL, NULL) returns, no call of the old handler is running or will
 * start, so the handler's state may be freed at once.
 *
 * DMA threads of a PRI device read an unmapped IOVA of a paging domain all
 * the time: each read goes to the domain's handler if one is installed
 * (it answers QUEUED: the read returns -EAGAIN) or is an unrecoverable
 * fault (-ENOENT).  The main thread keeps installing a handler with a
 * freshly allocated state, removing it, poisoning the state the moment
 * removal returns and freeing it a few rounds later (a quarantine).  The
 * handler checks its state is not poisoned, before and after yielding.
 * Any other result, or a poisoned state, is a failure; under ASan a call
 * after the free is a use-after-free.
 *
 * SIOMMU_STRESS_BREAK=1 (testing builds; a plain build prints
 * BREAK-UNSUPPORTED and exits 77): the removal skips its grace period
 * (core_test_set_skip_grace()): a handler still running sees its state
 * poisoned ("BROKEN: ..."), or ASan a use after free, or TSan a race.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"

#include <softiommu/core.h>
#include "siommu_config.h"
#include "core/core_internal.h"

#define NDMA		2
#define NDMA_BREAK	4
#define QUAR		8		/* states kept poisoned before they are freed */
#define IOVA		0x70000000ull
#define LIVE		0x11feedfacecafe11ull
#define POISON		0xdeaddeaddeaddeadull
#define MIN_ROUNDS	200
#define MIN_CALLS	200
#define MAX_SECS	60.0

struct hstate {
	uint64_t magic;			/* atomic: LIVE, then POISON after removal */
	uint64_t calls;			/* atomic */
};

struct run {
	struct siommu_device *dev;
	bool broken;
	int stop;			/* atomic */
	uint64_t queued, unrecoverable, other;	/* atomic adds */
	uint64_t calls, poisoned;	/* atomic adds */
};

static struct run *the_run;

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static int handler(void *opaque, const struct siommu_fault_info *f)
{
	struct hstate *h = opaque;
	unsigned int i;

	if (__atomic_load_n(&h->magic, __ATOMIC_RELAXED) != LIVE)
		__atomic_fetch_add(&the_run->poisoned, 1, __ATOMIC_RELAXED);
	/* A handler that takes a while (the window a broken removal misses). */
	for (i = 0; i < (the_run->broken ? 2u : 1u); i++)
		sched_yield();
	if (__atomic_load_n(&h->magic, __ATOMIC_RELAXED) != LIVE)
		__atomic_fetch_add(&the_run->poisoned, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&the_run->calls, 1, __ATOMIC_RELAXED);
	return SIOMMU_IOPF_QUEUED;
}

static void *dma_thread(void *arg)
{
	struct run *r = arg;
	uint64_t w;
	int ret;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		ret = siommu_dma_read(r->dev, SIOMMU_NO_PASID, IOVA, &w, sizeof(w));
		if (ret == -EAGAIN)
			__atomic_fetch_add(&r->queued, 1, __ATOMIC_RELAXED);
		else if (ret == -ENOENT)
			__atomic_fetch_add(&r->unrecoverable, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&r->other, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_core_fault_handler_removal_during_dma(void **state)
{
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct hstate *quar[QUAR] = { 0 };
	struct siommu_iommu *iommu;
	struct siommu_domain *dom;
	struct siommu_ctx *ctx;
	pthread_t tids[NDMA_BREAK];
	double t0, secs = test_stress_seconds(2.0);
	unsigned int i, ndma, rounds = 0;
	struct run r;

	memset(&r, 0, sizeof(r));
	r.broken = getenv("SIOMMU_STRESS_BREAK") != NULL;
	the_run = &r;
	ndma = r.broken ? NDMA_BREAK : NDMA;
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_iommu_create(ctx, NULL, NULL, &iommu), 0);
	assert_int_equal(siommu_device_create(iommu, SIOMMU_RID(0, 4, 0, 0), SIOMMU_DEV_PRI,
					      0, &r.dev), 0);
	assert_int_equal(siommu_domain_create(iommu, &cfg, &dom), 0);
	assert_int_equal(siommu_device_attach(r.dev, dom), 0);
#if SIOMMU_TESTING_BUILD
	core_test_set_skip_grace(dom, r.broken);
#endif

	for (i = 0; i < ndma; i++)
		assert_int_equal(pthread_create(&tids[i], NULL, dma_thread, &r), 0);
	t0 = test_now_s();
	while (test_now_s() - t0 < MAX_SECS &&
	       (test_now_s() - t0 < secs || rounds < MIN_ROUNDS ||
		__atomic_load_n(&r.calls, __ATOMIC_RELAXED) < MIN_CALLS ||
		!__atomic_load_n(&r.unrecoverable, __ATOMIC_RELAXED))) {
		struct hstate *h = calloc(1, sizeof(*h));

		assert_non_null(h);
		__atomic_store_n(&h->magic, LIVE, __ATOMIC_RELAXED);
		assert_int_equal(siommu_domain_set_fault_handler(dom, handler, h), 0);
		for (i = 0; i < 20; i++)
			sched_yield();
		assert_int_equal(siommu_domain_set_fault_handler(dom, NULL, NULL), 0);
		/* Removal returned: nobody may use @h any more. */
		__atomic_store_n(&h->magic, POISON, __ATOMIC_RELAXED);
		free(quar[rounds % QUAR]);
		quar[rounds % QUAR] = h;
		rounds++;
		for (i = 0; i < 5; i++)
			sched_yield();	/* let faults find no handler too */
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < ndma; i++)
		assert_int_equal(pthread_join(tids[i], NULL), 0);
	for (i = 0; i < QUAR; i++)
		free(quar[i]);

	print_message("# rounds %u handler calls %" PRIu64 " reads: queued %" PRIu64
		      " unrecoverable %" PRIu64 " other %" PRIu64 "\n", rounds, r.calls,
		      r.queued, r.unrecoverable, r.other);
	if (r.poisoned)
		print_message("# BROKEN: handler ran after removal %" PRIu64 " times\n",
			      r.poisoned);
	assert_int_equal(r.poisoned, 0);
	assert_int_equal(r.other, 0);
	assert_int_equal(r.queued, r.calls);
	assert_true(rounds >= MIN_ROUNDS);
	assert_true(r.calls >= MIN_CALLS);
	assert_true(r.unrecoverable > 0);

	assert_int_equal(siommu_device_detach(r.dev), 0);
	assert_int_equal(siommu_domain_destroy(dom), 0);
	assert_int_equal(siommu_device_destroy(r.dev), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_fault_handler_removal_during_dma),
	};

	if (getenv("SIOMMU_STRESS_BREAK") && !SIOMMU_TESTING_BUILD) {
		printf("BREAK-UNSUPPORTED: the break switch needs a testing build\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
