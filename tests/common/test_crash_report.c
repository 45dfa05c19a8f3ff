// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The crash report of test programs (tests/common/test_common.h): a crash in
 * a thread other than the test's own must say what crashed and where, not
 * end the program with status 255 and nothing printed (what cmocka's
 * handler does when it longjmps into another thread's stack).
 *
 * Normal run: checks that cmocka's handler did not replace the crash
 * handler while a test runs (in plain builds ours, in sanitizer builds the
 * sanitizer's).  With SIOMMU_STRESS_BREAK=1 a helper thread named
 * "crash-helper" writes through a bad pointer; make check runs that with
 * tests/common/expect-break.sh and requires the report: "CRASH: signal 11
 * (SEGV) in thread N 'crash-helper' (a helper thread)" and a backtrace in
 * plain builds, the sanitizer's SEGV report naming the thread otherwise.
 */
#include "test_common.h"

static void *volatile bad_pointer = (void *)16;

static __attribute__((noinline)) void crash_in_helper_thread(void)
{
	*(volatile int *)bad_pointer = 1;
}

static void *helper(void *arg)
{
	pthread_setname_np(pthread_self(), "crash-helper");
	crash_in_helper_thread();
	return NULL;
}

static void test_crash_in_helper_thread(void **state)
{
	pthread_t tid;

	assert_int_equal(pthread_create(&tid, NULL, helper, NULL), 0);
	pthread_join(tid, NULL);
	fail_msg("the helper thread's crash did not end the program");
}

/* While a cmocka test runs, SIGSEGV is not cmocka's handler. */
static void test_crash_handler_survives_cmocka(void **state)
{
	struct sigaction sa;

	assert_int_equal(sigaction(SIGSEGV, NULL, &sa), 0);
	assert_true(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
#if !TEST_SANITIZER_BUILD
	assert_true(sa.sa_flags & SA_SIGINFO);
	assert_ptr_equal(sa.sa_sigaction, test_crash_handler);
#else
	/* the sanitizer's handler: user handlers are refused (handle_segv=2) */
	assert_true(signal(SIGSEGV, SIG_IGN) != SIG_ERR);
	assert_int_equal(sigaction(SIGSEGV, NULL, &sa), 0);
	assert_true(sa.sa_handler != SIG_IGN);
#endif
}

int main(void)
{
	const struct CMUnitTest normal[] = {
		cmocka_unit_test(test_crash_handler_survives_cmocka),
	};
	const struct CMUnitTest broken[] = {
		cmocka_unit_test(test_crash_in_helper_thread),
	};

	if (test_break_requested())
		return cmocka_run_group_tests_name("crash_report_broken", broken, NULL, NULL);
	return cmocka_run_group_tests_name("crash_report", normal, NULL, NULL);
}
