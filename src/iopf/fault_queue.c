// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fault queue: iommufd's fault object (drivers/iommu/iommufd/eventq.c)
 * for an outside consumer.  A group handler that queues each group on an
 * "unread" list and answers ASYNC; read() moves whole groups to the
 * "unanswered" list under a fresh cookie, write() answers them by cookie,
 * close() answers what is left Invalid.  An eventfd is readable while the
 * unread list is not empty, so the consumer can poll(2) it.
 *
 * q->lock (IOPF_FQ, 610) is taken by the handler (possibly inside a DMA's
 * read-side section, INLINE mode) and by the consumer's calls; it is never
 * held across a grace period nor while calling into the iopf core:
 * siommu_iopf_group_respond() takes the device's fault lock, so every
 * answer is given after q->lock is dropped.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "iopf_internal.h"
#include "base/alloc.h"

struct fq_item {
	struct cds_list_head link;	/* [q->lock] q->unread or q->unanswered */
	struct siommu_iopf_group *g;	/* the handler's hold */
	uint32_t cookie;		/* [q->lock] 0 until read */
};

struct siommu_fault_queue {
	struct siommu_mutex lock;	/* IOPF_FQ: fields marked [Q] */
	struct siommu_iopf *iopf;	/* immutable */
	int efd;			/* immutable: eventfd, non-blocking */
	bool signalled;			/* [Q] efd holds a count */
	bool closed;			/* [Q] */
	struct cds_list_head unread;	/* [Q] struct fq_item, in arrival order */
	struct cds_list_head unanswered; /* [Q] read, not answered yet */
	uint32_t next_cookie;		/* [Q] cookies are never reused */
	unsigned int domains;		/* [Q] domains whose handler it is */
};

static void fq_signal_locked(struct siommu_fault_queue *q, bool on)
{
	uint64_t v = 1;
	ssize_t n;

	if (on == q->signalled)
		return;
	n = on ? write(q->efd, &v, sizeof(v)) : read(q->efd, &v, sizeof(v));
	if (n == (ssize_t)sizeof(v))
		q->signalled = on;
}

static int fq_handle(void *opaque, struct siommu_iopf_group *g)
{
	struct siommu_fault_queue *q = opaque;
	struct fq_item *it;

	it = siommu_zalloc(sizeof(*it));
	if (!it)
		return -ENOMEM;		/* Response Failure */
	it->g = g;
	siommu_mutex_lock(&q->lock);
	if (q->closed) {
		siommu_mutex_unlock(&q->lock);
		siommu_free(it);
		return SIOMMU_PAGE_RESP_INVALID;	/* nobody will read it */
	}
	cds_list_add_tail(&it->link, &q->unread);
	fq_signal_locked(q, true);
	siommu_mutex_unlock(&q->lock);
	return SIOMMU_IOPF_ASYNC;
}

/* A drain began: an unread group is answered now (nobody has seen it). */
static void fq_cancel(void *opaque, struct siommu_iopf_group *g)
{
	struct siommu_fault_queue *q = opaque;
	struct fq_item *it, *found = NULL;

	siommu_mutex_lock(&q->lock);
	cds_list_for_each_entry(it, &q->unread, link)
		if (it->g == g) {
			found = it;
			break;
		}
	if (found) {
		cds_list_del(&found->link);
		if (cds_list_empty(&q->unread))
			fq_signal_locked(q, false);
	}
	siommu_mutex_unlock(&q->lock);
	if (found) {
		siommu_iopf_group_respond(g, SIOMMU_PAGE_RESP_INVALID);
		siommu_free(found);
	}
}

static void fq_release(void *opaque)
{
	struct siommu_fault_queue *q = opaque;

	siommu_mutex_lock(&q->lock);
	q->domains--;
	siommu_mutex_unlock(&q->lock);
}

static const struct siommu_iopf_handler fq_handler = {
	.name = "fault-queue",
	.flags = SIOMMU_IOPF_HANDLER_ATOMIC,
	.handle = fq_handle,
	.cancel = fq_cancel,
};

SIOMMU_API int siommu_fault_queue_create(struct siommu_iopf *iopf,
					 struct siommu_fault_queue **out)
{
	struct siommu_fault_queue *q;

	if (!iopf || !out)
		return -EINVAL;
	q = siommu_zalloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		int err = errno;

		siommu_free(q);
		return err == ENOMEM ? -ENOMEM : -EAGAIN;
	}
	siommu_mutex_init(&q->lock, "iopf.fq", SIOMMU_RANK_IOPF_FQ);
	q->iopf = iopf;
	CDS_INIT_LIST_HEAD(&q->unread);
	CDS_INIT_LIST_HEAD(&q->unanswered);
	iopf_fq_get(iopf);
	*out = q;
	return 0;
}

SIOMMU_API int siommu_fault_queue_set_domain(struct siommu_fault_queue *q,
					     struct siommu_domain *dom)
{
	int ret;

	if (!q)
		return -EINVAL;
	/* Counted first: a concurrent destroy sees it (undone on error). */
	siommu_mutex_lock(&q->lock);
	q->domains++;
	siommu_mutex_unlock(&q->lock);
	ret = iopf_set_handler(q->iopf, dom, &fq_handler, q, fq_release);
	if (ret)
		fq_release(q);
	return ret;
}

