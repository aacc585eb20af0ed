/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/udmabuf.h>

#include "daemon/storage/backend.h"
#include "shm/layout.h"

#define UDMABUF_DEVICE "/dev/udmabuf"
#define UDMABUF_SIZE_LIMIT "/sys/module/udmabuf/parameters/size_limit_mb"

/*
 * The pool's frames stay in its sealed memfd, mapped by every client as
 * shared memory, and each is also exported as a dma-buf of its own through
 * /dev/udmabuf (which insists on F_SEAL_SHRINK and page-aligned ranges): the
 * same pages are both, so a frame written by the CPU goes to a device with
 * no copy.
 */
static int udmabuf_device_open(const char *heap, struct backend_error *err)
{
	int fd = open(UDMABUF_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return backend_fail(err, -errno, "%s: %s", UDMABUF_DEVICE, strerror(errno));
	return fd;
}

/* The largest dma-buf udmabuf makes (its size_limit_mb, 64 MiB by default), or 0. */
static uint64_t udmabuf_max_size(void)
{
	long mb = backend_read_count(UDMABUF_SIZE_LIMIT);

	return mb > 0 ? (uint64_t)mb << 20 : 0;
}

static void udmabuf_limits(const char *heap, struct backend_limits *ret)
{
	ret->max_frame_size = udmabuf_max_size();
	ret->max_frame_size_source = UDMABUF_SIZE_LIMIT;
}

static int udmabuf_frame_export(int device, int memfd, uint64_t offset, uint64_t size,
				struct backend_error *err)
{
	struct udmabuf_create create = {
		.memfd = (uint32_t)memfd,
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.offset = offset,
		.size = size,
	};
	int fd = ioctl(device, UDMABUF_CREATE, &create);

	if (fd < 0)
		return backend_fail(err, -errno, "%s: UDMABUF_CREATE of %llu bytes: %s",
				    UDMABUF_DEVICE, (unsigned long long)size, strerror(errno));
	return fd;
}

const struct backend_ops backend_udmabuf = {
	.name = "udmabuf",
	.description = "shared memory whose frames are also dma-bufs (/dev/udmabuf)",
	.layout_flags = SHM_LAYOUT_PAGE_FRAMES | SHM_LAYOUT_DMABUF_FRAMES,
	.device_open = udmabuf_device_open,
	.frame_export = udmabuf_frame_export,
	.contiguity = BACKEND_CONTIGUITY_PAGES,
	.limits = udmabuf_limits,
};
