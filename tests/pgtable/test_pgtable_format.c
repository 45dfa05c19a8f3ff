// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Golden bit patterns, per format, derived by hand from the specifications
 * (not from the code): for a handful of mappings, the exact value of every
 * table and leaf entry on the path.  Table pages come from the pool at
 * PT_TEST_PHYS_BASE in allocation order: the root is page 0, then one page
 * per new table, so table addresses are predictable too.
 *
 *  VT-d SS   (VT-d spec §9.8): R=bit0 W=bit1 X=bit2 PS=bit7 A=bit8 D=bit9
 *            SNP=bit11, address 51:12.  Tables: addr|R|W.
 *  x86-64    (SDM Vol.3A Tables 4-15..4-20): P=0 RW=1 US=2 PWT=3 PCD=4
 *            A=5 D=6 PS=7 XD=63.  Tables: addr|P|RW|US|A = addr|0x27.
 *  Arm S1    (Arm ARM D8.3): type 1:0 (3 table/page, 1 block), AttrIndx
 *            4:2, AP[1]=6 AP[2]=7, SH 9:8, AF=10, nG=11, DBM=51, PXN=53,
 *            UXN=54.  Tables: addr|3.
 */
#include "pt_test.h"

#define PB PT_TEST_PHYS_BASE

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

static void walk(struct siommu_pt *pt, uint64_t iova, struct siommu_pt_walk *w)
{
	assert_int_equal(siommu_pt_walk(pt, iova, w), 0);
}

/* ---- VT-d second stage ---- */

static void test_pgtable_vtd_ss3_golden(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_walk w;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 3, 0);
	/* 4 KiB, read+write: root[0] -> page 1, page1[0] -> page 2, leaf R|W. */
	assert_int_equal(siommu_pt_map(f->pt, 0x1000, 0x12345000, 0x1000,
				       SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	walk(f->pt, 0x1000, &w);
	assert_int_equal(w.levels, 3);
	assert_int_equal(w.leaf_level, 0);
	assert_int_equal(w.table_phys[2], PB);
	assert_int_equal(w.entry[2], PB + 0x1000 + 0x3);
	assert_int_equal(w.table_phys[1], PB + 0x1000);
	assert_int_equal(w.entry[1], PB + 0x2000 + 0x3);
	assert_int_equal(w.table_phys[0], PB + 0x2000);
	assert_int_equal(w.entry[0], 0x12345000ull | 0x3);

	/* 2 MiB, read + snoop: SL-PDE leaf R | PS | SNP = 0x881. */
	assert_int_equal(siommu_pt_map(f->pt, 0x200000, 0x40000000, 0x200000,
				       SIOMMU_PT_READ | SIOMMU_PT_CACHE), 0);
	walk(f->pt, 0x200000, &w);
	assert_int_equal(w.leaf_level, 1);
	assert_int_equal(w.entry[1], 0x40000000ull | 0x881);

	/* 1 GiB, write only (valid in the second stage): W | PS = 0x82. */
	assert_int_equal(siommu_pt_map(f->pt, 0x40000000, 0x80000000, 0x40000000,
				       SIOMMU_PT_WRITE), 0);
	walk(f->pt, 0x40000000, &w);
	assert_int_equal(w.leaf_level, 2);
	assert_int_equal(w.entry[2], 0x80000000ull | 0x82);

	/* PRIV, NOEXEC and MMIO have no bits in this format (no SLEE). */
	assert_int_equal(siommu_pt_map(f->pt, 0x2000, 0x5000, 0x1000,
				       SIOMMU_PT_READ | SIOMMU_PT_PRIV |
				       SIOMMU_PT_NOEXEC | SIOMMU_PT_MMIO), 0);
	walk(f->pt, 0x2000, &w);
	assert_int_equal(w.entry[0], 0x5000ull | 0x1);
}

static void test_pgtable_vtd_ss_exec_and_ad_bits(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_xlate x;
	struct siommu_pt_walk w;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 4,
			       SIOMMU_PT_F_EXEC | SIOMMU_PT_F_DIRTY);
	/* SLEE: tables get X (R|W|X = 0x7), leaves X unless NOEXEC. */
	assert_int_equal(siommu_pt_map(f->pt, 0x0, 0x7000, 0x1000,
				       SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	assert_int_equal(siommu_pt_map(f->pt, 0x1000, 0x8000, 0x1000,
				       SIOMMU_PT_READ | SIOMMU_PT_NOEXEC), 0);
	walk(f->pt, 0x0, &w);
	assert_int_equal(w.entry[3], PB + 0x1000 + 0x7);
	assert_int_equal(w.entry[2], PB + 0x2000 + 0x7);
	assert_int_equal(w.entry[1], PB + 0x3000 + 0x7);
	assert_int_equal(w.entry[0], 0x7000ull | 0x7);
	walk(f->pt, 0x1000, &w);
	assert_int_equal(w.entry[0], 0x8000ull | 0x1);

	/* SSADE: a read sets A (bit 8), a write A and D (bit 9). */
	siommu_read_lock();
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0x0, SIOMMU_PT_ACC_READ, &x), 0);
	siommu_read_unlock();
	walk(f->pt, 0x0, &w);
	assert_int_equal(w.entry[0], 0x7000ull | 0x7 | 0x100);
	siommu_read_lock();
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0x10, SIOMMU_PT_ACC_WRITE, &x), 0);
	siommu_read_unlock();
	assert_int_equal(x.pa, 0x7010);
	walk(f->pt, 0x0, &w);
	assert_int_equal(w.entry[0], 0x7000ull | 0x7 | 0x300);
}

