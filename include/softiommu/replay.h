/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu replay: read the Linux "iommu" trace events a real machine
 * recorded and replay them.
 *
 * Input: the text of /sys/kernel/tracing/trace (with or without the
 * irq-info flag column) and of `trace-cmd report`, plain, gzip or xz (told
 * by their magic bytes), from a file or any buffer.  Events: map, unmap,
 * io_page_fault, attach/detach_device_to/from_domain, add/remove_device_
 * to/from_group; comment and header lines and other events are skipped and
 * counted.  A line that is none of these is a bad line: recorded as an
 * issue "file:line: what is wrong"; with opts.strict it ends the read with
 * -EINVAL.
 *
 * Exact mode (siommu_replay_run()): the kernel's own IOVAs are mapped into a
 * page table of the trace's format (VT-d second stage, 39-bit, by default)
 * and unmapped as recorded.  It reports live mappings, IOVA footprint and
 * table memory over time, page-size use, and the IOTLB hit rate of a
 * synthetic DMA stream for chosen IOTLB geometries.  Unmaps that cover
 * nothing, maps over live mappings and other inconsistencies are issues with
 * their lines; nothing is fixed silently.
 *
 * Prediction and what-if (opts.predict, opts.whatif): the maps are grouped
 * into the DMA-API allocations that made them (a scatter-gather request maps
 * chunk by chunk and unmaps once), and the allocations are replayed through
 * allocator models: a Linux-compatible one (drivers/iommu/iova.c and
 * dma-iommu.c behaviour of 6.1 or 6.12: top-down size-aligned search with
 * cached nodes, power-of-two rounding below the rcache limit, per-CPU
 * magazines and a depot, the 32-bit-first try for PCI devices, reserved
 * windows) which predicts the IOVA the kernel chose, "forced" (the model
 * takes the kernel's IOVA after each allocation) and "free-running"; and
 * softiommu-like and first-fit policies, under strict or lazy invalidation
 * (per-CPU flush queues of a configurable size and timeout, on the trace's
 * timestamps).
 *
 * One struct siommu_replay is used by one thread at a time; different ones
 * are independent.
 */
#ifndef SOFTIOMMU_REPLAY_H
#define SOFTIOMMU_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softiommu/base.h>
#include <softiommu/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siommu_replay;

#define SIOMMU_REPLAY_MAX_TLBS		8
#define SIOMMU_REPLAY_MAX_RESERVED	16
#define SIOMMU_REPLAY_MAX_CPUS		4096

/* The Linux version whose IOVA allocator the Linux-compatible model follows. */
enum siommu_replay_linux {
	SIOMMU_REPLAY_LINUX_6_1,	/* 128-entry magazines, 32-slot depot array; 32-bit-first always */
	SIOMMU_REPLAY_LINUX_6_12,	/* 127-entry magazines, list depot; 32-bit-first until it fails once */
};

/* Allocator policies of the what-if mode (bit N = policy N). */
enum siommu_replay_policy {
	SIOMMU_REPLAY_POL_LINUX,	/* the Linux-compatible model */
	SIOMMU_REPLAY_POL_SOFTIOMMU,	/* top-down best fit, no rounding, no caches */
	SIOMMU_REPLAY_POL_FIRSTFIT,	/* lowest address that fits, no caches */
	SIOMMU_REPLAY_NR_POLICIES,
};

struct siommu_replay_tlb_geom {
	unsigned int sets;		/* power of two */
	unsigned int ways;
};

struct siommu_replay_opts {
	/* input */
	bool strict;			/* a bad line ends the read with -EINVAL */
	/* exact mode */
	enum siommu_pt_fmt fmt;		/* 0: VT-d second stage */
	unsigned int ias_lg2;		/* IOVA width; 0: 39 */
	uint64_t pgsize_bitmap;		/* 0: 4K | 2M | 1G */
	bool linux_pt;			/* VT-d tables as Linux manages them (SIOMMU_PT_F_LINUX):
					 * a superpage map frees the emptied table in its slot;
					 * an unmap ending inside a superpage takes all of it, and
					 * the trace's unmapped_size is checked against that */
	unsigned int nr_tlbs;		/* IOTLB geometries to simulate; 0: 64x4, 512x8 */
	struct siommu_replay_tlb_geom tlb[SIOMMU_REPLAY_MAX_TLBS];
	/* allocation models */
	bool predict;			/* predict the kernel's IOVAs (Linux model) */
	bool lazy_trace;		/* the trace was recorded with iommu.strict=0: predict with flush queues */
	bool whatif;			/* compare policies and strict/lazy */
	enum siommu_replay_linux linux_version;
	unsigned int dma_mask_lg2;	/* device DMA mask width; 0: 64 */
	bool not_pci;			/* no 32-bit-first try */
	unsigned int nr_reserved;	/* reserved IOVA windows [start, last] */
	uint64_t reserved[SIOMMU_REPLAY_MAX_RESERVED][2];
	bool no_default_reserved;	/* do not add VT-d's MSI window 0xfee00000-0xfeefffff */
	unsigned int fq_size;		/* lazy mode: flush-queue entries per CPU; 0: 256 */
	uint64_t fq_timeout_ns;		/* lazy mode: flush timer; 0: 10 ms */
	unsigned int hz;		/* lazy: the kernel's timer tick rate (the timer fires on a
					 * tick); 0: continuous time (fq_timeout_ns after arming) */
	bool no_infer;			/* lazy prediction: use hz and fq_timeout_ns as given;
					 * otherwise the timer is inferred from the trace: the
					 * delay (5..30 ms, continuous) or tick rate (100, 250,
					 * 300, 1000) and phase that predict best */
	/* progress: called now and then while reading and replaying */
	void (*progress)(void *opaque, uint64_t done, uint64_t total);
	void *progress_opaque;
};

/* Issue kinds (bad lines and inconsistencies). */
enum siommu_replay_issue_kind {
	SIOMMU_REPLAY_BAD_LINE,		/* unparsable line */
	SIOMMU_REPLAY_MAP_OVER_LIVE,	/* map over a live mapping */
	SIOMMU_REPLAY_UNMAP_NOTHING,	/* unmap that covers no live mapping */
	SIOMMU_REPLAY_UNMAP_PARTIAL,	/* unmap that covers part of a mapping or a hole */
	SIOMMU_REPLAY_UNMAP_SIZE,	/* unmapped_size differs from size (opts.linux_pt:
					 * from what the Linux-compatible table unmapped) */
	SIOMMU_REPLAY_MAP_REFUSED,	/* the table refused the map (alignment, width) */
	SIOMMU_REPLAY_TIME_BACKWARDS,	/* a timestamp earlier than the previous line's */
	SIOMMU_REPLAY_NR_ISSUE_KINDS,
};

struct siommu_replay_issue {
	enum siommu_replay_issue_kind kind;
	const char *file;		/* as given to the read function */
	uint64_t line;			/* 1-based */
	const char *msg;		/* "what is wrong", no file:line prefix */
};

/* One sample of the state over time (after an event). */
struct siommu_replay_sample {
	uint64_t ts_ns;
	uint64_t event;			/* index of the event after which it was taken */
	uint64_t live_maps;
	uint64_t live_bytes;
	uint64_t iova_span;		/* highest live end - lowest live start */
	uint64_t table_bytes;
};

struct siommu_replay_tlb_result {
	struct siommu_replay_tlb_geom geom;
	uint64_t accesses;
	uint64_t hits;
};

struct siommu_replay_policy_result {
	bool valid;
	uint64_t allocs, failures;
	uint64_t peak_span;		/* highest allocated end - lowest start, peak */
	uint64_t peak_tree_nodes;	/* allocated ranges (incl. cached), peak */
	uint64_t peak_table_bytes;	/* table memory of the policy's IOVAs, peak */
	uint64_t invalidations;		/* IOTLB invalidation commands */
	uint64_t flushes;		/* flush-queue flushes (lazy) */
	uint64_t max_batch;		/* largest number of IOVAs one flush freed */
	uint64_t batch_hist[8];		/* flush batch sizes: <=1,<=2,<=4,...,<=64,>64 */
};

struct siommu_replay_report {
	/* input */
	uint64_t files, lines, events;
	uint64_t by_type[SIOMMU_TRACE_NR_TYPES];
	uint64_t comments;		/* comment, blank and trace-cmd header lines */
	uint64_t other_events;		/* well-formed lines of other events */
	uint64_t bad_lines;
	uint64_t first_ts_ns, last_ts_ns;
	uint64_t devices;		/* distinct devices named by group/attach events */
	/* exact */
	bool ran;
	uint64_t issues[SIOMMU_REPLAY_NR_ISSUE_KINDS];
	uint64_t peak_live_maps, peak_live_bytes, peak_iova_span;
	uint64_t end_live_maps, end_live_bytes;
	uint64_t mapped_bytes, unmapped_bytes;
	uint64_t pages[3];		/* leaves mapped: 4 KiB, 2 MiB, 1 GiB */
	uint64_t table_bytes_peak, table_bytes_end;
	unsigned int nr_tlbs;
	struct siommu_replay_tlb_result tlb[SIOMMU_REPLAY_MAX_TLBS];
	/* allocations */
	uint64_t allocs;		/* DMA-API allocations rebuilt from the maps */
	uint64_t sg_allocs;		/* of which made of several maps */
	/* prediction (opts.predict) */
	bool predicted;
	uint64_t pred_total, pred_forced_hits, pred_free_hits;
	unsigned int pred_hz;		/* lazy prediction: the tick rate used (0: continuous) */
	uint64_t pred_delay_ns;		/* lazy prediction: the timer delay used */
	uint64_t pred_phase_ns;		/* lazy prediction: the tick phase used */
	uint64_t pred_timer_inferred;	/* lazy, forced: flushes inferred from the kernel's reuse */
	/* what-if (opts.whatif): [policy][0 strict, 1 lazy] */
	struct siommu_replay_policy_result whatif[SIOMMU_REPLAY_NR_POLICIES][2];
};

/**
 * siommu_replay_create() - A replay with options @opts (NULL: defaults).
 * Context: any thread.
 * Returns: 0, -EINVAL (@ctx or @out NULL, an option out of range) or -ENOMEM.
 */
SIOMMU_API int siommu_replay_create(struct siommu_ctx *ctx,
				    const struct siommu_replay_opts *opts,
				    struct siommu_replay **out);

/** siommu_replay_destroy() - Free everything.  NULL is accepted.  Context: the owner thread. */
SIOMMU_API void siommu_replay_destroy(struct siommu_replay *r);

/**
 * siommu_replay_read_file() - Read the events of @path ("-": standard
 * input), plain, gzip or xz.  Files read one after the other make one trace.
 * Context: the owner thread, before siommu_replay_run().
 * Plain text is parsed as it is read (a megabyte at a time); compressed
 * input is read whole first.
 * Returns: 0 (bad lines, if any, are issues), -EINVAL (strict and a bad
 * line, or a corrupt compressed stream: an issue says where), -EALREADY
 * (after run), -ENOMEM (nothing of this call stays read: it may be made
 * again), or the negative errno of opening/reading the file (the lines
 * before a read error stay read).
 */
SIOMMU_API int siommu_replay_read_file(struct siommu_replay *r, const char *path);

/**
 * siommu_replay_read_buf() - The same for @len bytes at @buf (need not end
 * in a NUL or a newline), named @name in issues.
 * Returns: as siommu_replay_read_file().
 */
SIOMMU_API int siommu_replay_read_buf(struct siommu_replay *r, const char *name,
				      const void *buf, size_t len);

/**
 * siommu_replay_run() - Replay what was read: exact mode, then the
 * allocation models the options ask for.  Once (a run that failed with
 * -ENOMEM did not happen: nothing of it stays, and it may be made again).
 * Context: the owner thread, outside a read-side section.
 * Returns: 0, -EALREADY (second call), -ENOMEM, or an error of creating the
 * page table (-EINVAL for options the format refuses, e.g. opts.linux_pt
 * with a format other than VT-d second stage).
 */
SIOMMU_API int siommu_replay_run(struct siommu_replay *r);

/** siommu_replay_get_report() - The figures so far.  Valid until destroy.  Context: the owner thread. */
SIOMMU_API const struct siommu_replay_report *siommu_replay_get_report(struct siommu_replay *r);

/**
 * siommu_replay_issue() - The @i-th issue recorded (in input order for bad
 * lines, then replay order), or NULL past the end.  Only the first 10000 are
 * kept; the report counts them all.
 */
SIOMMU_API const struct siommu_replay_issue *siommu_replay_issue(struct siommu_replay *r,
								 size_t i);

/** siommu_replay_nr_samples() / siommu_replay_samples() - The state over time (exact mode). */
SIOMMU_API size_t siommu_replay_nr_samples(struct siommu_replay *r);
SIOMMU_API const struct siommu_replay_sample *siommu_replay_samples(struct siommu_replay *r);

/**
 * siommu_replay_pred_point() - Prediction accuracy over time: after the
 * @i-th allocation, the allocations so far and the forced and free-running
 * hits.  Returns 0, or -ENOENT past the end.
 */
SIOMMU_API int siommu_replay_pred_point(struct siommu_replay *r, size_t i,
					uint64_t *ts_ns, uint64_t *forced_hits,
					uint64_t *free_hits);

/** siommu_replay_pt() - The exact-mode page table after run (for a dump), or NULL. */
SIOMMU_API struct siommu_pt *siommu_replay_pt(struct siommu_replay *r);

/** siommu_replay_issue_kind_name() - "bad-line", "map-over-live", ..., or NULL. */
SIOMMU_API const char *siommu_replay_issue_kind_name(enum siommu_replay_issue_kind kind);
/** siommu_replay_policy_name() - "linux", "softiommu", "first-fit", or NULL. */
SIOMMU_API const char *siommu_replay_policy_name(enum siommu_replay_policy pol);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_REPLAY_H */
