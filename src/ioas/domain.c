// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ioas domains: the core layer that fills a domain of an IOAS on its first
 * attachment and empties it after its last, the domains' side of map and
 * unmap, and revocation (seed 003) as the domains' revocation owner.
 *
 * Users of a domain (ioas_domain.users, under ioas->lock) are its
 * attachments plus the attach protocols whose prepare counted it:
 *  - prepare of a change whose new domain is ours: a first user fills the
 *    table (every area that is not revoked, after checking that the
 *    aperture and the page sizes hold all of them: -ENOSPC / -EINVAL with
 *    nothing mapped) and reserves what lies beyond the aperture;
 *  - abort of that change: the user goes (a last one empties the table);
 *  - commit of a change whose old domain is ours: that attachment goes (a
 *    last one empties the table: after the core's grace period, so nothing
 *    translates through the old attachment any more, and the unmap of a
 *    strict domain waits for its own).
 * The core serialises the protocol per device, not across devices: two
 * devices attaching to one domain meet under ioas->lock, where the count
 * and the fill are one step.
 *
 * Freeing a domain: the core refuses to destroy a domain while our private
 * data is set on it, so free clears it first; from then until the destroy
 * returns, a concurrent attach's prepare cannot find the IOAS from the
 * domain, so the domain is listed in l->dying and prepare refuses it
 * (-ENOENT): it is never attached with an empty table.
 *
 * Revocation: every domain of an IOAS has the IOAS as its revocation owner
 * (siommu_domain_set_revoke_owner(), set before its first map).  The
 * owner's callback takes ioas->lock — the lock map and unmap hold across
 * siommu_domain_map(), as the core's contract asks — and unmaps, from every
 * filled domain, each area whose memory intersects the revoked range.  The
 * area stays (its pages' region is revoked: a later fill skips it, and a
 * map into the region is refused by the core with -ENODEV).  The accesses
 * are told by the IOAS's own revoke notifier on each memory map it maps
 * REGION memory of (ioas_watch_mem_locked()), not through the domains: the
 * core tells a domain's owner only, and an IOAS with no domain attached
 * would otherwise never hear of the revoke while its accesses hold pins.
 */
#include <errno.h>
#include <string.h>

#include "base/alloc.h"
#include "base/ctx.h"
#include "base/debug.h"
#include "base/rcu.h"
#include "ioas/ioas_internal.h"

unsigned int ioas_prot(unsigned int map_flags)
{
	unsigned int prot = SIOMMU_PT_CACHE;

	if (map_flags & SIOMMU_IOAS_MAP_READ)
		prot |= SIOMMU_PT_READ;
	if (map_flags & SIOMMU_IOAS_MAP_WRITE)
		prot |= SIOMMU_PT_WRITE;
	return prot;
}

static bool area_revoked(const struct ioas_area *a)
{
	struct siommu_mem_region_info ri;

	return a->pages->region && !siommu_mem_region_info(a->pages->region, &ri) &&
	       ri.revoked;
}

static int domain_map_area(struct ioas_domain *d, struct ioas_area *a)
{
	return siommu_domain_map(d->dom, a->iova, ioas_area_pa(a),
				 ioas_area_len(a), ioas_prot(a->flags));
}

static void domain_unmap_area(struct ioas_domain *d, struct ioas_area *a)
{
	int64_t ret = siommu_domain_unmap(d->dom, a->iova, ioas_area_len(a));

	SIOMMU_WARN_ON(ret < 0);
}

/* Map @a into every filled domain; on error none has it. */
int ioas_domains_map_area(struct siommu_ioas *ioas, struct ioas_area *a)
{
	struct ioas_domain *d, *e;
	int ret;

	siommu_assert_held(&ioas->lock);
	cds_list_for_each_entry(d, &ioas->domains, link) {
		if (!d->filled)
			continue;
		ret = domain_map_area(d, a);
		if (ret) {
			cds_list_for_each_entry(e, &ioas->domains, link) {
				if (e == d)
					break;
				if (e->filled)
					domain_unmap_area(e, a);
			}
			return ret;
		}
	}
	return 0;
}

void ioas_domains_unmap_area(struct siommu_ioas *ioas, struct ioas_area *a)
{
	struct ioas_domain *d;

	siommu_assert_held(&ioas->lock);
	cds_list_for_each_entry(d, &ioas->domains, link)
		if (d->filled)
			domain_unmap_area(d, a);
}

/* ------------------------------------------------------------------ fill/empty */

