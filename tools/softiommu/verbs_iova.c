// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Run-language verbs of the IOVA allocator: create a space, allocate, free,
 * find, reserve, flush the per-thread caches, run a short-lived thread
 * against a space, dump the tree and print statistics.
 *
 * Sizes and addresses take the language's suffixes (4K, 2M, 1G).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/iova.h>

#include "run.h"

#define SPACE_TYPE	"iova"

static void space_destroy(void *obj)
{
	siommu_iova_free_all(obj);
	siommu_iova_space_destroy(obj);
}

static int granule_lg2(struct run_ctx *rc, struct run_cmd *cmd, uint64_t g,
		       unsigned int *lg2)
{
	if (!g || (g & (g - 1)))
		return run_error(rc, cmd, "granule: a power of two, got %" PRIu64, g);
	*lg2 = (unsigned int)__builtin_ctzll(g);
	return 0;
}

static int verb_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_config cfg = { 0 };
	struct siommu_iova_space *s;
	const char *name;
	uint64_t granule;
	bool cache;
	int ret;

	if (run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_u64_opt(rc, cmd, "start", &cfg.start, 0) ||
	    run_arg_u64(rc, cmd, "last", &cfg.last) ||
	    run_arg_u64_opt(rc, cmd, "granule", &granule, 4096) ||
	    run_arg_bool_opt(rc, cmd, "cache", &cache, true) ||
	    granule_lg2(rc, cmd, granule, &cfg.granule_lg2))
		return RUN_EUSAGE;
	cfg.flags = cache ? 0 : SIOMMU_IOVA_NO_CACHE;
	ret = siommu_iova_space_create(run_siommu(rc), &cfg, &s);
	if (ret)
		return ret;
	if (run_obj_add(rc, cmd, SPACE_TYPE, name, s, space_destroy))
		return RUN_EUSAGE;
	run_result(rc, "granules", "%" PRIu64,
		   ((cfg.last - cfg.start) >> cfg.granule_lg2) + 1);
	return 0;
}

static int space_try_destroy(void *obj)
{
	return siommu_iova_space_destroy(obj);	/* on error: still there, still registered */
}

static int verb_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "space", SPACE_TYPE, space_try_destroy);
}

static int verb_alloc(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_space *s = run_obj_arg(rc, cmd, "space", SPACE_TYPE);
	struct siommu_iova_range r;
	uint64_t size, limit, iova;
	int ret;

	if (!s || run_arg_u64(rc, cmd, "size", &size) ||
	    run_arg_u64_opt(rc, cmd, "limit", &limit, UINT64_MAX))
		return RUN_EUSAGE;
	ret = siommu_iova_alloc(s, size, limit, &iova);
	if (ret)
		return ret;
	run_result(rc, "iova", "0x%" PRIx64, iova);
	if (!siommu_iova_find(s, iova, &r))
		run_result(rc, "size", "0x%" PRIx64, r.last - r.start + 1);
	return 0;
}

static int verb_free(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_space *s = run_obj_arg(rc, cmd, "space", SPACE_TYPE);
	uint64_t iova;

	if (!s || run_arg_u64(rc, cmd, "iova", &iova))
		return RUN_EUSAGE;
	return siommu_iova_free(s, iova);
}

static int verb_find(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_space *s = run_obj_arg(rc, cmd, "space", SPACE_TYPE);
	struct siommu_iova_range r;
	uint64_t addr;
	int ret;

	if (!s || run_arg_u64(rc, cmd, "addr", &addr))
		return RUN_EUSAGE;
	ret = siommu_iova_find(s, addr, &r);
	if (ret == -ENOENT) {
		run_result(rc, "found", "no");
		return 0;
	}
	if (ret)
		return ret;
	run_result(rc, "found", "yes");
	run_result(rc, "start", "0x%" PRIx64, r.start);
	run_result(rc, "last", "0x%" PRIx64, r.last);
	run_result(rc, "kind", "%s", siommu_iova_kind_name(r.kind));
	return 0;
}

