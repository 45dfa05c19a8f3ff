// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Run-language verbs of the mm module: CPU address spaces (mmap, munmap,
 * mprotect, madvise, split, CPU faults and accesses, the seed-001 level
 * lookup, the invalidation sequence), mirror domains and SVA bindings, and
 * device DMA into host memory (mm-dma-read/-write: the core's dma verbs
 * need a memory map, SVA and mirrors reach host memory).
 *
 * Host addresses are not printed (they change from run to run): a
 * translation shows its page size and protection.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <softiommu/mm.h>

#include "run.h"
#include "verbs.h"

#define MM_TYPE		"mm"
#define MIRROR_TYPE	"mirror"
#define SVA_TYPE	"sva"
#define DATA_MAX	4096u

static const char *const page_names[] = { "thp", "4k", "2m", "1g", NULL };
static const unsigned int page_flags[] = { SIOMMU_MM_PAGE_THP, SIOMMU_MM_PAGE_4K,
					   SIOMMU_MM_PAGE_2M, SIOMMU_MM_PAGE_1G };
static const char *const advice_names[] = { "dontneed", "nohugepage", NULL };
static const char *const fmt_names[] = { "x86-64", "vtd-ss", "arm-lpae-s1", NULL };
static const enum siommu_pt_fmt fmt_vals[] = { SIOMMU_PT_FMT_X86_64, SIOMMU_PT_FMT_VTD_SS,
					       SIOMMU_PT_FMT_ARM_LPAE_S1 };

static void mm_obj_destroy(void *obj)
{
	siommu_mm_destroy(obj);
}

/* A mirror-create object: the mirror, and the run (to find its devices). */
struct cli_mirror {
	struct siommu_mirror *m;
	struct run_ctx *rc;
};

static struct siommu_mirror *mirror_arg(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_mirror *cm = run_obj_arg(rc, cmd, "mirror", MIRROR_TYPE);

	return cm ? cm->m : NULL;
}

static void detach_dom_from(void *obj, const char *name, void *opaque)
{
	struct siommu_device *dev = run_device_of(obj);
	struct siommu_attachment at[64];
	int i, n = siommu_device_get_attachments(dev, at, 64);

	(void)name;
	for (i = (n < 64 ? n : 64) - 1; i >= 0; i--) {
		if (at[i].dom != opaque)
			continue;
		if (at[i].pasid == SIOMMU_NO_PASID)
			siommu_device_detach(dev);
		else
			siommu_pasid_detach(dev, at[i].pasid);
	}
}

static void mirror_obj_destroy(void *obj)
{
	struct cli_mirror *cm = obj;
	struct siommu_domain *dom = siommu_mirror_domain(cm->m);
	struct siommu_domain_info di;

	/*
	 * The run is ending (or the object was never added): nothing may stay
	 * attached to it.  Devices made before the mirror are still alive
	 * (objects go in reverse order of creation): detach it from them.
	 */
	if (!siommu_domain_get_info(dom, &di) && di.users)
		run_obj_for_each(cm->rc, RUN_DEV_TYPE, detach_dom_from, dom);
	if (siommu_mirror_destroy(cm->m)) {
		run_print(cm->rc, "mirror: left busy at the end of the run");
		return;		/* leaked: the library still knows it */
	}
	free(cm);
}

static void sva_obj_destroy(void *obj)
{
	siommu_sva_unbind(obj);
}

/* prot=LETTERS of rwx, or - / none for PROT_NONE; @def when absent (NULL: required). */
static int arg_prot(struct run_ctx *rc, struct run_cmd *cmd, const char *def, unsigned int *prot)
{
	const char *s;

	if (run_arg_str_opt(rc, cmd, "prot", &s, def))
		return RUN_EUSAGE;
	if (!s)
		return run_error(rc, cmd, "%s: missing prot=", cmd->verb);
	*prot = 0;
	if (!strcmp(s, "-") || !strcmp(s, "none"))
		return 0;
	for (; *s; s++) {
		const char *p = strchr("rwx", *s);

		if (!p)
			return run_error(rc, cmd, "prot: letters r w x, or - for none; got '%c'",
					 *s);
		*prot |= 1u << (p - "rwx");
	}
	return 0;
}

