// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fail-the-Nth-allocation sweeps over the core's public flows
 * (tests/common/failnth.h): a memory map with RAM and MMIO, an IOMMU,
 * devices with and without PASIDs, strict, lazy, identity, blocked and
 * caller-owned-table domains; attach, PASID attach, replace and detach;
 * map (fixed and IOVA allocating), DMA and scatter-gather through every
 * attachment; unmap (strict, lazy, flush), revoke, destroy.  Each call's
 * failure must be one its contract documents, with nothing changed: the
 * snapshot is the memory map's regions, every device's attachments, every
 * domain's info and page-table dump, and the IOMMU's map/unmap/DMA
 * counters.  A second flow churns objects: many PASIDs (PASID table leaves
 * on first use of a block), domain ids, device ids, then destroys them in
 * the flow itself.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "failnth.h"

#include <softiommu/core.h>
#include <softiommu/mem.h>
#include <softiommu/pgtable.h>

#define PG	4096ull
#define RW	(SIOMMU_PT_READ | SIOMMU_PT_WRITE)

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

/* ------------------------------------------------------------------ the main flow */

#define NR_DOMS	6

struct core_world {
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct siommu_mem_region *ram, *ram2, *mmio;
	struct siommu_iommu *iommu;
	struct siommu_device *dev, *dev2;
	struct siommu_domain *dom[NR_DOMS];	/* strict, lazy, vtd strict, identity, blocked, owned */
	struct siommu_pt *pt;			/* caller-owned table of dom[5] */
	uint8_t mmio_reg[64];
};

static const char *const dom_names[NR_DOMS] = {
	"strict", "lazy", "vtd", "identity", "blocked", "owned",
};

/* A device register file: 8-byte registers at offsets 0..31. */
static int mmio_read(void *opaque, uint64_t off, unsigned int size, uint64_t *val)
{
	struct core_world *w = opaque;

	*val = 0;
	memcpy(val, w->mmio_reg + (off % 32), size <= 8 ? size : 8);
	return 0;
}

static int mmio_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct core_world *w = opaque;

	memcpy(w->mmio_reg + (off % 32), &val, size <= 8 ? size : 8);
	return 0;
}

static const struct siommu_mem_mmio_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

static void core_setup(void *world)
{
	struct core_world *w = world;

	assert_int_equal(siommu_ctx_create(&w->ctx), 0);
	siommu_ctx_set_log(w->ctx, SIOMMU_LOG_ERR, quiet, NULL);
}

static const char *dom_name(struct core_world *w, struct siommu_domain *d)
{
	unsigned int i;

	for (i = 0; i < NR_DOMS; i++)
		if (d && w->dom[i] == d)
			return dom_names[i];
	return d ? "?" : "none";
}

static void snap_device(struct core_world *w, struct fn_buf *b, const char *name,
			struct siommu_device *dev)
{
	struct siommu_attachment at[8];
	int n, i;

	if (!dev)
		return;
	n = siommu_device_get_attachments(dev, at, 8);
	fn_printf(b, "device %s: %d attachments:", name, n);
	for (i = 0; i < n && i < 8; i++)
		fn_printf(b, " %u->%s", at[i].pasid, dom_name(w, at[i].dom));
	fn_printf(b, "\n");
}

static void core_snapshot(void *world, struct fn_buf *b)
{
	struct core_world *w = world;
	struct siommu_iommu_stats st;
	unsigned int i;

	if (w->mem)
		siommu_mem_for_each_region(w->mem, fn_region_line, b);
	if (w->iommu && !siommu_iommu_get_stats(w->iommu, &st))
		fn_printf(b, "stats maps %llu unmaps %llu/%llu dma %llu r %llu w %llu\n",
			  (unsigned long long)st.maps, (unsigned long long)st.unmaps_strict,
			  (unsigned long long)st.unmaps_lazy, (unsigned long long)st.dma_ops,
			  (unsigned long long)st.dma_read_bytes,
			  (unsigned long long)st.dma_write_bytes);
	snap_device(w, b, "dev", w->dev);
	snap_device(w, b, "dev2", w->dev2);
	for (i = 0; i < NR_DOMS; i++) {
		struct siommu_domain_info info;
		struct siommu_pt *pt;

		if (!w->dom[i])
			continue;
		assert_int_equal(siommu_domain_get_info(w->dom[i], &info), 0);
		/* (fq_pending moves with the flusher thread: not state of the call) */
		fn_printf(b, "domain %s: type %d domid %u users %u\n", dom_names[i], info.type,
			  info.domid, info.users);
		pt = siommu_domain_pt(w->dom[i]);
		if (pt)
			assert_int_equal(siommu_pt_dump(pt, NULL, fn_buf_line, b), 0);
	}
}

