// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Access objects: pin/unpin/rw and the unmap protocol of seed 004.
 *
 * The iommufd selftests' access cases (iommufd.c: access_pin, access_rw,
 * access_rw_unaligned, access_pin_unmap, unmap with an access that does not
 * unpin, copy with access pins), written against this API, plus what
 * softiommu promises beyond them: a refused unmap changes nothing and names
 * the holders, callbacks run with no IOAS lock held and may re-enter the
 * API, an unrevocable pin is -EBUSY at once, revocation asks accesses to
 * unpin.  Every case ends by checking that no page of the IOAS is pinned.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

#include <softiommu/softiommu.h>

#define PG	4096ull
#define NPG	64
#define RW	(SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_WRITE)
#define FIXED	SIOMMU_IOAS_MAP_FIXED_IOVA
#define WR	SIOMMU_IOAS_ACCESS_WRITE

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_ioas_layer *l;
	struct siommu_ioas *ioas;
	uint8_t *buf;
};

/* What a test access does when its callback runs. */
enum behaviour { COOPERATE, STUCK, REENTER, UNMAP_SELF };

struct holder {
	struct fixture *f;
	struct siommu_ioas_access *acc;
	enum behaviour how;
	unsigned int calls;
	uint64_t last_iova, last_len;
	uint64_t pin_iova, pin_len;	/* its one pin, 0 length: none */
	int reenter_pin, reenter_rw, reenter_unmap, other_pin;
	struct siommu_ioas_access *other;	/* REENTER: another access's pin attempt */
};

static void holder_unpin(struct holder *h)
{
	if (h->pin_len) {
		thread_assert_int_equal(siommu_ioas_access_unpin(h->acc, h->pin_iova,
								 h->pin_len), 0);
		h->pin_len = 0;
	}
}

static void unmap_cb(void *opaque, uint64_t iova, uint64_t length)
{
	struct holder *h = opaque;
	void *pages[4];
	uint8_t b[8];

	h->calls++;
	h->last_iova = iova;
	h->last_len = length;
	switch (h->how) {
	case COOPERATE:
		holder_unpin(h);
		break;
	case STUCK:
		break;
	case REENTER:
		/* no IOAS lock held: each of these would deadlock otherwise */
		if (h->other)
			h->other_pin = siommu_ioas_access_pin(h->other, iova, PG, 0, pages);
		h->reenter_rw = siommu_ioas_access_rw(h->acc, 0x200000, b, sizeof(b), 0);
		h->reenter_pin = siommu_ioas_access_pin(h->acc, 0x200000, PG, 0, pages);
		if (!h->reenter_pin)
			thread_assert_int_equal(siommu_ioas_access_unpin(h->acc, 0x200000, PG), 0);
		h->reenter_unmap = siommu_ioas_unmap(h->f->ioas, 0x300000, PG, NULL);
		holder_unpin(h);
		break;
	case UNMAP_SELF:
		holder_unpin(h);
		thread_assert_int_equal(siommu_ioas_unmap(h->f->ioas, h->last_iova ?
							  h->last_iova : 0x10000, 4 * PG,
							  NULL), 0);
		break;
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx) ||
	    siommu_iommu_create(f->ctx, NULL, NULL, &f->iommu) ||
	    siommu_ioas_layer_create(f->ctx, f->iommu, &f->l) ||
	    siommu_ioas_create(f->l, &f->ioas))
		return -1;
	f->buf = aligned_alloc(PG, NPG * PG);
	if (!f->buf)
		return -1;
	for (unsigned int i = 0; i < NPG * PG; i++)
		f->buf[i] = (uint8_t)(i / PG + 1);
	*state = f;
	return 0;
}

static uint64_t pinned_pages(struct fixture *f)
{
	struct siommu_ioas_info info;

	assert_int_equal(siommu_ioas_get_info(f->ioas, &info), 0);
	return info.pinned_pages;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pinned_pages(f), 0);	/* pins never leak */
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, NULL), 0);
	assert_int_equal(siommu_ioas_destroy(f->ioas), 0);
	assert_int_equal(siommu_ioas_layer_destroy(f->l), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f->buf);
	free(f);
	return 0;
}

static void map_fixed(struct fixture *f, uint64_t iova, void *p, uint64_t len,
		      unsigned int flags)
{
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST, .host = p };

	assert_int_equal(siommu_ioas_map(f->ioas, &m, len, flags | FIXED, &iova), 0);
}

