/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fail-the-Nth-allocation sweeps over public flows, with the contracts of
 * the public headers as the oracle.
 *
 * A flow is a short program over the public API (create, attach, map, DMA,
 * unmap, teardown...) written with FN_STEP().  fn_sweep() runs it again and
 * again with allocation N failing (siommu_test_fail_nth(), per thread), for
 * N = 1, 2, ... until a run makes fewer than N allocations (no injection
 * fired: every allocation of the flow has been failed once).  For each N:
 *
 *  - setup() builds the world the flow starts from, with no injection;
 *  - run() executes the flow; each FN_STEP(sw, call) snapshots the world
 *    (the flow's snapshot() text: mappings, attachments, regions, stats;
 *    injection paused while it runs), makes the call, and if it fails:
 *      * the injected failure must have fired inside this call (a call
 *        that fails without one is a bug of the flow or the library);
 *      * the error must be one the function's contract documents: the
 *        errors named in the "Returns" part of its kernel-doc comment in
 *        include/softiommu/<module>.h, parsed at run time (references like
 *        "as siommu_pt_map()" and "without -EEXIST" are followed), so a
 *        function whose contract does not list -ENOMEM may not fail with
 *        it;
 *      * the snapshot taken after the failure must equal the one taken
 *        before: on error nothing changed;
 *    and run() returns that error, or, with the flow's .retry, the same
 *    call is made again (the one injection has fired), must succeed, and
 *    the flow goes on: a failed call leaves a world the flow can be
 *    retried from;
 *  - "a layer's prepare error" in a contract (the core's attach calls)
 *    means the errors of the "Prepare errors:" sentence of each header in
 *    the flow's .layers (the core layers the flow registers: ioas, iopf);
 *  - teardown() destroys everything (with no injection: every destroy
 *    must succeed whatever state the flow stopped in).  In ASan builds a
 *    leak check runs after each N (LeakSanitizer, recoverable), so a leak
 *    is reported with the N and the step that caused it.
 * A call that absorbs an injected failure (a fallback) and succeeds is
 * counted, not an error: the flow goes on and its later checks apply.
 *
 * Adding a flow (any module, later ones included): write setup, run,
 * snapshot and teardown over a world struct, describe them in a struct
 * fn_flow, and call fn_sweep(&flow) from a cmocka test (see
 * tests/README.md and tests/core/test_core_failnth.c).  Only testing
 * builds (-Dtesting=true) can inject; elsewhere the test skips.
 */
#ifndef SOFTIOMMU_TEST_FAILNTH_H
#define SOFTIOMMU_TEST_FAILNTH_H

#include <ctype.h>
#include <errno.h>
#include <glob.h>

#include <softiommu/base.h>
#include <softiommu/mem.h>

#include "test_common.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define FN_LSAN 1
#endif

/* ------------------------------------------------------------------ contracts */

#define FN_MAX_ERRS	24
#define FN_MAX_FUNCS	512

struct fn_contract {
	char name[64];
	char *returns;			/* the Returns part, to the block's end */
};

struct fn_contracts {
	bool loaded;
	char *all;			/* every header, for "see enum x" */
	unsigned int nr;
	struct fn_contract c[FN_MAX_FUNCS];
};

static struct fn_contracts fn_contracts_db;

static inline char *fn_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[len] = 0;
	fclose(f);
	return buf;
}