static int core_run(struct fn_sweep *sw, void *world)
{
	struct core_world *w = world;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_pt_cfg ptc = { .fmt = SIOMMU_PT_FMT_VTD_SS, .levels = 4,
				     .max_table_pages = 64 };
	struct siommu_iommu_caps caps = { .pasid_bits = 12 };
	uint8_t buf[64], buf2[16];
	struct siommu_translation t;
	struct siommu_dma_sg sg[2] = {
		{ .iova = 0x10000ff8, .buf = buf, .len = 16 },
		{ .iova = 0x10003000, .buf = buf2, .len = 16 },
	};
	uint64_t iova = 0;

	FN_STEP(sw, siommu_mem_create(w->ctx, &w->mem));
	FN_STEP(sw, siommu_mem_add_ram(w->mem, 0x100000, 0x100000, &w->ram));
	FN_STEP(sw, siommu_mem_add_ram(w->mem, 0x400000, 0x10000, &w->ram2));
	FN_STEP(sw, siommu_mem_add_mmio(w->mem, 0x800000, PG, &mmio_ops, w, &w->mmio));
	FN_STEP(sw, siommu_iommu_create(w->ctx, &caps, w->mem, &w->iommu));
	FN_STEP(sw, siommu_device_create(w->iommu, SIOMMU_RID(0, 1, 2, 3), SIOMMU_DEV_PASID, 12,
					 &w->dev));
	FN_STEP(sw, siommu_device_create(w->iommu, SIOMMU_RID(0, 1, 3, 0), 0, 0, &w->dev2));
	FN_STEP(sw, siommu_domain_create(w->iommu, &cfg, &w->dom[0]));
	cfg.unmap_mode = SIOMMU_UNMAP_LAZY;
	cfg.fq_batch = 2;
	FN_STEP(sw, siommu_domain_create(w->iommu, &cfg, &w->dom[1]));
	cfg.unmap_mode = SIOMMU_UNMAP_STRICT;
	cfg.fmt = SIOMMU_PT_FMT_VTD_SS;
	FN_STEP(sw, siommu_domain_create(w->iommu, &cfg, &w->dom[2]));
	FN_STEP(sw, siommu_domain_create(w->iommu, &(struct siommu_domain_cfg){
					 .type = SIOMMU_DOMAIN_IDENTITY }, &w->dom[3]));
	FN_STEP(sw, siommu_domain_create(w->iommu, &(struct siommu_domain_cfg){
					 .type = SIOMMU_DOMAIN_BLOCKED }, &w->dom[4]));
	FN_STEP(sw, siommu_pt_create(w->ctx, &ptc, &w->pt));
	FN_STEP(sw, siommu_domain_create(w->iommu, &(struct siommu_domain_cfg){
					 .type = SIOMMU_DOMAIN_PAGING, .pt = w->pt }, &w->dom[5]));

	FN_STEP(sw, siommu_device_attach(w->dev, w->dom[0]));
	FN_STEP(sw, siommu_device_attach(w->dev2, w->dom[3]));
	FN_STEP(sw, siommu_pasid_attach(w->dev, 3000, w->dom[1]));
	FN_STEP(sw, siommu_pasid_attach(w->dev, 5, w->dom[2]));
	FN_STEP(sw, siommu_pasid_attach(w->dev, 6, w->dom[4]));

	FN_STEP(sw, siommu_domain_map(w->dom[0], 0x10000000, 0x100000, 8 * PG, RW));
	FN_STEP(sw, siommu_domain_map(w->dom[0], 0x20000000, 0x400000, PG, SIOMMU_PT_READ));
	FN_STEP(sw, siommu_domain_map(w->dom[0], 0x30000000, 0x800000, PG, RW | SIOMMU_PT_MMIO));
	FN_STEP(sw, siommu_domain_map(w->dom[1], 0x10000000, 0x100000, 4 * PG, SIOMMU_PT_READ));
	FN_STEP(sw, siommu_domain_dma_map(w->dom[1], 0x104000, PG, SIOMMU_PT_READ, UINT64_MAX,
					  &iova));
	FN_STEP(sw, siommu_domain_map(w->dom[2], 0x10000000, 0x100000, 16 * PG, RW));
	FN_STEP(sw, siommu_domain_map(w->dom[5], 0x200000, 0x100000, 0x100000, RW));

	FN_STEP(sw, siommu_dma_write(w->dev, 0, 0x10000010, "hello", 5));
	FN_STEP(sw, siommu_dma_read(w->dev, 3000, 0x10000010, buf, 5));
	assert_memory_equal(buf, "hello", 5);
	FN_STEP(sw, siommu_dma_read(w->dev, 3000, iova, buf, 8));
	FN_STEP(sw, siommu_dma_write(w->dev, 0, 0x30000000, "mmio", 4));
	assert_memory_equal(w->mmio_reg, "mmio", 4);
	FN_STEP(sw, siommu_dma_write_sg(w->dev, 5, sg, 2));
	FN_STEP(sw, siommu_dma_read_sg(w->dev, 0, sg, 2));
	/* Identity: the address is the physical one. */
	FN_STEP(sw, siommu_dma_read(w->dev2, 0, 0x100010, buf, 5));
	assert_memory_equal(buf, "hello", 5);
	FN_STEP(sw, siommu_device_replace(w->dev2, w->dom[5]));
	FN_STEP(sw, siommu_dma_read(w->dev2, 0, 0x200010, buf, 5));
	assert_memory_equal(buf, "hello", 5);

	/* Unmap never fails for lack of memory, not even in a record's middle. */
	FN_STEP(sw, siommu_domain_unmap(w->dom[0], 0x10002000, PG));
	FN_STEP(sw, siommu_domain_unmap(w->dom[0], 0x10004000, PG));
	/*
	 * Maps into the holes: the revocation record is split around them
	 * (with the spare record the map allocates first), one into the same
	 * region, one into another; each revoke below must take exactly its
	 * region's pages.
	 */
	FN_STEP(sw, siommu_domain_map(w->dom[0], 0x10002000, 0x108000, PG, RW));
	FN_STEP(sw, siommu_domain_map(w->dom[0], 0x10004000, 0x401000, PG, RW));
	assert_int_equal(siommu_translate(w->dev, 0, 0x10002010, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0x108010);
	assert_int_equal(siommu_translate(w->dev, 0, 0x10004010, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0x401010);
	FN_STEP(sw, siommu_domain_unmap(w->dom[1], 0x10000000, PG));
	FN_STEP(sw, siommu_domain_unmap(w->dom[1], 0x10002000, PG));
	FN_STEP(sw, siommu_domain_dma_unmap(w->dom[1], iova, PG));
	FN_STEP(sw, siommu_domain_flush(w->dom[1]));
	FN_STEP(sw, siommu_pasid_replace(w->dev, 3000, w->dom[0]));
	FN_STEP(sw, siommu_pasid_replace(w->dev, 7, w->dom[2]));	/* replace of nothing */
	FN_STEP(sw, siommu_device_replace(w->dev, w->dom[4]));
	FN_STEP(sw, siommu_mem_region_revoke(w->ram2));
	/* ram2's pages went, ram's stayed, on both sides of the hole (PASID 3000: dom[0]). */
	assert_int_equal(siommu_translate(w->dev, 3000, 0x10004000, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_translate(w->dev, 3000, 0x20000000, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_translate(w->dev, 3000, 0x10003000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_translate(w->dev, 3000, 0x10005000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0x105000);
	FN_STEP(sw, siommu_mem_region_revoke(w->ram));
	/* Everything of ram went, the split pieces and the page mapped into a hole. */
	for (iova = 0x10000000; iova < 0x10008000; iova += PG)
		assert_int_equal(siommu_translate(w->dev, 3000, iova, SIOMMU_ACC_READ, &t), -ENOENT);
	FN_STEP(sw, siommu_pasid_detach(w->dev, 5));
	FN_STEP(sw, siommu_pasid_detach(w->dev, 7));
	FN_STEP(sw, siommu_domain_destroy(w->dom[2]));
	w->dom[2] = NULL;
	FN_STEP(sw, siommu_device_detach(w->dev2));
	FN_STEP(sw, siommu_device_destroy(w->dev2));
	w->dev2 = NULL;
	FN_STEP(sw, siommu_domain_destroy(w->dom[5]));
	w->dom[5] = NULL;
	FN_STEP(sw, siommu_pt_destroy(w->pt));
	w->pt = NULL;
	return 0;
}

static void core_teardown(void *world)
{
	struct core_world *w = world;
	unsigned int i;

	if (w->dev) {
		siommu_device_detach(w->dev);
		siommu_pasid_detach(w->dev, 3000);
		siommu_pasid_detach(w->dev, 5);
		siommu_pasid_detach(w->dev, 6);
		siommu_pasid_detach(w->dev, 7);
		assert_int_equal(siommu_device_destroy(w->dev), 0);
	}
	if (w->dev2) {
		siommu_device_detach(w->dev2);
		assert_int_equal(siommu_device_destroy(w->dev2), 0);
	}
	for (i = 0; i < NR_DOMS; i++)
		assert_int_equal(siommu_domain_destroy(w->dom[i]), 0);
	assert_int_equal(siommu_pt_destroy(w->pt), 0);
	assert_int_equal(siommu_iommu_destroy(w->iommu), 0);
	assert_int_equal(siommu_mem_region_destroy(w->ram), 0);
	assert_int_equal(siommu_mem_region_destroy(w->ram2), 0);
	assert_int_equal(siommu_mem_region_destroy(w->mmio), 0);
	assert_int_equal(siommu_mem_destroy(w->mem), 0);
	assert_int_equal(siommu_ctx_destroy(w->ctx), 0);
}

static void test_core_failnth_main_flow(void **state)
{
	static const struct fn_flow flow = {
		.name = "core", .world_size = sizeof(struct core_world),
		.setup = core_setup, .run = core_run, .snapshot = core_snapshot,
		.teardown = core_teardown, .retry = true,
	};

	assert_true(fn_sweep(&flow) > 20);
}

/* ------------------------------------------------------------------ object churn */

#define CHURN_DOMS	4
#define CHURN_PASIDS	5

struct churn_world {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev[2];
	struct siommu_domain *dom[CHURN_DOMS];
};

/* PASIDs in different blocks of 1024: each first use allocates a table leaf. */
static const uint32_t churn_pasids[CHURN_PASIDS] = { 1, 1023, 1024, 40000, 0xfffff };

static void churn_setup(void *world)
{
	struct churn_world *w = world;

	assert_int_equal(siommu_ctx_create(&w->ctx), 0);
	siommu_ctx_set_log(w->ctx, SIOMMU_LOG_ERR, quiet, NULL);
}

static void churn_snapshot(void *world, struct fn_buf *b)
{
	struct churn_world *w = world;
	unsigned int i, d;

	for (d = 0; d < 2; d++) {
		struct siommu_attachment at[8];
		int n;

		if (!w->dev[d])
			continue;
		n = siommu_device_get_attachments(w->dev[d], at, 8);
		fn_printf(b, "dev%u:", d);
		for (i = 0; i < (unsigned int)n && i < 8; i++) {
			unsigned int k;

			for (k = 0; k < CHURN_DOMS && w->dom[k] != at[i].dom; k++)
				;
			fn_printf(b, " %u->%u", at[i].pasid, k);
		}
		fn_printf(b, "\n");
	}
	for (i = 0; i < CHURN_DOMS; i++) {
		struct siommu_domain_info info;

		if (w->dom[i] && !siommu_domain_get_info(w->dom[i], &info))
			fn_printf(b, "dom%u: domid %u users %u\n", i, info.domid, info.users);
	}
}

static int churn_run(struct fn_sweep *sw, void *world)
{
	struct churn_world *w = world;
	/* An output width below the formats' (52, 48): tables are made narrower. */
	struct siommu_iommu_caps caps = { .pasid_bits = 20, .oas_lg2 = 40 };
	unsigned int i;

	FN_STEP(sw, siommu_iommu_create(w->ctx, &caps, NULL, &w->iommu));
	FN_STEP(sw, siommu_device_create(w->iommu, SIOMMU_RID(0, 2, 0, 0), SIOMMU_DEV_PASID, 20,
					 &w->dev[0]));
	FN_STEP(sw, siommu_device_create(w->iommu, SIOMMU_RID(0, 2, 0, 1), SIOMMU_DEV_PASID, 20,
					 &w->dev[1]));
	for (i = 0; i < CHURN_DOMS; i++) {
		struct siommu_domain_cfg cfg = {
			.type = SIOMMU_DOMAIN_PAGING,
			.fmt = i & 1 ? SIOMMU_PT_FMT_ARM_LPAE_S1 : SIOMMU_PT_FMT_X86_64,
			.unmap_mode = i == 3 ? SIOMMU_UNMAP_LAZY : SIOMMU_UNMAP_STRICT,
			/* table entries that fit 40 bits (host addresses would not: -ERANGE) */
			.table_phys_base = 0x10000000,
		};

		FN_STEP(sw, siommu_domain_create(w->iommu, &cfg, &w->dom[i]));
	}
	for (i = 0; i < CHURN_PASIDS; i++)
		FN_STEP(sw, siommu_pasid_attach(w->dev[i & 1], churn_pasids[i],
						w->dom[i % CHURN_DOMS]));
	for (i = 0; i < CHURN_PASIDS; i++)
		FN_STEP(sw, siommu_pasid_replace(w->dev[i & 1], churn_pasids[i],
						 w->dom[(i + 1) % CHURN_DOMS]));
	/* Replace onto a PASID never attached, in a block not yet used. */
	FN_STEP(sw, siommu_pasid_replace(w->dev[0], 5000, w->dom[0]));
	FN_STEP(sw, siommu_device_attach(w->dev[1], w->dom[2]));
	for (i = 0; i < CHURN_PASIDS; i++)
		FN_STEP(sw, siommu_pasid_detach(w->dev[i & 1], churn_pasids[i]));
	FN_STEP(sw, siommu_pasid_detach(w->dev[0], 5000));
	FN_STEP(sw, siommu_device_detach(w->dev[1]));
	/* Destroy and create again: ids are reused. */
	FN_STEP(sw, siommu_domain_destroy(w->dom[1]));
	w->dom[1] = NULL;
	FN_STEP(sw, siommu_domain_create(w->iommu, &(struct siommu_domain_cfg){
					 .type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_VTD_SS,
					 .table_phys_base = 0x20000000 }, &w->dom[1]));
	FN_STEP(sw, siommu_device_destroy(w->dev[1]));
	w->dev[1] = NULL;
	FN_STEP(sw, siommu_device_create(w->iommu, SIOMMU_RID(0, 2, 0, 1), 0, 0, &w->dev[1]));
	FN_STEP(sw, siommu_device_attach(w->dev[1], w->dom[1]));
	return 0;
}

static void churn_teardown(void *world)
{
	struct churn_world *w = world;
	unsigned int i, d;

	for (d = 0; d < 2; d++) {
		if (!w->dev[d])
			continue;
		siommu_device_detach(w->dev[d]);
		for (i = 0; i < CHURN_PASIDS; i++)
			siommu_pasid_detach(w->dev[d], churn_pasids[i]);
		siommu_pasid_detach(w->dev[d], 5000);
		assert_int_equal(siommu_device_destroy(w->dev[d]), 0);
	}
	for (i = 0; i < CHURN_DOMS; i++)
		assert_int_equal(siommu_domain_destroy(w->dom[i]), 0);
	assert_int_equal(siommu_iommu_destroy(w->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(w->ctx), 0);
}

static void test_core_failnth_churn_flow(void **state)
{
	static const struct fn_flow flow = {
		.name = "core-churn", .world_size = sizeof(struct churn_world),
		.setup = churn_setup, .run = churn_run, .snapshot = churn_snapshot,
		.teardown = churn_teardown, .retry = true,
	};

	assert_true(fn_sweep(&flow) > 10);
}

/* The harness's oracle: the contracts parsed from the headers. */
static void test_core_failnth_contracts_parsed(void **state)
{
	int errs[FN_MAX_ERRS], n, i;
	bool enomem = false, eexist = false, einval = false;

	/* "as siommu_device_attach(), without -EEXIST" */
	n = fn_contract_errors("siommu_device_replace", errs, 0);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		eexist |= errs[i] == -EEXIST;
		einval |= errs[i] == -EINVAL;
		enomem |= errs[i] == -ENOMEM;
	}
	assert_true(einval);
	assert_false(eexist);
	/*
	 * -ENOMEM comes from attach's "a layer's prepare error": an ioas
	 * layer's fill maps (as siommu_domain_map()), named in the contract.
	 */
	assert_true(enomem);
	/* "as the device functions, plus ... -ENOMEM" */
	n = fn_contract_errors("siommu_pasid_replace", errs, 0);
	for (i = 0, enomem = false; i < n; i++)
		enomem |= errs[i] == -ENOMEM;
	assert_true(enomem);
	/* "as siommu_pt_map() (...), plus" */
	n = fn_contract_errors("siommu_domain_map", errs, 0);
	for (i = 0, enomem = false; i < n; i++)
		enomem |= errs[i] == -ENOMEM;
	assert_true(enomem);
	/* unmap never fails for lack of memory */
	n = fn_contract_errors("siommu_domain_unmap", errs, 0);
	assert_true(n > 0);
	for (i = 0; i < n; i++)
		assert_int_not_equal(errs[i], -ENOMEM);
	/* a title among others on its line */
	assert_true(fn_contract_errors("siommu_dma_read_sg", errs, 0) > 0);
	assert_int_equal(fn_contract_errors("siommu_no_such_function", errs, 0), -1);
}

/*
 * Found by scripts/contract-audit: domain_destroy returned -EDEADLK inside a
 * read-side section while its Returns documented only -EBUSY.  Now it does;
 * the call must change nothing.
 */
static void test_core_domain_destroy_in_reader_documented(void **state)
{
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_domain *dom;
	struct siommu_iommu *iommu;
	struct siommu_ctx *ctx;
	int errs[FN_MAX_ERRS], n, i, ret;
	bool documented = false;

	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_iommu_create(ctx, NULL, NULL, &iommu), 0);
	assert_int_equal(siommu_domain_create(iommu, &cfg, &dom), 0);
	assert_int_equal(siommu_domain_map(dom, 0x1000, 0x2000, PG, RW), 0);
	siommu_read_lock();
	ret = siommu_domain_destroy(dom);
	siommu_read_unlock();
	assert_int_equal(ret, -EDEADLK);
	n = fn_contract_errors("siommu_domain_destroy", errs, 0);
	for (i = 0; i < n; i++)
		documented |= errs[i] == ret;
	assert_true(documented);
	/* Nothing done: the domain still maps, and goes when asked outside. */
	assert_int_equal(siommu_pt_iova_to_phys(siommu_domain_pt(dom), 0x1000, &(uint64_t){ 0 }),
			 0);
	assert_int_equal(siommu_domain_destroy(dom), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_domain_destroy_in_reader_documented),
		cmocka_unit_test(test_core_failnth_contracts_parsed),
		cmocka_unit_test(test_core_failnth_main_flow),
		cmocka_unit_test(test_core_failnth_churn_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
