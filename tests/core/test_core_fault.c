// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The recoverable-fault path: a PRI device's not-present and permission
 * faults go to the domain's fault handler (what it is told, what its
 * answers do to the DMA, the counters), unrecoverable faults still go to
 * the log, handler installation and removal (removal waits for a running
 * handler), and the fault-reason table (now in fault.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "test_common.h"

#include <softiommu/core.h>

#define PG	4096ull
#define RID_PRI	SIOMMU_RID(0, 1, 0, 0)
#define RID_NOP	SIOMMU_RID(0, 1, 1, 0)
#define IOVA	0x200000ull

struct fixture {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_device *pri;	/* PRI + PASID */
	struct siommu_device *nopri;
	struct siommu_domain *dom;	/* paging, attached to both (and pri's PASID 5) */
	uint64_t *pages;		/* 4 host pages */
};

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

static int setup(void **state)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siommu_ctx_create(&f->ctx))
		return -1;
	siommu_ctx_set_log(f->ctx, SIOMMU_LOG_ERR, quiet, NULL);
	if (siommu_iommu_create(f->ctx, &caps, NULL, &f->iommu) ||
	    siommu_device_create(f->iommu, RID_PRI, SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8,
				 &f->pri) ||
	    siommu_device_create(f->iommu, RID_NOP, 0, 0, &f->nopri) ||
	    siommu_domain_create(f->iommu, &cfg, &f->dom) ||
	    siommu_device_attach(f->pri, f->dom) || siommu_pasid_attach(f->pri, 5, f->dom) ||
	    siommu_device_attach(f->nopri, f->dom) ||
	    posix_memalign((void **)&f->pages, PG, 4 * PG))
		return -1;
	memset(f->pages, 0x5a, 4 * PG);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(siommu_device_detach(f->pri), 0);
	assert_int_equal(siommu_pasid_detach(f->pri, 5), 0);
	assert_int_equal(siommu_device_detach(f->nopri), 0);
	assert_int_equal(siommu_domain_destroy(f->dom), 0);
	assert_int_equal(siommu_device_destroy(f->pri), 0);
	assert_int_equal(siommu_device_destroy(f->nopri), 0);
	assert_int_equal(siommu_iommu_destroy(f->iommu), 0);
	assert_int_equal(siommu_ctx_destroy(f->ctx), 0);
	free(f->pages);
	free(f);
	return 0;
}

struct handler {
	struct fixture *f;
	int answer;			/* what to return */
	bool map_inline;		/* RESOLVED by mapping the page */
	unsigned int calls;
	struct siommu_fault_info last;
	struct siommu_domain_info dom_info;	/* read during the call */
	bool in_section;
	/* blocking handler: */
	int block, entered, release;	/* atomics */
};

static int handler_fn(void *opaque, const struct siommu_fault_info *fi)
{
	struct handler *h = opaque;

	__atomic_fetch_add(&h->calls, 1, __ATOMIC_RELAXED);
	h->last = *fi;
	h->in_section = siommu_read_ongoing();
	siommu_domain_get_info(fi->dom, &h->dom_info);
	if (__atomic_load_n(&h->block, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&h->entered, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&h->release, __ATOMIC_ACQUIRE))
			usleep(1000);
	}
	if (h->map_inline)
		siommu_domain_map(fi->dom, fi->iova & ~(PG - 1),
				  (uintptr_t)h->f->pages, PG,
				  SIOMMU_PT_READ | SIOMMU_PT_WRITE);
	return h->answer;
}

static void stats(struct fixture *f, struct siommu_iommu_stats *st)
{
	assert_int_equal(siommu_iommu_get_stats(f->iommu, st), 0);
}

