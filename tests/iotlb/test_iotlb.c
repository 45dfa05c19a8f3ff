// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the IOTLB: hits and misses, page sizes, tags, replacement,
 * every kind of invalidation, the stale-insert rule, statistics, bad input,
 * and a randomized run against a reference model.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"

#include <softiommu/iotlb.h>

#define K4	0x1000ull
#define M2	0x200000ull
#define G1	0x40000000ull

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iotlb *tlb;
};

static int make(void **state, uint32_t capacity, uint32_t ways)
{
	struct siommu_iotlb_config cfg = { .capacity = capacity, .ways = ways };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx))
		return -1;
	if (siommu_iotlb_create(f->ctx, &cfg, &f->tlb))
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return make(state, 64, 4);
}

/* Room for every entry a test inserts, wherever the sets fall. */
static int setup_big(void **state)
{
	return make(state, 1024, 4);
}

static int setup_one_set(void **state)
{
	return make(state, 4, 4);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	siommu_iotlb_destroy(f->tlb);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static int ins(struct siommu_iotlb *tlb, uint32_t dom, uint32_t pasid,
	       uint64_t iova, uint64_t addr, unsigned int lg2, unsigned int prot)
{
	struct siommu_iotlb_entry e = {
		.iova = iova, .addr = addr, .size_lg2 = lg2, .prot = prot,
	};
	struct siommu_iotlb_seq seq;
	int ret;

	ret = siommu_iotlb_seq_begin(tlb, dom, pasid, iova, &seq);
	if (ret)
		return ret;
	return siommu_iotlb_insert(tlb, dom, pasid, &e, &seq);
}

static bool hit(struct siommu_iotlb *tlb, uint32_t dom, uint32_t pasid, uint64_t iova)
{
	struct siommu_iotlb_entry e;

	return siommu_iotlb_lookup(tlb, dom, pasid, iova, &e) == 0;
}

static int count_fn(void *opaque, uint32_t dom, uint32_t pasid,
		    const struct siommu_iotlb_entry *e)
{
	(*(unsigned int *)opaque)++;
	return 0;
}

static unsigned int count(struct siommu_iotlb *tlb)
{
	unsigned int n = 0;

	assert_int_equal(siommu_iotlb_for_each(tlb, count_fn, &n), 0);
	return n;
}

static struct siommu_iotlb_stats stats(struct siommu_iotlb *tlb)
{
	struct siommu_iotlb_stats st;

	assert_int_equal(siommu_iotlb_get_stats(tlb, &st), 0);
	return st;
}

/* ------------------------------------------------------------------ create */

static void test_iotlb_create_rejects_bad_config(void **state)
{
	static const struct siommu_iotlb_config bad[] = {
		{ .capacity = 48, .ways = 4 },		/* not a power of two */
		{ .capacity = 64, .ways = 3 },
		{ .capacity = 64, .ways = 32 },		/* above WAYS_MAX */
		{ .capacity = 4, .ways = 8 },		/* ways above capacity */
		{ .capacity = SIOMMU_IOTLB_CAPACITY_MAX * 2, .ways = 4 },
	};
	struct siommu_iotlb *tlb = (void *)0x1;
	struct siommu_ctx *ctx;
	unsigned int i;

	assert_int_equal(siommu_ctx_create(&ctx), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(siommu_iotlb_create(ctx, &bad[i], &tlb), -EINVAL);
		assert_ptr_equal(tlb, (void *)0x1);
	}
	assert_int_equal(siommu_iotlb_create(NULL, NULL, &tlb), -EINVAL);
	assert_int_equal(siommu_iotlb_create(ctx, NULL, NULL), -EINVAL);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

static void test_iotlb_create_defaults(void **state)
{
	struct siommu_iotlb_stats st;
	struct siommu_iotlb *tlb;
	struct siommu_ctx *ctx;

	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_iotlb_create(ctx, NULL, &tlb), 0);
	st = stats(tlb);
	assert_int_equal(st.capacity, SIOMMU_IOTLB_DEFAULT_CAPACITY);
	assert_int_equal(st.ways, SIOMMU_IOTLB_DEFAULT_WAYS);
	/* An IOTLB holds its context busy. */
	assert_int_equal(siommu_ctx_destroy(ctx), -EBUSY);
	siommu_iotlb_destroy(tlb);
	siommu_iotlb_destroy(NULL);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

static void test_iotlb_create_fail_nth_leaves_nothing(void **state)
{
	struct siommu_iotlb *tlb = NULL;
	struct siommu_ctx *ctx;
	unsigned long n;
	int ret = -ENOMEM;

	if (!siommu_testing_build())
		skip();
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	for (n = 1; ret == -ENOMEM; n++) {
		assert_true(n < 100);
		siommu_test_fail_nth(n);
		ret = siommu_iotlb_create(ctx, NULL, &tlb);
		siommu_test_fail_nth(0);
	}
	assert_int_equal(ret, 0);
	assert_true(n > 2);	/* at least one allocation was made to fail */
	siommu_iotlb_destroy(tlb);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

/* ------------------------------------------------------------------ lookup */

static void test_iotlb_lookup_empty_misses(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e;

	assert_int_equal(siommu_iotlb_lookup(f->tlb, 1, 0, 0x1000, &e), -ENOENT);
	assert_int_equal(stats(f->tlb).misses, 1);
	assert_int_equal(stats(f->tlb).hits, 0);
}

static void test_iotlb_insert_then_hit_4k(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e;

	assert_int_equal(ins(f->tlb, 1, 0, 0x7000, 0xabc000, 12, 3), 0);
	assert_int_equal(siommu_iotlb_lookup(f->tlb, 1, 0, 0x7123, &e), 0);
	assert_int_equal(e.iova, 0x7000);
	assert_int_equal(e.addr, 0xabc000);
	assert_int_equal(e.size_lg2, 12);
	assert_int_equal(e.prot, 3);
	assert_true(hit(f->tlb, 1, 0, 0x7fff));
	assert_false(hit(f->tlb, 1, 0, 0x8000));
	assert_false(hit(f->tlb, 1, 0, 0x6fff));
}

static void test_iotlb_hit_large_pages(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e;

	assert_int_equal(ins(f->tlb, 1, 0, 3 * M2, 7 * M2, 21, 1), 0);
	assert_int_equal(ins(f->tlb, 1, 0, 5 * G1, 9 * G1, 30, 2), 0);
	assert_int_equal(siommu_iotlb_lookup(f->tlb, 1, 0, 4 * M2 - 1, &e), 0);
	assert_int_equal(e.iova, 3 * M2);
	assert_int_equal(e.addr, 7 * M2);
	assert_int_equal(e.size_lg2, 21);
	assert_false(hit(f->tlb, 1, 0, 4 * M2));
	assert_false(hit(f->tlb, 1, 0, 3 * M2 - 1));
	assert_int_equal(siommu_iotlb_lookup(f->tlb, 1, 0, 5 * G1 + 0x12345678, &e), 0);
	assert_int_equal(e.iova, 5 * G1);
	assert_int_equal(e.addr, 9 * G1);
	assert_int_equal(e.size_lg2, 30);
	assert_int_equal(e.prot, 2);
	assert_false(hit(f->tlb, 1, 0, 6 * G1));
}

static void test_iotlb_tag_separates_domain_and_pasid(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e;

	assert_int_equal(ins(f->tlb, 1, 5, 0x10000, 0x1000, 12, 1), 0);
	assert_int_equal(ins(f->tlb, 2, 5, 0x10000, 0x2000, 12, 1), 0);
	assert_int_equal(ins(f->tlb, 1, 6, 0x10000, 0x3000, 12, 1), 0);
	assert_int_equal(siommu_iotlb_lookup(f->tlb, 1, 5, 0x10000, &e), 0);
	assert_int_equal(e.addr, 0x1000);
	assert_int_equal(siommu_iotlb_lookup(f->tlb, 2, 5, 0x10000, &e), 0);
	assert_int_equal(e.addr, 0x2000);
	assert_int_equal(siommu_iotlb_lookup(f->tlb, 1, 6, 0x10000, &e), 0);
	assert_int_equal(e.addr, 0x3000);
	assert_false(hit(f->tlb, 2, 6, 0x10000));
	assert_false(hit(f->tlb, 3, 5, 0x10000));
}

static void test_iotlb_lookup_rejects_bad_tag(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e;

	assert_int_equal(siommu_iotlb_lookup(NULL, 1, 0, 0, &e), -EINVAL);
	assert_int_equal(siommu_iotlb_lookup(f->tlb, 1, 0, 0, NULL), -EINVAL);
	assert_int_equal(siommu_iotlb_lookup(f->tlb, 1, SIOMMU_IOTLB_PASID_MAX + 1, 0, &e),
			 -EINVAL);
	assert_int_equal(siommu_iotlb_lookup(f->tlb, SIOMMU_IOTLB_DOMID_ANY, 0, 0, &e),
			 -EINVAL);
	/* The largest PASID is fine. */
	assert_int_equal(ins(f->tlb, 1, SIOMMU_IOTLB_PASID_MAX, 0, 0, 12, 0), 0);
	assert_true(hit(f->tlb, 1, SIOMMU_IOTLB_PASID_MAX, 0));
	assert_int_equal(stats(f->tlb).misses, 0);
}

/* ------------------------------------------------------------------ insert */

static void test_iotlb_insert_rejects_bad_entry(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e = { .iova = 0x4000, .addr = 0x8000, .size_lg2 = 12 };
	struct siommu_iotlb_seq seq, other;

	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 2, 0x4000, &seq), 0);
	assert_int_equal(siommu_iotlb_seq_begin(NULL, 1, 2, 0x4000, &seq), -EINVAL);
	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 2, 0x4000, NULL), -EINVAL);
	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 1u << 20, 0x4000, &other), -EINVAL);

	e.iova = 0x4800;
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 2, &e, &seq), -EINVAL);
	e.iova = 0x4000;
	e.addr = 0x8001;
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 2, &e, &seq), -EINVAL);
	e.addr = 0x8000;
	e.size_lg2 = 13;
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 2, &e, &seq), -EINVAL);
	e.size_lg2 = 21;		/* 0x4000 is not 2 MiB aligned */
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 2, &e, &seq), -EINVAL);
	e.size_lg2 = 12;
	e.prot = SIOMMU_IOTLB_PROT_MASK + 1;
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 2, &e, &seq), -EINVAL);
	e.prot = 0;
	/* A seq taken for another tag. */
	assert_int_equal(siommu_iotlb_insert(f->tlb, 2, 2, &e, &seq), -EINVAL);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 3, &e, &seq), -EINVAL);
	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 2, 7 * G1, &other), 0);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 2, &e, &other), -EINVAL);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 2, &e, NULL), -EINVAL);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 2, NULL, &seq), -EINVAL);
	assert_int_equal(siommu_iotlb_insert(NULL, 1, 2, &e, &seq), -EINVAL);

	/* Nothing was cached by any of them. */
	assert_int_equal(count(f->tlb), 0);
	assert_int_equal(stats(f->tlb).inserts, 0);
	/* The good entry goes in. */
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 2, &e, &seq), 0);
	assert_true(hit(f->tlb, 1, 2, 0x4000));
}

