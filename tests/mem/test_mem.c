// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the physical memory map: regions, overlap refusal, lookups
 * and accesses (RAM, caller memory, MMIO, spanning), revocation and its
 * notifiers, user counts, bad arguments at every public function, calls
 * from brand-new threads, and a fail-nth sweep over region creation.
 */
#include <errno.h>
#include <unistd.h>
#include "test_common.h"
#include <softiommu/base.h>
#include <softiommu/mem.h>
#include "mem/mem_internal.h"

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(siommu_ctx_create(&f->ctx), 0);
	assert_int_equal(siommu_mem_create(f->ctx, &f->mem), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(siommu_mem_destroy(f->mem), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

/* ---- an MMIO test device: a register file that records its calls ---- */

#define DEV_REGS 64
#define DEV_LOG 32

struct dev_call {
	bool write;
	uint64_t offset;
	unsigned int size;
	uint64_t val;
};

struct dev {
	uint8_t regs[DEV_REGS * 8];
	struct dev_call log[DEV_LOG];
	unsigned int nr_calls;
	int fail_at;			/* 1-based call number that fails; 0: none */
	int fail_ret;
	bool in_section;		/* every call was inside a read-side section */
	struct siommu_mem *nested_mem;	/* if set, a write does a nested access */
	uint64_t nested_pa;
	int nested_ret;
	struct siommu_mem_region *revoke_from_cb;
	int revoke_ret;
};

static int dev_call(struct dev *d, bool write, uint64_t off, unsigned int size,
		    uint64_t *val)
{
	unsigned int i, n = d->nr_calls++;

	if (!siommu_read_ongoing())
		d->in_section = false;
	if (n < DEV_LOG)
		d->log[n] = (struct dev_call){ write, off, size, write ? *val : 0 };
	if (d->fail_at && (int)n + 1 == d->fail_at)
		return d->fail_ret;
	if (off + size > sizeof(d->regs))
		return -EIO;
	if (write) {
		for (i = 0; i < size; i++)
			d->regs[off + i] = (uint8_t)(*val >> (8 * i));
	} else {
		*val = 0;
		for (i = 0; i < size; i++)
			*val |= (uint64_t)d->regs[off + i] << (8 * i);
		if (n < DEV_LOG)
			d->log[n].val = *val;
	}
	return 0;
}

static int dev_read(void *opaque, uint64_t off, unsigned int size, uint64_t *val)
{
	return dev_call(opaque, false, off, size, val);
}

static int dev_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct dev *d = opaque;
	uint8_t b = 0x77;

	if (d->nested_mem)
		d->nested_ret = siommu_mem_rw(d->nested_mem, d->nested_pa, &b, 1, true);
	if (d->revoke_from_cb)
		d->revoke_ret = siommu_mem_region_revoke(d->revoke_from_cb);
	return dev_call(d, true, off, size, &val);
}

static const struct siommu_mem_mmio_ops dev_ops = { dev_read, dev_write };

static void nop_notify(void *opaque, struct siommu_mem_region *r)
{
}

static void dev_init(struct dev *d)
{
	memset(d, 0, sizeof(*d));
	d->in_section = true;
}

/* ---- creation and bad arguments ---- */

static void test_mem_create_bad_args(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem *mem;

	assert_int_equal(siommu_mem_create(NULL, &mem), -EINVAL);
	assert_int_equal(siommu_mem_create(f->ctx, NULL), -EINVAL);
	assert_int_equal(siommu_mem_destroy(NULL), 0);
}

static void test_mem_holds_ctx_busy(void **state)
{
	struct siommu_ctx *ctx;
	struct siommu_mem *mem;

	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_mem_create(ctx, &mem), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), -EBUSY);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

static void test_mem_add_bad_args(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r = NULL;
	struct siommu_mem_mmio_ops half = { dev_read, NULL };
	struct siommu_mem_stats st;
	uint8_t buf[16];
	struct dev d;

	dev_init(&d);
	assert_int_equal(siommu_mem_add_ram(NULL, 0, 4096, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0, 4096, NULL), -EINVAL);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0, 0, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_ram(f->mem, UINT64_MAX - 10, 12, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0, SIOMMU_MEM_RAM_MAX + 1, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_host(f->mem, 0, NULL, 16, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_host(f->mem, 0, buf, 0, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_host(f->mem, 0, (void *)(UINTPTR_MAX - 4), 16, &r),
			 -EINVAL);
	assert_int_equal(siommu_mem_add_host(NULL, 0, buf, 16, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_host(f->mem, 0, buf, 16, NULL), -EINVAL);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0, 64, NULL, &d, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0, 64, &half, &d, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0, 0, &dev_ops, &d, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_mmio(NULL, 0, 64, &dev_ops, &d, &r), -EINVAL);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0, 64, &dev_ops, &d, NULL), -EINVAL);
	assert_null(r);
	assert_int_equal(siommu_mem_get_stats(f->mem, &st), 0);
	assert_int_equal(st.regions, 0);
	assert_int_equal(d.nr_calls, 0);
}

