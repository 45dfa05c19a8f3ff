// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stress: access rw racing unmap (seed 004; rw takes no IOAS lock).
 *
 * A driver thread unmaps and maps SLOTS areas of 2 pages, each map from a
 * fresh buffer of a pool, filled with the map's own byte (a generation,
 * never POISON); RW threads, each with an access, read page 0 of random
 * slots through siommu_ioas_access_rw() and write page 1.  As soon as an
 * unmap returns, the driver fills the old buffer with POISON; before it
 * maps a buffer again it checks that the buffer is still all POISON.
 *
 * Checks: a read that returns 0 got bytes that are all one generation and
 * never POISON (no copy from an area after its unmap returned, no copy
 * torn across a remap); no write landed in a buffer after its unmap
 * returned; rw fails only with -EBUSY or -ENOENT (cleanly).
 *
 * Broken variant (testing builds, SIOMMU_STRESS_BREAK=1 --break-rw-hold):
 * rw copies without holding its areas (no busy count, no block check), the
 * window widened by a yield between the lookup and the copy: the unmap
 * does not wait for it, so it copies POISON or writes into a poisoned
 * buffer ("VIOLATION: rw ..."), or reads the area's pages object after the
 * unmap freed it (ASan: heap-use-after-free), or races with the driver's
 * poisoning (TSan: data race), whichever comes first.
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
#include "base/debug.h"

#define PG	4096ull
#define SLOTS	8
#define SLOT_PG	2
#define NBUF	(2 * SLOTS)
#define RWERS	2
#define BASE	0x100000ull
#define POISON	0xee

static struct siommu_ioas *ioas;
static uint8_t *pool;			/* NBUF buffers of SLOT_PG pages */
static int slot_buf[SLOTS];		/* driver only: buffer mapped in the slot, -1 none */
static bool buf_used[NBUF];		/* driver only */
static int next_buf;			/* driver only: round robin, so a buffer stays poisoned a while */
static bool stop;
static bool break_rw __attribute__((unused));
static long violations, reads_ok, writes_ok, rw_busy, unmaps_ok;

static void violation(const char *what)
{
	__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "VIOLATION: %s\n", what);
}

static uint64_t slot_iova(unsigned int s)
{
	return BASE + (uint64_t)s * SLOT_PG * PG * 2;	/* holes between slots */
}

static uint8_t *buf_at(int b)
{
	return pool + (uint64_t)b * SLOT_PG * PG;
}

