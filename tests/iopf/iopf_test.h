/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the iopf tests: a device-side recorder of PRG responses, a
 * recording group handler, request builders.
 */
#ifndef IOPF_TEST_H
#define IOPF_TEST_H

#include <pthread.h>
#include <string.h>

#include <softiommu/iopf.h>

#define REC_MAX		256
#define HELD_MAX	64

/* The device's side of the wire: every response it received. */
struct rec {
	pthread_mutex_t m;
	unsigned int n;
	struct siommu_page_response r[REC_MAX];
};

static inline void rec_fn(void *opaque, struct siommu_device *dev,
			  const struct siommu_page_response *r)
{
	struct rec *x = opaque;

	(void)dev;
	pthread_mutex_lock(&x->m);
	if (x->n < REC_MAX)
		x->r[x->n] = *r;
	x->n++;
	pthread_mutex_unlock(&x->m);
}

static inline void rec_init(struct rec *x)
{
	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->m, NULL);
}

static inline unsigned int rec_count(struct rec *x)
{
	unsigned int n;

	pthread_mutex_lock(&x->m);
	n = x->n;
	pthread_mutex_unlock(&x->m);
	return n;
}

/* A group handler that records what it gets and answers @ret. */
struct hstate {
	int ret;			/* a response code, SIOMMU_IOPF_ASYNC or -errno */
	unsigned int groups;
	unsigned int nreq[HELD_MAX];
	struct siommu_page_request reqs[HELD_MAX][8];
	struct siommu_iopf_group *held[HELD_MAX];	/* ASYNC: the groups kept */
	unsigned int nheld;
	unsigned int cancels;
};

static inline int h_handle(void *opaque, struct siommu_iopf_group *g)
{
	struct hstate *h = opaque;
	unsigned int i, k = h->groups++;

	if (k < HELD_MAX) {
		h->nreq[k] = siommu_iopf_group_count(g);
		for (i = 0; i < h->nreq[k] && i < 8; i++)
			h->reqs[k][i] = *siommu_iopf_group_request(g, i);
	}
	if (h->ret == SIOMMU_IOPF_ASYNC && h->nheld < HELD_MAX)
		h->held[h->nheld++] = g;
	return h->ret;
}

static inline void h_cancel(void *opaque, struct siommu_iopf_group *g)
{
	struct hstate *h = opaque;

	(void)g;
	h->cancels++;
}

static const struct siommu_iopf_handler h_ops = {
	.name = "test", .flags = SIOMMU_IOPF_HANDLER_ATOMIC, .handle = h_handle,
};

static const struct siommu_iopf_handler h_ops_cancel = {
	.name = "test-cancel", .flags = SIOMMU_IOPF_HANDLER_ATOMIC, .handle = h_handle,
	.cancel = h_cancel,
};

static inline struct siommu_page_request preq(uint32_t pasid, uint16_t prgi, bool last,
					      uint64_t addr)
{
	struct siommu_page_request r = { .addr = addr, .access = SIOMMU_ACC_READ,
					 .prgi = prgi };

	if (pasid) {
		r.flags |= SIOMMU_PRQ_PASID;
		r.pasid = pasid;
	}
	if (last)
		r.flags |= SIOMMU_PRQ_LAST;
	return r;
}

static inline struct siommu_page_request pstop(uint32_t pasid)
{
	struct siommu_page_request r = { .flags = SIOMMU_PRQ_PASID | SIOMMU_PRQ_LAST,
					 .pasid = pasid };

	return r;
}

#endif
