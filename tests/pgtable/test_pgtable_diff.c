// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One operation stream, every format, one oracle: differential testing of
 * the page tables.
 *
 * A generator draws random sequences of page-table operations (map with
 * mixed page sizes, unmap of ranges with holes and straddled large pages,
 * gather sync with and without waiting, translate with every access type,
 * iova_to_phys, level lookup, walk, dirty read-and-clear into a pre-filled
 * bitmap, dump, and after every operation the table-memory accounting).
 * The same sequence runs on every format and level count (the configs
 * below, VT-d's with and without SIOMMU_PT_F_LINUX, whose two rules the
 * model states too: a superpage map over an emptied table detaches it onto
 * the caller's gather, and an unmap ending inside a large leaf that begins
 * in the range takes the whole leaf) and, op by op, on a reference model
 * that states the contracts of
 * include/softiommu/pgtable.h independently of the walker code: a list of
 * leaves (iova, level, pa, prot, dirty) and a list of the table pages
 * that exist, plus the gather's range hull and detached pages.  Every
 * result is compared: return values and errors, translations, page sizes,
 * permissions (per format, from docs/modules/pgtable.md's table), walk
 * levels, dirty counts and bitmaps, dump rows and their columns, the
 * invalidation callback's range and flags, the invalidation sequence, and
 * table_pages / detached / reclaim / peak.
 *
 * A difference is reported as the shortest sequence that shows it: the
 * failing sequence is cut after the diverging operation, then shrunk by
 * delta debugging (remove chunks of halving size while the shortened
 * sequence still diverges), then replayed to confirm.  It is printed as a
 * `softiommu run` script that reproduces it.
 *
 * Runs:
 *   test_pgtable_diff                 cmocka: the bounded slice of make check
 *                                     (fixed seed, SIOMMU_PT_SEED=N for another),
 *                                     the shrinker's self-test, regressions
 *   test_pgtable_diff --seconds S [--seed N]   the long run (make diff)
 *   test_pgtable_diff --broken-model=dirty|split|tables|superpage|unmap-more
 *                                     (or SIOMMU_STRESS_BREAK=1:
 *                                     dirty) a mutated model: the run must
 *                                     find and shrink the difference
 *   test_pgtable_diff --broken-lib    (testing builds) the library's map
 *                                     made to fail its commit (test hook)
 */
#include <inttypes.h>
#include <limits.h>

#include "siommu_config.h"
#include "base/rcu.h"
#include "pgtable/pt_internal.h"
#include "pt_test.h"
#include "pt_perm_model.h"
#include "shrink.h"

#define SZ_4K		0x1000ull
#define SZ_2M		0x200000ull
#define SZ_1G		0x40000000ull
#define MAX_LEAVES	12000
#define MAX_TABLES	2048
#define MAX_OPS		4096
#define DIRTY_WORDS	4096		/* bitmap: up to 2^18 bits */
#define LEAF_SOFT_LIMIT	3000		/* the generator prefers unmaps above it */

/* ------------------------------------------------------------------ configs */

struct config {
	enum siommu_pt_fmt fmt;
	unsigned int levels;
	unsigned int flags;
	uint64_t pgsizes;		/* 0: all */
	unsigned int oas;		/* 0: the format's maximum */
	bool host_phys;			/* table entries hold host addresses */
	unsigned int max_pages;
};

/* Every format and level count; dirty/exec flags; page-size subsets; a tiny pool. */
static const struct config configs[] = {
	{ SIOMMU_PT_FMT_X86_64, 4, 0, 0, 0, false, 8192 },
	{ SIOMMU_PT_FMT_X86_64, 5, 0, 0, 0, true, 8192 },
	{ SIOMMU_PT_FMT_X86_64, 4, 0, SIOMMU_PT_SZ_4K | SIOMMU_PT_SZ_2M, 40, false, 8192 },
	{ SIOMMU_PT_FMT_VTD_SS, 3, 0, 0, 0, false, 8192 },
	{ SIOMMU_PT_FMT_VTD_SS, 4, SIOMMU_PT_F_DIRTY, 0, 0, false, 8192 },
	{ SIOMMU_PT_FMT_VTD_SS, 5, SIOMMU_PT_F_DIRTY | SIOMMU_PT_F_EXEC,
	  SIOMMU_PT_SZ_4K | SIOMMU_PT_SZ_2M, 0, true, 8192 },
	{ SIOMMU_PT_FMT_VTD_SS, 3, SIOMMU_PT_F_EXEC, 0, 0, false, 8192 },
	{ SIOMMU_PT_FMT_VTD_SS, 4, SIOMMU_PT_F_DIRTY, 0, 0, false, 12 },	/* -ENOMEM */
	{ SIOMMU_PT_FMT_ARM_LPAE_S1, 4, 0, 0, 0, false, 8192 },
	{ SIOMMU_PT_FMT_ARM_LPAE_S1, 4, SIOMMU_PT_F_DIRTY, 0, 0, true, 8192 },
	{ SIOMMU_PT_FMT_ARM_LPAE_S1, 4, SIOMMU_PT_F_DIRTY, SIOMMU_PT_SZ_4K, 44, false, 8192 },
	/* VT-d tables as Linux manages them (the other formats refuse the flag) */
	{ SIOMMU_PT_FMT_VTD_SS, 3, SIOMMU_PT_F_LINUX, 0, 0, false, 8192 },
	{ SIOMMU_PT_FMT_VTD_SS, 4, SIOMMU_PT_F_LINUX | SIOMMU_PT_F_DIRTY, 0, 0, false, 8192 },
	{ SIOMMU_PT_FMT_VTD_SS, 5, SIOMMU_PT_F_LINUX | SIOMMU_PT_F_EXEC,
	  SIOMMU_PT_SZ_4K | SIOMMU_PT_SZ_2M, 0, true, 8192 },
	{ SIOMMU_PT_FMT_VTD_SS, 3, SIOMMU_PT_F_LINUX | SIOMMU_PT_F_DIRTY, 0, 0, false, 12 },
};
#define NR_CONFIGS	(sizeof(configs) / sizeof(configs[0]))

/* ------------------------------------------------------------------ operations */

enum op_kind {
	OP_MAP, OP_UNMAP, OP_SYNC, OP_TRANSLATE, OP_PHYS, OP_LEVEL, OP_WALK,
	OP_DIRTY, OP_DUMP,
};

struct op {
	uint8_t kind;
	uint8_t wait;			/* OP_SYNC: SIOMMU_PT_SYNC_WAIT */
	uint8_t pgshift;		/* OP_DIRTY */
	uint8_t no_clear;		/* OP_DIRTY */
	unsigned int bits;		/* OP_MAP prot, OP_TRANSLATE access */
	uint64_t iova, pa, size;
};

/* Mutations of the model, to prove the harness sees and shrinks a difference. */
enum mutation {
	MUT_NONE,
	MUT_DIRTY,	/* read-and-clear forgets to clear 2 MiB and 1 GiB leaves */
	MUT_SPLIT,	/* unmap splits a straddled large leaf instead of -EINVAL */
	MUT_TABLES,	/* an unmap covering a whole 2 MiB table keeps it counted */
	MUT_SUPERPAGE,	/* F_LINUX: smaller pages under an emptied table (the default rule) */
	MUT_UNMAP_MORE,	/* F_LINUX: an unmap ending inside a large leaf refused (the default) */
	MUT_LIB,	/* the model is right; the library's map is broken (test hook) */
};

static const char *const mutation_names[] = {
	"none", "dirty", "split", "tables", "superpage", "unmap-more", "lib",
};

/* How often the F_LINUX rules applied in the model (the slice requires both). */
static unsigned long linux_superpages, linux_unmaps_extended;

/* ------------------------------------------------------------------ the model */

struct mleaf {
	uint64_t iova, pa;
	uint8_t level;
	uint8_t dirty;
	unsigned int prot;
};

struct mtable {
	uint8_t level;			/* level of its entries */
	uint64_t base;			/* aligned to its span, lsize(level + 1) */
};

struct model {
	const struct config *cfg;
	enum mutation mut;
	unsigned int top, ias, oas;
	uint64_t pgsizes;
	bool has_dirty;
	bool f_linux;			/* SIOMMU_PT_F_LINUX: Linux's superpage and unmap rules */
	/* The gather. */
	uint64_t g_start, g_last;	/* start > last: no range */
	uint64_t detached;		/* pages of detached tables, unsynced */
	uint64_t max_pages, peak;
	unsigned int nr_leaves;
	unsigned int nr_tables;
	struct mleaf leaves[MAX_LEAVES];	/* (the arrays last: model_init clears the rest) */
	struct mtable tables[MAX_TABLES];
};

static uint64_t lsize(unsigned int level)
{
	return 1ull << (12 + 9 * level);
}

static uint64_t model_in_use(const struct model *m)
{
	return 1 + m->nr_tables + m->detached;
}

static void model_init(struct model *m, const struct config *c, const struct siommu_pt_info *info,
		       enum mutation mut)
{
	memset(m, 0, offsetof(struct model, leaves));
	m->cfg = c;
	m->mut = mut;
	m->top = info->levels - 1;
	m->ias = info->ias_lg2;
	m->oas = info->oas_lg2;
	m->pgsizes = info->pgsize_bitmap;
	m->has_dirty = c->fmt == SIOMMU_PT_FMT_X86_64 || (c->flags & SIOMMU_PT_F_DIRTY);
	m->f_linux = c->flags & SIOMMU_PT_F_LINUX;
	m->g_start = 1;
	m->g_last = 0;
	m->max_pages = c->max_pages;
	m->peak = 1;
}

static int model_table_at(const struct model *m, unsigned int level, uint64_t base)
{
	unsigned int i;

	for (i = 0; i < m->nr_tables; i++)
		if (m->tables[i].level == level && m->tables[i].base == base)
			return (int)i;
	return -1;
}

static bool model_has_table(const struct model *m, unsigned int level, uint64_t base)
{
	return level == m->top || model_table_at(m, level, base) >= 0;
}

static struct mleaf *model_leaf_at(struct model *m, uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < m->nr_leaves; i++) {
		struct mleaf *l = &m->leaves[i];

		if (addr >= l->iova && addr - l->iova < lsize(l->level))
			return l;
	}
	return NULL;
}

