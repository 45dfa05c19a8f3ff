// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fault queue (iommufd's fault fd): whole groups read as fixed-size
 * records under one cookie, short reads keep the group, responses by
 * cookie (Success or Invalid only; unknown or reused cookies are errors),
 * poll readable while groups wait, detach answering unread groups at once
 * and unanswered ones after the drain timeout, close answering everything,
 * and a consumer thread using only poll, read and write.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_common.h"
#include "iopf_test.h"

#include <softiommu/core.h>

#define RID_A	SIOMMU_RID(0, 3, 0, 0)
#define REC	sizeof(struct siommu_fault_queue_record)

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_iopf *iopf;
	struct siommu_device *a;
	struct siommu_domain *dom;
	struct siommu_fault_queue *q;
	struct rec ra;
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static int setup_timeout(void **state, uint32_t ms)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_INLINE, .drain_timeout_ms = ms };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx))
		return -1;
	siommu_ctx_set_log(f->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	rec_init(&f->ra);
	if (siommu_iommu_create(f->ctx, &caps, NULL, &f->iommu) ||
	    siommu_iopf_create(f->iommu, &icfg, &f->iopf) ||
	    siommu_device_create(f->iommu, RID_A, SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &f->a) ||
	    siommu_domain_create(f->iommu, &cfg, &f->dom) ||
	    siommu_fault_queue_create(f->iopf, &f->q) ||
	    siommu_fault_queue_set_domain(f->q, f->dom) ||
	    siommu_iopf_device_enable(f->iopf, f->a, rec_fn, &f->ra) ||
	    siommu_pasid_attach(f->a, 1, f->dom) || siommu_device_attach(f->a, f->dom))
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_timeout(state, 5000);
}

static int setup_short(void **state)
{
	return setup_timeout(state, 50);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	siommu_pasid_detach(f->a, 1);
	siommu_device_detach(f->a);
	assert_int_equal(siommu_iopf_device_disable(f->iopf, f->a), 0);
	assert_int_equal(siommu_fault_queue_destroy(f->q), -EBUSY);
	assert_int_equal(siommu_iopf_destroy(f->iopf), -EBUSY);
	assert_int_equal(siommu_iopf_domain_clear_handler(f->iopf, f->dom), 0);
	assert_int_equal(siommu_fault_queue_destroy(f->q), 0);
	assert_int_equal(siommu_iopf_destroy(f->iopf), 0);
	assert_int_equal(siommu_domain_destroy(f->dom), 0);
	assert_int_equal(siommu_device_destroy(f->a), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f);
	return 0;
}

static void report_ok(struct fixture *f, struct siommu_page_request r)
{
	assert_int_equal(siommu_iopf_report(f->iopf, f->a, &r), 0);
}

