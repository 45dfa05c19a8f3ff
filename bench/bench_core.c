// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmark group "core": the cost of translation and DMA through the
 * IOMMU, and strict against lazy unmap.
 *
 * The IOMMU has a 4096-entry, 8-way IOTLB (with the default 512 entries and
 * 4 ways, a random 256-page set already misses about 13% of the time on set
 * conflicts, which would mix walks into the "hit" figure).
 *  - translate_hit_{1,2}thread: siommu_translate() (a read-side section of
 *    its own each time) on a hot set of 256 mapped 4 KiB pages that the
 *    IOTLB holds; ns/op per thread.
 *  - translate_miss_{1,2}thread: the same over 65536 mapped pages, so nearly
 *    every lookup misses and walks the 4-level table (seq_begin, walk,
 *    insert with eviction).
 *  - dma_{read,write}_{4k,64k,1m}: siommu_dma_read/write of one transfer of
 *    that size from/to a buffer mapped with 4 KiB pages, beside memcpy of
 *    the same size in the same run (`vs`): GB/s.
 *  - unmap_{strict,lazy}_4k: unmaps of single 4 KiB pages per second (the
 *    maps before them are not timed) on a STRICT domain (every unmap waits
 *    for a grace period) and on a LAZY one (flush queue of 256 entries),
 *    alone and with a second thread translating meanwhile (_dma: a grace
 *    period must then wait for its read-side sections, as it would for
 *    devices doing DMA).
 * Each figure is the best of three runs (the machine is shared).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/core.h>

#include "bench.h"

#define PG		4096ull
#define HOT		256
#define COLD		65536
#define IOVA_HOT	0x100000000ull
#define IOVA_COLD	0x200000000ull
#define IOVA_DMA	0x300000000ull
#define IOVA_UNMAP	0x400000000ull
#define DMA_MAX		(1u << 20)
#define BATCH		256
#define UNMAP_BATCH	1024

struct core_bench {
	struct siommu_device *dev;
	struct siommu_domain *strict, *lazy;
	uint8_t *dma_mem;		/* DMA_MAX bytes behind IOVA_DMA */
	uint8_t *dma_buf;		/* the device side */
	uint8_t *page;			/* what the translate sets map to */
	size_t dma_len;
	bool dma_write;
	int stop_reader;		/* atomic */
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t loop_translate(struct bench_thread *t, uint64_t base,
			       uint64_t npages)
{
	struct core_bench *b = t->arg;
	struct siommu_translation x;
	uint64_t s = 0x9e3779b97f4a7c15ull * (t->id + 1), n = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++) {
			uint64_t iova = base + (xorshift(&s) & (npages - 1)) * PG + (s & 0xff8);

			siommu_translate(b->dev, 0, iova, SIOMMU_ACC_READ, &x);
			bench_keep(x.pa);
		}
		n += BATCH;
	}
	return n;
}

static uint64_t loop_hit(struct bench_thread *t)
{
	return loop_translate(t, IOVA_HOT, HOT);
}

static uint64_t loop_miss(struct bench_thread *t)
{
	return loop_translate(t, IOVA_COLD, COLD);
}

static uint64_t loop_dma(struct bench_thread *t)
{
	struct core_bench *b = t->arg;
	uint64_t n = 0;
	int ret;

	while (!bench_should_stop(t)) {
		if (b->dma_write)
			ret = siommu_dma_write(b->dev, 0, IOVA_DMA, b->dma_buf, b->dma_len);
		else
			ret = siommu_dma_read(b->dev, 0, IOVA_DMA, b->dma_buf, b->dma_len);
		if (ret)
			return 0;
		n++;
	}
	return n;
}

static uint64_t loop_memcpy(struct bench_thread *t)
{
	struct core_bench *b = t->arg;
	uint64_t n = 0;

	while (!bench_should_stop(t)) {
		if (b->dma_write)
			memcpy(b->dma_mem, b->dma_buf, b->dma_len);
		else
			memcpy(b->dma_buf, b->dma_mem, b->dma_len);
		bench_keep(b->dma_buf);
		n++;
	}
	return n;
}

