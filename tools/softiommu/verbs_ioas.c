// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Run-language verbs of the ioas module: I/O address spaces (ioas-*),
 * their domains and the attachment of devices to them, and access objects
 * (access-*) with pin, unpin, rw and the unmap notification of seed 004.
 *
 * Memory.  A command file cannot name host memory, so ioas-map makes it:
 * mem=host (zeroed, page aligned, filled with fill=B), host-ro (the same,
 * mapped as read-only memory; 2 MiB aligned from 2 MiB on), memfd, memfd-sealed (F_SEAL_WRITE: only
 * read maps), file-ro (an unlinked temporary file opened O_RDONLY), or
 * region (region=R of a mem-add memory map, at offset=N).  The buffers
 * belong to the ioas layer object of the IOMMU (made by the first
 * ioas-create on it) and are freed with it, after every IOAS of it: pages
 * shared by ioas-copy may outlive the IOAS they were mapped in.
 *
 * Access objects: mode=coop (default: its callback unpins every pin it
 * holds in the asked range), stuck (its callback only prints), unrevocable
 * (no callback: its pins make an unmap EBUSY at once) or none (no callback:
 * rw only).  A callback prints `access: NAME asked iova=N size=N` and each
 * unpin it does.  An unmap refused with EBUSY prints, before its error line,
 * `ioas-unmap: still pinned by NAME#ID ...` (siommu_ioas_pin_holders()).
 *
 * At the end of the run objects go in reverse creation order: an access
 * drops its pins (whatever its mode) and is destroyed; an ioas domain is
 * detached from the devices ioas-attach attached and freed; an IOAS is
 * destroyed (its areas unmapped); the layer frees the buffers.
 *
 * Locking: none.  Everything here is used by the run's one thread; the
 * library calls the access callbacks on the thread of the command that
 * unmaps, revokes or destroys.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <softiommu/ioas.h>

#include "run.h"
#include "verbs.h"

#define LAYER_TYPE	"ioas-layer"
#define IOAS_TYPE	"ioas"
#define IDOM_TYPE	"ioas-domain"
#define ACCESS_TYPE	"access"
#define PG		SIOMMU_IOAS_PAGE_SIZE
#define SIZE_MAX_MAP	(256ull << 20)	/* what a command file may ask ioas-map to allocate */
#define DATA_MAX	4096u
#define PIN_PAGES_MAX	4096u
#define HOLDERS_MAX	16u

struct cli_buf {
	struct cli_buf *next;
	void *host;			/* aligned_alloc()ed, or NULL */
	int fd;				/* memfd / temporary file, or -1 */
};

struct cli_layer {
	struct siommu_ioas_layer *l;
	struct run_ctx *rc;
	struct cli_buf *bufs;
};

struct cli_access;

struct cli_ioas {
	struct siommu_ioas *ioas;
	struct cli_layer *cl;
	struct run_ctx *rc;
	struct cli_access *accs;	/* the accesses on it, for naming holders */
};

struct cli_attach {
	struct cli_attach *next;
	struct siommu_device *dev;
	uint32_t pasid;
};

struct cli_idom {
	struct cli_idom *next;		/* in all_idoms */
	struct siommu_domain *dom;
	struct cli_layer *cl;
	struct run_ctx *rc;
	struct cli_attach *attached;	/* what ioas-attach attached, for the teardown */
};

/*
 * Every ioas domain of the run, to forget an attachment record when the
 * device is attached elsewhere or detached (the run's one thread only; the
 * list is empty between runs).
 */
static struct cli_idom *all_idoms;

static void idom_unlink(struct cli_idom *cd)
{
	struct cli_idom **pp;

	for (pp = &all_idoms; *pp; pp = &(*pp)->next) {
		if (*pp == cd) {
			*pp = cd->next;
			return;
		}
	}
}

struct cli_pin {
	struct cli_pin *next;
	uint64_t iova, size;
};

enum access_mode { MODE_COOP, MODE_STUCK, MODE_UNREVOCABLE, MODE_NONE };
static const char *const mode_names[] = { "coop", "stuck", "unrevocable", "none", NULL };

struct cli_access {
	struct cli_access *next;	/* in ci->accs */
	struct cli_ioas *ci;
	struct siommu_ioas_access *acc;
	struct run_ctx *rc;
	char *name;
	int mode;
	bool teardown;			/* the run is ending: the callback unpins */
	struct cli_pin *pins;
};

/* ------------------------------------------------------------------ helpers */

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

