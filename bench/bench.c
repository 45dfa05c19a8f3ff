// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The benchmark harness: group selection, timing helpers, threads started
 * together, and output as a table (terminal) or JSON lines (--json).
 */
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define WEAK_GROUP(m) extern const struct bench_group bench_group_##m __attribute__((weak))
WEAK_GROUP(base);	/* weak: the shared-library twin has only "hotpath" */
WEAK_GROUP(pgtable);
WEAK_GROUP(iotlb);
WEAK_GROUP(iova);
WEAK_GROUP(mem);
WEAK_GROUP(core);
WEAK_GROUP(ioas);
WEAK_GROUP(iopf);
WEAK_GROUP(mm);
WEAK_GROUP(replay);
WEAK_GROUP(hotpath);

static const struct bench_group *all_groups[] = {
	&bench_group_base, &bench_group_pgtable, &bench_group_iotlb, &bench_group_iova,
	&bench_group_mem, &bench_group_core, &bench_group_ioas, &bench_group_iopf,
	&bench_group_mm, &bench_group_replay, &bench_group_hotpath,
};

#define MAX_RESULTS 256

struct bench_result {
	char *case_name;
	double value;
	char *unit;
	char *vs;
};

struct bench_run {
	const struct bench_group *group;
	bool json;
	bool progress;		/* dots on a terminal's stderr */
	double seconds;
	struct bench_result results[MAX_RESULTS];
	unsigned int nr;
	bool overflow;
};

double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double bench_seconds(struct bench_run *br)
{
	return br->seconds;
}

void bench_report(struct bench_run *br, const char *case_name, double value,
		  const char *unit, const char *vs)
{
	struct bench_result *r;

	if (br->nr == MAX_RESULTS) {
		br->overflow = true;
		return;
	}
	r = &br->results[br->nr++];
	r->case_name = strdup(case_name);
	r->value = value;
	r->unit = strdup(unit);
	r->vs = vs ? strdup(vs) : NULL;
	if (br->progress) {
		fprintf(stderr, ".");	/* progress while the group runs */
		fflush(stderr);
	}
}

struct thread_start {
	pthread_barrier_t *barrier;
	struct bench_thread t;
	uint64_t (*fn)(struct bench_thread *t);
	double seconds;
	uint64_t ops;
	double start_ns, end_ns;
};

static void *thread_main(void *arg)
{
	struct thread_start *ts = arg;

	pthread_barrier_wait(ts->barrier);
	ts->start_ns = bench_now_ns();
	ts->t.deadline_ns = ts->start_ns + ts->seconds * 1e9;
	ts->ops = ts->fn(&ts->t);
	ts->end_ns = bench_now_ns();
	return NULL;
}

double bench_threads(unsigned int nthreads, double seconds,
		     uint64_t (*fn)(struct bench_thread *t), void *arg)
{
	struct thread_start ts[64];
	pthread_t tids[64];
	pthread_barrier_t barrier;
	double total = 0;
	unsigned int i;

	if (nthreads == 0 || nthreads > 64)
		return 0;
	pthread_barrier_init(&barrier, NULL, nthreads);
	for (i = 0; i < nthreads; i++) {
		memset(&ts[i], 0, sizeof(ts[i]));
		ts[i].barrier = &barrier;
		ts[i].t.id = i;
		ts[i].t.nthreads = nthreads;
		ts[i].t.arg = arg;
		ts[i].fn = fn;
		ts[i].seconds = seconds;
		if (pthread_create(&tids[i], NULL, thread_main, &ts[i])) {
			fprintf(stderr, "bench: cannot start a thread\n");
			exit(1);
		}
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	pthread_barrier_destroy(&barrier);
	for (i = 0; i < nthreads; i++)
		total += (double)ts[i].ops / ((ts[i].end_ns - ts[i].start_ns) / 1e9);
	return total;
}

static const struct bench_result *find_result(struct bench_run *br, const char *name)
{
	unsigned int i;

	for (i = 0; i < br->nr; i++)
		if (!strcmp(br->results[i].case_name, name))
			return &br->results[i];
	return NULL;
}

static int print_results(struct bench_run *br)
{
	unsigned int i;
	int ret = 0;

	if (br->progress)
		fprintf(stderr, "\n");
	if (!br->json) {
		printf("%s\n", br->group->name);
		printf("  %-40s %14s %-8s %-34s %8s\n", "case", "value", "unit", "vs", "ratio");
	}
	for (i = 0; i < br->nr; i++) {
		const struct bench_result *r = &br->results[i], *base = NULL;
		double ratio = 0;

		if (r->vs) {
			base = find_result(br, r->vs);
			if (!base || strcmp(base->unit, r->unit)) {
				fprintf(stderr, "bench %s: case %s names baseline %s, %s\n",
					br->group->name, r->case_name, r->vs,
					base ? "measured in another unit" : "which was not measured");
				ret = -EINVAL;
				base = NULL;
			} else if (base->value != 0) {
				ratio = r->value / base->value;
			}
		}
		if (br->json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "bench", json_object_new_string(br->group->name));
			json_object_object_add(o, "case", json_object_new_string(r->case_name));
			json_object_object_add(o, "value", json_object_new_double(r->value));
			json_object_object_add(o, "unit", json_object_new_string(r->unit));
			if (base) {
				json_object_object_add(o, "vs", json_object_new_string(r->vs));
				json_object_object_add(o, "ratio", json_object_new_double(ratio));
			}
			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		} else if (base) {
			printf("  %-40s %14.3f %-8s %-34s %8.3f\n", r->case_name, r->value,
			       r->unit, r->vs, ratio);
		} else {
			printf("  %-40s %14.3f %-8s\n", r->case_name, r->value, r->unit);
		}
	}
	fflush(stdout);
	if (br->overflow) {
		fprintf(stderr, "bench %s: more than %d results; the rest were dropped\n",
			br->group->name, MAX_RESULTS);
		ret = -E2BIG;
	}
	return ret;
}

