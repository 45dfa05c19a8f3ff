// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The demo's mm part (seed 001): a "process" (an mm of 8 MiB of THP memory)
 * munmaps, maps again, discards, mprotects and splits its memory while two
 * devices work on it: sva0 bound with PASID 1 to the mm's own table, and
 * mirror0 behind a mirror domain filled on its faults.  Every page holds a
 * tag (generation, slot, page) the process writes; when an operation that
 * retires a page returns, its generation is published, and a device read
 * that began after must not see it: neither through the SVA PASID nor
 * through the mirror.  Then the process exits with the binding still in
 * place, which must unbind the PASID cleanly.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <softiommu/softiommu.h>

#include "tool.h"

#define SLOT_SZ		(2ull << 20)
#define SLOTS		4
#define PAGES		(SLOT_SZ / 4096)
#define POISON		0x6b6b6b6b6b6b6b6bull
#define RW		(SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE)

struct mmdemo {
	struct siommu_mm *mm;
	struct siommu_device *dev[2];	/* [0] SVA, [1] mirror */
	struct siommu_mirror *mirror;
	uint64_t base;
	uint64_t gen[SLOTS][PAGES];	/* the process only */
	uint64_t retired[SLOTS][PAGES];	/* atomic */
	pthread_rwlock_t tag_lock[SLOTS];	/* the process's tag writes vs device reads */
	int stop;
	uint64_t stale, ok, ro_written, ops;
	int err;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t va_of(struct mmdemo *d, unsigned int slot, unsigned int page)
{
	return d->base + slot * SLOT_SZ + (uint64_t)page * 4096;
}

static void tag(struct mmdemo *d, unsigned int slot, unsigned int p0, unsigned int p1)
{
	pthread_rwlock_wrlock(&d->tag_lock[slot]);
	for (unsigned int p = p0; p < p1 && !d->err; p++) {
		uint64_t t = ++d->gen[slot][p] << 20 | (uint64_t)slot << 9 | p;

		d->err = siommu_mm_write(d->mm, va_of(d, slot, p), &t, 8);
	}
	pthread_rwlock_unlock(&d->tag_lock[slot]);
}

static void retire(struct mmdemo *d, unsigned int slot, unsigned int p0, unsigned int p1)
{
	for (unsigned int p = p0; p < p1; p++)
		__atomic_store_n(&d->retired[slot][p], d->gen[slot][p], __ATOMIC_RELEASE);
}

static void *process_main(void *arg)
{
	struct mmdemo *d = arg;
	uint64_t s = 0x1234567887654321ull, out;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE) && !d->err) {
		unsigned int slot = (unsigned int)(rnd(&s) % SLOTS);
		unsigned int p0 = (unsigned int)(rnd(&s) % PAGES);
		unsigned int n = 1 + (unsigned int)(rnd(&s) % 16);
		uint64_t va = va_of(d, slot, p0);
		uint8_t b = 1;

		if (p0 + n > PAGES)
			n = PAGES - p0;
		if (rnd(&s) % 8 == 0) {
			/* A whole slot now and then: it comes back as a 2 MiB page. */
			p0 = 0;
			n = PAGES;
			va = va_of(d, slot, 0);
		}
		switch (rnd(&s) % 4) {
		case 0:	/* munmap and map again */
			d->err = siommu_mm_munmap(d->mm, va, n * 4096ull);
			retire(d, slot, p0, p0 + n);
			if (!d->err)
				d->err = siommu_mm_mmap(d->mm, va, n * 4096ull, RW,
							SIOMMU_MM_MAP_ANON |
							SIOMMU_MM_MAP_FIXED, -1, 0, &out);
			tag(d, slot, p0, p0 + n);
			break;
		case 1:	/* discard */
			d->err = siommu_mm_madvise(d->mm, va, n * 4096ull, SIOMMU_MM_MADV_DONTNEED);
			retire(d, slot, p0, p0 + n);
			tag(d, slot, p0, p0 + n);
			break;
		case 2:	/* read-only for a moment: a device write must be refused */
			d->err = siommu_mm_mprotect(d->mm, va, n * 4096ull, SIOMMU_MM_PROT_READ);
			if (!siommu_dma_write(d->dev[1], SIOMMU_NO_PASID, va + 64, &b, 1) ||
			    !siommu_dma_write(d->dev[0], 1, va + 64, &b, 1))
				__atomic_add_fetch(&d->ro_written, 1, __ATOMIC_RELAXED);
			if (!d->err)
				d->err = siommu_mm_mprotect(d->mm, va, n * 4096ull, RW);
			break;
		default: /* split the huge page */
			if (siommu_mm_split(d->mm, va) < 0)
				d->err = -EINVAL;
			break;
		}
		d->ops++;
	}
	return NULL;
}

