/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu core: the IOMMU instance, devices, PASIDs, domains,
 * attach/detach/replace, translation, DMA, strict and lazy unmap, and the
 * unrecoverable-fault log.
 *
 * Objects:
 *  - struct siommu_iommu: one IOMMU with its capabilities and its IOTLB.
 *    Created from a context, which it holds busy.
 *  - struct siommu_device: an endpoint behind the IOMMU, named by its
 *    requester id (PCI segment/bus/device/function), with capabilities
 *    (PASID, PRI, ATS, page response needs PASID).
 *  - struct siommu_domain: what a device (or a device and PASID) is
 *    attached to: BLOCKED (every access faults), IDENTITY (address out =
 *    address in) or PAGING (an I/O page table of a chosen format, with a
 *    domain id that tags its IOTLB entries).
 *
 * Concurrency, in one paragraph: attachments are RCU pointers.  Attach,
 * detach and replace change them under the device's lock; translate and
 * the DMA helpers read them lock-free inside one RCU read-side section, so
 * a concurrent DMA sees the old domain or the new one, never a freed one (a
 * domain is freed only after a grace period).  Map and unmap of disjoint
 * ranges of one domain run concurrently with no domain-wide lock (with a
 * memory map, a per-domain lock serializes maps and unmaps of the domain
 * against each other and against revocation, and guards the mapping
 * records it needs).  No function of this header waits for a grace period
 * while holding a lock a reader may take: the locks it takes may be taken
 * by a caller inside a read-side section, except the device's attach
 * mutex, which attach, replace and detach may hold across a grace period and
 * which they refuse to take inside a section (-EDEADLK).
 *
 * Translations outlive nothing: the address siommu_translate_rcu() returns
 * is valid only inside the read-side section it was obtained in.  The DMA
 * helpers hold one section across translate and copy.  Strict unmap
 * (the default) returns only when no DMA can reach the old memory any more.
 *
 * PASIDs: PASID 0 stands for "no PASID" (requests without a PASID use the
 * device's own attachment, as Linux's IOMMU_NO_PASID); PASIDs 1 ..
 * 2^pasid_bits - 1 are attachable when both the IOMMU and the device
 * support them.
 */
#ifndef SOFTIOMMU_CORE_H
#define SOFTIOMMU_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softiommu/base.h>
#include <softiommu/mem.h>
#include <softiommu/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siommu_iommu;
struct siommu_device;
struct siommu_domain;

#define SIOMMU_NO_PASID		0u
#define SIOMMU_PASID_BITS_MAX	20u

/* ------------------------------------------------------------------ iommu */

/*
 * The IOMMU's IOTLB capacity by default: room for a run entry (a cached run
 * of contiguous 4 KiB pages) for each of 1024 mapped regions besides the
 * page entries (docs/modules/core.md, Translate; measured in bench hotpath).
 */
#define SIOMMU_IOMMU_DEFAULT_IOTLB_CAPACITY	2048u

struct siommu_iommu_caps {
	uint64_t pgsize_bitmap;		/* 0: 4K | 2M | 1G */
	unsigned int ias_lg2;		/* input (IOVA) width; 0: 48 */
	unsigned int oas_lg2;		/* output (physical) width; 0: 52 */
	unsigned int pasid_bits;	/* 0: no PASID support; at most 20 */
	uint32_t iotlb_capacity;	/* entries; 0: SIOMMU_IOMMU_DEFAULT_IOTLB_CAPACITY */
	uint32_t iotlb_ways;		/* 0: the IOTLB default */
	uint32_t fault_log_size;	/* records kept; 0: 256 */
	uint32_t fault_rate;		/* records logged per second; 0: 100 */
	uint32_t prq_size;		/* page-request queue entries (for PRI, used by
					 * the iopf layer): a power of two; 0: 256 */
};

/**
 * siommu_iommu_create() - Create an IOMMU.
 * @ctx: held busy until siommu_iommu_destroy().
 * @caps: capabilities; NULL for the defaults (every field 0).
 * @mem: the memory map DMA reaches (RAM by memcpy, MMIO by callback), or
 *       NULL: output addresses are then host addresses of RAM the caller
 *       keeps valid (host use), and DMA copies with memcpy.  A memory map
 *       must outlive the IOMMU.
 * Context: any thread.
 * Returns: 0; -EINVAL (NULL @ctx or @out, a width out of 32..64 (ias) or
 *          32..52 (oas), pasid_bits above 20, page sizes without 4 KiB or
 *          outside 4K|2M|1G, a bad IOTLB geometry, fault_log_size above
 *          65536, prq_size not a power of two or above 65536); -ENOMEM.
 */
SIOMMU_API int siommu_iommu_create(struct siommu_ctx *ctx,
				   const struct siommu_iommu_caps *caps,
				   struct siommu_mem *mem,
				   struct siommu_iommu **out);

/**
 * siommu_iommu_destroy() - Destroy an IOMMU.
 * Context: any thread, outside a read-side section and outside revoke
 *          notifiers; no other thread uses @iommu.  NULL returns 0.
 * Returns: 0, -EBUSY (nothing done) while devices, domains or layers
 *          live, or -EDEADLK (called from a revoke notifier: nothing done).
 */
SIOMMU_API int siommu_iommu_destroy(struct siommu_iommu *iommu);

/**
 * siommu_iommu_get_caps() - The effective capabilities (defaults filled in).
 * Context: any thread.  Returns: 0 or -EINVAL.
 */
SIOMMU_API int siommu_iommu_get_caps(struct siommu_iommu *iommu,
				     struct siommu_iommu_caps *out);

/* ------------------------------------------------------------------ devices */