static int arg_hex(struct run_ctx *rc, struct run_cmd *cmd, uint8_t *buf, size_t *len)
{
	const char *s;
	size_t n;

	if (run_arg_has(cmd, "fill")) {
		uint64_t b, count;

		if (run_arg_u64(rc, cmd, "fill", &b) || run_arg_u64(rc, cmd, "count", &count))
			return RUN_EUSAGE;
		if (b > 255 || !count || count > DATA_MAX)
			return run_error(rc, cmd, "fill: a byte, count: 1..%u", DATA_MAX);
		memset(buf, (int)b, (size_t)count);
		*len = (size_t)count;
		return 0;
	}
	if (run_arg_str(rc, cmd, "data", &s))
		return RUN_EUSAGE;
	n = strlen(s);
	if (!n || n % 2 || n / 2 > DATA_MAX)
		return run_error(rc, cmd, "data: an even number of hex digits, at most %u bytes",
				 DATA_MAX);
	for (size_t i = 0; i < n / 2; i++) {
		char h[3] = { s[2 * i], s[2 * i + 1], 0 };
		char *end;

		buf[i] = (uint8_t)strtoul(h, &end, 16);
		if (*end)
			return run_error(rc, cmd, "data: '%s' is not hex", h);
	}
	*len = n / 2;
	return 0;
}

static void result_hex(struct run_ctx *rc, const uint8_t *buf, size_t len)
{
	static char hex[2 * 256 + 1];
	uint64_t sum = 0;

	if (len <= 256) {
		for (size_t i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", buf[i]);
		hex[2 * len] = '\0';
		run_result(rc, "data", "%s", hex);
		return;
	}
	for (size_t i = 0; i < len; i++)
		sum += buf[i];
	run_result(rc, "bytes", "%zu", len);
	run_result(rc, "sum", "%" PRIu64, sum);
}

/* ------------------------------------------------------------------ mm */

static int verb_mm_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm_cfg cfg = { 0 };
	struct siommu_mm *mm;
	const char *name;
	uint64_t levels;
	int ret;

	if (run_arg_str(rc, cmd, "name", &name) || run_arg_u64_opt(rc, cmd, "levels", &levels, 4))
		return RUN_EUSAGE;
	if (levels > 5)
		return run_error(rc, cmd, "levels: 4 or 5");
	cfg.levels = (unsigned int)levels;
	ret = siommu_mm_create(run_siommu(rc), &cfg, &mm);
	if (ret)
		return ret;
	if (run_obj_add(rc, cmd, MM_TYPE, name, mm, mm_obj_destroy))
		return RUN_EUSAGE;
	run_result(rc, "levels", "%u", cfg.levels);
	return 0;
}

static int mm_try_destroy(void *obj)
{
	siommu_mm_destroy(obj);
	return 0;
}

static int verb_mm_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "mm", MM_TYPE, mm_try_destroy);
}

static int verb_mm_mmap(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	unsigned int prot, flags = SIOMMU_MM_MAP_ANON;
	uint64_t len, addr = 0, offset, out;
	bool memfd;
	int page, ret, fd = -1;

	if (!mm || run_arg_u64(rc, cmd, "len", &len) ||
	    arg_prot(rc, cmd, "rw", &prot) ||
	    run_arg_enum_opt(rc, cmd, "page", page_names, &page, 0) ||
	    run_arg_bool_opt(rc, cmd, "memfd", &memfd, false) ||
	    run_arg_u64_opt(rc, cmd, "offset", &offset, 0))
		return RUN_EUSAGE;
	if (run_arg_has(cmd, "addr")) {
		if (run_arg_u64(rc, cmd, "addr", &addr))
			return RUN_EUSAGE;
		flags |= SIOMMU_MM_MAP_FIXED;
	}
	flags |= page_flags[page];
	if (memfd) {
		/* A fresh memfd of offset + len bytes, shared; the mapping keeps it. */
		fd = memfd_create("softiommu-run", 0);
		if (fd < 0)
			return -EBADF;
		if (ftruncate(fd, (off_t)(offset + len))) {
			close(fd);
			return -ENOMEM;
		}
		flags = (flags & ~SIOMMU_MM_MAP_ANON) | SIOMMU_MM_MAP_SHARED;
	}
	ret = siommu_mm_mmap(mm, addr, len, prot, flags, fd, offset, &out);
	if (fd >= 0)
		close(fd);
	if (ret)
		return ret;
	run_result(rc, "addr", "0x%" PRIx64, out);
	return 0;
}

