/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a session asks for itself: hello, and a subscription to events. */
#include <errno.h>
#include <string.h>

#include "daemon/rpc/events.h"
#include "daemon/rpc/handlers.h"
#include "daemon/storage/access.h"
#include "daemon/util/log.h"
#include "shm/layout.h"

/* Copies @in as printable ASCII, so a client name can go into log lines safely. */
static void copy_printable(char *dst, size_t size, const char *in)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		dst[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	dst[i] = 0;
}

void handle_hello(struct rpc_call *c)
{
	const Ksalloc__HelloRequest *hello = c->request->hello;
	const struct rpc_limits *max = &c->rpc->limits;
	struct session *s = c->session;
	Ksalloc__HelloReply *r;
	Ksalloc__Limits *limits;

	if (hello->protocol_version == 0) {
		call_fail(c, -EINVAL,
			  "hello: protocol_version 0 is invalid (this daemon speaks %u)",
			  WIRE_PROTOCOL_VERSION);
		return;
	}
	if (s->greeted) {
		call_fail(c, -EPROTO, "hello: this session already said hello");
		return;
	}
	r = ARENA_NEW(c->arena, Ksalloc__HelloReply, ksalloc__hello_reply__init);
	limits = ARENA_NEW(c->arena, Ksalloc__Limits, ksalloc__limits__init);
	if (!r || !limits) {
		call_fail_oom(c);
		return;
	}
	if (hello->client_name[0])
		copy_printable(s->name, sizeof(s->name), hello->client_name);
	s->greeted = true;
	log_debug("session %u: hello from \"%s\" (pid %d, uid %u), protocol %u", s->id, s->name,
		  (int)s->pid, (unsigned)s->uid, hello->protocol_version);

	limits->max_message_size = max->max_message_size;
	limits->max_pool_frames = max->framing.max_pool_frames;
	limits->max_frame_size = max->framing.max_frame_size;
	limits->max_sessions = max->max_sessions;
	limits->max_pool_sessions = max->max_pool_sessions;
	limits->max_frames_per_session = s->uid == 0 ? 0 : max->max_frames_per_session;
	r->protocol_version = WIRE_PROTOCOL_VERSION;
	r->daemon_version = (char *)KSALLOC_VERSION;
	r->limits = limits;
	r->session_token = s->token;
	r->session_id = s->id;
	call_succeed(c, KSALLOC__REPLY__BODY_HELLO)->hello = r;
}

void handle_subscribe(struct rpc_call *c)
{
	const Ksalloc__SubscribeRequest *q = c->request->subscribe;
	const char *problem = q->name[0] ? shm_name_problem(q->name) : NULL;
	struct storage *storage = c->rpc->storage;
	struct peer peer = session_peer(c->session);
	Ksalloc__SubscribeReply *r;
	struct pool *p;
	uint32_t id = 0;

	if (problem) {
		call_fail(c, -EINVAL, "subscribe: %s", problem);
		return;
	}
	p = q->name[0] ? storage_find(storage, q->name) : NULL;
	if (q->name[0] && (!p || !access_allows(&p->access, &peer, ACCESS_READ))) {
		/* Not there and not to be seen are one answer, as for status. */
		call_fail(c, -ENOENT,
			  "subscribe: no pool named \"%s\" (ksallocctl list shows the pools)",
			  q->name);
		return;
	}
	r = ARENA_NEW(c->arena, Ksalloc__SubscribeReply, ksalloc__subscribe_reply__init);
	if (!r || events_subscribe(&c->rpc->events, c->session, q->name, q->interval_ms,
				   q->hold_threshold_ms, q->streams) < 0) {
		call_fail_oom(c);
		return;
	}
	while ((p = storage_next(storage, &id)))
		r->pools += !q->name[0] ? access_allows(&p->access, &peer, ACCESS_READ) :
					  strcmp(p->name, q->name) == 0;
	call_succeed(c, KSALLOC__REPLY__BODY_SUBSCRIBE)->subscribe = r;
}
