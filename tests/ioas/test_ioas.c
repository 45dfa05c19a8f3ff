// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IOAS unit tests: areas, map/unmap/copy, IOVA ranges, allowed and reserved
 * ranges, domains filled and emptied through the core's attach protocol,
 * revocation of a region an IOAS maps, and bad input at every function.
 *
 * The iommufd selftests (tools/testing/selftests/iommu/iommufd.c) check
 * these IOAS behaviours, written here against this API:
 *  - ioas map at a fixed IOVA / an allocated IOVA, unmap returning the
 *    bytes; unmap of nothing (-ENOENT); unmap-all of an empty IOAS;
 *  - area_auto_iova: allocated IOVAs never overlap, are aligned;
 *  - map over an existing area (-EEXIST), length 0 / misaligned (-EINVAL),
 *    wrap (-EOVERFLOW), map_unmap of sub-ranges that cut an area (-ENOENT);
 *  - iova_ranges with a too-small array (-EMSGSIZE + count), after
 *    reservations, after allow_iovas;
 *  - allow_iovas: replaces the set, refuses overlap with reserved ranges
 *    (-EADDRINUSE), reservation inside the allowed set refused;
 *  - copy_area / copy_sweep: copy of a whole area and of sub-ranges,
 *    sharing the pages (here: one pages object, counted), copy of an
 *    unmapped range (-ENOENT), copy between two IOASes;
 *  - a domain attached after the mappings sees them, a map after attach is
 *    seen, unmap removes it, detach empties the table; an aperture too
 *    small for an area refuses attach;
 *  - memfd/file maps (IOMMU_IOAS_MAP_FILE): writable map of read-only
 *    memory (-EPERM), offset beyond the file (-EINVAL).
 * Access objects (pin/unpin/rw, unmap notification) are not built yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_common.h"
#include "grace_probe.h"

#include <softiommu/softiommu.h>

#define PG	4096ull
#define NPG	64
#define RID0	SIOMMU_RID(0, 0, 2, 0)
#define RW	(SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_WRITE)
#define FIXED	SIOMMU_IOAS_MAP_FIXED_IOVA

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
	struct siommu_ioas_layer *l;
	struct siommu_ioas *ioas;
	uint8_t *buf;			/* NPG pages */
};

static int fixture_init(struct fixture *f, const struct siommu_iommu_caps *caps,
			struct siommu_mem *mem)
{
	if (siommu_ctx_create(&f->ctx) ||
	    siommu_iommu_create(f->ctx, caps, mem, &f->iommu) ||
	    siommu_device_create(f->iommu, RID0, 0, 0, &f->dev) ||
	    siommu_ioas_layer_create(f->ctx, f->iommu, &f->l) ||
	    siommu_ioas_create(f->l, &f->ioas))
		return -1;
	f->buf = aligned_alloc(PG, NPG * PG);
	if (!f->buf)
		return -1;
	for (unsigned int i = 0; i < NPG * PG; i++)
		f->buf[i] = (uint8_t)(i / PG + 1);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || fixture_init(f, NULL, NULL))
		return -1;
	*state = f;
	return 0;
}

static void fixture_fini(struct fixture *f)
{
	assert_int_equal(siommu_ioas_destroy(f->ioas), 0);
	assert_int_equal(siommu_ioas_layer_destroy(f->l), 0);
	assert_int_equal(siommu_device_destroy(f->dev), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f->buf);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fixture_fini(f);
	free(f);
	return 0;
}

static struct siommu_ioas_mem host_mem(void *p)
{
	return (struct siommu_ioas_mem){ .type = SIOMMU_IOAS_MEM_HOST, .host = p };
}

static int map_fixed(struct fixture *f, uint64_t iova, void *p, uint64_t len,
		     unsigned int flags)
{
	struct siommu_ioas_mem m = host_mem(p);

	return siommu_ioas_map(f->ioas, &m, len, flags | FIXED, &iova);
}

static uint64_t nr_areas(struct siommu_ioas *ioas)
{
	struct siommu_ioas_info info;

	assert_int_equal(siommu_ioas_get_info(ioas, &info), 0);
	return info.areas;
}

static struct siommu_domain *mkdom(struct fixture *f)
{
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_domain *dom = NULL;

	assert_int_equal(siommu_ioas_domain_alloc(f->ioas, &cfg, &dom), 0);
	return dom;
}

static bool pt_mapped(struct siommu_domain *dom, uint64_t iova, uint64_t *pa)
{
	uint64_t x;

	return siommu_pt_iova_to_phys(siommu_domain_pt(dom), iova, pa ? pa : &x) == 0;
}

/* ------------------------------------------------------------------ map/unmap */

