/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Subscriptions (daemon/rpc/events.c), driven as fuzz/fuzz-dispatch.c drives
 * them: real pools in memfds, sessions added as transport adds them, frames
 * taken and given back in shared memory as libksalloc does, and
 * events_tick() called by hand with a push function that records what a
 * subscriber would read. (tests/integration/test-events.c checks the same
 * events end to end, through the daemon and the client library.)
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "daemon/rpc/events.h"
#include "daemon/rpc/rpc.h"
#include "tests/lib/ksalloc-check.h"
#include "tests/unit/rpc-fixture.h"

#define STATUS KSALLOC__EVENT__KIND__STATUS
#define DRY KSALLOC__EVENT__KIND__DRY
#define HELD_TOO_LONG KSALLOC__EVENT__KIND__HELD_TOO_LONG
#define RECLAIMED KSALLOC__EVENT__KIND__RECLAIMED
#define GONE KSALLOC__EVENT__KIND__GONE
#define PRODUCER_GONE KSALLOC__EVENT__KIND__STREAM_PRODUCER_GONE
#define CONSUMER_GONE KSALLOC__EVENT__KIND__STREAM_CONSUMER_GONE
#define DROPS KSALLOC__EVENT__KIND__STREAM_DROPS

/* An event as its subscriber reads it. */
struct seen {
	uint32_t to; /* the subscriber's session id */
	Ksalloc__Event__Kind kind;
	char pool[SHM_NAME_MAX];
	uint32_t allocated;        /* STATUS, DRY */
	uint32_t holder;           /* HELD_TOO_LONG, RECLAIMED: the holder's session id */
	uint32_t frames;           /* HELD_TOO_LONG: held; RECLAIMED: taken back */
	char stream[SHM_NAME_MAX]; /* STREAM_* */
};

/* A frame taken by a client, to give back. */
struct taken {
	struct pool *pool;
	uint32_t index, generation;
};

static struct {
	struct rpc_fixture fx;
	/* watcher and other: uid 1000, as video's owner; holder too; stranger: uid 3000. */
	struct session watcher, other, holder, stranger;
	struct seen seen[64];
	unsigned n_seen;
	bool socket_full;         /* droppable events are refused with -EAGAIN */
	struct session *hangs_up; /* its push fails: the session is closed */
	uint64_t clock_ms;        /* now_ms(): the events' clock, moved on by wait_ms() */
} t;

/* video is uid 1000's, audio uid 2000's and everyone's. */
static const struct rpc_fixture_pool config_pools[] = {
	{ "video", { .frames = 4, .frame_size = 4096 }, { 1000, 1000, 0660 } },
	{ "audio", { .frames = 2, .frame_size = 4096 }, { 2000, 2000, 0666 } },
};

static void setup(void)
{
	struct rpc_limits limits = {
		.max_message_size = 65536,
		.max_pool_sessions = 4,
		.framing = { .max_pool_frames = 64, .max_frame_size = 1 << 20 },
	};
	struct rpc_policy policy = { .created_pool_mode = 0660 };

	/* Each case from scratch, also when Check does not fork (CK_FORK=no). */
	memset(&t, 0, sizeof(t));
	rpc_fixture_init(&t.fx, config_pools, ELEMENTSOF(config_pools), &limits, &policy, 1 << 16);
	ck_assert_int_eq(rpc_add_session(&t.fx.rpc, &t.watcher, 100, 1000, 1000, NULL, 0), 0);
	ck_assert_int_eq(rpc_add_session(&t.fx.rpc, &t.other, 101, 1000, 1000, NULL, 0), 0);
	ck_assert_int_eq(rpc_add_session(&t.fx.rpc, &t.holder, 102, 1000, 1000, NULL, 0), 0);
	ck_assert_int_eq(rpc_add_session(&t.fx.rpc, &t.stranger, 103, 3000, 3000, NULL, 0), 0);
}

static void teardown(void)
{
	rpc_fixture_deinit(&t.fx);
}

