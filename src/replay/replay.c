// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Replay: the object, the input (files, standard input, gzip, xz) and the
 * line parser on top of siommu_trace_parse_line() (src/base/trace.c), which
 * reads both ftrace layouts and trace-cmd report's.  trace-cmd's header
 * lines ("version = 6", "cpus=2", "CPU 1 is empty", "CPU:0 [LOST 3 EVENTS]")
 * count as comments.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "softiommu/replay.h"
#include "base/alloc.h"
#include "replay/replay_internal.h"

static const char *const issue_names[SIOMMU_REPLAY_NR_ISSUE_KINDS] = {
	[SIOMMU_REPLAY_BAD_LINE] = "bad-line",
	[SIOMMU_REPLAY_MAP_OVER_LIVE] = "map-over-live",
	[SIOMMU_REPLAY_UNMAP_NOTHING] = "unmap-nothing",
	[SIOMMU_REPLAY_UNMAP_PARTIAL] = "unmap-partial",
	[SIOMMU_REPLAY_UNMAP_SIZE] = "unmap-size",
	[SIOMMU_REPLAY_MAP_REFUSED] = "map-refused",
	[SIOMMU_REPLAY_TIME_BACKWARDS] = "time-backwards",
};

static const char *const policy_names[SIOMMU_REPLAY_NR_POLICIES] = {
	[SIOMMU_REPLAY_POL_LINUX] = "linux",
	[SIOMMU_REPLAY_POL_SOFTIOMMU] = "softiommu",
	[SIOMMU_REPLAY_POL_FIRSTFIT] = "first-fit",
};

SIOMMU_API const char *siommu_replay_issue_kind_name(enum siommu_replay_issue_kind kind)
{
	if ((unsigned int)kind >= SIOMMU_REPLAY_NR_ISSUE_KINDS)
		return NULL;
	return issue_names[kind];
}

SIOMMU_API const char *siommu_replay_policy_name(enum siommu_replay_policy pol)
{
	if ((unsigned int)pol >= SIOMMU_REPLAY_NR_POLICIES)
		return NULL;
	return policy_names[pol];
}

int rp_grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return -ENOMEM;
		ncap *= 2;
	}
	if (siommu_should_fail())
		return -ENOMEM;
	n = realloc(*arr, ncap * size);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

int rp_issue(struct siommu_replay *r, enum siommu_replay_issue_kind kind,
	     uint32_t file, uint64_t line, const char *fmt, ...)
{
	struct rp_issue_rec *is;
	char buf[512];
	va_list ap;

	r->rep.issues[kind]++;
	if (kind == SIOMMU_REPLAY_BAD_LINE)
		r->rep.bad_lines++;
	if (r->nr_issues >= RP_MAX_ISSUES)
		return 0;
	if (rp_grow((void **)&r->issues, &r->cap_issues, r->nr_issues + 1, sizeof(*r->issues)))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	is = &r->issues[r->nr_issues];
	is->msg = siommu_strdup(buf);
	if (!is->msg)
		return -ENOMEM;
	is->pub.kind = kind;
	is->pub.file = r->files[file];
	is->pub.line = line;
	is->pub.msg = is->msg;
	r->nr_issues++;
	return 0;
}

SIOMMU_API int siommu_replay_create(struct siommu_ctx *ctx,
				    const struct siommu_replay_opts *opts,
				    struct siommu_replay **out)
{
	struct siommu_replay *r;
	unsigned int i;

