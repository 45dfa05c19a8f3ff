// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The iopf layer, one behaviour per case: grouping (interleaved groups of
 * several PASIDs, last-request semantics, Stop Markers), responses (by
 * group, by PRG index and PASID, PASID-required devices, unmatched /
 * duplicate / late ones dropped), the full queue and its overflow bit,
 * no domain / no handler, handler failure, drain on detach / replace /
 * disable (requests and responses, bounded wait, no warning), DMA faults
 * becoming page requests, and argument errors.  MANUAL mode unless a case
 * says otherwise, so the PRQ can be filled before it is processed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "test_common.h"
#include "iopf_test.h"
#include "grace_probe.h"

#include <softiommu/core.h>

#define RID_A	SIOMMU_RID(0, 2, 0, 0)	/* PRI + PASID */
#define RID_R	SIOMMU_RID(0, 2, 1, 0)	/* PRI + PASID + PRG Response PASID Required */
#define RID_N	SIOMMU_RID(0, 2, 2, 0)	/* no PRI */
#define PG	4096ull

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_iopf *iopf;
	struct siommu_device *a, *r, *n;
	struct siommu_domain *d1, *d2, *bare;	/* d1, d2 with handlers h1, h2; bare without */
	struct hstate h1, h2;
	struct rec ra, rr;
	unsigned int warnings;
};

static void count_warnings(void *opaque, enum siommu_log_level level, const char *msg)
{
	struct fixture *f = opaque;

	(void)msg;
	if (level <= SIOMMU_LOG_WARN)
		f->warnings++;
}

static int setup_mode(void **state, enum siommu_iopf_mode mode, uint32_t timeout_ms)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8, .prq_size = 8 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = mode, .drain_timeout_ms = timeout_ms };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx))
		return -1;
	siommu_ctx_set_log(f->ctx, SIOMMU_LOG_DEBUG, count_warnings, f);
	rec_init(&f->ra);
	rec_init(&f->rr);
	f->h1.ret = SIOMMU_PAGE_RESP_SUCCESS;
	f->h2.ret = SIOMMU_PAGE_RESP_SUCCESS;
	if (siommu_iommu_create(f->ctx, &caps, NULL, &f->iommu) ||
	    siommu_iopf_create(f->iommu, &icfg, &f->iopf) ||
	    siommu_device_create(f->iommu, RID_A, SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &f->a) ||
	    siommu_device_create(f->iommu, RID_R, SIOMMU_DEV_PRI | SIOMMU_DEV_PASID |
				 SIOMMU_DEV_PRG_RESP_PASID, 8, &f->r) ||
	    siommu_device_create(f->iommu, RID_N, 0, 0, &f->n) ||
	    siommu_domain_create(f->iommu, &cfg, &f->d1) ||
	    siommu_domain_create(f->iommu, &cfg, &f->d2) ||
	    siommu_domain_create(f->iommu, &cfg, &f->bare) ||
	    siommu_iopf_domain_set_handler(f->iopf, f->d1, &h_ops_cancel, &f->h1) ||
	    siommu_iopf_domain_set_handler(f->iopf, f->d2, &h_ops, &f->h2) ||
	    siommu_iopf_device_enable(f->iopf, f->a, rec_fn, &f->ra) ||
	    siommu_iopf_device_enable(f->iopf, f->r, rec_fn, &f->rr) ||
	    siommu_device_attach(f->a, f->d1) || siommu_pasid_attach(f->a, 1, f->d1) ||
	    siommu_pasid_attach(f->a, 2, f->d1) || siommu_pasid_attach(f->r, 1, f->d1) ||
	    siommu_device_attach(f->r, f->d1))
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_mode(state, SIOMMU_IOPF_MODE_MANUAL, SIOMMU_IOPF_DRAIN_NOWAIT);
}

static int setup_inline(void **state)
{
	return setup_mode(state, SIOMMU_IOPF_MODE_INLINE, SIOMMU_IOPF_DRAIN_NOWAIT);
}

static int setup_wait(void **state)
{
	return setup_mode(state, SIOMMU_IOPF_MODE_INLINE, 300);
}

