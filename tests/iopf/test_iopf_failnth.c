// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fail-the-Nth-allocation sweep over the iopf layer (testing builds): the
 * n-th allocation of a sequence fails, for n = 1, 2, ... until the
 * sequence runs clean.  Each set-up call fails with -ENOMEM and nothing
 * changed, or succeeds; a request that cannot be stored or grouped gets
 * Response Failure, never silence: every group's last request is answered
 * exactly once whatever fails.  Teardown always succeeds; ASan checks that
 * nothing leaks.  The cases also run the API from threads the library has
 * never seen.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"
#include "iopf_test.h"

#include <softiommu/core.h>

struct objs {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_iopf *iopf;
	struct siommu_device *dev;
	struct siommu_domain *dom;
	struct siommu_fault_queue *q;
	struct hstate h;
	struct rec r;
	bool enabled, handler, attached;
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

#define STEP(call)							\
	do {								\
		int __r = (call);					\
		if (__r) {						\
			thread_assert_int_equal(__r, -ENOMEM);		\
			return __r;					\
		}							\
	} while (0)

static int run_seq(struct objs *o)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8, .prq_size = 16 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_MANUAL,
					.drain_timeout_ms = SIOMMU_IOPF_DRAIN_NOWAIT };
	unsigned int i;

	STEP(siommu_iommu_create(o->ctx, &caps, NULL, &o->iommu));
	STEP(siommu_iopf_create(o->iommu, &icfg, &o->iopf));
	STEP(siommu_device_create(o->iommu, SIOMMU_RID(0, 8, 0, 0),
				  SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &o->dev));
	STEP(siommu_domain_create(o->iommu, &cfg, &o->dom));
	STEP(siommu_iopf_domain_set_handler(o->iopf, o->dom, &h_ops, &o->h));
	o->handler = true;
	STEP(siommu_iopf_device_enable(o->iopf, o->dev, rec_fn, &o->r));
	o->enabled = true;
	STEP(siommu_pasid_attach(o->dev, 1, o->dom));
	o->attached = true;
	STEP(siommu_fault_queue_create(o->iopf, &o->q));
	/* four groups of 1..4 requests: each answered once, Success or Failure */
	for (i = 0; i < 4; i++) {
		unsigned int j;

		for (j = 0; j <= i; j++) {
			struct siommu_page_request r = preq(1, (uint16_t)i, j == i, 0x1000 * j);

			thread_assert_int_equal(siommu_iopf_report(o->iopf, o->dev, &r), 0);
		}
		thread_assert_int_equal(siommu_iopf_process(o->iopf, 0), (int)i + 1);
	}
	thread_assert_int_equal(rec_count(&o->r), 4);
	for (i = 0; i < 4; i++)
		thread_assert_true(o->r.r[i].code == SIOMMU_PAGE_RESP_SUCCESS ||
				   o->r.r[i].code == SIOMMU_PAGE_RESP_FAILURE);
	return 0;
}

static void teardown_objs(struct objs *o)
{
	if (o->attached)
		thread_assert_int_equal(siommu_pasid_detach(o->dev, 1), 0);
	if (o->enabled)
		thread_assert_int_equal(siommu_iopf_device_disable(o->iopf, o->dev), 0);
	if (o->handler)
		thread_assert_int_equal(siommu_iopf_domain_clear_handler(o->iopf, o->dom), 0);
	thread_assert_int_equal(siommu_fault_queue_destroy(o->q), 0);
	thread_assert_int_equal(siommu_domain_destroy(o->dom), 0);
	thread_assert_int_equal(siommu_device_destroy(o->dev), 0);
	thread_assert_int_equal(siommu_iopf_destroy(o->iopf), 0);
	thread_assert_int_equal(siommu_iommu_destroy(o->iommu), 0);
}

struct sweep {
	unsigned long runs, failures, failure_responses;
};

/* The whole sweep, in a thread of its own (one the library has never seen). */
static void *sweep_thread(void *arg)
{
	struct sweep *s = arg;
	unsigned long n;

	for (n = 1; n < 10000; n++) {
		struct objs o = { 0 };
		unsigned long failed_answers = 0;
		unsigned int i;
		long allocs;
		int ret;

		thread_assert_int_equal(siommu_ctx_create(&o.ctx), 0);
		siommu_ctx_set_log(o.ctx, SIOMMU_LOG_ERR, quiet, NULL);
		rec_init(&o.r);
		o.h.ret = SIOMMU_PAGE_RESP_SUCCESS;
		thread_assert_int_equal(siommu_test_fail_nth(n), 0);
		ret = run_seq(&o);
		allocs = siommu_test_alloc_count();
		siommu_test_fail_nth(0);
		for (i = 0; i < o.r.n && i < REC_MAX; i++)
			failed_answers += o.r.r[i].code == SIOMMU_PAGE_RESP_FAILURE;
		s->failure_responses += failed_answers;
		teardown_objs(&o);
		thread_assert_int_equal(siommu_ctx_destroy(o.ctx), 0);
		s->runs++;
		if (ret)
			s->failures++;
		else if (!failed_answers && o.h.groups == 4 && allocs >= 0 && (long)n > allocs)
			break;	/* the sequence ran clean and made fewer than n allocations */
		/*
		 * (A clean run with n <= allocs: the n-th allocation failed and
		 * was absorbed, as a per-thread counter block's falls back to the
		 * shared counters; the sweep goes on to the later ones.)
		 */
	}
	return NULL;
}

static void test_iopf_failnth_sweep(void **state)
{
	struct sweep s = { 0 };
	pthread_t t;

	(void)state;
	if (!siommu_testing_build())
		skip();
	assert_int_equal(pthread_create(&t, NULL, sweep_thread, &s), 0);
	pthread_join(t, NULL);
	printf("# %lu runs, %lu set-up failures, %lu Response Failure answers\n", s.runs,
	       s.failures, s.failure_responses);
	assert_true(s.runs > 5 && s.failures > 0 && s.failure_responses > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iopf_failnth_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
