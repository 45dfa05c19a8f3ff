// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Run-language verbs of the core: IOMMUs (optionally over a memory map made
 * with mem-create), devices, domains (optionally over a pt-create table,
 * pt=), attach/replace/detach with and without PASID, map/unmap through
 * domains (strict or lazy), translate, DMA reads and writes with hex data,
 * scatter-gather DMA, the fault log and the counters.  A domain's own table
 * is read by the pgtable verbs with domain= (run_domain_of()).
 *
 * At the end of a run objects are destroyed in reverse creation order; a
 * domain still attached is first detached from every device of its IOMMU,
 * and a device from every domain, so that any command file ends cleanly.
 * What is attached comes from the library (siommu_device_get_attachments()):
 * the CLI keeps no record of attachments of its own.
 *
 * Layers (layer-register): a CLI layer prints its prepare, commit and abort
 * steps as `layer: NAME STEP OP dev=DEV pasid=N old=DOM new=DOM`, and with
 * mode=refuse refuses every prepare with its error.  Its private data
 * (layer-priv) is a word stored on a device or domain.  At the end of the
 * run (and only there) CLI layers accept every change silently and their
 * private data is cleared, so that the teardown detaches whatever the
 * command file left.
 *
 * Fault handlers (domain-fault-handler), for devices made with pri=yes:
 * mode=queue answers every recoverable fault with SIOMMU_IOPF_QUEUED (the
 * DMA returns EAGAIN); mode=resolve maps the faulting 4 KiB page to the next
 * page of a pool (pa=BASE pages=N, handed out in order) and returns
 * SIOMMU_IOPF_RESOLVED (the DMA translates again and completes); an empty
 * pool or a failed map leaves the fault unrecoverable.  Each call prints a
 * `fault-handler:` line.
 *
 * A revocation owner (domain-revoke-owner) keeps the records of what
 * domain-map and its fault handler map in its domain from then on (such a
 * domain refuses domain-dma-map); a revoke prints `revoke-owner:` lines and
 * unmaps the records in the revoked range.
 *
 * Locking: none.  Every structure below is used by the run's one thread
 * only; the library calls the CLI's callbacks on the thread of the command
 * that triggers them (layers: attach/replace/detach; fault handler: a DMA
 * command; revocation owner: mem-revoke or mem-region-destroy).
 * An IOMMU made without mem= has host addresses as output addresses: the
 * DMA verbs refuse to run on it (a command file cannot name host memory).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/core.h>
#include <softiommu/mem.h>

#include "run.h"
#include "verbs.h"

#define IOMMU_TYPE	"iommu"
/* SIOMMU_PT_* bits and SIOMMU_ACC_* bits, in order */
#define PROT_LETTERS	"rwcnmp"
#define ACCESS_LETTERS	"rwxp"
#define DEV_TYPE	"device"
#define DOMAIN_TYPE	RUN_DOMAIN_TYPE
#define DATA_MAX	4096u
#define FAULTS_MAX	64u
#define SG_MAX		16u		/* scatter-gather list elements */

struct cli_dev;

struct cli_domain;
struct cli_layer;

struct cli_iommu {
	struct siommu_iommu *iommu;
	bool has_mem;
	bool teardown;			/* the run is ending: layers accept silently */
	struct cli_dev *devs;
	struct cli_domain *doms;
	struct cli_layer *layers;
	struct run_ctx *rc;
};

struct cli_dev {
	struct cli_dev *next;
	struct cli_iommu *ci;
	struct siommu_device *dev;
	char *name;			/* its object name, for dev-find and messages */
};

/* A recoverable-fault handler's state (domain-fault-handler). */
struct cli_fault {
	struct cli_domain *cdom;
	bool resolve;			/* else: queue */
	uint64_t pool_pa;		/* resolve: the pool's first page */
	uint64_t pool_pages;
	uint64_t pool_used;		/* pages handed out, in order */
	unsigned int prot;
	uint64_t queued, resolved, failed;
};

/* A mapping recorded by a revocation owner (domain-revoke-owner). */
struct cli_owned {
	struct cli_owned *next;
	uint64_t iova, pa, size;
};

struct cli_domain {
	struct cli_domain *next;
	struct cli_iommu *ci;
	struct siommu_domain *dom;
	char *name;			/* its object name, for messages */
	struct cli_fault *fault;	/* the installed fault handler's state, or NULL */
	bool owner;			/* domain-revoke-owner: the CLI owns its mappings */
	struct cli_owned *owned;	/* ... recorded here */
};

struct cli_priv {
	struct cli_priv *next;
	struct siommu_device *dev;	/* one of the two */
	struct siommu_domain *dom;
	char *val;
};

struct cli_layer {
	struct cli_layer *next;
	struct cli_iommu *ci;
	struct siommu_layer *layer;
	char *name;			/* outlives the layer (the core keeps a pointer) */
	int refuse;			/* 0, or the negative errno every prepare returns */
	struct cli_priv *privs;		/* what layer-priv set */
};

static const char *const mode_names[] = { "strict", "lazy", NULL };

static int owned_map(struct cli_domain *cdom, uint64_t iova, uint64_t pa, uint64_t size,
		     unsigned int prot);
static void owned_unmapped(struct cli_domain *cdom, uint64_t iova, uint64_t size);

struct siommu_domain *run_domain_of(void *obj)
{
	return ((struct cli_domain *)obj)->dom;
}

struct siommu_iommu *run_iommu_of(void *obj)
{
	return ((struct cli_iommu *)obj)->iommu;
}

struct siommu_device *run_device_of(void *obj)
{
	return ((struct cli_dev *)obj)->dev;
}


static int arg_pasid(struct run_ctx *rc, struct run_cmd *cmd, uint32_t *pasid)
{
	uint64_t v;

	if (run_arg_u64_opt(rc, cmd, "pasid", &v, SIOMMU_NO_PASID))
		return RUN_EUSAGE;
	if (v > UINT32_MAX)
		return run_error(rc, cmd, "pasid: at most 32 bits");
	*pasid = (uint32_t)v;
	return 0;
}

/* ------------------------------------------------------------------ iommu */

static void iommu_obj_destroy(void *obj)
{
	struct cli_iommu *ci = obj;

	if (siommu_iommu_destroy(ci->iommu))
		run_print(ci->rc, "iommu: left busy at the end of the run");
	free(ci);
}

static int verb_iommu_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iommu_caps caps = { 0 };
	struct siommu_mem *mem = NULL;
	struct cli_iommu *ci;
	const char *name;
	uint64_t ias, oas, pb, cap, ways, flog, rate, prq;
	int ret;

	if (run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_u64_opt(rc, cmd, "ias", &ias, 0) ||
	    run_arg_u64_opt(rc, cmd, "oas", &oas, 0) ||
	    run_arg_u64_opt(rc, cmd, "pasid-bits", &pb, 0) ||
	    run_arg_u64_opt(rc, cmd, "iotlb", &cap, 0) ||
	    run_arg_u64_opt(rc, cmd, "ways", &ways, 0) ||
	    run_arg_u64_opt(rc, cmd, "fault-log", &flog, 0) ||
	    run_arg_u64_opt(rc, cmd, "fault-rate", &rate, 0) ||
	    run_arg_u64_opt(rc, cmd, "prq", &prq, 0) ||
	    run_arg_pgsizes(rc, cmd, "pgsizes", &caps.pgsize_bitmap))
		return RUN_EUSAGE;
	if (run_arg_has(cmd, "mem")) {
		void *m = run_obj_arg(rc, cmd, "mem", RUN_MEM_TYPE);

		if (!m)
			return RUN_EUSAGE;
		mem = run_mem_of(m);
	}
	if (ias > 64 || oas > 64 || pb > 64 || cap > UINT32_MAX || ways > UINT32_MAX ||
	    flog > UINT32_MAX || rate > UINT32_MAX || prq > UINT32_MAX)
		return run_error(rc, cmd, "a capability is out of range");
	caps.ias_lg2 = (unsigned int)ias;
	caps.oas_lg2 = (unsigned int)oas;
	caps.pasid_bits = (unsigned int)pb;
	caps.iotlb_capacity = (uint32_t)cap;
	caps.iotlb_ways = (uint32_t)ways;
	caps.fault_log_size = (uint32_t)flog;
	caps.fault_rate = (uint32_t)rate;
	caps.prq_size = (uint32_t)prq;
	if (run_obj_find(rc, IOMMU_TYPE, name))
		return run_error(rc, cmd, "an %s named '%s' exists already", IOMMU_TYPE, name);
	ci = calloc(1, sizeof(*ci));
	if (!ci)
		return -ENOMEM;
	ci->rc = rc;
	ci->has_mem = mem != NULL;
	ret = siommu_iommu_create(run_siommu(rc), &caps, mem, &ci->iommu);
	if (ret) {
		free(ci);
		return ret;
	}
	return run_obj_add(rc, cmd, IOMMU_TYPE, name, ci, iommu_obj_destroy);
}

