// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ioas API's edges (what test_ioas.c and test_ioas_access.c do not
 * reach), each answer the one include/softiommu/ioas.h documents and
 * nothing changed:
 *  - every call that takes the IOAS's lock or waits, made inside a
 *    read-side section: -EDEADLK;
 *  - memfd / file maps: not a memfd, not a regular file, a descriptor
 *    that is not open, write-only, misaligned or wrapping offsets, a
 *    write-sealed memfd mapped for writing;
 *  - region maps: no map or region, an MMIO region, a misaligned offset,
 *    wrapping or past the region's end, a region of another memory map, a
 *    revoked region;
 *  - IOVA allocation with no room: the allowed range at the top of the
 *    space, too small once aligned, or ending in an area;
 *  - a copy whose source range wraps;
 *  - a map into two filled domains that the second refuses: the first
 *    has it unmapped again;
 *  - an attach of a domain whose page sizes cannot hold an area.
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

#include <softiommu/softiommu.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS	1033
#define F_SEAL_WRITE	0x0008
#endif

#define PG	4096ull
#define SZ_2M	(2ull << 20)
#define RID0	SIOMMU_RID(0, 0, 5, 0)
#define RID1	SIOMMU_RID(0, 0, 6, 0)
#define RW	(SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_WRITE)
#define FIXED	SIOMMU_IOAS_MAP_FIXED_IOVA

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev0, *dev1;
	struct siommu_ioas_layer *l;
	struct siommu_ioas *ioas;
	uint8_t *buf;			/* 16 pages */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx) ||
	    siommu_iommu_create(f->ctx, NULL, NULL, &f->iommu) ||
	    siommu_device_create(f->iommu, RID0, 0, 0, &f->dev0) ||
	    siommu_device_create(f->iommu, RID1, 0, 0, &f->dev1) ||
	    siommu_ioas_layer_create(f->ctx, f->iommu, &f->l) ||
	    siommu_ioas_create(f->l, &f->ioas))
		return -1;
	f->buf = aligned_alloc(PG, 16 * PG);
	if (!f->buf)
		return -1;
	memset(f->buf, 0x5a, 16 * PG);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

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

static struct siommu_ioas_mem host_mem(void *p)
{
	return (struct siommu_ioas_mem){ .type = SIOMMU_IOAS_MEM_HOST, .host = p };
}

static int map_at(struct fixture *f, const struct siommu_ioas_mem *m, uint64_t iova,
		  uint64_t len, unsigned int flags)
{
	return siommu_ioas_map(f->ioas, m, len, flags | FIXED, &iova);
}

static struct siommu_ioas_info info(struct fixture *f)
{
	struct siommu_ioas_info i;

	assert_int_equal(siommu_ioas_get_info(f->ioas, &i), 0);
	return i;
}

static void unmap_cb(void *opaque, uint64_t iova, uint64_t length)
{
	(void)opaque;
	(void)iova;
	(void)length;
}

