// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmark group "base": the cost of the base layer's hot paths.
 *
 *  - RCU read-side section (lock + unlock) with the library's glue
 *    (urcu-memb with the lazy-registration check), beside plain urcu-memb
 *    on a pre-registered thread and urcu-bp (the flavor made for libraries).
 *  - The exported siommu_read_lock()/unlock() pair (a function call each).
 *  - Grace-period latency (synchronize) for memb and bp while another
 *    thread runs read-side sections in a loop.
 *  - Statistics counter increment, per-thread counters (stats.h) on 1 and 2
 *    threads, beside one shared atomic counter on 2 threads.
 *  - The same increments alternating between two sets per thread (each
 *    thread its own two, as two threads working in two contexts would),
 *    with set ids that are neighbours ("spread") and with ids 16 apart
 *    ("colliding": the ids that shared a slot of the 16-entry direct-mapped
 *    cache stats used before base/tls.c).  Target: colliding within 10% of
 *    spread, on 1 and 2 threads.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <urcu/urcu-bp.h>

#include <softiommu/base.h>

#include "base/rcu.h"
#include "base/stats.h"
#include "bench.h"

#define BATCH 1024

static uint64_t loop_memb_lazy(struct bench_thread *t)
{
	uint64_t ops = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++) {
			siommu_rcu_read_lock();
			siommu_rcu_read_unlock();
		}
		ops += BATCH;
	}
	return ops;
}

static uint64_t loop_memb_plain(struct bench_thread *t)
{
	uint64_t ops = 0;
	unsigned int i;

	siommu_rcu_ensure_thread();	/* registered before the timed loop */
	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++) {
			urcu_memb_read_lock();
			urcu_memb_read_unlock();
		}
		ops += BATCH;
	}
	return ops;
}

static uint64_t loop_bp(struct bench_thread *t)
{
	uint64_t ops = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++) {
			urcu_bp_read_lock();
			urcu_bp_read_unlock();
		}
		ops += BATCH;
	}
	urcu_bp_unregister_thread();
	return ops;
}

static uint64_t loop_public(struct bench_thread *t)
{
	uint64_t ops = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++) {
			siommu_read_lock();
			siommu_read_unlock();
		}
		ops += BATCH;
	}
	return ops;
}

/* ---- grace periods ---- */

struct gp_arg {
	bool bp;
	double hold_ns;		/* time each read-side section lasts */
	volatile bool stop;
	int running;		/* atomic: the reader has entered its first section */
};

static void spin_ns(double ns)
{
	double end;

	if (ns <= 0)
		return;
	end = bench_now_ns() + ns;
	while (bench_now_ns() < end)
		;
}

static void *gp_reader(void *p)
{
	struct gp_arg *a = p;

	while (!__atomic_load_n(&a->stop, __ATOMIC_RELAXED)) {
		if (a->bp) {
			urcu_bp_read_lock();
			__atomic_store_n(&a->running, 1, __ATOMIC_RELEASE);
			spin_ns(a->hold_ns);
			urcu_bp_read_unlock();
		} else {
			siommu_rcu_read_lock();
			__atomic_store_n(&a->running, 1, __ATOMIC_RELEASE);
			spin_ns(a->hold_ns);
			siommu_rcu_read_unlock();
		}
	}
	if (a->bp)
		urcu_bp_unregister_thread();
	return NULL;
}

static double measure_gp(struct bench_run *br, bool bp, double hold_ns)
{
	struct gp_arg a = { .bp = bp, .hold_ns = hold_ns };
	double start, deadline;
	uint64_t n = 0;
	pthread_t tid;

	if (pthread_create(&tid, NULL, gp_reader, &a))
		return -1;
	/* time grace periods only once the reader is at work */
	while (!__atomic_load_n(&a.running, __ATOMIC_ACQUIRE))
		sched_yield();
	start = bench_now_ns();
	deadline = start + bench_seconds(br) * 1e9;
	do {
		if (bp)
			urcu_bp_synchronize_rcu();
		else
			siommu_rcu_synchronize();
		n++;
	} while (bench_now_ns() < deadline);
	__atomic_store_n(&a.stop, true, __ATOMIC_RELAXED);
	pthread_join(tid, NULL);
	return (bench_now_ns() - start) / 1e3 / (double)n;
}

/* ---- statistics ---- */

static uint64_t loop_stats(struct bench_thread *t)
{
	struct siommu_stats *s = t->arg;
	uint64_t ops = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++)
			siommu_stats_inc(s, 0);
		ops += BATCH;
	}
	return ops;
}

static uint64_t shared_counter;

static uint64_t loop_shared(struct bench_thread *t)
{
	uint64_t ops = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i++)
			__atomic_fetch_add(&shared_counter, 1, __ATOMIC_RELAXED);
		ops += BATCH;
	}
	return ops;
}

