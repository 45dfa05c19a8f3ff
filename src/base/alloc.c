// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Allocation wrappers and the fail-the-Nth-allocation hook.
 *
 * The hook is per thread (like iommufd's fail_nth, which is per task): a test
 * arms it in the thread that drives the library, and threads of other tests
 * in the same process are not affected.  No global state.
 */
#include <errno.h>
#include <string.h>

#include "softiommu/base.h"
#include "base/alloc.h"

#if SIOMMU_TESTING_BUILD
static __thread unsigned long fail_nth;	/* 0: off; N: the Nth from arming fails */
static __thread unsigned long alloc_count;	/* attempts since arming */

bool siommu_should_fail(void)
{
	alloc_count++;
	if (fail_nth && alloc_count == fail_nth)
		return true;
	return false;
}

SIOMMU_API int siommu_test_fail_nth(unsigned long n)
{
	fail_nth = n;
	alloc_count = 0;
	return 0;
}

SIOMMU_API long siommu_test_alloc_count(void)
{
	return (long)alloc_count;
}
#else
SIOMMU_API int siommu_test_fail_nth(unsigned long n)
{
	return -EOPNOTSUPP;
}

SIOMMU_API long siommu_test_alloc_count(void)
{
	return -EOPNOTSUPP;
}
#endif

SIOMMU_API bool siommu_testing_build(void)
{
	return SIOMMU_TESTING_BUILD;
}

void *siommu_zalloc_aligned(size_t align, size_t size)
{
	void *p;

	if (siommu_should_fail())
		return NULL;
	if (posix_memalign(&p, align, size ? size : 1))
		return NULL;
	memset(p, 0, size);
	return p;
}

char *siommu_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = siommu_malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}
