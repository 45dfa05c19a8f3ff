// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The soak's iopf part: the demo's seed-002 world under random traffic.
 * Two IOMMUs without memory map: W (an iopf with a worker pool of two and a
 * small page-request queue, so that it overflows now and then) and I (an
 * INLINE iopf).  On W:
 *  - pri0, pri1 (PRI, PASID, PRG Response PASID Required) raise page
 *    request groups of 1-3 requests on PASIDs 1-3 and without PASID, to
 *    whatever domain each PASID has now: a fault queue's (qdom), a handler
 *    that answers at once or later (hdom), the resolver that maps from an
 *    IOAS (rdom), or none;
 *  - gpu (PRI) reads a buffer through rdom, demand paged from the IOAS:
 *    every first touch faults (-EAGAIN), the resolver maps the page and
 *    answers, the DMA is retried and must read the page's data; rdom is
 *    emptied now and then;
 *  - a consumer thread reads the fault queue's descriptor and answers each
 *    group: at once, late, never (the drain answers it), or twice;
 *  - a responder thread answers the groups hdom's handler kept (ASYNC);
 *  - an attach thread attaches, replaces and detaches the PASIDs among the
 *    domains (each detach and replace drains while faults fly), now and
 *    then disables and enables pri1 (a drain of every PASID), and runs a
 *    fault queue's whole life on pri0's PASID 3 (create, attach, close or
 *    answer in part, detach, clear, destroy).
 * On I, pri2 raises groups to a handler called in its own thread.
 * Invariants:
 *  - every page request group is answered exactly once: each device counts
 *    the groups it raised (the last request reported) and the responses
 *    its response function got, per (PASID, PRG index): no response to a
 *    group not outstanding, and at the end raised == answered, nothing
 *    outstanding, and the library's delivered counts agree;
 *  - when a detach, replace or disable returns, no group raised before it
 *    is pending, and no response arrives for one afterwards;
 *  - a response to nothing pending (a late or duplicate one, by PRG index)
 *    is refused -ENOENT; a second answer of a fault-queue cookie -ENOENT;
 *  - groups reach handlers whole (one PRG index and PASID, the last with L);
 *  - demand paging reads each page's data once its fault was answered.
 */
#include <poll.h>

#include "soak.h"

#include "siommu_config.h"
#if SIOMMU_TESTING_BUILD
#include "iopf/iopf_internal.h"
#endif

#define PG		SOAK_PG
#define NPASIDX		4		/* index 0: no PASID; 1..3: PASID 1..3 */
#define NPRGI		16
#define NPRI		3		/* pri0, pri1 on W; pri2 on I */
#define BACK_IOVA	0x10000000ull
#define BACK_PAGES	64u
#define HELD_MAX	256

static struct soak_inv inv_once = {
	.name = "iopf: every page request group answered exactly once"
};
static struct soak_inv inv_drain = {
	.name = "iopf: nothing pending, nothing answered after a drain"
};
static struct soak_inv inv_dropped = { .name = "iopf: a late or duplicate response is refused" };
static struct soak_inv inv_group = { .name = "iopf: groups reach handlers whole" };
static struct soak_inv inv_paging = { .name = "iopf: demand paging reads the data once answered" };
static struct soak_inv inv_stats = { .name = "iopf: the library's delivered counts agree" };
static struct soak_inv inv_leak = { .name = "iopf: every object destroyed (each destroy 0)" };

static const char *const contracts[] = {
	"siommu_iopf_report", "siommu_iopf_respond", "siommu_iopf_clear_overflow",
	"siommu_iopf_group_respond", "siommu_iopf_device_enable", "siommu_iopf_device_disable",
	"siommu_fault_queue_read", "siommu_fault_queue_write", "siommu_pasid_attach",
	"siommu_pasid_replace", "siommu_pasid_detach", "siommu_device_attach",
	"siommu_device_replace", "siommu_device_detach", "siommu_dma_read",
	"siommu_domain_unmap", "siommu_iopf_get_stats", "siommu_fault_queue_create",
	"siommu_fault_queue_close", "siommu_fault_queue_destroy",
	"siommu_iopf_domain_clear_handler", NULL
};

struct pf_slot {
	_Atomic int state;		/* 1: raised, not answered */
	_Atomic uint64_t rep;		/* sequence once raised (0 while raising) */
};