static int verb_reserve(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_space *s = run_obj_arg(rc, cmd, "space", SPACE_TYPE);
	uint64_t start, last;

	if (!s || run_arg_u64(rc, cmd, "start", &start) ||
	    run_arg_u64(rc, cmd, "last", &last))
		return RUN_EUSAGE;
	return siommu_iova_reserve(s, start, last);
}

static int verb_free_all(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_space *s = run_obj_arg(rc, cmd, "space", SPACE_TYPE);

	if (!s)
		return RUN_EUSAGE;
	siommu_iova_free_all(s);
	return 0;
}

static int verb_flush(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_space *s = run_obj_arg(rc, cmd, "space", SPACE_TYPE);

	if (!s)
		return RUN_EUSAGE;
	return siommu_iova_flush_caches(s);
}

/* Allocate @count ranges of @size; with free=yes, free them all after. */
static int verb_fill(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_space *s = run_obj_arg(rc, cmd, "space", SPACE_TYPE);
	uint64_t size, count, limit, i, n = 0, lo = UINT64_MAX, hi = 0, *x;
	bool do_free;
	int ret = 0;

	if (!s || run_arg_u64(rc, cmd, "size", &size) ||
	    run_arg_u64(rc, cmd, "count", &count) ||
	    run_arg_u64_opt(rc, cmd, "limit", &limit, UINT64_MAX) ||
	    run_arg_bool_opt(rc, cmd, "free", &do_free, false))
		return RUN_EUSAGE;
	if (!count || count > 1000000)
		return run_error(rc, cmd, "count: 1 to 1000000, got %" PRIu64, count);
	x = calloc(count, sizeof(*x));
	if (!x)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		ret = siommu_iova_alloc(s, size, limit, &x[n]);
		if (ret)
			break;
		if (x[n] < lo)
			lo = x[n];
		if (x[n] > hi)
			hi = x[n];
		n++;
	}
	if (do_free)
		for (i = 0; i < n; i++)
			siommu_iova_free(s, x[i]);
	free(x);
	run_result(rc, "allocated", "%" PRIu64, n);
	if (n) {
		run_result(rc, "lowest", "0x%" PRIx64, lo);
		run_result(rc, "highest", "0x%" PRIx64, hi);
	}
	if (ret)
		run_result(rc, "stopped", "%s", siommu_errname(ret));
	return 0;
}

struct thread_job {
	struct siommu_iova_space *s;
	uint64_t size, count;
	int ret;
};

/* Allocate count ranges, free them all (into this thread's cache), exit. */
static void *thread_main(void *p)
{
	struct thread_job *j = p;
	uint64_t *x = calloc(j->count, sizeof(*x)), i, n;

	if (!x) {
		j->ret = -ENOMEM;
		return NULL;
	}
	for (n = 0; n < j->count; n++) {
		j->ret = siommu_iova_alloc(j->s, j->size, UINT64_MAX, &x[n]);
		if (j->ret)
			break;
	}
	for (i = 0; i < n; i++)
		siommu_iova_free(j->s, x[i]);
	free(x);
	return NULL;
}

static int verb_thread(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_space *s = run_obj_arg(rc, cmd, "space", SPACE_TYPE);
	struct thread_job j = { .s = s };
	pthread_t tid;

	if (!s || run_arg_u64(rc, cmd, "size", &j.size) ||
	    run_arg_u64(rc, cmd, "count", &j.count))
		return RUN_EUSAGE;
	if (!j.count || j.count > 100000)
		return run_error(rc, cmd, "count: 1 to 100000, got %" PRIu64, j.count);
	if (pthread_create(&tid, NULL, thread_main, &j))
		return -EAGAIN;
	pthread_join(tid, NULL);
	return j.ret;
}

