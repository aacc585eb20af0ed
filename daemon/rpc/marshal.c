/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/rpc/marshal.h"

#include <stdio.h>
#include <string.h>

#include "daemon/rpc/session.h"

Ksalloc__Framing *framing_to_wire(struct arena *arena, const struct framing *f)
{
	Ksalloc__Framing *w = ARENA_NEW(arena, Ksalloc__Framing, ksalloc__framing__init);

	if (!w)
		return NULL;
	w->options_flags = f->options_flags;
	w->pool_type = f->pool_type;
	w->frames = f->frames;
	w->frame_size = f->frame_size;
	w->file_alignment = f->file_alignment;
	return w;
}

struct framing framing_from_wire(const Ksalloc__Framing *w)
{
	if (!w)
		return (struct framing){ 0 };
	return (struct framing){
		.options_flags = w->options_flags,
		.pool_type = w->pool_type,
		.frames = w->frames,
		.frame_size = w->frame_size,
		.file_alignment = w->file_alignment,
	};
}

Ksalloc__PoolInfo *pool_info_to_wire(struct arena *arena, const struct pool *p)
{
	Ksalloc__PoolInfo *w = ARENA_NEW(arena, Ksalloc__PoolInfo, ksalloc__pool_info__init);

	if (!w)
		return NULL;
	w->name = (char *)p->name;
	w->pool_id = p->id;
	w->framing = framing_to_wire(arena, &p->framing);
	w->allocated_frames = pool_allocated_frames(p);
	w->backend = (char *)p->backend.name;
	w->size_bytes = p->layout.size_bytes;
	w->committed = p->committed;
	w->persistent = p->persistent;
	w->owner = (uint32_t)p->access.owner;
	w->group = (uint32_t)p->access.group;
	w->mode = p->access.mode;
	w->locked = p->locked;
	return w->framing ? w : NULL;
}

/* The holders of @p, for the extended status. Returns false when out of memory. */
static bool add_holders(struct arena *arena, const struct pool *p, const struct list *sessions,
			Ksalloc__GetStatusReply *r)
{
	uint32_t n_slots = p->layout.n_slots;
	uint32_t *held = arena_alloc(arena, n_slots * sizeof(*held));
	uint64_t *oldest = arena_alloc(arena, n_slots * sizeof(*oldest));
	uint64_t now = pool_now_ms();

	if (!held || !oldest)
		return false;
	pool_count_holds(p, held, oldest);
	r->holders = arena_alloc(arena, n_slots * sizeof(*r->holders));
	if (!r->holders)
		return false;
	for (uint32_t i = 0; i < n_slots; i++) {
		const struct session *s;
		Ksalloc__Holder *h;

		if (!held[i])
			continue;
		s = session_find(sessions, p->slot_sessions[i]);
		h = ARENA_NEW(arena, Ksalloc__Holder, ksalloc__holder__init);
		if (!h)
			return false;
		h->session_id = p->slot_sessions[i];
		h->frames_held = held[i];
		/* acquired_ms comes from shared memory: a time in the future reads as 0. */
		h->oldest_hold_ms = now > oldest[i] ? now - oldest[i] : 0;
		if (s) {
			h->pid = (uint32_t)s->pid;
			h->uid = (uint32_t)s->uid;
			h->name = (char *)s->name;
		}
		r->holders[r->n_holders++] = h;
	}
	return true;
}

/*
 * Holders for the frames @p's streams own: one per consumer, named "stream S
 * consumer NAME", with the frames it holds or has queued (a frame several
 * consumers refer to counts for each of them). Returns false when out of memory.
 */
static bool add_stream_holders(struct arena *arena, const struct pool *p,
			       const struct storage *storage, const struct list *sessions,
			       Ksalloc__GetStatusReply *r)
{
	const struct stream *st;
	Ksalloc__Holder **holders;
	uint32_t n = 0;

	list_for_each_entry(st, storage_streams(storage), link)
		n += st->pool == p ? st->n_consumers : 0;
	if (n == 0)
		return true;
	holders = arena_alloc(arena, (r->n_holders + n) * sizeof(*holders));
	if (!holders)
		return false;
	memcpy(holders, r->holders, r->n_holders * sizeof(*holders));
	r->holders = holders;
	list_for_each_entry(st, storage_streams(storage), link) {
		if (st->pool != p)
			continue;
		for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++) {
			const struct session *s;
			Ksalloc__Holder *h;
			char *name;

			if (!st->consumers[c])
				continue;
			h = ARENA_NEW(arena, Ksalloc__Holder, ksalloc__holder__init);
			name = arena_alloc(arena, SHM_NAME_MAX + SESSION_NAME_MAX + 24);
			if (!h || !name)
				return false;
			s = session_find(sessions, st->consumers[c]);
			h->session_id = st->consumers[c];
			snprintf(name, SHM_NAME_MAX + SESSION_NAME_MAX + 24,
				 "stream %s consumer %s", st->name, s ? s->name : "?");
			h->name = name;
			if (s) {
				h->pid = (uint32_t)s->pid;
				h->uid = (uint32_t)s->uid;
			}
			for (uint32_t i = 0; i < p->framing.frames; i++) {
				uint64_t owner = atomic_load(&p->frames.frames[i].owner);
				uint64_t refs = atomic_load(&st->sm.refs[i]);

				if (shm_owner_tenant(owner) == st->sm.tenant &&
				    (uint32_t)(refs >> 32) == shm_owner_generation(owner) &&
				    (refs & (UINT64_C(1) << c)))
					h->frames_held++;
			}
			r->holders[r->n_holders++] = h;
		}
	}
	return true;
}

