// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * RCU glue: lazy registration, threads the library has never seen, nesting,
 * misuse detection, thread exit.
 */
#include <errno.h>
#include <urcu/urcu-memb.h>
#include "test_common.h"
#include <softiommu/base.h>

static void log_sink(void *opaque, enum siommu_log_level level, const char *msg)
{
	(*(int *)opaque)++;
}

static void trace_sink(void *opaque, const struct siommu_trace_record *rec)
{
	(*(int *)opaque)++;
}

/*
 * Every public function of the library, called from a brand-new thread that
 * has never touched the library.  Extend this list with every new API.
 */
static void *call_every_api(void *arg)
{
	struct siommu_trace_event ev = { .type = SIOMMU_TRACE_MAP, .iova = 0x1000,
					 .paddr = 0x2000, .size = 4096 };
	struct siommu_trace_record rec = { .task = "t", .pid = 1, .cpu = 0,
					   .irq_flags = ".....", .ev = ev };
	struct siommu_trace_record back;
	enum siommu_log_level lvl;
	struct siommu_ctx *ctx;
	int logs = 0, traces = 0, err;
	char buf[256], sb[256];

	assert_non_null(siommu_version());
	assert_non_null(siommu_strerror(-EINVAL));
	assert_non_null(siommu_errname(-EINVAL));
	assert_int_equal(siommu_errname_parse("EBUSY", &err), 0);

	assert_false(siommu_read_ongoing());
	siommu_read_lock();
	assert_true(siommu_read_ongoing());
	siommu_read_unlock();
	assert_int_equal(siommu_synchronize(), 0);

	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_ctx_set_log(ctx, SIOMMU_LOG_DEBUG, log_sink, &logs), 0);
	siommu_log(ctx, SIOMMU_LOG_INFO, "hello %d", 1);
	assert_int_equal(logs, 1);
	assert_string_equal(siommu_log_level_name(SIOMMU_LOG_INFO), "info");
	assert_int_equal(siommu_log_level_parse("debug", &lvl), 0);
	assert_int_equal(siommu_ctx_set_trace(ctx, trace_sink, &traces), 0);
	assert_int_equal(siommu_trace_emit(ctx, &ev), 0);
	assert_int_equal(traces, 1);
	assert_string_equal(siommu_trace_type_name(SIOMMU_TRACE_MAP), "map");
	assert_true(siommu_trace_format(&ev, buf, sizeof(buf)) > 0);
	assert_true(siommu_trace_format_line(&rec, buf, sizeof(buf)) > 0);
	assert_int_equal(siommu_trace_parse_line(buf, &back, sb, sizeof(sb)), 0);

	(void)siommu_testing_build();
	err = siommu_test_fail_nth(0);
	assert_true(err == 0 || err == -EOPNOTSUPP);
	assert_true(siommu_test_alloc_count() >= 0 || siommu_test_alloc_count() == -EOPNOTSUPP);
	err = siommu_test_yield(0);
	assert_true(err == 0 || err == -EOPNOTSUPP);

	assert_int_equal(siommu_ctx_destroy(ctx), 0);
	assert_int_equal(siommu_thread_release(), 0);
	/* after release, the library registers the thread again on demand */
	siommu_read_lock();
	siommu_read_unlock();
	return arg;
}

static void test_base_rcu_unseen_thread_calls_every_api(void **state)
{
	test_run_threads(4, call_every_api, NULL);
}

static void test_base_rcu_nesting(void **state)
{
	siommu_read_lock();
	siommu_read_lock();
	assert_true(siommu_read_ongoing());
	siommu_read_unlock();
	assert_true(siommu_read_ongoing());
	siommu_read_unlock();
	assert_false(siommu_read_ongoing());
}

static void test_base_rcu_misuse_is_refused(void **state)
{
	siommu_read_lock();
	assert_int_equal(siommu_synchronize(), -EDEADLK);
	assert_int_equal(siommu_thread_release(), -EBUSY);
	siommu_read_unlock();
	assert_int_equal(siommu_synchronize(), 0);
}

static void *short_lived(void *arg)
{
	siommu_read_lock();
	siommu_read_unlock();
	return NULL;
}

/*
 * Threads the library registered must be unregistered when they exit: a
 * registry entry left behind points into freed thread-local storage, which
 * the next grace period would read (ASan reports it; plain builds may hang).
 */
static void test_base_rcu_thread_exit_unregisters(void **state)
{
	unsigned int round;

	for (round = 0; round < 20; round++) {
		test_run_threads(16, short_lived, NULL);
		assert_int_equal(siommu_synchronize(), 0);
	}
}

/* A thread the application registered itself is used as it is. */
static void *app_registered(void *arg)
{
	urcu_memb_register_thread();
	siommu_read_lock();
	assert_true(siommu_read_ongoing());
	siommu_read_unlock();
	assert_int_equal(siommu_thread_release(), 0);	/* not ours: left alone */
	assert_true(URCU_TLS(urcu_memb_reader).registered);
	urcu_memb_unregister_thread();
	return NULL;
}

static void test_base_rcu_app_registered_thread(void **state)
{
	test_run_threads(2, app_registered, NULL);
	assert_int_equal(siommu_synchronize(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_rcu_unseen_thread_calls_every_api),
		cmocka_unit_test(test_base_rcu_nesting),
		cmocka_unit_test(test_base_rcu_misuse_is_refused),
		cmocka_unit_test(test_base_rcu_thread_exit_unregisters),
		cmocka_unit_test(test_base_rcu_app_registered_thread),
	};

	return cmocka_run_group_tests_name("base_rcu", tests, NULL, NULL);
}
