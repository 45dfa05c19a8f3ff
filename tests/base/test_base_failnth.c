// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fail-the-Nth-allocation sweep over the base module's flow
 * (tests/common/failnth.h): contexts (two, so that one is created under
 * injection), log and trace sinks switched while events flow, a
 * synchronize, destroy.  The snapshot probes which log and trace sink is
 * in place: a failed switch must leave the old one (its contract says
 * "nothing changed: the old sink stays").
 */
#include "failnth.h"

struct base_world {
	struct siommu_ctx *ctx, *ctx2;
	unsigned int log_hits[3], trace_hits[3];
};

static void log_a(void *opaque, enum siommu_log_level level, const char *msg)
{
	((struct base_world *)opaque)->log_hits[1]++;
}

static void log_b(void *opaque, enum siommu_log_level level, const char *msg)
{
	((struct base_world *)opaque)->log_hits[2]++;
}

static void trace_a(void *opaque, const struct siommu_trace_record *rec)
{
	((struct base_world *)opaque)->trace_hits[1]++;
}

static void trace_b(void *opaque, const struct siommu_trace_record *rec)
{
	((struct base_world *)opaque)->trace_hits[2]++;
}

static void base_setup(void *world)
{
}

/* Which sink gets an event now (0: none). */
static void base_snapshot(void *world, struct fn_buf *b)
{
	struct base_world *w = world;
	struct siommu_trace_event ev = { .type = SIOMMU_TRACE_MAP, .iova = 0x1000,
					 .paddr = 0x2000, .size = 0x1000 };
	unsigned int before_log[3], before_trace[3], i;
	int log_sink = 0, trace_sink = 0;

	if (!w->ctx)
		return;
	memcpy(before_log, w->log_hits, sizeof(before_log));
	memcpy(before_trace, w->trace_hits, sizeof(before_trace));
	siommu_log(w->ctx, SIOMMU_LOG_ERR, "probe");
	assert_int_equal(siommu_trace_emit(w->ctx, &ev), 0);
	for (i = 1; i < 3; i++) {
		if (w->log_hits[i] != before_log[i])
			log_sink = (int)i;
		if (w->trace_hits[i] != before_trace[i])
			trace_sink = (int)i;
	}
	fn_printf(b, "log sink %d trace sink %d ctx2 %s\n", log_sink, trace_sink,
		  w->ctx2 ? "yes" : "no");
}

static int base_run(struct fn_sweep *sw, void *world)
{
	struct base_world *w = world;
	struct siommu_trace_event ev = { .type = SIOMMU_TRACE_UNMAP, .iova = 0x1000,
					 .size = 0x1000, .unmapped_size = 0x1000 };

	FN_STEP(sw, siommu_ctx_create(&w->ctx));
	FN_STEP(sw, siommu_ctx_set_log(w->ctx, SIOMMU_LOG_WARN, log_a, w));
	FN_STEP(sw, siommu_ctx_set_trace(w->ctx, trace_a, w));
	FN_STEP(sw, siommu_trace_emit(w->ctx, &ev));
	FN_STEP(sw, siommu_ctx_set_log(w->ctx, SIOMMU_LOG_ERR, log_b, w));
	FN_STEP(sw, siommu_ctx_set_trace(w->ctx, trace_b, w));
	FN_STEP(sw, siommu_ctx_create(&w->ctx2));
	FN_STEP(sw, siommu_ctx_set_log(w->ctx2, SIOMMU_LOG_ERR, log_a, w));
	FN_STEP(sw, siommu_synchronize());
	FN_STEP(sw, siommu_ctx_set_trace(w->ctx, NULL, NULL));
	FN_STEP(sw, siommu_ctx_set_trace(w->ctx, trace_a, w));
	FN_STEP(sw, siommu_ctx_destroy(w->ctx2));
	w->ctx2 = NULL;
	return 0;
}

static void base_teardown(void *world)
{
	struct base_world *w = world;

	assert_int_equal(siommu_ctx_destroy(w->ctx2), 0);
	assert_int_equal(siommu_ctx_destroy(w->ctx), 0);
}

static void test_base_failnth_flow(void **state)
{
	static const struct fn_flow flow = {
		.name = "base", .world_size = sizeof(struct base_world),
		.setup = base_setup, .run = base_run, .snapshot = base_snapshot,
		.teardown = base_teardown, .retry = true,
	};

	assert_true(fn_sweep(&flow) >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_failnth_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
