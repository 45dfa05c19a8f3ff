// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * softiommu: the command-line tool.  One file per subcommand; this one only
 * dispatches.  Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include <softiommu/softiommu.h>

#include "bench.h"
#include "replay_cli.h"
#include "tool.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: softiommu [--help] [--version] COMMAND [ARGS]\n"
		"\n"
		"softiommu is the Linux IOMMU stack in user space. Commands:\n"
		"  demo [--json]                  run the main job on its embedded default and\n"
		"                                 check its invariants\n"
		"  run [--check] FILE|-           run a command file (one command per line), or\n"
		"                                 only check it; `softiommu run --list` lists\n"
		"                                 the commands\n"
		"  bench [NAME...] [--json] [--quick] [--list]\n"
		"                                 run the benchmarks (all, or the named groups)\n"
		"  replay [OPTIONS] TRACE...      replay Linux iommu trace events: report,\n"
		"                                 predictions, what-if (`replay --help`)\n"
		"  dump [OPTIONS] TRACE...        the replayed domain's table (Intel debugfs layout)\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static int cmd_run(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		run_list_verbs(stdout);
		return TOOL_EXIT_OK;
	}
	if (argc == 3 && !strcmp(argv[1], "--check"))
		return run_file_check(argv[2]);
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: softiommu run FILE|-\n"
		       "       softiommu run --check FILE|-\n"
		       "       softiommu run --list\n"
		       "Runs the commands of FILE (standard input for -), one per line:\n"
		       "  verb key=value ...      # comment\n"
		       "  expect ok | err=NAME | key=value ...\n"
		       "A failing command must be followed by `expect err=NAME`.\n"
		       "as=NAME keeps a command's results; $NAME.FIELD[+N|-N] uses them.\n"
		       "Errors print FILE:LINE: what is wrong, and exit 1.\n"
		       "--check only checks every line (syntax, references, known commands,\n"
		       "key=value arguments) without running anything.\n");
		return TOOL_EXIT_OK;
	}
	if (argc != 2 || (argv[1][0] == '-' && argv[1][1])) {
		fprintf(stderr, "softiommu run: expected one FILE (or - for standard input)\n"
				"Try 'softiommu run --help'.\n");
		return TOOL_EXIT_USAGE;
	}
	return run_file(argv[1], stdout);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return TOOL_EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return TOOL_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("softiommu %s\n", siommu_version());
		return TOOL_EXIT_OK;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "demo"))
		return demo_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return bench_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "replay"))
		return replay_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "dump"))
		return dump_main(argc - 1, argv + 1);
	fprintf(stderr, "softiommu: unknown command '%s'\nTry 'softiommu --help'.\n", cmd);
	return TOOL_EXIT_USAGE;
}