static void test_iotlb_reinsert_updates_in_place(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e;

	assert_int_equal(ins(f->tlb, 1, 0, 0x5000, 0x10000, 12, 1), 0);
	assert_int_equal(ins(f->tlb, 1, 0, 0x5000, 0x20000, 12, 3), 0);
	assert_int_equal(siommu_iotlb_lookup(f->tlb, 1, 0, 0x5000, &e), 0);
	assert_int_equal(e.addr, 0x20000);
	assert_int_equal(e.prot, 3);
	assert_int_equal(count(f->tlb), 1);
	assert_int_equal(stats(f->tlb).evictions, 0);
	assert_int_equal(stats(f->tlb).inserts, 2);
}

/* capacity 4, 4 ways: one set, so the round-robin order is visible. */
static void test_iotlb_evicts_round_robin_in_full_set(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(ins(f->tlb, 1, 0, i * K4, i * K4, 12, 0), 0);
	for (i = 0; i < 4; i++)
		assert_true(hit(f->tlb, 1, 0, i * K4));
	assert_int_equal(stats(f->tlb).evictions, 0);

	assert_int_equal(ins(f->tlb, 1, 0, 4 * K4, 0, 12, 0), 0);	/* evicts page 0 */
	assert_false(hit(f->tlb, 1, 0, 0));
	for (i = 1; i < 5; i++)
		assert_true(hit(f->tlb, 1, 0, i * K4));
	/* Hits do not protect an entry (no LRU): page 1 is next. */
	assert_int_equal(ins(f->tlb, 1, 0, 5 * K4, 0, 12, 0), 0);
	assert_false(hit(f->tlb, 1, 0, 1 * K4));
	assert_true(hit(f->tlb, 1, 0, 2 * K4));
	assert_int_equal(stats(f->tlb).evictions, 2);
	assert_int_equal(count(f->tlb), 4);

	/* A freed way is reused before anything else is evicted. */
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, 0, 3 * K4, K4), 0);
	assert_int_equal(ins(f->tlb, 1, 0, 6 * K4, 0, 12, 0), 0);
	assert_int_equal(stats(f->tlb).evictions, 2);
	assert_true(hit(f->tlb, 1, 0, 2 * K4));
	assert_true(hit(f->tlb, 1, 0, 4 * K4));
	assert_true(hit(f->tlb, 1, 0, 5 * K4));
	assert_true(hit(f->tlb, 1, 0, 6 * K4));
}

