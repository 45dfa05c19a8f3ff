// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The demo's I/O page-fault part (seed 002), on an IOMMU of its own (host
 * addresses, a worker pool of two):
 *
 *  1. Demand paging: a PRI device reads a 1 MiB buffer through a domain
 *     that starts empty.  Each first touch of a page faults (the DMA gets
 *     -EAGAIN and a page request goes out); the resolve-by-mapping handler
 *     maps the page from the IOAS that backs the buffer and answers
 *     Success; the device retries and reads the page's data.
 *  2. Drain in flight: a second device sends page-request groups on PASID
 *     1, handled by a fault queue whose consumer thread answers each after
 *     a while (and one in eight never), and the PASID is detached while
 *     groups are in flight.  When the detach returns every group the device
 *     had sent before it is answered, and nothing is answered after.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <softiommu/softiommu.h>

#include "demo_iopf.h"

#define PG		4096ull
#define NPAGES		256u
#define IOVA		0x10000000ull
#define SLOTS		64u

struct pdev {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t responses;		/* [lock] */
	uint64_t success, invalid;	/* [lock] */
};

struct idemo {
	struct siommu_iopf *iopf;
	struct siommu_device *gpu, *acc;
	struct siommu_fault_queue *q;
	struct pdev pg;			/* the demand-paged device */
	uint8_t *buf;
	uint64_t faults, bad_pages, dma_errors;
	/* part 2 */
	int slot[SLOTS];		/* atomic: 1 outstanding */
	uint64_t reported[SLOTS];	/* atomic: seq once reported */
	uint64_t seq;			/* atomic */
	int detached;			/* atomic */
	uint64_t s0;			/* atomic: the sequence before the detach */
	uint64_t after, twice, groups;	/* atomic adds */
	int stop, cstop;		/* atomic */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void gpu_response(void *opaque, struct siommu_device *dev,
			 const struct siommu_page_response *r)
{
	struct pdev *p = opaque;

	(void)dev;
	pthread_mutex_lock(&p->lock);
	p->responses++;
	if (r->code == SIOMMU_PAGE_RESP_SUCCESS)
		p->success++;
	else
		p->invalid++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void acc_response(void *opaque, struct siommu_device *dev,
			 const struct siommu_page_response *r)
{
	struct idemo *d = opaque;
	int one = 1;

	(void)dev;
	if (r->prgi >= SLOTS)
		return;
	if (!__atomic_compare_exchange_n(&d->slot[r->prgi], &one, 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		__atomic_fetch_add(&d->twice, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&d->detached, __ATOMIC_ACQUIRE)) {
		uint64_t rep = __atomic_load_n(&d->reported[r->prgi], __ATOMIC_ACQUIRE);

		/* a group sent before the detach, answered after it returned */
		if (rep && rep <= __atomic_load_n(&d->s0, __ATOMIC_ACQUIRE))
			__atomic_fetch_add(&d->after, 1, __ATOMIC_RELAXED);
	}
}

/* Part 1: read every page; a fault waits for its response and retries. */
static void *gpu_main(void *arg)
{
	struct idemo *d = arg;
	uint8_t page[PG];
	unsigned int p;

	for (p = 0; p < NPAGES; p++) {
		unsigned int tries = 0;
		int ret;

		for (;;) {
			uint64_t seen;

			pthread_mutex_lock(&d->pg.lock);
			seen = d->pg.responses;
			pthread_mutex_unlock(&d->pg.lock);
			ret = siommu_dma_read(d->gpu, SIOMMU_NO_PASID, IOVA + p * PG, page, PG);
			if (ret != -EAGAIN || ++tries > 8)
				break;
			d->faults++;
			pthread_mutex_lock(&d->pg.lock);
			while (d->pg.responses == seen)
				pthread_cond_wait(&d->pg.cond, &d->pg.lock);
			pthread_mutex_unlock(&d->pg.lock);
		}
		if (ret)
			d->dma_errors++;
		else if (page[0] != (uint8_t)p || page[PG - 1] != (uint8_t)~p)
			d->bad_pages++;
	}
	return NULL;
}

/* Part 2: groups of 1-3 requests on PASID 1, as fast as slots free up. */
static void *acc_main(void *arg)
{
	struct idemo *d = arg;
	unsigned int k = 0, i, n;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		k = (k + 1) % SLOTS;
		if (__atomic_load_n(&d->slot[k], __ATOMIC_ACQUIRE))
			continue;
		__atomic_store_n(&d->reported[k], 0, __ATOMIC_RELEASE);
		__atomic_store_n(&d->slot[k], 1, __ATOMIC_RELEASE);
		n = 1 + k % 3;
		for (i = 0; i < n; i++) {
			struct siommu_page_request r = {
				.addr = 0x40000000ull + i * PG, .access = SIOMMU_ACC_WRITE,
				.flags = SIOMMU_PRQ_PASID | (i == n - 1 ? SIOMMU_PRQ_LAST : 0),
				.pasid = 1, .prgi = (uint16_t)k,
			};

			siommu_iopf_report(d->iopf, d->acc, &r);
		}
		__atomic_store_n(&d->reported[k], __atomic_add_fetch(&d->seq, 1, __ATOMIC_ACQ_REL),
				 __ATOMIC_RELEASE);
		__atomic_fetch_add(&d->groups, 1, __ATOMIC_RELAXED);
		usleep(50);
	}
	return NULL;
}

/* The fault queue's consumer: answers 0.5-2 ms later, one in eight never. */
static void *consumer_main(void *arg)
{
	struct idemo *d = arg;
	struct siommu_fault_queue_record rec[16];
	struct { uint32_t cookie; double due; } held[64];
	unsigned int nheld = 0, i, seed = 3;

	while (!__atomic_load_n(&d->cstop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = siommu_fault_queue_fd(d->q), .events = POLLIN };
		double now;

		if (nheld < 48 && poll(&p, 1, 1) == 1) {
			ssize_t n = siommu_fault_queue_read(d->q, rec, sizeof(rec));

			for (i = 0; n > 0 && i < (size_t)n / sizeof(rec[0]); i++) {
				if (!(rec[i].flags & SIOMMU_FQ_LAST_PAGE) || rand_r(&seed) % 8 == 0)
					continue;
				held[nheld].cookie = rec[i].cookie;
				held[nheld++].due = now_s() + 0.0005 * (1 + rand_r(&seed) % 4);
			}
		}
		now = now_s();
		for (i = 0; i < nheld;) {
			struct siommu_fault_queue_response r = { held[i].cookie,
								 SIOMMU_PAGE_RESP_SUCCESS };

			if (held[i].due > now) {
				i++;
				continue;
			}
			siommu_fault_queue_write(d->q, &r, sizeof(r));
			held[i] = held[--nheld];
		}
	}
	return NULL;
}

static void add(struct demo_iopf_check *out, unsigned int *n, unsigned int max,
		const char *what, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void add(struct demo_iopf_check *out, unsigned int *n, unsigned int max,
		const char *what, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (*n >= max)
		return;
	out[*n].what = what;
	out[*n].ok = ok;
	va_start(ap, fmt);
	vsnprintf(out[*n].detail, sizeof(out[*n].detail), fmt, ap);
	va_end(ap);
	(*n)++;
}

unsigned int demo_iopf_part(bool print, struct demo_iopf_check *out, unsigned int max)
{
	static struct idemo d;
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_WORKERS, .workers = 2,
					.drain_timeout_ms = 20 };
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST };
	struct siommu_ctx *ctx = NULL;
	struct siommu_iommu *iommu = NULL;
	struct siommu_ioas_layer *l = NULL;
	struct siommu_ioas *backing = NULL;
	struct siommu_domain *lazy = NULL, *qd = NULL;
	struct siommu_iopf_stats st = { 0 };
	pthread_t g, a, c;
	uint64_t iova = IOVA, s0 = 0, pending = 0;
	unsigned int n = 0, i;
	int ret;

	memset(&d, 0, sizeof(d));
	pthread_mutex_init(&d.pg.lock, NULL);
	pthread_cond_init(&d.pg.cond, NULL);
	d.buf = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (d.buf == MAP_FAILED) {
		add(out, &n, max, "iopf part set up", false, "mmap failed");
		return n;
	}
	for (i = 0; i < NPAGES; i++) {
		d.buf[i * PG] = (uint8_t)i;
		d.buf[i * PG + PG - 1] = (uint8_t)~i;
	}
	m.host = d.buf;
	ret = siommu_ctx_create(&ctx);
	ret = ret ? ret : siommu_iommu_create(ctx, &caps, NULL, &iommu);
	ret = ret ? ret : siommu_iopf_create(iommu, &icfg, &d.iopf);
	ret = ret ? ret : siommu_ioas_layer_create(ctx, iommu, &l);
	ret = ret ? ret : siommu_ioas_create(l, &backing);
	ret = ret ? ret : siommu_ioas_map(backing, &m, NPAGES * PG, SIOMMU_IOAS_MAP_READ |
					  SIOMMU_IOAS_MAP_FIXED_IOVA, &iova);
	ret = ret ? ret : siommu_device_create(iommu, SIOMMU_RID(0, 7, 0, 0), SIOMMU_DEV_PRI, 0,
					       &d.gpu);
	ret = ret ? ret : siommu_device_create(iommu, SIOMMU_RID(0, 7, 1, 0), SIOMMU_DEV_PRI |
					       SIOMMU_DEV_PASID, 8, &d.acc);
	ret = ret ? ret : siommu_domain_create(iommu, &cfg, &lazy);
	ret = ret ? ret : siommu_domain_create(iommu, &cfg, &qd);
	ret = ret ? ret : siommu_iopf_domain_set_resolver(d.iopf, lazy, backing);
	ret = ret ? ret : siommu_fault_queue_create(d.iopf, &d.q);
	ret = ret ? ret : siommu_fault_queue_set_domain(d.q, qd);
	ret = ret ? ret : siommu_iopf_device_enable(d.iopf, d.gpu, gpu_response, &d.pg);
	ret = ret ? ret : siommu_iopf_device_enable(d.iopf, d.acc, acc_response, &d);
	ret = ret ? ret : siommu_device_attach(d.gpu, lazy);
	ret = ret ? ret : siommu_pasid_attach(d.acc, 1, qd);
	if (!ret) {
		pthread_create(&c, NULL, consumer_main, &d);
		pthread_create(&a, NULL, acc_main, &d);
		pthread_create(&g, NULL, gpu_main, &d);
		pthread_join(g, NULL);		/* part 1 runs beside part 2's traffic */
		usleep(20000);
		s0 = __atomic_load_n(&d.seq, __ATOMIC_ACQUIRE);
		__atomic_store_n(&d.s0, s0, __ATOMIC_RELEASE);
		ret = siommu_pasid_detach(d.acc, 1);	/* drains with groups in flight */
		__atomic_store_n(&d.detached, 1, __ATOMIC_RELEASE);
		for (i = 0; i < SLOTS; i++) {
			uint64_t rep = __atomic_load_n(&d.reported[i], __ATOMIC_ACQUIRE);

			if (__atomic_load_n(&d.slot[i], __ATOMIC_ACQUIRE) && rep && rep <= s0)
				pending++;
		}
		usleep(10000);			/* late answers arrive (and are dropped) */
		__atomic_store_n(&d.stop, 1, __ATOMIC_RELEASE);
		pthread_join(a, NULL);
		__atomic_store_n(&d.cstop, 1, __ATOMIC_RELEASE);
		pthread_join(c, NULL);
		siommu_iopf_get_stats(d.iopf, &st);
	}

	add(out, &n, max, "demand paging: every page read its data once its fault was resolved",
	    !ret && d.bad_pages == 0 && d.dma_errors == 0 && d.faults >= NPAGES,
	    "%u pages, %" PRIu64 " faults, %" PRIu64 " Success, %" PRIu64 " other, %" PRIu64
	    " bad, %" PRIu64 " DMA errors", NPAGES, d.faults, d.pg.success, d.pg.invalid,
	    d.bad_pages, d.dma_errors);
	add(out, &n, max, "a detach in flight drained its PASID: nothing pending after it returned",
	    !ret && pending == 0 && st.drains > 0, "%" PRIu64 " groups sent, %" PRIu64
	    " drained (%" PRIu64 " after the timeout), %" PRIu64 " pending after the detach",
	    d.groups, st.drained_groups, st.drain_timeouts, pending);
	add(out, &n, max, "every page request group was answered at most once, none after its drain",
	    !ret && d.twice == 0 && d.after == 0, "%" PRIu64 " answered twice, %" PRIu64
	    " after the detach returned, %" PRIu64 " late answers dropped", d.twice, d.after,
	    st.resp_dropped);
	(void)print;	/* the invariants' details say it all */

	if (d.gpu)
		siommu_device_detach(d.gpu);
	if (d.iopf) {
		siommu_iopf_device_disable(d.iopf, d.gpu);
		siommu_iopf_device_disable(d.iopf, d.acc);
		siommu_iopf_domain_clear_handler(d.iopf, lazy);
		siommu_iopf_domain_clear_handler(d.iopf, qd);
	}
	ret = siommu_fault_queue_destroy(d.q);
	ret = ret ? ret : siommu_iopf_destroy(d.iopf);
	ret = ret ? ret : siommu_domain_destroy(lazy);
	ret = ret ? ret : siommu_domain_destroy(qd);
	ret = ret ? ret : siommu_device_destroy(d.gpu);
	ret = ret ? ret : siommu_device_destroy(d.acc);
	ret = ret ? ret : siommu_ioas_destroy(backing);
	ret = ret ? ret : siommu_ioas_layer_destroy(l);
	ret = ret ? ret : siommu_iommu_destroy(iommu);
	ret = ret ? ret : siommu_ctx_destroy(ctx);
	add(out, &n, max, "the iopf part released everything", ret == 0, "%s",
	    ret ? siommu_strerror(ret) : "all objects destroyed");
	munmap(d.buf, NPAGES * PG);
	pthread_cond_destroy(&d.pg.cond);
	pthread_mutex_destroy(&d.pg.lock);
	return n;
}
