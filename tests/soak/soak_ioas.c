// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The soak's ioas part: the demo's seed-004 world under random traffic.
 * An IOAS of host memory with a domain a DMA device is attached to (and
 * now and then detached from and attached again: the domain empties and
 * fills), on an IOMMU of its own (no memory map).  Threads:
 *  - driver: SLOTS buffers at fixed IOVAs, each filled with its map's
 *    generation byte; unmaps one (often the one the mediated device holds a
 *    pin in), poisons it as soon as the unmap returns, maps a fresh buffer
 *    there; also maps and unmaps ranges at IOVAs the IOAS chooses, and
 *    copies some into a second IOAS first (shared pages, read after the
 *    source's unmap);
 *  - mdev: an access with a cooperative unmap callback: pins pages, reads
 *    them through the pin (again and again while it holds it), reads and
 *    writes through the IOAS, unpins now and then by itself;
 *  - dma: the device DMA-reads the slots through the domain; attach churn;
 *  - stuck: an access whose callback ignores the request: the unmap of its
 *    area fails EBUSY with nothing unmapped and the holder named, then
 *    succeeds once it lets go; the access is destroyed;
 *  - revoke (seeds 003 and 004): on an IOMMU with a memory map of its own
 *    (a layer on core's would slow core's attach thread down: every change
 *    then waits for a grace period), an IOAS maps a RAM region (REGION
 *    memory) that an access pins and reads; the
 *    region is revoked: before the revoke returns the access was asked and
 *    unpinned, and from then on pins and rw fail -ENODEV and the area says
 *    revoked; the area is unmapped and the region destroyed.
 * Invariants: every page read (pin, rw, DMA) is one generation, never
 * poison; no buffer was written after its unmap returned; an unmap never
 * returns while a page of it is pinned (the pinner re-reads its page, and
 * the driver checks the pin is gone); a cooperative holder never makes an
 * unmap fail; the misbehaving access's case as the demo checks it; at the
 * end no page is pinned and every object is destroyed.
 */
#include "soak.h"

#define PG		SOAK_PG
#define SLOTS		6
#define SLOT_PG		4
#define SLOT_SIZE	(SLOT_PG * PG)
#define NBUF		(2 * SLOTS)
#define BASE_IOVA	0x40000000ull
#define STUCK_IOVA	0x50000000ull
#define FREE_LEN	(2 * PG)
#define COPY_IOVA	0x60000000ull		/* in ioas2 */
#define POISON		0xa5
#define RETRIES		5u

static struct soak_inv inv_data = {
	.name = "ioas: pins, rw and DMA saw one generation, never poison"
};
static struct soak_inv inv_late = {
	.name = "ioas: no buffer was written after its unmap returned"
};
static struct soak_inv inv_pinned = {
	.name = "ioas: an unmap never returned while a page of it was pinned"
};
static struct soak_inv inv_coop = { .name = "ioas: a cooperative holder never made an unmap fail" };
static struct soak_inv inv_stuck = {
	.name = "ioas: a stuck pin: EBUSY, nothing unmapped, holder named"
};
static struct soak_inv inv_later = {
	.name = "ioas: once the stuck access let go the unmap went through"
};
static struct soak_inv inv_copy = {
	.name = "ioas: a copy shares its source's pages and outlives its unmap"
};
static struct soak_inv inv_revoke = {
	.name = "ioas: a revoke asked the pinner first; afterwards pin and rw fail"
};
static struct soak_inv inv_end = {
	.name = "ioas: at the end no page pinned, areas as the driver has them"
};

static const char *const contracts[] = {
	"siommu_ioas_map", "siommu_ioas_unmap", "siommu_ioas_access_pin",
	"siommu_ioas_access_unpin", "siommu_ioas_access_rw", "siommu_ioas_access_create",
	"siommu_ioas_access_destroy", "siommu_ioas_pin_holders", "siommu_ioas_area_find",
	"siommu_ioas_get_info", "siommu_ioas_access_get_info", "siommu_dma_read",
	"siommu_device_attach", "siommu_device_detach", "siommu_ioas_copy", NULL
};

struct mdev {
	struct siommu_ioas_access *acc;
	pthread_mutex_t mu;		/* the device's own lock, taken by its callback */
	uint64_t pinned;		/* [mu] iova of its pin, 0: none */
	const uint8_t *page;		/* [mu] the pinned page */
	uint64_t asked;			/* [mu] callbacks */
};

static struct {
	struct siommu_iommu *iommu;
	struct siommu_ioas_layer *l;
	struct siommu_ioas *ioas;
	struct siommu_ioas *ioas2;	/* copies of the driver's chosen-IOVA maps */
	struct siommu_ioas_access *acc2;	/* reads them (the driver's) */
	struct siommu_domain *dom;
	struct siommu_device *dev;
	uint8_t *pool;			/* NBUF buffers of SLOT_SIZE */
	uint8_t *free_buf;		/* the driver's chosen-IOVA maps */
	int slot_buf[SLOTS];		/* driver only */
	int next_buf;			/* driver only */
	bool buf_used[NBUF];		/* driver only */
	uint8_t gen;			/* driver only */
	struct mdev md;
	/* the revoke thread's, on an IOMMU with a memory map */
	struct siommu_mem *rmem;
	struct siommu_iommu *riommu;
	struct siommu_ioas_layer *rl;
	struct siommu_ioas *rioas;
	struct siommu_ioas_access *racc;
	pthread_mutex_t r_mu;
	uint64_t r_pinned;		/* [r_mu] iova of racc's pin, 0: none */
	_Atomic unsigned long r_asked;
} IO;

static uint64_t slot_iova(unsigned int s)
{
	return BASE_IOVA + (uint64_t)s * SLOT_SIZE * 2;
}

static uint8_t *buf_at(int b)
{
	return IO.pool + (uint64_t)b * SLOT_SIZE;
}

static bool one_generation(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != b[0] || b[i] == POISON)
			return false;
	return true;
}

