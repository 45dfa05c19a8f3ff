// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Randomized map/unmap/iova_to_phys/lookup_level sequences, on every format
 * and depth, checked against a simple reference model: a list of leaves
 * (iova, page size, pa) and a list of the table pages that exist.  The model
 * states the rules independently of the walker code:
 *  - map: -EEXIST if any leaf overlaps (nothing changes); otherwise, chunk
 *    by chunk, the largest page alignment/size/page sizes allow, one size
 *    smaller while a table page occupies that slot; tables are created on
 *    the way down;
 *  - unmap: -EINVAL if a leaf straddles either end; otherwise every leaf in
 *    the range goes (their bytes are returned) and every table page whose
 *    span lies in the range is freed;
 *  - the table page count is 1 + the model's tables.
 * The seed is printed; SIOMMU_PT_SEED=N replays one.
 */
#include "pt_test.h"

/* ThreadSanitizer slows this single-threaded test tenfold: fewer ops there. */
#if defined(__SANITIZE_THREAD__)
#define PT_RANDOM_OPS	500
#else
#define PT_RANDOM_OPS	1500
#endif

#define MAX_LEAVES	16384
#define MAX_TABLES	4096
#define SZ_4K		0x1000ull
#define SZ_2M		0x200000ull
#define SZ_1G		0x40000000ull

struct leaf {
	uint64_t iova;
	unsigned int level;
	uint64_t pa;
};

struct table {
	unsigned int level;	/* level of its entries */
	uint64_t base;		/* aligned to its span, level_size(level + 1) */
};

struct model {
	unsigned int top;
	uint64_t pgsizes;
	struct leaf leaves[MAX_LEAVES];
	unsigned int nr_leaves;
	struct table tables[MAX_TABLES];
	unsigned int nr_tables;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static uint64_t lsize(unsigned int level)
{
	return 1ull << (12 + 9 * level);
}

static bool model_has_table(struct model *m, unsigned int level, uint64_t base)
{
	unsigned int i;

	if (level == m->top)
		return true;	/* the root */
	for (i = 0; i < m->nr_tables; i++)
		if (m->tables[i].level == level && m->tables[i].base == base)
			return true;
	return false;
}

static void model_add_table(struct model *m, unsigned int level, uint64_t base)
{
	if (model_has_table(m, level, base))
		return;
	assert_true(m->nr_tables < MAX_TABLES);
	m->tables[m->nr_tables++] = (struct table){ level, base };
}

static struct leaf *model_leaf_at(struct model *m, uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < m->nr_leaves; i++) {
		struct leaf *l = &m->leaves[i];

		if (addr >= l->iova && addr - l->iova < lsize(l->level))
			return l;
	}
	return NULL;
}

static bool model_overlaps(struct model *m, uint64_t iova, uint64_t last)
{
	unsigned int i;

	for (i = 0; i < m->nr_leaves; i++) {
		struct leaf *l = &m->leaves[i];

		if (l->iova <= last && l->iova + lsize(l->level) - 1 >= iova)
			return true;
	}
	return false;
}

static unsigned int model_best(struct model *m, uint64_t iova, uint64_t pa, uint64_t size)
{
	unsigned int level;

	for (level = 2; level > 0; level--) {
		if (level > m->top || !(m->pgsizes & lsize(level)))
			continue;
		if (!((iova | pa) & (lsize(level) - 1)) && size >= lsize(level))
			return level;
	}
	return 0;
}

static int model_map(struct model *m, uint64_t iova, uint64_t pa, uint64_t size)
{
	if (model_overlaps(m, iova, iova + size - 1))
		return -EEXIST;
	while (size) {
		unsigned int want = model_best(m, iova, pa, size), level;

		for (level = m->top;; level--) {
			if (level == want) {
				/* Is there a table page in this slot? */
				if (level > 0 && model_has_table(m, level - 1,
								 iova & ~(lsize(level) - 1))) {
					want--;
					continue;
				}
				break;
			}
			model_add_table(m, level - 1, iova & ~(lsize(level) - 1));
		}
		assert_true(m->nr_leaves < MAX_LEAVES);
		m->leaves[m->nr_leaves++] = (struct leaf){ iova, level, pa };
		iova += lsize(level);
		pa += lsize(level);
		size -= lsize(level);
	}
	return 0;
}

