/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The soak's shared parts (tests/soak/soak.c): the stop flag and seed, the
 * contract check of every call's result (C()), invariant counters, and the
 * module record each part of the soak fills (soak.c: core and mem;
 * soak_ioas.c, soak_iopf.c, soak_mm.c).
 *
 * A module's threads run until soak_stopping(); then soak.c joins them,
 * calls the module's settle() (end-of-run checks that need the world still
 * there: every page request answered, pins gone) and, in reverse order of
 * creation, its destroy() (every object destroyed; each destroy must
 * return 0).  Every invariant is counted: checked and violated; a
 * violation is printed (the first few) and fails the run at the end.
 */
#ifndef SOAK_H
#define SOAK_H

#include <pthread.h>
#include <stdatomic.h>

#include "failnth.h"

#include <softiommu/softiommu.h>

#define SOAK_PG		4096ull

extern _Atomic bool soak_stop_flag;
extern uint64_t soak_seed;
/*
 * --break NAME: a broken variant for make check (a library break switch,
 * testing builds only) that the soak's invariants must catch; the run ends
 * at its first violation.  NULL: none.
 */
extern const char *soak_break;

static inline bool soak_broken(const char *name)
{
	return soak_break && !strcmp(soak_break, name);
}

static inline bool soak_stopping(void)
{
	return atomic_load_explicit(&soak_stop_flag, memory_order_relaxed);
}

static inline uint64_t soak_rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* A thread's random state, distinct per (module, thread). */
static inline uint64_t soak_thread_seed(uint64_t salt)
{
	return (soak_seed ^ (salt * 0x9e3779b97f4a7c15ull)) | 1;
}

/* ------------------------------------------------------------------ contracts */

/* Parse the contract of @name (before any thread starts). */
void soak_contract_prepare(const char *name);
void soak_check_ret(const char *call, int64_t ret, const char *file, int line);

/* The call's result, checked against its contract's Returns line. */
#define C(call)								\
	({								\
		int64_t __r = (int64_t)(call);				\
		soak_check_ret(#call, __r, __FILE__, __LINE__);		\
		__r;							\
	})

/* ------------------------------------------------------------------ invariants */

struct soak_inv {
	const char *name;
	_Atomic unsigned long checked, violated;
};

void soak_violation(struct soak_inv *inv, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline void soak_pass(struct soak_inv *inv)
{
	atomic_fetch_add_explicit(&inv->checked, 1, memory_order_relaxed);
}

/* Check @cond for invariant @inv: counted; a violation says why. */
#define INV(inv, cond, ...)						\
	do {								\
		if (cond)						\
			soak_pass(inv);					\
		else							\
			soak_violation(inv, __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* ------------------------------------------------------------------ modules */

#define SOAK_MAX_THREADS	8
#define SOAK_MAX_INVS		16

struct soak_module {
	const char *name;
	const char *const *contracts;		/* NULL-terminated */
	void (*create)(struct siommu_ctx *ctx);
	void *(*thread[SOAK_MAX_THREADS])(void *);	/* arg: the thread's index */
	void (*settle)(void);
	void (*destroy)(void);
	struct soak_inv *inv[SOAK_MAX_INVS];	/* NULL-terminated */
	_Atomic unsigned long ops;
};

static inline void soak_op(struct soak_module *m)
{
	atomic_fetch_add_explicit(&m->ops, 1, memory_order_relaxed);
}

extern struct soak_module soak_ioas, soak_iopf, soak_mm;

/* The last log message containing @needle (the sink keeps the last of each kind asked). */
void soak_log_watch(const char *needle);
bool soak_log_seen(const char *needle, char *buf, size_t len, unsigned long *count);

#endif /* SOAK_H */
