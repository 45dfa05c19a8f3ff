// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The per-thread translation hint (src/core/translate.c) against everything
 * that changes a translation: it is never stale.
 *
 * Translator threads translate the same page many times in a row (so that
 * their hint serves most translations) and read the page through the
 * translation inside the read-side section, while a driver thread, at
 * random: unmaps a page strictly and maps a fresh buffer at the same IOVA;
 * replaces the device's domain with the other one; destroys the idle domain
 * and builds a new one (often at the same address); invalidates the IOTLB
 * (range with a PASID or any, PASID, domain, all).  Each page's buffer is
 * filled with a tag naming its domain, slot and generation.
 *
 * Two checks, both precise:
 *  1. Strict unmap (and destroy): once it returned, the old buffer is
 *     poisoned; no translator may read POISON (translations outlive
 *     nothing), and a buffer leaving quarantine is freed (ASan: any later
 *     access is a use after free).
 *  2. Freshness: the driver brackets each change of a translation with an
 *     epoch, odd while it runs, and publishes the expected tags before the
 *     even value.  A translation whose section lies inside one even epoch
 *     (read before and after, equal) must give exactly the expected tag
 *     (the acquire of the attachment and of the IOTLB entry carry the
 *     epoch's order: see the comment in reader()).  A stale hint (the old
 *     page after an unmap and remap, the old domain after a replace) gives
 *     another tag.
 *
 * A DMA thread reads several slots at once (the slots of a fresh domain
 * map one contiguous arena, so a transfer is one run, served page after
 * page by siommu_iotlb_lookup_run()) under the same two checks.
 *
 * Run entries: a fresh domain's slots map one contiguous arena, so a walk
 * caches all of them as one IOTLB run entry (and the hint covers the run);
 * an unmap of any slot must remove the whole run before it returns.  The
 * test checks that run entries were made (the IOTLB's run_inserts).
 *
 * The broken variants (SIOMMU_STRESS_BREAK=1, testing builds): the hint
 * trusts its key without checking the domain and the IOTLB entry
 * (core_test_set_hint_unchecked()); with --break-run, range invalidations
 * leave run entries in place (iotlb_test_break_run_inv), so an unmapped
 * slot stays translated through its old run.  Check 1 or 2 must report
 * either (under TSan a data race with the poisoning may be reported first).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"
#include "stress_core_page.h"

#include <softiommu/core.h>
#include <softiommu/iotlb.h>
#include "siommu_config.h"
#include "core/core_internal.h"
#include "iotlb/iotlb_internal.h"

#define NSLOT		8
#define NREAD		2
#define STICK		64		/* translations of one page in a row */
#define IOVA0		0x10000000ull
#define QMAX_OK		8
#define QMAX_BROKEN	8192
#define ARENA_MAX	4096

struct run {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
	struct siommu_domain *dom[2];	/* driver only */
	uint64_t *buf[2][NSLOT];	/* driver only */
	bool in_arena[2][NSLOT];	/* driver only: buf is a page of an arena */
	uint64_t *arenas[ARENA_MAX];	/* driver only: freed at teardown */
	unsigned int narenas;
	uint64_t **quar;		/* driver only */
	unsigned int qlen, qmax;
	bool broken;
	/* Published by the driver, read by translators (atomics). */
	uint64_t epoch;			/* odd: a change is running */
	unsigned int att;		/* index of the attached domain */
	uint64_t tag[2][NSLOT];		/* the tag each domain's slot maps now */
	int stop;
	/* results (atomic adds) */
	uint64_t xl_ok, xl_hit, xl_fault, xl_other, checked;
	uint64_t dma_ok, dma_fault, dma_checked, dma_pages;
	uint64_t poison_reads, stale;
	bool break_run;			/* --break-run: the run-entry break instead */
	/* driver */
	uint64_t writes_after_return, changes, invals, gen;
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static uint64_t make_tag(unsigned int d, unsigned int s, uint64_t gen)
{
	return (uint64_t)(d + 1) << 56 | (uint64_t)s << 48 | gen;
}


/*
 * DMA over several slots (runs through the IOTLB's lookup_run when the
 * slots' pages are contiguous): every word read must be its slot's tag of
 * the epoch (same rule as reader()), never POISON.
 */
static void *dma_reader(void *arg)
{
	struct run *r = arg;
	unsigned int seed = 4321, s0, ns, i, d;
	uint64_t *buf = calloc((size_t)NSLOT * WORDS, sizeof(*buf));
	uint64_t want[NSLOT], e1, e2;
	int ret;

	assert_non_null(buf);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		s0 = rand_r(&seed) % NSLOT;
		ns = 1 + rand_r(&seed) % (NSLOT - s0);
		e1 = __atomic_load_n(&r->epoch, __ATOMIC_ACQUIRE);
		d = __atomic_load_n(&r->att, __ATOMIC_RELAXED);
		for (i = 0; i < ns; i++)
			want[i] = __atomic_load_n(&r->tag[d][s0 + i], __ATOMIC_RELAXED);
		ret = siommu_dma_read(r->dev, 0, IOVA0 + (uint64_t)s0 * PG, buf,
				      (size_t)ns * PG);
		e2 = __atomic_load_n(&r->epoch, __ATOMIC_ACQUIRE);
		if (ret) {
			__atomic_fetch_add(&r->dma_fault, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_fetch_add(&r->dma_ok, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&r->dma_pages, ns, __ATOMIC_RELAXED);
		for (i = 0; i < ns * WORDS; i++) {
			if (buf[i] == POISON) {
				__atomic_fetch_add(&r->poison_reads, 1, __ATOMIC_RELAXED);
				break;
			}
		}
		if (e1 != e2 || (e1 & 1))
			continue;
		__atomic_fetch_add(&r->dma_checked, 1, __ATOMIC_RELAXED);
		for (i = 0; i < ns * WORDS; i++) {
			if (buf[i] != want[i / WORDS]) {
				if (__atomic_fetch_add(&r->stale, 1, __ATOMIC_RELAXED) < 4)
					fprintf(stderr, "# stale DMA: slot %u read %#" PRIx64
						" want %#" PRIx64 "\n", s0 + i / WORDS, buf[i],
						want[i / WORDS]);
				break;
			}
		}
	}
	free(buf);
	return NULL;
}


static void quar_check_free(struct run *r, uint64_t *b)
{
	if (!buf_free_poisoned(b))
		r->writes_after_return++;
}

/*
 * After its unmap (or its domain's destroy) returned: poison, quarantine.
 * A page of an arena stays poisoned until teardown frees its arena.
 */
static void retire(struct run *r, uint64_t *old, bool arena)
{
	unsigned int i;

	for (i = 0; i < WORDS; i++)
		old[i] = POISON;
	if (arena)
		return;
	if (r->qlen == r->qmax) {
		quar_check_free(r, r->quar[0]);
		memmove(r->quar, r->quar + 1, (r->qmax - 1) * sizeof(*r->quar));
		r->qlen--;
	}
	r->quar[r->qlen++] = old;
}

static void *reader(void *arg)
{
	struct run *r = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed, n = 0, s = 0, off;
	struct siommu_translation t;
	uint64_t e1, e2, want = 0, v = 0;
	int ret;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (n++ % STICK == 0) {
			s = rand_r(&seed) % NSLOT;
			/* Two readers on two CPUs: let the driver run too. */
			if (n % (16 * STICK) == 1)
				sched_yield();
		}
		off = rand_r(&seed) % WORDS;
		/*
		 * The epoch read before the section, with the tags it
		 * publishes.  If the translation used a newer attachment or a
		 * newer IOTLB entry/table than those of this epoch, it read
		 * (acquire) a store the driver made after setting the epoch
		 * odd, so e2 below sees that (or later): e1 == e2 means the
		 * translation belongs to epoch e1 exactly.
		 */
		e1 = __atomic_load_n(&r->epoch, __ATOMIC_ACQUIRE);
		if (!(e1 & 1))
			want = __atomic_load_n(&r->tag[__atomic_load_n(&r->att,
							__ATOMIC_RELAXED)][s],
					       __ATOMIC_RELAXED);
		siommu_read_lock();
		ret = siommu_translate_rcu(r->dev, 0, IOVA0 + (uint64_t)s * PG + off * 8,
					   SIOMMU_ACC_READ, &t);
		if (!ret)
			v = *(const uint64_t *)(uintptr_t)t.pa;	/* inside the section */
		siommu_read_unlock();
		e2 = __atomic_load_n(&r->epoch, __ATOMIC_ACQUIRE);
		if (ret == -ENOENT || ret == -ENODATA) {
			__atomic_fetch_add(&r->xl_fault, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (ret) {
			__atomic_fetch_add(&r->xl_other, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_fetch_add(&r->xl_ok, 1, __ATOMIC_RELAXED);
		if (t.iotlb_hit)
			__atomic_fetch_add(&r->xl_hit, 1, __ATOMIC_RELAXED);
		if (v == POISON)
			__atomic_fetch_add(&r->poison_reads, 1, __ATOMIC_RELAXED);
		if (e1 == e2 && !(e1 & 1)) {
			__atomic_fetch_add(&r->checked, 1, __ATOMIC_RELAXED);
			if (v != want &&
			    __atomic_fetch_add(&r->stale, 1, __ATOMIC_RELAXED) < 4)
				fprintf(stderr, "# stale: slot %u read %#" PRIx64
					" want %#" PRIx64 " (hit %d)\n", s, v, want,
					t.iotlb_hit);
		}
	}
	return NULL;
}

/* Map slot @s of domain @d to @b (a fresh page or a page of an arena). */
static void map_slot_at(struct run *r, unsigned int d, unsigned int s, uint64_t *b,
			bool arena)
{
	uint64_t tag = make_tag(d, s, ++r->gen);
	unsigned int i;

	for (i = 0; i < WORDS; i++)
		b[i] = tag;
	r->buf[d][s] = b;
	r->in_arena[d][s] = arena;
	assert_int_equal(siommu_domain_map(r->dom[d], IOVA0 + (uint64_t)s * PG,
					   (uintptr_t)r->buf[d][s], PG,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	__atomic_store_n(&r->tag[d][s], tag, __ATOMIC_RELAXED);
}

static void map_slot(struct run *r, unsigned int d, unsigned int s)
{
	map_slot_at(r, d, s, buf_new(0), false);
}

/*
 * A domain whose slots map one contiguous arena: DMA over several slots is
 * one run (siommu_iotlb_lookup_run()) until a slot is remapped elsewhere.
 */
static void make_domain(struct run *r, unsigned int d)
{
	uint64_t *arena = NULL;
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING,
		.fmt = SIOMMU_PT_FMT_X86_64,
		.unmap_mode = SIOMMU_UNMAP_STRICT,
	};
	unsigned int s;

	assert_int_equal(siommu_domain_create(r->iommu, &cfg, &r->dom[d]), 0);
	assert_true(r->narenas < ARENA_MAX);
	assert_int_equal(posix_memalign((void **)&arena, PG, (size_t)NSLOT * PG), 0);
	r->arenas[r->narenas++] = arena;
	for (s = 0; s < NSLOT; s++)
		map_slot_at(r, d, s, arena + (size_t)s * WORDS, true);
}

static void epoch_begin(struct run *r)
{
	/* Before the change: the readers' acquire of the change orders it. */
	__atomic_store_n(&r->epoch, r->epoch + 1, __ATOMIC_SEQ_CST);
}

static void epoch_end(struct run *r)
{
	/* After the change and the new tags: pairs with the readers' e1 load. */
	__atomic_store_n(&r->epoch, r->epoch + 1, __ATOMIC_RELEASE);
	r->changes++;
}

static bool break_run;	/* main(): --break-run */

static void run_setup(struct run *r, bool broken)
{
	memset(r, 0, sizeof(*r));
	r->broken = broken;
	r->break_run = break_run;
	r->qmax = broken ? QMAX_BROKEN : QMAX_OK;
	r->quar = calloc(r->qmax, sizeof(*r->quar));
	assert_non_null(r->quar);
	assert_int_equal(siommu_ctx_create(&r->ctx), 0);
	siommu_ctx_set_log(r->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_iommu_create(r->ctx, NULL, NULL, &r->iommu), 0);
	assert_int_equal(siommu_device_create(r->iommu, SIOMMU_RID(0, 1, 0, 0), 0, 0,
					      &r->dev), 0);
	make_domain(r, 0);
	make_domain(r, 1);
	assert_int_equal(siommu_device_attach(r->dev, r->dom[0]), 0);
#if SIOMMU_TESTING_BUILD
	core_test_set_hint_unchecked(broken && !break_run);
	siommu_store_relaxed(&iotlb_test_break_run_inv, broken && break_run);
#endif
}

static void destroy_domain(struct run *r, unsigned int d)
{
	unsigned int s;

	assert_int_equal(siommu_domain_destroy(r->dom[d]), 0);
	for (s = 0; s < NSLOT; s++)
		retire(r, r->buf[d][s], r->in_arena[d][s]);
}

static void run_teardown(struct run *r)
{
	unsigned int s;

#if SIOMMU_TESTING_BUILD
	core_test_set_hint_unchecked(false);
	siommu_store_relaxed(&iotlb_test_break_run_inv, false);
#endif
	assert_int_equal(siommu_device_detach(r->dev), 0);
	destroy_domain(r, 0);
	destroy_domain(r, 1);
	for (s = 0; s < r->qlen; s++)
		quar_check_free(r, r->quar[s]);
	free(r->quar);
	for (s = 0; s < r->narenas; s++)
		free(r->arenas[s]);
	assert_int_equal(siommu_device_destroy(r->dev), 0);
	assert_int_equal(siommu_iommu_destroy(r->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(r->ctx), 0);
}

static void invalidate(struct run *r, unsigned int kind, unsigned int s)
{
	struct siommu_iotlb *tlb = r->iommu->iotlb;
	struct siommu_domain_info info;
	unsigned int d = r->att;

	assert_int_equal(siommu_domain_get_info(r->dom[d], &info), 0);
	switch (kind) {
	case 0:
		assert_int_equal(siommu_iotlb_inv_range(tlb, info.domid, 0,
							IOVA0 + (uint64_t)s * PG, PG), 0);
		break;
	case 1:
		assert_int_equal(siommu_iotlb_inv_range(tlb, info.domid, SIOMMU_IOTLB_PASID_ANY,
							IOVA0, (uint64_t)NSLOT * PG), 0);
		break;
	case 2:
		assert_int_equal(siommu_iotlb_inv_pasid(tlb, info.domid, 0), 0);
		break;
	case 3:
		assert_int_equal(siommu_iotlb_inv_domain(tlb, info.domid), 0);
		break;
	default:
		assert_int_equal(siommu_iotlb_inv_all(tlb), 0);
		break;
	}
	r->invals++;
}

static void drive(struct run *r, double secs)
{
	pthread_t tids[NREAD], dma_tid;
	double t0 = test_now_s();
	unsigned int seed = 7, i, s, d, op;
	uint64_t *old;

	for (i = 0; i < NREAD; i++)
		assert_int_equal(pthread_create(&tids[i], NULL, reader, r), 0);
	assert_int_equal(pthread_create(&dma_tid, NULL, dma_reader, r), 0);
	while (test_now_s() - t0 < secs) {
		/*
		 * Arenas are kept until the teardown (readers may hold their
		 * addresses): a fast machine that used them all has done
		 * enough rebuilds, so the run ends there.
		 */
		if (r->narenas + 1 >= ARENA_MAX)
			break;
		if (r->broken && (__atomic_load_n(&r->stale, __ATOMIC_RELAXED) ||
				  __atomic_load_n(&r->poison_reads, __ATOMIC_RELAXED) ||
				  r->qlen + NSLOT >= r->qmax))
			break;
		op = rand_r(&seed) % 16;
		s = rand_r(&seed) % NSLOT;
		/*
		 * --break-run: only what makes and breaks runs (unmaps of the
		 * attached domain's slots, fresh arenas by replace and rebuild);
		 * no PASID, domain or global invalidation, which would remove
		 * the stale runs the broken range invalidation leaves.
		 */
		if (r->break_run && r->broken)
			op = (const unsigned int[]){ 0, 1, 2, 8, 11 }[op % 5];
		if (op < 8) {
			/* Unmap a page (attached domain mostly), map a fresh buffer. */
			d = op < 6 ? r->att : !r->att;
			bool arena = r->in_arena[d][s];

			old = r->buf[d][s];
			epoch_begin(r);
			assert_int_equal(siommu_domain_unmap(r->dom[d], IOVA0 + (uint64_t)s * PG,
							     PG), PG);
			retire(r, old, arena);
			map_slot(r, d, s);
			epoch_end(r);
		} else if (op < 11) {
			epoch_begin(r);
			assert_int_equal(siommu_device_replace(r->dev, r->dom[!r->att]), 0);
			__atomic_store_n(&r->att, !r->att, __ATOMIC_RELAXED);
			epoch_end(r);
		} else if (op < 12) {
			/* The idle domain: destroyed and built again. */
			d = !r->att;
			destroy_domain(r, d);
			make_domain(r, d);
		} else {
			invalidate(r, op - 12 + (rand_r(&seed) & 1), s);
		}
	}
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NREAD; i++)
		assert_int_equal(pthread_join(tids[i], NULL), 0);
	assert_int_equal(pthread_join(dma_tid, NULL), 0);
}

static void test_core_hint_never_stale(void **state)
{
	/* SIOMMU_STRESS_BREAK=1: this very test on the broken variant. */
	bool brk = test_break_requested();
	struct siommu_iotlb_stats ts;
	struct run r;

	run_setup(&r, brk);
	/* Broken: until the first report (the loop stops there), at most 30 s. */
	drive(&r, brk ? 30.0 : test_stress_seconds(2.0));
	assert_int_equal(siommu_iotlb_get_stats(r.iommu->iotlb, &ts), 0);
	run_teardown(&r);
	print_message("# IOTLB run entries written %" PRIu64 "\n", ts.run_inserts);
	print_message("# changes %" PRIu64 " invalidations %" PRIu64 " translations %"
		      PRIu64 " (hits %" PRIu64 ", faults %" PRIu64 ") checked %" PRIu64
		      " stale %" PRIu64 " poison reads %" PRIu64 " writes after return %"
		      PRIu64 "\n", r.changes, r.invals, r.xl_ok, r.xl_hit, r.xl_fault,
		      r.checked, r.stale, r.poison_reads, r.writes_after_return);
	print_message("# dma ok %" PRIu64 " (%" PRIu64 " pages) faults %" PRIu64
		      " checked %" PRIu64 "\n", r.dma_ok, r.dma_pages, r.dma_fault,
		      r.dma_checked);
	if (r.stale || r.poison_reads)
		print_message("# VIOLATION: a translation was stale (hint not invalidated)\n");
	assert_int_equal(r.xl_other, 0);
	assert_int_equal(r.stale, 0);
	assert_int_equal(r.poison_reads, 0);
	assert_int_equal(r.writes_after_return, 0);
	assert_true(r.changes > 10);
	assert_true(r.checked > 100);
	assert_true(r.xl_hit > r.xl_ok / 4);	/* the hint (and IOTLB) did serve */
	assert_true(r.dma_checked > 10);
	assert_true(ts.run_inserts > 0);	/* the arenas were cached as runs */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_hint_never_stale),
	};

	break_run = argc > 1 && !strcmp(argv[1], "--break-run");
	if (test_break_requested() && !SIOMMU_TESTING_BUILD)
		test_break_unsupported("core_test_set_hint_unchecked() needs -Dtesting=true");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
