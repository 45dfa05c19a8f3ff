// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IOVA allocator: the API, per-thread magazine caches and the depot.
 *
 * Terms.  A space is one domain's IOVA aperture, counted in granules (pfns).
 * Its tree (iova_tree.c) holds a node for every allocated, cached or
 * reserved range; free space is the gaps between them.  A size class is a
 * power of two of granules, 2^0 .. 2^SIOMMU_IOVA_CACHE_MAX_LG2; allocations of
 * up to SIOMMU_IOVA_CACHE_MAX granules are rounded up to their class, larger
 * ones are not and are never cached.
 *
 * Caches.  The design is Bonwick's magazines, as Linux's IOVA allocator uses
 * them per CPU; here they are per thread, since a library does not own CPUs.
 * Each (thread, space) pair has an iova_pcache with, per class, a "loaded"
 * and a "previous" magazine (arrays of up to 127 freed ranges).  Free pushes
 * into loaded, alloc pops from it; when loaded is full (free) or empty
 * (alloc), it is swapped with previous if that helps, and only when both are
 * full or empty does the thread go to the space's depot, which keeps up to 32
 * full magazines per class under depot_lock (and a few spare empty ones).  A
 * full depot sends a full magazine's ranges back to the tree.  A thread finds
 * its iova_pcache with base/tls.h (per-thread per-object state: a lookup by
 * the space's id in the thread's own table, no lock, no eviction), so any
 * number of spaces used by one thread never push each other's caches out.
 *
 * Cached ranges stay in the tree (as Linux does): a cached range is used
 * space as far as the tree is concerned, and its node simply changes owner.
 *
 * Double free, with no lock on the free path.  Every allocation node has an
 * atomic key, (first granule << 2) | state.  Free finds the node through the
 * lock-free index (iova_tree.c) and claims it with one compare-and-swap from
 * IN_USE to CACHED; only the winner goes on to cache it or give it back to
 * the tree.  So a second free of the same range (from any thread, even at the
 * same time) finds CACHED, a recycled key or no node at all, and fails with
 * -ENOENT having changed nothing, whether the first free's range is in a
 * magazine, in the depot or back in the tree.  Alloc from a magazine stores
 * IN_USE (release): the thread owns the cached node, no one else may change
 * its state.  This costs one atomic read-modify-write per free (about 3 ns
 * here) and none per alloc; Linux's rcache detects no double free at all.
 * A plain load-check-store would be cheaper but would let two racing frees
 * both succeed and later hand the range out twice.
 *
 * Flushing every thread's caches without a lock or a fence on the fast path.
 * The owner touches its magazines only inside a cache section: it stores
 * busy = 1, then reads its pcache's flush flag, and goes on only if that is
 * 0 (else it bypasses the cache and works on the tree); it ends the section
 * with a release store of busy = 0.  A flusher (flush_all()) sets flush on
 * every pcache of the space, makes every thread of the process execute a
 * full barrier with membarrier(2), then waits for each busy to read 0, empties
 * the magazines into the tree, and clears flush with a release store.  The
 * two stores and two loads are Dekker's handshake; membarrier() supplies the
 * fence on the owner's side only when a flusher needs it, as urcu-memb does
 * for RCU readers, so the owner's section costs two plain stores and a load.
 * (An RCU read-side section here cost 1.8 ns per section, twice per pair.)
 * A flush waits for no grace period, so it may run anywhere, including
 * inside a read-side section: on allocation failure (then the allocation is
 * retried once, as Linux does), on siommu_iova_flush_caches(), and when
 * reserve finds cached ranges in its way.
 *
 * Threads.  A thread the library has never seen gets its pcache on its first
 * call (if that allocation fails the call goes to the tree: nothing breaks).
 At thread exit base/tls.c calls pcache_thread_exit(), which gives the
 * magazines back (full ones to the depot while it has room, the rest to the
 * tree), so nothing leaks.  Destroying a space frees the pcaches of every
 * thread, live or not.
 *
 * Lock order (ranks in base/lock.h), outermost first:
 *   space->flush_lock	serializes flushes of a space.
 *   space->caches	the space's list of pcaches (base/tls.c owner lock).
 *   space->depot_lock	the depot.
 *   space->tree_lock	the tree, the node pool, the index's writers.
 * (base/tls.c's per-thread lock nests inside space->caches.)  There is no
 * process-wide lock.  A cache section may take depot_lock and tree_lock,
 * never the caches lock or flush_lock; a flusher waits for busy == 0 holding
 * flush_lock and the caches lock only, so an owner in a section can always
 * finish.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "softiommu/iova.h"
#include "base/alloc.h"
#include "base/ctx.h"
#include "base/debug.h"
#include "base/lock.h"
#include "iova/iova_internal.h"


static inline bool space_caching(const struct siommu_iova_space *s)
{
	return !(s->flags & SIOMMU_IOVA_NO_CACHE);
}

static inline unsigned int ceil_lg2(uint64_t v)
{
	return v <= 1 ? 0 : 64 - __builtin_clzll(v - 1);
}

/*
 * membarrier(2) with MEMBARRIER_CMD_PRIVATE_EXPEDITED makes every running
 * thread of the process execute a full memory barrier; the process must have
 * registered for it.  siommu_iova_space_create() of a caching space
 * registers until that has succeeded once; if registration fails, that
 * create fails (-ENOMEM or -EIO) and changes nothing.  Where the kernel lacks
 * the command (before Linux 4.14), spaces are created without caches (as
 * with SIOMMU_IOVA_NO_CACHE) rather than making every cache operation pay a
 * fence.  After registration the barrier itself cannot fail; if it does
 * anyway, the flush that needed it gives up (-EIO) and leaves every cache as
 * it was: nothing aborts.
 */
enum {
	IOVA_MB_UNKNOWN = 0,	/* not registered yet (or registration failed) */
	IOVA_MB_REGISTERED,
	IOVA_MB_UNSUPPORTED,
};
static int iova_membarrier_state;	/* atomic (relaxed): IOVA_MB_* */

#if SIOMMU_TESTING_BUILD
__thread int iova_test_membarrier_errno;

static long iova_membarrier(int cmd)
{
	int e = iova_test_membarrier_errno;

	if (e && cmd != MEMBARRIER_CMD_QUERY) {
		iova_test_membarrier_errno = 0;
		errno = e;
		return -1;
	}
	return syscall(__NR_membarrier, cmd, 0, 0);
}
#else
static long iova_membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}
#endif