static int parse_hex(struct run_ctx *rc, struct run_cmd *cmd, const char *s, uint8_t *buf,
		     size_t *len)
{
	size_t n = strlen(s), i;

	if (n == 0 || n % 2 || n / 2 > DATA_MAX)
		return run_error(rc, cmd, "data: 1 to %u bytes as pairs of hex digits", DATA_MAX);
	*len = n / 2;
	for (i = 0; i < *len; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return run_error(rc, cmd, "data: '%c%c' is not a hex byte", s[2 * i],
					 s[2 * i + 1]);
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void result_hex(struct run_ctx *rc, const char *key, const uint8_t *b, size_t len)
{
	static char hex[2 * DATA_MAX + 1];
	size_t i;

	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	hex[2 * len] = '\0';
	run_result(rc, key, "%s", hex);
}

/* prot=r, w or rw: SIOMMU_IOAS_MAP_READ/WRITE. */
static int arg_prot(struct run_ctx *rc, struct run_cmd *cmd, unsigned int *flags)
{
	unsigned int bits;

	if (run_arg_letters(rc, cmd, "prot", "rw", "rw", &bits))
		return RUN_EUSAGE;
	*flags = (bits & 1 ? SIOMMU_IOAS_MAP_READ : 0) | (bits & 2 ? SIOMMU_IOAS_MAP_WRITE : 0);
	return 0;
}

/* iova=N (fixed) or none (the IOAS chooses). */
static int arg_iova(struct run_ctx *rc, struct run_cmd *cmd, uint64_t *iova, unsigned int *flags)
{
	if (!run_arg_has(cmd, "iova"))
		return 0;
	*flags |= SIOMMU_IOAS_MAP_FIXED_IOVA;
	return run_arg_u64(rc, cmd, "iova", iova);
}

/* ------------------------------------------------------------------ layer and IOAS */

static void layer_obj_destroy(void *obj)
{
	struct cli_layer *cl = obj;
	struct cli_buf *b, *n;

	if (siommu_ioas_layer_destroy(cl->l))
		run_print(cl->rc, "ioas-layer: left busy at the end of the run");
	for (b = cl->bufs; b; b = n) {
		n = b->next;
		free(b->host);
		if (b->fd >= 0)
			close(b->fd);
		free(b);
	}
	free(cl);
}

/* The layer of the IOMMU named by iommu=: made (an object) at its first use. */
static struct cli_layer *layer_of(struct run_ctx *rc, struct run_cmd *cmd)
{
	const char *iname;
	void *iommu_obj;
	struct cli_layer *cl;
	int ret;

	if (run_arg_str(rc, cmd, "iommu", &iname))
		return NULL;
	cl = run_obj_find(rc, LAYER_TYPE, iname);
	if (cl)
		return cl;
	iommu_obj = run_obj_find(rc, RUN_IOMMU_TYPE, iname);
	if (!iommu_obj) {
		run_error(rc, cmd, "iommu: no %s named '%s'", RUN_IOMMU_TYPE, iname);
		return NULL;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		run_error(rc, cmd, "out of memory");
		return NULL;
	}
	cl->rc = rc;
	ret = siommu_ioas_layer_create(run_siommu(rc), run_iommu_of(iommu_obj), &cl->l);
	if (ret) {
		free(cl);
		run_error(rc, cmd, "ioas layer of '%s': %s", iname, siommu_strerror(ret));
		return NULL;
	}
	if (run_obj_add(rc, cmd, LAYER_TYPE, iname, cl, layer_obj_destroy))
		return NULL;
	return cl;
}

static void access_obj_destroy(void *obj);

struct siommu_ioas *run_ioas_of(void *obj)
{
	return ((struct cli_ioas *)obj)->ioas;
}

struct idom_name {
	struct siommu_domain *dom;
	const char *name;
};

static void idom_name_fn(void *obj, const char *name, void *opaque)
{
	struct idom_name *q = opaque;

	if (((struct cli_idom *)obj)->dom == q->dom)
		q->name = name;
}

const char *run_ioas_domain_name(struct run_ctx *rc, struct siommu_domain *dom)
{
	struct idom_name q = { .dom = dom };

	if (dom)
		run_obj_for_each(rc, IDOM_TYPE, idom_name_fn, &q);
	return q.name;
}

static void ioas_obj_destroy(void *obj)
{
	struct cli_ioas *ci = obj;

	/* Accesses moved here (access-replace) after it was made go first. */
	while (ci->accs) {
		struct cli_access *ca = ci->accs;

		run_obj_forget(ci->rc, ca);
		access_obj_destroy(ca);
		if (ci->accs == ca)
			break;		/* left busy: reported */
	}
	if (siommu_ioas_destroy(ci->ioas))
		run_print(ci->rc, "ioas: left busy at the end of the run");
	free(ci);
}

static int verb_ioas_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_layer *cl;
	struct cli_ioas *ci;
	const char *name;
	int ret;

	if (run_arg_str(rc, cmd, "name", &name))
		return RUN_EUSAGE;
	if (run_obj_find(rc, IOAS_TYPE, name))
		return run_error(rc, cmd, "an %s named '%s' exists already", IOAS_TYPE, name);
	cl = layer_of(rc, cmd);
	if (!cl)
		return RUN_EUSAGE;
	ci = calloc(1, sizeof(*ci));
	if (!ci)
		return -ENOMEM;
	ci->cl = cl;
	ci->rc = rc;
	ret = siommu_ioas_create(cl->l, &ci->ioas);
	if (ret) {
		free(ci);
		return ret;
	}
	return run_obj_add(rc, cmd, IOAS_TYPE, name, ci, ioas_obj_destroy);
}

static int ioas_try_destroy(void *obj)
{
	struct cli_ioas *ci = obj;
	int ret = siommu_ioas_destroy(ci->ioas);

	if (!ret)
		free(ci);
	return ret;
}

static int verb_ioas_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "ioas", IOAS_TYPE, ioas_try_destroy);
}

