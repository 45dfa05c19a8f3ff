// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Run-language verbs of the physical memory map: maps, regions (library
 * RAM, caller memory, and a built-in MMIO device), reads and writes with
 * hex data, revocation with a printing notifier, user counts, lookups,
 * dumps and statistics.
 *
 * The MMIO device is a register file ("regs"): it stores what is written
 * and returns it on reads, and with log=yes prints every callback as
 * `mmio: REGION read|write off=0x.. size=N val=0x..`, which shows the
 * splitting of accesses into naturally aligned pieces and that no
 * callback runs once a revoke has returned.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/mem.h>

#include "run.h"
#include "verbs.h"

#define MEM_TYPE	RUN_MEM_TYPE
#define REGION_TYPE	"mem-region"
#define DATA_MAX	256u		/* bytes a read or write may move */
#define REGS_MAX	4096u		/* the register file's largest size */

struct cli_region;

struct cli_mem {
	struct siommu_mem *mem;
	struct siommu_mem_notifier *notifier;	/* NULL without notify=yes */
	struct run_ctx *rc;
	struct cli_region *regions;		/* to name regions in messages */
};

struct siommu_mem *run_mem_of(void *obj)
{
	return ((struct cli_mem *)obj)->mem;
}

struct cli_region {
	struct cli_region *next;
	struct cli_mem *m;
	struct siommu_mem_region *r;
	char *name;
	uint8_t *host;			/* caller memory of a "host" region */
	uint8_t *regs;			/* the register file of a "regs" region */
	bool log;
	uint64_t held;			/* user counts taken by mem-get */
};

struct siommu_mem_region *run_region_of(void *obj)
{
	return ((struct cli_region *)obj)->r;
}

struct siommu_mem *run_region_mem(void *obj)
{
	return ((struct cli_region *)obj)->m->mem;
}

static const char *const kind_names[] = { "ram", "host", "regs", NULL };
/* What a command file may ask for (the library itself takes up to 64 GiB of RAM). */
static const uint64_t size_max[] = { 256ull << 20, 1ull << 20, REGS_MAX };

static const char *type_name(enum siommu_mem_type t)
{
	switch (t) {
	case SIOMMU_MEM_RAM:
		return "ram";
	case SIOMMU_MEM_HOST:
		return "host";
	case SIOMMU_MEM_MMIO:
		return "mmio";
	default:
		return "?";
	}
}

static const char *region_name(struct cli_mem *m, struct siommu_mem_region *r)
{
	struct cli_region *c;

	for (c = m->regions; c; c = c->next)
		if (c->r == r)
			return c->name;
	return "?";
}

/* ---- the register file ---- */

static int regs_read(void *opaque, uint64_t off, unsigned int size, uint64_t *val)
{
	struct cli_region *c = opaque;
	unsigned int i;

	*val = 0;
	for (i = 0; i < size; i++)
		*val |= (uint64_t)c->regs[off + i] << (8 * i);
	if (c->log)
		run_print(c->m->rc, "mmio: %s read off=0x%" PRIx64 " size=%u val=0x%" PRIx64,
			  c->name, off, size, *val);
	return 0;
}

static int regs_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct cli_region *c = opaque;
	unsigned int i;

	for (i = 0; i < size; i++)
		c->regs[off + i] = (uint8_t)(val >> (8 * i));
	if (c->log)
		run_print(c->m->rc, "mmio: %s write off=0x%" PRIx64 " size=%u val=0x%" PRIx64,
			  c->name, off, size, val);
	return 0;
}

static const struct siommu_mem_mmio_ops regs_ops = { regs_read, regs_write };

/* ---- maps ---- */

static void notify_print(void *opaque, struct siommu_mem_region *r)
{
	struct cli_mem *m = opaque;
	struct siommu_mem_region_info info;

	siommu_mem_region_info(r, &info);
	run_print(m->rc, "mem-notify: revoke region=%s pa=0x%" PRIx64 " size=0x%" PRIx64
		  " users=%" PRIu64, region_name(m, r), info.pa, info.size, info.users);
}

static void mem_obj_destroy(void *obj)
{
	struct cli_mem *m = obj;

	siommu_mem_notifier_unregister(m->notifier);
	if (siommu_mem_destroy(m->mem))
		run_print(m->rc, "mem: map left busy at the end of the run");
	free(m);
}

