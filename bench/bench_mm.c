// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmark group "mm": CPU address spaces, their lockless level lookup,
 * mirrors and invalidations.
 *
 *  - level lookup (siommu_mm_lookup_level_rcu(), one read-side section per
 *    batch of 256) on 128 MiB of 4 KiB pages, random addresses; baseline in
 *    the same run: a raw walk of the same table (the same 4 levels, plain
 *    loads, no present or size checks, no section).  Target: <= 1.5x.  Two
 *    pairs: (a) a latency chain, each address depending on the previous
 *    answer through its data: the lookup's answer (a level) comes out of
 *    branches, which the CPU predicts and runs past, so the chain is made
 *    with siommu_mm_translate_rcu() (the same walk, answering the address);
 *    (b) independent lookups (throughput), the level lookup itself.
 *  - mirror fault round trip: a device's DMA read that faults, the domain's
 *    handler (snapshot, lookup, mirror lock, retry check, map), the
 *    retranslation and the copy, on a cold mirror of 64 MiB of THP memory:
 *    with the level lookup (2 MiB mappings) and with the 4 KiB-only baseline;
 *    then the fraction of the mirrored bytes mapped huge after a device has
 *    touched every page, and the translate cost over the buffer (random
 *    pages, through the IOTLB and walks) with each mirror.
 *  - invalidation cost: munmap of a faulted 2 MiB THP page that 0, 1 or 8
 *    mirrors hold (each munmap waits for one grace period).
 * Timed cases run ROUNDS times interleaved; the best round counts.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/softiommu.h>

#include "base/rcu.h"
#include "bench.h"

#define SZ_4K		0x1000ull
#define SZ_2M		0x200000ull
#define LOOK_BYTES	(128ull << 20)
#define MIR_BYTES	(64ull << 20)
#define NR_ADDRS	(1u << 16)
#define BATCH		256
#define ROUNDS		3

struct look_bench {
	struct siommu_mm *mm;
	const uint64_t *root;
	uint64_t *addrs;
	uint64_t sink;
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x9e3779b97f4a7c15ull;
}

/* The raw walk: four dependent loads through the same table, nothing checked. */
static inline uint64_t raw_walk(const uint64_t *root, uint64_t va)
{
	const uint64_t *t = root;

	for (int l = 3; l > 0; l--)
		t = (const uint64_t *)(uintptr_t)(t[(va >> (12 + 9 * l)) & 511] &
						  0x000ffffffffff000ull);
	return t[(va >> 12) & 511];
}

static uint64_t loop_raw(struct bench_thread *t)
{
	struct look_bench *lb = t->arg;
	uint64_t ops = 0, prev = 0;
	unsigned int i = 0, k;

	while (!bench_should_stop(t)) {
		for (k = 0; k < BATCH; k++, i = (i + 1) & (NR_ADDRS - 1))
			prev = raw_walk(lb->root, lb->addrs[i] + (prev >> 63));
		ops += BATCH;
	}
	lb->sink = prev;
	return ops;
}

static uint64_t loop_translate(struct bench_thread *t)
{
	struct look_bench *lb = t->arg;
	struct siommu_mm_xlate x = { 0 };
	uint64_t ops = 0;
	unsigned int i = 0, k;

	while (!bench_should_stop(t)) {
		siommu_rcu_read_lock();
		for (k = 0; k < BATCH; k++, i = (i + 1) & (NR_ADDRS - 1))
			siommu_mm_translate_rcu(lb->mm, lb->addrs[i] + (x.pa >> 63), &x);
		siommu_rcu_read_unlock();
		ops += BATCH;
	}
	lb->sink = x.pa;
	return ops;
}

static uint64_t loop_raw_indep(struct bench_thread *t)
{
	struct look_bench *lb = t->arg;
	uint64_t ops = 0, sum = 0;
	unsigned int i = 0, k;

	while (!bench_should_stop(t)) {
		for (k = 0; k < BATCH; k++, i = (i + 1) & (NR_ADDRS - 1))
			sum += raw_walk(lb->root, lb->addrs[i]);
		ops += BATCH;
	}
	lb->sink = sum;
	return ops;
}

