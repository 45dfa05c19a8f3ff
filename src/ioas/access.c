// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ioas access objects: pin, unpin, rw, and the unmap protocol of seed 004.
 *
 * The seed's review, in one line: notify per unmap request rather than per
 * mapping, because after the lock is dropped for the notifier "even our dma
 * pointer is suspect once we re-acquire the lock", and retry a bounded
 * number of times because a pinner may not participate.  What is built:
 *
 *  P1  Pins and rw take no IOAS lock: they find the areas in an RCU
 *      snapshot of the tree (ioas->snap, republished by every change) and
 *      hold each area by raising its busy count, then read its block
 *      count; an unmap, under ioas->lock, raises the block count of every
 *      area of its range (and records the range in ioas->blocks, so an area
 *      mapped there meanwhile is born blocked), then reads their busy
 *      counts.  Both sides write first and read the other's counter after,
 *      all seq_cst (a Dekker pair): a pin either sees the block and lets go
 *      (-EBUSY, having touched only the area struct, which a grace period
 *      keeps), or is seen busy by the unmap, which then does not remove the
 *      area.  So a pin that began before the block is complete (and its
 *      access notified) or refused; none slips between the count and the
 *      removal.  Busy with no pin record (a pin between its hold and its
 *      record, an rw copying, a pin backing off) ends without any lock of
 *      ours: the unmap waits for it, not counting a round.  A removed area
 *      stays blocked for good: a lookup through an old snapshot refuses it.
 *      Two threads pinning disjoint areas share no written cache line but
 *      their accesses' locks (one each) and their areas' counters.
 *  P2  The holders are called one at a time, in access-id order, with NO
 *      IOAS lock held (ioas->lock is dropped around each call; the access
 *      is kept alive by acc->users, which destroy waits for).  The next
 *      holder is found from scratch after each call (the first access with
 *      a larger id that still holds pins in the range): no pointer kept
 *      across a call, and nothing allocated.
 *  P3  After a round, everything is looked up again from scratch: the
 *      areas of the range are validated anew (-ENOENT if the range no
 *      longer covers whole areas, or nothing is left), pins counted anew.
 *  P4  Rounds are bounded (ioas->unmap_retries, default 100); a round that
 *      lowered the pinned bytes of the range resets the count.  Since the
 *      block keeps new pins out, pinned bytes only go down while the
 *      unmap waits: it terminates.  An unrevocable holder (no callback)
 *      makes it -EBUSY at once.
 *  P5  -EBUSY removes the block and changes nothing else: nothing of the
 *      range was unmapped (areas are removed only once no pin is left in
 *      the whole range), and the holders are named in a log warning and by
 *      siommu_ioas_pin_holders().
 *
 * Pins are counted per page in the pages object (pages.c), so pages shared
 * by copy are counted once whichever area was pinned, and per area
 * (ioas_area.busy, which keeps the area from being removed); the pin
 * records (who holds what, for the notification) are the access's, under
 * its own lock (acc->lock, taken alone or under ioas->lock).  The model of
 * this protocol is tests/models/seed004.pml.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/ctx.h"
#include "base/debug.h"
#include "base/rcu.h"
#include "ioas/ioas_internal.h"

#define GRANULE		SIOMMU_IOAS_PAGE_SIZE

/* The access whose callback this thread is running (destroy: -EDEADLK). */
static __thread struct siommu_ioas_access *in_callback;

#if SIOMMU_TESTING_BUILD
static __thread enum ioas_test_break test_break;

void ioas_test_set_break(enum ioas_test_break b)
{
	test_break = b;
}
#define BROKEN(b)	(test_break == (b))

bool ioas_test_broken(enum ioas_test_break b)
{
	return test_break == b;
}

void (*ioas_test_pin_hook)(void);
#else
#define BROKEN(b)	false
#endif

static uint64_t overlap_len(uint64_t s1, uint64_t l1, uint64_t s2, uint64_t l2)
{
	uint64_t s = s1 > s2 ? s1 : s2, l = l1 < l2 ? l1 : l2;

	return s <= l ? l - s + 1 : 0;
}

