// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Replay: input layouts and compression, bad lines, exact-mode figures and
 * inconsistencies (checked against numbers worked out by hand in the
 * comments), the Linux-compatible model on hand-made traces, and the
 * prediction on the real strict net trace of tests/data.
 */
#include <errno.h>
#include <lzma.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include <softiommu/base.h>
#include <softiommu/pgtable.h>
#include <softiommu/replay.h>

#include "replay/replay_internal.h"

static struct siommu_ctx *ctx;

static int setup(void **state)
{
	(void)state;
	return siommu_ctx_create(&ctx);
}

static int teardown(void **state)
{
	(void)state;
	return siommu_ctx_destroy(ctx);
}

static struct siommu_replay *mk(const struct siommu_replay_opts *o)
{
	struct siommu_replay *r;

	assert_int_equal(siommu_replay_create(ctx, o, &r), 0);
	return r;
}

#define MAP(ts, iova, end, pa, size) \
	"              ip-10509   [000] ..... " ts ": map: IOMMU: iova=0x" iova " - 0x" end \
	" paddr=0x" pa " size=" size "\n"
#define UNMAP(ts, iova, end, size) \
	"              ip-10509   [000] ..s.. " ts ": unmap: IOMMU: iova=0x" iova " - 0x" end \
	" size=" size " unmapped_size=" size "\n"

/* The same events in the three layouts, with headers, comments and another event. */
static void test_layouts(void **state)
{
	static const char text[] =
		"# tracer: nop\n"
		"#\n"
		"version = 6\n"
		"cpus=2\n"
		"CPU 1 is empty\n"
		/* ftrace, irq-info on */
		"       swapper/0-1       [000] .....     1.529858: add_device_to_group: IOMMU: groupID=0 device=0000:00:02.0\n"
		/* ftrace, irq-info off: two spaces before the time */
		"       swapper/0-1       [000]      1.536417: attach_device_to_domain: IOMMU: device=0000:00:02.0\n"
		/* trace-cmd report: short pid padding, padded event name, 4 flags */
		"    kworker/u4:3-112   [001] d..1  2.615063: map:                  IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x000000005a9ed000 size=4096\n"
		/* trace-cmd report, no flags */
		"          <idle>-0     [001]  2.622690: unmap:                IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 size=4096 unmapped_size=4096\n"
		"          <idle>-0     [001]  2.622691: sched_switch:         prev_comm=swapper/1\n"
		"CPU:0 [LOST 3 EVENTS]\n"
		"\n";
	struct siommu_replay *r = mk(NULL);
	const struct siommu_replay_report *p;

	(void)state;
	assert_int_equal(siommu_replay_read_buf(r, "layouts", text, sizeof(text) - 1), 0);
	assert_int_equal(siommu_replay_run(r), 0);
	p = siommu_replay_get_report(r);
	assert_int_equal(p->lines, 12);
	assert_int_equal(p->events, 4);
	assert_int_equal(p->by_type[SIOMMU_TRACE_ADD_DEVICE_TO_GROUP], 1);
	assert_int_equal(p->by_type[SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN], 1);
	assert_int_equal(p->by_type[SIOMMU_TRACE_MAP], 1);
	assert_int_equal(p->by_type[SIOMMU_TRACE_UNMAP], 1);
	assert_int_equal(p->comments, 7);	/* 2 '#', version, cpus, CPU empty, LOST, blank */
	assert_int_equal(p->other_events, 1);
	assert_int_equal(p->bad_lines, 0);
	assert_int_equal(p->devices, 1);
	assert_int_equal(p->first_ts_ns, 1529858000ull);
	assert_int_equal(p->last_ts_ns, 2622690000ull);
	assert_int_equal(p->peak_live_maps, 1);
	assert_int_equal(p->end_live_maps, 0);
	assert_null(siommu_replay_issue(r, 0));
	siommu_replay_destroy(r);
}

