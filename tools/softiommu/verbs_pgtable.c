// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Run-language verbs of the I/O page tables: create a table in a format,
 * map, unmap (into the table's own gather), sync the gather (printing the
 * invalidation it asks for), translate, walk the raw entries, level lookup
 * and the invalidation sequence, dirty bitmaps, accounting and the dump in
 * the layout of Linux's Intel debugfs.
 *
 * The walker verbs (iova-to-phys, translate, walk, level, seq, dirty, info,
 * dump) also read a paging domain's own table: domain=DOM instead of pt=
 * (siommu_domain_pt()).  pt-dirty on a domain drops the cleared range from
 * the domain's IOTLB, so that the next write walks and sets the dirty bit
 * again.  Map and unmap of a domain go through the domain verbs.
 *
 * A table made with pt-create may be held (pt-hold, siommu_pt_hold(): the
 * CLI counts its own holds to drop them at the end of the run; the library
 * counts every user, domains included, and refuses pt-destroy with EBUSY)
 * and bracketed by pt-invalidate-begin/end as a caller that changes it
 * directly does (the CLI keeps the open brackets, to refuse an end that
 * matches no begin and to end them at the end of the run).
 *
 * Table pages get physical addresses from phys_base (default 0x10000000) so
 * that entries and dumps are the same on every run; phys_base=host uses
 * their host addresses instead.  `prot` is a string of letters: r (read),
 * w (write), c (cache/snoop), n (no-execute), m (MMIO), p (privileged).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/core.h>
#include <softiommu/pgtable.h>

#include "run.h"
#include "verbs.h"

/* SIOMMU_PT_* bits and SIOMMU_PT_ACC_* bits, in order */
#define PROT_LETTERS	"rwcnmp"
#define ACCESS_LETTERS	"rwxp"

#define PT_TYPE		RUN_PT_TYPE
#define PT_CLI_PHYS	0x10000000ull
#define PT_MAX_BITS	4096
#define PT_MAX_INVAL	16		/* open pt-invalidate-begin brackets per table */

struct run_pt {
	struct siommu_pt *pt;
	struct siommu_pt_gather g;	/* what pt-unmap and pt-dirty left to sync */
	uint64_t holds;			/* pt-hold calls not yet dropped by pt-unhold */
	struct {
		uint64_t iova, size;
	} inval[PT_MAX_INVAL];		/* open pt-invalidate-begin brackets */
	unsigned int ninval;
	struct run_ctx *rc;
};

struct siommu_pt *run_pt_of(void *obj)
{
	return ((struct run_pt *)obj)->pt;
}

static void pt_obj_destroy(void *obj)
{
	struct run_pt *p = obj;

	while (p->ninval) {
		p->ninval--;
		siommu_pt_invalidate_end(p->pt, p->inval[p->ninval].iova,
					 p->inval[p->ninval].size);
	}
	for (; p->holds; p->holds--)
		siommu_pt_unhold(p->pt);
	siommu_pt_gather_sync(&p->g, NULL, NULL, SIOMMU_PT_SYNC_WAIT);
	if (siommu_pt_destroy(p->pt)) {
		/* a domain outlived its table's object: keep the table alive */
		run_print(p->rc, "pt: left in use by a domain at the end of the run");
		return;
	}
	free(p);
}

/*
 * The table a walker verb reads: pt=NAME (a pt-create table) or domain=DOM
 * (a paging domain's own table, siommu_domain_pt()).  *@own is the pt-create
 * object, NULL for a domain's table; *@dom the domain, NULL for pt=.
 * Returns the table, or NULL after reporting.
 */
static struct siommu_pt *pt_target(struct run_ctx *rc, struct run_cmd *cmd,
				   struct run_pt **own, struct siommu_domain **dom)
{
	struct siommu_pt *pt;
	void *obj;

	*own = NULL;
	*dom = NULL;
	if (run_arg_has(cmd, "pt") == run_arg_has(cmd, "domain")) {
		run_error(rc, cmd, "%s: give one of pt=NAME or domain=DOM", cmd->verb);
		return NULL;
	}
	if (run_arg_has(cmd, "pt")) {
		*own = run_obj_arg(rc, cmd, "pt", RUN_PT_TYPE);
		return *own ? (*own)->pt : NULL;
	}
	obj = run_obj_arg(rc, cmd, "domain", RUN_DOMAIN_TYPE);
	if (!obj)
		return NULL;
	*dom = run_domain_of(obj);
	pt = siommu_domain_pt(*dom);
	if (!pt) {
		struct siommu_domain_info info = { 0 };
		const char *name;

		siommu_domain_get_info(*dom, &info);
		run_arg_str(rc, cmd, "domain", &name);
		run_error(rc, cmd, "domain: '%s' is %s domain: it has no page table", name,
			  info.type == SIOMMU_DOMAIN_IDENTITY ? "an identity" : "a blocked");
	}
	return pt;
}