static int64_t model_unmap(struct model *m, uint64_t iova, uint64_t last)
{
	struct leaf *l;
	uint64_t bytes = 0;
	unsigned int i;

	l = model_leaf_at(m, iova);
	if (l && l->iova < iova)
		return -EINVAL;
	l = model_leaf_at(m, last);
	if (l && l->iova + lsize(l->level) - 1 > last)
		return -EINVAL;
	for (i = 0; i < m->nr_leaves;) {
		l = &m->leaves[i];
		if (l->iova >= iova && l->iova <= last) {
			bytes += lsize(l->level);
			*l = m->leaves[--m->nr_leaves];
		} else {
			i++;
		}
	}
	for (i = 0; i < m->nr_tables;) {
		struct table *t = &m->tables[i];

		if (t->base >= iova && t->base + lsize(t->level + 1) - 1 <= last)
			*t = m->tables[--m->nr_tables];
		else
			i++;
	}
	return (int64_t)bytes;
}

struct config {
	enum siommu_pt_fmt fmt;
	unsigned int levels;
	uint64_t pgsizes;
};

/* Where operations land: small windows at the bottom, around 1 GiB, at the top. */
static uint64_t pick_iova(unsigned int ias, uint64_t align)
{
	uint64_t base, span;

	switch (rnd_below(4)) {
	case 0:
		base = 0;
		span = 16 * SZ_2M;
		break;
	case 1:
		base = SZ_1G - 4 * SZ_2M;
		span = 8 * SZ_2M;
		break;
	case 2:
		base = (1ull << ias) - 16 * SZ_2M;
		span = 16 * SZ_2M;
		break;
	default:
		base = 4 * SZ_1G;	/* room for 1 GiB pages */
		span = 4 * SZ_1G;
		break;
	}
	return (base + rnd_below(span)) & ~(align - 1);
}

static void check_translations(struct siommu_pt *pt, struct model *m, unsigned int ias)
{
	unsigned int i;

	for (i = 0; i < 24; i++) {
		uint64_t addr = pick_iova(ias, 8), pa = 0;
		struct leaf *l;
		int ret, lvl;

		/* Half the probes inside known leaves. */
		if ((i & 1) && m->nr_leaves) {
			l = &m->leaves[rnd_below(m->nr_leaves)];
			addr = l->iova + rnd_below(lsize(l->level));
		}
		l = model_leaf_at(m, addr);
		ret = siommu_pt_iova_to_phys(pt, addr, &pa);
		lvl = siommu_pt_lookup_level(pt, addr);
		if (l) {
			assert_int_equal(ret, 0);
			assert_int_equal(pa, l->pa + (addr - l->iova));
			assert_int_equal(lvl, 12 + 9 * l->level);
		} else {
			assert_int_equal(ret, -ENOENT);
			assert_int_equal(lvl, 0);
		}
	}
}

static void check_tables(struct siommu_pt *pt, struct model *m)
{
	struct siommu_pt_info info;

	assert_int_equal(siommu_pt_get_info(pt, &info), 0);
	assert_int_equal(info.table_pages, 1 + m->nr_tables);
}