static void test_mem_other_bad_args(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region_info info;
	struct siommu_mem_notifier *n;
	struct siommu_mem_span span;
	struct siommu_mem_stats st;
	uint8_t buf[8];

	assert_int_equal(siommu_mem_region_revoke(NULL), -EINVAL);
	assert_int_equal(siommu_mem_region_destroy(NULL), 0);
	assert_int_equal(siommu_mem_region_get(NULL), -EINVAL);
	assert_int_equal(siommu_mem_region_put(NULL), -EINVAL);
	assert_int_equal(siommu_mem_region_info(NULL, &info), -EINVAL);
	assert_int_equal(siommu_mem_notifier_register(NULL, nop_notify, NULL, &n),
			 -EINVAL);
	assert_int_equal(siommu_mem_notifier_register(f->mem, NULL, NULL, &n), -EINVAL);
	assert_int_equal(siommu_mem_notifier_register(f->mem, nop_notify, NULL, NULL),
			 -EINVAL);
	assert_int_equal(siommu_mem_notifier_unregister(NULL), -EINVAL);
	assert_int_equal(siommu_mem_rw(NULL, 0, buf, 1, false), -EINVAL);
	assert_int_equal(siommu_mem_rw(f->mem, 0, NULL, 1, false), -EINVAL);
	assert_int_equal(siommu_mem_rw(f->mem, 0, buf, 0, false), -EINVAL);
	assert_int_equal(siommu_mem_rw(f->mem, UINT64_MAX, buf, 2, false), -EINVAL);
	assert_int_equal(siommu_mem_for_each_region(NULL, (siommu_mem_region_fn *)1, NULL), -EINVAL);
	assert_int_equal(siommu_mem_for_each_region(f->mem, NULL, NULL), -EINVAL);
	assert_int_equal(siommu_mem_get_stats(NULL, &st), -EINVAL);
	assert_int_equal(siommu_mem_get_stats(f->mem, NULL), -EINVAL);
	siommu_read_lock();
	assert_int_equal(siommu_mem_lookup_rcu(NULL, 0, &span), -EINVAL);
	assert_int_equal(siommu_mem_lookup_rcu(f->mem, 0, NULL), -EINVAL);
	assert_int_equal(siommu_mem_rw_rcu(NULL, 0, buf, 1, false), -EINVAL);
	assert_int_equal(siommu_mem_rw_rcu(f->mem, 0, NULL, 1, true), -EINVAL);
	assert_int_equal(siommu_mem_rw_rcu(f->mem, 0, buf, 0, true), -EINVAL);
	assert_int_equal(siommu_mem_rw_rcu(f->mem, UINT64_MAX - 6, buf, 8, true), -EINVAL);
	siommu_read_unlock();
}

/* ---- overlap ---- */

static void test_mem_overlap_refused(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *a, *b, *r = NULL;
	struct siommu_mem_stats st;
	uint8_t host[0x3000];
	struct dev d;

	dev_init(&d);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x10000, 0x1000, &a), 0);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0x20000, 0x100, &dev_ops, &d, &b), 0);
	/* same, inside, across the start, across the end, around */
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x10000, 0x1000, &r), -EEXIST);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x10800, 0x10, &r), -EEXIST);
	assert_int_equal(siommu_mem_add_host(f->mem, 0xf000, host, 0x1001, &r), -EEXIST);
	assert_int_equal(siommu_mem_add_host(f->mem, 0x10fff, host, 0x10, &r), -EEXIST);
	assert_int_equal(siommu_mem_add_host(f->mem, 0xf000, host, 0x3000, &r), -EEXIST);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0x200ff, 1, &dev_ops, &d, &r), -EEXIST);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1f000, 0x1001, &r), -EEXIST);
	/* one that spans both */
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x0, 0x100000, &r), -EEXIST);
	assert_null(r);
	assert_int_equal(siommu_mem_get_stats(f->mem, &st), 0);
	assert_int_equal(st.regions, 2);
	/* adjacent on both sides is fine */
	assert_int_equal(siommu_mem_add_host(f->mem, 0xf000, host, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(siommu_mem_add_host(f->mem, 0x11000, host, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	/* a revoked region still holds its range until destroyed */
	assert_int_equal(siommu_mem_region_revoke(a), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x10000, 0x1000, &r), -EEXIST);
	assert_int_equal(siommu_mem_region_destroy(a), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x10000, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(siommu_mem_region_destroy(b), 0);
}

/* siommu_mem_check_range(): revoked or destroyed bytes, holes are fine. */
static void test_mem_check_range_finds_revoked(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *a, *b;

	assert_int_equal(siommu_mem_add_ram(f->mem, 0x10000, 0x1000, &a), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x12000, 0x1000, &b), 0);
	assert_int_equal(siommu_mem_check_range(f->mem, 0, 0x100000), 0);
	assert_int_equal(siommu_mem_region_revoke(b), 0);
	assert_int_equal(siommu_mem_check_range(f->mem, 0x10000, 0x2000), 0);	/* a + hole */
	assert_int_equal(siommu_mem_check_range(f->mem, 0x11fff, 2), -ENODEV);	/* into b */
	assert_int_equal(siommu_mem_check_range(f->mem, 0x12fff, 1), -ENODEV);
	assert_int_equal(siommu_mem_check_range(f->mem, 0x13000, 0x1000), 0);
	assert_int_equal(siommu_mem_check_range(f->mem, 0, UINT64_MAX), -ENODEV);
	assert_int_equal(siommu_mem_check_range(NULL, 0, 1), -EINVAL);
	assert_int_equal(siommu_mem_check_range(f->mem, 0, 0), -EINVAL);
	assert_int_equal(siommu_mem_check_range(f->mem, UINT64_MAX, 2), -EINVAL);
	assert_int_equal(siommu_mem_region_destroy(a), 0);
	assert_int_equal(siommu_mem_region_destroy(b), 0);
}

static void test_mem_top_of_address_space(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r, *r2;
	uint64_t v = 0x0123456789abcdefull, w = 0;

	assert_int_equal(siommu_mem_add_ram(f->mem, UINT64_MAX - 0xfff, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, UINT64_MAX, 1, &r2), -EEXIST);
	assert_int_equal(siommu_mem_rw(f->mem, UINT64_MAX - 7, &v, 8, true), 0);
	assert_int_equal(siommu_mem_rw(f->mem, UINT64_MAX - 7, &w, 8, false), 0);
	assert_true(v == w);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0, 1, &r), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0, &w, 1, false), 0);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
}

