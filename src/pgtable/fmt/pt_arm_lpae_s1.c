// SPDX-License-Identifier: LGPL-2.1-or-later
/* Arm LPAE stage 1, 4 KiB granule, 48-bit input: see arm_lpae_s1.h. */
#define PT_FMT		arm_lpae_s1
#define PT_FMT_ENUM	SIOMMU_PT_FMT_ARM_LPAE_S1
#define PT_FMT_NAME	"arm-lpae-s1"
#define PT_FMT_INFO	ARM_LPAE_S1PT
#include "arm_lpae_s1.h"
#include "../pt_template.h"
