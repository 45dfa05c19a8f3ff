// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Attachments, the attach protocol and the layers that take part in it.
 *
 * Terms.  An attachment is the domain a request of a device uses: the
 * device's own (requests without PASID, "RID attachment") or the one of a
 * (device, PASID) pair.  Each is a pointer read by translate inside an RCU
 * read-side section: dev->domain, and the slots of the device's PASID
 * table (a directory of 1024-slot leaves, like VT-d's PASID directory and
 * tables; leaves are allocated on first attach and kept until the device
 * is destroyed, so a reader never sees a leaf freed).
 *
 * The protocol (include/softiommu/core.h, "attach"): hold the new domain,
 * prepare every layer (abort the prepared ones in reverse order if one
 * refuses), switch the pointer, wait for a grace period if there was an old
 * domain and a layer will commit (its prepare did not say
 * SIOMMU_LAYER_NO_COMMIT), commit those layers, drop the old domain's
 * count.  All of it under the device's attach mutex (dev->attach_lock),
 * which serialises the protocols of one device and is taken by nothing a
 * reader, a DMA or a fault handler runs: so the callbacks and the grace
 * period are never waited for by a reader (no deadlock), and the layers see
 * one device's changes one at a time, as a chain.
 *
 * Invariants.
 *  - A domain's user count (dom->users, under dom->lock) equals the number
 *    of attachment pointers that point at it plus the protocols in progress
 *    that hold it as their new domain.  A domain with users is never
 *    destroyed; a dying domain gets no new users.  The old domain of a
 *    protocol keeps its attachment's count until the protocol ends.
 *  - Every attachment pointer is written under its device's lock (and its
 *    attach mutex) with a release store, pairing with the acquire load in
 *    core_attached_rcu(): a reader that sees the pointer sees the domain's
 *    initialized fields.
 *  - Replace is one store: a concurrent DMA sees the old domain or the new
 *    one, never NULL in between.  The old domain stays valid for readers
 *    that loaded it because siommu_domain_destroy() waits for a grace period
 *    before it frees anything (domain.c).
 *
 * Lock order: dev->attach_lock > iommu->layers_lock > iommu->lock >
 * dev->lock > dom->lock (core_internal.h).  The protocol takes the layers
 * lock only to snapshot the layers, dev->lock only around the switch, and
 * a domain's lock only to count a user.
 */
#include <errno.h>
#include <string.h>

#include "core/core_internal.h"

/* The device whose protocol the calling thread runs callbacks of, or NULL. */
static __thread struct siommu_device *in_callback;

bool core_in_layer_callback(void)
{
	return in_callback != NULL;
}

void core_layers_init(struct siommu_iommu *iommu)
{
	pthread_condattr_t ca;

	siommu_mutex_init(&iommu->layers_lock, "core.layers", SIOMMU_RANK_CORE_LAYERS);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&iommu->layers_cond, &ca);
	pthread_condattr_destroy(&ca);
}

void core_layers_fini(struct siommu_iommu *iommu)
{
	pthread_cond_destroy(&iommu->layers_cond);
	siommu_mutex_destroy(&iommu->layers_lock);
}

/* ------------------------------------------------------------------ layers */

SIOMMU_API int siommu_layer_register(struct siommu_iommu *iommu,
				     const struct siommu_layer_ops *ops,
				     void *opaque, struct siommu_layer **out)
{
	struct siommu_layer *l;
	unsigned int slot;

	if (!iommu || !ops || !out)
		return -EINVAL;
	if (siommu_rcu_read_ongoing() || core_in_layer_callback())
		return -EDEADLK;
	l = siommu_zalloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->iommu = iommu;
	l->ops = *ops;
	l->opaque = opaque;
	siommu_mutex_lock(&iommu->layers_lock);
	if (iommu->nr_layers == SIOMMU_LAYERS_MAX) {
		siommu_mutex_unlock(&iommu->layers_lock);
		siommu_free(l);
		return -ENOSPC;
	}
	for (slot = 0; iommu->layer_slots & (1u << slot); slot++)
		;
	l->slot = slot;
	iommu->layer_slots |= 1u << slot;
	iommu->layers[iommu->nr_layers] = l;
	siommu_store_relaxed(&iommu->nr_layers, iommu->nr_layers + 1);
	siommu_mutex_unlock(&iommu->layers_lock);
	*out = l;
	return 0;
}

