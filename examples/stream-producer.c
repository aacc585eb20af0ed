/* SPDX-License-Identifier: MIT */
/*
 * stream-producer: publishes frames of a pool to the consumers of a stream,
 * zero-copy. Build it with
 *
 *   cc stream-producer.c $(pkg-config --cflags --libs ksalloc) -o stream-producer
 *
 * and run it as `stream-producer [OPTIONS] POOL STREAM` while ksallocd runs;
 * stream-consumer STREAM, in another terminal, checks what arrives.
 *
 * Every frame carries its number (the first 8 bytes), a 64-bit FNV-1a of the
 * bytes after the first 16 (the next 8), and then bytes made from its number.
 * SIGINT or SIGTERM ends the stream: its consumers get what was published,
 * then the end.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ksalloc/ksalloc.h>

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3u;
	return h;
}

/* Frame @n's content over its first @used bytes (at least 16). */
static void fill(uint8_t *data, uint32_t used, uint64_t n)
{
	uint64_t sum;

	memcpy(data, &n, sizeof(n));
	for (uint32_t i = 16; i < used; i++)
		data[i] = (uint8_t)(n * 31 + i);
	sum = fnv1a(data + 16, used - 16);
	memcpy(data + 8, &sum, sizeof(sum));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps until CLOCK_MONOTONIC reads @deadline_ns; a signal cuts it short. */
static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000u),
			       .tv_nsec = (long)(deadline_ns % 1000000000u) };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* How many consumers stream @name has now, or a negative errno. */
static int count_consumers(struct ksalloc_client *client, const char *name)
{
	struct ksalloc_stream_info *streams;
	size_t n;
	int r;

	r = ksalloc_client_list_streams(client, &streams, &n);
	if (r < 0)
		return r;
	r = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(streams[i].name, name) == 0)
			r = (int)streams[i].n_consumers;
	free(streams);
	return r;
}

/*
 * Waits for @want consumers without asking the daemon in a loop: a consumer
 * opens the pool, which changes the pool's status, which a subscription to
 * the pool reports. Returns 0, 1 when a signal came first, or a negative errno.
 */
