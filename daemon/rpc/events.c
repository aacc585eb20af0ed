/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Subscriptions: the events a subscribed session receives (ksalloc.proto,
 * SubscribeRequest). Frames change hands in shared memory without a word to
 * the daemon, so it looks: every RPC_TICK_MS while anyone is subscribed, it
 * reads each subscribed pool's counters and holders (one pass over the
 * ownership words, as a status request does) and sends what changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "daemon/util/log.h"
#include "daemon/rpc/rpc.h"

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
	struct watch *watches;
	uint32_t n_watches;
	struct held_note *held;
	uint32_t n_held;
	uint64_t ticks;
};

void rpc_unsubscribe(struct rpc *rpc, struct session *s)
{
	if (!s->sub)
		return;
	free(s->sub->watches);
	free(s->sub->held);
	free(s->sub);
	s->sub = NULL;
	rpc->n_subscribed--;
}

void rpc_subscribe(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
		   struct arena *arena, struct rpc_reply *out)
{
	const Ksalloc__SubscribeRequest *q = req->subscribe;
	const char *problem = q->name[0] ? shm_name_problem(q->name) : NULL;
	struct peer peer = session_peer(s);
	Ksalloc__SubscribeReply *r;
	struct subscription *sub;
	struct pool *p;
	uint32_t id = 0;

	if (problem) {
		rpc_reply_error(out, arena, req->id, -EINVAL, "subscribe: %s", problem);
		return;
	}
	p = q->name[0] ? storage_find(rpc->storage, q->name) : NULL;
	if (q->name[0] && (!p || !access_allows(&p->access, &peer, ACCESS_READ))) {
		/* Not there and not to be seen are one answer, as for status. */
		rpc_reply_error(out, arena, req->id, -ENOENT,
				"subscribe: no pool named \"%s\" (ksallocctl list shows the pools)",
				q->name);
		return;
	}
	r = ARENA_NEW(arena, Ksalloc__SubscribeReply, ksalloc__subscribe_reply__init);
	sub = calloc(1, sizeof(*sub));
	if (!r || !sub) {
		free(sub);
		rpc_reply_error(out, arena, req->id, -ENOMEM, "daemon out of memory");
		return;
	}
	snprintf(sub->name, sizeof(sub->name), "%s", q->name);
	sub->interval_ms = q->interval_ms ? q->interval_ms : INTERVAL_DEFAULT_MS;
	if (sub->interval_ms < INTERVAL_MIN_MS)
		sub->interval_ms = INTERVAL_MIN_MS;
	sub->hold_ms = q->hold_threshold_ms;
	rpc_unsubscribe(rpc, s); /* a new subscription replaces the old */
	s->sub = sub;
	rpc->n_subscribed++;
	while ((p = storage_next(rpc->storage, &id)))
		r->pools += !q->name[0] ? access_allows(&p->access, &peer, ACCESS_READ) :
					  strcmp(p->name, q->name) == 0;
	ksalloc__reply__init(&out->msg);
	out->msg.id = req->id;
	out->msg.body_case = KSALLOC__REPLY__BODY_SUBSCRIBE;
	out->msg.subscribe = r;
	out->fds = NULL;
	out->n_fds = 0;
	log_debug("session %u (%s): subscribed to %s, every %u ms", s->id, s->name,
		  q->name[0] ? q->name : "every pool", sub->interval_ms);
}

void rpc_note_reclaim(struct rpc *rpc, const struct session *s, const struct pool *p,
		      uint32_t frames)
{
	struct rpc_reclaim *n;

	if (!rpc->n_subscribed)
		return;
	if (rpc->n_reclaims == RPC_RECLAIMS_MAX) {
		memmove(rpc->reclaims, rpc->reclaims + 1, sizeof(rpc->reclaims[0]) * (RPC_RECLAIMS_MAX - 1));
		rpc->n_reclaims--;
	}
	n = &rpc->reclaims[rpc->n_reclaims++];
	*n = (struct rpc_reclaim){ .pool_id = p->id, .session_id = s->id, .pid = (uint32_t)s->pid,
				   .uid = (uint32_t)s->uid, .frames = frames,
				   .time_ms = pool_now_ms() };
	snprintf(n->pool, sizeof(n->pool), "%s", p->name);
	snprintf(n->name, sizeof(n->name), "%s", s->name);
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
	uint64_t v[] = { st->allocated_frames, st->peak_frames, st->waiters, st->acquisitions,
			 st->timeouts, st->reclaimed, st->committed, st->sessions };
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < ELEMENTSOF(v); i++)
		h = (h ^ v[i]) * 0x100000001b3u;
	for (size_t i = 0; i < st->n_holders; i++)
		h = (h ^ ((uint64_t)st->holders[i]->session_id << 32 | st->holders[i]->frames_held)) *
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

