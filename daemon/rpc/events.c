/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/rpc/events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "daemon/rpc/marshal.h"
#include "daemon/util/log.h"

#define INTERVAL_DEFAULT_MS 100
#define INTERVAL_MIN_MS 10

/* What a subscriber last heard of one pool. */
struct watch {
	uint32_t pool_id;
	char name[SHM_NAME_MAX];
	uint64_t sent_ms;     /* its last STATUS */
	uint64_t fingerprint; /* of the status that STATUS carried; 0: none yet */
	bool dry;             /* every frame was taken at the last look */
	uint64_t tick;        /* the last tick that saw the pool */
};

/* A frame held too long that the subscriber was told of: the holder's oldest acquisition. */
struct held_note {
	uint32_t pool_id;
	uint32_t session_id;
	uint64_t since_ms;
};

struct subscription {
	char name[SHM_NAME_MAX]; /* "": every pool the session may see */
	uint32_t interval_ms;
	uint32_t hold_ms; /* 0: no HELD_TOO_LONG */
	bool streams;     /* the STREAM_* events too */
	struct watch *watches;
	uint32_t n_watches;
	struct held_note *held;
	uint32_t n_held;
	uint64_t ticks;
};

void events_init(struct events *ev, struct storage *storage, const struct list *sessions)
{
	*ev = (struct events){ .storage = storage, .sessions = sessions };
}

void events_unsubscribe(struct events *ev, struct session *s)
{
	if (!s->sub)
		return;
	free(s->sub->watches);
	free(s->sub->held);
	free(s->sub);
	s->sub = NULL;
	ev->n_subscribed--;
}

/*
 * STREAM_DROPS for each consumer whose counter grew since it was last read,
 * unless it was told of less than EVENTS_DROPS_INTERVAL_MS ago (the counter
 * is read then: the event says all it lost since the last). Without @note,
 * drops before @now are no news to anyone: the counters' values become the
 * last seen.
 */
static void scan_drops(struct events *ev, uint64_t now, bool note)
{
	struct stream *st;

	list_for_each_entry(st, storage_streams(ev->storage), link)
		for (uint32_t slot = 0; slot < SHM_STREAM_CONSUMERS; slot++) {
			uint32_t dropped;

			if (note && st->drops_told_ms[slot] &&
			    now - st->drops_told_ms[slot] < EVENTS_DROPS_INTERVAL_MS)
				continue;
			dropped = stream_consumer_new_drops(st, slot);
			if (!dropped || !note)
				continue;
			st->drops_told_ms[slot] = now;
			events_note_stream(ev, EVENTS_STREAM_DROPS, st, st->consumers[slot],
					   session_find(ev->sessions, st->consumers[slot]),
					   dropped);
		}
}

int events_subscribe(struct events *ev, struct session *s, const char *name, uint32_t interval_ms,
		     uint32_t hold_ms, bool streams)
{
	struct subscription *sub = calloc(1, sizeof(*sub));

	if (!sub)
		return -ENOMEM;
	snprintf(sub->name, sizeof(sub->name), "%s", name);
	sub->interval_ms = interval_ms ? interval_ms : INTERVAL_DEFAULT_MS;
	if (sub->interval_ms < INTERVAL_MIN_MS)
		sub->interval_ms = INTERVAL_MIN_MS;
	sub->hold_ms = hold_ms;
	sub->streams = streams;
	events_unsubscribe(ev, s); /* a new subscription replaces the old */
	/* Nobody was subscribed, so no tick kept up with the drop counters. */
	if (!ev->n_subscribed)
		scan_drops(ev, pool_now_ms(), false);
	s->sub = sub;
	ev->n_subscribed++;
	log_debug("session %u (%s): subscribed to %s, every %u ms", s->id, s->name,
		  name[0] ? name : "every pool", sub->interval_ms);
	return 0;
}

bool events_subscription_get(const struct session *s, const char **ret_name,
			     uint32_t *ret_interval_ms, uint32_t *ret_hold_ms, bool *ret_streams)
{
	if (!s->sub)
		return false;
	*ret_streams = s->sub->streams;
	*ret_name = s->sub->name;
	*ret_interval_ms = s->sub->interval_ms;
	*ret_hold_ms = s->sub->hold_ms;
	return true;
}

