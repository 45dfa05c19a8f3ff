// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Differential test of the core's translation path (attachment, IOTLB,
 * walk) and DMA against a reference model, over the public API.
 *
 * One device; strict paging domains of the three formats (x86-64, VT-d
 * second stage with SLEE, Arm), an identity and a blocked domain; RAM the
 * test owns (siommu_mem_add_host) so DMA can be checked byte for byte; or,
 * in host mode, no memory map at all (output addresses are host addresses
 * into the test's RAM, and DMA copies runs of pages).
 * Random sequences of: map (4 KiB runs, 2 MiB and 1 GiB pages, every
 * permission combination; sometimes over a live mapping: -EEXIST), unmap
 * of a whole mapping or of an empty range, replace/detach of the device,
 * destroy and re-create of a domain (its id is reused),
 * translate with every access type, DMA read and write within a page.  The
 * model is the list of mappings per domain and the attachment, with the
 * formats' permission semantics of tests/common/pt_perm_model.h; every
 * result must match: errors (fault reasons), pa, reported prot, the bytes
 * DMA reads and writes.  Reusing IOVAs (a small window) with other
 * physical addresses and permissions, switching domains and unmapping are
 * what would expose a stale or wrongly shared IOTLB entry.
 *
 * A difference is cut, shrunk by delta debugging and replayed, then printed.
 *
 *   test_core_diff                       cmocka slice (fixed seed, SIOMMU_CORE_SEED=N)
 *   test_core_diff --seconds S [--seed N] [--no-priv]   a long run
 *
 * Privileged requests (SIOMMU_ACC_PRIV) are in the slice: the harness found
 * that an IOTLB entry filled by a privileged request served unprivileged
 * ones (fixed; tests/core/test_core_iotlb_priv.c is its regression test).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"
#include "pt_perm_model.h"
#include "shrink.h"

#include <softiommu/core.h>
#include <softiommu/mem.h>

#define PG		0x1000ull
#define SZ_2M		0x200000ull
#define SZ_1G		0x40000000ull
#define RAM_SIZE	(32ull << 20)	/* at pa 0 .. 32 MiB */
#define NR_PAGING	3
#define NR_DOM		5		/* + identity, blocked */
#define MAX_RECS	512
#define MAX_OPS		2048

enum cop_kind { C_MAP, C_UNMAP, C_ATTACH, C_XLATE, C_DMA, C_RECREATE };

struct cop {
	uint8_t kind, dom, write;
	unsigned int bits;		/* prot or access */
	uint64_t iova, size, pa;
	uint8_t byte;
};

struct rec {
	uint64_t iova, size, pa;
	unsigned int prot;
};

static const struct {
	enum siommu_pt_fmt fmt;
	unsigned int levels, flags;
} dom_fmts[NR_PAGING] = {
	{ SIOMMU_PT_FMT_X86_64, 4, 0 },
	{ SIOMMU_PT_FMT_VTD_SS, 4, SIOMMU_PT_F_EXEC },
	{ SIOMMU_PT_FMT_ARM_LPAE_S1, 4, 0 },
};

struct cworld {
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct siommu_mem_region *ram;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
	struct siommu_domain *dom[NR_DOM];
	/* the model */
	struct rec recs[NR_PAGING][MAX_RECS];
	unsigned int nr[NR_PAGING];
	int attached;			/* -1: none */
};

static uint8_t *ram;			/* the RAM the device reaches, owned by the test */
/*
 * Host mode: the IOMMU has no memory map, output addresses are host
 * addresses (mappings point into ram[]), DMA copies runs of pages.  The
 * model keeps offsets into ram[]; the library sees ram + offset.
 */
static bool host_mode;
static struct cworld cw;
static bool with_priv = true;	/* --no-priv leaves privileged requests out */

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static int paging_create(unsigned int i)
{
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = dom_fmts[i].fmt,
		.levels = dom_fmts[i].levels, .pt_flags = dom_fmts[i].flags,
	};

	return siommu_domain_create(cw.iommu, &cfg, &cw.dom[i]);
}