static const char *const fmt_names[] = { "x86-64", "vtd-ss", "arm-lpae-s1", NULL };
static const enum siommu_pt_fmt fmt_values[] = {
	SIOMMU_PT_FMT_X86_64, SIOMMU_PT_FMT_VTD_SS, SIOMMU_PT_FMT_ARM_LPAE_S1,
};

static int verb_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_pt_cfg cfg = { 0 };
	struct siommu_pt_info info;
	uint64_t levels, oas, pages;
	const char *name, *base;
	bool dirty, exec, linux_pt;
	struct run_pt *p;
	int fmt, ret;

	if (run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_enum(rc, cmd, "fmt", fmt_names, &fmt) ||
	    run_arg_u64_opt(rc, cmd, "levels", &levels, 0) ||
	    run_arg_u64_opt(rc, cmd, "oas", &oas, 0) ||
	    run_arg_u64_opt(rc, cmd, "max_pages", &pages, 0) ||
	    run_arg_bool_opt(rc, cmd, "dirty", &dirty, false) ||
	    run_arg_bool_opt(rc, cmd, "exec", &exec, false) ||
	    run_arg_bool_opt(rc, cmd, "linux", &linux_pt, false) ||
	    run_arg_str_opt(rc, cmd, "phys_base", &base, NULL) ||
	    run_arg_pgsizes(rc, cmd, "pgsizes", &cfg.pgsize_bitmap))
		return RUN_EUSAGE;
	if (levels > 16 || oas > 64)
		return run_error(rc, cmd, "levels/oas out of range");
	cfg.fmt = fmt_values[fmt];
	cfg.levels = (unsigned int)levels;
	cfg.oas_lg2 = (unsigned int)oas;
	cfg.max_table_pages = pages ? pages : 65536;
	cfg.flags = (dirty ? SIOMMU_PT_F_DIRTY : 0) | (exec ? SIOMMU_PT_F_EXEC : 0) |
		    (linux_pt ? SIOMMU_PT_F_LINUX : 0);
	if (!base)
		cfg.table_phys_base = PT_CLI_PHYS;
	else if (strcmp(base, "host") && run_parse_u64(base, &cfg.table_phys_base))
		return run_error(rc, cmd, "phys_base: a number or 'host', got '%s'", base);

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->rc = rc;
	siommu_pt_gather_init(&p->g);
	ret = siommu_pt_create(run_siommu(rc), &cfg, &p->pt);
	if (ret) {
		free(p);
		return ret;
	}
	siommu_pt_get_info(p->pt, &info);
	if (run_obj_add(rc, cmd, PT_TYPE, name, p, pt_obj_destroy))
		return RUN_EUSAGE;
	run_result(rc, "levels", "%u", info.levels);
	run_result(rc, "ias", "%u", info.ias_lg2);
	run_result(rc, "oas", "%u", info.oas_lg2);
	if (!base || strcmp(base, "host"))
		run_result(rc, "root", "0x%" PRIx64, info.root_phys);
	return 0;
}

static int pt_try_destroy(void *obj)
{
	struct run_pt *p = obj;
	/* -EBUSY: held (a domain, pt-hold) or an unsynced gather holds pages */
	int ret = siommu_pt_destroy(p->pt);

	if (!ret)
		free(p);
	return ret;
}

static int verb_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "pt", PT_TYPE, pt_try_destroy);
}

static int verb_map(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct run_pt *p = run_obj_arg(rc, cmd, "pt", PT_TYPE);
	uint64_t iova, pa, size;
	unsigned int prot;
	bool gather;

	if (!p || run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "pa", &pa) ||
	    run_arg_u64(rc, cmd, "size", &size) ||
	    run_arg_letters(rc, cmd, "prot", PROT_LETTERS, "rw", &prot) ||
	    run_arg_bool_opt(rc, cmd, "gather", &gather, false))
		return RUN_EUSAGE;
	/* gather=yes: a linux=yes table's replaced tables wait for pt-sync */
	if (gather)
		return siommu_pt_map_gather(p->pt, iova, pa, size, prot, &p->g);
	return siommu_pt_map(p->pt, iova, pa, size, prot);
}

