// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * munmap / mprotect / madvise under allocation failure (siommu_test_fail_nth()):
 * the contract (include/softiommu/mm.h) is "-ENOMEM: nothing changed", and
 * a success must have done the whole change.
 *
 *  - a change whose range cuts a huge page splits it first; the pieces of
 *    those splits must be allocated before the invalidation begins: an
 *    -ENOMEM must leave no invalidation begun (no notifier start, no end,
 *    the sequence where it was), the huge page mapped whole, no split
 *    counted;
 *  - munmap and DONTNEED take the folios of the range out and free them
 *    after the grace period: room for that list must be taken before
 *    anything changes too, or a failure to grow it kept a folio behind
 *    the munmap's success (rss still counted, and a new mapping at the
 *    same address faulted in the old page, contents included).
 *
 * Each case makes the call with the N-th allocation failing, for N = 1,
 * 2, 3, ... (strided past 8), on the same mm (a failed call changed
 * nothing, so the next N starts from the same state), until it succeeds.
 * Only testing builds inject; elsewhere the cases skip.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "failnth.h"

#include <softiommu/softiommu.h>

#define PG	4096ull
#define SZ_2M	(2ull << 20)
#define SZ_1G	(1ull << 30)
#define RW	(SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE)
#define ANON	SIOMMU_MM_MAP_ANON

struct fx {
	struct siommu_ctx *ctx;
	struct siommu_mm *mm;
	struct siommu_mm_notifier *n;
	unsigned int starts, ends;
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void n_start(void *opaque, struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	(void)mm;
	(void)r;
	((struct fx *)opaque)->starts++;
}

static void n_end(void *opaque, struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	(void)mm;
	(void)r;
	((struct fx *)opaque)->ends++;
}

static const struct siommu_mm_notifier_ops n_ops = {
	.invalidate_start = n_start, .invalidate_end = n_end,
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(siommu_ctx_create(&f->ctx), 0);
	siommu_ctx_set_log(f->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_mm_create(f->ctx, NULL, &f->mm), 0);
	assert_int_equal(siommu_mm_notifier_register(f->mm, &n_ops, f, &f->n), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	siommu_test_fail_nth(0);
	assert_int_equal(siommu_mm_notifier_unregister(f->n), 0);
	siommu_mm_destroy(f->mm);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

/* What a failed call must leave as it was: the mm's info, its table, the notifier's calls. */
static void snap(struct fx *f, struct fn_buf *b)
{
	struct siommu_mm_info i;

	b->len = 0;
	assert_int_equal(siommu_mm_get_info(f->mm, &i), 0);
	fn_printf(b, "areas %llu 4k %llu 2m %llu 1g %llu rss %llu seq %llu inprog %llu "
		  "splits %llu notifier %u/%u\n",
		  (unsigned long long)i.nr_areas, (unsigned long long)i.mapped_4k,
		  (unsigned long long)i.mapped_2m, (unsigned long long)i.mapped_1g,
		  (unsigned long long)i.rss_bytes, (unsigned long long)i.invalidate_seq,
		  (unsigned long long)i.in_progress, (unsigned long long)i.splits,
		  f->starts, f->ends);
	assert_int_equal(siommu_pt_dump(siommu_mm_pt(f->mm), NULL, fn_buf_line, b), 0);
}

/*
 * The next N: 1 .. 9, then 2^k - 1, 2^k, 2^k + 1 for k = 4, 5, ... (split
 * pieces are allocated 512 at a time: both sides of each boundary).
 */
static unsigned long next_n(unsigned long n)
{
	if (n < 9 || !(n & (n - 1)) || !((n + 1) & n))
		return n + 1;		/* small, 2^k or 2^k - 1 */
	return 2 * (n - 1) - 1;		/* 2^k + 1 -> 2^(k+1) - 1 */
}

enum op { OP_UNMAP, OP_PROTECT, OP_DONTNEED, OP_NOHUGE };

static int do_op(struct fx *f, enum op op, uint64_t addr, uint64_t len)
{
	switch (op) {
	case OP_UNMAP:
		return siommu_mm_munmap(f->mm, addr, len);
	case OP_PROTECT:
		return siommu_mm_mprotect(f->mm, addr, len, SIOMMU_MM_PROT_READ);
	case OP_DONTNEED:
		return siommu_mm_madvise(f->mm, addr, len, SIOMMU_MM_MADV_DONTNEED);
	case OP_NOHUGE:
		return siommu_mm_madvise(f->mm, addr, len, SIOMMU_MM_MADV_NOHUGEPAGE);
	}
	return -1;
}

/*
 * @op on [addr, addr + len) with the N-th allocation failing, N = 1, 2, ...
 * until it succeeds: every failure is -ENOMEM and changed nothing.  Returns
 * the last N that failed.
 */
static unsigned long sweep(struct fx *f, enum op op, uint64_t addr, uint64_t len)
{
	struct fn_buf before = { 0 }, after = { 0 };
	unsigned long n, failed = 0;
	int ret;

	if (!siommu_testing_build())
		skip();

	for (n = 1;; n = next_n(n)) {
		snap(f, &before);
		siommu_test_fail_nth(n);
		ret = do_op(f, op, addr, len);
		siommu_test_fail_nth(0);
		if (ret == 0)
			break;
		assert_int_equal(ret, -ENOMEM);
		failed = n;
		snap(f, &after);
		if (strcmp(before.text, after.text)) {
			print_message("op %d N=%lu: -ENOMEM changed the mm\nbefore:\n%s\nafter:\n%s\n",
				      (int)op, n, before.text, after.text);
			fail();
		}
		assert_int_equal(f->starts, f->ends);
	}
	free(before.text);
	free(after.text);
	return failed;
}

/* A 2 MiB page and a 1 GiB page, both faulted in (written). */
static void map_huge(struct fx *f, uint64_t *a2m, uint64_t *a1g)
{
	uint64_t v = 0x5a5a;

	assert_int_equal(siommu_mm_mmap(f->mm, 0, 2 * SZ_2M, RW, ANON | SIOMMU_MM_PAGE_2M, -1, 0,
					a2m), 0);
	assert_int_equal(siommu_mm_write(f->mm, *a2m + 8, &v, 8), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, *a2m), 21);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, SZ_1G, RW, ANON | SIOMMU_MM_PAGE_1G, -1, 0,
					a1g), 0);
	assert_int_equal(siommu_mm_write(f->mm, *a1g + 8, &v, 8), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, *a1g), 30);
	f->starts = f->ends = 0;
}

