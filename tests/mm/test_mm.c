// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the mm module: areas, faults and page sizes, CPU access,
 * munmap/mprotect/madvise/split, the seed-001 level lookup, notifiers and
 * interval notifiers, mirrors and SVA bindings.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_common.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_HAVE_ASAN 1
#endif
#endif
#ifndef TEST_HAVE_ASAN
#define TEST_HAVE_ASAN 0
#endif
#if TEST_HAVE_ASAN
#include <sanitizer/asan_interface.h>
#endif

#include <softiommu/core.h>
#include <softiommu/mm.h>

#define RW	(SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE)
#define ANON	SIOMMU_MM_MAP_ANON
#define SZ_2M	(2ull << 20)
#define SZ_1G	(1ull << 30)

struct fx {
	struct siommu_ctx *ctx;
	struct siommu_mm *mm;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(siommu_ctx_create(&f->ctx), 0);
	assert_int_equal(siommu_mm_create(f->ctx, NULL, &f->mm), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	siommu_mm_destroy(f->mm);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static void test_mm_create_errors(void **state)
{
	struct fx *f = *state;
	struct siommu_mm_cfg c = { .levels = 3 };
	struct siommu_mm *mm;
	struct siommu_mm_info info;

	assert_int_equal(siommu_mm_create(f->ctx, &c, &mm), -EINVAL);
	assert_int_equal(siommu_mm_create(NULL, NULL, &mm), -EINVAL);
	c.levels = 5;
	assert_int_equal(siommu_mm_create(f->ctx, &c, &mm), 0);
	assert_int_equal(siommu_mm_get_info(mm, &info), 0);
	assert_int_equal(info.levels, 5);
	/* 5 levels: addresses up to 2^56 */
	assert_int_equal(siommu_mm_lookup_level(mm, 1ull << 50), 12);
	assert_int_equal(siommu_mm_lookup_level(mm, 1ull << 56), -ERANGE);
	siommu_mm_destroy(mm);
	assert_int_equal(siommu_ctx_destroy(f->ctx), -EBUSY);	/* the fixture's mm */
}

static void test_mm_mmap_errors(void **state)
{
	struct fx *f = *state;
	uint64_t a;

	assert_int_equal(siommu_mm_mmap(f->mm, 0, 0, RW, ANON, -1, 0, &a), -EINVAL);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 4095, RW, ANON, -1, 0, &a), -EINVAL);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 4096, RW, 0, -1, 0, &a), -EINVAL);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 4096, 8, ANON, -1, 0, &a), -EINVAL);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 4096, RW, SIOMMU_MM_MAP_SHARED, -1, 0, &a),
			 -EINVAL);
	/* a fixed 2 MiB policy needs 2 MiB alignment */
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 4096, RW, ANON | SIOMMU_MM_PAGE_2M, -1, 0, &a),
			 -EINVAL);
	assert_int_equal(siommu_mm_mmap(f->mm, 1ull << 47, 4096, RW, ANON | SIOMMU_MM_MAP_FIXED,
					-1, 0, &a), -ERANGE);
	assert_int_equal(siommu_mm_mmap(f->mm, 0x100000, 0x10000, RW,
					ANON | SIOMMU_MM_MAP_FIXED, -1, 0, &a), 0);
	assert_int_equal(a, 0x100000);
	assert_int_equal(siommu_mm_mmap(f->mm, 0x108000, 0x10000, RW,
					ANON | SIOMMU_MM_MAP_FIXED, -1, 0, &a), -EEXIST);
	assert_int_equal(siommu_mm_mprotect(f->mm, 0x100000, 0x20000, SIOMMU_MM_PROT_READ),
			 -ENOMEM);	/* a hole */
	assert_int_equal(siommu_mm_madvise(f->mm, 0x100000, 0x1000, 99), -EINVAL);
	assert_int_equal(siommu_mm_munmap(f->mm, 0x100001, 0x1000), -EINVAL);
	siommu_read_lock();
	assert_int_equal(siommu_mm_munmap(f->mm, 0x100000, 0x1000), -EDEADLK);
	siommu_read_unlock();
	assert_int_equal(siommu_mm_fault(f->mm, 0x200000, SIOMMU_ACC_READ), -EFAULT);
}