static int range_args(struct run_ctx *rc, struct run_cmd *cmd, struct siommu_mm **mm,
		      uint64_t *addr, uint64_t *len)
{
	*mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	if (!*mm || run_arg_u64(rc, cmd, "addr", addr) || run_arg_u64(rc, cmd, "len", len))
		return RUN_EUSAGE;
	return 0;
}

static void result_seq(struct run_ctx *rc, struct siommu_mm *mm)
{
	run_result(rc, "seq", "%" PRIu64, siommu_mm_invalidate_seq(mm));
}

static int verb_mm_munmap(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm;
	uint64_t addr, len;
	int ret;

	if (range_args(rc, cmd, &mm, &addr, &len))
		return RUN_EUSAGE;
	ret = siommu_mm_munmap(mm, addr, len);
	if (!ret)
		result_seq(rc, mm);
	return ret;
}

static int verb_mm_mprotect(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm;
	uint64_t addr, len;
	unsigned int prot;
	int ret;

	if (range_args(rc, cmd, &mm, &addr, &len) || arg_prot(rc, cmd, NULL, &prot))
		return RUN_EUSAGE;
	ret = siommu_mm_mprotect(mm, addr, len, prot);
	if (!ret)
		result_seq(rc, mm);
	return ret;
}

static int verb_mm_madvise(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm;
	uint64_t addr, len;
	int advice, ret;

	if (range_args(rc, cmd, &mm, &addr, &len) ||
	    run_arg_enum(rc, cmd, "advice", advice_names, &advice))
		return RUN_EUSAGE;
	ret = siommu_mm_madvise(mm, addr, len, advice == 0 ? SIOMMU_MM_MADV_DONTNEED :
					       SIOMMU_MM_MADV_NOHUGEPAGE);
	if (!ret)
		result_seq(rc, mm);
	return ret;
}

static int verb_mm_split(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	uint64_t addr;
	int ret;

	if (!mm || run_arg_u64(rc, cmd, "addr", &addr))
		return RUN_EUSAGE;
	ret = siommu_mm_split(mm, addr);
	if (ret < 0)
		return ret;
	run_result(rc, "split", "%s", ret ? "yes" : "no");
	result_seq(rc, mm);
	return 0;
}

static int verb_mm_fault(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	unsigned int access;
	uint64_t addr;
	int ret;

	if (!mm || run_arg_u64(rc, cmd, "addr", &addr) ||
	    run_arg_letters(rc, cmd, "access", "rwx", "r", &access))
		return RUN_EUSAGE;
	ret = siommu_mm_fault(mm, addr, access);
	if (ret)
		return ret;
	run_result(rc, "level", "%s", run_pgsize_name(siommu_mm_lookup_level(mm, addr)) ?: "?");
	return 0;
}

static int verb_mm_write(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	static uint8_t buf[DATA_MAX];
	uint64_t addr;
	size_t len;

	if (!mm || run_arg_u64(rc, cmd, "addr", &addr) || arg_hex(rc, cmd, buf, &len))
		return RUN_EUSAGE;
	return siommu_mm_write(mm, addr, buf, len);
}