struct check_arg {
	unsigned int n;
	unsigned int bad;
};

static int check_identity_fn(void *opaque, uint32_t dom, uint32_t pasid,
			     const struct siommu_iotlb_entry *e)
{
	struct check_arg *a = opaque;

	a->n++;
	if (dom != 1 || pasid != 0 || e->addr != e->iova + 0x100000000ull ||
	    e->size_lg2 != 12)
		a->bad++;
	return 0;
}

static void test_iotlb_capacity_is_bounded(void **state)
{
	struct fixture *f = *state;
	struct check_arg a = { 0 };
	unsigned int i, hits = 0;

	for (i = 0; i < 1000; i++)
		assert_int_equal(ins(f->tlb, 1, 0, i * K4, i * K4 + 0x100000000ull, 12, 0), 0);
	assert_int_equal(siommu_iotlb_for_each(f->tlb, check_identity_fn, &a), 0);
	assert_int_equal(a.n, 64);
	assert_int_equal(a.bad, 0);
	assert_int_equal(stats(f->tlb).evictions, 1000 - 64);
	for (i = 0; i < 1000; i++)
		hits += hit(f->tlb, 1, 0, i * K4);
	assert_int_equal(hits, 64);
}

static void test_iotlb_direct_mapped(void **state)
{
	struct siommu_iotlb_config cfg = { .capacity = 16, .ways = 1 };
	struct siommu_iotlb *tlb;
	struct siommu_ctx *ctx;
	unsigned int i, hits = 0;

	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_iotlb_create(ctx, &cfg, &tlb), 0);
	for (i = 0; i < 64; i++)
		assert_int_equal(ins(tlb, 4, 1, i * K4, i * K4, 12, 0), 0);
	assert_true(count(tlb) <= 16);
	for (i = 0; i < 64; i++)
		hits += hit(tlb, 4, 1, i * K4);
	assert_int_equal(hits, count(tlb));
	siommu_iotlb_destroy(tlb);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

/* ------------------------------------------------------------------ invalidation */

static void test_iotlb_inv_range_covers_every_page_size(void **state)
{
	struct fixture *f = *state;

	/* A 4K page, a 2M page and a 1G page, all overlapping [G1+M2+K4, +K4). */
	assert_int_equal(ins(f->tlb, 1, 0, G1 + M2 + K4, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 0, G1 + M2, 0, 21, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 0, G1, 0, 30, 0), 0);
	/* Neighbours that do not overlap, and other tags on the same range. */
	assert_int_equal(ins(f->tlb, 1, 0, G1 + M2 + 2 * K4, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 0, G1 + 2 * M2, 0, 21, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 0, 2 * G1, 0, 30, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 1, G1 + M2 + K4, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 2, 0, G1 + M2 + K4, 0, 12, 0), 0);
	assert_int_equal(count(f->tlb), 8);

	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, 0, G1 + M2 + K4 + 0x10, 0x20), 0);
	assert_int_equal(count(f->tlb), 5);
	/* Any address of the removed pages misses now (the 1G one too). */
	assert_false(hit(f->tlb, 1, 0, G1 + M2 + K4));
	assert_false(hit(f->tlb, 1, 0, G1 + M2 + 0x1fffff));
	assert_false(hit(f->tlb, 1, 0, G1 + 0x3fffffff));
	assert_true(hit(f->tlb, 1, 0, G1 + M2 + 2 * K4));
	assert_true(hit(f->tlb, 1, 0, G1 + 2 * M2));
	assert_true(hit(f->tlb, 1, 0, 2 * G1));
	assert_true(hit(f->tlb, 1, 1, G1 + M2 + K4));
	assert_true(hit(f->tlb, 2, 0, G1 + M2 + K4));
	assert_int_equal(stats(f->tlb).invalidations, 1);
	assert_int_equal(stats(f->tlb).inv_entries, 3);
}

/*
 * Consecutive pages fall in consecutive sets: a contiguous working set of up
 * to (ways - 1) / ways of the capacity fits whole, with no conflict eviction,
 * at any alignment (an aligned block of as many pages as there are sets
 * takes each set once; the two partial blocks at the ends add at most one
 * page per set each).
 */
static void test_iotlb_contiguous_working_set_fits(void **state)
{
	struct siommu_iotlb *tlb;
	struct siommu_iotlb_config cfg = { .capacity = 512, .ways = 4 };
	struct siommu_ctx *ctx;
	uint64_t base, i;

	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_iotlb_create(ctx, &cfg, &tlb), 0);
	for (base = 0x7f000000; base < 0x7f000000 + 3 * 0x100000; base += 0x100000 + 0x5000) {
		assert_int_equal(siommu_iotlb_inv_all(tlb), 0);
		for (i = 0; i < 384; i++)
			assert_int_equal(ins(tlb, 7, 0, base + i * K4, i * K4, 12, 1), 0);
		for (i = 0; i < 384; i++)
			assert_true(hit(tlb, 7, 0, base + i * K4));
	}
	assert_int_equal(stats(tlb).evictions, 0);
	siommu_iotlb_destroy(tlb);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

/* A range large enough to take the scan path removes the same entries. */
static void test_iotlb_inv_range_large_scans(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	for (i = 0; i < 8; i++) {
		assert_int_equal(ins(f->tlb, 3, 0, i * G1, 0, 30, 0), 0);
		assert_int_equal(ins(f->tlb, 3, 0, i * G1 + M2, 0, 21, 0), 0);
	}
	assert_int_equal(ins(f->tlb, 3, 0, 100 * G1, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 4, 0, 2 * G1, 0, 30, 0), 0);
	/* [1G + 4M, 6G + 4M): 1G pages 1..6 and 2M pages 2..6 overlap it. */
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 3, 0, G1 + 2 * M2, 5 * G1), 0);
	for (i = 0; i < 8; i++) {
		struct siommu_iotlb_entry e;
		int ret;

		/* Lookups probe 4K, then 2M, then 1G. */
		ret = siommu_iotlb_lookup(f->tlb, 3, 0, i * G1 + M2, &e);
		assert_int_equal(ret == 0 && e.size_lg2 == 21, i <= 1 || i == 7);
		ret = siommu_iotlb_lookup(f->tlb, 3, 0, i * G1 + 3 * M2, &e);
		assert_int_equal(ret == 0 && e.size_lg2 == 30, i == 0 || i == 7);
	}
	assert_true(hit(f->tlb, 3, 0, 100 * G1));
	assert_true(hit(f->tlb, 4, 0, 2 * G1));
	/* The whole address space, up to 2^64 - 1. */
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 3, 0, 0, UINT64_MAX), 0);
	assert_int_equal(count(f->tlb), 1);
	assert_true(hit(f->tlb, 4, 0, 2 * G1));
}

