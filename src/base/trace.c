// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Trace events in the text format of the Linux "iommu" trace events.
 *
 * The print formats below are those of include/trace/events/iommu.h as the
 * kernel's tracefs "format" files give them (see tests/data/traces/
 * linux6.1-iommu-event-formats.txt); the line layout is ftrace's default
 * (trace_output.c): "%16s-%-7d [%03d] " then the latency flags (when
 * options/irq-info is on) then " %5lu.%06lu: %s: %s".
 *
 * The parser accepts what the kernel writes: any task name (it may contain
 * spaces, dashes and '<...>'), optional latency flags, a seconds.fraction
 * timestamp of 1 to 9 fractional digits.  It also reads `trace-cmd report`
 * lines ("%16s-%-5d [%03d] [flags] %d.%06d: name:<padding> text"): the pid
 * padding is any number of spaces and the event name may be followed by
 * several spaces.  It rejects anything else with
 * -EINVAL rather than guessing.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "softiommu/base.h"
#include "base/compiler.h"

static const char *const type_names[SIOMMU_TRACE_NR_TYPES] = {
	[SIOMMU_TRACE_ADD_DEVICE_TO_GROUP] = "add_device_to_group",
	[SIOMMU_TRACE_REMOVE_DEVICE_FROM_GROUP] = "remove_device_from_group",
	[SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN] = "attach_device_to_domain",
	[SIOMMU_TRACE_DETACH_DEVICE_FROM_DOMAIN] = "detach_device_from_domain",
	[SIOMMU_TRACE_MAP] = "map",
	[SIOMMU_TRACE_UNMAP] = "unmap",
	[SIOMMU_TRACE_IO_PAGE_FAULT] = "io_page_fault",
};

SIOMMU_API const char *siommu_trace_type_name(enum siommu_trace_type type)
{
	if ((unsigned int)type >= SIOMMU_TRACE_NR_TYPES)
		return NULL;
	return type_names[type];
}

int siommu_trace_validate(const struct siommu_trace_event *ev);
int siommu_trace_validate(const struct siommu_trace_event *ev)
{
	if (!ev || (unsigned int)ev->type >= SIOMMU_TRACE_NR_TYPES)
		return -EINVAL;
	switch (ev->type) {
	case SIOMMU_TRACE_IO_PAGE_FAULT:
		if (!ev->driver || strchr(ev->driver, ' '))
			return -EINVAL;
		/* fallthrough */
	case SIOMMU_TRACE_ADD_DEVICE_TO_GROUP:
	case SIOMMU_TRACE_REMOVE_DEVICE_FROM_GROUP:
	case SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN:
	case SIOMMU_TRACE_DETACH_DEVICE_FROM_DOMAIN:
		if (!ev->device || !ev->device[0] || strpbrk(ev->device, " \n"))
			return -EINVAL;
		break;
	default:
		break;
	}
	return 0;
}

/* snprintf that reports truncation as -ENOSPC and leaves "" behind. */
__attribute__((format(printf, 3, 4)))
static int fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	if (!buf || !len)
		return -ENOSPC;
	va_start(ap, f);
	n = vsnprintf(buf, len, f, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}

SIOMMU_API int siommu_trace_format(const struct siommu_trace_event *ev,
				   char *buf, size_t len)
{
	int ret = siommu_trace_validate(ev);

	if (ret)
		return ret;
	switch (ev->type) {
	case SIOMMU_TRACE_ADD_DEVICE_TO_GROUP:
	case SIOMMU_TRACE_REMOVE_DEVICE_FROM_GROUP:
		return fmt(buf, len, "IOMMU: groupID=%d device=%s", ev->gid, ev->device);
	case SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN:
	case SIOMMU_TRACE_DETACH_DEVICE_FROM_DOMAIN:
		return fmt(buf, len, "IOMMU: device=%s", ev->device);
	case SIOMMU_TRACE_MAP:
		return fmt(buf, len,
			   "IOMMU: iova=0x%016" PRIx64 " - 0x%016" PRIx64 " paddr=0x%016" PRIx64 " size=%" PRIu64,
			   ev->iova, ev->iova + ev->size, ev->paddr, ev->size);
	case SIOMMU_TRACE_UNMAP:
		return fmt(buf, len,
			   "IOMMU: iova=0x%016" PRIx64 " - 0x%016" PRIx64 " size=%" PRIu64 " unmapped_size=%" PRIu64,
			   ev->iova, ev->iova + ev->size, ev->size, ev->unmapped_size);
	case SIOMMU_TRACE_IO_PAGE_FAULT:
		return fmt(buf, len, "IOMMU:%s %s iova=0x%016" PRIx64 " flags=0x%04x",
			   ev->driver, ev->device, ev->iova, ev->flags);
	default:
		return -EINVAL;
	}
}