static void test_bad_lines(void **state)
{
	static const char text[] =
		MAP("46.600815", "00000000fffff000", "0000000100000000", "00000000118ff000", "4096")
		"garbage here\n"
		"              ip-10509   [000] ..... 46.601090: map: IOMMU: iova=0x00000000ffffc000 - 0x00000000ffffd000 paddr\n"
		"              ip-10509   [000] ..... 46.601090: map: IOMMU: iova=0x00000000ffffc000 - 0x00000000ffffe000 paddr=0x0 size=4096\n"
		"              ip-10509   [000] ..... 46.601091: unmap: IOMMU: iova=0x00000000fffff";	/* cut */
	struct siommu_replay_opts o = { 0 };
	const struct siommu_replay_issue *is;
	const struct siommu_replay_report *p;
	struct siommu_replay *r = mk(NULL);

	(void)state;
	assert_int_equal(siommu_replay_read_buf(r, "bad.txt", text, sizeof(text) - 1), 0);
	p = siommu_replay_get_report(r);
	assert_int_equal(p->events, 1);
	assert_int_equal(p->bad_lines, 4);
	is = siommu_replay_issue(r, 0);
	assert_non_null(is);
	assert_string_equal(is->file, "bad.txt");
	assert_int_equal(is->line, 2);
	assert_int_equal(is->kind, SIOMMU_REPLAY_BAD_LINE);
	assert_non_null(strstr(is->msg, "not a trace event line"));
	is = siommu_replay_issue(r, 1);
	assert_int_equal(is->line, 3);
	assert_non_null(strstr(is->msg, "malformed map event"));
	is = siommu_replay_issue(r, 2);
	assert_int_equal(is->line, 4);	/* end != iova + size */
	assert_non_null(strstr(is->msg, "malformed map event"));
	is = siommu_replay_issue(r, 3);
	assert_int_equal(is->line, 5);
	assert_non_null(strstr(is->msg, "malformed unmap event"));
	assert_non_null(strstr(is->msg, "truncated?"));
	assert_null(siommu_replay_issue(r, 4));
	siommu_replay_destroy(r);

	/* strict: the first bad line ends the read */
	o.strict = true;
	r = mk(&o);
	assert_int_equal(siommu_replay_read_buf(r, "bad.txt", text, sizeof(text) - 1), -EINVAL);
	p = siommu_replay_get_report(r);
	assert_int_equal(p->bad_lines, 1);
	assert_int_equal(p->lines, 2);
	siommu_replay_destroy(r);

	/* a NUL byte inside a line, an empty file, a line too long */
	r = mk(NULL);
	assert_int_equal(siommu_replay_read_buf(r, "nul", "abc\0def\n", 8), 0);
	assert_int_equal(siommu_replay_read_buf(r, "empty", "", 0), 0);
	char *longl = malloc(5000);

	assert_non_null(longl);
	memset(longl, 'x', 5000);
	assert_int_equal(siommu_replay_read_buf(r, "long", longl, 5000), 0);
	free(longl);
	p = siommu_replay_get_report(r);
	assert_int_equal(p->bad_lines, 2);
	assert_int_equal(p->files, 3);
	assert_non_null(strstr(siommu_replay_issue(r, 0)->msg, "NUL byte"));
	assert_non_null(strstr(siommu_replay_issue(r, 1)->msg, "longer than"));
	assert_int_equal(siommu_replay_run(r), 0);
	assert_int_equal(siommu_replay_run(r), -EALREADY);
	assert_int_equal(siommu_replay_read_buf(r, "late", "", 0), -EALREADY);
	siommu_replay_destroy(r);
}

/* Maps still live at the end: consecutive contiguous maps of one task on one CPU are one allocation. */
static void test_group_unfreed(void **state)
{
	static const char text[] =
		MAP("1.000001", "00000000ffff8000", "00000000ffffa000", "0000000012000000", "8192")
		MAP("1.000002", "00000000ffffa000", "00000000ffffb000", "0000000013000000", "4096")
		/* another CPU: its own allocation even though contiguous */
		"              ip-10509   [001] ..... 1.000003: map: IOMMU: iova=0x00000000ffffb000 - 0x00000000ffffc000 paddr=0x0000000014000000 size=4096\n"
		/* not contiguous with the first two */
		MAP("1.000004", "00000000ffff0000", "00000000ffff1000", "0000000015000000", "4096");
	struct siommu_replay *r = mk(NULL);
	const struct siommu_replay_report *p;

	(void)state;
	assert_int_equal(siommu_replay_read_buf(r, "unfreed", text, sizeof(text) - 1), 0);
	assert_int_equal(siommu_replay_run(r), 0);
	p = siommu_replay_get_report(r);
	assert_int_equal(p->end_live_maps, 4);
	assert_int_equal(p->allocs, 3);
	assert_int_equal(p->sg_allocs, 1);
	siommu_replay_destroy(r);
}

static const char small_trace[] =
	MAP("1.000001", "00000000fffff000", "0000000100000000", "0000000011000000", "4096")
	/* a scatter-gather request of 3 pages mapped in two chunks, one unmap */
	MAP("1.000002", "00000000ffffc000", "00000000ffffe000", "0000000012000000", "8192")
	MAP("1.000003", "00000000ffffe000", "00000000fffff000", "0000000013000000", "4096")
	UNMAP("1.000004", "00000000ffffc000", "00000000fffff000", "12288")
	UNMAP("1.000005", "00000000fffff000", "0000000100000000", "4096");

/* Exact-mode figures of a small trace, worked out by hand. */
static void test_exact_small(void **state)
{
	struct siommu_replay *r = mk(NULL);
	const struct siommu_replay_report *p;

	(void)state;
	assert_int_equal(siommu_replay_read_buf(r, "small", small_trace, sizeof(small_trace) - 1), 0);
	assert_int_equal(siommu_replay_run(r), 0);
	p = siommu_replay_get_report(r);
	assert_int_equal(p->events, 5);
	/* after line 3: 0xfffff000 (1 page) + 0xffffc000..0xfffff000 (3 pages) */
	assert_int_equal(p->peak_live_maps, 3);
	assert_int_equal(p->peak_live_bytes, 16384);
	assert_int_equal(p->peak_iova_span, 0x100000000ull - 0xffffc000ull);
	assert_int_equal(p->end_live_maps, 0);
	assert_int_equal(p->mapped_bytes, 16384);
	assert_int_equal(p->unmapped_bytes, 16384);
	assert_int_equal(p->pages[0], 4);
	assert_int_equal(p->pages[1], 0);
	/* VT-d 3 levels: root + one level-2 table + one level-1 table */
	assert_int_equal(p->table_bytes_peak, 3 * 4096);
	/* two allocations: the single page and the 3-page sg request */
	assert_int_equal(p->allocs, 2);
	assert_int_equal(p->sg_allocs, 1);
	/*
	 * TLB stream: 4 pages read after their maps (4 misses), then before
	 * each unmap: 3 pages of the sg (hits) and the first page (hit).
	 */
	assert_int_equal(p->tlb[0].accesses, 8);
	assert_int_equal(p->tlb[0].hits, 4);
	assert_int_equal(siommu_replay_nr_samples(r), 5);
	assert_int_equal(siommu_replay_samples(r)[2].live_bytes, 16384);
	assert_int_equal(siommu_replay_samples(r)[4].live_maps, 0);
	siommu_replay_destroy(r);
}

