/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The demo's I/O page-fault part (demo_iopf.c), called once from demo.c. */
#ifndef SOFTIOMMU_TOOL_DEMO_IOPF_H
#define SOFTIOMMU_TOOL_DEMO_IOPF_H

#include <stdbool.h>

#include <softiommu/base.h>

struct demo_iopf_check {
	const char *what;
	bool ok;
	char detail[200];
};

/*
 * Run the part on a context and IOMMU of its own; a summary line when
 * @print.  Fills up to @max invariants and returns how many.
 */
unsigned int demo_iopf_part(bool print, struct demo_iopf_check *out, unsigned int max);

#endif
