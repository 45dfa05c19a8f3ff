// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IOVA allocator: placement (top-down, size-aligned, limit, reserved),
 * bad input, double free through the caches, flush on failure, threads that
 * come and go, the depot, and a randomized comparison with a reference model.
 */
#include <errno.h>
#include "test_common.h"
#include <softiommu/base.h>
#include <softiommu/iova.h>
#include "base/rcu.h"
#include "iova/iova_internal.h"

#define PG	4096ull

struct fx {
	struct siommu_ctx *ctx;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static struct siommu_iova_space *mkspace(struct fx *f, uint64_t start,
					 uint64_t last, unsigned int flags)
{
	struct siommu_iova_config cfg = {
		.start = start, .last = last, .granule_lg2 = 12, .flags = flags,
	};
	struct siommu_iova_space *s = NULL;

	assert_int_equal(siommu_iova_space_create(f->ctx, &cfg, &s), 0);
	return s;
}

static void destroy(struct siommu_iova_space *s)
{
	assert_int_equal(siommu_iova_check(s), 0);
	siommu_iova_free_all(s);
	assert_int_equal(siommu_iova_space_destroy(s), 0);
}

/* Snapshot comparison: "nothing changed". */
#define SNAP_MAX 1024

struct snap {
	size_t nr;
	struct siommu_iova_range r[SNAP_MAX];
};

static void snap(struct siommu_iova_space *s, struct snap *out)
{
	assert_int_equal(siommu_iova_snapshot(s, out->r, SNAP_MAX, &out->nr), 0);
}

static void assert_same(const struct snap *a, const struct snap *b)
{
	size_t i;

	assert_int_equal(a->nr, b->nr);
	for (i = 0; i < a->nr; i++) {
		assert_int_equal(a->r[i].start, b->r[i].start);
		assert_int_equal(a->r[i].last, b->r[i].last);
		assert_int_equal(a->r[i].kind, b->r[i].kind);
	}
}

/* ---- create ---- */

static void test_iova_create_rejects_bad_config(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_config cfg = { .start = 0, .last = 0xffffffff, .granule_lg2 = 12 };
	struct siommu_iova_space *s = NULL;
	struct siommu_iova_config bad;

	bad = cfg;
	bad.granule_lg2 = 1;
	assert_int_equal(siommu_iova_space_create(f->ctx, &bad, &s), -EINVAL);
	bad = cfg;
	bad.granule_lg2 = 49;
	assert_int_equal(siommu_iova_space_create(f->ctx, &bad, &s), -EINVAL);
	bad = cfg;
	bad.start = 0x800;
	assert_int_equal(siommu_iova_space_create(f->ctx, &bad, &s), -EINVAL);
	bad = cfg;
	bad.last = 0xfffffffe;
	assert_int_equal(siommu_iova_space_create(f->ctx, &bad, &s), -EINVAL);
	bad = cfg;
	bad.start = 0x100000;
	bad.last = 0xfffff;
	assert_int_equal(siommu_iova_space_create(f->ctx, &bad, &s), -EINVAL);
	bad = cfg;
	bad.flags = 0x80;
	assert_int_equal(siommu_iova_space_create(f->ctx, &bad, &s), -EINVAL);
	assert_int_equal(siommu_iova_space_create(NULL, &cfg, &s), -EINVAL);
	assert_int_equal(siommu_iova_space_create(f->ctx, NULL, &s), -EINVAL);
	assert_int_equal(siommu_iova_space_create(f->ctx, &cfg, NULL), -EINVAL);
	assert_null(s);

	/* The whole 64-bit space is a valid aperture. */
	cfg.last = UINT64_MAX;
	assert_int_equal(siommu_iova_space_create(f->ctx, &cfg, &s), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), -EBUSY);	/* held by s */
	assert_int_equal(siommu_iova_space_destroy(s), 0);
	assert_int_equal(siommu_iova_space_destroy(NULL), 0);
}

/* ---- placement ---- */

static void test_iova_alloc_top_down_size_aligned(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	uint64_t a, b, c;

	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &a), 0);
	assert_int_equal(a, 0xfffff000);
	assert_int_equal(siommu_iova_alloc(s, 16 * PG, UINT64_MAX, &b), 0);
	assert_int_equal(b, 0x100000000 - 2 * 16 * PG);	/* aligned below a */
	assert_int_equal(b % (16 * PG), 0);
	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &c), 0);
	assert_int_equal(c, 0xffffe000);	/* fills the gap between b and a */
	destroy(s);
}

static void test_iova_alloc_rounds_cached_sizes_to_power_of_two(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	struct siommu_iova_range r;
	uint64_t a;

	assert_int_equal(siommu_iova_alloc(s, 3 * PG - 100, UINT64_MAX, &a), 0);
	assert_int_equal(siommu_iova_find(s, a, &r), 0);
	assert_int_equal(r.start, a);
	assert_int_equal(r.last - r.start + 1, 4 * PG);
	assert_int_equal(a % (4 * PG), 0);
	destroy(s);
}