/* Bytes @acc has pinned inside [iova, last]. */
static uint64_t acc_pinned_in(struct siommu_ioas_access *acc, uint64_t iova,
			      uint64_t last)
{
	struct ioas_pin *p;
	uint64_t n = 0;

	siommu_mutex_lock(&acc->lock);
	cds_list_for_each_entry(p, &acc->pins, link)
		n += overlap_len(p->iova, p->last, iova, last);
	siommu_mutex_unlock(&acc->lock);
	return n;
}

static uint64_t acc_nr_pins(struct siommu_ioas_access *acc)
{
	uint64_t n;

	siommu_mutex_lock(&acc->lock);
	n = acc->nr_pins;
	siommu_mutex_unlock(&acc->lock);
	return n;
}

static uint64_t pinned_in(struct siommu_ioas *ioas, uint64_t iova, uint64_t last,
			  bool *unrevocable)
{
	struct siommu_ioas_access *acc;
	uint64_t n = 0, k;

	*unrevocable = false;
	cds_list_for_each_entry(acc, &ioas->accesses, link) {
		k = acc_pinned_in(acc, iova, last);
		if (k && !acc->fn)
			*unrevocable = true;
		n += k;
	}
	return n;
}

static bool area_revoked(const struct ioas_area *a)
{
	struct siommu_mem_region_info ri;

	return a->pages->region && !siommu_mem_region_info(a->pages->region, &ri) &&
	       ri.revoked;
}

/*
 * Call @acc's callback for [iova, last] with ioas->lock dropped (P2); the
 * access stays alive meanwhile (destroy waits for acc->users).
 */
static void call_holder(struct siommu_ioas *ioas, struct siommu_ioas_access *acc,
			uint64_t iova, uint64_t last)
{
	struct siommu_ioas_access *prev = in_callback;
	bool locked = BROKEN(IOAS_BREAK_NOTIFY_LOCKED);

	acc->users++;
	if (!locked)
		siommu_mutex_unlock(&ioas->lock);
	in_callback = acc;
	acc->fn(acc->opaque, iova, last - iova + 1 ? last - iova + 1 : UINT64_MAX);
	in_callback = prev;
	if (!locked)
		siommu_mutex_lock(&ioas->lock);
	if (!--acc->users)
		pthread_cond_broadcast(&ioas->cond);
}

/* One round: every holder of pins in [iova, last], found from scratch. */
static void notify_round(struct siommu_ioas *ioas, uint64_t iova, uint64_t last)
{
	uint32_t cursor = 0;

	for (;;) {
		struct siommu_ioas_access *acc, *next = NULL;

		cds_list_for_each_entry(acc, &ioas->accesses, link) {
			if (acc->id > cursor && acc->fn &&
			    acc_pinned_in(acc, iova, last)) {
				next = acc;
				break;
			}
		}
		if (!next)
			return;
		cursor = next->id;
		call_holder(ioas, next, iova, last);
	}
}

/*
 * The warning naming who still pins [iova, last], formatted under
 * ioas->lock into @out (IOAS_WARN_MAX bytes) and logged by the caller once
 * the lock is dropped: a log sink is called with no library lock held
 * (base.h), and may call back into the library.
 */
static void format_holders(struct siommu_ioas *ioas, uint64_t iova, uint64_t last,
			   unsigned int rounds, bool revoke, char *out)
{
	struct siommu_ioas_access *acc;
	char buf[256];
	size_t len = 0;
	int n;

	buf[0] = '\0';
	cds_list_for_each_entry(acc, &ioas->accesses, link) {
		if (!acc_pinned_in(acc, iova, last))
			continue;
		n = snprintf(buf + len, sizeof(buf) - len, "%s%s#%u", len ? ", " : "",
			     acc->name[0] ? acc->name : "access", acc->id);
		if (n < 0 || (size_t)n >= sizeof(buf) - len) {
			memcpy(buf + sizeof(buf) - 4, "...", 4);
			break;
		}
		len += (size_t)n;
	}
	if (revoke)
		snprintf(out, IOAS_WARN_MAX,
			 "ioas: revoke of the memory of [0x%llx, 0x%llx]: pins stayed after %u rounds: still pinned by %s",
			 (unsigned long long)iova, (unsigned long long)last, rounds, buf);
	else
		snprintf(out, IOAS_WARN_MAX,
			 "ioas: unmap [0x%llx, 0x%llx] refused (-EBUSY) after %u rounds: still pinned by %s",
			 (unsigned long long)iova, (unsigned long long)last, rounds, buf);
}