/*
 * Make sure this process may use the barrier.  Returns 0 (*ok: caches
 * possible or not), -ENOMEM or -EIO (registration failed).
 */
static int iova_membarrier_register(bool *ok)
{
	int st = siommu_load_relaxed(&iova_membarrier_state);
	long cmds;

	if (st != IOVA_MB_UNKNOWN) {
		*ok = st == IOVA_MB_REGISTERED;
		return 0;
	}
	cmds = iova_membarrier(MEMBARRIER_CMD_QUERY);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
		siommu_store_relaxed(&iova_membarrier_state, IOVA_MB_UNSUPPORTED);
		*ok = false;
		return 0;
	}
	/* Registering twice (two creates at once) is harmless. */
	if (iova_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
		return errno == ENOMEM ? -ENOMEM : -EIO;
	siommu_store_relaxed(&iova_membarrier_state, IOVA_MB_REGISTERED);
	*ok = true;
	return 0;
}

/*
 * A full barrier on every thread of the process, the caller included (the
 * system call orders the caller's accesses too): pairs with cache_enter().
 * Returns 0 or -EIO.
 */
static int barrier_all_threads(void)
{
	return iova_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) ? -EIO : 0;
}

/*
 * Enter a cache section of @pc (its owner only).  Returns false if a flush
 * owns the magazines; then the caller bypasses the cache.
 *
 * The store of busy and the load of flush form a Dekker pair with the
 * flusher's store of flush and load of busy (flush_all()).  The flusher's
 * side has the full barrier (membarrier() reaches this thread wherever it
 * is), so this side needs only a compiler barrier, as in urcu-memb's read
 * lock.
 */
static inline bool cache_enter(struct iova_pcache *pc)
{
	siommu_store_relaxed(&pc->busy, 1);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	/* Pairs with the release store of 0 that ends flush_all(). */
	if (siommu_likely(!siommu_load_acquire(&pc->flush)))
		return true;
	siommu_store_release(&pc->busy, 0);
	return false;
}

static inline void cache_exit(struct iova_pcache *pc)
{
	/* Our magazine writes before busy == 0: pairs with flush_all()'s wait. */
	siommu_store_release(&pc->busy, 0);
}

static inline void pc_count(struct iova_pcache *pc, enum iova_pcache_counter c)
{
	/* Only the owner writes: no read-modify-write needed. */
	siommu_store_relaxed(&pc->cnt[c], siommu_load_relaxed(&pc->cnt[c]) + 1);
}

/* ---- magazines and the depot ---- */

/*
 * Magazines are 2 KiB, allocated on cache lines of their own: the owner
 * writes its magazine's count and the slot next to it on every alloc and
 * free, and a magazine sharing a line with another thread's would bounce it
 * (measured: 1-page pairs on 2 threads fell to half the one-thread rate in
 * about half the runs, by heap placement).
 */
static struct iova_mag *mag_alloc(void)
{
	return siommu_zalloc_aligned(SIOMMU_CACHELINE, sizeof(struct iova_mag));
}

/* Give every range of @m back to the tree.  Context: the caller owns @m. */
static void mag_spill(struct siommu_iova_space *s, struct iova_mag *m)
{
	unsigned long i;

	if (!m->n)
		return;
	siommu_mutex_lock(&s->tree_lock);
	for (i = 0; i < m->n; i++)
		iova_tree_remove_locked(s, m->e[i].node);
	siommu_mutex_unlock(&s->tree_lock);
	m->n = 0;
}

/*
 * Pop a range that ends at or below @limit_pfn; @span is its size in
 * granules minus one.  Returns false if none does.  @m is not empty.
 */
static inline bool mag_pop(struct iova_mag *m, uint64_t limit_pfn,
			   uint64_t span, struct iova_mag_entry *out)
{
	unsigned long top = m->n - 1, i;

	if (siommu_likely(m->e[top].pfn + span <= limit_pfn)) {
		*out = m->e[top];
		m->n = top;
		return true;
	}
	for (i = top; i-- > 0;) {
		if (m->e[i].pfn + span <= limit_pfn) {
			*out = m->e[i];
			m->e[i] = m->e[top];
			m->n = top;
			return true;
		}
	}
	return false;
}

