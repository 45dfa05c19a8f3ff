// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The soak's mm part: the demo's seed-001 world under random traffic.  A
 * "process" (an mm of SLOTS x 2 MiB of THP memory) munmaps and maps again,
 * discards, mprotects and splits its memory, and maps and unmaps areas of
 * its own choosing, while devices work on it on an IOMMU of its own:
 *  - sva0 bound with PASID 1 to the mm for the whole run;
 *  - mirror0 behind a mirror domain filled on its faults;
 *  - sva1, which a binder thread binds with PASID 2, DMAs through, and
 *    unbinds, again and again; its faults go through an iopf (a worker
 *    resolves them from the mm): each -EAGAIN waits for its page response,
 *    and every request must be answered exactly once;
 *  - mirror1 behind a second mirror (4 KiB pages) whose faults go through
 *    the same iopf.
 * Every page holds a tag (generation, slot, page) the process writes; when
 * an operation that retires a page returns, its generation is published,
 * and a device read that began after must not see it (SVA, mirror, the
 * churned binding).  After each change the process checks that the
 * mirror's table and the SVA translation of pages of the range agree with
 * the CPU table (a settled change: nothing stale left in a table or an
 * IOTLB), and after mprotect(read-only) that device writes are refused.
 * At the end the process exits with sva0 still bound: its release must
 * unbind the PASID.
 */
#include "soak.h"

#define SLOT_SZ		(2ull << 20)
#define SLOTS		4
#define PAGES		(SLOT_SZ / 4096)
#define POISON		0x6b6b6b6b6b6b6b6bull
#define RW		(SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE)
#define SCRATCH_LEN	(64ull << 10)

static struct soak_inv inv_stale = {
	.name = "mm: no SVA or mirror DMA reached a page after its retirement"
};
static struct soak_inv inv_ro = {
	.name = "mm: after mprotect(read-only) device writes were refused"
};
static struct soak_inv inv_mirror = { .name = "mm: the mirror's table agrees with the CPU table" };
static struct soak_inv inv_sva = { .name = "mm: SVA translations agree with the CPU table" };
static struct soak_inv inv_unbind = { .name = "mm: an unbind (or the exit) detached its PASID" };
static struct soak_inv inv_huge = { .name = "mm: the mirror used the mm's huge pages" };
static struct soak_inv inv_short = { .name = "mm: a short-lived process saw its device's write" };
static struct soak_inv inv_info = { .name = "mm: at the end the mm counts one binding" };
static struct soak_inv inv_leak = { .name = "mm: every object destroyed (each destroy 0)" };

static const char *const contracts[] = {
	"siommu_mm_mmap", "siommu_mm_munmap", "siommu_mm_mprotect", "siommu_mm_madvise",
	"siommu_mm_split", "siommu_mm_write", "siommu_mm_translate_rcu", "siommu_sva_bind",
	"siommu_sva_unbind", "siommu_dma_read", "siommu_dma_write", "siommu_translate",
	"siommu_pt_iova_to_phys", "siommu_mm_create", "siommu_mm_read",
	NULL
};

static struct {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_mm *mm;
	struct siommu_device *dev[4];	/* sva0, mirror0, sva1, mirror1 */
	struct siommu_mirror *mirror2;	/* mirror1's: faults through the iopf */
	struct siommu_mirror *mirror;
	struct siommu_sva *b;		/* sva0's PASID 1 */
	uint64_t base;
	uint64_t gen[SLOTS][PAGES];	/* the process only */
	_Atomic uint64_t retired[SLOTS][PAGES];
	pthread_rwlock_t tag_lock[SLOTS];	/* the process's tag writes vs device reads */
	_Atomic uint64_t bind_gen;	/* odd: sva1's PASID 2 may be bound (binder's) */
	_Atomic uint64_t ok_reads;
	struct siommu_iopf *iopf;	/* sva1's PASID 2 and mirror1's faults */
	struct pr_wait {
		pthread_mutex_t lock;
		pthread_cond_t cond;
		uint64_t responses;	/* [lock] page responses */
		_Atomic uint64_t eagain; /* DMAs that raised a page request */
	} pw[2];			/* sva1, mirror1 */
} MM;

static struct soak_inv inv_once = {
	.name = "mm: every page request through iopf (SVA, mirror) answered once"
};