/* The events_push_fn: every event must be one, and is recorded as its subscriber reads it. */
static int push(struct session *s, struct rpc_reply *out, bool droppable, void *data)
{
	const Ksalloc__Event *e = out->msg.event;
	struct seen *n;

	ck_assert_int_eq(out->msg.body_case, KSALLOC__REPLY__BODY_EVENT);
	ck_assert_uint_eq(out->msg.id, 0);
	ck_assert_uint_eq(out->n_fds, 0);
	ck_assert_msg(droppable == (e->kind == STATUS), "only STATUS may be dropped");
	if (s == t.hangs_up) {
		/* As transport does: a session that cannot take its events is closed. */
		rpc_remove_session(&t.fx.rpc, s);
		t.hangs_up = NULL;
		return -EPIPE;
	}
	if (droppable && t.socket_full)
		return -EAGAIN;
	ck_assert_uint_lt(t.n_seen, ELEMENTSOF(t.seen));
	n = &t.seen[t.n_seen++];
	*n = (struct seen){ .to = s->id, .kind = e->kind, .frames = e->frames };
	snprintf(n->pool, sizeof(n->pool), "%s", e->pool);
	snprintf(n->stream, sizeof(n->stream), "%s", e->stream);
	if (e->status)
		n->allocated = e->status->allocated_frames;
	if (e->holder) {
		n->holder = e->holder->session_id;
		if (e->kind == HELD_TOO_LONG)
			n->frames = e->holder->frames_held;
	}
	return 0;
}

/*
 * The events' clock as the test has it: pool_now_ms() (the clock of frames'
 * acquisition stamps), moved on by wait_ms() instead of by waiting, and
 * never behind the real one, so that no stamp is ever in its future.
 */
static uint64_t now_ms(void)
{
	uint64_t real = pool_now_ms();

	if (t.clock_ms < real)
		t.clock_ms = real;
	return t.clock_ms;
}

/* One tick of the events' timer; what it sent is in t.seen. */
static void tick(void)
{
	t.n_seen = 0;
	events_tick_at(&t.fx.rpc.events, now_ms(), &t.fx.arena, push, NULL);
}

/* The events of @kind for pool @pool that session @to got in the last tick. */
static unsigned count(const struct session *to, Ksalloc__Event__Kind kind, const char *pool)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t.n_seen; i++)
		n += t.seen[i].to == to->id && t.seen[i].kind == kind &&
		     strcmp(t.seen[i].pool, pool) == 0;
	return n;
}

/* The one event of @kind for @pool that @to got in the last tick. */
static const struct seen *the(const struct session *to, Ksalloc__Event__Kind kind, const char *pool)
{
	ck_assert_uint_eq(count(to, kind, pool), 1);
	for (unsigned i = 0; i < t.n_seen; i++)
		if (t.seen[i].to == to->id && t.seen[i].kind == kind &&
		    strcmp(t.seen[i].pool, pool) == 0)
			return &t.seen[i];
	return NULL;
}

static void subscribe(struct session *s, const char *pool, uint32_t interval_ms, uint32_t hold_ms)
{
	ck_assert_int_eq(events_subscribe(&t.fx.rpc.events, s, pool, interval_ms, hold_ms, false),
			 0);
}

/* Subscribes @s to pool @pool ("": every one) with its streams' events. */
static void subscribe_streams(struct session *s, const char *pool)
{
	ck_assert_int_eq(events_subscribe(&t.fx.rpc.events, s, pool, 0, 0, true), 0);
}

/* @s takes a frame of pool @name as libksalloc does, opening the pool first as rpc does. */
static struct taken take(struct session *s, const char *name)
{
	struct taken f = { .pool = storage_find(t.fx.storage, name) };
	uint32_t slot, hint = 0;

	ck_assert_ptr_nonnull(f.pool);
	ck_assert_int_eq(session_bind(s, f.pool, &slot), 0);
	ck_assert_int_eq(frame_acquire(&f.pool->frames, s->id, &f.pool->frames.slots[slot], &hint,
				       0, &f.index, &f.generation),
			 0);
	return f;
}

static void give_back(struct session *s, struct taken f)
{
	ck_assert_int_eq(frame_release(&f.pool->frames, s->id, f.index, f.generation), 0);
}

/* Moves the test's clock on to @when_ms: the next tick happens then. Nothing waits. */
static void wait_until(uint64_t when_ms)
{
	if (now_ms() < when_ms)
		t.clock_ms = when_ms;
}

