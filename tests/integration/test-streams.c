/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streams across processes, through the library and the real daemon: a
 * producer and consumers in separate processes checking every byte of every
 * frame; each policy with a slow consumer; the end; a format change; a
 * consumer attaching mid-stream; a consumer killed holding frames; a producer
 * that goes and a new one; the pollable fd; read-only frames; the limits.
 * Every wait is on an event (a pipe, a process's exit, a frame coming back to
 * the pool), never on time.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

static const char config[] = "[pool video]\n"
			     "frames = 16\n"
			     "frame_size = 4096\n"
			     "\n"
			     "[pool small]\n"
			     "frames = 4\n"
			     "frame_size = 4096\n"
			     "\n"
			     "[stream declared]\n"
			     "pool = video\n"
			     "mode = 0640\n";

static struct test_daemon daemon_;

static void start(void)
{
	test_daemon_up(&daemon_, config);
}

static void stop(void)
{
	test_daemon_down(&daemon_);
}

static struct ksalloc_client *client(void)
{
	struct ksalloc_client *c = NULL;

	ck_assert_msg(ksalloc_client_open(NULL, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

static struct ksalloc_pool *pool_open(struct ksalloc_client *c, const char *name)
{
	struct ksalloc_pool *p = NULL;

	ck_assert_msg(ksalloc_pool_open(c, name, &p) == 0, "%s", ksalloc_client_error(c));
	return p;
}

static struct ksalloc_stream *producer(struct ksalloc_pool *p, const char *name)
{
	struct ksalloc_stream *s = NULL;
	struct ksalloc_client *c = ksalloc_pool_get_client(p);

	ck_assert_msg(ksalloc_stream_create(p, name, NULL, &s) == 0, "%s", ksalloc_client_error(c));
	return s;
}

static struct ksalloc_stream *consumer(struct ksalloc_client *c, const char *name,
				       enum ksalloc_stream_policy policy, uint32_t depth,
				       uint32_t max_held)
{
	struct ksalloc_stream_open_options o = { .policy = policy,
						 .depth = depth,
						 .max_held = max_held };
	struct ksalloc_stream *s = NULL;

	ck_assert_msg(ksalloc_stream_open(c, name, &o, &s) == 0, "%s", ksalloc_client_error(c));
	return s;
}

/* What the producer writes into frame @seq: its number, then bytes that depend on both. */
static void fill(struct ksalloc_frame *f, uint64_t seq, uint32_t used)
{
	uint8_t *d = f->data;

	memcpy(d, &seq, sizeof(seq));
	for (uint32_t i = sizeof(seq); i < used; i++)
		d[i] = (uint8_t)(seq * 31 + i);
}

static bool check(const struct ksalloc_frame *f, uint64_t seq, uint32_t used)
{
	const uint8_t *d = f->data;
	uint64_t got;

	memcpy(&got, d, sizeof(got));
	if (got != seq)
		return false;
	for (uint32_t i = sizeof(seq); i < used; i++)
		if (d[i] != (uint8_t)(seq * 31 + i))
			return false;
	return true;
}

/* Acquires, fills with @seq and publishes; returns what publish returned. */
static int send_one(struct ksalloc_pool *p, struct ksalloc_stream *s, uint64_t seq,
		    uint32_t timeout_ms)
{
	struct ksalloc_frame_meta meta = {
		.presentation_time = (int64_t)seq * 333333,
		.duration = 333333,
		.data_used = 1000 + (uint32_t)(seq % 3000),
		.options_flags = KSALLOC_FRAME_TIMEVALID | KSALLOC_FRAME_DURATIONVALID,
	};
	struct ksalloc_frame f;
	int r;

	ck_assert_int_eq(ksalloc_pool_acquire(p, 10000, &f), 0);
	fill(&f, seq, meta.data_used);
	r = ksalloc_stream_publish(s, &f, &meta, timeout_ms);
	if (r < 0)
		ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	return r;
}

#define FRAMES 300u

/*
 * A consumer process: opens @name, says so on @ready, checks every frame
 * until the end; exits 0 when it got all FRAMES frames, in order, intact.
 */
static void run_consumer(const char *name, int ready)
{
	struct ksalloc_client *c = client();
	struct ksalloc_stream *s = consumer(c, name, KSALLOC_STREAM_BLOCK, 8, 4);
	uint64_t expect = 1;
	int r;

	if (write(ready, "r", 1) != 1)
		_exit(2);
	for (;;) {
		struct ksalloc_frame_meta meta;
		struct ksalloc_frame f;

		r = ksalloc_stream_receive(s, 30000, &f, &meta);
		if (r == -EPIPE)
			break;
		if (r < 0 || meta.sequence != expect ||
		    meta.presentation_time != (int64_t)expect * 333333 ||
		    meta.data_used != 1000 + expect % 3000 || !check(&f, expect, meta.data_used) ||
		    (meta.options_flags & KSALLOC_FRAME_DATADISCONTINUITY))
			_exit(3);
		if (ksalloc_stream_release(s, &f) < 0)
			_exit(4);
		expect++;
	}
	ksalloc_stream_close(s);
	ksalloc_client_close(c);
	if (expect != FRAMES + 1)
		fprintf(stderr, "consumer: the end after %llu frames\n",
			(unsigned long long)expect - 1);
	_exit(expect == FRAMES + 1 ? 0 : 5);
}

static pid_t spawn_consumer(const char *name)
{
	int ready[2];
	pid_t pid;
	char b;

	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		run_consumer(name, ready[1]);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	close(ready[0]);
	return pid;
}

static int wait_exit(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Every frame of pool @name back: acquired all at once, then released. */
static void assert_all_frames_back(struct ksalloc_pool *p)
{
	uint32_t n = ksalloc_pool_get_info(p)->status.framing.frames;
	struct ksalloc_frame f[16];

	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(ksalloc_pool_acquire(p, 10000, &f[i]), 0);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(ksalloc_pool_release(p, &f[i]), 0);
}

START_TEST(test_streams_three_consumer_processes_check_every_byte)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_stream *s;
	pid_t pids[3];

	start();
	c = client();
	p = pool_open(c, "video");
	s = producer(p, "cam");
	for (int i = 0; i < 3; i++)
		pids[i] = spawn_consumer("cam");
	for (uint64_t seq = 1; seq <= FRAMES; seq++)
		ck_assert_int_eq(send_one(p, s, seq, 30000), 3);
	ck_assert_int_eq(ksalloc_stream_end(s), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(wait_exit(pids[i]), 0);
	assert_all_frames_back(p);
	ksalloc_stream_close(s);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_streams_policies_with_a_slow_consumer)
{
	struct ksalloc_client *c, *cc;
	struct ksalloc_pool *p;
	struct ksalloc_stream *s, *block, *newest, *oldest, *latest;
	struct ksalloc_frame_meta m;
	struct ksalloc_frame f;
	struct ksalloc_stream_info *info;
	size_t n;

	start();
	c = client();
	cc = client();
	p = pool_open(c, "video");
	s = producer(p, "cam");
	block = consumer(cc, "cam", KSALLOC_STREAM_BLOCK, 2, 4);
	newest = consumer(cc, "cam", KSALLOC_STREAM_DROP_NEWEST, 2, 4);
	oldest = consumer(cc, "cam", KSALLOC_STREAM_DROP_OLDEST, 2, 4);
	latest = consumer(cc, "cam", KSALLOC_STREAM_LATEST, 0, 4);
	ck_assert_int_eq(send_one(p, s, 1, 0), 4);
	ck_assert_int_eq(send_one(p, s, 2, 0), 4);
	/* block is full: the publish gives up, the frame stays ours and nobody got it. */
	ck_assert_int_eq(send_one(p, s, 3, 0), -ETIMEDOUT);
	ck_assert_int_eq(ksalloc_stream_receive(block, 0, &f, &m), 0);
	ck_assert(check(&f, 1, m.data_used));
	ck_assert_int_eq(ksalloc_stream_release(block, &f), 0);
	for (uint64_t seq = 3; seq <= 4; seq++) {
		/* Not to newest, whose queue is full. */
		ck_assert_int_eq(send_one(p, s, seq, 0), 3);
		if (seq == 3) {
			/* block drains one: it loses nothing. */
			ck_assert_int_eq(ksalloc_stream_receive(block, 0, &f, &m), 0);
			ck_assert_uint_eq(m.sequence, 2);
			ck_assert_int_eq(ksalloc_stream_release(block, &f), 0);
		}
	}
	ck_assert_int_eq(send_one(p, s, 5, 0), -ETIMEDOUT);
	/* newest kept 1 and 2, lost 3 and 4; oldest kept 3 and 4; latest has 4 alone. */
	ck_assert_int_eq(ksalloc_stream_receive(newest, 0, &f, &m), 0);
	ck_assert_uint_eq(m.sequence, 1);
	ck_assert_int_eq(ksalloc_stream_release(newest, &f), 0);
	ck_assert_int_eq(ksalloc_stream_receive(newest, 0, &f, &m), 0);
	ck_assert_uint_eq(m.sequence, 2);
	ck_assert_int_eq(ksalloc_stream_release(newest, &f), 0);
	ck_assert_int_eq(ksalloc_stream_receive(newest, 0, &f, &m), -EAGAIN);
	ck_assert_int_eq(ksalloc_stream_receive(oldest, 0, &f, &m), 0);
	ck_assert_uint_eq(m.sequence, 3);
	ck_assert(m.options_flags & KSALLOC_FRAME_DATADISCONTINUITY);
	ck_assert(check(&f, 3, m.data_used));
	ck_assert_int_eq(ksalloc_stream_release(oldest, &f), 0);
	ck_assert_int_eq(ksalloc_stream_receive(latest, 0, &f, &m), 0);
	ck_assert_uint_eq(m.sequence, 4);
	ck_assert(m.options_flags & KSALLOC_FRAME_DATADISCONTINUITY);
	ck_assert_int_eq(ksalloc_stream_release(latest, &f), 0);

	/* The daemon's view: drops counted per consumer. */
	ck_assert_int_eq(ksalloc_client_list_streams(c, &info, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(info[0].name, "declared");
	memmove(&info[0], &info[1], sizeof(info[0]));
	ck_assert_str_eq(info[0].name, "cam");
	ck_assert_str_eq(info[0].pool, "video");
	ck_assert_uint_eq(info[0].n_consumers, 4);
	ck_assert_uint_eq(info[0].consumers[0].dropped, 0);
	ck_assert_uint_eq(info[0].consumers[1].dropped, 2);
	ck_assert_uint_eq(info[0].consumers[2].dropped, 2);
	ck_assert_uint_eq(info[0].consumers[3].dropped, 3);
	ck_assert_uint_eq(info[0].published, 4);
	ck_assert_int_eq(info[0].state, KSALLOC_STREAM_FLOWING);
	free(info);

	/* The pool's status names who holds the stream's frames: its consumers. */
	{
		struct ksalloc_pool_stats st;
		uint32_t named = 0;

		ck_assert_int_eq(ksalloc_client_pool_stats(c, "video", &st), 0);
		for (size_t i = 0; i < st.n_holders; i++)
			if (strncmp(st.holders[i].name, "stream cam consumer ", 20) == 0) {
				named++;
				ck_assert_uint_eq(st.holders[i].pid, (uint32_t)getpid());
			}
		ck_assert_uint_eq(named, 4);
		free(st.holders);
	}

	ksalloc_stream_close(block);
	ksalloc_stream_close(newest);
	ksalloc_stream_close(oldest);
	ksalloc_stream_close(latest);
	assert_all_frames_back(p);
	ksalloc_stream_close(s);
	ksalloc_pool_close(p);
	ksalloc_client_close(cc);
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_streams_end_format_new_producer_and_late_consumer)
{
	struct ksalloc_client *c, *cc;
	struct ksalloc_pool *p;
	struct ksalloc_stream *s, *a, *late;
	struct ksalloc_frame_meta m;
	struct ksalloc_frame f;
	char format[64];
	uint32_t gen;

	start();
	c = client();
	cc = client();
	p = pool_open(c, "video");
	s = producer(p, "cam");
	ck_assert_int_eq(ksalloc_stream_set_format(s, "video/x-raw,width=64", 20), 0);
	a = consumer(cc, "cam", KSALLOC_STREAM_BLOCK, 4, 4);
	ck_assert_int_eq(ksalloc_stream_get_format(a, format, sizeof(format)), 20);
	ck_assert(memcmp(format, "video/x-raw,width=64", 20) == 0);
	ck_assert_int_eq(send_one(p, s, 1, 0), 1);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), 0);
	ck_assert(m.options_flags & KSALLOC_FRAME_TYPECHANGED);
	ck_assert_int_eq(ksalloc_stream_release(a, &f), 0);
	ck_assert_int_eq(send_one(p, s, 2, 0), 1);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), 0);
	ck_assert(!(m.options_flags & KSALLOC_FRAME_TYPECHANGED));
	ck_assert_int_eq(ksalloc_stream_release(a, &f), 0);
	ck_assert_int_eq(ksalloc_stream_set_format(s, "video/x-raw,width=32", 20), 0);
	ck_assert_int_eq(send_one(p, s, 3, 0), 1);
	/* Its format replaced before the consumer read it: the generations tell. */
	ck_assert_int_eq(ksalloc_stream_set_format(s, "video/x-raw,width=16", 20), 0);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), 0);
	ck_assert(m.options_flags & KSALLOC_FRAME_TYPECHANGED);
	ck_assert_int_eq(ksalloc_stream_get_format_generation(a, format, sizeof(format), &gen), 20);
	ck_assert(memcmp(format, "video/x-raw,width=16", 20) == 0);
	ck_assert_uint_eq(gen, m.format_generation + 1);
	ck_assert_int_eq(ksalloc_stream_release(a, &f), 0);
	ck_assert_int_eq(send_one(p, s, 4, 0), 1);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), 0);
	ck_assert_uint_eq(m.format_generation, gen);
	ck_assert_int_eq(ksalloc_stream_release(a, &f), 0);

	/* A consumer attaching mid-stream gets what is published from then on. */
	late = consumer(cc, "cam", KSALLOC_STREAM_BLOCK, 4, 4);
	ck_assert_int_eq(send_one(p, s, 5, 0), 2);
	ck_assert_int_eq(ksalloc_stream_receive(late, 0, &f, &m), 0);
	ck_assert_uint_eq(m.sequence, 5);
	ck_assert(!(m.options_flags & KSALLOC_FRAME_DATADISCONTINUITY));
	ck_assert_int_eq(ksalloc_stream_release(late, &f), 0);
	late = ksalloc_stream_close(late);

	/* The end comes after the frames, once; a second producer is refused meanwhile. */
	ck_assert_int_eq(ksalloc_stream_end(s), 0);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), 0);
	ck_assert_uint_eq(m.sequence, 5);
	ck_assert_int_eq(ksalloc_stream_release(a, &f), 0);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), -EPIPE);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), -EAGAIN);
	{
		struct ksalloc_stream *second = NULL;

		ck_assert_int_eq(ksalloc_stream_create(p, "cam", NULL, &second), -EBUSY);
	}
	/* The producer goes without ending: news for the consumer, then a new producer. */
	s = ksalloc_stream_close(s);
	s = producer(p, "cam");
	ck_assert_int_eq(send_one(p, s, 6, 0), 1);
	s = ksalloc_stream_close(s);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), 0);
	ck_assert_uint_eq(m.sequence, 6);
	ck_assert_int_eq(ksalloc_stream_release(a, &f), 0);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), -ECONNRESET);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), -EAGAIN);

	ksalloc_stream_close(a);
	assert_all_frames_back(p);
	ksalloc_pool_close(p);
	ksalloc_client_close(cc);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* A consumer killed holding 2 frames with 2 more queued: all 4 back, the pool's whole. */
