// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SIOMMU_PT_F_LINUX: VT-d second-stage tables managed as Linux's
 * intel-iommu driver manages them (drivers/iommu/intel/iommu.c):
 *  - __domain_mapping() calls switch_to_super_page() before it writes a
 *    superpage: a table page present in the slot (one that earlier unmaps
 *    emptied; domain_unmap() frees a table only when the range covers its
 *    whole span) is freed with its subtree, the IOTLB flushed for the slot,
 *    and the superpage installed;
 *  - intel_iommu_unmap(): "if (size < VTD_PAGE_SIZE << level_to_offset_bits
 *    (level)) size = ..." for the leaf at the start of each chunk of
 *    __iommu_unmap(): unmapping part of a
 *    superpage unmaps all of it and returns the superpage's size, which
 *    __iommu_unmap() adds up and trace_unmap() prints as unmapped_size.
 * Each case also pins the default behaviour (no flag) it departs from.
 */
#include "pt_test.h"

#define RW (SIOMMU_PT_READ | SIOMMU_PT_WRITE)
#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

struct fx {
	struct siommu_ctx *ctx;
	struct siommu_pt *lx;		/* SIOMMU_PT_F_LINUX */
	struct siommu_pt *def;		/* the default behaviour */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(siommu_ctx_create(&f->ctx), 0);
	f->lx = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, SIOMMU_PT_F_LINUX);
	f->def = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	assert_int_equal(siommu_pt_destroy(f->lx), 0);
	assert_int_equal(siommu_pt_destroy(f->def), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

/* Table pages in use once every pending free has had its grace period. */
static uint64_t pages(struct siommu_pt *pt)
{
	struct siommu_pt_info info;

	assert_int_equal(siommu_pt_reclaim_wait(pt), 0);
	assert_int_equal(siommu_pt_get_info(pt, &info), 0);
	assert_int_equal(info.detached_pages + info.reclaim_pages, 0);
	return info.table_pages;
}

static void both_map_4k_then_unmap(struct fx *f, uint64_t iova)
{
	assert_int_equal(siommu_pt_map(f->lx, iova, 0, SZ_4K, RW), 0);
	assert_int_equal(siommu_pt_map(f->def, iova, 0, SZ_4K, RW), 0);
	assert_int_equal(pt_test_unmap(f->lx, iova, SZ_4K), SZ_4K);
	assert_int_equal(pt_test_unmap(f->def, iova, SZ_4K), SZ_4K);
	/* root, the 1 GiB slot's directory, the 2 MiB slot's leaf table: kept */
	assert_int_equal(pages(f->lx), 3);
	assert_int_equal(pages(f->def), 3);
}

static void test_pgtable_linux_flag_is_vtd_only(void **state)
{
	struct fx *f = *state;
	struct siommu_pt_cfg cfg = { .fmt = SIOMMU_PT_FMT_X86_64, .flags = SIOMMU_PT_F_LINUX };
	struct siommu_pt *pt = NULL;

	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	cfg.fmt = SIOMMU_PT_FMT_ARM_LPAE_S1;
	assert_int_equal(siommu_pt_create(f->ctx, &cfg, &pt), -EINVAL);
	assert_null(pt);
}

static void test_pgtable_linux_superpage_frees_the_emptied_table(void **state)
{
	struct fx *f = *state;
	struct pt_inval_log log = { 0 };
	struct siommu_pt_gather g;

	both_map_4k_then_unmap(f, SZ_2M + 5 * SZ_4K);
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_map_gather(f->lx, SZ_2M, 8 * SZ_2M, SZ_2M, RW, &g), 0);
	assert_int_equal(siommu_pt_map(f->def, SZ_2M, 8 * SZ_2M, SZ_2M, RW), 0);
	/* Linux: the superpage; default: 512 4 KiB pages in the old table */
	assert_int_equal(siommu_pt_lookup_level(f->lx, SZ_2M + SZ_4K), 21);
	assert_int_equal(siommu_pt_lookup_level(f->def, SZ_2M + SZ_4K), 12);
	/* the detached table waits in the gather: flush the slot, with its tables */
	assert_int_equal(siommu_pt_gather_sync(&g, pt_test_inval, &log, 0), 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.iova, SZ_2M);
	assert_int_equal(log.last, 2 * SZ_2M - 1);
	assert_int_equal(log.flags, SIOMMU_PT_INVAL_TABLES);
	assert_int_equal(pages(f->lx), 2);
	assert_int_equal(pages(f->def), 3);
	uint64_t pa = 0;

	assert_int_equal(siommu_pt_iova_to_phys(f->lx, 2 * SZ_2M - 1, &pa), 0);
	assert_int_equal(pa, 9 * SZ_2M - 1);
}

