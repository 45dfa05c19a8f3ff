// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Replace during DMA, with several replacers and registered layers: a DMA
 * sees the old domain or the new one, never none, never a freed one, and
 * the layers see each (device, PASID)'s changes one at a time, in order,
 * with both domains alive.
 *
 * Three replacer threads keep creating a paging domain (cycling through
 * the formats) and replacing the device's own attachment or its PASID 1's
 * with it, then destroying their earlier domains (-EBUSY while attached;
 * a destroy waits for a grace period and frees the table).  Two layers are
 * registered:
 *  - "fill" (what ioas does): prepare maps the IOVA page of the new domain
 *    to buffer A or B (the pattern is the domain's private data of the
 *    layer), abort unmaps it; commit checks the chain: its old domain is
 *    the previous commit's new domain for that PASID, no other callback of
 *    the device runs at the same time, and both domains are alive and
 *    counted (their info is read; under ASan a freed one is a
 *    use-after-free);
 *  - "veto": prepare refuses every fifth change (-ENOSPC): the replace
 *    fails with nothing changed and fill gets abort.
 * DMA threads read the page without PASID and with PASID 1 all the time:
 * every read must succeed (fill maps before the switch, a refused replace
 * changes nothing) and return a page that is all A or all B.
 *
 * Two cases: with fill's commit step (replace then waits for a grace
 * period before commit, and the chain is checked in commit), and with
 * prepare steps only (replace waits for nothing; the chain is checked in
 * veto's prepare, the last one, after which the change is certain; only
 * destroy's grace period protects the DMA threads).  Each runs at least
 * half of SIOMMU_STRESS_SECONDS (default 2) and until 30 replaces and 2
 * vetoes happened.
 *
 * SIOMMU_STRESS_BREAK=1 (testing builds; a plain build prints
 * BREAK-UNSUPPORTED and exits 77):
 *  --break-grace (default): domains are destroyed without their grace
 *    period (core_test_set_skip_grace()), DMA threads yield between loading
 *    the attachment and using the domain; only the prepare-only case runs
 *    (for up to 40 s, on a loaded machine; the first report ends it; the
 *    commit case's own grace period would hide it):
 *    ASan reports a use-after-free, TSan a race or a use-after-free.
 *  --break-attach: the attach protocol runs unserialised and drops the old
 *    domain's count right after the switch (the bug B fixed;
 *    core_test_set_attach_unserialized()): the chain breaks or callbacks
 *    overlap ("BROKEN: ..."), or a commit reads a freed domain (ASan).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "test_common.h"
#include "stress_core_page.h"

#include <softiommu/core.h>
#include "siommu_config.h"
#include "core/core_internal.h"

#define NDMA		2
#define NDMA_BREAK	6		/* oversubscribed: preempted inside the window */
#define NREPL		3
#define RETIRED		8		/* domains a replacer keeps until destroy succeeds */
#define MIN_REPLACES	30		/* per case, however long it takes (up to MAX_SECS) */
#define MAX_SECS	60.0
#define IOVA		0x40000000ull
#define PAT_A		0xaaaaaaaaaaaaaaaaull
#define PAT_B		0xbbbbbbbbbbbbbbbbull

enum brk { BREAK_NONE, BREAK_GRACE, BREAK_ATTACH };

struct run {
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
	struct siommu_layer *fill, *veto;
	uint64_t *buf_a, *buf_b;
	enum brk brk;
	bool with_commit;			/* fill has a commit step */
	unsigned int nrepl;			/* replacer threads */
	int stop;				/* atomic */
	/* DMA */
	uint64_t reads, seen_a, seen_b;		/* atomic adds */
	uint64_t faults, torn;			/* atomic adds */
	/* layers */
	pthread_mutex_t chain_lock;
	struct siommu_domain *last_new[2];	/* [chain_lock] per PASID 0, 1 */
	int in_cb;				/* atomic: callbacks of the device running */
	uint64_t chain_errors, overlaps, held_errors, fill_errors; /* atomic adds */
	uint64_t commits, aborts, vetoes, veto_calls, replaces; /* atomic adds */
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static void add(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* Enter/leave a callback: no two of one device may overlap. */
static void cb_enter(struct run *r)
{
	if (__atomic_fetch_add(&r->in_cb, 1, __ATOMIC_ACQ_REL) != 0)
		add(&r->overlaps);
}

static void cb_leave(struct run *r)
{
	__atomic_fetch_sub(&r->in_cb, 1, __ATOMIC_ACQ_REL);
}

/* @dom is alive and counted (users >= 1: attached or held). */
static void check_held(struct run *r, struct siommu_domain *dom)
{
	struct siommu_domain_info info;

	if (!dom)
		return;
	if (siommu_domain_get_info(dom, &info) || info.users < 1 ||
	    info.type != SIOMMU_DOMAIN_PAGING)
		add(&r->held_errors);
}

static int fill_prepare(void *opaque, const struct siommu_attach_change *c)
{
	struct run *r = opaque;
	uint64_t *buf;

	cb_enter(r);
	check_held(r, c->old_dom);
	check_held(r, c->new_dom);
	if (c->new_dom) {
		buf = siommu_domain_get_priv(c->new_dom, r->fill);
		if (!buf || siommu_domain_map(c->new_dom, IOVA, (uintptr_t)buf, PG,
					      SIOMMU_PT_READ))
			add(&r->fill_errors);
	}
	cb_leave(r);
	return 0;
}

static void fill_abort(void *opaque, const struct siommu_attach_change *c)
{
	struct run *r = opaque;

	cb_enter(r);
	check_held(r, c->new_dom);
	/* Strict: waits for a grace period (no reader takes the attach mutex). */
	if (c->new_dom && siommu_domain_unmap(c->new_dom, IOVA, PG) != PG)
		add(&r->fill_errors);
	add(&r->aborts);
	cb_leave(r);
}

/* The change is certain: its old domain is the chain's last new one. */
static void chain_step(struct run *r, const struct siommu_attach_change *c)
{
	unsigned int i;

	pthread_mutex_lock(&r->chain_lock);
	if (r->last_new[c->pasid] != c->old_dom)
		add(&r->chain_errors);
	r->last_new[c->pasid] = c->new_dom;
	pthread_mutex_unlock(&r->chain_lock);
	/* Widen the window in which a broken protocol lets another run. */
	for (i = 0; i < 2000; i++)
		__atomic_load_n(&r->stop, __ATOMIC_RELAXED);
	check_held(r, c->old_dom);
	check_held(r, c->new_dom);
}

static void fill_commit(void *opaque, const struct siommu_attach_change *c)
{
	struct run *r = opaque;

	cb_enter(r);
	chain_step(r, c);
	add(&r->commits);
	cb_leave(r);
}

/*
 * The last layer: a prepare that does not refuse makes the change certain,
 * so without a commit step the chain is checked here.
 */
static int veto_prepare(void *opaque, const struct siommu_attach_change *c)
{
	struct run *r = opaque;
	int ret = 0;

	cb_enter(r);
	if (__atomic_fetch_add(&r->veto_calls, 1, __ATOMIC_RELAXED) % 5 == 4) {
		add(&r->vetoes);
		ret = -ENOSPC;
	} else if (!r->with_commit) {
		chain_step(r, c);
	}
	cb_leave(r);
	return ret;
}

static void *dma_thread(void *arg)
{
	struct run *r = arg;
	uint64_t buf[WORDS];
	unsigned int i, n = 0;
	uint32_t pasid;
	int ret;

	if (r->brk == BREAK_GRACE)
		siommu_test_yield(1ull << SIOMMU_YIELD_CORE_XLATE);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		pasid = n++ & 1;
		ret = siommu_dma_read(r->dev, pasid, IOVA, buf, PG);
		add(&r->reads);
		if (ret) {
			add(&r->faults);
			continue;
		}
		for (i = 1; i < WORDS; i++)
			if (buf[i] != buf[0])
				break;
		if (i < WORDS || (buf[0] != PAT_A && buf[0] != PAT_B))
			add(&r->torn);
		else if (buf[0] == PAT_A)
			add(&r->seen_a);
		else
			add(&r->seen_b);
	}
	return NULL;
}


static struct siommu_domain *new_domain(struct run *r, unsigned int gen)
{
	static const enum siommu_pt_fmt fmts[] = {
		SIOMMU_PT_FMT_X86_64, SIOMMU_PT_FMT_VTD_SS, SIOMMU_PT_FMT_ARM_LPAE_S1,
	};
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING,
		.fmt = fmts[gen % 3],
	};
	struct siommu_domain *d;

	thread_assert_int_equal(siommu_domain_create(r->iommu, &cfg, &d), 0);
	/* What fill maps it to: its private data, set before the attach. */
	thread_assert_int_equal(siommu_domain_set_priv(d, r->fill,
						       (gen & 1) ? r->buf_b : r->buf_a), 0);
	return d;
}

static int destroy(struct run *r, struct siommu_domain *d)
{
#if SIOMMU_TESTING_BUILD
	core_test_set_skip_grace(d, r->brk == BREAK_GRACE);
#endif
	return siommu_domain_destroy(d);
}

struct replacer {
	struct run *r;
	unsigned int id;
	struct siommu_domain *retired[RETIRED];
	unsigned int nretired;
};

/* Destroy what is no longer attached; keep the rest. */
static void reap(struct replacer *rp)
{
	unsigned int i, k = 0;
	int ret;

	for (i = 0; i < rp->nretired; i++) {
		ret = destroy(rp->r, rp->retired[i]);
		thread_assert_true(ret == 0 || ret == -EBUSY);
		if (ret)
			rp->retired[k++] = rp->retired[i];
	}
	rp->nretired = k;
}

static void *replacer_thread(void *arg)
{
	struct replacer *rp = arg;
	struct run *r = rp->r;
	struct siommu_domain *d;
	unsigned int gen = rp->id;
	uint32_t pasid;
	int ret;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		gen += r->nrepl;
		d = new_domain(r, gen);
		pasid = (gen / r->nrepl) & 1;
		ret = pasid ? siommu_pasid_replace(r->dev, pasid, d) :
			      siommu_device_replace(r->dev, d);
		thread_assert_true(ret == 0 || ret == -ENOSPC);
		if (!ret)
			add(&r->replaces);
		thread_assert_int_equal(siommu_domain_set_priv(d, r->fill, NULL), 0);
		while (rp->nretired == RETIRED) {
			reap(rp);
			if (rp->nretired == RETIRED)
				sched_yield();
		}
		rp->retired[rp->nretired++] = d;
		reap(rp);
	}
	return NULL;
}

