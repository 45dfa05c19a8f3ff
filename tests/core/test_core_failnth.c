// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fail-the-Nth-allocation sweep over the core's error paths: a sequence
 * that creates an IOMMU over a memory map, a PASID device, strict and lazy
 * paging domains, attaches (device and PASID), maps (fixed and IOVA
 * allocating), DMA, unmaps (strict, lazy, flush), a revoke and a domain
 * destroy, is run with allocation N failing, for every N until it runs
 * through.  Each step is checked against its contract: STEP(call, errors)
 * lists the errors its Returns line documents that allocation failure may
 * cause, and any other error fails the test; MUST(call) is a step whose
 * contract has no allocation failure (unmap, dma_unmap, flush, DMA,
 * revoke, destroy: they never fail for lack of memory).  A failing step
 * must have changed nothing (checked where it can be seen: the translation
 * of what a failed map touched); then everything is torn down, and destroy
 * must never be refused (ASan checks that nothing leaks).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"

#include <softiommu/core.h>
#include <softiommu/mem.h>

#define PG	4096ull

struct objs {
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct siommu_mem_region *ram, *ram2;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
	struct siommu_domain *s, *l, *x;
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static bool err_in(int64_t r, const int *errs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r == errs[i])
			return true;
	return false;
}

/* A step that may fail with one of the errors its contract lists. */
#define STEP(call, ...)							\
	do {								\
		static const int __errs[] = { __VA_ARGS__ };		\
		int64_t __r = (call);					\
		if (__r < 0) {						\
			if (!err_in(__r, __errs, sizeof(__errs) / sizeof(__errs[0])))	\
				fail_msg("%s: %s, not in its contract", #call,	\
					 siommu_errname((int)__r));	\
			return (int)__r;				\
		}							\
	} while (0)

/* A step whose contract has no allocation failure: it must succeed. */
#define MUST(call)							\
	do {								\
		int64_t __r = (call);					\
		if (__r < 0)						\
			fail_msg("%s: %s, but it cannot fail here", #call,	\
				 siommu_errname((int)__r));		\
	} while (0)

static int run_seq(struct objs *o)
{
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
	};
	struct siommu_iommu_caps caps = { .pasid_bits = 12 };
	struct siommu_translation t;
	uint64_t iova = 0;
	uint8_t buf[64];
	int64_t r;

	STEP(siommu_mem_add_ram(o->mem, 0x100000, 0x100000, &o->ram), -ENOMEM);
	STEP(siommu_mem_add_ram(o->mem, 0x400000, 0x10000, &o->ram2), -ENOMEM);
	STEP(siommu_iommu_create(o->ctx, &caps, o->mem, &o->iommu), -ENOMEM);
	STEP(siommu_device_create(o->iommu, SIOMMU_RID(0, 1, 2, 3), SIOMMU_DEV_PASID, 12,
				  &o->dev), -ENOMEM);
	STEP(siommu_domain_create(o->iommu, &cfg, &o->s), -ENOMEM);
	cfg.unmap_mode = SIOMMU_UNMAP_LAZY;
	cfg.fq_batch = 2;
	STEP(siommu_domain_create(o->iommu, &cfg, &o->l), -ENOMEM);
	cfg.unmap_mode = SIOMMU_UNMAP_STRICT;
	STEP(siommu_domain_create(o->iommu, &cfg, &o->x), -ENOMEM);
	MUST(siommu_device_attach(o->dev, o->s));
	/* pasid_attach allocates the PASID table leaf on first use: -ENOMEM. */
	STEP(siommu_pasid_attach(o->dev, 3000, o->l), -ENOMEM);

	r = siommu_domain_map(o->s, 0x10000000, 0x100000, 8 * PG, SIOMMU_PT_READ | SIOMMU_PT_WRITE);
	if (r == -ENOMEM) {
		/* Nothing stays mapped. */
		assert_int_equal(siommu_translate(o->dev, 0, 0x10000000, SIOMMU_ACC_READ, &t),
				 -ENOENT);
		return -ENOMEM;
	}
	assert_int_equal(r, 0);
	STEP(siommu_domain_map(o->s, 0x20000000, 0x400000, PG, SIOMMU_PT_READ), -ENOMEM);
	STEP(siommu_domain_map(o->l, 0x10000000, 0x100000, 4 * PG, SIOMMU_PT_READ), -ENOMEM);
	STEP(siommu_domain_dma_map(o->l, 0x104000, PG, SIOMMU_PT_READ, UINT64_MAX, &iova),
	     -ENOMEM);
	STEP(siommu_domain_map(o->x, 0x10000000, 0x100000, 16 * PG, SIOMMU_PT_READ), -ENOMEM);
	MUST(siommu_dma_write(o->dev, 0, 0x10000010, "hello", 5));
	MUST(siommu_dma_read(o->dev, 3000, 0x10000010, buf, 5));
	assert_memory_equal(buf, "hello", 5);

	/* Unmap never fails for lack of memory, not even in a record's middle. */
	r = siommu_domain_unmap(o->s, 0x10002000, PG);
	assert_int_equal(r, PG);
	assert_int_equal(siommu_translate(o->dev, 0, 0x10002000, SIOMMU_ACC_READ, &t), -ENOENT);
	MUST(siommu_domain_unmap(o->s, 0x10004000, PG));
	MUST(siommu_domain_unmap(o->l, 0x10000000, PG));
	MUST(siommu_domain_unmap(o->l, 0x10002000, PG));
	MUST(siommu_domain_dma_unmap(o->l, iova, PG));
	MUST(siommu_domain_flush(o->l));
	STEP(siommu_pasid_replace(o->dev, 3000, o->s), -ENOMEM);
	MUST(siommu_mem_region_revoke(o->ram2));
	assert_int_equal(siommu_translate(o->dev, 0, 0x20000000, SIOMMU_ACC_READ, &t), -ENOENT);
	/* The revoke tore down the record left with a hole, whole. */
	MUST(siommu_mem_region_revoke(o->ram));
	assert_int_equal(siommu_translate(o->dev, 0, 0x10003000, SIOMMU_ACC_READ, &t), -ENOENT);
	/* Destroy of a domain with mappings never fails either. */
	MUST(siommu_domain_destroy(o->x));
	o->x = NULL;
	return 0;
}

