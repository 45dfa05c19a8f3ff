/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intel VT-d second-stage paging: 3, 4 or 5 levels (39-, 48-, 57-bit input,
 * AGAW 1, 2, 3).
 *
 * Sources: Intel VT-d specification (rev. 3.x/4.x) §9.8 "Second-Stage Paging
 * Entries" (SL-PML5E, SL-PML4E, SL-PDPE, SL-PDE, SL-PTE) and §3.7 (access
 * and dirty flags with SSADE); Linux drivers/iommu/intel/iommu.h (DMA_PTE_*)
 * for what Linux writes.
 *
 * Entry layout (64 bits), as written here:
 *
 *   bit  0  R     read allowed      } present = R or W (or X with SLEE);
 *   bit  1  W     write allowed     } checked in every entry on the path
 *   bit  2  X     execute allowed: only with SIOMMU_PT_F_EXEC (SLEE); then
 *                 set in table entries and in leaves without NOEXEC
 *   bits 5:3 EMT  extended memory type (leaves; left 0)
 *   bit  6  IPAT  ignore PAT (leaves; left 0)
 *   bit  7  PS    page size: 1 in an SL-PDPE (1 GiB) or SL-PDE (2 MiB) leaf;
 *                 0 in table entries; ignored in an SL-PTE (left 0)
 *   bit  8  A     accessed (leaves; set by the walker with SSADE, i.e.
 *                 SIOMMU_PT_F_DIRTY)
 *   bit  9  D     dirty (leaves; set by a write with SSADE)
 *   bit 11  SNP   snoop (leaves; SIOMMU_PT_CACHE)
 *   bits 51:12    address of the next table or of the 4 KiB page
 *   bits 51:21    address of a 2 MiB page;  bits 51:30  of a 1 GiB page
 *
 * Table entries: address | R | W (0x3), as Linux writes them (| X with SLEE).
 * Leaves: address | (READ ? R) | (WRITE ? W) | (PS for 2M/1G) | (CACHE ? SNP)
 *         | (SLEE and not NOEXEC ? X).  No PRIV, no MMIO attribute (ignored).
 * A write-only mapping (W without R) is valid in this format.
 */
#ifndef SIOMMU_PGTABLE_FMT_VTD_SS_H
#define SIOMMU_PGTABLE_FMT_VTD_SS_H

#include <errno.h>
#include "../pt_internal.h"

#define VTD_R		(1ull << 0)
#define VTD_W		(1ull << 1)
#define VTD_X		(1ull << 2)
#define VTD_PS		(1ull << 7)
#define VTD_A		(1ull << 8)
#define VTD_D		(1ull << 9)
#define VTD_SNP		(1ull << 11)
#define VTD_ADDR_MASK	0x000ffffffffff000ull	/* bits 51:12 */

static inline bool vtd_sspt_present(const struct siommu_pt *pt, uint64_t e,
				    unsigned int level)
{
	uint64_t mask = VTD_R | VTD_W;

	if (pt->flags & SIOMMU_PT_F_EXEC)
		mask |= VTD_X;
	return e & mask;
}

static inline bool vtd_sspt_is_leaf(uint64_t e, unsigned int level)
{
	return level == 0 || (level < PT_LEAF_LEVELS && (e & VTD_PS));
}

static inline uint64_t vtd_sspt_table_pa(uint64_t e)
{
	return e & VTD_ADDR_MASK;
}

static inline uint64_t vtd_sspt_leaf_pa(uint64_t e, unsigned int level)
{
	return e & VTD_ADDR_MASK & ~(pt_level_size(level) - 1);
}

static inline uint64_t vtd_sspt_mk_table(const struct siommu_pt *pt, uint64_t pa)
{
	uint64_t e = pa | VTD_R | VTD_W;

	if (pt->flags & SIOMMU_PT_F_EXEC)
		e |= VTD_X;
	return e;
}

static inline uint64_t vtd_sspt_mk_leaf(const struct siommu_pt *pt, uint64_t pa,
					unsigned int level, unsigned int prot)
{
	uint64_t e = pa;

	if (prot & SIOMMU_PT_READ)
		e |= VTD_R;
	if (prot & SIOMMU_PT_WRITE)
		e |= VTD_W;
	if (level)
		e |= VTD_PS;
	if (prot & SIOMMU_PT_CACHE)
		e |= VTD_SNP;
	if ((pt->flags & SIOMMU_PT_F_EXEC) && !(prot & SIOMMU_PT_NOEXEC))
		e |= VTD_X;
	return e;
}

static inline unsigned int vtd_sspt_leaf_prot(const struct siommu_pt *pt, uint64_t e)
{
	unsigned int prot = 0;

	if (e & VTD_R)
		prot |= SIOMMU_PT_READ;
	if (e & VTD_W)
		prot |= SIOMMU_PT_WRITE;
	if (e & VTD_SNP)
		prot |= SIOMMU_PT_CACHE;
	if ((pt->flags & SIOMMU_PT_F_EXEC) && !(e & VTD_X))
		prot |= SIOMMU_PT_NOEXEC;
	return prot;
}

static inline int vtd_sspt_access(const struct siommu_pt *pt, uint64_t e,
				  unsigned int access, uint64_t *newe)
{
	if ((access & SIOMMU_PT_ACC_READ) && !(e & VTD_R))
		return -EACCES;
	if ((access & SIOMMU_PT_ACC_WRITE) && !(e & VTD_W))
		return -EACCES;
	if (access & SIOMMU_PT_ACC_EXEC) {
		/* Without SLEE an execute request is checked as a read. */
		if (!(e & ((pt->flags & SIOMMU_PT_F_EXEC) ? VTD_X : VTD_R)))
			return -EACCES;
	}
	*newe = e;
	if (pt->flags & SIOMMU_PT_F_DIRTY)
		*newe |= VTD_A | ((access & SIOMMU_PT_ACC_WRITE) ? VTD_D : 0);
	return 0;
}

static inline bool vtd_sspt_has_dirty(const struct siommu_pt *pt)
{
	return pt->flags & SIOMMU_PT_F_DIRTY;
}

static inline bool vtd_sspt_dirty(const struct siommu_pt *pt, uint64_t e)
{
	return e & VTD_D;
}

static inline uint64_t vtd_sspt_clean(const struct siommu_pt *pt, uint64_t e)
{
	return e & ~VTD_D;
}

static inline unsigned int vtd_sspt_ias(unsigned int levels)
{
	return PT_PAGE_SHIFT + PT_ITEMS_LG2 * levels;	/* 39, 48, 57 */
}

#define VTD_SSPT_MIN_LEVELS	3
#define VTD_SSPT_MAX_LEVELS	5
#define VTD_SSPT_DEFAULT_LEVELS	3	/* QEMU's default: 39-bit AGAW */
#define VTD_SSPT_MAX_OAS	52
#define VTD_SSPT_FLAGS		(SIOMMU_PT_F_DIRTY | SIOMMU_PT_F_EXEC | SIOMMU_PT_F_LINUX)
/* The column names of Linux's debugfs, whatever the number of levels. */
#define VTD_SSPT_DUMP_NAMES	{ "PML5E", "PML4E", "PDPE", "PDE", "PTE" }

#endif
