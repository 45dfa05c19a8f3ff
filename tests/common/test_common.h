/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the test programs. */
#ifndef SOFTIOMMU_TEST_COMMON_H
#define SOFTIOMMU_TEST_COMMON_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

#endif
