// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The contracts of the pgtable API: argument checks, page-size choice,
 * -EEXIST with nothing changed, unmap counts and refusal to split, table
 * reclamation in the seed-000 order, level lookup and the invalidation
 * sequence (seed 001), dirty tracking, accounting, the debugfs-layout dump,
 * destroy, threads the library has never seen, and failed allocations.
 */
#include <unistd.h>

#include "base/rcu.h"
#include "pt_test.h"
#include "grace_probe.h"

#define RW (SIOMMU_PT_READ | SIOMMU_PT_WRITE)
#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

static int setup(void **state)
{
	struct pt_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(siommu_ctx_create(&f->ctx), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct pt_fixture *f = *state;

	assert_int_equal(siommu_pt_destroy(f->pt), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static uint64_t pages(struct siommu_pt *pt)
{
	struct siommu_pt_info info;

	assert_int_equal(siommu_pt_get_info(pt, &info), 0);
	return info.table_pages;
}

static void assert_unmapped(struct siommu_pt *pt, uint64_t iova)
{
	uint64_t pa;

	assert_int_equal(siommu_pt_iova_to_phys(pt, iova, &pa), -ENOENT);
}

static void assert_maps(struct siommu_pt *pt, uint64_t iova, uint64_t want)
{
	uint64_t pa = 0;

	assert_int_equal(siommu_pt_iova_to_phys(pt, iova, &pa), 0);
	assert_int_equal(pa, want);
}

/* ---- create ---- */

static void test_pgtable_create_rejects_bad_config(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_cfg cfg = { .fmt = SIOMMU_PT_FMT_VTD_SS };
	struct siommu_pt *pt = NULL;

	assert_int_equal(siommu_pt_create(NULL, &cfg, &pt), -EINVAL);
	cfg.fmt = 99;
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	cfg.fmt = SIOMMU_PT_FMT_VTD_SS;
	cfg.levels = 2;
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	cfg.levels = 6;
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	cfg.levels = 0;
	cfg.flags = 0x80;
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	cfg.flags = 0;
	cfg.pgsize_bitmap = SIOMMU_PT_SZ_2M;	/* 4 KiB is required */
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	cfg.pgsize_bitmap = 0;
	cfg.table_phys_base = 0x1234;
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	cfg.table_phys_base = 1ull << 52;	/* beyond the output width */
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -ERANGE);
	cfg.table_phys_base = 0;
	cfg.oas_lg2 = 53;
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	cfg.fmt = SIOMMU_PT_FMT_ARM_LPAE_S1;
	cfg.oas_lg2 = 0;
	cfg.levels = 3;				/* 48-bit Arm: 4 levels only */
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	cfg.fmt = SIOMMU_PT_FMT_X86_64;
	cfg.flags = SIOMMU_PT_F_EXEC;		/* a VT-d SS flag */
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	assert_null(pt);
}

static void test_pgtable_create_defaults_and_names(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_cfg cfg = { .fmt = SIOMMU_PT_FMT_VTD_SS };
	struct siommu_pt_info info;
	enum siommu_pt_fmt fmt;

	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &f->pt), 0);
	assert_int_equal(siommu_pt_get_info(f->pt, &info), 0);
	assert_int_equal(info.levels, 3);
	assert_int_equal(info.ias_lg2, 39);
	assert_int_equal(info.oas_lg2, 52);
	assert_int_equal(info.table_pages, 1);
	assert_int_equal(info.table_bytes, 4096);
	assert_string_equal(siommu_pt_fmt_name(SIOMMU_PT_FMT_ARM_LPAE_S1), "arm-lpae-s1");
	assert_int_equal(siommu_pt_fmt_parse("x86-64", &fmt), 0);
	assert_int_equal(fmt, SIOMMU_PT_FMT_X86_64);
	assert_int_equal(siommu_pt_fmt_parse("vtd", &fmt), -EINVAL);
	/* Host addresses as physical addresses: the root is where it lives. */
	assert_true(info.root_phys != 0 && !(info.root_phys & 0xfff));
}

/* ---- map ---- */

static void test_pgtable_map_rejects_bad_arguments(void **state)
{
	struct pt_fixture *f = *state;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	assert_int_equal(siommu_pt_map(NULL, 0, 0, SZ_4K, RW), -EINVAL);
	assert_int_equal(siommu_pt_map(f->pt, 0x800, 0, SZ_4K, RW), -EINVAL);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0x800, SZ_4K, RW), -EINVAL);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, 0x800, RW), -EINVAL);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, 0, RW), -EINVAL);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, SZ_4K, 0), -EINVAL);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, SZ_4K, SIOMMU_PT_CACHE), -EINVAL);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, SZ_4K, 0x40 | RW), -EINVAL);
	assert_int_equal(siommu_pt_map(f->pt, (1ull << 39) - SZ_4K, 0, 2 * SZ_4K, RW),
			 -ERANGE);
	assert_int_equal(siommu_pt_map(f->pt, 0, (1ull << 52) - SZ_4K, 2 * SZ_4K, RW),
			 -ERANGE);
	assert_int_equal(siommu_pt_map(f->pt, UINT64_MAX - 0xfff, 0, 2 * SZ_4K, RW),
			 -ERANGE);
	assert_int_equal(pages(f->pt), 1);
	assert_int_equal(siommu_pt_map(f->pt, (1ull << 39) - SZ_4K, 0, SZ_4K, RW), 0);
}

