// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The smallest program against the installed libsoftiommu: create a
 * context, route its trace events to stdout in the Linux ftrace layout,
 * emit one, and clean up.
 *
 *   cc hello.c $(pkg-config --cflags --libs softiommu) -o hello
 */
#include <stdio.h>
#include <softiommu/softiommu.h>

static void print_trace(void *opaque, const struct siommu_trace_record *rec)
{
	char text[256];

	(void)opaque;
	if (siommu_trace_format(&rec->ev, text, sizeof(text)) >= 0)
		printf("%s: %s\n", siommu_trace_type_name(rec->ev.type), text);
}

int main(void)
{
	struct siommu_trace_event ev = {
		.type = SIOMMU_TRACE_MAP, .iova = 0x100000, .paddr = 0x4000000, .size = 4096,
	};
	struct siommu_ctx *ctx;
	int ret;

	ret = siommu_ctx_create(&ctx);
	if (ret) {
		fprintf(stderr, "hello: %s\n", siommu_strerror(ret));
		return 1;
	}
	siommu_ctx_set_trace(ctx, print_trace, NULL);
	siommu_trace_emit(ctx, &ev);
	siommu_read_lock();
	printf("inside a read-side section: %s\n", siommu_read_ongoing() ? "yes" : "no");
	siommu_read_unlock();
	ret = siommu_ctx_destroy(ctx);
	printf("libsoftiommu %s: %s\n", siommu_version(), ret ? siommu_strerror(ret) : "OK");
	return ret ? 1 : 0;
}