/* An empty magazine: a spare from the depot, or a new one; NULL if none. */
static struct iova_mag *depot_get_empty(struct siommu_iova_space *s,
					unsigned int cls)
{
	struct iova_depot *d = &s->depot[cls];
	struct iova_mag *m = NULL;

	siommu_mutex_lock(&s->depot_lock);
	if (d->nr_empty)
		m = d->empty[--d->nr_empty];
	siommu_mutex_unlock(&s->depot_lock);
	if (!m)
		m = mag_alloc();
	if (m)
		m->n = 0;
	return m;
}

/* Keep an empty magazine as a spare, or free it. */
static void depot_put_empty(struct siommu_iova_space *s, unsigned int cls,
			    struct iova_mag *m)
{
	struct iova_depot *d = &s->depot[cls];

	SIOMMU_CHECK(!m->n);
	siommu_mutex_lock(&s->depot_lock);
	if (d->nr_empty < IOVA_DEPOT_EMPTY_MAX) {
		d->empty[d->nr_empty++] = m;
		m = NULL;
	}
	siommu_mutex_unlock(&s->depot_lock);
	siommu_free(m);
}

/* Hand a full magazine to the depot.  Returns false if the depot is full. */
static bool depot_put_full(struct siommu_iova_space *s, unsigned int cls,
			   struct iova_mag *m)
{
	struct iova_depot *d = &s->depot[cls];
	bool ok = false;

	siommu_mutex_lock(&s->depot_lock);
	if (d->nr_full < IOVA_DEPOT_MAX) {
		d->full[d->nr_full++] = m;
		s->depot_puts++;
		ok = true;
	}
	siommu_mutex_unlock(&s->depot_lock);
	return ok;
}

/*
 * Take a full magazine from the depot, leaving @empty (may be NULL) as a
 * spare.  Returns the full one, or NULL (then @empty is still the caller's).
 */
static struct iova_mag *depot_swap_for_full(struct siommu_iova_space *s,
					    unsigned int cls,
					    struct iova_mag *empty)
{
	struct iova_depot *d = &s->depot[cls];
	struct iova_mag *full = NULL;

	siommu_mutex_lock(&s->depot_lock);
	if (d->nr_full) {
		full = d->full[--d->nr_full];
		s->depot_gets++;
		if (empty && d->nr_empty < IOVA_DEPOT_EMPTY_MAX) {
			d->empty[d->nr_empty++] = empty;
			empty = NULL;
		}
	}
	siommu_mutex_unlock(&s->depot_lock);
	if (full)
		siommu_free(empty);
	return full;
}

/* Give every range in the depot back to the tree. */
static void depot_drain(struct siommu_iova_space *s)
{
	struct iova_mag *m;
	unsigned int cls;

	siommu_mutex_lock(&s->depot_lock);
	for (cls = 0; cls < IOVA_NR_CLASSES; cls++) {
		struct iova_depot *d = &s->depot[cls];

		while (d->nr_full) {
			m = d->full[--d->nr_full];
			mag_spill(s, m);	/* tree_lock nests inside depot_lock */
			if (d->nr_empty < IOVA_DEPOT_EMPTY_MAX)
				d->empty[d->nr_empty++] = m;
			else
				siommu_free(m);
		}
	}
	siommu_mutex_unlock(&s->depot_lock);
}

static void depot_free(struct siommu_iova_space *s)
{
	unsigned int cls;

	for (cls = 0; cls < IOVA_NR_CLASSES; cls++) {
		struct iova_depot *d = &s->depot[cls];

		while (d->nr_full)
			siommu_free(d->full[--d->nr_full]);
		while (d->nr_empty)
			siommu_free(d->empty[--d->nr_empty]);
	}
}

/* ---- per-thread caches ---- */

/*
 * Give back every range in @pc's magazines.  With @release, full magazines
 * go to the depot while it has room and the magazines leave @pc.
 * Context: the caller owns @pc's magazines (see the top comment).
 */
static void pcache_drain(struct siommu_iova_space *s, struct iova_pcache *pc,
			 bool release)
{
	struct iova_mag *m;
	unsigned int cls, i;

	for (cls = 0; cls < IOVA_NR_CLASSES; cls++) {
		for (i = 0; i < 2; i++) {
			m = i ? pc->prev[cls] : pc->loaded[cls];
			if (!m)
				continue;
			if (release && m->n == IOVA_MAG_SIZE &&
			    depot_put_full(s, cls, m))
				continue;
			mag_spill(s, m);
			if (release)
				depot_put_empty(s, cls, m);
		}
		if (release)
			pc->loaded[cls] = pc->prev[cls] = NULL;
	}
}

static void pcache_free_mags(struct iova_pcache *pc)
{
	unsigned int cls;

	for (cls = 0; cls < IOVA_NR_CLASSES; cls++) {
		siommu_free(pc->loaded[cls]);
		siommu_free(pc->prev[cls]);
	}
}

/*
 * base/tls.c: a thread that used @obj exits.  The owner is exiting, so no
 * cache operation of it runs; a flusher touches @data only under the space's
 * caches lock, which the caller holds.  Give the magazines back and fold
 * the counters into the space.
 */
static void pcache_thread_exit(void *obj, void *data)
{
	struct siommu_iova_space *s = obj;
	struct iova_pcache *pc = data;
	unsigned int i;

	pcache_drain(s, pc, true);
	for (i = 0; i < IOVA_PC_NR; i++)
		s->retired[i] += siommu_load_relaxed(&pc->cnt[i]);
}

