// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * RCU glue: lazy registration of threads with urcu-memb, unregistration at
 * thread exit, grace periods and deferred callbacks.  See rcu.h for the
 * design and docs/architecture.md for the measurements behind the flavor.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "softiommu/base.h"
#include "base/debug.h"
#include "base/lock.h"
#include "base/rcu.h"

#ifdef SIOMMU_TSAN
/*
 * ThreadSanitizer.  What a grace period orders is: everything a reader did
 * in a section that had begun before the grace period began happens before
 * the code after synchronize returns (for call_rcu(): sections begun before
 * call_rcu(), before the callback).  A section that begins after the grace
 * period began is ordered by nothing.  TSan is told exactly that, section
 * by section:
 *
 *  - Every outermost read_unlock releases a process-wide "ended" token
 *    and its thread's own token (each thread gets a slot, claimed at its
 *    first section and given back at thread exit, with the token and an
 *    "inside" flag set for the duration of each outermost section).
 *  - A grace period, when it begins (synchronize, rcu_barrier: before the
 *    wait; call_rcu(): at the call), notes the slots whose thread is inside
 *    a section, then acquires the "ended" token (every section ended so
 *    far); after the wait (for call_rcu(): in the callback) it acquires the
 *    noted threads' tokens: the sections it waited for have ended.
 *    Sections begun after that moment give the grace period nothing, so
 *    TSan still reports plain accesses made after a grace period began that
 *    race with the code after it (tests/base/tsan_base_rcu_race.c proves
 *    it).
 *
 * Limits: vector clocks cannot split a thread's history, so an acquired
 * token also orders what its thread did before that section (in real RCU
 * too, such accesses precede the grace period), and a noted thread's later
 * sections that ended before the acquire (an over-approximation: a missed
 * report, never a false one).  More than RCU_TSAN_SLOTS threads at once
 * share one overflow token that every grace period acquires at its end.
 *
 * Why the note cannot miss a section that matters: the read_lock's store of
 * its inside flag is followed by a full fence before the section's first
 * load; the grace period's caller has unpublished the object before a full
 * fence and the note.  Store-buffering with fences on both sides: a section
 * that still loaded the old pointer has its flag seen by the note (or it
 * had ended, and the "ended" token has it).
 * The counters are relaxed atomics and the fences are inline assembly, so
 * TSan itself draws no edge from them.
 */
#if defined(__x86_64__) || defined(__i386__)
#define rcu_tsan_full_fence()	__asm__ __volatile__("mfence" ::: "memory")
#else
#define rcu_tsan_full_fence()	__sync_synchronize()
#endif

#define RCU_TSAN_SLOTS	1024

struct rcu_tsan_slot {
	unsigned long used;	/* atomic (relaxed): claimed by a thread */
	unsigned long inside;	/* atomic (relaxed): the thread is in a section */
	char token;		/* only its address matters */
} siommu_cacheline_aligned;

/* The sections a callback must acquire: (slot, section number) pairs. */
struct rcu_tsan_readers {
	unsigned int nr;
	unsigned int slot[];
};

static struct rcu_tsan_slot rcu_tsan_slots[RCU_TSAN_SLOTS];
static char rcu_tsan_overflow_token;	/* threads beyond RCU_TSAN_SLOTS */
static char rcu_tsan_ended_token;	/* every section's end: acquired at a GP's start */
static char rcu_tsan_barrier_token;	/* callbacks release, rcu_barrier acquires */
unsigned long siommu_rcu_tsan_notes;	/* atomic: notes taken (tests) */
static __thread int rcu_tsan_slot_idx = -1;
static __thread unsigned long rcu_tsan_nesting;
static pthread_key_t rcu_tsan_key;
static pthread_once_t rcu_tsan_key_once = PTHREAD_ONCE_INIT;

/* rcu_tsan.c: liburcu's out-of-line reader functions. */
void siommu_rcu_read_lock_tsan(void);
void siommu_rcu_read_unlock_tsan(void);

static void rcu_tsan_thread_exit(void *unused)
{
	int i = rcu_tsan_slot_idx;

	if (i >= 0 && i < RCU_TSAN_SLOTS && !rcu_tsan_nesting)
		siommu_store_relaxed(&rcu_tsan_slots[i].used, 0);
	rcu_tsan_slot_idx = -1;
}

static void rcu_tsan_key_create(void)
{
	if (pthread_key_create(&rcu_tsan_key, rcu_tsan_thread_exit))
		siommu_check_failed("pthread_key_create", __FILE__, __LINE__);
}