static void world_up(void)
{
	unsigned int i;

	memset(&cw, 0, sizeof(cw));
	memset(ram, 0x5a, RAM_SIZE);
	assert_int_equal(siommu_ctx_create(&cw.ctx), 0);
	siommu_ctx_set_log(cw.ctx, SIOMMU_LOG_ERR, quiet, NULL);
	if (!host_mode) {
		assert_int_equal(siommu_mem_create(cw.ctx, &cw.mem), 0);
		assert_int_equal(siommu_mem_add_host(cw.mem, 0, ram, RAM_SIZE, &cw.ram), 0);
	}
	assert_int_equal(siommu_iommu_create(cw.ctx, NULL, cw.mem, &cw.iommu), 0);
	assert_int_equal(siommu_device_create(cw.iommu, SIOMMU_RID(0, 4, 0, 0), 0, 0, &cw.dev), 0);
	for (i = 0; i < NR_PAGING; i++)
		assert_int_equal(paging_create(i), 0);
	assert_int_equal(siommu_domain_create(cw.iommu, &(struct siommu_domain_cfg){
					      .type = SIOMMU_DOMAIN_IDENTITY }, &cw.dom[3]), 0);
	assert_int_equal(siommu_domain_create(cw.iommu, &(struct siommu_domain_cfg){
					      .type = SIOMMU_DOMAIN_BLOCKED }, &cw.dom[4]), 0);
	cw.attached = -1;
}

static void world_down(void)
{
	unsigned int i;

	siommu_device_detach(cw.dev);
	assert_int_equal(siommu_device_destroy(cw.dev), 0);
	for (i = 0; i < NR_DOM; i++)
		assert_int_equal(siommu_domain_destroy(cw.dom[i]), 0);
	assert_int_equal(siommu_iommu_destroy(cw.iommu), 0);
	assert_int_equal(siommu_mem_region_destroy(cw.ram), 0);
	assert_int_equal(siommu_mem_destroy(cw.mem), 0);
	assert_int_equal(siommu_ctx_destroy(cw.ctx), 0);
}

/* What the library sees of a model address (an offset into ram[] in host mode). */
static uint64_t host_base(void)
{
	return host_mode ? (uint64_t)(uintptr_t)ram : 0;
}

static struct rec *rec_at(unsigned int d, uint64_t iova)
{
	unsigned int i;

	for (i = 0; i < cw.nr[d]; i++)
		if (iova >= cw.recs[d][i].iova && iova - cw.recs[d][i].iova < cw.recs[d][i].size)
			return &cw.recs[d][i];
	return NULL;
}

static bool overlaps(unsigned int d, uint64_t iova, uint64_t size)
{
	unsigned int i;

	for (i = 0; i < cw.nr[d]; i++)
		if (iova < cw.recs[d][i].iova + cw.recs[d][i].size &&
		    cw.recs[d][i].iova < iova + size)
			return true;
	return false;
}

/* The model's translation: 0 (pa and prot set) or the fault's errno. */
static int model_xlate(uint64_t iova, unsigned int acc, uint64_t *pa, unsigned int *prot)
{
	struct rec *r;
	unsigned int d;

	if (!acc || (acc & ~SIOMMU_ACC_MASK))
		return -EINVAL;
	if (cw.attached < 0)
		return -ENODATA;
	d = (unsigned int)cw.attached;
	if (d == 4)
		return -EPERM;
	if (d == 3) {
		*pa = iova;
		*prot = SIOMMU_PT_READ | SIOMMU_PT_WRITE;
		return 0;
	}
	r = rec_at(d, iova);
	if (!r)
		return -ENOENT;
	if (!pt_model_allows(dom_fmts[d].fmt, dom_fmts[d].flags, r->prot, acc))
		return -EACCES;
	*pa = r->pa + (iova - r->iova);
	*prot = pt_model_prot(dom_fmts[d].fmt, dom_fmts[d].flags, r->prot);
	return 0;
}

#define DIFF(...)							\
	do {								\
		snprintf(msg, len, __VA_ARGS__);			\
		return false;						\
	} while (0)