/* Requester id: segment << 16 | bus << 8 | device << 3 | function. */
#define SIOMMU_RID(seg, bus, dev, fn)					\
	((uint32_t)(seg) << 16 | (uint32_t)(bus) << 8 |			\
	 ((uint32_t)(dev) & 0x1f) << 3 | ((uint32_t)(fn) & 7))

/* Device capability flags. */
#define SIOMMU_DEV_PASID	(1u << 0)	/* can issue requests with a PASID */
#define SIOMMU_DEV_PRI		(1u << 1)	/* page request interface */
#define SIOMMU_DEV_ATS		(1u << 2)	/* address translation services */
#define SIOMMU_DEV_PRG_RESP_PASID (1u << 3)	/* page responses must carry the PASID */
#define SIOMMU_DEV_FLAGS_MASK	0xfu

struct siommu_device_info {
	uint32_t rid;
	unsigned int flags;		/* SIOMMU_DEV_* */
	unsigned int pasid_bits;	/* usable PASID width: min(device, IOMMU); 0: none */
	bool attached;			/* the no-PASID attachment is set */
	uint32_t nr_pasids;		/* PASIDs attached */
};

/**
 * siommu_device_create() - Add a device behind @iommu.
 * @rid: requester id (SIOMMU_RID()), unique in @iommu; at most 24 bits.
 * @flags: SIOMMU_DEV_*; PRG_RESP_PASID needs PRI and PASID.
 * @pasid_bits: the device's PASID width (1..20) if SIOMMU_DEV_PASID, else 0.
 * Context: any thread, outside a read-side section (takes iommu->lock).
 *          The device starts unattached: its DMA faults (no domain) until
 *          it is attached.
 * Returns: 0; -EINVAL (NULL pointer, bad rid, flags or width); -EEXIST (a
 *          device with @rid exists); -EOPNOTSUPP (PASID on an IOMMU without
 *          PASID support); -ENOMEM.
 */
SIOMMU_API int siommu_device_create(struct siommu_iommu *iommu, uint32_t rid,
				    unsigned int flags, unsigned int pasid_bits,
				    struct siommu_device **out);

/**
 * siommu_device_destroy() - Remove a device.
 * Context: any thread, outside a read-side section (waits for a grace
 *          period) and outside layer callbacks; no DMA may be started on
 *          @dev any more.  Waits for an attach, replace or detach of @dev
 *          in progress.  NULL returns 0.
 * Returns: 0; -EBUSY (nothing done) while it or any of its PASIDs is
 *          attached, or while a layer's private data is set on it
 *          (siommu_device_set_priv()); -EDEADLK (inside a read-side section
 *          or a layer callback: nothing done).
 */
SIOMMU_API int siommu_device_destroy(struct siommu_device *dev);

/**
 * siommu_device_find() - The device of @rid, or NULL.
 * Context: any thread, inside or outside a read-side section; lock-free (an
 *          RCU walk of the device list: it takes no lock).  The result is
 *          valid until the device is destroyed; inside a read-side section
 *          it stays valid until the section ends even if the device is
 *          destroyed meanwhile (destroy waits for a grace period).
 */
SIOMMU_API struct siommu_device *siommu_device_find(struct siommu_iommu *iommu,
						    uint32_t rid);

/**
 * siommu_device_get_info() - Describe @dev.
 * Context: any thread, inside or outside a read-side section (takes the
 *          device's lock, which is never held across a grace period).
 * Returns: 0 or -EINVAL.
 */
SIOMMU_API int siommu_device_get_info(struct siommu_device *dev,
				      struct siommu_device_info *out);

/* ------------------------------------------------------------------ domains */

enum siommu_domain_type {
	SIOMMU_DOMAIN_BLOCKED = 1,
	SIOMMU_DOMAIN_IDENTITY,
	SIOMMU_DOMAIN_PAGING,
};

enum siommu_unmap_mode {
	SIOMMU_UNMAP_STRICT = 0,	/* unmap returns when no DMA can use the old translation */
	SIOMMU_UNMAP_LAZY,		/* invalidation deferred to a flush queue */
};

struct siommu_domain_cfg {
	enum siommu_domain_type type;
	/* PAGING only: */
	enum siommu_pt_fmt fmt;
	unsigned int levels;		/* 0: the format's default */
	unsigned int pt_flags;		/* SIOMMU_PT_F_* */
	uint64_t table_phys_base;	/* see struct siommu_pt_cfg; 0: host addresses */
	enum siommu_unmap_mode unmap_mode;
	uint32_t fq_batch;		/* LAZY: drain when this many unmaps wait; 0: 256 */
	uint32_t fq_timeout_ms;		/* LAZY: drain when the oldest waited this long; 0: 10 */
	/*
	 * PAGING: an existing table to translate through instead of a new
	 * one (fmt, levels, pt_flags and table_phys_base are then ignored):
	 * not owned by the domain, it must outlive it (the domain holds it:
	 * siommu_pt_hold()).  Whoever changes it
	 * directly (an SVA or mirror layer) calls siommu_domain_invalidate()
	 * after each change, as a driver flushes the IOTLB.
	 */
	struct siommu_pt *pt;
	/*
	 * PAGING, when the domain makes its own table (@pt NULL; ignored
	 * with @pt): the size in pages of the table's pool, as
	 * siommu_pt_cfg.max_table_pages (0: pgtable's default, 131072 pages =
	 * 512 MiB of address space reserved; 1..2^26).  A map that needs a
	 * table page beyond it fails with -ENOMEM.  Out of range: -EINVAL.
	 */
	uint64_t max_table_pages;
};