static void domain_empty(struct ioas_domain *d)
{
	struct siommu_ioas *ioas = d->ioas;
	int64_t ret;

	siommu_assert_held(&ioas->lock);
	/* The IOAS owns the whole table: one unmap, one grace period. */
	ret = siommu_domain_unmap(d->dom, 0, d->ap_last == UINT64_MAX ?
				  UINT64_MAX : d->ap_last + 1);
	SIOMMU_WARN_ON(ret < 0);
	ioas_resv_remove_owner(ioas, d);
	d->filled = false;
}

static int domain_fill(struct ioas_domain *d)
{
	struct siommu_ioas *ioas = d->ioas;
	struct ioas_area *a, *b;
	int ret;

	siommu_assert_held(&ioas->lock);
	RB_FOREACH(a, ioas_area_tree, &ioas->areas) {
		if (a->last > d->ap_last)
			return -ENOSPC;
		if (a->iova % d->min_pgsize || ioas_area_len(a) % d->min_pgsize ||
		    ioas_area_pa(a) % d->min_pgsize)
			return -EINVAL;
	}
	if (d->ap_last != UINT64_MAX) {
		ret = ioas_resv_add(ioas, d->ap_last + 1, UINT64_MAX, d);
		if (ret)
			return ret;
	}
	RB_FOREACH(a, ioas_area_tree, &ioas->areas) {
		if (area_revoked(a))
			continue;
		ret = domain_map_area(d, a);
		if (ret)
			goto undo;
	}
	d->filled = true;
	return 0;
undo:
	RB_FOREACH(b, ioas_area_tree, &ioas->areas) {
		if (b == a)
			break;
		domain_unmap_area(d, b);
	}
	ioas_resv_remove_owner(ioas, d);
	return ret;
}

/* ------------------------------------------------------------------ layer ops */

static bool domain_is_dying(struct siommu_ioas_layer *l, struct siommu_domain *dom)
{
	struct ioas_domain_dying *x;
	bool dying = false;

	siommu_mutex_lock(&l->lock);
	cds_list_for_each_entry(x, &l->dying, link)
		if (x->dom == dom)
			dying = true;
	siommu_mutex_unlock(&l->lock);
	return dying;
}

/*
 * The commit only drops the old domain's user (and empties its table after
 * the last one): a change whose old domain is not an IOAS domain needs no
 * commit, so the core waits no grace period for this layer.  The private
 * data of an attached domain cannot change meanwhile (it is set before the
 * domain's first attach and cleared after its destroy).
 */
static int layer_prepare(void *opaque, const struct siommu_attach_change *c)
{
	struct siommu_ioas_layer *l = opaque;
	int keep = c->old_dom && siommu_domain_get_priv(c->old_dom, l->core) ?
		   0 : SIOMMU_LAYER_NO_COMMIT;
	struct ioas_domain *d;
	int ret = 0;

	if (!c->new_dom)
		return keep;
	d = siommu_domain_get_priv(c->new_dom, l->core);
	if (!d)
		return domain_is_dying(l, c->new_dom) ? -ENOENT : keep;
	siommu_mutex_lock(&d->ioas->lock);
	if (d->dying)
		ret = -ENOENT;
	else if (!d->users)
		ret = domain_fill(d);
	if (!ret)
		d->users++;
	siommu_mutex_unlock(&d->ioas->lock);
	return ret ? ret : keep;
}

static void domain_put_user(struct siommu_ioas_layer *l, struct siommu_domain *dom)
{
	struct ioas_domain *d = siommu_domain_get_priv(dom, l->core);

	if (!d)
		return;
	siommu_mutex_lock(&d->ioas->lock);
	SIOMMU_WARN_ON(!d->users);
	if (d->users && !--d->users && d->filled)
		domain_empty(d);
	siommu_mutex_unlock(&d->ioas->lock);
}

static void layer_abort(void *opaque, const struct siommu_attach_change *c)
{
	if (c->new_dom)
		domain_put_user(opaque, c->new_dom);
}

static void layer_commit(void *opaque, const struct siommu_attach_change *c)
{
	if (c->old_dom)
		domain_put_user(opaque, c->old_dom);
}

const struct siommu_layer_ops ioas_layer_ops = {
	.name = "ioas",
	.prepare = layer_prepare,
	.commit = layer_commit,
	.abort = layer_abort,
};

int siommu_ioas_layer_create(struct siommu_ctx *ctx, struct siommu_iommu *iommu,
			     struct siommu_ioas_layer **out)
{
	struct siommu_ioas_layer *l;
	int ret;