static void test_pgtable_map_uses_largest_pages(void **state)
{
	struct pt_fixture *f = *state;
	uint64_t iova = SZ_2M - SZ_4K, off = 0x1000000000ull;
	uint64_t size = SZ_4K + 511 * SZ_2M + SZ_1G + SZ_4K;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 4, 0);
	assert_int_equal(siommu_pt_map(f->pt, iova, iova + off, size, RW), 0);
	assert_int_equal(siommu_pt_lookup_level(f->pt, iova), 12);
	assert_int_equal(siommu_pt_lookup_level(f->pt, SZ_2M), 21);
	assert_int_equal(siommu_pt_lookup_level(f->pt, SZ_1G - SZ_2M), 21);
	assert_int_equal(siommu_pt_lookup_level(f->pt, SZ_1G + 12345), 30);
	assert_int_equal(siommu_pt_lookup_level(f->pt, 2 * SZ_1G), 12);
	assert_int_equal(siommu_pt_lookup_level(f->pt, 2 * SZ_1G + SZ_4K), 0);
	assert_maps(f->pt, SZ_1G + 0x12345, SZ_1G + 0x12345 + off);
	assert_maps(f->pt, 5 * SZ_2M + 7, 5 * SZ_2M + 7 + off);
	/* root + level-2 table + two level-1 tables + two leaf tables */
	assert_int_equal(pages(f->pt), 6);
}

static void test_pgtable_map_respects_alignment_and_page_sizes(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_cfg cfg = {
		.fmt = SIOMMU_PT_FMT_X86_64,
		.pgsize_bitmap = SIOMMU_PT_SZ_4K | SIOMMU_PT_SZ_2M,
	};
	struct siommu_pt *pt4k;

	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &f->pt), 0);
	/* pa misaligned to 2 MiB relative to iova: 4 KiB pages only. */
	assert_int_equal(siommu_pt_map(f->pt, 0, SZ_4K, 2 * SZ_2M, RW), 0);
	assert_int_equal(siommu_pt_lookup_level(f->pt, SZ_2M), 12);
	/* 1 GiB not allowed: 2 MiB pages. */
	assert_int_equal(siommu_pt_map(f->pt, SZ_1G, SZ_1G, SZ_1G, RW), 0);
	assert_int_equal(siommu_pt_lookup_level(f->pt, SZ_1G), 21);

	cfg.pgsize_bitmap = SIOMMU_PT_SZ_4K;
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt4k), 0);
	assert_int_equal(siommu_pt_map(pt4k, SZ_1G, SZ_1G, SZ_1G, RW), 0);
	assert_int_equal(siommu_pt_lookup_level(pt4k, SZ_1G + SZ_2M), 12);
	assert_int_equal(siommu_pt_destroy(pt4k), 0);
}

static void test_pgtable_map_over_mapping_is_eexist_and_changes_nothing(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_walk before, after;
	uint64_t n;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	assert_int_equal(siommu_pt_map(f->pt, 5 * SZ_2M, 0x40000000, SZ_2M, RW), 0);
	assert_int_equal(siommu_pt_map(f->pt, 0x10000, 0x10000, SZ_4K, RW), 0);
	n = pages(f->pt);
	assert_int_equal(siommu_pt_walk(f->pt, 5 * SZ_2M, &before), 0);
	/* Partial overlaps, at either end, inside a larger page, and exact. */
	assert_int_equal(siommu_pt_map(f->pt, 4 * SZ_2M, 0, 2 * SZ_2M, RW), -EEXIST);
	assert_int_equal(siommu_pt_map(f->pt, 6 * SZ_2M - SZ_4K, 0, 2 * SZ_4K, RW), -EEXIST);
	assert_int_equal(siommu_pt_map(f->pt, 5 * SZ_2M + SZ_4K, 0, SZ_4K, RW), -EEXIST);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, SZ_1G, RW), -EEXIST);
	assert_int_equal(siommu_pt_map(f->pt, 0x10000, 0x10000, SZ_4K, RW), -EEXIST);
	/* A far range that would need new tables: none were allocated. */
	assert_int_equal(siommu_pt_map(f->pt, SZ_1G - SZ_4K, 0, SZ_4K + 6 * SZ_2M, RW),
			 0);
	assert_int_equal(pt_test_unmap(f->pt, SZ_1G - SZ_4K, SZ_4K + 6 * SZ_2M),
			 SZ_4K + 6 * SZ_2M);
	assert_int_equal(siommu_pt_map(f->pt, 2 * SZ_1G, 0, SZ_1G + SZ_2M, RW), 0);
	assert_int_equal(pt_test_unmap(f->pt, 2 * SZ_1G, SZ_1G + SZ_2M), SZ_1G + SZ_2M);
	assert_int_equal(siommu_pt_map(f->pt, 3 * SZ_1G, 0, 4 * SZ_2M, RW), 0);
	/* Would need two new tables below 3 GiB before failing at 3 GiB. */
	n = pages(f->pt);
	assert_int_equal(siommu_pt_map(f->pt, 3 * SZ_1G - SZ_4K, 0, 2 * SZ_4K, RW), -EEXIST);
	assert_unmapped(f->pt, 3 * SZ_1G - SZ_4K);
	assert_int_equal(pages(f->pt), n);
	assert_int_equal(pt_test_unmap(f->pt, 3 * SZ_1G, 4 * SZ_2M), 4 * SZ_2M);
	assert_int_equal(siommu_pt_walk(f->pt, 5 * SZ_2M, &after), 0);
	assert_memory_equal(&before, &after, sizeof(before));
}