static void test_ioas_map_fixed_and_unmap(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_area_info ai;
	uint64_t bytes = 0;

	assert_int_equal(map_fixed(f, 0x100000, f->buf, 4 * PG, RW), 0);
	assert_int_equal(siommu_ioas_area_find(f->ioas, 0x100000 + PG, &ai), 0);
	assert_int_equal(ai.iova, 0x100000);
	assert_int_equal(ai.length, 4 * PG);
	assert_ptr_equal(ai.host, f->buf);
	assert_int_equal(ai.flags, RW);
	assert_int_equal(siommu_ioas_area_find(f->ioas, 0x100000 + 4 * PG, &ai), -ENOENT);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x100000, 4 * PG, &bytes), 0);
	assert_int_equal(bytes, 4 * PG);
	assert_int_equal(nr_areas(f->ioas), 0);
}

static void test_ioas_map_errors_change_nothing(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_mem m = host_mem(f->buf);
	uint64_t iova;

	assert_int_equal(map_fixed(f, 0x10000, f->buf, 2 * PG, RW), 0);
	/* length 0, misaligned length, IOVA, host address; no permission */
	assert_int_equal(map_fixed(f, 0x40000, f->buf, 0, RW), -EINVAL);
	assert_int_equal(map_fixed(f, 0x40000, f->buf, PG + 1, RW), -EINVAL);
	assert_int_equal(map_fixed(f, 0x40001, f->buf, PG, RW), -EINVAL);
	assert_int_equal(map_fixed(f, 0x40000, f->buf + 1, PG, RW), -EINVAL);
	assert_int_equal(map_fixed(f, 0x40000, f->buf, PG, 0), -EINVAL);
	assert_int_equal(map_fixed(f, 0x40000, f->buf, PG, RW | (1u << 7)), -EINVAL);
	/* over an existing area, also partly */
	assert_int_equal(map_fixed(f, 0x10000, f->buf, PG, RW), -EEXIST);
	assert_int_equal(map_fixed(f, 0xf000, f->buf, 2 * PG, RW), -EEXIST);
	/* wrap */
	assert_int_equal(map_fixed(f, UINT64_MAX - PG + 1, f->buf, 2 * PG, RW), -EOVERFLOW);
	/* read-only memory mapped writable */
	m.flags = SIOMMU_IOAS_MEM_READONLY;
	iova = 0x80000;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW | FIXED, &iova), -EPERM);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, SIOMMU_IOAS_MAP_READ | FIXED,
					 &iova), 0);
	assert_int_equal(siommu_ioas_unmap(f->ioas, iova, PG, NULL), 0);
	/* unknown type, flag */
	m.type = 77;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, &iova), -EINVAL);
	m = host_mem(f->buf);
	m.flags = 1u << 5;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, &iova), -EINVAL);
	/* reserved */
	assert_int_equal(siommu_ioas_reserve(f->ioas, 0x200000, 0x2fffff), 0);
	assert_int_equal(map_fixed(f, 0x2ff000, f->buf, 2 * PG, RW), -EINVAL);
	assert_int_equal(nr_areas(f->ioas), 1);
}

static void test_ioas_map_auto_iova(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_mem m = host_mem(f->buf);
	uint64_t a, b, c;

	assert_int_equal(siommu_ioas_reserve(f->ioas, 0, 0xfff), 0);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, 4 * PG, RW, &a), 0);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, 4 * PG, RW, &b), 0);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, &c), 0);
	assert_true(a >= PG && b >= PG && c >= PG);
	assert_true(a + 4 * PG <= b || b + 4 * PG <= a);
	assert_true(c + PG <= a || c >= a + 4 * PG);
	assert_true(c + PG <= b || c >= b + 4 * PG);
	assert_int_equal(a % PG, 0);
	assert_int_equal(nr_areas(f->ioas), 3);
}

static void test_ioas_map_no_room(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_range r = { 0x10000, 0x10000 + 4 * PG - 1 };
	struct siommu_ioas_mem m = host_mem(f->buf);
	uint64_t iova;

	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, &r, 1), 0);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, 8 * PG, RW, &iova), -ENOSPC);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, 3 * PG, RW, &iova), 0);
	assert_int_equal(iova, 0x10000);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, 2 * PG, RW, &iova), -ENOSPC);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, &iova), 0);
	assert_int_equal(iova, 0x10000 + 3 * PG);
	/* outside the allowed set at a fixed IOVA */
	assert_int_equal(map_fixed(f, 0x100000, f->buf, PG, RW), -EINVAL);
	assert_int_equal(nr_areas(f->ioas), 2);
}

static void test_ioas_unmap_rules(void **state)
{
	struct fixture *f = *state;
	uint64_t bytes = 7;

	/* unmap-all of an empty IOAS succeeds; unmap of nothing is -ENOENT */
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, &bytes), 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0, PG, NULL), -ENOENT);
	assert_int_equal(map_fixed(f, 0x10000, f->buf, 4 * PG, RW), 0);
	assert_int_equal(map_fixed(f, 0x20000, f->buf, 2 * PG, RW), 0);
	/* a range cutting an area: -ENOENT, nothing unmapped (not even others) */
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, PG, NULL), -ENOENT);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x11000, 0x20000, NULL), -ENOENT);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x0, 0x21000, NULL), -ENOENT);
	assert_int_equal(nr_areas(f->ioas), 2);
	/* bad arguments */
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, 0, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10001, PG, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, PG - 1, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_unmap(f->ioas, UINT64_MAX - PG + 1, 2 * PG, NULL),
			 -EOVERFLOW);
	/* a range covering both areas and the hole between: both go */
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x8000, 0x30000, &bytes), 0);
	assert_int_equal(bytes, 6 * PG);
	assert_int_equal(nr_areas(f->ioas), 0);
	assert_int_equal(map_fixed(f, 0x10000, f->buf, 4 * PG, RW), 0);
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, &bytes), 0);
	assert_int_equal(bytes, 4 * PG);
}

