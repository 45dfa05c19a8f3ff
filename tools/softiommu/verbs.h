/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What one module's run verbs need of another's objects.  Each accessor is
 * defined in the verbs file of the module that owns the object type.
 */
#ifndef SOFTIOMMU_TOOL_VERBS_H
#define SOFTIOMMU_TOOL_VERBS_H

#include <softiommu/core.h>
#include <softiommu/ioas.h>
#include <softiommu/mem.h>
#include <softiommu/pgtable.h>

/* The object type name mem-create registers its memory maps under. */
#define RUN_MEM_TYPE	"mem"

/* verbs_mem.c: the memory map of a mem-create object. */
struct siommu_mem *run_mem_of(void *obj);

/* The object type names of pt-create tables and domain-create domains. */
#define RUN_PT_TYPE	"pt"
#define RUN_DOMAIN_TYPE	"domain"

/*
 * verbs_pgtable.c: the table of a pt-create object.  The library counts
 * the domains translating through it (domain-create pt=): pt-destroy
 * is then refused with EBUSY by siommu_pt_destroy() itself.
 */
struct siommu_pt *run_pt_of(void *obj);

/* verbs_core.c: the domain of a domain-create object. */
struct siommu_domain *run_domain_of(void *obj);

/* The object type names of iommu-create IOMMUs, dev-create devices and mem-add regions. */
#define RUN_IOMMU_TYPE	"iommu"
#define RUN_DEV_TYPE	"device"
#define RUN_REGION_TYPE	"mem-region"

/* verbs_core.c: the IOMMU of an iommu-create object, the device of a dev-create one. */
struct siommu_iommu *run_iommu_of(void *obj);
struct siommu_device *run_device_of(void *obj);

/* The object type name of ioas-create IOASes; verbs_ioas.c: the IOAS of one. */
#define RUN_IOAS_TYPE	"ioas"
struct siommu_ioas *run_ioas_of(void *obj);
/* verbs_ioas.c: the name of @dom if it is an ioas-domain-create domain of the run, or NULL. */
const char *run_ioas_domain_name(struct run_ctx *rc, struct siommu_domain *dom);

/* verbs_mem.c: the region of a mem-add object, and its memory map. */
struct siommu_mem_region *run_region_of(void *obj);
struct siommu_mem *run_region_mem(void *obj);

#endif
