// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The demo's ioas part (seed 004): a mediated device and a misbehaving one.
 *
 * An IOAS of host memory with a domain a DMA device is attached to.  A
 * driver thread maps SLOTS buffers at fixed IOVAs, each filled with its
 * map's generation byte, and keeps unmapping one, poisoning its buffer as
 * soon as the unmap returns, and mapping a fresh one there.  A mediated
 * device thread (an access object, iommufd's mdev) pins pages of random
 * slots, reads them through the pin, reads and writes through the IOAS
 * (siommu_ioas_access_rw()), and keeps each pin until the driver's unmap
 * asks for it: its callback, called with no IOAS lock held, takes the
 * device's own mutex (as a vendor driver does) and unpins.  Meanwhile the
 * device DMAs through the domain.
 *
 * Then a misbehaving access pins a page of an area of its own and ignores
 * its callback: the driver's unmap of that area must fail with EBUSY after
 * its rounds, with nothing unmapped (the area and its data still there),
 * and name the holder (siommu_ioas_pin_holders() and the library's log
 * line); once the access lets go, the same unmap succeeds.
 *
 * Every verdict printed is decided by the library's promises, not by
 * timing: a run that is slow merely does fewer rounds.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <softiommu/softiommu.h>

#include "demo_ioas.h"

#define PG		4096ull
#define SLOTS		4
#define SLOT_PG		4
#define SLOT_SIZE	(SLOT_PG * PG)
#define NBUF		(2 * SLOTS)
#define BASE_IOVA	0x40000000ull
#define STUCK_IOVA	0x50000000ull
#define POISON		0xa5
#define RUN_SECONDS	0.3
#define RETRIES		5u

struct mdev {
	struct siommu_ioas_access *acc;
	pthread_mutex_t mu;		/* the device's own lock, taken by its callback */
	uint64_t pinned;		/* [mu] iova of its pin, 0: none */
	uint64_t asked, unpinned_asked;	/* [mu] callbacks, and pins they dropped */
	uint64_t pins, pin_busy, reads, writes, rw_busy, bad_pages, bad_reads;
	uint64_t dma_ok, dma_fault, dma_bad;
	unsigned int seed;
};

struct part {
	struct siommu_ctx *ctx;
	struct siommu_iommu *iommu;
	struct siommu_ioas_layer *l;
	struct siommu_ioas *ioas;
	struct siommu_domain *dom;
	struct siommu_device *dev;
	uint8_t *pool;			/* NBUF buffers of SLOT_SIZE */
	int slot_buf[SLOTS];		/* driver only */
	int next_buf;			/* driver only */
	bool buf_used[NBUF];		/* driver only */
	uint64_t unmaps, unmap_busy, late_writes, reuse_checks, targeted;
	struct mdev md;
	int stop;			/* atomic */
	int err;			/* first unexpected error */
	pthread_mutex_t log_mu;		/* the log sink runs on any thread */
	char log_line[256];		/* [log_mu] the library's last ioas warning */
	unsigned int warnings;		/* [log_mu] */
};

static void note_err(struct part *p, int err)
{
	if (err && !p->err)
		p->err = err;
}

static void log_sink(void *opaque, enum siommu_log_level level, const char *msg)
{
	struct part *p = opaque;

	(void)level;
	if (strncmp(msg, "ioas:", 5))
		return;		/* DMA faults of unmapped slots: counted elsewhere */
	pthread_mutex_lock(&p->log_mu);
	snprintf(p->log_line, sizeof(p->log_line), "%s", msg);
	p->warnings++;
	pthread_mutex_unlock(&p->log_mu);
}

static uint64_t slot_iova(unsigned int s)
{
	return BASE_IOVA + (uint64_t)s * SLOT_SIZE * 2;
}

static uint8_t *buf_at(struct part *p, int b)
{
	return p->pool + (uint64_t)b * SLOT_SIZE;
}

/* The mediated device's unmap callback: no IOAS lock held. */
static void mdev_unmap_cb(void *opaque, uint64_t iova, uint64_t length)
{
	struct mdev *md = opaque;

	pthread_mutex_lock(&md->mu);
	md->asked++;
	if (md->pinned && md->pinned >= iova && md->pinned - iova < length) {
		if (!siommu_ioas_access_unpin(md->acc, md->pinned, PG))
			md->unpinned_asked++;
		md->pinned = 0;
	}
	pthread_mutex_unlock(&md->mu);
}

static bool one_generation(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != b[0] || b[i] == POISON)
			return false;
	return true;
}