static void test_pgtable_vtd_ss5_top_of_range(void **state)
{
	struct pt_fixture *f = *state;
	uint64_t iova = (1ull << 57) - 0x1000;	/* every index 511 */
	struct siommu_pt_walk w;
	unsigned int l;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_VTD_SS, 5, 0);
	assert_int_equal(siommu_pt_map(f->pt, iova, 0xfffff000, 0x1000,
				       SIOMMU_PT_READ), 0);
	walk(f->pt, iova, &w);
	for (l = 4; l >= 1; l--)
		assert_int_equal(w.entry[l], PB + (5 - l) * 0x1000ull + 0x3);
	assert_int_equal(w.entry[0], 0xfffff000ull | 0x1);
	/* The last entry of each table: table base + 511 * 8. */
	assert_int_equal(w.table_phys[4], PB);
	assert_int_equal(w.table_phys[0], PB + 0x4000);
	assert_int_equal(siommu_pt_map(f->pt, 1ull << 57, 0, 0x1000, SIOMMU_PT_READ),
			 -ERANGE);
}

/* ---- x86-64 ---- */

static void test_pgtable_x86_64_golden(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_walk w;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_X86_64, 4, 0);
	/* 4 KiB read+write, user: P|RW|US = 0x7; tables addr|0x27. */
	assert_int_equal(siommu_pt_map(f->pt, 0x1000, 0x12345000, 0x1000,
				       SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	walk(f->pt, 0x1000, &w);
	assert_int_equal(w.entry[3], PB + 0x1000 + 0x27);
	assert_int_equal(w.entry[2], PB + 0x2000 + 0x27);
	assert_int_equal(w.entry[1], PB + 0x3000 + 0x27);
	assert_int_equal(w.entry[0], 0x12345000ull | 0x7);

	/* 2 MiB read-only, supervisor, no-execute: P | PS | XD. */
	assert_int_equal(siommu_pt_map(f->pt, 0x200000, 0x40000000, 0x200000,
				       SIOMMU_PT_READ | SIOMMU_PT_PRIV |
				       SIOMMU_PT_NOEXEC), 0);
	walk(f->pt, 0x200000, &w);
	assert_int_equal(w.leaf_level, 1);
	assert_int_equal(w.entry[1], 0x8000000040000081ull);

	/* 1 GiB read+write, user, MMIO (UC: PCD|PWT): 0x7 | 0x18 | PS. */
	assert_int_equal(siommu_pt_map(f->pt, 0x40000000, 0x80000000, 0x40000000,
				       SIOMMU_PT_READ | SIOMMU_PT_WRITE |
				       SIOMMU_PT_MMIO), 0);
	walk(f->pt, 0x40000000, &w);
	assert_int_equal(w.leaf_level, 2);
	assert_int_equal(w.entry[2], 0x8000009full);

	/* Write-only reads back as read+write: present implies readable. */
	assert_int_equal(siommu_pt_map(f->pt, 0x3000, 0x9000, 0x1000, SIOMMU_PT_WRITE), 0);
	walk(f->pt, 0x3000, &w);
	assert_int_equal(w.entry[0], 0x9000ull | 0x7);

	/* Lower canonical half only: 2^47 is out of range. */
	assert_int_equal(siommu_pt_map(f->pt, 1ull << 47, 0, 0x1000, SIOMMU_PT_READ),
			 -ERANGE);
}

static void test_pgtable_x86_64_accessed_dirty(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_xlate x;
	struct siommu_pt_walk w;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_X86_64, 5, 0);
	assert_int_equal(siommu_pt_map(f->pt, 0x5000, 0x6000, 0x1000,
				       SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	walk(f->pt, 0x5000, &w);
	assert_int_equal(w.levels, 5);
	assert_int_equal(w.entry[4], PB + 0x1000 + 0x27);
	assert_int_equal(w.entry[0], 0x6000ull | 0x7);
	siommu_read_lock();
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0x5008, SIOMMU_PT_ACC_READ, &x), 0);
	assert_int_equal(x.pa, 0x6008);
	assert_int_equal(x.pgsize_lg2, 12);
	siommu_read_unlock();
	walk(f->pt, 0x5000, &w);
	assert_int_equal(w.entry[0], 0x6000ull | 0x27);		/* A = bit 5 */
	siommu_read_lock();
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0x5000, SIOMMU_PT_ACC_WRITE, &x), 0);
	siommu_read_unlock();
	walk(f->pt, 0x5000, &w);
	assert_int_equal(w.entry[0], 0x6000ull | 0x67);		/* D = bit 6 */
}

