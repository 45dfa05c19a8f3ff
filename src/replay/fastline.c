// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fast path of the replay's line reader: map and unmap lines, which are
 * all but a handful of the lines of a real trace, read in place (no copy of
 * the line, no NUL terminator needed, no memchr for the newline first).
 *
 * It is a strict subset of siommu_trace_parse_line() (src/base/trace.c): a
 * line it accepts is one the general parser accepts with the same fields
 * (the fuzz target fuzz_replay_line checks exactly this on any input, and
 * test_replay_fastline on hand-made edge cases).  Whatever it is not sure
 * of (a comment, another event, a NUL byte, a task name with a '[', a
 * value that might overflow, a line longer than RP_MAX_LINE, a '\r' that
 * is not the one before the newline) it leaves to the general parser by
 * returning 0, so the two always give the same result and the same issues.
 * Hex fields that are not 16 lower-case digits (short ones, upper case) are
 * read a digit at a time, as the general parser reads them.
 *
 * Why it is faster (measured with callgrind on 64 copies of the strict net
 * trace, see docs/modules/replay.md): the general path copies the line,
 * runs memchr, strstr and strncmp over it, fills a record of strings and
 * parses each of the three 16-digit hex fields a digit at a time; here the
 * hex fields are converted 8 digits at a time (SWAR) and nothing is copied.
 */
#include <stdint.h>
#include <string.h>

#include "softiommu/base.h"
#include "replay/replay_internal.h"

/* The helpers must inline: each is called with constants the compiler folds. */
#define ALWAYS_INLINE	__attribute__((always_inline)) inline

#define ONES	0x0101010101010101ull
#define HIGHS	0x8080808080808080ull

static inline uint64_t load8(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;	/* little-endian: p[0] in the low byte */
}

/*
 * Eight lower-case hex digits at @p (all of [p, p + 8) readable) into
 * *@out.  False if any byte is not 0-9 or a-f.
 */
/*
 * The top bit of each byte of @v that is zero.  Exact for every byte (no
 * carry crosses a byte: (b & 0x7f) + 0x7f <= 0xfe), unlike the shorter
 * (v - ONES) & ~v trick, which may also mark a 0x01 byte above a zero one.
 */
static ALWAYS_INLINE uint64_t zero_bytes(uint64_t v)
{
	return ~(((v & ~HIGHS) + ~HIGHS) | v) & HIGHS;
}

/* Skip spaces from @p, 8 at a time while 8 bytes are readable before @end. */
static ALWAYS_INLINE const char *skip_spaces(const char *p, const char *end)
{
	while (end - p >= 8) {
		uint64_t z = zero_bytes(load8(p) ^ (' ' * ONES));

		if ((~z & HIGHS) != 0) {
			/* the first byte that is not a space */
			uint64_t nz = ~z & HIGHS;

			return p + (__builtin_ctzll(nz) >> 3);
		}
		p += 8;
	}
	while (p < end && *p == ' ')
		p++;
	return p;
}

/* The first '[', '\n' or NUL from @p, 8 bytes at a time; @end if none. */
static ALWAYS_INLINE const char *find_bracket(const char *p, const char *end)
{
	while (end - p >= 8) {
		uint64_t v = load8(p);
		uint64_t z = zero_bytes(v ^ ('[' * ONES)) | zero_bytes(v ^ ('\n' * ONES)) |
			     zero_bytes(v);

		if (z)
			return p + (__builtin_ctzll(z) >> 3);
		p += 8;
	}
	while (p < end && *p != '[' && *p != '\n' && *p != '\0')
		p++;
	return p;
}

static ALWAYS_INLINE bool hex8(const char *p, uint32_t *out)
{
	uint64_t v = load8(p), digit, af, nib;

	if (v & HIGHS)
		return false;
	/* with every byte below 0x80, adding (0x80 - k) sets its top bit iff byte >= k */
	digit = (v + (0x80 - 0x30) * ONES) & ~(v + (0x80 - 0x3a) * ONES) & HIGHS;
	af = (v + (0x80 - 0x61) * ONES) & ~(v + (0x80 - 0x67) * ONES) & HIGHS;
	if ((digit | af) != HIGHS)
		return false;
	nib = (v & 0x0f0f0f0f0f0f0f0full) + (af >> 7) * 9;	/* 'a' & 0xf = 1, + 9 = 10 */
	nib = (nib << 4 | nib >> 8) & 0x00ff00ff00ff00ffull;
	nib = (nib << 8 | nib >> 16) & 0x0000ffff0000ffffull;
	nib = (nib << 16 | nib >> 32) & 0x00000000ffffffffull;
	*out = (uint32_t)nib;
	return true;
}

