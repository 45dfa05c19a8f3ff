// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Regression test (found while writing tests/core/test_core_diff.c, whose
 * --priv runs shrink it to 4 calls): an IOTLB entry
 * filled by a privileged request must not serve an unprivileged one the
 * page table refuses.
 *
 * A page mapped supervisor-only (SIOMMU_PT_PRIV: x86-64 U/S clear, Arm
 * AP[1] clear) allows a request with SIOMMU_ACC_PRIV and refuses one
 * without (-EACCES), as siommu_pt_translate_rcu() says.  Through the core,
 * a privileged translation walks and inserts the entry (prot has PRIV);
 * iotlb_prot_ok() in src/core/translate.c then lets any later READ or
 * WRITE hit it without looking at PRIV, so an unprivileged translation,
 * and a device's DMA (which is unprivileged), succeed on a supervisor-only
 * page until the entry is evicted or invalidated.  A fresh walk (or the
 * same request before the privileged one) is refused.
 *
 * Plain TAP.  Seen failing before the fix (iotlb_prot_ok() now refuses a
 * hit on an entry with PRIV).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <softiommu/core.h>
#include <softiommu/mem.h>

static int check(enum siommu_pt_fmt fmt, char *why, size_t len)
{
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING, .fmt = fmt };
	static uint8_t ram[0x10000] __attribute__((aligned(4096)));
	struct siommu_mem_region *r = NULL;
	struct siommu_iommu *iommu = NULL;
	struct siommu_domain *dom = NULL;
	struct siommu_device *dev = NULL;
	struct siommu_translation t;
	struct siommu_mem *mem = NULL;
	struct siommu_ctx *ctx = NULL;
	int bad = 0, a, b, c, d;
	uint8_t byte = 0;

	if (siommu_ctx_create(&ctx) || siommu_mem_create(ctx, &mem) ||
	    siommu_mem_add_host(mem, 0x100000, ram, sizeof(ram), &r) ||
	    siommu_iommu_create(ctx, NULL, mem, &iommu) ||
	    siommu_device_create(iommu, SIOMMU_RID(0, 1, 0, 0), 0, 0, &dev) ||
	    siommu_domain_create(iommu, &cfg, &dom) || siommu_device_attach(dev, dom) ||
	    siommu_domain_map(dom, 0x10000, 0x100000, 0x1000,
			      SIOMMU_PT_READ | SIOMMU_PT_WRITE | SIOMMU_PT_PRIV)) {
		snprintf(why, len, "setup failed");
		return 1;
	}
	/* Before any privileged request: refused, as the table says. */
	a = siommu_translate(dev, 0, 0x10000, SIOMMU_ACC_READ, &t);
	/* A privileged request: allowed (and cached). */
	b = siommu_translate(dev, 0, 0x10000, SIOMMU_ACC_READ | SIOMMU_ACC_PRIV, &t);
	/* The same unprivileged request and a DMA read again: must still be refused. */
	c = siommu_translate(dev, 0, 0x10000, SIOMMU_ACC_READ, &t);
	d = siommu_dma_read(dev, 0, 0x10000, &byte, 1);
	if (a != -EACCES || b != 0 || c != -EACCES || d != -EACCES) {
		snprintf(why, len, "%s: unprivileged %s, privileged %s, unprivileged again %s "
			 "(iotlb_hit %d), DMA %s; want EACCES, OK, EACCES, EACCES",
			 siommu_pt_fmt_name(fmt), siommu_errname(a), siommu_errname(b),
			 siommu_errname(c), t.iotlb_hit, siommu_errname(d));
		bad = 1;
	}
	siommu_device_detach(dev);
	siommu_device_destroy(dev);
	siommu_domain_destroy(dom);
	siommu_iommu_destroy(iommu);
	siommu_mem_region_destroy(r);
	siommu_mem_destroy(mem);
	siommu_ctx_destroy(ctx);
	return bad;
}

int main(void)
{
	static const enum siommu_pt_fmt fmts[] = { SIOMMU_PT_FMT_X86_64,
						   SIOMMU_PT_FMT_ARM_LPAE_S1 };
	char why[2][256] = { "", "" };
	int bad = 0;
	unsigned int i;

	for (i = 0; i < 2; i++)
		bad |= check(fmts[i], why[i], sizeof(why[i]));
	printf("1..1\n");
	for (i = 0; i < 2; i++)
		if (why[i][0])
			printf("# %s\n", why[i]);
	if (!bad)
		printf("ok 1 - an IOTLB entry of a privileged request does not serve an "
		       "unprivileged one\n");
	else
		printf("not ok 1 - an IOTLB entry of a privileged request serves an unprivileged "
		       "one\n");
	return 0;
}