/* The mediated device's unmap callback: no IOAS lock held. */
static void mdev_unmap_cb(void *opaque, uint64_t iova, uint64_t length)
{
	struct mdev *md = opaque;

	pthread_mutex_lock(&md->mu);
	md->asked++;
	if (md->pinned && md->pinned >= iova && md->pinned - iova < length) {
		thread_assert_int_equal(C(siommu_ioas_access_unpin(md->acc, md->pinned, PG)), 0);
		md->pinned = 0;
		md->page = NULL;
	}
	pthread_mutex_unlock(&md->mu);
}

static void *mdev_thread(void *arg)
{
	uint64_t s = soak_thread_seed(0x10a5);
	struct mdev *md = &IO.md;
	uint8_t b[64];

	(void)arg;
	while (!soak_stopping()) {
		unsigned int sl = (unsigned int)(soak_rnd(&s) % SLOTS);
		uint64_t iova = slot_iova(sl) + (soak_rnd(&s) % (SLOT_PG - 1)) * PG;
		void *page;
		int64_t ret;

		soak_op(&soak_ioas);
		pthread_mutex_lock(&md->mu);
		if (md->pinned) {
			/* the slot is mapped as long as the pin is there */
			INV(&inv_pinned, one_generation(md->page, 256),
			    "the page pinned at 0x%llx changed under its pin (0x%02x)",
			    (unsigned long long)md->pinned, md->page[0]);
			if (soak_rnd(&s) % 8 == 0) {
				thread_assert_int_equal(C(siommu_ioas_access_unpin(md->acc, md->pinned,
										    PG)), 0);
				md->pinned = 0;
				md->page = NULL;
			}
		} else {
			ret = C(siommu_ioas_access_pin(md->acc, iova, PG, 0, &page));
			if (!ret) {
				md->pinned = iova;
				md->page = page;
				INV(&inv_data, one_generation(page, 256),
				    "a fresh pin at 0x%llx reads 0x%02x...", (unsigned long long)iova,
				    ((uint8_t *)page)[0]);
			} else {
				thread_assert_true(ret == -EBUSY || ret == -ENOENT);
			}
		}
		pthread_mutex_unlock(&md->mu);

		ret = C(siommu_ioas_access_rw(md->acc, slot_iova(sl) + 100, b, sizeof(b), 0));
		if (!ret)
			INV(&inv_data, one_generation(b, sizeof(b)), "rw read 0x%02x 0x%02x", b[0],
			    b[63]);
		else
			thread_assert_true(ret == -EBUSY || ret == -ENOENT);
		memset(b, 0x3c, 16);
		ret = C(siommu_ioas_access_rw(md->acc, slot_iova(sl) + 3 * PG + 8, b, 16,
					      SIOMMU_IOAS_ACCESS_WRITE));
		thread_assert_true(ret == 0 || ret == -EBUSY || ret == -ENOENT);
	}
	pthread_mutex_lock(&md->mu);
	if (md->pinned)
		thread_assert_int_equal(C(siommu_ioas_access_unpin(md->acc, md->pinned, PG)), 0);
	md->pinned = 0;
	pthread_mutex_unlock(&md->mu);
	return NULL;
}