/* ---- accesses ---- */

static void test_mem_ram_rw(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r;
	uint8_t in[300], out[300], zero[300] = { 0 };
	unsigned int i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x100000, 0x2000, &r), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x100000, out, sizeof(out), false), 0);
	assert_memory_equal(out, zero, sizeof(out));	/* RAM starts zeroed */
	assert_int_equal(siommu_mem_rw(f->mem, 0x101f00, in, 256, true), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x101f00, out, 256, false), 0);
	assert_memory_equal(in, out, 256);
	/* one byte past the end */
	assert_int_equal(siommu_mem_rw(f->mem, 0x101f00, out, 257, false), -EFAULT);
	assert_int_equal(siommu_mem_rw(f->mem, 0xfffff, out, 1, false), -EFAULT);
	assert_int_equal(siommu_mem_rw(f->mem, 0x102000, out, 1, true), -EFAULT);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x100000, out, 1, false), -EFAULT);
}

static void test_mem_host_rw_sees_caller_memory(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r;
	uint8_t host[4096], b[4];
	uint32_t v = 0xa1b2c3d4;

	memset(host, 0x5a, sizeof(host));
	/* a "physical" address that equals the host address, as in host use */
	assert_int_equal(siommu_mem_add_host(f->mem, (uintptr_t)host, host, sizeof(host), &r), 0);
	assert_int_equal(siommu_mem_rw(f->mem, (uintptr_t)host + 100, &v, 4, true), 0);
	assert_memory_equal(host + 100, &v, 4);
	assert_int_equal(siommu_mem_rw(f->mem, (uintptr_t)host + 4092, b, 4, false), 0);
	assert_int_equal(b[0], 0x5a);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	/* the library never frees caller memory; host is still ours */
	host[0] = 1;
}

static void test_mem_mmio_pieces_and_endianness(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r;
	uint8_t in[16], out[16];
	unsigned int i;
	struct dev d;

	dev_init(&d);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(0x10 + i);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0x40000000, 0x1000, &dev_ops, &d, &r), 0);
	/* 6 bytes at offset 2: a 2-byte then a 4-byte call */
	assert_int_equal(siommu_mem_rw(f->mem, 0x40000002, in, 6, true), 0);
	assert_int_equal(d.nr_calls, 2);
	assert_true(d.log[0].write && d.log[0].offset == 2 && d.log[0].size == 2);
	assert_true(d.log[0].val == 0x1110);
	assert_true(d.log[1].offset == 4 && d.log[1].size == 4);
	assert_true(d.log[1].val == 0x15141312);
	/* 15 bytes at offset 1: 1, 2, 4, 8 */
	d.nr_calls = 0;
	assert_int_equal(siommu_mem_rw(f->mem, 0x40000001, out, 15, false), 0);
	assert_int_equal(d.nr_calls, 4);
	assert_true(d.log[0].size == 1 && d.log[1].size == 2 && d.log[2].size == 4 &&
		    d.log[3].size == 8 && d.log[3].offset == 8);
	assert_memory_equal(out + 1, in, 6);	/* offsets 2..7 were written above */
	/* an aligned 8-byte access is one call */
	d.nr_calls = 0;
	assert_int_equal(siommu_mem_rw(f->mem, 0x40000008, out, 8, false), 0);
	assert_int_equal(d.nr_calls, 1);
	assert_true(d.in_section);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
}

static void test_mem_mmio_error_propagates(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_stats st;
	struct siommu_mem_region *r;
	uint8_t b[16] = { 0 };
	struct dev d;

	dev_init(&d);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0x1000, 0x100, &dev_ops, &d, &r), 0);
	d.fail_at = 2;
	d.fail_ret = -EACCES;
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, b, 16, true), -EACCES);
	assert_int_equal(d.nr_calls, 2);	/* stopped at the failing piece */
	d.nr_calls = 0;
	d.fail_at = 1;
	d.fail_ret = 5;				/* positive: -EIO */
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, b, 4, false), -EIO);
	assert_int_equal(siommu_mem_get_stats(f->mem, &st), 0);
	assert_int_equal(st.err_mmio, 2);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
}

static void test_mem_mmio_callback_may_nest_but_not_revoke(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r, *ram, *other;
	uint8_t b = 1;
	struct dev d;

	dev_init(&d);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0x1000, 0x100, &dev_ops, &d, &r), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x2000, 0x100, &ram), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x3000, 0x100, &other), 0);
	d.nested_mem = f->mem;
	d.nested_pa = 0x2010;
	d.revoke_from_cb = other;
	d.revoke_ret = 1;
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, &b, 1, true), 0);
	assert_int_equal(d.nested_ret, 0);		/* a DMA from a doorbell */
	assert_int_equal(d.revoke_ret, -EDEADLK);	/* would wait for itself */
	assert_int_equal(siommu_mem_rw(f->mem, 0x2010, &b, 1, false), 0);
	assert_int_equal(b, 0x77);
	assert_int_equal(siommu_mem_rw(f->mem, 0x3000, &b, 1, false), 0);	/* not revoked */
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(siommu_mem_region_destroy(ram), 0);
	assert_int_equal(siommu_mem_region_destroy(other), 0);
}

