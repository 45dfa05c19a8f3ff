/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The permission semantics of each page-table format, written from the
 * table in docs/modules/pgtable.md (not from the format code): what a leaf
 * mapped with SIOMMU_PT_* @prot reports, and whether it allows an access.
 * Shared by the reference models of tests/pgtable/test_pgtable_diff.c and
 * tests/core/test_core_diff.c.
 */
#ifndef SOFTIOMMU_TEST_PT_PERM_MODEL_H
#define SOFTIOMMU_TEST_PT_PERM_MODEL_H

#include <stdbool.h>

#include <softiommu/pgtable.h>

/* The permissions a leaf mapped with @prot reports, per format. */
static inline unsigned int pt_model_prot(enum siommu_pt_fmt fmt, unsigned int flags,
					 unsigned int prot)
{
	unsigned int out = 0;

	switch (fmt) {
	case SIOMMU_PT_FMT_X86_64:
		/* READ implied by P; CACHE is the default (WB), not a bit */
		out = SIOMMU_PT_READ | (prot & (SIOMMU_PT_WRITE | SIOMMU_PT_PRIV |
						 SIOMMU_PT_MMIO | SIOMMU_PT_NOEXEC));
		break;
	case SIOMMU_PT_FMT_VTD_SS:
		/* R, W, SNP; X only with SLEE; no PRIV, no MMIO */
		out = prot & (SIOMMU_PT_READ | SIOMMU_PT_WRITE | SIOMMU_PT_CACHE);
		if (flags & SIOMMU_PT_F_EXEC)
			out |= prot & SIOMMU_PT_NOEXEC;
		break;
	case SIOMMU_PT_FMT_ARM_LPAE_S1:
		/* READ implied by valid; one memory attribute: device wins over cacheable */
		out = SIOMMU_PT_READ | (prot & (SIOMMU_PT_WRITE | SIOMMU_PT_PRIV |
						 SIOMMU_PT_NOEXEC));
		out |= (prot & SIOMMU_PT_MMIO) ? SIOMMU_PT_MMIO : (prot & SIOMMU_PT_CACHE);
		break;
	}
	return out;
}

/* Does a leaf mapped with @prot allow SIOMMU_PT_ACC_* @acc? */
static inline bool pt_model_allows(enum siommu_pt_fmt fmt, unsigned int flags,
				   unsigned int prot, unsigned int acc)
{
	bool r = acc & SIOMMU_PT_ACC_READ, w = acc & SIOMMU_PT_ACC_WRITE;
	bool x = acc & SIOMMU_PT_ACC_EXEC, priv = acc & SIOMMU_PT_ACC_PRIV;

	switch (fmt) {
	case SIOMMU_PT_FMT_X86_64:
	case SIOMMU_PT_FMT_ARM_LPAE_S1:
		/* Reads are implied by presence; a supervisor-only page refuses users. */
		if (w && !(prot & SIOMMU_PT_WRITE))
			return false;
		if (!priv && (prot & SIOMMU_PT_PRIV))
			return false;
		if (x && (prot & SIOMMU_PT_NOEXEC))
			return false;
		return true;
	case SIOMMU_PT_FMT_VTD_SS:
		if (r && !(prot & SIOMMU_PT_READ))
			return false;
		if (w && !(prot & SIOMMU_PT_WRITE))
			return false;
		if (x) {
			/* With SLEE: X = not NOEXEC; without, execute is checked as read. */
			if (flags & SIOMMU_PT_F_EXEC)
				return !(prot & SIOMMU_PT_NOEXEC);
			return prot & SIOMMU_PT_READ;
		}
		return true;
	}
	return false;
}

#endif