static void free_results(struct bench_run *br)
{
	unsigned int i;

	for (i = 0; i < br->nr; i++) {
		free(br->results[i].case_name);
		free(br->results[i].unit);
		free(br->results[i].vs);
	}
	br->nr = 0;
}

static void bench_usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "Usage: softiommu bench [NAME...] [--json] [--quick] [--list]\n"
		   "Runs the benchmark groups (all, or those named):\n");
	for (i = 0; i < sizeof(all_groups) / sizeof(all_groups[0]); i++)
		if (all_groups[i])
			fprintf(f, "  %-10s %s\n", all_groups[i]->name, all_groups[i]->help);
	fprintf(f, "--json prints one JSON object per result; --quick measures briefly.\n");
}

int bench_main(int argc, char **argv)
{
	const struct bench_group *selected[16];
	unsigned int nsel = 0, i, j;
	struct bench_run *br;
	bool json = false, quick = false;
	int ret = 0;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[i], "--list") || !strcmp(argv[i], "--help")) {
			bench_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "softiommu bench: unknown option '%s'\n", argv[i]);
			bench_usage(stderr);
			return 2;
		} else {
			const struct bench_group *g = NULL;

			for (j = 0; j < sizeof(all_groups) / sizeof(all_groups[0]); j++)
				if (all_groups[j] && !strcmp(all_groups[j]->name, argv[i]))
					g = all_groups[j];
			if (!g) {
				fprintf(stderr, "softiommu bench: no benchmark group '%s'\n", argv[i]);
				bench_usage(stderr);
				return 2;
			}
			if (nsel == 16) {
				fprintf(stderr, "softiommu bench: too many groups named\n");
				return 2;
			}
			selected[nsel++] = g;
		}
	}
	if (!nsel)
		for (j = 0; j < sizeof(all_groups) / sizeof(all_groups[0]) && nsel < 16; j++)
			if (all_groups[j])
				selected[nsel++] = all_groups[j];

	br = calloc(1, sizeof(*br));
	if (!br) {
		fprintf(stderr, "softiommu bench: out of memory\n");
		return 1;
	}
	br->json = json;
	br->progress = !json && isatty(STDERR_FILENO);
	br->seconds = quick ? 0.05 : 0.5;
	for (i = 0; i < nsel; i++) {
		int r;

		br->group = selected[i];
		if (br->progress) {
			fprintf(stderr, "bench %s ", br->group->name);
			fflush(stderr);
		}
		r = br->group->run(br);
		if (r) {
			fprintf(stderr, "\nbench %s: failed: %s\n", br->group->name, strerror(-r));
			ret = 1;
		}
		if (print_results(br))
			ret = 1;
		free_results(br);
	}
	free(br);
	return ret;
}
