// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `softiommu run FILE|-`: the command-language interpreter (see run.h).
 *
 * The whole file is read and parsed before anything runs: a syntax error,
 * an unknown verb or a line too long is reported as `file:line: ...` and the
 * run exits 1 having changed nothing.  Argument values are checked by each
 * verb when its line runs.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "tool.h"

#define RUN_MAX_LINE	4096
#define RUN_MAX_ARGS	64
#define RUN_MAX_RESULT	32

extern const struct run_verb run_verbs_base[];
/* Module tables: weak, so that a module not yet built leaves NULL here. */
#define WEAK_TABLE(m) extern const struct run_verb run_verbs_##m[] __attribute__((weak))
WEAK_TABLE(pgtable);
WEAK_TABLE(iotlb);
WEAK_TABLE(iova);
WEAK_TABLE(mem);
WEAK_TABLE(core);
WEAK_TABLE(ioas);
WEAK_TABLE(iopf);
WEAK_TABLE(mm);

static const struct run_verb *const *verb_tables(void)
{
	static const struct run_verb *tables[] = {
		run_verbs_base, run_verbs_pgtable, run_verbs_iotlb, run_verbs_iova,
		run_verbs_mem, run_verbs_core, run_verbs_ioas, run_verbs_iopf,
		run_verbs_mm, NULL,
	};
	return tables;
}

#define NR_TABLES 9

static const struct run_verb *find_verb(const char *name)
{
	const struct run_verb *const *t = verb_tables();
	unsigned int i;

	for (i = 0; i < NR_TABLES; i++) {
		const struct run_verb *v;

		if (!t[i])
			continue;
		for (v = t[i]; v->name; v++)
			if (!strcmp(v->name, name))
				return v;
	}
	return NULL;
}

void run_list_verbs(FILE *f)
{
	const struct run_verb *const *t = verb_tables();
	unsigned int i;

	fprintf(f, "Commands of the run language (one per line; `expect` checks the previous one):\n");
	fprintf(f, "  %-52s %s\n", "expect ok | err=NAME | KEY=VALUE ...",
		"check the previous command's outcome");
	fprintf(f, "Any command takes as=NAME: its result values are kept under NAME (a failed\n"
		   "command unsets it); a later unquoted value uses them as $NAME.FIELD or\n"
		   "${NAME.FIELD}, optionally +N or -N: `domain-dma-map ... as=buf` then\n"
		   "`dma-read ... iova=$buf.iova+0x10`.  An unknown variable or field is an error.\n");
	for (i = 0; i < NR_TABLES; i++) {
		const struct run_verb *v;

		if (!t[i])
			continue;
		for (v = t[i]; v->name; v++)
			fprintf(f, "  %-52s %s\n", v->synopsis, v->help);
	}
}

struct run_obj {
	char *type;
	char *name;
	void *obj;
	void (*destroy)(void *obj);
	struct run_obj *next;
};

struct run_result {
	char *key;
	char *val;
};

/* A variable: the result values of a command run with as=NAME. */
struct run_var {
	char *name;
	struct run_result *vals;
	unsigned int nvals;
	unsigned int line;		/* where it was set */
	struct run_var *next;
};

struct run_line {
	unsigned int line;
	bool is_expect;
	const struct run_verb *verb;
	struct run_cmd cmd;
};

struct run_ctx {
	const char *file;
	FILE *out;
	struct siommu_ctx *ctx;
	struct run_obj *objs;		/* newest first */
	struct run_var *vars;
	/* the outcome of the last command, for `expect` */
	const char *last_verb;
	int last_err;
	struct run_result results[RUN_MAX_RESULT];
	unsigned int nr_results;
	bool result_overflow;
	bool failed;
};

int run_error(struct run_ctx *rc, const struct run_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(rc->out);
	fprintf(stderr, "%s:%u: ", cmd->file, cmd->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	rc->failed = true;
	return RUN_EUSAGE;
}

struct siommu_ctx *run_siommu(struct run_ctx *rc)
{
	return rc->ctx;
}

/* ---- numbers ---- */

int run_parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0, mul = 1;
	const char *p = s;
	int base = 10;

	if (!s || !*s)
		return -EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!*p)
			return -EINVAL;
	}
	for (; *p; p++) {
		unsigned int d;

		if (isdigit((unsigned char)*p))
			d = (unsigned int)(*p - '0');
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = (unsigned int)(tolower((unsigned char)*p) - 'a' + 10);
		else
			break;
		if (__builtin_mul_overflow(x, (uint64_t)base, &x) ||
		    __builtin_add_overflow(x, d, &x))
			return -ERANGE;
	}
	if (*p) {
		switch (*p) {
		case 'K': mul = 1ull << 10; break;
		case 'M': mul = 1ull << 20; break;
		case 'G': mul = 1ull << 30; break;
		case 'T': mul = 1ull << 40; break;
		default: return -EINVAL;
		}
		if (p[1] || p == s || (base == 16 && p == s + 2))
			return -EINVAL;
	}
	if (__builtin_mul_overflow(x, mul, &x))
		return -ERANGE;
	*v = x;
	return 0;
}

