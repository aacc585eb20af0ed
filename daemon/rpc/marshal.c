/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/rpc/marshal.h"

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

Ksalloc__GetStatusReply *extended_status_to_wire(struct arena *arena, const struct pool *p,
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
	return add_holders(arena, p, sessions, r) ? r : NULL;
}
