// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * softiommu-bench-so: bench group "hotpath" linked with libsoftiommu.so,
 * as a driver links the library (`softiommu bench hotpath` runs it).
 */
#include "bench.h"

int main(int argc, char **argv)
{
	return bench_main(argc, argv);
}
