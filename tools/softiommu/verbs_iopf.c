// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `run` verbs of the iopf module: the iopf layer of an IOMMU, devices'
 * page requests and the responses they receive, group handlers of domains
 * (the CLI's own, and the library's resolver from an IOAS), drains, the PRQ's overflow, and the fault queue (read records, write
 * responses by cookie, poll, close).
 *
 * An iopf object (iopf-create) owns what is made through it: the devices
 * it enabled (each with a log of the PRG responses it received, printed by
 * iopf-responses), the handlers it set on domains, and its fault queues.
 * At the end of the run it detaches its devices from its handlers'
 * domains, clears the handlers, disables the devices and destroys the
 * queues, then itself: create it after the IOMMU's devices and domains so
 * that it goes before them.  Output is deterministic in the inline and
 * manual modes (workers answer in their own order).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/iopf.h>

#include "run.h"
#include "verbs.h"

#define IOPF_TYPE	"iopf"
#define FQ_TYPE		"fq"
#define ACCESS_LETTERS	"rwxp"
#define RESP_MAX	256u
#define HOLD_MAX	64u

struct cli_iopf;

/* A device enabled through an iopf object, with the responses it got. */
struct cli_idev {
	struct cli_idev *next;
	struct siommu_device *dev;
	bool disabled;			/* iopf-disable ran: kept to show -ENODEV */
	pthread_mutex_t lock;		/* the response function runs in any thread */
	struct siommu_page_response resp[RESP_MAX];
	unsigned int nresp;
	uint64_t lost;			/* responses beyond RESP_MAX not printed */
};

/* A group handler set on a domain through an iopf object. */
struct cli_ihandler {
	struct cli_ihandler *next;
	struct cli_iopf *ci;
	struct siommu_domain *dom;
	int code;			/* sync: the response; SIOMMU_IOPF_ASYNC: hold */
	bool resolver;			/* iopf-resolver: the library's handler */
	pthread_mutex_t lock;
	struct siommu_iopf_group *held[HOLD_MAX];	/* hold: oldest first */
	unsigned int nheld;
	uint64_t groups;
};

struct cli_fq {
	struct cli_fq *next;
	struct cli_iopf *ci;
	struct siommu_fault_queue *q;
};

struct cli_iopf {
	struct siommu_iopf *iopf;
	struct run_ctx *rc;
	struct cli_idev *devs;
	struct cli_ihandler *handlers;
	struct cli_fq *fqs;
};

static const char *const mode_names[] = { "inline", "workers", "manual", NULL };
static const char *const code_names[] = { "success", "invalid", "failure", NULL };
static const int code_values[] = { SIOMMU_PAGE_RESP_SUCCESS, SIOMMU_PAGE_RESP_INVALID,
				   SIOMMU_PAGE_RESP_FAILURE };

static const char *code_name(int code)
{
	return code == SIOMMU_PAGE_RESP_SUCCESS ? "success" :
	       code == SIOMMU_PAGE_RESP_INVALID ? "invalid" :
	       code == SIOMMU_PAGE_RESP_FAILURE ? "failure" : "?";
}

static void on_response(void *opaque, struct siommu_device *dev,
			const struct siommu_page_response *r)
{
	struct cli_idev *d = opaque;

	(void)dev;
	pthread_mutex_lock(&d->lock);
	if (d->nresp < RESP_MAX)
		d->resp[d->nresp++] = *r;
	else
		d->lost++;
	pthread_mutex_unlock(&d->lock);
}

