/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the pgtable tests. */
#ifndef SOFTIOMMU_TEST_PT_H
#define SOFTIOMMU_TEST_PT_H

#include <errno.h>

#include <softiommu/softiommu.h>
#include <softiommu/pgtable.h>

#include "test_common.h"

#define PT_TEST_PHYS_BASE	0x10000000ull

struct pt_fixture {
	struct siommu_ctx *ctx;
	struct siommu_pt *pt;
};

static inline struct siommu_pt *pt_test_create(struct siommu_ctx *ctx,
					       enum siommu_pt_fmt fmt,
					       unsigned int levels,
					       unsigned int flags)
{
	struct siommu_pt_cfg cfg = {
		.fmt = fmt,
		.levels = levels,
		.flags = flags,
		.table_phys_base = PT_TEST_PHYS_BASE,
		.max_table_pages = 4096,
	};
	struct siommu_pt *pt = NULL;

	assert_int_equal(siommu_pt_create(ctx, &cfg, &pt), 0);
	return pt;
}

/* Records every invalidation callback. */
struct pt_inval_log {
	unsigned int calls;
	uint64_t iova, last;
	unsigned int flags;
};

static inline void pt_test_inval(void *opaque, uint64_t iova, uint64_t last,
				 unsigned int flags)
{
	struct pt_inval_log *log = opaque;

	log->calls++;
	log->iova = iova;
	log->last = last;
	log->flags = flags;
}

/* Unmap and sync at once (WAIT); returns the bytes unmapped. */
static inline int64_t pt_test_unmap(struct siommu_pt *pt, uint64_t iova, uint64_t size)
{
	struct siommu_pt_gather g;
	int64_t ret;

	siommu_pt_gather_init(&g);
	ret = siommu_pt_unmap(pt, iova, size, &g);
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, SIOMMU_PT_SYNC_WAIT), 0);
	return ret;
}

/* Collects dump lines into one string. */
struct pt_dump_buf {
	char text[65536];
	size_t len;
};

static inline int pt_test_dump_line(void *opaque, const char *line)
{
	struct pt_dump_buf *b = opaque;
	int n = snprintf(b->text + b->len, sizeof(b->text) - b->len, "%s\n", line);

	if (n < 0 || (size_t)n >= sizeof(b->text) - b->len)
		return -ENOSPC;
	b->len += (size_t)n;
	return 0;
}

#endif