/* ------------------------------------------------------------------ copy */

static void test_ioas_copy_shares_pages(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_area_info ai;
	struct siommu_ioas_info info;
	struct siommu_ioas *other;
	uint64_t dst = 0x80000, bytes;

	assert_int_equal(map_fixed(f, 0x10000, f->buf, 8 * PG, RW), 0);
	/* a sub-range, at a fixed IOVA */
	assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, 0x12000, 2 * PG,
					  SIOMMU_IOAS_MAP_READ | FIXED), 0);
	assert_int_equal(siommu_ioas_area_find(f->ioas, dst, &ai), 0);
	assert_ptr_equal(ai.host, f->buf + 2 * PG);
	assert_int_equal(ai.length, 2 * PG);
	assert_int_equal(ai.pages_users, 2);
	assert_int_equal(siommu_ioas_get_info(f->ioas, &info), 0);
	assert_int_equal(info.areas, 2);
	assert_int_equal(info.pages_objects, 1);	/* pinned once */
	/* WRITE from a read-only area; a hole in the source; bad arguments */
	dst = 0xa0000;
	assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, 0x80000, PG, RW | FIXED),
			 -EPERM);
	assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, 0x17000, 2 * PG,
					  RW | FIXED), -ENOENT);
	assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, 0x12000, 0, RW), -EINVAL);
	assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, 0x12001, PG, RW), -EINVAL);
	assert_int_equal(siommu_ioas_copy(NULL, &dst, f->ioas, 0x12000, PG, RW), -EINVAL);
	/* over an area at the destination */
	dst = 0x10000;
	assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, 0x12000, PG, RW | FIXED),
			 -EEXIST);
	assert_int_equal(nr_areas(f->ioas), 2);
	/* into another IOAS, at an IOVA it chooses; survives the source's unmap */
	assert_int_equal(siommu_ioas_create(f->l, &other), 0);
	assert_int_equal(siommu_ioas_copy(other, &dst, f->ioas, 0x10000, 8 * PG, RW), 0);
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, &bytes), 0);
	assert_int_equal(bytes, 10 * PG);
	assert_int_equal(siommu_ioas_area_find(other, dst, &ai), 0);
	assert_int_equal(ai.pages_users, 1);
	assert_ptr_equal(ai.host, f->buf);
	assert_int_equal(siommu_ioas_destroy(other), 0);
}

static void test_ioas_copy_spans_areas(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_area_info ai;
	uint64_t dst = 0x100000;

	assert_int_equal(map_fixed(f, 0x10000, f->buf, 2 * PG, RW), 0);
	assert_int_equal(map_fixed(f, 0x12000, f->buf + 10 * PG, 2 * PG, RW), 0);
	assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, 0x11000, 2 * PG,
					  RW | FIXED), 0);
	assert_int_equal(siommu_ioas_area_find(f->ioas, dst, &ai), 0);
	assert_ptr_equal(ai.host, f->buf + PG);
	assert_int_equal(ai.length, PG);
	assert_int_equal(siommu_ioas_area_find(f->ioas, dst + PG, &ai), 0);
	assert_ptr_equal(ai.host, f->buf + 10 * PG);
	assert_int_equal(nr_areas(f->ioas), 4);
}

/* ------------------------------------------------------------------ ranges */

static void test_ioas_iova_ranges(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_range r[4];
	unsigned int n = 4;

	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].start, 0);
	assert_true(r[0].last == UINT64_MAX);
	assert_int_equal(siommu_ioas_reserve(f->ioas, 0x10000, 0x1ffff), 0);
	assert_int_equal(siommu_ioas_reserve(f->ioas, 0x18000, 0x2ffff), 0);	/* overlaps */
	assert_int_equal(siommu_ioas_reserve(f->ioas, 0x50000, 0x50fff), 0);
	n = 4;
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0xffff);
	assert_int_equal(r[1].start, 0x30000);
	assert_int_equal(r[1].last, 0x4ffff);
	assert_int_equal(r[2].start, 0x51000);
	/* too small: -EMSGSIZE with the count, the first ones filled */
	n = 1;
	memset(r, 0, sizeof(r));
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, &n), -EMSGSIZE);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].last, 0xffff);
	n = 0;
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, NULL, &n), -EMSGSIZE);
	assert_int_equal(n, 3);
	n = 1;
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, NULL, &n), -EINVAL);
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, NULL), -EINVAL);
	/* unreserve */
	assert_int_equal(siommu_ioas_unreserve(f->ioas, 0x50000, 0x50fff), 0);
	assert_int_equal(siommu_ioas_unreserve(f->ioas, 0x50000, 0x50fff), -ENOENT);
	n = 4;
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, &n), 0);
	assert_int_equal(n, 2);
	/* reservations: misaligned, reversed, over an area */
	assert_int_equal(siommu_ioas_reserve(f->ioas, 0x1, 0xfff), -EINVAL);
	assert_int_equal(siommu_ioas_reserve(f->ioas, 0x2000, 0x1fff), -EINVAL);
	assert_int_equal(map_fixed(f, 0x60000, f->buf, PG, RW), 0);
	assert_int_equal(siommu_ioas_reserve(f->ioas, 0x60000, 0x60fff), -EEXIST);
}

