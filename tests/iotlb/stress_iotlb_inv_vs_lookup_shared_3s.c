// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stress tests of the IOTLB's concurrency contracts, checked the way
 * rcutorture checks itself: every translation carries the version of the
 * "page table" it was read from, and a hit older than the last completed
 * invalidation is a failure.
 *
 * 1. Invalidation contract.  An updater thread changes one slot's
 *    translation (a new version in the slot's page-table word), invalidates
 *    the IOTLB by a randomly chosen kind (range, range for any PASID,
 *    PASID, PASID in any domain, domain, everything, a whole-space range),
 *    then publishes "done = version".  Reader threads read done (acquire),
 *    then look up: a hit older than done means either an entry survived the
 *    invalidation, or a lookup that read the old version inserted it after
 *    the invalidation returned (the stale-insert race).  On a miss the
 *    readers do what a translate path does: seq_begin, read the page-table
 *    word, sometimes yield (to widen the race window), insert.
 *
 * 2. Seqlock consistency.  Writers keep rewriting the ways of a tiny IOTLB
 *    with tags whose payload is a function of the tag; readers check that a
 *    hit's payload is the one of the tag they asked for (a torn read would
 *    mix two entries).
 *
 * Both run for SIOMMU_STRESS_SECONDS (default 1.5 s each), under ASan and
 * TSan in `make check`; each goes on (30 s at most) until its readers have
 * hit (and inserted) enough, so a starved run does not fail for want of work.
 *
 * SIOMMU_STRESS_BREAK=1 (testing builds; elsewhere the test says
 * BREAK-UNSUPPORTED and skips) makes insert skip its generation check
 * (iotlb_test_break_stale_insert): the stale-insert race is then open and
 * test 1 must report stale hits.  make check runs that and requires it.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"

#include <softiommu/iotlb.h>
#include "base/debug.h"
#include "iotlb/iotlb_internal.h"

#define K4	0x1000ull
#define M2	0x200000ull
#define G1	0x40000000ull

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void enable_yield(uint64_t mask)
{
	/* -EOPNOTSUPP in builds without test hooks: then no yield points. */
	(void)siommu_test_yield(mask);
}

/* ------------------------------------------------------------------ 1. contract */

#define NSLOTS		48
#define NREADERS	2

struct slot {
	uint32_t dom, pasid;
	uint64_t iova;
	unsigned int lg2;
};

struct contract {
	struct siommu_iotlb *tlb;
	struct slot slot[NSLOTS];
	uint64_t pt[NSLOTS];		/* atomic: current version of the slot's translation */
	uint64_t done[NSLOTS];		/* atomic: version whose invalidation has returned */
	double deadline;		/* run at least this long ... */
	double hard_deadline;		/* ... and on, until enough happened, at most this */
	bool stop;			/* atomic */
	uint64_t seen_hits, seen_inserts; /* atomic: readers' running totals */
	/* results, written by each thread at its end */
	uint64_t hits, stale, bad_shape, inserts, refused, updates;
};

static void contract_init(struct contract *c)
{
	static const unsigned int lg2s[] = { 12, 21, 30 };
	unsigned int i;

	for (i = 0; i < NSLOTS; i++) {
		struct slot *s = &c->slot[i];
		unsigned int k = i / 4;

		/* Four tags (2 domains x 2 PASIDs) share each address. */
		s->dom = 1 + i % 2;
		s->pasid = (i / 2) % 2;
		s->lg2 = lg2s[k % 3];
		s->iova = k * G1 + (s->lg2 == 30 ? 0 : s->lg2 == 21 ? 5 * M2 : 7 * K4);
		c->pt[i] = 1;
	}
}

/*
 * Enough happened: the run did what the test claims (hits, inserts and
 * updates well past the thresholds asserted at the end).  A loaded machine
 * (make check runs two test programs at once, and under TSan every yield
 * point may give the core away) can starve the readers for the whole
 * deadline: the updater then goes on until they caught up, or the hard
 * deadline passed and the final checks fail honestly.
 */
#define ENOUGH	1000

static bool contract_enough(struct contract *c, uint64_t updates)
{
	return updates >= ENOUGH &&
	       __atomic_load_n(&c->seen_hits, __ATOMIC_RELAXED) >= ENOUGH &&
	       __atomic_load_n(&c->seen_inserts, __ATOMIC_RELAXED) >= ENOUGH;
}