/* Every kernel-doc block of one header: the functions it names, its Returns text. */
static inline void fn_parse_header(struct fn_contracts *db, const char *file, const char *text)
{
	const char *p = text;
	char *last = NULL;		/* the previous block's Returns part */
	const char *prep = strstr(text, "Prepare errors:");

	/*
	 * A layer's "Prepare errors: ..." sentence (what its prepare step may
	 * refuse an attach with), as the contract "<header>:prepare".
	 */
	if (prep && db->nr < FN_MAX_FUNCS) {
		const char *end = prep;
		struct fn_contract *c = &db->c[db->nr++];

		while (*end && !(end[0] == '.' && isspace((unsigned char)end[1])))
			end++;
		snprintf(c->name, sizeof(c->name), "%s:prepare", file);
		c->returns = strndup(prep, (size_t)(end - prep));
	}

	while ((p = strstr(p, "/**"))) {
		const char *end = strstr(p, "*/"), *q;
		char *ret;
		char *block;
		size_t len;

		if (!end)
			break;
		len = (size_t)(end - p);
		block = strndup(p, len);
		p = end + 2;
		ret = strstr(block, "Returns");
		/* "siommu_x() - The same, in a read-side section of its own." */
		if (!ret && strstr(block, "The same") && last)
			ret = last;
		if (!ret) {
			free(block);
			continue;
		}
		/*
		 * Functions documented: the "siommu_x()" names before " - " on a
		 * line that starts (after the comment's stars) with one, e.g.
		 * " * siommu_dma_read_sg() / siommu_dma_write_sg() - The same".
		 */
		for (q = block; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : NULL) {
			const char *l = q + strspn(q, "/* \t"), *eol = strchr(l, '\n');
			const char *dash = strstr(l, "() - ");

			if (strncmp(l, "siommu_", 7) || !dash || (eol && dash > eol))
				continue;
			while (l < dash + 2) {
				const char *s2 = strstr(l, "siommu_");
				size_t n = 0;

				if (!s2 || s2 > dash)
					break;
				while (isalnum((unsigned char)s2[n]) || s2[n] == '_')
					n++;
				if (!strncmp(s2 + n, "()", 2) && db->nr < FN_MAX_FUNCS &&
				    n < sizeof(db->c[0].name)) {
					struct fn_contract *c = &db->c[db->nr++];

					memcpy(c->name, s2, n);
					c->name[n] = 0;
					c->returns = strdup(ret);
				}
				l = s2 + n;
			}
		}
		/*
		 * The declarations that follow the block up to the next comment
		 * are documented by it too ("siommu_dma_read() - ...
		 * siommu_dma_write() writes @buf there": both prototypes).
		 */
		{
			const char *next = strstr(p, "/*"), *d = p;

			while ((d = strstr(d, "siommu_")) && (!next || d < next)) {
				size_t n = 0;

				while (isalnum((unsigned char)d[n]) || d[n] == '_')
					n++;
				if (d[n] == '(' && (d[-1] == ' ' || d[-1] == '*') &&
				    db->nr < FN_MAX_FUNCS && n < sizeof(db->c[0].name)) {
					struct fn_contract *c = &db->c[db->nr++];

					memcpy(c->name, d, n);
					c->name[n] = 0;
					c->returns = strdup(ret);
				}
				d += n;
			}
		}
		if (ret != last) {
			free(last);
			last = strdup(ret);
		}
		free(block);
	}
	free(last);
}

