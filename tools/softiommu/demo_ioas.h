/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The demo's ioas part (demo_ioas.c): a mediated device and a misbehaving access. */
#ifndef SOFTIOMMU_TOOL_DEMO_IOAS_H
#define SOFTIOMMU_TOOL_DEMO_IOAS_H

#include <stdbool.h>
#include <stdint.h>

struct demo_ioas_result {
	int err;			/* first unexpected library error, 0 none */
	uint64_t unmaps, unmap_busy;	/* the driver's unmaps; EBUSY among them */
	uint64_t asked, unpinned_asked;	/* mdev callbacks; pins they dropped */
	uint64_t pins, pin_busy, reads, writes, bad;	/* mdev: bad = poison or torn */
	uint64_t dma_ok, dma_bad;
	uint64_t late_writes, reuse_checks;
	int stuck_unmap_ret, stuck_later_ret;
	unsigned int stuck_calls;
	bool stuck_area_kept, stuck_named;
	uint64_t stuck_later_bytes;
	char stuck_log[256];
	uint64_t pinned_left;
	bool teardown_ok;
};

/* Run the ioas part (about 0.3 s).  Returns 0, or a setup error (in r->err too). */
int demo_ioas_run(struct demo_ioas_result *r);

/* The invariants of a run, as demo.c prints them. */
struct demo_ioas_check {
	const char *what;
	bool ok;
	char detail[200];
};

/* Fill at most @max checks from @r; returns how many. */
unsigned int demo_ioas_checks(const struct demo_ioas_result *r, struct demo_ioas_check *out,
			      unsigned int max);

#endif
