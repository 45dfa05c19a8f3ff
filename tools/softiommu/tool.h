/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The softiommu CLI: subcommand entry points and exit codes. */
#ifndef SOFTIOMMU_TOOL_H
#define SOFTIOMMU_TOOL_H

#include <stdio.h>

enum {
	TOOL_EXIT_OK = 0,
	TOOL_EXIT_FAIL = 1,	/* the work failed: bad input, a failed check */
	TOOL_EXIT_USAGE = 2,	/* the command line was wrong */
};

#include <stddef.h>

int run_file(const char *path, FILE *out);
/* Run @len bytes of @text (NUL-terminated, modified in place), named @name in messages. */
int run_text(const char *name, char *text, size_t len, FILE *out);
/*
 * Check a command file (or @text) without running it: the syntax of every
 * line, variable references, known verbs, key=value arguments.  The
 * errors are those `run` prints for them; TOOL_EXIT_OK or TOOL_EXIT_FAIL.
 */
int run_file_check(const char *path);
int run_text_check(const char *name, char *text, size_t len);
void run_list_verbs(FILE *f);
int demo_main(int argc, char **argv);

#endif