static void test_exact_inconsistencies(void **state)
{
	static const char text[] =
		MAP("1.000001", "0000000000100000", "0000000000102000", "0000000011000000", "8192")
		/* 2: over the live mapping of line 1 */
		MAP("1.000002", "0000000000101000", "0000000000102000", "0000000012000000", "4096")
		/* 3: covers nothing */
		UNMAP("1.000003", "0000000000200000", "0000000000201000", "4096")
		/* 4: covers half of line 1's mapping */
		UNMAP("1.000004", "0000000000100000", "0000000000101000", "4096")
		/* 5: unmapped_size differs */
		"              ip-10509   [000] ..s.. 1.000005: unmap: IOMMU: iova=0x0000000000101000 - 0x0000000000102000 size=4096 unmapped_size=8192\n"
		/* 6: not 4 KiB aligned: the table refuses it */
		MAP("1.000006", "0000000000300800", "0000000000301800", "0000000011000000", "4096")
		/* 7: earlier than line 6 */
		UNMAP("1.000001", "0000000000400000", "0000000000401000", "4096");
	struct siommu_replay *r = mk(NULL);
	const struct siommu_replay_report *p;
	const struct siommu_replay_issue *is;
	static const struct {
		enum siommu_replay_issue_kind kind;
		uint64_t line;
		const char *has;
	} want[] = {
		{ SIOMMU_REPLAY_TIME_BACKWARDS, 7, "earlier" },
		{ SIOMMU_REPLAY_MAP_OVER_LIVE, 2, "of line 1" },
		{ SIOMMU_REPLAY_UNMAP_NOTHING, 3, "covers no live mapping" },
		{ SIOMMU_REPLAY_UNMAP_PARTIAL, 4, "covers part (0x100000-0x101000) of the mapping 0x100000-0x102000 of line 1" },
		{ SIOMMU_REPLAY_UNMAP_SIZE, 5, "unmapped_size=8192 differs from size=4096" },
		{ SIOMMU_REPLAY_MAP_REFUSED, 6, "EINVAL" },
		{ SIOMMU_REPLAY_UNMAP_NOTHING, 7, "covers no live mapping" },
	};
	size_t i;

	(void)state;
	assert_int_equal(siommu_replay_read_buf(r, "inc", text, sizeof(text) - 1), 0);
	assert_int_equal(siommu_replay_run(r), 0);
	p = siommu_replay_get_report(r);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		is = siommu_replay_issue(r, i);
		assert_non_null(is);
		assert_int_equal(is->kind, want[i].kind);
		assert_int_equal(is->line, want[i].line);
		if (!strstr(is->msg, want[i].has))
			fail_msg("issue %zu: \"%s\" lacks \"%s\"", i, is->msg, want[i].has);
	}
	assert_null(siommu_replay_issue(r, i));
	assert_int_equal(p->issues[SIOMMU_REPLAY_UNMAP_NOTHING], 2);
	/* line 4 left [0x101000, 0x102000) mapped; line 5 unmapped it */
	assert_int_equal(p->end_live_maps, 0);
	assert_int_equal(p->mapped_bytes, 8192);
	assert_int_equal(p->unmapped_bytes, 8192);
	siommu_replay_destroy(r);
}

/*
 * opts.linux_pt (SIOMMU_PT_F_LINUX): table memory and unmapped sizes as
 * Linux's intel-iommu has them.  A 4 KiB page mapped and unmapped at 2 MiB
 * leaves its leaf table (unmap frees a table only when it covers the
 * table's whole span); a 2 MiB map there: Linux frees that table and
 * installs a superpage (switch_to_super_page()), the default fills the old
 * table with 512 4 KiB entries.
 */
static struct siommu_replay *replay_data(const struct siommu_replay_opts *o, const char *name);

static void test_linux_pt_superpage_frees_the_table(void **state)
{
	static const char text[] =
		MAP("1.000001", "0000000000200000", "0000000000201000", "0000000011000000", "4096")
		UNMAP("1.000002", "0000000000200000", "0000000000201000", "4096")
		MAP("1.000003", "0000000000200000", "0000000000400000", "0000000040000000", "2097152");
	struct siommu_replay_opts o = { .linux_pt = true };
	const struct siommu_replay_report *p;
	struct siommu_replay *def = mk(NULL), *lx = mk(&o);

	(void)state;
	assert_int_equal(siommu_replay_read_buf(def, "sp", text, sizeof(text) - 1), 0);
	assert_int_equal(siommu_replay_read_buf(lx, "sp", text, sizeof(text) - 1), 0);
	assert_int_equal(siommu_replay_run(def), 0);
	assert_int_equal(siommu_replay_run(lx), 0);
	/* root, the level-2 directory, the level-1 table: kept by the default */
	p = siommu_replay_get_report(def);
	assert_int_equal(p->table_bytes_peak, 3 * 4096);
	assert_int_equal(p->table_bytes_end, 3 * 4096);
	assert_int_equal(siommu_pt_lookup_level(siommu_replay_pt(def), 0x200000), 12);
	/* Linux: the level-1 table freed for the superpage */
	p = siommu_replay_get_report(lx);
	assert_int_equal(p->table_bytes_peak, 3 * 4096);
	assert_int_equal(p->table_bytes_end, 2 * 4096);
	assert_int_equal(siommu_pt_lookup_level(siommu_replay_pt(lx), 0x200000), 21);
	assert_int_equal(p->issues[SIOMMU_REPLAY_UNMAP_SIZE], 0);
	siommu_replay_destroy(def);
	siommu_replay_destroy(lx);
}