static void pr_response(void *opaque, struct siommu_device *dev,
			const struct siommu_page_response *r)
{
	struct pr_wait *w = opaque;

	(void)dev;
	(void)r;
	pthread_mutex_lock(&w->lock);
	w->responses++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static uint64_t pr_seen(struct pr_wait *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->lock);
	n = w->responses;
	pthread_mutex_unlock(&w->lock);
	return n;
}

/* A DMA got -EAGAIN (a page request) after @seen responses: wait for the answer. */
static void pr_wait(struct pr_wait *w, uint64_t seen)
{
	struct timespec ts;
	bool timed_out = false;

	atomic_fetch_add(&w->eagain, 1);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&w->lock);
	while (w->responses == seen && !timed_out)
		timed_out = pthread_cond_timedwait(&w->cond, &w->lock, &ts) != 0;
	pthread_mutex_unlock(&w->lock);
	INV(&inv_once, !timed_out, "a page request through iopf got no answer in 10 s");
}

static uint64_t va_of(unsigned int slot, unsigned int page)
{
	return MM.base + slot * SLOT_SZ + (uint64_t)page * 4096;
}

static void tag(unsigned int slot, unsigned int p0, unsigned int p1)
{
	pthread_rwlock_wrlock(&MM.tag_lock[slot]);
	for (unsigned int p = p0; p < p1; p++) {
		uint64_t t = ++MM.gen[slot][p] << 20 | (uint64_t)slot << 9 | p;

		thread_assert_int_equal(C(siommu_mm_write(MM.mm, va_of(slot, p), &t, 8)), 0);
	}
	pthread_rwlock_unlock(&MM.tag_lock[slot]);
}

static void retire(unsigned int slot, unsigned int p0, unsigned int p1)
{
	for (unsigned int p = p0; p < p1; p++)
		atomic_store(&MM.retired[slot][p], MM.gen[slot][p]);
}

/* The change of [va, va + len) settled: the device-side tables agree with the CPU's. */
static void check_agree(uint64_t *s, uint64_t va, uint64_t len)
{
	unsigned int k;

	for (k = 0; k < 4; k++) {
		uint64_t a = va + (soak_rnd(s) % (len / 8)) * 8, mpa = 0, mpa2 = 0;
		struct siommu_translation t;
		struct siommu_mm_xlate x;
		int mret, mret2, sret, cret;

		/* device sides first: what they have must be the CPU's (which only grows now) */
		mret = C(siommu_pt_iova_to_phys(siommu_mirror_pt(MM.mirror), a, &mpa));
		mret2 = C(siommu_pt_iova_to_phys(siommu_mirror_pt(MM.mirror2), a, &mpa2));
		sret = C(siommu_translate(MM.dev[0], 1, a, SIOMMU_ACC_READ, &t));
		siommu_read_lock();
		cret = C(siommu_mm_translate_rcu(MM.mm, a, &x));
		siommu_read_unlock();
		if (!mret)
			INV(&inv_mirror, !cret && x.pa == mpa, "mirror maps 0x%llx to 0x%llx, the CPU "
			    "%s 0x%llx", (unsigned long long)a, (unsigned long long)mpa,
			    siommu_errname(cret), (unsigned long long)x.pa);
		else
			INV(&inv_mirror, mret == -ENOENT, "mirror lookup %s", siommu_errname(mret));
		if (!mret2)
			INV(&inv_mirror, !cret && x.pa == mpa2, "mirror1 maps 0x%llx to 0x%llx, the "
			    "CPU %s 0x%llx", (unsigned long long)a, (unsigned long long)mpa2,
			    siommu_errname(cret), (unsigned long long)x.pa);
		else
			INV(&inv_mirror, mret2 == -ENOENT, "mirror1 lookup %s", siommu_errname(mret2));
		if (!sret)
			INV(&inv_sva, !cret && x.pa == t.pa, "SVA translates 0x%llx to 0x%llx, the CPU "
			    "%s 0x%llx", (unsigned long long)a, (unsigned long long)t.pa,
			    siommu_errname(cret), (unsigned long long)x.pa);
	}
}