static const struct siommu_layer_ops fill_ops = {
	.name = "fill", .prepare = fill_prepare, .commit = fill_commit, .abort = fill_abort,
};
/* Without commit: no grace period in replace, destroy's is the one that counts. */
static const struct siommu_layer_ops fill_prepare_only_ops = {
	.name = "fill", .prepare = fill_prepare, .abort = fill_abort,
};
static const struct siommu_layer_ops veto_ops = { .name = "veto", .prepare = veto_prepare };

static enum brk brk_mode;

static void run_replace_during_dma(bool with_commit)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct replacer rp[NREPL];
	struct siommu_domain *d0, *d1;
	struct siommu_ctx *ctx;
	pthread_t dma[NDMA_BREAK], repl[NREPL];
	/* The broken grace period gets longer to show (ASan stops it at the first). */
	double t0, secs = brk_mode == BREAK_GRACE ? 40.0 : test_stress_seconds(2.0) / 2;
	unsigned int i, k, ndma = brk_mode == BREAK_GRACE ? NDMA_BREAK : NDMA;
	struct run r;

	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.chain_lock, NULL);
	r.brk = brk_mode;
	r.with_commit = with_commit;
	/*
	 * The broken grace period shows when a domain is destroyed right after
	 * it was replaced: one replacer, which owns every domain.
	 */
	r.nrepl = brk_mode == BREAK_GRACE ? 1 : NREPL;
	r.buf_a = buf_new(PAT_A);
	r.buf_b = buf_new(PAT_B);
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_iommu_create(ctx, &caps, NULL, &r.iommu), 0);
	assert_int_equal(siommu_device_create(r.iommu, SIOMMU_RID(0, 2, 0, 0),
					      SIOMMU_DEV_PASID, 8, &r.dev), 0);
	assert_int_equal(siommu_layer_register(r.iommu, with_commit ? &fill_ops :
					       &fill_prepare_only_ops, &r, &r.fill), 0);
	d0 = new_domain(&r, 0);
	d1 = new_domain(&r, 1);
	assert_int_equal(siommu_device_attach(r.dev, d0), 0);
	assert_int_equal(siommu_pasid_attach(r.dev, 1, d1), 0);
	assert_int_equal(siommu_domain_set_priv(d0, r.fill, NULL), 0);
	assert_int_equal(siommu_domain_set_priv(d1, r.fill, NULL), 0);
	r.last_new[0] = d0;
	r.last_new[1] = d1;
	assert_int_equal(siommu_layer_register(r.iommu, &veto_ops, &r, &r.veto), 0);