/* QUEUED: the DMA returns -EAGAIN; once the page is mapped, a retry works. */
static void test_core_fault_page_request_then_retry(void **state)
{
	struct fixture *f = *state;
	struct handler h = { .f = f, .answer = SIOMMU_IOPF_QUEUED };
	struct siommu_fault_record rec[4];
	struct siommu_iommu_stats st;
	uint64_t buf[4];

	assert_int_equal(siommu_domain_set_fault_handler(f->dom, handler_fn, &h), 0);
	assert_int_equal(siommu_dma_read(f->pri, SIOMMU_NO_PASID, IOVA + 0x18, buf, 16),
			 -EAGAIN);
	assert_int_equal(h.calls, 1);
	assert_ptr_equal(h.last.dev, f->pri);
	assert_ptr_equal(h.last.dom, f->dom);
	assert_int_equal(h.last.pasid, SIOMMU_NO_PASID);
	assert_int_equal(h.last.iova, IOVA + 0x18);
	assert_int_equal(h.last.access, SIOMMU_ACC_READ);
	assert_int_equal(h.last.reason, SIOMMU_FAULT_NOT_PRESENT);
	assert_true(h.in_section);
	assert_int_equal(h.dom_info.users, 3);
	/* Not an unrecoverable fault: nothing in the log. */
	assert_int_equal(siommu_fault_log_read(f->iommu, rec, 4), 0);
	stats(f, &st);
	assert_int_equal(st.faults_recoverable, 1);
	assert_int_equal(st.page_requests, 1);
	assert_int_equal(st.faults_resolved, 0);
	assert_int_equal(st.faults[SIOMMU_FAULT_NOT_PRESENT], 1);
	assert_int_equal(st.faults_logged, 0);
	/* The "response": the page is mapped; the device retries. */
	assert_int_equal(siommu_domain_map(f->dom, IOVA, (uintptr_t)f->pages, PG,
					   SIOMMU_PT_READ), 0);
	assert_int_equal(siommu_dma_read(f->pri, SIOMMU_NO_PASID, IOVA + 0x18, buf, 16), 0);
	assert_int_equal(buf[0], 0x5a5a5a5a5a5a5a5aull);
	/* A write to the read-only page: a permission fault, with its PASID. */
	assert_int_equal(siommu_dma_write(f->pri, 5, IOVA + 8, buf, 8), -EAGAIN);
	assert_int_equal(h.calls, 2);
	assert_int_equal(h.last.pasid, 5);
	assert_int_equal(h.last.access, SIOMMU_ACC_WRITE);
	assert_int_equal(h.last.reason, SIOMMU_FAULT_PERMISSION);
	/* A transfer stops at the faulting page: the pieces before it were done. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(siommu_dma_read(f->pri, 5, IOVA + PG - 8, buf, 16), -EAGAIN);
	assert_int_equal(h.last.iova, IOVA + PG);
	assert_int_equal(buf[0], 0x5a5a5a5a5a5a5a5aull);
	stats(f, &st);
	assert_int_equal(st.page_requests, 3);
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, NULL, NULL), 0);
	assert_int_equal(siommu_domain_unmap(f->dom, IOVA, PG), PG);
}

/* RESOLVED: the handler maps the page inline; the same DMA call succeeds. */
static void test_core_fault_resolved_inline(void **state)
{
	struct fixture *f = *state;
	struct handler h = { .f = f, .answer = SIOMMU_IOPF_RESOLVED, .map_inline = true };
	struct siommu_iommu_stats st;
	uint64_t w = 0x77, back = 0;

	assert_int_equal(siommu_domain_set_fault_handler(f->dom, handler_fn, &h), 0);
	assert_int_equal(siommu_dma_write(f->pri, 5, IOVA + 0x40, &w, 8), 0);
	assert_int_equal(h.calls, 1);
	assert_int_equal(siommu_dma_read(f->pri, SIOMMU_NO_PASID, IOVA + 0x40, &back, 8), 0);
	assert_int_equal(back, 0x77);
	assert_int_equal(h.calls, 1);
	stats(f, &st);
	assert_int_equal(st.faults_resolved, 1);
	assert_int_equal(st.page_requests, 0);
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, NULL, NULL), 0);
	assert_int_equal(siommu_domain_unmap(f->dom, IOVA, PG), PG);
}

