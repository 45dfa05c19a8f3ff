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
 *  - the baseline of the same run: a cold page-table walk, what a faulting
 *    device's first access costs: siommu_translate() of random pages of a
 *    4 GiB mapping with 4 KiB leaves (1 Mi leaf entries in 2048 leaf tables,
 *    8 MiB of them: four times this machine's per-core L2, and far more
 *    than the IOTLB holds), each address depending on the previous answer
 *    (a latency chain, as a device's walks are: no two overlap).  The table
 *    pages come from the last-level cache or memory, never L1/L2-warm.
 *    walk_hot_64k, for comparison with earlier figures: the walk this bench
 *    called cold before (random pages of a 64 Ki-page mapping, 512 KiB of
 *    leaf tables that stay cached, independent lookups that overlap).
 * Each case runs ROUNDS times; a row is the median of the rounds and a
 * "_best" row the best round (on a shared machine the best is the least
 * disturbed).  load1 is /proc/loadavg's first figure at the start.
 *  - the drain of a PASID with 0, 64 and 4096 groups pending (held by a
 *    handler that never answers; the drain answers them Invalid at once).
 *
 * Between passes over the backing range (outside the timed part) the range
 * is unmapped from the backing IOAS, which unmaps every page the resolver
 * mapped (through its access's callback), and mapped again: each request
 * is a first fault that looks the page up, pins and maps it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
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
#define WALK_BYTES	(4ull << 30)	/* the cold walk's mapping: 4 GiB of 4 KiB leaves */
#define WALK_CHUNK	(2ull << 20)	/* mapped 2 MiB at a time, onto 4 KiB-aligned memory */
#define WALK_IOVA	0x4000000000ull
#define ROUNDS		5

/*
 * An emulated device's client: it polls its response counter, and sleeps on
 * @cond only after polling 20 us (@sleeping set under @lock): the response
 * callback wakes it only then (both sides sequentially consistent: the
 * callback's store of @answered and load of @sleeping, the client's store of
 * @sleeping and load of @answered).
 */
struct client {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int answered;		/* atomic */
	unsigned int sleeping;		/* atomic; set and cleared under lock */
} __attribute__((aligned(64)));

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
	__atomic_fetch_add(&c->answered, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->sleeping, __ATOMIC_SEQ_CST)) {
		pthread_mutex_lock(&c->lock);
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
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

	before = __atomic_load_n(&c->answered, __ATOMIC_ACQUIRE);
	t0 = bench_now_ns();
	if (siommu_iopf_report(b->iopf, b->dev, &r) != 0)
		return -1;
	if (b->manual)
		siommu_iopf_process(b->iopf, 0);
	/*
	 * A device polls for its response a little before it sleeps (after
	 * 2 us between yields, as the workers: on a machine with more
	 * runnable threads than CPUs the worker gets to run).
	 */
	for (;;) {
		double w;

		if (__atomic_load_n(&c->answered, __ATOMIC_ACQUIRE) != before)
			break;
		w = bench_now_ns() - t0;
		if (w >= 20000)
			break;
		if (w >= 2000)
			sched_yield();
	}
	if (__atomic_load_n(&c->answered, __ATOMIC_ACQUIRE) == before) {
		pthread_mutex_lock(&c->lock);
		__atomic_store_n(&c->sleeping, 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&c->answered, __ATOMIC_SEQ_CST) == before)
			pthread_cond_wait(&c->cond, &c->lock);
		__atomic_store_n(&c->sleeping, 0, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&c->lock);
	}
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

static double median_of(double *v, unsigned int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return v[n / 2];
}

/* Report @v[0..ROUNDS-1] as @what_@name (the median) and @what_@name_best. */
static void report_rounds(struct bench_run *br, const char *what, const char *name,
			  double *v, const char *unit, const char *vs, bool higher_better)
{
	char cname[96];

	qsort(v, ROUNDS, sizeof(double), cmp_double);
	snprintf(cname, sizeof(cname), "%s_%s", what, name);
	bench_report(br, cname, v[ROUNDS / 2], unit, vs);
	snprintf(cname, sizeof(cname), "%s_%s_best", what, name);
	bench_report(br, cname, higher_better ? v[ROUNDS - 1] : v[0], unit, vs);
}

/* Unmap the backing range from the IOAS and map it again (between passes). */
static int remap_backing(struct siommu_ioas *backing, struct siommu_ioas_mem *m)
{
	uint64_t iova = IOVA;

	if (siommu_ioas_unmap(backing, IOVA, (uint64_t)NPAGES * PG, NULL))
		return -EIO;
	return siommu_ioas_map(backing, m, (uint64_t)NPAGES * PG,
			       SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_FIXED_IOVA, &iova);
}

/*
 * Faults per second with @workers handler threads (0: MANUAL), ROUNDS
 * rounds of passes over the whole backing range.  Between passes (not
 * timed) the backing range is unmapped from the IOAS, which unmaps what
 * the resolver mapped (its access's callback), and mapped again: every
 * request of a pass is a first fault of its page.
 */
static int bench_faults(struct bench_run *br, struct siommu_iommu *iommu,
			struct siommu_ioas *backing, struct siommu_ioas_mem *m,
			unsigned int workers, const char *name)
{
	struct siommu_iopf_cfg cfg = {
		.mode = workers ? SIOMMU_IOPF_MODE_WORKERS : SIOMMU_IOPF_MODE_MANUAL,
		.workers = workers,
	};
	struct siommu_domain_cfg dcfg = { .type = SIOMMU_DOMAIN_PAGING,
					  .fmt = SIOMMU_PT_FMT_X86_64 };
	double secs = bench_seconds(br) / ROUNDS;
	double fps[ROUNDS], med[ROUNDS], p99[ROUNDS];
	struct fb *b = calloc(1, sizeof(*b));
	unsigned int i, rd;
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
	for (rd = 0; !ret && rd < ROUNDS; rd++) {
		double spent = 0, busy = 0;
		uint64_t n;

		b->nlat = 0;
		while (!ret && spent < secs) {
			double t0 = bench_now_ns(), rate;
			uint64_t n0 = b->nlat;

			b->next_page = 0;
			/* manual mode: one client (the caller is the PRQ's consumer) */
			rate = bench_threads(workers ? NCLIENTS : 1, secs - spent, loop_faults, b);
			spent += (bench_now_ns() - t0) * 1e-9;
			/*
			 * faults/s over the clients' own run time (bench_threads()'s
			 * rate): the start and exit of a pass's client threads are
			 * not part of a fault.
			 */
			if (rate > 0)
				busy += (double)(b->nlat - n0) / rate;
			ret = remap_backing(backing, m);
		}
		if (ret || b->errors || !b->nlat) {
			ret = ret ? ret : -EIO;
			break;
		}
		n = b->nlat < MAXSAMPLES ? b->nlat : MAXSAMPLES;
		qsort(b->lat, n, sizeof(double), cmp_double);
		fps[rd] = busy > 0 ? (double)b->nlat / busy : 0;
		med[rd] = b->lat[n / 2];
		p99[rd] = b->lat[(n * 99) / 100];
	}
	if (!ret) {
		report_rounds(br, "faults_per_s", name, fps, "faults/s", NULL, true);
		report_rounds(br, "round_trip_median", name, med, "ns", "walk_cold", false);
		report_rounds(br, "round_trip_p99", name, p99, "ns", "walk_cold", false);
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

/*
 * The baseline: a cold walk (see the top).  The 4 GiB are mapped 2 MiB at a
 * time onto 4 KiB-aligned but not 2 MiB-aligned addresses inside @mem, so
 * the table has 4 KiB leaves only; each next address is drawn from a
 * generator fed with the previous translation's answer.
 */
static int bench_walk(struct bench_run *br, struct siommu_iommu *iommu, uint8_t *mem,
		      uint64_t bytes, bool chain, const char *name)
{
	struct siommu_domain_cfg dcfg = { .type = SIOMMU_DOMAIN_PAGING,
					  .fmt = SIOMMU_PT_FMT_X86_64 };
	const uint64_t npages = bytes / PG;
	char cname[64];
	struct siommu_translation tr = { 0 };
	struct siommu_domain *dom = NULL;
	struct siommu_device *dev = NULL;
	uint64_t x = 88172645463325252ull, n, i;
	double t0, v[ROUNDS];
	int ret, rd;

	ret = siommu_domain_create(iommu, &dcfg, &dom);
	ret = ret ? ret : siommu_device_create(iommu, SIOMMU_RID(0, 9, 31, 0), 0, 0, &dev);
	ret = ret ? ret : siommu_device_attach(dev, dom);
	for (i = 0; !ret && i < bytes / WALK_CHUNK; i++)
		ret = siommu_domain_map(dom, WALK_IOVA + i * WALK_CHUNK,
					(uint64_t)(uintptr_t)mem + PG + (i % 31) * WALK_CHUNK,
					WALK_CHUNK, SIOMMU_PT_READ);
	for (rd = 0; !ret && rd < ROUNDS; rd++) {
		n = 0;
		t0 = bench_now_ns();
		while (bench_now_ns() - t0 < bench_seconds(br) * 1e9 / ROUNDS) {
			for (i = 0; i < 1024; i++) {
				if (chain)
					x ^= tr.pa;	/* the next address depends on this answer */
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				if (siommu_translate(dev, 0, WALK_IOVA + (x % npages) * PG,
						     SIOMMU_ACC_READ, &tr))
					ret = -EIO;
			}
			n += 1024;
		}
		v[rd] = (bench_now_ns() - t0) / (double)n;
	}
	if (!ret) {
		qsort(v, ROUNDS, sizeof(double), cmp_double);
		bench_report(br, name, v[ROUNDS / 2], "ns", NULL);
		snprintf(cname, sizeof(cname), "%s_best", name);
		bench_report(br, cname, v[0], "ns", NULL);
	}
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
	double med;
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
		med = median_of(samples, 7);
		snprintf(cname, sizeof(cname), "drain_%u_groups", groups);
		bench_report(br, cname, med / 1000.0, "us", NULL);
		snprintf(cname, sizeof(cname), "drain_%u_groups_best", groups);
		bench_report(br, cname, samples[0] / 1000.0, "us", NULL);
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

static int iopf_bench_run(struct bench_run *br)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8, .prq_size = 256 };
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST };
	struct siommu_ioas_layer *l = NULL;
	struct siommu_ioas *backing = NULL;
	struct siommu_iommu *iommu = NULL;
	struct siommu_ctx *ctx = NULL;
	uint64_t iova = IOVA;
	uint8_t *mem;
	int ret;

	mem = mmap(NULL, (size_t)NPAGES * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	memset(mem, 1, (size_t)NPAGES * PG);
	bench_report(br, "load1", load1(), "load", NULL);
	m.host = mem;
	ret = siommu_ctx_create(&ctx);
	ret = ret ? ret : siommu_iommu_create(ctx, &caps, NULL, &iommu);
	ret = ret ? ret : siommu_ioas_layer_create(ctx, iommu, &l);
	ret = ret ? ret : siommu_ioas_create(l, &backing);
	ret = ret ? ret : siommu_ioas_map(backing, &m, (uint64_t)NPAGES * PG,
					  SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_FIXED_IOVA, &iova);
	ret = ret ? ret : bench_walk(br, iommu, mem, WALK_BYTES, true, "walk_cold");
	/* what walk_cold was before: tables that stay cached, lookups that overlap */
	ret = ret ? ret : bench_walk(br, iommu, mem, 65536 * PG, false, "walk_hot_64k");
	ret = ret ? ret : bench_faults(br, iommu, backing, &m, 1, "1_worker");
	ret = ret ? ret : bench_faults(br, iommu, backing, &m, 2, "2_workers");
	ret = ret ? ret : bench_faults(br, iommu, backing, &m, 0, "caller_processes");
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