#if SIOMMU_TESTING_BUILD
	core_test_set_attach_unserialized(r.iommu, brk_mode == BREAK_ATTACH);
#endif

	for (i = 0; i < ndma; i++)
		assert_int_equal(pthread_create(&dma[i], NULL, dma_thread, &r), 0);
	for (i = 0; i < r.nrepl; i++) {
		rp[i] = (struct replacer){ .r = &r, .id = i };
		/* The first domains: destroyed once replaced (d0 by 0, d1 by 1 or 0). */
		if (i == 0)
			rp[i].retired[rp[i].nretired++] = d0;
		if (i == 1 || r.nrepl == 1)
			rp[i].retired[rp[i].nretired++] = d1;
		assert_int_equal(pthread_create(&repl[i], NULL, replacer_thread, &rp[i]), 0);
	}
	/*
	 * At least @secs, and until enough happened (a loaded machine is slow:
	 * counts, not time, decide), but never more than MAX_SECS.
	 */
	t0 = test_now_s();
	while (test_now_s() - t0 < MAX_SECS &&
	       (test_now_s() - t0 < secs ||
		__atomic_load_n(&r.replaces, __ATOMIC_RELAXED) < MIN_REPLACES ||
		__atomic_load_n(&r.vetoes, __ATOMIC_RELAXED) < 2 ||
		!__atomic_load_n(&r.seen_a, __ATOMIC_RELAXED) ||
		!__atomic_load_n(&r.seen_b, __ATOMIC_RELAXED)))
		usleep(10000);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < r.nrepl; i++)
		assert_int_equal(pthread_join(repl[i], NULL), 0);
	for (i = 0; i < ndma; i++)
		assert_int_equal(pthread_join(dma[i], NULL), 0);
