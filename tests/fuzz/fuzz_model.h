/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the API-level fuzz targets (fuzz_api.c, fuzz_fault_queue.c):
 * an input reader, the contract oracle (the "Returns" lines of the public
 * headers, parsed by tests/common/failnth.h) with a per-function cache, and
 * the failure report.  A mismatch prints what was called, what it returned
 * and what the model expected, then aborts (libFuzzer saves the input).
 */
#ifndef SOFTIOMMU_FUZZ_MODEL_H
#define SOFTIOMMU_FUZZ_MODEL_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failnth.h"
#include "base/ctx.h"		/* ctx->nr_objects: what a destroy would find live */

/* ------------------------------------------------------------------ input */

struct fz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fz_u8(struct fz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);

	return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);

	return lo | (uint32_t)fz_u16(in) << 16;
}

/* ------------------------------------------------------------------ failure */

/* What ran last, for the report. */
static char fz_where[256];
static unsigned int fz_opno;
static bool fz_trace;			/* SIOMMU_FUZZ_TRACE=1: print every call and its result */

__attribute__((noreturn, format(printf, 1, 2)))
static inline void fz_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nFUZZ MODEL MISMATCH (op #%u, %s): ", fz_opno, fz_where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

#define FZ_CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "\n%s:%d: check \"%s\" failed", __FILE__, \
				__LINE__, #cond);			\
			fz_die(__VA_ARGS__);				\
		}							\
	} while (0)

/* ------------------------------------------------------------------ contracts */

struct fz_contract_cache {
	const char *name;		/* a string literal */
	int nerrs;			/* -1: no contract */
	int errs[FN_MAX_ERRS];
};

static struct fz_contract_cache fz_cc[256];

static inline void fz_contracts_init(void)
{
	/* The headers are read from the source tree (SIOMMU_SOURCE_DIR). */
#ifdef SIOMMU_FUZZ_SOURCE_DIR
	if (!getenv("SIOMMU_SOURCE_DIR"))
		setenv("SIOMMU_SOURCE_DIR", SIOMMU_FUZZ_SOURCE_DIR, 0);
#endif
	fz_trace = getenv("SIOMMU_FUZZ_TRACE") && *getenv("SIOMMU_FUZZ_TRACE") == '1';
	fn_contracts_load();
	if (!fn_contracts_db.nr) {
		fprintf(stderr, "fuzz: no contracts found under $SIOMMU_SOURCE_DIR/include/softiommu\n");
		abort();
	}
}

static inline const struct fz_contract_cache *fz_contract(const char *name)
{
	unsigned int h = 5381, i;
	const char *s;

	for (s = name; *s; s++)
		h = h * 33 + (unsigned char)*s;
	for (i = 0; i < 256; i++) {
		struct fz_contract_cache *c = &fz_cc[(h + i) % 256];

		if (c->name && (c->name == name || !strcmp(c->name, name)))
			return c;
		if (!c->name) {
			c->name = name;
			c->nerrs = fn_contract_errors(name, c->errs, 0);
			return c;
		}
	}
	abort();
}

/*
 * The minimum oracle: a negative return must be one of the errors the
 * function's contract documents.
 */
static inline int64_t fz_ret_x(const char *name, int64_t ret, int extra)
{
	const struct fz_contract_cache *c;
	int i;

	snprintf(fz_where, sizeof(fz_where), "%s -> %s", name,
		 ret < 0 ? siommu_errname((int)ret) : "ok");
	if (fz_trace)
		fprintf(stderr, "op #%u: %s (%lld)\n", fz_opno, fz_where, (long long)ret);
	if (ret >= 0)
		return ret;
	c = fz_contract(name);
	if (c->nerrs < 0)
		fz_die("%s returned %s but has no contract with a Returns part in "
		       "include/softiommu/", name, siommu_errname((int)ret));
	for (i = 0; i < c->nerrs; i++)
		if (c->errs[i] == ret)
			return ret;
	if (extra && ret == extra)
		return ret;
	fz_die("%s returned %s (%s), which its contract's Returns does not document",
	       name, siommu_errname((int)ret), siommu_strerror((int)ret));
}

static inline int64_t fz_ret(const char *name, int64_t ret)
{
	return fz_ret_x(name, ret, 0);
}

/* Call a library function and check its result against its contract. */
#define FZ(fn, ...)	((int)fz_ret(#fn, (int64_t)fn(__VA_ARGS__)))
#define FZ64(fn, ...)	fz_ret(#fn, (int64_t)fn(__VA_ARGS__))
/*
 * The same for calls whose contract passes on "a callback's error": the
 * fuzzer's MMIO callbacks fail with -EIO only.
 */
#define FZ_MMIO(fn, ...) ((int)fz_ret_x(#fn, (int64_t)fn(__VA_ARGS__), -EIO))

/* The result must be @want (0 or an error). */
#define FZ_WANT(ret, want)						\
	do {								\
		int __r = (ret), __w = (want);				\
		if (__r != __w)						\
			fz_die("returned %s, the model expected %s",	\
			       siommu_errname(__r), siommu_errname(__w)); \
	} while (0)