static uint64_t rd(struct fx *f, uint64_t va)
{
	uint64_t v = 0;

	assert_int_equal(siommu_mm_read(f->mm, va, &v, 8), 0);
	return v;
}

/* munmap of one 4 KiB page inside a 2 MiB page, then inside a 1 GiB page (two splits). */
static void test_mm_munmap_split_enomem(void **state)
{
	struct fx *f = *state;
	uint64_t a, g;

	map_huge(f, &a, &g);
	assert_true(sweep(f, OP_UNMAP, a + 5 * PG, PG) >= 512);
	assert_int_equal(f->starts, 1);
	assert_int_equal(rd(f, a + 8), 0x5a5a);		/* the rest kept its memory */
	assert_int_equal(siommu_mm_fault(f->mm, a + 5 * PG, SIOMMU_ACC_READ), -EFAULT);
	assert_int_equal(siommu_mm_fault(f->mm, a + 6 * PG, SIOMMU_ACC_READ), 0);
	/* 1 GiB -> 2 MiB -> 4 KiB at the start; the end is 2 MiB-aligned */
	assert_true(sweep(f, OP_UNMAP, g + SZ_2M + PG, SZ_2M - PG) >= 1024);
	assert_int_equal(f->starts, 2);
	assert_int_equal(rd(f, g + 8), 0x5a5a);
	assert_int_equal(siommu_mm_fault(f->mm, g + SZ_2M + PG, SIOMMU_ACC_READ), -EFAULT);
	assert_int_equal(siommu_mm_fault(f->mm, g + 4 * SZ_2M, SIOMMU_ACC_READ), 0);
}

