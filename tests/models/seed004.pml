/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seed004.pml: unmap of a range with pinned pages (seed 004: the vfio
 * DMA_UNMAP notifier, and the review that asked to notify per request,
 * re-validate after retaking the lock and retry a bounded number of times).
 *
 * Code modelled: src/ioas/access.c ioas_unmap_range_locked() (P1-P5 of its
 * top comment: validate the range, count its pins, block new pins, call
 * every holder's callback with the IOAS lock dropped, look everything up
 * again, bounded rounds with reset on progress, -EBUSY with nothing
 * unmapped), siommu_ioas_access_pin()/unpin() (under the IOAS lock,
 * refused in a blocked range or on a removed area).
 *
 * Abstraction.  One IOAS lock (a bit; a pin or unpin is one atomic step
 * that needs it free, as it holds the lock for its whole duration).  Two
 * areas, 0 and 1, both in the unmap's range; live[a] false once removed
 * (freed).  Accesses: a cooperative one pinning area 0 several times (its
 * callback, run by the unmapper, unpins it) and a stuck one pinning area 1
 * once (its callback does nothing).  A second driver removes area 0 when it
 * has no pins (an unmap of that area alone), so the area the unmapper saw
 * may be gone when it retakes the lock.  Memory is sequentially consistent.
 *
 * Properties (assertions; spin also checks that every process ends: no
 * deadlock, the bounded rounds terminate):
 *   P1  an area is removed only with no pin on it (unmap never completes
 *       with a pin outstanding);
 *   P2  the unmapper touches only live areas (no use after free);
 *   P3  a refused unmap (-EBUSY) removed nothing;
 *   P4  when the stuck access holds its pin, the unmap ends in -EBUSY
 *       (after its rounds), never in success.
 *
 * Broken variant (spin -D...), which spin must refute:
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
bool blocked = false;		/* the unmap's block on its range */
bool live[2] = true;
byte pins[2] = 0;
bool coop_pin = false;		/* the cooperative access's one pin (area 0) */
bool stuck_pin = false;		/* the stuck access's pin (area 1) */
byte result = NONE;		/* ghost: the unmap's return */
byte u_removed = 0;		/* ghost: areas the unmapper removed */

inline lock_take() { atomic { lock == 0 -> lock = 1 } }
inline lock_drop() { lock = 0 }

/* P2: what the unmapper touches must be live. */
inline touch(a) { assert(live[a]) }

inline remove(a)
{
	touch(a);
	assert(pins[a] == 0);		/* P1 */
	live[a] = false;
	u_removed++
}

/* The callbacks, run by the unmapper with the lock dropped. */
inline callbacks()
{
	atomic { if :: coop_pin -> pins[0]--; coop_pin = false :: else -> skip fi };
	skip				/* the stuck access's callback: nothing */
}

proctype unmapper()
{
	byte rounds = 0, pinned, prev = 255;
	lock_take();
#ifndef FIRST_PATCH
	do
	:: /* look everything up from scratch */
		if
		:: !live[0] && !live[1] -> result = NOENT; break
		:: else -> skip
		fi;
		pinned = (live[0] -> pins[0] : 0) + (live[1] -> pins[1] : 0);
		if
		:: pinned == 0 ->
			if :: live[0] -> remove(0) :: else -> skip fi;
			if :: live[1] -> remove(1) :: else -> skip fi;
			result = OK; break
		:: else -> skip
		fi;
		if :: pinned < prev -> rounds = 0 :: else -> skip fi;
		prev = pinned;
		if
		:: rounds >= MAXR -> assert(u_removed == 0); result = BUSY; break	/* P3 */
		:: else -> rounds++
		fi;
		blocked = true;
		lock_drop();
		callbacks();
		lock_take()
	od;
	blocked = false;
#else
	byte a = 0;
	do
	:: a < 2 ->
		if
		:: !live[a] -> a++; goto next	/* not found at the start of this step */
		:: else -> skip
		fi;
		if
		:: pins[a] > 0 ->
			lock_drop();
			callbacks();
			lock_take();
			touch(a);		/* the area pointer kept across the call */
			if
			:: pins[a] > 0 -> assert(u_removed == 0); result = BUSY; break
			:: else -> skip
			fi
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
	do
	:: n < NPIN ->
		atomic {
			lock == 0 && !coop_pin ->
			if
			:: !blocked && live[0] -> pins[0]++; coop_pin = true
			:: else -> skip		/* -EBUSY or -ENOENT: fails cleanly */
			fi
		};
		n++;
		atomic { lock == 0 ->	/* its own unpin, unless a callback took it */
			 if :: coop_pin -> pins[0]--; coop_pin = false :: else -> skip fi }
	:: n >= NPIN -> break
	od
}

proctype stuck()
{
	atomic {
		lock == 0 ->
		if
		:: !blocked && live[1] -> pins[1]++; stuck_pin = true
		:: else -> skip
		fi
	}
}

/* A second driver unmapping area 0 alone (when nothing pins it). */
proctype driver2()
{
	atomic {
		lock == 0 && (!live[0] || pins[0] == 0) ->
		if :: live[0] -> live[0] = false :: else -> skip fi	/* else -ENOENT */
	}
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
