// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-thread per-object state (base/tls.c) and its two users, stats sets and
 * IOVA thread caches: a thread using several objects finds each one's block
 * without a lock whatever their ids (the 16- and 8-slot direct-mapped caches
 * this replaced sent objects whose ids collided to a process-wide lock on
 * every call), blocks are freed when either the object or the thread dies,
 * and counts survive both.
 */
#include <errno.h>
#include "test_common.h"
#include <softiommu/base.h>
#include <softiommu/iova.h>
#include "base/lock.h"
#include "base/stats.h"
#include "base/tls.h"

#define NR_SETS		17	/* ids 0 and 16 shared a slot of a 16-entry table */
#define NR_SPACES	9	/* ids 0 and 8 shared a slot of an 8-entry table */

/* No lock taken by alternating increments of two sets whose ids collided. */
static void test_base_tls_colliding_stats_take_no_lock(void **state)
{
	struct siommu_stats *sets[NR_SETS];
	unsigned long before;
	unsigned int i;

	if (!siommu_testing_build())
		skip();	/* lock counting is part of lockdep, testing builds only */
	for (i = 0; i < NR_SETS; i++)
		assert_int_equal(siommu_stats_create(1, &sets[i]), 0);
	siommu_stats_inc(sets[0], 0);		/* first uses: slow paths */
	siommu_stats_inc(sets[NR_SETS - 1], 0);
#if SIOMMU_TESTING_BUILD
	before = siommu_lockdep_acquired();
	for (i = 0; i < 1000; i++) {
		siommu_stats_inc(sets[0], 0);
		siommu_stats_inc(sets[NR_SETS - 1], 0);
	}
	assert_int_equal(siommu_lockdep_acquired() - before, 0);
#else
	(void)before;
#endif
	assert_int_equal(siommu_stats_read(sets[0], 0), 1001);
	assert_int_equal(siommu_stats_read(sets[NR_SETS - 1], 0), 1001);
	for (i = 0; i < NR_SETS; i++)
		siommu_stats_destroy(sets[i]);
}

/* The same for IOVA alloc+free pairs alternating between two spaces. */
static void test_base_tls_colliding_iova_take_no_lock(void **state)
{
	const struct siommu_iova_config cfg = {
		.start = 0x100000, .last = 0xffffffff, .granule_lg2 = 12,
	};
	struct siommu_iova_space *sp[NR_SPACES], *a, *b;
	struct siommu_iova_stats st;
	struct siommu_ctx *ctx;
	unsigned long before;
	unsigned int i, k;
	uint64_t iova;

	if (!siommu_testing_build())
		skip();
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	for (i = 0; i < NR_SPACES; i++)
		assert_int_equal(siommu_iova_space_create(ctx, &cfg, &sp[i]), 0);
	a = sp[0];
	b = sp[NR_SPACES - 1];
	for (k = 0; k < 3; k++) {	/* warm up: caches, magazines, index hints */
		assert_int_equal(siommu_iova_alloc(a, 4096, UINT64_MAX, &iova), 0);
		assert_int_equal(siommu_iova_free(a, iova), 0);
		assert_int_equal(siommu_iova_alloc(b, 4096, UINT64_MAX, &iova), 0);
		assert_int_equal(siommu_iova_free(b, iova), 0);
	}
#if SIOMMU_TESTING_BUILD
	before = siommu_lockdep_acquired();
	for (k = 0; k < 1000; k++) {
		assert_int_equal(siommu_iova_alloc(a, 4096, UINT64_MAX, &iova), 0);
		assert_int_equal(siommu_iova_free(a, iova), 0);
		assert_int_equal(siommu_iova_alloc(b, 4096, UINT64_MAX, &iova), 0);
		assert_int_equal(siommu_iova_free(b, iova), 0);
	}
	assert_int_equal(siommu_lockdep_acquired() - before, 0);
#else
	(void)before;
#endif
	assert_int_equal(siommu_iova_get_stats(a, &st), 0);
	assert_int_equal(st.allocs, 1003);
	assert_int_equal(st.threads, 1);
	for (i = 0; i < NR_SPACES; i++)
		assert_int_equal(siommu_iova_space_destroy(sp[i]), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

#define MANY	200

static struct siommu_stats *many[MANY];

static void *use_many(void *arg)
{
	unsigned int i, k;

	for (k = 0; k < 3; k++)
		for (i = 0; i < MANY; i++)
			if (many[i])
				siommu_stats_add(many[i], 0, i + 1);
	/* every live set has its own block in this thread's table */
	for (i = 0; i < MANY; i++)
		if (many[i])
			thread_assert_non_null(siommu_tls_lookup(many[i]->tls.id));
	return NULL;
}

/* One thread, many sets: each keeps its own count, no eviction, exact sums. */
static void test_base_tls_many_objects_exact(void **state)
{
	pthread_t t;
	unsigned int i;

	for (i = 0; i < MANY; i++)
		assert_int_equal(siommu_stats_create(1, &many[i]), 0);
	use_many(NULL);				/* this thread, which lives on */
	assert_int_equal(pthread_create(&t, NULL, use_many, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);	/* exits: folds */
	for (i = 0; i < MANY; i++)
		assert_int_equal(siommu_stats_read(many[i], 0), 6ull * (i + 1));
	/* destroy half while this thread still holds blocks of them */
	for (i = 0; i < MANY; i += 2) {
		siommu_stats_destroy(many[i]);
		many[i] = NULL;
	}
	use_many(NULL);
	for (i = 1; i < MANY; i += 2)
		assert_int_equal(siommu_stats_read(many[i], 0), 9ull * (i + 1));
	for (i = 1; i < MANY; i += 2) {
		siommu_stats_destroy(many[i]);
		many[i] = NULL;
	}
}

/* Memory is bounded by the objects a thread uses at once. */
static void test_base_tls_table_bounded(void **state)
{
	struct siommu_stats *s;
	unsigned int i;

	for (i = 0; i < 5000; i++) {
		assert_int_equal(siommu_stats_create(1, &s), 0);
		siommu_stats_inc(s, 0);
		assert_int_equal(siommu_stats_read(s, 0), 1);
		siommu_stats_destroy(s);
	}
	assert_non_null(siommu_tls_self);
	assert_int_equal(siommu_tls_self->live, 0);
	assert_true(siommu_tls_self->mask + 1 <= 64);	/* tombstones dropped at growth */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_tls_colliding_stats_take_no_lock),
		cmocka_unit_test(test_base_tls_colliding_iova_take_no_lock),
		cmocka_unit_test(test_base_tls_many_objects_exact),
		cmocka_unit_test(test_base_tls_table_bounded),
	};

	return cmocka_run_group_tests_name("base_tls", tests, NULL, NULL);
}