/*
 * A 4 KiB unmap at the start of a 2 MiB superpage: Linux unmaps all of it
 * and trace_unmap() prints unmapped_size=2097152 (line 2).  With linux_pt
 * that is what the table does, no issue; the default table refuses to split
 * (and says so).  Line 4 claims 4096 for the same situation: with linux_pt
 * that is the issue.
 */
static void test_linux_pt_partial_unmap_takes_the_superpage(void **state)
{
	static const char text[] =
		MAP("1.000001", "0000000000200000", "0000000000400000", "0000000040000000", "2097152")
		"              ip-10509   [000] ..s.. 1.000002: unmap: IOMMU: iova=0x0000000000200000 - 0x0000000000201000 size=4096 unmapped_size=2097152\n"
		MAP("1.000003", "0000000000200000", "0000000000400000", "0000000040000000", "2097152")
		UNMAP("1.000004", "0000000000200000", "0000000000201000", "4096");
	struct siommu_replay_opts o = { .linux_pt = true };
	const struct siommu_replay_report *p;
	const struct siommu_replay_issue *is;
	struct siommu_replay *def = mk(NULL), *lx = mk(&o);

	(void)state;
	assert_int_equal(siommu_replay_read_buf(def, "pu", text, sizeof(text) - 1), 0);
	assert_int_equal(siommu_replay_read_buf(lx, "pu", text, sizeof(text) - 1), 0);
	assert_int_equal(siommu_replay_run(def), 0);
	assert_int_equal(siommu_replay_run(lx), 0);
	p = siommu_replay_get_report(lx);
	assert_int_equal(p->mapped_bytes, 2 * 2097152);
	assert_int_equal(p->unmapped_bytes, 2 * 2097152);
	assert_int_equal(p->end_live_maps, 0);
	assert_int_equal(p->issues[SIOMMU_REPLAY_UNMAP_PARTIAL], 0);
	assert_int_equal(p->issues[SIOMMU_REPLAY_UNMAP_SIZE], 1);
	is = siommu_replay_issue(lx, 0);
	assert_non_null(is);
	assert_int_equal(is->kind, SIOMMU_REPLAY_UNMAP_SIZE);
	assert_int_equal(is->line, 4);
	assert_non_null(strstr(is->msg, "unmapped_size=4096 differs from the 2097152 bytes"));
	assert_null(siommu_replay_issue(lx, 1));
	/* the default: line 2's sizes differ, and it would split the superpage */
	p = siommu_replay_get_report(def);
	assert_int_equal(p->issues[SIOMMU_REPLAY_UNMAP_SIZE], 1);
	assert_true(p->issues[SIOMMU_REPLAY_UNMAP_PARTIAL] >= 1);
	assert_int_equal(p->end_live_maps, 1);
	assert_true(p->issues[SIOMMU_REPLAY_MAP_OVER_LIVE] >= 1);
	siommu_replay_destroy(def);
	siommu_replay_destroy(lx);
}

/*
 * The real traces under linux_pt: every unmapped_size the kernel printed is
 * what the Linux-compatible table unmaps (4 KiB pages only; the boot
 * trace's 16 MiB identity map is 2 MiB leaves, never unmapped), and the
 * figures equal the default's (no superpage lands on an emptied table).
 */
static void test_linux_pt_real_traces(void **state)
{
	static const char *const names[] = {
		"linux6.1-strict-boot.txt", "linux6.1-strict-net.txt", "linux6.1-lazy-net.txt",
	};
	struct siommu_replay_opts o = { .linux_pt = true };
	unsigned int i, k;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct siommu_replay *def = replay_data(NULL, names[i]), *lx = replay_data(&o, names[i]);
		const struct siommu_replay_report *a = siommu_replay_get_report(def);
		const struct siommu_replay_report *b = siommu_replay_get_report(lx);

		assert_int_equal(b->issues[SIOMMU_REPLAY_UNMAP_SIZE], 0);
		for (k = 0; k < SIOMMU_REPLAY_NR_ISSUE_KINDS; k++)
			assert_int_equal(a->issues[k], b->issues[k]);
		assert_int_equal(a->table_bytes_peak, b->table_bytes_peak);
		assert_int_equal(a->table_bytes_end, b->table_bytes_end);
		assert_int_equal(a->unmapped_bytes, b->unmapped_bytes);
		assert_int_equal(a->peak_live_bytes, b->peak_live_bytes);
		assert_int_equal(memcmp(a->pages, b->pages, sizeof(a->pages)), 0);
		siommu_replay_destroy(def);
		siommu_replay_destroy(lx);
	}
}

/* linux_pt is an option of the VT-d format only. */
static void test_linux_pt_other_format_is_einval(void **state)
{
	struct siommu_replay_opts o = { .linux_pt = true, .fmt = SIOMMU_PT_FMT_X86_64 };
	struct siommu_replay *r = mk(&o);

	(void)state;
	assert_int_equal(siommu_replay_read_buf(r, "x", small_trace, sizeof(small_trace) - 1), 0);
	assert_int_equal(siommu_replay_run(r), -EINVAL);
	siommu_replay_destroy(r);
}