/* A set of acceptable errors (0 means "success expected" when empty). */
struct fz_exp {
	unsigned int n;
	int e[8];
};

static inline void fz_exp_add(struct fz_exp *x, int e)
{
	if (x->n < 8)
		x->e[x->n++] = e;
}

static inline bool fz_exp_has(const struct fz_exp *x, int e)
{
	unsigned int i;

	for (i = 0; i < x->n; i++)
		if (x->e[i] == e)
			return true;
	return false;
}

/* @ret must be 0 if no error is expected, else one of the expected ones. */
static inline void fz_exp_check(const struct fz_exp *x, int ret)
{
	char list[128] = "";
	unsigned int i;

	if (!x->n && !ret)
		return;
	if (x->n && fz_exp_has(x, ret))
		return;
	for (i = 0; i < x->n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? "|" : "", siommu_errname(x->e[i]));
	fz_die("returned %s, the model expected %s", siommu_errname(ret), x->n ? list : "OK");
}

static void fz_log_none(void *opaque, enum siommu_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/* ------------------------------------------------------------------ the context */

/*
 * One context (and what else a target keeps) for many inputs.  siommu_ctx_destroy() waits for every pending
 * RCU callback (urcu's barrier), and liburcu's call_rcu thread sleeps 10 ms
 * between batches: destroying the context after each input would cap the
 * fuzzer at a few dozen inputs a second.  So each input ends with the
 * context empty, checked exactly as siommu_ctx_destroy() checks it (no
 * object made from it is live), and the context is really destroyed, which
 * must return 0, every FZ_CTX_RENEW inputs and at exit (then LeakSanitizer
 * runs and finds anything an input leaked).  Likewise siommu_iommu_destroy()
 * waits for urcu's barrier: targets keep IOMMUs across inputs (and check
 * they are empty) and destroy them when the context is renewed.
 */
/*
 * 2048: a renewal destroys what the targets keep, fuzz_api's up to 72
 * parked IOMMUs, each destroy waiting for urcu's barrier (10 ms or more):
 * at 256 that was a quarter of fuzz_api's time.
 */
#define FZ_CTX_RENEW	2048
#define FZ_LEAK_CHECK	(2 * FZ_CTX_RENEW)	/* a LeakSanitizer check every so many inputs */

#if defined(__SANITIZE_ADDRESS__)
#define FZ_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_LSAN 1
#endif
#endif
#ifdef FZ_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static struct siommu_ctx *fz_ctx;
static unsigned int fz_ctx_uses;

static inline void fz_ctx_destroy(void)
{
	if (fz_ctx && siommu_ctx_destroy(fz_ctx)) {
		fprintf(stderr, "fuzz: siommu_ctx_destroy() of an empty context failed\n");
		abort();
	}
	fz_ctx = NULL;
}

/*
 * @renew: called before the context is destroyed (to destroy what the
 * target keeps across inputs in it), or NULL.
 */
static void (*fz_ctx_renew_fn)(void);

static inline void fz_ctx_exit(void)
{
	if (fz_ctx_renew_fn)
		fz_ctx_renew_fn();
	fz_ctx_destroy();
}

static inline struct siommu_ctx *fz_ctx_get(void (*renew)(void))
{
	fz_ctx_renew_fn = renew;
	if (fz_ctx && ++fz_ctx_uses % FZ_CTX_RENEW == 0) {
		if (renew)
			renew();
		fz_ctx_destroy();
#ifdef FZ_LSAN
		/*
		 * Everything is gone: a leak check now finds what the last inputs
		 * leaked (scripts/fuzz runs these targets with -detect_leaks=0:
		 * libFuzzer's own check after every new input costs 95% of the
		 * time; LeakSanitizer still runs here, every FZ_LEAK_CHECK
		 * inputs, and at exit).
		 */
		if (fz_ctx_uses % FZ_LEAK_CHECK == 0 && __lsan_do_recoverable_leak_check())
			fz_die("LeakSanitizer found leaks (above) in the last %u inputs",
			       FZ_LEAK_CHECK);
#endif
	}
	if (!fz_ctx) {
		if (siommu_ctx_create(&fz_ctx) ||
		    siommu_ctx_set_log(fz_ctx, SIOMMU_LOG_ERR, fz_log_none, NULL))
			abort();
		if (fz_ctx_uses <= 1)
			atexit(fz_ctx_exit);
	}
	return fz_ctx;
}

/* Objects made from the context now (to count what a kept object holds). */
static inline long fz_ctx_objects(void)
{
	return __atomic_load_n(&fz_ctx->nr_objects, __ATOMIC_ACQUIRE);
}

/*
 * The end of an input: the context must be empty (a destroy would return
 * 0) but for the @kept objects the target keeps across inputs.
 */
static inline void fz_ctx_check_empty(long kept)
{
	long live = __atomic_load_n(&fz_ctx->nr_objects, __ATOMIC_ACQUIRE);

	if (live != kept)
		fz_die("%ld objects made from the context are still live after the teardown, "
		       "%ld expected (siommu_ctx_destroy() would return -EBUSY)", live, kept);
}

#endif