static int handler_handle(void *opaque, struct siommu_iopf_group *g)
{
	struct cli_ihandler *h = opaque;
	int ret = h->code;

	pthread_mutex_lock(&h->lock);
	h->groups++;
	if (h->code == SIOMMU_IOPF_ASYNC) {
		if (h->nheld < HOLD_MAX)
			h->held[h->nheld++] = g;
		else
			ret = SIOMMU_PAGE_RESP_INVALID;	/* nowhere to keep it */
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static const struct siommu_iopf_handler cli_handler_ops = {
	.name = "cli",
	.flags = SIOMMU_IOPF_HANDLER_ATOMIC,
	.handle = handler_handle,
};

/* ------------------------------------------------------------------ teardown */

static void handler_release_held(struct cli_ihandler *h)
{
	unsigned int i;

	for (i = 0; i < h->nheld; i++)
		siommu_iopf_group_respond(h->held[i], SIOMMU_PAGE_RESP_INVALID);
	h->nheld = 0;
}

static void detach_from(struct cli_iopf *ci, struct siommu_domain *dom)
{
	struct siommu_attachment at[64];
	struct cli_idev *d;
	int i, n;

	for (d = ci->devs; d; d = d->next) {
		n = siommu_device_get_attachments(d->dev, at, 64);
		for (i = n < 64 ? n - 1 : 63; i >= 0; i--) {
			if (at[i].dom != dom)
				continue;
			if (at[i].pasid == SIOMMU_NO_PASID)
				siommu_device_detach(d->dev);
			else
				siommu_pasid_detach(d->dev, at[i].pasid);
		}
	}
}

static void iopf_obj_destroy(void *obj)
{
	struct cli_iopf *ci = obj;

	while (ci->handlers) {
		struct cli_ihandler *h = ci->handlers;

		ci->handlers = h->next;
		if (siommu_iopf_domain_clear_handler(ci->iopf, h->dom) == -EBUSY) {
			detach_from(ci, h->dom);
			if (siommu_iopf_domain_clear_handler(ci->iopf, h->dom))
				run_print(ci->rc, "iopf: a domain's handler left (still attached)");
		}
		handler_release_held(h);
		pthread_mutex_destroy(&h->lock);
		free(h);
	}
	while (ci->devs) {
		struct cli_idev *d = ci->devs;

		ci->devs = d->next;
		if (!d->disabled)
			siommu_iopf_device_disable(ci->iopf, d->dev);
		pthread_mutex_destroy(&d->lock);
		free(d);
	}
	while (ci->fqs) {
		struct cli_fq *f = ci->fqs;

		ci->fqs = f->next;
		if (siommu_fault_queue_destroy(f->q))
			run_print(ci->rc, "iopf: a fault queue left busy");
		free(f);
	}
	if (siommu_iopf_destroy(ci->iopf))
		run_print(ci->rc, "iopf: left busy at the end of the run");
	free(ci);
}

static void fq_obj_destroy(void *obj)
{
	(void)obj;	/* its iopf object destroys it */
}

/* ------------------------------------------------------------------ lookups */

static struct cli_idev *idev_arg(struct run_ctx *rc, struct run_cmd *cmd, struct cli_iopf *ci)
{
	void *o = run_obj_arg(rc, cmd, "dev", RUN_DEV_TYPE);
	struct cli_idev *d;

	if (!o)
		return NULL;
	for (d = ci->devs; d; d = d->next)
		if (d->dev == run_device_of(o))
			return d;
	run_error(rc, cmd, "device not enabled on this iopf (iopf-enable)");
	return NULL;
}

static struct cli_ihandler *handler_of(struct cli_iopf *ci, struct siommu_domain *dom)
{
	struct cli_ihandler *h;

	for (h = ci->handlers; h; h = h->next)
		if (h->dom == dom)
			return h;
	return NULL;
}

static int arg_pasid(struct run_ctx *rc, struct run_cmd *cmd, uint32_t *pasid, bool *has)
{
	uint64_t v;

	*has = run_arg_has(cmd, "pasid");
	if (run_arg_u64_opt(rc, cmd, "pasid", &v, 0))
		return RUN_EUSAGE;
	if (v > UINT32_MAX)
		return run_error(rc, cmd, "pasid out of range");
	*pasid = (uint32_t)v;
	return 0;
}

/* ------------------------------------------------------------------ verbs */

static int verb_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	void *io = run_obj_arg(rc, cmd, "iommu", RUN_IOMMU_TYPE);
	struct siommu_iopf_cfg cfg = { 0 };
	struct cli_iopf *ci;
	const char *name, *timeout;
	uint64_t workers, ms;
	int mode, ret;

	if (!io || run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_enum_opt(rc, cmd, "mode", mode_names, &mode, SIOMMU_IOPF_MODE_INLINE) ||
	    run_arg_u64_opt(rc, cmd, "workers", &workers, 0) ||
	    run_arg_str_opt(rc, cmd, "drain-timeout", &timeout, "0"))
		return RUN_EUSAGE;
	if (!strcmp(timeout, "nowait")) {
		cfg.drain_timeout_ms = SIOMMU_IOPF_DRAIN_NOWAIT;
	} else {
		if (run_parse_u64(timeout, &ms) || ms > UINT32_MAX - 1)
			return run_error(rc, cmd, "drain-timeout: milliseconds or nowait");
		cfg.drain_timeout_ms = (uint32_t)ms;
	}
	if (workers > 1024)
		return run_error(rc, cmd, "workers out of range");
	cfg.mode = mode;
	cfg.workers = (unsigned int)workers;
	ci = calloc(1, sizeof(*ci));
	if (!ci)
		return -ENOMEM;
	ci->rc = rc;
	ret = siommu_iopf_create(run_iommu_of(io), &cfg, &ci->iopf);
	if (ret) {
		free(ci);
		return ret;
	}
	return run_obj_add(rc, cmd, IOPF_TYPE, name, ci, iopf_obj_destroy);
}

static int verb_enable(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	void *o = run_obj_arg(rc, cmd, "dev", RUN_DEV_TYPE);
	struct cli_idev *d;
	int ret;

	if (!ci || !o)
		return RUN_EUSAGE;
	for (d = ci->devs; d; d = d->next) {
		if (d->dev != run_device_of(o) || !d->disabled)
			continue;
		ret = siommu_iopf_device_enable(ci->iopf, d->dev, on_response, d);
		if (!ret)
			d->disabled = false;
		return ret;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dev = run_device_of(o);
	pthread_mutex_init(&d->lock, NULL);
	ret = siommu_iopf_device_enable(ci->iopf, d->dev, on_response, d);
	if (ret) {
		pthread_mutex_destroy(&d->lock);
		free(d);
		return ret;
	}
	d->next = ci->devs;
	ci->devs = d;
	return 0;
}

static int verb_disable(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	struct cli_idev *d;
	int ret;

	if (!ci)
		return RUN_EUSAGE;
	d = idev_arg(rc, cmd, ci);
	if (!d)
		return RUN_EUSAGE;
	ret = siommu_iopf_device_disable(ci->iopf, d->dev);
	if (ret)
		return ret;
	d->disabled = true;
	run_result(rc, "responses", "%u", d->nresp);
	return 0;
}

static int verb_handler(struct run_ctx *rc, struct run_cmd *cmd)
{
	static const char *const hnames[] = { "success", "invalid", "failure", "hold", "fq",
					      NULL };
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	void *dobj = run_obj_arg(rc, cmd, "domain", RUN_DOMAIN_TYPE);
	struct cli_ihandler *h;
	struct cli_fq *f = NULL;
	int mode, ret;

	if (!ci || !dobj ||
	    run_arg_enum(rc, cmd, "mode", hnames, &mode))
		return RUN_EUSAGE;
	if (mode == 4) {
		f = run_obj_arg(rc, cmd, "fq", FQ_TYPE);
		if (!f)
			return RUN_EUSAGE;
		if (f->ci != ci)
			return run_error(rc, cmd, "fq of another iopf");
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ci = ci;
	h->dom = run_domain_of(dobj);
	h->code = mode < 3 ? code_values[mode] : SIOMMU_IOPF_ASYNC;
	pthread_mutex_init(&h->lock, NULL);
	ret = f ? siommu_fault_queue_set_domain(f->q, h->dom) :
		  siommu_iopf_domain_set_handler(ci->iopf, h->dom, &cli_handler_ops, h);
	if (ret) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		return ret;
	}
	h->next = ci->handlers;
	ci->handlers = h;
	return 0;
}

static int verb_resolver(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	void *dobj = run_obj_arg(rc, cmd, "domain", RUN_DOMAIN_TYPE);
	void *iobj = run_obj_arg(rc, cmd, "ioas", RUN_IOAS_TYPE);
	struct cli_ihandler *h;
	int ret;

	if (!ci || !dobj || !iobj)
		return RUN_EUSAGE;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ci = ci;
	h->dom = run_domain_of(dobj);
	h->resolver = true;
	pthread_mutex_init(&h->lock, NULL);
	ret = siommu_iopf_domain_set_resolver(ci->iopf, h->dom, run_ioas_of(iobj));
	if (ret) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		return ret;
	}
	h->next = ci->handlers;
	ci->handlers = h;
	return 0;
}

static int verb_handler_clear(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	void *dobj = run_obj_arg(rc, cmd, "domain", RUN_DOMAIN_TYPE);
	struct cli_ihandler *h, **pp;
	int ret;

	if (!ci || !dobj)
		return RUN_EUSAGE;
	ret = siommu_iopf_domain_clear_handler(ci->iopf, run_domain_of(dobj));
	if (ret)
		return ret;
	h = handler_of(ci, run_domain_of(dobj));
	if (!h)
		return 0;
	if (!h->resolver)
		run_result(rc, "groups", "%" PRIu64, h->groups);
	for (pp = &ci->handlers; *pp != h; pp = &(*pp)->next)
		;
	*pp = h->next;
	handler_release_held(h);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return 0;
}

static int verb_report(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	struct siommu_page_request r = { 0 };
	struct cli_idev *d;
	uint64_t addr, prgi, count;
	bool has, last, stop;
	unsigned int access, i;
	uint32_t pasid;
	int ret = 0, queued = 0;

	if (!ci)
		return RUN_EUSAGE;
	d = idev_arg(rc, cmd, ci);
	if (!d || arg_pasid(rc, cmd, &pasid, &has) ||
	    run_arg_u64_opt(rc, cmd, "addr", &addr, 0) ||
	    run_arg_u64(rc, cmd, "prgi", &prgi) ||
	    run_arg_bool_opt(rc, cmd, "last", &last, true) ||
	    run_arg_bool_opt(rc, cmd, "stop", &stop, false) ||
	    run_arg_u64_opt(rc, cmd, "count", &count, 1) ||
	    run_arg_letters(rc, cmd, "access", ACCESS_LETTERS, stop ? "" : "r", &access))
		return RUN_EUSAGE;
	if (prgi > UINT16_MAX || count == 0 || count > 4096)
		return run_error(rc, cmd, "prgi or count out of range");
	/* count=N: N requests of one group at addr, addr + 4K, ...; the last has L */
	for (i = 0; i < count && ret >= 0; i++) {
		r.addr = addr + (uint64_t)i * 4096;
		r.access = access;
		r.prgi = (uint16_t)prgi;
		r.pasid = pasid;
		r.flags = (has ? SIOMMU_PRQ_PASID : 0) |
			  ((stop || (last && i == count - 1)) ? SIOMMU_PRQ_LAST : 0);
		ret = siommu_iopf_report(ci->iopf, d->dev, &r);
		queued += ret == 0;
	}
	if (ret < 0)
		return ret;
	run_result(rc, "queued", "%d", queued);
	return 0;
}

static int verb_process(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	uint64_t max;
	int ret;

	if (!ci || run_arg_u64_opt(rc, cmd, "max", &max, 0))
		return RUN_EUSAGE;
	if (max > UINT32_MAX)
		return run_error(rc, cmd, "max out of range");
	ret = siommu_iopf_process(ci->iopf, (unsigned int)max);
	if (ret < 0)
		return ret;
	run_result(rc, "processed", "%d", ret);
	return 0;
}

static int verb_respond(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	struct siommu_page_response r = { 0 };
	struct cli_idev *d;
	uint64_t prgi;
	bool has;
	int code;

	if (!ci)
		return RUN_EUSAGE;
	d = idev_arg(rc, cmd, ci);
	if (!d || arg_pasid(rc, cmd, &r.pasid, &has) ||
	    run_arg_u64(rc, cmd, "prgi", &prgi) ||
	    run_arg_enum_opt(rc, cmd, "code", code_names, &code, 0))
		return RUN_EUSAGE;
	if (prgi > UINT16_MAX)
		return run_error(rc, cmd, "prgi out of range");
	r.prgi = (uint16_t)prgi;
	r.flags = has ? SIOMMU_PRQ_PASID : 0;
	r.code = code_values[code];
	return siommu_iopf_respond(ci->iopf, d->dev, &r);
}

static int verb_answer(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	void *dobj = run_obj_arg(rc, cmd, "domain", RUN_DOMAIN_TYPE);
	struct siommu_iopf_group *g = NULL;
	struct cli_ihandler *h;
	int code, ret;
	unsigned int i;

	if (!ci || !dobj || run_arg_enum_opt(rc, cmd, "code", code_names, &code, 0))
		return RUN_EUSAGE;
	h = handler_of(ci, run_domain_of(dobj));
	if (!h || h->code != SIOMMU_IOPF_ASYNC)
		return run_error(rc, cmd, "the domain has no hold handler of this iopf");
	pthread_mutex_lock(&h->lock);
	if (h->nheld) {
		g = h->held[0];
		for (i = 1; i < h->nheld; i++)
			h->held[i - 1] = h->held[i];
		h->nheld--;
	}
	pthread_mutex_unlock(&h->lock);
	if (!g)
		return -ENOENT;
	ret = siommu_iopf_group_respond(g, code_values[code]);
	run_result(rc, "delivered", "%s", ret ? "no" : "yes");
	return ret == -ECANCELED ? 0 : ret;
}

static int verb_drain(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	struct cli_idev *d;
	uint32_t pasid;
	bool has;
	int ret;

	if (!ci)
		return RUN_EUSAGE;
	d = idev_arg(rc, cmd, ci);
	if (!d || arg_pasid(rc, cmd, &pasid, &has))
		return RUN_EUSAGE;
	ret = siommu_iopf_drain(ci->iopf, d->dev, pasid);
	if (ret < 0)
		return ret;
	run_result(rc, "answered", "%d", ret);
	return 0;
}

static int verb_clear_overflow(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	int ret;

	if (!ci)
		return RUN_EUSAGE;
	ret = siommu_iopf_clear_overflow(ci->iopf);
	if (ret < 0)
		return ret;
	run_result(rc, "was", "%s", ret ? "yes" : "no");
	return 0;
}

static int verb_responses(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	struct cli_idev *d;
	unsigned int i, n;

	if (!ci)
		return RUN_EUSAGE;
	d = idev_arg(rc, cmd, ci);
	if (!d)
		return RUN_EUSAGE;
	pthread_mutex_lock(&d->lock);
	n = d->nresp;
	for (i = 0; i < n; i++) {
		const struct siommu_page_response *r = &d->resp[i];

		if (r->flags & SIOMMU_PRQ_PASID)
			run_print(rc, "  response prgi=%u pasid=%u code=%s", r->prgi, r->pasid,
				  code_name(r->code));
		else
			run_print(rc, "  response prgi=%u code=%s", r->prgi, code_name(r->code));
	}
	d->nresp = 0;
	pthread_mutex_unlock(&d->lock);
	run_result(rc, "count", "%u", n);
	return 0;
}

static int verb_stats(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	struct siommu_iopf_stats s;
	int ret;

	if (!ci)
		return RUN_EUSAGE;
	ret = siommu_iopf_get_stats(ci->iopf, &s);
	if (ret)
		return ret;
	run_result(rc, "requests", "%" PRIu64, s.requests);
	run_result(rc, "groups", "%" PRIu64, s.groups);
	run_result(rc, "stop", "%" PRIu64, s.stop_markers);
	run_result(rc, "full", "%" PRIu64, s.prq_full);
	run_result(rc, "overflows", "%" PRIu64, s.overflows);
	run_result(rc, "auto-success", "%" PRIu64, s.auto_success);
	run_result(rc, "discarded", "%" PRIu64, s.partial_discarded);
	run_result(rc, "unhandled", "%" PRIu64, s.groups_unhandled);
	run_result(rc, "failures", "%" PRIu64, s.handler_failures);
	run_result(rc, "success", "%" PRIu64, s.resp_success);
	run_result(rc, "invalid", "%" PRIu64, s.resp_invalid);
	run_result(rc, "failure", "%" PRIu64, s.resp_failure);
	run_result(rc, "dropped", "%" PRIu64, s.resp_dropped);
	run_result(rc, "drains", "%" PRIu64, s.drains);
	run_result(rc, "drained", "%" PRIu64, s.drained_groups);
	run_result(rc, "timeouts", "%" PRIu64, s.drain_timeouts);
	run_result(rc, "depth", "%u", s.prq_depth);
	run_result(rc, "capacity", "%u", s.prq_capacity);
	run_result(rc, "overflow", "%s", s.overflow ? "yes" : "no");
	return 0;
}

static int verb_fq_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iopf *ci = run_obj_arg(rc, cmd, "iopf", IOPF_TYPE);
	const char *name;
	struct cli_fq *f;
	int ret;

	if (!ci || run_arg_str(rc, cmd, "name", &name))
		return RUN_EUSAGE;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->ci = ci;
	ret = siommu_fault_queue_create(ci->iopf, &f->q);
	if (ret) {
		free(f);
		return ret;
	}
	f->next = ci->fqs;
	ci->fqs = f;
	return run_obj_add(rc, cmd, FQ_TYPE, name, f, fq_obj_destroy);
}

