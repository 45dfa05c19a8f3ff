/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu iopf: I/O page faults (seed 002) — the page-request queue, page
 * request groups, group handlers, page responses, drain, and iommufd's fault
 * queue (a pollable descriptor an outside consumer reads groups from and
 * writes responses to).
 *
 * The model is PCIe PRI as a RISC-V IOMMU implements it:
 *
 *  - A device with SIOMMU_DEV_PRI sends page requests (address, access,
 *    PASID or none, PRG index, "Last Request in PRG" bit L, private data).
 *    They enter the IOMMU's page-request queue (PRQ), bounded by the
 *    prq_size capability.  The RISC-V IOMMU specification (riscv-iommu,
 *    "Page-Request-Queue (PQ)" and "PCIe ATS Page Request handling") is the
 *    one followed for a full queue: "While either error bit is set in
 *    pqcsr, the IOMMU discards all subsequent "Page Request" messages,
 *    including the message that caused the error bits to be set. "Page
 *    request" messages that do not require a response, i.e. those with the
 *    "Last Request in PRG" field is 0, are silently discarded"; "Stop
 *    Marker" messages "are always silently discarded on such errors"; and
 *    "The status is set to Success if no other faults were encountered but
 *    the "Page Request" could not be queued due to the page-request queue
 *    being full (pqt == pqh - 1) or had a overflow (pqcsr.pqof == 1)".  So
 *    the queue holds prq_size - 1 requests; the overflow bit is sticky until
 *    siommu_iopf_clear_overflow(), which also discards every incomplete
 *    group (their last requests were answered Success: the device retries
 *    the whole group).  A Stop Marker is a request with a PASID, L = 1 and
 *    neither read nor write access (as the specification encodes it).
 *  - Requests with L = 0 wait on their device's partial list.  The request
 *    with L = 1 of the same PRG index (and PASID) completes the group: the
 *    whole group, in arrival order, goes to the group handler of the domain
 *    attached to (device, PASID) at that moment.  No domain or no handler:
 *    the group is answered Invalid Request and its partial requests are
 *    discarded.  A handler error or no memory: Response Failure.
 *  - Responses go back to the device through the response function given
 *    to siommu_iopf_device_enable(), matched to a pending group.  The
 *    response carries the PASID only if the device has
 *    SIOMMU_DEV_PRG_RESP_PASID ("PRG Response PASID Required") and the
 *    request had one.  A response that matches nothing pending (late,
 *    duplicate, after a drain) is dropped and counted, never delivered.
 *  - Drain of (device, PASID) on detach, replace and siommu_iopf_device_
 *    disable(), from the core's attach protocol (the iopf layer's commit
 *    step, after the switch and a grace period): requests bottom up (new
 *    requests for it refused, its requests still in the PRQ removed, its
 *    partial requests discarded, handler calls in progress waited for),
 *    then responses top down (groups a handler still holds get up to the
 *    drain timeout to be answered, then their handler is told and they are
 *    answered Invalid Request).  Later responses for those groups are
 *    dropped.  When the drain returns nothing more is delivered for them.
 *
 * Where requests are processed (struct siommu_iopf_cfg.mode): INLINE, in
 * the reporting thread (so a DMA fault's request is grouped and handled
 * inside the DMA's read-side section: only handlers marked
 * SIOMMU_IOPF_HANDLER_ATOMIC may run there); WORKERS, by a pool of threads
 * (the requests of one group stay in order: one worker groups and handles
 * a whole group); MANUAL, when the caller runs siommu_iopf_process() (as a
 * driver's interrupt thread; tests use it to fill the queue).
 *
 * Locks (docs/architecture.md): the iopf lock (rank 154) for devices and
 * domain records, taken in the layer's callbacks and never on a request
 * path; the PRQ lock (600) and one lock per device for its partial and
 * pending lists in every path (601); the fault queue's lock (610).  The last
 * three are taken inside read-side sections and are never held across a
 * grace period.  Nothing is called with an iopf lock held except the
 * device's response function (see siommu_iopf_response_fn).
 *
 * Errors are negative errno values; a failing call changes nothing.
 */
#ifndef SOFTIOMMU_IOPF_H
#define SOFTIOMMU_IOPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <softiommu/base.h>
#include <softiommu/core.h>
#include <softiommu/ioas.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siommu_iopf;		/* the iopf layer of one IOMMU: PRQ, workers, devices */
struct siommu_iopf_group;	/* one page-request group handed to a handler */
struct siommu_fault_queue;	/* iommufd's fault object: groups for an outside consumer */

/* ------------------------------------------------------------------ layer */

enum siommu_iopf_mode {
	SIOMMU_IOPF_MODE_INLINE = 0,	/* the reporting thread processes its request */
	SIOMMU_IOPF_MODE_WORKERS,	/* a pool of worker threads processes the PRQ */
	SIOMMU_IOPF_MODE_MANUAL,	/* siommu_iopf_process() does */
};

/* struct siommu_iopf_cfg.drain_timeout_ms: answer at once, do not wait */
#define SIOMMU_IOPF_DRAIN_NOWAIT	UINT32_MAX
#define SIOMMU_IOPF_DRAIN_TIMEOUT_DEFAULT_MS 100u
#define SIOMMU_IOPF_WORKERS_MAX		64u

struct siommu_iopf_cfg {
	enum siommu_iopf_mode mode;
	unsigned int workers;		/* WORKERS: threads, 1..64; 0: 2 */
	/*
	 * How long a drain waits for a handler (e.g. a fault queue's consumer)
	 * to answer a group it holds before answering it Invalid itself: 0
	 * means the default (100 ms), SIOMMU_IOPF_DRAIN_NOWAIT not at all; at
	 * most 60000.
	 */
	uint32_t drain_timeout_ms;
};

/**
 * siommu_iopf_create() - The iopf layer of @iommu: registers a core layer
 * (one of SIOMMU_LAYERS_MAX) whose commit step drains, and sizes the PRQ
 * from the IOMMU's prq_size capability.  @cfg NULL: defaults (INLINE).
 * Prepare errors: the layer refuses an attach (siommu_device_attach() and
 * the other attach calls return it, nothing changed) to a domain whose
 * group handler is being removed with -EBUSY.
 * Context: any thread, outside a read-side section and layer callbacks.
 * Returns: 0 with *@out set; -EINVAL (NULL @iommu or @out, bad mode, worker
 *          count or timeout); -ENOSPC (no layer slot); -EAGAIN (a worker
 *          thread could not be started); -EDEADLK; -ENOMEM.
 */
SIOMMU_API int siommu_iopf_create(struct siommu_iommu *iommu,
				  const struct siommu_iopf_cfg *cfg,
				  struct siommu_iopf **out);

/**
 * siommu_iopf_destroy() - Stop the workers and unregister the layer.
 * Context: any thread, outside a read-side section.  NULL returns 0.
 * Returns: 0; -EBUSY (nothing done) while devices are enabled, domain
 *          handlers set or fault queues live; -EDEADLK.
 */
SIOMMU_API int siommu_iopf_destroy(struct siommu_iopf *iopf);

/* ------------------------------------------------------------------ requests */

/* struct siommu_page_request.flags and struct siommu_page_response.flags */
#define SIOMMU_PRQ_PASID	(1u << 0)	/* carries @pasid */
#define SIOMMU_PRQ_LAST		(1u << 1)	/* L: last request of its group */
#define SIOMMU_PRQ_PRIV_DATA	(1u << 2)	/* @private_data is meaningful */
#define SIOMMU_PRQ_FLAGS_MASK	0x7u

#define SIOMMU_PRGI_MAX		511u		/* PRG index: 9 bits */

/* A page request (PCIe "Page Request Message"). */
struct siommu_page_request {
	uint64_t addr;			/* page address; the low 12 bits are ignored */
	unsigned int access;		/* SIOMMU_ACC_READ/WRITE/EXEC/PRIV */
	unsigned int flags;		/* SIOMMU_PRQ_* */
	uint32_t pasid;			/* with SIOMMU_PRQ_PASID: 1 .. 2^20 - 1 */
	uint16_t prgi;			/* PRG index, 0 .. 511 */
	uint64_t private_data[2];
};

/* A Stop Marker: PASID, L = 1, neither read nor write (RISC-V's encoding). */
static inline bool siommu_page_request_is_stop(const struct siommu_page_request *r)
{
	return (r->flags & (SIOMMU_PRQ_PASID | SIOMMU_PRQ_LAST)) ==
	       (SIOMMU_PRQ_PASID | SIOMMU_PRQ_LAST) &&
	       !(r->access & (SIOMMU_ACC_READ | SIOMMU_ACC_WRITE));
}

/* PRG response codes (PCIe "Response Code" values). */
enum siommu_page_resp_code {
	SIOMMU_PAGE_RESP_SUCCESS = 0x0,
	SIOMMU_PAGE_RESP_INVALID = 0x1,	/* Invalid Request */
	SIOMMU_PAGE_RESP_FAILURE = 0xf,	/* Response Failure */
};

/* A PRG response (PCIe "PRG Response Message"). */
struct siommu_page_response {
	uint16_t prgi;
	unsigned int flags;		/* SIOMMU_PRQ_PASID: @pasid is in the message */
	uint32_t pasid;
	enum siommu_page_resp_code code;
};

/*
 * The device's side of the wire: receives every PRG response for @dev,
 * exactly once per group.  Called with the device's fault-list lock held (as
 * hardware writes a response in order): it must only record the response
 * (and wake whoever waits for it), not call any siommu_iopf_* or
 * siommu_fault_queue_* function; it may be called inside a read-side
 * section.  Never called again once siommu_iopf_device_disable() returned.
 */
typedef void siommu_iopf_response_fn(void *opaque, struct siommu_device *dev,
				     const struct siommu_page_response *r);

/**
 * siommu_iopf_device_enable() - Give @dev (which must have SIOMMU_DEV_PRI)
 * its fault data (reference counted: a report racing the disable is safe)
 * and its response function.  Its recoverable DMA faults in domains with a
 * group handler become page requests from now.
 * Context: any thread, outside a read-side section.
 * Returns: 0; -EINVAL (NULL argument, a device of another IOMMU or without
 *          PRI); -EEXIST (enabled already); -ENOMEM.
 */
SIOMMU_API int siommu_iopf_device_enable(struct siommu_iopf *iopf,
					 struct siommu_device *dev,
					 siommu_iopf_response_fn *fn, void *opaque);

/**
 * siommu_iopf_device_disable() - Device removal: drain every PASID of @dev
 * (as a detach does), refuse its requests from now (-ENODEV), and drop its
 * fault data (freed when the last report or group using it is done).
 * Call before siommu_device_destroy() (which is -EBUSY until then).
 * Context: any thread, outside a read-side section; may block (the drain).
 * Returns: 0; -EINVAL; -ENOENT (not enabled); -EDEADLK.
 */
SIOMMU_API int siommu_iopf_device_disable(struct siommu_iopf *iopf,
					  struct siommu_device *dev);

/**
 * siommu_iopf_report() - @dev sends page request @req (a Stop Marker too).
 * It is queued in the PRQ, or, when the queue is full or has overflowed,
 * answered as the RISC-V rule above says (L = 1: Success; L = 0 and Stop
 * Markers: dropped) and counted.  INLINE mode processes it before
 * returning.  A PASID whose drain is running refuses it the same way a
 * missing domain does (L = 1: Invalid Request).
 * Context: any thread, inside or outside a read-side section (INLINE:
 *          handlers without SIOMMU_IOPF_HANDLER_ATOMIC are then answered
 *          Response Failure); lock-free apart from the PRQ and device locks.
 * Returns: 0 (queued or processed); 1 (not queued: answered or dropped by
 *          the full-queue rule or a drain); -EINVAL (bad flags, access,
 *          PASID or PRG index, a PASID on a device without PASID); -ENODEV
 *          (the device is not enabled).
 */
SIOMMU_API int siommu_iopf_report(struct siommu_iopf *iopf, struct siommu_device *dev,
				  const struct siommu_page_request *req);

/**
 * siommu_iopf_process() - MANUAL mode: process up to @max requests of the
 * PRQ (0: all that are there), oldest first, calling handlers.
 * Context: any thread, outside a read-side section.
 * Returns: the number processed; -EINVAL (not MANUAL); -EDEADLK.
 */
SIOMMU_API int siommu_iopf_process(struct siommu_iopf *iopf, unsigned int max);

/**
 * siommu_iopf_clear_overflow() - Clear the PRQ's sticky overflow bit (RW1C
 * pqof) and discard every incomplete group of every device: its partial
 * requests, and those still in the PRQ with no last request after them.
 * Context: any thread, inside or outside a read-side section.
 * Returns: 1 if the bit was set, 0 if not; -EINVAL.
 */
SIOMMU_API int siommu_iopf_clear_overflow(struct siommu_iopf *iopf);

/**
 * siommu_iopf_respond() - A response by PRG index, as Linux's
 * iommu_page_response(): delivered to the device if a group of @dev is
 * pending with @r->prgi (and, with SIOMMU_PRQ_PASID in @r->flags, the same
 * PASID; a device with SIOMMU_DEV_PRG_RESP_PASID needs the PASID for a
 * group that had one).  Otherwise dropped and counted.
 * Context: any thread, inside or outside a read-side section.
 * Returns: 0 (delivered); -ENOENT (matched nothing: dropped); -EINVAL (bad
 *          code or flags); -ENODEV (not enabled).
 */
SIOMMU_API int siommu_iopf_respond(struct siommu_iopf *iopf, struct siommu_device *dev,
				   const struct siommu_page_response *r);

/**
 * siommu_iopf_drain() - Drain (@dev, @pasid) now (SIOMMU_NO_PASID: requests
 * without PASID), as detach does: Linux's iopf_queue_flush_dev() with
 * responses drained too.
 * Context: any thread, outside a read-side section and handlers; may block
 *          up to the drain timeout.
 * Returns: the number of groups it answered Invalid (>= 0); -EINVAL;
 *          -ENODEV (not enabled); -EDEADLK.
 */
SIOMMU_API int siommu_iopf_drain(struct siommu_iopf *iopf, struct siommu_device *dev,
				 uint32_t pasid);

/* ------------------------------------------------------------------ handlers */

/* What a group handler returns besides a response code. */
#define SIOMMU_IOPF_ASYNC	0x100	/* the handler keeps @g and answers later */

/* struct siommu_iopf_handler.flags */
#define SIOMMU_IOPF_HANDLER_ATOMIC (1u << 0)	/* may run inside a read-side section */

/*
 * A domain's group handler (plugged in with siommu_iopf_domain_set_handler();
 * the SVA layer plugs one that faults a CPU address space).
 * @handle: called once per group, with no iopf lock held, outside any
 *          read-side section unless the handler is ATOMIC and the iopf is
 *          INLINE.  Returns a response code (the iopf answers the group with
 *          it), SIOMMU_IOPF_ASYNC (the handler keeps the group and must call
 *          siommu_iopf_group_respond() on it once; a handler that answers
 *          before it returns also returns ASYNC), or a negative errno
 *          (answered Response Failure).  It must not drain, detach or
 *          disable the group's device, nor clear its own domain's handler.
 * @cancel: optional, for ASYNC handlers: a drain of @g's (device, PASID)
 *          has begun (requests drained, responses next, top down).  If no
 *          one works on @g yet (e.g. a fault queue's unread group), answer
 *          it now: siommu_iopf_group_respond(@g, SIOMMU_PAGE_RESP_INVALID).
 *          What is still unanswered after the drain timeout the drain
 *          answers Invalid itself; the handler's own answer then returns
 *          -ECANCELED.  Called with no iopf lock held, outside read-side
 *          sections, while the drain holds @g (valid during the call).
 */
struct siommu_iopf_handler {
	const char *name;
	unsigned int flags;		/* SIOMMU_IOPF_HANDLER_* */
	int (*handle)(void *opaque, struct siommu_iopf_group *g);
	void (*cancel)(void *opaque, struct siommu_iopf_group *g);
};

/**
 * siommu_iopf_domain_set_handler() - Make @h (copied) with @opaque the
 * group handler of PAGING domain @dom, and install the core fault handler
 * that turns recoverable DMA faults of enabled devices in @dom into page
 * requests (one request per group, L = 1, a PRG index of the device's own
 * rolling counter; the DMA returns -EAGAIN).
 * Context: any thread, outside a read-side section and layer callbacks.
 * Returns: 0; -EINVAL (NULL argument, no @h->handle, not PAGING, unknown
 *          flag); -EBUSY (a handler is set, or @dom has a core fault
 *          handler of someone else); -ENOMEM.
 */
SIOMMU_API int siommu_iopf_domain_set_handler(struct siommu_iopf *iopf,
					      struct siommu_domain *dom,
					      const struct siommu_iopf_handler *h,
					      void *opaque);

/**
 * siommu_iopf_domain_clear_handler() - Remove @dom's group handler (and the
 * core fault handler).  Every group of @dom was drained by the detaches.
 * Context: any thread, outside a read-side section (waits for a grace
 *          period) and handlers.
 * Returns: 0; -EINVAL; -ENOENT (none set); -EBUSY (nothing done) while @dom
 *          is attached or held by an attach in progress; -EDEADLK.
 */
SIOMMU_API int siommu_iopf_domain_clear_handler(struct siommu_iopf *iopf,
						struct siommu_domain *dom);

/**
 * siommu_iopf_domain_set_resolver() - The resolve-by-mapping handler: a
 * group is answered Success once each of its pages is mapped in @dom from
 * the area of @backing that holds its address (4 KiB at the area's output
 * address, with the area's permissions), Invalid Request if an address is
 * not backed (or its memory revoked) or the area lacks a requested
 * permission.  The resolver is an access of @backing (an ioas access, made
 * here): each page it maps stays pinned while mapped, and an unmap or a
 * revoke of its range unmaps it from @dom (IOTLB invalidated, a grace
 * period waited for) before that unmap or revoke returns;
 * siommu_iopf_domain_clear_handler() unmaps everything it mapped.
 * siommu_ioas_destroy(@backing) is -EBUSY meanwhile.  Takes the IOAS's lock,
 * so it needs WORKERS or MANUAL mode (INLINE: -EINVAL).
 * Context and Returns: as siommu_iopf_domain_set_handler(); also -ENOMEM
 *          or -EDEADLK from the access's creation (nothing done).
 */
SIOMMU_API int siommu_iopf_domain_set_resolver(struct siommu_iopf *iopf,
					       struct siommu_domain *dom,
					       struct siommu_ioas *backing);

/*
 * A group, as its handler sees it: valid from @handle until the handler's
 * siommu_iopf_group_respond() (or @handle's return, if it did not return
 * ASYNC).  The accessors are lock-free.
 */
SIOMMU_API unsigned int siommu_iopf_group_count(const struct siommu_iopf_group *g);
/* The @i-th request (0 .. count - 1, arrival order; the last has L = 1), or NULL. */
SIOMMU_API const struct siommu_page_request *
siommu_iopf_group_request(const struct siommu_iopf_group *g, unsigned int i);
SIOMMU_API struct siommu_device *siommu_iopf_group_device(const struct siommu_iopf_group *g);
/* The domain the group was handed to (attached when the group formed). */
SIOMMU_API struct siommu_domain *siommu_iopf_group_domain(const struct siommu_iopf_group *g);

/**
 * siommu_iopf_group_respond() - Answer @g (from an ASYNC handler): the
 * response goes to the device unless a drain answered @g already.  Drops
 * the handler's hold on @g: do not use it afterwards.
 * Context: any thread, inside or outside a read-side section.
 * Returns: 0 (delivered); -ECANCELED (a drain answered it first: dropped
 *          and counted); -EINVAL (NULL, bad code: nothing done, still held).
 */
SIOMMU_API int siommu_iopf_group_respond(struct siommu_iopf_group *g,
					 enum siommu_page_resp_code code);

/* ------------------------------------------------------------------ fault queue */

/* struct siommu_fault_queue_record.flags (iommufd's IOMMU_PGFAULT_FLAGS_*) */
#define SIOMMU_FQ_PASID_VALID	(1u << 0)
#define SIOMMU_FQ_LAST_PAGE	(1u << 1)

/*
 * One record per request (iommufd's struct iommu_hwpt_pgfault); a group is
 * its records in order, all under one cookie, the last with LAST_PAGE.
 */
struct siommu_fault_queue_record {
	uint32_t flags;			/* SIOMMU_FQ_* */
	uint32_t dev_id;		/* the device's requester id */
	uint32_t pasid;
	uint32_t grpid;			/* PRG index */
	uint32_t perm;			/* SIOMMU_ACC_* */
	uint32_t reserved;		/* 0 */
	uint64_t addr;			/* page address */
	uint32_t length;		/* 0: no hint */
	uint32_t cookie;		/* echo it in the response */
};

/* A response (iommufd's struct iommu_hwpt_page_response). */
struct siommu_fault_queue_response {
	uint32_t cookie;
	uint32_t code;			/* SIOMMU_PAGE_RESP_SUCCESS or _INVALID only */
};

/**
 * siommu_fault_queue_create() - A fault queue of @iopf.  Give it to domains
 * with siommu_fault_queue_set_domain().
 * Context: any thread.
 * Returns: 0 with *@out set; -EINVAL; -EAGAIN (no descriptor left);
 *          -ENOMEM.
 */
SIOMMU_API int siommu_fault_queue_create(struct siommu_iopf *iopf,
					 struct siommu_fault_queue **out);

/**
 * siommu_fault_queue_set_domain() - Make @q the group handler of @dom
 * (siommu_iopf_domain_set_handler() with the queue's handler).  Remove it
 * with siommu_iopf_domain_clear_handler().
 * Context and Returns: as siommu_iopf_domain_set_handler() (-EINVAL also
 *          for @q NULL).
 */
SIOMMU_API int siommu_fault_queue_set_domain(struct siommu_fault_queue *q,
					     struct siommu_domain *dom);

/**
 * siommu_fault_queue_fd() - The queue's descriptor: poll(2) reports POLLIN
 * while a group waits to be read.  Owned by the queue; do not close it.
 * Returns: the descriptor, or -EINVAL.
 */
SIOMMU_API int siommu_fault_queue_fd(struct siommu_fault_queue *q);

/**
 * siommu_fault_queue_read() - Read whole groups as records into @buf, as
 * many as fit in @len bytes; a group that does not fit stays for the next
 * read (so a buffer too small for the first group reads 0 and keeps it).
 * Never blocks.
 * Context: any thread, outside a read-side section.
 * Returns: bytes read (a multiple of the record size; 0: nothing that
 *          fits); -EINVAL (NULL @q, or NULL @buf with @len > 0); -EBADF
 *          (the queue was closed).
 */
SIOMMU_API ssize_t siommu_fault_queue_read(struct siommu_fault_queue *q, void *buf,
					   size_t len);

/**
 * siommu_fault_queue_write() - Answer groups read before: @len / 8 responses.
 * Each cookie must be one read and not answered yet; the group's response
 * goes to the device (or is dropped and counted if a drain answered it
 * meanwhile).  Stops at the first bad response.
 * Context: any thread, outside a read-side section.
 * Returns: bytes consumed (the responses before a bad one) if any, else
 *          -EINVAL (@len not a multiple of 8 or 0, a code other than
 *          Success or Invalid) or -ENOENT (an unknown cookie, or one
 *          answered already); -EBADF (closed).
 */
SIOMMU_API ssize_t siommu_fault_queue_write(struct siommu_fault_queue *q,
					    const void *buf, size_t len);

/**
 * siommu_fault_queue_close() - The consumer goes away (close(2) of
 * iommufd's fault fd): every group still unread or unanswered is answered
 * Invalid Request, and groups that reach the queue from now too.
 * Context: any thread, outside a read-side section.
 * Returns: the number of groups answered (>= 0), or -EINVAL.
 */
SIOMMU_API int siommu_fault_queue_close(struct siommu_fault_queue *q);

/**
 * siommu_fault_queue_destroy() - Close (if not yet) and free @q.
 * Context: any thread, outside a read-side section.  NULL returns 0.
 * Returns: 0; -EBUSY (nothing done) while it is a domain's handler.
 */
SIOMMU_API int siommu_fault_queue_destroy(struct siommu_fault_queue *q);

/* ------------------------------------------------------------------ stats */

struct siommu_iopf_stats {
	uint64_t requests;		/* page requests reported and queued */
	uint64_t stop_markers;		/* Stop Markers processed */
	uint64_t prq_full;		/* requests not queued: queue full or overflow set */
	uint64_t overflows;		/* times the overflow bit was set */
	uint64_t auto_success;		/* ... of which L = 1, answered Success by the IOMMU */
	uint64_t partial_discarded;	/* partial requests discarded (no domain, stop,
					 * overflow clear, drain, disable) */
	uint64_t groups;		/* groups formed */
	uint64_t groups_unhandled;	/* ... answered Invalid: no domain or no handler */
	uint64_t handler_failures;	/* ... answered Response Failure by the iopf */
	uint64_t resp_success;		/* responses delivered, by code */
	uint64_t resp_invalid;
	uint64_t resp_failure;
	uint64_t resp_dropped;		/* responses that matched nothing pending */
	uint64_t drains;
	uint64_t drained_requests;	/* PRQ entries and refused requests of drains */
	uint64_t drained_groups;	/* groups a drain answered Invalid */
	uint64_t drain_timeouts;	/* ... of which after the whole timeout */
	uint32_t prq_depth;		/* requests in the PRQ now */
	uint32_t prq_capacity;		/* prq_size - 1 */
	bool overflow;			/* the sticky overflow bit */
};

/** siommu_iopf_get_stats() - A snapshot.  Context: any thread.  Returns 0 or -EINVAL. */
SIOMMU_API int siommu_iopf_get_stats(struct siommu_iopf *iopf, struct siommu_iopf_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_IOPF_H */
