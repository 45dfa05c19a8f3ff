/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the test programs. */
#ifndef SOFTIOMMU_TEST_COMMON_H
#define SOFTIOMMU_TEST_COMMON_H

#include <execinfo.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

/*
 * Checks for threads other than the test's own.  cmocka's assert_*() may
 * only fail in the thread running the test (a failure longjmps to it), so
 * helper threads use these: a failed check prints file:line and what was
 * compared, then aborts the program, which fails the test.
 */
__attribute__((noreturn, format(printf, 3, 4)))
static inline void test_thread_failed(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: check failed in a helper thread: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

#define thread_assert_true(c)						\
	do {								\
		if (!(c))						\
			test_thread_failed(__FILE__, __LINE__, "%s", #c);	\
	} while (0)
#define thread_assert_false(c)		thread_assert_true(!(c))
#define thread_assert_non_null(p)	thread_assert_true((p) != NULL)
#define thread_assert_null(p)		thread_assert_true((p) == NULL)
#define thread_assert_ptr_equal(a, b)	thread_assert_true((a) == (b))
#define thread_assert_memory_equal(a, b, n) thread_assert_true(!memcmp((a), (b), (n)))
#define thread_assert_string_equal(a, b) thread_assert_true(!strcmp((a), (b)))
#define thread_assert_int_equal(a, b)					\
	do {								\
		unsigned long long _ta = (unsigned long long)(a);	\
		unsigned long long _tb = (unsigned long long)(b);	\
		if (_ta != _tb)						\
			test_thread_failed(__FILE__, __LINE__,		\
					   "%s == %s: 0x%llx != 0x%llx",	\
					   #a, #b, _ta, _tb);		\
	} while (0)
#define thread_assert_int_not_equal(a, b)				\
	do {								\
		unsigned long long _ta = (unsigned long long)(a);	\
		unsigned long long _tb = (unsigned long long)(b);	\
		if (_ta == _tb)						\
			test_thread_failed(__FILE__, __LINE__,		\
					   "%s != %s: both 0x%llx", #a, #b, _ta); \
	} while (0)
#define thread_fail_msg(...)	test_thread_failed(__FILE__, __LINE__, __VA_ARGS__)

/* Path of a file under tests/data/ of the source tree (SIOMMU_SOURCE_DIR). */
static inline const char *test_data_path(const char *rel, char *buf, size_t len)
{
	const char *dir = getenv("SIOMMU_SOURCE_DIR");

	snprintf(buf, len, "%s/tests/data/%s", dir ? dir : ".", rel);
	return buf;
}

/* Start @n threads running @fn(arg_i) and join them. */
static inline void test_run_threads(unsigned int n, void *(*fn)(void *), void **args)
{
	pthread_t tids[64];
	unsigned int i;

	assert_true(n <= 64);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_create(&tids[i], NULL, fn, args ? args[i] : NULL), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_join(tids[i], NULL), 0);
}

static inline double test_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds a stress test runs: SIOMMU_STRESS_SECONDS, default @def. */
static inline double test_stress_seconds(double def)
{
	const char *s = getenv("SIOMMU_STRESS_SECONDS");

	return s ? atof(s) : def;
}

/*
 * Broken-protocol switches.  A stress test runs its deliberately broken
 * variant when SIOMMU_STRESS_BREAK is set (tests/common/expect-break.sh sets
 * it, and make check expects the break to be caught).  A test whose switch
 * cannot act in this build (the hook exists in -Dtesting=true builds only)
 * must not run the correct protocol and pass: it calls
 * test_break_unsupported(), from main() before the cmocka group starts,
 * which prints BREAK-UNSUPPORTED and why, and exits 77 (a skip).
 */
static inline bool test_break_requested(void)
{
	const char *s = getenv("SIOMMU_STRESS_BREAK");

	return s && *s && strcmp(s, "0") != 0;
}

__attribute__((noreturn))
static inline void test_break_unsupported(const char *why)
{
	fprintf(stderr, "BREAK-UNSUPPORTED: %s\n", why);
	printf("1..0 # SKIP BREAK-UNSUPPORTED: %s\n", why);
	fflush(NULL);
	exit(77);
}

/*
 * Crash reports.  cmocka catches SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGSYS
 * with a handler that longjmps to the test's own thread: a crash in any
 * other thread (a DMA thread, liburcu's call_rcu thread) then ends the
 * program with status 255 and nothing printed.  So every test program
 * keeps its crash signals away from cmocka:
 *  - under ASan and TSan, the sanitizer keeps its handler (handle_segv=2:
 *    user handlers for SIGSEGV/SIGBUS/SIGFPE are refused) and prints its
 *    report with the thread and the stack; environment options still win;
 *  - in other builds this header installs a handler (before main) and
 *    refuses cmocka's (it defines signal(), which cmocka calls): on a crash
 *    signal in any thread it prints "CRASH: signal N (NAME) in thread TID
 *    'NAME' (the main thread or a helper thread), fault address A", a
 *    backtrace (offsets for addr2line -f -e PROGRAM), then dies of the
 *    signal, which fails the test.
 * tests/common/test_crash_report.c checks both (make check runs it).
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TEST_SANITIZER_BUILD 1
#elif defined(__has_feature)
/* clang (the fuzz build) says it this way; libFuzzer then keeps its handlers */
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TEST_SANITIZER_BUILD 1
#else
#define TEST_SANITIZER_BUILD 0
#endif
#else
#define TEST_SANITIZER_BUILD 0
#endif

#if TEST_SANITIZER_BUILD
__attribute__((weak, used, visibility("default"))) const char *__asan_default_options(void);
__attribute__((weak, used, visibility("default"))) const char *__asan_default_options(void)
{
	return "handle_segv=2:handle_sigbus=2:handle_sigfpe=2";
}

__attribute__((weak, used, visibility("default"))) const char *__tsan_default_options(void);
__attribute__((weak, used, visibility("default"))) const char *__tsan_default_options(void)
{
	return "handle_segv=2:handle_sigbus=2:handle_sigfpe=2";
}
#else
static const int test_crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT };
static pid_t test_main_tid;

static inline bool test_is_crash_signal(int sig)
{
	unsigned int i;

	for (i = 0; i < sizeof(test_crash_signals) / sizeof(test_crash_signals[0]); i++)
		if (test_crash_signals[i] == sig)
			return true;
	return false;
}

/* Async-signal-safe output: strings and numbers through write(2). */
static inline void test_crash_puts(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));

	(void)r;
}