struct pf_dev {
	struct siommu_device *dev;
	struct siommu_iopf *iopf;
	uint32_t rid;
	struct pf_slot slot[NPASIDX][NPRGI];
	_Atomic uint64_t drained_upto[NPASIDX];	/* sequence of the last drain's start */
	_Atomic uint64_t raised, answered;
};

struct pf_gpu {
	struct siommu_device *dev;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t responses;		/* [lock] */
	_Atomic uint64_t eagain;
};

struct held {
	struct siommu_iopf_group *g;
	double due;
};

static struct {
	struct siommu_iommu *iw, *ii;
	struct siommu_iopf *pw, *pi;
	struct siommu_ioas_layer *l;
	struct siommu_ioas *backing;
	uint8_t *buf;
	struct siommu_domain *qdom, *hdom, *rdom, *idom, *idom_none;
	struct siommu_domain *tdom;	/* the fault queues of fq_cycle() */
	struct siommu_fault_queue *q;
	struct pf_dev pri[NPRI];
	struct pf_gpu gpu;
	_Atomic uint64_t seq;
	pthread_mutex_t held_lock;
	struct held held[HELD_MAX];	/* [held_lock] groups hdom's handler keeps */
	unsigned int nheld;		/* [held_lock] */
	_Atomic uint64_t handled, async_late;
} PF;

static double now_s(void)
{
	return test_now_s();
}

static unsigned int pidx_of(bool has_pasid, uint32_t pasid)
{
	return has_pasid ? pasid : 0;
}

/* ------------------------------------------------------------------ devices' side */

static void pri_response(void *opaque, struct siommu_device *dev,
			 const struct siommu_page_response *r)
{
	struct pf_dev *d = opaque;
	unsigned int p = pidx_of(r->flags & SIOMMU_PRQ_PASID, r->pasid);
	struct pf_slot *sl;
	uint64_t rep;
	int one = 1;

	(void)dev;
	if (p >= NPASIDX || r->prgi >= NPRGI) {
		soak_violation(&inv_once, __FILE__, __LINE__, "a response to nothing raised "
			       "(PASID %u, PRG %u)", r->pasid, r->prgi);
		return;
	}
	sl = &d->slot[p][r->prgi];
	rep = atomic_load(&sl->rep);
	if (!atomic_compare_exchange_strong(&sl->state, &one, 0)) {
		soak_violation(&inv_once, __FILE__, __LINE__, "device %x: a response to a group "
			       "not outstanding (PASID idx %u, PRG %u)", d->rid, p, r->prgi);
		return;
	}
	soak_pass(&inv_once);
	atomic_fetch_add(&d->answered, 1);
	if (rep)
		INV(&inv_drain, rep > atomic_load(&d->drained_upto[p]),
		    "device %x: a group raised before a drain (seq %llu) answered after it",
		    d->rid, (unsigned long long)rep);
}