/* RAM | MMIO | HOST, adjacent: one access crosses all three. */
static void test_mem_access_spans_adjacent_regions(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *a, *b, *c;
	uint8_t host[0x100], in[0x40], out[0x40];
	unsigned int i;
	struct dev d;

	dev_init(&d);
	memset(host, 0, sizeof(host));
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i + 1);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x100, &a), 0);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0x1100, 0x10, &dev_ops, &d, &b), 0);
	assert_int_equal(siommu_mem_add_host(f->mem, 0x1110, host, sizeof(host), &c), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x10f0, in, 0x40, true), 0);
	assert_memory_equal(d.regs, in + 0x10, 0x10);
	assert_memory_equal(host, in + 0x20, 0x20);
	assert_int_equal(d.nr_calls, 2);	/* 16 bytes of MMIO: two 8-byte calls */
	assert_int_equal(siommu_mem_rw(f->mem, 0x10f0, out, 0x40, false), 0);
	assert_memory_equal(in, out, 0x40);
	assert_int_equal(siommu_mem_region_destroy(a), 0);
	assert_int_equal(siommu_mem_region_destroy(b), 0);
	assert_int_equal(siommu_mem_region_destroy(c), 0);
}

/* A hole or a revoked piece anywhere: nothing moves. */
static void test_mem_access_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *a, *b, *c;
	uint8_t in[0x20], out[0x20], zero[0x20] = { 0 }, ff[0x20];
	struct dev d;

	dev_init(&d);
	memset(in, 0xab, sizeof(in));
	memset(ff, 0xff, sizeof(ff));
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x10, &a), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1020, 0x10, &b), 0);	/* hole at 0x1010 */
	assert_int_equal(siommu_mem_rw(f->mem, 0x1008, in, 0x20, true), -EFAULT);
	memcpy(out, ff, sizeof(out));
	assert_int_equal(siommu_mem_rw(f->mem, 0x1008, out, 0x20, false), -EFAULT);
	assert_memory_equal(out, ff, sizeof(out));	/* the buffer untouched */
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, out, 0x10, false), 0);
	assert_memory_equal(out, zero, 0x10);		/* the memory untouched */
	/* fill the hole with MMIO and revoke it */
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0x1010, 0x10, &dev_ops, &d, &c), 0);
	assert_int_equal(siommu_mem_region_revoke(c), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x1008, in, 0x20, true), -ENODEV);
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, out, 0x10, false), 0);
	assert_memory_equal(out, zero, 0x10);
	assert_int_equal(d.nr_calls, 0);
	/* a span ending in a revoked region, starting in a live one */
	assert_int_equal(siommu_mem_rw(f->mem, 0x100f, in, 2, true), -ENODEV);
	assert_int_equal(siommu_mem_rw(f->mem, 0x100f, out, 1, false), 0);
	assert_int_equal(out[0], 0);
	assert_int_equal(siommu_mem_region_destroy(a), 0);
	assert_int_equal(siommu_mem_region_destroy(b), 0);
	assert_int_equal(siommu_mem_region_destroy(c), 0);
}

static void test_mem_lookup_rcu(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *a, *m;
	struct siommu_mem_span span;
	uint8_t host[0x100];
	struct dev d;

	dev_init(&d);
	assert_int_equal(siommu_mem_add_host(f->mem, 0x5000, host, sizeof(host), &a), 0);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0x6000, 0x10, &dev_ops, &d, &m), 0);
	siommu_read_lock();
	assert_int_equal(siommu_mem_lookup_rcu(f->mem, 0x5010, &span), 0);
	assert_ptr_equal(span.region, a);
	assert_int_equal(span.type, SIOMMU_MEM_HOST);
	assert_int_equal(span.offset, 0x10);
	assert_int_equal(span.len, 0xf0);
	assert_ptr_equal(span.host, host + 0x10);
	assert_int_equal(siommu_mem_lookup_rcu(f->mem, 0x600f, &span), 0);
	assert_ptr_equal(span.region, m);
	assert_int_equal(span.type, SIOMMU_MEM_MMIO);
	assert_int_equal(span.len, 1);
	assert_null(span.host);
	assert_int_equal(siommu_mem_lookup_rcu(f->mem, 0x6010, &span), -EFAULT);
	assert_int_equal(siommu_mem_lookup_rcu(f->mem, 0, &span), -EFAULT);
	siommu_read_unlock();
	assert_int_equal(siommu_mem_region_revoke(a), 0);
	siommu_read_lock();
	assert_int_equal(siommu_mem_lookup_rcu(f->mem, 0x5010, &span), -ENODEV);
	siommu_read_unlock();
	assert_int_equal(siommu_mem_region_destroy(a), 0);
	assert_int_equal(siommu_mem_region_destroy(m), 0);
}

static void test_mem_many_regions_lookup(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r[64];
	unsigned int i, order[64];
	uint64_t v;

	/* add in a scrambled order; each region holds its index */
	for (i = 0; i < 64; i++)
		order[i] = (i * 37) % 64;
	for (i = 0; i < 64; i++) {
		v = order[i];
		assert_int_equal(siommu_mem_add_ram(f->mem, 0x10000 * (uint64_t)order[i], 0x100,
						    &r[order[i]]), 0);
		assert_int_equal(siommu_mem_rw(f->mem, 0x10000 * v + 0x80, &v, 8, true), 0);
	}
	for (i = 0; i < 64; i++) {
		assert_int_equal(siommu_mem_rw(f->mem, 0x10000 * (uint64_t)i + 0x80, &v, 8, false), 0);
		assert_int_equal(v, i);
		assert_int_equal(siommu_mem_rw(f->mem, 0x10000 * (uint64_t)i + 0x100, &v, 1, false),
				 -EFAULT);
	}
	for (i = 0; i < 64; i += 2)
		assert_int_equal(siommu_mem_region_destroy(r[i]), 0);
	for (i = 0; i < 64; i++)
		assert_int_equal(siommu_mem_rw(f->mem, 0x10000 * (uint64_t)i + 0x80, &v, 8, false),
				 i % 2 ? 0 : -EFAULT);
	for (i = 1; i < 64; i += 2)
		assert_int_equal(siommu_mem_region_destroy(r[i]), 0);
}

