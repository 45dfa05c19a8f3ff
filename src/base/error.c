// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The error table: every errno value the library returns, with its name and
 * a message.  One table, used by siommu_strerror(), siommu_errname() and the
 * CLI (which prints "NAME (message)").
 */
#include <errno.h>
#include <string.h>

#include "softiommu/base.h"
#include "siommu_config.h"
#include "base/compiler.h"

static const struct {
	int err;
	const char *name;
	const char *msg;
} error_table[] = {
	{ 0,		"OK",		"Success" },
	{ EPERM,	"EPERM",	"Operation not permitted" },
	{ ENOENT,	"ENOENT",	"No such entry" },
	{ EINTR,	"EINTR",	"Interrupted" },
	{ EIO,		"EIO",		"I/O error" },
	{ E2BIG,	"E2BIG",	"Argument list too long" },
	{ EBADF,	"EBADF",	"Bad file descriptor" },
	{ EAGAIN,	"EAGAIN",	"Resource temporarily unavailable, try again" },
	{ ENOMEM,	"ENOMEM",	"Out of memory" },
	{ EACCES,	"EACCES",	"Permission denied" },
	{ EFAULT,	"EFAULT",	"Bad address" },
	{ EBUSY,	"EBUSY",	"Device or resource busy" },
	{ EEXIST,	"EEXIST",	"Already exists" },
	{ EXDEV,	"EXDEV",	"Cross-context operation" },
	{ ENODEV,	"ENODEV",	"No such device (or it was revoked)" },
	{ EINVAL,	"EINVAL",	"Invalid argument" },
	{ ENOSPC,	"ENOSPC",	"No space left" },
	{ ERANGE,	"ERANGE",	"Out of range" },
	{ EDEADLK,	"EDEADLK",	"Would deadlock" },
	{ ENAMETOOLONG,	"ENAMETOOLONG",	"Name too long" },
	{ ENOSYS,	"ENOSYS",	"No such function" },
	{ ENOTEMPTY,	"ENOTEMPTY",	"Not empty" },
	{ ENODATA,	"ENODATA",	"No data available" },
	{ ETIME,	"ETIME",	"Timer expired" },
	{ EOVERFLOW,	"EOVERFLOW",	"Value too large" },
	{ EBADMSG,	"EBADMSG",	"Malformed message" },
	{ EOPNOTSUPP,	"EOPNOTSUPP",	"Operation not supported" },
	{ EMSGSIZE,	"EMSGSIZE",	"Buffer too small" },
	{ EADDRINUSE,	"EADDRINUSE",	"Address already in use" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL", "Address not available" },
	{ ETIMEDOUT,	"ETIMEDOUT",	"Timed out" },
	{ EALREADY,	"EALREADY",	"Operation already in progress" },
	{ EINPROGRESS,	"EINPROGRESS",	"Operation in progress" },
	{ ECANCELED,	"ECANCELED",	"Operation canceled" },
	{ EOWNERDEAD,	"EOWNERDEAD",	"Owner died" },
};

static int find(int err)
{
	unsigned int i;

	if (err > 0)
		err = -err;
	for (i = 0; i < SIOMMU_ARRAY_SIZE(error_table); i++)
		if (-error_table[i].err == err)
			return (int)i;
	return -1;
}

SIOMMU_API const char *siommu_strerror(int err)
{
	int i = find(err);

	return i < 0 ? "Unknown error" : error_table[i].msg;
}

SIOMMU_API const char *siommu_errname(int err)
{
	int i = find(err);

	return i < 0 ? "E?" : error_table[i].name;
}

SIOMMU_API int siommu_errname_parse(const char *name, int *err)
{
	unsigned int i;

	if (!name || !err)
		return -EINVAL;
	for (i = 0; i < SIOMMU_ARRAY_SIZE(error_table); i++) {
		if (!strcmp(error_table[i].name, name)) {
			*err = -error_table[i].err;
			return 0;
		}
	}
	return -EINVAL;
}

SIOMMU_API const char *siommu_version(void)
{
	return SIOMMU_VERSION_STRING;
}