static void *dma_thread(void *arg)
{
	uint64_t s = soak_thread_seed(0x10a6);
	uint8_t b[32];
	bool attached = true;

	(void)arg;
	while (!soak_stopping()) {
		unsigned int sl = (unsigned int)(soak_rnd(&s) % SLOTS);
		int64_t ret;

		soak_op(&soak_ioas);
		if (soak_rnd(&s) % 512 == 0) {
			/* the domain empties on the last detach and fills on attach */
			if (attached)
				thread_assert_int_equal(C(siommu_device_detach(IO.dev)), 0);
			else
				thread_assert_int_equal(C(siommu_device_attach(IO.dev, IO.dom)), 0);
			attached = !attached;
			continue;
		}
		ret = C(siommu_dma_read(IO.dev, SIOMMU_NO_PASID, slot_iova(sl) + 200 +
					soak_rnd(&s) % 1024, b, sizeof(b)));
		if (!ret)
			INV(&inv_data, one_generation(b, sizeof(b)), "DMA read 0x%02x 0x%02x", b[0],
			    b[31]);
	}
	if (!attached)
		thread_assert_int_equal(C(siommu_device_attach(IO.dev, IO.dom)), 0);
	return NULL;
}

/* Map slot @s from a fresh buffer (generation IO.gen, a zero last page). */
static void map_slot(unsigned int s)
{
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST };
	uint64_t iova = slot_iova(s);
	int b = -1, k;
	bool late = false;

	for (k = 0; k < NBUF && b < 0; k++)
		if (!IO.buf_used[(IO.next_buf + k) % NBUF])
			b = (IO.next_buf + k) % NBUF;
	thread_assert_true(b >= 0);
	IO.next_buf = (b + 1) % NBUF;
	/* still all poison since its unmap returned: nothing wrote it late */
	for (uint64_t i = 0; i < SLOT_SIZE; i++)
		late |= buf_at(b)[i] != POISON;
	INV(&inv_late, !late, "buffer %d was written after its unmap returned", b);
	if (++IO.gen == POISON || !IO.gen)
		IO.gen = 1;
	memset(buf_at(b), IO.gen, 3 * PG);
	memset(buf_at(b) + 3 * PG, 0, PG);
	m.host = buf_at(b);
	thread_assert_int_equal(C(siommu_ioas_map(IO.ioas, &m, SLOT_SIZE, SIOMMU_IOAS_MAP_READ |
						  SIOMMU_IOAS_MAP_WRITE |
						  SIOMMU_IOAS_MAP_FIXED_IOVA, &iova)), 0);
	IO.buf_used[b] = true;
	IO.slot_buf[s] = b;
}

