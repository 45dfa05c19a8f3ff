/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu base layer: errors, RCU read-side sections, contexts, logging,
 * trace events, version, and the test hooks.
 *
 * Conventions that hold for the whole library:
 *  - A function that can fail returns 0 (or a non-negative count) on success
 *    and a negative errno value on failure.  siommu_strerror() and
 *    siommu_errname() describe every value the library returns.
 *  - A failing function that takes a callback never calls it.
 *  - No hidden global state: every object hangs off a struct siommu_ctx the
 *    caller creates.  The one process-wide piece is liburcu's RCU.
 *  - Any thread may call any function, including threads the library has
 *    never seen: RCU registration is done lazily by the library and undone
 *    when the thread exits.
 */
#ifndef SOFTIOMMU_BASE_H
#define SOFTIOMMU_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIOMMU_API __attribute__((visibility("default")))

#define SIOMMU_VERSION_MAJOR 0
#define SIOMMU_VERSION_MINOR 1
#define SIOMMU_VERSION_PATCH 0

/**
 * siommu_version() - The library's version as "MAJOR.MINOR.PATCH".
 * Context: Any thread.  Returns: a static string.
 */
SIOMMU_API const char *siommu_version(void);

/* ------------------------------------------------------------------ errors */

/**
 * siommu_strerror() - Describe an error value returned by the library.
 * @err: a negative errno value (0 gives "Success"; a positive value is
 *       treated as its negation).
 * Context: Any thread; lock-free.
 * Returns: a static string; "Unknown error" for values outside the table.
 */
SIOMMU_API const char *siommu_strerror(int err);

/**
 * siommu_errname() - The symbolic name of an error value ("EEXIST").
 * Context: Any thread; lock-free.
 * Returns: a static string: "OK" for 0, "E?" for values outside the table.
 */
SIOMMU_API const char *siommu_errname(int err);

/**
 * siommu_errname_parse() - Inverse of siommu_errname().
 * @name: "EEXIST", or "OK" for 0.
 * @err: set to the negative errno value on success.
 * Context: Any thread.
 * Returns: 0, or -EINVAL if @name is not in the table (@err untouched).
 */
SIOMMU_API int siommu_errname_parse(const char *name, int *err);

/* ------------------------------------------------------------------ RCU */

/*
 * RCU read-side sections.  Addresses handed out by translation functions are
 * valid only inside the read-side section they were obtained in.  Sections
 * nest.  The library registers the calling thread with liburcu on first use
 * (urcu-memb flavor) and unregisters it when the thread exits; a thread the
 * application registered itself with urcu-memb is used as is.
 */

/** siommu_read_lock() - Enter a read-side section.  Context: any thread; lock-free, never blocks. */
SIOMMU_API void siommu_read_lock(void);
/** siommu_read_unlock() - Leave it.  Context: inside a section entered by this thread. */
SIOMMU_API void siommu_read_unlock(void);
/** siommu_read_ongoing() - Is this thread inside a read-side section?  Context: any thread. */
SIOMMU_API bool siommu_read_ongoing(void);
/**
 * siommu_synchronize() - Wait until every read-side section that was running
 * when it was called has ended (an RCU grace period).
 * Context: any thread, outside a read-side section (-EDEADLK otherwise); may block.
 * Returns: 0 or -EDEADLK.
 */
SIOMMU_API int siommu_synchronize(void);
/**
 * siommu_thread_release() - Unregister the calling thread now rather than at
 * its exit (for threads that live on but will not call the library again;
 * calling the library later simply registers again).
 * Context: any thread, outside a read-side section.
 * Returns: 0 or -EBUSY if inside a read-side section.
 */
SIOMMU_API int siommu_thread_release(void);

/* ------------------------------------------------------------------ context */

struct siommu_ctx;

enum siommu_log_level {
	SIOMMU_LOG_ERR = 3,
	SIOMMU_LOG_WARN = 4,
	SIOMMU_LOG_INFO = 6,
	SIOMMU_LOG_DEBUG = 7,
};

/*
 * Log sink.  Called with a complete message (no trailing newline), from the
 * thread that logged, with no library lock held.  It may be called from
 * several threads at once.
 */
typedef void siommu_log_fn(void *opaque, enum siommu_log_level level,
			   const char *msg);