/* Pushes @e to @s. Returns what @push returns; -ENOMEM when @e is NULL. */
static int push_event(struct session *s, Ksalloc__Event *e, bool droppable, rpc_push_fn push,
		      void *data)
{
	struct rpc_reply out = { .fds = NULL, .n_fds = 0 };

	if (!e)
		return -ENOMEM;
	ksalloc__reply__init(&out.msg);
	out.msg.body_case = KSALLOC__REPLY__BODY_EVENT;
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
			live = p->slot_sessions[slot] == n->session_id && oldest[slot] == n->since_ms;
		if (live)
			sub->held[kept++] = *n;
	}
	sub->n_held = kept;
}

/* HELD_TOO_LONG for each session of @p whose oldest frame is older than the threshold. */
static int check_held(struct rpc *rpc, struct session *s, const struct pool *p,
		      struct arena *arena, uint64_t now, rpc_push_fn push, void *data)
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
			holder = session_find(&rpc->sessions, session);
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
static int tick_pool(struct rpc *rpc, struct session *s, const struct pool *p,
		     struct arena *arena, uint64_t now, rpc_push_fn push, void *data)
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
	st = rpc_extended_status(rpc, p, arena);
	if (!st)
		return -ENOMEM;
	fp = fingerprint(st);
	dry = st->allocated_frames >= p->framing.frames;
	if (dry && !w->dry) {
		Ksalloc__Event *e = new_event(arena, KSALLOC__EVENT__KIND__DRY, p->name, now);

		if (e) {
			e->status = st;
			e->frames_total = p->framing.frames;
			e->size_bytes = pool_bytes(p);
		}
		r = push_event(s, e, false, push, data);
		if (r < 0)
			return r;
	}
	w->dry = dry;
	if (fp != w->fingerprint && now - w->sent_ms >= sub->interval_ms) {
		Ksalloc__Event *e = new_event(arena, KSALLOC__EVENT__KIND__STATUS, p->name, now);

		if (e) {
			e->status = st;
			e->frames_total = p->framing.frames;
			e->size_bytes = pool_bytes(p);
		}
		r = push_event(s, e, true, push, data);
		/* A full socket drops it: the change goes out with a later tick. */
		if (r == 0) {
			w->fingerprint = fp;
			w->sent_ms = now;
		} else if (r != -EAGAIN) {
			return r;
		}
	}
	return sub->hold_ms ? check_held(rpc, s, p, arena, now, push, data) : 0;
}

static bool covers(const struct subscription *sub, const char *pool)
{
	return !sub->name[0] || strcmp(sub->name, pool) == 0;
}

/* RECLAIMED for what sessions that ended gave back, to those who watched the pool. */
static int tick_reclaims(struct session *s, struct arena *arena, const struct rpc *rpc,
			 rpc_push_fn push, void *data)
{
	for (uint32_t i = 0; i < rpc->n_reclaims; i++) {
		const struct rpc_reclaim *n = &rpc->reclaims[i];
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

/* Every event due to @s; GONE for the pools it watched that are no more. */
static int tick_session(struct rpc *rpc, struct session *s, struct arena *arena, uint64_t now,
			rpc_push_fn push, void *data)
{
	struct peer peer = session_peer(s);
	struct subscription *sub = s->sub;
	uint32_t id = 0, kept = 0;
	struct pool *p;
	int r;

	sub->ticks++;
	r = tick_reclaims(s, arena, rpc, push, data);
	while (r == 0 && (p = storage_next(rpc->storage, &id))) {
		if (covers(sub, p->name) && access_allows(&p->access, &peer, ACCESS_READ))
			r = tick_pool(rpc, s, p, arena, now, push, data);
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
		p = storage_get(rpc->storage, w->pool_id);
		if (!p || !access_allows(&p->access, &peer, ACCESS_READ)) {
			r = push_event(s, new_event(arena, KSALLOC__EVENT__KIND__GONE, w->name, now),
				       false, push, data);
			arena_reset(arena);
			if (r < 0)
				return r;
		}
	}
	sub->n_watches = kept;
	return 0;
}

void rpc_tick(struct rpc *rpc, struct arena *arena, rpc_push_fn push, void *data)
{
	uint64_t now = pool_now_ms();
	struct session *s, *next;

	list_for_each_entry_safe(s, next, &rpc->sessions, link) {
		if (!s->sub)
			continue;
		/* A session that cannot take its events is closed by @push: next was read first. */
		if (tick_session(rpc, s, arena, now, push, data) == -ENOMEM)
			log_warning("session %u (%s): out of memory while making its events", s->id,
				    s->name);
		arena_reset(arena);
	}
	rpc->n_reclaims = 0;
}