static bool readable(struct fixture *f)
{
	struct pollfd p = { .fd = siommu_fault_queue_fd(f->q), .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static ssize_t answer(struct fixture *f, uint32_t cookie, uint32_t code)
{
	struct siommu_fault_queue_response r = { .cookie = cookie, .code = code };

	return siommu_fault_queue_write(f->q, &r, sizeof(r));
}

static void test_fq_read_whole_groups(void **state)
{
	struct fixture *f = *state;
	struct siommu_fault_queue_record rec[8];

	assert_false(readable(f));
	assert_int_equal(siommu_fault_queue_read(f->q, rec, sizeof(rec)), 0);
	report_ok(f, preq(1, 7, false, 0x1000));
	report_ok(f, preq(1, 7, false, 0x2000));
	assert_false(readable(f));			/* partial: not a group yet */
	report_ok(f, preq(1, 7, true, 0x3000));
	report_ok(f, preq(0, 9, true, 0x4000));
	assert_true(readable(f));
	/* too small for the first group: 0, and it stays */
	assert_int_equal(siommu_fault_queue_read(f->q, rec, 2 * REC), 0);
	assert_int_equal(siommu_fault_queue_read(f->q, rec, 3 * REC + 5), 3 * REC);
	assert_true(readable(f));			/* the second one waits */
	assert_int_equal(rec[0].addr, 0x1000);
	assert_int_equal(rec[2].addr, 0x3000);
	assert_int_equal(rec[0].flags, SIOMMU_FQ_PASID_VALID);
	assert_int_equal(rec[2].flags, SIOMMU_FQ_PASID_VALID | SIOMMU_FQ_LAST_PAGE);
	assert_int_equal(rec[0].dev_id, RID_A);
	assert_int_equal(rec[1].pasid, 1);
	assert_int_equal(rec[1].grpid, 7);
	assert_int_equal(rec[1].perm, SIOMMU_ACC_READ);
	assert_int_equal(rec[0].cookie, rec[2].cookie);
	assert_int_equal(siommu_fault_queue_read(f->q, &rec[3], sizeof(rec) - 3 * REC), REC);
	assert_false(readable(f));
	assert_int_not_equal(rec[3].cookie, rec[0].cookie);
	assert_int_equal(rec[3].flags, SIOMMU_FQ_LAST_PAGE);
	/* answers by cookie, to the device by PRG index */
	assert_int_equal(answer(f, rec[3].cookie, SIOMMU_PAGE_RESP_SUCCESS), 8);
	assert_int_equal(rec_count(&f->ra), 1);
	assert_int_equal(f->ra.r[0].prgi, 9);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_SUCCESS);
	assert_int_equal(answer(f, rec[0].cookie, SIOMMU_PAGE_RESP_INVALID), 8);
	assert_int_equal(f->ra.r[1].prgi, 7);
	assert_int_equal(f->ra.r[1].code, SIOMMU_PAGE_RESP_INVALID);
}

static void test_fq_bad_responses(void **state)
{
	struct fixture *f = *state;
	struct siommu_fault_queue_record rec[2];
	struct siommu_fault_queue_response two[2];

	report_ok(f, preq(1, 1, true, 0x1000));
	report_ok(f, preq(1, 2, true, 0x1000));
	assert_int_equal(siommu_fault_queue_read(f->q, rec, sizeof(rec)), 2 * REC);
	assert_int_equal(answer(f, rec[0].cookie, SIOMMU_PAGE_RESP_FAILURE), -EINVAL);
	assert_int_equal(answer(f, 999, SIOMMU_PAGE_RESP_SUCCESS), -ENOENT);
	assert_int_equal(siommu_fault_queue_write(f->q, two, 7), -EINVAL);
	assert_int_equal(siommu_fault_queue_write(f->q, two, 0), -EINVAL);
	assert_int_equal(rec_count(&f->ra), 0);
	/* the first of two is taken, the bad second is not */
	two[0] = (struct siommu_fault_queue_response){ rec[0].cookie, SIOMMU_PAGE_RESP_SUCCESS };
	two[1] = (struct siommu_fault_queue_response){ rec[1].cookie, 5 };
	assert_int_equal(siommu_fault_queue_write(f->q, two, sizeof(two)), 8);
	assert_int_equal(rec_count(&f->ra), 1);
	/* a cookie answers once */
	assert_int_equal(answer(f, rec[0].cookie, SIOMMU_PAGE_RESP_SUCCESS), -ENOENT);
	assert_int_equal(answer(f, rec[1].cookie, SIOMMU_PAGE_RESP_SUCCESS), 8);
	assert_int_equal(rec_count(&f->ra), 2);
	assert_int_equal(siommu_fault_queue_read(NULL, rec, 1), -EINVAL);
	assert_int_equal(siommu_fault_queue_read(f->q, NULL, 1), -EINVAL);
}

static void test_fq_close_answers_everything(void **state)
{
	struct fixture *f = *state;
	struct siommu_fault_queue_record rec[4];

	report_ok(f, preq(1, 1, true, 0x1000));
	assert_int_equal(siommu_fault_queue_read(f->q, rec, sizeof(rec)), REC);
	report_ok(f, preq(1, 2, true, 0x1000));		/* unread */
	assert_int_equal(siommu_fault_queue_close(f->q), 2);
	assert_int_equal(rec_count(&f->ra), 2);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_INVALID);
	assert_int_equal(f->ra.r[1].code, SIOMMU_PAGE_RESP_INVALID);
	assert_false(readable(f));
	assert_int_equal(siommu_fault_queue_read(f->q, rec, sizeof(rec)), -EBADF);
	assert_int_equal(answer(f, rec[0].cookie, SIOMMU_PAGE_RESP_SUCCESS), -EBADF);
	/* groups reaching a closed queue are answered at once */
	report_ok(f, preq(1, 3, true, 0x1000));
	assert_int_equal(rec_count(&f->ra), 3);
	assert_int_equal(f->ra.r[2].code, SIOMMU_PAGE_RESP_INVALID);
	assert_int_equal(siommu_fault_queue_close(f->q), 0);
}

