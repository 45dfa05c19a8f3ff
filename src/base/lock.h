/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mutexes with lock-order checking.  Internal header.
 *
 * Every lock has a name and a rank (enum siommu_lock_rank, the global lock
 * order of docs/architecture.md).  A thread may take a lock only if its rank
 * is greater than the rank of every lock it already holds.  In a testing
 * build each thread keeps a stack of the locks it holds and taking one out of
 * order aborts, naming both locks; elsewhere the checks compile to nothing.
 *
 * Grace periods (testing builds, lockdep.c): a lock class (a rank) taken
 * inside a read-side section becomes "reader-taken", and the stack of that
 * first acquisition is kept; a class held while waiting for a grace period
 * (siommu_rcu_synchronize(), siommu_rcu_barrier(), so siommu_synchronize()
 * too) is "held across a grace period", with its stack.  Waiting for a grace
 * period holding a reader-taken class, or taking a class held across a grace
 * period inside a read-side section, aborts printing both stacks: the reader
 * could be the one the grace period waits for, blocked on the lock its
 * waiter holds.
 *
 * To add a lock: give it a rank in enum siommu_lock_rank, at the place of the
 * order where it is taken, and add it to the table in docs/architecture.md.
 */
#ifndef SIOMMU_BASE_LOCK_H
#define SIOMMU_BASE_LOCK_H

#include <pthread.h>
#include "siommu_config.h"

enum siommu_lock_rank {
	SIOMMU_RANK_NONE = 0,
	/* ... module locks go here, outermost first ... */
	/*
	 * 100..149: locks of upper layers (ioas, iopf, mm) held while they call
	 * attach/replace/detach; 151..159 and 161..199: locks their attach
	 * callbacks take.
	 */
	SIOMMU_RANK_IOPF_RESOLVE = 140,	/* iopf: rs->lock (the resolver's mapped pages; held across ioas area find/pin/unpin and domain map/unmap) */
	SIOMMU_RANK_CORE_ATTACH = 150,	/* core: dev->attach_lock (attach protocol; held across layer callbacks and a grace period) */
	SIOMMU_RANK_IOAS = 151,		/* ioas: ioas->lock (areas, ranges, its domains; taken in layer callbacks, held across domain map/unmap) */
	SIOMMU_RANK_IOAS_LAYER = 152,	/* ioas: l->lock (domains being freed) */
	SIOMMU_RANK_IOAS_ACCESS = 153,	/* ioas: acc->lock (an access's pin records; alone or under ioas->lock) */
	SIOMMU_RANK_IOPF = 154,		/* iopf: iopf->lock (devices, domain handler records; layer callbacks, never on a request path) */
	SIOMMU_RANK_CORE_LAYERS = 160,	/* core: iommu->layers_lock (registered layers) */
	/*
	 * mm (170..199): held while calling into core and pgtable, never across
	 * a grace period (a device fault handler takes them inside a DMA's
	 * read-side section).
	 */
	SIOMMU_RANK_MM = 170,		/* mm: mm->lock (areas, folios, table changes, notifier lists) */
	SIOMMU_RANK_MM_MIRROR = 180,	/* mm: mirror->lock (the mirror's table: fill after the retry check, zap) */
	SIOMMU_RANK_CORE_IOMMU = 200,	/* core: iommu->lock (device and domain lists, flusher) */
	SIOMMU_RANK_CORE_DEVICE = 210,	/* core: dev->lock (a device's attachments) */
	SIOMMU_RANK_CORE_DOMAIN = 220,	/* core: dom->lock (users, dying) */
	SIOMMU_RANK_CORE_MAPS = 225,	/* core: dom->maps_lock (mapping records, with a memory map) */
	SIOMMU_RANK_CORE_FQ = 230,	/* core: dom->fq.lock (the flush queue's list) */
	SIOMMU_RANK_IOVA_FLUSH = 400,	/* iova: space->flush_lock, serializes cache flushes (waits for busy owners, no grace period) */
	SIOMMU_RANK_IOVA_CACHES = 401,	/* iova: a space's list of thread caches (base/tls.c owner lock) */
	SIOMMU_RANK_IOVA_DEPOT = 402,	/* iova: space->depot_lock */
	SIOMMU_RANK_IOVA_TREE = 403,	/* iova: space->tree_lock */
	SIOMMU_RANK_MEM = 500,		/* mem: mem->lock (regions array, notifiers, revoke state) */
	SIOMMU_RANK_IOPF_PRQ = 600,	/* iopf: iopf->prq_lock (the page-request queue; reader-taken, never across a grace period) */
	SIOMMU_RANK_IOPF_DEV = 601,	/* iopf: fd->lock, a device's partial and pending lists in every path (reader-taken) */
	SIOMMU_RANK_IOPF_FQ = 610,	/* iopf: q->lock, a fault queue's unread list and cookies (reader-taken) */
	SIOMMU_RANK_MM_INV = 660,	/* mm: mm->inv_lock (in_progress, range union, interval seq; leaf) */
	SIOMMU_RANK_PT_POOL = 700,	/* pgtable: pt->pool_lock, table-page pool (leaf) */
	SIOMMU_RANK_CORE_FAULT = 750,	/* core: iommu->flog.lock, the fault log (leaf) */
	SIOMMU_RANK_CTX_CFG = 800,	/* ctx: log/trace sink replacement (leaf) */
	SIOMMU_RANK_TEST_OUTER = 900,	/* used by the lock-order tests only */
	SIOMMU_RANK_TEST_INNER = 901,
	SIOMMU_RANK_TEST_GP_A = 902,	/* used by the grace-period rule tests only */
	SIOMMU_RANK_TEST_GP_B = 903,
	SIOMMU_RANK_TEST_GP_C = 904,
	SIOMMU_RANK_STATS = 1000,	/* base/stats.c: a set's list of thread blocks (tls owner lock) */
	SIOMMU_RANK_TLS_THREAD = 1010,	/* base/tls.c: a thread's table of blocks (leaf) */
};

