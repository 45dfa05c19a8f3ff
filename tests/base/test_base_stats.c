// SPDX-License-Identifier: LGPL-2.1-or-later
/* Per-thread statistics counters, summed on read. */
#include <errno.h>
#include "test_common.h"
#include <softiommu/base.h>
#include "base/stats.h"

#define PER_THREAD 100000

struct arg {
	struct siommu_stats *s;
	unsigned int id;
	pthread_barrier_t *exit_gate;	/* hold threads alive until released */
};

static void *adder(void *p)
{
	struct arg *a = p;
	unsigned int i;

	for (i = 0; i < PER_THREAD; i++) {
		siommu_stats_inc(a->s, 0);
		siommu_stats_add(a->s, 1, a->id + 1);
	}
	if (a->exit_gate) {
		pthread_barrier_wait(a->exit_gate);	/* done adding */
		pthread_barrier_wait(a->exit_gate);	/* may exit */
	}
	return NULL;
}

static void test_base_stats_sum_across_threads(void **state)
{
	struct siommu_stats *s;
	struct arg args[4];
	void *ptrs[4];
	uint64_t all[2];
	unsigned int i;

	assert_int_equal(siommu_stats_create(2, &s), 0);
	for (i = 0; i < 4; i++) {
		args[i] = (struct arg){ .s = s, .id = i };
		ptrs[i] = &args[i];
	}
	test_run_threads(4, adder, ptrs);	/* threads have exited: retired sums */
	assert_int_equal(siommu_stats_read(s, 0), 4 * PER_THREAD);
	/* counter 1: sum over threads of (id + 1) * PER_THREAD */
	assert_int_equal(siommu_stats_read(s, 1), (1 + 2 + 3 + 4) * PER_THREAD);
	siommu_stats_read_all(s, all);
	assert_int_equal(all[0], 4 * PER_THREAD);
	siommu_stats_destroy(s);
}

static struct arg live_args[3];
static pthread_barrier_t gate;

static void test_base_stats_live_threads_and_destroy(void **state)
{
	struct siommu_stats *s;
	pthread_t tids[3];
	unsigned int i;

	assert_int_equal(siommu_stats_create(2, &s), 0);
	pthread_barrier_init(&gate, NULL, 4);
	for (i = 0; i < 3; i++) {
		live_args[i] = (struct arg){ .s = s, .id = 0, .exit_gate = &gate };
		assert_int_equal(pthread_create(&tids[i], NULL, adder, &live_args[i]), 0);
	}
	pthread_barrier_wait(&gate);	/* all three have added and still live */
	assert_int_equal(siommu_stats_read(s, 1), 3 * PER_THREAD);
	/* destroy the set while its adders still live: their blocks go with it */
	siommu_stats_destroy(s);
	pthread_barrier_wait(&gate);
	for (i = 0; i < 3; i++)
		pthread_join(tids[i], NULL);
	pthread_barrier_destroy(&gate);
}

static void test_base_stats_many_sets_one_thread(void **state)
{
	struct siommu_stats *sets[40];
	unsigned int i, round;

	/* more sets than the thread-local cache has slots: slow path must be right */
	for (i = 0; i < 40; i++)
		assert_int_equal(siommu_stats_create(1, &sets[i]), 0);
	for (round = 0; round < 3; round++)
		for (i = 0; i < 40; i++)
			siommu_stats_add(sets[i], 0, i);
	for (i = 0; i < 40; i++) {
		assert_int_equal(siommu_stats_read(sets[i], 0), 3 * i);
		siommu_stats_destroy(sets[i]);
	}
}

static void test_base_stats_bad_args(void **state)
{
	struct siommu_stats *s = (void *)1;

	assert_int_equal(siommu_stats_create(0, &s), -EINVAL);
	assert_int_equal(siommu_stats_create(5000, &s), -EINVAL);
	assert_int_equal(siommu_stats_create(1, NULL), -EINVAL);
	assert_ptr_equal(s, (void *)1);
	siommu_stats_destroy(NULL);
}

static void test_base_stats_alloc_failure_loses_nothing(void **state)
{
	struct siommu_stats *s;

	if (!siommu_testing_build())
		skip();
	assert_int_equal(siommu_stats_create(1, &s), 0);
	/* the first add allocates this thread's block: make it fail */
	assert_int_equal(siommu_test_fail_nth(1), 0);
	siommu_stats_add(s, 0, 5);
	assert_int_equal(siommu_test_fail_nth(0), 0);
	siommu_stats_add(s, 0, 7);
	assert_int_equal(siommu_stats_read(s, 0), 12);
	siommu_stats_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_stats_sum_across_threads),
		cmocka_unit_test(test_base_stats_live_threads_and_destroy),
		cmocka_unit_test(test_base_stats_many_sets_one_thread),
		cmocka_unit_test(test_base_stats_bad_args),
		cmocka_unit_test(test_base_stats_alloc_failure_loses_nothing),
	};

	return cmocka_run_group_tests_name("base_stats", tests, NULL, NULL);
}
