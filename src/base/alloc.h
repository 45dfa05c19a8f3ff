/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every allocation the library makes goes through these functions, so that a
 * testing build can make the Nth one fail (siommu_test_fail_nth()).  With
 * testing off, siommu_should_fail() is a constant false and costs nothing.
 * Internal header.
 */
#ifndef SIOMMU_BASE_ALLOC_H
#define SIOMMU_BASE_ALLOC_H

#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include "siommu_config.h"

#if SIOMMU_TESTING_BUILD
bool siommu_should_fail(void);
#else
static inline bool siommu_should_fail(void)
{
	return false;
}
#endif

/* Returns NULL on failure (including injected failure). */
static inline void *siommu_malloc(size_t size)
{
	if (siommu_should_fail())
		return NULL;
	return malloc(size ? size : 1);
}

static inline void *siommu_zalloc(size_t size)
{
	if (siommu_should_fail())
		return NULL;
	return calloc(1, size ? size : 1);
}

/* n * size, refusing overflow. */
static inline void *siommu_calloc(size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	return siommu_zalloc(total);
}

/* Memory aligned to @align (a power of two, at least sizeof(void *)), zeroed. */
void *siommu_zalloc_aligned(size_t align, size_t size);

static inline void siommu_free(void *p)
{
	free(p);
}

char *siommu_strdup(const char *s);

#endif
