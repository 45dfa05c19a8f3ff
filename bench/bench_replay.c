// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmark group "replay": events parsed + replayed per second in exact
 * mode, on one thread, on the largest trace in tests/data/traces (the
 * directory is compiled in from the source tree; SIOMMU_BENCH_DATA_DIR
 * overrides it); and the memory a live mapping costs.
 *
 * Reported (each the median of 7 rounds, and as NAME_best the best; CPU
 * time of the measuring thread, not wall time: the machine is shared):
 *   exact_events_per_s    read (parse) + exact replay of the trace repeated
 *                         64 times in one replay (each copy ends with every
 *                         mapping unmapped; the copies' timestamps going
 *                         back are counted as issues); events per second
 *                         (target >= 5 M/s)
 *   parse_events_per_s    read only (no run); the baseline of the above,
 *                         measured in the same rounds
 *   bytes_per_live_map    heap bytes per live mapping during an exact replay
 *                         of 262144 maps that stay live (tree node and its
 *                         share of the table pages), measured with mallinfo2
 *   bytes_per_event       heap bytes per event record held after reading
 */
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <softiommu/base.h>
#include <softiommu/replay.h>

#include "bench.h"
#include "bench_paths.h"

#define COPIES	64u
#define RUNS	7u

static char *load_largest(const char *dir, size_t *len, char *name, size_t nlen)
{
	struct dirent *d;
	off_t best = 0;
	char path[4096];
	DIR *dd = opendir(dir);
	FILE *f;
	char *buf;

	if (!dd)
		return NULL;
	name[0] = '\0';
	while ((d = readdir(dd)) != NULL) {
		struct stat st;

		if (!strstr(d->d_name, ".txt") || strstr(d->d_name, "format"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (!stat(path, &st) && st.st_size > best) {
			best = st.st_size;
			snprintf(name, nlen, "%s", d->d_name);
		}
	}
	closedir(dd);
	if (!best)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	buf = malloc((size_t)best);
	if (buf && fread(buf, 1, (size_t)best, f) != (size_t)best) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)best;
	return buf;
}

/* This thread's CPU time in ns: on a shared, loaded machine wall time measures the others. */
static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * One replay of @buf (the trace repeated, so that the table's creation and
 * destruction, which waits for RCU callbacks, is not what is measured):
 * read, and run if @run.  Adds the events and the CPU ns it took.
 */
static int one(struct siommu_ctx *ctx, const char *buf, size_t len, bool run,
	       uint64_t *events, double *ns)
{
	struct siommu_replay_opts o = { 0 };
	struct siommu_replay *r;
	double t0;
	int ret = siommu_replay_create(ctx, &o, &r);

	if (ret)
		return ret;
	t0 = cpu_ns();
	ret = siommu_replay_read_buf(r, "bench", buf, len);
	if (!ret && run)
		ret = siommu_replay_run(r);
	*ns += cpu_ns() - t0;
	*events += siommu_replay_get_report(r)->events;
	siommu_replay_destroy(r);
	return ret;
}

/* Events per second of one measurement lasting @secs (CPU time). */
static double rate(struct siommu_ctx *ctx, const char *buf, size_t len, bool run, double secs)
{
	double ns = 0;
	uint64_t total = 0;

	do {
		if (one(ctx, buf, len, run, &total, &ns))
			return 0;
	} while (ns < secs * 1e9);
	return (double)total / (ns / 1e9);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * RUNS rounds, each measuring parse then parse + exact; report the medians
 * and the bests (as NAME and NAME_best), the exact rate beside the parse
 * rate of the same run.
 */
static void rates(struct bench_run *br, struct siommu_ctx *ctx, const char *buf, size_t len)
{
	double parse[RUNS], exact[RUNS], secs = bench_seconds(br) / RUNS;
	unsigned int i;

	for (i = 0; i < RUNS; i++) {
		parse[i] = rate(ctx, buf, len, false, secs / 2) / 1e6;
		exact[i] = rate(ctx, buf, len, true, secs / 2) / 1e6;
	}
	qsort(parse, RUNS, sizeof(double), cmp_double);
	qsort(exact, RUNS, sizeof(double), cmp_double);
	bench_report(br, "parse_events_per_s", parse[RUNS / 2], "M/s", NULL);
	bench_report(br, "exact_events_per_s", exact[RUNS / 2], "M/s", "parse_events_per_s");
	bench_report(br, "parse_events_per_s_best", parse[RUNS - 1], "M/s", NULL);
	bench_report(br, "exact_events_per_s_best", exact[RUNS - 1], "M/s", "parse_events_per_s_best");
}

static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;		/* small blocks + mmap'ed large ones */
}

struct mem_probe {
	size_t base;
	double per_map;
};

static void probe(void *opaque, uint64_t done, uint64_t total)
{
	struct mem_probe *m = opaque;
	(void)total;
	if (!m->base || done < 65536)
		return;
	m->per_map = (double)(heap_bytes() - m->base) / (double)done;
}

static int mem_per_map(struct siommu_ctx *ctx, double *per_map, double *per_event)
{
	enum { N = 262144 };
	struct mem_probe m = { 0 };
	struct siommu_replay_opts o = { .progress = probe, .progress_opaque = &m, .nr_tlbs = 1,
					.tlb = { { 1, 1 } } };
	struct siommu_replay *r;
	char *text, *p;
	size_t before;
	int ret, i;

	text = malloc((size_t)N * 160);
	if (!text)
		return -ENOMEM;
	p = text;
	for (i = 0; i < N; i++)
		p += sprintf(p, "              ip-1       [000] .....     1.%06d: map: IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=4096\n",
			     i % 1000000, (unsigned long long)i << 12, (unsigned long long)(i + 1) << 12,
			     (unsigned long long)i << 12);
	ret = siommu_replay_create(ctx, &o, &r);
	if (ret) {
		free(text);
		return ret;
	}
	before = heap_bytes();
	ret = siommu_replay_read_buf(r, "mem", text, (size_t)(p - text));
	*per_event = (double)(heap_bytes() - before) / N;
	free(text);
	if (!ret) {
		m.base = heap_bytes();
		ret = siommu_replay_run(r);
	}
	*per_map = m.per_map;
	siommu_replay_destroy(r);
	return ret;
}

static int run_replay(struct bench_run *br)
{
	const char *dir = getenv("SIOMMU_BENCH_DATA_DIR");
	struct siommu_ctx *ctx;
	char name[256];
	double per_map = 0, per_event = 0;
	size_t len;
	char *buf;

	if (!dir)
		dir = SIOMMU_BENCH_DATA_DIR;
	buf = load_largest(dir, &len, name, sizeof(name));
	if (!buf) {
		fprintf(stderr, "bench replay: no trace in %s (set SIOMMU_BENCH_DATA_DIR)\n", dir);
		return -ENOENT;
	}
	if (siommu_ctx_create(&ctx)) {
		free(buf);
		return -ENOMEM;
	}
	/* 64 copies: each ends with everything unmapped, so copies replay alike */
	char *rep = malloc(len * COPIES);

	if (!rep) {
		free(buf);
		siommu_ctx_destroy(ctx);
		return -ENOMEM;
	}
	for (unsigned int c = 0; c < COPIES; c++)
		memcpy(rep + c * len, buf, len);
	rates(br, ctx, rep, len * COPIES);
	free(rep);
	if (!mem_per_map(ctx, &per_map, &per_event)) {
		bench_report(br, "bytes_per_live_map", per_map, "B", NULL);
		bench_report(br, "bytes_per_event", per_event, "B", NULL);
	}
	free(buf);
	siommu_ctx_destroy(ctx);
	return 0;
}

const struct bench_group bench_group_replay = {
	.name = "replay",
	.help = "trace events parsed + replayed per second (exact mode), memory per live mapping",
	.run = run_replay,
};