static void *process_thread(void *arg)
{
	uint64_t s = soak_thread_seed(0x33a1), out;

	(void)arg;
	/* the broken variant: this thread's invalidations skip the SVA IOTLBs */
	if (soak_broken("mm-no-sva-inval"))
		thread_assert_int_equal(siommu_mm_test_set_break(SIOMMU_MM_BREAK_NO_SVA_INVAL), 0);
	while (!soak_stopping()) {
		unsigned int slot = (unsigned int)(soak_rnd(&s) % SLOTS);
		unsigned int p0 = (unsigned int)(soak_rnd(&s) % PAGES);
		unsigned int n = 1 + (unsigned int)(soak_rnd(&s) % 16);
		uint64_t va, len;
		uint8_t b = 1;
		int64_t ret;

		soak_op(&soak_mm);
		if (p0 + n > PAGES)
			n = PAGES - p0;
		if (soak_rnd(&s) % 8 == 0) {
			/* a whole slot now and then: it comes back as a 2 MiB page */
			p0 = 0;
			n = PAGES;
		}
		va = va_of(slot, p0);
		len = n * 4096ull;
		switch (soak_rnd(&s) % 6) {
		case 0:	/* munmap and map again */
			thread_assert_int_equal(C(siommu_mm_munmap(MM.mm, va, len)), 0);
			retire(slot, p0, p0 + n);
			thread_assert_int_equal(C(siommu_mm_mmap(MM.mm, va, len, RW,
								 SIOMMU_MM_MAP_ANON | SIOMMU_MM_MAP_FIXED,
								 -1, 0, &out)), 0);
			tag(slot, p0, p0 + n);
			break;
		case 1:	/* discard */
			thread_assert_int_equal(C(siommu_mm_madvise(MM.mm, va, len,
							SIOMMU_MM_MADV_DONTNEED)), 0);
			retire(slot, p0, p0 + n);
			tag(slot, p0, p0 + n);
			break;
		case 2:	/* read-only for a moment: a device write must be refused */
			thread_assert_int_equal(C(siommu_mm_mprotect(MM.mm, va, len,
								     SIOMMU_MM_PROT_READ)), 0);
			INV(&inv_ro, C(siommu_dma_write(MM.dev[1], SIOMMU_NO_PASID, va + 64, &b, 1)) &&
			    C(siommu_dma_write(MM.dev[0], 1, va + 64, &b, 1)),
			    "a device wrote 0x%llx after mprotect(read-only) returned",
			    (unsigned long long)va);
			{
				uint64_t seen = pr_seen(&MM.pw[1]);

				ret = C(siommu_dma_write(MM.dev[3], SIOMMU_NO_PASID, va + 64, &b, 1));
				INV(&inv_ro, ret != 0, "mirror1 wrote 0x%llx after mprotect(read-only) "
				    "returned", (unsigned long long)va);
				if (ret == -EAGAIN)
					pr_wait(&MM.pw[1], seen);
			}
			check_agree(&s, va, len);
			thread_assert_int_equal(C(siommu_mm_mprotect(MM.mm, va, len, RW)), 0);
			break;
		case 3: /* split the huge page */
			ret = C(siommu_mm_split(MM.mm, va));
			thread_assert_true(ret == 0 || ret == 1);
			break;
		case 4: /* no huge pages for a range */
			thread_assert_int_equal(C(siommu_mm_madvise(MM.mm, va, len,
							SIOMMU_MM_MADV_NOHUGEPAGE)), 0);
			break;
		default: { /* an area of the mm's choosing, touched, gone */
			uint64_t a = 0, t = 0x5eed;

			thread_assert_int_equal(C(siommu_mm_mmap(MM.mm, 0, SCRATCH_LEN, RW,
								 SIOMMU_MM_MAP_ANON, -1, 0, &a)), 0);
			thread_assert_true(a + SCRATCH_LEN <= MM.base || a >= MM.base + SLOTS * SLOT_SZ);
			thread_assert_int_equal(C(siommu_mm_write(MM.mm, a + 4096, &t, 8)), 0);
			C(siommu_dma_read(MM.dev[1], SIOMMU_NO_PASID, a + 4096, &t, 8));
			thread_assert_int_equal(C(siommu_mm_munmap(MM.mm, a, SCRATCH_LEN)), 0);
			check_agree(&s, a, SCRATCH_LEN);
			continue;
		}
		}
		check_agree(&s, va, len);
	}
	return NULL;
}

