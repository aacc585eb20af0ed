/* SPDX-License-Identifier: MIT */
/*
 * stream-consumer: receives the frames of a stream that stream-producer
 * publishes and checks every one of them. Build it with
 *
 *   cc stream-consumer.c $(pkg-config --cflags --libs ksalloc) -o stream-consumer
 *
 * and run it as `stream-consumer [OPTIONS] STREAM`. It waits the way an event
 * loop does: poll() on the stream's fd (and on a signalfd, so SIGINT and
 * SIGTERM end it cleanly), then receives with a timeout of 0 until -EAGAIN.
 * Each second it prints what came; at the end of the stream, a summary.
 * Exit status: 0 at the end of the stream, 1 on a corrupt frame or an error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

struct counts {
	uint64_t frames;
	uint64_t dropped;         /* frames missing between two received ones */
	uint64_t discontinuities; /* frames received with DATADISCONTINUITY */
	uint64_t format_changes;
	uint64_t latency_sum_ns;
	uint64_t latency_max_ns;
};

struct consumer {
	struct ksalloc_stream *stream;
	const char *name;
	uint64_t last_number;    /* the number the producer wrote into the last frame */
	uint64_t first_sequence; /* the stream's sequence of the first frame */
	uint64_t last_sequence;  /* the stream's sequence of the last frame */
	struct counts second, total;
};

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3u;
	return h;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count(struct counts *c, uint64_t dropped, bool discontinuity, bool typechanged,
		  uint64_t latency_ns)
{
	c->frames++;
	c->dropped += dropped;
	c->discontinuities += discontinuity;
	c->format_changes += typechanged;
	c->latency_sum_ns += latency_ns;
	if (latency_ns > c->latency_max_ns)
		c->latency_max_ns = latency_ns;
}

static void print_counts(const char *what, const struct counts *c)
{
	printf("%s: %" PRIu64 " frames, %" PRIu64 " dropped (%" PRIu64 " discontinuities), "
	       "%" PRIu64 " format changes, latency avg %" PRIu64 " us max %" PRIu64 " us\n",
	       what, c->frames, c->dropped, c->discontinuities, c->format_changes,
	       c->frames ? c->latency_sum_ns / c->frames / 1000 : 0, c->latency_max_ns / 1000);
	fflush(stdout);
}

/* The summary: what came in all, and which of the stream's frames it was. */
static void print_summary(const char *what, const struct consumer *c)
{
	print_counts(what, &c->total);
	if (c->total.frames)
		printf("sequence %" PRIu64 " to %" PRIu64 "\n", c->first_sequence,
		       c->last_sequence);
}

/* Prints the stream's format, which TYPECHANGED says is new. */
static void print_format(struct consumer *c)
{
	char format[KSALLOC_STREAM_FORMAT_MAX + 1];
	int n = ksalloc_stream_get_format(c->stream, format, KSALLOC_STREAM_FORMAT_MAX);

	if (n < 0) {
		fprintf(stderr, "stream %s: cannot read its format: %s\n", c->name, strerror(-n));
		return;
	}
	format[n < (int)KSALLOC_STREAM_FORMAT_MAX ? n : (int)KSALLOC_STREAM_FORMAT_MAX] = '\0';
	printf("format: %s\n", n ? format : "(none)");
}

/*
 * Checks frame @f as stream-producer wrote it and returns the number it
 * carries in *@ret_number; returns false, saying why, if it is not.
 */
static bool check(struct consumer *c, const struct ksalloc_frame *f,
		  const struct ksalloc_frame_meta *m, uint64_t *ret_number)
{
	const uint8_t *data = f->data;
	uint64_t number, sum;

	if (m->data_used < 16) {
		fprintf(stderr, "frame %" PRIu64 ": %u bytes used, fewer than 16\n", m->sequence,
			m->data_used);
		return false;
	}
	memcpy(&number, data, sizeof(number));
	memcpy(&sum, data + 8, sizeof(sum));
	if (sum != fnv1a(data + 16, m->data_used - 16)) {
		fprintf(stderr,
			"frame %" PRIu64 " (number %" PRIu64 "): corrupt, its checksum "
			"does not match its content\n",
			m->sequence, number);
		return false;
	}
	for (uint32_t i = 16; i < m->data_used; i++)
		if (data[i] != (uint8_t)(number * 31 + i)) {
			fprintf(stderr, "frame %" PRIu64 ": byte %u is not frame %" PRIu64 "'s\n",
				m->sequence, i, number);
			return false;
		}
	if (number <= c->last_number || m->sequence <= c->last_sequence) {
		fprintf(stderr,
			"frame %" PRIu64 " (number %" PRIu64 ") after frame %" PRIu64
			" (number %" PRIu64 "): out of order\n",
			m->sequence, number, c->last_sequence, c->last_number);
		return false;
	}
	*ret_number = number;
	return true;
}

/*
 * Receives what is waiting, without waiting: the fd may read readable with
 * nothing there, so -EAGAIN is the normal end. Returns -EAGAIN, -EPIPE at the
 * end of the stream, 1 on a corrupt frame, or another negative errno.
 */