static void test_ioas_allow_iovas(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_range set[2] = { { 0x100000, 0x1fffff }, { 0x10000, 0x1ffff } };
	struct siommu_ioas_range r[4], bad;
	unsigned int n = 4;

	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, set, 2), 0);
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, 0x10000);
	assert_int_equal(r[1].last, 0x1fffff);
	/* a reservation inside the allowed set is refused */
	assert_int_equal(siommu_ioas_reserve(f->ioas, 0x100000, 0x100fff), -EADDRINUSE);
	assert_int_equal(siommu_ioas_reserve(f->ioas, 0x0, 0xfff), 0);
	/* an allowed range over a reservation is refused: old set stays */
	bad = (struct siommu_ioas_range){ 0x0, 0xffff };
	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, &bad, 1), -EADDRINUSE);
	n = 4;
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, &n), 0);
	assert_int_equal(n, 2);
	/* malformed sets */
	bad = (struct siommu_ioas_range){ 0x2000, 0x1fff };
	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, &bad, 1), -EINVAL);
	bad = (struct siommu_ioas_range){ 0x2000, 0x2ffe };
	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, &bad, 1), -EINVAL);
	set[1] = (struct siommu_ioas_range){ 0x1ff000, 0x2fffff };	/* overlap */
	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, set, 2), -EINVAL);
	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, NULL, 1), -EINVAL);
	/* an area that would fall outside the new set */
	assert_int_equal(map_fixed(f, 0x10000, f->buf, PG, RW), 0);
	bad = (struct siommu_ioas_range){ 0x100000, 0x1fffff };
	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, &bad, 1), -EADDRINUSE);
	/* n = 0: everything allowed again (minus the reservation) */
	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, NULL, 0), 0);
	n = 4;
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].start, 0x1000);
}

/*
 * Adjacent allowed ranges allow what they cover together ("an area would
 * fall outside the set", "a not allowed IOVA range"): a map across their
 * boundary, fixed or chosen, is allowed, and iova_ranges lists one range.
 * (They were kept apart: a fixed map across the boundary was -EINVAL, a
 * chosen one that fits only across it -ENOSPC, and a set whose boundary an
 * area crosses -EADDRINUSE.)
 */
static void test_ioas_allow_iovas_adjacent(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_range set[2] = { { 0x20000, 0x2ffff }, { 0x10000, 0x1ffff } };
	struct siommu_ioas_range r[4];
	struct siommu_ioas_mem m = host_mem(f->buf);
	unsigned int n = 4;
	uint64_t iova = 0, bytes = 0;

	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, set, 2), 0);
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].start, 0x10000);
	assert_int_equal(r[0].last, 0x2ffff);
	/* a map the IOAS places: fits only across the boundary */
	assert_int_equal(siommu_ioas_map(f->ioas, &m, 0x18000, RW, &iova), 0);
	assert_int_equal(iova, 0x10000);
	assert_int_equal(siommu_ioas_unmap(f->ioas, iova, 0x18000, &bytes), 0);
	/* a fixed map across the boundary */
	assert_int_equal(map_fixed(f, 0x1f000, f->buf, 2 * PG, RW), 0);
	/* the same set again, with that area across its boundary */
	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, set, 2), 0);
	n = 4;
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, r, &n), 0);
	assert_int_equal(n, 1);
}

/* ------------------------------------------------------------------ memfd, file */