static bool cstep(const struct cop *o, char *msg, size_t len)
{
	int64_t lr, mr;

	switch (o->kind) {
	case C_MAP:
		if (host_mode && o->pa + o->size > RAM_SIZE)
			break;		/* only ram[] is host memory of ours */
		lr = siommu_domain_map(cw.dom[o->dom], o->iova, o->pa + host_base(), o->size,
				       o->bits);
		mr = overlaps(o->dom, o->iova, o->size) ? -EEXIST : 0;
		if (lr != mr)
			DIFF("map returned %s, model %s", siommu_errname((int)lr),
			     siommu_errname((int)mr));
		if (!mr) {
			assert_true(cw.nr[o->dom] < MAX_RECS);
			cw.recs[o->dom][cw.nr[o->dom]++] = (struct rec){ o->iova, o->size, o->pa,
									  o->bits };
		}
		break;
	case C_UNMAP: {
		unsigned int i;
		bool exact = false;

		/*
		 * The model knows mappings, not leaves: an unmap that cuts a
		 * mapping may split a leaf or not.  Generated unmaps are exact
		 * or empty; one made partial by shrinking is skipped on both
		 * sides, so that every sequence stays one the model predicts.
		 */
		for (i = 0; i < cw.nr[o->dom]; i++)
			exact |= cw.recs[o->dom][i].iova == o->iova &&
				 cw.recs[o->dom][i].size == o->size;
		if (!exact && overlaps(o->dom, o->iova, o->size))
			break;
		lr = siommu_domain_unmap(cw.dom[o->dom], o->iova, o->size);
		mr = 0;
		for (i = 0; i < cw.nr[o->dom]; i++) {
			struct rec *r = &cw.recs[o->dom][i];

			if (r->iova == o->iova && r->size == o->size) {
				mr = (int64_t)r->size;
				*r = cw.recs[o->dom][--cw.nr[o->dom]];
				break;
			}
		}
		if (lr != mr)
			DIFF("unmap returned %" PRId64 ", model %" PRId64, lr, mr);
		break;
	}
	case C_ATTACH:
		if (o->dom == NR_DOM) {
			lr = siommu_device_detach(cw.dev);
			mr = cw.attached < 0 ? -ENOENT : 0;
			if (!mr)
				cw.attached = -1;
		} else {
			lr = siommu_device_replace(cw.dev, cw.dom[o->dom]);
			mr = 0;
			cw.attached = o->dom;
		}
		if (lr != mr)
			DIFF("attach/replace/detach returned %s, model %s",
			     siommu_errname((int)lr), siommu_errname((int)mr));
		break;
	case C_RECREATE: {
		struct siommu_domain_info before, after;

		/*
		 * Destroy a paging domain (detaching the device first if it is
		 * there) and create it again: it gets the same domain id (the
		 * lowest free), so IOTLB entries the destroy failed to drop
		 * would answer for the new, empty domain.
		 */
		assert_int_equal(siommu_domain_get_info(cw.dom[o->dom], &before), 0);
		if (cw.attached == o->dom) {
			assert_int_equal(siommu_device_detach(cw.dev), 0);
			cw.attached = -1;
		}
		lr = siommu_domain_destroy(cw.dom[o->dom]);
		if (lr)
			DIFF("domain_destroy returned %s", siommu_errname((int)lr));
		cw.dom[o->dom] = NULL;
		lr = paging_create(o->dom);
		if (lr)
			DIFF("domain_create returned %s", siommu_errname((int)lr));
		assert_int_equal(siommu_domain_get_info(cw.dom[o->dom], &after), 0);
		if (after.domid != before.domid)
			DIFF("the new domain got id %u, not the freed %u", after.domid,
			     before.domid);
		cw.nr[o->dom] = 0;
		if (o->bits) {
			/* and attach it where the old one was */
			assert_int_equal(siommu_device_replace(cw.dev, cw.dom[o->dom]), 0);
			cw.attached = o->dom;
		}
		break;
	}
	case C_XLATE: {
		struct siommu_translation t;
		uint64_t pa = 0;
		unsigned int prot = 0;

		lr = siommu_translate(cw.dev, 0, o->iova, o->bits, &t);
		mr = model_xlate(o->iova, o->bits, &pa, &prot);
		if (lr != mr)
			DIFF("translate returned %s (iotlb_hit %d), model %s",
			     siommu_errname((int)lr), !lr && t.iotlb_hit, siommu_errname((int)mr));
		if (!mr && cw.attached != 3)
			pa += host_base();
		if (!lr && (t.pa != pa || t.prot != prot))
			DIFF("translate gave pa 0x%" PRIx64 " prot 0x%x (iotlb_hit %d), model pa 0x%"
			     PRIx64 " prot 0x%x", t.pa, t.prot, t.iotlb_hit, pa, prot);
		break;
	}
	case C_DMA: {
		unsigned int acc = o->write ? SIOMMU_ACC_WRITE : SIOMMU_ACC_READ, prot;
		static uint8_t buf[4 * PG], want[4 * PG];
		uint64_t chunk_pa[8], done = 0, pa = 0;
		size_t n = (size_t)o->size, chunks = 0, c;

		if (host_mode && cw.attached == 3)
			break;		/* identity on host addresses: anywhere; not done */
		/* The model, page by page: the first fault stops it; what came before is done. */
		mr = 0;
		while (done < n) {
			uint64_t addr = o->iova + done;
			uint64_t piece = PG - (addr & (PG - 1));

			if (piece > n - done)
				piece = n - done;
			mr = model_xlate(addr, acc, &pa, &prot);
			if (!mr && cw.attached != 3 && pa + piece > RAM_SIZE)
				mr = -EFAULT;		/* no memory there */
			if (!mr && cw.attached == 3 && (host_mode || pa + piece > RAM_SIZE))
				mr = -EFAULT;
			if (mr)
				break;
			chunk_pa[chunks++] = pa;
			done += piece;
		}
		memset(buf, o->byte, n);
		lr = o->write ? siommu_dma_write(cw.dev, 0, o->iova, buf, n) :
				siommu_dma_read(cw.dev, 0, o->iova, buf, n);
		if (lr != mr)
			DIFF("DMA %s of %zu bytes returned %s, model %s (after %" PRIu64 " bytes)",
			     o->write ? "write" : "read", n, siommu_errname((int)lr),
			     siommu_errname((int)mr), done);
		/* The pieces before the fault (all of them on success) moved their bytes. */
		for (c = 0, done = 0; c < chunks; c++) {
			uint64_t addr = o->iova + done;
			uint64_t piece = PG - (addr & (PG - 1));

			if (piece > n - done)
				piece = n - done;
			if (o->write) {
				memset(want, o->byte, piece);
				if (memcmp(ram + chunk_pa[c], want, piece))
					DIFF("DMA write: piece %zu did not land at pa 0x%" PRIx64,
					     c, chunk_pa[c]);
			} else if (memcmp(buf + done, ram + chunk_pa[c], piece)) {
				DIFF("DMA read: piece %zu is not the bytes at pa 0x%" PRIx64, c,
				     chunk_pa[c]);
			}
			done += piece;
		}
		break;
	}
	}
	return true;
}

