/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `softiommu replay` and `softiommu dump`: options shared by both, plots. */
#ifndef SOFTIOMMU_REPLAY_CLI_H
#define SOFTIOMMU_REPLAY_CLI_H

#include <stdbool.h>

#include <softiommu/replay.h>

struct replay_args {
	struct siommu_replay_opts opts;
	unsigned int max_issues;
	bool quiet, json, help;
	const char *plot_dir;
	char **traces;
	int nr_traces;
};

/* Parse the options of @cmd.  Returns TOOL_EXIT_OK (a->help: --help printed) or TOOL_EXIT_USAGE. */
int replay_parse_args(const char *cmd, int argc, char **argv, struct replay_args *a);
/* Create @out, read the traces, run, print the issues.  Returns a TOOL_EXIT_* status; *out is set unless create failed. */
int replay_load(const char *cmd, struct siommu_ctx *ctx, struct replay_args *a,
		struct siommu_replay **out);
/* Write the figures into @dir (created if missing).  Returns 0, or -1 after printing why. */
int replay_plot(struct siommu_replay *r, const struct replay_args *a, const char *dir);

int replay_main(int argc, char **argv);
int dump_main(int argc, char **argv);
/* dump_run.c: `softiommu dump --run FILE`, the tables a command file left. */
int dump_run_main(int argc, char **argv);

#endif