static void model_gather(struct model *m, uint64_t start, uint64_t last)
{
	if (m->g_start > m->g_last) {
		m->g_start = start;
		m->g_last = last;
		return;
	}
	if (start < m->g_start)
		m->g_start = start;
	if (last > m->g_last)
		m->g_last = last;
}

/* The range checks every ranged call makes (pt_check_range's contract). */
static int model_range(const struct model *m, uint64_t iova, uint64_t size, uint64_t *last)
{
	if (!size || ((iova | size) & (SZ_4K - 1)))
		return -EINVAL;
	if (__builtin_add_overflow(iova, size - 1, last) || (*last >> m->ias))
		return -ERANGE;
	return 0;
}

static unsigned int model_best(const struct model *m, uint64_t iova, uint64_t pa, uint64_t size)
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

/*
 * F_LINUX: the superpage of the slot [slot, slot + lsize(level) - 1] goes
 * where a table page is (switch_to_super_page()): that table and every
 * table below it are detached onto the gather with the slot's range.  They
 * hold no leaf (the map's -EEXIST check saw to it).
 */
static void model_detach_slot(struct model *m, unsigned int level, uint64_t slot)
{
	uint64_t last = slot + lsize(level) - 1;
	unsigned int i;

	for (i = 0; i < m->nr_tables;) {
		struct mtable *t = &m->tables[i];

		if (t->level < level && t->base >= slot && t->base <= last) {
			m->detached++;
			*t = m->tables[--m->nr_tables];
		} else {
			i++;
		}
	}
	model_gather(m, slot, last);
}

/*
 * Where the leaf of the chunk at @iova goes: the largest size alignment
 * allows, one smaller while a table page occupies that slot (F_LINUX: the
 * table is detached and the large leaf goes there, in the prepare pass).
 * With @alloc, creates the table pages on the way down (-ENOMEM when the
 * pool is full).
 */
static int model_place(struct model *m, uint64_t iova, uint64_t pa, uint64_t size,
		       bool alloc, unsigned int *out)
{
	unsigned int want = model_best(m, iova, pa, size), level;

	for (level = m->top;; level--) {
		uint64_t slot = iova & ~(lsize(level) - 1);

		if (level == want) {
			if (level > 0 && model_has_table(m, level - 1, slot)) {
				if (m->f_linux && alloc && m->mut != MUT_SUPERPAGE) {
					model_detach_slot(m, level, slot);
					linux_superpages++;
					break;
				}
				want--;
				continue;
			}
			break;
		}
		if (!model_has_table(m, level - 1, slot)) {
			if (!alloc)
				return -EEXIST;	/* cannot happen after the prepare pass */
			if (model_in_use(m) >= m->max_pages)
				return -ENOMEM;
			assert_true(m->nr_tables < MAX_TABLES);
			m->tables[m->nr_tables++] = (struct mtable){ (uint8_t)(level - 1), slot };
			if (model_in_use(m) > m->peak)
				m->peak = model_in_use(m);
		}
	}
	*out = level;
	return 0;
}

static int model_map(struct model *m, const struct op *o)
{
	uint64_t last, pa_last, iova, pa, size;
	unsigned int i, level;
	int ret;

	ret = model_range(m, o->iova, o->size, &last);
	if (ret)
		return ret;
	if (o->pa & (SZ_4K - 1))
		return -EINVAL;
	if ((o->bits & ~SIOMMU_PT_PROT_MASK) || !(o->bits & (SIOMMU_PT_READ | SIOMMU_PT_WRITE)))
		return -EINVAL;
	if (__builtin_add_overflow(o->pa, o->size - 1, &pa_last) || (pa_last >> m->oas))
		return -ERANGE;
	for (i = 0; i < m->nr_leaves; i++) {
		struct mleaf *l = &m->leaves[i];

		if (l->iova <= last && l->iova + lsize(l->level) - 1 >= o->iova)
			return -EEXIST;
	}
	/* Prepare: every table page the leaves need (what -ENOMEM leaves behind stays). */
	for (iova = o->iova, pa = o->pa, size = o->size; size;) {
		ret = model_place(m, iova, pa, size, true, &level);
		if (ret)
			return ret;
		iova += lsize(level);
		pa += lsize(level);
		size -= lsize(level);
	}
	/* Commit: the leaves. */
	for (iova = o->iova, pa = o->pa, size = o->size; size;) {
		assert_int_equal(model_place(m, iova, pa, size, false, &level), 0);
		assert_true(m->nr_leaves < MAX_LEAVES);
		m->leaves[m->nr_leaves++] = (struct mleaf){
			.iova = iova, .pa = pa, .level = (uint8_t)level, .prot = o->bits,
		};
		iova += lsize(level);
		pa += lsize(level);
		size -= lsize(level);
	}
	return 0;
}