static void test_iova_alloc_large_sizes_are_exact_and_aligned(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	struct siommu_iova_range r;
	uint64_t a, b;

	assert_int_equal(siommu_iova_alloc(s, 300 * PG, UINT64_MAX, &a), 0);
	assert_int_equal(siommu_iova_find(s, a, &r), 0);
	assert_int_equal(r.last - r.start + 1, 300 * PG);
	assert_int_equal(a % (512 * PG), 0);
	/* exact size leaves the top of its 512-page block usable */
	assert_int_equal(siommu_iova_alloc(s, 128 * PG, UINT64_MAX, &b), 0);
	assert_true(b > a + 300 * PG - 1);
	destroy(s);
}

static void test_iova_alloc_respects_limit(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, (1ull << 40) - 1, 0);
	struct siommu_iova_range r;
	uint64_t a;

	assert_int_equal(siommu_iova_alloc(s, 64 * PG, 0xffffffff, &a), 0);
	assert_int_equal(a, 0x100000000 - 64 * PG);
	/* A limit in the middle of a granule excludes that granule. */
	assert_int_equal(siommu_iova_alloc(s, PG, 0x10000800, &a), 0);
	assert_int_equal(a, 0xffff000);
	/* Freed to the cache, the top range is not returned under a lower limit. */
	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &a), 0);
	assert_int_equal(a, (1ull << 40) - PG);
	assert_int_equal(siommu_iova_free(s, a), 0);
	assert_int_equal(siommu_iova_alloc(s, PG, 0xfffffff, &a), 0);
	assert_true(a + PG - 1 <= 0xfffffff);
	assert_int_equal(siommu_iova_find(s, a, &r), 0);
	destroy(s);
}

static void test_iova_alloc_skips_reserved(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	struct siommu_iova_range r;
	uint64_t a;

	/* the x86 MSI window, and everything above 0xf0000000 */
	assert_int_equal(siommu_iova_reserve(s, 0xfee00000, 0xfeefffff), 0);
	assert_int_equal(siommu_iova_reserve(s, 0xf0000000, 0xffffffff), 0);
	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &a), 0);
	assert_int_equal(a, 0xf0000000 - PG);
	assert_int_equal(siommu_iova_find(s, 0xfee01234, &r), 0);
	assert_int_equal(r.kind, SIOMMU_IOVA_RESERVED);
	assert_int_equal(r.start, 0xfee00000);
	assert_int_equal(siommu_iova_free(s, 0xfee00000), -ENOENT);
	/* reserve the low part: an allocation must land between */
	assert_int_equal(siommu_iova_reserve(s, 0, 0xefffdfff), 0);
	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &a), 0);
	assert_int_equal(a, 0xf0000000 - 2 * PG);
	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &a), -ENOSPC);
	destroy(s);
}

static void test_iova_reserve_clips_overlaps_and_ignores_outside(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0x100000, 0x1fffff, 0);
	struct snap a, b;

	assert_int_equal(siommu_iova_reserve(s, 0, 0xfffff), 0);	/* below */
	assert_int_equal(siommu_iova_reserve(s, 0x200000, UINT64_MAX), 0);
	snap(s, &a);
	assert_int_equal(a.nr, 0);
	assert_int_equal(siommu_iova_reserve(s, 0x150000, 0x15ffff), 0);
	/* overlaps the first, ends past the aperture; partial granules count */
	assert_int_equal(siommu_iova_reserve(s, 0x140001, UINT64_MAX), 0);
	snap(s, &b);
	assert_int_equal(b.nr, 3);
	assert_int_equal(b.r[0].start, 0x140000);
	assert_int_equal(b.r[0].last, 0x14ffff);
	assert_int_equal(b.r[1].start, 0x150000);
	assert_int_equal(b.r[2].start, 0x160000);
	assert_int_equal(b.r[2].last, 0x1fffff);
	assert_int_equal(siommu_iova_reserve(s, 0x141000, 0x170000), 0);	/* all reserved */
	snap(s, &a);
	assert_same(&a, &b);
	assert_int_equal(siommu_iova_reserve(s, 5, 4), -EINVAL);
	assert_int_equal(siommu_iova_reserve(NULL, 0, 4), -EINVAL);
	destroy(s);
}

static void test_iova_reserve_over_allocated_is_busy(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffff, 0);
	struct snap a, b;
	uint64_t x;

	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x), 0);
	snap(s, &a);
	assert_int_equal(siommu_iova_reserve(s, 0, 0xffffff), -EBUSY);
	snap(s, &b);
	assert_same(&a, &b);
	destroy(s);
}

static void test_iova_reserve_over_cached_flushes(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffff, 0);
	struct siommu_iova_stats st;
	struct siommu_iova_range r;
	uint64_t x;

	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_free(s, x), 0);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.cached, 1);
	assert_int_equal(siommu_iova_reserve(s, x, x + PG - 1), 0);
	assert_int_equal(siommu_iova_find(s, x, &r), 0);
	assert_int_equal(r.kind, SIOMMU_IOVA_RESERVED);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.flushes, 1);
	/* the cache no longer hands it out */
	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x), 0);
	assert_int_not_equal(x, r.start);
	destroy(s);
}

/* ---- bad input ---- */