/* ------------------------------------------------------------------ map, copy, unmap */

static const char *const mem_names[] = { "host", "host-ro", "memfd", "memfd-sealed", "file-ro",
					 "region", NULL };
enum { MEM_HOST, MEM_HOST_RO, MEM_MEMFD, MEM_MEMFD_SEALED, MEM_FILE_RO, MEM_REGION };

/* Make the memory of a map (not REGION): @m filled in, the buffer kept by @cl. */
static int make_mem(struct run_ctx *rc, struct run_cmd *cmd, struct cli_layer *cl, int kind,
		    uint64_t size, uint8_t fill, struct siommu_ioas_mem *m)
{
	struct cli_buf *b = calloc(1, sizeof(*b));
	char path[] = "/tmp/softiommu-ioas-XXXXXX";
	int fd;

	if (!b)
		return -ENOMEM;
	b->fd = -1;
	if (kind == MEM_HOST || kind == MEM_HOST_RO) {
		/* 2 MiB aligned when it can hold 2 MiB, so that IOVA choices are deterministic */
		b->host = aligned_alloc(size >= (2u << 20) ? (2u << 20) : PG, size);
		if (!b->host) {
			free(b);
			return -ENOMEM;
		}
		memset(b->host, fill, size);
		m->type = SIOMMU_IOAS_MEM_HOST;
		m->host = b->host;
		m->flags = kind == MEM_HOST_RO ? SIOMMU_IOAS_MEM_READONLY : 0;
	} else {
		uint8_t *p;

		if (kind == MEM_FILE_RO)
			fd = mkstemp(path);
		else
			fd = memfd_create("softiommu-run", kind == MEM_MEMFD_SEALED ?
					  MFD_ALLOW_SEALING : 0);
		if (fd < 0 || ftruncate(fd, (off_t)size)) {
			if (fd >= 0)
				close(fd);
			free(b);
			return run_error(rc, cmd, "mem: cannot make the %s", mem_names[kind]);
		}
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			memset(p, fill, size);
			munmap(p, size);
		}
		if (kind == MEM_MEMFD_SEALED)
			fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW);
		if (kind == MEM_FILE_RO) {
			int ro = open(path, O_RDONLY | O_CLOEXEC);

			unlink(path);
			close(fd);
			fd = ro;
			if (fd < 0) {
				free(b);
				return run_error(rc, cmd, "mem: cannot reopen the file read-only");
			}
		}
		b->fd = fd;
		m->type = kind == MEM_FILE_RO ? SIOMMU_IOAS_MEM_FILE : SIOMMU_IOAS_MEM_MEMFD;
		m->fd = fd;
	}
	b->next = cl->bufs;
	cl->bufs = b;
	return 0;
}

static int verb_ioas_map(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	struct siommu_ioas_mem m = { .fd = -1 };
	uint64_t size, iova = 0, offset, fill;
	unsigned int flags;
	int kind, ret;

	if (!ci || run_arg_u64(rc, cmd, "size", &size) || arg_prot(rc, cmd, &flags) ||
	    arg_iova(rc, cmd, &iova, &flags) ||
	    run_arg_enum_opt(rc, cmd, "mem", mem_names, &kind,
			     run_arg_has(cmd, "region") ? MEM_REGION : MEM_HOST) ||
	    run_arg_u64_opt(rc, cmd, "offset", &offset, 0) ||
	    run_arg_u64_opt(rc, cmd, "fill", &fill, 0))
		return RUN_EUSAGE;
	if (fill > 0xff)
		return run_error(rc, cmd, "fill: a byte");
	if (kind == MEM_REGION) {
		void *r = run_obj_arg(rc, cmd, "region", RUN_REGION_TYPE);

		if (!r)
			return RUN_EUSAGE;
		m.type = SIOMMU_IOAS_MEM_REGION;
		m.mem = run_region_mem(r);
		m.region = run_region_of(r);
		m.offset = offset;
	} else {
		/* Bad sizes are the library's to refuse: make a valid buffer for them. */
		uint64_t alloc = size && size % PG == 0 && size <= SIZE_MAX_MAP ? size : PG;

		if (size > SIZE_MAX_MAP)
			return run_error(rc, cmd, "size: at most %llu bytes of made memory",
					 (unsigned long long)SIZE_MAX_MAP);
		ret = make_mem(rc, cmd, ci->cl, kind, alloc, (uint8_t)fill, &m);
		if (ret)
			return ret;
	}
	ret = siommu_ioas_map(ci->ioas, &m, size, flags, &iova);
	if (ret)
		return ret;
	run_result(rc, "iova", "0x%" PRIx64, iova);
	return 0;
}

static int verb_ioas_copy(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *dst = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	struct cli_ioas *src = run_obj_arg(rc, cmd, "src", IOAS_TYPE);
	uint64_t size, src_iova, iova = 0;
	unsigned int flags;
	int ret;

	if (!dst || !src || run_arg_u64(rc, cmd, "src-iova", &src_iova) ||
	    run_arg_u64(rc, cmd, "size", &size) || arg_prot(rc, cmd, &flags) ||
	    arg_iova(rc, cmd, &iova, &flags))
		return RUN_EUSAGE;
	ret = siommu_ioas_copy(dst->ioas, &iova, src->ioas, src_iova, size, flags);
	if (ret)
		return ret;
	run_result(rc, "iova", "0x%" PRIx64, iova);
	return 0;
}

