// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The iopf API's edges, one behaviour per case (what test_iopf.c does not
 * reach): the group accessors (the device and domain a group came from,
 * out-of-range requests, NULL), requests a drain took out of the PRQ
 * before it was processed, a domain whose core fault handler belongs to
 * someone else (-EBUSY, nothing set), and misuse of every entry point
 * answered with the error its contract (include/softiommu/iopf.h) names:
 * NULL arguments, calls inside a read-side section, a non-PAGING domain,
 * unknown handler flags, a fault queue with no descriptor left, a
 * WORKERS iopf whose creation runs out of memory (testing builds).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test_common.h"
#include "iopf_test.h"

#include <softiommu/core.h>

#define RID_A	SIOMMU_RID(0, 3, 0, 0)
#define RID_B	SIOMMU_RID(0, 3, 1, 0)

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_iopf *iopf;
	struct siommu_device *a, *b;
	struct siommu_domain *d, *bare;
	struct rec ra, rb;
	/* what the handler saw, per group */
	unsigned int groups;
	struct siommu_device *dev[8];
	struct siommu_domain *dom[8];
	unsigned int count[8];
	const struct siommu_page_request *past_end[8];
	uint64_t addr0[8];
	uint32_t pasid0[8];
};

static int who_handle(void *opaque, struct siommu_iopf_group *g)
{
	struct fixture *f = opaque;
	unsigned int k = f->groups++;

	if (k < 8) {
		f->dev[k] = siommu_iopf_group_device(g);
		f->dom[k] = siommu_iopf_group_domain(g);
		f->count[k] = siommu_iopf_group_count(g);
		f->past_end[k] = siommu_iopf_group_request(g, f->count[k]);
		f->addr0[k] = siommu_iopf_group_request(g, 0)->addr;
		f->pasid0[k] = siommu_iopf_group_request(g, 0)->pasid;
	}
	return SIOMMU_PAGE_RESP_SUCCESS;
}

static const struct siommu_iopf_handler who_ops = {
	.name = "who", .flags = SIOMMU_IOPF_HANDLER_ATOMIC, .handle = who_handle,
};