static struct holder *mkholder(struct fixture *f, const char *name, enum behaviour how)
{
	struct holder *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->f = f;
	h->how = how;
	assert_int_equal(siommu_ioas_access_create(f->ioas, name, unmap_cb, h, 0, &h->acc), 0);
	return h;
}

static void holder_pin(struct holder *h, uint64_t iova, uint64_t len)
{
	void *pages[16];

	assert_int_equal(siommu_ioas_access_pin(h->acc, iova, len, 0, pages), 0);
	h->pin_iova = iova;
	h->pin_len = len;
}

static void holder_free(struct holder *h)
{
	h->how = COOPERATE;
	assert_int_equal(siommu_ioas_access_destroy(h->acc), 0);
	free(h);
}

static uint64_t nr_areas(struct fixture *f)
{
	struct siommu_ioas_info info;

	assert_int_equal(siommu_ioas_get_info(f->ioas, &info), 0);
	return info.areas;
}

/* ------------------------------------------------------------------ pin, rw */

static void test_ioas_access_pin_unpin(void **state)
{
	struct fixture *f = *state;
	struct holder *h = mkholder(f, "mdev", COOPERATE);
	struct siommu_ioas_access *norev, *nocb;
	struct siommu_ioas_access_info ai;
	void *pages[8];

	map_fixed(f, 0x10000, f->buf, 4 * PG, RW);
	map_fixed(f, 0x14000, f->buf + 8 * PG, 2 * PG, SIOMMU_IOAS_MAP_READ);
	/* across two areas */
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x13000, 2 * PG, 0, pages), 0);
	assert_ptr_equal(pages[0], f->buf + 3 * PG);
	assert_ptr_equal(pages[1], f->buf + 8 * PG);
	assert_int_equal(pinned_pages(f), 2);
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x13000, PG, 0, pages), 0);
	assert_int_equal(pinned_pages(f), 3);	/* counted per page */
	assert_int_equal(siommu_ioas_access_get_info(h->acc, &ai), 0);
	assert_int_equal(ai.pins, 2);
	assert_int_equal(ai.pinned_bytes, 3 * PG);
	assert_string_equal(ai.name, "mdev");
	/* unpin must match exactly */
	assert_int_equal(siommu_ioas_access_unpin(h->acc, 0x13000, 3 * PG), -EINVAL);
	assert_int_equal(siommu_ioas_access_unpin(h->acc, 0x14000, PG), -EINVAL);
	assert_int_equal(siommu_ioas_access_unpin(h->acc, 0x13000, 2 * PG), 0);
	assert_int_equal(siommu_ioas_access_unpin(h->acc, 0x13000, 2 * PG), -EINVAL);
	assert_int_equal(siommu_ioas_access_unpin(h->acc, 0x13000, PG), 0);
	assert_int_equal(pinned_pages(f), 0);
	/* errors: nothing pinned */
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x14000, PG, WR, pages), -EPERM);
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x15000, 2 * PG, 0, pages), -ENOENT);
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x40000, PG, 0, pages), -ENOENT);
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x10001, PG, 0, pages), -EINVAL);
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x10000, 0, 0, pages), -EINVAL);
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x10000, PG, 1u << 4, pages), -EINVAL);
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x10000, PG, 0, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_access_pin(h->acc, UINT64_MAX - PG + 1, 2 * PG, 0, pages),
			 -EOVERFLOW);
	assert_int_equal(siommu_ioas_access_pin(NULL, 0x10000, PG, 0, pages), -EINVAL);
	assert_int_equal(pinned_pages(f), 0);
	/* no callback: may pin only if unrevocable */
	assert_int_equal(siommu_ioas_access_create(f->ioas, "nocb", NULL, NULL, 0, &nocb), 0);
	assert_int_equal(siommu_ioas_access_pin(nocb, 0x10000, PG, 0, pages), -EPERM);
	assert_int_equal(siommu_ioas_access_create(f->ioas, "x", unmap_cb, h,
						   SIOMMU_IOAS_ACCESS_UNREVOCABLE, &norev),
			 -EINVAL);
	assert_int_equal(siommu_ioas_access_create(f->ioas, "x", NULL, NULL, 1u << 3, &norev),
			 -EINVAL);
	assert_int_equal(siommu_ioas_access_destroy(nocb), 0);
	holder_free(h);
}