/* Print who still pins [iova, iova + size - 1] (after an EBUSY). */
static void print_holders(struct run_ctx *rc, const char *verb, struct cli_ioas *ci,
			  uint64_t iova, uint64_t size)
{
	uint32_t ids[HOLDERS_MAX];
	char line[512];
	size_t len = 0;
	int n = siommu_ioas_pin_holders(ci->ioas, iova, size, ids, HOLDERS_MAX);

	if (n <= 0)
		return;
	line[0] = '\0';
	for (int i = 0; i < n && i < (int)HOLDERS_MAX; i++) {
		struct siommu_ioas_access_info ai;
		const char *name = "?";
		struct cli_access *ca;

		for (ca = ci->accs; ca; ca = ca->next)
			if (!siommu_ioas_access_get_info(ca->acc, &ai) && ai.id == ids[i])
				name = ca->name;
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s#%u", name, ids[i]);
		if (len >= sizeof(line))
			break;
	}
	run_print(rc, "%s: still pinned by%s", verb, line);
}

static int verb_ioas_unmap(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	uint64_t iova = 0, size = 0, unmapped = 0;
	bool all;
	int ret;

	if (!ci || run_arg_bool_opt(rc, cmd, "all", &all, false))
		return RUN_EUSAGE;
	if (!all && (run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "size", &size)))
		return RUN_EUSAGE;
	ret = all ? siommu_ioas_unmap_all(ci->ioas, &unmapped) :
		    siommu_ioas_unmap(ci->ioas, iova, size, &unmapped);
	if (ret == -EBUSY)
		print_holders(rc, cmd->verb, ci, all ? 0 : iova, all ? UINT64_MAX : size);
	if (ret)
		return ret;
	run_result(rc, "unmapped", "0x%" PRIx64, unmapped);
	return 0;
}

/* ------------------------------------------------------------------ ranges */

static int verb_ioas_iova_ranges(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	struct siommu_ioas_range r[64];
	uint64_t max;
	unsigned int num, i;
	int ret;

	if (!ci || run_arg_u64_opt(rc, cmd, "max", &max, 64))
		return RUN_EUSAGE;
	if (max > 64)
		return run_error(rc, cmd, "max: at most 64");
	num = (unsigned int)max;
	ret = siommu_ioas_iova_ranges(ci->ioas, max ? r : NULL, &num);
	if (ret == -EMSGSIZE)
		run_print(rc, "%s: %u ranges, room for %u", cmd->verb, num, (unsigned int)max);
	if (ret)
		return ret;
	for (i = 0; i < num; i++)
		run_print(rc, "  0x%016" PRIx64 "-0x%016" PRIx64, r[i].start, r[i].last);
	run_result(rc, "ranges", "%u", num);
	return 0;
}

/* ranges=START-LAST,START-LAST...  (at most 16), or absent: allow everything. */
static int verb_ioas_allow(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	struct siommu_ioas_range r[16];
	const char *spec;
	char buf[1024], *tok, *save = NULL;
	unsigned int n = 0;

	if (!ci || run_arg_str_opt(rc, cmd, "ranges", &spec, ""))
		return RUN_EUSAGE;
	if (strlen(spec) >= sizeof(buf))
		return run_error(rc, cmd, "ranges: too long");
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');

		if (n == 16)
			return run_error(rc, cmd, "ranges: at most 16");
		if (!dash)
			return run_error(rc, cmd, "ranges: START-LAST, got '%s'", tok);
		*dash = '\0';
		if (run_parse_u64(tok, &r[n].start) || run_parse_u64(dash + 1, &r[n].last))
			return run_error(rc, cmd, "ranges: START-LAST numbers, got '%s-%s'", tok,
					 dash + 1);
		n++;
	}
	return siommu_ioas_allow_iovas(ci->ioas, n ? r : NULL, n);
}

static int reserve_args(struct run_ctx *rc, struct run_cmd *cmd, struct cli_ioas **ci,
			uint64_t *start, uint64_t *last)
{
	*ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	if (!*ci || run_arg_u64(rc, cmd, "start", start) || run_arg_u64(rc, cmd, "last", last))
		return RUN_EUSAGE;
	return 0;
}

static int verb_ioas_reserve(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci;
	uint64_t start, last;

	if (reserve_args(rc, cmd, &ci, &start, &last))
		return RUN_EUSAGE;
	return siommu_ioas_reserve(ci->ioas, start, last);
}

static int verb_ioas_unreserve(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci;
	uint64_t start, last;

	if (reserve_args(rc, cmd, &ci, &start, &last))
		return RUN_EUSAGE;
	return siommu_ioas_unreserve(ci->ioas, start, last);
}

/* ------------------------------------------------------------------ queries */

