// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: the fault queue's consumer side (iommufd's fault fd) fed
 * with arbitrary bytes.  A device with PRI (and PASIDs) attached, without
 * and with PASID 1, to a domain whose group handler is a fault queue; the
 * input raises page-request groups, reads the queue with buffers of any
 * size, writes any bytes as responses (any length, cookies, codes, with
 * known cookies spliced in), polls the descriptor, detaches and reattaches
 * (the drain answers what is left), closes the queue.
 *
 * The model tracks each group (unique PRG index while outstanding) from
 * report to answer, so:
 *  - a read returns whole groups, in order, each record as reported, under
 *    a fresh cookie; poll says readable exactly while a group is unread;
 *  - a write is taken response by response up to the first bad one; a
 *    write with no good response fails with the documented error (-EINVAL
 *    for a length not a multiple of 8 or a bad code, -ENOENT for an unknown
 *    or answered cookie, -EBADF once closed) and changes nothing: no
 *    response reaches the device;
 *  - the device's response function is called exactly once per group, for
 *    a group that is outstanding, with the code the consumer wrote (or
 *    Invalid from a drain or the close);
 *  - at the end (detach, disable) every group has been answered.
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

#define RID	SIOMMU_RID(0, 2, 1, 0)
#define N_GRP	512
#define REC	sizeof(struct siommu_fault_queue_record)

enum grp_state { G_FREE, G_UNREAD, G_READ, G_ANSWERED };

struct grp {
	enum grp_state state;
	bool pasid;			/* raised with PASID 1 */
	bool drained;			/* answered by a drain or the close: a write delivers nothing */
	unsigned int nreq;
	uint32_t cookie;
	uint64_t addr[8];
	unsigned int code;		/* expected code of the answer (when read and written) */
};

static struct {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_iopf *iopf;
	struct siommu_device *dev;
	struct siommu_domain *dom;
	struct siommu_pt *pt;		/* the domain's: small, cheap under ASan */
	struct siommu_fault_queue *q;
	bool resp_pasid;		/* the device has PRG_RESP_PASID */
	bool att[2];			/* no PASID, PASID 1 */
	bool closed;
	struct grp g[N_GRP];		/* by PRG index */
	unsigned int order[N_GRP];	/* unread groups, in report order */
	unsigned int nunread;
	uint16_t next_prgi;
	uint32_t last_cookie;
	unsigned int raised, answered;
	bool expect_code;		/* inside a write: the answer's code is checked */
} F;

static void rec_fn(void *opaque, struct siommu_device *dev, const struct siommu_page_response *r)
{
	struct grp *g;

	(void)opaque;
	FZ_CHECK(dev == F.dev, "the response's device");
	FZ_CHECK(r->prgi < N_GRP, "prgi %u", r->prgi);
	g = &F.g[r->prgi];
	if (g->state == G_FREE || g->state == G_ANSWERED)
		fz_die("a response for PRG %u, which has no outstanding group (state %d): "
		       "answered twice or never raised", r->prgi, (int)g->state);
	if (F.resp_pasid && g->pasid)
		FZ_CHECK((r->flags & SIOMMU_PRQ_PASID) && r->pasid == 1, "the response's PASID");
	else
		FZ_CHECK(!(r->flags & SIOMMU_PRQ_PASID), "no PASID in the response");
	if (g->state == G_READ && !g->drained && F.expect_code)
		FZ_CHECK(r->code == g->code, "code %u, written %u", r->code, g->code);
	g->state = G_ANSWERED;
	F.answered++;
}

static void unread_del(unsigned int prgi)
{
	unsigned int i;

	for (i = 0; i < F.nunread; i++)
		if (F.order[i] == prgi) {
			memmove(&F.order[i], &F.order[i + 1], (F.nunread - i - 1) * sizeof(F.order[0]));
			F.nunread--;
			return;
		}
}

static void check_poll(void)
{
	struct pollfd p = { .fd = siommu_fault_queue_fd(F.q), .events = POLLIN };
	int n = poll(&p, 1, 0);
	bool readable = n == 1 && (p.revents & POLLIN);

	if (readable != (F.nunread > 0 && !F.closed))
		fz_die("poll says %sreadable with %u unread groups", readable ? "" : "not ", F.nunread);
}

