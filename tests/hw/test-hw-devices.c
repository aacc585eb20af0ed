/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices fill and import ksalloc frames: vivid, a V4L2 capture driver, captures
 * into the dma-buf frames of a dmaheap and a udmabuf pool (V4L2_MEMORY_DMABUF),
 * every page of every frame written, and the udmabuf frames read back through
 * the pool's memfd too; vgem, a DRM driver, imports frames of both by PRIME.
 * examples/v4l2-capture publishes vivid's frames into a stream whose consumers
 * compare each with a capture into malloc'ed memory, and lives through a
 * consumer killed while it holds frames; no fd and no dma-buf is left behind.
 * scripts/test-hw loads both drivers in its guest; elsewhere this says why it
 * skips.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include <ksalloc/ksalloc.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

/*
 * DRM's uapi for the four ioctls used here: Debian 12's linux-libc-dev ships no
 * <drm/drm.h> (libdrm-dev does, a dependency for four definitions).
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
#define DRM_CLOEXEC O_CLOEXEC
#define DRM_RDWR O_RDWR
#define DRM_IOCTL_VERSION _IOWR('d', 0x00, struct drm_version)
#define DRM_IOCTL_GEM_CLOSE _IOW('d', 0x09, struct drm_gem_close)
#define DRM_IOCTL_PRIME_HANDLE_TO_FD _IOWR('d', 0x2d, struct drm_prime_handle)
#define DRM_IOCTL_PRIME_FD_TO_HANDLE _IOWR('d', 0x2e, struct drm_prime_handle)

#define FRAMES 4
#define WIDTH 640
#define HEIGHT 360
#define POISON 0xa5

static struct test_daemon daemon_;

/*
 * The first node @prefix<N> that @is_it (a V4L2 or DRM driver), or -1; its path in
 * @path (@size bytes) where given.
 */
static int find_device(const char *prefix, int (*is_it)(int fd), char *path, size_t size)
{
	for (int i = 0; i < 16; i++) {
		int fd;

		snprintf(path, size, "%s%d", prefix, i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (is_it(fd))
			return fd;
		close(fd);
	}
	return -1;
}

static int open_device(const char *prefix, int (*is_it)(int fd))
{
	char path[64];

	return find_device(prefix, is_it, path, sizeof(path));
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

/* vgem imports a frame of each dma-buf backend by PRIME, and exports it back. */
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
		struct drm_prime_handle prime = { 0 }, exported;
		struct ksalloc_pool *p = NULL;
		struct stat ours, theirs;
		struct ksalloc_frame f;
		char name[16];
		void *map;

		snprintf(name, sizeof(name), "prime%zu", i);
		ck_assert_msg(ksalloc_pool_create_with(c, name, &framing, &o, &p) == 0, "%s",
			      ksalloc_client_error(c));
		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
		prime.fd = f.dmabuf_fd;
		ck_assert_msg(ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime) == 0,
			      "%s: PRIME import: %s", backends[i], strerror(errno));
		ck_assert_uint_ne(prime.handle, 0);
		/* Exported again, it is the frame's own dma-buf: same object, same bytes. */
		memset(f.data, 0x5a + (int)i, f.size);
		exported = (struct drm_prime_handle){ .handle = prime.handle,
						      .flags = DRM_CLOEXEC | DRM_RDWR };
		ck_assert_msg(ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &exported) == 0,
			      "%s: PRIME export: %s", backends[i], strerror(errno));
		ck_assert_int_eq(fstat(f.dmabuf_fd, &ours), 0);
		ck_assert_int_eq(fstat(exported.fd, &theirs), 0);
		ck_assert_msg(ours.st_ino == theirs.st_ino,
			      "%s: vgem exported another dma-buf than the frame it imported",
			      backends[i]);
		map = mmap(NULL, f.size, PROT_READ, MAP_SHARED, exported.fd, 0);
		ck_assert_ptr_ne(map, MAP_FAILED);
		ck_assert_int_eq(memcmp(map, f.data, f.size), 0);
		munmap(map, f.size);
		close(exported.fd);
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