static void *driver_thread(void *arg)
{
	uint64_t s = soak_thread_seed(0x10a7);

	(void)arg;
	while (!soak_stopping()) {
		unsigned int sl = (unsigned int)(soak_rnd(&s) % SLOTS);
		uint64_t unmapped = 0, holder_iova;
		uint32_t ids[4];
		int64_t ret;

		soak_op(&soak_ioas);
		if (soak_rnd(&s) % 4 == 0) {
			/* a map where the IOAS chooses, looked up, unmapped */
			struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST,
						     .host = IO.free_buf };
			struct siommu_ioas_area_info ai;
			uint64_t iova = 0;

			thread_assert_int_equal(C(siommu_ioas_map(IO.ioas, &m, FREE_LEN,
								  SIOMMU_IOAS_MAP_READ, &iova)), 0);
			thread_assert_int_equal(C(siommu_ioas_area_find(IO.ioas, iova, &ai)), 0);
			thread_assert_true(ai.iova == iova && ai.length == FREE_LEN &&
					   ai.host == IO.free_buf);
			if (soak_rnd(&s) % 2) {
				/* a copy into the second IOAS shares the pages and outlives it */
				uint64_t civ = COPY_IOVA;
				uint8_t b = 0;

				thread_assert_int_equal(C(siommu_ioas_copy(IO.ioas2, &civ, IO.ioas,
						iova, FREE_LEN, SIOMMU_IOAS_MAP_READ |
						SIOMMU_IOAS_MAP_FIXED_IOVA)), 0);
				thread_assert_int_equal(C(siommu_ioas_area_find(IO.ioas2, civ, &ai)), 0);
				INV(&inv_copy, ai.host == IO.free_buf && ai.pages_users == 2,
				    "a copy's area: host %p (want %p), %u users", ai.host, IO.free_buf,
				    ai.pages_users);
				thread_assert_int_equal(C(siommu_ioas_unmap(IO.ioas, iova, FREE_LEN,
									    &unmapped)), 0);
				thread_assert_int_equal(C(siommu_ioas_area_find(IO.ioas2, civ, &ai)), 0);
				INV(&inv_copy, ai.host == IO.free_buf && ai.pages_users == 1 &&
				    !C(siommu_ioas_access_rw(IO.acc2, civ + 7, &b, 1, 0)) && b == 0x11,
				    "after the source's unmap: host %p, %u users, read 0x%02x", ai.host,
				    ai.pages_users, b);
				thread_assert_int_equal(C(siommu_ioas_unmap(IO.ioas2, civ, FREE_LEN,
									    &unmapped)), 0);
				continue;
			}
			thread_assert_int_equal(C(siommu_ioas_unmap(IO.ioas, iova, FREE_LEN,
								    &unmapped)), 0);
			thread_assert_int_equal(unmapped, FREE_LEN);
			continue;
		}
		if (soak_rnd(&s) % 2) {
			/* the slot the device holds a pin in, if it has one */
			pthread_mutex_lock(&IO.md.mu);
			holder_iova = IO.md.pinned;
			pthread_mutex_unlock(&IO.md.mu);
			if (holder_iova)
				sl = (unsigned int)((holder_iova - BASE_IOVA) / (SLOT_SIZE * 2));
		}
		ret = C(siommu_ioas_unmap(IO.ioas, slot_iova(sl), SLOT_SIZE, &unmapped));
		INV(&inv_coop, ret == 0, "unmap of slot %u: %s", sl, siommu_errname((int)ret));
		if (ret)
			continue;
		thread_assert_int_equal(unmapped, SLOT_SIZE);
		/* The unmap returned: no pin of the range is left. */
		pthread_mutex_lock(&IO.md.mu);
		INV(&inv_pinned, !IO.md.pinned || IO.md.pinned < slot_iova(sl) ||
		    IO.md.pinned >= slot_iova(sl) + SLOT_SIZE,
		    "unmap of 0x%llx returned with the mdev's pin at 0x%llx still held",
		    (unsigned long long)slot_iova(sl), (unsigned long long)IO.md.pinned);
		pthread_mutex_unlock(&IO.md.mu);
		ret = C(siommu_ioas_pin_holders(IO.ioas, slot_iova(sl), SLOT_SIZE, ids, 4));
		INV(&inv_pinned, ret == 0, "%lld holders of an unmapped range", (long long)ret);
		/* nothing may touch the buffer any more */
		memset(buf_at(IO.slot_buf[sl]), POISON, SLOT_SIZE);
		IO.buf_used[IO.slot_buf[sl]] = false;
		map_slot(sl);
	}
	return NULL;
}

/* The misbehaving access: counts its callbacks and keeps its pin. */
static _Atomic unsigned int stuck_calls;

static void stuck_cb(void *opaque, uint64_t iova, uint64_t length)
{
	(void)opaque;
	(void)iova;
	(void)length;
	atomic_fetch_add(&stuck_calls, 1);
}

