// SPDX-License-Identifier: LGPL-2.1-or-later
/* The baselines of bench group "hotpath"; see baseline.h. */
#include <stdlib.h>
#include <urcu/urcu-memb.h>

#include "baseline.h"

#define BL_NOINLINE __attribute__((noinline))

void baseline_rcu_sections(uint64_t n)
{
	uint64_t i;

	if (!URCU_TLS(urcu_memb_reader).registered)
		urcu_memb_register_thread();
	for (i = 0; i < n; i++) {
		urcu_memb_read_lock();
		urcu_memb_read_unlock();
	}
}

void baseline_rcu_done(void)
{
	if (URCU_TLS(urcu_memb_reader).registered)
		urcu_memb_unregister_thread();
}

static __thread const struct baseline_region *vfu_hint;

static inline int in_region(const struct baseline_region *r, uint64_t iova,
			    size_t len)
{
	return iova - r->iova < r->len && len <= r->len - (iova - r->iova);
}

BL_NOINLINE void *baseline_vfu_translate(const struct baseline_regions *m,
					 uint64_t iova, size_t len)
{
	const struct baseline_region *r = vfu_hint;
	unsigned int lo = 0, hi = m->nr;

	if (r && in_region(r, iova, len))
		return r->host + (iova - r->iova);
	while (lo < hi) {	/* the last region starting at or below iova */
		unsigned int mid = lo + (hi - lo) / 2;

		if (m->r[mid].iova <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || !in_region(&m->r[lo - 1], iova, len))
		return NULL;
	r = &m->r[lo - 1];
	vfu_hint = r;
	return r->host + (iova - r->iova);
}

void baseline_vfu_forget(void)
{
	vfu_hint = NULL;
}

#define BL_PRESENT	1ull

static uint64_t *bl_level(uint64_t *slot)
{
	if (!*slot) {
		uint64_t *t = calloc(512, sizeof(*t));

		if (!t)
			return NULL;
		*slot = (uintptr_t)t | BL_PRESENT;
	}
	return (uint64_t *)(uintptr_t)(*slot & ~BL_PRESENT);
}

int baseline_walk_map(struct baseline_walk *w, uint64_t iova, uint64_t pa,
		      uint64_t npages)
{
	uint64_t i, *t;
	int l;

	if (!w->root && !(w->root = calloc(512, sizeof(*w->root))))
		return -1;
	for (i = 0; i < npages; i++, iova += 4096, pa += 4096) {
		t = w->root;
		for (l = 3; l > 0; l--) {
			t = bl_level(&t[(iova >> (12 + 9 * l)) & 511]);
			if (!t)
				return -1;
		}
		t[(iova >> 12) & 511] = pa | BL_PRESENT;
	}
	return 0;
}

BL_NOINLINE uint64_t baseline_walk(const struct baseline_walk *w, uint64_t iova)
{
	const uint64_t *t = w->root;
	uint64_t e;
	int l;

	for (l = 3; l >= 0; l--) {
		e = t[(iova >> (12 + 9 * l)) & 511];
		if (!(e & BL_PRESENT))
			return UINT64_MAX;
		if (!l)
			break;
		t = (const uint64_t *)(uintptr_t)(e & ~BL_PRESENT);
	}
	return (e & ~0xfffull) | (iova & 0xfff);
}

static void bl_free(uint64_t *t, int l)
{
	unsigned int i;

	if (l > 0)
		for (i = 0; i < 512; i++)
			if (t[i])
				bl_free((uint64_t *)(uintptr_t)(t[i] & ~BL_PRESENT), l - 1);
	free(t);
}

void baseline_walk_free(struct baseline_walk *w)
{
	if (w->root)
		bl_free(w->root, 3);
	w->root = NULL;
}