/* ------------------------------------------------------------------ generator */

static uint64_t rs;

static uint64_t rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 0x2545f4914f6cdd1dull;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* A small window, so IOVAs are reused: 8 MiB at 0, and 1 GiB slots above. */
static uint64_t pick_iova(void)
{
	if (below(8) == 0)
		return SZ_1G * (1 + below(3)) + below(SZ_1G);
	return below(8ull << 20);
}

static void gen(struct cop *o)
{
	uint64_t r = below(100);

	memset(o, 0, sizeof(*o));
	if (r < 25) {
		unsigned int k = (unsigned int)below(10);

		o->kind = C_MAP;
		o->dom = (uint8_t)below(NR_PAGING);
		o->bits = (unsigned int)below(SIOMMU_PT_PROT_MASK + 1) |
			  (below(3) ? SIOMMU_PT_READ : SIOMMU_PT_WRITE);
		if (!with_priv)
			o->bits &= ~SIOMMU_PT_PRIV;
		if (k < 7) {
			o->size = PG * (1 + below(16));
			o->iova = below(8ull << 20) & ~(PG - 1);
			o->pa = below(RAM_SIZE - o->size) & ~(PG - 1);
		} else if (k < 9) {
			o->size = SZ_2M;
			o->iova = below(4) * SZ_2M;
			o->pa = below(RAM_SIZE / SZ_2M) * SZ_2M;
		} else {
			o->size = SZ_1G;
			o->iova = SZ_1G * (1 + below(3));
			o->pa = SZ_1G * below(4);	/* RAM only in the first 32 MiB */
		}
	} else if (r < 40) {
		unsigned int d = (unsigned int)below(NR_PAGING);

		o->kind = C_UNMAP;
		o->dom = (uint8_t)d;
		if (cw.nr[d] && below(4)) {
			struct rec *rec = &cw.recs[d][below(cw.nr[d])];

			o->iova = rec->iova;
			o->size = rec->size;
		} else {
			/* an empty range (nothing mapped there: 0 bytes) */
			o->iova = 60ull << 20;
			o->size = PG;
		}
	} else if (r < 48) {
		o->kind = C_RECREATE;
		o->dom = (uint8_t)below(NR_PAGING);
		o->bits = cw.attached == o->dom;
	} else if (r < 52) {
		o->kind = C_ATTACH;
		o->dom = (uint8_t)(below(8) == 0 ? NR_DOM : below(NR_DOM));
	} else if (r < 75) {
		struct rec *rec;
		unsigned int d;

		o->kind = C_XLATE;
		o->bits = 1 + (unsigned int)below(15);
		if (!with_priv)
			o->bits &= ~SIOMMU_ACC_PRIV;
		if (!o->bits)
			o->bits = SIOMMU_ACC_READ;
		o->iova = pick_iova();
		d = (unsigned int)below(NR_PAGING);
		if (cw.nr[d] && below(2)) {
			rec = &cw.recs[d][below(cw.nr[d])];
			o->iova = rec->iova + below(rec->size);
		}
	} else {
		struct rec *rec;
		unsigned int d;

		o->kind = C_DMA;
		o->write = (uint8_t)below(2);
		o->byte = (uint8_t)rnd();
		o->iova = pick_iova();
		d = (unsigned int)below(NR_PAGING);
		if (cw.nr[d] && below(3)) {
			rec = &cw.recs[d][below(cw.nr[d])];
			o->iova = rec->iova + below(rec->size);
		}
		/* within a page, or across up to four (runs of pages, a fault midway) */
		o->size = below(3) ? 1 + below(64) : 1 + below(3 * PG);
	}
}