static int64_t model_unmap(struct model *m, const struct op *o)
{
	uint64_t last, bytes = 0;
	struct mleaf *l;
	unsigned int i;
	int ret;

	ret = model_range(m, o->iova, o->size, &last);
	if (ret)
		return ret;
	l = model_leaf_at(m, o->iova);
	if (l && l->iova < o->iova && m->mut != MUT_SPLIT)
		return -EINVAL;
	l = model_leaf_at(m, last);
	if (l && l->iova + lsize(l->level) - 1 > last && m->f_linux && l->iova >= o->iova &&
	    m->mut != MUT_UNMAP_MORE) {
		last = l->iova + lsize(l->level) - 1;	/* F_LINUX: the whole large leaf */
		linux_unmaps_extended++;
	} else if (l && l->iova + lsize(l->level) - 1 > last && m->mut != MUT_SPLIT)
		return -EINVAL;
	for (i = 0; i < m->nr_leaves;) {
		uint64_t s, e;

		l = &m->leaves[i];
		s = l->iova;
		e = l->iova + lsize(l->level) - 1;
		if (s <= last && e >= o->iova) {
			/* (MUT_SPLIT: only the part inside the range counts) */
			s = s < o->iova ? o->iova : s;
			e = e > last ? last : e;
			bytes += e - s + 1;
			model_gather(m, l->iova, l->iova + lsize(l->level) - 1);
			*l = m->leaves[--m->nr_leaves];
		} else {
			i++;
		}
	}
	for (i = 0; i < m->nr_tables;) {
		struct mtable *t = &m->tables[i];
		uint64_t span = lsize(t->level + 1);

		if (t->base >= o->iova && t->base + span - 1 <= last &&
		    !(m->mut == MUT_TABLES && t->level == 0 && span == SZ_2M &&
		      o->iova == t->base && last == t->base + span - 1)) {
			model_gather(m, t->base, t->base + span - 1);
			m->detached++;
			*t = m->tables[--m->nr_tables];
		} else {
			i++;
		}
	}
	return (int64_t)bytes;
}

/* The permissions a leaf reports and its permission check, per format. */
static unsigned int model_prot(const struct model *m, unsigned int prot)
{
	return pt_model_prot(m->cfg->fmt, m->cfg->flags, prot);
}

static bool model_allows(const struct model *m, unsigned int prot, unsigned int acc)
{
	return pt_model_allows(m->cfg->fmt, m->cfg->flags, prot, acc);
}

static int model_translate(struct model *m, const struct op *o, struct siommu_pt_xlate *x)
{
	struct mleaf *l;

	if (o->bits & ~0xfu)
		return -EINVAL;
	if (o->iova >> m->ias)
		return -ERANGE;
	l = model_leaf_at(m, o->iova);
	if (!l)
		return -ENOENT;
	if (!model_allows(m, l->prot, o->bits))
		return -EACCES;
	if ((o->bits & SIOMMU_PT_ACC_WRITE) && m->has_dirty)
		l->dirty = 1;
	x->pa = l->pa + (o->iova - l->iova);
	x->pgsize_lg2 = 12 + 9 * l->level;
	x->prot = model_prot(m, l->prot);
	return 0;
}

static int64_t model_dirty(struct model *m, const struct op *o, uint64_t *bitmap)
{
	uint64_t last, nbits, b;
	unsigned int i;
	int64_t count = 0;
	int ret;

	if (o->pgshift < 12 || o->pgshift > 30)
		return -EINVAL;
	ret = model_range(m, o->iova, o->size, &last);
	if (ret)
		return ret;
	if ((o->iova | o->size) & ((1ull << o->pgshift) - 1))
		return -EINVAL;
	if (!m->has_dirty)
		return -EOPNOTSUPP;
	nbits = o->size >> o->pgshift;
	for (i = 0; i < m->nr_leaves; i++) {
		struct mleaf *l = &m->leaves[i];
		uint64_t e = l->iova + lsize(l->level) - 1;

		if (!l->dirty || l->iova > last || e < o->iova)
			continue;
		count++;
		/* Every bit whose span the leaf touches, within the range. */
		for (b = ((l->iova > o->iova ? l->iova : o->iova) - o->iova) >> o->pgshift;
		     b < nbits && o->iova + (b << o->pgshift) <= e; b++)
			bitmap[b >> 6] |= 1ull << (b & 63);
		if (!o->no_clear && !(m->mut == MUT_DIRTY && l->level > 0)) {
			l->dirty = 0;
			model_gather(m, l->iova, e);
		}
	}
	return count;
}

/* ------------------------------------------------------------------ running a sequence */

struct diff {
	int at;				/* diverging op; -1: none; NR: at teardown */
	char msg[512];
};

struct inval_rec {
	unsigned int calls;
	uint64_t iova, last;
	unsigned int flags;
};

static void inval_cb(void *opaque, uint64_t iova, uint64_t last, unsigned int flags)
{
	struct inval_rec *r = opaque;

	r->calls++;
	r->iova = iova;
	r->last = last;
	r->flags = flags;
}

struct dump_check {
	struct model *m;
	unsigned int row, ncols;
	uint64_t prev;
	char err[256];
};