/*
 * Does [iova, last] cover whole areas only?  0, or -ENOENT (an area crosses
 * a boundary, or, unless @all, nothing is mapped there).
 */
static int validate_range(struct siommu_ioas *ioas, uint64_t iova, uint64_t last,
			  bool all)
{
	struct ioas_area *a = ioas_area_first(ioas, iova, last);

	if (!a)
		return all ? 0 : -ENOENT;
	for (; a && a->iova <= last; a = ioas_area_next(a))
		if (a->iova < iova || a->last > last)
			return -ENOENT;
	return 0;
}

static uint64_t area_busy(struct ioas_area *a)
{
	return (uint64_t)__atomic_load_n(&a->busy, __ATOMIC_SEQ_CST);
}

/* Block (or unblock) every area in [iova, last]: see P1. */
static void block_areas(struct siommu_ioas *ioas, uint64_t iova, uint64_t last, bool on)
{
	struct ioas_area *a;

	for (a = ioas_area_first(ioas, iova, last); a && a->iova <= last; a = ioas_area_next(a)) {
		if (on)
			/* Pairs with the busy increment then blocked load of hold_areas_rcu(). */
			__atomic_fetch_add(&a->blocked, 1, __ATOMIC_SEQ_CST);
		else
			__atomic_fetch_sub(&a->blocked, 1, __ATOMIC_RELEASE);
	}
}

/* Something holds or is about to hold an area of [iova, last] (P1). */
static bool range_busy(struct siommu_ioas *ioas, uint64_t iova, uint64_t last)
{
	struct ioas_area *a;

	for (a = ioas_area_first(ioas, iova, last); a && a->iova <= last; a = ioas_area_next(a))
		if (area_busy(a))
			return true;
	return false;
}

/*
 * The seed's first patch, for the broken variant: per area, no block, no
 * re-lookup of the area after the callback.
 */
static uint64_t unmap_no_revalidate(struct siommu_ioas *ioas, uint64_t iova,
				    uint64_t last)
{
	struct ioas_area *a = ioas_area_first(ioas, iova, last), *next;
	uint64_t bytes = 0, b;

	for (; a && a->iova <= last; a = next) {
		next = ioas_area_next(a);
		if (area_busy(a))
			notify_round(ioas, a->iova, a->last);	/* drops the lock */
		/* the same area pointer after retaking the lock */
		block_areas(ioas, a->iova, a->last, true);
		if (area_busy(a)) {
			block_areas(ioas, a->iova, a->last, false);
			break;		/* "WARN_ON(!RB_EMPTY_ROOT(&dma->pfn_list)) break" */
		}
		if (ioas_remove_range_locked(ioas, a->iova, a->last, &b, NULL))
			break;
		bytes += b;
	}
	return bytes;
}