/* ---- Arm LPAE stage 1 ---- */

static void test_pgtable_arm_lpae_s1_golden(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_walk w;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_ARM_LPAE_S1, 0, 0);
	/*
	 * 4 KiB page, read+write, unprivileged, normal non-cacheable:
	 * page(3) | AP[1](0x40) | SH outer(0x200) | AF(0x400) | nG(0x800).
	 */
	assert_int_equal(siommu_pt_map(f->pt, 0x1000, 0x12345000, 0x1000,
				       SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	walk(f->pt, 0x1000, &w);
	assert_int_equal(w.levels, 4);
	assert_int_equal(w.entry[3], PB + 0x1000 + 0x3);
	assert_int_equal(w.entry[2], PB + 0x2000 + 0x3);
	assert_int_equal(w.entry[1], PB + 0x3000 + 0x3);
	assert_int_equal(w.entry[0], 0x12345e43ull);

	/*
	 * 2 MiB block, read-only, cacheable: block(1) | AttrIndx 1 (0x4) |
	 * AP[1] | AP[2](0x80) | SH inner(0x300) | AF | nG = 0xfc5.
	 */
	assert_int_equal(siommu_pt_map(f->pt, 0x200000, 0x40000000, 0x200000,
				       SIOMMU_PT_READ | SIOMMU_PT_CACHE), 0);
	walk(f->pt, 0x200000, &w);
	assert_int_equal(w.leaf_level, 1);
	assert_int_equal(w.entry[1], 0x40000fc5ull);

	/*
	 * 1 GiB block, read+write, privileged, device, no-execute:
	 * block(1) | AttrIndx 2 (0x8) | SH outer | AF | nG | PXN | UXN.
	 */
	assert_int_equal(siommu_pt_map(f->pt, 0x40000000, 0x80000000, 0x40000000,
				       SIOMMU_PT_READ | SIOMMU_PT_WRITE | SIOMMU_PT_PRIV |
				       SIOMMU_PT_MMIO | SIOMMU_PT_NOEXEC), 0);
	walk(f->pt, 0x40000000, &w);
	assert_int_equal(w.leaf_level, 2);
	assert_int_equal(w.entry[2], 0x0060000080000e09ull);

	/* 48-bit output: 2^48 is out of range. */
	assert_int_equal(siommu_pt_map(f->pt, 0x2000, 1ull << 48, 0x1000, SIOMMU_PT_READ),
			 -ERANGE);
}

static void test_pgtable_arm_lpae_s1_dbm(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_gather g;
	struct siommu_pt_xlate x;
	struct siommu_pt_walk w;
	uint64_t bitmap = 0;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_ARM_LPAE_S1, 4, SIOMMU_PT_F_DIRTY);
	/* Writable-clean: DBM (bit 51) | AP[2]. */
	assert_int_equal(siommu_pt_map(f->pt, 0x1000, 0x12345000, 0x1000,
				       SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	walk(f->pt, 0x1000, &w);
	assert_int_equal(w.entry[0], 0x0008000012345ec3ull);
	/* A write clears AP[2]: writable-dirty. */
	siommu_read_lock();
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0x1000, SIOMMU_PT_ACC_WRITE, &x), 0);
	siommu_read_unlock();
	walk(f->pt, 0x1000, &w);
	assert_int_equal(w.entry[0], 0x0008000012345e43ull);
	/* Read-and-clear sets AP[2] again. */
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_read_and_clear_dirty(f->pt, 0, 0x10000, 0, &bitmap,
							12, &g), 1);
	assert_int_equal(bitmap, 0x2);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
	walk(f->pt, 0x1000, &w);
	assert_int_equal(w.entry[0], 0x0008000012345ec3ull);
	/* A read-only mapping has no DBM and refuses writes. */
	assert_int_equal(siommu_pt_map(f->pt, 0x2000, 0x3000, 0x1000, SIOMMU_PT_READ), 0);
	walk(f->pt, 0x2000, &w);
	assert_int_equal(w.entry[0], 0x3000ull | 0xec3);
	siommu_read_lock();
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0x2000, SIOMMU_PT_ACC_WRITE, &x),
			 -EACCES);
	siommu_read_unlock();
}

