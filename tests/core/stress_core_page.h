// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pages of the core stress tests: a page filled with one 64-bit word, and
 * the check a page leaving quarantine must pass (still all POISON: nothing
 * wrote it after its unmap returned).  Include after test_common.h.
 */
#ifndef STRESS_CORE_PAGE_H
#define STRESS_CORE_PAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define PG		4096u
#define WORDS		(PG / 8)
#define POISON		0xdeadbeefdeadbeefull

/* A page-aligned page whose every word is @word (cmocka-fails on ENOMEM). */
static inline uint64_t *buf_new(uint64_t word)
{
	uint64_t *b = NULL;
	unsigned int i;

	assert_int_equal(posix_memalign((void **)&b, PG, PG), 0);
	for (i = 0; i < WORDS; i++)
		b[i] = word;
	return b;
}

/* Frees @b; returns false if a word of it is no longer POISON. */
static inline bool buf_free_poisoned(uint64_t *b)
{
	bool ok = true;
	unsigned int i;

	for (i = 0; i < WORDS; i++) {
		if (b[i] != POISON) {
			ok = false;
			break;
		}
	}
	free(b);
	return ok;
}

#endif