	if (!ctx || !iommu || !out)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	l = siommu_zalloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->ctx = ctx;
	l->iommu = iommu;
	siommu_mutex_init(&l->lock, "ioas.layer", SIOMMU_RANK_IOAS_LAYER);
	CDS_INIT_LIST_HEAD(&l->dying);
	ret = siommu_layer_register(iommu, &ioas_layer_ops, l, &l->core);
	if (ret) {
		siommu_mutex_destroy(&l->lock);
		siommu_free(l);
		return ret;
	}
	siommu_ctx_hold(ctx);
	*out = l;
	return 0;
}

int siommu_ioas_layer_destroy(struct siommu_ioas_layer *l)
{
	int ret;

	if (!l)
		return 0;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	if (__atomic_load_n(&l->nr_ioas, __ATOMIC_ACQUIRE))
		return -EBUSY;
	ret = siommu_layer_unregister(l->core);
	if (ret)
		return ret;
	siommu_ctx_unhold(l->ctx);
	siommu_mutex_destroy(&l->lock);
	siommu_free(l);
	return 0;
}

/* ------------------------------------------------------------------ revocation */

static bool area_in_pa(const struct ioas_area *a, uint64_t pa, uint64_t last)
{
	uint64_t s = ioas_area_pa(a);

	return s <= last && pa <= s + ioas_area_len(a) - 1;
}

/*
 * The domains' side of a revoke: unmap every area whose memory intersects
 * [pa, pa + size - 1] from every filled domain.  The accesses' side (asking
 * the pinners to let go) is the IOAS's own revoke notifier below, which
 * runs whether or not a domain is attached; the memory map calls both
 * before its revoke returns.
 */
static void revoke_owner(void *opaque, struct siommu_domain *dom, uint64_t pa,
			 uint64_t size)
{
	struct ioas_domain *d = opaque;
	struct siommu_ioas *ioas = d->ioas;
	struct ioas_area *a;
	uint64_t last = pa + size - 1;

	(void)dom;
	siommu_mutex_lock(&ioas->lock);
	RB_FOREACH(a, ioas_area_tree, &ioas->areas)
		if (a->pages->region && area_in_pa(a, pa, last))
			ioas_domains_unmap_area(ioas, a);
	siommu_mutex_unlock(&ioas->lock);
}

/*
 * Ask the accesses pinning areas of region @r to let go, one area at a
 * time, looking the next one up from scratch (the lock is dropped for each
 * callback).  New pins of the region already fail (-ENODEV: its revoked
 * flag is set before the notifiers run).  Pins that stay are logged.
 */
static void revoke_notify_accesses(struct siommu_ioas *ioas, struct siommu_mem_region *r)
{
	struct ioas_area *a;
	uint64_t cursor = 0;

	siommu_mutex_lock(&ioas->lock);
	for (;;) {
		uint64_t a_last;

		RB_FOREACH(a, ioas_area_tree, &ioas->areas)
			if (a->iova >= cursor && a->pages->region == r &&
			    __atomic_load_n(&a->busy, __ATOMIC_RELAXED))
				break;
		if (!a)
			break;
		a_last = a->last;
		ioas_notify_area_holders_locked(ioas, a);	/* drops the lock */
		if (a_last == UINT64_MAX)
			break;
		cursor = a_last + 1;
	}
	siommu_mutex_unlock(&ioas->lock);
}

/*
 * The region's revoked flag is set before this runs; a pin that checked it
 * before is still inside its read-side section, with its record not yet
 * added (access.c adds it inside the section).  Wait for a grace period
 * first, no lock held (a notifier may), and every such pin is recorded:
 * then look for holders.  Pins that start later see the flag (-ENODEV).
 */
static void watch_revoked(void *opaque, struct siommu_mem_region *r)
{
	if (!IOAS_BROKEN(IOAS_BREAK_REVOKE_NO_WAIT))
		siommu_rcu_synchronize();
	revoke_notify_accesses(opaque, r);
}

/*
 * Make sure @ioas has a revoke notifier on @mem (a REGION area of it is
 * about to be created).  Registering takes the map's mutex (rank MEM, 500)
 * briefly, under ioas->lock: the notifier itself takes ioas->lock only when
 * called, outside the map's locks.  Returns 0 or -ENOMEM.
 */
int ioas_watch_mem_locked(struct siommu_ioas *ioas, struct siommu_mem *mem)
{
	unsigned int i;
	int ret;

	siommu_assert_held(&ioas->lock);
	for (i = 0; i < ioas->nr_watches; i++)
		if (ioas->watches[i].mem == mem)
			return 0;
	if (ioas->nr_watches == ioas->cap_watches) {
		unsigned int cap = ioas->cap_watches ? ioas->cap_watches * 2 : 2;
		struct ioas_watch *n = siommu_calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		if (ioas->nr_watches)
			memcpy(n, ioas->watches, ioas->nr_watches * sizeof(*n));
		siommu_free(ioas->watches);
		ioas->watches = n;
		ioas->cap_watches = cap;
	}
	ret = siommu_mem_notifier_register(mem, watch_revoked, ioas,
					   &ioas->watches[ioas->nr_watches].n);
	if (ret)
		return ret == -EINVAL ? -EINVAL : -ENOMEM;
	ioas->watches[ioas->nr_watches++].mem = mem;
	return 0;
}

