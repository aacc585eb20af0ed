/* SPDX-License-Identifier: MIT */
/*
 * v4l2-capture: a camera application. A V4L2 capture device writes straight
 * into the dma-buf frames of a ksalloc pool (V4L2_MEMORY_DMABUF: no copy), and
 * each frame it captures is published into a ksalloc stream with the driver's
 * timestamp; frames go back to the driver as the stream's consumers release
 * them. Build it with
 *
 *   cc v4l2-capture.c $(pkg-config --cflags --libs ksalloc) -o v4l2-capture
 *
 * and run it as `v4l2-capture [OPTIONS] STREAM` while ksallocd runs; a
 * consumer (stream-consumer's API, or `gst-launch-1.0 ksallocsrc stream=STREAM
 * ! ...`) takes the frames. The stream's format is GStreamer caps.
 *
 * The pool (--pool, default the stream's name) is opened, or created on
 * --backend with --buffers frames of the device's image size. Its frames are
 * the device's buffers, frame i as V4L2 buffer i. The driver's timestamp is
 * the frame's presentation time (KSTIME, 100 ns); a gap in the driver's
 * sequence (the device had no free buffer, as consumers held them all) marks
 * the next frame DATADISCONTINUITY, as a stream's own drops are. SIGINT or
 * SIGTERM ends it cleanly: the device stops, every frame it had goes back to
 * the pool, consumers get what was published, then the end of the stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include <ksalloc/ksalloc.h>

#define SLICE_MS 100 /* waits are cut in slices this long, to see a signal */

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* ioctl() again while a signal cuts it short. */
static int xioctl(int fd, unsigned long request, void *arg)
{
	int r;

	do
		r = ioctl(fd, request, arg);
	while (r < 0 && errno == EINTR);
	return r;
}

static const char *fourcc(uint32_t f, char buf[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(f >> (8 * i));

		buf[i] = c >= ' ' && c <= '~' ? c : '?';
	}
	buf[4] = '\0';
	return buf;
}

/* GStreamer's name for V4L2 pixel format @f, and its bytes per pixel in the first plane. */
static const char *gst_format(uint32_t f, unsigned *ret_bpp)
{
	static const struct {
		uint32_t v4l2;
		const char *gst;
		unsigned bpp;
	} table[] = {
		{ V4L2_PIX_FMT_YUYV, "YUY2", 2 },   { V4L2_PIX_FMT_UYVY, "UYVY", 2 },
		{ V4L2_PIX_FMT_YVYU, "YVYU", 2 },   { V4L2_PIX_FMT_NV12, "NV12", 1 },
		{ V4L2_PIX_FMT_NV21, "NV21", 1 },   { V4L2_PIX_FMT_YUV420, "I420", 1 },
		{ V4L2_PIX_FMT_YVU420, "YV12", 1 }, { V4L2_PIX_FMT_RGB24, "RGB", 3 },
		{ V4L2_PIX_FMT_BGR24, "BGR", 3 },   { V4L2_PIX_FMT_XBGR32, "BGRx", 4 },
		{ V4L2_PIX_FMT_XRGB32, "xRGB", 4 }, { V4L2_PIX_FMT_GREY, "GRAY8", 1 },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].v4l2 == f) {
			*ret_bpp = table[i].bpp;
			return table[i].gst;
		}
	return NULL;
}

struct capture {
	const char *device_path;
	int fd;
	struct v4l2_pix_format pix;
	struct v4l2_fract interval; /* seconds per frame; 0/0 when the driver does not say */
	char caps[256];

	struct ksalloc_pool *pool;
	struct ksalloc_stream *stream;
	struct ksalloc_frame *frames; /* by index: the frames the driver has */
	bool *queued;
	uint32_t n_frames, n_queued;

	uint64_t captured, published, device_dropped, errors;
	uint32_t first_sequence, next_sequence;
};