/* ---- arguments ---- */

static struct run_arg *find_arg(struct run_cmd *cmd, const char *key)
{
	unsigned int i;

	for (i = 0; i < cmd->nargs; i++) {
		if (!strcmp(cmd->args[i].key, key)) {
			cmd->args[i].used = true;
			return &cmd->args[i];
		}
	}
	return NULL;
}

bool run_arg_has(struct run_cmd *cmd, const char *key)
{
	unsigned int i;

	for (i = 0; i < cmd->nargs; i++)
		if (!strcmp(cmd->args[i].key, key))
			return true;
	return false;
}

int run_arg_u64_opt(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		    uint64_t *v, uint64_t def)
{
	struct run_arg *a = find_arg(cmd, key);
	int ret;

	if (!a) {
		*v = def;
		return 0;
	}
	ret = run_parse_u64(a->val, v);
	if (ret == -ERANGE)
		return run_error(rc, cmd, "%s: '%s' does not fit in 64 bits", key, a->val);
	if (ret)
		return run_error(rc, cmd, "%s: expected a number (decimal, 0x hex, optional K/M/G/T), got '%s'",
				 key, a->val);
	return 0;
}

int run_arg_u64(struct run_ctx *rc, struct run_cmd *cmd, const char *key, uint64_t *v)
{
	if (!run_arg_has(cmd, key))
		return run_error(rc, cmd, "%s: missing %s=", cmd->verb, key);
	return run_arg_u64_opt(rc, cmd, key, v, 0);
}

int run_arg_str_opt(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		    const char **v, const char *def)
{
	struct run_arg *a = find_arg(cmd, key);

	*v = a ? a->val : def;
	return 0;
}

int run_arg_str(struct run_ctx *rc, struct run_cmd *cmd, const char *key, const char **v)
{
	if (!run_arg_has(cmd, key))
		return run_error(rc, cmd, "%s: missing %s=", cmd->verb, key);
	return run_arg_str_opt(rc, cmd, key, v, NULL);
}

int run_arg_bool_opt(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		     bool *v, bool def)
{
	struct run_arg *a = find_arg(cmd, key);

	if (!a) {
		*v = def;
		return 0;
	}
	if (!strcmp(a->val, "1") || !strcmp(a->val, "yes") || !strcmp(a->val, "on") ||
	    !strcmp(a->val, "true"))
		*v = true;
	else if (!strcmp(a->val, "0") || !strcmp(a->val, "no") || !strcmp(a->val, "off") ||
		 !strcmp(a->val, "false"))
		*v = false;
	else
		return run_error(rc, cmd, "%s: expected yes/no, got '%s'", key, a->val);
	return 0;
}

int run_arg_enum_opt(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		     const char *const *names, int *v, int def)
{
	struct run_arg *a = find_arg(cmd, key);
	char choices[512];
	size_t n = 0;
	int i;

	if (!a) {
		*v = def;
		return 0;
	}
	for (i = 0; names[i]; i++) {
		if (!strcmp(names[i], a->val)) {
			*v = i;
			return 0;
		}
	}
	choices[0] = '\0';
	for (i = 0; names[i] && n < sizeof(choices) - 1; i++) {
		int w = snprintf(choices + n, sizeof(choices) - n, "%s%s",
				 i ? ", " : "", names[i]);
		if (w < 0 || (size_t)w >= sizeof(choices) - n)
			break;
		n += (size_t)w;
	}
	return run_error(rc, cmd, "%s: '%s' is not one of: %s", key, a->val, choices);
}

int run_arg_enum(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		 const char *const *names, int *v)
{
	if (!run_arg_has(cmd, key))
		return run_error(rc, cmd, "%s: missing %s=", cmd->verb, key);
	return run_arg_enum_opt(rc, cmd, key, names, v, 0);
}

int run_arg_letters(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		    const char *letters, const char *def, unsigned int *bits)
{
	char spaced[64];
	const char *s, *p;
	size_t i, n = 0;

	if (run_arg_str_opt(rc, cmd, key, &s, def))
		return RUN_EUSAGE;
	*bits = 0;
	for (; *s; s++) {
		p = strchr(letters, *s);
		if (!p) {
			for (i = 0; letters[i] && n + 3 < sizeof(spaced); i++) {
				spaced[n++] = letters[i];
				spaced[n++] = ' ';
			}
			spaced[n ? n - 1 : 0] = '\0';
			return run_error(rc, cmd, "%s: letters %s, got '%c'", key, spaced, *s);
		}
		*bits |= 1u << (p - letters);
	}
	return 0;
}

void run_result_letters(struct run_ctx *rc, const char *key, const char *letters,
			unsigned int bits)
{
	char buf[33];
	unsigned int i, n = 0;

	for (i = 0; letters[i] && i < 32; i++)
		if (bits & (1u << i))
			buf[n++] = letters[i];
	buf[n] = '\0';
	run_result(rc, key, "%s", n ? buf : "-");
}