static int iommu_try_destroy(void *obj)
{
	struct cli_iommu *ci = obj;
	int ret = siommu_iommu_destroy(ci->iommu);	/* -EBUSY: devices or domains live */

	if (!ret)
		free(ci);
	return ret;
}

static int verb_iommu_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "iommu", IOMMU_TYPE, iommu_try_destroy);
}

static int verb_iommu_info(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iommu *ci = run_obj_arg(rc, cmd, "iommu", IOMMU_TYPE);
	struct siommu_iommu_caps c;
	int ret;

	if (!ci)
		return RUN_EUSAGE;
	ret = siommu_iommu_get_caps(ci->iommu, &c);
	if (ret)
		return ret;
	run_result(rc, "pgsizes", "%s%s%s", c.pgsize_bitmap & SIOMMU_PT_SZ_4K ? "4K" : "",
		   c.pgsize_bitmap & SIOMMU_PT_SZ_2M ? ",2M" : "",
		   c.pgsize_bitmap & SIOMMU_PT_SZ_1G ? ",1G" : "");
	run_result(rc, "ias", "%u", c.ias_lg2);
	run_result(rc, "oas", "%u", c.oas_lg2);
	run_result(rc, "pasid_bits", "%u", c.pasid_bits);
	run_result(rc, "iotlb", "%u", c.iotlb_capacity);
	run_result(rc, "ways", "%u", c.iotlb_ways);
	run_result(rc, "fault_log", "%u", c.fault_log_size);
	run_result(rc, "fault_rate", "%u", c.fault_rate);
	run_result(rc, "prq", "%u", c.prq_size);
	return 0;
}

static int verb_iommu_stats(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iommu *ci = run_obj_arg(rc, cmd, "iommu", IOMMU_TYPE);
	struct siommu_iommu_stats s;
	unsigned int i;
	int ret;

	if (!ci)
		return RUN_EUSAGE;
	ret = siommu_iommu_get_stats(ci->iommu, &s);
	if (ret)
		return ret;
	run_result(rc, "translations", "%" PRIu64, s.translations);
	run_result(rc, "iotlb_hits", "%" PRIu64, s.iotlb_hits);
	run_result(rc, "walks", "%" PRIu64, s.iotlb_misses);
	for (i = 1; i < SIOMMU_FAULT_NR; i++)
		if (s.faults[i])
			run_result(rc, siommu_fault_reason_name(i), "%" PRIu64, s.faults[i]);
	run_result(rc, "logged", "%" PRIu64, s.faults_logged);
	run_result(rc, "ratelimited", "%" PRIu64, s.faults_ratelimited);
	run_result(rc, "overflow", "%" PRIu64, s.faults_overflow);
	run_result(rc, "dma_ops", "%" PRIu64, s.dma_ops);
	run_result(rc, "dma_read", "%" PRIu64, s.dma_read_bytes);
	run_result(rc, "dma_written", "%" PRIu64, s.dma_write_bytes);
	run_result(rc, "maps", "%" PRIu64, s.maps);
	run_result(rc, "unmaps_strict", "%" PRIu64, s.unmaps_strict);
	run_result(rc, "unmaps_lazy", "%" PRIu64, s.unmaps_lazy);
	run_result(rc, "fq_batches", "%" PRIu64, s.fq_batches);
	run_result(rc, "fq_entries", "%" PRIu64, s.fq_entries);
	run_result(rc, "recoverable", "%" PRIu64, s.faults_recoverable);
	run_result(rc, "page_requests", "%" PRIu64, s.page_requests);
	run_result(rc, "resolved", "%" PRIu64, s.faults_resolved);
	return 0;
}

static int verb_fault_log(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iommu *ci = run_obj_arg(rc, cmd, "iommu", IOMMU_TYPE);
	struct siommu_fault_record rec[FAULTS_MAX];
	uint64_t max;
	int i, n;

	if (!ci || run_arg_u64_opt(rc, cmd, "max", &max, FAULTS_MAX))
		return RUN_EUSAGE;
	if (max > FAULTS_MAX)
		return run_error(rc, cmd, "max: at most %u", FAULTS_MAX);
	n = siommu_fault_log_read(ci->iommu, rec, (unsigned int)max);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		run_print(rc, "  #%" PRIu64 " rid=%04x:%02x:%02x.%u pasid=%u iova=0x%" PRIx64
			  " access=%s%s%s%s reason=%s", rec[i].seq, rec[i].rid >> 16,
			  (rec[i].rid >> 8) & 0xff, (rec[i].rid >> 3) & 0x1f, rec[i].rid & 7,
			  rec[i].pasid, rec[i].iova,
			  rec[i].access & SIOMMU_ACC_READ ? "r" : "",
			  rec[i].access & SIOMMU_ACC_WRITE ? "w" : "",
			  rec[i].access & SIOMMU_ACC_EXEC ? "x" : "",
			  rec[i].access & SIOMMU_ACC_PRIV ? "p" : "",
			  siommu_fault_reason_name(rec[i].reason));
	run_result(rc, "records", "%d", n);
	return 0;
}

/* ------------------------------------------------------------------ devices */

static void dev_unlink(struct cli_dev *cd)
{
	struct cli_dev **pp;

	for (pp = &cd->ci->devs; *pp; pp = &(*pp)->next) {
		if (*pp == cd) {
			*pp = cd->next;
			break;
		}
	}
}

/*
 * Object names for messages: "-" for none, "?" for one this run did not make
 * (an SVA or mirror domain, made by the library).
 */
static const char *dev_name(struct cli_iommu *ci, struct siommu_device *dev)
{
	struct cli_dev *cd;

	for (cd = ci->devs; cd; cd = cd->next)
		if (cd->dev == dev)
			return cd->name;
	return dev ? "?" : "-";
}

static const char *dom_name(struct cli_iommu *ci, struct siommu_domain *dom)
{
	struct cli_domain *cdom;
	const char *name;

	for (cdom = ci->doms; cdom; cdom = cdom->next)
		if (cdom->dom == dom)
			return cdom->name;
	name = run_ioas_domain_name(ci->rc, dom);	/* an IOAS domain has its own verbs */
	if (name)
		return name;
	return dom ? "?" : "-";
}

/*
 * The attachments of @dev, from the library, in its order (the device's
 * own first, then PASIDs ascending): *@out (to free) and the count, or a
 * negative errno.
 */
static int dev_attachments(struct siommu_device *dev, struct siommu_attachment **out)
{
	struct siommu_attachment *a = NULL, *na;
	int n = siommu_device_get_attachments(dev, NULL, 0), m;

	for (;;) {
		if (n <= 0) {
			free(a);
			*out = NULL;
			return n;
		}
		na = realloc(a, (size_t)n * sizeof(*a));
		if (!na) {
			free(a);
			return -ENOMEM;
		}
		a = na;
		m = siommu_device_get_attachments(dev, a, (unsigned int)n);
		if (m < 0) {
			free(a);
			*out = NULL;
			return m;
		}
		if (m <= n) {
			*out = a;
			return m;
		}
		n = m;		/* grew meanwhile: ask again */
	}
}