static void test_iotlb_inv_range_pasid_any(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ins(f->tlb, 1, 0, 0x3000, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 9, 0x3000, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 9, 0x4000, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 2, 9, 0x3000, 0, 12, 0), 0);
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, SIOMMU_IOTLB_PASID_ANY,
						0x3000, K4), 0);
	assert_false(hit(f->tlb, 1, 0, 0x3000));
	assert_false(hit(f->tlb, 1, 9, 0x3000));
	assert_true(hit(f->tlb, 1, 9, 0x4000));
	assert_true(hit(f->tlb, 2, 9, 0x3000));
}

static void test_iotlb_inv_pasid(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ins(f->tlb, 1, 7, 0x1000, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 7, 5 * G1, 0, 30, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 8, 0x1000, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 2, 7, 0x1000, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 3, 8, 0x1000, 0, 12, 0), 0);

	assert_int_equal(siommu_iotlb_inv_pasid(f->tlb, 1, 7), 0);
	assert_false(hit(f->tlb, 1, 7, 0x1000));
	assert_false(hit(f->tlb, 1, 7, 5 * G1));
	assert_true(hit(f->tlb, 1, 8, 0x1000));
	assert_true(hit(f->tlb, 2, 7, 0x1000));

	/* PASID 8 in every domain. */
	assert_int_equal(siommu_iotlb_inv_pasid(f->tlb, SIOMMU_IOTLB_DOMID_ANY, 8), 0);
	assert_false(hit(f->tlb, 1, 8, 0x1000));
	assert_false(hit(f->tlb, 3, 8, 0x1000));
	assert_true(hit(f->tlb, 2, 7, 0x1000));
	assert_int_equal(stats(f->tlb).inv_entries, 4);
}

static void test_iotlb_inv_domain(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ins(f->tlb, 5, 0, 0x1000, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 5, 3, 3 * M2, 0, 21, 0), 0);
	assert_int_equal(ins(f->tlb, 6, 0, 0x1000, 0, 12, 0), 0);
	assert_int_equal(siommu_iotlb_inv_domain(f->tlb, 5), 0);
	assert_false(hit(f->tlb, 5, 0, 0x1000));
	assert_false(hit(f->tlb, 5, 3, 3 * M2));
	assert_true(hit(f->tlb, 6, 0, 0x1000));
	assert_int_equal(count(f->tlb), 1);
}

static void test_iotlb_inv_all(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	for (i = 0; i < 20; i++)
		assert_int_equal(ins(f->tlb, i, i, i * M2, 0, 21, 0), 0);
	assert_true(count(f->tlb) > 0);
	assert_int_equal(siommu_iotlb_inv_all(f->tlb), 0);
	assert_int_equal(count(f->tlb), 0);
	for (i = 0; i < 20; i++)
		assert_false(hit(f->tlb, i, i, i * M2));
}

static void test_iotlb_inv_rejects_bad_args(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ins(f->tlb, 1, 0, 0x1000, 0, 12, 0), 0);
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, 0, 0x1000, 0), -EINVAL);
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, 0, 0x1000, UINT64_MAX), -EINVAL);
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, 1u << 20, 0x1000, K4), -EINVAL);
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, SIOMMU_IOTLB_DOMID_ANY, 0, 0x1000, K4),
			 -EINVAL);
	assert_int_equal(siommu_iotlb_inv_range(NULL, 1, 0, 0x1000, K4), -EINVAL);
	assert_int_equal(siommu_iotlb_inv_pasid(f->tlb, 1, SIOMMU_IOTLB_PASID_ANY), -EINVAL);
	assert_int_equal(siommu_iotlb_inv_pasid(NULL, 1, 0), -EINVAL);
	assert_int_equal(siommu_iotlb_inv_domain(f->tlb, SIOMMU_IOTLB_DOMID_ANY), -EINVAL);
	assert_int_equal(siommu_iotlb_inv_domain(NULL, 1), -EINVAL);
	assert_int_equal(siommu_iotlb_inv_all(NULL), -EINVAL);
	assert_int_equal(siommu_iotlb_get_stats(NULL, NULL), -EINVAL);
	assert_int_equal(siommu_iotlb_for_each(f->tlb, NULL, NULL), -EINVAL);
	/* Nothing happened. */
	assert_true(hit(f->tlb, 1, 0, 0x1000));
	assert_int_equal(stats(f->tlb).invalidations, 0);
}

/* ------------------------------------------------------------------ stale inserts */

static void test_iotlb_stale_insert_refused(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e = { .iova = 0x9000, .addr = 0x1000, .size_lg2 = 12 };
	struct siommu_iotlb_seq seq;

	/* Each kind of invalidation covering the tag makes a taken seq stale. */
	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 4, 0x9000, &seq), 0);
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, 4, 0x9000, K4), 0);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 4, &e, &seq), -EAGAIN);

	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 4, 0x9000, &seq), 0);
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, SIOMMU_IOTLB_PASID_ANY, 0, G1), 0);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 4, &e, &seq), -EAGAIN);

	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 4, 0x9000, &seq), 0);
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, 4, 0, UINT64_MAX), 0);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 4, &e, &seq), -EAGAIN);

	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 4, 0x9000, &seq), 0);
	assert_int_equal(siommu_iotlb_inv_pasid(f->tlb, 1, 4), 0);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 4, &e, &seq), -EAGAIN);

	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 4, 0x9000, &seq), 0);
	assert_int_equal(siommu_iotlb_inv_pasid(f->tlb, SIOMMU_IOTLB_DOMID_ANY, 4), 0);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 4, &e, &seq), -EAGAIN);

	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 4, 0x9000, &seq), 0);
	assert_int_equal(siommu_iotlb_inv_domain(f->tlb, 1), 0);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 4, &e, &seq), -EAGAIN);

	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 4, 0x9000, &seq), 0);
	assert_int_equal(siommu_iotlb_inv_all(f->tlb), 0);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 4, &e, &seq), -EAGAIN);

	assert_int_equal(count(f->tlb), 0);
	assert_int_equal(stats(f->tlb).insert_stale, 7);
	assert_int_equal(stats(f->tlb).inserts, 0);
}