/* A device's reads of current tags: dev index @which, PASID @pasid. */
static void device_loop(unsigned int which, uint32_t pasid, uint64_t salt)
{
	uint64_t s = soak_thread_seed(salt);

	while (!soak_stopping()) {
		unsigned int slot = (unsigned int)(soak_rnd(&s) % SLOTS);
		unsigned int page = (unsigned int)(soak_rnd(&s) % PAGES);
		uint64_t r = atomic_load(&MM.retired[slot][page]), v = 0, seen = 0;
		int64_t ret;

		soak_op(&soak_mm);
		if (which == 2) {
			uint64_t g0 = atomic_load(&MM.bind_gen);

			if (!(g0 & 1)) {
				/* between bindings (the unbind returned): it translates nothing */
				seen = pr_seen(&MM.pw[0]);
				ret = C(siommu_dma_read(MM.dev[2], pasid, va_of(slot, page), &v, 8));
				if (ret == -EAGAIN)
					pr_wait(&MM.pw[0], seen);
				if (atomic_load(&MM.bind_gen) == g0)
					INV(&inv_unbind, ret != 0, "DMA through PASID 2 worked after "
					    "its unbind returned");
				usleep(100);
				continue;
			}
		}
		if (which >= 2)
			seen = pr_seen(&MM.pw[which - 2]);
		pthread_rwlock_rdlock(&MM.tag_lock[slot]);
		ret = C(siommu_dma_read(MM.dev[which], pasid, va_of(slot, page), &v, 8));
		pthread_rwlock_unlock(&MM.tag_lock[slot]);
		if (which >= 2 && ret == -EAGAIN)
			pr_wait(&MM.pw[which - 2], seen);	/* then read again */
		if (ret || !v)
			continue;	/* a fault during a change, or not tagged yet */
		INV(&inv_stale, v != POISON && (v & 0xfffff) == ((uint64_t)slot << 9 | page) &&
		    v >> 20 > r, "device %u read tag 0x%llx at slot %u page %u, retired gen %llu",
		    which, (unsigned long long)v, slot, page, (unsigned long long)r);
		atomic_fetch_add_explicit(&MM.ok_reads, 1, memory_order_relaxed);
	}
}

static void *sva_thread(void *arg)
{
	(void)arg;
	device_loop(0, 1, 0x33a2);
	return NULL;
}

static void *mirror_thread(void *arg)
{
	(void)arg;
	device_loop(1, SIOMMU_NO_PASID, 0x33a3);
	return NULL;
}

static void *sva1_thread(void *arg)
{
	(void)arg;
	device_loop(2, 2, 0x33a4);
	return NULL;
}

/*
 * A short-lived process: a fresh mm, sva1 bound to it with PASID 3, a DMA
 * write through the binding that the process reads back, and the exit with
 * the binding in place, which must unbind it; then every object goes.
 */
static void short_process(uint64_t *s)
{
	struct siommu_mm *mm = NULL;
	struct siommu_sva *b = NULL;
	uint64_t a = 0, v = soak_rnd(s), back = 0;

	thread_assert_int_equal(C(siommu_mm_create(MM.ctx, NULL, &mm)), 0);
	thread_assert_int_equal(C(siommu_mm_mmap(mm, 0, 4 * 4096, RW, SIOMMU_MM_MAP_ANON |
						 SIOMMU_MM_PAGE_4K, -1, 0, &a)), 0);
	thread_assert_int_equal(C(siommu_sva_bind(mm, MM.iommu, MM.dev[2], 3, 0, &b)), 0);
	/* the page is not there yet: the PRI device's fault is resolved inline */
	thread_assert_int_equal(C(siommu_dma_write(MM.dev[2], 3, a + 4096 + 8, &v, 8)), 0);
	thread_assert_int_equal(C(siommu_mm_read(mm, a + 4096 + 8, &back, 8)), 0);
	INV(&inv_short, back == v, "the process read 0x%llx where its device wrote 0x%llx",
	    (unsigned long long)back, (unsigned long long)v);
	siommu_mm_destroy(mm);
	INV(&inv_unbind, !siommu_sva_domain(b) && !siommu_device_domain(MM.dev[2], 3),
	    "a process's exit left PASID 3 bound");
	thread_assert_int_equal(C(siommu_sva_unbind(b)), 0);
}

static void *mirror1_thread(void *arg)
{
	(void)arg;
	device_loop(3, SIOMMU_NO_PASID, 0x33a6);
	return NULL;
}