static void *reader_main(void *arg)
{
	struct core_bench *b = arg;
	struct siommu_translation x;
	uint64_t s = 12345;

	while (!__atomic_load_n(&b->stop_reader, __ATOMIC_ACQUIRE)) {
		xorshift(&s);
		siommu_translate(b->dev, 0, IOVA_HOT + (s & (HOT - 1)) * PG,
				 SIOMMU_ACC_READ, &x);
		bench_keep(x.pa);
	}
	return NULL;
}

/*
 * Unmaps per second of single 4 KiB pages: map UNMAP_BATCH pages (not
 * timed), then time their unmaps one by one, until @secs have passed.
 * With @reader, another thread translates all the while (read-side
 * sections that a strict unmap's grace period must wait for).
 */
static double unmap_rate(struct core_bench *b, struct siommu_domain *dom,
			 double secs, bool reader)
{
	uint64_t pa = (uintptr_t)b->page, n = 0, i;
	double deadline = bench_now_ns() + secs * 1e9, spent = 0, t0;
	pthread_t tid;

	b->stop_reader = 0;
	if (reader && pthread_create(&tid, NULL, reader_main, b))
		return 0;
	while (bench_now_ns() < deadline) {
		for (i = 0; i < UNMAP_BATCH; i++)
			if (siommu_domain_map(dom, IOVA_UNMAP + i * PG, pa, PG, SIOMMU_PT_READ))
				goto out;
		t0 = bench_now_ns();
		for (i = 0; i < UNMAP_BATCH; i++)
			if (siommu_domain_unmap(dom, IOVA_UNMAP + i * PG, PG) != (int64_t)PG)
				goto out;
		spent += bench_now_ns() - t0;
		n += UNMAP_BATCH;
	}
out:
	__atomic_store_n(&b->stop_reader, 1, __ATOMIC_RELEASE);
	if (reader)
		pthread_join(tid, NULL);
	siommu_domain_flush(dom);
	return spent > 0 ? n / (spent / 1e9) : 0;
}

static double unmap_best_of_3(struct core_bench *b, struct siommu_domain *dom,
			      double secs, bool reader)
{
	double best = 0, v;
	int i;

	for (i = 0; i < 3; i++) {
		v = unmap_rate(b, dom, secs / 3, reader);
		if (v > best)
			best = v;
	}
	return best;
}

static double best_of_3(unsigned int nthreads, double seconds,
			uint64_t (*fn)(struct bench_thread *t), void *arg)
{
	double best = 0, v;
	int i;

	for (i = 0; i < 3; i++) {
		v = bench_threads(nthreads, seconds / 3, fn, arg);
		if (v > best)
			best = v;
	}
	return best;
}

static double ns_per_op(double ops_per_s, unsigned int nthreads)
{
	return ops_per_s > 0 ? 1e9 * nthreads / ops_per_s : 0;
}

static void *page_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, PG, len))
		return NULL;
	memset(p, 0x5a, len);
	return p;
}

static int setup(struct siommu_ctx *ctx, struct siommu_iommu **iommu,
		 struct core_bench *b)
{
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
	};
	struct siommu_iommu_caps caps = { .iotlb_capacity = 4096, .iotlb_ways = 8 };
	uint64_t i;
	int ret;

	ret = siommu_iommu_create(ctx, &caps, NULL, iommu);
	if (ret)
		return ret;
	ret = siommu_device_create(*iommu, SIOMMU_RID(0, 1, 0, 0), 0, 0, &b->dev);
	if (ret)
		return ret;
	ret = siommu_domain_create(*iommu, &cfg, &b->strict);
	if (ret)
		return ret;
	cfg.unmap_mode = SIOMMU_UNMAP_LAZY;
	ret = siommu_domain_create(*iommu, &cfg, &b->lazy);
	if (ret)
		return ret;
	ret = siommu_device_attach(b->dev, b->strict);
	if (ret)
		return ret;
	b->page = page_alloc(PG);
	b->dma_mem = page_alloc(DMA_MAX);
	b->dma_buf = page_alloc(DMA_MAX);
	if (!b->page || !b->dma_mem || !b->dma_buf)
		return -ENOMEM;
	for (i = 0; i < HOT; i++) {
		ret = siommu_domain_map(b->strict, IOVA_HOT + i * PG, (uintptr_t)b->page,
					PG, SIOMMU_PT_READ);
		if (ret)
			return ret;
	}
	for (i = 0; i < COLD; i++) {
		ret = siommu_domain_map(b->strict, IOVA_COLD + i * PG, (uintptr_t)b->page,
					PG, SIOMMU_PT_READ);
		if (ret)
			return ret;
	}
	/* 4 KiB pages on purpose: a translation per page. */
	for (i = 0; i < DMA_MAX / PG; i++) {
		ret = siommu_domain_map(b->strict, IOVA_DMA + i * PG,
					(uintptr_t)(b->dma_mem + i * PG), PG,
					SIOMMU_PT_READ | SIOMMU_PT_WRITE);
		if (ret)
			return ret;
	}
	return 0;
}

