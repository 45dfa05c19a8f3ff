// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The attach protocol and the layers' extension points: prepare/commit/
 * abort order, a refusing prepare changing nothing, serialisation per
 * device with both domains held (bug B), -EDEADLK where a call would
 * deadlock, layer registration limits, private data, the attachment
 * snapshot, and the lock-free siommu_device_find() (bug A's reader side).
 * Every case runs the API from threads the library has never seen.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "test_common.h"
#include "grace_probe.h"

#include <softiommu/core.h>
#include "core/core_internal.h"

#define PG	4096ull
#define RID0	SIOMMU_RID(0, 0, 2, 0)
#define RID1	SIOMMU_RID(0, 3, 0, 1)
#define WAIT_MS	300	/* how long a check waits for what must NOT happen */

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;	/* RID0, PASID capable (8 bits) */
};

static int setup(void **state)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx) ||
	    siommu_iommu_create(f->ctx, &caps, NULL, &f->iommu) ||
	    siommu_device_create(f->iommu, RID0, SIOMMU_DEV_PASID, 8, &f->dev))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(siommu_device_destroy(f->dev), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static struct siommu_domain *mkdom(struct fixture *f, enum siommu_domain_type t)
{
	struct siommu_domain_cfg cfg = { .type = t, .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_domain *d = NULL;

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	return d;
}

static uint32_t users(struct siommu_domain *d)
{
	struct siommu_domain_info info;

	assert_int_equal(siommu_domain_get_info(d, &info), 0);
	return info.users;
}

/* Wait up to @ms for *@flag; true if it became set. */
static bool wait_flag(int *flag, unsigned int ms)
{
	unsigned int i;

	for (i = 0; i < ms; i++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE))
			return true;
		usleep(1000);
	}
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------------ recording layers */

#define EV_MAX	32

struct event {
	char step;			/* 'p'repare, 'c'ommit, 'a'bort */
	int layer;
	struct siommu_domain *old_dom, *new_dom;
	uint32_t pasid;
	enum siommu_attach_op op;
};

struct evlog {
	pthread_mutex_t lock;
	struct event ev[EV_MAX];
	int n;
};

struct rec_layer {
	struct evlog *log;
	int id;
	int refuse;			/* prepare returns this */
	struct siommu_layer *layer;
};

static void log_event(struct rec_layer *r, char step, const struct siommu_attach_change *c)
{
	struct evlog *g = r->log;

	pthread_mutex_lock(&g->lock);
	thread_assert_true(g->n < EV_MAX);
	g->ev[g->n++] = (struct event){ step, r->id, c->old_dom, c->new_dom, c->pasid, c->op };
	pthread_mutex_unlock(&g->lock);
}

static int rec_prepare(void *opaque, const struct siommu_attach_change *c)
{
	struct rec_layer *r = opaque;

	log_event(r, 'p', c);
	/* Prepare: the old attachment is still in place. */
	thread_assert_ptr_equal(siommu_device_domain(c->dev, c->pasid), c->old_dom);
	return r->refuse;
}

static void rec_commit(void *opaque, const struct siommu_attach_change *c)
{
	log_event(opaque, 'c', c);
	thread_assert_ptr_equal(siommu_device_domain(c->dev, c->pasid), c->new_dom);
}

static void rec_abort(void *opaque, const struct siommu_attach_change *c)
{
	log_event(opaque, 'a', c);
	thread_assert_ptr_equal(siommu_device_domain(c->dev, c->pasid), c->old_dom);
}

static const struct siommu_layer_ops rec_ops = {
	.name = "rec", .prepare = rec_prepare, .commit = rec_commit, .abort = rec_abort,
};

static void check_ev(struct evlog *g, int i, char step, int layer,
		     struct siommu_domain *o, struct siommu_domain *n)
{
	assert_true(i < g->n);
	assert_int_equal(g->ev[i].step, step);
	assert_int_equal(g->ev[i].layer, layer);
	assert_ptr_equal(g->ev[i].old_dom, o);
	assert_ptr_equal(g->ev[i].new_dom, n);
}

/* Prepare in registration order, then commit in registration order. */
static void test_core_attach_layers_order(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, SIOMMU_DOMAIN_IDENTITY);
	struct siommu_domain *b = mkdom(f, SIOMMU_DOMAIN_IDENTITY);
	struct evlog g = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct rec_layer r[3];
	int i;

	for (i = 0; i < 3; i++) {
		r[i] = (struct rec_layer){ .log = &g, .id = i };
		assert_int_equal(siommu_layer_register(f->iommu, &rec_ops, &r[i],
						       &r[i].layer), 0);
	}
	assert_int_equal(siommu_pasid_attach(f->dev, 5, a), 0);
	assert_int_equal(g.n, 6);
	for (i = 0; i < 3; i++) {
		check_ev(&g, i, 'p', i, NULL, a);
		check_ev(&g, 3 + i, 'c', i, NULL, a);
	}
	assert_int_equal(g.ev[0].pasid, 5);
	assert_int_equal(g.ev[0].op, SIOMMU_ATTACH_OP_ATTACH);
	g.n = 0;
	assert_int_equal(siommu_pasid_replace(f->dev, 5, b), 0);
	assert_int_equal(g.n, 6);
	check_ev(&g, 0, 'p', 0, a, b);
	check_ev(&g, 5, 'c', 2, a, b);
	assert_int_equal(g.ev[0].op, SIOMMU_ATTACH_OP_REPLACE);
	g.n = 0;
	/* Replace by itself: a no-op, nobody called. */
	assert_int_equal(siommu_pasid_replace(f->dev, 5, b), 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(siommu_pasid_detach(f->dev, 5), 0);
	assert_int_equal(g.n, 6);
	check_ev(&g, 0, 'p', 0, b, NULL);
	check_ev(&g, 3, 'c', 0, b, NULL);
	assert_int_equal(g.ev[0].op, SIOMMU_ATTACH_OP_DETACH);
	g.n = 0;
	/* Unregistered: no longer called; the others keep their order. */
	assert_int_equal(siommu_layer_unregister(r[1].layer), 0);
	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	assert_int_equal(g.n, 4);
	check_ev(&g, 0, 'p', 0, NULL, a);
	check_ev(&g, 1, 'p', 2, NULL, a);
	check_ev(&g, 2, 'c', 0, NULL, a);
	check_ev(&g, 3, 'c', 2, NULL, a);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_layer_unregister(r[0].layer), 0);
	assert_int_equal(siommu_layer_unregister(r[2].layer), 0);
	assert_int_equal(siommu_layer_unregister(NULL), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(b), 0);
}

