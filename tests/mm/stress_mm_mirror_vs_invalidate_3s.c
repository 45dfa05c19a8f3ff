// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The mirror contract: after an invalidation of the mm returns (munmap,
 * madvise DONTNEED, mprotect, a huge-page split), no device access through
 * a mirror reaches the old page.
 *
 * One mm with SLOTS 2 MiB slots of anonymous THP memory (so the mm has 2 MiB
 * folios, and partial operations split them).  Two mirrors of it:
 *  - mirror A (x86-64 table), fault handler inline: device A's DMA faults
 *    are resolved inside the DMA's read-side section;
 *  - mirror B (Arm LPAE stage 1 table), no handler: device B's DMA faults
 *    (-ENOENT) are resolved by the device thread calling
 *    siommu_mirror_fault() outside any section, as a page-request worker
 *    would, then the DMA is retried.
 * Changer threads own disjoint slots and, at random, munmap+mmap a part,
 * discard a part (both retire the pages' contents), mprotect a part
 * read-only and back (a device write must fail in between), split a huge
 * page (contents must survive), and rewrite retired pages with a new
 * generation tag through CPU writes (siommu_mm_write()).
 *
 * Every page's first word is a tag: generation << 20 | slot << 9 | page.
 * When an operation that retires a page returns, the changer publishes
 * retired[page] = the generation it had.  A device read that loaded
 * retired[page] = r before its DMA must see 0 (not rewritten yet), or a tag
 * of this page with a generation above r: an older generation, another
 * page's tag or the poison freed memory is filled with (0x6b...) is a
 * VIOLATION.  Under ASan a stale access is also a use after free (freed
 * blocks) or after poison (freed parts of split blocks).
 *
 * A third device, C, is bound with PASID 1 to the mm itself (SVA: its
 * domain walks the mm's own table; faults resolved inline) and checked the
 * same way: an munmap during its DMA behaves as a strict unmap.
 *
 * Broken variants (SIOMMU_STRESS_BREAK=1, testing builds): the mirrors map
 * without the retry check (the seed's lookup_address_in_pgd() shape), with
 * a yield between the lookup and the mirror lock.  --break-sva: the SVA
 * binding's IOTLB entries are not invalidated (device C keeps reading
 * freed pages through stale entries).  --break-reversed: the mm drops
 * in_progress before it bumps the sequence.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "test_common.h"

#include <softiommu/core.h>
#include <softiommu/mm.h>
#include "siommu_config.h"
#include "base/debug.h"

#define PG		4096ull
#define SLOT_SZ		(2ull << 20)
#define SLOTS		8
#define PAGES		(SLOT_SZ / PG)
#define NCHANGE		2
#define NDEV		3
#define POISON		0x6b6b6b6b6b6b6b6bull
#define RW		(SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE)

static unsigned int mm_brk;	/* SIOMMU_MM_BREAK_* for the broken variant */

struct run {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev[3];	/* [2]: the SVA device */
	struct siommu_mm *mm;
	struct siommu_mirror *mir[2];
	struct siommu_sva *sva;
	uint64_t base;
	uint64_t retired[SLOTS][PAGES];	/* atomic: generation retired */
	uint64_t gen[SLOTS][PAGES];	/* owner changer only: current generation */
	/*
	 * The CPU's tag writes and the devices' reads of a slot exclude each
	 * other (a device reading a word the CPU is writing is a race of the
	 * test, not of the library); the mm operations do not take it: they
	 * are what races the devices.
	 */
	pthread_rwlock_t tag_lock[SLOTS];
	int stop;
	uint64_t violations, reads_ok, reads_zero, eagain, faults, ro_write_ok;
	uint64_t ops[5];
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

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static uint64_t va_of(struct run *r, unsigned int slot, unsigned int page)
{
	return r->base + slot * SLOT_SZ + page * PG;
}

static uint64_t tag_of(uint64_t gen, unsigned int slot, unsigned int page)
{
	return gen << 20 | (uint64_t)slot << 9 | page;
}

/* Write a fresh generation into pages [p0, p1) of @slot. */
static void rewrite(struct run *r, unsigned int slot, unsigned int p0, unsigned int p1)
{
	pthread_rwlock_wrlock(&r->tag_lock[slot]);
	for (unsigned int p = p0; p < p1; p++) {
		uint64_t t = tag_of(++r->gen[slot][p], slot, p);

		thread_assert_int_equal(siommu_mm_write(r->mm, va_of(r, slot, p), &t, 8), 0);
	}
	pthread_rwlock_unlock(&r->tag_lock[slot]);
}

static void retire(struct run *r, unsigned int slot, unsigned int p0, unsigned int p1)
{
	for (unsigned int p = p0; p < p1; p++)
		__atomic_store_n(&r->retired[slot][p], r->gen[slot][p], __ATOMIC_RELEASE);
}

static void *changer(void *arg)
{
	struct targ *t = arg;
	struct run *r = t->r;
	uint64_t s = t->seed;

	siommu_mm_test_set_break(mm_brk & (SIOMMU_MM_BREAK_REVERSED |
					   SIOMMU_MM_BREAK_NO_SVA_INVAL));
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		unsigned int slot = t->id + NCHANGE * (unsigned int)(rnd(&s) % (SLOTS / NCHANGE));
		unsigned int p0 = (unsigned int)(rnd(&s) % PAGES);
		unsigned int n = 1 + (unsigned int)(rnd(&s) % (rnd(&s) % 4 ? 8 : PAGES));
		unsigned int op = (unsigned int)(rnd(&s) % 5);
		uint64_t out, v, va;
		uint8_t b;
		int ret;

		if (p0 + n > PAGES)
			n = PAGES - p0;
		if (op == 0 && rnd(&s) % 4 == 0) {
			p0 = 0;
			n = PAGES;	/* the whole slot: it comes back as a 2 MiB folio */
		}
		va = va_of(r, slot, p0);
		switch (op) {
		case 0:	/* munmap + mmap again */
			ret = siommu_mm_munmap(r->mm, va, n * PG);
			thread_assert_int_equal(ret, 0);
			retire(r, slot, p0, p0 + n);
			ret = siommu_mm_mmap(r->mm, va, n * PG, RW,
					     SIOMMU_MM_MAP_ANON | SIOMMU_MM_MAP_FIXED, -1, 0, &out);
			thread_assert_int_equal(ret, 0);
			rewrite(r, slot, p0, p0 + n);
			break;
		case 1:	/* discard */
			ret = siommu_mm_madvise(r->mm, va, n * PG, SIOMMU_MM_MADV_DONTNEED);
			thread_assert_int_equal(ret, 0);
			retire(r, slot, p0, p0 + n);
			/* Anonymous memory reads zero again. */
			thread_assert_int_equal(siommu_mm_read(r->mm, va, &v, 8), 0);
			thread_assert_true(v == 0);
			rewrite(r, slot, p0, p0 + n);
			break;
		case 2:	/* mprotect read-only: a device write must fail; then back */
			ret = siommu_mm_mprotect(r->mm, va, n * PG, SIOMMU_MM_PROT_READ);
			thread_assert_int_equal(ret, 0);
			b = 1;
			if (siommu_dma_write(r->dev[rnd(&s) & 1], SIOMMU_NO_PASID, va + 64, &b,
					     1) == 0) {
				__atomic_add_fetch(&r->ro_write_ok, 1, __ATOMIC_RELAXED);
				fprintf(stderr, "VIOLATION: device wrote a read-only page\n");
			}
			ret = siommu_mm_mprotect(r->mm, va, n * PG, RW);
			thread_assert_int_equal(ret, 0);
			break;
		case 3:	/* split the huge page, if any: contents stay */
			thread_assert_true(siommu_mm_split(r->mm, va) >= 0);
			thread_assert_int_equal(siommu_mm_read(r->mm, va, &v, 8), 0);
			thread_assert_true(v == tag_of(r->gen[slot][p0], slot, p0));
			break;
		default: /* CPU reads agree with the tags */
			thread_assert_int_equal(siommu_mm_read(r->mm, va, &v, 8), 0);
			thread_assert_true(v == tag_of(r->gen[slot][p0], slot, p0));
			break;
		}
		__atomic_add_fetch(&r->ops[op], 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *device(void *arg)
{
	struct targ *t = arg;
	struct run *r = t->r;
	struct siommu_device *dev = r->dev[t->id];
	uint64_t s = t->seed;

	siommu_mm_test_set_break(mm_brk & SIOMMU_MM_BREAK_NO_RETRY);
	if (mm_brk)
		siommu_test_yield(1ull << SIOMMU_YIELD_MM_MIRROR);
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		unsigned int slot = (unsigned int)(rnd(&s) % SLOTS);
		unsigned int page = (unsigned int)(rnd(&s) % PAGES);
		uint64_t va = va_of(r, slot, page), v = 0, gen, ret_gen;
		int ret;

		ret_gen = __atomic_load_n(&r->retired[slot][page], __ATOMIC_ACQUIRE);
		pthread_rwlock_rdlock(&r->tag_lock[slot]);
		ret = siommu_dma_read(dev, t->id == 2 ? 1 : SIOMMU_NO_PASID, va, &v, 8);
		pthread_rwlock_unlock(&r->tag_lock[slot]);
		if (ret == -ENOENT && t->id == 1) {
			/* No handler on mirror B: the page-request worker's job. */
			ret = siommu_mirror_fault(r->mir[1], va, SIOMMU_ACC_READ);
			if (!ret)
				continue;
		}
		if (ret == -EAGAIN) {
			__atomic_add_fetch(&r->eagain, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (ret) {
			__atomic_add_fetch(&r->faults, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (v == 0) {
			__atomic_add_fetch(&r->reads_zero, 1, __ATOMIC_RELAXED);
			continue;
		}
		gen = v >> 20;
		if (v == POISON || (v & 0xfffff) != ((uint64_t)slot << 9 | page) ||
		    gen <= ret_gen) {
			if (__atomic_add_fetch(&r->violations, 1, __ATOMIC_RELAXED) < 5)
				fprintf(stderr, "VIOLATION: device %u read %#" PRIx64 " at slot %u "
					"page %u after generation %" PRIu64 " was retired\n",
					t->id, v, slot, page, ret_gen);
			continue;
		}
		__atomic_add_fetch(&r->reads_ok, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_mm_mirror_contract(void **state)
{
	struct siommu_mirror_cfg ca = { .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_mirror_cfg cb = { .fmt = SIOMMU_PT_FMT_ARM_LPAE_S1,
					.flags = SIOMMU_MIRROR_NO_HANDLER };
	struct siommu_iommu_caps caps = { .pasid_bits = 4 };
	struct siommu_mirror_stats st[2];
	struct targ ta[NCHANGE + NDEV];
	void *args[NCHANGE + NDEV];
	struct siommu_mm_info info;
	struct run *r = calloc(1, sizeof(*r));
	/* The broken variant runs until caught (at most 10 s: TSan is slow). */
	double secs = test_stress_seconds(mm_brk ? 10.0 : 3.0);
	uint64_t out;

	(void)state;
	assert_non_null(r);
	for (int i = 0; i < SLOTS; i++) {
		pthread_rwlockattr_t ra;

		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&r->tag_lock[i], &ra);
	}
	assert_int_equal(siommu_ctx_create(&r->ctx), 0);
	siommu_ctx_set_log(r->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_iommu_create(r->ctx, &caps, NULL, &r->iommu), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(siommu_device_create(r->iommu, SIOMMU_RID(0, 1, i, 0),
						      SIOMMU_DEV_PRI | (i == 2 ? SIOMMU_DEV_PASID : 0),
						      i == 2 ? 4 : 0, &r->dev[i]), 0);
	assert_int_equal(siommu_mm_create(r->ctx, NULL, &r->mm), 0);
	assert_int_equal(siommu_mm_mmap(r->mm, 0, SLOTS * SLOT_SZ,
					SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE,
					SIOMMU_MM_MAP_ANON, -1, 0, &r->base), 0);
	assert_int_equal(r->base & (SLOT_SZ - 1), 0);
	assert_int_equal(siommu_mirror_create(r->mm, r->iommu, &ca, &r->mir[0]), 0);
	assert_int_equal(siommu_mirror_create(r->mm, r->iommu, &cb, &r->mir[1]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(siommu_device_attach(r->dev[i],
						      siommu_mirror_domain(r->mir[i])), 0);
	assert_int_equal(siommu_sva_bind(r->mm, r->iommu, r->dev[2], 1, 0, &r->sva), 0);
	for (unsigned int sl = 0; sl < SLOTS; sl++)
		rewrite(r, sl, 0, PAGES);

	for (unsigned int i = 0; i < NCHANGE + NDEV; i++) {
		ta[i] = (struct targ){ .r = r, .id = i < NCHANGE ? i : i - NCHANGE,
				       .seed = 0x9e3779b97f4a7c15ull * (i + 1) };
		args[i] = &ta[i];
	}
	{
		pthread_t th[NCHANGE + NDEV];
		double t0 = test_now_s();

		for (unsigned int i = 0; i < NCHANGE + NDEV; i++)
			assert_int_equal(pthread_create(&th[i], NULL,
							i < NCHANGE ? changer : device,
							args[i]), 0);
		while (test_now_s() - t0 < secs &&
		       !__atomic_load_n(&r->violations, __ATOMIC_RELAXED) &&
		       !__atomic_load_n(&r->ro_write_ok, __ATOMIC_RELAXED))
			usleep(20000);
		__atomic_store_n(&r->stop, 1, __ATOMIC_RELAXED);
		for (unsigned int i = 0; i < NCHANGE + NDEV; i++)
			pthread_join(th[i], NULL);
	}
	siommu_mirror_get_stats(r->mir[0], &st[0]);
	siommu_mirror_get_stats(r->mir[1], &st[1]);
	siommu_mm_get_info(r->mm, &info);
	printf("# ops munmap %" PRIu64 " discard %" PRIu64 " mprotect %" PRIu64
	       " split %" PRIu64 " read %" PRIu64 "; device reads ok %" PRIu64 " zero %"
	       PRIu64 " eagain %" PRIu64 " faults %" PRIu64 "; mirror A 4k/2m %" PRIu64
	       "/%" PRIu64 " retries %" PRIu64 "; mirror B 4k/2m %" PRIu64 "/%" PRIu64
	       " retries %" PRIu64 "; mm invalidations %" PRIu64 " splits %" PRIu64
	       "; violations %" PRIu64 "\n",
	       r->ops[0], r->ops[1], r->ops[2], r->ops[3], r->ops[4], r->reads_ok,
	       r->reads_zero, r->eagain, r->faults, st[0].maps_4k, st[0].maps_2m,
	       st[0].retries, st[1].maps_4k, st[1].maps_2m, st[1].retries,
	       info.invalidations, info.splits, r->violations);
	assert_int_equal(r->violations, 0);
	assert_int_equal(r->ro_write_ok, 0);
	assert_true(r->reads_ok > 0);
	assert_true(info.in_progress == 0);

	for (int i = 0; i < 2; i++) {
		assert_int_equal(siommu_mirror_destroy(r->mir[i]), -EBUSY);
		assert_int_equal(siommu_device_detach(r->dev[i]), 0);
		assert_int_equal(siommu_mirror_destroy(r->mir[i]), 0);
		assert_int_equal(siommu_device_destroy(r->dev[i]), 0);
	}
	(void)out;
	assert_int_equal(siommu_sva_unbind(r->sva), 0);
	assert_int_equal(siommu_device_destroy(r->dev[2]), 0);
	siommu_mm_destroy(r->mm);
	assert_int_equal(siommu_iommu_destroy(r->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(r->ctx), 0);
	free(r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mm_mirror_contract),
	};

	if (test_break_requested()) {
		if (siommu_mm_test_set_break(0) == -EOPNOTSUPP)
			test_break_unsupported("the mm break hooks exist in testing builds only");
		mm_brk = SIOMMU_MM_BREAK_NO_RETRY;
		if (argc > 1 && !strcmp(argv[1], "--break-reversed"))
			mm_brk = SIOMMU_MM_BREAK_REVERSED;
		if (argc > 1 && !strcmp(argv[1], "--break-sva"))
			mm_brk = SIOMMU_MM_BREAK_NO_SVA_INVAL;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