/* Seed 001: the level of what maps an address; not present is 4 KiB, never "none". */
static void test_mm_level_lookup(void **state)
{
	struct fx *f = *state;
	struct siommu_mm_info info;
	struct siommu_mm_xlate x;
	uint64_t a, b, c;
	uint8_t v = 0x5a;

	assert_int_equal(siommu_mm_lookup_level(f->mm, 0x12345000), 12);	/* empty table */
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 4 * SZ_2M, RW, ANON, -1, 0, &a), 0);
	assert_int_equal(a & (SZ_2M - 1), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, a), 12);		/* not faulted */
	assert_int_equal(siommu_mm_write(f->mm, a + 0x1234, &v, 1), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, a), 21);		/* THP */
	assert_int_equal(siommu_mm_lookup_level(f->mm, a + SZ_2M - 4096), 21);
	assert_int_equal(siommu_mm_lookup_level(f->mm, a + SZ_2M), 12);	/* next one: not yet */
	siommu_read_lock();
	assert_int_equal(siommu_mm_translate_rcu(f->mm, a + 0x1234, &x), 0);
	assert_int_equal(x.pgsize_lg2, 21);
	assert_int_equal(*(uint8_t *)(uintptr_t)x.pa, 0x5a);
	assert_int_equal(x.prot & RW, RW);
	assert_int_equal(siommu_mm_translate_rcu(f->mm, a + SZ_2M, &x), -ENOENT);
	siommu_read_unlock();

	/* A small area never gets a huge page; a fixed 4K policy neither. */
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 0x10000, RW, ANON, -1, 0, &b), 0);
	assert_int_equal(siommu_mm_write(f->mm, b, &v, 1), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, b), 12);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, SZ_2M, RW, ANON | SIOMMU_MM_PAGE_4K, -1, 0, &b),
			 0);
	assert_int_equal(siommu_mm_write(f->mm, b, &v, 1), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, b), 12);

	/* 1 GiB pages by policy (backed lazily, so cheap to touch once). */
	assert_int_equal(siommu_mm_mmap(f->mm, 0, SZ_1G, RW, ANON | SIOMMU_MM_PAGE_1G, -1, 0, &c),
			 0);
	assert_int_equal(c & (SZ_1G - 1), 0);
	assert_int_equal(siommu_mm_write(f->mm, c + SZ_1G - 1, &v, 1), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, c), 30);
	assert_int_equal(siommu_mm_get_info(f->mm, &info), 0);
	assert_int_equal(info.mapped_1g, 1);
	assert_int_equal(info.mapped_2m, 1);
	assert_int_equal(info.mapped_4k, 2);
	/* Split 1G -> 2M -> 4K: the data stays, the level drops. */
	assert_int_equal(siommu_mm_split(f->mm, c + SZ_1G - 4096), 1);
	assert_int_equal(siommu_mm_lookup_level(f->mm, c), 12);		/* unmapped: 4K */
	v = 0;
	assert_int_equal(siommu_mm_read(f->mm, c + SZ_1G - 1, &v, 1), 0);
	assert_int_equal(v, 0x5a);
	assert_int_equal(siommu_mm_lookup_level(f->mm, c + SZ_1G - 1), 21);
	assert_int_equal(siommu_mm_split(f->mm, c + SZ_1G - 4096), 1);
	assert_int_equal(siommu_mm_read(f->mm, c + SZ_1G - 1, &v, 1), 0);
	assert_int_equal(v, 0x5a);
	assert_int_equal(siommu_mm_lookup_level(f->mm, c + SZ_1G - 1), 12);
	assert_int_equal(siommu_mm_split(f->mm, c + SZ_1G - 4096), 0);	/* 4K: nothing to split */
	assert_int_equal(siommu_mm_lookup_level(f->mm, 1ull << 47), -ERANGE);
}

