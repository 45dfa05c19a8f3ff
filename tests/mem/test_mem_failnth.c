// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fail-the-Nth-allocation sweep over the memory map's flow
 * (tests/common/failnth.h): create, RAM, host and MMIO regions, a revoke
 * notifier, region users, accesses, revoke (the notifier runs), destroy of
 * regions in the flow, a region added again where a destroyed one was.
 * The snapshot is every region (address, size, type, revoked, users), the
 * notifier calls seen and the bytes a read of each region returns.
 */
#include "failnth.h"

#include <softiommu/mem.h>

#define PG	4096ull

struct mem_world {
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct siommu_mem_region *ram, *host, *mmio, *ram2;
	struct siommu_mem_notifier *n;
	unsigned int notified;
	bool got;
	uint8_t host_buf[2 * PG];
	uint64_t reg;
};

static int mmio_read(void *opaque, uint64_t off, unsigned int size, uint64_t *val)
{
	*val = ((struct mem_world *)opaque)->reg;
	return 0;
}

static int mmio_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	((struct mem_world *)opaque)->reg = val;
	return 0;
}

static const struct siommu_mem_mmio_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

static void on_revoke(void *opaque, struct siommu_mem_region *r)
{
	((struct mem_world *)opaque)->notified++;
}

static void mem_setup(void *world)
{
	struct mem_world *w = world;

	assert_int_equal(siommu_ctx_create(&w->ctx), 0);
}

static void mem_snapshot(void *world, struct fn_buf *b)
{
	struct mem_world *w = world;
	static const uint64_t probes[] = { 0x100000, 0x200000, 0x300000, 0x400000 };
	unsigned int i;

	if (!w->mem)
		return;
	siommu_mem_for_each_region(w->mem, fn_region_line, b);
	fn_printf(b, "notified %u\n", w->notified);
	for (i = 0; i < 4; i++) {
		uint64_t v = 0;
		int ret = siommu_mem_rw(w->mem, probes[i], &v, sizeof(v), false);

		fn_printf(b, "read 0x%llx: %s 0x%llx\n", (unsigned long long)probes[i],
			  siommu_errname(ret), (unsigned long long)v);
	}
}

static int mem_run(struct fn_sweep *sw, void *world)
{
	struct mem_world *w = world;
	uint64_t v = 0x1122334455667788ull;

	FN_STEP(sw, siommu_mem_create(w->ctx, &w->mem));
	FN_STEP(sw, siommu_mem_notifier_register(w->mem, on_revoke, w, &w->n));
	FN_STEP(sw, siommu_mem_add_ram(w->mem, 0x100000, 16 * PG, &w->ram));
	FN_STEP(sw, siommu_mem_add_host(w->mem, 0x200000, w->host_buf, sizeof(w->host_buf),
					&w->host));
	FN_STEP(sw, siommu_mem_add_mmio(w->mem, 0x300000, PG, &mmio_ops, w, &w->mmio));
	FN_STEP(sw, siommu_mem_rw(w->mem, 0x100008, &v, sizeof(v), true));
	FN_STEP(sw, siommu_mem_rw(w->mem, 0x200000, &v, sizeof(v), true));
	FN_STEP(sw, siommu_mem_rw(w->mem, 0x300000, &v, sizeof(v), true));
	FN_STEP(sw, siommu_mem_region_get(w->ram));
	w->got = true;
	FN_STEP(sw, siommu_mem_region_revoke(w->host));
	assert_int_equal(w->notified, 1);
	FN_STEP(sw, siommu_mem_region_put(w->ram));
	w->got = false;
	FN_STEP(sw, siommu_mem_region_destroy(w->host));
	w->host = NULL;
	/* Where the destroyed region was, new RAM. */
	FN_STEP(sw, siommu_mem_add_ram(w->mem, 0x200000, 2 * PG, &w->ram2));
	FN_STEP(sw, siommu_mem_check_range(w->mem, 0x100000, 16 * PG));
	FN_STEP(sw, siommu_mem_notifier_unregister(w->n));
	w->n = NULL;
	FN_STEP(sw, siommu_mem_region_destroy(w->mmio));
	w->mmio = NULL;
	return 0;
}

static void mem_teardown(void *world)
{
	struct mem_world *w = world;

	if (w->got)
		assert_int_equal(siommu_mem_region_put(w->ram), 0);
	if (w->n)
		assert_int_equal(siommu_mem_notifier_unregister(w->n), 0);
	assert_int_equal(siommu_mem_region_destroy(w->ram), 0);
	assert_int_equal(siommu_mem_region_destroy(w->host), 0);
	assert_int_equal(siommu_mem_region_destroy(w->mmio), 0);
	assert_int_equal(siommu_mem_region_destroy(w->ram2), 0);
	assert_int_equal(siommu_mem_destroy(w->mem), 0);
	assert_int_equal(siommu_ctx_destroy(w->ctx), 0);
}

static void test_mem_failnth_flow(void **state)
{
	static const struct fn_flow flow = {
		.name = "mem", .world_size = sizeof(struct mem_world),
		.setup = mem_setup, .run = mem_run, .snapshot = mem_snapshot,
		.teardown = mem_teardown, .retry = true,
	};

	assert_true(fn_sweep(&flow) > 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_failnth_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