static int verb_fq_read(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_fq *f = run_obj_arg(rc, cmd, "fq", FQ_TYPE);
	struct siommu_fault_queue_record rec[64];
	unsigned int letters;
	uint64_t max;
	ssize_t n;
	size_t i;

	if (!f || run_arg_u64_opt(rc, cmd, "max", &max, 64))
		return RUN_EUSAGE;
	if (max > 64)
		return run_error(rc, cmd, "max: at most 64 records");
	n = siommu_fault_queue_read(f->q, rec, (size_t)max * sizeof(rec[0]));
	if (n < 0)
		return (int)n;
	for (i = 0; i < (size_t)n / sizeof(rec[0]); i++) {
		char acc[8];
		unsigned int k, j = 0;

		letters = rec[i].perm;
		for (k = 0; k < 4; k++)
			if (letters & (1u << k))
				acc[j++] = ACCESS_LETTERS[k];
		if (!j)
			acc[j++] = '-';
		acc[j] = 0;
		if (rec[i].flags & SIOMMU_FQ_PASID_VALID)
			run_print(rc, "  record cookie=%u dev=0x%x pasid=%u prgi=%u addr=0x%" PRIx64
				  " perm=%s last=%s", rec[i].cookie, rec[i].dev_id, rec[i].pasid,
				  rec[i].grpid, rec[i].addr, acc,
				  rec[i].flags & SIOMMU_FQ_LAST_PAGE ? "yes" : "no");
		else
			run_print(rc, "  record cookie=%u dev=0x%x prgi=%u addr=0x%" PRIx64
				  " perm=%s last=%s", rec[i].cookie, rec[i].dev_id, rec[i].grpid,
				  rec[i].addr, acc,
				  rec[i].flags & SIOMMU_FQ_LAST_PAGE ? "yes" : "no");
	}
	run_result(rc, "records", "%zu", (size_t)n / sizeof(rec[0]));
	return 0;
}