static inline void fn_contracts_load(void)
{
	struct fn_contracts *db = &fn_contracts_db;
	const char *dir = getenv("SIOMMU_SOURCE_DIR");
	char pattern[512];
	glob_t g;
	size_t i;

	if (db->loaded)
		return;
	db->loaded = true;
	snprintf(pattern, sizeof(pattern), "%s/include/softiommu/*.h", dir ? dir : ".");
	if (glob(pattern, 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		char *text = fn_read_file(g.gl_pathv[i]);
		const char *base = strrchr(g.gl_pathv[i], '/');

		if (text) {
			size_t have = db->all ? strlen(db->all) : 0;

			fn_parse_header(db, base ? base + 1 : g.gl_pathv[i], text);
			db->all = realloc(db->all, have + strlen(text) + 1);
			assert_non_null(db->all);
			strcpy(db->all + have, text);
		}
		free(text);
	}
	globfree(&g);
}

static inline const struct fn_contract *fn_contract_find(const char *name)
{
	unsigned int i;

	fn_contracts_load();
	for (i = 0; i < fn_contracts_db.nr; i++)
		if (!strcmp(fn_contracts_db.c[i].name, name))
			return &fn_contracts_db.c[i];
	return NULL;
}

static inline void fn_errs_add(int *errs, unsigned int *n, int e)
{
	unsigned int i;

	for (i = 0; i < *n; i++)
		if (errs[i] == e)
			return;
	if (*n < FN_MAX_ERRS)
		errs[(*n)++] = e;
}

static inline void fn_errs_del(int *errs, unsigned int *n, int e)
{
	unsigned int i;

	for (i = 0; i < *n; i++)
		if (errs[i] == e)
			errs[i] = errs[--(*n)];
}

/*
 * "(attach, replace) -ENOMEM": is the error at @err for @name?  False only
 * when a parenthesis of plain words right before it names other verbs.
 */
static inline bool fn_qualifier_names(const char *text, const char *err, const char *name)
{
	const char *close = err - 2, *open, *verb = strrchr(name, '_'), *w;
	size_t vl;

	if (err - text < 4 || err[-1] != ' ' || *close != ')' || !verb)
		return true;
	for (open = close - 1; open > text && *open != '('; open--)
		if (!(islower((unsigned char)*open) || *open == ',' || *open == ' '))
			return true;
	if (*open != '(')
		return true;
	verb++;
	vl = strlen(verb);
	for (w = open + 1; w < close; w++)
		if (!strncmp(w, verb, vl) && (w[vl] == ',' || w[vl] == ')' || w[vl] == ' ') &&
		    (w[-1] == '(' || w[-1] == ' '))
			return true;
	return false;
}

/*
 * The headers ("ioas.h") of the core layers the running flow registers:
 * their "Prepare errors:" are what "a layer's prepare error" of an attach
 * means (struct fn_flow.layers).
 */
static const char *const *fn_layer_headers;

/*
 * The errors @name's contract documents, into @errs.  Returns their number,
 * or -1 if the headers have no contract with a Returns part for @name.
 */
static inline int fn_contract_errors(const char *name, int *errs, unsigned int depth)
{
	const struct fn_contract *c = fn_contract_find(name);
	unsigned int n = 0;
	const char *p;
	char tok[32];

	if (!c || depth > 4)
		return -1;
	for (p = c->returns; *p; p++) {
		/* "-EFOO": a documented error; "without -EFOO": one taken away */
		if (p[0] == '-' && p[1] == 'E' && isupper((unsigned char)p[2])) {
			const char *start = p;
			size_t k = 0;
			int e;

			p++;
			while ((isupper((unsigned char)*p) || isdigit((unsigned char)*p)) &&
			       k + 1 < sizeof(tok))
				tok[k++] = *p++;
			tok[k] = 0;
			p--;
			if (siommu_errname_parse(tok, &e))
				continue;
			if (!fn_qualifier_names(c->returns, start, name))
				continue;	/* "(attach, replace) -ENOMEM" of a detach */
			if (start - c->returns >= 8 && !strncmp(start - 8, "without ", 8))
				fn_errs_del(errs, &n, e);
			else
				fn_errs_add(errs, &n, e);
		} else if (!strncmp(p, "as siommu_", 10)) {
			/* "as siommu_g()": g's errors too */
			const char *s = strstr(p, "siommu_");
			int sub[FN_MAX_ERRS], m, i;
			size_t k = 0;

			while ((isalnum((unsigned char)s[k]) || s[k] == '_') && k + 1 < sizeof(tok))
				k++;
			memcpy(tok, s, k);
			tok[k] = 0;
			m = fn_contract_errors(tok, sub, depth + 1);
			for (i = 0; i < m; i++)
				fn_errs_add(errs, &n, sub[i]);
			p = s + k - 1;
		} else if (!strncmp(p, "enum siommu_", 12) && fn_contracts_db.all) {
			/* "a fault (negative errno of the reason, see enum x)": its -E values */
			char head[80];
			const char *e, *stop;
			size_t k = 5;
			int v;

			while ((isalnum((unsigned char)p[k]) || p[k] == '_') && k < 60)
				k++;
			snprintf(head, sizeof(head), "%.*s {", (int)k, p);
			e = strstr(fn_contracts_db.all, head);
			stop = e ? strstr(e, "};") : NULL;
			while (e && stop && (e = strstr(e, "-E")) && e < stop) {
				size_t m = 0;

				e++;
				while ((isupper((unsigned char)e[m]) ||
					isdigit((unsigned char)e[m])) && m + 1 < sizeof(tok))
					m++;
				memcpy(tok, e, m);
				tok[m] = 0;
				if (!siommu_errname_parse(tok, &v))
					fn_errs_add(errs, &n, v);
			}
			p += k - 1;
		} else if (!strncmp(p, "a layer's prepare error", 23)) {
			/* the layers of the flow: their headers' "Prepare errors:" */
			const char *const *h;
			int sub[FN_MAX_ERRS], m, i;

			for (h = fn_layer_headers; h && *h; h++) {
				snprintf(tok, sizeof(tok), "%s:prepare", *h);
				m = fn_contract_errors(tok, sub, depth + 1);
				if (m < 0)
					fail_msg("%s has no \"Prepare errors:\" sentence", *h);
				for (i = 0; i < m; i++)
					fn_errs_add(errs, &n, sub[i]);
			}
			p += 22;
		} else if (!strncmp(p, "as the device functions", 23)) {
			/* siommu_pasid_<verb>: as siommu_device_<verb> */
			const char *verb = strrchr(name, '_');
			int sub[FN_MAX_ERRS], m, i;
			char dev_fn[64];

			snprintf(dev_fn, sizeof(dev_fn), "siommu_device%s", verb ? verb : "");
			m = fn_contract_errors(dev_fn, sub, depth + 1);
			for (i = 0; i < m; i++)
				fn_errs_add(errs, &n, sub[i]);
		}
	}
	return (int)n;
}

/* ------------------------------------------------------------------ snapshots */

struct fn_buf {
	char *text;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3)))
