/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ioas internals shared by ioas.c (IOAS, areas, IOVA ranges, map, unmap,
 * copy), pages.c (the memory objects areas map) and domain.c (the core
 * layer, domains of an IOAS, revocation).  The design is in the top comment
 * of ioas.c and in docs/modules/ioas.md.
 *
 * Lock order (src/base/lock.h): the core's dev->attach_lock (150) >
 * ioas->lock (IOAS, 151) > l->lock (IOAS_LAYER, 152) > acc->lock
 * (IOAS_ACCESS, 153) > the core's locks taken by
 * siommu_domain_map()/unmap()/create() (200..230).  No reader
 * takes either ioas lock: every entry point refuses inside a read-side
 * section, so ioas->lock may be held across a strict unmap's grace period.
 */
#ifndef SIOMMU_IOAS_INTERNAL_H
#define SIOMMU_IOAS_INTERNAL_H

#include <stdint.h>
#include <urcu/list.h>
#include <bsd/sys/tree.h>

#include "softiommu/ioas.h"
#include "base/compiler.h"
#include "base/lock.h"
#include "base/rcu.h"
#include "siommu_config.h"

/* Areas and accesses are allocated with siommu_zalloc_aligned(SIOMMU_CACHELINE). */
/*
 * The memory of one map: what "pinned" means is in ioas.h.  Shared by the
 * areas made from it by copy (in any IOAS of the layer), so its reference
 * count is atomic; everything else is immutable after creation.
 */
struct ioas_pages {
	long refs;			/* atomic: areas using it */
	enum siommu_ioas_mem_type type;	/* immutable */
	bool writable;			/* immutable: mapped with write access */
	uint64_t length;		/* immutable */
	void *host;			/* immutable: host address of the first byte */
	uint64_t pa;			/* immutable: output address of the first byte */
	void *map_base;			/* MEMFD/FILE: our mmap of the range */
	int fd;				/* MEMFD/FILE: our duplicate; else -1 */
	struct siommu_mem_region *region; /* REGION: we hold a user count */
	struct siommu_mem *mem;		/* REGION: the region's memory map */
	uint32_t *pin_counts;		/* atomic pointer, set once (compare-and-swap)
					 * at the first access pin; each count atomic */
};

/*
 * One area: [iova, last] maps pages [pages_off, pages_off + last - iova].
 * Lockless users (pin, unpin, rw: access.c) find it in the IOAS's RCU
 * snapshot and hold it by @busy; an unmap removes it only after raising
 * @blocked and then seeing @busy at 0 (the Dekker pair of access.c, P1),
 * and frees it after a grace period.
 */
struct ioas_area {
	RB_ENTRY(ioas_area) rb;		/* [ioas->lock] */
	uint64_t iova;			/* immutable once published */
	uint64_t last;			/* immutable */
	struct ioas_pages *pages;	/* immutable; one reference, dropped at removal */
	uint64_t pages_off;		/* immutable */
	unsigned int flags;		/* immutable: SIOMMU_IOAS_MAP_READ / _WRITE */
	/* Written by pins of this area only: a cache line of its own. */
	long busy siommu_cacheline_aligned; /* atomic: pins held plus pins and rw in
					 * progress touching it; > 0 keeps it in the IOAS */
	unsigned int blocked;		/* atomic, changed under [ioas->lock]: unmap blocks
					 * overlapping it; never lowered once removed */
	struct ioas_area *dead_next siommu_cacheline_aligned; /* [ioas->lock] removal batch */
	struct siommu_rcu_head rcu;	/* freed after a grace period */
};

/* The areas by IOVA, for lockless lookups: rebuilt and republished under
 * ioas->lock by every change of the tree, the old one freed after a grace
 * period. */
struct ioas_snap {
	struct siommu_rcu_head rcu;
	unsigned int n;
	unsigned int cap;		/* room in a[] */
	struct ioas_area *a[];
};

RB_HEAD(ioas_area_tree, ioas_area);
RB_PROTOTYPE(ioas_area_tree, ioas_area, rb, ioas_area_cmp)

/* A reserved range; @owner is the domain whose aperture it is, or NULL. */
struct ioas_resv {
	uint64_t start;
	uint64_t last;
	struct ioas_domain *owner;
};