/* Every call that takes the IOAS's lock (or may wait), in a read-side section: -EDEADLK. */
static void test_ioas_api_in_read_section(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_mem m = host_mem(f->buf);
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_ioas_range r = { 0x100000, 0x1fffff }, out[4];
	struct siommu_ioas_access_info ai;
	struct siommu_ioas_area_info area;
	struct siommu_ioas_access *acc, *acc2 = NULL;
	struct siommu_ioas_layer *l2 = NULL;
	struct siommu_ioas *other;
	struct siommu_domain *dom, *dom2 = NULL;
	struct siommu_ioas_info before, after;
	uint64_t dst = 0x40000, v = 0;
	unsigned int n = 4;
	uint32_t ids[2];
	void *pages[1];

	assert_int_equal(map_at(f, &m, 0x10000, 4 * PG, RW), 0);
	assert_int_equal(siommu_ioas_create(f->l, &other), 0);
	assert_int_equal(siommu_ioas_access_create(f->ioas, "a", unmap_cb, f, 0, &acc), 0);
	assert_int_equal(siommu_ioas_access_pin(acc, 0x10000, PG, 0, pages), 0);
	assert_int_equal(siommu_ioas_domain_alloc(f->ioas, &cfg, &dom), 0);
	before = info(f);

	siommu_read_lock();
	assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, 0x10000, PG, RW | FIXED),
			 -EDEADLK);
	assert_int_equal(siommu_ioas_unmap(f->ioas, 0x10000, PG, NULL), -EDEADLK);
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, out, &n), -EDEADLK);
	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, &r, 1), -EDEADLK);
	assert_int_equal(siommu_ioas_reserve(f->ioas, 0x800000, 0x8fffff), -EDEADLK);
	assert_int_equal(siommu_ioas_unreserve(f->ioas, 0x800000, 0x8fffff), -EDEADLK);
	assert_int_equal(siommu_ioas_area_find(f->ioas, 0x10000, &area), -EDEADLK);
	assert_int_equal(siommu_ioas_access_create(f->ioas, "b", unmap_cb, f, 0, &acc2), -EDEADLK);
	assert_int_equal(siommu_ioas_access_replace(acc, other), -EDEADLK);
	assert_int_equal(siommu_ioas_access_pin(acc, 0x11000, PG, 0, pages), -EDEADLK);
	assert_int_equal(siommu_ioas_access_unpin(acc, 0x10000, PG), -EDEADLK);
	assert_int_equal(siommu_ioas_access_rw(acc, 0x10000, &v, 8, 0), -EDEADLK);
	assert_int_equal(siommu_ioas_access_get_info(acc, &ai), -EDEADLK);
	assert_int_equal(siommu_ioas_pin_holders(f->ioas, 0x10000, PG, ids, 2), -EDEADLK);
	assert_int_equal(siommu_ioas_layer_create(f->ctx, f->iommu, &l2), -EDEADLK);
	assert_int_equal(siommu_ioas_layer_destroy(f->l), -EDEADLK);
	assert_int_equal(siommu_ioas_domain_alloc(f->ioas, &cfg, &dom2), -EDEADLK);
	assert_int_equal(siommu_ioas_domain_free(f->l, dom), -EDEADLK);
	siommu_read_unlock();
	assert_null(acc2);
	assert_null(l2);
	assert_null(dom2);

	/* nothing changed */
	after = info(f);
	assert_int_equal(after.areas, before.areas);
	assert_int_equal(after.mapped_bytes, before.mapped_bytes);
	assert_int_equal(after.domains, before.domains);
	assert_int_equal(after.domains_filled, before.domains_filled);
	assert_int_equal(after.pages_objects, before.pages_objects);
	assert_int_equal(after.accesses, before.accesses);
	assert_int_equal(after.pinned_pages, before.pinned_pages);
	assert_int_equal(siommu_ioas_access_get_info(acc, &ai), 0);
	assert_int_equal(ai.pins, 1);
	assert_int_equal(siommu_ioas_pin_holders(f->ioas, 0x10000, PG, ids, 2), 1);
	assert_int_equal(siommu_ioas_area_find(f->ioas, 0x10000, &area), 0);
	assert_int_equal(area.length, 4 * PG);
	assert_int_equal(siommu_ioas_iova_ranges(f->ioas, out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].start, 0);
	assert_int_equal(out[0].last, UINT64_MAX);
	assert_int_equal(siommu_ioas_area_find(f->ioas, 0x40000, &area), -ENOENT);

	assert_int_equal(siommu_ioas_access_unpin(acc, 0x10000, PG), 0);
	assert_int_equal(siommu_ioas_access_destroy(acc), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, dom), 0);
	assert_int_equal(siommu_ioas_destroy(other), 0);
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, NULL), 0);
}

