// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lock-order checking for testing builds: a per-thread stack of held locks.
 * Ranks must strictly increase up the stack; see lock.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/debug.h"
#include "base/lock.h"

#if SIOMMU_TESTING_BUILD
#define LOCKDEP_DEPTH 32

static __thread struct siommu_mutex *held[LOCKDEP_DEPTH];
static __thread unsigned int nr_held;
static __thread unsigned long nr_acquired;

unsigned long siommu_lockdep_acquired(void)
{
	return nr_acquired;
}

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
