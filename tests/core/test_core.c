// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the core: IOMMU, devices, domains, attach/detach/replace
 * (device and PASID), translate (every fault reason, IOTLB hits and
 * invalidation), DMA (host addresses and a memory map with RAM, MMIO and a
 * revoked region), strict and lazy unmap with the flush queue, the fault
 * log (order, rate limit, overflow), trace events, and bad arguments.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sched.h>
#include <unistd.h>

#include "test_common.h"

#include <softiommu/core.h>
#include <softiommu/mem.h>

#define PG	4096ull
#define RID0	SIOMMU_RID(0, 0, 2, 0)
#define RID1	SIOMMU_RID(0, 3, 0, 1)

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;	/* RID0, PASID capable (8 bits) */
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static int make(void **state, const struct siommu_iommu_caps *caps,
		struct siommu_mem *mem)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx))
		return -1;
	siommu_ctx_set_log(f->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	if (siommu_iommu_create(f->ctx, caps, mem, &f->iommu))
		return -1;
	if (siommu_device_create(f->iommu, RID0, SIOMMU_DEV_PASID, 8, &f->dev))
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 20 };

	return make(state, &caps, NULL);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(siommu_device_destroy(f->dev), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static struct siommu_domain *mkdom(struct fixture *f, enum siommu_domain_type t,
				   enum siommu_unmap_mode mode)
{
	struct siommu_domain_cfg cfg = {
		.type = t,
		.fmt = SIOMMU_PT_FMT_X86_64,
		.unmap_mode = mode,
	};
	struct siommu_domain *d = NULL;

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	return d;
}

static void *page_alloc(size_t n)
{
	void *p = NULL;

	assert_int_equal(posix_memalign(&p, PG, n * PG), 0);
	memset(p, 0, n * PG);
	return p;
}

/* ------------------------------------------------------------------ objects */

static void test_core_iommu_create_rejects_bad_caps(void **state)
{
	struct fixture *f = *state;
	struct siommu_iommu_caps c;
	struct siommu_iommu *i;

	assert_int_equal(siommu_iommu_create(NULL, NULL, NULL, &i), -EINVAL);
	assert_int_equal(siommu_iommu_create(f->ctx, NULL, NULL, NULL), -EINVAL);
	c = (struct siommu_iommu_caps){ .ias_lg2 = 20 };
	assert_int_equal(siommu_iommu_create(f->ctx, &c, NULL, &i), -EINVAL);
	c = (struct siommu_iommu_caps){ .oas_lg2 = 60 };
	assert_int_equal(siommu_iommu_create(f->ctx, &c, NULL, &i), -EINVAL);
	c = (struct siommu_iommu_caps){ .pasid_bits = 21 };
	assert_int_equal(siommu_iommu_create(f->ctx, &c, NULL, &i), -EINVAL);
	c = (struct siommu_iommu_caps){ .pgsize_bitmap = SIOMMU_PT_SZ_2M };
	assert_int_equal(siommu_iommu_create(f->ctx, &c, NULL, &i), -EINVAL);
	c = (struct siommu_iommu_caps){ .iotlb_capacity = 3 };
	assert_int_equal(siommu_iommu_create(f->ctx, &c, NULL, &i), -EINVAL);
	c = (struct siommu_iommu_caps){ .prq_size = 100 };
	assert_int_equal(siommu_iommu_create(f->ctx, &c, NULL, &i), -EINVAL);
	c = (struct siommu_iommu_caps){ .fault_log_size = 65537 };
	assert_int_equal(siommu_iommu_create(f->ctx, &c, NULL, &i), -EINVAL);
	/* Defaults are filled in. */
	assert_int_equal(siommu_iommu_create(f->ctx, NULL, NULL, &i), 0);
	assert_int_equal(siommu_iommu_get_caps(i, &c), 0);
	assert_int_equal(c.ias_lg2, 48);
	assert_int_equal(c.oas_lg2, 52);
	assert_int_equal(c.pasid_bits, 0);
	assert_int_equal(c.prq_size, 256);
	assert_int_equal(c.fault_log_size, 256);
	assert_true(c.pgsize_bitmap & SIOMMU_PT_SZ_4K);
	assert_int_equal(siommu_iommu_destroy(i), 0);
	assert_int_equal(siommu_iommu_destroy(NULL), 0);
}

static void test_core_destroy_in_use_is_busy(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *d = mkdom(f, SIOMMU_DOMAIN_IDENTITY, 0);

	assert_int_equal(siommu_ctx_destroy(f->ctx), -EBUSY);
	assert_int_equal(siommu_iommu_destroy(f->iommu), -EBUSY);
	assert_int_equal(siommu_device_attach(f->dev, d), 0);
	assert_int_equal(siommu_domain_destroy(d), -EBUSY);
	assert_int_equal(siommu_device_destroy(f->dev), -EBUSY);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_pasid_attach(f->dev, 3, d), 0);
	assert_int_equal(siommu_domain_destroy(d), -EBUSY);
	assert_int_equal(siommu_device_destroy(f->dev), -EBUSY);
	assert_int_equal(siommu_pasid_detach(f->dev, 3), 0);
	assert_int_equal(siommu_domain_destroy(d), 0);
}

static void test_core_device_create_checks(void **state)
{
	struct fixture *f = *state;
	struct siommu_device *d, *e;
	struct siommu_device_info info;
	struct siommu_iommu *nopasid;

	assert_int_equal(siommu_device_create(f->iommu, RID0, 0, 0, &d), -EEXIST);
	assert_int_equal(siommu_device_create(f->iommu, 1u << 24, 0, 0, &d), -EINVAL);
	assert_int_equal(siommu_device_create(f->iommu, RID1, 0x100, 0, &d), -EINVAL);
	assert_int_equal(siommu_device_create(f->iommu, RID1, SIOMMU_DEV_PASID, 0, &d), -EINVAL);
	assert_int_equal(siommu_device_create(f->iommu, RID1, SIOMMU_DEV_PASID, 21, &d), -EINVAL);
	assert_int_equal(siommu_device_create(f->iommu, RID1, 0, 5, &d), -EINVAL);
	assert_int_equal(siommu_device_create(f->iommu, RID1,
					      SIOMMU_DEV_PRG_RESP_PASID | SIOMMU_DEV_PRI,
					      0, &d), -EINVAL);
	assert_int_equal(siommu_device_create(f->iommu, RID1, SIOMMU_DEV_PASID |
					      SIOMMU_DEV_PRI | SIOMMU_DEV_ATS |
					      SIOMMU_DEV_PRG_RESP_PASID, 16, &d), 0);
	assert_ptr_equal(siommu_device_find(f->iommu, RID1), d);
	assert_ptr_equal(siommu_device_find(f->iommu, RID0), f->dev);
	assert_null(siommu_device_find(f->iommu, SIOMMU_RID(1, 0, 0, 0)));
	assert_int_equal(siommu_device_get_info(d, &info), 0);
	assert_int_equal(info.rid, RID1);
	assert_int_equal(info.pasid_bits, 16);
	assert_true(info.flags & SIOMMU_DEV_ATS);
	assert_false(info.attached);
	assert_int_equal(siommu_device_destroy(d), 0);
	assert_null(siommu_device_find(f->iommu, RID1));

	assert_int_equal(siommu_iommu_create(f->ctx, NULL, NULL, &nopasid), 0);
	assert_int_equal(siommu_device_create(nopasid, RID1, SIOMMU_DEV_PASID, 8, &e),
			 -EOPNOTSUPP);
	assert_int_equal(siommu_device_create(nopasid, RID1, SIOMMU_DEV_ATS, 0, &e), 0);
	assert_int_equal(siommu_device_destroy(e), 0);
	assert_int_equal(siommu_iommu_destroy(nopasid), 0);
}

