// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lock checking for testing builds (see lock.h):
 *  - order: a per-thread stack of held locks; ranks must strictly increase
 *    up the stack;
 *  - grace periods: per lock class (rank), the first stack that took it
 *    inside a read-side section and the first stack that held it while
 *    waiting for a grace period; having both aborts, printing both.
 *
 * Each class's two records are claimed with a compare-and-swap (0 -> 1,
 * then 2 once the stack is written).  A side marks its own record before
 * looking at the other's (sequentially consistent, both ways): of two
 * threads doing the two halves at once, at least one sees the other.
 */
#include <execinfo.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/debug.h"
#include "base/lock.h"
#include "base/rcu.h"

#if SIOMMU_TESTING_BUILD
#define LOCKDEP_DEPTH 32

static __thread struct siommu_mutex *held[LOCKDEP_DEPTH];
static __thread unsigned int nr_held;
static __thread unsigned long nr_acquired;

unsigned long siommu_lockdep_acquired(void)
{
	return nr_acquired;
}

/* ---- grace periods ---- */

#define LOCKDEP_CLASSES	1024	/* ranks */
#define LOCKDEP_FRAMES	32

struct lockdep_stack {
	int state;		/* atomic: 0 none, 1 being written, 2 ready */
	int nr;
	const char *name;
	void *frames[LOCKDEP_FRAMES];
};

static struct lockdep_stack reader_taken[LOCKDEP_CLASSES];
static struct lockdep_stack held_across_gp[LOCKDEP_CLASSES];

static unsigned int lock_class(const struct siommu_mutex *l)
{
	return (unsigned int)l->rank < LOCKDEP_CLASSES ? (unsigned int)l->rank :
							  LOCKDEP_CLASSES - 1;
}

/*
 * backtrace()'s first call loads the unwinder (dlopen of libgcc_s): pay that
 * when the library is loaded, not inside the first thread that records a
 * stack (it may be holding locks others wait for).
 */
__attribute__((constructor)) static void lockdep_warm_backtrace(void)
{
	void *frame[2];

	backtrace(frame, 2);
}

/* Keep the calling stack in @st unless one is there already. */
static void stack_record(struct lockdep_stack *st, const char *name)
{
	int zero = 0;

	if (__atomic_load_n(&st->state, __ATOMIC_SEQ_CST) ||
	    !__atomic_compare_exchange_n(&st->state, &zero, 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	st->name = name;
	st->nr = backtrace(st->frames, LOCKDEP_FRAMES);
	__atomic_store_n(&st->state, 2, __ATOMIC_RELEASE);
}

/* Is there a stack in @st?  Waits for one being written. */
static bool stack_present(struct lockdep_stack *st)
{
	int s;

	while ((s = __atomic_load_n(&st->state, __ATOMIC_ACQUIRE)) == 1)
		sched_yield();
	return s == 2;
}

static void print_here(void)
{
	void *frames[LOCKDEP_FRAMES];
	int n = backtrace(frames, LOCKDEP_FRAMES);

	backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

static __attribute__((noreturn)) void gp_violation(const struct siommu_mutex *l,
						  const char *now, const char *then,
						  const struct lockdep_stack *st)
{
	fprintf(stderr,
		"softiommu: grace-period rule violation: lock '%s' (rank %d) is both taken inside read-side sections and held while waiting for a grace period\n"
		"softiommu: %s at:\n", l->name, l->rank, now);
	fflush(stderr);
	print_here();
	fprintf(stderr, "softiommu: %s ('%s') at:\n", then, st->name);
	fflush(stderr);
	backtrace_symbols_fd((void *const *)st->frames, st->nr, STDERR_FILENO);
	abort();
}

/* @l is being taken inside a read-side section. */
static void gp_check_reader(const struct siommu_mutex *l)
{
	unsigned int c = lock_class(l);

	stack_record(&reader_taken[c], l->name);
	if (stack_present(&held_across_gp[c]))
		gp_violation(l, "now taken inside a read-side section",
			     "earlier held while waiting for a grace period",
			     &held_across_gp[c]);
}

void siommu_lockdep_grace_period(const char *what)
{
	unsigned int i, c;

	for (i = 0; i < nr_held; i++) {
		c = lock_class(held[i]);
		stack_record(&held_across_gp[c], held[i]->name);
		if (stack_present(&reader_taken[c])) {
			fprintf(stderr, "softiommu: %s() called holding '%s'\n",
				what, held[i]->name);
			gp_violation(held[i], "now held while waiting for a grace period",
				     "first taken inside a read-side section",
				     &reader_taken[c]);
		}
	}
}

/* ---- order ---- */

void siommu_lockdep_acquire(struct siommu_mutex *l)
{
	unsigned int i;

	for (i = 0; i < nr_held; i++) {
		if (held[i]->rank >= l->rank) {
			fprintf(stderr,
				"softiommu: lock order violation: taking '%s' (rank %d) while holding '%s' (rank %d)\n",
				l->name, l->rank, held[i]->name, held[i]->rank);
			abort();
		}
	}
	if (nr_held == LOCKDEP_DEPTH) {
		fprintf(stderr, "softiommu: lock nesting deeper than %d taking '%s'\n",
			LOCKDEP_DEPTH, l->name);
		abort();
	}
	if (siommu_rcu_read_ongoing())
		gp_check_reader(l);
	held[nr_held++] = l;
	nr_acquired++;
}

void siommu_lockdep_release(struct siommu_mutex *l)
{
	unsigned int i;

	for (i = nr_held; i-- > 0;) {
		if (held[i] == l) {
			for (; i + 1 < nr_held; i++)
				held[i] = held[i + 1];
			nr_held--;
			return;
		}
	}
	fprintf(stderr, "softiommu: releasing '%s', which this thread does not hold\n",
		l->name);
	abort();
}

bool siommu_lockdep_held(const struct siommu_mutex *l)
{
	unsigned int i;

	for (i = 0; i < nr_held; i++)
		if (held[i] == l)
			return true;
	return false;
}
#endif