static void wait_ms(uint64_t ms)
{
	wait_until(now_ms() + ms);
}

/* ---- status ---- */

START_TEST(test_first_tick_sends_the_status_of_each_pool_it_may_see)
{
	subscribe(&t.watcher, "", 0, 0);
	subscribe(&t.stranger, "", 0, 0);
	tick();
	ck_assert_uint_eq(count(&t.watcher, STATUS, "video"), 1);
	ck_assert_uint_eq(count(&t.watcher, STATUS, "audio"), 1);
	/* uid 3000 may not see video (0660, owner and group 1000). */
	ck_assert_uint_eq(count(&t.stranger, STATUS, "video"), 0);
	ck_assert_uint_eq(count(&t.stranger, STATUS, "audio"), 1);
	/* Nobody else subscribed, nobody else hears. */
	ck_assert_uint_eq(t.n_seen, 3);
}
END_TEST

START_TEST(test_a_subscription_to_one_pool_hears_nothing_of_the_others)
{
	subscribe(&t.watcher, "audio", 0, 0);
	take(&t.holder, "video");
	tick();
	ck_assert_uint_eq(count(&t.watcher, STATUS, "audio"), 1);
	ck_assert_uint_eq(t.n_seen, 1);
}
END_TEST

START_TEST(test_status_is_coalesced_to_one_per_interval)
{
	uint64_t first;

	subscribe(&t.watcher, "video", 1000, 0);
	tick();
	first = now_ms();
	ck_assert_uint_eq(the(&t.watcher, STATUS, "video")->allocated, 0);
	/* Two changes within the interval: no STATUS for either yet. */
	take(&t.holder, "video");
	tick();
	ck_assert_uint_eq(count(&t.watcher, STATUS, "video"), 0);
	take(&t.holder, "video");
	tick();
	ck_assert_uint_eq(count(&t.watcher, STATUS, "video"), 0);
	/* Once the interval has passed, one STATUS says how things are now. */
	wait_until(first + 1000);
	tick();
	ck_assert_uint_eq(the(&t.watcher, STATUS, "video")->allocated, 2);
}
END_TEST

START_TEST(test_status_is_not_sent_again_when_nothing_changed)
{
	subscribe(&t.watcher, "video", 10, 0);
	tick();
	ck_assert_uint_eq(count(&t.watcher, STATUS, "video"), 1);
	wait_ms(30);
	tick();
	ck_assert_uint_eq(t.n_seen, 0);
}
END_TEST

START_TEST(test_a_status_the_socket_had_no_room_for_goes_out_with_a_later_tick)
{
	subscribe(&t.watcher, "video", 10, 0);
	t.socket_full = true;
	tick();
	ck_assert_uint_eq(t.n_seen, 0);
	t.socket_full = false;
	tick();
	ck_assert_uint_eq(count(&t.watcher, STATUS, "video"), 1);
}
END_TEST

/* ---- dry ---- */

START_TEST(test_dry_is_sent_once_when_the_last_frame_is_taken)
{
	struct taken last;

	subscribe(&t.watcher, "video", 0, 0);
	for (int i = 0; i < 3; i++)
		take(&t.holder, "video");
	tick();
	ck_assert_uint_eq(count(&t.watcher, DRY, "video"), 0);
	last = take(&t.holder, "video");
	/* DRY is not dropped when the socket is full: it queues. */
	t.socket_full = true;
	tick();
	ck_assert_uint_eq(the(&t.watcher, DRY, "video")->allocated, 4);
	tick();
	ck_assert_uint_eq(count(&t.watcher, DRY, "video"), 0);
	/* Dry again after a frame came back: DRY again. */
	give_back(&t.holder, last);
	tick();
	take(&t.holder, "video");
	tick();
	ck_assert_uint_eq(count(&t.watcher, DRY, "video"), 1);
}
END_TEST

/* ---- held too long ---- */