static void test_iova_bad_input_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0x100000, 0x1fffff, 0);
	struct snap a, b;
	uint64_t x = 0x1234, y;

	assert_int_equal(siommu_iova_alloc(s, 2 * PG, UINT64_MAX, &y), 0);
	snap(s, &a);
	assert_int_equal(siommu_iova_alloc(s, 0, UINT64_MAX, &x), -EINVAL);
	assert_int_equal(siommu_iova_alloc(NULL, PG, UINT64_MAX, &x), -EINVAL);
	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, NULL), -EINVAL);
	assert_int_equal(siommu_iova_alloc(s, 0x100001, UINT64_MAX, &x), -ERANGE);
	assert_int_equal(siommu_iova_alloc(s, UINT64_MAX, UINT64_MAX, &x), -ERANGE);
	assert_int_equal(siommu_iova_alloc(s, PG, 0xfffff, &x), -ERANGE);
	assert_int_equal(siommu_iova_alloc(s, PG, 0, &x), -ERANGE);
	assert_int_equal(x, 0x1234);
	assert_int_equal(siommu_iova_free(s, 0x180000), -ENOENT);	/* never allocated */
	assert_int_equal(siommu_iova_free(s, y + PG), -ENOENT);	/* inside a range */
	assert_int_equal(siommu_iova_free(s, y + 1), -EINVAL);	/* not aligned */
	assert_int_equal(siommu_iova_free(s, 0x5000), -ENOENT);	/* outside */
	assert_int_equal(siommu_iova_free(s, UINT64_MAX & ~(PG - 1)), -ENOENT);
	assert_int_equal(siommu_iova_free(NULL, y), -EINVAL);
	snap(s, &b);
	assert_same(&a, &b);
	assert_int_equal(siommu_iova_find(s, 0x5000, &b.r[0]), -ENOENT);
	assert_int_equal(siommu_iova_find(s, y, NULL), -EINVAL);
	assert_int_equal(siommu_iova_snapshot(s, NULL, 1, &b.nr), -EINVAL);
	assert_int_equal(siommu_iova_get_stats(s, NULL), -EINVAL);
	assert_int_equal(siommu_iova_flush_caches(NULL), -EINVAL);
	/* the whole aperture, exactly, fits once the space is empty */
	assert_int_equal(siommu_iova_free(s, y), 0);
	assert_int_equal(siommu_iova_alloc(s, 0x100000, UINT64_MAX, &x), 0);
	assert_int_equal(x, 0x100000);
	destroy(s);
}

static void double_free_case(struct fx *f, unsigned int flags, bool flush)
{
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, flags);
	struct siommu_iova_stats st1, st2;
	struct snap a, b;
	uint64_t x, y;

	assert_int_equal(siommu_iova_alloc(s, 8 * PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_free(s, x), 0);
	if (flush)
		assert_int_equal(siommu_iova_flush_caches(s), 0);
	snap(s, &a);
	assert_int_equal(siommu_iova_get_stats(s, &st1), 0);
	assert_int_equal(siommu_iova_free(s, x), -ENOENT);
	snap(s, &b);
	assert_same(&a, &b);
	assert_int_equal(siommu_iova_get_stats(s, &st2), 0);
	assert_int_equal(st1.frees, st2.frees);
	/* and the range is handed out once, not twice */
	assert_int_equal(siommu_iova_alloc(s, 8 * PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_alloc(s, 8 * PG, UINT64_MAX, &y), 0);
	assert_int_not_equal(x, y);
	destroy(s);
}

static void test_iova_double_free_in_cache_is_refused(void **state)
{
	double_free_case(*state, 0, false);
}

static void test_iova_double_free_after_flush_is_refused(void **state)
{
	double_free_case(*state, 0, true);
}

static void test_iova_double_free_without_cache_is_refused(void **state)
{
	double_free_case(*state, SIOMMU_IOVA_NO_CACHE, false);
}

static void test_iova_double_free_large_size_is_refused(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	uint64_t x;

	assert_int_equal(siommu_iova_alloc(s, 1000 * PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_free(s, x), 0);
	assert_int_equal(siommu_iova_free(s, x), -ENOENT);
	destroy(s);
}

/* ---- caches ---- */

static void test_iova_cache_serves_freed_range(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	struct siommu_iova_stats st;
	uint64_t x, y;

	assert_int_equal(siommu_iova_alloc(s, 64 * PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_free(s, x), 0);
	assert_int_equal(siommu_iova_alloc(s, 64 * PG, UINT64_MAX, &y), 0);
	assert_int_equal(x, y);
	assert_int_equal(siommu_iova_free(s, y), 0);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.allocs, 2);
	assert_int_equal(st.frees, 2);
	assert_int_equal(st.cache_hits, 1);
	assert_int_equal(st.cache_frees, 2);
	assert_int_equal(st.tree_allocs, 1);
	assert_int_equal(st.tree_frees, 0);
	assert_int_equal(st.cached, 1);
	assert_int_equal(st.threads, 1);
	/* 256 pages is the largest cached size */
	assert_int_equal(siommu_iova_alloc(s, 256 * PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_free(s, x), 0);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.cache_frees, 3);
	assert_int_equal(siommu_iova_alloc(s, 257 * PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_free(s, x), 0);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.cache_frees, 3);
	assert_int_equal(st.tree_frees, 1);
	destroy(s);
}

static void test_iova_no_cache_space_goes_to_tree(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, SIOMMU_IOVA_NO_CACHE);
	struct siommu_iova_stats st;
	uint64_t x;
	int i;

	for (i = 0; i < 10; i++) {
		assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x), 0);
		assert_int_equal(x, 0xfffff000);
		assert_int_equal(siommu_iova_free(s, x), 0);
	}
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.cache_hits, 0);
	assert_int_equal(st.tree_allocs, 10);
	assert_int_equal(st.tree_frees, 10);
	assert_int_equal(st.threads, 0);
	destroy(s);
}

