// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `softiommu demo`: the main job on its embedded default, with every
 * invariant it checks printed beside its result.  Exit 1 if any fails.
 *
 * The setup: an IOMMU (VT-d second-stage tables, 3 levels as QEMU's default)
 * in front of 64 MiB of RAM and a doorbell register (MMIO).  Three devices,
 * each in a domain of its own: nic0 and nvme0 in STRICT domains, gpu0 with
 * PASID 1 in a LAZY one.  (A shared domain would let a device holding a
 * stale buffer handle write into another device's newer buffer at a reused
 * IOVA at the same time as that device: a real race of the emulated
 * system, which ThreadSanitizer rightly reports.)  A driver thread maps buffers at allocated IOVAs, fills them,
 * hands them to the devices, takes them back, unmaps them and reuses their
 * memory; device threads DMA-read and DMA-write whatever they were handed,
 * and nic0 rings the doorbell through its domain.  Halfway through, the
 * doorbell region is revoked (seed 003).  Then a small table is built,
 * dumped in the Linux debugfs layout and torn down while a walker
 * translates through it (seed 000).
 *
 * What is checked is what the library promises: after a strict unmap
 * returns, no DMA reads or writes the old memory (the driver poisons it at
 * once and checks the poison before reuse); in a lazy domain the same holds
 * once the flush queue has drained and a grace period passed; after revoke
 * returns, no MMIO callback runs; every DMA fault is counted by reason;
 * walkers see the old or the new mapping, never freed memory; teardown
 * leaves nothing behind.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <softiommu/softiommu.h>

#include "tool.h"
#include "demo_ioas.h"
#include "demo_iopf.h"

#if defined(__SANITIZE_THREAD__)
/*
 * A ThreadSanitizer build of the CLI: liburcu is not instrumented, so its
 * internal hand-offs look like races (tests/tsan.supp says why; keep the two
 * lists the same).  Built in, so that `build-tsan/softiommu demo` run by
 * hand reports only races of our code.
 */
__attribute__((visibility("default"))) const char *__tsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__tsan_default_suppressions(void)
{
	return "called_from_lib:liburcu-memb.so\n"
	       "called_from_lib:liburcu-common.so\n"
	       "called_from_lib:liburcu-bp.so\n"
	       "called_from_lib:liburcu-cds.so\n";
}
#endif

#define RAM_PA		0x80000000ull
#define RAM_SIZE	(64ull << 20)
#define DOORBELL_PA	0xfed00000ull
#define DOORBELL_IOVA	0xfee00000ull	/* mapped by hand in the strict domain */
#define AREA_SIZE	(1ull << 20)	/* RAM per device */
#define SLOT_SIZE	(64ull << 10)	/* one buffer */
#define NSLOTS		(AREA_SIZE / SLOT_SIZE)
#define POISON		0xa5
#define DMA_LIMIT	0xffffffffull	/* 32-bit DMA mask */
#define RUN_SECONDS	1.0
#define LAZY_BATCH	8		/* lazy slots reused after flush + grace period */

enum { DEV_NIC, DEV_NVME, DEV_GPU, NDEVS };
static const char *const dev_names[NDEVS] = { "nic0", "nvme0", "gpu0" };
static const char *const dev_bdfs[NDEVS] = { "0000:00:04.0", "0000:00:05.0", "0000:00:06.0" };

struct desc {			/* a buffer handed to a device; immutable */
	uint64_t gen;
	uint64_t iova;
	uint64_t len;
	uint8_t pat;
};

struct demo;

struct devstate {
	struct demo *dm;
	unsigned int idx;
	struct siommu_device *dev;
	uint32_t pasid;
	struct siommu_domain *dom;
	bool strict;
	struct desc *cur;		/* RCU-published by the driver; NULL: nothing */
	uint64_t area_pa;
	/* device thread's counters (read after join) */
	uint64_t dma_ok, dma_fault, bytes;
	uint64_t poison_reads, wrong_reads, reused_iova_reads;
	uint64_t doorbell_ok, doorbell_refused, doorbell_refused_before;
	/* driver side */
	uint64_t rounds, reuse_checks, written_after_unmap;
	uint64_t pending[LAZY_BATCH];	/* lazy: slots unmapped, not yet poisoned */
	unsigned int npending;
};

struct demo {
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct siommu_mem_region *ram, *doorbell;
	struct siommu_iommu *iommu;
	struct siommu_domain *doms[NDEVS];	/* one per device: nic0, nvme0 strict; gpu0 lazy */
	struct devstate d[NDEVS];
	int stop;			/* atomic */
	int revoked;			/* atomic: set right after revoke returned */
	uint64_t mmio_calls, mmio_after_revoke;	/* atomic */
	uint64_t trace_lines, trace_bad;	/* atomic */
	uint64_t log_msgs;			/* atomic */
	int setup_err;
};

/* ---- the doorbell: an MMIO register ---- */

static int bell_read(void *opaque, uint64_t off, unsigned int size, uint64_t *val)
{
	struct demo *dm = opaque;

	__atomic_fetch_add(&dm->mmio_calls, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&dm->revoked, __ATOMIC_ACQUIRE))
		__atomic_fetch_add(&dm->mmio_after_revoke, 1, __ATOMIC_RELAXED);
	*val = 0;
	return 0;
}