static int verb_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_mem *m;
	const char *name;
	bool notify;
	int ret;

	if (run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_bool_opt(rc, cmd, "notify", &notify, false))
		return RUN_EUSAGE;
	if (run_obj_find(rc, MEM_TYPE, name))
		return run_error(rc, cmd, "a %s named '%s' exists already", MEM_TYPE, name);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->rc = rc;
	ret = siommu_mem_create(run_siommu(rc), &m->mem);
	if (!ret && notify)
		ret = siommu_mem_notifier_register(m->mem, notify_print, m, &m->notifier);
	if (ret) {
		siommu_mem_destroy(m->mem);
		free(m);
		return ret;
	}
	return run_obj_add(rc, cmd, MEM_TYPE, name, m, mem_obj_destroy);
}

static int verb_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_mem *m = run_obj_arg(rc, cmd, "mem", MEM_TYPE);
	struct siommu_mem_notifier *n;
	int ret;

	if (!m)
		return RUN_EUSAGE;
	if (m->regions)		/* busy: let the library say so, notifier still registered */
		return siommu_mem_destroy(m->mem);
	n = m->notifier;
	m->notifier = NULL;
	ret = siommu_mem_notifier_unregister(n);
	if (ret && n)
		return ret;
	ret = siommu_mem_destroy(m->mem);
	if (ret)
		return ret;
	run_obj_forget(rc, m);
	free(m);
	return 0;
}

/* ---- regions ---- */

static void region_free(struct cli_region *c)
{
	struct cli_region **pp;

	for (pp = &c->m->regions; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	free(c->host);
	free(c->regs);
	free(c->name);
	free(c);
}

static void region_obj_destroy(void *obj)
{
	struct cli_region *c = obj;

	while (c->held && !siommu_mem_region_put(c->r))
		c->held--;
	if (siommu_mem_region_destroy(c->r))
		run_print(c->m->rc, "mem: region %s left busy at the end of the run", c->name);
	else
		region_free(c);
}

static int verb_add(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_mem *m = run_obj_arg(rc, cmd, "mem", MEM_TYPE);
	struct cli_region *c;
	uint64_t pa, size, fill;
	const char *name;
	bool log;
	int kind, ret;

	if (!m || run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_enum(rc, cmd, "kind", kind_names, &kind) ||
	    run_arg_u64(rc, cmd, "pa", &pa) ||
	    run_arg_u64(rc, cmd, "size", &size) ||
	    run_arg_u64_opt(rc, cmd, "fill", &fill, 0) ||
	    run_arg_bool_opt(rc, cmd, "log", &log, false))
		return RUN_EUSAGE;
	if (run_obj_find(rc, REGION_TYPE, name))
		return run_error(rc, cmd, "a %s named '%s' exists already", REGION_TYPE, name);
	if (fill > 0xff)
		return run_error(rc, cmd, "fill: a byte value, got 0x%" PRIx64, fill);
	if (run_arg_has(cmd, "fill") && kind != 1)
		return run_error(rc, cmd, "fill: only for kind=host (RAM starts zeroed)");
	if (run_arg_has(cmd, "log") && kind != 2)
		return run_error(rc, cmd, "log: only for kind=regs");
	if (size > size_max[kind])
		return run_error(rc, cmd, "size: at most 0x%" PRIx64 " for kind=%s", size_max[kind],
				 kind_names[kind]);

	c = calloc(1, sizeof(*c));
	if (!c || !(c->name = strdup(name))) {
		free(c);
		return -ENOMEM;
	}
	c->m = m;
	c->log = log;
	switch (kind) {
	case 0:
		ret = siommu_mem_add_ram(m->mem, pa, size, &c->r);
		break;
	case 1:
		/* size 0 goes to the library, which refuses it */
		c->host = malloc(size ? size : 1);
		if (!c->host) {
			ret = -ENOMEM;
			break;
		}
		memset(c->host, (int)fill, size);
		ret = siommu_mem_add_host(m->mem, pa, c->host, size, &c->r);
		break;
	default:
		c->regs = calloc(1, size ? size : 1);
		ret = c->regs ? siommu_mem_add_mmio(m->mem, pa, size, &regs_ops, c, &c->r) :
				-ENOMEM;
		break;
	}
	if (ret) {
		free(c->host);
		free(c->regs);
		free(c->name);
		free(c);
		return ret;
	}
	c->next = m->regions;
	m->regions = c;
	return run_obj_add(rc, cmd, REGION_TYPE, name, c, region_obj_destroy);
}

static int verb_revoke(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_region *c = run_obj_arg(rc, cmd, "region", REGION_TYPE);

	if (!c)
		return RUN_EUSAGE;
	return siommu_mem_region_revoke(c->r);
}

static int region_try_destroy(void *obj)
{
	struct cli_region *c = obj;
	int ret = siommu_mem_region_destroy(c->r);

	if (!ret)
		region_free(c);
	return ret;
}

static int verb_region_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "region", REGION_TYPE, region_try_destroy);
}