static inline void test_crash_putn(unsigned long long v, unsigned int base)
{
	char buf[24], *p = buf + sizeof(buf) - 1;

	*p = 0;
	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (base == 16)
		test_crash_puts("0x");
	test_crash_puts(p);
}

static inline void test_crash_handler(int sig, siginfo_t *si, void *uc)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char name[32] = "?";
	void *frames[64];
	int n;

	pthread_getname_np(pthread_self(), name, sizeof(name));
	test_crash_puts("\nCRASH: signal ");
	test_crash_putn((unsigned int)sig, 10);
	test_crash_puts(" (");
	test_crash_puts(sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	test_crash_puts(") in thread ");
	test_crash_putn((unsigned int)tid, 10);
	test_crash_puts(" '");
	test_crash_puts(name);
	test_crash_puts(tid == test_main_tid ? "' (the main thread)" : "' (a helper thread)");
	if (sig != SIGABRT) {
		test_crash_puts(", fault address ");
		test_crash_putn((unsigned long long)(uintptr_t)si->si_addr, 16);
	}
	test_crash_puts("\nbacktrace (resolve offsets with addr2line -f -e PROGRAM):\n");
	n = backtrace(frames, 64);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	/* Die of the signal itself: the test fails as "killed by signal". */
	sigaction(sig, &dfl, NULL);
	if (sig == SIGABRT || si->si_code <= 0)
		raise(sig);	/* sent, not a fault: send it again */
	/* a fault: returning re-executes the instruction, now fatal */
}

__attribute__((constructor))
static void test_crash_install(void)
{
	struct sigaction sa = { .sa_sigaction = test_crash_handler,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	void *warm[2];
	unsigned int i;

	test_main_tid = (pid_t)syscall(SYS_gettid);
	backtrace(warm, 2);	/* loads libgcc now, not in the handler */
	for (i = 0; i < sizeof(test_crash_signals) / sizeof(test_crash_signals[0]); i++)
		sigaction(test_crash_signals[i], &sa, NULL);
}

/*
 * cmocka installs its handler with signal() around each test: for the
 * signals it catches (all crash signals but SIGABRT) that is refused (the previous disposition is reported as SIG_DFL,
 * which cmocka restores later, also refused); other signals pass through.
 */
__attribute__((weak, visibility("default"))) sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART }, old;

	if (test_is_crash_signal(sig) && sig != SIGABRT)
		return SIG_DFL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, &old))
		return SIG_ERR;
	return old.sa_handler;
}
#endif

#endif