/*
 * examples/v4l2-capture and its consumers. With its on-screen text off, vivid
 * draws the same picture into every frame: one read() into malloc'ed memory
 * is what every frame published must hold.
 */
static const char *const capture_backends[] = { "dmaheap:system", "udmabuf" };

struct reference {
	char device[32]; /* vivid's capture node */
	uint8_t *image;  /* malloc'ed */
	uint32_t size;
};

/* Sets menu control @name of V4L2 device @fd to its item @item. */
static void set_menu_control(int fd, const char *name, const char *item)
{
	struct v4l2_queryctrl q = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };

	while (ioctl(fd, VIDIOC_QUERYCTRL, &q) == 0) {
		if (strcmp((const char *)q.name, name) == 0) {
			for (int32_t i = q.minimum; i <= q.maximum; i++) {
				struct v4l2_querymenu m = { .id = q.id, .index = (uint32_t)i };

				if (ioctl(fd, VIDIOC_QUERYMENU, &m) == 0 &&
				    strcmp((const char *)m.name, item) == 0) {
					struct v4l2_control c = { .id = q.id, .value = i };

					ck_assert_int_eq(ioctl(fd, VIDIOC_S_CTRL, &c), 0);
					return;
				}
			}
			ck_abort_msg("control \"%s\" has no item \"%s\"", name, item);
		}
		q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	}
	ck_abort_msg("vivid has no control \"%s\"", name);
}

/* vivid at WIDTHxHEIGHT YUYV, without its text, and one frame of it read into @ref. */
static void take_reference(struct reference *ref)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	ssize_t n;
	int fd = find_device("/dev/video", is_vivid_capture, ref->device, sizeof(ref->device));

	ck_assert_msg(fd >= 0, "no vivid capture node in /dev/video*");
	set_menu_control(fd, "OSD Text Mode", "None");
	fmt.fmt.pix = (struct v4l2_pix_format){ .width = WIDTH,
						.height = HEIGHT,
						.pixelformat = V4L2_PIX_FMT_YUYV,
						.field = V4L2_FIELD_NONE };
	ck_assert_int_eq(ioctl(fd, VIDIOC_S_FMT, &fmt), 0);
	ref->size = fmt.fmt.pix.sizeimage;
	ref->image = malloc(ref->size);
	ck_assert_ptr_nonnull(ref->image);
	n = read(fd, ref->image, ref->size);
	ck_assert_msg(n == (ssize_t)ref->size, "read() of a frame from %s: %zd bytes (%s)",
		      ref->device, n, n < 0 ? strerror(errno) : "short");
	close(fd);
}

/* The dma-bufs that exist on the machine (the guest's debugfs counts them), or -1. */
static int count_dmabufs(void)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "re");
	char line[256];
	int n = -1;

	ck_assert_msg(f, "/sys/kernel/debug/dma_buf/bufinfo: %s (debugfs mounted?)",
		      strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Total %d objects", &n) == 1)
			break;
	fclose(f);
	ck_assert_int_ge(n, 0);
	return n;
}

static int count_fds_of(pid_t pid)
{
	char path[64];
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2; /* . and .. */
}

/*
 * What is wrong with frame @f of a stream v4l2-capture feeds from vivid, or NULL:
 * its bytes are @ref's (and, from a udmabuf pool, the same through the pool's
 * memfd), its time is the driver's (CLOCK_MONOTONIC: within 10 s of its publish),
 * after the frame before's (@last_pts).
 * Plain C without Check, for the consumer process that gets killed.
 */
