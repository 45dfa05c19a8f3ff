// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Resolve by mapping: a domain filled lazily from a backing IOAS by the
 * iopf worker pool.  A DMA to a backed page faults (-EAGAIN), the group is
 * answered Success once the page is mapped, and the retried DMA reads the
 * backing memory; unbacked addresses and missing permissions are answered
 * Invalid; a group of several pages maps them all; INLINE mode refuses the
 * resolver (it takes the IOAS's lock, which no reader may take); an unmap
 * of the backing range unmaps (and unpins) what the resolver mapped from it
 * before it returns, and clearing the resolver unmaps everything it mapped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "test_common.h"
#include "iopf_test.h"

#include <softiommu/core.h>
#include <softiommu/ioas.h>
#include <softiommu/mem.h>

#define RID_A	SIOMMU_RID(0, 4, 0, 0)
#define PG	4096ull
#define RW_IOVA	0x100000ull		/* 4 pages, read-write */
#define RO_IOVA	0x200000ull		/* 1 page, read-only */

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_iopf *iopf;
	struct siommu_ioas_layer *l;
	struct siommu_ioas *backing;
	struct siommu_device *a;
	struct siommu_domain *dom;
	uint8_t *mem;			/* 5 pages */
	struct rec ra;
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static int setup(void **state)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_WORKERS, .workers = 2 };
	struct fixture *f = calloc(1, sizeof(*f));
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST };
	uint64_t iova;
	unsigned int i;

	if (!f || siommu_ctx_create(&f->ctx))
		return -1;
	siommu_ctx_set_log(f->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	rec_init(&f->ra);
	f->mem = mmap(NULL, 5 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->mem == MAP_FAILED)
		return -1;
	for (i = 0; i < 5 * PG; i++)
		f->mem[i] = (uint8_t)(i / PG + 0x10);
	if (siommu_iommu_create(f->ctx, &caps, NULL, &f->iommu) ||
	    siommu_iopf_create(f->iommu, &icfg, &f->iopf) ||
	    siommu_ioas_layer_create(f->ctx, f->iommu, &f->l) ||
	    siommu_ioas_create(f->l, &f->backing) ||
	    siommu_device_create(f->iommu, RID_A, SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &f->a) ||
	    siommu_domain_create(f->iommu, &cfg, &f->dom))
		return -1;
	m.host = f->mem;
	iova = RW_IOVA;
	if (siommu_ioas_map(f->backing, &m, 4 * PG, SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_WRITE |
			    SIOMMU_IOAS_MAP_FIXED_IOVA, &iova))
		return -1;
	m.host = f->mem + 4 * PG;
	iova = RO_IOVA;
	if (siommu_ioas_map(f->backing, &m, PG, SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_FIXED_IOVA,
			    &iova) ||
	    siommu_iopf_domain_set_resolver(f->iopf, f->dom, f->backing) ||
	    siommu_iopf_device_enable(f->iopf, f->a, rec_fn, &f->ra) ||
	    siommu_device_attach(f->a, f->dom) || siommu_pasid_attach(f->a, 3, f->dom))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(siommu_pasid_detach(f->a, 3), 0);
	assert_int_equal(siommu_device_detach(f->a), 0);
	assert_int_equal(siommu_iopf_device_disable(f->iopf, f->a), 0);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->dom), 0);
	assert_int_equal(siommu_domain_destroy(f->dom), 0);
	assert_int_equal(siommu_device_destroy(f->a), 0);
	assert_int_equal(siommu_iopf_destroy(f->iopf), 0);
	assert_int_equal(siommu_ioas_destroy(f->backing), 0);
	assert_int_equal(siommu_ioas_layer_destroy(f->l), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	munmap(f->mem, 5 * PG);
	free(f);
	return 0;
}

static void wait_responses(struct fixture *f, unsigned int n)
{
	double t0 = test_now_s();

	while (rec_count(&f->ra) < n && test_now_s() - t0 < 30)
		usleep(200);
	assert_int_equal(rec_count(&f->ra), n);
}

