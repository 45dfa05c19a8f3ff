/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The baselines of bench group "hotpath", compiled the way an ordinary
 * program is (bench/meson.build: not -fPIC; the compiler's default PIE), so
 * that their thread-local accesses are what a driver's own code gets.
 *
 *  - urcu-memb's inline read-side section on a registered thread.
 *  - The libvfio-user design of vfu_addr_to_sgl(): a per-thread hint (the
 *    region the thread's last lookup found) in front of a sorted array of
 *    regions searched by bisection.  Written here from the design, no code
 *    copied; like vfu_addr_to_sgl() it is a function call, and a hit checks
 *    that the whole access lies in the region.
 *  - A raw 4-level radix walk of the same shape as the IOMMU's x86-64 table
 *    (512 entries a level, 4 KiB leaves), four dependent loads.
 */
#ifndef SOFTIOMMU_BENCH_BASELINE_H
#define SOFTIOMMU_BENCH_BASELINE_H

#include <stddef.h>
#include <stdint.h>

/* @n urcu-memb read-side sections (lock + unlock); registers the thread. */
void baseline_rcu_sections(uint64_t n);
void baseline_rcu_done(void);	/* unregister the calling thread */

struct baseline_region {
	uint64_t iova, len;
	uint8_t *host;
};

struct baseline_regions {
	struct baseline_region *r;	/* sorted by iova, disjoint */
	unsigned int nr;
};

/* Host address of [@iova, @iova + @len) or NULL (not inside one region). */
void *baseline_vfu_translate(const struct baseline_regions *m, uint64_t iova,
			     size_t len);
void baseline_vfu_forget(void);	/* drop the calling thread's hint */

struct baseline_walk {
	uint64_t *root;		/* 512 entries: pointers to the next level, or 0 */
};

/* Map @npages 4 KiB pages from @iova to @pa.  Returns 0 or -ENOMEM. */
int baseline_walk_map(struct baseline_walk *w, uint64_t iova, uint64_t pa,
		      uint64_t npages);
/* The output address of @iova, or UINT64_MAX if it is not mapped. */
uint64_t baseline_walk(const struct baseline_walk *w, uint64_t iova);
void baseline_walk_free(struct baseline_walk *w);

#endif