void events_note_reclaim(struct events *ev, const struct session *s, const struct pool *p,
			 uint32_t frames)
{
	struct events_reclaim *n;

	if (!ev->n_subscribed)
		return;
	if (ev->n_reclaims == EVENTS_RECLAIMS_MAX) {
		memmove(ev->reclaims, ev->reclaims + 1,
			sizeof(ev->reclaims[0]) * (EVENTS_RECLAIMS_MAX - 1));
		ev->n_reclaims--;
	}
	n = &ev->reclaims[ev->n_reclaims++];
	*n = (struct events_reclaim){ .pool_id = p->id,
				      .session_id = s->id,
				      .pid = (uint32_t)s->pid,
				      .uid = (uint32_t)s->uid,
				      .frames = frames,
				      .time_ms = pool_now_ms() };
	snprintf(n->pool, sizeof(n->pool), "%s", p->name);
	snprintf(n->name, sizeof(n->name), "%s", s->name);
}

void events_note_stream(struct events *ev, enum events_stream_kind kind, const struct stream *st,
			uint32_t session_id, const struct session *s, uint32_t frames)
{
	struct events_stream_note *n;

	if (!ev->n_subscribed)
		return;
	if (ev->n_stream_notes == EVENTS_STREAM_NOTES_MAX) {
		memmove(ev->stream_notes, ev->stream_notes + 1,
			sizeof(ev->stream_notes[0]) * (EVENTS_STREAM_NOTES_MAX - 1));
		ev->n_stream_notes--;
	}
	n = &ev->stream_notes[ev->n_stream_notes++];
	*n = (struct events_stream_note){ .kind = kind,
					  .pool_access = st->pool->access,
					  .stream_access = st->access,
					  .session_id = session_id,
					  .frames = frames,
					  .time_ms = pool_now_ms() };
	snprintf(n->pool, sizeof(n->pool), "%s", st->pool->name);
	snprintf(n->stream, sizeof(n->stream), "%s", st->name);
	if (s) {
		n->pid = (uint32_t)s->pid;
		n->uid = (uint32_t)s->uid;
		snprintf(n->name, sizeof(n->name), "%s", s->name);
	}
}

static struct watch *find_watch(struct subscription *sub, uint32_t pool_id)
{
	for (uint32_t i = 0; i < sub->n_watches; i++)
		if (sub->watches[i].pool_id == pool_id)
			return &sub->watches[i];
	return NULL;
}

static struct watch *add_watch(struct subscription *sub, const struct pool *p)
{
	struct watch *grown = reallocarray(sub->watches, sub->n_watches + 1, sizeof(*grown));

	if (!grown)
		return NULL;
	sub->watches = grown;
	grown[sub->n_watches] = (struct watch){ .pool_id = p->id };
	snprintf(grown[sub->n_watches].name, sizeof(grown->name), "%s", p->name);
	return &grown[sub->n_watches++];
}

/* FNV-1a over what a STATUS shows, ages left out: they change all the time. */
static uint64_t fingerprint(const Ksalloc__GetStatusReply *st)
{
	uint64_t v[] = { st->allocated_frames, st->peak_frames, st->waiters,   st->acquisitions,
			 st->timeouts,         st->reclaimed,   st->committed, st->sessions };
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < ELEMENTSOF(v); i++)
		h = (h ^ v[i]) * 0x100000001b3u;
	for (size_t i = 0; i < st->n_holders; i++)
		h = (h ^
		     ((uint64_t)st->holders[i]->session_id << 32 | st->holders[i]->frames_held)) *
		    0x100000001b3u;
	return h ? h : 1;
}

static Ksalloc__Event *new_event(struct arena *arena, Ksalloc__Event__Kind kind, const char *pool,
				 uint64_t now)
{
	Ksalloc__Event *e = ARENA_NEW(arena, Ksalloc__Event, ksalloc__event__init);

	if (e) {
		e->kind = kind;
		e->pool = (char *)pool;
		e->time_ms = now;
	}
	return e;
}

/* A DRY or STATUS event: pool @p's extended status @st (in @arena too), its size. */
static Ksalloc__Event *status_event(struct arena *arena, Ksalloc__Event__Kind kind,
				    const struct pool *p, Ksalloc__GetStatusReply *st, uint64_t now)
{
	Ksalloc__Event *e = new_event(arena, kind, p->name, now);

	if (e) {
		e->status = st;
		e->frames_total = p->framing.frames;
		e->size_bytes = pool_bytes(p);
	}
	return e;
}

/* Pushes @e to @s. Returns what @push returns; -ENOMEM when @e is NULL. */
static int push_event(struct session *s, Ksalloc__Event *e, bool droppable, events_push_fn push,
		      void *data)
{
	struct rpc_reply out;

	if (!e)
		return -ENOMEM;
	rpc_reply_ok(&out, 0, KSALLOC__REPLY__BODY_EVENT);
	out.msg.event = e;
	return push(s, &out, droppable, data);
}

static bool held_noted(const struct subscription *sub, uint32_t pool_id, uint32_t session,
		       uint64_t since_ms)
{
	for (uint32_t i = 0; i < sub->n_held; i++)
		if (sub->held[i].pool_id == pool_id && sub->held[i].session_id == session &&
		    sub->held[i].since_ms == since_ms)
			return true;
	return false;
}