/*
 * Unregister every revoke notifier of @ioas (destroy; no lock held: an
 * unregister waits for running calls, which take ioas->lock).  Returns 0,
 * or -EDEADLK from inside a revoke notifier with nothing done (the first
 * unregister fails, so none was done).
 */
int ioas_unwatch_all(struct siommu_ioas *ioas)
{
	int ret;

	while (ioas->nr_watches) {
		ret = siommu_mem_notifier_unregister(ioas->watches[ioas->nr_watches - 1].n);
		if (ret)
			return ret;
		ioas->nr_watches--;
	}
	siommu_free(ioas->watches);
	ioas->watches = NULL;
	ioas->cap_watches = 0;
	return 0;
}

/* ------------------------------------------------------------------ domains API */

int siommu_ioas_domain_alloc(struct siommu_ioas *ioas,
			     const struct siommu_domain_cfg *cfg,
			     struct siommu_domain **out)
{
	struct siommu_domain_info di;
	struct siommu_pt_info pi;
	struct ioas_domain *d;
	int ret;

	if (!ioas || !cfg || !out || cfg->type != SIOMMU_DOMAIN_PAGING || cfg->pt)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	d = siommu_zalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ioas = ioas;
	ret = siommu_domain_create(ioas->l->iommu, cfg, &d->dom);
	if (ret)
		goto err_free;
	ret = siommu_domain_get_info(d->dom, &di);
	if (!ret)
		ret = siommu_pt_get_info(siommu_domain_pt(d->dom), &pi);
	if (ret)
		goto err_destroy;
	d->ap_last = di.ias_lg2 >= 64 ? UINT64_MAX : (1ull << di.ias_lg2) - 1;
	d->min_pgsize = pi.pgsize_bitmap & -pi.pgsize_bitmap;
	ret = siommu_domain_set_revoke_owner(d->dom, revoke_owner, d);
	if (ret)
		goto err_destroy;
	siommu_mutex_lock(&ioas->lock);
	ret = siommu_domain_set_priv(d->dom, ioas->l->core, d);
	if (!ret) {
		cds_list_add_tail(&d->link, &ioas->domains);
		ioas->nr_domains++;
	}
	siommu_mutex_unlock(&ioas->lock);
	if (ret)
		goto err_destroy;
	*out = d->dom;
	return 0;

err_destroy:
	SIOMMU_WARN_ON(siommu_domain_destroy(d->dom));
err_free:
	siommu_free(d);
	return ret;
}

int siommu_ioas_domain_free(struct siommu_ioas_layer *l, struct siommu_domain *dom)
{
	struct ioas_domain_dying x = { .dom = dom };
	struct siommu_ioas *ioas;
	struct ioas_domain *d;
	int ret;

	if (!dom)
		return 0;
	if (!l)
		return -EINVAL;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	d = siommu_domain_get_priv(dom, l->core);
	if (!d)
		return -EINVAL;
	ioas = d->ioas;
	siommu_mutex_lock(&ioas->lock);
	if (d->users || d->dying) {
		siommu_mutex_unlock(&ioas->lock);
		return -EBUSY;
	}
	d->dying = true;
	siommu_mutex_unlock(&ioas->lock);

	siommu_mutex_lock(&l->lock);
	cds_list_add(&x.link, &l->dying);
	siommu_mutex_unlock(&l->lock);
	SIOMMU_WARN_ON(siommu_domain_set_priv(dom, l->core, NULL));
	ret = siommu_domain_destroy(dom);
	if (ret) {
		/* An attach held it meanwhile (and is being refused): undo. */
		SIOMMU_WARN_ON(siommu_domain_set_priv(dom, l->core, d));
	}
	siommu_mutex_lock(&l->lock);
	cds_list_del(&x.link);
	siommu_mutex_unlock(&l->lock);

	siommu_mutex_lock(&ioas->lock);
	if (ret) {
		d->dying = false;
	} else {
		cds_list_del(&d->link);
		ioas->nr_domains--;
	}
	siommu_mutex_unlock(&ioas->lock);
	if (!ret)
		siommu_free(d);
	return ret;
}
