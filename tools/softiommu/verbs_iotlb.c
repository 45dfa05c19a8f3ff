// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Run-language verbs of the IOTLB: create, look up, insert (with the
 * stale-insert sequence made visible), invalidate by range, PASID, domain
 * and everything, statistics and a dump.
 *
 * Sizes and page sizes take the language's suffixes (4K, 2M, 1G).  `dom`
 * and `pasid` take a number, or `any` where the library accepts a wildcard.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/iotlb.h>

#include "run.h"

#define TLB_TYPE	"iotlb"
#define SEQ_TYPE	"iotlb-seq"

static void tlb_destroy(void *obj)
{
	siommu_iotlb_destroy(obj);
}

/* A domain id or PASID: a number below 2^32, or `any` when @any_ok. */
static int arg_id(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		  uint32_t *v, bool required, uint32_t def, bool any_ok)
{
	const char *s;
	uint64_t n;

	if (!run_arg_has(cmd, key)) {
		if (required)
			return run_error(rc, cmd, "%s: missing %s=", cmd->verb, key);
		*v = def;
		return 0;
	}
	run_arg_str(rc, cmd, key, &s);
	if (!strcmp(s, "any")) {
		if (!any_ok)
			return run_error(rc, cmd, "%s: 'any' is not accepted here", key);
		*v = UINT32_MAX;	/* SIOMMU_IOTLB_DOMID_ANY == SIOMMU_IOTLB_PASID_ANY */
		return 0;
	}
	if (run_parse_u64(s, &n) || n >= UINT32_MAX)
		return run_error(rc, cmd, "%s: expected a number below 0xffffffff%s, got '%s'",
				 key, any_ok ? " or 'any'" : "", s);
	*v = (uint32_t)n;
	return 0;
}


static int verb_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iotlb_config cfg;
	struct siommu_iotlb_stats st;
	struct siommu_iotlb *tlb;
	uint64_t capacity, ways;
	const char *name;
	int ret;

	if (run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_u64_opt(rc, cmd, "capacity", &capacity, 0) ||
	    run_arg_u64_opt(rc, cmd, "ways", &ways, 0))
		return RUN_EUSAGE;
	if (capacity > UINT32_MAX || ways > UINT32_MAX)
		return run_error(rc, cmd, "capacity and ways must fit in 32 bits");
	cfg.capacity = (uint32_t)capacity;
	cfg.ways = (uint32_t)ways;
	ret = siommu_iotlb_create(run_siommu(rc), &cfg, &tlb);
	if (ret)
		return ret;
	siommu_iotlb_get_stats(tlb, &st);
	if (run_obj_add(rc, cmd, TLB_TYPE, name, tlb, tlb_destroy))
		return RUN_EUSAGE;
	run_result(rc, "capacity", "%u", st.capacity);
	run_result(rc, "ways", "%u", st.ways);
	return 0;
}

static int tlb_try_destroy(void *obj)
{
	siommu_iotlb_destroy(obj);	/* cannot fail */
	return 0;
}

static int verb_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "tlb", TLB_TYPE, tlb_try_destroy);
}

static int verb_lookup(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iotlb *tlb = run_obj_arg(rc, cmd, "tlb", TLB_TYPE);
	struct siommu_iotlb_entry e;
	uint32_t dom, pasid;
	uint64_t iova;
	int ret;

	if (!tlb || arg_id(rc, cmd, "dom", &dom, true, 0, false) ||
	    arg_id(rc, cmd, "pasid", &pasid, false, 0, false) ||
	    run_arg_u64(rc, cmd, "iova", &iova))
		return RUN_EUSAGE;
	ret = siommu_iotlb_lookup(tlb, dom, pasid, iova, &e);
	if (ret == -ENOENT) {
		run_result(rc, "hit", "no");
		return 0;
	}
	if (ret)
		return ret;
	run_result(rc, "hit", "yes");
	run_result(rc, "addr", "0x%" PRIx64, e.addr + (iova - e.iova));
	run_result(rc, "page", "0x%" PRIx64, e.iova);
	run_result(rc, "size", "%s", run_pgsize_name((int)e.size_lg2) ?: "?");
	run_result(rc, "prot", "0x%x", e.prot);
	return 0;
}

