// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stress: access pins and rw racing unmap (seed 004).
 *
 * A driver thread maps and unmaps SLOTS areas of 4 pages; PINNERS threads,
 * each with a cooperative access, pin random pages of random slots, check
 * the pinned page, rw through the IOAS, and unpin.  The callback (run by
 * the driver's unmap, with no IOAS lock held) takes the access's pin away
 * and unpins it; one time in four it also unmaps the slot itself (a driver
 * that tears down on notification), so the area the outer unmap saw is gone
 * when it looks again.
 *
 * Checks: a pin that returns 0 is of a mapped slot and its page holds the
 * slot's pattern (no pin of an unmapped or recycled area); when an unmap
 * returns 0 no pin of that slot is outstanding (slot counter 0: a pinner
 * counts a pin after it succeeded and before it publishes it for the
 * callback, and uncounts it before unpinning; an unmap cannot complete
 * while the pin exists, so the count is up before and down after); no pin leaks (pinned pages 0 at the end); pins that start
 * while the unmap blocks the range fail -EBUSY, cleanly.
 *
 * Broken variants (testing builds, SIOMMU_STRESS_BREAK=1 with):
 *  --break-locked: callbacks called with ioas->lock held: the callback's
 *     unpin takes the lock again: lockdep's order check aborts (the
 *     deadlock the rule prevents);
 *  --break-revalidate: the seed's first patch (notify per area, continue
 *     with the area pointer after retaking the lock): the callback's own
 *     unmap freed it: ASan/TSan report the use after free; or the unmap
 *     breaks off on a pin left and reports success: the slot check sees
 *     the pin outstanding.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

#include <softiommu/softiommu.h>
#include "ioas/ioas_internal.h"

#define PG	4096ull
#define SLOTS	8
#define SLOT_PG	4
#define PINNERS	2
#define BASE	0x100000ull

static struct siommu_ioas *ioas;
static uint8_t *mem;			/* SLOTS * SLOT_PG pages */
static long slot_pins[SLOTS];		/* atomic: pins counted by the pinners */
static bool stop;
static int break_mode __attribute__((unused));	/* enum ioas_test_break (testing builds) */
static long cb_calls;
static long violations, pins_ok, pins_busy, unmaps_ok, unmaps_busy, self_unmaps;

struct pinner {
	struct siommu_ioas_access *acc;
	uint64_t pinned;		/* atomic: iova of its pin, 0 none */
	unsigned int seed;
};

static uint64_t slot_iova(unsigned int s)
{
	return BASE + (uint64_t)s * SLOT_PG * PG * 4;	/* holes between slots */
}

static void violation(const char *what)
{
	__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "VIOLATION: %s\n", what);
}

/* Whoever takes the pin (pinner or callback) unpins it, exactly once. */
static void take_and_unpin(struct pinner *p)
{
	uint64_t iova = __atomic_exchange_n(&p->pinned, 0, __ATOMIC_ACQ_REL);

	if (!iova)
		return;
	__atomic_fetch_sub(&slot_pins[(iova - BASE) / (SLOT_PG * PG * 4)], 1, __ATOMIC_RELEASE);
	thread_assert_int_equal(siommu_ioas_access_unpin(p->acc, iova, PG), 0);
}

static void check_unmapped(unsigned int s)
{
	if (__atomic_load_n(&slot_pins[s], __ATOMIC_ACQUIRE))
		violation("unmap completed with a pin outstanding");
}

static void unmap_cb(void *opaque, uint64_t iova, uint64_t length)
{
	struct pinner *p = opaque;
	uint64_t mine = __atomic_load_n(&p->pinned, __ATOMIC_ACQUIRE);

	take_and_unpin(p);
	/* a driver that unmaps on notification: the outer unmap's area goes */
	if (mine && length == SLOT_PG * PG && __atomic_fetch_add(&cb_calls, 1, __ATOMIC_RELAXED) % 4 == 0) {
		unsigned int s = (unsigned int)((iova - BASE) / (SLOT_PG * PG * 4));

		if (siommu_ioas_unmap(ioas, iova, length, NULL) == 0) {
			__atomic_fetch_add(&self_unmaps, 1, __ATOMIC_RELAXED);
			check_unmapped(s);
		}
	}
}

static void *pinner_fn(void *arg)
{
	struct pinner *p = arg;
	uint8_t b[16];

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned int s = (unsigned int)rand_r(&p->seed) % SLOTS;
		unsigned int pg = (unsigned int)rand_r(&p->seed) % SLOT_PG;
		uint64_t iova = slot_iova(s) + pg * PG;
		void *page;
		int ret;

		take_and_unpin(p);	/* one pin at a time (kept across an rw) */
		ret = siommu_ioas_access_pin(p->acc, iova, PG, 0, &page);
		if (ret) {
			if (ret == -EBUSY)
				__atomic_fetch_add(&pins_busy, 1, __ATOMIC_RELAXED);
			else if (ret != -ENOENT)
				violation("pin failed uncleanly");
		} else {
			__atomic_fetch_add(&pins_ok, 1, __ATOMIC_RELAXED);
			if (((uint8_t *)page)[7] != (uint8_t)(s * SLOT_PG + pg + 1))
				violation("pinned page does not hold its area's data");
			/* counted before it is published, uncounted before unpin */
			__atomic_fetch_add(&slot_pins[s], 1, __ATOMIC_ACQ_REL);
			__atomic_store_n(&p->pinned, iova, __ATOMIC_RELEASE);
		}
		ret = siommu_ioas_access_rw(p->acc, iova + 5, b, sizeof(b), 0);
		if (ret && ret != -EBUSY && ret != -ENOENT)
			violation("rw failed uncleanly");
		if (rand_r(&p->seed) % 2)
			take_and_unpin(p);
	}
	take_and_unpin(p);
	return NULL;
}