/* ------------------------------------------------------------------ running, shrinking */

static struct cop ops[MAX_OPS], cur[MAX_OPS], trial[MAX_OPS];

/* Run @n ops on a fresh world: the first diverging op, or -1. */
static int replay(const struct cop *list, unsigned int n, char *msg, size_t len)
{
	unsigned int i;
	int at = -1;

	world_up();
	for (i = 0; i < n; i++)
		if (!cstep(&list[i], msg, len)) {
			at = (int)i;
			break;
		}
	world_down();
	return at;
}

static int shrink_replay(void *opaque, const void *list, unsigned int n)
{
	char msg[256];

	(void)opaque;
	return replay(list, n, msg, sizeof(msg));
}

/* Delta debugging of cur[0 .. len - 1] (tests/common/shrink.h). */
static unsigned int shrink(unsigned int len, unsigned int *replays)
{
	return dd_shrink(cur, trial, sizeof(*cur), len, shrink_replay, NULL, replays);
}

static void print_cop(const struct cop *o)
{
	static const char *const dn[] = { "x86-64", "vtd-ss", "arm", "identity", "blocked",
					   "none" };

	switch (o->kind) {
	case C_MAP:
		printf("  map    dom=%s iova=0x%" PRIx64 " size=0x%" PRIx64 " pa=0x%" PRIx64
		       " prot=0x%x\n", dn[o->dom], o->iova, o->size, o->pa, o->bits);
		break;
	case C_UNMAP:
		printf("  unmap  dom=%s iova=0x%" PRIx64 " size=0x%" PRIx64 "\n", dn[o->dom],
		       o->iova, o->size);
		break;
	case C_ATTACH:
		printf("  %s dom=%s\n", o->dom == NR_DOM ? "detach" : "replace", dn[o->dom]);
		break;
	case C_XLATE:
		printf("  translate iova=0x%" PRIx64 " access=0x%x\n", o->iova, o->bits);
		break;
	case C_RECREATE:
		printf("  recreate dom=%s%s\n", dn[o->dom], o->bits ? " (and attach it)" : "");
		break;
	case C_DMA:
		printf("  dma-%s iova=0x%" PRIx64 " len=%" PRIu64 "\n", o->write ? "write" : "read",
		       o->iova, o->size);
		break;
	}
}

