/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seed003.pml: region revocation against accesses in flight (seed 003:
 * generic_access_phys() reading a pfn whose mapping was revoked under it).
 *
 * Code modelled: src/mem/mem.c siommu_mem_rw() / siommu_mem_rw_rcu() (in
 * one read-side section: find the region, fail -ENODEV if REVOKED, then
 * copy or call the MMIO callbacks) and siommu_mem_region_revoke() (set
 * REVOKED; call the revoke notifiers, with no lock held and outside any
 * section; synchronize_rcu; mark the revoke finished and return).
 * docs/modules/mem.md, "Revocation (seed 003)".
 *
 * Abstraction.  One region.  An access is three steps inside its section:
 * check the flag; start (in_access++); touch the region's memory (several
 * pieces of an access are one touch here: each is checked before any data
 * moves); end (in_access--).  The notifier stands for the core's: it
 * tears down the IOMMU mapping of the region (mapped = false); an access
 * that goes through that mapping checks it in the same section, like the
 * translate-then-copy of src/core/translate.c.  RCU is modelled as in
 * seed000.pml: per-accessor counters, odd inside a section; a grace
 * period waits, accessor by accessor, for the section it found running.
 * After revoke returns, the caller frees the region's memory
 * (region = FREED), which is what the contract allows.  Memory is
 * sequentially consistent.
 *
 * Processes: NA accessors, NIT accesses each (one DMA-like access through
 * the mapping, then direct ones), and one revoker.
 *
 * Properties (assertions):
 *   P1  when revoke returns, no access is in progress (in_access == 0);
 *   P2  no access touches the region after revoke returned (so none
 *       after it was freed).
 *
 * Broken variants (spin -D...), each of which spin must refute:
 *   FLAG_OUTSIDE  the access checks the flag before entering its section
 *                 (a check-then-act split): the grace period does not wait
 *                 for an access that has checked but not yet entered, so
 *                 it touches the region after revoke returned: P1 / P2;
 *   NO_GRACE      revoke skips the grace period: an access that saw the
 *                 flag clear is still running when revoke returns: P1 / P2.
 */

#ifndef NA
#define NA	2	/* accessors */
#endif
#ifndef NIT
#define NIT	2	/* accesses per accessor */
#endif

#define LIVE	1
#define FREED	2

bool revoked = false;		/* REVOKED bit of region->state */
bool mapped = true;		/* the IOMMU mapping of the region (core) */
byte region = LIVE;		/* the region's memory */
byte in_access = 0;		/* ghost: accesses between start and end */
bool returned = false;		/* ghost: revoke returned */
byte rcu_ctr[NA];		/* odd = inside a read-side section */

inline rcu_read_lock(i)
{
	rcu_ctr[i]++
}

inline rcu_read_unlock(i)
{
	rcu_ctr[i]++
}

inline synchronize_rcu()
{
	j = 0;
	do
	:: j < NA ->
		snap = rcu_ctr[j];
		if
		:: snap % 2 == 1 -> (rcu_ctr[j] != snap)
		:: else -> skip
		fi;
		j++
	:: else -> break
	od
}

proctype accessor(byte me)
{
	byte it = 0;
	bool ok;

	do
	:: it < NIT ->
#ifdef FLAG_OUTSIDE
		ok = !revoked;
		rcu_read_lock(me);
#else
		rcu_read_lock(me);
		ok = !revoked;
#endif
		if
		:: it == 0 -> ok = ok && mapped	/* the first access is a DMA through the mapping */
		:: else -> skip
		fi;
		if
		:: ok ->
			in_access++;
			assert(!returned && region != FREED);	/* P2 */
			in_access--
		:: else -> skip			/* -ENODEV, or an IOMMU fault */
		fi;
		rcu_read_unlock(me);
		it++
	:: else -> break
	od
}

active proctype revoker()
{
	byte j, snap;

	revoked = true;		/* 1: set the flag */
	mapped = false;		/* 2: the notifiers (the core unmaps the region) */
#ifndef NO_GRACE
	synchronize_rcu();	/*    and a grace period */
#endif
	returned = true;	/* 3: revoke returns */
	assert(in_access == 0);	/* P1 */
	region = FREED		/* the caller frees the memory */
}

init
{
	byte i = 0;

	atomic {
		do
		:: i < NA -> run accessor(i); i++
		:: else -> break
		od
	}
}