static void *binder_thread(void *arg)
{
	uint64_t s = soak_thread_seed(0x33a5);

	(void)arg;
	while (!soak_stopping()) {
		struct siommu_sva *b = NULL;

		soak_op(&soak_mm);
		if (soak_rnd(&s) % 4 == 0) {
			short_process(&s);
			continue;
		}
		atomic_fetch_add(&MM.bind_gen, 1);		/* odd */
		thread_assert_int_equal(C(siommu_sva_bind(MM.mm, MM.iommu, MM.dev[2], 2,
							  SIOMMU_SVA_NO_HANDLER, &b)), 0);
		/* its faults become page requests the iopf's workers resolve */
		thread_assert_int_equal(siommu_sva_iopf_enable(b, MM.iopf), 0);
		usleep((useconds_t)(200 + soak_rnd(&s) % 2000));
		thread_assert_int_equal(C(siommu_sva_unbind(b)), 0);
		atomic_fetch_add(&MM.bind_gen, 1);		/* even: unbound */
		INV(&inv_unbind, siommu_device_domain(MM.dev[2], 2) == NULL,
		    "PASID 2 still attached after its unbind returned");
		usleep((useconds_t)(soak_rnd(&s) % 1000));
	}
	return NULL;
}

static void mm_create(struct siommu_ctx *ctx)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct siommu_iopf_cfg icfg = { .mode = SIOMMU_IOPF_MODE_WORKERS, .workers = 1 };
	struct siommu_mirror_cfg mc = { 0 };
	unsigned int i;

	MM.ctx = ctx;
	for (i = 0; i < 2; i++) {
		pthread_mutex_init(&MM.pw[i].lock, NULL);
		pthread_cond_init(&MM.pw[i].cond, NULL);
	}
	for (i = 0; i < SLOTS; i++)
		pthread_rwlock_init(&MM.tag_lock[i], NULL);
	assert_int_equal(siommu_iommu_create(ctx, &caps, NULL, &MM.iommu), 0);
	assert_int_equal(siommu_device_create(MM.iommu, SIOMMU_RID(0, 0x20, 0, 0),
					      SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &MM.dev[0]), 0);
	assert_int_equal(siommu_device_create(MM.iommu, SIOMMU_RID(0, 0x21, 0, 0), SIOMMU_DEV_PRI,
					      0, &MM.dev[1]), 0);
	assert_int_equal(siommu_device_create(MM.iommu, SIOMMU_RID(0, 0x22, 0, 0),
					      SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &MM.dev[2]), 0);
	assert_int_equal(siommu_device_create(MM.iommu, SIOMMU_RID(0, 0x23, 0, 0), SIOMMU_DEV_PRI,
					      0, &MM.dev[3]), 0);
	assert_int_equal(siommu_iopf_create(MM.iommu, &icfg, &MM.iopf), 0);
	assert_int_equal(siommu_iopf_device_enable(MM.iopf, MM.dev[2], pr_response, &MM.pw[0]), 0);
	assert_int_equal(siommu_iopf_device_enable(MM.iopf, MM.dev[3], pr_response, &MM.pw[1]), 0);
	assert_int_equal(siommu_mm_create(ctx, NULL, &MM.mm), 0);
	assert_int_equal(siommu_mm_mmap(MM.mm, 0, SLOTS * SLOT_SZ, RW, SIOMMU_MM_MAP_ANON, -1, 0,
					&MM.base), 0);
	assert_int_equal(siommu_sva_bind(MM.mm, MM.iommu, MM.dev[0], 1, 0, &MM.b), 0);
	assert_int_equal(siommu_mirror_create(MM.mm, MM.iommu, &mc, &MM.mirror), 0);
	assert_int_equal(siommu_device_attach(MM.dev[1], siommu_mirror_domain(MM.mirror)), 0);
	/* mirror1: 4 KiB pages only, its faults resolved by the iopf's worker */
	mc.flags = SIOMMU_MIRROR_NO_HANDLER | SIOMMU_MIRROR_4K_ONLY;
	assert_int_equal(siommu_mirror_create(MM.mm, MM.iommu, &mc, &MM.mirror2), 0);
	assert_int_equal(siommu_mirror_iopf_enable(MM.mirror2, MM.iopf), 0);
	assert_int_equal(siommu_device_attach(MM.dev[3], siommu_mirror_domain(MM.mirror2)), 0);
	for (i = 0; i < SLOTS; i++)
		tag(i, 0, PAGES);
	/* the mirror's first faults, before anything changes: 2 MiB each */
	for (i = 0; i < SLOTS; i++) {
		uint64_t v;

		assert_int_equal(siommu_dma_read(MM.dev[1], SIOMMU_NO_PASID, va_of(i, 0), &v, 8), 0);
	}
}

