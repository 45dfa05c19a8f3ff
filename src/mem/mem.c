// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The physical memory map: RAM and MMIO regions found lock-free, and their
 * revocation (seed 003).
 *
 * Layout.  The map is a sorted array of slots (first byte, last byte,
 * region pointer), immutable once published.  Adding or removing a region
 * builds a new array under mem->lock and publishes it with a release store
 * (copy-on-write); the old array is freed by call_rcu().  A lookup enters
 * an RCU read-side section, loads the array (acquire) and binary-searches
 * it: O(log n), no lock, no shared write, and the search touches the array
 * only (the ranges are copied into the slots).  Why an array and not
 * liburcu's rculfhash: a physical address must be found by *range* (the
 * region whose [pa, last] holds it); a hash table finds keys, not ranges,
 * and a lock-free balanced tree is far more code for what is a rarely
 * changing set of a few to a few hundred regions.  Updates cost O(n) and a
 * grace period to reclaim, which is nothing next to their rarity.
 *
 * Region lifetime.  A region is in the array from add until destroy.
 * region->state is one atomic word: REVOKED (accesses and gets fail),
 * DEAD (destroyed) and the user count of siommu_mem_region_get().  Get
 * increments it unless REVOKED; destroy sets REVOKED only if there are no
 * users; both are compare-and-swap on the same word, so a get never slips
 * in behind destroy's check.  Destroy marks the region DEAD and builds an
 * array without it; the struct is freed by call_rcu() once unpublished, so
 * a reader that found it in an older array may still read it (it sees
 * REVOKED or DEAD and stops).  If that array cannot be allocated, destroy
 * does not fail (STYLE §9): the region stays in the array as a tombstone
 * that lookups treat as absent, and the next rebuild drops it.
 *
 * Revocation (seed 003).  The design: an RCU read-side section around each
 * access with a revoked flag checked inside it, and a grace period in
 * revoke.
 *
 *	access:	read_lock; find slot; if (state & REVOKED) fail -ENODEV;
 *		copy / call the MMIO callback; read_unlock
 *	revoke:	state |= REVOKED; call the notifiers; synchronize_rcu
 *
 * An access that saw the flag clear runs in a section that started before
 * the grace period, so synchronize waits for it; one that starts later sees
 * the flag.  When revoke returns, no access is in flight and none can start:
 * the memory may be freed, the device model may go away.
 *
 * The alternatives of the seed, and why not them:
 *  - A rwsem around access and revoke (Jason Gunthorpe's proposal): simple
 *    and correct, and it lets the access block for as long as it likes, but
 *    every access writes the lock word, a cache line shared by every thread
 *    doing DMA: it bounces between CPUs and serializes them (bench `mem`
 *    measures it beside this design, on 1 and 2 threads).
 *  - A retry loop (look up without a lock, access, look up again and retry
 *    if it changed, as the seed's patch does for follow_pte): it detects a
 *    race only after the access happened.  That is fine for reading memory
 *    that stays allocated, but here the access may already have touched
 *    freed memory or an MMIO register (reads have side effects), or written
 *    into memory that now belongs to someone else.  It cannot give "after
 *    revoke returns nothing touches the region".
 * The price of RCU: the access runs inside a read-side section, so an MMIO
 * callback must not wait for a grace period (that would wait for itself),
 * and a long callback delays every revoke (and every grace period of the
 * process; liburcu's RCU is process-wide).  The rwsem has the same deadlock
 * shape (a callback waiting for a lock the revoker holds), so the rule
 * "never revoke while holding a lock the callbacks take" is not new.
 *
 * Revoke runs in three steps: (1) under mem->lock, set REVOKED and move
 * region->rstate LIVE -> REVOKING (a second revoker instead waits on
 * mem->cond for REVOKED); (2) with no lock held and outside read-side
 * sections, call each notifier (the core tears down the region's mappings
 * and invalidates the IOTLB there), then synchronize; (3) under mem->lock,
 * rstate = REVOKED and wake the waiters.  Notifiers are called outside the
 * lock: a notifier is pinned by its `calls` count while it runs, and
 * unregister marks it dead, then waits for `calls` to drop to zero before
 * unlinking and freeing it.  The walk over the list holds the lock while it
 * moves from one notifier to the next, so it never steps on a freed node.
 *
 * Accesses that span regions: allowed if the regions are adjacent.  Every
 * piece is looked up and checked (present, not revoked) before any byte
 * moves, all in one read-side section, so an access either sees a hole or
 * a revoked region and moves nothing, or moves everything (unless an MMIO
 * callback fails midway, as a device would abort a transfer).
 *
 * Locking: mem->lock (rank SIOMMU_RANK_MEM) protects the fields marked [L]
 * in mem_internal.h; nothing is called out (notifier, callback) with it
 * held and no other library lock is taken under it except the stats leaf.
 * Grace periods are waited for with no lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem_internal.h"
#include "base/alloc.h"
#include "base/ctx.h"

#if SIOMMU_TESTING_BUILD
bool mem_test_break_revoke;

static bool mem_revoke_broken(void)
{
	return siommu_load_relaxed(&mem_test_break_revoke);
}
#else
static bool mem_revoke_broken(void)
{
	return false;
}
#endif

/* Revoke notifiers this thread is running (any map). */
static __thread unsigned int mem_in_notifier;

static void mem_map_free_rcu(struct siommu_rcu_head *h)
{
	siommu_free(siommu_container_of(h, struct mem_map, rcu));
}

static void mem_region_free_rcu(struct siommu_rcu_head *h)
{
	siommu_free(siommu_container_of(h, struct siommu_mem_region, rcu));
}

static bool mem_region_dead(struct siommu_mem_region *r)
{
	return siommu_load_relaxed(&r->state) & MEM_STATE_DEAD;
}

SIOMMU_API int siommu_mem_create(struct siommu_ctx *ctx, struct siommu_mem **out)
{
	struct siommu_mem *mem;
	int ret = -ENOMEM;

	if (!ctx || !out)
		return -EINVAL;
	mem = siommu_zalloc_aligned(SIOMMU_CACHELINE, sizeof(*mem));
	if (!mem)
		return -ENOMEM;
	mem->map = siommu_zalloc(sizeof(*mem->map));
	if (!mem->map)
		goto err_free_mem;
	ret = siommu_stats_create(MEM_STAT_NR, &mem->stats);
	if (ret)
		goto err_free_map;
	if (pthread_cond_init(&mem->cond, NULL)) {
		ret = -ENOMEM;
		goto err_free_stats;
	}
	siommu_mutex_init(&mem->lock, "mem", SIOMMU_RANK_MEM);
	CDS_INIT_LIST_HEAD(&mem->notifiers);
	mem->ctx = ctx;
	siommu_ctx_hold(ctx);
	*out = mem;
	return 0;

err_free_stats:
	siommu_stats_destroy(mem->stats);
err_free_map:
	siommu_free(mem->map);
err_free_mem:
	siommu_free(mem);
	return ret;
}

/*
 * Free, after a grace period, the tombstones of @old that a newer array no
 * longer holds, then @old itself.  Context: holds mem->lock, @old just
 * replaced (or the map is being destroyed).
 */
static void mem_retire_map_locked(struct siommu_mem *mem, struct mem_map *old)
{
	unsigned int i;

	for (i = 0; i < old->nr; i++)
		if (mem_region_dead(old->slot[i].r))
			siommu_call_rcu(&old->slot[i].r->rcu, mem_region_free_rcu);
	siommu_call_rcu(&old->rcu, mem_map_free_rcu);
}

/*
 * Publish a copy of the map without its tombstones, with @add inserted if
 * not NULL.  Context: holds mem->lock.
 * Returns: 0, -EEXIST (@add overlaps a live region) or -ENOMEM; on error
 * the published map is unchanged.
 */
static int mem_rebuild_locked(struct siommu_mem *mem,
			      struct siommu_mem_region *add)
{
	struct mem_map *old = mem->map, *new;
	unsigned int i, j = 0, at = 0, nr;
	bool placed = false;

	siommu_assert_held(&mem->lock);
	nr = old->nr - mem->nr_dead + (add ? 1 : 0);
	new = siommu_zalloc(sizeof(*new) + (size_t)nr * sizeof(new->slot[0]));
	if (!new)
		return -ENOMEM;
	for (i = 0; i < old->nr; i++) {
		if (mem_region_dead(old->slot[i].r))
			continue;
		if (add && !placed && old->slot[i].pa > add->pa) {
			at = j++;
			placed = true;
		}
		new->slot[j++] = old->slot[i];
	}
	if (add) {
		if (!placed)
			at = j++;
		new->slot[at] = (struct mem_slot){ add->pa, add->last, add };
		if ((at > 0 && new->slot[at - 1].last >= add->pa) ||
		    (at + 1 < j && new->slot[at + 1].pa <= add->last)) {
			siommu_free(new);
			return -EEXIST;
		}
	}
	SIOMMU_CHECK(j == nr);
	new->nr = j;
	siommu_debug_yield(SIOMMU_YIELD_PUBLISH);
	/* The slots and the new region's fields before the pointer; pairs
	 * with the load-acquire in mem_access() and siommu_mem_lookup_rcu(). */
	siommu_store_release(&mem->map, new);
	mem->nr_dead = 0;
	mem_retire_map_locked(mem, old);
	return 0;
}

static int mem_add(struct siommu_mem *mem, uint64_t pa, uint64_t size,
		   enum siommu_mem_type type, void *host,
		   const struct siommu_mem_mmio_ops *ops, void *opaque,
		   struct siommu_mem_region **out)
{
	struct siommu_mem_region *r;
	uint64_t last;
	uintptr_t host_last;
	int ret;

	if (!mem || !out || !size || siommu_add_overflow(pa, size - 1, &last))
		return -EINVAL;
	if (type == SIOMMU_MEM_HOST &&
	    (!host || size > SIZE_MAX ||
	     siommu_add_overflow((uintptr_t)host, (uintptr_t)(size - 1), &host_last)))
		return -EINVAL;
	if (type == SIOMMU_MEM_MMIO && (!ops || !ops->read || !ops->write))
		return -EINVAL;
	if (type == SIOMMU_MEM_RAM && size > SIOMMU_MEM_RAM_MAX)
		return -EINVAL;

	r = siommu_zalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->mem = mem;
	r->type = type;
	r->pa = pa;
	r->last = last;
	if (type == SIOMMU_MEM_MMIO) {
		r->ops = *ops;
		r->opaque = opaque;
	} else if (type == SIOMMU_MEM_HOST) {
		r->host = host;
	} else {
		r->host = siommu_zalloc((size_t)size);	/* calloc: lazily zeroed */
		if (!r->host) {
			ret = -ENOMEM;
			goto err_free_region;
		}
	}

	siommu_mutex_lock(&mem->lock);
	ret = mem_rebuild_locked(mem, r);
	if (!ret)
		mem->nr_regions++;
	siommu_mutex_unlock(&mem->lock);
	if (ret)
		goto err_free_ram;
	*out = r;
	return 0;

err_free_ram:
	if (type == SIOMMU_MEM_RAM)
		siommu_free(r->host);
err_free_region:
	siommu_free(r);
	return ret;
}

SIOMMU_API int siommu_mem_add_ram(struct siommu_mem *mem, uint64_t pa,
				  uint64_t size, struct siommu_mem_region **out)
{
	return mem_add(mem, pa, size, SIOMMU_MEM_RAM, NULL, NULL, NULL, out);
}

SIOMMU_API int siommu_mem_add_host(struct siommu_mem *mem, uint64_t pa,
				   void *host, uint64_t size,
				   struct siommu_mem_region **out)
{
	return mem_add(mem, pa, size, SIOMMU_MEM_HOST, host, NULL, NULL, out);
}

SIOMMU_API int siommu_mem_add_mmio(struct siommu_mem *mem, uint64_t pa,
				   uint64_t size,
				   const struct siommu_mem_mmio_ops *ops,
				   void *opaque, struct siommu_mem_region **out)
{
	return mem_add(mem, pa, size, SIOMMU_MEM_MMIO, NULL, ops, opaque, out);
}

SIOMMU_API int siommu_mem_destroy(struct siommu_mem *mem)
{
	struct siommu_ctx *ctx;

	if (!mem)
		return 0;
	siommu_mutex_lock(&mem->lock);
	if (mem->nr_regions || !cds_list_empty(&mem->notifiers)) {
		siommu_mutex_unlock(&mem->lock);
		return -EBUSY;
	}
	/* Only tombstones are left; readers of the array may still run. */
	mem_retire_map_locked(mem, mem->map);
	siommu_mutex_unlock(&mem->lock);

	siommu_stats_destroy(mem->stats);
	pthread_cond_destroy(&mem->cond);
	siommu_mutex_destroy(&mem->lock);
	ctx = mem->ctx;
	siommu_free(mem);
	siommu_ctx_unhold(ctx);
	return 0;
}

/* ---- revocation ---- */

/*
 * Step 1 of a revoke: set the flag.  Context: holds mem->lock.
 * Returns: true if the caller must run steps 2 and 3 (mem_revoke_finish()),
 * false if another revoke did or is doing them.
 */
static bool mem_revoke_begin_locked(struct siommu_mem_region *r)
{
	siommu_assert_held(&r->mem->lock);
	/*
	 * Accesses that start after the grace period of step 2 see this;
	 * pairs with the load-acquire of state in mem_access().
	 */
	__atomic_fetch_or(&r->state, MEM_STATE_REVOKED, __ATOMIC_SEQ_CST);
	if (r->rstate != MEM_R_LIVE)
		return false;
	r->rstate = MEM_R_REVOKING;
	return true;
}

/* Context: holds mem->lock; another thread runs the revoke of @r. */
static void mem_revoke_wait_locked(struct siommu_mem_region *r)
{
	while (r->rstate != MEM_R_REVOKED)
		pthread_cond_wait(&r->mem->cond, &r->mem->lock.m);
}

/* Context: no lock held, outside read-side sections. */
static void mem_call_notifiers(struct siommu_mem *mem,
			       struct siommu_mem_region *r)
{
	struct siommu_mem_notifier *n, *next;

	siommu_mutex_lock(&mem->lock);
	n = cds_list_entry(mem->notifiers.next, struct siommu_mem_notifier, node);
	while (&n->node != &mem->notifiers) {
		if (n->dead) {
			n = cds_list_entry(n->node.next, struct siommu_mem_notifier, node);
			continue;
		}
		n->calls++;		/* pins n: unregister waits for 0 */
		siommu_mutex_unlock(&mem->lock);

		mem_in_notifier++;
		n->fn(n->opaque, r);
		mem_in_notifier--;

		siommu_mutex_lock(&mem->lock);
		next = cds_list_entry(n->node.next, struct siommu_mem_notifier, node);
		if (--n->calls == 0 && n->dead)
			pthread_cond_broadcast(&mem->cond);
		n = next;
	}
	siommu_mutex_unlock(&mem->lock);
}

/* Steps 2 and 3.  Context: no lock held, outside read-side sections. */
static void mem_revoke_finish(struct siommu_mem_region *r)
{
	struct siommu_mem *mem = r->mem;

	mem_call_notifiers(mem, r);
	/* Every access that saw REVOKED clear has left its section. */
	if (!mem_revoke_broken())
		siommu_rcu_synchronize();
	siommu_stats_inc(mem->stats, MEM_STAT_REVOKES);
	siommu_mutex_lock(&mem->lock);
	r->rstate = MEM_R_REVOKED;
	pthread_cond_broadcast(&mem->cond);
	siommu_mutex_unlock(&mem->lock);
}

static int mem_may_wait(void)
{
	if (siommu_rcu_read_ongoing() || mem_in_notifier)
		return -EDEADLK;
	return 0;
}

SIOMMU_API int siommu_mem_region_revoke(struct siommu_mem_region *r)
{
	struct siommu_mem *mem;
	bool run;
	int ret;

	if (!r)
		return -EINVAL;
	ret = mem_may_wait();
	if (ret)
		return ret;
	mem = r->mem;
	siommu_mutex_lock(&mem->lock);
	run = mem_revoke_begin_locked(r);
	if (!run)
		mem_revoke_wait_locked(r);
	siommu_mutex_unlock(&mem->lock);
	if (run)
		mem_revoke_finish(r);
	return 0;
}

SIOMMU_API int siommu_mem_region_destroy(struct siommu_mem_region *r)
{
	struct siommu_mem *mem;
	enum siommu_mem_type type;
	uint64_t s;
	void *host;
	bool run;
	int ret;

	if (!r)
		return 0;
	ret = mem_may_wait();
	if (ret)
		return ret;
	mem = r->mem;
	siommu_mutex_lock(&mem->lock);
	s = siommu_load_relaxed(&r->state);
	do {
		if (s & MEM_STATE_USERS) {
			siommu_mutex_unlock(&mem->lock);
			return -EBUSY;
		}
		/* From here on no get succeeds: the users stay 0. */
	} while (!__atomic_compare_exchange_n(&r->state, &s, s | MEM_STATE_REVOKED,
					      false, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	run = mem_revoke_begin_locked(r);
	if (!run)
		mem_revoke_wait_locked(r);
	siommu_mutex_unlock(&mem->lock);
	if (run)
		mem_revoke_finish(r);

	/* Revoked: no access touches the memory any more. */
	type = r->type;
	host = r->host;
	siommu_mutex_lock(&mem->lock);
	__atomic_fetch_or(&r->state, MEM_STATE_DEAD, __ATOMIC_RELEASE);
	mem->nr_regions--;
	mem->nr_dead++;
	/*
	 * Drop it from the array; r is freed after a grace period.  Without
	 * memory for a new array it stays a tombstone until the next rebuild
	 * or the map's destroy.
	 */
	(void)mem_rebuild_locked(mem, NULL);
	siommu_mutex_unlock(&mem->lock);
	if (type == SIOMMU_MEM_RAM)
		siommu_free(host);
	return 0;
}

SIOMMU_API int siommu_mem_region_get(struct siommu_mem_region *r)
{
	uint64_t s;

	if (!r)
		return -EINVAL;
	s = siommu_load_relaxed(&r->state);
	do {
		if (s & (MEM_STATE_REVOKED | MEM_STATE_DEAD))
			return -ENODEV;
		if ((s & MEM_STATE_USERS) == MEM_STATE_USERS)
			return -EOVERFLOW;
	} while (!__atomic_compare_exchange_n(&r->state, &s, s + 1, false,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return 0;
}

SIOMMU_API int siommu_mem_region_put(struct siommu_mem_region *r)
{
	uint64_t s;

	if (!r)
		return -EINVAL;
	s = siommu_load_relaxed(&r->state);
	do {
		if (!(s & MEM_STATE_USERS))
			return -EINVAL;
		/* Pairs with destroy's compare-and-swap. */
	} while (!__atomic_compare_exchange_n(&r->state, &s, s - 1, false,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	return 0;
}

static void mem_region_fill_info(struct siommu_mem_region *r,
				 struct siommu_mem_region_info *out)
{
	uint64_t s = siommu_load_acquire(&r->state);

	out->pa = r->pa;
	out->size = r->last - r->pa + 1;
	out->type = r->type;
	out->revoked = s & MEM_STATE_REVOKED;
	out->users = s & MEM_STATE_USERS;
}

SIOMMU_API int siommu_mem_region_info(struct siommu_mem_region *r,
				      struct siommu_mem_region_info *out)
{
	if (!r || !out)
		return -EINVAL;
	mem_region_fill_info(r, out);
	return 0;
}

/* ---- notifiers ---- */

SIOMMU_API int siommu_mem_notifier_register(struct siommu_mem *mem,
					    siommu_mem_revoke_fn *fn,
					    void *opaque,
					    struct siommu_mem_notifier **out)
{
	struct siommu_mem_notifier *n;

	if (!mem || !fn || !out)
		return -EINVAL;
	n = siommu_zalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->mem = mem;
	n->fn = fn;
	n->opaque = opaque;
	siommu_mutex_lock(&mem->lock);
	cds_list_add_tail(&n->node, &mem->notifiers);
	mem->nr_notifiers++;
	siommu_mutex_unlock(&mem->lock);
	*out = n;
	return 0;
}

SIOMMU_API int siommu_mem_notifier_unregister(struct siommu_mem_notifier *n)
{
	struct siommu_mem *mem;

	if (!n)
		return -EINVAL;
	if (mem_in_notifier)
		return -EDEADLK;
	mem = n->mem;
	siommu_mutex_lock(&mem->lock);
	n->dead = true;
	mem->nr_notifiers--;
	while (n->calls)
		pthread_cond_wait(&mem->cond, &mem->lock.m);
	cds_list_del(&n->node);
	siommu_mutex_unlock(&mem->lock);
	siommu_free(n);
	return 0;
}

/* ---- accesses ---- */

int mem_access_fail(struct siommu_mem *mem, int err)
{
	enum mem_stat idx;

	if (err == -EFAULT)
		idx = MEM_STAT_ERR_UNMAPPED;
	else if (err == -ENODEV)
		idx = MEM_STAT_ERR_REVOKED;
	else
		idx = MEM_STAT_ERR_MMIO;
	siommu_stats_inc(mem->stats, idx);
	return err;
}

/* -EFAULT for a tombstone, -ENODEV for a revoked region, else 0. */
static int mem_state_err(struct siommu_mem_region *r)
{
	uint64_t s = siommu_load_acquire(&r->state);

	if (s & MEM_STATE_DEAD)
		return -EFAULT;
	if (s & MEM_STATE_REVOKED)
		return -ENODEV;
	return 0;
}

/* @len bytes at @off of MMIO region @r, in naturally aligned pieces. */
static int mem_mmio(struct siommu_mem *mem, struct siommu_mem_region *r,
		    uint64_t off, uint8_t *buf, size_t len, bool write)
{
	while (len) {
		unsigned int size = 8, i;
		uint64_t val = 0;
		int ret;

		while (size > len || (off & (size - 1)))
			size >>= 1;
		siommu_debug_yield(SIOMMU_YIELD_MEM_ACCESS);
		if (write) {
			for (i = 0; i < size; i++)
				val |= (uint64_t)buf[i] << (8 * i);
			ret = r->ops.write(r->opaque, off, size, val);
		} else {
			ret = r->ops.read(r->opaque, off, size, &val);
			if (!ret)
				for (i = 0; i < size; i++)
					buf[i] = (uint8_t)(val >> (8 * i));
		}
		siommu_stats_inc(mem->stats, MEM_STAT_MMIO_CALLS);
		if (ret)
			return ret > 0 ? -EIO : ret;
		off += size;
		buf += size;
		len -= size;
	}
	return 0;
}

/*
 * Everything but a RAM access inside one live region: checks every piece
 * first, then moves the data.  Context: as mem_access().
 */
int mem_access_slow(struct siommu_mem *mem, const struct mem_map *m,
		    const struct mem_slot *s, uint64_t pa, uint8_t *buf,
		    size_t len, bool write)
{
	const struct mem_slot *first = s, *end = m->slot + m->nr;
	uint64_t last = pa + (len - 1), cur;
	int ret;

	/* Pass 1: every byte in a region, none revoked. */
	for (;;) {
		ret = mem_state_err(s->r);
		if (ret)
			return mem_access_fail(mem, ret);
		if (last <= s->last)
			break;
		cur = s->last + 1;
		if (++s == end || s->pa != cur)
			return mem_access_fail(mem, -EFAULT);
	}
	end = s + 1;

	/* Pass 2: move the data, region by region. */
	cur = pa;
	for (s = first; s < end; s++) {
		struct siommu_mem_region *r = s->r;
		uint64_t off = cur - s->pa;
		size_t n = (size_t)((last < s->last ? last : s->last) - cur + 1);

		if (r->host) {
			siommu_debug_yield(SIOMMU_YIELD_MEM_ACCESS);
			if (write)
				memcpy(r->host + off, buf, n);
			else
				memcpy(buf, r->host + off, n);
		} else {
			ret = mem_mmio(mem, r, off, buf, n, write);
			if (ret)
				return mem_access_fail(mem, ret);
		}
		buf += n;
		cur += n;
	}
	siommu_stats_inc(mem->stats, write ? MEM_STAT_WRITES : MEM_STAT_READS);
	siommu_stats_add(mem->stats,
			 write ? MEM_STAT_BYTES_WRITTEN : MEM_STAT_BYTES_READ, len);
	return 0;
}

static int mem_check_access(struct siommu_mem *mem, uint64_t pa, void *buf,
			    size_t len)
{
	uint64_t last;

	if (!mem || !buf || !len || siommu_add_overflow(pa, (uint64_t)len - 1, &last))
		return -EINVAL;
	return 0;
}

SIOMMU_API int siommu_mem_rw_rcu(struct siommu_mem *mem, uint64_t pa,
				 void *buf, size_t len, bool write)
{
	int ret = mem_check_access(mem, pa, buf, len);

	if (ret)
		return ret;
	SIOMMU_CHECK(siommu_rcu_read_ongoing());
	return mem_access(mem, pa, buf, len, write);
}

SIOMMU_API int siommu_mem_rw(struct siommu_mem *mem, uint64_t pa, void *buf,
			     size_t len, bool write)
{
	int ret = mem_check_access(mem, pa, buf, len);

	if (ret)
		return ret;
	siommu_rcu_read_lock();
	ret = mem_access(mem, pa, buf, len, write);
	siommu_rcu_read_unlock();
	return ret;
}

SIOMMU_API int siommu_mem_lookup_rcu(struct siommu_mem *mem, uint64_t pa,
				     struct siommu_mem_span *out)
{
	const struct mem_map *m;
	const struct mem_slot *s;
	struct siommu_mem_region *r;
	int ret;

	if (!mem || !out)
		return -EINVAL;
	SIOMMU_CHECK(siommu_rcu_read_ongoing());
	m = siommu_load_acquire(&mem->map);
	s = mem_find_slot(m, pa);
	if (!s)
		return mem_access_fail(mem, -EFAULT);
	r = s->r;
	ret = mem_state_err(r);
	if (ret)
		return mem_access_fail(mem, ret);
	out->region = r;
	out->type = r->type;
	out->offset = pa - s->pa;
	out->len = s->last - pa + 1;
	out->host = r->host ? r->host + out->offset : NULL;
	return 0;
}

SIOMMU_API int siommu_mem_check_range(struct siommu_mem *mem, uint64_t pa,
				      uint64_t size)
{
	const struct mem_map *m;
	unsigned int lo = 0, hi;
	uint64_t last;
	int ret = 0;

	if (!mem || !size || siommu_add_overflow(pa, size - 1, &last))
		return -EINVAL;
	siommu_rcu_read_lock();
	/*
	 * Pairs with the release store that publishes a new array; a region's
	 * REVOKED bit is read with an acquire load (mem_state_err()).
	 */
	m = siommu_load_acquire(&mem->map);
	hi = m->nr;
	while (lo < hi) {		/* the first slot ending at or after pa */
		unsigned int mid = (lo + hi) / 2;

		if (m->slot[mid].last < pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < m->nr && m->slot[lo].pa <= last; lo++) {
		if (mem_state_err(m->slot[lo].r)) {
			ret = -ENODEV;
			break;
		}
	}
	siommu_rcu_read_unlock();
	return ret;
}

SIOMMU_API int siommu_mem_for_each_region(struct siommu_mem *mem,
					  siommu_mem_region_fn *fn, void *opaque)
{
	struct siommu_mem_region_info info;
	const struct mem_map *m;
	unsigned int i;
	int ret = 0;

	if (!mem || !fn)
		return -EINVAL;
	siommu_rcu_read_lock();
	m = siommu_load_acquire(&mem->map);
	for (i = 0; i < m->nr && !ret; i++) {
		if (mem_region_dead(m->slot[i].r))
			continue;
		mem_region_fill_info(m->slot[i].r, &info);
		ret = fn(opaque, m->slot[i].r, &info);
	}
	siommu_rcu_read_unlock();
	return ret;
}

SIOMMU_API int siommu_mem_get_stats(struct siommu_mem *mem,
				    struct siommu_mem_stats *out)
{
	uint64_t v[MEM_STAT_NR];

	if (!mem || !out)
		return -EINVAL;
	siommu_stats_read_all(mem->stats, v);
	memset(out, 0, sizeof(*out));
	out->reads = v[MEM_STAT_READS];
	out->writes = v[MEM_STAT_WRITES];
	out->bytes_read = v[MEM_STAT_BYTES_READ];
	out->bytes_written = v[MEM_STAT_BYTES_WRITTEN];
	out->mmio_calls = v[MEM_STAT_MMIO_CALLS];
	out->err_unmapped = v[MEM_STAT_ERR_UNMAPPED];
	out->err_revoked = v[MEM_STAT_ERR_REVOKED];
	out->err_mmio = v[MEM_STAT_ERR_MMIO];
	out->revokes = v[MEM_STAT_REVOKES];
	siommu_mutex_lock(&mem->lock);
	out->regions = mem->nr_regions;
	out->notifiers = mem->nr_notifiers;
	siommu_mutex_unlock(&mem->lock);
	return 0;
}