static void test_pgtable_map_large_page_over_empty_table_uses_small_pages(void **state)
{
	struct pt_fixture *f = *state;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_X86_64, 4, 0);
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M, 0, SZ_4K, RW), 0);
	assert_int_equal(pt_test_unmap(f->pt, SZ_2M, SZ_4K), SZ_4K);
	/* The empty leaf table stays; a 2 MiB map there uses 4 KiB pages. */
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M, 4 * SZ_2M, SZ_2M, RW), 0);
	assert_int_equal(siommu_pt_lookup_level(f->pt, SZ_2M), 12);
	assert_maps(f->pt, 2 * SZ_2M - 1, 5 * SZ_2M - 1);
	/* After an unmap covering the span, 2 MiB pages again. */
	assert_int_equal(pt_test_unmap(f->pt, SZ_2M, SZ_2M), SZ_2M);
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M, 4 * SZ_2M, SZ_2M, RW), 0);
	assert_int_equal(siommu_pt_lookup_level(f->pt, SZ_2M), 21);
}

static void test_pgtable_map_pool_exhaustion_is_enomem_with_nothing_mapped(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_cfg cfg = {
		.fmt = SIOMMU_PT_FMT_VTD_SS, .levels = 3, .max_table_pages = 3,
	};

	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &f->pt), 0);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, SZ_4K, RW), 0);	/* 3 pages */
	/* Needs a second leaf table: none left.  The first page is not mapped. */
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M - SZ_4K, 0, 2 * SZ_4K, RW), -ENOMEM);
	assert_unmapped(f->pt, SZ_2M - SZ_4K);
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M - SZ_4K, 0, SZ_4K, RW), 0);
}

/* ---- unmap ---- */

static void test_pgtable_unmap_counts_bytes_and_skips_holes(void **state)
{
	struct pt_fixture *f = *state;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_ARM_LPAE_S1, 4, 0);
	assert_int_equal(siommu_pt_map(f->pt, 0x1000, 0x1000, 3 * SZ_4K, RW), 0);
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M, SZ_2M, SZ_2M, RW), 0);
	assert_int_equal(siommu_pt_map(f->pt, SZ_1G, SZ_1G, SZ_1G, RW), 0);
	assert_int_equal(pt_test_unmap(f->pt, 0x100000, SZ_4K), 0);	/* a hole */
	assert_int_equal(pt_test_unmap(f->pt, 0, 2 * SZ_1G), 3 * SZ_4K + SZ_2M + SZ_1G);
	assert_unmapped(f->pt, 0x1000);
	assert_unmapped(f->pt, SZ_1G);
	assert_int_equal(pt_test_unmap(f->pt, 0, 2 * SZ_1G), 0);
	assert_int_equal(pt_test_unmap(f->pt, 0, 0x800), -EINVAL);
	assert_int_equal(pt_test_unmap(f->pt, 1ull << 48, SZ_4K), -ERANGE);
}

static void test_pgtable_unmap_refuses_to_split_a_large_page(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_gather g;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, SZ_4K, RW), 0);
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M, SZ_2M, SZ_2M, RW), 0);
	siommu_pt_gather_init(&g);
	/* The range ends inside the 2 MiB page: nothing changes, not even the 4K. */
	assert_int_equal(siommu_pt_unmap(f->pt, 0, SZ_2M + SZ_4K, &g), -EINVAL);
	/* The range starts inside it. */
	assert_int_equal(siommu_pt_unmap(f->pt, SZ_2M + SZ_4K, SZ_2M, &g), -EINVAL);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
	assert_maps(f->pt, 0, 0);
	assert_maps(f->pt, SZ_2M + SZ_4K, SZ_2M + SZ_4K);
	assert_int_equal(pt_test_unmap(f->pt, SZ_2M, SZ_2M), SZ_2M);
}

/* ---- reclamation ---- */

struct order_probe {
	struct siommu_pt *pt;
	unsigned int calls;
	uint64_t pages_in_callback;
	uint64_t iova, last;
	unsigned int flags;
};

static void order_inval(void *opaque, uint64_t iova, uint64_t last, unsigned int flags)
{
	struct order_probe *p = opaque;

	p->calls++;
	p->iova = iova;
	p->last = last;
	p->flags = flags;
	p->pages_in_callback = pages(p->pt);	/* nothing freed yet */
}

static void test_pgtable_reclaim_order_clear_inval_then_free(void **state)
{
	struct pt_fixture *f = *state;
	struct order_probe p = { 0 };
	struct siommu_pt_gather g;
	struct siommu_pt_info info;
	uint64_t n;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	p.pt = f->pt;
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M, 0, 3 * SZ_4K, RW), 0);
	n = pages(f->pt);
	assert_int_equal(n, 3);
	/* Unmapping part of the table's span frees nothing. */
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_unmap(f->pt, SZ_2M, SZ_4K, &g), SZ_4K);
	assert_int_equal(siommu_pt_get_info(f->pt, &info), 0);
	assert_int_equal(info.detached_pages, 0);
	assert_int_equal(siommu_pt_gather_sync(&g, order_inval, &p, SIOMMU_PT_SYNC_WAIT), 0);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.flags, 0);
	assert_int_equal(pages(f->pt), n);
	/* Covering the whole span: the entry is cleared, the page detached. */
	assert_int_equal(siommu_pt_unmap(f->pt, SZ_2M, SZ_2M, &g), 2 * SZ_4K);
	assert_unmapped(f->pt, SZ_2M + SZ_4K);
	assert_int_equal(siommu_pt_get_info(f->pt, &info), 0);
	assert_int_equal(info.detached_pages, 1);
	assert_int_equal(info.table_pages, n);
	assert_int_equal(siommu_pt_gather_sync(&g, order_inval, &p, SIOMMU_PT_SYNC_WAIT), 0);
	assert_int_equal(p.calls, 2);
	assert_int_equal(p.iova, SZ_2M);
	assert_int_equal(p.last, 2 * SZ_2M - 1);
	assert_int_equal(p.flags, SIOMMU_PT_INVAL_TABLES);
	assert_int_equal(p.pages_in_callback, n);	/* inval ran before the free */
	assert_int_equal(siommu_pt_get_info(f->pt, &info), 0);
	assert_int_equal(info.table_pages, n - 1);
	assert_int_equal(info.detached_pages + info.reclaim_pages, 0);
	/* An empty gather calls nothing. */
	assert_int_equal(siommu_pt_gather_sync(&g, order_inval, &p, 0), 0);
	assert_int_equal(p.calls, 2);
}