static void test_resolve_dma_retry(void **state)
{
	struct fixture *f = *state;
	uint8_t b[2] = { 0 };

	assert_int_equal(siommu_dma_read(f->a, 3, RW_IOVA + PG + 5, b, 1), -EAGAIN);
	wait_responses(f, 1);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(siommu_dma_read(f->a, 3, RW_IOVA + PG + 5, b, 1), 0);
	assert_int_equal(b[0], 0x11);
	/* the device's own (no-PASID) requests too; writes reach the memory */
	assert_int_equal(siommu_dma_write(f->a, 0, RW_IOVA + 2 * PG, "\x77", 1), -EAGAIN);
	wait_responses(f, 2);
	assert_int_equal(siommu_dma_write(f->a, 0, RW_IOVA + 2 * PG, "\x77", 1), 0);
	assert_int_equal(f->mem[2 * PG], 0x77);
}

static void test_resolve_invalid(void **state)
{
	struct fixture *f = *state;
	uint8_t b = 0;

	/* not backed */
	assert_int_equal(siommu_dma_read(f->a, 3, 0x900000, &b, 1), -EAGAIN);
	wait_responses(f, 1);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_INVALID);
	/* backed read-only: a write cannot be given */
	assert_int_equal(siommu_dma_write(f->a, 3, RO_IOVA, &b, 1), -EAGAIN);
	wait_responses(f, 2);
	assert_int_equal(f->ra.r[1].code, SIOMMU_PAGE_RESP_INVALID);
	/* ... a read can */
	assert_int_equal(siommu_dma_read(f->a, 3, RO_IOVA, &b, 1), -EAGAIN);
	wait_responses(f, 3);
	assert_int_equal(f->ra.r[2].code, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(siommu_dma_read(f->a, 3, RO_IOVA, &b, 1), 0);
	assert_int_equal(b, 0x14);
}

static void test_resolve_group(void **state)
{
	struct fixture *f = *state;
	struct siommu_page_request r;
	struct siommu_translation t;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		r = preq(3, 17, i == 3, RW_IOVA + i * PG);
		assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), 0);
	}
	wait_responses(f, 1);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(f->ra.r[0].prgi, 17);
	for (i = 0; i < 4; i++) {
		assert_int_equal(siommu_translate(f->a, 3, RW_IOVA + i * PG, SIOMMU_ACC_READ, &t), 0);
		assert_int_equal(t.pa, (uint64_t)(uintptr_t)(f->mem + i * PG));
	}
	/* a group with one unbacked page is Invalid */
	r = preq(3, 18, false, RW_IOVA);
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), 0);
	r = preq(3, 18, true, 0x900000);
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), 0);
	wait_responses(f, 2);
	assert_int_equal(f->ra.r[1].code, SIOMMU_PAGE_RESP_INVALID);
}

/*
 * An unmap of the backing range unmaps what the resolver mapped from it
 * before it returns (the old resolver left those pages mapped: the DMA
 * after the unmap read the memory the IOAS no longer maps).
 */