static void gpu_response(void *opaque, struct siommu_device *dev,
			 const struct siommu_page_response *r)
{
	struct pf_gpu *g = opaque;

	(void)dev;
	(void)r;
	pthread_mutex_lock(&g->lock);
	g->responses++;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* Raise one group in a free slot of @d: 1-3 requests, the last with L. */
static void raise_group(struct pf_dev *d, uint64_t *s, bool pasids)
{
	unsigned int p = pasids ? (unsigned int)(soak_rnd(s) % NPASIDX) : 0;
	uint16_t prgi = (uint16_t)(soak_rnd(s) % NPRGI);
	struct pf_slot *sl = &d->slot[p][prgi];
	unsigned int n = 1 + (unsigned int)(soak_rnd(s) % 3), i;
	bool backed = soak_rnd(s) % 4 != 0;
	int64_t ret = 0;

	if (atomic_load(&sl->state)) {
		/*
		 * Outstanding: a response by its PRG index to another, free
		 * slot must find nothing (a late or duplicate answer).
		 */
		uint16_t other = (uint16_t)((prgi + 1) % NPRGI);

		if (!atomic_load(&d->slot[p][other].state)) {
			struct siommu_page_response r = {
				.prgi = other, .flags = p ? SIOMMU_PRQ_PASID : 0, .pasid = p,
				.code = SIOMMU_PAGE_RESP_SUCCESS,
			};

			ret = C(siommu_iopf_respond(d->iopf, d->dev, &r));
			INV(&inv_dropped, ret == -ENOENT || ret == -ENODEV,
			    "a response to a free PRG index %u gave %s", other,
			    siommu_errname((int)ret));
		}
		sched_yield();
		return;
	}
	atomic_store(&sl->rep, 0);
	atomic_store(&sl->state, 1);
	for (i = 0; i < n; i++) {
		struct siommu_page_request r = {
			.addr = (backed ? BACK_IOVA : 0x7000000000ull) + (soak_rnd(s) % BACK_PAGES) * PG,
			.access = soak_rnd(s) % 2 ? SIOMMU_ACC_READ : SIOMMU_ACC_WRITE,
			.flags = (p ? SIOMMU_PRQ_PASID : 0) | (i == n - 1 ? SIOMMU_PRQ_LAST : 0),
			.pasid = p, .prgi = prgi,
		};

		ret = C(siommu_iopf_report(d->iopf, d->dev, &r));
		thread_assert_true(ret == 0 || ret == 1 || ret == -ENODEV);
	}
	if (ret < 0) {
		atomic_store(&sl->state, 0);	/* not enabled: nothing raised */
		return;
	}
	atomic_fetch_add(&d->raised, 1);
	atomic_store(&sl->rep, atomic_fetch_add(&PF.seq, 1) + 1);
}

static void *raiser_thread(void *arg)
{
	unsigned int me = (unsigned int)(uintptr_t)arg - 1;	/* threads 1..3: pri0..2 */
	uint64_t s = soak_thread_seed(0x10f0 + me);
	struct pf_dev *d = &PF.pri[me];

	while (!soak_stopping()) {
		soak_op(&soak_iopf);
		if (me == 0 && soak_rnd(&s) % 64 == 0) {
			C(siommu_iopf_clear_overflow(PF.pw));
			continue;
		}
		if (soak_rnd(&s) % 32 == 0) {
			/* a Stop Marker: the PASID's partial groups are discarded */
			struct siommu_page_request r = {
				.flags = SIOMMU_PRQ_PASID | SIOMMU_PRQ_LAST,
				.pasid = 1 + (uint32_t)(soak_rnd(&s) % 3),
			};
			int64_t ret = C(siommu_iopf_report(d->iopf, d->dev, &r));

			thread_assert_true(ret == 0 || ret == 1 || ret == -ENODEV);
			continue;
		}
		raise_group(d, &s, true);
		if (soak_rnd(&s) % 4 == 0)
			usleep(50);
	}
	return NULL;
}

/* The demand-paged device: reads pages of the IOAS-backed buffer through rdom. */
static void *gpu_thread(void *arg)
{
	uint64_t s = soak_thread_seed(0x10f9);
	struct pf_gpu *g = &PF.gpu;
	uint8_t page[64];

	(void)arg;
	while (!soak_stopping()) {
		unsigned int p = (unsigned int)(soak_rnd(&s) % BACK_PAGES), tries = 0;
		int64_t ret;

		soak_op(&soak_iopf);
		if (soak_rnd(&s) % 128 == 0) {
			/* empty rdom: the next touches fault again */
			ret = C(siommu_domain_unmap(PF.rdom, BACK_IOVA, BACK_PAGES * PG));
			thread_assert_true(ret >= 0);
			continue;
		}
		for (;;) {
			uint64_t seen;
			struct timespec ts;
			bool timed_out = false;

			pthread_mutex_lock(&g->lock);
			seen = g->responses;
			pthread_mutex_unlock(&g->lock);
			ret = C(siommu_dma_read(g->dev, SIOMMU_NO_PASID, BACK_IOVA + p * PG +
						PG - sizeof(page), page, sizeof(page)));
			if (ret != -EAGAIN)
				break;
			atomic_fetch_add(&g->eagain, 1);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 10;
			pthread_mutex_lock(&g->lock);
			while (g->responses == seen && !timed_out)
				timed_out = pthread_cond_timedwait(&g->cond, &g->lock, &ts) != 0;
			pthread_mutex_unlock(&g->lock);
			INV(&inv_once, !timed_out, "the gpu's page request got no answer in 10 s");
			if (++tries > 8 || timed_out)
				break;
		}
		if (!ret)
			INV(&inv_paging, page[0] == (uint8_t)p && page[63] == (uint8_t)~p,
			    "page %u read 0x%02x..0x%02x", p, page[0], page[63]);
		else
			/* a fault can lose its race with rdom's emptying 8 times: rare */
			thread_assert_true(ret == -EAGAIN);
	}
	return NULL;
}

/* ------------------------------------------------------------------ handlers */

static void check_group(struct siommu_iopf_group *g)
{
	unsigned int n = siommu_iopf_group_count(g), i;
	const struct siommu_page_request *last = siommu_iopf_group_request(g, n - 1);
	/*
	 * At most the 3 a group is sent with: the partial requests of a group
	 * whose last one the full queue answered are discarded when the
	 * overflow is cleared, those still in the PRQ too (before that fix
	 * they joined the group's retry: 5 requests, seen by this check).
	 */
	bool ok = n >= 1 && n <= 3 && last && (last->flags & SIOMMU_PRQ_LAST);

	for (i = 0; ok && i + 1 < n; i++) {
		const struct siommu_page_request *r = siommu_iopf_group_request(g, i);

		ok = r && !(r->flags & SIOMMU_PRQ_LAST) && r->prgi == last->prgi &&
		     (r->flags & SIOMMU_PRQ_PASID) == (last->flags & SIOMMU_PRQ_PASID) &&
		     r->pasid == last->pasid;
	}
	ok = ok && siommu_iopf_group_request(g, n) == NULL;
	INV(&inv_group, ok, "a group of %u requests is not whole", n);
}

/* hdom's and idom's handler: answers at once, later (ASYNC), or both. */
static int handle(void *opaque, struct siommu_iopf_group *g)
{
	uint64_t k = atomic_fetch_add(&PF.handled, 1) * 0x9e3779b97f4a7c15ull >> 60;

	(void)opaque;
	check_group(g);
	if (k < 6)
		return SIOMMU_PAGE_RESP_SUCCESS;
	if (k < 8)
		return SIOMMU_PAGE_RESP_INVALID;
	if (k < 10) {
		/* answers before it returns: returns ASYNC too */
		C(siommu_iopf_group_respond(g, SIOMMU_PAGE_RESP_SUCCESS));
		return SIOMMU_IOPF_ASYNC;
	}
	pthread_mutex_lock(&PF.held_lock);
	if (PF.nheld == HELD_MAX) {
		pthread_mutex_unlock(&PF.held_lock);
		return SIOMMU_PAGE_RESP_SUCCESS;
	}
	PF.held[PF.nheld].g = g;
	PF.held[PF.nheld++].due = now_s() + 0.0005 * (double)(k - 9);
	pthread_mutex_unlock(&PF.held_lock);
	return SIOMMU_IOPF_ASYNC;
}

/* A drain began: answer @g now if the responder has not taken it. */
static void cancel(void *opaque, struct siommu_iopf_group *g)
{
	unsigned int i;
	bool mine = false;

	(void)opaque;
	pthread_mutex_lock(&PF.held_lock);
	for (i = 0; i < PF.nheld; i++) {
		if (PF.held[i].g == g) {
			PF.held[i] = PF.held[--PF.nheld];
			mine = true;
			break;
		}
	}
	pthread_mutex_unlock(&PF.held_lock);
	if (mine)
		C(siommu_iopf_group_respond(g, SIOMMU_PAGE_RESP_INVALID));
}

static void *responder_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct siommu_iopf_group *g = NULL;
		double now = now_s();
		unsigned int i;

		pthread_mutex_lock(&PF.held_lock);
		if (soak_stopping() && !PF.nheld) {
			pthread_mutex_unlock(&PF.held_lock);
			break;
		}
		for (i = 0; i < PF.nheld; i++) {
			if (PF.held[i].due <= now || soak_stopping()) {
				g = PF.held[i].g;
				PF.held[i] = PF.held[--PF.nheld];
				break;
			}
		}
		pthread_mutex_unlock(&PF.held_lock);
		if (!g) {
			usleep(200);
			continue;
		}
		soak_op(&soak_iopf);
		if (C(siommu_iopf_group_respond(g, SIOMMU_PAGE_RESP_SUCCESS)) == -ECANCELED)
			atomic_fetch_add(&PF.async_late, 1);	/* the drain's timeout answered it */
	}
	return NULL;
}

