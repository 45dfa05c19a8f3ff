// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fail-the-Nth-allocation sweeps over replay's public flow
 * (tests/common/failnth.h), each failed step retried (it must then
 * succeed) and the flow continued: create, parse of a real trace
 * (tests/data/traces/linux6.1-strict-boot.txt, from its file, and a small
 * trace from a buffer), run (exact mode; prediction and what-if in the
 * second flow; VT-d tables as Linux manages them in the third), the
 * report, issues and samples, the dump of the exact-mode table, destroy.
 * The snapshot is the whole report (input counts, exact-mode figures,
 * predictions, what-if results), the issues, the samples and the dump: a
 * failed call changed none of it, so a retried read does not count lines
 * twice.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "failnth.h"

#include <softiommu/replay.h>

struct replay_world {
	struct siommu_ctx *ctx;
	struct siommu_replay *r;
	struct siommu_replay_opts opts;
	char path[512];
	bool ran;
};

/* A few lines of a trace of its own: map, unmap, a bad line, an event of another kind. */
static const char small_trace[] =
	"# tracer: nop\n"
	"   kworker/0:1-42    [000] .....   10.000001: map: IOMMU: iova=0x00000000fff00000 - 0x00000000fff01000 paddr=0x0000000012345000 size=4096\n"
	"   kworker/0:1-42    [000] .....   10.000002: unmap: IOMMU: iova=0x00000000fff00000 - 0x00000000fff01000 size=4096 unmapped_size=4096\n"
	"this is not a trace line\n"
	"   kworker/0:1-42    [000] .....   10.000003: sched_switch: prev_comm=a\n";

static void replay_setup(void *world)
{
	struct replay_world *w = world;

	assert_int_equal(siommu_ctx_create(&w->ctx), 0);
	test_data_path("traces/linux6.1-strict-boot.txt", w->path, sizeof(w->path));
}

static void snap_policy(struct fn_buf *b, const struct siommu_replay_policy_result *p)
{
	unsigned int i;

	fn_printf(b, " %d %llu %llu %llu %llu %llu %llu %llu %llu", p->valid,
		  (unsigned long long)p->allocs, (unsigned long long)p->failures,
		  (unsigned long long)p->peak_span, (unsigned long long)p->peak_tree_nodes,
		  (unsigned long long)p->peak_table_bytes, (unsigned long long)p->invalidations,
		  (unsigned long long)p->flushes, (unsigned long long)p->max_batch);
	for (i = 0; i < 8; i++)
		fn_printf(b, "%c%llu", i ? ',' : ' ', (unsigned long long)p->batch_hist[i]);
}