static uint64_t loop_lookup_indep(struct bench_thread *t)
{
	struct look_bench *lb = t->arg;
	uint64_t ops = 0, sum = 0;
	unsigned int i = 0, k;

	while (!bench_should_stop(t)) {
		siommu_rcu_read_lock();
		for (k = 0; k < BATCH; k++, i = (i + 1) & (NR_ADDRS - 1))
			sum += (uint64_t)siommu_mm_lookup_level_rcu(lb->mm, lb->addrs[i]);
		siommu_rcu_read_unlock();
		ops += BATCH;
	}
	lb->sink = sum;
	return ops;
}

static __attribute__((unused)) uint64_t loop_lookup(struct bench_thread *t)
{
	struct look_bench *lb = t->arg;
	uint64_t ops = 0, prev = 0;
	unsigned int i = 0, k;

	while (!bench_should_stop(t)) {
		siommu_rcu_read_lock();
		for (k = 0; k < BATCH; k++, i = (i + 1) & (NR_ADDRS - 1))
			prev = (uint64_t)siommu_mm_lookup_level_rcu(lb->mm,
								    lb->addrs[i] + (prev >> 63));
		siommu_rcu_read_unlock();
		ops += BATCH;
	}
	lb->sink = prev;
	return ops;
}

static double ns_per_op(double ops_per_s)
{
	return ops_per_s > 0 ? 1e9 / ops_per_s : 0;
}

static int bench_lookup(struct bench_run *br, struct siommu_ctx *ctx)
{
	struct look_bench lb = { 0 };
	struct siommu_pt_info pi;
	double best[4] = { 0, 0, 0, 0 }, s = bench_seconds(br);
	uint64_t base;
	int ret;

	ret = siommu_mm_create(ctx, NULL, &lb.mm);
	if (ret)
		return ret;
	ret = siommu_mm_mmap(lb.mm, 0, LOOK_BYTES, SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE,
			     SIOMMU_MM_MAP_ANON | SIOMMU_MM_PAGE_4K, -1, 0, &base);
	for (uint64_t off = 0; !ret && off < LOOK_BYTES; off += SZ_4K)
		ret = siommu_mm_fault(lb.mm, base + off, SIOMMU_ACC_READ);
	lb.addrs = malloc(NR_ADDRS * sizeof(*lb.addrs));
	if (ret || !lb.addrs) {
		free(lb.addrs);
		siommu_mm_destroy(lb.mm);
		return ret ? ret : -ENOMEM;
	}
	siommu_pt_get_info(siommu_mm_pt(lb.mm), &pi);
	lb.root = (const uint64_t *)(uintptr_t)pi.root_phys;
	for (unsigned int i = 0; i < NR_ADDRS; i++)
		lb.addrs[i] = base + (rnd() % (LOOK_BYTES / SZ_4K)) * SZ_4K;
	for (int r = 0; r < ROUNDS; r++) {
		best[0] = fmax(best[0], bench_threads(1, s, loop_raw, &lb));
		best[1] = fmax(best[1], bench_threads(1, s, loop_translate, &lb));
		best[2] = fmax(best[2], bench_threads(1, s, loop_raw_indep, &lb));
		best[3] = fmax(best[3], bench_threads(1, s, loop_lookup_indep, &lb));
	}
	bench_report(br, "raw_walk_chain_128m_4k", ns_per_op(best[0]), "ns/op", NULL);
	bench_report(br, "mm_walk_chain_128m_4k", ns_per_op(best[1]), "ns/op",
		     "raw_walk_chain_128m_4k");
	bench_report(br, "raw_walk_indep_128m_4k", ns_per_op(best[2]), "ns/op", NULL);
	bench_report(br, "lookup_level_indep_128m_4k", ns_per_op(best[3]), "ns/op",
		     "raw_walk_indep_128m_4k");
	free(lb.addrs);
	siommu_mm_destroy(lb.mm);
	return 0;
}

/* ------------------------------------------------------------------ mirrors */

struct mir_setup {
	struct siommu_iommu *iommu;
	struct siommu_device *dev[2];
	struct siommu_mm *mm;
	struct siommu_mirror *m[2];	/* [0] level lookup, [1] 4K only */
	uint64_t base;
};

/* Empty a mirror's table behind its back (a bench-only shortcut for "cold"). */
static void mirror_cool(struct siommu_mirror *m, uint64_t base)
{
	struct siommu_pt_gather g;

	siommu_pt_gather_init(&g);
	siommu_pt_unmap(siommu_mirror_pt(m), base, MIR_BYTES, &g);
	siommu_domain_invalidate(siommu_mirror_domain(m), base, MIR_BYTES, 0);
	siommu_pt_gather_sync(&g, NULL, NULL, SIOMMU_PT_SYNC_WAIT);
}