/* The fault queue's consumer: answers at once, late, never, or twice. */
static void *consumer_thread(void *arg)
{
	uint64_t s = soak_thread_seed(0x10fc);
	struct siommu_fault_queue_record rec[16];
	struct { uint32_t cookie; double due; } held[64];
	unsigned int nheld = 0, i;

	(void)arg;
	while (!soak_stopping()) {
		struct pollfd p = { .fd = siommu_fault_queue_fd(PF.q), .events = POLLIN };
		double now;

		if (nheld < 48 && poll(&p, 1, 1) == 1) {
			ssize_t n = C(siommu_fault_queue_read(PF.q, rec, sizeof(rec)));

			soak_op(&soak_iopf);
			for (i = 0; n > 0 && i < (size_t)n / sizeof(rec[0]); i++) {
				uint64_t k = soak_rnd(&s) % 16;
				struct siommu_fault_queue_response r = {
					rec[i].cookie, k % 2 ? SIOMMU_PAGE_RESP_INVALID :
							       SIOMMU_PAGE_RESP_SUCCESS };

				INV(&inv_group, rec[i].grpid < NPRGI && rec[i].reserved == 0 &&
				    (rec[i].dev_id == PF.pri[0].rid || rec[i].dev_id == PF.pri[1].rid) &&
				    (!(rec[i].flags & SIOMMU_FQ_PASID_VALID) ||
				     (rec[i].pasid >= 1 && rec[i].pasid < NPASIDX)),
				    "a fault-queue record: dev %x grp %u pasid %u flags %x",
				    rec[i].dev_id, rec[i].grpid, rec[i].pasid, rec[i].flags);
				if (!(rec[i].flags & SIOMMU_FQ_LAST_PAGE))
					continue;
				if (k < 9) {
					C(siommu_fault_queue_write(PF.q, &r, sizeof(r)));
				} else if (k < 11) {
					/* twice: the second must be refused */
					C(siommu_fault_queue_write(PF.q, &r, sizeof(r)));
					INV(&inv_dropped, C(siommu_fault_queue_write(PF.q, &r,
						sizeof(r))) == -ENOENT, "a cookie answered twice");
				} else if (k < 15) {
					held[nheld].cookie = rec[i].cookie;
					held[nheld++].due = now_s() + 0.001 * (double)(k - 10);
				}
				/* else never: the drain's timeout answers it */
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
			/* late: delivered, or dropped and counted if a drain answered it */
			C(siommu_fault_queue_write(PF.q, &r, sizeof(r)));
			held[i] = held[--nheld];
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ attachments */

/* After a drain of @d's PASID index @p (all: every one) that began at @s0. */
static void drained(struct pf_dev *d, int p, uint64_t s0)
{
	unsigned int i, k;

	for (i = 0; i < NPASIDX; i++) {
		if (p >= 0 && (unsigned int)p != i)
			continue;
		for (k = 0; k < NPRGI; k++) {
			uint64_t rep = atomic_load(&d->slot[i][k].rep);
			bool out = atomic_load(&d->slot[i][k].state);

			INV(&inv_drain, !out || !rep || rep > s0,
			    "device %x: PASID idx %u PRG %u raised (seq %llu) before a drain "
			    "(seq %llu) is pending after it", d->rid, i, k,
			    (unsigned long long)rep, (unsigned long long)s0);
		}
		if (atomic_load(&d->drained_upto[i]) < s0)
			atomic_store(&d->drained_upto[i], s0);
	}
}

/*
 * A fault queue's whole life on pri0's PASID 3: created, made tdom's
 * handler, tdom attached (or replaced in) while pri0 raises; then closed
 * with groups unread (every one answered Invalid), or read and answered in
 * part; detached (a drain), the handler cleared, the queue destroyed.
 */
static void fq_cycle(uint64_t *s)
{
	struct pf_dev *d = &PF.pri[0];
	struct siommu_domain *old = siommu_device_domain(d->dev, 3);
	struct siommu_fault_queue_record rec[8];
	struct siommu_fault_queue *q2;
	uint64_t s0 = atomic_load(&PF.seq);
	int64_t ret;

	thread_assert_int_equal(C(siommu_fault_queue_create(PF.pw, &q2)), 0);
	thread_assert_int_equal(siommu_fault_queue_set_domain(q2, PF.tdom), 0);
	if (old) {
		thread_assert_int_equal(C(siommu_pasid_replace(d->dev, 3, PF.tdom)), 0);
		drained(d, 3, s0);
	} else {
		thread_assert_int_equal(C(siommu_pasid_attach(d->dev, 3, PF.tdom)), 0);
	}
	usleep((useconds_t)(1000 + soak_rnd(s) % 2000));
	if (soak_rnd(s) % 2) {
		ret = C(siommu_fault_queue_close(q2));
		thread_assert_true(ret >= 0);
		usleep(500);		/* groups that come now are answered at once */
	} else {
		ssize_t n = C(siommu_fault_queue_read(q2, rec, sizeof(rec)));

		for (size_t i = 0; n > 0 && i < (size_t)n / sizeof(rec[0]); i++) {
			struct siommu_fault_queue_response r = { rec[i].cookie,
								 SIOMMU_PAGE_RESP_SUCCESS };

			if (rec[i].flags & SIOMMU_FQ_LAST_PAGE && i % 2)
				C(siommu_fault_queue_write(q2, &r, sizeof(r)));
		}
	}
	s0 = atomic_load(&PF.seq);
	thread_assert_int_equal(C(siommu_pasid_detach(d->dev, 3)), 0);
	drained(d, 3, s0);
	thread_assert_int_equal(C(siommu_iopf_domain_clear_handler(PF.pw, PF.tdom)), 0);
	thread_assert_int_equal(C(siommu_fault_queue_destroy(q2)), 0);
}

static void *attach_thread(void *arg)
{
	uint64_t s = soak_thread_seed(0x10fa);
	struct siommu_domain *wdoms[4] = { PF.qdom, PF.hdom, PF.rdom, NULL };
	struct siommu_domain *idoms[3] = { PF.idom, PF.idom_none, NULL };

	(void)arg;
#if SIOMMU_TESTING_BUILD
	/* the broken variant: this thread's drains answer nothing (requests only) */
	iopf_test_set_naive_drain(soak_broken("iopf-naive-drain"));
#endif
	while (!soak_stopping()) {
		unsigned int di = (unsigned int)(soak_rnd(&s) % NPRI);
		struct pf_dev *d = &PF.pri[di];
		unsigned int p = (unsigned int)(soak_rnd(&s) % NPASIDX);
		uint32_t pasid = p ? p : SIOMMU_NO_PASID;
		struct siommu_domain *to = di < 2 ? wdoms[soak_rnd(&s) % 4] : idoms[soak_rnd(&s) % 3];
		struct siommu_domain *old = siommu_device_domain(d->dev, pasid);
		uint64_t s0 = atomic_load(&PF.seq);
		int64_t ret;

		soak_op(&soak_iopf);
		if (soak_rnd(&s) % 64 == 0) {
			fq_cycle(&s);
			continue;
		}
		if (di == 1 && soak_rnd(&s) % 32 == 0) {
			/* device removal and return: every PASID drained */
			thread_assert_int_equal(C(siommu_iopf_device_disable(d->iopf, d->dev)), 0);
			drained(d, -1, s0);
			usleep(500);
			thread_assert_int_equal(C(siommu_iopf_device_enable(d->iopf, d->dev,
							pri_response, d)), 0);
			continue;
		}
		if (!to) {
			ret = p ? C(siommu_pasid_detach(d->dev, pasid)) : C(siommu_device_detach(d->dev));
		} else if (!old) {
			ret = p ? C(siommu_pasid_attach(d->dev, pasid, to)) :
				  C(siommu_device_attach(d->dev, to));
		} else {
			ret = p ? C(siommu_pasid_replace(d->dev, pasid, to)) :
				  C(siommu_device_replace(d->dev, to));
		}
		thread_assert_true(ret == 0 || (!to && !old && ret == -ENOENT) ||
				   (!to && !old && ret == 0));
		if (!ret && old && old != to)
			drained(d, (int)p, s0);		/* detach or replace: a drain */
		usleep(300);
	}
	return NULL;
}

/* ------------------------------------------------------------------ world */

static const struct siommu_iopf_handler handler = {
	.name = "soak", .flags = SIOMMU_IOPF_HANDLER_ATOMIC, .handle = handle, .cancel = cancel,
};

static void iopf_create(struct siommu_ctx *ctx)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8, .prq_size = 32 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg wcfg = { .mode = SIOMMU_IOPF_MODE_WORKERS, .workers = 2,
					.drain_timeout_ms = 20 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_INLINE, .drain_timeout_ms = 20 };
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST };
	uint64_t iova = BACK_IOVA;
	unsigned int i;

	PF.buf = aligned_alloc(PG, BACK_PAGES * PG);
	assert_non_null(PF.buf);
	for (i = 0; i < BACK_PAGES; i++) {
		memset(PF.buf + i * PG, (uint8_t)i, PG);
		PF.buf[i * PG + PG - 1] = (uint8_t)~i;
	}
	m.host = PF.buf;
	pthread_mutex_init(&PF.held_lock, NULL);
	pthread_mutex_init(&PF.gpu.lock, NULL);
	pthread_cond_init(&PF.gpu.cond, NULL);
	assert_int_equal(siommu_iommu_create(ctx, &caps, NULL, &PF.iw), 0);
	assert_int_equal(siommu_iommu_create(ctx, &caps, NULL, &PF.ii), 0);
	assert_int_equal(siommu_iopf_create(PF.iw, &wcfg, &PF.pw), 0);
	assert_int_equal(siommu_iopf_create(PF.ii, &icfg, &PF.pi), 0);
	assert_int_equal(siommu_ioas_layer_create(ctx, PF.iw, &PF.l), 0);
	assert_int_equal(siommu_ioas_create(PF.l, &PF.backing), 0);
	assert_int_equal(siommu_ioas_map(PF.backing, &m, BACK_PAGES * PG, SIOMMU_IOAS_MAP_READ |
					 SIOMMU_IOAS_MAP_WRITE | SIOMMU_IOAS_MAP_FIXED_IOVA, &iova),
			 0);
	assert_int_equal(siommu_domain_create(PF.iw, &cfg, &PF.qdom), 0);
	assert_int_equal(siommu_domain_create(PF.iw, &cfg, &PF.hdom), 0);
	assert_int_equal(siommu_domain_create(PF.iw, &cfg, &PF.rdom), 0);
	assert_int_equal(siommu_domain_create(PF.iw, &cfg, &PF.tdom), 0);
	assert_int_equal(siommu_domain_create(PF.ii, &cfg, &PF.idom), 0);
	assert_int_equal(siommu_domain_create(PF.ii, &cfg, &PF.idom_none), 0);
	assert_int_equal(siommu_fault_queue_create(PF.pw, &PF.q), 0);
	assert_int_equal(siommu_fault_queue_set_domain(PF.q, PF.qdom), 0);
	assert_int_equal(siommu_iopf_domain_set_handler(PF.pw, PF.hdom, &handler, NULL), 0);
	assert_int_equal(siommu_iopf_domain_set_resolver(PF.pw, PF.rdom, PF.backing), 0);
	assert_int_equal(siommu_iopf_domain_set_handler(PF.pi, PF.idom, &handler, NULL), 0);
	for (i = 0; i < NPRI; i++) {
		struct pf_dev *d = &PF.pri[i];

		d->iopf = i < 2 ? PF.pw : PF.pi;
		d->rid = SIOMMU_RID(0, 0x18, i, 0);
		assert_int_equal(siommu_device_create(i < 2 ? PF.iw : PF.ii, d->rid, SIOMMU_DEV_PRI |
						      SIOMMU_DEV_PASID | SIOMMU_DEV_PRG_RESP_PASID,
						      8, &d->dev), 0);
		assert_int_equal(siommu_iopf_device_enable(d->iopf, d->dev, pri_response, d), 0);
	}
	assert_int_equal(siommu_device_create(PF.iw, SIOMMU_RID(0, 0x19, 0, 0), SIOMMU_DEV_PRI, 0,
					      &PF.gpu.dev), 0);
	assert_int_equal(siommu_iopf_device_enable(PF.pw, PF.gpu.dev, gpu_response, &PF.gpu), 0);
	assert_int_equal(siommu_device_attach(PF.gpu.dev, PF.rdom), 0);
}

/* End of the run: everything detached and disabled (drained), then counted. */
static void iopf_settle(void)
{
	struct siommu_iopf_stats sw, si;
	uint64_t delivered_w = 0;
	unsigned int i, p, k;

	for (i = 0; i < NPRI; i++) {
		struct pf_dev *d = &PF.pri[i];

		for (p = 1; p < NPASIDX; p++)
			siommu_pasid_detach(d->dev, p);
		siommu_device_detach(d->dev);
		assert_int_equal(siommu_iopf_device_disable(d->iopf, d->dev), 0);
		for (p = 0; p < NPASIDX; p++)
			for (k = 0; k < NPRGI; k++)
				INV(&inv_once, !atomic_load(&d->slot[p][k].state),
				    "device %x: PASID idx %u PRG %u never answered", d->rid, p, k);
		INV(&inv_once, atomic_load(&d->raised) == atomic_load(&d->answered),
		    "device %x: %llu groups raised, %llu answered", d->rid,
		    (unsigned long long)atomic_load(&d->raised),
		    (unsigned long long)atomic_load(&d->answered));
		if (i < 2)
			delivered_w += atomic_load(&d->answered);
	}
	assert_int_equal(siommu_device_detach(PF.gpu.dev), 0);
	assert_int_equal(siommu_iopf_device_disable(PF.pw, PF.gpu.dev), 0);
	INV(&inv_once, atomic_load(&PF.gpu.eagain) == PF.gpu.responses,
	    "the gpu: %llu faults, %llu responses", (unsigned long long)atomic_load(&PF.gpu.eagain),
	    (unsigned long long)PF.gpu.responses);
	delivered_w += PF.gpu.responses;
	assert_int_equal(siommu_iopf_get_stats(PF.pw, &sw), 0);
	assert_int_equal(siommu_iopf_get_stats(PF.pi, &si), 0);
	INV(&inv_stats, sw.resp_success + sw.resp_invalid + sw.resp_failure == delivered_w &&
	    si.resp_success + si.resp_invalid + si.resp_failure == atomic_load(&PF.pri[2].answered)
	    && sw.prq_depth == 0 && si.prq_depth == 0,
	    "W delivered %llu, devices saw %llu; I %llu vs %llu; PRQ depth %u %u",
	    (unsigned long long)(sw.resp_success + sw.resp_invalid + sw.resp_failure),
	    (unsigned long long)delivered_w,
	    (unsigned long long)(si.resp_success + si.resp_invalid + si.resp_failure),
	    (unsigned long long)atomic_load(&PF.pri[2].answered), sw.prq_depth, si.prq_depth);
	print_message("# iopf: W %llu groups (%llu unhandled), %llu drains (%llu groups, %llu "
		      "timeouts), %llu overflows, %llu responses dropped; I %llu groups; "
		      "gpu %llu faults\n", (unsigned long long)sw.groups,
		      (unsigned long long)sw.groups_unhandled, (unsigned long long)sw.drains,
		      (unsigned long long)sw.drained_groups, (unsigned long long)sw.drain_timeouts,
		      (unsigned long long)sw.overflows, (unsigned long long)sw.resp_dropped,
		      (unsigned long long)si.groups, (unsigned long long)atomic_load(&PF.gpu.eagain));
}

static void iopf_destroy(void)
{
	int ret = 0;
	unsigned int i;

	ret |= siommu_iopf_domain_clear_handler(PF.pw, PF.qdom);
	ret |= siommu_iopf_domain_clear_handler(PF.pw, PF.hdom);
	ret |= siommu_iopf_domain_clear_handler(PF.pw, PF.rdom);
	ret |= siommu_iopf_domain_clear_handler(PF.pi, PF.idom);
	ret |= siommu_fault_queue_destroy(PF.q);
	ret |= siommu_iopf_destroy(PF.pw);
	ret |= siommu_iopf_destroy(PF.pi);
	for (i = 0; i < NPRI; i++)
		ret |= siommu_device_destroy(PF.pri[i].dev);
	ret |= siommu_device_destroy(PF.gpu.dev);
	ret |= siommu_domain_destroy(PF.qdom);
	ret |= siommu_domain_destroy(PF.hdom);
	ret |= siommu_domain_destroy(PF.rdom);
	ret |= siommu_domain_destroy(PF.tdom);
	ret |= siommu_domain_destroy(PF.idom);
	ret |= siommu_domain_destroy(PF.idom_none);
	ret |= siommu_ioas_destroy(PF.backing);
	ret |= siommu_ioas_layer_destroy(PF.l);
	ret |= siommu_iommu_destroy(PF.iw);
	ret |= siommu_iommu_destroy(PF.ii);
	INV(&inv_leak, ret == 0, "a destroy failed");
	pthread_mutex_destroy(&PF.held_lock);
	pthread_mutex_destroy(&PF.gpu.lock);
	pthread_cond_destroy(&PF.gpu.cond);
	free(PF.buf);
}

struct soak_module soak_iopf = {
	.name = "iopf",
	.contracts = contracts,
	.create = iopf_create,
	.thread = { raiser_thread, raiser_thread, raiser_thread, gpu_thread, responder_thread,
		    consumer_thread, attach_thread },
	.settle = iopf_settle,
	.destroy = iopf_destroy,
	.inv = { &inv_once, &inv_drain, &inv_dropped, &inv_group, &inv_paging, &inv_stats,
		 &inv_leak },
};