/* Sets the device's format from @size ("WxH") and @pixfmt (a FOURCC) where given. */
static int setup_device(struct capture *c, const char *size, const char *pixfmt)
{
	struct v4l2_capability cap = { 0 };
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	char fcc[5];
	unsigned bpp = 0;
	const char *gst;

	c->fd = open(c->device_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0) {
		fprintf(stderr, "%s: %s\n", c->device_path, strerror(errno));
		return -1;
	}
	if (xioctl(c->fd, VIDIOC_QUERYCAP, &cap) < 0) {
		fprintf(stderr, "%s: not a V4L2 device: %s\n", c->device_path, strerror(errno));
		return -1;
	}
	if (!(cap.device_caps & V4L2_CAP_VIDEO_CAPTURE) ||
	    !(cap.device_caps & V4L2_CAP_STREAMING)) {
		fprintf(stderr, "%s (%s): not a single-planar capture device with streaming I/O\n",
			c->device_path, (const char *)cap.card);
		return -1;
	}
	if (xioctl(c->fd, VIDIOC_G_FMT, &fmt) < 0) {
		fprintf(stderr, "%s: cannot read its format: %s\n", c->device_path,
			strerror(errno));
		return -1;
	}
	if (size || pixfmt) {
		if (size && sscanf(size, "%ux%u", &fmt.fmt.pix.width, &fmt.fmt.pix.height) != 2) {
			fprintf(stderr, "--size %s: want WIDTHxHEIGHT\n", size);
			return -1;
		}
		if (pixfmt) {
			if (strlen(pixfmt) != 4) {
				fprintf(stderr, "--format %s: want a FOURCC such as YUYV\n",
					pixfmt);
				return -1;
			}
			fmt.fmt.pix.pixelformat =
				v4l2_fourcc(pixfmt[0], pixfmt[1], pixfmt[2], pixfmt[3]);
		}
		fmt.fmt.pix.bytesperline = 0;
		fmt.fmt.pix.sizeimage = 0;
		fmt.fmt.pix.field = V4L2_FIELD_NONE;
		if (xioctl(c->fd, VIDIOC_S_FMT, &fmt) < 0) {
			fprintf(stderr, "%s: cannot set its format: %s\n", c->device_path,
				strerror(errno));
			return -1;
		}
		/* The driver picks the nearest it has: say so rather than capture another. */
		if (pixfmt && fmt.fmt.pix.pixelformat !=
				      v4l2_fourcc(pixfmt[0], pixfmt[1], pixfmt[2], pixfmt[3])) {
			fprintf(stderr, "%s: has no format %s\n", c->device_path, pixfmt);
			return -1;
		}
	}
	c->pix = fmt.fmt.pix;
	if (xioctl(c->fd, VIDIOC_G_PARM, &parm) == 0 &&
	    (parm.parm.capture.capability & V4L2_CAP_TIMEPERFRAME) &&
	    parm.parm.capture.timeperframe.numerator && parm.parm.capture.timeperframe.denominator)
		c->interval = parm.parm.capture.timeperframe;

	gst = gst_format(c->pix.pixelformat, &bpp);
	if (!gst) {
		fprintf(stderr, "%s: format %s has no GStreamer name here\n", c->device_path,
			fourcc(c->pix.pixelformat, fcc));
		return -1;
	}
	/* Caps say no stride: a device that pads its lines would be read wrong. */
	if (c->pix.bytesperline != c->pix.width * bpp) {
		fprintf(stderr,
			"%s: lines of %u bytes for %u pixels of %s: padded lines are not supported\n",
			c->device_path, c->pix.bytesperline, c->pix.width, gst);
		return -1;
	}
	snprintf(c->caps, sizeof(c->caps), "video/x-raw,format=%s,width=%u,height=%u", gst,
		 c->pix.width, c->pix.height);
	if (c->interval.numerator)
		snprintf(c->caps + strlen(c->caps), sizeof(c->caps) - strlen(c->caps),
			 ",framerate=%u/%u", c->interval.denominator, c->interval.numerator);
	return 0;
}

