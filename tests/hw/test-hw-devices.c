/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices fill and import ksalloc frames: vivid, a V4L2 capture driver, captures
 * into the dma-buf frames of a dmaheap and a udmabuf pool (V4L2_MEMORY_DMABUF),
 * every page of every frame written, and the udmabuf frames read back through
 * the pool's memfd too; vgem, a DRM driver, imports frames of both by PRIME.
 * scripts/test-hw loads both drivers in its guest; elsewhere this says why it
 * skips.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include <ksalloc/ksalloc.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

/*
 * DRM's uapi for the three ioctls used here: Debian 12's linux-libc-dev ships no
 * <drm/drm.h> (libdrm-dev does, a dependency for three definitions).
 */
struct drm_version {
	int version_major, version_minor, version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};
struct drm_prime_handle {
	uint32_t handle, flags;
	int32_t fd;
};
struct drm_gem_close {
	uint32_t handle, pad;
};
#define DRM_IOCTL_VERSION _IOWR('d', 0x00, struct drm_version)
#define DRM_IOCTL_GEM_CLOSE _IOW('d', 0x09, struct drm_gem_close)
#define DRM_IOCTL_PRIME_FD_TO_HANDLE _IOWR('d', 0x2e, struct drm_prime_handle)

#define FRAMES 4
#define WIDTH 640
#define HEIGHT 360
#define POISON 0xa5

static struct test_daemon daemon_;

/* The first node in /dev whose driver is @driver (V4L2 or DRM, by @is_it), or -1. */
static int open_device(const char *prefix, int (*is_it)(int fd))
{
	char path[64];

	for (int i = 0; i < 16; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s%d", prefix, i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (is_it(fd))
			return fd;
		close(fd);
	}
	return -1;
}

/* vivid's capture node: the driver, and single-planar capture with streaming. */
static int is_vivid_capture(int fd)
{
	struct v4l2_capability cap = { 0 };

	return ioctl(fd, VIDIOC_QUERYCAP, &cap) == 0 &&
	       strcmp((const char *)cap.driver, "vivid") == 0 &&
	       (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE) && (cap.device_caps & V4L2_CAP_STREAMING);
}

static int is_vgem(int fd)
{
	char name[32] = { 0 };
	struct drm_version v = { .name_len = sizeof(name) - 1, .name = name };

	return ioctl(fd, DRM_IOCTL_VERSION, &v) == 0 && strcmp(name, "vgem") == 0;
}

static void sync_frame(int dmabuf_fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags | DMA_BUF_SYNC_READ };

	ck_assert_int_eq(ioctl(dmabuf_fd, DMA_BUF_IOCTL_SYNC, &sync), 0);
}

/* Every page of @size bytes at @data has a byte that is not POISON: the device wrote it. */
static void assert_written(const uint8_t *data, size_t size, const char *what)
{
	for (size_t page = 0; page < size; page += 4096) {
		size_t end = page + 4096 < size ? page + 4096 : size, i;

		for (i = page; i < end && data[i] == POISON; i++)
			;
		ck_assert_msg(i < end, "%s: bytes %zu-%zu never written", what, page, end);
	}
}