static void test_core_domain_types_and_ids(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *b = mkdom(f, SIOMMU_DOMAIN_BLOCKED, 0);
	struct siommu_domain *i = mkdom(f, SIOMMU_DOMAIN_IDENTITY, 0);
	struct siommu_domain *p = mkdom(f, SIOMMU_DOMAIN_PAGING, 0);
	struct siommu_domain *q = mkdom(f, SIOMMU_DOMAIN_PAGING, SIOMMU_UNMAP_LAZY);
	struct siommu_domain_cfg cfg = { .type = 7 };
	struct siommu_domain_info ip, iq;
	enum siommu_domain_type t;
	struct siommu_domain *x;

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &x), -EINVAL);
	cfg = (struct siommu_domain_cfg){ .type = SIOMMU_DOMAIN_PAGING, .fmt = 99 };
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &x), -EINVAL);
	cfg = (struct siommu_domain_cfg){ .type = SIOMMU_DOMAIN_PAGING,
					  .fmt = SIOMMU_PT_FMT_X86_64, .unmap_mode = 9 };
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &x), -EINVAL);
	assert_int_equal(siommu_domain_get_info(p, &ip), 0);
	assert_int_equal(siommu_domain_get_info(q, &iq), 0);
	assert_int_equal(ip.type, SIOMMU_DOMAIN_PAGING);
	assert_int_not_equal(ip.domid, 0);
	assert_int_not_equal(ip.domid, iq.domid);
	assert_int_equal(ip.ias_lg2, 47);	/* x86-64 4-level: the lower half */
	assert_int_equal(iq.unmap_mode, SIOMMU_UNMAP_LAZY);
	assert_non_null(siommu_domain_pt(p));
	assert_null(siommu_domain_pt(i));
	assert_string_equal(siommu_domain_type_name(SIOMMU_DOMAIN_IDENTITY), "identity");
	assert_null(siommu_domain_type_name(0));
	assert_int_equal(siommu_domain_type_parse("blocked", &t), 0);
	assert_int_equal(t, SIOMMU_DOMAIN_BLOCKED);
	assert_int_equal(siommu_domain_type_parse("nested", &t), -EINVAL);
	/* Map on a domain without a table. */
	assert_int_equal(siommu_domain_map(i, 0, 0, PG, SIOMMU_PT_READ), -EINVAL);
	assert_int_equal(siommu_domain_unmap(b, 0, PG), -EINVAL);
	assert_int_equal(siommu_domain_destroy(b), 0);
	assert_int_equal(siommu_domain_destroy(i), 0);
	assert_int_equal(siommu_domain_destroy(p), 0);
	assert_int_equal(siommu_domain_destroy(q), 0);
	assert_int_equal(siommu_domain_destroy(NULL), 0);
}

/*
 * A domain that makes its own table gets the pool size it asks for
 * (max_table_pages): a map needing a table page beyond it is -ENOMEM and
 * maps nothing; 0 is pgtable's default; out of range is -EINVAL; with a
 * caller's table (cfg.pt) the field is ignored.
 */
static void test_core_domain_table_pool_size(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64, .max_table_pages = 4 };
	struct siommu_pt_cfg pcfg = { .fmt = SIOMMU_PT_FMT_X86_64, .max_table_pages = 8 };
	struct siommu_translation t;
	struct siommu_pt_info pi;
	struct siommu_domain *d, *x;
	struct siommu_pt *pt;

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	assert_int_equal(siommu_pt_get_info(siommu_domain_pt(d), &pi), 0);
	assert_int_equal(pi.max_table_pages, 4);
	/* root, PDPT, PD, PT: the whole pool */
	assert_int_equal(siommu_domain_map(d, 0x1000, 0x5000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_domain_map(d, 0x2000, 0x6000, PG, SIOMMU_PT_READ), 0);
	/* another 1 GiB: a PD and a PT more */
	assert_int_equal(siommu_domain_map(d, 1ull << 30, 0x5000, PG, SIOMMU_PT_READ), -ENOMEM);
	assert_int_equal(siommu_device_attach(f->dev, d), 0);
	assert_int_equal(siommu_translate(f->dev, SIOMMU_NO_PASID, 1ull << 30,
					  SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_translate(f->dev, SIOMMU_NO_PASID, 0x2000,
					  SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0x6000);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(d), 0);

	/* 0: pgtable's default */
	cfg.max_table_pages = 0;
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	assert_int_equal(siommu_pt_get_info(siommu_domain_pt(d), &pi), 0);
	assert_int_equal(pi.max_table_pages, 131072);
	assert_int_equal(siommu_domain_destroy(d), 0);

	/* out of range: refused as siommu_pt_create() refuses it */
	cfg.max_table_pages = (1ull << 26) + 1;
	x = (struct siommu_domain *)&cfg;
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &x), -EINVAL);
	assert_ptr_equal(x, (struct siommu_domain *)&cfg);

	/* ignored with a caller's table: the table's own pool counts */
	assert_int_equal(siommu_pt_create(f->ctx, &pcfg, &pt), 0);
	cfg.pt = pt;
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	assert_ptr_equal(siommu_domain_pt(d), pt);
	assert_int_equal(siommu_pt_get_info(pt, &pi), 0);
	assert_int_equal(pi.max_table_pages, 8);
	assert_int_equal(siommu_domain_destroy(d), 0);
	assert_int_equal(siommu_pt_destroy(pt), 0);
}

/* ------------------------------------------------------------------ attach */

static void test_core_attach_detach_replace(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, SIOMMU_DOMAIN_IDENTITY, 0);
	struct siommu_domain *b = mkdom(f, SIOMMU_DOMAIN_BLOCKED, 0);
	struct siommu_domain_info info;
	struct siommu_translation t;

	assert_int_equal(siommu_translate(f->dev, 0, 0x1000, SIOMMU_ACC_READ, &t), -ENODATA);
	assert_int_equal(t.reason, SIOMMU_FAULT_NO_DOMAIN);
	assert_int_equal(siommu_device_detach(f->dev), -ENOENT);
	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	assert_ptr_equal(siommu_device_domain(f->dev, 0), a);
	assert_int_equal(siommu_device_attach(f->dev, b), -EEXIST);
	assert_int_equal(siommu_translate(f->dev, 0, 0x1234, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0x1234);
	assert_int_equal(siommu_device_replace(f->dev, b), 0);
	assert_ptr_equal(siommu_device_domain(f->dev, 0), b);
	assert_int_equal(siommu_domain_get_info(a, &info), 0);
	assert_int_equal(info.users, 0);
	assert_int_equal(siommu_translate(f->dev, 0, 0x1234, SIOMMU_ACC_READ, &t), -EPERM);
	assert_int_equal(t.reason, SIOMMU_FAULT_BLOCKED);
	assert_int_equal(siommu_device_replace(f->dev, b), 0);	/* by itself */
	assert_int_equal(siommu_domain_get_info(b, &info), 0);
	assert_int_equal(info.users, 1);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_null(siommu_device_domain(f->dev, 0));
	/* Replace from nothing is an attach. */
	assert_int_equal(siommu_device_replace(f->dev, a), 0);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(b), 0);
}

static void test_core_pasid_attach(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, SIOMMU_DOMAIN_IDENTITY, 0);
	struct siommu_domain *b = mkdom(f, SIOMMU_DOMAIN_BLOCKED, 0);
	struct siommu_device_info info;
	struct siommu_translation t;
	struct siommu_device *nop;

	assert_int_equal(siommu_pasid_attach(f->dev, 0, a), -EINVAL);
	assert_int_equal(siommu_pasid_attach(f->dev, 256, a), -EINVAL);	/* 8 bits */
	assert_int_equal(siommu_pasid_detach(f->dev, 5), -ENOENT);
	assert_int_equal(siommu_pasid_attach(f->dev, 5, a), 0);
	assert_int_equal(siommu_pasid_attach(f->dev, 5, b), -EEXIST);
	assert_int_equal(siommu_pasid_attach(f->dev, 255, b), 0);
	assert_int_equal(siommu_device_get_info(f->dev, &info), 0);
	assert_int_equal(info.nr_pasids, 2);
	assert_false(info.attached);
	assert_int_equal(siommu_translate(f->dev, 5, 0x5000, SIOMMU_ACC_WRITE, &t), 0);
	assert_int_equal(siommu_translate(f->dev, 255, 0x5000, SIOMMU_ACC_READ, &t), -EPERM);
	assert_int_equal(siommu_translate(f->dev, 6, 0x5000, SIOMMU_ACC_READ, &t), -ENODATA);
	assert_int_equal(siommu_translate(f->dev, 0, 0x5000, SIOMMU_ACC_READ, &t), -ENODATA);
	assert_int_equal(siommu_translate(f->dev, 1u << 20, 0, SIOMMU_ACC_READ, &t), -EINVAL);
	assert_int_equal(siommu_pasid_replace(f->dev, 5, b), 0);
	assert_ptr_equal(siommu_device_domain(f->dev, 5), b);
	assert_int_equal(siommu_pasid_detach(f->dev, 5), 0);
	assert_int_equal(siommu_pasid_detach(f->dev, 255), 0);
	assert_int_equal(siommu_device_get_info(f->dev, &info), 0);
	assert_int_equal(info.nr_pasids, 0);

	assert_int_equal(siommu_device_create(f->iommu, RID1, 0, 0, &nop), 0);
	assert_int_equal(siommu_pasid_attach(nop, 1, a), -EOPNOTSUPP);
	assert_int_equal(siommu_device_destroy(nop), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(b), 0);
}