struct siommu_domain_info {
	enum siommu_domain_type type;
	uint32_t domid;			/* PAGING: the IOTLB tag; else 0 */
	unsigned int ias_lg2;		/* IOVAs are below 1 << ias_lg2 */
	enum siommu_unmap_mode unmap_mode;
	uint32_t users;			/* attachments (device or device+PASID), plus attach
					 * protocols in progress holding it as their new domain */
	uint64_t fq_pending;		/* LAZY: unmaps waiting in the flush queue */
};

/**
 * siommu_domain_create() - Create a domain.
 * A PAGING domain gets an empty page table of @cfg->fmt (or uses @cfg->pt,
 * counted as a user of it: siommu_pt_destroy() of it is -EBUSY until this
 * domain is destroyed), limited to the IOMMU's page sizes and address
 * widths, and a domain id: the lowest free one of 1..65535.  Ids are
 * reused only after the destroy of their domain dropped its IOTLB entries
 * and a grace period ended every walk of it.
 * Context: any thread.
 * Returns: 0; -EINVAL (NULL pointer, unknown type, format, mode, or a page
 *          table configuration the format refuses); -ERANGE (the table's
 *          addresses do not fit the IOMMU's output width); -ENOSPC (65535
 *          PAGING domains live); -EAGAIN (the flusher thread of the first
 *          LAZY domain could not be started); -ENOMEM.
 */
SIOMMU_API int siommu_domain_create(struct siommu_iommu *iommu,
				    const struct siommu_domain_cfg *cfg,
				    struct siommu_domain **out);

/**
 * siommu_domain_destroy() - Destroy a domain: wait until the flusher and
 * the revoke notifier are done with it, drain its flush queue, wait for a
 * grace period (DMA that read the domain before its last detach has
 * finished), drop its IOTLB entries, free its page table (or stop using a
 * caller-owned one: see siommu_pt_hold()), then release its domain id for
 * reuse.  Never fails for lack of memory.
 * Context: any thread, outside a read-side section; no map or unmap of
 *          @dom runs concurrently; not from @dom's revocation owner
 *          callback.  NULL returns 0.
 * Returns: 0, or -EBUSY (nothing done) while attached anywhere, held by
 *          an attach protocol in progress (the old or new domain of a change
 *          whose layer callbacks run), or while a layer's private data is
 *          set on it (siommu_domain_set_priv()); -EDEADLK inside a read-side
 *          section (nothing done).
 */
SIOMMU_API int siommu_domain_destroy(struct siommu_domain *dom);

/** siommu_domain_get_info() - Describe @dom.  Returns 0 or -EINVAL. */
SIOMMU_API int siommu_domain_get_info(struct siommu_domain *dom,
				      struct siommu_domain_info *out);

/**
 * siommu_domain_pt() - The page table of a PAGING domain (NULL otherwise),
 * for walks, dumps and dirty tracking.  Map and unmap through the
 * domain functions below, so that the IOTLB is kept coherent.
 */
SIOMMU_API struct siommu_pt *siommu_domain_pt(struct siommu_domain *dom);

/**
 * siommu_domain_type_name() - "blocked", "identity", "paging" or NULL.
 * siommu_domain_type_parse() - The inverse.  Returns: 0 or -EINVAL.
 */
SIOMMU_API const char *siommu_domain_type_name(enum siommu_domain_type type);
SIOMMU_API int siommu_domain_type_parse(const char *name,
					enum siommu_domain_type *type);

/* ------------------------------------------------------------------ attach */

/*
 * Attach, replace and detach of (device, PASID) run one protocol, with the
 * layers registered on the IOMMU (siommu_layer_register() below):
 *
 *   1. the target domain is held (siommu_domain_destroy() of it is -EBUSY
 *      from now; a dying domain makes the call fail with -ENOENT);
 *   2. prepare of every layer, in registration order; one that refuses
 *      (a negative errno) stops the protocol: abort of every layer whose
 *      prepare succeeded, in reverse order, and the call returns that
 *      errno with nothing changed (attachment, user counts, DMA through
 *      the old domain);
 *   3. the switch: one store; concurrent DMA sees the old domain or the
 *      new one, never a gap;
 *   4. if there was an old domain and a layer will commit (it has a commit
 *      step and its prepare did not return SIOMMU_LAYER_NO_COMMIT): a grace
 *      period, so that no translation, DMA piece or fault-handler call that
 *      loaded the old attachment of (device, PASID) is still running;
 *   5. commit of every layer that will commit, in registration order;
 *   6. the old domain's attachment count is dropped.
 *
 * The whole protocol is serialised per device (every PASID of a device and
 * its own attachment share one mutex that no reader takes), so the layers
 * see each (device, PASID)'s changes one at a time, in order, as a chain
 * (the new domain of one change is the old domain of the next), and both
 * domains stay alive until it ends.  Callbacks run with no core lock held
 * that a reader, a DMA or a fault handler takes: they may block, allocate,
 * map and unmap, and wait for grace periods.  They must not attach,
 * replace or detach any device or PASID, destroy a device or unregister a
 * layer (those calls return -EDEADLK from a callback).
 *
 * Because callbacks and step 4 may wait for grace periods, attach, replace
 * and detach are refused with -EDEADLK inside a read-side section.
 */

/**
 * siommu_device_attach() - Attach @dev (requests without PASID) to @dom.
 * Context: any thread, outside a read-side section and outside layer
 *          callbacks; may block (the device's attach mutex, the layers'
 *          callbacks, a grace period).  Concurrent DMA sees either no
 *          domain or @dom.
 * Returns: 0; -EINVAL (NULL pointer, @dom of another IOMMU); -EEXIST
 *          (already attached: use replace); -ENOENT (@dom is being
 *          destroyed); -EDEADLK (inside a read-side section or a layer
 *          callback); a layer's prepare error: the ioas layer's fill of an
 *          IOAS domain (-ENOSPC, -EINVAL, or its maps' errors, which are
 *          as siommu_domain_map()), the iopf layer's -EBUSY (the domain's
 *          handler is being removed).  On error nothing changed.
 */