/*
 * A refusing prepare: the layers prepared before it get abort (reverse
 * order), the later ones are not called, and nothing changed: attachment,
 * user counts, DMA through the old domain.
 */
static void test_core_attach_refusal_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct evlog g = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct siommu_attachment at[4];
	struct siommu_device_info info;
	struct siommu_domain *a, *b;
	struct rec_layer r[4];
	uint64_t *page = NULL, word = 0;
	int i;

	assert_int_equal(posix_memalign((void **)&page, PG, PG), 0);
	page[0] = 0x1234;
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &a), 0);
	assert_int_equal(siommu_domain_map(a, 0x10000, (uintptr_t)page, PG, SIOMMU_PT_READ), 0);
	b = mkdom(f, SIOMMU_DOMAIN_BLOCKED);
	assert_int_equal(siommu_pasid_attach(f->dev, 7, a), 0);
	for (i = 0; i < 4; i++) {
		r[i] = (struct rec_layer){ .log = &g, .id = i };
		assert_int_equal(siommu_layer_register(f->iommu, &rec_ops, &r[i],
						       &r[i].layer), 0);
	}
	r[2].refuse = -ENOSPC;
	assert_int_equal(siommu_pasid_replace(f->dev, 7, b), -ENOSPC);
	assert_int_equal(g.n, 5);
	check_ev(&g, 0, 'p', 0, a, b);
	check_ev(&g, 1, 'p', 1, a, b);
	check_ev(&g, 2, 'p', 2, a, b);
	check_ev(&g, 3, 'a', 1, a, b);
	check_ev(&g, 4, 'a', 0, a, b);
	assert_ptr_equal(siommu_device_domain(f->dev, 7), a);
	assert_int_equal(users(a), 1);
	assert_int_equal(users(b), 0);
	assert_int_equal(siommu_dma_read(f->dev, 7, 0x10000, &word, 8), 0);
	assert_int_equal(word, 0x1234);
	/* Refused attach of a new PASID: still not attached, not counted. */
	g.n = 0;
	r[0].refuse = -EINVAL;
	assert_int_equal(siommu_pasid_attach(f->dev, 9, b), -EINVAL);
	assert_int_equal(g.n, 1);
	assert_null(siommu_device_domain(f->dev, 9));
	assert_int_equal(siommu_device_get_info(f->dev, &info), 0);
	assert_int_equal(info.nr_pasids, 1);
	assert_int_equal(siommu_device_get_attachments(f->dev, at, 4), 1);
	assert_int_equal(at[0].pasid, 7);
	assert_int_equal(users(b), 0);
	/* A refused detach leaves the attachment. */
	g.n = 0;
	assert_int_equal(siommu_pasid_detach(f->dev, 7), -EINVAL);
	assert_ptr_equal(siommu_device_domain(f->dev, 7), a);
	assert_int_equal(users(a), 1);
	/*
	 * A prepare returning a positive value other than
	 * SIOMMU_LAYER_NO_COMMIT is a refusal too.
	 */
	r[0].refuse = SIOMMU_LAYER_NO_COMMIT + 1;
	assert_int_equal(siommu_pasid_replace(f->dev, 7, b), -EINVAL);
	r[0].refuse = 0;
	/* A refusal after a NO_COMMIT prepare: that layer gets abort too. */
	g.n = 0;
	r[1].refuse = SIOMMU_LAYER_NO_COMMIT;	/* r[2] still refuses -ENOSPC */
	assert_int_equal(siommu_pasid_replace(f->dev, 7, b), -ENOSPC);
	assert_int_equal(g.n, 5);
	check_ev(&g, 2, 'p', 2, a, b);
	check_ev(&g, 3, 'a', 1, a, b);
	check_ev(&g, 4, 'a', 0, a, b);
	r[1].refuse = 0;
	assert_ptr_equal(siommu_device_domain(f->dev, 7), a);
	assert_int_equal(users(a), 1);
	assert_int_equal(users(b), 0);
	assert_ptr_equal(siommu_device_domain(f->dev, 7), a);
	r[0].refuse = 0;
	r[2].refuse = 0;
	assert_int_equal(siommu_pasid_detach(f->dev, 7), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(siommu_layer_unregister(r[i].layer), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(b), 0);
	free(page);
}

