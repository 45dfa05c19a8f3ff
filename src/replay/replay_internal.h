/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replay internals.  One struct siommu_replay belongs to one thread at a
 * time (the caller's), so nothing here is locked.
 */
#ifndef SIOMMU_REPLAY_INTERNAL_H
#define SIOMMU_REPLAY_INTERNAL_H

#include <stdint.h>
#include <stddef.h>

#include "softiommu/replay.h"

#define RP_MAX_ISSUES	10000u
#define RP_MAX_LINE	4096u

/* One event, as read (48 bytes). */
struct rp_ev {
	uint64_t ts;		/* ns */
	uint64_t iova;		/* map, unmap, io_page_fault */
	uint64_t size;		/* map, unmap */
	uint64_t x;		/* map: paddr; unmap: unmapped_size; fault: flags */
	uint64_t line;
	uint32_t file;		/* index in files[] */
	uint32_t dev;		/* device events: index in devs[] */
	int32_t pid;
	uint16_t cpu;
	uint8_t type;		/* enum siommu_trace_type */
	uint8_t pad;
};

/* One trace line's event, as the readers give it to add_event(). */
struct rp_line {
	uint64_t ts;		/* ns */
	uint64_t iova, size;
	uint64_t x;		/* as rp_ev.x */
	const char *device;	/* device events; NULL otherwise */
	int32_t pid, cpu;
	uint8_t type;		/* enum siommu_trace_type */
};

/*
 * The fast path of the line reader (fastline.c): a map or unmap line at @s
 * (@avail bytes readable, no NUL needed) read in place.  Returns the bytes
 * of the line with its newline, or 0 when the general parser must decide
 * (a line the fast path accepts is one siommu_trace_parse_line() accepts
 * with the same fields).
 */
size_t rp_fast_line(const char *s, size_t avail, struct rp_line *out);

/* An operation of the allocation models, in trace order. */
enum { RP_OP_ALLOC, RP_OP_FREE };
struct rp_op {
	uint8_t type;
	uint16_t cpu;
	int32_t pid;		/* 0: the idle task (softirq on an idle CPU) */
	uint32_t group;		/* allocation id */
	uint64_t ts;
	uint64_t size;		/* ALLOC: bytes the maps of the allocation cover */
	uint64_t iova;		/* ALLOC: the kernel's IOVA (lowest map) */
};

struct rp_issue_rec {
	struct siommu_replay_issue pub;
	char *msg;
};

struct siommu_replay {
	struct siommu_ctx *ctx;
	struct siommu_replay_opts opts;
	bool ran;
	/* input */
	char **files;
	uint32_t nr_files;
	char **devs;
	uint32_t nr_devs;
	struct rp_ev *ev;
	size_t nr_ev, cap_ev;
	uint64_t last_ts;
	/* issues */
	struct rp_issue_rec *issues;
	size_t nr_issues, cap_issues;
	/* exact mode */
	struct siommu_pt *pt;
	struct siommu_replay_sample *samples;
	size_t nr_samples, cap_samples;
	/* allocation ops (from the exact pass) */
	struct rp_op *ops;
	size_t nr_ops, cap_ops;
	uint32_t nr_groups;
	/* prediction over time: per allocation */
	uint64_t *pred_ts;
	uint32_t *pred_forced, *pred_free;
	size_t nr_pred;
	unsigned int nr_cpus;
	uint64_t table_pages;	/* the pool size of every table the replay creates */
	struct siommu_replay_report rep;
};

/* Record an issue (kept if fewer than RP_MAX_ISSUES).  Returns 0 or -ENOMEM. */
int rp_issue(struct siommu_replay *r, enum siommu_replay_issue_kind kind,
	     uint32_t file, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Grow *arr (of *cap elements of @size) to hold @need.  Returns 0 or -ENOMEM. */
int rp_grow(void **arr, size_t *cap, size_t need, size_t size);

/* Exact mode: map/unmap into the table, issues, samples, TLB model, ops. */
int rp_exact(struct siommu_replay *r);

/* Allocation models: prediction (opts.predict) and what-if (opts.whatif). */
int rp_models(struct siommu_replay *r);

#endif
