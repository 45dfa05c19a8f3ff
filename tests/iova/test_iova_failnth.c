// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fail-the-Nth-allocation sweep over the IOVA allocator's flow
 * (tests/common/failnth.h), with and without per-thread caches: create,
 * reserve, allocations of every cached size class and beyond (tree nodes,
 * magazines, the depot), frees that fill and overflow the caches (a
 * free's contract has no -ENOMEM: a cache that cannot get a magazine must
 * give the range back to the tree), reuse from the caches, a flush, a
 * reservation over cached ranges, free_all, destroy.  The snapshot is the
 * tree's ranges and the allocated/reserved counts.
 */
#include "failnth.h"

#include <softiommu/iova.h>

#define PG	4096ull
#define NR	80

struct iova_world {
	struct siommu_ctx *ctx;
	struct siommu_iova_space *s;
	unsigned int flags;
	uint64_t iova[NR];
	unsigned int nr;
};

static unsigned int current_flags;

static void iova_setup(void *world)
{
	struct iova_world *w = world;

	assert_int_equal(siommu_ctx_create(&w->ctx), 0);
	w->flags = current_flags;
}

static void iova_snapshot(void *world, struct fn_buf *b)
{
	struct iova_world *w = world;
	struct siommu_iova_range r[256];
	struct siommu_iova_stats st;
	size_t n, i;

	if (!w->s)
		return;
	assert_int_equal(siommu_iova_snapshot(w->s, r, 256, &n), 0);
	for (i = 0; i < n; i++)
		fn_printf(b, "%s 0x%llx-0x%llx\n", siommu_iova_kind_name(r[i].kind),
			  (unsigned long long)r[i].start, (unsigned long long)r[i].last);
	assert_int_equal(siommu_iova_get_stats(w->s, &st), 0);
	fn_printf(b, "allocated %llu reserved %llu\n", (unsigned long long)st.allocated,
		  (unsigned long long)st.reserved);
}

static int iova_run(struct fn_sweep *sw, void *world)
{
	struct iova_world *w = world;
	struct siommu_iova_config cfg = {
		.start = 0x100000, .last = 0xffffffff, .granule_lg2 = 12, .flags = w->flags,
	};
	unsigned int i;

	FN_STEP(sw, siommu_iova_space_create(w->ctx, &cfg, &w->s));
	FN_STEP(sw, siommu_iova_reserve(w->s, 0xfee00000, 0xfeefffff));
	for (i = 0; i < NR; i++) {
		/* sizes 4K .. 1M (cached classes), and 2M (the tree only) */
		uint64_t size = i % 10 == 9 ? 512 * PG : PG << (i % 9);

		FN_STEP(sw, siommu_iova_alloc(w->s, size, i & 1 ? 0xffffffff : UINT64_MAX,
					      &w->iova[w->nr]));
		w->nr++;
	}
	/* Free most: caches fill, magazines go to the depot. */
	for (i = 0; i < NR - 8; i++) {
		FN_STEP(sw, siommu_iova_free(w->s, w->iova[i]));
		w->iova[i] = 0;
	}
	/* Allocate again: served by the caches where they hold the size. */
	for (i = 0; i < 20; i++) {
		FN_STEP(sw, siommu_iova_alloc(w->s, PG << (i % 4), UINT64_MAX, &w->iova[i]));
	}
	FN_STEP(sw, siommu_iova_flush_caches(w->s));
	/* A reservation over whatever is free or cached at the bottom. */
	FN_STEP(sw, siommu_iova_reserve(w->s, 0xf0000000, 0xf00fffff));
	siommu_iova_free_all(w->s);
	memset(w->iova, 0, sizeof(w->iova));
	FN_STEP(sw, siommu_iova_alloc(w->s, PG, UINT64_MAX, &w->iova[0]));
	FN_STEP(sw, siommu_iova_free(w->s, w->iova[0]));
	w->iova[0] = 0;
	FN_STEP(sw, siommu_iova_space_destroy(w->s));
	w->s = NULL;
	return 0;
}

static void iova_teardown(void *world)
{
	struct iova_world *w = world;

	if (w->s)
		siommu_iova_free_all(w->s);
	assert_int_equal(siommu_iova_space_destroy(w->s), 0);
	assert_int_equal(siommu_ctx_destroy(w->ctx), 0);
}

static void test_iova_failnth_flow(void **state)
{
	static const struct fn_flow flow = {
		.name = "iova", .world_size = sizeof(struct iova_world),
		.setup = iova_setup, .run = iova_run, .snapshot = iova_snapshot,
		.teardown = iova_teardown, .retry = true,
	};

	current_flags = 0;
	assert_true(fn_sweep(&flow) > 4);
	current_flags = SIOMMU_IOVA_NO_CACHE;
	assert_true(fn_sweep(&flow) > 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iova_failnth_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
