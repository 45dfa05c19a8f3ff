// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The per-thread translation hint (src/core/translate.c): it serves a
 * repeated translation, and every change that could make it stale makes it
 * miss instead: unmap, every kind of IOTLB invalidation (range with a PASID
 * or any, PASID in a domain or in all, domain, all, the core's
 * siommu_domain_invalidate()), an insert that rewrites the entry, detach,
 * replace, PASID attachments, domain destroy and a new domain in its place,
 * and a second device on the same domain.  A hint that served a stale
 * translation shows up as a wrong output address, or as iotlb_hit with no
 * walk where the IOTLB no longer holds the page.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"

#include <softiommu/core.h>
#include <softiommu/iotlb.h>
#include "siommu_config.h"
#include "core/core_internal.h"

#define RID0	SIOMMU_RID(0, 1, 0, 0)
#define RID1	SIOMMU_RID(0, 2, 0, 0)
#define PG	0x1000ull
#define IOVA	0x400000ull
#define PA1	0x10000000ull
#define PA2	0x20000000ull
#define PA3	0x30000000ull
#define PG_GAP	0x100000ull	/* where mkdom()'s pages after the first go */

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;	/* PASID capable (8 bits) */
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static int setup(void **state)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 20 };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx))
		return -1;
	siommu_ctx_set_log(f->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	if (siommu_iommu_create(f->ctx, &caps, NULL, &f->iommu) ||
	    siommu_device_create(f->iommu, RID0, SIOMMU_DEV_PASID, 8, &f->dev))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(siommu_device_destroy(f->dev), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static struct siommu_domain *mkdom(struct fixture *f, uint64_t pa)
{
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING,
		.fmt = SIOMMU_PT_FMT_X86_64,
	};
	struct siommu_domain *d = NULL;

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	/*
	 * IOVA alone (its output does not continue into the next page's, so
	 * its IOTLB entry is one page), then a run of three pages at @pa +
	 * PG_GAP (one run entry): the cases below are about one page's hint.
	 */
	assert_int_equal(siommu_domain_map(d, IOVA, pa, PG,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	assert_int_equal(siommu_domain_map(d, IOVA + PG, pa + PG_GAP, 3 * PG,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	return d;
}

static uint64_t walks(struct fixture *f)
{
	struct siommu_iommu_stats st;

	assert_int_equal(siommu_iommu_get_stats(f->iommu, &st), 0);
	return st.iotlb_misses;
}

static uint64_t hits(struct fixture *f)
{
	struct siommu_iommu_stats st;

	assert_int_equal(siommu_iommu_get_stats(f->iommu, &st), 0);
	return st.iotlb_hits;
}

/* Translate @iova for a read on (@dev, @pasid); expect @pa and whether it hit. */
static void expect(struct siommu_device *dev, uint32_t pasid, uint64_t iova,
		   uint64_t pa, bool hit)
{
	struct siommu_translation t;

	assert_int_equal(siommu_translate(dev, pasid, iova, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, pa);
	assert_int_equal(t.iotlb_hit, hit);
}

/* Fill the hint for (dev, pasid, IOVA): a walk, then a hit. */
static void warm(struct siommu_device *dev, uint32_t pasid, uint64_t pa)
{
	struct siommu_translation t;

	assert_int_equal(siommu_translate(dev, pasid, IOVA + 8, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, pa + 8);
	expect(dev, pasid, IOVA + 16, pa + 16, true);
}

/* The hint serves repeated translations, counted as IOTLB hits. */
static void test_core_hint_hits_and_counts(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, PA1);
	uint64_t w, h;
	int i;

	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	warm(f->dev, 0, PA1);
	w = walks(f);
	h = hits(f);
	for (i = 0; i < 100; i++)
		expect(f->dev, 0, IOVA + (uint64_t)i * 8, PA1 + (uint64_t)i * 8, true);
	assert_int_equal(walks(f), w);
	assert_int_equal(hits(f), h + 100);
	/* Another page: the IOTLB (a walk), and the hint follows it. */
	expect(f->dev, 0, IOVA + PG, PA1 + PG_GAP, false);
	expect(f->dev, 0, IOVA + PG + 4, PA1 + PG_GAP + 4, true);
	expect(f->dev, 0, IOVA + 4, PA1 + 4, true);	/* back: still in the IOTLB */
	/* A write after read walks (dirty), then hits. */
	{
		struct siommu_translation t;

		assert_int_equal(siommu_translate(f->dev, 0, IOVA, SIOMMU_ACC_WRITE, &t), 0);
		assert_false(t.iotlb_hit);
		assert_int_equal(siommu_translate(f->dev, 0, IOVA, SIOMMU_ACC_WRITE, &t), 0);
		assert_true(t.iotlb_hit);
		/* Execute never comes from the hint. */
		assert_int_equal(siommu_translate(f->dev, 0, IOVA, SIOMMU_ACC_READ |
						  SIOMMU_ACC_EXEC, &t), 0);
		assert_false(t.iotlb_hit);
	}
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
}

/* Unmap and map the page elsewhere: the new translation, never the hint's. */
static void test_core_hint_misses_after_unmap(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, PA1);
	struct siommu_translation t;

	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	warm(f->dev, 0, PA1);
	assert_int_equal(siommu_domain_unmap(a, IOVA, PG), (int64_t)PG);
	assert_int_equal(siommu_translate(f->dev, 0, IOVA + 8, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_domain_map(a, IOVA, PA3, PG, SIOMMU_PT_READ), 0);
	expect(f->dev, 0, IOVA + 8, PA3 + 8, false);
	expect(f->dev, 0, IOVA + 8, PA3 + 8, true);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
}

enum inv_kind {
	INV_CORE_RANGE,		/* siommu_domain_invalidate() */
	INV_RANGE_PASID,
	INV_RANGE_ANY,
	INV_PASID,
	INV_PASID_ANY_DOMAIN,
	INV_DOMAIN,
	INV_ALL,
	INV_NR
};

/* Every kind of invalidation covering the page makes the hint miss (a walk). */
static void test_core_hint_misses_after_every_invalidation(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, PA1);
	struct siommu_domain_info info;
	struct siommu_iotlb *tlb = f->iommu->iotlb;
	unsigned int k;
	uint64_t w;

	assert_int_equal(siommu_domain_get_info(a, &info), 0);
	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	for (k = 0; k < INV_NR; k++) {
		warm(f->dev, 0, PA1);
		w = walks(f);
		switch (k) {
		case INV_CORE_RANGE:
			assert_int_equal(siommu_domain_invalidate(a, IOVA, PG, 0), 0);
			break;
		case INV_RANGE_PASID:
			assert_int_equal(siommu_iotlb_inv_range(tlb, info.domid, 0,
								IOVA + 100, 1), 0);
			break;
		case INV_RANGE_ANY:
			assert_int_equal(siommu_iotlb_inv_range(tlb, info.domid,
								SIOMMU_IOTLB_PASID_ANY,
								IOVA - PG, 2 * PG), 0);
			break;
		case INV_PASID:
			assert_int_equal(siommu_iotlb_inv_pasid(tlb, info.domid, 0), 0);
			break;
		case INV_PASID_ANY_DOMAIN:
			assert_int_equal(siommu_iotlb_inv_pasid(tlb, SIOMMU_IOTLB_DOMID_ANY, 0), 0);
			break;
		case INV_DOMAIN:
			assert_int_equal(siommu_iotlb_inv_domain(tlb, info.domid), 0);
			break;
		default:
			assert_int_equal(siommu_iotlb_inv_all(tlb), 0);
			break;
		}
		expect(f->dev, 0, IOVA + 8, PA1 + 8, false);
		assert_int_equal(walks(f), w + 1);
	}
	/* An invalidation elsewhere leaves the hint alone. */
	warm(f->dev, 0, PA1);
	assert_int_equal(siommu_iotlb_inv_range(tlb, info.domid, 0, IOVA + PG, PG), 0);
	assert_int_equal(siommu_iotlb_inv_pasid(tlb, info.domid, 5), 0);
	expect(f->dev, 0, IOVA + 8, PA1 + 8, true);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
}

/*
 * An insert that rewrites the entry (same tag, another address) and an
 * eviction of it: the hint follows the IOTLB, never the old copy.
 */
static void test_core_hint_follows_entry_rewrite_and_eviction(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, PA1);
	struct siommu_iotlb *tlb = f->iommu->iotlb;
	struct siommu_domain_info info;
	struct siommu_iotlb_entry e = { .iova = IOVA, .addr = PA2, .size_lg2 = 12,
					.prot = SIOMMU_PT_READ };
	struct siommu_iotlb_stats ts;
	struct siommu_iotlb_seq seq;
	uint64_t i;

	assert_int_equal(siommu_domain_get_info(a, &info), 0);
	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	warm(f->dev, 0, PA1);
	/* What a device would see if the table changed without an invalidation. */
	assert_int_equal(siommu_iotlb_seq_begin(tlb, info.domid, 0, IOVA, &seq), 0);
	assert_int_equal(siommu_iotlb_insert(tlb, info.domid, 0, &e, &seq), 0);
	expect(f->dev, 0, IOVA + 8, PA2 + 8, true);
	/* Evict it: fill the IOTLB with other pages of another domain id. */
	assert_int_equal(siommu_iotlb_get_stats(tlb, &ts), 0);
	for (i = 0; i < 4ull * ts.capacity; i++) {
		struct siommu_iotlb_entry o = { .iova = i * PG, .addr = PA3, .size_lg2 = 12,
						.prot = SIOMMU_PT_READ };

		assert_int_equal(siommu_iotlb_seq_begin(tlb, info.domid + 1, 0, o.iova, &seq), 0);
		assert_int_equal(siommu_iotlb_insert(tlb, info.domid + 1, 0, &o, &seq), 0);
	}
	assert_int_equal(siommu_iotlb_lookup(tlb, info.domid, 0, IOVA, &e), -ENOENT);
	expect(f->dev, 0, IOVA + 8, PA1 + 8, false);	/* walked: the table's answer */
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
}

/* Detach, replace, attach again, PASIDs: the domain attached now decides. */
static void test_core_hint_follows_attachment(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, PA1), *b = mkdom(f, PA2);
	struct siommu_translation t;

	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	warm(f->dev, 0, PA1);
	assert_int_equal(siommu_device_replace(f->dev, b), 0);
	expect(f->dev, 0, IOVA + 8, PA2 + 8, false);
	expect(f->dev, 0, IOVA + 8, PA2 + 8, true);
	/* Back to A: its IOTLB entry was never invalidated, and is right. */
	assert_int_equal(siommu_device_replace(f->dev, a), 0);
	expect(f->dev, 0, IOVA + 8, PA1 + 8, true);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_translate(f->dev, 0, IOVA + 8, SIOMMU_ACC_READ, &t), -ENODATA);
	assert_int_equal(t.reason, SIOMMU_FAULT_NO_DOMAIN);
	/* PASID 1 on A, PASID 2 on B: one hint slot, never mixed up. */
	assert_int_equal(siommu_pasid_attach(f->dev, 1, a), 0);
	assert_int_equal(siommu_pasid_attach(f->dev, 2, b), 0);
	warm(f->dev, 1, PA1);
	expect(f->dev, 2, IOVA + 8, PA2 + 8, false);
	expect(f->dev, 1, IOVA + 8, PA1 + 8, true);
	expect(f->dev, 2, IOVA + 8, PA2 + 8, true);
	assert_int_equal(siommu_translate(f->dev, 3, IOVA + 8, SIOMMU_ACC_READ, &t), -ENODATA);
	assert_int_equal(siommu_pasid_replace(f->dev, 1, b), 0);
	/* B has no entry for PASID 1 yet (the tag has the PASID): a walk. */
	expect(f->dev, 1, IOVA + 8, PA2 + 8, false);
	assert_int_equal(siommu_pasid_detach(f->dev, 1), 0);
	assert_int_equal(siommu_pasid_detach(f->dev, 2), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(b), 0);
}

/*
 * A domain destroyed and a new one created (often at the same address) and
 * attached: the new domain's translation.  A second device on one domain:
 * each device's own attachment.
 */
static void test_core_hint_domain_reuse_and_devices(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, PA1), *c, *b;
	struct siommu_device *dev2;
	int round;

	for (round = 0; round < 8; round++) {
		assert_int_equal(siommu_device_attach(f->dev, a), 0);
		warm(f->dev, 0, round & 1 ? PA3 : PA1);
		assert_int_equal(siommu_device_detach(f->dev), 0);
		assert_int_equal(siommu_domain_destroy(a), 0);
		c = mkdom(f, round & 1 ? PA1 : PA3);
		assert_int_equal(siommu_device_attach(f->dev, c), 0);
		expect(f->dev, 0, IOVA + 16, (round & 1 ? PA1 : PA3) + 16, false);
		assert_int_equal(siommu_device_detach(f->dev), 0);
		a = c;
	}
	b = mkdom(f, PA2);
	assert_int_equal(siommu_device_create(f->iommu, RID1, 0, 0, &dev2), 0);
	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	assert_int_equal(siommu_device_attach(dev2, b), 0);
	warm(f->dev, 0, PA1);
	expect(dev2, 0, IOVA + 8, PA2 + 8, false);
	expect(f->dev, 0, IOVA + 8, PA1 + 8, true);
	/* dev2 destroyed, another device created in its place, attached to A. */
	assert_int_equal(siommu_device_detach(dev2), 0);
	assert_int_equal(siommu_device_destroy(dev2), 0);
	assert_int_equal(siommu_device_create(f->iommu, RID1, 0, 0, &dev2), 0);
	assert_int_equal(siommu_device_attach(dev2, a), 0);
	expect(dev2, 0, IOVA + 8, PA1 + 8, true);	/* A's entry: right for A */
	assert_int_equal(siommu_device_detach(dev2), 0);
	assert_int_equal(siommu_device_destroy(dev2), 0);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(b), 0);
}