static int verb_mm_read(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	static uint8_t buf[DATA_MAX];
	uint64_t addr, len;
	int ret;

	if (!mm || run_arg_u64(rc, cmd, "addr", &addr) || run_arg_u64(rc, cmd, "len", &len))
		return RUN_EUSAGE;
	if (!len || len > DATA_MAX)
		return run_error(rc, cmd, "len: 1..%u bytes", DATA_MAX);
	ret = siommu_mm_read(mm, addr, buf, (size_t)len);
	if (ret)
		return ret;
	result_hex(rc, buf, (size_t)len);
	return 0;
}

static int verb_mm_level(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	struct siommu_mm_xlate x;
	uint64_t addr;
	int lvl, ret;

	if (!mm || run_arg_u64(rc, cmd, "addr", &addr))
		return RUN_EUSAGE;
	siommu_read_lock();
	lvl = siommu_mm_lookup_level_rcu(mm, addr);
	ret = lvl < 0 ? lvl : siommu_mm_translate_rcu(mm, addr, &x);
	siommu_read_unlock();
	if (lvl < 0)
		return lvl;
	/* Seed 001: a non-present entry answers 4K, never "none". */
	run_result(rc, "level", "%s", run_pgsize_name(lvl) ?: "?");
	run_result(rc, "mapped", "%s", ret ? "no" : "yes");
	if (!ret)
		run_result_letters(rc, "prot", "rwx", x.prot);
	return 0;
}

static int verb_mm_seq(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);

	if (!mm)
		return RUN_EUSAGE;
	result_seq(rc, mm);
	return 0;
}

static int verb_mm_retry(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	uint64_t seq, addr;

	if (!mm || run_arg_u64(rc, cmd, "seq", &seq) || run_arg_u64(rc, cmd, "addr", &addr))
		return RUN_EUSAGE;
	run_result(rc, "retry", "%s", siommu_mm_invalidate_retry(mm, seq, addr) ? "yes" : "no");
	return 0;
}

static int verb_mm_info(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	struct siommu_mm_info i;
	int ret;

	if (!mm)
		return RUN_EUSAGE;
	ret = siommu_mm_get_info(mm, &i);
	if (ret)
		return ret;
	run_result(rc, "areas", "%" PRIu64, i.nr_areas);
	run_result(rc, "mapped_4k", "%" PRIu64, i.mapped_4k);
	run_result(rc, "mapped_2m", "%" PRIu64, i.mapped_2m);
	run_result(rc, "mapped_1g", "%" PRIu64, i.mapped_1g);
	run_result(rc, "rss", "0x%" PRIx64, i.rss_bytes);
	run_result(rc, "seq", "%" PRIu64, i.invalidate_seq);
	run_result(rc, "in_progress", "%" PRIu64, i.in_progress);
	run_result(rc, "invalidations", "%" PRIu64, i.invalidations);
	run_result(rc, "splits", "%" PRIu64, i.splits);
	run_result(rc, "notifiers", "%" PRIu64, i.notifiers);
	run_result(rc, "bindings", "%" PRIu64, i.bindings);
	run_result(rc, "table_pages", "%" PRIu64, i.table_pages);
	return 0;
}

/* ------------------------------------------------------------------ DMA into host memory */

static int arg_pasid(struct run_ctx *rc, struct run_cmd *cmd, uint32_t *pasid)
{
	uint64_t p;

	if (run_arg_u64_opt(rc, cmd, "pasid", &p, SIOMMU_NO_PASID))
		return RUN_EUSAGE;
	if (p > UINT32_MAX)
		return run_error(rc, cmd, "pasid: too large");
	*pasid = (uint32_t)p;
	return 0;
}

static int verb_dma_read(struct run_ctx *rc, struct run_cmd *cmd)
{
	void *cd = run_obj_arg(rc, cmd, "dev", RUN_DEV_TYPE);
	static uint8_t buf[DATA_MAX];
	uint64_t addr, len;
	uint32_t pasid = SIOMMU_NO_PASID;
	int ret;

	if (!cd || arg_pasid(rc, cmd, &pasid) || run_arg_u64(rc, cmd, "addr", &addr) ||
	    run_arg_u64(rc, cmd, "len", &len))
		return RUN_EUSAGE;
	if (!len || len > DATA_MAX)
		return run_error(rc, cmd, "len: 1..%u bytes", DATA_MAX);
	ret = siommu_dma_read(run_device_of(cd), pasid, addr, buf, (size_t)len);
	if (ret)
		return ret;
	result_hex(rc, buf, (size_t)len);
	return 0;
}

