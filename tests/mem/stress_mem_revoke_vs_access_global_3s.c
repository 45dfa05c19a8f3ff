// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stress: the revocation contract (seed 003).  Accessor threads read and
 * write three regions (caller memory, library RAM, an MMIO device) at fixed
 * physical addresses, while a revoker, round after round, adds the regions,
 * lets the accessors at them, revokes them in a random order (or destroys
 * them directly, which implies the revoke), and right after each revoke
 * returns:
 *
 *  - checks that no access is in progress: accessors that use the core's
 *    path (siommu_mem_lookup_rcu() and a memcpy from the host pointer in
 *    their own read-side section) count themselves in and out inside the
 *    section, and the MMIO callback does the same; both counts must be 0;
 *  - sets a "revoked" marker the accessors and the MMIO callback check: a
 *    callback that runs after it, or an access that started after it and
 *    succeeded, is a violation;
 *  - poisons the caller memory (and later frees it, as it frees the device
 *    model): a successful read that returns poison is a violation, and an
 *    access that touches the freed memory is a use-after-free that ASan
 *    reports (TSan reports the unordered accesses).
 *
 * SIOMMU_STRESS_BREAK=1 (testing builds; elsewhere the test says
 * BREAK-UNSUPPORTED and skips) makes revoke skip its grace period, to show
 * the test catches a broken revoke (expected: failure; make check runs it).
 */
#include <errno.h>
#include <sched.h>
#include <unistd.h>
#include "test_common.h"
#include <softiommu/base.h>
#include <softiommu/mem.h>
#include "mem/mem_internal.h"

#define NSLOTS		3
#define SLOT_HOST	0
#define SLOT_RAM	1
#define SLOT_MMIO	2
#define SLOT_SIZE	0x1000u
#define PATTERN		0xa5
#define POISON		0xde
#define MMIO_VALUE	0x5a5a5a5a5a5a5a5aull
#define NACCESSORS	3

static uint64_t slot_pa(unsigned int k)
{
	return 0x100000ull * (k + 1);
}

struct dev {
	int inflight;		/* callbacks running now */
	int revoked;		/* set by the revoker right after revoke returned */
};

struct slot {
	uint64_t state;		/* round << 1 | revoked; written before the region changes */
	int inflight;		/* lookup accessors inside a section using the region */
};

static struct siommu_mem *mem;
static struct slot slots[NSLOTS];
static int stop;

/* Counters: violations first. */
static uint64_t v_success_after_revoke, v_poison, v_callback_after_revoke;
static uint64_t v_inflight_at_return, v_bad_data, v_bad_errno, v_notify;
static uint64_t ok_accesses, enodev, efault, revokes, notifies;

static void count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static int dev_enter(struct dev *d)
{
	__atomic_fetch_add(&d->inflight, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&d->revoked, __ATOMIC_SEQ_CST))
		count(&v_callback_after_revoke);
	siommu_debug_yield(SIOMMU_YIELD_MEM_ACCESS);
	return 0;
}

static void dev_exit(struct dev *d)
{
	__atomic_fetch_sub(&d->inflight, 1, __ATOMIC_SEQ_CST);
}

static int dev_read(void *opaque, uint64_t off, unsigned int size, uint64_t *val)
{
	dev_enter(opaque);
	*val = MMIO_VALUE;
	dev_exit(opaque);
	return 0;
}

static int dev_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	dev_enter(opaque);
	dev_exit(opaque);
	return 0;
}

static const struct siommu_mem_mmio_ops dev_ops = { dev_read, dev_write };

static void notify(void *opaque, struct siommu_mem_region *r)
{
	struct siommu_mem_region_info info;

	if (siommu_read_ongoing() || siommu_mem_region_info(r, &info) || !info.revoked)
		count(&v_notify);
	count(&notifies);
}

static bool data_ok(unsigned int k, const uint8_t *buf, size_t len)
{
	uint8_t want = k == SLOT_HOST ? PATTERN : k == SLOT_RAM ? 0 : 0x5a;
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == want)
			continue;
		if (k == SLOT_HOST && buf[i] == POISON)
			count(&v_poison);
		else
			count(&v_bad_data);
		return false;
	}
	return true;
}