static void test_iotlb_unrelated_inv_keeps_seq(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e = { .iova = 0x9000, .addr = 0x1000, .size_lg2 = 12 };
	struct siommu_iotlb_seq seq;

	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 4, 0x9000, &seq), 0);
	/* Other domains, another PASID, another 1 GiB region of this one. */
	assert_int_equal(siommu_iotlb_inv_domain(f->tlb, 2), 0);
	assert_int_equal(siommu_iotlb_inv_pasid(f->tlb, 2, 4), 0);
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, 4, 3 * G1, K4), 0);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 4, &e, &seq), 0);
	assert_true(hit(f->tlb, 1, 4, 0x9000));
}

static void test_iotlb_seq_after_inv_inserts(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e = { .iova = 0x9000, .addr = 0x1000, .size_lg2 = 12 };
	struct siommu_iotlb_seq seq;

	assert_int_equal(siommu_iotlb_inv_all(f->tlb), 0);
	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 4, 0x9000, &seq), 0);
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 4, &e, &seq), 0);
	/* The same seq may be used again until an invalidation covers it. */
	e.addr = 0x2000;
	assert_int_equal(siommu_iotlb_insert(f->tlb, 1, 4, &e, &seq), 0);
	assert_int_equal(count(f->tlb), 1);
}

/* ------------------------------------------------------------------ stats, threads */

static void test_iotlb_stats_count_everything(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_stats st;
	unsigned int i;

	for (i = 0; i < 6; i++)
		assert_int_equal(ins(f->tlb, 1, 0, i * K4, 0, 12, 0), 0);	/* 2 evict */
	for (i = 0; i < 6; i++)
		hit(f->tlb, 1, 0, i * K4);
	assert_int_equal(siommu_iotlb_inv_domain(f->tlb, 1), 0);
	assert_int_equal(siommu_iotlb_inv_domain(f->tlb, 1), 0);
	st = stats(f->tlb);
	assert_int_equal(st.inserts, 6);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(st.hits, 4);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.invalidations, 2);
	assert_int_equal(st.inv_entries, 4);
	assert_int_equal(st.capacity, 4);
	assert_int_equal(st.ways, 4);
}

static void *new_thread_fn(void *arg)
{
	struct fixture *f = arg;
	struct siommu_iotlb_stats st;
	struct siommu_iotlb *own;
	unsigned int n = 0;

	/* A thread the library has never seen uses every call. */
	if (ins(f->tlb, 9, 9, 0x9000, 0x1000, 12, 1) || !hit(f->tlb, 9, 9, 0x9000) ||
	    siommu_iotlb_inv_range(f->tlb, 9, 9, 0x9000, 1) || hit(f->tlb, 9, 9, 0x9000) ||
	    siommu_iotlb_inv_pasid(f->tlb, 9, 9) || siommu_iotlb_inv_domain(f->tlb, 9) ||
	    siommu_iotlb_inv_all(f->tlb) || siommu_iotlb_get_stats(f->tlb, &st) ||
	    siommu_iotlb_for_each(f->tlb, count_fn, &n))
		return (void *)1;
	{
		/* Runs and spans (the hit counter's per-thread cache starts empty). */
		struct siommu_iotlb_entry e = { .iova = 0x200000, .addr = 0x7000,
						.size_lg2 = 12, .prot = 1 };
		struct siommu_iotlb_seq seq;
		struct siommu_iotlb_hit h;

		if (siommu_iotlb_seq_begin(f->tlb, 9, 9, e.iova, &seq) ||
		    siommu_iotlb_insert_run(f->tlb, 9, 9, &e, 3, &seq, NULL) ||
		    siommu_iotlb_lookup_span(f->tlb, 9, 9, 0x202000, &h) ||
		    h.e.addr != 0x9000 || h.span.last != 0x202fff ||
		    siommu_iotlb_inv_domain(f->tlb, 9))
			return (void *)4;
	}
	if (siommu_iotlb_create(f->ctx, NULL, &own))
		return (void *)2;
	if (ins(own, 1, 1, 0, 0, 30, 0) || !hit(own, 1, 1, 0x12345678)) {
		siommu_iotlb_destroy(own);
		return (void *)3;
	}
	siommu_iotlb_destroy(own);
	return NULL;
}

static void test_iotlb_unknown_thread_uses_every_call(void **state)
{
	struct fixture *f = *state;
	pthread_t t;
	void *ret;

	assert_int_equal(pthread_create(&t, NULL, new_thread_fn, f), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	/* Its counts outlive it. */
	assert_int_equal(stats(f->tlb).hits, 2);
	assert_int_equal(stats(f->tlb).invalidations, 5);
	assert_int_equal(stats(f->tlb).run_inserts, 1);
}

static int stop_fn(void *opaque, uint32_t dom, uint32_t pasid,
		   const struct siommu_iotlb_entry *e)
{
	return ++(*(int *)opaque) == 2 ? 7 : 0;
}

static void test_iotlb_for_each_stops_early(void **state)
{
	struct fixture *f = *state;
	int n = 0;

	assert_int_equal(ins(f->tlb, 1, 0, 0x1000, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 0, 0x2000, 0, 12, 0), 0);
	assert_int_equal(ins(f->tlb, 1, 0, 0x3000, 0, 12, 0), 0);
	assert_int_equal(siommu_iotlb_for_each(f->tlb, stop_fn, &n), 7);
	assert_int_equal(n, 2);
}

/* ------------------------------------------------------------------ model */

#define MODEL_MAX 4096

struct model_entry {
	uint32_t dom, pasid;
	uint64_t iova, addr;
	unsigned int lg2, prot;
	bool valid;
};

struct model {
	struct model_entry e[MODEL_MAX];
	unsigned int n;
	unsigned int bad;
};

static struct model_entry *model_find(struct model *m, uint32_t dom, uint32_t pasid,
				      uint64_t iova, unsigned int lg2)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].valid && m->e[i].dom == dom && m->e[i].pasid == pasid &&
		    m->e[i].iova == iova && m->e[i].lg2 == lg2)
			return &m->e[i];
	return NULL;
}