static int bell_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	return bell_read(opaque, off, size, &val);
}

static const struct siommu_mem_mmio_ops bell_ops = { bell_read, bell_write };

/* ---- messages: counted, not printed (the fault log says the same) ---- */

static void log_sink(void *opaque, enum siommu_log_level level, const char *msg)
{
	__atomic_fetch_add((uint64_t *)opaque, 1, __ATOMIC_RELAXED);
}

/* ---- trace events: each must parse back to the same line ---- */

static void trace_sink(void *opaque, const struct siommu_trace_record *rec)
{
	struct demo *dm = opaque;
	struct siommu_trace_record back;
	char line[512], again[512], sb[256];

	__atomic_fetch_add(&dm->trace_lines, 1, __ATOMIC_RELAXED);
	if (siommu_trace_format_line(rec, line, sizeof(line)) < 0 ||
	    siommu_trace_parse_line(line, &back, sb, sizeof(sb)) ||
	    siommu_trace_format_line(&back, again, sizeof(again)) < 0 || strcmp(line, again))
		__atomic_fetch_add(&dm->trace_bad, 1, __ATOMIC_RELAXED);
}

/* ---- devices ---- */

static bool stopping(struct demo *dm)
{
	return __atomic_load_n(&dm->stop, __ATOMIC_ACQUIRE);
}

/*
 * Progress counters the main thread watches to pace the run (relaxed: they
 * only decide when a phase has done enough; the checks read them after the
 * threads are joined).
 */
static void bump(uint64_t *p)
{
	__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
}