/* ---- revocation ---- */

struct notify_rec {
	unsigned int calls;
	struct siommu_mem_region *last;
	bool in_section;
	bool revoked_seen;		/* the region was already revoked */
	int revoke_ret, destroy_ret, unregister_ret, rw_ret, add_ret;
	struct siommu_mem *mem;		/* if set: try calls from the notifier */
	struct siommu_mem_notifier *self;
	struct siommu_mem_region *added;
	bool drop_user;			/* put one user of the region */
};

static void notify_fn(void *opaque, struct siommu_mem_region *r)
{
	struct notify_rec *n = opaque;
	struct siommu_mem_region_info info;
	uint8_t b;

	n->calls++;
	n->last = r;
	n->in_section = siommu_read_ongoing();
	assert_int_equal(siommu_mem_region_info(r, &info), 0);
	n->revoked_seen = info.revoked;
	if (n->drop_user)
		assert_int_equal(siommu_mem_region_put(r), 0);
	if (n->mem) {
		n->revoke_ret = siommu_mem_region_revoke(r);
		n->destroy_ret = siommu_mem_region_destroy(r);
		n->unregister_ret = siommu_mem_notifier_unregister(n->self);
		/* the map's lock is not held: these would deadlock otherwise */
		n->rw_ret = siommu_mem_rw(n->mem, info.pa, &b, 1, false);
		n->add_ret = siommu_mem_add_ram(n->mem, 0xf0000000, 0x10, &n->added);
	}
}

static void test_mem_revoke_basic(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region_info info;
	struct siommu_mem_region *r;
	struct siommu_mem_stats st;
	uint8_t b = 0;

	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_region_info(r, NULL), -EINVAL);
	assert_int_equal(siommu_mem_region_info(r, &info), 0);
	assert_false(info.revoked);
	assert_int_equal(info.pa, 0x1000);
	assert_int_equal(info.size, 0x1000);
	assert_int_equal(info.type, SIOMMU_MEM_RAM);
	assert_int_equal(siommu_mem_region_revoke(r), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, &b, 1, false), -ENODEV);
	assert_int_equal(siommu_mem_rw(f->mem, 0x1fff, &b, 1, true), -ENODEV);
	assert_int_equal(siommu_mem_region_get(r), -ENODEV);
	assert_int_equal(siommu_mem_region_info(r, &info), 0);
	assert_true(info.revoked);
	assert_int_equal(siommu_mem_region_revoke(r), 0);	/* again: no-op */
	assert_int_equal(siommu_mem_get_stats(f->mem, &st), 0);
	assert_int_equal(st.revokes, 1);
	assert_int_equal(st.err_revoked, 2);
	assert_int_equal(st.regions, 1);			/* until destroyed */
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, &b, 1, false), -EFAULT);
}

static void test_mem_revoke_refused_inside_read_section(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r;
	uint8_t b;

	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	siommu_read_lock();
	assert_int_equal(siommu_mem_region_revoke(r), -EDEADLK);
	assert_int_equal(siommu_mem_region_destroy(r), -EDEADLK);
	siommu_read_unlock();
	/* nothing happened */
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, &b, 1, false), 0);
	assert_int_equal(siommu_mem_region_get(r), 0);
	assert_int_equal(siommu_mem_region_put(r), 0);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
}

static void test_mem_notifier_called_once_outside_locks(void **state)
{
	struct fixture *f = *state;
	struct notify_rec rec = { 0 };
	struct siommu_mem_region *r;
	struct siommu_mem_stats st;

	assert_int_equal(siommu_mem_notifier_register(f->mem, notify_fn, &rec, &rec.self), 0);
	rec.mem = f->mem;
	rec.in_section = true;
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_region_revoke(r), 0);
	assert_int_equal(rec.calls, 1);
	assert_ptr_equal(rec.last, r);
	assert_false(rec.in_section);
	assert_true(rec.revoked_seen);
	assert_int_equal(rec.revoke_ret, -EDEADLK);
	assert_int_equal(rec.destroy_ret, -EDEADLK);
	assert_int_equal(rec.unregister_ret, -EDEADLK);
	assert_int_equal(rec.rw_ret, -ENODEV);		/* already refused */
	assert_int_equal(rec.add_ret, 0);		/* the map's lock is free */
	assert_int_equal(siommu_mem_region_revoke(r), 0);
	assert_int_equal(rec.calls, 1);			/* not called again */
	rec.mem = NULL;
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(siommu_mem_get_stats(f->mem, &st), 0);
	assert_int_equal(st.notifiers, 1);
	assert_int_equal(siommu_mem_destroy(f->mem), -EBUSY);	/* a notifier remains */
	assert_int_equal(siommu_mem_notifier_unregister(rec.self), 0);
	assert_int_equal(siommu_mem_get_stats(f->mem, &st), 0);
	assert_int_equal(st.notifiers, 0);
	assert_int_equal(st.regions, 1);	/* the one the notifier added */
	assert_int_equal(siommu_mem_region_destroy(rec.added), 0);
}