static void *contract_updater(void *arg)
{
	struct contract *c = arg;
	uint64_t rs = 0x9e3779b97f4a7c15ull, v = 1, n = 0;
	int ret = 0;

	enable_yield(1ull << SIOMMU_YIELD_IOTLB_INV);
	for (;;) {
		double now = test_now_s();
		unsigned int i = (unsigned int)(xorshift(&rs) % NSLOTS);
		struct slot *s = &c->slot[i];
		uint64_t size = 1ull << s->lg2;
		uint64_t start = s->iova + xorshift(&rs) % size;

		if (now >= c->hard_deadline || (now >= c->deadline && contract_enough(c, n)))
			break;
		v++;
		/* The page table changes first, then the IOTLB is invalidated. */
		__atomic_store_n(&c->pt[i], v, __ATOMIC_RELEASE);
		switch (xorshift(&rs) % 16) {
		case 10:
			ret |= siommu_iotlb_inv_range(c->tlb, s->dom, SIOMMU_IOTLB_PASID_ANY,
						      start, 1 + xorshift(&rs) % (2 * K4));
			break;
		case 11:
			ret |= siommu_iotlb_inv_pasid(c->tlb, s->dom, s->pasid);
			break;
		case 12:
			ret |= siommu_iotlb_inv_pasid(c->tlb, SIOMMU_IOTLB_DOMID_ANY, s->pasid);
			break;
		case 13:
			ret |= siommu_iotlb_inv_domain(c->tlb, s->dom);
			break;
		case 14:
			ret |= siommu_iotlb_inv_all(c->tlb);
			break;
		case 15:
			ret |= siommu_iotlb_inv_range(c->tlb, s->dom, s->pasid, 0, UINT64_MAX);
			break;
		default:
			/* Any range that overlaps the page, even by one byte. */
			ret |= siommu_iotlb_inv_range(c->tlb, s->dom, s->pasid, start,
						      1 + xorshift(&rs) % (2 * K4));
			break;
		}
		/* Lookups that read this have started after the invalidation. */
		__atomic_store_n(&c->done[i], v, __ATOMIC_RELEASE);
		n++;
	}
	__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
	c->updates = n;
	return ret ? (void *)1 : NULL;
}

struct reader_arg {
	struct contract *c;
	unsigned int id;
	uint64_t hits, stale, bad_shape, inserts, refused;
	uint64_t pub_hits, pub_inserts;	/* what was added to c->seen_* */
};

static void *contract_reader(void *p)
{
	struct reader_arg *a = p;
	struct contract *c = a->c;
	uint64_t rs = 0x2545f4914f6cdd1dull * (a->id + 1);

	enable_yield(1ull << SIOMMU_YIELD_IOTLB_INSERT);
	for (uint64_t iter = 1; !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE); iter++) {
		unsigned int i = (unsigned int)(xorshift(&rs) % NSLOTS);
		struct slot *s = &c->slot[i];
		uint64_t addr = s->iova + xorshift(&rs) % (1ull << s->lg2);
		struct siommu_iotlb_entry e;
		struct siommu_iotlb_seq seq;
		uint64_t floor, v;
		int ret;

		if (iter % 64 == 0) {
			/* Progress for contract_enough(): only what it needs. */
			__atomic_fetch_add(&c->seen_hits, a->hits - a->pub_hits, __ATOMIC_RELAXED);
			__atomic_fetch_add(&c->seen_inserts, a->inserts - a->pub_inserts,
					   __ATOMIC_RELAXED);
			a->pub_hits = a->hits;
			a->pub_inserts = a->inserts;
		}
		floor = __atomic_load_n(&c->done[i], __ATOMIC_ACQUIRE);
		ret = siommu_iotlb_lookup(c->tlb, s->dom, s->pasid, addr, &e);
		if (ret == 0) {
			a->hits++;
			if (e.iova != s->iova || e.size_lg2 != s->lg2 || e.prot != i)
				a->bad_shape++;
			if ((e.addr >> 30) < floor)
				a->stale++;
			continue;
		}
		if (ret != -ENOENT) {
			a->bad_shape++;
			continue;
		}
		/* A translate path's miss: seq, walk, insert. */
		if (siommu_iotlb_seq_begin(c->tlb, s->dom, s->pasid, addr, &seq)) {
			a->bad_shape++;
			continue;
		}
		v = __atomic_load_n(&c->pt[i], __ATOMIC_ACQUIRE);
		if ((xorshift(&rs) & 3) == 0)
			sched_yield();
		e.iova = s->iova;
		e.addr = v << 30;
		e.size_lg2 = s->lg2;
		e.prot = i;
		ret = siommu_iotlb_insert(c->tlb, s->dom, s->pasid, &e, &seq);
		if (ret == 0)
			a->inserts++;
		else if (ret == -EAGAIN)
			a->refused++;
		else
			a->bad_shape++;
	}
	return NULL;
}