/* One generated sequence; on a difference, shrink, replay, print; false. */
static bool one(uint64_t seed, unsigned int n, unsigned long *nops, unsigned int *shrunk)
{
	unsigned int i, len, replays;
	char msg[256], msg2[256];
	int at = -1, at2;

	rs = seed * 0x9e3779b97f4a7c15ull + 7;
	world_up();
	for (i = 0; i < n; i++) {
		gen(&ops[i]);
		if (!cstep(&ops[i], msg, sizeof(msg))) {
			at = (int)i;
			break;
		}
	}
	world_down();
	*nops += at < 0 ? n : (unsigned long)at + 1;
	if (at < 0)
		return true;
	memcpy(cur, ops, ((unsigned int)at + 1) * sizeof(*ops));
	len = shrink((unsigned int)at + 1, &replays);
	at2 = replay(cur, len, msg2, sizeof(msg2));
	*shrunk = len;
	printf("DIFF: seed %" PRIu64 " (%s): op %d: %s\n", seed,
	       host_mode ? "host addresses" : "memory map", at, msg);
	printf("DIFF: shortest sequence: %u ops (%u replays while shrinking); replayed: %s\n",
	       len, replays, at2 >= 0 ? "diverges again" : "DOES NOT diverge");
	if (at2 >= 0)
		printf("DIFF: at op %d: %s\n", at2, msg2);
	for (i = 0; i < len; i++)
		print_cop(&cur[i]);
	fflush(stdout);
	return false;
}

static void test_core_diff_slice(void **state)
{
	const char *env = getenv("SIOMMU_CORE_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 20261202;
	unsigned long nops = 0;
	unsigned int s, shrunk = 0;

	printf("# seed %" PRIu64 " (SIOMMU_CORE_SEED=N for another)\n", seed);
	for (s = 0; s < 12; s++) {
		host_mode = s & 1;
		assert_true(one(seed + s, 500, &nops, &shrunk));
	}
	host_mode = false;
	printf("# %u sequences (memory map and host addresses), %lu ops, no difference\n", s,
	       nops);
}

static int setup(void **state)
{
	ram = aligned_alloc(SZ_2M, RAM_SIZE);
	return ram ? 0 : -1;
}

static int teardown(void **state)
{
	free(ram);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_diff_slice),
	};
	double seconds = -1, t0;
	unsigned int n;
	uint64_t seed = (uint64_t)time(NULL);
	unsigned long nops = 0, seqs = 0;
	unsigned int shrunk;
	int i;
	bool ok = true;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--no-priv"))
			with_priv = false;
		else {
			fprintf(stderr, "usage: %s [--seconds S] [--seed N] [--no-priv]\n", argv[0]);
			return 2;
		}
	}
	if (seconds < 0)
		return cmocka_run_group_tests_name("core_diff", tests, setup, teardown);
	setup(NULL);
	printf("# core diff: seed %" PRIu64 ", %.0f s, privileged requests %s\n", seed, seconds,
	       with_priv ? "in" : "out");
	for (t0 = test_now_s(); ok && (test_now_s() - t0 < seconds || !seqs); seqs++, seed++) {
		n = 200 + (unsigned int)(seed % 1500);
		host_mode = seed & 1;
		ok = one(seed, n, &nops, &shrunk);
	}
	printf("# %lu sequences, %lu ops: %s\n", seqs, nops, ok ? "no difference" : "DIFFERENCE");
	teardown(NULL);
	return ok ? 0 : 1;
}