/* A domain allocated by siommu_ioas_domain_alloc(). */
struct ioas_domain {
	struct cds_list_head link;	/* [ioas->lock] in ioas->domains */
	struct siommu_ioas *ioas;	/* immutable */
	struct siommu_domain *dom;	/* immutable */
	uint64_t ap_last;		/* immutable: last IOVA of the aperture */
	uint64_t min_pgsize;		/* immutable: smallest page size of its table */
	unsigned int users;		/* [ioas->lock] attachments + prepares holding it */
	bool filled;			/* [ioas->lock] its table holds the areas */
	bool dying;			/* [ioas->lock] free in progress: attach refused */
};

struct siommu_ioas_layer {
	struct siommu_ctx *ctx;		/* immutable; held */
	struct siommu_iommu *iommu;	/* immutable */
	struct siommu_layer *core;	/* immutable: our core layer */
	long nr_ioas;			/* atomic: live IOASes */
	struct siommu_mutex lock;	/* protects fields marked [l] */
	struct cds_list_head dying;	/* [l] ioas_domain_dying records */
};

/* A domain whose private data was cleared for its destroy: attach refused. */
struct ioas_domain_dying {
	struct cds_list_head link;	/* [l->lock] */
	struct siommu_domain *dom;
};

struct siommu_ioas {
	struct siommu_ioas_layer *l;	/* immutable */
	struct siommu_mutex lock;	/* protects everything below, except as marked */
	struct ioas_snap *snap;		/* RCU: published under lock; NULL: no area */
	struct ioas_area_tree areas;
	uint64_t nr_areas;
	uint64_t mapped_bytes;
	struct siommu_ioas_range *allowed; /* sorted, disjoint; NULL: all allowed */
	unsigned int nr_allowed;
	struct ioas_resv *resv;		/* sorted by start; may overlap each other */
	unsigned int nr_resv;
	unsigned int cap_resv;
	struct cds_list_head domains;	/* struct ioas_domain.link */
	uint32_t nr_domains;
	struct cds_list_head accesses;	/* struct siommu_ioas_access.link, by id */
	uint32_t nr_accesses;
	uint32_t next_access_id;
	struct cds_list_head blocks;	/* struct ioas_block.link: unmaps notifying */
	pthread_cond_t cond;		/* with lock: an access's users dropped */
	struct ioas_watch *watches;	/* revoke notifiers, one per memory map of
					 * REGION areas; kept until destroy */
	unsigned int nr_watches;
	unsigned int cap_watches;
	unsigned int unmap_retries;	/* atomic (relaxed) */
};

/*
 * A revoke notifier of the IOAS on a memory map some REGION area of it
 * mapped (seed 003 without a domain): the core tells a domain's owner of a
 * revoke, but an IOAS with no domain attached has nobody to tell it, and
 * its accesses' pins must still be asked to go before the revoke returns.
 */
struct ioas_watch {
	struct siommu_mem *mem;
	struct siommu_mem_notifier *n;
};

/* A range an unmap is notifying for: pins and rw there fail -EBUSY. */
struct ioas_block {
	struct cds_list_head link;	/* [ioas->lock] */
	uint64_t iova;
	uint64_t last;
};

/* One pin call of an access. */
struct ioas_pin {
	struct cds_list_head link;	/* [acc->lock] in acc->pins */
	uint64_t iova;
	uint64_t last;
};

struct siommu_ioas_access {
	struct cds_list_head link;	/* [ioas->lock] in ioas->accesses */
	struct siommu_ioas *ioas;	/* set by create and replace (no other call on
					 * the access runs then) */
	siommu_ioas_unmap_fn *fn;	/* immutable */
	void *opaque;			/* immutable */
	unsigned int flags;		/* immutable */
	uint32_t id;			/* set with ioas */
	char name[32];			/* immutable */
	/*
	 * Written by this access's pins: padded to a cache line of its own
	 * (padding, not an aligned attribute: list walks form a container
	 * pointer from the list head, which must not claim 64-byte alignment).
	 */
	char pad_hot[SIOMMU_CACHELINE];
	struct siommu_mutex lock;	/* protects fields marked [a]; rank IOAS_ACCESS,
					 * taken alone or under ioas->lock */
	struct cds_list_head pins;	/* [a] struct ioas_pin */
	uint64_t nr_pins;		/* [a] */
	uint64_t pinned_bytes;		/* [a] */
	char pad_cold[SIOMMU_CACHELINE];
	unsigned int users;		/* [ioas->lock] unmaps calling its callback */
};

