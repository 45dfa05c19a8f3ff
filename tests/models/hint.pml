/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hint.pml: the per-thread translation hint in front of the IOTLB against
 * strict unmap and replace (issue 10; extends seed000.pml).
 *
 * Code modelled: src/core/translate.c (hint_lookup_rcu(): the key, then
 * (a) the attached domain is the hint's and (b) the IOTLB entry's sequence
 * is the one the hint copied at; else the IOTLB lookup, then on a miss
 * seq_begin, walk, insert; the hint is filled from a hit or an insert),
 * src/iotlb/iotlb.c (every write or clear of an entry moves its sequence;
 * insert re-checks the generation under the set lock; an invalidation
 * bumps the generation, I1, then clears entries, I2), the strict unmap of
 * src/core/domain.c (clear, invalidate, grace period, return) and replace
 * (the attachment switched; the old domain's entries stay).
 *
 * Abstraction.  One IOVA.  Domain 1 maps it to OLD through a root entry
 * ("parent"); domain 2 maps it to ALT (its IOTLB entry prefilled).  Each
 * domain's IOTLB entry is a value (0 = empty) and a sequence; a validated
 * probe is an atomic snapshot of both (the seqlock's argument is in
 * iotlb.c), a hint check reads the sequence alone, in one step, as the
 * code does.  Each walker has a hint: domain, value, sequence (value 0 =
 * empty).  RCU and memory as in seed000.pml (sequentially consistent;
 * grace period samples each reader's counter).
 *
 * Processes: NW walkers translating NIT times (translation and DMA in one
 * section); the unmapper (strict unmap of domain 1, then OLD is freed);
 * the replacer (the device moves from domain 1 to domain 2).
 *
 * Properties (assertions):
 *   P2  a translation that began after the invalidation completed never
 *       answers OLD;
 *   P3  no DMA touches OLD after the strict unmap returned;
 *   P4  a translation that began after replace returned answers ALT.
 *
 * Configurations: -DONLY_UNMAP (no replacer) and -DONLY_REPLACE (no
 * unmapper) keep the state space small enough for `make check`
 * (check-models.sh runs both, and each broken variant in the one that
 * shows it); with neither, both run (1.4 M states: a few seconds).
 *
 * Broken variants, each refuted by spin:
 *   NO_SEQ  the hint skips check (b): a hint copied before the unmap
 *           answers OLD after the invalidation (P2, P3);
 *   NO_DOM  the hint skips check (a): after replace a walker still gets
 *           domain 1's translation from its hint (P4).
 */

#ifndef NW
#define NW	2
#endif
#ifndef NIT
#define NIT	2
#endif

/* (a): the attached domain is the hint's; (b): its entry has not moved (one load). */
#ifdef NO_DOM
#define CHECK_DOM	true
#else
#define CHECK_DOM	(hint_dom[me] == d)
#endif
#ifdef NO_SEQ
#define CHECK_SEQ	true
#else
#define CHECK_SEQ	(tlb_seq[hint_dom[me]] == hint_seq[me])
#endif

#define OLD	7
#define ALT	9

byte parent = 1;		/* domain 1's root entry: 1 = points to the leaf OLD, 0 = cleared */
byte tlb[3];			/* IOTLB entry per domain (1, 2): 0 = empty */
byte tlb_seq[3];		/* its sequence: moves on every write or clear */
byte gen = 0;			/* domain 1's generation */
byte att = 1;			/* the attached domain */
bool inval_done = false;	/* ghost */
bool old_freed = false;		/* ghost */
bool rep_done = false;		/* ghost: replace returned */
byte rcu_ctr[NW];
byte hint_dom[NW], hint_v[NW], hint_seq[NW];

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

proctype walker(byte me)
{
	byte it = 0, d, v, s, sq, r;
	bool after, after_rep, hit;

	do
	:: it < NIT ->
		rcu_read_lock(me);
		after = inval_done;
		after_rep = rep_done;
		d = att;			/* the attachment load */
		hit = false;
		if
		:: hint_v[me] != 0 && CHECK_DOM && CHECK_SEQ ->
			v = hint_v[me]; hit = true
		:: else -> skip
		fi;
		if
		:: !hit ->
			atomic { v = tlb[d]; sq = tlb_seq[d] }	/* validated probe */
			if
			:: v != 0 ->
				hint_dom[me] = d; hint_v[me] = v; hint_seq[me] = sq
			:: else ->
				if
				:: d == 1 ->
					s = gen;		/* seq_begin */
					if
					:: parent != 0 ->
						r = OLD;	/* walk */
						atomic {	/* insert under the set lock */
							if
							:: s == gen ->
								tlb[1] = r;
								tlb_seq[1] = tlb_seq[1] + 2;
								hint_dom[me] = 1;
								hint_v[me] = r;
								hint_seq[me] = tlb_seq[1]
							:: else -> skip
							fi
						}
						v = r
					:: else -> v = 0	/* fault */
					fi
				:: else -> v = ALT	/* domain 2: always mapped */
				fi
			fi
		:: else -> skip
		fi;
		assert(!(after && v == OLD));			/* P2 */
		if
		:: v == OLD -> assert(!old_freed)		/* P3 */
		:: else -> skip
		fi;
		assert(!(after_rep && v != 0 && v != ALT));	/* P4 */
		rcu_read_unlock(me);
		/* Dead locals back to 0: fewer states, same behaviour. */
		d = 0; v = 0; s = 0; sq = 0; r = 0;
		after = false; after_rep = false; hit = false;
		it++
	:: else -> break
	od
}

proctype unmapper()
{
	byte j, snap;

	parent = 0;			/* clear */
	gen++;				/* I1 */
	atomic { tlb[1] = 0; tlb_seq[1] = tlb_seq[1] + 2 }	/* I2 */
	inval_done = true;
	synchronize_rcu();
	old_freed = true		/* unmap returned; OLD freed */
}

proctype replacer()
{
	att = 2;			/* the attachment switched (release) */
	rep_done = true			/* replace returned (its grace period is not needed here) */
}

init
{
	byte i = 0;

	atomic {
		tlb[2] = ALT;
		tlb_seq[2] = 2;
		do
		:: i < NW -> run walker(i); i++
		:: else -> break
		od;
#ifndef ONLY_REPLACE
		run unmapper();
#endif
#ifndef ONLY_UNMAP
		run replacer()
#endif
	}
}
