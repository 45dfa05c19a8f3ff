// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The mm API's edges (what test_mm.c does not reach), each answer checked
 * against the Returns line of include/softiommu/mm.h and nothing changed:
 *  - misuse of split, fault, read/write, lookup, info, munmap, mprotect:
 *    NULL, unaligned, unknown bits, beyond the address width, inside a
 *    read-side section;
 *  - mmap with no free range left (-ENOSPC), and a shared-file mmap over
 *    an existing area (-EEXIST, the file's host mapping let go);
 *  - an mm gone (siommu_mm_destroy()) while a mirror still holds it: every
 *    operation -ENODEV, its table NULL, the mirror's faults -ENODEV, no
 *    new mirror, binding, notifier or interval on it;
 *  - mirrors and bindings misused: NULL, bad flags, read-side sections;
 *  - the mm's release with no memory for its snapshot of the notifiers
 *    (testing builds): every notifier still released, once.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_common.h"

#include <softiommu/softiommu.h>

#define PG	4096ull
#define SZ_2M	(2ull << 20)
#define RW	(SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE)
#define ANON	SIOMMU_MM_MAP_ANON
#define FIXED	SIOMMU_MM_MAP_FIXED
#define VA_LIMIT (1ull << 47)		/* 4 levels */

struct fx {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
	struct siommu_mm *mm;
	unsigned int releases[2];
};

static int setup(void **state)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx) ||
	    siommu_iommu_create(f->ctx, &caps, NULL, &f->iommu) ||
	    siommu_device_create(f->iommu, SIOMMU_RID(0, 5, 0, 0), SIOMMU_DEV_PASID, 8, &f->dev) ||
	    siommu_mm_create(f->ctx, NULL, &f->mm))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	siommu_test_fail_nth(0);
	siommu_mm_destroy(f->mm);
	assert_int_equal(siommu_device_destroy(f->dev), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static struct siommu_mm_info info(struct fx *f)
{
	struct siommu_mm_info i;

	assert_int_equal(siommu_mm_get_info(f->mm, &i), 0);
	return i;
}

static void test_mm_api_misuse(void **state)
{
	struct fx *f = *state;
	struct siommu_mm_info before, after;
	uint64_t a, v = 0;

	assert_int_equal(siommu_mm_mmap(f->mm, 0, SZ_2M, RW, ANON, -1, 0, &a), 0);
	assert_int_equal(siommu_mm_write(f->mm, a, &a, 8), 0);
	before = info(f);

	/* split */
	assert_int_equal(siommu_mm_split(NULL, a), -EINVAL);
	assert_int_equal(siommu_mm_split(f->mm, a + 1), -EINVAL);
	assert_int_equal(siommu_mm_split(f->mm, VA_LIMIT), -ERANGE);
	siommu_read_lock();
	assert_int_equal(siommu_mm_split(f->mm, a), -EDEADLK);
	assert_int_equal(siommu_mm_mprotect(f->mm, a, PG, SIOMMU_MM_PROT_READ), -EDEADLK);
	assert_int_equal(siommu_mm_madvise(f->mm, a, PG, SIOMMU_MM_MADV_DONTNEED), -EDEADLK);
	siommu_read_unlock();
	assert_int_equal(siommu_mm_split(f->mm, a + SZ_2M), 0);	/* no huge page there */

	/* fault */
	assert_int_equal(siommu_mm_fault(NULL, a, SIOMMU_ACC_READ), -EINVAL);
	assert_int_equal(siommu_mm_fault(f->mm, a, 1u << 9), -EINVAL);
	assert_int_equal(siommu_mm_fault(f->mm, VA_LIMIT, SIOMMU_ACC_READ), -ERANGE);

	/* read / write */
	assert_int_equal(siommu_mm_read(NULL, a, &v, 8), -EINVAL);
	assert_int_equal(siommu_mm_read(f->mm, a, NULL, 8), -EINVAL);
	assert_int_equal(siommu_mm_read(f->mm, a, &v, 0), -EINVAL);
	assert_int_equal(siommu_mm_write(f->mm, UINT64_MAX - 3, &v, 8), -EINVAL);	/* wraps */
	assert_int_equal(siommu_mm_read(f->mm, VA_LIMIT - 4, &v, 8), -ERANGE);
	assert_int_equal(siommu_mm_write(f->mm, VA_LIMIT, &v, 8), -ERANGE);

	/* lookups and info */
	assert_int_equal(siommu_mm_lookup_level(NULL, a), -EINVAL);
	assert_int_equal(siommu_mm_get_info(NULL, &before), -EINVAL);
	assert_int_equal(siommu_mm_get_info(f->mm, NULL), -EINVAL);
	assert_null(siommu_mm_pt(NULL));

	/* munmap / mprotect / madvise */
	assert_int_equal(siommu_mm_munmap(NULL, a, PG), -EINVAL);
	assert_int_equal(siommu_mm_munmap(f->mm, a, 0), -EINVAL);
	assert_int_equal(siommu_mm_munmap(f->mm, UINT64_MAX & ~(PG - 1), 2 * PG), -EINVAL);
	assert_int_equal(siommu_mm_munmap(f->mm, VA_LIMIT - PG, 2 * PG), -ERANGE);
	assert_int_equal(siommu_mm_mprotect(f->mm, a, PG, 1u << 3), -EINVAL);
	assert_int_equal(siommu_mm_mprotect(f->mm, VA_LIMIT, PG, SIOMMU_MM_PROT_READ), -ERANGE);
	assert_int_equal(siommu_mm_madvise(f->mm, a + 1, PG, SIOMMU_MM_MADV_DONTNEED), -EINVAL);

	/* nothing changed: the page, its size, its contents */
	after = info(f);
	assert_int_equal(after.nr_areas, before.nr_areas);
	assert_int_equal(after.mapped_4k, before.mapped_4k);
	assert_int_equal(after.mapped_2m, before.mapped_2m);
	assert_int_equal(after.rss_bytes, before.rss_bytes);
	assert_int_equal(after.invalidate_seq, before.invalidate_seq);
	assert_int_equal(after.invalidations, before.invalidations);
	assert_int_equal(after.splits, before.splits);
	assert_int_equal(siommu_mm_lookup_level(f->mm, a), 21);
	assert_int_equal(siommu_mm_read(f->mm, a, &v, 8), 0);
	assert_int_equal(v, a);
}

/* No free range for a non-fixed mmap: -ENOSPC, nothing added. */
static void test_mm_mmap_no_room(void **state)
{
	struct fx *f = *state;
	uint64_t a = 0, b;

	assert_int_equal(siommu_mm_mmap(f->mm, 0, VA_LIMIT, RW, ANON, -1, 0, &a), -ENOSPC);
	assert_int_equal(info(f).nr_areas, 0);
	/* the space above the mmap base taken whole: the next one has no room */
	assert_int_equal(siommu_mm_mmap(f->mm, 1ull << 32, VA_LIMIT - (1ull << 32), RW,
					ANON | FIXED, -1, 0, &a), 0);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, PG, RW, ANON, -1, 0, &b), -ENOSPC);
	assert_int_equal(info(f).nr_areas, 1);
	/* below the base is still free for FIXED */
	assert_int_equal(siommu_mm_mmap(f->mm, 0x10000, PG, RW, ANON | FIXED, -1, 0, &b), 0);
	assert_int_equal(b, 0x10000);
	assert_int_equal(siommu_mm_munmap(f->mm, 0, VA_LIMIT), 0);
	assert_int_equal(info(f).nr_areas, 0);
}