START_TEST(test_streams_killed_consumer_gives_back_queued_and_held_frames)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_stream *s;
	int ready[2];
	pid_t pid;
	char b;

	start();
	c = client();
	p = pool_open(c, "small");
	s = producer(p, "cam");
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ksalloc_client *cc = client();
		struct ksalloc_stream *x = consumer(cc, "cam", KSALLOC_STREAM_BLOCK, 4, 4);
		struct ksalloc_frame f;

		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		for (int i = 0; i < 2; i++)
			if (ksalloc_stream_receive(x, 30000, &f, NULL) < 0)
				_exit(3);
		if (write(ready[1], "h", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	for (uint64_t seq = 1; seq <= 4; seq++)
		ck_assert_int_eq(send_one(p, s, seq, 0), 1);
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	close(ready[0]);
	kill(pid, SIGKILL);
	ck_assert_int_eq(wait_exit(pid), 128 + SIGKILL);
	assert_all_frames_back(p);
	ksalloc_stream_close(s);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/*
 * Another session that leaves the pool takes nothing of the stream's: the
 * frame a consumer holds and the one queued for it stay theirs. (The daemon
 * sweeps the frames of sessions that left; a stream is not one.)
 */
START_TEST(test_streams_frames_survive_another_session_leaving_the_pool)
{
	struct ksalloc_subscription_options so = { .pool = "small", .interval_ms = 10 };
	struct ksalloc_client *c, *cc, *other;
	struct ksalloc_subscription *sub;
	struct ksalloc_pool *p, *q;
	struct ksalloc_stream *s, *a;
	struct ksalloc_frame_meta m[2];
	struct ksalloc_frame f[2];
	uint32_t sessions = 0;

	start();
	c = client();
	cc = client();
	p = pool_open(c, "small");
	s = producer(p, "cam");
	a = consumer(cc, "cam", KSALLOC_STREAM_BLOCK, 4, 4);
	ck_assert_int_eq(send_one(p, s, 1, 0), 1);
	ck_assert_int_eq(send_one(p, s, 2, 0), 1);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f[0], &m[0]), 0);

	other = client();
	q = pool_open(other, "small");
	ck_assert_int_eq(ksalloc_subscription_open(NULL, &so, &sub), 0);
	ksalloc_pool_close(q);
	ksalloc_client_close(other);
	/* The daemon has seen it go when the pool's sessions are the producer and the consumer. */
	while (sessions != 2) {
		struct pollfd pfd = { .fd = ksalloc_subscription_get_fd(sub), .events = POLLIN };
		struct ksalloc_event e;
		int r;

		ck_assert_int_eq(poll(&pfd, 1, 30000), 1);
		while ((r = ksalloc_subscription_read(sub, &e)) == 0) {
			if (e.kind == KSALLOC_EVENT_STATUS)
				sessions = e.stats.sessions;
			ksalloc_event_clear(&e);
		}
		ck_assert_int_eq(r, -EAGAIN);
	}
	ksalloc_subscription_close(sub);

	ck_assert(check(&f[0], 1, m[0].data_used));
	ck_assert_int_eq(ksalloc_stream_release(a, &f[0]), 0);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f[1], &m[1]), 0);
	ck_assert_uint_eq(m[1].sequence, 2);
	ck_assert(check(&f[1], 2, m[1].data_used));
	ck_assert_int_eq(ksalloc_stream_release(a, &f[1]), 0);

	ksalloc_stream_close(a);
	assert_all_frames_back(p);
	ksalloc_stream_close(s);
	ksalloc_pool_close(p);
	ksalloc_client_close(cc);
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_streams_pollable_fd_and_limits)
{
	struct ksalloc_client *c, *cc;
	struct ksalloc_pool *p;
	struct ksalloc_stream *s, *a, *x = NULL;
	struct ksalloc_frame f[2];
	struct pollfd pfd;
	int fd;

	start();
	c = client();
	cc = client();
	p = pool_open(c, "video");
	s = producer(p, "cam");
	a = consumer(cc, "cam", KSALLOC_STREAM_BLOCK, 4, 1);
	fd = ksalloc_stream_get_fd(a);
	ck_assert_int_ge(fd, 0);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	ck_assert_int_eq(send_one(p, s, 1, 0), 1);
	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f[0], NULL), 0);
	ck_assert_int_eq(send_one(p, s, 2, 0), 1);
	/* max_held 1: the second waits until the first is back. */
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f[1], NULL), -EDQUOT);
	ck_assert_int_eq(ksalloc_stream_release(a, &f[0]), 0);
	ck_assert_int_eq(ksalloc_stream_release(a, &f[0]), -EALREADY);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f[1], NULL), 0);
	ck_assert_int_eq(ksalloc_stream_release(a, &f[1]), 0);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f[1], NULL), -EAGAIN);
	/* Drained: not readable until the next frame. */
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(send_one(p, s, 3, 0), 1);
	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);

	ck_assert_int_eq(ksalloc_stream_open(cc, "nosuch", NULL, &x), -ENOENT);
	ck_assert_int_eq(ksalloc_stream_open(cc, "../x", NULL, &x), -EINVAL);
	ck_assert_ptr_null(x);
	ck_assert_int_eq(ksalloc_stream_publish(a, &f[0], NULL, 0), -EPERM);

	ksalloc_stream_close(a);
	ksalloc_stream_close(s);
	assert_all_frames_back(p);
	ksalloc_pool_close(p);
	ksalloc_client_close(cc);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* The child's way of saying the kernel refused its write (a sanitizer's own handler aborts). */