static void layers_drop_priv(struct cli_iommu *ci, struct siommu_device *dev,
			     struct siommu_domain *dom);

/* Detach @cd from @only (NULL: from everything).  The end of the run only. */
static void dev_detach_all(struct cli_dev *cd, struct siommu_domain *only)
{
	struct siommu_attachment *a;
	int i, n;

	cd->ci->teardown = true;
	n = dev_attachments(cd->dev, &a);
	for (i = 0; i < n; i++) {
		if (only && a[i].dom != only)
			continue;
		if (a[i].pasid == SIOMMU_NO_PASID)
			siommu_device_detach(cd->dev);
		else
			siommu_pasid_detach(cd->dev, a[i].pasid);
	}
	free(a);
}

static void dev_obj_destroy(void *obj)
{
	struct cli_dev *cd = obj;

	dev_detach_all(cd, NULL);
	layers_drop_priv(cd->ci, cd->dev, NULL);
	if (siommu_device_destroy(cd->dev))
		run_print(cd->ci->rc, "device: left busy at the end of the run");
	dev_unlink(cd);
	free(cd->name);
	free(cd);
}

static int verb_dev_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iommu *ci = run_obj_arg(rc, cmd, "iommu", IOMMU_TYPE);
	bool pasid, pri, ats, resp;
	unsigned int flags = 0;
	struct cli_dev *cd;
	const char *name;
	uint64_t rid, pb;
	int ret;

	if (!ci || run_arg_str(rc, cmd, "name", &name) || run_arg_u64(rc, cmd, "rid", &rid) ||
	    run_arg_bool_opt(rc, cmd, "pasid", &pasid, false) ||
	    run_arg_u64_opt(rc, cmd, "pasid-bits", &pb, pasid ? 20 : 0) ||
	    run_arg_bool_opt(rc, cmd, "pri", &pri, false) ||
	    run_arg_bool_opt(rc, cmd, "ats", &ats, false) ||
	    run_arg_bool_opt(rc, cmd, "prg-resp-pasid", &resp, false))
		return RUN_EUSAGE;
	if (rid > UINT32_MAX || pb > 64)
		return run_error(rc, cmd, "rid or pasid-bits out of range");
	flags |= pasid ? SIOMMU_DEV_PASID : 0;
	flags |= pri ? SIOMMU_DEV_PRI : 0;
	flags |= ats ? SIOMMU_DEV_ATS : 0;
	flags |= resp ? SIOMMU_DEV_PRG_RESP_PASID : 0;
	if (run_obj_find(rc, DEV_TYPE, name))
		return run_error(rc, cmd, "a %s named '%s' exists already", DEV_TYPE, name);
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	cd->ci = ci;
	cd->name = strdup(name);
	if (!cd->name) {
		free(cd);
		return -ENOMEM;
	}
	ret = siommu_device_create(ci->iommu, (uint32_t)rid, flags, (unsigned int)pb, &cd->dev);
	if (ret) {
		free(cd->name);
		free(cd);
		return ret;
	}
	cd->next = ci->devs;
	ci->devs = cd;
	return run_obj_add(rc, cmd, DEV_TYPE, name, cd, dev_obj_destroy);
}

static int dev_try_destroy(void *obj)
{
	struct cli_dev *cd = obj;
	int ret = siommu_device_destroy(cd->dev);

	if (ret)
		return ret;
	dev_unlink(cd);
	free(cd->name);
	free(cd);
	return 0;
}

static int verb_dev_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "dev", DEV_TYPE, dev_try_destroy);
}

static int verb_dev_info(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_dev *cd = run_obj_arg(rc, cmd, "dev", DEV_TYPE);
	struct siommu_device_info info;
	int ret;

	if (!cd)
		return RUN_EUSAGE;
	ret = siommu_device_get_info(cd->dev, &info);
	if (ret)
		return ret;
	run_result(rc, "rid", "%04x:%02x:%02x.%u", info.rid >> 16, (info.rid >> 8) & 0xff,
		   (info.rid >> 3) & 0x1f, info.rid & 7);
	run_result(rc, "caps", "%s%s%s%s%s", info.flags ? "" : "-",
		   info.flags & SIOMMU_DEV_PASID ? "pasid," : "",
		   info.flags & SIOMMU_DEV_PRI ? "pri," : "",
		   info.flags & SIOMMU_DEV_ATS ? "ats," : "",
		   info.flags & SIOMMU_DEV_PRG_RESP_PASID ? "prg-resp-pasid," : "");
	run_result(rc, "pasid_bits", "%u", info.pasid_bits);
	run_result(rc, "attached", "%s", info.attached ? "yes" : "no");
	run_result(rc, "pasids", "%u", info.nr_pasids);
	return 0;
}

static int verb_dev_find(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iommu *ci = run_obj_arg(rc, cmd, "iommu", IOMMU_TYPE);
	struct siommu_device *dev;
	struct cli_dev *cd;
	uint64_t rid;

	if (!ci || run_arg_u64(rc, cmd, "rid", &rid))
		return RUN_EUSAGE;
	if (rid > UINT32_MAX)
		return run_error(rc, cmd, "rid: at most 32 bits");
	dev = siommu_device_find(ci->iommu, (uint32_t)rid);
	for (cd = ci->devs; cd && cd->dev != dev; cd = cd->next)
		;
	run_result(rc, "found", "%s", dev ? "yes" : "no");
	if (dev)
		run_result(rc, "dev", "%s", cd ? cd->name : "?");
	return 0;
}

static int verb_dev_domain(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_dev *cd = run_obj_arg(rc, cmd, "dev", DEV_TYPE);
	uint32_t pasid = SIOMMU_NO_PASID;

	if (!cd || arg_pasid(rc, cmd, &pasid))
		return RUN_EUSAGE;
	run_result(rc, "domain", "%s", dom_name(cd->ci, siommu_device_domain(cd->dev, pasid)));
	return 0;
}

static int verb_dev_attachments(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_dev *cd = run_obj_arg(rc, cmd, "dev", DEV_TYPE);
	struct siommu_attachment *a;
	int i, n;

	if (!cd)
		return RUN_EUSAGE;
	n = dev_attachments(cd->dev, &a);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		run_print(rc, "  pasid=%u domain=%s", a[i].pasid, dom_name(cd->ci, a[i].dom));
	free(a);
	run_result(rc, "attachments", "%d", n);
	return 0;
}

/* ------------------------------------------------------------------ domains */

static void owned_free_all(struct cli_domain *cdom)
{
	struct cli_owned *o;

	while ((o = cdom->owned)) {
		cdom->owned = o->next;
		free(o);
	}
}

/* Unlink and free @cdom, whose domain is destroyed. */
static void domain_free(struct cli_domain *cdom)
{
	struct cli_domain **pp;

	for (pp = &cdom->ci->doms; *pp; pp = &(*pp)->next) {
		if (*pp == cdom) {
			*pp = cdom->next;
			break;
		}
	}
	owned_free_all(cdom);
	free(cdom->fault);
	free(cdom->name);
	free(cdom);
}

static void domain_obj_destroy(void *obj)
{
	struct cli_domain *cdom = obj;
	struct cli_dev *cd;

	cdom->ci->teardown = true;
	for (cd = cdom->ci->devs; cd; cd = cd->next)
		dev_detach_all(cd, cdom->dom);
	layers_drop_priv(cdom->ci, NULL, cdom->dom);
	if (siommu_domain_destroy(cdom->dom)) {
		/* keep its state: a handler or an owner may still be called */
		run_print(cdom->ci->rc, "domain: left busy at the end of the run");
		return;
	}
	domain_free(cdom);
}