/* vivid captures 2 rounds of FRAMES into the frames of a @backend pool. */
static void capture_into(const char *backend)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers req = { .count = FRAMES,
					   .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					   .memory = V4L2_MEMORY_DMABUF };
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct ksalloc_pool_options o = { .backend = backend };
	struct ksalloc_frame f[FRAMES];
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *p = NULL;
	struct ksalloc_framing framing = { .pool_type = 1, .frames = FRAMES };
	int fd;

	fd = open_device("/dev/video", is_vivid_capture);
	ck_assert_msg(fd >= 0, "no vivid capture node in /dev/video*");
	fmt.fmt.pix = (struct v4l2_pix_format){ .width = WIDTH,
						.height = HEIGHT,
						.pixelformat = V4L2_PIX_FMT_YUYV,
						.field = V4L2_FIELD_NONE };
	ck_assert_int_eq(ioctl(fd, VIDIOC_S_FMT, &fmt), 0);
	ck_assert_uint_eq(fmt.fmt.pix.width, WIDTH);

	test_daemon_up(&daemon_, "");
	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	framing.frame_size = fmt.fmt.pix.sizeimage;
	ck_assert_msg(ksalloc_pool_create_with(c, "cap", &framing, &o, &p) == 0, "%s",
		      ksalloc_client_error(c));
	ck_assert_int_eq(ioctl(fd, VIDIOC_REQBUFS, &req), 0);
	ck_assert_uint_eq(req.count, FRAMES);
	for (uint32_t i = 0; i < FRAMES; i++) {
		struct v4l2_buffer b = { .index = i,
					 .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = V4L2_MEMORY_DMABUF };

		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f[i]), 0);
		ck_assert_int_ge(f[i].dmabuf_fd, 0);
		memset(f[i].data, POISON, f[i].size);
		b.m.fd = f[i].dmabuf_fd;
		b.length = f[i].size;
		ck_assert_msg(ioctl(fd, VIDIOC_QBUF, &b) == 0, "QBUF %u: %s", i, strerror(errno));
	}
	ck_assert_int_eq(ioctl(fd, VIDIOC_STREAMON, &type), 0);
	for (int n = 0; n < 2 * FRAMES; n++) {
		struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = V4L2_MEMORY_DMABUF };
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		const struct ksalloc_frame *got;

		ck_assert_int_eq(poll(&pfd, 1, 30000), 1);
		ck_assert_int_eq(ioctl(fd, VIDIOC_DQBUF, &b), 0);
		ck_assert_uint_lt(b.index, FRAMES);
		got = &f[b.index];
		ck_assert_uint_eq(b.bytesused, fmt.fmt.pix.sizeimage);
		sync_frame(got->dmabuf_fd, DMA_BUF_SYNC_START);
		assert_written(got->data, b.bytesused, backend);
		if (strcmp(backend, "udmabuf") == 0) {
			/* The same pages, seen through the pool's memfd. */
			uint64_t offset;
			uint8_t *map;
			int memfd;

			ck_assert_int_eq(ksalloc_pool_get_memfd(p, got, &memfd, &offset), 0);
			map = mmap(NULL, offset + got->size, PROT_READ, MAP_SHARED, memfd, 0);
			ck_assert_ptr_ne(map, MAP_FAILED);
			ck_assert_int_eq(memcmp(map + offset, got->data, b.bytesused), 0);
			munmap(map, offset + got->size);
		}
		sync_frame(got->dmabuf_fd, DMA_BUF_SYNC_END);
		memset(got->data, POISON, got->size);
		b.m.fd = got->dmabuf_fd;
		b.length = got->size;
		ck_assert_int_eq(ioctl(fd, VIDIOC_QBUF, &b), 0);
	}
	ck_assert_int_eq(ioctl(fd, VIDIOC_STREAMOFF, &type), 0);
	req.count = 0;
	ck_assert_int_eq(ioctl(fd, VIDIOC_REQBUFS, &req), 0);
	close(fd);
	for (int i = 0; i < FRAMES; i++)
		ck_assert_int_eq(ksalloc_pool_release(p, &f[i]), 0);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}

START_TEST(test_vivid_captures_into_dmaheap_frames)
{
	capture_into("dmaheap:system");
}
END_TEST

START_TEST(test_vivid_captures_into_udmabuf_frames)
{
	capture_into("udmabuf");
}
END_TEST

/* vgem imports a frame of each dma-buf backend by PRIME. */
START_TEST(test_vgem_imports_frames)
{
	static const char *const backends[] = { "dmaheap:system", "udmabuf" };
	struct ksalloc_client *c = NULL;
	int fd = open_device("/dev/dri/card", is_vgem);

	ck_assert_msg(fd >= 0, "no vgem node in /dev/dri/card*");
	test_daemon_up(&daemon_, "");
	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		struct ksalloc_framing framing = { .pool_type = 1,
						   .frames = 2,
						   .frame_size = 65536 };
		struct ksalloc_pool_options o = { .backend = backends[i] };
		struct drm_prime_handle prime = { 0 };
		struct ksalloc_pool *p = NULL;
		struct ksalloc_frame f;
		char name[16];

		snprintf(name, sizeof(name), "prime%zu", i);
		ck_assert_msg(ksalloc_pool_create_with(c, name, &framing, &o, &p) == 0, "%s",
			      ksalloc_client_error(c));
		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
		prime.fd = f.dmabuf_fd;
		ck_assert_msg(ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime) == 0,
			      "%s: PRIME import: %s", backends[i], strerror(errno));
		ck_assert_uint_ne(prime.handle, 0);
		ck_assert_int_eq(ioctl(fd, DRM_IOCTL_GEM_CLOSE,
				       &(struct drm_gem_close){ .handle = prime.handle }),
				 0);
		ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
		ksalloc_pool_close(p);
	}
	ksalloc_client_close(c);
	close(fd);
	test_daemon_down(&daemon_);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;
	int video = open_device("/dev/video", is_vivid_capture);
	int dri = open_device("/dev/dri/card", is_vgem);

	if (video < 0 || dri < 0 || access("/dev/udmabuf", W_OK) < 0) {
		printf("test-hw-devices: skipped: needs vivid, vgem and udmabuf (modprobe vivid "
		       "vgem); scripts/test-hw loads them in qemu\n");
		return 77;
	}
	close(video);
	close(dri);
	s = suite_create("hw-devices");
	tc = tcase_create("hw-devices");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_vivid_captures_into_dmaheap_frames);
	tcase_add_test(tc, test_vivid_captures_into_udmabuf_frames);
	tcase_add_test(tc, test_vgem_imports_frames);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