static void test_mm_cpu_access_discard_unmap(void **state)
{
	struct fx *f = *state;
	uint8_t buf[8192], out[8192];
	uint64_t a, v;

	assert_int_equal(siommu_mm_mmap(f->mm, 0, SZ_2M, RW, ANON, -1, 0, &a), 0);
	memset(out, 1, sizeof(out));
	assert_int_equal(siommu_mm_read(f->mm, a + 100, out, sizeof(out)), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);	/* zero-filled */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	assert_int_equal(siommu_mm_write(f->mm, a + 100, buf, sizeof(buf)), 0);
	assert_int_equal(siommu_mm_read(f->mm, a + 100, out, sizeof(out)), 0);
	assert_memory_equal(buf, out, sizeof(buf));
	/* Partial munmap of the huge page: split, the rest keeps its data. */
	assert_int_equal(siommu_mm_munmap(f->mm, a + 4096, 4096), 0);
	assert_int_equal(siommu_mm_read(f->mm, a + 4096, &v, 8), -EFAULT);
	assert_int_equal(siommu_mm_read(f->mm, a + 100, out, 100), 0);
	assert_memory_equal(buf, out, 100);
	assert_int_equal(siommu_mm_read(f->mm, a + 8192, out, 100), 0);
	assert_memory_equal(buf + 8092, out, 100);
	assert_int_equal(siommu_mm_lookup_level(f->mm, a), 12);
	/* Discard: zero again. */
	assert_int_equal(siommu_mm_madvise(f->mm, a, 4096, SIOMMU_MM_MADV_DONTNEED), 0);
	assert_int_equal(siommu_mm_read(f->mm, a + 100, &v, 8), 0);
	assert_int_equal(v, 0);
	/* mprotect: read-only refuses writes, keeps the data; PROT_NONE refuses reads. */
	assert_int_equal(siommu_mm_mprotect(f->mm, a + 8192, 4096, SIOMMU_MM_PROT_READ), 0);
	assert_int_equal(siommu_mm_write(f->mm, a + 8192, &v, 8), -EACCES);
	assert_int_equal(siommu_mm_read(f->mm, a + 8192, out, 8), 0);
	assert_memory_equal(buf + 8092, out, 8);
	assert_int_equal(siommu_mm_mprotect(f->mm, a + 8192, 4096, SIOMMU_MM_PROT_NONE), 0);
	assert_int_equal(siommu_mm_read(f->mm, a + 8192, out, 8), -EACCES);
	assert_int_equal(siommu_mm_mprotect(f->mm, a + 8192, 4096, RW), 0);
	assert_int_equal(siommu_mm_read(f->mm, a + 8192, out, 8), 0);
	assert_memory_equal(buf + 8092, out, 8);
	/* NOHUGEPAGE: faults in 4 KiB from now on. */
	assert_int_equal(siommu_mm_munmap(f->mm, a, SZ_2M), 0);
	assert_int_equal(siommu_mm_mmap(f->mm, a, SZ_2M, RW, ANON | SIOMMU_MM_MAP_FIXED, -1, 0,
					&v), 0);
	assert_int_equal(siommu_mm_madvise(f->mm, a, SZ_2M, SIOMMU_MM_MADV_NOHUGEPAGE), 0);
	assert_int_equal(siommu_mm_write(f->mm, a, &v, 8), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, a), 12);
}

static void test_mm_file_backed(void **state)
{
	struct fx *f = *state;
	char b[16] = "from the cpu", r[16] = { 0 };
	int fd = memfd_create("mm-test", 0);
	uint64_t a;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 * 4096), 0);
	assert_int_equal(pwrite(fd, "from the file", 14, 4096 + 10), 14);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 3 * 4096, RW, SIOMMU_MM_MAP_SHARED, fd, 4096,
					&a), 0);
	assert_int_equal(siommu_mm_read(f->mm, a + 10, r, 14), 0);
	assert_string_equal(r, "from the file");
	assert_int_equal(siommu_mm_write(f->mm, a + 4096, b, sizeof(b)), 0);
	memset(r, 0, sizeof(r));
	assert_int_equal(pread(fd, r, sizeof(r), 2 * 4096), (ssize_t)sizeof(r));
	assert_string_equal(r, "from the cpu");
	/* Discard keeps the file's data. */
	assert_int_equal(siommu_mm_madvise(f->mm, a, 3 * 4096, SIOMMU_MM_MADV_DONTNEED), 0);
	memset(r, 0, sizeof(r));
	assert_int_equal(siommu_mm_read(f->mm, a + 4096, r, sizeof(r)), 0);
	assert_string_equal(r, "from the cpu");
	/* Cut the area in two, then unmap both halves. */
	assert_int_equal(siommu_mm_munmap(f->mm, a + 4096, 4096), 0);
	assert_int_equal(siommu_mm_read(f->mm, a + 2 * 4096, r, 1), 0);
	assert_int_equal(siommu_mm_munmap(f->mm, a, 3 * 4096), 0);
	assert_int_equal(siommu_mm_read(f->mm, a, r, 1), -EFAULT);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 4096, RW, SIOMMU_MM_MAP_SHARED, 1000, 0, &a),
			 -EBADF);
	close(fd);
}

/* ------------------------------------------------------------------ notifiers */

struct rec {
	struct siommu_mm *mm;
	uint64_t seq0;
	int starts, tlbs, ends, releases;
	bool retry_in_range, retry_outside, in_progress_seen, seq_moved_at_end;
	struct siommu_mm_range last;
};