/*
 * The fast line reader (src/replay/fastline.c) on hand-made edge cases: what
 * it takes it reads as siommu_trace_parse_line() does, what it leaves (0) the
 * general parser decides; the fuzz target fuzz_replay_line checks the same
 * on any input.
 */
static void test_replay_fastline(void **state)
{
	static const struct {
		const char *text;
		bool fast;		/* read by the fast path (else left to the general parser) */
	} cases[] = {
		/* ftrace with irq-info; without; trace-cmd's padding; CRLF; no newline */
		{ "          <idle>-0       [001] ..s1.    46.600815: unmap: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 size=4096 unmapped_size=4096\nX", true },
		{ "  kworker/u4:2-63    [000]    1.000001: map: IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000005000 size=4096\n", true },
		{ "  ping-1234 [001] .... 100.000001: map:      IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000005000 size=4096\r\n", true },
		{ "  t-7 [3] ....  1.5: map: IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000001000 size=4096", true },
		/* left to the general parser */
		{ "# tracer: nop\n", false },
		{ "  t-7 [3] ....  1.5: map: IOMMU: iova=0x00000000000010A0 - 0x00000000000020A0 paddr=0x0000000000001000 size=4096\n", true },
		{ "  t-7 [3] ....  1.5: map: IOMMU: iova=0x1000 - 0x2000 paddr=0x1000 size=4096\n", true },
		{ "  a [b]-7 [3] ....  1.5: map: IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000001000 size=4096\n", false },
		{ "  t-7 [3] ....  1.5: io_page_fault: IOMMU:dmar dev iova=0x1000 flags=0x2\n", false },
		{ "  t-7 [3] ....  1.5: map: IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000001000 size=4096\r\r\n", false },
		{ "  t-7 [3] ....  1.5: map: IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000001000 size=04096\n", true },
		{ "  t-7 [3] ....  1.5: map: IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000001000 size=00000000000000000004096\n", false },
		{ "  t-7 [3] ....  1.1234567890: map: IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000001000 size=4096\n", false },
		{ "  t-7 [3] ....  1.5: map: IOMMU: iova=0x0000000000001000 - 0x0000000000003000 paddr=0x0000000000001000 size=4096\n", false },
	};
	char line[512], sb[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = cases[i].text;
		size_t len = strlen(t), got, n;
		struct siommu_trace_record rec;
		struct rp_line l;

		got = rp_fast_line(t, len, &l);
		n = strcspn(t, "\n");
		/* all of the line and its newline, or nothing */
		if (got != (cases[i].fast ? n + (t[n] == '\n') : 0))
			fail_msg("case %zu: consumed %zu of %zu", i, got, len);
		if (!got)
			continue;
		if (n && t[n - 1] == '\r')
			n--;
		memcpy(line, t, n);
		line[n] = '\0';
		assert_int_equal(siommu_trace_parse_line(line, &rec, sb, sizeof(sb)), 0);
		assert_int_equal(rec.ev.type, l.type);
		assert_int_equal(rec.ts_ns, l.ts);
		assert_int_equal(rec.pid, l.pid);
		assert_int_equal(rec.cpu, l.cpu);
		assert_int_equal(rec.ev.iova, l.iova);
		assert_int_equal(rec.ev.size, l.size);
		assert_int_equal(l.type == SIOMMU_TRACE_MAP ? rec.ev.paddr : rec.ev.unmapped_size, l.x);
	}
}

/*
 * A file is parsed a megabyte at a time, each chunk up to its last newline:
 * lines across chunk boundaries, a line longer than a chunk and a last line
 * without its newline read as the same bytes in one buffer do.
 */
static void test_read_file_in_chunks(void **state)
{
	char path[] = "/tmp/test_replay_chunksXXXXXX";
	size_t n = 0, cap = 3u << 20, k, i;
	struct siommu_replay *a = mk(NULL), *b = mk(NULL);
	const struct siommu_replay_report *pa, *pb;
	char *buf = malloc(cap + 4096);
	int fd;

	(void)state;
	assert_non_null(buf);
	for (k = 0; n + sizeof(small_trace) < cap - (1u << 20) - 200; k++) {
		memcpy(buf + n, small_trace, sizeof(small_trace) - 1);
		n += sizeof(small_trace) - 1;
		if (k == 1000) {
			/* a bad line longer than a chunk */
			memset(buf + n, 'x', (1u << 20) + 5);
			n += (1u << 20) + 5;
			buf[n++] = '\n';
		}
	}
	n += (size_t)sprintf(buf + n, "  t-1 [000] ..... 9.000000: map: IOMMU: iova=0x1000");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
	assert_int_equal(siommu_replay_read_file(a, path), 0);
	unlink(path);
	assert_int_equal(siommu_replay_read_buf(b, path, buf, n), 0);
	free(buf);
	pa = siommu_replay_get_report(a);
	pb = siommu_replay_get_report(b);
	assert_true(pa->events > 5000);	/* 2 MiB in all: two chunk boundaries at least */
	assert_int_equal(pa->lines, pb->lines);
	assert_int_equal(pa->events, pb->events);
	assert_int_equal(pa->bad_lines, 2);
	assert_int_equal(pb->bad_lines, 2);
	assert_int_equal(pa->last_ts_ns, pb->last_ts_ns);
	for (i = 0; siommu_replay_issue(b, i); i++) {
		const struct siommu_replay_issue *x = siommu_replay_issue(a, i), *y = siommu_replay_issue(b, i);

		assert_non_null(x);
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->line, y->line);
		assert_string_equal(x->msg, y->msg);
	}
	assert_null(siommu_replay_issue(a, i));
	assert_non_null(strstr(siommu_replay_issue(a, i - 1)->msg, "truncated?"));
	siommu_replay_destroy(a);
	siommu_replay_destroy(b);
}

