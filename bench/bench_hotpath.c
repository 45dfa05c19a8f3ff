// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmark group "hotpath": the rows of the hot-path table (issue 10),
 * each beside its baseline in the same run, through the public API only,
 * with the default IOMMU configuration (default IOTLB geometry).
 *
 *  - rcu_section: siommu_read_lock() + siommu_read_unlock(), vs urcu-memb's
 *    inline section (bench/baseline.c, compiled as an ordinary program).
 *  - translate_hit_one_page: siommu_translate() of one address repeated, vs
 *    the libvfio-user design's hint hit (vfu_hint_hit); served by the
 *    per-thread translation hint.  translate_rcu_hit_one_page: the same
 *    with siommu_translate_rcu() inside one read-side section per batch of
 *    256 (a driver holding its section across a batch), vs the same hint.
 *  - translate_random_{64,1024}x1m: random 4 KiB pages (random offset in
 *    the page) over 64 or 1024 regions of 1 MiB, vs the libvfio-user
 *    design (hint + bisection of a sorted array) on the same regions and
 *    the same address sequence.
 *  - translate_miss_hot_walk: random pages over 65536 mapped pages (the
 *    default IOTLB holds few of them: nearly every lookup walks, on tables
 *    that stay cached), vs a raw 4-level dependent walk of the same shape
 *    over the same pages.
 *  - dma_read_{64k,1m}: siommu_dma_read() of a buffer mapped with 4 KiB
 *    pages (contiguous), vs memcpy of the same memory.
 * Each case runs HOT_RUNS times; the value is the median, and a "_best"
 * case gives the best run.  load1 is /proc/loadavg's first figure at the
 * start (the machine is shared).
 *
 * The group runs in the CLI (static library: cases as measured) and, when
 * the shared-library twin (softiommu-bench-so, the same group linked with
 * libsoftiommu.so as a driver links it) was built beside it, runs that too
 * and reports its cases with the suffix "_so".
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/core.h>

#include "baseline.h"
#include "bench.h"
#include "bench_config.h"

#define PG		4096ull
#define MIB		(1ull << 20)
#define HOT_RUNS	5
#define BATCH		256
#define IOVA_ONE	0x10000000ull
#define IOVA_REGIONS	0x100000000ull	/* region i at + i * 4 MiB */
#define REGION_STRIDE	(4 * MIB)
#define IOVA_WALK	0x1000000000ull
#define WALK_PAGES	65536
#define IOVA_DMA	0x2000000000ull
#define DMA_MAX		MIB

struct hot {
	struct siommu_device *dev;
	struct siommu_domain *dom;
	uint8_t *host;			/* 1 MiB: what the regions map to */
	uint8_t *dma_mem, *dma_buf;
	struct baseline_regions regions;
	struct baseline_walk walk;
	unsigned int nregions;		/* of the random case running */
	size_t dma_len;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A random 8-byte access in a random page of a random region. */
static inline uint64_t region_addr(uint64_t *s, unsigned int nregions)
{
	uint64_t r = xorshift(s);

	return IOVA_REGIONS + (r % nregions) * REGION_STRIDE +
	       ((r >> 20) & (MIB / PG - 1)) * PG + ((r >> 40) & 0xff8);
}

static inline uint64_t walk_addr(uint64_t *s)
{
	uint64_t r = xorshift(s);

	return IOVA_WALK + (r & (WALK_PAGES - 1)) * PG + ((r >> 40) & 0xff8);
}

static uint64_t loop_rcu_public(struct bench_thread *t)
{
	uint64_t n = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++) {
			siommu_read_lock();
			siommu_read_unlock();
		}
		n += BATCH;
	}
	return n;
}

static uint64_t loop_rcu_inline(struct bench_thread *t)
{
	uint64_t n = 0;

	while (!bench_should_stop(t)) {
		baseline_rcu_sections(BATCH);
		n += BATCH;
	}
	baseline_rcu_done();
	return n;
}