static int drain(struct consumer *c)
{
	for (;;) {
		struct ksalloc_frame_meta m;
		struct ksalloc_frame f;
		uint64_t dropped = 0, number = 0;
		bool ok;
		int r;

		r = ksalloc_stream_receive(c->stream, 0, &f, &m);
		if (r < 0)
			return r;
		if (m.options_flags & KSALLOC_FRAME_TYPECHANGED)
			print_format(c);
		ok = check(c, &f, &m, &number);
		/*
		 * Done with its memory: the last consumer's release gives it back to the
		 * pool, where the producer may fill it again at once. Not read after.
		 */
		r = ksalloc_stream_release(c->stream, &f);
		if (!ok)
			return 1;
		if (r < 0) {
			fprintf(stderr, "stream %s: cannot release frame %" PRIu64 ": %s\n",
				c->name, m.sequence, strerror(-r));
			return r;
		}
		if (c->last_sequence)
			dropped = m.sequence - c->last_sequence - 1;
		else
			c->first_sequence = m.sequence;
		c->last_sequence = m.sequence;
		c->last_number = number;
		for (int i = 0; i < 2; i++)
			count(i ? &c->total : &c->second, dropped,
			      m.options_flags & KSALLOC_FRAME_DATADISCONTINUITY,
			      m.options_flags & KSALLOC_FRAME_TYPECHANGED, now_ns() - m.publish_ns);
	}
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [OPTIONS] STREAM\n"
		"  --policy P    block, drop-newest, drop-oldest or latest (default block)\n"
		"  --depth N     frames queued for it at most (default 4)\n"
		"  --max-held N  frames it may hold at once (default 8)\n",
		argv0);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "depth", required_argument, NULL, 'd' },
		{ "max-held", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static const char *const policies[] = {
		[KSALLOC_STREAM_BLOCK] = "block",
		[KSALLOC_STREAM_DROP_NEWEST] = "drop-newest",
		[KSALLOC_STREAM_DROP_OLDEST] = "drop-oldest",
		[KSALLOC_STREAM_LATEST] = "latest",
	};
	struct ksalloc_stream_open_options o = { .policy = KSALLOC_STREAM_BLOCK };
	struct ksalloc_client *client = NULL;
	struct consumer c = { 0 };
	struct pollfd fds[2];
	uint64_t next_report;
	sigset_t signals;
	int opt, r, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			for (r = 0; r < 4 && strcmp(optarg, policies[r]) != 0; r++)
				;
			if (r == 4) {
				fprintf(stderr, "--policy %s: no such policy\n", optarg);
				return 2;
			}
			o.policy = (enum ksalloc_stream_policy)r;
			break;
		case 'd':
			o.depth = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			o.max_held = (uint32_t)strtoul(optarg, NULL, 10);
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
	c.name = argv[optind];

	/* SIGINT and SIGTERM come through a signalfd, polled beside the stream. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	fds[1] = (struct pollfd){ .fd = signalfd(-1, &signals, SFD_CLOEXEC), .events = POLLIN };
	if (fds[1].fd < 0) {
		perror("signalfd");
		return 1;
	}

	r = ksalloc_client_open(NULL, &client);
	if (r < 0) {
		fprintf(stderr, "cannot reach ksallocd: %s\n", ksalloc_client_open_error());
		goto out;
	}
	r = ksalloc_stream_open(client, c.name, &o, &c.stream);
	if (r < 0) {
		fprintf(stderr, "stream %s: %s\n", c.name, ksalloc_client_error(client));
		goto out;
	}
	r = ksalloc_stream_get_fd(c.stream);
	if (r < 0) {
		fprintf(stderr, "stream %s: no fd to poll: %s\n", c.name, strerror(-r));
		goto out;
	}
	fds[0] = (struct pollfd){ .fd = r, .events = POLLIN };
	printf("stream %s: consuming, policy %s\n", c.name, policies[o.policy]);
	fflush(stdout);

	next_report = now_ns() + 1000000000u;
	for (;;) {
		uint64_t now = now_ns();
		int timeout = now < next_report ? (int)((next_report - now) / 1000000u) + 1 : 0;

		if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
			perror("poll");
			goto out;
		}
		if (fds[1].revents) {
			printf("interrupted\n");
			print_summary("total", &c);
			ret = 0;
			goto out;
		}
		if (fds[0].revents) {
			r = drain(&c);
			if (r == -EPIPE) {
				print_summary("end of stream", &c);
				ret = 0;
				goto out;
			}
			if (r == -ECONNRESET) {
				fprintf(stderr, "stream %s: the producer went without ending it\n",
					c.name);
				print_summary("total", &c);
				goto out;
			}
			if (r == 1)
				goto out;
			if (r != -EAGAIN) {
				fprintf(stderr, "stream %s: cannot receive: %s\n", c.name,
					strerror(-r));
				goto out;
			}
		}
		if (now_ns() >= next_report) {
			print_counts("last second", &c.second);
			c.second = (struct counts){ 0 };
			next_report += 1000000000u;
		}
	}
out:
	ksalloc_stream_close(c.stream);
	ksalloc_client_close(client);
	close(fds[1].fd);
	return ret;
}