static void test_iova_depot_takes_and_gives_magazines(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	struct siommu_iova_stats st;
	static uint64_t x[1000];
	unsigned int i;

	for (i = 0; i < 1000; i++)
		assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x[i]), 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(siommu_iova_free(s, x[i]), 0);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_true(st.depot_puts >= 5);
	assert_int_equal(st.cached, 1000);
	assert_int_equal(siommu_iova_check(s), 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x[i]), 0);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_true(st.depot_gets >= 5);
	assert_int_equal(st.cache_hits, 1000);
	assert_int_equal(st.allocated, 1000);
	assert_int_equal(st.cached, 0);
	destroy(s);
}

static void test_iova_depot_full_spills_to_tree(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	struct siommu_iova_stats st;
	unsigned int n = (IOVA_DEPOT_MAX + 4) * IOVA_MAG_SIZE, i;
	uint64_t *x = calloc(n, sizeof(*x));

	assert_non_null(x);
	for (i = 0; i < n; i++)
		assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x[i]), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(siommu_iova_free(s, x[i]), 0);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.depot_puts, IOVA_DEPOT_MAX);
	assert_true(st.tree_frees > 0);
	assert_int_equal(st.cached + st.tree_frees, n);
	assert_int_equal(siommu_iova_check(s), 0);
	free(x);
	destroy(s);
}

static void test_iova_full_space_flushes_and_retries(void **state)
{
	struct fx *f = *state;
	/* 16 pages */
	struct siommu_iova_space *s = mkspace(f, 0x10000, 0x1ffff, 0);
	struct siommu_iova_stats st;
	uint64_t x[16], big;
	int i;

	for (i = 0; i < 16; i++)
		assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x[i]), 0);
	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &big), -ENOSPC);
	for (i = 0; i < 16; i++)
		assert_int_equal(siommu_iova_free(s, x[i]), 0);
	/* all 16 sit in this thread's cache; a 16-page request needs them */
	assert_int_equal(siommu_iova_alloc(s, 16 * PG, UINT64_MAX, &big), 0);
	assert_int_equal(big, 0x10000);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.flushes, 2);	/* one per failed attempt */
	assert_int_equal(st.cached, 0);
	destroy(s);
}

/* A thread that keeps freed ranges in its cache and stays alive. */
struct holder {
	struct siommu_iova_space *s;
	pthread_barrier_t *gate;
	unsigned int n;
	uint64_t size;
};

static void *hold_cached(void *p)
{
	struct holder *h = p;
	uint64_t x[64];
	unsigned int i;

	for (i = 0; i < h->n; i++)
		thread_assert_int_equal(siommu_iova_alloc(h->s, h->size, UINT64_MAX, &x[i]), 0);
	for (i = 0; i < h->n; i++)
		thread_assert_int_equal(siommu_iova_free(h->s, x[i]), 0);
	pthread_barrier_wait(h->gate);	/* cached */
	pthread_barrier_wait(h->gate);	/* stay alive until told */
	return NULL;
}

static void test_iova_flush_takes_other_threads_caches(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0x10000, 0x1ffff, 0);
	pthread_barrier_t gate;
	struct holder h = { .s = s, .gate = &gate, .n = 16, .size = PG };
	struct siommu_iova_stats st;
	pthread_t tid;
	uint64_t x;

	pthread_barrier_init(&gate, NULL, 2);
	assert_int_equal(pthread_create(&tid, NULL, hold_cached, &h), 0);
	pthread_barrier_wait(&gate);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.cached, 16);
	assert_int_equal(st.threads, 1);
	/* the other thread's cache holds the whole space: alloc must flush it */
	assert_int_equal(siommu_iova_alloc(s, 16 * PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.threads, 2);
	pthread_barrier_wait(&gate);
	pthread_join(tid, NULL);
	pthread_barrier_destroy(&gate);
	destroy(s);
}

static void *alloc_free_and_exit(void *p)
{
	struct holder *h = p;
	uint64_t x[64];
	unsigned int i;

	for (i = 0; i < h->n; i++)
		thread_assert_int_equal(siommu_iova_alloc(h->s, h->size, UINT64_MAX, &x[i]), 0);
	for (i = 0; i < h->n; i++)
		thread_assert_int_equal(siommu_iova_free(h->s, x[i]), 0);
	return NULL;
}

static void test_iova_exiting_thread_gives_its_cache_back(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0x10000, 0x1ffff, 0);
	struct holder h = { .s = s, .n = 16, .size = PG };
	struct siommu_iova_stats st;
	pthread_t tid;
	uint64_t x;

	assert_int_equal(pthread_create(&tid, NULL, alloc_free_and_exit, &h), 0);
	pthread_join(tid, NULL);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.threads, 0);
	assert_int_equal(st.cached, 0);	/* partial magazines go to the tree */
	assert_int_equal(st.tree_frees, 16);
	assert_int_equal(st.cache_frees, 16);	/* counters survive the thread */
	assert_int_equal(st.flushes, 0);
	assert_int_equal(siommu_iova_alloc(s, 16 * PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.flushes, 0);	/* no flush was needed */
	destroy(s);
}

