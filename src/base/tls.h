/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-thread, per-object state.  Internal header.
 *
 * An owner (a stats set, an IOVA space: any object whose threads each want
 * a private block of memory for it) embeds a struct siommu_tls_owner.  The
 * first time a thread asks for its block of an owner, the block is
 * allocated (zeroed, cache-line aligned) and linked both to the owner and to
 * the thread; afterwards the thread finds it by the owner's id in a table of
 * its own, without a lock and without writing anything shared.
 *
 * The thread's table.  Each thread has a struct siommu_tls_thread
 * (siommu_tls_self) holding an open-addressed hash table from owner id to
 * the thread's block: linear probing, at most half full, growing (and
 * dropping tombstones) when an insert would pass that.  The lookup reads
 * the table through two thread-local words that mirror its slot array and
 * mask (siommu_tls_slots, siommu_tls_mask; a thread without a table sees a
 * static empty one).  All three use the initial-exec TLS model: one
 * %fs-relative load each, no __tls_get_addr() call, also from the shared
 * library.  Owner ids are multiples of an odd 64-bit constant (the
 * multiplicative hash is applied when the id is made), so the slot of an id
 * is (id >> 32) & mask: no multiplication on the hot path.
 * Nothing is ever evicted: an entry leaves the table only when its owner is
 * destroyed (the entry becomes a tombstone) or its thread exits (the whole
 * table goes).  Owner ids come from one process-wide counter and are never
 * reused, so two live owners never share an entry, whatever their ids.
 *
 * Who writes the table.  The owner thread inserts and grows (under its own
 * thread lock); an owner's destroy, on any thread, turns its entry into a
 * tombstone (under the same thread lock).  The owner thread's lookups take no
 * lock: they read the ids with relaxed atomic loads, and the only concurrent
 * write they can meet is a tombstone for an owner they are not looking up
 * (destroying an owner while a thread uses it is a contract violation).
 * The slot array itself is replaced only by the owner thread.
 *
 * Lifetimes.  A block lives from its thread's first use of the owner until
 * the earlier of the thread's exit (the owner's ops->thread_exit() folds or
 * gives back what the block holds) or the owner's destroy (ops->release()).
 * Memory: per thread, one block per live owner it used and a table of at
 * most four slots per such owner (plus tombstones until the next growth);
 * both freed when the owner or the thread dies.
 *
 * Locks.  No process-wide lock.  Each owner has a lock (name and rank given
 * by the owner) over its list of blocks; each thread has a lock
 * (SIOMMU_RANK_TLS_THREAD, taken inside owner locks) over its table and its
 * list of blocks.  Both are taken only on slow paths: a thread's first use of
 * an owner, the owner's readers (summing stats, flushing caches), thread exit
 * and owner destroy.  The owner's record (its lock and list) is allocated
 * apart and reference-counted, because an exiting thread may be waiting for
 * the lock of an owner that is being destroyed.
 */
#ifndef SIOMMU_BASE_TLS_H
#define SIOMMU_BASE_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <urcu/list.h>

#include "base/compiler.h"
#include "base/lock.h"

#define SIOMMU_TLS_EMPTY	0ull
#define SIOMMU_TLS_TOMBSTONE	UINT64_MAX

struct siommu_tls_slot {
	uint64_t id;	/* atomic: an owner id, EMPTY or TOMBSTONE */
	void *data;	/* the thread's block for that owner (owner thread writes) */
};

struct siommu_tls_thread {
	/* Read by the owner thread's lockless lookups; replaced by it only. */
	struct siommu_tls_slot *slots;	/* [lock] for writers */
	uint64_t mask;			/* [lock] for writers; slots - 1 */
	unsigned long used;		/* [lock] slots not EMPTY */
	unsigned long live;		/* [lock] slots holding an owner id */
	struct siommu_mutex lock;
	struct cds_list_head blocks;	/* [lock] this thread's blocks */
};

extern __thread struct siommu_tls_thread *siommu_tls_self
	__attribute__((tls_model("initial-exec")));
/* Mirrors of siommu_tls_self->slots and ->mask for the lookup (owner thread). */
extern __thread struct siommu_tls_slot *siommu_tls_slots
	__attribute__((tls_model("initial-exec")));
extern __thread uint64_t siommu_tls_mask
	__attribute__((tls_model("initial-exec")));

struct siommu_tls_ops {
	size_t size;		/* bytes of a thread's block, header included */
	size_t hdr_offset;	/* offset of its struct siommu_tls_block */
	/*
	 * A thread that used the owner exits: fold or give back what @data
	 * holds (then the block is freed).  Called on the exiting thread with
	 * the owner's lock held; the owner object @obj is alive.
	 */
	void (*thread_exit)(void *obj, void *data);
	/*
	 * The owner is being destroyed: free what @data holds (not @data).
	 * Called from siommu_tls_owner_fini() with the owner's lock held.
	 * May be NULL.
	 */
	void (*release)(void *obj, void *data);
};