static int verb_unmap(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct run_pt *p = run_obj_arg(rc, cmd, "pt", PT_TYPE);
	uint64_t iova, size;
	int64_t n;

	if (!p || run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "size", &size))
		return RUN_EUSAGE;
	n = siommu_pt_unmap(p->pt, iova, size, &p->g);
	if (n < 0)
		return (int)n;
	run_result(rc, "unmapped", "0x%" PRIx64, (uint64_t)n);
	return 0;
}

struct inval_print {
	struct run_ctx *rc;
	unsigned int calls;
};

static void inval_print(void *opaque, uint64_t iova, uint64_t last, unsigned int flags)
{
	struct inval_print *ip = opaque;

	ip->calls++;
	run_result(ip->rc, "inval", "0x%" PRIx64 "-0x%" PRIx64, iova, last);
	run_result(ip->rc, "tables", "%s", (flags & SIOMMU_PT_INVAL_TABLES) ? "yes" : "no");
}

static int verb_sync(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct run_pt *p = run_obj_arg(rc, cmd, "pt", PT_TYPE);
	struct inval_print ip = { .rc = rc };
	struct siommu_pt_info before, after;
	bool wait;
	int ret;

	if (!p || run_arg_bool_opt(rc, cmd, "wait", &wait, true))
		return RUN_EUSAGE;
	siommu_pt_get_info(p->pt, &before);
	/*
	 * wait=yes: wait, so that the freed pages show in the result;
	 * wait=no: the pages go after a grace period, whenever the reclaim
	 * callback runs (pt-reclaim-wait waits for it), so only their number
	 * is known now.
	 */
	ret = siommu_pt_gather_sync(&p->g, inval_print, &ip, wait ? SIOMMU_PT_SYNC_WAIT : 0);
	if (ret)
		return ret;
	if (!ip.calls)
		run_result(rc, "inval", "none");
	if (!wait) {
		run_result(rc, "queued", "%" PRIu64, before.detached_pages);
		return 0;
	}
	siommu_pt_get_info(p->pt, &after);
	run_result(rc, "freed", "%" PRIu64, before.table_pages - after.table_pages);
	return 0;
}

static int verb_iova_to_phys(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_domain *dom;
	struct run_pt *p;
	struct siommu_pt *pt = pt_target(rc, cmd, &p, &dom);
	uint64_t iova, pa;
	int ret;

	if (!pt || run_arg_u64(rc, cmd, "iova", &iova))
		return RUN_EUSAGE;
	ret = siommu_pt_iova_to_phys(pt, iova, &pa);
	if (ret)
		return ret;
	run_result(rc, "pa", "0x%" PRIx64, pa);
	return 0;
}

static int verb_translate(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_domain *dom;
	struct run_pt *p;
	struct siommu_pt *pt = pt_target(rc, cmd, &p, &dom);
	struct siommu_pt_xlate x;
	unsigned int access;
	uint64_t iova;
	int ret;

	if (!pt || run_arg_u64(rc, cmd, "iova", &iova) ||
	    run_arg_letters(rc, cmd, "access", ACCESS_LETTERS, "r", &access))
		return RUN_EUSAGE;
	siommu_read_lock();
	ret = siommu_pt_translate_rcu(pt, iova, access, &x);
	siommu_read_unlock();
	if (ret)
		return ret;
	run_result(rc, "pa", "0x%" PRIx64, x.pa);
	run_result(rc, "size", "%s", run_pgsize_name((int)x.pgsize_lg2) ?: "none");
	run_result_letters(rc, "prot", PROT_LETTERS, x.prot);
	return 0;
}

static int verb_walk(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_domain *dom;
	struct run_pt *p;
	struct siommu_pt *pt = pt_target(rc, cmd, &p, &dom);
	struct siommu_pt_walk w;
	uint64_t iova;
	char key[16];
	int ret, l;

	if (!pt || run_arg_u64(rc, cmd, "iova", &iova))
		return RUN_EUSAGE;
	ret = siommu_pt_walk(pt, iova, &w);
	if (ret)
		return ret;
	run_result(rc, "leaf", "%s", w.leaf_level < 0 ? "none" :
		   run_pgsize_name(12 + 9 * w.leaf_level) ?: "none");
	for (l = (int)w.levels - 1; l >= w.last_level; l--) {
		snprintf(key, sizeof(key), "l%d", l);
		run_result(rc, key, "0x%016" PRIx64, w.entry[l]);
	}
	return 0;
}

