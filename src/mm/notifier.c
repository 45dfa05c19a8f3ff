/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mm notifiers: the invalidation sequence, the in-progress count with the
 * union of the ranges in flight, subscribers and interval subscribers.
 *
 * The rule a secondary MMU lives by (KVM's mmu_notifier_retry, seed 001):
 *
 *   fault:       seq = siommu_mm_invalidate_seq(mm);       (acquire)
 *                look up the page and its level locklessly;
 *                lock(secondary);
 *                if (siommu_mm_invalidate_retry(mm, seq, addr)) retry;
 *                install;  unlock(secondary);
 *   invalidate:  mm_inv_begin: in_progress++, range joins the union;
 *                invalidate_start: lock(secondary); zap; unlock;
 *                change the primary table; ...; free the old pages;
 *                mm_inv_end: seq++ THEN in_progress--;
 *
 * Why it is safe.  Take a fault F that read an old translation (one the
 * invalidation I removes) and the mirror lock order of F's check against
 * I's zap.  (a) The zap comes after F's unlock: it removes what F
 * installed.  (b) The zap came before F's lock: then I's begin happened
 * before F's check (begin precedes the zap in I's thread; the lock orders
 * the zap before the check).  If I has not ended, in_progress counts it
 * and the union of ranges in flight covers addr: retry.  If it has ended,
 * seq was bumped before in_progress dropped, so F, which reads in_progress
 * and then seq, sees either the count or the new seq: retry.  With the
 * two steps of the end reversed there is a window, in_progress already 0
 * and seq not yet bumped, in which F installs the old page after the zap
 * and keeps it after I freed it: tests/models/seed001.pml (-DMM_REVERSED)
 * finds exactly that counterexample.
 *
 * The union of the ranges in flight is KVM's simplification: while any
 * invalidation is in progress the range only grows; it restarts at the
 * first begin after the count fell to zero.  A fault outside every range
 * in flight is not held back by them.
 *
 * Interval subscribers (HMM): mm->hmm_seq is odd while any invalidation is
 * active; the callback stores that odd value in its interval (under the
 * subscriber's lock); read_begin waits while the interval's sequence is
 * the active odd value, read_retry compares.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "base/alloc.h"
#include "base/compiler.h"
#include "base/debug.h"
#include "base/rcu.h"
#include "mm/mm_internal.h"

__thread unsigned int mm_test_breaks;

SIOMMU_API int siommu_mm_test_set_break(unsigned int breaks)
{
#if SIOMMU_TESTING_BUILD
	mm_test_breaks = breaks;
	return 0;
#else
	(void)breaks;
	return -EOPNOTSUPP;
#endif
}

int mm_ptr_array_add(void ***arr, uint32_t *nr, uint32_t *cap, void *p)
{
	if (*nr == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 8;
		void **n = siommu_calloc(ncap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		if (*nr)
			memcpy(n, *arr, *nr * sizeof(*n));
		siommu_free(*arr);
		*arr = n;
		*cap = ncap;
	}
	(*arr)[(*nr)++] = p;
	return 0;
}

void mm_ptr_array_del(void **arr, uint32_t *nr, void *p)
{
	for (uint32_t i = 0; i < *nr; i++) {
		if (arr[i] == p) {
			memmove(&arr[i], &arr[i + 1], (*nr - i - 1) * sizeof(*arr));
			(*nr)--;
			return;
		}
	}
}

/* ------------------------------------------------------------------ the sequence */

void mm_inv_begin(struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	siommu_mutex_lock(&mm->inv_lock);
	if (!__atomic_load_n(&mm->in_progress, __ATOMIC_RELAXED)) {
		__atomic_store_n(&mm->range_start, r->start, __ATOMIC_RELAXED);
		__atomic_store_n(&mm->range_last, r->last, __ATOMIC_RELAXED);
	} else {
		if (r->start < mm->range_start)
			__atomic_store_n(&mm->range_start, r->start, __ATOMIC_RELAXED);
		if (r->last > mm->range_last)
			__atomic_store_n(&mm->range_last, r->last, __ATOMIC_RELAXED);
	}
	/*
	 * The range is stored before the count (the count's store is a
	 * seq_cst read-modify-write: a reader whose acquire load sees the
	 * count sees the range).  What makes a secondary's check see this
	 * begin is not a barrier but its lock: the start callbacks (the zap)
	 * take it after this, so a check made after the zap sees the count;
	 * a check made before it is followed by the zap (notifier.c top).
	 */
	__atomic_add_fetch(&mm->in_progress, 1, __ATOMIC_SEQ_CST);
	if (mm->hmm_active++ == 0)
		__atomic_store_n(&mm->hmm_seq, mm->hmm_seq | 1, __ATOMIC_RELEASE);
	siommu_mutex_unlock(&mm->inv_lock);
	__atomic_add_fetch(&mm->invalidations, 1, __ATOMIC_RELAXED);
}

void mm_inv_end(struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	(void)r;
	siommu_mutex_lock(&mm->inv_lock);
	if (mm_test_breaks & SIOMMU_MM_BREAK_REVERSED) {
		/* Broken on purpose (testing builds): the count drops first. */
		__atomic_sub_fetch(&mm->in_progress, 1, __ATOMIC_SEQ_CST);
		for (int i = 0; i < 50; i++)
			sched_yield();
		__atomic_add_fetch(&mm->seq, 1, __ATOMIC_SEQ_CST);
	} else {
		/*
		 * KVM's order: the sequence moves before the count drops, so a
		 * fault that no longer sees the count sees the new sequence.
		 * Release on both; pairs with the acquire loads in
		 * siommu_mm_invalidate_retry() (count first, then sequence).
		 */
		__atomic_add_fetch(&mm->seq, 1, __ATOMIC_SEQ_CST);
		__atomic_sub_fetch(&mm->in_progress, 1, __ATOMIC_SEQ_CST);
	}
	if (--mm->hmm_active == 0) {
		__atomic_store_n(&mm->hmm_seq, mm->hmm_seq + 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&mm->hmm_cond);
	}
	siommu_mutex_unlock(&mm->inv_lock);
}

SIOMMU_API uint64_t siommu_mm_invalidate_seq(struct siommu_mm *mm)
{
	/* Acquire: the table loads that follow see what the bump published. */
	return __atomic_load_n(&mm->seq, __ATOMIC_ACQUIRE);
}

SIOMMU_API bool siommu_mm_invalidate_retry(struct siommu_mm *mm, uint64_t seq,
					   uint64_t addr)
{
	/*
	 * The count first, then the sequence (KVM's smp_rmb in
	 * mmu_invalidate_retry_gfn()): pairs with mm_inv_end(), which bumps
	 * the sequence before it drops the count.
	 */
	if (__atomic_load_n(&mm->in_progress, __ATOMIC_ACQUIRE)) {
		uint64_t s = __atomic_load_n(&mm->range_start, __ATOMIC_RELAXED);
		uint64_t l = __atomic_load_n(&mm->range_last, __ATOMIC_RELAXED);

		if (addr >= s && addr <= l)
			return true;
	}
	return __atomic_load_n(&mm->seq, __ATOMIC_ACQUIRE) != seq;
}

/* ------------------------------------------------------------------ calling subscribers */

void mm_call_start_locked(struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	uint64_t cur = __atomic_load_n(&mm->hmm_seq, __ATOMIC_RELAXED);

	siommu_assert_held(&mm->lock);
	for (uint32_t i = 0; i < mm->nr_notifiers; i++) {
		struct siommu_mm_notifier *n = mm->notifiers[i];

		if (n->ops->invalidate_start)
			n->ops->invalidate_start(n->opaque, mm, r);
	}
	for (uint32_t i = 0; i < mm->nr_intervals; i++) {
		struct siommu_mm_interval *in = mm->intervals[i];

		if (in->start <= r->last && r->start <= in->last)
			in->ops->invalidate(in, r, cur);
	}
}

void mm_call_tlbs_locked(struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	siommu_assert_held(&mm->lock);
	for (uint32_t i = 0; i < mm->nr_notifiers; i++) {
		struct siommu_mm_notifier *n = mm->notifiers[i];

		if (n->ops->invalidate_tlbs)
			n->ops->invalidate_tlbs(n->opaque, mm, r);
	}
}

void mm_call_end_locked(struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	siommu_assert_held(&mm->lock);
	for (uint32_t i = 0; i < mm->nr_notifiers; i++) {
		struct siommu_mm_notifier *n = mm->notifiers[i];

		if (n->ops->invalidate_end)
			n->ops->invalidate_end(n->opaque, mm, r);
	}
}

void mm_notifiers_release(struct siommu_mm *mm)
{
	struct siommu_mm_notifier **snap;
	uint32_t nr;

	/*
	 * Release callbacks may block and detach: they run with no lock held,
	 * over a snapshot (the destroy contract: nobody unregisters meanwhile).
	 */
	siommu_mutex_lock(&mm->lock);
	nr = mm->nr_notifiers;
	snap = nr ? siommu_calloc(nr, sizeof(*snap)) : NULL;
	if (snap)
		memcpy(snap, mm->notifiers, nr * sizeof(*snap));
	siommu_mutex_unlock(&mm->lock);
	if (nr && !snap) {
		/* No memory for a snapshot: call them one by one by index. */
		for (uint32_t i = 0; ; i++) {
			struct siommu_mm_notifier *n = NULL;

			siommu_mutex_lock(&mm->lock);
			if (i < mm->nr_notifiers)
				n = mm->notifiers[i];
			siommu_mutex_unlock(&mm->lock);
			if (!n)
				break;
			if (n->ops->release)
				n->ops->release(n->opaque, mm);
		}
		return;
	}
	for (uint32_t i = 0; i < nr; i++)
		if (snap[i]->ops->release)
			snap[i]->ops->release(snap[i]->opaque, mm);
	siommu_free(snap);
}

/* ------------------------------------------------------------------ registration */

SIOMMU_API int siommu_mm_notifier_register(struct siommu_mm *mm,
					   const struct siommu_mm_notifier_ops *ops,
					   void *opaque,
					   struct siommu_mm_notifier **out)
{
	struct siommu_mm_notifier *n;
	int ret;

	if (!mm || !ops || !out)
		return -EINVAL;
	n = siommu_zalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->mm = mm;
	n->ops_copy = *ops;
	n->ops = &n->ops_copy;
	n->opaque = opaque;
	siommu_mutex_lock(&mm->lock);
	if (mm->dead) {
		ret = -ENODEV;
	} else {
		ret = mm_ptr_array_add((void ***)&mm->notifiers, &mm->nr_notifiers,
				       &mm->cap_notifiers, n);
		/*
		 * The notifier keeps the object (not the address space): it may
		 * be unregistered after siommu_mm_destroy(), whose release call
		 * must not free it (nor the mm's lock) under the subscriber.
		 */
		if (!ret)
			mm_get(mm);
	}
	siommu_mutex_unlock(&mm->lock);
	if (ret) {
		siommu_free(n);
		return ret;
	}
	*out = n;
	return 0;
}

SIOMMU_API int siommu_mm_notifier_unregister(struct siommu_mm_notifier *n)
{
	struct siommu_mm *mm;

	if (!n)
		return 0;
	mm = n->mm;
	/* Callbacks other than release run under mm->lock: none after this. */
	siommu_mutex_lock(&mm->lock);
	mm_ptr_array_del((void **)mm->notifiers, &mm->nr_notifiers, n);
	siommu_mutex_unlock(&mm->lock);
	siommu_free(n);
	mm_put(mm);		/* the register's reference: may free a destroyed mm */
	return 0;
}

SIOMMU_API int siommu_mm_interval_insert(struct siommu_mm *mm, uint64_t start,
					 uint64_t len,
					 const struct siommu_mm_interval_ops *ops,
					 void *opaque,
					 struct siommu_mm_interval **out)
{
	struct siommu_mm_interval *in;
	uint64_t last;
	int ret;

	if (!mm || !ops || !ops->invalidate || !out || !len ||
	    siommu_add_overflow(start, len - 1, &last))
		return -EINVAL;
	in = siommu_zalloc(sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->mm = mm;
	in->start = start;
	in->last = last;
	in->ops = ops;
	in->opaque = opaque;
	siommu_mutex_lock(&mm->lock);
	if (mm->dead) {
		ret = -ENODEV;
	} else {
		/*
		 * An invalidation active now cleared its entries before we got
		 * mm->lock; starting at the active (odd) sequence makes the first
		 * read_begin wait for it to end, as HMM's deferred insert does.
		 */
		siommu_mutex_lock(&mm->inv_lock);
		__atomic_store_n(&in->seq, mm->hmm_seq, __ATOMIC_RELAXED);
		siommu_mutex_unlock(&mm->inv_lock);
		ret = mm_ptr_array_add((void ***)&mm->intervals, &mm->nr_intervals,
				       &mm->cap_intervals, in);
	}
	siommu_mutex_unlock(&mm->lock);
	if (ret) {
		siommu_free(in);
		return ret;
	}
	mm_get(mm);	/* the interval's, as a notifier's */
	*out = in;
	return 0;
}

SIOMMU_API int siommu_mm_interval_remove(struct siommu_mm_interval *in)
{
	struct siommu_mm *mm;

	if (!in)
		return 0;
	mm = in->mm;
	siommu_mutex_lock(&mm->lock);
	mm_ptr_array_del((void **)mm->intervals, &mm->nr_intervals, in);
	siommu_mutex_unlock(&mm->lock);
	siommu_free(in);
	mm_put(mm);
	return 0;
}

SIOMMU_API void *siommu_mm_interval_opaque(struct siommu_mm_interval *in)
{
	return in ? in->opaque : NULL;
}

SIOMMU_API uint64_t siommu_mm_interval_read_begin(struct siommu_mm_interval *in)
{
	struct siommu_mm *mm = in->mm;
	uint64_t seq;

	siommu_mutex_lock(&mm->inv_lock);
	seq = __atomic_load_n(&in->seq, __ATOMIC_ACQUIRE);
	/* The invalidation that set it is still active: wait for its end. */
	while (seq == mm->hmm_seq && (seq & 1))
		pthread_cond_wait(&mm->hmm_cond, &mm->inv_lock.m);
	siommu_mutex_unlock(&mm->inv_lock);
	return seq;
}

SIOMMU_API bool siommu_mm_interval_read_retry(struct siommu_mm_interval *in,
					      uint64_t seq)
{
	return __atomic_load_n(&in->seq, __ATOMIC_ACQUIRE) != seq;
}

SIOMMU_API void siommu_mm_interval_set_seq(struct siommu_mm_interval *in,
					   uint64_t cur_seq)
{
	__atomic_store_n(&in->seq, cur_seq, __ATOMIC_RELEASE);
}