static void test_ioas_access_rw(void **state)
{
	struct fixture *f = *state;
	struct holder *h = mkholder(f, "rw", COOPERATE);
	uint8_t out[3 * PG], in[3 * PG];

	map_fixed(f, 0x10000, f->buf, 2 * PG, RW);
	map_fixed(f, 0x12000, f->buf + 10 * PG, 2 * PG, RW);
	map_fixed(f, 0x20000, f->buf + 20 * PG, PG, SIOMMU_IOAS_MAP_READ);
	/* byte granular, across two areas */
	for (unsigned int i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7);
	assert_int_equal(siommu_ioas_access_rw(h->acc, 0x11003, out, 2 * PG, WR), 0);
	assert_memory_equal(f->buf + PG + 3, out, PG - 3);
	assert_memory_equal(f->buf + 10 * PG, out + PG - 3, PG + 3);
	assert_int_equal(siommu_ioas_access_rw(h->acc, 0x11003, in, 2 * PG, 0), 0);
	assert_memory_equal(in, out, 2 * PG);
	/* errors: checked before a byte moves */
	memset(in, 0xaa, sizeof(in));
	assert_int_equal(siommu_ioas_access_rw(h->acc, 0x13000, in, 2 * PG, 0), -ENOENT);
	assert_int_equal(in[0], 0xaa);
	assert_int_equal(siommu_ioas_access_rw(h->acc, 0x20000, in, 1, WR), -EPERM);
	assert_int_equal(siommu_ioas_access_rw(h->acc, 0x20000, in, 1, 0), 0);
	assert_int_equal(in[0], 21);
	assert_int_equal(siommu_ioas_access_rw(h->acc, 0x20000, in, 0, 0), -EINVAL);
	assert_int_equal(siommu_ioas_access_rw(h->acc, 0x20000, NULL, 1, 0), -EINVAL);
	assert_int_equal(siommu_ioas_access_rw(h->acc, UINT64_MAX, in, 2, 0), -EOVERFLOW);
	holder_free(h);
}

static void test_ioas_access_shared_pages_pinned_once(void **state)
{
	struct fixture *f = *state;
	struct holder *h = mkholder(f, "copy", COOPERATE);
	uint64_t dst = 0x80000;
	void *a[1], *b[1];

	map_fixed(f, 0x10000, f->buf, 4 * PG, RW);
	assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, 0x10000, 4 * PG, RW | FIXED),
			 0);
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x11000, PG, 0, a), 0);
	assert_int_equal(siommu_ioas_access_pin(h->acc, 0x81000, PG, 0, b), 0);
	assert_ptr_equal(a[0], b[0]);		/* the same page ... */
	assert_int_equal(pinned_pages(f), 2);	/* ... counted twice, in one counter */
	assert_int_equal(siommu_ioas_access_unpin(h->acc, 0x11000, PG), 0);
	assert_int_equal(siommu_ioas_access_unpin(h->acc, 0x81000, PG), 0);
	holder_free(h);
}

/* ------------------------------------------------------------------ unmap protocol */

static void test_ioas_access_cooperative_unmap(void **state)
{
	struct fixture *f = *state;
	struct holder *h = mkholder(f, "coop", COOPERATE);
	uint64_t bytes = 0;

	map_fixed(f, 0x10000, f->buf, 4 * PG, RW);
	holder_pin(h, 0x11000, 2 * PG);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, 4 * PG, &bytes), 0);
	assert_int_equal(bytes, 4 * PG);
	assert_int_equal(h->calls, 1);
	assert_int_equal(h->last_iova, 0x10000);
	assert_int_equal(h->last_len, 4 * PG);
	assert_int_equal(nr_areas(f), 0);
	holder_free(h);
}

