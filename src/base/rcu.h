/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RCU glue over liburcu.  Internal header; the public face is
 * siommu_read_lock() and friends in softiommu/base.h.
 *
 * Flavor: urcu-memb, with registration done lazily by the library.  Why, and
 * the figures behind it, are in docs/architecture.md ("RCU").  In short:
 * memb's read-side section is the cheapest that needs no cooperation from
 * the caller's threads beyond registration, its grace periods block on a
 * futex instead of polling, and the registration it needs is cheap to check
 * on every entry: the check reads the same thread-local reader structure the
 * read lock then writes.
 *
 * Registration rule: every path into liburcu that needs a registered thread
 * (read lock, call_rcu, rcu_barrier) goes through siommu_rcu_ensure_thread()
 * first.  A thread the application registered itself is used as is; one the
 * library registered is unregistered by a thread-exit destructor.
 *
 * ThreadSanitizer cannot see liburcu's grace periods (they are made of
 * membarrier() and volatile accesses inside an uninstrumented library), so
 * in a TSan build the glue tells it what RCU guarantees, and no more
 * (rcu.c, "ThreadSanitizer"): each thread has a token that its outermost
 * read_unlock releases; a grace period acquires, once it is over, the
 * tokens of the threads that were inside a read-side section when it
 * began (synchronize, rcu_barrier), or when call_rcu() queued the callback
 * (the callback).  A thread that was not in a section then gives the grace
 * period nothing.
 */
#ifndef SIOMMU_BASE_RCU_H
#define SIOMMU_BASE_RCU_H

#include <stdbool.h>
#include <urcu/tls-compat.h>

/*
 * Thread-local state without __tls_get_addr() (docs/architecture.md, "RCU:
 * thread state through the shared library").
 *
 * liburcu declares its per-thread reader structure with the default
 * (global-dynamic) TLS model, so from position-independent code (the
 * shared library) every access to it is a call to __tls_get_addr(): three
 * or four per read-side section.  Redeclaring it initial-exec would make
 * the library's own relocations force liburcu-memb's TLS block into static
 * TLS, which a dlopen()ed liburcu cannot get (its block is 128-byte
 * aligned, more than glibc's static TLS alignment): dlopen() of the library
 * would fail.  Instead each thread keeps, in the library's own
 * initial-exec TLS, a pointer to its liburcu reader, and liburcu's own
 * inline read-side code is compiled against that pointer: URCU_TLS() is
 * redefined for the one include of liburcu-memb's static inlines below and
 * restored after it.  The read-side code is liburcu's; only where it finds
 * the thread's reader changes.
 *
 * The pointer starts at a static zeroed reader (registered == 0, no
 * section), which only the lazy check and siommu_rcu_read_ongoing() read;
 * siommu_rcu_register_slow() points it at the thread's real reader before
 * any read lock.  liburcu's TLS lives as long as the thread, so the pointer
 * never dangles.  The library's initial-exec TLS is a few words, 8-byte
 * aligned: it fits glibc's static TLS surplus when the library is dlopen()ed
 * (tests/install/dlopen.c checks it).
 */
struct urcu_reader;
extern __thread struct urcu_reader *siommu_rcu_reader
	__attribute__((tls_model("initial-exec")));
#undef URCU_TLS
#define URCU_TLS(name)	(*siommu_rcu_tls_##name)
#define siommu_rcu_tls_urcu_memb_reader	siommu_rcu_reader
#include <urcu/urcu-memb.h>
#undef URCU_TLS
#define URCU_TLS(name)	(name)	/* as urcu/tls-compat.h defines it */

#include "base/compiler.h"

#if defined(__SANITIZE_THREAD__)
#define SIOMMU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SIOMMU_TSAN 1
#endif
#endif

#ifdef SIOMMU_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define siommu_tsan_acquire(p)	__tsan_acquire(p)
#define siommu_tsan_release(p)	__tsan_release(p)
#else
#define siommu_tsan_acquire(p)	do { (void)(p); } while (0)
#define siommu_tsan_release(p)	do { (void)(p); } while (0)
#endif

/*
 * True iff the library registered this thread with urcu-memb and has not
 * unregistered it (rcu.c).  Our own flag, initial-exec, so that the lazy
 * registration check costs one %fs-relative load.  A thread the application
 * registered itself keeps it false: its check takes the slow path, which
 * looks at liburcu's own flag (the application may unregister it at any
 * time, so it cannot be cached).
 */
extern __thread bool siommu_rcu_registered
	__attribute__((tls_model("initial-exec")));

void siommu_rcu_register_slow(void) __attribute__((noinline));

/* Make sure the calling thread is registered with urcu-memb. */
static inline void siommu_rcu_ensure_thread(void)
{
	if (siommu_unlikely(!siommu_rcu_registered))
		siommu_rcu_register_slow();
}

#ifdef SIOMMU_TSAN
/* rcu.c: the annotated read-side primitives of TSan builds. */
void siommu_rcu_tsan_read_lock(void);
void siommu_rcu_tsan_read_unlock(void);
/* Grace periods and call_rcu()s that have noted their readers (tests). */
extern unsigned long siommu_rcu_tsan_notes;
#endif

/* Context: any thread; lock-free.  Sections nest. */
static inline void siommu_rcu_read_lock(void)
{
	siommu_rcu_ensure_thread();
#ifdef SIOMMU_TSAN
	siommu_rcu_tsan_read_lock();
#else
	urcu_memb_read_lock();
#endif
}

/* Context: inside a section this thread entered. */
static inline void siommu_rcu_read_unlock(void)
{
#ifdef SIOMMU_TSAN
	siommu_rcu_tsan_read_unlock();
#else
	urcu_memb_read_unlock();
#endif
}

static inline bool siommu_rcu_read_ongoing(void)
{
	return siommu_rcu_reader->registered && urcu_memb_read_ongoing();
}

/*
 * Wait for a grace period.  Context: outside any read-side section (checked
 * in testing builds); never while holding a lock a reader takes (lockdep
 * checks that in testing builds: lockdep.c).
 */
void siommu_rcu_synchronize(void);

/* A deferred free.  Embed it in the object; @func runs after a grace period. */
struct siommu_rcu_head {
	struct rcu_head urcu;
	void (*func)(struct siommu_rcu_head *head);
#ifdef SIOMMU_TSAN
	void *tsan_readers;	/* rcu.c: the readers call_rcu() must wait for */
#endif
};

/* Context: any thread, inside or outside a read-side section. */
void siommu_call_rcu(struct siommu_rcu_head *head,
		     void (*func)(struct siommu_rcu_head *head));

/* Wait for every callback queued so far to have run.  Context: outside read-side sections. */
void siommu_rcu_barrier(void);

#endif
