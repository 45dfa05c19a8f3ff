// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * RCU glue: lazy registration of threads with urcu-memb, unregistration at
 * thread exit, grace periods and deferred callbacks.  See rcu.h for the
 * design and docs/architecture.md for the measurements behind the flavor.
 */
#include <errno.h>
#include <pthread.h>

#include "softiommu/base.h"
#include "base/debug.h"
#include "base/rcu.h"

#ifdef SIOMMU_TSAN
char siommu_rcu_tsan_token;		/* read_unlock releases, grace periods acquire */
char siommu_rcu_barrier_tsan_token;	/* callbacks release, rcu_barrier acquires */
#endif

/*
 * rcu_key exists only so that its destructor runs at thread exit; its value
 * is non-NULL in threads the library registered.  Created once per process
 * (pthread_once): immutable afterwards, so not "global state" in the sense of
 * DESIGN.md §5.
 */
static pthread_key_t rcu_key;
static pthread_once_t rcu_key_once = PTHREAD_ONCE_INIT;
static __thread bool registered_by_us;

static void rcu_thread_exit(void *unused)
{
	if (registered_by_us) {
		registered_by_us = false;
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

void siommu_rcu_register_slow(void)
{
	pthread_once(&rcu_key_once, rcu_key_create);
	urcu_memb_register_thread();
	registered_by_us = true;
	pthread_setspecific(rcu_key, &registered_by_us);
}

void siommu_rcu_synchronize(void)
{
	SIOMMU_CHECK(!siommu_rcu_read_ongoing());
	urcu_memb_synchronize_rcu();
#ifdef SIOMMU_TSAN
	siommu_tsan_acquire(&siommu_rcu_tsan_token);
#endif
}

static void rcu_trampoline(struct rcu_head *h)
{
	struct siommu_rcu_head *head =
		siommu_container_of(h, struct siommu_rcu_head, urcu);

#ifdef SIOMMU_TSAN
	siommu_tsan_acquire(&siommu_rcu_tsan_token);
	siommu_tsan_acquire(head);
#endif
	head->func(head);
#ifdef SIOMMU_TSAN
	siommu_tsan_release(&siommu_rcu_barrier_tsan_token);
#endif
}

void siommu_call_rcu(struct siommu_rcu_head *head,
		     void (*func)(struct siommu_rcu_head *head))
{
	head->func = func;
	siommu_tsan_release(head);	/* pairs with the acquire in rcu_trampoline() */
	siommu_rcu_ensure_thread();	/* call_rcu() takes a read lock inside */
	urcu_memb_call_rcu(&head->urcu, rcu_trampoline);
}

void siommu_rcu_barrier(void)
{
	SIOMMU_CHECK(!siommu_rcu_read_ongoing());
	siommu_rcu_ensure_thread();
	urcu_memb_barrier();
#ifdef SIOMMU_TSAN
	siommu_tsan_acquire(&siommu_rcu_tsan_token);
	siommu_tsan_acquire(&siommu_rcu_barrier_tsan_token);
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
	if (registered_by_us) {
		rcu_thread_exit(NULL);
		pthread_setspecific(rcu_key, NULL);
	}
	return 0;
}
