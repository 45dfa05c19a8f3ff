// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmark group "pgtable": the cost of I/O page-table walks and updates.
 *
 *  - iova_to_phys on 1 GiB mapped with 4 KiB pages (x86-64, 4 levels: 515
 *    table pages), random addresses, each lookup's address depending on the
 *    previous answer (a latency chain, as a device's walks would be).  Read
 *    side: one RCU section per batch of 256 lookups, and one per lookup.
 *    Baseline measured in the same run: a dependent pointer chase of the
 *    same depth through arrays of the same sizes and layout (one contiguous
 *    block of 515 4 KiB arrays of 512 pointers), same address sequence.
 *  - map + unmap of one 4 KiB page (unmap's gather synced, no table freed)
 *    on 1 and 2 threads, each thread in its own 1 GiB region.
 *  - table memory for 1 GiB of 4 KiB mappings beside the theoretical
 *    minimum (512 leaf tables + one table per level above).
 * Each timed case runs ROUNDS times, interleaved with the others, and the
 * best round is reported: on a shared machine the best is the least
 * disturbed.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/softiommu.h>
#include <softiommu/pgtable.h>

#include "base/rcu.h"
#include "bench.h"

#define SZ_4K		0x1000ull
#define SZ_1G		0x40000000ull
#define NR_ADDRS	(1u << 20)	/* random page numbers, 8 MiB of them */
#define BATCH		256
#define ROUNDS		3	/* interleaved measurements; the best one counts */

struct walk_bench {
	struct siommu_pt *pt;
	uint64_t *addrs;		/* random IOVAs in [1 GiB, 2 GiB) */
	uint64_t **chase_root;		/* the baseline's top array */
	uint64_t sink;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/*
 * The baseline: 4 levels of 512-entry arrays, like the table, holding plain
 * pointers (the leaf level holds the answer).  One contiguous block, the
 * arrays in the order the table's pool hands out its pages.
 */
static uint64_t **chase_build(uint64_t base, void **block)
{
	uint64_t *mem, **l3, **l2, **l1;
	unsigned int i, j;

	mem = aligned_alloc(SZ_4K, 515 * SZ_4K);
	if (!mem)
		return NULL;
	memset(mem, 0, 515 * SZ_4K);
	l3 = (uint64_t **)mem;
	l2 = (uint64_t **)(mem + 512);
	l1 = (uint64_t **)(mem + 2 * 512);
	l3[(base >> 39) & 511] = (uint64_t *)l2;
	l2[(base >> 30) & 511] = (uint64_t *)l1;
	for (i = 0; i < 512; i++) {
		uint64_t *l0 = mem + (3 + i) * 512;

		l1[i] = l0;
		for (j = 0; j < 512; j++)
			l0[j] = base + ((uint64_t)i << 21) + ((uint64_t)j << 12);
	}
	*block = mem;
	return l3;
}

static inline uint64_t chase(uint64_t **l3, uint64_t iova)
{
	uint64_t **l2 = (uint64_t **)l3[(iova >> 39) & 511];
	uint64_t **l1 = (uint64_t **)l2[(iova >> 30) & 511];
	uint64_t *l0 = l1[(iova >> 21) & 511];

	return l0[(iova >> 12) & 511] | (iova & 0xfff);
}

/*
 * Each address depends on the previous answer: `prev >> 63` is 0 (answers
 * are below 2^63) but the CPU cannot know it before the answer arrives.
 */
static uint64_t loop_chase(struct bench_thread *t)
{
	struct walk_bench *wb = t->arg;
	uint64_t ops = 0, prev = 0;
	unsigned int i = 0, k;

	while (!bench_should_stop(t)) {
		for (k = 0; k < BATCH; k++, i = (i + 1) & (NR_ADDRS - 1))
			prev = chase(wb->chase_root, wb->addrs[i] + (prev >> 63));
		ops += BATCH;
	}
	wb->sink = prev;
	return ops;
}

static uint64_t loop_walk_batch(struct bench_thread *t)
{
	struct walk_bench *wb = t->arg;
	uint64_t ops = 0, prev = 0;
	unsigned int i = 0, k;

	while (!bench_should_stop(t)) {
		siommu_rcu_read_lock();
		for (k = 0; k < BATCH; k++, i = (i + 1) & (NR_ADDRS - 1))
			siommu_pt_iova_to_phys_rcu(wb->pt, wb->addrs[i] + (prev >> 63), &prev);
		siommu_rcu_read_unlock();
		ops += BATCH;
	}
	wb->sink = prev;
	return ops;
}

static uint64_t loop_walk_each(struct bench_thread *t)
{
	struct walk_bench *wb = t->arg;
	uint64_t ops = 0, prev = 0;
	unsigned int i = 0, k;

	while (!bench_should_stop(t)) {
		for (k = 0; k < BATCH; k++, i = (i + 1) & (NR_ADDRS - 1))
			siommu_pt_iova_to_phys(wb->pt, wb->addrs[i] + (prev >> 63), &prev);
		ops += BATCH;
	}
	wb->sink = prev;
	return ops;
}

static double ns_per_op(double ops_per_s)
{
	return ops_per_s > 0 ? 1e9 / ops_per_s : 0;
}

static int bench_walks(struct bench_run *br, struct siommu_ctx *ctx)
{
	struct siommu_pt_cfg cfg = {
		.fmt = SIOMMU_PT_FMT_X86_64, .levels = 4, .pgsize_bitmap = SIOMMU_PT_SZ_4K,
	};
	struct walk_bench wb = { 0 };
	struct siommu_pt_info info;
	double s = bench_seconds(br), best[3] = { 0 };
	void *block = NULL;
	unsigned int i, r;
	uint64_t pa;
	int ret;

	ret = siommu_pt_create(ctx, &cfg, &wb.pt);
	if (ret)
		return ret;
	ret = siommu_pt_map(wb.pt, SZ_1G, SZ_1G, SZ_1G, SIOMMU_PT_READ | SIOMMU_PT_WRITE);
	if (ret)
		goto out;
	wb.addrs = malloc(NR_ADDRS * sizeof(*wb.addrs));
	wb.chase_root = chase_build(SZ_1G, &block);
	if (!wb.addrs || !wb.chase_root) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < NR_ADDRS; i++)
		wb.addrs[i] = SZ_1G + (rnd() & (SZ_1G - 8));
	/* Both answer the same. */
	for (i = 0; i < 1000; i++) {
		siommu_pt_iova_to_phys(wb.pt, wb.addrs[i], &pa);
		if (pa != chase(wb.chase_root, wb.addrs[i])) {
			ret = -EINVAL;
			goto out;
		}
	}

	/* Interleaved rounds, best of each: the machine may be shared. */
	for (r = 0; r < ROUNDS; r++) {
		best[0] = fmax(best[0], bench_threads(1, s, loop_chase, &wb));
		best[1] = fmax(best[1], bench_threads(1, s, loop_walk_batch, &wb));
		best[2] = fmax(best[2], bench_threads(1, s, loop_walk_each, &wb));
	}
	bench_report(br, "chase_4level_1g_4k", ns_per_op(best[0]), "ns/op", NULL);
	bench_report(br, "iova_to_phys_1g_4k_batch", ns_per_op(best[1]), "ns/op",
		     "chase_4level_1g_4k");
	bench_report(br, "iova_to_phys_1g_4k_each", ns_per_op(best[2]), "ns/op",
		     "chase_4level_1g_4k");

	siommu_pt_get_info(wb.pt, &info);
	bench_report(br, "table_pages_min_1g_4k", 512 + 1 + 1 + 1, "pages", NULL);
	bench_report(br, "table_pages_1g_4k", (double)info.table_pages, "pages",
		     "table_pages_min_1g_4k");
out:
	free(block);
	free(wb.addrs);
	siommu_pt_destroy(wb.pt);
	return ret;
}

static bool map_unmap_failed;

static uint64_t loop_map_unmap(struct bench_thread *t)
{
	struct siommu_pt *pt = t->arg;
	uint64_t base = (uint64_t)(t->id + 1) * SZ_1G, ops = 0;
	struct siommu_pt_gather g;
	unsigned int i = 0, k;
	int bad = 0;

	siommu_pt_gather_init(&g);
	while (!bench_should_stop(t)) {
		for (k = 0; k < BATCH; k++, i = (i + 1) & 511) {
			uint64_t iova = base + (uint64_t)i * SZ_4K;

			bad |= siommu_pt_map(pt, iova, iova, SZ_4K,
					     SIOMMU_PT_READ | SIOMMU_PT_WRITE);
			bad |= siommu_pt_unmap(pt, iova, SZ_4K, &g) != (int64_t)SZ_4K;
			siommu_pt_gather_sync(&g, NULL, NULL, 0);
		}
		ops += BATCH;
	}
	if (bad)
		__atomic_store_n(&map_unmap_failed, true, __ATOMIC_RELAXED);
	return ops;
}

static int bench_updates(struct bench_run *br, struct siommu_ctx *ctx)
{
	struct siommu_pt_cfg cfg = { .fmt = SIOMMU_PT_FMT_X86_64, .levels = 4 };
	double s = bench_seconds(br), best[2] = { 0 };
	struct siommu_pt_gather g;
	struct siommu_pt *pt;
	unsigned int t, r;
	int ret;

	ret = siommu_pt_create(ctx, &cfg, &pt);
	if (ret)
		return ret;
	/* Warm up: the leaf tables of both regions exist before timing. */
	siommu_pt_gather_init(&g);
	for (t = 0; t < 2; t++) {
		siommu_pt_map(pt, (t + 1) * SZ_1G, 0, SZ_4K, SIOMMU_PT_READ);
		siommu_pt_unmap(pt, (t + 1) * SZ_1G, SZ_4K, &g);
	}
	siommu_pt_gather_sync(&g, NULL, NULL, SIOMMU_PT_SYNC_WAIT);
	for (r = 0; r < ROUNDS; r++) {
		best[0] = fmax(best[0], bench_threads(1, s, loop_map_unmap, pt));
		best[1] = fmax(best[1], bench_threads(2, s, loop_map_unmap, pt));
	}
	siommu_pt_destroy(pt);
	if (map_unmap_failed)
		return -EIO;	/* a map or unmap failed: the figures would lie */
	bench_report(br, "map_unmap_4k_1thread", best[0], "ops/s", NULL);
	bench_report(br, "map_unmap_4k_2threads", best[1], "ops/s", "map_unmap_4k_1thread");
	return 0;
}

static int run_pgtable(struct bench_run *br)
{
	struct siommu_ctx *ctx;
	int ret;

	ret = siommu_ctx_create(&ctx);
	if (ret)
		return ret;
	ret = bench_walks(br, ctx);
	if (!ret)
		ret = bench_updates(br, ctx);
	siommu_ctx_destroy(ctx);
	return ret;
}

const struct bench_group bench_group_pgtable = {
	.name = "pgtable",
	.help = "iova_to_phys vs a pointer chase, map+unmap on 1 and 2 threads, table memory",
	.run = run_pgtable,
};
