/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/rpc/rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/util/log.h"
#include "shm/stream.h"

void rpc_init(struct rpc *rpc, struct storage *storage, const struct rpc_limits *limits,
	      const struct rpc_policy *policy)
{
	*rpc = (struct rpc){
		.storage = storage,
		.limits = *limits,
		.policy = *policy,
		.next_session_id = 1,
		.started_ms = pool_now_ms(),
	};
	list_init(&rpc->sessions);
	events_init(&rpc->events, storage, &rpc->sessions);
}

void rpc_configure(struct rpc *rpc, const struct rpc_limits *limits,
		   const struct rpc_policy *policy)
{
	rpc->limits = *limits;
	rpc->policy = *policy;
}

int rpc_add_session(struct rpc *rpc, struct session *s, pid_t pid, uid_t uid, gid_t gid,
		    const gid_t *groups, size_t n_groups)
{
	int r = session_init(s, rpc->next_session_id, pid, uid, gid, groups, n_groups);

	if (r < 0)
		return r;
	/*
	 * 0 means "free" in an ownership word: never a session's id; ids with the
	 * top bit are streams' (SHM_TENANT_STREAM).
	 */
	if (++rpc->next_session_id >= SHM_TENANT_STREAM)
		rpc->next_session_id = 1;
	list_add(&rpc->sessions, &s->link);
	rpc->n_sessions++;
	rpc->changes++;
	return 0;
}

void rpc_remove_session(struct rpc *rpc, struct session *s)
{
	struct stream *st, *next;

	/* Streams first: a dead producer's journal is settled before its pool frames go back. */
	list_for_each_entry_safe(st, next, storage_streams(rpc->storage), link)
		rpc_stream_leave(rpc, st, s, RPC_ROLE_ALL, "went away");
	for (uint32_t i = 0; i < s->n_bindings; i++) {
		struct pool *p = storage_get(rpc->storage, s->bindings[i].pool_id);
		uint32_t reclaimed;

		if (!p)
			continue;
		reclaimed = pool_detach(p, s->bindings[i].slot);
		reclaimed += storage_sweep_stream_orphans(rpc->storage, p);
		if (reclaimed) {
			events_note_reclaim(&rpc->events, s, p, reclaimed);
			log_info("session %u (%s, pid %d) closed holding %u frames of pool %s: "
				 "reclaimed",
				 s->id, s->name, (int)s->pid, reclaimed, p->name);
		}
		if ((!p->persistent && p->n_attached == 0) ||
		    (p->removing && pool_allocated_frames(p) == 0)) {
			log_info("pool %s: %s, destroying it", p->name,
				 p->removing ? "removed, and no frame is held any more" :
					       "last session closed");
			storage_remove(rpc->storage, p->id);
		}
	}
	events_unsubscribe(&rpc->events, s);
	list_remove(&s->link);
	rpc->n_sessions--;
	rpc->changes++;
	session_deinit(s);
}

bool rpc_pool_remove(struct rpc *rpc, struct pool *p)
{
	p->removing = true;
	if (pool_allocated_frames(p) != 0)
		return false;
	log_info("pool %s: removed, no frame held: destroyed", p->name);
	storage_remove(rpc->storage, p->id);
	return true;
}

void rpc_collect(struct rpc *rpc, void (*evict)(struct session *s, void *data), void *data)
{
	uint32_t quota = rpc->limits.max_frames_per_session;
	struct session *s, *next;
	struct pool *p;
	uint32_t id = 0;

	while ((p = storage_next(rpc->storage, &id)))
		if (p->removing)
			rpc_pool_remove(rpc, p);
	if (!quota)
		return;
	/* @evict closes s, which takes it off the list: next was read first. */
	list_for_each_entry_safe(s, next, &rpc->sessions, link) {
		uint32_t held;

		if (s->uid == 0 || (held = session_frames_held(s, rpc->storage)) <= quota)
			continue;
		log_warning("session %u (%s, pid %d, uid %u) holds %u frames, more than "
			    "max_frames_per_session (%u): closing it",
			    s->id, s->name, (int)s->pid, (unsigned)s->uid, held, quota);
		evict(s, data);
	}
}

int rpc_restore_session(struct rpc *rpc, struct session *s, const struct session_restore *r)
{
	struct binding *bindings = NULL;
	int ret;

	if (r->id == 0 || session_find(&rpc->sessions, r->id))
		return -EEXIST;
	if (r->n_bindings) {
		bindings = calloc(r->n_bindings, sizeof(*bindings));
		if (!bindings)
			return -ENOMEM;
	}
	ret = session_init(s, r->id, r->pid, r->uid, r->gid, r->groups, r->n_groups);
	if (ret < 0) {
		free(bindings);
		return ret;
	}
	s->token = r->token;
	s->greeted = r->greeted;
	s->connected_ms = r->connected_ms;
	snprintf(s->name, sizeof(s->name), "%s", r->name);
	/*
	 * Subscribed again as it was, before any slot is taken (nothing to undo
	 * but the session): its client goes on reading events, and learns of the
	 * restart only by a STATUS of each pool sent again (what it was last told
	 * is not kept).
	 */
	if (r->sub_pool && events_subscribe(&rpc->events, s, r->sub_pool, r->sub_interval_ms,
					    r->sub_hold_ms, r->sub_streams) < 0) {
		free(bindings);
		session_deinit(s);
		return -ENOMEM;
	}
	s->bindings = bindings;
	for (uint32_t i = 0; i < r->n_bindings; i++) {
		struct pool *p = storage_get(rpc->storage, r->bindings[i].pool_id);
		int e = p ? pool_attach_slot(p, s->id, r->bindings[i].slot) : -ENOENT;

		if (e < 0) {
			log_warning("session %u (%s): pool %u slot %u not given back: %s", s->id,
				    s->name, r->bindings[i].pool_id, r->bindings[i].slot,
				    strerror(-e));
			continue;
		}
		s->bindings[s->n_bindings++] = r->bindings[i];
	}
	list_add(&rpc->sessions, &s->link);
	rpc->n_sessions++;
	rpc->changes++;
	return 0;
}

void rpc_stream_leave(struct rpc *rpc, struct stream *st, const struct session *s, uint32_t role,
		      const char *why)
{
	if ((role == RPC_ROLE_ALL || role == RPC_ROLE_PRODUCER) && st->producer == s->id) {
		uint32_t freed = stream_drop_producer(st);

		pool_note_reclaim(st->pool, freed);
		events_note_stream(&rpc->events, EVENTS_STREAM_PRODUCER_GONE, st, s->id, s, freed);
		log_info("stream %s: producer session %u (%s, pid %d) %s%s", st->name, s->id,
			 s->name, (int)s->pid, why,
			 freed ? "; its frame in flight back to the pool" : "");
	}
	for (uint32_t slot = 0; slot < SHM_STREAM_CONSUMERS; slot++) {
		uint32_t freed;

		if (st->consumers[slot] != s->id || (role != RPC_ROLE_ALL && role != slot))
			continue;
		freed = stream_remove_consumer(st, slot);
		pool_note_reclaim(st->pool, freed);
		events_note_stream(&rpc->events, EVENTS_STREAM_CONSUMER_GONE, st, s->id, s, freed);
		log_info("stream %s: consumer session %u (%s, pid %d) in slot %u %s; %u frames "
			 "back to pool %s",
			 st->name, s->id, s->name, (int)s->pid, slot, why, freed, st->pool->name);
	}
	if (stream_unused(st) && !st->from_config) {
		log_info("stream %s: no producer and no consumer left, dropping it", st->name);
		storage_remove_stream(rpc->storage, st);
	}
}
