/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-heap.h>

#include "daemon/storage/backend.h"
#include "shm/layout.h"

/*
 * One dma-buf per frame from a DMA-BUF heap (/dev/dma_heap/<heap>), so that
 * each frame can be handed to a device on its own; the memfd holds only the
 * control block. Clients map each frame's dma-buf, and the library brackets
 * their CPU access with DMA_BUF_IOCTL_SYNC.
 */
static int dmaheap_device_open(const char *heap, struct backend_error *err)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return backend_fail(err, -errno, "%s: %s", path, strerror(errno));
	return fd;
}

static int dmaheap_frame_export(int device, int memfd, uint64_t offset, uint64_t size,
				struct backend_error *err)
{
	struct dma_heap_allocation_data alloc = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(device, DMA_HEAP_IOCTL_ALLOC, &alloc) < 0)
		return backend_fail(err, -errno, "DMA_HEAP_IOCTL_ALLOC of %llu bytes: %s",
				    (unsigned long long)size, strerror(errno));
	return (int)alloc.fd;
}

/*
 * The kernel's own heaps (Documentation/userspace-api/dma-buf-heaps.rst): "system"
 * gives pages from anywhere; a CMA heap, named after its CMA area (which
 * /sys/kernel/mm/cma lists), gives each buffer as one physically contiguous run.
 * Of other heaps (a vendor's) the kernel says nothing.
 */
static void dmaheap_limits(const char *heap, struct backend_limits *ret)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/mm/cma/%s", heap);
	if (strcmp(heap, "system") == 0 || strcmp(heap, "system_uncached") == 0)
		ret->contiguity = BACKEND_CONTIGUITY_PAGES;
	else if (strcmp(heap, "linux,cma") == 0 || strcmp(heap, "reserved") == 0 ||
		 strcmp(heap, "default_cma_region") == 0 || access(path, F_OK) == 0)
		ret->contiguity = BACKEND_CONTIGUITY_WHOLE;
}

const struct backend_ops backend_dmaheap = {
	.name = "dmaheap",
	.description = "one dma-buf per frame from a DMA-BUF heap (/dev/dma_heap/<heap>)",
	.takes_heap = true,
	.layout_flags = SHM_LAYOUT_DMABUF_FRAMES | SHM_LAYOUT_EXTERNAL_FRAMES,
	.device_open = dmaheap_device_open,
	.frame_export = dmaheap_frame_export,
	.limits = dmaheap_limits,
};
