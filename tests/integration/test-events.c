/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Subscriptions, end to end: a subscriber polls the fd of
 * ksalloc_subscription_get_fd() and reads what the daemon pushes while other
 * clients (this process, forked holders) acquire, hold, run a pool dry, die
 * and go away.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
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
	return s;
}

int main(void)
{
	return ksalloc_check_run(events_suite());
}
