// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * softiommu replay [options] TRACE...   replay Linux iommu trace events
 * softiommu dump [options] TRACE...     the replayed domain's table in the
 *                                       layout of Linux's Intel debugfs
 *
 * The work is the library's (include/softiommu/replay.h); this file parses
 * the options and prints the report: a table, --json (json-c), --plot DIR
 * (replay_plot.c).  Issues go to standard error as "file:line: what".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <softiommu/softiommu.h>
#include <softiommu/pgtable.h>
#include <softiommu/replay.h>

#include "replay_cli.h"
#include "tool.h"

struct progress {
	bool on;
	const char *what;
	int last;
};

static void progress_cb(void *opaque, uint64_t done, uint64_t total)
{
	struct progress *p = opaque;
	int pct = total ? (int)(done * 100 / total) : 100;

	if (!p->on || pct == p->last)
		return;
	p->last = pct;
	fprintf(stderr, "\r%s [%-50.*s] %3d%%", p->what, pct / 2,
		"##################################################", pct);
	fflush(stderr);
}

static void progress_end(struct progress *p)
{
	if (p->on && p->last >= 0)
		fprintf(stderr, "\r%*s\r", 70, "");
	p->last = -1;
}

static void replay_usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"Usage: softiommu %s [options] TRACE...\n"
		"Replays the Linux iommu trace events of each TRACE (the text of\n"
		"/sys/kernel/tracing/trace or of `trace-cmd report`; - for standard\n"
		"input; gzip and xz files are read directly).\n"
		"\n"
		"Input:\n"
		"  --strict             a bad line is fatal (exit 1)\n"
		"  --max-issues N       print at most N issues (default 20; 0: none)\n"
		"  --quiet              no progress bar\n"
		"Exact mode (always):\n"
		"  --format FMT         vtd-ss (default), x86-64 or arm-lpae-s1\n"
		"  --width BITS         IOVA width (default 39)\n"
		"  --pgsizes LIST       page sizes, e.g. 4k,2m (default 4k,2m,1g)\n"
		"  --tlb SETSxWAYS      an IOTLB geometry to simulate (repeatable;\n"
		"                       default 64x4 and 512x8)\n"
		"  --linux-pt           VT-d tables as Linux manages them: a superpage map\n"
		"                       frees the emptied table in its slot; an unmap\n"
		"                       ending in a superpage takes all of it, and the\n"
		"                       trace's unmapped_size is checked against that\n"
		"Allocation models:\n"
		"  --predict            predict the kernel's IOVAs with the Linux model\n"
		"  --lazy               the trace was recorded with iommu.strict=0\n"
		"  --what-if            compare allocator policies, strict and lazy\n"
		"  --linux VER          6.1 (default) or 6.12\n"
		"  --dma-mask BITS      the device's DMA mask (default 64)\n"
		"  --not-pci            no 32-bit-first try\n"
		"  --reserve START-LAST a reserved IOVA window (repeatable)\n"
		"  --no-msi-window      do not reserve VT-d's 0xfee00000-0xfeefffff\n"
		"  --fq-size N          lazy: flush-queue entries per CPU (default 256)\n"
		"  --fq-timeout MS      lazy: flush timer in ms (default 10)\n"
		"  --hz N               lazy: the timer fires on ticks of N Hz (default: no ticks)\n"
		"  --no-infer           lazy prediction: use --fq-timeout/--hz as given instead\n"
		"                       of inferring the timer from the trace\n"
		"Output:\n"
		"  --json               the report as JSON\n"
		"  --plot DIR           gnuplot figures (PNG, SVG) with .gp and data files\n"
		"\n"
		"Exit status: 0 success, 1 failure (unreadable input; a bad line with\n"
		"--strict), 2 usage error.\n", cmd);
}

enum {
	OPT_STRICT = 256, OPT_MAX_ISSUES, OPT_QUIET, OPT_FORMAT, OPT_WIDTH, OPT_PGSIZES,
	OPT_TLB, OPT_PREDICT, OPT_LAZY, OPT_WHATIF, OPT_LINUX, OPT_DMA_MASK, OPT_NOT_PCI,
	OPT_RESERVE, OPT_NO_MSI, OPT_FQ_SIZE, OPT_FQ_TIMEOUT, OPT_JSON, OPT_PLOT, OPT_HELP,
	OPT_HZ, OPT_NO_INFER, OPT_LINUX_PT,
};