/* Raise a group of 1..8 requests on no PASID or PASID 1. */
static void op_raise(struct fz_in *in)
{
	uint8_t c = fz_u8(in);
	unsigned int n = c % 8 + 1, i;
	bool pasid = c & 0x80;
	uint16_t prgi = F.next_prgi;
	struct grp *g = &F.g[prgi];
	unsigned int before = F.answered;
	int ret;

	if ((g->state != G_FREE && g->state != G_ANSWERED) || g->drained) {
		/* outstanding, or its cookie still known to the queue: the next one */
		F.next_prgi = (uint16_t)((F.next_prgi + 1) % N_GRP);
		return;
	}
	memset(g, 0, sizeof(*g));
	g->pasid = pasid;
	g->nreq = n;
	F.next_prgi = (uint16_t)((F.next_prgi + 1) % N_GRP);
	for (i = 0; i < n; i++) {
		struct siommu_page_request r = { .addr = 0x10000 + i * 0x1000 + (c & 0x30),
						 .access = SIOMMU_ACC_READ, .prgi = prgi };

		if (pasid) {
			r.flags |= SIOMMU_PRQ_PASID;
			r.pasid = 1;
		}
		if (i == n - 1) {
			r.flags |= SIOMMU_PRQ_LAST;
			g->state = G_UNREAD;	/* before the report: an inline answer finds it */
			F.raised++;
		}
		g->addr[i] = r.addr;
		ret = FZ(siommu_iopf_report, F.iopf, F.dev, &r);
		FZ_CHECK(ret == 0 || ret == 1, "report: %d", ret);
	}
	if (!F.att[pasid] || F.closed) {
		/* no domain, or nobody reads: answered Invalid at once */
		FZ_CHECK(F.answered == before + 1 && g->state == G_ANSWERED,
			 "a group without a consumer is answered at once");
		return;
	}
	FZ_CHECK(g->state == G_UNREAD, "the group waits in the queue");
	F.order[F.nunread++] = prgi;
}

static void op_read(struct fz_in *in)
{
	static struct siommu_fault_queue_record rec[600];
	size_t len = fz_u16(in) % (sizeof(rec) + 64);
	unsigned int k = 0, fit = 0, i, room;
	ssize_t ret;

	if (len > sizeof(rec))
		len = sizeof(rec);
	if (!len && (fz_u8(in) & 1))
		ret = FZ64(siommu_fault_queue_read, F.q, NULL, 0);
	else
		ret = FZ64(siommu_fault_queue_read, F.q, rec, len);
	if (F.closed) {
		FZ_WANT((int)ret, -EBADF);
		return;
	}
	/* The model: whole groups in order while they fit. */
	room = (unsigned int)(len / REC);
	while (k < F.nunread && F.g[F.order[k]].nreq <= room - fit) {
		fit += F.g[F.order[k]].nreq;
		k++;
	}
	FZ_CHECK(ret == (ssize_t)(fit * REC), "read %zd bytes of %zu, the model %u records",
		 ret, len, fit);
	fit = 0;
	for (i = 0; i < k; i++) {
		struct grp *g = &F.g[F.order[i]];
		unsigned int j;

		for (j = 0; j < g->nreq; j++) {
			struct siommu_fault_queue_record *r = &rec[fit + j];

			FZ_CHECK(r->grpid == F.order[i] && r->dev_id == RID &&
				 (r->addr & ~0xfffull) == (g->addr[j] & ~0xfffull) &&
				 r->reserved == 0 && r->perm == SIOMMU_ACC_READ,
				 "record %u of group %u: grpid %u dev %#x addr %#llx (reported %#llx) "
				 "perm %u", j, F.order[i], r->grpid, r->dev_id,
				 (unsigned long long)r->addr, (unsigned long long)g->addr[j], r->perm);
			FZ_CHECK(!!(r->flags & SIOMMU_FQ_PASID_VALID) == g->pasid &&
				 (!g->pasid || r->pasid == 1), "the record's PASID");
			FZ_CHECK(!!(r->flags & SIOMMU_FQ_LAST_PAGE) == (j == g->nreq - 1),
				 "LAST_PAGE on the last record only");
			FZ_CHECK(r->cookie == rec[fit].cookie, "one cookie per group");
		}
		FZ_CHECK(rec[fit].cookie > F.last_cookie, "a fresh cookie");
		F.last_cookie = rec[fit].cookie;
		g->cookie = rec[fit].cookie;
		g->state = G_READ;
		fit += g->nreq;
	}
	memmove(F.order, F.order + k, (F.nunread - k) * sizeof(F.order[0]));
	F.nunread -= k;
}

/* The group read under @cookie and not answered by the consumer yet, or NULL. */
static struct grp *by_cookie(uint32_t cookie)
{
	unsigned int i;

	for (i = 0; i < N_GRP; i++)
		if (F.g[i].cookie == cookie && cookie &&
		    (F.g[i].state == G_READ || (F.g[i].state == G_ANSWERED && F.g[i].drained)))
			return &F.g[i];
	return NULL;
}