static void rec_start(void *o, struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	struct rec *c = o;

	c->starts++;
	c->last = *r;
	c->retry_in_range = siommu_mm_invalidate_retry(mm, c->seq0, r->start);
	c->retry_outside = siommu_mm_invalidate_retry(mm, c->seq0, r->last + 0x100000);
	c->in_progress_seen = siommu_mm_invalidate_seq(mm) == c->seq0;
}

static void rec_tlbs(void *o, struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	((struct rec *)o)->tlbs++;
}

static void rec_end(void *o, struct siommu_mm *mm, const struct siommu_mm_range *r)
{
	struct rec *c = o;

	c->ends++;
	c->seq_moved_at_end = siommu_mm_invalidate_seq(mm) == c->seq0 + 1;
}

static void rec_release(void *o, struct siommu_mm *mm)
{
	((struct rec *)o)->releases++;
}

static const struct siommu_mm_notifier_ops rec_ops = {
	.invalidate_start = rec_start, .invalidate_tlbs = rec_tlbs,
	.invalidate_end = rec_end, .release = rec_release,
};

static void test_mm_notifier_sequence(void **state)
{
	struct fx *f = *state;
	struct siommu_mm_notifier *n;
	struct rec c = { 0 };
	uint64_t a, v = 1;

	assert_int_equal(siommu_mm_notifier_register(f->mm, &rec_ops, &c, &n), 0);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 0x8000, RW, ANON, -1, 0, &a), 0);
	assert_int_equal(siommu_mm_write(f->mm, a, &v, 8), 0);
	assert_int_equal(c.starts, 0);		/* mmap and faults are not invalidations */
	c.seq0 = siommu_mm_invalidate_seq(f->mm);
	assert_false(siommu_mm_invalidate_retry(f->mm, c.seq0, a));
	assert_int_equal(siommu_mm_munmap(f->mm, a, 0x1000), 0);
	assert_int_equal(c.starts, 1);
	assert_int_equal(c.tlbs, 1);		/* a leaf was cleared */
	assert_int_equal(c.ends, 1);
	assert_int_equal(c.last.start, a);
	assert_int_equal(c.last.last, a + 0xfff);
	assert_int_equal(c.last.event, SIOMMU_MM_EV_UNMAP);
	assert_true(c.retry_in_range);		/* in progress, covering */
	assert_false(c.retry_outside);		/* outside every range in flight */
	assert_true(c.in_progress_seen);	/* the sequence moves only at the end */
	assert_true(c.seq_moved_at_end);
	assert_true(siommu_mm_invalidate_retry(f->mm, c.seq0, a + 0x100000));	/* seq moved */
	assert_false(siommu_mm_invalidate_retry(f->mm, c.seq0 + 1, a));
	/* Nothing mapped in the range: no secondary TLB call. */
	assert_int_equal(siommu_mm_munmap(f->mm, a + 0x4000, 0x1000), 0);
	assert_int_equal(c.tlbs, 1);
	assert_int_equal(c.starts, 2);
	assert_int_equal(siommu_mm_notifier_unregister(n), 0);
	assert_int_equal(siommu_mm_munmap(f->mm, a, 0x8000), 0);
	assert_int_equal(c.starts, 2);
	assert_int_equal(c.releases, 0);
}

/*
 * A notifier outlives siommu_mm_destroy() of an mm nothing else holds: its
 * release runs once, and the unregister after it is valid (it was a
 * use-after-free of the mm's lock, and the notifier leaked, when the
 * destroy freed the mm under its registered notifiers).
 */
static void test_mm_notifier_unregister_after_destroy(void **state)
{
	struct fx *f = *state;
	struct siommu_mm_notifier *n;
	struct siommu_mm *mm;
	struct rec c = { 0 };
	uint64_t a;

	assert_int_equal(siommu_mm_create(f->ctx, NULL, &mm), 0);
	assert_int_equal(siommu_mm_notifier_register(mm, &rec_ops, &c, &n), 0);
	assert_int_equal(siommu_mm_mmap(mm, 0, 0x2000, RW, ANON, -1, 0, &a), 0);
	siommu_mm_destroy(mm);
	assert_int_equal(c.releases, 1);
	assert_int_equal(c.starts, c.ends);
	assert_int_equal(siommu_mm_notifier_unregister(n), 0);
	assert_int_equal(c.releases, 1);
	/* the teardown's siommu_ctx_destroy() == 0: the mm went with that reference */
}

struct ivl {
	pthread_mutex_t lock;
	int calls;
	uint64_t cur;
};