static void test_iotlb_inv_contract_vs_lookup_insert(void **state)
{
	struct siommu_iotlb_config cfg = { .capacity = 32, .ways = 4 };
	struct reader_arg ra[NREADERS];
	struct siommu_iotlb_stats st;
	struct siommu_ctx *ctx;
	struct contract *c;
	pthread_t upd, rd[NREADERS];
	void *uret;
	unsigned int i;

	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	contract_init(c);
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	/* 32 entries for 48 slots: evictions race with everything else too. */
	assert_int_equal(siommu_iotlb_create(ctx, &cfg, &c->tlb), 0);
	c->deadline = test_now_s() + test_stress_seconds(1.5);
	c->hard_deadline = c->deadline + 30;

	for (i = 0; i < NREADERS; i++) {
		ra[i] = (struct reader_arg){ .c = c, .id = i };
		assert_int_equal(pthread_create(&rd[i], NULL, contract_reader, &ra[i]), 0);
	}
	assert_int_equal(pthread_create(&upd, NULL, contract_updater, c), 0);
	assert_int_equal(pthread_join(upd, &uret), 0);
	for (i = 0; i < NREADERS; i++) {
		assert_int_equal(pthread_join(rd[i], NULL), 0);
		c->hits += ra[i].hits;
		c->stale += ra[i].stale;
		c->bad_shape += ra[i].bad_shape;
		c->inserts += ra[i].inserts;
		c->refused += ra[i].refused;
	}
	assert_int_equal(siommu_iotlb_get_stats(c->tlb, &st), 0);
	print_message("# updates %llu, hits %llu, inserts %llu, refused %llu, "
		      "evictions %llu, stale hits %llu\n",
		      (unsigned long long)c->updates, (unsigned long long)c->hits,
		      (unsigned long long)c->inserts, (unsigned long long)c->refused,
		      (unsigned long long)st.evictions, (unsigned long long)c->stale);

	if (c->stale)
		print_message("VIOLATION: %llu stale hits: a hit older than the last completed "
			      "invalidation of its slot\n", (unsigned long long)c->stale);
	assert_null(uret);
	assert_int_equal(c->bad_shape, 0);
	assert_int_equal(c->stale, 0);
	/* The run exercised what it claims to. */
	assert_true(c->updates > 100);
	assert_true(c->hits > 100);
	assert_true(c->inserts > 100);
	assert_int_equal(st.hits, c->hits);
	assert_int_equal(st.inserts, c->inserts);
	assert_int_equal(st.insert_stale, c->refused);

	siommu_iotlb_destroy(c->tlb);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	free(c);
}

/* ------------------------------------------------------------------ 2. seqlock */

#define POOL 64

struct torn {
	struct siommu_iotlb *tlb;
	double deadline, hard_deadline;	/* as in struct contract */
	bool stop;			/* atomic */
	uint64_t seen_hits;		/* atomic: readers' running total */
};

struct torn_arg {
	struct torn *t;
	unsigned int id;
	uint64_t hits, mismatches, writes;
};

/* The payload of pool tag @k: a function of the tag only. */
static uint64_t pool_addr(unsigned int k)
{
	return ((uint64_t)(k * 2654435761u) & 0xffffff) << 12;
}

static unsigned int pool_prot(unsigned int k)
{
	return (k * 40503u) & SIOMMU_IOTLB_PROT_MASK;
}

static void pool_tag(unsigned int k, uint32_t *dom, uint32_t *pasid, uint64_t *iova)
{
	*dom = 1 + k % 4;
	*pasid = (k / 4) % 4;
	*iova = (k / 16) * K4;
}