int run_arg_pgsizes(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		    uint64_t *bitmap)
{
	const char *s;
	char *copy, *tok, *save;
	int ret = 0;

	*bitmap = 0;
	if (!run_arg_has(cmd, key))
		return 0;
	run_arg_str(rc, cmd, key, &s);
	copy = strdup(s);
	if (!copy)
		return run_error(rc, cmd, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "4K"))
			*bitmap |= SIOMMU_PT_SZ_4K;
		else if (!strcmp(tok, "2M"))
			*bitmap |= SIOMMU_PT_SZ_2M;
		else if (!strcmp(tok, "1G"))
			*bitmap |= SIOMMU_PT_SZ_1G;
		else
			ret = run_error(rc, cmd, "%s: a list of 4K, 2M, 1G, got '%s'", key, tok);
	}
	free(copy);
	if (!ret && !*bitmap)
		ret = run_error(rc, cmd, "%s: a list of 4K, 2M, 1G, got '%s'", key, s);
	return ret;
}

const char *run_pgsize_name(int lg2)
{
	switch (lg2) {
	case 12:
		return "4K";
	case 21:
		return "2M";
	case 30:
		return "1G";
	default:
		return NULL;
	}
}

/* ---- objects ---- */

void *run_obj_find(struct run_ctx *rc, const char *type, const char *name)
{
	struct run_obj *o;

	for (o = rc->objs; o; o = o->next)
		if (!strcmp(o->type, type) && !strcmp(o->name, name))
			return o->obj;
	return NULL;
}

int run_obj_add(struct run_ctx *rc, struct run_cmd *cmd, const char *type,
		const char *name, void *obj, void (*destroy)(void *obj))
{
	struct run_obj *o;

	if (run_obj_find(rc, type, name)) {
		if (destroy)
			destroy(obj);
		return run_error(rc, cmd, "%s %s named '%s' exists already",
				 strchr("aeiou", type[0]) ? "an" : "a", type, name);
	}
	o = calloc(1, sizeof(*o));
	if (!o || !(o->type = strdup(type)) || !(o->name = strdup(name))) {
		if (o) {
			free(o->type);
			free(o);
		}
		if (destroy)
			destroy(obj);
		return run_error(rc, cmd, "out of memory");
	}
	o->obj = obj;
	o->destroy = destroy;
	o->next = rc->objs;
	rc->objs = o;
	return 0;
}

void *run_obj_arg(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
		  const char *type)
{
	const char *name;
	void *obj;

	if (!run_arg_has(cmd, key)) {
		run_error(rc, cmd, "%s: missing %s=", cmd->verb, key);
		return NULL;
	}
	run_arg_str(rc, cmd, key, &name);
	obj = run_obj_find(rc, type, name);
	if (!obj)
		run_error(rc, cmd, "%s: no %s named '%s'", key, type, name);
	return obj;
}

int run_obj_destroy_arg(struct run_ctx *rc, struct run_cmd *cmd, const char *key,
			const char *type, int (*try_destroy)(void *obj))
{
	void *obj = run_obj_arg(rc, cmd, key, type);
	int ret;

	if (!obj)
		return RUN_EUSAGE;
	ret = try_destroy(obj);
	if (!ret)
		run_obj_forget(rc, obj);
	return ret;
}

static void obj_free(struct run_obj *o)
{
	free(o->type);
	free(o->name);
	free(o);
}

void run_obj_forget(struct run_ctx *rc, void *obj)
{
	struct run_obj **pp, *o;

	for (pp = &rc->objs; (o = *pp); pp = &o->next) {
		if (o->obj == obj) {
			*pp = o->next;
			obj_free(o);
			return;
		}
	}
}

/* ---- results ---- */

static void clear_results(struct run_ctx *rc)
{
	unsigned int i;

	for (i = 0; i < rc->nr_results; i++) {
		free(rc->results[i].key);
		free(rc->results[i].val);
	}
	rc->nr_results = 0;
	rc->result_overflow = false;
}

void run_result(struct run_ctx *rc, const char *key, const char *fmt, ...)
{
	struct run_result *r;
	va_list ap;
	char *val;

	va_start(ap, fmt);
	if (vasprintf(&val, fmt, ap) < 0)
		val = NULL;
	va_end(ap);
	if (!val || rc->nr_results == RUN_MAX_RESULT) {
		rc->result_overflow = true;	/* reported when the line is printed */
		free(val);
		return;
	}
	r = &rc->results[rc->nr_results++];
	r->key = strdup(key);
	r->val = val;
}

void run_print(struct run_ctx *rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(rc->out, fmt, ap);
	va_end(ap);
	fputc('\n', rc->out);
}

static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || *s == '"' || *s == '#' || *s == '\\')
			return true;
	return false;
}

