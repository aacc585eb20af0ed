/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Subscriptions, end to end: a subscriber polls the fd of
 * ksalloc_subscription_get_fd() and reads what the daemon pushes while other
 * clients (this process, forked holders) acquire, hold, run a pool dry, die
 * and go away; the streams' events with a real producer and consumers; and
 * what a program built before them gets from ksalloc_subscription_read().
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "tests/lib/harness.h"
#include "tests/lib/harness-client.h"
#include "tests/lib/ksalloc-check.h"

static const char config[] = "[pool video]\nframes = 4\nframe_size = 64K\n"
			     "[pool audio]\nframes = 2\nframe_size = 4K\n";

static struct test_daemon daemon_;

static struct ksalloc_client *client(void)
{
	struct ksalloc_client *c = NULL;

	ck_assert_msg(ksalloc_client_open(NULL, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

static struct ksalloc_subscription *subscribe(const char *pool, uint32_t interval_ms,
					      uint32_t hold_ms)
{
	const struct ksalloc_subscription_options o = { .pool = pool,
							.interval_ms = interval_ms,
							.hold_threshold_ms = hold_ms };
	struct ksalloc_subscription *s = NULL;

	ck_assert_msg(ksalloc_subscription_open(NULL, &o, &s) == 0, "%s",
		      ksalloc_client_open_error());
	return s;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Waits (on the fd, 10 s at most) for the next event of @kind about @pool for
 * which @match (may be NULL) says yes; the others are read and dropped. The
 * caller clears *e.
 */
static void next_event(struct ksalloc_subscription *s, enum ksalloc_event_kind kind,
		       const char *pool, bool (*match)(const struct ksalloc_event *e, long arg),
		       long arg, struct ksalloc_event *e)
{
	uint64_t deadline = now_ms() + 10000;

	for (;;) {
		struct pollfd pfd = { .fd = ksalloc_subscription_get_fd(s), .events = POLLIN };
		uint64_t now = now_ms();
		int r;

		ck_assert_msg(now < deadline, "no event %d about %s within 10 s", kind, pool);
		ck_assert_int_ge(poll(&pfd, 1, (int)(deadline - now)), 0);
		while ((r = ksalloc_subscription_read(s, e)) == 0) {
			if (e->kind == kind && strcmp(e->pool, pool) == 0 &&
			    (!match || match(e, arg)))
				return;
			ksalloc_event_clear(e);
		}
		ck_assert_msg(r == -EAGAIN, "read: %s", ksalloc_subscription_error(s));
	}
}

static bool allocated_is(const struct ksalloc_event *e, long n)
{
	return e->stats.status.allocated_frames == (uint32_t)n;
}

START_TEST(test_status_follows_acquire_and_release)
{
	struct ksalloc_subscription *s;
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f;
	struct ksalloc_event e;

	test_daemon_up(&daemon_, config);
	s = subscribe("video", 10, 0);
	/* The first status comes without a change. */
	next_event(s, KSALLOC_EVENT_STATUS, "video", allocated_is, 0, &e);
	ck_assert_uint_eq(e.frames_total, 4);
	ck_assert_uint_eq(e.stats.status.framing.frame_size, 65536);
	ksalloc_event_clear(&e);

	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "video", &p), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
	next_event(s, KSALLOC_EVENT_STATUS, "video", allocated_is, 1, &e);
	ck_assert_uint_eq(e.stats.n_holders, 1);
	ck_assert_uint_eq(e.stats.holders[0].pid, (uint32_t)getpid());
	ck_assert_uint_eq(e.stats.holders[0].frames_held, 1);
	ck_assert_uint_eq(e.stats.holders[0].session_id, ksalloc_client_session_id(c));
	ksalloc_event_clear(&e);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	next_event(s, KSALLOC_EVENT_STATUS, "video", allocated_is, 0, &e);
	ck_assert_uint_eq(e.stats.acquisitions, 1);
	ck_assert_uint_eq(e.stats.n_holders, 0);
	ksalloc_event_clear(&e);

	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	ksalloc_subscription_close(s);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_status_is_coalesced_to_the_interval)
{
	struct ksalloc_subscription *s;
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f;
	struct ksalloc_event e;
	unsigned statuses = 0;
	uint64_t start, elapsed;
	int r;

	test_daemon_up(&daemon_, config);
	s = subscribe("video", 200, 0);
	next_event(s, KSALLOC_EVENT_STATUS, "video", NULL, 0, &e);
	ksalloc_event_clear(&e);
	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "video", &p), 0);
	/* Thousands of changes; the subscriber hears of them at most every 200 ms. */
	start = now_ms();
	for (int i = 0; i < 20000; i++) {
		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
		ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	}
	next_event(s, KSALLOC_EVENT_STATUS, "video", NULL, 0, &e);
	/* The last one carries the final count; wait for it, counting the rest. */
	statuses = 1;
	while (e.stats.acquisitions != 20000) {
		ksalloc_event_clear(&e);
		next_event(s, KSALLOC_EVENT_STATUS, "video", NULL, 0, &e);
		statuses++;
	}
	ksalloc_event_clear(&e);
	elapsed = now_ms() - start;
	ck_assert_msg(statuses <= elapsed / 200 + 2, "%u statuses in %llu ms", statuses,
		      (unsigned long long)elapsed);
	/* And nothing more, as nothing changes. */
	r = ksalloc_subscription_read(s, &e);
	ck_assert_int_eq(r, -EAGAIN);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	ksalloc_subscription_close(s);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_dry_and_held_too_long_and_reclaimed)
{
	struct ksalloc_subscription *s;
	struct ksalloc_event e;
	int status;
	pid_t holder;

	test_daemon_up(&daemon_, config);
	s = subscribe("", 50, 100);
	/* A holder of both frames of audio: the pool runs dry, then they are held too long. */
	holder = test_spawn_holder("hog", "audio", 2);
	next_event(s, KSALLOC_EVENT_DRY, "audio", NULL, 0, &e);
	ck_assert_uint_eq(e.stats.status.allocated_frames, 2);
	ck_assert_uint_eq(e.stats.n_holders, 1);
	ck_assert_uint_eq(e.stats.holders[0].pid, (uint32_t)holder);
	ksalloc_event_clear(&e);
	next_event(s, KSALLOC_EVENT_HELD_TOO_LONG, "audio", NULL, 0, &e);
	ck_assert_uint_eq(e.holder.pid, (uint32_t)holder);
	ck_assert_str_eq(e.holder.name, "hog");
	ck_assert_uint_eq(e.holder.frames_held, 2);
	ck_assert_uint_ge(e.holder.oldest_hold_ms, 100);
	ksalloc_event_clear(&e);

	/* Killed: its frames come back, and the subscriber hears who had them. */
	kill(holder, SIGKILL);
	ck_assert_int_eq(waitpid(holder, &status, 0), holder);
	next_event(s, KSALLOC_EVENT_RECLAIMED, "audio", NULL, 0, &e);
	ck_assert_uint_eq(e.holder.pid, (uint32_t)holder);
	ck_assert_str_eq(e.holder.name, "hog");
	ck_assert_uint_eq(e.frames, 2);
	ksalloc_event_clear(&e);
	next_event(s, KSALLOC_EVENT_STATUS, "audio", allocated_is, 0, &e);
	ck_assert_uint_eq(e.stats.reclaimed, 2);
	ksalloc_event_clear(&e);
	ksalloc_subscription_close(s);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_new_and_gone_pools_and_refusals)
{
	const struct ksalloc_framing framing = { .pool_type = 1, .frames = 2, .frame_size = 4096 };
	const struct ksalloc_subscription_options missing = { .pool = "nosuch" };
	struct ksalloc_subscription *s, *none = NULL;
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_event e;

	test_daemon_up(&daemon_, config);
	ck_assert_int_eq(ksalloc_subscription_open(NULL, &missing, &none), -ENOENT);
	ck_assert_str_eq(ksalloc_client_open_error(),
			 "subscribe: no pool named \"nosuch\" (ksallocctl list shows the pools)");
	ck_assert_ptr_null(none);

	s = subscribe(NULL, 10, 0);
	c = client();
	/* A pool made after the subscription is covered too, and its end is told. */
	ck_assert_int_eq(ksalloc_pool_create(c, "fresh", &framing, &p), 0);
	next_event(s, KSALLOC_EVENT_STATUS, "fresh", NULL, 0, &e);
	ck_assert_uint_eq(e.frames_total, 2);
	ksalloc_event_clear(&e);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	next_event(s, KSALLOC_EVENT_GONE, "fresh", NULL, 0, &e);
	ksalloc_event_clear(&e);

	/* A daemon that goes away ends the subscription: the reader learns it. */
	test_daemon_down(&daemon_);
	for (;;) {
		struct pollfd pfd = { .fd = ksalloc_subscription_get_fd(s), .events = POLLIN };
		int r;

		ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
		r = ksalloc_subscription_read(s, &e);
		if (r == 0) {
			ksalloc_event_clear(&e);
			continue;
		}
		if (r == -EAGAIN)
			continue;
		ck_assert_int_eq(r, -EPIPE);
		break;
	}
	ksalloc_subscription_close(s);
}
END_TEST

/* ---- streams ---- */

static bool stream_is(const struct ksalloc_event *e, long name)
{
	return strcmp(e->stream, (const char *)name) == 0;
}

/* Acquires a frame of @p and publishes it on @s; returns what publish returned. */
static int send_frame(struct ksalloc_pool *p, struct ksalloc_stream *s)
{
	const struct ksalloc_frame_meta meta = { .data_used = 16 };
	struct ksalloc_frame f;
	int r;

	ck_assert_int_eq(ksalloc_pool_acquire(p, 10000, &f), 0);
	r = ksalloc_stream_publish(s, &f, &meta, 0);
	if (r < 0)
		ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	return r;
}

static struct ksalloc_stream *consume(struct ksalloc_client *c, const char *name,
				      enum ksalloc_stream_policy policy, uint32_t depth)
{
	const struct ksalloc_stream_open_options o = { .policy = policy, .depth = depth };
	struct ksalloc_stream *s = NULL;

