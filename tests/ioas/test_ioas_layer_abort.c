// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ioas layer's abort step: the core's attach protocol (src/core/attach.c)
 * prepares every layer in registration order and, when one refuses, aborts
 * the ones prepared before it in reverse order.  The ioas layer's prepare
 * fills the new domain (first user: every area mapped, beyond the aperture
 * reserved) and counts a user; its abort must undo exactly that.  A second
 * layer, registered after the ioas layer, refuses chosen attaches here:
 *
 *  - a first attach refused: the domain is emptied again (no mapping, not
 *    filled, the IOVA space beyond its aperture usable again), the device
 *    has no domain, the refusal's error is what attach returns (a positive
 *    value from a broken layer is -EINVAL);
 *  - a second device's attach to a domain in use refused: the domain stays
 *    filled for the first (its DMA works), and is emptied when that one
 *    detaches (the aborted user was not left counted);
 *  - a PASID attach and a replace refused: the old attachment is intact.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

#include <softiommu/softiommu.h>

#define PG	4096ull
#define NPG	16
#define RID0	SIOMMU_RID(0, 0, 3, 0)
#define RID1	SIOMMU_RID(0, 0, 4, 0)
#define RW	(SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_WRITE)
#define FIXED	SIOMMU_IOAS_MAP_FIXED_IOVA
#define VETO_ANY ((uint32_t)-2)

struct veto {
	struct siommu_device *dev;	/* refuse this device's attaches ... */
	uint32_t pasid;			/* ... for this PASID (VETO_ANY: all) */
	int ret;
	unsigned int prepares, refusals, commits, aborts;
};

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev0, *dev1;
	struct siommu_ioas_layer *l;
	struct siommu_ioas *ioas;
	struct siommu_layer *veto_layer;
	struct veto v;
	uint8_t *buf;
};

static int veto_prepare(void *opaque, const struct siommu_attach_change *c)
{
	struct veto *v = opaque;

	v->prepares++;
	if (c->new_dom && c->dev == v->dev && (v->pasid == VETO_ANY || v->pasid == c->pasid)) {
		v->refusals++;
		return v->ret;
	}
	return 0;
}

static void veto_commit(void *opaque, const struct siommu_attach_change *c)
{
	(void)c;
	((struct veto *)opaque)->commits++;
}

static void veto_abort(void *opaque, const struct siommu_attach_change *c)
{
	(void)c;
	((struct veto *)opaque)->aborts++;
}

static const struct siommu_layer_ops veto_ops = {
	.name = "veto", .prepare = veto_prepare, .commit = veto_commit, .abort = veto_abort,
};

static int setup(void **state)
{
	/* a 32-bit aperture: a filled domain reserves the IOVA space above it */
	struct siommu_iommu_caps caps = { .ias_lg2 = 32, .pasid_bits = 8 };
	struct fixture *f = calloc(1, sizeof(*f));
	uint64_t iova = 0x10000;
	struct siommu_ioas_mem m;

	if (!f || siommu_ctx_create(&f->ctx) ||
	    siommu_iommu_create(f->ctx, &caps, NULL, &f->iommu) ||
	    siommu_device_create(f->iommu, RID0, SIOMMU_DEV_PASID, 8, &f->dev0) ||
	    siommu_device_create(f->iommu, RID1, SIOMMU_DEV_PASID, 8, &f->dev1) ||
	    siommu_ioas_layer_create(f->ctx, f->iommu, &f->l) ||
	    siommu_ioas_create(f->l, &f->ioas) ||
	    /* after the ioas layer: prepared after it, so it aborts the ioas layer */
	    siommu_layer_register(f->iommu, &veto_ops, &f->v, &f->veto_layer))
		return -1;
	f->buf = aligned_alloc(PG, NPG * PG);
	if (!f->buf)
		return -1;
	for (unsigned int i = 0; i < NPG * PG; i++)
		f->buf[i] = (uint8_t)(i / PG + 1);
	m = (struct siommu_ioas_mem){ .type = SIOMMU_IOAS_MEM_HOST, .host = f->buf };
	if (siommu_ioas_map(f->ioas, &m, 4 * PG, RW | FIXED, &iova))
		return -1;
	f->v.ret = -EPERM;
	f->v.pasid = VETO_ANY;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(siommu_layer_unregister(f->veto_layer), 0);
	assert_int_equal(siommu_ioas_destroy(f->ioas), 0);
	assert_int_equal(siommu_ioas_layer_destroy(f->l), 0);
	assert_int_equal(siommu_device_destroy(f->dev0), 0);
	assert_int_equal(siommu_device_destroy(f->dev1), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f->buf);
	free(f);
	return 0;
}

static struct siommu_domain *mkdom(struct fixture *f)
{
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_domain *dom = NULL;

	assert_int_equal(siommu_ioas_domain_alloc(f->ioas, &cfg, &dom), 0);
	return dom;
}

static bool pt_mapped(struct siommu_domain *dom, uint64_t iova)
{
	uint64_t pa;

	return siommu_pt_iova_to_phys(siommu_domain_pt(dom), iova, &pa) == 0;
}

static uint64_t filled(struct fixture *f)
{
	struct siommu_ioas_info info;

	assert_int_equal(siommu_ioas_get_info(f->ioas, &info), 0);
	return info.domains_filled;
}

