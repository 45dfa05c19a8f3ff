// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ioas benchmarks: pin+unpin of 1 and 64 pages on 1 and 2 threads (each
 * thread its own access and area), unmap of a 1 GiB area with 0, 1 and 8
 * cooperating accesses holding a pin each, without a domain and with one
 * attached (its table holds the area in 4 KiB pages: the host memory is
 * placed 4 KiB past a 2 MiB boundary, so no larger page fits; the unmap
 * then clears 262144 entries and frees 512 table pages after a grace
 * period), and the bookkeeping per pinned page.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"
#include <softiommu/softiommu.h>
#include "ioas/ioas_internal.h"

#define PG		4096ull
#define AREA_PG		64
#define GIB		(1ull << 30)

struct ioas_bench {
	struct siommu_ioas *ioas;
	struct siommu_ioas_access *acc[8];
	unsigned int npages;		/* pages per pin */
	uint64_t pinned[8];		/* the accesses' pins (unmap case) */
	uint64_t ops[2];		/* per thread, last run */
	double cpu_ns[2];		/* per thread CPU time, last run */
};

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * Operations per second if each thread had a core of its own: the ops of
 * all threads over the largest per-thread CPU time.  On a shared, loaded
 * machine the wall-clock ratio mostly measures the load; this one measures
 * what the threads cost each other (cache lines, lock spinning).  It
 * flatters a design whose threads sleep on a lock (asleep costs no CPU),
 * so it is reported beside the wall-clock figure, not instead of it.
 */
static double cpu_rate(const struct ioas_bench *b, unsigned int nthreads)
{
	double ops = 0, cpu = 0;

	for (unsigned int i = 0; i < nthreads; i++) {
		ops += (double)b->ops[i];
		if (b->cpu_ns[i] > cpu)
			cpu = b->cpu_ns[i];
	}
	return cpu > 0 ? ops / (cpu / 1e9) : 0;
}

static void noop_cb(void *opaque, uint64_t iova, uint64_t length)
{
	(void)opaque;
	(void)iova;
	(void)length;
}

static uint64_t loop_pin(struct bench_thread *t)
{
	struct ioas_bench *b = t->arg;
	uint64_t iova = (uint64_t)(t->id + 1) << 32, n = 0;
	void *pages[AREA_PG];
	double c0 = thread_cpu_ns();

	while (!bench_should_stop(t)) {
		for (unsigned int i = 0; i < 64; i++) {
			if (siommu_ioas_access_pin(b->acc[t->id], iova, b->npages * PG, 0, pages) ||
			    siommu_ioas_access_unpin(b->acc[t->id], iova, b->npages * PG))
				return 0;
		}
		n += 64;
	}
	b->cpu_ns[t->id] = thread_cpu_ns() - c0;
	b->ops[t->id] = n;
	return n;
}

/* The cooperative accesses of the unmap case unpin their one page. */
static void unpin_cb(void *opaque, uint64_t iova, uint64_t length)
{
	uint64_t *slot = opaque;
	struct siommu_ioas_access **acc = (struct siommu_ioas_access **)(slot + 1);

	(void)iova;
	(void)length;
	if (*slot && !siommu_ioas_access_unpin(*acc, *slot, PG))
		*slot = 0;
}

/* ns per unmap of a 1 GiB area with @nacc accesses pinning one page each. */
static double unmap_1g(struct bench_run *br, struct siommu_ioas *ioas, void *mem,
		       unsigned int nacc)
{
	struct { uint64_t iova; struct siommu_ioas_access *acc; } slot[8];
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST, .host = mem };
	double total = 0, deadline = bench_now_ns() + bench_seconds(br) * 1e9;
	unsigned int i, rounds = 0;
	void *page;

	for (i = 0; i < nacc; i++)
		if (siommu_ioas_access_create(ioas, "bench", unpin_cb, &slot[i], 0, &slot[i].acc))
			return -1;
	do {
		uint64_t iova = GIB;
		double t0;

		if (siommu_ioas_map(ioas, &m, GIB, SIOMMU_IOAS_MAP_READ |
				    SIOMMU_IOAS_MAP_WRITE | SIOMMU_IOAS_MAP_FIXED_IOVA, &iova))
			return -1;
		for (i = 0; i < nacc; i++) {
			slot[i].iova = iova + (uint64_t)i * 16 * PG;
			if (siommu_ioas_access_pin(slot[i].acc, slot[i].iova, PG, 0, &page))
				return -1;
		}
		t0 = bench_now_ns();
		if (siommu_ioas_unmap(ioas, iova, GIB, NULL))
			return -1;
		total += bench_now_ns() - t0;
		rounds++;
	} while (bench_now_ns() < deadline || rounds < 3);
	for (i = 0; i < nacc; i++)
		siommu_ioas_access_destroy(slot[i].acc);
	return total / rounds;
}

