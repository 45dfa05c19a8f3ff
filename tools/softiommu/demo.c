// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `softiommu demo`: the main job on its embedded default, with every
 * invariant it checks printed beside its result.  Exit 1 if any fails.
 *
 * What the library can do so far is its base layer, so the demo exercises
 * it the way the IOMMU layers above will: reader threads the library has
 * never seen look up a published "translation table" inside RCU read-side
 * sections while a writer replaces it and frees the old one after a grace
 * period (the reclamation order of seed 000), the old memory poisoned before
 * it is freed; every thread counts in per-thread statistics; the writer
 * emits Linux-format trace events through one context while a second
 * context runs its own small job.  It grows with every module.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/softiommu.h>

#include "base/rcu.h"
#include "base/stats.h"
#include "tool.h"

#define DEMO_READERS	3
#define DEMO_VERSIONS	2000
#define DEMO_ENTRIES	64
#define POISON		0x6b6b6b6b6b6b6b6bull

enum { ST_LOOKUPS, ST_BAD, ST_REPLACED, ST_FREED, ST_NR };

struct table {
	uint64_t version;
	uint64_t entry[DEMO_ENTRIES];	/* entry[i] = version * 1000 + i */
	struct siommu_rcu_head rcu;
	struct demo *demo;
};

struct demo {
	struct siommu_ctx *ctx;
	struct siommu_stats *stats;
	struct table *current;		/* RCU-published */
	bool stop;			/* atomic */
	unsigned long trace_lines;	/* trace sink: lines seen */
	unsigned long trace_bad;	/* lines that did not round-trip */
	unsigned long foreign_events;	/* events this context should not see */
	const char *tag;		/* device name this context traces */
};

static void free_table_rcu(struct siommu_rcu_head *h)
{
	struct table *t = siommu_container_of(h, struct table, rcu);
	struct demo *d = t->demo;

	/* Poison, then free: a reader still holding it would see POISON. */
	for (unsigned int i = 0; i < DEMO_ENTRIES; i++)
		__atomic_store_n(&t->entry[i], POISON, __ATOMIC_RELAXED);
	__atomic_store_n(&t->version, POISON, __ATOMIC_RELAXED);
	siommu_stats_inc(d->stats, ST_FREED);
	free(t);
}

static void *reader(void *arg)
{
	struct demo *d = arg;
	unsigned int i = 0;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		struct table *t;
		uint64_t v, e;

		siommu_read_lock();
		t = __atomic_load_n(&d->current, __ATOMIC_ACQUIRE);
		v = __atomic_load_n(&t->version, __ATOMIC_RELAXED);
		e = __atomic_load_n(&t->entry[i % DEMO_ENTRIES], __ATOMIC_RELAXED);
		if (v == POISON || e != v * 1000 + i % DEMO_ENTRIES)
			siommu_stats_inc(d->stats, ST_BAD);
		siommu_read_unlock();
		siommu_stats_inc(d->stats, ST_LOOKUPS);
		i++;
	}
	return NULL;
}

static void trace_sink(void *opaque, const struct siommu_trace_record *rec)
{
	struct demo *d = opaque;
	struct siommu_trace_record back;
	char line[512], again[512], sb[256];

	__atomic_fetch_add(&d->trace_lines, 1, __ATOMIC_RELAXED);
	if (rec->ev.device && strcmp(rec->ev.device, d->tag))
		__atomic_fetch_add(&d->foreign_events, 1, __ATOMIC_RELAXED);
	if (siommu_trace_format_line(rec, line, sizeof(line)) < 0 ||
	    siommu_trace_parse_line(line, &back, sb, sizeof(sb)) ||
	    siommu_trace_format_line(&back, again, sizeof(again)) < 0 ||
	    strcmp(line, again))
		__atomic_fetch_add(&d->trace_bad, 1, __ATOMIC_RELAXED);
}

static struct table *new_table(struct demo *d, uint64_t version)
{
	struct table *t = malloc(sizeof(*t));

	if (!t)
		return NULL;
	t->version = version;
	t->demo = d;
	for (unsigned int i = 0; i < DEMO_ENTRIES; i++)
		t->entry[i] = version * 1000 + i;
	return t;
}

static int demo_setup(struct demo *d, const char *tag)
{
	memset(d, 0, sizeof(*d));
	d->tag = tag;
	if (siommu_ctx_create(&d->ctx))
		return -ENOMEM;
	if (siommu_stats_create(ST_NR, &d->stats))
		return -ENOMEM;
	siommu_ctx_set_trace(d->ctx, trace_sink, d);
	d->current = new_table(d, 1);
	return d->current ? 0 : -ENOMEM;
}

/* The writer: replace the table DEMO_VERSIONS times. */
static int demo_writer(struct demo *d, unsigned int versions)
{
	for (uint64_t v = 2; v < versions + 2; v++) {
		struct table *t = new_table(d, v), *old;
		struct siommu_trace_event ev = {
			.type = SIOMMU_TRACE_MAP, .iova = v << 12,
			.paddr = (v + 0x100) << 12, .size = 4096,
		};

		if (!t)
			return -ENOMEM;
		old = __atomic_exchange_n(&d->current, t, __ATOMIC_ACQ_REL);
		siommu_call_rcu(&old->rcu, free_table_rcu);	/* freed after a grace period */
		siommu_stats_inc(d->stats, ST_REPLACED);
		siommu_trace_emit(d->ctx, &ev);
		if (v % 64 == 0) {
			ev.type = SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN;
			ev.device = d->tag;
			siommu_trace_emit(d->ctx, &ev);
		}
	}
	return 0;
}