static int verb_ioas_info(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	struct siommu_ioas_info info;
	int ret;

	if (!ci)
		return RUN_EUSAGE;
	ret = siommu_ioas_get_info(ci->ioas, &info);
	if (ret)
		return ret;
	run_result(rc, "areas", "%" PRIu64, info.areas);
	run_result(rc, "mapped", "0x%" PRIx64, info.mapped_bytes);
	run_result(rc, "domains", "%u", info.domains);
	run_result(rc, "filled", "%u", info.domains_filled);
	run_result(rc, "pages-objects", "%" PRIu64, info.pages_objects);
	run_result(rc, "accesses", "%u", info.accesses);
	run_result(rc, "pinned-pages", "%" PRIu64, info.pinned_pages);
	return 0;
}

static const char *mem_type_name(enum siommu_ioas_mem_type t)
{
	switch (t) {
	case SIOMMU_IOAS_MEM_HOST:
		return "host";
	case SIOMMU_IOAS_MEM_MEMFD:
		return "memfd";
	case SIOMMU_IOAS_MEM_FILE:
		return "file";
	case SIOMMU_IOAS_MEM_REGION:
		return "region";
	}
	return "?";
}

static int verb_ioas_area(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	struct siommu_ioas_area_info ai;
	uint64_t iova;
	int ret;

	if (!ci || run_arg_u64(rc, cmd, "iova", &iova))
		return RUN_EUSAGE;
	ret = siommu_ioas_area_find(ci->ioas, iova, &ai);
	if (ret)
		return ret;
	run_result(rc, "iova", "0x%" PRIx64, ai.iova);
	run_result(rc, "size", "0x%" PRIx64, ai.length);
	run_result_letters(rc, "prot", "rw", (ai.flags & SIOMMU_IOAS_MAP_READ ? 1 : 0) |
			   (ai.flags & SIOMMU_IOAS_MAP_WRITE ? 2 : 0));
	run_result(rc, "type", "%s", mem_type_name(ai.type));
	if (ai.type == SIOMMU_IOAS_MEM_REGION)
		run_result(rc, "pa", "0x%" PRIx64, ai.pa);	/* host addresses vary: not shown */
	run_result(rc, "pages-users", "%u", ai.pages_users);
	run_result(rc, "revoked", "%s", ai.revoked ? "yes" : "no");
	return 0;
}

static int verb_ioas_retries(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	uint64_t rounds;

	if (!ci || run_arg_u64(rc, cmd, "rounds", &rounds))
		return RUN_EUSAGE;
	return siommu_ioas_set_unmap_retries(ci->ioas, rounds > UINT32_MAX ? 0 : (unsigned int)rounds);
}

static int verb_ioas_holders(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	uint32_t ids[HOLDERS_MAX];
	uint64_t iova, size;
	char list[256];
	size_t len = 0;
	int n, i;

	if (!ci || run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "size", &size))
		return RUN_EUSAGE;
	n = siommu_ioas_pin_holders(ci->ioas, iova, size, ids, HOLDERS_MAX);
	if (n < 0)
		return n;
	list[0] = '\0';
	for (i = 0; i < n && i < (int)HOLDERS_MAX && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u", i ? "," : "", ids[i]);
	run_result(rc, "holders", "%d", n);
	run_result(rc, "ids", "%s", n ? list : "-");
	return 0;
}

/* ------------------------------------------------------------------ domains */

static void idom_detach_all(struct cli_idom *cd)
{
	struct cli_attach *a, *n;

	for (a = cd->attached; a; a = n) {
		n = a->next;
		if (a->pasid == SIOMMU_NO_PASID)
			siommu_device_detach(a->dev);
		else
			siommu_pasid_detach(a->dev, a->pasid);
		free(a);
	}
	cd->attached = NULL;
}

static void idom_obj_destroy(void *obj)
{
	struct cli_idom *cd = obj;

	idom_detach_all(cd);
	if (siommu_ioas_domain_free(cd->cl->l, cd->dom))
		run_print(cd->rc, "ioas-domain: left busy at the end of the run");
	idom_unlink(cd);
	free(cd);
}

static int verb_ioas_domain_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	struct siommu_domain_cfg cfg = { .type = SIOMMU_DOMAIN_PAGING };
	static const char *const unmap_names[] = { "strict", "lazy", NULL };
	struct cli_idom *cd;
	const char *name, *fmt;
	uint64_t levels;
	int mode, ret;

	if (!ci || run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_str_opt(rc, cmd, "fmt", &fmt, "x86-64") ||
	    run_arg_u64_opt(rc, cmd, "levels", &levels, 0) ||
	    run_arg_enum_opt(rc, cmd, "mode", unmap_names, &mode, 0))
		return RUN_EUSAGE;
	if (siommu_pt_fmt_parse(fmt, &cfg.fmt))
		return run_error(rc, cmd, "fmt: x86-64, vtd-ss or arm-lpae-s1, got '%s'", fmt);
	if (levels > 8)
		return run_error(rc, cmd, "levels: at most 8");
	cfg.levels = (unsigned int)levels;
	cfg.unmap_mode = (enum siommu_unmap_mode)mode;
	if (run_obj_find(rc, IDOM_TYPE, name))
		return run_error(rc, cmd, "an %s named '%s' exists already", IDOM_TYPE, name);
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	cd->cl = ci->cl;
	cd->rc = rc;
	ret = siommu_ioas_domain_alloc(ci->ioas, &cfg, &cd->dom);
	if (ret) {
		free(cd);
		return ret;
	}
	cd->next = all_idoms;
	all_idoms = cd;
	return run_obj_add(rc, cmd, IDOM_TYPE, name, cd, idom_obj_destroy);
}

