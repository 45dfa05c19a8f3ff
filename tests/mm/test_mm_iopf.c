// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SVA and mirror page requests through the iopf layer (built when the iopf
 * module is in the tree): a DMA fault becomes a page request, the mm's
 * group handler resolves it, the device gets SUCCESS and its retry
 * translates; a request outside the mm's areas is answered Invalid.
 */
#include <errno.h>
#include <stdint.h>

#include "test_common.h"

#include <softiommu/core.h>
#include <softiommu/iopf.h>
#include <softiommu/mm.h>

#define RW	(SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE)

struct resp {
	int n;
	enum siommu_page_resp_code last;
};

static void on_resp(void *opaque, struct siommu_device *dev, const struct siommu_page_response *r)
{
	struct resp *c = opaque;

	c->n++;
	c->last = r->code;
}

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static void test_mm_iopf_sva_and_mirror(void **state)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct siommu_mirror_cfg mc = { .flags = SIOMMU_MIRROR_NO_HANDLER };
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
	struct siommu_iopf *iopf;
	struct siommu_mm *mm;
	struct siommu_sva *b;
	struct siommu_mirror *m;
	struct resp c = { 0 };
	uint64_t a, v = 77, r = 0;

	(void)state;
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_iommu_create(ctx, &caps, NULL, &iommu), 0);
	assert_int_equal(siommu_device_create(iommu, SIOMMU_RID(0, 4, 0, 0),
					      SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &dev), 0);
	assert_int_equal(siommu_iopf_create(iommu, NULL, &iopf), 0);	/* INLINE */
	assert_int_equal(siommu_iopf_device_enable(iopf, dev, on_resp, &c), 0);
	assert_int_equal(siommu_mm_create(ctx, NULL, &mm), 0);
	assert_int_equal(siommu_mm_mmap(mm, 0, 1 << 21, RW, SIOMMU_MM_MAP_ANON, -1, 0, &a), 0);
	assert_int_equal(siommu_mm_write(mm, a + 8, &v, 8), 0);

	/* SVA: the fault is a page request; resolved inline; the retry works. */
	assert_int_equal(siommu_sva_bind(mm, iommu, dev, 3, SIOMMU_SVA_NO_HANDLER, &b), 0);
	assert_int_equal(siommu_sva_iopf_enable(b, iopf), 0);
	assert_int_equal(siommu_dma_read(dev, 3, a + 8, &r, 8), 0);	/* mapped by the CPU */
	assert_int_equal(r, 77);
	/* A discard splits the huge page: its pieces are mapped again on demand. */
	assert_int_equal(siommu_mm_madvise(mm, a + 4096, 4096, SIOMMU_MM_MADV_DONTNEED), 0);
	assert_int_equal(siommu_dma_write(dev, 3, a + (1 << 20), &v, 8), -EAGAIN);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.last, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(siommu_dma_write(dev, 3, a + (1 << 20), &v, 8), 0);
	assert_int_equal(siommu_mm_read(mm, a + (1 << 20), &r, 8), 0);
	assert_int_equal(r, 77);
	/* Outside every area: Invalid Request. */
	assert_int_equal(siommu_dma_read(dev, 3, a + (4 << 20), &r, 8), -EAGAIN);
	assert_int_equal(c.last, SIOMMU_PAGE_RESP_INVALID);
	assert_int_equal(siommu_sva_unbind(b), 0);	/* clears iopf's handler too */

	/* A mirror: the same through its own table. */
	assert_int_equal(siommu_mirror_create(mm, iommu, &mc, &m), 0);
	assert_int_equal(siommu_mirror_iopf_enable(m, iopf), 0);
	assert_int_equal(siommu_device_attach(dev, siommu_mirror_domain(m)), 0);
	c.n = 0;
	assert_int_equal(siommu_dma_read(dev, SIOMMU_NO_PASID, a + 8, &r, 8), -EAGAIN);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.last, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(siommu_dma_read(dev, SIOMMU_NO_PASID, a + 8, &r, 8), 0);
	assert_int_equal(r, 77);
	assert_int_equal(siommu_device_detach(dev), 0);
	assert_int_equal(siommu_mirror_destroy(m), 0);

	siommu_mm_destroy(mm);
	assert_int_equal(siommu_iopf_device_disable(iopf, dev), 0);
	assert_int_equal(siommu_iopf_destroy(iopf), 0);
	assert_int_equal(siommu_device_destroy(dev), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mm_iopf_sva_and_mirror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