static void *mdev_main(void *arg)
{
	struct part *p = arg;
	struct mdev *md = &p->md;
	uint8_t b[64];

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		unsigned int s = (unsigned int)rand_r(&md->seed) % SLOTS;
		uint64_t iova = slot_iova(s) + (uint64_t)(rand_r(&md->seed) % (SLOT_PG - 1)) * PG;
		void *page;
		int ret;

		/*
		 * Pin a page and read through it; the pin is kept until the
		 * driver's unmap asks for it (only the callback unpins).
		 */
		pthread_mutex_lock(&md->mu);
		ret = md->pinned ? 1 : siommu_ioas_access_pin(md->acc, iova, PG, 0, &page);
		if (ret == 1) {
			/* still holding the last one */
		} else if (!ret) {
			md->pinned = iova;
			md->pins++;
			if (!one_generation(page, 256))
				md->bad_pages++;
		} else if (ret == -EBUSY || ret == -ENOENT) {
			md->pin_busy++;
		} else {
			note_err(p, ret);
		}
		pthread_mutex_unlock(&md->mu);

		/* read the slot's data page and write its last page, through the IOAS */
		ret = siommu_ioas_access_rw(md->acc, slot_iova(s) + 100, b, sizeof(b), 0);
		if (!ret) {
			md->reads++;
			if (!one_generation(b, sizeof(b)))
				md->bad_reads++;
		} else if (ret == -EBUSY || ret == -ENOENT) {
			md->rw_busy++;
		} else {
			note_err(p, ret);
		}
		memset(b, 0x3c, 16);
		ret = siommu_ioas_access_rw(md->acc, slot_iova(s) + 3 * PG + 8, b, 16,
					    SIOMMU_IOAS_ACCESS_WRITE);
		if (!ret)
			md->writes++;
		else if (ret == -EBUSY || ret == -ENOENT)
			md->rw_busy++;
		else
			note_err(p, ret);

		/* and DMA through the IOAS's domain, as the device would */
		ret = siommu_dma_read(p->dev, SIOMMU_NO_PASID, slot_iova(s) + 200, b, 32);
		if (!ret) {
			md->dma_ok++;
			if (!one_generation(b, 32))
				md->dma_bad++;
		} else {
			md->dma_fault++;	/* an unmapped slot */
		}
	}
	pthread_mutex_lock(&md->mu);
	if (md->pinned && !siommu_ioas_access_unpin(md->acc, md->pinned, PG))
		md->pinned = 0;
	pthread_mutex_unlock(&md->mu);
	return NULL;
}