static void check_outcome(unsigned int k, uint64_t s0, int ret)
{
	uint64_t s1 = __atomic_load_n(&slots[k].state, __ATOMIC_ACQUIRE);

	if (ret == 0) {
		count(&ok_accesses);
		/* started after the revoke returned, and no newer region since */
		if ((s0 & 1) && s1 == s0)
			count(&v_success_after_revoke);
	} else if (ret == -ENODEV) {
		count(&enodev);
	} else if (ret == -EFAULT) {
		count(&efault);
	} else {
		count(&v_bad_errno);
	}
}

/* The plain API: siommu_mem_rw() (its own read-side section). */
static void *rw_accessor(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	uint8_t buf[64];

	if (seed == 1)
		siommu_test_yield(1ull << SIOMMU_YIELD_MEM_ACCESS);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned int k = (unsigned int)rand_r(&seed) % NSLOTS;
		size_t len = 1 + (unsigned int)rand_r(&seed) % sizeof(buf);
		uint64_t off = (unsigned int)rand_r(&seed) % (SLOT_SIZE - len + 1);
		bool write = k == SLOT_MMIO && (rand_r(&seed) & 1);
		uint64_t s0 = __atomic_load_n(&slots[k].state, __ATOMIC_ACQUIRE);
		int ret;

		memset(buf, 0x11, sizeof(buf));
		ret = siommu_mem_rw(mem, slot_pa(k) + off, buf, len, write);
		if (ret == 0 && !write)
			data_ok(k, buf, len);
		check_outcome(k, s0, ret);
	}
	return NULL;
}

/*
 * The core's path: lookup and copy in one read-side section of our own,
 * counted in and out inside it.
 */
static void *lookup_accessor(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg, n = 0;
	uint8_t buf[64];

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned int k = (unsigned int)rand_r(&seed) % NSLOTS;
		size_t len = 1 + (unsigned int)rand_r(&seed) % sizeof(buf);
		uint64_t off = (unsigned int)rand_r(&seed) % (SLOT_SIZE - len + 1);
		uint64_t s0 = __atomic_load_n(&slots[k].state, __ATOMIC_ACQUIRE);
		struct siommu_mem_span span;
		int ret;

		siommu_read_lock();
		ret = siommu_mem_lookup_rcu(mem, slot_pa(k) + off, &span);
		if (ret == 0 && span.host) {
			__atomic_fetch_add(&slots[k].inflight, 1, __ATOMIC_SEQ_CST);
			if (++n % 16 == 0)
				sched_yield();	/* a long access */
			memcpy(buf, span.host, len);
			__atomic_fetch_sub(&slots[k].inflight, 1, __ATOMIC_SEQ_CST);
		} else if (ret == 0) {
			ret = siommu_mem_rw_rcu(mem, slot_pa(k) + off, buf, len, false);
		}
		siommu_read_unlock();
		if (ret == 0)
			data_ok(k, buf, len);
		check_outcome(k, s0, ret);
	}
	return NULL;
}

struct round {
	struct siommu_mem_region *r[NSLOTS];
	uint8_t *host;
	struct dev *dev;
};

/* After revoke (or destroy) of slot @k returned. */
static void after_revoke(struct round *rd, unsigned int k, uint64_t round_nr)
{
	__atomic_store_n(&slots[k].state, round_nr << 1 | 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&slots[k].inflight, __ATOMIC_SEQ_CST))
		count(&v_inflight_at_return);
	if (k == SLOT_MMIO) {
		__atomic_store_n(&rd->dev->revoked, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&rd->dev->inflight, __ATOMIC_SEQ_CST))
			count(&v_inflight_at_return);
	}
	if (k == SLOT_HOST)
		memset(rd->host, POISON, SLOT_SIZE);
	count(&revokes);
}