static int verb_seq(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iotlb *tlb = run_obj_arg(rc, cmd, "tlb", TLB_TYPE);
	struct siommu_iotlb_seq *seq;
	uint32_t dom, pasid;
	const char *name;
	uint64_t iova;
	int ret;

	if (!tlb || run_arg_str(rc, cmd, "name", &name) ||
	    arg_id(rc, cmd, "dom", &dom, true, 0, false) ||
	    arg_id(rc, cmd, "pasid", &pasid, false, 0, false) ||
	    run_arg_u64(rc, cmd, "iova", &iova))
		return RUN_EUSAGE;
	seq = calloc(1, sizeof(*seq));
	if (!seq)
		return -ENOMEM;
	ret = siommu_iotlb_seq_begin(tlb, dom, pasid, iova, seq);
	if (ret) {
		free(seq);
		return ret;
	}
	if (run_obj_add(rc, cmd, SEQ_TYPE, name, seq, free))
		return RUN_EUSAGE;
	return 0;
}

static int verb_insert(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iotlb *tlb = run_obj_arg(rc, cmd, "tlb", TLB_TYPE);
	struct siommu_iotlb_stats before, after;
	struct siommu_iotlb_seq fresh, *seq = &fresh;
	struct siommu_iotlb_entry e;
	uint64_t size, prot;
	uint32_t dom, pasid;
	int ret;

	if (!tlb || arg_id(rc, cmd, "dom", &dom, true, 0, false) ||
	    arg_id(rc, cmd, "pasid", &pasid, false, 0, false) ||
	    run_arg_u64(rc, cmd, "iova", &e.iova) ||
	    run_arg_u64(rc, cmd, "addr", &e.addr) ||
	    run_arg_u64_opt(rc, cmd, "size", &size, 4096) ||
	    run_arg_u64_opt(rc, cmd, "prot", &prot, 3))
		return RUN_EUSAGE;
	if (size != 1ull << 12 && size != 1ull << 21 && size != 1ull << 30)
		return run_error(rc, cmd, "size: a page size is 4K, 2M or 1G");
	if (prot > UINT32_MAX)
		return run_error(rc, cmd, "prot: must fit in 32 bits");
	e.size_lg2 = (unsigned int)__builtin_ctzll(size);
	e.prot = (unsigned int)prot;
	if (run_arg_has(cmd, "seq")) {
		seq = run_obj_arg(rc, cmd, "seq", SEQ_TYPE);
		if (!seq)
			return RUN_EUSAGE;
	} else {
		/* No walk in between: a fresh sequence. */
		ret = siommu_iotlb_seq_begin(tlb, dom, pasid, e.iova, &fresh);
		if (ret)
			return ret;
	}
	siommu_iotlb_get_stats(tlb, &before);
	ret = siommu_iotlb_insert(tlb, dom, pasid, &e, seq);
	if (ret)
		return ret;
	siommu_iotlb_get_stats(tlb, &after);
	run_result(rc, "evicted", "%s", after.evictions != before.evictions ? "yes" : "no");
	return 0;
}

/* Run one invalidation and report how many entries it removed. */
static int inv_report(struct run_ctx *rc, struct siommu_iotlb *tlb, int ret,
		      const struct siommu_iotlb_stats *before)
{
	struct siommu_iotlb_stats after;

	if (ret)
		return ret;
	siommu_iotlb_get_stats(tlb, &after);
	run_result(rc, "removed", "%" PRIu64, after.inv_entries - before->inv_entries);
	return 0;
}

static int verb_inv_range(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iotlb *tlb = run_obj_arg(rc, cmd, "tlb", TLB_TYPE);
	struct siommu_iotlb_stats before;
	uint64_t iova, size;
	uint32_t dom, pasid;

	if (!tlb || arg_id(rc, cmd, "dom", &dom, true, 0, false) ||
	    arg_id(rc, cmd, "pasid", &pasid, false, 0, true) ||
	    run_arg_u64(rc, cmd, "iova", &iova) ||
	    run_arg_u64(rc, cmd, "size", &size))
		return RUN_EUSAGE;
	siommu_iotlb_get_stats(tlb, &before);
	return inv_report(rc, tlb, siommu_iotlb_inv_range(tlb, dom, pasid, iova, size),
			  &before);
}

static int verb_inv_pasid(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iotlb *tlb = run_obj_arg(rc, cmd, "tlb", TLB_TYPE);
	struct siommu_iotlb_stats before;
	uint32_t dom, pasid;

	if (!tlb || arg_id(rc, cmd, "dom", &dom, false, SIOMMU_IOTLB_DOMID_ANY, true) ||
	    arg_id(rc, cmd, "pasid", &pasid, true, 0, false))
		return RUN_EUSAGE;
	siommu_iotlb_get_stats(tlb, &before);
	return inv_report(rc, tlb, siommu_iotlb_inv_pasid(tlb, dom, pasid), &before);
}

static int verb_inv_domain(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iotlb *tlb = run_obj_arg(rc, cmd, "tlb", TLB_TYPE);
	struct siommu_iotlb_stats before;
	uint32_t dom;

	if (!tlb || arg_id(rc, cmd, "dom", &dom, true, 0, false))
		return RUN_EUSAGE;
	siommu_iotlb_get_stats(tlb, &before);
	return inv_report(rc, tlb, siommu_iotlb_inv_domain(tlb, dom), &before);
}

