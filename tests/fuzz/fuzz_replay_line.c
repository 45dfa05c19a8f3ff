// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: the replay's fast line reader (src/replay/fastline.c)
 * against the general parser, siommu_trace_parse_line().  The input is cut
 * into lines as the replay cuts it; for every line the fast path accepts,
 * the general parser must accept the same line (as the replay hands it over:
 * without its newline, one '\r' before it dropped) with the same fields, and
 * the fast path must have consumed exactly that line and its newline.  A
 * trace file given whole is read line by line too, so the real traces in
 * tests/data/traces are its seed corpus.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/base.h>
#include "replay/replay_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *s, size_t avail)
{
	static char line[RP_MAX_LINE + 1], sb[RP_MAX_LINE + 64];
	struct siommu_trace_record rec;
	const char *nl = memchr(s, '\n', avail);
	size_t n = nl ? (size_t)(nl - s) : avail, got, want = n + (nl ? 1 : 0);
	struct rp_line l;

	got = rp_fast_line(s, avail, &l);
	if (!got)
		return;
	if (got != want)
		abort();		/* it must end where the line ends */
	if (n && s[n - 1] == '\r')
		n--;
	if (n > RP_MAX_LINE || memchr(s, '\0', n))
		abort();		/* lines the replay refuses before parsing */
	memcpy(line, s, n);
	line[n] = '\0';
	if (siommu_trace_parse_line(line, &rec, sb, sizeof(sb)))
		abort();
	if (rec.ev.type != l.type || rec.ts_ns != l.ts || rec.pid != l.pid || rec.cpu != l.cpu ||
	    rec.ev.iova != l.iova || rec.ev.size != l.size || l.device ||
	    l.x != (l.type == SIOMMU_TRACE_MAP ? rec.ev.paddr : rec.ev.unmapped_size))
		abort();
	if (l.type != SIOMMU_TRACE_MAP && l.type != SIOMMU_TRACE_UNMAP)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t pos = 0;

	/* a copy exactly as long as the input, so ASan sees any read past it */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, s, size);
	while (pos < size) {
		const char *nl = memchr(buf + pos, '\n', size - pos);

		check_line(buf + pos, size - pos);
		pos = nl ? (size_t)(nl - buf) + 1 : size;
	}
	free(buf);
	return 0;
}