static void test_iova_destroy_with_live_threads_caches(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0x10000, 0x1ffff, 0);
	pthread_barrier_t gate;
	struct holder h = { .s = s, .gate = &gate, .n = 8, .size = 2 * PG };
	pthread_t tid;

	pthread_barrier_init(&gate, NULL, 2);
	assert_int_equal(pthread_create(&tid, NULL, hold_cached, &h), 0);
	pthread_barrier_wait(&gate);
	/* nothing is allocated: only cached */
	assert_int_equal(siommu_iova_space_destroy(s), 0);
	pthread_barrier_wait(&gate);	/* the thread exits after the space is gone */
	pthread_join(tid, NULL);
	pthread_barrier_destroy(&gate);
}

static void test_iova_destroy_refuses_while_allocated(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	uint64_t x, y;

	assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_alloc(s, 4 * PG, UINT64_MAX, &y), 0);
	assert_int_equal(siommu_iova_free(s, y), 0);
	assert_int_equal(siommu_iova_space_destroy(s), -EBUSY);
	assert_int_equal(siommu_iova_free(s, x), 0);	/* still usable */
	assert_int_equal(siommu_iova_space_destroy(s), 0);
}

static void test_iova_free_all_keeps_reservations(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffff, 0);
	struct siommu_iova_stats st;
	struct snap a;
	uint64_t x;
	int i;

	assert_int_equal(siommu_iova_reserve(s, 0, 0xfffff), 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(siommu_iova_alloc(s, (i % 5 + 1) * PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_free(s, x), 0);
	siommu_iova_free_all(s);
	snap(s, &a);
	assert_int_equal(a.nr, 1);
	assert_int_equal(a.r[0].kind, SIOMMU_IOVA_RESERVED);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.cached, 0);
	assert_int_equal(siommu_iova_free(s, x), -ENOENT);
	assert_int_equal(siommu_iova_space_destroy(s), 0);
}

static void test_iova_find_reports_allocated_and_reserved(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	struct siommu_iova_range r;
	uint64_t x;

	assert_int_equal(siommu_iova_alloc(s, 5 * PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_find(s, x + 7 * PG + 5, &r), 0);
	assert_int_equal(r.start, x);
	assert_int_equal(r.last, x + 8 * PG - 1);
	assert_int_equal(r.kind, SIOMMU_IOVA_ALLOCATED);
	assert_int_equal(siommu_iova_find(s, x - 1, &r), -ENOENT);
	assert_int_equal(siommu_iova_free(s, x), 0);
	assert_int_equal(siommu_iova_find(s, x, &r), -ENOENT);	/* cached = free */
	assert_string_equal(siommu_iova_kind_name(SIOMMU_IOVA_CACHED), "cached");
	assert_null(siommu_iova_kind_name((enum siommu_iova_kind)7));
	destroy(s);
}

static void test_iova_snapshot_reports_overflow(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	struct siommu_iova_range r[2];
	size_t nr;
	uint64_t x;
	int i;

	for (i = 0; i < 3; i++)
		assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_snapshot(s, r, 2, &nr), -ENOSPC);
	assert_int_equal(nr, 3);
	assert_int_equal(r[0].start, 0xffffd000);
	assert_int_equal(r[1].start, 0xffffe000);
	assert_int_equal(siommu_iova_snapshot(s, NULL, 0, &nr), -ENOSPC);
	destroy(s);
}

static void test_iova_other_granules(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_config cfg = {
		.start = 0, .last = (1ull << 32) - 1, .granule_lg2 = 16,
	};
	struct siommu_iova_space *s;
	struct siommu_iova_range r;
	uint64_t x;

	assert_int_equal(siommu_iova_space_create(f->ctx, &cfg, &s), 0);
	assert_int_equal(siommu_iova_alloc(s, 1, UINT64_MAX, &x), 0);
	assert_int_equal(x, (1ull << 32) - 0x10000);
	assert_int_equal(siommu_iova_alloc(s, 0x30000, UINT64_MAX, &x), 0);
	assert_int_equal(siommu_iova_find(s, x, &r), 0);
	assert_int_equal(r.last - r.start + 1, 0x40000);
	assert_int_equal(siommu_iova_free(s, x + 0x1000), -EINVAL);
	destroy(s);

	/* a tiny granule, and the top of the 64-bit space */
	cfg = (struct siommu_iova_config){ .start = 0xffffffffffff0000ull,
					    .last = UINT64_MAX, .granule_lg2 = 2 };
	assert_int_equal(siommu_iova_space_create(f->ctx, &cfg, &s), 0);
	assert_int_equal(siommu_iova_alloc(s, 8, UINT64_MAX, &x), 0);
	assert_int_equal(x, UINT64_MAX - 7);
	assert_int_equal(siommu_iova_alloc(s, 0x10000, UINT64_MAX, &x), -ENOSPC);
	assert_int_equal(siommu_iova_alloc(s, 0x10001, UINT64_MAX, &x), -ERANGE);
	destroy(s);
}

/* ---- contexts ---- */

struct rcu_free {
	struct siommu_rcu_head head;
	struct siommu_iova_space *s;
	uint64_t iova;
	int ret;
};

static void free_from_callback(struct siommu_rcu_head *h)
{
	struct rcu_free *rf = siommu_container_of(h, struct rcu_free, head);

	rf->ret = siommu_iova_free(rf->s, rf->iova);
}