static void teardown(struct siommu_iommu *iommu, struct core_bench *b)
{
	if (b->dev) {
		siommu_device_detach(b->dev);
		siommu_device_destroy(b->dev);
	}
	siommu_domain_destroy(b->strict);
	siommu_domain_destroy(b->lazy);
	siommu_iommu_destroy(iommu);
	free(b->page);
	free(b->dma_mem);
	free(b->dma_buf);
}

static int run_core(struct bench_run *br)
{
	static const struct { const char *name; size_t len; } sizes[] = {
		{ "4k", 4096 }, { "64k", 65536 }, { "1m", 1u << 20 },
	};
	struct siommu_iommu *iommu = NULL;
	struct core_bench b;
	struct siommu_ctx *ctx;
	double s = bench_seconds(br), v, base;
	char name[64], bname[64];
	unsigned int i, w;
	int ret;

	memset(&b, 0, sizeof(b));
	ret = siommu_ctx_create(&ctx);
	if (ret)
		return ret;
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	ret = setup(ctx, &iommu, &b);
	if (ret)
		goto out;

	bench_report(br, "translate_hit_1thread",
		     ns_per_op(best_of_3(1, s, loop_hit, &b), 1), "ns/op", NULL);
	bench_report(br, "translate_hit_2threads",
		     ns_per_op(best_of_3(2, s, loop_hit, &b), 2), "ns/op", NULL);
	bench_report(br, "translate_miss_1thread",
		     ns_per_op(best_of_3(1, s, loop_miss, &b), 1), "ns/op", NULL);
	bench_report(br, "translate_miss_2threads",
		     ns_per_op(best_of_3(2, s, loop_miss, &b), 2), "ns/op", NULL);

	for (w = 0; w < 2; w++) {
		b.dma_write = w;
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			b.dma_len = sizes[i].len;
			snprintf(bname, sizeof(bname), "memcpy_%s_%s", w ? "to" : "from",
				 sizes[i].name);
			base = best_of_3(1, s, loop_memcpy, &b) * b.dma_len / 1e9;
			bench_report(br, bname, base, "GB/s", NULL);
			snprintf(name, sizeof(name), "dma_%s_%s", w ? "write" : "read",
				 sizes[i].name);
			v = best_of_3(1, s, loop_dma, &b) * b.dma_len / 1e9;
			bench_report(br, name, v, "GB/s", bname);
		}
	}

	for (i = 0; i < 2; i++) {
		const char *sfx = i ? "_dma" : "";

		snprintf(bname, sizeof(bname), "unmap_strict_4k%s", sfx);
		bench_report(br, bname, unmap_best_of_3(&b, b.strict, s, i), "ops/s", NULL);
		snprintf(name, sizeof(name), "unmap_lazy_4k%s", sfx);
		bench_report(br, name, unmap_best_of_3(&b, b.lazy, s, i), "ops/s", bname);
	}
	siommu_domain_flush(b.lazy);
out:
	teardown(iommu, &b);
	siommu_ctx_destroy(ctx);
	return ret;
}

const struct bench_group bench_group_core = {
	.name = "core",
	.help = "translate hit/miss (1, 2 threads), DMA vs memcpy, strict vs lazy unmap",
	.run = run_core,
};