static int verb_get(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_region *c = run_obj_arg(rc, cmd, "region", REGION_TYPE);
	struct siommu_mem_region_info info;
	int ret;

	if (!c)
		return RUN_EUSAGE;
	ret = siommu_mem_region_get(c->r);
	if (ret)
		return ret;
	c->held++;
	siommu_mem_region_info(c->r, &info);
	run_result(rc, "users", "%" PRIu64, info.users);
	return 0;
}

static int verb_put(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_region *c = run_obj_arg(rc, cmd, "region", REGION_TYPE);
	struct siommu_mem_region_info info;
	int ret;

	if (!c)
		return RUN_EUSAGE;
	ret = siommu_mem_region_put(c->r);
	if (ret)
		return ret;
	if (c->held)
		c->held--;
	siommu_mem_region_info(c->r, &info);
	run_result(rc, "users", "%" PRIu64, info.users);
	return 0;
}

static void result_info(struct run_ctx *rc, const struct siommu_mem_region_info *info)
{
	run_result(rc, "pa", "0x%" PRIx64, info->pa);
	run_result(rc, "size", "0x%" PRIx64, info->size);
	run_result(rc, "type", "%s", type_name(info->type));
	run_result(rc, "revoked", "%s", info->revoked ? "yes" : "no");
	run_result(rc, "users", "%" PRIu64, info->users);
}

static int verb_info(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_region *c = run_obj_arg(rc, cmd, "region", REGION_TYPE);
	struct siommu_mem_region_info info;
	int ret;

	if (!c)
		return RUN_EUSAGE;
	ret = siommu_mem_region_info(c->r, &info);
	if (ret)
		return ret;
	result_info(rc, &info);
	return 0;
}

