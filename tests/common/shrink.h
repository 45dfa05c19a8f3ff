/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Delta debugging of a failing operation list, shared by the differential
 * tests (tests/pgtable/test_pgtable_diff.c, tests/core/test_core_diff.c):
 * remove chunks of halving size while what is left still fails, cutting
 * after the failing operation each time.
 */
#ifndef SOFTIOMMU_TEST_SHRINK_H
#define SOFTIOMMU_TEST_SHRINK_H

#include <stdbool.h>
#include <string.h>

/* Runs @n elements of @list; returns the index of the one that fails, or -1. */
typedef int dd_replay_fn(void *opaque, const void *list, unsigned int n);

/*
 * Shrink the @len elements (of @size bytes) at @cur, in place, using @trial
 * (room for @len) as scratch.  Returns the new length (at least 1);
 * *@replays counts the runs of @replay.
 */
static inline unsigned int dd_shrink(void *cur, void *trial, size_t size, unsigned int len,
				     dd_replay_fn *replay, void *opaque, unsigned int *replays)
{
	unsigned char *c = cur, *t = trial;
	unsigned int chunk, start;

	*replays = 0;
	for (chunk = len / 2 ? len / 2 : 1;;) {
		bool removed = false;

		for (start = 0; start < len;) {
			unsigned int k = chunk < len - start ? chunk : len - start, tn;
			int at;

			if (k == len)
				break;		/* keep at least one element */
			memcpy(t, c, start * size);
			memcpy(t + start * size, c + (start + k) * size, (len - start - k) * size);
			tn = len - k;
			at = replay(opaque, t, tn);
			(*replays)++;
			if (at >= 0) {
				/* Still fails: keep the shorter list, cut after the failure. */
				len = (unsigned int)at + 1 < tn ? (unsigned int)at + 1 : tn;
				memcpy(c, t, len * size);
				removed = true;
			} else {
				start += k;
			}
		}
		if (!removed) {
			if (chunk == 1)
				break;
			chunk /= 2;
		} else if (chunk > len / 2 && chunk > 1) {
			chunk = len / 2 ? len / 2 : 1;
		}
	}
	return len;
}

#endif
