// SPDX-License-Identifier: LGPL-2.1-or-later
/* Contexts: independence, busy refusal, log and trace sinks. */
#include <errno.h>
#include "test_common.h"
#include <softiommu/base.h>
#include "base/ctx.h"

struct sink {
	int msgs;
	char last[2048];
	enum siommu_log_level level;
	int events;
	uint64_t last_iova;
};

static void log_sink(void *opaque, enum siommu_log_level level, const char *msg)
{
	struct sink *s = opaque;

	s->msgs++;
	s->level = level;
	snprintf(s->last, sizeof(s->last), "%s", msg);
}

static void trace_sink(void *opaque, const struct siommu_trace_record *rec)
{
	struct sink *s = opaque;

	s->events++;
	s->last_iova = rec->ev.iova;
}

static void test_base_ctx_two_contexts_are_independent(void **state)
{
	struct siommu_ctx *a, *b;
	struct sink sa = { 0 }, sb = { 0 };
	struct siommu_trace_event ev = { .type = SIOMMU_TRACE_MAP, .iova = 0xa000, .size = 4096 };

	assert_int_equal(siommu_ctx_create(&a), 0);
	assert_int_equal(siommu_ctx_create(&b), 0);
	assert_int_equal(siommu_ctx_set_log(a, SIOMMU_LOG_DEBUG, log_sink, &sa), 0);
	assert_int_equal(siommu_ctx_set_log(b, SIOMMU_LOG_ERR, log_sink, &sb), 0);
	assert_int_equal(siommu_ctx_set_trace(a, trace_sink, &sa), 0);

	siommu_log(a, SIOMMU_LOG_INFO, "only a");
	siommu_log(b, SIOMMU_LOG_INFO, "filtered out by b's level");
	siommu_log(b, SIOMMU_LOG_ERR, "only b");
	assert_int_equal(sa.msgs, 1);
	assert_string_equal(sa.last, "only a");
	assert_int_equal(sb.msgs, 1);
	assert_string_equal(sb.last, "only b");

	assert_int_equal(siommu_trace_emit(a, &ev), 0);
	assert_int_equal(siommu_trace_emit(b, &ev), 0);	/* b traces nowhere */
	assert_int_equal(sa.events, 1);
	assert_int_equal(sb.events, 0);

	/* objects held on a keep a busy, not b */
	siommu_ctx_hold(a);
	assert_int_equal(siommu_ctx_destroy(a), -EBUSY);
	assert_int_equal(siommu_ctx_destroy(b), 0);
	siommu_log(a, SIOMMU_LOG_INFO, "a still works");
	assert_int_equal(sa.msgs, 2);
	siommu_ctx_unhold(a);
	assert_int_equal(siommu_ctx_destroy(a), 0);
}

