// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fail-the-Nth-allocation sweeps over the page-table flows
 * (tests/common/failnth.h), once per format: create (arena, bookkeeping,
 * root), map of 4 KiB runs, 2 MiB and 1 GiB pages and of runs crossing
 * table boundaries, dirty read-and-clear, unmaps that detach tables, a
 * sync that defers the frees, maps while pages wait for their grace
 * period, reclaim_wait, hold/unhold, dump, a waiting sync and destroy.
 * The snapshot is the dump (every leaf and the entries above it), the
 * detached-page count and the gather; table_pages is not in it because a
 * map's -ENOMEM may leave empty table pages (its contract says so).
 *
 * --broken-partial-map (or SIOMMU_STRESS_BREAK=1; testing builds): a map
 * that fails with -ENOMEM maps its first page anyway; the sweep must see
 * the state change.
 */
#include "siommu_config.h"
#include "failnth.h"
#include "pgtable/pt_internal.h"
#include "pt_test.h"

#define PG	0x1000ull
#define SZ_2M	0x200000ull
#define SZ_1G	0x40000000ull
#define RW	(SIOMMU_PT_READ | SIOMMU_PT_WRITE)

static bool broken;

struct pt_world {
	struct siommu_ctx *ctx;
	struct siommu_pt_cfg cfg;
	struct siommu_pt *pt;
	struct siommu_pt_gather g;
	bool held;
};

static struct siommu_pt_cfg current_cfg;

static void pt_setup(void *world)
{
	struct pt_world *w = world;

	assert_int_equal(siommu_ctx_create(&w->ctx), 0);
	w->cfg = current_cfg;
	siommu_pt_gather_init(&w->g);
}

static void pt_snapshot(void *world, struct fn_buf *b)
{
	struct pt_world *w = world;
	struct siommu_pt_info info;

	if (!w->pt)
		return;
	assert_int_equal(siommu_pt_get_info(w->pt, &info), 0);
	/* (reclaim_pages moves with the RCU callback thread: not the call's state) */
	fn_printf(b, "detached %llu gather [0x%llx, 0x%llx] %llu pages\n",
		  (unsigned long long)info.detached_pages, (unsigned long long)w->g.start,
		  (unsigned long long)w->g.last, (unsigned long long)w->g.nr_pages);
	assert_int_equal(siommu_pt_dump(w->pt, NULL, fn_buf_line, b), 0);
}

static int pt_run(struct fn_sweep *sw, void *world)
{
	struct pt_world *w = world;
	struct siommu_pt_info info;
	struct pt_dump_buf *dump;
	uint64_t bitmap[8] = { 0 }, top;
	bool has_1g, dirty;

	FN_STEP(sw, siommu_pt_create(w->ctx, &w->cfg, &w->pt));
#if SIOMMU_TESTING_BUILD
	if (broken)
		pt_test_set_map_enomem_partial(w->pt, true);
#endif
	assert_int_equal(siommu_pt_get_info(w->pt, &info), 0);
	has_1g = info.pgsize_bitmap & SIOMMU_PT_SZ_1G;
	dirty = w->cfg.fmt == SIOMMU_PT_FMT_X86_64 || (w->cfg.flags & SIOMMU_PT_F_DIRTY);
	top = 1ull << info.ias_lg2;

	FN_STEP(sw, siommu_pt_map(w->pt, 0x1000, 0x101000, 8 * PG, RW));
	FN_STEP(sw, siommu_pt_map(w->pt, SZ_2M, 0x400000, SZ_2M, RW));
	FN_STEP(sw, siommu_pt_map(w->pt, 3 * SZ_2M - 3 * PG, 0x900000, 6 * PG, SIOMMU_PT_READ));
	if (has_1g)
		FN_STEP(sw, siommu_pt_map(w->pt, SZ_1G, SZ_1G, SZ_1G, RW));
	FN_STEP(sw, siommu_pt_map(w->pt, top - 4 * PG, 0x200000, 4 * PG, RW));
	if (dirty) {
		struct siommu_pt_xlate x;

		siommu_read_lock();
		assert_int_equal(siommu_pt_translate_rcu(w->pt, SZ_2M + 8, SIOMMU_PT_ACC_WRITE |
							 SIOMMU_PT_ACC_PRIV, &x), 0);
		siommu_read_unlock();
		FN_STEP(sw, siommu_pt_read_and_clear_dirty(w->pt, 0, 4 * SZ_2M, 0, bitmap, 21,
							   &w->g));
		assert_int_equal(bitmap[0], 0x2);
	}
	/* A whole leaf table detached into the gather, then a 2 MiB leaf. */
	FN_STEP(sw, siommu_pt_unmap(w->pt, 0, SZ_2M, &w->g));
	FN_STEP(sw, siommu_pt_unmap(w->pt, SZ_2M, SZ_2M, &w->g));
	FN_STEP(sw, siommu_pt_gather_sync(&w->g, NULL, NULL, 0));
	/* Maps while the detached pages may still wait for their grace period. */
	FN_STEP(sw, siommu_pt_map(w->pt, 0x10000, 0x10000, 16 * PG, RW));
	FN_STEP(sw, siommu_pt_map(w->pt, 64 * SZ_2M, 0x200000, 3 * SZ_2M + PG, RW));
	FN_STEP(sw, siommu_pt_reclaim_wait(w->pt));
	FN_STEP(sw, siommu_pt_hold(w->pt));
	w->held = true;
	FN_STEP(sw, siommu_pt_unhold(w->pt));
	w->held = false;
	dump = calloc(1, sizeof(*dump));
	assert_non_null(dump);
	FN_STEP(sw, siommu_pt_dump(w->pt, NULL, pt_test_dump_line, dump));
	free(dump);
	FN_STEP(sw, siommu_pt_unmap(w->pt, 0, top, &w->g));
	FN_STEP(sw, siommu_pt_gather_sync(&w->g, NULL, NULL, SIOMMU_PT_SYNC_WAIT));
	FN_STEP(sw, siommu_pt_destroy(w->pt));
	w->pt = NULL;
	return 0;
}

