/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Subscriptions: the events a subscribed session receives (ksalloc.proto,
 * SubscribeRequest). Frames change hands in shared memory without a word to
 * the daemon, so it looks: every EVENTS_TICK_MS while anyone is subscribed,
 * it reads each subscribed pool's counters and holders (one pass over the
 * ownership words, as a status request does) and sends what changed.
 *
 * Events knows sessions and storage, and nothing of rpc: rpc embeds a
 * struct events, the SubscribeRequest handler calls events_subscribe(), and
 * transport runs events_tick() on its timer and sends what it is given.
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/list.h"
#include "daemon/rpc/reply.h"
#include "daemon/rpc/session.h"
#include "daemon/storage/storage.h"
#include "daemon/storage/stream.h"
#include "proto/arena.h"
#include "shm/layout.h"

/* How often the daemon looks at subscribed pools, while anyone is subscribed. */
#define EVENTS_TICK_MS 20
/*
 * STREAM_DROPS for one consumer at most this often: a consumer that lags for
 * long is told of every EVENTS_DROPS_INTERVAL_MS, with all it lost since, not
 * at every tick.
 */
#define EVENTS_DROPS_INTERVAL_MS 100

/* Frames taken back from a session that ended, for the subscribers' RECLAIMED events. */
struct events_reclaim {
	uint32_t pool_id;
	char pool[SHM_NAME_MAX];
	uint32_t session_id, pid, uid;
	char name[SESSION_NAME_MAX];
	uint32_t frames;
	uint64_t time_ms;
};
#define EVENTS_RECLAIMS_MAX 64 /* noted between two ticks; beyond, the oldest are dropped */

/* What happened to a stream, for the subscribers that asked for streams (SubscribeRequest.streams). */
enum events_stream_kind {
	EVENTS_STREAM_PRODUCER_GONE, /* its producer closed or died */
	EVENTS_STREAM_CONSUMER_GONE, /* a consumer closed or died: frames, what it gave back */
	EVENTS_STREAM_DROPS,         /* frames were dropped for a consumer: frames, how many */
};

struct events_stream_note {
	enum events_stream_kind kind;
	char pool[SHM_NAME_MAX];
	char stream[SHM_NAME_MAX];
	/* As they were when it happened: the stream and the session may be gone by the tick. */
	struct pool_access pool_access, stream_access;
	uint32_t session_id, pid, uid;
	char name[SESSION_NAME_MAX];
	uint32_t frames;
	uint64_t time_ms;
};
#define EVENTS_STREAM_NOTES_MAX 64 /* between two ticks; beyond, the oldest are dropped */

/* The state of every subscription together; each session's own hangs off session->sub. */
struct events {
	struct storage *storage;     /* borrowed */
	const struct list *sessions; /* borrowed: every live session, newest first */
	uint32_t n_subscribed;
	struct events_reclaim reclaims[EVENTS_RECLAIMS_MAX];
	uint32_t n_reclaims;
	struct events_stream_note stream_notes[EVENTS_STREAM_NOTES_MAX];
	uint32_t n_stream_notes;
};

/*
 * Sends an event to subscribed session @s. A @droppable one (STATUS) is not
 * queued behind others: -EAGAIN when the socket is full. Returns 0 when sent
 * or queued, or -errno when the session could not take it, in which case the
 * callee closes it: the session, its subscription with it, is gone when it
 * returns.
 */
typedef int (*events_push_fn)(struct session *s, struct rpc_reply *out, bool droppable, void *data);

/* Nobody subscribed yet, over the pools of @storage and the sessions on @sessions. */
void events_init(struct events *ev, struct storage *storage, const struct list *sessions);

/*
 * Subscribes @s to the events of pool @name ("": every pool it may see),
 * STATUS at most every @interval_ms (0: the default, 100; at least 10), and
 * HELD_TOO_LONG for frames held @hold_ms or longer (0: none), and with
 * @streams the STREAM_* events of the streams on those pools it may read. A
 * subscription @s had is replaced. Returns 0, or -ENOMEM and the old one stays.
 */
int events_subscribe(struct events *ev, struct session *s, const char *name, uint32_t interval_ms,
		     uint32_t hold_ms, bool streams);

/*
 * What @s subscribed to, as events_subscribe() took it (the interval after
 * its default and floor), for the file descriptor store's state image: the
 * next daemon subscribes the session again with these. Returns false, and
 * leaves the out-parameters untouched, when @s has no subscription.
 * *ret_name points into the subscription: valid until it ends.
 */
bool events_subscription_get(const struct session *s, const char **ret_name,
			     uint32_t *ret_interval_ms, uint32_t *ret_hold_ms, bool *ret_streams);

/* Ends @s's subscription, if it has one (rpc_remove_session()). */
void events_unsubscribe(struct events *ev, struct session *s);

/* Notes frames reclaimed from session @s for the next tick's RECLAIMED events. */
void events_note_reclaim(struct events *ev, const struct session *s, const struct pool *p,
			 uint32_t frames);

/*
 * Notes what happened to stream @st: its producer or a consumer, session
 * @session_id (@s: that session, or NULL when it is gone), left it, giving
 * back @frames; for the next tick's STREAM_* events.
 */
void events_note_stream(struct events *ev, enum events_stream_kind kind, const struct stream *st,
			uint32_t session_id, const struct session *s, uint32_t frames);

/*
 * Every EVENTS_TICK_MS while events_active(): sends each subscriber the
 * events due (STATUS at most every interval per pool, DRY, HELD_TOO_LONG,
 * RECLAIMED, GONE, and the STREAM_* ones: STREAM_DROPS for each consumer
 * whose dropped counter grew, at most every EVENTS_DROPS_INTERVAL_MS) through
 * @push. @arena is reset before it returns.
 */
void events_tick(struct events *ev, struct arena *arena, events_push_fn push, void *data);

/*
 * events_tick() as of @now (pool_now_ms()'s clock), for tests that move time on
 * themselves rather than wait for it.
 */
void events_tick_at(struct events *ev, uint64_t now, struct arena *arena, events_push_fn push,
		    void *data);

/* Whether anyone is subscribed: whether events_tick() has anything to do. */
static inline bool events_active(const struct events *ev)
{
	return ev->n_subscribed != 0;
}
