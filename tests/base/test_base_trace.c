// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Trace events against real Linux output: every line of the captures in
 * tests/data/traces/ parses and formats back byte for byte, and each event's
 * text matches the kernel's print fmt.
 */
#include <errno.h>
#include "test_common.h"
#include <softiommu/base.h>

struct counts {
	unsigned int lines, comments, by_type[SIOMMU_TRACE_NR_TYPES];
};

static void roundtrip_file(const char *rel, struct counts *c)
{
	char path[512], line[1024], again[1024], sb[256];
	struct siommu_trace_record rec;
	FILE *f;

	memset(c, 0, sizeof(*c));
	f = fopen(test_data_path(rel, path, sizeof(path)), "r");
	if (!f)
		fail_msg("cannot open %s (SIOMMU_SOURCE_DIR is the source tree)", path);
	while (fgets(line, sizeof(line), f)) {
		int ret = siommu_trace_parse_line(line, &rec, sb, sizeof(sb));

		line[strcspn(line, "\n")] = '\0';
		if (ret == -ENOENT) {
			c->comments++;
			continue;
		}
		if (ret)
			fail_msg("%s: cannot parse (%d): %s", rel, ret, line);
		c->lines++;
		c->by_type[rec.ev.type]++;
		assert_true(siommu_trace_format_line(&rec, again, sizeof(again)) > 0);
		if (strcmp(line, again))
			fail_msg("%s: round trip differs:\n  kernel: '%s'\n  ours:   '%s'",
				 rel, line, again);
	}
	fclose(f);
}

static void test_base_trace_roundtrip_boot(void **state)
{
	struct counts c;

	roundtrip_file("traces/linux6.1-strict-boot.txt", &c);
	/* the counts the capture's README gives */
	assert_int_equal(c.lines, 156);
	assert_int_equal(c.by_type[SIOMMU_TRACE_ADD_DEVICE_TO_GROUP], 8);
	assert_int_equal(c.by_type[SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN], 8);
	assert_int_equal(c.by_type[SIOMMU_TRACE_MAP], 112);
	assert_int_equal(c.by_type[SIOMMU_TRACE_UNMAP], 28);
}

static void test_base_trace_roundtrip_net(void **state)
{
	struct counts c;

	roundtrip_file("traces/linux6.1-strict-net.txt", &c);
	assert_int_equal(c.lines, 2147);
	assert_int_equal(c.by_type[SIOMMU_TRACE_MAP], 1074);
	assert_int_equal(c.by_type[SIOMMU_TRACE_UNMAP], 1073);
}

static void test_base_trace_parse_fields(void **state)
{
	const char *line = "    kworker/u4:3-112     [001] .....     2.615063: map: IOMMU: "
			   "iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x000000005a9ed000 size=4096";
	struct siommu_trace_record rec;
	char sb[256];

	assert_int_equal(siommu_trace_parse_line(line, &rec, sb, sizeof(sb)), 0);
	assert_string_equal(rec.task, "kworker/u4:3");
	assert_int_equal(rec.pid, 112);
	assert_int_equal(rec.cpu, 1);
	assert_string_equal(rec.irq_flags, ".....");
	assert_int_equal(rec.ts_ns, 2615063000ull);
	assert_int_equal(rec.ev.type, SIOMMU_TRACE_MAP);
	assert_int_equal(rec.ev.iova, 0xfffff000ull);
	assert_int_equal(rec.ev.paddr, 0x5a9ed000ull);
	assert_int_equal(rec.ev.size, 4096);
}

/* Each event's text, as the kernel's print fmt writes it. */
static void test_base_trace_format_every_event(void **state)
{
	static const struct {
		struct siommu_trace_event ev;
		const char *text;
	} cases[] = {
		{ { .type = SIOMMU_TRACE_ADD_DEVICE_TO_GROUP, .gid = 5, .device = "0000:00:1f.2" },
		  "IOMMU: groupID=5 device=0000:00:1f.2" },
		{ { .type = SIOMMU_TRACE_REMOVE_DEVICE_FROM_GROUP, .gid = 0, .device = "0000:00:00.0" },
		  "IOMMU: groupID=0 device=0000:00:00.0" },
		{ { .type = SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN, .device = "0000:00:04.0" },
		  "IOMMU: device=0000:00:04.0" },
		{ { .type = SIOMMU_TRACE_DETACH_DEVICE_FROM_DOMAIN, .device = "0000:00:04.0" },
		  "IOMMU: device=0000:00:04.0" },
		{ { .type = SIOMMU_TRACE_MAP, .iova = 0, .paddr = 0, .size = 16777216 },
		  "IOMMU: iova=0x0000000000000000 - 0x0000000001000000 paddr=0x0000000000000000 size=16777216" },
		{ { .type = SIOMMU_TRACE_UNMAP, .iova = 0xffffe000, .size = 8192, .unmapped_size = 8192 },
		  "IOMMU: iova=0x00000000ffffe000 - 0x0000000100000000 size=8192 unmapped_size=8192" },
		{ { .type = SIOMMU_TRACE_IO_PAGE_FAULT, .driver = "nvme", .device = "0000:00:04.0",
		    .iova = 0xdead000, .flags = 0x20 },
		  "IOMMU:nvme 0000:00:04.0 iova=0x000000000dead000 flags=0x0020" },
	};
	char buf[256], line[512], sb[256];
	struct siommu_trace_record rec = { .task = "softiommu", .pid = 42, .cpu = 1,
					   .irq_flags = ".....", .ts_ns = 1234567890123ull };
	struct siommu_trace_record back;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = siommu_trace_format(&cases[i].ev, buf, sizeof(buf));

		assert_int_equal(n, (int)strlen(cases[i].text));
		assert_string_equal(buf, cases[i].text);
		/* and the whole line parses back to the same event */
		rec.ev = cases[i].ev;
		assert_true(siommu_trace_format_line(&rec, line, sizeof(line)) > 0);
		assert_int_equal(siommu_trace_parse_line(line, &back, sb, sizeof(sb)), 0);
		assert_int_equal(back.ev.type, cases[i].ev.type);
		assert_int_equal(back.ev.iova, cases[i].ev.iova);
		assert_int_equal(back.ts_ns, 1234567890000ull);	/* microsecond precision */
		assert_true(siommu_trace_format(&back.ev, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, cases[i].text);
	}
	/* the line layout itself */
	rec.ev = cases[2].ev;
	assert_true(siommu_trace_format_line(&rec, line, sizeof(line)) > 0);
	assert_string_equal(line, "       softiommu-42      [001] .....  1234.567890: "
			    "attach_device_to_domain: IOMMU: device=0000:00:04.0");
}