/*
 * SIOMMU_LAYER_NO_COMMIT: a prepare that says the change is not its
 * layer's business gets no commit, and the core waits no grace period for
 * it: a detach returns while a reader is still inside a section.  Once one
 * layer wants its commit, the detach waits for that reader again.
 */
static int detach_fn(void *dev)
{
	return siommu_device_detach(dev);
}

static void test_core_attach_no_commit_skips_grace(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, SIOMMU_DOMAIN_IDENTITY);
	struct evlog g = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct rec_layer r[2];
	int i, ret;

	for (i = 0; i < 2; i++) {
		r[i] = (struct rec_layer){ .log = &g, .id = i, .refuse = SIOMMU_LAYER_NO_COMMIT };
		assert_int_equal(siommu_layer_register(f->iommu, &rec_ops, &r[i],
						       &r[i].layer), 0);
	}
	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	assert_int_equal(g.n, 2);	/* two prepares, no commit */
	check_ev(&g, 0, 'p', 0, NULL, a);
	check_ev(&g, 1, 'p', 1, NULL, a);

	/* Nobody commits: the detach does not wait for a reader. */
	g.n = 0;
	assert_false(gp_probe_waits(detach_fn, f->dev, &ret));
	assert_int_equal(ret, 0);
	assert_int_equal(g.n, 2);
	check_ev(&g, 0, 'p', 0, a, NULL);
	check_ev(&g, 1, 'p', 1, a, NULL);
	assert_null(siommu_device_domain(f->dev, SIOMMU_NO_PASID));
	assert_int_equal(users(a), 0);

	/* Layer 1 wants its commit: the detach waits for the reader, then commits. */
	r[1].refuse = 0;
	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	g.n = 0;
	assert_true(gp_probe_waits(detach_fn, f->dev, &ret));
	assert_int_equal(ret, 0);
	assert_int_equal(g.n, 3);
	check_ev(&g, 0, 'p', 0, a, NULL);
	check_ev(&g, 1, 'p', 1, a, NULL);
	check_ev(&g, 2, 'c', 1, a, NULL);

	for (i = 0; i < 2; i++)
		assert_int_equal(siommu_layer_unregister(r[i].layer), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
}

/* ------------------------------------------------------------------ bug B */

