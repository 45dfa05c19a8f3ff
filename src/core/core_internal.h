/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu core: internal structures shared by the core's files.
 *
 * Lock order (docs/modules/core.md; ranks in src/base/lock.h):
 *
 *	dev->attach_lock  >  iommu->layers_lock  >  iommu->lock  >  dev->lock  >  dom->lock  >  dom->maps_lock
 *	  >  dom->fq.lock  >  (iova, mem, pgtable pool locks)
 *	  >  iommu->flog.lock
 *
 * dev->attach_lock serialises the attach protocol of one device (attach.c)
 * and is held across the layers' callbacks and a grace period: no reader
 * takes it (attach, replace and detach are refused inside read-side
 * sections).  iommu->layers_lock guards the registered layers (never held
 * across a grace period or a callback).
 * iommu->lock guards the device and domain lists, the domain ids, the
 * flusher thread's state and the domains' pin counts; dev->lock
 * serializes changes of one device's attachments; dom->lock guards a
 * domain's user count, its dying flag and its fault handler; maps_lock the
 * mapping and DMA records (and serializes map against revocation); the
 * flush-queue lock the queue's list; the fault-log lock is a leaf, taken
 * on the fault path only.
 *
 * Readers take locks: a caller may call domain create, map or the info
 * queries (get_info, get_attachments) inside its read-side section, so
 * iommu->lock, dev->lock, dom->lock, maps_lock and fq.lock are all locks a
 * reader may take (siommu_device_find() takes none: an RCU list walk).
 * None is ever held across a grace period or across anything that may
 * wait for one: the flusher and the revoke notifier hold iommu->lock only
 * to walk the domain list and pin the next domain (dom->pins; destroy
 * waits for the pins to drop before it unlinks), and do their work
 * (drains, unmaps, gather syncs without SIOMMU_PT_SYNC_WAIT, which never
 * wait, owners' revoke callbacks) with no core lock held or under
 * maps_lock only for work that does not wait.  Strict unmap, destroy and
 * flush wait with no lock held.  Translate and DMA take no lock but the
 * fault-log lock when a fault is recorded.  Layer callbacks run holding
 * only dev->attach_lock; fault handlers, owners' callbacks, log and trace
 * sinks are called with no core lock held.  The testing build's lockdep
 * enforces the grace-period rule (src/base/lockdep.c).
 */
#ifndef SIOMMU_CORE_INTERNAL_H
#define SIOMMU_CORE_INTERNAL_H

#include <pthread.h>
#include <bsd/sys/tree.h>
#include <time.h>
#include <urcu/list.h>

#include "softiommu/core.h"
#include "softiommu/iotlb.h"
#include "softiommu/iova.h"
#include "softiommu/mem.h"
#include "softiommu/pgtable.h"
#include "base/alloc.h"
#include "base/compiler.h"
#include "base/ctx.h"
#include "base/debug.h"
#include "base/lock.h"
#include "base/rcu.h"
#include "base/stats.h"

enum core_stat {
	CORE_STAT_WALKS,		/* table walks (IOTLB misses and upgrades) */
	CORE_STAT_IOTLB_HIT_WALKS,	/* IOTLB hits that walked anyway (write on a read entry, exec, priv) */
	CORE_STAT_FAULT0,
	CORE_STAT_FAULTS_LOGGED = CORE_STAT_FAULT0 + SIOMMU_FAULT_NR,
	CORE_STAT_FAULTS_RATELIMITED,
	CORE_STAT_FAULTS_OVERFLOW,
	CORE_STAT_DMA_OPS,
	CORE_STAT_DMA_READ_BYTES,
	CORE_STAT_DMA_WRITE_BYTES,
	CORE_STAT_MAPS,
	CORE_STAT_UNMAPS_STRICT,
	CORE_STAT_UNMAPS_LAZY,
	CORE_STAT_FQ_BATCHES,
	CORE_STAT_FQ_ENTRIES,
	CORE_STAT_FAULTS_RECOVERABLE,	/* handed to a domain's fault handler */
	CORE_STAT_PAGE_REQUESTS,	/* ... which queued a page request */
	CORE_STAT_FAULTS_RESOLVED,	/* ... which resolved them inline */
	CORE_STAT_HINT_HITS,		/* translations served by the per-thread hint (translate.c) */
	CORE_STAT_NR,
};

/* PASID table: a directory of leaf tables of 1024 slots, as VT-d's. */
#define CORE_PASID_LEAF_LG2	10
#define CORE_PASID_LEAF		(1u << CORE_PASID_LEAF_LG2)

struct core_pasid_leaf {
	struct siommu_domain *slot[CORE_PASID_LEAF];	/* RCU; written under dev->lock */
};

/* The unrecoverable-fault log: a ring of the newest records. */
struct core_fault_log {
	struct siommu_mutex lock;		/* protects every field below */
	struct siommu_fault_record *ring;	/* [lock] size records */
	uint32_t size;				/* immutable */
	uint32_t head;				/* [lock] index of the oldest record */
	uint32_t count;				/* [lock] records held */
	uint64_t seq;				/* [lock] last sequence number given */
	uint64_t window_ns;			/* [lock] start of the rate window */
	uint32_t in_window;			/* [lock] records logged in the window */
	uint32_t rate;				/* immutable: records per second */
};

struct siommu_iommu {
	struct siommu_ctx *ctx;			/* immutable; held busy */
	struct siommu_iommu_caps caps;		/* immutable, defaults filled in */
	struct siommu_mem *mem;			/* immutable; NULL: host addresses */
	struct siommu_iotlb *iotlb;		/* immutable */
	struct siommu_stats *stats;		/* immutable; per-thread counters */
	struct siommu_mutex lock;		/* protects fields marked [L] */
	struct cds_list_head devices;		/* [L] */
	struct cds_list_head domains;		/* [L] */
	uint32_t nr_devices;			/* [L] */
	uint32_t nr_domains;			/* [L] */
	struct core_fault_log flog;
	struct siommu_mem_notifier *mem_notifier;	/* immutable; NULL without mem */
	/* Layers (attach.c): */
	struct siommu_mutex layers_lock;	/* protects fields marked [Y] */
	struct siommu_layer *layers[SIOMMU_LAYERS_MAX];	/* [Y] registration order */
	uint32_t nr_layers;			/* [Y]; atomic loads without it */
	uint32_t layer_slots;			/* [Y] bitmap of private-data slots in use */
	pthread_cond_t layers_cond;		/* waits on layers_lock.m: a layer's active count fell */
#if SIOMMU_TESTING_BUILD
	bool test_attach_unserialized;		/* tests only: the broken attach protocol */
#endif
	/* The flusher thread (domain.c), started with the first LAZY domain: */
	pthread_t fq_thread;			/* [L] */
	pthread_cond_t fq_cond;			/* waits on lock.m; CLOCK_MONOTONIC */
	bool fq_thread_running;			/* [L] */
	bool fq_stop;				/* [L] */
	uint64_t fq_kicks;			/* seq_cst atomics: queues made non-empty */
	/*
	 * seq_cst atomics: when the flusher scans next (CLOCK_MONOTONIC ns);
	 * 0 while it scans, UINT64_MAX while idle.  Stored under [L].
	 */
	uint64_t fq_wake_ns;
	uint64_t *domids;			/* [L] bitmap of PAGING domain ids in use */
	uint32_t domid_words;			/* [L] 64-bit words in domids */
	uint32_t domids_used;			/* [L]; domids freed when it drops to 0 */
#if SIOMMU_TESTING_BUILD
	bool test_skip_revoke;			/* tests only: the revoke notifier does nothing */
#endif
};

struct siommu_device {
	struct siommu_iommu *iommu;		/* immutable */
	uint32_t rid;				/* immutable */
	unsigned int flags;			/* immutable: SIOMMU_DEV_* */
	unsigned int pasid_bits;		/* immutable: min(device, IOMMU) */
	char name[16];				/* immutable: "SSSS:BB:DD.F" */
	struct cds_list_head node;		/* written under [iommu->lock]; RCU walk (next) */
	struct siommu_mutex attach_lock;	/* serialises the attach protocol (attach.c) */
	void *priv[SIOMMU_LAYERS_MAX];		/* layers' data: release/acquire atomics */
	struct siommu_mutex lock;		/* protects fields marked [D] */
	struct siommu_domain *domain;		/* RCU; written under [D] */
	uint64_t serial;			/* immutable: unique in the process (translate.c's hint) */
	struct core_pasid_leaf **pasid_dir;	/* immutable pointer; slots RCU, set under [D] */
	uint32_t pasid_dir_len;			/* immutable */
	uint32_t nr_pasids;			/* [D] */
};

/*
 * A mapping record: what siommu_domain_map() mapped and unmap has not yet
 * removed, kept only when the IOMMU has a memory map (to find the mappings
 * of a revoked region).  Ordered by IOVA; records never overlap.
 */
struct core_map_rec {
	RB_ENTRY(core_map_rec) rb;		/* [dom->maps_lock] */
	uint64_t iova;
	uint64_t last;				/* inclusive */
	uint64_t pa;
};
RB_HEAD(core_map_tree, core_map_rec);

/*
 * A siommu_domain_dma_map() mapping, from the map until its IOVA is
 * released.  dma_unmap claims it (unmapping), so a second dma_unmap of the
 * same IOVA is refused instead of releasing, later, an IOVA that was
 * handed out again meanwhile; the release frees exactly this allocation.
 */
struct core_dma_rec {
	RB_ENTRY(core_dma_rec) rb;		/* [dom->maps_lock] */
	uint64_t iova;				/* immutable */
	uint64_t size;				/* immutable: what dma_map mapped */
	bool unmapping;				/* [dom->maps_lock] claimed by a dma_unmap */
};
RB_HEAD(core_dma_tree, core_dma_rec);

/* Flush-queue entry: one lazy unmap waiting for its invalidation. */
struct core_fq_entry {
	struct cds_list_head node;		/* [fq.lock] */
	struct siommu_pt_gather g;		/* owned by the queue */
	uint64_t iova;
	uint64_t size;
	struct core_dma_rec *dma;		/* dma_unmap: released after the flush; or NULL */
};

struct core_fq {
	struct siommu_mutex lock;		/* protects fields marked [Q] */
	struct cds_list_head entries;		/* [Q] oldest first */
	uint32_t count;				/* [Q] */
	struct cds_list_head spare;		/* [Q] drained entries kept for reuse */
	uint32_t nr_spare;			/* [Q] at most batch */
	uint64_t oldest_ns;			/* [Q] enqueue time of the first entry */
	uint32_t batch;				/* immutable */
	uint64_t timeout_ns;			/* immutable */
};

struct siommu_domain {
	struct siommu_iommu *iommu;		/* immutable */
	enum siommu_domain_type type;		/* immutable */
	enum siommu_unmap_mode unmap_mode;	/* immutable */
	uint32_t domid;				/* immutable (PAGING) */
	unsigned int ias_lg2;			/* immutable */
	struct siommu_pt *pt;			/* immutable (PAGING) */
	bool pt_external;			/* immutable: pt given by the caller, not freed */
	struct siommu_iova_space *iovas;	/* immutable (PAGING): for dma_map */
	struct cds_list_head node;		/* [iommu->lock] */
	struct siommu_mutex lock;		/* protects fields marked [M] */
	uint32_t users;				/* [M]; atomic loads for info */
	bool dying;				/* [M] */
	struct core_fq fq;			/* PAGING; used when LAZY */
	bool track_maps;			/* immutable: iommu->mem != NULL */
	struct siommu_mutex maps_lock;		/* protects maps */
	struct core_map_tree maps;		/* [maps_lock] */
#if SIOMMU_TESTING_BUILD
	bool test_skip_grace;			/* tests only: unmap and destroy without grace periods */
#endif
	/* Pins (domain.c, revoke.c): the flusher and the revoke notifier. */
	uint32_t pins;				/* [iommu->lock] */
	bool destroying;			/* [iommu->lock] destroy waits for pins == 0 */
	pthread_cond_t unpin_cond;		/* with iommu->lock.m: pins dropped to 0 */
	/* Revocation owner (siommu_domain_set_revoke_owner()): */
	siommu_domain_revoke_fn *owner_fn;	/* [maps_lock]; set before the first map */
	void *owner_opaque;			/* [maps_lock] */
	bool mapped;				/* [maps_lock] a map succeeded: owner fixed */
	struct core_dma_tree dmas;		/* [maps_lock] dma_map mappings */
	bool domid_held;			/* PAGING: domid is set in iommu->domids */
	/*
	 * Recoverable faults (fault.c): set under [M]; read by the DMA fault
	 * path with acquire loads.  fault_opaque is written before fault_fn
	 * is set and only changes after a removal's grace period.
	 */
	siommu_fault_handler_fn *fault_fn;	/* [M] */
	void *fault_opaque;			/* [M] */
	bool fault_removing;			/* [M] a removal waits for its grace period */
	void *priv[SIOMMU_LAYERS_MAX];		/* layers' data: release/acquire atomics */
};

/* A registered layer (attach.c). */
struct siommu_layer {
	struct siommu_iommu *iommu;		/* immutable */
	struct siommu_layer_ops ops;		/* immutable copy */
	void *opaque;				/* immutable */
	unsigned int slot;			/* immutable: index of its private data */
	uint32_t active;			/* [iommu->layers_lock] protocols that include it */
};

/*
 * The domain (@dev, @pasid) is attached to, or NULL.
 * Context: inside a read-side section; the domain stays valid until it ends.
 * Acquire loads pair with the release stores of attach (iommu.c).
 */
static inline struct siommu_domain *core_attached_rcu(struct siommu_device *dev,
						      uint32_t pasid)
{
	struct core_pasid_leaf *leaf;
	uint32_t di;

	if (pasid == SIOMMU_NO_PASID)
		return siommu_load_acquire(&dev->domain);
	di = pasid >> CORE_PASID_LEAF_LG2;
	if (di >= dev->pasid_dir_len)
		return NULL;
	leaf = siommu_load_acquire(&dev->pasid_dir[di]);
	if (!leaf)
		return NULL;
	return siommu_load_acquire(&leaf->slot[pasid & (CORE_PASID_LEAF - 1)]);
}

/* fault.c */
int core_flog_init(struct core_fault_log *fl, uint32_t size, uint32_t rate);
void core_flog_fini(struct core_fault_log *fl);
/* Count an unrecoverable fault of a DMA and log it (rate-limited). */
void core_record_fault(struct siommu_iommu *iommu, struct siommu_device *dev,
		       uint32_t pasid, uint64_t iova, unsigned int access,
		       enum siommu_fault_reason reason);
int core_fault_errno(enum siommu_fault_reason reason);
/*
 * A translation fault of a DMA: hand it to the domain's fault handler if
 * it is recoverable (PRI device, NOT_PRESENT/PERMISSION, a handler), else
 * leave it to the caller.  Context: inside the read-side section of the
 * translation that used @dom.  Returns SIOMMU_IOPF_QUEUED, _RESOLVED, or -1
 * (not handled: the caller records it after leaving the section).
 */
int core_fault_recover_rcu(struct siommu_device *dev, struct siommu_domain *dom,
			   uint32_t pasid, uint64_t iova, unsigned int access,
			   enum siommu_fault_reason reason);

/* attach.c */
void core_layers_init(struct siommu_iommu *iommu);
void core_layers_fini(struct siommu_iommu *iommu);
/* The calling thread runs a layer callback (attach/detach would deadlock). */
bool core_in_layer_callback(void);

/* domain.c */
void core_fq_drain(struct siommu_domain *dom);
void core_flusher_kick(struct siommu_iommu *iommu, uint64_t due_ns);
void core_flusher_stop(struct siommu_iommu *iommu);
void core_inval(void *opaque, uint64_t iova, uint64_t last, unsigned int flags);
/*
 * The first domain of iommu->domains after @prev (NULL: the first) that is
 * not being destroyed, pinned (destroy waits for the pin), @prev unpinned.
 * Context: holds iommu->lock.  Returns NULL at the end of the list.
 */
struct siommu_domain *core_domain_next_pinned_locked(struct siommu_iommu *iommu,
						     struct siommu_domain *prev);

/* maps.c: Context: hold dom->maps_lock. */
void core_maps_insert_locked(struct siommu_domain *dom, struct core_map_rec *rec,
			     struct core_map_rec **spare);
void core_maps_remove_locked(struct siommu_domain *dom, uint64_t iova,
			     uint64_t last);
struct core_map_rec *core_maps_first_pa_locked(struct siommu_domain *dom,
					       uint64_t pa, uint64_t pa_last);
void core_maps_free(struct siommu_domain *dom);
struct core_dma_rec *core_dma_find_locked(struct siommu_domain *dom,
					  uint64_t iova);
void core_dma_insert_locked(struct siommu_domain *dom, struct core_dma_rec *rec);
void core_dma_remove_locked(struct siommu_domain *dom, struct core_dma_rec *rec);
void core_dma_free_all(struct siommu_domain *dom);

/* revoke.c */
void core_revoke_notify(void *opaque, struct siommu_mem_region *r);
#if SIOMMU_TESTING_BUILD
/*
 * Tests only: make strict unmap, the destroy of a paging domain, and the
 * removal of its fault handler (fault.c) skip their grace periods (the
 * broken variants the stress tests must catch).
 */
void core_test_set_skip_grace(struct siommu_domain *dom, bool skip);
/* Tests only: make the revoke notifier leave every mapping in place. */
void core_test_set_skip_revoke(struct siommu_iommu *iommu, bool skip);
/*
 * Tests only: run the attach protocol without the per-device serialisation
 * and drop the old domain's count right after the switch (the bug B this
 * protocol fixes), for the broken variant of the replace stress test.
 */
void core_test_set_attach_unserialized(struct siommu_iommu *iommu, bool on);
/*
 * Tests only: the translation hint trusts its key (device, PASID, page)
 * without checking the domain or its IOTLB entry (the broken variant of
 * stress_core_hint_vs_unmap_3s): process-wide.
 */
void core_test_set_hint_unchecked(bool on);
#endif
/* A new device's serial (translate.c): unique in the process, never 0. */
uint64_t core_device_serial_next(void);

static inline uint64_t core_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
