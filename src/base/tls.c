// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-thread, per-object state; the design is in tls.h.
 *
 * Why each side may touch the other's structure.
 *  - siommu_tls_owner_fini() holds the owner's lock for its whole run and,
 *    for each block still on the owner's list, takes the block's thread
 *    lock.  That thread record is alive: a block is on the owner's list iff
 *    it is on its thread's list (both links are cut together, under both
 *    locks, by fini, or by the exiting thread under the owner's lock), and a
 *    thread frees its record only once its list is empty.
 *  - An exiting thread must take an owner's lock while the owner may be
 *    being destroyed: it takes a reference on the owner's record (under its
 *    own thread lock, while the block is still on its list) so that the
 *    record outlives the wait, then takes the owner's lock and its thread
 *    lock in the order of the ranks, and goes on only if the block is still
 *    the first on its list (no one else adds to that list: the thread is
 *    exiting; so the pointer cannot have been recycled).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "base/alloc.h"
#include "base/debug.h"
#include "base/tls.h"

__thread struct siommu_tls_thread *siommu_tls_self
	__attribute__((tls_model("initial-exec")));

/* What a thread without a table looks up in: one empty slot. */
static struct siommu_tls_slot tls_empty_table[1];
__thread struct siommu_tls_slot *siommu_tls_slots
	__attribute__((tls_model("initial-exec"))) = tls_empty_table;
__thread uint64_t siommu_tls_mask __attribute__((tls_model("initial-exec")));

#if SIOMMU_TESTING_BUILD
bool siommu_tls_test_break_exit;
#define tls_exit_broken()	siommu_load_relaxed(&siommu_tls_test_break_exit)
#else
#define tls_exit_broken()	false
#endif

static uint64_t tls_next_id = 1;	/* atomic; 0 is SIOMMU_TLS_EMPTY */

/*
 * Only so that its destructor runs at thread exit.  Created once per
 * process, immutable afterwards.
 */
static pthread_key_t tls_key;
static pthread_once_t tls_key_once = PTHREAD_ONCE_INIT;

#define TLS_MIN_SLOTS	16

static void tls_rec_put(struct tls_owner_rec *rec)
{
	if (__atomic_sub_fetch(&rec->refs, 1, __ATOMIC_ACQ_REL))
		return;
	siommu_mutex_destroy(&rec->lock);
	siommu_free(rec);
}

int siommu_tls_owner_init(struct siommu_tls_owner *o,
			  const struct siommu_tls_ops *ops, void *obj,
			  const char *name, enum siommu_lock_rank rank)
{
	struct tls_owner_rec *rec = siommu_zalloc(sizeof(*rec));

	if (!rec)
		return -ENOMEM;
	siommu_mutex_init(&rec->lock, name, rank);
	CDS_INIT_LIST_HEAD(&rec->blocks);
	rec->refs = 1;
	rec->obj = obj;
	rec->ops = ops;
	o->rec = rec;
	/*
	 * A multiple of an odd constant: a bijection of the counter, so ids are
	 * unique, and already hashed (tls.h).  Never EMPTY (the counter starts
	 * at 1) nor TOMBSTONE (skipped).
	 */
	do {
		o->id = __atomic_fetch_add(&tls_next_id, 1, __ATOMIC_RELAXED) *
			0x9e3779b97f4a7c15ull;
	} while (o->id == SIOMMU_TLS_TOMBSTONE);
	return 0;
}

static struct siommu_tls_block *block_hdr(struct tls_owner_rec *rec, void *data)
{
	return (struct siommu_tls_block *)((char *)data + rec->ops->hdr_offset);
}

/* Turn @id's entry of @t into a tombstone.  Caller holds t->lock. */
static void table_remove_locked(struct siommu_tls_thread *t, uint64_t id)
{
	uint64_t i = siommu_tls_hash(id) & t->mask, cur;

	siommu_assert_held(&t->lock);
	for (;;) {
		cur = siommu_load_relaxed(&t->slots[i].id);
		if (cur == id) {
			siommu_store_relaxed(&t->slots[i].id, SIOMMU_TLS_TOMBSTONE);
			t->live--;
			return;
		}
		if (SIOMMU_WARN_ON(cur == SIOMMU_TLS_EMPTY))
			return;
		i = (i + 1) & t->mask;
	}
}

static void table_put(struct siommu_tls_slot *slots, uint64_t mask,
		      uint64_t id, void *data)
{
	uint64_t i = siommu_tls_hash(id) & mask;

	/* Only into an empty slot: tombstones go at the next growth. */
	while (siommu_load_relaxed(&slots[i].id) != SIOMMU_TLS_EMPTY)
		i = (i + 1) & mask;
	slots[i].data = data;
	siommu_store_relaxed(&slots[i].id, id);
}

/*
 * Make room for one more entry: at most half the slots in use (tombstones
 * included).  Growing rehashes the live entries only, to a size of at least
 * four slots per live entry.  Returns 0 or -ENOMEM (nothing changed).
 * Context: the owner thread of @t, holding t->lock.
 */
static int table_reserve_locked(struct siommu_tls_thread *t)
{
	struct siommu_tls_slot *old = t->slots, *slots;
	uint64_t cap = t->mask + 1, n = TLS_MIN_SLOTS, i, id;

	if ((t->used + 1) * 2 <= cap)
		return 0;
	while (n < 4 * (t->live + 1))
		n *= 2;
	slots = siommu_calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < cap; i++) {
		id = siommu_load_relaxed(&old[i].id);
		if (id != SIOMMU_TLS_EMPTY && id != SIOMMU_TLS_TOMBSTONE)
			table_put(slots, n - 1, id, old[i].data);
	}
	t->slots = slots;
	t->mask = n - 1;
	siommu_tls_slots = slots;	/* only the owner thread grows its table */
	siommu_tls_mask = n - 1;
	t->used = t->live;
	siommu_free(old);
	return 0;
}