/*
 * Bug B: two replaces X->Y and Y->Z of one device.  The X->Y commit is held
 * in its callback; meanwhile Y->Z is started and Y and X are destroyed.
 * Before the fix, Y->Z completed during the X->Y callback (whose layer saw
 * the steps out of order) and destroy(Y) returned 0 (and freed Y) while the
 * callback still used Y.  Now Y->Z waits for X->Y to end, both destroys are
 * -EBUSY, and the layer sees the chain X->Y, Y->Z.
 */
struct bug_b {
	struct siommu_device *dev;
	struct siommu_domain *x, *y, *z;
	char hold_step;			/* block in this step of X->Y */
	int in_cb, release, t2_done;	/* atomics */
	struct evlog log;
	struct rec_layer rec;
};

static void bug_b_step(struct bug_b *b, char step, const struct siommu_attach_change *c)
{
	struct siommu_domain_info info;

	log_event(&b->rec, step, c);
	if (step == b->hold_step && c->old_dom == b->x && c->new_dom == b->y) {
		__atomic_store_n(&b->in_cb, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&b->release, __ATOMIC_ACQUIRE))
			usleep(1000);
		/* Both domains still alive (ASan: no use after free). */
		thread_assert_int_equal(siommu_domain_get_info(b->y, &info), 0);
		thread_assert_true(info.users >= 1);
		thread_assert_int_equal(siommu_domain_get_info(b->x, &info), 0);
		thread_assert_true(info.users >= 1);
	}
}

static int bug_b_prepare(void *opaque, const struct siommu_attach_change *c)
{
	bug_b_step(opaque, 'p', c);
	return 0;
}

static void bug_b_commit(void *opaque, const struct siommu_attach_change *c)
{
	bug_b_step(opaque, 'c', c);
}

static void *bug_b_t1(void *arg)
{
	struct bug_b *b = arg;

	thread_assert_int_equal(siommu_device_replace(b->dev, b->y), 0);
	return NULL;
}

static void *bug_b_t2(void *arg)
{
	struct bug_b *b = arg;

	thread_assert_int_equal(siommu_device_replace(b->dev, b->z), 0);
	__atomic_store_n(&b->t2_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void run_bug_b(struct fixture *f, char hold_step)
{
	static const struct siommu_layer_ops ops = {
		.name = "bug-b", .prepare = bug_b_prepare, .commit = bug_b_commit,
	};
	struct siommu_layer *l;
	struct bug_b b = { .dev = f->dev, .hold_step = hold_step,
			   .log = { .lock = PTHREAD_MUTEX_INITIALIZER } };
	pthread_t t1, t2;
	bool t2_early;
	int i;

	b.rec = (struct rec_layer){ .log = &b.log };
	b.x = mkdom(f, SIOMMU_DOMAIN_IDENTITY);
	b.y = mkdom(f, SIOMMU_DOMAIN_IDENTITY);
	b.z = mkdom(f, SIOMMU_DOMAIN_IDENTITY);
	assert_int_equal(siommu_device_attach(f->dev, b.x), 0);
	assert_int_equal(siommu_layer_register(f->iommu, &ops, &b, &l), 0);
	assert_int_equal(pthread_create(&t1, NULL, bug_b_t1, &b), 0);
	assert_true(wait_flag(&b.in_cb, 60000));
	assert_int_equal(pthread_create(&t2, NULL, bug_b_t2, &b), 0);
	t2_early = wait_flag(&b.t2_done, WAIT_MS);
	/* In flight: both domains of the X->Y step are held. */
	assert_int_equal(siommu_domain_destroy(b.y), -EBUSY);
	assert_int_equal(siommu_domain_destroy(b.x), -EBUSY);
	__atomic_store_n(&b.release, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t1, NULL), 0);
	assert_int_equal(pthread_join(t2, NULL), 0);
	assert_false(t2_early);		/* Y->Z waited for X->Y */
	/* The layer saw a chain: X->Y (prepare, commit), then Y->Z. */
	assert_int_equal(b.log.n, 4);
	for (i = 0; i < 2; i++) {
		assert_ptr_equal(b.log.ev[i].old_dom, b.x);
		assert_ptr_equal(b.log.ev[i].new_dom, b.y);
		assert_ptr_equal(b.log.ev[2 + i].old_dom, b.y);
		assert_ptr_equal(b.log.ev[2 + i].new_dom, b.z);
	}
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_layer_unregister(l), 0);
	assert_int_equal(siommu_domain_destroy(b.x), 0);
	assert_int_equal(siommu_domain_destroy(b.y), 0);
	assert_int_equal(siommu_domain_destroy(b.z), 0);
}

