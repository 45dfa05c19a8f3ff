// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * softiommu dump --run FILE [--pt NAME | --domain NAME]
 *
 * The debugfs view of scripted domains: FILE is a `softiommu run` command
 * file; it is run (its own output discarded, its errors on standard error
 * as `run` prints them) and, when every command succeeded, the state it
 * left is dumped before its objects are destroyed, in the layout of Linux's
 * Intel debugfs file domain_translation_struct:
 *  - by default as the kernel's file shows it: for every device (in
 *    creation order) and each of its attachments (its own first, then its
 *    PASIDs in ascending order) to a domain with a page table, a
 *    "Device SSSS:BB:DD.F [with pasid N] @root" block (a domain attached to
 *    two devices is printed twice, as debugfs does);
 *  - --domain NAME: that domain's table, under the first device attached
 *    to it (its first attachment), or 0000:00:00.0 when none is;
 *  - --pt NAME: a pt-create table, under 0000:00:00.0.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <softiommu/softiommu.h>

#include "replay_cli.h"
#include "run.h"
#include "tool.h"
#include "verbs.h"

#define DUMP_MAX_ATTACH	64u

struct dump_run {
	const char *file;
	const char *pt, *domain;	/* the selection, or NULL */
	struct siommu_domain *want;	/* --domain: its domain */
	bool found;			/* --domain: a device attached to it was found */
	struct siommu_pt_dump_dev dev;	/* --domain: that device's attachment */
	unsigned int dumped;
	int status;
};

static void dev_of_rid(uint32_t rid, uint32_t pasid, struct siommu_pt_dump_dev *d)
{
	d->segment = (uint16_t)(rid >> 16);
	d->bus = (uint8_t)(rid >> 8);
	d->devfn = (uint8_t)rid;
	d->pasid = pasid == SIOMMU_NO_PASID ? SIOMMU_PT_NO_PASID : pasid;
}

static void dump_pt(struct dump_run *dr, struct siommu_pt *pt, const struct siommu_pt_dump_dev *dev)
{
	int ret;

	if (dr->status)
		return;
	ret = siommu_pt_dump_file(pt, dev, stdout);
	if (ret) {
		fprintf(stderr, "softiommu dump: %s: %s (%s)\n", dr->file, siommu_errname(ret),
			siommu_strerror(ret));
		dr->status = TOOL_EXIT_FAIL;
	}
	dr->dumped++;
}

/* Each attachment of one device: dump it (default), or find --domain's. */
static void one_device(void *obj, const char *name, void *opaque)
{
	struct dump_run *dr = opaque;
	struct siommu_device *dev = run_device_of(obj);
	struct siommu_attachment at[DUMP_MAX_ATTACH];
	struct siommu_device_info info;
	int n, i;

	(void)name;
	if (dr->status || siommu_device_get_info(dev, &info))
		return;
	n = siommu_device_get_attachments(dev, at, DUMP_MAX_ATTACH);
	if (n > (int)DUMP_MAX_ATTACH)
		n = DUMP_MAX_ATTACH;
	for (i = 0; i < n; i++) {
		struct siommu_pt *pt = siommu_domain_pt(at[i].dom);
		struct siommu_pt_dump_dev d;

		dev_of_rid(info.rid, at[i].pasid, &d);
		if (dr->want) {
			if (at[i].dom == dr->want && !dr->found) {
				dr->found = true;
				dr->dev = d;
			}
		} else if (pt) {
			dump_pt(dr, pt, &d);
		}
	}
}

static int at_end(struct run_ctx *rc, void *opaque)
{
	struct dump_run *dr = opaque;
	void *obj;

	fflush(stdout);
	if (dr->pt) {
		obj = run_obj_find(rc, RUN_PT_TYPE, dr->pt);
		if (!obj) {
			fprintf(stderr, "softiommu dump: %s: no table named '%s' (pt-create name=)\n",
				dr->file, dr->pt);
			return TOOL_EXIT_FAIL;
		}
		dump_pt(dr, run_pt_of(obj), NULL);
		return dr->status;
	}
	if (dr->domain) {
		struct siommu_pt *pt;

		obj = run_obj_find(rc, RUN_DOMAIN_TYPE, dr->domain);
		if (!obj) {
			fprintf(stderr, "softiommu dump: %s: no domain named '%s' (domain-create name=)\n",
				dr->file, dr->domain);
			return TOOL_EXIT_FAIL;
		}
		dr->want = run_domain_of(obj);
		pt = siommu_domain_pt(dr->want);
		if (!pt) {
			fprintf(stderr, "softiommu dump: %s: domain '%s' has no page table (identity or blocked)\n",
				dr->file, dr->domain);
			return TOOL_EXIT_FAIL;
		}
		run_obj_for_each(rc, RUN_DEV_TYPE, one_device, dr);
		dump_pt(dr, pt, dr->found ? &dr->dev : NULL);
		return dr->status;
	}
	run_obj_for_each(rc, RUN_DEV_TYPE, one_device, dr);
	if (!dr->status && !dr->dumped) {
		fprintf(stderr, "softiommu dump: %s: no device is attached to a domain with a page table "
			"(--pt NAME or --domain NAME dumps one that is not)\n", dr->file);
		return TOOL_EXIT_FAIL;
	}
	return dr->status;
}

static void dump_run_usage(FILE *f)
{
	fprintf(f,
		"Usage: softiommu dump --run FILE [--pt NAME | --domain NAME]\n"
		"Runs the command file FILE (as `softiommu run` does, its output not shown)\n"
		"and prints the page tables it left in the layout of Linux's Intel debugfs\n"
		"file domain_translation_struct: every device's attachments to domains with\n"
		"a page table, as the kernel's file shows them; or the domain, or the\n"
		"pt-create table, named.\n"
		"\n"
		"Exit status: 0 success, 1 failure (the run failed; nothing to dump),\n"
		"2 usage error.\n");
}

static const struct option dump_run_opts[] = {
	{ "run", required_argument, NULL, 'r' },
	{ "pt", required_argument, NULL, 'p' },
	{ "domain", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int dump_run_main(int argc, char **argv)
{
	struct dump_run dr = { 0 };
	FILE *null;
	int c, status;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", dump_run_opts, NULL)) != -1) {
		switch (c) {
		case 'r': dr.file = optarg; break;
		case 'p': dr.pt = optarg; break;
		case 'd': dr.domain = optarg; break;
		case 'h':
			dump_run_usage(stdout);
			return TOOL_EXIT_OK;
		case ':':
			fprintf(stderr, "softiommu dump: option '%s' needs a value\n", argv[optind - 1]);
			return TOOL_EXIT_USAGE;
		default:
			fprintf(stderr, "softiommu dump: unknown option '%s' with --run\n"
				"Try 'softiommu dump --help'.\n", argv[optind - 1]);
			return TOOL_EXIT_USAGE;
		}
	}
	if (!dr.file || optind != argc || (dr.pt && dr.domain)) {
		fprintf(stderr, "softiommu dump: %s\nTry 'softiommu dump --help'.\n",
			optind != argc ? "--run takes no TRACE arguments" :
			!dr.file ? "--run FILE expected" : "give one of --pt and --domain");
		return TOOL_EXIT_USAGE;
	}
	null = fopen("/dev/null", "w");
	if (!null) {
		fprintf(stderr, "softiommu dump: cannot open /dev/null: %s\n", strerror(errno));
		return TOOL_EXIT_FAIL;
	}
	status = run_file_then(dr.file, null, at_end, &dr);
	fclose(null);
	return status;
}