static ALWAYS_INLINE bool is_hex(char c)
{
	return (unsigned char)(c - '0') < 10 || (unsigned char)((c | 0x20) - 'a') < 6;
}

/* As eat_hex() of trace.c, bounded by @end; the 16-digit case 8 digits at a time. */
static ALWAYS_INLINE bool rd_hex(const char **pp, const char *end, uint64_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;
	uint32_t hi, lo;

	if (end - p >= 17 && hex8(p, &hi) && hex8(p + 8, &lo) && !is_hex(p[16])) {
		*v = (uint64_t)hi << 32 | lo;
		*pp = p + 16;
		return true;
	}
	/* a short or odd field: a digit at a time, upper case included */
	for (; p < end; p++) {
		unsigned int d = (unsigned char)*p - '0', l = ((unsigned char)*p | 0x20) - 'a';

		if (d < 10)
			;
		else if (l < 6)
			d = l + 10;
		else
			break;
		if (x >> 60)
			return false;
		x = x * 16 + d;
	}
	if (p == *pp)
		return false;
	*pp = p;
	*v = x;
	return true;
}

/*
 * As eat_dec() of trace.c, bounded by @end; at most 19 digits (no overflow
 * possible).  A number of 1 to 7 digits with 8 bytes readable (every field
 * of a map or unmap line but the odd long one) is converted at once: the
 * digits shifted to the top of the word (zeros above them are leading
 * zeros), then pairs, quads and the two halves combined by multiplication.
 */
static ALWAYS_INLINE bool rd_dec(const char **pp, const char *end, uint64_t *v)
{
	const char *p = *pp, *e, *d;
	uint64_t x = 0;

	if (end - p >= 8) {
		uint64_t w = load8(p), lo = w & ~HIGHS, dig, k;

		/* bytes 0x30-0x39; the top bits cleared first so that no add carries */
		dig = (lo + (0x80 - 0x30) * ONES) & ~(lo + (0x80 - 0x3a) * ONES) & ~w & HIGHS;
		dig = ~dig & HIGHS;			/* the non-digits */
		if (dig) {
			k = (uint64_t)__builtin_ctzll(dig) >> 3;	/* digits before the first non-digit */
			if (!k)
				return false;
			w = (w - 0x30 * ONES) << (8 * (8 - k));
			w = (w * 10 + (w >> 8)) & 0x00ff00ff00ff00ffull;
			w = (w * 100 + (w >> 16)) & 0x0000ffff0000ffffull;
			w = (w * 10000 + (w >> 32)) & 0x00000000ffffffffull;
			*pp = p + k;
			*v = w;
			return true;
		}
	}
	e = end - p > 19 ? p + 19 : end;
	while (p < e && (unsigned char)(*p - '0') < 10)
		p++;
	if (p == *pp || (p < end && (unsigned char)(*p - '0') < 10))
		return false;	/* none, or 20 or more: the general parser decides */
	for (d = *pp; d < p; d++)
		x = x * 10 + (uint64_t)(*d - '0');
	*pp = p;
	*v = x;
	return true;
}