static int verb_inv_all(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iotlb *tlb = run_obj_arg(rc, cmd, "tlb", TLB_TYPE);
	struct siommu_iotlb_stats before;

	if (!tlb)
		return RUN_EUSAGE;
	siommu_iotlb_get_stats(tlb, &before);
	return inv_report(rc, tlb, siommu_iotlb_inv_all(tlb), &before);
}

static int verb_stats(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iotlb *tlb = run_obj_arg(rc, cmd, "tlb", TLB_TYPE);
	struct siommu_iotlb_stats st;
	int ret;

	if (!tlb)
		return RUN_EUSAGE;
	ret = siommu_iotlb_get_stats(tlb, &st);
	if (ret)
		return ret;
	run_result(rc, "hits", "%" PRIu64, st.hits);
	run_result(rc, "misses", "%" PRIu64, st.misses);
	run_result(rc, "inserts", "%" PRIu64, st.inserts);
	run_result(rc, "stale", "%" PRIu64, st.insert_stale);
	run_result(rc, "evictions", "%" PRIu64, st.evictions);
	run_result(rc, "invalidations", "%" PRIu64, st.invalidations);
	run_result(rc, "removed", "%" PRIu64, st.inv_entries);
	return 0;
}

struct dump_arg {
	struct run_ctx *rc;
	unsigned int n;
};

static int dump_fn(void *opaque, uint32_t dom, uint32_t pasid,
		   const struct siommu_iotlb_entry *e)
{
	struct dump_arg *a = opaque;

	run_print(a->rc, "  dom=%" PRIu32 " pasid=%" PRIu32 " iova=0x%" PRIx64
		  " size=%s addr=0x%" PRIx64 " prot=0x%x",
		  dom, pasid, e->iova, run_pgsize_name((int)e->size_lg2) ?: "?", e->addr, e->prot);
	a->n++;
	return 0;
}

static int verb_dump(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iotlb *tlb = run_obj_arg(rc, cmd, "tlb", TLB_TYPE);
	struct dump_arg a = { .rc = rc };
	int ret;

	if (!tlb)
		return RUN_EUSAGE;
	ret = siommu_iotlb_for_each(tlb, dump_fn, &a);
	if (ret)
		return ret;
	run_result(rc, "entries", "%u", a.n);
	return 0;
}

const struct run_verb run_verbs_iotlb[] = {
	{ "iotlb-create", "iotlb-create name=NAME [capacity=512] [ways=4]",
	  "create an IOTLB (capacity and ways powers of two)", verb_create },
	{ "iotlb-destroy", "iotlb-destroy tlb=NAME", "destroy an IOTLB", verb_destroy },
	{ "iotlb-lookup", "iotlb-lookup tlb=NAME dom=N [pasid=0] iova=N",
	  "look up IOVA: hit=yes with its address, page, size and prot, or hit=no",
	  verb_lookup },
	{ "iotlb-seq", "iotlb-seq tlb=NAME name=SEQ dom=N [pasid=0] iova=N",
	  "take an invalidation sequence before a page-table walk, for iotlb-insert seq=",
	  verb_seq },
	{ "iotlb-insert",
	  "iotlb-insert tlb=NAME dom=N [pasid=0] iova=N addr=N [size=4K|2M|1G] [prot=3] [seq=SEQ]",
	  "cache a translation (EAGAIN if an invalidation ran since SEQ); says if it evicted one",
	  verb_insert },
	{ "iotlb-inv-range", "iotlb-inv-range tlb=NAME dom=N [pasid=0|any] iova=N size=N",
	  "invalidate every page overlapping the range, whatever its size", verb_inv_range },
	{ "iotlb-inv-pasid", "iotlb-inv-pasid tlb=NAME [dom=any|N] pasid=N",
	  "invalidate a PASID in one domain or in all", verb_inv_pasid },
	{ "iotlb-inv-domain", "iotlb-inv-domain tlb=NAME dom=N",
	  "invalidate a domain", verb_inv_domain },
	{ "iotlb-inv-all", "iotlb-inv-all tlb=NAME", "invalidate everything", verb_inv_all },
	{ "iotlb-stats", "iotlb-stats tlb=NAME",
	  "hits, misses, inserts, stale inserts refused, evictions, invalidations, entries removed",
	  verb_stats },
	{ "iotlb-dump", "iotlb-dump tlb=NAME",
	  "list the cached entries in set and way order", verb_dump },
	{ NULL, NULL, NULL, NULL },
};