struct reader_arg {
	volatile int phase;
};

static void *reader_holding_section(void *opaque)
{
	struct reader_arg *a = opaque;

	siommu_read_lock();
	__atomic_store_n(&a->phase, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&a->phase, __ATOMIC_ACQUIRE) != 2)
		usleep(1000);
	siommu_read_unlock();
	return NULL;
}

static void test_pgtable_reclaim_waits_for_readers(void **state)
{
	struct pt_fixture *f = *state;
	struct reader_arg a = { 0 };
	struct siommu_pt_gather g;
	struct siommu_pt_info info;
	pthread_t tid;
	int i;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_X86_64, 4, 0);
	assert_int_equal(siommu_pt_map(f->pt, SZ_1G, 0, SZ_4K, RW), 0);
	assert_int_equal(pthread_create(&tid, NULL, reader_holding_section, &a), 0);
	while (__atomic_load_n(&a.phase, __ATOMIC_ACQUIRE) != 1)
		usleep(1000);
	/* Detaches the level-1 and leaf tables (whole 1 GiB span). */
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_unmap(f->pt, SZ_1G, SZ_1G, &g), SZ_4K);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
	for (i = 0; i < 20; i++) {
		usleep(2000);
		assert_int_equal(siommu_pt_get_info(f->pt, &info), 0);
		assert_int_equal(info.reclaim_pages, 2);	/* the reader holds them */
	}
	__atomic_store_n(&a.phase, 2, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_equal(siommu_pt_reclaim_wait(f->pt), 0);
	assert_int_equal(siommu_pt_get_info(f->pt, &info), 0);
	assert_int_equal(info.reclaim_pages, 0);
	assert_int_equal(info.table_pages, 2);
}

/*
 * A destroy with a reclaim still pending (a reader holds the grace period)
 * returns at once: the callback frees the pages and the table after the
 * reader leaves.  It used to wait for the callback (an rcu_barrier), which
 * here means until the reader left (tests/common/grace_probe.h); under ASan
 * LeakSanitizer checks at exit that the callback freed the table.
 */
/* Unmap (its tables detached), sync without waiting, destroy: the probe's call. */
static int unmap_sync_destroy(void *arg)
{
	struct siommu_pt *pt = arg;
	struct siommu_pt_gather g;
	struct siommu_pt_info info;

	siommu_pt_gather_init(&g);
	if (siommu_pt_unmap(pt, SZ_1G, SZ_1G, &g) != (int64_t)SZ_4K ||
	    siommu_pt_gather_sync(&g, NULL, NULL, 0) || siommu_pt_get_info(pt, &info) ||
	    info.reclaim_pages != 2)
		return -1;	/* the pages wait for the probe's reader */
	return siommu_pt_destroy(pt);
}

static void test_pgtable_destroy_with_reclaim_pending_does_not_wait(void **state)
{
	struct pt_fixture *f = *state;
	int ret = -1;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_X86_64, 4, 0);
	assert_int_equal(siommu_pt_map(f->pt, SZ_1G, 0, SZ_4K, RW), 0);
	assert_false(gp_probe_waits(unmap_sync_destroy, f->pt, &ret));
	assert_int_equal(ret, 0);
	f->pt = NULL;	/* the callback frees it (the context's destroy waits for it) */
}

static void test_pgtable_sync_wait_inside_read_section_is_edeadlk(void **state)
{
	struct pt_fixture *f = *state;
	struct pt_inval_log log = { 0 };
	struct siommu_pt_gather g;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, SZ_4K, RW), 0);
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_unmap(f->pt, 0, SZ_1G, &g), SZ_4K);
	siommu_read_lock();
	assert_int_equal(siommu_pt_gather_sync(&g, pt_test_inval, &log, SIOMMU_PT_SYNC_WAIT),
			 -EDEADLK);
	siommu_read_unlock();
	assert_int_equal(log.calls, 0);
	/* The table cannot go while the gather holds its pages. */
	assert_int_equal(siommu_pt_destroy(f->pt), -EBUSY);
	assert_int_equal(siommu_pt_gather_sync(&g, pt_test_inval, &log, 0), 0);
	assert_int_equal(log.calls, 1);
}

static void test_pgtable_gather_of_another_table_is_einval(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_gather g;
	struct siommu_pt *other;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	other = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_unmap(f->pt, 0, SZ_4K, &g), 0);
	assert_int_equal(siommu_pt_unmap(other, 0, SZ_4K, &g), -EINVAL);
	assert_int_equal(siommu_pt_unmap(other, 0, SZ_4K, NULL), -EINVAL);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
	assert_int_equal(siommu_pt_unmap(other, 0, SZ_4K, &g), 0);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
	assert_int_equal(siommu_pt_destroy(other), 0);
}

/* ---- level lookup and the invalidation sequence (seed 001) ---- */

