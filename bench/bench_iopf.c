// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * iopf benchmarks (seed 002):
 *
 *  - faults handled per second end to end (page request -> PRQ -> group ->
 *    resolve-by-mapping handler -> siommu_domain_map() -> PRG response),
 *    with the handler on a pool of 1 and of 2 worker threads, driven by two
 *    client threads that each keep one group in flight and wait for its
 *    response; and with the caller processing its own request (MANUAL mode,
 *    no thread hand-off).  Median and 99th-percentile round trips of each.
 *  - the baseline of the same run: a cold page-table walk (siommu_translate()
 *    of random pages of a 64 Ki-page mapping, far more than the IOTLB holds,
 *    so nearly every translation walks the table).
 *  - the drain of a PASID with 0, 64 and 4096 groups pending (held by a
 *    handler that never answers; the drain answers them Invalid at once).
 *
 * Every faulting page is unmapped again between passes (outside the timed
 * part), so each request is a real miss that maps a page.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"
#include <softiommu/softiommu.h>

#define PG		4096ull
#define NPAGES		16384u		/* backing pages: 64 MiB */
#define IOVA		0x100000000ull
#define NCLIENTS	2
#define MAXSAMPLES	(1u << 18)
#define WALK_PAGES	65536u

struct client {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int answered;		/* [lock]; polled with atomic loads */
};

struct fb {
	struct siommu_iopf *iopf;
	struct siommu_device *dev;
	struct siommu_domain *dom;
	bool manual;
	struct client c[NCLIENTS];
	double *lat;			/* ns per round trip */
	uint64_t nlat;			/* atomic */
	uint64_t errors;		/* atomic */
	uint64_t next_page;		/* atomic: pages handed out this pass */
};

