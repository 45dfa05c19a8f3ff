// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The IOMMU instance, its devices and their attachments.
 *
 * Terms.  An attachment is the domain a request of a device uses: the
 * device's own (requests without PASID, "RID attachment") or the one of a
 * (device, PASID) pair.  Each is a pointer read by translate inside an RCU
 * read-side section: dev->domain, and the slots of the device's PASID
 * table (a directory of 1024-slot leaves, like VT-d's PASID directory and
 * tables; leaves are allocated on first attach and kept until the device
 * is destroyed, so a reader never sees a leaf freed).
 *
 * Invariants.
 *  - A domain's user count (dom->users, under dom->lock) equals the number
 *    of attachment pointers that point at it.  A domain with users is never
 *    destroyed; a dying domain gets no new users.
 *  - Every attachment pointer is written under its device's lock with a
 *    release store (pairs with the acquire load in core_attached_rcu()), so
 *    a reader that sees the pointer sees the domain's initialized fields.
 *  - Replace is one store: a concurrent DMA sees the old domain or the new
 *    one, never NULL in between.  The old domain stays valid for readers
 *    that loaded it because siommu_domain_destroy() waits for a grace period
 *    before it frees anything (domain.c).
 *
 * Lock order: iommu->lock > dev->lock > dom->lock (core_internal.h).  Attach
 * takes dev->lock and then the target domain's lock, one domain at a time:
 * replace takes the new domain's lock to count the user, publishes, and
 * then takes the old domain's lock to drop its count.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"

#define CORE_DEFAULT_IAS	48
#define CORE_DEFAULT_OAS	52
#define CORE_DEFAULT_FLOG	256
#define CORE_DEFAULT_RATE	100
#define CORE_FLOG_MAX		65536
#define CORE_DEFAULT_PRQ	256
#define CORE_PRQ_MAX		65536
#define CORE_PGSIZES		(SIOMMU_PT_SZ_4K | SIOMMU_PT_SZ_2M | SIOMMU_PT_SZ_1G)

static int caps_fill(const struct siommu_iommu_caps *in,
		     struct siommu_iommu_caps *out)
{
	struct siommu_iommu_caps c = { 0 };

	if (in)
		c = *in;
	if (!c.pgsize_bitmap)
		c.pgsize_bitmap = CORE_PGSIZES;
	if (!c.ias_lg2)
		c.ias_lg2 = CORE_DEFAULT_IAS;
	if (!c.oas_lg2)
		c.oas_lg2 = CORE_DEFAULT_OAS;
	if (!c.fault_log_size)
		c.fault_log_size = CORE_DEFAULT_FLOG;
	if (!c.fault_rate)
		c.fault_rate = CORE_DEFAULT_RATE;
	if (!c.iotlb_capacity)
		c.iotlb_capacity = SIOMMU_IOTLB_DEFAULT_CAPACITY;
	if (!c.iotlb_ways)
		c.iotlb_ways = SIOMMU_IOTLB_DEFAULT_WAYS;
	if (!c.prq_size)
		c.prq_size = CORE_DEFAULT_PRQ;
	if (c.prq_size > CORE_PRQ_MAX || (c.prq_size & (c.prq_size - 1)))
		return -EINVAL;
	if ((c.pgsize_bitmap & ~CORE_PGSIZES) ||
	    !(c.pgsize_bitmap & SIOMMU_PT_SZ_4K))
		return -EINVAL;
	if (c.ias_lg2 < 32 || c.ias_lg2 > 64 || c.oas_lg2 < 32 ||
	    c.oas_lg2 > 52 || c.pasid_bits > SIOMMU_PASID_BITS_MAX ||
	    c.fault_log_size > CORE_FLOG_MAX)
		return -EINVAL;
	*out = c;
	return 0;
}

SIOMMU_API int siommu_iommu_create(struct siommu_ctx *ctx,
				   const struct siommu_iommu_caps *caps,
				   struct siommu_mem *mem,
				   struct siommu_iommu **out)
{
	struct siommu_iotlb_config tcfg;
	struct siommu_iommu *iommu;
	int ret;