static int verb_domain_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iommu *ci = run_obj_arg(rc, cmd, "iommu", IOMMU_TYPE);
	struct siommu_domain_cfg cfg = { 0 };
	struct cli_domain *cdom;
	const char *name, *fmt, *type;
	uint64_t levels, batch, ms, base;
	void *pt_obj;
	bool dirty, exec;
	int mode, ret;

	if (!ci || run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_str_opt(rc, cmd, "type", &type, "paging") ||
	    run_arg_str_opt(rc, cmd, "fmt", &fmt, "x86-64") ||
	    run_arg_bool_opt(rc, cmd, "dirty", &dirty, false) ||
	    run_arg_bool_opt(rc, cmd, "exec", &exec, false) ||
	    run_arg_u64_opt(rc, cmd, "levels", &levels, 0) ||
	    run_arg_enum_opt(rc, cmd, "mode", mode_names, &mode, 0) ||
	    run_arg_u64_opt(rc, cmd, "fq-batch", &batch, 0) ||
	    run_arg_u64_opt(rc, cmd, "fq-timeout-ms", &ms, 0) ||
	    run_arg_u64_opt(rc, cmd, "table-base", &base, 0x10000000))
		return RUN_EUSAGE;
	if (siommu_domain_type_parse(type, &cfg.type))
		return run_error(rc, cmd, "type: blocked, identity or paging, got '%s'", type);
	if (run_arg_has(cmd, "pt")) {
		pt_obj = run_obj_arg(rc, cmd, "pt", RUN_PT_TYPE);
		if (!pt_obj)
			return RUN_EUSAGE;
		cfg.pt = run_pt_of(pt_obj);
	}
	if (siommu_pt_fmt_parse(fmt, &cfg.fmt))
		return run_error(rc, cmd, "fmt: x86-64, vtd-ss or arm-lpae-s1, got '%s'", fmt);
	if (levels > 8 || batch > UINT32_MAX || ms > UINT32_MAX)
		return run_error(rc, cmd, "levels, fq-batch or fq-timeout-ms out of range");
	cfg.pt_flags = (dirty ? SIOMMU_PT_F_DIRTY : 0) | (exec ? SIOMMU_PT_F_EXEC : 0);
	cfg.levels = (unsigned int)levels;
	cfg.unmap_mode = (enum siommu_unmap_mode)mode;
	cfg.fq_batch = (uint32_t)batch;
	cfg.fq_timeout_ms = (uint32_t)ms;
	cfg.table_phys_base = base;
	if (run_obj_find(rc, DOMAIN_TYPE, name))
		return run_error(rc, cmd, "a %s named '%s' exists already", DOMAIN_TYPE, name);
	cdom = calloc(1, sizeof(*cdom));
	if (!cdom)
		return -ENOMEM;
	cdom->ci = ci;
	cdom->name = strdup(name);
	if (!cdom->name) {
		free(cdom);
		return -ENOMEM;
	}
	/* With cfg.pt the library counts the domain as a user of the table. */
	ret = siommu_domain_create(ci->iommu, &cfg, &cdom->dom);
	if (ret) {
		free(cdom->name);
		free(cdom);
		return ret;
	}
	cdom->next = ci->doms;
	ci->doms = cdom;
	return run_obj_add(rc, cmd, DOMAIN_TYPE, name, cdom, domain_obj_destroy);
}

static int domain_try_destroy(void *obj)
{
	struct cli_domain *cdom = obj;
	int ret = siommu_domain_destroy(cdom->dom);

	if (ret)
		return ret;
	domain_free(cdom);
	return 0;
}

static int verb_domain_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "domain", DOMAIN_TYPE, domain_try_destroy);
}

static int verb_domain_info(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_domain *cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);
	struct siommu_domain_info info;
	int ret;

	if (!cdom)
		return RUN_EUSAGE;
	ret = siommu_domain_get_info(cdom->dom, &info);
	if (ret)
		return ret;
	run_result(rc, "type", "%s", siommu_domain_type_name(info.type));
	run_result(rc, "domid", "%u", info.domid);
	run_result(rc, "ias", "%u", info.ias_lg2);
	run_result(rc, "mode", "%s", mode_names[info.unmap_mode]);
	run_result(rc, "users", "%u", info.users);
	run_result(rc, "fq_pending", "%" PRIu64, info.fq_pending);
	return 0;
}

static int verb_map(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_domain *cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);
	uint64_t iova, pa, size;
	unsigned int prot;

	if (!cdom || run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "pa", &pa) ||
	    run_arg_u64(rc, cmd, "size", &size) ||
	    run_arg_letters(rc, cmd, "prot", PROT_LETTERS, "rw", &prot))
		return RUN_EUSAGE;
	return owned_map(cdom, iova, pa, size, prot);
}

static int verb_unmap(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_domain *cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);
	uint64_t iova, size;
	int64_t n;

	if (!cdom || run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "size", &size))
		return RUN_EUSAGE;
	n = siommu_domain_unmap(cdom->dom, iova, size);
	if (n < 0)
		return (int)n;
	if (cdom->owner)
		owned_unmapped(cdom, iova, size);
	run_result(rc, "unmapped", "0x%" PRIx64, (uint64_t)n);
	return 0;
}

static int verb_dma_map(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_domain *cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);
	uint64_t pa, size, limit, iova;
	unsigned int prot;
	int ret;

	if (!cdom || run_arg_u64(rc, cmd, "pa", &pa) || run_arg_u64(rc, cmd, "size", &size) ||
	    run_arg_u64_opt(rc, cmd, "limit", &limit, UINT64_MAX) ||
	    run_arg_letters(rc, cmd, "prot", PROT_LETTERS, "rw", &prot))
		return RUN_EUSAGE;
	if (cdom->owner)
		return run_error(rc, cmd, "domain-dma-map: the domain has a revocation owner (domain-revoke-owner), which records domain-map mappings only");
	ret = siommu_domain_dma_map(cdom->dom, pa, size, prot, limit, &iova);
	if (ret)
		return ret;
	run_result(rc, "iova", "0x%" PRIx64, iova);
	return 0;
}

static int verb_dma_unmap(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_domain *cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);
	uint64_t iova, size;
	int64_t n;

	if (!cdom || run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "size", &size))
		return RUN_EUSAGE;
	n = siommu_domain_dma_unmap(cdom->dom, iova, size);
	if (n < 0)
		return (int)n;
	run_result(rc, "unmapped", "0x%" PRIx64, (uint64_t)n);
	return 0;
}

static int verb_invalidate(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_domain *cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);
	uint64_t iova, size;
	bool wait;

	if (!cdom || run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "size", &size) ||
	    run_arg_bool_opt(rc, cmd, "wait", &wait, false))
		return RUN_EUSAGE;
	return siommu_domain_invalidate(cdom->dom, iova, size, wait ? SIOMMU_INVAL_WAIT : 0);
}

static int verb_flush(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_domain *cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);

	if (!cdom)
		return RUN_EUSAGE;
	return siommu_domain_flush(cdom->dom);
}

/* ------------------------------------------------------------------ attach */

enum { OP_ATTACH, OP_REPLACE, OP_DETACH };

static int do_attach(struct run_ctx *rc, struct run_cmd *cmd, int op)
{
	struct cli_dev *cd = run_obj_arg(rc, cmd, "dev", DEV_TYPE);
	struct cli_domain *cdom = NULL;
	uint32_t pasid = SIOMMU_NO_PASID;

	if (!cd || arg_pasid(rc, cmd, &pasid))
		return RUN_EUSAGE;
	if (op != OP_DETACH) {
		cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);
		if (!cdom)
			return RUN_EUSAGE;
	}
	if (pasid == SIOMMU_NO_PASID) {
		if (op == OP_ATTACH)
			return siommu_device_attach(cd->dev, cdom->dom);
		if (op == OP_REPLACE)
			return siommu_device_replace(cd->dev, cdom->dom);
		return siommu_device_detach(cd->dev);
	}
	if (op == OP_ATTACH)
		return siommu_pasid_attach(cd->dev, pasid, cdom->dom);
	if (op == OP_REPLACE)
		return siommu_pasid_replace(cd->dev, pasid, cdom->dom);
	return siommu_pasid_detach(cd->dev, pasid);
}

