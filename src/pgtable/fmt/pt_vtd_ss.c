// SPDX-License-Identifier: LGPL-2.1-or-later
/* VT-d second stage, 3/4/5 levels: see vtd_ss.h. */
#define PT_FMT		vtd_ss
#define PT_FMT_ENUM	SIOMMU_PT_FMT_VTD_SS
#define PT_FMT_NAME	"vtd-ss"
#define PT_FMT_INFO	VTD_SSPT
#include "vtd_ss.h"
#include "../pt_template.h"
