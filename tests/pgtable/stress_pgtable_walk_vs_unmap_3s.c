// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stress (seed 000 and 001): walkers translating, dumping and looking up
 * levels while other threads map and unmap the same region in a loop, on
 * each format in turn.
 *
 * Layout: two sub-regions, each at the start of its own 1 GiB region, each
 * owned by one mapper thread.  Generation g of sub-region k maps 4 MiB at
 * pa = PA(k) + g * STRIDE + offset, with 2 MiB pages when g is even and
 * 4 KiB pages when g is odd (pa shifted by 4 KiB), then unmaps the whole
 * 1 GiB region (detaching the leaf tables and the level-1 table: table
 * pages are freed every generation) and syncs the gather, alternating
 * call_rcu and synchronize.  started[k] is g from before the map,
 * retired[k] is g once its unmap is synced.
 *
 * Invariants checked (what a broken protocol would violate):
 *  - walkers (iova_to_phys, translate with A/D updates): every answer is
 *    "not mapped" or decodes to this sub-region, the right offset, the
 *    page size of its generation, and a generation g with
 *    retired-before-the-walk < g <= started-after-the-walk: the old or the
 *    new mapping, never a retired one, never another region's;
 *  - dumper: the same for every row of concurrent dumps, rows in order;
 *  - mirror (seed 001): a thread copies lookup_level answers into a mirror
 *    under a lock, only if seq_retry says no invalidation intervened; the
 *    mapper zaps the mirror under that lock after each unmap and checks
 *    that every mirrored level is the page size of the generation it unmaps;
 *  - two "chaos" threads map and unmap the same other range at once (the
 *    caller error of overlapping writers): nothing crashes or leaks;
 *  - at the end every page is back: one table page, the root.
 * A fourth run is VT-d with SIOMMU_PT_F_LINUX, where 4 KiB generations
 * unmap their leaves only and the 2 MiB maps that follow replace the empty
 * leaf tables (freed through the same gather and grace period).
 * Run under ASan and TSan by make check.  `--broken-reclaim` or
 * SIOMMU_STRESS_BREAK=1 (testing builds; elsewhere the test says
 * BREAK-UNSUPPORTED and skips) frees table pages before the grace period:
 * the test must fail (make check runs it).
 */
#include <sched.h>
#include <unistd.h>

#include "pgtable/pt_internal.h"
#include "pt_test.h"

#define NR_SUB		2
#define SUB_MAP		(4ull << 20)
#define SUB_SPAN	(1ull << 30)
#define STRIDE		(16ull << 20)
#define SZ_4K		0x1000ull
#define SZ_2M		0x200000ull
#define CHAOS_BASE	(8ull << 30)

/*
 * --only-linux: the F_LINUX run alone, with every table page freed by a
 * superpage map's replacement (no whole-span unmap, no chaos threads), so
 * that its broken variant proves that path is what gets caught.
 */
static bool only_linux;

struct stress {
	struct siommu_pt *pt;
	bool linux_pt;			/* SIOMMU_PT_F_LINUX: see the mapper */
	unsigned int ias;
	double deadline;
	uint64_t started[NR_SUB];	/* atomic */
	uint64_t retired[NR_SUB];	/* atomic */
	int seen[NR_SUB];		/* atomic: a walker hit the current generation */
	pthread_mutex_t mirror_lock;
	int8_t mirror[NR_SUB][SUB_MAP / SZ_4K];	/* [mirror_lock]: level lg2, 0 none */
	uint64_t walks, hits, rows, dumps, installs, retries, gens;	/* atomic counters */
	int any_hit, any_gen;		/* atomic: set at the first hit, generation */
	uint64_t chaos_ops;
	unsigned int failures;		/* atomic */
};

static uint64_t sub_base(unsigned int k)
{
	return (uint64_t)(k + 1) * SUB_SPAN;
}

static uint64_t sub_pa(unsigned int k)
{
	return (1ull << 40) + ((uint64_t)k << 43);
}

static void st_fail(struct stress *s, const char *what, uint64_t a, uint64_t b)
{
	if (__atomic_fetch_add(&s->failures, 1, __ATOMIC_RELAXED) < 5)
		fprintf(stderr, "stress_pgtable: %s (0x%llx 0x%llx)\n", what,
			(unsigned long long)a, (unsigned long long)b);
}

/*
 * The run lasts its time and, on a slow machine (TSan beside other tests),
 * until a walker has hit and a mapper has made a generation (the checks
 * below need both), capped at 30 s more.
 */