static void ivl_inv(struct siommu_mm_interval *in, const struct siommu_mm_range *r,
		    uint64_t cur_seq)
{
	struct ivl *c = siommu_mm_interval_opaque(in);

	pthread_mutex_lock(&c->lock);
	siommu_mm_interval_set_seq(in, cur_seq);
	c->calls++;
	c->cur = cur_seq;
	pthread_mutex_unlock(&c->lock);
}

static const struct siommu_mm_interval_ops ivl_ops = { .invalidate = ivl_inv };

static void test_mm_interval_notifier(void **state)
{
	struct fx *f = *state;
	struct siommu_mm_interval *in;
	struct ivl c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	uint64_t a, s;

	assert_int_equal(siommu_mm_mmap(f->mm, 0, 0x10000, RW, ANON, -1, 0, &a), 0);
	assert_int_equal(siommu_mm_interval_insert(f->mm, a, 0x4000, NULL, &c, &in), -EINVAL);
	assert_int_equal(siommu_mm_interval_insert(f->mm, a, 0x4000, &ivl_ops, &c, &in), 0);
	s = siommu_mm_interval_read_begin(in);
	assert_int_equal(s & 1, 0);
	assert_false(siommu_mm_interval_read_retry(in, s));
	assert_int_equal(siommu_mm_munmap(f->mm, a + 0x8000, 0x1000), 0);	/* outside */
	assert_int_equal(c.calls, 0);
	assert_false(siommu_mm_interval_read_retry(in, s));
	assert_int_equal(siommu_mm_madvise(f->mm, a + 0x1000, 0x1000, SIOMMU_MM_MADV_DONTNEED),
			 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.cur & 1, 1);		/* odd while it ran */
	assert_true(siommu_mm_interval_read_retry(in, s));
	s = siommu_mm_interval_read_begin(in);	/* it ended: no wait */
	assert_false(siommu_mm_interval_read_retry(in, s));
	assert_int_equal(siommu_mm_interval_remove(in), 0);
	assert_int_equal(siommu_mm_madvise(f->mm, a, 0x4000, SIOMMU_MM_MADV_DONTNEED), 0);
	assert_int_equal(c.calls, 1);
}

/* ------------------------------------------------------------------ mirrors and SVA */