static uint64_t loop_hit(struct bench_thread *t)
{
	struct hot *h = t->arg;
	struct siommu_translation x;
	uint64_t n = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++) {
			siommu_translate(h->dev, 0, IOVA_ONE + 8, SIOMMU_ACC_READ, &x);
			bench_keep(x.pa);
		}
		n += BATCH;
	}
	return n;
}

/* The same inside one read-side section per batch (the caller holds it). */
static uint64_t loop_hit_rcu(struct bench_thread *t)
{
	struct hot *h = t->arg;
	struct siommu_translation x;
	uint64_t n = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		siommu_read_lock();
		for (i = 0; i < BATCH; i++) {
			siommu_translate_rcu(h->dev, 0, IOVA_ONE + 8, SIOMMU_ACC_READ, &x);
			bench_keep(x.pa);
		}
		siommu_read_unlock();
		n += BATCH;
	}
	return n;
}

static uint64_t loop_vfu_hit(struct bench_thread *t)
{
	struct hot *h = t->arg;
	uint64_t n = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++)
			bench_keep(baseline_vfu_translate(&h->regions, IOVA_REGIONS + 8, 8));
		n += BATCH;
	}
	baseline_vfu_forget();
	return n;
}

static uint64_t loop_random(struct bench_thread *t)
{
	struct hot *h = t->arg;
	struct siommu_translation x;
	uint64_t s = 0x9e3779b97f4a7c15ull, n = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++) {
			siommu_translate(h->dev, 0, region_addr(&s, h->nregions),
					 SIOMMU_ACC_READ, &x);
			bench_keep(x.pa);
		}
		n += BATCH;
	}
	return n;
}

static uint64_t loop_vfu_random(struct bench_thread *t)
{
	struct hot *h = t->arg;
	uint64_t s = 0x9e3779b97f4a7c15ull, n = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++)
			bench_keep(baseline_vfu_translate(&h->regions,
							  region_addr(&s, h->nregions), 8));
		n += BATCH;
	}
	baseline_vfu_forget();
	return n;
}

static uint64_t loop_miss(struct bench_thread *t)
{
	struct hot *h = t->arg;
	struct siommu_translation x;
	uint64_t s = 0x9e3779b97f4a7c15ull, n = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++) {
			siommu_translate(h->dev, 0, walk_addr(&s), SIOMMU_ACC_READ, &x);
			bench_keep(x.pa);
		}
		n += BATCH;
	}
	return n;
}

static uint64_t loop_raw_walk(struct bench_thread *t)
{
	struct hot *h = t->arg;
	uint64_t s = 0x9e3779b97f4a7c15ull, n = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++)
			bench_keep(baseline_walk(&h->walk, walk_addr(&s)));
		n += BATCH;
	}
	return n;
}

static uint64_t loop_dma(struct bench_thread *t)
{
	struct hot *h = t->arg;
	uint64_t n = 0;

	while (!bench_should_stop(t)) {
		if (siommu_dma_read(h->dev, 0, IOVA_DMA, h->dma_buf, h->dma_len))
			return 0;
		n++;
	}
	return n;
}

