// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An emulated device doing DMA through the IOMMU, the way a device model in
 * an emulator would use libsoftiommu:
 *
 *  - the "guest memory" is a buffer of this program, registered in a memory
 *    map at guest-physical address 0x40000000;
 *  - a driver maps a page of it at an IOVA the IOMMU's allocator chooses;
 *  - the device (another thread) DMA-reads a descriptor and DMA-writes its
 *    answer through the IOMMU, by IOVA;
 *  - the driver unmaps (strict: when unmap returns no DMA can reach the
 *    page), and a late DMA faults instead of touching memory.
 *
 *   cc dma_device.c $(pkg-config --cflags --libs softiommu) -lpthread -o dma_device
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/softiommu.h>

#define GUEST_PA	0x40000000ull
#define GUEST_SIZE	(1u << 20)

struct job {
	struct siommu_device *dev;
	uint64_t iova;
	int status;
};

/* The device: read a request at iova, write the answer right after it. */
static void *device_thread(void *arg)
{
	struct job *job = arg;
	char req[32], reply[32];
	int ret;

	ret = siommu_dma_read(job->dev, SIOMMU_NO_PASID, job->iova, req, sizeof(req));
	if (ret == 0) {
		snprintf(reply, sizeof(reply), "done: %.24s", req);
		ret = siommu_dma_write(job->dev, SIOMMU_NO_PASID, job->iova + 64, reply,
				       sizeof(reply));
	}
	job->status = ret;
	return NULL;
}

static int check(int ret, const char *what)
{
	if (ret < 0)
		fprintf(stderr, "dma_device: %s: %s (%s)\n", what, siommu_errname(ret),
			siommu_strerror(ret));
	return ret < 0;
}

int main(void)
{
	struct siommu_domain_cfg dcfg = {
		.type = SIOMMU_DOMAIN_PAGING,
		.fmt = SIOMMU_PT_FMT_VTD_SS,		/* 3 levels, 39 bits, as QEMU */
		.unmap_mode = SIOMMU_UNMAP_STRICT,
	};
	struct siommu_mem_region *ram = NULL;
	struct siommu_iommu *iommu = NULL;
	struct siommu_domain *dom = NULL;
	struct siommu_device *dev = NULL;
	struct siommu_mem *mem = NULL;
	struct siommu_ctx *ctx = NULL;
	struct siommu_fault_record rec;
	struct job job = { 0 };
	char *guest, late[8];
	pthread_t tid;
	int failed = 1;

	guest = aligned_alloc(4096, GUEST_SIZE);
	if (!guest)
		return 1;
	memset(guest, 0, GUEST_SIZE);
	strcpy(guest + 0x3000, "checksum block 7");	/* the driver's request */

	if (check(siommu_ctx_create(&ctx), "context") ||
	    check(siommu_ctx_set_log(ctx, SIOMMU_LOG_ERR, NULL, NULL), "log") ||
	    check(siommu_mem_create(ctx, &mem), "memory map") ||
	    check(siommu_mem_add_host(mem, GUEST_PA, guest, GUEST_SIZE, &ram), "guest RAM") ||
	    check(siommu_iommu_create(ctx, NULL, mem, &iommu), "iommu") ||
	    check(siommu_device_create(iommu, SIOMMU_RID(0, 0, 3, 0), 0, 0, &dev), "device") ||
	    check(siommu_domain_create(iommu, &dcfg, &dom), "domain") ||
	    check(siommu_device_attach(dev, dom), "attach") ||
	    check(siommu_domain_dma_map(dom, GUEST_PA + 0x3000, 4096,
					SIOMMU_PT_READ | SIOMMU_PT_WRITE, 0xffffffffull,
					&job.iova), "dma_map"))
		goto out;
	printf("guest page 0x%" PRIx64 " mapped at IOVA 0x%" PRIx64 "\n",
	       (uint64_t)(GUEST_PA + 0x3000), job.iova);

	job.dev = dev;
	if (pthread_create(&tid, NULL, device_thread, &job))
		goto out;
	pthread_join(tid, NULL);
	if (check(job.status, "device DMA"))
		goto out;
	printf("the device answered: \"%s\"\n", guest + 0x3000 + 64);

	if (check((int)siommu_domain_dma_unmap(dom, job.iova, 4096), "dma_unmap"))
		goto out;
	/* After a strict unmap, a late DMA faults; the fault is logged. */
	if (siommu_dma_read(dev, SIOMMU_NO_PASID, job.iova, late, sizeof(late)) != -ENOENT ||
	    siommu_fault_log_read(iommu, &rec, 1) != 1) {
		fprintf(stderr, "dma_device: a DMA after unmap did not fault\n");
		goto out;
	}
	printf("late DMA at 0x%" PRIx64 ": fault %s\n", rec.iova,
	       siommu_fault_reason_name(rec.reason));
	failed = 0;
out:
	if (dev)
		siommu_device_detach(dev);
	failed |= siommu_domain_destroy(dom) != 0;
	failed |= siommu_device_destroy(dev) != 0;
	failed |= siommu_iommu_destroy(iommu) != 0;
	if (ram)
		failed |= siommu_mem_region_destroy(ram) != 0;
	failed |= siommu_mem_destroy(mem) != 0;
	failed |= siommu_ctx_destroy(ctx) != 0;
	free(guest);	/* the region is gone: the library no longer touches it */
	return failed;
}