static int verb_dump(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_space *s = run_obj_arg(rc, cmd, "space", SPACE_TYPE);
	struct siommu_iova_range *r = NULL;
	size_t nr = 0, i;
	int ret;

	if (!s)
		return RUN_EUSAGE;
	/* Size, then fill; the tree may not change in between (one thread). */
	ret = siommu_iova_snapshot(s, NULL, 0, &nr);
	if (ret && ret != -ENOSPC)
		return ret;
	if (nr) {
		r = calloc(nr, sizeof(*r));
		if (!r)
			return -ENOMEM;
		ret = siommu_iova_snapshot(s, r, nr, &nr);
		if (ret) {
			free(r);
			return ret;
		}
	}
	for (i = 0; i < nr; i++)
		run_print(rc, "  0x%016" PRIx64 "-0x%016" PRIx64 " %s", r[i].start,
			  r[i].last, siommu_iova_kind_name(r[i].kind));
	free(r);
	run_result(rc, "ranges", "%zu", nr);
	return 0;
}

static int verb_stats(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_iova_space *s = run_obj_arg(rc, cmd, "space", SPACE_TYPE);
	struct siommu_iova_stats st;
	int ret;

	if (!s)
		return RUN_EUSAGE;
	ret = siommu_iova_get_stats(s, &st);
	if (ret)
		return ret;
	run_result(rc, "allocs", "%" PRIu64, st.allocs);
	run_result(rc, "frees", "%" PRIu64, st.frees);
	run_result(rc, "hits", "%" PRIu64, st.cache_hits);
	run_result(rc, "cache_frees", "%" PRIu64, st.cache_frees);
	run_result(rc, "tree_allocs", "%" PRIu64, st.tree_allocs);
	run_result(rc, "tree_frees", "%" PRIu64, st.tree_frees);
	run_result(rc, "depot_gets", "%" PRIu64, st.depot_gets);
	run_result(rc, "depot_puts", "%" PRIu64, st.depot_puts);
	run_result(rc, "flushes", "%" PRIu64, st.flushes);
	run_result(rc, "failures", "%" PRIu64, st.failures);
	run_result(rc, "allocated", "%" PRIu64, st.allocated);
	run_result(rc, "cached", "%" PRIu64, st.cached);
	run_result(rc, "reserved", "%" PRIu64, st.reserved);
	run_result(rc, "threads", "%" PRIu64, st.threads);
	return 0;
}

const struct run_verb run_verbs_iova[] = {
	{ "iova-create", "iova-create name=NAME last=N [start=0] [granule=4K] [cache=yes]",
	  "create an IOVA space with aperture [start, last] (cache=no: no per-thread caches)",
	  verb_create },
	{ "iova-destroy", "iova-destroy space=NAME",
	  "destroy a space (EBUSY while ranges are allocated)", verb_destroy },
	{ "iova-alloc", "iova-alloc space=NAME size=N [limit=N]",
	  "allocate size bytes, size-aligned, top-down at or below limit", verb_alloc },
	{ "iova-free", "iova-free space=NAME iova=N", "free the range allocated at iova",
	  verb_free },
	{ "iova-find", "iova-find space=NAME addr=N",
	  "the allocated or reserved range containing addr", verb_find },
	{ "iova-reserve", "iova-reserve space=NAME start=N last=N",
	  "keep [start, last] out of every allocation", verb_reserve },
	{ "iova-free-all", "iova-free-all space=NAME", "free every allocated range",
	  verb_free_all },
	{ "iova-flush", "iova-flush space=NAME",
	  "give every thread's cached ranges back to the tree", verb_flush },
	{ "iova-fill", "iova-fill space=NAME size=N count=N [limit=N] [free=no]",
	  "allocate count ranges (free=yes: then free them all)", verb_fill },
	{ "iova-thread", "iova-thread space=NAME size=N count=N",
	  "a new thread allocates count ranges, frees them, and exits", verb_thread },
	{ "iova-dump", "iova-dump space=NAME", "list the ranges of the tree in address order",
	  verb_dump },
	{ "iova-stats", "iova-stats space=NAME", "counters and current state", verb_stats },
	{ NULL, NULL, NULL, NULL },
};