int ioas_unmap_range_locked(struct siommu_ioas *ioas, uint64_t iova,
			    uint64_t last, bool all, uint64_t *bytes, char *warn)
{
	struct ioas_block blk = { .iova = iova, .last = last };
	struct ioas_snap *spare = NULL;	/* the removal's snapshot, taken before callbacks */
	uint64_t pinned, prev = UINT64_MAX;
	unsigned int rounds = 0;
	bool blocking = false, unrevocable;
	int ret;

	siommu_assert_held(&ioas->lock);
	for (;;) {
		ret = validate_range(ioas, iova, last, all);	/* P3: from scratch */
		if (ret)
			break;
		if (BROKEN(IOAS_BREAK_NO_REVALIDATE)) {
			*bytes = unmap_no_revalidate(ioas, iova, last);
			break;
		}
		if (!blocking) {
			cds_list_add(&blk.link, &ioas->blocks);	/* P1 */
			block_areas(ioas, iova, last, true);
			blocking = true;
		}
		if (!range_busy(ioas, iova, last)) {
			ret = ioas_remove_range_locked(ioas, iova, last, bytes, &spare);
			break;
		}
		pinned = pinned_in(ioas, iova, last, &unrevocable);
		if (!pinned) {
			/*
			 * Busy with no pin record: a pin between its hold and its
			 * record, or an rw copying, or one backing off from the
			 * block.  Each ends without a lock of ours: wait for it
			 * (not a round).
			 */
			siommu_mutex_unlock(&ioas->lock);
			sched_yield();
			siommu_mutex_lock(&ioas->lock);
			continue;
		}
		if (pinned < prev)
			rounds = 0;			/* P4: progress */
		prev = pinned;
		if (unrevocable || rounds++ >= __atomic_load_n(&ioas->unmap_retries, __ATOMIC_RELAXED)) {
			format_holders(ioas, iova, last, rounds, false, warn);
			ret = -EBUSY;			/* P5 */
			break;
		}
		/*
		 * The snapshot the removal will publish, allocated before any
		 * access is asked to unpin: an unmap that fails for memory must
		 * not have made them drop their pins first.
		 */
		if (!spare) {
			spare = ioas_snap_alloc(ioas->nr_areas, &ret);
			if (ret)
				break;
		}
		notify_round(ioas, iova, last);		/* P2 */
	}
	siommu_free(spare);
	if (blocking) {
		/* The areas in the range now (a callback may have changed them). */
		block_areas(ioas, iova, last, false);
		cds_list_del(&blk.link);
	}
	return ret;
}

/* Revocation: ask the holders of @a's pins to let go (drops the lock). */
/*
 * Revocation: ask the holders of pins in @a's range to let go, in rounds
 * as an unmap does (P2-P4: holders found from scratch each round, at most
 * unmap_retries rounds, progress resets the count; new pins of the revoked
 * memory already fail, so pins only go down).  Unrevocable pins and pins
 * that stay are logged.  Drops the lock: @a may be gone when this returns.
 */
void ioas_notify_area_holders_locked(struct siommu_ioas *ioas, struct ioas_area *a)
{
	uint64_t iova = a->iova, last = a->last, pinned, prev = UINT64_MAX;
	unsigned int rounds = 0;
	bool unrevocable;

	for (;;) {
		pinned = pinned_in(ioas, iova, last, &unrevocable);
		if (!pinned)
			return;
		if (pinned < prev)
			rounds = 0;
		prev = pinned;
		if (unrevocable || rounds++ >= __atomic_load_n(&ioas->unmap_retries,
							     __ATOMIC_RELAXED))
			break;
		notify_round(ioas, iova, last);
		if (BROKEN(IOAS_BREAK_NOTIFY_LOCKED))
			return;
	}
	{
		char warn[IOAS_WARN_MAX];

		format_holders(ioas, iova, last, rounds, true, warn);
		siommu_mutex_unlock(&ioas->lock);	/* the sink runs with no lock held */
		siommu_warn(ioas->l->ctx, "%s", warn);
		siommu_mutex_lock(&ioas->lock);
	}
}

uint64_t ioas_pinned_pages_locked(struct siommu_ioas *ioas)
{
	struct ioas_area *a, *b;
	uint64_t n = 0, i, npg;

	RB_FOREACH(a, ioas_area_tree, &ioas->areas) {
		uint32_t *pc = __atomic_load_n(&a->pages->pin_counts, __ATOMIC_ACQUIRE);
		bool first = true;

		RB_FOREACH(b, ioas_area_tree, &ioas->areas) {
			if (b == a)
				break;
			if (b->pages == a->pages)
				first = false;
		}
		if (!first || !pc)
			continue;
		npg = a->pages->length / GRANULE;
		for (i = 0; i < npg; i++)
			n += __atomic_load_n(&pc[i], __ATOMIC_RELAXED);
	}
	return n;
}

/* ------------------------------------------------------------------ objects */

static void access_attach(struct siommu_ioas_access *acc, struct siommu_ioas *ioas);