/* The top of the IOAS's usable IOVA space (one range expected). */
static uint64_t iova_top(struct fixture *f)
{
	struct siommu_ioas_range r[4];
	unsigned int n = 4;

	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, &n), 0);
	assert_int_equal(n, 1);
	return r[0].last;
}

static void dma_ok(struct siommu_device *dev, uint32_t pasid, struct fixture *f)
{
	uint8_t got[8];

	assert_int_equal(siommu_dma_read(dev, pasid, 0x11000, got, sizeof(got)), 0);
	assert_memory_equal(got, f->buf + PG, sizeof(got));
}

/* A first attach refused by the later layer: the ioas layer's fill is undone. */
static void test_ioas_layer_abort_first_attach(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *dom = mkdom(f);

	assert_int_equal(iova_top(f), UINT64_MAX);
	f->v.dev = f->dev0;
	assert_int_equal(siommu_device_attach(f->dev0, dom), -EPERM);
	assert_int_equal(f->v.refusals, 1);
	assert_int_equal(f->v.aborts, 0);	/* the refusing layer is not aborted */
	assert_null(siommu_device_domain(f->dev0, SIOMMU_NO_PASID));
	assert_false(pt_mapped(dom, 0x10000));
	assert_false(pt_mapped(dom, 0x13000));
	assert_int_equal(filled(f), 0);
	/* the reservation beyond the 32-bit aperture went with the fill */
	assert_int_equal(iova_top(f), UINT64_MAX);
	/* a map now is not pushed into the domain (it has no user) */
	{
		struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST, .host = f->buf };
		uint64_t iova = 0x20000;

		assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW | FIXED, &iova), 0);
		assert_false(pt_mapped(dom, 0x20000));
	}

	/* a broken layer's positive refusal (not SIOMMU_LAYER_NO_COMMIT) is still a refusal: -EINVAL */
	f->v.ret = SIOMMU_LAYER_NO_COMMIT + 1;
	assert_int_equal(siommu_device_attach(f->dev0, dom), -EINVAL);
	assert_false(pt_mapped(dom, 0x10000));
	assert_int_equal(filled(f), 0);

	/* the same attach, no longer refused, fills it */
	f->v.dev = NULL;
	assert_int_equal(siommu_device_attach(f->dev0, dom), 0);
	assert_true(pt_mapped(dom, 0x10000));
	assert_true(pt_mapped(dom, 0x20000));
	assert_int_equal(filled(f), 1);
	assert_int_equal(iova_top(f), (1ull << 32) - 1);
	dma_ok(f->dev0, SIOMMU_NO_PASID, f);
	assert_int_equal(siommu_device_detach(f->dev0), 0);
	assert_false(pt_mapped(dom, 0x10000));
	assert_int_equal(siommu_ioas_domain_free(f->l, dom), 0);
}

/* A second user refused: the domain stays filled for the first, emptied after it. */
static void test_ioas_layer_abort_second_user(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *dom = mkdom(f);

	assert_int_equal(siommu_device_attach(f->dev0, dom), 0);
	f->v.dev = f->dev1;
	assert_int_equal(siommu_device_attach(f->dev1, dom), -EPERM);
	assert_null(siommu_device_domain(f->dev1, SIOMMU_NO_PASID));
	assert_true(pt_mapped(dom, 0x10000));
	assert_int_equal(filled(f), 1);
	dma_ok(f->dev0, SIOMMU_NO_PASID, f);
	/* the last real user goes: emptied (no user was left behind by the abort) */
	assert_int_equal(siommu_device_detach(f->dev0), 0);
	assert_false(pt_mapped(dom, 0x10000));
	assert_int_equal(filled(f), 0);
	assert_int_equal(iova_top(f), UINT64_MAX);
	assert_int_equal(siommu_ioas_domain_free(f->l, dom), 0);
}

/* A PASID attach refused, and a replace refused: the old attachment stays. */
static void test_ioas_layer_abort_pasid_and_replace(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a = mkdom(f), *b = mkdom(f);

	assert_int_equal(siommu_pasid_attach(f->dev0, 3, a), 0);
	f->v.dev = f->dev0;
	f->v.pasid = 4;
	assert_int_equal(siommu_pasid_attach(f->dev0, 4, b), -EPERM);
	assert_null(siommu_device_domain(f->dev0, 4));
	assert_false(pt_mapped(b, 0x10000));
	assert_int_equal(filled(f), 1);
	dma_ok(f->dev0, 3, f);

	f->v.pasid = 3;
	assert_int_equal(siommu_pasid_replace(f->dev0, 3, b), -EPERM);
	assert_ptr_equal(siommu_device_domain(f->dev0, 3), a);
	assert_false(pt_mapped(b, 0x10000));
	assert_true(pt_mapped(a, 0x10000));
	assert_int_equal(filled(f), 1);
	dma_ok(f->dev0, 3, f);

	f->v.dev = NULL;
	assert_int_equal(siommu_pasid_replace(f->dev0, 3, b), 0);
	assert_true(pt_mapped(b, 0x10000));
	assert_false(pt_mapped(a, 0x10000));	/* a's last user went */
	dma_ok(f->dev0, 3, f);
	assert_int_equal(siommu_pasid_detach(f->dev0, 3), 0);
	assert_int_equal(filled(f), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, a), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ioas_layer_abort_first_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_layer_abort_second_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_layer_abort_pasid_and_replace, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
