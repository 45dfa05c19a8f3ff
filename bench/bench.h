/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Benchmark harness shared by every group (`softiommu bench`).
 *
 * A group is a function that measures cases and reports each with
 * bench_report().  A case may name a baseline case of the same group
 * measured in the same run (`vs`); the harness prints the ratio
 * value / baseline value.  Results are printed when the group ends: as a
 * table on a terminal, or with --json as one object per line:
 *   {"bench":"base","case":"x","value":1.2,"unit":"ns/op","vs":"y","ratio":0.5}
 *
 * A module adds a group by defining, in bench/bench_<module>.c,
 * `const struct bench_group bench_group_<module>` and adding it to the list
 * in bench/bench.c.
 */
#ifndef SOFTIOMMU_BENCH_H
#define SOFTIOMMU_BENCH_H

#include <stdbool.h>
#include <stdint.h>

struct bench_run;

struct bench_group {
	const char *name;
	const char *help;
	/* Returns 0, or a negative errno if the group could not run. */
	int (*run)(struct bench_run *br);
};

/* Record a result.  @vs: a case of the same group, or NULL. */
void bench_report(struct bench_run *br, const char *case_name, double value,
		  const char *unit, const char *vs);

/* Seconds each measurement should last (set by --quick / the default). */
double bench_seconds(struct bench_run *br);

/* Monotonic time in nanoseconds. */
double bench_now_ns(void);

/* Keep the compiler from optimizing a value away. */
#define bench_keep(x) __asm__ __volatile__("" : : "r"(x) : "memory")

/*
 * Run @fn on @nthreads threads started together; each runs until @seconds
 * have passed (checking the clock every @batch iterations of its own loop,
 * through bench_should_stop()) and returns its operation count.  Returns the
 * total operations per second over all threads.
 */
struct bench_thread {
	unsigned int id;		/* 0 .. nthreads-1 */
	unsigned int nthreads;
	void *arg;
	double deadline_ns;		/* read-only for fn */
};
double bench_threads(unsigned int nthreads, double seconds,
		     uint64_t (*fn)(struct bench_thread *t), void *arg);
static inline bool bench_should_stop(struct bench_thread *t)
{
	return bench_now_ns() >= t->deadline_ns;
}

int bench_main(int argc, char **argv);

#endif