static int setup(void **state)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8, .prq_size = 16 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_MANUAL,
					.drain_timeout_ms = SIOMMU_IOPF_DRAIN_NOWAIT };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx))
		return -1;
	rec_init(&f->ra);
	rec_init(&f->rb);
	if (siommu_iommu_create(f->ctx, &caps, NULL, &f->iommu) ||
	    siommu_iopf_create(f->iommu, &icfg, &f->iopf) ||
	    siommu_device_create(f->iommu, RID_A, SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &f->a) ||
	    siommu_device_create(f->iommu, RID_B, SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &f->b) ||
	    siommu_domain_create(f->iommu, &cfg, &f->d) ||
	    siommu_domain_create(f->iommu, &cfg, &f->bare) ||
	    siommu_iopf_domain_set_handler(f->iopf, f->d, &who_ops, f) ||
	    siommu_iopf_device_enable(f->iopf, f->a, rec_fn, &f->ra) ||
	    siommu_iopf_device_enable(f->iopf, f->b, rec_fn, &f->rb) ||
	    siommu_device_attach(f->a, f->d) || siommu_pasid_attach(f->a, 5, f->d) ||
	    siommu_device_attach(f->b, f->d))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	siommu_pasid_detach(f->a, 5);
	siommu_device_detach(f->a);
	siommu_device_detach(f->b);
	assert_int_equal(siommu_iopf_device_disable(f->iopf, f->a), 0);
	assert_int_equal(siommu_iopf_device_disable(f->iopf, f->b), 0);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->d), 0);
	assert_int_equal(siommu_iopf_destroy(f->iopf), 0);
	assert_int_equal(siommu_domain_destroy(f->d), 0);
	assert_int_equal(siommu_domain_destroy(f->bare), 0);
	assert_int_equal(siommu_device_destroy(f->a), 0);
	assert_int_equal(siommu_device_destroy(f->b), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static void report_ok(struct fixture *f, struct siommu_device *dev, struct siommu_page_request r)
{
	assert_int_equal(siommu_iopf_report(f->iopf, dev, &r), 0);
}

/* Each group names the device that sent it and the domain it went to. */
static void test_iopf_group_device_and_domain(void **state)
{
	struct fixture *f = *state;

	/* the same PRG index on both devices: two groups, told apart by device */
	report_ok(f, f->b, preq(0, 7, false, 0x3000));
	report_ok(f, f->a, preq(0, 7, true, 0x1000));
	report_ok(f, f->b, preq(0, 7, true, 0x4000));
	report_ok(f, f->a, preq(5, 7, true, 0x2000));
	assert_int_equal(siommu_iopf_process(f->iopf, 0), 4);
	assert_int_equal(f->groups, 3);
	assert_ptr_equal(f->dev[0], f->a);
	assert_int_equal(f->count[0], 1);
	assert_int_equal(f->addr0[0], 0x1000);
	assert_ptr_equal(f->dev[1], f->b);
	assert_int_equal(f->count[1], 2);
	assert_int_equal(f->addr0[1], 0x3000);
	assert_ptr_equal(f->dev[2], f->a);
	assert_int_equal(f->pasid0[2], 5);
	for (unsigned int k = 0; k < 3; k++) {
		assert_ptr_equal(f->dom[k], f->d);
		assert_null(f->past_end[k]);
	}
	assert_int_equal(rec_count(&f->ra), 2);
	assert_int_equal(rec_count(&f->rb), 1);

	/* a device's group seen through a DMA fault too (one request, L = 1) */
	f->groups = 0;
	assert_int_equal(siommu_dma_write(f->b, SIOMMU_NO_PASID, 0x9000, &f->groups, 4), -EAGAIN);
	assert_int_equal(siommu_iopf_process(f->iopf, 0), 1);
	assert_int_equal(f->groups, 1);
	assert_ptr_equal(f->dev[0], f->b);
	assert_ptr_equal(f->dom[0], f->d);
	assert_int_equal(f->addr0[0], 0x9000);

	/* the accessors on NULL */
	assert_null(siommu_iopf_group_device(NULL));
	assert_null(siommu_iopf_group_domain(NULL));
	assert_null(siommu_iopf_group_request(NULL, 0));
	assert_int_equal(siommu_iopf_group_count(NULL), 0);
}

/*
 * A drain takes the device's requests out of the PRQ before they are
 * processed: the last one is answered Invalid by the drain, once, and the
 * later processing sees only the other device's request (the ring is
 * compacted: no handler call, no second answer for the drained group).
 */
static void test_iopf_drain_empties_prq(void **state)
{
	struct fixture *f = *state;
	struct siommu_iopf_stats st;

	report_ok(f, f->a, preq(5, 3, false, 0x1000));
	report_ok(f, f->a, preq(5, 3, true, 0x2000));
	report_ok(f, f->b, preq(0, 4, true, 0x3000));
	/*
	 * (the count is of groups formed and pending: the PRQ's are not
	 * counted, though their answer goes out; see the report)
	 */
	assert_true(siommu_iopf_drain(f->iopf, f->a, 5) >= 0);
	assert_int_equal(rec_count(&f->ra), 1);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_INVALID);
	assert_int_equal(f->ra.r[0].prgi, 3);
	assert_int_equal(f->ra.r[0].pasid, 0);	/* a has no PRG-Response-PASID-Required */
	assert_int_equal(siommu_iopf_process(f->iopf, 0), 1);
	assert_int_equal(f->groups, 1);
	assert_ptr_equal(f->dev[0], f->b);
	assert_int_equal(rec_count(&f->ra), 1);
	assert_int_equal(rec_count(&f->rb), 1);
	assert_int_equal(f->rb.r[0].code, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(siommu_iopf_get_stats(f->iopf, &st), 0);
	assert_int_equal(st.groups, 1);
	assert_int_equal(st.drained_requests, 2);
}

static int other_fault(void *opaque, const struct siommu_fault_info *fi)
{
	(void)opaque;
	(void)fi;
	return -1;
}

/* A domain with someone else's core fault handler: -EBUSY, no iopf handler set. */
static void test_iopf_handler_busy_core_handler(void **state)
{
	struct fixture *f = *state;
	struct siommu_fault_queue *q;

	assert_int_equal(siommu_domain_set_fault_handler(f->bare, other_fault, NULL), 0);
	assert_int_equal(siommu_iopf_domain_set_handler(f->iopf, f->bare, &who_ops, f), -EBUSY);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->bare), -ENOENT);
	assert_int_equal(siommu_fault_queue_create(f->iopf, &q), 0);
	assert_int_equal(siommu_fault_queue_set_domain(q, f->bare), -EBUSY);
	assert_int_equal(siommu_fault_queue_destroy(q), 0);	/* not a handler: no -EBUSY */
	/* the other handler is untouched: its removal is the one that works */
	assert_int_equal(siommu_domain_set_fault_handler(f->bare, NULL, NULL), 0);
	assert_int_equal(siommu_iopf_domain_set_handler(f->iopf, f->bare, &who_ops, f), 0);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->bare), 0);
}