/* Every cached entry must be one the model holds, with the same payload. */
static int model_check_fn(void *opaque, uint32_t dom, uint32_t pasid,
			  const struct siommu_iotlb_entry *e)
{
	struct model *m = opaque;
	struct model_entry *me = model_find(m, dom, pasid, e->iova, e->size_lg2);

	if (!me || me->addr != e->addr || me->prot != e->prot)
		m->bad++;
	return 0;
}

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* lookup_run: counts the pages that hit and continue; stops at what does not. */
static void test_iotlb_lookup_run(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e;
	struct siommu_iotlb_stats st0, st1;
	struct siommu_iotlb_ref ref;
	unsigned int i;

	/* Pages 0..9 of domain 1 map 0x100000.. contiguously, read+write (3). */
	for (i = 0; i < 10; i++)
		assert_int_equal(ins(f->tlb, 1, 0, 0x400000 + i * K4, 0x100000 + i * K4,
				     12, 3), 0);
	/* Page 10 maps elsewhere, page 11 is read-only, page 12 is missing. */
	assert_int_equal(ins(f->tlb, 1, 0, 0x400000 + 10 * K4, 0x900000, 12, 3), 0);
	assert_int_equal(ins(f->tlb, 1, 0, 0x400000 + 11 * K4, 0x100000 + 11 * K4, 12, 1), 0);
	assert_int_equal(siommu_iotlb_get_stats(f->tlb, &st0), 0);
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 0, 0x400000 + K4,
						 0x100000 + K4, 100, 1, 1), 9);
	assert_int_equal(siommu_iotlb_get_stats(f->tlb, &st1), 0);
	assert_int_equal(st1.hits, st0.hits + 9);
	assert_int_equal(st1.misses, st0.misses);
	/* Bounded by max; another PASID or domain misses at once. */
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 0, 0x400000, 0x100000, 4, 1, 1), 4);
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 1, 0x400000, 0x100000, 4, 1, 1), 0);
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 2, 0, 0x400000, 0x100000, 4, 1, 1), 0);
	/* Another start address: page 0 does not continue it. */
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 0, 0x400000, 0x200000, 4, 1, 1), 0);
	/* Page 10 jumps: a run from page 10 at its own address is one page, then 11 jumps back. */
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 0, 0x400000 + 10 * K4, 0x900000,
						 4, 1, 1), 1);
	/* Permissions: page 11 is read-only, so a write run stops before it... */
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 0, 0x400000 + 11 * K4,
						 0x100000 + 11 * K4, 4, 3, 3), 0);
	/* ... and a read run takes it, then page 12 misses. */
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 0, 0x400000 + 11 * K4,
						 0x100000 + 11 * K4, 4, 1, 1), 1);
	/* An invalidation in the middle ends the run there, and moves the ref. */
	assert_int_equal(siommu_iotlb_lookup_ref(f->tlb, 1, 0, 0x400000 + 5 * K4, &e, &ref), 0);
	assert_true(siommu_iotlb_ref_valid(&ref));
	assert_int_equal(siommu_iotlb_inv_range(f->tlb, 1, 0, 0x400000 + 5 * K4, K4), 0);
	assert_false(siommu_iotlb_ref_valid(&ref));
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 0, 0x400000, 0x100000, 100, 1, 1), 5);
	/* Bad arguments. */
	assert_int_equal(siommu_iotlb_lookup_run(NULL, 1, 0, 0, 0, 1, 1, 1), -EINVAL);
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 0, 0x400008, 0x100000, 1, 1, 1),
			 -EINVAL);
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 0, 0x400000, 0x100008, 1, 1, 1),
			 -EINVAL);
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, SIOMMU_IOTLB_DOMID_ANY, 0, 0, 0, 1,
						 1, 1), -EINVAL);
	assert_int_equal(siommu_iotlb_lookup_run(f->tlb, 1, 0, 0, 0, 1, 1, 2), -EINVAL);
	assert_int_equal(siommu_iotlb_lookup_ref(f->tlb, 1, 0, 0x400000, &e, NULL), -EINVAL);
}

/* An entry reference moves with every change of its entry: rewrite, eviction, clear. */
static void test_iotlb_ref_moves_on_every_change(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb_entry e = { .iova = 0x400000, .addr = 0x100000, .size_lg2 = 12,
					.prot = 1 };
	struct siommu_iotlb_ref ref, ref2;
	struct siommu_iotlb_seq seq;
	unsigned int i;

	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 0, e.iova, &seq), 0);
	assert_int_equal(siommu_iotlb_insert_ref(f->tlb, 1, 0, &e, &seq, &ref), 0);
	assert_true(siommu_iotlb_ref_valid(&ref));
	assert_int_equal(siommu_iotlb_lookup_ref(f->tlb, 1, 0, e.iova + 8, &e, &ref2), 0);
	assert_true(ref2.seq == ref.seq && ref2.val == ref.val);
	/* Rewrite in place (same tag, new address). */
	e.addr = 0x200000;
	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 0, e.iova, &seq), 0);
	assert_int_equal(siommu_iotlb_insert_ref(f->tlb, 1, 0, &e, &seq, &ref2), 0);
	assert_false(siommu_iotlb_ref_valid(&ref));
	assert_true(siommu_iotlb_ref_valid(&ref2));
	/* A stale insert returns no reference and changes nothing. */
	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 0, e.iova, &seq), 0);
	assert_int_equal(siommu_iotlb_inv_pasid(f->tlb, 1, 0), 0);
	assert_false(siommu_iotlb_ref_valid(&ref2));
	assert_int_equal(siommu_iotlb_insert_ref(f->tlb, 1, 0, &e, &seq, &ref), -EAGAIN);
	assert_int_equal(siommu_iotlb_insert_ref(f->tlb, 1, 0, &e, &seq, NULL), -EINVAL);
	/* Eviction: the one-set IOTLB takes 4 entries; a fifth evicts the first. */
	assert_int_equal(siommu_iotlb_seq_begin(f->tlb, 1, 0, e.iova, &seq), 0);
	assert_int_equal(siommu_iotlb_insert_ref(f->tlb, 1, 0, &e, &seq, &ref), 0);
	for (i = 1; i <= 4; i++)
		assert_int_equal(ins(f->tlb, 1, 0, e.iova + i * K4, 0x300000, 12, 1), 0);
	assert_int_equal(siommu_iotlb_lookup(f->tlb, 1, 0, e.iova, &e), -ENOENT);
	assert_false(siommu_iotlb_ref_valid(&ref));
}