START_TEST(test_held_too_long_is_sent_once_per_acquisition)
{
	struct taken f;
	const struct seen *e;

	subscribe(&t.watcher, "video", 0, 100);
	f = take(&t.holder, "video");
	tick();
	ck_assert_uint_eq(count(&t.watcher, HELD_TOO_LONG, "video"), 0);
	wait_ms(150);
	tick();
	e = the(&t.watcher, HELD_TOO_LONG, "video");
	ck_assert_uint_eq(e->holder, t.holder.id);
	ck_assert_uint_eq(e->frames, 1);
	tick();
	ck_assert_uint_eq(count(&t.watcher, HELD_TOO_LONG, "video"), 0);
	/*
	 * Given back (a tick sees it free) and taken again: a new acquisition, told of once
	 * it is old too. (An acquisition is known by its stamp, so the tick between matters
	 * when both fall in one millisecond, as they do on the test's clock.)
	 */
	give_back(&t.holder, f);
	tick();
	take(&t.holder, "video");
	wait_ms(150);
	tick();
	ck_assert_uint_eq(count(&t.watcher, HELD_TOO_LONG, "video"), 1);
}
END_TEST

START_TEST(test_held_too_long_is_not_sent_without_a_threshold)
{
	subscribe(&t.watcher, "video", 0, 0);
	take(&t.holder, "video");
	wait_ms(20);
	tick();
	ck_assert_uint_eq(count(&t.watcher, HELD_TOO_LONG, "video"), 0);
}
END_TEST

/* ---- reclaimed ---- */

START_TEST(test_reclaimed_is_sent_when_a_holder_ends_with_frames)
{
	const struct seen *e;
	uint32_t holder = t.holder.id;

	subscribe(&t.watcher, "video", 0, 0);
	subscribe(&t.other, "audio", 0, 0);
	tick();
	take(&t.holder, "video");
	take(&t.holder, "video");
	rpc_remove_session(&t.fx.rpc, &t.holder);
	tick();
	e = the(&t.watcher, RECLAIMED, "video");
	ck_assert_uint_eq(e->holder, holder);
	ck_assert_uint_eq(e->frames, 2);
	/* Who watches another pool hears nothing of it. */
	ck_assert_uint_eq(count(&t.other, RECLAIMED, "video"), 0);
	/* Told once. */
	tick();
	ck_assert_uint_eq(count(&t.watcher, RECLAIMED, "video"), 0);
}
END_TEST

START_TEST(test_reclaimed_is_not_sent_for_a_pool_it_does_not_watch)
{
	subscribe(&t.watcher, "video", 0, 0);
	tick();
	take(&t.holder, "audio");
	rpc_remove_session(&t.fx.rpc, &t.holder);
	tick();
	ck_assert_uint_eq(count(&t.watcher, RECLAIMED, "video"), 0);
	ck_assert_uint_eq(count(&t.watcher, RECLAIMED, "audio"), 0);
}
END_TEST

/* ---- gone ---- */

START_TEST(test_gone_is_sent_when_a_watched_pool_is_destroyed)
{
	subscribe(&t.watcher, "", 0, 0);
	tick();
	ck_assert(rpc_pool_remove(&t.fx.rpc, storage_find(t.fx.storage, "video")));
	tick();
	ck_assert_uint_eq(count(&t.watcher, GONE, "video"), 1);
	ck_assert_uint_eq(count(&t.watcher, GONE, "audio"), 0);
	tick();
	ck_assert_uint_eq(count(&t.watcher, GONE, "video"), 0);
}
END_TEST

START_TEST(test_gone_is_sent_when_a_reload_hides_the_pool)
{
	subscribe(&t.watcher, "video", 0, 0);
	tick();
	storage_find(t.fx.storage, "video")->access = (struct pool_access){ 0, 0, 0600 };
	tick();
	ck_assert_uint_eq(count(&t.watcher, GONE, "video"), 1);
}
END_TEST

/* ---- streams ---- */

/* Stream @name on pool @pool, mode @mode, owned by uid 1000, with @producer producing. */
static struct stream *make_stream(const char *name, const char *pool, uint32_t mode,
				  struct session *producer)
{
	struct pool_access access = { 1000, 1000, mode };
	struct stream *st;

	ck_assert_int_eq(storage_add_stream(t.fx.storage, name, storage_find(t.fx.storage, pool),
					    &access, false, &st),
			 0);
	ck_assert_int_eq(stream_set_producer(st, producer->id), 0);
	return st;
}

