/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/udmabuf.h>

#include "daemon/storage/backend.h"
#include "shm/layout.h"

#define UDMABUF_DEVICE "/dev/udmabuf"

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
};