#define X86_A	(1ull << 5)	/* accessed (src/pgtable/fmt/x86_64.h) */
#define X86_D	(1ull << 6)	/* dirty */

static uint64_t leaf(struct siommu_domain *d, uint64_t iova)
{
	struct siommu_pt_walk w;

	assert_int_equal(siommu_pt_walk(d->pt, iova, &w), 0);
	assert_int_equal(w.leaf_level, 0);
	return w.entry[0];
}

/*
 * Run entries (one IOTLB entry for a run of contiguous 4 KiB leaves): one
 * walk serves every page of the run, and the hint covers it; the leaves of
 * the run are marked accessed, none dirty; a write walks and dirties its
 * page only; a page of other permissions, a supervisor-only page or a gap
 * ends the run; an unmap of one page removes the whole run before it
 * returns; execute requests neither use nor make runs; DMA over the run
 * is one translation.
 */
static void test_core_hint_runs(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
	};
	const uint64_t rw = SIOMMU_PT_READ | SIOMMU_PT_WRITE;
	struct siommu_translation t;
	struct siommu_domain *d;
	uint64_t w, i, *host;
	uint8_t buf[16 * PG];

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	/* 16 pages at PA1..; page 16 read-only, 17 supervisor-only, 18 after a gap. */
	assert_int_equal(siommu_domain_map(d, IOVA, PA1, 16 * PG, rw), 0);
	assert_int_equal(siommu_domain_map(d, IOVA + 16 * PG, PA1 + 16 * PG, PG,
					   SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_domain_map(d, IOVA + 17 * PG, PA1 + 17 * PG, PG,
					   rw | SIOMMU_PT_PRIV), 0);
	assert_int_equal(siommu_domain_map(d, IOVA + 18 * PG, PA1 + 19 * PG, PG, rw), 0);
	assert_int_equal(siommu_device_attach(f->dev, d), 0);

	expect(f->dev, 0, IOVA + 5 * PG + 8, PA1 + 5 * PG + 8, false);
	w = walks(f);
	for (i = 0; i < 16; i++) {
		expect(f->dev, 0, IOVA + i * PG + 40, PA1 + i * PG + 40, true);
		assert_int_equal(leaf(d, IOVA + i * PG) & (X86_A | X86_D), X86_A);
	}
	assert_int_equal(walks(f), w);	/* one walk for the 16 pages */
	/* Not the read-only, supervisor-only or gapped pages: never accessed. */
	assert_int_equal(leaf(d, IOVA + 16 * PG) & X86_A, 0);
	assert_int_equal(leaf(d, IOVA + 17 * PG) & X86_A, 0);
	expect(f->dev, 0, IOVA + 16 * PG, PA1 + 16 * PG, false);
	assert_int_equal(siommu_translate(f->dev, 0, IOVA + 17 * PG, SIOMMU_ACC_READ, &t),
			 -EACCES);
	expect(f->dev, 0, IOVA + 18 * PG, PA1 + 19 * PG, false);

	/* A write: walks, dirties its page only, then hits. */
	w = walks(f);
	assert_int_equal(siommu_translate(f->dev, 0, IOVA + 7 * PG, SIOMMU_ACC_WRITE, &t), 0);
	assert_false(t.iotlb_hit);
	assert_int_equal(walks(f), w + 1);
	for (i = 0; i < 16; i++)
		assert_int_equal(!!(leaf(d, IOVA + i * PG) & X86_D), i == 7);
	assert_int_equal(siommu_translate(f->dev, 0, IOVA + 7 * PG, SIOMMU_ACC_WRITE, &t), 0);
	assert_true(t.iotlb_hit);
	assert_int_equal(siommu_translate(f->dev, 0, IOVA + 8 * PG, SIOMMU_ACC_WRITE, &t), 0);
	assert_false(t.iotlb_hit);	/* the run was filled by a read: not for writes */
	/* Execute walks, and makes no run. */
	w = walks(f);
	assert_int_equal(siommu_translate(f->dev, 0, IOVA + 3 * PG,
					  SIOMMU_ACC_READ | SIOMMU_ACC_EXEC, &t), 0);
	assert_false(t.iotlb_hit);
	assert_int_equal(walks(f), w + 1);

	/* Unmap one page of the run: gone when unmap returns; the rest walks. */
	expect(f->dev, 0, IOVA + 9 * PG, PA1 + 9 * PG, true);
	assert_int_equal(siommu_domain_unmap(d, IOVA + 10 * PG, PG), (int64_t)PG);
	assert_int_equal(siommu_translate(f->dev, 0, IOVA + 10 * PG, SIOMMU_ACC_READ, &t),
			 -ENOENT);
	w = walks(f);
	expect(f->dev, 0, IOVA + 9 * PG, PA1 + 9 * PG, false);
	expect(f->dev, 0, IOVA + 0 * PG, PA1, true);		/* run 0..9 */
	expect(f->dev, 0, IOVA + 11 * PG, PA1 + 11 * PG, false);
	expect(f->dev, 0, IOVA + 15 * PG, PA1 + 15 * PG, true);	/* run 11..15 */
	assert_int_equal(walks(f), w + 2);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(d), 0);

	/* DMA over a run of host memory: one walk, the bytes of every page. */
	host = NULL;
	assert_int_equal(posix_memalign((void **)&host, PG, 16 * PG), 0);
	for (i = 0; i < 16 * PG / 8; i++)
		host[i] = i;
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	assert_int_equal(siommu_domain_map(d, IOVA, (uintptr_t)host, 16 * PG, rw), 0);
	assert_int_equal(siommu_device_attach(f->dev, d), 0);
	w = walks(f);
	assert_int_equal(siommu_dma_read(f->dev, 0, IOVA + 8, buf, sizeof(buf) - 8), 0);
	assert_int_equal(walks(f), w + 1);
	assert_memory_equal(buf, (uint8_t *)host + 8, sizeof(buf) - 8);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(d), 0);
	free(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_core_hint_hits_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_hint_misses_after_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_hint_misses_after_every_invalidation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_hint_follows_entry_rewrite_and_eviction,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_hint_follows_attachment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_hint_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_hint_domain_reuse_and_devices,
						setup, teardown),
	};

	/* SIOMMU_STRESS_BREAK=1: the hint trusts its key (it must then fail). */
	if (test_break_requested()) {
#if SIOMMU_TESTING_BUILD
		core_test_set_hint_unchecked(true);
#else
		test_break_unsupported("core_test_set_hint_unchecked() needs -Dtesting=true");
#endif
	}
	return cmocka_run_group_tests_name("core_hint", tests, NULL, NULL);
}