/* ---- accesses ---- */

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int verb_write(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_mem *m = run_obj_arg(rc, cmd, "mem", MEM_TYPE);
	uint8_t buf[DATA_MAX];
	const char *data;
	size_t i, len;
	uint64_t pa;

	if (!m || run_arg_u64(rc, cmd, "pa", &pa) || run_arg_str(rc, cmd, "data", &data))
		return RUN_EUSAGE;
	len = strlen(data);
	if (len == 0 || len % 2 || len / 2 > DATA_MAX)
		return run_error(rc, cmd, "data: 1 to %u bytes as pairs of hex digits", DATA_MAX);
	len /= 2;
	for (i = 0; i < len; i++) {
		int hi = hex_digit(data[2 * i]), lo = hex_digit(data[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return run_error(rc, cmd, "data: '%c%c' is not a hex byte",
					 data[2 * i], data[2 * i + 1]);
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	return siommu_mem_rw(m->mem, pa, buf, len, true);
}

static int verb_read(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_mem *m = run_obj_arg(rc, cmd, "mem", MEM_TYPE);
	char hex[2 * DATA_MAX + 1];
	uint8_t buf[DATA_MAX];
	uint64_t pa, len;
	size_t i;
	int ret;

	if (!m || run_arg_u64(rc, cmd, "pa", &pa) || run_arg_u64(rc, cmd, "len", &len))
		return RUN_EUSAGE;
	if (len > DATA_MAX)
		return run_error(rc, cmd, "len: at most %u bytes", DATA_MAX);
	/* len 0 goes to the library, which refuses it */
	ret = siommu_mem_rw(m->mem, pa, buf, (size_t)len, false);
	if (ret)
		return ret;
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", buf[i]);
	hex[2 * len] = '\0';
	run_result(rc, "data", "%s", hex);
	return 0;
}

static int verb_lookup(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_mem *m = run_obj_arg(rc, cmd, "mem", MEM_TYPE);
	struct siommu_mem_span span;
	uint64_t pa;
	int ret;

	if (!m || run_arg_u64(rc, cmd, "pa", &pa))
		return RUN_EUSAGE;
	siommu_read_lock();
	ret = siommu_mem_lookup_rcu(m->mem, pa, &span);
	if (!ret) {
		run_result(rc, "region", "%s", region_name(m, span.region));
		run_result(rc, "type", "%s", type_name(span.type));
		run_result(rc, "offset", "0x%" PRIx64, span.offset);
		run_result(rc, "len", "0x%" PRIx64, span.len);
	}
	siommu_read_unlock();
	return ret;
}

static int verb_check(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_mem *m = run_obj_arg(rc, cmd, "mem", MEM_TYPE);
	uint64_t pa, size;
	int ret;

	if (!m || run_arg_u64(rc, cmd, "pa", &pa) || run_arg_u64(rc, cmd, "size", &size))
		return RUN_EUSAGE;
	ret = siommu_mem_check_range(m->mem, pa, size);	/* -ENODEV: revoked bytes */
	if (ret)
		return ret;
	run_result(rc, "revoked", "no");
	return 0;
}

struct dump_arg {
	struct cli_mem *m;
	unsigned int n;
};

static int dump_one(void *opaque, struct siommu_mem_region *r,
		    const struct siommu_mem_region_info *info)
{
	struct dump_arg *a = opaque;

	run_print(a->m->rc, "  0x%016" PRIx64 "-0x%016" PRIx64 " %-4s %-12s users=%" PRIu64 "%s",
		  info->pa, info->pa + (info->size - 1), type_name(info->type),
		  region_name(a->m, r), info->users, info->revoked ? " revoked" : "");
	a->n++;
	return 0;
}

static int verb_dump(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_mem *m = run_obj_arg(rc, cmd, "mem", MEM_TYPE);
	struct dump_arg a = { .m = m };
	int ret;

	if (!m)
		return RUN_EUSAGE;
	ret = siommu_mem_for_each_region(m->mem, dump_one, &a);
	if (ret)
		return ret;
	run_result(rc, "regions", "%u", a.n);
	return 0;
}

static int verb_stats(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_mem *m = run_obj_arg(rc, cmd, "mem", MEM_TYPE);
	struct siommu_mem_stats st;
	int ret;

	if (!m)
		return RUN_EUSAGE;
	ret = siommu_mem_get_stats(m->mem, &st);
	if (ret)
		return ret;
	run_result(rc, "regions", "%u", st.regions);
	run_result(rc, "notifiers", "%u", st.notifiers);
	run_result(rc, "reads", "%" PRIu64, st.reads);
	run_result(rc, "writes", "%" PRIu64, st.writes);
	run_result(rc, "bytes_read", "%" PRIu64, st.bytes_read);
	run_result(rc, "bytes_written", "%" PRIu64, st.bytes_written);
	run_result(rc, "mmio_calls", "%" PRIu64, st.mmio_calls);
	run_result(rc, "err_unmapped", "%" PRIu64, st.err_unmapped);
	run_result(rc, "err_revoked", "%" PRIu64, st.err_revoked);
	run_result(rc, "err_mmio", "%" PRIu64, st.err_mmio);
	run_result(rc, "revokes", "%" PRIu64, st.revokes);
	return 0;
}

const struct run_verb run_verbs_mem[] = {
	{ "mem-create", "mem-create name=NAME [notify=no]",
	  "create a physical memory map; notify=yes prints each revoke as `mem-notify: ...`",
	  verb_create },
	{ "mem-destroy", "mem-destroy mem=NAME", "destroy a map (EBUSY while regions remain)",
	  verb_destroy },
	{ "mem-add", "mem-add mem=NAME name=REGION kind=ram|host|regs pa=N size=N [fill=B] [log=no]",
	  "add library RAM, caller memory (filled with B), or a register-file MMIO device",
	  verb_add },
	{ "mem-write", "mem-write mem=NAME pa=N data=HEX", "write bytes (hex, address order)",
	  verb_write },
	{ "mem-read", "mem-read mem=NAME pa=N len=N", "read bytes, printed as hex", verb_read },
	{ "mem-lookup", "mem-lookup mem=NAME pa=N", "which region holds an address",
	  verb_lookup },
	{ "mem-check", "mem-check mem=NAME pa=N size=N",
	  "whether a range touches a revoked region (ENODEV; bytes in no region are fine)",
	  verb_check },
	{ "mem-revoke", "mem-revoke region=REGION",
	  "revoke: later accesses fail ENODEV; returns when none is in flight", verb_revoke },
	{ "mem-region-destroy", "mem-region-destroy region=REGION",
	  "destroy a region (revokes it first; EBUSY while it has users)", verb_region_destroy },
	{ "mem-get", "mem-get region=REGION", "take a user count (as a mapping would)", verb_get },
	{ "mem-put", "mem-put region=REGION", "drop a user count", verb_put },
	{ "mem-info", "mem-info region=REGION", "a region's range, type, state and users",
	  verb_info },
	{ "mem-dump", "mem-dump mem=NAME", "list the regions in address order", verb_dump },
	{ "mem-stats", "mem-stats mem=NAME", "the map's access and revoke counters", verb_stats },
	{ NULL, NULL, NULL, NULL },
};