static inline void fn_printf(struct fn_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->text ? b->text + b->len : NULL, b->text ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->text && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->text = realloc(b->text, b->cap);
		assert_non_null(b->text);
	}
}

/* A line callback (e.g. for siommu_pt_dump()) appending to a struct fn_buf. */
static inline int fn_buf_line(void *opaque, const char *line)
{
	fn_printf(opaque, "%s\n", line);
	return 0;
}

/* A siommu_mem_for_each_region() callback: each region as a snapshot line. */
static inline int fn_region_line(void *opaque, struct siommu_mem_region *r,
				 const struct siommu_mem_region_info *info)
{
	fn_printf(opaque, "region 0x%llx+0x%llx type %d revoked %d users %llu\n",
		  (unsigned long long)info->pa, (unsigned long long)info->size, info->type,
		  info->revoked, (unsigned long long)info->users);
	return 0;
}

/* ------------------------------------------------------------------ the sweep */

struct fn_sweep;

struct fn_flow {
	const char *name;
	size_t world_size;
	void (*setup)(void *world);		/* no injection; asserts */
	int (*run)(struct fn_sweep *sw, void *world);	/* 0, or the failing step's error */
	void (*snapshot)(void *world, struct fn_buf *out);	/* observable state, as text */
	void (*teardown)(void *world);		/* no injection; every destroy succeeds */
	/*
	 * After a step failed as documented with nothing changed, make the same
	 * call again (the one injection has fired: none is left) and require it
	 * to succeed, then go on with the flow: a failure must leave the world
	 * in a state the flow can be retried from.
	 */
	bool retry;
	/*
	 * The headers of the core layers the flow registers (NULL-terminated,
	 * e.g. { "ioas.h", NULL }): "a layer's prepare error" in a contract
	 * means the errors of their "Prepare errors:" sentences.
	 */
	const char *const *layers;
};

struct fn_sweep {
	const struct fn_flow *flow;
	void *world;
	unsigned long n;		/* the allocation to fail, counted from the flow's start */
	unsigned long used;		/* allocations counted before the last re-arm */
	struct fn_buf before, after;
	/* Totals over the sweep. */
	unsigned long steps, failures, absorbed, retried;
	char failed_at[160];		/* the step that failed last */
	bool failed;			/* a step of this run failed */
	int64_t ret;			/* the last step's result (>= 0) */
};

/* What the flow's last FN_STEP() returned (a count of bytes, of groups...). */
static inline int64_t fn_ret_last(const struct fn_sweep *sw)
{
	return sw->ret;
}

static inline unsigned long fn_allocs(struct fn_sweep *sw)
{
	return sw->used + (unsigned long)siommu_test_alloc_count();
}

/* Stop counting (the snapshot's own allocations must not be failed). */
static inline void fn_pause(struct fn_sweep *sw)
{
	sw->used = fn_allocs(sw);
	siommu_test_fail_nth(0);
}

static inline void fn_resume(struct fn_sweep *sw)
{
	siommu_test_fail_nth(sw->used < sw->n ? sw->n - sw->used : 0);
}

static inline void fn_snap(struct fn_sweep *sw, struct fn_buf *b)
{
	fn_pause(sw);
	b->len = 0;
	if (b->text)
		b->text[0] = 0;
	sw->flow->snapshot(sw->world, b);
	fn_printf(b, "%s", "");
	fn_resume(sw);
}

/* The first line where two snapshots differ, for the message. */
static inline void fn_first_diff(const char *a, const char *b, char *out, size_t len)
{
	unsigned int line = 1;
	const char *la = a, *lb = b;

	while (*a && *a == *b) {
		if (*a == '\n') {
			line++;
			la = a + 1;
			lb = b + 1;
		}
		a++;
		b++;
	}
	snprintf(out, len, "line %u: before \"%.*s\", after \"%.*s\"", line,
		 (int)strcspn(la, "\n"), la, (int)strcspn(lb, "\n"), lb);
}