static void test_pgtable_linux_plain_map_frees_it_too(void **state)
{
	struct fx *f = *state;

	both_map_4k_then_unmap(f, SZ_2M);
	assert_int_equal(siommu_pt_map(f->lx, SZ_2M, 0, SZ_2M, RW), 0);
	assert_int_equal(siommu_pt_lookup_level(f->lx, SZ_2M), 21);
	assert_int_equal(pages(f->lx), 2);
}

static void test_pgtable_linux_1g_frees_the_whole_empty_subtree(void **state)
{
	struct fx *f = *state;

	both_map_4k_then_unmap(f, SZ_1G + 3 * SZ_2M);
	assert_int_equal(siommu_pt_map(f->lx, SZ_1G, 0, SZ_1G, RW), 0);
	assert_int_equal(siommu_pt_map(f->def, SZ_1G, 0, SZ_1G, RW), 0);
	assert_int_equal(siommu_pt_lookup_level(f->lx, SZ_1G), 30);
	/* default: a table holds the 1 GiB slot, so 2 MiB pages, 4 KiB in the old one */
	assert_int_equal(siommu_pt_lookup_level(f->def, SZ_1G), 21);
	assert_int_equal(siommu_pt_lookup_level(f->def, SZ_1G + 3 * SZ_2M), 12);
	assert_int_equal(pages(f->lx), 1);	/* the root only */
	assert_int_equal(pages(f->def), 3);
}

static void test_pgtable_linux_map_over_a_live_leaf_is_still_eexist(void **state)
{
	struct fx *f = *state;

	assert_int_equal(siommu_pt_map(f->lx, SZ_2M + SZ_4K, 0, SZ_4K, RW), 0);
	assert_int_equal(siommu_pt_map(f->lx, SZ_2M, 0, SZ_2M, RW), -EEXIST);
	assert_int_equal(siommu_pt_lookup_level(f->lx, SZ_2M + SZ_4K), 12);
	assert_int_equal(pages(f->lx), 3);
}

static void test_pgtable_linux_partial_unmap_returns_the_superpage(void **state)
{
	struct fx *f = *state;
	uint64_t pa;

	assert_int_equal(siommu_pt_map(f->lx, SZ_2M, 0, SZ_2M, RW), 0);
	assert_int_equal(siommu_pt_map(f->def, SZ_2M, 0, SZ_2M, RW), 0);
	/* default: never split, nothing unmapped */
	assert_int_equal(pt_test_unmap(f->def, SZ_2M, SZ_4K), -EINVAL);
	assert_int_equal(siommu_pt_lookup_level(f->def, SZ_2M), 21);
	/* Linux: the whole superpage, and its size */
	assert_int_equal(pt_test_unmap(f->lx, SZ_2M, SZ_4K), SZ_2M);
	assert_int_equal(siommu_pt_iova_to_phys(f->lx, 2 * SZ_2M - SZ_4K, &pa), -ENOENT);
	/* 1 GiB too; a size between the two rounds up as well */
	assert_int_equal(siommu_pt_map(f->lx, SZ_1G, 0, SZ_1G, RW), 0);
	assert_int_equal(pt_test_unmap(f->lx, SZ_1G, SZ_2M + SZ_4K), SZ_1G);
	assert_int_equal(siommu_pt_iova_to_phys(f->lx, 2 * SZ_1G - SZ_4K, &pa), -ENOENT);
}

