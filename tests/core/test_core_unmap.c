// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Regression tests of core's unmap, flush-queue and revoke paths, and the
 * page-table extension points they use:
 *  - a revoke never waits for a grace period under a lock a reader takes
 *    (a reader calling siommu_device_find() and siommu_domain_create()
 *    inside its section while a region is revoked: no hang);
 *  - a map racing a revoke never survives it; a revoked region cannot be
 *    mapped (-ENODEV);
 *  - a caller-owned table cannot be destroyed under a live domain;
 *  - each lazy domain drains within its own timeout, whatever the others';
 *  - dma_unmap: a second unmap of the same IOVA is refused and never
 *    releases a later owner's IOVA; a partial dma_unmap is refused;
 *  - domain ids are recycled, and no stale IOTLB entry reaches the new
 *    domain of an id;
 *  - a revocation owner is told instead of core tearing its mappings down;
 *  - siommu_pt_invalidate_begin/end move the level lookup's sequence;
 *  - a map whose commit loses against a concurrent writer (-EEXIST after
 *    writing leaves) rolls back inside an invalidation: the sequence moves
 *    and the IOTLB is invalidated.
 * Tests that could hang on a regression run under a 20 s watchdog.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "test_common.h"

#include <softiommu/core.h>
#include <softiommu/iotlb.h>
#include <softiommu/mem.h>
#include "siommu_config.h"
#include "core/core_internal.h"
#include "pgtable/pt_internal.h"

#define PG	4096ull
#define RW	(SIOMMU_PT_READ | SIOMMU_PT_WRITE)
#define WATCHDOG_S	20

static const char *watchdog_what = "";

static void watchdog_fired(int sig)
{
	static const char msg[] = "# WATCHDOG: no progress for 20 s (a deadlock): ";
	ssize_t r;

	(void)sig;
	r = write(2, msg, sizeof(msg) - 1);
	r = write(2, watchdog_what, strlen(watchdog_what));
	r = write(2, "\n", 1);
	(void)r;
	_exit(1);
}

static void watchdog_arm(const char *what)
{
	watchdog_what = what;
	signal(SIGALRM, watchdog_fired);
	alarm(WATCHDOG_S);
}

static void watchdog_disarm(void)
{
	alarm(0);
}

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

struct fx {
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
};

static void fx_init(struct fx *f, const struct siommu_iommu_caps *caps, bool mem)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(siommu_ctx_create(&f->ctx), 0);
	siommu_ctx_set_log(f->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	if (mem)
		assert_int_equal(siommu_mem_create(f->ctx, &f->mem), 0);
	assert_int_equal(siommu_iommu_create(f->ctx, caps, f->mem, &f->iommu), 0);
	assert_int_equal(siommu_device_create(f->iommu, SIOMMU_RID(0, 0, 1, 0), 0, 0,
					      &f->dev), 0);
}

static void fx_fini(struct fx *f)
{
	siommu_device_detach(f->dev);
	assert_int_equal(siommu_device_destroy(f->dev), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	if (f->mem)
		assert_int_equal(siommu_mem_destroy(f->mem), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
}

static struct siommu_domain *paging(struct fx *f, enum siommu_unmap_mode mode,
				    uint32_t timeout_ms, struct siommu_pt *pt)
{
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
		.unmap_mode = mode, .fq_timeout_ms = timeout_ms, .pt = pt,
		.fq_batch = 1000,
	};
	struct siommu_domain *d;

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	return d;
}

/* ------------------------------------------------------------------ A */

struct reader_arg {
	struct fx *f;
	int stop;		/* atomic */
	int inside;		/* atomic: in its read-side section */
	unsigned long finds;
};

/*
 * A reader that calls siommu_device_find() and siommu_domain_create() (both
 * take iommu->lock) inside long read-side sections, as a user may.
 */
static void *reader_main(void *p)
{
	struct reader_arg *a = p;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_BLOCKED };
	struct siommu_domain *d;

	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
		double end = test_now_s() + 0.2;

		siommu_read_lock();
		__atomic_store_n(&a->inside, 1, __ATOMIC_RELEASE);
		while (test_now_s() < end && !__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
			thread_assert_true(siommu_device_find(a->f->iommu,
							      SIOMMU_RID(0, 0, 1, 0)) == a->f->dev);
			a->finds++;
		}
		thread_assert_int_equal(siommu_domain_create(a->f->iommu, &cfg, &d), 0);
		__atomic_store_n(&a->inside, 0, __ATOMIC_RELEASE);
		siommu_read_unlock();
		thread_assert_int_equal(siommu_domain_destroy(d), 0);
	}
	return NULL;
}