static int idom_try_destroy(void *obj)
{
	struct cli_idom *cd = obj;
	int ret = siommu_ioas_domain_free(cd->cl->l, cd->dom);

	if (!ret) {
		idom_detach_all(cd);	/* nothing is attached: only the records go */
		idom_unlink(cd);
		free(cd);
	}
	return ret;
}

static int verb_ioas_domain_free(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "domain", IDOM_TYPE, idom_try_destroy);
}

static int attach_args(struct run_ctx *rc, struct run_cmd *cmd, struct siommu_device **dev,
		       uint32_t *pasid)
{
	void *d = run_obj_arg(rc, cmd, "dev", RUN_DEV_TYPE);
	uint64_t v;

	if (!d || run_arg_u64_opt(rc, cmd, "pasid", &v, SIOMMU_NO_PASID))
		return RUN_EUSAGE;
	if (v > UINT32_MAX)
		return run_error(rc, cmd, "pasid: at most 32 bits");
	*dev = run_device_of(d);
	*pasid = (uint32_t)v;
	return 0;
}

/* Forget the record of (@dev, @pasid) in every ioas domain: it was detached or replaced. */
static void forget_attach(struct run_ctx *rc, struct siommu_device *dev, uint32_t pasid,
			  struct cli_idom *except);

static int verb_ioas_attach(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_idom *cd = run_obj_arg(rc, cmd, "domain", IDOM_TYPE);
	struct siommu_device *dev;
	struct cli_attach *a;
	uint32_t pasid;
	int ret;

	if (!cd || attach_args(rc, cmd, &dev, &pasid))
		return RUN_EUSAGE;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	/* attach or replace: whatever was attached there is left for this domain */
	ret = pasid == SIOMMU_NO_PASID ? siommu_device_replace(dev, cd->dom) :
					 siommu_pasid_replace(dev, pasid, cd->dom);
	if (ret) {
		free(a);
		return ret;
	}
	forget_attach(rc, dev, pasid, NULL);
	a->dev = dev;
	a->pasid = pasid;
	a->next = cd->attached;
	cd->attached = a;
	return 0;
}

static int verb_ioas_detach(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct siommu_device *dev;
	uint32_t pasid;
	int ret;

	if (attach_args(rc, cmd, &dev, &pasid))
		return RUN_EUSAGE;
	ret = pasid == SIOMMU_NO_PASID ? siommu_device_detach(dev) :
					 siommu_pasid_detach(dev, pasid);
	if (!ret)
		forget_attach(rc, dev, pasid, NULL);
	return ret;
}

/* ------------------------------------------------------------------ access objects */

static void access_unpin_in(struct cli_access *ca, uint64_t iova, uint64_t last, bool say)
{
	struct cli_pin **pp = &ca->pins, *p;

	while ((p = *pp)) {
		if (p->iova <= last && iova <= p->iova + p->size - 1 &&
		    !siommu_ioas_access_unpin(ca->acc, p->iova, p->size)) {
			if (say)
				run_print(ca->rc, "access: %s unpinned iova=0x%" PRIx64 " size=0x%" PRIx64,
					  ca->name, p->iova, p->size);
			*pp = p->next;
			free(p);
		} else {
			pp = &p->next;
		}
	}
}

static void access_cb(void *opaque, uint64_t iova, uint64_t length)
{
	struct cli_access *ca = opaque;
	uint64_t last = length ? iova + (length - 1) : iova;

	if (length == UINT64_MAX)
		last = UINT64_MAX;
	if (ca->teardown) {
		access_unpin_in(ca, iova, last, false);
		return;
	}
	run_print(ca->rc, "access: %s asked iova=0x%" PRIx64 " size=0x%" PRIx64, ca->name, iova,
		  length);
	if (ca->mode == MODE_COOP)
		access_unpin_in(ca, iova, last, true);
}

static void access_unlink(struct cli_access *ca)
{
	struct cli_access **pp;

	for (pp = &ca->ci->accs; *pp; pp = &(*pp)->next) {
		if (*pp == ca) {
			*pp = ca->next;
			return;
		}
	}
}

static void access_free(struct cli_access *ca)
{
	access_unlink(ca);
	free(ca->name);
	free(ca);
}

static void access_obj_destroy(void *obj)
{
	struct cli_access *ca = obj;

	ca->teardown = true;
	access_unpin_in(ca, 0, UINT64_MAX, false);
	if (siommu_ioas_access_destroy(ca->acc)) {
		run_print(ca->rc, "access: left busy at the end of the run");
		return;		/* leaked: the library still knows it */
	}
	while (ca->pins) {
		struct cli_pin *p = ca->pins;

		ca->pins = p->next;
		free(p);
	}
	access_free(ca);
}