static void tls_thread_exit(void *arg)
{
	struct siommu_tls_thread *t = arg;
	struct siommu_tls_block *b;
	struct tls_owner_rec *rec;

	for (;;) {
		siommu_mutex_lock(&t->lock);
		if (cds_list_empty(&t->blocks)) {
			siommu_mutex_unlock(&t->lock);
			break;
		}
		b = cds_list_first_entry(&t->blocks, struct siommu_tls_block,
					 thread_node);
		rec = b->owner;
		__atomic_fetch_add(&rec->refs, 1, __ATOMIC_RELAXED);
		siommu_mutex_unlock(&t->lock);

		siommu_mutex_lock(&rec->lock);
		siommu_mutex_lock(&t->lock);
		if (!cds_list_empty(&t->blocks) &&
		    cds_list_first_entry(&t->blocks, struct siommu_tls_block,
					 thread_node) == b) {
			void *data = (char *)b - rec->ops->hdr_offset;

			cds_list_del(&b->thread_node);
			siommu_mutex_unlock(&t->lock);
			/* Still on its thread's list, so still on the owner's. */
			SIOMMU_CHECK(!rec->dead);
			cds_list_del(&b->owner_node);
			if (!tls_exit_broken())
				rec->ops->thread_exit(rec->obj, data);
			siommu_free(data);
		} else {
			siommu_mutex_unlock(&t->lock);	/* the owner's fini took it */
		}
		siommu_mutex_unlock(&rec->lock);
		tls_rec_put(rec);
	}
	siommu_tls_self = NULL;
	siommu_tls_slots = tls_empty_table;
	siommu_tls_mask = 0;
	siommu_mutex_destroy(&t->lock);
	siommu_free(t->slots);
	siommu_free(t);
}

static void tls_key_create(void)
{
	if (pthread_key_create(&tls_key, tls_thread_exit))
		siommu_check_failed("pthread_key_create", __FILE__, __LINE__);
}

static struct siommu_tls_thread *tls_thread_get(void)
{
	struct siommu_tls_thread *t = siommu_tls_self;

	if (siommu_likely(t))
		return t;
	t = siommu_zalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->slots = siommu_calloc(TLS_MIN_SLOTS, sizeof(*t->slots));
	if (!t->slots) {
		siommu_free(t);
		return NULL;
	}
	t->mask = TLS_MIN_SLOTS - 1;
	siommu_mutex_init(&t->lock, "tls_thread", SIOMMU_RANK_TLS_THREAD);
	CDS_INIT_LIST_HEAD(&t->blocks);
	pthread_once(&tls_key_once, tls_key_create);
	if (pthread_setspecific(tls_key, t)) {
		siommu_mutex_destroy(&t->lock);
		siommu_free(t->slots);
		siommu_free(t);
		return NULL;
	}
	siommu_tls_self = t;
	siommu_tls_slots = t->slots;
	siommu_tls_mask = t->mask;
	return t;
}

void *siommu_tls_get_slow(struct siommu_tls_owner *o)
{
	struct tls_owner_rec *rec = o->rec;
	struct siommu_tls_thread *t;
	struct siommu_tls_block *b;
	void *data;

	data = siommu_tls_lookup(o->id);
	if (data)
		return data;
	t = tls_thread_get();
	if (!t)
		return NULL;
	data = siommu_zalloc_aligned(SIOMMU_CACHELINE, rec->ops->size);
	if (!data)
		return NULL;
	b = block_hdr(rec, data);
	b->owner = rec;
	b->thread = t;

	siommu_mutex_lock(&rec->lock);
	siommu_mutex_lock(&t->lock);
	if (table_reserve_locked(t)) {
		siommu_mutex_unlock(&t->lock);
		siommu_mutex_unlock(&rec->lock);
		siommu_free(data);
		return NULL;
	}
	table_put(t->slots, t->mask, o->id, data);
	t->used++;
	t->live++;
	cds_list_add(&b->thread_node, &t->blocks);
	cds_list_add(&b->owner_node, &rec->blocks);
	siommu_mutex_unlock(&t->lock);
	siommu_mutex_unlock(&rec->lock);
	return data;
}

void siommu_tls_owner_fini(struct siommu_tls_owner *o)
{
	struct tls_owner_rec *rec = o->rec;
	struct siommu_tls_block *b;
	struct siommu_tls_thread *t;
	void *data;

	if (!rec)
		return;
	siommu_mutex_lock(&rec->lock);
	rec->dead = true;
	while (!cds_list_empty(&rec->blocks)) {
		b = cds_list_first_entry(&rec->blocks, struct siommu_tls_block,
					 owner_node);
		t = b->thread;
		siommu_mutex_lock(&t->lock);
		table_remove_locked(t, o->id);
		cds_list_del(&b->thread_node);
		siommu_mutex_unlock(&t->lock);
		cds_list_del(&b->owner_node);
		data = (char *)b - rec->ops->hdr_offset;
		if (rec->ops->release)
			rec->ops->release(rec->obj, data);
		siommu_free(data);
	}
	siommu_mutex_unlock(&rec->lock);
	o->rec = NULL;
	tls_rec_put(rec);
}
