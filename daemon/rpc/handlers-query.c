/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What only reads: a pool's status, the lists of pools, sessions and
 * backends, the daemon's own counters.
 */
#include <errno.h>

#include "common/macro.h"
#include "daemon/rpc/handlers.h"
#include "daemon/rpc/marshal.h"
#include "daemon/storage/access.h"
#include "daemon/storage/backend.h"

/* Room kept for the Reply envelope (id, hresult, oneof tag) around a list. */
#define RPC_ENVELOPE_BYTES 64u

void handle_get_status(struct rpc_call *c)
{
	const Ksalloc__GetStatusRequest *q = c->request->get_status;
	Ksalloc__GetStatusReply *r;
	struct pool *p;

	if (q->pool_id) {
		p = storage_get(c->rpc->storage, q->pool_id);
		if (!p) {
			call_fail(c, -ENOENT,
				  "status: no pool with id %u (it was destroyed, or the id is from "
				  "another daemon)",
				  q->pool_id);
			return;
		}
	} else {
		p = call_pool_by_name(c, q->name, "status");
		if (!p)
			return;
	}
	if (!call_allows(c, p, ACCESS_READ, "status"))
		return;
	if (q->extended) {
		r = extended_status_to_wire(c->arena, p, c->rpc->storage, &c->rpc->sessions);
	} else {
		r = ARENA_NEW(c->arena, Ksalloc__GetStatusReply, ksalloc__get_status_reply__init);
		if (r)
			r->framing = framing_to_wire(c->arena, &p->framing);
		/* The KsGetAllocatorStatus path: one pass over the ownership words, nothing more. */
		if (r)
			r->allocated_frames = pool_allocated_frames(p);
	}
	if (!r || !r->framing) {
		call_fail_oom(c);
		return;
	}
	call_succeed(c, KSALLOC__REPLY__BODY_GET_STATUS)->get_status = r;
}

void handle_list_pools(struct rpc_call *c)
{
	size_t budget = c->rpc->limits.max_message_size - RPC_ENVELOPE_BYTES, total = 0;
	uint32_t skip = c->request->list_pools->offset;
	struct peer peer = session_peer(c->session);
	struct storage *storage = c->rpc->storage;
	Ksalloc__ListPoolsReply *r;
	struct pool *p;
	uint32_t id = 0;

	/* A session sees the pools it may read, and only those. */
	while ((p = storage_next(storage, &id)))
		total += access_allows(&p->access, &peer, ACCESS_READ);
	id = 0;

	r = ARENA_NEW(c->arena, Ksalloc__ListPoolsReply, ksalloc__list_pools_reply__init);
	if (r)
		r->pools = arena_alloc(c->arena, (total ? total : 1) * sizeof(*r->pools));
	if (!r || !r->pools) {
		call_fail_oom(c);
		return;
	}
	r->total = (uint32_t)total;
	/* Page by offset: as many pools as fit in one datagram; the client asks for more. */
	while ((p = storage_next(storage, &id))) {
		Ksalloc__PoolInfo *info;
		size_t size;

		if (!access_allows(&p->access, &peer, ACCESS_READ))
			continue;
		if (skip) {
			skip--;
			continue;
		}
		info = pool_info_to_wire(c->arena, p);
		if (!info) {
			call_fail_oom(c);
			return;
		}
		/* Tag, a length varint of at most 3 bytes (budget < 2^21), the entry. */
		size = 1 + 3 + ksalloc__pool_info__get_packed_size(info);
		if (size > budget)
			break;
		budget -= size;
		r->pools[r->n_pools++] = info;
	}
	call_succeed(c, KSALLOC__REPLY__BODY_LIST_POOLS)->list_pools = r;
}