static int verb_level(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_domain *dom;
	struct run_pt *p;
	struct siommu_pt *pt = pt_target(rc, cmd, &p, &dom);
	uint64_t iova;
	int lvl;

	if (!pt || run_arg_u64(rc, cmd, "iova", &iova))
		return RUN_EUSAGE;
	lvl = siommu_pt_lookup_level(pt, iova);
	if (lvl < 0)
		return lvl;
	run_result(rc, "level", "%s", run_pgsize_name(lvl) ?: "none");
	return 0;
}

static int verb_seq(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_domain *dom;
	struct run_pt *p;
	struct siommu_pt *pt = pt_target(rc, cmd, &p, &dom);
	uint64_t iova, seq;

	if (!pt || run_arg_u64(rc, cmd, "iova", &iova))
		return RUN_EUSAGE;
	if (run_arg_has(cmd, "seq")) {
		if (run_arg_u64(rc, cmd, "seq", &seq))
			return RUN_EUSAGE;
		run_result(rc, "retry", "%s",
			   siommu_pt_seq_retry(pt, iova, seq) ? "yes" : "no");
		return 0;
	}
	run_result(rc, "seq", "%" PRIu64, siommu_pt_seq_begin(pt, iova));
	return 0;
}

static int verb_hold(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct run_pt *p = run_obj_arg(rc, cmd, "pt", PT_TYPE);
	int ret;

	if (!p)
		return RUN_EUSAGE;
	ret = siommu_pt_hold(p->pt);
	if (ret)
		return ret;
	run_result(rc, "holds", "%" PRIu64, ++p->holds);
	return 0;
}

static int verb_unhold(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct run_pt *p = run_obj_arg(rc, cmd, "pt", PT_TYPE);
	const char *name;
	int ret;

	if (!p)
		return RUN_EUSAGE;
	/* the library cannot tell our holds from a domain's: refuse here */
	if (!p->holds) {
		run_arg_str(rc, cmd, "pt", &name);
		return run_error(rc, cmd, "pt-unhold: '%s' has no pt-hold to drop", name);
	}
	ret = siommu_pt_unhold(p->pt);
	if (ret)
		return ret;
	run_result(rc, "holds", "%" PRIu64, --p->holds);
	return 0;
}

static int verb_reclaim_wait(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_domain *dom;
	struct run_pt *p;
	struct siommu_pt *pt = pt_target(rc, cmd, &p, &dom);
	struct siommu_pt_info info;
	int ret;

	if (!pt)
		return RUN_EUSAGE;
	ret = siommu_pt_reclaim_wait(pt);
	if (ret)
		return ret;
	siommu_pt_get_info(pt, &info);
	run_result(rc, "pages", "%" PRIu64, info.table_pages);
	run_result(rc, "reclaim", "%" PRIu64, info.reclaim_pages);
	return 0;
}

static int inval_args(struct run_ctx *rc, struct run_cmd *cmd, struct run_pt **p,
		      uint64_t *iova, uint64_t *size)
{
	*p = run_obj_arg(rc, cmd, "pt", PT_TYPE);
	if (!*p || run_arg_u64(rc, cmd, "iova", iova) || run_arg_u64(rc, cmd, "size", size))
		return RUN_EUSAGE;
	return 0;
}

static int verb_inval_begin(struct run_ctx *rc, struct run_cmd *cmd)
{
	uint64_t iova, size;
	struct run_pt *p;
	int ret;

	if (inval_args(rc, cmd, &p, &iova, &size))
		return RUN_EUSAGE;
	if (p->ninval == PT_MAX_INVAL)
		return run_error(rc, cmd, "pt-invalidate-begin: at most %u open per table",
				 PT_MAX_INVAL);
	ret = siommu_pt_invalidate_begin(p->pt, iova, size);
	if (ret)
		return ret;
	p->inval[p->ninval].iova = iova;
	p->inval[p->ninval].size = size;
	p->ninval++;
	run_result(rc, "open", "%u", p->ninval);
	return 0;
}