	if (!ctx || !out)
		return -EINVAL;
	r = siommu_zalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (opts)
		r->opts = *opts;
	r->ctx = ctx;
	if (!r->opts.fmt)
		r->opts.fmt = SIOMMU_PT_FMT_VTD_SS;
	if (!r->opts.ias_lg2)
		r->opts.ias_lg2 = 39;
	if (!r->opts.dma_mask_lg2)
		r->opts.dma_mask_lg2 = 64;
	if (!r->opts.fq_size)
		r->opts.fq_size = 256;
	if (!r->opts.fq_timeout_ns)
		r->opts.fq_timeout_ns = 10000000;
	if (!r->opts.nr_tlbs) {
		r->opts.nr_tlbs = 2;
		r->opts.tlb[0] = (struct siommu_replay_tlb_geom){ 64, 4 };
		r->opts.tlb[1] = (struct siommu_replay_tlb_geom){ 512, 8 };
	}
	if (r->opts.nr_tlbs > SIOMMU_REPLAY_MAX_TLBS ||
	    r->opts.nr_reserved > SIOMMU_REPLAY_MAX_RESERVED ||
	    r->opts.ias_lg2 < 21 || r->opts.ias_lg2 > 57 ||
	    r->opts.dma_mask_lg2 < 24 || r->opts.dma_mask_lg2 > 64 ||
	    r->opts.fq_size > 65536 ||
	    (unsigned int)r->opts.linux_version > SIOMMU_REPLAY_LINUX_6_12)
		goto inval;
	for (i = 0; i < r->opts.nr_tlbs; i++) {
		const struct siommu_replay_tlb_geom *g = &r->opts.tlb[i];

		if (!g->sets || (g->sets & (g->sets - 1)) || g->sets > 65536 ||
		    !g->ways || g->ways > 64)
			goto inval;
	}
	for (i = 0; i < r->opts.nr_reserved; i++)
		if (r->opts.reserved[i][0] > r->opts.reserved[i][1])
			goto inval;
	*out = r;
	return 0;
inval:
	siommu_free(r);
	return -EINVAL;
}

SIOMMU_API void siommu_replay_destroy(struct siommu_replay *r)
{
	size_t i;

	if (!r)
		return;
	if (r->pt)
		siommu_pt_destroy(r->pt);
	for (i = 0; i < r->nr_files; i++)
		siommu_free(r->files[i]);
	for (i = 0; i < r->nr_devs; i++)
		siommu_free(r->devs[i]);
	for (i = 0; i < r->nr_issues; i++)
		siommu_free(r->issues[i].msg);
	siommu_free(r->files);
	siommu_free(r->devs);
	siommu_free(r->issues);
	siommu_free(r->ev);
	siommu_free(r->samples);
	siommu_free(r->ops);
	siommu_free(r->pred_ts);
	siommu_free(r->pred_forced);
	siommu_free(r->pred_free);
	siommu_free(r);
}

/* ---- lines ---- */

static bool starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* trace-cmd report's header and per-CPU notes. */
static bool tracecmd_header(const char *s)
{
	unsigned int a, b;
	int n = -1;

	while (*s == ' ')
		s++;
	if (starts(s, "version = ") || starts(s, "cpus="))
		return true;
	if (sscanf(s, "CPU %u is empty%n", &a, &n) == 1 && n > 0 && !s[n])
		return true;
	n = -1;
	if ((sscanf(s, "CPU:%u [LOST %u EVENTS]%n", &a, &b, &n) == 2 ||
	     sscanf(s, "CPU %u [LOST %u EVENTS]%n", &a, &b, &n) == 2) && n > 0 && !s[n])
		return true;
	return false;
}

static const char *const expected_text[SIOMMU_TRACE_NR_TYPES] = {
	[SIOMMU_TRACE_ADD_DEVICE_TO_GROUP] = "IOMMU: groupID=N device=DEV",
	[SIOMMU_TRACE_REMOVE_DEVICE_FROM_GROUP] = "IOMMU: groupID=N device=DEV",
	[SIOMMU_TRACE_ATTACH_DEVICE_TO_DOMAIN] = "IOMMU: device=DEV",
	[SIOMMU_TRACE_DETACH_DEVICE_FROM_DOMAIN] = "IOMMU: device=DEV",
	[SIOMMU_TRACE_MAP] = "IOMMU: iova=0xA - 0xB paddr=0xP size=N (B = A + N)",
	[SIOMMU_TRACE_UNMAP] = "IOMMU: iova=0xA - 0xB size=N unmapped_size=M (B = A + N)",
	[SIOMMU_TRACE_IO_PAGE_FAULT] = "IOMMU:DRIVER DEV iova=0xA flags=0xF",
};