static void test_iotlb_random_ops_match_model(void **state)
{
	static const unsigned int lg2s[] = { 12, 21, 30 };
	struct fixture *f = *state;
	struct model *m = calloc(1, sizeof(*m));
	struct siommu_iotlb_entry got;
	unsigned int step, i;

	assert_non_null(m);
	for (step = 0; step < 20000; step++) {
		uint32_t dom = 1 + rnd() % 3, pasid = rnd() % 3;
		unsigned int lg2 = lg2s[rnd() % 3];
		uint64_t iova = (rnd() % 8 * G1 + rnd() % 1024 * M2 + rnd() % 512 * K4) &
				~((1ull << lg2) - 1);
		unsigned int op = rnd() % 100;
		struct model_entry *me;

		if (op < 60) {
			uint64_t addr = (rnd() % 1024) << 30;
			unsigned int prot = rnd() % 8;

			assert_int_equal(ins(f->tlb, dom, pasid, iova, addr, lg2, prot), 0);
			me = model_find(m, dom, pasid, iova, lg2);
			if (!me) {
				if (m->n == MODEL_MAX) {
					/* compact */
					unsigned int j = 0;

					for (i = 0; i < m->n; i++)
						if (m->e[i].valid)
							m->e[j++] = m->e[i];
					m->n = j;
				}
				assert_true(m->n < MODEL_MAX);
				me = &m->e[m->n++];
			}
			*me = (struct model_entry){ dom, pasid, iova, addr, lg2, prot, true };
			/* Just inserted: it hits, from any address in the page. */
			assert_int_equal(siommu_iotlb_lookup(f->tlb, dom, pasid,
							     iova + rnd() % (1ull << lg2), &got), 0);
		} else if (op < 85) {
			uint64_t start = iova + rnd() % (1ull << lg2);
			uint64_t size = 1 + rnd() % (rnd() % 2 ? 64 * K4 : 4 * G1);
			uint64_t last = start + size - 1;
			bool any = rnd() % 4 == 0;

			assert_int_equal(siommu_iotlb_inv_range(f->tlb, dom,
					any ? SIOMMU_IOTLB_PASID_ANY : pasid, start, size), 0);
			for (i = 0; i < m->n; i++) {
				me = &m->e[i];
				if (me->valid && me->dom == dom && (any || me->pasid == pasid) &&
				    me->iova <= last &&
				    me->iova + (1ull << me->lg2) - 1 >= start)
					me->valid = false;
			}
		} else if (op < 92) {
			bool any = rnd() % 2;

			assert_int_equal(siommu_iotlb_inv_pasid(f->tlb,
					any ? SIOMMU_IOTLB_DOMID_ANY : dom, pasid), 0);
			for (i = 0; i < m->n; i++)
				if (m->e[i].pasid == pasid && (any || m->e[i].dom == dom))
					m->e[i].valid = false;
		} else if (op < 99) {
			assert_int_equal(siommu_iotlb_inv_domain(f->tlb, dom), 0);
			for (i = 0; i < m->n; i++)
				if (m->e[i].dom == dom)
					m->e[i].valid = false;
		} else {
			assert_int_equal(siommu_iotlb_inv_all(f->tlb), 0);
			for (i = 0; i < m->n; i++)
				m->e[i].valid = false;
		}
		/* A lookup hit is always something the model holds. */
		if (siommu_iotlb_lookup(f->tlb, dom, pasid, iova, &got) == 0) {
			me = model_find(m, dom, pasid, got.iova, got.size_lg2);
			assert_non_null(me);
			assert_int_equal(me->addr, got.addr);
		}
		if (step % 64 == 0) {
			assert_int_equal(siommu_iotlb_for_each(f->tlb, model_check_fn, m), 0);
			assert_int_equal(m->bad, 0);
		}
	}
	free(m);
}

/* Insert a run of @n 4 KiB pages from @iova at @addr. */
static int ins_run(struct siommu_iotlb *tlb, uint32_t dom, uint32_t pasid,
		   uint64_t iova, uint64_t addr, unsigned int n, unsigned int prot,
		   struct siommu_iotlb_ref *ref)
{
	struct siommu_iotlb_entry e = {
		.iova = iova, .addr = addr, .size_lg2 = 12, .prot = prot,
	};
	struct siommu_iotlb_seq seq;
	int ret;

	ret = siommu_iotlb_seq_begin(tlb, dom, pasid, iova, &seq);
	if (ret)
		return ret;
	return siommu_iotlb_insert_run(tlb, dom, pasid, &e, n, &seq, ref);
}

static int run_page_fn(void *opaque, uint32_t dom, uint32_t pasid,
		       const struct siommu_iotlb_entry *e)
{
	uint64_t *n = opaque;

	assert_int_equal(e->size_lg2, 12);
	assert_int_equal(e->addr - 0x80000000ull, e->iova - (3 * M2 + 4 * K4));
	(*n)++;
	return 0;
}

/*
 * Run entries: every page of the run hits (as a 4 KiB page, with the span
 * of the run), nothing outside it does, a new run of the block replaces the
 * old one in place, every invalidation touching one byte removes it all,
 * and a run that raced with an invalidation is refused.
 */