/* Map slot @s from a fresh buffer with generation @gen (data pages) and a zero last page. */
static int map_slot(struct part *p, unsigned int s, uint8_t gen)
{
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST };
	uint64_t iova = slot_iova(s);
	int b = -1, k, ret;

	for (k = 0; k < NBUF && b < 0; k++)
		if (!p->buf_used[(p->next_buf + k) % NBUF])
			b = (p->next_buf + k) % NBUF;
	if (b < 0)
		return -ENOSPC;
	p->next_buf = (b + 1) % NBUF;
	/* still all poison since its unmap returned: nothing wrote it late */
	p->reuse_checks++;
	for (uint64_t i = 0; i < SLOT_SIZE; i++) {
		if (buf_at(p, b)[i] != POISON) {
			p->late_writes++;
			break;
		}
	}
	memset(buf_at(p, b), gen, 3 * PG);
	memset(buf_at(p, b) + 3 * PG, 0, PG);
	m.host = buf_at(p, b);
	ret = siommu_ioas_map(p->ioas, &m, SLOT_SIZE, SIOMMU_IOAS_MAP_READ |
			      SIOMMU_IOAS_MAP_WRITE | SIOMMU_IOAS_MAP_FIXED_IOVA, &iova);
	if (ret)
		return ret;
	p->buf_used[b] = true;
	p->slot_buf[s] = b;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(struct part *p)
{
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING,
					 .fmt = SIOMMU_PT_FMT_X86_64 };
	int ret;

	ret = siommu_ctx_create(&p->ctx);
	if (!ret)
		ret = siommu_ctx_set_log(p->ctx, SIOMMU_LOG_WARN, log_sink, p);
	if (!ret)	/* no memory map: output addresses are host addresses */
		ret = siommu_iommu_create(p->ctx, NULL, NULL, &p->iommu);
	if (!ret)
		ret = siommu_device_create(p->iommu, SIOMMU_RID(0, 0, 7, 0), 0, 0, &p->dev);
	if (!ret)
		ret = siommu_ioas_layer_create(p->ctx, p->iommu, &p->l);
	if (!ret)
		ret = siommu_ioas_create(p->l, &p->ioas);
	if (!ret)
		ret = siommu_ioas_domain_alloc(p->ioas, &cfg, &p->dom);
	if (!ret)
		ret = siommu_device_attach(p->dev, p->dom);
	if (!ret)
		ret = siommu_ioas_set_unmap_retries(p->ioas, RETRIES);
	if (ret)
		return ret;
	p->pool = aligned_alloc(PG, NBUF * SLOT_SIZE);
	if (!p->pool)
		return -ENOMEM;
	memset(p->pool, POISON, NBUF * SLOT_SIZE);
	return 0;
}

static int teardown(struct part *p)
{
	int ret = 0;

	if (p->md.acc)
		ret |= siommu_ioas_access_destroy(p->md.acc);
	if (p->dev && p->dom)
		siommu_device_detach(p->dev);
	if (p->dom)
		ret |= siommu_ioas_domain_free(p->l, p->dom);
	if (p->ioas)
		ret |= siommu_ioas_destroy(p->ioas);
	ret |= siommu_ioas_layer_destroy(p->l);
	ret |= siommu_device_destroy(p->dev);
	ret |= siommu_iommu_destroy(p->iommu);
	if (p->ctx)
		ret |= siommu_ctx_destroy(p->ctx);
	pthread_mutex_destroy(&p->md.mu);
	pthread_mutex_destroy(&p->log_mu);
	free(p->pool);
	return ret;
}

/* The misbehaving access: pins, ignores its callback. */
static unsigned int stuck_calls;

static void stuck_cb(void *opaque, uint64_t iova, uint64_t length)
{
	(void)opaque;
	(void)iova;
	(void)length;
	stuck_calls++;		/* and keeps its pin */
}