static const struct option long_opts[] = {
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "max-issues", required_argument, NULL, OPT_MAX_ISSUES },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "pgsizes", required_argument, NULL, OPT_PGSIZES },
	{ "tlb", required_argument, NULL, OPT_TLB },
	{ "linux-pt", no_argument, NULL, OPT_LINUX_PT },
	{ "predict", no_argument, NULL, OPT_PREDICT },
	{ "lazy", no_argument, NULL, OPT_LAZY },
	{ "what-if", no_argument, NULL, OPT_WHATIF },
	{ "linux", required_argument, NULL, OPT_LINUX },
	{ "dma-mask", required_argument, NULL, OPT_DMA_MASK },
	{ "not-pci", no_argument, NULL, OPT_NOT_PCI },
	{ "reserve", required_argument, NULL, OPT_RESERVE },
	{ "no-msi-window", no_argument, NULL, OPT_NO_MSI },
	{ "fq-size", required_argument, NULL, OPT_FQ_SIZE },
	{ "fq-timeout", required_argument, NULL, OPT_FQ_TIMEOUT },
	{ "hz", required_argument, NULL, OPT_HZ },
	{ "no-infer", no_argument, NULL, OPT_NO_INFER },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

static bool parse_uint(const char *s, unsigned int lo, unsigned int hi, unsigned int *v)
{
	uint64_t x;

	if (!parse_u64(s, &x) || x < lo || x > hi)
		return false;
	*v = (unsigned int)x;
	return true;
}

static bool parse_pgsizes(const char *s, uint64_t *bitmap)
{
	char buf[64], *tok, *save;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	*bitmap = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcasecmp(tok, "4k"))
			*bitmap |= SIOMMU_PT_SZ_4K;
		else if (!strcasecmp(tok, "2m"))
			*bitmap |= SIOMMU_PT_SZ_2M;
		else if (!strcasecmp(tok, "1g"))
			*bitmap |= SIOMMU_PT_SZ_1G;
		else
			return false;
	}
	return *bitmap != 0;
}

static int usage_err(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "softiommu %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'softiommu %s --help'.\n", cmd);
	return TOOL_EXIT_USAGE;
}