static int verb_access_create(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	struct cli_access *ca;
	const char *name;
	int mode, ret;

	if (!ci || run_arg_str(rc, cmd, "name", &name) ||
	    run_arg_enum_opt(rc, cmd, "mode", mode_names, &mode, MODE_COOP))
		return RUN_EUSAGE;
	if (run_obj_find(rc, ACCESS_TYPE, name))
		return run_error(rc, cmd, "an %s named '%s' exists already", ACCESS_TYPE, name);
	ca = calloc(1, sizeof(*ca));
	if (!ca)
		return -ENOMEM;
	ca->name = strdup(name);
	if (!ca->name) {
		free(ca);
		return -ENOMEM;
	}
	ca->ci = ci;
	ca->rc = rc;
	ca->mode = mode;
	ret = siommu_ioas_access_create(ci->ioas, name,
					mode == MODE_COOP || mode == MODE_STUCK ? access_cb : NULL,
					ca, mode == MODE_UNREVOCABLE ?
					SIOMMU_IOAS_ACCESS_UNREVOCABLE : 0, &ca->acc);
	if (ret) {
		free(ca->name);
		free(ca);
		return ret;
	}
	ca->next = ci->accs;
	ci->accs = ca;
	return run_obj_add(rc, cmd, ACCESS_TYPE, name, ca, access_obj_destroy);
}

static int access_try_destroy(void *obj)
{
	struct cli_access *ca = obj;
	int ret = siommu_ioas_access_destroy(ca->acc);

	if (!ret)
		access_free(ca);	/* destroy refuses while pins stay: no record left */
	return ret;
}

static int verb_access_destroy(struct run_ctx *rc, struct run_cmd *cmd)
{
	return run_obj_destroy_arg(rc, cmd, "access", ACCESS_TYPE, access_try_destroy);
}

static int verb_access_replace(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_access *ca = run_obj_arg(rc, cmd, "access", ACCESS_TYPE);
	struct cli_ioas *ci = run_obj_arg(rc, cmd, "ioas", IOAS_TYPE);
	int ret;

	if (!ca || !ci)
		return RUN_EUSAGE;
	ret = siommu_ioas_access_replace(ca->acc, ci->ioas);
	if (ret || ci == ca->ci)
		return ret;
	access_unlink(ca);
	ca->ci = ci;
	ca->next = ci->accs;
	ci->accs = ca;
	return 0;
}

static int verb_access_pin(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_access *ca = run_obj_arg(rc, cmd, "access", ACCESS_TYPE);
	static void *pages[PIN_PAGES_MAX];
	struct cli_pin *p;
	uint64_t iova, size;
	bool write;
	int ret;

	if (!ca || run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "size", &size) ||
	    run_arg_bool_opt(rc, cmd, "write", &write, false))
		return RUN_EUSAGE;
	if (size / PG > PIN_PAGES_MAX)
		return run_error(rc, cmd, "size: at most %u pages", PIN_PAGES_MAX);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	ret = siommu_ioas_access_pin(ca->acc, iova, size, write ? SIOMMU_IOAS_ACCESS_WRITE : 0,
				     pages);
	if (ret) {
		free(p);
		return ret;
	}
	p->iova = iova;
	p->size = size;
	p->next = ca->pins;
	ca->pins = p;
	run_result(rc, "pages", "%" PRIu64, (uint64_t)(size / PG));
	/* the first byte of each of the first pages: what the pin reaches */
	result_hex(rc, "first-bytes", (uint8_t[]){ *(uint8_t *)pages[0] }, 1);
	return 0;
}

static int verb_access_unpin(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_access *ca = run_obj_arg(rc, cmd, "access", ACCESS_TYPE);
	struct cli_pin **pp, *p;
	uint64_t iova, size;
	int ret;

	if (!ca || run_arg_u64(rc, cmd, "iova", &iova) || run_arg_u64(rc, cmd, "size", &size))
		return RUN_EUSAGE;
	ret = siommu_ioas_access_unpin(ca->acc, iova, size);
	if (ret)
		return ret;
	for (pp = &ca->pins; (p = *pp); pp = &p->next) {
		if (p->iova == iova && p->size == size) {
			*pp = p->next;
			free(p);
			break;
		}
	}
	return 0;
}

static int verb_access_rw(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_access *ca = run_obj_arg(rc, cmd, "access", ACCESS_TYPE);
	static uint8_t buf[DATA_MAX];
	const char *data;
	uint64_t iova, len;
	size_t n = 0;
	int ret;

	if (!ca || run_arg_u64(rc, cmd, "iova", &iova))
		return RUN_EUSAGE;
	if (run_arg_has(cmd, "data")) {
		if (run_arg_str(rc, cmd, "data", &data) || parse_hex(rc, cmd, data, buf, &n))
			return RUN_EUSAGE;
		return siommu_ioas_access_rw(ca->acc, iova, buf, n, SIOMMU_IOAS_ACCESS_WRITE);
	}
	if (run_arg_u64(rc, cmd, "len", &len))
		return RUN_EUSAGE;
	if (len > DATA_MAX)
		return run_error(rc, cmd, "len: at most %u bytes", DATA_MAX);
	ret = siommu_ioas_access_rw(ca->acc, iova, buf, (size_t)len, 0);
	if (ret)
		return ret;
	result_hex(rc, "data", buf, (size_t)len);
	return 0;
}