/* Forgets notes of frames no longer held as they were: the note list stays short. */
static void held_prune(struct subscription *sub, const struct pool *p, const uint64_t *oldest)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < sub->n_held; i++) {
		const struct held_note *n = &sub->held[i];
		bool live = false;

		if (n->pool_id != p->id) {
			sub->held[kept++] = *n;
			continue;
		}
		for (uint32_t slot = 0; slot < p->layout.n_slots && !live; slot++)
			live = p->slot_sessions[slot] == n->session_id &&
			       oldest[slot] == n->since_ms;
		if (live)
			sub->held[kept++] = *n;
	}
	sub->n_held = kept;
}

/* HELD_TOO_LONG for each session of @p whose oldest frame is older than the threshold. */
static int check_held(struct events *ev, struct session *s, const struct pool *p,
		      struct arena *arena, uint64_t now, events_push_fn push, void *data)
{
	struct subscription *sub = s->sub;
	uint32_t n_slots = p->layout.n_slots;
	uint32_t *held = arena_alloc(arena, n_slots * sizeof(*held));
	uint64_t *oldest = arena_alloc(arena, n_slots * sizeof(*oldest));

	if (!held || !oldest)
		return -ENOMEM;
	pool_count_holds(p, held, oldest);
	held_prune(sub, p, oldest);
	for (uint32_t i = 0; i < n_slots; i++) {
		uint32_t session = p->slot_sessions[i];
		const struct session *holder;
		struct held_note *grown;
		Ksalloc__Event *e;
		int r;

		if (!held[i] || now < oldest[i] || now - oldest[i] < sub->hold_ms ||
		    held_noted(sub, p->id, session, oldest[i]))
			continue;
		grown = reallocarray(sub->held, sub->n_held + 1, sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		sub->held = grown;
		grown[sub->n_held++] = (struct held_note){ p->id, session, oldest[i] };
		e = new_event(arena, KSALLOC__EVENT__KIND__HELD_TOO_LONG, p->name, now);
		if (e && (e->holder = ARENA_NEW(arena, Ksalloc__Holder, ksalloc__holder__init))) {
			holder = session_find(ev->sessions, session);
			e->holder->session_id = session;
			e->holder->frames_held = held[i];
			e->holder->oldest_hold_ms = now - oldest[i];
			if (holder) {
				e->holder->pid = (uint32_t)holder->pid;
				e->holder->uid = (uint32_t)holder->uid;
				e->holder->name = (char *)holder->name;
			}
			e->frames_total = p->framing.frames;
		}
		r = push_event(s, e, false, push, data);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The events of one pool for @s: DRY, STATUS, HELD_TOO_LONG. */
static int tick_pool(struct events *ev, struct session *s, const struct pool *p,
		     struct arena *arena, uint64_t now, events_push_fn push, void *data)
{
	struct subscription *sub = s->sub;
	struct watch *w = find_watch(sub, p->id);
	Ksalloc__GetStatusReply *st;
	uint64_t fp;
	bool dry;
	int r;

	if (!w && !(w = add_watch(sub, p)))
		return -ENOMEM;
	w->tick = sub->ticks;
	st = extended_status_to_wire(arena, p, ev->storage, ev->sessions);
	if (!st)
		return -ENOMEM;
	fp = fingerprint(st);
	dry = st->allocated_frames >= p->framing.frames;
	if (dry && !w->dry) {
		Ksalloc__Event *e = status_event(arena, KSALLOC__EVENT__KIND__DRY, p, st, now);

		r = push_event(s, e, false, push, data);
		if (r < 0)
			return r;
	}
	w->dry = dry;
	if (fp != w->fingerprint && now - w->sent_ms >= sub->interval_ms) {
		Ksalloc__Event *e = status_event(arena, KSALLOC__EVENT__KIND__STATUS, p, st, now);

		r = push_event(s, e, true, push, data);
		/* A full socket drops it: the change goes out with a later tick. */
		if (r == 0) {
			w->fingerprint = fp;
			w->sent_ms = now;
		} else if (r != -EAGAIN) {
			return r;
		}
	}
	return sub->hold_ms ? check_held(ev, s, p, arena, now, push, data) : 0;
}

static bool covers(const struct subscription *sub, const char *pool)
{
	return !sub->name[0] || strcmp(sub->name, pool) == 0;
}

/* RECLAIMED for what sessions that ended gave back, to those who watched the pool. */
static int tick_reclaims(const struct events *ev, struct session *s, struct arena *arena,
			 events_push_fn push, void *data)
{
	for (uint32_t i = 0; i < ev->n_reclaims; i++) {
		const struct events_reclaim *n = &ev->reclaims[i];
		Ksalloc__Event *e;
		int r;

		if (!covers(s->sub, n->pool) || !find_watch(s->sub, n->pool_id))
			continue;
		e = new_event(arena, KSALLOC__EVENT__KIND__RECLAIMED, n->pool, n->time_ms);
		if (e && (e->holder = ARENA_NEW(arena, Ksalloc__Holder, ksalloc__holder__init))) {
			e->holder->session_id = n->session_id;
			e->holder->pid = n->pid;
			e->holder->uid = n->uid;
			e->holder->name = (char *)n->name;
			e->frames = n->frames;
		}
		r = push_event(s, e, false, push, data);
		if (r < 0)
			return r;
	}
	return 0;
}

static const Ksalloc__Event__Kind stream_kinds[] = {
	[EVENTS_STREAM_PRODUCER_GONE] = KSALLOC__EVENT__KIND__STREAM_PRODUCER_GONE,
	[EVENTS_STREAM_CONSUMER_GONE] = KSALLOC__EVENT__KIND__STREAM_CONSUMER_GONE,
	[EVENTS_STREAM_DROPS] = KSALLOC__EVENT__KIND__STREAM_DROPS,
};

/*
 * The STREAM_* events, to a subscriber that asked for them and covers the
 * stream's pool, and may read both the pool and the stream.
 */
static int tick_streams(const struct events *ev, struct session *s, const struct peer *peer,
			struct arena *arena, events_push_fn push, void *data)
{
	if (!s->sub->streams)
		return 0;
	for (uint32_t i = 0; i < ev->n_stream_notes; i++) {
		const struct events_stream_note *n = &ev->stream_notes[i];
		Ksalloc__Event *e;
		int r;

		if (!covers(s->sub, n->pool) ||
		    !access_allows(&n->pool_access, peer, ACCESS_READ) ||
		    !access_allows(&n->stream_access, peer, ACCESS_READ))
			continue;
		e = new_event(arena, stream_kinds[n->kind], n->pool, n->time_ms);
		if (e && (e->holder = ARENA_NEW(arena, Ksalloc__Holder, ksalloc__holder__init))) {
			e->stream = (char *)n->stream;
			e->holder->session_id = n->session_id;
			e->holder->pid = n->pid;
			e->holder->uid = n->uid;
			e->holder->name = (char *)n->name;
			e->frames = n->frames;
		}
		r = push_event(s, e, false, push, data);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every event due to @s; GONE for the pools it watched that are no more. */
static int tick_session(struct events *ev, struct session *s, struct arena *arena, uint64_t now,
			events_push_fn push, void *data)
{
	struct peer peer = session_peer(s);
	struct subscription *sub = s->sub;
	uint32_t id = 0, kept = 0;
	struct pool *p;
	int r;

	sub->ticks++;
	r = tick_reclaims(ev, s, arena, push, data);
	if (r == 0)
		r = tick_streams(ev, s, &peer, arena, push, data);
	while (r == 0 && (p = storage_next(ev->storage, &id))) {
		if (covers(sub, p->name) && access_allows(&p->access, &peer, ACCESS_READ))
			r = tick_pool(ev, s, p, arena, now, push, data);
		arena_reset(arena);
	}
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < sub->n_watches; i++) {
		struct watch *w = &sub->watches[i];

		if (w->tick == sub->ticks) {
			sub->watches[kept++] = *w;
			continue;
		}
		/* Gone, or no longer to be seen (a reload changed its mode): the same to it. */
		p = storage_get(ev->storage, w->pool_id);
		if (!p || !access_allows(&p->access, &peer, ACCESS_READ)) {
			r = push_event(s,
				       new_event(arena, KSALLOC__EVENT__KIND__GONE, w->name, now),
				       false, push, data);
			arena_reset(arena);
			if (r < 0)
				return r;
		}
	}
	sub->n_watches = kept;
	return 0;
}

void events_tick(struct events *ev, struct arena *arena, events_push_fn push, void *data)
{
	events_tick_at(ev, pool_now_ms(), arena, push, data);
}

void events_tick_at(struct events *ev, uint64_t now, struct arena *arena, events_push_fn push,
		    void *data)
{
	struct session *s, *next;

	scan_drops(ev, now, true);
	list_for_each_entry_safe(s, next, ev->sessions, link) {
		if (!s->sub)
			continue;
		/* A session that cannot take its events is closed by @push: next was read first. */
		if (tick_session(ev, s, arena, now, push, data) == -ENOMEM)
			log_warning("session %u (%s): out of memory while making its events", s->id,
				    s->name);
		arena_reset(arena);
	}
	ev->n_reclaims = 0;
	ev->n_stream_notes = 0;
}