static void replay_snapshot(void *world, struct fn_buf *b)
{
	struct replay_world *w = world;
	const struct siommu_replay_report *rp;
	const struct siommu_replay_sample *smp;
	const struct siommu_replay_issue *is;
	size_t i, ns;

	if (!w->r)
		return;
	rp = siommu_replay_get_report(w->r);
	fn_printf(b, "input files %llu lines %llu events %llu comments %llu other %llu bad %llu "
		  "ts %llu..%llu devices %llu types",
		  (unsigned long long)rp->files, (unsigned long long)rp->lines,
		  (unsigned long long)rp->events, (unsigned long long)rp->comments,
		  (unsigned long long)rp->other_events, (unsigned long long)rp->bad_lines,
		  (unsigned long long)rp->first_ts_ns, (unsigned long long)rp->last_ts_ns,
		  (unsigned long long)rp->devices);
	for (i = 0; i < SIOMMU_TRACE_NR_TYPES; i++)
		fn_printf(b, " %llu", (unsigned long long)rp->by_type[i]);
	fn_printf(b, "\nexact ran %d issues", rp->ran);
	for (i = 0; i < SIOMMU_REPLAY_NR_ISSUE_KINDS; i++)
		fn_printf(b, " %llu", (unsigned long long)rp->issues[i]);
	fn_printf(b, " peak %llu/%llu/%llu end %llu/%llu bytes %llu/%llu pages %llu/%llu/%llu "
		  "table %llu/%llu allocs %llu sg %llu\n",
		  (unsigned long long)rp->peak_live_maps, (unsigned long long)rp->peak_live_bytes,
		  (unsigned long long)rp->peak_iova_span, (unsigned long long)rp->end_live_maps,
		  (unsigned long long)rp->end_live_bytes, (unsigned long long)rp->mapped_bytes,
		  (unsigned long long)rp->unmapped_bytes, (unsigned long long)rp->pages[0],
		  (unsigned long long)rp->pages[1], (unsigned long long)rp->pages[2],
		  (unsigned long long)rp->table_bytes_peak, (unsigned long long)rp->table_bytes_end,
		  (unsigned long long)rp->allocs, (unsigned long long)rp->sg_allocs);
	for (i = 0; i < rp->nr_tlbs && i < SIOMMU_REPLAY_MAX_TLBS; i++)
		fn_printf(b, "tlb %ux%u %llu/%llu\n", rp->tlb[i].geom.sets, rp->tlb[i].geom.ways,
			  (unsigned long long)rp->tlb[i].hits,
			  (unsigned long long)rp->tlb[i].accesses);
	fn_printf(b, "predicted %d %llu %llu %llu hz %u delay %llu phase %llu inferred %llu\n",
		  rp->predicted, (unsigned long long)rp->pred_total,
		  (unsigned long long)rp->pred_forced_hits, (unsigned long long)rp->pred_free_hits,
		  rp->pred_hz, (unsigned long long)rp->pred_delay_ns,
		  (unsigned long long)rp->pred_phase_ns,
		  (unsigned long long)rp->pred_timer_inferred);
	for (i = 0; i < SIOMMU_REPLAY_NR_POLICIES; i++) {
		fn_printf(b, "whatif %zu:", i);
		snap_policy(b, &rp->whatif[i][0]);
		snap_policy(b, &rp->whatif[i][1]);
		fn_printf(b, "\n");
	}
	for (i = 0; (is = siommu_replay_issue(w->r, i)); i++)
		fn_printf(b, "issue %d %s:%llu %s\n", is->kind, is->file,
			  (unsigned long long)is->line, is->msg);
	ns = siommu_replay_nr_samples(w->r);
	smp = siommu_replay_samples(w->r);
	fn_printf(b, "samples %zu\n", ns);
	for (i = 0; smp && i < ns; i += 1 + ns / 16)
		fn_printf(b, " %llu %llu %llu %llu %llu %llu\n", (unsigned long long)smp[i].ts_ns,
			  (unsigned long long)smp[i].event, (unsigned long long)smp[i].live_maps,
			  (unsigned long long)smp[i].live_bytes,
			  (unsigned long long)smp[i].iova_span,
			  (unsigned long long)smp[i].table_bytes);
	if (siommu_replay_pt(w->r))
		assert_int_equal(siommu_pt_dump(siommu_replay_pt(w->r), NULL, fn_buf_line, b), 0);
}

static int replay_run(struct fn_sweep *sw, void *world)
{
	struct replay_world *w = world;
	const struct siommu_replay_report *rp;
	struct fn_buf dump = { 0 };

	FN_STEP(sw, siommu_replay_create(w->ctx, &w->opts, &w->r));
	FN_STEP(sw, siommu_replay_read_file(w->r, w->path));
	FN_STEP(sw, siommu_replay_read_buf(w->r, "small", small_trace, sizeof(small_trace) - 1));
	rp = siommu_replay_get_report(w->r);
	assert_int_equal(rp->files, 2);
	assert_int_equal(rp->by_type[SIOMMU_TRACE_MAP], 113);
	assert_int_equal(rp->bad_lines, 1);
	FN_STEP(sw, siommu_replay_run(w->r));
	w->ran = true;
	assert_true(rp->ran);
	assert_int_equal(rp->mapped_bytes == 0, false);
	FN_STEP(sw, siommu_pt_dump(siommu_replay_pt(w->r), NULL, fn_buf_line, &dump));
	assert_non_null(strstr(dump.text, "IOVA_PFN"));
	free(dump.text);
	siommu_replay_destroy(w->r);
	w->r = NULL;
	return 0;
}

static void replay_teardown(void *world)
{
	struct replay_world *w = world;

	siommu_replay_destroy(w->r);
	assert_int_equal(siommu_ctx_destroy(w->ctx), 0);
}

static void exact_setup(void *world)
{
	replay_setup(world);
}

static void models_setup(void *world)
{
	struct replay_world *w = world;

	replay_setup(world);
	w->opts.predict = true;
	w->opts.whatif = true;
}

