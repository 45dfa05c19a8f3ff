// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * xl: a fixed-count driver of the hot-path cases, for instruction counts
 * (valgrind --tool=callgrind --toggle-collect=xl_loop_*), not built by
 * default: `ninja -C build bench/xl bench/xl-so`.
 *
 *	xl CASE N	CASE: section, hit, hit_rcu, random64, random1024, miss,
 *			dma64k, dma1m (the cases of bench group "hotpath",
 *			same setup, default configuration), and their
 *			baselines (bench/baseline.c): urcu, vfu_hit,
 *			vfu_random64, vfu_random1024, raw_walk, memcpy64k,
 *			memcpy1m
 *
 * Each case's loop is a noinline function xl_loop_CASE so that callgrind
 * counts exactly N iterations (setup, warm-up and teardown excluded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/core.h>

#include "baseline.h"

#define PG		4096ull
#define MIB		(1ull << 20)
#define IOVA_ONE	0x10000000ull
#define IOVA_REGIONS	0x100000000ull
#define REGION_STRIDE	(4 * MIB)
#define IOVA_WALK	0x1000000000ull
#define WALK_PAGES	65536
#define IOVA_DMA	0x2000000000ull

#define XL_LOOP static __attribute__((noinline, used))

static struct siommu_device *dev;
static uint8_t *host, *dma_mem, *dma_buf;
static volatile uint64_t sink;

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

XL_LOOP void xl_loop_section(uint64_t n)
{
	while (n--) {
		siommu_read_lock();
		siommu_read_unlock();
	}
}

XL_LOOP void xl_loop_hit(uint64_t n)
{
	struct siommu_translation x;

	while (n--) {
		siommu_translate(dev, 0, IOVA_ONE + 8, SIOMMU_ACC_READ, &x);
		sink = x.pa;
	}
}

XL_LOOP void xl_loop_hit_rcu(uint64_t n)
{
	struct siommu_translation x;

	siommu_read_lock();
	while (n--) {
		siommu_translate_rcu(dev, 0, IOVA_ONE + 8, SIOMMU_ACC_READ, &x);
		sink = x.pa;
	}
	siommu_read_unlock();
}

XL_LOOP void xl_loop_random(uint64_t n, unsigned int nregions)
{
	struct siommu_translation x;
	uint64_t s = 0x9e3779b97f4a7c15ull, r;

	while (n--) {
		r = xorshift(&s);
		siommu_translate(dev, 0, IOVA_REGIONS + (r % nregions) * REGION_STRIDE +
				 ((r >> 20) & (MIB / PG - 1)) * PG + ((r >> 40) & 0xff8),
				 SIOMMU_ACC_READ, &x);
		sink = x.pa;
	}
}

XL_LOOP void xl_loop_miss(uint64_t n)
{
	struct siommu_translation x;
	uint64_t s = 0x9e3779b97f4a7c15ull, r;

	while (n--) {
		r = xorshift(&s);
		siommu_translate(dev, 0, IOVA_WALK + (r & (WALK_PAGES - 1)) * PG +
				 ((r >> 40) & 0xff8), SIOMMU_ACC_READ, &x);
		sink = x.pa;
	}
}

XL_LOOP void xl_loop_dma(uint64_t n, size_t len)
{
	while (n--)
		if (siommu_dma_read(dev, 0, IOVA_DMA, dma_buf, len))
			abort();
}

static struct baseline_regions regions;
static struct baseline_walk walk;

XL_LOOP void xl_loop_urcu(uint64_t n)
{
	baseline_rcu_sections(n);
}

XL_LOOP void xl_loop_vfu_hit(uint64_t n)
{
	while (n--)
		sink = (uintptr_t)baseline_vfu_translate(&regions, IOVA_REGIONS + 8, 8);
}

XL_LOOP void xl_loop_vfu_random(uint64_t n, unsigned int nregions)
{
	uint64_t s = 0x9e3779b97f4a7c15ull, r;

	while (n--) {
		r = xorshift(&s);
		sink = (uintptr_t)baseline_vfu_translate(&regions, IOVA_REGIONS +
				(r % nregions) * REGION_STRIDE +
				((r >> 20) & (MIB / PG - 1)) * PG + ((r >> 40) & 0xff8), 8);
	}
}

XL_LOOP void xl_loop_raw_walk(uint64_t n)
{
	uint64_t s = 0x9e3779b97f4a7c15ull, r;

	while (n--) {
		r = xorshift(&s);
		sink = baseline_walk(&walk, IOVA_WALK + (r & (WALK_PAGES - 1)) * PG +
				     ((r >> 40) & 0xff8));
	}
}

XL_LOOP void xl_loop_memcpy(uint64_t n, size_t len)
{
	while (n--) {
		memcpy(dma_buf, dma_mem, len);
		sink = dma_buf[len - 1];
	}
}

static void *alloc_pages(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, PG, len))
		abort();
	memset(p, 0x5a, len);
	return p;
}