static int mkmemfd(uint64_t len)
{
	int fd = memfd_create("ioas-test", MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	return fd;
}

static void test_ioas_memfd_and_file(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_MEMFD };
	struct siommu_ioas_area_info ai;
	char path[64];
	uint64_t iova;
	int fd = mkmemfd(8 * PG), ro;

	m.fd = fd;
	m.offset = 2 * PG;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, 4 * PG, RW, &iova), 0);
	assert_int_equal(siommu_ioas_area_find(f->ioas, iova, &ai), 0);
	assert_int_equal(pwrite(fd, "memfd!", 6, 2 * PG), 6);
	assert_memory_equal(ai.host, "memfd!", 6);	/* the same pages */
	/* the caller closes its descriptor: the area's memory stays */
	assert_int_equal(close(fd), 0);
	memcpy(ai.host, "still", 5);
	assert_int_equal(siommu_ioas_unmap(f->ioas, iova, 4 * PG, NULL), 0);

	/* beyond the end, misaligned offset, bad descriptor, not a memfd */
	fd = mkmemfd(8 * PG);
	m.fd = fd;
	m.offset = 6 * PG;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, 4 * PG, RW, &iova), -EINVAL);
	m.offset = 100;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, &iova), -EINVAL);
	m.offset = UINT64_MAX - PG + 1;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, 2 * PG, RW, &iova), -EOVERFLOW);
	m.offset = 0;
	m.fd = -1;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, &iova), -EBADF);
	/* a write-sealed memfd is read-only memory */
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	m.fd = fd;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, &iova), -EPERM);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, SIOMMU_IOAS_MAP_READ, &iova), 0);
	assert_int_equal(siommu_ioas_unmap(f->ioas, iova, PG, NULL), 0);

	/* FILE opened read-only (the same memfd reopened through /proc) */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	assert_true(ro >= 0);
	m = (struct siommu_ioas_mem){ .type = SIOMMU_IOAS_MEM_FILE, .fd = ro };
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, &iova), -EPERM);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, SIOMMU_IOAS_MAP_READ, &iova), 0);
	/* a pipe is no file */
	{
		int p[2];

		assert_int_equal(pipe(p), 0);
		m.fd = p[0];
		assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, SIOMMU_IOAS_MAP_READ,
						 &iova), -EINVAL);
		close(p[0]);
		close(p[1]);
	}
	close(ro);
	close(fd);
}

/* ------------------------------------------------------------------ domains */

static void test_ioas_domain_filled_on_attach(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_info info;
	struct siommu_domain *dom;
	uint8_t got[16];
	uint64_t pa;

	assert_int_equal(map_fixed(f, 0x10000, f->buf, 4 * PG, RW), 0);
	dom = mkdom(f);
	assert_false(pt_mapped(dom, 0x10000, NULL));	/* filled on attach, not before */
	assert_int_equal(siommu_device_attach(f->dev, dom), 0);
	assert_true(pt_mapped(dom, 0x11000, &pa));
	assert_int_equal(pa, (uint64_t)(uintptr_t)(f->buf + PG));
	assert_int_equal(siommu_dma_read(f->dev, 0, 0x12000, got, sizeof(got)), 0);
	assert_memory_equal(got, f->buf + 2 * PG, sizeof(got));
	/* a map after attach is seen; a write lands in the memory */
	assert_int_equal(map_fixed(f, 0x40000, f->buf + 8 * PG, PG, RW), 0);
	assert_int_equal(siommu_dma_write(f->dev, 0, 0x40010, "dma", 3), 0);
	assert_memory_equal(f->buf + 8 * PG + 0x10, "dma", 3);
	/* read-only area: a DMA write faults */
	assert_int_equal(map_fixed(f, 0x50000, f->buf, PG, SIOMMU_IOAS_MAP_READ), 0);
	assert_int_equal(siommu_dma_write(f->dev, 0, 0x50000, "x", 1), -EACCES);
	/* a copy is seen */
	{
		uint64_t dst = 0x60000;

		assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, 0x10000, PG,
						  SIOMMU_IOAS_MAP_READ | FIXED), 0);
		assert_true(pt_mapped(dom, 0x60000, &pa));
		assert_int_equal(pa, (uint64_t)(uintptr_t)f->buf);
	}
	/* unmap removes it from the table */
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x40000, PG, NULL), 0);
	assert_false(pt_mapped(dom, 0x40000, NULL));
	assert_int_equal(siommu_dma_read(f->dev, 0, 0x40000, got, 1), -ENOENT);
	assert_int_equal(siommu_ioas_get_info(f->ioas, &info), 0);
	assert_int_equal(info.domains, 1);
	assert_int_equal(info.domains_filled, 1);
	/* busy: domain attached, IOAS with a domain, layer with an IOAS */
	assert_int_equal(siommu_ioas_domain_free(f->l, dom), -EBUSY);
	assert_int_equal(siommu_ioas_destroy(f->ioas), -EBUSY);
	assert_int_equal(siommu_ioas_layer_destroy(f->l), -EBUSY);
	/* detach empties what the IOAS put there */
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_false(pt_mapped(dom, 0x10000, NULL));
	assert_false(pt_mapped(dom, 0x60000, NULL));
	assert_int_equal(siommu_ioas_get_info(f->ioas, &info), 0);
	assert_int_equal(info.domains_filled, 0);
	/* attached again: filled again */
	assert_int_equal(siommu_device_attach(f->dev, dom), 0);
	assert_true(pt_mapped(dom, 0x10000, NULL));
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, dom), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, NULL), 0);
}

/*
 * The layer's commit matters only when the old domain is an IOAS domain
 * (its last user empties it): the detach of a plain domain on an IOMMU
 * with an IOAS layer waits no grace period (it returns while a reader is
 * inside a section); the detach of an IOAS domain still does, then empties
 * the domain's table.
 */
