/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SVA and mirror faults through the iopf layer (seed 002): a group handler
 * per domain that resolves each page request of a group from the mm, as
 * Linux's iommu_sva_iopf_handler() calls handle_mm_fault() for each fault
 * of a group and answers the group once.
 *
 * Built only with the iopf module (src/mm/meson.build checks for its
 * header).  Bind or create with SIOMMU_SVA_NO_HANDLER /
 * SIOMMU_MIRROR_NO_HANDLER, then hand the domain to iopf here: its DMA
 * faults become page requests, processed inline (the handler is ATOMIC: it
 * never waits for a grace period; the mm's lock and the mirror lock are
 * never held across one), by workers or manually.
 *
 * Answers: every request resolved, SUCCESS; a request outside the mm's
 * areas or against their protection (-EFAULT, -EACCES, -ERANGE) or a gone
 * mm (-ENODEV), Invalid Request; no memory, Response Failure.  A mirror
 * fault that kept racing invalidations (-EAGAIN) answers SUCCESS: the
 * device translates again and, if the page is still missing, asks again.
 * Stop Markers need no work.
 */
#include <errno.h>

#include <softiommu/iopf.h>

#include "base/debug.h"
#include "mm/mm_internal.h"

struct sva_iopf_target {
	struct siommu_mm *mm;		/* SVA: fault the mm */
	struct siommu_mirror *mirror;	/* mirror: fault the mirror */
};

static enum siommu_page_resp_code code_of(int err)
{
	if (!err || err == -EAGAIN)
		return SIOMMU_PAGE_RESP_SUCCESS;
	if (err == -ENOMEM)
		return SIOMMU_PAGE_RESP_FAILURE;
	return SIOMMU_PAGE_RESP_INVALID;
}

static int resolve_group(struct siommu_mm *mm, struct siommu_mirror *m,
			 struct siommu_iopf_group *g)
{
	unsigned int n = siommu_iopf_group_count(g);

	for (unsigned int i = 0; i < n; i++) {
		const struct siommu_page_request *r = siommu_iopf_group_request(g, i);
		unsigned int access;
		int ret;

		if (!r || siommu_page_request_is_stop(r))
			continue;
		access = r->access & (SIOMMU_ACC_READ | SIOMMU_ACC_WRITE | SIOMMU_ACC_EXEC);
		ret = m ? siommu_mirror_fault(m, r->addr, access) :
			  siommu_mm_fault(mm, r->addr & ~0xfffull, access);
		if (ret && ret != -EAGAIN)
			return code_of(ret);
	}
	return SIOMMU_PAGE_RESP_SUCCESS;
}

static int sva_group_handle(void *opaque, struct siommu_iopf_group *g)
{
	return resolve_group(siommu_sva_mm(opaque), NULL, g);
}

static int mirror_group_handle(void *opaque, struct siommu_iopf_group *g)
{
	return resolve_group(NULL, opaque, g);
}

static const struct siommu_iopf_handler sva_handler = {
	.name = "mm.sva",
	.flags = SIOMMU_IOPF_HANDLER_ATOMIC,
	.handle = sva_group_handle,
};

static const struct siommu_iopf_handler mirror_handler = {
	.name = "mm.mirror",
	.flags = SIOMMU_IOPF_HANDLER_ATOMIC,
	.handle = mirror_group_handle,
};

/* Unbind and mirror destroy call this after the detach, before the domain goes. */
static void clear_iopf(void *opaque, struct siommu_domain *dom)
{
	SIOMMU_WARN_ON(siommu_iopf_domain_clear_handler(opaque, dom) != 0);
}

SIOMMU_API int siommu_sva_iopf_enable(struct siommu_sva *b, struct siommu_iopf *iopf)
{
	struct siommu_domain *dom;
	int ret;

	if (!b || !iopf)
		return -EINVAL;
	dom = siommu_sva_domain(b);
	if (!dom)
		return -ENODEV;
	ret = siommu_iopf_domain_set_handler(iopf, dom, &sva_handler, b);
	if (!ret)
		mm_sva_set_ext(b, clear_iopf, iopf);
	return ret;
}

SIOMMU_API int siommu_mirror_iopf_enable(struct siommu_mirror *m, struct siommu_iopf *iopf)
{
	int ret;

	if (!m || !iopf)
		return -EINVAL;
	ret = siommu_iopf_domain_set_handler(iopf, siommu_mirror_domain(m), &mirror_handler, m);
	if (!ret)
		mm_mirror_set_ext(m, clear_iopf, iopf);
	return ret;
}