/* Opens pool @name, or creates it on @backend with @buffers frames of the image's size. */
static int setup_pool(struct capture *c, struct ksalloc_client *client, const char *name,
		      const char *backend, uint32_t buffers)
{
	struct ksalloc_framing framing = { .pool_type = 1,
					   .frames = buffers,
					   .frame_size = c->pix.sizeimage };
	struct ksalloc_pool_options o = { .backend = backend };
	const struct ksalloc_pool_info *info;
	int r;

	r = ksalloc_pool_open(client, name, &c->pool);
	if (r == -ENOENT)
		r = ksalloc_pool_create_with(client, name, &framing, &o, &c->pool);
	if (r < 0) {
		fprintf(stderr, "pool %s: %s\n", name, ksalloc_client_error(client));
		return -1;
	}
	info = ksalloc_pool_get_info(c->pool);
	if (info->status.framing.frame_size < c->pix.sizeimage) {
		fprintf(stderr, "pool %s: frames of %u bytes; %s's images take %u\n", name,
			info->status.framing.frame_size, c->device_path, c->pix.sizeimage);
		return -1;
	}
	if (strcmp(info->backend, "memfd") == 0 || strcmp(info->backend, "hugetlb") == 0) {
		fprintf(stderr, "pool %s: its frames (%s) are not dma-bufs a device can fill\n",
			name, info->backend);
		return -1;
	}
	c->n_frames = info->status.framing.frames;
	c->frames = calloc(c->n_frames, sizeof(*c->frames));
	c->queued = calloc(c->n_frames, sizeof(*c->queued));
	if (!c->frames || !c->queued) {
		fprintf(stderr, "out of memory\n");
		return -1;
	}
	printf("pool %s: %u frames of %u bytes on %s\n", name, c->n_frames,
	       info->status.framing.frame_size, info->backend);
	return 0;
}

/* Frame i of the pool is the driver's buffer i: one buffer per frame. */
static int request_buffers(struct capture *c, uint32_t count)
{
	struct v4l2_requestbuffers req = { .count = count,
					   .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					   .memory = V4L2_MEMORY_DMABUF };

	if (xioctl(c->fd, VIDIOC_REQBUFS, &req) < 0) {
		fprintf(stderr, "%s: cannot import dma-bufs (V4L2_MEMORY_DMABUF): %s\n",
			c->device_path, strerror(errno));
		return -1;
	}
	if (req.count < count) {
		fprintf(stderr, "%s: takes %u buffers; the pool has %u frames\n", c->device_path,
			req.count, count);
		return -1;
	}
	return 0;
}

static int queue_frame(struct capture *c, const struct ksalloc_frame *f)
{
	struct v4l2_buffer b = { .index = f->index,
				 .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_DMABUF,
				 .m.fd = f->dmabuf_fd,
				 .length = f->size };

	if (xioctl(c->fd, VIDIOC_QBUF, &b) < 0) {
		fprintf(stderr, "%s: cannot queue frame %u: %s\n", c->device_path, f->index,
			strerror(errno));
		return -1;
	}
	c->frames[f->index] = *f;
	c->queued[f->index] = true;
	c->n_queued++;
	return 0;
}

/*
 * Gives the driver the pool's free frames: all of them at once, without
 * waiting, or, when the driver has none left (consumers hold them all), the
 * first released within a slice. Returns 0 or -1.
 */
static int refill(struct capture *c)
{
	for (;;) {
		uint32_t timeout = c->n_queued ? 0 : SLICE_MS;
		struct ksalloc_frame f;
		/* Only the device writes into it: no CPU cache to keep in step. */
		int r = ksalloc_pool_acquire_access(c->pool, timeout, KSALLOC_ACCESS_DEVICE, &f);

		if (r == -ETIMEDOUT)
			return 0;
		if (r < 0) {
			fprintf(stderr, "cannot acquire a frame: %s\n", strerror(-r));
			return -1;
		}
		if (f.index >= c->n_frames || f.dmabuf_fd < 0) {
			fprintf(stderr, "frame %u: not a dma-buf frame of the pool\n", f.index);
			ksalloc_pool_release(c->pool, &f);
			return -1;
		}
		if (queue_frame(c, &f) < 0) {
			ksalloc_pool_release(c->pool, &f);
			return -1;
		}
	}
}