static int leaf_cmp(const void *a, const void *b)
{
	const struct mleaf *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/* Each row: the leaf's page number, then entries top column first, down to its level. */
static int dump_line_check(void *opaque, const char *line)
{
	struct dump_check *d = opaque;
	struct mleaf *l;
	unsigned int fields = 0, want, c;
	const char *p;

	if (d->row++ < 2)
		return 0;	/* the Device line and the header */
	if (d->row - 3 >= d->m->nr_leaves) {
		snprintf(d->err, sizeof(d->err), "dump row %u: the model has %u leaves",
			 d->row - 2, d->m->nr_leaves);
		return -EIO;
	}
	l = &d->m->leaves[d->row - 3];
	if (strtoull(line, NULL, 16) != l->iova >> 12) {
		snprintf(d->err, sizeof(d->err), "dump row %u: pfn %s, model 0x%" PRIx64,
			 d->row - 2, line, l->iova >> 12);
		return -EIO;
	}
	want = d->ncols - 2 + (l->level <= 1) + (l->level == 0);
	p = strchr(line, '|');
	for (c = 0; p && (p = strchr(p, '\t')); c++) {
		uint64_t e = strtoull(p + 1, NULL, 16);
		unsigned int level = d->ncols - 1 - c;

		p++;
		fields++;
		if ((level > d->m->top) != (e == 0)) {
			snprintf(d->err, sizeof(d->err),
				 "dump row %u column %u (level %u): entry 0x%" PRIx64
				 " in a table of %u levels", d->row - 2, c, level, e,
				 d->m->top + 1);
			return -EIO;
		}
	}
	if (fields != want) {
		snprintf(d->err, sizeof(d->err),
			 "dump row %u: %u entries, model %u (leaf level %u)",
			 d->row - 2, fields, want, l->level);
		return -EIO;
	}
	return 0;
}

static const char *en(int64_t r)
{
	static char buf[4][32];
	static unsigned int k;

	k = (k + 1) & 3;
	if (r >= 0)
		snprintf(buf[k], sizeof(buf[k]), "%" PRId64, r);
	else
		snprintf(buf[k], sizeof(buf[k]), "%s", siommu_errname((int)r));
	return buf[k];
}

#define DIFF(...)							\
	do {								\
		snprintf(d->msg, sizeof(d->msg), __VA_ARGS__);		\
		return false;						\
	} while (0)

static uint64_t lib_bitmap[DIRTY_WORDS], model_bitmap[DIRTY_WORDS];

/* What the runs exercised: results per op kind (0: success, else the errno). */
static const char *const op_names[] = {
	"map", "unmap", "sync", "translate", "iova_to_phys", "level", "walk", "dirty", "dump",
};
#define NR_ERRNO	140
static unsigned long results[OP_DUMP + 1][NR_ERRNO];

static void count_result(const struct op *o, int64_t r)
{
	unsigned int e = r < 0 ? (unsigned int)-r : 0;

	results[o->kind][e < NR_ERRNO ? e : 0]++;
}

static void print_results(void)
{
	unsigned int k, e;

	for (k = 0; k <= OP_DUMP; k++) {
		printf("#   %-12s ok %lu", op_names[k], results[k][0]);
		for (e = 1; e < NR_ERRNO; e++)
			if (results[k][e])
				printf(", %s %lu", siommu_errname(-(int)e), results[k][e]);
		printf("\n");
	}
}

/* Run op @o on both; false (and d->msg) on a difference. */
static bool step(struct siommu_pt *pt, struct siommu_pt_gather *g, struct model *m,
		 const struct op *o, struct diff *d)
{
	struct siommu_pt_info info;
	int64_t lr = 0, mr;

	switch (o->kind) {
	case OP_MAP: {
		uint64_t seq = 0;
		bool in = !(o->iova >> m->ias);

		if (in)
			seq = siommu_pt_seq_begin(pt, o->iova);
		/* F_LINUX: the tables a superpage replaces go to the caller's gather */
		lr = m->f_linux ? siommu_pt_map_gather(pt, o->iova, o->pa, o->size, o->bits, g) :
			       siommu_pt_map(pt, o->iova, o->pa, o->size, o->bits);
		mr = model_map(m, o);
		if (lr != mr)
			DIFF("map returned %s, model %s", en(lr), en(mr));
		if (in && siommu_pt_seq_retry(pt, o->iova, seq))
			DIFF("map moved the invalidation sequence (maps are not invalidations)");
		break;
	}
	case OP_UNMAP: {
		uint64_t seq = 0;
		bool in = !(o->iova >> m->ias);

		if (in)
			seq = siommu_pt_seq_begin(pt, o->iova);
		lr = siommu_pt_unmap(pt, o->iova, o->size, g);
		mr = model_unmap(m, o);
		if (lr != mr)
			DIFF("unmap returned %s, model %s", en(lr), en(mr));
		if (lr >= 0 && !siommu_pt_seq_retry(pt, o->iova, seq))
			DIFF("unmap did not move the invalidation sequence of its range");
		break;
	}
	case OP_SYNC: {
		struct inval_rec r = { 0 };
		bool want_call = m->g_start <= m->g_last;
		unsigned int want_flags = m->detached ? SIOMMU_PT_INVAL_TABLES : 0;

		lr = siommu_pt_gather_sync(g, inval_cb, &r, o->wait ? SIOMMU_PT_SYNC_WAIT : 0);
		if (lr)
			DIFF("gather_sync returned %s", en(lr));
		if (!o->wait && (lr = siommu_pt_reclaim_wait(pt)))
			DIFF("reclaim_wait returned %s", en(lr));
		if (r.calls != (want_call ? 1u : 0u))
			DIFF("the invalidation callback ran %u times, model %u", r.calls,
			     want_call ? 1u : 0u);
		if (want_call && (r.iova != m->g_start || r.last != m->g_last ||
				  r.flags != want_flags))
			DIFF("invalidation [0x%" PRIx64 ", 0x%" PRIx64 "] flags %u, model"
			     " [0x%" PRIx64 ", 0x%" PRIx64 "] flags %u", r.iova, r.last,
			     r.flags, m->g_start, m->g_last, want_flags);
		m->g_start = 1;
		m->g_last = 0;
		m->detached = 0;
		break;
	}
	case OP_TRANSLATE: {
		struct siommu_pt_xlate lx = { 0 }, mx = { 0 };

		siommu_rcu_read_lock();
		lr = siommu_pt_translate_rcu(pt, o->iova, o->bits, &lx);
		siommu_rcu_read_unlock();
		mr = model_translate(m, o, &mx);
		if (lr != mr)
			DIFF("translate returned %s, model %s", en(lr), en(mr));
		if (!lr && (lx.pa != mx.pa || lx.pgsize_lg2 != mx.pgsize_lg2 ||
			    lx.prot != mx.prot))
			DIFF("translate gave pa 0x%" PRIx64 " size 2^%u prot 0x%x, model pa 0x%"
			     PRIx64 " size 2^%u prot 0x%x", lx.pa, lx.pgsize_lg2, lx.prot,
			     mx.pa, mx.pgsize_lg2, mx.prot);
		break;
	}
	case OP_PHYS: {
		uint64_t pa = 0, want = 0;
		struct mleaf *l = model_leaf_at(m, o->iova);

		lr = siommu_pt_iova_to_phys(pt, o->iova, &pa);
		mr = (o->iova >> m->ias) ? -ERANGE : l ? 0 : -ENOENT;
		if (l)
			want = l->pa + (o->iova - l->iova);
		if (lr != mr)
			DIFF("iova_to_phys returned %s, model %s", en(lr), en(mr));
		if (!lr && pa != want)
			DIFF("iova_to_phys gave 0x%" PRIx64 ", model 0x%" PRIx64, pa, want);
		break;
	}
	case OP_LEVEL: {
		struct mleaf *l = model_leaf_at(m, o->iova);

		lr = siommu_pt_lookup_level(pt, o->iova);
		mr = (o->iova >> m->ias) ? -ERANGE : l ? 12 + 9 * l->level : 0;
		if (lr != mr)
			DIFF("lookup_level returned %s, model %s", en(lr), en(mr));
		break;
	}
	case OP_WALK: {
		struct siommu_pt_walk w;
		struct mleaf *l = model_leaf_at(m, o->iova);
		int last = (int)m->top, leaf = -1, lvl;

		lr = siommu_pt_walk(pt, o->iova, &w);
		mr = (o->iova >> m->ias) ? -ERANGE : 0;
		if (lr != mr)
			DIFF("walk returned %s, model %s", en(lr), en(mr));
		if (lr)
			break;
		/* Down the model's tables: where the walk must stop, and why. */
		if (l) {
			leaf = last = l->level;
		} else {
			while (last > 0) {
				uint64_t slot = o->iova & ~(lsize((unsigned int)last) - 1);

				if (!model_has_table(m, (unsigned int)last - 1, slot))
					break;
				last--;
			}
		}
		if (w.levels != m->top + 1 || w.leaf_level != leaf || w.last_level != last)
			DIFF("walk: levels %u leaf %d last %d, model levels %u leaf %d last %d",
			     w.levels, w.leaf_level, w.last_level, m->top + 1, leaf, last);
		for (lvl = (int)m->top; lvl >= last; lvl--)
			if ((w.entry[lvl] != 0) != (lvl > last || leaf >= 0))
				DIFF("walk: entry at level %d is 0x%" PRIx64, lvl, w.entry[lvl]);
		break;
	}
	case OP_DIRTY: {
		uint64_t words = (o->size >> (o->pgshift < 12 ? 12 : o->pgshift)) / 64 + 1;
		unsigned int i;

		if (words > DIRTY_WORDS)
			words = DIRTY_WORDS;
		/* Bits are only ever set: start from a pattern. */
		for (i = 0; i < words; i++)
			lib_bitmap[i] = model_bitmap[i] =
				(i * 0x9e3779b97f4a7c15ull) & 0x8421084210842108ull;
		lr = siommu_pt_read_and_clear_dirty(pt, o->iova, o->size,
						    o->no_clear ? SIOMMU_PT_DIRTY_NO_CLEAR : 0,
						    lib_bitmap, o->pgshift, g);
		mr = model_dirty(m, o, model_bitmap);
		if (lr != mr)
			DIFF("read_and_clear_dirty returned %s, model %s", en(lr), en(mr));
		for (i = 0; i < words; i++)
			if (lib_bitmap[i] != model_bitmap[i])
				DIFF("dirty bitmap word %u: 0x%016" PRIx64 ", model 0x%016" PRIx64,
				     i, lib_bitmap[i], model_bitmap[i]);
		break;
	}
	case OP_DUMP: {
		struct dump_check dc = { .m = m };
		const struct pt_fmt_ops *ops = pt->ops;

		dc.ncols = ops->dump_columns;
		qsort(m->leaves, m->nr_leaves, sizeof(m->leaves[0]), leaf_cmp);
		lr = siommu_pt_dump(pt, NULL, dump_line_check, &dc);
		if (lr)
			DIFF("dump: %s", dc.err[0] ? dc.err : en(lr));
		if (dc.row - 2 != m->nr_leaves)
			DIFF("dump: %u rows, model %u leaves", dc.row - 2, m->nr_leaves);
		break;
	}
	}

	count_result(o, o->kind == OP_SYNC || o->kind == OP_DUMP ? 0 : lr);

	/* After every operation: the table-memory accounting. */
	siommu_pt_get_info(pt, &info);
	if (info.table_pages != model_in_use(m) || info.detached_pages != m->detached ||
	    info.reclaim_pages != 0 || info.table_pages_peak != m->peak ||
	    info.table_bytes != info.table_pages * SZ_4K)
		DIFF("info: %" PRIu64 " table pages (%" PRIu64 " detached, %" PRIu64
		     " reclaim, peak %" PRIu64 "), model %" PRIu64 " (%" PRIu64
		     " detached, 0 reclaim, peak %" PRIu64 ")", info.table_pages,
		     info.detached_pages, info.reclaim_pages, info.table_pages_peak,
		     model_in_use(m), m->detached, m->peak);
	return true;
}

static struct siommu_ctx *diff_ctx;
static struct model the_model;

static int create_pt(const struct config *c, struct siommu_pt **pt)
{
	struct siommu_pt_cfg cfg = {
		.fmt = c->fmt, .levels = c->levels, .flags = c->flags,
		.pgsize_bitmap = c->pgsizes, .oas_lg2 = c->oas,
		.table_phys_base = c->host_phys ? 0 : PT_TEST_PHYS_BASE,
		.max_table_pages = c->max_pages,
	};

	return siommu_pt_create(diff_ctx, &cfg, pt);
}

/* Runs @ops on a fresh table and the model; d->at = the first diverging op, or -1. */
static void run_ops(const struct config *c, const struct op *ops, unsigned int n,
		    enum mutation mut, struct diff *d)
{
	struct siommu_pt_gather g;
	struct siommu_pt_info info;
	struct siommu_pt *pt;
	unsigned int i;
	int ret;

	d->at = -1;
	d->msg[0] = 0;
	assert_int_equal(create_pt(c, &pt), 0);
	assert_int_equal(siommu_pt_get_info(pt, &info), 0);
	model_init(&the_model, c, &info, mut);
#if SIOMMU_TESTING_BUILD
	pt_test_set_map_eexist(pt, mut == MUT_LIB);
#endif
	siommu_pt_gather_init(&g);
	for (i = 0; i < n; i++) {
		if (!step(pt, &g, &the_model, &ops[i], d)) {
			d->at = (int)i;
			break;
		}
	}
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, SIOMMU_PT_SYNC_WAIT), 0);
	ret = siommu_pt_destroy(pt);
	if (ret && d->at < 0) {
		d->at = (int)n;
		snprintf(d->msg, sizeof(d->msg), "destroy returned %s", en(ret));
	}
}