static uint32_t add_consumer(struct stream *st, struct session *s, uint32_t policy, uint32_t depth)
{
	uint32_t slot;

	ck_assert_int_eq(stream_add_consumer(st, s->id, policy, depth, 4, false, &slot), 0);
	return slot;
}

/* @producer publishes a frame it takes from the stream's pool; returns the consumers reached. */
static int publish(struct stream *st, struct session *producer)
{
	struct taken f = take(producer, st->pool->name);
	struct stream_publish p = { .index = f.index, .generation = f.generation };
	struct shm_stream_meta meta = { 0 };

	return stream_publish(&st->sm, producer->id, &p, &meta);
}

/* The one STREAM_* event of @kind that @to got in the last tick, for stream @stream. */
static const struct seen *the_stream(const struct session *to, Ksalloc__Event__Kind kind,
				     const char *stream)
{
	const struct seen *e = the(to, kind, "video");

	ck_assert_str_eq(e->stream, stream);
	return e;
}

START_TEST(test_stream_producer_gone_is_sent_when_the_producer_leaves)
{
	struct stream *st = make_stream("cam", "video", 0660, &t.holder);
	uint32_t producer = t.holder.id;

	add_consumer(st, &t.other, SHM_STREAM_BLOCK, 4);
	subscribe_streams(&t.watcher, "video");
	tick();
	rpc_remove_session(&t.fx.rpc, &t.holder);
	tick();
	ck_assert_uint_eq(the_stream(&t.watcher, PRODUCER_GONE, "cam")->holder, producer);
	/* Told once. */
	tick();
	ck_assert_uint_eq(count(&t.watcher, PRODUCER_GONE, "video"), 0);
}
END_TEST

START_TEST(test_stream_consumer_gone_says_what_it_gave_back)
{
	struct stream *st = make_stream("cam", "video", 0660, &t.holder);
	uint32_t consumer = t.other.id;
	const struct seen *e;

	add_consumer(st, &t.other, SHM_STREAM_BLOCK, 4);
	subscribe_streams(&t.watcher, "");
	tick();
	ck_assert_int_eq(publish(st, &t.holder), 1);
	ck_assert_int_eq(publish(st, &t.holder), 1);
	/* Leaving its stream, not the daemon: the stream's event, not a RECLAIMED. */
	rpc_stream_leave(&t.fx.rpc, st, &t.other, RPC_ROLE_ALL, "closed");
	tick();
	e = the_stream(&t.watcher, CONSUMER_GONE, "cam");
	ck_assert_uint_eq(e->holder, consumer);
	ck_assert_uint_eq(e->frames, 2);
	ck_assert_uint_eq(count(&t.watcher, PRODUCER_GONE, "video"), 0);
}
END_TEST

START_TEST(test_stream_drops_counts_what_was_dropped_since_the_last_tick)
{
	struct stream *st = make_stream("cam", "video", 0660, &t.holder);
	uint32_t slot;

	slot = add_consumer(st, &t.other, SHM_STREAM_DROP_NEWEST, 1);
	subscribe_streams(&t.watcher, "video");
	tick();
	/* Depth 1, nothing received: the first is queued, the next two are dropped. */
	ck_assert_int_eq(publish(st, &t.holder), 1);
	ck_assert_int_eq(publish(st, &t.holder), 0);
	ck_assert_int_eq(publish(st, &t.holder), 0);
	tick();
	ck_assert_uint_eq(the_stream(&t.watcher, DROPS, "cam")->frames, 2);
	ck_assert_uint_eq(the(&t.watcher, DROPS, "video")->holder, t.other.id);
	/* Nothing more dropped: nothing more said. */
	tick();
	ck_assert_uint_eq(count(&t.watcher, DROPS, "video"), 0);
	/* More drops, soon after: told of once the interval has passed, all together. */
	ck_assert_int_eq(publish(st, &t.holder), 0);
	tick();
	ck_assert_int_eq(publish(st, &t.holder), 0);
	tick();
	ck_assert_uint_eq(count(&t.watcher, DROPS, "video"), 0);
	wait_ms(EVENTS_DROPS_INTERVAL_MS);
	tick();
	ck_assert_uint_eq(the(&t.watcher, DROPS, "video")->frames, 2);
	wait_ms(EVENTS_DROPS_INTERVAL_MS);
	/* A counter scribbled backwards is no drop; counting on from there is. */
	atomic_store(&st->sm.consumers[slot].dropped, 1);
	tick();
	ck_assert_uint_eq(count(&t.watcher, DROPS, "video"), 0);
	atomic_store(&st->sm.consumers[slot].dropped, 5);
	tick();
	ck_assert_uint_eq(the(&t.watcher, DROPS, "video")->frames, 4);
}
END_TEST