static int verb_fq_write(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_fq *f = run_obj_arg(rc, cmd, "fq", FQ_TYPE);
	struct siommu_fault_queue_response r;
	uint64_t cookie, code;
	ssize_t n;

	if (!f || run_arg_u64(rc, cmd, "cookie", &cookie))
		return RUN_EUSAGE;
	if (run_arg_has(cmd, "raw-code")) {
		if (run_arg_u64(rc, cmd, "raw-code", &code))
			return RUN_EUSAGE;
	} else {
		int c;

		if (run_arg_enum_opt(rc, cmd, "code", code_names, &c, 0))
			return RUN_EUSAGE;
		code = (uint64_t)code_values[c];
	}
	if (cookie > UINT32_MAX || code > UINT32_MAX)
		return run_error(rc, cmd, "cookie or code out of range");
	r.cookie = (uint32_t)cookie;
	r.code = (uint32_t)code;
	n = siommu_fault_queue_write(f->q, &r, sizeof(r));
	return n < 0 ? (int)n : 0;
}

static int verb_fq_poll(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_fq *f = run_obj_arg(rc, cmd, "fq", FQ_TYPE);
	struct pollfd p;

	if (!f)
		return RUN_EUSAGE;
	p = (struct pollfd){ .fd = siommu_fault_queue_fd(f->q), .events = POLLIN };
	run_result(rc, "readable", "%s", poll(&p, 1, 0) == 1 && (p.revents & POLLIN) ?
		   "yes" : "no");
	return 0;
}