static uint64_t progress(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void *device_main(void *arg)
{
	struct devstate *ds = arg;
	struct demo *dm = ds->dm;
	uint8_t *rbuf = malloc(SLOT_SIZE), *wbuf = malloc(SLOT_SIZE);
	uint64_t i = 0;

	if (!rbuf || !wbuf)
		goto out;
	while (!stopping(dm)) {
		struct desc *d, local;
		uint64_t half, k;
		int ret;

		/* take the descriptor the driver published (RCU: it frees old ones after a grace period) */
		siommu_read_lock();
		d = __atomic_load_n(&ds->cur, __ATOMIC_ACQUIRE);
		if (d)
			local = *d;
		siommu_read_unlock();

		if (ds->idx == DEV_NIC && (i++ & 3) == 0) {
			uint32_t ring = 1;
			int was_revoked = __atomic_load_n(&dm->revoked, __ATOMIC_ACQUIRE);

			ret = siommu_dma_write(ds->dev, ds->pasid, DOORBELL_IOVA, &ring, sizeof(ring));
			if (ret == 0)
				bump(&ds->doorbell_ok);
			else if (was_revoked)
				bump(&ds->doorbell_refused);
			else
				ds->doorbell_refused_before++;
		}
		if (!d) {
			sched_yield();
			continue;
		}

		half = local.len / 2;
		ret = siommu_dma_read(ds->dev, ds->pasid, local.iova, rbuf, half);
		if (ret == 0) {
			bump(&ds->dma_ok);
			ds->bytes += half;
			/*
			 * The first half of a mapped buffer is written by the
			 * CPU only, before it is mapped.  Each page of a
			 * transfer is translated and copied in one read-side
			 * section, so a page reads one value throughout: poison
			 * would mean freed memory, a mix a page that changed
			 * under the copy.  A value other than our descriptor's
			 * means the descriptor was stale and its IOVA already
			 * reused for a newer buffer, which a device racing its
			 * driver may see (pages of one transfer may then come
			 * from either buffer); it is counted, not an error.
			 */
			for (k = 0; k < half; k += 4096) {
				uint64_t j;

				if (rbuf[k] == POISON)
					ds->poison_reads++;
				else if (rbuf[k] != local.pat)
					ds->reused_iova_reads++;
				for (j = 1; j < 4096; j++) {
					if (rbuf[k + j] != rbuf[k]) {
						ds->wrong_reads++;
						break;
					}
				}
			}
		} else {
			ds->dma_fault++;
		}
		memset(wbuf, local.pat, half);
		ret = siommu_dma_write(ds->dev, ds->pasid, local.iova + half, wbuf, half);
		if (ret == 0) {
			bump(&ds->dma_ok);
			ds->bytes += half;
		} else {
			ds->dma_fault++;
		}
	}
out:
	free(rbuf);
	free(wbuf);
	return NULL;
}

/* ---- the driver ---- */

static bool slot_is_poisoned(struct demo *dm, uint64_t pa, uint8_t *buf)
{
	uint64_t k;

	if (siommu_mem_rw(dm->mem, pa, buf, SLOT_SIZE, false))
		return false;
	for (k = 0; k < SLOT_SIZE; k++)
		if (buf[k] != POISON)
			return false;
	return true;
}

static int poison_slot(struct demo *dm, uint64_t pa, uint8_t *buf)
{
	memset(buf, POISON, SLOT_SIZE);
	return siommu_mem_rw(dm->mem, pa, buf, SLOT_SIZE, true);
}

/* One buffer's life for one device: fill, map, hand over, take back, unmap. */
static int driver_round(struct demo *dm, struct devstate *ds, uint8_t *buf)
{
	uint64_t slot = ds->rounds % NSLOTS, pa = ds->area_pa + slot * SLOT_SIZE, iova;
	uint8_t pat = (uint8_t)(ds->rounds * 7 + ds->idx * 64 + 1);
	struct desc *d, *old;
	int64_t un;
	int ret;

	if (pat == POISON)
		pat ^= 0xff;
	/* the slot must still hold the poison put there after its last unmap */
	if (ds->rounds >= NSLOTS) {
		bump(&ds->reuse_checks);
		if (!slot_is_poisoned(dm, pa, buf))
			ds->written_after_unmap++;
	}
	memset(buf, pat, SLOT_SIZE);
	ret = siommu_mem_rw(dm->mem, pa, buf, SLOT_SIZE, true);	/* the CPU fills it */
	if (ret)
		return ret;
	ret = siommu_domain_dma_map(ds->dom, pa, SLOT_SIZE, SIOMMU_PT_READ | SIOMMU_PT_WRITE,
				    DMA_LIMIT, &iova);
	if (ret)
		return ret;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	*d = (struct desc){ .gen = ds->rounds, .iova = iova, .len = SLOT_SIZE, .pat = pat };
	old = __atomic_exchange_n(&ds->cur, d, __ATOMIC_ACQ_REL);
	if (old) {
		siommu_synchronize();
		free(old);
	}
	usleep(200);			/* the device works on it */

	old = __atomic_exchange_n(&ds->cur, NULL, __ATOMIC_ACQ_REL);
	un = siommu_domain_dma_unmap(ds->dom, iova, SLOT_SIZE);
	if (un != (int64_t)SLOT_SIZE)
		return un < 0 ? (int)un : -EIO;
	if (ds->strict) {
		/* strict: no DMA can reach it any more, so the CPU reuses it at once */
		ret = poison_slot(dm, pa, buf);
	} else {
		/* lazy: reuse only after the flush queue drained and a grace period */
		ds->pending[ds->npending++] = pa;
		ret = 0;
		if (ds->npending == LAZY_BATCH) {
			siommu_domain_flush(ds->dom);
			siommu_synchronize();
			while (ds->npending && !ret)
				ret = poison_slot(dm, ds->pending[--ds->npending], buf);
		}
	}
	siommu_synchronize();
	free(old);
	ds->rounds++;
	return ret;
}

static void *driver_main(void *arg)
{
	struct demo *dm = arg;
	uint8_t *buf = malloc(SLOT_SIZE);
	unsigned int i;

	if (!buf) {
		dm->setup_err = -ENOMEM;
		return NULL;
	}
	while (!stopping(dm) && !dm->setup_err) {
		for (i = 0; i < NDEVS && !dm->setup_err; i++) {
			int ret = driver_round(dm, &dm->d[i], buf);

			if (ret)
				dm->setup_err = ret;
		}
	}
	/* drain the lazy domain and poison what it still holds */
	for (i = 0; i < NDEVS; i++) {
		struct devstate *ds = &dm->d[i];

		siommu_domain_flush(ds->dom);
		siommu_synchronize();
		while (ds->npending)
			poison_slot(dm, ds->pending[--ds->npending], buf);
	}
	free(buf);
	return NULL;
}

/* ---- setup and teardown ---- */

static int setup(struct demo *dm)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 20, .iotlb_capacity = 512 };
	struct siommu_domain_cfg strict_cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_VTD_SS,
		.unmap_mode = SIOMMU_UNMAP_STRICT,
	};
	struct siommu_domain_cfg lazy_cfg = strict_cfg;
	unsigned int i;
	int ret;

	lazy_cfg.unmap_mode = SIOMMU_UNMAP_LAZY;
	lazy_cfg.fq_batch = 64;
	lazy_cfg.fq_timeout_ms = 10;

	if ((ret = siommu_ctx_create(&dm->ctx)) ||
	    (ret = siommu_ctx_set_trace(dm->ctx, trace_sink, dm)) ||
	    (ret = siommu_ctx_set_log(dm->ctx, SIOMMU_LOG_INFO, log_sink, &dm->log_msgs)) ||
	    (ret = siommu_mem_create(dm->ctx, &dm->mem)) ||
	    (ret = siommu_mem_add_ram(dm->mem, RAM_PA, RAM_SIZE, &dm->ram)) ||
	    (ret = siommu_mem_add_mmio(dm->mem, DOORBELL_PA, 4096, &bell_ops, dm, &dm->doorbell)) ||
	    (ret = siommu_iommu_create(dm->ctx, &caps, dm->mem, &dm->iommu)) ||
	    (ret = siommu_domain_create(dm->iommu, &strict_cfg, &dm->doms[DEV_NIC])) ||
	    (ret = siommu_domain_create(dm->iommu, &strict_cfg, &dm->doms[DEV_NVME])) ||
	    (ret = siommu_domain_create(dm->iommu, &lazy_cfg, &dm->doms[DEV_GPU])) ||
	    (ret = siommu_domain_map(dm->doms[DEV_NIC], DOORBELL_IOVA, DOORBELL_PA, 4096,
				     SIOMMU_PT_READ | SIOMMU_PT_WRITE | SIOMMU_PT_MMIO)))
		return ret;

	for (i = 0; i < NDEVS; i++) {
		struct devstate *ds = &dm->d[i];
		bool gpu = i == DEV_GPU;

		ds->dm = dm;
		ds->idx = i;
		ds->area_pa = RAM_PA + i * AREA_SIZE;
		ds->strict = !gpu;
		ds->dom = dm->doms[i];
		ds->pasid = gpu ? 1 : SIOMMU_NO_PASID;
		ret = siommu_device_create(dm->iommu, SIOMMU_RID(0, 0, 4 + i, 0),
					   gpu ? SIOMMU_DEV_PASID : 0, gpu ? 8 : 0, &ds->dev);
		if (ret)
			return ret;
		ret = gpu ? siommu_pasid_attach(ds->dev, 1, ds->dom)
			  : siommu_device_attach(ds->dev, ds->dom);
		if (ret)
			return ret;
	}
	return 0;
}