static ALWAYS_INLINE uint32_t load4(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/*
 * The literal @s (@n bytes, a compile-time constant) at *@pp: whole words
 * compared, the last one overlapping (memcmp() was a call per literal).
 */
static ALWAYS_INLINE bool lit(const char **pp, const char *end,
						      const char *s, size_t n)
{
	const char *p = *pp;
	bool eq;

	if ((size_t)(end - p) < n)
		return false;
#ifndef __OPTIMIZE__
	/*
	 * Unoptimised (-O0, the coverage build): the branches below are not
	 * folded for the constant @n, and gcc warns about the dead ones.
	 */
	eq = !memcmp(p, s, n);
#else
	if (n >= 16)
		eq = load8(p) == load8(s) && load8(p + 8) == load8(s + 8) &&
		     load8(p + n - 8) == load8(s + n - 8) && !memcmp(p + 16, s + 16, n - 16);
	else if (n >= 8)
		eq = load8(p) == load8(s) && load8(p + n - 8) == load8(s + n - 8);
	else if (n >= 4)
		eq = load4(p) == load4(s) && load4(p + n - 4) == load4(s + n - 4);
	else
		eq = !memcmp(p, s, n);
#endif
	if (!eq)
		return false;
	*pp = p + n;
	return true;
}
#define LIT(pp, end, s) lit(pp, end, s, sizeof(s) - 1)

size_t rp_fast_line(const char *s, size_t avail, struct rp_line *out)
{
	const char *end = s + (avail > RP_MAX_LINE + 2 ? RP_MAX_LINE + 2 : avail);
	const char *p = s, *q, *cpu_open, *pid_end, *dash, *f;
	uint64_t v, sec, frac, last;
	unsigned int nfrac;

	p = skip_spaces(p, end);
	if (p == end || *p == '#' || *p == '\n' || *p == '\0' || *p == '\t')
		return 0;
	/*
	 * The first " [digits]" is the general parser's CPU column.  Here: the
	 * first '[' of the line must be it (a task name with a '[' in it goes to
	 * the general parser).
	 */
	q = find_bracket(p, end);
	if (q == end || *q != '[' || q == p || q[-1] != ' ')
		return 0;
	{
		const char *d = q + 1;

		while (d < end && (unsigned char)(*d - '0') < 10)
			d++;
		if (d == q + 1 || d == end || *d != ']')
			return 0;
	}
	cpu_open = q - 1;
	pid_end = cpu_open;
	while (pid_end > p && pid_end[-1] == ' ')
		pid_end--;
	dash = pid_end;
	while (dash > p && (unsigned char)(dash[-1] - '0') < 10)
		dash--;
	if (dash == pid_end || dash == p || dash[-1] != '-')
		return 0;
	q = dash;
	if (!rd_dec(&q, pid_end, &v) || q != pid_end || v > INT32_MAX)
		return 0;
	out->pid = (int32_t)v;
	p = cpu_open + 2;
	if (!rd_dec(&p, end, &v) || v > INT32_MAX || !LIT(&p, end, "] "))
		return 0;
	out->cpu = (int32_t)v;
	/* optional latency flags: 4 or 5 characters other than space, NUL, newline */
	if (p < end && (unsigned char)(*p - '0') >= 10 && *p != ' ') {
		f = p;
		while (p < end && *p != ' ' && *p != '\n' && *p != '\0')
			p++;
		if (p - f < 4 || p - f > 5 || p == end || *p != ' ')
			return 0;
	}
	p = skip_spaces(p, end);
	if (!rd_dec(&p, end, &sec) || !LIT(&p, end, "."))
		return 0;
	q = p;
	if (!rd_dec(&p, end, &frac))
		return 0;
	nfrac = (unsigned int)(p - q);
	if (nfrac > 9 || sec > UINT64_MAX / 1000000000ull - 1)
		return 0;
	for (; nfrac < 9; nfrac++)
		frac *= 10;
	out->ts = sec * 1000000000ull + frac;
	if (LIT(&p, end, ": map: ")) {
		out->type = SIOMMU_TRACE_MAP;
	} else if (LIT(&p, end, ": unmap: ")) {
		out->type = SIOMMU_TRACE_UNMAP;
	} else {
		return 0;	/* other events */
	}
	while (p < end && *p == ' ')
		p++;
	if (!LIT(&p, end, "IOMMU: iova=0x") || !rd_hex(&p, end, &out->iova) ||
	    !LIT(&p, end, " - 0x") || !rd_hex(&p, end, &last))
		return 0;
	if (out->type == SIOMMU_TRACE_MAP) {
		if (!LIT(&p, end, " paddr=0x") || !rd_hex(&p, end, &out->x) ||
		    !LIT(&p, end, " size=") || !rd_dec(&p, end, &out->size))
			return 0;
	} else {
		if (!LIT(&p, end, " size=") || !rd_dec(&p, end, &out->size) ||
		    !LIT(&p, end, " unmapped_size=") || !rd_dec(&p, end, &out->x))
			return 0;
	}
	if (out->iova + out->size != last)	/* the kernel prints iova + size */
		return 0;
	out->device = NULL;
	/* the end of the line: what is left must be "\n", "\r\n" or nothing */
	if (p - s > RP_MAX_LINE)
		return 0;
	if (p == s + avail)
		return (size_t)(p - s);
	if (*p == '\n')
		return (size_t)(p - s) + 1;
	if (*p == '\r' && p + 1 < s + avail && p[1] == '\n')
		return (size_t)(p - s) + 2;
	return 0;
}