static int verb_fq_close(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_fq *f = run_obj_arg(rc, cmd, "fq", FQ_TYPE);
	int ret;

	if (!f)
		return RUN_EUSAGE;
	ret = siommu_fault_queue_close(f->q);
	if (ret < 0)
		return ret;
	run_result(rc, "answered", "%d", ret);
	return 0;
}

const struct run_verb run_verbs_iopf[] = {
	{ "iopf-create", "iopf-create iommu=NAME name=NAME [mode=inline|workers|manual] "
	  "[workers=N] [drain-timeout=MS|nowait]",
	  "the iopf layer of an IOMMU (PRQ of its prq-size; create it after its devices and domains)",
	  verb_create },
	{ "iopf-enable", "iopf-enable dev=NAME iopf=NAME",
	  "give a PRI device its fault data; its responses are logged (iopf-responses)",
	  verb_enable },
	{ "iopf-disable", "iopf-disable iopf=NAME dev=NAME",
	  "device removal: drain every PASID, refuse its requests from now", verb_disable },
	{ "iopf-handler", "iopf-handler iopf=NAME domain=NAME mode=success|invalid|failure|hold|fq "
	  "[fq=NAME]",
	  "set a domain's group handler: answer at once, hold (iopf-answer), or a fault queue",
	  verb_handler },
	{ "iopf-resolver", "iopf-resolver iopf=NAME domain=NAME ioas=NAME",
	  "resolve by mapping: faults map the page from the IOAS's area holding it (Invalid if "
	  "none); an ioas-unmap unmaps what it mapped (workers or manual mode; create the IOAS "
	  "before the iopf)",
	  verb_resolver },
	{ "iopf-handler-clear", "iopf-handler-clear iopf=NAME domain=NAME",
	  "remove a domain's group handler (EBUSY while attached)", verb_handler_clear },
	{ "iopf-report", "iopf-report iopf=NAME dev=NAME prgi=N [pasid=N] [addr=N] [access=rwxp] "
	  "[last=yes] [count=1] [stop=no]",
	  "the device sends page requests (count=N: a group of N; stop=yes: a Stop Marker)",
	  verb_report },
	{ "iopf-process", "iopf-process iopf=NAME [max=0]",
	  "manual mode: process the PRQ (max=0: all)", verb_process },
	{ "iopf-respond", "iopf-respond iopf=NAME dev=NAME prgi=N [pasid=N] [code=success]",
	  "a response by PRG index (and PASID); ENOENT: matched nothing, dropped", verb_respond },
	{ "iopf-answer", "iopf-answer iopf=NAME domain=NAME [code=success]",
	  "a hold handler answers its oldest group (delivered=no: a drain answered it)",
	  verb_answer },
	{ "iopf-drain", "iopf-drain iopf=NAME dev=NAME [pasid=N]",
	  "drain (dev, pasid) now: requests and responses", verb_drain },
	{ "iopf-clear-overflow", "iopf-clear-overflow iopf=NAME",
	  "clear the PRQ's overflow bit; incomplete groups are discarded", verb_clear_overflow },
	{ "iopf-responses", "iopf-responses iopf=NAME dev=NAME",
	  "print and forget the PRG responses the device received", verb_responses },
	{ "iopf-stats", "iopf-stats iopf=NAME", "the counters", verb_stats },
	{ "fq-create", "fq-create iopf=NAME name=NAME", "a fault queue (iopf-handler mode=fq)",
	  verb_fq_create },
	{ "fq-read", "fq-read fq=NAME [max=64]",
	  "read whole groups as records (max records; a group that does not fit stays)",
	  verb_fq_read },
	{ "fq-write", "fq-write fq=NAME cookie=N [code=success|invalid] [raw-code=N]",
	  "answer a group read before by its cookie", verb_fq_write },
	{ "fq-poll", "fq-poll fq=NAME", "whether the queue's descriptor is readable", verb_fq_poll },
	{ "fq-close", "fq-close fq=NAME", "close: everything unread or unanswered gets Invalid",
	  verb_fq_close },
	{ NULL, NULL, NULL, NULL },
};