static const char *frame_problem(struct ksalloc_stream *s, const struct reference *ref,
				 const struct ksalloc_frame *f, const struct ksalloc_frame_meta *m,
				 int64_t *last_pts)
{
	static char why[160];
	const uint8_t *data = f->data;
	uint64_t offset;
	int memfd;

	if (m->data_used != ref->size) {
		snprintf(why, sizeof(why), "frame %" PRIu64 ": %u bytes, not %u", m->sequence,
			 m->data_used, ref->size);
		return why;
	}
	for (uint32_t i = 0; i < ref->size; i++)
		if (data[i] != ref->image[i]) {
			snprintf(why, sizeof(why),
				 "frame %" PRIu64
				 " (index %u): byte %u is 0x%02x, vivid drew 0x%02x",
				 m->sequence, f->index, i, data[i], ref->image[i]);
			return why;
		}
	if (ksalloc_pool_get_memfd(ksalloc_stream_get_pool(s), f, &memfd, &offset) == 0) {
		uint8_t *map = mmap(NULL, offset + f->size, PROT_READ, MAP_SHARED, memfd, 0);
		bool same = map != MAP_FAILED && memcmp(map + offset, data, ref->size) == 0;

		if (map != MAP_FAILED)
			munmap(map, offset + f->size);
		if (!same) {
			snprintf(why, sizeof(why),
				 "frame %" PRIu64 ": not the same through the memfd", m->sequence);
			return why;
		}
	}
	/* vivid stamps its frames start + sequence x period: not always before the publish. */
	if ((m->options_flags & (KSALLOC_FRAME_TIMEVALID | KSALLOC_FRAME_SPLICEPOINT)) !=
		    (KSALLOC_FRAME_TIMEVALID | KSALLOC_FRAME_SPLICEPOINT) ||
	    m->presentation_time <= *last_pts ||
	    llabs(m->presentation_time * 100 - (int64_t)m->publish_ns) > 10000000000) {
		snprintf(why, sizeof(why),
			 "frame %" PRIu64 ": flags 0x%x, time %" PRId64 " after %" PRId64
			 ", published at %" PRIu64 " ns: not the driver's monotonic timestamp",
			 m->sequence, m->options_flags, m->presentation_time, *last_pts,
			 m->publish_ns);
		return why;
	}
	*last_pts = m->presentation_time;
	return NULL;
}

/* v4l2-capture @args (NULL-terminated, at most 8) on @ref's device; its first lines checked. */
static struct test_child start_capture(const struct reference *ref, const char *backend,
				       const char *const *args)
{
	char *argv[16] = { (char *)test_binary("v4l2-capture"), "--device", (char *)ref->device };
	char want[128], *line;
	struct test_child c;
	int n = 3;

	while (*args)
		argv[n++] = (char *)*args++;
	c = test_spawn(argv);
	line = test_child_line(&c);
	snprintf(want, sizeof(want), "pool cam: 4 frames of %u bytes on %s", ref->size, backend);
	ck_assert_msg(line && strcmp(line, want) == 0, "v4l2-capture said \"%s\", not \"%s\"",
		      line ? line : "(nothing)", want);
	free(line);
	line = test_child_line(&c);
	snprintf(want, sizeof(want),
		 "stream cam from %s: video/x-raw,format=YUY2,width=%d,height=%d,framerate=",
		 ref->device, WIDTH, HEIGHT);
	ck_assert_msg(line && strncmp(line, want, strlen(want)) == 0,
		      "v4l2-capture said \"%s\", not \"%s...\"", line ? line : "(nothing)", want);
	free(line);
	return c;
}

/*
 * The capture's end: its last line says the stream was ended, with nothing
 * damaged; where this consumer saw every frame (@frames, not 0) it counts
 * them all published, and lost frames at the device exactly when frames came
 * marked DATADISCONTINUITY (@discontinuities). It exits 0; the test's client
 * and daemon go, and the dma-bufs with them, back to @dmabufs.
 */