int main(int argc, char **argv)
{
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
	};
	struct siommu_iommu_caps caps;
	struct siommu_iommu *iommu;
	struct siommu_domain *dom;
	struct siommu_ctx *ctx;
	const char *c;
	uint64_t n, i;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: xl CASE N\n");
		return 2;
	}
	c = argv[1];
	n = strtoull(argv[2], NULL, 0);
	memset(&caps, 0, sizeof(caps));
	ret = siommu_ctx_create(&ctx);
	ret = ret ? ret : siommu_iommu_create(ctx, &caps, NULL, &iommu);
	ret = ret ? ret : siommu_device_create(iommu, SIOMMU_RID(0, 1, 0, 0), 0, 0, &dev);
	ret = ret ? ret : siommu_domain_create(iommu, &cfg, &dom);
	ret = ret ? ret : siommu_device_attach(dev, dom);
	if (ret)
		return 1;
	host = alloc_pages(MIB);
	dma_mem = alloc_pages(MIB);
	dma_buf = alloc_pages(MIB);
	ret = siommu_domain_map(dom, IOVA_ONE, (uintptr_t)host, PG, SIOMMU_PT_READ);
	for (i = 0; i < 1024 && !ret; i++)
		ret = siommu_domain_map(dom, IOVA_REGIONS + i * REGION_STRIDE,
					(uintptr_t)host, MIB, SIOMMU_PT_READ);
	for (i = 0; i < WALK_PAGES && !ret; i++)
		ret = siommu_domain_map(dom, IOVA_WALK + i * PG, (uintptr_t)host, PG,
					SIOMMU_PT_READ);
	for (i = 0; i < MIB / PG && !ret; i++)
		ret = siommu_domain_map(dom, IOVA_DMA + i * PG, (uintptr_t)(dma_mem + i * PG),
					PG, SIOMMU_PT_READ | SIOMMU_PT_WRITE);
	if (ret)
		return 1;
	regions.r = calloc(1024, sizeof(*regions.r));
	for (i = 0; i < 1024; i++) {
		regions.r[i].iova = IOVA_REGIONS + i * REGION_STRIDE;
		regions.r[i].len = MIB;
		regions.r[i].host = host;
	}
	regions.nr = 1024;
	if (baseline_walk_map(&walk, IOVA_WALK, (uintptr_t)host, WALK_PAGES))
		return 1;
	/* Warm up with the same loop, then the counted run. */
	for (i = 0; i < 2; i++) {
		uint64_t m = i ? n : (n < 4096 ? n : 4096);

		if (!strcmp(c, "section"))
			xl_loop_section(m);
		else if (!strcmp(c, "hit"))
			xl_loop_hit(m);
		else if (!strcmp(c, "hit_rcu"))
			xl_loop_hit_rcu(m);
		else if (!strcmp(c, "random64"))
			xl_loop_random(m, 64);
		else if (!strcmp(c, "random1024"))
			xl_loop_random(m, 1024);
		else if (!strcmp(c, "miss"))
			xl_loop_miss(m);
		else if (!strcmp(c, "dma64k"))
			xl_loop_dma(m, 64 * 1024);
		else if (!strcmp(c, "dma1m"))
			xl_loop_dma(m, MIB);
		else if (!strcmp(c, "urcu"))
			xl_loop_urcu(m);
		else if (!strcmp(c, "vfu_hit"))
			xl_loop_vfu_hit(m);
		else if (!strcmp(c, "vfu_random64"))
			xl_loop_vfu_random(m, 64);
		else if (!strcmp(c, "vfu_random1024"))
			xl_loop_vfu_random(m, 1024);
		else if (!strcmp(c, "raw_walk"))
			xl_loop_raw_walk(m);
		else if (!strcmp(c, "memcpy64k"))
			xl_loop_memcpy(m, 64 * 1024);
		else if (!strcmp(c, "memcpy1m"))
			xl_loop_memcpy(m, MIB);
		else
			return 2;
	}
	siommu_device_detach(dev);
	siommu_device_destroy(dev);
	siommu_domain_destroy(dom);
	siommu_iommu_destroy(iommu);
	siommu_ctx_destroy(ctx);
	baseline_walk_free(&walk);
	free(regions.r);
	free(host);
	free(dma_mem);
	free(dma_buf);
	return 0;
}