static void test_pgtable_linux_range_ending_in_a_later_superpage_takes_it(void **state)
{
	struct fx *f = *state;
	uint64_t pa;

	/* __iommu_unmap(): the 4 KiB chunk, then a 4 KiB chunk that meets the 2 MiB leaf */
	assert_int_equal(siommu_pt_map(f->lx, SZ_2M - SZ_4K, 0, SZ_4K, RW), 0);
	assert_int_equal(siommu_pt_map(f->lx, SZ_2M, SZ_2M, SZ_2M, RW), 0);
	assert_int_equal(siommu_pt_map(f->def, SZ_2M - SZ_4K, 0, SZ_4K, RW), 0);
	assert_int_equal(siommu_pt_map(f->def, SZ_2M, SZ_2M, SZ_2M, RW), 0);
	assert_int_equal(pt_test_unmap(f->def, SZ_2M - SZ_4K, 2 * SZ_4K), -EINVAL);
	assert_int_equal(pt_test_unmap(f->lx, SZ_2M - SZ_4K, 2 * SZ_4K), SZ_2M + SZ_4K);
	assert_int_equal(siommu_pt_iova_to_phys(f->lx, SZ_2M - SZ_4K, &pa), -ENOENT);
	assert_int_equal(siommu_pt_iova_to_phys(f->lx, 2 * SZ_2M - SZ_4K, &pa), -ENOENT);
}

static void test_pgtable_linux_unmap_of_4k_pages_is_unchanged(void **state)
{
	struct fx *f = *state;

	assert_int_equal(siommu_pt_map(f->lx, 0, 0, 4 * SZ_4K, RW), 0);
	assert_int_equal(pt_test_unmap(f->lx, SZ_4K, SZ_4K), SZ_4K);
	assert_int_equal(pt_test_unmap(f->lx, 0, 8 * SZ_4K), 3 * SZ_4K);
	assert_int_equal(pt_test_unmap(f->lx, 0, SZ_4K), 0);	/* nothing there */
}

static void test_pgtable_linux_unmap_inside_a_superpage_is_einval(void **state)
{
	struct fx *f = *state;

	assert_int_equal(siommu_pt_map(f->lx, SZ_2M - SZ_4K, 0, SZ_4K, RW), 0);
	assert_int_equal(siommu_pt_map(f->lx, SZ_2M, SZ_2M, SZ_2M, RW), 0);
	/* starting in its middle: undefined in Linux, refused here, nothing changed */
	assert_int_equal(pt_test_unmap(f->lx, SZ_2M + SZ_4K, SZ_4K), -EINVAL);
	/* ending inside it too: the same */
	assert_int_equal(pt_test_unmap(f->lx, SZ_2M + SZ_4K, 2 * SZ_2M), -EINVAL);
	assert_int_equal(siommu_pt_lookup_level(f->lx, SZ_2M - SZ_4K), 12);
	assert_int_equal(siommu_pt_lookup_level(f->lx, SZ_2M), 21);
}

static void test_pgtable_linux_map_gather_checks_its_gather(void **state)
{
	struct fx *f = *state;
	struct siommu_pt_gather g;

	assert_int_equal(siommu_pt_map_gather(f->lx, 0, 0, SZ_4K, RW, NULL), -EINVAL);
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_map_gather(f->def, 0, 0, SZ_4K, RW, &g), 0);
	assert_int_equal(siommu_pt_map_gather(f->lx, 0, 0, SZ_4K, RW, &g), -EINVAL);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
	assert_int_equal(siommu_pt_map_gather(f->lx, 0, 0, SZ_4K, RW, &g), 0);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pgtable_linux_flag_is_vtd_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_linux_superpage_frees_the_emptied_table,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_linux_plain_map_frees_it_too, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_linux_1g_frees_the_whole_empty_subtree,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_linux_map_over_a_live_leaf_is_still_eexist,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_linux_partial_unmap_returns_the_superpage,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_linux_range_ending_in_a_later_superpage_takes_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_linux_unmap_of_4k_pages_is_unchanged,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_linux_unmap_inside_a_superpage_is_einval,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_linux_map_gather_checks_its_gather,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("pgtable_linux", tests, NULL, NULL);
}