static void print_value(FILE *f, const char *s)
{
	if (!needs_quotes(s)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void print_outcome(struct run_ctx *rc)
{
	unsigned int i;

	if (rc->last_err) {
		fprintf(rc->out, "%s: error %s (%s)\n", rc->last_verb,
			siommu_errname(rc->last_err), siommu_strerror(rc->last_err));
		return;
	}
	if (!rc->nr_results)
		return;
	fprintf(rc->out, "%s:", rc->last_verb);
	for (i = 0; i < rc->nr_results; i++) {
		fprintf(rc->out, " %s=", rc->results[i].key);
		print_value(rc->out, rc->results[i].val);
	}
	fputc('\n', rc->out);
}

/* ---- variables ---- */

static bool name_char(char ch, bool first)
{
	return isalpha((unsigned char)ch) || ch == '_' || (!first && isdigit((unsigned char)ch));
}

/* A variable name: a letter or '_', then letters, digits, '_'. */
static size_t var_name_len(const char *s)
{
	size_t n = 0;

	while (name_char(s[n], n == 0))
		n++;
	return n;
}

struct var_ref {
	const char *name, *field;
	size_t name_len, field_len;
	size_t len;			/* of the whole reference, '$' included */
};

/*
 * Parse the reference at @s ('$'): $NAME.FIELD (FIELD: letters, digits, '_')
 * or ${NAME.FIELD} (FIELD may also contain '-').  Returns 0 or -EINVAL.
 */
static int parse_ref(const char *s, struct var_ref *r)
{
	const char *p = s + 1;
	bool brace = *p == '{';

	if (brace)
		p++;
	r->name = p;
	r->name_len = var_name_len(p);
	p += r->name_len;
	if (!r->name_len || *p != '.')
		return -EINVAL;
	r->field = ++p;
	while (isalnum((unsigned char)*p) || *p == '_' || (brace && *p == '-'))
		p++;
	r->field_len = (size_t)(p - r->field);
	if (!r->field_len || (brace && *p != '}'))
		return -EINVAL;
	if (brace)
		p++;
	r->len = (size_t)(p - s);
	return 0;
}

/* Length of the number token at @s (0x hex or decimal, optional K/M/G/T). */
static size_t number_len(const char *s)
{
	size_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		n = 2;
		while (isxdigit((unsigned char)s[n]))
			n++;
	} else {
		while (isdigit((unsigned char)s[n]))
			n++;
	}
	if (n && s[n] && strchr("KMGT", s[n]))
		n++;
	return n;
}

/* Every '$' of an unquoted value must start a well-formed reference. */
static int check_refs(const char *val, const char **err)
{
	struct var_ref r;
	const char *p;

	for (p = strchr(val, '$'); p; p = strchr(p + r.len, '$')) {
		if (parse_ref(p, &r)) {
			*err = "a '$' starts a variable reference, $NAME.FIELD or ${NAME.FIELD} "
			       "(quote the value for a literal '$')";
			return -EINVAL;
		}
	}
	return 0;
}

static struct run_var *var_find(struct run_ctx *rc, const char *name, size_t len)
{
	struct run_var *v;

	for (v = rc->vars; v; v = v->next)
		if (strlen(v->name) == len && !strncmp(v->name, name, len))
			return v;
	return NULL;
}

static void var_free(struct run_var *v)
{
	unsigned int i;

	for (i = 0; i < v->nvals; i++) {
		free(v->vals[i].key);
		free(v->vals[i].val);
	}
	free(v->vals);
	free(v->name);
	free(v);
}

static void var_unset(struct run_ctx *rc, const char *name)
{
	struct run_var **pp, *v;

	for (pp = &rc->vars; (v = *pp); pp = &v->next) {
		if (!strcmp(v->name, name)) {
			*pp = v->next;
			var_free(v);
			return;
		}
	}
}

/* Bind @name to the current command's results (replacing an older binding). */
static int var_set(struct run_ctx *rc, const struct run_cmd *cmd, const char *name)
{
	struct run_var *v;
	unsigned int i;

	if (!rc->nr_results)
		return run_error(rc, cmd, "as=%s: %s reported no values to keep", name, cmd->verb);
	v = calloc(1, sizeof(*v));
	if (!v || !(v->name = strdup(name)) ||
	    !(v->vals = calloc(rc->nr_results, sizeof(*v->vals)))) {
		if (v)
			free(v->name);
		free(v);
		return run_error(rc, cmd, "out of memory");
	}
	for (i = 0; i < rc->nr_results; i++) {
		v->vals[i].key = strdup(rc->results[i].key);
		v->vals[i].val = strdup(rc->results[i].val);
		v->nvals++;
		if (!v->vals[i].key || !v->vals[i].val) {
			var_free(v);
			return run_error(rc, cmd, "out of memory");
		}
	}
	v->line = cmd->line;
	var_unset(rc, name);
	v->next = rc->vars;
	rc->vars = v;
	return 0;
}

/* @name's command failed: unset it, remembering where (for the message). */
static void var_failed(struct run_ctx *rc, const struct run_cmd *cmd, const char *name)
{
	struct run_var *v;

	var_unset(rc, name);
	v = calloc(1, sizeof(*v));
	if (!v || !(v->name = strdup(name))) {
		free(v);
		return;				/* then it is merely unknown */
	}
	v->line = cmd->line;
	v->next = rc->vars;
	rc->vars = v;
}

/* The value of reference @r, or NULL after reporting. */
static const char *ref_value(struct run_ctx *rc, const struct run_cmd *cmd,
			     const struct var_ref *r)
{
	struct run_var *v = var_find(rc, r->name, r->name_len);
	char fields[256];
	size_t n = 0;
	unsigned int i;

	if (!v) {
		run_error(rc, cmd, "unknown variable '$%.*s' (keep a command's results with as=%.*s)",
			  (int)r->name_len, r->name, (int)r->name_len, r->name);
		return NULL;
	}
	if (!v->nvals) {
		run_error(rc, cmd, "variable '$%s' is not set: its command at line %u failed",
			  v->name, v->line);
		return NULL;
	}
	for (i = 0; i < v->nvals; i++)
		if (strlen(v->vals[i].key) == r->field_len &&
		    !strncmp(v->vals[i].key, r->field, r->field_len))
			return v->vals[i].val;
	fields[0] = '\0';
	for (i = 0; i < v->nvals && n < sizeof(fields); i++) {
		int w = snprintf(fields + n, sizeof(fields) - n, "%s%s", i ? ", " : "",
				 v->vals[i].key);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	run_error(rc, cmd, "$%s (set at line %u) has no field '%.*s'; it has: %s", v->name,
		  v->line, (int)r->field_len, r->field, fields);
	return NULL;
}

/*
 * Replace the references of @a's value.  Returns 0 or RUN_EUSAGE (after
 * reporting); @a->expanded owns the new value until free_expanded().
 */
static int expand_arg(struct run_ctx *rc, const struct run_cmd *cmd, struct run_arg *a)
{
	const char *p, *q, *val;
	struct var_ref r;
	size_t size = 0;
	char *out = NULL;
	FILE *f;
	int ret = 0;

	if (a->quoted || !a->val || !strchr(a->val, '$'))
		return 0;
	f = open_memstream(&out, &size);
	if (!f)
		return run_error(rc, cmd, "out of memory");
	for (p = a->val; (q = strchr(p, '$')) && !ret; p = q) {
		uint64_t x, y;
		char num[32];

		fwrite(p, 1, (size_t)(q - p), f);
		if (parse_ref(q, &r)) {		/* checked when the file was read */
			ret = run_error(rc, cmd, "%s: bad variable reference", a->key);
			break;
		}
		val = ref_value(rc, cmd, &r);
		if (!val) {
			ret = RUN_EUSAGE;
			break;
		}
		q += r.len;
		if ((*q != '+' && *q != '-') || !number_len(q + 1)) {
			fputs(val, f);
			continue;
		}
		if (run_parse_u64(val, &x)) {
			ret = run_error(rc, cmd, "%s: $%.*s.%.*s is '%s', not a number to add to",
					a->key, (int)r.name_len, r.name, (int)r.field_len,
					r.field, val);
			break;
		}
		while ((*q == '+' || *q == '-') && number_len(q + 1)) {
			size_t n = number_len(q + 1);
			bool add = *q == '+';
			uint64_t before = x;

			snprintf(num, sizeof(num), "%.*s", (int)n, q + 1);
			if (n >= sizeof(num) || run_parse_u64(num, &y) ||
			    (add ? __builtin_add_overflow(x, y, &x) : __builtin_sub_overflow(x, y, &x))) {
				ret = run_error(rc, cmd, "%s: 0x%" PRIx64 "%c%.*s is out of the 64-bit range",
						a->key, before, *q, (int)n, q + 1);
				break;
			}
			q += 1 + n;
		}
		fprintf(f, "0x%" PRIx64, x);
	}
	if (!ret && p)
		fputs(p, f);
	if (fclose(f) || !out) {
		free(out);
		return ret ? ret : run_error(rc, cmd, "out of memory");
	}
	if (ret) {
		free(out);
		return ret;
	}
	a->expanded = out;
	a->val = out;
	return 0;
}

static int expand_args(struct run_ctx *rc, struct run_cmd *cmd)
{
	unsigned int i;

	for (i = 0; i < cmd->nargs; i++)
		if (expand_arg(rc, cmd, &cmd->args[i]))
			return RUN_EUSAGE;
	return 0;
}

static void free_expanded(struct run_cmd *cmd)
{
	unsigned int i;

	for (i = 0; i < cmd->nargs; i++) {
		free(cmd->args[i].expanded);
		cmd->args[i].expanded = NULL;
	}
}

/* ---- lexing ---- */

/*
 * Next word of @*pp, unquoted in place: a word ends at white space or at a
 * '#' outside quotes.  Returns 1 with *word set, 0 at the end of the line, or
 * -EINVAL with *err set.
 */
static int next_word(char **pp, char **word, bool *was_quoted, const char **err)
{
	char *p = *pp, *d;
	bool quoted = false;

	*was_quoted = false;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	*word = d = p;
	for (;;) {
		if (!*p) {
			if (quoted) {
				*err = "unterminated quoted value";
				return -EINVAL;
			}
			break;
		}
		if (!quoted && (isspace((unsigned char)*p) || *p == '#'))
			break;
		if (*p == '"') {
			if (!quoted && p != *word && p[-1] != '=') {
				*err = "a quote may only open a value (key=\"...\")";
				return -EINVAL;
			}
			if (quoted && p[1] && !isspace((unsigned char)p[1]) && p[1] != '#') {
				*err = "text right after a closing quote";
				return -EINVAL;
			}
			quoted = !quoted;
			*was_quoted = true;
			p++;
			continue;
		}
		if (quoted && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		*d++ = *p++;
	}
	if (*p == '#')
		*pp = p;	/* leave the comment for the next call to see */
	else
		*pp = *p ? p + 1 : p;
	*d = '\0';
	return 1;
}

/* Split @buf (modified in place) into a verb and key=value words. */
static int lex_line(char *buf, struct run_cmd *cmd, struct run_arg *args,
		    const char **err)
{
	char *p = buf, *w, *eq, *c;
	bool quoted;
	int r;

	cmd->verb = NULL;
	cmd->nargs = 0;
	cmd->args = args;
	while ((r = next_word(&p, &w, &quoted, err)) == 1) {
		if (!cmd->verb) {
			for (c = w; *c; c++) {
				if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_') {
					*err = "a line starts with its command (letters, digits, '-', '_')";
					return -EINVAL;
				}
			}
			cmd->verb = w;
			continue;
		}
		if (cmd->nargs == RUN_MAX_ARGS) {
			*err = "too many arguments";
			return -E2BIG;
		}
		eq = strchr(w, '=');
		if (eq)
			*eq = '\0';
		if (!*w) {
			*err = "an argument has an empty key";
			return -EINVAL;
		}
		for (c = w; *c; c++) {
			if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.') {
				*err = "a key is made of letters, digits, '_', '-' and '.'";
				return -EINVAL;
			}
		}
		args[cmd->nargs].key = w;
		args[cmd->nargs].val = eq ? eq + 1 : NULL;
		args[cmd->nargs].used = false;
		args[cmd->nargs].quoted = quoted;
		args[cmd->nargs].expanded = NULL;
		if (eq && !strcmp(w, "as") && (quoted || !var_name_len(eq + 1) ||
					       eq[1 + var_name_len(eq + 1)])) {
			*err = eq[1] == '$' ?
			       "as=NAME names the variable without '$' (as=buf, then $buf.FIELD)" :
			       "as=NAME: a variable name is a letter or '_', then letters, digits, '_'";
			return -EINVAL;
		}
		if (eq && !quoted && check_refs(eq + 1, err))
			return -EINVAL;
		cmd->nargs++;
	}
	return r;
}

/* ---- expect ---- */

static int do_expect(struct run_ctx *rc, struct run_cmd *cmd)
{
	unsigned int i, j;

	if (!rc->last_verb)
		return run_error(rc, cmd, "expect: no command before it to check");
	if (cmd->nargs == 0)
		return run_error(rc, cmd, "expect: say what to expect: ok, err=NAME or KEY=VALUE ...");
	for (i = 0; i < cmd->nargs; i++) {
		struct run_arg *a = &cmd->args[i];

		if (!a->val) {
			if (strcmp(a->key, "ok"))
				return run_error(rc, cmd, "expect: unknown word '%s' (ok, err=NAME, KEY=VALUE)",
						 a->key);
			if (rc->last_err)
				return run_error(rc, cmd, "expect failed: %s: expected ok, got error %s (%s)",
						 rc->last_verb, siommu_errname(rc->last_err),
						 siommu_strerror(rc->last_err));
			continue;
		}
		if (!strcmp(a->key, "err")) {
			int want;

			if (siommu_errname_parse(a->val, &want))
				return run_error(rc, cmd, "expect: '%s' is not an error name (EEXIST, EINVAL, ... or OK)",
						 a->val);
			if (want != rc->last_err)
				return run_error(rc, cmd, "expect failed: %s: expected %s, got %s",
						 rc->last_verb, siommu_errname(want),
						 siommu_errname(rc->last_err));
			continue;
		}
		if (rc->last_err)
			return run_error(rc, cmd, "expect failed: %s failed with %s, so it has no %s",
					 rc->last_verb, siommu_errname(rc->last_err), a->key);
		for (j = 0; j < rc->nr_results; j++)
			if (!strcmp(rc->results[j].key, a->key))
				break;
		if (j == rc->nr_results)
			return run_error(rc, cmd, "expect failed: %s reported no %s",
					 rc->last_verb, a->key);
		if (strcmp(rc->results[j].val, a->val)) {
			uint64_t x, y;

			/* numbers compare by value: 4K == 4096 == 0x1000 */
			if (!run_parse_u64(rc->results[j].val, &x) &&
			    !run_parse_u64(a->val, &y) && x == y)
				continue;
			return run_error(rc, cmd, "expect failed: %s: expected %s, got %s",
					 a->key, a->val, rc->results[j].val);
		}
	}
	rc->last_err = 0;	/* an expected error has been handled */
	return 0;
}

/* ---- the run ---- */

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap), *nb;
	size_t r;

	if (!buf)
		return NULL;
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n - 1 == 0) {
			if (cap > (256u << 20)) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

void run_obj_for_each(struct run_ctx *rc, const char *type,
		      void (*fn)(void *obj, const char *name, void *opaque), void *opaque)
{
	struct run_obj *o, *prev = NULL, *last;

	/* rc->objs is newest first: walk it from the oldest */
	for (last = NULL; last != rc->objs; last = prev) {
		for (o = rc->objs; o->next != last; o = o->next)
			;
		prev = o;
		if (!strcmp(o->type, type))
			fn(o->obj, o->name, opaque);
	}
}

static int run_text_do(const char *name, char *text, size_t len, FILE *out,
		       int (*at_end)(struct run_ctx *rc, void *opaque), void *opaque,
		       bool check_only);

int run_file(const char *path, FILE *out)
{
	return run_file_then(path, out, NULL, NULL);
}

/* Read @path (- for standard input) whole; NULL with the error printed. */
static char *read_path(const char *path, size_t *len)
{
	char *text;
	FILE *f;

	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		fprintf(stderr, "softiommu run: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	text = read_all(f, len);
	if (f != stdin)
		fclose(f);
	if (!text)
		fprintf(stderr, "softiommu run: cannot read %s: %s\n", path, strerror(errno));
	return text;
}

static int run_path(const char *path, FILE *out,
		    int (*at_end)(struct run_ctx *rc, void *opaque), void *opaque,
		    bool check_only)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	size_t len;
	char *text = read_path(path, &len);
	int ret;

	if (!text)
		return TOOL_EXIT_FAIL;
	ret = run_text_do(name, text, len, out, at_end, opaque, check_only);
	free(text);
	return ret;
}

int run_file_then(const char *path, FILE *out,
		  int (*at_end)(struct run_ctx *rc, void *opaque), void *opaque)
{
	return run_path(path, out, at_end, opaque, false);
}

int run_file_check(const char *path)
{
	return run_path(path, NULL, NULL, NULL, true);
}

int run_text(const char *name, char *text, size_t len, FILE *out)
{
	return run_text_then(name, text, len, out, NULL, NULL);
}

int run_text_check(const char *name, char *text, size_t len)
{
	return run_text_do(name, text, len, NULL, NULL, NULL, true);
}

int run_text_then(const char *name, char *text, size_t len, FILE *out,
		  int (*at_end)(struct run_ctx *rc, void *opaque), void *opaque)
{
	return run_text_do(name, text, len, out, at_end, opaque, false);
}

/*
 * Pass 1 lexes and checks every line (syntax, references, known verbs,
 * key=value); pass 2 runs them.  @check_only stops after pass 1.
 */
static int run_text_do(const char *name, char *text, size_t len, FILE *out,
		       int (*at_end)(struct run_ctx *rc, void *opaque), void *opaque,
		       bool check_only)
{
	struct run_ctx rc = { .out = out, .file = name };
	struct run_line *lines = NULL;
	unsigned int nlines = 0, cap = 0, i, lineno = 0;
	char *p;
	int ret = TOOL_EXIT_FAIL;

	if (memchr(text, '\0', len)) {
		fprintf(stderr, "%s: contains a NUL byte: not a command file\n", rc.file);
		return TOOL_EXIT_FAIL;
	}

	/* Pass 1: lex and check every line. */
	for (p = text; *p; ) {
		char *eol = strchr(p, '\n');
		struct run_arg args[RUN_MAX_ARGS];
		struct run_cmd cmd;
		const char *err = NULL;

		lineno++;
		if (eol)
			*eol = '\0';
		if (strlen(p) > RUN_MAX_LINE) {
			fprintf(stderr, "%s:%u: line longer than %d characters\n", rc.file,
				lineno, RUN_MAX_LINE);
			goto out;
		}
		if (lex_line(p, &cmd, args, &err)) {
			fprintf(stderr, "%s:%u: %s\n", rc.file, lineno, err);
			goto out;
		}
		if (cmd.verb) {
			struct run_line *l;

			if (nlines == cap) {
				struct run_line *nl;

				cap = cap ? cap * 2 : 64;
				nl = realloc(lines, cap * sizeof(*lines));
				if (!nl) {
					fprintf(stderr, "%s: out of memory\n", rc.file);
					goto out;
				}
				lines = nl;
			}
			l = &lines[nlines];
			memset(l, 0, sizeof(*l));
			l->line = lineno;
			l->is_expect = !strcmp(cmd.verb, "expect");
			if (!l->is_expect) {
				l->verb = find_verb(cmd.verb);
				if (!l->verb) {
					fprintf(stderr, "%s:%u: unknown command '%s' (softiommu run --list shows them)\n",
						rc.file, lineno, cmd.verb);
					goto out;
				}
			}
			for (i = 0; i < cmd.nargs; i++) {
				if (!cmd.args[i].val && !l->is_expect) {
					fprintf(stderr, "%s:%u: %s: '%s' is not key=value\n",
						rc.file, lineno, cmd.verb, cmd.args[i].key);
					goto out;
				}
			}
			l->cmd = cmd;
			l->cmd.file = rc.file;
			l->cmd.line = lineno;
			l->cmd.args = NULL;
			if (cmd.nargs) {
				l->cmd.args = malloc(cmd.nargs * sizeof(*args));
				if (!l->cmd.args) {
					fprintf(stderr, "%s: out of memory\n", rc.file);
					nlines++;
					goto out;
				}
				memcpy(l->cmd.args, args, cmd.nargs * sizeof(*args));
			}
			nlines++;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	if (check_only) {
		ret = TOOL_EXIT_OK;
		goto out;
	}

	ret = siommu_ctx_create(&rc.ctx);
	if (ret) {
		fprintf(stderr, "softiommu run: cannot create a context: %s\n", siommu_strerror(ret));
		ret = TOOL_EXIT_FAIL;
		goto out;
	}

	/* Pass 2: run. */
	ret = TOOL_EXIT_FAIL;
	for (i = 0; i < nlines; i++) {
		struct run_line *l = &lines[i];
		const char *as;
		unsigned int k;
		int r;

		if (l->is_expect) {
			r = expand_args(&rc, &l->cmd);
			if (!r)
				r = do_expect(&rc, &l->cmd);
			free_expanded(&l->cmd);
			if (r)
				goto out_ctx;
			continue;
		}
		if (rc.last_err) {
			/* the previous command failed and nobody expected it */
			fprintf(stderr, "%s:%u: %s failed: %s (%s); add `expect err=%s` after it if that is intended\n",
				rc.file, lines[i - 1].line, rc.last_verb,
				siommu_errname(rc.last_err), siommu_strerror(rc.last_err),
				siommu_errname(rc.last_err));
			goto out_ctx;
		}
		clear_results(&rc);
		rc.last_verb = l->verb->name;
		rc.last_err = 0;
		as = NULL;
		for (k = 0; k < l->cmd.nargs; k++) {
			if (!strcmp(l->cmd.args[k].key, "as")) {
				as = l->cmd.args[k].val;	/* checked: a name, no references */
				l->cmd.args[k].used = true;
			}
		}
		if (expand_args(&rc, &l->cmd)) {
			free_expanded(&l->cmd);
			goto out_ctx;
		}
		r = l->verb->fn(&rc, &l->cmd);
		free_expanded(&l->cmd);
		if (r == RUN_EUSAGE || rc.failed)
			goto out_ctx;
		for (k = 0; k < l->cmd.nargs; k++) {
			if (!l->cmd.args[k].used) {
				run_error(&rc, &l->cmd, "%s: unknown argument '%s' (usage: %s)",
					  l->verb->name, l->cmd.args[k].key, l->verb->synopsis);
				goto out_ctx;
			}
		}
		if (rc.result_overflow) {
			run_error(&rc, &l->cmd, "%s: too many result values (more than %d)",
				  l->verb->name, RUN_MAX_RESULT);
			goto out_ctx;
		}
		if (r > 0) {
			run_error(&rc, &l->cmd, "%s: internal error: verb returned %d",
				  l->verb->name, r);
			goto out_ctx;
		}
		rc.last_err = r;
		print_outcome(&rc);
		if (as && r)
			var_failed(&rc, &l->cmd, as);
		else if (as && var_set(&rc, &l->cmd, as))
			goto out_ctx;
	}
	if (rc.last_err) {
		fprintf(stderr, "%s:%u: %s failed: %s (%s); add `expect err=%s` after it if that is intended\n",
			rc.file, lines[nlines - 1].line, rc.last_verb,
			siommu_errname(rc.last_err), siommu_strerror(rc.last_err),
			siommu_errname(rc.last_err));
		goto out_ctx;
	}
	ret = TOOL_EXIT_OK;
	if (at_end) {
		fflush(rc.out);
		ret = at_end(&rc, opaque);
	}

out_ctx:
	fflush(rc.out);
	while (rc.objs) {
		struct run_obj *o = rc.objs;

		rc.objs = o->next;
		if (o->destroy)
			o->destroy(o->obj);
		obj_free(o);
	}
	clear_results(&rc);
	while (rc.vars) {
		struct run_var *v = rc.vars;

		rc.vars = v->next;
		var_free(v);
	}
	if (siommu_ctx_destroy(rc.ctx)) {
		fprintf(stderr, "%s: objects still alive at the end of the run\n", rc.file);
		ret = TOOL_EXIT_FAIL;
	}
out:
	for (i = 0; i < nlines; i++)
		free(lines[i].cmd.args);
	free(lines);
	return ret;
}