static bool done(struct stress *s)
{
	double now = test_now_s();

	if (now < s->deadline)
		return false;
	if (now >= s->deadline + 30.0)
		return true;
	return __atomic_load_n(&s->any_hit, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&s->any_gen, __ATOMIC_RELAXED);
}

/*
 * Check one answer (iova -> pa) for sub-region k: the generation it belongs
 * to must have been live at some moment between lo (exclusive) and hi.
 */
static void check_answer(struct stress *s, unsigned int k, uint64_t iova, uint64_t pa,
			 uint64_t lo, uint64_t hi)
{
	uint64_t off = iova - sub_base(k), rel, g, shift;

	if (pa < sub_pa(k) + off) {
		st_fail(s, "translation into another region", iova, pa);
		return;
	}
	rel = pa - sub_pa(k) - off;
	g = rel / STRIDE;
	shift = rel % STRIDE;
	if (shift != ((g & 1) ? SZ_4K : 0))
		st_fail(s, "translation with a wrong offset", iova, pa);
	else if (g <= lo || g > hi)
		st_fail(s, "translation from a retired or future generation", g, lo);
}

/* ---- mappers ---- */

static void mirror_zap_and_check(struct stress *s, unsigned int k, uint64_t g)
{
	int8_t want = (g & 1) ? 12 : 21;
	unsigned int i;

	pthread_mutex_lock(&s->mirror_lock);
	for (i = 0; i < SUB_MAP / SZ_4K; i++) {
		if (s->mirror[k][i] && s->mirror[k][i] != want)
			st_fail(s, "mirror holds a level from another generation", g,
			     (uint64_t)s->mirror[k][i]);
		s->mirror[k][i] = 0;
	}
	pthread_mutex_unlock(&s->mirror_lock);
}

struct inval_check {
	uint64_t lo, hi;
	unsigned int calls;
};

static void inval_cb(void *opaque, uint64_t iova, uint64_t last, unsigned int flags)
{
	struct inval_check *c = opaque;

	c->calls++;
	c->lo = iova;
	c->hi = last;
}

static void *mapper(void *opaque)
{
	struct stress *s = ((void **)opaque)[0];
	unsigned int k = (unsigned int)(uintptr_t)((void **)opaque)[1];
	uint64_t base = sub_base(k), g = 0;
	double t, t0;

	siommu_test_yield(1ull << SIOMMU_YIELD_RECLAIM);
	while (!done(s)) {
		struct inval_check c = { 0 };
		struct siommu_pt_gather gather;
		uint64_t pa;
		int64_t n;
		int ret;

		if (g++ == 0)
			__atomic_store_n(&s->any_gen, 1, __ATOMIC_RELAXED);
		pa = sub_pa(k) + g * STRIDE + ((g & 1) ? SZ_4K : 0);
		__atomic_store_n(&s->started[k], g, __ATOMIC_RELEASE);
		ret = siommu_pt_map(s->pt, base, pa, SUB_MAP, SIOMMU_PT_READ | SIOMMU_PT_WRITE);
		if (ret)
			st_fail(s, "map failed", base, (uint64_t)-ret);
		/* Let a walker see this generation: spin 200 us, then yield up to 2 ms. */
		for (t0 = test_now_s(), t = t0;
		     !__atomic_load_n(&s->seen[k], __ATOMIC_RELAXED) && t < t0 + 2e-3;
		     t = test_now_s())
			if (t > t0 + 200e-6)
				sched_yield();
		__atomic_store_n(&s->seen[k], 0, __ATOMIC_RELAXED);

		/*
		 * SIOMMU_PT_F_LINUX: a 4 KiB generation unmaps its leaves only,
		 * so its leaf tables stay, empty; the next (2 MiB) generation's
		 * map detaches them for its superpages (switch_to_super_page()),
		 * while walkers may still be inside them: freed only after a
		 * grace period, like the pages an unmap detaches.
		 */
		uint64_t span = s->linux_pt && ((g & 1) || only_linux) ? SUB_MAP : SUB_SPAN;

		siommu_pt_gather_init(&gather);
		n = siommu_pt_unmap(s->pt, base, span, &gather);
		if (n != (int64_t)SUB_MAP)
			st_fail(s, "unmap count", base, (uint64_t)n);
		ret = siommu_pt_gather_sync(&gather, inval_cb, &c,
					    (g & 2) ? SIOMMU_PT_SYNC_WAIT : 0);
		if (ret || c.calls != 1 || c.lo != base ||
		    c.hi != base + (span == SUB_SPAN ? SUB_SPAN : SUB_MAP) - 1)
			st_fail(s, "sync or invalidation range", c.lo, c.hi);
		mirror_zap_and_check(s, k, g);
		__atomic_store_n(&s->retired[k], g, __ATOMIC_RELEASE);
		if (only_linux && (g & 1)) {
			/*
			 * Leave the emptied leaf tables to the walkers for a
			 * while (one yields between levels, so it may hold a
			 * pointer into one) before the next map replaces them.
			 */
			for (t0 = test_now_s(), t = t0; t < t0 + 1e-3; t = test_now_s())
				sched_yield();
		}
	}
	__atomic_fetch_add(&s->gens, g, __ATOMIC_RELAXED);
	return NULL;
}