START_TEST(test_stream_drops_before_anyone_subscribed_are_no_news)
{
	struct stream *st = make_stream("cam", "video", 0660, &t.holder);

	add_consumer(st, &t.other, SHM_STREAM_DROP_NEWEST, 1);
	ck_assert_int_eq(publish(st, &t.holder), 1);
	ck_assert_int_eq(publish(st, &t.holder), 0);
	subscribe_streams(&t.watcher, "video");
	tick();
	ck_assert_uint_eq(count(&t.watcher, DROPS, "video"), 0);
}
END_TEST

START_TEST(test_stream_events_only_to_who_asked_for_them)
{
	struct stream *st = make_stream("cam", "video", 0660, &t.holder);

	add_consumer(st, &t.other, SHM_STREAM_DROP_NEWEST, 1);
	subscribe(&t.watcher, "video", 0, 0);
	tick();
	ck_assert_int_eq(publish(st, &t.holder), 1);
	ck_assert_int_eq(publish(st, &t.holder), 0);
	rpc_remove_session(&t.fx.rpc, &t.other);
	rpc_remove_session(&t.fx.rpc, &t.holder);
	tick();
	ck_assert_uint_eq(count(&t.watcher, DROPS, "video"), 0);
	ck_assert_uint_eq(count(&t.watcher, CONSUMER_GONE, "video"), 0);
	ck_assert_uint_eq(count(&t.watcher, PRODUCER_GONE, "video"), 0);
}
END_TEST

START_TEST(test_stream_events_only_for_the_pools_it_covers)
{
	struct stream *st = make_stream("cam", "video", 0660, &t.holder);

	add_consumer(st, &t.other, SHM_STREAM_DROP_NEWEST, 1);
	subscribe_streams(&t.watcher, "audio");
	tick();
	ck_assert_int_eq(publish(st, &t.holder), 1);
	ck_assert_int_eq(publish(st, &t.holder), 0);
	rpc_remove_session(&t.fx.rpc, &t.other);
	rpc_remove_session(&t.fx.rpc, &t.holder);
	tick();
	for (unsigned i = 0; i < t.n_seen; i++)
		ck_assert_str_ne(t.seen[i].pool, "video");
}
END_TEST

START_TEST(test_stream_events_only_to_who_may_read_pool_and_stream)
{
	/* video is 0660 for uid 1000: the stranger may not read it, whatever the stream says. */
	struct stream *open = make_stream("open", "video", 0666, &t.holder);
	/* audio is everyone's, but this stream is its owner's alone. */
	struct stream *closed;
	struct pool_access owners = { 2000, 2000, 0600 };

	ck_assert_int_eq(storage_add_stream(t.fx.storage, "closed",
					    storage_find(t.fx.storage, "audio"), &owners, false,
					    &closed),
			 0);
	ck_assert_int_eq(stream_set_producer(closed, t.other.id), 0);
	subscribe_streams(&t.stranger, "");
	subscribe_streams(&t.watcher, "");
	tick();
	(void)open;
	rpc_remove_session(&t.fx.rpc, &t.holder);
	rpc_remove_session(&t.fx.rpc, &t.other);
	tick();
	ck_assert_uint_eq(count(&t.stranger, PRODUCER_GONE, "video"), 0);
	ck_assert_uint_eq(count(&t.stranger, PRODUCER_GONE, "audio"), 0);
	ck_assert_uint_eq(count(&t.watcher, PRODUCER_GONE, "video"), 1);
	ck_assert_uint_eq(count(&t.watcher, PRODUCER_GONE, "audio"), 0);
}
END_TEST

/* ---- subscribers ---- */