static void map_slot(unsigned int s)
{
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST,
				     .host = mem + (uint64_t)s * SLOT_PG * PG };
	uint64_t iova = slot_iova(s);
	int ret = siommu_ioas_map(ioas, &m, SLOT_PG * PG,
				  SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_WRITE |
				  SIOMMU_IOAS_MAP_FIXED_IOVA, &iova);

	if (ret && ret != -EEXIST)
		violation("map failed");
}

static void test_stress_ioas_pin_vs_unmap(void **state)
{
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_ioas_layer *l;
	struct pinner pn[PINNERS];
	pthread_t th[PINNERS];
	struct siommu_ioas_info info;
	/*
	 * A broken variant runs until it is caught (a violation ends the loop,
	 * a sanitizer's report the program), for 40 s at most: on a loaded
	 * machine 3 s sometimes held no self-unmapping callback racing the
	 * outer unmap.
	 */
	double end = test_now_s() + test_stress_seconds(test_break_requested() ? 40 : 3);
	unsigned int seed = 1, i;

	(void)state;
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	/* refused unmaps are expected here: no warning per refusal */
	assert_int_equal(siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, NULL, NULL), 0);
	assert_int_equal(siommu_iommu_create(ctx, NULL, NULL, &iommu), 0);
	assert_int_equal(siommu_ioas_layer_create(ctx, iommu, &l), 0);
	assert_int_equal(siommu_ioas_create(l, &ioas), 0);
	mem = aligned_alloc(PG, SLOTS * SLOT_PG * PG);
	assert_non_null(mem);
	for (i = 0; i < SLOTS * SLOT_PG; i++)
		memset(mem + i * PG, (int)(i + 1), PG);
	for (i = 0; i < SLOTS; i++)
		map_slot(i);
	for (i = 0; i < PINNERS; i++) {
		pn[i] = (struct pinner){ .seed = 100 + i };
		assert_int_equal(siommu_ioas_access_create(ioas, "pinner", unmap_cb, &pn[i], 0,
							   &pn[i].acc), 0);
		assert_int_equal(pthread_create(&th[i], NULL, pinner_fn, &pn[i]), 0);
	}
#if SIOMMU_TESTING_BUILD
	ioas_test_set_break((enum ioas_test_break)break_mode);
#endif
	while (test_now_s() < end && !__atomic_load_n(&violations, __ATOMIC_RELAXED)) {
		unsigned int s = (unsigned int)rand_r(&seed) % SLOTS;
		int ret = siommu_ioas_unmap(ioas, slot_iova(s), SLOT_PG * PG, NULL);

		if (ret == 0) {
			unmaps_ok++;
			check_unmapped(s);
		} else if (ret == -EBUSY) {
			unmaps_busy++;
		} else if (ret != -ENOENT) {
			violation("unmap failed uncleanly");
		}
		map_slot(s);
	}
#if SIOMMU_TESTING_BUILD
	ioas_test_set_break(IOAS_BREAK_NONE);
#endif
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < PINNERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(siommu_ioas_get_info(ioas, &info), 0);
	printf("# pins %ld (busy %ld), unmaps %ld (busy %ld, by callbacks %ld), pinned left %llu\n",
	       pins_ok, pins_busy, unmaps_ok, unmaps_busy, self_unmaps,
	       (unsigned long long)info.pinned_pages);
	assert_int_equal(info.pinned_pages, 0);	/* no pin leaks */
	assert_int_equal(violations, 0);
	assert_true(unmaps_ok > 0 && pins_ok > 0);
	for (i = 0; i < PINNERS; i++)
		assert_int_equal(siommu_ioas_access_destroy(pn[i].acc), 0);
	assert_int_equal(siommu_ioas_destroy(ioas), 0);
	assert_int_equal(siommu_ioas_layer_destroy(l), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	free(mem);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_ioas_pin_vs_unmap),
	};

	if (test_break_requested()) {
#if SIOMMU_TESTING_BUILD
		if (argc > 1 && !strcmp(argv[1], "--break-locked"))
			break_mode = IOAS_BREAK_NOTIFY_LOCKED;
		else
			break_mode = IOAS_BREAK_NO_REVALIDATE;
#else
		(void)argc;
		(void)argv;
		test_break_unsupported("the ioas break hooks exist in -Dtesting=true builds only");
#endif
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
