// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The iopf layer: page-request queue, groups, group handlers, responses and
 * drain (seed 002).  The contract is include/softiommu/iopf.h; the design
 * notes are docs/modules/iopf.md.  In short:
 *
 *  - A request enters the PRQ (a ring under prq_lock) or is answered by the
 *    RISC-V full-queue rule.  Processing pops it and, still under prq_lock,
 *    files it under the device's lock: a partial request on fd->partial, a
 *    last one completes a group on fd->pending.  Popping and filing in one
 *    critical section means a request is always either in the PRQ or on a
 *    device list, never in between, so a drain that purges the PRQ and then
 *    the lists misses nothing.
 *  - The group's domain is looked up in the same read-side section that
 *    puts the group on fd->pending.  A detach or replace switches the
 *    attachment, waits for a grace period (core's step 4), then commits:
 *    our drain.  So every group formed against the old domain is on the
 *    pending list when the drain looks (seed 002: "drain the partial list
 *    and the response pending list").
 *  - One lock per device (fd->lock) protects its partial list, pending list,
 *    drain records and every group's state, in every path (report, process,
 *    respond, drain, disable, overflow clear): the review's "let's use
 *    fault_param->lock consistently for those lists in all paths".
 *  - Every response to the device goes through deliver_locked() under that
 *    lock, and a group leaves the pending list exactly when it is answered:
 *    so each group is answered once, and a response that finds its group
 *    gone (late, duplicate, after a drain) is dropped and counted.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iopf_internal.h"
#include "base/alloc.h"
#include "base/debug.h"

#define IOPF_PAGE_MASK		0xfffull
#define IOPF_DRAIN_TIMEOUT_MAX	60000u

#if SIOMMU_TESTING_BUILD
static __thread bool test_naive_drain;
static __thread bool test_no_dev_refs;

void iopf_test_set_naive_drain(bool on)
{
	test_naive_drain = on;
}

void iopf_test_set_no_dev_refs(bool on)
{
	test_no_dev_refs = on;
}
#endif

/* ------------------------------------------------------------------ references */

static void iopf_dev_free_rcu(struct siommu_rcu_head *head)
{
	struct iopf_dev *fd = siommu_container_of(head, struct iopf_dev, rcu);
	struct iopf_req *q, *n;

	cds_list_for_each_entry_safe(q, n, &fd->partial, link)
		siommu_free(q);
	pthread_cond_destroy(&fd->cond);
	siommu_mutex_destroy(&fd->lock);
	siommu_free(fd);
}

static void iopf_dev_get(struct iopf_dev *fd)
{
	__atomic_fetch_add(&fd->refs, 1, __ATOMIC_RELAXED);
}

/* Context: inside a read-side section (fd found through private data). */
static bool iopf_dev_tryget(struct iopf_dev *fd)
{
	long r = __atomic_load_n(&fd->refs, __ATOMIC_RELAXED);

	while (r > 0)
		if (__atomic_compare_exchange_n(&fd->refs, &r, r + 1, true,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
	return false;
}

static void iopf_dev_put(struct iopf_dev *fd)
{
	/* Pairs with itself: the last put sees every user's writes. */
	if (__atomic_sub_fetch(&fd->refs, 1, __ATOMIC_ACQ_REL) == 0)
		siommu_call_rcu(&fd->rcu, iopf_dev_free_rcu);	/* readers may hold the pointer */
}

static void iopf_domain_free_rcu(struct siommu_rcu_head *head)
{
	siommu_free(siommu_container_of(head, struct iopf_domain, rcu));
}

static bool iopf_domain_tryget(struct iopf_domain *idom)
{
	long r = __atomic_load_n(&idom->refs, __ATOMIC_RELAXED);

	while (r > 0)
		if (__atomic_compare_exchange_n(&idom->refs, &r, r + 1, true,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
	return false;
}

static void iopf_domain_put(struct iopf_domain *idom)
{
	if (__atomic_sub_fetch(&idom->refs, 1, __ATOMIC_ACQ_REL) == 0)
		siommu_call_rcu(&idom->rcu, iopf_domain_free_rcu);
}

void iopf_group_get(struct siommu_iopf_group *g)
{
	__atomic_fetch_add(&g->refs, 1, __ATOMIC_RELAXED);
}

void iopf_group_put(struct siommu_iopf_group *g)
{
	if (__atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		iopf_domain_put(g->idom);
		iopf_dev_put(g->fd);	/* Pair with iopf_group_form_locked() */
		siommu_free(g);
	}
}

/* Drop a reference that cannot be the last (the caller holds another). */
static void iopf_group_put_nonfinal(struct siommu_iopf_group *g)
{
	long r = __atomic_sub_fetch(&g->refs, 1, __ATOMIC_RELEASE);

	SIOMMU_CHECK(r > 0);
	(void)r;
}

/* ------------------------------------------------------------------ responses */

/*
 * Send a PRG response to the device.  The PASID goes in only if the device
 * requires it and the request had one (PCIe: "If the PRG Response PASID
 * Required bit is Set, PRG Response Messages have a PASID if the Page
 * Request also had one").  Context: fd->lock held.
 */
static void deliver_locked(struct iopf_dev *fd, uint16_t prgi, bool has_pasid,
			   uint32_t pasid, enum siommu_page_resp_code code)
{
	struct siommu_page_response r = { .prgi = prgi, .code = code };

	siommu_assert_held(&fd->lock);
	if (has_pasid && (fd->dev_flags & SIOMMU_DEV_PRG_RESP_PASID)) {
		r.flags = SIOMMU_PRQ_PASID;
		r.pasid = pasid;
	}
	if (fd->dead)
		return;		/* disabled: the device is gone */
	iopf_stat_add(fd->iopf, code == SIOMMU_PAGE_RESP_SUCCESS ? IOPF_STAT_RESP_SUCCESS :
		      code == SIOMMU_PAGE_RESP_INVALID ? IOPF_STAT_RESP_INVALID :
		      IOPF_STAT_RESP_FAILURE, 1);
	fd->resp_fn(fd->resp_opaque, fd->dev, &r);
}

static void deliver_req_locked(struct iopf_dev *fd, const struct siommu_page_request *r,
			       enum siommu_page_resp_code code)
{
	deliver_locked(fd, r->prgi, r->flags & SIOMMU_PRQ_PASID, r->pasid, code);
}

/*
 * Answer a pending group: off the pending list (the list's reference is
 * dropped; the caller holds another), then to the device.
 */
static void group_answer_locked(struct siommu_iopf_group *g, enum siommu_page_resp_code code)
{
	struct iopf_dev *fd = g->fd;

	siommu_assert_held(&fd->lock);
	SIOMMU_CHECK(g->state != IOPF_G_DONE);
	g->state = IOPF_G_DONE;
	cds_list_del(&g->link);
	deliver_locked(fd, g->prgi, g->has_pasid, g->pasid, code);
	iopf_group_put_nonfinal(g);
	if (fd->waiters)
		pthread_cond_broadcast(&fd->cond);	/* a drain waits for it */
}

static bool resp_code_valid(int code)
{
	return code == SIOMMU_PAGE_RESP_SUCCESS || code == SIOMMU_PAGE_RESP_INVALID ||
	       code == SIOMMU_PAGE_RESP_FAILURE;
}

/* ------------------------------------------------------------------ matching */

static bool drain_matches(const struct iopf_drain *d, bool has_pasid, uint32_t pasid)
{
	if (d->all)
		return true;
	if (d->pasid == SIOMMU_NO_PASID)
		return !has_pasid;
	return has_pasid && pasid == d->pasid;
}

static bool draining_locked(struct iopf_dev *fd, bool has_pasid, uint32_t pasid)
{
	struct iopf_drain *d;

	cds_list_for_each_entry(d, &fd->drains, link)
		if (drain_matches(d, has_pasid, pasid))
			return true;
	return false;
}

/* A partial request belongs to the group of @r (same PRG index and PASID). */
static bool same_group(const struct siommu_page_request *p, const struct siommu_page_request *r)
{
	bool hp = p->flags & SIOMMU_PRQ_PASID, hr = r->flags & SIOMMU_PRQ_PASID;

	return p->prgi == r->prgi && hp == hr && (!hp || p->pasid == r->pasid);
}

/* Discard partial requests: of @r's group (@r non-NULL), or of a PASID. */
static unsigned int discard_partial_locked(struct iopf_dev *fd,
					   const struct siommu_page_request *r,
					   const struct iopf_drain *d)
{
	struct iopf_req *q, *n;
	unsigned int count = 0;

	cds_list_for_each_entry_safe(q, n, &fd->partial, link) {
		if (r ? !same_group(&q->req, r) :
		    !drain_matches(d, q->req.flags & SIOMMU_PRQ_PASID, q->req.pasid))
			continue;
		cds_list_del(&q->link);
		siommu_free(q);
		count++;
	}
	if (count)
		iopf_stat_add(fd->iopf, IOPF_STAT_PARTIAL_DISCARDED, count);
	return count;
}

static bool lost_test_and_clear(struct iopf_dev *fd, uint16_t prgi)
{
	uint64_t bit = 1ull << (prgi % 64);
	bool was = fd->lost[prgi / 64] & bit;

	fd->lost[prgi / 64] &= ~bit;
	return was;
}

/* ------------------------------------------------------------------ processing */

/*
 * File one request popped from the PRQ on its device's lists.  Returns a
 * new group (RUNNING, on fd->pending, with a reference for the dispatcher)
 * when @r completes one whose domain has a handler; the group then holds the
 * PRQ entry's reference on @fd (the caller drops it otherwise).
 * Context: prq_lock and fd->lock held, inside a read-side section (the
 * domain lookup and the pending list are published in one section: the
 * grace period of a detach orders them before its drain).
 */
static struct siommu_iopf_group *iopf_file_locked(struct siommu_iopf *iopf,
						  struct iopf_dev *fd,
						  const struct siommu_page_request *r)
{
	bool has_pasid = r->flags & SIOMMU_PRQ_PASID;
	struct iopf_drain stop = { .pasid = r->pasid };
	struct siommu_iopf_group *g;
	struct iopf_domain *idom;
	struct siommu_domain *dom;
	struct iopf_req *q, *n;
	unsigned int nr = 0;
	bool lost;

	if (fd->dead)
		return NULL;
	if (draining_locked(fd, has_pasid, r->pasid)) {
		/* Refused like a request with no domain (drain racing new faults). */
		iopf_stat_add(iopf, IOPF_STAT_DRAINED_REQUESTS, 1);
		if ((r->flags & SIOMMU_PRQ_LAST) && !siommu_page_request_is_stop(r))
			deliver_req_locked(fd, r, SIOMMU_PAGE_RESP_INVALID);
		return NULL;
	}
	if (siommu_page_request_is_stop(r)) {
		/*
		 * PCIe: a Stop Marker says the function sent every request of
		 * the PASID; the groups still partial will never complete.
		 */
		iopf_stat_add(iopf, IOPF_STAT_STOP_MARKERS, 1);
		discard_partial_locked(fd, NULL, &stop);
		return NULL;
	}
	if (!(r->flags & SIOMMU_PRQ_LAST)) {
		q = siommu_malloc(sizeof(*q));
		if (!q) {
			/* Remember it: its group is answered Response Failure. */
			fd->lost[r->prgi / 64] |= 1ull << (r->prgi % 64);
			iopf_stat_add(iopf, IOPF_STAT_PARTIAL_DISCARDED, 1);
			return NULL;
		}
		q->req = *r;
		cds_list_add_tail(&q->link, &fd->partial);
		return NULL;
	}

	lost = lost_test_and_clear(fd, r->prgi);
	dom = siommu_device_domain(fd->dev, has_pasid ? r->pasid : SIOMMU_NO_PASID);
	idom = dom ? siommu_domain_get_priv(dom, iopf->layer) : NULL;
	if (!idom || siommu_load_relaxed(&idom->dying) || !iopf_domain_tryget(idom)) {
		/* No domain or no handler: Invalid, and the partials go too. */
		discard_partial_locked(fd, r, NULL);
		iopf_stat_add(iopf, IOPF_STAT_GROUPS_UNHANDLED, 1);
		deliver_req_locked(fd, r, SIOMMU_PAGE_RESP_INVALID);
		return NULL;
	}
	cds_list_for_each_entry(q, &fd->partial, link)
		nr += same_group(&q->req, r);
	g = lost ? NULL : siommu_malloc(sizeof(*g) + (nr + 1) * sizeof(g->reqs[0]));
	if (!g) {
		discard_partial_locked(fd, r, NULL);
		iopf_stat_add(iopf, IOPF_STAT_HANDLER_FAILURES, 1);
		deliver_req_locked(fd, r, SIOMMU_PAGE_RESP_FAILURE);
		iopf_domain_put(idom);
		return NULL;
	}
	nr = 0;
	cds_list_for_each_entry_safe(q, n, &fd->partial, link) {
		if (!same_group(&q->req, r))
			continue;
		g->reqs[nr++] = q->req;		/* arrival order */
		cds_list_del(&q->link);
		siommu_free(q);
	}
	g->reqs[nr++] = *r;
	g->nr = nr;
	g->refs = 2;			/* the pending list and the dispatcher */
	g->fd = fd;			/* the PRQ entry's reference; Pair with iopf_group_put() */
	g->idom = idom;			/* the reference taken above */
	g->dom = dom;
	g->state = IOPF_G_RUNNING;
	g->cancel_asked = false;
	g->has_pasid = has_pasid;
	g->pasid = r->pasid;
	g->prgi = r->prgi;
	cds_list_add_tail(&g->link, &fd->pending);
	iopf_stat_add(iopf, IOPF_STAT_GROUPS, 1);
	return g;
}

/*
 * Pop the oldest PRQ entry and file it.  Returns false if the queue was
 * empty; *@gp is the group to dispatch, or NULL.  Context: prq_lock held.
 */
static bool iopf_pop_locked(struct siommu_iopf *iopf, struct siommu_iopf_group **gp)
{
	struct iopf_prq_entry *e;
	struct siommu_page_request r;
	struct iopf_dev *fd;

	*gp = NULL;
	siommu_assert_held(&iopf->prq_lock);
	if (iopf->prq_head == iopf->prq_tail)
		return false;
	e = &iopf->prq[iopf->prq_head & (iopf->prq_size - 1)];
	fd = e->fd;
	r = e->req;
	e->fd = NULL;
	siommu_store_relaxed(&iopf->prq_head, iopf->prq_head + 1);	/* workers poll it */
	if (!fd)
		return true;	/* removed by a drain */
	siommu_rcu_read_lock();
	siommu_mutex_lock(&fd->lock);
	*gp = iopf_file_locked(iopf, fd, &r);
	siommu_mutex_unlock(&fd->lock);
	siommu_rcu_read_unlock();
	if (!*gp)
		iopf_dev_put(fd);	/* the entry's reference, unless a group took it */
	return true;
}

/*
 * Hand a new group to its domain's handler and act on the answer.  A
 * handler that may block is not called inside a read-side section (INLINE
 * processing of a DMA fault): Response Failure.  Context: no iopf lock held.
 */
static void iopf_dispatch(struct siommu_iopf *iopf, struct siommu_iopf_group *g, bool in_rs)
{
	struct iopf_domain *idom = g->idom;
	struct iopf_dev *fd = g->fd;
	bool called = false;
	int ret;

	if (in_rs && !(idom->h.flags & SIOMMU_IOPF_HANDLER_ATOMIC)) {
		ret = -EDEADLK;
	} else {
		iopf_group_get(g);	/* the handler's hold */
		called = true;
		ret = idom->h.handle(idom->opaque, g);
	}
	siommu_mutex_lock(&fd->lock);
	if (called && ret == SIOMMU_IOPF_ASYNC) {
		if (g->state == IOPF_G_RUNNING)
			g->state = IOPF_G_ASYNC;
		/* the handler keeps its hold until siommu_iopf_group_respond() */
		called = false;
	} else if (g->state == IOPF_G_RUNNING) {
		if (ret < 0 || !resp_code_valid(ret)) {
			iopf_stat_add(iopf, IOPF_STAT_HANDLER_FAILURES, 1);
			ret = SIOMMU_PAGE_RESP_FAILURE;
		}
		group_answer_locked(g, ret);
	}
	/* a drain waits for handle() calls to return */
	if (fd->waiters)
		pthread_cond_broadcast(&fd->cond);
	siommu_mutex_unlock(&fd->lock);
	if (called)
		iopf_group_put_nonfinal(g);	/* the handler's hold: it returned */
	iopf_group_put(g);			/* the dispatcher's */
}

static unsigned int iopf_process_some(struct siommu_iopf *iopf, unsigned int max, bool in_rs)
{
	struct siommu_iopf_group *g;
	unsigned int n = 0;
	bool popped;

	while (!max || n < max) {
		siommu_mutex_lock(&iopf->prq_lock);
		popped = iopf_pop_locked(iopf, &g);
		siommu_mutex_unlock(&iopf->prq_lock);
		if (!popped)
			break;
		n++;
		if (g)
			iopf_dispatch(iopf, g, in_rs);
	}
	return n;
}

/* How long an idle worker polls the PRQ before it sleeps: a wake-up costs more. */
#define IOPF_WORKER_SPIN_NS	20000.0
#define IOPF_WORKER_YIELD_NS	2000.0

static double iopf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * Poll the PRQ (a racy hint: relaxed loads of the indexes, which the lock
 * holders store with relaxed stores) for a while; true if it looks busy.
 */
static bool iopf_worker_spin(struct siommu_iopf *iopf)
{
	double start = iopf_now_ns(), now;
	unsigned int i;

	for (;;) {
		for (i = 0; i < 64; i++) {
			if (siommu_load_relaxed(&iopf->prq_head) !=
			    siommu_load_relaxed(&iopf->prq_tail) ||
			    siommu_load_relaxed(&iopf->stopping))
				return true;
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		}
		now = iopf_now_ns();
		if (now - start >= IOPF_WORKER_SPIN_NS)
			return false;
		/*
		 * After the first IOPF_WORKER_YIELD_NS, poll between yields: on
		 * a machine with more runnable threads than CPUs the thread
		 * about to report (or to take its response) gets to run.
		 */
		if (now - start >= IOPF_WORKER_YIELD_NS)
			sched_yield();
	}
}

static void *iopf_worker(void *arg)
{
	struct siommu_iopf *iopf = arg;
	struct siommu_iopf_group *g;

	siommu_mutex_lock(&iopf->prq_lock);
	while (!iopf->stopping) {
		if (iopf->prq_head == iopf->prq_tail) {
			siommu_mutex_unlock(&iopf->prq_lock);
			bool busy = iopf_worker_spin(iopf);

			siommu_mutex_lock(&iopf->prq_lock);
			if (!busy && iopf->prq_head == iopf->prq_tail && !iopf->stopping) {
				iopf->sleepers++;
				pthread_cond_wait(&iopf->prq_cond, &iopf->prq_lock.m);
				iopf->sleepers--;
			}
			continue;
		}
		iopf_pop_locked(iopf, &g);
		siommu_mutex_unlock(&iopf->prq_lock);
		if (g)
			iopf_dispatch(iopf, g, false);
		siommu_mutex_lock(&iopf->prq_lock);
	}
	siommu_mutex_unlock(&iopf->prq_lock);
	return NULL;
}

/* ------------------------------------------------------------------ report */

static int iopf_validate(const struct iopf_dev *fd, const struct siommu_page_request *r)
{
	if (r->flags & ~SIOMMU_PRQ_FLAGS_MASK || r->prgi > SIOMMU_PRGI_MAX ||
	    r->access & ~(unsigned int)SIOMMU_ACC_MASK)
		return -EINVAL;
	if (r->flags & SIOMMU_PRQ_PASID) {
		if (!(fd->dev_flags & SIOMMU_DEV_PASID) || r->pasid == SIOMMU_NO_PASID ||
		    r->pasid >= (1u << SIOMMU_PASID_BITS_MAX))
			return -EINVAL;
	} else if (r->access & (SIOMMU_ACC_EXEC | SIOMMU_ACC_PRIV)) {
		return -EINVAL;	/* PCIe: Execute/Privileged Mode Requested come with a PASID */
	}
	/* Neither read nor write: only a Stop Marker. */
	if (!(r->access & (SIOMMU_ACC_READ | SIOMMU_ACC_WRITE)) &&
	    !siommu_page_request_is_stop(r))
		return -EINVAL;
	return 0;
}

/*
 * Queue a request of @fd.  The caller's reference on @fd becomes the PRQ
 * entry's when the request is queued (returns 0), else it is dropped here:
 * no extra get and put on the device's count per request.
 */
static int iopf_report_fd(struct siommu_iopf *iopf, struct iopf_dev *fd,
			  const struct siommu_page_request *req)
{
	struct siommu_page_request r = *req;
	bool has_pasid, answer;
	int ret;

	ret = iopf_validate(fd, &r);
	if (ret) {
		iopf_dev_put(fd);
		return ret;
	}
	r.addr &= ~IOPF_PAGE_MASK;
	has_pasid = r.flags & SIOMMU_PRQ_PASID;
	if (!has_pasid)
		r.pasid = 0;
	if (!(r.flags & SIOMMU_PRQ_PRIV_DATA))
		memset(r.private_data, 0, sizeof(r.private_data));
	answer = (r.flags & SIOMMU_PRQ_LAST) && !siommu_page_request_is_stop(&r);

	siommu_mutex_lock(&iopf->prq_lock);
	siommu_mutex_lock(&fd->lock);
	if (fd->dead) {
		ret = -ENODEV;
	} else if (draining_locked(fd, has_pasid, r.pasid)) {
		/* A drain stops queueing new requests for its PASID. */
		iopf_stat_add(iopf, IOPF_STAT_DRAINED_REQUESTS, 1);
		if (answer)
			deliver_req_locked(fd, &r, SIOMMU_PAGE_RESP_INVALID);
		ret = 1;
	} else if (iopf->overflow || iopf->prq_tail - iopf->prq_head >= iopf->prq_size - 1) {
		/*
		 * RISC-V IOMMU, PQ: full when pqt == pqh - 1; the request that
		 * overflows and every later one are discarded until software
		 * clears pqof; L = 0 and Stop Markers silently, L = 1 answered
		 * Success (the device retries the whole group).
		 */
		if (!iopf->overflow) {
			iopf->overflow = true;
			iopf_stat_add(iopf, IOPF_STAT_OVERFLOWS, 1);
		}
		iopf_stat_add(iopf, IOPF_STAT_PRQ_FULL, 1);
		if (answer) {
			iopf_stat_add(iopf, IOPF_STAT_AUTO_SUCCESS, 1);
			deliver_req_locked(fd, &r, SIOMMU_PAGE_RESP_SUCCESS);
		}
		ret = 1;
	} else {
		struct iopf_prq_entry *e = &iopf->prq[iopf->prq_tail & (iopf->prq_size - 1)];

		e->fd = fd;		/* the caller's reference; Pair with iopf_pop_locked() */
		e->req = r;
		siommu_store_relaxed(&iopf->prq_tail, iopf->prq_tail + 1);	/* workers poll it */
		iopf_stat_add(iopf, IOPF_STAT_REQUESTS, 1);
		if (iopf->sleepers)	/* polling workers see the tail move */
			pthread_cond_signal(&iopf->prq_cond);
		ret = 0;
	}
	siommu_mutex_unlock(&fd->lock);
	siommu_mutex_unlock(&iopf->prq_lock);
	if (ret)
		iopf_dev_put(fd);
	if (!ret && iopf->mode == SIOMMU_IOPF_MODE_INLINE)
		iopf_process_some(iopf, 0, siommu_rcu_read_ongoing());
	return ret;
}

/* The device's fault data with a reference, or NULL.  Context: any. */
static struct iopf_dev *iopf_dev_find(struct siommu_iopf *iopf, struct siommu_device *dev)
{
	struct iopf_dev *fd;

	siommu_rcu_read_lock();
	fd = siommu_device_get_priv(dev, iopf->layer);
	if (fd && !iopf_dev_tryget(fd))
		fd = NULL;
	siommu_rcu_read_unlock();
	return fd;
}

SIOMMU_API int siommu_iopf_report(struct siommu_iopf *iopf, struct siommu_device *dev,
				  const struct siommu_page_request *req)
{
	struct iopf_dev *fd;

	if (!iopf || !dev || !req)
		return -EINVAL;
	fd = iopf_dev_find(iopf, dev);
	if (!fd)
		return -ENODEV;
	return iopf_report_fd(iopf, fd, req);	/* takes over the reference */
}

/*
 * The core fault handler of domains with a group handler: a recoverable
 * DMA fault of an enabled device becomes a one-request group.
 * Context: inside the DMA's read-side section.
 */
static int iopf_core_fault(void *opaque, const struct siommu_fault_info *f)
{
	struct iopf_domain *idom = opaque;
	struct siommu_iopf *iopf = idom->iopf;
	struct siommu_page_request r = { 0 };
	struct iopf_dev *fd;
	int ret;

	fd = siommu_device_get_priv(f->dev, iopf->layer);
	if (!fd || !iopf_dev_tryget(fd))
		return -ENODEV;		/* not enabled: unrecoverable */
	r.addr = f->iova & ~IOPF_PAGE_MASK;
	r.access = f->access & (SIOMMU_ACC_READ | SIOMMU_ACC_WRITE);
	r.flags = SIOMMU_PRQ_LAST;
	if (f->pasid != SIOMMU_NO_PASID) {
		r.flags |= SIOMMU_PRQ_PASID;
		r.pasid = f->pasid;
		r.access = f->access & SIOMMU_ACC_MASK;
	}
	if (!(r.access & (SIOMMU_ACC_READ | SIOMMU_ACC_WRITE)))
		r.access |= SIOMMU_ACC_READ;
	r.prgi = __atomic_fetch_add(&fd->next_prgi, 1, __ATOMIC_RELAXED) % (SIOMMU_PRGI_MAX + 1);
	ret = iopf_report_fd(iopf, fd, &r);	/* takes over the reference */
	return ret < 0 ? ret : SIOMMU_IOPF_QUEUED;
}

SIOMMU_API int siommu_iopf_process(struct siommu_iopf *iopf, unsigned int max)
{
	if (!iopf || iopf->mode != SIOMMU_IOPF_MODE_MANUAL)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	return (int)iopf_process_some(iopf, max, false);
}

/* Does a request after PRQ index @i complete @r's group (its L = 1, same device)? */
static bool prq_completes_later(struct siommu_iopf *iopf, uint32_t i,
				const struct iopf_prq_entry *e)
{
	for (i++; i != iopf->prq_tail; i++) {
		const struct iopf_prq_entry *l = &iopf->prq[i & (iopf->prq_size - 1)];

		if (l->fd == e->fd && (l->req.flags & SIOMMU_PRQ_LAST) &&
		    same_group(&l->req, &e->req))
			return true;
	}
	return false;
}

SIOMMU_API int siommu_iopf_clear_overflow(struct siommu_iopf *iopf)
{
	struct iopf_drain all = { .all = true };
	struct iopf_dev *fd;
	uint32_t i, j, dropped = 0;
	bool was;

	if (!iopf)
		return -EINVAL;
	siommu_mutex_lock(&iopf->lock);
	siommu_mutex_lock(&iopf->prq_lock);
	was = iopf->overflow;
	iopf->overflow = false;
	/*
	 * Every incomplete group: their last requests were answered Success.
	 * Its requests still in the PRQ go too (the ring is compacted, as a
	 * drain does): filed later, they would join the device's retry of the
	 * group.  A group whose last request is in the PRQ as well is whole.
	 */
	for (i = j = iopf->prq_head; i != iopf->prq_tail; i++) {
		struct iopf_prq_entry *e = &iopf->prq[i & (iopf->prq_size - 1)];

		if (!e->fd || (e->req.flags & SIOMMU_PRQ_LAST) ||
		    prq_completes_later(iopf, i, e)) {
			if (i != j)
				iopf->prq[j & (iopf->prq_size - 1)] = *e;
			j++;
			continue;
		}
		/* not the last: a disable drops its own after its drain (prq_lock) */
		iopf_dev_put(e->fd);
		e->fd = NULL;
		dropped++;
	}
	siommu_store_relaxed(&iopf->prq_tail, j);
	if (dropped)
		iopf_stat_add(iopf, IOPF_STAT_PARTIAL_DISCARDED, dropped);
	cds_list_for_each_entry(fd, &iopf->devices, link) {
		siommu_mutex_lock(&fd->lock);
		discard_partial_locked(fd, NULL, &all);
		memset(fd->lost, 0, sizeof(fd->lost));
		siommu_mutex_unlock(&fd->lock);
	}
	siommu_mutex_unlock(&iopf->prq_lock);
	siommu_mutex_unlock(&iopf->lock);
	return was;
}

/* ------------------------------------------------------------------ responses from above */

SIOMMU_API int siommu_iopf_group_respond(struct siommu_iopf_group *g,
					 enum siommu_page_resp_code code)
{
	struct iopf_dev *fd;
	int ret = 0;

	if (!g || !resp_code_valid(code))
		return -EINVAL;
	fd = g->fd;
	siommu_mutex_lock(&fd->lock);
	if (g->state != IOPF_G_DONE) {
		group_answer_locked(g, code);
	} else {
		iopf_stat_add(fd->iopf, IOPF_STAT_RESP_DROPPED, 1);
		ret = -ECANCELED;
	}
	siommu_mutex_unlock(&fd->lock);
	iopf_group_put(g);	/* the handler's hold */
	return ret;
}

SIOMMU_API int siommu_iopf_respond(struct siommu_iopf *iopf, struct siommu_device *dev,
				   const struct siommu_page_response *r)
{
	struct siommu_iopf_group *g, *found = NULL;
	bool has_pasid;
	struct iopf_dev *fd;

	if (!iopf || !dev || !r || !resp_code_valid(r->code) ||
	    r->flags & ~SIOMMU_PRQ_PASID || r->prgi > SIOMMU_PRGI_MAX)
		return -EINVAL;
	fd = iopf_dev_find(iopf, dev);
	if (!fd)
		return -ENODEV;
	has_pasid = r->flags & SIOMMU_PRQ_PASID;
	siommu_mutex_lock(&fd->lock);
	cds_list_for_each_entry(g, &fd->pending, link) {
		if (g->prgi != r->prgi)
			continue;
		if (has_pasid ? !g->has_pasid || g->pasid != r->pasid :
		    g->has_pasid && (fd->dev_flags & SIOMMU_DEV_PRG_RESP_PASID))
			continue;
		found = g;
		break;
	}
	if (found)
		group_answer_locked(found, r->code);	/* a handler's hold keeps it */
	else
		iopf_stat_add(iopf, IOPF_STAT_RESP_DROPPED, 1);
	siommu_mutex_unlock(&fd->lock);
	iopf_dev_put(fd);
	return found ? 0 : -ENOENT;
}

/* ------------------------------------------------------------------ drain */

/* A pending group of the drain (in @state; 0: any). */
static struct siommu_iopf_group *find_group_locked(struct iopf_dev *fd,
						   const struct iopf_drain *d,
						   unsigned int state)
{
	struct siommu_iopf_group *g;

	cds_list_for_each_entry(g, &fd->pending, link)
		if (drain_matches(d, g->has_pasid, g->pasid) && (!state || g->state == state))
			return g;
	return NULL;
}

static void deadline_after_ms(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Drain (fd, pasid), or every PASID with @d->all (then @kill marks the
 * device dead before the drain record goes, so nothing slips in after).
 * The order is the seed's: requests bottom up (refuse new ones, the PRQ,
 * the partial list, handler calls in flight), then responses top down (the
 * handlers' own queues through @cancel, a bounded wait for answers, then
 * Invalid for what is left).  Returns the groups answered here.
 * Context: outside read-side sections, no iopf lock held; the caller holds
 * a reference on @fd.
 */
static int iopf_drain_fd(struct siommu_iopf *iopf, struct iopf_dev *fd,
			 struct iopf_drain *d, bool kill)
{
	struct siommu_iopf_group *g;
	struct timespec deadline;
	bool timed_out = false;
	int answered = 0;
	uint32_t i, j;

	iopf_stat_add(iopf, IOPF_STAT_DRAINS, 1);
	/* 1. no new request for it is queued from now */
	siommu_mutex_lock(&fd->lock);
	cds_list_add(&d->link, &fd->drains);
	siommu_mutex_unlock(&fd->lock);

	/* 2. its requests still in the PRQ (the ring is compacted: no holes) */
	siommu_mutex_lock(&iopf->prq_lock);
	for (i = j = iopf->prq_head; i != iopf->prq_tail; i++) {
		struct iopf_prq_entry *e = &iopf->prq[i & (iopf->prq_size - 1)];

		if (e->fd != fd ||
		    !drain_matches(d, e->req.flags & SIOMMU_PRQ_PASID, e->req.pasid)) {
			if (i != j)
				iopf->prq[j & (iopf->prq_size - 1)] = *e;
			j++;
			continue;
		}
		siommu_mutex_lock(&fd->lock);
		if ((e->req.flags & SIOMMU_PRQ_LAST) && !siommu_page_request_is_stop(&e->req)) {
			deliver_req_locked(fd, &e->req, SIOMMU_PAGE_RESP_INVALID);
			answered++;	/* a group, answered here as much as in step 7 */
		}
		siommu_mutex_unlock(&fd->lock);
		e->fd = NULL;
		iopf_dev_put(fd);	/* not the last: the caller holds one */
		iopf_stat_add(iopf, IOPF_STAT_DRAINED_REQUESTS, 1);
	}
	siommu_store_relaxed(&iopf->prq_tail, j);
	siommu_mutex_unlock(&iopf->prq_lock);

	siommu_mutex_lock(&fd->lock);
	/* 3. its partial requests */
	discard_partial_locked(fd, NULL, d);
	/* 4. handler calls in flight return (Linux: flush_workqueue()) */
	while (find_group_locked(fd, d, IOPF_G_RUNNING)) {
		fd->waiters++;
		pthread_cond_wait(&fd->cond, &fd->lock.m);
		fd->waiters--;
	}
#if SIOMMU_TESTING_BUILD
	if (test_naive_drain)
		goto out;	/* the seed's first patch: requests only */
#endif
	/* 5. responses, top down: handlers answer what no one works on */
	g = cds_list_entry(fd->pending.next, struct siommu_iopf_group, link);
	while (&g->link != &fd->pending) {
		struct siommu_iopf_group *c = g;

		if (!drain_matches(d, c->has_pasid, c->pasid) || !c->idom->h.cancel ||
		    c->cancel_asked) {
			g = cds_list_entry(c->link.next, struct siommu_iopf_group, link);
			continue;
		}
		c->cancel_asked = true;
		iopf_group_get(c);	/* the drain's hold during the call */
		siommu_mutex_unlock(&fd->lock);
		c->idom->h.cancel(c->idom->opaque, c);
		siommu_mutex_lock(&fd->lock);
		/* Go on after it if it is still listed, else from the start (no rescans). */
		g = cds_list_entry(c->state != IOPF_G_DONE ? c->link.next : fd->pending.next,
				   struct siommu_iopf_group, link);
		iopf_group_put(c);	/* not the fd's last reference: the caller holds one */
	}
	/* 6. a bounded wait for the answers still owed */
	if (iopf->drain_timeout_ms != SIOMMU_IOPF_DRAIN_NOWAIT &&
	    find_group_locked(fd, d, 0)) {
		deadline_after_ms(&deadline, iopf->drain_timeout_ms);
		while (find_group_locked(fd, d, 0)) {
			int w;

			fd->waiters++;
			w = pthread_cond_timedwait(&fd->cond, &fd->lock.m, &deadline);
			fd->waiters--;
			if (w == ETIMEDOUT) {
				timed_out = true;
				break;
			}
		}
	}
	/* 7. Invalid for the rest; their late answers are dropped */
	while ((g = find_group_locked(fd, d, 0))) {
		if (timed_out)
			iopf_stat_add(iopf, IOPF_STAT_DRAIN_TIMEOUTS, 1);
		iopf_stat_add(iopf, IOPF_STAT_DRAINED_GROUPS, 1);
		group_answer_locked(g, SIOMMU_PAGE_RESP_INVALID);
		answered++;
	}
#if SIOMMU_TESTING_BUILD
out:
#endif
	if (kill)
		fd->dead = true;
	cds_list_del(&d->link);
	if (fd->waiters)
		pthread_cond_broadcast(&fd->cond);
	siommu_mutex_unlock(&fd->lock);
	return answered;
}

SIOMMU_API int siommu_iopf_drain(struct siommu_iopf *iopf, struct siommu_device *dev,
				 uint32_t pasid)
{
	struct iopf_drain d = { .pasid = pasid };
	struct iopf_dev *fd;
	int ret;

	if (!iopf || !dev || pasid >= (1u << SIOMMU_PASID_BITS_MAX))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	fd = iopf_dev_find(iopf, dev);
	if (!fd)
		return -ENODEV;
	ret = iopf_drain_fd(iopf, fd, &d, false);
	iopf_dev_put(fd);
	return ret;
}

/* ------------------------------------------------------------------ the core layer */

/*
 * The commit drains the old attachment's page requests: a device without
 * PRI never has any (siommu_iopf_device_enable() refuses it, and the flag
 * is immutable), so its changes need no commit and the core waits no grace
 * period for this layer.  (A PRI device whose PRI is not enabled yet still
 * commits: an enable may run concurrently with the protocol.)
 */
static int iopf_layer_prepare(void *opaque, const struct siommu_attach_change *c)
{
	struct siommu_iopf *iopf = opaque;
	struct siommu_device_info info;
	struct iopf_domain *idom;
	int keep = 0, ret = 0;

	if (!siommu_device_get_info(c->dev, &info) && !(info.flags & SIOMMU_DEV_PRI))
		keep = SIOMMU_LAYER_NO_COMMIT;
	if (!c->new_dom)
		return keep;
	siommu_mutex_lock(&iopf->lock);
	idom = siommu_domain_get_priv(c->new_dom, iopf->layer);
	if (idom && idom->dying)
		ret = -EBUSY;	/* its handler is being removed */
	siommu_mutex_unlock(&iopf->lock);
	return ret ? ret : keep;
}

/*
 * After the switch and a grace period: no fault for the old attachment can
 * be filed any more, so the drain is final (docs/modules/core.md).
 */
static void iopf_layer_commit(void *opaque, const struct siommu_attach_change *c)
{
	struct siommu_iopf *iopf = opaque;
	struct iopf_drain d = { .pasid = c->pasid };
	struct iopf_dev *fd;

	if (!c->old_dom)
		return;
	siommu_mutex_lock(&iopf->lock);
	fd = siommu_device_get_priv(c->dev, iopf->layer);
	if (fd)
		iopf_dev_get(fd);
	siommu_mutex_unlock(&iopf->lock);
	if (!fd)
		return;
	iopf_drain_fd(iopf, fd, &d, false);
	iopf_dev_put(fd);
}

static const struct siommu_layer_ops iopf_layer_ops = {
	.name = "iopf",
	.prepare = iopf_layer_prepare,
	.commit = iopf_layer_commit,
};

SIOMMU_API int siommu_iopf_create(struct siommu_iommu *iommu,
				  const struct siommu_iopf_cfg *cfg,
				  struct siommu_iopf **out)
{
	struct siommu_iopf_cfg def = { 0 };
	struct siommu_iommu_caps caps;
	struct siommu_iopf *iopf;
	pthread_condattr_t ca;
	unsigned int i;
	int ret;

	if (!iommu || !out)
		return -EINVAL;
	if (!cfg)
		cfg = &def;
	if (cfg->mode > SIOMMU_IOPF_MODE_MANUAL ||
	    (cfg->mode == SIOMMU_IOPF_MODE_WORKERS && cfg->workers > SIOMMU_IOPF_WORKERS_MAX) ||
	    (cfg->mode != SIOMMU_IOPF_MODE_WORKERS && cfg->workers) ||
	    (cfg->drain_timeout_ms > IOPF_DRAIN_TIMEOUT_MAX &&
	     cfg->drain_timeout_ms != SIOMMU_IOPF_DRAIN_NOWAIT))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	ret = siommu_iommu_get_caps(iommu, &caps);
	if (ret)
		return ret;
	iopf = siommu_zalloc(sizeof(*iopf));
	if (!iopf)
		return -ENOMEM;
	iopf->iommu = iommu;
	iopf->mode = cfg->mode;
	iopf->drain_timeout_ms = cfg->drain_timeout_ms ? cfg->drain_timeout_ms :
				 SIOMMU_IOPF_DRAIN_TIMEOUT_DEFAULT_MS;
	iopf->prq_size = caps.prq_size ? caps.prq_size : 256;
	iopf->prq = siommu_calloc(iopf->prq_size, sizeof(*iopf->prq));
	if (!iopf->prq) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = siommu_stats_create(IOPF_STAT_NR, &iopf->stats);
	if (ret)
		goto err_free;
	iopf->nr_workers = cfg->mode == SIOMMU_IOPF_MODE_WORKERS ?
			   (cfg->workers ? cfg->workers : 2) : 0;
	if (iopf->nr_workers) {
		iopf->workers = siommu_calloc(iopf->nr_workers, sizeof(*iopf->workers));
		if (!iopf->workers) {
			ret = -ENOMEM;
			goto err_free;
		}
	}
	siommu_mutex_init(&iopf->lock, "iopf", SIOMMU_RANK_IOPF);
	siommu_mutex_init(&iopf->prq_lock, "iopf.prq", SIOMMU_RANK_IOPF_PRQ);
	CDS_INIT_LIST_HEAD(&iopf->devices);
	CDS_INIT_LIST_HEAD(&iopf->domains);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	ret = pthread_cond_init(&iopf->prq_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (ret) {
		ret = -ENOMEM;
		goto err_locks;
	}
	ret = siommu_layer_register(iommu, &iopf_layer_ops, iopf, &iopf->layer);
	if (ret)
		goto err_cond;
	for (i = 0; i < iopf->nr_workers; i++) {
		if (pthread_create(&iopf->workers[i], NULL, iopf_worker, iopf)) {
			siommu_mutex_lock(&iopf->prq_lock);
			siommu_store_relaxed(&iopf->stopping, true);
			pthread_cond_broadcast(&iopf->prq_cond);
			siommu_mutex_unlock(&iopf->prq_lock);
			while (i--)
				pthread_join(iopf->workers[i], NULL);
			siommu_layer_unregister(iopf->layer);
			ret = -EAGAIN;
			goto err_cond;
		}
	}
	*out = iopf;
	return 0;

err_cond:
	pthread_cond_destroy(&iopf->prq_cond);
err_locks:
	siommu_mutex_destroy(&iopf->prq_lock);
	siommu_mutex_destroy(&iopf->lock);
err_free:
	if (iopf->stats)
		siommu_stats_destroy(iopf->stats);
	siommu_free(iopf->workers);
	siommu_free(iopf->prq);
	siommu_free(iopf);
	return ret;
}

SIOMMU_API int siommu_iopf_destroy(struct siommu_iopf *iopf)
{
	unsigned int i;
	int ret;

	if (!iopf)
		return 0;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&iopf->lock);
	if (!cds_list_empty(&iopf->devices) || !cds_list_empty(&iopf->domains) ||
	    iopf->nr_queues) {
		siommu_mutex_unlock(&iopf->lock);
		return -EBUSY;
	}
	siommu_mutex_unlock(&iopf->lock);
	ret = siommu_layer_unregister(iopf->layer);
	if (ret)
		return ret;
	siommu_mutex_lock(&iopf->prq_lock);
	siommu_store_relaxed(&iopf->stopping, true);
	pthread_cond_broadcast(&iopf->prq_cond);
	siommu_mutex_unlock(&iopf->prq_lock);
	for (i = 0; i < iopf->nr_workers; i++)
		pthread_join(iopf->workers[i], NULL);
	/* Devices were disabled: their drains emptied the PRQ of them. */
	for (i = iopf->prq_head; i != iopf->prq_tail; i++)
		SIOMMU_WARN_ON(iopf->prq[i & (iopf->prq_size - 1)].fd != NULL);
	pthread_cond_destroy(&iopf->prq_cond);
	siommu_mutex_destroy(&iopf->prq_lock);
	siommu_mutex_destroy(&iopf->lock);
	siommu_stats_destroy(iopf->stats);	/* no adder left: workers joined, devices gone */
	siommu_free(iopf->workers);
	siommu_free(iopf->prq);
	siommu_free(iopf);
	return 0;
}

/* ------------------------------------------------------------------ devices */

SIOMMU_API int siommu_iopf_device_enable(struct siommu_iopf *iopf,
					 struct siommu_device *dev,
					 siommu_iopf_response_fn *fn, void *opaque)
{
	struct siommu_device_info info;
	struct iopf_dev *fd;
	pthread_condattr_t ca;
	int ret;

	if (!iopf || !dev || !fn)
		return -EINVAL;
	ret = siommu_device_get_info(dev, &info);
	if (ret)
		return ret;
	if (!(info.flags & SIOMMU_DEV_PRI))
		return -EINVAL;
	fd = siommu_zalloc(sizeof(*fd));
	if (!fd)
		return -ENOMEM;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	ret = pthread_cond_init(&fd->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (ret) {
		siommu_free(fd);
		return -ENOMEM;
	}
	siommu_mutex_init(&fd->lock, "iopf.dev", SIOMMU_RANK_IOPF_DEV);
	fd->refs = 1;		/* the device's private data */
	fd->iopf = iopf;
	fd->dev = dev;
	fd->rid = info.rid;
	fd->dev_flags = info.flags;
	fd->resp_fn = fn;
	fd->resp_opaque = opaque;
	CDS_INIT_LIST_HEAD(&fd->partial);
	CDS_INIT_LIST_HEAD(&fd->pending);
	CDS_INIT_LIST_HEAD(&fd->drains);

	siommu_mutex_lock(&iopf->lock);
	if (siommu_device_get_priv(dev, iopf->layer)) {
		ret = -EEXIST;
	} else {
		ret = siommu_device_set_priv(dev, iopf->layer, fd);	/* publishes fd */
		if (!ret)
			cds_list_add_tail(&fd->link, &iopf->devices);
	}
	siommu_mutex_unlock(&iopf->lock);
	if (ret) {
		pthread_cond_destroy(&fd->cond);
		siommu_mutex_destroy(&fd->lock);
		siommu_free(fd);
	}
	return ret;
}

SIOMMU_API int siommu_iopf_device_disable(struct siommu_iopf *iopf,
					  struct siommu_device *dev)
{
	struct iopf_drain all = { .all = true };
	struct iopf_dev *fd;

	if (!iopf || !dev)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&iopf->lock);
	fd = siommu_device_get_priv(dev, iopf->layer);
	if (!fd) {
		siommu_mutex_unlock(&iopf->lock);
		return -ENOENT;
	}
	/* New reports find nothing (-ENODEV); those holding a reference finish. */
	SIOMMU_WARN_ON(siommu_device_set_priv(dev, iopf->layer, NULL));
	cds_list_del(&fd->link);
	siommu_mutex_unlock(&iopf->lock);

	iopf_drain_fd(iopf, fd, &all, true);
#if SIOMMU_TESTING_BUILD
	if (test_no_dev_refs) {
		/* broken: free at once, as if no report could hold it */
		pthread_cond_destroy(&fd->cond);
		siommu_mutex_destroy(&fd->lock);
		siommu_free(fd);
		return 0;
	}
#endif
	iopf_dev_put(fd);	/* the private data's */
	return 0;
}

/* ------------------------------------------------------------------ domain handlers */

int iopf_set_handler(struct siommu_iopf *iopf, struct siommu_domain *dom,
		     const struct siommu_iopf_handler *h, void *opaque,
		     void (*release)(void *opaque))
{
	struct siommu_domain_info info;
	struct iopf_domain *idom;
	int ret;

	if (!iopf || !dom || !h || !h->handle || h->flags & ~SIOMMU_IOPF_HANDLER_ATOMIC)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	ret = siommu_domain_get_info(dom, &info);
	if (ret)
		return ret;
	if (info.type != SIOMMU_DOMAIN_PAGING)
		return -EINVAL;
	idom = siommu_zalloc(sizeof(*idom));
	if (!idom)
		return -ENOMEM;
	idom->refs = 1;		/* the domain's private data */
	idom->iopf = iopf;
	idom->dom = dom;
	idom->h = *h;
	idom->opaque = opaque;
	idom->release = release;

	siommu_mutex_lock(&iopf->lock);
	if (siommu_domain_get_priv(dom, iopf->layer)) {
		ret = -EBUSY;
		goto err_unlock;
	}
	ret = siommu_domain_set_priv(dom, iopf->layer, idom);
	if (ret)
		goto err_unlock;
	ret = siommu_domain_set_fault_handler(dom, iopf_core_fault, idom);
	if (ret) {
		SIOMMU_WARN_ON(siommu_domain_set_priv(dom, iopf->layer, NULL));
		goto err_unlock;
	}
	cds_list_add_tail(&idom->link, &iopf->domains);
	siommu_mutex_unlock(&iopf->lock);
	return 0;

err_unlock:
	siommu_mutex_unlock(&iopf->lock);
	siommu_free(idom);
	return ret;
}

SIOMMU_API int siommu_iopf_domain_set_handler(struct siommu_iopf *iopf,
					      struct siommu_domain *dom,
					      const struct siommu_iopf_handler *h,
					      void *opaque)
{
	return iopf_set_handler(iopf, dom, h, opaque, NULL);
}

SIOMMU_API int siommu_iopf_domain_clear_handler(struct siommu_iopf *iopf,
						struct siommu_domain *dom)
{
	struct siommu_domain_info info;
	struct iopf_domain *idom;
	int ret;

	if (!iopf || !dom)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&iopf->lock);
	idom = siommu_domain_get_priv(dom, iopf->layer);
	if (!idom || idom->dying) {
		siommu_mutex_unlock(&iopf->lock);
		return -ENOENT;
	}
	ret = siommu_domain_get_info(dom, &info);
	if (!ret && info.users)
		ret = -EBUSY;	/* attached: its groups are not drained */
	if (ret) {
		siommu_mutex_unlock(&iopf->lock);
		return ret;
	}
	siommu_store_relaxed(&idom->dying, true);	/* an attach starting now is refused */
	SIOMMU_WARN_ON(siommu_domain_set_priv(dom, iopf->layer, NULL));
	cds_list_del(&idom->link);
	siommu_mutex_unlock(&iopf->lock);
	/* Waits for a grace period: no DMA fault or filing uses @idom after. */
	SIOMMU_WARN_ON(siommu_domain_set_fault_handler(dom, NULL, NULL));
	if (idom->release)
		idom->release(idom->opaque);
	iopf_domain_put(idom);	/* groups still held above keep it */
	return 0;
}

void iopf_fq_get(struct siommu_iopf *iopf)
{
	siommu_mutex_lock(&iopf->lock);
	iopf->nr_queues++;
	siommu_mutex_unlock(&iopf->lock);
}

void iopf_fq_put(struct siommu_iopf *iopf)
{
	siommu_mutex_lock(&iopf->lock);
	iopf->nr_queues--;
	siommu_mutex_unlock(&iopf->lock);
}

/* ------------------------------------------------------------------ groups */

SIOMMU_API unsigned int siommu_iopf_group_count(const struct siommu_iopf_group *g)
{
	return g ? g->nr : 0;
}

SIOMMU_API const struct siommu_page_request *
siommu_iopf_group_request(const struct siommu_iopf_group *g, unsigned int i)
{
	return g && i < g->nr ? &g->reqs[i] : NULL;
}

SIOMMU_API struct siommu_device *siommu_iopf_group_device(const struct siommu_iopf_group *g)
{
	return g ? g->fd->dev : NULL;
}

SIOMMU_API struct siommu_domain *siommu_iopf_group_domain(const struct siommu_iopf_group *g)
{
	return g ? g->dom : NULL;
}

/* ------------------------------------------------------------------ stats */

SIOMMU_API int siommu_iopf_get_stats(struct siommu_iopf *iopf, struct siommu_iopf_stats *out)
{
	uint64_t s[IOPF_STAT_NR];

	if (!iopf || !out)
		return -EINVAL;
	siommu_stats_read_all(iopf->stats, s);
	*out = (struct siommu_iopf_stats){
		.requests = s[IOPF_STAT_REQUESTS],
		.stop_markers = s[IOPF_STAT_STOP_MARKERS],
		.prq_full = s[IOPF_STAT_PRQ_FULL],
		.overflows = s[IOPF_STAT_OVERFLOWS],
		.auto_success = s[IOPF_STAT_AUTO_SUCCESS],
		.partial_discarded = s[IOPF_STAT_PARTIAL_DISCARDED],
		.groups = s[IOPF_STAT_GROUPS],
		.groups_unhandled = s[IOPF_STAT_GROUPS_UNHANDLED],
		.handler_failures = s[IOPF_STAT_HANDLER_FAILURES],
		.resp_success = s[IOPF_STAT_RESP_SUCCESS],
		.resp_invalid = s[IOPF_STAT_RESP_INVALID],
		.resp_failure = s[IOPF_STAT_RESP_FAILURE],
		.resp_dropped = s[IOPF_STAT_RESP_DROPPED],
		.drains = s[IOPF_STAT_DRAINS],
		.drained_requests = s[IOPF_STAT_DRAINED_REQUESTS],
		.drained_groups = s[IOPF_STAT_DRAINED_GROUPS],
		.drain_timeouts = s[IOPF_STAT_DRAIN_TIMEOUTS],
	};
	siommu_mutex_lock(&iopf->prq_lock);
	out->prq_depth = iopf->prq_tail - iopf->prq_head;
	out->overflow = iopf->overflow;
	siommu_mutex_unlock(&iopf->prq_lock);
	out->prq_capacity = iopf->prq_size - 1;
	return 0;
}