static int detach_fn(void *dev)
{
	return siommu_device_detach(dev);
}

static void test_ioas_layer_skips_plain_domains(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_domain *plain, *dom;
	int ret;

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &plain), 0);
	assert_int_equal(siommu_device_attach(f->dev, plain), 0);
	assert_false(gp_probe_waits(detach_fn, f->dev, &ret));
	assert_int_equal(ret, 0);
	assert_null(siommu_device_domain(f->dev, SIOMMU_NO_PASID));

	assert_int_equal(map_fixed(f, 0x10000, f->buf, PG, RW), 0);
	dom = mkdom(f);
	/* plain -> IOAS domain: the old one is not the layer's, no wait either */
	assert_int_equal(siommu_device_attach(f->dev, plain), 0);
	assert_int_equal(siommu_device_replace(f->dev, dom), 0);
	assert_true(pt_mapped(dom, 0x10000, NULL));
	assert_true(gp_probe_waits(detach_fn, f->dev, &ret));
	assert_int_equal(ret, 0);
	assert_false(pt_mapped(dom, 0x10000, NULL));	/* emptied by the commit */
	assert_int_equal(siommu_ioas_domain_free(f->l, dom), 0);
	assert_int_equal(siommu_domain_destroy(plain), 0);
}

/*
 * An IOAS domain gets the table pool it asks for (siommu_domain_cfg's
 * max_table_pages): a map that would need a table page beyond it, while the
 * domain is attached, fails with -ENOMEM and leaves the IOAS as it was.
 */
static void test_ioas_domain_table_pool_size(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64, .max_table_pages = 4 };
	struct siommu_pt_info pi;
	struct siommu_domain *dom;

	assert_int_equal(siommu_ioas_domain_alloc(f->ioas, &cfg, &dom), 0);
	assert_int_equal(siommu_pt_get_info(siommu_domain_pt(dom), &pi), 0);
	assert_int_equal(pi.max_table_pages, 4);
	assert_int_equal(map_fixed(f, 0x10000, f->buf, 2 * PG, RW), 0);
	assert_int_equal(siommu_device_attach(f->dev, dom), 0);	/* root, PDPT, PD, PT */
	assert_true(pt_mapped(dom, 0x11000, NULL));
	assert_int_equal(map_fixed(f, 1ull << 30, f->buf, PG, RW), -ENOMEM);
	assert_int_equal(nr_areas(f->ioas), 1);
	assert_false(pt_mapped(dom, 1ull << 30, NULL));
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, dom), 0);
	cfg.max_table_pages = (1ull << 26) + 1;
	assert_int_equal(siommu_ioas_domain_alloc(f->ioas, &cfg, &dom), -EINVAL);
}

static void test_ioas_replace_between_domains(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *a, *b;

	assert_int_equal(map_fixed(f, 0x10000, f->buf, PG, RW), 0);
	a = mkdom(f);
	b = mkdom(f);
	assert_int_equal(siommu_device_attach(f->dev, a), 0);
	assert_int_equal(siommu_device_replace(f->dev, b), 0);
	assert_true(pt_mapped(b, 0x10000, NULL));
	assert_false(pt_mapped(a, 0x10000, NULL));	/* emptied after its last user */
	assert_int_equal(map_fixed(f, 0x20000, f->buf, PG, RW), 0);
	assert_true(pt_mapped(b, 0x20000, NULL));
	assert_false(pt_mapped(a, 0x20000, NULL));
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, a), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, b), 0);
}

static void test_ioas_attach_refused_when_aperture_too_small(void **state)
{
	struct siommu_iommu_caps caps = { .ias_lg2 = 32 };
	struct fixture f = { 0 };
	struct siommu_ioas_range r[4];
	struct siommu_domain *dom;
	unsigned int n = 4;

	(void)state;
	assert_int_equal(fixture_init(&f, &caps, NULL), 0);
	assert_int_equal(map_fixed(&f, 1ull << 33, f.buf, PG, RW), 0);
	assert_int_equal(map_fixed(&f, 0x10000, f.buf, PG, RW), 0);
	dom = mkdom(&f);
	assert_int_equal(siommu_device_attach(f.dev, dom), -ENOSPC);
	assert_null(siommu_device_domain(f.dev, SIOMMU_NO_PASID));
	assert_false(pt_mapped(dom, 0x10000, NULL));	/* nothing changed */
	assert_int_equal(siommu_ioas_unmap(f.ioas, 1ull << 33, PG, NULL), 0);
	assert_int_equal(siommu_device_attach(f.dev, dom), 0);
	assert_true(pt_mapped(dom, 0x10000, NULL));
	/* while it is attached, beyond its aperture is reserved */
	assert_int_equal(map_fixed(&f, 1ull << 33, f.buf, PG, RW), -EINVAL);
	assert_int_equal(siommu_ioas_iova_ranges(f.ioas, r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].last, (1ull << 32) - 1);
	assert_int_equal(siommu_device_detach(f.dev), 0);
	n = 4;
	assert_int_equal(siommu_ioas_iova_ranges(f.ioas, r, &n), 0);
	assert_true(r[0].last == UINT64_MAX);
	assert_int_equal(siommu_ioas_domain_free(f.l, dom), 0);
	fixture_fini(&f);
}

