// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Run-language verbs of the base layer: messages, errors, logging, trace
 * events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "run.h"

static int verb_echo(struct run_ctx *rc, struct run_cmd *cmd)
{
	const char *msg;

	if (run_arg_str(rc, cmd, "msg", &msg))
		return RUN_EUSAGE;
	run_print(rc, "%s", msg);
	return 0;
}

static int verb_error(struct run_ctx *rc, struct run_cmd *cmd)
{
	const char *name;
	uint64_t code;
	int err;

	if (run_arg_has(cmd, "name") == run_arg_has(cmd, "code"))
		return run_error(rc, cmd, "error: give exactly one of name=NAME or code=N");
	if (run_arg_has(cmd, "name")) {
		run_arg_str(rc, cmd, "name", &name);
		if (siommu_errname_parse(name, &err))
			return run_error(rc, cmd, "name: '%s' is not an error name", name);
	} else {
		if (run_arg_u64(rc, cmd, "code", &code))
			return RUN_EUSAGE;
		if (code > 4095)
			return run_error(rc, cmd, "code: errno values are below 4096, got %" PRIu64, code);
		err = -(int)code;
	}
	run_result(rc, "name", "%s", siommu_errname(err));
	run_result(rc, "code", "%d", -err);
	run_result(rc, "msg", "%s", siommu_strerror(err));
	return 0;
}

/* Deterministic sinks: no task, pid, CPU or time in the output. */
static void log_sink(void *opaque, enum siommu_log_level level, const char *msg)
{
	run_print(opaque, "log: %s: %s", siommu_log_level_name(level), msg);
}

static void trace_sink(void *opaque, const struct siommu_trace_record *rec)
{
	char text[512];

	if (siommu_trace_format(&rec->ev, text, sizeof(text)) < 0)
		run_print(opaque, "trace: %s: <unprintable>", siommu_trace_type_name(rec->ev.type));
	else
		run_print(opaque, "trace: %s: %s", siommu_trace_type_name(rec->ev.type), text);
}

/* level=NAME, parsed by the library (siommu_log_level_parse()). */
static int arg_level(struct run_ctx *rc, struct run_cmd *cmd, const char *def,
		     enum siommu_log_level *level)
{
	const char *name;

	if (!def && !run_arg_has(cmd, "level"))
		return run_error(rc, cmd, "%s: missing level=", cmd->verb);
	run_arg_str_opt(rc, cmd, "level", &name, def);
	if (siommu_log_level_parse(name, level))
		return run_error(rc, cmd, "level: err, warn, info or debug, got '%s'", name);
	return 0;
}

static int verb_log_level(struct run_ctx *rc, struct run_cmd *cmd)
{
	enum siommu_log_level lvl;

	if (arg_level(rc, cmd, NULL, &lvl))
		return RUN_EUSAGE;
	return siommu_ctx_set_log(run_siommu(rc), lvl, log_sink, rc);
}

static int verb_log(struct run_ctx *rc, struct run_cmd *cmd)
{
	enum siommu_log_level lvl;
	const char *msg;

	if (arg_level(rc, cmd, "info", &lvl) || run_arg_str(rc, cmd, "msg", &msg))
		return RUN_EUSAGE;
	siommu_log(run_siommu(rc), lvl, "%s", msg);
	return 0;
}

static int verb_trace(struct run_ctx *rc, struct run_cmd *cmd)
{
	bool on;

	if (!run_arg_has(cmd, "on"))
		return run_error(rc, cmd, "trace: missing on=yes|no");
	if (run_arg_bool_opt(rc, cmd, "on", &on, false))
		return RUN_EUSAGE;
	return siommu_ctx_set_trace(run_siommu(rc), on ? trace_sink : NULL, rc);
}

static const char *const event_names[] = {
	"add_device_to_group", "remove_device_from_group", "attach_device_to_domain",
	"detach_device_from_domain", "map", "unmap", "io_page_fault", NULL,
};

