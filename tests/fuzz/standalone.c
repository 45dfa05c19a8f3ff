// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Runs a libFuzzer target over files, without libFuzzer: the regression
 * mode `make check` uses (every build, every sanitizer).  Arguments are
 * files or directories of files; each file is one input.  Prints TAP.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int n;

static int run_one(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);	/* crashes abort the program */
	free(buf);
	printf("ok %u - %s\n", ++n, path);
	return 0;
}

static int run_path(const char *path)
{
	struct stat st;
	struct dirent **ents;
	int k, m, ret = 0;

	if (stat(path, &st))
		return -1;
	if (!S_ISDIR(st.st_mode))
		return run_one(path);
	m = scandir(path, &ents, NULL, alphasort);
	if (m < 0)
		return -1;
	for (k = 0; k < m; k++) {
		char p[4096];

		if (ents[k]->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", path, ents[k]->d_name);
			if (run_path(p))
				ret = -1;
		}
		free(ents[k]);
	}
	free(ents);
	return ret;
}

int main(int argc, char **argv)
{
	int i, ret = 0;

	for (i = 1; i < argc; i++) {
		if (run_path(argv[i])) {
			printf("not ok %u - cannot read %s\n", ++n, argv[i]);
			ret = 1;
		}
	}
	printf("1..%u\n", n);
	return ret;
}