static int verb_inval_end(struct run_ctx *rc, struct run_cmd *cmd)
{
	uint64_t iova, size;
	struct run_pt *p;
	unsigned int i;
	bool open = false;
	int ret;

	if (inval_args(rc, cmd, &p, &iova, &size))
		return RUN_EUSAGE;
	/* an end with no begin is a caller bug the library does not catch */
	for (i = 0; i < p->ninval && !open; i++)
		open = p->inval[i].iova == iova && p->inval[i].size == size;
	if (!open)
		return run_error(rc, cmd, "pt-invalidate-end: no open pt-invalidate-begin of iova=0x%" PRIx64
				 " size=0x%" PRIx64, iova, size);
	ret = siommu_pt_invalidate_end(p->pt, iova, size);
	if (ret)
		return ret;
	p->inval[i - 1] = p->inval[--p->ninval];
	run_result(rc, "open", "%u", p->ninval);
	return 0;
}

static void dirty_inval(void *opaque, uint64_t iova, uint64_t last, unsigned int flags)
{
	(void)flags;
	siommu_domain_invalidate(opaque, iova, last - iova + 1, 0);
}

static int verb_dirty(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_pt_gather g;
	struct siommu_domain *dom;
	struct run_pt *p;
	struct siommu_pt *pt = pt_target(rc, cmd, &p, &dom);
	uint64_t iova, size, pgshift, bits, *bitmap;
	unsigned int i;
	int64_t n;
	bool clear;

	if (!pt || run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "size", &size) ||
	    run_arg_u64_opt(rc, cmd, "pgshift", &pgshift, 12) ||
	    run_arg_bool_opt(rc, cmd, "clear", &clear, true))
		return RUN_EUSAGE;
	if (pgshift < 12 || pgshift > 30 || (size >> pgshift) > PT_MAX_BITS)
		return run_error(rc, cmd, "dirty: at most %u bits of 2^12..2^30 bytes each",
				 PT_MAX_BITS);
	bits = size >> pgshift;
	bitmap = calloc(PT_MAX_BITS / 64, sizeof(*bitmap));
	if (!bitmap)
		return -ENOMEM;
	siommu_pt_gather_init(&g);
	n = siommu_pt_read_and_clear_dirty(pt, iova, size,
					   clear ? 0 : SIOMMU_PT_DIRTY_NO_CLEAR, bitmap,
					   (unsigned int)pgshift, p ? &p->g : &g);
	/*
	 * A domain's table: the IOTLB may hold entries filled by a write walk,
	 * whose next write would not walk to set the dirty bit again; drop
	 * the cleared range from it now (no table pages are detached).
	 */
	if (dom)
		siommu_pt_gather_sync(&g, dirty_inval, dom, 0);
	if (n >= 0) {
		char *hex = malloc(PT_MAX_BITS / 4 + 3), *q;

		if (!hex) {
			free(bitmap);
			return -ENOMEM;
		}
		/* Most significant digit first: bit 0 is the last hex digit. */
		q = hex;
		q += sprintf(q, "0x");
		for (i = (unsigned int)((bits + 3) / 4); i-- > 0;)
			*q++ = "0123456789abcdef"[(bitmap[i / 16] >> ((i % 16) * 4)) & 0xf];
		*q = 0;
		run_result(rc, "dirty", "%" PRId64, n);
		run_result(rc, "bitmap", "%s", bits ? hex : "0x0");
		free(hex);
	}
	free(bitmap);
	return n < 0 ? (int)n : 0;
}

static int verb_info(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_domain *dom;
	struct run_pt *p;
	struct siommu_pt *pt = pt_target(rc, cmd, &p, &dom);
	struct siommu_pt_info info;

	if (!pt)
		return RUN_EUSAGE;
	siommu_pt_get_info(pt, &info);
	run_result(rc, "fmt", "%s", siommu_pt_fmt_name(info.fmt));
	run_result(rc, "levels", "%u", info.levels);
	run_result(rc, "pages", "%" PRIu64, info.table_pages);
	run_result(rc, "bytes", "%" PRIu64, info.table_bytes);
	run_result(rc, "peak", "%" PRIu64, info.table_pages_peak);
	run_result(rc, "detached", "%" PRIu64, info.detached_pages);
	run_result(rc, "reclaim", "%" PRIu64, info.reclaim_pages);
	return 0;
}

static int dump_line(void *opaque, const char *line)
{
	run_print(opaque, "%s", line);
	return 0;
}

