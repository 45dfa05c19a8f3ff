/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * x86-64 paging, 4-level and 5-level: also the VT-d first-stage format.
 *
 * Sources: Intel SDM Vol. 3A §4.5 "4-Level Paging and 5-Level Paging",
 * Tables 4-15 to 4-20 (formats of PML5E, PML4E, PDPTE, PDE, PTE); Intel VT-d
 * specification §9.7 "First-Stage Paging Entries" (the same layout, with
 * U/S checked against the request's privilege).
 *
 * Entry layout (64 bits), as written here:
 *
 *   bit  0  P     present
 *   bit  1  R/W   writes allowed (in every entry on the path)
 *   bit  2  U/S   user (unprivileged) accesses allowed
 *   bit  3  PWT   page-level write-through      } memory type: 0/0 = WB;
 *   bit  4  PCD   page-level cache disable      } SIOMMU_PT_MMIO sets both (UC)
 *   bit  5  A     accessed (set by the walker, or preset on table entries)
 *   bit  6  D     dirty (leaves; set by a write)
 *   bit  7  PS    page size: 1 in a PDPTE (1 GiB) or PDE (2 MiB) leaf;
 *                 0 in table entries (PTE bit 7 is PAT, left 0)
 *   bit  8  G     global (left 0)
 *   bit 12  PAT   in 2 MiB/1 GiB leaves (left 0)
 *   bits 51:12    address of the next table or of the 4 KiB page
 *   bits 51:21    address of a 2 MiB page;  bits 51:30  of a 1 GiB page
 *   bit 63  XD    execute disable (SIOMMU_PT_NOEXEC)
 *
 * Table entries: address | P | R/W | U/S | A (0x27): the leaf alone decides
 * permissions, and A is preset so that a walk never writes a table entry
 * (Linux's VT-d first stage does the same).
 * Leaves: address | P | (WRITE ? R/W) | (PRIV ? 0 : U/S) | (PS for 2M/1G)
 *         | (MMIO ? PCD|PWT) | (NOEXEC ? XD); A and D start clear and are
 *         set by siommu_pt_translate_rcu() as the hardware would.
 * Present implies readable: a WRITE-only mapping reads back READ|WRITE.
 * Levels: 4-level covers the lower canonical half, IOVAs below 2^47; 5-level
 * below 2^56.  Output addresses: up to 52 bits.
 */
#ifndef SIOMMU_PGTABLE_FMT_X86_64_H
#define SIOMMU_PGTABLE_FMT_X86_64_H

#include <errno.h>
#include "../pt_internal.h"

#define X86_P		(1ull << 0)
#define X86_RW		(1ull << 1)
#define X86_US		(1ull << 2)
#define X86_PWT		(1ull << 3)
#define X86_PCD		(1ull << 4)
#define X86_A		(1ull << 5)
#define X86_D		(1ull << 6)
#define X86_PS		(1ull << 7)
#define X86_XD		(1ull << 63)
#define X86_ADDR_MASK	0x000ffffffffff000ull	/* bits 51:12 */

static inline bool x86_64pt_present(const struct siommu_pt *pt, uint64_t e,
				    unsigned int level)
{
	return e & X86_P;
}

static inline bool x86_64pt_is_leaf(uint64_t e, unsigned int level)
{
	return level == 0 || (level < PT_LEAF_LEVELS && (e & X86_PS));
}

static inline uint64_t x86_64pt_table_pa(uint64_t e)
{
	return e & X86_ADDR_MASK;
}

static inline uint64_t x86_64pt_leaf_pa(uint64_t e, unsigned int level)
{
	return e & X86_ADDR_MASK & ~(pt_level_size(level) - 1);
}

static inline uint64_t x86_64pt_mk_table(const struct siommu_pt *pt, uint64_t pa)
{
	return pa | X86_P | X86_RW | X86_US | X86_A;
}

static inline uint64_t x86_64pt_mk_leaf(const struct siommu_pt *pt, uint64_t pa,
					unsigned int level, unsigned int prot)
{
	uint64_t e = pa | X86_P;

	if (prot & SIOMMU_PT_WRITE)
		e |= X86_RW;
	if (!(prot & SIOMMU_PT_PRIV))
		e |= X86_US;
	if (level)
		e |= X86_PS;
	if (prot & SIOMMU_PT_MMIO)
		e |= X86_PCD | X86_PWT;
	if (prot & SIOMMU_PT_NOEXEC)
		e |= X86_XD;
	return e;
}

static inline unsigned int x86_64pt_leaf_prot(const struct siommu_pt *pt, uint64_t e)
{
	unsigned int prot = SIOMMU_PT_READ;

	if (e & X86_RW)
		prot |= SIOMMU_PT_WRITE;
	if (!(e & X86_US))
		prot |= SIOMMU_PT_PRIV;
	if (e & X86_PCD)
		prot |= SIOMMU_PT_MMIO;
	if (e & X86_XD)
		prot |= SIOMMU_PT_NOEXEC;
	return prot;
}

/* Permission check of a leaf; *newe gets the entry with A (and D) set. */
static inline int x86_64pt_access(const struct siommu_pt *pt, uint64_t e,
				  unsigned int access, uint64_t *newe)
{
	if ((access & SIOMMU_PT_ACC_WRITE) && !(e & X86_RW))
		return -EACCES;
	if (!(access & SIOMMU_PT_ACC_PRIV) && !(e & X86_US))
		return -EACCES;
	if ((access & SIOMMU_PT_ACC_EXEC) && (e & X86_XD))
		return -EACCES;
	*newe = e | X86_A | ((access & SIOMMU_PT_ACC_WRITE) ? X86_D : 0);
	return 0;
}

static inline bool x86_64pt_has_dirty(const struct siommu_pt *pt)
{
	return true;
}

static inline bool x86_64pt_dirty(const struct siommu_pt *pt, uint64_t e)
{
	return e & X86_D;
}

static inline uint64_t x86_64pt_clean(const struct siommu_pt *pt, uint64_t e)
{
	return e & ~X86_D;
}

static inline unsigned int x86_64pt_ias(unsigned int levels)
{
	return levels == 5 ? 56 : 47;	/* lower canonical half */
}

#define X86_64PT_MIN_LEVELS	4
#define X86_64PT_MAX_LEVELS	5
#define X86_64PT_DEFAULT_LEVELS	4
#define X86_64PT_MAX_OAS	52
#define X86_64PT_FLAGS		SIOMMU_PT_F_DIRTY	/* accepted; A/D are always on */
#define X86_64PT_DUMP_NAMES	{ "PML5E", "PML4E", "PDPTE", "PDE", "PTE" }

#endif