SIOMMU_API int siommu_trace_format_line(const struct siommu_trace_record *rec,
					char *buf, size_t len)
{
	char text[512];
	int ret;

	if (!rec || !rec->task || rec->pid < 0 || rec->cpu < 0)
		return -EINVAL;
	if (rec->irq_flags[0] && strnlen(rec->irq_flags, sizeof(rec->irq_flags)) != 5)
		return -EINVAL;
	ret = siommu_trace_format(&rec->ev, text, sizeof(text));
	if (ret < 0)
		return ret;
	/*
	 * As trace_print_context(): "[%03d] ", the flags (irq-info on), then
	 * " %5lu.%06lu": without flags two spaces precede the time field.
	 */
	return fmt(buf, len, "%16s-%-7d [%03d] %s %5" PRIu64 ".%06" PRIu64 ": %s: %s",
		   rec->task, rec->pid, rec->cpu, rec->irq_flags,
		   (uint64_t)(rec->ts_ns / 1000000000u), (uint64_t)((rec->ts_ns / 1000u) % 1000000u),
		   type_names[rec->ev.type], text);
}

/* ---- parsing ---- */

struct cursor {
	const char *p;
};

static bool eat(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(c->p, lit, n))
		return false;
	c->p += n;
	return true;
}

static bool eat_hex(struct cursor *c, uint64_t *v)
{
	const char *s = c->p;
	uint64_t x = 0;
	int digits = 0;

	/* no <ctype.h> here: the locale lookups cost more than the parse */
	for (;; s++, digits++) {
		unsigned int d = (unsigned char)*s - '0', l = ((unsigned char)*s | 0x20) - 'a';

		if (d < 10)
			;
		else if (l < 6)
			d = l + 10;
		else
			break;
		if (x >> 60)
			return false;	/* overflow */
		x = x * 16 + d;
	}
	if (!digits)
		return false;
	c->p = s;
	*v = x;
	return true;
}

static bool eat_dec(struct cursor *c, uint64_t *v)
{
	const char *s = c->p;
	uint64_t x = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		if (__builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, (uint64_t)(*s - '0'), &x))
			return false;
		s++;
	}
	c->p = s;
	*v = x;
	return true;
}

static bool eat_int(struct cursor *c, int *v)
{
	bool neg = eat(c, "-");
	uint64_t x;

	if (!eat_dec(c, &x) || x > (uint64_t)INT32_MAX + neg)
		return false;
	*v = neg ? -(int)(x - 1) - 1 : (int)x;
	return true;
}

/* Copy [s, e) into the string buffer; NULL if it does not fit. */
static const char *save(char **sb, size_t *left, const char *s, const char *e)
{
	size_t n = (size_t)(e - s);
	char *d = *sb;

	if (n + 1 > *left)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	*sb += n + 1;
	*left -= n + 1;
	return d;
}

/* A word: up to the next space or end; saved. */
static const char *eat_word(struct cursor *c, char **sb, size_t *left, bool *nospc)
{
	const char *s = c->p, *r;

	while (*c->p && *c->p != ' ' && *c->p != '\n')
		c->p++;
	if (c->p == s)
		return NULL;
	r = save(sb, left, s, c->p);
	if (!r)
		*nospc = true;
	return r;
}

static bool at_end(struct cursor *c)
{
	return *c->p == '\0' || (c->p[0] == '\n' && c->p[1] == '\0');
}