static int verb_dma_write(struct run_ctx *rc, struct run_cmd *cmd)
{
	void *cd = run_obj_arg(rc, cmd, "dev", RUN_DEV_TYPE);
	static uint8_t buf[DATA_MAX];
	uint32_t pasid = SIOMMU_NO_PASID;
	uint64_t addr;
	size_t len;

	if (!cd || arg_pasid(rc, cmd, &pasid) || run_arg_u64(rc, cmd, "addr", &addr) ||
	    arg_hex(rc, cmd, buf, &len))
		return RUN_EUSAGE;
	return siommu_dma_write(run_device_of(cd), pasid, addr, buf, len);
}

/* ------------------------------------------------------------------ mirrors */

static int verb_mirror_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	void *ci = run_obj_arg(rc, cmd, "iommu", RUN_IOMMU_TYPE);
	struct siommu_mirror_cfg cfg = { 0 };
	struct cli_mirror *cm;
	bool only4k, handler;
	uint64_t levels;
	const char *name;
	int fmt, ret;

	if (!mm || !ci || run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_enum_opt(rc, cmd, "fmt", fmt_names, &fmt, 0) ||
	    run_arg_u64_opt(rc, cmd, "levels", &levels, 0) ||
	    run_arg_bool_opt(rc, cmd, "only4k", &only4k, false) ||
	    run_arg_bool_opt(rc, cmd, "handler", &handler, true))
		return RUN_EUSAGE;
	if (levels > 5)
		return run_error(rc, cmd, "levels: at most 5");
	cfg.fmt = fmt_vals[fmt];
	cfg.levels = (unsigned int)levels;
	cfg.flags = (only4k ? SIOMMU_MIRROR_4K_ONLY : 0) |
		    (handler ? 0 : SIOMMU_MIRROR_NO_HANDLER);
	cm = calloc(1, sizeof(*cm));
	if (!cm)
		return -ENOMEM;
	ret = siommu_mirror_create(mm, run_iommu_of(ci), &cfg, &cm->m);
	if (ret) {
		free(cm);
		return ret;
	}
	cm->rc = rc;
	if (run_obj_add(rc, cmd, MIRROR_TYPE, name, cm, mirror_obj_destroy))
		return RUN_EUSAGE;
	return 0;
}

static int mirror_try_destroy(void *obj)
{
	struct cli_mirror *cm = obj;
	int ret = siommu_mirror_destroy(cm->m);

	if (!ret)
		free(cm);	/* run_obj_forget() only compares the pointer */
	return ret;
}

static int verb_mirror_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "mirror", MIRROR_TYPE, mirror_try_destroy);
}

static int verb_mirror_attach(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mirror *m = mirror_arg(rc, cmd);
	void *cd = run_obj_arg(rc, cmd, "dev", RUN_DEV_TYPE);
	uint32_t pasid = SIOMMU_NO_PASID;

	if (!m || !cd || arg_pasid(rc, cmd, &pasid))
		return RUN_EUSAGE;
	if (pasid == SIOMMU_NO_PASID)
		return siommu_device_attach(run_device_of(cd), siommu_mirror_domain(m));
	return siommu_pasid_attach(run_device_of(cd), pasid, siommu_mirror_domain(m));
}

static int verb_mirror_detach(struct run_ctx *rc, struct run_cmd *cmd)
{
	void *cd = run_obj_arg(rc, cmd, "dev", RUN_DEV_TYPE);
	uint32_t pasid = SIOMMU_NO_PASID;

	if (!cd || arg_pasid(rc, cmd, &pasid))
		return RUN_EUSAGE;
	if (pasid == SIOMMU_NO_PASID)
		return siommu_device_detach(run_device_of(cd));
	return siommu_pasid_detach(run_device_of(cd), pasid);
}