static void test_iotlb_run_entries(void **state)
{
	struct fixture *f = *state;
	struct siommu_iotlb *tlb = f->tlb;
	const uint64_t base = 3 * M2 + 4 * K4, pa = 0x80000000ull;
	struct siommu_iotlb_entry e;
	struct siommu_iotlb_hit h;
	struct siommu_iotlb_stats st;
	struct siommu_iotlb_ref ref;
	struct siommu_iotlb_seq seq;
	uint64_t i, n = 0;

	assert_int_equal(ins_run(tlb, 1, 0, base, pa, 100, 3, &ref), 0);
	assert_true(siommu_iotlb_ref_valid(&ref));
	for (i = 0; i < 100; i++) {
		assert_int_equal(siommu_iotlb_lookup_span(tlb, 1, 0, base + i * K4 + 9, &h), 0);
		assert_int_equal(h.e.iova, base + i * K4);
		assert_int_equal(h.e.addr, pa + i * K4);
		assert_int_equal(h.e.size_lg2, 12);
		assert_int_equal(h.e.prot, 3);
		assert_int_equal(h.span.first, base);
		assert_int_equal(h.span.last, base + 100 * K4 - 1);
		assert_true(h.ref.seq == ref.seq && h.ref.val == ref.val);
		assert_int_equal(siommu_iotlb_lookup(tlb, 1, 0, base + i * K4, &e), 0);
		assert_int_equal(e.addr, pa + i * K4);
	}
	/* Not before, not after, not another PASID or domain. */
	assert_false(hit(tlb, 1, 0, base - 1));
	assert_false(hit(tlb, 1, 0, base + 100 * K4));
	assert_false(hit(tlb, 1, 1, base));
	assert_false(hit(tlb, 2, 0, base));
	assert_int_equal(siommu_iotlb_for_each(tlb, run_page_fn, &n), 0);
	assert_int_equal(n, 100);
	/* A page entry inside the run is found first, with its own span. */
	assert_int_equal(ins(tlb, 1, 0, base + 5 * K4, 0x5000, 12, 1), 0);
	assert_int_equal(siommu_iotlb_lookup_span(tlb, 1, 0, base + 5 * K4, &h), 0);
	assert_int_equal(h.e.addr, 0x5000);
	assert_int_equal(h.span.first, base + 5 * K4);
	assert_int_equal(h.span.last, base + 6 * K4 - 1);
	assert_int_equal(siommu_iotlb_inv_range(tlb, 1, 0, base + 5 * K4, K4), 0);
	/* ... and the invalidation of that page took the run too. */
	assert_false(siommu_iotlb_ref_valid(&ref));
	assert_false(hit(tlb, 1, 0, base));
	assert_false(hit(tlb, 1, 0, base + 99 * K4));

	/* A new run of the block replaces the old one (one per block). */
	assert_int_equal(ins_run(tlb, 1, 0, base, pa, 10, 3, NULL), 0);
	assert_int_equal(ins_run(tlb, 1, 0, base + 20 * K4, pa, 10, 3, &ref), 0);
	assert_false(hit(tlb, 1, 0, base));
	assert_true(hit(tlb, 1, 0, base + 29 * K4));
	/* Every kind of invalidation covering it removes it. */
	assert_int_equal(siommu_iotlb_inv_range(tlb, 1, SIOMMU_IOTLB_PASID_ANY,
						base + 29 * K4 + 100, 1), 0);
	assert_false(hit(tlb, 1, 0, base + 20 * K4));
	assert_int_equal(ins_run(tlb, 1, 0, base, pa, 2, 3, NULL), 0);
	assert_int_equal(siommu_iotlb_inv_range(tlb, 1, 0, base + 2 * K4, K4), 0);
	assert_true(hit(tlb, 1, 0, base));	/* next to it: kept */
	assert_int_equal(siommu_iotlb_inv_pasid(tlb, 1, 0), 0);
	assert_false(hit(tlb, 1, 0, base));
	assert_int_equal(ins_run(tlb, 1, 0, base, pa, 2, 3, NULL), 0);
	assert_int_equal(siommu_iotlb_inv_domain(tlb, 1), 0);
	assert_false(hit(tlb, 1, 0, base));
	assert_int_equal(ins_run(tlb, 1, 0, base, pa, 2, 3, NULL), 0);
	assert_int_equal(siommu_iotlb_inv_all(tlb), 0);
	assert_false(hit(tlb, 1, 0, base));
	/* A wide range (the scan path) too. */
	assert_int_equal(ins_run(tlb, 1, 0, base, pa, 2, 3, NULL), 0);
	assert_int_equal(siommu_iotlb_inv_range(tlb, 1, 0, 0, 1ull << 40), 0);
	assert_false(hit(tlb, 1, 0, base));

	/* Stale: an invalidation of one page between seq_begin and insert. */
	e = (struct siommu_iotlb_entry){ .iova = base, .addr = pa, .size_lg2 = 12, .prot = 3 };
	assert_int_equal(siommu_iotlb_seq_begin(tlb, 1, 0, base, &seq), 0);
	assert_int_equal(siommu_iotlb_inv_range(tlb, 1, 0, base + 50 * K4, K4), 0);
	assert_int_equal(siommu_iotlb_insert_run(tlb, 1, 0, &e, 100, &seq, NULL), -EAGAIN);
	assert_false(hit(tlb, 1, 0, base));

	/* Bad input: nothing inserted. */
	assert_int_equal(siommu_iotlb_seq_begin(tlb, 1, 0, base, &seq), 0);
	assert_int_equal(siommu_iotlb_insert_run(tlb, 1, 0, &e, 0, &seq, NULL), -EINVAL);
	assert_int_equal(siommu_iotlb_insert_run(tlb, 1, 0, &e, 512 - 3, &seq, NULL),
			 -EINVAL);	/* leaves the block */
	e.size_lg2 = 21;
	e.iova = 3 * M2;
	e.addr = 0;
	assert_int_equal(siommu_iotlb_insert_run(tlb, 1, 0, &e, 2, &seq, NULL), -EINVAL);
	assert_int_equal(siommu_iotlb_insert_run(NULL, 1, 0, &e, 2, &seq, NULL), -EINVAL);
	assert_int_equal(siommu_iotlb_lookup_span(tlb, 1, 0, base, NULL), -EINVAL);
	assert_int_equal(siommu_iotlb_lookup_span(NULL, 1, 0, base, &h), -EINVAL);
	assert_int_equal(siommu_iotlb_lookup_span(tlb, 1, SIOMMU_IOTLB_PASID_MAX + 1, base, &h),
			 -EINVAL);
	assert_false(hit(tlb, 1, 0, base));
	/* A run of one page is a page entry. */
	e = (struct siommu_iotlb_entry){ .iova = base, .addr = pa, .size_lg2 = 12, .prot = 3 };
	assert_int_equal(siommu_iotlb_insert_run(tlb, 1, 0, &e, 1, &seq, NULL), 0);
	assert_int_equal(siommu_iotlb_lookup_span(tlb, 1, 0, base, &h), 0);
	assert_int_equal(h.span.last, base + K4 - 1);
	assert_int_equal(siommu_iotlb_get_stats(tlb, &st), 0);
	assert_int_equal(st.run_inserts, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iotlb_create_rejects_bad_config),
		cmocka_unit_test(test_iotlb_create_defaults),
		cmocka_unit_test(test_iotlb_create_fail_nth_leaves_nothing),
		cmocka_unit_test_setup_teardown(test_iotlb_lookup_empty_misses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_insert_then_hit_4k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_hit_large_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_tag_separates_domain_and_pasid,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_lookup_rejects_bad_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_insert_rejects_bad_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_reinsert_updates_in_place,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_evicts_round_robin_in_full_set,
						setup_one_set, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_capacity_is_bounded, setup, teardown),
		cmocka_unit_test(test_iotlb_direct_mapped),
		cmocka_unit_test_setup_teardown(test_iotlb_inv_range_covers_every_page_size,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_inv_range_large_scans, setup_big, teardown),
		cmocka_unit_test(test_iotlb_contiguous_working_set_fits),
		cmocka_unit_test_setup_teardown(test_iotlb_inv_range_pasid_any, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_inv_pasid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_inv_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_inv_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_inv_rejects_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_stale_insert_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_unrelated_inv_keeps_seq,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_seq_after_inv_inserts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_stats_count_everything,
						setup_one_set, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_unknown_thread_uses_every_call,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_for_each_stops_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_random_ops_match_model,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_lookup_run, setup_big, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_run_entries, setup_big, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_ref_moves_on_every_change,
						setup_one_set, teardown),
	};

	return cmocka_run_group_tests_name("iotlb", tests, NULL, NULL);
}