struct iofx {
	struct siommu_iommu *iommu;
	struct siommu_device *dev;
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static void iofx_init(struct fx *f, struct iofx *io, unsigned int pasid_bits)
{
	struct siommu_iommu_caps caps = { .pasid_bits = pasid_bits };

	siommu_ctx_set_log(f->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_iommu_create(f->ctx, &caps, NULL, &io->iommu), 0);
	assert_int_equal(siommu_device_create(io->iommu, SIOMMU_RID(0, 3, 0, 0),
					      SIOMMU_DEV_PRI | (pasid_bits ? SIOMMU_DEV_PASID : 0),
					      pasid_bits, &io->dev), 0);
}

static void iofx_fini(struct iofx *io)
{
	assert_int_equal(siommu_device_destroy(io->dev), 0);
	assert_int_equal(siommu_iommu_destroy(io->iommu), 0);
}

static void test_mm_mirror_basic(void **state)
{
	struct fx *f = *state;
	struct siommu_mirror_cfg cfg = { 0 };
	struct siommu_mirror_stats st;
	struct siommu_mirror *m, *m4;
	struct iofx io;
	uint64_t a, v = 0x1122334455667788ull, r = 0, pa;

	iofx_init(f, &io, 0);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, 2 * SZ_2M, RW, ANON, -1, 0, &a), 0);
	assert_int_equal(siommu_mirror_create(f->mm, io.iommu, &cfg, &m), 0);
	assert_int_equal(siommu_device_attach(io.dev, siommu_mirror_domain(m)), 0);
	assert_int_equal(siommu_mm_write(f->mm, a + 0x3000, &v, 8), 0);
	/* The device's first read faults; the handler mirrors the 2 MiB page. */
	assert_int_equal(siommu_dma_read(io.dev, SIOMMU_NO_PASID, a + 0x3000, &r, 8), 0);
	assert_int_equal(r, v);
	assert_int_equal(siommu_pt_lookup_level(siommu_mirror_pt(m), a), 21);
	assert_int_equal(siommu_mirror_get_stats(m, &st), 0);
	assert_int_equal(st.maps_2m, 1);
	/* A device write is seen by the CPU. */
	v = 42;
	assert_int_equal(siommu_dma_write(io.dev, SIOMMU_NO_PASID, a + SZ_2M + 8, &v, 8), 0);
	assert_int_equal(siommu_mm_read(f->mm, a + SZ_2M + 8, &r, 8), 0);
	assert_int_equal(r, 42);
	/* Errors: no area (EFAULT), read-only (EACCES). */
	assert_int_equal(siommu_mirror_fault(m, a + 4 * SZ_2M, SIOMMU_ACC_READ), -EFAULT);
	assert_int_equal(siommu_mm_mprotect(f->mm, a, SZ_2M, SIOMMU_MM_PROT_READ), 0);
	assert_int_equal(siommu_pt_iova_to_phys(siommu_mirror_pt(m), a, &pa), -ENOENT); /* zapped */
	assert_int_equal(siommu_mirror_fault(m, a, SIOMMU_ACC_WRITE), -EACCES);
	assert_true(siommu_dma_write(io.dev, SIOMMU_NO_PASID, a, &v, 8) < 0);
	assert_int_equal(siommu_dma_read(io.dev, SIOMMU_NO_PASID, a + 0x3000, &r, 8), 0);
	assert_int_equal(r, 0x1122334455667788ull);
	/* munmap zaps; the device faults after it. */
	assert_int_equal(siommu_mm_munmap(f->mm, a, 2 * SZ_2M), 0);
	assert_int_equal(siommu_pt_iova_to_phys(siommu_mirror_pt(m), a + SZ_2M, &pa), -ENOENT);
	assert_true(siommu_dma_read(io.dev, SIOMMU_NO_PASID, a + 0x3000, &r, 8) < 0);
	/* The 4 KiB-only baseline. */
	assert_int_equal(siommu_mm_mmap(f->mm, a, SZ_2M, RW, ANON | SIOMMU_MM_MAP_FIXED, -1, 0,
					&pa), 0);
	cfg.flags = SIOMMU_MIRROR_4K_ONLY | SIOMMU_MIRROR_NO_HANDLER;
	assert_int_equal(siommu_mirror_create(f->mm, io.iommu, &cfg, &m4), 0);
	assert_int_equal(siommu_mirror_fault(m4, a + 0x5000, SIOMMU_ACC_WRITE), 0);
	assert_int_equal(siommu_mm_lookup_level(f->mm, a), 21);
	assert_int_equal(siommu_pt_lookup_level(siommu_mirror_pt(m4), a + 0x5000), 12);
	assert_int_equal(siommu_mirror_destroy(m4), 0);

	assert_int_equal(siommu_mirror_destroy(m), -EBUSY);
	assert_int_equal(siommu_device_detach(io.dev), 0);
	assert_int_equal(siommu_mirror_destroy(m), 0);
	cfg.fmt = SIOMMU_PT_FMT_VTD_SS;		/* 3 levels: 39 bits < the mm's 47 */
	cfg.flags = 0;
	assert_int_equal(siommu_mirror_create(f->mm, io.iommu, &cfg, &m), -ERANGE);
	iofx_fini(&io);
}

/*
 * A mirror's table gets the pool size it asks for (max_table_pages): a
 * fault whose fill needs a table page beyond it is -ENOMEM and maps
 * nothing; 0 is pgtable's default; out of range is -EINVAL.
 */
static void test_mm_mirror_table_pool_size(void **state)
{
	struct fx *f = *state;
	struct siommu_mirror_cfg cfg = { .flags = SIOMMU_MIRROR_4K_ONLY | SIOMMU_MIRROR_NO_HANDLER,
					 .max_table_pages = 4 };
	struct siommu_pt_info pi;
	struct siommu_mirror *m;
	struct iofx io;
	uint64_t a = 1ull << 32, b = a + SZ_1G, out, pa;

	iofx_init(f, &io, 0);
	assert_int_equal(siommu_mm_mmap(f->mm, a, 2 * 4096, RW, ANON | SIOMMU_MM_MAP_FIXED, -1, 0,
					&out), 0);
	assert_int_equal(siommu_mm_mmap(f->mm, b, 4096, RW, ANON | SIOMMU_MM_MAP_FIXED, -1, 0,
					&out), 0);
	assert_int_equal(siommu_mirror_create(f->mm, io.iommu, &cfg, &m), 0);
	assert_int_equal(siommu_pt_get_info(siommu_mirror_pt(m), &pi), 0);
	assert_int_equal(pi.max_table_pages, 4);
	/* root, PDPT, PD, PT: the whole pool */
	assert_int_equal(siommu_mirror_fault(m, a, SIOMMU_ACC_READ), 0);
	assert_int_equal(siommu_mirror_fault(m, a + 4096, SIOMMU_ACC_WRITE), 0);
	/* another 1 GiB: a PD and a PT more */
	assert_int_equal(siommu_mirror_fault(m, b, SIOMMU_ACC_READ), -ENOMEM);
	assert_int_equal(siommu_pt_iova_to_phys(siommu_mirror_pt(m), b, &pa), -ENOENT);
	assert_int_equal(siommu_pt_iova_to_phys(siommu_mirror_pt(m), a + 4096, &pa), 0);
	assert_int_equal(siommu_mirror_destroy(m), 0);

	cfg.max_table_pages = 0;	/* pgtable's default */
	assert_int_equal(siommu_mirror_create(f->mm, io.iommu, &cfg, &m), 0);
	assert_int_equal(siommu_pt_get_info(siommu_mirror_pt(m), &pi), 0);
	assert_int_equal(pi.max_table_pages, 131072);
	assert_int_equal(siommu_mirror_fault(m, b, SIOMMU_ACC_READ), 0);
	assert_int_equal(siommu_mirror_destroy(m), 0);

	cfg.max_table_pages = (1ull << 26) + 1;	/* refused as siommu_pt_create() refuses it */
	m = NULL;
	assert_int_equal(siommu_mirror_create(f->mm, io.iommu, &cfg, &m), -EINVAL);
	assert_null(m);
	iofx_fini(&io);
}