static int verb_mirror_fault(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mirror *m = mirror_arg(rc, cmd);
	unsigned int access;
	uint64_t addr;
	int ret, lvl;

	if (!m || run_arg_u64(rc, cmd, "addr", &addr) ||
	    run_arg_letters(rc, cmd, "access", "rwx", "r", &access))
		return RUN_EUSAGE;
	ret = siommu_mirror_fault(m, addr, access);
	if (ret)
		return ret;
	lvl = siommu_pt_lookup_level(siommu_mirror_pt(m), addr);
	run_result(rc, "mapped", "%s", run_pgsize_name(lvl) ?: "none");
	return 0;
}

static int verb_mirror_level(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mirror *m = mirror_arg(rc, cmd);
	uint64_t addr;
	int lvl;

	if (!m || run_arg_u64(rc, cmd, "addr", &addr))
		return RUN_EUSAGE;
	lvl = siommu_pt_lookup_level(siommu_mirror_pt(m), addr);
	if (lvl < 0)
		return lvl;
	run_result(rc, "mapped", "%s", run_pgsize_name(lvl) ?: "none");
	return 0;
}

static int verb_mirror_stats(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mirror *m = mirror_arg(rc, cmd);
	struct siommu_mirror_stats s;

	if (!m)
		return RUN_EUSAGE;
	siommu_mirror_get_stats(m, &s);
	run_result(rc, "faults", "%" PRIu64, s.faults);
	run_result(rc, "maps_4k", "%" PRIu64, s.maps_4k);
	run_result(rc, "maps_2m", "%" PRIu64, s.maps_2m);
	run_result(rc, "maps_1g", "%" PRIu64, s.maps_1g);
	run_result(rc, "retries", "%" PRIu64, s.retries);
	run_result(rc, "errors", "%" PRIu64, s.errors);
	run_result(rc, "zaps", "%" PRIu64, s.zaps);
	run_result(rc, "zapped", "0x%" PRIx64, s.zapped_bytes);
	return 0;
}

/* ------------------------------------------------------------------ SVA */

static int verb_sva_bind(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_mm *mm = run_obj_arg(rc, cmd, "mm", MM_TYPE);
	void *ci = run_obj_arg(rc, cmd, "iommu", RUN_IOMMU_TYPE);
	void *cd = run_obj_arg(rc, cmd, "dev", RUN_DEV_TYPE);
	struct siommu_sva *b;
	const char *name;
	uint64_t pasid;
	bool handler;
	int ret;

	if (!mm || !ci || !cd || run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_u64(rc, cmd, "pasid", &pasid) ||
	    run_arg_bool_opt(rc, cmd, "handler", &handler, true))
		return RUN_EUSAGE;
	if (pasid > UINT32_MAX)
		return run_error(rc, cmd, "pasid: too large");
	ret = siommu_sva_bind(mm, run_iommu_of(ci), run_device_of(cd), (uint32_t)pasid,
			      handler ? 0 : SIOMMU_SVA_NO_HANDLER, &b);
	if (ret)
		return ret;
	if (run_obj_add(rc, cmd, SVA_TYPE, name, b, sva_obj_destroy))
		return RUN_EUSAGE;
	run_result(rc, "shared_table", "%s",
		   siommu_domain_pt(siommu_sva_domain(b)) == siommu_mm_pt(mm) ? "yes" : "no");
	return 0;
}

static int sva_try_unbind(void *obj)
{
	return siommu_sva_unbind(obj);
}

static int verb_sva_unbind(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "sva", SVA_TYPE, sva_try_unbind);
}

