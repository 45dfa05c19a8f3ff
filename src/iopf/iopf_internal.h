/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iopf internals shared by iopf.c (the layer, PRQ, devices, groups,
 * responses, drain, workers), resolve.c (resolve by mapping) and
 * fault_queue.c (the fault queue).  The design is in include/softiommu/
 * iopf.h and docs/modules/iopf.md.
 *
 * Lock order (src/base/lock.h): the core's dev->attach_lock (150) >
 * iopf->lock (IOPF, 154) > iopf->prq_lock (IOPF_PRQ, 600) > fd->lock
 * (IOPF_DEV, 601); q->lock (IOPF_FQ, 610) nests in none of these (the fault
 * queue calls siommu_iopf_group_respond() with it dropped).  prq_lock,
 * fd->lock and q->lock are taken inside read-side sections (INLINE mode
 * processes a DMA fault's request there) and are never held across a grace
 * period nor across a wait of a drain.
 */
#ifndef SIOMMU_IOPF_INTERNAL_H
#define SIOMMU_IOPF_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <urcu/list.h>

#include "softiommu/iopf.h"
#include "base/compiler.h"
#include "base/lock.h"
#include "base/rcu.h"
#include "base/stats.h"
#include "siommu_config.h"

/* A partial request (L = 0) waiting for its group's last one. */
struct iopf_req {
	struct cds_list_head link;	/* [fd->lock] fd->partial */
	struct siommu_page_request req;	/* immutable */
};

/* A drain in progress on a device: requests of it are refused. */
struct iopf_drain {
	struct cds_list_head link;	/* [fd->lock] fd->drains */
	bool all;			/* every PASID (device disable) */
	uint32_t pasid;			/* else this one (SIOMMU_NO_PASID: requests without) */
};

/*
 * Per-device fault data (Linux's iommu_fault_param): one lock for its lists
 * in every path (seed 002's review).  Reference counted: the device's
 * private data holds one until siommu_iopf_device_disable(), each PRQ
 * entry, group and report in progress one.  Found by reports inside a
 * read-side section (private data, then iopf_dev_tryget()), freed after a
 * grace period once the count is 0.
 */
struct iopf_dev {
	struct siommu_mutex lock;	/* IOPF_DEV: fields marked [L] */
	pthread_cond_t cond;		/* [L] drains wait for handlers and answers */
	unsigned int waiters;		/* [L] drains waiting on cond (broadcast only then) */
	long refs;			/* atomic */
	struct siommu_iopf *iopf;	/* immutable */
	struct siommu_device *dev;	/* immutable */
	uint32_t rid;			/* immutable */
	unsigned int dev_flags;		/* immutable: SIOMMU_DEV_* */
	siommu_iopf_response_fn *resp_fn; /* immutable */
	void *resp_opaque;		/* immutable */
	struct cds_list_head partial;	/* [L] struct iopf_req, arrival order */
	struct cds_list_head pending;	/* [L] groups not answered yet */
	struct cds_list_head drains;	/* [L] struct iopf_drain */
	uint64_t lost[(SIOMMU_PRGI_MAX + 1) / 64]; /* [L] PRG indexes with a lost partial */
	bool dead;			/* [L] disabled: nothing is delivered any more */
	uint32_t next_prgi;		/* atomic: PRG indexes of DMA-fault requests */
	struct cds_list_head link;	/* [iopf->lock] iopf->devices */
	struct siommu_rcu_head rcu;
};

/* A domain's group handler record (its private data of the iopf layer). */
struct iopf_domain {
	long refs;			/* atomic: 1 while set, plus one per group */
	struct siommu_iopf *iopf;	/* immutable */
	struct siommu_domain *dom;	/* immutable */
	struct siommu_iopf_handler h;	/* immutable */
	void *opaque;			/* immutable */
	void (*release)(void *opaque);	/* immutable: at clear (resolver, fault queue) */
	bool dying;			/* [iopf->lock]; read racily by processing */
	struct cds_list_head link;	/* [iopf->lock] iopf->domains */
	struct siommu_rcu_head rcu;
};

enum iopf_group_state {
	IOPF_G_RUNNING = 1,		/* the handler's handle() is being called */
	IOPF_G_ASYNC,			/* handle() returned ASYNC: waiting for the answer */
	IOPF_G_DONE,			/* answered: off the pending list */
};

struct siommu_iopf_group {
	struct cds_list_head link;	/* [fd->lock] fd->pending until answered */
	long refs;			/* atomic: pending list, dispatcher, handler, drain */
	struct iopf_dev *fd;		/* a reference */
	struct iopf_domain *idom;	/* a reference */
	struct siommu_domain *dom;	/* immutable */
	unsigned int state;		/* [fd->lock]; IOPF_G_* */
	bool cancel_asked;		/* [fd->lock] a drain called the handler's cancel */
	bool has_pasid;			/* immutable */
	uint32_t pasid;			/* immutable */
	uint16_t prgi;			/* immutable */
	unsigned int nr;		/* immutable */
	struct siommu_page_request reqs[]; /* immutable, arrival order */
};

/* One PRQ slot; @fd NULL: removed by a drain, skipped when popped. */
struct iopf_prq_entry {
	struct iopf_dev *fd;		/* [prq_lock] a reference */
	struct siommu_page_request req;	/* [prq_lock] */
};

enum {
	IOPF_STAT_REQUESTS,
	IOPF_STAT_STOP_MARKERS,
	IOPF_STAT_PRQ_FULL,
	IOPF_STAT_OVERFLOWS,
	IOPF_STAT_AUTO_SUCCESS,
	IOPF_STAT_PARTIAL_DISCARDED,
	IOPF_STAT_GROUPS,
	IOPF_STAT_GROUPS_UNHANDLED,
	IOPF_STAT_HANDLER_FAILURES,
	IOPF_STAT_RESP_SUCCESS,
	IOPF_STAT_RESP_INVALID,
	IOPF_STAT_RESP_FAILURE,
	IOPF_STAT_RESP_DROPPED,
	IOPF_STAT_DRAINS,
	IOPF_STAT_DRAINED_REQUESTS,
	IOPF_STAT_DRAINED_GROUPS,
	IOPF_STAT_DRAIN_TIMEOUTS,
	IOPF_STAT_NR
};

struct siommu_iopf {
	struct siommu_iommu *iommu;	/* immutable */
	struct siommu_layer *layer;	/* immutable */
	enum siommu_iopf_mode mode;	/* immutable */
	uint32_t drain_timeout_ms;	/* immutable; SIOMMU_IOPF_DRAIN_NOWAIT: none */
	struct siommu_mutex lock;	/* IOPF: devices, domains, queues */
	struct cds_list_head devices;	/* [lock] struct iopf_dev */
	struct cds_list_head domains;	/* [lock] struct iopf_domain */
	unsigned int nr_queues;		/* [lock] fault queues alive */

	struct siommu_mutex prq_lock;	/* IOPF_PRQ: fields marked [P] */
	pthread_cond_t prq_cond;	/* [P] workers wait for requests */
	struct iopf_prq_entry *prq;	/* [P] ring of prq_size slots */
	uint32_t prq_size;		/* immutable, a power of two */
	uint32_t prq_head, prq_tail;	/* [P] free-running; tail - head < prq_size */
	bool overflow;			/* [P] sticky pqof */
	bool stopping;			/* [P] workers exit */
	unsigned int sleepers;		/* [P] workers in pthread_cond_wait() (a report signals only then) */

	unsigned int nr_workers;	/* immutable */
	pthread_t *workers;		/* immutable */

	/*
	 * Per-thread counters (base/stats.h), summed on read: the reporting
	 * thread and the worker that answers write no shared cache line for
	 * them (a shared atomic line bounced between them on every fault).
	 */
	struct siommu_stats *stats;	/* immutable pointer */
};

static inline void iopf_stat_add(struct siommu_iopf *iopf, unsigned int idx, uint64_t n)
{
	siommu_stats_add(iopf->stats, idx, n);
}

/* iopf.c, for resolve.c and fault_queue.c */
int iopf_set_handler(struct siommu_iopf *iopf, struct siommu_domain *dom,
		     const struct siommu_iopf_handler *h, void *opaque,
		     void (*release)(void *opaque));
void iopf_group_get(struct siommu_iopf_group *g);
void iopf_group_put(struct siommu_iopf_group *g);
void iopf_fq_get(struct siommu_iopf *iopf);
void iopf_fq_put(struct siommu_iopf *iopf);

#if SIOMMU_TESTING_BUILD
/* Broken-protocol hooks (per thread; the stress tests' broken variants). */
void iopf_test_set_naive_drain(bool on);	/* drain requests only (the seed's first patch) */
void iopf_test_set_no_dev_refs(bool on);	/* disable frees the fault data at once */
void iopf_test_set_resolver_unpinned(bool on);	/* every thread: the resolver neither pins nor records */
#endif

#endif