static void test_mm_sva_basic(void **state)
{
	struct fx *f = *state;
	struct siommu_mm_info info;
	struct siommu_sva *b;
	struct iofx io;
	uint64_t a, v = 7, r = 1;

	iofx_init(f, &io, 8);
	assert_int_equal(siommu_mm_mmap(f->mm, 0, SZ_2M, RW, ANON, -1, 0, &a), 0);
	assert_int_equal(siommu_sva_bind(f->mm, io.iommu, io.dev, 0, 0, &b), -EINVAL);
	assert_int_equal(siommu_sva_bind(f->mm, io.iommu, io.dev, 5, 0, &b), 0);
	assert_int_equal(siommu_sva_pasid(b), 5);
	assert_ptr_equal(siommu_sva_mm(b), f->mm);
	assert_ptr_equal(siommu_domain_pt(siommu_sva_domain(b)), siommu_mm_pt(f->mm)); /* no copy */
	/* The device touches first: the fault handler faults the mm. */
	assert_int_equal(siommu_dma_read(io.dev, 5, a + 64, &r, 8), 0);
	assert_int_equal(r, 0);
	assert_int_equal(siommu_mm_write(f->mm, a + 64, &v, 8), 0);
	assert_int_equal(siommu_dma_read(io.dev, 5, a + 64, &r, 8), 0);
	assert_int_equal(r, 7);
	v = 9;
	assert_int_equal(siommu_dma_write(io.dev, 5, a + 4096, &v, 8), 0);
	assert_int_equal(siommu_mm_read(f->mm, a + 4096, &r, 8), 0);
	assert_int_equal(r, 9);
	/* munmap: the IOTLB entry is gone when it returns; the DMA faults (no area). */
	assert_int_equal(siommu_mm_munmap(f->mm, a, SZ_2M), 0);
	assert_true(siommu_dma_read(io.dev, 5, a + 64, &r, 8) < 0);
	assert_int_equal(siommu_mm_get_info(f->mm, &info), 0);
	assert_int_equal(info.bindings, 1);
	assert_int_equal(siommu_sva_unbind(b), 0);
	assert_int_equal(siommu_mm_get_info(f->mm, &info), 0);
	assert_int_equal(info.bindings, 0);

	/* The mm's last user goes while bound: release detaches; unbind just frees. */
	assert_int_equal(siommu_sva_bind(f->mm, io.iommu, io.dev, 6, 0, &b), 0);
	siommu_mm_destroy(f->mm);
	assert_null(siommu_sva_domain(b));
	assert_null(siommu_device_domain(io.dev, 6));
	assert_int_equal(siommu_mm_mmap(f->mm, 0, SZ_2M, RW, ANON, -1, 0, &a), -ENODEV);
	assert_int_equal(siommu_mm_munmap(f->mm, 0, SZ_2M), -ENODEV);	/* found by fuzz_api */
	assert_int_equal(siommu_sva_unbind(b), 0);	/* frees the mm too */
	assert_int_equal(siommu_mm_create(f->ctx, NULL, &f->mm), 0);	/* for teardown */
	iofx_fini(&io);
}

/*
 * An IOMMU whose input width is below the mm's cannot bind it: -ERANGE, as
 * the contract says (fuzz_api found binds that succeeded, leaving the mm's
 * upper addresses out of the device's reach).
 */