struct hook_log {
	unsigned int calls;
	uint32_t pasid;
	struct siommu_domain *old, *new_dom;
	uint32_t old_users;
};

/* The one-layer form of what the old attach hook did (commit only). */
static void attach_commit(void *opaque, const struct siommu_attach_change *c)
{
	struct hook_log *h = opaque;
	struct siommu_domain_info info;

	h->calls++;
	h->pasid = c->pasid;
	h->old = c->old_dom;
	h->new_dom = c->new_dom;
	h->old_users = 0;
	if (c->old_dom && !siommu_domain_get_info(c->old_dom, &info))
		h->old_users = info.users;
	/* The new attachment is already visible. */
	assert_ptr_equal(siommu_device_domain(c->dev, c->pasid), c->new_dom);
}

static void test_core_attach_hook(void **state)
{
	static const struct siommu_layer_ops ops = { .name = "log", .commit = attach_commit };
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, SIOMMU_DOMAIN_IDENTITY, 0);
	struct siommu_domain *b = mkdom(f, SIOMMU_DOMAIN_BLOCKED, 0);
	struct siommu_layer *l;
	struct hook_log h;

	memset(&h, 0, sizeof(h));
	assert_int_equal(siommu_layer_register(f->iommu, &ops, &h, &l), 0);
	assert_int_equal(siommu_layer_register(NULL, &ops, &h, &l), -EINVAL);
	assert_int_equal(siommu_pasid_attach(f->dev, 4, a), 0);
	assert_int_equal(h.calls, 1);
	assert_int_equal(h.pasid, 4);
	assert_null(h.old);
	assert_ptr_equal(h.new_dom, a);
	assert_int_equal(siommu_pasid_replace(f->dev, 4, b), 0);
	assert_int_equal(h.calls, 2);
	assert_ptr_equal(h.old, a);
	assert_int_equal(h.old_users, 1);	/* still counted during commit */
	assert_int_equal(siommu_pasid_detach(f->dev, 4), 0);
	assert_int_equal(h.calls, 3);
	assert_ptr_equal(h.old, b);
	assert_null(h.new_dom);
	/* Failed changes call nothing. */
	assert_int_equal(siommu_pasid_detach(f->dev, 4), -ENOENT);
	assert_int_equal(h.calls, 3);
	assert_int_equal(siommu_iommu_destroy(f->iommu), -EBUSY);
	assert_int_equal(siommu_layer_unregister(l), 0);
	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	assert_int_equal(h.calls, 3);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(b), 0);
}

static void test_core_attach_other_iommu_rejected(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_IDENTITY };
	struct siommu_iommu *other;
	struct siommu_domain *d;

	assert_int_equal(siommu_iommu_create(f->ctx, NULL, NULL, &other), 0);
	assert_int_equal(siommu_domain_create(other, &cfg, &d), 0);
	assert_int_equal(siommu_device_attach(f->dev, d), -EINVAL);
	assert_int_equal(siommu_domain_destroy(d), 0);
	assert_int_equal(siommu_iommu_destroy(other), 0);
}

/* ------------------------------------------------------------------ translate */