/* ---- pages.c ---- */
int ioas_pages_create(const struct siommu_ioas_mem *m, uint64_t length,
		      bool write, struct ioas_pages **out);
void ioas_pages_get(struct ioas_pages *p);
void ioas_pages_put(struct ioas_pages *p);
uint64_t ioas_pages_users(const struct ioas_pages *p);

/* ---- ioas.c ---- */
struct ioas_area *ioas_area_first(struct siommu_ioas *ioas, uint64_t iova,
				  uint64_t last);
struct ioas_area *ioas_area_next(struct ioas_area *a);
int ioas_resv_add(struct siommu_ioas *ioas, uint64_t start, uint64_t last,
		  struct ioas_domain *owner);
void ioas_resv_remove_owner(struct siommu_ioas *ioas, struct ioas_domain *owner);

/* ---- access.c ---- */
/* -EBUSY fills @warn (IOAS_WARN_MAX bytes): log it once ioas->lock is dropped. */
#define IOAS_WARN_MAX	384
int ioas_unmap_range_locked(struct siommu_ioas *ioas, uint64_t iova,
			    uint64_t last, bool all, uint64_t *bytes, char *warn);
uint64_t ioas_pinned_pages_locked(struct siommu_ioas *ioas);
void ioas_notify_area_holders_locked(struct siommu_ioas *ioas, struct ioas_area *a);

/* ---- ioas.c: removal without notification (nothing busy in the range) ---- */
/*
 * @spare (may be NULL): a snapshot allocated before, used (and *@spare
 * cleared) if it has room, so that the removal needs no memory.
 */
struct ioas_snap *ioas_snap_alloc(uint64_t n, int *err);
int ioas_remove_range_locked(struct siommu_ioas *ioas, uint64_t iova,
			     uint64_t last, uint64_t *bytes, struct ioas_snap **spare);
unsigned int ioas_blocks_over(struct siommu_ioas *ioas, uint64_t iova, uint64_t last);

#if SIOMMU_TESTING_BUILD
/* Broken variants for the stress tests (per thread). */
enum ioas_test_break {
	IOAS_BREAK_NONE = 0,
	IOAS_BREAK_NOTIFY_LOCKED,	/* call the callbacks holding ioas->lock */
	IOAS_BREAK_NO_REVALIDATE,	/* seed 004's first patch: notify per area, no re-lookup */
	IOAS_BREAK_RW_NO_HOLD,		/* rw copies without holding its areas */
	IOAS_BREAK_REVOKE_NO_WAIT,	/* the revoke notifier looks for holders at once */
};
void ioas_test_set_break(enum ioas_test_break b);
bool ioas_test_broken(enum ioas_test_break b);
/* Called by a pin between its checks and its record, inside its read-side section. */
extern void (*ioas_test_pin_hook)(void);
#define IOAS_BROKEN(b)	ioas_test_broken(b)
#else
#define IOAS_BROKEN(b)	false
#endif

/* ---- domain.c ---- */
unsigned int ioas_prot(unsigned int map_flags);
int ioas_domains_map_area(struct siommu_ioas *ioas, struct ioas_area *a);
void ioas_domains_unmap_area(struct siommu_ioas *ioas, struct ioas_area *a);
extern const struct siommu_layer_ops ioas_layer_ops;
int ioas_watch_mem_locked(struct siommu_ioas *ioas, struct siommu_mem *mem);
int ioas_unwatch_all(struct siommu_ioas *ioas);

static inline uint64_t ioas_area_pa(const struct ioas_area *a)
{
	return a->pages->pa + a->pages_off;
}

static inline uint64_t ioas_area_len(const struct ioas_area *a)
{
	return a->last - a->iova + 1;
}

#endif