static int ioas_bench_run(struct bench_run *br)
{
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_ioas_layer *l;
	struct ioas_bench b = { 0 };
	double s = bench_seconds(br), one, two, v0, v1, v8, d0, d1, d8;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_device *dev = NULL;
	struct siommu_domain *dom = NULL;
	void *mem, *gib, *gib4k;
	unsigned int i;
	int ret = -ENOMEM;

	if (siommu_ctx_create(&ctx))
		return -ENOMEM;
	if (siommu_iommu_create(ctx, NULL, NULL, &iommu) ||
	    siommu_ioas_layer_create(ctx, iommu, &l) || siommu_ioas_create(l, &b.ioas))
		return -ENOMEM;
	mem = aligned_alloc(PG, 2 * AREA_PG * PG);
	gib = mmap(NULL, GIB + (4ull << 20), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!mem || gib == MAP_FAILED)
		goto out;
	gib4k = (void *)((((uintptr_t)gib + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1)) + PG);
	for (i = 0; i < 2; i++) {
		struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST,
					     .host = (char *)mem + i * AREA_PG * PG };
		uint64_t iova = (uint64_t)(i + 1) << 32;

		if (siommu_ioas_map(b.ioas, &m, AREA_PG * PG, SIOMMU_IOAS_MAP_READ |
				    SIOMMU_IOAS_MAP_FIXED_IOVA, &iova) ||
		    siommu_ioas_access_create(b.ioas, "bench", noop_cb, NULL, 0, &b.acc[i]))
			goto out;
	}
	for (b.npages = 1; b.npages <= 64; b.npages *= 64) {
		char name1[48], name2[48], cname1[56], cname2[56];
		double cone, ctwo;

		snprintf(name1, sizeof(name1), "pin_unpin_%upages_1thread", b.npages);
		snprintf(name2, sizeof(name2), "pin_unpin_%upages_2threads", b.npages);
		snprintf(cname1, sizeof(cname1), "pin_unpin_%upages_1thread_cpu", b.npages);
		snprintf(cname2, sizeof(cname2), "pin_unpin_%upages_2threads_cpu", b.npages);
		one = bench_threads(1, s, loop_pin, &b);
		cone = cpu_rate(&b, 1);
		two = bench_threads(2, s, loop_pin, &b);
		ctwo = cpu_rate(&b, 2);
		bench_report(br, name1, one, "ops/s", NULL);
		bench_report(br, name2, two, "ops/s", name1);
		bench_report(br, cname1, cone, "ops/cpu-s", NULL);
		bench_report(br, cname2, ctwo, "ops/cpu-s", cname1);
	}
	v0 = unmap_1g(br, b.ioas, gib4k, 0);
	v1 = unmap_1g(br, b.ioas, gib4k, 1);
	v8 = unmap_1g(br, b.ioas, gib4k, 8);
	if (v0 < 0 || v1 < 0 || v8 < 0)
		goto out;
	bench_report(br, "unmap_1g_0accesses", v0 / 1e3, "us/op", NULL);
	bench_report(br, "unmap_1g_1access", v1 / 1e3, "us/op", "unmap_1g_0accesses");
	bench_report(br, "unmap_1g_8accesses", v8 / 1e3, "us/op", "unmap_1g_0accesses");
	/* The same with a domain attached: its table is filled and emptied too. */
	if (siommu_ioas_domain_alloc(b.ioas, &cfg, &dom) ||
	    siommu_device_create(iommu, SIOMMU_RID(0, 0, 1, 0), 0, 0, &dev) ||
	    siommu_device_attach(dev, dom))
		goto out;
	d0 = unmap_1g(br, b.ioas, gib4k, 0);
	d1 = unmap_1g(br, b.ioas, gib4k, 1);
	d8 = unmap_1g(br, b.ioas, gib4k, 8);
	if (d0 < 0 || d1 < 0 || d8 < 0)
		goto out;
	bench_report(br, "unmap_1g_domain_0accesses", d0 / 1e3, "us/op", "unmap_1g_0accesses");
	bench_report(br, "unmap_1g_domain_1access", d1 / 1e3, "us/op",
		     "unmap_1g_domain_0accesses");
	bench_report(br, "unmap_1g_domain_8accesses", d8 / 1e3, "us/op",
		     "unmap_1g_domain_0accesses");
	/* By construction: a count per page, a record per pin call. */
	bench_report(br, "bytes_per_pinned_page_1page_pins",
		     (double)(sizeof(uint32_t) + sizeof(struct ioas_pin)), "bytes", NULL);
	bench_report(br, "bytes_per_pinned_page_64page_pins",
		     sizeof(uint32_t) + (double)sizeof(struct ioas_pin) / 64, "bytes", NULL);
	ret = 0;
out:
	if (dev) {
		siommu_device_detach(dev);
		siommu_device_destroy(dev);
	}
	siommu_ioas_domain_free(l, dom);
	for (i = 0; i < 2; i++)
		siommu_ioas_access_destroy(b.acc[i]);
	siommu_ioas_destroy(b.ioas);
	siommu_ioas_layer_destroy(l);
	siommu_iommu_destroy(iommu);
	siommu_ctx_destroy(ctx);
	if (gib != MAP_FAILED)
		munmap(gib, GIB + (4ull << 20));
	free(mem);
	return ret;
}

const struct bench_group bench_group_ioas = {
	.name = "ioas",
	.help = "pin+unpin 1/64 pages on 1 and 2 threads; unmap of 1 GiB with 0/1/8 pinning accesses, without and with a domain attached; bytes per pinned page",
	.run = ioas_bench_run,
};