SIOMMU_API int siommu_device_attach(struct siommu_device *dev,
				    struct siommu_domain *dom);

/**
 * siommu_device_replace() - Switch @dev from its domain (or none) to @dom
 * in one step: concurrent DMA sees the old domain or @dom, never a gap.
 * Replacing a domain by itself is a no-op (no layer is called).
 * Context and Returns: as siommu_device_attach(), without -EEXIST.
 */
SIOMMU_API int siommu_device_replace(struct siommu_device *dev,
				     struct siommu_domain *dom);

/**
 * siommu_device_detach() - Detach @dev: its DMA faults (no domain) from now.
 * DMA that started before may still complete through the old domain; the
 * domain is not freed under it.
 * Context: as siommu_device_attach().
 * Returns: 0; -EINVAL (@dev NULL); -ENOENT (not attached); -EDEADLK; a
 *          layer's prepare error (nothing changed).
 */
SIOMMU_API int siommu_device_detach(struct siommu_device *dev);

/**
 * siommu_pasid_attach() - Attach (@dev, @pasid) to @dom.
 * siommu_pasid_replace() - Switch it atomically, as siommu_device_replace().
 * siommu_pasid_detach() - Detach it.
 * Context: as the device functions.
 * Returns: as the device functions, plus -EINVAL for @pasid 0 or at or above
 *          2^pasid_bits of the device, -EOPNOTSUPP if @dev has no PASID
 *          capability, and (attach, replace) -ENOMEM when the first
 *          attachment in a block of 1024 PASIDs cannot allocate its PASID
 *          table leaf (nothing changed).
 */
SIOMMU_API int siommu_pasid_attach(struct siommu_device *dev, uint32_t pasid,
				   struct siommu_domain *dom);
SIOMMU_API int siommu_pasid_replace(struct siommu_device *dev, uint32_t pasid,
				    struct siommu_domain *dom);
SIOMMU_API int siommu_pasid_detach(struct siommu_device *dev, uint32_t pasid);

/**
 * siommu_device_domain() - The domain (@dev, @pasid) is attached to, or NULL.
 * Context: any thread, inside or outside a read-side section; lock-free.
 *          The answer may be stale as soon as it is returned; inside a
 *          read-side section the domain stays valid until the section ends.
 */
SIOMMU_API struct siommu_domain *siommu_device_domain(struct siommu_device *dev,
						      uint32_t pasid);

/* One attachment of a device: SIOMMU_NO_PASID for its own. */
struct siommu_attachment {
	uint32_t pasid;
	struct siommu_domain *dom;
};

/**
 * siommu_device_get_attachments() - Snapshot @dev's attachments: its own
 * first (pasid SIOMMU_NO_PASID) if attached, then its PASIDs in ascending
 * order.  Fills @out with at most @max of them.
 * Context: any thread, inside or outside a read-side section (takes the
 *          device's lock, never held across a grace period).  A snapshot:
 *          stale as soon as it is returned, unless the caller keeps the
 *          device's attachments from changing (e.g. from a layer callback of
 *          this device, where it shows the state before the switch in
 *          prepare and abort, and after it in commit).
 * Returns: the number of attachments (>= 0; may exceed @max: only @max are
 *          written), or -EINVAL (@dev NULL, @out NULL with @max > 0).
 */
SIOMMU_API int siommu_device_get_attachments(struct siommu_device *dev,
					     struct siommu_attachment *out,
					     unsigned int max);

/* ------------------------------------------------------------------ layers */

/* Layers an IOMMU can have registered at once. */
#define SIOMMU_LAYERS_MAX	8u

enum siommu_attach_op {
	SIOMMU_ATTACH_OP_ATTACH = 1,	/* siommu_*_attach(): old_dom is NULL */
	SIOMMU_ATTACH_OP_REPLACE,	/* siommu_*_replace(): old_dom may be NULL */
	SIOMMU_ATTACH_OP_DETACH,	/* siommu_*_detach(): new_dom is NULL */
};

/* The change a layer is told about; valid during the callback only. */
struct siommu_attach_change {
	struct siommu_device *dev;
	uint32_t pasid;			/* SIOMMU_NO_PASID: the device's own attachment */
	enum siommu_attach_op op;
	struct siommu_domain *old_dom;	/* attached before; NULL: none */
	struct siommu_domain *new_dom;	/* attached after; NULL: detach */
};

/*
 * A layer's prepare may return this (instead of 0) when the change is none
 * of its business: prepared, but its @commit is not called for this change,
 * and no grace period is waited for it (an attach of a device that does
 * not use the layer, a detach from a domain the layer does not own, is then
 * not slowed down by the layer's existence).  @abort is still called if a
 * later layer refuses.
 */
#define SIOMMU_LAYER_NO_COMMIT	1

/*
 * A layer's steps of the attach protocol (above); each may be NULL.
 * @prepare: before the switch, with the old domain still attached and the
 *           new one held.  Returns 0; SIOMMU_LAYER_NO_COMMIT (above); or a
 *           negative errno (from the error table) to refuse: nothing
 *           changes, the layers prepared before get @abort (any other
 *           positive value is a broken layer's and refuses with -EINVAL).
 *           The ioas layer fills the new domain's table here
 *           (refusing -EINVAL/-ENOSPC when its aperture or page sizes cannot
 *           hold an area); the iopf layer sets up the new domain's fault
 *           state.
 * @commit:  after the switch (and, with an old domain, after a grace
 *           period: nothing can use the old attachment any more), unless
 *           @prepare returned SIOMMU_LAYER_NO_COMMIT.  Cannot fail.  The iopf layer drains here: pending page requests of the
 *           old domain for (dev, pasid) are answered INVALID, its partial
 *           groups discarded, late responses dropped.
 * @abort:   undo what @prepare did, when a later layer's prepare refused.
 *           Called only for the layers before the refusing one (whose
 *           prepare returned 0 or is NULL), in reverse order.  Cannot fail.
 * Context of all three: the thread that called attach/replace/detach, with
 * the device's attach mutex held (rank CORE_ATTACH, outermost of the core)
 * and no other core lock; outside any read-side section.
 */