/* A domain's map failing while the IOAS maps: the area is not made. */
static void test_ioas_map_rolls_back_domain_error(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain *dom;

	dom = mkdom(f);
	assert_int_equal(siommu_device_attach(f->dev, dom), 0);
	/* the domain refuses an output address beyond its width (52 bits) */
	{
		struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST,
					     .host = (void *)(uintptr_t)(1ull << 60) };
		uint64_t iova = 0x10000;

		assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW | FIXED, &iova), -ERANGE);
	}
	assert_int_equal(nr_areas(f->ioas), 0);
	assert_false(pt_mapped(dom, 0x10000, NULL));
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, dom), 0);
}

static void test_ioas_domain_alloc_errors(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_IDENTITY };
	struct siommu_domain *dom = NULL, *plain;

	assert_int_equal(siommu_ioas_domain_alloc(f->ioas, &cfg, &dom), -EINVAL);
	assert_int_equal(siommu_ioas_domain_alloc(NULL, &cfg, &dom), -EINVAL);
	assert_int_equal(siommu_ioas_domain_alloc(f->ioas, NULL, &dom), -EINVAL);
	cfg.type = SIOMMU_DOMAIN_PAGING;
	cfg.fmt = 99;
	assert_int_equal(siommu_ioas_domain_alloc(f->ioas, &cfg, &dom), -EINVAL);
	assert_null(dom);
	/* a domain the IOAS does not own: free refuses it; attach is untouched */
	cfg.fmt = SIOMMU_PT_FMT_X86_64;
	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &plain), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, plain), -EINVAL);
	assert_int_equal(siommu_device_attach(f->dev, plain), 0);
	assert_int_equal(siommu_device_detach(f->dev), 0);
	assert_int_equal(siommu_domain_destroy(plain), 0);
}

/* ------------------------------------------------------------------ revocation */

static void test_ioas_revoke_tears_down_domains(void **state)
{
	struct fixture f = { 0 };
	struct siommu_ctx *mctx;
	struct siommu_mem *mem;
	struct siommu_mem_region *ram;
	struct siommu_ioas_area_info ai;
	struct siommu_ioas_mem m;
	struct siommu_domain *dom;
	uint64_t iova = 0x10000;
	uint8_t got[8];

	(void)state;
	assert_int_equal(siommu_ctx_create(&mctx), 0);
	assert_int_equal(siommu_mem_create(mctx, &mem), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x80000000, 16 * PG, &ram), 0);
	assert_int_equal(fixture_init(&f, NULL, mem), 0);
	m = (struct siommu_ioas_mem){ .type = SIOMMU_IOAS_MEM_REGION, .mem = mem,
				      .region = ram, .offset = 4 * PG };
	assert_int_equal(siommu_ioas_map(f.ioas, &m, 4 * PG, RW | FIXED, &iova), 0);
	assert_int_equal(siommu_ioas_area_find(f.ioas, iova, &ai), 0);
	assert_int_equal(ai.pa, 0x80000000 + 4 * PG);
	memcpy(ai.host, "region", 6);
	dom = mkdom(&f);
	assert_int_equal(siommu_device_attach(f.dev, dom), 0);
	assert_int_equal(siommu_dma_read(f.dev, 0, iova, got, 6), 0);
	assert_memory_equal(got, "region", 6);
	/* the region is in use: destroy refused */
	assert_int_equal(siommu_mem_region_destroy(ram), -EBUSY);
	/* beyond the region, MMIO-less checks */
	m.offset = 14 * PG;
	assert_int_equal(siommu_ioas_map(f.ioas, &m, 4 * PG, RW, &iova), -EINVAL);
	m.offset = 4 * PG;
	iova = 0x10000;

	assert_int_equal(siommu_mem_region_revoke(ram), 0);
	assert_false(pt_mapped(dom, iova, NULL));
	assert_int_not_equal(siommu_dma_read(f.dev, 0, iova, got, 1), 0);
	assert_int_equal(siommu_ioas_area_find(f.ioas, iova, &ai), 0);
	assert_true(ai.revoked);
	/* new maps of a revoked region are refused */
	assert_int_equal(siommu_ioas_map(f.ioas, &m, PG, RW, &iova), -ENODEV);
	/* and so are copies of the revoked area (fuzz_api found them accepted) */
	{
		struct siommu_ioas_info before, after;
		uint64_t dst = 0;

		assert_int_equal(siommu_ioas_get_info(f.ioas, &before), 0);
		assert_int_equal(siommu_ioas_copy(f.ioas, &dst, f.ioas, 0x10000, 4 * PG, RW),
				 -ENODEV);
		assert_int_equal(siommu_ioas_copy(f.ioas, &dst, f.ioas, 0x11000, PG,
						  SIOMMU_IOAS_MAP_READ), -ENODEV);
		assert_int_equal(siommu_ioas_get_info(f.ioas, &after), 0);
		assert_int_equal(after.areas, before.areas);
		assert_int_equal(after.pages_objects, before.pages_objects);
	}
	iova = 0x10000;
	/* the area is not put back by a later fill */
	assert_int_equal(siommu_device_detach(f.dev), 0);
	assert_int_equal(siommu_device_attach(f.dev, dom), 0);
	assert_false(pt_mapped(dom, 0x10000, NULL));
	assert_int_equal(siommu_device_detach(f.dev), 0);
	assert_int_equal(siommu_ioas_unmap(f.ioas, 0x10000, 4 * PG, NULL), 0);
	assert_int_equal(siommu_mem_region_destroy(ram), 0);
	assert_int_equal(siommu_ioas_domain_free(f.l, dom), 0);
	fixture_fini(&f);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_ctx_destroy(mctx), 0);
}

