// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Contexts, logging and trace emission.
 *
 * The log and trace sinks are small immutable records published through an
 * RCU pointer: a logger enters a read-side section, loads the record
 * (acquire, pairing with the release store in the setter) and calls the sink
 * with a consistent (fn, opaque, level) triple.  The setter swaps the pointer
 * under cfg_lock and frees the old record after a grace period (call_rcu),
 * so it never blocks.  Sinks are therefore called inside a read-side
 * section: they must not call siommu_synchronize() (it returns -EDEADLK).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/ctx.h"

static void stderr_sink(void *opaque, enum siommu_log_level level, const char *msg)
{
	fprintf(stderr, "softiommu: %s: %s\n", siommu_log_level_name(level), msg);
}

static void free_log_rcu(struct siommu_rcu_head *h)
{
	siommu_free(siommu_container_of(h, struct ctx_log, rcu));
}

static void free_trace_rcu(struct siommu_rcu_head *h)
{
	siommu_free(siommu_container_of(h, struct ctx_trace, rcu));
}

SIOMMU_API int siommu_ctx_create(struct siommu_ctx **out)
{
	struct siommu_ctx *ctx;

	if (!out)
		return -EINVAL;
	ctx = siommu_zalloc(sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->log = siommu_zalloc(sizeof(*ctx->log));
	if (!ctx->log)
		goto err_free_ctx;
	ctx->log->level = SIOMMU_LOG_WARN;
	ctx->log->fn = stderr_sink;
	siommu_mutex_init(&ctx->cfg_lock, "ctx.cfg", SIOMMU_RANK_CTX_CFG);
	*out = ctx;
	return 0;

err_free_ctx:
	siommu_free(ctx);
	return -ENOMEM;
}

SIOMMU_API int siommu_ctx_destroy(struct siommu_ctx *ctx)
{
	if (!ctx)
		return 0;
	if (__atomic_load_n(&ctx->nr_objects, __ATOMIC_ACQUIRE))
		return -EBUSY;
	/* Callbacks queued by this context's objects may still reference it. */
	siommu_rcu_barrier();
	siommu_free(ctx->trace);
	siommu_free(ctx->log);
	siommu_mutex_destroy(&ctx->cfg_lock);
	siommu_free(ctx);
	return 0;
}

SIOMMU_API const char *siommu_log_level_name(enum siommu_log_level level)
{
	switch (level) {
	case SIOMMU_LOG_ERR:	return "err";
	case SIOMMU_LOG_WARN:	return "warn";
	case SIOMMU_LOG_INFO:	return "info";
	case SIOMMU_LOG_DEBUG:	return "debug";
	}
	return NULL;
}

SIOMMU_API int siommu_log_level_parse(const char *name, enum siommu_log_level *level)
{
	static const enum siommu_log_level all[] = {
		SIOMMU_LOG_ERR, SIOMMU_LOG_WARN, SIOMMU_LOG_INFO, SIOMMU_LOG_DEBUG,
	};
	unsigned int i;

	if (!name || !level)
		return -EINVAL;
	for (i = 0; i < SIOMMU_ARRAY_SIZE(all); i++) {
		if (!strcmp(name, siommu_log_level_name(all[i]))) {
			*level = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

SIOMMU_API int siommu_ctx_set_log(struct siommu_ctx *ctx, enum siommu_log_level level,
				  siommu_log_fn *fn, void *opaque)
{
	struct ctx_log *n, *old;

	if (!ctx || !siommu_log_level_name(level))
		return -EINVAL;
	n = siommu_zalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->level = level;
	n->fn = fn;
	n->opaque = opaque;

	siommu_mutex_lock(&ctx->cfg_lock);
	old = ctx->log;
	/* Pairs with the load-acquire in siommu_log(). */
	__atomic_store_n(&ctx->log, n, __ATOMIC_RELEASE);
	siommu_mutex_unlock(&ctx->cfg_lock);
	siommu_call_rcu(&old->rcu, free_log_rcu);
	return 0;
}

SIOMMU_API void siommu_log(struct siommu_ctx *ctx, enum siommu_log_level level,
			   const char *fmt, ...)
{
	struct ctx_log *log;
	char msg[1024];
	va_list ap;
	int n;

	if (!ctx || !fmt)
		return;
	siommu_rcu_read_lock();
	log = __atomic_load_n(&ctx->log, __ATOMIC_ACQUIRE);
	if (log->fn && level <= log->level) {
		va_start(ap, fmt);
		n = vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		if (n >= (int)sizeof(msg))
			memcpy(msg + sizeof(msg) - 4, "...", 4);	/* said, not silent */
		if (n >= 0)
			log->fn(log->opaque, level, msg);
	}
	siommu_rcu_read_unlock();
}

SIOMMU_API int siommu_ctx_set_trace(struct siommu_ctx *ctx, siommu_trace_fn *fn,
				    void *opaque)
{
	struct ctx_trace *n = NULL, *old;

	if (!ctx)
		return -EINVAL;
	if (fn) {
		n = siommu_zalloc(sizeof(*n));
		if (!n)
			return -ENOMEM;
		n->fn = fn;
		n->opaque = opaque;
	}
	siommu_mutex_lock(&ctx->cfg_lock);
	old = ctx->trace;
	/* Pairs with the load-acquire in siommu_trace_emit(). */
	__atomic_store_n(&ctx->trace, n, __ATOMIC_RELEASE);
	siommu_mutex_unlock(&ctx->cfg_lock);
	if (old)
		siommu_call_rcu(&old->rcu, free_trace_rcu);
	return 0;
}

int siommu_trace_validate(const struct siommu_trace_event *ev);

SIOMMU_API int siommu_trace_emit(struct siommu_ctx *ctx,
				 const struct siommu_trace_event *ev)
{
	struct siommu_trace_record rec;
	struct ctx_trace *tr;
	struct timespec ts;
	char comm[16];
	int ret;

	if (!ctx || !ev)
		return -EINVAL;
	ret = siommu_trace_validate(ev);
	if (ret)
		return ret;
	if (!siommu_trace_enabled(ctx))
		return 0;

	if (pthread_getname_np(pthread_self(), comm, sizeof(comm)))
		strcpy(comm, "<...>");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	memset(&rec, 0, sizeof(rec));
	rec.task = comm;
	rec.pid = (int)gettid();
	rec.cpu = sched_getcpu();
	if (rec.cpu < 0)
		rec.cpu = 0;
	memcpy(rec.irq_flags, ".....", 6);
	rec.ts_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	rec.ev = *ev;

	siommu_rcu_read_lock();
	tr = __atomic_load_n(&ctx->trace, __ATOMIC_ACQUIRE);
	if (tr)
		tr->fn(tr->opaque, &rec);
	siommu_rcu_read_unlock();
	return 0;
}