static void on_response(void *opaque, struct siommu_device *dev,
			const struct siommu_page_response *r)
{
	struct fb *b = opaque;
	struct client *c = &b->c[r->prgi % NCLIENTS];

	(void)dev;
	if (r->code != SIOMMU_PAGE_RESP_SUCCESS)
		__atomic_fetch_add(&b->errors, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->answered, c->answered + 1, __ATOMIC_RELEASE);
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* One round trip of client @id for page @p; its latency in ns. */
static double round_trip(struct fb *b, unsigned int id, uint64_t p)
{
	struct client *c = &b->c[id];
	struct siommu_page_request r = {
		.addr = IOVA + p * PG, .access = SIOMMU_ACC_READ, .flags = SIOMMU_PRQ_LAST,
		.prgi = (uint16_t)id,
	};
	unsigned int before;
	double t0;

	pthread_mutex_lock(&c->lock);
	before = c->answered;
	pthread_mutex_unlock(&c->lock);
	t0 = bench_now_ns();
	if (siommu_iopf_report(b->iopf, b->dev, &r) != 0)
		return -1;
	if (b->manual)
		siommu_iopf_process(b->iopf, 0);
	/* a device polls for its response a little before it sleeps */
	while (__atomic_load_n(&c->answered, __ATOMIC_ACQUIRE) == before &&
	       bench_now_ns() - t0 < 20000)
		;
	pthread_mutex_lock(&c->lock);
	while (c->answered == before)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	return bench_now_ns() - t0;
}

static uint64_t loop_faults(struct bench_thread *t)
{
	struct fb *b = t->arg;
	uint64_t n = 0;

	while (!bench_should_stop(t)) {
		uint64_t p = __atomic_fetch_add(&b->next_page, 1, __ATOMIC_RELAXED);
		uint64_t k;
		double ns;

		if (p >= NPAGES)
			break;		/* the pass is over: every page mapped */
		ns = round_trip(b, t->id, p);
		if (ns < 0) {
			__atomic_fetch_add(&b->errors, 1, __ATOMIC_RELAXED);
			break;
		}
		k = __atomic_fetch_add(&b->nlat, 1, __ATOMIC_RELAXED);
		if (k < MAXSAMPLES)
			b->lat[k] = ns;
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
 * Faults per second with @workers handler threads (0: MANUAL), over passes
 * of the whole backing range; each pass unmaps what the last one mapped.
 */
static int bench_faults(struct bench_run *br, struct siommu_iommu *iommu,
			struct siommu_ioas *backing, unsigned int workers, const char *name,
			double *median_out)
{
	struct siommu_iopf_cfg cfg = {
		.mode = workers ? SIOMMU_IOPF_MODE_WORKERS : SIOMMU_IOPF_MODE_MANUAL,
		.workers = workers,
	};
	struct siommu_domain_cfg dcfg = { .type = SIOMMU_DOMAIN_PAGING,
					  .fmt = SIOMMU_PT_FMT_X86_64 };
	double secs = bench_seconds(br), spent = 0;
	struct fb *b = calloc(1, sizeof(*b));
	char cname[96];
	unsigned int i;
	int ret;

	if (!b)
		return -ENOMEM;
	b->lat = calloc(MAXSAMPLES, sizeof(double));
	if (!b->lat) {
		free(b);
		return -ENOMEM;
	}
	b->manual = !workers;
	for (i = 0; i < NCLIENTS; i++) {
		pthread_mutex_init(&b->c[i].lock, NULL);
		pthread_cond_init(&b->c[i].cond, NULL);
	}
	ret = siommu_iopf_create(iommu, &cfg, &b->iopf);
	ret = ret ? ret : siommu_device_create(iommu, SIOMMU_RID(0, 9, workers, 0), SIOMMU_DEV_PRI,
					       0, &b->dev);
	ret = ret ? ret : siommu_domain_create(iommu, &dcfg, &b->dom);
	ret = ret ? ret : siommu_iopf_domain_set_resolver(b->iopf, b->dom, backing);
	ret = ret ? ret : siommu_iopf_device_enable(b->iopf, b->dev, on_response, b);
	ret = ret ? ret : siommu_device_attach(b->dev, b->dom);
	while (!ret && spent < secs) {
		double t0 = bench_now_ns();

		b->next_page = 0;
		/* manual mode: one client (the caller is the PRQ's consumer) */
		bench_threads(workers ? NCLIENTS : 1, secs - spent, loop_faults, b);
		spent += (bench_now_ns() - t0) * 1e-9;
		if (siommu_domain_unmap(b->dom, IOVA, (uint64_t)NPAGES * PG) < 0)
			ret = -EIO;
	}
	if (!ret && !b->errors && b->nlat) {
		uint64_t n = b->nlat < MAXSAMPLES ? b->nlat : MAXSAMPLES;

		qsort(b->lat, n, sizeof(double), cmp_double);
		snprintf(cname, sizeof(cname), "faults_per_s_%s", name);
		bench_report(br, cname, (double)b->nlat / spent, "faults/s", NULL);
		snprintf(cname, sizeof(cname), "round_trip_median_%s", name);
		bench_report(br, cname, b->lat[n / 2], "ns", "walk_cold");
		*median_out = b->lat[n / 2];
		snprintf(cname, sizeof(cname), "round_trip_p99_%s", name);
		bench_report(br, cname, b->lat[(n * 99) / 100], "ns", "walk_cold");
	} else if (!ret) {
		ret = -EIO;
	}
	siommu_device_detach(b->dev);
	siommu_iopf_device_disable(b->iopf, b->dev);
	siommu_iopf_domain_clear_handler(b->iopf, b->dom);
	siommu_domain_destroy(b->dom);
	siommu_device_destroy(b->dev);
	siommu_iopf_destroy(b->iopf);
	for (i = 0; i < NCLIENTS; i++) {
		pthread_mutex_destroy(&b->c[i].lock);
		pthread_cond_destroy(&b->c[i].cond);
	}
	free(b->lat);
	free(b);
	return ret;
}

/* The baseline: translations that miss the IOTLB and walk the table. */
static int bench_walk(struct bench_run *br, struct siommu_iommu *iommu, uint8_t *mem)
{
	struct siommu_domain_cfg dcfg = { .type = SIOMMU_DOMAIN_PAGING,
					  .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_translation tr;
	struct siommu_domain *dom = NULL;
	struct siommu_device *dev = NULL;
	double t0, best = 0;
	uint64_t x = 88172645463325252ull, n, i;
	int ret, rep;

	ret = siommu_domain_create(iommu, &dcfg, &dom);
	ret = ret ? ret : siommu_device_create(iommu, SIOMMU_RID(0, 9, 31, 0), 0, 0, &dev);
	ret = ret ? ret : siommu_device_attach(dev, dom);
	/* 4 KiB pages (the table has a leaf per page): 64 Ki pages over 16 Ki host pages */
	for (i = 0; !ret && i < WALK_PAGES; i++)
		ret = siommu_domain_map(dom, IOVA + i * PG,
					(uint64_t)(uintptr_t)(mem + (i % NPAGES) * PG), PG,
					SIOMMU_PT_READ);
	for (rep = 0; !ret && rep < 3; rep++) {
		n = 0;
		t0 = bench_now_ns();
		while (bench_now_ns() - t0 < bench_seconds(br) * 1e9 / 3) {
			for (i = 0; i < 1024; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				if (siommu_translate(dev, 0, IOVA + (x % WALK_PAGES) * PG,
						     SIOMMU_ACC_READ, &tr))
					ret = -EIO;
				bench_keep(tr.pa);
			}
			n += 1024;
		}
		t0 = (bench_now_ns() - t0) / (double)n;
		if (!best || t0 < best)
			best = t0;
	}
	if (!ret)
		bench_report(br, "walk_cold", best, "ns", NULL);
	if (dev) {
		siommu_device_detach(dev);
		siommu_device_destroy(dev);
	}
	siommu_domain_destroy(dom);
	return ret;
}

/* A handler that keeps every group (never answers). */
struct holder {
	struct siommu_iopf_group **g;
	unsigned int n, max;
};

static int hold_handle(void *opaque, struct siommu_iopf_group *g)
{
	struct holder *h = opaque;

	if (h->n >= h->max)
		return SIOMMU_PAGE_RESP_INVALID;
	h->g[h->n++] = g;
	return SIOMMU_IOPF_ASYNC;
}

static void null_response(void *opaque, struct siommu_device *dev,
			  const struct siommu_page_response *r)
{
	(void)opaque;
	(void)dev;
	(void)r;
}

static const struct siommu_iopf_handler hold_ops = { .name = "hold", .handle = hold_handle };

static int bench_drain(struct bench_run *br, struct siommu_iommu *iommu, unsigned int groups)
{
	struct siommu_iopf_cfg cfg = { .mode = SIOMMU_IOPF_MODE_MANUAL,
				       .drain_timeout_ms = SIOMMU_IOPF_DRAIN_NOWAIT };
	struct siommu_domain_cfg dcfg = { .type = SIOMMU_DOMAIN_PAGING,
					  .fmt = SIOMMU_PT_FMT_X86_64 };
	struct holder h = { .max = groups ? groups : 1 };
	struct siommu_iopf *iopf = NULL;
	struct siommu_device *dev = NULL;
	struct siommu_domain *dom = NULL;
	double samples[7];
	char cname[64];
	unsigned int rep, i;
	int ret;

	h.g = calloc(h.max, sizeof(*h.g));
	if (!h.g)
		return -ENOMEM;
	ret = siommu_iopf_create(iommu, &cfg, &iopf);
	ret = ret ? ret : siommu_device_create(iommu, SIOMMU_RID(0, 10, 0, 0),
					       SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &dev);
	ret = ret ? ret : siommu_domain_create(iommu, &dcfg, &dom);
	ret = ret ? ret : siommu_iopf_domain_set_handler(iopf, dom, &hold_ops, &h);
	ret = ret ? ret : siommu_iopf_device_enable(iopf, dev, null_response, NULL);
	ret = ret ? ret : siommu_pasid_attach(dev, 1, dom);
	for (rep = 0; !ret && rep < 7; rep++) {
		double t0;

		h.n = 0;
		for (i = 0; !ret && i < groups; i++) {
			struct siommu_page_request r = {
				.addr = (uint64_t)i * PG, .access = SIOMMU_ACC_READ,
				.flags = SIOMMU_PRQ_PASID | SIOMMU_PRQ_LAST, .pasid = 1,
				.prgi = (uint16_t)(i % 512),
			};

			ret = siommu_iopf_report(iopf, dev, &r);
			if (i % 128 == 127 || i == groups - 1)
				siommu_iopf_process(iopf, 0);
		}
		t0 = bench_now_ns();
		if (!ret && siommu_iopf_drain(iopf, dev, 1) != (int)groups)
			ret = -EIO;
		samples[rep] = bench_now_ns() - t0;
		for (i = 0; i < h.n; i++)
			siommu_iopf_group_respond(h.g[i], SIOMMU_PAGE_RESP_SUCCESS);	/* late */
	}
	if (!ret) {
		qsort(samples, 7, sizeof(double), cmp_double);
		snprintf(cname, sizeof(cname), "drain_%u_groups", groups);
		bench_report(br, cname, samples[3] / 1000.0, "us", NULL);
	}
	if (dev) {
		siommu_pasid_detach(dev, 1);
		siommu_iopf_device_disable(iopf, dev);
	}
	siommu_iopf_domain_clear_handler(iopf, dom);
	siommu_domain_destroy(dom);
	siommu_device_destroy(dev);
	siommu_iopf_destroy(iopf);
	free(h.g);
	return ret;
}

static int iopf_bench_run(struct bench_run *br)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8, .prq_size = 256 };
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST };
	struct siommu_ioas_layer *l = NULL;
	struct siommu_ioas *backing = NULL;
	struct siommu_iommu *iommu = NULL;
	struct siommu_ctx *ctx = NULL;
	uint64_t iova = IOVA;
	double med;
	uint8_t *mem;
	int ret;

	mem = mmap(NULL, (size_t)NPAGES * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	memset(mem, 1, (size_t)NPAGES * PG);
	m.host = mem;
	ret = siommu_ctx_create(&ctx);
	ret = ret ? ret : siommu_iommu_create(ctx, &caps, NULL, &iommu);
	ret = ret ? ret : siommu_ioas_layer_create(ctx, iommu, &l);
	ret = ret ? ret : siommu_ioas_create(l, &backing);
	ret = ret ? ret : siommu_ioas_map(backing, &m, (uint64_t)NPAGES * PG,
					  SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_FIXED_IOVA, &iova);
	ret = ret ? ret : bench_walk(br, iommu, mem);
	ret = ret ? ret : bench_faults(br, iommu, backing, 1, "1_worker", &med);
	ret = ret ? ret : bench_faults(br, iommu, backing, 2, "2_workers", &med);
	ret = ret ? ret : bench_faults(br, iommu, backing, 0, "caller_processes", &med);
	ret = ret ? ret : bench_drain(br, iommu, 0);
	ret = ret ? ret : bench_drain(br, iommu, 64);
	ret = ret ? ret : bench_drain(br, iommu, 4096);
	siommu_ioas_destroy(backing);
	siommu_ioas_layer_destroy(l);
	siommu_iommu_destroy(iommu);
	siommu_ctx_destroy(ctx);
	munmap(mem, (size_t)NPAGES * PG);
	return ret;
}

const struct bench_group bench_group_iopf = {
	.name = "iopf",
	.help = "faults/s end to end (resolve by mapping) on 1 and 2 workers and in the caller, "
		"median/p99 round trip vs a cold page-table walk; drain with 0/64/4096 groups",
	.run = iopf_bench_run,
};