static void test_mem_destroy_implies_revoke(void **state)
{
	struct fixture *f = *state;
	struct notify_rec rec = { 0 };
	struct siommu_mem_notifier *n;
	struct siommu_mem_region *r;

	assert_int_equal(siommu_mem_notifier_register(f->mem, notify_fn, &rec, &n), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(rec.calls, 1);
	assert_true(rec.revoked_seen);
	assert_int_equal(siommu_mem_notifier_unregister(n), 0);
	/* an unregistered notifier is not called */
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(rec.calls, 1);
}

static void test_mem_users_block_destroy(void **state)
{
	struct fixture *f = *state;
	struct notify_rec rec = { 0 };
	struct siommu_mem_region_info info;
	struct siommu_mem_notifier *n;
	struct siommu_mem_region *r;
	uint8_t b;

	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_region_put(r), -EINVAL);	/* no user yet */
	assert_int_equal(siommu_mem_region_get(r), 0);
	assert_int_equal(siommu_mem_region_get(r), 0);
	assert_int_equal(siommu_mem_region_destroy(r), -EBUSY);
	/* nothing changed: still live */
	assert_int_equal(siommu_mem_region_info(r, &info), 0);
	assert_false(info.revoked);
	assert_int_equal(info.users, 2);
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, &b, 1, false), 0);
	assert_int_equal(siommu_mem_destroy(f->mem), -EBUSY);
	/* a revoke notifier is where users let go */
	rec.drop_user = true;
	assert_int_equal(siommu_mem_notifier_register(f->mem, notify_fn, &rec, &n), 0);
	assert_int_equal(siommu_mem_region_revoke(r), 0);
	assert_int_equal(siommu_mem_region_info(r, &info), 0);
	assert_int_equal(info.users, 1);
	assert_int_equal(siommu_mem_region_destroy(r), -EBUSY);	/* one left */
	assert_int_equal(siommu_mem_region_put(r), 0);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(siommu_mem_notifier_unregister(n), 0);
}

static int visit(void *opaque, struct siommu_mem_region *r,
		 const struct siommu_mem_region_info *info)
{
	uint64_t *seen = opaque;

	assert_true(siommu_read_ongoing());
	seen[seen[0] + 1] = info->pa | info->revoked;
	seen[0]++;
	return seen[0] == 3 ? 42 : 0;
}

static void test_mem_for_each_region(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r[4];
	uint64_t seen[8] = { 0 };
	unsigned int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(siommu_mem_add_ram(f->mem, 0x4000 - 0x1000 * (uint64_t)i, 0x100,
						    &r[i]), 0);
	assert_int_equal(siommu_mem_region_revoke(r[2]), 0);	/* pa 0x2000 */
	assert_int_equal(siommu_mem_for_each_region(f->mem, visit, seen), 42);
	assert_int_equal(seen[0], 3);
	assert_int_equal(seen[1], 0x1000);
	assert_int_equal(seen[2], 0x2001);
	assert_int_equal(seen[3], 0x3000);
	for (i = 0; i < 4; i++)
		assert_int_equal(siommu_mem_region_destroy(r[i]), 0);
	seen[0] = 0;
	assert_int_equal(siommu_mem_for_each_region(f->mem, visit, seen), 0);
	assert_int_equal(seen[0], 0);
}

static void test_mem_stats_count(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r, *m;
	struct siommu_mem_stats st;
	uint8_t b[10] = { 0 };
	struct dev d;

	dev_init(&d);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_add_mmio(f->mem, 0x2000, 0x10, &dev_ops, &d, &m), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, b, 10, true), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, b, 4, false), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x2000, b, 3, false), 0);	/* 2 calls */
	assert_int_equal(siommu_mem_rw(f->mem, 0x9000, b, 1, false), -EFAULT);
	assert_int_equal(siommu_mem_get_stats(f->mem, &st), 0);
	assert_int_equal(st.writes, 1);
	assert_int_equal(st.reads, 2);
	assert_int_equal(st.bytes_written, 10);
	assert_int_equal(st.bytes_read, 7);
	assert_int_equal(st.mmio_calls, 2);
	assert_int_equal(st.err_unmapped, 1);
	assert_int_equal(st.regions, 2);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(siommu_mem_region_destroy(m), 0);
}

/* ---- waiting: concurrent revokes and unregister during a call ---- */

struct slow_notifier {
	int entered;		/* atomics */
	int release;
	int done;
};

