// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmark group "replay": events parsed + replayed per second in exact
 * mode, on one thread, on the largest trace in tests/data/traces (the
 * directory is compiled in from the source tree; SIOMMU_BENCH_DATA_DIR
 * overrides it); and the memory a live mapping costs.
 *
 * Reported:
 *   exact_events_per_s    read (parse) + exact replay of the trace repeated
 *                         64 times in one replay (each copy ends with every
 *                         mapping unmapped; the copies' timestamps going
 *                         back are counted as issues); events per second
 *                         (target >= 5 M/s)
 *   parse_events_per_s    read only (no run); the baseline of the above
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

#include <softiommu/base.h>
#include <softiommu/replay.h>

#include "bench.h"
#include "bench_paths.h"

#define COPIES	64u

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

/*
 * One replay of @buf (the trace repeated, so that the table's creation and
 * destruction, which waits for RCU callbacks, is not what is measured):
 * read, and run if @run.  Adds the events and the ns it took.
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
	t0 = bench_now_ns();
	ret = siommu_replay_read_buf(r, "bench", buf, len);
	if (!ret && run)
		ret = siommu_replay_run(r);
	*ns += bench_now_ns() - t0;
	*events += siommu_replay_get_report(r)->events;
	siommu_replay_destroy(r);
	return ret;
}

static double rate(struct bench_run *br, struct siommu_ctx *ctx, const char *buf, size_t len, bool run)
{
	double t0 = bench_now_ns(), ns = 0;
	uint64_t total = 0;

	do {
		if (one(ctx, buf, len, run, &total, &ns))
			return 0;
	} while (bench_now_ns() - t0 < bench_seconds(br) * 1e9);
	return (double)total / (ns / 1e9);
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
	bench_report(br, "parse_events_per_s", rate(br, ctx, rep, len * COPIES, false) / 1e6, "M/s", NULL);
	bench_report(br, "exact_events_per_s", rate(br, ctx, rep, len * COPIES, true) / 1e6, "M/s",
		     "parse_events_per_s");
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