static void test_iova_free_from_rcu_callback(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, 0xffffffff, 0);
	struct rcu_free rf = { .s = s, .ret = 1 };
	struct siommu_iova_range r;

	assert_int_equal(siommu_iova_alloc(s, 2 * PG, UINT64_MAX, &rf.iova), 0);
	siommu_call_rcu(&rf.head, free_from_callback);
	siommu_rcu_barrier();
	assert_int_equal(rf.ret, 0);
	assert_int_equal(siommu_iova_find(s, rf.iova, &r), -ENOENT);
	/* and a flush takes it back from the callback thread's cache */
	assert_int_equal(siommu_iova_flush_caches(s), 0);
	destroy(s);
}

static void test_iova_flush_inside_read_section(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0x10000, 0x1ffff, 0);
	pthread_barrier_t gate;
	struct holder h = { .s = s, .gate = &gate, .n = 8, .size = PG };
	struct siommu_iova_stats st;
	uint64_t x[8], big;
	pthread_t tid;
	int i;

	/* half the space cached by another thread, half by this one */
	pthread_barrier_init(&gate, NULL, 2);
	assert_int_equal(pthread_create(&tid, NULL, hold_cached, &h), 0);
	pthread_barrier_wait(&gate);
	for (i = 0; i < 8; i++)
		assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x[i]), 0);
	siommu_read_lock();
	for (i = 0; i < 8; i++)
		assert_int_equal(siommu_iova_free(s, x[i]), 0);
	/* flushing waits for no grace period: fine inside a section */
	assert_int_equal(siommu_iova_flush_caches(s), 0);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.cached, 0);
	assert_int_equal(siommu_iova_alloc(s, 16 * PG, UINT64_MAX, &big), 0);
	siommu_read_unlock();
	pthread_barrier_wait(&gate);
	pthread_join(tid, NULL);
	pthread_barrier_destroy(&gate);
	destroy(s);
}

static void test_iova_many_spaces_one_thread(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s[20];
	uint64_t x[20], y;
	int i, round;

	/* more spaces than thread-local slots: the slow lookup finds caches */
	for (i = 0; i < 20; i++)
		s[i] = mkspace(f, 0, 0xffffffff, 0);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 20; i++) {
			assert_int_equal(siommu_iova_alloc(s[i], PG << (i % 4), UINT64_MAX, &x[i]), 0);
			assert_int_equal(siommu_iova_free(s[i], x[i]), 0);
		}
		for (i = 0; i < 20; i++) {
			assert_int_equal(siommu_iova_alloc(s[i], PG << (i % 4), UINT64_MAX, &y), 0);
			assert_int_equal(y, x[i]);
			assert_int_equal(siommu_iova_free(s[i], y), 0);
		}
	}
	for (i = 0; i < 20; i++) {
		struct siommu_iova_stats st;

		assert_int_equal(siommu_iova_get_stats(s[i], &st), 0);
		assert_int_equal(st.threads, 1);
		assert_int_equal(st.tree_allocs, 1);
		destroy(s[i]);
	}
}

/* Every public function, from a thread that has never called the library. */
static void *call_every_api(void *arg)
{
	struct fx *f = arg;
	struct siommu_iova_config cfg = { .start = 0, .last = 0xffffffff, .granule_lg2 = 12 };
	struct siommu_iova_space *s;
	struct siommu_iova_range r;
	struct siommu_iova_stats st;
	size_t nr;
	uint64_t x;

	thread_assert_int_equal(siommu_iova_space_create(f->ctx, &cfg, &s), 0);
	thread_assert_int_equal(siommu_iova_reserve(s, 0, 0xfff), 0);
	thread_assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &x), 0);
	thread_assert_int_equal(siommu_iova_find(s, x, &r), 0);
	thread_assert_int_equal(siommu_iova_snapshot(s, &r, 1, &nr), -ENOSPC);
	thread_assert_int_equal(siommu_iova_free(s, x), 0);
	thread_assert_int_equal(siommu_iova_flush_caches(s), 0);
	thread_assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	thread_assert_int_equal(st.frees, 1);
	thread_assert_non_null(siommu_iova_kind_name(SIOMMU_IOVA_RESERVED));
	siommu_iova_free_all(s);
	thread_assert_int_equal(siommu_iova_space_destroy(s), 0);
	return NULL;
}

static void test_iova_unseen_thread_calls_every_api(void **state)
{
	void *args[1] = { *state };

	test_run_threads(1, call_every_api, args);
}

/* A space used by a thread that frees what another thread allocated. */
struct xfer {
	struct siommu_iova_space *s;
	uint64_t x[64];
};

static void *free_all_of(void *p)
{
	struct xfer *t = p;
	unsigned int i;

	for (i = 0; i < 64; i++)
		thread_assert_int_equal(siommu_iova_free(t->s, t->x[i]), 0);
	for (i = 0; i < 64; i++)
		thread_assert_int_equal(siommu_iova_free(t->s, t->x[i]), -ENOENT);
	return NULL;
}

