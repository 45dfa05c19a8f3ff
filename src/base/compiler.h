/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small compiler helpers shared by every module.  Internal header.
 *
 * Atomics vocabulary: the library's own code uses the GCC __atomic builtins
 * (the C11 memory model) and never liburcu's uatomic_*: ThreadSanitizer
 * understands the former and not the inline assembly of the latter.
 */
#ifndef SIOMMU_BASE_COMPILER_H
#define SIOMMU_BASE_COMPILER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define siommu_likely(x)	__builtin_expect(!!(x), 1)
#define siommu_unlikely(x)	__builtin_expect(!!(x), 0)

#define siommu_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define SIOMMU_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define SIOMMU_CACHELINE	64
#define siommu_cacheline_aligned __attribute__((aligned(SIOMMU_CACHELINE)))

/* a + b into *res; true if it overflowed (then *res is unspecified). */
#define siommu_add_overflow(a, b, res)	__builtin_add_overflow(a, b, res)
#define siommu_mul_overflow(a, b, res)	__builtin_mul_overflow(a, b, res)

/* Loads and stores shared with other threads. */
#define siommu_load_relaxed(p)		__atomic_load_n(p, __ATOMIC_RELAXED)
#define siommu_load_acquire(p)		__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define siommu_store_relaxed(p, v)	__atomic_store_n(p, v, __ATOMIC_RELAXED)
#define siommu_store_release(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)

#endif