int siommu_ioas_access_create(struct siommu_ioas *ioas, const char *name,
			      siommu_ioas_unmap_fn *fn, void *opaque,
			      unsigned int flags, struct siommu_ioas_access **out)
{
	struct siommu_ioas_access *acc;

	if (!ioas || !out || flags & ~SIOMMU_IOAS_ACCESS_UNREVOCABLE ||
	    (fn && (flags & SIOMMU_IOAS_ACCESS_UNREVOCABLE)))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	acc = siommu_zalloc(sizeof(*acc));
	if (!acc)
		return -ENOMEM;
	acc->ioas = ioas;
	acc->fn = fn;
	acc->opaque = opaque;
	acc->flags = flags;
	if (name)
		snprintf(acc->name, sizeof(acc->name), "%s", name);
	CDS_INIT_LIST_HEAD(&acc->pins);
	siommu_mutex_init(&acc->lock, "ioas.access", SIOMMU_RANK_IOAS_ACCESS);
	access_attach(acc, ioas);
	*out = acc;
	return 0;
}

/*
 * Take @acc out of its IOAS: ask it to drop everything, refuse -EBUSY if
 * pins stay, wait for callbacks of it that unmaps are running.  Returns 0
 * with @acc in no list, or -EBUSY with nothing changed.
 */
static int access_detach(struct siommu_ioas_access *acc)
{
	struct siommu_ioas *ioas = acc->ioas;

	siommu_mutex_lock(&ioas->lock);
	if (acc_nr_pins(acc) && acc->fn)
		call_holder(ioas, acc, 0, UINT64_MAX);	/* drop everything */
	if (acc_nr_pins(acc)) {
		siommu_mutex_unlock(&ioas->lock);
		return -EBUSY;
	}
	/* Callbacks of it that unmaps are running: never freed under them. */
	while (acc->users)
		pthread_cond_wait(&ioas->cond, &ioas->lock.m);
	cds_list_del(&acc->link);
	ioas->nr_accesses--;
	siommu_mutex_unlock(&ioas->lock);
	return 0;
}

static void access_attach(struct siommu_ioas_access *acc, struct siommu_ioas *ioas)
{
	siommu_mutex_lock(&ioas->lock);
	acc->ioas = ioas;
	acc->id = ++ioas->next_access_id;
	cds_list_add_tail(&acc->link, &ioas->accesses);	/* ascending ids */
	ioas->nr_accesses++;
	siommu_mutex_unlock(&ioas->lock);
}

int siommu_ioas_access_destroy(struct siommu_ioas_access *acc)
{
	int ret;

	if (!acc)
		return 0;
	if (siommu_rcu_read_ongoing() || in_callback == acc)
		return -EDEADLK;
	ret = access_detach(acc);
	if (!ret) {
		siommu_mutex_destroy(&acc->lock);
		siommu_free(acc);
	}
	return ret;
}

int siommu_ioas_access_replace(struct siommu_ioas_access *acc,
			       struct siommu_ioas *ioas)
{
	int ret;

	if (!acc || !ioas)
		return -EINVAL;
	if (siommu_rcu_read_ongoing() || in_callback == acc)
		return -EDEADLK;
	if (ioas == acc->ioas)
		return 0;
	ret = access_detach(acc);
	if (!ret)
		access_attach(acc, ioas);
	return ret;
}

/* ------------------------------------------------------------------ pin */

static int range_args(uint64_t iova, uint64_t length, uint64_t *last)
{
	if (!length)
		return -EINVAL;
	if (siommu_add_overflow(iova, length - 1, last))
		return -EOVERFLOW;
	return 0;
}