/* base/tls.c: the space is destroyed; free @data's magazines. */
static void pcache_release(void *obj, void *data)
{
	pcache_free_mags(data);
}

static const struct siommu_tls_ops pcache_tls_ops = {
	.size = sizeof(struct iova_pcache),
	.hdr_offset = offsetof(struct iova_pcache, tls),
	.thread_exit = pcache_thread_exit,
	.release = pcache_release,
};

/* This thread's cache for @s, or NULL if it could not be allocated. */
static inline struct iova_pcache *pcache_get(struct siommu_iova_space *s)
{
	return siommu_tls_get(&s->caches);
}

/*
 * Inside a section that saw flush == 0, with loaded[cls] empty or missing:
 * make loaded[cls] a non-empty magazine.  Returns false if there is none.
 */
static __attribute__((noinline)) bool pcache_refill(struct siommu_iova_space *s,
						   struct iova_pcache *pc,
						   unsigned int cls)
{
	struct iova_mag *m = pc->loaded[cls], *p = pc->prev[cls], *full;

	if (p && p->n) {
		pc->prev[cls] = m;
		pc->loaded[cls] = p;
		return true;
	}
	full = depot_swap_for_full(s, cls, m);
	if (!full)
		return false;
	pc->loaded[cls] = full;
	return true;
}

/*
 * Inside a section that saw flush == 0, with loaded[cls] full or missing:
 * make loaded[cls] a magazine with room.  Returns false if impossible.
 */
static __attribute__((noinline)) bool pcache_make_room(struct siommu_iova_space *s,
						      struct iova_pcache *pc,
						      unsigned int cls)
{
	struct iova_mag *m = pc->loaded[cls], *p = pc->prev[cls];

	if (p && p->n < IOVA_MAG_SIZE) {
		pc->prev[cls] = m;
		pc->loaded[cls] = p;
		return true;
	}
	/* loaded is missing or full; so is prev. */
	if (m && !p) {
		p = depot_get_empty(s, cls);
		if (!p)
			return false;
		pc->prev[cls] = m;	/* the full one waits in prev */
		pc->loaded[cls] = p;
		return true;
	}
	if (m) {
		if (!depot_put_full(s, cls, m)) {
			mag_spill(s, m);	/* depot full: back to the tree */
			return true;
		}
		pc->loaded[cls] = NULL;
	}
	m = depot_get_empty(s, cls);
	if (!m)
		return false;
	pc->loaded[cls] = m;
	return true;
}

/*
 * Take a cached range of class @cls ending at or below @limit_pfn.
 * Returns false on a miss.  Context: the owner thread of @pc.
 */
static inline bool pcache_alloc(struct siommu_iova_space *s,
				struct iova_pcache *pc, unsigned int cls,
				uint64_t limit_pfn, struct iova_mag_entry *out)
{
	struct iova_mag *m;
	bool hit = false;

	if (siommu_likely(cache_enter(pc))) {
		siommu_debug_yield(SIOMMU_YIELD_IOVA_CACHE);
		m = pc->loaded[cls];
		if (siommu_likely(m && m->n) || pcache_refill(s, pc, cls))
			hit = mag_pop(pc->loaded[cls], limit_pfn,
				      (1ull << cls) - 1, out);
		if (siommu_likely(hit)) {
			/* We own the cached node: a release store suffices. */
			siommu_store_release(&out->node->key,
					     iova_key(out->pfn, IOVA_NODE_IN_USE));
			pc_count(pc, IOVA_PC_HITS);
		}
		cache_exit(pc);
	}
	return hit;
}

/*
 * Keep the claimed node @n (first granule @pfn).  Returns false if it
 * cannot be cached.  Context: the owner thread of @pc.
 */
static inline bool pcache_free(struct siommu_iova_space *s,
			       struct iova_pcache *pc, struct iova_node *n,
			       uint64_t pfn)
{
	unsigned int cls = n->cls;
	struct iova_mag *m;
	bool kept = false;

	if (siommu_likely(cache_enter(pc))) {
		siommu_debug_yield(SIOMMU_YIELD_IOVA_CACHE);
		m = pc->loaded[cls];
		if (siommu_likely(m && m->n < IOVA_MAG_SIZE) ||
		    pcache_make_room(s, pc, cls)) {
			m = pc->loaded[cls];
			m->e[m->n].pfn = pfn;
			m->e[m->n].node = n;
			m->n++;
			kept = true;
		}
		cache_exit(pc);
	}
	return kept;
}

/* ---- flushing ---- */

/* Testing hook (iova_internal.h): the broken flush of the stress test. */
#if SIOMMU_TESTING_BUILD
bool iova_test_break_flush;

static bool iova_flush_broken(void)
{
	return siommu_load_relaxed(&iova_test_break_flush);
}
#else
static inline bool iova_flush_broken(void)
{
	return false;
}
#endif

/*
 * Empty every thread's cache and the depot into the tree.
 * Context: any thread, not inside a cache section (no caller is); may spin
 * briefly while an owner finishes a cache operation.  Takes flush_lock,
 * then the caches lock, then depot and tree locks.
 * Returns 0, or -EIO if membarrier(2) failed: then nothing was flushed and
 * every cache is as it was.
 */
