// SPDX-License-Identifier: LGPL-2.1-or-later
#include "test_common.h"
#include <softiommu/mm.h>
static void test_mm_placeholder(void **state) { (void)state; }
int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_mm_placeholder) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