struct devarg {
	struct mmdemo *d;
	int which;
};

static void *device_main(void *arg)
{
	struct devarg *a = arg;
	struct mmdemo *d = a->d;
	uint64_t s = 0xabcdef0123456789ull + (uint64_t)a->which;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		unsigned int slot = (unsigned int)(rnd(&s) % SLOTS);
		unsigned int page = (unsigned int)(rnd(&s) % PAGES);
		uint64_t r = __atomic_load_n(&d->retired[slot][page], __ATOMIC_ACQUIRE), v = 0;
		int ret;

		pthread_rwlock_rdlock(&d->tag_lock[slot]);
		ret = siommu_dma_read(d->dev[a->which], a->which ? SIOMMU_NO_PASID : 1,
				      va_of(d, slot, page), &v, 8);
		pthread_rwlock_unlock(&d->tag_lock[slot]);
		if (ret || !v)
			continue;	/* a fault during a change, or not tagged yet */
		if (v == POISON || (v & 0xfffff) != ((uint64_t)slot << 9 | page) || v >> 20 <= r)
			__atomic_add_fetch(&d->stale, 1, __ATOMIC_RELAXED);
		else
			__atomic_add_fetch(&d->ok, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void quiet(void *opaque, enum siommu_log_level level, const char *msg)
{
}

typedef void demo_check_fn(void *opaque, const char *what, bool ok, const char *detail);

/* The mm part of `softiommu demo`: runs about @seconds, reports its invariants. */
void demo_mm_part(double seconds, bool verbose, demo_check_fn *check, void *opaque);
void demo_mm_part(double seconds, bool verbose, demo_check_fn *check, void *opaque)
{
	struct siommu_iommu_caps caps = { .pasid_bits = 8 };
	struct siommu_mirror_cfg mc = { 0 };
	struct siommu_mirror_stats ms = { 0 };
	struct siommu_iommu *iommu = NULL;
	struct siommu_ctx *ctx = NULL;
	struct siommu_sva *b = NULL;
	static struct mmdemo d;
	struct devarg da[2] = { { &d, 0 }, { &d, 1 } };
	pthread_t pt, dt[2];
	char detail[200];
	bool unbound = false;
	int ret;

	memset(&d, 0, sizeof(d));
	for (int i = 0; i < SLOTS; i++)
		pthread_rwlock_init(&d.tag_lock[i], NULL);
	ret = siommu_ctx_create(&ctx);
	if (!ret)
		ret = siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, quiet, NULL);
	if (!ret)
		ret = siommu_iommu_create(ctx, &caps, NULL, &iommu);
	if (!ret)
		ret = siommu_device_create(iommu, SIOMMU_RID(0, 0x20, 0, 0),
					   SIOMMU_DEV_PRI | SIOMMU_DEV_PASID, 8, &d.dev[0]);
	if (!ret)
		ret = siommu_device_create(iommu, SIOMMU_RID(0, 0x21, 0, 0), SIOMMU_DEV_PRI, 0,
					   &d.dev[1]);
	if (!ret)
		ret = siommu_mm_create(ctx, NULL, &d.mm);
	if (!ret)
		ret = siommu_mm_mmap(d.mm, 0, SLOTS * SLOT_SZ,
				     SIOMMU_MM_PROT_READ | SIOMMU_MM_PROT_WRITE,
				     SIOMMU_MM_MAP_ANON, -1, 0, &d.base);
	if (!ret)
		ret = siommu_sva_bind(d.mm, iommu, d.dev[0], 1, 0, &b);
	if (!ret)
		ret = siommu_mirror_create(d.mm, iommu, &mc, &d.mirror);
	if (!ret)
		ret = siommu_device_attach(d.dev[1], siommu_mirror_domain(d.mirror));
	for (unsigned int sl = 0; !ret && sl < SLOTS; sl++) {
		tag(&d, sl, 0, PAGES);
		ret = d.err;
	}
	/* The mirror's first faults, before anything changes: 2 MiB each. */
	for (unsigned int sl = 0; !ret && sl < SLOTS; sl++) {
		uint64_t v;

		ret = siommu_dma_read(d.dev[1], SIOMMU_NO_PASID, va_of(&d, sl, 0), &v, 8);
	}
	if (!ret) {
		pthread_create(&pt, NULL, process_main, &d);
		for (int i = 0; i < 2; i++)
			pthread_create(&dt[i], NULL, device_main, &da[i]);
		usleep((useconds_t)(seconds * 1e6));
		__atomic_store_n(&d.stop, 1, __ATOMIC_RELEASE);
		pthread_join(pt, NULL);
		for (int i = 0; i < 2; i++)
			pthread_join(dt[i], NULL);
		ret = d.err;
		siommu_mirror_get_stats(d.mirror, &ms);
	}
	/* The process exits with the binding in place: release unbinds the PASID. */
	if (d.dev[1] && d.mirror)
		siommu_device_detach(d.dev[1]);
	siommu_mm_destroy(d.mm);
	unbound = b && !siommu_sva_domain(b) && !siommu_device_domain(d.dev[0], 1);
	siommu_sva_unbind(b);
	siommu_mirror_destroy(d.mirror);
	for (int i = 0; i < 2; i++)
		siommu_device_destroy(d.dev[i]);
	siommu_iommu_destroy(iommu);
	siommu_ctx_destroy(ctx);

	if (verbose)
		printf("  mm (seed 001): %" PRIu64 " munmap/discard/mprotect/split operations; "
		       "%" PRIu64 " device reads of current tags (SVA PASID 1, a mirror); mirror "
		       "maps %" PRIu64 " x 2M, %" PRIu64 " x 4K, %" PRIu64 " zaps\n",
		       d.ops, d.ok, ms.maps_2m, ms.maps_4k, ms.zaps);
	snprintf(detail, sizeof(detail), "%s", ret ? siommu_strerror(ret) : "no error");
	check(opaque, "mm: the process and its devices ran without an unexpected error", !ret,
	      detail);
	snprintf(detail, sizeof(detail), "%" PRIu64 " stale reads of %" PRIu64, d.stale,
		 d.stale + d.ok);
	check(opaque, "mm: after munmap/discard returned, no SVA or mirror DMA reached the old "
	      "page", d.stale == 0 && d.ok > 0, detail);
	snprintf(detail, sizeof(detail), "%" PRIu64 " device writes got through", d.ro_written);
	check(opaque, "mm: after mprotect(read-only) returned, device writes were refused",
	      d.ro_written == 0, detail);
	snprintf(detail, sizeof(detail), "%" PRIu64 " 2M and %" PRIu64 " 4K mirror mappings",
		 ms.maps_2m, ms.maps_4k);
	check(opaque, "mm: the mirror used the mm's huge pages (seed-001 level lookup)",
	      ms.maps_2m > 0, detail);
	check(opaque, "mm: the process's exit unbound the SVA PASID cleanly", unbound,
	      unbound ? "PASID 1 detached, domain gone" : "still bound");
}