/* memfd and file maps refused for the descriptor, its mode, seals or offsets. */
static void test_ioas_map_fd_errors(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_MEMFD };
	char path[] = "/tmp/softiommu-ioas-api-XXXXXX";
	int mfd = memfd_create("ioas-api", MFD_ALLOW_SEALING), file, wo, closed, pipes[2];

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 8 * PG), 0);
	file = mkstemp(path);
	assert_true(file >= 0);
	assert_int_equal(ftruncate(file, 8 * PG), 0);
	wo = open(path, O_WRONLY);
	assert_true(wo >= 0);
	unlink(path);
	assert_int_equal(pipe(pipes), 0);
	closed = dup(mfd);
	close(closed);		/* (after the pipe: its number stays free) */

	m.fd = -1;
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -EBADF);
	m.fd = closed;
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -EBADF);
	m.fd = pipes[0];		/* not a regular file */
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -EINVAL);
	m.fd = file;			/* a regular file, but not a memfd */
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -EINVAL);
	m.type = SIOMMU_IOAS_MEM_FILE;
	m.fd = wo;			/* devices could not even read it */
	assert_int_equal(map_at(f, &m, 0x10000, PG, SIOMMU_IOAS_MAP_READ), -EPERM);
	m.fd = file;
	m.offset = 100;
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -EINVAL);
	m.offset = UINT64_MAX & ~(PG - 1);
	assert_int_equal(map_at(f, &m, 0x10000, 2 * PG, RW), -EOVERFLOW);
	m.offset = 0;
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), 0);	/* the file itself is fine */
	assert_int_equal(info(f).areas, 1);

	/* a write-sealed memfd: readable, not writable */
	assert_int_equal(fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	m.type = SIOMMU_IOAS_MEM_MEMFD;
	m.fd = mfd;
	assert_int_equal(map_at(f, &m, 0x20000, PG, RW), -EPERM);
	assert_int_equal(info(f).areas, 1);
	assert_int_equal(map_at(f, &m, 0x20000, PG, SIOMMU_IOAS_MAP_READ), 0);
	assert_int_equal(info(f).areas, 2);
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, NULL), 0);
	close(mfd);
	close(file);
	close(wo);
	close(pipes[0]);
	close(pipes[1]);
}

static int mmio_read(void *opaque, uint64_t off, unsigned int size, uint64_t *val)
{
	(void)opaque;
	(void)off;
	(void)size;
	*val = 0;
	return 0;
}

static int mmio_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	(void)opaque;
	(void)off;
	(void)size;
	(void)val;
	return 0;
}

static const struct siommu_mem_mmio_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

/* Region maps refused: what, where and whose. */
static void test_ioas_map_region_errors(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem *mem, *mem2;
	struct siommu_mem_region *ram, *io, *ram2, *gone;
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_REGION };
	struct siommu_ioas *main_ioas = f->ioas;

	/* an IOAS of its own: it watches the memory maps until it is destroyed */
	assert_int_equal(siommu_ioas_create(f->l, &f->ioas), 0);

	assert_int_equal(siommu_mem_create(f->ctx, &mem), 0);
	assert_int_equal(siommu_mem_create(f->ctx, &mem2), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x100000, 8 * PG, &ram), 0);
	assert_int_equal(siommu_mem_add_mmio(mem, 0x200000, PG, &mmio_ops, NULL, &io), 0);
	assert_int_equal(siommu_mem_add_ram(mem2, 0x100000, 8 * PG, &ram2), 0);
	assert_int_equal(siommu_mem_add_ram(mem, 0x300000, 8 * PG, &gone), 0);
	assert_int_equal(siommu_mem_region_revoke(gone), 0);

	m.mem = mem;
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -EINVAL);	/* no region */
	m.mem = NULL;
	m.region = ram;
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -EINVAL);	/* no map */
	m.mem = mem;
	m.region = io;
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -EINVAL);	/* MMIO: no pages */
	m.region = ram;
	m.offset = 8;
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -EINVAL);
	m.offset = UINT64_MAX & ~(PG - 1);
	assert_int_equal(map_at(f, &m, 0x10000, 2 * PG, RW), -EOVERFLOW);
	m.offset = 4 * PG;
	assert_int_equal(map_at(f, &m, 0x10000, 8 * PG, RW), -EINVAL);	/* past its end */
	m.offset = 0;
	m.region = ram2;		/* a region of another memory map */
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -EINVAL);
	m.region = gone;
	assert_int_equal(map_at(f, &m, 0x10000, PG, RW), -ENODEV);
	assert_int_equal(info(f).areas, 0);
	/* nothing was held: every region can go */
	m.region = ram;
	assert_int_equal(map_at(f, &m, 0x10000, 8 * PG, RW), 0);
	assert_int_equal(siommu_mem_region_destroy(ram), -EBUSY);	/* the area holds it */
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, NULL), 0);
	assert_int_equal(siommu_ioas_destroy(f->ioas), 0);
	f->ioas = main_ioas;
	assert_int_equal(siommu_mem_region_destroy(ram), 0);
	assert_int_equal(siommu_mem_region_destroy(io), 0);
	assert_int_equal(siommu_mem_region_destroy(gone), 0);
	assert_int_equal(siommu_mem_region_destroy(ram2), 0);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_mem_destroy(mem2), 0);
}