static void test_pgtable_arm_lpae_s1_permissions(void **state)
{
	struct pt_fixture *f = *state;
	struct siommu_pt_xlate x;

	f->pt = pt_test_create(f->ctx, SIOMMU_PT_FMT_ARM_LPAE_S1, 4, 0);
	assert_int_equal(siommu_pt_map(f->pt, 0x1000, 0x1000, 0x1000,
				       SIOMMU_PT_READ | SIOMMU_PT_PRIV | SIOMMU_PT_NOEXEC), 0);
	siommu_read_lock();
	/* AP[1] clear: unprivileged requests fault, privileged ones pass. */
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0x1000, SIOMMU_PT_ACC_READ, &x),
			 -EACCES);
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0x1000, SIOMMU_PT_ACC_READ |
						 SIOMMU_PT_ACC_PRIV, &x), 0);
	assert_int_equal(x.prot, SIOMMU_PT_READ | SIOMMU_PT_PRIV | SIOMMU_PT_NOEXEC);
	/* PXN: no privileged execute. */
	assert_int_equal(siommu_pt_translate_rcu(f->pt, 0x1000, SIOMMU_PT_ACC_EXEC |
						 SIOMMU_PT_ACC_PRIV, &x), -EACCES);
	siommu_read_unlock();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pgtable_vtd_ss3_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_vtd_ss_exec_and_ad_bits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_vtd_ss5_top_of_range, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_x86_64_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_x86_64_accessed_dirty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_arm_lpae_s1_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_arm_lpae_s1_dbm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgtable_arm_lpae_s1_permissions, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("pgtable_format", tests, NULL, NULL);
}