SIOMMU_API int siommu_fault_queue_fd(struct siommu_fault_queue *q)
{
	return q ? q->efd : -EINVAL;
}

static void fq_fill(struct siommu_fault_queue_record *rec, const struct siommu_iopf_group *g,
		    unsigned int i, uint32_t rid, uint32_t cookie)
{
	const struct siommu_page_request *r = siommu_iopf_group_request(g, i);

	memset(rec, 0, sizeof(*rec));
	if (r->flags & SIOMMU_PRQ_PASID)
		rec->flags |= SIOMMU_FQ_PASID_VALID;
	if (r->flags & SIOMMU_PRQ_LAST)
		rec->flags |= SIOMMU_FQ_LAST_PAGE;
	rec->dev_id = rid;
	rec->pasid = r->pasid;
	rec->grpid = r->prgi;
	rec->perm = r->access;
	rec->addr = r->addr;
	rec->cookie = cookie;
}

SIOMMU_API ssize_t siommu_fault_queue_read(struct siommu_fault_queue *q, void *buf,
					   size_t len)
{
	struct siommu_fault_queue_record *rec = buf;
	struct fq_item *it, *n;
	size_t done = 0;
	unsigned int i;

	if (!q || (!buf && len))
		return -EINVAL;
	siommu_mutex_lock(&q->lock);
	if (q->closed) {
		siommu_mutex_unlock(&q->lock);
		return -EBADF;
	}
	cds_list_for_each_entry_safe(it, n, &q->unread, link) {
		unsigned int nr = siommu_iopf_group_count(it->g);

		/* Whole groups only: one that does not fit waits (iommufd does so too). */
		if (nr > (len - done) / sizeof(*rec))
			break;
		if (++q->next_cookie == 0)
			q->next_cookie = 1;
		it->cookie = q->next_cookie;
		for (i = 0; i < nr; i++)
			fq_fill(&rec[done / sizeof(*rec) + i], it->g, i, it->g->fd->rid,
				it->cookie);
		done += nr * sizeof(*rec);
		cds_list_del(&it->link);
		cds_list_add_tail(&it->link, &q->unanswered);
	}
	if (cds_list_empty(&q->unread))
		fq_signal_locked(q, false);
	siommu_mutex_unlock(&q->lock);
	return (ssize_t)done;
}

SIOMMU_API ssize_t siommu_fault_queue_write(struct siommu_fault_queue *q,
					    const void *buf, size_t len)
{
	const struct siommu_fault_queue_response *resp = buf;
	struct fq_item *it, *found;
	size_t i, nr;

	if (!q || !buf || !len || len % sizeof(*resp))
		return -EINVAL;
	nr = len / sizeof(*resp);
	for (i = 0; i < nr; i++) {
		struct siommu_fault_queue_response r;

		memcpy(&r, &resp[i], sizeof(r));
		/* iommufd takes Success or Invalid only (no Response Failure) */
		if (r.code != SIOMMU_PAGE_RESP_SUCCESS && r.code != SIOMMU_PAGE_RESP_INVALID)
			return i ? (ssize_t)(i * sizeof(r)) : -EINVAL;
		found = NULL;
		siommu_mutex_lock(&q->lock);
		if (q->closed) {
			siommu_mutex_unlock(&q->lock);
			return i ? (ssize_t)(i * sizeof(r)) : -EBADF;
		}
		cds_list_for_each_entry(it, &q->unanswered, link)
			if (it->cookie == r.cookie) {
				found = it;
				break;
			}
		if (found)
			cds_list_del(&found->link);	/* a cookie answers once */
		siommu_mutex_unlock(&q->lock);
		if (!found)
			return i ? (ssize_t)(i * sizeof(r)) : -ENOENT;
		/* -ECANCELED: a drain answered it meanwhile; dropped and counted */
		siommu_iopf_group_respond(found->g, r.code);
		siommu_free(found);
	}
	return (ssize_t)len;
}

SIOMMU_API int siommu_fault_queue_close(struct siommu_fault_queue *q)
{
	struct cds_list_head left;
	struct fq_item *it, *n;
	int count = 0;

	if (!q)
		return -EINVAL;
	CDS_INIT_LIST_HEAD(&left);
	siommu_mutex_lock(&q->lock);
	q->closed = true;
	cds_list_splice(&q->unread, &left);
	cds_list_splice(&q->unanswered, &left);
	CDS_INIT_LIST_HEAD(&q->unread);
	CDS_INIT_LIST_HEAD(&q->unanswered);
	fq_signal_locked(q, false);
	siommu_mutex_unlock(&q->lock);
	cds_list_for_each_entry_safe(it, n, &left, link) {
		if (!siommu_iopf_group_respond(it->g, SIOMMU_PAGE_RESP_INVALID))
			count++;
		siommu_free(it);
	}
	return count;
}

SIOMMU_API int siommu_fault_queue_destroy(struct siommu_fault_queue *q)
{
	if (!q)
		return 0;
	siommu_mutex_lock(&q->lock);
	if (q->domains) {
		siommu_mutex_unlock(&q->lock);
		return -EBUSY;
	}
	siommu_mutex_unlock(&q->lock);
	siommu_fault_queue_close(q);
	close(q->efd);
	siommu_mutex_destroy(&q->lock);
	iopf_fq_put(q->iopf);
	siommu_free(q);
	return 0;
}