static int leaf_cmp(const void *a, const void *b)
{
	const struct leaf *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/* The dump has one row per leaf, in IOVA order. */
static void check_dump(struct siommu_pt *pt, struct model *m)
{
	static struct pt_dump_buf b;
	unsigned int i, rows = 0;
	char *line;

	b.len = 0;
	b.text[0] = 0;
	if (m->nr_leaves > 400)	/* the buffer holds about 500 rows */
		return;
	assert_int_equal(siommu_pt_dump(pt, NULL, pt_test_dump_line, &b), 0);
	qsort(m->leaves, m->nr_leaves, sizeof(m->leaves[0]), leaf_cmp);
	line = strchr(strchr(b.text, '\n') + 1, '\n') + 1;	/* skip two header lines */
	for (i = 0; *line; i++) {
		unsigned long long pfn = strtoull(line, NULL, 16);

		assert_true(i < m->nr_leaves);
		assert_int_equal(pfn, m->leaves[i].iova >> 12);
		line = strchr(line, '\n') + 1;
		rows++;
	}
	assert_int_equal(rows, m->nr_leaves);
}

static void run_config(struct siommu_ctx *ctx, const struct config *c, unsigned int ops)
{
	static struct model m;
	struct siommu_pt_cfg cfg = {
		.fmt = c->fmt, .levels = c->levels, .pgsize_bitmap = c->pgsizes,
		.max_table_pages = 8192,
	};
	struct siommu_pt_info info;
	struct siommu_pt *pt;
	unsigned int i, ias;

	memset(&m, 0, sizeof(m));
	assert_int_equal(siommu_pt_create(ctx, &cfg, &pt), 0);
	assert_int_equal(siommu_pt_get_info(pt, &info), 0);
	m.top = info.levels - 1;
	m.pgsizes = info.pgsize_bitmap;
	ias = info.ias_lg2;

	for (i = 0; i < ops; i++) {
		uint64_t r = rnd_below(100), iova, pa, size;

		if (r < 55) {
			/* map: 4 KiB runs, 2 MiB-aligned runs, or a 1 GiB page */
			uint64_t kind = rnd_below(10), align;

			/* Keep the leaf count of the model small. */
			if (!(m.pgsizes & SIOMMU_PT_SZ_2M))
				kind = rnd_below(6);
			else if (!(m.pgsizes & SIOMMU_PT_SZ_1G))
				kind = rnd_below(9);
			align = kind < 6 ? SZ_4K : kind < 9 ? SZ_2M : SZ_1G;
			size = kind < 6 ? (1 + rnd_below(48)) * SZ_4K :
			       kind < 9 ? (1 + rnd_below(3)) * SZ_2M + rnd_below(2) * SZ_4K :
			       SZ_1G;
			iova = pick_iova(ias, align);
			pa = ((rnd_below(64) << 30) | (iova & (SZ_1G - 1)));
			if (kind < 9 && rnd_below(8) == 0)
				pa ^= SZ_4K;	/* misaligned: small pages only */
			if (iova + size - 1 >= (1ull << ias))
				continue;
			assert_int_equal(siommu_pt_map(pt, iova, pa, size,
						       SIOMMU_PT_READ | SIOMMU_PT_WRITE),
					 model_map(&m, iova, pa, size));
		} else {
			/* unmap: random ranges, sometimes whole windows */
			iova = pick_iova(ias, SZ_4K);
			size = rnd_below(4) ? (1 + rnd_below(1024)) * SZ_4K :
			       (1 + rnd_below(8)) * SZ_2M;
			if (rnd_below(6) == 0) {
				iova &= ~(SZ_1G - 1);
				size = SZ_1G;
			}
			if (iova + size - 1 >= (1ull << ias))
				continue;
			assert_int_equal(pt_test_unmap(pt, iova, size),
					 model_unmap(&m, iova, iova + size - 1));
		}
		check_translations(pt, &m, ias);
		if (i % 16 == 0)
			check_tables(pt, &m);
	}
	check_tables(pt, &m);
	check_dump(pt, &m);
	assert_int_equal(siommu_pt_destroy(pt), 0);
}

static void test_pgtable_random_vs_model(void **state)
{
	static const struct config configs[] = {
		{ SIOMMU_PT_FMT_VTD_SS, 3, 0 },
		{ SIOMMU_PT_FMT_VTD_SS, 4, 0 },
		{ SIOMMU_PT_FMT_VTD_SS, 5, SIOMMU_PT_SZ_4K | SIOMMU_PT_SZ_2M },
		{ SIOMMU_PT_FMT_X86_64, 4, 0 },
		{ SIOMMU_PT_FMT_X86_64, 5, 0 },
		{ SIOMMU_PT_FMT_ARM_LPAE_S1, 4, 0 },
		{ SIOMMU_PT_FMT_ARM_LPAE_S1, 4, SIOMMU_PT_SZ_4K },
	};
	struct siommu_ctx *ctx;
	const char *env = getenv("SIOMMU_PT_SEED");
	unsigned int i;
	uint64_t seed;

	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	printf("# seed %llu (SIOMMU_PT_SEED to replay)\n", (unsigned long long)seed);
	assert_int_equal(siommu_ctx_create(&ctx), 0);
	for (i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		rng_state = seed * 2654435761u + i + 1;
		run_config(ctx, &configs[i], PT_RANDOM_OPS);
	}
	assert_int_equal(siommu_ctx_destroy(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pgtable_random_vs_model),
	};

	return cmocka_run_group_tests_name("pgtable_random", tests, NULL, NULL);
}