/**
 * siommu_ctx_create() - Create a context: the root every object hangs off.
 * New contexts log warnings and errors to stderr and emit no trace events.
 * Context: any thread.  Returns: 0, -EINVAL (@out NULL) or -ENOMEM.
 */
SIOMMU_API int siommu_ctx_create(struct siommu_ctx **out);

/**
 * siommu_ctx_destroy() - Destroy a context.
 * Context: any thread, outside a read-side section; waits for pending RCU
 * callbacks of this context.  No other thread may use @ctx concurrently.
 * Returns: 0, or -EBUSY (nothing done) while objects created from it live.
 * NULL is accepted and returns 0.
 */
SIOMMU_API int siommu_ctx_destroy(struct siommu_ctx *ctx);

/**
 * siommu_ctx_set_log() - Route messages at @level or more severe to @fn.
 * @fn NULL discards every message.
 * Context: any thread.  Messages logged after it returns use the new
 * (@level, @fn, @opaque); a siommu_log() that had already loaded the old
 * record before the switch may still be running the old sink with the old
 * opaque when this returns.  Once a siommu_synchronize() called after this
 * returns has returned, no call uses the old sink or opaque any more (then
 * the old opaque may be freed).  Never call it from a sink.
 * Returns: 0, -EINVAL (@ctx NULL, @level not a siommu_log_level) or
 * -ENOMEM (nothing changed: the old sink stays).
 */
SIOMMU_API int siommu_ctx_set_log(struct siommu_ctx *ctx,
				  enum siommu_log_level level,
				  siommu_log_fn *fn, void *opaque);

/**
 * siommu_log() - Log through the context's sink (printf format).
 * Messages longer than 1023 bytes are cut and end with "...".
 * Context: any thread; lock-free apart from what the sink does.
 */