/* No hole for an IOVA the IOAS chooses: -ENOSPC, nothing mapped. */
static void test_ioas_alloc_no_room(void **state)
{
	struct fixture *f = *state;
	uint8_t *big = aligned_alloc(SZ_2M, SZ_2M);
	struct siommu_ioas_mem m = host_mem(f->buf), mb = host_mem(big);
	/* the top of the space, 2 MiB - 4 KiB long, not 2 MiB aligned */
	struct siommu_ioas_range top = { 0ull - SZ_2M + PG, UINT64_MAX };
	uint64_t iova = 0;

	assert_non_null(big);
	assert_int_equal(siommu_ioas_allow_iovas(f->ioas, &top, 1), 0);
	/* 2 MiB-aligned memory tries a 2 MiB-aligned IOVA first: past 2^64, then too long */
	assert_int_equal(siommu_ioas_map(f->ioas, &mb, SZ_2M, RW, &iova), -ENOSPC);
	assert_int_equal(info(f).areas, 0);
	/* an area ending at the top of the space: nothing above it to try */
	assert_int_equal(map_at(f, &m, UINT64_MAX - PG + 1, PG, RW), 0);
	assert_int_equal(siommu_ioas_map(f->ioas, &m, SZ_2M - PG, RW, &iova), -ENOSPC);
	assert_int_equal(info(f).areas, 1);
	/* what fits below it is found */
	assert_int_equal(siommu_ioas_map(f->ioas, &m, 4 * PG, RW, &iova), 0);
	assert_int_equal(iova, top.start);
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, NULL), 0);
	free(big);
}

static void test_ioas_copy_wraps(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_mem m = host_mem(f->buf);
	uint64_t dst = 0x80000;

	assert_int_equal(map_at(f, &m, 0x10000, 4 * PG, RW), 0);
	assert_int_equal(siommu_ioas_copy(f->ioas, &dst, f->ioas, UINT64_MAX - PG + 1, 2 * PG,
					  RW | FIXED), -EOVERFLOW);
	assert_int_equal(info(f).areas, 1);
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, NULL), 0);
}

static struct siommu_domain *mkdom(struct fixture *f, enum siommu_pt_fmt fmt)
{
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING, .fmt = fmt };
	struct siommu_domain *dom = NULL;

	assert_int_equal(siommu_ioas_domain_alloc(f->ioas, &cfg, &dom), 0);
	return dom;
}

static bool pt_mapped(struct siommu_domain *dom, uint64_t iova)
{
	uint64_t pa;

	return siommu_pt_iova_to_phys(siommu_domain_pt(dom), iova, &pa) == 0;
}

/*
 * Two filled domains; a map whose output address the second's format
 * cannot hold (48-bit Arm LPAE output, 52-bit x86-64): refused, and the
 * first domain, which had taken it, has it unmapped again.
 */
static void test_ioas_map_second_domain_refuses(void **state)
{
	struct fixture *f = *state;
	struct siommu_ioas_mem far = host_mem((void *)(uintptr_t)(1ull << 50));
	struct siommu_ioas_mem near = host_mem(f->buf);
	struct siommu_domain *x86 = mkdom(f, SIOMMU_PT_FMT_X86_64);
	struct siommu_domain *arm = mkdom(f, SIOMMU_PT_FMT_ARM_LPAE_S1);
	int ret;

	assert_int_equal(siommu_device_attach(f->dev0, x86), 0);
	assert_int_equal(siommu_device_attach(f->dev1, arm), 0);
	ret = map_at(f, &far, 0x10000, PG, RW);
	assert_true(ret == -ERANGE || ret == -EINVAL);
	assert_false(pt_mapped(x86, 0x10000));
	assert_false(pt_mapped(arm, 0x10000));
	assert_int_equal(info(f).areas, 0);
	assert_int_equal(map_at(f, &near, 0x10000, PG, RW), 0);
	assert_true(pt_mapped(x86, 0x10000));
	assert_true(pt_mapped(arm, 0x10000));
	assert_int_equal(siommu_device_detach(f->dev0), 0);
	assert_int_equal(siommu_device_detach(f->dev1), 0);
	assert_int_equal(siommu_ioas_unmap_all(f->ioas, NULL), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, x86), 0);
	assert_int_equal(siommu_ioas_domain_free(f->l, arm), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ioas_api_in_read_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_map_fd_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_map_region_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_alloc_no_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_copy_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_map_second_domain_refuses, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
