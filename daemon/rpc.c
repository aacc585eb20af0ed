/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "hresult.h"
#include "log.h"

#ifndef KSALLOC_VERSION
#define KSALLOC_VERSION "unknown"
#endif

/* Room kept for the Reply envelope (id, hresult, oneof tag) around a list. */
#define RPC_ENVELOPE_BYTES 64u

void rpc_init(struct rpc *rpc, struct storage *storage, const struct rpc_limits *limits)
{
	*rpc = (struct rpc){ .storage = storage, .limits = *limits, .next_session_id = 1 };
}

void rpc_session_init(struct rpc *rpc, struct rpc_session *s, pid_t pid, uid_t uid, gid_t gid)
{
	*s = (struct rpc_session){ .id = rpc->next_session_id++, .pid = pid, .uid = uid, .gid = gid };
	if (rpc->next_session_id == 0)
		rpc->next_session_id = 1;
	/* The token is an identity the client proves later, so it must not be guessable. */
	if (getrandom(&s->token, sizeof(s->token), GRND_NONBLOCK) != sizeof(s->token))
		s->token = ((uint64_t)s->id << 32) ^ (uint64_t)pid;
	snprintf(s->name, sizeof(s->name), "pid %d", (int)pid);
}

void rpc_session_deinit(struct rpc *rpc, struct rpc_session *s)
{
	/* Sessions own no frames yet; reclaim goes here. */
}

__attribute__((format(printf, 2, 0)))
static char *arena_vprintf(struct arena *arena, const char *fmt, va_list ap)
{
	va_list copy;
	char *s;
	int len;

	va_copy(copy, ap);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len < 0)
		return NULL;
	s = arena_alloc(arena, (size_t)len + 1);
	if (s)
		vsnprintf(s, (size_t)len + 1, fmt, ap);
	return s;
}

void rpc_reply_error(struct rpc_reply *out, struct arena *arena, uint32_t id, int error,
		     const char *fmt, ...)
{
	va_list ap;
	char *message;

	va_start(ap, fmt);
	message = arena_vprintf(arena, fmt, ap);
	va_end(ap);

	ksalloc__reply__init(&out->msg);
	out->msg.id = id;
	out->msg.hresult = hresult_from_errno(error);
	out->msg.message = message ? message : (char *)"out of memory while describing an error";
	out->fd = -1;
}

static void reply_ok(struct rpc_reply *out, uint32_t id)
{
	ksalloc__reply__init(&out->msg);
	out->msg.id = id;
	out->msg.hresult = 0;
	out->fd = -1;
}

#define REPLY_OOM(out, arena, id) rpc_reply_error(out, arena, id, -ENOMEM, "daemon out of memory")

static Ksalloc__Framing *framing_to_wire(struct arena *arena, const struct framing *f)
{
	Ksalloc__Framing *w = arena_alloc(arena, sizeof(*w));

	if (!w)
		return NULL;
	ksalloc__framing__init(w);
	w->options_flags = f->options_flags;
	w->pool_type = f->pool_type;
	w->frames = f->frames;
	w->frame_size = f->frame_size;
	w->file_alignment = f->file_alignment;
	return w;
}

static Ksalloc__PoolInfo *pool_info_to_wire(struct arena *arena, const struct pool *p)
{
	Ksalloc__PoolInfo *w = arena_alloc(arena, sizeof(*w));

	if (!w)
		return NULL;
	ksalloc__pool_info__init(w);
	w->name = (char *)p->name;
	w->pool_id = p->id;
	w->framing = framing_to_wire(arena, &p->framing);
	w->allocated_frames = pool_allocated_frames(p);
	w->backend = (char *)p->backend->name;
	w->size_bytes = p->layout.size_bytes;
	return w->framing ? w : NULL;
}

/* Copies @in as printable ASCII, so a client name can go into log lines safely. */
static void copy_printable(char *dst, size_t size, const char *in)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		dst[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	dst[i] = 0;
}

static void handle_hello(struct rpc *rpc, struct rpc_session *s, const Ksalloc__Request *req,
			 struct arena *arena, struct rpc_reply *out)
{
	const Ksalloc__HelloRequest *hello = req->hello;
	Ksalloc__HelloReply *r;
	Ksalloc__Limits *limits;

	if (hello->protocol_version == 0) {
		rpc_reply_error(out, arena, req->id, -EINVAL,
				"hello: protocol_version 0 is invalid (this daemon speaks %u)",
				WIRE_PROTOCOL_VERSION);
		return;
	}
	if (s->greeted) {
		rpc_reply_error(out, arena, req->id, -EPROTO, "hello: this session already said hello");
		return;
	}
	r = arena_alloc(arena, sizeof(*r));
	limits = arena_alloc(arena, sizeof(*limits));
	if (!r || !limits) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	if (hello->client_name[0])
		copy_printable(s->name, sizeof(s->name), hello->client_name);
	s->greeted = true;
	log_debug("session %u: hello from \"%s\" (pid %d, uid %u), protocol %u", s->id, s->name,
		  (int)s->pid, (unsigned)s->uid, hello->protocol_version);

	ksalloc__limits__init(limits);
	limits->max_message_size = rpc->limits.max_message_size;
	limits->max_pool_frames = rpc->limits.framing.max_pool_frames;
	limits->max_frame_size = rpc->limits.framing.max_frame_size;
	limits->max_sessions = rpc->limits.max_sessions;
	ksalloc__hello_reply__init(r);
	r->protocol_version = WIRE_PROTOCOL_VERSION;
	r->daemon_version = (char *)KSALLOC_VERSION;
	r->limits = limits;
	r->session_token = s->token;