static void stuck_part(struct part *p, struct demo_ioas_result *r)
{
	struct siommu_ioas_mem m = { .type = SIOMMU_IOAS_MEM_HOST };
	struct siommu_ioas_access *acc;
	struct siommu_ioas_access_info ai;
	struct siommu_ioas_area_info area;
	uint8_t *buf = aligned_alloc(PG, 2 * PG), b = 0;
	uint64_t iova = STUCK_IOVA, unmapped = 0;
	uint32_t id = 0;
	void *page;
	int ret;

	if (!buf) {
		note_err(p, -ENOMEM);
		return;
	}
	memset(buf, 0x42, 2 * PG);
	m.host = buf;
	ret = siommu_ioas_map(p->ioas, &m, 2 * PG, SIOMMU_IOAS_MAP_READ |
			      SIOMMU_IOAS_MAP_WRITE | SIOMMU_IOAS_MAP_FIXED_IOVA, &iova);
	if (!ret)
		ret = siommu_ioas_access_create(p->ioas, "stuck-mdev", stuck_cb, NULL, 0, &acc);
	if (ret) {
		note_err(p, ret);
		free(buf);
		return;
	}
	ret = siommu_ioas_access_pin(acc, STUCK_IOVA + PG, PG, 0, &page);
	if (!ret)
		ret = siommu_ioas_access_get_info(acc, &ai);
	note_err(p, ret);
	pthread_mutex_lock(&p->log_mu);
	p->warnings = 0;
	pthread_mutex_unlock(&p->log_mu);
	stuck_calls = 0;
	r->stuck_unmap_ret = siommu_ioas_unmap(p->ioas, STUCK_IOVA, 2 * PG, &unmapped);
	r->stuck_calls = stuck_calls;
	r->stuck_area_kept = !siommu_ioas_area_find(p->ioas, STUCK_IOVA, &area) &&
			     area.length == 2 * PG &&
			     !siommu_ioas_access_rw(acc, STUCK_IOVA + 5, &b, 1, 0) && b == 0x42;
	/* (the library logs with the IOAS's lock held: never call it holding log_mu) */
	r->stuck_named = siommu_ioas_pin_holders(p->ioas, STUCK_IOVA, 2 * PG, &id, 1) == 1 &&
			 id == ai.id;
	pthread_mutex_lock(&p->log_mu);
	r->stuck_named = r->stuck_named && p->warnings > 0 && strstr(p->log_line, "stuck-mdev");
	snprintf(r->stuck_log, sizeof(r->stuck_log), "%s", p->log_line);
	pthread_mutex_unlock(&p->log_mu);
	/* it lets go at last (its driver is reset): the same unmap goes through */
	note_err(p, siommu_ioas_access_unpin(acc, STUCK_IOVA + PG, PG));
	r->stuck_later_ret = siommu_ioas_unmap(p->ioas, STUCK_IOVA, 2 * PG, &unmapped);
	r->stuck_later_bytes = unmapped;
	note_err(p, siommu_ioas_access_destroy(acc));
	free(buf);
}

int demo_ioas_run(struct demo_ioas_result *r)
{
	static struct part part;
	struct part *p = &part;
	struct siommu_ioas_info info;
	pthread_t th;
	unsigned int seed = 11, i;
	uint8_t gen = 1;
	double end;
	int ret, tret;

	memset(p, 0, sizeof(*p));
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&p->md.mu, NULL);
	pthread_mutex_init(&p->log_mu, NULL);
	p->md.seed = 5;
	ret = setup(p);
	for (i = 0; !ret && i < SLOTS; i++)
		ret = map_slot(p, i, gen++);
	if (!ret)
		ret = siommu_ioas_access_create(p->ioas, "mdev0", mdev_unmap_cb, &p->md, 0,
						&p->md.acc);
	if (ret) {
		r->err = ret;
		teardown(p);
		return ret;
	}
	p->reuse_checks = 0;	/* the first maps found fresh poison: not a reuse */
	if (pthread_create(&th, NULL, mdev_main, p)) {
		r->err = -ENOMEM;
		teardown(p);
		return r->err;
	}
	end = now_s() + RUN_SECONDS;
	while (now_s() < end || p->unmaps < 20 || p->targeted < 5) {
		unsigned int s = (unsigned int)rand_r(&seed) % SLOTS;

		if (p->unmaps % 4 == 3) {
			/*
			 * Every fourth unmap takes the slot the device holds a pin
			 * in (it keeps it until asked), so that the notification
			 * is exercised however the threads are scheduled.
			 */
			uint64_t pinned = 0;
			double give_up = now_s() + 5;

			while (!pinned && now_s() < give_up) {
				pthread_mutex_lock(&p->md.mu);
				pinned = p->md.pinned;
				pthread_mutex_unlock(&p->md.mu);
				if (!pinned)
					sched_yield();
			}
			if (!pinned) {
				note_err(p, -ETIMEDOUT);
				break;
			}
			s = (unsigned int)((pinned - BASE_IOVA) / (SLOT_SIZE * 2));
			p->targeted++;
		}

		ret = siommu_ioas_unmap(p->ioas, slot_iova(s), SLOT_SIZE, NULL);
		if (ret == -EBUSY) {
			p->unmap_busy++;	/* a cooperative holder must never cause this */
			continue;
		}
		if (ret) {
			note_err(p, ret);
			break;
		}
		p->unmaps++;
		/* the unmap returned: nothing may touch the buffer any more */
		memset(buf_at(p, p->slot_buf[s]), POISON, SLOT_SIZE);
		p->buf_used[p->slot_buf[s]] = false;
		if (++gen == POISON || !gen)
			gen = 1;
		ret = map_slot(p, s, gen);
		if (ret) {
			note_err(p, ret);
			break;
		}
	}
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);

	stuck_part(p, r);
	ret = siommu_ioas_get_info(p->ioas, &info);
	note_err(p, ret);
	r->pinned_left = info.pinned_pages;
	r->unmaps = p->unmaps;
	r->unmap_busy = p->unmap_busy;
	r->late_writes = p->late_writes;
	r->reuse_checks = p->reuse_checks;
	r->asked = p->md.asked;
	r->unpinned_asked = p->md.unpinned_asked;
	r->pins = p->md.pins;
	r->pin_busy = p->md.pin_busy;
	r->reads = p->md.reads;
	r->writes = p->md.writes;
	r->bad = p->md.bad_pages + p->md.bad_reads;
	r->dma_ok = p->md.dma_ok;
	r->dma_bad = p->md.dma_bad;
	siommu_ioas_unmap_all(p->ioas, NULL);
	tret = teardown(p);
	r->err = p->err;
	r->teardown_ok = tret == 0;
	return 0;
}