static void end_capture(struct test_child *cap, uint64_t frames, uint64_t discontinuities,
			struct ksalloc_stream *s, struct ksalloc_client *c, int dmabufs)
{
	uint64_t captured = 0, published = 0, lost = 0, damaged = 0;
	unsigned first = 0, last = 0;
	char *line = test_child_line(cap);

	ck_assert_msg(line && sscanf(line,
				     "stream cam: %" SCNu64 " frames captured (driver sequence %u "
				     "to %u), %" SCNu64 " published, %" SCNu64
				     " lost at the device, %" SCNu64 " damaged",
				     &captured, &first, &last, &published, &lost, &damaged) == 6,
		      "v4l2-capture's summary: \"%s\"", line ? line : "(nothing)");
	ck_assert_msg(strstr(line, ", ended"), "%s: the stream was not ended", line);
	free(line);
	ck_assert_uint_eq(damaged, 0);
	ck_assert_uint_eq(last - first + 1, captured + lost);
	/* A stop may come while the last frame waits for room: it goes back unpublished. */
	ck_assert_uint_le(published, captured);
	if (frames) {
		ck_assert_uint_eq(captured, frames);
		ck_assert_uint_eq(published, frames);
		ck_assert_msg((lost == 0) == (discontinuities == 0),
			      "%" PRIu64 " frames lost at the device, %" PRIu64
			      " marked discontinuous",
			      lost, discontinuities);
	}
	ck_assert_int_eq(test_child_finish(cap), 0);
	ksalloc_stream_close(s);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
	ck_assert_int_eq(count_dmabufs(), dmabufs);
}

/*
 * A declared stream on a declared pool: the consumer is attached first, so
 * it gets every one of v4l2-capture's 30 frames, each as vivid drew it, then
 * the end; the capture's fds stay as many, and the dma-bufs go with the daemon.
 */
START_TEST(test_capture_program_feeds_a_stream)
{
	const char *backend = capture_backends[_i];
	struct ksalloc_stream_open_options so = { .policy = KSALLOC_STREAM_BLOCK };
	struct reference ref;
	struct ksalloc_client *c = NULL;
	struct ksalloc_stream *s = NULL;
	struct ksalloc_frame f;
	struct ksalloc_frame_meta m;
	struct test_child cap;
	int64_t last_pts = 0;
	uint64_t received = 0, discontinuities = 0;
	int dmabufs = count_dmabufs(), fds = 0, r;
	char config[256];

	take_reference(&ref);
	snprintf(config, sizeof(config),
		 "[pool cam]\nframes = 4\nframe_size = %u\nbackend = %s\n\n[stream cam]\npool = "
		 "cam\n",
		 ref.size, backend);
	test_daemon_up(&daemon_, config);
	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	ck_assert_msg(ksalloc_stream_open(c, "cam", &so, &s) == 0, "%s", ksalloc_client_error(c));
	cap = start_capture(&ref, backend, (const char *const[]){ "--frames", "30", "cam", NULL });
	while ((r = ksalloc_stream_receive(s, 30000, &f, &m)) == 0) {
		const char *why = frame_problem(s, &ref, &f, &m, &last_pts);

		ck_assert_msg(!why, "%s: %s", backend, why);
		discontinuities += !!(m.options_flags & KSALLOC_FRAME_DATADISCONTINUITY);
		received++;
		if (received == 5)
			fds = count_fds_of(cap.pid);
		else if (received == 25)
			ck_assert_int_eq(count_fds_of(cap.pid), fds);
		ck_assert_int_eq(ksalloc_stream_release(s, &f), 0);
	}
	ck_assert_msg(r == -EPIPE, "receive: %s, not the end of the stream", strerror(-r));
	ck_assert_uint_eq(received, 30);
	end_capture(&cap, 30, discontinuities, s, c, dmabufs);
	free(ref.image);
}
END_TEST

