// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "softiommu/base.h"
#include "base/debug.h"

void siommu_check_failed(const char *cond, const char *file, int line)
{
	fprintf(stderr, "softiommu: check failed: %s at %s:%d\n", cond, file, line);
	abort();
}

void siommu_warn_failed(const char *cond, const char *file, int line)
{
	fprintf(stderr, "softiommu: warning: %s at %s:%d\n", cond, file, line);
#if SIOMMU_TESTING_BUILD
	abort();
#endif
}

#if SIOMMU_TESTING_BUILD
__thread uint64_t siommu_yield_mask;

void siommu_debug_yield_slow(void)
{
	sched_yield();
}

SIOMMU_API int siommu_test_yield(uint64_t mask)
{
	siommu_yield_mask = mask;
	return 0;
}
#else
SIOMMU_API int siommu_test_yield(uint64_t mask)
{
	return -EOPNOTSUPP;
}
#endif
