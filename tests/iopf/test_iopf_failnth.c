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
 *
 * A second sweep (tests/common/failnth.h, contracts as the oracle, each
 * failed step retried and the flow continued) covers every public flow of
 * the layer in MANUAL mode: create, enable on a device, a domain handler
 * and a fault queue's domain, attach, reports, group delivery, responses,
 * fault queue read and write, an explicit drain, the drain of a detach
 * with a partial request and an unread group, close, clear, disable,
 * destroy.  The snapshot is the layer's stats, every response the device
 * got, the handler's groups and the device's attachments.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "failnth.h"
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

/* ------------------------------------------------------------------ the contract sweep */

static const char *const iopf_layers[] = { "iopf.h", NULL };

struct iopf_world {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_iopf *iopf;
	struct siommu_device *dev;
	struct siommu_domain *dom, *domq;
	struct siommu_fault_queue *q;
	struct hstate h;
	struct rec r;
	bool enabled, handler, qhandler, att1, att2;
};

static void iopf_setup(void *world)
{
	struct iopf_world *w = world;

	assert_int_equal(siommu_ctx_create(&w->ctx), 0);
	siommu_ctx_set_log(w->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	rec_init(&w->r);
	w->h.ret = SIOMMU_PAGE_RESP_SUCCESS;
}

static void iopf_snapshot(void *world, struct fn_buf *b)
{
	struct iopf_world *w = world;
	struct siommu_attachment at[4];
	struct siommu_iopf_stats st;
	unsigned int i;
	int n;

	if (w->iopf) {
		assert_int_equal(siommu_iopf_get_stats(w->iopf, &st), 0);
		fn_printf(b, "stats req %llu stop %llu full %llu ovf %llu auto %llu partial %llu "
			  "groups %llu unhandled %llu hfail %llu resp %llu/%llu/%llu dropped %llu "
			  "drains %llu dreq %llu dgroups %llu dtimeouts %llu depth %u cap %u "
			  "overflow %d\n",
			  (unsigned long long)st.requests, (unsigned long long)st.stop_markers,
			  (unsigned long long)st.prq_full, (unsigned long long)st.overflows,
			  (unsigned long long)st.auto_success,
			  (unsigned long long)st.partial_discarded, (unsigned long long)st.groups,
			  (unsigned long long)st.groups_unhandled,
			  (unsigned long long)st.handler_failures,
			  (unsigned long long)st.resp_success, (unsigned long long)st.resp_invalid,
			  (unsigned long long)st.resp_failure, (unsigned long long)st.resp_dropped,
			  (unsigned long long)st.drains, (unsigned long long)st.drained_requests,
			  (unsigned long long)st.drained_groups,
			  (unsigned long long)st.drain_timeouts, st.prq_depth, st.prq_capacity,
			  st.overflow);
	}
	fn_printf(b, "responses %u:", rec_count(&w->r));
	for (i = 0; i < w->r.n && i < REC_MAX; i++)
		fn_printf(b, " %u/%u/%d", w->r.r[i].prgi, w->r.r[i].pasid, w->r.r[i].code);
	fn_printf(b, "\nhandler groups %u\n", w->h.groups);
	if (w->dev) {
		n = siommu_device_get_attachments(w->dev, at, 4);
		fn_printf(b, "attachments %d:", n);
		for (i = 0; i < (unsigned int)n && i < 4; i++)
			fn_printf(b, " %u->%s", at[i].pasid, at[i].dom == w->dom ? "dom" :
				  at[i].dom == w->domq ? "domq" : "?");
		fn_printf(b, "\n");
	}
}

/* Every response so far has a distinct (PASID, PRG index): each group answered once. */
static void check_answered_once(struct iopf_world *w)
{
	unsigned int i, j;

	for (i = 0; i < w->r.n; i++)
		for (j = i + 1; j < w->r.n; j++)
			assert_false(w->r.r[i].prgi == w->r.r[j].prgi &&
				     w->r.r[i].pasid == w->r.r[j].pasid);
}

static int iopf_run(struct fn_sweep *sw, void *world)
{
	struct iopf_world *w = world;
	struct siommu_iommu_caps caps = { .pasid_bits = 8, .prq_size = 16 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_MANUAL,
					.drain_timeout_ms = SIOMMU_IOPF_DRAIN_NOWAIT };
	struct siommu_fault_queue_record rec[4];
	struct siommu_fault_queue_response resp;
	struct siommu_page_request rq;
	unsigned int before;

	FN_STEP(sw, siommu_iommu_create(w->ctx, &caps, NULL, &w->iommu));
	FN_STEP(sw, siommu_iopf_create(w->iommu, &icfg, &w->iopf));
	FN_STEP(sw, siommu_device_create(w->iommu, SIOMMU_RID(0, 8, 0, 0),
					 SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &w->dev));
	FN_STEP(sw, siommu_domain_create(w->iommu, &cfg, &w->dom));
	FN_STEP(sw, siommu_domain_create(w->iommu, &cfg, &w->domq));
	FN_STEP(sw, siommu_iopf_domain_set_handler(w->iopf, w->dom, &h_ops, &w->h));
	w->handler = true;
	FN_STEP(sw, siommu_fault_queue_create(w->iopf, &w->q));
	FN_STEP(sw, siommu_fault_queue_set_domain(w->q, w->domq));
	w->qhandler = true;
	FN_STEP(sw, siommu_iopf_device_enable(w->iopf, w->dev, rec_fn, &w->r));
	w->enabled = true;
	FN_STEP(sw, siommu_pasid_attach(w->dev, 1, w->dom));
	w->att1 = true;
	FN_STEP(sw, siommu_pasid_attach(w->dev, 2, w->domq));
	w->att2 = true;

	/* a group of three to the handler: answered Success, or Failure (no memory) */
	rq = preq(1, 1, false, 0x1000);
	FN_STEP(sw, siommu_iopf_report(w->iopf, w->dev, &rq));
	rq = preq(1, 1, false, 0x2000);
	FN_STEP(sw, siommu_iopf_report(w->iopf, w->dev, &rq));
	rq = preq(1, 1, true, 0x3000);
	FN_STEP(sw, siommu_iopf_report(w->iopf, w->dev, &rq));
	FN_STEP(sw, siommu_iopf_process(w->iopf, 0));
	assert_int_equal(rec_count(&w->r), 1);
	assert_true(w->r.r[0].code == SIOMMU_PAGE_RESP_SUCCESS ||
		    w->r.r[0].code == SIOMMU_PAGE_RESP_FAILURE);

	/* a group of two to the fault queue: read, answered through it */
	rq = preq(2, 7, false, 0x10000);
	FN_STEP(sw, siommu_iopf_report(w->iopf, w->dev, &rq));
	rq = preq(2, 7, true, 0x11000);
	FN_STEP(sw, siommu_iopf_report(w->iopf, w->dev, &rq));
	FN_STEP(sw, siommu_iopf_process(w->iopf, 0));
	before = rec_count(&w->r);
	if (before == 1) {
		/* queued (not answered Failure for want of memory): read and answer */
		FN_STEP(sw, siommu_fault_queue_read(w->q, rec, sizeof(rec)));
		assert_int_equal(rec[1].flags & SIOMMU_FQ_LAST_PAGE, SIOMMU_FQ_LAST_PAGE);
		assert_int_equal(rec[0].cookie, rec[1].cookie);
		resp = (struct siommu_fault_queue_response){ .cookie = rec[1].cookie,
							     .code = SIOMMU_PAGE_RESP_SUCCESS };
		FN_STEP(sw, siommu_fault_queue_write(w->q, &resp, sizeof(resp)));
		assert_int_equal(rec_count(&w->r), 2);
		assert_int_equal(w->r.r[1].code, SIOMMU_PAGE_RESP_SUCCESS);
	}
	/* a response that matches nothing: dropped */
	assert_int_equal(siommu_iopf_respond(w->iopf, w->dev, &(struct siommu_page_response){
				.prgi = 300, .code = SIOMMU_PAGE_RESP_SUCCESS }), -ENOENT);

	/* the drain of a detach: a partial request and an unread group */
	rq = preq(2, 8, true, 0x12000);
	FN_STEP(sw, siommu_iopf_report(w->iopf, w->dev, &rq));
	FN_STEP(sw, siommu_iopf_process(w->iopf, 0));
	rq = preq(2, 9, false, 0x13000);
	FN_STEP(sw, siommu_iopf_report(w->iopf, w->dev, &rq));
	FN_STEP(sw, siommu_iopf_process(w->iopf, 0));
	FN_STEP(sw, siommu_pasid_detach(w->dev, 2));
	w->att2 = false;
	/* group 8 answered once (Invalid by the drain, or Failure before it) */
	check_answered_once(w);
	FN_STEP(sw, siommu_fault_queue_read(w->q, rec, sizeof(rec)));
	assert_int_equal(fn_ret_last(sw), 0);

	/* an explicit drain of PASID 1 with a partial request waiting */
	rq = preq(1, 4, false, 0x5000);
	FN_STEP(sw, siommu_iopf_report(w->iopf, w->dev, &rq));
	FN_STEP(sw, siommu_iopf_process(w->iopf, 0));
	FN_STEP(sw, siommu_iopf_drain(w->iopf, w->dev, 1));
	FN_STEP(sw, siommu_fault_queue_close(w->q));
	FN_STEP(sw, siommu_pasid_detach(w->dev, 1));
	w->att1 = false;
	FN_STEP(sw, siommu_iopf_domain_clear_handler(w->iopf, w->domq));
	w->qhandler = false;
	FN_STEP(sw, siommu_iopf_domain_clear_handler(w->iopf, w->dom));
	w->handler = false;
	FN_STEP(sw, siommu_iopf_device_disable(w->iopf, w->dev));
	w->enabled = false;
	FN_STEP(sw, siommu_fault_queue_destroy(w->q));
	w->q = NULL;
	check_answered_once(w);
	return 0;
}

static void iopf_teardown(void *world)
{
	struct iopf_world *w = world;

	if (w->att1)
		assert_int_equal(siommu_pasid_detach(w->dev, 1), 0);
	if (w->att2)
		assert_int_equal(siommu_pasid_detach(w->dev, 2), 0);
	if (w->enabled)
		assert_int_equal(siommu_iopf_device_disable(w->iopf, w->dev), 0);
	if (w->handler)
		assert_int_equal(siommu_iopf_domain_clear_handler(w->iopf, w->dom), 0);
	if (w->qhandler)
		assert_int_equal(siommu_iopf_domain_clear_handler(w->iopf, w->domq), 0);
	assert_int_equal(siommu_fault_queue_destroy(w->q), 0);
	assert_int_equal(siommu_domain_destroy(w->dom), 0);
	assert_int_equal(siommu_domain_destroy(w->domq), 0);
	assert_int_equal(siommu_device_destroy(w->dev), 0);
	assert_int_equal(siommu_iopf_destroy(w->iopf), 0);
	assert_int_equal(siommu_iommu_destroy(w->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(w->ctx), 0);
}

static void test_iopf_failnth_contract_flow(void **state)
{
	static const struct fn_flow flow = {
		.name = "iopf", .world_size = sizeof(struct iopf_world),
		.setup = iopf_setup, .run = iopf_run, .snapshot = iopf_snapshot,
		.teardown = iopf_teardown, .retry = true, .layers = iopf_layers,
	};

	assert_true(fn_sweep(&flow) > 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iopf_failnth_sweep),
		cmocka_unit_test(test_iopf_failnth_contract_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