/* ------------------------------------------------------------------ the generator */

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

/* Where operations land: small windows where table pages meet. */
static uint64_t pick_iova(const struct model *m, uint64_t align)
{
	uint64_t base, span, top = 1ull << m->ias;

	switch (rnd_below(6)) {
	case 0:
		base = 0;
		span = 16 * SZ_2M;
		break;
	case 1:
		base = SZ_1G - 4 * SZ_2M;	/* the first 1 GiB boundary */
		span = 8 * SZ_2M;
		break;
	case 2:
		base = top - 16 * SZ_2M;	/* the top of the input range */
		span = 16 * SZ_2M;
		break;
	case 3:
		/* A 512 GiB boundary (the root's index changes on 4+ levels). */
		base = m->ias > 39 ? (1ull << 39) - 4 * SZ_2M : 0;
		span = 8 * SZ_2M;
		break;
	default:
		base = 4 * SZ_1G;		/* room for 1 GiB pages */
		span = 4 * SZ_1G;
		break;
	}
	return (base + rnd_below(span)) & ~(align - 1);
}

/* An address to probe: mostly inside or at the edges of known leaves. */
static uint64_t pick_probe(const struct model *m)
{
	const struct mleaf *l;

	if (!m->nr_leaves || rnd_below(4) == 0)
		return pick_iova(m, 8);
	l = &m->leaves[rnd_below(m->nr_leaves)];
	switch (rnd_below(4)) {
	case 0:
		return l->iova;
	case 1:
		return l->iova + lsize(l->level) - 1;
	case 2:
		return l->iova + lsize(l->level);	/* just after */
	default:
		return l->iova + rnd_below(lsize(l->level));
	}
}

static void gen_map(const struct model *m, struct op *o)
{
	uint64_t kind = rnd_below(10), align;

	if (!(m->pgsizes & SIOMMU_PT_SZ_2M))
		kind = rnd_below(6);
	else if (!(m->pgsizes & SIOMMU_PT_SZ_1G) || m->top < 2)
		kind = rnd_below(9);
	align = kind < 6 ? SZ_4K : kind < 9 ? SZ_2M : SZ_1G;
	o->kind = OP_MAP;
	o->size = kind < 6 ? (1 + rnd_below(48)) * SZ_4K :
		  kind < 9 ? (1 + rnd_below(3)) * SZ_2M + rnd_below(2) * 3 * SZ_4K :
		  SZ_1G + rnd_below(2) * SZ_2M;
	if (kind < 6 && rnd_below(4) == 0)
		align = SZ_2M;		/* 4 KiB runs from a 2 MiB boundary */
	o->iova = pick_iova(m, align);
	/* The size must fit the input range (usually). */
	if (o->iova + o->size > (1ull << m->ias) && rnd_below(8))
		o->iova = (1ull << m->ias) - o->size;
	/* pa congruent to iova modulo 1 GiB (large pages possible), or not */
	o->pa = (rnd_below(1ull << (m->oas - 30 > 6 ? 6 : m->oas - 30)) << 30) |
		(o->iova & (SZ_1G - 1));
	if (kind < 9 && rnd_below(8) == 0)
		o->pa ^= SZ_4K;		/* misaligned: small pages only */
	o->bits = SIOMMU_PT_READ | SIOMMU_PT_WRITE;
	if (rnd_below(2))
		o->bits = (unsigned int)rnd_below(SIOMMU_PT_PROT_MASK + 1) |
			  (rnd_below(4) ? SIOMMU_PT_READ : SIOMMU_PT_WRITE);
	/* Now and then, one argument wrong (one problem at a time). */
	switch (rnd_below(40)) {
	case 0:
		o->iova |= 0x800;
		break;
	case 1:
		o->size = rnd_below(2) ? 0 : o->size + 0x10;
		break;
	case 2:
		o->pa |= 0x100;
		break;
	case 3:
		o->bits = rnd_below(2) ? 0 : (o->bits | 0x40);
		break;
	case 4:
		o->pa = (1ull << m->oas) - SZ_4K;	/* output range */
		break;
	case 5:
		o->iova = 1ull << m->ias;		/* input range */
		break;
	}
}