/* Two sets per thread: t->arg is an array of 2 * nthreads sets. */
static uint64_t loop_stats_2sets(struct bench_thread *t)
{
	struct siommu_stats **sets = t->arg;
	struct siommu_stats *a = sets[2 * t->id], *b = sets[2 * t->id + 1];
	uint64_t ops = 0;
	unsigned int i;

	while (!bench_should_stop(t)) {
		for (i = 0; i < BATCH; i += 2) {
			siommu_stats_inc(a, 0);
			siommu_stats_inc(b, 0);
		}
		ops += BATCH;
	}
	return ops;
}

#define STATS_NR_SETS	32

/*
 * Increments alternating between two sets per thread; @stride 1: the sets
 * of a thread were created one after the other, 16: with 15 in between.
 */
static int measure_2sets(double seconds, unsigned int threads,
			 unsigned int stride, double *out)
{
	struct siommu_stats *all[STATS_NR_SETS] = { 0 }, *use[4];
	unsigned int i;
	int ret = 0;

	for (i = 0; i < STATS_NR_SETS && !ret; i++)
		ret = siommu_stats_create(1, &all[i]);
	if (!ret) {
		for (i = 0; i < threads; i++) {
			/* spread: (0,1) (2,3); colliding: (0,16) (1,17) */
			use[2 * i] = all[stride == 1 ? 2 * i : i];
			use[2 * i + 1] = all[stride == 1 ? 2 * i + 1 : i + stride];
		}
		*out = bench_threads(threads, seconds, loop_stats_2sets, use);
	}
	for (i = 0; i < STATS_NR_SETS; i++)
		siommu_stats_destroy(all[i]);
	return ret;
}

static double ns_per_op(double ops_per_s, unsigned int threads)
{
	/* per-thread latency: each thread's own operations */
	return ops_per_s > 0 ? 1e9 * threads / ops_per_s : 0;
}

static int run_base(struct bench_run *br)
{
	double s = bench_seconds(br);
	struct siommu_stats *st;
	unsigned int th;
	double v;

	v = bench_threads(1, s, loop_memb_plain, NULL);
	bench_report(br, "rcu_read_memb_registered", ns_per_op(v, 1), "ns/op", NULL);
	v = bench_threads(1, s, loop_bp, NULL);
	bench_report(br, "rcu_read_bp", ns_per_op(v, 1), "ns/op", NULL);
	v = bench_threads(1, s, loop_memb_lazy, NULL);
	bench_report(br, "rcu_read_memb_lazy", ns_per_op(v, 1), "ns/op", "rcu_read_bp");
	v = bench_threads(1, s, loop_public, NULL);
	bench_report(br, "rcu_read_public_api", ns_per_op(v, 1), "ns/op", "rcu_read_memb_lazy");

	v = measure_gp(br, true, 0);
	bench_report(br, "synchronize_bp_1reader", v, "us/op", NULL);
	v = measure_gp(br, false, 0);
	bench_report(br, "synchronize_memb_1reader", v, "us/op", "synchronize_bp_1reader");
	/* readers that stay in their sections a while: bp polls, memb sleeps on a futex */
	v = measure_gp(br, true, 20000);
	bench_report(br, "synchronize_bp_reader_20us_sections", v, "us/op", NULL);
	v = measure_gp(br, false, 20000);
	bench_report(br, "synchronize_memb_reader_20us_sections", v, "us/op",
		     "synchronize_bp_reader_20us_sections");

	if (siommu_stats_create(1, &st))
		return -ENOMEM;
	v = bench_threads(1, s, loop_stats, st);
	bench_report(br, "stats_inc_1thread", ns_per_op(v, 1), "ns/op", NULL);
	v = bench_threads(2, s, loop_shared, NULL);
	bench_report(br, "shared_atomic_inc_2threads", ns_per_op(v, 2), "ns/op", NULL);
	v = bench_threads(2, s, loop_stats, st);
	bench_report(br, "stats_inc_2threads", ns_per_op(v, 2), "ns/op",
		     "shared_atomic_inc_2threads");
	siommu_stats_destroy(st);

	for (th = 1; th <= 2; th++) {
		char name[64], base[64];
		double spread, coll;

		if (measure_2sets(s, th, 1, &spread) ||
		    measure_2sets(s, th, 16, &coll))
			return -ENOMEM;
		snprintf(base, sizeof(base), "stats_inc_2sets_spread_%uthread%s",
			 th, th > 1 ? "s" : "");
		bench_report(br, base, ns_per_op(spread, th), "ns/op", NULL);
		snprintf(name, sizeof(name), "stats_inc_2sets_colliding_%uthread%s",
			 th, th > 1 ? "s" : "");
		bench_report(br, name, ns_per_op(coll, th), "ns/op", base);
	}
	return 0;
}

const struct bench_group bench_group_base = {
	.name = "base",
	.help = "RCU read-side sections (memb lazy vs bp), grace periods, stats counters",
	.run = run_base,
};