/* How many mappings of the process map @fd's file (its /proc/self/maps lines). */
static unsigned int file_maps(const char *name)
{
	char line[512];
	unsigned int n = 0;
	FILE *m = fopen("/proc/self/maps", "r");

	assert_non_null(m);
	while (fgets(line, sizeof(line), m))
		n += strstr(line, name) != NULL;
	fclose(m);
	return n;
}

/* A shared-file mmap refused after its file was mapped: the host mapping goes again. */
static void test_mm_mmap_shared_refused(void **state)
{
	struct fx *f = *state;
	int fd = memfd_create("mm-api-refused", 0), bad;
	uint64_t a, b = 0;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 * PG), 0);
	assert_int_equal(siommu_mm_mmap(f->mm, 0x200000, 4 * PG, RW, ANON | FIXED, -1, 0, &a), 0);
	assert_int_equal(file_maps("mm-api-refused"), 0);
	assert_int_equal(siommu_mm_mmap(f->mm, 0x202000, 4 * PG, RW,
					SIOMMU_MM_MAP_SHARED | FIXED, fd, 0, &b), -EEXIST);
	assert_int_equal(file_maps("mm-api-refused"), 0);
	assert_int_equal(info(f).nr_areas, 1);
	/* a descriptor that is not open: mapping it fails (-EBADF), nothing made */
	bad = dup(fd);
	assert_true(bad >= 0);
	close(bad);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 4 * PG, RW, SIOMMU_MM_MAP_SHARED, bad, 0, &b),
			 -EBADF);
	assert_int_equal(info(f).nr_areas, 1);
	/* the same map elsewhere works, and its mapping is the one left */
	assert_int_equal(siommu_mm_mmap(f->mm, 0x300000, 4 * PG, RW,
					SIOMMU_MM_MAP_SHARED | FIXED, fd, 0, &b), 0);
	assert_int_equal(file_maps("mm-api-refused"), 1);
	assert_int_equal(siommu_mm_munmap(f->mm, 0x300000, 4 * PG), 0);
	assert_int_equal(file_maps("mm-api-refused"), 0);
	close(fd);
}