static int parse_text(enum siommu_trace_type type, struct cursor *c,
		      struct siommu_trace_event *ev, char **sb, size_t *left)
{
	bool nospc = false;
	uint64_t end, v;

	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	switch (type) {
	case SIOMMU_TRACE_ADD_DEVICE_TO_GROUP:
	case SIOMMU_TRACE_REMOVE_DEVICE_FROM_GROUP:
		if (!eat(c, "IOMMU: groupID=") || !eat_int(c, &ev->gid) ||
		    !eat(c, " device="))
			return -EINVAL;
		ev->device = eat_word(c, sb, left, &nospc);
		break;
	case SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN:
	case SIOMMU_TRACE_DETACH_DEVICE_FROM_DOMAIN:
		if (!eat(c, "IOMMU: device="))
			return -EINVAL;
		ev->device = eat_word(c, sb, left, &nospc);
		break;
	case SIOMMU_TRACE_MAP:
		if (!eat(c, "IOMMU: iova=0x") || !eat_hex(c, &ev->iova) ||
		    !eat(c, " - 0x") || !eat_hex(c, &end) ||
		    !eat(c, " paddr=0x") || !eat_hex(c, &ev->paddr) ||
		    !eat(c, " size=") || !eat_dec(c, &ev->size))
			return -EINVAL;
		if (ev->iova + ev->size != end)	/* the kernel prints iova + size */
			return -EINVAL;
		break;
	case SIOMMU_TRACE_UNMAP:
		if (!eat(c, "IOMMU: iova=0x") || !eat_hex(c, &ev->iova) ||
		    !eat(c, " - 0x") || !eat_hex(c, &end) ||
		    !eat(c, " size=") || !eat_dec(c, &ev->size) ||
		    !eat(c, " unmapped_size=") || !eat_dec(c, &ev->unmapped_size))
			return -EINVAL;
		if (ev->iova + ev->size != end)
			return -EINVAL;
		break;
	case SIOMMU_TRACE_IO_PAGE_FAULT:
		if (!eat(c, "IOMMU:"))
			return -EINVAL;
		ev->driver = eat_word(c, sb, left, &nospc);
		if (!ev->driver && !nospc)
			ev->driver = save(sb, left, "", "");
		if (!eat(c, " "))
			return -EINVAL;
		ev->device = eat_word(c, sb, left, &nospc);
		if (!eat(c, " iova=0x") || !eat_hex(c, &ev->iova) ||
		    !eat(c, " flags=0x") || !eat_hex(c, &v) || v > INT32_MAX)
			return -EINVAL;
		ev->flags = (int)v;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (nospc)
		return -ENOSPC;
	if (type != SIOMMU_TRACE_MAP && type != SIOMMU_TRACE_UNMAP && !ev->device)
		return -EINVAL;
	if (type == SIOMMU_TRACE_IO_PAGE_FAULT && !ev->driver)
		return -ENOSPC;
	return at_end(c) ? 0 : -EINVAL;
}

SIOMMU_API int siommu_trace_parse_line(const char *line,
				       struct siommu_trace_record *rec,
				       char *strbuf, size_t strbuf_len)
{
	const char *p, *cpu_open, *dash, *task_start, *name;
	struct cursor c;
	uint64_t v, sec, frac;
	size_t left = strbuf_len;
	char *sb = strbuf;
	unsigned int i, nfrac;

	if (!line || !rec || !strbuf)
		return -EINVAL;
	p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '\n' || *p == '#')
		return -ENOENT;
	memset(rec, 0, sizeof(*rec));

	/* "TASK-PID   [CPU]": find the first " [digits]" */
	cpu_open = NULL;
	for (const char *q = p; (q = strstr(q, " [")) != NULL; q++) {
		const char *d = q + 2;

		while (isdigit((unsigned char)*d))
			d++;
		if (d > q + 2 && *d == ']') {
			cpu_open = q;
			break;
		}
	}
	if (!cpu_open)
		return -EINVAL;
	/* back over the padding to the end of the pid */
	const char *pid_end = cpu_open;

	while (pid_end > p && pid_end[-1] == ' ')
		pid_end--;
	dash = pid_end;
	while (dash > p && isdigit((unsigned char)dash[-1]))
		dash--;
	if (dash == pid_end || dash == p || dash[-1] != '-')
		return -EINVAL;
	c.p = dash;
	if (!eat_dec(&c, &v) || v > INT32_MAX)
		return -EINVAL;
	rec->pid = (int)v;
	task_start = p;
	rec->task = save(&sb, &left, task_start, dash - 1);
	if (!rec->task)
		return -ENOSPC;

	c.p = cpu_open + 2;
	if (!eat_dec(&c, &v) || v > INT32_MAX || !eat(&c, "]"))
		return -EINVAL;
	rec->cpu = (int)v;
	if (!eat(&c, " "))
		return -EINVAL;
	/* optional latency flags: 4 or 5 non-space characters, then a space */
	if (!isdigit((unsigned char)*c.p) && *c.p != ' ') {
		const char *f = c.p;

		while (*c.p && *c.p != ' ')
			c.p++;
		if (c.p - f < 4 || c.p - f > 5)
			return -EINVAL;
		memcpy(rec->irq_flags, f, (size_t)(c.p - f));
		rec->irq_flags[c.p - f] = '\0';
	}
	while (*c.p == ' ')
		c.p++;
	if (!eat_dec(&c, &sec) || !eat(&c, "."))
		return -EINVAL;
	p = c.p;
	if (!eat_dec(&c, &frac))
		return -EINVAL;
	nfrac = (unsigned int)(c.p - p);
	if (nfrac > 9 || sec > UINT64_MAX / 1000000000ull - 1)
		return -EINVAL;
	for (i = nfrac; i < 9; i++)
		frac *= 10;
	rec->ts_ns = sec * 1000000000ull + frac;
	if (!eat(&c, ": "))
		return -EINVAL;

	name = c.p;
	while (*c.p && *c.p != ':' && *c.p != ' ')
		c.p++;
	size_t name_len = (size_t)(c.p - name);

	/* trace-cmd report pads the "name:" column with spaces */
	if (!name_len || !eat(&c, ": "))
		return -EINVAL;
	while (*c.p == ' ')
		c.p++;
	for (i = 0; i < SIOMMU_TRACE_NR_TYPES; i++) {
		if (strlen(type_names[i]) == name_len &&
		    !strncmp(type_names[i], name, name_len))
			return parse_text((enum siommu_trace_type)i, &c, &rec->ev,
					  &sb, &left);
	}
	return -EOPNOTSUPP;
}