static void test_mm_mprotect_split_enomem(void **state)
{
	struct fx *f = *state;
	uint64_t a, g, v = 1;

	map_huge(f, &a, &g);
	assert_true(sweep(f, OP_PROTECT, g + 3 * PG, 2 * PG) >= 1024);
	assert_int_equal(f->starts, 1);
	assert_int_equal(siommu_mm_write(f->mm, g + 3 * PG, &v, 8), -EACCES);
	assert_int_equal(siommu_mm_write(f->mm, g + 5 * PG, &v, 8), 0);
	assert_int_equal(rd(f, g + 8), 0x5a5a);
}

static void test_mm_dontneed_split_enomem(void **state)
{
	struct fx *f = *state;
	uint64_t a, g;

	map_huge(f, &a, &g);
	assert_int_equal(siommu_mm_write(f->mm, a + PG, &a, 8), 0);
	assert_true(sweep(f, OP_DONTNEED, a + PG, PG) >= 512);
	assert_int_equal(rd(f, a + PG), 0);		/* discarded: zero again */
	assert_int_equal(rd(f, a + 8), 0x5a5a);
}

/* NOHUGEPAGE over 4 MiB inside the 1 GiB page: 1 + 2 splits of it (2 MiB pieces, then 4 KiB). */
static void test_mm_nohuge_split_enomem(void **state)
{
	struct fx *f = *state;
	struct siommu_mm_info i;
	uint64_t a, g;

	map_huge(f, &a, &g);
	assert_true(sweep(f, OP_NOHUGE, g + SZ_2M + PG, SZ_2M) > 1024);
	assert_int_equal(siommu_mm_get_info(f->mm, &i), 0);
	assert_int_equal(i.splits, 3);
	assert_int_equal(rd(f, g + 8), 0x5a5a);
	assert_int_equal(siommu_mm_fault(f->mm, g + SZ_2M + PG, SIOMMU_ACC_READ), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, g + SZ_2M + PG), 12);
	assert_int_equal(siommu_mm_fault(f->mm, g + 2 * SZ_2M + 8 * PG, SIOMMU_ACC_READ), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, g + 2 * SZ_2M + 8 * PG), 12);
	/* outside the range: the 2 MiB pieces of the first split stay whole */
	assert_int_equal(siommu_mm_fault(f->mm, g, SIOMMU_ACC_READ), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, g), 21);
	assert_int_equal(siommu_mm_fault(f->mm, g + 3 * SZ_2M, SIOMMU_ACC_READ), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, g + 3 * SZ_2M), 21);
}

/*
 * munmap and DONTNEED of faulted 4 KiB pages: the folio list could not
 * grow (the first allocation of the call), the error was dropped, and a
 * folio stayed in the mm after the call returned 0: rss kept it, and a
 * new mapping at the same address showed its old contents.
 */
static void test_mm_release_enomem_keeps_nothing(void **state)
{
	struct fx *f = *state;
	struct siommu_mm_info i;
	uint64_t a, b, v = 0x77;

	assert_int_equal(siommu_mm_mmap(f->mm, 0, 16 * PG, RW, ANON | SIOMMU_MM_PAGE_4K, -1, 0,
					&a), 0);
	for (unsigned int k = 0; k < 16; k++)
		assert_int_equal(siommu_mm_write(f->mm, a + k * PG, &v, 8), 0);
	f->starts = f->ends = 0;
	sweep(f, OP_DONTNEED, a, 8 * PG);
	assert_int_equal(siommu_mm_get_info(f->mm, &i), 0);
	assert_int_equal(i.rss_bytes, 8 * PG);
	for (unsigned int k = 0; k < 8; k++)
		assert_int_equal(rd(f, a + k * PG), 0);
	assert_int_equal(rd(f, a + 8 * PG), 0x77);
	assert_int_equal(siommu_mm_get_info(f->mm, &i), 0);
	assert_int_equal(i.rss_bytes, 16 * PG);

	sweep(f, OP_UNMAP, a, 16 * PG);
	assert_int_equal(siommu_mm_get_info(f->mm, &i), 0);
	assert_int_equal(i.rss_bytes, 0);
	assert_int_equal(i.nr_areas, 0);
	/* a new anonymous mapping at the same place reads zero */
	assert_int_equal(siommu_mm_mmap(f->mm, a, 16 * PG, RW,
					ANON | SIOMMU_MM_PAGE_4K | SIOMMU_MM_MAP_FIXED, -1, 0, &b), 0);
	assert_int_equal(b, a);
	for (unsigned int k = 0; k < 16; k++)
		assert_int_equal(rd(f, a + k * PG), 0);
}