void handle_list_sessions(struct rpc_call *c)
{
	struct rpc *rpc = c->rpc;
	size_t budget = rpc->limits.max_message_size - RPC_ENVELOPE_BYTES;
	uint32_t skip = c->request->list_sessions->offset;
	uint64_t now = pool_now_ms();
	Ksalloc__ListSessionsReply *r;
	struct session *s;

	r = ARENA_NEW(c->arena, Ksalloc__ListSessionsReply, ksalloc__list_sessions_reply__init);
	if (r)
		r->sessions = arena_alloc(c->arena, (rpc->n_sessions + 1) * sizeof(*r->sessions));
	if (!r || !r->sessions) {
		call_fail_oom(c);
		return;
	}
	r->total = rpc->n_sessions;
	/* Oldest first: the list is kept newest first. */
	list_for_each_entry_reverse(s, &rpc->sessions, link) {
		Ksalloc__SessionInfo *info;
		size_t size;

		if (skip) {
			skip--;
			continue;
		}
		info = ARENA_NEW(c->arena, Ksalloc__SessionInfo, ksalloc__session_info__init);
		if (!info) {
			call_fail_oom(c);
			return;
		}
		info->session_id = s->id;
		info->pid = (uint32_t)s->pid;
		info->uid = (uint32_t)s->uid;
		info->gid = (uint32_t)s->gid;
		info->name = s->name;
		info->pools_open = s->n_bindings;
		info->frames_held = session_frames_held(s, rpc->storage);
		info->connected_ms = now - s->connected_ms;
		size = 1 + 3 + ksalloc__session_info__get_packed_size(info);
		if (size > budget)
			break;
		budget -= size;
		r->sessions[r->n_sessions++] = info;
	}
	call_succeed(c, KSALLOC__REPLY__BODY_LIST_SESSIONS)->list_sessions = r;
}

void handle_list_backends(struct rpc_call *c)
{
	struct backend list[16];
	size_t n = backend_list(list, ELEMENTSOF(list));
	Ksalloc__ListBackendsReply *r;

	if (n > ELEMENTSOF(list))
		n = ELEMENTSOF(list);
	r = ARENA_NEW(c->arena, Ksalloc__ListBackendsReply, ksalloc__list_backends_reply__init);
	if (r)
		r->backends = arena_alloc(c->arena, n * sizeof(*r->backends));
	if (!r || !r->backends) {
		call_fail_oom(c);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		Ksalloc__BackendInfo *w =
			ARENA_NEW(c->arena, Ksalloc__BackendInfo, ksalloc__backend_info__init);
		struct backend_limits limits;
		struct backend_error why;

		if (!w || !(w->name = arena_strdup(c->arena, list[i].name))) {
			call_fail_oom(c);
			return;
		}
		w->description = (char *)list[i].ops->description;
		/* The row names the backend: the reason needs not say it again. */
		w->available = backend_check(&list[i], &why) == 0;
		w->dmabuf_frames = backend_has_dmabuf_frames(&list[i]);
		backend_limits(&list[i], &limits);
		w->contiguity = limits.contiguity;
		w->max_frame_size = limits.max_frame_size;
		if (!w->available && !(w->reason = arena_strdup(c->arena, why.message))) {
			call_fail_oom(c);
			return;
		}
		r->backends[r->n_backends++] = w;
	}
	call_succeed(c, KSALLOC__REPLY__BODY_LIST_BACKENDS)->list_backends = r;
}

void handle_get_daemon_stats(struct rpc_call *c)
{
	const ProtobufCMessageDescriptor *d = &ksalloc__request__descriptor;
	struct rpc *rpc = c->rpc;
	Ksalloc__GetDaemonStatsReply *r;

	r = ARENA_NEW(c->arena, Ksalloc__GetDaemonStatsReply,
		      ksalloc__get_daemon_stats_reply__init);
	if (r)
		r->requests = arena_alloc(c->arena, d->n_fields * sizeof(*r->requests));
	if (!r || !r->requests) {
		call_fail_oom(c);
		return;
	}
	r->version = (char *)KSALLOC_VERSION;
	r->uptime_ms = pool_now_ms() - rpc->started_ms;
	r->sessions = rpc->n_sessions;
	r->pools = (uint32_t)storage_count(rpc->storage);
	r->undecodable = rpc->undecodable;
	/* Every request type of the body, by its field name; "id" is no type. */
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		Ksalloc__RequestCount *count;

		if (f->id < 10 || f->id >= RPC_REQUEST_TYPES)
			continue;
		count = ARENA_NEW(c->arena, Ksalloc__RequestCount, ksalloc__request_count__init);
		if (!count) {
			call_fail_oom(c);
			return;
		}
		count->type = (char *)f->name;
		count->ok = rpc->requests_ok[f->id];
		count->failed = rpc->requests_failed[f->id];
		r->requests[r->n_requests++] = count;
	}
	call_succeed(c, KSALLOC__REPLY__BODY_GET_DAEMON_STATS)->get_daemon_stats = r;
}
