// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: the replay input (any bytes: text of any layout, gzip, xz)
 * and everything a replay does with what it read (exact mode, the Linux
 * model forced and free-running, what-if).  Nothing may crash, leak or
 * trip a sanitizer, and the report must add up: every line is an event, a
 * comment, another event or a bad line; every bad line is an issue; live
 * mappings never exceed the maps.  The first byte picks options (strict,
 * lazy, 6.12, small flush queue, not PCI, the Linux-compatible table), so
 * one corpus covers them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/base.h>
#include <softiommu/replay.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void log_none(void *opaque, enum siommu_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct siommu_replay_opts o = { .predict = true, .whatif = true };
	const struct siommu_replay_report *p;
	struct siommu_replay *r;
	struct siommu_ctx *ctx;
	uint64_t total = 0;
	unsigned int k;
	int ret;

	if (size > (1u << 20))
		return 0;
	if (size && (data[0] < 0x20 || data[0] >= 0xe0)) {
		/*
		 * A control byte picks options and is not part of the input
		 * (0xe0-0xff: the same, with the Linux-compatible table).
		 */
		o.linux_pt = data[0] >= 0xe0;
		o.strict = data[0] & 1;
		o.lazy_trace = data[0] & 2;
		o.linux_version = (data[0] & 4) ? SIOMMU_REPLAY_LINUX_6_12 : SIOMMU_REPLAY_LINUX_6_1;
		o.fq_size = (data[0] & 8) ? 2 : 0;
		o.not_pci = data[0] & 16;
		data++;
		size--;
	}
	if (siommu_ctx_create(&ctx))
		return 0;
	siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, log_none, NULL);
	if (siommu_replay_create(ctx, &o, &r)) {
		siommu_ctx_destroy(ctx);
		return 0;
	}
	ret = siommu_replay_read_buf(r, "fuzz", data, size);
	if (ret && ret != -EINVAL && ret != -ENOMEM)
		abort();
	p = siommu_replay_get_report(r);
	if (!ret && p->lines != p->events + p->comments + p->other_events + p->bad_lines)
		abort();
	if (ret == -EINVAL && !p->bad_lines)
		abort();	/* -EINVAL only with an issue saying where */
	if (!ret) {
		ret = siommu_replay_run(r);
		if (ret && ret != -ENOMEM)
			abort();
		if (!ret && (p->peak_live_maps > p->by_type[SIOMMU_TRACE_MAP] ||
			     p->end_live_bytes > p->mapped_bytes ||
			     p->pred_forced_hits > p->pred_total || p->pred_free_hits > p->pred_total))
			abort();
	}
	for (k = 0; k < SIOMMU_REPLAY_NR_ISSUE_KINDS; k++)
		total += p->issues[k];
	if (p->issues[SIOMMU_REPLAY_BAD_LINE] != p->bad_lines)
		abort();
	for (size_t i = 0; i < total && i < 10000; i++) {
		const struct siommu_replay_issue *is = siommu_replay_issue(r, i);

		if (!is || !is->msg || !is->file || (unsigned int)is->kind >= SIOMMU_REPLAY_NR_ISSUE_KINDS)
			abort();
	}
	siommu_replay_destroy(r);
	if (siommu_ctx_destroy(ctx))
		abort();
	return 0;
}