static int rcu_tsan_claim(void)
{
	unsigned long zero;
	int i;

	pthread_once(&rcu_tsan_key_once, rcu_tsan_key_create);
	for (i = 0; i < RCU_TSAN_SLOTS; i++) {
		zero = 0;
		if (!siommu_load_relaxed(&rcu_tsan_slots[i].used) &&
		    __atomic_compare_exchange_n(&rcu_tsan_slots[i].used, &zero, 1,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			break;
	}
	pthread_setspecific(rcu_tsan_key, &rcu_tsan_slot_idx);
	return i;	/* RCU_TSAN_SLOTS: the overflow token */
}

void siommu_rcu_tsan_read_lock(void)
{
	struct rcu_tsan_slot *sl;

	if (!rcu_tsan_nesting++) {
		if (siommu_unlikely(rcu_tsan_slot_idx < 0))
			rcu_tsan_slot_idx = rcu_tsan_claim();
		if (rcu_tsan_slot_idx < RCU_TSAN_SLOTS) {
			sl = &rcu_tsan_slots[rcu_tsan_slot_idx];
			siommu_store_relaxed(&sl->inside, 1);
		}
		/* Pairs with the fence in rcu_tsan_note(): see above. */
		rcu_tsan_full_fence();
	}
	siommu_rcu_read_lock_tsan();
}

void siommu_rcu_tsan_read_unlock(void)
{
	struct rcu_tsan_slot *sl;

	if (--rcu_tsan_nesting) {
		siommu_rcu_read_unlock_tsan();
		return;
	}
	/* Pairs with the acquire at the start of later grace periods. */
	__tsan_release(&rcu_tsan_ended_token);
	if (rcu_tsan_slot_idx >= RCU_TSAN_SLOTS) {
		__tsan_release(&rcu_tsan_overflow_token);
		siommu_rcu_read_unlock_tsan();
		return;
	}
	sl = &rcu_tsan_slots[rcu_tsan_slot_idx];
	/* Pairs with the acquire after the wait of a grace period that noted us. */
	__tsan_release(&sl->token);
	siommu_rcu_read_unlock_tsan();
	siommu_store_relaxed(&sl->inside, 0);
}

/*
 * A grace period begins: acquire the last section begun in each slot if it
 * has ended; note it in @running[slot] (0: nothing to wait for) if not.
 */
static void rcu_tsan_note(unsigned long *running)
{
	unsigned int i;

	/* Pairs with the fence in siommu_rcu_tsan_read_lock(). */
	rcu_tsan_full_fence();
	for (i = 0; i < RCU_TSAN_SLOTS; i++)
		running[i] = siommu_load_relaxed(&rcu_tsan_slots[i].inside);
	/*
	 * Every section that has ended so far (pairs with read_unlock).  After
	 * reading the flags, not before: a section that ends in between has
	 * released this token before clearing its flag, so it is either seen
	 * running above or ended here, never neither.
	 */
	__tsan_acquire(&rcu_tsan_ended_token);
	__tsan_acquire(&rcu_tsan_overflow_token);
	__atomic_fetch_add(&siommu_rcu_tsan_notes, 1, __ATOMIC_RELAXED);
}

static void rcu_tsan_acquire_running(const unsigned long *running)
{
	unsigned int i;

	for (i = 0; i < RCU_TSAN_SLOTS; i++)
		if (running[i])
			__tsan_acquire(&rcu_tsan_slots[i].token);
	__tsan_acquire(&rcu_tsan_overflow_token);
}

/* Every slot's last ended section, at callback time (allocation failed). */
#define RCU_TSAN_ALL	((void *)&rcu_tsan_overflow_token)

/* call_rcu(): the running sections, kept with the callback (NULL: none). */
static void *rcu_tsan_note_for_callback(void)
{
	unsigned long running[RCU_TSAN_SLOTS];
	struct rcu_tsan_readers *r;
	unsigned int i, nr = 0;

	rcu_tsan_note(running);
	for (i = 0; i < RCU_TSAN_SLOTS; i++)
		nr += running[i] != 0;
	if (!nr)
		return NULL;
	/* Plain malloc: not counted by the fail-nth hook of testing builds. */
	r = malloc(sizeof(*r) + nr * sizeof(r->slot[0]));
	if (!r)
		return RCU_TSAN_ALL;	/* cannot keep them: over-approximate */
	r->nr = 0;
	for (i = 0; i < RCU_TSAN_SLOTS; i++) {
		if (running[i])
			r->slot[r->nr++] = i;
	}
	return r;
}

static void rcu_tsan_callback_acquire(struct rcu_tsan_readers *r)
{
	unsigned int i;

	__tsan_acquire(&rcu_tsan_overflow_token);
	if (!r)
		return;
	if ((void *)r == RCU_TSAN_ALL) {
		for (i = 0; i < RCU_TSAN_SLOTS; i++)
			__tsan_acquire(&rcu_tsan_slots[i].token);
		return;
	}
	for (i = 0; i < r->nr; i++)
		__tsan_acquire(&rcu_tsan_slots[r->slot[i]].token);
	free(r);
}
#endif

/*
 * rcu_key exists only so that its destructor runs at thread exit; its value
 * is non-NULL in threads the library registered.  Created once per process
 * (pthread_once): immutable afterwards, so not "global state" in the sense of
 * DESIGN.md §5.
 */
static pthread_key_t rcu_key;
static pthread_once_t rcu_key_once = PTHREAD_ONCE_INIT;
/* rcu.h: set only while the library's own registration holds. */
__thread bool siommu_rcu_registered __attribute__((tls_model("initial-exec")));
/* rcu.h: what a thread's pointer shows before the thread is seen (read only). */
static struct urcu_reader rcu_unseen_reader;
__thread struct urcu_reader *siommu_rcu_reader
	__attribute__((tls_model("initial-exec"))) = &rcu_unseen_reader;

static void rcu_thread_exit(void *unused)
{
	if (siommu_rcu_registered) {
		siommu_rcu_registered = false;
		urcu_memb_unregister_thread();
	}
}

static void rcu_key_create(void)
{
	if (pthread_key_create(&rcu_key, rcu_thread_exit)) {
		/* Without the key we cannot unregister at exit: never continue. */
		siommu_check_failed("pthread_key_create", __FILE__, __LINE__);
	}
}

/*
 * The calling thread is not registered by the library.  A thread the
 * application registered is used as it is (and not cached: see rcu.h).
 */
void siommu_rcu_register_slow(void)
{
	/* liburcu's own TLS (not through the URCU_TLS() of rcu.h): slow path. */
	siommu_rcu_reader = &urcu_memb_reader;
	if (urcu_memb_reader.registered)
		return;
	pthread_once(&rcu_key_once, rcu_key_create);
	urcu_memb_register_thread();
	siommu_rcu_registered = true;
	pthread_setspecific(rcu_key, &siommu_rcu_registered);
}

void siommu_rcu_synchronize(void)
{
#ifdef SIOMMU_TSAN
	unsigned long running[RCU_TSAN_SLOTS];
#endif

	SIOMMU_CHECK(!siommu_rcu_read_ongoing());
	siommu_lockdep_grace_period("siommu_rcu_synchronize");
#ifdef SIOMMU_TSAN
	rcu_tsan_note(running);
#endif
	urcu_memb_synchronize_rcu();
#ifdef SIOMMU_TSAN
	rcu_tsan_acquire_running(running);
#endif
}

static void rcu_trampoline(struct rcu_head *h)
{
	struct siommu_rcu_head *head =
		siommu_container_of(h, struct siommu_rcu_head, urcu);

#ifdef SIOMMU_TSAN
	siommu_tsan_acquire(head);	/* first: it orders head->tsan_readers too */
	rcu_tsan_callback_acquire(head->tsan_readers);
	head->tsan_readers = NULL;
#endif
	head->func(head);
#ifdef SIOMMU_TSAN
	siommu_tsan_release(&rcu_tsan_barrier_token);
#endif
}

void siommu_call_rcu(struct siommu_rcu_head *head,
		     void (*func)(struct siommu_rcu_head *head))
{
	head->func = func;
#ifdef SIOMMU_TSAN
	head->tsan_readers = rcu_tsan_note_for_callback();
#endif
	siommu_tsan_release(head);	/* pairs with the acquire in rcu_trampoline() */
	siommu_rcu_ensure_thread();	/* call_rcu() takes a read lock inside */
	urcu_memb_call_rcu(&head->urcu, rcu_trampoline);
}

void siommu_rcu_barrier(void)
{
#ifdef SIOMMU_TSAN
	unsigned long running[RCU_TSAN_SLOTS];
#endif

	SIOMMU_CHECK(!siommu_rcu_read_ongoing());
	siommu_lockdep_grace_period("siommu_rcu_barrier");
	siommu_rcu_ensure_thread();
#ifdef SIOMMU_TSAN
	rcu_tsan_note(running);
#endif
	urcu_memb_barrier();
#ifdef SIOMMU_TSAN
	rcu_tsan_acquire_running(running);
	siommu_tsan_acquire(&rcu_tsan_barrier_token);
#endif
}

/* ---- public API ---- */

SIOMMU_API void siommu_read_lock(void)
{
	siommu_rcu_read_lock();
}

SIOMMU_API void siommu_read_unlock(void)
{
	siommu_rcu_read_unlock();
}

SIOMMU_API bool siommu_read_ongoing(void)
{
	return siommu_rcu_read_ongoing();
}

SIOMMU_API int siommu_synchronize(void)
{
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_rcu_synchronize();
	return 0;
}

SIOMMU_API int siommu_thread_release(void)
{
	if (siommu_rcu_read_ongoing())
		return -EBUSY;
	if (siommu_rcu_registered) {
		rcu_thread_exit(NULL);
		pthread_setspecific(rcu_key, NULL);
	}
	return 0;
}