static void exit_on_segv(int signum)
{
	(void)signum;
	_exit(77);
}

/* A read-only consumer that writes into a frame is stopped by the kernel. */
START_TEST(test_streams_read_only_consumer_cannot_write)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_stream *s;
	int ready[2];
	pid_t pid;
	char b;

	start();
	c = client();
	p = pool_open(c, "video");
	s = producer(p, "cam");
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ksalloc_stream_open_options o = { .read_only = true };
		struct ksalloc_client *cc = client();
		struct ksalloc_stream *x = NULL;
		struct ksalloc_frame f;

		if (ksalloc_stream_open(cc, "cam", &o, &x) < 0 || write(ready[1], "r", 1) != 1)
			_exit(2);
		if (ksalloc_stream_receive(x, 30000, &f, NULL) < 0)
			_exit(3);
		sigaction(SIGSEGV, &(struct sigaction){ .sa_handler = exit_on_segv }, NULL);
		((volatile uint8_t *)f.data)[0] = 1; /* SIGSEGV */
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	close(ready[0]);
	ck_assert_int_eq(send_one(p, s, 1, 0), 1);
	ck_assert_int_eq(wait_exit(pid), 77);
	assert_all_frames_back(p);
	ksalloc_stream_close(s);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* A stream of the config waits for its producer, and stays when its producer goes. */
