/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks and debug yield points.  Internal header.
 *
 * SIOMMU_CHECK(cond): in a testing build, a violated invariant prints the
 * condition and its place and aborts; otherwise it compiles to nothing (the
 * condition is not evaluated).
 *
 * SIOMMU_WARN_ON(cond): always evaluated, and its value is the value of the
 * expression; a true condition is printed to stderr the first time a call
 * site sees it (later hits of that site are silent), and aborts in a
 * testing build.  For "impossible"
 * failures on paths that cannot return an error, such as destroy functions.
 *
 * siommu_debug_yield(point): in a testing build, if the calling thread enabled
 * @point with siommu_test_yield(), yield the CPU there.  Stress tests use it
 * to widen race windows.  Otherwise it compiles to nothing.
 */
#ifndef SIOMMU_BASE_DEBUG_H
#define SIOMMU_BASE_DEBUG_H

#include <stdbool.h>
#include <stdint.h>
#include "siommu_config.h"

/* Yield points: one bit each.  Modules add theirs here. */
enum siommu_yield_point {
	SIOMMU_YIELD_RCU_READ = 0,	/* inside a read-side section (tests) */
	SIOMMU_YIELD_PUBLISH,		/* between preparing and publishing an object */
	SIOMMU_YIELD_RECLAIM,		/* between unpublishing and the grace period */
	SIOMMU_YIELD_IOTLB_LOOKUP,	/* iotlb: between matching an entry's tag and reading its data */
	SIOMMU_YIELD_IOTLB_INSERT,	/* iotlb: before insert takes the set lock */
	SIOMMU_YIELD_IOTLB_INV,		/* iotlb: between the generation bump and the scan */
	SIOMMU_YIELD_IOVA_CACHE,	/* iova: between a cache's flush check and its magazine access */
	SIOMMU_YIELD_MEM_ACCESS,	/* mem: between an access's revoked check and its copy or callback */
	SIOMMU_YIELD_PT_WALK,		/* pgtable: between the levels of a walk */
	SIOMMU_YIELD_CORE_XLATE,	/* core: between loading the attachment and using the domain */
	SIOMMU_YIELD_CORE_DMA,		/* core: between a DMA's translation and its copy */
	SIOMMU_YIELD_IOAS_HOLD,		/* ioas: between raising an area's busy count and checking its block */
	SIOMMU_YIELD_MM_MIRROR,		/* mm: between a mirror's lockless lookup and its lock */
	SIOMMU_YIELD_NR_POINTS
};

void siommu_check_failed(const char *cond, const char *file, int line)
	__attribute__((noreturn));
void siommu_warn_failed(const char *cond, const char *file, int line);

#if SIOMMU_TESTING_BUILD
#define SIOMMU_CHECK(cond)						\
	do {								\
		if (__builtin_expect(!(cond), 0))			\
			siommu_check_failed(#cond, __FILE__, __LINE__);	\
	} while (0)

extern __thread uint64_t siommu_yield_mask;
void siommu_debug_yield_slow(void);
static inline void siommu_debug_yield(enum siommu_yield_point point)
{
	if (__builtin_expect(siommu_yield_mask & (1ull << point), 0))
		siommu_debug_yield_slow();
}
#else
#define SIOMMU_CHECK(cond)	do { (void)sizeof(!(cond)); } while (0)
static inline void siommu_debug_yield(enum siommu_yield_point point)
{
	(void)point;
}
#endif

#define SIOMMU_WARN_ON(cond)						\
	({								\
		static bool __warned;	/* per call site */		\
		bool __w = !!(cond);					\
		if (__builtin_expect(__w, 0) &&				\
		    !__atomic_exchange_n(&__warned, true, __ATOMIC_RELAXED)) \
			siommu_warn_failed(#cond, __FILE__, __LINE__);	\
		__w;							\
	})

#endif