static void test_pgtable_seq_moves_on_unmap_of_the_region_only(void **state)
{
	struct pt_fixture *f = *state;
	uint64_t seq, other;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, SZ_2M, RW), 0);
	assert_int_equal(siommu_pt_map(f->pt, 5 * SZ_1G, 0, SZ_4K, RW), 0);
	seq = siommu_pt_seq_begin(f->pt, 0);
	other = siommu_pt_seq_begin(f->pt, 5 * SZ_1G);
	assert_int_equal(siommu_pt_lookup_level(f->pt, 0x1234), 21);
	assert_false(siommu_pt_seq_retry(f->pt, 0, seq));
	/* A map is not an invalidation. */
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M, 0, SZ_4K, RW), 0);
	assert_false(siommu_pt_seq_retry(f->pt, 0, seq));
	/* An unmap in the same 1 GiB region is, even of another page. */
	assert_int_equal(pt_test_unmap(f->pt, SZ_2M, SZ_4K), SZ_4K);
	assert_true(siommu_pt_seq_retry(f->pt, 0, seq));
	assert_false(siommu_pt_seq_retry(f->pt, 5 * SZ_1G, other));
	seq = siommu_pt_seq_begin(f->pt, 0);
	assert_int_equal(pt_test_unmap(f->pt, 0, SZ_2M), SZ_2M);
	assert_true(siommu_pt_seq_retry(f->pt, 0x1234, seq));
	assert_int_equal(siommu_pt_lookup_level(f->pt, 0x1234), 0);
	assert_int_equal(siommu_pt_lookup_level(f->pt, 1ull << 39), -ERANGE);
}

/* ---- dirty tracking ---- */

static void touch(struct siommu_pt *pt, uint64_t iova, unsigned int access)
{
	struct siommu_pt_xlate x;

	siommu_read_lock();
	assert_int_equal(siommu_pt_translate_rcu(pt, iova, access, &x), 0);
	siommu_read_unlock();
}

static void test_pgtable_dirty_read_and_clear(void **state)
{
	struct pt_fixture *f = *state;
	struct pt_inval_log log = { 0 };
	uint64_t bitmap[16] = { 0 };	/* 1024 bits of 4 KiB: 4 MiB */
	struct siommu_pt_gather g;
	unsigned int i, set = 0;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_X86_64, 4, 0);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, SZ_2M, RW), 0);		/* 2 MiB leaf */
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M, SZ_4K, 8 * SZ_4K, RW), 0);	/* 4 KiB leaves */
	touch(f->pt, 0x1000, SIOMMU_PT_ACC_WRITE);
	touch(f->pt, SZ_2M + 3 * SZ_4K, SIOMMU_PT_ACC_WRITE);
	touch(f->pt, SZ_2M + 4 * SZ_4K, SIOMMU_PT_ACC_READ);	/* accessed, not dirty */
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_read_and_clear_dirty(f->pt, 0, 2 * SZ_2M,
							SIOMMU_PT_DIRTY_NO_CLEAR, bitmap,
							12, NULL), 2);
	assert_int_equal(siommu_pt_read_and_clear_dirty(f->pt, 0, 2 * SZ_2M, 0, bitmap,
							12, &g), 2);
	for (i = 0; i < 1024; i++)
		set += (bitmap[i / 64] >> (i % 64)) & 1;
	assert_int_equal(set, 512 + 1);		/* the whole 2 MiB page, one 4 KiB page */
	assert_true(bitmap[(512 + 3) / 64] & (1ull << ((512 + 3) % 64)));
	assert_int_equal(siommu_pt_gather_sync(&g, pt_test_inval, &log, 0), 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.iova, 0);
	assert_int_equal(log.last, SZ_2M + 4 * SZ_4K - 1);
	/* Cleared: nothing dirty now. */
	memset(bitmap, 0, sizeof(bitmap));
	assert_int_equal(siommu_pt_read_and_clear_dirty(f->pt, 0, 2 * SZ_2M, 0, bitmap,
							12, &g), 0);
	assert_int_equal(bitmap[0] | bitmap[8], 0);
	/* 2 MiB granules: one bit per 2 MiB. */
	touch(f->pt, SZ_2M + 5 * SZ_4K, SIOMMU_PT_ACC_WRITE);
	assert_int_equal(siommu_pt_read_and_clear_dirty(f->pt, 0, 2 * SZ_2M, 0, bitmap,
							21, &g), 1);
	assert_int_equal(bitmap[0], 0x2);
	assert_int_equal(siommu_pt_read_and_clear_dirty(f->pt, 0x1000, SZ_2M, 0, bitmap,
							21, &g), -EINVAL);
	assert_int_equal(siommu_pt_read_and_clear_dirty(f->pt, 0, SZ_2M, 0, bitmap,
							12, NULL), -EINVAL);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
}

static void test_pgtable_dirty_needs_hardware_ad(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_gather g;
	uint64_t bitmap = 0;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_read_and_clear_dirty(f->pt, 0, SZ_2M, 0, &bitmap, 21,
							&g), -EOPNOTSUPP);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
}

/* ---- translate ---- */

static void test_pgtable_translate_checks_permissions(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_xlate x;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_X86_64, 4, 0);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0x5000, SZ_4K, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_pt_map(f->pt, SZ_4K, 0x6000, SZ_4K,
				       RW | SIOMMU_PT_PRIV | SIOMMU_PT_NOEXEC), 0);
	siommu_read_lock();
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0, SIOMMU_PT_ACC_WRITE, &x), -EACCES);
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0, SIOMMU_PT_ACC_EXEC, &x), 0);
	assert_int_equal(siommu_pt_translate_rcu(f->pt, SZ_4K, SIOMMU_PT_ACC_READ, &x),
			 -EACCES);
	assert_int_equal(siommu_pt_translate_rcu(f->pt, SZ_4K, SIOMMU_PT_ACC_WRITE |
						 SIOMMU_PT_ACC_PRIV, &x), 0);
	assert_int_equal(x.pa, 0x6000);
	assert_int_equal(x.prot, RW | SIOMMU_PT_PRIV | SIOMMU_PT_NOEXEC);
	assert_int_equal(siommu_pt_translate_rcu(f->pt, SZ_4K, SIOMMU_PT_ACC_EXEC |
						 SIOMMU_PT_ACC_PRIV, &x), -EACCES);
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 2 * SZ_4K, SIOMMU_PT_ACC_READ, &x),
			 -ENOENT);
	siommu_read_unlock();
}

