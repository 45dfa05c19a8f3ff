// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ioas pages: the memory one map pins, shared by the areas copied from it.
 *
 * "Pinned" in user space (ioas.h says how this differs from iommufd): the
 * pages object holds what keeps the memory valid for as long as an area
 * uses it — a duplicated descriptor and a MAP_SHARED mapping of the range
 * for MEMFD and FILE, a user count on the region for REGION, and for HOST
 * the caller's promise.  It is created once per siommu_ioas_map() and
 * shared by reference by siommu_ioas_copy(), so the same memory mapped at
 * several IOVAs (or in several IOASes) is pinned once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/debug.h"
#include "ioas/ioas_internal.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

static int pages_host(struct ioas_pages *p, const struct siommu_ioas_mem *m,
		      uint64_t length, bool write)
{
	uintptr_t end;

	if (!m->host || (uintptr_t)m->host % SIOMMU_IOAS_PAGE_SIZE)
		return -EINVAL;
	if (siommu_add_overflow((uintptr_t)m->host, length - 1, &end))
		return -EOVERFLOW;
	if (write && (m->flags & SIOMMU_IOAS_MEM_READONLY))
		return -EPERM;
	p->host = m->host;
	p->pa = (uint64_t)(uintptr_t)m->host;
	p->writable = !(m->flags & SIOMMU_IOAS_MEM_READONLY);
	return 0;
}

static int pages_fd(struct ioas_pages *p, const struct siommu_ioas_mem *m,
		    uint64_t length, bool write)
{
	struct stat st;
	uint64_t end;
	int fl, seals, fd;
	void *base;

	if (m->fd < 0)
		return -EBADF;
	if (fstat(m->fd, &st))
		return -EBADF;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	seals = fcntl(m->fd, F_GET_SEALS);
	if (m->type == SIOMMU_IOAS_MEM_MEMFD && seals < 0)
		return -EINVAL;		/* not a memfd */
	if (seals < 0)
		seals = 0;
	fl = fcntl(m->fd, F_GETFL);
	if (fl < 0)
		return -EBADF;
	if ((fl & O_ACCMODE) == O_WRONLY)
		return -EPERM;		/* devices could not even read it */
	if (m->offset % SIOMMU_IOAS_PAGE_SIZE)
		return -EINVAL;
	if (siommu_add_overflow(m->offset, length, &end))
		return -EOVERFLOW;
	if (end > (uint64_t)st.st_size)
		return -EINVAL;
	if (write && ((fl & O_ACCMODE) == O_RDONLY ||
		      (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))))
		return -EPERM;
	if (length > SIZE_MAX)
		return -EINVAL;
	fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return errno == EMFILE ? -ENOMEM : -EBADF;
	base = mmap(NULL, (size_t)length, PROT_READ | (write ? PROT_WRITE : 0),
		    MAP_SHARED, fd, (off_t)m->offset);
	if (base == MAP_FAILED) {
		int err = errno;

		close(fd);
		return err == EACCES || err == EPERM ? -EPERM : -ENOMEM;
	}
	p->fd = fd;
	p->map_base = base;
	p->host = base;
	p->pa = (uint64_t)(uintptr_t)base;
	p->writable = write;
	return 0;
}

static int pages_region(struct ioas_pages *p, const struct siommu_ioas_mem *m,
			uint64_t length)
{
	struct siommu_mem_region_info info;
	struct siommu_mem_span span;
	uint64_t end;
	int ret;

	if (!m->mem || !m->region || siommu_mem_region_info(m->region, &info))
		return -EINVAL;
	if (info.type == SIOMMU_MEM_MMIO)
		return -EINVAL;		/* no host pages to pin */
	if (m->offset % SIOMMU_IOAS_PAGE_SIZE || info.pa % SIOMMU_IOAS_PAGE_SIZE)
		return -EINVAL;
	if (siommu_add_overflow(m->offset, length, &end))
		return -EOVERFLOW;
	if (end > info.size)
		return -EINVAL;
	if (info.revoked)
		return -ENODEV;
	ret = siommu_mem_region_get(m->region);
	if (ret)
		return ret;
	/*
	 * The host address of RAM and HOST regions is fixed for the region's
	 * life, which our user count extends past any revoke (destroy is
	 * -EBUSY while we hold it): it may be kept outside the section.
	 */
	siommu_read_lock();
	ret = siommu_mem_lookup_rcu(m->mem, info.pa + m->offset, &span);
	if (!ret && span.region != m->region)
		ret = -EINVAL;		/* @region is not in @mem */
	if (!ret)
		p->host = span.host;
	siommu_read_unlock();
	if (ret) {
		siommu_mem_region_put(m->region);
		return ret == -EFAULT ? -EINVAL : ret;
	}
	p->region = m->region;
	p->mem = m->mem;
	p->pa = info.pa + m->offset;
	p->writable = true;
	return 0;
}

/*
 * Create the pages of a map: @length bytes of @m, writable if @write.
 * Returns 0 with one reference in *@out, or a negative errno (nothing held).
 */
int ioas_pages_create(const struct siommu_ioas_mem *m, uint64_t length,
		      bool write, struct ioas_pages **out)
{
	struct ioas_pages *p;
	int ret;

	if (m->flags & ~SIOMMU_IOAS_MEM_READONLY)
		return -EINVAL;
	p = siommu_zalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fd = -1;
	p->type = m->type;
	p->length = length;
	switch (m->type) {
	case SIOMMU_IOAS_MEM_HOST:
		ret = pages_host(p, m, length, write);
		break;
	case SIOMMU_IOAS_MEM_MEMFD:
	case SIOMMU_IOAS_MEM_FILE:
		ret = pages_fd(p, m, length, write);
		break;
	case SIOMMU_IOAS_MEM_REGION:
		ret = pages_region(p, m, length);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret) {
		siommu_free(p);
		return ret;
	}
	p->refs = 1;
	*out = p;
	return 0;
}

void ioas_pages_get(struct ioas_pages *p)
{
	__atomic_fetch_add(&p->refs, 1, __ATOMIC_RELAXED);
}

uint64_t ioas_pages_users(const struct ioas_pages *p)
{
	return (uint64_t)__atomic_load_n(&p->refs, __ATOMIC_RELAXED);
}

/* Drop a reference; the last one unpins (munmap, close, region put). */
void ioas_pages_put(struct ioas_pages *p)
{
	/* Pairs with itself: the last put sees every other put's writes. */
	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (p->map_base)
		SIOMMU_WARN_ON(munmap(p->map_base, (size_t)p->length));
	if (p->fd >= 0)
		close(p->fd);
	if (p->region)
		SIOMMU_WARN_ON(siommu_mem_region_put(p->region));
	siommu_free(p->pin_counts);
	siommu_free(p);
}
