// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The IOMMU instance and its devices.  (Attachments, the attach protocol
 * and the layers: attach.c.)
 *
 * The device list is written under iommu->lock and walked lock-free by
 * siommu_device_find() inside a read-side section: insertions publish the
 * new node with a release store of its predecessor's next pointer, a
 * removal leaves the removed node's next pointer intact, and device destroy
 * waits for a grace period before it frees the device.
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
		c.iotlb_capacity = SIOMMU_IOMMU_DEFAULT_IOTLB_CAPACITY;
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
	siommu_mutex_init(&iommu->lock, "core.iommu", SIOMMU_RANK_CORE_IOMMU);
	core_layers_init(iommu);
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
	siommu_mutex_lock(&iommu->layers_lock);
	siommu_mutex_lock(&iommu->lock);
	if (iommu->nr_devices || iommu->nr_domains || iommu->nr_layers) {
		siommu_mutex_unlock(&iommu->lock);
		siommu_mutex_unlock(&iommu->layers_lock);
		return -EBUSY;
	}
	siommu_mutex_unlock(&iommu->lock);
	siommu_mutex_unlock(&iommu->layers_lock);
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
	core_layers_fini(iommu);
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

/* Add @n at the tail of @head for lock-free walkers.  Holds iommu->lock. */
static void dev_list_add_rcu(struct cds_list_head *n, struct cds_list_head *head)
{
	n->next = head;
	n->prev = head->prev;
	/* @n's fields (and the device's) before it is reachable. */
	siommu_store_release(&head->prev->next, n);
	head->prev = n;
}

/* Unlink @e; a walker standing on it still finds its successor. */
static void dev_list_del_rcu(struct cds_list_head *e)
{
	e->next->prev = e->prev;
	siommu_store_release(&e->prev->next, e->next);
}

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
	dev->serial = core_device_serial_next();
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
	siommu_mutex_init(&dev->attach_lock, "core.attach", SIOMMU_RANK_CORE_ATTACH);

	siommu_mutex_lock(&iommu->lock);
	cds_list_for_each_entry(d, &iommu->devices, node) {
		if (d->rid == rid) {
			siommu_mutex_unlock(&iommu->lock);
			siommu_mutex_destroy(&dev->attach_lock);
			siommu_mutex_destroy(&dev->lock);
			siommu_free(dev->pasid_dir);
			siommu_free(dev);
			return -EEXIST;
		}
	}
	dev_list_add_rcu(&dev->node, &iommu->devices);
	iommu->nr_devices++;
	siommu_mutex_unlock(&iommu->lock);
	*out = dev;
	return 0;
}

static bool dev_priv_set(struct siommu_device *dev)
{
	unsigned int i;

	for (i = 0; i < SIOMMU_LAYERS_MAX; i++)
		if (siommu_load_acquire(&dev->priv[i]))
			return true;
	return false;
}

SIOMMU_API int siommu_device_destroy(struct siommu_device *dev)
{
	struct siommu_iommu *iommu;
	uint32_t i;

	if (!dev)
		return 0;
	if (siommu_rcu_read_ongoing() || core_in_layer_callback())
		return -EDEADLK;
	iommu = dev->iommu;
	/* Not while an attach protocol of @dev runs (it may be attaching). */
	siommu_mutex_lock(&dev->attach_lock);
	siommu_mutex_lock(&iommu->lock);
	siommu_mutex_lock(&dev->lock);
	if (dev->domain || dev->nr_pasids || dev_priv_set(dev)) {
		siommu_mutex_unlock(&dev->lock);
		siommu_mutex_unlock(&iommu->lock);
		siommu_mutex_unlock(&dev->attach_lock);
		return -EBUSY;
	}
	dev_list_del_rcu(&dev->node);
	iommu->nr_devices--;
	siommu_mutex_unlock(&dev->lock);
	siommu_mutex_unlock(&iommu->lock);
	siommu_mutex_unlock(&dev->attach_lock);

	/* A translate that loaded a PASID leaf, or a find, may still read it. */
	siommu_rcu_synchronize();
	for (i = 0; i < dev->pasid_dir_len; i++)
		siommu_free(dev->pasid_dir[i]);
	siommu_free(dev->pasid_dir);
	siommu_mutex_destroy(&dev->attach_lock);
	siommu_mutex_destroy(&dev->lock);
	siommu_free(dev);
	return 0;
}

SIOMMU_API struct siommu_device *siommu_device_find(struct siommu_iommu *iommu,
						    uint32_t rid)
{
	struct siommu_device *d, *found = NULL;
	struct cds_list_head *p;

	if (!iommu)
		return NULL;
	/* Lock-free: callers may be inside their own read-side section. */
	siommu_rcu_read_lock();
	for (p = siommu_load_acquire(&iommu->devices.next); p != &iommu->devices;
	     p = siommu_load_acquire(&p->next)) {
		d = caa_container_of(p, struct siommu_device, node);
		if (d->rid == rid) {
			found = d;
			break;
		}
	}
	siommu_rcu_read_unlock();
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
