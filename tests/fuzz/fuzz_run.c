// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: the `softiommu run` command language, end to end (lexer,
 * argument parsing, every verb).  Any input must end in a clean exit status
 * (0 or 1), never a crash, a sanitizer report or a leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	char *text;
	int ret;

	if (size > 16384)
		return 0;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	text = malloc(size + 1);
	if (!text || !devnull) {
		free(text);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	/* stderr carries the diagnostics; keep the fuzzer's output readable */
	ret = run_text("fuzz", text, size, devnull);
	if (ret != TOOL_EXIT_OK && ret != TOOL_EXIT_FAIL)
		abort();
	free(text);
	return 0;
}