static void linux_pt_setup(void *world)
{
	struct replay_world *w = world;

	replay_setup(world);
	w->opts.linux_pt = true;
	w->opts.nr_tlbs = 1;
	w->opts.tlb[0] = (struct siommu_replay_tlb_geom){ .sets = 16, .ways = 2 };
}

static void test_replay_failnth_exact(void **state)
{
	static const struct fn_flow flow = {
		.name = "replay-exact", .world_size = sizeof(struct replay_world),
		.setup = exact_setup, .run = replay_run, .snapshot = replay_snapshot,
		.teardown = replay_teardown, .retry = true,
	};

	assert_true(fn_sweep(&flow) > 5);
}

static void test_replay_failnth_models(void **state)
{
	static const struct fn_flow flow = {
		.name = "replay-models", .world_size = sizeof(struct replay_world),
		.setup = models_setup, .run = replay_run, .snapshot = replay_snapshot,
		.teardown = replay_teardown, .retry = true,
	};

	assert_true(fn_sweep(&flow) > 5);
}

static void test_replay_failnth_linux_pt(void **state)
{
	static const struct fn_flow flow = {
		.name = "replay-linux-pt", .world_size = sizeof(struct replay_world),
		.setup = linux_pt_setup, .run = replay_run, .snapshot = replay_snapshot,
		.teardown = replay_teardown, .retry = true,
	};

	assert_true(fn_sweep(&flow) > 5);
}

/*
 * Found by the sweep: a read that failed for memory kept the lines parsed
 * before it (the report counted them, and a retry counted them twice).
 * Now a read failing with -ENOMEM is taken back whole.
 */
static void test_replay_read_enomem_rolls_back(void **state)
{
	struct replay_world w = { 0 };
	const struct siommu_replay_report *rp;
	unsigned long n;
	int ret = -ENOMEM;

	if (!siommu_testing_build())
		skip();
	replay_setup(&w);
	assert_int_equal(siommu_replay_create(w.ctx, NULL, &w.r), 0);
	rp = siommu_replay_get_report(w.r);
	for (n = 1; ret == -ENOMEM; n++) {
		siommu_test_fail_nth(n);
		ret = siommu_replay_read_file(w.r, w.path);
		siommu_test_fail_nth(0);
		if (ret == -ENOMEM) {
			assert_int_equal(rp->lines, 0);
			assert_int_equal(rp->files, 0);
			assert_null(siommu_replay_issue(w.r, 0));
		}
	}
	assert_int_equal(ret, 0);
	assert_true(n > 2);
	assert_int_equal(rp->files, 1);
	assert_int_equal(rp->by_type[SIOMMU_TRACE_MAP], 112);
	replay_teardown(&w);
}

/*
 * Found by the sweep: a run that failed for memory had already marked the
 * replay run, so the retry the contract allows returned -EALREADY.  Now a
 * run failing with -ENOMEM is taken back and may be made again.
 */
static void test_replay_run_enomem_retry(void **state)
{
	struct replay_world w = { 0 };
	const struct siommu_replay_report *rp;
	unsigned long n;
	int ret = -ENOMEM;

	if (!siommu_testing_build())
		skip();
	replay_setup(&w);
	w.opts.predict = true;
	assert_int_equal(siommu_replay_create(w.ctx, &w.opts, &w.r), 0);
	assert_int_equal(siommu_replay_read_file(w.r, w.path), 0);
	rp = siommu_replay_get_report(w.r);
	for (n = 1; ret == -ENOMEM; n++) {
		siommu_test_fail_nth(n);
		ret = siommu_replay_run(w.r);
		siommu_test_fail_nth(0);
		if (ret == -ENOMEM) {
			assert_false(rp->ran);
			assert_false(rp->predicted);
			assert_null(siommu_replay_pt(w.r));
			assert_int_equal(siommu_replay_nr_samples(w.r), 0);
		}
	}
	assert_int_equal(ret, 0);
	assert_true(n > 2);
	assert_true(rp->ran && rp->predicted);
	assert_int_equal(siommu_replay_run(w.r), -EALREADY);
	replay_teardown(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_read_enomem_rolls_back),
		cmocka_unit_test(test_replay_run_enomem_retry),
		cmocka_unit_test(test_replay_failnth_exact),
		cmocka_unit_test(test_replay_failnth_models),
		cmocka_unit_test(test_replay_failnth_linux_pt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