/* Every entry point's documented answer to misuse, and nothing changed. */
static void test_iopf_api_misuse(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg icfg = { .type = SIOMMU_DOMAIN_IDENTITY };
	struct siommu_iopf_handler bad_flags = who_ops, no_handle = who_ops;
	struct siommu_iopf_stats st;
	struct siommu_fault_queue *q = NULL;
	struct siommu_domain *ident;
	struct siommu_iopf *x = NULL;

	bad_flags.flags |= 1u << 7;
	no_handle.handle = NULL;
	assert_int_equal(siommu_iopf_create(NULL, NULL, &x), -EINVAL);
	assert_int_equal(siommu_iopf_create(f->iommu, NULL, NULL), -EINVAL);
	assert_int_equal(siommu_iopf_destroy(NULL), 0);
	assert_int_equal(siommu_iopf_process(NULL, 0), -EINVAL);
	assert_int_equal(siommu_iopf_clear_overflow(NULL), -EINVAL);
	assert_int_equal(siommu_iopf_device_enable(NULL, f->a, rec_fn, &f->ra), -EINVAL);
	assert_int_equal(siommu_iopf_device_disable(NULL, f->a), -EINVAL);
	assert_int_equal(siommu_iopf_device_disable(f->iopf, NULL), -EINVAL);
	assert_int_equal(siommu_iopf_domain_set_handler(NULL, f->bare, &who_ops, f), -EINVAL);
	assert_int_equal(siommu_iopf_domain_set_handler(f->iopf, NULL, &who_ops, f), -EINVAL);
	assert_int_equal(siommu_iopf_domain_set_handler(f->iopf, f->bare, NULL, f), -EINVAL);
	assert_int_equal(siommu_iopf_domain_set_handler(f->iopf, f->bare, &no_handle, f), -EINVAL);
	assert_int_equal(siommu_iopf_domain_set_handler(f->iopf, f->bare, &bad_flags, f), -EINVAL);
	assert_int_equal(siommu_iopf_domain_clear_handler(NULL, f->d), -EINVAL);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, NULL), -EINVAL);
	assert_int_equal(siommu_iopf_get_stats(NULL, &st), -EINVAL);
	assert_int_equal(siommu_iopf_get_stats(f->iopf, NULL), -EINVAL);
	assert_int_equal(siommu_iopf_group_respond(NULL, SIOMMU_PAGE_RESP_SUCCESS), -EINVAL);
	assert_int_equal(siommu_fault_queue_create(NULL, &q), -EINVAL);
	assert_int_equal(siommu_fault_queue_create(f->iopf, NULL), -EINVAL);
	assert_int_equal(siommu_fault_queue_set_domain(NULL, f->bare), -EINVAL);
	assert_int_equal(siommu_fault_queue_close(NULL), -EINVAL);
	assert_int_equal(siommu_fault_queue_fd(NULL), -EINVAL);
	assert_int_equal(siommu_fault_queue_destroy(NULL), 0);

	/* an IDENTITY domain has no page table to fault in: not PAGING */
	assert_int_equal(siommu_domain_create(f->iommu, &icfg, &ident), 0);
	assert_int_equal(siommu_iopf_domain_set_handler(f->iopf, ident, &who_ops, f), -EINVAL);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, ident), -ENOENT);
	assert_int_equal(siommu_domain_destroy(ident), 0);

	/* calls that may wait, inside a read-side section */
	siommu_read_lock();
	assert_int_equal(siommu_iopf_create(f->iommu, NULL, &x), -EDEADLK);
	assert_int_equal(siommu_iopf_destroy(f->iopf), -EDEADLK);
	assert_int_equal(siommu_iopf_process(f->iopf, 0), -EDEADLK);
	assert_int_equal(siommu_iopf_domain_set_handler(f->iopf, f->bare, &who_ops, f), -EDEADLK);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->d), -EDEADLK);
	siommu_read_unlock();
	assert_null(x);

	/* nothing changed: the handler of d still runs, bare still has none */
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->bare), -ENOENT);
	report_ok(f, f->a, preq(0, 1, true, 0x1000));
	assert_int_equal(siommu_iopf_process(f->iopf, 0), 1);
	assert_int_equal(f->groups, 1);
	assert_int_equal(rec_count(&f->ra), 1);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_SUCCESS);
}