static void test_iova_free_by_another_thread(void **state)
{
	struct fx *f = *state;
	struct xfer t = { .s = mkspace(f, 0, 0xffffffff, 0) };
	struct siommu_iova_stats st;
	void *args[1] = { &t };
	unsigned int i;

	for (i = 0; i < 64; i++)
		assert_int_equal(siommu_iova_alloc(t.s, 16 * PG, UINT64_MAX, &t.x[i]), 0);
	test_run_threads(1, free_all_of, args);
	assert_int_equal(siommu_iova_get_stats(t.s, &st), 0);
	assert_int_equal(st.frees, 64);
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.threads, 1);	/* the freeing thread's cache went back */
	assert_int_equal(st.cached, 0);
	destroy(t.s);
}

/* ---- randomized comparison with a reference model ---- */

/*
 * The model: one byte per page of a small aperture (0 free, 1 allocated,
 * 2 reserved), and the list of live allocations.  Without caches the
 * allocator must return exactly the model's answer (highest size-aligned fit
 * at or below the limit); with caches it must return a free, aligned place
 * inside the aperture and the limit, and may fail only when the model has
 * no place at all.
 */
#define M_PAGES		2048
#define M_START_PFN	0x1003	/* not aligned: alignment is absolute */

struct model {
	uint8_t page[M_PAGES];
	uint64_t live[M_PAGES];
	uint64_t live_pages[M_PAGES];
	unsigned int nr_live;
};

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static bool model_fit(const struct model *m, uint64_t pages, uint64_t limit_pfn,
		      uint64_t *out)
{
	uint64_t align = 1, x, i, top;

	while (align < pages)
		align <<= 1;
	top = M_START_PFN + M_PAGES - 1;
	if (limit_pfn < top)
		top = limit_pfn;
	if (top + 1 < M_START_PFN + pages)
		return false;
	for (x = (top + 1 - pages) & ~(align - 1); x >= M_START_PFN; x -= align) {
		for (i = 0; i < pages; i++)
			if (m->page[x - M_START_PFN + i])
				break;
		if (i == pages) {
			*out = x;
			return true;
		}
		if (x < align)
			break;
	}
	return false;
}

static void random_vs_model(struct fx *f, unsigned int flags, unsigned int ops)
{
	struct siommu_iova_space *s = mkspace(f, M_START_PFN * PG,
					      (M_START_PFN + M_PAGES) * PG - 1, flags);
	struct model *m = calloc(1, sizeof(*m));
	static const uint64_t sizes[] = { 1, 1, 1, 2, 3, 4, 8, 16, 5, 64, 100, 256, 257, 300 };
	unsigned int op, i, k;
	uint64_t pages, limit, limit_pfn, x, expect = 0, lo, hi;
	bool fits;
	int ret;

	assert_non_null(m);
	for (op = 0; op < ops; op++) {
		unsigned int what = rnd() % 100;

		if (what < 50) {
			pages = sizes[rnd() % SIOMMU_ARRAY_SIZE(sizes)];
			if (pages <= SIOMMU_IOVA_CACHE_MAX) {
				uint64_t p2 = 1;

				while (p2 < pages)
					p2 <<= 1;
				pages = p2;
			}
			limit = rnd() % 4 ? UINT64_MAX :
				(M_START_PFN + rnd() % M_PAGES) * PG + rnd() % PG;
			limit_pfn = limit == UINT64_MAX ? UINT64_MAX : (limit + 1) / PG - 1;
			fits = model_fit(m, pages, limit_pfn, &expect);
			ret = siommu_iova_alloc(s, pages * PG - rnd() % PG, limit, &x);
			if (ret == -ERANGE) {
				assert_true(limit_pfn < M_START_PFN);
				continue;
			}
			if (ret) {
				assert_int_equal(ret, -ENOSPC);
				assert_false(fits);
				continue;
			}
			assert_true(fits);
			if (flags & SIOMMU_IOVA_NO_CACHE)
				assert_int_equal(x, expect * PG);
			assert_int_equal(x % PG, 0);
			x /= PG;
			assert_true(x >= M_START_PFN);
			assert_true(x + pages - 1 <= M_START_PFN + M_PAGES - 1);
			if (limit != UINT64_MAX)
				assert_true((x + pages) * PG - 1 <= limit);
			for (k = 1; k < pages; k <<= 1)
				;
			assert_int_equal(x % k, 0);
			for (i = 0; i < pages; i++) {
				assert_int_equal(m->page[x - M_START_PFN + i], 0);
				m->page[x - M_START_PFN + i] = 1;
			}
			m->live[m->nr_live] = x;
			m->live_pages[m->nr_live++] = pages;
		} else if (what < 92) {
			if (!m->nr_live)
				continue;
			k = rnd() % m->nr_live;
			x = m->live[k];
			pages = m->live_pages[k];
			assert_int_equal(siommu_iova_free(s, x * PG), 0);
			if (rnd() % 4 == 0)	/* and a double free */
				assert_int_equal(siommu_iova_free(s, x * PG), -ENOENT);
			for (i = 0; i < pages; i++)
				m->page[x - M_START_PFN + i] = 0;
			m->live[k] = m->live[--m->nr_live];
			m->live_pages[k] = m->live_pages[m->nr_live];
		} else if (what < 94) {
			/* reserve a small range; refused if it overlaps an allocation */
			lo = M_START_PFN + rnd() % M_PAGES;
			hi = lo + rnd() % 4;
			if (hi >= M_START_PFN + M_PAGES)
				hi = M_START_PFN + M_PAGES - 1;
			fits = true;
			for (i = lo; i <= hi; i++)
				if (m->page[i - M_START_PFN] == 1)
					fits = false;
			ret = siommu_iova_reserve(s, lo * PG, hi * PG + PG - 1);
			assert_int_equal(ret, fits ? 0 : -EBUSY);
			if (fits)
				for (i = lo; i <= hi; i++)
					m->page[i - M_START_PFN] = 2;
		} else if (what < 95) {
			assert_int_equal(siommu_iova_flush_caches(s), 0);
		} else {
			/* free something that is not an allocation start */
			x = M_START_PFN + rnd() % M_PAGES;
			for (i = 0; i < m->nr_live; i++)
				if (m->live[i] == x)
					break;
			if (i == m->nr_live)
				assert_int_equal(siommu_iova_free(s, x * PG), -ENOENT);
		}
		if (op % 64 == 0)
			assert_int_equal(siommu_iova_check(s), 0);
	}
	assert_int_equal(siommu_iova_check(s), 0);
	free(m);
	destroy(s);
}

