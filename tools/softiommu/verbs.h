/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What one module's run verbs need of another's objects.  Each accessor is
 * defined in the verbs file of the module that owns the object type.
 */
#ifndef SOFTIOMMU_TOOL_VERBS_H
#define SOFTIOMMU_TOOL_VERBS_H

#include <softiommu/mem.h>

/* The object type name mem-create registers its memory maps under. */
#define RUN_MEM_TYPE	"mem"

/* verbs_mem.c: the memory map of a mem-create object. */
struct siommu_mem *run_mem_of(void *obj);

#endif