static int flush_all(struct siommu_iova_space *s)
{
	struct iova_pcache *pc;
	int ret;

	siommu_mutex_lock(&s->flush_lock);
	siommu_tls_owner_lock(&s->caches);
	siommu_tls_for_each(&s->caches, pc)
		siommu_store_relaxed(&pc->flush, 1);

	/*
	 * After this barrier, an owner either is in a section we can see
	 * (busy) or will read flush == 1 and bypass its cache: see
	 * cache_enter().
	 */
	ret = iova_flush_broken() ? 0 : barrier_all_threads();
	if (siommu_unlikely(ret)) {
		/* No owner was waited for or touched: just let them go on. */
		siommu_tls_for_each(&s->caches, pc)
			siommu_store_release(&pc->flush, 0);
		siommu_tls_owner_unlock(&s->caches);
		siommu_mutex_unlock(&s->flush_lock);
		return ret;
	}

	siommu_tls_for_each(&s->caches, pc) {
		/* Pairs with cache_exit(): the owner's writes are visible. */
		while (siommu_load_acquire(&pc->busy) && !iova_flush_broken())
			sched_yield();
		pcache_drain(s, pc, false);
		/* Pairs with the acquire load in cache_enter(). */
		siommu_store_release(&pc->flush, 0);
	}
	siommu_tls_owner_unlock(&s->caches);
	depot_drain(s);
	__atomic_fetch_add(&s->flushes, 1, __ATOMIC_RELAXED);
	siommu_mutex_unlock(&s->flush_lock);
	return 0;
}

/* ---- API ---- */

/* Give a claimed node back to the tree. */
static __attribute__((noinline)) void free_to_tree(struct siommu_iova_space *s,
						  struct iova_node *n)
{
	siommu_mutex_lock(&s->tree_lock);
	iova_tree_remove_locked(s, n);
	s->direct_frees++;
	siommu_mutex_unlock(&s->tree_lock);
}

SIOMMU_API int siommu_iova_space_create(struct siommu_ctx *ctx,
					const struct siommu_iova_config *cfg,
					struct siommu_iova_space **out)
{
	struct siommu_iova_space *s;
	bool caching = false;
	uint64_t mask;
	int ret;

	if (!ctx || !cfg || !out)
		return -EINVAL;
	if (cfg->granule_lg2 < 2 || cfg->granule_lg2 > 48)
		return -EINVAL;
	mask = (1ull << cfg->granule_lg2) - 1;
	if ((cfg->start & mask) || (cfg->last & mask) != mask ||
	    cfg->start > cfg->last || (cfg->flags & ~SIOMMU_IOVA_NO_CACHE))
		return -EINVAL;

