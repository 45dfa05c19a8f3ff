/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runs.pml: IOTLB run entries (one entry caching a run of contiguous 4 KiB
 * leaves, filled from one walk) and the per-thread hint that copies them,
 * against the strict unmap of ONE page of the run (issue 10; extends
 * hint.pml).
 *
 * Code modelled: src/core/translate.c (the hint: key, then the entry's
 * sequence; else siommu_iotlb_lookup_span(): the page entry, then the
 * block's run entry; on a miss seq_begin, then siommu_pt_translate_run_rcu()
 * reads the page's leaf and its neighbour's, one load each, then
 * siommu_iotlb_insert_run(): a run if the neighbour continues the page,
 * else a page entry), src/iotlb/iotlb.c (insert re-checks the generation
 * under the set lock; a run's pages are in one 1 GiB region, so one
 * generation covers them all; an invalidation bumps it, I1, then clears,
 * I2, every entry whose span overlaps the range: a run entry when any of
 * its pages does; every clear moves the entry's sequence) and the strict
 * unmap of src/core/domain.c (clear, invalidate, grace period, return).
 *
 * Abstraction.  One domain, two pages A (0) and B (1) mapped to OLD_A and
 * OLD_B (contiguous output: a walk of either may cache the run A..B).  A
 * page entry per page, and the block's run entry (0 = empty, 1 = A..B),
 * each with a sequence; a validated probe is an atomic snapshot (the
 * seqlock argument is in iotlb.c).  Each walker has a hint: what it copied
 * (a page entry of page p, or the run), the sequence, and a check of that
 * sequence in one load.  RCU and memory as in seed000.pml.
 *
 * Processes: NW walkers translating a page of their choice NIT times
 * (translation and DMA in one section); the unmapper: strict unmap of B
 * only (A stays mapped), then OLD_B is freed.
 *
 * Properties (assertions):
 *   P2  a translation of B that began after the invalidation completed
 *       never answers OLD_B (from a page entry, the run, or a hint of it);
 *   P3  no DMA touches OLD_B after the strict unmap returned;
 *   P5  a translation of A always answers OLD_A (the unmap of B never
 *       leaves A unmapped: its run entry is removed, A walks again).
 *
 * Broken variants, each refuted by spin:
 *   NO_RUN_INV  I2 clears the page entry of B but leaves the run entry
 *               (the range does not match it): B still hits the run (P2);
 *   NO_GEN      insert skips the generation check: a walk that read B's
 *               leaf before the clear inserts the run after I2 (P2);
 *   NO_SEQ      the hint skips its sequence check: a hint of the run
 *               copied before the unmap answers OLD_B after it (P2, P3).
 */

#ifndef NW
#define NW	2
#endif
#ifndef NIT
#define NIT	2
#endif

#define OLD_A	5
#define OLD_B	7
#define H_RUN	3	/* hint_k: a copy of the run entry */

byte leaf[2];			/* 1: mapped (to OLD_A / OLD_B), 0: cleared */
byte pe[2];			/* page entries: 0 empty, 1 valid */
byte pe_seq[2];
byte re = 0;			/* the block's run entry: 0 empty, 1 = A..B */
byte re_seq = 0;
byte gen = 0;			/* the region's generation */
bool inval_done = false;	/* ghost: the unmap's invalidation returned */
bool b_freed = false;		/* ghost: the unmap returned, OLD_B freed */
byte rcu_ctr[NW];
byte hint_k[NW], hint_p[NW], hint_seq[NW];	/* k: 0 none, 1 page entry of hint_p, H_RUN */

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

#define VAL(p)	((p) == 0 -> OLD_A : OLD_B)

proctype walker(byte me)
{
	byte it = 0, p, v, s, sq, l0, l1;
	bool after, hit;

	do
	:: it < NIT ->
		if
		:: p = 0
		:: p = 1
		fi;
		rcu_read_lock(me);
		after = inval_done;
		hit = false;
		/* The hint: its key covers p, then its sequence (one load). */
		if
		:: hint_k[me] == H_RUN ->
#ifdef NO_SEQ
			v = VAL(p); hit = true
#else
			if
			:: re_seq == hint_seq[me] -> v = VAL(p); hit = true
			:: else -> skip
			fi
#endif
		:: hint_k[me] == 1 && hint_p[me] == p ->
			if
			:: pe_seq[p] == hint_seq[me] -> v = VAL(p); hit = true
			:: else -> skip
			fi
		:: else -> skip
		fi;
		if
		:: !hit ->
			/* lookup_span: the page entry, then the run (validated probes). */
			atomic {
				if
				:: pe[p] != 0 ->
					v = VAL(p); hit = true;
					hint_k[me] = 1; hint_p[me] = p; hint_seq[me] = pe_seq[p]
				:: pe[p] == 0 && re != 0 ->
					v = VAL(p); hit = true;
					hint_k[me] = H_RUN; hint_seq[me] = re_seq
				:: else -> skip
				fi
			}
		:: else -> skip
		fi;
		if
		:: !hit ->
			s = gen;			/* seq_begin (acquire) */
			l0 = leaf[p];			/* the walk */
			if
			:: l0 != 0 ->
				l1 = leaf[1 - p];	/* the neighbour (run scan) */
				atomic {		/* insert_run under the set lock */
					if
#ifdef NO_GEN
					:: true ->
#else
					:: s == gen ->
#endif
						if
						:: l1 != 0 ->
							re = 1; re_seq = re_seq + 2
						:: else ->
							pe[p] = 1; pe_seq[p] = pe_seq[p] + 2
						fi
					:: else -> skip	/* -EAGAIN */
					fi
				}
				v = VAL(p)
			:: else -> v = 0		/* fault */
			fi
		:: else -> skip
		fi;
		assert(!(after && p == 1 && v == OLD_B));	/* P2 */
		if
		:: v == OLD_B -> assert(!b_freed)		/* P3 */
		:: else -> skip
		fi;
		assert(p == 1 || v == OLD_A);			/* P5 */
		rcu_read_unlock(me);
		/* Dead locals back to 0: fewer states, same behaviour. */
		p = 0; v = 0; s = 0; sq = 0; l0 = 0; l1 = 0;
		after = false; hit = false;
		it++
	:: else -> break
	od
}

proctype unmapper()
{
	byte j, snap;

	leaf[1] = 0;			/* clear B's leaf */
	gen++;				/* I1 */
	atomic {			/* I2: every entry overlapping B */
		if
		:: pe[1] != 0 -> pe[1] = 0; pe_seq[1] = pe_seq[1] + 2
		:: else -> skip
		fi
	}
#ifndef NO_RUN_INV
	atomic {
		if
		:: re != 0 -> re = 0; re_seq = re_seq + 2
		:: else -> skip
		fi
	}
#endif
	inval_done = true;
	synchronize_rcu();
	b_freed = true			/* unmap returned; OLD_B freed */
}

init
{
	byte i = 0;

	atomic {
		leaf[0] = 1;
		leaf[1] = 1;
		do
		:: i < NW -> run walker(i); i++
		:: else -> break
		od;
		run unmapper()
	}
}
