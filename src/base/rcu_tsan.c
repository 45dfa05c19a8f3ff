// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ThreadSanitizer builds only: the read-side primitives, called out of line
 * from liburcu (which is not instrumented) instead of inlined into our code.
 *
 * Inlined, liburcu's reader fast path (a volatile counter update and, on
 * unlock, a futex wake-up of a waiting grace period) would be instrumented,
 * and TSan would report those deliberate unsynchronized accesses between
 * readers as races.  Calling the library's own out-of-line functions keeps
 * them invisible to TSan; the happens-before edges RCU really provides are
 * given to TSan by the annotations in rcu.h and rcu.c.
 */
#undef _LGPL_SOURCE
#include <urcu/urcu-memb.h>

/* Declared in rcu.c, which this file cannot include (it needs _LGPL_SOURCE). */
void siommu_rcu_read_lock_tsan(void);
void siommu_rcu_read_unlock_tsan(void);

void siommu_rcu_read_lock_tsan(void)
{
	urcu_memb_read_lock();
}

void siommu_rcu_read_unlock_tsan(void)
{
	urcu_memb_read_unlock();
}
