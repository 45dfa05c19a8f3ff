/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mm internals: the address space, its areas and folios, the invalidation
 * state shared with the notifiers, mirrors and SVA bindings.
 *
 * Locks (docs/architecture.md, "Lock order"): mm->lock (SIOMMU_RANK_MM),
 * then a mirror's lock (SIOMMU_RANK_MM_MIRROR, taken in the mirror's
 * invalidate_start under mm->lock, and alone by its fault path), then
 * core's and pgtable's locks; mm->inv_lock (SIOMMU_RANK_MM_INV) is a leaf.
 * None of them is ever held across a grace period: a device fault handler
 * takes mm->lock and the mirror lock inside a DMA's read-side section.
 */
#ifndef SIOMMU_MM_INTERNAL_H
#define SIOMMU_MM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <bsd/sys/tree.h>

#include <softiommu/mm.h>

#include "base/ctx.h"
#include "base/lock.h"

/* x86-64 entry bits the lockless walk reads (SDM Vol. 3A §4.5, Tables 4-15..4-20). */
#define MM_X86_P	(1ull << 0)
#define MM_X86_RW	(1ull << 1)
#define MM_X86_PS	(1ull << 7)
#define MM_X86_XD	(1ull << 63)
#define MM_X86_ADDR	0x000ffffffffff000ull

/*
 * A block: one allocation of backing memory (4 KiB, 2 MiB or 1 GiB,
 * naturally aligned).  Folios cut from it (after splits) count references
 * on it; the block is freed when the last goes, after a grace period.
 */
struct mm_block {
	void *mem;
	unsigned int size_lg2;
	bool mmapped;			/* 1 GiB: mmap()ed, munmap()ed at free */
	uint32_t refs;			/* atomic: folios cut from it (and retiring) */
};

/*
 * A folio: anonymous memory backing [va, va + 2^size_lg2 - 1], present in
 * the table or not (mprotect PROT_NONE, a split, a zap leave it unmapped:
 * the next fault maps it again).  All fields [mm->lock].
 */
struct mm_folio {
	RB_ENTRY(mm_folio) rb;
	uint64_t va;
	unsigned int size_lg2;
	struct mm_block *blk;
	void *mem;			/* host address of va */
};

RB_HEAD(mm_folio_tree, mm_folio);

/* A file or memfd range mapped shared into the host once per siommu_mm_mmap(). */
struct mm_file {
	void *host;
	uint64_t len;
	uint32_t refs;			/* [mm->lock]: areas using it */
};

/* An area: [start, end) with one protection and backing.  [mm->lock] */
struct mm_area {
	uint64_t start, end;
	unsigned int prot;		/* SIOMMU_MM_PROT_* */
	unsigned int flags;		/* SIOMMU_MM_MAP_* and SIOMMU_MM_PAGE_*; MM_AREA_NOHUGE */
	struct mm_file *file;		/* SHARED: the host mapping */
	uint64_t file_off;		/* SHARED: offset of start in file->host */
};

#define MM_AREA_NOHUGE	(1u << 16)	/* madvise NOHUGEPAGE: fault 4 KiB */

struct siommu_mm_notifier {
	struct siommu_mm *mm;		/* immutable; a reference (mm_get) */
	const struct siommu_mm_notifier_ops *ops; /* immutable (copied) */
	struct siommu_mm_notifier_ops ops_copy;
	void *opaque;			/* immutable */
};

struct siommu_mm_interval {
	struct siommu_mm *mm;		/* immutable; a reference (mm_get) */
	uint64_t start, last;		/* immutable */
	const struct siommu_mm_interval_ops *ops; /* immutable */
	void *opaque;			/* immutable */
	uint64_t seq;			/* atomic: written by set_seq under the subscriber's lock */
};

/* Things freed after an invalidation's grace period. */
struct mm_deferred {
	struct mm_folio **folios;	/* taken out; retired after the grace period */
	uint32_t nr_folios, cap_folios;
	struct mm_file **files;
	uint32_t nr_files, cap_files;
};

struct siommu_mm {
	struct siommu_ctx *ctx;		/* immutable; held */
	struct siommu_pt *pt;		/* immutable until teardown: the x86-64 table */
	uint64_t *root;			/* immutable: host address of the root table */
	unsigned int levels;		/* immutable: 4 or 5 */
	uint64_t va_limit;		/* immutable: addresses below it */
	uint64_t refs;			/* atomic: the user + mirrors + bindings */

	struct siommu_mutex lock;	/* protects the fields marked [L] */
	bool dead;			/* [L] siommu_mm_destroy() began */
	struct mm_area *areas;		/* [L] sorted, disjoint */
	uint32_t nr_areas, cap_areas;	/* [L] */
	struct mm_folio_tree folios;	/* [L] */
	struct siommu_mm_notifier **notifiers;	/* [L] */
	uint32_t nr_notifiers, cap_notifiers;	/* [L] */
	struct siommu_mm_interval **intervals;	/* [L] */
	uint32_t nr_intervals, cap_intervals;	/* [L] */
	uint32_t nr_bindings;		/* [L] SVA bindings (info) */
	uint64_t rss;			/* [L] anonymous bytes backed */

	/*
	 * The invalidation state (KVM's mmu_invalidate_*; HMM's
	 * invalidate_seq).  Written under inv_lock with atomics; read
	 * lock-free by siommu_mm_invalidate_seq()/_retry().
	 */
	struct siommu_mutex inv_lock;
	uint64_t seq;			/* bumped at each invalidation's end */
	uint64_t in_progress;		/* invalidations begun, not ended */
	uint64_t range_start, range_last; /* union of the ranges in flight */
	uint64_t hmm_seq;		/* odd while any invalidation is active */
	uint64_t hmm_active;		/* [inv_lock] */
	pthread_cond_t hmm_cond;	/* with inv_lock.m: hmm_seq became even */

	/* Counters (atomic). */
	uint64_t invalidations, faults, splits;
};

/*
 * A fault handler another layer installed on a binding's or mirror's domain
 * (sva_iopf.c: iopf's): cleared by unbind/destroy after the detach, before
 * the domain is destroyed.  Set once, by the thread that owns the object.
 */
typedef void mm_ext_clear_fn(void *opaque, struct siommu_domain *dom);
void mm_sva_set_ext(struct siommu_sva *b, mm_ext_clear_fn *fn, void *opaque);
void mm_mirror_set_ext(struct siommu_mirror *m, mm_ext_clear_fn *fn, void *opaque);

int mm_get(struct siommu_mm *mm);	/* -ENODEV if gone */
void mm_put(struct siommu_mm *mm);

/* notifier.c: the invalidation protocol's bookkeeping. */
void mm_inv_begin(struct siommu_mm *mm, const struct siommu_mm_range *r);
void mm_inv_end(struct siommu_mm *mm, const struct siommu_mm_range *r);
void mm_call_start_locked(struct siommu_mm *mm, const struct siommu_mm_range *r);
void mm_call_tlbs_locked(struct siommu_mm *mm, const struct siommu_mm_range *r);
void mm_call_end_locked(struct siommu_mm *mm, const struct siommu_mm_range *r);
void mm_notifiers_release(struct siommu_mm *mm);
int mm_ptr_array_add(void ***arr, uint32_t *nr, uint32_t *cap, void *p);
void mm_ptr_array_del(void **arr, uint32_t *nr, void *p);

/* Testing hooks (per thread). */
extern __thread unsigned int mm_test_breaks;

#endif