START_TEST(test_a_new_subscription_replaces_the_old)
{
	subscribe(&t.watcher, "video", 0, 0);
	subscribe(&t.watcher, "audio", 0, 0);
	tick();
	ck_assert_uint_eq(count(&t.watcher, STATUS, "video"), 0);
	ck_assert_uint_eq(count(&t.watcher, STATUS, "audio"), 1);
	ck_assert_uint_eq(t.fx.rpc.events.n_subscribed, 1);
}
END_TEST

START_TEST(test_events_stop_when_the_last_subscriber_leaves)
{
	ck_assert(!events_active(&t.fx.rpc.events));
	subscribe(&t.watcher, "", 0, 0);
	subscribe(&t.other, "video", 0, 0);
	ck_assert(events_active(&t.fx.rpc.events));
	rpc_remove_session(&t.fx.rpc, &t.watcher);
	ck_assert(events_active(&t.fx.rpc.events));
	rpc_remove_session(&t.fx.rpc, &t.other);
	ck_assert(!events_active(&t.fx.rpc.events));
}
END_TEST

START_TEST(test_a_subscriber_closed_by_its_push_is_left_alone)
{
	subscribe(&t.watcher, "", 0, 0);
	subscribe(&t.other, "", 0, 0);
	t.hangs_up = &t.watcher;
	tick();
	/* The tick goes on to the others; the closed one is gone, its subscription with it. */
	ck_assert_uint_eq(count(&t.other, STATUS, "video"), 1);
	ck_assert_uint_eq(count(&t.other, STATUS, "audio"), 1);
	ck_assert_uint_eq(t.fx.rpc.events.n_subscribed, 1);
	ck_assert_uint_eq(t.fx.rpc.n_sessions, 3);
}
END_TEST

static Suite *events_suite(void)
{
	Suite *s = suite_create("events");
	TCase *tc;

	tc = tcase_create("status");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_first_tick_sends_the_status_of_each_pool_it_may_see);
	tcase_add_test(tc, test_a_subscription_to_one_pool_hears_nothing_of_the_others);
	tcase_add_test(tc, test_status_is_coalesced_to_one_per_interval);
	tcase_add_test(tc, test_status_is_not_sent_again_when_nothing_changed);
	tcase_add_test(tc, test_a_status_the_socket_had_no_room_for_goes_out_with_a_later_tick);
	suite_add_tcase(s, tc);

	tc = tcase_create("dry");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dry_is_sent_once_when_the_last_frame_is_taken);
	suite_add_tcase(s, tc);

	tc = tcase_create("held too long");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_held_too_long_is_sent_once_per_acquisition);
	tcase_add_test(tc, test_held_too_long_is_not_sent_without_a_threshold);
	suite_add_tcase(s, tc);

	tc = tcase_create("reclaimed");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reclaimed_is_sent_when_a_holder_ends_with_frames);
	tcase_add_test(tc, test_reclaimed_is_not_sent_for_a_pool_it_does_not_watch);
	suite_add_tcase(s, tc);

	tc = tcase_create("gone");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_gone_is_sent_when_a_watched_pool_is_destroyed);
	tcase_add_test(tc, test_gone_is_sent_when_a_reload_hides_the_pool);
	suite_add_tcase(s, tc);

	tc = tcase_create("streams");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stream_producer_gone_is_sent_when_the_producer_leaves);
	tcase_add_test(tc, test_stream_consumer_gone_says_what_it_gave_back);
	tcase_add_test(tc, test_stream_drops_counts_what_was_dropped_since_the_last_tick);
	tcase_add_test(tc, test_stream_drops_before_anyone_subscribed_are_no_news);
	tcase_add_test(tc, test_stream_events_only_to_who_asked_for_them);
	tcase_add_test(tc, test_stream_events_only_for_the_pools_it_covers);
	tcase_add_test(tc, test_stream_events_only_to_who_may_read_pool_and_stream);
	suite_add_tcase(s, tc);

	tc = tcase_create("subscribers");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_a_new_subscription_replaces_the_old);
	tcase_add_test(tc, test_events_stop_when_the_last_subscriber_leaves);
	tcase_add_test(tc, test_a_subscriber_closed_by_its_push_is_left_alone);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ksalloc_check_run(events_suite());
}
