// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * membarrier(2) failures in the IOVA allocator are errors of the call that
 * needed the barrier, never an abort (testing builds inject them with
 * iova_test_membarrier_errno).  The cases run in order in one process: the
 * first must see the process's first registration.
 */
#include <errno.h>
#include "test_common.h"
#include <softiommu/base.h>
#include <softiommu/iova.h>
#include "iova/iova_internal.h"

static const struct siommu_iova_config cfg = {
	.start = 0x100000, .last = 0x1fffff, .granule_lg2 = 12,	/* 256 pages */
};

static void inject(int e)
{
#if SIOMMU_TESTING_BUILD
	iova_test_membarrier_errno = e;
#endif
}

/* The create that registers reports a failed registration and creates nothing. */
static void test_iova_membarrier_register_failure_fails_create(void **state)
{
	struct siommu_iova_space *s = NULL;
	struct siommu_ctx *ctx;

	if (!siommu_testing_build())
		skip();
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	inject(EPERM);
	assert_int_equal(siommu_iova_space_create(ctx, &cfg, &s), -EIO);
	assert_null(s);
	inject(ENOMEM);
	assert_int_equal(siommu_iova_space_create(ctx, &cfg, &s), -ENOMEM);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);	/* nothing holds it */
	/* the next create registers */
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_iova_space_create(ctx, &cfg, &s), 0);
	assert_int_equal(siommu_iova_space_destroy(s), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

/* A failed barrier fails the flush, reserve and alloc that needed it; nothing breaks. */
static void test_iova_membarrier_barrier_failure_is_an_error(void **state)
{
	struct siommu_iova_space *s;
	struct siommu_iova_stats st;
	struct siommu_ctx *ctx;
	uint64_t iova[256], cached, x;
	unsigned int i;

	if (!siommu_testing_build())
		skip();
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_iova_space_create(ctx, &cfg, &s), 0);
	assert_int_equal(siommu_iova_alloc(s, 4096, UINT64_MAX, &cached), 0);
	assert_int_equal(siommu_iova_free(s, cached), 0);	/* now in this thread's cache */

	inject(EINVAL);
	assert_int_equal(siommu_iova_flush_caches(s), -EIO);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.cached, 1);			/* nothing flushed */
	assert_int_equal(st.flushes, 0);

	inject(EINVAL);
	assert_int_equal(siommu_iova_reserve(s, cached, cached + 4095), -EIO);
	assert_int_equal(siommu_iova_get_stats(s, &st), 0);
	assert_int_equal(st.reserved, 0);		/* nothing reserved */

	/* fill the space with 2-page ranges: the cached 1-page one is in the way */
	for (i = 0; i < 127; i++)
		assert_int_equal(siommu_iova_alloc(s, 8192, UINT64_MAX, &iova[i]), 0);
	inject(EINVAL);
	assert_int_equal(siommu_iova_alloc(s, 8192, UINT64_MAX, &x), -ENOSPC);

	/* the caches still work, and a flush without a failure does */
	assert_int_equal(siommu_iova_alloc(s, 4096, UINT64_MAX, &x), 0);
	assert_int_equal(x, cached);
	assert_int_equal(siommu_iova_free(s, x), 0);
	assert_int_equal(siommu_iova_flush_caches(s), 0);
	assert_int_equal(siommu_iova_alloc(s, 8192, UINT64_MAX, &iova[127]), 0);
	assert_int_equal(siommu_iova_check(s), 0);
	siommu_iova_free_all(s);
	assert_int_equal(siommu_iova_space_destroy(s), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iova_membarrier_register_failure_fails_create),
		cmocka_unit_test(test_iova_membarrier_barrier_failure_is_an_error),
	};

	return cmocka_run_group_tests_name("iova_membarrier", tests, NULL, NULL);
}