static void test_resolve_ioas_unmap(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST, .host = f->mem };
	struct siommu_translation t;
	struct siommu_ioas_info ii;
	uint64_t iova = RW_IOVA, unmapped = 0;
	uint8_t b = 0;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(siommu_dma_read(f->a, 3, RW_IOVA + i * PG, &b, 1), -EAGAIN);
		wait_responses(f, i + 1);
		assert_int_equal(f->ra.r[i].code, SIOMMU_PAGE_RESP_SUCCESS);
	}
	assert_int_equal(siommu_dma_read(f->a, 0, RO_IOVA, &b, 1), -EAGAIN);
	wait_responses(f, 4);
	assert_int_equal(siommu_translate(f->a, 3, RW_IOVA + PG, SIOMMU_ACC_READ, &t), 0);

	assert_int_equal(siommu_ioas_unmap(f->backing, RW_IOVA, 4 * PG, &unmapped), 0);
	assert_int_equal(unmapped, 4 * PG);
	for (i = 0; i < 4; i++)
		assert_int_not_equal(siommu_translate(f->a, 3, RW_IOVA + i * PG, SIOMMU_ACC_READ,
						      &t), 0);
	assert_int_equal(siommu_dma_read(f->a, 3, RW_IOVA + PG, &b, 1), -EAGAIN);
	wait_responses(f, 5);
	assert_int_equal(f->ra.r[4].code, SIOMMU_PAGE_RESP_INVALID);	/* not backed now */
	/* the other area's page stays */
	assert_int_equal(siommu_translate(f->a, 0, RO_IOVA, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_ioas_get_info(f->backing, &ii), 0);
	assert_int_equal(ii.pinned_pages, 1);	/* each page mapped is pinned */
	assert_int_equal(ii.accesses, 1);

	/* backed again: faults map it again, from the new area */
	assert_int_equal(siommu_ioas_map(f->backing, &m, 4 * PG, SIOMMU_IOAS_MAP_READ |
					 SIOMMU_IOAS_MAP_FIXED_IOVA, &iova), 0);
	assert_int_equal(siommu_dma_read(f->a, 3, RW_IOVA + PG, &b, 1), -EAGAIN);
	wait_responses(f, 6);
	assert_int_equal(f->ra.r[5].code, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(siommu_dma_read(f->a, 3, RW_IOVA + PG, &b, 1), 0);
	assert_int_equal(b, 0x11);
	/* read-only now: a write is Invalid */
	assert_int_equal(siommu_dma_write(f->a, 3, RW_IOVA + PG, &b, 1), -EAGAIN);
	wait_responses(f, 7);
	assert_int_equal(f->ra.r[6].code, SIOMMU_PAGE_RESP_INVALID);

	/* clearing the resolver unmaps and unpins what it mapped */
	assert_int_equal(siommu_pasid_detach(f->a, 3), 0);
	assert_int_equal(siommu_device_detach(f->a), 0);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->dom), 0);
	assert_int_equal(siommu_ioas_get_info(f->backing, &ii), 0);
	assert_int_equal(ii.pinned_pages, 0);
	assert_int_equal(ii.accesses, 0);
	assert_int_equal(siommu_device_attach(f->a, f->dom), 0);
	assert_int_not_equal(siommu_translate(f->a, 0, RO_IOVA, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_device_detach(f->a), 0);
	assert_int_equal(siommu_iopf_domain_set_resolver(f->iopf, f->dom, f->backing), 0);
	assert_int_equal(siommu_device_attach(f->a, f->dom), 0);
	assert_int_equal(siommu_pasid_attach(f->a, 3, f->dom), 0);
}

/*
 * A revoke of the memory-map region an area maps: the resolver's pages of it
 * are unmapped from the domain and unpinned before the revoke returns (the
 * IOAS asks its accesses), later faults there are Invalid; the IOAS's other
 * region is untouched.
 */