	reply_ok(out, req->id);
	out->msg.body_case = KSALLOC__REPLY__BODY_HELLO;
	out->msg.hello = r;
}

static void handle_list_pools(struct rpc *rpc, const Ksalloc__Request *req, struct arena *arena,
			      struct rpc_reply *out)
{
	size_t total = storage_count(rpc->storage);
	size_t budget = rpc->limits.max_message_size - RPC_ENVELOPE_BYTES;
	uint32_t skip = req->list_pools->offset;
	Ksalloc__ListPoolsReply *r = arena_alloc(arena, sizeof(*r));
	struct pool *p;
	uint32_t id = 0;

	if (r) {
		ksalloc__list_pools_reply__init(r);
		r->pools = arena_alloc(arena, (total ? total : 1) * sizeof(*r->pools));
	}
	if (!r || !r->pools) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	r->total = (uint32_t)total;
	/* Page by offset: as many pools as fit in one datagram; the client asks for more. */
	while ((p = storage_next(rpc->storage, &id))) {
		Ksalloc__PoolInfo *info;
		size_t size;

		if (skip) {
			skip--;
			continue;
		}
		info = pool_info_to_wire(arena, p);
		if (!info) {
			REPLY_OOM(out, arena, req->id);
			return;
		}
		/* Tag, a length varint of at most 3 bytes (budget < 2^21), the entry. */
		size = 1 + 3 + ksalloc__pool_info__get_packed_size(info);
		if (size > budget)
			break;
		budget -= size;
		r->pools[r->n_pools++] = info;
	}

	reply_ok(out, req->id);
	out->msg.body_case = KSALLOC__REPLY__BODY_LIST_POOLS;
	out->msg.list_pools = r;
}

static void reply_no_pool(struct rpc_reply *out, struct arena *arena, uint32_t id, const char *what,
			  const char *name)
{
	const char *problem = shm_name_problem(name);

	/* Only a valid name is quoted back: it is known to be printable. */
	if (problem)
		rpc_reply_error(out, arena, id, -EINVAL, "%s: %s", what, problem);
	else
		rpc_reply_error(out, arena, id, -ENOENT,
				"%s: no pool named \"%s\" (ksallocctl list shows the pools)", what,
				name);
}

static void handle_open_pool(struct rpc *rpc, struct rpc_session *s, const Ksalloc__Request *req,
			     struct arena *arena, struct rpc_reply *out)
{
	const char *name = req->open_pool->name;
	struct pool *p = storage_find(rpc->storage, name);
	Ksalloc__OpenPoolReply *r;

	if (!p) {
		reply_no_pool(out, arena, req->id, "open", name);
		return;
	}
	r = arena_alloc(arena, sizeof(*r));
	if (r) {
		ksalloc__open_pool_reply__init(r);
		r->pool = pool_info_to_wire(arena, p);
	}
	if (!r || !r->pool) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	log_debug("session %u (%s): opened pool %s", s->id, s->name, p->name);

	reply_ok(out, req->id);
	out->msg.body_case = KSALLOC__REPLY__BODY_OPEN_POOL;
	out->msg.open_pool = r;
	out->fd = p->fd;
}

static void handle_get_status(struct rpc *rpc, const Ksalloc__Request *req, struct arena *arena,
			      struct rpc_reply *out)
{
	const Ksalloc__GetStatusRequest *q = req->get_status;
	Ksalloc__GetStatusReply *r;
	struct pool *p;

	if (q->pool_id) {
		p = storage_get(rpc->storage, q->pool_id);
		if (!p) {
			rpc_reply_error(out, arena, req->id, -ENOENT,
					"status: no pool with id %u (it was destroyed, or the id "
					"is from another daemon)",
					q->pool_id);
			return;
		}
	} else {
		p = storage_find(rpc->storage, q->name);
		if (!p) {
			reply_no_pool(out, arena, req->id, "status", q->name);
			return;
		}
	}
	r = arena_alloc(arena, sizeof(*r));
	if (r) {
		ksalloc__get_status_reply__init(r);
		r->framing = framing_to_wire(arena, &p->framing);
	}
	if (!r || !r->framing) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	r->allocated_frames = pool_allocated_frames(p);

	reply_ok(out, req->id);
	out->msg.body_case = KSALLOC__REPLY__BODY_GET_STATUS;
	out->msg.get_status = r;
}

void rpc_dispatch(struct rpc *rpc, struct rpc_session *s, const Ksalloc__Request *req,
		  struct arena *arena, struct rpc_reply *out)
{
	if (req->body_case == KSALLOC__REQUEST__BODY__NOT_SET) {
		/* A newer client's request, or garbage that happened to decode. */
		rpc_reply_error(out, arena, req->id, -EOPNOTSUPP,
				"unknown request: this daemon speaks protocol version %u",
				WIRE_PROTOCOL_VERSION);
		return;
	}
	if (!s->greeted && req->body_case != KSALLOC__REQUEST__BODY_HELLO) {
		rpc_reply_error(out, arena, req->id, -EPROTO,
				"the first request of a session must be hello");
		return;
	}

	switch (req->body_case) {
	case KSALLOC__REQUEST__BODY_HELLO:
		handle_hello(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_LIST_POOLS:
		handle_list_pools(rpc, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_OPEN_POOL:
		handle_open_pool(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_GET_STATUS:
		handle_get_status(rpc, req, arena, out);
		break;
	default:
		rpc_reply_error(out, arena, req->id, -EOPNOTSUPP, "unknown request type %d",
				(int)req->body_case);
		break;
	}
}
