// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stress: per-thread per-object state (base/tls.c) while threads come and
 * go and objects are created and destroyed.
 *
 * Short-lived worker threads (two spawners start and join them, so that
 * workers overlap and exit while others run) add to stats sets and do IOVA
 * alloc+free pairs on spaces picked at random from a few slots; each worker
 * keeps exact expected totals per slot.  A destroyer thread, slot after
 * slot, stops that slot's workers (a write lock), checks that the set's sum
 * and the space's allocation count are exactly what the workers did (those
 * that exited left their counts to the object; those alive still hold
 * them), destroys both and creates new ones.  Objects are destroyed while
 * threads that used them live and threads exit while objects they used are
 * destroyed: ASan sees any use after free, TSan any unordered access, and
 * every sum must be exact.
 *
 * SIOMMU_STRESS_BREAK=1 (testing builds) makes exiting threads drop their
 * blocks without folding them into the objects: the sums must come out
 * short ("mismatch").
 */
#include <errno.h>
#include <sched.h>
#include <unistd.h>
#include "test_common.h"
#include <softiommu/base.h>
#include <softiommu/iova.h>
#include "base/stats.h"
#include "base/tls.h"

#define NSLOTS		4
#define WORKER_OPS	3000

struct slot {
	pthread_rwlock_t lock;		/* read: workers; write: the destroyer */
	struct siommu_stats *set;	/* [lock] */
	struct siommu_iova_space *space;	/* [lock] */
	uint64_t expect_sum;		/* atomic */
	uint64_t expect_allocs;		/* atomic */
};

static struct slot slots[NSLOTS];
static struct siommu_ctx *ctx;
static int stop;
static uint64_t workers, rounds, mismatches, errors;

static const struct siommu_iova_config cfg = {
	.start = 0x100000, .last = 0xffffffff, .granule_lg2 = 12,
};

static void slot_create(struct slot *sl)
{
	thread_assert_int_equal(siommu_stats_create(2, &sl->set), 0);
	thread_assert_int_equal(siommu_iova_space_create(ctx, &cfg, &sl->space), 0);
	sl->expect_sum = 0;
	sl->expect_allocs = 0;
}

static void slot_check_destroy(struct slot *sl)
{
	struct siommu_iova_stats st;
	uint64_t sum = siommu_stats_read(sl->set, 0);

	thread_assert_int_equal(siommu_iova_get_stats(sl->space, &st), 0);
	if (sum != sl->expect_sum || st.allocs != sl->expect_allocs ||
	    st.allocated != 0 || siommu_stats_read(sl->set, 1) != 0) {
		fprintf(stderr, "mismatch: sum %llu expected %llu, allocs %llu expected %llu, %llu allocated\n",
			(unsigned long long)sum, (unsigned long long)sl->expect_sum,
			(unsigned long long)st.allocs,
			(unsigned long long)sl->expect_allocs,
			(unsigned long long)st.allocated);
		__atomic_fetch_add(&mismatches, 1, __ATOMIC_RELAXED);
	}
	siommu_stats_destroy(sl->set);
	thread_assert_int_equal(siommu_iova_space_destroy(sl->space), 0);
}

static void *worker(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg, k;
	uint64_t iova, err = 0;

	for (k = 0; k < WORKER_OPS; k++) {
		struct slot *sl = &slots[rand_r(&seed) % NSLOTS];
		uint64_t delta = 1 + k % 3;

		pthread_rwlock_rdlock(&sl->lock);
		siommu_stats_add(sl->set, 0, delta);
		__atomic_fetch_add(&sl->expect_sum, delta, __ATOMIC_RELAXED);
		if (siommu_iova_alloc(sl->space, 4096ull << (k % 3), UINT64_MAX, &iova) == 0) {
			__atomic_fetch_add(&sl->expect_allocs, 1, __ATOMIC_RELAXED);
			if (siommu_iova_free(sl->space, iova))
				err++;
		} else {
			err++;
		}
		pthread_rwlock_unlock(&sl->lock);
	}
	__atomic_fetch_add(&errors, err, __ATOMIC_RELAXED);
	return NULL;
}

static void *spawner(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 7919;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		pthread_t t[2];
		unsigned int i;

		for (i = 0; i < 2; i++)
			thread_assert_int_equal(pthread_create(&t[i], NULL, worker,
					(void *)(uintptr_t)rand_r(&seed)), 0);
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		__atomic_fetch_add(&workers, 2, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *destroyer(void *arg)
{
	unsigned int i = 0;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		struct slot *sl = &slots[i++ % NSLOTS];

		pthread_rwlock_wrlock(&sl->lock);
		slot_check_destroy(sl);
		slot_create(sl);
		pthread_rwlock_unlock(&sl->lock);
		__atomic_fetch_add(&rounds, 1, __ATOMIC_RELAXED);
		usleep(200);
	}
	return NULL;
}

static void test_stress_base_tls(void **state)
{
	double secs = test_stress_seconds(3.0);
	pthread_t sp[2], d;
	unsigned int i;

	if (getenv("SIOMMU_STRESS_BREAK")) {
		if (!siommu_testing_build()) {
			printf("BREAK-UNSUPPORTED\n");
			exit(77);
		}
#if SIOMMU_TESTING_BUILD
		siommu_tls_test_break_exit = true;
#endif
	}
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	for (i = 0; i < NSLOTS; i++) {
		pthread_rwlock_init(&slots[i].lock, NULL);
		slot_create(&slots[i]);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&sp[i], NULL, spawner,
						 (void *)(uintptr_t)(i + 1)), 0);
	assert_int_equal(pthread_create(&d, NULL, destroyer, NULL), 0);
	usleep((useconds_t)(secs * 1e6));
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		pthread_join(sp[i], NULL);
	pthread_join(d, NULL);
	for (i = 0; i < NSLOTS; i++) {
		slot_check_destroy(&slots[i]);
		pthread_rwlock_destroy(&slots[i].lock);
	}
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	print_message("# %llu workers, %llu object rounds, %llu mismatches, %llu errors\n",
		      (unsigned long long)workers, (unsigned long long)rounds,
		      (unsigned long long)mismatches, (unsigned long long)errors);
	assert_true(workers > 0 && rounds > 0);
	assert_int_equal(errors, 0);
	assert_int_equal(mismatches, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_base_tls),
	};

	return cmocka_run_group_tests_name("stress_base_tls", tests, NULL, NULL);
}