	if (!ctx || !out)
		return -EINVAL;
	iommu = siommu_zalloc(sizeof(*iommu));
	if (!iommu)
		return -ENOMEM;
	ret = caps_fill(caps, &iommu->caps);
	if (ret)
		goto err_free;
	tcfg.capacity = iommu->caps.iotlb_capacity;
	tcfg.ways = iommu->caps.iotlb_ways;
	ret = siommu_iotlb_create(ctx, &tcfg, &iommu->iotlb);
	if (ret)
		goto err_free;
	ret = siommu_stats_create(CORE_STAT_NR, &iommu->stats);
	if (ret)
		goto err_iotlb;
	ret = core_flog_init(&iommu->flog, iommu->caps.fault_log_size,
			     iommu->caps.fault_rate);
	if (ret)
		goto err_stats;
	if (mem) {
		/* Revoked regions lose their mappings (maps.c). */
		ret = siommu_mem_notifier_register(mem, core_revoke_notify, iommu,
						   &iommu->mem_notifier);
		if (ret)
			goto err_flog;
	}
	iommu->ctx = ctx;
	iommu->mem = mem;
	iommu->next_domid = 1;
	siommu_mutex_init(&iommu->lock, "core.iommu", SIOMMU_RANK_CORE_IOMMU);
	CDS_INIT_LIST_HEAD(&iommu->devices);
	CDS_INIT_LIST_HEAD(&iommu->domains);
	siommu_ctx_hold(ctx);
	*out = iommu;
	return 0;

err_flog:
	core_flog_fini(&iommu->flog);
err_stats:
	siommu_stats_destroy(iommu->stats);
err_iotlb:
	siommu_iotlb_destroy(iommu->iotlb);
err_free:
	siommu_free(iommu);
	return ret;
}

SIOMMU_API int siommu_iommu_destroy(struct siommu_iommu *iommu)
{
	struct siommu_ctx *ctx;

	if (!iommu)
		return 0;
	siommu_mutex_lock(&iommu->lock);
	if (iommu->nr_devices || iommu->nr_domains) {
		siommu_mutex_unlock(&iommu->lock);
		return -EBUSY;
	}
	siommu_mutex_unlock(&iommu->lock);
	if (iommu->mem_notifier &&
	    siommu_mem_notifier_unregister(iommu->mem_notifier) == -EDEADLK)
		return -EDEADLK;	/* from a revoke notifier: nothing done */
	ctx = iommu->ctx;
	core_flusher_stop(iommu);
	/* Readers of the IOTLB and the counters ended with the last domain. */
	siommu_rcu_barrier();
	core_flog_fini(&iommu->flog);
	siommu_stats_destroy(iommu->stats);
	siommu_iotlb_destroy(iommu->iotlb);
	siommu_mutex_destroy(&iommu->lock);
	siommu_free(iommu);
	siommu_ctx_unhold(ctx);
	return 0;
}

SIOMMU_API int siommu_iommu_get_caps(struct siommu_iommu *iommu,
				     struct siommu_iommu_caps *out)
{
	if (!iommu || !out)
		return -EINVAL;
	*out = iommu->caps;
	return 0;
}

/* ------------------------------------------------------------------ devices */

SIOMMU_API int siommu_device_create(struct siommu_iommu *iommu, uint32_t rid,
				    unsigned int flags, unsigned int pasid_bits,
				    struct siommu_device **out)
{
	struct siommu_device *dev, *d;
	unsigned int bits = 0;

	if (!iommu || !out || rid >> 24 || (flags & ~SIOMMU_DEV_FLAGS_MASK))
		return -EINVAL;
	if (flags & SIOMMU_DEV_PASID) {
		if (!pasid_bits || pasid_bits > SIOMMU_PASID_BITS_MAX)
			return -EINVAL;
		if (!iommu->caps.pasid_bits)
			return -EOPNOTSUPP;
		bits = pasid_bits < iommu->caps.pasid_bits ?
		       pasid_bits : iommu->caps.pasid_bits;
	} else if (pasid_bits) {
		return -EINVAL;
	}
	if ((flags & SIOMMU_DEV_PRG_RESP_PASID) &&
	    (flags & (SIOMMU_DEV_PRI | SIOMMU_DEV_PASID)) !=
	    (SIOMMU_DEV_PRI | SIOMMU_DEV_PASID))
		return -EINVAL;