/*
 * The reproduction of bug A: a small caller-owned pool, so that the pages a
 * revoke unmaps pass a quarter of it while a reader holds its section; the
 * old gather sync then waited for a grace period under iommu->lock, and the
 * reader, inside its section, blocked on iommu->lock: a deadlock.
 */
static void test_core_revoke_does_not_wait_under_reader_locks(void **state)
{
	struct siommu_iommu_caps caps = { .pgsize_bitmap = SIOMMU_PT_SZ_4K };
	struct siommu_pt_cfg pcfg = { .fmt = SIOMMU_PT_FMT_X86_64, .max_table_pages = 16,
				      .pgsize_bitmap = SIOMMU_PT_SZ_4K };
	struct reader_arg ra = { 0 };
	struct siommu_mem_region *r;
	struct siommu_domain *d;
	struct siommu_pt *pt;
	pthread_t th;
	unsigned int round, k;
	struct fx f;

	watchdog_arm("revoke vs a reader calling siommu_device_find() in its section");
	fx_init(&f, &caps, true);
	ra.f = &f;
	assert_int_equal(pthread_create(&th, NULL, reader_main, &ra), 0);
	for (round = 0; round < 4; round++) {
		assert_int_equal(siommu_pt_create(f.ctx, &pcfg, &pt), 0);
		d = paging(&f, SIOMMU_UNMAP_STRICT, 0, pt);
		assert_int_equal(siommu_device_attach(f.dev, d), 0);
		assert_int_equal(siommu_mem_add_ram(f.mem, 0x1000000, 0x200000, &r), 0);
		/*
		 * Five 2 MiB mappings of 4 KiB pages, each in its own 1 GiB:
		 * the revoke detaches five leaf tables, more than a quarter of
		 * the 16-page pool, while the reader holds its section.
		 */
		for (k = 0; k < 5; k++)
			assert_int_equal(siommu_domain_map(d, (uint64_t)(k + 1) << 30,
							   0x1000000, 0x200000, RW), 0);
		while (!__atomic_load_n(&ra.inside, __ATOMIC_ACQUIRE))
			usleep(100);	/* the reader is in its section */
		assert_int_equal(siommu_mem_region_revoke(r), 0);
		for (k = 0; k < 5; k++)
			assert_int_equal(siommu_pt_iova_to_phys(pt, (uint64_t)(k + 1) << 30,
								&(uint64_t){ 0 }), -ENOENT);
		assert_int_equal(siommu_mem_region_destroy(r), 0);
		assert_int_equal(siommu_device_detach(f.dev), 0);
		assert_int_equal(siommu_domain_destroy(d), 0);
		assert_int_equal(siommu_pt_destroy(pt), 0);
	}
	__atomic_store_n(&ra.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_true(ra.finds > 0);
	fx_fini(&f);
	watchdog_disarm();
}

/* ------------------------------------------------------------------ D */

static void test_core_map_of_revoked_region_is_enodev(void **state)
{
	struct siommu_mem_region *r, *r2;
	struct siommu_domain *d;
	struct siommu_translation t;
	uint64_t iova;
	struct fx f;

	fx_init(&f, NULL, true);
	d = paging(&f, SIOMMU_UNMAP_STRICT, 0, NULL);
	assert_int_equal(siommu_device_attach(f.dev, d), 0);
	assert_int_equal(siommu_mem_add_ram(f.mem, 0x100000, 0x10000, &r), 0);
	assert_int_equal(siommu_mem_add_ram(f.mem, 0x110000, 0x10000, &r2), 0);
	assert_int_equal(siommu_mem_region_revoke(r), 0);
	/* Inside the region, straddling into it, and through dma_map. */
	assert_int_equal(siommu_domain_map(d, 0x10000000, 0x100000, PG, RW), -ENODEV);
	assert_int_equal(siommu_domain_map(d, 0x10000000, 0x10f000, 2 * PG, RW), -ENODEV);
	assert_int_equal(siommu_domain_dma_map(d, 0x104000, PG, RW, UINT64_MAX, &iova),
			 -ENODEV);
	assert_int_equal(siommu_translate(f.dev, 0, 0x10000000, SIOMMU_ACC_READ, &t), -ENOENT);
	/* The live region next to it and unbacked addresses still map. */
	assert_int_equal(siommu_domain_map(d, 0x10000000, 0x110000, PG, RW), 0);
	assert_int_equal(siommu_domain_map(d, 0x20000000, 0x80000000, PG, RW), 0);
	assert_int_equal(siommu_domain_unmap(d, 0x10000000, PG), PG);
	assert_int_equal(siommu_domain_unmap(d, 0x20000000, PG), PG);
	assert_int_equal(siommu_device_detach(f.dev), 0);
	assert_int_equal(siommu_domain_destroy(d), 0);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(siommu_mem_region_destroy(r2), 0);
	fx_fini(&f);
}

#define RACE_PAGES	16

struct mapper_arg {
	struct siommu_domain *d;
	uint64_t state;		/* atomic: the region of this round | 1 once its revoke returned */
	uint64_t done;		/* atomic: the state of the mapper's last finished map */
	int stop;		/* atomic */
	unsigned long maps, refused, late_maps;
};

/* Maps and unmaps pages of the current region as fast as it can. */
static void *mapper_main(void *p)
{
	struct mapper_arg *a = p;
	unsigned int i = 0;

	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
		uint64_t st = __atomic_load_n(&a->state, __ATOMIC_ACQUIRE);
		uint64_t pa = st & ~1ull;
		bool revoked = st & 1;
		uint64_t iova = 0x40000000ull + (uint64_t)(i % RACE_PAGES) * PG;
		int ret;

		ret = siommu_domain_map(a->d, iova, pa + (i % RACE_PAGES) * PG, PG, RW);
		if (ret == 0) {
			a->maps++;
			if (revoked)	/* the revoke had returned before this map began */
				a->late_maps++;
			thread_assert_true(siommu_domain_unmap(a->d, iova, PG) >= 0);
		} else {
			thread_assert_int_equal(ret, -ENODEV);
			a->refused++;
		}
		__atomic_store_n(&a->done, st, __ATOMIC_RELEASE);
		i++;
	}
	return NULL;
}