#if SIOMMU_TESTING_BUILD
	core_test_set_attach_unserialized(r.iommu, false);
#endif

	print_message("# %s: replaces %" PRIu64 " vetoed %" PRIu64 " commits %" PRIu64
		      " aborts %" PRIu64 " reads %" PRIu64 " (A %" PRIu64 ", B %" PRIu64
		      ") faults %" PRIu64 " torn %" PRIu64 "\n",
		      with_commit ? "commit layer" : "prepare-only layers", r.replaces, r.vetoes,
		      r.commits, r.aborts, r.reads, r.seen_a, r.seen_b, r.faults, r.torn);
	if (r.chain_errors || r.overlaps || r.held_errors)
		print_message("# BROKEN: chain broken %" PRIu64 " times, overlapping "
			      "callbacks %" PRIu64 ", domains not held %" PRIu64 "\n",
			      r.chain_errors, r.overlaps, r.held_errors);
	assert_int_equal(r.chain_errors, 0);
	assert_int_equal(r.overlaps, 0);
	assert_int_equal(r.held_errors, 0);
	assert_int_equal(r.fill_errors, 0);
	assert_int_equal(r.faults, 0);
	assert_int_equal(r.torn, 0);
	assert_true(r.replaces >= MIN_REPLACES);
	assert_true(r.vetoes >= 2);
	assert_int_equal(r.aborts, r.vetoes);	/* fill prepared before each veto */
	assert_true(with_commit ? r.commits > 0 : r.commits == 0);
	assert_true(r.seen_a > 0 && r.seen_b > 0);

	assert_int_equal(siommu_layer_unregister(r.veto), 0);	/* it would veto the detach */
	assert_int_equal(siommu_pasid_detach(r.dev, 1), 0);
	assert_int_equal(siommu_device_detach(r.dev), 0);
	for (i = 0; i < r.nrepl; i++)
		for (k = 0; k < rp[i].nretired; k++)
			assert_int_equal(destroy(&r, rp[i].retired[k]), 0);
	assert_int_equal(siommu_layer_unregister(r.fill), 0);
	assert_int_equal(siommu_device_destroy(r.dev), 0);
	assert_int_equal(siommu_iommu_destroy(r.iommu), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	free(r.buf_a);
	free(r.buf_b);
	pthread_mutex_destroy(&r.chain_lock);
}

/* Commit after a grace period: the old domain is unused when commit runs. */
static void test_core_replace_during_dma_commit_layer(void **state)
{
	/* Broken grace period: not visible here (commit's own grace period). */
	if (brk_mode == BREAK_GRACE)
		skip();
	run_replace_during_dma(true);
}

/* Prepare only: replaces do not wait; destroy's grace period protects DMA. */
static void test_core_replace_during_dma_prepare_only(void **state)
{
	run_replace_during_dma(false);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_replace_during_dma_commit_layer),
		cmocka_unit_test(test_core_replace_during_dma_prepare_only),
	};

	if (getenv("SIOMMU_STRESS_BREAK")) {
		brk_mode = argc > 1 && !strcmp(argv[1], "--break-attach") ?
			   BREAK_ATTACH : BREAK_GRACE;
		if (!SIOMMU_TESTING_BUILD) {
			printf("BREAK-UNSUPPORTED: the break switches need a testing build\n");
			return 77;
		}
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