static void test_base_ctx_bad_args(void **state)
{
	struct siommu_ctx *ctx;
	struct siommu_trace_event ev = { .type = SIOMMU_TRACE_MAP };
	enum siommu_log_level lvl = SIOMMU_LOG_WARN;

	assert_int_equal(siommu_ctx_create(NULL), -EINVAL);
	assert_int_equal(siommu_ctx_destroy(NULL), 0);
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_ctx_set_log(NULL, SIOMMU_LOG_ERR, NULL, NULL), -EINVAL);
	assert_int_equal(siommu_ctx_set_log(ctx, (enum siommu_log_level)5, NULL, NULL), -EINVAL);
	assert_int_equal(siommu_ctx_set_trace(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(siommu_trace_emit(NULL, &ev), -EINVAL);
	assert_int_equal(siommu_trace_emit(ctx, NULL), -EINVAL);
	ev.type = SIOMMU_TRACE_IO_PAGE_FAULT;	/* no device, no driver */
	assert_int_equal(siommu_trace_emit(ctx, &ev), -EINVAL);
	assert_int_equal(siommu_log_level_parse("loud", &lvl), -EINVAL);
	assert_int_equal(lvl, SIOMMU_LOG_WARN);
	assert_null(siommu_log_level_name((enum siommu_log_level)1));
	siommu_log(NULL, SIOMMU_LOG_ERR, "ignored");
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

static void test_base_ctx_long_message_is_marked(void **state)
{
	struct siommu_ctx *ctx;
	struct sink s = { 0 };
	char big[1500];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_ctx_set_log(ctx, SIOMMU_LOG_DEBUG, log_sink, &s), 0);
	siommu_log(ctx, SIOMMU_LOG_WARN, "%s", big);
	assert_int_equal(strlen(s.last), 1023);
	assert_string_equal(s.last + 1020, "...");	/* cut, and says so */
	assert_int_equal(s.level, SIOMMU_LOG_WARN);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

/*
 * Sinks replaced while other threads log: every message reaches a sink with
 * a consistent (fn, opaque) pair, and old sink records are freed only after
 * the loggers are done with them (ASan checks the latter).
 */
#define NSINKS 4
static struct sink race_sinks[NSINKS];
static struct siommu_ctx *race_ctx;
static int race_stop;

static void counting_sink(void *opaque, enum siommu_log_level level, const char *msg)
{
	__atomic_fetch_add(&((struct sink *)opaque)->msgs, 1, __ATOMIC_RELAXED);
}

static void *race_logger(void *arg)
{
	long n = 0;

	while (!__atomic_load_n(&race_stop, __ATOMIC_ACQUIRE)) {
		siommu_log(race_ctx, SIOMMU_LOG_INFO, "m");
		n++;
	}
	return (void *)n;
}

static void test_base_ctx_sink_swap_while_logging(void **state)
{
	pthread_t tids[2];
	void *ret;
	long total = 0, seen = 0;
	unsigned int i;

	memset(race_sinks, 0, sizeof(race_sinks));
	assert_int_equal(siommu_ctx_create(&race_ctx), 0);
	assert_int_equal(siommu_ctx_set_log(race_ctx, SIOMMU_LOG_DEBUG, counting_sink,
					    &race_sinks[0]), 0);
	race_stop = 0;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&tids[i], NULL, race_logger, NULL), 0);
	for (i = 0; i < 2000; i++)
		assert_int_equal(siommu_ctx_set_log(race_ctx, SIOMMU_LOG_DEBUG, counting_sink,
						    &race_sinks[i % NSINKS]), 0);
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++) {
		pthread_join(tids[i], &ret);
		total += (long)ret;
	}
	for (i = 0; i < NSINKS; i++)
		seen += race_sinks[i].msgs;
	assert_int_equal(seen, total);
	assert_int_equal(siommu_ctx_destroy(race_ctx), 0);
}

/* -ENOMEM from the sink setters changes nothing: the old sink stays. */
static void test_base_ctx_set_sink_enomem_keeps_old(void **state)
{
	struct siommu_ctx *ctx;
	struct sink s = { 0 };

	if (!siommu_testing_build())
		skip();	/* needs the fail-nth hook */
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_ctx_set_log(ctx, SIOMMU_LOG_DEBUG, log_sink, &s), 0);
	assert_int_equal(siommu_test_fail_nth(1), 0);
	assert_int_equal(siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, NULL, NULL), -ENOMEM);
	assert_int_equal(siommu_test_fail_nth(1), 0);
	assert_int_equal(siommu_ctx_set_trace(ctx, (siommu_trace_fn *)1, NULL), -ENOMEM);
	assert_int_equal(siommu_test_fail_nth(0), 0);
	siommu_log(ctx, SIOMMU_LOG_DEBUG, "still here");
	assert_string_equal(s.last, "still here");
	assert_int_equal(s.level, SIOMMU_LOG_DEBUG);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_ctx_two_contexts_are_independent),
		cmocka_unit_test(test_base_ctx_bad_args),
		cmocka_unit_test(test_base_ctx_long_message_is_marked),
		cmocka_unit_test(test_base_ctx_sink_swap_while_logging),
		cmocka_unit_test(test_base_ctx_set_sink_enomem_keeps_old),
	};

	return cmocka_run_group_tests_name("base_ctx", tests, NULL, NULL);
}