/* Is @slot's private data set on a device or domain?  Holds iommu->lock. */
static bool slot_in_use_locked(struct siommu_iommu *iommu, unsigned int slot)
{
	struct siommu_device *dev;
	struct siommu_domain *dom;

	siommu_assert_held(&iommu->lock);
	cds_list_for_each_entry(dev, &iommu->devices, node)
		if (siommu_load_relaxed(&dev->priv[slot]))
			return true;
	cds_list_for_each_entry(dom, &iommu->domains, node)
		if (siommu_load_relaxed(&dom->priv[slot]))
			return true;
	return false;
}

SIOMMU_API int siommu_layer_unregister(struct siommu_layer *layer)
{
	struct siommu_iommu *iommu;
	uint32_t i;
	bool busy;

	if (!layer)
		return 0;
	if (siommu_rcu_read_ongoing() || core_in_layer_callback())
		return -EDEADLK;
	iommu = layer->iommu;
	siommu_mutex_lock(&iommu->layers_lock);
	siommu_mutex_lock(&iommu->lock);
	busy = slot_in_use_locked(iommu, layer->slot);
	siommu_mutex_unlock(&iommu->lock);
	if (busy) {
		siommu_mutex_unlock(&iommu->layers_lock);
		return -EBUSY;
	}
	for (i = 0; iommu->layers[i] != layer; i++)
		;
	memmove(&iommu->layers[i], &iommu->layers[i + 1],
		(iommu->nr_layers - i - 1) * sizeof(iommu->layers[0]));
	siommu_store_relaxed(&iommu->nr_layers, iommu->nr_layers - 1);
	iommu->layers[iommu->nr_layers] = NULL;
	/* Protocols that snapshotted it before the removal: let them end. */
	while (layer->active)
		pthread_cond_wait(&iommu->layers_cond, &iommu->layers_lock.m);
	iommu->layer_slots &= ~(1u << layer->slot);
	siommu_mutex_unlock(&iommu->layers_lock);
	siommu_free(layer);
	return 0;
}

struct layer_set {
	struct siommu_layer *l[SIOMMU_LAYERS_MAX];
	bool commit[SIOMMU_LAYERS_MAX];	/* has a commit step, and prepare wants it */
	uint32_t n;
};

/* The layers a protocol runs with, each counted active until layers_put(). */
static void layers_get(struct siommu_iommu *iommu, struct layer_set *ls)
{
	uint32_t i;

	ls->n = 0;
	if (!siommu_load_relaxed(&iommu->nr_layers))
		return;	/* a layer registered concurrently may miss this protocol */
	siommu_mutex_lock(&iommu->layers_lock);
	for (i = 0; i < iommu->nr_layers; i++) {
		ls->l[i] = iommu->layers[i];
		ls->l[i]->active++;
		ls->commit[i] = ls->l[i]->ops.commit != NULL;
	}
	ls->n = iommu->nr_layers;
	siommu_mutex_unlock(&iommu->layers_lock);
}

static void layers_put(struct siommu_iommu *iommu, struct layer_set *ls)
{
	uint32_t i;

	if (!ls->n)
		return;
	siommu_mutex_lock(&iommu->layers_lock);
	for (i = 0; i < ls->n; i++)
		ls->l[i]->active--;
	pthread_cond_broadcast(&iommu->layers_cond);
	siommu_mutex_unlock(&iommu->layers_lock);
}

/* ------------------------------------------------------------------ private data */

static bool layer_ok(struct siommu_iommu *iommu, struct siommu_layer *layer)
{
	return layer && layer->iommu == iommu;
}

SIOMMU_API int siommu_device_set_priv(struct siommu_device *dev,
				      struct siommu_layer *layer, void *priv)
{
	if (!dev || !layer_ok(dev->iommu, layer))
		return -EINVAL;
	siommu_store_release(&dev->priv[layer->slot], priv);
	return 0;
}