static void *stuck_thread(void *arg)
{
	uint8_t *buf = aligned_alloc(PG, 2 * PG);
	unsigned int round = 0;

	(void)arg;
	thread_assert_non_null(buf);
	while (!soak_stopping()) {
		struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST, .host = buf };
		struct siommu_ioas_access *acc;
		struct siommu_ioas_access_info ai;
		struct siommu_ioas_area_info area;
		uint64_t iova = STUCK_IOVA, unmapped = 1;
		char name[32], line[256];
		uint32_t id = 0;
		void *page;
		uint8_t b = 0;
		int64_t ret;
		bool kept, named;

		soak_op(&soak_ioas);
		snprintf(name, sizeof(name), "stuck-%u", round++);
		memset(buf, 0x42, 2 * PG);
		thread_assert_int_equal(C(siommu_ioas_map(IO.ioas, &m, 2 * PG, SIOMMU_IOAS_MAP_READ |
							  SIOMMU_IOAS_MAP_WRITE |
							  SIOMMU_IOAS_MAP_FIXED_IOVA, &iova)), 0);
		thread_assert_int_equal(C(siommu_ioas_access_create(IO.ioas, name, stuck_cb, NULL, 0,
								    &acc)), 0);
		thread_assert_int_equal(C(siommu_ioas_access_pin(acc, STUCK_IOVA + PG, PG, 0,
								 &page)), 0);
		thread_assert_int_equal(C(siommu_ioas_access_get_info(acc, &ai)), 0);
		atomic_store(&stuck_calls, 0);
		ret = C(siommu_ioas_unmap(IO.ioas, STUCK_IOVA, 2 * PG, &unmapped));
		kept = !C(siommu_ioas_area_find(IO.ioas, STUCK_IOVA, &area)) &&
		       area.length == 2 * PG &&
		       !C(siommu_ioas_access_rw(acc, STUCK_IOVA + 5, &b, 1, 0)) && b == 0x42;
		named = C(siommu_ioas_pin_holders(IO.ioas, STUCK_IOVA, 2 * PG, &id, 1)) == 1 &&
			id == ai.id;
		/* the library's warning names it (the sink keeps the last "ioas:" line) */
		named = named && soak_log_seen("ioas:", line, sizeof(line), NULL) &&
			strstr(line, name);
		INV(&inv_stuck, ret == -EBUSY && kept && named && atomic_load(&stuck_calls) > 0,
		    "unmap %s after %u callbacks; area %s; holder %s (log: %s)",
		    siommu_errname((int)ret), atomic_load(&stuck_calls), kept ? "kept" : "CHANGED",
		    named ? "named" : "NOT named", line);
		/* it lets go at last: the same unmap goes through */
		thread_assert_int_equal(C(siommu_ioas_access_unpin(acc, STUCK_IOVA + PG, PG)), 0);
		ret = C(siommu_ioas_unmap(IO.ioas, STUCK_IOVA, 2 * PG, &unmapped));
		INV(&inv_later, ret == 0 && unmapped == 2 * PG, "unmap %s (%llu bytes)",
		    siommu_errname((int)ret), (unsigned long long)unmapped);
		thread_assert_int_equal(C(siommu_ioas_access_destroy(acc)), 0);
		usleep(2000);
	}
	free(buf);
	return NULL;
}

#define RREGION_PA	0x30000000ull
#define RREGION_LEN	(16 * PG)
#define RIOVA		0x70000000ull

static void racc_cb(void *opaque, uint64_t iova, uint64_t length)
{
	(void)opaque;
	pthread_mutex_lock(&IO.r_mu);
	atomic_fetch_add(&IO.r_asked, 1);
	if (IO.r_pinned && IO.r_pinned >= iova && IO.r_pinned - iova < length) {
		thread_assert_int_equal(C(siommu_ioas_access_unpin(IO.racc, IO.r_pinned, PG)), 0);
		IO.r_pinned = 0;
	}
	pthread_mutex_unlock(&IO.r_mu);
}

