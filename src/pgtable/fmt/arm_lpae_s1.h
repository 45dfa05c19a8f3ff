/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Arm VMSAv8-64 stage 1, 4 KiB granule, 48-bit input: 4 levels, lookup
 * levels 0 to 3 (here levels 3 to 0: Arm's level 3 holds the 4 KiB pages).
 *
 * Sources: Arm ARM (DDI 0487) D8.3 "Translation table descriptor formats"
 * (table, block and page descriptors), D8.4 (memory attributes, AttrIndx),
 * D8.5 (hardware management of the dirty state, DBM); Linux
 * drivers/iommu/io-pgtable-arm.c (ARM_LPAE_PTE_*, arm_lpae_prot_to_pte())
 * for what Linux writes.
 *
 * Descriptor layout (64 bits), as written here:
 *
 *   bits 1:0      0b11 table (Arm levels 0-2) or page (Arm level 3);
 *                 0b01 block (Arm levels 1 and 2: 1 GiB, 2 MiB);
 *                 bit 0 clear: invalid
 *   bits 4:2      AttrIndx: MAIR index 0 non-cacheable, 1 cacheable
 *                 (SIOMMU_PT_CACHE), 2 device (SIOMMU_PT_MMIO); Linux's MAIR
 *   bit  5  NS    non-secure (left 0)
 *   bit  6  AP[1] unprivileged (EL0) access allowed (not SIOMMU_PT_PRIV)
 *   bit  7  AP[2] read-only
 *   bits 9:8 SH   shareability: 3 inner (CACHE), 2 outer (otherwise)
 *   bit 10  AF    access flag: set at map (no hardware AF management)
 *   bit 11  nG    not global: always set, as Linux does
 *   bits 47:12    address of the next table or of the 4 KiB page
 *   bits 47:21    address of a 2 MiB block;  bits 47:30  of a 1 GiB block
 *   bit 51  DBM   dirty bit modifier (SIOMMU_PT_F_DIRTY: hardware dirty
 *                 state management, Linux's IO_PGTABLE_QUIRK_ARM_HD)
 *   bit 53  PXN   } both set for SIOMMU_PT_NOEXEC (Linux's ARM_LPAE_PTE_XN)
 *   bit 54  UXN   }
 *   bits 63:59    table attributes (NSTable, APTable, XNTable: left 0)
 *
 * Table descriptors: address | 0b11.
 * Leaves: address | type | AF | nG | SH | AttrIndx | (PRIV ? 0 : AP[1])
 *         | (NOEXEC ? PXN|UXN) | write permission, which is:
 *           read-only:                         AP[2]
 *           writable, no dirty tracking:       nothing
 *           writable with SIOMMU_PT_F_DIRTY:   DBM | AP[2]  (writable-clean;
 *             a write clears AP[2]: writable-dirty is DBM with AP[2] clear;
 *             reading-and-clearing the dirty state sets AP[2] again)
 * Valid implies readable: a WRITE-only mapping reads back READ|WRITE.
 * Difference from Linux: Linux starts writable mappings dirty (DBM alone);
 * here every format starts clean.
 */
#ifndef SIOMMU_PGTABLE_FMT_ARM_LPAE_S1_H
#define SIOMMU_PGTABLE_FMT_ARM_LPAE_S1_H

#include <errno.h>
#include "../pt_internal.h"

#define ARM_TYPE_MASK		3ull
#define ARM_TYPE_BLOCK		1ull
#define ARM_TYPE_TABLE		3ull
#define ARM_TYPE_PAGE		3ull
#define ARM_ATTRIDX_SHIFT	2
#define ARM_ATTRIDX_MASK	(7ull << ARM_ATTRIDX_SHIFT)
#define ARM_MAIR_NC		0ull
#define ARM_MAIR_CACHE		1ull
#define ARM_MAIR_DEV		2ull
#define ARM_AP_UNPRIV		(1ull << 6)
#define ARM_AP_RDONLY		(1ull << 7)
#define ARM_SH_OS		(2ull << 8)
#define ARM_SH_IS		(3ull << 8)
#define ARM_AF			(1ull << 10)
#define ARM_NG			(1ull << 11)
#define ARM_DBM			(1ull << 51)
#define ARM_PXN			(1ull << 53)
#define ARM_UXN			(1ull << 54)
#define ARM_ADDR_MASK		0x0000fffffffff000ull	/* bits 47:12 */

static inline bool arm_lpae_s1pt_present(const struct siommu_pt *pt, uint64_t e,
					 unsigned int level)
{
	/* 0b01 at Arm level 3 (ours 0) and at Arm level 0 (ours 3) is invalid. */
	if ((e & ARM_TYPE_MASK) == ARM_TYPE_BLOCK)
		return level >= 1 && level < PT_LEAF_LEVELS;
	return (e & ARM_TYPE_MASK) == ARM_TYPE_TABLE;
}

static inline bool arm_lpae_s1pt_is_leaf(uint64_t e, unsigned int level)
{
	return level == 0 || (e & ARM_TYPE_MASK) == ARM_TYPE_BLOCK;
}

static inline uint64_t arm_lpae_s1pt_table_pa(uint64_t e)
{
	return e & ARM_ADDR_MASK;
}

static inline uint64_t arm_lpae_s1pt_leaf_pa(uint64_t e, unsigned int level)
{
	return e & ARM_ADDR_MASK & ~(pt_level_size(level) - 1);
}

static inline uint64_t arm_lpae_s1pt_mk_table(const struct siommu_pt *pt, uint64_t pa)
{
	return pa | ARM_TYPE_TABLE;
}

static inline uint64_t arm_lpae_s1pt_mk_leaf(const struct siommu_pt *pt, uint64_t pa,
					     unsigned int level, unsigned int prot)
{
	uint64_t e = pa | ARM_AF | ARM_NG;

	e |= level ? ARM_TYPE_BLOCK : ARM_TYPE_PAGE;
	if (!(prot & SIOMMU_PT_WRITE))
		e |= ARM_AP_RDONLY;
	else if (pt->flags & SIOMMU_PT_F_DIRTY)
		e |= ARM_DBM | ARM_AP_RDONLY;	/* writable-clean */
	if (!(prot & SIOMMU_PT_PRIV))
		e |= ARM_AP_UNPRIV;
	if (prot & SIOMMU_PT_MMIO)
		e |= ARM_MAIR_DEV << ARM_ATTRIDX_SHIFT;
	else if (prot & SIOMMU_PT_CACHE)
		e |= ARM_MAIR_CACHE << ARM_ATTRIDX_SHIFT;
	e |= (prot & SIOMMU_PT_CACHE) ? ARM_SH_IS : ARM_SH_OS;
	if (prot & SIOMMU_PT_NOEXEC)
		e |= ARM_PXN | ARM_UXN;
	return e;
}

static inline bool arm_lpae_s1pt_writable(const struct siommu_pt *pt, uint64_t e)
{
	return !(e & ARM_AP_RDONLY) ||
	       ((pt->flags & SIOMMU_PT_F_DIRTY) && (e & ARM_DBM));
}

static inline unsigned int arm_lpae_s1pt_leaf_prot(const struct siommu_pt *pt,
						   uint64_t e)
{
	unsigned int prot = SIOMMU_PT_READ;
	uint64_t idx = (e & ARM_ATTRIDX_MASK) >> ARM_ATTRIDX_SHIFT;

	if (arm_lpae_s1pt_writable(pt, e))
		prot |= SIOMMU_PT_WRITE;
	if (!(e & ARM_AP_UNPRIV))
		prot |= SIOMMU_PT_PRIV;
	if (idx == ARM_MAIR_DEV)
		prot |= SIOMMU_PT_MMIO;
	if (idx == ARM_MAIR_CACHE)
		prot |= SIOMMU_PT_CACHE;
	if ((e & (ARM_PXN | ARM_UXN)) == (ARM_PXN | ARM_UXN))
		prot |= SIOMMU_PT_NOEXEC;
	return prot;
}

static inline int arm_lpae_s1pt_access(const struct siommu_pt *pt, uint64_t e,
				       unsigned int access, uint64_t *newe)
{
	bool priv = access & SIOMMU_PT_ACC_PRIV;

	if (!(e & ARM_AF))
		return -EACCES;			/* access flag fault */
	if (!priv && !(e & ARM_AP_UNPRIV))
		return -EACCES;
	if ((access & SIOMMU_PT_ACC_EXEC) && (e & (priv ? ARM_PXN : ARM_UXN)))
		return -EACCES;
	*newe = e;
	if (access & SIOMMU_PT_ACC_WRITE) {
		if (!arm_lpae_s1pt_writable(pt, e))
			return -EACCES;
		*newe = e & ~ARM_AP_RDONLY;	/* DBM: the write makes it dirty */
	}
	return 0;
}

static inline bool arm_lpae_s1pt_has_dirty(const struct siommu_pt *pt)
{
	return pt->flags & SIOMMU_PT_F_DIRTY;
}

static inline bool arm_lpae_s1pt_dirty(const struct siommu_pt *pt, uint64_t e)
{
	return (e & (ARM_DBM | ARM_AP_RDONLY)) == ARM_DBM;
}

static inline uint64_t arm_lpae_s1pt_clean(const struct siommu_pt *pt, uint64_t e)
{
	return e | ARM_AP_RDONLY;
}

static inline unsigned int arm_lpae_s1pt_ias(unsigned int levels)
{
	return 48;
}

#define ARM_LPAE_S1PT_MIN_LEVELS	4
#define ARM_LPAE_S1PT_MAX_LEVELS	4
#define ARM_LPAE_S1PT_DEFAULT_LEVELS	4
#define ARM_LPAE_S1PT_MAX_OAS		48
#define ARM_LPAE_S1PT_FLAGS		SIOMMU_PT_F_DIRTY
#define ARM_LPAE_S1PT_DUMP_NAMES	{ "L0", "L1", "L2", "L3" }

#endif