Ksalloc__GetStatusReply *extended_status_to_wire(struct arena *arena, const struct pool *p,
						 const struct storage *storage,
						 const struct list *sessions)
{
	Ksalloc__GetStatusReply *r =
		ARENA_NEW(arena, Ksalloc__GetStatusReply, ksalloc__get_status_reply__init);
	struct pool_stats st;

	if (!r || !(r->framing = framing_to_wire(arena, &p->framing)))
		return NULL;
	pool_get_stats(p, &st);
	r->allocated_frames = st.allocated;
	r->free_frames = p->framing.frames - st.allocated;
	r->peak_frames = st.peak;
	r->waiters = st.waiters;
	r->acquisitions = st.acquisitions;
	r->timeouts = st.timeouts;
	r->reclaimed = st.reclaimed;
	r->last_reclaim_ns = st.last_reclaim_ns;
	r->last_reclaim_frames = st.last_reclaim_frames;
	r->committed = p->committed;
	r->backend = (char *)p->backend.name;
	r->sessions = p->n_attached;
	return add_holders(arena, p, sessions, r) &&
			       add_stream_holders(arena, p, storage, sessions, r) ?
		       r :
		       NULL;
}

/* The stream's record as StreamInfo, with its consumers read from shared memory (clamped). */
Ksalloc__StreamInfo *stream_info_to_wire(struct arena *arena, const struct stream *st,
					 const struct list *sessions)
{
	Ksalloc__StreamInfo *w = ARENA_NEW(arena, Ksalloc__StreamInfo, ksalloc__stream_info__init);
	const struct shm_stream_shared *sh = st->sm.shared;
	const struct session *producer;
	uint32_t state;

	if (!w)
		return NULL;
	w->name = (char *)st->name;
	w->stream_id = st->id;
	w->pool = (char *)st->pool->name;
	w->pool_id = st->pool->id;
	state = shm_stream_state(atomic_load(&sh->state));
	w->state = state >= SHM_STREAM_WAITING && state <= SHM_STREAM_PRODUCER_GONE ?
			   state :
			   SHM_STREAM_PRODUCER_GONE;
	/* Our record wins over what the memory says: anyone could write there. */
	if (st->producer)
		w->state = SHM_STREAM_FLOWING;
	w->persistent = st->from_config;
	w->owner = (uint32_t)st->access.owner;
	w->group = (uint32_t)st->access.group;
	w->mode = st->access.mode;
	w->producer_session = st->producer;
	producer = st->producer ? session_find(sessions, st->producer) : NULL;
	if (producer) {
		w->producer_pid = (uint32_t)producer->pid;
		w->producer_name = (char *)producer->name;
	}
	w->published = atomic_load(&sh->published);
	w->blocked_ns = atomic_load(&sh->blocked_ns);
	w->format_size = atomic_load(&sh->format_size);
	if (w->format_size > SHM_STREAM_FORMAT_MAX)
		w->format_size = 0;
	if (st->n_consumers == 0)
		return w;
	w->consumers = arena_alloc(arena, st->n_consumers * sizeof(*w->consumers));
	if (!w->consumers)
		return NULL;
	for (uint32_t slot = 0; slot < SHM_STREAM_CONSUMERS; slot++) {
		const struct shm_stream_consumer *sc = &st->sm.consumers[slot];
		const struct session *s;
		Ksalloc__StreamConsumer *wc;

		if (!st->consumers[slot])
			continue;
		wc = ARENA_NEW(arena, Ksalloc__StreamConsumer, ksalloc__stream_consumer__init);
		if (!wc)
			return NULL;
		wc->slot = slot;
		wc->session_id = st->consumers[slot];
		s = session_find(sessions, st->consumers[slot]);
		if (s) {
			wc->pid = (uint32_t)s->pid;
			wc->name = (char *)s->name;
		}
		wc->policy = atomic_load(&sc->policy);
		wc->depth = atomic_load(&sc->depth);
		wc->max_held = atomic_load(&sc->max_held);
		wc->queued = stream_consumer_queued(&st->sm, slot);
		wc->held = atomic_load(&sc->held);
		wc->delivered = atomic_load(&sc->delivered);
		wc->dropped = atomic_load(&sc->dropped);
		wc->read_only = st->read_only[slot];
		wc->latency = arena_alloc(arena, SHM_STREAM_LATENCY_BUCKETS * sizeof(uint32_t));
		if (!wc->latency)
			return NULL;
		wc->n_latency = SHM_STREAM_LATENCY_BUCKETS;
		for (uint32_t b = 0; b < SHM_STREAM_LATENCY_BUCKETS; b++)
			wc->latency[b] = atomic_load(&sc->latency[b]);
		w->consumers[w->n_consumers++] = wc;
	}
	return w;
}