const struct run_verb run_verbs_mm[] = {
	{ "mm-create", "mm-create name=MM [levels=4|5]",
	  "a CPU address space with its own x86-64 table", verb_mm_create },
	{ "mm-destroy", "mm-destroy mm=MM",
	  "the last user goes: release bindings and mirrors, unmap everything", verb_mm_destroy },
	{ "mm-mmap", "mm-mmap mm=MM len=N [addr=N] [prot=rwx] [page=thp|4k|2m|1g] "
		     "[memfd=yes offset=N]",
	  "add an area (anonymous, or a fresh memfd mapped shared); addr= makes it fixed",
	  verb_mm_mmap },
	{ "mm-munmap", "mm-munmap mm=MM addr=N len=N", "remove areas (one invalidation)",
	  verb_mm_munmap },
	{ "mm-mprotect", "mm-mprotect mm=MM addr=N len=N prot=rwx|-",
	  "change protection (one invalidation)", verb_mm_mprotect },
	{ "mm-madvise", "mm-madvise mm=MM addr=N len=N advice=dontneed|nohugepage",
	  "discard pages or split huge pages (one invalidation)", verb_mm_madvise },
	{ "mm-split", "mm-split mm=MM addr=N", "split the huge page mapping addr",
	  verb_mm_split },
	{ "mm-fault", "mm-fault mm=MM addr=N [access=rwx]", "a CPU fault", verb_mm_fault },
	{ "mm-write", "mm-write mm=MM addr=N data=HEX | fill=B count=N",
	  "CPU write through the mm's table", verb_mm_write },
	{ "mm-read", "mm-read mm=MM addr=N len=N", "CPU read through the mm's table",
	  verb_mm_read },
	{ "mm-level", "mm-level mm=MM addr=N",
	  "the seed-001 lockless level lookup (not present: 4K) and the translation",
	  verb_mm_level },
	{ "mm-seq", "mm-seq mm=MM", "the invalidation sequence", verb_mm_seq },
	{ "mm-retry", "mm-retry mm=MM seq=N addr=N",
	  "would a lookup made since seq be discarded?", verb_mm_retry },
	{ "mm-info", "mm-info mm=MM", "areas, leaves by size, sequence, counters", verb_mm_info },
	{ "mm-dma-read", "mm-dma-read dev=DEV [pasid=N] addr=N len=N",
	  "device DMA read into host memory (SVA, mirrors)", verb_dma_read },
	{ "mm-dma-write", "mm-dma-write dev=DEV [pasid=N] addr=N data=HEX | fill=B count=N",
	  "device DMA write into host memory (SVA, mirrors)", verb_dma_write },
	{ "mirror-create", "mirror-create name=M mm=MM iommu=IOMMU [fmt=x86-64|vtd-ss|arm-lpae-s1] "
			   "[levels=N] [only4k=yes] [handler=no]",
	  "a mirror domain of the mm (IOVA = address), filled on device faults",
	  verb_mirror_create },
	{ "mirror-destroy", "mirror-destroy mirror=M", "destroy a detached mirror",
	  verb_mirror_destroy },
	{ "mirror-attach", "mirror-attach mirror=M dev=DEV [pasid=N]",
	  "attach a device (or PASID) to the mirror's domain", verb_mirror_attach },
	{ "mirror-detach", "mirror-detach dev=DEV [pasid=N]", "detach it again",
	  verb_mirror_detach },
	{ "mirror-fault", "mirror-fault mirror=M addr=N [access=rwx]",
	  "resolve a device fault: snapshot, lookup, lock, retry check, map", verb_mirror_fault },
	{ "mirror-level", "mirror-level mirror=M addr=N", "what the mirror maps at addr",
	  verb_mirror_level },
	{ "mirror-stats", "mirror-stats mirror=M", "fault, map and zap counters",
	  verb_mirror_stats },
	{ "sva-bind", "sva-bind name=B mm=MM iommu=IOMMU dev=DEV pasid=N [handler=no]",
	  "bind a device PASID to the mm's own table", verb_sva_bind },
	{ "sva-unbind", "sva-unbind sva=B", "detach and free the binding", verb_sva_unbind },
	{ NULL, NULL, NULL, NULL },
};