static void run_round(uint64_t round_nr, unsigned int *seed)
{
	struct round rd = { 0 };
	unsigned int order[NSLOTS] = { 0, 1, 2 }, i, j, t;
	bool direct = rand_r(seed) % 4 == 0;	/* destroy without revoke first */

	rd.host = malloc(SLOT_SIZE);
	rd.dev = calloc(1, sizeof(*rd.dev));
	assert_non_null(rd.host);
	assert_non_null(rd.dev);
	memset(rd.host, PATTERN, SLOT_SIZE);
	/* the new round is announced before its regions appear */
	for (i = 0; i < NSLOTS; i++)
		__atomic_store_n(&slots[i].state, round_nr << 1, __ATOMIC_RELEASE);
	assert_int_equal(siommu_mem_add_host(mem, slot_pa(SLOT_HOST), rd.host, SLOT_SIZE,
					     &rd.r[SLOT_HOST]), 0);
	assert_int_equal(siommu_mem_add_ram(mem, slot_pa(SLOT_RAM), SLOT_SIZE, &rd.r[SLOT_RAM]), 0);
	assert_int_equal(siommu_mem_add_mmio(mem, slot_pa(SLOT_MMIO), SLOT_SIZE, &dev_ops, rd.dev,
					     &rd.r[SLOT_MMIO]), 0);
	usleep(200 + rand_r(seed) % 800);

	for (i = NSLOTS - 1; i > 0; i--) {
		j = (unsigned int)rand_r(seed) % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < NSLOTS; i++) {
		unsigned int k = order[i];

		if (direct) {
			assert_int_equal(siommu_mem_region_destroy(rd.r[k]), 0);
			rd.r[k] = NULL;
		} else {
			assert_int_equal(siommu_mem_region_revoke(rd.r[k]), 0);
		}
		after_revoke(&rd, k, round_nr);
	}
	usleep(100 + rand_r(seed) % 300);	/* accessors keep trying */
	for (i = 0; i < NSLOTS; i++)
		assert_int_equal(siommu_mem_region_destroy(rd.r[i]), 0);
	free(rd.host);
	free(rd.dev);
}

static void test_stress_mem_revoke_vs_access(void **state)
{
	double secs = test_stress_seconds(3.0), end;
	struct siommu_mem_notifier *n;
	struct siommu_ctx *ctx;
	pthread_t tids[NACCESSORS];
	unsigned int i, seed = 12345;
	uint64_t round_nr = 0, violations;

	assert_int_equal(siommu_ctx_create(&ctx), 0);
	assert_int_equal(siommu_mem_create(ctx, &mem), 0);
	assert_int_equal(siommu_mem_notifier_register(mem, notify, NULL, &n), 0);
	for (i = 0; i < NACCESSORS; i++)
		assert_int_equal(pthread_create(&tids[i], NULL,
						i == 0 ? lookup_accessor : rw_accessor,
						(void *)(uintptr_t)(i + 1)), 0);
	end = test_now_s() + secs;
	do
		run_round(++round_nr, &seed);
	while (test_now_s() < end);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NACCESSORS; i++)
		pthread_join(tids[i], NULL);
	assert_int_equal(siommu_mem_notifier_unregister(n), 0);
	assert_int_equal(siommu_mem_destroy(mem), 0);
	assert_int_equal(siommu_ctx_destroy(ctx), 0);

	violations = v_success_after_revoke + v_poison + v_callback_after_revoke +
		     v_inflight_at_return + v_bad_data + v_bad_errno + v_notify;
	print_message("# %llu rounds, %llu revokes, %llu notifier calls; accesses: %llu ok, "
		      "%llu ENODEV, %llu EFAULT\n",
		      (unsigned long long)round_nr, (unsigned long long)revokes,
		      (unsigned long long)notifies, (unsigned long long)ok_accesses,
		      (unsigned long long)enodev, (unsigned long long)efault);
	print_message("# violations: %llu success after revoke, %llu poison read, "
		      "%llu callback after revoke, %llu in flight at return, %llu bad data, "
		      "%llu bad errno, %llu bad notifier calls\n",
		      (unsigned long long)v_success_after_revoke, (unsigned long long)v_poison,
		      (unsigned long long)v_callback_after_revoke,
		      (unsigned long long)v_inflight_at_return, (unsigned long long)v_bad_data,
		      (unsigned long long)v_bad_errno, (unsigned long long)v_notify);
	if (violations)
		print_message("VIOLATION: %llu accesses or callbacks after revoke returned\n",
			      (unsigned long long)violations);
	assert_true(ok_accesses > 0 && enodev > 0 && revokes > 0);
	assert_int_equal(notifies, revokes);	/* once per region, revoke or destroy */
	assert_int_equal(violations, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_mem_revoke_vs_access),
	};

	if (test_break_requested()) {
#if SIOMMU_TESTING_BUILD
		mem_test_break_revoke = true;
#else
		test_break_unsupported("the broken-revoke hook exists in -Dtesting=true builds only");
#endif
	}
	return cmocka_run_group_tests_name("stress_mem_revoke_vs_access", tests, NULL, NULL);
}