static double fault_round(struct mir_setup *ms, int which)
{
	uint64_t v, n = MIR_BYTES / SZ_2M;
	double t0, t1;

	mirror_cool(ms->m[which], ms->base);
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < n; i++)
		siommu_dma_read(ms->dev[which], SIOMMU_NO_PASID, ms->base + i * SZ_2M + 64, &v, 8);
	t1 = bench_now_ns();
	return (t1 - t0) / (double)n;
}

static double translate_round(struct mir_setup *ms, int which, unsigned int nops)
{
	struct siommu_translation x;
	double t0, t1;

	t0 = bench_now_ns();
	for (unsigned int i = 0; i < nops; i++)
		siommu_translate(ms->dev[which], SIOMMU_NO_PASID,
				 ms->base + (rnd() % (MIR_BYTES / SZ_4K)) * SZ_4K,
				 SIOMMU_ACC_READ, &x);
	t1 = bench_now_ns();
	return (t1 - t0) / nops;
}

static int bench_mirror(struct bench_run *br, struct siommu_ctx *ctx)
{
	struct siommu_mirror_cfg c0 = { 0 }, c1 = { .flags = SIOMMU_MIRROR_4K_ONLY };
	struct siommu_mirror_stats st;
	struct mir_setup ms = { 0 };
	double bf[2] = { INFINITY, INFINITY }, bt[2] = { INFINITY, INFINITY };
	int ret;

	ret = siommu_iommu_create(ctx, NULL, NULL, &ms.iommu);
	if (ret)
		return ret;
	for (int i = 0; i < 2 && !ret; i++)
		ret = siommu_device_create(ms.iommu, SIOMMU_RID(0, 9, i, 0), SIOMMU_DEV_PRI, 0,
					   &ms.dev[i]);
	if (!ret)
		ret = siommu_mm_create(ctx, NULL, &ms.mm);
	if (!ret)
		ret = siommu_mm_mmap(ms.mm, 0, MIR_BYTES, SIOMMU_MM_PROT_READ |
				     SIOMMU_MM_PROT_WRITE, SIOMMU_MM_MAP_ANON, -1, 0, &ms.base);
	for (uint64_t off = 0; !ret && off < MIR_BYTES; off += SZ_2M)
		ret = siommu_mm_fault(ms.mm, ms.base + off, SIOMMU_ACC_WRITE);
	if (!ret)
		ret = siommu_mirror_create(ms.mm, ms.iommu, &c0, &ms.m[0]);
	if (!ret)
		ret = siommu_mirror_create(ms.mm, ms.iommu, &c1, &ms.m[1]);
	for (int i = 0; i < 2 && !ret; i++)
		ret = siommu_device_attach(ms.dev[i], siommu_mirror_domain(ms.m[i]));
	if (ret)
		goto out;
	for (int r = 0; r < 4 * ROUNDS; r++) {
		for (int w = 0; w < 2; w++)
			bf[w] = fmin(bf[w], fault_round(&ms, w));
	}
	bench_report(br, "mirror_fault_roundtrip_4k_only", bf[1], "ns/fault", NULL);
	bench_report(br, "mirror_fault_roundtrip_level", bf[0], "ns/fault",
		     "mirror_fault_roundtrip_4k_only");
	/* A device touches every page of the buffer through each mirror, cold. */
	for (int w = 0; w < 2; w++) {
		uint64_t v;
		double frac;

		mirror_cool(ms.m[w], ms.base);
		siommu_mirror_get_stats(ms.m[w], &st);
		{
			uint64_t m4 = st.maps_4k, m2 = st.maps_2m;

			for (uint64_t off = 0; off < MIR_BYTES; off += SZ_4K)
				siommu_dma_read(ms.dev[w], SIOMMU_NO_PASID, ms.base + off, &v, 8);
			siommu_mirror_get_stats(ms.m[w], &st);
			m4 = st.maps_4k - m4;
			m2 = st.maps_2m - m2;
			frac = (double)(m2 * SZ_2M) / (double)(m2 * SZ_2M + m4 * SZ_4K);
		}
		bench_report(br, w ? "huge_fraction_4k_only" : "huge_fraction_level", frac,
			     "fraction", NULL);
	}
	for (int r = 0; r < ROUNDS; r++)
		for (int w = 0; w < 2; w++)
			bt[w] = fmin(bt[w], translate_round(&ms, w, 200000));
	bench_report(br, "translate_mirrored_4k_only", bt[1], "ns/op", NULL);
	bench_report(br, "translate_mirrored_level", bt[0], "ns/op",
		     "translate_mirrored_4k_only");
out:
	for (int i = 0; i < 2; i++) {
		if (ms.dev[i]) {
			siommu_device_detach(ms.dev[i]);
			siommu_device_destroy(ms.dev[i]);
		}
		siommu_mirror_destroy(ms.m[i]);
	}
	siommu_mm_destroy(ms.mm);
	siommu_iommu_destroy(ms.iommu);
	return ret;
}