static void pt_teardown(void *world)
{
	struct pt_world *w = world;

	if (w->held)
		assert_int_equal(siommu_pt_unhold(w->pt), 0);
	assert_int_equal(siommu_pt_gather_sync(&w->g, NULL, NULL, SIOMMU_PT_SYNC_WAIT), 0);
	assert_int_equal(siommu_pt_destroy(w->pt), 0);
	assert_int_equal(siommu_ctx_destroy(w->ctx), 0);
}

static void sweep_fmt(enum siommu_pt_fmt fmt, unsigned int levels, unsigned int flags,
		      bool host)
{
	static const struct fn_flow flow = {
		.name = "pgtable", .world_size = sizeof(struct pt_world),
		.setup = pt_setup, .run = pt_run, .snapshot = pt_snapshot,
		.teardown = pt_teardown, .retry = true,
	};

	current_cfg = (struct siommu_pt_cfg){
		.fmt = fmt, .levels = levels, .flags = flags,
		.table_phys_base = host ? 0 : PT_TEST_PHYS_BASE, .max_table_pages = 512,
	};
	print_message("# %s, %u levels, flags 0x%x\n", siommu_pt_fmt_name(fmt), levels, flags);
	assert_true(fn_sweep(&flow) > 5);
}

static void test_pgtable_failnth_x86_64(void **state)
{
	sweep_fmt(SIOMMU_PT_FMT_X86_64, 4, 0, false);
	sweep_fmt(SIOMMU_PT_FMT_X86_64, 5, 0, true);
}

static void test_pgtable_failnth_vtd_ss(void **state)
{
	sweep_fmt(SIOMMU_PT_FMT_VTD_SS, 3, SIOMMU_PT_F_DIRTY, false);
	sweep_fmt(SIOMMU_PT_FMT_VTD_SS, 5, SIOMMU_PT_F_EXEC, false);
}

static void test_pgtable_failnth_arm(void **state)
{
	sweep_fmt(SIOMMU_PT_FMT_ARM_LPAE_S1, 4, SIOMMU_PT_F_DIRTY, true);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pgtable_failnth_x86_64),
		cmocka_unit_test(test_pgtable_failnth_vtd_ss),
		cmocka_unit_test(test_pgtable_failnth_arm),
	};

	broken = test_break_requested() || (argc > 1 && !strcmp(argv[1], "--broken-partial-map"));
	if (broken && !SIOMMU_TESTING_BUILD)
		test_break_unsupported("the partial-map hook exists in -Dtesting=true builds only");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