static int teardown(struct demo *dm)
{
	int ret = 0;
	unsigned int i;

	for (i = 0; i < NDEVS; i++) {
		struct devstate *ds = &dm->d[i];

		if (!ds->dev)
			continue;
		if (i == DEV_GPU)
			siommu_pasid_detach(ds->dev, 1);
		else
			siommu_device_detach(ds->dev);
		ret |= siommu_device_destroy(ds->dev);
		free(ds->cur);
	}
	for (i = 0; i < NDEVS; i++)
		ret |= siommu_domain_destroy(dm->doms[i]);
	ret |= siommu_iommu_destroy(dm->iommu);
	if (dm->doorbell)
		ret |= siommu_mem_region_destroy(dm->doorbell);
	if (dm->ram)
		ret |= siommu_mem_region_destroy(dm->ram);
	ret |= siommu_mem_destroy(dm->mem);
	siommu_ctx_set_trace(dm->ctx, NULL, NULL);
	ret |= siommu_ctx_destroy(dm->ctx);
	return ret;
}

/* ---- the page-table part: build, dump, tear down while a walker walks ---- */

struct walker {
	struct siommu_pt *pt;
	int stop;
	uint64_t walks, wrong;
};

static const struct {
	uint64_t iova, pa, size;
} pt_maps[] = {
	{ 0x00001000, 0x40001000, 0x1000 },
	{ 0x00002000, 0x40002000, 0x1000 },
	{ 0x00200000, 0x40200000, 0x200000 },
	{ 0x40000000, 0x80000000, 0x40000000 },
	{ 0xc0001000, 0x20000000, 0x1000 },
};