static void gen_unmap(const struct model *m, struct op *o)
{
	o->kind = OP_UNMAP;
	if (m->nr_leaves && rnd_below(3) == 0) {
		/* A known leaf: exactly, a part (straddles), or from its start on */
		const struct mleaf *l = &m->leaves[rnd_below(m->nr_leaves)];

		o->iova = l->iova;
		o->size = lsize(l->level);
		switch (rnd_below(4)) {
		case 0:
			if (l->level)
				o->iova += SZ_4K * (1 + rnd_below(8));
			break;
		case 1:
			if (l->level)
				o->size -= SZ_4K;
			break;
		case 2:
			o->size *= 1 + rnd_below(16);
			break;
		}
	} else {
		o->iova = pick_iova(m, SZ_4K);
		o->size = rnd_below(4) ? (1 + rnd_below(1024)) * SZ_4K :
			  (1 + rnd_below(8)) * SZ_2M;
		if (rnd_below(6) == 0) {
			o->iova &= ~(SZ_1G - 1);
			o->size = SZ_1G;
		} else if (rnd_below(5) == 0) {
			o->iova &= ~(SZ_2M - 1);	/* whole 2 MiB spans: tables go */
			o->size = SZ_2M * (1 + rnd_below(3));
		}
	}
	if (o->iova + o->size > (1ull << m->ias) && rnd_below(8))
		o->size = (1ull << m->ias) - o->iova;
	switch (rnd_below(40)) {
	case 0:
		o->iova |= 0x200;
		break;
	case 1:
		o->size = 0;
		break;
	case 2:
		o->iova = (1ull << m->ias) - SZ_4K;
		o->size = 2 * SZ_4K;
		break;
	}
}

static void gen_dirty(const struct model *m, struct op *o)
{
	static const uint8_t shifts[] = { 12, 12, 12, 13, 16, 21, 21, 30 };

	o->kind = OP_DIRTY;
	o->pgshift = shifts[rnd_below(sizeof(shifts))];
	o->no_clear = rnd_below(3) == 0;
	if (m->nr_leaves && rnd_below(2)) {
		const struct mleaf *l = &m->leaves[rnd_below(m->nr_leaves)];

		o->iova = l->iova;
	} else {
		o->iova = pick_iova(m, SZ_4K);
	}
	o->iova &= ~((1ull << o->pgshift) - 1);
	o->size = (1 + rnd_below(o->pgshift >= 21 ? 4 : 600)) << o->pgshift;
	if (o->pgshift == 30)
		o->size = SZ_1G;
	if (o->iova + o->size > (1ull << m->ias))
		o->iova = (1ull << m->ias) - o->size;
	switch (rnd_below(30)) {
	case 0:
		o->pgshift = rnd_below(2) ? 11 : 31;
		break;
	case 1:
		if (o->pgshift > 12)
			o->iova += SZ_4K;		/* not aligned to the bit granule */
		break;
	}
}

/* One valid-looking operation, drawn against the model's current state. */
static void gen_op(const struct model *m, struct op *o)
{
	uint64_t r = rnd_below(100);

	memset(o, 0, sizeof(*o));
	if (m->nr_leaves > LEAF_SOFT_LIMIT && r < 30)
		r = 40;				/* unmap instead */
	if (r < 30) {
		gen_map(m, o);
	} else if (r < 48) {
		gen_unmap(m, o);
	} else if (r < 53) {
		o->kind = OP_SYNC;
		o->wait = rnd_below(4) != 0;
	} else if (r < 70) {
		o->kind = OP_TRANSLATE;
		o->iova = pick_probe(m);
		o->bits = (unsigned int)rnd_below(16);
		if (rnd_below(3) == 0)
			o->bits |= SIOMMU_PT_ACC_WRITE;
		if (rnd_below(50) == 0)
			o->bits |= 0x10;		/* unknown access bit */
	} else if (r < 78) {
		o->kind = OP_PHYS;
		o->iova = pick_probe(m);
	} else if (r < 84) {
		o->kind = OP_LEVEL;
		o->iova = pick_probe(m);
	} else if (r < 91) {
		o->kind = OP_WALK;
		o->iova = pick_probe(m);
	} else if (r < 99) {
		gen_dirty(m, o);
	} else {
		o->kind = OP_DUMP;
	}
	if (o->kind >= OP_TRANSLATE && o->kind <= OP_WALK && rnd_below(60) == 0)
		o->iova = (1ull << m->ias) + rnd_below(SZ_1G);	/* input range */
}

/*
 * Generate @n ops for config @c, running them as they are drawn (the
 * generator looks at the model).  Returns the first difference in d.
 */
static unsigned int gen_run(const struct config *c, uint64_t seed, struct op *ops,
			    unsigned int n, enum mutation mut, struct diff *d)
{
	struct siommu_pt_gather g;
	struct siommu_pt_info info;
	struct siommu_pt *pt;
	unsigned int i;
	int ret;

	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	d->at = -1;
	d->msg[0] = 0;
	assert_int_equal(create_pt(c, &pt), 0);
	assert_int_equal(siommu_pt_get_info(pt, &info), 0);
	model_init(&the_model, c, &info, mut);
#if SIOMMU_TESTING_BUILD
	pt_test_set_map_eexist(pt, mut == MUT_LIB);
#endif
	siommu_pt_gather_init(&g);
	for (i = 0; i < n; i++) {
		gen_op(&the_model, &ops[i]);
		if (!step(pt, &g, &the_model, &ops[i], d)) {
			d->at = (int)i;
			i++;
			break;
		}
	}
	if (d->at < 0) {
		/* End with a full look: dump, then everything unmapped and synced. */
		ops[i++] = (struct op){ .kind = OP_DUMP };
		ops[i++] = (struct op){ .kind = OP_UNMAP, .iova = 0,
					.size = 1ull << the_model.ias };
		ops[i++] = (struct op){ .kind = OP_SYNC, .wait = 1 };
		for (unsigned int k = i - 3; k < i && d->at < 0; k++)
			if (!step(pt, &g, &the_model, &ops[k], d))
				d->at = (int)k;
	}
	assert_int_equal(siommu_pt_gather_sync(&g, NULL, NULL, SIOMMU_PT_SYNC_WAIT), 0);
	ret = siommu_pt_destroy(pt);
	if (ret && d->at < 0) {
		d->at = (int)i;
		snprintf(d->msg, sizeof(d->msg), "destroy returned %s", en(ret));
	}
	return i;
}

/* ------------------------------------------------------------------ shrinking */

static struct op shrink_buf[MAX_OPS + 4], trial[MAX_OPS + 4];

/*
 * Delta debugging over the op list: cut after the diverging op, then remove
 * chunks of halving size while what is left still diverges.  Returns the
 * length of the result (in shrink_buf); *replays counts the runs.
 */
struct shrink_ctx {
	const struct config *c;
	enum mutation mut;
};

static int shrink_replay(void *opaque, const void *list, unsigned int n)
{
	struct shrink_ctx *x = opaque;
	struct diff d;

	run_ops(x->c, list, n, x->mut, &d);
	return d.at >= (int)n ? (int)n - 1 : d.at;	/* (at teardown: the last op) */
}

static unsigned int shrink(const struct config *c, const struct op *ops, unsigned int n,
			   int at, enum mutation mut, unsigned int *replays)
{
	unsigned int len = (unsigned int)at + 1 < n ? (unsigned int)at + 1 : n;
	struct shrink_ctx x = { c, mut };

	memcpy(shrink_buf, ops, len * sizeof(*ops));
	return dd_shrink(shrink_buf, trial, sizeof(*ops), len, shrink_replay, &x, replays);
}

/* ------------------------------------------------------------------ printing */

static void letters(char *buf, unsigned int bits, const char *set)
{
	unsigned int i, n = 0;

	for (i = 0; set[i]; i++)
		if (bits & (1u << i))
			buf[n++] = set[i];
	buf[n] = 0;
}

static const char *fmt_cli(enum siommu_pt_fmt f)
{
	return siommu_pt_fmt_name(f);
}

static void print_config(FILE *f, const struct config *c)
{
	char sizes[32] = "";

	if (c->pgsizes)
		snprintf(sizes, sizeof(sizes), " pgsizes=4K%s%s",
			 c->pgsizes & SIOMMU_PT_SZ_2M ? ",2M" : "",
			 c->pgsizes & SIOMMU_PT_SZ_1G ? ",1G" : "");
	fprintf(f, "pt-create name=t fmt=%s levels=%u%s%s%s%s oas=%u phys_base=%s max_pages=%u\n",
		fmt_cli(c->fmt), c->levels, sizes,
		c->flags & SIOMMU_PT_F_DIRTY ? " dirty=yes" : "",
		c->flags & SIOMMU_PT_F_EXEC ? " exec=yes" : "",
		c->flags & SIOMMU_PT_F_LINUX ? " linux=yes" : "",
		c->oas, c->host_phys ? "host" : "0x10000000", c->max_pages);
}

