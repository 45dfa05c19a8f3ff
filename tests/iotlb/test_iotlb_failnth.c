// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fail-the-Nth-allocation sweep over the IOTLB's flow
 * (tests/common/failnth.h): create (default and custom geometry),
 * inserts of every page size, lookups, invalidations by range, PASID,
 * domain and all, destroy.  The snapshot is every cached entry
 * (siommu_iotlb_for_each()).
 */
#include "failnth.h"

#include <softiommu/iotlb.h>

struct iotlb_world {
	struct siommu_ctx *ctx;
	struct siommu_iotlb *tlb, *tlb2;
};

static void iotlb_setup(void *world)
{
	struct iotlb_world *w = world;

	assert_int_equal(siommu_ctx_create(&w->ctx), 0);
}

static int entry_line(void *opaque, uint32_t domid, uint32_t pasid,
		      const struct siommu_iotlb_entry *e)
{
	fn_printf(opaque, "%u/%u 0x%llx->0x%llx 2^%u %x\n", domid, pasid,
		  (unsigned long long)e->iova, (unsigned long long)e->addr, e->size_lg2, e->prot);
	return 0;
}

static void iotlb_snapshot(void *world, struct fn_buf *b)
{
	struct iotlb_world *w = world;

	if (w->tlb)
		assert_int_equal(siommu_iotlb_for_each(w->tlb, entry_line, b), 0);
	fn_printf(b, "tlb2 %s\n", w->tlb2 ? "yes" : "no");
}

static int iotlb_run(struct fn_sweep *sw, void *world)
{
	struct iotlb_world *w = world;
	struct siommu_iotlb_config cfg = { .capacity = 64, .ways = 2 };
	struct siommu_iotlb_entry e;
	unsigned int i;

	FN_STEP(sw, siommu_iotlb_create(w->ctx, NULL, &w->tlb));
	FN_STEP(sw, siommu_iotlb_create(w->ctx, &cfg, &w->tlb2));
	for (i = 0; i < 24; i++) {
		unsigned int lg2 = i % 3 == 0 ? 30 : i % 3 == 1 ? 21 : 12;
		uint64_t iova = (uint64_t)i << 30 | (lg2 == 30 ? 0 : lg2 == 21 ? 0x200000 : 0x1000);
		struct siommu_iotlb_entry ins = { .iova = iova, .addr = iova ^ (1ull << 32),
						  .size_lg2 = lg2, .prot = 3 };
		uint32_t domid = 1 + (i & 3), pasid = i & 4 ? 7 : 0;
		struct siommu_iotlb_seq seq;

		FN_STEP(sw, siommu_iotlb_seq_begin(w->tlb, domid, pasid, iova, &seq));
		FN_STEP(sw, siommu_iotlb_insert(w->tlb, domid, pasid, &ins, &seq));
	}
	FN_STEP(sw, siommu_iotlb_lookup(w->tlb, 1, 0, 0x1234, &e));
	FN_STEP(sw, siommu_iotlb_inv_range(w->tlb, 2, 0, 0, 4ull << 30));
	FN_STEP(sw, siommu_iotlb_inv_pasid(w->tlb, SIOMMU_IOTLB_DOMID_ANY, 7));
	FN_STEP(sw, siommu_iotlb_inv_domain(w->tlb, 3));
	FN_STEP(sw, siommu_iotlb_inv_all(w->tlb));
	siommu_iotlb_destroy(w->tlb2);
	w->tlb2 = NULL;
	return 0;
}

static void iotlb_teardown(void *world)
{
	struct iotlb_world *w = world;

	siommu_iotlb_destroy(w->tlb);
	siommu_iotlb_destroy(w->tlb2);
	assert_int_equal(siommu_ctx_destroy(w->ctx), 0);
}

static void test_iotlb_failnth_flow(void **state)
{
	static const struct fn_flow flow = {
		.name = "iotlb", .world_size = sizeof(struct iotlb_world),
		.setup = iotlb_setup, .run = iotlb_run, .snapshot = iotlb_snapshot,
		.teardown = iotlb_teardown, .retry = true,
	};

	assert_true(fn_sweep(&flow) >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iotlb_failnth_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
