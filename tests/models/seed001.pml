/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seed001.pml: the lock-free level lookup and the invalidation sequence
 * (seed 001: KVM's host page-table walk, whose answer is only safe to act
 * on under mmu_notifier_retry).
 *
 * Code modelled: src/pgtable/pgtable.c pt_inval_begin() / pt_inval_end()
 * (an unmap increments in_progress before its first clear; after its last
 * it increments seq, then decrements in_progress), siommu_pt_seq_begin()
 * (reads seq), siommu_pt_seq_retry() (true if an invalidation is in
 * progress or seq moved), siommu_pt_lookup_level() (a lock-free walk:
 * the top entry, then the leaf table if the top entry points to one), and
 * the caller protocol of docs/modules/pgtable.md, "Level lookup and the
 * invalidation sequence", which the pgtable stress test's mirror runs:
 *
 *	seq = seq_begin; lvl = lookup_level; lock(mirror);
 *	if (!seq_retry(seq)) install(lvl); unlock(mirror);
 *	unmapper: unmap (begin .. clear .. end); lock(mirror); zap; unlock.
 *
 * Abstraction.  One IOVA.  The table has a top entry (TOP_NONE, TOP_TABLE,
 * or a large leaf carrying its generation) and one leaf entry below it
 * (0, or a 4 KiB leaf carrying its generation).  A generation names one
 * mapping's lifetime: map, then unmap.  The mapper/unmapper process runs
 * NGEN generations: generation 1 is a 2 MiB leaf, generation 2 a 4 KiB
 * leaf under a table (maps are not invalidations: no seq change), each
 * unmapped as an invalidation and then zapped from the mirror.  The
 * mirror lock is an atomic block (its critical sections are one step).
 * Memory is sequentially consistent; the real code's orderings (a full
 * barrier on the in_progress increment, release on the seq increment and
 * the decrement, acquire on the reads) are what make that hold there.
 *
 * Property: the mirror never holds an entry of a generation whose unmap
 * has completed (been zapped).  A ghost array dead[] marks a generation
 * zapped; an invariant process asserts, at every reachable state, that
 * the mirror's generation is not dead.  The installed level must also be
 * the level that generation was mapped at (a torn walk answers no level,
 * never a wrong one).
 *
 * Variants (spin -D...):
 *   (none)      the documented protocol: verifies;
 *   ZAP_EARLY   KVM's order instead: the mirror is zapped between begin
 *               and end (mmu_notifier invalidate_range_start), the
 *               generation counts as gone once end has run: verifies;
 *   NO_RETRY    broken: the mirror installs without seq_retry.  A lookup
 *               that read generation g before its unmap installs it after
 *               the zap: the invariant fails;
 *   ZAP_EARLY + NO_INPROGRESS  broken: seq_retry compares seq only.  With
 *               the zap inside the invalidation, a lookup that read g
 *               before the clear installs it between the zap and the seq
 *               increment, and it outlives the invalidation: the
 *               invariant fails.  This is why seq_retry also reads
 *               in_progress.  (With the documented order, zap after end,
 *               the seq comparison alone would be enough: the zap comes
 *               after the increment.)
 */

#ifndef NMIR
#define NMIR	2	/* mirror updates */
#endif
#define NGEN	2	/* generations mapped and unmapped */

#define TOP_NONE	0
#define TOP_TABLE	1
#define TOP_LARGE	2	/* + generation: a 2 MiB leaf */

#define LVL_NONE	0
#define LVL_2M		21
#define LVL_4K		12

byte top = TOP_NONE;
byte leaf = 0;			/* 0, or the generation of a 4 KiB leaf */
byte seq = 0;
byte in_progress = 0;
byte mirror_gen = 0;		/* 0 = no mirror entry */
byte mirror_lvl = LVL_NONE;
bool dead[NGEN + 1];		/* ghost: generation unmapped and zapped */
byte lvl_of[NGEN + 1];		/* ghost: the level each generation was mapped at */

/* The lock-free level lookup: top entry, then the leaf table. */
inline lookup_level(lvl, g)
{
	t = top;
	if
	:: t == TOP_NONE -> lvl = LVL_NONE; g = 0
	:: t >= TOP_LARGE -> lvl = LVL_2M; g = t - TOP_LARGE
	:: t == TOP_TABLE ->
		g = leaf;
		if
		:: g != 0 -> lvl = LVL_4K
		:: else -> lvl = LVL_NONE
		fi
	fi
}

proctype mirror()
{
	byte it = 0, s, t, lvl, g;

	do
	:: it < NMIR ->
		s = seq;				/* seq_begin */
		lookup_level(lvl, g);
		atomic {				/* mirror lock */
			if
#if defined(NO_RETRY)
			:: lvl != LVL_NONE ->
#elif defined(NO_INPROGRESS)
			:: lvl != LVL_NONE && seq == s ->
#else
			:: lvl != LVL_NONE && in_progress == 0 && seq == s ->
#endif
				mirror_gen = g; mirror_lvl = lvl
			:: else -> skip
			fi
		}
		it++
	:: else -> break
	od
}

proctype unmapper()
{
	byte g = 1;

	do
	:: g <= NGEN ->
		/* map generation g (no invalidation) */
		if
		:: g == 1 -> lvl_of[g] = LVL_2M; top = TOP_LARGE + g
		:: else ->
			lvl_of[g] = LVL_4K;
			leaf = g;
			top = TOP_TABLE
		fi;
		/* unmap it: an invalidation */
		in_progress++;				/* pt_inval_begin */
#ifdef ZAP_EARLY
		atomic { mirror_gen = 0; mirror_lvl = LVL_NONE }	/* KVM: zap at range_start */
#endif
		if
		:: top == TOP_TABLE -> leaf = 0
		:: else -> top = TOP_NONE
		fi;
		seq++;					/* pt_inval_end */
		in_progress--;
#ifdef ZAP_EARLY
		dead[g] = true;
#else
		atomic {				/* mirror lock: zap */
			mirror_gen = 0; mirror_lvl = LVL_NONE;
			dead[g] = true
		}
#endif
		g++
	:: else -> break
	od
}

/* The invariant, checked in every reachable state. */
#define MIRROR_OK	(mirror_gen == 0 || (!dead[mirror_gen] && mirror_lvl == lvl_of[mirror_gen]))

active proctype invariant()
{
end:	atomic {
		!MIRROR_OK -> assert(MIRROR_OK)
	}
}

init
{
	atomic {
		run mirror();
		run unmapper()
	}
}