struct check {
	const char *what;
	bool ok;
	char detail[160];
};

int demo_main(int argc, char **argv)
{
	struct demo a, b;
	pthread_t tids[DEMO_READERS];
	struct check checks[8];
	unsigned int nchecks = 0, i, failed = 0;
	uint64_t st_a[ST_NR], st_b[ST_NR];
	bool json = false;
	int ret;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help")) {
			printf("Usage: softiommu demo [--json]\n");
			return TOOL_EXIT_OK;
		} else {
			fprintf(stderr, "softiommu demo: unknown argument '%s'\n", argv[i]);
			return TOOL_EXIT_USAGE;
		}
	}

	if (demo_setup(&a, "0000:00:04.0") || demo_setup(&b, "0000:00:05.0")) {
		fprintf(stderr, "softiommu demo: out of memory\n");
		return TOOL_EXIT_FAIL;
	}
	for (i = 0; i < DEMO_READERS; i++)
		if (pthread_create(&tids[i], NULL, reader, &a)) {
			fprintf(stderr, "softiommu demo: cannot start threads\n");
			return TOOL_EXIT_FAIL;
		}
	ret = demo_writer(&a, DEMO_VERSIONS);
	ret = ret ? ret : demo_writer(&b, DEMO_VERSIONS / 10);
	__atomic_store_n(&a.stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < DEMO_READERS; i++)
		pthread_join(tids[i], NULL);
	siommu_rcu_barrier();	/* every queued free has run */
	siommu_stats_read_all(a.stats, st_a);
	siommu_stats_read_all(b.stats, st_b);

#define CHECK(cond, ...) do {						\
		struct check *c = &checks[nchecks++];			\
		c->ok = (cond);						\
		snprintf(c->detail, sizeof(c->detail), __VA_ARGS__);	\
	} while (0)

	checks[nchecks].what = "readers never saw a freed or torn table";
	CHECK(st_a[ST_BAD] == 0 && ret == 0, "%" PRIu64 " bad of %" PRIu64 " lookups",
	      st_a[ST_BAD], st_a[ST_LOOKUPS]);
	checks[nchecks].what = "every replaced table was freed after a grace period";
	CHECK(st_a[ST_FREED] == st_a[ST_REPLACED] && st_a[ST_REPLACED] == DEMO_VERSIONS,
	      "%" PRIu64 " replaced, %" PRIu64 " freed", st_a[ST_REPLACED], st_a[ST_FREED]);
	checks[nchecks].what = "per-thread counters summed on read";
	CHECK(st_a[ST_LOOKUPS] > 0, "%" PRIu64 " lookups counted over %d threads",
	      st_a[ST_LOOKUPS], DEMO_READERS);
	checks[nchecks].what = "trace lines round-trip through the Linux format parser";
	CHECK(a.trace_bad == 0 && b.trace_bad == 0 && a.trace_lines > 0,
	      "%lu + %lu lines, %lu bad", a.trace_lines, b.trace_lines,
	      a.trace_bad + b.trace_bad);
	checks[nchecks].what = "two contexts do not see each other's events or counts";
	CHECK(a.foreign_events == 0 && b.foreign_events == 0 &&
	      st_b[ST_REPLACED] == DEMO_VERSIONS / 10 && st_b[ST_LOOKUPS] == 0,
	      "context B: %" PRIu64 " replacements, %lu foreign events",
	      st_b[ST_REPLACED], a.foreign_events + b.foreign_events);

	for (i = 0; i < nchecks; i++)
		failed += !checks[i].ok;

	if (json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();

		json_object_object_add(o, "lookups", json_object_new_int64((int64_t)st_a[ST_LOOKUPS]));
		json_object_object_add(o, "tables_replaced", json_object_new_int64((int64_t)st_a[ST_REPLACED]));
		json_object_object_add(o, "trace_lines", json_object_new_int64((int64_t)a.trace_lines));
		for (i = 0; i < nchecks; i++) {
			json_object *c = json_object_new_object();

			json_object_object_add(c, "check", json_object_new_string(checks[i].what));
			json_object_object_add(c, "ok", json_object_new_boolean(checks[i].ok));
			json_object_object_add(c, "detail", json_object_new_string(checks[i].detail));
			json_object_array_add(arr, c);
		}
		json_object_object_add(o, "invariants", arr);
		json_object_object_add(o, "failed", json_object_new_int((int)failed));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		printf("softiommu demo (library %s)\n", siommu_version());
		printf("  %d reader threads (never seen by the library) did %" PRIu64
		       " lookups in RCU read-side sections\n", DEMO_READERS, st_a[ST_LOOKUPS]);
		printf("  while a writer replaced the table %" PRIu64 " times, freeing each"
		       " old one after a grace period\n", st_a[ST_REPLACED]);
		printf("  trace events in the Linux iommu format: %lu (context A), %lu (context B)\n",
		       a.trace_lines, b.trace_lines);
		printf("invariants:\n");
		for (i = 0; i < nchecks; i++)
			printf("  [%s] %s: %s\n", checks[i].ok ? " ok " : "FAIL",
			       checks[i].what, checks[i].detail);
		printf("%u of %u invariants hold\n", nchecks - failed, nchecks);
	}

	siommu_ctx_set_trace(a.ctx, NULL, NULL);
	siommu_ctx_set_trace(b.ctx, NULL, NULL);
	free(a.current);
	free(b.current);
	siommu_stats_destroy(a.stats);
	siommu_stats_destroy(b.stats);
	siommu_ctx_destroy(a.ctx);
	siommu_ctx_destroy(b.ctx);
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}