static void op_write(struct fz_in *in)
{
	uint8_t buf[80];
	size_t len = fz_u8(in) % sizeof(buf), i, good = 0;
	unsigned int before = F.answered, delivered = 0;
	struct grp *hit[10];
	int bad = 0;
	ssize_t ret;

	for (i = 0; i < len; i++)
		buf[i] = fz_u8(in);
	/* Splice known cookies in: bit 0 of each response's first byte asks for one. */
	for (i = 0; i + 8 <= len; i += 8)
		if (buf[i] & 1) {
			unsigned int k, n = 0;

			for (k = 0; k < N_GRP; k++)
				if (F.g[k].cookie && (F.g[k].state == G_READ || F.g[k].drained)) {
					if (n++ == buf[i + 1] % 8) {
						memcpy(&buf[i], &F.g[k].cookie, 4);
						break;
					}
				}
			if (buf[i + 2] & 1) {
				uint32_t code = (buf[i + 3] & 1) ? SIOMMU_PAGE_RESP_INVALID :
								  SIOMMU_PAGE_RESP_SUCCESS;

				memcpy(&buf[i + 4], &code, 4);
			}
		}
	/* The model's answer, response by response. */
	if (!len || len % 8)
		bad = -EINVAL;
	for (i = 0; !bad && i < len / 8; i++) {
		uint32_t cookie, code;
		struct grp *g;
		unsigned int k;

		memcpy(&cookie, &buf[i * 8], 4);
		memcpy(&code, &buf[i * 8 + 4], 4);
		if (code != SIOMMU_PAGE_RESP_SUCCESS && code != SIOMMU_PAGE_RESP_INVALID) {
			bad = -EINVAL;
			break;
		}
		g = by_cookie(cookie);
		for (k = 0; g && k < good; k++)
			if (hit[k] == g)
				g = NULL;	/* answered earlier in this write */
		if (!g) {
			bad = -ENOENT;
			break;
		}
		g->code = code;
		hit[good++] = g;
	}
	F.expect_code = true;
	ret = FZ64(siommu_fault_queue_write, F.q, len ? buf : NULL, len);
	F.expect_code = false;
	if (F.closed) {
		uint32_t code0 = 0;

		if (len >= 8)
			memcpy(&code0, &buf[4], 4);
		if (!len || len % 8)
			FZ_WANT((int)ret, -EINVAL);
		else if (code0 != SIOMMU_PAGE_RESP_SUCCESS && code0 != SIOMMU_PAGE_RESP_INVALID)
			FZ_CHECK(ret == -EINVAL || ret == -EBADF, "a bad code to a closed queue");
		else
			FZ_WANT((int)ret, -EBADF);
		FZ_CHECK(F.answered == before, "a write to a closed queue answered something");
		return;
	}
	if (good) {
		FZ_CHECK(ret == (ssize_t)(good * 8), "wrote %zd, the model %zu responses", ret, good);
	} else {
		FZ_WANT((int)ret, bad);
		FZ_CHECK(F.answered == before, "a failed write changed nothing");
		return;
	}
	for (i = 0; i < good; i++) {
		if (!hit[i]->drained) {
			FZ_CHECK(hit[i]->state == G_ANSWERED, "a written response reached the device");
			delivered++;
		}
		hit[i]->cookie = 0;	/* a cookie answers once */
		hit[i]->drained = false;
		hit[i]->state = G_ANSWERED;
	}
	FZ_CHECK(F.answered == before + delivered, "%u responses delivered for %u written",
		 F.answered - before, delivered);
}

/* Detach (the drain answers every group of that PASID) or attach again. */
static void op_toggle(struct fz_in *in)
{
	bool pasid = fz_u8(in) & 1;
	unsigned int i, before = F.answered, want = 0;
	int ret;

	if (F.att[pasid]) {
		for (i = 0; i < N_GRP; i++)
			if (F.g[i].pasid == pasid && (F.g[i].state == G_UNREAD || F.g[i].state == G_READ))
				want++;
		ret = pasid ? FZ(siommu_pasid_detach, F.dev, 1) : FZ(siommu_device_detach, F.dev);
		FZ_WANT(ret, 0);
		F.att[pasid] = false;
		FZ_CHECK(F.answered == before + want, "the detach answered %u of %u groups",
			 F.answered - before, want);
		for (i = 0; i < N_GRP; i++)
			if (F.g[i].pasid == pasid && F.g[i].state == G_ANSWERED) {
				if (F.g[i].cookie)
					F.g[i].drained = true;	/* its cookie is still known */
				unread_del(i);
			}
	} else {
		ret = pasid ? FZ(siommu_pasid_attach, F.dev, 1, F.dom) :
			      FZ(siommu_device_attach, F.dev, F.dom);
		FZ_WANT(ret, 0);
		F.att[pasid] = true;
	}
}

