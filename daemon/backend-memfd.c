/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"

static int memfd_backend_create(const char *pool_name, uint64_t size_bytes)
{
	char name[80];
	int fd;

	/* The name shows in /proc/PID/fd and /proc/PID/maps: "memfd:ksalloc:video". */
	snprintf(name, sizeof(name), "ksalloc:%s", pool_name);
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size_bytes) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static int memfd_backend_seal(int fd)
{
	/* Not F_SEAL_WRITE: clients write their frames through the mapping. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -errno;
	return 0;
}

const struct backend_ops backend_memfd = {
	.name = "memfd",
	.create = memfd_backend_create,
	.seal = memfd_backend_seal,
};