START_TEST(test_streams_declared_in_the_config)
{
	struct ksalloc_client *c, *cc;
	struct ksalloc_pool *p, *small;
	struct ksalloc_stream *s = NULL, *a;
	struct ksalloc_stream_info *info;
	struct ksalloc_frame_meta m;
	struct ksalloc_frame f;
	size_t n;

	start();
	c = client();
	cc = client();
	a = consumer(cc, "declared", KSALLOC_STREAM_BLOCK, 4, 4);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), -EAGAIN);
	ck_assert_int_eq(ksalloc_client_list_streams(c, &info, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(info[0].name, "declared");
	ck_assert_str_eq(info[0].pool, "video");
	ck_assert(info[0].persistent);
	ck_assert_uint_eq(info[0].mode, 0640);
	ck_assert_int_eq(info[0].state, KSALLOC_STREAM_WAITING);
	free(info);
	/* On another pool than the config says: refused, naming both. */
	small = pool_open(c, "small");
	ck_assert_int_eq(ksalloc_stream_create(small, "declared", NULL, &s), -EXDEV);
	ck_assert_ptr_nonnull(strstr(ksalloc_client_error(c), "video"));
	p = pool_open(c, "video");
	s = producer(p, "declared");
	ck_assert_int_eq(send_one(p, s, 1, 0), 1);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), 0);
	ck_assert(check(&f, 1, m.data_used));
	ck_assert_int_eq(ksalloc_stream_release(a, &f), 0);
	s = ksalloc_stream_close(s);
	ck_assert_int_eq(ksalloc_stream_receive(a, 0, &f, &m), -ECONNRESET);
	a = ksalloc_stream_close(a);
	/* Nobody uses it now, and it stays. */
	ck_assert_int_eq(ksalloc_client_list_streams(c, &info, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(info[0].state, KSALLOC_STREAM_PRODUCER_GONE);
	ck_assert_uint_eq(info[0].n_consumers, 0);
	free(info);
	ksalloc_pool_close(small);
	ksalloc_pool_close(p);
	ksalloc_client_close(cc);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* A thread's wait: an acquire, receive or publish, and what it returned. */
struct waiting {
	pthread_t thread;
	struct ksalloc_pool *pool;
	struct ksalloc_stream *stream;
	struct ksalloc_frame frame;
	int r;
};

static void *acquire_waiting(void *userdata)
{
	struct waiting *w = userdata;

	w->r = ksalloc_pool_acquire(w->pool, KSALLOC_INFINITE, &w->frame);
	return NULL;
}

static void *receive_waiting(void *userdata)
{
	struct waiting *w = userdata;

	w->r = ksalloc_stream_receive(w->stream, KSALLOC_INFINITE, &w->frame, NULL);
	return NULL;
}

static void *publish_waiting(void *userdata)
{
	struct waiting *w = userdata;

	w->r = ksalloc_stream_publish(w->stream, &w->frame, NULL, KSALLOC_INFINITE);
	return NULL;
}

static int join(struct waiting *w)
{
	ck_assert_int_eq(pthread_join(w->thread, NULL), 0);
	return w->r;
}

/*
 * A child process that waits like us on pool @pool_name (@stream_name NULL) or stream
 * @stream_name: says so on the pipe it returns, then exits 0 once it got a frame.
 */
static pid_t spawn_waiter(const char *pool_name, const char *stream_name, int *ret_ready)
{
	int ready[2];
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ksalloc_client *c = client();
		struct ksalloc_stream *s = NULL;
		struct ksalloc_pool *p = NULL;
		struct ksalloc_frame f;

		close(ready[0]);
		if (stream_name) {
			if (ksalloc_stream_open(c, stream_name, NULL, &s) < 0 ||
			    write(ready[1], "r", 1) != 1)
				_exit(2);
			_exit(ksalloc_stream_receive(s, 30000, &f, NULL) == 0 ? 0 : 3);
		}
		if (ksalloc_pool_open(c, pool_name, &p) < 0 || write(ready[1], "r", 1) != 1)
			_exit(2);
		_exit(ksalloc_pool_acquire(p, 30000, &f) == 0 ? 0 : 3);
	}
	close(ready[1]);
	*ret_ready = ready[0];
	return pid;
}

/*
 * Flushing a pool handle wakes its own waiting acquire with -ECANCELED and keeps it from
 * waiting; another process waiting on the same pool sleeps on and gets the next frame.
 */
START_TEST(test_streams_flushing_wakes_only_this_pool_handle)
{
	struct ksalloc_frame held[4], f;
	struct waiting w = { 0 };
	struct ksalloc_client *c;
	int ready;
	pid_t pid;
	char b;

	start();
	c = client();
	w.pool = pool_open(c, "small");
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ksalloc_pool_acquire(w.pool, 0, &held[i]), 0);
	pid = spawn_waiter("small", NULL, &ready);
	ck_assert_int_eq(read(ready, &b, 1), 1);
	close(ready);
	ck_assert_int_eq(pthread_create(&w.thread, NULL, acquire_waiting, &w), 0);

	ck_assert_int_eq(ksalloc_pool_set_flushing(w.pool, true), 0);
	ck_assert_int_eq(join(&w), -ECANCELED);
	/* While flushing nothing waits, not even with a timeout. */
	ck_assert_int_eq(ksalloc_pool_acquire(w.pool, KSALLOC_INFINITE, &f), -ECANCELED);
	/* The other process still waits: the frame given back is its. */
	ck_assert_int_eq(ksalloc_pool_release(w.pool, &held[0]), 0);
	ck_assert_int_eq(wait_exit(pid), 0);

	/* Flushing over, it waits again: for the frame the other process's exit gives back. */
	ck_assert_int_eq(ksalloc_pool_set_flushing(w.pool, false), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(w.pool, KSALLOC_INFINITE, &held[0]), 0);
	/* Flushing, it still takes a frame that is free. */
	ck_assert_int_eq(ksalloc_pool_release(w.pool, &held[1]), 0);
	ck_assert_int_eq(ksalloc_pool_set_flushing(w.pool, true), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(w.pool, KSALLOC_INFINITE, &held[1]), 0);
	ck_assert_int_eq(ksalloc_pool_set_flushing(w.pool, false), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ksalloc_pool_release(w.pool, &held[i]), 0);
	assert_all_frames_back(w.pool);
	ksalloc_pool_close(w.pool);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/*
 * Flushing a stream handle: its receive and its blocked publish wake with -ECANCELED
 * (the frame stays the producer's), another process's consumer sleeps on and gets the
 * frame, and queued frames stay queued for after the flush.
 */
START_TEST(test_streams_flushing_wakes_only_this_stream_handle)
{
	struct waiting rx = { 0 }, tx = { 0 };
	struct ksalloc_stream *slow;
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f;
	int ready;
	pid_t pid;
	char b;

	start();
	c = client();
	p = pool_open(c, "video");
	tx.stream = producer(p, "cam");
	rx.stream = consumer(c, "cam", KSALLOC_STREAM_DROP_OLDEST, 4, 4);
	pid = spawn_waiter(NULL, "cam", &ready);
	ck_assert_int_eq(read(ready, &b, 1), 1);
	close(ready);

	ck_assert_int_eq(pthread_create(&rx.thread, NULL, receive_waiting, &rx), 0);
	ck_assert_int_eq(ksalloc_stream_set_flushing(rx.stream, true), 0);
	ck_assert_int_eq(join(&rx), -ECANCELED);
	ck_assert_int_eq(ksalloc_stream_receive(rx.stream, KSALLOC_INFINITE, &f, NULL), -ECANCELED);
	/* The other process's consumer slept on: the frame reaches both. */
	ck_assert_int_eq(send_one(p, tx.stream, 1, 0), 2);
	ck_assert_int_eq(wait_exit(pid), 0);
	ck_assert_int_eq(ksalloc_stream_set_flushing(rx.stream, false), 0);
	ck_assert_int_eq(ksalloc_stream_receive(rx.stream, 0, &f, NULL), 0);
	ck_assert(check(&f, 1, 1000 + 1));
	ck_assert_int_eq(ksalloc_stream_release(rx.stream, &f), 0);

	/* A producer waiting for a BLOCK consumer's room. */
	slow = consumer(c, "cam", KSALLOC_STREAM_BLOCK, 1, 4);
	/* The child's consumer may not be detached yet: it has room, and it is not asserted. */
	ck_assert_int_ge(send_one(p, tx.stream, 2, 0), 2);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &tx.frame), 0);
	ck_assert_int_eq(pthread_create(&tx.thread, NULL, publish_waiting, &tx), 0);
	ck_assert_int_eq(ksalloc_stream_set_flushing(tx.stream, true), 0);
	ck_assert_int_eq(join(&tx), -ECANCELED);
	ck_assert_int_eq(ksalloc_pool_release(p, &tx.frame), 0);
	ck_assert_int_eq(ksalloc_stream_set_flushing(tx.stream, false), 0);

	ksalloc_stream_close(slow);
	ksalloc_stream_close(rx.stream);
	ksalloc_stream_close(tx.stream);
	assert_all_frames_back(p);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/*
 * A frame's memfd and offset show its bytes (what GstFdMemory wraps); a read-only
 * consumer's memfd cannot be mapped writable.
 */