/* RESOLVED without fixing anything: bounded, then unrecoverable. */
static void test_core_fault_resolved_retries_bounded(void **state)
{
	struct fixture *f = *state;
	struct handler h = { .f = f, .answer = SIOMMU_IOPF_RESOLVED };
	struct siommu_fault_record rec[4];
	struct siommu_iommu_stats st;
	uint64_t w;

	assert_int_equal(siommu_domain_set_fault_handler(f->dom, handler_fn, &h), 0);
	assert_int_equal(siommu_dma_read(f->pri, SIOMMU_NO_PASID, IOVA, &w, 8), -ENOENT);
	assert_int_equal(h.calls, SIOMMU_IOPF_RETRIES);
	assert_int_equal(siommu_fault_log_read(f->iommu, rec, 4), 1);
	assert_int_equal(rec[0].reason, SIOMMU_FAULT_NOT_PRESENT);
	stats(f, &st);
	/* Every fault counted once: RETRIES handled, one logged. */
	assert_int_equal(st.faults[SIOMMU_FAULT_NOT_PRESENT], SIOMMU_IOPF_RETRIES + 1);
	assert_int_equal(st.faults_logged, 1);
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, NULL, NULL), 0);
}

/* What is not recoverable is logged as before and never reaches the handler. */
static void test_core_fault_unrecoverable_cases(void **state)
{
	struct fixture *f = *state;
	struct handler h = { .f = f, .answer = -ENOSPC };
	struct siommu_fault_record rec[8];
	struct siommu_iommu_stats st;
	uint64_t w;

	assert_int_equal(siommu_domain_set_fault_handler(f->dom, handler_fn, &h), 0);
	/* The handler declines: unrecoverable, the fault's own errno. */
	assert_int_equal(siommu_dma_read(f->pri, SIOMMU_NO_PASID, IOVA, &w, 8), -ENOENT);
	assert_int_equal(h.calls, 1);
	/* A device without PRI. */
	assert_int_equal(siommu_dma_read(f->nopri, SIOMMU_NO_PASID, IOVA, &w, 8), -ENOENT);
	/* Out of range, no domain: not page faults. */
	assert_int_equal(siommu_dma_read(f->pri, SIOMMU_NO_PASID, 1ull << 60, &w, 8), -ERANGE);
	assert_int_equal(siommu_dma_read(f->pri, 9, IOVA, &w, 8), -ENODATA);
	assert_int_equal(h.calls, 1);
	assert_int_equal(siommu_fault_log_read(f->iommu, rec, 8), 4);
	assert_int_equal(rec[0].rid, RID_PRI);
	assert_int_equal(rec[1].rid, RID_NOP);
	assert_int_equal(rec[2].reason, SIOMMU_FAULT_OUT_OF_RANGE);
	assert_int_equal(rec[3].reason, SIOMMU_FAULT_NO_DOMAIN);
	stats(f, &st);
	assert_int_equal(st.faults_recoverable, 1);
	assert_int_equal(st.page_requests, 0);
	assert_int_equal(st.faults[SIOMMU_FAULT_NOT_PRESENT], 2);
	/* translate() itself never calls the handler. */
	{
		struct siommu_translation t;

		assert_int_equal(siommu_translate(f->pri, SIOMMU_NO_PASID, IOVA,
						  SIOMMU_ACC_READ, &t), -ENOENT);
		assert_int_equal(h.calls, 1);
	}
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, NULL, NULL), 0);
	/* Removed: the fault is unrecoverable again. */
	h.answer = SIOMMU_IOPF_QUEUED;
	assert_int_equal(siommu_dma_read(f->pri, SIOMMU_NO_PASID, IOVA, &w, 8), -ENOENT);
	assert_int_equal(h.calls, 1);
}