/* Called by FN_STEP() when @call returned @ret < 0 (at @before allocations). */
static inline void fn_step_failed(struct fn_sweep *sw, const char *call, int64_t ret,
				  unsigned long before, const char *file, int line)
{
	int errs[FN_MAX_ERRS], nerrs, i;
	unsigned long after = fn_allocs(sw);
	char name[64], diff[400];
	size_t k = strspn(call, "abcdefghijklmnopqrstuvwxyz0123456789_");
	bool documented = false;

	snprintf(name, sizeof(name), "%.*s", (int)k, call);
	snprintf(sw->failed_at, sizeof(sw->failed_at), "%s -> %s", name,
		 siommu_errname((int)ret));
	if (!(before < sw->n && sw->n <= after))
		fail_msg("%s:%d: flow %s, N=%lu: %s failed with %s but the injected failure "
			 "did not fire in it (allocations %lu..%lu)", file, line, sw->flow->name,
			 sw->n, call, siommu_errname((int)ret), before, after);
	nerrs = fn_contract_errors(name, errs, 0);
	if (nerrs < 0)
		fail_msg("%s:%d: %s: no contract with a Returns part in include/softiommu/",
			 file, line, name);
	for (i = 0; i < nerrs; i++)
		if (errs[i] == (int)ret)
			documented = true;
	if (!documented)
		fail_msg("%s:%d: flow %s, N=%lu: %s failed with %s, which its contract's "
			 "Returns does not document", file, line, sw->flow->name, sw->n, call,
			 siommu_errname((int)ret));
	fn_snap(sw, &sw->after);
	if (strcmp(sw->before.text, sw->after.text)) {
		fn_first_diff(sw->before.text, sw->after.text, diff, sizeof(diff));
		fail_msg("%s:%d: flow %s, N=%lu: %s failed with %s but changed the state: %s",
			 file, line, sw->flow->name, sw->n, call, siommu_errname((int)ret), diff);
	}
	sw->failures++;
	sw->failed = true;
}

/* Called by FN_STEP() when the retry of a failed @call returned @ret. */
static inline void fn_step_retried(struct fn_sweep *sw, const char *call, int64_t ret,
				   const char *file, int line)
{
	if (ret < 0)
		fail_msg("%s:%d: flow %s, N=%lu: %s failed as documented, but its retry "
			 "failed too, with %s", file, line, sw->flow->name, sw->n, call,
			 siommu_errname((int)ret));
	sw->retried++;
}

/*
 * A step of a flow: snapshot, call, and on failure the checks above, then
 * the flow returns the error (or, with the flow's retry, makes the call
 * again, which must succeed, and goes on).
 */
#define FN_STEP(sw, call)						\
	do {								\
		unsigned long __b;					\
		int64_t __r;						\
		fn_snap((sw), &(sw)->before);				\
		__b = fn_allocs(sw);					\
		__r = (call);						\
		(sw)->steps++;						\
		if (__r < 0) {						\
			fn_step_failed((sw), #call, __r, __b, __FILE__, __LINE__);	\
			if (!(sw)->flow->retry)				\
				return (int)__r;			\
			__r = (call);					\
			fn_step_retried((sw), #call, __r, __FILE__, __LINE__);	\
			(sw)->ret = __r;				\
			break;						\
		}							\
		(sw)->ret = __r;					\
		if (__b < (sw)->n && (sw)->n <= fn_allocs(sw))		\
			(sw)->absorbed++;				\
	} while (0)

/*
 * Sweep @flow: N = 1, 2, ... until a run makes fewer than N allocations.
 * Returns the number of N swept (the allocation points of the flow).
 */
static inline unsigned long fn_sweep(const struct fn_flow *flow)
{
	struct fn_sweep sw = { .flow = flow };
	unsigned long n, total = 0;
	int ret;

	if (!siommu_testing_build())
		skip();
	fn_layer_headers = flow->layers;
	sw.world = calloc(1, flow->world_size);
	assert_non_null(sw.world);
	for (n = 1; n < 100000; n++) {
		memset(sw.world, 0, flow->world_size);
		flow->setup(sw.world);
		sw.n = n;
		sw.used = 0;
		sw.failed = false;
		siommu_test_fail_nth(n);
		ret = flow->run(&sw, sw.world);
		total = fn_allocs(&sw);
		siommu_test_fail_nth(0);
		if (sw.failed && ret && ret != -ENOMEM)
			print_message("# %s N=%lu: %s\n", flow->name, n, sw.failed_at);
		flow->teardown(sw.world);
#ifdef FN_LSAN
		if (__lsan_do_recoverable_leak_check())
			fail_msg("flow %s, N=%lu: leaked (LeakSanitizer report above; the "
				 "failing step: %s)", flow->name, n,
				 sw.failed ? sw.failed_at : "none, a fallback absorbed it");
#endif
		if (ret == 0 && total < n)
			break;
	}
	print_message("# flow %s: %lu allocation points swept (%lu steps, %lu failed as "
		      "documented with nothing changed, %lu retried successfully, %lu "
		      "absorbed)\n", flow->name, n - 1, sw.steps, sw.failures, sw.retried,
		      sw.absorbed);
	assert_true(n > 1 && n < 100000);
	free(sw.world);
	free(sw.before.text);
	free(sw.after.text);
	return n - 1;
}

#endif