/* ------------------------------------------------------------------ bad input */

static void test_ioas_bad_input(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_mem m = host_mem(f->buf);
	struct siommu_ioas_area_info ai;
	struct siommu_ioas_info info;
	struct siommu_ioas *ioas;
	struct siommu_ioas_layer *l;
	uint64_t iova = 0;

	assert_int_equal(siommu_ioas_layer_create(NULL, f->iommu, &l), -EINVAL);
	assert_int_equal(siommu_ioas_layer_create(f->ctx, NULL, &l), -EINVAL);
	assert_int_equal(siommu_ioas_layer_create(f->ctx, f->iommu, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_layer_destroy(NULL), 0);
	assert_int_equal(siommu_ioas_create(NULL, &ioas), -EINVAL);
	assert_int_equal(siommu_ioas_create(f->l, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_destroy(NULL), 0);
	assert_int_equal(siommu_ioas_map(NULL, &m, PG, RW, &iova), -EINVAL);
	assert_int_equal(siommu_ioas_map(f->ioas, NULL, PG, RW, &iova), -EINVAL);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, NULL), -EINVAL);
	m.host = NULL;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, &iova), -EINVAL);
	assert_int_equal(siommu_ioas_unmap(NULL, 0, PG, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_unmap_all(NULL, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_reserve(NULL, 0, PG - 1), -EINVAL);
	assert_int_equal(siommu_ioas_unreserve(NULL, 0, PG - 1), -EINVAL);
	assert_int_equal(siommu_ioas_allow_iovas(NULL, NULL, 0), -EINVAL);
	assert_int_equal(siommu_ioas_iova_ranges(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_get_info(NULL, &info), -EINVAL);
	assert_int_equal(siommu_ioas_get_info(f->ioas, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_area_find(NULL, 0, &ai), -EINVAL);
	assert_int_equal(siommu_ioas_area_find(f->ioas, 0, NULL), -EINVAL);
	assert_int_equal(siommu_ioas_domain_free(NULL, (struct siommu_domain *)f), -EINVAL);
	/* inside a read-side section every lock-taking call is refused */
	siommu_read_lock();
	m.host = f->buf;
	assert_int_equal(siommu_ioas_map(f->ioas, &m, PG, RW, &iova), -EDEADLK);
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, NULL), -EDEADLK);
	assert_int_equal(siommu_ioas_destroy(f->ioas), -EDEADLK);
	assert_int_equal(siommu_ioas_get_info(f->ioas, &info), -EDEADLK);
	siommu_read_unlock();
	assert_int_equal(nr_areas(f->ioas), 0);
}

/* Every call from a thread the library has never seen. */
static void *fresh_thread(void *arg)
{
	struct fixture *f = arg;
	uint64_t iova, bytes = 0;
	struct siommu_ioas_mem m = host_mem(f->buf);

	thread_assert_int_equal(siommu_ioas_map(f->ioas, &m, 2 * PG, RW, &iova), 0);
	thread_assert_int_equal(siommu_ioas_unmap(f->ioas, iova, 2 * PG, &bytes), 0);
	thread_assert_int_equal(bytes, 2 * PG);
	return NULL;
}

static void test_ioas_from_fresh_thread(void **state)
{
	void *args[1] = { *state };

	test_run_threads(1, fresh_thread, args);
	assert_int_equal(nr_areas(((struct fixture *)*state)->ioas), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ioas_map_fixed_and_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_map_errors_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_map_auto_iova, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_map_no_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_unmap_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_copy_shares_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_copy_spans_areas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_iova_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_allow_iovas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_allow_iovas_adjacent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_memfd_and_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_domain_filled_on_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_domain_table_pool_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_replace_between_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_layer_skips_plain_domains, setup, teardown),
		cmocka_unit_test(test_ioas_attach_refused_when_aperture_too_small),
		cmocka_unit_test_setup_teardown(test_ioas_map_rolls_back_domain_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_domain_alloc_errors, setup, teardown),
		cmocka_unit_test(test_ioas_revoke_tears_down_domains),
		cmocka_unit_test_setup_teardown(test_ioas_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_from_fresh_thread, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