/*
 * The sequence as a `softiommu run` script, with the model's expected
 * errors (the run stops where the library disagrees).
 */
static void print_ops(FILE *f, const struct config *c, const struct op *ops, unsigned int n,
		      enum mutation mut)
{
	struct siommu_pt_gather g;
	struct siommu_pt_info info;
	struct siommu_pt *pt;
	unsigned int i;
	char l[16];

	/* Replay on the model only, for the expected errors. */
	assert_int_equal(create_pt(c, &pt), 0);
	siommu_pt_get_info(pt, &info);
	siommu_pt_gather_init(&g);
	model_init(&the_model, c, &info, mut);
	print_config(f, c);
	for (i = 0; i < n; i++) {
		const struct op *o = &ops[i];
		int64_t mr = 0;

		switch (o->kind) {
		case OP_MAP:
			letters(l, o->bits, "rwcnmp");
			fprintf(f, "%spt-map pt=t iova=0x%" PRIx64 " pa=0x%" PRIx64 " size=0x%"
				PRIx64 " prot=%s\n", (o->bits & ~SIOMMU_PT_PROT_MASK) ?
				"# (prot has unknown bits) " : "", o->iova, o->pa, o->size, l);
			mr = model_map(&the_model, o);
			break;
		case OP_UNMAP:
			fprintf(f, "pt-unmap pt=t iova=0x%" PRIx64 " size=0x%" PRIx64 "\n",
				o->iova, o->size);
			mr = model_unmap(&the_model, o);
			break;
		case OP_SYNC:
			fprintf(f, "pt-sync pt=t wait=%s\n%s", o->wait ? "yes" : "no",
				o->wait ? "" : "pt-reclaim-wait pt=t\n");
			the_model.g_start = 1;
			the_model.g_last = 0;
			the_model.detached = 0;
			break;
		case OP_TRANSLATE: {
			struct siommu_pt_xlate x;

			letters(l, o->bits, "rwxp");
			fprintf(f, "%spt-translate pt=t iova=0x%" PRIx64 " access=%s\n",
				(o->bits & ~0xfu) ? "# (access has unknown bits) " : "",
				o->iova, l);
			mr = model_translate(&the_model, o, &x);
			break;
		}
		case OP_PHYS:
			fprintf(f, "pt-iova-to-phys pt=t iova=0x%" PRIx64 "\n", o->iova);
			mr = (o->iova >> the_model.ias) ? -ERANGE :
			     model_leaf_at(&the_model, o->iova) ? 0 : -ENOENT;
			break;
		case OP_LEVEL:
			fprintf(f, "pt-level pt=t iova=0x%" PRIx64 "\n", o->iova);
			mr = (o->iova >> the_model.ias) ? -ERANGE : 0;
			break;
		case OP_WALK:
			fprintf(f, "pt-walk pt=t iova=0x%" PRIx64 "\n", o->iova);
			mr = (o->iova >> the_model.ias) ? -ERANGE : 0;
			break;
		case OP_DIRTY:
			fprintf(f, "pt-dirty pt=t iova=0x%" PRIx64 " size=0x%" PRIx64
				" pgshift=%u clear=%s\n", o->iova, o->size, o->pgshift,
				o->no_clear ? "no" : "yes");
			mr = model_dirty(&the_model, o, model_bitmap);
			break;
		case OP_DUMP:
			fprintf(f, "pt-dump pt=t\n");
			break;
		}
		if (mr < 0)
			fprintf(f, "expect err=%s\n", siommu_errname((int)mr));
	}
	fprintf(f, "pt-info pt=t\n");
	assert_int_equal(siommu_pt_destroy(pt), 0);
}

/* ------------------------------------------------------------------ driving */

static struct op gen_buf[MAX_OPS + 4];

struct campaign {
	unsigned long sequences, ops;
	unsigned long per_config[NR_CONFIGS];
	unsigned int shrunk_len;	/* of the first difference found */
	unsigned int found_config;
};

/*
 * One sequence of @n ops on config @ci from @seed; on a difference, shrink
 * it, replay to confirm, print it and return false.
 */
static bool one_sequence(unsigned int ci, uint64_t seed, unsigned int n, enum mutation mut,
			 struct campaign *cp, bool quiet)
{
	const struct config *c = &configs[ci];
	unsigned int len, total, replays;
	struct diff d, d2;

	total = gen_run(c, seed, gen_buf, n, mut, &d);
	cp->sequences++;
	cp->ops += total;
	cp->per_config[ci] += total;
	if (d.at < 0)
		return true;
	len = shrink(c, gen_buf, total, d.at, mut, &replays);
	run_ops(c, shrink_buf, len, mut, &d2);
	cp->shrunk_len = len;
	cp->found_config = ci;
	if (!quiet) {
		printf("DIFF: config %u (%s, %u levels, flags 0x%x), seed %" PRIu64
		       ": op %d of %u: %s\n", ci, fmt_cli(c->fmt), c->levels, c->flags,
		       seed, d.at, total, d.msg);
		printf("DIFF: shortest sequence: %u ops (%u replays while shrinking); "
		       "replayed: %s\n",
		       len, replays, d2.at >= 0 ? "diverges again" : "DOES NOT diverge (flaky)");
		if (d2.at >= 0)
			printf("DIFF: at op %d: %s\n", d2.at, d2.msg);
		printf("DIFF: reproducer (softiommu run; the model's expected errors as "
		       "expect lines):\n");
		print_ops(stdout, c, shrink_buf, len, mut);
		fflush(stdout);
	}
	return false;
}

static uint64_t default_seed(void)
{
	const char *env = getenv("SIOMMU_PT_SEED");

	return env ? strtoull(env, NULL, 0) : 20261201;
}

/* ThreadSanitizer slows these single-threaded runs tenfold: a shorter slice. */
#if defined(__SANITIZE_THREAD__)
#define SLICE_SEQS	2
#else
#define SLICE_SEQS	6
#endif
#define SLICE_OPS	600

/* The bounded slice of make check: every config, a few sequences, fixed seeds. */
static void test_pgtable_diff_slice(void **state)
{
	struct campaign cp = { 0 };
	uint64_t seed = default_seed();
	unsigned int ci, s;
	bool ok = true;

	(void)state;
	printf("# seed %" PRIu64 " (SIOMMU_PT_SEED=N for another)\n", seed);
	for (ci = 0; ci < NR_CONFIGS && ok; ci++)
		for (s = 0; s < SLICE_SEQS && ok; s++)
			ok = one_sequence(ci, seed + ci * 1000 + s, SLICE_OPS, MUT_NONE, &cp,
					  false);
	printf("# %lu sequences, %lu ops over %zu configs; results per operation:\n",
	       cp.sequences, cp.ops, NR_CONFIGS);
	print_results();
	printf("# F_LINUX rules applied: %lu superpages over emptied tables, %lu unmaps "
	       "extended to a large leaf's end\n", linux_superpages, linux_unmaps_extended);
	assert_true(ok);
	assert_true(linux_superpages > 0 && linux_unmaps_extended > 0);
}

/*
 * The harness must see a mutated model and shrink the difference to a
 * short sequence that diverges again on replay and not without the
 * mutation (the shrinker does not invent differences).
 */
