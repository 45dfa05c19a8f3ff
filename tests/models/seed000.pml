/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seed000.pml: page-table reclamation and the IOTLB against a concurrent
 * walk (seed 000: Linux's debugfs walker reading table pages that unmap
 * freed under it).
 *
 * Code modelled: src/pgtable/pt_template.h unmap_level() (step 1, clear),
 * src/pgtable/pgtable.c siommu_pt_gather_sync() (steps 2-4: invalidate,
 * grace period, free), src/core/translate.c (IOTLB lookup, then on a miss
 * seq_begin, walk, insert) and src/iotlb/iotlb.c (insert re-checks the
 * generation under the set lock; an invalidation bumps the generation, I1,
 * then clears entries, I2).  docs/architecture.md, "Reclamation order".
 *
 * Abstraction.  One IOVA, translated through a root entry ("parent") that
 * points to one table page; the page holds the leaf, phys OLD.  The IOTLB
 * is one entry (0 = empty).  The set lock is an atomic block: insert's
 * check-and-write is one step, I2's clear is one step.  RCU: each walker
 * has a counter, incremented when it enters and when it leaves its
 * read-side section (odd = inside); a grace period samples each walker's
 * counter and, if it is odd, waits until it changes, so it waits for every
 * section that was running when it started and for no later one (the
 * semantics of liburcu's synchronize_rcu).  Memory is sequentially
 * consistent here: the model checks the protocol's interleavings; the
 * C11 orderings that make the real code behave as if sequentially
 * consistent are argued in the comments of the code itself.
 *
 * Processes: NW walkers, each translating NIT times (each translation, and
 * the "DMA" that uses its answer, inside one read-side section, as
 * translate.c does), and one unmapper, which does a strict unmap:
 * clear parent; invalidate the IOTLB (I1 generation bump, I2 clear);
 * grace period; free the table page; return, after which the caller frees
 * the memory OLD pointed to; then maps the IOVA again, to NEW, through a
 * second table page (so walks after the unmap have a valid answer to
 * insert, and the generation check must not refuse those).  The real
 * gather_sync frees through call_rcu by default; strict unmap waits
 * (SIOMMU_PT_SYNC_WAIT), which is what is modelled: either way the free
 * comes after a grace period that began after the invalidation.
 *
 * Properties (assertions):
 *   P1  no walker reads a table page that is not live (freed);
 *   P2  a translation that started after the invalidation completed never
 *       answers OLD: it answers NEW or faults (no stale IOTLB entry
 *       survives the invalidation: the generation check refuses the insert
 *       of a walk that began before it);
 *   P3  no DMA touches OLD's memory after the strict unmap returned.
 *
 * Broken variants (spin -D...), each of which spin must refute:
 *   NO_GRACE  the page (and OLD) are freed right after the invalidation:
 *             P1 (or P3) fails, a walker inside its section reads the page;
 *   NO_GEN    insert without the generation check: a walk that read the
 *             leaf before the clear inserts OLD after I2, the next
 *             translation hits it: P2 fails.
 */

#ifndef NW
#define NW	2	/* walkers */
#endif
#ifndef NIT
#define NIT	2	/* translations per walker */
#endif

#define OLD	7	/* the old output address */
#define NEW	8	/* the output address mapped after the unmap */
#define LIVE	1
#define FREED	2

byte parent = 1;		/* root entry: the table page it points to, 0 = cleared */
byte page_state[3];		/* table pages 1 (old) and 2 (new): 0 = never used */
byte page_leaf[3];		/* the leaf inside each */
byte tlb = 0;			/* the IOTLB entry: 0 = empty, else the cached address */
byte gen = 0;			/* the IOTLB generation covering the IOVA */
bool inval_done = false;	/* ghost: the invalidation (I1+I2) completed */
bool old_freed = false;		/* ghost: unmap returned, the caller freed OLD */
byte rcu_ctr[NW];		/* odd = inside a read-side section */

inline rcu_read_lock(i)
{
	rcu_ctr[i]++
}

inline rcu_read_unlock(i)
{
	rcu_ctr[i]++
}

/* Waits for every section running when it started (sampled one by one). */
inline synchronize_rcu()
{
	j = 0;
	do
	:: j < NW ->
		snap = rcu_ctr[j];
		if
		:: snap % 2 == 1 -> (rcu_ctr[j] != snap)
		:: else -> skip
		fi;
		j++
	:: else -> break
	od
}

proctype walker(byte me)
{
	byte it = 0, v, s, p, r;
	bool after;

	do
	:: it < NIT ->
		rcu_read_lock(me);
		after = inval_done;		/* ghost: started after the invalidation */
		v = tlb;			/* IOTLB lookup */
		if
		:: v != 0 -> skip		/* hit */
		:: else ->
			s = gen;		/* seq_begin */
			p = parent;		/* walk: the root entry ... */
			if
			:: p != 0 ->
				assert(page_state[p] == LIVE);	/* P1 */
				r = page_leaf[p];		/* ... then the page */
#ifdef NO_GEN
				tlb = r;
#else
				atomic { if :: s == gen -> tlb = r :: else -> skip fi }
#endif
				v = r
			:: else -> v = 0	/* not present: fault */
			fi
		fi;
		assert(!(after && v == OLD));	/* P2 */
		if
		:: v == OLD -> assert(!old_freed)	/* P3: the DMA copy */
		:: else -> skip
		fi;
		rcu_read_unlock(me);
		it++
	:: else -> break
	od
}

active proctype unmapper()
{
	byte j, snap;

	parent = 0;		/* 1: clear (the page goes into the gather) */
	gen++;			/* 2: invalidate, I1 */
	tlb = 0;		/*    I2, under the set lock */
	inval_done = true;
#ifndef NO_GRACE
	synchronize_rcu();	/* 3: grace period */
#endif
	page_state[1] = FREED;	/* 4: free */
	old_freed = true;	/* strict unmap returned; the caller frees OLD */

	/* A new mapping of the IOVA, through another table page. */
	page_leaf[2] = NEW;
	page_state[2] = LIVE;
	parent = 2
}

init
{
	byte i = 0;

	atomic {
		page_state[1] = LIVE;
		page_leaf[1] = OLD;
		do
		:: i < NW -> run walker(i); i++
		:: else -> break
		od
	}
}