/*
 * siommu_pt_translate_run_rcu(): the run of 4 KiB leaves around the page,
 * for every format: bounded by the leaf table (its 2 MiB block), a gap, an
 * output jump or other permissions; the read's run marks its leaves
 * accessed; a write's run only joins leaves already dirty (formats with
 * dirty state: x86-64 here); a larger leaf is its page.
 */
static void test_pgtable_translate_run(void **state)
{
	static const enum siommu_pt_fmt fmts[] = {
		SIOMMU_PT_FMT_X86_64, SIOMMU_PT_FMT_VTD_SS, SIOMMU_PT_FMT_ARM_LPAE_S1,
	};
	struct pt_fixture *f = *state;
	const uint64_t b = 4 * SZ_2M;	/* a 2 MiB block */
	struct siommu_pt_xlate x;
	uint64_t first, last;
	unsigned int k;

	for (k = 0; k < 3; k++) {
		if (f->pt)	/* the last one is teardown's */
			assert_int_equal(siommu_pt_destroy(f->pt), 0);
		f->pt = pt_test_create(f->ctx, fmts[k], 4, 0);
		/* Pages 0..9 of the block and the last 4 of the block before. */
		assert_int_equal(siommu_pt_map(f->pt, b - 4 * SZ_4K, 0x100000, 14 * SZ_4K, RW), 0);
		/* 10: other permissions; 11 (gap); 12..13 jump; 14..15 continue 12. */
		assert_int_equal(siommu_pt_map(f->pt, b + 10 * SZ_4K, 0x10a000 + 4 * SZ_4K, SZ_4K,
					       SIOMMU_PT_READ), 0);
		assert_int_equal(siommu_pt_map(f->pt, b + 12 * SZ_4K, 0x900000, 4 * SZ_4K, RW), 0);
		assert_int_equal(siommu_pt_map(f->pt, 8 * SZ_2M, 0x40000000, SZ_2M, RW), 0);
		siommu_read_lock();
		assert_int_equal(siommu_pt_translate_run_rcu(f->pt, b + 3 * SZ_4K + 5,
							     SIOMMU_PT_ACC_READ, &x, &first, &last), 0);
		assert_int_equal(x.pa, 0x104000 + 3 * SZ_4K + 5);
		assert_int_equal(x.pgsize_lg2, 12);
		assert_int_equal(first, b);		/* not into the block before */
		assert_int_equal(last, b + 10 * SZ_4K - 1);
		/* The run after the jump, entered from its last page. */
		assert_int_equal(siommu_pt_translate_run_rcu(f->pt, b + 15 * SZ_4K,
							     SIOMMU_PT_ACC_READ, &x, &first, &last), 0);
		assert_int_equal(first, b + 12 * SZ_4K);
		assert_int_equal(last, b + 16 * SZ_4K - 1);
		/* The page of other permissions alone. */
		assert_int_equal(siommu_pt_translate_run_rcu(f->pt, b + 10 * SZ_4K,
							     SIOMMU_PT_ACC_READ, &x, &first, &last), 0);
		assert_int_equal(first, b + 10 * SZ_4K);
		assert_int_equal(last, b + 11 * SZ_4K - 1);
		/* A write: only itself (no neighbour is dirty yet), then a dirty pair. */
		assert_int_equal(siommu_pt_translate_run_rcu(f->pt, b + 5 * SZ_4K,
							     SIOMMU_PT_ACC_WRITE, &x, &first, &last), 0);
		if (k == 0) {	/* x86-64 always has A/D (the others with F_DIRTY only) */
			assert_int_equal(first, b + 5 * SZ_4K);
			assert_int_equal(last, b + 6 * SZ_4K - 1);
			assert_int_equal(siommu_pt_translate_run_rcu(f->pt, b + 6 * SZ_4K,
								     SIOMMU_PT_ACC_WRITE, &x,
								     &first, &last), 0);
			assert_int_equal(first, b + 5 * SZ_4K);
			assert_int_equal(last, b + 7 * SZ_4K - 1);
		} else {	/* no dirty state: a write changes no leaf, all join */
			assert_int_equal(first, b);
			assert_int_equal(last, b + 10 * SZ_4K - 1);
		}
		/* A 2 MiB leaf: its page. */
		assert_int_equal(siommu_pt_translate_run_rcu(f->pt, 8 * SZ_2M + 77,
							     SIOMMU_PT_ACC_READ, &x, &first, &last), 0);
		assert_int_equal(x.pgsize_lg2, 21);
		assert_int_equal(first, 8 * SZ_2M);
		assert_int_equal(last, 9 * SZ_2M - 1);
		/* Errors as translate's, and NULL outputs. */
		assert_int_equal(siommu_pt_translate_run_rcu(f->pt, b + 11 * SZ_4K,
							     SIOMMU_PT_ACC_READ, &x, &first, &last),
				 -ENOENT);
		assert_int_equal(siommu_pt_translate_run_rcu(f->pt, b, SIOMMU_PT_ACC_READ, &x,
							     NULL, &last), -EINVAL);
		assert_int_equal(siommu_pt_translate_run_rcu(f->pt, b, SIOMMU_PT_ACC_READ, &x,
							     &first, NULL), -EINVAL);
		siommu_read_unlock();
	}
}

/* ---- accounting ---- */