static void *torn_writer(void *p)
{
	struct torn_arg *a = p;
	uint64_t rs = 0x853c49e6748fea9bull * (a->id + 1);

	for (;;) {
		double now = test_now_s();
		unsigned int k = (unsigned int)(xorshift(&rs) % POOL);
		struct siommu_iotlb_entry e = {
			.addr = pool_addr(k), .size_lg2 = 12, .prot = pool_prot(k),
		};
		struct siommu_iotlb_seq seq;
		uint32_t dom, pasid;

		if (now >= a->t->hard_deadline ||
		    (now >= a->t->deadline && a->writes >= ENOUGH &&
		     __atomic_load_n(&a->t->seen_hits, __ATOMIC_RELAXED) >= ENOUGH))
			break;
		pool_tag(k, &dom, &pasid, &e.iova);
		if (xorshift(&rs) % 32 == 0) {
			siommu_iotlb_inv_range(a->t->tlb, dom, pasid, e.iova, K4);
			continue;
		}
		if (siommu_iotlb_seq_begin(a->t->tlb, dom, pasid, e.iova, &seq) ||
		    siommu_iotlb_insert(a->t->tlb, dom, pasid, &e, &seq) != 0)
			a->mismatches++;	/* nothing invalidates concurrently but us */
		a->writes++;
	}
	__atomic_store_n(&a->t->stop, true, __ATOMIC_RELEASE);
	return NULL;
}

static void *torn_reader(void *p)
{
	struct torn_arg *a = p;
	uint64_t rs = 0xda942042e4dd58b5ull * (a->id + 1);

	while (!__atomic_load_n(&a->t->stop, __ATOMIC_ACQUIRE)) {
		unsigned int k = (unsigned int)(xorshift(&rs) % POOL);
		struct siommu_iotlb_entry e;
		uint32_t dom, pasid;
		uint64_t iova;

		/* Yield between matching a tag and reading its data, sometimes. */
		enable_yield(xorshift(&rs) % 4 ? 0 : 1ull << SIOMMU_YIELD_IOTLB_LOOKUP);
		pool_tag(k, &dom, &pasid, &iova);
		if (siommu_iotlb_lookup(a->t->tlb, dom, pasid, iova, &e))
			continue;
		if (++a->hits % 64 == 0)
			__atomic_fetch_add(&a->t->seen_hits, 64, __ATOMIC_RELAXED);
		if (e.addr != pool_addr(k) || e.prot != pool_prot(k) || e.iova != iova)
			a->mismatches++;
	}
	enable_yield(0);
	return NULL;
}

static void test_iotlb_seqlock_no_torn_reads(void **state)
{
	/* Two sets of four ways: every insert rewrites a way readers scan. */
	struct siommu_iotlb_config cfg = { .capacity = 8, .ways = 4 };
	struct torn_arg w = { .id = 0 }, r[2] = { { .id = 1 }, { .id = 2 } };
	struct siommu_ctx *ctx;
	struct torn t = { 0 };
	pthread_t tw, tr[2];
	unsigned int i;

	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_iotlb_create(ctx, &cfg, &t.tlb), 0);
	t.deadline = test_now_s() + test_stress_seconds(1.5);
	t.hard_deadline = t.deadline + 30;
	w.t = r[0].t = r[1].t = &t;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&tr[i], NULL, torn_reader, &r[i]), 0);
	assert_int_equal(pthread_create(&tw, NULL, torn_writer, &w), 0);
	assert_int_equal(pthread_join(tw, NULL), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(tr[i], NULL), 0);
	print_message("# writes %llu, hits %llu, mismatches %llu\n",
		      (unsigned long long)w.writes,
		      (unsigned long long)(r[0].hits + r[1].hits),
		      (unsigned long long)(w.mismatches + r[0].mismatches + r[1].mismatches));
	assert_int_equal(w.mismatches, 0);
	assert_int_equal(r[0].mismatches + r[1].mismatches, 0);
	assert_true(w.writes > 100);
	assert_true(r[0].hits + r[1].hits > 100);
	siommu_iotlb_destroy(t.tlb);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iotlb_inv_contract_vs_lookup_insert),
		cmocka_unit_test(test_iotlb_seqlock_no_torn_reads),
	};

	if (test_break_requested()) {
#if SIOMMU_TESTING_BUILD
		iotlb_test_break_stale_insert = true;
#else
		test_break_unsupported("the stale-insert hook of insert exists in "
				       "-Dtesting=true builds only");
#endif
	}

	return cmocka_run_group_tests_name("iotlb_stress", tests, NULL, NULL);
}