SIOMMU_API void siommu_log(struct siommu_ctx *ctx, enum siommu_log_level level,
			   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** siommu_log_level_name() - "err", "warn", "info", "debug", or NULL. */
SIOMMU_API const char *siommu_log_level_name(enum siommu_log_level level);
/** siommu_log_level_parse() - Inverse of the above.  Returns 0 or -EINVAL. */
SIOMMU_API int siommu_log_level_parse(const char *name,
				      enum siommu_log_level *level);

/* ------------------------------------------------------------------ trace events */

/*
 * Trace events, in the text format of the Linux "iommu" trace events
 * (include/trace/events/iommu.h), so that tools reading the kernel's trace
 * read ours too.  The full line layout is ftrace's:
 *
 *        swapper/0-1       [000] .....     1.529858: map: IOMMU: iova=0x...
 *   task(16, right-aligned)-pid(left, 7) [cpu] flags seconds.micros: name: text
 */
enum siommu_trace_type {
	SIOMMU_TRACE_ADD_DEVICE_TO_GROUP,
	SIOMMU_TRACE_REMOVE_DEVICE_FROM_GROUP,
	SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN,
	SIOMMU_TRACE_DETACH_DEVICE_FROM_DOMAIN,
	SIOMMU_TRACE_MAP,
	SIOMMU_TRACE_UNMAP,
	SIOMMU_TRACE_IO_PAGE_FAULT,
	SIOMMU_TRACE_NR_TYPES,
};

/* One event: which fields are meaningful depends on @type. */
struct siommu_trace_event {
	enum siommu_trace_type type;
	int gid;			/* add/remove_device_to/from_group */
	const char *device;		/* group, attach/detach, io_page_fault */
	const char *driver;		/* io_page_fault */
	uint64_t iova;			/* map, unmap, io_page_fault */
	uint64_t paddr;			/* map */
	uint64_t size;			/* map, unmap */
	uint64_t unmapped_size;		/* unmap */
	int flags;			/* io_page_fault */
};

/* An event with ftrace's per-line context. */
struct siommu_trace_record {
	const char *task;		/* thread name (comm) */
	int pid;			/* thread id */
	int cpu;
	char irq_flags[6];		/* ftrace's five latency characters, NUL-terminated */
	uint64_t ts_ns;			/* timestamp, nanoseconds */
	struct siommu_trace_event ev;
};

/*
 * Trace sink.  Called synchronously from the thread that caused the event,
 * with no library lock held; it may run on several threads at once.  The
 * record and its strings are valid only during the call.
 */
typedef void siommu_trace_fn(void *opaque, const struct siommu_trace_record *rec);

/**
 * siommu_ctx_set_trace() - Send the context's trace events to @fn (NULL: off).
 * Context: any thread.  Events emitted after it returns use the new (@fn,
 * @opaque); a siommu_trace_emit() that had already loaded the old sink may
 * still be running it, with the old opaque, when this returns.  Once a
 * siommu_synchronize() called after this returns has returned, no call uses
 * them any more.
 * Returns: 0, -EINVAL (@ctx NULL) or -ENOMEM (@fn not NULL and no memory;
 * nothing changed).
 */
SIOMMU_API int siommu_ctx_set_trace(struct siommu_ctx *ctx, siommu_trace_fn *fn,
				    void *opaque);

/**
 * siommu_trace_emit() - Emit an event through the context's trace sink,
 * stamped with the calling thread's name, id, CPU and CLOCK_MONOTONIC time.
 * Context: any thread.  Returns: 0, or -EINVAL for a malformed event.
 */
SIOMMU_API int siommu_trace_emit(struct siommu_ctx *ctx,
				 const struct siommu_trace_event *ev);

/** siommu_trace_type_name() - "map", "unmap", ... or NULL if out of range. */
SIOMMU_API const char *siommu_trace_type_name(enum siommu_trace_type type);

/**
 * siommu_trace_format() - Format an event's text ("IOMMU: iova=...") as the
 * kernel's print fmt does, into @buf of @len bytes.
 * Context: any thread.
 * Returns: the length written (excluding the NUL), -EINVAL for a malformed
 * event, or -ENOSPC if it does not fit (then @buf holds "").
 */
SIOMMU_API int siommu_trace_format(const struct siommu_trace_event *ev,
				   char *buf, size_t len);

/**
 * siommu_trace_format_line() - Format a whole ftrace line (no newline).
 * Returns: as siommu_trace_format().
 */
SIOMMU_API int siommu_trace_format_line(const struct siommu_trace_record *rec,
					char *buf, size_t len);

/**
 * siommu_trace_parse_line() - Parse one line of a Linux trace file.
 * @line: the line, with or without its newline.
 * @rec: filled on success; its strings point into @strbuf.
 * @strbuf, @strbuf_len: storage for the record's strings (256 bytes suffice
 *                       for any line of up to 200 characters).
 * Context: any thread.
 * Returns: 0; -ENOENT for a comment or blank line; -EOPNOTSUPP for a well
 * formed line of an event this parser does not know; -EINVAL for a malformed
 * line; -ENOSPC if @strbuf is too small.  On error @rec is unspecified.
 */
SIOMMU_API int siommu_trace_parse_line(const char *line,
				       struct siommu_trace_record *rec,
				       char *strbuf, size_t strbuf_len);

/* ------------------------------------------------------------------ test hooks */

/*
 * Test hooks.  They work only in a library built with -Dtesting=true
 * (siommu_testing_build() says which); elsewhere they return -EOPNOTSUPP and
 * the hooks compile to nothing.  All of them are per thread.
 */

/** siommu_testing_build() - Was the library built with test hooks? */
SIOMMU_API bool siommu_testing_build(void);

/**
 * siommu_test_fail_nth() - Make the @n-th library allocation made by the
 * calling thread from now on fail (1 = the next one); 0 switches it off.
 * Returns: 0 or -EOPNOTSUPP.
 */
SIOMMU_API int siommu_test_fail_nth(unsigned long n);

/**
 * siommu_test_alloc_count() - Allocations attempted by the calling thread
 * since its last siommu_test_fail_nth() call.  Returns: the count, or
 * -EOPNOTSUPP.
 */
SIOMMU_API long siommu_test_alloc_count(void);

/**
 * siommu_test_yield() - Enable the debug yield points in @mask (bit N =
 * point N, see src/base/debug.h) for the calling thread: at each enabled
 * point the thread yields the CPU, widening race windows for stress tests.
 * Returns: 0 or -EOPNOTSUPP.
 */
SIOMMU_API int siommu_test_yield(uint64_t mask);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_BASE_H */
