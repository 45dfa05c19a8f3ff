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

/* Path of a file under the shared/ folder beside the checkout. */
static inline const char *test_shared_path(const char *rel, char *buf, size_t len)
{
	const char *dir = getenv("SIOMMU_SHARED_DIR");

	snprintf(buf, len, "%s/%s", dir ? dir : "../shared", rel);
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
