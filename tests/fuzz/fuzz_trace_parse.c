// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: the Linux trace-line parser.  Any input must be rejected
 * cleanly or parsed; a parsed line must format back into a line that parses
 * to the same record (the formatter and parser agree).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <softiommu/base.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_event(const struct siommu_trace_record *a, const struct siommu_trace_record *b)
{
	if (a->pid != b->pid || a->cpu != b->cpu || a->ev.type != b->ev.type ||
	    a->ev.iova != b->ev.iova || a->ev.paddr != b->ev.paddr ||
	    a->ev.size != b->ev.size || a->ev.unmapped_size != b->ev.unmapped_size ||
	    a->ev.flags != b->ev.flags || a->ev.gid != b->ev.gid ||
	    a->ts_ns / 1000 != b->ts_ns / 1000 || strcmp(a->task, b->task) ||
	    (a->ev.device && strcmp(a->ev.device, b->ev.device)) ||
	    (a->ev.driver && strcmp(a->ev.driver, b->ev.driver)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct siommu_trace_record rec, back;
	char sb[512], sb2[512], line[1024];
	char *in;
	int ret;

	if (size > 4096)
		return 0;
	in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	ret = siommu_trace_parse_line(in, &rec, sb, sizeof(sb));
	if (ret == 0) {
		ret = siommu_trace_format_line(&rec, line, sizeof(line));
		/* a parsed record formats unless its task cannot be printed back */
		if (ret >= 0) {
			if (siommu_trace_parse_line(line, &back, sb2, sizeof(sb2)) == 0)
				same_event(&rec, &back);
		}
	} else if (ret != -EINVAL && ret != -ENOENT && ret != -EOPNOTSUPP && ret != -ENOSPC) {
		abort();
	}
	free(in);
	return 0;
}