static void *rw_fn(void *arg)
{
	struct siommu_ioas_access *acc = arg;
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	uint8_t b[64];

#if SIOMMU_TESTING_BUILD
	/* Widen the window between holding (or finding) the areas and the copy. */
	siommu_test_yield(1ull << SIOMMU_YIELD_IOAS_HOLD);
	if (break_rw)
		ioas_test_set_break(IOAS_BREAK_RW_NO_HOLD);
#endif
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned int s = (unsigned int)rand_r(&seed) % SLOTS;
		unsigned int len = 1 + (unsigned int)rand_r(&seed) % sizeof(b);
		unsigned int off = (unsigned int)rand_r(&seed) % (PG - len);
		bool write = rand_r(&seed) % 4 == 0;
		uint64_t iova = slot_iova(s) + off + (write ? PG : 0);
		int ret;

		if (write)
			memset(b, 0x11, len);
		ret = siommu_ioas_access_rw(acc, iova, b, len, write ? SIOMMU_IOAS_ACCESS_WRITE : 0);
		if (ret == -EBUSY || ret == -ENOENT) {
			__atomic_fetch_add(&rw_busy, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (ret) {
			violation("rw failed uncleanly");
			continue;
		}
		if (write) {
			__atomic_fetch_add(&writes_ok, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_fetch_add(&reads_ok, 1, __ATOMIC_RELAXED);
		for (unsigned int i = 0; i < len; i++) {
			if (b[i] == POISON) {
				violation("rw read an area's memory after its unmap returned");
				break;
			}
			if (b[i] != b[0]) {
				violation("rw read bytes of two maps (torn across a remap)");
				break;
			}
		}
	}
#if SIOMMU_TESTING_BUILD
	ioas_test_set_break(IOAS_BREAK_NONE);
	siommu_test_yield(0);
#endif
	return NULL;
}

static void map_slot(unsigned int s, uint8_t gen)
{
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST };
	uint64_t iova = slot_iova(s);
	int b = -1, k, ret;

	for (k = 0; k < NBUF && b < 0; k++)
		if (!buf_used[(next_buf + k) % NBUF])
			b = (next_buf + k) % NBUF;
	if (b < 0) {
		violation("buffer pool exhausted");
		return;
	}
	next_buf = (b + 1) % NBUF;
	/* Still all POISON since its unmap returned: no late write landed. */
	for (uint64_t i = 0; i < SLOT_PG * PG; i++) {
		if (buf_at(b)[i] != POISON) {
			violation("rw wrote an area's memory after its unmap returned");
			break;
		}
	}
	memset(buf_at(b), gen, PG);		/* page 0: the generation */
	memset(buf_at(b) + PG, 0, PG);		/* page 1: written by the RW threads */
	m.host = buf_at(b);
	ret = siommu_ioas_map(ioas, &m, SLOT_PG * PG, SIOMMU_IOAS_MAP_READ |
			      SIOMMU_IOAS_MAP_WRITE | SIOMMU_IOAS_MAP_FIXED_IOVA, &iova);
	if (ret) {
		violation("map failed");
		memset(buf_at(b), POISON, SLOT_PG * PG);
		return;
	}
	buf_used[b] = true;
	slot_buf[s] = b;
}

static void test_stress_ioas_rw_vs_unmap(void **state)
{
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_ioas_layer *l;
	struct siommu_ioas_access *acc[RWERS];
	pthread_t th[RWERS];
	struct siommu_ioas_info info;
	double end = test_now_s() + test_stress_seconds(3);
	unsigned int seed = 7, i;
	uint8_t gen = 1;

	(void)state;
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_iommu_create(ctx, NULL, NULL, &iommu), 0);
	assert_int_equal(siommu_ioas_layer_create(ctx, iommu, &l), 0);
	assert_int_equal(siommu_ioas_create(l, &ioas), 0);
	pool = aligned_alloc(PG, NBUF * SLOT_PG * PG);
	assert_non_null(pool);
	memset(pool, POISON, NBUF * SLOT_PG * PG);
	for (i = 0; i < SLOTS; i++) {
		slot_buf[i] = -1;
		map_slot(i, gen++);
	}
	for (i = 0; i < RWERS; i++) {
		/* rw needs no callback: the accesses pin nothing */
		assert_int_equal(siommu_ioas_access_create(ioas, "rw", NULL, NULL, 0, &acc[i]), 0);
		assert_int_equal(pthread_create(&th[i], NULL, rw_fn, acc[i]), 0);
	}
	while (test_now_s() < end && !__atomic_load_n(&violations, __ATOMIC_RELAXED)) {
		unsigned int s = (unsigned int)rand_r(&seed) % SLOTS;
		int ret = siommu_ioas_unmap(ioas, slot_iova(s), SLOT_PG * PG, NULL);

		if (ret) {
			violation("unmap failed (nothing pins: it must succeed)");
			break;
		}
		unmaps_ok++;
		/* The unmap returned: nothing may touch the buffer any more. */
		memset(buf_at(slot_buf[s]), POISON, SLOT_PG * PG);
		buf_used[slot_buf[s]] = false;
		slot_buf[s] = -1;
		if (++gen == POISON || gen == 0)
			gen = 1;
		map_slot(s, gen);
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < RWERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(siommu_ioas_get_info(ioas, &info), 0);
	printf("# reads %ld, writes %ld, refused %ld, unmaps %ld\n", reads_ok, writes_ok,
	       rw_busy, unmaps_ok);
	assert_int_equal(violations, 0);
	assert_true(reads_ok > 0 && writes_ok > 0 && unmaps_ok > 0);
	for (i = 0; i < RWERS; i++)
		assert_int_equal(siommu_ioas_access_destroy(acc[i]), 0);
	assert_int_equal(siommu_ioas_destroy(ioas), 0);
	assert_int_equal(siommu_ioas_layer_destroy(l), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	free(pool);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_ioas_rw_vs_unmap),
	};

	(void)argc;
	(void)argv;
	if (test_break_requested()) {
#if SIOMMU_TESTING_BUILD
		break_rw = true;
#else
		test_break_unsupported("the ioas break hooks exist in -Dtesting=true builds only");
#endif
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