static void slow_fn(void *opaque, struct siommu_mem_region *r)
{
	struct slow_notifier *s = opaque;

	__atomic_store_n(&s->entered, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->release, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(20000);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
}

struct waiter {
	struct siommu_mem_region *r;
	struct siommu_mem_notifier *n;
	struct slow_notifier *s;
	int returned;		/* atomic */
	int done_at_return;
	int ret;
};

static void *revoke_thread(void *arg)
{
	struct waiter *w = arg;

	w->ret = siommu_mem_region_revoke(w->r);
	w->done_at_return = __atomic_load_n(&w->s->done, __ATOMIC_ACQUIRE);
	__atomic_store_n(&w->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *unregister_thread(void *arg)
{
	struct waiter *w = arg;

	w->ret = siommu_mem_notifier_unregister(w->n);
	w->done_at_return = __atomic_load_n(&w->s->done, __ATOMIC_ACQUIRE);
	__atomic_store_n(&w->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void wait_entered(struct slow_notifier *s)
{
	while (!__atomic_load_n(&s->entered, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static void test_mem_second_revoke_waits_for_first(void **state)
{
	struct fixture *f = *state;
	struct slow_notifier s = { 0 };
	struct siommu_mem_notifier *n;
	struct siommu_mem_region *r;
	struct waiter w1 = { 0 }, w2 = { 0 };
	pthread_t t1, t2;

	assert_int_equal(siommu_mem_notifier_register(f->mem, slow_fn, &s, &n), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	w1 = (struct waiter){ .r = r, .s = &s };
	w2 = w1;
	assert_int_equal(pthread_create(&t1, NULL, revoke_thread, &w1), 0);
	wait_entered(&s);
	assert_int_equal(pthread_create(&t2, NULL, revoke_thread, &w2), 0);
	usleep(20000);
	assert_false(__atomic_load_n(&w2.returned, __ATOMIC_ACQUIRE));
	__atomic_store_n(&s.release, 1, __ATOMIC_RELEASE);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(w1.ret, 0);
	assert_int_equal(w2.ret, 0);
	assert_true(w1.done_at_return && w2.done_at_return);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	assert_int_equal(siommu_mem_notifier_unregister(n), 0);
}

static void test_mem_unregister_waits_for_running_call(void **state)
{
	struct fixture *f = *state;
	struct slow_notifier s = { 0 };
	struct siommu_mem_region *r;
	struct waiter w1 = { 0 }, w2 = { 0 };
	pthread_t t1, t2;

	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	w1 = (struct waiter){ .r = r, .s = &s };
	assert_int_equal(siommu_mem_notifier_register(f->mem, slow_fn, &s, &w1.n), 0);
	w2 = w1;
	assert_int_equal(pthread_create(&t1, NULL, revoke_thread, &w1), 0);
	wait_entered(&s);
	assert_int_equal(pthread_create(&t2, NULL, unregister_thread, &w2), 0);
	usleep(20000);
	assert_false(__atomic_load_n(&w2.returned, __ATOMIC_ACQUIRE));
	__atomic_store_n(&s.release, 1, __ATOMIC_RELEASE);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(w2.ret, 0);
	assert_true(w2.done_at_return);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
}

/* An MMIO access blocked in its callback holds up revoke until it ends. */
struct blocking_dev {
	struct slow_notifier s;		/* entered / release / done, as above */
	struct siommu_mem *mem;
	int access_ret;
};

static int blocking_read(void *opaque, uint64_t off, unsigned int size, uint64_t *val)
{
	slow_fn(opaque, NULL);		/* struct slow_notifier is the first member */
	*val = 0;
	return 0;
}

static int blocking_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	return 0;
}

static const struct siommu_mem_mmio_ops blocking_ops = { blocking_read, blocking_write };

static void *access_thread(void *arg)
{
	struct blocking_dev *d = arg;
	uint32_t v;

	d->access_ret = siommu_mem_rw(d->mem, 0x1000, &v, 4, false);
	return NULL;
}

static void test_mem_revoke_waits_for_access_in_flight(void **state)
{
	struct fixture *f = *state;
	struct blocking_dev d = { .mem = f->mem, .access_ret = 1 };
	struct siommu_mem_region *r;
	struct waiter w = { 0 };
	pthread_t ta, tr;
	unsigned int i;
	uint32_t v;

	assert_int_equal(siommu_mem_add_mmio(f->mem, 0x1000, 0x10, &blocking_ops, &d, &r), 0);
	assert_int_equal(pthread_create(&ta, NULL, access_thread, &d), 0);
	wait_entered(&d.s);
	w = (struct waiter){ .r = r, .s = &d.s };
	assert_int_equal(pthread_create(&tr, NULL, revoke_thread, &w), 0);
	/*
	 * Wait until the revoke has marked the region (a new access before
	 * that would block in the callback this thread is to release), then
	 * check that it is still waiting for the access in flight.
	 */
	for (i = 0; siommu_mem_check_range(f->mem, 0x1000, 0x10) != -ENODEV; i++) {
		if (i == 20000)
			fail_msg("revoke did not mark the region within 20 s");
		usleep(1000);
	}
	usleep(20000);
	assert_false(__atomic_load_n(&w.returned, __ATOMIC_ACQUIRE));
	/* new accesses already fail while the old one is still running */
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, &v, 4, false), -ENODEV);
	__atomic_store_n(&d.s.release, 1, __ATOMIC_RELEASE);
	pthread_join(tr, NULL);
	pthread_join(ta, NULL);
	assert_int_equal(w.ret, 0);
	assert_true(w.done_at_return);		/* the callback had finished */
	assert_int_equal(d.access_ret, 0);	/* it started before the revoke */
	assert_int_equal(siommu_mem_region_destroy(r), 0);
}

/* ---- brand-new threads may call every function ---- */

struct api_arg {
	struct siommu_ctx *ctx;
	int failures;
};

static int nop_visit(void *opaque, struct siommu_mem_region *r,
		     const struct siommu_mem_region_info *info)
{
	return 0;
}

static void *call_every_api(void *p)
{
	struct api_arg *a = p;
	struct siommu_mem_region_info info;
	struct siommu_mem_region *r, *h, *m;
	struct siommu_mem_notifier *n;
	struct siommu_mem_span span;
	struct siommu_mem_stats st;
	struct siommu_mem *mem;
	uint8_t host[64], b[8] = { 0 };
	struct dev d;
	int bad = 0;

	dev_init(&d);
	bad += siommu_mem_create(a->ctx, &mem) != 0;
	bad += siommu_mem_notifier_register(mem, nop_notify, NULL, &n) != 0;
	bad += siommu_mem_add_ram(mem, 0, 64, &r) != 0;
	bad += siommu_mem_add_host(mem, 64, host, 64, &h) != 0;
	bad += siommu_mem_add_mmio(mem, 128, 64, &dev_ops, &d, &m) != 0;
	bad += siommu_mem_rw(mem, 60, b, 8, true) != 0;
	siommu_read_lock();
	bad += siommu_mem_rw_rcu(mem, 120, b, 8, false) != 0;
	bad += siommu_mem_lookup_rcu(mem, 1, &span) != 0;
	siommu_read_unlock();
	bad += siommu_mem_region_get(r) != 0;
	bad += siommu_mem_region_put(r) != 0;
	bad += siommu_mem_region_info(h, &info) != 0;
	bad += siommu_mem_check_range(mem, 0, 192) != 0;
	bad += siommu_mem_for_each_region(mem, nop_visit, NULL) != 0;
	bad += siommu_mem_get_stats(mem, &st) != 0;
	bad += siommu_mem_region_revoke(h) != 0;
	bad += siommu_mem_region_destroy(h) != 0;
	bad += siommu_mem_region_destroy(r) != 0;
	bad += siommu_mem_region_destroy(m) != 0;
	bad += siommu_mem_notifier_unregister(n) != 0;
	bad += siommu_mem_destroy(mem) != 0;
	a->failures = bad;
	return NULL;
}

static void test_mem_new_threads_call_every_api(void **state)
{
	struct fixture *f = *state;
	struct api_arg a[4];
	void *args[4];
	unsigned int i;

	for (i = 0; i < 4; i++) {
		a[i] = (struct api_arg){ .ctx = f->ctx, .failures = -1 };
		args[i] = &a[i];
	}
	test_run_threads(4, call_every_api, args);
	for (i = 0; i < 4; i++)
		assert_int_equal(a[i].failures, 0);
}

/* ---- fail-nth ---- */

/*
 * The sequence: create a map, add one region of each kind, register a
 * notifier.  Each step's -ENOMEM must leave the map as it was (checked by
 * lookups and the region count), and unwinding must leave no leak
 * (LeakSanitizer in the ASan build).
 */
static int failnth_sequence(struct siommu_ctx *ctx, struct dev *d)
{
	struct siommu_mem_region *r[3] = { NULL };
	struct siommu_mem_notifier *n = NULL;
	struct siommu_mem_stats st;
	struct siommu_mem *mem;
	static uint8_t host[256];
	unsigned int i, nr = 0;
	uint8_t b;
	int ret;

	ret = siommu_mem_create(ctx, &mem);
	if (ret)
		return ret;
	ret = siommu_mem_add_ram(mem, 0x1000, 0x100, &r[0]);
	if (!ret) {
		nr++;
		ret = siommu_mem_add_host(mem, 0x2000, host, sizeof(host), &r[1]);
	}
	if (!ret) {
		nr++;
		ret = siommu_mem_add_mmio(mem, 0x3000, 0x100, &dev_ops, d, &r[2]);
	}
	if (!ret) {
		nr++;
		ret = siommu_mem_notifier_register(mem, nop_notify, NULL, &n);
	}
	siommu_test_fail_nth(0);
	/* whatever failed changed nothing */
	assert_int_equal(siommu_mem_get_stats(mem, &st), 0);
	assert_int_equal(st.regions, nr);
	for (i = 0; i < 3; i++)
		assert_int_equal(siommu_mem_rw(mem, 0x1000 * (uint64_t)(i + 1), &b, 1, false),
				 i < nr ? 0 : -EFAULT);
	if (n)
		assert_int_equal(siommu_mem_notifier_unregister(n), 0);
	for (i = 0; i < nr; i++)
		assert_int_equal(siommu_mem_region_destroy(r[i]), 0);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	return ret;
}

static void test_mem_fail_nth_sweep_region_create(void **state)
{
	struct fixture *f = *state;
	unsigned long n;
	int ret = -ENOMEM;
	struct dev d;

	if (!siommu_testing_build())
		skip();
	dev_init(&d);
	for (n = 1; n < 100; n++) {
		assert_int_equal(siommu_test_fail_nth(n), 0);
		ret = failnth_sequence(f->ctx, &d);
		if (ret == 0)
			break;
		assert_int_equal(ret, -ENOMEM);
	}
	siommu_test_fail_nth(0);
	assert_int_equal(ret, 0);
	assert_true(n > 6);	/* map, its array and stats, three regions, a notifier */
}

/* Destroy cannot fail: without memory for a new array it leaves a tombstone. */
static void test_mem_destroy_without_memory_leaves_tombstone(void **state)
{
	struct fixture *f = *state;
	struct siommu_mem_region *r, *r2;
	struct siommu_mem_stats st;
	uint8_t b;

	if (!siommu_testing_build())
		skip();
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x3000, 0x1000, &r2), 0);
	/* this thread's statistics block exists before the armed allocation */
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, &b, 1, false), 0);
	siommu_test_fail_nth(1);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	siommu_test_fail_nth(0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, &b, 1, false), -EFAULT);
	assert_int_equal(siommu_mem_rw(f->mem, 0x3000, &b, 1, false), 0);
	assert_int_equal(siommu_mem_get_stats(f->mem, &st), 0);
	assert_int_equal(st.regions, 1);
	/* the range is free again; the rebuild drops the tombstone */
	assert_int_equal(siommu_mem_add_ram(f->mem, 0x1000, 0x1000, &r), 0);
	assert_int_equal(siommu_mem_rw(f->mem, 0x1000, &b, 1, false), 0);
	siommu_test_fail_nth(1);
	assert_int_equal(siommu_mem_region_destroy(r), 0);
	siommu_test_fail_nth(0);
	assert_int_equal(siommu_mem_region_destroy(r2), 0);
	/* the map's destroy frees the last tombstone (LeakSanitizer checks) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mem_create_bad_args, setup, teardown),
		cmocka_unit_test(test_mem_holds_ctx_busy),
		cmocka_unit_test_setup_teardown(test_mem_add_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_other_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_overlap_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_check_range_finds_revoked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mem_top_of_address_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_ram_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_host_rw_sees_caller_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_mmio_pieces_and_endianness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_mmio_error_propagates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_mmio_callback_may_nest_but_not_revoke,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_access_spans_adjacent_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_access_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_lookup_rcu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_many_regions_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_revoke_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_revoke_refused_inside_read_section,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_notifier_called_once_outside_locks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_destroy_implies_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_users_block_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_for_each_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_stats_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_second_revoke_waits_for_first,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_unregister_waits_for_running_call,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_revoke_waits_for_access_in_flight,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_new_threads_call_every_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_fail_nth_sweep_region_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_destroy_without_memory_leaves_tombstone,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("mem", tests, NULL, NULL);
}
