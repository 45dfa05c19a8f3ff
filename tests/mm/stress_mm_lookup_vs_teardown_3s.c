// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The seed-001 lookup under concurrent teardown: lookup threads walk the
 * mm's table locklessly (siommu_mm_lookup_level_rcu() and
 * siommu_mm_translate_rcu(), yielding between levels) while changer
 * threads munmap whole 2 MiB slots, which frees their leaf table pages,
 * then mmap and touch them again.  Every answer must be a level the slot
 * can have (12 for the 4 KiB-policy slots; 12 or 21 for the THP slots),
 * a translation's address must lie in memory the mm handed out for that
 * page size (aligned like the address), and under ASan no walk may read a
 * freed table page (pgtable poisons them in its pool).
 *
 * Broken variant (SIOMMU_STRESS_BREAK=1, ASan testing builds): the mm's
 * table frees detached table pages without the grace period
 * (pt_test_set_skip_grace()): a lookup reads a poisoned page.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"

#include <softiommu/mm.h>
#include "siommu_config.h"
#include "base/debug.h"

#define SLOT_SZ		(2ull << 20)
#define SLOTS		32
#define NCHANGE		2
#define NLOOK		2

#if SIOMMU_TESTING_BUILD
struct siommu_pt;
void pt_test_set_skip_grace(struct siommu_pt *pt, bool skip);
#endif

static bool broken;

struct run {
	struct siommu_mm *mm;
	uint64_t base;
	int stop;
	uint64_t lookups, bad, remaps;
};

struct targ {
	struct run *r;
	unsigned int id;
	uint64_t seed;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static unsigned int slot_flags(unsigned int slot)
{
	return SIOMMU_MM_MAP_ANON | SIOMMU_MM_MAP_FIXED | (slot & 1 ? SIOMMU_MM_PAGE_4K : 0);
}

static void *changer(void *arg)
{
	struct targ *t = arg;
	struct run *r = t->r;
	uint64_t s = t->seed, out;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		unsigned int slot = t->id + NCHANGE * (unsigned int)(rnd(&s) % (SLOTS / NCHANGE));
		uint64_t va = r->base + slot * SLOT_SZ;
		uint8_t v = 1;

		thread_assert_int_equal(siommu_mm_munmap(r->mm, va, SLOT_SZ), 0);
		thread_assert_int_equal(siommu_mm_mmap(r->mm, va, SLOT_SZ,
						       SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE,
						       slot_flags(slot), -1, 0, &out), 0);
		for (int i = 0; i < 8; i++)
			thread_assert_int_equal(siommu_mm_write(r->mm, va + (rnd(&s) % SLOT_SZ),
								&v, 1), 0);
		__atomic_add_fetch(&r->remaps, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *looker(void *arg)
{
	struct targ *t = arg;
	struct run *r = t->r;
	uint64_t s = t->seed, n = 0;

	if (t->id == 0 || broken)
		siommu_test_yield(1ull << SIOMMU_YIELD_PT_WALK);
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		unsigned int slot = (unsigned int)(rnd(&s) % SLOTS);
		uint64_t va = r->base + slot * SLOT_SZ + (rnd(&s) % SLOT_SZ & ~0xfffull);
		struct siommu_mm_xlate x;
		int lvl, ret;

		siommu_read_lock();
		lvl = siommu_mm_lookup_level_rcu(r->mm, va);
		ret = siommu_mm_translate_rcu(r->mm, va, &x);
		siommu_read_unlock();
		if (lvl != 12 && !(lvl == 21 && !(slot & 1))) {
			if (__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED) < 5)
				fprintf(stderr, "VIOLATION: level %d at slot %u\n", lvl, slot);
		}
		if (!ret && (((x.pa ^ va) & ((1ull << x.pgsize_lg2) - 1)) ||
			     (x.pgsize_lg2 != 12 && x.pgsize_lg2 != 21))) {
			if (__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED) < 5)
				fprintf(stderr, "VIOLATION: translation %#" PRIx64 " size %u of %#"
					PRIx64 "\n", x.pa, x.pgsize_lg2, va);
		}
		n++;
	}
	__atomic_add_fetch(&r->lookups, n, __ATOMIC_RELAXED);
	return NULL;
}


static void test_mm_lookup_vs_teardown(void **state)
{
	struct run r = { 0 };
	struct targ ta[NCHANGE + NLOOK];
	pthread_t th[NCHANGE + NLOOK];
	struct siommu_ctx *ctx;
	/* The broken variant runs until caught (at most 10 s). */
	double t0, secs = test_stress_seconds(broken ? 10.0 : 3.0);
	struct siommu_mm_info info;

	(void)state;
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_mm_create(ctx, NULL, &r.mm), 0);
#if SIOMMU_TESTING_BUILD
	if (broken)
		pt_test_set_skip_grace(siommu_mm_pt(r.mm), true);
#endif
	assert_int_equal(siommu_mm_mmap(r.mm, 0, SLOTS * SLOT_SZ, SIOMMU_MM_PROT_READ,
					SIOMMU_MM_MAP_ANON, -1, 0, &r.base), 0);
	assert_int_equal(siommu_mm_munmap(r.mm, r.base, SLOTS * SLOT_SZ), 0);
	for (unsigned int sl = 0; sl < SLOTS; sl++) {
		uint64_t out;

		assert_int_equal(siommu_mm_mmap(r.mm, r.base + sl * SLOT_SZ, SLOT_SZ,
						SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE,
						slot_flags(sl), -1, 0, &out), 0);
	}
	t0 = test_now_s();
	for (unsigned int i = 0; i < NCHANGE + NLOOK; i++) {
		ta[i] = (struct targ){ .r = &r, .id = i < NCHANGE ? i : i - NCHANGE,
				       .seed = 0x2545f4914f6cdd1dull * (i + 3) };
		assert_int_equal(pthread_create(&th[i], NULL, i < NCHANGE ? changer : looker,
						&ta[i]), 0);
	}
	while (test_now_s() - t0 < secs && !__atomic_load_n(&r.bad, __ATOMIC_RELAXED))
		usleep(20000);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < NCHANGE + NLOOK; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(siommu_mm_get_info(r.mm, &info), 0);
	printf("# lookups %" PRIu64 ", slot remaps %" PRIu64 ", table pages at the end %" PRIu64
	       ", bad %" PRIu64 "\n", r.lookups, r.remaps, info.table_pages, r.bad);
	assert_int_equal(r.bad, 0);
	assert_true(r.lookups > 0 && r.remaps > 0);
	siommu_mm_destroy(r.mm);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mm_lookup_vs_teardown),
	};

	if (test_break_requested()) {
#if SIOMMU_TESTING_BUILD
		broken = true;
#else
		test_break_unsupported("pt_test_set_skip_grace() exists in testing builds only");
#endif
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