static void test_mm_sva_narrow_iommu(void **state)
{
	struct fx *f = *state;
	struct siommu_iommu_caps caps = { .pasid_bits = 8, .ias_lg2 = 39 };
	struct siommu_mm_cfg c5 = { .levels = 5 };
	struct siommu_iommu *narrow;
	struct siommu_device *dev;
	struct siommu_mm *mm5;
	struct siommu_sva *b;
	struct iofx io;

	siommu_ctx_set_log(f->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	assert_int_equal(siommu_iommu_create(f->ctx, &caps, NULL, &narrow), 0);
	assert_int_equal(siommu_device_create(narrow, SIOMMU_RID(0, 4, 0, 0),
					      SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &dev), 0);
	assert_int_equal(siommu_sva_bind(f->mm, narrow, dev, 1, 0, &b), -ERANGE);
	assert_null(siommu_device_domain(dev, 1));		/* nothing changed */
	assert_int_equal(siommu_device_destroy(dev), 0);
	assert_int_equal(siommu_iommu_destroy(narrow), 0);
	/* The default 48-bit IOMMU takes a 4-level mm, not a 5-level one. */
	iofx_init(f, &io, 8);
	assert_int_equal(siommu_mm_create(f->ctx, &c5, &mm5), 0);
	assert_int_equal(siommu_sva_bind(mm5, io.iommu, io.dev, 1, 0, &b), -ERANGE);
	assert_int_equal(siommu_sva_bind(f->mm, io.iommu, io.dev, 1, 0, &b), 0);
	assert_int_equal(siommu_sva_unbind(b), 0);
	siommu_mm_destroy(mm5);
	iofx_fini(&io);
}

/* Every public function from a thread the library has never seen. */
static void *unseen(void *arg)
{
	struct fx *f = arg;
	uint64_t a, v = 3;

	thread_assert_int_equal(siommu_mm_mmap(f->mm, 0, 0x4000, RW, ANON, -1, 0, &a), 0);
	thread_assert_int_equal(siommu_mm_write(f->mm, a, &v, 8), 0);
	thread_assert_int_equal(siommu_mm_lookup_level(f->mm, a), 12);
	thread_assert_int_equal(siommu_mm_munmap(f->mm, a, 0x4000), 0);
	return NULL;
}

static void test_mm_unseen_thread(void **state)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, unseen, *state), 0);
	pthread_join(t, NULL);
}

/*
 * A freed 1 GiB block leaves no ASan poison behind: the next mmap() that
 * lands on its addresses (another library's, the user's) must be usable.
 * Found by fuzz_run: libFuzzer's second run of an input crashed in
 * folio_retire() on a block whose memory was a previous run's, still
 * poisoned.  Runs the scenario twice, then checks a fresh mapping.
 */
static void test_mm_freed_block_unpoisoned(void **state)
{
	struct fx *f = *state;
	uint64_t a, v = 0x5a;
	void *p;

	for (int round = 0; round < 2; round++) {
		struct siommu_mm *mm;

		assert_int_equal(siommu_mm_create(f->ctx, NULL, &mm), 0);
		assert_int_equal(siommu_mm_mmap(mm, 0, SZ_1G, RW, ANON | SIOMMU_MM_PAGE_1G, -1, 0,
						&a), 0);
		assert_int_equal(siommu_mm_fault(mm, a + 0x12345000, SIOMMU_MM_PROT_WRITE), 0);
		assert_int_equal(siommu_mm_split(mm, a), 1);	/* 2 MiB folios in the block */
		assert_int_equal(siommu_mm_write(mm, a + 0x12345000, &v, 8), 0);
		assert_int_equal(siommu_mm_munmap(mm, a, SZ_1G), 0);
		siommu_mm_destroy(mm);
		/* The grace period has passed when destroy returns; the block is gone. */
	}
	p = mmap(NULL, SZ_1G, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	assert_true(p != MAP_FAILED);
#if TEST_HAVE_ASAN
	assert_null(__asan_region_is_poisoned(p, SZ_1G));
#endif
	memset(p, 1, 4096);
	memset((char *)p + SZ_1G - 4096, 1, 4096);
	munmap(p, SZ_1G);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mm_create_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_mmap_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_level_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_cpu_access_discard_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_file_backed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_notifier_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_notifier_unregister_after_destroy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mm_interval_notifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_mirror_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_mirror_table_pool_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_sva_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_sva_narrow_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_unseen_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_freed_block_unpoisoned, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