static void compress_and_read(bool xz)
{
	unsigned char out[4096];
	size_t olen = sizeof(out);
	struct siommu_replay *r = mk(NULL);
	const struct siommu_replay_report *p;

	if (xz) {
		size_t pos = 0;

		assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL,
							 (const uint8_t *)small_trace, sizeof(small_trace) - 1,
							 out, &pos, sizeof(out)), LZMA_OK);
		olen = pos;
	} else {
		z_stream z;

		memset(&z, 0, sizeof(z));
		assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
		z.next_in = (unsigned char *)small_trace;
		z.avail_in = sizeof(small_trace) - 1;
		z.next_out = out;
		z.avail_out = sizeof(out);
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		olen = sizeof(out) - z.avail_out;
		deflateEnd(&z);
	}
	assert_int_equal(siommu_replay_read_buf(r, "c", out, olen), 0);
	p = siommu_replay_get_report(r);
	assert_int_equal(p->events, 5);
	assert_int_equal(p->bad_lines, 0);
	/* the stream cut short: an issue, -EINVAL */
	assert_int_equal(siommu_replay_read_buf(r, "cut", out, olen / 2), -EINVAL);
	assert_int_equal(p->bad_lines, 1);
	assert_non_null(strstr(siommu_replay_issue(r, 0)->msg, xz ? "xz" : "gzip"));
	siommu_replay_destroy(r);
}

static void test_gzip(void **state)
{
	(void)state;
	compress_and_read(false);
}

static void test_xz(void **state)
{
	(void)state;
	compress_and_read(true);
}

/*
 * The Linux model on IOVAs worked out by hand from Linux's rules
 * (32-bit-first, top-down, size-aligned, pow2 rounding, cached node, rcache):
 *  1. 1 page: below 4 GiB, top: 0xfffff.
 *  2. 3 pages (an sg of 2 + 1): rounded to 4, aligned to 4 below 0xfffff:
 *     0xffffb & ~3 = 0xffff8.
 *  3. 1 page: below the cached node (0xffff8): 0xffff7.
 *  4. unmap of #3 on CPU 0: into CPU 0's 1-page magazine.
 *  5. 1 page on CPU 0: popped from the magazine: 0xffff7 again.
 *  6. 1 page on CPU 1: its magazine is empty: the tree, below: 0xffff6.
 */
static const char linux_trace[] =
	MAP("1.000001", "00000000fffff000", "0000000100000000", "0000000011000000", "4096")
	MAP("1.000002", "00000000ffff8000", "00000000ffffa000", "0000000012000000", "8192")
	MAP("1.000003", "00000000ffffa000", "00000000ffffb000", "0000000013000000", "4096")
	MAP("1.000004", "00000000ffff7000", "00000000ffff8000", "0000000014000000", "4096")
	UNMAP("1.000005", "00000000ffff7000", "00000000ffff8000", "4096")
	UNMAP("1.000006", "00000000ffff8000", "00000000ffffb000", "12288")
	MAP("1.000007", "00000000ffff7000", "00000000ffff8000", "0000000015000000", "4096")
	"              ip-10509   [001] ..... 1.000008: map: IOMMU: iova=0x00000000ffff6000 - 0x00000000ffff7000 paddr=0x0000000016000000 size=4096\n";

static void test_linux_model(void **state)
{
	struct siommu_replay_opts o = { .predict = true };
	const struct siommu_replay_report *p;
	struct siommu_replay *r = mk(&o);
	uint64_t ts, f, fr;

	(void)state;
	assert_int_equal(siommu_replay_read_buf(r, "linux", linux_trace, sizeof(linux_trace) - 1), 0);
	assert_int_equal(siommu_replay_run(r), 0);
	p = siommu_replay_get_report(r);
	assert_true(p->predicted);
	assert_int_equal(p->pred_total, 5);
	assert_int_equal(p->pred_forced_hits, 5);
	assert_int_equal(p->pred_free_hits, 5);
	assert_int_equal(siommu_replay_pred_point(r, 4, &ts, &f, &fr), 0);
	assert_int_equal(ts, 1000008000ull);
	assert_int_equal(f, 5);
	assert_int_equal(siommu_replay_pred_point(r, 5, &ts, &f, &fr), -ENOENT);
	siommu_replay_destroy(r);

	/* without the 32-bit-first try the model goes to the top of 39 bits: no hit */
	o.not_pci = true;
	r = mk(&o);
	assert_int_equal(siommu_replay_read_buf(r, "linux", linux_trace, sizeof(linux_trace) - 1), 0);
	assert_int_equal(siommu_replay_run(r), 0);
	p = siommu_replay_get_report(r);
	assert_int_equal(p->pred_free_hits, 0);
	/* forced: the model takes the kernel's IOVAs; the rcache pop (#5) is then right */
	assert_int_equal(p->pred_forced_hits, 1);
	siommu_replay_destroy(r);
}

/*
 * 6.1 and 6.12 differ after a failed 32-bit try: an 8 GiB allocation cannot
 * fit below 4 GiB and goes to the top of the 39-bit space (0x7e00000000,
 * 2^21 pages aligned down from 2^27).  The next page: 6.1 tries below 4 GiB
 * again (0xfffff000: the 32-bit cached node is still the anchor); 6.12 has
 * stopped trying and goes below the cached node (0x7dfffff000).
 */