struct siommu_layer_ops {
	const char *name;		/* for messages; may be NULL */
	int (*prepare)(void *opaque, const struct siommu_attach_change *c);
	void (*commit)(void *opaque, const struct siommu_attach_change *c);
	void (*abort)(void *opaque, const struct siommu_attach_change *c);
};

struct siommu_layer;

/**
 * siommu_layer_register() - Register a layer on @iommu: its @ops (copied;
 * the name string is not, it must outlive the layer) take part in every attach protocol that starts after this returns, after
 * the layers registered before it (prepare, commit) and before them
 * (abort).  The layer also gets a slot of private data on every device and
 * domain of @iommu (siommu_device_set_priv(), siommu_domain_set_priv()).
 * Context: any thread, outside a read-side section and layer callbacks.
 * Returns: 0 with *@out set; -EINVAL (NULL @iommu, @ops or @out);
 *          -ENOSPC (SIOMMU_LAYERS_MAX layers registered); -EDEADLK;
 *          -ENOMEM.
 */
SIOMMU_API int siommu_layer_register(struct siommu_iommu *iommu,
				     const struct siommu_layer_ops *ops,
				     void *opaque, struct siommu_layer **out);

/**
 * siommu_layer_unregister() - Remove a layer: no protocol starting after
 * this calls it; waits until the protocols that already included it have
 * ended; frees @layer.  An IOMMU with layers cannot be destroyed (-EBUSY).
 * Context: any thread, outside a read-side section and layer callbacks
 *          (-EDEADLK); may block.  NULL returns 0.
 * Returns: 0; -EBUSY (nothing done) while the layer's private data is set
 *          on a device or domain; -EDEADLK.
 */
SIOMMU_API int siommu_layer_unregister(struct siommu_layer *layer);

/**
 * siommu_device_set_priv() / siommu_domain_set_priv() - Set @layer's
 * private data on @dev / @dom (NULL clears it).  The core never reads or
 * frees it; the layer clears it before it unregisters (and before the
 * device or domain is destroyed: a device or domain with private data
 * refuses destroy with -EBUSY).
 * siommu_device_get_priv() / siommu_domain_get_priv() - Read it (NULL if
 * unset or on bad arguments).
 * Context: any thread, inside or outside a read-side section; lock-free (a
 *          release store and an acquire load: a reader that sees the
 *          pointer sees what was written before it was set).
 * Returns (set): 0, or -EINVAL (NULL object or layer, or a layer of
 *          another IOMMU).
 */
SIOMMU_API int siommu_device_set_priv(struct siommu_device *dev,
				      struct siommu_layer *layer, void *priv);
SIOMMU_API void *siommu_device_get_priv(struct siommu_device *dev,
					struct siommu_layer *layer);
SIOMMU_API int siommu_domain_set_priv(struct siommu_domain *dom,
				      struct siommu_layer *layer, void *priv);
SIOMMU_API void *siommu_domain_get_priv(struct siommu_domain *dom,
					struct siommu_layer *layer);

/* ------------------------------------------------------------------ map/unmap */

/**
 * siommu_domain_map() - Map [iova, iova + size - 1] to [pa, pa + size - 1]
 * in a PAGING domain, with SIOMMU_PT_* permissions @prot.  With a memory
 * map, a range touching a revoked region is refused, and the mapping is
 * recorded (unless the domain has a revocation owner) so that a revoke
 * finds it: a map racing a revoke either fails with -ENODEV or is torn
 * down by it before the revoke returns.
 * Context: any thread, also inside a read-side section; concurrent with
 *          maps and unmaps of disjoint ranges.  Without a memory map
 *          lock-free; with one it takes the domain's maps_lock (maps of one
 *          domain are serialized).
 * Returns: as siommu_pt_map() (0, -EINVAL, -ERANGE, -EEXIST, -ENOMEM), plus
 *          -EINVAL for a domain that is not PAGING and -ENODEV (part of the
 *          range is in a revoked region).  On error nothing is mapped (after
 *          an -EEXIST from a concurrent overlapping writer the IOTLB is
 *          invalidated for the range).  Emits a "map" event.
 */
SIOMMU_API int siommu_domain_map(struct siommu_domain *dom, uint64_t iova,
				 uint64_t pa, uint64_t size, unsigned int prot);

/**
 * siommu_domain_unmap() - Remove the mappings in [iova, iova + size - 1].
 * STRICT domains: clear the entries, invalidate the IOTLB, wait for a grace
 * period (every DMA that may still hold an old translation has finished),
 * free the table pages, return.  When it returns, no DMA can reach the old
 * memory: the caller may free or reuse it.
 * LAZY domains: clear the entries and queue the invalidation and the table
 * pages in the domain's flush queue; a DMA may use the old translation
 * until the queue is drained (by count, by time, or siommu_domain_flush()).
 * Context: any thread, outside a read-side section (STRICT waits for a grace
 *          period; LAZY may drain, which does not wait); holding no lock a
 *          reader takes.  Takes the domain's maps_lock with a memory map.
 * Never fails for lack of memory: nothing it needs is allocated here (a
 * mapping record it covers partly keeps a hole; LAZY: if no queue entry is
 * at hand and none can be allocated, the unmap is done strictly).
 * Returns: the bytes unmapped (>= 0), or as siommu_pt_unmap() (-EINVAL,
 *          -ERANGE), -EINVAL for a domain that is not PAGING, -EDEADLK
 *          inside a read-side section.  Emits an "unmap" event.
 */