START_TEST(test_streams_frame_memfd_and_offset)
{
	const struct ksalloc_stream_open_options ro_options = { .read_only = true };
	struct ksalloc_stream *s, *ro;
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f, got;
	uint64_t offset;
	uint8_t *map;
	int fd;

	start();
	c = client();
	p = pool_open(c, "video");
	s = producer(p, "cam");
	ck_assert_int_eq(ksalloc_stream_open(c, "cam", &ro_options, &ro), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
	fill(&f, 7, f.size);
	ck_assert_int_eq(ksalloc_pool_get_memfd(p, &f, &fd, &offset), 0);
	map = mmap(NULL, offset + f.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	ck_assert_int_eq(memcmp(map + offset, f.data, f.size), 0);
	munmap(map, offset + f.size);
	ck_assert_int_eq(ksalloc_stream_publish(s, &f, NULL, 0), 1);

	ck_assert_int_eq(ksalloc_stream_receive(ro, 0, &got, NULL), 0);
	ck_assert_int_eq(ksalloc_pool_get_memfd(ksalloc_stream_get_pool(ro), &got, &fd, &offset),
			 0);
	ck_assert_ptr_eq(mmap(NULL, offset + got.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
			 MAP_FAILED);
	ck_assert_int_eq(errno, EACCES);
	map = mmap(NULL, offset + got.size, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	ck_assert_int_eq(memcmp(map + offset, got.data, got.size), 0);
	munmap(map, offset + got.size);
	/* Not a frame of this pool. */
	got.pool_id++;
	ck_assert_int_eq(ksalloc_pool_get_memfd(ksalloc_stream_get_pool(ro), &got, &fd, &offset),
			 -EINVAL);
	got.pool_id--;
	ck_assert_int_eq(ksalloc_stream_release(ro, &got), 0);

	ksalloc_stream_close(ro);
	ksalloc_stream_close(s);
	assert_all_frames_back(p);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	stop();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("streams");
	TCase *tc = tcase_create("streams");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_streams_three_consumer_processes_check_every_byte);
	tcase_add_test(tc, test_streams_policies_with_a_slow_consumer);
	tcase_add_test(tc, test_streams_end_format_new_producer_and_late_consumer);
	tcase_add_test(tc, test_streams_killed_consumer_gives_back_queued_and_held_frames);
	tcase_add_test(tc, test_streams_frames_survive_another_session_leaving_the_pool);
	tcase_add_test(tc, test_streams_pollable_fd_and_limits);
	tcase_add_test(tc, test_streams_read_only_consumer_cannot_write);
	tcase_add_test(tc, test_streams_declared_in_the_config);
	tcase_add_test(tc, test_streams_flushing_wakes_only_this_pool_handle);
	tcase_add_test(tc, test_streams_flushing_wakes_only_this_stream_handle);
	tcase_add_test(tc, test_streams_frame_memfd_and_offset);
	suite_add_tcase(s, tc);

	return ksalloc_check_run(s);
}