static void test_core_attach_bug_b_commit(void **state)
{
	run_bug_b(*state, 'c');
}

static void test_core_attach_bug_b_prepare(void **state)
{
	run_bug_b(*state, 'p');
}

/* ------------------------------------------------------------------ unregister waits */

struct unreg {
	struct siommu_layer *other;
	int in_cb, release, done;	/* atomics */
};

static void unreg_commit(void *opaque, const struct siommu_attach_change *c)
{
	struct unreg *u = opaque;

	__atomic_store_n(&u->in_cb, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&u->release, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static void *unreg_thread(void *arg)
{
	struct unreg *u = arg;

	thread_assert_int_equal(siommu_layer_unregister(u->other), 0);
	__atomic_store_n(&u->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *attach_thread(void *arg)
{
	struct fixture *f = ((void **)arg)[0];

	thread_assert_int_equal(siommu_device_attach(f->dev, ((void **)arg)[1]), 0);
	return NULL;
}

/* Unregister waits for the protocols that already include the layer. */
static void test_core_attach_unregister_waits(void **state)
{
	static const struct siommu_layer_ops blocker = { .commit = unreg_commit };
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, SIOMMU_DOMAIN_IDENTITY);
	struct evlog g = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct rec_layer r = { .log = &g };
	struct siommu_layer *l;
	struct unreg u = { 0 };
	void *args[2] = { f, a };
	pthread_t ta, tu;
	bool early;

	assert_int_equal(siommu_layer_register(f->iommu, &blocker, &u, &l), 0);
	assert_int_equal(siommu_layer_register(f->iommu, &rec_ops, &r, &u.other), 0);
	assert_int_equal(pthread_create(&ta, NULL, attach_thread, args), 0);
	assert_true(wait_flag(&u.in_cb, 60000));
	assert_int_equal(pthread_create(&tu, NULL, unreg_thread, &u), 0);
	early = wait_flag(&u.done, WAIT_MS);
	__atomic_store_n(&u.release, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tu, NULL), 0);
	assert_false(early);
	/* The protocol in flight still ran the unregistered layer's commit. */
	assert_int_equal(g.n, 2);
	check_ev(&g, 1, 'c', 0, NULL, a);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(siommu_layer_unregister(l), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
}

/* ------------------------------------------------------------------ -EDEADLK */

struct nested {
	struct fixture *f;
	struct siommu_domain *other;
	struct siommu_layer *self;
	int calls;
};

static int nested_prepare(void *opaque, const struct siommu_attach_change *c)
{
	struct nested *n = opaque;
	const struct siommu_layer_ops ops = { 0 };
	struct siommu_layer *l;

	n->calls++;
	/* What would deadlock on the attach mutex or the layer set. */
	thread_assert_int_equal(siommu_pasid_attach(c->dev, 3, n->other), -EDEADLK);
	thread_assert_int_equal(siommu_device_replace(c->dev, n->other), -EDEADLK);
	thread_assert_int_equal(siommu_device_detach(c->dev), -EDEADLK);
	thread_assert_int_equal(siommu_device_destroy(c->dev), -EDEADLK);
	thread_assert_int_equal(siommu_layer_unregister(n->self), -EDEADLK);
	thread_assert_int_equal(siommu_layer_register(n->f->iommu, &ops, NULL, &l), -EDEADLK);
	/* What is allowed: reads, snapshots, private data, waiting for readers. */
	thread_assert_int_equal(siommu_device_get_attachments(c->dev, NULL, 0),
				c->old_dom ? 1 : 0);	/* before the switch */
	thread_assert_int_equal(siommu_device_set_priv(c->dev, n->self, n), 0);
	thread_assert_ptr_equal(siommu_device_get_priv(c->dev, n->self), n);
	thread_assert_int_equal(siommu_device_set_priv(c->dev, n->self, NULL), 0);
	thread_assert_ptr_equal(siommu_device_find(n->f->iommu, RID0), c->dev);
	thread_assert_int_equal(siommu_synchronize(), 0);
	return 0;
}

static void test_core_attach_deadlock_refused(void **state)
{
	static const struct siommu_layer_ops ops = { .prepare = nested_prepare };
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, SIOMMU_DOMAIN_IDENTITY);
	struct nested n = { .f = f, .other = mkdom(f, SIOMMU_DOMAIN_BLOCKED) };
	struct siommu_layer *l;

	/* Inside a read-side section: the protocol may wait for a grace period. */
	siommu_read_lock();
	assert_int_equal(siommu_device_attach(f->dev, a), -EDEADLK);
	assert_int_equal(siommu_device_replace(f->dev, a), -EDEADLK);
	assert_int_equal(siommu_pasid_detach(f->dev, 2), -EDEADLK);
	assert_int_equal(siommu_layer_register(f->iommu, &ops, &n, &l), -EDEADLK);
	assert_ptr_equal(siommu_device_find(f->iommu, RID0), f->dev);
	siommu_read_unlock();
	assert_null(siommu_device_domain(f->dev, SIOMMU_NO_PASID));

	assert_int_equal(siommu_layer_register(f->iommu, &ops, &n, &l), 0);
	n.self = l;
	siommu_read_lock();
	assert_int_equal(siommu_layer_unregister(l), -EDEADLK);
	siommu_read_unlock();
	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	assert_int_equal(n.calls, 1);
	assert_null(siommu_device_domain(f->dev, 3));
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(n.calls, 2);
	assert_int_equal(siommu_layer_unregister(l), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(n.other), 0);
}

/* ------------------------------------------------------------------ layers and private data */

static void test_core_layer_slots_and_priv(void **state)
{
	static const struct siommu_layer_ops none = { 0 };
	struct fixture *f = *state;
	struct siommu_layer *l[SIOMMU_LAYERS_MAX], *extra, *foreign;
	struct siommu_iommu *other;
	struct siommu_domain *d = mkdom(f, SIOMMU_DOMAIN_IDENTITY);
	int x, y;
	unsigned int i;

	assert_int_equal(siommu_layer_register(f->iommu, NULL, NULL, &extra), -EINVAL);
	assert_int_equal(siommu_layer_register(f->iommu, &none, NULL, NULL), -EINVAL);
	if (siommu_testing_build()) {
		/* No memory: -ENOMEM, no layer taken (all 8 still fit below). */
		extra = NULL;
		assert_int_equal(siommu_test_fail_nth(1), 0);
		assert_int_equal(siommu_layer_register(f->iommu, &none, NULL, &extra), -ENOMEM);
		assert_int_equal(siommu_test_fail_nth(0), 0);
		assert_null(extra);
	}
	for (i = 0; i < SIOMMU_LAYERS_MAX; i++)
		assert_int_equal(siommu_layer_register(f->iommu, &none, NULL, &l[i]), 0);
	assert_int_equal(siommu_layer_register(f->iommu, &none, NULL, &extra), -ENOSPC);

	/* Each layer its own slot, on devices and domains. */
	assert_null(siommu_device_get_priv(f->dev, l[0]));
	assert_int_equal(siommu_device_set_priv(f->dev, l[0], &x), 0);
	assert_int_equal(siommu_device_set_priv(f->dev, l[7], &y), 0);
	assert_int_equal(siommu_domain_set_priv(d, l[3], &y), 0);
	assert_ptr_equal(siommu_device_get_priv(f->dev, l[0]), &x);
	assert_ptr_equal(siommu_device_get_priv(f->dev, l[7]), &y);
	assert_null(siommu_device_get_priv(f->dev, l[3]));
	assert_ptr_equal(siommu_domain_get_priv(d, l[3]), &y);
	assert_null(siommu_domain_get_priv(d, l[0]));
	/* Bad arguments. */
	assert_int_equal(siommu_device_set_priv(NULL, l[0], &x), -EINVAL);
	assert_int_equal(siommu_device_set_priv(f->dev, NULL, &x), -EINVAL);
	assert_int_equal(siommu_domain_set_priv(NULL, l[0], &x), -EINVAL);
	assert_null(siommu_device_get_priv(NULL, l[0]));
	assert_null(siommu_domain_get_priv(d, NULL));
	assert_int_equal(siommu_iommu_create(f->ctx, NULL, NULL, &other), 0);
	assert_int_equal(siommu_layer_register(other, &none, NULL, &foreign), 0);
	assert_int_equal(siommu_device_set_priv(f->dev, foreign, &x), -EINVAL);
	assert_int_equal(siommu_domain_set_priv(d, foreign, &x), -EINVAL);
	assert_null(siommu_device_get_priv(f->dev, foreign));
	assert_int_equal(siommu_iommu_destroy(other), -EBUSY);
	assert_int_equal(siommu_layer_unregister(foreign), 0);
	assert_int_equal(siommu_iommu_destroy(other), 0);

	/* Data still set: the layer cannot go, nor the device, nor the domain. */
	assert_int_equal(siommu_layer_unregister(l[0]), -EBUSY);
	assert_int_equal(siommu_layer_unregister(l[3]), -EBUSY);
	assert_int_equal(siommu_device_destroy(f->dev), -EBUSY);
	assert_int_equal(siommu_domain_destroy(d), -EBUSY);
	assert_int_equal(siommu_device_set_priv(f->dev, l[0], NULL), 0);
	assert_int_equal(siommu_layer_unregister(l[0]), 0);
	assert_int_equal(siommu_domain_set_priv(d, l[3], NULL), 0);
	assert_int_equal(siommu_layer_unregister(l[3]), 0);
	/* Freed slots are reused; a new layer starts with no data. */
	assert_int_equal(siommu_layer_register(f->iommu, &none, NULL, &l[0]), 0);
	assert_int_equal(siommu_layer_register(f->iommu, &none, NULL, &l[3]), 0);
	assert_int_equal(siommu_layer_register(f->iommu, &none, NULL, &extra), -ENOSPC);
	assert_null(siommu_device_get_priv(f->dev, l[0]));
	assert_null(siommu_device_get_priv(f->dev, l[3]));
	assert_ptr_equal(siommu_device_get_priv(f->dev, l[7]), &y);
	assert_int_equal(siommu_device_set_priv(f->dev, l[7], NULL), 0);
	for (i = 0; i < SIOMMU_LAYERS_MAX; i++)
		assert_int_equal(siommu_layer_unregister(l[i]), 0);
	assert_int_equal(siommu_domain_destroy(d), 0);
}

/* ------------------------------------------------------------------ snapshot */

static void test_core_attach_snapshot(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, SIOMMU_DOMAIN_IDENTITY);
	struct siommu_domain *b = mkdom(f, SIOMMU_DOMAIN_BLOCKED);
	struct siommu_attachment at[8];

	assert_int_equal(siommu_device_get_attachments(NULL, at, 8), -EINVAL);
	assert_int_equal(siommu_device_get_attachments(f->dev, NULL, 1), -EINVAL);
	assert_int_equal(siommu_device_get_attachments(f->dev, at, 8), 0);
	assert_int_equal(siommu_pasid_attach(f->dev, 200, b), 0);
	assert_int_equal(siommu_pasid_attach(f->dev, 3, a), 0);
	assert_int_equal(siommu_device_attach(f->dev, b), 0);
	assert_int_equal(siommu_device_get_attachments(f->dev, at, 8), 3);
	assert_int_equal(at[0].pasid, SIOMMU_NO_PASID);
	assert_ptr_equal(at[0].dom, b);
	assert_int_equal(at[1].pasid, 3);
	assert_ptr_equal(at[1].dom, a);
	assert_int_equal(at[2].pasid, 200);
	assert_ptr_equal(at[2].dom, b);
	/* More than @max: the count, and only @max written. */
	memset(at, 0xee, sizeof(at));
	assert_int_equal(siommu_device_get_attachments(f->dev, at, 2), 3);
	assert_int_equal(at[1].pasid, 3);
	assert_int_equal(at[2].pasid, 0xeeeeeeeeu);
	assert_int_equal(siommu_device_get_attachments(f->dev, NULL, 0), 3);
	/* Inside a read-side section too. */
	siommu_read_lock();
	assert_int_equal(siommu_device_get_attachments(f->dev, at, 8), 3);
	siommu_read_unlock();
	assert_int_equal(siommu_pasid_detach(f->dev, 3), 0);
	assert_int_equal(siommu_device_get_attachments(f->dev, at, 8), 2);
	assert_int_equal(at[1].pasid, 200);
	assert_int_equal(siommu_pasid_detach(f->dev, 200), 0);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_device_get_attachments(f->dev, at, 8), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(b), 0);
}