static int wait_consumers(struct ksalloc_client *client, const char *pool, const char *name,
			  int want)
{
	struct ksalloc_subscription_options o = { .pool = pool, .interval_ms = 10 };
	struct ksalloc_subscription *sub;
	int r;

	r = ksalloc_subscription_open(NULL, &o, &sub);
	if (r < 0) {
		fprintf(stderr, "cannot watch pool %s: %s\n", pool, ksalloc_client_open_error());
		return r;
	}
	/* Subscribed first, then counted: a consumer that comes between is not missed. */
	for (;;) {
		struct pollfd p = { .fd = ksalloc_subscription_get_fd(sub), .events = POLLIN };
		struct ksalloc_event e;

		r = count_consumers(client, name);
		if (r < 0) {
			fprintf(stderr, "stream %s: cannot count its consumers: %s\n", name,
				ksalloc_client_error(client));
			break;
		}
		if (r >= want || stopping) {
			r = stopping ? 1 : 0;
			break;
		}
		if (poll(&p, 1, -1) < 0 && errno != EINTR) {
			r = -errno;
			perror("poll");
			break;
		}
		/* What the events say does not matter: that something changed does. */
		while ((r = ksalloc_subscription_read(sub, &e)) == 0)
			ksalloc_event_clear(&e);
		if (r != -EAGAIN) {
			fprintf(stderr, "watching pool %s: %s\n", pool,
				ksalloc_subscription_error(sub));
			break;
		}
	}
	ksalloc_subscription_close(sub);
	return r;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [OPTIONS] POOL STREAM\n"
		"  --create FRAMES:SIZE  create the pool (FRAMES frames of SIZE bytes) if need be\n"
		"  --fps N               frames per second (default 30)\n"
		"  --frames N            stop after N frames (default: until SIGINT or SIGTERM)\n"
		"  --width N             the format's width in pixels (default 64)\n"
		"  --wait-consumers N    publish only once N consumers are attached\n",
		argv0);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "create", required_argument, NULL, 'c' },
		{ "fps", required_argument, NULL, 'r' },
		{ "frames", required_argument, NULL, 'n' },
		{ "width", required_argument, NULL, 'w' },
		{ "wait-consumers", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct ksalloc_framing framing = { 0 };
	struct ksalloc_client *client = NULL;
	struct ksalloc_stream *stream = NULL;
	struct ksalloc_pool *pool = NULL;
	unsigned long fps = 30, width = 64, want = 0;
	uint64_t frames = 0, n = 0, t0;
	bool create = false;
	char format[256];
	const char *pool_name, *name;
	uint32_t height, size;
	int opt, r, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (sscanf(optarg, "%u:%u", &framing.frames, &framing.frame_size) != 2) {
				fprintf(stderr, "--create %s: want FRAMES:SIZE\n", optarg);
				return 2;
			}
			create = true;
			break;
		case 'r':
			fps = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			frames = strtoull(optarg, NULL, 10);
			break;
		case 'w':
			width = strtoul(optarg, NULL, 10);
			break;
		case 'W':
			want = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (argc - optind != 2 || fps == 0 || fps > 1000000 || width == 0 ||
	    want > KSALLOC_STREAM_MAX_CONSUMERS) {
		usage(argv[0]);
		return 2;
	}
	pool_name = argv[optind];
	name = argv[optind + 1];

	/* No SA_RESTART: a signal cuts the waits below short. */
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);

	r = ksalloc_client_open(NULL, &client);
	if (r < 0) {
		fprintf(stderr, "cannot reach ksallocd: %s\n", ksalloc_client_open_error());
		return 1;
	}
	if (create)
		r = ksalloc_pool_create(client, pool_name, &framing, &pool);
	else
		r = ksalloc_pool_open(client, pool_name, &pool);
	if (r < 0) {
		fprintf(stderr, "pool %s: %s\n", pool_name, ksalloc_client_error(client));
		goto out;
	}
	size = ksalloc_pool_get_info(pool)->status.framing.frame_size;
	if (size < 16 || size / width == 0) {
		fprintf(stderr, "pool %s: frames of %u bytes are too small\n", pool_name, size);
		goto out;
	}
	r = ksalloc_stream_create(pool, name, NULL, &stream);
	if (r < 0) {
		fprintf(stderr, "stream %s: %s\n", name, ksalloc_client_error(client));
		goto out;
	}
	/* A GRAY8 picture of the frame's bytes: one byte a pixel. */
	height = size / (uint32_t)width;
	snprintf(format, sizeof(format),
		 "video/x-raw,format=GRAY8,width=%lu,height=%u,framerate=%lu/1", width, height,
		 fps);
	r = ksalloc_stream_set_format(stream, format, strlen(format) + 1);
	if (r < 0) {
		fprintf(stderr, "stream %s: cannot set its format: %s\n", name, strerror(-r));
		goto out;
	}
	printf("stream %s on pool %s: %s\n", name, pool_name, format);
	fflush(stdout);
	if (want) {
		r = wait_consumers(client, pool_name, name, (int)want);
		if (r < 0)
			goto out;
	}

	t0 = now_ns();
	while (!stopping && (frames == 0 || n < frames)) {
		struct ksalloc_frame_meta meta = {
			/* KSTIME in 100-ns units: numerator and denominator 1. */
			.presentation_time = (int64_t)(n * 10000000u / fps),
			.time_numerator = 1,
			.time_denominator = 1,
			.duration = (int64_t)(10000000u / fps),
			.data_used = (uint32_t)width * height,
			.options_flags = KSALLOC_FRAME_TIMEVALID | KSALLOC_FRAME_DURATIONVALID,
		};
		struct ksalloc_frame f;

		sleep_until(t0 + n * 1000000000u / fps);
		if (stopping)
			break;
		/* Consumers hold the pool's frames for a while: wait for one, in slices. */
		r = ksalloc_pool_acquire(pool, 500, &f);
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0) {
			fprintf(stderr, "pool %s: cannot acquire: %s\n", pool_name, strerror(-r));
			goto out;
		}
		n++;
		fill(f.data, meta.data_used, n);
		/* A consumer of policy block makes publish wait for room in its queue. */
		while ((r = ksalloc_stream_publish(stream, &f, &meta, 500)) == -ETIMEDOUT &&
		       !stopping)
			;
		if (r < 0) {
			/* Nobody got it: it is still ours. */
			ksalloc_pool_release(pool, &f);
			if (r == -ETIMEDOUT) {
				n--;
				break;
			}
			/* Publish is shared memory, not a request: errno says it all. */
			fprintf(stderr, "stream %s: cannot publish: %s\n", name, strerror(-r));
			goto out;
		}
	}
	/*
	 * Consumers get every frame published, then the end (-EPIPE). Publishing
	 * the last frame with KSALLOC_FRAME_ENDOFSTREAM would end it as well.
	 */
	r = ksalloc_stream_end(stream);
	if (r < 0) {
		fprintf(stderr, "stream %s: cannot end it: %s\n", name, strerror(-r));
		goto out;
	}
	printf("stream %s: %" PRIu64 " frames published, ended\n", name, n);
	ret = 0;
out:
	ksalloc_stream_close(stream);
	ksalloc_pool_close(pool);
	ksalloc_client_close(client);
	return ret;
}