SIOMMU_API void *siommu_device_get_priv(struct siommu_device *dev,
					struct siommu_layer *layer)
{
	if (!dev || !layer_ok(dev->iommu, layer))
		return NULL;
	return siommu_load_acquire(&dev->priv[layer->slot]);
}

SIOMMU_API int siommu_domain_set_priv(struct siommu_domain *dom,
				      struct siommu_layer *layer, void *priv)
{
	if (!dom || !layer_ok(dom->iommu, layer))
		return -EINVAL;
	siommu_store_release(&dom->priv[layer->slot], priv);
	return 0;
}

SIOMMU_API void *siommu_domain_get_priv(struct siommu_domain *dom,
					struct siommu_layer *layer)
{
	if (!dom || !layer_ok(dom->iommu, layer))
		return NULL;
	return siommu_load_acquire(&dom->priv[layer->slot]);
}

/* ------------------------------------------------------------------ attach */

/*
 * The attachment slot of (@dev, @pasid), allocating its PASID leaf if
 * @alloc.  Context: holds dev->lock.  Returns NULL for an unknown PASID
 * leaf (or an allocation failure: *@err says which).
 */
static struct siommu_domain **attach_slot_locked(struct siommu_device *dev,
						 uint32_t pasid, bool alloc,
						 int *err)
{
	struct core_pasid_leaf *leaf;
	uint32_t di;

	siommu_assert_held(&dev->lock);
	*err = 0;
	if (pasid == SIOMMU_NO_PASID)
		return &dev->domain;
	di = pasid >> CORE_PASID_LEAF_LG2;
	leaf = dev->pasid_dir[di];
	if (!leaf) {
		if (!alloc) {
			*err = -ENOENT;
			return NULL;
		}
		leaf = siommu_zalloc(sizeof(*leaf));
		if (!leaf) {
			*err = -ENOMEM;
			return NULL;
		}
		/* The zeroed leaf before the pointer: pairs with core_attached_rcu(). */
		siommu_store_release(&dev->pasid_dir[di], leaf);
	}
	return &leaf->slot[pasid & (CORE_PASID_LEAF - 1)];
}

/* Count a new user of @dom (an attachment or a protocol's hold). */
static int domain_get_user(struct siommu_domain *dom)
{
	int ret = 0;

	siommu_mutex_lock(&dom->lock);
	if (dom->dying)
		ret = -ENOENT;
	else
		siommu_store_relaxed(&dom->users, dom->users + 1);
	siommu_mutex_unlock(&dom->lock);
	return ret;
}

static void domain_put_user(struct siommu_domain *dom)
{
	siommu_mutex_lock(&dom->lock);
	SIOMMU_WARN_ON(dom->users == 0);
	siommu_store_relaxed(&dom->users, dom->users - 1);
	siommu_mutex_unlock(&dom->lock);
}

static void trace_attach(struct siommu_device *dev, bool attach)
{
	struct siommu_trace_event ev = { 0 };

	if (!siommu_trace_enabled(dev->iommu->ctx))
		return;
	ev.type = attach ? SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN :
			   SIOMMU_TRACE_DETACH_DEVICE_FROM_DOMAIN;
	ev.device = dev->name;
	siommu_trace_emit(dev->iommu->ctx, &ev);
}

static int pasid_check(struct siommu_device *dev, uint32_t pasid)
{
	if (pasid == SIOMMU_NO_PASID)
		return 0;
	if (!(dev->flags & SIOMMU_DEV_PASID))
		return -EOPNOTSUPP;
	if (!dev->pasid_bits || pasid >> dev->pasid_bits)
		return -EINVAL;
	return 0;
}

#if SIOMMU_TESTING_BUILD
void core_test_set_attach_unserialized(struct siommu_iommu *iommu, bool on)
{
	siommu_store_relaxed(&iommu->test_attach_unserialized, on);
}

static bool attach_serialized(struct siommu_device *dev)
{
	return !siommu_load_relaxed(&dev->iommu->test_attach_unserialized);
}
#else
static bool attach_serialized(struct siommu_device *dev)
{
	(void)dev;
	return true;
}
#endif

/*
 * Look at the current attachment and decide whether the protocol runs.
 * Returns 0 with *@oldp set, 1 for a no-op (replace by itself), or an
 * error.  Context: holds dev->attach_lock.
 */