/* ------------------------------------------------------------------ bug A: find */

struct finder {
	struct siommu_iommu *iommu;
	struct siommu_device *found, *found_in_section;
	int done;			/* atomic */
};

static void *find_thread(void *arg)
{
	struct finder *fd = arg;

	fd->found = siommu_device_find(fd->iommu, RID1);
	siommu_read_lock();
	fd->found_in_section = siommu_device_find(fd->iommu, RID1);
	siommu_read_unlock();
	__atomic_store_n(&fd->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * siommu_device_find() takes no lock: it returns while another thread holds
 * iommu->lock (which may be held across a grace period).  Before the fix it
 * took iommu->lock: it blocked until the lock was released.
 */
static void test_core_device_find_is_lock_free(void **state)
{
	struct fixture *f = *state;
	struct finder fd = { .iommu = f->iommu };
	struct siommu_device *d1;
	pthread_t t;
	bool done;

	assert_int_equal(siommu_device_create(f->iommu, RID1, 0, 0, &d1), 0);
	siommu_mutex_lock(&f->iommu->lock);
	assert_int_equal(pthread_create(&t, NULL, find_thread, &fd), 0);
	done = wait_flag(&fd.done, 10000);
	siommu_mutex_unlock(&f->iommu->lock);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(done);
	assert_ptr_equal(fd.found, d1);
	assert_ptr_equal(fd.found_in_section, d1);
	assert_int_equal(siommu_device_destroy(d1), 0);
	assert_null(siommu_device_find(f->iommu, RID1));
	assert_ptr_equal(siommu_device_find(f->iommu, RID0), f->dev);
}

/* Devices created and destroyed while others look them up. */
struct churn {
	struct siommu_iommu *iommu;
	int stop;			/* atomic */
	uint64_t lookups, wrong;
};

static void *churn_reader(void *arg)
{
	struct churn *c = arg;
	struct siommu_device *d;
	unsigned int k = 0;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		uint32_t rid = SIOMMU_RID(0, 9, k++ % 8, 0);

		siommu_read_lock();
		d = siommu_device_find(c->iommu, rid);
		if (d) {
			struct siommu_device_info info;

			/* Valid until the section ends, even if destroyed now. */
			if (siommu_device_get_info(d, &info) || info.rid != rid)
				c->wrong++;
		}
		siommu_read_unlock();
		if (!siommu_device_find(c->iommu, RID0))
			c->wrong++;
		__atomic_fetch_add(&c->lookups, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_core_device_find_vs_churn(void **state)
{
	struct fixture *f = *state;
	struct churn c = { .iommu = f->iommu };
	struct siommu_device *d[8] = { 0 };
	unsigned int round, k;
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, churn_reader, &c), 0);
	/* At least 200 rounds, and until the reader has looked up a while. */
	for (round = 0; round < 200 || __atomic_load_n(&c.lookups, __ATOMIC_RELAXED) < 2000;
	     round++) {
		k = round % 8;
		if (d[k]) {
			assert_int_equal(siommu_device_destroy(d[k]), 0);
			d[k] = NULL;
		} else {
			assert_int_equal(siommu_device_create(f->iommu, SIOMMU_RID(0, 9, k, 0),
							      0, 0, &d[k]), 0);
		}
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	for (k = 0; k < 8; k++)
		assert_int_equal(siommu_device_destroy(d[k]), 0);
	assert_int_equal(c.wrong, 0);
	assert_true(c.lookups > 0);
}

/* The layer and snapshot API from a thread the library has never seen. */
static void *fresh_thread(void *arg)
{
	static const struct siommu_layer_ops ops = { .name = "fresh" };
	struct fixture *f = arg;
	struct siommu_attachment at[2];
	struct siommu_layer *l;
	int x;

	thread_assert_int_equal(siommu_layer_register(f->iommu, &ops, NULL, &l), 0);
	thread_assert_int_equal(siommu_device_set_priv(f->dev, l, &x), 0);
	thread_assert_ptr_equal(siommu_device_get_priv(f->dev, l), &x);
	thread_assert_int_equal(siommu_device_set_priv(f->dev, l, NULL), 0);
	thread_assert_int_equal(siommu_device_get_attachments(f->dev, at, 2), 0);
	thread_assert_ptr_equal(siommu_device_find(f->iommu, RID0), f->dev);
	thread_assert_int_equal(siommu_layer_unregister(l), 0);
	return NULL;
}

static void test_core_attach_from_fresh_thread(void **state)
{
	void *args[2] = { *state, *state };

	test_run_threads(2, fresh_thread, args);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_core_attach_layers_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_refusal_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_no_commit_skips_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_bug_b_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_bug_b_prepare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_unregister_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_deadlock_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_layer_slots_and_priv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_device_find_is_lock_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_device_find_vs_churn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_from_fresh_thread, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