/*
 * A line without the flags column (options/irq-info off).  The kernel's
 * trace_print_context() prints "[%03d] ", no latency flags, then the time as
 * " %5lu.%06lu: ": two spaces between "]" and a timestamp of five digits
 * before the point, so the padding is one space more than with flags.
 * Built here from that format: "%16s-%-7d " "[%03d] " " %5lu.%06lu: ".
 */
static void test_base_trace_roundtrip_no_flags(void **state)
{
	char line[512], again[512], sb[256];
	struct siommu_trace_record rec;

	snprintf(line, sizeof(line), "%16s-%-7d [%03d]  %5lu.%06lu: %s", "kworker/u4:3", 112, 1,
		 2ul, 615063ul, "map: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 "
		 "paddr=0x000000005a9ed000 size=4096");
	assert_string_equal(line, "    kworker/u4:3-112     [001]      2.615063: map: IOMMU: "
			    "iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x000000005a9ed000 size=4096");
	assert_int_equal(siommu_trace_parse_line(line, &rec, sb, sizeof(sb)), 0);
	assert_string_equal(rec.irq_flags, "");
	assert_int_equal(rec.ts_ns, 2615063000ull);
	assert_true(siommu_trace_format_line(&rec, again, sizeof(again)) > 0);
	assert_string_equal(again, line);
	/* a timestamp as wide as its field: still one separating space */
	rec.ts_ns = 12345678901000ull;
	assert_true(siommu_trace_format_line(&rec, again, sizeof(again)) > 0);
	assert_non_null(strstr(again, "[001]  12345.678901: map:"));
}

static void test_base_trace_bad_input(void **state)
{
	struct siommu_trace_record rec;
	struct siommu_trace_event ev = { .type = SIOMMU_TRACE_MAP, .size = 4096 };
	char sb[256], small[8];
	static const char *const malformed[] = {
		"garbage",
		"  task-1 [000] ..... 1.0: map: IOMMU: iova=0xzz - 0x1 paddr=0x0 size=1",
		"  task-1 [000] ..... 1.0: map: IOMMU: iova=0x0 - 0x2 paddr=0x0 size=1",	/* end != iova+size */
		"  task-1 [000] ..... 1.0: map: IOMMU: iova=0x0 - 0x1 paddr=0x0 size=1 extra",
		"  task [000] ..... 1.0: map: IOMMU: iova=0x0 - 0x1 paddr=0x0 size=1",	/* no pid */
		"  task-1 [000] ..... 1.0 map: IOMMU: iova=0x0 - 0x1 paddr=0x0 size=1",
		"  task-1 [000] ..... 1.0: map: IOMMU: iova=0x10000000000000000 - 0x1 paddr=0x0 size=1",
		"  task-1 [000] ..... 1.0: unmap: IOMMU: iova=0x0 - 0x1 size=1",
	};
	unsigned int i;

	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		assert_int_equal(siommu_trace_parse_line(malformed[i], &rec, sb, sizeof(sb)),
				 -EINVAL);
	assert_int_equal(siommu_trace_parse_line("# tracer: nop\n", &rec, sb, sizeof(sb)), -ENOENT);
	assert_int_equal(siommu_trace_parse_line("\n", &rec, sb, sizeof(sb)), -ENOENT);
	assert_int_equal(siommu_trace_parse_line("  t-1 [000] ..... 1.0: sched_switch: x", &rec,
						 sb, sizeof(sb)), -EOPNOTSUPP);
	assert_int_equal(siommu_trace_parse_line("  t-1 [000] ..... 1.0: map: IOMMU: iova=0x0 - 0x1 paddr=0x0 size=1",
						 &rec, sb, 1), -ENOSPC);
	assert_int_equal(siommu_trace_parse_line(NULL, &rec, sb, sizeof(sb)), -EINVAL);

	/* formatting never truncates silently */
	assert_int_equal(siommu_trace_format(&ev, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "");
	ev.type = SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN;	/* no device */
	assert_int_equal(siommu_trace_format(&ev, sb, sizeof(sb)), -EINVAL);
	ev.device = "has space";
	assert_int_equal(siommu_trace_format(&ev, sb, sizeof(sb)), -EINVAL);
	ev.type = (enum siommu_trace_type)99;
	assert_int_equal(siommu_trace_format(&ev, sb, sizeof(sb)), -EINVAL);
	assert_null(siommu_trace_type_name((enum siommu_trace_type)99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_trace_roundtrip_boot),
		cmocka_unit_test(test_base_trace_roundtrip_net),
		cmocka_unit_test(test_base_trace_parse_fields),
		cmocka_unit_test(test_base_trace_format_every_event),
		cmocka_unit_test(test_base_trace_roundtrip_no_flags),
		cmocka_unit_test(test_base_trace_bad_input),
	};

	return cmocka_run_group_tests_name("base_trace", tests, NULL, NULL);
}
