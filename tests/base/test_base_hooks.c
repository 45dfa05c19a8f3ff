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
#include "base/rcu.h"

static const char *self_exe = "/proc/self/exe";

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

/*
 * In order is allowed, and lockdep tracks what is held.  Only testing
 * builds have the checks: elsewhere this would test nothing, so it skips.
 */
static void test_base_hooks_lock_order_in_order(void **state)
{
	siommu_mutex_init(&outer, "test.outer", SIOMMU_RANK_TEST_OUTER);
	siommu_mutex_init(&inner, "test.inner", SIOMMU_RANK_TEST_INNER);
	if (!siommu_testing_build())
		skip();
#if SIOMMU_TESTING_BUILD
	siommu_mutex_lock(&outer);
	assert_true(siommu_lockdep_held(&outer));
	assert_false(siommu_lockdep_held(&inner));
	siommu_mutex_lock(&inner);
	assert_true(siommu_lockdep_held(&inner));
	siommu_mutex_unlock(&inner);
	assert_false(siommu_lockdep_held(&inner));
	siommu_mutex_unlock(&outer);
	assert_false(siommu_lockdep_held(&outer));
#endif
}

/*
 * Run this program again as a child doing @what (see child_main()), with
 * its stderr in @buf.  Returns the wait status.  A fresh process, not a
 * fork: liburcu's threads may hold its locks at the moment of a fork.
 */
static int run_child(const char *what, char *buf, size_t len)
{
	int pipefd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		execl(self_exe, self_exe, "--child", what, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (got + 1 < len && (n = read(pipefd[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static struct siommu_mutex gp_a, gp_b, gp_c;

static void gp_locks_init(void)
{
	siommu_mutex_init(&gp_a, "test.gp_a", SIOMMU_RANK_TEST_GP_A);
	siommu_mutex_init(&gp_b, "test.gp_b", SIOMMU_RANK_TEST_GP_B);
	siommu_mutex_init(&gp_c, "test.gp_c", SIOMMU_RANK_TEST_GP_C);
}

/* The children: each returns its exit status (if it does not abort). */
static int child_main(const char *what)
{
	gp_locks_init();
	if (!strcmp(what, "reader-then-sync")) {
		siommu_read_lock();
		siommu_mutex_lock(&gp_a);	/* a reader takes test.gp_a */
		siommu_mutex_unlock(&gp_a);
		siommu_read_unlock();
		siommu_mutex_lock(&gp_a);
		siommu_synchronize();		/* must abort */
		siommu_mutex_unlock(&gp_a);
		return 0;
	}
	if (!strcmp(what, "reader-then-barrier")) {
		siommu_read_lock();
		siommu_mutex_lock(&gp_a);
		siommu_mutex_unlock(&gp_a);
		siommu_read_unlock();
		siommu_mutex_lock(&gp_a);
		siommu_rcu_barrier();		/* must abort */
		siommu_mutex_unlock(&gp_a);
		return 0;
	}
	if (!strcmp(what, "sync-then-reader")) {
		siommu_mutex_lock(&gp_b);
		siommu_synchronize();		/* no reader took it yet: allowed */
		siommu_mutex_unlock(&gp_b);
		siommu_read_lock();
		siommu_mutex_lock(&gp_b);	/* must abort */
		siommu_mutex_unlock(&gp_b);
		siommu_read_unlock();
		return 0;
	}
	if (!strcmp(what, "sync-not-reader")) {
		/* a lock no reader takes may be held across grace periods */
		siommu_mutex_lock(&gp_c);
		if (siommu_synchronize())
			return 2;
		siommu_rcu_barrier();
		siommu_mutex_unlock(&gp_c);
		siommu_read_lock();
		siommu_mutex_lock(&gp_a);	/* another class inside a section */
		siommu_mutex_unlock(&gp_a);
		siommu_read_unlock();
		siommu_mutex_lock(&gp_c);
		if (siommu_synchronize())
			return 3;
		siommu_mutex_unlock(&gp_c);
		return 0;
	}
	if (!strcmp(what, "warn-twice")) {
		unsigned int i, warned = 0;

		for (i = 0; i < 3; i++)
			warned += SIOMMU_WARN_ON(i < 5);	/* one call site, three hits */
		return warned == 3 ? 0 : 4;
	}
	return 100;
}

/* Both orders of the grace-period rule abort and print both stacks. */
static void expect_gp_abort(const char *what, const char *now, const char *then)
{
	char buf[16384];
	int status;

	if (!siommu_testing_build())
		skip();
	status = run_child(what, buf, sizeof(buf));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("%s: status 0x%x, stderr:\n%s", what, status, buf);
	assert_non_null(strstr(buf, "grace-period rule violation: lock 'test.gp_"));
	assert_non_null(strstr(buf, now));
	assert_non_null(strstr(buf, then));
	/* two stacks: frames ("binary(+0x...) [0x...]") follow each heading */
	assert_non_null(strstr(strstr(buf, now), "[0x"));
	assert_non_null(strstr(strstr(buf, then), "[0x"));
	assert_true(strstr(buf, now) < strstr(buf, then));
}

static void test_base_hooks_gp_under_reader_lock_aborts(void **state)
{
	expect_gp_abort("reader-then-sync", "now held while waiting for a grace period",
			"first taken inside a read-side section");
}

static void test_base_hooks_barrier_under_reader_lock_aborts(void **state)
{
	expect_gp_abort("reader-then-barrier", "now held while waiting for a grace period",
			"first taken inside a read-side section");
}

static void test_base_hooks_reader_takes_gp_lock_aborts(void **state)
{
	expect_gp_abort("sync-then-reader", "now taken inside a read-side section",
			"earlier held while waiting for a grace period");
}

static void test_base_hooks_gp_under_other_lock_allowed(void **state)
{
	char buf[16384];
	int status;

	status = run_child("sync-not-reader", buf, sizeof(buf));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("status 0x%x, stderr:\n%s", status, buf);
	assert_null(strstr(buf, "violation"));
}

/*
 * SIOMMU_WARN_ON() prints once per call site; in a testing build the first
 * hit aborts.
 */
static void test_base_hooks_warn_on_prints_once(void **state)
{
	char buf[4096], *p;
	unsigned int lines = 0;
	int status;

	status = run_child("warn-twice", buf, sizeof(buf));
	for (p = buf; (p = strstr(p, "softiommu: warning: i < 5")); p++)
		lines++;
	assert_int_equal(lines, 1);
	if (siommu_testing_build()) {
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGABRT);
	} else {
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
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

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_hooks_off_in_release_builds),
		cmocka_unit_test(test_base_hooks_fail_nth_sweep),
		cmocka_unit_test(test_base_hooks_lock_order_in_order),
		cmocka_unit_test(test_base_hooks_lock_order_violation_aborts),
		cmocka_unit_test(test_base_hooks_yield_points),
		cmocka_unit_test(test_base_hooks_gp_under_reader_lock_aborts),
		cmocka_unit_test(test_base_hooks_barrier_under_reader_lock_aborts),
		cmocka_unit_test(test_base_hooks_reader_takes_gp_lock_aborts),
		cmocka_unit_test(test_base_hooks_gp_under_other_lock_allowed),
		cmocka_unit_test(test_base_hooks_warn_on_prints_once),
	};

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child_main(argv[2]);

	return cmocka_run_group_tests_name("base_hooks", tests, NULL, NULL);
}