/* ------------------------------------------------------------------ invalidations */

static int bench_invalidate(struct bench_run *br, struct siommu_ctx *ctx)
{
	static const unsigned int subs[] = { 0, 1, 8 };
	struct siommu_mirror_cfg cfg = { .flags = SIOMMU_MIRROR_NO_HANDLER };
	struct siommu_mirror *m[8] = { 0 };
	struct siommu_iommu *iommu;
	struct siommu_mm *mm;
	double best[3] = { INFINITY, INFINITY, INFINITY };
	unsigned int nr = 0;
	uint64_t base;
	int ret;

	ret = siommu_iommu_create(ctx, NULL, NULL, &iommu);
	if (ret)
		return ret;
	ret = siommu_mm_create(ctx, NULL, &mm);
	if (ret)
		goto out_iommu;
	ret = siommu_mm_mmap(mm, 0, SZ_2M, SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE,
			     SIOMMU_MM_MAP_ANON, -1, 0, &base);
	if (ret)
		goto out_mm;
	for (int r = 0; r < ROUNDS; r++) {
		for (unsigned int k = 0; k < 3; k++) {
			double total = 0;
			unsigned int n = 0;
			uint64_t out;

			while (nr < subs[k]) {
				ret = siommu_mirror_create(mm, iommu, &cfg, &m[nr]);
				if (ret)
					goto out_m;
				nr++;
			}
			while (nr > subs[k])
				siommu_mirror_destroy(m[--nr]);
			for (n = 0; n < 200; n++) {
				double t0;

				siommu_mm_fault(mm, base, SIOMMU_ACC_WRITE);
				for (unsigned int i = 0; i < nr; i++)
					siommu_mirror_fault(m[i], base, SIOMMU_ACC_READ);
				t0 = bench_now_ns();
				siommu_mm_munmap(mm, base, SZ_2M);
				total += bench_now_ns() - t0;
				ret = siommu_mm_mmap(mm, base, SZ_2M, SIOMMU_MM_PROT_READ |
						     SIOMMU_MM_PROT_WRITE, SIOMMU_MM_MAP_ANON |
						     SIOMMU_MM_MAP_FIXED, -1, 0, &out);
				if (ret)
					goto out_m;
			}
			best[k] = fmin(best[k], total / n);
		}
	}
	bench_report(br, "munmap_2m_0_mirrors", best[0], "ns/op", NULL);
	bench_report(br, "munmap_2m_1_mirror", best[1], "ns/op", "munmap_2m_0_mirrors");
	bench_report(br, "munmap_2m_8_mirrors", best[2], "ns/op", "munmap_2m_0_mirrors");
out_m:
	while (nr)
		siommu_mirror_destroy(m[--nr]);
out_mm:
	siommu_mm_destroy(mm);
out_iommu:
	siommu_iommu_destroy(iommu);
	return ret;
}

static int run_mm(struct bench_run *br)
{
	struct siommu_ctx *ctx;
	int ret;

	ret = siommu_ctx_create(&ctx);
	if (ret)
		return ret;
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, NULL, NULL);
	ret = bench_lookup(br, ctx);
	if (!ret)
		ret = bench_mirror(br, ctx);
	if (!ret)
		ret = bench_invalidate(br, ctx);
	siommu_ctx_destroy(ctx);
	return ret;
}

const struct bench_group bench_group_mm = {
	.name = "mm",
	.help = "level lookup vs a raw walk, mirror fault round trip and huge-page use "
		"(level lookup vs 4K only), munmap with 0/1/8 mirrors",
	.run = run_mm,
};