static int verb_attach(struct run_ctx *rc, struct run_cmd *cmd)
{
	return do_attach(rc, cmd, OP_ATTACH);
}

static int verb_replace(struct run_ctx *rc, struct run_cmd *cmd)
{
	return do_attach(rc, cmd, OP_REPLACE);
}

static int verb_detach(struct run_ctx *rc, struct run_cmd *cmd)
{
	return do_attach(rc, cmd, OP_DETACH);
}

/* ------------------------------------------------------------------ fault handlers */

static const char *access_str(unsigned int access, char buf[8])
{
	char *q = buf;

	if (access & SIOMMU_ACC_READ)
		*q++ = 'r';
	if (access & SIOMMU_ACC_WRITE)
		*q++ = 'w';
	if (access & SIOMMU_ACC_EXEC)
		*q++ = 'x';
	if (access & SIOMMU_ACC_PRIV)
		*q++ = 'p';
	if (q == buf)
		*q++ = '-';
	*q = '\0';
	return buf;
}

/*
 * The CLI's fault handler.  Runs inside the faulting DMA's read-side
 * section, on the thread of the DMA verb: it prints, counts, and in resolve
 * mode maps (siommu_domain_map() may run in a read-side section).
 */
static int fault_handler(void *opaque, const struct siommu_fault_info *f)
{
	struct cli_fault *fs = opaque;
	struct cli_iommu *ci = fs->cdom->ci;
	uint64_t page = f->iova & ~0xfffull, pa;
	char acc[8], line[160];
	int ret;

	snprintf(line, sizeof(line), "fault-handler: %s dev=%s pasid=%u iova=0x%" PRIx64
		 " access=%s reason=%s", fs->cdom->name, dev_name(ci, f->dev), f->pasid,
		 f->iova, access_str(f->access, acc), siommu_fault_reason_name(f->reason));
	if (!fs->resolve) {
		fs->queued++;
		run_print(ci->rc, "%s -> queued", line);
		return SIOMMU_IOPF_QUEUED;
	}
	if (fs->pool_used == fs->pool_pages) {
		fs->failed++;
		run_print(ci->rc, "%s -> pool empty", line);
		return -ENOMEM;
	}
	pa = fs->pool_pa + (fs->pool_used << 12);
	/* f->dom is fs->cdom's domain; a revocation owner records the map too */
	ret = owned_map(fs->cdom, page, pa, 4096, fs->prot);
	if (ret) {
		fs->failed++;
		run_print(ci->rc, "%s -> map error %s", line, siommu_errname(ret));
		return ret;
	}
	fs->pool_used++;
	fs->resolved++;
	run_print(ci->rc, "%s -> mapped 0x%" PRIx64 " to pa=0x%" PRIx64, line, page, pa);
	return SIOMMU_IOPF_RESOLVED;
}

static const char *const fault_modes[] = { "none", "queue", "resolve", NULL };

static int verb_fault_handler(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_domain *cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);
	struct cli_fault *fs, *old;
	uint64_t pa = 0, pages = 0;
	unsigned int prot = SIOMMU_PT_READ | SIOMMU_PT_WRITE;
	int mode, ret;

	if (!cdom || run_arg_enum(rc, cmd, "mode", fault_modes, &mode))
		return RUN_EUSAGE;
	if (mode == 2) {
		if (run_arg_u64(rc, cmd, "pa", &pa) ||
		    run_arg_u64_opt(rc, cmd, "pages", &pages, 1) ||
		    run_arg_letters(rc, cmd, "prot", PROT_LETTERS, "rw", &prot))
			return RUN_EUSAGE;
		if (pa & 0xfff || pages == 0 || pages > (1u << 20) ||
		    pa + (pages << 12) - 1 < pa)
			return run_error(rc, cmd, "pa: 4 KiB aligned; pages: 1 to %u, not wrapping",
					 1u << 20);
	}
	if (mode == 0) {
		old = cdom->fault;
		/* waits for a grace period: then the handler is not running */
		ret = siommu_domain_set_fault_handler(cdom->dom, NULL, NULL);
		if (ret)
			return ret;
		cdom->fault = NULL;
		if (old) {
			run_result(rc, "queued", "%" PRIu64, old->queued);
			run_result(rc, "resolved", "%" PRIu64, old->resolved);
			run_result(rc, "failed", "%" PRIu64, old->failed);
		}
		free(old);
		return 0;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->cdom = cdom;
	fs->resolve = mode == 2;
	fs->pool_pa = pa;
	fs->pool_pages = pages;
	fs->prot = prot;
	ret = siommu_domain_set_fault_handler(cdom->dom, fault_handler, fs);
	if (ret) {
		free(fs);		/* -EBUSY: the installed one keeps its state */
		return ret;
	}
	cdom->fault = fs;
	return 0;
}

/* ------------------------------------------------------------------ revocation owner */

static void owner_revoke(void *opaque, struct siommu_domain *dom, uint64_t pa, uint64_t size)
{
	struct cli_domain *cdom = opaque;
	struct cli_owned **pp, *o;
	uint64_t last = pa + size - 1;
	int64_t n;

	run_print(cdom->ci->rc, "revoke-owner: %s pa=0x%" PRIx64 " size=0x%" PRIx64,
		  cdom->name, pa, size);
	for (pp = &cdom->owned; (o = *pp);) {
		if (o->pa > last || o->pa + o->size - 1 < pa) {
			pp = &o->next;
			continue;
		}
		n = siommu_domain_unmap(dom, o->iova, o->size);
		run_print(cdom->ci->rc, "revoke-owner: %s unmap iova=0x%" PRIx64
			  " size=0x%" PRIx64 " -> %s", cdom->name, o->iova, o->size,
			  n < 0 ? siommu_errname((int)n) : "ok");
		*pp = o->next;
		free(o);
	}
}

static int verb_revoke_owner(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_domain *cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);
	int ret;

	if (!cdom)
		return RUN_EUSAGE;
	ret = siommu_domain_set_revoke_owner(cdom->dom, owner_revoke, cdom);
	if (ret)
		return ret;
	cdom->owner = true;
	return 0;
}

/*
 * A map of an owned domain is recorded (the record allocated first, so
 * that a recorded map cannot fail half way).  The CLI is single-threaded:
 * the owner callback never runs concurrently with a map verb.
 */
static int owned_map(struct cli_domain *cdom, uint64_t iova, uint64_t pa, uint64_t size,
		     unsigned int prot)
{
	struct cli_owned *o;
	int ret;

	if (!cdom->owner)
		return siommu_domain_map(cdom->dom, iova, pa, size, prot);
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	ret = siommu_domain_map(cdom->dom, iova, pa, size, prot);
	if (ret) {
		free(o);
		return ret;
	}
	*o = (struct cli_owned){ .next = cdom->owned, .iova = iova, .pa = pa, .size = size };
	cdom->owned = o;
	return 0;
}