struct tls_owner_rec;

/* Embedded in each owner.  Immutable after siommu_tls_owner_init(). */
struct siommu_tls_owner {
	uint64_t id;			/* unique in the process, never reused */
	struct tls_owner_rec *rec;	/* lock, blocks, ops */
};

/* Embedded in each block, at ops->hdr_offset. */
struct siommu_tls_block {
	struct cds_list_head owner_node;	/* [owner lock] */
	struct cds_list_head thread_node;	/* [thread lock] */
	struct tls_owner_rec *owner;		/* immutable */
	struct siommu_tls_thread *thread;	/* immutable */
};

struct tls_owner_rec {
	struct siommu_mutex lock;
	struct cds_list_head blocks;	/* [lock] */
	bool dead;			/* [lock] siommu_tls_owner_fini() ran */
	unsigned long refs;		/* atomic: the owner + exiting threads */
	void *obj;			/* immutable */
	const struct siommu_tls_ops *ops;	/* immutable */
};

/*
 * Give @o an id and a record.  @obj is passed to the callbacks; @name and
 * @rank are those of the owner's lock.  Returns 0 or -ENOMEM.
 */
int siommu_tls_owner_init(struct siommu_tls_owner *o,
			  const struct siommu_tls_ops *ops, void *obj,
			  const char *name, enum siommu_lock_rank rank);
/*
 * Free every thread's block of @o (calling ops->release() on each) and @o's
 * record.  Context: no thread uses @o concurrently.  Takes the owner's lock
 * and, in turn, each using thread's lock.
 */
void siommu_tls_owner_fini(struct siommu_tls_owner *o);

#if SIOMMU_TESTING_BUILD
/*
 * Testing builds only: when set, an exiting thread frees its blocks without
 * calling ops->thread_exit() (its counts are lost).  The stress test sets it
 * (SIOMMU_STRESS_BREAK=1) to show that it catches a broken exit.  Relaxed
 * atomic.
 */
extern bool siommu_tls_test_break_exit;
#endif

/* Ids are already hashed (see above): the slot is a few of their bits. */
static inline uint64_t siommu_tls_hash(uint64_t id)
{
	return id >> 32;
}

/*
 * The calling thread's block of the owner with id @id, or NULL if it has
 * none.  Context: any thread; lock-free, writes nothing.
 */
static inline void *siommu_tls_lookup(uint64_t id)
{
	struct siommu_tls_slot *slots = siommu_tls_slots;
	uint64_t mask = siommu_tls_mask, i, cur;

	i = siommu_tls_hash(id) & mask;
	for (;;) {
		cur = siommu_load_relaxed(&slots[i].id);
		if (siommu_likely(cur == id))
			return slots[i].data;
		if (cur == SIOMMU_TLS_EMPTY)
			return NULL;
		i = (i + 1) & mask;
	}
}

/*
 * The calling thread's block of @o, allocated on its first use.  Returns
 * NULL only if that allocation failed (the caller then does without).
 * Context: any thread.  Takes @o's lock and the thread's lock on first use.
 */
void *siommu_tls_get_slow(struct siommu_tls_owner *o) __attribute__((noinline));

static inline void *siommu_tls_get(struct siommu_tls_owner *o)
{
	void *data = siommu_tls_lookup(o->id);

	if (siommu_likely(data))
		return data;
	return siommu_tls_get_slow(o);
}

/* The owner's lock: held, the set of blocks is stable. */
static inline void siommu_tls_owner_lock(struct siommu_tls_owner *o)
{
	siommu_mutex_lock(&o->rec->lock);
}

static inline void siommu_tls_owner_unlock(struct siommu_tls_owner *o)
{
	siommu_mutex_unlock(&o->rec->lock);
}

static inline void *siommu_tls_block_data(struct siommu_tls_owner *o,
					  struct cds_list_head *node)
{
	return (char *)siommu_container_of(node, struct siommu_tls_block,
					   owner_node) - o->rec->ops->hdr_offset;
}

/*
 * Every thread's block of @o, as @pos (a pointer to the block's type).
 * Context: the owner's lock held; the body must not add or remove blocks.
 */
#define siommu_tls_for_each(o, pos)					\
	for (struct cds_list_head *__tn = (o)->rec->blocks.next;	\
	     __tn != &(o)->rec->blocks &&				\
	     (((pos) = siommu_tls_block_data((o), __tn)), 1);		\
	     __tn = __tn->next)

#endif
