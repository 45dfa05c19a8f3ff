/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The `softiommu run` command language: the interpreter's interface to the
 * verbs each module adds.
 *
 * A command file has one command per line: `verb key=value ...`.  `#` starts
 * a comment (outside quotes).  Values are bare words or "double quoted" with
 * \" and \\ escapes.  Numbers are decimal or 0x hex, with an optional K, M, G
 * or T suffix (powers of 1024).
 *
 * Each command prints one result line, `verb: key=value ...`, when it has
 * values to report, or `verb: error NAME (message)` when the library call
 * failed.  A failed command must be followed by an `expect err=NAME` line,
 * or the run stops there with exit status 1.  `expect` checks the previous
 * command: `expect ok`, `expect err=NAME`, or `expect key=value ...` against
 * its result values.
 *
 * Variables: `as=NAME` on any command keeps its result values under NAME
 * (a failed command unsets NAME).  In a later unquoted value, `$NAME.FIELD`
 * (or `${NAME.FIELD}`, whose FIELD may contain '-') is replaced by that
 * value, optionally followed by `+N` or `-N` (numbers, printed in hex):
 * `iova=$buf.iova+0x800`.  An unknown variable or field is an error at the
 * line that uses it.  Verbs never see `as=` and get the replaced values.
 *
 * A module adds verbs by defining, in tools/softiommu/verbs_<module>.c, a
 * table `const struct run_verb run_verbs_<module>[]` ending with an entry
 * whose name is NULL, and adding the module to the list in run.c.
 */
#ifndef SOFTIOMMU_TOOL_RUN_H
#define SOFTIOMMU_TOOL_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <softiommu/softiommu.h>

/* Returned by a verb after run_error() reported bad input: the run stops. */
#define RUN_EUSAGE	(-100000)

struct run_arg {
	const char *key;
	const char *val;	/* after variable references are replaced */
	bool used;
	bool quoted;		/* written "..." : taken literally, no references */
	char *expanded;		/* owned storage of @val when references were replaced */
};

struct run_cmd {
	const char *verb;
	struct run_arg *args;
	unsigned int nargs;
	const char *file;
	unsigned int line;
};

struct run_ctx;

struct run_verb {
	const char *name;
	const char *synopsis;	/* "map pt=NAME iova=N pa=N size=N [prot=rw]" */
	const char *help;	/* one line */
	/*
	 * Returns 0, a negative errno from the library (the command failed:
	 * printed, and must be expected), or RUN_EUSAGE after run_error().
	 */
	int (*fn)(struct run_ctx *rc, struct run_cmd *cmd);
};

/* Report bad input at the command's line and return RUN_EUSAGE. */
int run_error(struct run_ctx *rc, const struct run_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Arguments.  Each returns 0 or RUN_EUSAGE (after reporting).  The _opt
 * forms set the default when the key is absent.  Every argument a command
 * is given must be consumed by its verb: leftovers are reported as unknown.
 */
int run_arg_u64(struct run_ctx *rc, struct run_cmd *cmd, const char *key, uint64_t *v);
int run_arg_u64_opt(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		    uint64_t *v, uint64_t def);
int run_arg_str(struct run_ctx *rc, struct run_cmd *cmd, const char *key, const char **v);
int run_arg_str_opt(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		    const char **v, const char *def);
int run_arg_bool_opt(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		     bool *v, bool def);
/* @names is NULL-terminated; *v is the index of the match. */
int run_arg_enum(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		 const char *const *names, int *v);
int run_arg_enum_opt(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		     const char *const *names, int *v, int def);
bool run_arg_has(struct run_cmd *cmd, const char *key);

/*
 * Flag letters: @letters[i] names bit i ("rwcnmp" for SIOMMU_PT_*, "rwxp"
 * for access types).  run_arg_letters() parses key=LETTERS (or @def when the
 * key is absent) into *@bits: 0 or RUN_EUSAGE.  run_result_letters() adds
 * key=LETTERS of the set bits, "-" when none.
 */
int run_arg_letters(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		    const char *letters, const char *def, unsigned int *bits);
void run_result_letters(struct run_ctx *rc, const char *key, const char *letters,
			unsigned int bits);

/*
 * pgsizes=4K,2M,1G: *@bitmap of SIOMMU_PT_SZ_* bits, 0 when the key is
 * absent.  Returns 0 or RUN_EUSAGE.
 */
int run_arg_pgsizes(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		    uint64_t *bitmap);

/* "4K", "2M", "1G" for a page size of 2^12, 2^21, 2^30 bytes; NULL otherwise. */
const char *run_pgsize_name(int lg2);

/* Parse a number as the language does.  Returns 0 or -EINVAL. */
int run_parse_u64(const char *s, uint64_t *v);

/*
 * Named objects.  A verb that creates something registers it under a name
 * (given by the user, typically `name=`); others find it by the value of an
 * argument.  @destroy runs when the run ends (in reverse creation order) or
 * at run_obj_del().  Types are short strings compared by value.
 */
int run_obj_add(struct run_ctx *rc, struct run_cmd *cmd, const char *type,
		const char *name, void *obj, void (*destroy)(void *obj));
/* The object named by argument @key, of @type; NULL after reporting. */
void *run_obj_arg(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		  const char *type);
void *run_obj_find(struct run_ctx *rc, const char *type, const char *name);
/*
 * The destroy verb of an object type: find the object named by argument @key,
 * call @try_destroy (which destroys and frees it, or fails and changes
 * nothing), and forget it if that succeeded.  Returns 0, RUN_EUSAGE, or
 * @try_destroy's error.
 */
int run_obj_destroy_arg(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
			const char *type, int (*try_destroy)(void *obj));
/* Call @fn for every live object of @type, in creation order. */
void run_obj_for_each(struct run_ctx *rc, const char *type,
		      void (*fn)(void *obj, const char *name, void *opaque), void *opaque);
/*
 * Run a command file (or @len bytes of @text) as `softiommu run` does and,
 * when every command succeeded, call @at_end with the run's objects still
 * alive (before they are destroyed); its return (TOOL_EXIT_*) is the exit
 * status.  `softiommu dump --run` is built on it.
 */
int run_file_then(const char *path, FILE *out,
		  int (*at_end)(struct run_ctx *rc, void *opaque), void *opaque);
int run_text_then(const char *name, char *text, size_t len, FILE *out,
		  int (*at_end)(struct run_ctx *rc, void *opaque), void *opaque);
/* Forget (without destroying) the object; for verbs that destroy it themselves. */
void run_obj_forget(struct run_ctx *rc, void *obj);

/* Add `key=value` to the command's result line (and to what expect checks). */
void run_result(struct run_ctx *rc, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print a free-form line of output (dumps, tables), verbatim. */
void run_print(struct run_ctx *rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The library context of this run. */
struct siommu_ctx *run_siommu(struct run_ctx *rc);

#endif