SIOMMU_API int64_t siommu_domain_unmap(struct siommu_domain *dom, uint64_t iova,
				       uint64_t size);

/**
 * siommu_domain_flush() - Drain a LAZY domain's flush queue now: invalidate
 * the IOTLB for what it holds and queue the table pages for freeing after a
 * grace period.  No-op for other domains.
 * Context: any thread, outside a read-side section.
 * Returns: 0, -EINVAL or -EDEADLK (inside a read-side section).
 */
SIOMMU_API int siommu_domain_flush(struct siommu_domain *dom);

/**
 * siommu_domain_dma_map() - Map @size bytes at @pa at an IOVA allocated from
 * the domain's IOVA space (like the DMA API over dma-iommu): size-aligned,
 * the highest free place at or below @limit.
 * The space's aperture is [4 KiB, 2^ias - 1] of the domain; ranges mapped
 * with siommu_domain_map() are not known to it (mixing the two in one range
 * gives -EEXIST).
 * Context: any thread; takes the domain's maps_lock briefly (to record the
 *          mapping for siommu_domain_dma_unmap()), and as siommu_domain_map().
 * Returns: 0 with *@iova set; -EINVAL (not PAGING, NULL pointer, size 0,
 *          @pa not 4 KiB aligned, bad @prot); -ERANGE; -ENOSPC (no IOVA
 *          left below @limit); -EEXIST; -ENODEV (a revoked region, with a
 *          memory map); -ENOMEM.  On error nothing changed.
 */
SIOMMU_API int siommu_domain_dma_map(struct siommu_domain *dom, uint64_t pa,
				     uint64_t size, unsigned int prot,
				     uint64_t limit, uint64_t *iova);

/**
 * siommu_domain_dma_unmap() - Unmap what siommu_domain_dma_map() mapped at
 * @iova, all of it (@size must be the size given to dma_map: a partial
 * dma_unmap is refused), and release the IOVA: STRICT after the
 * invalidation and the grace period, before returning; LAZY when the flush
 * queue drains, after the invalidation (so the IOVA is not reused while the
 * IOTLB may still translate it).  The first dma_unmap claims the mapping:
 * a second one of the same IOVA, racing or late, is refused until the IOVA
 * is handed out again by a later dma_map; the release frees exactly the
 * allocation of the mapping unmapped, never a later owner's.  (An IOVA is
 * only a number: after it was handed out again, an unmap of it is the new
 * owner's.)  Never fails for lack of memory.
 * Context: as siommu_domain_unmap().
 * Returns: the bytes unmapped, -EINVAL (not PAGING; @iova is not a
 *          dma_map mapping, or its unmap already started; @size differs
 *          from the mapping's; nothing done), -EDEADLK.
 */
SIOMMU_API int64_t siommu_domain_dma_unmap(struct siommu_domain *dom,
					   uint64_t iova, uint64_t size);

/*
 * A revocation owner's callback: @dom had, or may have, mappings into the
 * revoked physical range [pa, pa + size - 1] made by the owner.  Called by
 * the revoke of a memory-map region (once per region and domain), with no
 * core lock held, outside read-side sections; it may block, and may wait
 * for grace periods.  Before it returns it must have unmapped (with
 * siommu_domain_unmap()) every mapping it made of the range: when the
 * revoke returns, no mapping of the region may exist.  New maps of the
 * range already fail with -ENODEV when it is called.  It must not destroy
 * @dom nor revoke or destroy regions.  The owner keeps its own records of
 * what it mapped; it must update them and call siommu_domain_map() under
 * one lock of its own that this callback also takes, so that a map it is
 * recording is either seen here or refused (-ENODEV).
 */
typedef void siommu_domain_revoke_fn(void *opaque, struct siommu_domain *dom,
				     uint64_t pa, uint64_t size);

/**
 * siommu_domain_set_revoke_owner() - Make @fn(@opaque, ...) the owner of
 * every mapping of @dom: core records none of them, and a revoke calls @fn
 * (see siommu_domain_revoke_fn) instead of tearing them down itself.  For a
 * layer that owns its mappings and must notify its own users (ioas access
 * objects).  Set once, before the first successful map; meaningful only
 * with a memory map.
 * Context: any thread; takes the domain's maps_lock.
 * Returns: 0; -EINVAL (@dom NULL or not PAGING, @fn NULL); -EBUSY (an owner
 *          is set already, or the domain has mapped something: nothing
 *          changed).
 */
SIOMMU_API int siommu_domain_set_revoke_owner(struct siommu_domain *dom,
					      siommu_domain_revoke_fn *fn,
					      void *opaque);

/* siommu_domain_invalidate() flags */
#define SIOMMU_INVAL_WAIT	(1u << 0)	/* also wait for a grace period */

/**
 * siommu_domain_invalidate() - Drop the IOTLB's translations of
 * [iova, iova + size - 1] for a PAGING domain (every PASID), after its
 * table was changed behind the core's back (a table given in
 * siommu_domain_cfg.pt).  With SIOMMU_INVAL_WAIT, also wait until no DMA
 * that may hold an old translation is still copying: then the old memory
 * may be reused, as after a strict unmap.
 * Context: any thread; with SIOMMU_INVAL_WAIT outside a read-side section.
 * Returns: 0; -EINVAL (not PAGING, size 0, the range wraps, unknown flag);
 *          -EDEADLK (WAIT inside a read-side section: nothing done).
 */
