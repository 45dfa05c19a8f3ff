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
 * The PASIDs to detach are those attach/replace attached in this run, kept
 * in struct cli_dev (pasids[], see do_attach() and dev_detach_all()): the
 * core does not enumerate a device's attachments yet.
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
#define CLI_PASIDS	64		/* PASIDs a device may have attached in a run */
#define DATA_MAX	4096u
#define FAULTS_MAX	64u
#define SG_MAX		16u		/* scatter-gather list elements */

struct cli_dev;

struct cli_iommu {
	struct siommu_iommu *iommu;
	bool has_mem;
	struct cli_dev *devs;
	struct run_ctx *rc;
};

struct cli_dev {
	struct cli_dev *next;
	struct cli_iommu *ci;
	struct siommu_device *dev;
	char *name;			/* its object name, for dev-find */
	/*
	 * The PASIDs attached through this run's verbs, to detach them at the
	 * end (the core has no enumeration of a device's attachments yet).
	 */
	uint32_t pasids[CLI_PASIDS];
	unsigned int npasids;
};

struct cli_domain {
	struct cli_iommu *ci;
	struct siommu_domain *dom;
	void *pt_obj;			/* the pt-create table it translates through, or NULL */
};

static const char *const mode_names[] = { "strict", "lazy", NULL };

struct siommu_domain *run_domain_of(void *obj)
{
	return ((struct cli_domain *)obj)->dom;
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

static void dev_detach_all(struct cli_dev *cd, struct siommu_domain *only)
{
	unsigned int i;

	if (siommu_device_domain(cd->dev, SIOMMU_NO_PASID) &&
	    (!only || siommu_device_domain(cd->dev, SIOMMU_NO_PASID) == only))
		siommu_device_detach(cd->dev);
	for (i = 0; i < cd->npasids;) {
		if (!only || siommu_device_domain(cd->dev, cd->pasids[i]) == only) {
			siommu_pasid_detach(cd->dev, cd->pasids[i]);
			cd->pasids[i] = cd->pasids[--cd->npasids];
		} else {
			i++;
		}
	}
}

static void dev_obj_destroy(void *obj)
{
	struct cli_dev *cd = obj;

	dev_detach_all(cd, NULL);
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

/* ------------------------------------------------------------------ domains */

static void domain_obj_destroy(void *obj)
{
	struct cli_domain *cdom = obj;
	struct cli_dev *cd;

	for (cd = cdom->ci->devs; cd; cd = cd->next)
		dev_detach_all(cd, cdom->dom);
	if (siommu_domain_destroy(cdom->dom)) {
		run_print(cdom->ci->rc, "domain: left busy at the end of the run");
	} else if (cdom->pt_obj) {
		run_pt_users(cdom->pt_obj, -1);
	}
	free(cdom);
}

static int verb_domain_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_iommu *ci = run_obj_arg(rc, cmd, "iommu", IOMMU_TYPE);
	struct siommu_domain_cfg cfg = { 0 };
	struct cli_domain *cdom;
	const char *name, *fmt, *type;
	uint64_t levels, batch, ms, base;
	void *pt_obj = NULL;
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
	ret = siommu_domain_create(ci->iommu, &cfg, &cdom->dom);
	if (ret) {
		free(cdom);
		return ret;
	}
	cdom->pt_obj = pt_obj;
	if (pt_obj)
		run_pt_users(pt_obj, 1);
	return run_obj_add(rc, cmd, DOMAIN_TYPE, name, cdom, domain_obj_destroy);
}

static int domain_try_destroy(void *obj)
{
	struct cli_domain *cdom = obj;
	int ret = siommu_domain_destroy(cdom->dom);

	if (ret)
		return ret;
	if (cdom->pt_obj)
		run_pt_users(cdom->pt_obj, -1);
	free(cdom);
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
	return siommu_domain_map(cdom->dom, iova, pa, size, prot);
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

static int pasid_track(struct run_ctx *rc, struct run_cmd *cmd, struct cli_dev *cd,
		       uint32_t pasid)
{
	unsigned int i;

	for (i = 0; i < cd->npasids; i++)
		if (cd->pasids[i] == pasid)
			return 0;
	if (cd->npasids == CLI_PASIDS)
		return run_error(rc, cmd, "at most %u attached PASIDs per device in a run",
				 CLI_PASIDS);
	return 0;
}

enum { OP_ATTACH, OP_REPLACE, OP_DETACH };

static int do_attach(struct run_ctx *rc, struct run_cmd *cmd, int op)
{
	struct cli_dev *cd = run_obj_arg(rc, cmd, "dev", DEV_TYPE);
	struct cli_domain *cdom = NULL;
	uint32_t pasid = SIOMMU_NO_PASID;
	unsigned int i;
	int ret;

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
	if (op != OP_DETACH && pasid_track(rc, cmd, cd, pasid))
		return RUN_EUSAGE;
	if (op == OP_ATTACH)
		ret = siommu_pasid_attach(cd->dev, pasid, cdom->dom);
	else if (op == OP_REPLACE)
		ret = siommu_pasid_replace(cd->dev, pasid, cdom->dom);
	else
		ret = siommu_pasid_detach(cd->dev, pasid);
	if (ret)
		return ret;
	for (i = 0; i < cd->npasids && cd->pasids[i] != pasid; i++)
		;
	if (op == OP_DETACH && i < cd->npasids)
		cd->pasids[i] = cd->pasids[--cd->npasids];
	else if (op != OP_DETACH && i == cd->npasids)
		cd->pasids[cd->npasids++] = pasid;
	return 0;
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
	  "iommu-create name=NAME [mem=MEM] [ias=48] [oas=52] [pgsizes=4K,2M,1G] [pasid-bits=0] [iotlb=512] [ways=4] [fault-log=256] [fault-rate=100] [prq=256]",
	  "create an IOMMU (DMA through the memory map MEM, or host addresses)", verb_iommu_create },
	{ "iommu-destroy", "iommu-destroy iommu=NAME",
	  "destroy an IOMMU (EBUSY while devices or domains live)", verb_iommu_destroy },
	{ "iommu-info", "iommu-info iommu=NAME", "the IOMMU's capabilities", verb_iommu_info },
	{ "iommu-stats", "iommu-stats iommu=NAME",
	  "translations, IOTLB hits, walks, faults by reason, DMA, unmaps, flush-queue batches",
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