static int verb_access_info(struct run_ctx *rc, struct run_cmd *cmd)
{
	struct cli_access *ca = run_obj_arg(rc, cmd, "access", ACCESS_TYPE);
	struct siommu_ioas_access_info ai;
	int ret;

	if (!ca)
		return RUN_EUSAGE;
	ret = siommu_ioas_access_get_info(ca->acc, &ai);
	if (ret)
		return ret;
	run_result(rc, "id", "%u", ai.id);
	run_result(rc, "name", "%s", ai.name);
	run_result(rc, "pins", "%" PRIu64, ai.pins);
	run_result(rc, "pinned", "0x%" PRIx64, ai.pinned_bytes);
	return 0;
}

/* ------------------------------------------------------------------ the records of attachments */

static void forget_attach(struct run_ctx *rc, struct siommu_device *dev, uint32_t pasid,
			  struct cli_idom *except)
{
	struct cli_idom *cd;

	(void)rc;
	for (cd = all_idoms; cd; cd = cd->next) {
		struct cli_attach **pp = &cd->attached, *a;

		if (cd == except)
			continue;
		while ((a = *pp)) {
			if (a->dev == dev && a->pasid == pasid) {
				*pp = a->next;
				free(a);
			} else {
				pp = &a->next;
			}
		}
	}
}

const struct run_verb run_verbs_ioas[] = {
	{ "ioas-create", "ioas-create name=A iommu=I", "an I/O address space on I's ioas layer",
	  verb_ioas_create },
	{ "ioas-destroy", "ioas-destroy ioas=A", "destroy an IOAS (EBUSY with domains or accesses)",
	  verb_ioas_destroy },
	{ "ioas-map", "ioas-map ioas=A size=N [iova=N] [prot=rw] [mem=host|host-ro|memfd|"
	  "memfd-sealed|file-ro|region] [region=R offset=N] [fill=B]",
	  "map memory (made here, or a region) at a fixed or chosen IOVA", verb_ioas_map },
	{ "ioas-copy", "ioas-copy ioas=DST src=SRC src-iova=N size=N [iova=N] [prot=rw]",
	  "map the pages SRC maps there into DST, sharing them", verb_ioas_copy },
	{ "ioas-unmap", "ioas-unmap ioas=A (iova=N size=N | all=yes)",
	  "unmap whole areas; EBUSY names the accesses still pinning", verb_ioas_unmap },
	{ "ioas-iova-ranges", "ioas-iova-ranges ioas=A [max=N]", "the usable IOVA ranges",
	  verb_ioas_iova_ranges },
	{ "ioas-allow", "ioas-allow ioas=A [ranges=START-LAST,...]",
	  "replace the allowed IOVA ranges (none: everything)", verb_ioas_allow },
	{ "ioas-reserve", "ioas-reserve ioas=A start=N last=N", "reserve an IOVA range",
	  verb_ioas_reserve },
	{ "ioas-unreserve", "ioas-unreserve ioas=A start=N last=N", "remove a reservation",
	  verb_ioas_unreserve },
	{ "ioas-info", "ioas-info ioas=A", "areas, bytes, domains, accesses, pinned pages",
	  verb_ioas_info },
	{ "ioas-area", "ioas-area ioas=A iova=N", "the area holding an IOVA", verb_ioas_area },
	{ "ioas-retries", "ioas-retries ioas=A rounds=N", "callback rounds before an unmap's EBUSY",
	  verb_ioas_retries },
	{ "ioas-holders", "ioas-holders ioas=A iova=N size=N", "the accesses pinning a range",
	  verb_ioas_holders },
	{ "ioas-domain-create", "ioas-domain-create name=D ioas=A [fmt=F] [levels=N] [mode=strict|lazy]",
	  "a paging domain the IOAS fills while attached", verb_ioas_domain_create },
	{ "ioas-domain-free", "ioas-domain-free domain=D", "free an IOAS domain (EBUSY attached)",
	  verb_ioas_domain_free },
	{ "ioas-attach", "ioas-attach dev=X domain=D [pasid=N]",
	  "attach (or replace) a device or PASID to an IOAS domain", verb_ioas_attach },
	{ "ioas-detach", "ioas-detach dev=X [pasid=N]", "detach a device or PASID",
	  verb_ioas_detach },
	{ "access-create", "access-create name=M ioas=A [mode=coop|stuck|unrevocable|none]",
	  "an access object (a mediated device)", verb_access_create },
	{ "access-destroy", "access-destroy access=M", "destroy an access (EBUSY with pins)",
	  verb_access_destroy },
	{ "access-replace", "access-replace access=M ioas=B", "move an access to another IOAS",
	  verb_access_replace },
	{ "access-pin", "access-pin access=M iova=N size=N [write=yes]", "pin pages by IOVA",
	  verb_access_pin },
	{ "access-unpin", "access-unpin access=M iova=N size=N", "drop a pin", verb_access_unpin },
	{ "access-rw", "access-rw access=M iova=N (len=N | data=HEX)",
	  "read or write through the IOAS", verb_access_rw },
	{ "access-info", "access-info access=M", "id, name, pins", verb_access_info },
	{ NULL, NULL, NULL, NULL },
};