SIOMMU_API int siommu_domain_invalidate(struct siommu_domain *dom, uint64_t iova,
					uint64_t size, unsigned int flags);

/* ------------------------------------------------------------------ translate */

/* Access types (the SIOMMU_PT_ACC_* values). */
#define SIOMMU_ACC_READ		SIOMMU_PT_ACC_READ
#define SIOMMU_ACC_WRITE	SIOMMU_PT_ACC_WRITE
#define SIOMMU_ACC_EXEC		SIOMMU_PT_ACC_EXEC
#define SIOMMU_ACC_PRIV		SIOMMU_PT_ACC_PRIV
#define SIOMMU_ACC_MASK		0xfu

enum siommu_fault_reason {
	SIOMMU_FAULT_NONE = 0,
	SIOMMU_FAULT_NO_DOMAIN,		/* -ENODATA: nothing attached */
	SIOMMU_FAULT_BLOCKED,		/* -EPERM: attached to a BLOCKED domain */
	SIOMMU_FAULT_OUT_OF_RANGE,	/* -ERANGE: beyond the input or output width */
	SIOMMU_FAULT_NOT_PRESENT,	/* -ENOENT: no mapping */
	SIOMMU_FAULT_PERMISSION,	/* -EACCES: the mapping does not allow the access */
	SIOMMU_FAULT_BAD_ADDRESS,	/* -EFAULT / -ENODEV: DMA only, the output address reaches no memory */
	SIOMMU_FAULT_NR
};

struct siommu_translation {
	uint64_t pa;			/* output address of the iova */
	unsigned int prot;		/* SIOMMU_PT_* permissions granted */
	unsigned int pgsize_lg2;	/* page size of the translation (12, 21, 30; identity: 12) */
	bool iotlb_hit;
	enum siommu_fault_reason reason; /* SIOMMU_FAULT_NONE on success */
};

/**
 * siommu_translate_rcu() - Translate @iova for a request of @dev with @pasid
 * and SIOMMU_ACC_* @access, as the hardware does: the attachment, then the
 * IOTLB, then a page-table walk whose result is inserted in the IOTLB.
 * Faults are not recorded in the fault log nor handed to a fault handler
 * (the DMA helpers do that).
 * Context: inside a read-side section; lock-free.  The address is valid only
 *          until the section ends (translations outlive nothing).
 * Returns: 0 (@out filled), a fault (negative errno of the reason, see
 *          enum siommu_fault_reason, with @out->reason set) or -EINVAL (NULL
 *          pointer, bad @access, @pasid above 20 bits).
 */
SIOMMU_API int siommu_translate_rcu(struct siommu_device *dev, uint32_t pasid,
				    uint64_t iova, unsigned int access,
				    struct siommu_translation *out);

/** siommu_translate() - The same, in a read-side section of its own. */
SIOMMU_API int siommu_translate(struct siommu_device *dev, uint32_t pasid,
				uint64_t iova, unsigned int access,
				struct siommu_translation *out);

/** siommu_fault_reason_name() - "no-domain", "blocked", ... or NULL. */
SIOMMU_API const char *siommu_fault_reason_name(enum siommu_fault_reason r);

/* ------------------------------------------------------------------ DMA */

/*
 * DMA goes through the IOMMU's memory map: RAM by memcpy, MMIO by callback
 * (in naturally aligned pieces of up to 8 bytes), a revoked region fails
 * with -ENODEV.  Without a memory map, output addresses are host addresses.
 */

/* One element of a scatter-gather list. */
struct siommu_dma_sg {
	uint64_t iova;
	void *buf;
	size_t len;
};

/**
 * siommu_dma_read() - Device @dev reads @len bytes at @iova (with @pasid)
 * into @buf.  siommu_dma_write() writes @buf there.
 * The transfer is split into pieces, each translated and copied inside one
 * read-side section: a page through a memory map; into host memory, a run
 * of pages whose translations continue each other (up to 1 MiB, one
 * memcpy).  A fault stops the transfer: it is
 * recorded in the fault log and returned; the pieces before it were done.
 * A translation fault (not present or permission) of a device with
 * SIOMMU_DEV_PRI in a domain with a fault handler is recoverable: it goes
 * to the handler (siommu_domain_set_fault_handler()) instead of the log.
 * Context: any thread, inside or outside a read-side section; lock-free
 *          apart from recording a fault (and what a fault handler does).
 * Returns: 0, -EAGAIN (a recoverable fault: the domain's handler issued a
 *          page request; retry the transfer from the faulting address once
 *          the request is answered), a fault (as siommu_translate_rcu()),
 *          -EFAULT (the output
 *          address reaches no memory), -ENODEV (it reaches a revoked
 *          region), an MMIO callback's error (these three are recorded as
 *          SIOMMU_FAULT_BAD_ADDRESS), or -EINVAL (NULL pointer, @len 0, the
 *          range wraps).
 */
SIOMMU_API int siommu_dma_read(struct siommu_device *dev, uint32_t pasid,
			       uint64_t iova, void *buf, size_t len);
SIOMMU_API int siommu_dma_write(struct siommu_device *dev, uint32_t pasid,
				uint64_t iova, const void *buf, size_t len);

/**
 * siommu_dma_read_sg() / siommu_dma_write_sg() - The same for @nents list
 * elements, in order.  Stops at the first fault.
 * Returns: as siommu_dma_read(); -EINVAL also for @nents 0 or a NULL list.
 */
SIOMMU_API int siommu_dma_read_sg(struct siommu_device *dev, uint32_t pasid,
				  const struct siommu_dma_sg *sg, size_t nents);
