// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: the fault queue's write side alone, at parser speed (as
 * fuzz_run_parse is to fuzz_run, this is to fuzz_fault_queue).  The bytes a
 * consumer writes to iommufd's fault fd are a list of 8-byte responses
 * (cookie, code); siommu_fault_queue_write() takes them one by one up to
 * the first bad one.
 *
 * The world (an IOMMU, an INLINE iopf, a PRI device attached to a domain
 * whose group handler is a fault queue) is made once and kept across
 * inputs; each input starts and ends with the queue empty.  An input:
 *  - byte 0: how many page-request groups to raise (0..7) and of how many
 *    requests (1..4); they are reported and read at once, so each has a
 *    cookie;
 *  - then writes until the input ends (64 at most): a length byte
 *    (0..95) and that many bytes.  In each whole 8-byte response, bit 0 of
 *    its first byte puts a cookie of this input's groups in (answered or
 *    not: the second byte picks one), bit 0 of its third byte a valid code
 *    (Success or Invalid, by the fourth byte's bit 0); any other bytes are
 *    written as they are.
 * The model takes the same bytes response by response: a write returns 8
 * times the responses before the first bad one (a code other than Success
 * or Invalid: -EINVAL; a cookie not read or answered already, also earlier
 * in the same write: -ENOENT), or the error when the first is bad (also
 * -EINVAL for a length 0 or not a multiple of 8), and a failed write
 * delivers nothing.  Each accepted response reaches the device at once, with
 * its code, exactly once per group.  At the end of the input what is left is
 * answered Invalid through the same call, every group has been answered
 * exactly once, and the queue is empty (a read gives 0 bytes, poll(2) says
 * not readable).
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/base.h>
#include <softiommu/core.h>
#include <softiommu/iopf.h>

#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RID		SIOMMU_RID(0, 3, 0, 0)
#define N_GRP		7
#define MAX_REQ		4
#define MAX_WRITES	64
#define RESP		sizeof(struct siommu_fault_queue_response)

struct grp {
	unsigned int nreq;
	uint32_t cookie;	/* from the read */
	bool answered;		/* by a write (the model) */
	unsigned int got;	/* responses the device received */
	unsigned int code;	/* the code it received */
};

/* Kept across inputs (renewed with the context, fz_ctx_get()). */
static struct {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_iopf *iopf;
	struct siommu_device *dev;
	struct siommu_pt *pt;
	struct siommu_domain *dom;
	struct siommu_fault_queue *q;
	long objs;		/* context objects the world holds */
} W;

/* This input's groups, by PRG index. */
static struct grp G[N_GRP];
static unsigned int ngrp;

static void resp_fn(void *opaque, struct siommu_device *dev, const struct siommu_page_response *r)
{
	(void)opaque;
	FZ_CHECK(dev == W.dev, "the response's device");
	FZ_CHECK(r->prgi < ngrp, "a response for PRG %u, which this input did not raise", r->prgi);
	FZ_CHECK(!(r->flags & SIOMMU_PRQ_PASID), "no PASID in the response");
	G[r->prgi].got++;
	G[r->prgi].code = r->code;
}

static void world_destroy(void)
{
	if (!W.iommu)
		return;
	snprintf(fz_where, sizeof(fz_where), "world teardown");
	FZ_WANT(FZ(siommu_device_detach, W.dev), 0);
	FZ_WANT(FZ(siommu_iopf_device_disable, W.iopf, W.dev), 0);
	FZ_WANT(FZ(siommu_iopf_domain_clear_handler, W.iopf, W.dom), 0);
	FZ_WANT(FZ(siommu_fault_queue_destroy, W.q), 0);
	FZ_WANT(FZ(siommu_iopf_destroy, W.iopf), 0);
	FZ_WANT(FZ(siommu_domain_destroy, W.dom), 0);
	FZ_WANT(FZ(siommu_pt_destroy, W.pt), 0);
	FZ_WANT(FZ(siommu_device_destroy, W.dev), 0);
	FZ_WANT(FZ(siommu_iommu_destroy, W.iommu), 0);
	fz_ctx_check_empty(0);
	memset(&W, 0, sizeof(W));
}

static void world_get(void)
{
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_INLINE,
					.drain_timeout_ms = SIOMMU_IOPF_DRAIN_NOWAIT };
	struct siommu_pt_cfg pc = { .fmt = SIOMMU_PT_FMT_X86_64, .max_table_pages = 16 };
	struct siommu_domain_cfg dc = { .type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_ctx *ctx = fz_ctx_get(world_destroy);
	long before;

	if (W.iommu && W.ctx == ctx)
		return;
	snprintf(fz_where, sizeof(fz_where), "world setup");
	W.ctx = ctx;
	before = fz_ctx_objects();
	FZ_WANT(FZ(siommu_iommu_create, ctx, NULL, NULL, &W.iommu), 0);
	FZ_WANT(FZ(siommu_iopf_create, W.iommu, &icfg, &W.iopf), 0);
	FZ_WANT(FZ(siommu_device_create, W.iommu, RID, SIOMMU_DEV_PRI, 0, &W.dev), 0);
	FZ_WANT(FZ(siommu_pt_create, ctx, &pc, &W.pt), 0);
	dc.pt = W.pt;
	FZ_WANT(FZ(siommu_domain_create, W.iommu, &dc, &W.dom), 0);
	FZ_WANT(FZ(siommu_fault_queue_create, W.iopf, &W.q), 0);
	FZ_WANT(FZ(siommu_fault_queue_set_domain, W.q, W.dom), 0);
	FZ_WANT(FZ(siommu_iopf_device_enable, W.iopf, W.dev, resp_fn, NULL), 0);
	FZ_WANT(FZ(siommu_device_attach, W.dev, W.dom), 0);
	W.objs = fz_ctx_objects() - before;
}

/* Raise @n groups of @nreq requests and read them all: each gets a cookie. */
static void raise_and_read(unsigned int n, unsigned int nreq)
{
	struct siommu_fault_queue_record rec[N_GRP * MAX_REQ];
	unsigned int i, j;
	ssize_t ret;

	memset(G, 0, sizeof(G));
	ngrp = n;
	for (i = 0; i < n; i++) {
		G[i].nreq = nreq;
		for (j = 0; j < nreq; j++) {
			struct siommu_page_request r = { .addr = 0x40000 + j * 0x1000,
							 .access = SIOMMU_ACC_READ,
							 .prgi = (uint16_t)i };

			if (j == nreq - 1)
				r.flags |= SIOMMU_PRQ_LAST;
			ret = FZ(siommu_iopf_report, W.iopf, W.dev, &r);
			FZ_CHECK(ret == 0 || ret == 1, "report: %zd", ret);
		}
		FZ_CHECK(!G[i].got, "group %u was answered before anybody read it", i);
	}
	ret = FZ64(siommu_fault_queue_read, W.q, rec, sizeof(rec));
	FZ_CHECK(ret == (ssize_t)(n * nreq * sizeof(rec[0])), "read %zd bytes, %u records raised",
		 ret, n * nreq);
	for (i = 0; i < n; i++) {
		const struct siommu_fault_queue_record *r = &rec[i * nreq];

		FZ_CHECK(r->grpid == i && r->dev_id == RID, "record of group %u: grpid %u dev %#x", i,
			 r->grpid, r->dev_id);
		for (j = 1; j < nreq; j++)
			FZ_CHECK(r[j].cookie == r->cookie, "one cookie per group");
		for (j = 0; j < i; j++)
			FZ_CHECK(G[j].cookie != r->cookie, "groups %u and %u share a cookie", j, i);
		G[i].cookie = r->cookie;
	}
}

/* The group read under @cookie this input and not answered, or NULL. */
static struct grp *by_cookie(uint32_t cookie)
{
	unsigned int i;

	for (i = 0; i < ngrp; i++)
		if (G[i].cookie == cookie && !G[i].answered)
			return &G[i];
	return NULL;
}

static void check_delivered(void)
{
	unsigned int i;

	for (i = 0; i < ngrp; i++)
		FZ_CHECK(G[i].got == (G[i].answered ? 1u : 0u),
			 "group %u: %u responses reached the device, the model %u", i, G[i].got,
			 G[i].answered ? 1u : 0u);
}

static void do_write(const uint8_t *src, size_t len)
{
	uint8_t buf[96];
	struct grp *hit[96 / RESP];
	unsigned int good = 0, k;
	int bad = 0;
	size_t i;
	ssize_t ret;

	memcpy(buf, src, len);
	for (i = 0; i + RESP <= len; i += RESP) {
		if ((buf[i] & 1) && ngrp)
			memcpy(&buf[i], &G[buf[i + 1] % ngrp].cookie, 4);
		if (buf[i + 2] & 1) {
			uint32_t code = (buf[i + 3] & 1) ? SIOMMU_PAGE_RESP_INVALID :
							   SIOMMU_PAGE_RESP_SUCCESS;

			memcpy(&buf[i + 4], &code, 4);
		}
	}
	if (!len || len % RESP)
		bad = -EINVAL;
	for (i = 0; !bad && i < len / RESP; i++) {
		struct siommu_fault_queue_response r;
		struct grp *g;

		memcpy(&r, &buf[i * RESP], sizeof(r));
		if (r.code != SIOMMU_PAGE_RESP_SUCCESS && r.code != SIOMMU_PAGE_RESP_INVALID) {
			bad = -EINVAL;
			break;
		}
		g = by_cookie(r.cookie);
		for (k = 0; g && k < good; k++)
			if (hit[k] == g)
				g = NULL;	/* answered earlier in this write */
		if (!g) {
			bad = -ENOENT;
			break;
		}
		g->code = r.code;	/* what the device must get */
		hit[good++] = g;
	}
	{
		unsigned int want[N_GRP];

		for (k = 0; k < ngrp; k++)
			want[k] = G[k].code;
		ret = FZ64(siommu_fault_queue_write, W.q, len ? buf : NULL, len);
		if (!good) {
			FZ_WANT((int)ret, bad);
			check_delivered();
			return;
		}
		FZ_CHECK(ret == (ssize_t)(good * RESP), "wrote %zd bytes, the model %u responses",
			 ret, good);
		for (k = 0; k < good; k++) {
			unsigned int idx = (unsigned int)(hit[k] - G);

			FZ_CHECK(hit[k]->got == 1 && hit[k]->code == want[idx],
				 "group %u: %u responses, code %u, written %u", idx, hit[k]->got,
				 hit[k]->code, want[idx]);
			hit[k]->answered = true;
		}
	}
	check_delivered();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	static bool inited;
	struct pollfd p;
	unsigned int i, writes = 0;
	uint8_t c;
	ssize_t ret;

	if (!inited) {
		fz_contracts_init();
		inited = true;
	}
	if (size > 8192)
		return 0;
	fz_opno = 0;
	world_get();
	c = fz_u8(&in);
	raise_and_read(c % 8, 1 + ((c >> 3) & 3));
	while (in.left && writes++ < MAX_WRITES) {
		size_t len = fz_u8(&in) % 96;

		if (len > in.left)
			len = in.left;
		fz_opno++;
		do_write(in.p, len);
		in.p += len;
		in.left -= len;
	}
	/* What is left is answered Invalid, through the same call. */
	fz_opno++;
	for (i = 0; i < ngrp; i++) {
		struct siommu_fault_queue_response r = { G[i].cookie, SIOMMU_PAGE_RESP_INVALID };

		if (G[i].answered)
			continue;
		ret = FZ64(siommu_fault_queue_write, W.q, &r, sizeof(r));
		FZ_CHECK(ret == (ssize_t)sizeof(r), "the final answer of group %u: %zd", i, ret);
		FZ_CHECK(G[i].got == 1 && G[i].code == SIOMMU_PAGE_RESP_INVALID,
			 "group %u: %u responses, code %u after the final answer", i, G[i].got,
			 G[i].code);
		G[i].answered = true;
	}
	check_delivered();
	{
		struct siommu_fault_queue_record rec;

		FZ_WANT((int)FZ64(siommu_fault_queue_read, W.q, &rec, sizeof(rec)), 0);
	}
	p = (struct pollfd){ .fd = siommu_fault_queue_fd(W.q), .events = POLLIN };
	FZ_CHECK(poll(&p, 1, 0) == 0, "poll says readable with the queue empty");
	fz_ctx_check_empty(W.objs);
	return 0;
}