static void *walker_main(void *arg)
{
	struct walker *w = arg;
	unsigned int k = 0;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		unsigned int m = k++ % (sizeof(pt_maps) / sizeof(pt_maps[0]));
		uint64_t off = (k * 0x1000) % pt_maps[m].size, pa;
		int ret;

		siommu_read_lock();
		ret = siommu_pt_iova_to_phys_rcu(w->pt, pt_maps[m].iova + off, &pa);
		siommu_read_unlock();
		/* old or new: not mapped, or exactly this mapping */
		if (ret == 0 && pa != pt_maps[m].pa + off)
			w->wrong++;
		else if (ret && ret != -ENOENT)
			w->wrong++;
		__atomic_store_n(&w->walks, w->walks + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void inval_none(void *opaque, uint64_t iova, uint64_t last, unsigned int flags)
{
	(*(uint64_t *)opaque)++;	/* no IOTLB caches this table: count the calls */
}

struct pt_result {
	int err;
	uint64_t walks, wrong, pages_peak, invals;
	/* after teardown and every deferred free: only the root is left */
	uint64_t pages_left, detached_left, reclaim_left;
};

static void pt_part(bool print, struct pt_result *res)
{
	struct siommu_pt_cfg cfg = { .fmt = SIOMMU_PT_FMT_VTD_SS, .table_phys_base = 0x10000000 };
	struct siommu_pt_dump_dev dev = { .bus = 0, .devfn = 4 << 3, .pasid = SIOMMU_PT_NO_PASID };
	struct siommu_pt_gather g;
	struct siommu_pt_info info;
	struct walker w = { 0 };
	struct siommu_ctx *ctx;
	pthread_t tid;
	unsigned int m, round;
	int ret;

	memset(res, 0, sizeof(*res));
	if ((ret = siommu_ctx_create(&ctx)) || (ret = siommu_pt_create(ctx, &cfg, &w.pt))) {
		res->err = ret;
		siommu_ctx_destroy(ctx);
		return;
	}
	if (pthread_create(&tid, NULL, walker_main, &w)) {
		res->err = -EAGAIN;
		goto out;
	}
	/* at least 200 rounds, and long enough for the walker to be at work */
	for (round = 0; !ret && (round < 200 || __atomic_load_n(&w.walks, __ATOMIC_RELAXED) < 100000) &&
	     round < 100000; round++) {
		for (m = 0; m < sizeof(pt_maps) / sizeof(pt_maps[0]) && !ret; m++)
			ret = siommu_pt_map(w.pt, pt_maps[m].iova, pt_maps[m].pa, pt_maps[m].size,
					    SIOMMU_PT_READ | (m & 1 ? 0 : SIOMMU_PT_WRITE));
		if (ret)
			break;
		siommu_pt_get_info(w.pt, &info);
		if (info.table_pages > res->pages_peak)
			res->pages_peak = info.table_pages;
		if (round == 0 && print) {
			printf("\npage table (VT-d second stage, 3 levels), as Linux's debugfs shows it:\n");
			siommu_pt_dump_file(w.pt, &dev, stdout);
		}
		/* tear down everything: every table page below the root is detached */
		siommu_pt_gather_init(&g);
		if (siommu_pt_unmap(w.pt, 0, 1ull << 39, &g) < 0)
			ret = -EIO;
		siommu_pt_gather_sync(&g, inval_none, &res->invals,
				      round & 1 ? SIOMMU_PT_SYNC_WAIT : 0);
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	pthread_join(tid, NULL);
	res->err = ret;
	/*
	 * Half the rounds freed their pages after a grace period, by RCU
	 * callback: liburcu's callback thread may still be freeing them (and a
	 * callback that finds more pages queued re-queues itself).  Wait until
	 * every page synced so far is back in the pool; then the count is
	 * exact: the root and nothing else.
	 */
	siommu_pt_reclaim_wait(w.pt);
	siommu_pt_get_info(w.pt, &info);
	res->pages_left = info.table_pages;
	res->detached_left = info.detached_pages;
	res->reclaim_left = info.reclaim_pages;
out:
	siommu_synchronize();
	siommu_pt_destroy(w.pt);	/* waits for deferred frees of this table */
	siommu_ctx_destroy(ctx);
	res->walks = w.walks;
	res->wrong = w.wrong;
}

/* ---- report ---- */

struct check {
	const char *what;
	bool ok;
	char detail[200];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The mm module's part (demo_mm.c), when it is built. */
typedef void demo_check_fn(void *opaque, const char *what, bool ok, const char *detail);
extern void demo_mm_part(double seconds, bool verbose, demo_check_fn *check, void *opaque)
	__attribute__((weak));

struct check_list {
	struct check *c;
	unsigned int *n, max;
};

static void add_check(void *opaque, const char *what, bool ok, const char *detail)
{
	struct check_list *l = opaque;
	struct check *c;

	if (*l->n >= l->max)
		return;
	c = &l->c[(*l->n)++];
	c->what = what;
	c->ok = ok;
	snprintf(c->detail, sizeof(c->detail), "%s", detail);
}

/*
 * Each phase lasts its time and, on a slow machine (a sanitizer build, a
 * loaded CI runner), longer until the work its invariants need was done,
 * up to PHASE_MAX_S: so that a check never fails for want of work.
 */
#define PHASE_MAX_S	60.0

static bool rang_before_revoke(struct demo *dm)
{
	return progress(&dm->d[DEV_NIC].doorbell_ok) > 0;
}

static bool did_enough(struct demo *dm)
{
	unsigned int i;

	if (!progress(&dm->d[DEV_NIC].doorbell_refused))
		return false;
	for (i = 0; i < NDEVS; i++)
		if (!progress(&dm->d[i].dma_ok) || !progress(&dm->d[i].reuse_checks))
			return false;
	return true;
}

static void run_phase(struct demo *dm, double secs, bool (*enough)(struct demo *))
{
	double t0 = now_s();

	for (;;) {
		double t = now_s() - t0;

		if (t >= PHASE_MAX_S || (t >= secs && enough(dm)))
			return;
		usleep(5000);
	}
}

int demo_main(int argc, char **argv)
{
	static struct demo dm;
	struct siommu_iommu_stats st;
	struct pt_result ptr;
	pthread_t dtid[NDEVS], drv;
	struct check checks[36];
	struct demo_ioas_result ir;
	struct demo_iopf_check ichecks[4];
	unsigned int nichecks;
	unsigned int nchecks = 0, i, failed = 0;
	uint64_t poison = 0, wrong = 0, after = 0, checks_reuse = 0, dev_faults = 0;
	uint64_t stat_faults = 0, bell_refused = 0, bell_ok = 0, rounds = 0, reused = 0;
	bool json = false;
	double t0;
	int ret, tret;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help")) {
			printf("Usage: softiommu demo [--json]\n");
			return TOOL_EXIT_OK;
		} else {
			fprintf(stderr, "softiommu demo: unknown argument '%s'\n", argv[i]);
			return TOOL_EXIT_USAGE;
		}
	}

	memset(&dm, 0, sizeof(dm));
	ret = setup(&dm);
	if (ret) {
		fprintf(stderr, "softiommu demo: setup failed: %s (%s)\n", siommu_errname(ret),
			siommu_strerror(ret));
		teardown(&dm);
		return TOOL_EXIT_FAIL;
	}
	t0 = now_s();
	for (i = 0; i < NDEVS; i++)
		if (pthread_create(&dtid[i], NULL, device_main, &dm.d[i]))
			return TOOL_EXIT_FAIL;
	if (pthread_create(&drv, NULL, driver_main, &dm))
		return TOOL_EXIT_FAIL;

	run_phase(&dm, RUN_SECONDS * 0.5, rang_before_revoke);
	ret = siommu_mem_region_revoke(dm.doorbell);	/* seed 003, mid-run */
	__atomic_store_n(&dm.revoked, 1, __ATOMIC_RELEASE);
	run_phase(&dm, RUN_SECONDS * 0.5, did_enough);

	__atomic_store_n(&dm.stop, 1, __ATOMIC_RELEASE);
	pthread_join(drv, NULL);
	for (i = 0; i < NDEVS; i++)
		pthread_join(dtid[i], NULL);
	siommu_iommu_get_stats(dm.iommu, &st);
	if (!ret)
		ret = dm.setup_err;

	for (i = 0; i < NDEVS; i++) {
		struct devstate *ds = &dm.d[i];

		poison += ds->poison_reads;
		wrong += ds->wrong_reads;
		reused += ds->reused_iova_reads;
		after += ds->written_after_unmap;
		checks_reuse += ds->reuse_checks;
		dev_faults += ds->dma_fault + ds->doorbell_refused + ds->doorbell_refused_before;
		bell_refused += ds->doorbell_refused;
		bell_ok += ds->doorbell_ok;
		rounds += ds->rounds;
	}
	for (i = 0; i < SIOMMU_FAULT_NR; i++)
		stat_faults += st.faults[i];

	pt_part(!json, &ptr);
	nichecks = demo_iopf_part(!json, ichecks, 4);	/* seed 002, on its own IOMMU */
	tret = teardown(&dm);
	demo_ioas_run(&ir);	/* seed 004: a mediated device and a misbehaving access */

#define CHECK(w, cond, ...) do {					\
		struct check *c = &checks[nchecks++];			\
		c->what = (w);						\
		c->ok = (cond);						\
		snprintf(c->detail, sizeof(c->detail), __VA_ARGS__);	\
	} while (0)

	CHECK("the run completed without an unexpected error", ret == 0, "%s",
	      ret ? siommu_strerror(ret) : "no error");
	CHECK("no DMA read memory after its strict unmap returned (or a drained lazy one)",
	      poison == 0, "%" PRIu64 " reads saw the poison put in freed buffers", poison);
	CHECK("no DMA wrote memory after its unmap returned",
	      after == 0 && checks_reuse > 0, "%" PRIu64 " of %" PRIu64 " reused buffers were touched",
	      after, checks_reuse);
	CHECK("every page a DMA read was whole data of one buffer", wrong == 0,
	      "%" PRIu64 " torn pages (%" PRIu64 " pages of stale handles reached a newer buffer at a reused IOVA)",
	      wrong, reused);
	CHECK("after revoke returned, no MMIO callback ran and DMA to it was refused",
	      dm.mmio_after_revoke == 0 && bell_refused > 0 && bell_ok > 0,
	      "%" PRIu64 " doorbell writes before, %" PRIu64 " refused after, %" PRIu64
	      " callbacks after revoke", bell_ok, bell_refused, dm.mmio_after_revoke);
	CHECK("every DMA fault was counted by reason", stat_faults == dev_faults,
	      "devices saw %" PRIu64 ", the IOMMU counted %" PRIu64, dev_faults, stat_faults);
	CHECK("every device made progress",
	      dm.d[0].dma_ok && dm.d[1].dma_ok && dm.d[2].dma_ok,
	      "%" PRIu64 "/%" PRIu64 "/%" PRIu64 " DMAs", dm.d[0].dma_ok, dm.d[1].dma_ok,
	      dm.d[2].dma_ok);
	CHECK("trace events round-trip through the Linux format parser",
	      dm.trace_lines > 0 && dm.trace_bad == 0, "%" PRIu64 " events, %" PRIu64 " bad",
	      dm.trace_lines, dm.trace_bad);
	CHECK("page-table walkers saw the old or the new mapping during build and teardown",
	      ptr.err == 0 && ptr.wrong == 0 && ptr.walks > 0,
	      "%" PRIu64 " walks, %" PRIu64 " wrong, %" PRIu64 " invalidations%s%s",
	      ptr.walks, ptr.wrong, ptr.invals, ptr.err ? ", error: " : "",
	      ptr.err ? siommu_strerror(ptr.err) : "");
	CHECK("page-table teardown gave back every table page once the deferred frees ran",
	      ptr.err == 0 && ptr.pages_left == 1 && ptr.detached_left == 0 &&
	      ptr.reclaim_left == 0,
	      "peak %" PRIu64 " table pages; after teardown %" PRIu64 " (the root: 1), %" PRIu64
	      " detached, %" PRIu64 " waiting for a grace period", ptr.pages_peak,
	      ptr.pages_left, ptr.detached_left, ptr.reclaim_left);
	{
		struct demo_ioas_check ic[4];
		unsigned int k, ni = demo_ioas_checks(&ir, ic, 4);

		for (k = 0; k < ni; k++)
			CHECK(ic[k].what, ic[k].ok, "%s", ic[k].detail);
	}
	for (i = 0; i < nichecks; i++)
		CHECK(ichecks[i].what, ichecks[i].ok, "%s", ichecks[i].detail);
	CHECK("teardown released everything (every destroy succeeded)", tret == 0 && ir.teardown_ok,
	      "%s", tret ? "a destroy failed" : "all objects destroyed");

	if (demo_mm_part) {
		struct check_list cl = { checks, &nchecks, sizeof(checks) / sizeof(checks[0]) };

		demo_mm_part(RUN_SECONDS * 0.3, false, add_check, &cl);
	}

	for (i = 0; i < nchecks; i++)
		failed += !checks[i].ok;

	if (json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array(), *f;

		json_object_object_add(o, "seconds", json_object_new_double(now_s() - t0));
		json_object_object_add(o, "dma_ops", json_object_new_int64((int64_t)st.dma_ops));
		json_object_object_add(o, "dma_bytes",
				       json_object_new_int64((int64_t)(st.dma_read_bytes + st.dma_write_bytes)));
		json_object_object_add(o, "iotlb_hits", json_object_new_int64((int64_t)st.iotlb_hits));
		json_object_object_add(o, "iotlb_misses", json_object_new_int64((int64_t)st.iotlb_misses));
		f = json_object_new_object();
		for (i = 1; i < SIOMMU_FAULT_NR; i++)
			json_object_object_add(f, siommu_fault_reason_name(i),
					       json_object_new_int64((int64_t)st.faults[i]));
		json_object_object_add(o, "faults", f);
		json_object_object_add(o, "unmaps_strict", json_object_new_int64((int64_t)st.unmaps_strict));
		json_object_object_add(o, "unmaps_lazy", json_object_new_int64((int64_t)st.unmaps_lazy));
		json_object_object_add(o, "flush_queue_batches", json_object_new_int64((int64_t)st.fq_batches));
		for (i = 0; i < nchecks; i++) {
			json_object *c = json_object_new_object();

			json_object_object_add(c, "check", json_object_new_string(checks[i].what));
			json_object_object_add(c, "ok", json_object_new_boolean(checks[i].ok));
			json_object_object_add(c, "detail", json_object_new_string(checks[i].detail));
			json_object_array_add(arr, c);
		}
		json_object_object_add(o, "invariants", arr);
		json_object_object_add(o, "failed", json_object_new_int((int)failed));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		uint64_t lookups = st.iotlb_hits + st.iotlb_misses;

		printf("\nsoftiommu demo (library %s): %.1f s\n", siommu_version(), now_s() - t0);
		printf("  devices: %s (%s) and %s (%s) in strict domains, %s (%s) with PASID 1 in a lazy one\n",
		       dev_names[0], dev_bdfs[0], dev_names[1], dev_bdfs[1], dev_names[2], dev_bdfs[2]);
		printf("  driver: %" PRIu64 " buffers mapped, handed over, unmapped and reused\n", rounds);
		printf("  DMA: %" PRIu64 " transfers, %.1f MiB\n", st.dma_ops,
		       (double)(st.dma_read_bytes + st.dma_write_bytes) / (1 << 20));
		printf("  IOTLB: %" PRIu64 " hits, %" PRIu64 " misses (hit rate %.1f%%)\n",
		       st.iotlb_hits, st.iotlb_misses,
		       lookups ? 100.0 * (double)st.iotlb_hits / (double)lookups : 0.0);
		printf("  faults:");
		for (i = 1; i < SIOMMU_FAULT_NR; i++)
			printf(" %s %" PRIu64, siommu_fault_reason_name(i), st.faults[i]);
		printf(" (logged %" PRIu64 ", rate-limited %" PRIu64 "; %" PRIu64 " log messages)\n",
		       st.faults_logged, st.faults_ratelimited, dm.log_msgs);
		printf("  unmaps: %" PRIu64 " strict, %" PRIu64 " lazy in %" PRIu64
		       " flush-queue batches\n", st.unmaps_strict, st.unmaps_lazy, st.fq_batches);
		printf("  doorbell (MMIO) revoked mid-run: %" PRIu64 " rings before, %" PRIu64
		       " refused after\n", bell_ok, bell_refused);
		printf("  ioas: mdev0 pinned %" PRIu64 " pages, %" PRIu64 " reads and %" PRIu64
		       " writes through the IOAS while the driver unmapped %" PRIu64 " buffers (asked"
		       " %" PRIu64 " times); a misbehaving access held on: %s\n", ir.pins, ir.reads,
		       ir.writes, ir.unmaps, ir.asked, ir.stuck_log[0] ? ir.stuck_log : "(no log)");
		printf("invariants:\n");
		for (i = 0; i < nchecks; i++)
			printf("  [%s] %s: %s\n", checks[i].ok ? " ok " : "FAIL", checks[i].what,
			       checks[i].detail);
		printf("%u of %u invariants hold\n", nchecks - failed, nchecks);
	}
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}