static void detach_all(struct siommu_device *dev)
{
	struct siommu_attachment at[16];
	int i, n = siommu_device_get_attachments(dev, at, 16);

	for (i = 0; i < n; i++) {
		if (at[i].pasid == SIOMMU_NO_PASID)
			siommu_device_detach(dev);
		else
			siommu_pasid_detach(dev, at[i].pasid);
	}
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	detach_all(f->a);
	detach_all(f->r);
	/* groups still held by the test handlers: their answers are late now */
	for (i = 0; i < f->h1.nheld; i++)
		siommu_iopf_group_respond(f->h1.held[i], SIOMMU_PAGE_RESP_SUCCESS);
	for (i = 0; i < f->h2.nheld; i++)
		siommu_iopf_group_respond(f->h2.held[i], SIOMMU_PAGE_RESP_SUCCESS);
	siommu_iopf_device_disable(f->iopf, f->a);
	siommu_iopf_device_disable(f->iopf, f->r);
	siommu_iopf_domain_clear_handler(f->iopf, f->d1);
	siommu_iopf_domain_clear_handler(f->iopf, f->d2);
	assert_int_equal(siommu_iopf_destroy(f->iopf), 0);
	assert_int_equal(siommu_domain_destroy(f->d1), 0);
	assert_int_equal(siommu_domain_destroy(f->d2), 0);
	assert_int_equal(siommu_domain_destroy(f->bare), 0);
	assert_int_equal(siommu_device_destroy(f->a), 0);
	assert_int_equal(siommu_device_destroy(f->r), 0);
	assert_int_equal(siommu_device_destroy(f->n), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static void report_ok(struct fixture *f, struct siommu_device *dev,
		      struct siommu_page_request r)
{
	assert_int_equal(siommu_iopf_report(f->iopf, dev, &r), 0);
}

static struct siommu_iopf_stats stats(struct fixture *f)
{
	struct siommu_iopf_stats s;

	assert_int_equal(siommu_iopf_get_stats(f->iopf, &s), 0);
	return s;
}

/* Two PASIDs' groups with the same PRG index interleave; each forms alone, in order. */
static void test_iopf_group_interleaved_pasids(void **state)
{
	struct fixture *f = *state;

	report_ok(f, f->a, preq(1, 3, false, 0x1000));
	report_ok(f, f->a, preq(2, 3, false, 0x2000));
	report_ok(f, f->a, preq(1, 3, false, 0x3000));
	report_ok(f, f->a, preq(0, 3, false, 0x9000));	/* no PASID: a third group */
	report_ok(f, f->a, preq(2, 3, true, 0x4000));
	report_ok(f, f->a, preq(1, 3, true, 0x5123));
	assert_int_equal(siommu_iopf_process(f->iopf, 0), 6);
	assert_int_equal(f->h1.groups, 2);
	/* PASID 2 completed first: [0x2000, 0x4000] */
	assert_int_equal(f->h1.nreq[0], 2);
	assert_int_equal(f->h1.reqs[0][0].addr, 0x2000);
	assert_int_equal(f->h1.reqs[0][1].addr, 0x4000);
	assert_int_equal(f->h1.reqs[0][1].pasid, 2);
	/* PASID 1: arrival order, the last one last, page aligned */
	assert_int_equal(f->h1.nreq[1], 3);
	assert_int_equal(f->h1.reqs[1][0].addr, 0x1000);
	assert_int_equal(f->h1.reqs[1][1].addr, 0x3000);
	assert_int_equal(f->h1.reqs[1][2].addr, 0x5000);
	assert_true(f->h1.reqs[1][2].flags & SIOMMU_PRQ_LAST);
	/* both answered Success by PRG index; no PASID (not required) */
	assert_int_equal(rec_count(&f->ra), 2);
	assert_int_equal(f->ra.r[0].prgi, 3);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(f->ra.r[0].flags, 0);
	/* the no-PASID partial is still waiting for its last request */
	report_ok(f, f->a, preq(0, 3, true, 0xa000));
	assert_int_equal(siommu_iopf_process(f->iopf, 0), 1);
	assert_int_equal(f->h1.nreq[2], 2);
	assert_int_equal(f->h1.reqs[2][0].addr, 0x9000);
	assert_int_equal(stats(f).groups, 3);
}

/* A single last request is a group of one; a later group reuses the index. */
static void test_iopf_group_last_request_alone(void **state)
{
	struct fixture *f = *state;

	report_ok(f, f->a, preq(1, 7, true, 0x1000));
	report_ok(f, f->a, preq(1, 7, true, 0x2000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(f->h1.groups, 2);
	assert_int_equal(f->h1.nreq[0], 1);
	assert_int_equal(f->h1.nreq[1], 1);
	assert_int_equal(rec_count(&f->ra), 2);
}

/* PRG Response PASID Required: the response carries the PASID (if the request had one). */
static void test_iopf_response_pasid_required(void **state)
{
	struct fixture *f = *state;

	report_ok(f, f->r, preq(1, 9, true, 0x1000));
	report_ok(f, f->r, preq(0, 10, true, 0x2000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(rec_count(&f->rr), 2);
	assert_int_equal(f->rr.r[0].flags, SIOMMU_PRQ_PASID);
	assert_int_equal(f->rr.r[0].pasid, 1);
	assert_int_equal(f->rr.r[0].prgi, 9);
	assert_int_equal(f->rr.r[1].flags, 0);
	assert_int_equal(f->rr.r[1].prgi, 10);
}

/* A Stop Marker discards its PASID's partial groups and gets no response. */
static void test_iopf_stop_marker(void **state)
{
	struct fixture *f = *state;

	report_ok(f, f->a, preq(1, 5, false, 0x1000));
	report_ok(f, f->a, preq(2, 5, false, 0x2000));
	report_ok(f, f->a, pstop(1));
	report_ok(f, f->a, preq(1, 5, true, 0x3000));
	report_ok(f, f->a, preq(2, 5, true, 0x4000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(stats(f).stop_markers, 1);
	assert_int_equal(stats(f).partial_discarded, 1);
	assert_int_equal(f->h1.groups, 2);
	assert_int_equal(f->h1.nreq[0], 1);	/* PASID 1: the partial went with the stop */
	assert_int_equal(f->h1.nreq[1], 2);	/* PASID 2 untouched */
	assert_int_equal(rec_count(&f->ra), 2);	/* none for the Stop Marker */
}

/* Responses by PRG index: matched by index and PASID; the rest dropped and counted. */
static void test_iopf_respond_by_prgi(void **state)
{
	struct fixture *f = *state;
	struct siommu_page_response resp = { .prgi = 4, .flags = SIOMMU_PRQ_PASID, .pasid = 2,
					     .code = SIOMMU_PAGE_RESP_SUCCESS };

	f->h1.ret = SIOMMU_IOPF_ASYNC;
	report_ok(f, f->a, preq(1, 4, true, 0x1000));
	report_ok(f, f->r, preq(1, 4, true, 0x1000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(f->h1.nheld, 2);
	assert_int_equal(rec_count(&f->ra), 0);
	/* wrong PASID, wrong index: dropped */
	assert_int_equal(siommu_iopf_respond(f->iopf, f->a, &resp), -ENOENT);
	resp.pasid = 1;
	resp.prgi = 5;
	assert_int_equal(siommu_iopf_respond(f->iopf, f->a, &resp), -ENOENT);
	resp.prgi = 4;
	assert_int_equal(siommu_iopf_respond(f->iopf, f->a, &resp), 0);
	assert_int_equal(rec_count(&f->ra), 1);
	/* duplicate */
	assert_int_equal(siommu_iopf_respond(f->iopf, f->a, &resp), -ENOENT);
	/* the handler's own late answer */
	assert_int_equal(siommu_iopf_group_respond(f->h1.held[0], SIOMMU_PAGE_RESP_INVALID),
			 -ECANCELED);
	assert_int_equal(rec_count(&f->ra), 1);
	/* a PASID-required device's group needs the PASID in the response */
	resp.flags = 0;
	assert_int_equal(siommu_iopf_respond(f->iopf, f->r, &resp), -ENOENT);
	resp.flags = SIOMMU_PRQ_PASID;
	assert_int_equal(siommu_iopf_respond(f->iopf, f->r, &resp), 0);
	assert_int_equal(f->rr.r[0].pasid, 1);
	assert_int_equal(siommu_iopf_group_respond(f->h1.held[1], SIOMMU_PAGE_RESP_SUCCESS),
			 -ECANCELED);
	f->h1.nheld = 0;
	assert_int_equal(stats(f).resp_dropped, 6);
	assert_int_equal(stats(f).resp_success, 2);
}

/* An ASYNC group answered by its handler: once. */
static void test_iopf_group_respond_once(void **state)
{
	struct fixture *f = *state;

	f->h1.ret = SIOMMU_IOPF_ASYNC;
	report_ok(f, f->a, preq(2, 1, true, 0x1000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(siommu_iopf_group_respond(f->h1.held[0], 7), -EINVAL);
	assert_int_equal(siommu_iopf_group_respond(f->h1.held[0], SIOMMU_PAGE_RESP_INVALID), 0);
	f->h1.nheld = 0;
	assert_int_equal(rec_count(&f->ra), 1);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_INVALID);
}

/* The RISC-V full-queue rule, the sticky overflow bit and its clearing. */
static void test_iopf_prq_overflow(void **state)
{
	struct fixture *f = *state;
	struct siommu_iopf_stats s;
	unsigned int i;

	assert_int_equal(stats(f).prq_capacity, 7);
	report_ok(f, f->a, preq(1, 20, false, 0x1000));	/* a partial, queued */
	for (i = 0; i < 6; i++)
		report_ok(f, f->a, preq(2, (uint16_t)i, true, 0x1000));
	s = stats(f);
	assert_int_equal(s.prq_depth, 7);
	assert_false(s.overflow);
	/* full: L = 1 answered Success at once; L = 0 and a Stop Marker dropped */
	struct siommu_page_request l1 = preq(2, 30, true, 0x1000);
	struct siommu_page_request l0 = preq(2, 31, false, 0x1000);
	struct siommu_page_request st = pstop(2);

	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &l1), 1);
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &l0), 1);
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &st), 1);
	assert_int_equal(rec_count(&f->ra), 1);
	assert_int_equal(f->ra.r[0].prgi, 30);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_SUCCESS);
	s = stats(f);
	assert_true(s.overflow);
	assert_int_equal(s.overflows, 1);
	assert_int_equal(s.prq_full, 3);
	assert_int_equal(s.auto_success, 1);
	/* sticky: an empty queue still refuses until the bit is cleared */
	assert_int_equal(siommu_iopf_process(f->iopf, 0), 7);
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &l1), 1);
	assert_int_equal(stats(f).overflows, 1);
	/* clearing discards the incomplete groups (the partial of PRG 20) */
	assert_int_equal(siommu_iopf_clear_overflow(f->iopf), 1);
	assert_int_equal(siommu_iopf_clear_overflow(f->iopf), 0);
	assert_int_equal(stats(f).partial_discarded, 1);
	report_ok(f, f->a, preq(1, 20, true, 0x2000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(f->h1.nreq[f->h1.groups - 1], 1);
}

/*
 * Clearing the overflow before the queue was processed: the requests of an
 * incomplete group that are still in the PRQ are discarded too, not filed
 * later as partials that join the device's retry of the group (found by the
 * soak: a group of 5 requests from a device that sends at most 3).  A
 * complete group still in the PRQ stays whole.
 */
static void test_iopf_overflow_clear_discards_queued_partials(void **state)
{
	struct fixture *f = *state;
	struct siommu_page_request l1 = preq(1, 20, true, 0x3000);
	unsigned int i;

	report_ok(f, f->a, preq(1, 20, false, 0x1000));	/* PRG 20's first two */
	report_ok(f, f->a, preq(1, 20, false, 0x2000));
	report_ok(f, f->a, preq(2, 9, false, 0x1000));	/* PRG 9 complete: in the PRQ */
	report_ok(f, f->a, preq(2, 9, true, 0x2000));
	for (i = 0; i < 3; i++)
		report_ok(f, f->a, preq(2, (uint16_t)i, true, 0x1000));
	assert_int_equal(stats(f).prq_depth, 7);
	/* full: PRG 20's last is answered Success; the device will send it all again */
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &l1), 1);
	assert_int_equal(siommu_iopf_clear_overflow(f->iopf), 1);
	assert_int_equal(stats(f).partial_discarded, 2);
	assert_int_equal(siommu_iopf_process(f->iopf, 0), 5);
	assert_int_equal(f->h1.groups, 4);
	assert_int_equal(f->h1.nreq[0], 2);		/* PRG 9, whole */
	/* the retry of PRG 20: only the requests it sends now */
	report_ok(f, f->a, preq(1, 20, false, 0x1000));
	report_ok(f, f->a, l1);
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(f->h1.groups, 5);
	assert_int_equal(f->h1.nreq[4], 2);
}

/* No domain, or a domain without a handler: Invalid, the partials discarded. */
static void test_iopf_no_domain_no_handler(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(siommu_pasid_detach(f->a, 2), 0);
	report_ok(f, f->a, preq(2, 6, false, 0x1000));
	report_ok(f, f->a, preq(2, 6, true, 0x2000));
	assert_int_equal(siommu_pasid_attach(f->a, 3, f->bare), 0);
	report_ok(f, f->a, preq(3, 6, false, 0x1000));
	report_ok(f, f->a, preq(3, 6, true, 0x2000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(f->h1.groups, 0);
	assert_int_equal(rec_count(&f->ra), 2);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_INVALID);
	assert_int_equal(f->ra.r[1].code, SIOMMU_PAGE_RESP_INVALID);
	assert_int_equal(stats(f).groups_unhandled, 2);
	assert_int_equal(stats(f).partial_discarded, 2);
	/* reattached: a new group starts clean (no stale partial joins it) */
	assert_int_equal(siommu_pasid_attach(f->a, 2, f->d2), 0);
	report_ok(f, f->a, preq(2, 6, true, 0x3000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(f->h2.groups, 1);
	assert_int_equal(f->h2.nreq[0], 1);
}

/* A handler error, or an answer that is no response code: Response Failure. */
static void test_iopf_handler_failure(void **state)
{
	struct fixture *f = *state;

	f->h1.ret = -EIO;
	report_ok(f, f->a, preq(1, 1, true, 0x1000));
	siommu_iopf_process(f->iopf, 0);
	f->h1.ret = 77;
	report_ok(f, f->a, preq(1, 2, true, 0x1000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(rec_count(&f->ra), 2);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_FAILURE);
	assert_int_equal(f->ra.r[1].code, SIOMMU_PAGE_RESP_FAILURE);
	assert_int_equal(stats(f).handler_failures, 2);
}

/*
 * Detach drains its PASID: the queued request, the partial, the pending
 * group (answered Invalid); late answers dropped; other PASIDs untouched;
 * no warning logged.
 */
static void test_iopf_drain_on_detach(void **state)
{
	struct fixture *f = *state;
	unsigned int i, before;

	f->h1.ret = SIOMMU_IOPF_ASYNC;
	report_ok(f, f->a, preq(1, 1, true, 0x1000));
	report_ok(f, f->a, preq(2, 1, true, 0x1000));
	siommu_iopf_process(f->iopf, 0);
	report_ok(f, f->a, preq(1, 2, false, 0x2000));
	siommu_iopf_process(f->iopf, 0);		/* a partial */
	report_ok(f, f->a, preq(1, 3, true, 0x3000));	/* left in the PRQ */
	f->warnings = 0;
	assert_int_equal(siommu_pasid_detach(f->a, 1), 0);
	assert_int_equal(f->warnings, 0);
	/* PRG 3 (queued) and PRG 1 (pending) answered Invalid, with nothing left */
	assert_int_equal(rec_count(&f->ra), 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(f->ra.r[i].code, SIOMMU_PAGE_RESP_INVALID);
		assert_true(f->ra.r[i].prgi == 1 || f->ra.r[i].prgi == 3);
	}
	assert_int_equal(f->h1.cancels, 1);		/* asked top down first */
	assert_int_equal(stats(f).drained_groups, 1);
	assert_int_equal(stats(f).partial_discarded, 1);
	assert_int_equal(stats(f).prq_depth, 0);
	/* the handler's late answer is dropped */
	assert_int_equal(siommu_iopf_group_respond(f->h1.held[0], SIOMMU_PAGE_RESP_SUCCESS),
			 -ECANCELED);
	before = rec_count(&f->ra);
	/* PASID 2 still pending and answered normally */
	assert_int_equal(siommu_iopf_group_respond(f->h1.held[1], SIOMMU_PAGE_RESP_SUCCESS), 0);
	f->h1.nheld = 0;
	assert_int_equal(rec_count(&f->ra), before + 1);
	assert_int_equal(f->ra.r[before].code, SIOMMU_PAGE_RESP_SUCCESS);
}

struct answerer {
	struct siommu_iopf_group *g;
	int ret;
};

static void *answer_later(void *arg)
{
	struct answerer *a = arg;
	struct timespec ts = { 0, 30 * 1000000L };

	nanosleep(&ts, NULL);
	a->ret = siommu_iopf_group_respond(a->g, SIOMMU_PAGE_RESP_SUCCESS);
	return NULL;
}

/* The drain waits (bounded) for an answer owed; after the timeout it answers itself. */
static void test_iopf_drain_bounded_wait(void **state)
{
	struct fixture *f = *state;
	struct answerer a = { 0 };
	pthread_t t;
	double t0;

	f->h2.ret = SIOMMU_IOPF_ASYNC;
	assert_int_equal(siommu_pasid_replace(f->a, 1, f->d2), 0);
	/* answered within the timeout: the answer goes through */
	report_ok(f, f->a, preq(1, 1, true, 0x1000));
	a.g = f->h2.held[0];
	assert_int_equal(pthread_create(&t, NULL, answer_later, &a), 0);
	assert_int_equal(siommu_pasid_detach(f->a, 1), 0);
	pthread_join(t, NULL);
	assert_int_equal(a.ret, 0);
	assert_int_equal(f->ra.r[rec_count(&f->ra) - 1].code, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(stats(f).drain_timeouts, 0);
	/* never answered: Invalid after the timeout (300 ms) */
	assert_int_equal(siommu_pasid_attach(f->a, 1, f->d2), 0);
	report_ok(f, f->a, preq(1, 2, true, 0x1000));
	t0 = test_now_s();
	assert_int_equal(siommu_pasid_detach(f->a, 1), 0);
	assert_true(test_now_s() - t0 >= 0.25);
	assert_int_equal(f->ra.r[rec_count(&f->ra) - 1].code, SIOMMU_PAGE_RESP_INVALID);
	assert_int_equal(stats(f).drain_timeouts, 1);
	assert_int_equal(siommu_iopf_group_respond(f->h2.held[1], SIOMMU_PAGE_RESP_SUCCESS),
			 -ECANCELED);
	f->h2.nheld = 0;
}

/* Replace drains the old domain's groups; new requests go to the new domain. */
static void test_iopf_replace_drains(void **state)
{
	struct fixture *f = *state;

	f->h1.ret = SIOMMU_IOPF_ASYNC;
	report_ok(f, f->a, preq(2, 8, true, 0x1000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(siommu_pasid_replace(f->a, 2, f->d2), 0);
	assert_int_equal(rec_count(&f->ra), 1);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_INVALID);
	report_ok(f, f->a, preq(2, 8, true, 0x1000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(f->h2.groups, 1);
	assert_int_equal(f->ra.r[1].code, SIOMMU_PAGE_RESP_SUCCESS);
	/* the old group's late answer cannot reach the new one of the same index */
	assert_int_equal(siommu_iopf_group_respond(f->h1.held[0], SIOMMU_PAGE_RESP_SUCCESS),
			 -ECANCELED);
	f->h1.nheld = 0;
	assert_int_equal(rec_count(&f->ra), 2);
}

/*
 * The layer's commit (the drain) matters only to a device with PRI: for a
 * device without it the layer answers SIOMMU_LAYER_NO_COMMIT, so its detach
 * waits no grace period (it returns while a reader is inside a section),
 * while a PRI device's detach still waits, then drains.
 */
static int detach_n(void *opaque)
{
	return siommu_device_detach(opaque);
}

static int detach_pasid2(void *opaque)
{
	return siommu_pasid_detach(opaque, 2);
}

static void test_iopf_layer_skips_devices_without_pri(void **state)
{
	struct fixture *f = *state;
	int ret;

	assert_int_equal(siommu_device_attach(f->n, f->bare), 0);
	assert_false(gp_probe_waits(detach_n, f->n, &ret));
	assert_int_equal(ret, 0);
	assert_null(siommu_device_domain(f->n, SIOMMU_NO_PASID));
	/* replace too */
	assert_int_equal(siommu_device_attach(f->n, f->bare), 0);
	assert_int_equal(siommu_device_replace(f->n, f->d2), 0);
	assert_int_equal(siommu_device_detach(f->n), 0);

	f->h1.ret = SIOMMU_IOPF_ASYNC;
	report_ok(f, f->a, preq(2, 4, true, 0x1000));
	siommu_iopf_process(f->iopf, 0);
	assert_true(gp_probe_waits(detach_pasid2, f->a, &ret));
	assert_int_equal(ret, 0);
	assert_int_equal(rec_count(&f->ra), 1);		/* the drain answered it */
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_INVALID);
	assert_int_equal(siommu_iopf_group_respond(f->h1.held[0], SIOMMU_PAGE_RESP_SUCCESS),
			 -ECANCELED);
	f->h1.nheld = 0;
}

/* Device removal: everything answered, later calls -ENODEV, nothing delivered after. */
static void test_iopf_device_disable(void **state)
{
	struct fixture *f = *state;
	struct siommu_page_request r = preq(1, 1, true, 0x1000);
	struct siommu_page_response resp = { .prgi = 1, .code = SIOMMU_PAGE_RESP_SUCCESS };

	f->h1.ret = SIOMMU_IOPF_ASYNC;
	report_ok(f, f->a, preq(1, 1, true, 0x1000));
	report_ok(f, f->a, preq(0, 2, true, 0x1000));
	siommu_iopf_process(f->iopf, 0);
	report_ok(f, f->a, preq(2, 3, false, 0x1000));
	report_ok(f, f->a, preq(2, 4, true, 0x1000));
	assert_int_equal(siommu_iopf_device_disable(f->iopf, f->a), 0);
	assert_int_equal(rec_count(&f->ra), 3);	/* PRG 1, 2 pending, 4 queued */
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), -ENODEV);
	assert_int_equal(siommu_iopf_respond(f->iopf, f->a, &resp), -ENODEV);
	assert_int_equal(siommu_iopf_device_disable(f->iopf, f->a), -ENOENT);
	assert_int_equal(siommu_iopf_group_respond(f->h1.held[0], SIOMMU_PAGE_RESP_SUCCESS),
			 -ECANCELED);
	assert_int_equal(siommu_iopf_group_respond(f->h1.held[1], SIOMMU_PAGE_RESP_SUCCESS),
			 -ECANCELED);
	f->h1.nheld = 0;
	assert_int_equal(rec_count(&f->ra), 3);
	/* the device may go now */
	detach_all(f->a);
	assert_int_equal(siommu_device_destroy(f->a), 0);
	assert_int_equal(siommu_device_create(f->iommu, RID_A, SIOMMU_DEV_PRI |
					      SIOMMU_DEV_PASID, 8, &f->a), 0);
}

/* INLINE: a recoverable DMA fault becomes a one-request group; the DMA gets -EAGAIN. */
static void test_iopf_dma_fault_inline(void **state)
{
	struct fixture *f = *state;
	uint8_t b;

	assert_int_equal(siommu_dma_read(f->a, 2, 0x40001234, &b, 1), -EAGAIN);
	assert_int_equal(f->h1.groups, 1);
	assert_int_equal(f->h1.nreq[0], 1);
	assert_int_equal(f->h1.reqs[0][0].addr, 0x40001000);
	assert_int_equal(f->h1.reqs[0][0].pasid, 2);
	assert_true(f->h1.reqs[0][0].flags & SIOMMU_PRQ_LAST);
	assert_true(f->h1.reqs[0][0].access & SIOMMU_ACC_READ);
	assert_int_equal(rec_count(&f->ra), 1);
	/* a device that is not enabled: unrecoverable */
	assert_int_equal(siommu_iopf_device_disable(f->iopf, f->a), 0);
	assert_int_equal(siommu_dma_read(f->a, 2, 0x40001234, &b, 1), -ENOENT);
	assert_int_equal(siommu_iopf_device_enable(f->iopf, f->a, rec_fn, &f->ra), 0);
}

/* INLINE from a read-side section: a handler that may block is not called. */
static const struct siommu_iopf_handler h_blocking = { .name = "blocking", .handle = h_handle };

static void test_iopf_inline_rcu_needs_atomic(void **state)
{
	struct fixture *f = *state;
	struct hstate h = { .ret = SIOMMU_PAGE_RESP_SUCCESS };
	uint8_t b;

	assert_int_equal(siommu_pasid_detach(f->a, 2), 0);
	assert_int_equal(siommu_iopf_domain_set_handler(f->iopf, f->bare, &h_blocking, &h), 0);
	assert_int_equal(siommu_pasid_attach(f->a, 2, f->bare), 0);
	assert_int_equal(siommu_dma_read(f->a, 2, 0x40000000, &b, 1), -EAGAIN);
	assert_int_equal(h.groups, 0);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_FAILURE);
	/* outside a section the same handler runs */
	struct siommu_page_request r = preq(2, 1, true, 0x1000);

	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), 0);
	assert_int_equal(h.groups, 1);
	assert_int_equal(siommu_pasid_detach(f->a, 2), 0);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->bare), 0);
}

/* Explicit drain (iopf_queue_flush_dev with responses): counts what it answered. */
static void test_iopf_drain_explicit(void **state)
{
	struct fixture *f = *state;

	f->h1.ret = SIOMMU_IOPF_ASYNC;
	report_ok(f, f->a, preq(0, 1, true, 0x1000));
	report_ok(f, f->a, preq(0, 2, true, 0x1000));
	report_ok(f, f->a, preq(1, 3, true, 0x1000));
	siommu_iopf_process(f->iopf, 0);
	assert_int_equal(siommu_iopf_drain(f->iopf, f->a, SIOMMU_NO_PASID), 2);
	assert_int_equal(siommu_iopf_drain(f->iopf, f->a, SIOMMU_NO_PASID), 0);
	assert_int_equal(rec_count(&f->ra), 2);
	assert_int_equal(siommu_iopf_drain(f->iopf, f->a, 1), 1);
	/*
	 * A group still in the PRQ (MANUAL: nothing processed it) is answered
	 * Invalid by the drain too, and counted: its Returns says "the number
	 * of groups it answered".  A partial request is dropped, not answered.
	 */
	report_ok(f, f->a, preq(1, 4, true, 0x1000));
	report_ok(f, f->a, preq(1, 5, false, 0x2000));
	assert_int_equal(siommu_iopf_drain(f->iopf, f->a, 1), 1);
	assert_int_equal(rec_count(&f->ra), 4);
	assert_int_equal(f->ra.r[3].code, SIOMMU_PAGE_RESP_INVALID);
	assert_int_equal(f->ra.r[3].prgi, 4);
	assert_int_equal(siommu_iopf_drain(f->iopf, f->a, 1), 0);
	assert_int_equal(siommu_iopf_drain(f->iopf, f->n, 1), -ENODEV);
	assert_int_equal(siommu_iopf_drain(f->iopf, f->a, 1u << 20), -EINVAL);
}

static void test_iopf_errors(void **state)
{
	struct fixture *f = *state;
	struct siommu_page_request r = preq(1, 1, true, 0x1000);
	struct siommu_page_response resp = { .code = 3 };
	struct siommu_iopf_cfg bad = { .mode = 7 };
	struct siommu_iopf *x;
	struct rec rn;

	rec_init(&rn);
	r.flags |= 1u << 5;
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), -EINVAL);
	r = preq(1, 512, true, 0x1000);
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), -EINVAL);
	r = preq(1, 1, true, 0x1000);
	r.access = 0;			/* not a Stop Marker without a PASID ... */
	r.flags &= ~SIOMMU_PRQ_PASID;
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), -EINVAL);
	r = preq(0, 1, true, 0x1000);
	r.access |= SIOMMU_ACC_EXEC;	/* execute needs a PASID */
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), -EINVAL);
	r = preq(1u << 20, 1, true, 0x1000);
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), -EINVAL);
	r = preq(1, 1, true, 0x1000);
	assert_int_equal(siommu_iopf_report(f->iopf, f->n, &r), -ENODEV);
	assert_int_equal(siommu_iopf_report(NULL, f->a, &r), -EINVAL);
	assert_int_equal(siommu_iopf_respond(f->iopf, f->a, &resp), -EINVAL);
	assert_int_equal(siommu_iopf_device_enable(f->iopf, f->n, rec_fn, &rn), -EINVAL);
	assert_int_equal(siommu_iopf_device_enable(f->iopf, f->a, rec_fn, &rn), -EEXIST);
	assert_int_equal(siommu_iopf_device_enable(f->iopf, f->a, NULL, &rn), -EINVAL);
	assert_int_equal(siommu_iopf_device_disable(f->iopf, f->n), -ENOENT);
	assert_int_equal(siommu_iopf_create(f->iommu, &bad, &x), -EINVAL);
	bad = (struct siommu_iopf_cfg){ .mode = SIOMMU_IOPF_MODE_WORKERS, .workers = 65 };
	assert_int_equal(siommu_iopf_create(f->iommu, &bad, &x), -EINVAL);
	bad = (struct siommu_iopf_cfg){ .drain_timeout_ms = 60001 };
	assert_int_equal(siommu_iopf_create(f->iommu, &bad, &x), -EINVAL);
	assert_int_equal(siommu_iopf_destroy(f->iopf), -EBUSY);
	assert_int_equal(siommu_iopf_domain_set_handler(f->iopf, f->d1, &h_ops, &f->h1), -EBUSY);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->d1), -EBUSY);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->bare), -ENOENT);
	assert_int_equal(siommu_iopf_domain_set_resolver(f->iopf, f->bare, NULL), -EINVAL);
	siommu_read_lock();
	assert_int_equal(siommu_iopf_drain(f->iopf, f->a, 1), -EDEADLK);
	assert_int_equal(siommu_iopf_device_disable(f->iopf, f->a), -EDEADLK);
	siommu_read_unlock();
	/* a domain attached with a handler cannot be destroyed by mistake */
	assert_int_equal(siommu_domain_destroy(f->d1), -EBUSY);
}

static void test_iopf_process_mode(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(siommu_iopf_process(f->iopf, 0), -EINVAL);	/* INLINE */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_iopf_group_interleaved_pasids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_group_last_request_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_response_pasid_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_stop_marker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_respond_by_prgi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_group_respond_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_prq_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_overflow_clear_discards_queued_partials,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_no_domain_no_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_handler_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_drain_on_detach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_drain_bounded_wait, setup_wait, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_replace_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_device_disable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_dma_fault_inline, setup_inline, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_inline_rcu_needs_atomic, setup_inline,
						teardown),
		cmocka_unit_test_setup_teardown(test_iopf_drain_explicit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_layer_skips_devices_without_pri, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_iopf_process_mode, setup_inline, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