static uint64_t loop_memcpy(struct bench_thread *t)
{
	struct hot *h = t->arg;
	uint64_t n = 0;

	while (!bench_should_stop(t)) {
		memcpy(h->dma_buf, h->dma_mem, h->dma_len);
		bench_keep(h->dma_buf);
		n++;
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Run @fn HOT_RUNS times on one thread; report the median and the best as
 * @name and @name_best, in ns/op or (@bytes != 0) GB/s.
 */
static void measure(struct bench_run *br, const char *name, const char *vs,
		    uint64_t (*fn)(struct bench_thread *t), void *arg, size_t bytes)
{
	double v[HOT_RUNS], s = bench_seconds(br) / HOT_RUNS, best;
	char bname[96], bvs[96];
	int i;

	for (i = 0; i < HOT_RUNS; i++) {
		double ops = bench_threads(1, s, fn, arg);

		v[i] = bytes ? ops * bytes / 1e9 : (ops > 0 ? 1e9 / ops : 0);
	}
	qsort(v, HOT_RUNS, sizeof(v[0]), cmp_double);
	best = bytes ? v[HOT_RUNS - 1] : v[0];
	bench_report(br, name, v[HOT_RUNS / 2], bytes ? "GB/s" : "ns/op", vs);
	snprintf(bname, sizeof(bname), "%s_best", name);
	if (vs)
		snprintf(bvs, sizeof(bvs), "%s_best", vs);
	bench_report(br, bname, best, bytes ? "GB/s" : "ns/op", vs ? bvs : NULL);
}

static void *alloc_pages(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, PG, len))
		return NULL;
	memset(p, 0x5a, len);
	return p;
}

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static int setup(struct siommu_ctx *ctx, struct siommu_iommu **iommu,
		 struct hot *h, unsigned int max_regions)
{
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
	};
	struct siommu_iommu_caps caps;	/* all defaults */
	unsigned int i;
	int ret;

	memset(&caps, 0, sizeof(caps));
	ret = siommu_iommu_create(ctx, &caps, NULL, iommu);
	if (!ret)
		ret = siommu_device_create(*iommu, SIOMMU_RID(0, 1, 0, 0), 0, 0, &h->dev);
	if (!ret)
		ret = siommu_domain_create(*iommu, &cfg, &h->dom);
	if (!ret)
		ret = siommu_device_attach(h->dev, h->dom);
	if (ret)
		return ret;
	h->host = alloc_pages(MIB);
	h->dma_mem = alloc_pages(DMA_MAX);
	h->dma_buf = alloc_pages(DMA_MAX);
	h->regions.r = calloc(max_regions, sizeof(*h->regions.r));
	if (!h->host || !h->dma_mem || !h->dma_buf || !h->regions.r)
		return -ENOMEM;
	ret = siommu_domain_map(h->dom, IOVA_ONE, (uintptr_t)h->host, PG, SIOMMU_PT_READ);
	for (i = 0; i < max_regions && !ret; i++) {
		h->regions.r[i].iova = IOVA_REGIONS + i * REGION_STRIDE;
		h->regions.r[i].len = MIB;
		h->regions.r[i].host = h->host;
		ret = siommu_domain_map(h->dom, IOVA_REGIONS + i * REGION_STRIDE,
					(uintptr_t)h->host, MIB, SIOMMU_PT_READ);
	}
	h->regions.nr = max_regions;
	/* 4 KiB pages, all mapping the same host page (a walk's shape only). */
	for (i = 0; i < WALK_PAGES && !ret; i++)
		ret = siommu_domain_map(h->dom, IOVA_WALK + i * PG, (uintptr_t)h->host,
					PG, SIOMMU_PT_READ);
	if (!ret && baseline_walk_map(&h->walk, IOVA_WALK, (uintptr_t)h->host, WALK_PAGES))
		ret = -ENOMEM;
	/* 4 KiB pages on purpose: the DMA translates page by page. */
	for (i = 0; i < DMA_MAX / PG && !ret; i++)
		ret = siommu_domain_map(h->dom, IOVA_DMA + i * PG,
					(uintptr_t)(h->dma_mem + i * PG), PG,
					SIOMMU_PT_READ | SIOMMU_PT_WRITE);
	return ret;
}

static void teardown(struct siommu_iommu *iommu, struct hot *h)
{
	if (h->dev) {
		siommu_device_detach(h->dev);
		siommu_device_destroy(h->dev);
	}
	siommu_domain_destroy(h->dom);
	siommu_iommu_destroy(iommu);
	baseline_walk_free(&h->walk);
	free(h->regions.r);
	free(h->host);
	free(h->dma_mem);
	free(h->dma_buf);
}