static void test_pgtable_accounting_1g_of_4k_is_minimal(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_cfg cfg = {
		.fmt = SIOMMU_PT_FMT_VTD_SS, .levels = 4,
		.pgsize_bitmap = SIOMMU_PT_SZ_4K,
	};
	struct siommu_pt_info info;

	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &f->pt), 0);
	assert_int_equal(siommu_pt_map(f->pt, SZ_1G, SZ_1G, SZ_1G, RW), 0);
	assert_int_equal(siommu_pt_get_info(f->pt, &info), 0);
	/* 512 leaf tables + one per level above: the theoretical minimum. */
	assert_int_equal(info.table_pages, 512 + 1 + 1 + 1);
	assert_int_equal(info.table_bytes, (512 + 3) * 4096);
	assert_int_equal(pt_test_unmap(f->pt, SZ_1G, SZ_1G), SZ_1G);
	assert_int_equal(siommu_pt_get_info(f->pt, &info), 0);
	assert_int_equal(info.table_pages, 2);	/* root + level-3 table */
	assert_int_equal(info.table_pages_peak, 515);
}

/* ---- dump ---- */

static void test_pgtable_dump_matches_linux_debugfs_layout(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_dump_dev dev = { .segment = 0, .bus = 0, .devfn = 0x1f << 3 | 2,
					   .pasid = SIOMMU_PT_NO_PASID };
	static struct pt_dump_buf b;
	const char *want =
		"Device 0000:00:1f.2 @0x10000000\n"
		"IOVA_PFN         \tPML5E             \tPML4E             \tPDPE              \tPDE               \tPTE\n"
		"0x0000000000001 |\t0x0000000000000000\t0x0000000000000000\t0x0000000010001003\t0x0000000010002003\t0x0000000012345003\n"
		"0x0000000000200 |\t0x0000000000000000\t0x0000000000000000\t0x0000000010001003\t0x0000000040000881\n"
		"0x0000000040000 |\t0x0000000000000000\t0x0000000000000000\t0x0000000080000082\n";

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	assert_int_equal(siommu_pt_map(f->pt, 0x1000, 0x12345000, SZ_4K, RW), 0);
	assert_int_equal(siommu_pt_map(f->pt, SZ_2M, SZ_1G, SZ_2M,
				       SIOMMU_PT_READ | SIOMMU_PT_CACHE), 0);
	assert_int_equal(siommu_pt_map(f->pt, SZ_1G, 2 * SZ_1G, SZ_1G, SIOMMU_PT_WRITE), 0);
	b.len = 0;
	assert_int_equal(siommu_pt_dump(f->pt, &dev, pt_test_dump_line, &b), 0);
	assert_string_equal(b.text, want);
}

static void test_pgtable_dump_pasid_and_format_names(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_dump_dev dev = { .segment = 1, .bus = 0x3a, .devfn = 0x08,
					   .pasid = 0x1f };
	static struct pt_dump_buf b;
	struct siommu_pt *arm;
	const char *want_x86 =
		"Device 0001:3a:01.0 with pasid 1f @0x10000000\n"
		"IOVA_PFN         \tPML5E             \tPML4E             \tPDPTE             \tPDE               \tPTE\n"
		"0x0000000080000 |\t0x0000000000000000\t0x0000000010001027\t0x0000000010002027\t0x0000000010003027\t0x0000000000005007\n";
	const char *want_arm =
		"Device 0000:00:00.0 @0x10000000\n"
		"IOVA_PFN         \tL0                \tL1                \tL2                \tL3\n"
		"0x0000000000200 |\t0x0000000010001003\t0x0000000010002003\t0x0000000000400e41\n"
		"0x0000000040000 |\t0x0000000010001003\t0x0000000040000e41\n";

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_X86_64, 4, 0);
	assert_int_equal(siommu_pt_map(f->pt, 2 * SZ_1G, 0x5000, SZ_4K, RW), 0);
	b.len = 0;
	assert_int_equal(siommu_pt_dump(f->pt, &dev, pt_test_dump_line, &b), 0);
	assert_string_equal(b.text, want_x86);

	/* A 2 MiB block at Arm level 2, a 1 GiB block at Arm level 1. */
	arm = pt_test_create(f->ctx, SIOMMU_PT_FMT_ARM_LPAE_S1, 4, 0);
	assert_int_equal(siommu_pt_map(arm, SZ_2M, 2 * SZ_2M, SZ_2M, RW), 0);
	assert_int_equal(siommu_pt_map(arm, SZ_1G, SZ_1G, SZ_1G, RW), 0);
	b.len = 0;
	assert_int_equal(siommu_pt_dump(arm, NULL, pt_test_dump_line, &b), 0);
	assert_string_equal(b.text, want_arm);
	assert_int_equal(siommu_pt_destroy(arm), 0);
}

static int stop_after_two(void *opaque, const char *line)
{
	int *n = opaque;

	return ++*n == 2 ? 42 : 0;
}

static void test_pgtable_dump_callback_can_stop_it(void **state)
{
	struct pt_fixture *f = *state;
	int n = 0;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, 4 * SZ_4K, RW), 0);
	assert_int_equal(siommu_pt_dump(f->pt, NULL, stop_after_two, &n), 42);
	assert_int_equal(n, 2);
	assert_int_equal(siommu_pt_dump(f->pt, NULL, NULL, NULL), -EINVAL);
}

/* ---- threads ---- */

