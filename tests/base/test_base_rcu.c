// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * RCU glue: lazy registration, threads the library has never seen, nesting,
 * misuse detection, thread exit.
 */
#include <errno.h>
#include <urcu/urcu-memb.h>
#include "test_common.h"
#include <softiommu/softiommu.h>

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

	thread_assert_non_null(siommu_version());
	thread_assert_non_null(siommu_strerror(-EINVAL));
	thread_assert_non_null(siommu_errname(-EINVAL));
	thread_assert_int_equal(siommu_errname_parse("EBUSY", &err), 0);

	thread_assert_false(siommu_read_ongoing());
	siommu_read_lock();
	thread_assert_true(siommu_read_ongoing());
	siommu_read_unlock();
	thread_assert_int_equal(siommu_synchronize(), 0);

	thread_assert_int_equal(siommu_ctx_create(&ctx), 0);
	thread_assert_int_equal(siommu_ctx_set_log(ctx, SIOMMU_LOG_DEBUG, log_sink, &logs), 0);
	siommu_log(ctx, SIOMMU_LOG_INFO, "hello %d", 1);
	thread_assert_int_equal(logs, 1);
	thread_assert_string_equal(siommu_log_level_name(SIOMMU_LOG_INFO), "info");
	thread_assert_int_equal(siommu_log_level_parse("debug", &lvl), 0);
	thread_assert_int_equal(siommu_ctx_set_trace(ctx, trace_sink, &traces), 0);
	thread_assert_int_equal(siommu_trace_emit(ctx, &ev), 0);
	thread_assert_int_equal(traces, 1);
	thread_assert_string_equal(siommu_trace_type_name(SIOMMU_TRACE_MAP), "map");
	thread_assert_true(siommu_trace_format(&ev, buf, sizeof(buf)) > 0);
	thread_assert_true(siommu_trace_format_line(&rec, buf, sizeof(buf)) > 0);
	thread_assert_int_equal(siommu_trace_parse_line(buf, &back, sb, sizeof(sb)), 0);

	(void)siommu_testing_build();
	err = siommu_test_fail_nth(0);
	thread_assert_true(err == 0 || err == -EOPNOTSUPP);
	thread_assert_true(siommu_test_alloc_count() >= 0 || siommu_test_alloc_count() == -EOPNOTSUPP);
	err = siommu_test_yield(0);
	thread_assert_true(err == 0 || err == -EOPNOTSUPP);

	thread_assert_int_equal(siommu_ctx_destroy(ctx), 0);
	thread_assert_int_equal(siommu_thread_release(), 0);
	/* after release, the library registers the thread again on demand */
	siommu_read_lock();
	siommu_read_unlock();
	return arg;
}

/*
 * The IOMMU as a whole from a brand-new thread: memory map, IOMMU, device,
 * domain, attach, map, translate, DMA, unmap, faults, teardown.  (Each
 * module's own unit test also runs its whole API from new threads.)
 */
static void *call_iommu_api(void *arg)
{
	struct siommu_domain_cfg dcfg = { .type = SIOMMU_DOMAIN_PAGING,
					  .fmt = SIOMMU_PT_FMT_VTD_SS };
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct siommu_translation tr;
	struct siommu_iommu_stats st;
	struct siommu_fault_record rec[4];
	struct siommu_mem_region *ram;
	struct siommu_domain *dom;
	struct siommu_device *dev;
	struct siommu_iommu *iommu;
	struct siommu_mem *mem;
	struct siommu_ctx *ctx;
	char buf[64] = "hello", back[64];
	uint64_t iova;

	thread_assert_int_equal(siommu_ctx_create(&ctx), 0);
	thread_assert_int_equal(siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, NULL, NULL), 0);
	thread_assert_int_equal(siommu_mem_create(ctx, &mem), 0);
	thread_assert_int_equal(siommu_mem_add_ram(mem, 0x100000, 0x100000, &ram), 0);
	thread_assert_int_equal(siommu_iommu_create(ctx, &caps, mem, &iommu), 0);
	thread_assert_int_equal(siommu_device_create(iommu, SIOMMU_RID(0, 1, 2, 3), SIOMMU_DEV_PASID, 8,
					      &dev), 0);
	thread_assert_int_equal(siommu_domain_create(iommu, &dcfg, &dom), 0);
	thread_assert_int_equal(siommu_device_attach(dev, dom), 0);
	thread_assert_int_equal(siommu_pasid_attach(dev, 1, dom), 0);
	thread_assert_int_equal(siommu_domain_dma_map(dom, 0x100000, 0x2000,
					       SIOMMU_PT_READ | SIOMMU_PT_WRITE, ~0ull, &iova), 0);
	thread_assert_int_equal(siommu_dma_write(dev, SIOMMU_NO_PASID, iova, buf, sizeof(buf)), 0);
	thread_assert_int_equal(siommu_dma_read(dev, 1, iova, back, sizeof(back)), 0);
	thread_assert_memory_equal(buf, back, sizeof(buf));
	thread_assert_int_equal(siommu_translate(dev, SIOMMU_NO_PASID, iova, SIOMMU_ACC_READ, &tr), 0);
	thread_assert_int_equal(tr.pa, 0x100000);
	thread_assert_int_equal(siommu_domain_dma_unmap(dom, iova, 0x2000), 0x2000);
	thread_assert_int_equal(siommu_dma_read(dev, SIOMMU_NO_PASID, iova, back, 8), -ENOENT);
	thread_assert_int_equal(siommu_fault_log_read(iommu, rec, 4), 1);
	thread_assert_int_equal(siommu_iommu_get_stats(iommu, &st), 0);
	thread_assert_int_equal(st.faults[SIOMMU_FAULT_NOT_PRESENT], 1);
	thread_assert_int_equal(siommu_pasid_detach(dev, 1), 0);
	thread_assert_int_equal(siommu_device_detach(dev), 0);
	thread_assert_int_equal(siommu_domain_destroy(dom), 0);
	thread_assert_int_equal(siommu_device_destroy(dev), 0);
	thread_assert_int_equal(siommu_iommu_destroy(iommu), 0);
	thread_assert_int_equal(siommu_mem_region_destroy(ram), 0);
	thread_assert_int_equal(siommu_mem_destroy(mem), 0);
	thread_assert_int_equal(siommu_ctx_destroy(ctx), 0);
	return arg;
}

static void test_base_rcu_unseen_thread_drives_an_iommu(void **state)
{
	test_run_threads(3, call_iommu_api, NULL);
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
	thread_assert_true(siommu_read_ongoing());
	siommu_read_unlock();
	thread_assert_int_equal(siommu_thread_release(), 0);	/* not ours: left alone */
	thread_assert_true(URCU_TLS(urcu_memb_reader).registered);
	urcu_memb_unregister_thread();
	/*
	 * Unregistered by the application: the library's lazy check must see
	 * it (it does not cache an application's registration) and register
	 * the thread itself; its exit destructor unregisters it.
	 */
	siommu_read_lock();
	thread_assert_true(URCU_TLS(urcu_memb_reader).registered);
	thread_assert_true(siommu_read_ongoing());
	siommu_read_unlock();
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
		cmocka_unit_test(test_base_rcu_unseen_thread_drives_an_iommu),
		cmocka_unit_test(test_base_rcu_nesting),
		cmocka_unit_test(test_base_rcu_misuse_is_refused),
		cmocka_unit_test(test_base_rcu_thread_exit_unregisters),
		cmocka_unit_test(test_base_rcu_app_registered_thread),
	};

	return cmocka_run_group_tests_name("base_rcu", tests, NULL, NULL);
}
