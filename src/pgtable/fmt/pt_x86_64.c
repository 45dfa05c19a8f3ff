// SPDX-License-Identifier: LGPL-2.1-or-later
/* x86-64 4/5-level paging (and VT-d first stage): see x86_64.h. */
#define PT_FMT		x86_64
#define PT_FMT_ENUM	SIOMMU_PT_FMT_X86_64
#define PT_FMT_NAME	"x86-64"
#define PT_FMT_INFO	X86_64PT
#include "x86_64.h"
#include "../pt_template.h"