static void op_close(struct fz_in *in)
{
	unsigned int i, want = 0;
	int ret;

	(void)in;
	for (i = 0; i < N_GRP; i++)
		if (F.g[i].state == G_UNREAD || F.g[i].state == G_READ)
			want++;
	ret = FZ(siommu_fault_queue_close, F.q);
	FZ_CHECK(F.closed ? ret == 0 : ret == (int)want, "close answered %d, the model %u", ret,
		 want);
	F.closed = true;
	F.nunread = 0;
	for (i = 0; i < N_GRP; i++)
		F.g[i].cookie = 0;
}

/* Kept across inputs, empty between them (see fz_ctx_get()). */
static struct siommu_iommu *kept_iommu;
static long kept_objs;			/* context objects it holds */

static void kept_destroy(void)
{
	if (kept_iommu && siommu_iommu_destroy(kept_iommu))
		fz_die("the destroy of the kept, empty IOMMU failed");
	kept_iommu = NULL;
}

static void setup(uint8_t flags)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_INLINE,
					.drain_timeout_ms = SIOMMU_IOPF_DRAIN_NOWAIT };
	unsigned int dflags = SIOMMU_DEV_PRI | SIOMMU_DEV_PASID;

	memset(&F, 0, sizeof(F));
	F.resp_pasid = flags & 1;
	if (F.resp_pasid)
		dflags |= SIOMMU_DEV_PRG_RESP_PASID;
	snprintf(fz_where, sizeof(fz_where), "setup");
	F.ctx = fz_ctx_get(kept_destroy);
	if (!kept_iommu) {
		long before = fz_ctx_objects();

		FZ_WANT(FZ(siommu_iommu_create, F.ctx, &caps, NULL, &kept_iommu), 0);
		kept_objs = fz_ctx_objects() - before;
	}
	F.iommu = kept_iommu;
	FZ_WANT(FZ(siommu_iopf_create, F.iommu, &icfg, &F.iopf), 0);
	FZ_WANT(FZ(siommu_device_create, F.iommu, RID, dflags, 8, &F.dev), 0);
	{
		struct siommu_pt_cfg pc = { .fmt = SIOMMU_PT_FMT_X86_64, .max_table_pages = 16 };

		FZ_WANT(FZ(siommu_pt_create, F.ctx, &pc, &F.pt), 0);
		cfg.pt = F.pt;
	}
	FZ_WANT(FZ(siommu_domain_create, F.iommu, &cfg, &F.dom), 0);
	FZ_WANT(FZ(siommu_fault_queue_create, F.iopf, &F.q), 0);
	FZ_WANT(FZ(siommu_fault_queue_set_domain, F.q, F.dom), 0);
	FZ_WANT(FZ(siommu_iopf_device_enable, F.iopf, F.dev, rec_fn, NULL), 0);
	FZ_WANT(FZ(siommu_device_attach, F.dev, F.dom), 0);
	FZ_WANT(FZ(siommu_pasid_attach, F.dev, 1, F.dom), 0);
	F.att[0] = F.att[1] = true;
}

static void teardown(void)
{
	snprintf(fz_where, sizeof(fz_where), "teardown");
	if (F.att[1])
		FZ_WANT(FZ(siommu_pasid_detach, F.dev, 1), 0);
	if (F.att[0])
		FZ_WANT(FZ(siommu_device_detach, F.dev), 0);
	FZ_WANT(FZ(siommu_iopf_device_disable, F.iopf, F.dev), 0);
	if (F.answered != F.raised)
		fz_die("%u groups raised, %u answered: every group must be answered exactly once",
		       F.raised, F.answered);
	FZ_WANT(FZ(siommu_fault_queue_destroy, F.q), -EBUSY);
	FZ_WANT(FZ(siommu_iopf_domain_clear_handler, F.iopf, F.dom), 0);
	FZ_WANT(FZ(siommu_fault_queue_destroy, F.q), 0);
	FZ_WANT(FZ(siommu_iopf_destroy, F.iopf), 0);
	FZ_WANT(FZ(siommu_domain_destroy, F.dom), 0);
	FZ_WANT(FZ(siommu_pt_destroy, F.pt), 0);
	FZ_WANT(FZ(siommu_device_destroy, F.dev), 0);
	fz_ctx_check_empty(kept_objs);	/* the kept IOMMU */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	static bool inited;

	if (!inited) {
		fz_contracts_init();
		inited = true;
	}
	if (size > 8192)
		return 0;
	fz_opno = 0;
	setup(fz_u8(&in));
	while (in.left && fz_opno < 512) {
		uint8_t op = fz_u8(&in);

		fz_opno++;
		switch (op % 8) {
		case 0: case 1: op_raise(&in); break;
		case 2: case 3: op_read(&in); break;
		case 4: case 5: op_write(&in); break;
		case 6: op_toggle(&in); break;
		case 7:
			if (op & 0x80)
				op_close(&in);
			else
				op_toggle(&in);
			break;
		}
		check_poll();
	}
	fz_opno++;
	teardown();
	return 0;
}