/* No descriptor left for the queue's eventfd: -EAGAIN, as documented. */
static void test_iopf_fault_queue_no_descriptor(void **state)
{
	struct fixture *f = *state;
	struct siommu_fault_queue *q = NULL;
	struct rlimit old, low;
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)fd;	/* the lowest free descriptor is past the limit */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	fd = siommu_fault_queue_create(f->iopf, &q);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(fd, -EAGAIN);
	assert_null(q);
	/* nothing held: the iopf has no queue to wait for */
	assert_int_equal(siommu_fault_queue_create(f->iopf, &q), 0);
	assert_true(siommu_fault_queue_fd(q) >= 0);
	assert_int_equal(siommu_fault_queue_destroy(q), 0);
}

/*
 * A WORKERS iopf with each allocation of its creation failing in turn:
 * -ENOMEM, nothing made (the IOMMU can be destroyed: no layer left
 * registered; ASan: no leak), and the first run without a failure works.
 */
static void test_iopf_create_workers_enomem(void **state)
{
	struct siommu_iopf_cfg cfg = { .mode = SIOMMU_IOPF_MODE_WORKERS, .workers = 3 };
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_iopf *x;
	unsigned long n;
	int ret = -ENOMEM;

	(void)state;
	if (!siommu_testing_build())
		skip();
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	for (n = 1; ret == -ENOMEM; n++) {
		assert_int_equal(siommu_iommu_create(ctx, NULL, NULL, &iommu), 0);
		x = NULL;
		siommu_test_fail_nth(n);
		ret = siommu_iopf_create(iommu, &cfg, &x);
		siommu_test_fail_nth(0);
		if (ret == -ENOMEM) {
			assert_null(x);
			assert_int_equal(siommu_iommu_destroy(iommu), 0);
		}
	}
	assert_int_equal(ret, 0);
	assert_true(n > 3);
	assert_int_equal(siommu_iopf_destroy(x), 0);
	assert_int_equal(siommu_iommu_destroy(iommu), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_iopf_group_device_and_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_drain_empties_prq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_handler_busy_core_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_api_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_fault_queue_no_descriptor, setup, teardown),
		cmocka_unit_test(test_iopf_create_workers_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
