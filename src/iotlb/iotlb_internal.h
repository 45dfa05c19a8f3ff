/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IOTLB internals the tests use (iotlb.c has the design). */
#ifndef SIOMMU_IOTLB_INTERNAL_H
#define SIOMMU_IOTLB_INTERNAL_H

#include <stdbool.h>

#include "siommu_config.h"

#if SIOMMU_TESTING_BUILD
/*
 * Testing builds only: when set, siommu_iotlb_insert() skips its
 * generation check under the set lock, so a lookup that read the page table
 * before an invalidation can insert what that invalidation removed (the
 * stale-insert race the check exists for).  The stress test sets it
 * (SIOMMU_STRESS_BREAK=1) to show that it catches a stale insert.
 * Relaxed atomic.
 */
extern bool iotlb_test_break_stale_insert;
/*
 * Testing builds only: when set, siommu_iotlb_inv_range() leaves run
 * entries (siommu_iotlb_insert_run()) in place, so an unmap inside a
 * cached run leaves its stale translation (the broken variant of
 * stress_core_hint_vs_unmap_3s, --break-run).  Relaxed atomic.
 */
extern bool iotlb_test_break_run_inv;
#endif

#endif