/* ---- walkers ---- */

static void *walker(void *opaque)
{
	struct stress *s = ((void **)opaque)[0];
	bool yield = ((void **)opaque)[1] != NULL;
	uint64_t r = (uint64_t)(uintptr_t)&r, walks = 0, hits = 0;

	while (!done(s)) {
		unsigned int k, i;

		/* Yield between levels in one batch of 8: wide windows, not starvation. */
		if (yield)
			siommu_test_yield((walks & 0x700) && !only_linux ? 0 :
					  1ull << SIOMMU_YIELD_PT_WALK);

		for (i = 0; i < 256; i++) {
			struct siommu_pt_xlate x = { 0 };
			uint64_t iova, pa, lo, hi;
			int ret;

			r = r * 6364136223846793005ull + 1442695040888963407ull;
			k = (unsigned int)(r >> 60) % NR_SUB;
			iova = sub_base(k) + ((r >> 20) % SUB_MAP & ~7ull);
			lo = __atomic_load_n(&s->retired[k], __ATOMIC_ACQUIRE);
			siommu_read_lock();
			if (i & 1) {
				ret = siommu_pt_translate_rcu(s->pt, iova, (r & 2) ?
							      SIOMMU_PT_ACC_WRITE :
							      SIOMMU_PT_ACC_READ, &x);
				pa = x.pa;
				if (!ret && x.pgsize_lg2 != 12 && x.pgsize_lg2 != 21)
					st_fail(s, "page size", iova, x.pgsize_lg2);
			} else {
				ret = siommu_pt_iova_to_phys_rcu(s->pt, iova, &pa);
			}
			siommu_read_unlock();
			hi = __atomic_load_n(&s->started[k], __ATOMIC_ACQUIRE);
			walks++;
			if (ret == -ENOENT)
				continue;
			if (ret) {
				st_fail(s, "walk error", iova, (uint64_t)-ret);
				continue;
			}
			if (!hits++)
				__atomic_store_n(&s->any_hit, 1, __ATOMIC_RELAXED);
			check_answer(s, k, iova, pa, lo, hi);
			if (!__atomic_load_n(&s->seen[k], __ATOMIC_RELAXED))
				__atomic_store_n(&s->seen[k], 1, __ATOMIC_RELAXED);
		}
	}
	__atomic_fetch_add(&s->walks, walks, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->hits, hits, __ATOMIC_RELAXED);
	return NULL;
}

struct dump_state {
	struct stress *s;
	uint64_t lo[NR_SUB];
	uint64_t last_pfn;
	unsigned int line;
	uint64_t rows;
};

static int dump_row(void *opaque, const char *text)
{
	struct dump_state *d = opaque;
	struct stress *s = d->s;
	unsigned long long pfn, e = 0;
	const char *p;
	unsigned int k;

	if (d->line++ < 2)
		return 0;	/* Device line and header */
	pfn = strtoull(text, NULL, 16);
	if (d->line > 3 && pfn <= d->last_pfn)
		st_fail(s, "dump rows out of order", pfn, d->last_pfn);
	d->last_pfn = pfn;
	/* The leaf is the last column. */
	p = strrchr(text, '\t');
	if (p)
		e = strtoull(p + 1, NULL, 16);
	d->rows++;
	for (k = 0; k < NR_SUB; k++) {
		uint64_t iova = (uint64_t)pfn << 12;

		if (iova >= sub_base(k) && iova < sub_base(k) + SUB_MAP) {
			uint64_t hi = __atomic_load_n(&s->started[k], __ATOMIC_ACQUIRE);

			/* Output addresses are below 2^47 here: bits 46:12. */
			check_answer(s, k, iova, e & 0x00007ffffffff000ull, d->lo[k], hi);
		}
	}
	return 0;
}