/*
 * siommu_mm_destroy() returns nothing, so it must not be able to fail: its
 * invalidation of everything and its teardown of every folio, file mapping
 * and area must happen whatever allocation fails.  It used to run the
 * munmap path, which reserves the folio list (and the area and file lists)
 * first; with one of those allocations failing the destroy did nothing
 * and the folios, their blocks and the file mapping leaked.  (The release
 * callbacks' snapshot may fail: they are then called one by one.)
 *
 * An mm holding 4 KiB, 2 MiB and 1 GiB folios, a shared memfd area and a
 * notifier is destroyed with the N-th allocation failing, for every N the
 * destroy reaches: the notifier must see the one invalidation of
 * everything start and end, the context's destroy must succeed, and in
 * ASan builds a leak check follows each destroy.
 */
static void destroy_world(struct fx *g)
{
	uint64_t a, a2m, a1g, v = 0x1234;
	int mfd = memfd_create("mm-destroy", 0);

	memset(g, 0, sizeof(*g));
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 4 * PG), 0);
	assert_int_equal(siommu_ctx_create(&g->ctx), 0);
	siommu_ctx_set_log(g->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_mm_create(g->ctx, NULL, &g->mm), 0);
	assert_int_equal(siommu_mm_notifier_register(g->mm, &n_ops, g, &g->n), 0);
	assert_int_equal(siommu_mm_mmap(g->mm, 0, 8 * PG, RW, ANON | SIOMMU_MM_PAGE_4K, -1, 0, &a),
			 0);
	for (unsigned int k = 0; k < 8; k++)
		assert_int_equal(siommu_mm_write(g->mm, a + k * PG, &v, 8), 0);
	map_huge(g, &a2m, &a1g);
	assert_int_equal(siommu_mm_mmap(g->mm, 0, 4 * PG, RW, SIOMMU_MM_MAP_SHARED, mfd, 0, &a),
			 0);
	assert_int_equal(siommu_mm_write(g->mm, a + PG, &v, 8), 0);
	close(mfd);	/* the mm keeps its own mapping */
	g->starts = g->ends = 0;
}

static void test_mm_destroy_cannot_fail(void **state)
{
	unsigned long n, total;
	struct fx g;

	(void)state;
	if (!siommu_testing_build())
		skip();
	destroy_world(&g);
	siommu_test_fail_nth(0);	/* counts, fails nothing */
	siommu_mm_destroy(g.mm);
	total = (unsigned long)siommu_test_alloc_count();
	assert_int_equal(g.starts, 1);
	assert_int_equal(g.ends, 1);
	assert_int_equal(siommu_ctx_destroy(g.ctx), -EBUSY);	/* the notifier holds the mm */
	assert_int_equal(siommu_mm_notifier_unregister(g.n), 0);	/* frees it */
	assert_int_equal(siommu_ctx_destroy(g.ctx), 0);
	for (n = 1; n <= total; n++) {
		destroy_world(&g);
		siommu_test_fail_nth(n);
		siommu_mm_destroy(g.mm);
		siommu_test_fail_nth(0);
		if (g.starts != 1 || g.ends != 1)
			print_message("N=%lu: the teardown's invalidation did not run "
				      "(%u starts, %u ends)\n", n, g.starts, g.ends);
		assert_int_equal(g.starts, 1);
		assert_int_equal(g.ends, 1);
		assert_int_equal(siommu_mm_notifier_unregister(g.n), 0);
		assert_int_equal(siommu_ctx_destroy(g.ctx), 0);
#ifdef FN_LSAN
		assert_int_equal(__lsan_do_recoverable_leak_check(), 0);
#endif
	}
	print_message("# destroy: %lu allocations, each failed once\n", total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mm_munmap_split_enomem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_mprotect_split_enomem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_dontneed_split_enomem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_nohuge_split_enomem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_release_enomem_keeps_nothing, setup,
						teardown),
		cmocka_unit_test(test_mm_destroy_cannot_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