	if (!(cfg->flags & SIOMMU_IOVA_NO_CACHE)) {
		ret = iova_membarrier_register(&caching);
		if (ret)
			return ret;
	}
	s = siommu_zalloc_aligned(SIOMMU_CACHELINE, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctx = ctx;
	s->granule_lg2 = cfg->granule_lg2;
	s->flags = cfg->flags;
	if (!caching)
		s->flags |= SIOMMU_IOVA_NO_CACHE;
	s->start_pfn = cfg->start >> cfg->granule_lg2;
	s->last_pfn = cfg->last >> cfg->granule_lg2;
	ret = iova_tree_init(s);
	if (ret)
		goto err_free;
	siommu_mutex_init(&s->tree_lock, "iova_tree", SIOMMU_RANK_IOVA_TREE);
	siommu_mutex_init(&s->depot_lock, "iova_depot", SIOMMU_RANK_IOVA_DEPOT);
	siommu_mutex_init(&s->flush_lock, "iova_flush", SIOMMU_RANK_IOVA_FLUSH);
	ret = siommu_tls_owner_init(&s->caches, &pcache_tls_ops, s,
				    "iova_caches", SIOMMU_RANK_IOVA_CACHES);
	if (ret)
		goto err_locks;
	siommu_ctx_hold(ctx);
	*out = s;
	return 0;

err_locks:
	siommu_mutex_destroy(&s->flush_lock);
	siommu_mutex_destroy(&s->depot_lock);
	siommu_mutex_destroy(&s->tree_lock);
err_free:
	iova_tree_fini(s);
	siommu_free(s);
	return ret;
}

SIOMMU_API int siommu_iova_space_destroy(struct siommu_iova_space *s)
{
	struct iova_node *n;
	bool busy = false;

	if (!s)
		return 0;
	siommu_mutex_lock(&s->tree_lock);
	for (n = iova_tree_first_locked(s); n && !busy;
	     n = iova_tree_next_locked(n))
		busy = iova_node_state(n) == IOVA_NODE_IN_USE;
	siommu_mutex_unlock(&s->tree_lock);
	if (busy)
		return -EBUSY;
	/* Threads that used @s may live on: take their caches from them. */
	siommu_tls_owner_fini(&s->caches);

	depot_free(s);
	iova_tree_fini(s);
	siommu_mutex_destroy(&s->flush_lock);
	siommu_mutex_destroy(&s->depot_lock);
	siommu_mutex_destroy(&s->tree_lock);
	siommu_ctx_unhold(s->ctx);
	siommu_free(s);
	return 0;
}

static __attribute__((noinline)) int alloc_slow(struct siommu_iova_space *s,
		      const struct iova_alloc_req *req, uint64_t *iova)
{
	struct iova_node *n;
	bool flushed = false;
	int err;

	for (;;) {
		siommu_mutex_lock(&s->tree_lock);
		n = iova_tree_alloc_locked(s, req, &err);
		if (n) {
			*iova = n->pfn_lo << s->granule_lg2;
			siommu_mutex_unlock(&s->tree_lock);
			return 0;
		}
		if (err != -ENOSPC || flushed || !space_caching(s)) {
			if (err == -ENOSPC)
				s->failures++;
			siommu_mutex_unlock(&s->tree_lock);
			return err;
		}
		siommu_mutex_unlock(&s->tree_lock);
		/* Cached ranges count as used: give them back and retry once. */
		if (flush_all(s)) {
			/* could not flush: no more room than we found */
			siommu_mutex_lock(&s->tree_lock);
			s->failures++;
			siommu_mutex_unlock(&s->tree_lock);
			return -ENOSPC;
		}
		flushed = true;
	}
}

/* Everything but the common case of siommu_iova_alloc(). */
static __attribute__((noinline)) int alloc_slowpath(struct siommu_iova_space *s,
						    uint64_t size, uint64_t limit,
						    uint64_t *iova)
{
	unsigned int g, lg2;
	struct iova_alloc_req req;
	struct iova_mag_entry e;
	struct iova_pcache *pc;
	uint64_t pages;

	if (!s || !iova || !size)
		return -EINVAL;
	g = s->granule_lg2;
	pages = ((size - 1) >> g) + 1;
	/* The last granule that lies entirely at or below @limit. */
	if (limit == UINT64_MAX) {
		req.limit_pfn = limit >> g;
	} else {
		req.limit_pfn = (limit + 1) >> g;
		if (!req.limit_pfn)
			return -ERANGE;
		req.limit_pfn--;
	}
	if (req.limit_pfn < s->start_pfn)
		return -ERANGE;
	if (req.limit_pfn > s->last_pfn)
		req.limit_pfn = s->last_pfn;
	lg2 = ceil_lg2(pages);
	if (pages <= SIOMMU_IOVA_CACHE_MAX) {
		pages = 1ull << lg2;
		req.cls = (uint8_t)lg2;
	} else {
		req.cls = IOVA_NO_CLASS;
	}
	if (pages > s->last_pfn - s->start_pfn + 1)
		return -ERANGE;

	if (req.cls != IOVA_NO_CLASS && space_caching(s)) {
		pc = pcache_get(s);
		if (pc && pcache_alloc(s, pc, req.cls, req.limit_pfn, &e)) {
			*iova = e.pfn << g;
			return 0;
		}
	}
	req.pages = pages;
	req.align_lg2 = lg2;
	req.need_order = (pages & (pages - 1)) ? (int)lg2 - 1 : (int)lg2;
	return alloc_slow(s, &req, iova);
}

/*
 * The common case is inline here and kept short: a cached size, the thread
 * already has a cache for @s, and the top range of its loaded magazine
 * fits under @limit.  Anything else goes to alloc_slowpath().
 */
SIOMMU_API int siommu_iova_alloc(struct siommu_iova_space *s, uint64_t size,
				 uint64_t limit, uint64_t *iova)
{
	struct iova_mag_entry *e;
	struct iova_pcache *pc;
	struct iova_mag *m;
	unsigned int g, cls;
	uint64_t pages, pfn = 0;
	bool hit = false;

	if (siommu_unlikely(!s || !iova || !size || !space_caching(s)))
		goto slow;
	g = s->granule_lg2;
	pages = ((size - 1) >> g) + 1;
	if (siommu_unlikely(pages > SIOMMU_IOVA_CACHE_MAX))
		goto slow;
	cls = ceil_lg2(pages);
	pc = siommu_tls_lookup(s->caches.id);
	if (siommu_unlikely(!pc))
		goto slow;

	if (siommu_likely(cache_enter(pc))) {
		siommu_debug_yield(SIOMMU_YIELD_IOVA_CACHE);
		m = pc->loaded[cls];
		if (siommu_likely(m && m->n)) {
			e = &m->e[m->n - 1];
			pfn = e->pfn;
			/*
			 * The range's last byte at or below @limit; the end
			 * wraps to 0 only for a range ending at 2^64 - 1.
			 */
			if (siommu_likely(((pfn + (1ull << cls)) << g) - 1 <= limit)) {
				m->n--;
				/* We own the cached node: a release store suffices. */
				siommu_store_release(&e->node->key,
						     iova_key(pfn, IOVA_NODE_IN_USE));
				pc_count(pc, IOVA_PC_HITS);
				hit = true;
			}
		}
		cache_exit(pc);
	}
	if (siommu_likely(hit)) {
		*iova = pfn << g;
		return 0;
	}
slow:
	return alloc_slowpath(s, size, limit, iova);
}

/* Claim the node of the allocation at @pfn.  Returns it, or NULL. */
static inline struct iova_node *claim(struct siommu_iova_space *s,
				      struct iova_node *n, uint64_t pfn)
{
	uint64_t expect = iova_key(pfn, IOVA_NODE_IN_USE);