static void check_mutation(enum mutation mut, unsigned int ci, unsigned int max_len)
{
	struct campaign cp = { 0 };
	unsigned int s;
	struct diff d;
	bool found = false;

	for (s = 0; s < 40 && !found; s++)
		found = !one_sequence(ci, 7000 + s, SLICE_OPS, mut, &cp, true);
	assert_true(found);
	print_message("# mutation %s on config %u: shrunk to %u ops\n", mutation_names[mut], ci,
		      cp.shrunk_len);
	assert_true(cp.shrunk_len >= 1 && cp.shrunk_len <= max_len);
	run_ops(&configs[ci], shrink_buf, cp.shrunk_len, mut, &d);
	assert_true(d.at >= 0);
	run_ops(&configs[ci], shrink_buf, cp.shrunk_len, MUT_NONE, &d);
	assert_int_equal(d.at, -1);
}

static void test_pgtable_diff_catches_mutations(void **state)
{
	(void)state;
	/* map 2M, write, clear, read again */
	check_mutation(MUT_DIRTY, 0, 4);
	/* map a large page, unmap a part of it */
	check_mutation(MUT_SPLIT, 3, 2);
	/* map, unmap the 2 MiB span of its leaf table */
	check_mutation(MUT_TABLES, 8, 2);
	/* F_LINUX: map 4K, unmap it (its table stays, empty), map 2M over the slot */
	check_mutation(MUT_SUPERPAGE, 11, 4);
	/* F_LINUX: map a large page, unmap from its start to inside it */
	check_mutation(MUT_UNMAP_MORE, 11, 2);
}

/*
 * The model's rule for SIOMMU_PT_F_LINUX on the other formats: a VT-d
 * second-stage option, refused (-EINVAL) by every other format.
 */
static void test_pgtable_diff_linux_flag_formats(void **state)
{
	unsigned int ci, runs = 0;

	(void)state;
	for (ci = 0; ci < NR_CONFIGS; ci++) {
		struct config c = configs[ci];
		struct siommu_pt *pt = NULL;
		int ret;

		c.flags |= SIOMMU_PT_F_LINUX;
		ret = create_pt(&c, &pt);
		if (c.fmt == SIOMMU_PT_FMT_VTD_SS) {
			assert_int_equal(ret, 0);
			assert_int_equal(siommu_pt_destroy(pt), 0);
			runs++;
		} else {
			assert_int_equal(ret, -EINVAL);
			assert_null(pt);
		}
	}
	assert_true(runs > 0);
}

/* Sequences kept because they once showed a difference (or nearly). */
static void test_pgtable_diff_regressions(void **state)
{
	/* A 2 MiB leaf in a 4K|2M table dirtied, queried in 8 KiB bits over its tail. */
	static const struct op dirty_tail[] = {
		{ .kind = OP_MAP, .iova = 0x200000, .pa = 0x200000, .size = SZ_2M, .bits = 3 },
		{ .kind = OP_TRANSLATE, .iova = 0x3ff000, .bits = SIOMMU_PT_ACC_WRITE },
		{ .kind = OP_DIRTY, .iova = 0x3fc000, .size = 0x8000, .pgshift = 13 },
		{ .kind = OP_SYNC, .wait = 1 },
		{ .kind = OP_DIRTY, .iova = 0x200000, .size = SZ_2M, .pgshift = 21 },
	};
	/* Unmap of holes only, an empty gather, then a sync: no callback. */
	static const struct op holes[] = {
		{ .kind = OP_UNMAP, .iova = 0x10000, .size = 0x10000 },
		{ .kind = OP_SYNC, .wait = 0 },
		{ .kind = OP_MAP, .iova = 0x1ff000, .pa = 0x1ff000, .size = 0x2000, .bits = 1 },
		{ .kind = OP_UNMAP, .iova = 0x200000, .size = SZ_2M },
		{ .kind = OP_SYNC, .wait = 1 },
		{ .kind = OP_WALK, .iova = 0x200000 },
	};
	unsigned int ci;
	struct diff d;

	(void)state;
	for (ci = 0; ci < NR_CONFIGS; ci++) {
		run_ops(&configs[ci], dirty_tail, SIOMMU_ARRAY_SIZE(dirty_tail), MUT_NONE, &d);
		if (d.at >= 0)
			fail_msg("config %u: dirty_tail op %d: %s", ci, d.at, d.msg);
		run_ops(&configs[ci], holes, SIOMMU_ARRAY_SIZE(holes), MUT_NONE, &d);
		if (d.at >= 0)
			fail_msg("config %u: holes op %d: %s", ci, d.at, d.msg);
	}
}

static int setup(void **state)
{
	(void)state;
	return siommu_ctx_create(&diff_ctx);
}

static int teardown(void **state)
{
	(void)state;
	return siommu_ctx_destroy(diff_ctx);
}

/*
 * The long run (make diff): random seeds over every config until @seconds
 * pass; stops at the first difference (printed shrunk).  Also the broken
 * variants: the same with a mutated model (or library), which must fail.
 */
static int run_campaign(double seconds, uint64_t seed, enum mutation mut)
{
	struct campaign cp = { 0 };
	double t0 = test_now_s(), next = t0 + 10;
	unsigned int ci;
	bool ok = true;

	setup(NULL);
	printf("# pgtable diff: seed %" PRIu64 ", %.0f s, model mutation: %s\n", seed, seconds,
	       mutation_names[mut]);
	while (ok && (test_now_s() - t0 < seconds || !cp.sequences)) {
		for (ci = 0; ci < NR_CONFIGS && ok; ci++, seed++)
			ok = one_sequence(ci, seed, 200 + (unsigned int)(seed % 1200), mut,
					  &cp, false);
		if (test_now_s() > next) {
			printf("# %.0f s: %lu sequences, %lu ops\n", test_now_s() - t0,
			       cp.sequences, cp.ops);
			fflush(stdout);
			next += 10;
		}
	}
	printf("# %lu sequences, %lu ops in %.1f s; per config:", cp.sequences, cp.ops,
	       test_now_s() - t0);
	for (ci = 0; ci < NR_CONFIGS; ci++)
		printf(" %lu", cp.per_config[ci]);
	printf("\n# results per operation (the model agreed on each):\n");
	print_results();
	printf("%s\n", ok ? "# no difference" : "# DIFFERENCE FOUND");
	teardown(NULL);
	return ok ? 0 : 1;
}

static enum mutation parse_mutation(const char *s)
{
	unsigned int i;

	for (i = 1; i < SIOMMU_ARRAY_SIZE(mutation_names); i++)
		if (!strcmp(s, mutation_names[i]))
			return (enum mutation)i;
	fprintf(stderr, "unknown mutation '%s' (dirty, split, tables)\n", s);
	exit(2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pgtable_diff_slice),
		cmocka_unit_test(test_pgtable_diff_catches_mutations),
		cmocka_unit_test(test_pgtable_diff_regressions),
		cmocka_unit_test(test_pgtable_diff_linux_flag_formats),
	};
	enum mutation mut = MUT_NONE;
	double seconds = -1;
	uint64_t seed = (uint64_t)time(NULL);
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strncmp(argv[i], "--broken-model=", 15))
			mut = parse_mutation(argv[i] + 15);
		else if (!strcmp(argv[i], "--broken-lib"))
			mut = MUT_LIB;
		else {
			fprintf(stderr, "usage: %s [--seconds S] [--seed N] "
				"[--broken-model=dirty|split|tables|superpage|unmap-more] [--broken-lib]\n", argv[0]);
			return 2;
		}
	}
	if (test_break_requested() && mut == MUT_NONE)
		mut = MUT_DIRTY;
	if (mut == MUT_LIB && !SIOMMU_TESTING_BUILD)
		test_break_unsupported("the map commit hook exists in -Dtesting=true builds only");
	if (mut != MUT_NONE)
		return run_campaign(seconds < 0 ? 30 : seconds, 1, mut);
	if (seconds >= 0)
		return run_campaign(seconds, seed, MUT_NONE);
	return cmocka_run_group_tests_name("pgtable_diff", tests, setup, teardown);
}