static void teardown_objs(struct objs *o)
{
	if (o->dev) {
		siommu_device_detach(o->dev);
		siommu_pasid_detach(o->dev, 3000);
		assert_int_equal(siommu_device_destroy(o->dev), 0);
	}
	assert_int_equal(siommu_domain_destroy(o->s), 0);
	assert_int_equal(siommu_domain_destroy(o->l), 0);
	assert_int_equal(siommu_domain_destroy(o->x), 0);
	assert_int_equal(siommu_iommu_destroy(o->iommu), 0);
	assert_int_equal(siommu_mem_region_destroy(o->ram), 0);
	assert_int_equal(siommu_mem_region_destroy(o->ram2), 0);
	assert_int_equal(siommu_mem_destroy(o->mem), 0);
	assert_int_equal(siommu_ctx_destroy(o->ctx), 0);
}

static void test_core_failnth_sweep(void **state)
{
	unsigned long n, absorbed = 0;
	int ret;

	if (!siommu_testing_build())
		skip();
	for (n = 1; n < 10000; n++) {
		struct objs o;
		long count;

		memset(&o, 0, sizeof(o));
		assert_int_equal(siommu_ctx_create(&o.ctx), 0);
		siommu_ctx_set_log(o.ctx, SIOMMU_LOG_ERR, quiet, NULL);
		assert_int_equal(siommu_mem_create(o.ctx, &o.mem), 0);
		assert_int_equal(siommu_test_fail_nth(n), 0);
		ret = run_seq(&o);
		count = siommu_test_alloc_count();
		siommu_test_fail_nth(0);
		teardown_objs(&o);
		/*
		 * Done only when the sequence made fewer than n allocations: a
		 * step that absorbs a failure (a fallback) must not end the sweep
		 * before the later steps' allocations were failed too.
		 */
		if (ret == 0 && count < (long)n)
			break;
		if (ret == 0)
			absorbed++;
		else
			assert_int_equal(ret, -ENOMEM);
	}
	print_message("# the sequence ran through with allocation %lu failing"
		      " (%lu failures absorbed by fallbacks)\n", n, absorbed);
	assert_true(n > 10 && n < 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_failnth_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