	ck_assert_msg(ksalloc_stream_open(c, name, &o, &s) == 0, "%s", ksalloc_client_error(c));
	return s;
}

START_TEST(test_stream_consumer_gone_drops_and_producer_gone)
{
	struct ksalloc_subscription *s;
	struct ksalloc_client *c, *lagging_client;
	struct ksalloc_stream *cam, *lagging;
	struct ksalloc_pool *p;
	struct ksalloc_event e;
	uint32_t dropped = 0;
	int ready[2], status;
	pid_t pid;
	char b;

	test_daemon_up(&daemon_, config);
	s = subscribe("video", 1000, 0);
	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "video", &p), 0);
	ck_assert_msg(ksalloc_stream_create(p, "cam", NULL, &cam) == 0, "%s",
		      ksalloc_client_error(c));

	/* A consumer that receives one frame, has another queued, and is killed. */
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ksalloc_client *cc = client();
		struct ksalloc_stream *x = consume(cc, "cam", KSALLOC_STREAM_BLOCK, 4);
		struct ksalloc_frame f;

		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		if (ksalloc_stream_receive(x, 30000, &f, NULL) < 0)
			_exit(3);
		if (write(ready[1], "h", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	ck_assert_int_eq(send_frame(p, cam), 1);
	ck_assert_int_eq(send_frame(p, cam), 1);
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	close(ready[0]);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	next_event(s, KSALLOC_EVENT_STREAM_CONSUMER_GONE, "video", stream_is, (long)"cam", &e);
	ck_assert_uint_eq(e.holder.pid, (uint32_t)pid);
	ck_assert_uint_eq(e.frames, 2); /* the one it held and the one queued */
	ksalloc_event_clear(&e);

	/* A drop-newest consumer that never receives: one frame queued, the next two dropped. */
	lagging_client = client();
	lagging = consume(lagging_client, "cam", KSALLOC_STREAM_DROP_NEWEST, 1);
	ck_assert_int_eq(send_frame(p, cam), 1);
	ck_assert_int_eq(send_frame(p, cam), 0);
	ck_assert_int_eq(send_frame(p, cam), 0);
	/* Two drops may fall on both sides of a tick: two events then, which count them all. */
	while (dropped < 2) {
		next_event(s, KSALLOC_EVENT_STREAM_DROPS, "video", stream_is, (long)"cam", &e);
		ck_assert_uint_eq(e.holder.session_id, ksalloc_client_session_id(lagging_client));
		ck_assert_uint_eq(e.holder.pid, (uint32_t)getpid());
		dropped += e.frames;
		ksalloc_event_clear(&e);
	}
	ck_assert_uint_eq(dropped, 2);

	/* The producer closes. */
	ksalloc_stream_close(cam);
	next_event(s, KSALLOC_EVENT_STREAM_PRODUCER_GONE, "video", stream_is, (long)"cam", &e);
	ck_assert_uint_eq(e.holder.session_id, ksalloc_client_session_id(c));
	ksalloc_event_clear(&e);

	ksalloc_stream_close(lagging);
	ksalloc_client_close(lagging_client);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	ksalloc_subscription_close(s);
	test_daemon_down(&daemon_);
}
END_TEST

/*
 * A program built against struct ksalloc_event as it was before streams is
 * linked to ksalloc_subscription_read@LIBKSALLOC_1: it must write no byte
 * past the old struct's fields and return no STREAM_* event, while one built
 * now (the default version) gets them from the same daemon.
 */
START_TEST(test_a_program_built_before_streams_gets_the_old_struct_and_no_stream_event)
{
	typedef int read_fn(struct ksalloc_subscription *, struct ksalloc_event *);
	read_fn *read_1 =
		(read_fn *)dlvsym(RTLD_DEFAULT, "ksalloc_subscription_read", "LIBKSALLOC_1");
	read_fn *read_1_1 =
		(read_fn *)dlvsym(RTLD_DEFAULT, "ksalloc_subscription_read", "LIBKSALLOC_1.1");
	const size_t old_size = offsetof(struct ksalloc_event, stream);
	struct ksalloc_subscription *old_sub, *new_sub;
	struct ksalloc_stream *cam;
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_event e;
	struct ksalloc_frame f;
	unsigned char *buf;
	uint64_t deadline;
	bool found = false;

	ck_assert_ptr_nonnull(read_1);
	ck_assert_ptr_nonnull(read_1_1);
	ck_assert_ptr_ne(read_1, read_1_1);
	ck_assert_ptr_eq(read_1_1, ksalloc_subscription_read);

	test_daemon_up(&daemon_, config);
	old_sub = subscribe("video", 10, 0);
	new_sub = subscribe("video", 10, 0);
	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "video", &p), 0);
	ck_assert_int_eq(ksalloc_stream_create(p, "cam", NULL, &cam), 0);
	ksalloc_stream_close(cam);
	/* The producer went, then a frame is taken: the STATUS follows the stream's event. */
	next_event(new_sub, KSALLOC_EVENT_STREAM_PRODUCER_GONE, "video", stream_is, (long)"cam",
		   &e);
	ksalloc_event_clear(&e);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);

	/* The old struct, at the end of a buffer of guard bytes. */
	buf = malloc(old_size + 256);
	ck_assert_ptr_nonnull(buf);
	deadline = now_ms() + 10000;
	while (!found) {
		struct pollfd pfd = { .fd = ksalloc_subscription_get_fd(old_sub),
				      .events = POLLIN };
		struct ksalloc_event *old;
		int r;

		ck_assert_msg(now_ms() < deadline, "no STATUS with the frame taken within 10 s");
		ck_assert_int_ge(poll(&pfd, 1, 100), 0);
		memset(buf, 0xa5, old_size + 256);
		r = read_1(old_sub, (struct ksalloc_event *)buf);
		if (r == -EAGAIN)
			continue;
		ck_assert_int_eq(r, 0);
		for (size_t i = old_size; i < old_size + 256; i++)
			ck_assert_msg(buf[i] == 0xa5, "byte %zu past the old struct written", i);
		/* Copied out, as the old struct's fields are all in the new one's prefix. */
		memset(&e, 0, sizeof(e));
		memcpy(&e, buf, old_size);
		old = &e;
		ck_assert_int_lt(old->kind, KSALLOC_EVENT_STREAM_PRODUCER_GONE);
		found = old->kind == KSALLOC_EVENT_STATUS &&
			old->stats.status.allocated_frames == 1;
		ksalloc_event_clear(old);
	}
	free(buf);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	ksalloc_subscription_close(new_sub);
	ksalloc_subscription_close(old_sub);
	test_daemon_down(&daemon_);
}
END_TEST

static Suite *events_suite(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("subscriptions");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_status_follows_acquire_and_release);
	tcase_add_test(tc, test_status_is_coalesced_to_the_interval);
	tcase_add_test(tc, test_dry_and_held_too_long_and_reclaimed);
	tcase_add_test(tc, test_new_and_gone_pools_and_refusals);
	suite_add_tcase(s, tc);

	tc = tcase_create("streams");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_stream_consumer_gone_drops_and_producer_gone);
	tcase_add_test(tc,
		       test_a_program_built_before_streams_gets_the_old_struct_and_no_stream_event);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(events_suite());
}