static void mm_settle(void)
{
	struct siommu_mirror_stats ms;
	struct siommu_mm_info info;

	assert_int_equal(siommu_mirror_get_stats(MM.mirror, &ms), 0);
	assert_int_equal(siommu_mm_get_info(MM.mm, &info), 0);
	/* the binder unbound its last binding (a drain): every request was answered */
	INV(&inv_once, atomic_load(&MM.pw[0].eagain) == MM.pw[0].responses,
	    "sva1: %llu page requests, %llu responses",
	    (unsigned long long)atomic_load(&MM.pw[0].eagain),
	    (unsigned long long)MM.pw[0].responses);
	/* the binder's bindings are gone: sva0's is left */
	INV(&inv_info, info.bindings == 1 && info.in_progress == 0 && !info.dead,
	    "%llu bindings, %llu invalidations in progress", (unsigned long long)info.bindings,
	    (unsigned long long)info.in_progress);
	print_message("# mm: %llu areas, %llu notifiers, %llu invalidations, %llu faults, "
		      "%llu splits, %llu table pages\n", (unsigned long long)info.nr_areas,
		      (unsigned long long)info.notifiers, (unsigned long long)info.invalidations,
		      (unsigned long long)info.faults, (unsigned long long)info.splits,
		      (unsigned long long)info.table_pages);
	INV(&inv_huge, ms.maps_2m > 0, "%llu 2M and %llu 4K mirror mappings",
	    (unsigned long long)ms.maps_2m, (unsigned long long)ms.maps_4k);
	print_message("# mm: %llu page requests through iopf (sva1), %llu (mirror1)\n",
		      (unsigned long long)atomic_load(&MM.pw[0].eagain),
		      (unsigned long long)atomic_load(&MM.pw[1].eagain));
	print_message("# mm: %llu device reads of current tags; mirror maps %llu x 2M, %llu x 4K, "
		      "%llu zaps, %llu retries\n", (unsigned long long)atomic_load(&MM.ok_reads),
		      (unsigned long long)ms.maps_2m, (unsigned long long)ms.maps_4k,
		      (unsigned long long)ms.zaps, (unsigned long long)ms.retries);
}

static void mm_destroy(void)
{
	int ret = 0;
	unsigned int i;
	bool unbound;

	ret |= siommu_device_detach(MM.dev[1]);
	ret |= siommu_device_detach(MM.dev[3]);	/* a drain: mirror1's requests answered */
	INV(&inv_once, atomic_load(&MM.pw[1].eagain) == MM.pw[1].responses,
	    "mirror1: %llu page requests, %llu responses",
	    (unsigned long long)atomic_load(&MM.pw[1].eagain),
	    (unsigned long long)MM.pw[1].responses);
	/* the process exits with sva0's binding in place: its release unbinds the PASID */
	siommu_mm_destroy(MM.mm);
	unbound = !siommu_sva_domain(MM.b) && !siommu_device_domain(MM.dev[0], 1);
	INV(&inv_unbind, unbound, "the exit left PASID 1 bound");
	ret |= siommu_sva_unbind(MM.b);
	ret |= siommu_mirror_destroy(MM.mirror);
	ret |= siommu_mirror_destroy(MM.mirror2);
	ret |= siommu_iopf_device_disable(MM.iopf, MM.dev[2]);
	ret |= siommu_iopf_device_disable(MM.iopf, MM.dev[3]);
	ret |= siommu_iopf_destroy(MM.iopf);
	for (i = 0; i < 4; i++)
		ret |= siommu_device_destroy(MM.dev[i]);
	ret |= siommu_iommu_destroy(MM.iommu);
	INV(&inv_leak, ret == 0, "a destroy failed");
	for (i = 0; i < SLOTS; i++)
		pthread_rwlock_destroy(&MM.tag_lock[i]);
	for (i = 0; i < 2; i++) {
		pthread_mutex_destroy(&MM.pw[i].lock);
		pthread_cond_destroy(&MM.pw[i].cond);
	}
}

struct soak_module soak_mm = {
	.name = "mm",
	.contracts = contracts,
	.create = mm_create,
	.thread = { process_thread, sva_thread, mirror_thread, sva1_thread, mirror1_thread,
		    binder_thread },
	.settle = mm_settle,
	.destroy = mm_destroy,
	.inv = { &inv_stale, &inv_ro, &inv_mirror, &inv_sva, &inv_unbind, &inv_huge,
		 &inv_short, &inv_info, &inv_once, &inv_leak },
};