/* Context: read-side section.  The index of the first area of @s ending at or after @iova. */
static unsigned int snap_first(const struct ioas_snap *s, uint64_t iova)
{
	unsigned int lo = 0, hi = s->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (s->a[mid]->last < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Context: read-side section.  The areas of @s covering [iova, last]
 * (contiguous), not held: [*@first, *@first + *@nr).  0 or -ENOENT.
 */
static int find_areas_rcu(struct ioas_snap *s, uint64_t iova, uint64_t last,
			  unsigned int *first, unsigned int *nr)
{
	unsigned int i, j, n = 0;
	uint64_t cur = iova;

	if (!s)
		return -ENOENT;
	i = snap_first(s, iova);
	for (j = i; j < s->n; j++) {
		if (s->a[j]->iova > cur)
			return -ENOENT;
		n++;
		if (s->a[j]->last >= last)
			break;
		cur = s->a[j]->last + 1;
	}
	if (j == s->n)
		return -ENOENT;
	*first = i;
	*nr = n;
	return 0;
}

static void release_areas(struct ioas_snap *s, unsigned int i, unsigned int n)
{
	for (; n; n--, i++)
		/* Pairs with the seq_cst load of range_busy(): what we did is seen. */
		__atomic_fetch_sub(&s->a[i]->busy, 1, __ATOMIC_RELEASE);
}

/*
 * Context: read-side section (@s stays valid).  Hold the areas of @s
 * covering [iova, last] (contiguous): raise each one's busy count, then
 * check that no unmap blocks them.  The Dekker pair with the unmap's
 * block_areas() + range_busy() (P1): both sides write first (busy here,
 * blocked there), then read the other's variable, all seq_cst, so at least
 * one sees the other — either this sees the block and lets go (-EBUSY), or
 * the unmap sees the area busy and does not remove it.  An area removed
 * after this snapshot was taken stays blocked for good: it is refused too.
 * Returns 0 with [*@first, *@first + *@nr) held, -ENOENT or -EBUSY (nothing
 * held).
 */
static int hold_areas_rcu(struct ioas_snap *s, uint64_t iova, uint64_t last,
			  unsigned int *first, unsigned int *nr)
{
	unsigned int i, j, n;
	int ret = find_areas_rcu(s, iova, last, &i, &n);

	if (ret)
		return ret;
	for (j = i; j < i + n; j++)
		__atomic_fetch_add(&s->a[j]->busy, 1, __ATOMIC_SEQ_CST);
	siommu_debug_yield(SIOMMU_YIELD_IOAS_HOLD);	/* widens the hold-to-check window */
	for (j = i; j < i + n; j++) {
		if (__atomic_load_n(&s->a[j]->blocked, __ATOMIC_SEQ_CST)) {
			release_areas(s, i, n);
			return -EBUSY;
		}
	}
	*first = i;
	*nr = n;
	return 0;
}

/* Held areas usable for @flags?  0, -EPERM or -ENODEV. */
static int check_held(struct ioas_snap *s, unsigned int i, unsigned int n,
		      unsigned int flags)
{
	for (; n; n--, i++) {
		struct ioas_area *a = s->a[i];

		if ((flags & SIOMMU_IOAS_ACCESS_WRITE) && !(a->flags & SIOMMU_IOAS_MAP_WRITE))
			return -EPERM;
		if (area_revoked(a))
			return -ENODEV;
	}
	return 0;
}

static int pin_counts_alloc(struct ioas_pages *p)
{
	uint32_t *pc, *expected = NULL;

	if (__atomic_load_n(&p->pin_counts, __ATOMIC_ACQUIRE))
		return 0;
	pc = siommu_calloc(p->length / GRANULE, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	/* Pairs with the acquire loads: the zeroed array is seen whole. */
	if (!__atomic_compare_exchange_n(&p->pin_counts, &expected, pc, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		siommu_free(pc);	/* another pinner won */
	return 0;
}

/* Add @delta to the pin count of every page of [iova, last] in held areas; fill @pages. */
static void count_pages(struct ioas_snap *s, unsigned int i, unsigned int n,
			uint64_t iova, uint64_t last, int delta, void **pages)
{
	for (; n; n--, i++) {
		struct ioas_area *a = s->a[i];
		uint64_t st = a->iova > iova ? a->iova : iova;
		uint64_t e = a->last < last ? a->last : last;
		uint32_t *pc = __atomic_load_n(&a->pages->pin_counts, __ATOMIC_ACQUIRE);
		uint64_t x;

		for (x = st; x <= e; x += GRANULE) {
			uint64_t off = a->pages_off + (x - a->iova);

			if (delta > 0)
				__atomic_fetch_add(&pc[off / GRANULE], 1, __ATOMIC_RELAXED);
			else
				SIOMMU_WARN_ON(!__atomic_fetch_sub(&pc[off / GRANULE], 1,
								   __ATOMIC_RELAXED));
			if (pages)
				pages[(x - iova) / GRANULE] = (char *)a->pages->host + off;
			if (x == e + 1 - GRANULE)
				break;		/* e may be UINT64_MAX: no wrap */
		}
	}
}

/*
 * Pin, unpin and rw take no IOAS lock (P1 of the top comment): the areas
 * are found in the RCU snapshot and held by their busy count, so pins of
 * disjoint areas by different threads share no written cache line but
 * their own access's lock and their areas' counters.
 */
int siommu_ioas_access_pin(struct siommu_ioas_access *acc, uint64_t iova,
			   uint64_t length, unsigned int flags, void **pages)
{
	struct siommu_ioas *ioas;
	struct ioas_snap *s;
	struct ioas_pin *pin;
	unsigned int i, n, j;
	uint64_t last;
	int ret;

	if (!acc || !pages || flags & ~SIOMMU_IOAS_ACCESS_WRITE ||
	    iova % GRANULE || length % GRANULE)
		return -EINVAL;
	ret = range_args(iova, length, &last);
	if (ret)
		return ret;
	if (!acc->fn && !(acc->flags & SIOMMU_IOAS_ACCESS_UNREVOCABLE))
		return -EPERM;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	ioas = acc->ioas;
	pin = siommu_zalloc(sizeof(*pin));
	if (!pin)
		return -ENOMEM;
	pin->iova = iova;
	pin->last = last;
	siommu_rcu_read_lock();
	/* Pairs with the release store of snap_publish_locked(). */
	s = __atomic_load_n(&ioas->snap, __ATOMIC_ACQUIRE);
	ret = hold_areas_rcu(s, iova, last, &i, &n);
	if (ret)
		goto out_unlock;
	ret = check_held(s, i, n, flags);
	for (j = i; !ret && j < i + n; j++)
		ret = pin_counts_alloc(s->a[j]->pages);
	if (ret) {
		release_areas(s, i, n);
		goto out_unlock;
	}
	count_pages(s, i, n, iova, last, 1, pages);
	siommu_debug_yield(SIOMMU_YIELD_IOAS_HOLD);	/* checked, not yet recorded */
#if SIOMMU_TESTING_BUILD
	if (ioas_test_pin_hook)
		ioas_test_pin_hook();	/* a stress test's scripted interleaving */
#endif
	/*
	 * The record goes in before the read-side section ends: a revoke of the
	 * memory sets its revoked flag (checked above), and the IOAS's revoke
	 * notifier waits for a grace period before it looks for holders
	 * (domain.c), so a pin that checked before the flag is recorded by
	 * then and is asked to go.  acc->lock is never held across a grace
	 * period, so taking it here is allowed.  The areas stay held (busy)
	 * until the unpin.
	 */
	siommu_mutex_lock(&acc->lock);
	cds_list_add_tail(&pin->link, &acc->pins);
	acc->nr_pins++;
	acc->pinned_bytes += length;
	siommu_mutex_unlock(&acc->lock);
	siommu_rcu_read_unlock();
	return 0;

out_unlock:
	siommu_rcu_read_unlock();
	siommu_free(pin);
	return ret;
}

int siommu_ioas_access_unpin(struct siommu_ioas_access *acc, uint64_t iova,
			     uint64_t length)
{
	struct ioas_pin *pin, *found = NULL;
	struct ioas_snap *s;
	unsigned int i, n = 0;
	uint64_t last, cur;

	if (!acc || !length || siommu_add_overflow(iova, length - 1, &last))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&acc->lock);
	cds_list_for_each_entry(pin, &acc->pins, link) {
		if (pin->iova == iova && pin->last == last) {
			found = pin;
			break;
		}
	}
	if (found) {
		cds_list_del(&found->link);
		acc->nr_pins--;
		acc->pinned_bytes -= length;
	}
	siommu_mutex_unlock(&acc->lock);
	if (!found)
		return -EINVAL;
	/*
	 * The pin's areas are held (busy), so no unmap removed them: every
	 * snapshot published since the pin holds them.
	 */
	siommu_rcu_read_lock();
	s = __atomic_load_n(&acc->ioas->snap, __ATOMIC_ACQUIRE);
	i = s ? snap_first(s, iova) : 0;
	for (cur = iova; s && i + n < s->n && s->a[i + n]->iova <= last; n++)
		cur = s->a[i + n]->last;
	SIOMMU_WARN_ON(!n || cur < last);
	count_pages(s, i, n, iova, last, -1, NULL);
	release_areas(s, i, n);
	siommu_rcu_read_unlock();
	siommu_free(found);
	return 0;
}

/* ------------------------------------------------------------------ rw */

int siommu_ioas_access_rw(struct siommu_ioas_access *acc, uint64_t iova,
			  void *buf, size_t len, unsigned int flags)
{
	struct ioas_snap *s;
	unsigned int i, n, j;
	uint64_t last;
	uint8_t *p = buf;
	int ret;

	if (!acc || !buf || flags & ~SIOMMU_IOAS_ACCESS_WRITE)
		return -EINVAL;
	ret = range_args(iova, len, &last);
	if (ret)
		return ret;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	/*
	 * The copy runs inside the read-side section with the areas held: an
	 * unmap waits for it (busy), and a revoke of REGION memory waits for
	 * the section, so nothing is copied after either returns.
	 */
	siommu_rcu_read_lock();
	s = __atomic_load_n(&acc->ioas->snap, __ATOMIC_ACQUIRE);
	if (BROKEN(IOAS_BREAK_RW_NO_HOLD))
		ret = find_areas_rcu(s, iova, last, &i, &n);	/* no hold, no block check */
	else
		ret = hold_areas_rcu(s, iova, last, &i, &n);
	if (ret)
		goto out;
	ret = check_held(s, i, n, flags);
	siommu_debug_yield(SIOMMU_YIELD_IOAS_HOLD);	/* held, not yet copied */
	for (j = i; !ret && j < i + n; j++) {
		struct ioas_area *a = s->a[j];
		uint64_t st = a->iova > iova ? a->iova : iova;
		uint64_t e = a->last < last ? a->last : last;
		uint8_t *host = (uint8_t *)a->pages->host + a->pages_off + (st - a->iova);

		if (flags & SIOMMU_IOAS_ACCESS_WRITE)
			memcpy(host, p + (st - iova), e - st + 1);
		else
			memcpy(p + (st - iova), host, e - st + 1);
	}
	if (!BROKEN(IOAS_BREAK_RW_NO_HOLD))
		release_areas(s, i, n);
out:
	siommu_rcu_read_unlock();
	return ret;
}

/* ------------------------------------------------------------------ queries */

int siommu_ioas_access_get_info(struct siommu_ioas_access *acc,
				struct siommu_ioas_access_info *out)
{
	if (!acc || !out)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	memset(out, 0, sizeof(*out));
	siommu_mutex_lock(&acc->lock);
	out->id = acc->id;
	memcpy(out->name, acc->name, sizeof(out->name));
	out->pins = acc->nr_pins;
	out->pinned_bytes = acc->pinned_bytes;
	out->flags = acc->flags;
	siommu_mutex_unlock(&acc->lock);
	return 0;
}

int siommu_ioas_pin_holders(struct siommu_ioas *ioas, uint64_t iova,
			    uint64_t length, uint32_t *ids, unsigned int max)
{
	struct siommu_ioas_access *acc;
	uint64_t last;
	int ret, n = 0;

	if (!ioas || (!ids && max))
		return -EINVAL;
	ret = range_args(iova, length, &last);
	if (ret)
		return ret;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	siommu_mutex_lock(&ioas->lock);
	cds_list_for_each_entry(acc, &ioas->accesses, link) {
		if (!acc_pinned_in(acc, iova, last))
			continue;
		if ((unsigned int)n < max)
			ids[n] = acc->id;
		n++;
	}
	siommu_mutex_unlock(&ioas->lock);
	return n;
}

int siommu_ioas_set_unmap_retries(struct siommu_ioas *ioas, unsigned int rounds)
{
	if (!ioas || !rounds || rounds > 1000000)
		return -EINVAL;
	__atomic_store_n(&ioas->unmap_retries, rounds, __ATOMIC_RELAXED);
	return 0;
}