static void test_resolve_revoke(void **state)
{
	struct siommu_iommu_caps caps = { 0 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_MANUAL };
	struct siommu_mem_region *ram, *other;
	struct siommu_translation t;
	struct siommu_ioas_info ii;
	struct siommu_ioas_layer *l;
	struct siommu_iommu *iommu;
	struct siommu_ioas *ioas;
	struct siommu_iopf *iopf;
	struct siommu_device *dev;
	struct siommu_domain *dom;
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct siommu_ioas_mem m;
	uint64_t iova = 0x10000, iova2 = 0x80000;
	struct rec r;
	uint8_t b = 0;

	(void)state;
	rec_init(&r);
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_mem_create(ctx, &mem), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x40000000, 4 * PG, &ram), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x50000000, 4 * PG, &other), 0);
	assert_int_equal(siommu_iommu_create(ctx, &caps, mem, &iommu), 0);
	assert_int_equal(siommu_ioas_layer_create(ctx, iommu, &l), 0);
	assert_int_equal(siommu_ioas_create(l, &ioas), 0);
	m = (struct siommu_ioas_mem){ .type = SIOMMU_IOAS_MEM_REGION, .mem = mem, .region = ram };
	assert_int_equal(siommu_ioas_map(ioas, &m, 4 * PG, SIOMMU_IOAS_MAP_READ |
					 SIOMMU_IOAS_MAP_WRITE | SIOMMU_IOAS_MAP_FIXED_IOVA, &iova), 0);
	m.region = other;
	assert_int_equal(siommu_ioas_map(ioas, &m, 4 * PG, SIOMMU_IOAS_MAP_READ |
					 SIOMMU_IOAS_MAP_FIXED_IOVA, &iova2), 0);
	assert_int_equal(siommu_iopf_create(iommu, &icfg, &iopf), 0);
	assert_int_equal(siommu_device_create(iommu, RID_A, SIOMMU_DEV_PRI, 0, &dev), 0);
	assert_int_equal(siommu_domain_create(iommu, &cfg, &dom), 0);
	assert_int_equal(siommu_iopf_domain_set_resolver(iopf, dom, ioas), 0);
	assert_int_equal(siommu_iopf_device_enable(iopf, dev, rec_fn, &r), 0);
	assert_int_equal(siommu_device_attach(dev, dom), 0);

	assert_int_equal(siommu_dma_write(dev, 0, 0x11000, "\x42", 1), -EAGAIN);
	assert_int_equal(siommu_dma_read(dev, 0, 0x80000, &b, 1), -EAGAIN);
	assert_int_equal(siommu_iopf_process(iopf, 0), 2);
	assert_int_equal(rec_count(&r), 2);
	assert_int_equal(r.r[0].code, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(r.r[1].code, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(siommu_dma_write(dev, 0, 0x11000, "\x42", 1), 0);
	assert_int_equal(siommu_translate(dev, 0, 0x11000, SIOMMU_ACC_WRITE, &t), 0);
	assert_int_equal(t.pa, 0x40001000);

	assert_int_equal(siommu_mem_region_revoke(ram), 0);
	assert_int_not_equal(siommu_translate(dev, 0, 0x11000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_translate(dev, 0, 0x80000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_ioas_get_info(ioas, &ii), 0);
	assert_int_equal(ii.pinned_pages, 1);	/* the other region's page only */
	assert_int_equal(siommu_dma_read(dev, 0, 0x11000, &b, 1), -EAGAIN);
	assert_int_equal(siommu_iopf_process(iopf, 0), 1);
	assert_int_equal(rec_count(&r), 3);
	assert_int_equal(r.r[2].code, SIOMMU_PAGE_RESP_INVALID);	/* revoked */

	assert_int_equal(siommu_device_detach(dev), 0);
	assert_int_equal(siommu_iopf_device_disable(iopf, dev), 0);
	assert_int_equal(siommu_iopf_domain_clear_handler(iopf, dom), 0);
	assert_int_equal(siommu_iopf_destroy(iopf), 0);
	assert_int_equal(siommu_domain_destroy(dom), 0);
	assert_int_equal(siommu_device_destroy(dev), 0);
	assert_int_equal(siommu_ioas_unmap_all(ioas, NULL), 0);
	assert_int_equal(siommu_ioas_destroy(ioas), 0);
	assert_int_equal(siommu_ioas_layer_destroy(l), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_mem_region_destroy(ram), 0);
	assert_int_equal(siommu_mem_region_destroy(other), 0);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

static void test_resolve_needs_workers(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_MANUAL };
	struct siommu_iopf *x;
	struct siommu_domain *d;

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	assert_int_equal(siommu_iopf_create(f->iommu, NULL, &x), 0);
	assert_int_equal(siommu_iopf_domain_set_resolver(x, d, f->backing), -EINVAL);
	assert_int_equal(siommu_iopf_destroy(x), 0);
	assert_int_equal(siommu_iopf_create(f->iommu, &icfg, &x), 0);
	assert_int_equal(siommu_iopf_domain_set_resolver(x, d, f->backing), 0);
	assert_int_equal(siommu_iopf_domain_set_resolver(x, d, f->backing), -EBUSY);
	assert_int_equal(siommu_iopf_destroy(x), -EBUSY);
	assert_int_equal(siommu_iopf_domain_clear_handler(x, d), 0);
	assert_int_equal(siommu_iopf_destroy(x), 0);
	assert_int_equal(siommu_domain_destroy(d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve_dma_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_ioas_unmap, setup, teardown),
		cmocka_unit_test(test_resolve_revoke),
		cmocka_unit_test_setup_teardown(test_resolve_needs_workers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