static int verb_trace_emit(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_trace_event ev = { 0 };
	uint64_t gid, flags;
	int type;

	if (run_arg_enum(rc, cmd, "event", event_names, &type) ||
	    run_arg_u64_opt(rc, cmd, "iova", &ev.iova, 0) ||
	    run_arg_u64_opt(rc, cmd, "paddr", &ev.paddr, 0) ||
	    run_arg_u64_opt(rc, cmd, "size", &ev.size, 0) ||
	    run_arg_u64_opt(rc, cmd, "unmapped", &ev.unmapped_size, ev.size) ||
	    run_arg_u64_opt(rc, cmd, "gid", &gid, 0) ||
	    run_arg_u64_opt(rc, cmd, "flags", &flags, 0) ||
	    run_arg_str_opt(rc, cmd, "device", &ev.device, NULL) ||
	    run_arg_str_opt(rc, cmd, "driver", &ev.driver, NULL))
		return RUN_EUSAGE;
	if (gid > INT32_MAX || flags > INT32_MAX)
		return run_error(rc, cmd, "gid and flags must fit in an int");
	ev.type = (enum siommu_trace_type)type;
	ev.gid = (int)gid;
	ev.flags = (int)flags;
	return siommu_trace_emit(run_siommu(rc), &ev);
}

static int verb_trace_parse(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_trace_record rec;
	char strbuf[512], again[640];
	const char *line;
	int ret;

	if (run_arg_str(rc, cmd, "line", &line))
		return RUN_EUSAGE;
	ret = siommu_trace_parse_line(line, &rec, strbuf, sizeof(strbuf));
	if (ret)
		return ret;
	run_result(rc, "task", "%s", rec.task);
	run_result(rc, "pid", "%d", rec.pid);
	run_result(rc, "cpu", "%d", rec.cpu);
	run_result(rc, "ts_ns", "%" PRIu64, rec.ts_ns);
	run_result(rc, "event", "%s", siommu_trace_type_name(rec.ev.type));
	switch (rec.ev.type) {
	case SIOMMU_TRACE_MAP:
		run_result(rc, "iova", "0x%" PRIx64, rec.ev.iova);
		run_result(rc, "paddr", "0x%" PRIx64, rec.ev.paddr);
		run_result(rc, "size", "%" PRIu64, rec.ev.size);
		break;
	case SIOMMU_TRACE_UNMAP:
		run_result(rc, "iova", "0x%" PRIx64, rec.ev.iova);
		run_result(rc, "size", "%" PRIu64, rec.ev.size);
		run_result(rc, "unmapped", "%" PRIu64, rec.ev.unmapped_size);
		break;
	case SIOMMU_TRACE_IO_PAGE_FAULT:
		run_result(rc, "driver", "%s", rec.ev.driver);
		run_result(rc, "device", "%s", rec.ev.device);
		run_result(rc, "iova", "0x%" PRIx64, rec.ev.iova);
		run_result(rc, "flags", "0x%x", rec.ev.flags);
		break;
	case SIOMMU_TRACE_ADD_DEVICE_TO_GROUP:
	case SIOMMU_TRACE_REMOVE_DEVICE_FROM_GROUP:
		run_result(rc, "gid", "%d", rec.ev.gid);
		/* fallthrough */
	default:
		run_result(rc, "device", "%s", rec.ev.device);
		break;
	}
	ret = siommu_trace_format_line(&rec, again, sizeof(again));
	if (ret < 0)
		return ret;
	run_result(rc, "roundtrip", "%s", strcmp(again, line) ? "no" : "yes");
	return 0;
}

const struct run_verb run_verbs_base[] = {
	{ "echo", "echo msg=TEXT", "print TEXT", verb_echo },
	{ "error", "error name=NAME | code=N", "describe an error value", verb_error },
	{ "log-level", "log-level level=err|warn|info|debug",
	  "print library messages at LEVEL or above as `log: LEVEL: ...`", verb_log_level },
	{ "log", "log msg=TEXT [level=info]", "log TEXT through the context", verb_log },
	{ "trace", "trace on=yes|no", "print the context's trace events as `trace: EVENT: TEXT`",
	  verb_trace },
	{ "trace-emit", "trace-emit event=NAME [iova= paddr= size= unmapped= gid= flags= device= driver=]",
	  "emit a trace event through the context", verb_trace_emit },
	{ "trace-parse", "trace-parse line=TEXT",
	  "parse one line of a Linux trace and check it formats back identically", verb_trace_parse },
	{ NULL, NULL, NULL, NULL },
};