static void *dumper(void *opaque)
{
	struct stress *s = opaque;
	uint64_t dumps = 0, rows = 0;

	while (!done(s)) {
		struct dump_state d = { .s = s };
		unsigned int k;

		for (k = 0; k < NR_SUB; k++)
			d.lo[k] = __atomic_load_n(&s->retired[k], __ATOMIC_ACQUIRE);
		if (siommu_pt_dump(s->pt, NULL, dump_row, &d))
			st_fail(s, "dump failed", 0, 0);
		dumps++;
		rows += d.rows;
	}
	__atomic_fetch_add(&s->dumps, dumps, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->rows, rows, __ATOMIC_RELAXED);
	return NULL;
}

/* Seed 001: act on a lockless level lookup only if no invalidation intervened. */
static void *mirror(void *opaque)
{
	struct stress *s = opaque;
	uint64_t r = 12345, installs = 0, retries = 0;

	while (!done(s)) {
		unsigned int k, i;
		uint64_t iova, seq;
		int lvl;

		r = r * 6364136223846793005ull + 1442695040888963407ull;
		k = (unsigned int)(r >> 60) % NR_SUB;
		i = (unsigned int)((r >> 20) % (SUB_MAP / SZ_4K));
		iova = sub_base(k) + (uint64_t)i * SZ_4K;
		seq = siommu_pt_seq_begin(s->pt, iova);
		lvl = siommu_pt_lookup_level(s->pt, iova);
		if (lvl < 0) {
			st_fail(s, "lookup_level error", iova, (uint64_t)-lvl);
			continue;
		}
		pthread_mutex_lock(&s->mirror_lock);
		if (siommu_pt_seq_retry(s->pt, iova, seq)) {
			retries++;
		} else if (lvl) {
			s->mirror[k][i] = (int8_t)lvl;
			installs++;
		}
		pthread_mutex_unlock(&s->mirror_lock);
	}
	__atomic_fetch_add(&s->installs, installs, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->retries, retries, __ATOMIC_RELAXED);
	return NULL;
}

/* Overlapping writers on one range: a caller error that must stay memory-safe. */
static void *chaos(void *opaque)
{
	struct stress *s = opaque;
	uint64_t r = (uint64_t)(uintptr_t)&r, ops = 0;

	while (!done(s)) {
		struct siommu_pt_gather g;
		uint64_t off, size;

		r = r * 6364136223846793005ull + 1442695040888963407ull;
		off = ((r >> 16) % 1024) * SZ_4K;
		size = (1 + (r >> 40) % 1024) * SZ_4K;
		if (r & 1) {
			siommu_pt_map(s->pt, CHAOS_BASE + off, off, size,
				      SIOMMU_PT_READ | SIOMMU_PT_WRITE);
		} else {
			siommu_pt_gather_init(&g);
			siommu_pt_unmap(s->pt, CHAOS_BASE + ((r & 2) ? 0 : off),
					(r & 2) ? SUB_SPAN : size, &g);
			siommu_pt_gather_sync(&g, NULL, NULL, 0);
		}
		ops++;
	}
	__atomic_fetch_add(&s->chaos_ops, ops, __ATOMIC_RELAXED);
	return NULL;
}

static void run_format(enum siommu_pt_fmt fmt, unsigned int levels, double seconds,
		       bool broken, unsigned int extra_flags)
{
	struct siommu_pt_cfg cfg = { .fmt = fmt, .levels = levels,
				     .flags = (fmt == SIOMMU_PT_FMT_X86_64 ? 0 : SIOMMU_PT_F_DIRTY) |
					      extra_flags };
	static struct stress s;
	struct siommu_pt_info info;
	struct siommu_pt_gather g;
	struct siommu_ctx *ctx;
	void *margs[NR_SUB][2], *wargs[2][2];
	pthread_t tids[16];
	unsigned int n = 0, i, k;

	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.mirror_lock, NULL);
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_pt_create(ctx, &cfg, &s.pt), 0);
	assert_int_equal(siommu_pt_get_info(s.pt, &info), 0);
	s.ias = info.ias_lg2;
	s.linux_pt = extra_flags & SIOMMU_PT_F_LINUX;
