/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * softiommu: the Linux IOMMU stack in user space.  Include this header to
 * get the whole public API; each module also has a header of its own.
 */
#ifndef SOFTIOMMU_SOFTIOMMU_H
#define SOFTIOMMU_SOFTIOMMU_H

#include <softiommu/base.h>
#include <softiommu/pgtable.h>
#include <softiommu/iotlb.h>
#include <softiommu/iova.h>
#include <softiommu/mem.h>
#include <softiommu/core.h>
#include <softiommu/ioas.h>
#include <softiommu/iopf.h>
#include <softiommu/mm.h>

#endif