static int attach_check(struct siommu_device *dev, uint32_t pasid,
			struct siommu_domain *dom, enum siommu_attach_op op,
			struct siommu_domain **oldp)
{
	struct siommu_domain **slot;
	int ret;

	siommu_mutex_lock(&dev->lock);
	slot = attach_slot_locked(dev, pasid, op != SIOMMU_ATTACH_OP_DETACH, &ret);
	if (slot) {
		*oldp = *slot;
		if (op == SIOMMU_ATTACH_OP_DETACH && !*oldp)
			ret = -ENOENT;
		else if (op == SIOMMU_ATTACH_OP_ATTACH && *oldp)
			ret = -EEXIST;
		else if (*oldp == dom)
			ret = 1;		/* replace by itself */
	}
	siommu_mutex_unlock(&dev->lock);
	return ret;
}

/*
 * Publish @dom in (@dev, @pasid).  Returns the domain it replaced.
 * Context: holds dev->attach_lock; the slot exists (attach_check()).
 */
static struct siommu_domain *attach_switch(struct siommu_device *dev,
					   uint32_t pasid,
					   struct siommu_domain *dom)
{
	struct siommu_domain **slot, *old;
	int err;

	siommu_mutex_lock(&dev->lock);
	slot = attach_slot_locked(dev, pasid, false, &err);
	old = *slot;
	siommu_debug_yield(SIOMMU_YIELD_PUBLISH);
	/*
	 * One store switches the attachment: readers see @old or @dom.
	 * Release: @dom's fields before the pointer; pairs with the acquire
	 * load in core_attached_rcu().
	 */
	siommu_store_release(slot, dom);
	if (pasid != SIOMMU_NO_PASID) {
		if (!old && dom)
			dev->nr_pasids++;
		else if (old && !dom)
			dev->nr_pasids--;
	}
	siommu_mutex_unlock(&dev->lock);
	return old;
}

static int do_attach(struct siommu_device *dev, uint32_t pasid,
		     struct siommu_domain *dom, enum siommu_attach_op op,
		     bool want_pasid)
{
	struct siommu_attach_change c;
	struct siommu_domain *old = NULL;
	struct layer_set ls;
	bool serial, any_commit = false;
	uint32_t i;
	int ret;

	if (!dev || (op != SIOMMU_ATTACH_OP_DETACH && !dom))
		return -EINVAL;
	if (want_pasid && pasid == SIOMMU_NO_PASID)
		return -EINVAL;
	ret = pasid_check(dev, pasid);
	if (ret)
		return ret;
	if (dom && dom->iommu != dev->iommu)
		return -EINVAL;
	/* Callbacks and the grace period before commit may wait for readers. */
	if (siommu_rcu_read_ongoing() || core_in_layer_callback())
		return -EDEADLK;

	serial = attach_serialized(dev);
	if (serial)
		siommu_mutex_lock(&dev->attach_lock);
	ret = attach_check(dev, pasid, dom, op, &old);
	if (ret)
		goto out_unlock;
	if (dom) {
		/* Held from here: destroy is -EBUSY; becomes the attachment's count. */
		ret = domain_get_user(dom);
		if (ret)
			goto out_unlock;
	}
	layers_get(dev->iommu, &ls);
	c = (struct siommu_attach_change){ .dev = dev, .pasid = pasid, .op = op,
					   .old_dom = old, .new_dom = dom };
	in_callback = dev;
	for (i = 0; i < ls.n; i++) {
		if (!ls.l[i]->ops.prepare)
			continue;
		ret = ls.l[i]->ops.prepare(ls.l[i]->opaque, &c);
		if (ret == SIOMMU_LAYER_NO_COMMIT) {
			ls.commit[i] = false;	/* not its business: no commit, no wait */
			ret = 0;
		}
		if (ret) {
			if (ret > 0)
				ret = -EINVAL;	/* a broken layer: still a refusal */
			while (i-- > 0)
				if (ls.l[i]->ops.abort)
					ls.l[i]->ops.abort(ls.l[i]->opaque, &c);
			in_callback = NULL;
			layers_put(dev->iommu, &ls);
			if (dom)
				domain_put_user(dom);
			goto out_unlock;
		}
	}
	in_callback = NULL;

	c.old_dom = attach_switch(dev, pasid, dom);
	SIOMMU_CHECK(!serial || c.old_dom == old);
	old = c.old_dom;
	if (!serial && old)
		domain_put_user(old);	/* the broken variant (tests): dropped too early */
	/*
	 * Commit sees a switch no reader undoes: every translation, DMA piece
	 * and fault-handler call that loaded @old for (dev, pasid) ends first.
	 */
	for (i = 0; i < ls.n; i++)
		any_commit |= ls.commit[i];
	if (old && any_commit)
		siommu_rcu_synchronize();
	in_callback = dev;
	for (i = 0; i < ls.n; i++)
		if (ls.commit[i])
			ls.l[i]->ops.commit(ls.l[i]->opaque, &c);
	in_callback = NULL;
	layers_put(dev->iommu, &ls);
	if (old && serial)
		domain_put_user(old);	/* destroy of @old may succeed from here */
	if (serial)
		siommu_mutex_unlock(&dev->attach_lock);
	trace_attach(dev, dom != NULL);
	return 0;

out_unlock:
	if (serial)
		siommu_mutex_unlock(&dev->attach_lock);
	return ret > 0 ? 0 : ret;
}