	/*
	 * Only one free of an allocation can win, and a stale pointer to a
	 * recycled node has another key.  Acquire pairs with the release
	 * store of IN_USE by the allocation.
	 */
	if (siommu_unlikely(!n || !__atomic_compare_exchange_n(
			&n->key, &expect, iova_key(pfn, IOVA_NODE_CACHED), false,
			__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)))
		return NULL;
	return n;
}

/* After a successful claim: cache the node if possible, else free it. */
static __attribute__((noinline)) int free_claimed(struct siommu_iova_space *s,
						 struct iova_pcache *pc,
						 struct iova_node *n, uint64_t pfn)
{
	if (pc && n->cls != IOVA_NO_CLASS && pcache_free(s, pc, n, pfn))
		return 0;
	free_to_tree(s, n);
	return 0;
}

/* Everything but the common case of siommu_iova_free(). */
static __attribute__((noinline)) int free_slowpath(struct siommu_iova_space *s,
						  uint64_t iova)
{
	struct iova_pcache *pc = NULL;
	struct iova_node *n;
	uint64_t pfn;

	if (!s)
		return -EINVAL;
	if (iova & ((1ull << s->granule_lg2) - 1))
		return -EINVAL;
	pfn = iova >> s->granule_lg2;
	if (pfn < s->start_pfn || pfn > s->last_pfn)
		return -ENOENT;
	if (space_caching(s))
		pc = pcache_get(s);
	n = claim(s, iova_index_lookup(s, pfn, pc), pfn);
	if (!n)
		return -ENOENT;
	return free_claimed(s, pc, n, pfn);
}

/*
 * The common case is inline here and kept short: the thread has a cache for
 * @s whose index hint covers @iova, the range is of a cached size and the
 * loaded magazine has room.  Anything else goes to the slow paths.
 */
SIOMMU_API int siommu_iova_free(struct siommu_iova_space *s, uint64_t iova)
{
	struct iova_pcache *pc;
	struct iova_node *n;
	struct iova_mag *m;
	uint64_t pfn, idx;
	unsigned int cls;

	if (siommu_unlikely(!s || !space_caching(s)))
		return free_slowpath(s, iova);
	pc = siommu_tls_lookup(s->caches.id);
	pfn = iova >> s->granule_lg2;
	idx = iova_index_of(s, pfn);
	if (siommu_unlikely(!pc || iova & ((1ull << s->granule_lg2) - 1) ||
			    idx > s->last_pfn - s->start_pfn))
		return free_slowpath(s, iova);
	if (siommu_unlikely(pc->hint_idx != (idx >> IOVA_RADIX_BITS) + 1))
		return free_slowpath(s, iova);
	/* Pairs with the release store in iova_tree_alloc_locked(). */
	n = claim(s, siommu_load_acquire((struct iova_node **)
				&pc->hint_leaf->slot[idx & IOVA_RADIX_MASK]), pfn);
	if (siommu_unlikely(!n))
		return -ENOENT;
	cls = n->cls;
	if (siommu_unlikely(cls == IOVA_NO_CLASS || !cache_enter(pc)))
		return free_claimed(s, pc, n, pfn);
	siommu_debug_yield(SIOMMU_YIELD_IOVA_CACHE);
	m = pc->loaded[cls];
	if (siommu_unlikely(!m || m->n == IOVA_MAG_SIZE)) {
		cache_exit(pc);
		return free_claimed(s, pc, n, pfn);
	}
	m->e[m->n].pfn = pfn;
	m->e[m->n].node = n;
	m->n++;
	cache_exit(pc);
	return 0;
}

SIOMMU_API int siommu_iova_find(struct siommu_iova_space *s, uint64_t addr,
				struct siommu_iova_range *out)
{
	struct iova_node *n;
	enum iova_node_state st;
	uint64_t pfn;
	int ret = -ENOENT;