/*
 * A map racing a revoke: when the revoke returns, no page of the domain
 * maps into the region, although the mapper never stops mapping.
 */
static void test_core_map_racing_revoke_does_not_survive(void **state)
{
	struct mapper_arg ma = { 0 };
	struct siommu_mem_region *r;
	struct siommu_pt *pt;
	unsigned int round, i;
	unsigned long survivors = 0;
	pthread_t th;
	struct fx f;

	watchdog_arm("map racing revoke");
	fx_init(&f, NULL, true);
	ma.d = paging(&f, SIOMMU_UNMAP_LAZY, 1000, NULL);
	pt = siommu_domain_pt(ma.d);
	assert_int_equal(siommu_mem_add_ram(f.mem, 0x1000000, RACE_PAGES * PG, &r), 0);
	ma.state = 0x1000000;
	assert_int_equal(pthread_create(&th, NULL, mapper_main, &ma), 0);
	for (round = 0; round < 200; round++) {
		/* Physical addresses are never reused: a late map is a real one. */
		uint64_t base = 0x1000000 + (uint64_t)round * 0x100000;
		struct siommu_mem_region *next;

		/* The next region is ready before this one goes. */
		assert_int_equal(siommu_mem_add_ram(f.mem, base + 0x100000, RACE_PAGES * PG,
						    &next), 0);
		usleep(200);
		assert_int_equal(siommu_mem_region_revoke(r), 0);
		__atomic_store_n(&ma.state, base | 1, __ATOMIC_RELEASE);
		/* Right after the revoke: nothing maps into [base, +RACE_PAGES). */
		for (i = 0; i < RACE_PAGES; i++) {
			uint64_t pa;

			if (siommu_pt_iova_to_phys(pt, 0x40000000ull + i * PG, &pa) == 0 &&
			    pa >= base && pa < base + RACE_PAGES * PG)
				survivors++;
		}
		/* Switch the mapper to the next region, then drop this one. */
		usleep(100);
		__atomic_store_n(&ma.state, base + 0x100000, __ATOMIC_RELEASE);
		/* Destroyed (its addresses unbacked) only once the mapper left it. */
		while (__atomic_load_n(&ma.done, __ATOMIC_ACQUIRE) != base + 0x100000)
			usleep(50);
		assert_int_equal(siommu_mem_region_destroy(r), 0);
		r = next;
	}
	__atomic_store_n(&ma.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	print_message("# %lu maps, %lu refused, %lu after a revoke, %lu survivors\n",
		      ma.maps, ma.refused, ma.late_maps, survivors);
	assert_int_equal(survivors, 0);
	assert_int_equal(ma.late_maps, 0);
	assert_true(ma.refused > 0);
	assert_int_equal(siommu_domain_destroy(ma.d), 0);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	fx_fini(&f);
	watchdog_disarm();
}

/* ------------------------------------------------------------------ E */

static void test_core_external_table_busy_while_domain_lives(void **state)
{
	struct siommu_pt_cfg pcfg = { .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_domain *d;
	struct siommu_pt *pt;
	struct fx f;

	fx_init(&f, NULL, false);
	assert_int_equal(siommu_pt_create(f.ctx, &pcfg, &pt), 0);
	d = paging(&f, SIOMMU_UNMAP_STRICT, 0, pt);
	assert_int_equal(siommu_pt_destroy(pt), -EBUSY);
	/* Still usable: nothing was done. */
	assert_int_equal(siommu_domain_map(d, 0x1000, 0x2000, PG, RW), 0);
	assert_int_equal(siommu_domain_unmap(d, 0x1000, PG), PG);
	assert_int_equal(siommu_domain_destroy(d), 0);
	assert_int_equal(siommu_pt_destroy(pt), 0);
	/* The user count itself. */
	assert_int_equal(siommu_pt_create(f.ctx, &pcfg, &pt), 0);
	assert_int_equal(siommu_pt_unhold(pt), -EINVAL);
	assert_int_equal(siommu_pt_hold(pt), 0);
	assert_int_equal(siommu_pt_destroy(pt), -EBUSY);
	assert_int_equal(siommu_pt_unhold(pt), 0);
	assert_int_equal(siommu_pt_hold(NULL), -EINVAL);
	assert_int_equal(siommu_pt_destroy(pt), 0);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ F */

static uint64_t fq_pending(struct siommu_domain *d)
{
	struct siommu_domain_info info;

	assert_int_equal(siommu_domain_get_info(d, &info), 0);
	return info.fq_pending;
}

/*
 * Three lazy domains with timeouts of 10 s, 20 ms and 50 ms.  The long one
 * holds a queued unmap the whole time; each short one must drain on its own
 * deadline, long before the 10 s one (before the fix a short queue waited
 * for the flusher's sleep until the long deadline).
 */
static void test_core_fq_deadlines_across_domains(void **state)
{
	static const uint32_t ms[2] = { 20, 50 };
	struct siommu_domain *slow, *fast[2];
	double worst[2] = { 0, 0 };
	unsigned int round, k;
	struct fx f;

	watchdog_arm("flush-queue deadlines across domains");
	fx_init(&f, NULL, false);
	slow = paging(&f, SIOMMU_UNMAP_LAZY, 10000, NULL);
	for (k = 0; k < 2; k++)
		fast[k] = paging(&f, SIOMMU_UNMAP_LAZY, ms[k], NULL);
	assert_int_equal(siommu_domain_map(slow, 0x1000, 0x1000, PG, RW), 0);
	assert_int_equal(siommu_domain_unmap(slow, 0x1000, PG), PG);
	assert_int_equal(fq_pending(slow), 1);
	for (round = 0; round < 8; round++) {
		double t0[2], done[2] = { 0, 0 };

		for (k = 0; k < 2; k++) {
			assert_int_equal(siommu_domain_map(fast[k], 0x1000, 0x1000, PG, RW), 0);
			t0[k] = test_now_s();
			assert_int_equal(siommu_domain_unmap(fast[k], 0x1000, PG), PG);
		}
		while (!done[0] || !done[1]) {
			for (k = 0; k < 2; k++)
				if (!done[k] && !fq_pending(fast[k]))
					done[k] = test_now_s();
			usleep(200);
		}
		/* The 10 s queue is still waiting: the short ones did not wait for it. */
		assert_int_equal(fq_pending(slow), 1);
		for (k = 0; k < 2; k++)
			if (done[k] - t0[k] > worst[k])
				worst[k] = done[k] - t0[k];
	}
	print_message("# worst drain delay: %.1f ms (timeout 20 ms), %.1f ms (timeout 50 ms)"
		      " beside a 10 s queue\n", worst[0] * 1e3, worst[1] * 1e3);
	for (k = 0; k < 2; k++)
		assert_int_equal(siommu_domain_destroy(fast[k]), 0);
	assert_int_equal(siommu_domain_destroy(slow), 0);
	fx_fini(&f);
	watchdog_disarm();
}

/* ------------------------------------------------------------------ dma_unmap */

struct dma_unmap_arg {
	struct siommu_domain *d;
	uint64_t iova;
	int64_t ret;
};

static void *dma_unmapper(void *p)
{
	struct dma_unmap_arg *a = p;

	a->ret = siommu_domain_dma_unmap(a->d, a->iova, PG);
	return NULL;
}

struct section_arg {
	int go, release;	/* atomic */
};

static void *section_holder(void *p)
{
	struct section_arg *a = p;

	siommu_read_lock();
	__atomic_store_n(&a->go, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&a->release, __ATOMIC_ACQUIRE))
		usleep(100);
	siommu_read_unlock();
	return NULL;
}

/*
 * Two dma_unmaps of one IOVA while a reader keeps the first in its grace
 * period: exactly one unmaps, the other is refused, and a dma_map made
 * meanwhile keeps its IOVA when the first unmap finishes.
 */
static void test_core_dma_unmap_twice_never_frees_new_owner(void **state)
{
	struct section_arg sa = { 0 };
	struct dma_unmap_arg ua[2];
	struct siommu_domain *d;
	pthread_t sec, th[2];
	uint64_t iova, iova2;
	unsigned int k;
	struct fx f;

	watchdog_arm("double dma_unmap");
	fx_init(&f, NULL, false);
	d = paging(&f, SIOMMU_UNMAP_STRICT, 0, NULL);
	assert_int_equal(siommu_domain_dma_map(d, 0x100000, PG, RW, UINT64_MAX, &iova), 0);
	assert_int_equal(pthread_create(&sec, NULL, section_holder, &sa), 0);
	while (!__atomic_load_n(&sa.go, __ATOMIC_ACQUIRE))
		usleep(100);
	for (k = 0; k < 2; k++) {
		ua[k] = (struct dma_unmap_arg){ .d = d, .iova = iova };
		assert_int_equal(pthread_create(&th[k], NULL, dma_unmapper, &ua[k]), 0);
	}
	/* One waits for the reader; the other must be refused, not release. */
	usleep(100000);
	assert_int_equal(siommu_domain_dma_map(d, 0x200000, PG, RW, UINT64_MAX, &iova2), 0);
	__atomic_store_n(&sa.release, 1, __ATOMIC_RELEASE);
	pthread_join(sec, NULL);
	for (k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	assert_true((ua[0].ret == (int64_t)PG && ua[1].ret == -EINVAL) ||
		    (ua[1].ret == (int64_t)PG && ua[0].ret == -EINVAL));
	/* The second mapping's IOVA is still its own: its unmap releases it. */
	assert_int_equal(siommu_domain_dma_unmap(d, iova2, PG), PG);
	/* Late: the first IOVA is free now. */
	assert_int_equal(siommu_domain_dma_unmap(d, iova, PG), -EINVAL);
	assert_int_equal(siommu_domain_destroy(d), 0);
	fx_fini(&f);
	watchdog_disarm();
}

/* Lazy: the second dma_unmap while the first waits in the queue is refused. */
static void test_core_dma_unmap_lazy_twice_and_partial(void **state)
{
	struct siommu_translation t;
	struct siommu_domain *d;
	uint64_t iova, iova2;
	struct fx f;

	fx_init(&f, NULL, false);
	d = paging(&f, SIOMMU_UNMAP_LAZY, 10000, NULL);
	assert_int_equal(siommu_device_attach(f.dev, d), 0);
	assert_int_equal(siommu_domain_dma_map(d, 0x100000, 4 * PG, RW, UINT64_MAX, &iova), 0);
	/* Partial: refused, nothing unmapped, nothing released. */
	assert_int_equal(siommu_domain_dma_unmap(d, iova, PG), -EINVAL);
	assert_int_equal(siommu_domain_dma_unmap(d, iova + PG, 3 * PG), -EINVAL);
	assert_int_equal(siommu_translate(f.dev, 0, iova + 3 * PG, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_domain_dma_unmap(d, iova, 4 * PG), 4 * PG);
	assert_int_equal(siommu_domain_dma_unmap(d, iova, 4 * PG), -EINVAL);
	assert_int_equal(fq_pending(d), 1);
	assert_int_equal(siommu_domain_flush(d), 0);
	/* Handed out again; the new owner's IOVA survives another flush. */
	assert_int_equal(siommu_domain_dma_map(d, 0x200000, 4 * PG, RW, UINT64_MAX, &iova2), 0);
	assert_int_equal(siommu_domain_flush(d), 0);
	assert_int_equal(siommu_domain_dma_unmap(d, iova2, 4 * PG), 4 * PG);
	assert_int_equal(siommu_device_detach(f.dev), 0);
	assert_int_equal(siommu_domain_destroy(d), 0);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ domain ids */

static void test_core_domain_ids_recycled_without_stale_iotlb(void **state)
{
	struct siommu_domain_info i1, i2;
	struct siommu_translation t;
	struct siommu_domain *d1, *d2, *d3;
	struct fx f;

	fx_init(&f, NULL, false);
	d1 = paging(&f, SIOMMU_UNMAP_STRICT, 0, NULL);
	d3 = paging(&f, SIOMMU_UNMAP_STRICT, 0, NULL);
	assert_int_equal(siommu_domain_get_info(d1, &i1), 0);
	assert_int_equal(siommu_device_attach(f.dev, d1), 0);
	assert_int_equal(siommu_domain_map(d1, 0x1000, 0x5000, PG, RW), 0);
	/* Fill the IOTLB with d1's translation. */
	assert_int_equal(siommu_translate(f.dev, 0, 0x1000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_translate(f.dev, 0, 0x1000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_device_detach(f.dev), 0);
	assert_int_equal(siommu_domain_destroy(d1), 0);
	d2 = paging(&f, SIOMMU_UNMAP_STRICT, 0, NULL);
	assert_int_equal(siommu_domain_get_info(d2, &i2), 0);
	assert_int_equal(i2.domid, i1.domid);	/* the lowest free id again */
	assert_int_equal(siommu_device_attach(f.dev, d2), 0);
	/* Nothing of d1 reaches d2 through the IOTLB. */
	assert_int_equal(siommu_translate(f.dev, 0, 0x1000, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_device_detach(f.dev), 0);
	assert_int_equal(siommu_domain_destroy(d2), 0);
	assert_int_equal(siommu_domain_destroy(d3), 0);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ revocation owner */

struct owner {
	pthread_mutex_t lock;		/* the owner's own lock: map + record, callback */
	struct siommu_domain *d;
	uint64_t iova[4], pa[4];
	bool live[4];
	unsigned int calls;
	uint64_t last_pa, last_size;
};

static void owner_revoke(void *opaque, struct siommu_domain *dom, uint64_t pa,
			 uint64_t size)
{
	struct owner *o = opaque;
	unsigned int i;

	thread_assert_true(dom == o->d);
	thread_assert_false(siommu_read_ongoing());
	pthread_mutex_lock(&o->lock);
	o->calls++;
	o->last_pa = pa;
	o->last_size = size;
	for (i = 0; i < 4; i++) {
		if (o->live[i] && o->pa[i] < pa + size && o->pa[i] + PG > pa) {
			/* Strict: waits for a grace period; allowed here. */
			thread_assert_int_equal(siommu_domain_unmap(dom, o->iova[i], PG), PG);
			o->live[i] = false;
		}
	}
	pthread_mutex_unlock(&o->lock);
}

static int owner_map(struct owner *o, unsigned int i, uint64_t iova, uint64_t pa)
{
	int ret;

	pthread_mutex_lock(&o->lock);
	ret = siommu_domain_map(o->d, iova, pa, PG, RW);
	if (!ret) {
		o->iova[i] = iova;
		o->pa[i] = pa;
		o->live[i] = true;
	}
	pthread_mutex_unlock(&o->lock);
	return ret;
}

static void test_core_revoke_owner_is_told(void **state)
{
	struct siommu_mem_region *r1, *r2;
	struct siommu_domain *plain;
	struct siommu_translation t;
	struct owner o = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct fx f;

	fx_init(&f, NULL, true);
	assert_int_equal(siommu_mem_add_ram(f.mem, 0x100000, 0x10000, &r1), 0);
	assert_int_equal(siommu_mem_add_ram(f.mem, 0x200000, 0x10000, &r2), 0);
	o.d = paging(&f, SIOMMU_UNMAP_STRICT, 0, NULL);
	plain = paging(&f, SIOMMU_UNMAP_STRICT, 0, NULL);
	assert_int_equal(siommu_domain_set_revoke_owner(NULL, owner_revoke, &o), -EINVAL);
	assert_int_equal(siommu_domain_set_revoke_owner(o.d, NULL, &o), -EINVAL);
	assert_int_equal(siommu_domain_set_revoke_owner(o.d, owner_revoke, &o), 0);
	assert_int_equal(siommu_domain_set_revoke_owner(o.d, owner_revoke, &o), -EBUSY);
	/* A domain that mapped already cannot get an owner. */
	assert_int_equal(siommu_domain_map(plain, 0x1000, 0x200000, PG, RW), 0);
	assert_int_equal(siommu_domain_set_revoke_owner(plain, owner_revoke, &o), -EBUSY);

	assert_int_equal(owner_map(&o, 0, 0x10000, 0x100000), 0);
	assert_int_equal(owner_map(&o, 1, 0x20000, 0x101000), 0);
	assert_int_equal(owner_map(&o, 2, 0x30000, 0x200000), 0);
	assert_int_equal(siommu_device_attach(f.dev, o.d), 0);
	assert_int_equal(siommu_mem_region_revoke(r1), 0);
	/* The owner was told, once, about exactly the region, and unmapped. */
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.last_pa, 0x100000);
	assert_int_equal(o.last_size, 0x10000);
	assert_false(o.live[0] || o.live[1]);
	assert_true(o.live[2]);
	assert_int_equal(siommu_translate(f.dev, 0, 0x10000, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_translate(f.dev, 0, 0x30000, SIOMMU_ACC_READ, &t), 0);
	/* New maps of the revoked region are refused for owners too. */
	assert_int_equal(owner_map(&o, 3, 0x40000, 0x100000), -ENODEV);
	/* The other domain's mapping of r2 is core's: torn down by core. */
	assert_int_equal(siommu_mem_region_revoke(r2), 0);
	assert_int_equal(o.calls, 2);
	assert_false(o.live[2]);
	assert_int_equal(siommu_pt_iova_to_phys(siommu_domain_pt(plain), 0x1000,
						&(uint64_t){ 0 }), -ENOENT);
	assert_int_equal(siommu_device_detach(f.dev), 0);
	assert_int_equal(siommu_domain_destroy(o.d), 0);
	assert_int_equal(siommu_domain_destroy(plain), 0);
	assert_int_equal(siommu_mem_region_destroy(r1), 0);
	assert_int_equal(siommu_mem_region_destroy(r2), 0);
	fx_fini(&f);
}

/* A thread the library has never seen may set an owner (every new call joins such a test). */
static void *owner_from_new_thread(void *p)
{
	struct siommu_domain *d = p;

	thread_assert_int_equal(siommu_domain_set_revoke_owner(d, owner_revoke, NULL), 0);
	thread_assert_int_equal(siommu_domain_set_revoke_owner(d, owner_revoke, NULL), -EBUSY);
	return NULL;
}

static void test_core_revoke_owner_from_unseen_thread(void **state)
{
	struct siommu_domain *d;
	struct fx f;

	fx_init(&f, NULL, true);
	d = paging(&f, SIOMMU_UNMAP_LAZY, 0, NULL);
	test_run_threads(1, owner_from_new_thread, (void *[]){ d });
	assert_int_equal(siommu_domain_destroy(d), 0);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ pgtable invalidation */

static void test_core_pt_invalidate_begin_end_moves_seq(void **state)
{
	struct siommu_pt_cfg pcfg = { .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_pt *pt;
	uint64_t seq;
	struct fx f;

	fx_init(&f, NULL, false);
	assert_int_equal(siommu_pt_create(f.ctx, &pcfg, &pt), 0);
	assert_int_equal(siommu_pt_map(pt, 0x200000, 0x200000, 0x200000, RW), 0);
	seq = siommu_pt_seq_begin(pt, 0x200000);
	assert_int_equal(siommu_pt_lookup_level(pt, 0x200000), 21);
	assert_false(siommu_pt_seq_retry(pt, 0x200000, seq));
	/* A caller changing the table directly brackets the change. */
	assert_int_equal(siommu_pt_invalidate_begin(pt, 0x200000, 0x200000), 0);
	assert_true(siommu_pt_seq_retry(pt, 0x200000, seq));
	assert_true(siommu_pt_seq_retry(pt, 0x200000, siommu_pt_seq_begin(pt, 0x200000)));
	assert_int_equal(siommu_pt_invalidate_end(pt, 0x200000, 0x200000), 0);
	assert_true(siommu_pt_seq_retry(pt, 0x200000, seq));
	seq = siommu_pt_seq_begin(pt, 0x200000);
	assert_false(siommu_pt_seq_retry(pt, 0x200000, seq));
	/* Another 1 GiB region is not disturbed. */
	seq = siommu_pt_seq_begin(pt, 1ull << 30);
	assert_int_equal(siommu_pt_invalidate_begin(pt, 0, PG), 0);
	assert_false(siommu_pt_seq_retry(pt, 1ull << 30, seq));
	assert_int_equal(siommu_pt_invalidate_end(pt, 0, PG), 0);
	/* Bad arguments. */
	assert_int_equal(siommu_pt_invalidate_begin(NULL, 0, PG), -EINVAL);
	assert_int_equal(siommu_pt_invalidate_begin(pt, 0, 0), -EINVAL);
	assert_int_equal(siommu_pt_invalidate_begin(pt, 0x100, PG), -EINVAL);
	assert_int_equal(siommu_pt_invalidate_end(pt, 1ull << 60, PG), -ERANGE);
	assert_int_equal(siommu_pt_destroy(pt), 0);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ -EEXIST rollback */

static void test_core_map_eexist_rollback_invalidates(void **state)
{
#if SIOMMU_TESTING_BUILD
	struct siommu_iotlb_stats before, after;
	struct siommu_domain *d;
	struct siommu_pt *pt;
	uint64_t seq, pa;
	struct fx f;

	fx_init(&f, NULL, false);
	d = paging(&f, SIOMMU_UNMAP_STRICT, 0, NULL);
	pt = siommu_domain_pt(d);
	seq = siommu_pt_seq_begin(pt, 0x10000);
	assert_int_equal(siommu_iotlb_get_stats(f.iommu->iotlb, &before), 0);
	pt_test_set_map_eexist(pt, true);
	assert_int_equal(siommu_domain_map(d, 0x10000, 0x20000, 4 * PG, RW), -EEXIST);
	pt_test_set_map_eexist(pt, false);
	/* The leaves that were briefly visible are gone ... */
	assert_int_equal(siommu_pt_iova_to_phys(pt, 0x10000, &pa), -ENOENT);
	assert_int_equal(siommu_pt_iova_to_phys(pt, 0x13000, &pa), -ENOENT);
	/* ... their removal was an invalidation a mirror sees ... */
	assert_true(siommu_pt_seq_retry(pt, 0x10000, seq));
	/* ... and the core dropped what the IOTLB may have cached. */
	assert_int_equal(siommu_iotlb_get_stats(f.iommu->iotlb, &after), 0);
	assert_true(after.invalidations > before.invalidations);
	/* A check-pass -EEXIST (nothing written) leaves the sequence alone. */
	assert_int_equal(siommu_domain_map(d, 0x10000, 0x20000, PG, RW), 0);
	seq = siommu_pt_seq_begin(pt, 0x10000);
	assert_int_equal(siommu_domain_map(d, 0x10000, 0x20000, PG, RW), -EEXIST);
	assert_false(siommu_pt_seq_retry(pt, 0x10000, seq));
	assert_int_equal(siommu_domain_unmap(d, 0x10000, PG), PG);
	assert_int_equal(siommu_domain_destroy(d), 0);
	fx_fini(&f);
#else
	skip();		/* needs the test hook */
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_revoke_does_not_wait_under_reader_locks),
		cmocka_unit_test(test_core_map_of_revoked_region_is_enodev),
		cmocka_unit_test(test_core_map_racing_revoke_does_not_survive),
		cmocka_unit_test(test_core_external_table_busy_while_domain_lives),
		cmocka_unit_test(test_core_fq_deadlines_across_domains),
		cmocka_unit_test(test_core_dma_unmap_twice_never_frees_new_owner),
		cmocka_unit_test(test_core_dma_unmap_lazy_twice_and_partial),
		cmocka_unit_test(test_core_domain_ids_recycled_without_stale_iotlb),
		cmocka_unit_test(test_core_revoke_owner_is_told),
		cmocka_unit_test(test_core_revoke_owner_from_unseen_thread),
		cmocka_unit_test(test_core_pt_invalidate_begin_end_moves_seq),
		cmocka_unit_test(test_core_map_eexist_rollback_invalidates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