static int verb_dump(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_domain *dom;
	struct run_pt *p;
	struct siommu_pt *pt = pt_target(rc, cmd, &p, &dom);
	struct siommu_pt_dump_dev dev = { .pasid = SIOMMU_PT_NO_PASID };
	unsigned int seg, bus, d, fn;
	const char *s;
	uint64_t pasid;
	char end;

	if (!pt || run_arg_str_opt(rc, cmd, "dev", &s, "0000:00:00.0") ||
	    run_arg_u64_opt(rc, cmd, "pasid", &pasid, SIOMMU_PT_NO_PASID))
		return RUN_EUSAGE;
	if (sscanf(s, "%x:%x:%x.%x%c", &seg, &bus, &d, &fn, &end) != 4 ||
	    seg > 0xffff || bus > 0xff || d > 0x1f || fn > 7)
		return run_error(rc, cmd, "dev: SSSS:BB:DD.F, got '%s'", s);
	if (pasid > SIOMMU_PT_NO_PASID)
		return run_error(rc, cmd, "pasid: a 32-bit number");
	dev.segment = (uint16_t)seg;
	dev.bus = (uint8_t)bus;
	dev.devfn = (uint8_t)(d << 3 | fn);
	dev.pasid = (uint32_t)pasid;
	return siommu_pt_dump(pt, &dev, dump_line, rc);
}

const struct run_verb run_verbs_pgtable[] = {
	{ "pt-create", "pt-create name=NAME fmt=x86-64|vtd-ss|arm-lpae-s1 [levels=N] [oas=N] "
	  "[pgsizes=4K,2M,1G] [dirty=yes] [exec=yes] [linux=yes] [phys_base=N|host] [max_pages=N]",
	  "create an I/O page table", verb_create },
	{ "pt-destroy", "pt-destroy pt=NAME",
	  "destroy a table (EBUSY while held: a domain, pt-hold; or its gather is unsynced)",
	  verb_destroy },
	{ "pt-hold", "pt-hold pt=NAME", "count a user of the table (pt-destroy: EBUSY)", verb_hold },
	{ "pt-unhold", "pt-unhold pt=NAME", "drop a pt-hold", verb_unhold },
	{ "pt-map", "pt-map pt=NAME iova=N pa=N size=N [prot=rwcnmp] [gather=yes]",
	  "map with the largest page sizes alignment allows (gather=yes: tables a linux=yes "
	  "superpage replaced wait for pt-sync)", verb_map },
	{ "pt-unmap", "pt-unmap pt=NAME iova=N size=N",
	  "unmap into the table's gather (freed at pt-sync)", verb_unmap },
	{ "pt-sync", "pt-sync pt=NAME [wait=yes]",
	  "invalidate what the gather holds, wait a grace period, free (wait=no: free after one, later)",
	  verb_sync },
	{ "pt-reclaim-wait", "pt-reclaim-wait pt=NAME|domain=DOM",
	  "wait until table pages synced without waiting are back in the pool", verb_reclaim_wait },
	{ "pt-invalidate-begin", "pt-invalidate-begin pt=NAME iova=N size=N",
	  "start a direct change of a range (pt-seq retry=yes until the end)", verb_inval_begin },
	{ "pt-invalidate-end", "pt-invalidate-end pt=NAME iova=N size=N",
	  "end it: the sequence moves", verb_inval_end },
	{ "pt-iova-to-phys", "pt-iova-to-phys pt=NAME|domain=DOM iova=N", "translate", verb_iova_to_phys },
	{ "pt-translate", "pt-translate pt=NAME|domain=DOM iova=N [access=rwxp]",
	  "translate as hardware: permission check, A/D update", verb_translate },
	{ "pt-walk", "pt-walk pt=NAME|domain=DOM iova=N", "the raw entries on the path", verb_walk },
	{ "pt-level", "pt-level pt=NAME|domain=DOM iova=N", "page size mapping an address (seed 001)",
	  verb_level },
	{ "pt-seq", "pt-seq pt=NAME|domain=DOM iova=N [seq=N]",
	  "invalidation sequence; with seq=, whether to retry", verb_seq },
	{ "pt-dirty", "pt-dirty pt=NAME|domain=DOM iova=N size=N [pgshift=12] [clear=yes]",
	  "read (and clear) the dirty bitmap", verb_dirty },
	{ "pt-info", "pt-info pt=NAME|domain=DOM", "table pages and bytes", verb_info },
	{ "pt-dump", "pt-dump pt=NAME|domain=DOM [dev=SSSS:BB:DD.F] [pasid=N]",
	  "dump in the layout of Linux's domain_translation_struct", verb_dump },
	{ NULL, NULL, NULL, NULL },
};