static void test_iova_random_vs_model_no_cache(void **state)
{
	random_vs_model(*state, SIOMMU_IOVA_NO_CACHE, 20000);
}

static void test_iova_random_vs_model_cached(void **state)
{
	random_vs_model(*state, 0, 20000);
}

/* Many nodes: the tree stays balanced and its summaries right. */
static void test_iova_tree_invariants_large(void **state)
{
	struct fx *f = *state;
	struct siommu_iova_space *s = mkspace(f, 0, (1ull << 48) - 1, SIOMMU_IOVA_NO_CACHE);
	static uint64_t x[20000];
	unsigned int i, n = 20000;

	for (i = 0; i < n; i++)
		assert_int_equal(siommu_iova_alloc(s, (rnd() % 8 + 1) * PG, UINT64_MAX, &x[i]), 0);
	assert_int_equal(siommu_iova_check(s), 0);
	for (i = 0; i < n; i += 2)
		assert_int_equal(siommu_iova_free(s, x[i]), 0);
	assert_int_equal(siommu_iova_check(s), 0);
	/* the holes are reused: lower addresses are not touched */
	for (i = 0; i < n; i += 2) {
		uint64_t y;

		assert_int_equal(siommu_iova_alloc(s, PG, UINT64_MAX, &y), 0);
		assert_true(y >= x[n - 1]);
	}
	assert_int_equal(siommu_iova_check(s), 0);
	destroy(s);
}

/* ---- fail the Nth allocation ---- */

static void test_iova_fail_nth_changes_nothing(void **state)
{
	struct fx *f = *state;
	unsigned long nth;
	bool completed = false;

	if (!siommu_testing_build())
		skip();
	for (nth = 1; !completed && nth < 500; nth++) {
		struct siommu_iova_config cfg = { .start = 0, .last = 0xffffffff, .granule_lg2 = 12 };
		struct siommu_iova_space *s = NULL;
		struct snap a, b;
		uint64_t x[300];
		unsigned int i, nx = 0;
		int ret;

		siommu_test_fail_nth(nth);
		ret = siommu_iova_space_create(f->ctx, &cfg, &s);
		if (ret) {
			assert_int_equal(ret, -ENOMEM);
			siommu_test_fail_nth(0);
			continue;
		}
		snap(s, &a);
		ret = siommu_iova_reserve(s, 0xfee00000, 0xfeefffff);
		snap(s, &b);
		if (ret) {
			assert_int_equal(ret, -ENOMEM);
			assert_same(&a, &b);
		}
		for (i = 0; i < 300; i++) {
			snap(s, &a);
			ret = siommu_iova_alloc(s, ((i % 3) + 1) * PG, UINT64_MAX, &x[nx]);
			if (ret) {
				assert_int_equal(ret, -ENOMEM);
				snap(s, &b);
				assert_same(&a, &b);
			} else {
				nx++;
			}
		}
		/* frees never fail, even when magazines cannot be allocated */
		for (i = 0; i < nx; i++)
			assert_int_equal(siommu_iova_free(s, x[i]), 0);
		completed = siommu_test_alloc_count() < (long)nth;
		siommu_test_fail_nth(0);
		assert_int_equal(siommu_iova_check(s), 0);
		assert_int_equal(siommu_iova_space_destroy(s), 0);
	}
	assert_true(completed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_iova_create_rejects_bad_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_alloc_top_down_size_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_alloc_rounds_cached_sizes_to_power_of_two, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_alloc_large_sizes_are_exact_and_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_alloc_respects_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_alloc_skips_reserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_reserve_clips_overlaps_and_ignores_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_reserve_over_allocated_is_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_reserve_over_cached_flushes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_bad_input_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_double_free_in_cache_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_double_free_after_flush_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_double_free_without_cache_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_double_free_large_size_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_cache_serves_freed_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_no_cache_space_goes_to_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_depot_takes_and_gives_magazines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_depot_full_spills_to_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_full_space_flushes_and_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_flush_takes_other_threads_caches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_exiting_thread_gives_its_cache_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_destroy_with_live_threads_caches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_destroy_refuses_while_allocated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_free_all_keeps_reservations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_find_reports_allocated_and_reserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_snapshot_reports_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_other_granules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_free_from_rcu_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_flush_inside_read_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_many_spaces_one_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_unseen_thread_calls_every_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_free_by_another_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_random_vs_model_no_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_random_vs_model_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_tree_invariants_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_fail_nth_changes_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
