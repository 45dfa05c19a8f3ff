/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seed004.pml: unmap of a range with pinned pages (seed 004: the vfio
 * DMA_UNMAP notifier, and the review that asked to notify per request,
 * re-validate after retaking the lock and retry a bounded number of times).
 *
 * Code modelled: src/ioas/access.c ioas_unmap_range_locked() (P1-P5 of its
 * top comment: validate the range, block its areas, count them busy, call
 * every holder's callback with the IOAS lock dropped, look everything up
 * again, bounded rounds with reset on progress, -EBUSY with nothing
 * unmapped), and the lockless siommu_ioas_access_pin()/unpin()
 * (hold_areas_rcu(): raise the area's busy count, then check its block;
 * the pin record is added after, and removed before the busy count drops).
 *
 * Abstraction.  One IOAS lock (a bit) taken by unmaps only: pins and unpins
 * take none.  Two areas, 0 and 1, both in the unmap's range; live[a] false
 * once removed (its struct stays: a lookup through an old RCU snapshot may
 * still find it, so a pinner may raise busy[a] of a removed area; freeing
 * after the grace period is seed 000's and not modelled).  busy[a] and
 * blocked[a] are the area's counters; the pinner's two steps (raise busy,
 * then read blocked) and the unmapper's (raise blocked, then read busy) are
 * separate steps, memory sequentially consistent (the code's seq_cst
 * atomics).  Accesses: a cooperative one pinning area 0 several times (its
 * callback, run by the unmapper, takes its pin record and unpins) and a
 * stuck one pinning area 1 once (its callback does nothing).  A second
 * driver unmaps area 0 alone with the same block-then-count step and gives
 * up if it is busy, so the area the unmapper saw may be gone when it
 * retakes the lock.  Busy with no pin record (a pin between its hold and
 * its record, or backing off) is waited for without counting a round.
 *
 * Properties (assertions; spin also checks that every process ends: no
 * deadlock, the bounded rounds terminate):
 *   P1  an area is removed only with no pin record on it, and no pin
 *       completes on a removed area (unmap never completes with a pin
 *       outstanding; a pin that began before the block is seen, one that
 *       began after fails);
 *   P2  the unmapper touches only live areas (no use after free);
 *   P3  a refused unmap (-EBUSY) removed nothing;
 *   P4  when the stuck access holds its pin, the unmap ends in -EBUSY
 *       (after its rounds), never in success.
 *
 * Broken variants (spin -D...), which spin must refute:
 *   COUNT_FIRST  the unmapper counts the busy areas before it blocks them
 *                (the Dekker pair in the wrong order): a pin that holds
 *                after the count and checks before the block completes on
 *                an area the unmapper then removes (P1);
 *   FIRST_PATCH  the seed's first patch: walk the areas one by one, notify
 *                for an area with the lock dropped, retake it and go on
 *                with the same area without looking it up again (and
 *                break on pins left, keeping what was already unmapped):
 *                P2 (the second driver freed the area meanwhile) and P3
 *                (area 0 unmapped before area 1 refused).
 */

#ifndef NPIN
#define NPIN	2	/* pins of the cooperative access */
#endif
#ifndef MAXR
#define MAXR	2	/* unmap_retries */
#endif

#define NONE	0
#define OK	1
#define BUSY	2
#define NOENT	3

bit lock = 0;
bool live[2] = true;
byte busy[2] = 0;		/* holds: pins and pins in progress */
byte blocked[2] = 0;		/* unmap blocks on the area */
bool coop_pin = false;		/* the cooperative access's pin record (area 0) */
bool stuck_pin = false;		/* the stuck access's pin record (area 1) */
byte result = NONE;		/* ghost: the unmap's return */
byte u_removed = 0;		/* ghost: areas the unmapper removed */

inline lock_take() { atomic { lock == 0 -> lock = 1 } }
inline lock_drop() { lock = 0 }

/* P2: what the unmapper touches must be live. */
inline touch(a) { assert(live[a]) }

/* P1: no pin record on an area being removed. */
inline remove(a)
{
	touch(a);
	assert(!(a == 0 && coop_pin) && !(a == 1 && stuck_pin));
	live[a] = false;
	u_removed++
}

/* The callbacks, run by the unmapper with the lock dropped. */
inline callbacks()
{
	mine = false;
	atomic { if :: coop_pin -> coop_pin = false; mine = true :: else -> skip fi };
	if :: mine -> busy[0]-- :: else -> skip fi;
	skip				/* the stuck access's callback: nothing */
}

/* Pinner steps: hold (raise busy), check the block, then the record. */
inline pin(a, rec, ok)
{
	ok = false;
	busy[a]++;
	if
	:: blocked[a] > 0 -> busy[a]--		/* -EBUSY, cleanly */
	:: else ->
		assert(live[a]);		/* P1: never a removed area */
		rec = true;
		ok = true
	fi
}

proctype unmapper()
{
	byte rounds = 0, pinned, prev = 255, b0, b1;
	bool blocking = false, mine;
	lock_take();
#ifndef FIRST_PATCH
	do
	:: /* look everything up from scratch */
		if
		:: !live[0] && !live[1] -> result = NOENT; break
		:: else -> skip
		fi;
#ifdef COUNT_FIRST
		b0 = (live[0] -> busy[0] : 0);
		b1 = (live[1] -> busy[1] : 0);
#endif
		if
		:: !blocking ->
			if :: live[0] -> blocked[0]++ :: else -> skip fi;
			if :: live[1] -> blocked[1]++ :: else -> skip fi;
			blocking = true
		:: else -> skip
		fi;
#ifndef COUNT_FIRST
		b0 = (live[0] -> busy[0] : 0);
		b1 = (live[1] -> busy[1] : 0);
#endif
		if
		:: b0 + b1 == 0 ->
			if :: live[0] -> remove(0) :: else -> skip fi;
			if :: live[1] -> remove(1) :: else -> skip fi;
			result = OK; break
		:: else -> skip
		fi;
		pinned = (live[0] && coop_pin -> 1 : 0) + (live[1] && stuck_pin -> 1 : 0);
		if
		:: pinned == 0 ->		/* busy, no record: wait, not a round */
			lock_drop();
			lock_take()
		:: else ->
			if :: pinned < prev -> rounds = 0 :: else -> skip fi;
			prev = pinned;
			if
			:: rounds >= MAXR -> assert(u_removed == 0); result = BUSY; break	/* P3 */
			:: else -> rounds++
			fi;
			lock_drop();
			callbacks();
			lock_take()
		fi
	od;
	if :: blocking && live[0] -> blocked[0]-- :: else -> skip fi;
	if :: blocking && live[1] -> blocked[1]-- :: else -> skip fi;
#else
	byte a = 0;
	do
	:: a < 2 ->
		if
		:: !live[a] -> a++; goto next	/* not found at the start of this step */
		:: else -> skip
		fi;
		if
		:: busy[a] > 0 ->
			lock_drop();
			callbacks();
			lock_take();
			touch(a)		/* the area pointer kept across the call */
		:: else -> skip
		fi;
		blocked[a]++;
		if
		:: busy[a] > 0 -> blocked[a]--; assert(u_removed == 0); result = BUSY; break
		:: else -> skip
		fi;
		remove(a);
		a++;
next:		skip
	:: a >= 2 -> result = OK; break
	od;
#endif
	/* P4 */
	assert(!(result == OK && stuck_pin));
	lock_drop()
}

proctype coop()
{
	byte n = 0;
	bool ok, mine;
	do
	:: n < NPIN ->
		pin(0, coop_pin, ok);
		n++;
		if
		:: ok ->		/* its own unpin, unless a callback took the record */
			mine = false;
			atomic { if :: coop_pin -> coop_pin = false; mine = true :: else -> skip fi };
			if :: mine -> busy[0]-- :: else -> skip fi
		:: else -> skip
		fi
	:: n >= NPIN -> break
	od
}

proctype stuck()
{
	bool ok;
	pin(1, stuck_pin, ok)
}

/* A second driver unmapping area 0 alone (block, count, remove or give up). */
proctype driver2()
{
	lock_take();
	if
	:: live[0] ->
		blocked[0]++;
		if
		:: busy[0] == 0 -> assert(!coop_pin); live[0] = false
		:: else -> blocked[0]--		/* busy: gives up (its -EBUSY) */
		fi
	:: else -> skip				/* -ENOENT */
	fi;
	lock_drop()
}

init
{
	atomic {
		run unmapper();
		run coop();
		run stuck();
		run driver2()
	}
}