struct siommu_mutex {
	pthread_mutex_t m;
#if SIOMMU_TESTING_BUILD
	const char *name;
	enum siommu_lock_rank rank;
#endif
};

#if SIOMMU_TESTING_BUILD
#define SIOMMU_MUTEX_INITIALIZER(n, r) \
	{ .m = PTHREAD_MUTEX_INITIALIZER, .name = (n), .rank = (r) }
void siommu_lockdep_acquire(struct siommu_mutex *l);
void siommu_lockdep_release(struct siommu_mutex *l);
bool siommu_lockdep_held(const struct siommu_mutex *l);
/* How many siommu_mutexes the calling thread has taken so far (tests). */
unsigned long siommu_lockdep_acquired(void);
/* The calling thread is about to wait for a grace period in @what. */
void siommu_lockdep_grace_period(const char *what);
#else
#define SIOMMU_MUTEX_INITIALIZER(n, r) { .m = PTHREAD_MUTEX_INITIALIZER }
static inline void siommu_lockdep_acquire(struct siommu_mutex *l) { (void)l; }
static inline void siommu_lockdep_release(struct siommu_mutex *l) { (void)l; }
static inline void siommu_lockdep_grace_period(const char *what) { (void)what; }
#endif

static inline void siommu_mutex_init(struct siommu_mutex *l, const char *name,
				     enum siommu_lock_rank rank)
{
	pthread_mutex_init(&l->m, NULL);
#if SIOMMU_TESTING_BUILD
	l->name = name;
	l->rank = rank;
#else
	(void)name;
	(void)rank;
#endif
}

static inline void siommu_mutex_destroy(struct siommu_mutex *l)
{
	pthread_mutex_destroy(&l->m);
}

static inline void siommu_mutex_lock(struct siommu_mutex *l)
{
	siommu_lockdep_acquire(l);	/* checks the order before blocking */
	pthread_mutex_lock(&l->m);
}

static inline void siommu_mutex_unlock(struct siommu_mutex *l)
{
	siommu_lockdep_release(l);
	pthread_mutex_unlock(&l->m);
}

/* siommu_assert_held(): the calling thread holds @l (testing builds). */
#if SIOMMU_TESTING_BUILD
#define siommu_assert_held(l)	SIOMMU_CHECK(siommu_lockdep_held(l))
#else
#define siommu_assert_held(l)	do { (void)(l); } while (0)
#endif

#endif