/* Publishes what the driver filled in @b. Returns 0 or -1. */
static int publish(struct capture *c, const struct v4l2_buffer *b)
{
	struct ksalloc_frame *f = &c->frames[b->index];
	struct ksalloc_frame_meta meta = {
		/* KSTIME in 100-ns units: the driver's timestamp (CLOCK_MONOTONIC for most drivers). */
		.presentation_time = (int64_t)b->timestamp.tv_sec * 10000000 +
				     (int64_t)b->timestamp.tv_usec * 10,
		.time_numerator = 1,
		.time_denominator = 1,
		.data_used = b->bytesused,
		/* Raw video: every frame decodes on its own. */
		.options_flags = KSALLOC_FRAME_TIMEVALID | KSALLOC_FRAME_SPLICEPOINT,
	};
	int r;

	if (c->interval.numerator) {
		meta.duration = (int64_t)10000000 * c->interval.numerator / c->interval.denominator;
		meta.options_flags |= KSALLOC_FRAME_DURATIONVALID;
	}
	if (c->captured == 0)
		c->first_sequence = b->sequence;
	else if (b->sequence != c->next_sequence) {
		/* The driver had no buffer for these: consumers held every frame. */
		c->device_dropped += b->sequence - c->next_sequence;
		meta.options_flags |= KSALLOC_FRAME_DATADISCONTINUITY;
	}
	c->next_sequence = b->sequence + 1;
	c->captured++;

	/* A consumer of policy block makes publish wait for room in its queue. */
	while ((r = ksalloc_stream_publish(c->stream, f, &meta, SLICE_MS)) == -ETIMEDOUT &&
	       !stopping)
		;
	if (r < 0) {
		/* Nobody got it: it is still ours. */
		ksalloc_pool_release(c->pool, f);
		if (r == -ETIMEDOUT)
			return 0;
		fprintf(stderr, "cannot publish: %s\n", strerror(-r));
		return -1;
	}
	c->published++;
	return 0;
}

/* Takes what the driver filled; returns 1 when it had nothing, 0, or -1. */
static int dequeue(struct capture *c)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_DMABUF };

	if (xioctl(c->fd, VIDIOC_DQBUF, &b) < 0) {
		if (errno == EAGAIN)
			return 1;
		fprintf(stderr, "%s: cannot dequeue: %s\n", c->device_path, strerror(errno));
		return -1;
	}
	if (b.index >= c->n_frames || !c->queued[b.index]) {
		fprintf(stderr, "%s: dequeued buffer %u, which it did not have\n", c->device_path,
			b.index);
		return -1;
	}
	c->queued[b.index] = false;
	c->n_queued--;
	if (b.flags & V4L2_BUF_FLAG_ERROR) {
		/* A damaged capture is not published: the frame goes back to the driver. */
		c->errors++;
		return queue_frame(c, &c->frames[b.index]);
	}
	return publish(c, &b);
}