static void test_core_translate_fault_reasons(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *p = mkdom(f, SIOMMU_DOMAIN_PAGING, 0);
	struct siommu_translation t;

	assert_int_equal(siommu_device_attach(f->dev, p), 0);
	assert_int_equal(siommu_domain_map(p, 0x10000, 0x200000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_translate(f->dev, 0, 0x10008, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0x200008);
	assert_int_equal(t.pgsize_lg2, 12);
	assert_int_equal(t.reason, SIOMMU_FAULT_NONE);
	assert_int_equal(siommu_translate(f->dev, 0, 0x10008, SIOMMU_ACC_WRITE, &t), -EACCES);
	assert_int_equal(t.reason, SIOMMU_FAULT_PERMISSION);
	assert_int_equal(siommu_translate(f->dev, 0, 0x20000, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(t.reason, SIOMMU_FAULT_NOT_PRESENT);
	assert_int_equal(siommu_translate(f->dev, 0, 1ull << 48, SIOMMU_ACC_READ, &t), -ERANGE);
	assert_int_equal(t.reason, SIOMMU_FAULT_OUT_OF_RANGE);
	assert_int_equal(siommu_translate(f->dev, 0, 0, 0, &t), -EINVAL);
	assert_int_equal(siommu_translate(f->dev, 0, 0, 0x10, &t), -EINVAL);
	assert_int_equal(siommu_translate(NULL, 0, 0, SIOMMU_ACC_READ, &t), -EINVAL);
	assert_int_equal(siommu_translate(f->dev, 0, 0, SIOMMU_ACC_READ, NULL), -EINVAL);
	assert_string_equal(siommu_fault_reason_name(SIOMMU_FAULT_PERMISSION), "permission");
	assert_null(siommu_fault_reason_name(SIOMMU_FAULT_NR));
	assert_int_equal(siommu_domain_map(p, 1ull << 48, 0, PG, SIOMMU_PT_READ), -ERANGE);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(p), 0);
}

static void test_core_translate_iotlb_hit_and_unmap(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *p = mkdom(f, SIOMMU_DOMAIN_PAGING, 0);
	struct siommu_iommu_stats st;
	struct siommu_translation t;

	assert_int_equal(siommu_device_attach(f->dev, p), 0);
	assert_int_equal(siommu_domain_map(p, 0x400000, 0x800000, 0x200000,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	assert_int_equal(siommu_translate(f->dev, 0, 0x400010, SIOMMU_ACC_READ, &t), 0);
	assert_false(t.iotlb_hit);
	assert_int_equal(t.pgsize_lg2, 21);
	assert_int_equal(siommu_translate(f->dev, 0, 0x5ff000, SIOMMU_ACC_READ, &t), 0);
	assert_true(t.iotlb_hit);
	assert_int_equal(t.pa, 0x9ff000);
	/* A write after a read walk walks again (to set dirty), then hits. */
	assert_int_equal(siommu_translate(f->dev, 0, 0x400000, SIOMMU_ACC_WRITE, &t), 0);
	assert_false(t.iotlb_hit);
	assert_int_equal(siommu_translate(f->dev, 0, 0x400000, SIOMMU_ACC_WRITE, &t), 0);
	assert_true(t.iotlb_hit);
	assert_int_equal(siommu_domain_unmap(p, 0x400000, 0x200000), 0x200000);
	assert_int_equal(siommu_translate(f->dev, 0, 0x400010, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_iommu_get_stats(f->iommu, &st), 0);
	assert_int_equal(st.iotlb_hits, 2);
	assert_int_equal(st.iotlb_misses, 3);
	assert_int_equal(st.maps, 1);
	assert_int_equal(st.unmaps_strict, 1);
	/* Unmap inside a read-side section would wait for itself. */
	siommu_read_lock();
	assert_int_equal(siommu_domain_unmap(p, 0x400000, 0x200000), -EDEADLK);
	assert_int_equal(siommu_domain_flush(p), -EDEADLK);
	assert_int_equal(siommu_domain_dma_unmap(p, 0x400000, 0x200000), -EDEADLK);
	siommu_read_unlock();
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(p), 0);
}

/*
 * Strict unmap frees what it detached before it returns: clear, invalidate,
 * grace period, free (DESIGN.md §4 core), not later in a callback.
 */
static void test_core_strict_unmap_frees_tables_before_return(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *p = mkdom(f, SIOMMU_DOMAIN_PAGING, SIOMMU_UNMAP_STRICT);
	struct siommu_pt_info before, mapped, after;
	uint64_t i;

	assert_int_equal(siommu_pt_get_info(siommu_domain_pt(p), &before), 0);
	/* 4 KiB pages over a whole 2 MiB span: one PTE page, detachable on unmap */
	for (i = 0; i < 512; i++)
		assert_int_equal(siommu_domain_map(p, 0x40000000 + i * PG, 0x1000000 + i * PG, PG,
						   SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_pt_get_info(siommu_domain_pt(p), &mapped), 0);
	assert_true(mapped.table_pages > before.table_pages);
	assert_int_equal(siommu_domain_unmap(p, 0x40000000, 0x200000), 0x200000);
	assert_int_equal(siommu_pt_get_info(siommu_domain_pt(p), &after), 0);
	assert_int_equal(after.detached_pages, 0);
	assert_int_equal(after.reclaim_pages, 0);
	assert_int_equal(after.table_pages, mapped.table_pages - 1);
	assert_int_equal(siommu_domain_destroy(p), 0);
}

/* Once its flush queue has cycled, a lazy unmap allocates nothing. */
static void test_core_lazy_unmap_reuses_queue_entries(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
		.unmap_mode = SIOMMU_UNMAP_LAZY, .fq_batch = 8,
	};
	struct siommu_domain *p = NULL;
	unsigned int round, i;

	if (!siommu_testing_build())
		skip();
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &p), 0);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 8; i++)
			assert_int_equal(siommu_domain_map(p, 0x100000 + i * PG, 0x200000 + i * PG,
							   PG, SIOMMU_PT_READ), 0);
		assert_int_equal(siommu_test_fail_nth(0), 0);	/* counts from here */
		for (i = 0; i < 8; i++)
			assert_int_equal(siommu_domain_unmap(p, 0x100000 + i * PG, PG), PG);
		if (round > 0)	/* the first round fills the spare list */
			assert_int_equal(siommu_test_alloc_count(), 0);
	}
	assert_int_equal(siommu_domain_destroy(p), 0);
}

/* PASIDs tag IOTLB entries; a replace switches tables at once. */
static void test_core_replace_switches_translation(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f, SIOMMU_DOMAIN_PAGING, 0);
	struct siommu_domain *b = mkdom(f, SIOMMU_DOMAIN_PAGING, 0);
	struct siommu_translation t;

	assert_int_equal(siommu_domain_map(a, 0x1000, 0xa000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_domain_map(b, 0x1000, 0xb000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_pasid_attach(f->dev, 7, a), 0);
	assert_int_equal(siommu_translate(f->dev, 7, 0x1000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0xa000);
	assert_int_equal(siommu_pasid_replace(f->dev, 7, b), 0);
	assert_int_equal(siommu_translate(f->dev, 7, 0x1000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0xb000);
	assert_int_equal(siommu_pasid_detach(f->dev, 7), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(b), 0);
}

/* A domain over a table the caller owns and changes (SVA, mirrors). */
static void test_core_external_table_and_invalidate(void **state)
{
	struct fixture *f = *state;
	struct siommu_pt_cfg pcfg = { .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING };
	struct siommu_translation t;
	struct siommu_pt_gather g;
	struct siommu_domain *d;
	struct siommu_pt *pt;

	assert_int_equal(siommu_pt_create(f->ctx, &pcfg, &pt), 0);
	assert_int_equal(siommu_pt_map(pt, 0x7000, 0x3000, PG, SIOMMU_PT_READ), 0);
	cfg.pt = pt;
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &d), 0);
	assert_ptr_equal(siommu_domain_pt(d), pt);
	assert_int_equal(siommu_device_attach(f->dev, d), 0);
	assert_int_equal(siommu_translate(f->dev, 0, 0x7008, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0x3008);
	/* Changed behind the core's back: the IOTLB still answers... */
	siommu_pt_gather_init(&g);
	assert_int_equal(siommu_pt_unmap(pt, 0x7000, PG, &g), PG);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, 0), 0);
	assert_int_equal(siommu_translate(f->dev, 0, 0x7008, SIOMMU_ACC_READ, &t), 0);
	assert_true(t.iotlb_hit);
	/* ...until the owner invalidates. */
	assert_int_equal(siommu_domain_invalidate(d, 0x7000, PG, 7), -EINVAL);
	assert_int_equal(siommu_domain_invalidate(d, 0x7000, 0, 0), -EINVAL);
	siommu_read_lock();
	assert_int_equal(siommu_domain_invalidate(d, 0x7000, PG, SIOMMU_INVAL_WAIT), -EDEADLK);
	siommu_read_unlock();
	assert_int_equal(siommu_domain_invalidate(d, 0x7000, PG, SIOMMU_INVAL_WAIT), 0);
	assert_int_equal(siommu_translate(f->dev, 0, 0x7008, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(d), 0);
	/* The table outlives the domain. */
	assert_int_equal(siommu_pt_map(pt, 0x7000, 0x3000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_pt_destroy(pt), 0);
}

/* ------------------------------------------------------------------ DMA */

static void test_core_dma_host_split_pages(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *p = mkdom(f, SIOMMU_DOMAIN_PAGING, 0);
	uint8_t *mem = page_alloc(3), in[3 * PG], out[3 * PG];
	uint64_t iova = 0x7000000;
	unsigned int i;

	/* IOVA pages 0, 1, 2 -> host pages 2, 0, 1. */
	assert_int_equal(siommu_device_attach(f->dev, p), 0);
	assert_int_equal(siommu_domain_map(p, iova, (uintptr_t)(mem + 2 * PG), PG,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	assert_int_equal(siommu_domain_map(p, iova + PG, (uintptr_t)mem, PG,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	assert_int_equal(siommu_domain_map(p, iova + 2 * PG, (uintptr_t)(mem + PG), PG,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 1);
	/* 2 pages + 200 bytes starting 100 bytes into the first page. */
	assert_int_equal(siommu_dma_write(f->dev, 0, iova + 100, in, 2 * PG + 200), 0);
	assert_memory_equal(mem + 2 * PG + 100, in, PG - 100);
	assert_memory_equal(mem, in + PG - 100, PG);
	assert_memory_equal(mem + PG, in + 2 * PG - 100, 300);
	memset(out, 0, sizeof(out));
	assert_int_equal(siommu_dma_read(f->dev, 0, iova + 100, out, 2 * PG + 200), 0);
	assert_memory_equal(out, in, 2 * PG + 200);
	/* A transfer running off the mapping stops with a fault. */
	assert_int_equal(siommu_dma_read(f->dev, 0, iova + 2 * PG, out, 2 * PG), -ENOENT);
	assert_int_equal(siommu_dma_read(f->dev, 0, iova, NULL, 8), -EINVAL);
	assert_int_equal(siommu_dma_read(f->dev, 0, iova, out, 0), -EINVAL);
	assert_int_equal(siommu_dma_read(f->dev, 0, UINT64_MAX - 2, out, 8), -EINVAL);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(p), 0);
	free(mem);
}

/*
 * DMA copies a run of pages whose translations continue each other with one
 * copy: runs must end where the output addresses jump and where a page
 * faults, and the fault must still name the faulting page.
 */
static void test_core_dma_runs(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *p = mkdom(f, SIOMMU_DOMAIN_PAGING, 0);
	uint8_t *mem = page_alloc(6), in[5 * PG], out[5 * PG];
	struct siommu_fault_record rec;
	uint64_t iova = 0x9000000;
	unsigned int i;

	/* IOVA pages 0-4 -> host pages 0, 1, 4, 5, 2: runs {0,1} {2,3} {4}. */
	static const unsigned int host[5] = { 0, 1, 4, 5, 2 };

	assert_int_equal(siommu_device_attach(f->dev, p), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(siommu_domain_map(p, iova + i * PG,
						   (uintptr_t)(mem + host[i] * PG), PG,
						   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(siommu_dma_write(f->dev, 0, iova + 8, in, 5 * PG - 16), 0);
	assert_memory_equal(mem + 8, in, 2 * PG - 8);
	assert_memory_equal(mem + 4 * PG, in + 2 * PG - 8, 2 * PG);
	assert_memory_equal(mem + 2 * PG, in + 4 * PG - 8, PG - 8);
	memset(out, 0, sizeof(out));
	assert_int_equal(siommu_dma_read(f->dev, 0, iova + 8, out, 5 * PG - 16), 0);
	assert_memory_equal(out, in, 5 * PG - 16);

	/* A hole inside a run: what comes before it is copied, the fault names it. */
	while (siommu_fault_log_read(f->iommu, &rec, 1) == 1)
		;
	assert_int_equal(siommu_domain_unmap(p, iova + PG, PG), (int64_t)PG);
	memset(out, 0, sizeof(out));
	assert_int_equal(siommu_dma_read(f->dev, 0, iova, out, 2 * PG), -ENOENT);
	assert_memory_equal(out, mem, PG);
	assert_int_equal(siommu_fault_log_read(f->iommu, &rec, 1), 1);
	assert_int_equal(rec.iova, iova + PG);
	assert_int_equal(rec.reason, SIOMMU_FAULT_NOT_PRESENT);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(p), 0);
	free(mem);
}

static void test_core_dma_sg(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *p = mkdom(f, SIOMMU_DOMAIN_PAGING, 0);
	uint8_t *mem = page_alloc(2), a[64], b[4000], ra[64], rb[4000];
	struct siommu_dma_sg sg[2] = {
		{ .iova = 0x100000 + 4000, .buf = b, .len = sizeof(b) },
		{ .iova = 0x100000 + 10, .buf = a, .len = sizeof(a) },
	};
	struct siommu_dma_sg rsg[2] = {
		{ .iova = 0x100000 + 4000, .buf = rb, .len = sizeof(rb) },
		{ .iova = 0x100000 + 10, .buf = ra, .len = sizeof(ra) },
	};
	struct siommu_iommu_stats st;

	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	assert_int_equal(siommu_pasid_attach(f->dev, 9, p), 0);
	assert_int_equal(siommu_domain_map(p, 0x100000, (uintptr_t)mem, 2 * PG,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	assert_int_equal(siommu_dma_write_sg(f->dev, 9, sg, 2), 0);
	assert_int_equal(mem[10], 0xaa);
	assert_int_equal(mem[4000], 0xbb);
	assert_int_equal(mem[7999], 0xbb);
	assert_int_equal(mem[8000], 0);
	assert_int_equal(siommu_dma_read_sg(f->dev, 9, rsg, 2), 0);
	assert_memory_equal(ra, a, sizeof(a));
	assert_memory_equal(rb, b, sizeof(b));
	assert_int_equal(siommu_dma_read_sg(f->dev, 9, rsg, 0), -EINVAL);
	assert_int_equal(siommu_dma_read_sg(f->dev, 9, NULL, 1), -EINVAL);
	assert_int_equal(siommu_iommu_get_stats(f->iommu, &st), 0);
	assert_int_equal(st.dma_ops, 2);
	assert_int_equal(st.dma_write_bytes, sizeof(a) + sizeof(b));
	assert_int_equal(st.dma_read_bytes, sizeof(a) + sizeof(b));
	assert_int_equal(siommu_pasid_detach(f->dev, 9), 0);
	assert_int_equal(siommu_domain_destroy(p), 0);
	free(mem);
}

struct mmio_dev {
	uint64_t regs[4];
	unsigned int writes;
};

static int mmio_read(void *opaque, uint64_t off, unsigned int size, uint64_t *val)
{
	struct mmio_dev *m = opaque;

	*val = 0;
	memcpy(val, (uint8_t *)m->regs + off, size);
	return 0;
}

static int mmio_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct mmio_dev *m = opaque;

	memcpy((uint8_t *)m->regs + off, &val, size);
	m->writes++;
	return 0;
}

static void test_core_dma_mem_ram_mmio_revoked(void **state)
{
	struct siommu_mem_mmio_ops ops = { .read = mmio_read, .write = mmio_write };
	struct siommu_mem_region *ram, *mmio;
	struct siommu_fault_record rec;
	struct mmio_dev md;
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_VTD_SS,
	};
	struct siommu_iommu *iommu;
	struct siommu_domain *p;
	struct siommu_device *dev;
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	uint8_t buf[256], back[256];
	uint64_t v = 0x1122334455667788ull, rv = 0;

	memset(&md, 0, sizeof(md));
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_mem_create(ctx, &mem), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x100000, 0x10000, &ram), 0);
	assert_int_equal(siommu_mem_add_mmio(mem, 0x200000, PG, &ops, &md, &mmio), 0);
	assert_int_equal(siommu_iommu_create(ctx, NULL, mem, &iommu), 0);
	assert_int_equal(siommu_device_create(iommu, RID1, 0, 0, &dev), 0);
	assert_int_equal(siommu_domain_create(iommu, &cfg, &p), 0);
	assert_int_equal(siommu_device_attach(dev, p), 0);
	assert_int_equal(siommu_domain_map(p, 0x40000000, 0x100000, 0x10000,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);
	assert_int_equal(siommu_domain_map(p, 0x50000000, 0x200000, PG,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE | SIOMMU_PT_MMIO), 0);
	/* Mapped beyond every region. */
	assert_int_equal(siommu_domain_map(p, 0x60000000, 0x900000, PG,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), 0);

	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(siommu_dma_write(dev, 0, 0x40000000 + PG - 100, buf, sizeof(buf)), 0);
	assert_int_equal(siommu_mem_rw(mem, 0x100000 + PG - 100, back, sizeof(back), false), 0);
	assert_memory_equal(back, buf, sizeof(buf));
	/* MMIO: an 8-byte aligned write is one callback. */
	assert_int_equal(siommu_dma_write(dev, 0, 0x50000008, &v, 8), 0);
	assert_int_equal(md.writes, 1);
	assert_int_equal(md.regs[1], v);
	assert_int_equal(siommu_dma_read(dev, 0, 0x50000008, &rv, 8), 0);
	assert_int_equal(rv, v);
	/* No memory behind the translation. */
	assert_int_equal(siommu_dma_read(dev, 0, 0x60000000, buf, 8), -EFAULT);
	/* Revoked: its mapping is torn down by the revoke notifier. */
	assert_int_equal(siommu_mem_region_revoke(mmio), 0);
	assert_int_equal(siommu_dma_write(dev, 0, 0x50000008, &v, 8), -ENOENT);
	/* Mapping it again is refused, and nothing is mapped. */
	assert_int_equal(siommu_domain_map(p, 0x50000000, 0x200000, PG,
					   SIOMMU_PT_READ | SIOMMU_PT_WRITE), -ENODEV);
	assert_int_equal(siommu_dma_write(dev, 0, 0x50000008, &v, 8), -ENOENT);
	assert_int_equal(md.writes, 1);
	assert_int_equal(siommu_fault_log_read(iommu, &rec, 1), 1);
	assert_int_equal(rec.reason, SIOMMU_FAULT_BAD_ADDRESS);
	assert_int_equal(rec.iova, 0x60000000);
	assert_int_equal(siommu_fault_log_read(iommu, &rec, 1), 1);
	assert_int_equal(rec.reason, SIOMMU_FAULT_NOT_PRESENT);
	assert_int_equal(siommu_fault_log_read(iommu, &rec, 1), 1);
	assert_int_equal(rec.reason, SIOMMU_FAULT_NOT_PRESENT);
	assert_int_equal(rec.iova, 0x50000008);
	/* The RAM mapping is untouched. */
	assert_int_equal(siommu_dma_read(dev, 0, 0x40000000 + PG - 100, back, 8), 0);

	assert_int_equal(siommu_device_detach(dev), 0);
	assert_int_equal(siommu_domain_destroy(p), 0);
	assert_int_equal(siommu_device_destroy(dev), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_mem_region_destroy(mmio), 0);
	assert_int_equal(siommu_mem_region_destroy(ram), 0);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

/*
 * Revocation tears down every mapping of the region in every domain (strict
 * and lazy), including what is left of split mappings, and nothing else.
 */
static void test_core_revoke_tears_down_mappings(void **state)
{
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
	};
	struct siommu_mem_region *r1, *r2;
	struct siommu_translation t;
	struct siommu_iommu *iommu;
	struct siommu_domain *a, *b;
	struct siommu_device *dev;
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;

	assert_int_equal(siommu_ctx_create(&ctx), 0);
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_mem_create(ctx, &mem), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x100000, 0x100000, &r1), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x200000, 0x100000, &r2), 0);
	assert_int_equal(siommu_iommu_create(ctx, &(struct siommu_iommu_caps){ .pasid_bits = 4 },
					     mem, &iommu), 0);
	assert_int_equal(siommu_device_create(iommu, RID1, SIOMMU_DEV_PASID, 4, &dev), 0);
	assert_int_equal(siommu_domain_create(iommu, &cfg, &a), 0);
	cfg.unmap_mode = SIOMMU_UNMAP_LAZY;
	assert_int_equal(siommu_domain_create(iommu, &cfg, &b), 0);
	assert_int_equal(siommu_device_attach(dev, a), 0);
	assert_int_equal(siommu_pasid_attach(dev, 1, b), 0);
	/* a: 16 pages of r1, then split by unmapping pages 4..5. */
	assert_int_equal(siommu_domain_map(a, 0x10000000, 0x100000, 16 * PG,
					   SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_domain_unmap(a, 0x10000000 + 4 * PG, 2 * PG), 2 * PG);
	/* a: a page of r2; b: r1 and r2. */
	assert_int_equal(siommu_domain_map(a, 0x20000000, 0x200000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_domain_map(b, 0x10000000, 0x100000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_domain_map(b, 0x20000000, 0x200000, PG, SIOMMU_PT_READ), 0);
	/* b: a page of r1 unmapped lazily while the IOTLB holds it. */
	assert_int_equal(siommu_domain_map(b, 0x30000000, 0x101000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_translate(dev, 1, 0x30000000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_domain_unmap(b, 0x30000000, PG), PG);
	assert_int_equal(siommu_translate(dev, 1, 0x30000000, SIOMMU_ACC_READ, &t), 0);
	assert_true(t.iotlb_hit);
	/* Warm the IOTLB of both. */
	assert_int_equal(siommu_translate(dev, 0, 0x10000000 + 8 * PG, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_translate(dev, 1, 0x10000000, SIOMMU_ACC_READ, &t), 0);

	assert_int_equal(siommu_mem_region_revoke(r1), 0);
	/* The lazy queue was drained: no stale entry survives the revoke. */
	assert_int_equal(siommu_translate(dev, 1, 0x30000000, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_translate(dev, 0, 0x10000000, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_translate(dev, 0, 0x10000000 + 8 * PG, SIOMMU_ACC_READ, &t),
			 -ENOENT);
	assert_int_equal(siommu_translate(dev, 0, 0x10000000 + 15 * PG, SIOMMU_ACC_READ, &t),
			 -ENOENT);
	assert_int_equal(siommu_translate(dev, 1, 0x10000000, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_translate(dev, 0, 0x20000000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0x200000);
	assert_int_equal(siommu_translate(dev, 1, 0x20000000, SIOMMU_ACC_READ, &t), 0);
	/* Nothing left to unmap there; r2's mappings are. */
	assert_int_equal(siommu_domain_unmap(a, 0x10000000, 16 * PG), 0);
	assert_int_equal(siommu_domain_unmap(a, 0x20000000, PG), PG);

	assert_int_equal(siommu_pasid_detach(dev, 1), 0);
	assert_int_equal(siommu_device_detach(dev), 0);
	assert_int_equal(siommu_domain_destroy(a), 0);
	assert_int_equal(siommu_domain_destroy(b), 0);
	assert_int_equal(siommu_device_destroy(dev), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_mem_region_destroy(r1), 0);
	assert_int_equal(siommu_mem_region_destroy(r2), 0);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

/* ------------------------------------------------------------------ lazy unmap */

static void test_core_lazy_unmap_defers_invalidation(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
		.unmap_mode = SIOMMU_UNMAP_LAZY, .fq_batch = 4,
		.fq_timeout_ms = 60000,
	};
	struct siommu_domain_info info;
	struct siommu_iommu_stats st;
	struct siommu_translation t;
	struct siommu_domain *p;
	unsigned int i;

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &p), 0);
	assert_int_equal(siommu_device_attach(f->dev, p), 0);
	assert_int_equal(siommu_domain_map(p, 0x1000, 0x9000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_translate(f->dev, 0, 0x1000, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(siommu_domain_unmap(p, 0x1000, PG), PG);
	/* The table is cleared but the IOTLB still holds the old entry. */
	assert_int_equal(siommu_translate(f->dev, 0, 0x1000, SIOMMU_ACC_READ, &t), 0);
	assert_true(t.iotlb_hit);
	assert_int_equal(siommu_domain_get_info(p, &info), 0);
	assert_int_equal(info.fq_pending, 1);
	assert_int_equal(siommu_domain_flush(p), 0);
	assert_int_equal(siommu_translate(f->dev, 0, 0x1000, SIOMMU_ACC_READ, &t), -ENOENT);
	/* Four queued unmaps drain the queue by count. */
	for (i = 0; i < 4; i++) {
		assert_int_equal(siommu_domain_map(p, 0x10000 + i * PG, 0x9000, PG,
						   SIOMMU_PT_READ), 0);
		assert_int_equal(siommu_domain_unmap(p, 0x10000 + i * PG, PG), PG);
	}
	assert_int_equal(siommu_domain_get_info(p, &info), 0);
	assert_int_equal(info.fq_pending, 0);
	assert_int_equal(siommu_iommu_get_stats(f->iommu, &st), 0);
	assert_int_equal(st.unmaps_lazy, 5);
	assert_int_equal(st.fq_batches, 2);
	assert_int_equal(st.fq_entries, 5);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(p), 0);
}

static void test_core_lazy_unmap_drained_by_time(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_ARM_LPAE_S1,
		.unmap_mode = SIOMMU_UNMAP_LAZY, .fq_batch = 1000,
		.fq_timeout_ms = 5,
	};
	struct siommu_domain_info info;
	struct siommu_domain *p;
	double t0 = test_now_s();

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &p), 0);
	assert_int_equal(siommu_domain_map(p, 0x1000, 0x9000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_domain_unmap(p, 0x1000, PG), PG);
	do {
		assert_int_equal(siommu_domain_get_info(p, &info), 0);
		if (!info.fq_pending)
			break;
		usleep(1000);
	} while (test_now_s() - t0 < 10);
	assert_int_equal(info.fq_pending, 0);
	assert_int_equal(siommu_domain_destroy(p), 0);
}

/*
 * The flusher goes idle after a quiet period; each new lazy unmap must wake
 * it (a lost wake-up leaves the entry queued: the poll times out).
 */
static void test_core_lazy_flusher_wakes_from_idle(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = {
		.type = SIOMMU_DOMAIN_PAGING, .fmt = SIOMMU_PT_FMT_X86_64,
		.unmap_mode = SIOMMU_UNMAP_LAZY, .fq_batch = 1000,
		.fq_timeout_ms = 1,
	};
	struct siommu_domain_info info;
	struct siommu_domain *p;
	unsigned int round;
	double t0;

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &p), 0);
	for (round = 0; round < 12; round++) {
		/* Quiet for longer than the linger period: the flusher idles. */
		usleep(15000);
		assert_int_equal(siommu_domain_map(p, 0x1000, 0x9000, PG, SIOMMU_PT_READ), 0);
		assert_int_equal(siommu_domain_unmap(p, 0x1000, PG), PG);
		t0 = test_now_s();
		do {
			assert_int_equal(siommu_domain_get_info(p, &info), 0);
			if (!info.fq_pending)
				break;
			usleep(200);
		} while (test_now_s() - t0 < 5);
		assert_int_equal(info.fq_pending, 0);
	}
	assert_int_equal(siommu_domain_destroy(p), 0);
}

/* A domain destroyed with unmaps still queued drains them. */
static void test_core_lazy_destroy_drains(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *p = mkdom(f, SIOMMU_DOMAIN_PAGING, SIOMMU_UNMAP_LAZY);
	unsigned int i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(siommu_domain_map(p, 0x200000 * (i + 1), 0, 0x200000,
						   SIOMMU_PT_READ), 0);
		assert_int_equal(siommu_domain_unmap(p, 0x200000 * (i + 1), 0x200000),
				 0x200000);
	}
	assert_int_equal(siommu_domain_destroy(p), 0);
}

/* IOVA-allocating map/unmap: released at once (strict) or at the drain (lazy). */
static void test_core_dma_map_releases_iova(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *s = mkdom(f, SIOMMU_DOMAIN_PAGING, SIOMMU_UNMAP_STRICT);
	struct siommu_domain *l = mkdom(f, SIOMMU_DOMAIN_PAGING, SIOMMU_UNMAP_LAZY);
	struct siommu_translation t;
	uint64_t a, b, c;

	assert_int_equal(siommu_device_attach(f->dev, s), 0);
	assert_int_equal(siommu_domain_dma_map(s, 0x5000, 2 * PG, SIOMMU_PT_READ,
					       0xffffffff, &a), 0);
	assert_true(a + 2 * PG - 1 <= 0xffffffff);
	assert_int_equal(a % (2 * PG), 0);
	assert_int_equal(siommu_translate(f->dev, 0, a + PG + 8, SIOMMU_ACC_READ, &t), 0);
	assert_int_equal(t.pa, 0x6008);
	assert_int_equal(siommu_domain_dma_unmap(s, a + PG, PG), -EINVAL);
	assert_int_equal(siommu_domain_dma_unmap(s, a, 2 * PG), 2 * PG);
	assert_int_equal(siommu_translate(f->dev, 0, a, SIOMMU_ACC_READ, &t), -ENOENT);
	assert_int_equal(siommu_domain_dma_unmap(s, a, 2 * PG), -EINVAL);
	assert_int_equal(siommu_domain_dma_map(s, 0x5000, 2 * PG, SIOMMU_PT_READ,
					       0xffffffff, &b), 0);
	assert_int_equal(b, a);		/* released: the same place again */
	assert_int_equal(siommu_domain_dma_unmap(s, b, 2 * PG), 2 * PG);
	assert_int_equal(siommu_domain_dma_map(s, 0x5001, PG, SIOMMU_PT_READ,
					       UINT64_MAX, &b), -EINVAL);
	assert_int_equal(siommu_domain_dma_map(s, 0x5000, PG, SIOMMU_PT_READ, 0, &b),
			 -ERANGE);

	assert_int_equal(siommu_domain_dma_map(l, 0x5000, PG, SIOMMU_PT_READ,
					       UINT64_MAX, &a), 0);
	assert_int_equal(siommu_domain_dma_unmap(l, a, PG), PG);
	assert_int_equal(siommu_domain_dma_map(l, 0x5000, PG, SIOMMU_PT_READ,
					       UINT64_MAX, &b), 0);
	assert_int_not_equal(b, a);	/* still queued: not reusable */
	assert_int_equal(siommu_domain_flush(l), 0);
	assert_int_equal(siommu_domain_dma_map(l, 0x5000, PG, SIOMMU_PT_READ,
					       UINT64_MAX, &c), 0);
	assert_int_equal(c, a);
	assert_int_equal(siommu_domain_dma_map(NULL, 0, PG, SIOMMU_PT_READ, 0, &c), -EINVAL);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(s), 0);
	assert_int_equal(siommu_domain_destroy(l), 0);	/* with IOVAs still allocated */
}

/* ------------------------------------------------------------------ faults */

static void test_core_fault_log_order_and_overflow(void **state)
{
	struct siommu_iommu_caps caps = { .fault_log_size = 4, .fault_rate = 1000 };
	struct siommu_fault_record rec[8];
	struct siommu_iommu_stats st;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
	struct fixture *f = *state;
	uint8_t b;
	int i, n;

	assert_int_equal(siommu_iommu_create(f->ctx, &caps, NULL, &iommu), 0);
	assert_int_equal(siommu_device_create(iommu, RID1, 0, 0, &dev), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(siommu_dma_read(dev, 0, 0x1000 * i, &b, 1), -ENODATA);
	n = siommu_fault_log_read(iommu, rec, 8);
	assert_int_equal(n, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(rec[i].seq, 7 + i);
		assert_int_equal(rec[i].iova, 0x1000 * (6 + i));
		assert_int_equal(rec[i].rid, RID1);
		assert_int_equal(rec[i].reason, SIOMMU_FAULT_NO_DOMAIN);
		assert_int_equal(rec[i].access, SIOMMU_ACC_READ);
	}
	assert_int_equal(siommu_fault_log_read(iommu, rec, 8), 0);
	assert_int_equal(siommu_fault_log_read(iommu, NULL, 1), -EINVAL);
	assert_int_equal(siommu_iommu_get_stats(iommu, &st), 0);
	assert_int_equal(st.faults[SIOMMU_FAULT_NO_DOMAIN], 10);
	assert_int_equal(st.faults_logged, 10);
	assert_int_equal(st.faults_overflow, 6);
	assert_int_equal(st.faults_ratelimited, 0);
	assert_int_equal(siommu_device_destroy(dev), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
}

static void test_core_fault_log_rate_limited(void **state)
{
	struct siommu_iommu_caps caps = { .fault_log_size = 64, .fault_rate = 3 };
	struct siommu_fault_record rec[64];
	struct siommu_iommu_stats st;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
	struct fixture *f = *state;
	uint8_t b;
	int i;

	assert_int_equal(siommu_iommu_create(f->ctx, &caps, NULL, &iommu), 0);
	assert_int_equal(siommu_device_create(iommu, RID1, 0, 0, &dev), 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(siommu_dma_write(dev, 0, 0, &b, 1), -ENODATA);
	assert_int_equal(siommu_iommu_get_stats(iommu, &st), 0);
	assert_int_equal(st.faults[SIOMMU_FAULT_NO_DOMAIN], 20);
	/* Within one second only 3 are logged (a slow machine may see a new window). */
	assert_true(st.faults_logged >= 3 && st.faults_logged < 20);
	assert_int_equal(st.faults_logged + st.faults_ratelimited, 20);
	assert_int_equal(siommu_fault_log_read(iommu, rec, 64), (int)st.faults_logged);
	assert_int_equal(rec[0].access, SIOMMU_ACC_WRITE);
	assert_int_equal(siommu_device_destroy(dev), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
}

struct fault_storm {
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
	int stop;			/* atomic */
	int started;			/* atomic: the reader runs */
	uint64_t read, last_seq;	/* reader only */
	bool out_of_order;
};

static void *fault_thread(void *arg)
{
	struct fault_storm *fs = arg;
	uint8_t b;
	int i;

	while (!__atomic_load_n(&fs->started, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < 2000; i++)
		thread_assert_int_equal(siommu_dma_read(fs->dev, 0, (uint64_t)i << 12, &b, 1), -ENODATA);
	return NULL;
}

static void reader_take(struct fault_storm *fs, int n,
			const struct siommu_fault_record *rec)
{
	int i;

	for (i = 0; i < n; i++) {
		if (rec[i].seq <= fs->last_seq)
			fs->out_of_order = true;
		fs->last_seq = rec[i].seq;
	}
	fs->read += (uint64_t)n;
}

static void *fault_reader(void *arg)
{
	struct fault_storm *fs = arg;
	struct siommu_fault_record rec[16];
	int n;

	__atomic_store_n(&fs->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&fs->stop, __ATOMIC_ACQUIRE)) {
		n = siommu_fault_log_read(fs->iommu, rec, 16);
		thread_assert_true(n >= 0);
		reader_take(fs, n, rec);
	}
	/* What the faulting threads left. */
	while ((n = siommu_fault_log_read(fs->iommu, rec, 16)) > 0)
		reader_take(fs, n, rec);
	return NULL;
}

/* Faults from several threads while a reader drains the log. */
static void test_core_fault_log_concurrent(void **state)
{
	struct siommu_iommu_caps caps = { .fault_log_size = 64, .fault_rate = 1000000 };
	struct siommu_iommu_stats st;
	struct fixture *f = *state;
	struct fault_storm fs;
	pthread_t t[3];
	int i;

	memset(&fs, 0, sizeof(fs));
	assert_int_equal(siommu_iommu_create(f->ctx, &caps, NULL, &fs.iommu), 0);
	assert_int_equal(siommu_device_create(fs.iommu, RID1, 0, 0, &fs.dev), 0);
	assert_int_equal(pthread_create(&t[0], NULL, fault_reader, &fs), 0);
	for (i = 1; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fault_thread, &fs), 0);
	for (i = 1; i < 3; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	__atomic_store_n(&fs.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t[0], NULL), 0);
	assert_int_equal(siommu_iommu_get_stats(fs.iommu, &st), 0);
	assert_int_equal(st.faults[SIOMMU_FAULT_NO_DOMAIN], 4000);
	assert_int_equal(st.faults_logged + st.faults_ratelimited, 4000);
	/* Every logged record was read or overwritten, once. */
	assert_int_equal(fs.read + st.faults_overflow, st.faults_logged);
	assert_false(fs.out_of_order);
	assert_int_equal(siommu_device_destroy(fs.dev), 0);
	assert_int_equal(siommu_iommu_destroy(fs.iommu), 0);
}

struct trace_seen {
	unsigned int n[SIOMMU_TRACE_NR_TYPES];
	char last_fault[160];
};

static void trace_sink(void *opaque, const struct siommu_trace_record *rec)
{
	struct trace_seen *s = opaque;

	s->n[rec->ev.type]++;
	if (rec->ev.type == SIOMMU_TRACE_IO_PAGE_FAULT)
		siommu_trace_format(&rec->ev, s->last_fault, sizeof(s->last_fault));
}

static void test_core_trace_events(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *p = mkdom(f, SIOMMU_DOMAIN_PAGING, 0);
	struct trace_seen seen;
	uint8_t b;

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(siommu_ctx_set_trace(f->ctx, trace_sink, &seen), 0);
	assert_int_equal(siommu_device_attach(f->dev, p), 0);
	assert_int_equal(siommu_domain_map(p, 0x1000, 0x2000, PG, SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_domain_unmap(p, 0x1000, PG), PG);
	assert_int_equal(siommu_dma_write(f->dev, 0, 0x1000, &b, 1), -ENOENT);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_ctx_set_trace(f->ctx, NULL, NULL), 0);
	assert_int_equal(seen.n[SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN], 1);
	assert_int_equal(seen.n[SIOMMU_TRACE_DETACH_DEVICE_FROM_DOMAIN], 1);
	assert_int_equal(seen.n[SIOMMU_TRACE_MAP], 1);
	assert_int_equal(seen.n[SIOMMU_TRACE_UNMAP], 1);
	assert_int_equal(seen.n[SIOMMU_TRACE_IO_PAGE_FAULT], 1);
	assert_string_equal(seen.last_fault,
			    "IOMMU:softiommu 0000:00:02.0 iova=0x0000000000001000 flags=0x0002");
	assert_int_equal(siommu_domain_destroy(p), 0);
}

/* ------------------------------------------------------------------ bad arguments */

static void test_core_null_arguments(void **state)
{
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_BLOCKED };
	struct siommu_iommu_caps caps;
	struct siommu_device_info di;
	struct siommu_domain_info dinf;
	struct siommu_iommu_stats st;
	struct siommu_dma_sg sg = { 0 };
	struct siommu_device *d;
	struct siommu_domain *dom;
	struct fixture *f = *state;
	uint8_t b;

	assert_int_equal(siommu_iommu_get_caps(NULL, &caps), -EINVAL);
	assert_int_equal(siommu_iommu_get_caps(f->iommu, NULL), -EINVAL);
	assert_int_equal(siommu_device_create(NULL, RID1, 0, 0, &d), -EINVAL);
	assert_int_equal(siommu_device_create(f->iommu, RID1, 0, 0, NULL), -EINVAL);
	assert_int_equal(siommu_device_destroy(NULL), 0);
	assert_null(siommu_device_find(NULL, RID0));
	assert_int_equal(siommu_device_get_info(NULL, &di), -EINVAL);
	assert_int_equal(siommu_device_get_info(f->dev, NULL), -EINVAL);
	assert_int_equal(siommu_domain_create(NULL, &cfg, &dom), -EINVAL);
	assert_int_equal(siommu_domain_create(f->iommu, NULL, &dom), -EINVAL);
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, NULL), -EINVAL);
	assert_int_equal(siommu_domain_get_info(NULL, &dinf), -EINVAL);
	assert_null(siommu_domain_pt(NULL));
	assert_int_equal(siommu_domain_type_parse(NULL, NULL), -EINVAL);
	assert_int_equal(siommu_device_attach(NULL, NULL), -EINVAL);
	assert_int_equal(siommu_device_attach(f->dev, NULL), -EINVAL);
	assert_int_equal(siommu_device_replace(f->dev, NULL), -EINVAL);
	assert_int_equal(siommu_device_detach(NULL), -EINVAL);
	assert_int_equal(siommu_pasid_attach(NULL, 1, NULL), -EINVAL);
	assert_int_equal(siommu_pasid_replace(f->dev, 1, NULL), -EINVAL);
	assert_int_equal(siommu_pasid_detach(NULL, 1), -EINVAL);
	assert_null(siommu_device_domain(NULL, 0));
	assert_int_equal(siommu_domain_map(NULL, 0, 0, PG, SIOMMU_PT_READ), -EINVAL);
	assert_int_equal(siommu_domain_unmap(NULL, 0, PG), -EINVAL);
	assert_int_equal(siommu_domain_flush(NULL), -EINVAL);
	assert_int_equal(siommu_domain_dma_unmap(NULL, 0, PG), -EINVAL);
	assert_int_equal(siommu_domain_dma_map(NULL, 0, PG,
					       SIOMMU_PT_READ, UINT64_MAX, NULL), -EINVAL);
	assert_int_equal(siommu_dma_read(NULL, 0, 0, &b, 1), -EINVAL);
	assert_int_equal(siommu_dma_write(f->dev, 1u << 20, 0, &b, 1), -EINVAL);
	assert_int_equal(siommu_dma_write_sg(f->dev, 0, &sg, 1), -EINVAL);
	assert_int_equal(siommu_fault_log_read(NULL, NULL, 0), -EINVAL);
	assert_int_equal(siommu_iommu_get_stats(NULL, &st), -EINVAL);
	assert_int_equal(siommu_iommu_get_stats(f->iommu, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_core_iommu_create_rejects_bad_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_destroy_in_use_is_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_device_create_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_domain_types_and_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_domain_table_pool_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_detach_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_pasid_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_other_iommu_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_attach_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_translate_fault_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_translate_iotlb_hit_and_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_strict_unmap_frees_tables_before_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_lazy_unmap_reuses_queue_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_replace_switches_translation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_external_table_and_invalidate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_dma_host_split_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_dma_sg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_dma_runs, setup, teardown),
		cmocka_unit_test(test_core_dma_mem_ram_mmio_revoked),
		cmocka_unit_test(test_core_revoke_tears_down_mappings),
		cmocka_unit_test_setup_teardown(test_core_lazy_unmap_defers_invalidation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_lazy_unmap_drained_by_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_lazy_flusher_wakes_from_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_lazy_destroy_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_dma_map_releases_iova, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_fault_log_order_and_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_fault_log_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_fault_log_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_trace_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_null_arguments, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