/* Say what is wrong with a line the parser refused. */
static int bad_line(struct siommu_replay *r, uint32_t file, uint64_t line,
		    const char *s, bool last_unterminated)
{
	const char *trunc = last_unterminated ? " (the last line, without its newline: truncated?)" : "";
	unsigned int i;

	for (i = 0; i < SIOMMU_TRACE_NR_TYPES; i++) {
		const char *name = siommu_trace_type_name((enum siommu_trace_type)i);
		size_t n = strlen(name);
		const char *p = s;

		while ((p = strstr(p, name)) != NULL) {
			if ((p == s || p[-1] == ' ') && p[n] == ':' &&
			    (p[n + 1] == ' ' || p[n + 1] == '\0'))
				return rp_issue(r, SIOMMU_REPLAY_BAD_LINE, file, line,
						"malformed %s event: expected \"%s\"%s",
						name, expected_text[i], trunc);
			p += n;
		}
	}
	return rp_issue(r, SIOMMU_REPLAY_BAD_LINE, file, line,
			"not a trace event line: expected \"TASK-PID [CPU] [FLAGS] SECONDS.MICROS: EVENT: TEXT\"%s",
			trunc);
}

/* Append a copy of @str to the array *@arr of *@n strings; its index in *@idx. */
static int append_str(char ***arr, uint32_t *n, uint32_t max, const char *str, uint32_t *idx)
{
	char **a;

	if (*n >= max)
		return -ENOMEM;
	a = realloc(*arr, (*n + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	*arr = a;
	a[*n] = siommu_strdup(str);
	if (!a[*n])
		return -ENOMEM;
	*idx = (*n)++;
	return 0;
}

static int intern_dev(struct siommu_replay *r, const char *name, uint32_t *idx)
{
	uint32_t i;
	int ret;

	for (i = 0; i < r->nr_devs; i++) {
		if (!strcmp(r->devs[i], name)) {
			*idx = i;
			return 0;
		}
	}
	ret = append_str(&r->devs, &r->nr_devs, 65536, name, idx);
	r->rep.devices = r->nr_devs;
	return ret;
}

static int add_event(struct siommu_replay *r, uint32_t file, uint64_t line,
		     const struct rp_line *l)
{
	struct rp_ev *e;
	int ret;

	if (l->cpu >= SIOMMU_REPLAY_MAX_CPUS)
		return rp_issue(r, SIOMMU_REPLAY_BAD_LINE, file, line,
				"CPU %d out of range (at most %d)", l->cpu,
				SIOMMU_REPLAY_MAX_CPUS - 1);
	if (l->type == SIOMMU_TRACE_MAP || l->type == SIOMMU_TRACE_UNMAP) {
		if (!l->size)
			return rp_issue(r, SIOMMU_REPLAY_BAD_LINE, file, line,
					"%s of size 0", siommu_trace_type_name(l->type));
		if (l->iova + l->size < l->iova)
			return rp_issue(r, SIOMMU_REPLAY_BAD_LINE, file, line,
					"%s range wraps past 2^64", siommu_trace_type_name(l->type));
	}
	if (r->nr_ev >= r->cap_ev) {
		ret = rp_grow((void **)&r->ev, &r->cap_ev, r->nr_ev + 1, sizeof(*r->ev));
		if (ret)
			return ret;
	}
	e = &r->ev[r->nr_ev];
	e->dev = 0;
	e->pad = 0;
	if (l->device) {
		ret = intern_dev(r, l->device, &e->dev);
		if (ret)
			return ret;
	}
	e->ts = l->ts;
	e->iova = l->iova;
	e->size = l->size;
	e->x = l->x;
	e->line = line;
	e->file = file;
	e->pid = l->pid;
	e->cpu = (uint16_t)l->cpu;
	e->type = l->type;
	if (r->nr_ev && l->ts < r->last_ts) {
		ret = rp_issue(r, SIOMMU_REPLAY_TIME_BACKWARDS, file, line,
			       "timestamp %" PRIu64 ".%06" PRIu64 " is earlier than the previous event's",
			       l->ts / 1000000000u, l->ts / 1000u % 1000000u);
		if (ret)
			return ret;
	}
	if (!r->nr_ev)
		r->rep.first_ts_ns = l->ts;
	r->last_ts = l->ts;
	r->rep.last_ts_ns = l->ts;
	r->nr_ev++;
	r->rep.events++;
	r->rep.by_type[l->type]++;
	return 0;
}

/* The general parser's record as an rp_line. */
static void rec_to_line(const struct siommu_trace_record *rec, struct rp_line *l)
{
	l->ts = rec->ts_ns;
	l->iova = rec->ev.iova;
	l->size = rec->ev.size;
	l->device = rec->ev.device;
	l->pid = rec->pid;
	l->cpu = rec->cpu;
	l->type = (uint8_t)rec->ev.type;
	switch (rec->ev.type) {
	case SIOMMU_TRACE_MAP:
		l->x = rec->ev.paddr;
		break;
	case SIOMMU_TRACE_UNMAP:
		l->x = rec->ev.unmapped_size;
		break;
	case SIOMMU_TRACE_IO_PAGE_FAULT:
		l->x = (uint64_t)rec->ev.flags;
		break;
	case SIOMMU_TRACE_ADD_DEVICE_TO_GROUP:
	case SIOMMU_TRACE_REMOVE_DEVICE_FROM_GROUP:
		l->x = (uint64_t)(int64_t)rec->ev.gid;
		break;
	default:
		l->x = 0;
		break;
	}
}

/*
 * Parse the @len bytes of @buf, line by line: map and unmap lines in place
 * by rp_fast_line(); any other line copied out, NUL-terminated, and given to
 * siommu_trace_parse_line(), which decides everything the fast path does not.
 * *@lineno is the number of the line before @buf (a file read in chunks is
 * parsed chunk by chunk, each ending with a whole line but the last);
 * @base and @total place @buf in the input for the progress callback.
 */
static int parse_lines(struct siommu_replay *r, uint32_t file, const char *buf, size_t len,
		       uint64_t *lineno, uint64_t base, uint64_t total)
{
	struct siommu_trace_record rec;
	char strbuf[RP_MAX_LINE + 64], line_buf[RP_MAX_LINE + 1];
	struct rp_line l;
	size_t pos = 0;
	uint64_t line = *lineno;
	int ret;

	while (pos < len) {
		const char *s = buf + pos, *nl;
		size_t n, nbad = r->rep.bad_lines;
		bool unterminated;

		line++;
		r->rep.lines++;
		n = rp_fast_line(s, len - pos, &l);
		if (n) {
			pos += n;
			ret = add_event(r, file, line, &l);
			goto next;
		}
		nl = memchr(s, '\n', len - pos);
		n = nl ? (size_t)(nl - s) : len - pos;
		unterminated = !nl;
		pos += n + (nl ? 1 : 0);
		if (n && s[n - 1] == '\r')
			n--;
		if (n > RP_MAX_LINE) {
			ret = rp_issue(r, SIOMMU_REPLAY_BAD_LINE, file, line,
				       "line longer than %u characters", RP_MAX_LINE);
		} else if (memchr(s, '\0', n)) {
			ret = rp_issue(r, SIOMMU_REPLAY_BAD_LINE, file, line,
				       "line contains a NUL byte");
		} else {
			memcpy(line_buf, s, n);
			line_buf[n] = '\0';
			ret = siommu_trace_parse_line(line_buf, &rec, strbuf, sizeof(strbuf));
			if (ret == 0) {
				rec_to_line(&rec, &l);
				ret = add_event(r, file, line, &l);
			} else if (ret == -ENOENT) {
				r->rep.comments++;
				ret = 0;
			} else if (ret == -EOPNOTSUPP) {
				r->rep.other_events++;
				ret = 0;
			} else if (tracecmd_header(line_buf)) {
				r->rep.comments++;
				ret = 0;
			} else {
				ret = bad_line(r, file, line, line_buf, unterminated);
			}
		}
next:
		if (ret)
			return ret;
		if (r->opts.strict && r->rep.bad_lines != nbad)
			return -EINVAL;
		if (r->opts.progress && !(line & 0xffff))
			r->opts.progress(r->opts.progress_opaque, base + pos,
					 total > base + len ? total : base + len);
		*lineno = line;
	}
	return 0;
}

/* ---- input ---- */

static int add_file(struct siommu_replay *r, const char *name, uint32_t *idx)
{
	int ret = append_str(&r->files, &r->nr_files, UINT32_MAX - 1, name, idx);

	r->rep.files = r->nr_files;
	return ret;
}

struct rbuf {
	char *p;
	size_t len, cap;
};

static int rbuf_reserve(struct rbuf *b, size_t more)
{
	return rp_grow((void **)&b->p, &b->cap, b->len + more + 1, 1);
}

static int gunzip(struct siommu_replay *r, uint32_t file, const struct rbuf *in, struct rbuf *out)
{
	z_stream z;
	int zr, ret = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return -ENOMEM;
	z.next_in = (unsigned char *)in->p;
	z.avail_in = (uInt)0;
	size_t left = in->len;

	do {
		if (!z.avail_in && left) {
			uInt n = left > (1u << 30) ? (1u << 30) : (uInt)left;

			z.avail_in = n;
			left -= n;
		}
		ret = rbuf_reserve(out, 1 << 20);
		if (ret)
			break;
		z.next_out = (unsigned char *)out->p + out->len;
		z.avail_out = (uInt)(out->cap - out->len - 1);
		size_t before = z.avail_out;

		zr = inflate(&z, Z_NO_FLUSH);
		out->len += before - z.avail_out;
		if (zr == Z_STREAM_END) {
			/* concatenated members (gzip -c a >x; gzip -c b >>x) */
			if (!z.avail_in && !left)
				break;
			if (inflateReset(&z) != Z_OK) {
				ret = -ENOMEM;
				break;
			}
			continue;
		}
		if (zr == Z_MEM_ERROR) {
			ret = -ENOMEM;
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			ret = rp_issue(r, SIOMMU_REPLAY_BAD_LINE, file, 0,
				       "corrupt gzip data: %s", z.msg ? z.msg : "inflate failed");
			ret = ret ? ret : -EINVAL;
			break;
		}
		if (zr == Z_BUF_ERROR && !z.avail_in && !left) {
			ret = rp_issue(r, SIOMMU_REPLAY_BAD_LINE, file, 0,
				       "truncated gzip data");
			ret = ret ? ret : -EINVAL;
			break;
		}
	} while (1);
	inflateEnd(&z);
	return ret;
}

static int unxz(struct siommu_replay *r, uint32_t file, const struct rbuf *in, struct rbuf *out)
{
	lzma_stream z = LZMA_STREAM_INIT;
	lzma_ret lr;
	int ret = 0;

	if (lzma_stream_decoder(&z, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return -ENOMEM;
	z.next_in = (const uint8_t *)in->p;
	z.avail_in = in->len;
	do {
		ret = rbuf_reserve(out, 1 << 20);
		if (ret)
			break;
		z.next_out = (uint8_t *)out->p + out->len;
		z.avail_out = out->cap - out->len - 1;
		size_t before = z.avail_out;

		lr = lzma_code(&z, z.avail_in ? LZMA_RUN : LZMA_FINISH);
		out->len += before - z.avail_out;
		if (lr == LZMA_STREAM_END)
			break;
		if (lr == LZMA_MEM_ERROR) {
			ret = -ENOMEM;
			break;
		}
		if (lr != LZMA_OK) {
			ret = rp_issue(r, SIOMMU_REPLAY_BAD_LINE, file, 0,
				       lr == LZMA_BUF_ERROR ? "truncated xz data" : "corrupt xz data (error %d)",
				       (int)lr);
			ret = ret ? ret : -EINVAL;
			break;
		}
	} while (1);
	lzma_end(&z);
	return ret;
}

/* gzip or xz, told by the magic bytes (@len < 6: not xz). */
static bool is_compressed(const char *p, size_t len)
{
	static const unsigned char xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };

	return (len >= 2 && (unsigned char)p[0] == 0x1f && (unsigned char)p[1] == 0x8b) ||
	       (len >= 6 && !memcmp(p, xz_magic, 6));
}

static int read_data(struct siommu_replay *r, uint32_t file, struct rbuf *b)
{
	struct rbuf out = { 0 };
	int ret;

	uint64_t line = 0;

	if (is_compressed(b->p, b->len)) {
		if ((unsigned char)b->p[0] == 0x1f)
			ret = gunzip(r, file, b, &out);
		else
			ret = unxz(r, file, b, &out);
		if (!ret)
			ret = parse_lines(r, file, out.p, out.len, &line, 0, out.len);
		siommu_free(out.p);
		return ret;
	}
	return parse_lines(r, file, b->p, b->len, &line, 0, b->len);
}

static int read_buf(struct siommu_replay *r, const char *name, const void *buf, size_t len)
{
	/* read_data() only reads the buffer */
	struct rbuf b = { .p = (char *)buf, .len = len, .cap = len };
	uint32_t file;
	int ret;

	if (!r || !name || (!buf && len))
		return -EINVAL;
	if (r->ran)
		return -EALREADY;
	ret = add_file(r, name, &file);
	if (ret)
		return ret;
	return read_data(r, file, &b);
}

#define RP_CHUNK	(1u << 20)

/* Append what @fd gives to @b until it holds @want bytes or the end; *@eof at the end. */
static int read_more(int fd, struct rbuf *b, size_t want, bool *eof)
{
	int ret;

	while (b->len < want) {
		ssize_t n;

		ret = rbuf_reserve(b, RP_CHUNK);
		if (ret)
			return ret;
		n = read(fd, b->p + b->len, b->cap - b->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n) {
			*eof = true;
			return 0;
		}
		b->len += (size_t)n;
	}
	return 0;
}

/*
 * Plain text is parsed as it is read, a megabyte at a time: each chunk up to
 * its last newline, the rest carried to the next (a file is never held
 * whole: reading a large trace into one growing buffer cost more system time
 * in page faults and copies than parsing it).  Compressed input is read
 * whole (it is small) and decompressed.
 */
static int read_file(struct siommu_replay *r, const char *path)
{
	struct rbuf b = { 0 };
	uint64_t line = 0, base = 0, total = 0;
	bool eof = false;
	struct stat st;
	uint32_t file;
	int fd, ret;

	if (!r || !path)
		return -EINVAL;
	if (r->ran)
		return -EALREADY;
	if (!strcmp(path, "-"))
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		total = (uint64_t)st.st_size;
	ret = read_more(fd, &b, RP_CHUNK, &eof);
	if (ret)
		goto out;
	if (is_compressed(b.p, b.len)) {
		ret = read_more(fd, &b, SIZE_MAX, &eof);
		if (!ret)
			ret = add_file(r, !strcmp(path, "-") ? "<stdin>" : path, &file);
		if (!ret)
			ret = read_data(r, file, &b);
		goto out;
	}
	ret = add_file(r, !strcmp(path, "-") ? "<stdin>" : path, &file);
	while (!ret) {
		const char *nl;
		size_t whole;

		if (eof) {
			ret = parse_lines(r, file, b.p, b.len, &line, base, total);
			break;
		}
		nl = memrchr(b.p, '\n', b.len);
		whole = nl ? (size_t)(nl - b.p) + 1 : 0;
		if (whole) {
			ret = parse_lines(r, file, b.p, whole, &line, base, total);
			if (ret)
				break;
			memmove(b.p, b.p + whole, b.len - whole);
			b.len -= whole;
			base += whole;
		}
		/* a line longer than the buffer (a bad line anyway): the buffer grows */
		ret = read_more(fd, &b, b.len + RP_CHUNK, &eof);
	}
out:
	if (fd != STDIN_FILENO)
		close(fd);
	siommu_free(b.p);
	return ret;
}

/*
 * What a read or a run adds, to take back when it fails for memory: a
 * failed call changes nothing, so it can be retried (a read error or a
 * strict bad line keeps the lines before it, as documented).
 */
struct rp_mark {
	uint32_t nr_files, nr_devs;
	size_t nr_ev, nr_issues;
	uint64_t last_ts;
	struct siommu_replay_report rep;
};

static void rp_mark(struct siommu_replay *r, struct rp_mark *m)
{
	m->nr_files = r->nr_files;
	m->nr_devs = r->nr_devs;
	m->nr_ev = r->nr_ev;
	m->nr_issues = r->nr_issues;
	m->last_ts = r->last_ts;
	m->rep = r->rep;
}

static void rp_rollback(struct siommu_replay *r, const struct rp_mark *m)
{
	while (r->nr_files > m->nr_files)
		siommu_free(r->files[--r->nr_files]);
	while (r->nr_devs > m->nr_devs)
		siommu_free(r->devs[--r->nr_devs]);
	while (r->nr_issues > m->nr_issues)
		siommu_free(r->issues[--r->nr_issues].msg);
	r->nr_ev = m->nr_ev;
	r->last_ts = m->last_ts;
	r->rep = m->rep;
}

SIOMMU_API int siommu_replay_read_buf(struct siommu_replay *r, const char *name,
				      const void *buf, size_t len)
{
	struct rp_mark m;
	int ret;

	if (!r)
		return -EINVAL;
	rp_mark(r, &m);
	ret = read_buf(r, name, buf, len);
	if (ret == -ENOMEM)
		rp_rollback(r, &m);
	return ret;
}

SIOMMU_API int siommu_replay_read_file(struct siommu_replay *r, const char *path)
{
	struct rp_mark m;
	int ret;

	if (!r)
		return -EINVAL;
	rp_mark(r, &m);
	ret = read_file(r, path);
	if (ret == -ENOMEM)
		rp_rollback(r, &m);
	return ret;
}

/* ---- run and results ---- */

SIOMMU_API int siommu_replay_run(struct siommu_replay *r)
{
	struct rp_mark m;
	int ret;

	if (!r)
		return -EINVAL;
	if (r->ran)
		return -EALREADY;
	rp_mark(r, &m);
	r->ran = true;
	ret = rp_exact(r);
	if (!ret) {
		r->rep.ran = true;
		if (r->opts.predict || r->opts.whatif)
			ret = rp_models(r);
	}
	if (ret == -ENOMEM) {
		/* Not run: what the passes made goes, a retry starts afresh. */
		if (r->pt)
			siommu_pt_destroy(r->pt);
		r->pt = NULL;
		siommu_free(r->samples);
		siommu_free(r->ops);
		r->samples = NULL;
		r->ops = NULL;
		r->nr_samples = r->cap_samples = 0;
		r->nr_ops = r->cap_ops = 0;
		r->nr_groups = 0;
		r->nr_pred = 0;
		siommu_free(r->pred_ts);
		siommu_free(r->pred_forced);
		siommu_free(r->pred_free);
		r->pred_ts = NULL;
		r->pred_forced = NULL;
		r->pred_free = NULL;
		rp_rollback(r, &m);
		r->ran = false;
	}
	return ret;
}

SIOMMU_API const struct siommu_replay_report *siommu_replay_get_report(struct siommu_replay *r)
{
	return r ? &r->rep : NULL;
}

SIOMMU_API const struct siommu_replay_issue *siommu_replay_issue(struct siommu_replay *r,
								 size_t i)
{
	if (!r || i >= r->nr_issues)
		return NULL;
	return &r->issues[i].pub;
}

SIOMMU_API size_t siommu_replay_nr_samples(struct siommu_replay *r)
{
	return r ? r->nr_samples : 0;
}

SIOMMU_API const struct siommu_replay_sample *siommu_replay_samples(struct siommu_replay *r)
{
	return r ? r->samples : NULL;
}

SIOMMU_API int siommu_replay_pred_point(struct siommu_replay *r, size_t i,
					uint64_t *ts_ns, uint64_t *forced_hits,
					uint64_t *free_hits)
{
	if (!r || i >= r->nr_pred)
		return -ENOENT;
	if (ts_ns)
		*ts_ns = r->pred_ts[i];
	if (forced_hits)
		*forced_hits = r->pred_forced[i];
	if (free_hits)
		*free_hits = r->pred_free[i];
	return 0;
}

SIOMMU_API struct siommu_pt *siommu_replay_pt(struct siommu_replay *r)
{
	return r ? r->pt : NULL;
}
