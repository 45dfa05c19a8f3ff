// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmark group "mem": the cost of finding a physical address and copying
 * from it, with revocation made safe two ways.
 *
 *  - lock-free (the design): an RCU read-side section around the lookup
 *    (binary search of the published array), the revoked check and the
 *    copy.  Measured through siommu_mem_rw(), the public call.
 *  - rwlock (the seed's alternative, Jason Gunthorpe's rwsem around access
 *    and revoke): the same lookup, check and copy under a pthread rwlock's
 *    read side.  Measured in the same run as the baseline (`vs`).
 *
 * Both on 1 and 2 threads reading the same RAM region (8-byte and 256-byte
 * accesses at addresses spread over 64 KiB, 16 regions in the map).  Also the
 * latency of a region's life (add, revoke, destroy: two grace periods'
 * worth) with and without a thread doing accesses.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <softiommu/mem.h>

#include "mem/mem_internal.h"
#include "bench.h"

#define BATCH		1024
#define NREGIONS	16
#define REGION_SIZE	0x10000u
#define BASE_PA		0x100000ull

struct mem_bench {
	struct siommu_mem *mem;
	pthread_rwlock_t rw;
	size_t len;
	volatile bool stop;
};

static uint64_t pa_of(uint64_t i)
{
	/*
	 * Regions 0..15 in turn, offsets spread over each, 256-byte aligned so
	 * that any access up to 256 bytes stays inside (no division: it would
	 * cost as much as what is measured).
	 */
	return BASE_PA + (i & (NREGIONS - 1)) * 2 * REGION_SIZE +
	       ((i * 4160) & (REGION_SIZE - 256));
}

static uint64_t loop_rcu(struct bench_thread *t)
{
	struct mem_bench *b = t->arg;
	uint8_t buf[256];
	uint64_t ops = 0, i = t->id * 7;
	unsigned int k;

	while (!bench_should_stop(t)) {
		for (k = 0; k < BATCH; k++, i++)
			siommu_mem_rw(b->mem, pa_of(i), buf, b->len, false);
		bench_keep(buf[0]);
		ops += BATCH;
	}
	return ops;
}

static uint64_t loop_rwlock(struct bench_thread *t)
{
	struct mem_bench *b = t->arg;
	uint8_t buf[256];
	uint64_t ops = 0, i = t->id * 7;
	unsigned int k;

	while (!bench_should_stop(t)) {
		for (k = 0; k < BATCH; k++, i++) {
			pthread_rwlock_rdlock(&b->rw);
			mem_access(b->mem, pa_of(i), buf, b->len, false);
			pthread_rwlock_unlock(&b->rw);
		}
		bench_keep(buf[0]);
		ops += BATCH;
	}
	return ops;
}

static double ns_per_op(double ops_per_s, unsigned int threads)
{
	return ops_per_s > 0 ? 1e9 * threads / ops_per_s : 0;
}

static void *busy_reader(void *arg)
{
	struct mem_bench *b = arg;
	uint64_t i = 0;
	uint8_t buf[8];

	while (!b->stop)
		siommu_mem_rw(b->mem, pa_of(i++), buf, 8, false);
	return NULL;
}

/* add + revoke + destroy of a 4 KiB region, microseconds each */
static double measure_lifecycle(struct bench_run *br, struct mem_bench *b, bool reader)
{
	struct siommu_mem_region *r;
	double start, deadline;
	pthread_t tid;
	uint64_t n = 0;

	b->stop = false;
	if (reader && pthread_create(&tid, NULL, busy_reader, b))
		return -1;
	start = bench_now_ns();
	deadline = start + bench_seconds(br) * 1e9;
	do {
		if (siommu_mem_add_ram(b->mem, 0x80000000ull, 0x1000, &r) ||
		    siommu_mem_region_revoke(r) || siommu_mem_region_destroy(r))
			break;
		n++;
	} while (bench_now_ns() < deadline);
	b->stop = true;
	if (reader)
		pthread_join(tid, NULL);
	return n ? (bench_now_ns() - start) / 1e3 / (double)n : -1;
}

static int run_mem(struct bench_run *br)
{
	struct siommu_mem_region *r[NREGIONS];
	double s = bench_seconds(br), v;
	struct mem_bench b = { 0 };
	struct siommu_ctx *ctx;
	unsigned int i, n = 0;
	int ret;

	ret = siommu_ctx_create(&ctx);
	if (ret)
		return ret;
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, NULL, NULL);
	ret = siommu_mem_create(ctx, &b.mem);
	if (ret)
		goto out_ctx;
	for (n = 0; n < NREGIONS; n++) {
		ret = siommu_mem_add_ram(b.mem, BASE_PA + n * 2ull * REGION_SIZE, REGION_SIZE, &r[n]);
		if (ret)
			goto out_regions;
	}
	pthread_rwlock_init(&b.rw, NULL);

	b.len = 8;
	v = bench_threads(1, s, loop_rwlock, &b);
	bench_report(br, "rw8_rwlock_1thread", ns_per_op(v, 1), "ns/op", NULL);
	v = bench_threads(1, s, loop_rcu, &b);
	bench_report(br, "rw8_lockfree_1thread", ns_per_op(v, 1), "ns/op", "rw8_rwlock_1thread");
	v = bench_threads(2, s, loop_rwlock, &b);
	bench_report(br, "rw8_rwlock_2threads", ns_per_op(v, 2), "ns/op", NULL);
	v = bench_threads(2, s, loop_rcu, &b);
	bench_report(br, "rw8_lockfree_2threads", ns_per_op(v, 2), "ns/op", "rw8_rwlock_2threads");
	b.len = 256;
	v = bench_threads(2, s, loop_rwlock, &b);
	bench_report(br, "rw256_rwlock_2threads", ns_per_op(v, 2), "ns/op", NULL);
	v = bench_threads(2, s, loop_rcu, &b);
	bench_report(br, "rw256_lockfree_2threads", ns_per_op(v, 2), "ns/op",
		     "rw256_rwlock_2threads");

	v = measure_lifecycle(br, &b, false);
	bench_report(br, "region_add_revoke_destroy", v, "us/op", NULL);
	v = measure_lifecycle(br, &b, true);
	bench_report(br, "region_add_revoke_destroy_1reader", v, "us/op",
		     "region_add_revoke_destroy");
	pthread_rwlock_destroy(&b.rw);
	ret = 0;

out_regions:
	for (i = 0; i < n; i++)
		siommu_mem_region_destroy(r[i]);
	siommu_mem_destroy(b.mem);
out_ctx:
	siommu_ctx_destroy(ctx);
	return ret;
}

const struct bench_group bench_group_mem = {
	.name = "mem",
	.help = "physical memory map: lock-free lookup+access vs a rwlock, 1 and 2 threads; revoke latency",
	.run = run_mem,
};