static void run_two(enum siommu_replay_linux ver, const char *second, uint64_t want_free)
{
	char text[1024];
	struct siommu_replay_opts o = { .predict = true, .linux_version = ver };
	struct siommu_replay *r = mk(&o);
	const struct siommu_replay_report *p;

	snprintf(text, sizeof(text), "%s%s",
		 MAP("1.000001", "0000007e00000000", "0000008000000000", "0000000000000000", "8589934592"),
		 second);
	assert_int_equal(siommu_replay_read_buf(r, "two", text, strlen(text)), 0);
	assert_int_equal(siommu_replay_run(r), 0);
	p = siommu_replay_get_report(r);
	assert_int_equal(p->pred_total, 2);
	assert_int_equal(p->pred_free_hits, want_free);
	assert_int_equal(p->pages[2], 8);	/* eight 1 GiB leaves */
	siommu_replay_destroy(r);
}

static void test_linux_versions(void **state)
{
	static const char low[] = MAP("1.000002", "00000000fffff000", "0000000100000000", "0000000011000000", "4096");
	static const char high[] = MAP("1.000002", "0000007dfffff000", "0000007e00000000", "0000000011000000", "4096");

	(void)state;
	run_two(SIOMMU_REPLAY_LINUX_6_1, low, 2);
	run_two(SIOMMU_REPLAY_LINUX_6_1, high, 1);
	run_two(SIOMMU_REPLAY_LINUX_6_12, high, 2);
	run_two(SIOMMU_REPLAY_LINUX_6_12, low, 1);
}