static void test_core_fault_handler_set_errors(void **state)
{
	struct fixture *f = *state;
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_IDENTITY };
	struct siommu_domain *ident;
	struct handler h = { .f = f };

	assert_int_equal(siommu_domain_create(f->iommu, &cfg, &ident), 0);
	assert_int_equal(siommu_domain_set_fault_handler(NULL, handler_fn, &h), -EINVAL);
	assert_int_equal(siommu_domain_set_fault_handler(ident, handler_fn, &h), -EINVAL);
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, NULL, NULL), -ENOENT);
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, handler_fn, &h), 0);
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, handler_fn, &h), -EBUSY);
	siommu_read_lock();
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, NULL, NULL), -EDEADLK);
	siommu_read_unlock();
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, NULL, NULL), 0);
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, NULL, NULL), -ENOENT);
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, handler_fn, &h), 0);
	assert_int_equal(siommu_domain_set_fault_handler(f->dom, NULL, NULL), 0);
	assert_int_equal(siommu_domain_destroy(ident), 0);
}

struct dma_arg {
	struct fixture *f;
	int ret;
};

static void *dma_thread(void *arg)
{
	struct dma_arg *a = arg;
	uint64_t w;

	a->ret = siommu_dma_read(a->f->pri, 5, IOVA, &w, 8);
	return NULL;
}

struct remover {
	struct fixture *f;
	int done;			/* atomic */
};

static void *remove_thread(void *arg)
{
	struct remover *r = arg;

	thread_assert_int_equal(siommu_domain_set_fault_handler(r->f->dom, NULL, NULL), 0);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Removal returns only after a running handler call has returned (so the
 * layer may free its state), and no call starts after it.  From new
 * threads.
 */
static void test_core_fault_removal_waits_for_handler(void **state)
{
	struct fixture *f = *state;
	struct handler h = { .f = f, .answer = SIOMMU_IOPF_QUEUED, .block = 1 };
	struct dma_arg a = { .f = f };
	struct remover r = { .f = f };
	pthread_t td, tr;
	unsigned int i;
	bool early = false;

	assert_int_equal(siommu_domain_set_fault_handler(f->dom, handler_fn, &h), 0);
	assert_int_equal(pthread_create(&td, NULL, dma_thread, &a), 0);
	for (i = 0; i < 60000 && !__atomic_load_n(&h.entered, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	assert_true(__atomic_load_n(&h.entered, __ATOMIC_ACQUIRE));
	assert_int_equal(pthread_create(&tr, NULL, remove_thread, &r), 0);
	for (i = 0; i < 300 && !early; i++) {
		early = __atomic_load_n(&r.done, __ATOMIC_ACQUIRE);
		usleep(1000);
	}
	/* While the removal waits, a new handler cannot be installed. */
	if (!early)
		assert_int_equal(siommu_domain_set_fault_handler(f->dom, handler_fn, &h),
				 -EBUSY);
	__atomic_store_n(&h.release, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(td, NULL), 0);
	assert_int_equal(pthread_join(tr, NULL), 0);
	assert_false(early);
	assert_int_equal(a.ret, -EAGAIN);
	assert_int_equal(h.calls, 1);
	h.block = 0;
	assert_int_equal(pthread_create(&td, NULL, dma_thread, &a), 0);
	assert_int_equal(pthread_join(td, NULL), 0);
	assert_int_equal(a.ret, -ENOENT);
	assert_int_equal(h.calls, 1);
}

static void test_core_fault_reason_names(void **state)
{
	assert_string_equal(siommu_fault_reason_name(SIOMMU_FAULT_NONE), "none");
	assert_string_equal(siommu_fault_reason_name(SIOMMU_FAULT_NOT_PRESENT), "not-present");
	assert_string_equal(siommu_fault_reason_name(SIOMMU_FAULT_BAD_ADDRESS), "bad-address");
	assert_null(siommu_fault_reason_name(SIOMMU_FAULT_NR));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_core_fault_page_request_then_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_fault_resolved_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_fault_resolved_retries_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_fault_unrecoverable_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_fault_handler_set_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_fault_removal_waits_for_handler, setup, teardown),
		cmocka_unit_test(test_core_fault_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