static void test_ioas_access_stuck_unmap_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct holder *coop = mkholder(f, "coop", COOPERATE);
	struct holder *stuck = mkholder(f, "stuck", STUCK);
	struct siommu_ioas_access_info si;
	uint32_t ids[4];
	uint8_t b[4];
	void *pages[1];
	uint64_t bytes = 0;

	map_fixed(f, 0x10000, f->buf, 2 * PG, RW);
	map_fixed(f, 0x12000, f->buf + 4 * PG, 2 * PG, RW);
	holder_pin(coop, 0x10000, PG);
	holder_pin(stuck, 0x13000, PG);
	assert_int_equal(siommu_ioas_set_unmap_retries(f->ioas, 5), 0);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, 4 * PG, &bytes), -EBUSY);
	assert_int_equal(bytes, 0);
	/* bounded: the first round, then 5 retries without progress */
	assert_int_equal(stuck->calls, 6);
	assert_int_equal(coop->calls, 1);	/* unpinned in the first round */
	/* nothing unmapped, not even the first area, which had no pin left */
	assert_int_equal(nr_areas(f), 2);
	/* the holder is named */
	assert_int_equal(siommu_ioas_access_get_info(stuck->acc, &si), 0);
	assert_int_equal(siommu_ioas_pin_holders(f->ioas, 0x10000, 4 * PG, ids, 4), 1);
	assert_int_equal(ids[0], si.id);
	/* pins and rw work again */
	assert_int_equal(siommu_ioas_access_rw(coop->acc, 0x10000, b, sizeof(b), 0), 0);
	assert_int_equal(siommu_ioas_access_pin(coop->acc, 0x12000, PG, 0, pages), 0);
	assert_int_equal(siommu_ioas_access_unpin(coop->acc, 0x12000, PG), 0);
	/* a later unpin lets the same unmap succeed */
	holder_unpin(stuck);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, 4 * PG, &bytes), 0);
	assert_int_equal(bytes, 4 * PG);
	assert_int_equal(siommu_ioas_pin_holders(f->ioas, 0x10000, 4 * PG, ids, 4), 0);
	holder_free(coop);
	holder_free(stuck);
}

static void test_ioas_access_unrevocable_pin_busy_at_once(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_access *acc;
	struct holder *coop = mkholder(f, "coop", COOPERATE);
	void *pages[1];

	map_fixed(f, 0x10000, f->buf, 2 * PG, RW);
	assert_int_equal(siommu_ioas_access_create(f->ioas, "pinned-for-good", NULL, NULL,
						   SIOMMU_IOAS_ACCESS_UNREVOCABLE, &acc), 0);
	assert_int_equal(siommu_ioas_access_pin(acc, 0x10000, PG, 0, pages), 0);
	holder_pin(coop, 0x11000, PG);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, 2 * PG, NULL), -EBUSY);
	assert_int_equal(coop->calls, 0);	/* at once: nobody asked */
	assert_int_equal(nr_areas(f), 1);
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, NULL), -EBUSY);
	/* destroy with pins: -EBUSY; after unpin it goes */
	assert_int_equal(siommu_ioas_access_destroy(acc), -EBUSY);
	assert_int_equal(siommu_ioas_destroy(f->ioas), -EBUSY);	/* accesses */
	assert_int_equal(siommu_ioas_access_unpin(acc, 0x10000, PG), 0);
	assert_int_equal(siommu_ioas_access_destroy(acc), 0);
	holder_free(coop);
}

static void test_ioas_access_callback_reenters(void **state)
{
	struct fixture *f = *state;
	struct holder *h = mkholder(f, "reenter", REENTER);
	struct holder *other = mkholder(f, "other", COOPERATE);

	map_fixed(f, 0x10000, f->buf, 2 * PG, RW);
	map_fixed(f, 0x200000, f->buf + 8 * PG, PG, RW);
	map_fixed(f, 0x300000, f->buf + 9 * PG, PG, RW);
	h->other = other->acc;
	holder_pin(h, 0x10000, PG);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, 2 * PG, NULL), 0);
	assert_int_equal(h->calls, 1);
	assert_int_equal(h->other_pin, -EBUSY);	/* the range is blocked for new pins */
	assert_int_equal(h->reenter_rw, 0);	/* rw elsewhere */
	assert_int_equal(h->reenter_pin, 0);	/* pin elsewhere */
	assert_int_equal(h->reenter_unmap, 0);	/* unmap of another range */
	assert_int_equal(nr_areas(f), 1);
	holder_free(h);
	holder_free(other);
}