SIOMMU_API int siommu_dma_write_sg(struct siommu_device *dev, uint32_t pasid,
				   const struct siommu_dma_sg *sg, size_t nents);

/* ------------------------------------------------------------------ faults */

struct siommu_fault_record {
	uint64_t seq;			/* 1, 2, ...: order of recording */
	uint64_t ts_ns;			/* CLOCK_MONOTONIC */
	uint32_t rid;
	uint32_t pasid;			/* SIOMMU_NO_PASID for requests without */
	uint64_t iova;
	unsigned int access;		/* SIOMMU_ACC_* */
	enum siommu_fault_reason reason;
};

struct siommu_iommu_stats {
	uint64_t translations;		/* translations through paging domains (hits + walks) */
	uint64_t iotlb_hits;		/* served by the IOTLB */
	uint64_t iotlb_misses;		/* table walks */
	uint64_t faults[SIOMMU_FAULT_NR]; /* by reason, every fault of a DMA */
	uint64_t faults_logged;		/* recorded in the log */
	uint64_t faults_ratelimited;	/* not recorded: over the rate */
	uint64_t faults_overflow;	/* recorded over an older unread record */
	uint64_t dma_ops;		/* DMA calls that completed */
	uint64_t dma_read_bytes;
	uint64_t dma_write_bytes;
	uint64_t maps;
	uint64_t unmaps_strict;
	uint64_t unmaps_lazy;
	uint64_t fq_batches;		/* flush-queue drains */
	uint64_t fq_entries;		/* unmaps those drains completed */
	/* Recoverable faults (also counted in faults[] by reason): */
	uint64_t faults_recoverable;	/* handed to a domain's fault handler */
	uint64_t page_requests;		/* ... which queued a page request (DMA: -EAGAIN) */
	uint64_t faults_resolved;	/* ... which resolved them inline (translated again) */
};

/**
 * siommu_fault_log_read() - Take up to @max records from the fault log
 * (unrecoverable faults only), oldest first.  The log keeps the newest fault_log_size records: when full,
 * a new fault replaces the oldest (counted in faults_overflow).
 * Context: any thread, inside or outside a read-side section (the log's
 *          lock is a leaf).
 * Returns: the number of records taken (>= 0), or -EINVAL.
 */
SIOMMU_API int siommu_fault_log_read(struct siommu_iommu *iommu,
				     struct siommu_fault_record *out,
				     unsigned int max);

/*
 * Recoverable faults (the PCIe PRI model).  A device with SIOMMU_DEV_PRI
 * whose DMA misses a translation (SIOMMU_FAULT_NOT_PRESENT) or lacks a
 * permission (SIOMMU_FAULT_PERMISSION) in a PAGING domain with a fault
 * handler does not get an unrecoverable fault: the handler is called, as
 * the IOMMU would put a page request in its queue.  The device then waits
 * for the response and retries (PCIe: ATS translation fails, the device
 * sends a page request, waits for the PRG response, translates again).
 */
struct siommu_fault_info {
	struct siommu_device *dev;
	struct siommu_domain *dom;	/* the domain the translation used */
	uint32_t pasid;			/* SIOMMU_NO_PASID for requests without */
	uint64_t iova;			/* the faulting address (not page aligned) */
	unsigned int access;		/* SIOMMU_ACC_* */
	enum siommu_fault_reason reason; /* NOT_PRESENT or PERMISSION */
};

/* What a fault handler returns (or a negative errno: not handled). */
#define SIOMMU_IOPF_QUEUED	0	/* a page request was issued: the DMA returns -EAGAIN */
#define SIOMMU_IOPF_RESOLVED	1	/* fixed already: the DMA translates again */
#define SIOMMU_IOPF_RETRIES	4	/* RESOLVED at most this often in a row per piece */

/*
 * A domain's fault handler.  Called from the DMA helpers, inside the
 * read-side section of the faulting translation (so @f->dom and @f->dev
 * are valid during the call), with no core lock held.  It must not block
 * for long nor wait for a grace period, and may only take locks that are
 * never held across one (e.g. the iopf layer's per-device fault-list lock).
 * It may call siommu_domain_map() to resolve the fault inline.
 * Returns SIOMMU_IOPF_QUEUED, SIOMMU_IOPF_RESOLVED, or a negative errno: the
 * fault is then unrecoverable (logged; the DMA returns the fault's errno).
 * Any other value counts as not handled.
 */
typedef int siommu_fault_handler_fn(void *opaque,
				    const struct siommu_fault_info *f);

/**
 * siommu_domain_set_fault_handler() - Install (@fn non-NULL) or remove
 * (@fn NULL) the fault handler of a PAGING domain (installed by the layer
 * above that owns recoverable faults, e.g. iopf).  Removal waits for a
 * grace period: when it returns, the old handler is not running and will
 * not be called again, so its @opaque may be freed.
 * Context: any thread; removal outside a read-side section (and so never
 *          from the handler itself).
 * Returns: 0; -EINVAL (NULL @dom, not PAGING); -EBUSY (installing while a
 *          handler is installed or being removed); -ENOENT (removing with
 *          none installed); -EDEADLK (removal inside a read-side section).
 */
SIOMMU_API int siommu_domain_set_fault_handler(struct siommu_domain *dom,
					       siommu_fault_handler_fn *fn,
					       void *opaque);

/**
 * siommu_iommu_get_stats() - Sum the counters.  Context: any thread; a
 * momentary snapshot while others run.  Returns: 0 or -EINVAL.
 */
SIOMMU_API int siommu_iommu_get_stats(struct siommu_iommu *iommu,
				      struct siommu_iommu_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_CORE_H */
