// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include "test_common.h"
#include <softiommu/base.h>

static void test_base_error_names_roundtrip(void **state)
{
	static const int errs[] = { 0, -EPERM, -ENOENT, -ENOMEM, -EBUSY, -EEXIST,
				    -ENODEV, -EINVAL, -ENOSPC, -ERANGE, -EOPNOTSUPP,
				    -EDEADLK, -EFAULT, -EACCES, -EAGAIN, -ETIMEDOUT };
	unsigned int i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		int back = 12345;

		assert_string_not_equal(siommu_errname(errs[i]), "E?");
		assert_int_equal(siommu_errname_parse(siommu_errname(errs[i]), &back), 0);
		assert_int_equal(back, errs[i]);
		assert_string_not_equal(siommu_strerror(errs[i]), "Unknown error");
	}
}

static void test_base_error_messages(void **state)
{
	assert_string_equal(siommu_errname(-EEXIST), "EEXIST");
	assert_string_equal(siommu_errname(0), "OK");
	assert_string_equal(siommu_strerror(0), "Success");
	assert_string_equal(siommu_strerror(-EBUSY), "Device or resource busy");
	/* a positive value is read as its negation */
	assert_string_equal(siommu_errname(EINVAL), "EINVAL");
}

static void test_base_error_unknown(void **state)
{
	int err = 7;

	assert_string_equal(siommu_errname(-4000), "E?");
	assert_string_equal(siommu_strerror(-4000), "Unknown error");
	assert_int_equal(siommu_errname_parse("ENOTANERROR", &err), -EINVAL);
	assert_int_equal(err, 7);	/* untouched on failure */
	assert_int_equal(siommu_errname_parse(NULL, &err), -EINVAL);
	assert_int_equal(siommu_errname_parse("EINVAL", NULL), -EINVAL);
}

static void test_base_version(void **state)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", SIOMMU_VERSION_MAJOR,
		 SIOMMU_VERSION_MINOR, SIOMMU_VERSION_PATCH);
	assert_string_equal(siommu_version(), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_error_names_roundtrip),
		cmocka_unit_test(test_base_error_messages),
		cmocka_unit_test(test_base_error_unknown),
		cmocka_unit_test(test_base_version),
	};

	return cmocka_run_group_tests_name("base_error", tests, NULL, NULL);
}