static void test_ioas_access_area_gone_after_callback(void **state)
{
	struct fixture *f = *state;
	struct holder *h = mkholder(f, "self", UNMAP_SELF);

	map_fixed(f, 0x10000, f->buf, 4 * PG, RW);
	holder_pin(h, 0x10000, PG);
	/* the callback unmaps the area itself: looked up again, it is gone */
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, 4 * PG, NULL), -ENOENT);
	assert_int_equal(h->calls, 1);
	assert_int_equal(nr_areas(f), 0);
	/* a new area in its place is unmapped by a later call */
	map_fixed(f, 0x10000, f->buf, 4 * PG, RW);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, 4 * PG, NULL), 0);
	holder_free(h);
}

static void test_ioas_access_destroy_asks_first(void **state)
{
	struct fixture *f = *state;
	struct holder *h = mkholder(f, "d", COOPERATE);
	struct holder *s = mkholder(f, "s", STUCK);

	map_fixed(f, 0x10000, f->buf, 2 * PG, RW);
	holder_pin(h, 0x10000, PG);
	assert_int_equal(siommu_ioas_access_destroy(h->acc), 0);	/* after its callback */
	assert_int_equal(h->calls, 1);
	assert_int_equal(h->last_iova, 0);
	assert_true(h->last_len == UINT64_MAX);
	free(h);
	holder_pin(s, 0x10000, PG);
	assert_int_equal(siommu_ioas_access_destroy(s->acc), -EBUSY);
	assert_int_equal(s->calls, 1);
	holder_unpin(s);
	holder_free(s);
}

static void test_ioas_access_replace(void **state)
{
	struct fixture *f = *state;
	struct holder *h = mkholder(f, "mover", COOPERATE);
	struct holder *s = mkholder(f, "stay", STUCK);
	struct siommu_ioas_info info;
	struct siommu_ioas *other;
	uint8_t b[2];

	map_fixed(f, 0x10000, f->buf, 2 * PG, RW);
	assert_int_equal(siommu_ioas_create(f->l, &other), 0);
	holder_pin(h, 0x10000, PG);
	/* asked to drop everything first, then moved */
	assert_int_equal(siommu_ioas_access_replace(h->acc, other), 0);
	assert_int_equal(h->calls, 1);
	assert_true(h->last_len == UINT64_MAX);
	assert_int_equal(siommu_ioas_get_info(other, &info), 0);
	assert_int_equal(info.accesses, 1);
	/* it now reaches the other IOAS's memory only */
	assert_int_equal(siommu_ioas_access_rw(h->acc, 0x10000, b, 1, 0), -ENOENT);
	assert_int_equal(siommu_ioas_destroy(other), -EBUSY);
	/* pins that stay: -EBUSY, nothing moved */
	holder_pin(s, 0x11000, PG);
	assert_int_equal(siommu_ioas_access_replace(s->acc, other), -EBUSY);
	assert_int_equal(siommu_ioas_access_rw(s->acc, 0x10000, b, 1, 0), 0);
	holder_unpin(s);
	assert_int_equal(siommu_ioas_access_replace(s->acc, f->ioas), 0);	/* no-op */
	assert_int_equal(siommu_ioas_access_replace(NULL, other), -EINVAL);
	assert_int_equal(siommu_ioas_access_replace(h->acc, f->ioas), 0);	/* back */
	assert_int_equal(siommu_ioas_destroy(other), 0);
	holder_free(h);
	holder_free(s);
}

/* A destroy from its own callback would wait for itself. */
static struct siommu_ioas_access *self_destroy_acc;
static int self_destroy_ret;

static void self_destroy_cb(void *opaque, uint64_t iova, uint64_t length)
{
	(void)iova;
	(void)length;
	self_destroy_ret = siommu_ioas_access_destroy(self_destroy_acc);
	thread_assert_int_equal(siommu_ioas_access_unpin(self_destroy_acc, 0x10000, PG), 0);
	(void)opaque;
}

static void test_ioas_access_destroy_from_callback_refused(void **state)
{
	struct fixture *f = *state;
	void *pages[1];

	map_fixed(f, 0x10000, f->buf, PG, RW);
	assert_int_equal(siommu_ioas_access_create(f->ioas, "selfd", self_destroy_cb, NULL, 0,
						   &self_destroy_acc), 0);
	assert_int_equal(siommu_ioas_access_pin(self_destroy_acc, 0x10000, PG, 0, pages), 0);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, PG, NULL), 0);
	assert_int_equal(self_destroy_ret, -EDEADLK);
	assert_int_equal(siommu_ioas_access_destroy(self_destroy_acc), 0);
}

/* ------------------------------------------------------------------ revocation */