/* After an unmap of [iova, iova + size - 1]: drop the records it covers. */
static void owned_unmapped(struct cli_domain *cdom, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1, olast;
	struct cli_owned **pp, *o, *tail;

	for (pp = &cdom->owned; (o = *pp);) {
		olast = o->iova + o->size - 1;
		if (o->iova > last || olast < iova) {
			pp = &o->next;
			continue;
		}
		if (o->iova >= iova && olast <= last) {		/* all of it */
			*pp = o->next;
			free(o);
			continue;
		}
		if (o->iova < iova && olast > last) {		/* a hole: split */
			tail = calloc(1, sizeof(*tail));
			if (tail) {
				*tail = (struct cli_owned){ .next = o->next, .iova = last + 1,
					.pa = o->pa + (last + 1 - o->iova), .size = olast - last };
				o->next = tail;
			}
			/* without memory the record keeps the hole: unmapping it is harmless */
			if (tail)
				o->size = iova - o->iova;
		} else if (o->iova < iova) {			/* its tail */
			o->size = iova - o->iova;
		} else {					/* its head */
			o->pa += last + 1 - o->iova;
			o->size = olast - last;
			o->iova = last + 1;
		}
		pp = &o->next;
	}
}

/* ------------------------------------------------------------------ layers */

#define LAYER_TYPE	"layer"

static const char *const op_names[] = { "?", "attach", "replace", "detach" };

static void layer_log(struct cli_layer *cl, const char *step,
		      const struct siommu_attach_change *c, const char *outcome)
{
	struct cli_iommu *ci = cl->ci;

	run_print(ci->rc, "layer: %s %s %s dev=%s pasid=%u old=%s new=%s%s", cl->name, step,
		  c->op >= 1 && c->op <= 3 ? op_names[c->op] : "?", dev_name(ci, c->dev),
		  c->pasid, dom_name(ci, c->old_dom), dom_name(ci, c->new_dom), outcome);
}

static int layer_prepare(void *opaque, const struct siommu_attach_change *c)
{
	struct cli_layer *cl = opaque;
	char outcome[32] = "";

	if (cl->ci->teardown)
		return 0;
	if (cl->refuse)
		snprintf(outcome, sizeof(outcome), " -> %s", siommu_errname(cl->refuse));
	layer_log(cl, "prepare", c, outcome);
	return cl->refuse;
}

static void layer_commit(void *opaque, const struct siommu_attach_change *c)
{
	struct cli_layer *cl = opaque;

	if (!cl->ci->teardown)
		layer_log(cl, "commit", c, "");
}

static void layer_abort(void *opaque, const struct siommu_attach_change *c)
{
	struct cli_layer *cl = opaque;

	if (!cl->ci->teardown)
		layer_log(cl, "abort", c, "");
}

/* Clear (in the library too) and free what @cl set on @dev / @dom (both NULL: all). */
static void layer_drop_priv(struct cli_layer *cl, struct siommu_device *dev,
			    struct siommu_domain *dom)
{
	struct cli_priv **pp, *p;

	for (pp = &cl->privs; (p = *pp);) {
		if ((dev || dom) && (p->dev != dev || p->dom != dom)) {
			pp = &p->next;
			continue;
		}
		if (p->dev)
			siommu_device_set_priv(p->dev, cl->layer, NULL);
		else
			siommu_domain_set_priv(p->dom, cl->layer, NULL);
		*pp = p->next;
		free(p->val);
		free(p);
	}
}

static void layers_drop_priv(struct cli_iommu *ci, struct siommu_device *dev,
			     struct siommu_domain *dom)
{
	struct cli_layer *cl;

	for (cl = ci->layers; cl; cl = cl->next)
		layer_drop_priv(cl, dev, dom);
}

static void layer_free(struct cli_layer *cl)
{
	struct cli_layer **pp;

	for (pp = &cl->ci->layers; *pp; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	}
	free(cl->name);
	free(cl);
}

static void layer_obj_destroy(void *obj)
{
	struct cli_layer *cl = obj;

	layer_drop_priv(cl, NULL, NULL);
	if (siommu_layer_unregister(cl->layer)) {
		run_print(cl->ci->rc, "layer: left registered at the end of the run");
		return;
	}
	layer_free(cl);
}

static int verb_layer_register(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iommu *ci = run_obj_arg(rc, cmd, "iommu", IOMMU_TYPE);
	struct siommu_layer_ops ops = {
		.prepare = layer_prepare, .commit = layer_commit, .abort = layer_abort,
	};
	const char *name, *mode;
	struct cli_layer *cl;
	int refuse = 0, ret;

	if (!ci || run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_str_opt(rc, cmd, "mode", &mode, "ok"))
		return RUN_EUSAGE;
	if (!strcmp(mode, "refuse"))
		refuse = -EPERM;
	else if (!strncmp(mode, "refuse=", 7) &&
		 (siommu_errname_parse(mode + 7, &refuse) || refuse == 0))
		return run_error(rc, cmd, "mode: refuse=ERR takes an error name (EPERM, EBUSY, ...), got '%s'",
				 mode + 7);
	else if (strcmp(mode, "ok") && strncmp(mode, "refuse=", 7))
		return run_error(rc, cmd, "mode: ok, refuse or refuse=ERR, got '%s'", mode);
	if (run_obj_find(rc, LAYER_TYPE, name))
		return run_error(rc, cmd, "a %s named '%s' exists already", LAYER_TYPE, name);
	cl = calloc(1, sizeof(*cl));
	if (!cl || !(cl->name = strdup(name))) {
		free(cl);
		return -ENOMEM;
	}
	cl->ci = ci;
	cl->refuse = refuse;
	ops.name = cl->name;
	ret = siommu_layer_register(ci->iommu, &ops, cl, &cl->layer);
	if (ret) {
		free(cl->name);
		free(cl);
		return ret;
	}
	cl->next = ci->layers;
	ci->layers = cl;
	return run_obj_add(rc, cmd, LAYER_TYPE, name, cl, layer_obj_destroy);
}

static int layer_try_destroy(void *obj)
{
	struct cli_layer *cl = obj;
	int ret = siommu_layer_unregister(cl->layer);	/* -EBUSY: private data set */

	if (!ret)
		layer_free(cl);
	return ret;
}

static int verb_layer_unregister(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "layer", LAYER_TYPE, layer_try_destroy);
}

static int verb_layer_priv(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_layer *cl = run_obj_arg(rc, cmd, "layer", LAYER_TYPE);
	struct siommu_device *dev = NULL;
	struct siommu_domain *dom = NULL;
	struct cli_priv *p, **pp;
	const char *set = NULL;
	const char *cur;
	bool clear;
	int ret = 0;

	if (!cl || run_arg_str_opt(rc, cmd, "set", &set, NULL) ||
	    run_arg_bool_opt(rc, cmd, "clear", &clear, false))
		return RUN_EUSAGE;
	if (run_arg_has(cmd, "dev") == run_arg_has(cmd, "domain"))
		return run_error(rc, cmd, "layer-priv: give one of dev=DEV or domain=DOM");
	if (set && clear)
		return run_error(rc, cmd, "layer-priv: set= or clear=yes, not both");
	if (run_arg_has(cmd, "dev")) {
		struct cli_dev *cd = run_obj_arg(rc, cmd, "dev", DEV_TYPE);

		if (!cd)
			return RUN_EUSAGE;
		dev = cd->dev;
	} else {
		struct cli_domain *cdom = run_obj_arg(rc, cmd, "domain", DOMAIN_TYPE);

		if (!cdom)
			return RUN_EUSAGE;
		dom = cdom->dom;
	}
	for (pp = &cl->privs; *pp && ((*pp)->dev != dev || (*pp)->dom != dom); pp = &(*pp)->next)
		;
	if (set) {
		p = calloc(1, sizeof(*p));
		if (!p || !(p->val = strdup(set))) {
			free(p);
			return -ENOMEM;
		}
		p->dev = dev;
		p->dom = dom;
		ret = dev ? siommu_device_set_priv(dev, cl->layer, p->val) :
			    siommu_domain_set_priv(dom, cl->layer, p->val);
		if (ret) {		/* -EINVAL: a layer of another IOMMU */
			free(p->val);
			free(p);
			return ret;
		}
		if (*pp) {		/* replaced: free the old word */
			struct cli_priv *o = *pp;

			*pp = o->next;
			free(o->val);
			free(o);
		}
		p->next = cl->privs;
		cl->privs = p;
	} else if (clear) {
		ret = dev ? siommu_device_set_priv(dev, cl->layer, NULL) :
			    siommu_domain_set_priv(dom, cl->layer, NULL);
		if (ret)
			return ret;
		if (*pp) {
			p = *pp;
			*pp = p->next;
			free(p->val);
			free(p);
		}
	}
	cur = dev ? siommu_device_get_priv(dev, cl->layer) : siommu_domain_get_priv(dom, cl->layer);
	run_result(rc, "priv", "%s", cur ? cur : "none");
	return 0;
}