static void count_release(void *opaque, struct siommu_mm *mm)
{
	(void)mm;
	(*(unsigned int *)opaque)++;
}

static const struct siommu_mm_notifier_ops rel_ops = { .release = count_release };

static void iv_invalidate(struct siommu_mm_interval *in, const struct siommu_mm_range *r,
			  uint64_t cur_seq)
{
	(void)r;
	siommu_mm_interval_set_seq(in, cur_seq);
}

static const struct siommu_mm_interval_ops iv_ops = { .invalidate = iv_invalidate };

/* The mm gone while a mirror holds it: every operation on it is -ENODEV. */
static void test_mm_gone_refuses_everything(void **state)
{
	struct fx *f = *state;
	struct siommu_mirror_cfg mc = { .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_mirror *m, *m2 = NULL;
	struct siommu_mm_notifier *n = NULL;
	struct siommu_mm_interval *in = NULL;
	struct siommu_sva *sva = NULL;
	struct siommu_mm_info i;
	uint64_t a, v = 5;

	assert_int_equal(siommu_mm_mmap(f->mm, 0, SZ_2M, RW, ANON, -1, 0, &a), 0);
	assert_int_equal(siommu_mm_write(f->mm, a, &v, 8), 0);
	assert_int_equal(siommu_mirror_create(f->mm, f->iommu, &mc, &m), 0);
	assert_int_equal(siommu_mirror_fault(m, a, SIOMMU_ACC_READ), 0);
	siommu_mm_destroy(f->mm);

	assert_int_equal(siommu_mm_get_info(f->mm, &i), 0);
	assert_true(i.dead);
	assert_int_equal(i.nr_areas, 0);
	assert_int_equal(i.rss_bytes, 0);
	assert_null(siommu_mm_pt(f->mm));
	assert_int_equal(siommu_mm_mmap(f->mm, 0, PG, RW, ANON, -1, 0, &a), -ENODEV);
	assert_int_equal(siommu_mm_munmap(f->mm, a, PG), -ENODEV);
	assert_int_equal(siommu_mm_mprotect(f->mm, a, PG, SIOMMU_MM_PROT_READ), -ENODEV);
	assert_int_equal(siommu_mm_madvise(f->mm, a, PG, SIOMMU_MM_MADV_DONTNEED), -ENODEV);
	assert_int_equal(siommu_mm_madvise(f->mm, a, PG, SIOMMU_MM_MADV_NOHUGEPAGE), -ENODEV);
	assert_int_equal(siommu_mm_split(f->mm, a), -ENODEV);
	assert_int_equal(siommu_mm_fault(f->mm, a, SIOMMU_ACC_READ), -ENODEV);
	assert_int_equal(siommu_mm_read(f->mm, a, &v, 8), -ENODEV);
	assert_int_equal(siommu_mm_notifier_register(f->mm, &rel_ops, f->releases, &n), -ENODEV);
	assert_null(n);
	assert_int_equal(siommu_mm_interval_insert(f->mm, a, PG, &iv_ops, NULL, &in), -ENODEV);
	assert_null(in);
	assert_int_equal(siommu_mirror_create(f->mm, f->iommu, &mc, &m2), -ENODEV);
	assert_null(m2);
	assert_int_equal(siommu_sva_bind(f->mm, f->iommu, f->dev, 1, 0, &sva), -ENODEV);
	assert_null(sva);
	assert_int_equal(siommu_mirror_fault(m, a, SIOMMU_ACC_READ), -ENODEV);
	/* the mirror was zapped by the release: nothing left to translate */
	{
		uint64_t pa;

		assert_int_equal(siommu_pt_iova_to_phys(siommu_mirror_pt(m), a, &pa), -ENOENT);
	}
	siommu_mm_destroy(f->mm);		/* again: nothing more to do */
	assert_int_equal(siommu_mirror_destroy(m), 0);	/* the mm's last reference */
	assert_int_equal(siommu_mm_create(f->ctx, NULL, &f->mm), 0);	/* for teardown */
}

static void test_mm_mirror_sva_misuse(void **state)
{
	struct fx *f = *state;
	struct siommu_mirror_cfg mc = { .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_mirror_cfg bad = { .flags = 1u << 5 };
	struct siommu_mirror_stats st;
	struct siommu_mirror *m = NULL, *m2 = NULL;
	struct siommu_sva *b = NULL;
	struct siommu_iopf *iopf;
	uint64_t a;

	assert_int_equal(siommu_mm_mmap(f->mm, 0, SZ_2M, RW, ANON, -1, 0, &a), 0);
	assert_int_equal(siommu_mirror_create(NULL, f->iommu, &mc, &m), -EINVAL);
	assert_int_equal(siommu_mirror_create(f->mm, NULL, &mc, &m), -EINVAL);
	assert_int_equal(siommu_mirror_create(f->mm, f->iommu, NULL, &m), -EINVAL);
	assert_int_equal(siommu_mirror_create(f->mm, f->iommu, &mc, NULL), -EINVAL);
	assert_int_equal(siommu_mirror_create(f->mm, f->iommu, &bad, &m), -EINVAL);
	assert_null(m);
	assert_int_equal(siommu_mirror_destroy(NULL), 0);
	assert_int_equal(siommu_mirror_get_stats(NULL, &st), -EINVAL);
	assert_int_equal(siommu_mirror_create(f->mm, f->iommu, &mc, &m), 0);
	assert_int_equal(siommu_mirror_get_stats(m, NULL), -EINVAL);
	assert_int_equal(siommu_mirror_fault(NULL, a, SIOMMU_ACC_READ), -EINVAL);
	assert_int_equal(siommu_mirror_fault(m, a, 1u << 9), -EINVAL);
	siommu_read_lock();
	assert_int_equal(siommu_mirror_create(f->mm, f->iommu, &mc, &m2), -EDEADLK);
	assert_int_equal(siommu_mirror_destroy(m), -EDEADLK);
	siommu_read_unlock();
	assert_null(m2);
	assert_int_equal(info(f).notifiers, 1);		/* m's only */
	/* faults: beyond the mm's width there is no such page (-EFAULT) */
	assert_int_equal(siommu_mirror_fault(m, VA_LIMIT, SIOMMU_ACC_READ), -EFAULT);
	assert_int_equal(siommu_mirror_fault(m, a + SZ_2M, SIOMMU_ACC_READ), -EFAULT);
	assert_int_equal(siommu_mirror_get_stats(m, &st), 0);
	assert_int_equal(st.faults, 2);
	assert_int_equal(st.errors, 2);
	assert_int_equal(st.maps_4k + st.maps_2m + st.maps_1g, 0);

	assert_int_equal(siommu_sva_bind(NULL, f->iommu, f->dev, 1, 0, &b), -EINVAL);
	assert_int_equal(siommu_sva_bind(f->mm, f->iommu, f->dev, 0, 0, &b), -EINVAL);
	assert_int_equal(siommu_sva_bind(f->mm, f->iommu, f->dev, 1, 1u << 4, &b), -EINVAL);
	assert_null(b);
	assert_int_equal(siommu_sva_unbind(NULL), 0);
	assert_null(siommu_sva_domain(NULL));
	assert_int_equal(siommu_sva_bind(f->mm, f->iommu, f->dev, 1, SIOMMU_SVA_NO_HANDLER, &b), 0);
	assert_int_equal(siommu_iopf_create(f->iommu, NULL, &iopf), 0);
	assert_int_equal(siommu_sva_iopf_enable(NULL, iopf), -EINVAL);
	assert_int_equal(siommu_sva_iopf_enable(b, NULL), -EINVAL);
	assert_int_equal(siommu_mirror_iopf_enable(NULL, iopf), -EINVAL);
	assert_int_equal(siommu_mirror_iopf_enable(m, NULL), -EINVAL);

	siommu_read_lock();
	assert_int_equal(siommu_sva_bind(f->mm, f->iommu, f->dev, 2, 0, &b), -EDEADLK);
	assert_int_equal(siommu_sva_unbind(b), -EDEADLK);
	siommu_read_unlock();
	/* nothing changed: the binding still translates through the mm */
	assert_ptr_equal(siommu_device_domain(f->dev, 1), siommu_sva_domain(b));
	assert_null(siommu_device_domain(f->dev, 2));

	/* the mm's release takes the binding's domain: routing it through iopf is -ENODEV */
	siommu_mm_destroy(f->mm);
	assert_null(siommu_sva_domain(b));
	assert_int_equal(siommu_sva_iopf_enable(b, iopf), -ENODEV);
	assert_int_equal(siommu_sva_unbind(b), 0);
	assert_int_equal(siommu_mirror_destroy(m), 0);
	assert_int_equal(siommu_iopf_destroy(iopf), 0);
	assert_int_equal(siommu_mm_create(f->ctx, NULL, &f->mm), 0);	/* for teardown */
}

/*
 * The release with no memory for its snapshot of the notifiers (the first
 * allocation of siommu_mm_destroy()): each notifier is still released,
 * once, and the teardown goes on (the areas go; ASan: nothing leaks).
 */
static void test_mm_release_without_snapshot(void **state)
{
	struct fx *f = *state;
	struct siommu_mm_notifier *n0, *n1;
	struct siommu_mirror_cfg mc = { .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_mirror *m;
	struct siommu_mm_info i;
	uint64_t a, v = 1;

	if (!siommu_testing_build())
		skip();
	assert_int_equal(siommu_mm_mmap(f->mm, 0, SZ_2M, RW, ANON, -1, 0, &a), 0);
	assert_int_equal(siommu_mm_write(f->mm, a, &v, 8), 0);
	assert_int_equal(siommu_mm_notifier_register(f->mm, &rel_ops, &f->releases[0], &n0), 0);
	assert_int_equal(siommu_mm_notifier_register(f->mm, &rel_ops, &f->releases[1], &n1), 0);
	/* a mirror keeps the mm (and its notifiers) readable after the destroy */
	assert_int_equal(siommu_mirror_create(f->mm, f->iommu, &mc, &m), 0);
	assert_int_equal(siommu_mirror_fault(m, a, SIOMMU_ACC_READ), 0);
	siommu_test_fail_nth(1);
	siommu_mm_destroy(f->mm);
	siommu_test_fail_nth(0);
	assert_int_equal(f->releases[0], 1);
	assert_int_equal(f->releases[1], 1);
	assert_int_equal(siommu_mirror_fault(m, a, SIOMMU_ACC_READ), -ENODEV);	/* released too */
	assert_int_equal(siommu_mm_get_info(f->mm, &i), 0);
	assert_true(i.dead);
	assert_int_equal(i.nr_areas, 0);
	assert_int_equal(i.rss_bytes, 0);
	assert_int_equal(siommu_mm_notifier_unregister(n0), 0);
	assert_int_equal(siommu_mm_notifier_unregister(n1), 0);
	assert_int_equal(siommu_mirror_destroy(m), 0);
	assert_int_equal(siommu_mm_create(f->ctx, NULL, &f->mm), 0);	/* for teardown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mm_api_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_mmap_no_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_mmap_shared_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_gone_refuses_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_mirror_sva_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_release_without_snapshot, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
