/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seed001_mm.pml: the mm's invalidation protocol with the in-progress
 * count and the union of ranges in flight (KVM's mmu_invalidate_begin/end
 * and mmu_invalidate_retry_gfn(); src/mm/notifier.c, src/mm/mirror.c).
 *
 * Code modelled:
 *   invalidation (mm_change() in src/mm/mm.c):
 *     begin:  range = in_progress ? union(range, [a]) : [a]; in_progress++
 *     start:  lock(mirror); zap a; unlock                 (mirror_inv_start)
 *     change: the mm's entry of a is cleared; the page is freed after the
 *             grace period (before the end, as the mm does)
 *     end:    seq++ then in_progress--                    (mm_inv_end)
 *     then a CPU fault maps a new page (a new generation): not an
 *     invalidation.
 *   mirror fault (siommu_mirror_fault()):
 *     s = seq; g = entry of a (lock-free; 0 = not present: nothing to map);
 *     lock(mirror); if !(in_progress && a in range) && seq == s: install g;
 *     unlock.
 *
 * Abstraction.  Two addresses (0 and 1), one invalidator for each, running
 * NINV rounds concurrently, so their ranges overlap in time and the union
 * matters; one faulting process (two with -DTWO_FAULTERS) making NF mirror
 * faults at either address.  Defaults are the smallest that refute every
 * broken variant; -DNINV=2 -DTWO_FAULTERS verifies too (9 M states).  A generation names one page
 * mapped at an address.  The end's two steps are separate steps (a fault's
 * check reads them without the mm's lock).  The mirror lock is an atomic
 * block.  Memory is sequentially consistent (the code's acquire/release
 * pairs are argued in notifier.c).
 *
 * Property: the mirror never holds a page that was freed (ghost freed[]),
 * asserted in every state.
 *
 * Variants:
 *   (none)     verifies;
 *   REVERSED   the end drops in_progress before it bumps seq: a fault that
 *              read the old page before the change checks in the window
 *              (count 0, seq unchanged) and installs the freed page;
 *   NO_UNION   each begin replaces the range instead of joining it: the
 *              other address's invalidation in flight hides this one;
 *   NO_RETRY   the fault installs without the check.
 */

#ifndef NINV
#define NINV	1	/* rounds per invalidator */
#endif
#ifndef NF
#define NF	2	/* mirror faults */
#endif
#define NG	(NINV + 2)	/* generations per address: 1 .. NINV + 1 */

byte pte[2];			/* generation mapped in the mm, 0 = none */
byte mirror[2];			/* generation the mirror holds, 0 = none */
byte seq = 0;
byte in_progress = 0;
byte rs = 0, rl = 0;		/* union of the ranges in flight: [rs, rl] */
bool freed[2 * NG];		/* ghost: page (address, generation) freed */

proctype invalidator(byte a)
{
	byte i = 0, g = 1;

	pte[a] = 1;
	do
	:: i < NINV ->
		atomic {				/* mm_inv_begin (under inv_lock) */
			if
#ifdef NO_UNION
			:: true -> rs = a; rl = a
#else
			:: in_progress == 0 -> rs = a; rl = a
			:: else ->
				if
				:: a < rs -> rs = a
				:: else -> skip
				fi;
				if
				:: a > rl -> rl = a
				:: else -> skip
				fi
#endif
			fi;
			in_progress++
		}
		atomic { mirror[a] = 0 }		/* invalidate_start: zap */
		pte[a] = 0;				/* the change */
		freed[a * NG + g] = true;		/* grace period, free */
#ifdef REVERSED
		in_progress--;
		seq++;
#else
		seq++;					/* mm_inv_end: KVM's order */
		in_progress--;
#endif
		g++;
		pte[a] = g;				/* a CPU fault maps a new page */
		i++
	:: else -> break
	od
}

proctype fault()
{
	byte n = 0, a, s, g;

	do
	:: n < NF ->
		if
		:: a = 0
		:: a = 1
		fi;
		s = seq;				/* snapshot */
		g = pte[a];				/* lock-free lookup */
		atomic {				/* mirror lock */
			if
#ifdef NO_RETRY
			:: g != 0 -> mirror[a] = g
#else
			:: g != 0 && !(in_progress > 0 && rs <= a && a <= rl) && seq == s ->
				mirror[a] = g
#endif
			:: else -> skip
			fi
		}
		n++
	:: else -> break
	od
}

#define OK(a)	(mirror[a] == 0 || !freed[a * NG + mirror[a]])

active proctype invariant()
{
end:	atomic {
		!(OK(0) && OK(1)) -> assert(OK(0) && OK(1))
	}
}

init
{
	atomic {
		run invalidator(0);
		run invalidator(1);
		run fault()
#ifdef TWO_FAULTERS
		; run fault()
#endif
	}
}