/* ------------------------------------------------------------------ translate, DMA */

static int verb_translate(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_dev *cd = run_obj_arg(rc, cmd, "dev", DEV_TYPE);
	struct siommu_translation t;
	unsigned int access;
	uint32_t pasid = SIOMMU_NO_PASID;
	uint64_t iova;
	int ret;

	if (!cd || arg_pasid(rc, cmd, &pasid) || run_arg_u64(rc, cmd, "iova", &iova) ||
	    run_arg_letters(rc, cmd, "access", ACCESS_LETTERS, "r", &access))
		return RUN_EUSAGE;
	ret = siommu_translate(cd->dev, pasid, iova, access, &t);
	if (ret)
		return ret;
	run_result(rc, "pa", "0x%" PRIx64, t.pa);
	run_result(rc, "size", "%s", run_pgsize_name((int)t.pgsize_lg2) ?: "?");
	run_result_letters(rc, "prot", PROT_LETTERS, t.prot);
	run_result(rc, "hit", "%s", t.iotlb_hit ? "yes" : "no");
	return 0;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* @n hex digits at @s (pairs, 1 to @max bytes) into @buf.  0 or RUN_EUSAGE. */
static int parse_hex(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		     const char *s, size_t n, uint8_t *buf, size_t max, size_t *len)
{
	size_t i;

	if (n == 0 || n % 2 || n / 2 > max)
		return run_error(rc, cmd, "%s: 1 to %zu bytes as pairs of hex digits", key, max);
	*len = n / 2;
	for (i = 0; i < *len; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return run_error(rc, cmd, "%s: '%c%c' is not a hex byte", key,
					 s[2 * i], s[2 * i + 1]);
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int verb_dma_write(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_dev *cd = run_obj_arg(rc, cmd, "dev", DEV_TYPE);
	static uint8_t buf[DATA_MAX];
	const char *data;
	uint64_t iova, fill, count;
	uint32_t pasid = SIOMMU_NO_PASID;
	size_t len;

	if (!cd || arg_pasid(rc, cmd, &pasid) || run_arg_u64(rc, cmd, "iova", &iova))
		return RUN_EUSAGE;
	if (!cd->ci->has_mem)
		return run_error(rc, cmd, "DMA needs an IOMMU created with mem=");
	if (run_arg_has(cmd, "fill")) {
		/* fill=B count=N: N bytes of value B */
		if (run_arg_u64(rc, cmd, "fill", &fill) || run_arg_u64(rc, cmd, "count", &count))
			return RUN_EUSAGE;
		if (fill > 0xff || count > DATA_MAX)
			return run_error(rc, cmd, "fill: a byte; count: at most %u", DATA_MAX);
		memset(buf, (int)fill, (size_t)count);
		return siommu_dma_write(cd->dev, pasid, iova, buf, (size_t)count);
	}
	if (run_arg_str(rc, cmd, "data", &data) ||
	    parse_hex(rc, cmd, "data", data, strlen(data), buf, DATA_MAX, &len))
		return RUN_EUSAGE;
	return siommu_dma_write(cd->dev, pasid, iova, buf, len);
}

static int verb_dma_read(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_dev *cd = run_obj_arg(rc, cmd, "dev", DEV_TYPE);
	static char hex[2 * 256 + 1];
	static uint8_t buf[DATA_MAX];
	uint64_t iova, len, sum = 0;
	uint32_t pasid = SIOMMU_NO_PASID;
	size_t i;
	int ret;

	if (!cd || arg_pasid(rc, cmd, &pasid) || run_arg_u64(rc, cmd, "iova", &iova) ||
	    run_arg_u64(rc, cmd, "len", &len))
		return RUN_EUSAGE;
	if (len > DATA_MAX)
		return run_error(rc, cmd, "len: at most %u bytes", DATA_MAX);
	if (!cd->ci->has_mem)
		return run_error(rc, cmd, "DMA needs an IOMMU created with mem=");
	ret = siommu_dma_read(cd->dev, pasid, iova, buf, (size_t)len);
	if (ret)
		return ret;
	if (len <= 256) {
		for (i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", buf[i]);
		hex[2 * len] = '\0';
		run_result(rc, "data", "%s", hex);
	} else {
		/* Long reads print a byte sum instead of the bytes. */
		for (i = 0; i < len; i++)
			sum += buf[i];
		run_result(rc, "bytes", "%" PRIu64, len);
		run_result(rc, "sum", "%" PRIu64, sum);
	}
	return 0;
}

/*
 * sg=IOVA:X[,IOVA:X...]: the list of a scatter-gather transfer, X being the
 * bytes in hex (write) or a length (read), into @sg with buffers carved from
 * @buf.  Returns the number of elements, or RUN_EUSAGE after reporting.
 */
static int parse_sg(struct run_ctx *rc, struct run_cmd *cmd, bool write,
		    struct siommu_dma_sg *sg, uint8_t *buf)
{
	const char *list, *p, *colon, *end;
	size_t used = 0, n = 0, len;
	char num[32];
	uint64_t v;

	if (run_arg_str(rc, cmd, "sg", &list))
		return RUN_EUSAGE;
	for (p = list; ; p = end + 1) {
		end = p + strcspn(p, ",");
		colon = memchr(p, ':', (size_t)(end - p));
		if (n == SG_MAX)
			return run_error(rc, cmd, "sg: at most %u elements", SG_MAX);
		if (!colon || (size_t)(colon - p) >= sizeof(num))
			return run_error(rc, cmd, "sg: elements are IOVA:%s, got '%.*s'",
					 write ? "HEX" : "LEN", (int)(end - p), p);
		snprintf(num, sizeof(num), "%.*s", (int)(colon - p), p);
		if (run_parse_u64(num, &sg[n].iova))
			return run_error(rc, cmd, "sg: '%s' is not an address", num);
		colon++;
		if (write) {
			if (parse_hex(rc, cmd, "sg", colon, (size_t)(end - colon), buf + used,
				      DATA_MAX - used, &len))
				return RUN_EUSAGE;
		} else {
			snprintf(num, sizeof(num), "%.*s", (int)(end - colon), colon);
			if ((size_t)(end - colon) >= sizeof(num) || run_parse_u64(num, &v) ||
			    v == 0 || v > 256 || v > DATA_MAX - used)
				return run_error(rc, cmd, "sg: a length is 1 to 256 bytes (%u in all), got '%.*s'",
						 DATA_MAX, (int)(end - colon), colon);
			len = (size_t)v;
		}
		sg[n].buf = buf + used;
		sg[n].len = len;
		used += len;
		n++;
		if (!*end)
			return (int)n;
	}
}

/* dev=DEV [pasid=N] sg=...: the arguments of both sg verbs; as parse_sg(). */
static int sg_args(struct run_ctx *rc, struct run_cmd *cmd, bool write, struct cli_dev **cd,
		   uint32_t *pasid, struct siommu_dma_sg *sg, uint8_t *buf)
{
	*cd = run_obj_arg(rc, cmd, "dev", DEV_TYPE);
	*pasid = SIOMMU_NO_PASID;
	if (!*cd || arg_pasid(rc, cmd, pasid))
		return RUN_EUSAGE;
	if (!(*cd)->ci->has_mem)
		return run_error(rc, cmd, "DMA needs an IOMMU created with mem=");
	return parse_sg(rc, cmd, write, sg, buf);
}

static int verb_dma_write_sg(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_dma_sg sg[SG_MAX];
	static uint8_t buf[DATA_MAX];
	struct cli_dev *cd;
	uint32_t pasid;
	int n = sg_args(rc, cmd, true, &cd, &pasid, sg, buf);

	if (n < 0)
		return RUN_EUSAGE;
	return siommu_dma_write_sg(cd->dev, pasid, sg, (size_t)n);
}

static int verb_dma_read_sg(struct run_ctx *rc, struct run_cmd *cmd)
{
	static char hex[2 * DATA_MAX + SG_MAX];
	struct siommu_dma_sg sg[SG_MAX];
	static uint8_t buf[DATA_MAX];
	struct cli_dev *cd;
	uint32_t pasid;
	size_t i, o = 0;
	int n, e, ret;

	n = sg_args(rc, cmd, false, &cd, &pasid, sg, buf);
	if (n < 0)
		return RUN_EUSAGE;
	ret = siommu_dma_read_sg(cd->dev, pasid, sg, (size_t)n);
	if (ret)
		return ret;
	/* the elements' bytes in hex, separated by commas */
	for (e = 0; e < n; e++) {
		if (e)
			hex[o++] = ',';
		for (i = 0; i < sg[e].len; i++, o += 2)
			snprintf(hex + o, 3, "%02x", ((uint8_t *)sg[e].buf)[i]);
	}
	hex[o] = '\0';
	run_result(rc, "data", "%s", hex);
	return 0;
}

const struct run_verb run_verbs_core[] = {
	{ "iommu-create",
	  "iommu-create name=NAME [mem=MEM] [ias=48] [oas=52] [pgsizes=4K,2M,1G] [pasid-bits=0] [iotlb=2048] [ways=4] [fault-log=256] [fault-rate=100] [prq=256]",
	  "create an IOMMU (DMA through the memory map MEM, or host addresses)", verb_iommu_create },
	{ "iommu-destroy", "iommu-destroy iommu=NAME",
	  "destroy an IOMMU (EBUSY while devices or domains live)", verb_iommu_destroy },
	{ "iommu-info", "iommu-info iommu=NAME", "the IOMMU's capabilities", verb_iommu_info },
	{ "iommu-stats", "iommu-stats iommu=NAME",
	  "translations, IOTLB hits, walks, faults by reason, DMA, unmaps, flush-queue batches, recoverable faults",
	  verb_iommu_stats },
	{ "fault-log", "fault-log iommu=NAME [max=64]",
	  "take the fault records, oldest first, one line each", verb_fault_log },
	{ "dev-create",
	  "dev-create iommu=NAME name=DEV rid=N [pasid=no] [pasid-bits=20] [pri=no] [ats=no] [prg-resp-pasid=no]",
	  "add a device with requester id N (bus << 8 | dev << 3 | fn)", verb_dev_create },
	{ "dev-destroy", "dev-destroy dev=DEV", "remove a device (EBUSY while attached)",
	  verb_dev_destroy },
	{ "dev-info", "dev-info dev=DEV", "a device's id, capabilities and attachments",
	  verb_dev_info },
	{ "dev-find", "dev-find iommu=NAME rid=N", "the device with a requester id, if any",
	  verb_dev_find },
	{ "dev-domain", "dev-domain dev=DEV [pasid=N]",
	  "the domain a device (or device+PASID) is attached to, - for none", verb_dev_domain },
	{ "dev-attachments", "dev-attachments dev=DEV",
	  "the device's attachments, one line each: its own (pasid=0) first, then PASIDs ascending",
	  verb_dev_attachments },
	{ "domain-create",
	  "domain-create iommu=NAME name=DOM [type=paging] [fmt=x86-64] [levels=0] [dirty=no] [exec=no] [mode=strict] [fq-batch=256] [fq-timeout-ms=10] [table-base=0x10000000] [pt=PT]",
	  "create a blocked, identity or paging domain (pt=: over a pt-create table, which then outlives it)",
	  verb_domain_create },
	{ "domain-destroy", "domain-destroy domain=DOM", "destroy a domain (EBUSY while attached)",
	  verb_domain_destroy },
	{ "domain-info", "domain-info domain=DOM", "type, domain id, width, mode, users, queued unmaps",
	  verb_domain_info },
	{ "domain-map", "domain-map domain=DOM iova=N pa=N size=N [prot=rw]",
	  "map a range in a paging domain", verb_map },
	{ "domain-unmap", "domain-unmap domain=DOM iova=N size=N",
	  "unmap (strict: invalidate and wait; lazy: queue)", verb_unmap },
	{ "domain-flush", "domain-flush domain=DOM", "drain a lazy domain's flush queue", verb_flush },
	{ "domain-invalidate", "domain-invalidate domain=DOM iova=N size=N [wait=no]",
	  "drop the IOTLB's translations of a range (wait=yes: and a grace period)",
	  verb_invalidate },
	{ "domain-dma-map", "domain-dma-map domain=DOM pa=N size=N [limit=N] [prot=rw]",
	  "map at an IOVA allocated from the domain's space (printed)", verb_dma_map },
	{ "domain-dma-unmap", "domain-dma-unmap domain=DOM iova=N size=N",
	  "unmap a domain-dma-map and release its IOVA (lazy: at the drain)", verb_dma_unmap },
	{ "attach", "attach dev=DEV domain=DOM [pasid=N]", "attach a device (or device+PASID)",
	  verb_attach },
	{ "replace", "replace dev=DEV domain=DOM [pasid=N]", "switch an attachment in one step",
	  verb_replace },
	{ "detach", "detach dev=DEV [pasid=N]", "detach a device (or device+PASID)", verb_detach },
	{ "layer-register", "layer-register iommu=NAME name=LAYER [mode=ok|refuse|refuse=ERR]",
	  "register a layer that prints its prepare, commit and abort steps (refuse: every prepare fails)",
	  verb_layer_register },
	{ "layer-unregister", "layer-unregister layer=LAYER",
	  "unregister a layer (EBUSY while its private data is set)", verb_layer_unregister },
	{ "layer-priv", "layer-priv layer=LAYER dev=DEV|domain=DOM [set=WORD] [clear=yes]",
	  "set or clear a layer's private data on a device or domain; prints it", verb_layer_priv },
	{ "domain-fault-handler",
	  "domain-fault-handler domain=DOM mode=queue|resolve|none [pa=N] [pages=1] [prot=rw]",
	  "install a recoverable-fault handler (queue: DMA gets EAGAIN; resolve: map the page from the pool at pa=) or remove it",
	  verb_fault_handler },
	{ "domain-revoke-owner", "domain-revoke-owner domain=DOM",
	  "the CLI owns the domain's mappings: it records domain-map and unmaps them at a revoke",
	  verb_revoke_owner },
	{ "translate", "translate dev=DEV iova=N [pasid=N] [access=r]",
	  "translate a request (access letters r w x p): address, page size, permissions, IOTLB hit",
	  verb_translate },
	{ "dma-write", "dma-write dev=DEV iova=N [pasid=N] data=HEX | fill=B count=N",
	  "device write through the IOMMU", verb_dma_write },
	{ "dma-read", "dma-read dev=DEV iova=N len=N [pasid=N]",
	  "device read through the IOMMU (hex, or a byte sum above 256 bytes)", verb_dma_read },
	{ "dma-write-sg", "dma-write-sg dev=DEV [pasid=N] sg=IOVA:HEX[,IOVA:HEX...]",
	  "scatter-gather write of up to 16 elements, in order; stops at the first fault",
	  verb_dma_write_sg },
	{ "dma-read-sg", "dma-read-sg dev=DEV [pasid=N] sg=IOVA:LEN[,IOVA:LEN...]",
	  "scatter-gather read (each element 1 to 256 bytes): data=HEX,HEX...", verb_dma_read_sg },
	{ NULL, NULL, NULL, NULL },
};