int replay_parse_args(const char *cmd, int argc, char **argv, struct replay_args *a)
{
	struct siommu_replay_opts *o = &a->opts;
	int c;

	memset(a, 0, sizeof(*a));
	a->max_issues = 20;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_STRICT: o->strict = true; break;
		case OPT_MAX_ISSUES:
			if (!parse_uint(optarg, 0, 1000000, &a->max_issues))
				return usage_err(cmd, "--max-issues: expected a count, got '%s'", optarg);
			break;
		case OPT_QUIET: a->quiet = true; break;
		case OPT_FORMAT:
			if (siommu_pt_fmt_parse(optarg, &o->fmt))
				return usage_err(cmd, "--format: expected vtd-ss, x86-64 or arm-lpae-s1, got '%s'", optarg);
			break;
		case OPT_WIDTH:
			if (!parse_uint(optarg, 21, 57, &o->ias_lg2))
				return usage_err(cmd, "--width: expected 21..57 bits, got '%s'", optarg);
			break;
		case OPT_PGSIZES:
			if (!parse_pgsizes(optarg, &o->pgsize_bitmap))
				return usage_err(cmd, "--pgsizes: expected a list of 4k, 2m, 1g, got '%s'", optarg);
			break;
		case OPT_TLB: {
			unsigned int sets, ways;
			int n = -1;

			if (o->nr_tlbs >= SIOMMU_REPLAY_MAX_TLBS)
				return usage_err(cmd, "--tlb: at most 8 geometries (%s)", optarg);
			if (sscanf(optarg, "%ux%u%n", &sets, &ways, &n) != 2 || n < 0 || optarg[n] ||
			    !sets || (sets & (sets - 1)) || sets > 65536 || !ways || ways > 64)
				return usage_err(cmd, "--tlb: expected SETSxWAYS (sets a power of two up to 65536, 1..64 ways), got '%s'", optarg);
			o->tlb[o->nr_tlbs++] = (struct siommu_replay_tlb_geom){ sets, ways };
			break;
		}
		case OPT_LINUX_PT: o->linux_pt = true; break;
		case OPT_PREDICT: o->predict = true; break;
		case OPT_LAZY: o->lazy_trace = true; break;
		case OPT_WHATIF: o->whatif = true; break;
		case OPT_LINUX:
			if (!strcmp(optarg, "6.1"))
				o->linux_version = SIOMMU_REPLAY_LINUX_6_1;
			else if (!strcmp(optarg, "6.12"))
				o->linux_version = SIOMMU_REPLAY_LINUX_6_12;
			else
				return usage_err(cmd, "--linux: expected 6.1 or 6.12, got '%s'", optarg);
			break;
		case OPT_DMA_MASK:
			if (!parse_uint(optarg, 24, 64, &o->dma_mask_lg2))
				return usage_err(cmd, "--dma-mask: expected 24..64 bits, got '%s'", optarg);
			break;
		case OPT_NOT_PCI: o->not_pci = true; break;
		case OPT_RESERVE: {
			char *dash = strchr(optarg, '-');
			uint64_t lo, hi;

			if (o->nr_reserved >= SIOMMU_REPLAY_MAX_RESERVED)
				return usage_err(cmd, "--reserve: at most 16 windows (%s)", optarg);
			if (!dash)
				return usage_err(cmd, "--reserve: expected START-LAST, got '%s'", optarg);
			*dash = '\0';
			bool ok = parse_u64(optarg, &lo) && parse_u64(dash + 1, &hi) && lo <= hi;

			*dash = '-';
			if (!ok)
				return usage_err(cmd, "--reserve: expected START-LAST with START <= LAST, got '%s'", optarg);
			o->reserved[o->nr_reserved][0] = lo;
			o->reserved[o->nr_reserved][1] = hi;
			o->nr_reserved++;
			break;
		}
		case OPT_NO_MSI: o->no_default_reserved = true; break;
		case OPT_FQ_SIZE:
			if (!parse_uint(optarg, 1, 65536, &o->fq_size))
				return usage_err(cmd, "--fq-size: expected 1..65536, got '%s'", optarg);
			break;
		case OPT_FQ_TIMEOUT: {
			unsigned int ms;

			if (!parse_uint(optarg, 1, 3600000, &ms))
				return usage_err(cmd, "--fq-timeout: expected 1..3600000 ms, got '%s'", optarg);
			o->fq_timeout_ns = (uint64_t)ms * 1000000u;
			break;
		}
		case OPT_HZ:
			if (!parse_uint(optarg, 1, 10000, &o->hz))
				return usage_err(cmd, "--hz: expected 1..10000, got '%s'", optarg);
			break;
		case OPT_NO_INFER: o->no_infer = true; break;
		case OPT_JSON: a->json = true; break;
		case OPT_PLOT: a->plot_dir = optarg; break;
		case OPT_HELP:
		case 'h':
			replay_usage(stdout, cmd);
			a->help = true;
			return TOOL_EXIT_OK;
		case ':':
			return usage_err(cmd, "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_err(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->linux_pt && o->fmt && o->fmt != SIOMMU_PT_FMT_VTD_SS)
		return usage_err(cmd, "%s", "--linux-pt: an option of the vtd-ss format only");
	a->traces = argv + optind;
	a->nr_traces = argc - optind;
	if (a->nr_traces < 1)
		return usage_err(cmd, "%s", "expected at least one TRACE (or - for standard input)");
	return TOOL_EXIT_OK;
}

/* Create, read every trace, run.  On failure prints why and returns the exit status. */
int replay_load(const char *cmd, struct siommu_ctx *ctx, struct replay_args *a,
		struct siommu_replay **out)
{
	struct progress pr = { .on = !a->quiet && !a->json && isatty(STDERR_FILENO), .last = -1 };
	struct siommu_replay *r;
	int i, ret, status = TOOL_EXIT_OK;
	size_t k;

	a->opts.progress = progress_cb;
	a->opts.progress_opaque = &pr;
	ret = siommu_replay_create(ctx, &a->opts, &r);
	if (ret) {
		fprintf(stderr, "softiommu %s: %s (%s)\n", cmd, siommu_errname(ret), siommu_strerror(ret));
		return TOOL_EXIT_FAIL;
	}
	for (i = 0; i < a->nr_traces; i++) {
		pr.what = "reading";
		ret = siommu_replay_read_file(r, a->traces[i]);
		progress_end(&pr);
		if (ret == -EINVAL)
			break;	/* strict, or corrupt compressed data: the issue says where */
		if (ret) {
			fprintf(stderr, "softiommu %s: %s: %s\n", cmd, a->traces[i], strerror(-ret));
			status = TOOL_EXIT_FAIL;
			break;
		}
	}
	if (!ret) {
		pr.what = "replaying";
		ret = siommu_replay_run(r);
		progress_end(&pr);
		if (ret) {
			fprintf(stderr, "softiommu %s: replay: %s (%s)\n", cmd, siommu_errname(ret),
				siommu_strerror(ret));
			status = TOOL_EXIT_FAIL;
		}
	} else if (ret == -EINVAL) {
		status = TOOL_EXIT_FAIL;
	}
	const struct siommu_replay_report *rep = siommu_replay_get_report(r);
	uint64_t total = 0;

	for (k = 0; k < SIOMMU_REPLAY_NR_ISSUE_KINDS; k++)
		total += rep->issues[k];
	for (k = 0; k < a->max_issues; k++) {
		const struct siommu_replay_issue *is = siommu_replay_issue(r, k);

		if (!is)
			break;
		if (is->line)
			fprintf(stderr, "%s:%" PRIu64 ": %s\n", is->file, is->line, is->msg);
		else
			fprintf(stderr, "%s: %s\n", is->file, is->msg);
	}
	if (total > k && a->max_issues)
		fprintf(stderr, "softiommu %s: %" PRIu64 " more issues not shown (--max-issues)\n",
			cmd, total - k);
	if (a->opts.strict && rep->bad_lines)
		status = TOOL_EXIT_FAIL;
	*out = r;
	return status;
}

/* ---- report ---- */

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void print_table(FILE *f, struct siommu_replay *r, const struct replay_args *a)
{
	const struct siommu_replay_report *p = siommu_replay_get_report(r);
	unsigned int i, k;

	fprintf(f, "input\n");
	fprintf(f, "  files                 %" PRIu64 "\n", p->files);
	fprintf(f, "  lines                 %" PRIu64 "\n", p->lines);
	fprintf(f, "  events                %" PRIu64 "\n", p->events);
	for (i = 0; i < SIOMMU_TRACE_NR_TYPES; i++)
		if (p->by_type[i])
			fprintf(f, "    %-26s %" PRIu64 "\n",
				siommu_trace_type_name((enum siommu_trace_type)i), p->by_type[i]);
	fprintf(f, "  comments and headers  %" PRIu64 "\n", p->comments);
	fprintf(f, "  other events          %" PRIu64 "\n", p->other_events);
	fprintf(f, "  bad lines             %" PRIu64 "\n", p->bad_lines);
	fprintf(f, "  devices               %" PRIu64 "\n", p->devices);
	if (p->events)
		fprintf(f, "  time                  %" PRIu64 ".%06" PRIu64 " .. %" PRIu64 ".%06" PRIu64 " s\n",
			p->first_ts_ns / 1000000000u, p->first_ts_ns / 1000u % 1000000u,
			p->last_ts_ns / 1000000000u, p->last_ts_ns / 1000u % 1000000u);
	if (!p->ran)
		return;
	fprintf(f, "exact (%s, %u-bit)\n", siommu_pt_fmt_name(a->opts.fmt ? a->opts.fmt : SIOMMU_PT_FMT_VTD_SS),
		a->opts.ias_lg2 ? a->opts.ias_lg2 : 39);
	fprintf(f, "  live mappings         peak %" PRIu64 ", end %" PRIu64 "\n",
		p->peak_live_maps, p->end_live_maps);
	fprintf(f, "  live bytes            peak %" PRIu64 ", end %" PRIu64 "\n",
		p->peak_live_bytes, p->end_live_bytes);
	fprintf(f, "  IOVA span             peak %" PRIu64 "\n", p->peak_iova_span);
	fprintf(f, "  mapped / unmapped     %" PRIu64 " / %" PRIu64 " bytes\n",
		p->mapped_bytes, p->unmapped_bytes);
	fprintf(f, "  pages mapped          4K %" PRIu64 ", 2M %" PRIu64 ", 1G %" PRIu64 "\n",
		p->pages[0], p->pages[1], p->pages[2]);
	fprintf(f, "  table memory          peak %" PRIu64 ", end %" PRIu64 " bytes\n",
		p->table_bytes_peak, p->table_bytes_end);
	for (i = 0; i < p->nr_tlbs; i++)
		fprintf(f, "  IOTLB %5ux%-3u        %" PRIu64 " hits / %" PRIu64 " accesses (%.2f%%)\n",
			p->tlb[i].geom.sets, p->tlb[i].geom.ways, p->tlb[i].hits,
			p->tlb[i].accesses, pct(p->tlb[i].hits, p->tlb[i].accesses));
	fprintf(f, "  allocations           %" PRIu64 " (%" PRIu64 " of several maps)\n",
		p->allocs, p->sg_allocs);
	fprintf(f, "issues\n");
	for (i = 0; i < SIOMMU_REPLAY_NR_ISSUE_KINDS; i++)
		fprintf(f, "  %-21s %" PRIu64 "\n",
			siommu_replay_issue_kind_name((enum siommu_replay_issue_kind)i), p->issues[i]);
	if (p->predicted) {
		fprintf(f, "prediction (Linux %s model, %s)\n",
			a->opts.linux_version == SIOMMU_REPLAY_LINUX_6_12 ? "6.12" : "6.1",
			a->opts.lazy_trace ? "lazy" : "strict");
		fprintf(f, "  forced                %" PRIu64 " / %" PRIu64 " (%.2f%%)\n",
			p->pred_forced_hits, p->pred_total, pct(p->pred_forced_hits, p->pred_total));
		fprintf(f, "  free-running          %" PRIu64 " / %" PRIu64 " (%.2f%%)\n",
			p->pred_free_hits, p->pred_total, pct(p->pred_free_hits, p->pred_total));
		if (a->opts.lazy_trace) {
			fprintf(f, "  flush timer           %s %.1f ms after arming", a->opts.no_infer ? "given:" : "inferred:",
				(double)p->pred_delay_ns / 1e6);
			if (p->pred_hz)
				fprintf(f, ", on ticks of %u Hz (phase %.3f ms)", p->pred_hz,
					(double)p->pred_phase_ns / 1e6);
			fprintf(f, "\n  flushes inferred      %" PRIu64 " (kernel reused an IOVA still queued)\n",
				p->pred_timer_inferred);
		}
	}
	if (a->opts.whatif) {
		fprintf(f, "what-if                 %-12s %-12s %-12s %-12s %-12s %-12s\n",
			"allocs", "failures", "peak span", "tree nodes", "table bytes", "invalidations");
		for (i = 0; i < SIOMMU_REPLAY_NR_POLICIES; i++)
			for (k = 0; k < 2; k++) {
				const struct siommu_replay_policy_result *w = &p->whatif[i][k];
				char name[32];

				if (!w->valid)
					continue;
				snprintf(name, sizeof(name), "%s %s",
					 siommu_replay_policy_name((enum siommu_replay_policy)i),
					 k ? "lazy" : "strict");
				fprintf(f, "  %-21s %-12" PRIu64 " %-12" PRIu64 " %-12" PRIu64 " %-12" PRIu64
					" %-12" PRIu64 " %-12" PRIu64 "\n", name, w->allocs, w->failures,
					w->peak_span, w->peak_tree_nodes, w->peak_table_bytes, w->invalidations);
				if (k)
					fprintf(f, "  %-21s flushes %" PRIu64 ", largest batch %" PRIu64 "\n", "",
						w->flushes, w->max_batch);
			}
	}
}

static json_object *ju(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

static void print_json(FILE *f, struct siommu_replay *r, const struct replay_args *a)
{
	const struct siommu_replay_report *p = siommu_replay_get_report(r);
	json_object *root = json_object_new_object(), *in = json_object_new_object();
	json_object *types = json_object_new_object(), *ex, *arr, *iss;
	unsigned int i, k;
	size_t n;

	json_object_object_add(in, "files", ju(p->files));
	json_object_object_add(in, "lines", ju(p->lines));
	json_object_object_add(in, "events", ju(p->events));
	for (i = 0; i < SIOMMU_TRACE_NR_TYPES; i++)
		json_object_object_add(types, siommu_trace_type_name((enum siommu_trace_type)i),
				       ju(p->by_type[i]));
	json_object_object_add(in, "by_type", types);
	json_object_object_add(in, "comments", ju(p->comments));
	json_object_object_add(in, "other_events", ju(p->other_events));
	json_object_object_add(in, "bad_lines", ju(p->bad_lines));
	json_object_object_add(in, "devices", ju(p->devices));
	json_object_object_add(in, "first_ts_ns", ju(p->first_ts_ns));
	json_object_object_add(in, "last_ts_ns", ju(p->last_ts_ns));
	json_object_object_add(root, "input", in);
	if (p->ran) {
		ex = json_object_new_object();
		json_object_object_add(ex, "format", json_object_new_string(
			siommu_pt_fmt_name(a->opts.fmt ? a->opts.fmt : SIOMMU_PT_FMT_VTD_SS)));
		json_object_object_add(ex, "width", ju(a->opts.ias_lg2 ? a->opts.ias_lg2 : 39));
		json_object_object_add(ex, "peak_live_maps", ju(p->peak_live_maps));
		json_object_object_add(ex, "end_live_maps", ju(p->end_live_maps));
		json_object_object_add(ex, "peak_live_bytes", ju(p->peak_live_bytes));
		json_object_object_add(ex, "end_live_bytes", ju(p->end_live_bytes));
		json_object_object_add(ex, "peak_iova_span", ju(p->peak_iova_span));
		json_object_object_add(ex, "mapped_bytes", ju(p->mapped_bytes));
		json_object_object_add(ex, "unmapped_bytes", ju(p->unmapped_bytes));
		arr = json_object_new_object();
		json_object_object_add(arr, "4K", ju(p->pages[0]));
		json_object_object_add(arr, "2M", ju(p->pages[1]));
		json_object_object_add(arr, "1G", ju(p->pages[2]));
		json_object_object_add(ex, "pages", arr);
		json_object_object_add(ex, "table_bytes_peak", ju(p->table_bytes_peak));
		json_object_object_add(ex, "table_bytes_end", ju(p->table_bytes_end));
		arr = json_object_new_array();
		for (i = 0; i < p->nr_tlbs; i++) {
			json_object *t = json_object_new_object();

			json_object_object_add(t, "sets", ju(p->tlb[i].geom.sets));
			json_object_object_add(t, "ways", ju(p->tlb[i].geom.ways));
			json_object_object_add(t, "accesses", ju(p->tlb[i].accesses));
			json_object_object_add(t, "hits", ju(p->tlb[i].hits));
			json_object_array_add(arr, t);
		}
		json_object_object_add(ex, "iotlb", arr);
		json_object_object_add(ex, "allocations", ju(p->allocs));
		json_object_object_add(ex, "sg_allocations", ju(p->sg_allocs));
		json_object_object_add(root, "exact", ex);
	}
	iss = json_object_new_object();
	for (i = 0; i < SIOMMU_REPLAY_NR_ISSUE_KINDS; i++)
		json_object_object_add(iss, siommu_replay_issue_kind_name((enum siommu_replay_issue_kind)i),
				       ju(p->issues[i]));
	json_object_object_add(root, "issue_counts", iss);
	arr = json_object_new_array();
	for (n = 0; n < a->max_issues; n++) {
		const struct siommu_replay_issue *is = siommu_replay_issue(r, n);
		json_object *o;

		if (!is)
			break;
		o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string(siommu_replay_issue_kind_name(is->kind)));
		json_object_object_add(o, "file", json_object_new_string(is->file));
		json_object_object_add(o, "line", ju(is->line));
		json_object_object_add(o, "message", json_object_new_string(is->msg));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "issues", arr);
	if (p->predicted) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "model", json_object_new_string(
			a->opts.linux_version == SIOMMU_REPLAY_LINUX_6_12 ? "linux-6.12" : "linux-6.1"));
		json_object_object_add(o, "lazy", json_object_new_boolean(a->opts.lazy_trace));
		if (a->opts.lazy_trace) {
			json_object_object_add(o, "timer_inferred", json_object_new_boolean(!a->opts.no_infer));
			json_object_object_add(o, "timer_delay_ns", ju(p->pred_delay_ns));
			json_object_object_add(o, "timer_hz", ju(p->pred_hz));
			json_object_object_add(o, "timer_phase_ns", ju(p->pred_phase_ns));
			json_object_object_add(o, "flushes_inferred", ju(p->pred_timer_inferred));
		}
		json_object_object_add(o, "allocations", ju(p->pred_total));
		json_object_object_add(o, "forced_hits", ju(p->pred_forced_hits));
		json_object_object_add(o, "free_running_hits", ju(p->pred_free_hits));
		json_object_object_add(o, "forced_pct", json_object_new_double(pct(p->pred_forced_hits, p->pred_total)));
		json_object_object_add(o, "free_running_pct", json_object_new_double(pct(p->pred_free_hits, p->pred_total)));
		json_object_object_add(root, "prediction", o);
	}
	if (a->opts.whatif) {
		arr = json_object_new_array();
		for (i = 0; i < SIOMMU_REPLAY_NR_POLICIES; i++)
			for (k = 0; k < 2; k++) {
				const struct siommu_replay_policy_result *w = &p->whatif[i][k];
				json_object *o, *h;
				unsigned int b;

				if (!w->valid)
					continue;
				o = json_object_new_object();
				json_object_object_add(o, "policy", json_object_new_string(
					siommu_replay_policy_name((enum siommu_replay_policy)i)));
				json_object_object_add(o, "mode", json_object_new_string(k ? "lazy" : "strict"));
				json_object_object_add(o, "allocs", ju(w->allocs));
				json_object_object_add(o, "failures", ju(w->failures));
				json_object_object_add(o, "peak_span", ju(w->peak_span));
				json_object_object_add(o, "peak_tree_nodes", ju(w->peak_tree_nodes));
				json_object_object_add(o, "peak_table_bytes", ju(w->peak_table_bytes));
				json_object_object_add(o, "invalidations", ju(w->invalidations));
				json_object_object_add(o, "flushes", ju(w->flushes));
				json_object_object_add(o, "max_batch", ju(w->max_batch));
				h = json_object_new_array();
				for (b = 0; b < 8; b++)
					json_object_array_add(h, ju(w->batch_hist[b]));
				json_object_object_add(o, "batch_hist", h);
				json_object_array_add(arr, o);
			}
		json_object_object_add(root, "what_if", arr);
	}
	fprintf(f, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

int replay_main(int argc, char **argv)
{
	struct siommu_replay *r = NULL;
	struct siommu_ctx *ctx;
	struct replay_args a;
	int status;

	status = replay_parse_args("replay", argc, argv, &a);
	if (status || a.help)
		return status;
	if (siommu_ctx_create(&ctx)) {
		fprintf(stderr, "softiommu replay: out of memory\n");
		return TOOL_EXIT_FAIL;
	}
	status = replay_load("replay", ctx, &a, &r);
	if (status == TOOL_EXIT_OK) {
		if (a.json)
			print_json(stdout, r, &a);
		else
			print_table(stdout, r, &a);
		if (a.plot_dir && replay_plot(r, &a, a.plot_dir))
			status = TOOL_EXIT_FAIL;
	}
	siommu_replay_destroy(r);
	siommu_ctx_destroy(ctx);
	return status;
}

int dump_main(int argc, char **argv)
{
	struct siommu_replay *r = NULL;
	struct siommu_ctx *ctx;
	struct replay_args a;
	int status, ret;

	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--run") || !strncmp(argv[i], "--run=", 6))
			return dump_run_main(argc, argv);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: softiommu dump [replay options] TRACE...\n"
		       "       softiommu dump --run FILE [--pt NAME | --domain NAME]\n"
		       "Replays the traces in exact mode and prints the domain's page table in\n"
		       "the layout of Linux's Intel debugfs file domain_translation_struct.\n"
		       "With --run, runs the command file FILE and prints the tables it left:\n"
		       "every device's attachments to domains with a page table, as the\n"
		       "kernel's file shows them, or the domain or pt-create table named\n"
		       "(softiommu dump --run x --help).\n");
		return TOOL_EXIT_OK;
	}
	status = replay_parse_args("dump", argc, argv, &a);
	if (status || a.help)
		return status;
	a.quiet = true;
	if (siommu_ctx_create(&ctx)) {
		fprintf(stderr, "softiommu dump: out of memory\n");
		return TOOL_EXIT_FAIL;
	}
	status = replay_load("dump", ctx, &a, &r);
	if (status == TOOL_EXIT_OK && siommu_replay_pt(r)) {
		ret = siommu_pt_dump_file(siommu_replay_pt(r), NULL, stdout);
		if (ret) {
			fprintf(stderr, "softiommu dump: %s (%s)\n", siommu_errname(ret), siommu_strerror(ret));
			status = TOOL_EXIT_FAIL;
		}
	}
	siommu_replay_destroy(r);
	siommu_ctx_destroy(ctx);
	return status;
}
