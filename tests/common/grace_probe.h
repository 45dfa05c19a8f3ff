/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Does a call wait for an RCU grace period?  A reader thread enters a
 * read-side section and stays there; the call runs on another thread.  A
 * call that returns while the reader is still inside did not wait for a
 * grace period (certain); one that has not returned after GP_PROBE_MS does
 * (the reader is then let go and the call must return).
 */
#ifndef SOFTIOMMU_TEST_GRACE_PROBE_H
#define SOFTIOMMU_TEST_GRACE_PROBE_H

#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "test_common.h"
#include <softiommu/base.h>

#define GP_PROBE_MS	2000	/* how long a call that does not wait may take */

struct gp_probe {
	int (*fn)(void *arg);
	void *arg;
	int ret;
	int inside, leave, left, done;	/* atomics */
};

static void *gp_probe_reader(void *opaque)
{
	struct gp_probe *p = opaque;
	unsigned int i;

	siommu_read_lock();
	__atomic_store_n(&p->inside, 1, __ATOMIC_RELEASE);
	/* Bounded, so that a call that waits wrongly fails the test instead of hanging it. */
	for (i = 0; i < 20000 && !__atomic_load_n(&p->leave, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	siommu_read_unlock();
	__atomic_store_n(&p->left, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *gp_probe_caller(void *opaque)
{
	struct gp_probe *p = opaque;

	p->ret = p->fn(p->arg);
	__atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Run @fn(@arg) while a reader holds a section; *@ret gets its result.
 * Returns true if it waited for the reader (a grace period), false if it
 * returned while the reader was inside.
 */
static inline bool gp_probe_waits(int (*fn)(void *arg), void *arg, int *ret)
{
	struct gp_probe p = { .fn = fn, .arg = arg };
	pthread_t reader, caller;
	bool returned_inside = false;
	unsigned int i;

	assert_int_equal(pthread_create(&reader, NULL, gp_probe_reader, &p), 0);
	while (!__atomic_load_n(&p.inside, __ATOMIC_ACQUIRE))
		usleep(100);
	assert_int_equal(pthread_create(&caller, NULL, gp_probe_caller, &p), 0);
	for (i = 0; i < GP_PROBE_MS && !__atomic_load_n(&p.done, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	if (__atomic_load_n(&p.done, __ATOMIC_ACQUIRE))
		returned_inside = !__atomic_load_n(&p.left, __ATOMIC_ACQUIRE);
	__atomic_store_n(&p.leave, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(caller, NULL), 0);
	assert_int_equal(pthread_join(reader, NULL), 0);
	*ret = p.ret;
	return !returned_inside;
}

#endif