/* Detach: an unread group is answered at once (no one saw it), no wait. */
static void test_fq_detach_answers_unread_at_once(void **state)
{
	struct fixture *f = *state;
	struct siommu_fault_queue_record rec[2];
	double t0;

	report_ok(f, preq(1, 1, true, 0x1000));
	report_ok(f, preq(0, 2, true, 0x1000));
	assert_true(readable(f));
	t0 = test_now_s();
	assert_int_equal(siommu_pasid_detach(f->a, 1), 0);
	assert_true(test_now_s() - t0 < 2.0);		/* the 5 s timeout was not waited */
	assert_int_equal(rec_count(&f->ra), 1);
	assert_int_equal(f->ra.r[0].prgi, 1);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_INVALID);
	/* the other group is still there */
	assert_true(readable(f));
	assert_int_equal(siommu_fault_queue_read(f->q, rec, sizeof(rec)), REC);
	assert_int_equal(rec[0].grpid, 2);
	assert_false(readable(f));
}

/* Detach: a read, unanswered group waits the timeout, then Invalid; a late write is dropped. */
static void test_fq_detach_unanswered_after_timeout(void **state)
{
	struct fixture *f = *state;
	struct siommu_fault_queue_record rec[2];
	struct siommu_iopf_stats s;

	report_ok(f, preq(1, 1, true, 0x1000));
	assert_int_equal(siommu_fault_queue_read(f->q, rec, sizeof(rec)), REC);
	assert_int_equal(siommu_pasid_detach(f->a, 1), 0);
	assert_int_equal(rec_count(&f->ra), 1);
	assert_int_equal(f->ra.r[0].code, SIOMMU_PAGE_RESP_INVALID);
	/* accepted (the cookie was read) but dropped: never delivered */
	assert_int_equal(answer(f, rec[0].cookie, SIOMMU_PAGE_RESP_SUCCESS), 8);
	assert_int_equal(rec_count(&f->ra), 1);
	assert_int_equal(siommu_iopf_get_stats(f->iopf, &s), 0);
	assert_int_equal(s.drain_timeouts, 1);
	assert_int_equal(s.resp_dropped, 1);
}

#define NGROUPS 250

struct consumer {
	struct siommu_fault_queue *q;
	int fd;
	unsigned int groups;
	int stop;			/* atomic */
};

/* A consumer as another process would be: poll, read, write, nothing else. */
static void *consumer(void *arg)
{
	struct consumer *c = arg;
	struct siommu_fault_queue_record rec[16];

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;
		size_t i;

		if (poll(&p, 1, 20) != 1)
			continue;
		n = siommu_fault_queue_read(c->q, rec, sizeof(rec));
		thread_assert_true(n >= 0 && n % REC == 0);
		for (i = 0; i < (size_t)n / REC; i++) {
			struct siommu_fault_queue_response r = { rec[i].cookie,
								 SIOMMU_PAGE_RESP_SUCCESS };

			if (!(rec[i].flags & SIOMMU_FQ_LAST_PAGE))
				continue;
			thread_assert_int_equal(siommu_fault_queue_write(c->q, &r, sizeof(r)),
						sizeof(r));
			c->groups++;
		}
	}
	return NULL;
}

static void test_fq_consumer_thread(void **state)
{
	struct fixture *f = *state;
	struct consumer c = { .q = f->q, .fd = siommu_fault_queue_fd(f->q) };
	unsigned int i, j, seen[NGROUPS] = { 0 };
	pthread_t t;
	double t0;

	assert_int_equal(pthread_create(&t, NULL, consumer, &c), 0);
	for (i = 0; i < NGROUPS; i++) {
		for (j = 0; j < i % 4; j++)
			report_ok(f, preq(1, (uint16_t)i, false, 0x1000 * (j + 1)));
		report_ok(f, preq(1, (uint16_t)i, true, 0x10000));
	}
	t0 = test_now_s();
	while (rec_count(&f->ra) < NGROUPS && test_now_s() - t0 < 30)
		usleep(1000);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_int_equal(rec_count(&f->ra), NGROUPS);
	assert_int_equal(c.groups, NGROUPS);
	for (i = 0; i < NGROUPS; i++) {
		assert_int_equal(f->ra.r[i].code, SIOMMU_PAGE_RESP_SUCCESS);
		seen[f->ra.r[i].prgi]++;
	}
	for (i = 0; i < NGROUPS; i++)
		assert_int_equal(seen[i], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fq_read_whole_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fq_bad_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fq_close_answers_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fq_detach_answers_unread_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fq_detach_unanswered_after_timeout,
						setup_short, teardown),
		cmocka_unit_test_setup_teardown(test_fq_consumer_thread, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