static void *revoke_thread(void *arg)
{
	uint64_t s = soak_thread_seed(0x10a8);
	struct siommu_mem *mem = IO.rmem;

	(void)arg;
	while (!soak_stopping()) {
		struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_REGION, .mem = mem };
		struct siommu_ioas_area_info ai;
		struct siommu_mem_region *r = NULL;
		uint64_t iova = RIOVA, unmapped = 0, pin = RIOVA + (soak_rnd(&s) % 16) * PG;
		uint8_t fill[64], b[64];
		unsigned long asked;
		void *page;
		int64_t ret;
		bool still;

		soak_op(&soak_ioas);
		thread_assert_int_equal(C(siommu_mem_add_ram(mem, RREGION_PA, RREGION_LEN, &r)), 0);
		memset(fill, 0x5a, sizeof(fill));
		thread_assert_int_equal(C(siommu_mem_rw(mem, pin - RIOVA + RREGION_PA, fill,
							sizeof(fill), true)), 0);
		m.region = r;
		thread_assert_int_equal(C(siommu_ioas_map(IO.rioas, &m, RREGION_LEN,
							  SIOMMU_IOAS_MAP_READ | SIOMMU_IOAS_MAP_WRITE |
							  SIOMMU_IOAS_MAP_FIXED_IOVA, &iova)), 0);
		pthread_mutex_lock(&IO.r_mu);
		thread_assert_int_equal(C(siommu_ioas_access_pin(IO.racc, pin, PG, 0, &page)), 0);
		IO.r_pinned = pin;
		INV(&inv_revoke, !memcmp(page, fill, sizeof(fill)), "the pinned page reads 0x%02x",
		    ((uint8_t *)page)[0]);
		pthread_mutex_unlock(&IO.r_mu);
		thread_assert_int_equal(C(siommu_ioas_access_rw(IO.racc, pin, b, sizeof(b), 0)), 0);
		INV(&inv_revoke, !memcmp(b, fill, sizeof(b)), "rw reads 0x%02x", b[0]);
		asked = atomic_load(&IO.r_asked);
		thread_assert_int_equal(C(siommu_mem_region_revoke(r)), 0);
		/* the revoke returned: the holder was asked and let go */
		pthread_mutex_lock(&IO.r_mu);
		still = IO.r_pinned != 0;
		pthread_mutex_unlock(&IO.r_mu);
		INV(&inv_revoke, !still && atomic_load(&IO.r_asked) > asked,
		    "revoke returned with the pin %s (asked %lu times)", still ? "held" : "gone",
		    atomic_load(&IO.r_asked) - asked);
		ret = C(siommu_ioas_access_pin(IO.racc, pin, PG, 0, &page));
		INV(&inv_revoke, ret == -ENODEV, "a pin after the revoke: %s",
		    siommu_errname((int)ret));
		if (!ret)
			siommu_ioas_access_unpin(IO.racc, pin, PG);
		ret = C(siommu_ioas_access_rw(IO.racc, pin, b, sizeof(b), 0));
		INV(&inv_revoke, ret == -ENODEV, "rw after the revoke: %s", siommu_errname((int)ret));
		ret = C(siommu_ioas_area_find(IO.rioas, RIOVA, &ai));
		INV(&inv_revoke, ret == 0 && ai.revoked, "the area after the revoke: %s, %s",
		    siommu_errname((int)ret), ai.revoked ? "revoked" : "NOT revoked");
		thread_assert_int_equal(C(siommu_ioas_unmap(IO.rioas, RIOVA, RREGION_LEN, &unmapped)),
					0);
		thread_assert_int_equal(C(siommu_mem_region_destroy(r)), 0);
		usleep(1000);
	}
	return NULL;
}