static char *slurp(const char *rel, size_t *len)
{
	const char *src = getenv("SIOMMU_SOURCE_DIR");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/%s", src, rel);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A replay of tests/data/traces/@name with @o, run. */
static struct siommu_replay *replay_data(const struct siommu_replay_opts *o, const char *name)
{
	struct siommu_replay *r = mk(o);
	char rel[256];
	size_t len;
	char *buf;

	snprintf(rel, sizeof(rel), "tests/data/traces/%s", name);
	buf = slurp(rel, &len);
	assert_int_equal(siommu_replay_read_buf(r, name, buf, len), 0);
	free(buf);
	assert_int_equal(siommu_replay_run(r), 0);
	return r;
}

/* The event counts of tests/data/README.md, and the boot trace's mixed domains. */
static void test_real_counts(void **state)
{
	struct siommu_replay *r;
	const struct siommu_replay_report *p;

	(void)state;
	r = replay_data(NULL, "linux6.1-strict-boot.txt");
	p = siommu_replay_get_report(r);
	assert_int_equal(p->events, 156);
	assert_int_equal(p->by_type[SIOMMU_TRACE_ADD_DEVICE_TO_GROUP], 8);
	assert_int_equal(p->by_type[SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN], 8);
	assert_int_equal(p->by_type[SIOMMU_TRACE_MAP], 112);
	assert_int_equal(p->by_type[SIOMMU_TRACE_UNMAP], 28);
	assert_int_equal(p->bad_lines, 0);
	/* two NVMe controllers map the same IOVAs in their own domains */
	assert_true(p->issues[SIOMMU_REPLAY_MAP_OVER_LIVE] > 0);
	/* the 16 MiB identity map is eight 2 MiB leaves */
	assert_int_equal(p->pages[1], 8);
	siommu_replay_destroy(r);
}

/* The fidelity target: >= 99.9% forced on the strict single-device net trace. */
static void test_predict_strict_net(void **state)
{
	struct siommu_replay_opts o = { .predict = true };
	struct siommu_replay *r;
	const struct siommu_replay_report *p;

	(void)state;
	r = replay_data(&o, "linux6.1-strict-net.txt");
	p = siommu_replay_get_report(r);
	assert_int_equal(p->events, 2147);
	assert_int_equal(p->by_type[SIOMMU_TRACE_MAP], 1074);
	assert_int_equal(p->by_type[SIOMMU_TRACE_UNMAP], 1073);
	assert_int_equal(p->issues[SIOMMU_REPLAY_MAP_OVER_LIVE], 0);
	assert_int_equal(p->issues[SIOMMU_REPLAY_UNMAP_NOTHING], 0);
	assert_int_equal(p->issues[SIOMMU_REPLAY_UNMAP_PARTIAL], 0);
	assert_true(p->pred_total >= 1000);
	print_message("# prediction: forced %llu/%llu, free-running %llu/%llu\n",
		      (unsigned long long)p->pred_forced_hits, (unsigned long long)p->pred_total,
		      (unsigned long long)p->pred_free_hits, (unsigned long long)p->pred_total);
	assert_true(p->pred_forced_hits * 1000 >= p->pred_total * 999);
	siommu_replay_destroy(r);
}

/*
 * The lazy net trace: the flush timer's firing is not in the trace; the
 * model infers it (delay or tick) and must then predict nearly every IOVA.
 */
static void test_predict_lazy_net(void **state)
{
	struct siommu_replay_opts o = { .predict = true, .lazy_trace = true };
	struct siommu_replay *r;
	const struct siommu_replay_report *p;

	(void)state;
	r = replay_data(&o, "linux6.1-lazy-net.txt");
	p = siommu_replay_get_report(r);
	assert_int_equal(p->by_type[SIOMMU_TRACE_MAP], 1072);
	print_message("# lazy prediction: forced %llu/%llu, free-running %llu, timer %llu ns, %u Hz\n",
		      (unsigned long long)p->pred_forced_hits, (unsigned long long)p->pred_total,
		      (unsigned long long)p->pred_free_hits, (unsigned long long)p->pred_delay_ns,
		      p->pred_hz);
	assert_true(p->pred_forced_hits * 1000 >= p->pred_total * 995);
	siommu_replay_destroy(r);

	/* the timer as Linux configures it (10 ms, no ticks), not inferred: clearly worse */
	o.no_infer = true;
	r = replay_data(&o, "linux6.1-lazy-net.txt");
	p = siommu_replay_get_report(r);
	assert_int_equal(p->pred_delay_ns, 10000000);
	assert_true(p->pred_forced_hits * 100 < p->pred_total * 95);
	siommu_replay_destroy(r);
}

static void test_whatif(void **state)
{
	struct siommu_replay_opts o = { .whatif = true, .fq_size = 2 };
	struct siommu_replay *r = mk(&o);
	const struct siommu_replay_report *p;
	unsigned int pol;

	(void)state;
	assert_int_equal(siommu_replay_read_buf(r, "linux", linux_trace, sizeof(linux_trace) - 1), 0);
	assert_int_equal(siommu_replay_run(r), 0);
	p = siommu_replay_get_report(r);
	for (pol = 0; pol < SIOMMU_REPLAY_NR_POLICIES; pol++) {
		const struct siommu_replay_policy_result *s = &p->whatif[pol][0], *l = &p->whatif[pol][1];

		assert_true(s->valid && l->valid);
		assert_int_equal(s->allocs, 5);
		assert_int_equal(s->failures, 0);
		/* strict: one invalidation per unmap (2) */
		assert_int_equal(s->invalidations, 2);
		/* lazy: the 10 ms timer never fires within the trace and 2 entries fit the queue */
		assert_int_equal(l->invalidations, 0);
		assert_true(s->peak_span >= 4096 * 5);
	}
	/* first-fit takes the lowest pages: 1 + 3 + 1 live at the peak, no rounding */
	assert_int_equal(p->whatif[SIOMMU_REPLAY_POL_FIRSTFIT][0].peak_span, 5 * 4096);
	siommu_replay_destroy(r);
}

static void test_args(void **state)
{
	struct siommu_replay_opts o = { .nr_tlbs = 1, .tlb = { { 3, 4 } } };
	struct siommu_replay *r;

	(void)state;
	assert_int_equal(siommu_replay_create(ctx, &o, &r), -EINVAL);
	o.tlb[0].sets = 4;
	o.ias_lg2 = 80;
	assert_int_equal(siommu_replay_create(ctx, &o, &r), -EINVAL);
	assert_int_equal(siommu_replay_create(NULL, NULL, &r), -EINVAL);
	assert_int_equal(siommu_replay_create(ctx, NULL, NULL), -EINVAL);
	r = mk(NULL);
	assert_int_equal(siommu_replay_read_file(r, "/nonexistent/trace"), -ENOENT);
	assert_int_equal(siommu_replay_read_buf(r, NULL, "", 0), -EINVAL);
	assert_string_equal(siommu_replay_issue_kind_name(SIOMMU_REPLAY_UNMAP_NOTHING), "unmap-nothing");
	assert_null(siommu_replay_issue_kind_name(SIOMMU_REPLAY_NR_ISSUE_KINDS));
	assert_string_equal(siommu_replay_policy_name(SIOMMU_REPLAY_POL_FIRSTFIT), "first-fit");
	siommu_replay_destroy(r);
	siommu_replay_destroy(NULL);
}

/* Every allocation failing in turn: -ENOMEM or success, never a crash or a leak (ASan). */
static void test_fail_nth(void **state)
{
	struct siommu_replay_opts o = { .predict = true, .whatif = true };
	unsigned long n;
	bool done = false;

	(void)state;
	if (!siommu_testing_build())
		skip();
	for (n = 1; !done && n < 5000; n++) {
		struct siommu_replay *r = NULL;
		int ret;

		assert_int_equal(siommu_test_fail_nth(n), 0);
		ret = siommu_replay_create(ctx, &o, &r);
		if (!ret)
			ret = siommu_replay_read_buf(r, "linux", linux_trace, sizeof(linux_trace) - 1);
		if (!ret)
			ret = siommu_replay_run(r);
		done = siommu_test_alloc_count() < (long)n;
		siommu_test_fail_nth(0);
		if (ret != 0 && ret != -ENOMEM)
			fail_msg("allocation %lu failing: %d", n, ret);
		if (done)
			assert_int_equal(ret, 0);
		siommu_replay_destroy(r);
	}
	assert_true(done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_exact_small),
		cmocka_unit_test(test_group_unfreed),
		cmocka_unit_test(test_exact_inconsistencies),
		cmocka_unit_test(test_replay_fastline),
		cmocka_unit_test(test_read_file_in_chunks),
		cmocka_unit_test(test_linux_pt_superpage_frees_the_table),
		cmocka_unit_test(test_linux_pt_partial_unmap_takes_the_superpage),
		cmocka_unit_test(test_linux_pt_real_traces),
		cmocka_unit_test(test_linux_pt_other_format_is_einval),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_xz),
		cmocka_unit_test(test_linux_model),
		cmocka_unit_test(test_linux_versions),
		cmocka_unit_test(test_real_counts),
		cmocka_unit_test(test_predict_strict_net),
		cmocka_unit_test(test_predict_lazy_net),
		cmocka_unit_test(test_whatif),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_fail_nth),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