#if SIOMMU_TESTING_BUILD
	pt_test_set_skip_grace(s.pt, broken);
#endif
	s.deadline = test_now_s() + seconds;

	for (k = 0; k < NR_SUB; k++) {
		margs[k][0] = &s;
		margs[k][1] = (void *)(uintptr_t)k;
		assert_int_equal(pthread_create(&tids[n++], NULL, mapper, margs[k]), 0);
	}
	for (i = 0; i < 2; i++) {
		wargs[i][0] = &s;
		/* the second one yields between levels (--only-linux: both do) */
		wargs[i][1] = i || only_linux ? &s : NULL;
		assert_int_equal(pthread_create(&tids[n++], NULL, walker, wargs[i]), 0);
	}
	assert_int_equal(pthread_create(&tids[n++], NULL, dumper, &s), 0);
	assert_int_equal(pthread_create(&tids[n++], NULL, mirror, &s), 0);
	for (i = 0; i < 2 && !only_linux; i++)
		assert_int_equal(pthread_create(&tids[n++], NULL, chaos, &s), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_join(tids[i], NULL), 0);

	/* Everything goes, and every page comes back. */
	siommu_pt_gather_init(&g);
	assert_true(siommu_pt_unmap(s.pt, 0, 1ull << s.ias, &g) >= 0);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, SIOMMU_PT_SYNC_WAIT), 0);
	assert_int_equal(siommu_pt_reclaim_wait(s.pt), 0);	/* every deferred free ran */
	assert_int_equal(siommu_pt_get_info(s.pt, &info), 0);
	printf("# %s/%u%s: %llu generations, %llu walks (%llu hits), %llu dumps (%llu rows), "
	       "%llu mirror installs (%llu retries), %llu chaos ops, peak %llu pages\n",
	       siommu_pt_fmt_name(fmt), levels, s.linux_pt ? " linux" : "",
	       (unsigned long long)s.gens,
	       (unsigned long long)s.walks, (unsigned long long)s.hits,
	       (unsigned long long)s.dumps, (unsigned long long)s.rows,
	       (unsigned long long)s.installs, (unsigned long long)s.retries,
	       (unsigned long long)s.chaos_ops, (unsigned long long)info.table_pages_peak);
	if (s.failures)
		printf("VIOLATION: %u wrong answers from walkers, dumps or the mirror\n",
		       s.failures);
	assert_int_equal(s.failures, 0);
	assert_int_equal(info.table_pages, 1);
	assert_int_equal(info.detached_pages + info.reclaim_pages, 0);
	assert_true(s.gens > 0 && s.hits > 0);
	assert_int_equal(siommu_pt_destroy(s.pt), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	pthread_mutex_destroy(&s.mirror_lock);
}

static bool broken_reclaim;

static void test_pgtable_stress_walk_vs_unmap(void **state)
{
	double secs = test_stress_seconds(2.4) / (broken_reclaim ? 3 : 4);

	if (only_linux) {
		/* --only-linux: the broken variant of the F_LINUX path alone */
		run_format(SIOMMU_PT_FMT_VTD_SS, 3, 4 * secs, broken_reclaim, SIOMMU_PT_F_LINUX);
		return;
	}
	run_format(SIOMMU_PT_FMT_X86_64, 4, secs, broken_reclaim, 0);
	run_format(SIOMMU_PT_FMT_VTD_SS, 3, secs, broken_reclaim, 0);
	run_format(SIOMMU_PT_FMT_ARM_LPAE_S1, 4, secs, broken_reclaim, 0);
	/*
	 * The tables a superpage map replaces (SIOMMU_PT_F_LINUX); not in the
	 * broken variant, whose detection the three runs above are tuned for
	 * (test_pgtable_linux-broken proves that path's order).
	 */
	if (!broken_reclaim)
		run_format(SIOMMU_PT_FMT_VTD_SS, 3, secs, broken_reclaim, SIOMMU_PT_F_LINUX);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pgtable_stress_walk_vs_unmap),
	};

	for (int a = 1; a < argc; a++)
		if (!strcmp(argv[a], "--only-linux"))
			only_linux = true;
	if ((argc > 1 && !strcmp(argv[1], "--broken-reclaim")) || test_break_requested()) {
		if (!siommu_testing_build())
			test_break_unsupported("--broken-reclaim needs a -Dtesting=true build");
		broken_reclaim = true;
	}
	return cmocka_run_group_tests_name("pgtable_stress", tests, NULL, NULL);
}