static void test_ioas_access_revoke_asks_accesses(void **state)
{
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct siommu_mem_region *ram;
	struct siommu_iommu *iommu;
	struct siommu_ioas_layer *l;
	struct siommu_device *dev;
	struct siommu_domain *dom;
	struct fixture f = { 0 };
	struct holder *coop, *stuck;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_ioas_mem m;
	uint64_t iova = 0x10000;
	uint8_t b[4];

	(void)state;
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_mem_create(ctx, &mem), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x40000000, 8 * PG, &ram), 0);
	assert_int_equal(siommu_iommu_create(ctx, NULL, mem, &iommu), 0);
	assert_int_equal(siommu_device_create(iommu, SIOMMU_RID(0, 0, 1, 0), 0, 0, &dev), 0);
	assert_int_equal(siommu_ioas_layer_create(ctx, iommu, &l), 0);
	assert_int_equal(siommu_ioas_create(l, &f.ioas), 0);
	f.ctx = ctx;
	m = (struct siommu_ioas_mem){ .type = SIOMMU_IOAS_MEM_REGION, .mem = mem, .region = ram };
	assert_int_equal(siommu_ioas_map(f.ioas, &m, 4 * PG, RW | FIXED, &iova), 0);
	assert_int_equal(siommu_ioas_domain_alloc(f.ioas, &cfg, &dom), 0);
	assert_int_equal(siommu_device_attach(dev, dom), 0);
	coop = mkholder(&f, "coop", COOPERATE);
	stuck = mkholder(&f, "stuck", STUCK);
	holder_pin(coop, 0x10000, PG);
	holder_pin(stuck, 0x11000, PG);
	assert_int_equal(siommu_mem_region_revoke(ram), 0);
	assert_int_equal(coop->calls, 1);	/* asked, and let go */
	assert_true(stuck->calls >= 1);		/* asked; its pin is reported */
	assert_int_equal(coop->pin_len, 0);
	assert_int_not_equal(siommu_dma_read(dev, 0, 0x10000, b, 1), 0);
	/* the region's accesses fail at once */
	assert_int_equal(siommu_ioas_access_rw(stuck->acc, 0x11000, b, 1, 0), -ENODEV);
	holder_unpin(stuck);
	assert_int_equal(siommu_device_detach(dev), 0);
	assert_int_equal(siommu_ioas_domain_free(l, dom), 0);
	assert_int_equal(pinned_pages(&f), 0);
	holder_free(coop);
	holder_free(stuck);
	assert_int_equal(siommu_ioas_destroy(f.ioas), 0);
	assert_int_equal(siommu_mem_region_destroy(ram), 0);
	assert_int_equal(siommu_ioas_layer_destroy(l), 0);
	assert_int_equal(siommu_device_destroy(dev), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

/*
 * Revocation with NO domain attached (the core has no domain to tell): the
 * IOAS still hears of it through its own notifier on the memory map, asks
 * the pinning accesses to let go before the revoke returns, and names the
 * ones that did not.
 */
static void test_ioas_access_revoke_without_domain(void **state)
{
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
	struct siommu_mem_region *ram, *other;
	struct siommu_iommu *iommu;
	struct siommu_ioas_layer *l;
	struct fixture f = { 0 };
	struct holder *coop, *stuck, *bystander;
	struct siommu_ioas_mem m;
	uint64_t iova = 0x10000, iova2 = 0x80000;
	uint8_t b[4];

	(void)state;
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_mem_create(ctx, &mem), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x40000000, 8 * PG, &ram), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x50000000, 8 * PG, &other), 0);
	assert_int_equal(siommu_iommu_create(ctx, NULL, mem, &iommu), 0);
	assert_int_equal(siommu_ioas_layer_create(ctx, iommu, &l), 0);
	assert_int_equal(siommu_ioas_create(l, &f.ioas), 0);
	f.ctx = ctx;
	m = (struct siommu_ioas_mem){ .type = SIOMMU_IOAS_MEM_REGION, .mem = mem, .region = ram };
	assert_int_equal(siommu_ioas_map(f.ioas, &m, 4 * PG, RW | FIXED, &iova), 0);
	m.region = other;
	assert_int_equal(siommu_ioas_map(f.ioas, &m, 4 * PG, RW | FIXED, &iova2), 0);
	coop = mkholder(&f, "coop", COOPERATE);
	stuck = mkholder(&f, "stuck", STUCK);
	bystander = mkholder(&f, "bystander", COOPERATE);
	holder_pin(coop, 0x10000, 2 * PG);
	holder_pin(stuck, 0x12000, PG);
	holder_pin(bystander, 0x80000, PG);	/* another region: not asked */
	assert_int_equal(siommu_ioas_set_unmap_retries(f.ioas, 3), 0);
	assert_int_equal(siommu_mem_region_revoke(ram), 0);
	assert_int_equal(coop->calls, 1);	/* asked before the revoke returned */
	assert_int_equal(coop->pin_len, 0);
	assert_int_equal(coop->last_iova, 0x10000);
	assert_int_equal(coop->last_len, 4 * PG);
	/* asked in the first round, then in 3 more (the cooperative one's unpin was progress) */
	assert_int_equal(stuck->calls, 4);	/* its pin stays, reported */
	assert_int_equal(bystander->calls, 0);
	assert_int_equal(siommu_ioas_pin_holders(f.ioas, 0x10000, 4 * PG, NULL, 0), 1);
	assert_int_equal(siommu_ioas_access_rw(stuck->acc, 0x11000, b, 1, 0), -ENODEV);
	assert_int_equal(siommu_ioas_access_rw(bystander->acc, 0x80000, b, 1, 0), 0);
	holder_unpin(stuck);
	holder_unpin(bystander);
	assert_int_equal(pinned_pages(&f), 0);
	holder_free(coop);
	holder_free(stuck);
	holder_free(bystander);
	assert_int_equal(siommu_ioas_destroy(f.ioas), 0);
	assert_int_equal(siommu_mem_region_destroy(ram), 0);
	assert_int_equal(siommu_mem_region_destroy(other), 0);
	assert_int_equal(siommu_ioas_layer_destroy(l), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

static void test_ioas_access_bad_input(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_access *acc;
	struct siommu_ioas_access_info ai;
	uint32_t ids[1];

	assert_int_equal(siommu_ioas_access_create(NULL, "x", unmap_cb, NULL, 0, &acc), -EINVAL);
	assert_int_equal(siommu_ioas_access_create(f->ioas, "x", unmap_cb, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(siommu_ioas_access_destroy(NULL), 0);
	assert_int_equal(siommu_ioas_access_unpin(NULL, 0, PG), -EINVAL);
	assert_int_equal(siommu_ioas_access_rw(NULL, 0, ids, 1, 0), -EINVAL);
	assert_int_equal(siommu_ioas_access_get_info(NULL, &ai), -EINVAL);
	assert_int_equal(siommu_ioas_pin_holders(NULL, 0, PG, ids, 1), -EINVAL);
	assert_int_equal(siommu_ioas_pin_holders(f->ioas, 0, PG, NULL, 1), -EINVAL);
	assert_int_equal(siommu_ioas_pin_holders(f->ioas, 0, 0, ids, 1), -EINVAL);
	assert_int_equal(siommu_ioas_set_unmap_retries(f->ioas, 0), -EINVAL);
	assert_int_equal(siommu_ioas_set_unmap_retries(NULL, 5), -EINVAL);
	/* a long name is cut, not refused */
	assert_int_equal(siommu_ioas_access_create(f->ioas,
						   "a-very-long-access-name-of-more-than-31-bytes",
						   unmap_cb, NULL, 0, &acc), 0);
	assert_int_equal(siommu_ioas_access_get_info(acc, &ai), 0);
	assert_int_equal(strlen(ai.name), 31);
	siommu_read_lock();
	assert_int_equal(siommu_ioas_access_destroy(acc), -EDEADLK);
	siommu_read_unlock();
	assert_int_equal(siommu_ioas_access_destroy(acc), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ioas_access_pin_unpin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_access_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_access_shared_pages_pinned_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ioas_access_cooperative_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_access_stuck_unmap_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ioas_access_unrevocable_pin_busy_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ioas_access_callback_reenters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_access_area_gone_after_callback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ioas_access_destroy_asks_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_access_destroy_from_callback_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ioas_access_replace, setup, teardown),
		cmocka_unit_test(test_ioas_access_revoke_asks_accesses),
		cmocka_unit_test(test_ioas_access_revoke_without_domain),
		cmocka_unit_test_setup_teardown(test_ioas_access_bad_input, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