	if (!s || !out)
		return -EINVAL;
	pfn = addr >> s->granule_lg2;
	if (pfn < s->start_pfn || pfn > s->last_pfn)
		return -ENOENT;
	siommu_mutex_lock(&s->tree_lock);
	n = iova_tree_find_locked(s, pfn);
	if (n) {
		st = iova_node_state(n);
		if (st == IOVA_NODE_IN_USE || st == IOVA_NODE_RESERVED) {
			out->start = n->pfn_lo << s->granule_lg2;
			out->last = ((n->pfn_hi + 1) << s->granule_lg2) - 1;
			out->kind = st == IOVA_NODE_IN_USE ? SIOMMU_IOVA_ALLOCATED :
							     SIOMMU_IOVA_RESERVED;
			ret = 0;
		}
	}
	siommu_mutex_unlock(&s->tree_lock);
	return ret;
}

SIOMMU_API int siommu_iova_reserve(struct siommu_iova_space *s, uint64_t start,
				   uint64_t last)
{
	unsigned int g, attempt;
	uint64_t lo, hi;
	int ret;

	if (!s || start > last)
		return -EINVAL;
	g = s->granule_lg2;
	lo = start >> g;
	hi = last >> g;
	if (hi < s->start_pfn || lo > s->last_pfn)
		return 0;	/* outside the aperture: never allocated anyway */
	if (lo < s->start_pfn)
		lo = s->start_pfn;
	if (hi > s->last_pfn)
		hi = s->last_pfn;
	for (attempt = 0;; attempt++) {
		siommu_mutex_lock(&s->tree_lock);
		ret = iova_tree_reserve_locked(s, lo, hi);
		siommu_mutex_unlock(&s->tree_lock);
		if (ret != -EAGAIN)
			return ret;
		/* Cached ranges overlap: they are free, give them back. */
		if (attempt == 2)
			return -EBUSY;
		ret = flush_all(s);
		if (ret)
			return ret;	/* -EIO: nothing reserved */
	}
}

SIOMMU_API void siommu_iova_free_all(struct siommu_iova_space *s)
{
	struct iova_pcache *pc;
	struct iova_node *n, *next;

	if (!s)
		return;
	/* No alloc or free runs: every cache is ours without waiting for busy. */
	siommu_tls_owner_lock(&s->caches);
	siommu_tls_for_each(&s->caches, pc)
		pcache_drain(s, pc, false);
	siommu_tls_owner_unlock(&s->caches);
	depot_drain(s);

	siommu_mutex_lock(&s->tree_lock);
	for (n = iova_tree_first_locked(s); n; n = next) {
		next = iova_tree_next_locked(n);
		if (iova_node_state(n) == IOVA_NODE_IN_USE) {
			siommu_store_release(&n->key,
					     iova_key(n->pfn_lo, IOVA_NODE_CACHED));
			iova_tree_remove_locked(s, n);
			s->direct_frees++;
		}
	}
	siommu_mutex_unlock(&s->tree_lock);
}

SIOMMU_API int siommu_iova_flush_caches(struct siommu_iova_space *s)
{
	if (!s)
		return -EINVAL;
	if (space_caching(s))
		return flush_all(s);
	return 0;
}

static enum siommu_iova_kind kind_of(enum iova_node_state st)
{
	switch (st) {
	case IOVA_NODE_IN_USE:
		return SIOMMU_IOVA_ALLOCATED;
	case IOVA_NODE_CACHED:
		return SIOMMU_IOVA_CACHED;
	default:
		return SIOMMU_IOVA_RESERVED;
	}
}

SIOMMU_API int siommu_iova_snapshot(struct siommu_iova_space *s,
				    struct siommu_iova_range *out, size_t max,
				    size_t *nr)
{
	struct iova_node *n;
	size_t i = 0;

	if (!s || !nr || (max && !out))
		return -EINVAL;
	siommu_mutex_lock(&s->tree_lock);
	for (n = iova_tree_first_locked(s); n; n = iova_tree_next_locked(n), i++) {
		if (i >= max)
			continue;
		memset(&out[i], 0, sizeof(out[i]));	/* no stale padding */
		out[i].start = n->pfn_lo << s->granule_lg2;
		out[i].last = ((n->pfn_hi + 1) << s->granule_lg2) - 1;
		out[i].kind = kind_of(iova_node_state(n));
	}
	siommu_mutex_unlock(&s->tree_lock);
	*nr = i;
	return i > max ? -ENOSPC : 0;
}

SIOMMU_API int siommu_iova_get_stats(struct siommu_iova_space *s,
				     struct siommu_iova_stats *out)
{
	uint64_t cnt[IOVA_PC_NR] = { 0 }, direct;
	struct iova_pcache *pc;
	struct iova_node *n;
	unsigned int i;

	if (!s || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	siommu_tls_owner_lock(&s->caches);
	for (i = 0; i < IOVA_PC_NR; i++)
		cnt[i] = s->retired[i];
	siommu_tls_for_each(&s->caches, pc) {
		for (i = 0; i < IOVA_PC_NR; i++)
			cnt[i] += siommu_load_relaxed(&pc->cnt[i]);
		out->threads++;
	}
	siommu_mutex_lock(&s->depot_lock);
	out->depot_gets = s->depot_gets;
	out->depot_puts = s->depot_puts;
	siommu_mutex_unlock(&s->depot_lock);
	siommu_mutex_lock(&s->tree_lock);
	out->tree_allocs = s->tree_allocs;
	out->tree_frees = s->tree_frees;
	out->failures = s->failures;
	direct = s->direct_frees;
	for (n = iova_tree_first_locked(s); n; n = iova_tree_next_locked(n)) {
		switch (iova_node_state(n)) {
		case IOVA_NODE_IN_USE:
			out->allocated++;
			break;
		case IOVA_NODE_CACHED:
			out->cached++;
			break;
		default:
			out->reserved++;
			break;
		}
	}
	siommu_mutex_unlock(&s->tree_lock);
	siommu_tls_owner_unlock(&s->caches);
	out->flushes = __atomic_load_n(&s->flushes, __ATOMIC_RELAXED);
	out->cache_hits = cnt[IOVA_PC_HITS];
	out->allocs = out->tree_allocs + out->cache_hits;
	/*
	 * Frees are not counted on the fast path (one counter per pair is
	 * enough): every range allocated and no longer allocated was freed.
	 */
	if (out->allocs > out->allocated)
		out->frees = out->allocs - out->allocated;
	if (out->frees > direct)
		out->cache_frees = out->frees - direct;
	return 0;
}

SIOMMU_API const char *siommu_iova_kind_name(enum siommu_iova_kind kind)
{
	switch (kind) {
	case SIOMMU_IOVA_ALLOCATED:
		return "allocated";
	case SIOMMU_IOVA_CACHED:
		return "cached";
	case SIOMMU_IOVA_RESERVED:
		return "reserved";
	}
	return NULL;
}

int siommu_iova_check(struct siommu_iova_space *s)
{
	int ret;

	siommu_mutex_lock(&s->tree_lock);
	ret = iova_tree_check_locked(s);
	siommu_mutex_unlock(&s->tree_lock);
	return ret;
}