/* Stops the device and gives back every frame it had. */
static void stop_device(struct capture *c)
{
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_requestbuffers req = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					   .memory = V4L2_MEMORY_DMABUF };

	/* STREAMOFF takes every buffer from the driver, filled or not. */
	if (xioctl(c->fd, VIDIOC_STREAMOFF, &type) < 0)
		fprintf(stderr, "%s: cannot stop it: %s\n", c->device_path, strerror(errno));
	for (uint32_t i = 0; i < c->n_frames; i++)
		if (c->queued[i]) {
			ksalloc_pool_release(c->pool, &c->frames[i]);
			c->queued[i] = false;
		}
	c->n_queued = 0;
	/* The driver lets go of its dma-buf attachments. */
	xioctl(c->fd, VIDIOC_REQBUFS, &req);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [OPTIONS] STREAM\n"
		"  --device PATH     the V4L2 capture device (default /dev/video0)\n"
		"  --pool NAME       the pool of dma-buf frames the device fills (default STREAM)\n"
		"  --backend NAME    where a pool it creates lives (default device: a dma-heap,\n"
		"                    else udmabuf; ksallocctl backends lists them)\n"
		"  --buffers N       frames of a pool it creates (default 8)\n"
		"  --size WxH        ask the device for this size (default: its current one)\n"
		"  --format FOURCC   ask the device for this pixel format, e.g. YUYV\n"
		"  --frames N        stop after N frames (default: until SIGINT or SIGTERM)\n",
		argv0);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "pool", required_argument, NULL, 'p' },
		{ "backend", required_argument, NULL, 'b' },
		{ "buffers", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "frames", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct capture c = { .device_path = "/dev/video0", .fd = -1 };
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	const char *pool_name = NULL, *backend = "device", *size = NULL, *pixfmt = NULL;
	struct ksalloc_client *client = NULL;
	unsigned long buffers = 8;
	uint64_t frames = 0;
	bool streaming = false;
	char *end;
	int opt, r, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			c.device_path = optarg;
			break;
		case 'p':
			pool_name = optarg;
			break;
		case 'b':
			backend = optarg;
			break;
		case 'n':
			buffers = strtoul(optarg, &end, 10);
			if (*end || buffers < 2 || buffers > VIDEO_MAX_FRAME) {
				fprintf(stderr, "--buffers %s: want 2 to %u\n", optarg,
					VIDEO_MAX_FRAME);
				return 2;
			}
			break;
		case 's':
			size = optarg;
			break;
		case 'f':
			pixfmt = optarg;
			break;
		case 'N':
			frames = strtoull(optarg, &end, 10);
			if (*end || frames == 0) {
				fprintf(stderr, "--frames %s: want a number above 0\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (argc - optind != 1) {
		usage(argv[0]);
		return 2;
	}
	if (!pool_name)
		pool_name = argv[optind];

	/* No SA_RESTART: a signal cuts poll() short; the other waits are slices. */
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);

	if (setup_device(&c, size, pixfmt) < 0)
		goto out;
	r = ksalloc_client_open(NULL, &client);
	if (r < 0) {
		fprintf(stderr, "cannot reach ksallocd: %s\n", ksalloc_client_open_error());
		goto out;
	}
	if (setup_pool(&c, client, pool_name, backend, (uint32_t)buffers) < 0 ||
	    request_buffers(&c, c.n_frames) < 0)
		goto out;
	r = ksalloc_stream_create(c.pool, argv[optind], NULL, &c.stream);
	if (r < 0) {
		fprintf(stderr, "stream %s: %s\n", argv[optind], ksalloc_client_error(client));
		goto out;
	}
	r = ksalloc_stream_set_format(c.stream, c.caps, strlen(c.caps) + 1);
	if (r < 0) {
		fprintf(stderr, "stream %s: cannot set its format: %s\n", argv[optind],
			strerror(-r));
		goto out;
	}
	printf("stream %s from %s: %s\n", argv[optind], c.device_path, c.caps);
	fflush(stdout);

	if (refill(&c) < 0)
		goto out;
	if (xioctl(c.fd, VIDIOC_STREAMON, &type) < 0) {
		fprintf(stderr, "%s: cannot start it: %s\n", c.device_path, strerror(errno));
		goto out;
	}
	streaming = true;
	while (!stopping && (frames == 0 || c.captured < frames)) {
		struct pollfd p = { .fd = c.fd, .events = POLLIN };

		if (refill(&c) < 0)
			goto out;
		if (c.n_queued == 0)
			continue; /* every frame is with consumers */
		r = poll(&p, 1, SLICE_MS);
		if (r < 0 && errno != EINTR) {
			perror("poll");
			goto out;
		}
		if (r > 0 && (p.revents & POLLERR)) {
			fprintf(stderr, "%s: the device stopped (POLLERR)\n", c.device_path);
			goto out;
		}
		/* Everything the driver filled, then back to giving it frames. */
		while (r > 0 && !stopping && (frames == 0 || c.captured < frames)) {
			int d = dequeue(&c);

			if (d < 0)
				goto out;
			if (d == 1)
				break;
		}
	}
	ret = 0;
out:
	if (streaming)
		stop_device(&c);
	/*
	 * Consumers get every frame published, then the end (-EPIPE). On an error
	 * the stream is closed without it: they see its producer gone.
	 */
	if (c.stream && ret == 0 && (r = ksalloc_stream_end(c.stream)) < 0) {
		fprintf(stderr, "stream %s: cannot end it: %s\n", argv[optind], strerror(-r));
		ret = 1;
	}
	if (c.captured)
		printf("stream %s: %" PRIu64 " frames captured (driver sequence %u to %u), "
		       "%" PRIu64 " published, %" PRIu64 " lost at the device, %" PRIu64
		       " damaged%s\n",
		       argv[optind], c.captured, c.first_sequence, c.next_sequence - 1, c.published,
		       c.device_dropped, c.errors, ret == 0 ? ", ended" : "");
	ksalloc_stream_close(c.stream);
	ksalloc_pool_close(c.pool);
	ksalloc_client_close(client);
	free(c.frames);
	free(c.queued);
	if (c.fd >= 0)
		close(c.fd);
	return ret;
}