SIOMMU_API int siommu_device_attach(struct siommu_device *dev,
				    struct siommu_domain *dom)
{
	return do_attach(dev, SIOMMU_NO_PASID, dom, SIOMMU_ATTACH_OP_ATTACH, false);
}

SIOMMU_API int siommu_device_replace(struct siommu_device *dev,
				     struct siommu_domain *dom)
{
	return do_attach(dev, SIOMMU_NO_PASID, dom, SIOMMU_ATTACH_OP_REPLACE, false);
}

SIOMMU_API int siommu_device_detach(struct siommu_device *dev)
{
	return do_attach(dev, SIOMMU_NO_PASID, NULL, SIOMMU_ATTACH_OP_DETACH, false);
}

SIOMMU_API int siommu_pasid_attach(struct siommu_device *dev, uint32_t pasid,
				   struct siommu_domain *dom)
{
	return do_attach(dev, pasid, dom, SIOMMU_ATTACH_OP_ATTACH, true);
}

SIOMMU_API int siommu_pasid_replace(struct siommu_device *dev, uint32_t pasid,
				    struct siommu_domain *dom)
{
	return do_attach(dev, pasid, dom, SIOMMU_ATTACH_OP_REPLACE, true);
}

SIOMMU_API int siommu_pasid_detach(struct siommu_device *dev, uint32_t pasid)
{
	return do_attach(dev, pasid, NULL, SIOMMU_ATTACH_OP_DETACH, true);
}

SIOMMU_API struct siommu_domain *siommu_device_domain(struct siommu_device *dev,
						      uint32_t pasid)
{
	struct siommu_domain *dom;

	if (!dev)
		return NULL;
	siommu_rcu_read_lock();
	dom = core_attached_rcu(dev, pasid);
	siommu_rcu_read_unlock();
	return dom;
}

SIOMMU_API int siommu_device_get_attachments(struct siommu_device *dev,
					     struct siommu_attachment *out,
					     unsigned int max)
{
	struct core_pasid_leaf *leaf;
	struct siommu_domain *d;
	uint32_t di, k;
	int n = 0;

	if (!dev || (!out && max))
		return -EINVAL;
	siommu_mutex_lock(&dev->lock);
	if (dev->domain) {
		if ((unsigned int)n < max)
			out[n] = (struct siommu_attachment){ SIOMMU_NO_PASID, dev->domain };
		n++;
	}
	for (di = 0; di < dev->pasid_dir_len; di++) {
		leaf = dev->pasid_dir[di];
		if (!leaf)
			continue;
		for (k = 0; k < CORE_PASID_LEAF; k++) {
			d = leaf->slot[k];
			if (!d)
				continue;
			if ((unsigned int)n < max)
				out[n] = (struct siommu_attachment){
					(di << CORE_PASID_LEAF_LG2) | k, d };
			n++;
		}
	}
	siommu_mutex_unlock(&dev->lock);
	return n;
}
