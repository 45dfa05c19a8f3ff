/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The context: root of every object, home of the log and trace sinks.
 * Internal header.
 */
#ifndef SIOMMU_BASE_CTX_H
#define SIOMMU_BASE_CTX_H

#include "softiommu/base.h"
#include "base/lock.h"
#include "base/rcu.h"

struct ctx_log {
	enum siommu_log_level level;
	siommu_log_fn *fn;			/* NULL: discard */
	void *opaque;
	struct siommu_rcu_head rcu;
};

struct ctx_trace {
	siommu_trace_fn *fn;
	void *opaque;
	struct siommu_rcu_head rcu;
};

struct siommu_ctx {
	struct siommu_mutex cfg_lock;	/* serializes sink replacement */
	struct ctx_log *log;		/* RCU; replaced under cfg_lock; never NULL */
	struct ctx_trace *trace;	/* RCU; replaced under cfg_lock; NULL: off */
	long nr_objects;		/* atomic: live objects made from this ctx */
};

/* Objects created from a context hold it busy (siommu_ctx_destroy() -EBUSY). */
static inline void siommu_ctx_hold(struct siommu_ctx *ctx)
{
	__atomic_fetch_add(&ctx->nr_objects, 1, __ATOMIC_RELAXED);
}

static inline void siommu_ctx_unhold(struct siommu_ctx *ctx)
{
	__atomic_fetch_sub(&ctx->nr_objects, 1, __ATOMIC_RELEASE);
}

/* Is tracing on?  A hint for callers that would build an event for nothing. */
static inline bool siommu_trace_enabled(struct siommu_ctx *ctx)
{
	return __atomic_load_n(&ctx->trace, __ATOMIC_RELAXED) != NULL;
}

#define siommu_err(ctx, ...)	siommu_log(ctx, SIOMMU_LOG_ERR, __VA_ARGS__)
#define siommu_warn(ctx, ...)	siommu_log(ctx, SIOMMU_LOG_WARN, __VA_ARGS__)
#define siommu_info(ctx, ...)	siommu_log(ctx, SIOMMU_LOG_INFO, __VA_ARGS__)
#define siommu_dbg(ctx, ...)	siommu_log(ctx, SIOMMU_LOG_DEBUG, __VA_ARGS__)

#endif