static double load1(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

#ifdef BENCH_TWIN_PATH
/*
 * Run the shared-library twin and report its results with "_so" appended
 * to every case name (and baseline name).  Returns 0 or a negative errno.
 */
static int run_twin(struct bench_run *br)
{
	char cmd[512], line[1024], name[160], vs[160];
	FILE *p;
	int ret = 0;

	snprintf(cmd, sizeof(cmd), "SOFTIOMMU_BENCH_TWIN=1 '%s' hotpath --json%s",
		 BENCH_TWIN_PATH, bench_seconds(br) < 0.5 ? " --quick" : "");
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p)) {
		json_object *o = json_tokener_parse(line), *c, *v, *u, *w;

		if (!o || !json_object_object_get_ex(o, "case", &c) ||
		    !json_object_object_get_ex(o, "value", &v) ||
		    !json_object_object_get_ex(o, "unit", &u)) {
			json_object_put(o);
			ret = -EPROTO;
			continue;
		}
		snprintf(name, sizeof(name), "%s_so", json_object_get_string(c));
		if (json_object_object_get_ex(o, "vs", &w))
			snprintf(vs, sizeof(vs), "%s_so", json_object_get_string(w));
		bench_report(br, name, json_object_get_double(v),
			     json_object_get_string(u),
			     json_object_object_get_ex(o, "vs", &w) ? vs : NULL);
		json_object_put(o);
	}
	if (pclose(p) && !ret)
		ret = -ECHILD;
	return ret;
}
#endif

static int run_hotpath(struct bench_run *br)
{
	static const unsigned int nregions[] = { 64, 1024 };
	struct siommu_iommu *iommu = NULL;
	struct siommu_ctx *ctx;
	char name[64], vs[64];
	struct hot h;
	unsigned int i;
	int ret;

	bench_report(br, "load1", load1(), "load", NULL);
	memset(&h, 0, sizeof(h));
	ret = siommu_ctx_create(&ctx);
	if (ret)
		return ret;
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	ret = setup(ctx, &iommu, &h, 1024);
	if (ret)
		goto out;

	measure(br, "rcu_section_urcu_inline", NULL, loop_rcu_inline, NULL, 0);
	measure(br, "rcu_section", "rcu_section_urcu_inline", loop_rcu_public, NULL, 0);
	measure(br, "vfu_hint_hit", NULL, loop_vfu_hit, &h, 0);
	measure(br, "translate_hit_one_page", "vfu_hint_hit", loop_hit, &h, 0);
	measure(br, "translate_rcu_hit_one_page", "vfu_hint_hit", loop_hit_rcu, &h, 0);
	for (i = 0; i < 2; i++) {
		h.nregions = nregions[i];
		snprintf(vs, sizeof(vs), "vfu_random_%ux1m", nregions[i]);
		measure(br, vs, NULL, loop_vfu_random, &h, 0);
		snprintf(name, sizeof(name), "translate_random_%ux1m", nregions[i]);
		measure(br, name, vs, loop_random, &h, 0);
	}
	measure(br, "raw_walk_4level", NULL, loop_raw_walk, &h, 0);
	measure(br, "translate_miss_hot_walk", "raw_walk_4level", loop_miss, &h, 0);
	h.dma_len = 64 * 1024;
	measure(br, "memcpy_64k", NULL, loop_memcpy, &h, h.dma_len);
	measure(br, "dma_read_64k", "memcpy_64k", loop_dma, &h, h.dma_len);
	h.dma_len = MIB;
	measure(br, "memcpy_1m", NULL, loop_memcpy, &h, h.dma_len);
	measure(br, "dma_read_1m", "memcpy_1m", loop_dma, &h, h.dma_len);
out:
	teardown(iommu, &h);
	siommu_ctx_destroy(ctx);
#ifdef BENCH_TWIN_PATH
	if (!ret && !getenv("SOFTIOMMU_BENCH_TWIN"))
		ret = run_twin(br);
#endif
	return ret;
}

const struct bench_group bench_group_hotpath = {
	.name = "hotpath",
	.help = "the hot-path table: read sections, translate, walk, DMA vs baselines (static and shared)",
	.run = run_hotpath,
};
