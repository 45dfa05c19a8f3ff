// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ioas access objects: pin, unpin, rw, and the unmap protocol of seed 004.
 *
 * The seed's review, in one line: notify per unmap request rather than per
 * mapping, because after the lock is dropped for the notifier "even our dma
 * pointer is suspect once we re-acquire the lock", and retry a bounded
 * number of times because a pinner may not participate.  What is built:
 *
 *  P1  An unmap of a range holding pins puts a block on the range (an
 *      on-stack struct ioas_block in ioas->blocks): from then on a pin or
 *      rw touching the range fails with -EBUSY.  A pin that began before
 *      holds ioas->lock for its whole duration, so it is either complete
 *      (and seen by the unmap's lookup, which notifies its access) or not
 *      yet started (and refused): no pin slips between the look and the
 *      block.
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
 * (ioas_area.pins, which keeps the area from being removed).  The model of
 * this protocol is tests/models/seed004.pml.
 */
#include <errno.h>
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
#else
#define BROKEN(b)	false
#endif

static bool overlaps(uint64_t s1, uint64_t l1, uint64_t s2, uint64_t l2)
{
	return s1 <= l2 && s2 <= l1;
}

static uint64_t overlap_len(uint64_t s1, uint64_t l1, uint64_t s2, uint64_t l2)
{
	uint64_t s = s1 > s2 ? s1 : s2, l = l1 < l2 ? l1 : l2;

	return s <= l ? l - s + 1 : 0;
}

static bool blocked(struct siommu_ioas *ioas, uint64_t iova, uint64_t last)
{
	struct ioas_block *b;

	cds_list_for_each_entry(b, &ioas->blocks, link)
		if (overlaps(b->iova, b->last, iova, last))
			return true;
	return false;
}

/* Bytes @acc has pinned inside [iova, last]. */
static uint64_t acc_pinned_in(struct siommu_ioas_access *acc, uint64_t iova,
			      uint64_t last)
{
	struct ioas_pin *p;
	uint64_t n = 0;

	cds_list_for_each_entry(p, &acc->pins, link)
		n += overlap_len(p->iova, p->last, iova, last);
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

static void log_holders(struct siommu_ioas *ioas, uint64_t iova, uint64_t last,
			unsigned int rounds)
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
	siommu_warn(ioas->l->ctx,
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

/* The seed's first patch, for the broken variant: per area, no re-lookup. */
static uint64_t unmap_no_revalidate(struct siommu_ioas *ioas, uint64_t iova,
				    uint64_t last)
{
	struct ioas_area *a = ioas_area_first(ioas, iova, last), *next;
	uint64_t bytes = 0;

	for (; a && a->iova <= last; a = next) {
		next = ioas_area_next(a);
		if (a->pins)
			notify_round(ioas, a->iova, a->last);	/* drops the lock */
		if (a->pins)
			break;		/* "WARN_ON(!RB_EMPTY_ROOT(&dma->pfn_list)) break" */
		bytes += ioas_area_len(a);
		ioas_domains_unmap_area(ioas, a);
		RB_REMOVE(ioas_area_tree, &ioas->areas, a);
		ioas->nr_areas--;
		ioas->mapped_bytes -= ioas_area_len(a);
		ioas_pages_put(a->pages);
		siommu_free(a);
	}
	return bytes;
}

int ioas_unmap_range_locked(struct siommu_ioas *ioas, uint64_t iova,
			    uint64_t last, bool all, uint64_t *bytes)
{
	struct ioas_block blk = { .iova = iova, .last = last };
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
		pinned = pinned_in(ioas, iova, last, &unrevocable);
		if (!pinned) {
			*bytes = ioas_remove_range_locked(ioas, iova, last);
			break;
		}
		if (pinned < prev)
			rounds = 0;			/* P4: progress */
		prev = pinned;
		if (unrevocable || rounds++ >= __atomic_load_n(&ioas->unmap_retries, __ATOMIC_RELAXED)) {
			log_holders(ioas, iova, last, rounds);
			ret = -EBUSY;			/* P5 */
			break;
		}
		if (!blocking) {
			cds_list_add(&blk.link, &ioas->blocks);	/* P1 */
			blocking = true;
		}
		notify_round(ioas, iova, last);		/* P2 */
	}
	if (blocking)
		cds_list_del(&blk.link);
	return ret;
}

/* Revocation: ask the holders of @a's pins to let go (drops the lock). */
void ioas_notify_area_holders_locked(struct siommu_ioas *ioas, struct ioas_area *a)
{
	uint64_t iova = a->iova, last = a->last;

	notify_round(ioas, iova, last);		/* @a may be gone when this returns */
	if (!BROKEN(IOAS_BREAK_NOTIFY_LOCKED) && pinned_in(ioas, iova, last, &(bool){ 0 }))
		log_holders(ioas, iova, last, 1);
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
	if (acc->nr_pins && acc->fn)
		call_holder(ioas, acc, 0, UINT64_MAX);	/* drop everything */
	if (acc->nr_pins) {
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
	if (!ret)
		siommu_free(acc);
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

/*
 * Check that [iova, last] lies in contiguous areas usable for @flags.
 * Returns 0 or -ENOENT / -EPERM / -ENODEV.
 */
static int check_areas(struct siommu_ioas *ioas, uint64_t iova, uint64_t last,
		       unsigned int flags)
{
	struct ioas_area *a;
	uint64_t cur = iova;

	for (a = ioas_area_first(ioas, iova, last); a; a = ioas_area_next(a)) {
		if (a->iova > cur)
			return -ENOENT;
		if ((flags & SIOMMU_IOAS_ACCESS_WRITE) && !(a->flags & SIOMMU_IOAS_MAP_WRITE))
			return -EPERM;
		if (area_revoked(a))
			return -ENODEV;
		if (a->last >= last)
			return 0;
		cur = a->last + 1;
	}
	return -ENOENT;
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
		siommu_free(pc);	/* another IOAS sharing the pages won */
	return 0;
}

/* Add @delta to the pin count of every page of [iova, last]; fill @pages. */
static void count_pages(struct siommu_ioas *ioas, uint64_t iova, uint64_t last,
			int delta, void **pages)
{
	struct ioas_area *a;

	for (a = ioas_area_first(ioas, iova, last); a && a->iova <= last;
	     a = ioas_area_next(a)) {
		uint64_t s = a->iova > iova ? a->iova : iova;
		uint64_t e = a->last < last ? a->last : last;
		uint32_t *pc = __atomic_load_n(&a->pages->pin_counts, __ATOMIC_ACQUIRE);
		uint64_t x;

		a->pins += (uint64_t)(int64_t)delta;
		for (x = s; x <= e; x += GRANULE) {
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

int siommu_ioas_access_pin(struct siommu_ioas_access *acc, uint64_t iova,
			   uint64_t length, unsigned int flags, void **pages)
{
	struct siommu_ioas *ioas;
	struct ioas_area *a;
	struct ioas_pin *pin;
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
	siommu_mutex_lock(&ioas->lock);
	ret = blocked(ioas, iova, last) ? -EBUSY : check_areas(ioas, iova, last, flags);
	for (a = ioas_area_first(ioas, iova, last); !ret && a && a->iova <= last;
	     a = ioas_area_next(a))
		ret = pin_counts_alloc(a->pages);
	if (ret) {
		siommu_mutex_unlock(&ioas->lock);
		siommu_free(pin);
		return ret;
	}
	count_pages(ioas, iova, last, 1, pages);
	cds_list_add_tail(&pin->link, &acc->pins);
	acc->nr_pins++;
	acc->pinned_bytes += length;
	siommu_mutex_unlock(&ioas->lock);
	return 0;
}

int siommu_ioas_access_unpin(struct siommu_ioas_access *acc, uint64_t iova,
			     uint64_t length)
{
	struct siommu_ioas *ioas;
	struct ioas_pin *pin, *found = NULL;
	uint64_t last;

	if (!acc || !length || siommu_add_overflow(iova, length - 1, &last))
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	ioas = acc->ioas;
	siommu_mutex_lock(&ioas->lock);
	cds_list_for_each_entry(pin, &acc->pins, link) {
		if (pin->iova == iova && pin->last == last) {
			found = pin;
			break;
		}
	}
	if (!found) {
		siommu_mutex_unlock(&ioas->lock);
		return -EINVAL;
	}
	count_pages(ioas, iova, last, -1, NULL);
	cds_list_del(&found->link);
	acc->nr_pins--;
	acc->pinned_bytes -= length;
	siommu_mutex_unlock(&ioas->lock);
	siommu_free(found);
	return 0;
}

/* ------------------------------------------------------------------ rw */

int siommu_ioas_access_rw(struct siommu_ioas_access *acc, uint64_t iova,
			  void *buf, size_t len, unsigned int flags)
{
	struct siommu_ioas *ioas;
	struct ioas_area *a;
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
	ioas = acc->ioas;
	siommu_mutex_lock(&ioas->lock);
	ret = blocked(ioas, iova, last) ? -EBUSY : check_areas(ioas, iova, last, flags);
	for (a = ioas_area_first(ioas, iova, last); !ret && a && a->iova <= last;
	     a = ioas_area_next(a)) {
		uint64_t s = a->iova > iova ? a->iova : iova;
		uint64_t e = a->last < last ? a->last : last;
		uint8_t *host = (uint8_t *)a->pages->host + a->pages_off + (s - a->iova);

		if (flags & SIOMMU_IOAS_ACCESS_WRITE)
			memcpy(host, p + (s - iova), e - s + 1);
		else
			memcpy(p + (s - iova), host, e - s + 1);
	}
	siommu_mutex_unlock(&ioas->lock);
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
	siommu_mutex_lock(&acc->ioas->lock);
	out->id = acc->id;
	memcpy(out->name, acc->name, sizeof(out->name));
	out->pins = acc->nr_pins;
	out->pinned_bytes = acc->pinned_bytes;
	out->flags = acc->flags;
	siommu_mutex_unlock(&acc->ioas->lock);
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