/*
 * A consumer that takes 10 frames, then holds 2 and stops reading, is killed:
 * v4l2-capture, which made the pool and the stream, goes on; the next consumer
 * gets good frames from all 4 of the pool's (the dead one's came back to the
 * driver); SIGINT ends the capture cleanly, without an fd more than before.
 */
START_TEST(test_capture_program_survives_a_killed_consumer)
{
	const char *backend = capture_backends[_i];
	struct reference ref;
	struct ksalloc_client *c = NULL;
	struct ksalloc_stream *s = NULL;
	struct ksalloc_frame f;
	struct ksalloc_frame_meta m;
	struct test_child cap;
	int64_t last_pts = 0;
	uint64_t received = 0;
	uint32_t seen = 0; /* the frame indices received after the kill, as bits */
	int dmabufs = count_dmabufs(), fds, status, r;
	char said[160] = "";
	int report[2];
	pid_t consumer;

	take_reference(&ref);
	test_daemon_up(&daemon_, "");
	cap = start_capture(&ref, backend,
			    (const char *const[]){ "--backend", backend, "--buffers", "4", "cam",
						   NULL });
	fds = count_fds_of(cap.pid);

	ck_assert_int_eq(pipe2(report, O_CLOEXEC), 0);
	consumer = fork();
	ck_assert_int_ge(consumer, 0);
	if (consumer == 0) {
		const char *why = NULL;
		int n = 0;

		close(report[0]);
		if (ksalloc_client_open(NULL, &c) < 0 ||
		    ksalloc_stream_open(c, "cam", NULL, &s) < 0)
			why = "cannot open stream cam";
		for (; !why && n < 12; n++) {
			if (ksalloc_stream_receive(s, 30000, &f, &m) < 0)
				why = "receive failed";
			else if (!(why = frame_problem(s, &ref, &f, &m, &last_pts)) && n < 10)
				ksalloc_stream_release(s, &f);
		}
		/* 10 received and given back, 2 held: now it waits to be killed. */
		dprintf(report[1], "%s", why ? why : "holding");
		close(report[1]);
		pause();
		_exit(1);
	}
	close(report[1]);
	ck_assert_int_gt(read(report[0], said, sizeof(said) - 1), 0);
	close(report[0]);
	ck_assert_msg(strcmp(said, "holding") == 0, "the first consumer: %s", said);
	ck_assert_int_eq(kill(consumer, SIGKILL), 0);
	ck_assert_int_eq(waitpid(consumer, &status, 0), consumer);

	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	ck_assert_msg(ksalloc_stream_open(c, "cam", NULL, &s) == 0, "%s", ksalloc_client_error(c));
	while (received < 20) {
		const char *why;

		ck_assert_int_eq(ksalloc_stream_receive(s, 30000, &f, &m), 0);
		why = frame_problem(s, &ref, &f, &m, &last_pts);
		ck_assert_msg(!why, "%s: %s", backend, why);
		seen |= 1u << f.index;
		received++;
		ck_assert_int_eq(ksalloc_stream_release(s, &f), 0);
	}
	ck_assert_msg(seen == 0xf, "after the kill, frames 0x%x of the pool's 0xf came", seen);
	ck_assert_int_eq(count_fds_of(cap.pid), fds);

	/* SIGINT: what was published comes, then the end. */
	ck_assert_int_eq(kill(cap.pid, SIGINT), 0);
	while ((r = ksalloc_stream_receive(s, 30000, &f, &m)) == 0)
		ck_assert_int_eq(ksalloc_stream_release(s, &f), 0);
	ck_assert_msg(r == -EPIPE, "receive: %s, not the end of the stream", strerror(-r));
	end_capture(&cap, 0, 0, s, c, dmabufs);
	free(ref.image);
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
	tcase_add_loop_test(tc, test_capture_program_feeds_a_stream, 0, 2);
	tcase_add_loop_test(tc, test_capture_program_survives_a_killed_consumer, 0, 2);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