static void ioas_create(struct siommu_ctx *ctx)
{
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	unsigned int i;

	/* no memory map: output addresses are host addresses */
	assert_int_equal(siommu_iommu_create(ctx, NULL, NULL, &IO.iommu), 0);
	assert_int_equal(siommu_device_create(IO.iommu, SIOMMU_RID(0, 0x10, 0, 0), 0, 0, &IO.dev),
			 0);
	assert_int_equal(siommu_ioas_layer_create(ctx, IO.iommu, &IO.l), 0);
	assert_int_equal(siommu_ioas_create(IO.l, &IO.ioas), 0);
	assert_int_equal(siommu_ioas_create(IO.l, &IO.ioas2), 0);
	assert_int_equal(siommu_ioas_access_create(IO.ioas2, "reader", NULL, NULL,
						   SIOMMU_IOAS_ACCESS_UNREVOCABLE, &IO.acc2), 0);
	assert_int_equal(siommu_ioas_domain_alloc(IO.ioas, &cfg, &IO.dom), 0);
	assert_int_equal(siommu_device_attach(IO.dev, IO.dom), 0);
	assert_int_equal(siommu_ioas_set_unmap_retries(IO.ioas, RETRIES), 0);
	pthread_mutex_init(&IO.md.mu, NULL);
	IO.pool = aligned_alloc(PG, NBUF * SLOT_SIZE);
	IO.free_buf = aligned_alloc(PG, FREE_LEN);
	assert_non_null(IO.pool);
	assert_non_null(IO.free_buf);
	memset(IO.pool, POISON, NBUF * SLOT_SIZE);
	memset(IO.free_buf, 0x11, FREE_LEN);
	for (i = 0; i < SLOTS; i++)
		map_slot(i);
	pthread_mutex_init(&IO.r_mu, NULL);
	assert_int_equal(siommu_mem_create(ctx, &IO.rmem), 0);
	assert_int_equal(siommu_iommu_create(ctx, NULL, IO.rmem, &IO.riommu), 0);
	assert_int_equal(siommu_ioas_layer_create(ctx, IO.riommu, &IO.rl), 0);
	assert_int_equal(siommu_ioas_create(IO.rl, &IO.rioas), 0);
	assert_int_equal(siommu_ioas_access_create(IO.rioas, "rmdev", racc_cb, NULL, 0, &IO.racc),
			 0);
	assert_int_equal(siommu_ioas_access_create(IO.ioas, "mdev0", mdev_unmap_cb, &IO.md, 0,
						   &IO.md.acc), 0);
}

static void ioas_settle(void)
{
	struct siommu_ioas_info info;

	assert_int_equal(siommu_ioas_get_info(IO.ioas, &info), 0);
	INV(&inv_end, info.pinned_pages == 0 && info.areas == SLOTS &&
	    info.mapped_bytes == SLOTS * SLOT_SIZE && info.accesses == 1 && info.domains_filled == 1,
	    "%llu pages pinned, %llu areas (%llu bytes), %u accesses, %u domains filled",
	    (unsigned long long)info.pinned_pages, (unsigned long long)info.areas,
	    (unsigned long long)info.mapped_bytes, info.accesses, info.domains_filled);
}

static struct soak_inv inv_leak = { .name = "ioas: every object destroyed (each destroy 0)" };

static void ioas_destroy(void)
{
	uint64_t unmapped = 0;
	int ret = 0;

	ret |= siommu_ioas_access_destroy(IO.md.acc);
	ret |= siommu_device_detach(IO.dev);
	ret |= siommu_ioas_unmap_all(IO.ioas, &unmapped);
	ret |= siommu_ioas_domain_free(IO.l, IO.dom);
	ret |= siommu_ioas_destroy(IO.ioas);
	ret |= siommu_ioas_access_destroy(IO.acc2);
	ret |= siommu_ioas_destroy(IO.ioas2);
	ret |= siommu_ioas_layer_destroy(IO.l);
	ret |= siommu_ioas_access_destroy(IO.racc);
	ret |= siommu_ioas_destroy(IO.rioas);
	ret |= siommu_ioas_layer_destroy(IO.rl);
	ret |= siommu_iommu_destroy(IO.riommu);
	ret |= siommu_mem_destroy(IO.rmem);
	ret |= siommu_device_destroy(IO.dev);
	ret |= siommu_iommu_destroy(IO.iommu);
	INV(&inv_leak, ret == 0 && unmapped == SLOTS * SLOT_SIZE,
	    "a destroy failed (%d) or unmap_all unmapped %llu", ret, (unsigned long long)unmapped);
	pthread_mutex_destroy(&IO.md.mu);
	pthread_mutex_destroy(&IO.r_mu);
	free(IO.pool);
	free(IO.free_buf);
}

struct soak_module soak_ioas = {
	.name = "ioas",
	.contracts = contracts,
	.create = ioas_create,
	.thread = { driver_thread, mdev_thread, dma_thread, stuck_thread, revoke_thread },
	.settle = ioas_settle,
	.destroy = ioas_destroy,
	.inv = { &inv_data, &inv_late, &inv_pinned, &inv_coop, &inv_stuck, &inv_later, &inv_copy, &inv_revoke,
		 &inv_end,
		 &inv_leak },
};