unsigned int demo_ioas_checks(const struct demo_ioas_result *r, struct demo_ioas_check *out,
			      unsigned int max)
{
	unsigned int n = 0;

#define ICHECK(w, cond, ...) do {						\
		if (n < max) {							\
			out[n].what = (w);					\
			out[n].ok = (cond);					\
			snprintf(out[n].detail, sizeof(out[n].detail), __VA_ARGS__); \
			n++;							\
		}								\
	} while (0)

	ICHECK("ioas: the mediated device never saw memory of a buffer after its unmap returned",
	       r->err == 0 && r->bad == 0 && r->dma_bad == 0 && r->late_writes == 0 &&
	       r->reuse_checks > 0 && r->pins > 0 && r->reads > 0 && r->dma_ok > 0,
	       "%" PRIu64 " pins, %" PRIu64 " reads, %" PRIu64 " DMAs: %" PRIu64
	       " poisoned or torn; %" PRIu64 " of %" PRIu64 " reused buffers written late%s%s",
	       r->pins, r->reads, r->dma_ok, r->bad + r->dma_bad, r->late_writes,
	       r->reuse_checks, r->err ? "; error: " : "", r->err ? siommu_strerror(r->err) : "");
	ICHECK("ioas: every unmap asked the cooperative holder and went through (no EBUSY)",
	       r->unmaps > 0 && r->unmap_busy == 0 && r->asked > 0 &&
	       r->unpinned_asked > 0,
	       "%" PRIu64 " unmaps, %" PRIu64 " refused; %" PRIu64 " callbacks dropped %" PRIu64
	       " pins", r->unmaps, r->unmap_busy, r->asked, r->unpinned_asked);
	ICHECK("ioas: a misbehaving access's pin made the unmap fail EBUSY with nothing unmapped, "
	       "the holder named",
	       r->stuck_unmap_ret == -EBUSY && r->stuck_area_kept && r->stuck_named &&
	       r->stuck_calls > 0,
	       "%s after %u callbacks; area %s; holder %s",
	       r->stuck_unmap_ret ? siommu_errname(r->stuck_unmap_ret) : "success",
	       r->stuck_calls, r->stuck_area_kept ? "and its data intact" : "CHANGED",
	       r->stuck_named ? "named (pin holders, log)" : "NOT named");
	ICHECK("ioas: once it let go the same unmap succeeded, and no pin was left",
	       r->stuck_later_ret == 0 && r->stuck_later_bytes == 2 * PG && r->pinned_left == 0,
	       "unmap %s (%" PRIu64 " bytes); %" PRIu64 " pages left pinned",
	       r->stuck_later_ret ? siommu_errname(r->stuck_later_ret) : "ok",
	       r->stuck_later_bytes, r->pinned_left);
#undef ICHECK
	return n;
}