static void *unseen_thread(void *opaque)
{
	struct siommu_pt *pt = opaque;
	static struct pt_dump_buf b;
	struct siommu_pt_gather g;
	uint64_t pa;

	thread_assert_int_equal(siommu_pt_map(pt, 0x7000, 0x9000, SZ_4K, RW), 0);
	thread_assert_int_equal(siommu_pt_iova_to_phys(pt, 0x7008, &pa), 0);
	thread_assert_int_equal(pa, 0x9008);
	thread_assert_int_equal(siommu_pt_lookup_level(pt, 0x7000), 12);
	b.len = 0;
	thread_assert_int_equal(siommu_pt_dump(pt, NULL, pt_test_dump_line, &b), 0);
	thread_assert_int_equal(siommu_pt_hold(pt), 0);
	thread_assert_int_equal(siommu_pt_unhold(pt), 0);
	thread_assert_int_equal(siommu_pt_invalidate_begin(pt, 0x7000, SZ_4K), 0);
	thread_assert_int_equal(siommu_pt_invalidate_end(pt, 0x7000, SZ_4K), 0);
	siommu_pt_gather_init(&g);
	thread_assert_int_equal(siommu_pt_unmap(pt, 0, SZ_1G, &g), SZ_4K);
	thread_assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
	thread_assert_int_equal(siommu_pt_reclaim_wait(pt), 0);
	return NULL;
}

static void test_pgtable_unseen_thread_can_use_every_call(void **state)
{
	struct pt_fixture *f = *state;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	test_run_threads(1, unseen_thread, (void *[]){ f->pt });
	assert_unmapped(f->pt, 0x7000);
}

/* ---- failed allocations ---- */

static void test_pgtable_failnth_map_leaves_nothing_mapped(void **state)
{
	struct pt_fixture *f = *state;
	unsigned long n;
	int ret;

	if (!siommu_testing_build())
		skip();
	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_X86_64, 4, 0);
	for (n = 1;; n++) {
		assert_int_equal(siommu_test_fail_nth(n), 0);
		ret = siommu_pt_map(f->pt, SZ_1G - SZ_4K, 0, 2 * SZ_4K + SZ_2M, RW);
		siommu_test_fail_nth(0);
		if (!ret)
			break;
		assert_int_equal(ret, -ENOMEM);
		assert_unmapped(f->pt, SZ_1G - SZ_4K);
		assert_unmapped(f->pt, SZ_1G + SZ_2M);
	}
	assert_true(n > 1);
	assert_int_equal(pt_test_unmap(f->pt, 0, 4 * SZ_1G), 2 * SZ_4K + SZ_2M);
	assert_int_equal(pages(f->pt), 2);	/* root + the level-2 table: no leak */
}


static void test_pgtable_failnth_create_and_deferred_free(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_cfg cfg = { .fmt = SIOMMU_PT_FMT_ARM_LPAE_S1 };
	struct pt_inval_log log = { 0 };
	struct siommu_pt_gather g;
	struct siommu_pt_info info;
	unsigned long n;
	int ret;

	if (!siommu_testing_build())
		skip();
	for (n = 1;; n++) {
		assert_int_equal(siommu_test_fail_nth(n), 0);
		ret = siommu_pt_create(f->ctx, &cfg, &f->pt);
		siommu_test_fail_nth(0);
		if (!ret)
			break;
		assert_int_equal(ret, -ENOMEM);	/* and ASan finds no leak */
	}
	assert_true(n > 3);	/* the pt, the arena, meta[], the root page */
	assert_int_equal(siommu_pt_map(f->pt, 0, 0, SZ_4K, RW), 0);

	/*
	 * The deferred free allocates nothing: with every allocation failing,
	 * inside a read-side section, the sync succeeds without waiting.
	 */
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_unmap(f->pt, 0, SZ_1G, &g), SZ_4K);
	siommu_read_lock();
	assert_int_equal(siommu_test_fail_nth(1), 0);
	assert_int_equal(siommu_pt_gather_sync(&g, pt_test_inval, &log, 0), 0);
	siommu_test_fail_nth(0);
	siommu_read_unlock();
	assert_int_equal(log.calls, 1);
	assert_int_equal(siommu_pt_reclaim_wait(f->pt), 0);
	assert_int_equal(siommu_pt_get_info(f->pt, &info), 0);
	assert_int_equal(info.reclaim_pages + info.detached_pages, 0);
	assert_int_equal(info.table_pages, 2);	/* root + Arm level-1 table */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pgtable_create_rejects_bad_config),
		T(test_pgtable_create_defaults_and_names),
		T(test_pgtable_map_rejects_bad_arguments),
		T(test_pgtable_map_uses_largest_pages),
		T(test_pgtable_map_respects_alignment_and_page_sizes),
		T(test_pgtable_map_over_mapping_is_eexist_and_changes_nothing),
		T(test_pgtable_map_large_page_over_empty_table_uses_small_pages),
		T(test_pgtable_map_pool_exhaustion_is_enomem_with_nothing_mapped),
		T(test_pgtable_unmap_counts_bytes_and_skips_holes),
		T(test_pgtable_unmap_refuses_to_split_a_large_page),
		T(test_pgtable_reclaim_order_clear_inval_then_free),
		T(test_pgtable_reclaim_waits_for_readers),
		T(test_pgtable_destroy_with_reclaim_pending_does_not_wait),
		T(test_pgtable_sync_wait_inside_read_section_is_edeadlk),
		T(test_pgtable_gather_of_another_table_is_einval),
		T(test_pgtable_seq_moves_on_unmap_of_the_region_only),
		T(test_pgtable_dirty_read_and_clear),
		T(test_pgtable_dirty_needs_hardware_ad),
		T(test_pgtable_translate_checks_permissions),
		T(test_pgtable_translate_run),
		T(test_pgtable_accounting_1g_of_4k_is_minimal),
		T(test_pgtable_dump_matches_linux_debugfs_layout),
		T(test_pgtable_dump_pasid_and_format_names),
		T(test_pgtable_dump_callback_can_stop_it),
		T(test_pgtable_unseen_thread_can_use_every_call),
		T(test_pgtable_failnth_map_leaves_nothing_mapped),
		T(test_pgtable_failnth_create_and_deferred_free),
	};

	return cmocka_run_group_tests_name("pgtable_api", tests, NULL, NULL);
}
