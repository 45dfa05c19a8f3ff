// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stress: readers dereference a published object inside read-side sections
 * while writers replace it, wait for a grace period, poison the old one and
 * free it.  A reader that ever sees poison, or (under ASan) touches freed
 * memory, fails the test.  Under TSan it also checks that the RCU glue
 * gives TSan the happens-before edges RCU guarantees (no false reports).
 *
 * SIOMMU_STRESS_BREAK=1 skips the grace period, to show the test catches a
 * broken reclaim (expected: failure, in every build: make check runs it).
 */
#include <errno.h>
#include <unistd.h>
#include "test_common.h"
#include <softiommu/base.h>
#include "base/debug.h"
#include "base/rcu.h"

#define POISON 0xdeadbeefdeadbeefull
#define NWORDS 8

struct obj {
	uint64_t gen;
	uint64_t words[NWORDS];		/* words[i] == gen * 31 + i */
	struct siommu_rcu_head rcu;
};

static struct obj *current_obj;
static int stop;
static bool broken;
static uint64_t bad_reads, reads, frees;

static void poison_free(struct obj *o)
{
	unsigned int i;

	for (i = 0; i < NWORDS; i++)
		__atomic_store_n(&o->words[i], POISON, __ATOMIC_RELAXED);
	__atomic_store_n(&o->gen, POISON, __ATOMIC_RELAXED);
	free(o);
	__atomic_fetch_add(&frees, 1, __ATOMIC_RELAXED);
}

static void free_rcu(struct siommu_rcu_head *h)
{
	poison_free(siommu_container_of(h, struct obj, rcu));
}

static struct obj *new_obj(uint64_t gen)
{
	struct obj *o = malloc(sizeof(*o));
	unsigned int i;

	assert_non_null(o);
	o->gen = gen;
	for (i = 0; i < NWORDS; i++)
		o->words[i] = gen * 31 + i;
	return o;
}

static void *reader(void *arg)
{
	uint64_t n = 0, bad = 0;

	siommu_test_yield(1ull << SIOMMU_YIELD_RCU_READ);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		struct obj *o;
		uint64_t g;
		unsigned int i;

		siommu_read_lock();
		o = __atomic_load_n(&current_obj, __ATOMIC_ACQUIRE);
		g = __atomic_load_n(&o->gen, __ATOMIC_RELAXED);
		if ((n & 63) == 0)
			siommu_debug_yield(SIOMMU_YIELD_RCU_READ);	/* widen the window */
		for (i = 0; i < NWORDS; i++)
			if (__atomic_load_n(&o->words[i], __ATOMIC_RELAXED) != g * 31 + i)
				bad++;
		siommu_read_unlock();
		n++;
	}
	__atomic_fetch_add(&reads, n, __ATOMIC_RELAXED);
	__atomic_fetch_add(&bad_reads, bad, __ATOMIC_RELAXED);
	return NULL;
}

static void *writer(void *arg)
{
	uint64_t gen = (uint64_t)(uintptr_t)arg * 1000000000ull;
	unsigned int k = 0;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		struct obj *o = new_obj(++gen), *old;

		old = __atomic_exchange_n(&current_obj, o, __ATOMIC_ACQ_REL);
		if (broken) {
			poison_free(old);		/* no grace period: wrong */
		} else if (k++ & 1) {
			siommu_rcu_synchronize();	/* synchronous reclaim */
			poison_free(old);
		} else {
			siommu_call_rcu(&old->rcu, free_rcu);	/* deferred reclaim */
		}
	}
	return NULL;
}

static void test_stress_base_rcu_reclaim(void **state)
{
	double secs = test_stress_seconds(3.0);
	pthread_t r[3], w[2];
	unsigned int i;

	broken = test_break_requested();
	current_obj = new_obj(1);
	for (i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, NULL), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)(i + 1)), 0);
	usleep((useconds_t)(secs * 1e6));
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 3; i++)
		pthread_join(r[i], NULL);
	for (i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	siommu_rcu_barrier();
	free(current_obj);
	print_message("# %llu reads, %llu frees, %llu bad reads\n",
		      (unsigned long long)reads, (unsigned long long)frees,
		      (unsigned long long)bad_reads);
	if (bad_reads)
		print_message("VIOLATION: %llu bad reads: a reader saw a freed object\n",
			      (unsigned long long)bad_reads);
	assert_true(reads > 0 && frees > 0);
	assert_int_equal(bad_reads, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_base_rcu_reclaim),
	};

	return cmocka_run_group_tests_name("stress_base_rcu_reclaim", tests, NULL, NULL);
}
