// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The built-in test hooks: fail-the-Nth-allocation, lock-order checking,
 * debug yield points.  They exist only in testing builds (-Dtesting=true);
 * elsewhere the tests check that the hooks say so and are skipped.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test_common.h"
#include <softiommu/base.h>
#include "base/debug.h"
#include "base/lock.h"

static void test_base_hooks_off_in_release_builds(void **state)
{
	if (siommu_testing_build()) {
		assert_int_equal(siommu_test_fail_nth(0), 0);
		assert_int_equal(siommu_test_yield(0), 0);
	} else {
		assert_int_equal(siommu_test_fail_nth(1), -EOPNOTSUPP);
		assert_int_equal(siommu_test_alloc_count(), -EOPNOTSUPP);
		assert_int_equal(siommu_test_yield(1), -EOPNOTSUPP);
	}
}

/*
 * The fail-nth sweep: make allocation 1, 2, ... of a sequence fail until the
 * sequence succeeds.  Each failure must be a clean -ENOMEM that leaves
 * nothing behind (LeakSanitizer checks the latter in the ASan build).
 */
static int sequence(void)
{
	struct siommu_ctx *ctx;
	int ret;

	ret = siommu_ctx_create(&ctx);
	if (ret)
		return ret;
	ret = siommu_ctx_set_log(ctx, SIOMMU_LOG_DEBUG, NULL, NULL);
	if (!ret)
		ret = siommu_ctx_set_trace(ctx, (siommu_trace_fn *)1 /* never called */, NULL);
	if (!ret)
		ret = siommu_ctx_set_trace(ctx, NULL, NULL);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	return ret;
}

static void test_base_hooks_fail_nth_sweep(void **state)
{
	unsigned long n;
	int ret = -ENOMEM;

	if (!siommu_testing_build())
		skip();
	for (n = 1; n < 100; n++) {
		assert_int_equal(siommu_test_fail_nth(n), 0);
		ret = sequence();
		if (ret == 0)
			break;
		assert_int_equal(ret, -ENOMEM);
	}
	siommu_test_fail_nth(0);
	assert_int_equal(ret, 0);
	assert_true(n > 3);	/* the sequence allocates 3 times before succeeding */
}

static struct siommu_mutex outer, inner;

static void test_base_hooks_lock_order_in_order(void **state)
{
	siommu_mutex_init(&outer, "test.outer", SIOMMU_RANK_TEST_OUTER);
	siommu_mutex_init(&inner, "test.inner", SIOMMU_RANK_TEST_INNER);
	siommu_mutex_lock(&outer);
	siommu_mutex_lock(&inner);
	siommu_assert_held(&inner);
	siommu_mutex_unlock(&inner);
	siommu_mutex_unlock(&outer);
}

/* Taking them the wrong way round aborts, naming both locks. */
static void test_base_hooks_lock_order_violation_aborts(void **state)
{
	int pipefd[2], status;
	char buf[512] = "";
	ssize_t n;
	pid_t pid;

	if (!siommu_testing_build())
		skip();
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		signal(SIGABRT, SIG_DFL);
		siommu_mutex_lock(&inner);
		siommu_mutex_lock(&outer);	/* out of order */
		_exit(0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], buf, sizeof(buf) - 1);
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_non_null(strstr(buf, "'test.outer'"));
	assert_non_null(strstr(buf, "'test.inner'"));
}

static void test_base_hooks_yield_points(void **state)
{
	if (!siommu_testing_build())
		skip();
	assert_int_equal(siommu_test_yield(1ull << SIOMMU_YIELD_RCU_READ), 0);
	siommu_debug_yield(SIOMMU_YIELD_RCU_READ);	/* yields; must simply return */
	siommu_debug_yield(SIOMMU_YIELD_PUBLISH);	/* not enabled */
	assert_int_equal(siommu_test_yield(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_hooks_off_in_release_builds),
		cmocka_unit_test(test_base_hooks_fail_nth_sweep),
		cmocka_unit_test(test_base_hooks_lock_order_in_order),
		cmocka_unit_test(test_base_hooks_lock_order_violation_aborts),
		cmocka_unit_test(test_base_hooks_yield_points),
	};

	return cmocka_run_group_tests_name("base_hooks", tests, NULL, NULL);
}