	dev = siommu_zalloc(sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->iommu = iommu;
	dev->rid = rid;
	dev->flags = flags;
	dev->pasid_bits = bits;
	snprintf(dev->name, sizeof(dev->name), "%04x:%02x:%02x.%u",
		 rid >> 16, (rid >> 8) & 0xff, (rid >> 3) & 0x1f, rid & 7);
	if (bits) {
		dev->pasid_dir_len = bits > CORE_PASID_LEAF_LG2 ?
				     1u << (bits - CORE_PASID_LEAF_LG2) : 1;
		dev->pasid_dir = siommu_calloc(dev->pasid_dir_len,
					       sizeof(*dev->pasid_dir));
		if (!dev->pasid_dir) {
			siommu_free(dev);
			return -ENOMEM;
		}
	}
	siommu_mutex_init(&dev->lock, "core.device", SIOMMU_RANK_CORE_DEVICE);

	siommu_mutex_lock(&iommu->lock);
	cds_list_for_each_entry(d, &iommu->devices, node) {
		if (d->rid == rid) {
			siommu_mutex_unlock(&iommu->lock);
			siommu_mutex_destroy(&dev->lock);
			siommu_free(dev->pasid_dir);
			siommu_free(dev);
			return -EEXIST;
		}
	}
	cds_list_add_tail(&dev->node, &iommu->devices);
	iommu->nr_devices++;
	siommu_mutex_unlock(&iommu->lock);
	*out = dev;
	return 0;
}

SIOMMU_API int siommu_device_destroy(struct siommu_device *dev)
{
	struct siommu_iommu *iommu;
	uint32_t i;

	if (!dev)
		return 0;
	if (siommu_rcu_read_ongoing())
		return -EDEADLK;
	iommu = dev->iommu;
	siommu_mutex_lock(&iommu->lock);
	siommu_mutex_lock(&dev->lock);
	if (dev->domain || dev->nr_pasids) {
		siommu_mutex_unlock(&dev->lock);
		siommu_mutex_unlock(&iommu->lock);
		return -EBUSY;
	}
	cds_list_del(&dev->node);
	iommu->nr_devices--;
	siommu_mutex_unlock(&dev->lock);
	siommu_mutex_unlock(&iommu->lock);

	/* A translate that loaded a PASID leaf may still be reading it. */
	siommu_rcu_synchronize();
	for (i = 0; i < dev->pasid_dir_len; i++)
		siommu_free(dev->pasid_dir[i]);
	siommu_free(dev->pasid_dir);
	siommu_mutex_destroy(&dev->lock);
	siommu_free(dev);
	return 0;
}

SIOMMU_API struct siommu_device *siommu_device_find(struct siommu_iommu *iommu,
						    uint32_t rid)
{
	struct siommu_device *d, *found = NULL;

	if (!iommu)
		return NULL;
	siommu_mutex_lock(&iommu->lock);
	cds_list_for_each_entry(d, &iommu->devices, node) {
		if (d->rid == rid) {
			found = d;
			break;
		}
	}
	siommu_mutex_unlock(&iommu->lock);
	return found;
}

SIOMMU_API int siommu_device_get_info(struct siommu_device *dev,
				      struct siommu_device_info *out)
{
	if (!dev || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->rid = dev->rid;
	out->flags = dev->flags;
	out->pasid_bits = dev->pasid_bits;
	siommu_mutex_lock(&dev->lock);
	out->attached = dev->domain != NULL;
	out->nr_pasids = dev->nr_pasids;
	siommu_mutex_unlock(&dev->lock);
	return 0;
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

/* Count a new user of @dom.  Context: any lock above dom->lock. */
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

SIOMMU_API int siommu_iommu_set_attach_hook(struct siommu_iommu *iommu,
					    siommu_attach_hook_fn *fn,
					    void *opaque)
{
	int ret = 0;

	if (!iommu)
		return -EINVAL;
	siommu_mutex_lock(&iommu->lock);
	if (fn && iommu->attach_hook) {
		ret = -EBUSY;
	} else {
		iommu->attach_hook = fn;
		iommu->attach_hook_opaque = fn ? opaque : NULL;
	}
	siommu_mutex_unlock(&iommu->lock);
	return ret;
}

/* Context: no core lock held; @old still counts this attachment. */
static void call_attach_hook(struct siommu_device *dev, uint32_t pasid,
			     struct siommu_domain *old, struct siommu_domain *new_dom)
{
	struct siommu_iommu *iommu = dev->iommu;
	siommu_attach_hook_fn *fn;
	void *opaque;

	siommu_mutex_lock(&iommu->lock);
	fn = iommu->attach_hook;
	opaque = iommu->attach_hook_opaque;
	siommu_mutex_unlock(&iommu->lock);
	if (fn)
		fn(opaque, dev, pasid, old, new_dom);
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

enum attach_op { OP_ATTACH, OP_REPLACE, OP_DETACH };

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

static int do_attach(struct siommu_device *dev, uint32_t pasid,
		     struct siommu_domain *dom, enum attach_op op,
		     bool want_pasid)
{
	struct siommu_domain **slot, *old;
	int ret;

	if (!dev || (op != OP_DETACH && !dom))
		return -EINVAL;
	if (want_pasid && pasid == SIOMMU_NO_PASID)
		return -EINVAL;
	ret = pasid_check(dev, pasid);
	if (ret)
		return ret;
	if (dom && dom->iommu != dev->iommu)
		return -EINVAL;

	siommu_mutex_lock(&dev->lock);
	slot = attach_slot_locked(dev, pasid, op != OP_DETACH, &ret);
	if (!slot)			/* -ENOENT: a PASID never attached */
		goto out_unlock;
	old = *slot;
	if (op == OP_DETACH) {
		if (!old) {
			ret = -ENOENT;
			goto out_unlock;
		}
		siommu_store_release(slot, NULL);
		if (pasid != SIOMMU_NO_PASID)
			dev->nr_pasids--;
		siommu_mutex_unlock(&dev->lock);
		call_attach_hook(dev, pasid, old, NULL);
		/*
		 * DMA that loaded @old may still run through it: the domain
		 * is freed only after a grace period (siommu_domain_destroy).
		 */
		domain_put_user(old);
		trace_attach(dev, false);
		return 0;
	}
	if (op == OP_ATTACH && old) {
		ret = -EEXIST;
		goto out_unlock;
	}
	if (old == dom) {		/* replace by itself */
		ret = 0;
		goto out_unlock;
	}
	ret = domain_get_user(dom);
	if (ret)
		goto out_unlock;
	siommu_debug_yield(SIOMMU_YIELD_PUBLISH);
	/*
	 * One store switches the attachment: readers see @old or @dom.
	 * Release: @dom's fields before the pointer; pairs with the acquire
	 * load in core_attached_rcu().
	 */
	siommu_store_release(slot, dom);
	if (!old && pasid != SIOMMU_NO_PASID)
		dev->nr_pasids++;
	siommu_mutex_unlock(&dev->lock);
	call_attach_hook(dev, pasid, old, dom);
	if (old)
		domain_put_user(old);
	trace_attach(dev, true);
	return 0;

out_unlock:
	siommu_mutex_unlock(&dev->lock);
	return ret;
}

SIOMMU_API int siommu_device_attach(struct siommu_device *dev,
				    struct siommu_domain *dom)
{
	return do_attach(dev, SIOMMU_NO_PASID, dom, OP_ATTACH, false);
}

SIOMMU_API int siommu_device_replace(struct siommu_device *dev,
				     struct siommu_domain *dom)
{
	return do_attach(dev, SIOMMU_NO_PASID, dom, OP_REPLACE, false);
}

SIOMMU_API int siommu_device_detach(struct siommu_device *dev)
{
	return do_attach(dev, SIOMMU_NO_PASID, NULL, OP_DETACH, false);
}

SIOMMU_API int siommu_pasid_attach(struct siommu_device *dev, uint32_t pasid,
				   struct siommu_domain *dom)
{
	return do_attach(dev, pasid, dom, OP_ATTACH, true);
}

SIOMMU_API int siommu_pasid_replace(struct siommu_device *dev, uint32_t pasid,
				    struct siommu_domain *dom)
{
	return do_attach(dev, pasid, dom, OP_REPLACE, true);
}

SIOMMU_API int siommu_pasid_detach(struct siommu_device *dev, uint32_t pasid)
{
	return do_attach(dev, pasid, NULL, OP_DETACH, true);
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
